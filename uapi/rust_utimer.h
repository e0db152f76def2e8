/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * rust_utimer: userspace-driven ALSA timers on kernels without CONFIG_SND_UTIMER.
 *
 * The ABI is upstream's (include/uapi/sound/asound.h, Linux 6.12+), byte for byte: a program
 * written for upstream works unchanged by opening UTIMER_DEVICE instead of /dev/snd/timer.
 * The names below carry a UTIMER_ prefix so this header can be included beside <sound/asound.h>
 * of any age; the values are the same (checked by selftests/abi_test.c).
 */
#ifndef _UAPI_RUST_UTIMER_H
#define _UAPI_RUST_UTIMER_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The device that creates timers (upstream: /dev/snd/timer). */
#define UTIMER_DEVICE "/dev/utimer"

/* struct snd_timer_uinfo */
struct utimer_uinfo {
	__u64 resolution;	/* in: nanoseconds per tick, UTIMER_MIN_RESOLUTION..UTIMER_MAX_RESOLUTION */
	int fd;			/* out: the timer's file descriptor (O_CLOEXEC); close it to destroy */
	unsigned int id;	/* out: subdevice of (SNDRV_TIMER_CLASS_GLOBAL, UTIMER_GLOBAL_DEVICE) */
	unsigned char reserved[16];	/* in: zero (rust_utimer refuses anything else: EINVAL) */
};

/*
 * The resolutions rust_utimer accepts (upstream takes any non-zero value).  Below 100 us the ALSA
 * core refuses to start a one-tick instance (snd_timer_start), as snd-aloop's is; above
 * UINT32_MAX ns the value does not fit the 32-bit resolution fields consumers see
 * (struct snd_timer_read, snd-aloop's runtime->timer_resolution).
 */
#define UTIMER_MIN_RESOLUTION	100000ULL
#define UTIMER_MAX_RESOLUTION	4294967295ULL

/*
 * SNDRV_TIMER_IOCTL_CREATE, on UTIMER_DEVICE.  Errors: EINVAL (resolution out of range, reserved
 * not zero), EFAULT (argument not readable or writable; nothing is left behind), ENOSPC (all
 * max_timers ids taken), EDQUOT (the caller's real uid holds max_user_timers timers and the
 * caller lacks CAP_SYS_RESOURCE), EMFILE/ENFILE, ENOMEM.
 */
#define UTIMER_IOCTL_CREATE	_IOWR('T', 0xa5, struct utimer_uinfo)
/* SNDRV_TIMER_IOCTL_TRIGGER, on the timer's fd: one tick */
#define UTIMER_IOCTL_TRIGGER	_IO('T', 0xa6)
/* SNDRV_TIMER_GLOBAL_UDRIVEN: the global timer device our timers are (subdevice = id) */
#define UTIMER_GLOBAL_DEVICE	4

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
