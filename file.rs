// SPDX-License-Identifier: GPL-2.0

//! Anonymous-inode files whose operations are implemented by the data they hold.
//!
//! C header: [`include/linux/anon_inodes.h`](srctree/include/linux/anon_inodes.h).

use core::{
    marker::PhantomData,
    ptr::NonNull, //
};
use kernel::{
    bindings,
    error::from_err_ptr,
    fs::File,
    prelude::*,
    seq_file::SeqFile,
    sync::{
        aref::ARef,
        Arc, //
    },
    types::ForeignOwnable, //
};

use crate::{
    compat,
    sound, //
};

/// The operations of a file made by [`new_file`], implemented by the data it refers to.
pub(crate) trait FileOps: Sized + Send + Sync + 'static {
    /// Handles `ioctl(2)`, for native and 32-bit tasks alike.
    fn ioctl(&self, cmd: u32, arg: usize) -> Result<isize>;

    /// Writes the file's lines of `/proc/<pid>/fdinfo/<fd>`.
    fn show_fdinfo(&self, m: &SeqFile);

    /// Called once, at the file's last close, before the file drops its reference.
    fn release(&self) {}
}

/// Creates an anonymous-inode file named `name` that holds the reference `data` until its last
/// close.
///
/// The file is `O_RDWR`, seeks as a no-op, keeps this module loaded while it is open, and, when
/// released, calls [`FileOps::release`] and drops `data`. Holding an [`Arc`] rather than a box
/// spares an allocation per file and an indirection on every call.
pub(crate) fn new_file<T: FileOps>(name: &CStr, data: Arc<T>) -> Result<ARef<File>> {
    let private = data.into_foreign();
    // SAFETY:
    // * `name` is a valid NUL-terminated string; the dentry copies it.
    // * The file operations are a `'static` constant.
    // * `private` is handed to the file: `FileVTable::<T>::release` takes it back.
    let raw = unsafe {
        sound::anon_inode_getfile(
            name.as_char_ptr(),
            FileVTable::<T>::build(),
            private,
            bindings::O_RDWR as c_int,
        )
    };
    match from_err_ptr(raw) {
        // SAFETY: `from_err_ptr()` returned `Ok`, and `anon_inode_getfile()` returns a new file or
        // an error pointer, never NULL: `raw` is a valid file with one reference, which we own.
        // `File`'s rule (no `fdget_pos()` sharing it without `f_pos_lock`) holds: the file is in
        // no fd table yet, and its `f_pos` is never used (`noop_llseek`, no read or write).
        Ok(raw) => Ok(unsafe { ARef::from_raw(NonNull::new_unchecked(raw.cast::<File>())) }),
        Err(e) => {
            // SAFETY: `private` came from `into_foreign()` above and no file took it.
            drop(unsafe { Arc::<T>::from_foreign(private) });
            Err(e)
        }
    }
}

/// The `file_operations` of a file made by [`new_file`] with data `T`.
struct FileVTable<T: FileOps>(PhantomData<T>);

impl<T: FileOps> FileVTable<T> {
    /// # Safety
    ///
    /// `file` must be a file made by [`new_file`] with data `T`, being released.
    unsafe extern "C" fn release(_inode: *mut bindings::inode, file: *mut bindings::file) -> c_int {
        // SAFETY: The release call owns the private data, which `new_file` made with
        // `Arc::<T>::into_foreign()`; nothing uses it after this.
        let data = unsafe { Arc::<T>::from_foreign((*file).private_data) };
        data.release();
        drop(data);
        0
    }

    /// # Safety
    ///
    /// `file` must be a valid file made by [`new_file`] with data `T`.
    unsafe extern "C" fn ioctl(file: *mut bindings::file, cmd: c_uint, arg: c_ulong) -> c_long {
        // SAFETY: The ioctl call holds a reference to the file, so the private data that
        // `new_file` made lives at least until it returns.
        let data = unsafe { Arc::<T>::borrow((*file).private_data) };
        match data.ioctl(cmd, arg) {
            Ok(ret) => ret as c_long,
            Err(err) => err.to_errno() as c_long,
        }
    }

    /// # Safety
    ///
    /// `m` must be a valid `seq_file` that only this call uses, and `file` a valid file made by
    /// [`new_file`] with data `T`.
    unsafe extern "C" fn show_fdinfo(m: *mut bindings::seq_file, file: *mut bindings::file) {
        // SAFETY: The caller holds a reference to the file, so the private data that `new_file`
        // made lives at least until this returns.
        let data = unsafe { Arc::<T>::borrow((*file).private_data) };
        // SAFETY: By the function's safety requirements `m` is valid and ours for this call.
        data.show_fdinfo(unsafe { SeqFile::from_raw(m) });
    }

    const VTABLE: bindings::file_operations = bindings::file_operations {
        // The VFS takes a reference on the module for each open file and puts it after `release`
        // has returned.
        owner: compat::this_module().as_ptr(),
        // As upstream's timer fd: lseek() succeeds and does nothing.
        llseek: Some(bindings::noop_llseek),
        release: Some(Self::release),
        unlocked_ioctl: Some(Self::ioctl),
        show_fdinfo: Some(Self::show_fdinfo),
        // No ioctl of ours takes a pointer whose layout differs for 32-bit tasks.
        #[cfg(CONFIG_COMPAT)]
        compat_ioctl: Some(Self::ioctl),
        ..pin_init::zeroed()
    };

    const fn build() -> &'static bindings::file_operations {
        &Self::VTABLE
    }
}
