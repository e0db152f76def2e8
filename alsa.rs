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
    module::this_module,
    prelude::*,
    seq_file::SeqFile,
    sync::{
        aref::ARef,
        Arc, //
    },
    task::Task,
    types::ForeignOwnable, //
};

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

    include!("bindings_generated.rs");
}

/// The size of `struct snd_timer_uinfo` in the kernel's own header.
#[allow(dead_code, reason = "only read by the compile-time checks in defs.rs")]
pub(crate) const UINFO_SIZE: usize = core::mem::size_of::<sound::snd_timer_uinfo>();
/// `SNDRV_TIMER_IOCTL_CREATE` as the kernel's own header computes it.
pub(crate) const IOCTL_CREATE: u32 = sound::RUST_UTIMER_IOCTL_CREATE;
/// `SNDRV_TIMER_IOCTL_TRIGGER` as the kernel's own header computes it.
pub(crate) const IOCTL_TRIGGER: u32 = sound::RUST_UTIMER_IOCTL_TRIGGER;

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

// SAFETY: The ALSA core serialises all access to a timer with its own locks, and the functions
// called through `Timer` may be called from any task.
unsafe impl Send for Timer {}
// SAFETY: The only `&self` operation, `snd_timer_interrupt()`, may run concurrently with itself and
// with the core's own use of the timer: it takes `timer->lock`.
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
            (*timer.as_ptr()).module = this_module::<crate::LocalModule>().as_ptr();
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
    /// With no instance running the tick is lost, as on any timer.
    pub(crate) fn interrupt(&self) {
        let timer = self.ptr.as_ptr();
        // SAFETY: `timer` is valid by the type invariants. `running` is an aligned `int` that the
        // core changes under `timer->lock`; a racy read is stale at worst, never torn.
        let running = unsafe { ptr::addr_of!((*timer).running).read_volatile() };
        // `running` is 0 only when no instance runs nor waits for a delayed start: the core
        // promotes waiting instances when the last running one stops (`snd_timer_stop1()`) or
        // expires (`snd_timer_interrupt()`), and starts an instance at once on an idle timer. With
        // 0, `snd_timer_interrupt()` would find nothing to tick and only call `hw.stop`, a no-op
        // here: the tick is lost either way, so skip the lock. A start racing with this read is
        // ordered after the tick, as it could be with the lock; a start that userspace ordered
        // before the TRIGGER (through any syscall) is seen.
        if running == 0 {
            return;
        }
        // SAFETY: `timer` is valid by the type invariants. The core updates `sticks` under
        // `timer->lock` when the first instance starts; like the C drivers, a racy read is fine
        // because `snd_timer_interrupt()` re-checks every instance under that lock.
        let ticks = unsafe { ptr::addr_of!((*timer).sticks).read_volatile() };
        // SAFETY: `timer` is valid and registered by the type invariants.
        unsafe { sound::snd_timer_interrupt(timer, ticks) };
    }

    /// How many instances (snd-aloop cables, `/dev/snd/timer` clients, ...) have the timer open.
    ///
    /// A snapshot for statistics: the core changes the count under its own `register_mutex`,
    /// which is not exported, so the value may be stale by the time it is returned.
    pub(crate) fn instances(&self) -> i32 {
        // SAFETY: `self.ptr` is valid by the type invariants. `num_instances` is an aligned `int`;
        // a concurrent update makes the read stale, never torn (the C code's `READ_ONCE()`).
        unsafe { ptr::addr_of!((*self.ptr.as_ptr()).num_instances).read_volatile() }
    }

    /// The timer's resolution in ns, as given to [`Timer::register`].
    pub(crate) fn resolution(&self) -> u64 {
        // SAFETY: `self.ptr` is valid by the type invariants; `hw.resolution` is set before the
        // timer is registered and never changed.
        let res = unsafe { (*self.ptr.as_ptr()).hw.resolution };
        res as u64
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        // SAFETY: By the type invariants the timer is registered and this is the only place that
        // frees it. `snd_timer_global_free()` unregisters it and force-closes open instances; the
        // core keeps the memory alive while an instance still holds a reference.
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
/// The file is `O_RDWR`, holds a reference on this module, and, when released, calls
/// [`FileOps::release`] and drops `data`. Holding an [`Arc`] (rather than a box) spares an
/// allocation per file and an indirection on every call.
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
        // SAFETY: `anon_inode_getfile()` returned a new file with one reference, which we own.
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
        owner: this_module::<crate::LocalModule>().as_ptr(),
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
