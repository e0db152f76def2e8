// SPDX-License-Identifier: GPL-2.0
/*
 * A tick counter for an ALSA global timer through alsa-lib, done the way that works with
 * current alsa-lib: poll the timer's descriptors and read its events.
 *
 *   tick_counter DEVICE SUBDEVICE TIMEOUT_S
 *
 * It speaks the protocol of upstream's tools/testing/selftests/alsa/global-timer.c (prints
 * "Timer has started", counts for TIMEOUT_S seconds, prints "Total ticks count: N"), so that
 * upstream's utimer-test can run with it in global-timer's place.  Upstream's global-timer
 * counts in an async (SIGIO) handler and dies at snd_timer_close(): alsa-lib 1.2.14's
 * snd_async_del_handler() has no case for timer handlers and asserts, so the count is never
 * printed and utimer-test fails with 0 ticks, against any implementation.
 *
 * SIGINT or SIGTERM ends the count early: the queued events are read, then the total printed
 * (cli_test.sh waits for its producer to finish, not for a fixed window).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <alsa/asoundlib.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	snd_timer_params_t *params;
	snd_timer_read_t r;
	struct pollfd pfd[4];
	snd_timer_t *timer;
	char name[96];
	long ticks = 0;
	double end;
	int n, err;

	if (argc != 4) {
		fprintf(stderr, "usage: %s DEVICE SUBDEVICE TIMEOUT_S\n", argv[0]);
		return 2;
	}
	setlinebuf(stdout);
	snprintf(name, sizeof(name), "hw:CLASS=%d,SCLASS=%d,DEV=%d,SUBDEV=%d",
		 SND_TIMER_CLASS_GLOBAL, SND_TIMER_SCLASS_NONE, atoi(argv[1]), atoi(argv[2]));
	if ((err = snd_timer_open(&timer, name, SND_TIMER_OPEN_NONBLOCK)) < 0) {
		fprintf(stderr, "%s: %s\n", name, snd_strerror(err));
		return 1;
	}
	snd_timer_params_alloca(&params);
	snd_timer_params_set_auto_start(params, 1);
	snd_timer_params_set_ticks(params, 1);
	if ((err = snd_timer_params(timer, params)) < 0 || (err = snd_timer_start(timer)) < 0) {
		fprintf(stderr, "%s: %s\n", name, snd_strerror(err));
		return 1;
	}
	n = snd_timer_poll_descriptors(timer, pfd, 4);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("Timer has started\n");
	end = now() + atoi(argv[3]);
	while (now() < end && !stop) {
		/* At most 100 ms at a time: a signal between the test and poll() is seen soon. */
		if (poll(pfd, n, end - now() < 0.1 ? (int)((end - now()) * 1000) + 1 : 100) < 0 &&
		    errno != EINTR)
			break;
		/* Records of one resolution are merged by the core: sum their ticks. */
		while (snd_timer_read(timer, &r, sizeof(r)) == sizeof(r))
			ticks += r.ticks;
	}
	snd_timer_stop(timer);
	snd_timer_close(timer);
	printf("Total ticks count: %ld\n", ticks);
	return 0;
}
