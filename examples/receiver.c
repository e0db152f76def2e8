// SPDX-License-Identifier: GPL-2.0
/*
 * receiver: plays the audio that arrives over UDP into snd-aloop, with the network as the clock.
 *
 *   receiver [-r RATE] [-p PERIOD] [-n PERIODS] [-c utimer|aloop] [-t DEVICE] [-P PORT]
 *
 * It creates a userspace-driven timer whose resolution is exactly one period (480 frames at
 * 48 kHz by default), points snd-aloop at it and fires it once each time a whole period has
 * arrived: snd-aloop then moves that period to its capture side, hw:Loopback,1,0, whatever the
 * local clock says.  No resampling, no drift, no xrun.
 *
 * A blocked read or write of an ALSA stream fails with EIO when no period comes within
 * max(100 ms, 1.1 x the buffer time).  So when nothing arrives for half of that, the receiver
 * plays a period of silence to keep the clock alive, and counts it; what arrives later is played
 * after it, nothing is dropped.  A bigger buffer (-n PERIODS, default 8) rides out longer gaps.
 *
 * -c aloop leaves the clock to snd-aloop (its timer_source: jiffies or hrtimer), as without
 * utimers: playing starts when half the buffer is full, and a sender slower or faster than the
 * local clock makes it underrun or drop periods.  -t /dev/snd/timer uses the kernel's own
 * utimers (CONFIG_SND_UTIMER) instead of rust_utimer's /dev/utimer.
 *
 * Runs until SIGINT or SIGTERM, then prints what it did.
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
	snd_pcm_t *pcm;
	int timer;			/* the utimer's fd, -1 with -c aloop */
	int16_t *ring;			/* RING periods of audio; period k at k % RING */
	unsigned int have[RING];	/* frames of that period received */
	unsigned int packet_frames;	/* frames per packet, from the first packet */
	uint64_t next;			/* the next period to play */
	uint64_t end_frame;		/* the stream's length, once its end packet came */
	double last_play;
	/* what happened, in periods (frames where said) */
	uint64_t played, silence_before, silence_gaps, silence_after, incomplete, underruns,
		 dropped_frames, late_frames, early_frames;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

/* A timer that ticks once per period, and snd-aloop pointed at it.  Its fd, or -1. */
static int create_timer(const char *dev, unsigned int rate, unsigned int period)
{
	struct utimer_uinfo u = { .resolution = utimer_resolution(rate, period) };
	char want[32], have[32] = "";
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	FILE *f;

	if (fd < 0 || ioctl(fd, UTIMER_IOCTL_CREATE, &u) < 0) {
		fprintf(stderr, "receiver: %s: %s%s\n", dev, strerror(errno),
			errno == ENOENT ? " (is rust_utimer loaded?)" : "");
		return -1;
	}
	close(fd);	/* the timer lives as long as u.fd */
	snprintf(want, sizeof(want), "-1.4.%u", u.id);
	f = fopen(TIMER_SOURCE, "r");
	if (f) {
		if (!fgets(have, sizeof(have), f))
			have[0] = 0;
		have[strcspn(have, "\n")] = 0;
		fclose(f);
	}
	if (strcmp(have, want)) {
		f = fopen(TIMER_SOURCE, "w");
		if (!f || fprintf(f, "%s\n", want) < 0 || fclose(f)) {
			fprintf(stderr, "receiver: cannot point snd-aloop at timer %u: load it with "
				"\"modprobe snd-aloop timer_source=%s\" first\n", u.id, want);
			close(u.fd);
			return -1;
		}
	}
	printf("receiver: timer %s, resolution %llu ns\n", want, (unsigned long long)u.resolution);
	return u.fd;
}

/* Hand one period to snd-aloop: written, then moved by a tick of our timer. */
static int play(struct receiver *r, const int16_t *pcm)
{
	snd_pcm_sframes_t n = snd_pcm_writei(r->pcm, pcm, r->period);

	if (n == -EPIPE) {	/* -c aloop: the buffer ran dry, the sender is slower */
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
	if (r->timer >= 0 && ioctl(r->timer, UTIMER_IOCTL_TRIGGER) < 0) {
		perror("receiver: trigger");
		return -1;
	}
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
	r->packet_frames = frames;
	for (unsigned int f = 0; f < frames; f++, pos++) {
		uint64_t k = pos / r->period;

		if (k < r->next) {
			r->late_frames++;
		} else if (k >= r->next + RING) {
			r->early_frames++;
		} else {
			memcpy(&r->ring[(pos % ((uint64_t)RING * r->period)) * NA_CHANNELS],
			       &p->pcm[f * NA_CHANNELS], NA_CHANNELS * sizeof(p->pcm[0]));
			r->have[k % RING]++;
		}
	}
}

int main(int argc, char **argv)
{
	struct receiver r = { .rate = 48000, .period = 480, .timer = -1, .end_frame = UINT64_MAX };
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(NA_PORT) };
	const char *clock = "utimer", *dev = UTIMER_DEVICE;
	unsigned int periods = 8;
	struct sigaction sa = { .sa_handler = on_signal };
	struct na_packet p;
	struct pollfd pfd;
	int16_t *silence;
	double gap;
	int opt;

	while ((opt = getopt(argc, argv, "r:p:n:c:t:P:")) != -1) {
		switch (opt) {
		case 'r': r.rate = strtoul(optarg, NULL, 0); break;
		case 'p': r.period = strtoul(optarg, NULL, 0); break;
		case 'n': periods = strtoul(optarg, NULL, 0); break;
		case 'c': clock = optarg; break;
		case 't': dev = optarg; break;
		case 'P': addr.sin_port = htons(atoi(optarg)); break;
		default:
			fprintf(stderr, "usage: %s [-r RATE] [-p PERIOD] [-n PERIODS] [-c utimer|aloop] "
				"[-t DEVICE] [-P PORT]\n", argv[0]);
			return 2;
		}
	}
	if (strcmp(clock, "utimer") && strcmp(clock, "aloop")) {
		fprintf(stderr, "receiver: -c utimer or -c aloop\n");
		return 2;
	}
	r.ring = calloc((size_t)RING * r.period * NA_CHANNELS, sizeof(*r.ring));
	silence = calloc((size_t)r.period * NA_CHANNELS, sizeof(*silence));
	pfd.fd = socket(AF_INET, SOCK_DGRAM, 0);
	pfd.events = POLLIN;
	if (!r.ring || !silence || periods < 2 || pfd.fd < 0 ||
	    bind(pfd.fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("receiver: setup");
		return 1;
	}
	if (!strcmp(clock, "utimer") && (r.timer = create_timer(dev, r.rate, r.period)) < 0)
		return 1;
	/* utimer: one period of silence keeps the buffer from running dry on the tick after a
	 * write.  aloop: start with half the buffer, aloop's clock pulls on its own. */
	r.pcm = na_pcm_open("hw:Loopback,0,0", SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK, r.rate,
			    r.period, periods,
			    (snd_pcm_uframes_t)r.period * (r.timer >= 0 ? 1 : periods / 2));
	if (!r.pcm ||
	    (r.timer >= 0 && snd_pcm_writei(r.pcm, silence, r.period) != (snd_pcm_sframes_t)r.period))
		return 1;
	gap = (r.period * periods * 1.1 / r.rate > 0.1 ? r.period * periods * 1.1 / r.rate : 0.1) / 2;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("receiver: ready: %u Hz, period %u, %u periods, clock %s, port %u\n", r.rate,
	       r.period, periods, clock, ntohs(addr.sin_port));
	fflush(stdout);
	r.last_play = na_now();

	while (!stop) {
		double wait = r.last_play + gap - na_now();

		/* -c aloop: nothing to time, snd-aloop's clock runs on its own. */
		if (poll(&pfd, 1, r.timer < 0 ? -1 : wait > 0 ? (int)(wait * 1000) + 1 : 0) > 0)
			receive(&r, &p, recv(pfd.fd, &p, sizeof(p), 0));
		/* A packet that has not come when the whole period after its own has is lost: its
		 * period is played with silence in its place. */
		while (!stop && (complete(&r, r.next) || complete(&r, r.next + 1))) {
			r.incomplete += !complete(&r, r.next);
			if (play_next(&r))
				return 1;
		}
		if (stop || r.timer < 0 || na_now() < r.last_play + gap)
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
	printf("receiver: clock=%s periods=%llu silence_gaps=%llu silence_before=%llu "
	       "silence_after=%llu incomplete=%llu underruns=%llu dropped_frames=%llu late_frames=%llu "
	       "early_frames=%llu\n", clock, (unsigned long long)r.played,
	       (unsigned long long)r.silence_gaps, (unsigned long long)r.silence_before,
	       (unsigned long long)r.silence_after, (unsigned long long)r.incomplete,
	       (unsigned long long)r.underruns, (unsigned long long)r.dropped_frames,
	       (unsigned long long)r.late_frames, (unsigned long long)r.early_frames);
	snd_pcm_close(r.pcm);
	if (r.timer >= 0)
		close(r.timer);
	return 0;
}
