// SPDX-License-Identifier: GPL-2.0
/*
 * receiver: plays the audio that arrives over UDP into snd-aloop, with the network as the clock.
 *
 *   receiver [-r RATE] [-p PERIOD] [-n PERIODS] [-c utimer|aloop] [-t DEVICE] [-i ID] [-P PORT]
 *
 * It drives a userspace-driven timer whose resolution is exactly one period (480 frames at
 * 48 kHz by default), points snd-aloop at it and fires it once each time a whole period has
 * arrived: snd-aloop then moves that period to its capture side, hw:Loopback,1,0, whatever the
 * local clock says.  No resampling, no drift, no xrun.
 *
 * The timer.  A persistent timer (rust_utimer's timers= parameter, or `utimer create --persist`)
 * is attached to (UTIMER_IOCTL_ATTACH): timer ID with -i ID, which must exist and have no writer,
 * else the one snd-aloop's timer_source names (-1.4.ID), if that is a persistent timer without a
 * writer.  Otherwise (no timer there, a timer another program owns, a device without persistent
 * timers such as /dev/snd/timer) the receiver creates a timer of its own, with the lowest free id,
 * as it always did.  Either way snd-aloop's timer_source is set to the timer (root only, when it
 * names another).  A persistent timer must have the resolution RATE and PERIOD need
 * (utimer_resolution()); the receiver exits saying so when it has not.
 *
 * A timer of its own (or a persistent one whose holdover is 0).  A blocked read or write of an
 * ALSA stream fails with EIO when no period comes within max(100 ms, 1.1 x the buffer time).  So
 * when nothing arrives for half of that, the receiver plays a period of silence to keep the clock
 * alive, and counts it; what arrives later is played after it, nothing is dropped.  A bigger
 * buffer (-n PERIODS, default 8) rides out longer gaps.  One period of silence is written ahead at
 * the start: a tick that empties the buffer would be an underrun.
 *
 * A persistent timer with holdover: the module keeps the clock going by itself, one tick per
 * period, when no TRIGGER came for its holdover (default 2 periods), so the receiver plays no
 * keep-alive silence (it would add to the module's ticks).  It keeps one period ahead in the
 * buffer, as with a timer of its own, but a period of the stream, not silence: the first period
 * after the stream's start is only written, and each later one is written and then TRIGGERs the
 * one before it.  In a gap the first holdover tick moves the period ahead, which empties the
 * buffer: the stream stops with an xrun there (stop threshold: the buffer; the kernel checks it
 * under the stream's lock before snd-aloop's next tick), and the capture side goes on alone, in
 * silence, one period per holdover tick.  So no tick ever takes a period from an empty buffer,
 * nor one that a write is filling (the stream also has silence fill, silence_size = boundary and
 * threshold 0, so that anything played dry would be silence).  Before writing a period the
 * receiver takes the clock back (UTIMER_IOCTL_TAKE: no holdover tick for the next `holdover`
 * periods) when its last play is more than holdover - 1/2 periods old, including before its
 * first write; a stream found in xrun is prepared again and started by the write (its period
 * ahead, TRIGGERed by the next).  A holdover tick that comes anyway (a stall of the machine)
 * moves the period ahead early or stops the stream: a period can come early or late, none is
 * lost, repeated or torn.  The capture side thus gets one period of silence per period of real
 * time without data, but the tick that took the period ahead and the period it takes to have one
 * ahead again.  The receiver counts the holdover ticks that moved silence (from the writer fd's
 * fdinfo, read at each TAKE and at exit, less those that took a period ahead) before the stream
 * (silence_before), between its first and last periods (silence_gaps) and after it
 * (silence_after), the TAKEs that found the timer in holdover (resumes), the xruns it recovered
 * from (restarts), and holdover ticks that came between a write and its TRIGGER (overtaken).  At
 * exit it TRIGGERs the period ahead if holdover has not moved it.
 *
 * Packets are reordered by sequence number.  A packet that has not come when a later period is
 * whole is lost: its period is played with silence in its place (incomplete); so are the periods
 * a packet a whole ring (64 periods) ahead of the next to play pushes out (its frames are dropped:
 * early_frames).  A stream joined midway (the receiver started or restarted while the sender
 * runs) starts at the period of the first packet that arrives once the receiver is ready (its
 * socket is bound then); the frames of that period before it are silence.
 *
 * -c aloop leaves the clock to snd-aloop (its timer_source: jiffies or hrtimer), as without
 * utimers: playing starts when half the buffer is full, and a sender slower or faster than the
 * local clock makes it underrun or drop periods.  -t /dev/snd/timer uses the kernel's own
 * utimers (CONFIG_SND_UTIMER) instead of rust_utimer's /dev/utimer.
 *
 * Runs until SIGINT or SIGTERM, then prints what it did; longest_gap_ms is the longest time
 * between two periods played (from the first period of the stream on, the time from one TRIGGER to
 * the start of the next period's play), holdover_ticks the module's ticks while attached.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../uapi/rust_utimer.h"
#include "netaudio.h"

#define RING 64	/* periods held while a late packet is awaited */
#define TIMER_SOURCE "/proc/asound/Loopback/timer_source"

struct receiver {
	unsigned int rate, period;
	double period_s;		/* a period's duration, in s */
	snd_pcm_t *pcm;
	snd_pcm_uframes_t buffer;	/* the playback buffer, in frames */
	int timer;			/* the utimer's fd (a writer's fd if attached), -1 with -c aloop */
	bool attached;			/* to a persistent timer */
	unsigned int holdover;		/* its holdover in periods; 0: none, or not persistent */
	unsigned long long ticks_at_attach;	/* its holdover ticks when we attached */
	int16_t *ring;			/* RING periods of audio; period k at k % RING */
	unsigned int have[RING];	/* frames of that period received */
	unsigned int packet_frames;	/* frames per packet, from the first packet */
	bool joined;			/* a packet came: the stream starts at its period */
	uint64_t next;			/* the next period to play */
	uint64_t end_frame;		/* the stream's length, once its end packet came */
	uint64_t newest;		/* the furthest period in the ring with frames */
	uint64_t horizon;		/* the furthest period a packet was for */
	double last_play;		/* when the last period was played (its TRIGGER) */
	double longest_gap;		/* the longest time between two periods played, in s */
	unsigned long long ticks_seen;	/* its holdover ticks at our last look */
	bool primed;			/* holdover: a period written ahead, not yet triggered */
	/* what happened, in periods (frames where said) */
	uint64_t played, silence_before, silence_gaps, silence_after, incomplete, underruns,
		 dropped_frames, late_frames, early_frames, resumes, restarts, overtaken;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

/* Whether holdover keeps the clock: a persistent timer with holdover. */
static bool holding(const struct receiver *r)
{
	return r->attached && r->holdover;
}

/* The value of line "utimer-KEY:" of the fdinfo of our fd @fd into @value: 0, or -1 if none. */
static int fdinfo_value(int fd, const char *key, unsigned long long *value)
{
	char path[64], line[256];
	size_t len = strlen(key);
	int found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f))
		if (!strncmp(line, "utimer-", 7) && !strncmp(line + 7, key, len) &&
		    line[7 + len] == ':' && sscanf(line + 8 + len, "%llu", value) == 1)
			found = 0;
	fclose(f);
	return found;
}

/* snd-aloop's timer_source into @buf: "" when it cannot be read. */
static void aloop_source(char *buf, int size)
{
	FILE *f = fopen(TIMER_SOURCE, "re");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, size, f))
			buf[0] = 0;
		buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

/* Points snd-aloop at global timer @id unless it is already: 0, or -1 after saying why. */
static int point_aloop(unsigned int id)
{
	char want[32], have[32];
	FILE *f;

	snprintf(want, sizeof(want), "-1.%d.%u", UTIMER_GLOBAL_DEVICE, id);
	aloop_source(have, sizeof(have));
	if (!strcmp(have, want))
		return 0;
	f = fopen(TIMER_SOURCE, "we");
	if (!f || fprintf(f, "%s\n", want) < 0 || fclose(f)) {
		fprintf(stderr, "receiver: cannot point snd-aloop at timer %u: load it with "
			"\"modprobe snd-aloop timer_source=%s\" first\n", id, want);
		return -1;
	}
	return 0;
}

/* A timer of our own that ticks once per period, and snd-aloop pointed at it.  Its fd, or -1. */
static int create_timer(const char *dev, unsigned int rate, unsigned int period)
{
	struct utimer_uinfo u = { .resolution = utimer_resolution(rate, period) };
	int fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, UTIMER_IOCTL_CREATE, &u) < 0) {
		fprintf(stderr, "receiver: %s: %s%s\n", dev, strerror(errno),
			errno == ENOENT ? " (is rust_utimer loaded?)" : "");
		return -1;
	}
	close(fd);	/* the timer lives as long as u.fd */
	if (point_aloop(u.id)) {
		close(u.fd);
		return -1;
	}
	printf("receiver: timer -1.%d.%u, resolution %llu ns\n", UTIMER_GLOBAL_DEVICE, u.id,
	       (unsigned long long)u.resolution);
	return u.fd;
}

/*
 * Attach to persistent timer @id: the writer's fd; -2 when there is nothing to attach to and
 * not @must (no such timer, a timer another program owns or drives, a device without persistent
 * timers); -1 after saying why.
 */
static int attach_timer(struct receiver *r, const char *dev, unsigned int id, bool must)
{
	struct utimer_attach a = { .id = id };
	unsigned long long resolution, holdover, ticks;
	unsigned long long want = utimer_resolution(r->rate, r->period);
	int ctl = open(dev, O_RDONLY | O_CLOEXEC), err;

	if (ctl < 0) {
		fprintf(stderr, "receiver: %s: %s%s\n", dev, strerror(errno),
			errno == ENOENT ? " (is rust_utimer loaded?)" : "");
		return -1;
	}
	err = ioctl(ctl, UTIMER_IOCTL_ATTACH, &a) < 0 ? errno : 0;
	close(ctl);
	if (err && !must && (err == ENOENT || err == EBUSY || err == ENOTTY || err == EINVAL)) {
		if (err == EBUSY)
			fprintf(stderr, "receiver: timer %u, snd-aloop's, has a writer or belongs to "
				"a program: creating a timer of our own\n", id);
		return -2;
	}
	switch (err) {
	case 0:
		break;
	case ENOENT:
		fprintf(stderr, "receiver: -i %u: no persistent timer %u (modprobe rust_utimer "
			"timers=%u:%u/%u, or utimer create --persist -r %u -p %u --id %u)\n", id, id,
			id, r->rate, r->period, r->rate, r->period, id);
		return -1;
	case EBUSY:
		fprintf(stderr, "receiver: -i %u: timer %u has a writer already (one at a time), "
			"or is a program's own timer\n", id, id);
		return -1;
	case ENOTTY:
	case EINVAL:
		fprintf(stderr, "receiver: -i %u: %s has no persistent timers (%s)\n", id, dev,
			strerror(err));
		return -1;
	default:
		fprintf(stderr, "receiver: attach to timer %u: %s\n", id, strerror(err));
		return -1;
	}
	if (fdinfo_value(a.fd, "resolution", &resolution) ||
	    fdinfo_value(a.fd, "holdover", &holdover) ||
	    fdinfo_value(a.fd, "holdover-ticks", &ticks)) {
		fprintf(stderr, "receiver: timer %u: /proc/self/fdinfo/%d has no utimer-resolution, "
			"utimer-holdover or utimer-holdover-ticks\n", id, a.fd);
		close(a.fd);
		return -1;
	}
	if (resolution != want) {
		fprintf(stderr, "receiver: timer %u has a resolution of %llu ns, but %u Hz with periods "
			"of %u frames needs %llu ns: make it with timers=%u:%u/%u, or give the -r and -p "
			"it was made for\n", id, resolution, r->rate, r->period, want, id, r->rate,
			r->period);
		close(a.fd);
		return -1;
	}
	if (point_aloop(id)) {
		close(a.fd);
		return -1;
	}
	r->attached = true;
	r->holdover = holdover;
	r->ticks_at_attach = r->ticks_seen = ticks;
	printf("receiver: timer -1.%d.%u, resolution %llu ns, persistent (attached), holdover %llu "
	       "periods\n", UTIMER_GLOBAL_DEVICE, id, resolution, holdover);
	return a.fd;
}

/*
 * Holdover: the stream stops with an xrun at the tick that empties its buffer (stop threshold:
 * the buffer), under the stream's lock, before snd-aloop's next tick; so no tick ever moves a
 * period from an empty buffer, nor one a write is filling: the period ahead is always there
 * first.  Silence fill (silence_size the boundary, threshold 0: every frame played is silenced at
 * once) keeps what is played dry silence all the same.
 */
static int hold_params(struct receiver *r)
{
	snd_pcm_uframes_t boundary;
	snd_pcm_sw_params_t *sw;
	int err;

	snd_pcm_sw_params_alloca(&sw);
	if ((err = snd_pcm_sw_params_current(r->pcm, sw)) < 0 ||
	    (err = snd_pcm_sw_params_get_boundary(sw, &boundary)) < 0 ||
	    (err = snd_pcm_sw_params_set_stop_threshold(r->pcm, sw, r->buffer)) < 0 ||
	    (err = snd_pcm_sw_params_set_silence_threshold(r->pcm, sw, 0)) < 0 ||
	    (err = snd_pcm_sw_params_set_silence_size(r->pcm, sw, boundary)) < 0 ||
	    (err = snd_pcm_sw_params(r->pcm, sw)) < 0) {
		fprintf(stderr, "receiver: playback: silence fill: %s\n", snd_strerror(err));
		return -1;
	}
	return 0;
}

/*
 * Take the clock from holdover, and count the ticks holdover fired since the last look (from the
 * fdinfo): before the stream or within it.  Each moved a period of silence, but the one that
 * moved the period we had written ahead (restart() takes it off).
 */
static int take(struct receiver *r)
{
	unsigned long long ticks;
	int was = ioctl(r->timer, UTIMER_IOCTL_TAKE);

	if (was < 0) {
		perror("receiver: take");
		return -1;
	}
	r->resumes += was > 0 && r->played;
	if (!fdinfo_value(r->timer, "holdover-ticks", &ticks)) {
		if (r->played)
			r->silence_gaps += ticks - r->ticks_seen;
		else
			r->silence_before += ticks - r->ticks_seen;
		r->ticks_seen = ticks;
	}
	return 0;
}

/*
 * Holdover: prepare the stream again after an xrun: a holdover tick moved the period written ahead
 * (one of the ticks take() counted was not silence), and the stream stopped.
 */
static int restart(struct receiver *r, bool taken)
{
	int err;

	r->restarts++;
	r->primed = false;
	if (!taken && take(r))
		return -1;
	if (r->played && r->silence_gaps)
		r->silence_gaps--;
	else if (!r->played && r->silence_before)
		r->silence_before--;
	err = snd_pcm_prepare(r->pcm);
	if (err < 0) {
		fprintf(stderr, "receiver: playback: prepare: %s\n", snd_strerror(err));
		return -1;
	}
	return 0;
}

/*
 * Holdover, before writing a period: holdover should not move the period ahead, which would stop
 * the stream.  No holdover tick comes within `holdover` periods of our last TRIGGER or TAKE: with
 * half a period to spare for the write and the TRIGGER there is nothing to do, else we take the
 * clock (also before the first write, which starts the stream).  A stream that holdover played
 * dry is prepared again.
 */
static int hold_ready(struct receiver *r, double now)
{
	bool taken = !r->played || now - r->last_play >= (r->holdover - 0.5) * r->period_s;

	if (taken && take(r))
		return -1;
	if (snd_pcm_avail(r->pcm) == -EPIPE)
		return restart(r, taken);
	return 0;
}

/*
 * Hand one period to snd-aloop: written, then moved by a tick of our timer.  Holdover: written,
 * and the period before it moved (the one after its start only written).
 */
static int play(struct receiver *r, const int16_t *pcm)
{
	double now = na_now();
	snd_pcm_sframes_t n;

	if (r->played && now - r->last_play > r->longest_gap)
		r->longest_gap = now - r->last_play;
	if (holding(r) && hold_ready(r, now))
		return -1;
	n = snd_pcm_writei(r->pcm, pcm, r->period);
	if (n == -EPIPE && holding(r)) {
		/* A holdover tick came after hold_ready(): nothing was written. */
		n = restart(r, false) ? -EIO : snd_pcm_writei(r->pcm, pcm, r->period);
	} else if (n == -EPIPE) {	/* -c aloop: the buffer ran dry, the sender is slower */
		r->underruns++;
		n = snd_pcm_prepare(r->pcm);
		if (n == 0)
			n = snd_pcm_writei(r->pcm, pcm, r->period);
	}
	if (n == -EAGAIN)	/* -c aloop: the buffer is full, the sender is faster */
		n = 0;
	if (n < 0) {
		fprintf(stderr, "receiver: playback: %s\n", snd_strerror(n));
		return -1;
	}
	r->dropped_frames += r->period - n;
	if (r->timer >= 0 && (!holding(r) || r->primed) &&
	    ioctl(r->timer, UTIMER_IOCTL_TRIGGER) < 0) {
		perror("receiver: trigger");
		return -1;
	}
	/* Our TRIGGER moved the period ahead; the one just written is ahead now.  An xrun: a
	 * holdover tick moved the period ahead between the write and the TRIGGER, which then moved
	 * this one and emptied the buffer (nothing lost; the next play restarts). */
	if (holding(r) && r->primed && snd_pcm_avail_update(r->pcm) == -EPIPE)
		r->overtaken++;
	r->primed = holding(r);
	r->last_play = na_now();
	return 0;
}

/* Play period r->next, complete or not (missing frames are silence), and free its slot. */
static int play_next(struct receiver *r)
{
	int16_t *slot = &r->ring[(r->next % RING) * r->period * NA_CHANNELS];
	int err = play(r, slot);

	memset(slot, 0, r->period * NA_CHANNELS * sizeof(*slot));
	r->have[r->next % RING] = 0;
	r->next++;
	r->played++;
	return err;
}

/* Whether period k holds all its frames (the stream's last one may be short). */
static bool complete(const struct receiver *r, uint64_t k)
{
	uint64_t left = r->end_frame - k * r->period;

	return k * r->period < r->end_frame &&
	       r->have[k % RING] == (left < r->period ? left : r->period);
}

/* Whether a period after r->next (in the ring) holds all its frames. */
static bool later_complete(const struct receiver *r)
{
	for (uint64_t k = r->next + 1; k <= r->newest; k++)
		if (complete(r, k))
			return true;
	return false;
}

/* File the frames of packet p where they belong. */
static void receive(struct receiver *r, const struct na_packet *p, ssize_t len)
{
	uint32_t frames = ntohl(p->frames);
	uint64_t pos = (uint64_t)ntohl(p->seq) * (frames ? frames : r->packet_frames);

	if (len < 8 || frames > NA_MAX_PACKET_FRAMES || len < 8 + frames * NA_CHANNELS * 2 ||
	    (r->packet_frames && frames && frames != r->packet_frames))
		return;
	if (!frames) {
		r->end_frame = pos;
		return;
	}
	if (!r->joined) {	/* the stream starts here, or we joined it here */
		r->joined = true;
		r->next = pos / r->period;
	}
	r->packet_frames = frames;
	for (unsigned int f = 0; f < frames; f++, pos++) {
		uint64_t k = pos / r->period;

		if (k < r->next) {
			r->late_frames++;
		} else if (k >= r->next + RING) {
			r->early_frames++;	/* dropped; the periods it pushes out are lost */
			if (k > r->horizon)
				r->horizon = k;
		} else {
			memcpy(&r->ring[(pos % ((uint64_t)RING * r->period)) * NA_CHANNELS],
			       &p->pcm[f * NA_CHANNELS], NA_CHANNELS * sizeof(p->pcm[0]));
			r->have[k % RING]++;
			if (k > r->newest)
				r->newest = k;
		}
	}
}

int main(int argc, char **argv)
{
	struct receiver r = { .rate = 48000, .period = 480, .timer = -1, .end_frame = UINT64_MAX };
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(NA_PORT) };
	const char *clock = "utimer", *dev = UTIMER_DEVICE;
	unsigned int periods = 8, id = 0;
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned long long ticks = 0;
	bool want_id = false;
	struct na_packet p;
	struct pollfd pfd;
	char source[32];
	int16_t *silence;
	double gap;
	int opt;

	while ((opt = getopt(argc, argv, "r:p:n:c:t:i:P:")) != -1) {
		switch (opt) {
		case 'r': r.rate = strtoul(optarg, NULL, 0); break;
		case 'p': r.period = strtoul(optarg, NULL, 0); break;
		case 'n': periods = strtoul(optarg, NULL, 0); break;
		case 'c': clock = optarg; break;
		case 't': dev = optarg; break;
		case 'i': id = strtoul(optarg, NULL, 0); want_id = true; break;
		case 'P': addr.sin_port = htons(atoi(optarg)); break;
		default:
			fprintf(stderr, "usage: %s [-r RATE] [-p PERIOD] [-n PERIODS] [-c utimer|aloop] "
				"[-t DEVICE] [-i ID] [-P PORT]\n", argv[0]);
			return 2;
		}
	}
	if (strcmp(clock, "utimer") && strcmp(clock, "aloop")) {
		fprintf(stderr, "receiver: -c utimer or -c aloop\n");
		return 2;
	}
	if (want_id && strcmp(clock, "utimer")) {
		fprintf(stderr, "receiver: -i is for -c utimer\n");
		return 2;
	}
	r.ring = calloc((size_t)RING * r.period * NA_CHANNELS, sizeof(*r.ring));
	silence = calloc((size_t)r.period * NA_CHANNELS, sizeof(*silence));
	if (!r.ring || !silence || periods < 2 || !r.rate) {
		fprintf(stderr, "receiver: setup: %s\n", periods < 2 || !r.rate ?
			"at least 2 periods, and a rate" : strerror(ENOMEM));
		return 1;
	}
	r.period_s = (double)r.period / r.rate;
	r.buffer = (snd_pcm_uframes_t)r.period * periods;
	if (!strcmp(clock, "utimer")) {
		/* -i ID, or the timer snd-aloop's timer_source names if it is persistent; else
		 * one of our own. */
		int fd = -2;

		aloop_source(source, sizeof(source));
		if (want_id)
			fd = attach_timer(&r, dev, id, true);
		else if (sscanf(source, "-1.4.%u", &id) == 1)
			fd = attach_timer(&r, dev, id, false);
		if (fd == -2)
			fd = create_timer(dev, r.rate, r.period);
		if (fd < 0)
			return 1;
		r.timer = fd;
	}
	/* Own timer: one period of silence keeps the buffer from running dry on the tick after a
	 * write.  Holdover: the stream's first period starts it, and is the one ahead.  aloop:
	 * start with half the buffer, aloop's clock pulls on its own. */
	r.pcm = na_pcm_open("hw:Loopback,0,0", SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK, r.rate,
			    r.period, periods,
			    (snd_pcm_uframes_t)r.period * (r.timer >= 0 ? 1 : periods / 2));
	if (!r.pcm || (holding(&r) && hold_params(&r)) ||
	    (r.timer >= 0 && !holding(&r) &&
	     snd_pcm_writei(r.pcm, silence, r.period) != (snd_pcm_sframes_t)r.period))
		return 1;
	/* The socket last: a receiver that starts while the sender runs joins the stream where it
	 * is when the receiver is ready, not at a backlog piled up (and overflowed) meanwhile. */
	pfd.fd = socket(AF_INET, SOCK_DGRAM, 0);
	pfd.events = POLLIN;
	/* Room for a stall of ours: as much as net.core.rmem_max allows (twice the default). */
	if (pfd.fd < 0 ||
	    setsockopt(pfd.fd, SOL_SOCKET, SO_RCVBUF, &(int){ 4 << 20 }, sizeof(int)) < 0 ||
	    bind(pfd.fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("receiver: UDP socket");
		return 1;
	}
	gap = (r.period * periods * 1.1 / r.rate > 0.1 ? r.period * periods * 1.1 / r.rate : 0.1) / 2;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("receiver: ready: %u Hz, period %u, %u periods, clock %s%s, port %u\n", r.rate,
	       r.period, periods, clock, holding(&r) ? " (holdover)" : "", ntohs(addr.sin_port));
	fflush(stdout);
	r.last_play = na_now();

	while (!stop) {
		double wait = r.last_play + gap - na_now();

		/* -c aloop: nothing to time, snd-aloop's clock runs on its own; holdover: the module
		 * keeps the clock. */
		if (poll(&pfd, 1, r.timer < 0 || holding(&r) ? -1 :
				  wait > 0 ? (int)(wait * 1000) + 1 : 0) > 0)
			receive(&r, &p, recv(pfd.fd, &p, sizeof(p), 0));
		/* A packet that has not come when a whole period after its own has (or one a whole
		 * ring later came) is lost: its period is played with silence in its place. */
		while (!stop && (complete(&r, r.next) || later_complete(&r) ||
				 r.next + RING <= r.horizon)) {
			r.incomplete += !complete(&r, r.next);
			if (play_next(&r))
				return 1;
		}
		if (stop || r.timer < 0 || holding(&r) || na_now() < r.last_play + gap)
			continue;
		/* Nothing came for too long: keep the clock alive. */
		if (!r.played)
			r.silence_before++;
		else if (r.next * r.period >= r.end_frame)
			r.silence_after++;
		else
			r.silence_gaps++;
		if (play(&r, silence))
			return 1;
	}
	/* Holdover: the period ahead is delivered if holdover did not (our TRIGGER: snd-aloop moves
	 * it now, before the close drops it), and what the module played after the stream is
	 * counted: its first tick after our last one moved the period ahead, if it did. */
	if (holding(&r) && r.primed && snd_pcm_avail(r.pcm) >= 0)
		r.primed = ioctl(r.timer, UTIMER_IOCTL_TRIGGER) < 0;
	if (r.attached && !fdinfo_value(r.timer, "holdover-ticks", &ticks)) {
		if (holding(&r) && r.played)
			r.silence_after += ticks - r.ticks_seen - (ticks > r.ticks_seen && r.primed);
		else if (holding(&r))
			r.silence_before += ticks - r.ticks_seen;
		ticks -= r.ticks_at_attach;
	}
	printf("receiver: clock=%s periods=%llu silence_gaps=%llu silence_before=%llu "
	       "silence_after=%llu incomplete=%llu underruns=%llu dropped_frames=%llu late_frames=%llu "
	       "early_frames=%llu timer=%s holdover_ticks=%llu resumes=%llu restarts=%llu "
	       "overtaken=%llu longest_gap_ms=%.1f\n", clock, (unsigned long long)r.played,
	       (unsigned long long)r.silence_gaps, (unsigned long long)r.silence_before,
	       (unsigned long long)r.silence_after, (unsigned long long)r.incomplete,
	       (unsigned long long)r.underruns, (unsigned long long)r.dropped_frames,
	       (unsigned long long)r.late_frames, (unsigned long long)r.early_frames,
	       r.timer < 0 ? "none" : r.attached ? "persistent" : "own", ticks,
	       (unsigned long long)r.resumes, (unsigned long long)r.restarts,
	       (unsigned long long)r.overtaken,
	       r.longest_gap * 1000);
	snd_pcm_close(r.pcm);
	if (r.timer >= 0)
		close(r.timer);
	return 0;
}
