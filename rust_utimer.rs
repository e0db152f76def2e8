// SPDX-License-Identifier: GPL-2.0

//! Userspace-driven ALSA timers for kernels built without `CONFIG_SND_UTIMER`.
//!
//! `ioctl(SNDRV_TIMER_IOCTL_CREATE)` on `/dev/utimer` registers an ALSA global timer (class GLOBAL,
//! device 4, subdevice = id) and returns a file descriptor that owns it;
//! `ioctl(SNDRV_TIMER_IOCTL_TRIGGER)` on that descriptor fires one tick. snd-aloop
//! (`timer_source=-1.4.<id>`) and any `/dev/snd/timer` client can then run on the application's
//! clock. Both ioctls are upstream's, on every input: see `Documentation/sound/utimers.rst` in the
//! kernel tree. Our own `UTIMER_IOCTL_CREATE_EXT` (`uapi/rust_utimer.h`) adds strict input and a
//! timer by id, and persistent timers ([`persist`]): made at load time (`timers=`, [`config`],
//! [`param`]) or by `UTIMER_CREATE_PERSIST`, driven by the writer attached to them, and ticked by
//! the module itself ([`clock`]) in holdover.
//!
//! Layout: [`defs`] holds the ABI, [`utimer`] the driver logic and [`ids`] its id allocator;
//! [`timer`] (ALSA timers), [`clock`] (their hrtimers), [`file`] (anonymous-inode files),
//! [`param`] (`timers=`), [`task`] (the caller) and, before 7.3, `misc` (`/dev/utimer`) are the
//! only calls into C, through the generated [`sound`]
//! bindings; [`compat`] bridges the kernels' Rust APIs.

use kernel::{
    debugfs::{
        Dir,
        File, //
    },
    prelude::*, //
};

mod clock;
mod compat;
mod config;
mod defs;
mod file;
mod ids;
#[cfg(not(utimer_kernel_ge_7_3))]
mod misc;
mod param;
mod persist;
mod sound;
mod task;
mod timer;
mod utimer;

module! {
    type: RustUtimerModule,
    name: "rust_utimer",
    authors: ["rust_utimer developers"],
    description: "Userspace-driven ALSA timers (/dev/utimer)",
    license: "GPL",
    params: {
        max_timers: u32 {
            default: 128,
            description: "Most timers alive at once, 1 to 4096 (ids 0 to max_timers - 1)",
        },
        max_user_timers: u32 {
            default: 32,
            description: "Most timers one user (real uid) may hold, at least 1; CAP_SYS_RESOURCE overrides",
        },
        holdover: u32 {
            default: 2,
            description: "Periods without a TRIGGER before the module ticks a persistent timer itself, 0 (never) to 1000",
        },
    },
}

#[pin_data]
struct RustUtimerModule {
    // Field order matters: `/dev/utimer` goes first, then the listing, then the state.
    #[pin]
    _misc: compat::Misc,
    #[pin]
    _timers: File<()>,
    _debugfs: Dir,
    _state: utimer::State,
}

impl kernel::InPlaceModule for RustUtimerModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        pin_init::pin_init_scope(|| {
            let max_timers: u32 = compat::param(module_parameters::max_timers.value());
            let max_user_timers: u32 = compat::param(module_parameters::max_user_timers.value());
            if max_timers == 0 || max_timers > ids::MAX_CAPACITY {
                pr_err!(
                    "max_timers={} is out of range: it must be 1 to {}\n",
                    max_timers,
                    ids::MAX_CAPACITY
                );
                return Err(EINVAL);
            }
            if max_user_timers == 0 {
                pr_err!("max_user_timers=0 is out of range: it must be at least 1\n");
                return Err(EINVAL);
            }
            let holdover: u32 = compat::param(module_parameters::holdover.value());
            if holdover > defs::MAX_HOLDOVER {
                pr_err!(
                    "holdover={} is out of range: it must be 0 to {}\n",
                    holdover,
                    defs::MAX_HOLDOVER
                );
                return Err(EINVAL);
            }
            let debugfs = Dir::new(c"rust_utimer");
            Ok(try_pin_init!(Self {
                // Initialised first (fields are initialised in this order), dropped last.
                _state: utimer::init(max_timers, max_user_timers, holdover, param::timers())?,
                _misc <- compat::register_misc(c"utimer"),
                _timers <- debugfs.read_callback_file(
                    c"timers",
                    (),
                    &|(), f| utimer::write_listing(f)
                ),
                _debugfs: debugfs,
            }))
        })
    }
}
