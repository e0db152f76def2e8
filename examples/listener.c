// SPDX-License-Identifier: GPL-2.0
/*
 * listener: captures the other end of snd-aloop, hw:Loopback,1,0, and checks the sender's stream
 * in it: every frame arrives, in order, bit-exact, with no xrun and no silence inserted.
 *
 *   listener [-r RATE] [-p PERIOD] [-n PERIODS] [-d SECONDS] [-f FILE]
 *
 * Silence before the stream's first frame is the wait for it and does not count.  Stops after
 * the stream's last frame (RATE * SECONDS frames, as the sender's -d), or when no frame has come
 * for a few seconds, prints what it saw and exits with 0 only if the stream was perfect.
 *
 * -f FILE checks a capture made by another program instead (`arecord -t raw -f S16_LE -c 2`;
 * "-" for stdin), to its end or the stream's last frame.
 *
 * Besides frames, missing (frame numbers skipped), silence (frames of silence within the stream),
 * disorder (a number repeated or going back) and xruns, it counts the runs of silence within the
 * stream (silence_runs, the longest in silence_longest, in frames), and those after which frame
 * numbers were skipped (skips; the numbers skipped there, skipped): a receiver that restarted
 * midway leaves one such run; silence that a clock's holdover put in, none.  The first runs are
 * listed as FRAME:LENGTH (silence_at=), FRAME the number the stream resumed with.
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
	uint64_t run = 0, runs = 0, longest = 0, skips = 0, skipped = 0;
	double start, last_frame = 0;
	const char *file = NULL;
	char runs_at[256] = "";
	snd_pcm_sframes_t n;
	snd_pcm_t *pcm = NULL;
	FILE *in = NULL;
	int16_t *buf;
	int opt;

	while ((opt = getopt(argc, argv, "r:p:n:d:f:")) != -1) {
		switch (opt) {
		case 'r': rate = strtoul(optarg, NULL, 0); break;
		case 'p': period = strtoul(optarg, NULL, 0); break;
		case 'n': periods = strtoul(optarg, NULL, 0); break;
		case 'd': seconds = strtoul(optarg, NULL, 0); break;
		case 'f': file = optarg; break;
		default:
			fprintf(stderr, "usage: %s [-r RATE] [-p PERIOD] [-n PERIODS] [-d SECONDS] "
				"[-f FILE]\n", argv[0]);
			return 2;
		}
	}
	buf = calloc((size_t)period * NA_CHANNELS, sizeof(*buf));
	if (!buf)
		return 1;
	if (file) {
		in = strcmp(file, "-") ? fopen(file, "re") : stdin;
		if (!in) {
			perror(file);
			return 1;
		}
	} else {
		pcm = na_pcm_open("hw:Loopback,1,0", SND_PCM_STREAM_CAPTURE, 0, rate, period,
				  periods, 0);
		if (!pcm)
			return 1;	/* na_pcm_open() said why */
		if ((n = snd_pcm_start(pcm)) < 0) {
			fprintf(stderr, "listener: start: %s\n", snd_strerror(n));
			return 1;
		}
		printf("listener: ready: %u Hz, period %u, %u periods, %u s\n", rate, period,
		       periods, seconds);
		fflush(stdout);
	}
	start = na_now();

	/* Until the last frame, or 60 s without the first one, or 3 s without any; a file: to its
	 * end. */
	while (expect < (uint64_t)rate * seconds &&
	       (in || na_now() < (frames ? last_frame + 3 : start + 60))) {
		if (in) {
			n = fread(buf, NA_CHANNELS * sizeof(*buf), period, in);
			if (!n)
				break;
		} else {
			n = snd_pcm_readi(pcm, buf, period);
		}
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
				run += frames > 0;
				continue;
			}
			if (run) {	/* a run of silence ends */
				size_t len = strlen(runs_at);

				runs++;
				if (run > longest)
					longest = run;
				if ((uint64_t)number > expect) {
					skips++;
					skipped += number - expect;
				}
				if (runs <= 8)
					snprintf(runs_at + len, sizeof(runs_at) - len, "%s%lld:%llu",
						 len ? "," : "", (long long)number,
						 (unsigned long long)run);
				run = 0;
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
	       "complete=%s seconds=%.2f silence_runs=%llu silence_longest=%llu skips=%llu "
	       "skipped=%llu silence_at=%s\n", (unsigned long long)frames,
	       (unsigned long long)missing, (unsigned long long)silence,
	       (unsigned long long)disorder, (unsigned long long)xruns,
	       expect == (uint64_t)rate * seconds ? "yes" : "no", na_now() - start,
	       (unsigned long long)runs, (unsigned long long)longest, (unsigned long long)skips,
	       (unsigned long long)skipped, runs_at[0] ? runs_at : "-");
	if (pcm)
		snd_pcm_close(pcm);
	return !(expect == (uint64_t)rate * seconds && !missing && !silence && !disorder && !xruns);
}
