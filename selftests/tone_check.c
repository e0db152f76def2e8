// SPDX-License-Identifier: GPL-2.0
/*
 * What a capture of a sine tone holds, for the utimer PCM's resampled streams
 * (alsa_plugin_test.sh): the tone's frequency, from the first channel's rising zero crossings
 * (interpolated between samples), over the time the tone sounds: the runs of silence between
 * the first and the last crossing do not count (a writer's late cycle that a sound server fills
 * with silence delays the tone, and does not change its pitch); the longest run of silence
 * inside the tone, and their sum.  The tone is the part between the first and the last sample
 * louder than a quarter of full scale; silence is samples within 64 of zero (a sine of 1 kHz at
 * 48 kHz and half of full scale never has two in a row: runs of two or more are silence).
 *   tone_check FILE RATE CHANNELS
 * FILE: raw S16_LE, CHANNELS interleaved, at RATE.  Prints one line,
 * "frequency F longest_silence N tone_frames M silent_frames S" (F in Hz, N, M and S in
 * frames); exits 1 when the file cannot be read or holds no tone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOUD 8192
#define QUIET 64

int main(int argc, char **argv)
{
	long rate, channels, n = 0, cap = 0, first = -1, last = -1, i, run = 0, longest = 0;
	long crossings = 0, silent = 0, silent_at_last = 0;
	double t, t_first = 0, t_last = 0;
	short *x = NULL, frame[64];
	FILE *f;

	if (argc != 4 || (rate = atol(argv[2])) <= 0 || (channels = atol(argv[3])) <= 0 ||
	    channels > 64) {
		fprintf(stderr, "usage: tone_check FILE RATE CHANNELS\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	/* The first channel of each frame. */
	while (fread(frame, sizeof(short), channels, f) == (size_t)channels) {
		if (n == cap) {
			short *y = realloc(x, (cap = cap ? 2 * cap : 65536) * sizeof(*x));

			if (!y) {
				fclose(f);
				free(x);
				return 1;
			}
			x = y;
		}
		x[n++] = frame[0];
	}
	fclose(f);
	for (i = 0; i < n; i++)
		if (abs(x[i]) > LOUD) {
			if (first < 0)
				first = i;
			last = i;
		}
	if (first < 0 || last - first < rate / 10) {
		printf("frequency 0 longest_silence 0 tone_frames 0\n");
		free(x);
		return 1;
	}
	for (i = first + 1; i <= last; i++) {
		if (abs(x[i]) <= QUIET) {
			run++;
		} else {
			/* A run of silence ends: counted once the tone has begun. */
			if (run > 1 && crossings)
				silent += run;
			run = 0;
		}
		if (run > longest)
			longest = run;
		if (x[i - 1] < 0 && x[i] >= 0) {
			t = i - 1 + (double)-x[i - 1] / (x[i] - x[i - 1]);
			if (!crossings)
				t_first = t;
			t_last = t;
			silent_at_last = silent;
			crossings++;
		}
	}
	t = t_last - t_first - silent_at_last;
	printf("frequency %.3f longest_silence %ld tone_frames %ld silent_frames %ld\n",
	       crossings > 1 && t > 0 ? (crossings - 1) * (double)rate / t : 0.0, longest,
	       last - first + 1, silent_at_last);
	free(x);
	return 0;
}
