// SPDX-License-Identifier: GPL-2.0

//! `/dev/utimer` before 7.3: a misc device whose `file_operations` name this module as owner.
//!
//! C header: [`include/linux/miscdevice.h`](srctree/include/linux/miscdevice.h).
//!
//! Before 7.3, the `file_operations` that `kernel::miscdevice` builds have no `owner`, and nothing
//! lets a driver give them one: an open file would not keep the module loaded. Any reference the
//! driver took for itself would be put from its own `release`, which then returns through code that
//! `rmmod` may have freed. With an `owner`, the VFS takes the reference when the file is opened and
//! puts it after `release` has returned.

use core::marker::PhantomData;
use kernel::{
    bindings,
    error::to_result,
    prelude::*,
    types::Opaque, //
};

use crate::compat;

/// A misc device that only answers ioctls and keeps nothing per open file.
pub(crate) trait MiscIoctl: 'static {
    /// Handles `ioctl(2)`; 32-bit tasks come through `compat_ptr_ioctl()`.
    fn ioctl(cmd: u32, arg: usize) -> Result<isize>;
}

/// A registered misc device, whose files `T` answers.
///
/// # Invariants
///
/// `inner` is a `struct miscdevice` registered with `misc_register()`, with the `'static`
/// `file_operations` of `MiscVTable<T>`. It is deregistered exactly once, in [`Drop`], with
/// `misc_deregister()`.
#[pin_data(PinnedDrop)]
pub(crate) struct Registration<T: MiscIoctl> {
    #[pin]
    inner: Opaque<bindings::miscdevice>,
    _t: PhantomData<T>,
}

// SAFETY: `misc_deregister()` may be called from another task than `misc_register()`.
unsafe impl<T: MiscIoctl> Send for Registration<T> {}
// SAFETY: No method takes `&self`.
unsafe impl<T: MiscIoctl> Sync for Registration<T> {}

impl<T: MiscIoctl> Registration<T> {
    /// Registers the misc device `/dev/<name>`, with a dynamic minor.
    pub(crate) fn register(name: &'static CStr) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            inner <- Opaque::try_ffi_init(move |slot: *mut bindings::miscdevice| {
                let mut misc: bindings::miscdevice = pin_init::zeroed();
                misc.minor = bindings::MISC_DYNAMIC_MINOR as c_int;
                misc.name = name.as_char_ptr();
                misc.fops = MiscVTable::<T>::build();
                // SAFETY: The initializer may write to `slot`.
                unsafe { slot.write(misc) };
                // SAFETY: `slot` holds a valid `struct miscdevice` whose name and operations are
                // `'static`. It is pinned, and `Drop` deregisters it before its memory goes.
                // INVARIANT: On success, `inner` is registered with `MiscVTable<T>`'s operations.
                to_result(unsafe { bindings::misc_register(slot) })
            }),
            _t: PhantomData,
        })
    }
}

#[pinned_drop]
impl<T: MiscIoctl> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: By the type invariants the device is registered, and this is its one
        // deregistration. Files still open keep their `file_operations` and this module: they
        // never reach `inner` again.
        unsafe { bindings::misc_deregister(self.inner.get()) };
    }
}

/// The `file_operations` of the files of a [`Registration<T>`].
struct MiscVTable<T: MiscIoctl>(PhantomData<T>);

impl<T: MiscIoctl> MiscVTable<T> {
    extern "C" fn ioctl(_file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
        match T::ioctl(cmd, arg) {
            Ok(ret) => ret as c_long,
            Err(err) => err.to_errno() as c_long,
        }
    }

    const VTABLE: bindings::file_operations = bindings::file_operations {
        // `misc_open()` takes a reference on the owner with the operations, and the VFS puts it
        // after the last `release`: an open `/dev/utimer` keeps the module loaded.
        owner: compat::this_module().as_ptr(),
        unlocked_ioctl: Some(Self::ioctl),
        #[cfg(CONFIG_COMPAT)]
        compat_ioctl: bindings::compat_ptr_ioctl,
        ..pin_init::zeroed()
    };

    const fn build() -> &'static bindings::file_operations {
        &Self::VTABLE
    }
}
