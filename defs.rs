// SPDX-License-Identifier: GPL-2.0

//! The userspace ABI: upstream's `CONFIG_SND_UTIMER` (CREATE and TRIGGER), and our own CREATE.
//!
//! C headers: [`include/uapi/sound/asound.h`](srctree/include/uapi/sound/asound.h) for
//! upstream's, `uapi/rust_utimer.h` (this module's, for userspace) for ours.

use kernel::{
    ioctl::{
        _IO,
        _IOWR, //
    },
    prelude::*,
    transmute::{
        AsBytes,
        FromBytes, //
    },
};

use crate::sound;

/// The argument of [`IOCTL_CREATE`], `struct snd_timer_uinfo`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct TimerUinfo {
    /// Nanoseconds per tick, as the timer reports it to ALSA.
    pub(crate) resolution: u64,
    /// Out: the new timer's file descriptor.
    pub(crate) fd: i32,
    /// Out: the new timer's id, the subdevice of (GLOBAL, 4).
    pub(crate) id: u32,
    /// Ignored, as upstream does.
    pub(crate) reserved: [u8; 16],
}

/// The argument of [`IOCTL_CREATE_EXT`], `struct utimer_create`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct TimerCreate {
    /// Nanoseconds per tick, within [`MIN_RESOLUTION`, `MAX_RESOLUTION`].
    pub(crate) resolution: u64,
    /// [`CREATE_ID`], or 0.
    pub(crate) flags: u32,
    /// In: the id wanted, with [`CREATE_ID`]; out: the new timer's id.
    pub(crate) id: u32,
    /// Out: the new timer's file descriptor.
    pub(crate) fd: i32,
    /// Must be zero, so that a later version can give them a meaning under a new flag.
    pub(crate) reserved: [u32; 3],
}

// SAFETY: `TimerCreate` is `repr(C)`, has no padding (asserted below) and every field accepts any
// bit pattern.
unsafe impl FromBytes for TimerCreate {}
// SAFETY: `TimerCreate` is `repr(C)`, has no padding (asserted below) and no interior mutability.
unsafe impl AsBytes for TimerCreate {}

/// [`TimerCreate::flags`]: the timer gets [`TimerCreate::id`], or CREATE fails.
pub(crate) const CREATE_ID: u32 = sound::RUST_UTIMER_CREATE_ID;

// SAFETY: `TimerUinfo` is `repr(C)`, has no padding (asserted below) and every field accepts any
// bit pattern.
unsafe impl FromBytes for TimerUinfo {}
// SAFETY: `TimerUinfo` is `repr(C)`, has no padding (asserted below) and no interior mutability.
unsafe impl AsBytes for TimerUinfo {}

/// The smallest resolution [`IOCTL_CREATE_EXT`] accepts, in ns.
///
/// The ALSA core refuses to start an instance whose first tick is shorter than 100 µs
/// (`snd_timer_start1()`), and snd-aloop starts its instance with one tick: below this no
/// consumer can run on one tick per TRIGGER.
pub(crate) const MIN_RESOLUTION: u64 = sound::RUST_UTIMER_MIN_RESOLUTION;

/// The largest resolution [`IOCTL_CREATE_EXT`] accepts, in ns (about 4.29 s).
///
/// The resolution reaches consumers through 32-bit fields: `struct snd_timer_read`'s and
/// `struct snd_timer_tread64`'s for `/dev/snd/timer` readers, and snd-aloop compares it with the
/// PCM's `unsigned int timer_resolution`. A larger value would be truncated or never match.
pub(crate) const MAX_RESOLUTION: u64 = sound::RUST_UTIMER_MAX_RESOLUTION;

/// `SNDRV_TIMER_IOCTL_CREATE`: create a timer, on `/dev/utimer`.
pub(crate) const IOCTL_CREATE: u32 = sound::RUST_UTIMER_IOCTL_CREATE;

/// `SNDRV_TIMER_IOCTL_TRIGGER`: fire one tick, on a timer's file descriptor.
pub(crate) const IOCTL_TRIGGER: u32 = sound::RUST_UTIMER_IOCTL_TRIGGER;

/// `UTIMER_IOCTL_CREATE_EXT`: our own CREATE, on `/dev/utimer`.
pub(crate) const IOCTL_CREATE_EXT: u32 = sound::RUST_UTIMER_IOCTL_CREATE_EXT;

// The numbers come from the kernel's own header (through bindgen); they and the layout are
// checked against our struct and against the numbers upstream documents.
static_assert!(core::mem::size_of::<TimerUinfo>() == 32);
static_assert!(core::mem::offset_of!(TimerUinfo, fd) == 8);
static_assert!(core::mem::offset_of!(TimerUinfo, id) == 12);
static_assert!(core::mem::offset_of!(TimerUinfo, reserved) == 16);
static_assert!(
    core::mem::size_of::<TimerUinfo>() == core::mem::size_of::<sound::snd_timer_uinfo>()
);
static_assert!(IOCTL_CREATE == _IOWR::<TimerUinfo>('T' as u32, 0xa5));
static_assert!(IOCTL_TRIGGER == _IO('T' as u32, 0xa6));
static_assert!(IOCTL_CREATE == 0xC020_54A5);
static_assert!(IOCTL_TRIGGER == 0x54A6);

// Ours, against uapi/rust_utimer.h (through bindgen): the same layout for 32- and 64-bit tasks.
static_assert!(core::mem::size_of::<TimerCreate>() == 32);
static_assert!(core::mem::offset_of!(TimerCreate, flags) == 8);
static_assert!(core::mem::offset_of!(TimerCreate, id) == 12);
static_assert!(core::mem::offset_of!(TimerCreate, fd) == 16);
static_assert!(core::mem::offset_of!(TimerCreate, reserved) == 20);
static_assert!(core::mem::size_of::<TimerCreate>() == core::mem::size_of::<sound::utimer_create>());
static_assert!(IOCTL_CREATE_EXT == _IOWR::<TimerCreate>('u' as u32, 0xa5));
static_assert!(IOCTL_CREATE_EXT == 0xC020_75A5);
static_assert!(CREATE_ID == 1);
static_assert!(MIN_RESOLUTION == 100_000);
static_assert!(MAX_RESOLUTION == u32::MAX as u64);
