// SPDX-License-Identifier: GPL-2.0

//! Timers that can also tick by themselves: an ALSA timer and, while it runs, an hrtimer that asks
//! the driver once per period how many ticks to fire.
//!
//! C header: [`include/linux/hrtimer.h`](srctree/include/linux/hrtimer.h).
//!
//! The pattern is snd-hrtimer's (`sound/core/hrtimer.c`): the ALSA core's `hw.start` arms the
//! hrtimer, `hw.stop` disarms it without waiting (the core calls it with the timer's lock held,
//! which the callback takes to tick), and the callback arms it again only while the timer runs.
//! Unlike snd-hrtimer, the callback never returns `HRTIMER_RESTART`: every arming is an
//! `hrtimer_start()`, which may race with another (the last one wins) and with a running
//! callback, so no path needs the timer's lock, which a module cannot take.
//! (`kernel::time::hrtimer` cannot be used: its handles cancel when dropped, which `hw.stop`,
//! called with interrupts off and the timer's lock held, must not wait for.)

use core::{
    marker::PhantomPinned,
    mem::ManuallyDrop, //
};
use kernel::{
    bindings,
    prelude::*,
    sync::atomic::{
        Atomic,
        Relaxed, //
    },
    types::Opaque, //
};

use crate::{
    compat,
    timer::{
        Hooks,
        Timer, //
    },
};

/// What the hrtimer of a [`Watched`] timer asks once per period while the timer runs.
pub(crate) trait Watch: Send + Sync + 'static {
    /// Whether the hrtimer runs at all: with `false`, the timer is an ordinary [`Timer`].
    fn enabled(&self) -> bool;

    /// The timer started (a consumer runs on it) and the hrtimer with it.
    ///
    /// Called with interrupts off and the ALSA timer's lock held: must not sleep.
    fn started(&self);

    /// `periods` periods (1; more when the hrtimer ran late) passed since the last call: returns
    /// how many ticks to fire now. Called in softirq context.
    fn check(&self, periods: u32) -> u32;

    /// Called by [`Watched::take`], when no check runs: the next one starts afresh.
    fn taken(&self);
}

/// An ALSA timer of [`Timer::register`]'s kind whose hrtimer fires [`Watch::check`]'s ticks.
///
/// # Invariants
///
/// * `hrtimer` is set up (`hrtimer_setup()`, [`Self::run`], `HRTIMER_MODE_ABS_SOFT`) before
///   `timer` is registered with `self` as its hooks.
/// * `hrtimer` is armed only by [`Hooks::start`], [`Self::run`] and [`Watched::take`], never after
///   `dead` is set but by a `hw.start` that raced with it, and it is cancelled again after `timer`
///   is freed: no callback runs once the value is dropped.
/// * `timer` is dropped exactly once, in `drop`.
#[pin_data(PinnedDrop)]
pub(crate) struct Watched<W: Watch> {
    #[pin]
    hrtimer: Opaque<bindings::hrtimer>,
    /// Whether the ALSA timer runs (between `hw.start` and `hw.stop`).
    running: Atomic<bool>,
    /// Set when the value is being dropped: nothing arms the hrtimer any more.
    dead: Atomic<bool>,
    /// When the hrtimer is due (ns of `CLOCK_MONOTONIC`), as its last arming set it.
    due: Atomic<i64>,
    /// The period, in ns: the timer's resolution.
    period: i64,
    watch: W,
    timer: ManuallyDrop<Timer>,
    #[pin]
    _pin: PhantomPinned,
}

// SAFETY: The hrtimer is used only through the C API, which serialises its operations; every other
// field is `Send`.
unsafe impl<W: Watch> Send for Watched<W> {}
// SAFETY: `&self` methods touch the hrtimer only through the C API and the other fields are `Sync`.
unsafe impl<W: Watch> Sync for Watched<W> {}

impl<W: Watch> Watched<W> {
    /// Registers the ALSA timer (as [`Timer::register`]) watched by `watch` once per
    /// `resolution` ns while it runs.
    pub(crate) fn new(
        name: &CStr,
        subdevice: u32,
        resolution: u64,
        watch: W,
    ) -> impl PinInit<Self, Error> + '_ {
        try_pin_init!(&this in Self {
            // INVARIANT: set up before the timer that arms it is registered.
            hrtimer <- Opaque::ffi_init(|place: *mut bindings::hrtimer| {
                // SAFETY: `place` is valid for writes and pinned; `hrtimer_setup()` initialises it.
                unsafe {
                    bindings::hrtimer_setup(
                        place,
                        Some(Self::run),
                        bindings::CLOCK_MONOTONIC as c_int,
                        bindings::hrtimer_mode_HRTIMER_MODE_ABS_SOFT,
                    )
                };
            }),
            running: Atomic::new(false),
            dead: Atomic::new(false),
            due: Atomic::new(0),
            period: i64::try_from(resolution)?,
            watch,
            // SAFETY: `this` is the value being initialised, pinned: its hooks live until `drop`
            // frees `timer` first.
            timer: ManuallyDrop::new(unsafe {
                Timer::register_hooked(name, subdevice, resolution, this)?
            }),
            _pin: PhantomPinned,
        })
    }

    /// The ALSA timer.
    pub(crate) fn timer(&self) -> &Timer {
        &self.timer
    }

    /// The watch.
    pub(crate) fn watch(&self) -> &W {
        &self.watch
    }

    fn raw(&self) -> *mut bindings::hrtimer {
        self.hrtimer.get()
    }

    /// Arms the hrtimer for `due` (ns of `CLOCK_MONOTONIC`).
    fn arm(&self, due: i64) {
        self.due.store(due, Relaxed);
        // SAFETY: `hrtimer` is set up (type invariants) and lives as long as `self`;
        // `hrtimer_start_range_ns()` may be called in any context, also from the callback.
        unsafe {
            bindings::hrtimer_start_range_ns(
                self.raw(),
                due,
                0,
                bindings::hrtimer_mode_HRTIMER_MODE_ABS_SOFT,
            )
        };
    }

    /// Now, in ns of `CLOCK_MONOTONIC`.
    fn now() -> i64 {
        // SAFETY: `ktime_get()` may be called in any context.
        unsafe { bindings::ktime_get() }
    }

    /// Takes the clock: [`Watch::taken`] runs when no check does, and checks go on a period
    /// from now. No tick the watch decided before returns after this.
    pub(crate) fn take(&self) {
        // SAFETY: `hrtimer` is set up; `hrtimer_cancel()` waits for a running callback (RT-safe)
        // and may sleep, which this task may.
        unsafe { bindings::hrtimer_cancel(self.raw()) };
        self.watch.taken();
        // A `hw.stop` meanwhile leaves at most one callback, which sees `running` false.
        if self.running.load(Relaxed) && !self.dead.load(Relaxed) {
            self.arm(Self::now().saturating_add(self.period));
        }
    }

    /// The hrtimer's function.
    ///
    /// # Safety
    ///
    /// `hrtimer` must be the `hrtimer` field of a live `Watched<W>` (as set up in [`Self::new`]).
    unsafe extern "C" fn run(hrtimer: *mut bindings::hrtimer) -> bindings::hrtimer_restart {
        let field = hrtimer.cast::<Opaque<bindings::hrtimer>>();
        // SAFETY: By the safety requirements `hrtimer` is the field of a live `Watched<W>`
        // (`Opaque` is `repr(transparent)`), which `drop` keeps alive until no callback runs.
        let this = unsafe { &*kernel::container_of!(field, Self, hrtimer) };
        if this.dead.load(Relaxed) || !this.running.load(Relaxed) {
            return compat::HRTIMER_NORESTART;
        }
        let due = this.due.load(Relaxed);
        let late = Self::now().saturating_sub(due).max(0);
        // The periods that passed since the check before; more than one when this runs late.
        let periods = late.checked_div(this.period).unwrap_or(0).saturating_add(1);
        let ticks = this.watch.check(u32::try_from(periods).unwrap_or(u32::MAX));
        for _ in 0..ticks {
            this.timer.interrupt();
        }
        if this.running.load(Relaxed) && !this.dead.load(Relaxed) {
            this.arm(due.saturating_add(periods.saturating_mul(this.period)));
        }
        compat::HRTIMER_NORESTART
    }
}

impl<W: Watch> Hooks for Watched<W> {
    fn start(&self) {
        if self.dead.load(Relaxed) || !self.watch.enabled() {
            return;
        }
        self.running.store(true, Relaxed);
        self.watch.started();
        self.arm(Self::now().saturating_add(self.period));
    }

    fn stop(&self) {
        self.running.store(false, Relaxed);
        // SAFETY: `hrtimer` is set up. `hrtimer_try_to_cancel()` does not wait: a callback that runs
        // meanwhile sees `running` false and neither ticks nor arms it again.
        unsafe { bindings::hrtimer_try_to_cancel(self.raw()) };
    }
}

#[pinned_drop]
impl<W: Watch> PinnedDrop for Watched<W> {
    fn drop(mut self: Pin<&mut Self>) {
        self.dead.store(true, Relaxed);
        // SAFETY: `hrtimer` is set up. A callback that began before `dead` was set may tick:
        // `hrtimer_cancel()` waits for it, and one that begins after it returns does nothing.
        unsafe { bindings::hrtimer_cancel(self.raw()) };
        // SAFETY: `timer` is dropped here only (type invariants) and not used after: callbacks
        // see `dead`, and no `&self` method runs while the value is dropped.
        unsafe { ManuallyDrop::drop(self.as_mut().project().timer) };
        // No `hw.start` after the timer is freed: cancel what one that raced with `dead` armed.
        // SAFETY: As above.
        unsafe { bindings::hrtimer_cancel(self.raw()) };
    }
}
