/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the stress programs (stress_run, stress_fuzz, stress_failnth, stress_close_in_use) and
 * utimer_hold share: the control fd, CREATE by resolution, "# stat NAME VALUE" lines (which
 * testing/stress tabulates), the capacity check each program ends with, /dev/snd/timer clients
 * through alsa-lib, and an snd-aloop cable streaming the test pattern on a utimer.
 */
#ifndef STRESS_H
#define STRESS_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "aloop_helpers.h"
#include "utimer_helpers.h"

#define FAILSLAB "/sys/kernel/debug/failslab/"
#define RES_1MS 1000000ULL	/* 48 frames at 48 kHz: aloop's period, and /dev/snd/timer's floor */

static int ctl;		/* UTIMER_DEV */

/* ctl, or "Bail out!". */
static inline void open_ctl_or_bail(void)
{
	ctl = open_ctl();
	if (ctl < 0)
		ksft_exit_fail_msg("open %s: %s\n", utimer_dev(), strerror(errno));
}

/* A "# stat NAME VALUE" line. */
static inline void report(const char *name, unsigned long value)
{
	diag("stat %s %lu", name, value);
}

/* xorshift64*: each thread has its own state. */
static inline uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* CREATE at `res` on ctl: the fd (id in *id), or -errno. */
static inline int new_timer(__u64 res, unsigned int *id)
{
	struct utimer_uinfo u;
	int err = create(ctl, res, &u);

	if (err)
		return err;
	if (id)
		*id = u.id;
	return u.fd;
}

static inline int write_file(const char *path, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int fd, n, ok;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, buf, n) == n;
	close(fd);
	return ok ? 0 : -1;
}

/* The debugfs listing's header: live timers (and *max the capacity), or -1. */
static inline int listing_live(int *max)
{
	FILE *f = fopen(LISTING, "r");
	int m = -1, live = -1, q;

	if (!f && system("mount -t debugfs none /sys/kernel/debug 2>/dev/null") >= 0)
		f = fopen(LISTING, "r");
	if (!f)
		return -1;
	if (fscanf(f, "# max_timers %d max_user_timers %d live %d", &m, &q, &live) != 3)
		live = -1;
	fclose(f);
	if (max)
		*max = m;
	return live;
}

/*
 * The last result of each program: no timer left, and the whole id space can be created again, lowest id first
 * (an id lost anywhere shows as a gap or an early ENOSPC), then ENOSPC; all closed again.
 */
static inline void capacity_check(const char *mode)
{
	int max = 0, live = listing_live(&max), i, fd, ok = live == 0 && max > 0;
	int *fds = ok ? calloc(max, sizeof(*fds)) : NULL;
	unsigned int id = 0;

	if (live != 0)
		diag("%s: %d timers still live after the run", mode, live);
	for (i = 0; ok && fds && i < max; i++) {
		fds[i] = fd = new_timer(RES_1MS, &id);
		if (fd < 0 || id != (unsigned int)i) {
			diag("%s: CREATE %d of %d: %s, id %u", mode, i + 1, max,
			     fd < 0 ? strerror(-fd) : "ok", id);
			ok = 0;
			break;
		}
	}
	if (ok && (fd = new_timer(RES_1MS, NULL)) != -ENOSPC) {
		diag("%s: CREATE beyond capacity %d: %d, want ENOSPC", mode, max, fd);
		if (fd >= 0)
			close(fd);
		ok = 0;
	}
	while (fds && i-- > 0)
		close(fds[i]);
	free(fds);
	if (ok && listing_live(NULL) != 0)
		ok = 0;
	ksft_test_result(ok, "%s_leaves_every_id_free_and_recreatable\n", mode);
}

/* Poll the client up to timeout_ms, then read every record it has: how many, or -errno. */
static inline long client_records(snd_timer_t *t, int timeout_ms)
{
	struct pollfd p;
	snd_timer_read_t r[16];
	long n = 0, got;

	if (snd_timer_poll_descriptors(t, &p, 1) != 1)
		return -EINVAL;
	if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	while ((got = snd_timer_read(t, r, sizeof(r))) > 0)
		n += got / (long)sizeof(r[0]);
	return got < 0 && got != -EAGAIN && got != -EINTR ? got : n;
}

/* An snd-aloop stream of the test pattern on cable 0, 48 kHz, 48 frames (1 ms) a period. */
struct cable {
	struct stream_cfg cfg;
	snd_pcm_t *play, *cap;
	short *buf;
	unsigned long written, read;
};

static inline void cable_close(struct cable *c)
{
	aloop_close_cable(c->play, c->cap);
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

/* Point aloop at timer id, open the cable (capture in cap_mode), prefill, start. */
static inline int cable_open(struct cable *c, unsigned int id, unsigned int periods,
			     int prefill, int cap_mode)
{
	size_t bytes;
	int err;

	memset(c, 0, sizeof(*c));
	c->cfg = (struct stream_cfg){ 48000, 48 };
	bytes = (size_t)c->cfg.period * CHANNELS * sizeof(short);
	if (aloop_point_at(id) || !(c->buf = malloc(bytes)))
		return -ENODEV;
	if ((err = aloop_open_cable(&c->cfg, periods, &c->play, &c->cap, cap_mode)) < 0)
		return err;
	for (int i = 0; i < prefill; i++) {
		aloop_fill(c->buf, c->written, c->cfg.period);
		if ((err = snd_pcm_writei(c->play, c->buf, c->cfg.period)) != (int)c->cfg.period)
			return err < 0 ? err : -EIO;
		c->written += c->cfg.period;
	}
	if ((err = snd_pcm_start(c->cap)) < 0 || (err = snd_pcm_start(c->play)) < 0)
		return err;
	return 0;
}

/*
 * Read one period from the capture (waiting up to timeout_ms; 0: a blocking read, as long as
 * ALSA waits), check it is the next one of the pattern, write the next period to the playback.  1 if it matched, 0 if not, or an ALSA error.
 */
static inline int cable_period(struct cable *c, int timeout_ms)
{
	unsigned int p = c->cfg.period;
	int err, same = 1;

	if (timeout_ms && snd_pcm_wait(c->cap, timeout_ms) < 0 &&
	    snd_pcm_avail_update(c->cap) < (long)p)
		return -EIO;
	err = snd_pcm_readi(c->cap, c->buf, p);
	if (err != (int)p)
		return err < 0 ? err : -EIO;
	for (unsigned int f = 0; f < p; f++)
		for (int ch = 0; ch < CHANNELS; ch++)
			same &= c->buf[f * CHANNELS + ch] == aloop_pattern(c->read + f, ch);
	c->read += p;
	aloop_fill(c->buf, c->written, p);
	err = snd_pcm_writei(c->play, c->buf, p);
	if (err != (int)p)
		return err < 0 ? err : -EIO;
	c->written += p;
	return same;
}

#endif /* STRESS_H */
