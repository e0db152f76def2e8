// SPDX-License-Identifier: GPL-2.0

//! The persistent timers that `timers=` declares, e.g. `timers=0:48000/480,1:44100/441:0`.
//!
//! Each entry, comma-separated, is `ID:RATE/FRAMES` (the resolution snd-aloop requires of a PCM
//! of RATE Hz and FRAMES frames per period) or `ID:NS` (a resolution in ns), optionally followed
//! by `:HOLDOVER` (the periods without a TRIGGER before holdover, 0 for never; else the module's
//! `holdover=`).

use kernel::prelude::*;

/// One entry of `timers=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) id: u32,
    pub(crate) resolution: u64,
    /// `None`: the module's default.
    pub(crate) holdover: Option<u32>,
}

/// Why an entry was refused, for the message that names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// The id is missing or not a number.
    Id,
    /// What follows the id is neither RATE/FRAMES nor NS.
    Resolution,
    /// RATE/FRAMES is a period the kernel cannot compute (0, or too large).
    Period,
    /// The holdover after the resolution is not a number.
    Holdover,
}

impl Malformed {
    /// What the entry should have been.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::Id => "it must start with a timer id, a number, then ':'",
            Self::Resolution => {
                "after the id comes RATE/FRAMES (e.g. 48000/480) or a resolution in ns"
            }
            Self::Period => "RATE and FRAMES must be numbers above 0",
            Self::Holdover => "the holdover after the second ':' must be a number of periods",
        }
    }
}

/// The entries of `value`, each with its text (for messages) and what it declares.
pub(crate) fn entries(value: &[u8]) -> impl Iterator<Item = (&[u8], Result<Entry, Malformed>)> {
    let value = value.strip_suffix(b"\n").unwrap_or(value);
    value
        .split(|&c| c == b',')
        .filter(move |_| !value.is_empty())
        .map(|text| (text, parse(text)))
}

fn number(text: &[u8]) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.iter().try_fold(0u64, |n, &c| {
        if !c.is_ascii_digit() {
            return None;
        }
        n.checked_mul(10)?.checked_add(u64::from(c - b'0'))
    })
}

fn parse(text: &[u8]) -> Result<Entry, Malformed> {
    let mut parts = text.splitn(3, |&c| c == b':');
    let id = parts
        .next()
        .and_then(number)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or(Malformed::Id)?;
    let spec = parts.next().ok_or(Malformed::Id)?;
    let mut halves = spec.splitn(2, |&c| c == b'/');
    let first = halves
        .next()
        .and_then(number)
        .ok_or(Malformed::Resolution)?;
    let resolution = match halves.next() {
        Some(frames) => {
            let frames = number(frames).ok_or(Malformed::Resolution)?;
            resolution(first, frames).ok_or(Malformed::Period)?
        }
        None => first,
    };
    let holdover = match parts.next() {
        Some(h) => Some(
            number(h)
                .and_then(|n| u32::try_from(n).ok())
                .ok_or(Malformed::Holdover)?,
        ),
        None => None,
    };
    Ok(Entry {
        id,
        resolution,
        holdover,
    })
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while let Some(r) = a.checked_rem(b) {
        (a, b) = (b, r);
    }
    a
}

/// The resolution in ns that snd-aloop requires of a timer driving `rate` Hz with `frames`
/// frames per period: `snd_pcm_timer_resolution_change()`'s (sound/core/pcm_native.c), bit for bit,
/// as `utimer_resolution()` of uapi/rust_utimer.h. `None` for 0 or a result that does not fit.
pub(crate) fn resolution(rate: u64, frames: u64) -> Option<u64> {
    if rate == 0 || frames == 0 {
        return None;
    }
    let (mut mult, mut rate, mut fsize, mut post) = (1_000_000_000u64, rate, frames, 1u64);
    let l = gcd(mult, rate);
    mult = mult.checked_div(l)?;
    rate = rate.checked_div(l)?;
    let l = gcd(rate, fsize);
    rate = rate.checked_div(l)?;
    fsize = fsize.checked_div(l)?;
    while mult.checked_mul(fsize).is_none() {
        mult /= 2;
        post = post.checked_mul(2)?;
    }
    mult.checked_mul(fsize)?
        .checked_div(rate)?
        .checked_mul(post)
}
