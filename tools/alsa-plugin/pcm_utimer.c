// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The utimer PCM: any ALSA program drives snd-aloop by writing to it.
 *
 *   pcm.netaudio { type utimer; slave.pcm "hw:Loopback,0,0"; timer 0 }
 *
 * An alsa-lib I/O plugin (<alsa/pcm_external.h>) in front of the playback side of a loopback
 * cable whose snd-aloop clock is a rust_utimer timer (timer_source=-1.4.<timer>).  What the
 * program writes is committed to the slave at once, and each time one whole slave period has
 * been committed (and the stream runs) the plugin fires one TRIGGER: snd-aloop then moves that
 * period to the capture side.  The cable thus runs at the pace the program writes, never ahead
 * of its data; drain pads the last partial period with silence so that every frame arrives.
 *
 * The timer, at open:
 * - timer <timer> is a persistent timer (rust_utimer's timers= parameter, or utimer create
 *   --persist): the plugin attaches to it as its writer (UTIMER_IOCTL_ATTACH) and detaches on
 *   close; the timer, and a capture side open on it, stay.  Its resolution (the writer fd's
 *   fdinfo, utimer-resolution) must be utimer_resolution(rate, period_size) of this PCM's rate
 *   and period (as configured, or the defaults): otherwise open fails, saying both and what to
 *   set.  A timer that has a writer already (or that a program's own fd owns) fails with EBUSY,
 *   saying so (with the writer's pid where rust_utimer's debugfs listing is readable);
 * - no timer has that id: the plugin owns a timer of its own, as before persistent timers: it
 *   creates it (UTIMER_IOCTL_CREATE_EXT with the id, at utimer_resolution(rate, period_size))
 *   and closes it on close, which destroys it.  Nothing below applies to it.
 *
 * Holdover (persistent timers only): while a capture side runs on the timer and no TRIGGER has
 * come for `holdover` periods (the writer fd's fdinfo, utimer-holdover; 0: never), the module
 * ticks the timer itself, one period each, which snd-aloop moves from the slave if it runs.  So:
 * - the plugin takes the clock (UTIMER_IOCTL_TAKE: no holdover tick for `holdover` periods
 *   from its return) before it starts the slave, before it resumes it from pause, and before it
 *   commits data (or drain's padding) whenever more than (holdover - 1/2) periods of
 *   CLOCK_MONOTONIC have passed since its last TRIGGER or TAKE: no holdover tick ever moves data
 *   committed but not triggered yet, and no TRIGGER moves a period the program has not written;
 * - the slave has silence fill (sw_params silence_threshold 0, silence_size the boundary): the
 *   kernel silences each period as it is played, so what holdover moves from the slave while
 *   the program writes nothing (its stream running) is silence, never old data;
 * - before committing (and on resuming from pause), the plugin resyncs: if holdover moved the
 *   slave's hardware pointer past its application pointer (avail above the buffer size), the
 *   application pointer is moved up to it (snd_pcm_forward() by the excess), and a partial
 *   period that a holdover tick sent (padded with the silence after it) counts as sent: the
 *   next whole period starts with the next frame written, and drain pads nothing for it.  The
 *   program's hardware pointer is the frames of its own that have gone, so it never sees an
 *   xrun: to it, the stall is a pause of its own.
 * A paused slave does not move (snd-aloop moves the capture side alone, with silence).  A
 * program that writes whole periods (aplay --period-size=<period_size>) gets them on the
 * capture side whole, in order and period-aligned, with silence where it stalled for longer
 * than the holdover.  One that writes in bursts further apart than the holdover (a network
 * receiver's chunks) gets silence between them, and its partial periods sent padded: give
 * the timer a holdover longer than the bursts' spacing (timers=ID:RATE/FRAMES:HOLDOVER).
 *
 * Configuration (all but type optional):
 *   slave.pcm STR      the loopback's playback PCM (default "hw:Loopback,0,0")
 *   timer INT          the timer's id, 0 .. max_timers - 1 (default 0)
 *   rate INT           the stream's rate, the only one this PCM offers (default, or 0: 48000): a
 *                      program asking for another gets this one (snd_pcm_hw_params_set_rate_near);
 *                      pcm.utimer (60-utimer.conf) wraps it in plug, which resamples
 *   period_size INT    frames per TRIGGER, the slave's period (default, or 0: rate / 100, 10 ms)
 *   format STR         the one sample format offered (default, or "": all the slave can run)
 *   channels INT       the one channel count offered (default, or 0: all the slave can run)
 *   device STR         "auto" (default): /dev/utimer (rust_utimer), or where it does not exist
 *                      /dev/snd/timer, a kernel's own utimers (CONFIG_SND_UTIMER: Ubuntu's,
 *                      CachyOS's), whose CREATE gives the lowest free id: it must be `timer`;
 *                      or either one alone
 *
 * The program's own period and buffer sizes are its own: they need not match the slave's (where
 * one format and channel count is all it can have, its period is a whole number of the slave's:
 * utimer_constrain).  Its pointers are its own too: snd_pcm_rewind() takes back what is not
 * triggered yet (up to a period less a frame: snd_pcm_rewindable() says how much),
 * snd_pcm_forward() sends silence,
 * snd_pcm_reset() drops what waits.  Nothing waits for snd-aloop: it takes each TRIGGER's
 * period inside the ioctl, and a TRIGGER that moved nothing, or a slave that did not start or
 * resume, is an error at once (-EPIPE, -ESTRPIPE when the slave is in xrun or suspended).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>

#include "rust_utimer.h"

#define DEFAULT_SLAVE "hw:Loopback,0,0"
/* Upstream's utimers (CONFIG_SND_UTIMER): SNDRV_TIMER_IOCTL_CREATE on the ALSA timer device. */
#define UPSTREAM_DEVICE "/dev/snd/timer"
#define DEFAULT_RATE 48000
/* The largest buffer a program may ask for: half of snd-aloop's 2 MiB, the slave's is larger. */
#define MAX_BUFFER_BYTES (1024 * 1024)
/* rust_utimer's listing of its timers (debugfs, root): who holds a timer that is busy. */
#define LISTING "/sys/kernel/debug/rust_utimer/timers"

struct utimer_pcm {
	snd_pcm_ioplug_t io;
	snd_pcm_t *slave;
	char *slave_name;
	int timer_fd;			/* the timer (closing it destroys it), or the writer's fd of
					 * a persistent one (closing it detaches) */
	enum { DEVICE_AUTO, DEVICE_OURS, DEVICE_UPSTREAM } device; /* UTIMER_DEVICE, else
					 * UPSTREAM_DEVICE when it is missing; or the one configured */
	unsigned int id;
	int persistent;			/* attached to a persistent timer */
	unsigned int holdover;		/* its holdover, in periods; 0: never */
	int64_t clock_ns;		/* CLOCK_MONOTONIC of the last TRIGGER or TAKE (or ATTACH) */
	unsigned int rate;		/* the stream's rate the timer was made for */
	snd_pcm_format_t format;	/* the one offered, or SND_PCM_FORMAT_UNKNOWN: the slave's */
	unsigned int channels;		/* the count offered, or 0: the slave's */
	snd_pcm_uframes_t period;	/* frames per TRIGGER: the slave's period size */
	uint64_t resolution;
	snd_pcm_uframes_t slave_buffer;
	snd_pcm_uframes_t boundary;	/* the program's pointer boundary (sw_params) */
	snd_pcm_uframes_t avail_min;	/* the slave's, for the program's (sw_params) */
	/*
	 * Since prepare: the program's application pointer as the plugin has accounted for it
	 * (ioplug moves io->appl_ptr with no callback on rewind, forward and reset: utimer_sync
	 * catches up), the hardware pointer utimer_pointer() gave last, the frames in the slave not
	 * triggered yet and how many of those are drain's silence; whether the slave runs (started,
	 * not paused).
	 */
	snd_pcm_uframes_t appl;
	snd_pcm_uframes_t hw;
	snd_pcm_uframes_t pending;
	snd_pcm_uframes_t pad;
	int running;
	snd_pcm_state_t suspended_from;	/* the program's state when the slave was suspended */
};

static int64_t utimer_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* @a - @b on the program's pointers, which wrap at the boundary (sw_params). */
static snd_pcm_uframes_t utimer_ptr_sub(struct utimer_pcm *u, snd_pcm_uframes_t a,
					 snd_pcm_uframes_t b)
{
	return a >= b || !u->boundary ? a - b : u->boundary - b + a;
}

/* @a + @n on the program's pointers. */
static snd_pcm_uframes_t utimer_ptr_add(struct utimer_pcm *u, snd_pcm_uframes_t a,
					 snd_pcm_uframes_t n)
{
	a += n;
	return u->boundary && a >= u->boundary ? a - u->boundary : a;
}

/*
 * The frames in the slave that snd-aloop has not taken yet (0 when holdover moved its hardware
 * pointer past its data), or the slave's error: -EPIPE (xrun), -ESTRPIPE (suspended).
 */
static int utimer_slave_fill(struct utimer_pcm *u, snd_pcm_uframes_t *fill)
{
	snd_pcm_sframes_t avail = snd_pcm_avail_update(u->slave);

	*fill = 0;
	if (avail < 0)
		return avail;
	if ((snd_pcm_uframes_t)avail < u->slave_buffer)
		*fill = u->slave_buffer - avail;
	return 0;
}

/*
 * The slave's xrun, suspension or disconnection is the program's: ioplug's state set to the
 * same (a negative pointer() alone would make each of them an xrun), and the error for the
 * call that met it; 0 when the slave is in none of them.  Suspended, the program resumes
 * (utimer_resume) to the state it had.
 */
static int utimer_slave_state(struct utimer_pcm *u)
{
	switch (snd_pcm_state(u->slave)) {
	case SND_PCM_STATE_XRUN:
		snd_pcm_ioplug_set_state(&u->io, SND_PCM_STATE_XRUN);
		return -EPIPE;
	case SND_PCM_STATE_SUSPENDED:
		if (u->io.state != SND_PCM_STATE_SUSPENDED) {
			u->suspended_from = u->io.state;
			snd_pcm_ioplug_set_state(&u->io, SND_PCM_STATE_SUSPENDED);
		}
		return -ESTRPIPE;
	case SND_PCM_STATE_DISCONNECTED:
		snd_pcm_ioplug_set_state(&u->io, SND_PCM_STATE_DISCONNECTED);
		return -ENODEV;
	default:
		return 0;
	}
}

/*
 * A TRIGGER moved nothing, or the slave did not start or resume: the slave's own error, or it
 * is not running on the timer.  snd-aloop starts its clock when the cable's first stream
 * starts; a timer that a /dev/snd/timer client started before it makes that a "delayed start"
 * (sound/core/timer.c), which the PCM core undoes although the call succeeds.
 */
static int utimer_stuck(struct utimer_pcm *u, const char *what)
{
	int err = utimer_slave_state(u);

	if (err < 0)
		return err;
	SNDERR("utimer: %s: %s is %s, not running on timer %u (another program started the timer "
	       "before snd-aloop did: start the loopback's streams first, or use another timer)",
	       what, u->slave_name, snd_pcm_state_name(snd_pcm_state(u->slave)), u->id);
	return -EIO;
}

/*
 * One TRIGGER per whole period committed to the slave, while it runs.  A utimer is
 * SNDRV_TIMER_HW_WORK, so snd-aloop's callback runs inside the TRIGGER ioctl
 * (Documentation/design.rst, "snd-aloop's callback runs inside TRIGGER"): when it returns, the
 * period has left the slave, or the TRIGGER moved nothing and that is an error at once (never a
 * wait, which would hold ioplug's lock).
 */
static int utimer_fire(struct utimer_pcm *u)
{
	snd_pcm_uframes_t fill;
	int err, fired = 0;

	if (!u->running)
		return 0;
	while (u->pending >= u->period) {
		if (ioctl(u->timer_fd, UTIMER_IOCTL_TRIGGER) < 0) {
			err = -errno;
			SNDERR("utimer: TRIGGER of timer %u failed: %s", u->id, strerror(-err));
			return err;
		}
		u->pending -= u->period;
		fired = 1;
		err = utimer_slave_fill(u, &fill);
		if (err < 0)
			return err;
		if (fill > u->pending)
			return utimer_stuck(u, "a TRIGGER moved nothing");
	}
	if (!u->pending)
		u->pad = 0;
	if (fired && u->persistent)
		u->clock_ns = utimer_now_ns();
	return 0;
}

/* Holdover is on: the timer is persistent and the module ticks it when no TRIGGER comes. */
static int utimer_holdover_on(struct utimer_pcm *u)
{
	return u->persistent && u->holdover;
}

/* UTIMER_IOCTL_TAKE: no holdover tick comes for `holdover` periods from its return. */
static int utimer_take(struct utimer_pcm *u)
{
	int err;

	if (!utimer_holdover_on(u))
		return 0;
	if (ioctl(u->timer_fd, UTIMER_IOCTL_TAKE) < 0) {
		err = -errno;
		SNDERR("utimer: TAKE of timer %u failed: %s", u->id, strerror(-err));
		return err;
	}
	u->clock_ns = utimer_now_ns();
	return 0;
}

/*
 * After holdover ticks moved the slave (running, or paused since): its hardware pointer is past
 * its application pointer (avail above the buffer size) by frames of silence (silence fill) and
 * of a partial period that was waiting for its rest.  The application pointer goes up to the
 * hardware pointer, and nothing waits for a TRIGGER any more: the next period starts with the
 * next frame written, and to the program its frames are gone (its hardware pointer is its
 * application pointer less what the slave holds: utimer_pointer).  (A slave that has not
 * started since prepare has not moved: avail is at most its buffer.)
 */
static int utimer_resync(struct utimer_pcm *u)
{
	snd_pcm_sframes_t avail, n;
	snd_pcm_uframes_t excess;

	avail = snd_pcm_avail_update(u->slave);
	if (avail < 0)
		return avail;
	if ((snd_pcm_uframes_t)avail <= u->slave_buffer)
		return 0;
	excess = avail - u->slave_buffer;
	n = snd_pcm_forward(u->slave, excess);
	if (n < 0 || (snd_pcm_uframes_t)n != excess) {
		SNDERR("utimer: %s moved %lu frames ahead of the data in holdover, and cannot be "
		       "forwarded to it: %s", u->slave_name, excess,
		       n < 0 ? snd_strerror(n) : "it moved fewer");
		return n < 0 ? n : -EIO;
	}
	u->pending = 0;
	u->pad = 0;
	return 0;
}

/*
 * Before committing to the slave: while it runs, take the clock back if a holdover tick may
 * have come (or may come before the next TRIGGER), that is when more than (holdover - 1/2)
 * periods have passed since the last TRIGGER or TAKE (a holdover tick comes `holdover` periods
 * after them at the earliest); then resync with what holdover moved.
 */
static int utimer_hold(struct utimer_pcm *u)
{
	int err;

	if (!utimer_holdover_on(u))
		return 0;
	if (u->running && utimer_now_ns() - u->clock_ns >
			  (int64_t)((2 * (uint64_t)u->holdover - 1) * u->resolution / 2)) {
		err = utimer_take(u);
		if (err < 0)
			return err;
	}
	return utimer_resync(u);
}

/* The slave's avail_min (its poll descriptor is the program's). */
static int utimer_slave_avail_min(struct utimer_pcm *u, snd_pcm_uframes_t avail_min)
{
	snd_pcm_sw_params_t *sw;
	int err;

	snd_pcm_sw_params_alloca(&sw);
	if ((err = snd_pcm_sw_params_current(u->slave, sw)) < 0 ||
	    (err = snd_pcm_sw_params_set_avail_min(u->slave, sw, avail_min)) < 0)
		return err;
	return snd_pcm_sw_params(u->slave, sw);
}

/* Copy @size frames of @areas from @offset (or silence, @areas NULL) into the slave. */
static snd_pcm_sframes_t utimer_commit(struct utimer_pcm *u, const snd_pcm_channel_area_t *areas,
				       snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
	snd_pcm_uframes_t done = 0;

	while (done < size) {
		const snd_pcm_channel_area_t *sa;
		snd_pcm_uframes_t so, frames = size - done;
		snd_pcm_sframes_t avail, r;
		int err;

		avail = snd_pcm_avail_update(u->slave);
		if (avail < 0)
			return done ? (snd_pcm_sframes_t)done : avail;
		if (avail == 0)
			break;
		err = snd_pcm_mmap_begin(u->slave, &sa, &so, &frames);
		if (err < 0)
			return done ? (snd_pcm_sframes_t)done : err;
		if (areas)
			snd_pcm_areas_copy(sa, so, areas, offset + done, u->io.channels, frames,
					   u->io.format);
		else
			snd_pcm_areas_silence(sa, so, u->io.channels, frames, u->io.format);
		r = snd_pcm_mmap_commit(u->slave, so, frames);
		if (r < 0)
			return done ? (snd_pcm_sframes_t)done : r;
		done += r;
	}
	return done;
}

/*
 * Catch up with what ioplug did to the program's pointers without a callback (pcm_ioplug.c):
 * - snd_pcm_reset() zeroed both: the untriggered frames leave the slave;
 * - snd_pcm_rewind() moved the application pointer back: as many frames leave the slave, of
 *   those not triggered yet (what the program may rewind: snd_pcm_rewindable(), its
 *   application pointer less its hardware pointer); more is an error, -EPIPE;
 * - snd_pcm_forward() moved it ahead: as many frames of silence go into the slave, triggered
 *   as any once they make whole periods.
 */
static int utimer_sync(struct utimer_pcm *u)
{
	snd_pcm_ioplug_t *io = &u->io;
	snd_pcm_uframes_t fwd, back;
	snd_pcm_sframes_t n;

	if (io->hw_ptr != u->hw) {
		back = u->pending;
		u->appl = u->hw = io->hw_ptr;
		u->pending = u->pad = 0;
		if (back) {
			n = snd_pcm_rewind(u->slave, back);
			if (n < 0 || (snd_pcm_uframes_t)n != back) {
				SNDERR("utimer: %s cannot drop the %lu frames reset dropped: %s",
				       u->slave_name, back, n < 0 ? snd_strerror(n) : "it rewinds fewer");
				return n < 0 ? n : -EIO;
			}
		}
	}
	fwd = utimer_ptr_sub(u, io->appl_ptr, u->appl);
	if (!fwd)
		return 0;
	if (fwd <= io->buffer_size) {
		n = utimer_commit(u, NULL, 0, fwd);
		if (n < 0)
			return n;
		u->appl = utimer_ptr_add(u, u->appl, n);
		u->pending += n;
		if ((snd_pcm_uframes_t)n != fwd) {
			SNDERR("utimer: %s has no room for the %lu frames the program forwarded",
			       u->slave_name, fwd);
			return -EIO;
		}
		return utimer_fire(u);
	}
	back = utimer_ptr_sub(u, u->appl, io->appl_ptr);
	if (back > u->pending - u->pad) {
		SNDERR("utimer: the program rewound %lu frames, of which only %lu are not played yet",
		       back, u->pending - u->pad);
		return -EPIPE;
	}
	n = snd_pcm_rewind(u->slave, back);
	if (n < 0 || (snd_pcm_uframes_t)n != back) {
		SNDERR("utimer: %s cannot rewind the %lu frames the program rewound: %s",
		       u->slave_name, back, n < 0 ? snd_strerror(n) : "it rewinds fewer");
		return n < 0 ? n : -EIO;
	}
	u->appl = io->appl_ptr;
	u->pending -= back;
	return 0;
}

static snd_pcm_sframes_t utimer_transfer(snd_pcm_ioplug_t *io, const snd_pcm_channel_area_t *areas,
					 snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
	struct utimer_pcm *u = io->private_data;
	snd_pcm_sframes_t n;
	int err;

	err = utimer_hold(u);
	if (err < 0)
		return err;
	err = utimer_sync(u);
	if (err < 0)
		return err;
	n = utimer_commit(u, areas, offset, size);
	if (n <= 0)
		return n;
	/* ioplug moves io->appl_ptr by n once this returns. */
	u->appl = utimer_ptr_add(u, u->appl, n);
	u->pending += n;
	err = utimer_fire(u);
	return err < 0 ? err : n;
}

/*
 * The program's hardware pointer: its application pointer less the frames of its own the slave
 * still holds (not drain's silence).  The slave's state is the program's: its xrun -EPIPE
 * (ioplug makes that an xrun); suspended or disconnected, the state set (utimer_slave_state)
 * and the pointer unmoved, so that the program's next call fails with -ESTRPIPE or -ENODEV.
 * Modulo the boundary (SND_PCM_IOPLUG_FLAG_BOUNDARY_WA): a whole buffer can go in one start.
 */
static snd_pcm_sframes_t utimer_pointer(snd_pcm_ioplug_t *io)
{
	struct utimer_pcm *u = io->private_data;
	snd_pcm_uframes_t fill, own;
	int err;

	if (!u->slave_buffer)
		return 0;
	err = utimer_sync(u);
	if (err < 0)
		return err;
	err = utimer_slave_fill(u, &fill);
	if (err < 0) {
		switch (utimer_slave_state(u)) {
		case -ESTRPIPE:
		case -ENODEV:
			return u->hw;
		default:
			return err;
		}
	}
	own = fill > u->pad ? fill - u->pad : 0;
	if (own > utimer_ptr_sub(u, u->appl, u->hw))
		own = utimer_ptr_sub(u, u->appl, u->hw);
	u->hw = utimer_ptr_sub(u, u->appl, own);
	return u->hw;
}

static int utimer_start(snd_pcm_ioplug_t *io)
{
	struct utimer_pcm *u = io->private_data;
	int err;

	/* No holdover tick between the start and the first TRIGGER. */
	err = utimer_take(u);
	if (err < 0)
		return err;
	err = snd_pcm_start(u->slave);
	if (err < 0) {
		if (u->persistent)
			SNDERR("utimer: %s does not start: %s", u->slave_name, snd_strerror(err));
		else
			SNDERR("utimer: %s does not start: %s (is its capture side still open from "
			       "an earlier writer? it runs on that writer's timer, closed since: close "
			       "the capture and open it again once this PCM is open)",
			       u->slave_name, snd_strerror(err));
		return err;
	}
	if (snd_pcm_state(u->slave) != SND_PCM_STATE_RUNNING)
		return utimer_stuck(u, "it did not start");
	u->running = 1;
	return utimer_fire(u);
}

static int utimer_stop(snd_pcm_ioplug_t *io)
{
	struct utimer_pcm *u = io->private_data;

	u->running = 0;
	snd_pcm_drop(u->slave);
	return 0;
}

static int utimer_prepare(snd_pcm_ioplug_t *io)
{
	struct utimer_pcm *u = io->private_data;
	int err;

	/*
	 * The program may prepare from any state, the slave running too (an xrun of the program's
	 * own, such as a rewind past what waits): the kernel prepares only a stopped stream.
	 */
	u->running = 0;
	snd_pcm_drop(u->slave);
	err = snd_pcm_prepare(u->slave);
	if (err < 0)
		return err;
	/* As ioplug's own pointers (reset before this callback). */
	u->appl = u->hw = 0;
	u->pending = u->pad = 0;
	return u->avail_min ? utimer_slave_avail_min(u, u->avail_min) : 0;
}

static int utimer_pause(snd_pcm_ioplug_t *io, int enable)
{
	struct utimer_pcm *u = io->private_data;
	int err;

	/* Resumed, the periods written meanwhile go by TRIGGER, none by holdover. */
	if (!enable) {
		err = utimer_take(u);
		if (err < 0)
			return err;
	}
	err = snd_pcm_pause(u->slave, enable);
	if (err < 0)
		return err;
	/*
	 * Released, the slave must run: otherwise what waits in it stays there, ioplug keeps the
	 * program paused (the callback failed), and a later release tries again.
	 */
	if (!enable && snd_pcm_state(u->slave) != SND_PCM_STATE_RUNNING)
		return utimer_stuck(u, "it did not resume");
	u->running = !enable;
	if (!enable) {
		err = utimer_hold(u);
		if (err < 0)
			return err;
		err = utimer_sync(u);
		if (err < 0)
			return err;
	}
	return utimer_fire(u);
}

/*
 * Drain: start the slave if the program never did, pad the last partial period with silence and
 * trigger it.  Each TRIGGER's period leaves the slave inside the ioctl (utimer_fire checks it),
 * so the slave is empty when this returns and it never waits, blocking or not.  Not the slave's
 * own drain: it ends only at a period that elapses after it began, and none may come.
 */
static int utimer_drain(snd_pcm_ioplug_t *io)
{
	struct utimer_pcm *u = io->private_data;
	snd_pcm_sframes_t n;
	int err;

	err = utimer_sync(u);
	if (err < 0)
		return err;
	if (!u->running) {
		if (!u->pending)
			return 0;
		err = utimer_start(io);
		if (err < 0)
			return err;
	}
	/* (A partial period that holdover sent already needs no padding.) */
	err = utimer_hold(u);
	if (err < 0)
		return err;
	if (u->pending % u->period) {
		n = utimer_commit(u, NULL, 0, u->period - u->pending % u->period);
		if (n < 0)
			return n;
		u->pad += n;
		u->pending += n;
	}
	return utimer_fire(u);
}

static int utimer_hw_params(snd_pcm_ioplug_t *io, snd_pcm_hw_params_t *params)
{
	struct utimer_pcm *u = io->private_data;
	snd_pcm_hw_params_t *sp;
	snd_pcm_sw_params_t *sw;
	snd_pcm_uframes_t want;
	int err;

	(void)params;
	/*
	 * A partial period stays in the buffer until the program writes the rest of it.  (The
	 * constraint on the buffer's bytes says so where the frame's size is known at open.)
	 */
	if (io->buffer_size < u->period + io->period_size) {
		SNDERR("utimer: a buffer of %lu frames cannot hold a partial period of timer %u (%lu "
		       "frames) and a period of the program's (%lu): use a buffer of at least %lu frames",
		       io->buffer_size, u->id, u->period, io->period_size, u->period + io->period_size);
		return -EINVAL;
	}
	want = (io->buffer_size + u->period - 1) / u->period * u->period;
	if (want < 2 * u->period)
		want = 2 * u->period;
	snd_pcm_hw_params_alloca(&sp);
	snd_pcm_sw_params_alloca(&sw);
	if ((err = snd_pcm_hw_params_any(u->slave, sp)) < 0 ||
	    (err = snd_pcm_hw_params_set_rate_resample(u->slave, sp, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_access(u->slave, sp, SND_PCM_ACCESS_MMAP_INTERLEAVED)) < 0 ||
	    (err = snd_pcm_hw_params_set_format(u->slave, sp, io->format)) < 0 ||
	    (err = snd_pcm_hw_params_set_channels(u->slave, sp, io->channels)) < 0 ||
	    (err = snd_pcm_hw_params_set_rate(u->slave, sp, io->rate, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_period_size(u->slave, sp, u->period, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_buffer_size_min(u->slave, sp, &want)) < 0 ||
	    (err = snd_pcm_hw_params_set_buffer_size_first(u->slave, sp, &want)) < 0 ||
	    (err = snd_pcm_hw_params(u->slave, sp)) < 0) {
		SNDERR("utimer: %s refuses %s, %u channels, %u Hz, %lu frames per period: %s (is its "
		       "capture side open with other parameters?)",
		       u->slave_name, snd_pcm_format_name(io->format), io->channels, io->rate,
		       u->period, snd_strerror(err));
		return err;
	}
	snd_pcm_hw_params_get_buffer_size(sp, &u->slave_buffer);
	/*
	 * The slave never starts by itself (the plugin starts it), and never stops when empty:
	 * it empties after each whole period, and snd-aloop takes only what was triggered (or, on
	 * a persistent timer, what holdover moves: then silence, the kernel silencing each period
	 * as it is played).
	 */
	if ((err = snd_pcm_sw_params_current(u->slave, sw)) < 0 ||
	    (err = snd_pcm_sw_params_get_boundary(sw, &want)) < 0 ||
	    (err = snd_pcm_sw_params_set_start_threshold(u->slave, sw, want)) < 0 ||
	    (err = snd_pcm_sw_params_set_stop_threshold(u->slave, sw, want)) < 0 ||
	    (u->persistent &&
	     ((err = snd_pcm_sw_params_set_silence_threshold(u->slave, sw, 0)) < 0 ||
	      (err = snd_pcm_sw_params_set_silence_size(u->slave, sw, want)) < 0)) ||
	    (err = snd_pcm_sw_params(u->slave, sw)) < 0)
		return err;
	return 0;
}

/*
 * The program's avail_min, as the slave's: the slave's poll descriptor is the program's, and the
 * slave has (slave_buffer - buffer_size) frames more room than the program.  Bounded: up to a
 * period less one frame waits in the slave for the rest of its period, so the program's avail
 * can stay at buffer_size - period + 1 until it writes; a larger avail_min would never wake it.
 * (snd_pcm_sw_params() keeps the bounded value: the program reads it back.)
 */
static int utimer_sw_params(snd_pcm_ioplug_t *io, snd_pcm_sw_params_t *params)
{
	struct utimer_pcm *u = io->private_data;
	snd_pcm_uframes_t avail_min;

	snd_pcm_sw_params_get_boundary(params, &u->boundary);
	snd_pcm_sw_params_get_avail_min(params, &avail_min);
	if (avail_min > io->buffer_size - u->period + 1) {
		avail_min = io->buffer_size - u->period + 1;
		snd_pcm_sw_params_set_avail_min(io->pcm, params, avail_min);
	}
	u->avail_min = u->slave_buffer - io->buffer_size + avail_min;
	return utimer_slave_avail_min(u, u->avail_min);
}

static int utimer_hw_free(snd_pcm_ioplug_t *io)
{
	struct utimer_pcm *u = io->private_data;

	u->slave_buffer = 0;
	return snd_pcm_hw_free(u->slave);
}

static void utimer_free(struct utimer_pcm *u)
{
	if (u->slave)
		snd_pcm_close(u->slave);
	/*
	 * The last reference to an owned timer: rust_utimer destroys it, its id is free again.  A
	 * persistent timer's writer detaches; the timer stays, in holdover once its capture side
	 * has seen no TRIGGER for `holdover` periods.
	 */
	if (u->timer_fd >= 0)
		close(u->timer_fd);
	free(u->slave_name);
	free(u);
}

static int utimer_close(snd_pcm_ioplug_t *io)
{
	utimer_free(io->private_data);
	return 0;
}

static void utimer_dump(snd_pcm_ioplug_t *io, snd_output_t *out)
{
	struct utimer_pcm *u = io->private_data;

	snd_output_printf(out, "utimer: timer %u (-1.4.%u), %llu ns per TRIGGER, %lu frames at %u Hz\n",
			  u->id, u->id, (unsigned long long)u->resolution, u->period, u->rate);
	if (u->persistent)
		snd_output_printf(out, "Persistent, attached as its writer; holdover after %u "
				  "periods%s\n", u->holdover, u->holdover ? "" : " (never)");
	snd_output_printf(out, "Its setup is:\n");
	snd_pcm_dump_setup(io->pcm, out);
	snd_output_printf(out, "Slave: ");
	snd_pcm_dump(u->slave, out);
}

/*
 * Resume after the slave was suspended (utimer_slave_state): the clock taken first, then the
 * slave resumed, and the program back in the state it had, its whole periods triggered.
 * ioplug ignores what this returns, so the state says it: still SUSPENDED when the slave asks
 * to be retried (-EAGAIN), XRUN when it cannot resume (the program prepares, as after any
 * xrun).
 */
static int utimer_resume(snd_pcm_ioplug_t *io)
{
	struct utimer_pcm *u = io->private_data;
	int err;

	if (io->state != SND_PCM_STATE_SUSPENDED)
		return 0;
	err = utimer_take(u);
	if (err >= 0)
		err = snd_pcm_resume(u->slave);
	if (err == -EAGAIN)
		return err;
	if (err < 0) {
		snd_pcm_ioplug_set_state(io, SND_PCM_STATE_XRUN);
		return err;
	}
	snd_pcm_ioplug_set_state(io, u->suspended_from);
	if (!u->running)
		return 0;
	if (snd_pcm_state(u->slave) != SND_PCM_STATE_RUNNING)
		return utimer_stuck(u, "it did not resume");
	err = utimer_hold(u);
	return err < 0 ? err : utimer_fire(u);
}

/* The slave's poll descriptors are the program's (a52's way). */
static int utimer_poll_descriptors_count(snd_pcm_ioplug_t *io)
{
	struct utimer_pcm *u = io->private_data;

	return snd_pcm_poll_descriptors_count(u->slave);
}

static int utimer_poll_descriptors(snd_pcm_ioplug_t *io, struct pollfd *pfd, unsigned int space)
{
	struct utimer_pcm *u = io->private_data;

	return snd_pcm_poll_descriptors(u->slave, pfd, space);
}

/*
 * The slave's events; an error event (its xrun, suspension, disconnection) sets the program's
 * state to the same, so that snd_pcm_wait() and a poll loop see -EPIPE, -ESTRPIPE or -ENODEV
 * (alsa-lib maps POLLERR through the PCM's state: RUNNING would give -EIO).
 */
static int utimer_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *pfd, unsigned int nfds,
			       unsigned short *revents)
{
	struct utimer_pcm *u = io->private_data;
	int err;

	err = snd_pcm_poll_descriptors_revents(u->slave, pfd, nfds, revents);
	if (err < 0)
		return err;
	if (*revents & POLLERR)
		utimer_slave_state(u);
	return 0;
}

static const snd_pcm_ioplug_callback_t utimer_callback = {
	.start = utimer_start,
	.stop = utimer_stop,
	.pointer = utimer_pointer,
	.transfer = utimer_transfer,
	.close = utimer_close,
	.hw_params = utimer_hw_params,
	.hw_free = utimer_hw_free,
	.sw_params = utimer_sw_params,
	.prepare = utimer_prepare,
	.drain = utimer_drain,
	.pause = utimer_pause,
	.resume = utimer_resume,
	.poll_descriptors_count = utimer_poll_descriptors_count,
	.poll_descriptors = utimer_poll_descriptors,
	.poll_revents = utimer_poll_revents,
	.dump = utimer_dump,
};

/* A persistent timer's resolution and holdover, from its writer fd's fdinfo. */
static int utimer_fdinfo(struct utimer_pcm *u, unsigned long long *resolution)
{
	char path[64], line[256];
	int found = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", u->timer_fd);
	f = fopen(path, "re");
	if (f) {
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "utimer-resolution: %llu", resolution) == 1)
				found |= 1;
			else if (sscanf(line, "utimer-holdover: %u", &u->holdover) == 1)
				found |= 2;
		}
		fclose(f);
	}
	if (found != 3) {
		SNDERR("utimer: %s does not give the resolution and holdover of timer %u (is "
		       "rust_utimer older than this plugin?)", path, u->id);
		return -EIO;
	}
	return 0;
}

/*
 * Timer @id is busy: it has a writer, or a program's fd owns it.  rust_utimer's listing, where
 * it can be read (root), says which; the message names what to do in either case.
 */
static void utimer_busy(struct utimer_pcm *u)
{
	char line[512], comm[64] = "", who[128] = "";
	unsigned int id;
	int persistent = -1, writer = 0;
	FILE *f = fopen(LISTING, "re");

	if (f) {
		while (fgets(line, sizeof(line), f)) {
			/* id uid pid resolution_ns triggers instances age_ms persistent writer ... */
			if (sscanf(line, "%u %*s %*s %*s %*s %*s %*s %d %d", &id, &persistent,
				   &writer) == 3 && id == u->id)
				break;
			persistent = -1;
		}
		fclose(f);
	}
	if (persistent == 0) {
		SNDERR("utimer: timer %u is taken by another program (utimer list shows it): "
		       "close that one, or set another \"timer\" in this PCM's configuration and "
		       "in snd-aloop's timer_source", u->id);
		return;
	}
	if (persistent == 1 && writer > 0) {
		snprintf(line, sizeof(line), "/proc/%d/comm", writer);
		f = fopen(line, "re");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = 0;
			fclose(f);
		}
		snprintf(who, sizeof(who), " (pid %d%s%s)", writer, comm[0] ? ", " : "", comm);
	}
	SNDERR("utimer: timer %u has a writer already%s%s: one writer at a time: close that one, "
	       "or set another \"timer\" in this PCM's configuration and in snd-aloop's "
	       "timer_source", u->id, who, persistent == 1 ? "" :
	       " (or a program's own timer has its id: utimer list, as root, shows which)");
}

/*
 * Persistent timer @id: attach to it as its writer.  1 attached, 0 when there is no persistent
 * timer to attach to (no timer has the id, or rust_utimer has no ATTACH), or an error, said.
 */
static int utimer_attach(struct utimer_pcm *u, int ctl)
{
	struct utimer_attach a = { .id = u->id };
	unsigned long long resolution = 0;
	int err;

	if (ioctl(ctl, UTIMER_IOCTL_ATTACH, &a) < 0) {
		err = -errno;
		switch (err) {
		case -ENOENT:
		case -ENOTTY:
		case -EINVAL:
			/* Nothing to attach to: create it (which says what is wrong with the id). */
			return 0;
		case -EBUSY:
			utimer_busy(u);
			return err;
		default:
			SNDERR("utimer: cannot attach to timer %u: %s", u->id, strerror(-err));
			return err;
		}
	}
	u->timer_fd = a.fd;
	u->persistent = 1;
	/* ATTACH took the clock. */
	u->clock_ns = utimer_now_ns();
	err = utimer_fdinfo(u, &resolution);
	if (err < 0)
		return err;
	if (resolution != u->resolution) {
		SNDERR("utimer: timer %u is a persistent timer of %llu ns per tick; this PCM's %lu "
		       "frames at %u Hz are %llu ns: set \"rate\" and \"period_size\" in this PCM's "
		       "configuration to those the timer was made for (its timers=%u:RATE/FRAMES), or "
		       "make timer %u for them (timers=%u:%u/%lu)",
		       u->id, resolution, u->period, u->rate, (unsigned long long)u->resolution,
		       u->id, u->id, u->id, u->rate, u->period);
		return -EINVAL;
	}
	return 1;
}

/*
 * The timer: persistent timer <timer>, attached to, or one of the plugin's own, made by
 * rust_utimer's CREATE_EXT with the configured id.
 */
/*
 * Upstream's utimers (a kernel with CONFIG_SND_UTIMER, no rust_utimer): SNDRV_TIMER_IOCTL_CREATE
 * on /dev/snd/timer (the same struct and number as UTIMER_IOCTL_CREATE) makes the lowest free
 * id, which cannot be asked for: it must be the configured one, else the message says which id
 * came and what to set.  Owned: closing the fd destroys it; no persistent timers there.
 * @quiet_enotty: a kernel without them is the caller's to report (-ENOTTY).
 */
static int utimer_create_upstream(struct utimer_pcm *u, int quiet_enotty)
{
	struct utimer_uinfo i = { .resolution = u->resolution };
	int ctl, err;

	ctl = open(UPSTREAM_DEVICE, O_RDONLY | O_CLOEXEC);
	if (ctl < 0) {
		err = -errno;
		SNDERR("utimer: cannot open " UPSTREAM_DEVICE ": %s", strerror(-err));
		return err;
	}
	if (ioctl(ctl, UTIMER_IOCTL_CREATE, &i) < 0) {
		err = -errno;
		close(ctl);
		if (err != -ENOTTY)
			SNDERR("utimer: " UPSTREAM_DEVICE " cannot create a timer of %llu ns: %s",
			       (unsigned long long)u->resolution, strerror(-err));
		else if (!quiet_enotty)
			SNDERR("utimer: " UPSTREAM_DEVICE " makes no timers: this kernel has no "
			       "CONFIG_SND_UTIMER (load rust_utimer and use " UTIMER_DEVICE ")");
		return err;
	}
	close(ctl);
	if (i.id != u->id) {
		close(i.fd);
		SNDERR("utimer: this kernel's own utimers (CONFIG_SND_UTIMER) gave timer %u, the lowest "
		       "free id, not timer %u: set \"timer %u\" in this PCM's configuration and "
		       "snd-aloop's timer_source=-1.4.%u, or close what holds timer %u (or load "
		       "rust_utimer: its timers take the id asked for)", i.id, u->id, i.id, i.id,
		       u->id);
		return -EBUSY;
	}
	u->timer_fd = i.fd;
	return 0;
}

static int utimer_create(struct utimer_pcm *u)
{
	struct utimer_create c = {
		.resolution = u->resolution,
		.flags = UTIMER_CREATE_ID,
		.id = u->id,
	};
	int ctl, err;

	if (u->device == DEVICE_UPSTREAM)
		return utimer_create_upstream(u, 0);
	ctl = open(UTIMER_DEVICE, O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		err = -errno;
		/* rust_utimer not loaded: the kernel's own utimers, where it has them. */
		if (err == -ENOENT && u->device == DEVICE_AUTO) {
			err = utimer_create_upstream(u, 1);
			if (err != -ENOTTY)
				return err;
			SNDERR("utimer: " UTIMER_DEVICE " does not exist: rust_utimer is not loaded "
			       "(modprobe rust_utimer), and this kernel has no utimers of its own "
			       "(CONFIG_SND_UTIMER)");
			return -ENOENT;
		}
		if (err == -ENOENT)
			SNDERR("utimer: " UTIMER_DEVICE " does not exist: rust_utimer is not loaded "
			       "(modprobe rust_utimer)");
		else if (err == -EACCES || err == -EPERM)
			SNDERR("utimer: no permission to open " UTIMER_DEVICE ": be in its group "
			       "(audio, with rust_utimer's udev rule)");
		else
			SNDERR("utimer: cannot open " UTIMER_DEVICE ": %s", strerror(-err));
		return err;
	}
	err = utimer_attach(u, ctl);
	if (err) {
		close(ctl);
		return err < 0 ? err : 0;
	}
	if (ioctl(ctl, UTIMER_IOCTL_CREATE_EXT, &c) < 0) {
		err = -errno;
		if (err == -EBUSY)
			SNDERR("utimer: timer %u is taken by another program (utimer list shows it): "
			       "close that one, or set another \"timer\" in this PCM's configuration "
			       "and in snd-aloop's timer_source", u->id);
		else if (err == -EINVAL)
			SNDERR("utimer: rust_utimer refuses timer %u at %llu ns (is the id below "
			       "its max_timers?)", u->id, (unsigned long long)u->resolution);
		else
			SNDERR("utimer: cannot create timer %u: %s", u->id, strerror(-err));
		close(ctl);
		return err;
	}
	close(ctl);
	u->timer_fd = c.fd;
	return 0;
}

/*
 * snd-aloop reads its clock from the card's timer_source when a cable opens: where the slave is
 * a loopback card that names another clock, the triggers would move nothing.
 */
static int utimer_check_source(struct utimer_pcm *u)
{
	snd_pcm_info_t *info;
	char path[64], src[64] = "";
	int card, dev, sub;
	FILE *f;

	snd_pcm_info_alloca(&info);
	if (snd_pcm_info(u->slave, info) < 0 || (card = snd_pcm_info_get_card(info)) < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/asound/card%d/timer_source", card);
	f = fopen(path, "re");
	if (!f)
		return 0;	/* not snd-aloop */
	if (!fgets(src, sizeof(src), f))
		src[0] = 0;
	fclose(f);
	src[strcspn(src, "\n")] = 0;
	if (sscanf(src, "%d.%d.%d", &card, &dev, &sub) == 3 && card == -1 &&
	    dev == UTIMER_GLOBAL_DEVICE && sub == (int)u->id)
		return 0;
	SNDERR("utimer: %s runs on the clock \"%s\", not on timer %u: load snd-aloop with "
	       "timer_source=-1.4.%u (or write it to %s with the loopback closed)",
	       u->slave_name, src, u->id, u->id, path);
	return -EINVAL;
}

/* What the slave can do, as the program's constraints. */
static int utimer_constrain(struct utimer_pcm *u)
{
	static const unsigned int access[] = {
		SND_PCM_ACCESS_RW_INTERLEAVED,
		SND_PCM_ACCESS_RW_NONINTERLEAVED,
		SND_PCM_ACCESS_MMAP_INTERLEAVED,
		SND_PCM_ACCESS_MMAP_NONINTERLEAVED,
	};
	unsigned int formats[SND_PCM_FORMAT_LAST + 1], nformats = 0, cmin, cmax, rmin, rmax;
	unsigned int bits = UINT_MAX, buffer_min, *periods = NULL, nperiods = 0, frame = 0;
	snd_pcm_hw_params_t *sp;
	int err, f;

	snd_pcm_hw_params_alloca(&sp);
	err = snd_pcm_hw_params_any(u->slave, sp);
	if (err < 0)
		return err;
	for (f = 0; f <= SND_PCM_FORMAT_LAST; f++)
		if ((u->format == SND_PCM_FORMAT_UNKNOWN || f == u->format) &&
		    snd_pcm_hw_params_test_format(u->slave, sp, f) == 0) {
			formats[nformats++] = f;
			if ((unsigned int)snd_pcm_format_physical_width(f) < bits)
				bits = snd_pcm_format_physical_width(f);
		}
	snd_pcm_hw_params_get_channels_min(sp, &cmin);
	snd_pcm_hw_params_get_channels_max(sp, &cmax);
	snd_pcm_hw_params_get_rate_min(sp, &rmin, NULL);
	snd_pcm_hw_params_get_rate_max(sp, &rmax, NULL);
	if (!nformats || (u->channels && (u->channels < cmin || u->channels > cmax))) {
		SNDERR("utimer: %s cannot run %s, %u channels now (is its capture side open with "
		       "another format or channel count? set \"format\" and \"channels\" to those: "
		       "pcm.utimer's FORMAT and CHANNELS)",
		       u->slave_name, u->format == SND_PCM_FORMAT_UNKNOWN ? "any format" :
		       snd_pcm_format_name(u->format), u->channels ? u->channels : cmin);
		return -EINVAL;
	}
	if (u->channels)
		cmin = cmax = u->channels;
	/*
	 * The timer ticks once per period of this rate: the only one offered, so that a program's
	 * set_rate_near() lands on it and plug resamples to it.
	 */
	if (u->rate < rmin || u->rate > rmax) {
		SNDERR("utimer: %s cannot run at %u Hz now (%u to %u Hz: is its capture side open at "
		       "another rate?)", u->slave_name, u->rate, rmin, rmax);
		return -EINVAL;
	}
	/*
	 * A buffer of two timer periods at least (with two periods of the program's at least,
	 * that holds a partial timer period and a period of the program's): in bytes, exact when
	 * the slave allows one format and channel count (its capture side is open), a lower bound
	 * otherwise (hw_params checks it in frames).
	 */
	buffer_min = 2 * u->period * (bits * cmin / 8 ? bits * cmin / 8 : 1);
	if (buffer_min > MAX_BUFFER_BYTES)
		buffer_min = MAX_BUFFER_BYTES;
	/*
	 * Where the frame's size is known (one format and channel count: configured, or the
	 * capture side's), the program's period is a whole number of timer periods.  The timer
	 * moves nothing smaller, and plug's rate converter needs it: it converts a period of the
	 * program's into one of this PCM's, so that its ratio is theirs, not the rates' (with
	 * pyalsaaudio's 32 frames at 44100 Hz, 34 frames here would play 2.4 % sharp; 480 here,
	 * 441 there, exact).
	 */
	if (nformats == 1 && cmin == cmax)
		frame = bits * cmin / 8;
	if (frame && u->period * frame <= MAX_BUFFER_BYTES / 2) {
		nperiods = MAX_BUFFER_BYTES / 2 / (u->period * frame);
		periods = calloc(nperiods, sizeof(*periods));
		if (!periods)
			return -ENOMEM;
		for (f = 0; f < (int)nperiods; f++)
			periods[f] = (f + 1) * u->period * frame;
	}
	if ((err = snd_pcm_ioplug_set_param_list(&u->io, SND_PCM_IOPLUG_HW_ACCESS,
						 sizeof(access) / sizeof(access[0]), access)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_list(&u->io, SND_PCM_IOPLUG_HW_FORMAT, nformats,
						 formats)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(&u->io, SND_PCM_IOPLUG_HW_CHANNELS, cmin,
						   cmax)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(&u->io, SND_PCM_IOPLUG_HW_RATE, u->rate,
						   u->rate)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(&u->io, SND_PCM_IOPLUG_HW_PERIODS, 2, 1024)) < 0 ||
	    (err = snd_pcm_ioplug_set_param_minmax(&u->io, SND_PCM_IOPLUG_HW_BUFFER_BYTES,
						   buffer_min, MAX_BUFFER_BYTES)) < 0 ||
	    (periods && (err = snd_pcm_ioplug_set_param_list(&u->io,
							     SND_PCM_IOPLUG_HW_PERIOD_BYTES,
							     nperiods, periods)) < 0)) {
		free(periods);
		return err;
	}
	free(periods);
	return 0;
}

/* conf_integer N MIN MAX: the integer @n names, within [@min, @max]. */
static int conf_integer(snd_config_t *n, const char *id, long min, long max, long *val)
{
	if (snd_config_get_integer(n, val) < 0 || *val < min || *val > max) {
		SNDERR("utimer: \"%s\" must be an integer from %ld to %ld", id, min, max);
		return -EINVAL;
	}
	return 0;
}

SND_PCM_PLUGIN_DEFINE_FUNC(utimer)
{
	snd_config_iterator_t i, next;
	const char *slave_name = DEFAULT_SLAVE, *device = "auto", *format = NULL;
	long timer = 0, rate = 0, period = 0, channels = 0;
	struct utimer_pcm *u;
	int err;

	snd_config_for_each(i, next, conf) {
		snd_config_t *n = snd_config_iterator_entry(i), *s;
		const char *id;

		if (snd_config_get_id(n, &id) < 0)
			continue;
		if (!strcmp(id, "comment") || !strcmp(id, "type") || !strcmp(id, "hint"))
			continue;
		if (!strcmp(id, "slave")) {
			if (snd_config_search(n, "pcm", &s) < 0 ||
			    snd_config_get_string(s, &slave_name) < 0) {
				SNDERR("utimer: \"slave.pcm\" must be the name of a PCM (a string)");
				return -EINVAL;
			}
			continue;
		}
		if (!strcmp(id, "timer")) {
			if (conf_integer(n, id, 0, 4095, &timer) < 0)
				return -EINVAL;
			continue;
		}
		if (!strcmp(id, "rate")) {
			if (conf_integer(n, id, 0, 768000, &rate) < 0)
				return -EINVAL;
			continue;
		}
		if (!strcmp(id, "device")) {
			if (snd_config_get_string(n, &device) < 0 ||
			    (strcmp(device, "auto") && strcmp(device, UTIMER_DEVICE) &&
			     strcmp(device, UPSTREAM_DEVICE))) {
				SNDERR("utimer: \"device\" must be \"auto\", \"" UTIMER_DEVICE "\" or \""
				       UPSTREAM_DEVICE "\"");
				return -EINVAL;
			}
			continue;
		}
		if (!strcmp(id, "period_size")) {
			if (conf_integer(n, id, 0, 1 << 20, &period) < 0)
				return -EINVAL;
			continue;
		}
		if (!strcmp(id, "format")) {
			if (snd_config_get_string(n, &format) < 0 ||
			    (*format && snd_pcm_format_value(format) == SND_PCM_FORMAT_UNKNOWN)) {
				SNDERR("utimer: \"format\" must be a sample format's name (S16_LE, "
				       "S32_LE, FLOAT_LE, ...) or \"\"");
				return -EINVAL;
			}
			continue;
		}
		if (!strcmp(id, "channels")) {
			if (conf_integer(n, id, 0, 256, &channels) < 0)
				return -EINVAL;
			continue;
		}
		SNDERR("utimer: unknown field \"%s\" (slave.pcm, timer, rate, period_size, format, "
		       "channels, device)", id);
		return -EINVAL;
	}
	if (stream != SND_PCM_STREAM_PLAYBACK) {
		SNDERR("utimer: %s is a playback PCM (capture from the loopback's other side)", name);
		return -EINVAL;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->timer_fd = -1;
	u->device = !strcmp(device, UTIMER_DEVICE) ? DEVICE_OURS :
		    !strcmp(device, UPSTREAM_DEVICE) ? DEVICE_UPSTREAM : DEVICE_AUTO;
	u->id = timer;
	u->rate = rate ? rate : DEFAULT_RATE;
	u->format = format && *format ? snd_pcm_format_value(format) : SND_PCM_FORMAT_UNKNOWN;
	u->channels = channels;
	u->period = period ? (snd_pcm_uframes_t)period : u->rate / 100;
	u->resolution = utimer_resolution(u->rate, u->period);
	u->slave_name = strdup(slave_name);
	if (!u->slave_name) {
		err = -ENOMEM;
		goto fail;
	}
	if (!u->period || u->resolution < UTIMER_MIN_RESOLUTION ||
	    u->resolution > UTIMER_MAX_RESOLUTION) {
		SNDERR("utimer: %lu frames at %u Hz is a period of %llu ns; a utimer ticks every "
		       "%llu ns to %llu ns: set another \"period_size\"", u->period, u->rate,
		       (unsigned long long)u->resolution, UTIMER_MIN_RESOLUTION, UTIMER_MAX_RESOLUTION);
		err = -EINVAL;
		goto fail;
	}
	/*
	 * The timer first: snd-aloop opens its clock when the cable's first side opens (a
	 * persistent timer exists already, and its capture side may run).
	 */
	err = utimer_create(u);
	if (err < 0)
		goto fail;
	err = snd_pcm_open(&u->slave, slave_name, SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK);
	if (err < 0) {
		SNDERR("utimer: cannot open %s: %s (is snd-aloop loaded, with "
		       "timer_source=-1.4.%u?)", slave_name, snd_strerror(err), u->id);
		u->slave = NULL;
		goto fail;
	}
	err = utimer_check_source(u);
	if (err < 0)
		goto fail;
	u->io.version = SND_PCM_IOPLUG_VERSION;
	u->io.name = "utimer: a loopback driven by the data written";
	u->io.callback = &utimer_callback;
	u->io.private_data = u;
	u->io.mmap_rw = 0;
	u->io.poll_fd = -1;	/* the slave's descriptors: utimer_poll_descriptors */
	u->io.flags = SND_PCM_IOPLUG_FLAG_BOUNDARY_WA | SND_PCM_IOPLUG_FLAG_MONOTONIC;
	err = snd_pcm_ioplug_create(&u->io, name, stream, mode);
	if (err < 0)
		goto fail;
	err = utimer_constrain(u);
	if (err < 0) {
		snd_pcm_ioplug_delete(&u->io);	/* calls utimer_close */
		return err;
	}
	*pcmp = u->io.pcm;
	return 0;
fail:
	utimer_free(u);
	return err;
}

SND_PCM_PLUGIN_SYMBOL(utimer);
