// SPDX-License-Identifier: GPL-2.0

//! ALSA global timers that tick when their owner says so.
//!
//! C header: [`include/sound/timer.h`](srctree/include/sound/timer.h).

use core::ptr::{
    self,
    NonNull, //
};
use kernel::{
    error::to_result,
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    }, //
};

use crate::{
    compat,
    sound, //
};

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
// volatile read of `sticks`; `instances` is an atomic load of an `int`; `resolution` reads a field
// that nobody writes after registration.
unsafe impl Sync for Timer {}

impl Timer {
    /// Creates and registers the timer (GLOBAL, UDRIVEN, `subdevice`) of `resolution` ns.
    ///
    /// `id` is the timer's id string, shown in `/proc/asound/timers`. Fails with `EBUSY` when the
    /// subdevice is registered already (for example by the kernel's own `CONFIG_SND_UTIMER`).
    pub(crate) fn register(id: &CStr, subdevice: u32, resolution: u64) -> Result<Self> {
        // SAFETY: With no hooks, the timer's callbacks use no pointer of ours.
        unsafe { Self::register_raw(id, subdevice, resolution, None) }
    }

    /// As [`Timer::register`], and calls `hooks`' [`Hooks::start`] when the timer starts (its
    /// first instance starts on the idle timer) and [`Hooks::stop`] when it stops.
    ///
    /// # Safety
    ///
    /// `hooks` must stay valid until the returned timer is dropped.
    pub(crate) unsafe fn register_hooked<H: Hooks>(
        id: &CStr,
        subdevice: u32,
        resolution: u64,
        hooks: NonNull<H>,
    ) -> Result<Self> {
        let ops = RawHooks {
            start: hooked_start::<H>,
            stop: hooked_stop::<H>,
            data: hooks.as_ptr().cast(),
        };
        // SAFETY: `ops` calls `H`'s hooks on `hooks`, which the caller keeps valid as long as the
        // timer.
        unsafe { Self::register_raw(id, subdevice, resolution, Some(ops)) }
    }

    /// # Safety
    ///
    /// `hooks.data`, if given, must be valid for its `start` and `stop` until the returned timer
    /// is dropped.
    unsafe fn register_raw(
        id: &CStr,
        subdevice: u32,
        resolution: u64,
        hooks: Option<RawHooks>,
    ) -> Result<Self> {
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
            start: Some(hooks.as_ref().map_or(hw_start as HwFn, |h| h.start)),
            stop: Some(hooks.as_ref().map_or(hw_stop as HwFn, |h| h.stop)),
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
        // `private_data` is the driver's own field: the core only hands it back.
        unsafe {
            (*timer.as_ptr()).module = compat::this_module().as_ptr();
            (*timer.as_ptr()).hw = hw;
            (*timer.as_ptr()).private_data = hooks.map_or(ptr::null_mut(), |h| h.data);
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
        // it): a volatile read of an aligned `unsigned long` (what C's `READ_ONCE()` compiles to;
        // an atomic load would be an out-of-line call on this hot path), stale at worst, never
        // torn, and `snd_timer_interrupt()` re-checks every instance under the lock.
        let ticks = unsafe { ptr::addr_of!((*timer).sticks).read_volatile() };
        // SAFETY: `timer` is valid and registered by the type invariants.
        unsafe { sound::snd_timer_interrupt(timer, ticks) };
    }

    /// How many instances (snd-aloop cables, `/dev/snd/timer` clients, ...) have the timer open.
    ///
    /// A snapshot for the listing and fdinfo, stale by the time it is printed: the core counts
    /// under its `register_mutex`, which a module cannot take, and no function returns the count.
    pub(crate) fn instances(&self) -> i32 {
        // SAFETY: `self.ptr` is valid by the type invariants, so `num_instances` is an aligned
        // `int` that lives as long as `self`. The core changes it with plain `++` and `--` under
        // locks of its own that a module cannot take: strictly, the LKMM calls that a data race
        // with this load, as it does for the C code's lockless `READ_ONCE()` of such counters. The
        // kernel relies on aligned `int` stores not being torn (KCSAN assumes it too), so the load
        // returns the old or the new count, and nothing but the number printed depends on it.
        let count = unsafe { Atomic::from_ptr(&raw mut (*self.ptr.as_ptr()).num_instances) };
        count.load(Relaxed)
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

/// What a timer made by [`Timer::register_hooked`] calls when it starts and stops.
///
/// Both are called by the ALSA core with the timer's lock held and interrupts off (from
/// `snd_timer_start()`, `snd_timer_stop()`, and from [`Timer::interrupt`] when an instance ends):
/// they must not sleep nor call back into the timer.
pub(crate) trait Hooks: Sync {
    /// The timer started: a first instance runs on it.
    fn start(&self);
    /// The timer stopped: no instance runs on it.
    fn stop(&self);
}

/// The type of `hw.start` and `hw.stop`.
type HwFn = unsafe extern "C" fn(*mut sound::snd_timer) -> c_int;

/// The `hw.start` and `hw.stop` of a hooked timer and the `private_data` they get.
struct RawHooks {
    start: HwFn,
    stop: HwFn,
    data: *mut c_void,
}

/// `hw.start` of a timer made by [`Timer::register_hooked`] with hooks `H`.
///
/// # Safety
///
/// `timer` must be a timer made by [`Timer::register_hooked::<H>`] and not freed yet.
unsafe extern "C" fn hooked_start<H: Hooks>(timer: *mut sound::snd_timer) -> c_int {
    // SAFETY: `private_data` is the `H` that `register_hooked` was given, valid as long as the
    // timer by its safety requirements.
    let hooks = unsafe { &*(*timer).private_data.cast::<H>() };
    hooks.start();
    0
}

/// `hw.stop` of a timer made by [`Timer::register_hooked`] with hooks `H`.
///
/// # Safety
///
/// `timer` must be a timer made by [`Timer::register_hooked::<H>`] and not freed yet.
unsafe extern "C" fn hooked_stop<H: Hooks>(timer: *mut sound::snd_timer) -> c_int {
    // SAFETY: As in `hooked_start`.
    let hooks = unsafe { &*(*timer).private_data.cast::<H>() };
    hooks.stop();
    0
}
