// SPDX-License-Identifier: GPL-2.0

//! What differs between the kernels the module builds for (`testing/kernels.tsv`).
//!
//! The kernel's Rust API changes from release to release. Each difference the driver meets is
//! bridged here, once, behind a cfg that `Kbuild` derives from the target kernel's version
//! (`utimer_kernel_ge_7_3`: 7.3 or later); the rest of the driver is the same on every kernel.

use kernel::{
    bindings,
    prelude::*,
    ThisModule, //
};

#[cfg(utimer_kernel_ge_7_3)]
use kernel::{
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
};

use crate::utimer::Control;

/// This module, for the `owner` fields of the structures that C keeps (usable in constants).
#[cfg(utimer_kernel_ge_7_3)]
pub(crate) const fn this_module() -> &'static ThisModule {
    kernel::module::this_module::<crate::LocalModule>()
}

/// This module, for the `owner` fields of the structures that C keeps (usable in constants).
///
/// Before 7.3, `module!` defines it as a static of the crate's root.
#[cfg(not(utimer_kernel_ge_7_3))]
pub(crate) const fn this_module() -> &'static ThisModule {
    &crate::THIS_MODULE
}

/// The registration of `/dev/utimer`.
///
/// Since 7.3 `kernel::miscdevice` names the module as the `owner` of the device's
/// `file_operations`, so that an open `/dev/utimer` keeps the module loaded.
#[cfg(utimer_kernel_ge_7_3)]
pub(crate) type Misc = MiscDeviceRegistration<Control>;

/// The registration of `/dev/utimer`.
///
/// Before 7.3 `kernel::miscdevice` gives its `file_operations` no `owner`: [`crate::misc`]
/// registers the device with operations of its own that have one.
#[cfg(not(utimer_kernel_ge_7_3))]
pub(crate) type Misc = crate::misc::Registration<Control>;

/// Registers `/dev/<name>`, answered by [`Control`].
#[cfg(utimer_kernel_ge_7_3)]
pub(crate) fn register_misc(name: &'static CStr) -> impl PinInit<Misc, Error> {
    Misc::register(MiscDeviceOptions { name })
}

/// Registers `/dev/<name>`, answered by [`Control`].
#[cfg(not(utimer_kernel_ge_7_3))]
pub(crate) fn register_misc(name: &'static CStr) -> impl PinInit<Misc, Error> {
    Misc::register(name)
}

#[cfg(utimer_kernel_ge_7_3)]
#[vtable]
impl MiscDevice for Control {
    type Ptr = ();

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result {
        Ok(())
    }

    fn ioctl((): (), _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        Control::ioctl(cmd, arg)
    }
}

#[cfg(not(utimer_kernel_ge_7_3))]
impl crate::misc::MiscIoctl for Control {
    fn ioctl(cmd: u32, arg: usize) -> Result<isize> {
        Control::ioctl(cmd, arg)
    }
}

/// The value of a module parameter, from its `value()`: by value since 7.3, a reference before.
pub(crate) fn param<T: Copy>(value: impl core::borrow::Borrow<T>) -> T {
    *value.borrow()
}

/// `EDQUOT`, which `kernel::error::code` has only since 7.3.
pub(crate) fn edquot() -> Error {
    Error::from_errno(-(bindings::EDQUOT as c_int))
}

/// `HRTIMER_NORESTART`, which is 0.
///
/// Its binding is spelt differently between kernels, and not by release: a constant
/// (`hrtimer_restart_HRTIMER_NORESTART`) in 7.2 and 7.3-rc7, a newtype's associated constant in
/// 7.3.4 (where it is not `Zeroable` either).
// Where it is `u32` the transmute is the identity: allowed, for one spelling on every kernel.
#[allow(clippy::useless_transmute)]
// SAFETY: `hrtimer_restart` is `u32`, or a `#[repr(transparent)]` newtype of `u32` (bindgen's
// newtype enums): 0 is a valid value of both, `HRTIMER_NORESTART` (include/linux/hrtimer_types.h).
pub(crate) const HRTIMER_NORESTART: bindings::hrtimer_restart =
    unsafe { core::mem::transmute::<u32, bindings::hrtimer_restart>(0) };
