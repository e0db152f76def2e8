// SPDX-License-Identifier: GPL-2.0

//! Userspace-driven ALSA timers for kernels built without `CONFIG_SND_UTIMER`.
//!
//! `ioctl(SNDRV_TIMER_IOCTL_CREATE)` on `/dev/utimer` registers an ALSA global timer (class GLOBAL,
//! device 4, subdevice = id) and returns a file descriptor that owns it;
//! `ioctl(SNDRV_TIMER_IOCTL_TRIGGER)` on that descriptor fires one tick. snd-aloop
//! (`timer_source=-1.4.<id>`) and any `/dev/snd/timer` client can then run on the application's
//! clock. The ABI is upstream's: see `Documentation/sound/utimers.rst` in the kernel tree.
//!
//! Layout: [`defs`] holds the ABI, [`alsa`] every call into C, [`utimer`] the driver logic.

use kernel::{
    miscdevice::{
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    prelude::*, //
};

mod alsa;
mod defs;
mod utimer;

module! {
    type: RustUtimerModule,
    name: "rust_utimer",
    authors: ["rust_utimer developers"],
    description: "Userspace-driven ALSA timers (/dev/utimer)",
    license: "GPL",
}

#[pin_data]
struct RustUtimerModule {
    #[pin]
    _misc: MiscDeviceRegistration<utimer::Control>,
}

impl kernel::InPlaceModule for RustUtimerModule {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        utimer::init();
        try_pin_init!(Self {
            _misc <- MiscDeviceRegistration::register(MiscDeviceOptions { name: c"utimer" }),
        })
    }
}
