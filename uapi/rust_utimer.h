/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rust_utimer: userspace-driven ALSA timers on kernels without CONFIG_SND_UTIMER.
 *
 * CREATE and TRIGGER are upstream's (include/uapi/sound/asound.h, Linux 6.12+), byte for byte
 * and input for input: a program written for upstream works unchanged by opening UTIMER_DEVICE
 * instead of /dev/snd/timer.  The names carry a UTIMER_ prefix so this header can be included
 * beside <sound/asound.h> of any age; the values are the same (checked by selftests/abi_test.c).
 * What upstream lacks is in an ioctl of our own, UTIMER_IOCTL_CREATE_EXT.
 */
#ifndef _UAPI_RUST_UTIMER_H
#define _UAPI_RUST_UTIMER_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The device that creates timers (upstream: /dev/snd/timer). */
#define UTIMER_DEVICE "/dev/utimer"

/* struct snd_timer_uinfo */
struct utimer_uinfo {
	__u64 resolution;	/* in: nanoseconds per tick, not 0 */
	int fd;			/* out: the timer's file descriptor (O_CLOEXEC); close it to destroy */
	unsigned int id;	/* out: subdevice of (SNDRV_TIMER_CLASS_GLOBAL, UTIMER_GLOBAL_DEVICE) */
	unsigned char reserved[16];	/* ignored, as upstream does */
};

/*
 * SNDRV_TIMER_IOCTL_CREATE, on UTIMER_DEVICE: upstream's, with upstream's semantics on every
 * input (any non-zero resolution, reserved ignored; the lowest free id).  Errors: EINVAL
 * (resolution 0), EFAULT (argument not readable or writable; unlike upstream, nothing is left
 * behind), ENOSPC (all max_timers ids taken), EDQUOT (the caller's real uid holds
 * max_user_timers timers and the caller lacks CAP_SYS_RESOURCE), EMFILE/ENFILE, ENOMEM.
 */
#define UTIMER_IOCTL_CREATE	_IOWR('T', 0xa5, struct utimer_uinfo)
/* SNDRV_TIMER_IOCTL_TRIGGER, on the timer's fd: one tick */
#define UTIMER_IOCTL_TRIGGER	_IO('T', 0xa6)
/* SNDRV_TIMER_GLOBAL_UDRIVEN: the global timer device our timers are (subdevice = id) */
#define UTIMER_GLOBAL_DEVICE	4

/*
 * rust_utimer's own CREATE, on UTIMER_DEVICE only: checks what upstream's ignores, and can ask
 * for a given id, so that a configuration written in advance (snd-aloop's
 * timer_source=-1.4.<id> in modprobe.d) names the application's timer whatever else runs.
 *
 * The struct grows without a new ioctl: flags and reserved must be 0 today (EINVAL otherwise),
 * and a later version gives reserved fields a meaning under a new flag.  Its layout is the same
 * for 32- and 64-bit tasks (no pointer, no padding).
 */
struct utimer_create {
	__u64 resolution;	/* in: ns per tick, UTIMER_MIN_RESOLUTION..UTIMER_MAX_RESOLUTION */
	__u32 flags;		/* in: UTIMER_CREATE_* or 0 */
	__u32 id;		/* in: the id wanted, with UTIMER_CREATE_ID; out: the timer's id */
	__s32 fd;		/* out: the timer's file descriptor (O_CLOEXEC); -1 with PERSIST */
	__u32 holdover;		/* in, with UTIMER_CREATE_HOLDOVER: see below; else 0 */
	__u32 reserved[2];	/* in: 0 */
};

/* utimer_create.flags: the timer gets utimer_create.id or CREATE fails (EBUSY when taken). */
#define UTIMER_CREATE_ID	(1U << 0)
/*
 * utimer_create.flags: a persistent timer, which belongs to no file descriptor: it lives until
 * UTIMER_IOCTL_REMOVE or the module's unload, and writers drive it through UTIMER_IOCTL_ATTACH.
 * No fd is made (fd is written back as -1).  Needs CAP_SYS_ADMIN (EPERM otherwise); not counted
 * against max_user_timers.  The module's timers= parameter makes the same timers at load time.
 */
#define UTIMER_CREATE_PERSIST	(1U << 1)
/*
 * utimer_create.flags, with UTIMER_CREATE_PERSIST only: utimer_create.holdover is the number of
 * periods (of the timer's resolution) without a TRIGGER after which the module ticks the timer
 * itself (holdover), 0 for never, at most UTIMER_MAX_HOLDOVER.  Without it: the module's
 * holdover parameter (2 by default).
 */
#define UTIMER_CREATE_HOLDOVER	(1U << 2)
#define UTIMER_MAX_HOLDOVER	1000

/*
 * The resolutions UTIMER_IOCTL_CREATE_EXT accepts: those every consumer can run at one tick per
 * TRIGGER.  Below 100 us the ALSA core refuses to start a one-tick instance (snd_timer_start),
 * as snd-aloop's is; above UINT32_MAX ns the value does not fit the 32-bit resolution fields
 * consumers see (struct snd_timer_read, snd-aloop's runtime->timer_resolution).
 */
#define UTIMER_MIN_RESOLUTION	100000ULL
#define UTIMER_MAX_RESOLUTION	4294967295ULL

/*
 * UTIMER_IOCTL_CREATE_EXT, on UTIMER_DEVICE: a timer, whose id and fd are written back as
 * UTIMER_IOCTL_CREATE does.  Errors: EINVAL (flags or reserved not 0, resolution out of range,
 * with UTIMER_CREATE_ID an id not below max_timers), EBUSY (with UTIMER_CREATE_ID: the id is
 * taken, by a timer of ours or of the kernel's own CONFIG_SND_UTIMER), and those of
 * UTIMER_IOCTL_CREATE.
 */
#define UTIMER_IOCTL_CREATE_EXT	_IOWR('u', 0xa5, struct utimer_create)

/*
 * Persistent timers: made at load time (timers= parameter) or by UTIMER_IOCTL_CREATE_EXT with
 * UTIMER_CREATE_PERSIST; snd-aloop and /dev/snd/timer clients may open them before any writer
 * runs.  A writer attaches to one and gets a file descriptor on which UTIMER_IOCTL_TRIGGER (the
 * same number as SNDRV_TIMER_IOCTL_TRIGGER) fires a tick; closing it only detaches.
 *
 * Holdover: while a consumer runs on a persistent timer whose holdover is not 0, the module
 * watches it once per period; after `holdover` periods in a row without a TRIGGER it ticks the
 * timer itself, once per period, first `holdover` ticks at once for the periods that passed, so
 * that consumers (snd-aloop's capture side) keep moving: silence while nobody writes.  The first
 * TRIGGER takes the clock back (the watchdog's next check sees it and does not tick), and the
 * module ticks no more until `holdover` periods pass without one again.  Nothing runs while no
 * consumer does.
 */
struct utimer_attach {
	__u32 id;		/* in: the persistent timer's id */
	__u32 flags;		/* in: 0 */
	__s32 fd;		/* out: the writer's file descriptor (O_CLOEXEC) */
	__u32 reserved[5];	/* in: 0 */
};

/*
 * UTIMER_IOCTL_ATTACH, on UTIMER_DEVICE: become the writer of a persistent timer.  One writer at
 * a time.  Errors: EINVAL (flags or reserved not 0), ENOENT (no timer has this id), EBUSY (the
 * timer has a writer, or it is not persistent: an fd from CREATE owns it), EMFILE, ENOMEM.
 * Attaching takes the clock as UTIMER_IOCTL_TAKE does.
 */
#define UTIMER_IOCTL_ATTACH	_IOWR('u', 0xa6, struct utimer_attach)

struct utimer_remove {
	__u32 id;		/* in: the persistent timer's id */
	__u32 flags;		/* in: 0 */
	__u32 reserved[2];	/* in: 0 */
};

/*
 * UTIMER_IOCTL_REMOVE, on UTIMER_DEVICE: destroy a persistent timer; its consumers are closed as
 * when an owned timer's fd closes.  Errors: EPERM (no CAP_SYS_ADMIN), EINVAL (flags or reserved
 * not 0), ENOENT (no persistent timer has this id), EBUSY (a writer is attached).
 */
#define UTIMER_IOCTL_REMOVE	_IOW('u', 0xa7, struct utimer_remove)

/*
 * UTIMER_IOCTL_TAKE, on a writer's fd: take the clock now.  Holdover stops (a holdover tick in
 * progress completes first) and starts again only after `holdover` periods without a TRIGGER.
 * A writer that puts data in front of the timer's consumer (the utimer PCM) calls it before
 * writing after a pause, so that no holdover tick moves data the writer has not triggered yet.
 * Returns 1 if the timer was in holdover, 0 if not.
 */
#define UTIMER_IOCTL_TAKE	_IO('u', 0xa8)

/*
 * The resolution, in ns, that snd-aloop requires of a timer driving a PCM at @rate Hz with
 * @period_frames frames per period: the period's duration exactly as the kernel computes it
 * (snd_pcm_timer_resolution_change() in sound/core/pcm_native.c), which aloop compares with
 * the timer's resolution for equality.  1e9 * period / rate rounded down, computed with the
 * kernel's reductions so it agrees with it bit for bit; 0 if the kernel would reject the pair.
 */
static inline __u64 utimer_resolution(__u64 rate, __u64 period_frames)
{
	__u64 mult = 1000000000ULL, fsize = period_frames, post = 1, a, b, t;

	if (rate == 0 || period_frames == 0)
		return 0;
	/* l = gcd(mult, rate) */
	for (a = mult, b = rate; b; t = a % b, a = b, b = t)
		;
	mult /= a;
	rate /= a;
	/* l = gcd(rate, fsize) */
	for (a = rate, b = fsize; b; t = a % b, a = b, b = t)
		;
	rate /= a;
	fsize /= a;
	while ((mult * fsize) / fsize != mult) {
		mult /= 2;
		post *= 2;
	}
	return (mult * fsize / rate) * post;
}

#endif /* _UAPI_RUST_UTIMER_H */
