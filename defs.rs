// SPDX-License-Identifier: GPL-2.0

//! The userspace ABI, identical to upstream's `CONFIG_SND_UTIMER`.
//!
//! C header: [`include/uapi/sound/asound.h`](srctree/include/uapi/sound/asound.h).

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

use crate::alsa;

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
    /// Reserved: must be zero (upstream ignores it), so that it can carry flags later.
    pub(crate) reserved: [u8; 16],
}

// SAFETY: `TimerUinfo` is `repr(C)`, has no padding (asserted below) and every field accepts any
// bit pattern.
unsafe impl FromBytes for TimerUinfo {}
// SAFETY: `TimerUinfo` is `repr(C)`, has no padding (asserted below) and no interior mutability.
unsafe impl AsBytes for TimerUinfo {}

/// `SNDRV_TIMER_IOCTL_CREATE`: create a timer, on `/dev/utimer`.
pub(crate) const IOCTL_CREATE: u32 = alsa::IOCTL_CREATE;

/// `SNDRV_TIMER_IOCTL_TRIGGER`: fire one tick, on a timer's file descriptor.
pub(crate) const IOCTL_TRIGGER: u32 = alsa::IOCTL_TRIGGER;

// The numbers come from the kernel's own header (through bindgen); they and the layout are
// checked against our struct and against the numbers upstream documents.
static_assert!(core::mem::size_of::<TimerUinfo>() == 32);
static_assert!(core::mem::offset_of!(TimerUinfo, fd) == 8);
static_assert!(core::mem::offset_of!(TimerUinfo, id) == 12);
static_assert!(core::mem::offset_of!(TimerUinfo, reserved) == 16);
static_assert!(core::mem::size_of::<TimerUinfo>() == alsa::UINFO_SIZE);
static_assert!(IOCTL_CREATE == _IOWR::<TimerUinfo>('T' as u32, 0xa5));
static_assert!(IOCTL_TRIGGER == _IO('T' as u32, 0xa6));
static_assert!(IOCTL_CREATE == 0xC020_54A5);
static_assert!(IOCTL_TRIGGER == 0x54A6);
