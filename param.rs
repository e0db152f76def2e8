// SPDX-License-Identifier: GPL-2.0

//! `timers=`, a string module parameter, which `module!` cannot declare (it knows integers and
//! `bool`): declared here as C's `module_param(timers, charp, 0444)` does.
//!
//! C header: [`include/linux/moduleparam.h`](srctree/include/linux/moduleparam.h).

use core::{
    cell::UnsafeCell,
    ptr, //
};
use kernel::{
    bindings,
    module_param::KernelParam,
    prelude::*,
    str::CStr, //
};

use crate::compat;

/// The value of `timers=`: a string that `param_ops_charp` allocates at load and frees at unload.
///
/// # Invariants
///
/// Only the module loader writes it (`param_set_charp()` while it parses the module's arguments,
/// before `init`; `param_free_charp()` after `exit`): the parameter is read-only in sysfs (0444).
/// In between it is NULL or a NUL-terminated string.
struct Charp(UnsafeCell<*mut c_char>);

// SAFETY: Written only by the module loader, before and after any other use (type invariants).
unsafe impl Sync for Charp {}

static TIMERS: Charp = Charp(UnsafeCell::new(ptr::null_mut()));

// The parameter: in `__param`, where the loader finds the module's parameters, as `module!` puts
// its own.
#[link_section = "__param"]
#[used(compiler)]
static TIMERS_PARAM: KernelParam = KernelParam::new(bindings::kernel_param {
    name: kernel::str::as_char_ptr_in_const_context(c"timers"),
    mod_: compat::this_module().as_ptr(),
    ops: &raw const bindings::param_ops_charp,
    perm: 0o444,
    level: -1,
    flags: 0,
    __bindgen_anon_1: bindings::kernel_param__bindgen_ty_1 {
        arg: TIMERS.0.get().cast(),
    },
});

// What modinfo shows, as `module!` writes it for its parameters.
#[link_section = ".modinfo"]
#[used(compiler)]
static TIMERS_PARMTYPE: [u8; 22] = *b"parmtype=timers:charp\0";

#[link_section = ".modinfo"]
#[used(compiler)]
static TIMERS_PARM: [u8; 107] =
    *b"parm=timers:Persistent timers made at load, ID:RATE/FRAMES[:HOLDOVER] or ID:NS[:HOLDOVER], comma-separated\0";

/// The value of `timers=`, empty when it was not given.
///
/// Only for the module's `init`: the string lives until the module is unloaded.
pub(crate) fn timers() -> &'static [u8] {
    // SAFETY: The loader wrote the pointer before `init` and does not change it until unload
    // (type invariants).
    let p = unsafe { *TIMERS.0.get() };
    if p.is_null() {
        return &[];
    }
    // SAFETY: `p` is not NULL, so it is a NUL-terminated string that lives until the unload (type
    // invariants).
    unsafe { CStr::from_char_ptr(p) }.to_bytes()
}
