// SPDX-License-Identifier: GPL-2.0
/*
 * listener: captures the other end of snd-aloop, hw:Loopback,1,0, and checks the sender's stream
 * in it: every frame arrives, in order, bit-exact, with no xrun and no silence inserted.
 *
 *   listener [-r RATE] [-p PERIOD] [-n PERIODS] [-d SECONDS]
 *
 * Silence before the stream's first frame is the wait for it and does not count.  Stops after
 * the stream's last frame (RATE * SECONDS frames, as the sender's -d), or when no frame has come
 * for a few seconds, prints what it saw and exits with 0 only if the stream was perfect.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "netaudio.h"

int main(int argc, char **argv)
{
	unsigned int rate = 48000, period = 480, periods = 8, seconds = 10;
	uint64_t expect = 0, frames = 0, missing = 0, silence = 0, disorder = 0, xruns = 0;
	double start, last_frame = 0;
	snd_pcm_sframes_t n;
	snd_pcm_t *pcm;
	int16_t *buf;
	int opt;

	while ((opt = getopt(argc, argv, "r:p:n:d:")) != -1) {
		switch (opt) {
		case 'r': rate = strtoul(optarg, NULL, 0); break;
		case 'p': period = strtoul(optarg, NULL, 0); break;
		case 'n': periods = strtoul(optarg, NULL, 0); break;
		case 'd': seconds = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: %s [-r RATE] [-p PERIOD] [-n PERIODS] [-d SECONDS]\n",
				argv[0]);
			return 2;
		}
	}
	buf = calloc((size_t)period * NA_CHANNELS, sizeof(*buf));
	pcm = na_pcm_open("hw:Loopback,1,0", SND_PCM_STREAM_CAPTURE, 0, rate, period, periods, 0);
	if (!buf || !pcm)
		return 1;	/* na_pcm_open() said why */
	if ((n = snd_pcm_start(pcm)) < 0) {
		fprintf(stderr, "listener: start: %s\n", snd_strerror(n));
		return 1;
	}
	printf("listener: ready: %u Hz, period %u, %u periods, %u s\n", rate, period, periods,
	       seconds);
	fflush(stdout);
	start = na_now();

	/* Until the last frame, or 60 s without the first one, or 3 s without any. */
	while (expect < (uint64_t)rate * seconds &&
	       na_now() < (frames ? last_frame + 3 : start + 60)) {
		n = snd_pcm_readi(pcm, buf, period);
		if (n == -EPIPE) {
			xruns++;
			if (snd_pcm_prepare(pcm) == 0 && snd_pcm_start(pcm) == 0)
				continue;
		}
		if (n < 0) {
			fprintf(stderr, "listener: capture: %s\n", snd_strerror(n));
			break;
		}
		for (snd_pcm_sframes_t f = 0; f < n && expect < (uint64_t)rate * seconds; f++) {
			int64_t number = na_frame_number(&buf[f * NA_CHANNELS]);

			if (number < 0) {	/* silence: inserted, once the stream began */
				silence += frames > 0;
				continue;
			}
			frames++;
			last_frame = na_now();
			if ((uint64_t)number > expect)
				missing += number - expect;
			else if ((uint64_t)number < expect)
				disorder++;	/* repeated or out of order */
			if ((uint64_t)number >= expect)
				expect = number + 1;
		}
	}
	printf("listener: frames=%llu missing=%llu silence=%llu disorder=%llu xruns=%llu "
	       "complete=%s seconds=%.2f\n", (unsigned long long)frames,
	       (unsigned long long)missing, (unsigned long long)silence,
	       (unsigned long long)disorder, (unsigned long long)xruns,
	       expect == (uint64_t)rate * seconds ? "yes" : "no", na_now() - start);
	snd_pcm_close(pcm);
	return !(expect == (uint64_t)rate * seconds && !missing && !silence && !disorder && !xruns);
}
