// SPDX-License-Identifier: GPL-2.0
/*
 * sender: streams audio over UDP on a clock of its own, as a device across the network would.
 *
 *   sender [-r RATE] [-f FRAMES] [-d SECONDS] [-D PPM] [-j JITTER_US] [-g AT_S:MS] [-s MS]
 *          [HOST [PORT]]
 *
 * Packets of FRAMES frames (default 120: 2.5 ms at 48 kHz) go to HOST:PORT (127.0.0.1:5004).
 * The sender's clock runs PPM parts per million fast (negative: slow) against this machine's, so
 * it sends RATE * (1 + PPM / 10^6) frames per second of ours.  -j delays each packet on its way
 * by a random 0..JITTER_US microseconds: packets overtake each other when the jitter exceeds
 * their interval, as on a network.  -g stops sending for MS milliseconds at AT_S seconds.  A
 * packet with no frames ends the stream.
 *
 * A sender that was stopped (SIGSTOP, a starved machine) is behind its clock when it runs again,
 * and sends what it missed at once.  With -s MS, a sender more than MS milliseconds late takes
 * the time it lost as a pause of its clock instead, as a device whose clock stopped would: it
 * goes on from where it was, in real time, and counts it (stalls, and the longest in stalled_ms).
 * Nothing is lost either way.  The socket is not connected: a receiver that is not there (not
 * yet started, restarting) does not make later sends fail.  A send that fails anyway is counted
 * (send_errors), the first one said.
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
	unsigned int stall_ms = 0, stalls = 0, errors = 0;
	double ppm = 0, gap_at = 0, due[WINDOW], t0, interval, stalled = 0;
	uint32_t seq[WINDOW], total, next = 0, sent = 0, highest = 0, overtaken = 0;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(NA_PORT) };
	struct na_packet p;
	int opt, sock, n = 0;

	while ((opt = getopt(argc, argv, "r:f:d:D:j:g:s:")) != -1) {
		switch (opt) {
		case 'r': rate = strtoul(optarg, NULL, 0); break;
		case 'f': frames = strtoul(optarg, NULL, 0); break;
		case 'd': seconds = strtoul(optarg, NULL, 0); break;
		case 'D': ppm = strtod(optarg, NULL); break;
		case 'j': jitter_us = strtoul(optarg, NULL, 0); break;
		case 's': stall_ms = strtoul(optarg, NULL, 0); break;
		case 'g': if (sscanf(optarg, "%lf:%u", &gap_at, &gap_ms) == 2) break; /* fall through */
		default:
			fprintf(stderr, "usage: %s [-r RATE] [-f FRAMES] [-d SECONDS] [-D PPM] "
				"[-j JITTER_US] [-g AT_S:MS] [-s MS] [HOST [PORT]]\n", argv[0]);
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
	if (sock < 0) {
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
		if (stall_ms) {
			/* Stopped: the time lost is a pause of our clock, not a backlog. */
			double late = na_now() - due[first];

			if (late > stall_ms / 1e3) {
				t0 += late;
				for (int i = 0; i < n; i++)
					due[i] += late;
				stalls++;
				if (late > stalled)
					stalled = late;
			}
		}

		p.seq = htonl(seq[first]);
		p.frames = htonl(frames);
		for (unsigned int f = 0; f < frames; f++)
			na_frame(&p.pcm[f * NA_CHANNELS], (uint64_t)seq[first] * frames + f);
		if (sendto(sock, &p, 8 + frames * NA_CHANNELS * 2, 0, (struct sockaddr *)&to,
			   sizeof(to)) < 0 && !errors++)
			perror("sender: send");	/* the first time; counted */
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
	sendto(sock, &p, 8, 0, (struct sockaddr *)&to, sizeof(to));
	printf("sender: packets=%u frames=%llu overtaken=%u seconds=%.3f ppm=%g send_errors=%u "
	       "stalls=%u stalled_ms=%.1f\n", sent, (unsigned long long)total * frames, overtaken,
	       na_now() - t0, ppm, errors, stalls, stalled * 1e3);
	return 0;
}
