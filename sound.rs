// SPDX-License-Identifier: GPL-2.0

//! Bindings for what `kernel::bindings` lacks, generated at build time by `Kbuild` from
//! `bindings_helper.h`: the ALSA timer API of `include/sound/`, `anon_inode_getfile()` and
//! `uapi/rust_utimer.h`.
//!
//! Only the abstractions ([`crate::timer`], [`crate::file`]) call into them; [`crate::defs`]
//! reads the ABI's numbers from them.

#![allow(
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

use kernel::bindings::*;
use kernel::ffi;

include!(env!("UTIMER_BINDINGS"));
