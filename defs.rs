// SPDX-License-Identifier: GPL-2.0

//! The userspace ABI: upstream's `CONFIG_SND_UTIMER` (CREATE and TRIGGER), and our own CREATE.
//!
//! C headers: [`include/uapi/sound/asound.h`](srctree/include/uapi/sound/asound.h) for
//! upstream's, `uapi/rust_utimer.h` (this module's, for userspace) for ours.

use kernel::{
    ioctl::{
        _IO,
        _IOW,
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
    /// [`CREATE_ID`], [`CREATE_PERSIST`], [`CREATE_HOLDOVER`], or 0.
    pub(crate) flags: u32,
    /// In: the id wanted, with [`CREATE_ID`]; out: the new timer's id.
    pub(crate) id: u32,
    /// Out: the new timer's file descriptor; -1 with [`CREATE_PERSIST`].
    pub(crate) fd: i32,
    /// With [`CREATE_HOLDOVER`]: periods without a TRIGGER before holdover, 0 for never.
    pub(crate) holdover: u32,
    /// Must be zero, so that a later version can give them a meaning under a new flag.
    pub(crate) reserved: [u32; 2],
}

/// The argument of [`IOCTL_ATTACH`], `struct utimer_attach`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct TimerAttach {
    /// The persistent timer's id.
    pub(crate) id: u32,
    /// Must be zero.
    pub(crate) flags: u32,
    /// Out: the writer's file descriptor.
    pub(crate) fd: i32,
    /// Must be zero.
    pub(crate) reserved: [u32; 5],
}

/// The argument of [`IOCTL_REMOVE`], `struct utimer_remove`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(crate) struct TimerRemove {
    /// The persistent timer's id.
    pub(crate) id: u32,
    /// Must be zero.
    pub(crate) flags: u32,
    /// Must be zero.
    pub(crate) reserved: [u32; 2],
}

// SAFETY: `TimerAttach` is `repr(C)`, has no padding (asserted below) and every field accepts any
// bit pattern.
unsafe impl FromBytes for TimerAttach {}
// SAFETY: `TimerAttach` is `repr(C)`, has no padding (asserted below) and no interior mutability.
unsafe impl AsBytes for TimerAttach {}
// SAFETY: `TimerRemove` is `repr(C)`, has no padding (asserted below) and every field accepts any
// bit pattern.
unsafe impl FromBytes for TimerRemove {}

// SAFETY: `TimerCreate` is `repr(C)`, has no padding (asserted below) and every field accepts any
// bit pattern.
unsafe impl FromBytes for TimerCreate {}
// SAFETY: `TimerCreate` is `repr(C)`, has no padding (asserted below) and no interior mutability.
unsafe impl AsBytes for TimerCreate {}

/// [`TimerCreate::flags`]: the timer gets [`TimerCreate::id`], or CREATE fails.
pub(crate) const CREATE_ID: u32 = sound::RUST_UTIMER_CREATE_ID;

/// [`TimerCreate::flags`]: a persistent timer, of no fd; writers attach to it.
pub(crate) const CREATE_PERSIST: u32 = sound::RUST_UTIMER_CREATE_PERSIST;

/// [`TimerCreate::flags`], with [`CREATE_PERSIST`]: [`TimerCreate::holdover`] is given.
pub(crate) const CREATE_HOLDOVER: u32 = sound::RUST_UTIMER_CREATE_HOLDOVER;

/// The most periods of holdover delay a persistent timer may have.
pub(crate) const MAX_HOLDOVER: u32 = sound::RUST_UTIMER_MAX_HOLDOVER;

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

/// `UTIMER_IOCTL_ATTACH`: become the writer of a persistent timer, on `/dev/utimer`.
pub(crate) const IOCTL_ATTACH: u32 = sound::RUST_UTIMER_IOCTL_ATTACH;

/// `UTIMER_IOCTL_REMOVE`: destroy a persistent timer, on `/dev/utimer`.
pub(crate) const IOCTL_REMOVE: u32 = sound::RUST_UTIMER_IOCTL_REMOVE;

/// `UTIMER_IOCTL_TAKE`: take the clock back from holdover, on a writer's fd.
pub(crate) const IOCTL_TAKE: u32 = sound::RUST_UTIMER_IOCTL_TAKE;

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
static_assert!(core::mem::offset_of!(TimerCreate, holdover) == 20);
static_assert!(core::mem::offset_of!(TimerCreate, reserved) == 24);
static_assert!(core::mem::size_of::<TimerCreate>() == core::mem::size_of::<sound::utimer_create>());
static_assert!(IOCTL_CREATE_EXT == _IOWR::<TimerCreate>('u' as u32, 0xa5));
static_assert!(IOCTL_CREATE_EXT == 0xC020_75A5);
static_assert!(CREATE_ID == 1);
static_assert!(CREATE_PERSIST == 2);
static_assert!(CREATE_HOLDOVER == 4);
static_assert!(MAX_HOLDOVER == 1000);
static_assert!(core::mem::size_of::<TimerAttach>() == 32);
static_assert!(core::mem::offset_of!(TimerAttach, fd) == 8);
static_assert!(core::mem::size_of::<TimerAttach>() == core::mem::size_of::<sound::utimer_attach>());
static_assert!(core::mem::size_of::<TimerRemove>() == 16);
static_assert!(core::mem::size_of::<TimerRemove>() == core::mem::size_of::<sound::utimer_remove>());
static_assert!(IOCTL_ATTACH == _IOWR::<TimerAttach>('u' as u32, 0xa6));
static_assert!(IOCTL_REMOVE == _IOW::<TimerRemove>('u' as u32, 0xa7));
static_assert!(IOCTL_TAKE == _IO('u' as u32, 0xa8));
static_assert!(MIN_RESOLUTION == 100_000);
static_assert!(MAX_RESOLUTION == u32::MAX as u64);
