// SPDX-License-Identifier: GPL-2.0

//! What the driver asks of the calling task that `kernel::task` does not offer.
//!
//! C headers: [`include/linux/sched.h`](srctree/include/linux/sched.h),
//! [`include/linux/capability.h`](srctree/include/linux/capability.h).

use core::ptr;
use kernel::{
    bindings,
    prelude::*,
    task::Task, //
};

/// The name of the calling task (`current->comm`), NUL-terminated.
pub(crate) fn current_comm() -> [u8; 16] {
    let task = Task::current_raw();
    // SAFETY: `current` is valid while it runs this code. Only the task itself and writers holding
    // its `task_lock()` change `comm`, always leaving a NUL-terminated string in the array; a racy
    // copy, as every `current->comm` in printk, can at worst mix the old and the new name.
    unsafe { ptr::addr_of!((*task).comm).read_volatile() }
}

/// Whether the calling task may override resource limits (`CAP_SYS_RESOURCE`).
///
/// As every `capable()` check, this is audited by the LSMs: only call it when the answer matters.
pub(crate) fn capable_sys_resource() -> bool {
    // SAFETY: `capable()` may be called from any task context.
    unsafe { bindings::capable(bindings::CAP_SYS_RESOURCE as c_int) }
}

/// Whether the calling task may administer the system (`CAP_SYS_ADMIN`): persistent timers
/// outlive it and count against no user's quota.
///
/// As every `capable()` check, this is audited by the LSMs: only call it when the answer matters.
pub(crate) fn capable_sys_admin() -> bool {
    // SAFETY: `capable()` may be called from any task context.
    unsafe { bindings::capable(bindings::CAP_SYS_ADMIN as c_int) }
}
