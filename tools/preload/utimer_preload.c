// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD library: run programs written for upstream's CONFIG_SND_UTIMER on a kernel without
 * it, with rust_utimer loaded.  Such programs open /dev/snd/timer and issue
 * SNDRV_TIMER_IOCTL_CREATE on it; a kernel without CONFIG_SND_UTIMER answers ENOTTY.  Only then
 * (or always, with UTIMER_PRELOAD_FORCE=1) this library issues the same CREATE, with the same
 * argument, on /dev/utimer and returns its result: the same struct filled in, the same errnos,
 * and a timer fd that TRIGGER and close work on as upstream's.  Every other ioctl, and CREATE on
 * any other fd, goes straight to the C library.  Like aoss for OSS programs.
 *
 *   LD_PRELOAD=libutimer-preload.so PROGRAM ARGS...     (or: utimer-run PROGRAM ARGS...)
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../../uapi/rust_utimer.h"

/* ALSA's character devices: major 116; the timer is minor 33 (include/sound/minors.h). */
#define ALSA_MAJOR		116
#define ALSA_TIMER_MINOR	33

typedef int (*ioctl_fn)(int, unsigned long, ...);

static ioctl_fn next_ioctl(void)
{
	static ioctl_fn next;

	if (!next)
		next = (ioctl_fn)dlsym(RTLD_NEXT, "ioctl");
	return next;
}

static int is_snd_timer(int fd)
{
	struct stat st;

	return !fstat(fd, &st) && S_ISCHR(st.st_mode) && major(st.st_rdev) == ALSA_MAJOR &&
	       minor(st.st_rdev) == ALSA_TIMER_MINOR;
}

/* CREATE through /dev/utimer; `err` is what the kernel's own CREATE said (ENOTTY, or 0 if forced). */
static int create_on_utimer(void *arg, int err)
{
	int ctl = open(UTIMER_DEVICE, O_RDWR | O_CLOEXEC), ret, e;

	if (ctl < 0) {
		e = errno;
		fprintf(stderr, "utimer-preload: %s: %s%s\n", UTIMER_DEVICE, strerror(e),
			e == ENOENT ? " (is rust_utimer loaded?)" : "");
		/* What the program would have seen without us. */
		errno = err ? err : e;
		return -1;
	}
	ret = next_ioctl()(ctl, UTIMER_IOCTL_CREATE, arg);
	e = errno;
	close(ctl);
	errno = e;
	return ret;
}

int ioctl(int fd, unsigned long request, ...)
{
	const char *force = getenv("UTIMER_PRELOAD_FORCE");
	ioctl_fn next = next_ioctl();
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	if ((unsigned int)request != UTIMER_IOCTL_CREATE || !is_snd_timer(fd))
		return next(fd, request, arg);
	if (force && !strcmp(force, "1"))
		return create_on_utimer(arg, 0);
	ret = next(fd, request, arg);
	if (ret >= 0 || errno != ENOTTY)
		return ret;
	return create_on_utimer(arg, ENOTTY);
}
