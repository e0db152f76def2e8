// SPDX-License-Identifier: GPL-2.0
/*
 * sender: streams audio over UDP on a clock of its own, as a device across the network would.
 *
 *   sender [-r RATE] [-f FRAMES] [-d SECONDS] [-D PPM] [-j JITTER_US] [-g AT_S:MS] [HOST [PORT]]
 *
 * Packets of FRAMES frames (default 120: 2.5 ms at 48 kHz) go to HOST:PORT (127.0.0.1:5004).
 * The sender's clock runs PPM parts per million fast (negative: slow) against this machine's, so
 * it sends RATE * (1 + PPM / 10^6) frames per second of ours.  -j delays each packet on its way
 * by a random 0..JITTER_US microseconds: packets overtake each other when the jitter exceeds
 * their interval, as on a network.  -g stops sending for MS milliseconds at AT_S seconds.  A
 * packet with no frames ends the stream.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netaudio.h"

#define WINDOW 64	/* packets on their way at most */

int main(int argc, char **argv)
{
	unsigned int rate = 48000, frames = 120, seconds = 10, jitter_us = 0, gap_ms = 0;
	double ppm = 0, gap_at = 0, due[WINDOW], t0, interval;
	uint32_t seq[WINDOW], total, next = 0, sent = 0, highest = 0, overtaken = 0;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(NA_PORT) };
	struct na_packet p;
	int opt, sock, n = 0;

	while ((opt = getopt(argc, argv, "r:f:d:D:j:g:")) != -1) {
		switch (opt) {
		case 'r': rate = strtoul(optarg, NULL, 0); break;
		case 'f': frames = strtoul(optarg, NULL, 0); break;
		case 'd': seconds = strtoul(optarg, NULL, 0); break;
		case 'D': ppm = strtod(optarg, NULL); break;
		case 'j': jitter_us = strtoul(optarg, NULL, 0); break;
		case 'g': if (sscanf(optarg, "%lf:%u", &gap_at, &gap_ms) == 2) break; /* fall through */
		default:
			fprintf(stderr, "usage: %s [-r RATE] [-f FRAMES] [-d SECONDS] [-D PPM] "
				"[-j JITTER_US] [-g AT_S:MS] [HOST [PORT]]\n", argv[0]);
			return 2;
		}
	}
	inet_pton(AF_INET, optind < argc ? argv[optind] : "127.0.0.1", &to.sin_addr);
	if (optind + 1 < argc)
		to.sin_port = htons(atoi(argv[optind + 1]));
	interval = (double)frames / rate / (1 + ppm / 1e6);
	if (!rate || !frames || frames > NA_MAX_PACKET_FRAMES || ppm <= -1e6 ||
	    jitter_us / 1e6 > (WINDOW - 1) * interval) {
		fprintf(stderr, "sender: frames must be 1..%d, the jitter below %d packets\n",
			NA_MAX_PACKET_FRAMES, WINDOW - 1);
		return 2;
	}
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&to, sizeof(to)) < 0) {
		perror("sender: socket");
		return 1;
	}
	total = (uint64_t)rate * seconds / frames;
	srand48(1);
	t0 = na_now() + 0.01;

	while (sent < total) {
		/* Packets leave in the order of their arrival times: the earliest of those on their
		 * way, once every packet that could arrive before it is on its way too. */
		int first = 0;

		for (;;) {
			for (int i = 1; i < n; i++)
				if (due[i] < due[first])
					first = i;
			if (gap_ms && next * interval >= gap_at) {
				/* The pause: MS from now, or from when the packet was due if later. */
				double late = na_now() - (t0 + next * interval);

				t0 += gap_ms / 1e3 + (late > 0 ? late : 0);
				gap_ms = 0;
			}
			double t = t0 + next * interval;
			if (next == total || n == WINDOW || (n && t > due[first]))
				break;
			seq[n] = next++;
			due[n++] = t + drand48() * jitter_us / 1e6;
		}
		struct timespec ts = { .tv_sec = (time_t)due[first] };

		ts.tv_nsec = (long)((due[first] - ts.tv_sec) * 1e9);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);

		p.seq = htonl(seq[first]);
		p.frames = htonl(frames);
		for (unsigned int f = 0; f < frames; f++)
			na_frame(&p.pcm[f * NA_CHANNELS], (uint64_t)seq[first] * frames + f);
		if (send(sock, &p, 8 + frames * NA_CHANNELS * 2, 0) < 0)
			perror("sender: send");
		if (seq[first] < highest)
			overtaken++;
		else
			highest = seq[first];
		sent++;
		due[first] = due[--n];
		seq[first] = seq[n];
	}
	p.seq = htonl(total);
	p.frames = 0;
	send(sock, &p, 8, 0);
	printf("sender: packets=%u frames=%llu overtaken=%u seconds=%.3f ppm=%g\n", sent,
	       (unsigned long long)total * frames, overtaken, na_now() - t0, ppm);
	return 0;
}
