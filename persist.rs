// SPDX-License-Identifier: GPL-2.0

//! Persistent timers: timers that belong to no file, made at load time (`timers=`) or by
//! `UTIMER_IOCTL_CREATE_EXT` with `UTIMER_CREATE_PERSIST`, driven by the writer attached to them
//! (`UTIMER_IOCTL_ATTACH`), and ticked by the module itself in holdover.
//!
//! Holdover: while a consumer runs, the timer's watch looks once per period whether a TRIGGER
//! came; after [`Holdover::periods`] periods in a row without one it fires the ticks of those
//! periods at once, then one per period, until a TRIGGER comes: the consumer (snd-aloop's capture
//! side) never stops. How this keeps the count of periods: `Documentation/design.rst`.

use kernel::{
    prelude::*,
    seq_file::SeqFile,
    seq_print,
    sync::{
        atomic::{
            Atomic,
            Relaxed, //
        },
        Arc,
    },
};

use crate::{
    clock::{
        Watch,
        Watched, //
    },
    defs::{
        IOCTL_TAKE,
        IOCTL_TRIGGER, //
    },
    file::FileOps,
    utimer::{
        Id,
        TimerName, //
    },
};

/// The watch of a persistent timer: counts TRIGGERs and decides holdover ticks.
pub(crate) struct Holdover {
    /// Periods without a TRIGGER before holdover; 0: never.
    periods: u32,
    /// TRIGGERs so far (driven ticks).
    triggers: Atomic<u64>,
    /// Ticks fired in holdover so far.
    ticks: Atomic<u64>,
    /// `triggers` at the last check.
    seen: Atomic<u64>,
    /// Periods in a row without a TRIGGER, up to `periods`.
    quiet: Atomic<u32>,
    /// Whether the timer is in holdover.
    holding: Atomic<bool>,
}

impl Holdover {
    fn new(periods: u32) -> Self {
        Self {
            periods,
            triggers: Atomic::new(0),
            ticks: Atomic::new(0),
            seen: Atomic::new(0),
            quiet: Atomic::new(0),
            holding: Atomic::new(false),
        }
    }

    /// Starts a new watch: as if a TRIGGER had just come.
    fn reset(&self) {
        self.seen.store(self.triggers.load(Relaxed), Relaxed);
        self.quiet.store(0, Relaxed);
        self.holding.store(false, Relaxed);
    }
}

impl Watch for Holdover {
    fn enabled(&self) -> bool {
        self.periods != 0
    }

    fn started(&self) {
        self.reset();
    }

    fn check(&self, periods: u32) -> u32 {
        let triggers = self.triggers.load(Relaxed);
        if triggers != self.seen.load(Relaxed) {
            // Driven: the first TRIGGER after holdover takes the clock back here.
            self.seen.store(triggers, Relaxed);
            self.quiet.store(0, Relaxed);
            self.holding.store(false, Relaxed);
            return 0;
        }
        if self.holding.load(Relaxed) {
            self.ticks.add(u64::from(periods), Relaxed);
            return periods;
        }
        let quiet = self.quiet.load(Relaxed).saturating_add(periods);
        if quiet < self.periods {
            self.quiet.store(quiet, Relaxed);
            return 0;
        }
        // Holdover begins: the ticks of the periods that passed without a TRIGGER, at once.
        self.quiet.store(0, Relaxed);
        self.holding.store(true, Relaxed);
        self.ticks.add(u64::from(quiet), Relaxed);
        quiet
    }

    fn taken(&self) {
        self.reset();
    }
}

/// A persistent timer. The registry holds it while it exists, and its writer's file while one
/// is attached.
#[pin_data]
pub(crate) struct Persistent {
    // Field order matters: the timer is unregistered before its id can be taken again.
    #[pin]
    clock: Watched<Holdover>,
    id: Id,
    /// The attached writer's thread group id, 0 when none is.
    writer: Atomic<i32>,
}

impl Persistent {
    /// Registers a persistent timer on `id`, of `resolution` ns and `holdover` periods.
    pub(crate) fn new(id: Id, resolution: u64, holdover: u32) -> Result<Arc<Self>> {
        let name = TimerName::new(id.number())?;
        let subdevice = id.number();
        Arc::pin_init(
            try_pin_init!(Self {
                clock <- Watched::new(name.as_cstr()?, subdevice, resolution, Holdover::new(holdover)),
                id,
                writer: Atomic::new(0),
            }),
            GFP_KERNEL,
        )
    }

    pub(crate) fn id(&self) -> u32 {
        self.id.number()
    }

    pub(crate) fn resolution(&self) -> u64 {
        self.clock.timer().resolution()
    }

    pub(crate) fn instances(&self) -> i32 {
        self.clock.timer().instances()
    }

    pub(crate) fn triggers(&self) -> u64 {
        self.clock.watch().triggers.load(Relaxed)
    }

    pub(crate) fn holdover_ticks(&self) -> u64 {
        self.clock.watch().ticks.load(Relaxed)
    }

    pub(crate) fn holdover_periods(&self) -> u32 {
        self.clock.watch().periods
    }

    pub(crate) fn state(&self) -> &'static str {
        if self.clock.watch().holding.load(Relaxed) {
            "holdover"
        } else {
            "driven"
        }
    }

    /// The attached writer's thread group id, 0 when none is.
    pub(crate) fn writer(&self) -> i32 {
        self.writer.load(Relaxed)
    }

    /// Makes `tgid` the writer: `EBUSY` when one is attached. Called under the registry's lock,
    /// as is [`Self::detach`]'s check by `UTIMER_IOCTL_REMOVE`.
    pub(crate) fn attach(&self, tgid: i32) -> Result {
        self.writer.cmpxchg(0, tgid, Relaxed).map_err(|_| EBUSY)?;
        Ok(())
    }

    /// The writer leaves: the timer stays.
    pub(crate) fn detach(&self) {
        self.writer.store(0, Relaxed);
    }

    /// Takes the clock from holdover: returns whether the timer was in holdover.
    pub(crate) fn take(&self) -> bool {
        let was = self.clock.watch().holding.load(Relaxed);
        self.clock.take();
        was
    }
}

/// A writer's file holds a reference to the persistent timer it drives.
impl FileOps for Persistent {
    // Inlined into the file's `unlocked_ioctl`: TRIGGER is the hot path, as on an owned timer.
    #[inline]
    fn ioctl(&self, cmd: u32, _arg: usize) -> Result<isize> {
        match cmd {
            IOCTL_TRIGGER => {
                self.clock.watch().triggers.add(1, Relaxed);
                self.clock.timer().interrupt();
                Ok(0)
            }
            IOCTL_TAKE => Ok(isize::from(self.take())),
            _ => Err(ENOTTY),
        }
    }

    fn show_fdinfo(&self, m: &SeqFile) {
        seq_print!(m, "utimer-id:\t{}\n", self.id());
        seq_print!(m, "utimer-resolution:\t{}\n", self.resolution());
        seq_print!(m, "utimer-triggers:\t{}\n", self.triggers());
        seq_print!(m, "utimer-instances:\t{}\n", self.instances());
        seq_print!(m, "utimer-persistent:\t1\n");
        seq_print!(m, "utimer-writer:\t{}\n", self.writer());
        seq_print!(m, "utimer-state:\t{}\n", self.state());
        seq_print!(m, "utimer-holdover:\t{}\n", self.holdover_periods());
        seq_print!(m, "utimer-holdover-ticks:\t{}\n", self.holdover_ticks());
    }

    /// The writer's file closes: it detaches, the timer stays.
    fn release(&self) {
        self.detach();
    }
}
