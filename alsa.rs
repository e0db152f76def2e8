// SPDX-License-Identifier: GPL-2.0

//! ALSA global timers, anonymous-inode files and the caller's identity: every call the driver
//! makes into C.
//!
//! C headers: [`include/sound/timer.h`](srctree/include/sound/timer.h),
//! [`include/linux/anon_inodes.h`](srctree/include/linux/anon_inodes.h),
//! [`include/linux/capability.h`](srctree/include/linux/capability.h).
//!
//! The rest of the driver is safe Rust on top of [`Timer`], [`new_file`], [`current_comm`] and
//! [`capable_sys_resource`].

use core::{
    marker::PhantomData,
    ptr::{
        self,
        NonNull, //
    },
};
use kernel::{
    bindings,
    error::{
        from_err_ptr,
        to_result, //
    },
    fs::File,
    prelude::*,
    seq_file::SeqFile,
    sync::{
        aref::ARef,
        Arc, //
    },
    task::Task,
    types::ForeignOwnable, //
};

use crate::compat;

/// Bindings for `include/sound/` and `anon_inode_getfile()`, generated at build time (see `Kbuild`).
///
/// Only this file uses them.
#[allow(
    dead_code,
    improper_ctypes,
    missing_docs,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    clippy::all,
    clippy::undocumented_unsafe_blocks
)]
mod sound {
    use kernel::bindings::*;
    use kernel::ffi;

    include!(env!("UTIMER_BINDINGS"));
}

/// The size of `struct snd_timer_uinfo` in the kernel's own header.
#[allow(dead_code, reason = "only read by the compile-time checks in defs.rs")]
pub(crate) const UINFO_SIZE: usize = core::mem::size_of::<sound::snd_timer_uinfo>();
/// `SNDRV_TIMER_IOCTL_CREATE` as the kernel's own header computes it.
pub(crate) const IOCTL_CREATE: u32 = sound::RUST_UTIMER_IOCTL_CREATE;
/// `SNDRV_TIMER_IOCTL_TRIGGER` as the kernel's own header computes it.
pub(crate) const IOCTL_TRIGGER: u32 = sound::RUST_UTIMER_IOCTL_TRIGGER;
/// The size of `struct utimer_create` in `uapi/rust_utimer.h`.
#[allow(dead_code, reason = "only read by the compile-time checks in defs.rs")]
pub(crate) const CREATE_SIZE: usize = core::mem::size_of::<sound::utimer_create>();
/// `UTIMER_IOCTL_CREATE_EXT` as `uapi/rust_utimer.h` computes it.
pub(crate) const IOCTL_CREATE_EXT: u32 = sound::RUST_UTIMER_IOCTL_CREATE_EXT;
/// `UTIMER_CREATE_ID` of `uapi/rust_utimer.h`.
pub(crate) const CREATE_ID: u32 = sound::RUST_UTIMER_CREATE_ID;
/// `UTIMER_MIN_RESOLUTION` of `uapi/rust_utimer.h`.
pub(crate) const MIN_RESOLUTION: u64 = sound::RUST_UTIMER_MIN_RESOLUTION;
/// `UTIMER_MAX_RESOLUTION` of `uapi/rust_utimer.h`.
pub(crate) const MAX_RESOLUTION: u64 = sound::RUST_UTIMER_MAX_RESOLUTION;

/// An ALSA global timer that ticks when its owner says so.
///
/// It is the timer (`SNDRV_TIMER_CLASS_GLOBAL`, `SNDRV_TIMER_GLOBAL_UDRIVEN`, subdevice) that
/// snd-aloop (`timer_source=-1.4.<subdevice>`) and `/dev/snd/timer` clients open.
///
/// # Invariants
///
/// `ptr` points to a `struct snd_timer` that `snd_timer_new()` created and
/// `snd_timer_global_register()` registered. It is freed exactly once, in [`Drop`], with
/// `snd_timer_global_free()`.
pub(crate) struct Timer {
    ptr: NonNull<sound::snd_timer>,
}

// SAFETY: A registered timer belongs to no task: `snd_timer_interrupt()` and
// `snd_timer_global_free()` may be called from any task.
unsafe impl Send for Timer {}
// SAFETY: The `&self` operations may run concurrently with each other and with the core's own use
// of the timer: `interrupt` calls `snd_timer_interrupt()`, which takes `timer->lock`, after a
// marked read of `sticks`; `instances` is a marked read of an `int`; `resolution` reads a field
// that nobody writes after registration.
unsafe impl Sync for Timer {}

impl Timer {
    /// Creates and registers the timer (GLOBAL, UDRIVEN, `subdevice`) ticking every `resolution` ns.
    ///
    /// `id` is the timer's id string, shown in `/proc/asound/timers`. Fails with `EBUSY` when the
    /// subdevice is registered already (for example by the kernel's own `CONFIG_SND_UTIMER`).
    pub(crate) fn register(id: &CStr, subdevice: u32, resolution: u64) -> Result<Self> {
        let mut tid = sound::snd_timer_id {
            dev_class: sound::RUST_UTIMER_CLASS_GLOBAL,
            dev_sclass: sound::RUST_UTIMER_SCLASS_APPLICATION,
            card: -1,
            device: sound::RUST_UTIMER_GLOBAL_UDRIVEN,
            subdevice: subdevice.try_into()?,
        };
        let hw = sound::snd_timer_hardware {
            flags: sound::RUST_UTIMER_HW_AUTO | sound::RUST_UTIMER_HW_WORK,
            resolution: resolution.try_into()?,
            ticks: 1,
            start: Some(hw_start),
            stop: Some(hw_stop),
            ..Default::default()
        };

        let mut raw = ptr::null_mut();
        // SAFETY:
        // * A NULL card makes a timer of no card, which is what a global timer is.
        // * `id` is a valid NUL-terminated string; `snd_timer_new()` only copies it.
        // * `tid` and `raw` are valid for the duration of the call.
        to_result(unsafe {
            sound::snd_timer_new(
                ptr::null_mut(),
                id.as_char_ptr().cast_mut(),
                &mut tid,
                &mut raw,
            )
        })?;
        let timer = NonNull::new(raw).ok_or(ENOMEM)?;

        // SAFETY: `snd_timer_new()` succeeded, so `timer` is a valid, initialised timer that is not
        // registered yet: nobody else can see it.
        unsafe {
            (*timer.as_ptr()).module = compat::this_module().as_ptr();
            (*timer.as_ptr()).hw = hw;
        }

        // SAFETY: `timer` is valid and not registered yet.
        if let Err(e) = to_result(unsafe { sound::snd_timer_global_register(timer.as_ptr()) }) {
            // SAFETY: `timer` came from `snd_timer_new()` and is not used after this.
            // `snd_timer_global_free()` accepts a timer that failed to register (its list entry is
            // still self-linked).
            unsafe { sound::snd_timer_global_free(timer.as_ptr()) };
            return Err(e);
        }

        // INVARIANT: `timer` was created by `snd_timer_new()` and is registered.
        Ok(Self { ptr: timer })
    }

    /// Fires one tick: runs the callbacks of every running instance, as hardware would.
    ///
    /// With no instance running the tick is lost, as on any timer. As upstream's TRIGGER, the tick
    /// is worth `timer->sticks` ticks: the count of ticks the first instance that started on the
    /// idle timer asked for (one for snd-aloop; a `/dev/snd/timer` reader may ask for more).
    pub(crate) fn interrupt(&self) {
        let timer = self.ptr.as_ptr();
        // SAFETY: `timer` is valid by the type invariants. `sticks` is read without `timer->lock`,
        // as upstream's TRIGGER and every timer driver of the core read it (no function returns
        // it): a marked read of an aligned `unsigned long`, stale at worst, never torn, and
        // `snd_timer_interrupt()` re-checks every instance under the lock.
        let ticks = unsafe { ptr::addr_of!((*timer).sticks).read_volatile() };
        // SAFETY: `timer` is valid and registered by the type invariants.
        unsafe { sound::snd_timer_interrupt(timer, ticks) };
    }

    /// How many instances (snd-aloop cables, `/dev/snd/timer` clients, ...) have the timer open.
    ///
    /// A snapshot for statistics (the listing, fdinfo): the core changes the count under its own
    /// `register_mutex`, which is not exported, and no function returns it, so this reads the
    /// field; the value may be stale by the time it is returned.
    pub(crate) fn instances(&self) -> i32 {
        // SAFETY: `self.ptr` is valid by the type invariants. `num_instances` is an aligned `int`;
        // a concurrent update makes the read stale, never torn (the C code's `READ_ONCE()`).
        unsafe { ptr::addr_of!((*self.ptr.as_ptr()).num_instances).read_volatile() }
    }

    /// The timer's resolution in ns, as given to [`Timer::register`].
    ///
    /// Read from the driver's own `hw`, which [`Timer::register`] wrote (the core's
    /// `snd_timer_resolution()` needs an instance).
    pub(crate) fn resolution(&self) -> u64 {
        // SAFETY: `self.ptr` is valid by the type invariants; `hw.resolution` is set before the
        // timer is registered and nobody changes it after.
        let res = unsafe { (*self.ptr.as_ptr()).hw.resolution };
        res as u64
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        // SAFETY: By the type invariants the timer is registered and this is the only place that
        // frees it, with no `&self` call running. `snd_timer_global_free()` unregisters it,
        // force-closes its instances and puts the core's reference; a `/dev/snd/timer` ioctl may
        // hold another (`snd_timeri_timer_get()`) until it returns, and only reads fields (we set
        // neither `hw.c_resolution` nor `private_free`): nothing calls into this module after.
        unsafe { sound::snd_timer_global_free(self.ptr.as_ptr()) };
    }
}

/// `hw.start` of our timers: nothing to arm, ticks come from [`Timer::interrupt`].
extern "C" fn hw_start(_timer: *mut sound::snd_timer) -> c_int {
    0
}

/// `hw.stop` of our timers: nothing to disarm.
extern "C" fn hw_stop(_timer: *mut sound::snd_timer) -> c_int {
    0
}

/// The name of the calling task (`current->comm`), NUL-terminated.
pub(crate) fn current_comm() -> [u8; 16] {
    let task = Task::current_raw();
    // SAFETY: `current` is valid while it runs this code. Only the task itself and writers holding
    // its `task_lock()` change `comm`, always leaving a NUL-terminated string in the array; a racy
    // copy, as every `current->comm` in printk, can at worst mix the old and the new name.
    unsafe { ptr::addr_of!((*task).comm).read_volatile() }
}

/// Whether the calling task may override resource limits (`CAP_SYS_RESOURCE`).
///
/// As every `capable()` check, this is audited by the LSMs: only call it when the answer matters.
pub(crate) fn capable_sys_resource() -> bool {
    // SAFETY: `capable()` may be called from any task context.
    unsafe { bindings::capable(bindings::CAP_SYS_RESOURCE as c_int) }
}

/// A reference on this module, taken with `try_module_get()`, put when dropped.
///
/// Before 7.3 the `file_operations` of a Rust misc device name no `owner`, so an open
/// `/dev/utimer` does not keep the module loaded by itself: each open file holds one of these
/// (`compat::OpenRef`). Its last instructions run after the put, as with any module that puts its
/// own reference (no `module_put_and_*()` exists for a file's release).
///
/// # Invariants
///
/// A reference on this module was taken with `try_module_get()`; [`Drop`] puts it, once.
#[cfg(not(utimer_kernel_ge_7_3))]
pub(crate) struct ModuleRef(());

#[cfg(not(utimer_kernel_ge_7_3))]
impl ModuleRef {
    /// Takes a reference on this module: `ENODEV` when it is being unloaded.
    pub(crate) fn get() -> Result<Self> {
        // SAFETY: `this_module()` is this module (NULL when built in, which `try_module_get()`
        // accepts), live while its code runs.
        if unsafe { sound::try_module_get(compat::this_module().as_ptr()) } {
            // INVARIANT: The reference was taken.
            Ok(Self(()))
        } else {
            Err(ENODEV)
        }
    }
}

#[cfg(not(utimer_kernel_ge_7_3))]
impl Drop for ModuleRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariants a reference was taken, and this is the one put of it.
        unsafe { sound::module_put(compat::this_module().as_ptr()) };
    }
}

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
/// The file is `O_RDWR`, seeks as a no-op (as upstream's timer fd), holds a reference on this
/// module, and, when released, calls [`FileOps::release`] and drops `data`. Holding an [`Arc`]
/// (rather than a box) spares an allocation per file and an indirection on every call.
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
