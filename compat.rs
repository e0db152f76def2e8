// SPDX-License-Identifier: GPL-2.0

//! What differs between the kernels the module builds for (`kernels.tsv`).
//!
//! The kernel's Rust API changes from release to release. Each difference the driver meets is
//! bridged here, once, behind a cfg that `Kbuild` derives from the target kernel's version
//! (`utimer_kernel_ge_7_3`: 7.3 or later); the rest of the driver is the same on every kernel.

use kernel::{
    bindings,
    prelude::*,
    ThisModule, //
};

#[cfg(not(utimer_kernel_ge_7_3))]
use crate::alsa::ModuleRef;

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

/// What an open `/dev/utimer` holds (`MiscDevice::Ptr` of `utimer::Control`).
///
/// Since 7.3 the misc device's `file_operations` name this module as their `owner`: the VFS keeps
/// it loaded while the file is open.
#[cfg(utimer_kernel_ge_7_3)]
pub(crate) type OpenRef = ();

/// What an open `/dev/utimer` holds (`MiscDevice::Ptr` of `utimer::Control`).
///
/// Before 7.3 the misc device's `file_operations` have no `owner`: the file holds a reference on
/// the module of its own, so that `rmmod` fails while it is open.
#[cfg(not(utimer_kernel_ge_7_3))]
pub(crate) type OpenRef = KBox<ModuleRef>;

/// Takes what an open `/dev/utimer` holds ([`OpenRef`]).
#[cfg(utimer_kernel_ge_7_3)]
pub(crate) fn open_ref() -> Result<OpenRef> {
    Ok(())
}

/// Takes what an open `/dev/utimer` holds ([`OpenRef`]).
#[cfg(not(utimer_kernel_ge_7_3))]
pub(crate) fn open_ref() -> Result<OpenRef> {
    Ok(KBox::new(ModuleRef::get()?, GFP_KERNEL)?)
}

/// The value of a module parameter, from its `value()`: by value since 7.3, a reference before.
pub(crate) fn param<T: Copy>(value: impl core::borrow::Borrow<T>) -> T {
    *value.borrow()
}

/// `EDQUOT`, which `kernel::error::code` has only since 7.3.
pub(crate) fn edquot() -> Error {
    Error::from_errno(-(bindings::EDQUOT as c_int))
}
