/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C API rust_utimer needs beyond `kernel::bindings`, for bindgen (see Kbuild).
 *
 * Constants that bindgen cannot evaluate by itself (anonymous enums, function-like macros) are
 * exported as `RUST_UTIMER_*` constants, as rust/bindings/bindings_helper.h does.
 */

#include <linux/anon_inodes.h>
#include <sound/core.h>
#include <sound/timer.h>

/* Our own ioctl's ABI: its struct and number, checked against the Rust side in defs.rs. */
#include "uapi/rust_utimer.h"

const int RUST_UTIMER_CLASS_GLOBAL = SNDRV_TIMER_CLASS_GLOBAL;
const int RUST_UTIMER_SCLASS_APPLICATION = SNDRV_TIMER_SCLASS_APPLICATION;
const int RUST_UTIMER_GLOBAL_UDRIVEN = SNDRV_TIMER_GLOBAL_UDRIVEN;
const unsigned int RUST_UTIMER_HW_AUTO = SNDRV_TIMER_HW_AUTO;
const unsigned int RUST_UTIMER_HW_WORK = SNDRV_TIMER_HW_WORK;
const unsigned int RUST_UTIMER_IOCTL_CREATE = SNDRV_TIMER_IOCTL_CREATE;
const unsigned int RUST_UTIMER_IOCTL_TRIGGER = SNDRV_TIMER_IOCTL_TRIGGER;
const unsigned int RUST_UTIMER_IOCTL_CREATE_EXT = UTIMER_IOCTL_CREATE_EXT;
const unsigned int RUST_UTIMER_CREATE_ID = UTIMER_CREATE_ID;
const unsigned int RUST_UTIMER_CREATE_PERSIST = UTIMER_CREATE_PERSIST;
const unsigned int RUST_UTIMER_CREATE_HOLDOVER = UTIMER_CREATE_HOLDOVER;
const unsigned int RUST_UTIMER_MAX_HOLDOVER = UTIMER_MAX_HOLDOVER;
const unsigned int RUST_UTIMER_IOCTL_ATTACH = UTIMER_IOCTL_ATTACH;
const unsigned int RUST_UTIMER_IOCTL_REMOVE = UTIMER_IOCTL_REMOVE;
const unsigned int RUST_UTIMER_IOCTL_TAKE = UTIMER_IOCTL_TAKE;
const unsigned long long RUST_UTIMER_MIN_RESOLUTION = UTIMER_MIN_RESOLUTION;
const unsigned long long RUST_UTIMER_MAX_RESOLUTION = UTIMER_MAX_RESOLUTION;
