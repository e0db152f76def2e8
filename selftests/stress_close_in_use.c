// SPDX-License-Identifier: GPL-2.0
/*
 * Closing a timer while it is in use, run in the guest as root:
 *
 *   stress_close_in_use [-r ROUNDS] [-s SEED] [--plan]
 *
 * Each round (ROUNDS, default 20) closes a timer while an aloop stream runs on it, a
 * /dev/snd/timer reader waits in read or poll, and a thread is in TRIGGER on a dup; then
 * checks that every consumer recovers on a new timer.
 *
 * It ends with the capacity check: no timer left (debugfs), and every id can be created again.
 * Output: TAP (the plan first; --plan, with the same arguments, prints only its number), and
 * "# stat NAME VALUE" lines that testing/stress tabulates.  Environment: UTIMER_DEV.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "stress.h"

#define CREDIT 16	/* triggers ahead of the periods read: keeps aloop's 64-period buffers safe */

struct round {
	int fd, dup_fd, use_read;
	snd_timer_t *client;
	unsigned long triggers, periods, reader_records;
	int trigger_err, aloop_err, reader_err;
	int closed;
	struct cable cable;
	double closed_at, aloop_eio_after;
};

static void on_usr1(int sig)
{
	(void)sig;
}

static int closed(struct round *r)
{
	return __atomic_load_n(&r->closed, __ATOMIC_ACQUIRE);
}

/* TRIGGER on the dup, as fast as aloop takes it, until the dup is closed under us: EBADF. */
static void *round_trigger(void *arg)
{
	struct round *r = arg;

	for (;;) {
		while (r->triggers - __atomic_load_n(&r->periods, __ATOMIC_ACQUIRE) >= CREDIT &&
		       !closed(r))
			sched_yield();
		if (ioctl(r->dup_fd, UTIMER_IOCTL_TRIGGER) < 0) {
			r->trigger_err = errno;
			return NULL;
		}
		r->triggers++;
	}
}

/* A /dev/snd/timer client in poll() or in a blocking read(), until the timer is gone. */
static void *round_reader(void *arg)
{
	struct round *r = arg;
	snd_timer_read_t buf[16];

	struct pollfd p;
	int fl = -1;

	/* alsa-lib reads the fd as it is: a blocking read blocks. */
	if (r->use_read && snd_timer_poll_descriptors(r->client, &p, 1) == 1) {
		fl = fcntl(p.fd, F_GETFL);
		fcntl(p.fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	while (!closed(r)) {
		long n = r->use_read ? snd_timer_read(r->client, buf, sizeof(buf)) :
			client_records(r->client, 20);

		if (n < 0 && n != -EAGAIN && n != -EINTR)
			r->reader_err = (int)-n;
		else if (n > 0)
			r->reader_records += r->use_read ? n / (long)sizeof(buf[0]) : n;
	}
	if (fl >= 0)
		fcntl(p.fd, F_SETFL, fl);
	return NULL;
}

/* The aloop stream in blocking reads, until ALSA gives up on the dead clock (EIO). */
static void *round_aloop(void *arg)
{
	struct round *r = arg;
	int err;

	while ((err = cable_period(&r->cable, 0)) == 1)
		__atomic_fetch_add(&r->periods, 1, __ATOMIC_RELEASE);
	r->aloop_err = err;
	r->aloop_eio_after = closed(r) ? now() - r->closed_at : -1;
	return NULL;
}

/* Wait for a thread at most `seconds`; 0 if it ended. */
static int join_within(pthread_t t, double seconds)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)seconds;
	return pthread_timedjoin_np(t, NULL, &ts);
}

/* Wait for a thread at most `seconds`, sending it SIGUSR1 every 50 ms; 0 if it ended. */
static int join_waking(pthread_t t, double seconds)
{
	for (double t0 = now(); now() - t0 < seconds;) {
		struct timespec ts;

		pthread_kill(t, SIGUSR1);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (pthread_timedjoin_np(t, NULL, &ts) == 0)
			return 0;
	}
	return -1;
}

/* A new client opens on timer id, the cable reopens on it, one trigger reaches both. */
static int recover(struct round *r, unsigned int id, int fd)
{
	int err;

	if ((err = cable_open(&r->cable, id, 8, 4, SND_PCM_NONBLOCK)) < 0)
		return diag("aloop cable: %s", snd_strerror(err)), -1;
	if ((err = utimer_client_open(&r->client, id, 1)) < 0)
		return diag("alsa-lib client: %s", snd_strerror(err)), -1;
	/*
	 * The client starts on a running timer (aloop's): the core's "delayed start" makes it
	 * run from the next tick on, so the first tick is not its own.
	 */
	if (ioctl(fd, UTIMER_IOCTL_TRIGGER) || ioctl(fd, UTIMER_IOCTL_TRIGGER))
		return diag("TRIGGER: %s", strerror(errno)), -1;
	if (client_records(r->client, 2000) < 1)
		return diag("client: no tick"), -1;
	if ((err = cable_period(&r->cable, 2000)) != 1)
		return diag("aloop: %s", err ? snd_strerror(err) : "wrong samples"), -1;
	return 0;
}

static void mode_close_in_use(int rounds, uint64_t seed)
{
	unsigned long hangs = 0, wrong = 0, not_recovered = 0, triggers = 0, records = 0, periods = 0;
	double max_eio = 0;
	uint64_t rng = seed;
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART: read gets EINTR */
	int i;

	sigaction(SIGUSR1, &sa, NULL);
	for (i = 0; i < rounds; i++) {
		struct round r = { .use_read = i % 2 };
		pthread_t tt, rt, at;
		unsigned int id = 0, id2 = 0;
		int fd2, err, cerr;

		r.fd = new_timer(RES_1MS, &id);
		if (r.fd < 0) {
			diag("round %d: CREATE: %s", i, strerror(-r.fd));
			wrong++;
			break;
		}
		r.dup_fd = dup(r.fd);
		/*
		 * The cable first: snd-aloop cannot start on a timer that another instance runs
		 * already (see aloop_test's aloop_cannot_start_on_a_running_timer).
		 */
		err = cable_open(&r.cable, id, 64, 32, 0);
		cerr = utimer_client_open(&r.client, id, 1);
		if (cerr < 0 || err < 0) {
			diag("round %d: consumers on timer %u: client %s, aloop %s", i, id,
			     snd_strerror(cerr), snd_strerror(err));
			wrong++;
			cable_close(&r.cable);
			close(r.dup_fd);
			close(r.fd);
			if (r.client)
				snd_timer_close(r.client);
			break;
		}
		pthread_create(&rt, NULL, round_reader, &r);
		pthread_create(&at, NULL, round_aloop, &r);
		pthread_create(&tt, NULL, round_trigger, &r);
		usleep(rnd(&rng) % 20000);
		close(r.fd);			/* the dup keeps the timer */
		usleep(rnd(&rng) % 5000);
		r.closed_at = now();
		close(r.dup_fd);		/* maybe mid-TRIGGER: the last reference destroys it */
		__atomic_store_n(&r.closed, 1, __ATOMIC_RELEASE);
		/* Bounded waits: a consumer that does not come back is a hang. */
		if (join_waking(tt, 10) || join_waking(rt, 10) || join_within(at, 20)) {
			diag("round %d: a consumer of the closed timer did not return", i);
			hangs++;
			break;
		}
		if (r.trigger_err != EBADF || r.reader_err || r.aloop_err != -EIO) {
			diag("round %d: TRIGGER ended with %s, reader %s, aloop %s; %lu triggers, %lu "
			     "periods, capture %s, %ld frames ready", i,
			     strerror(r.trigger_err), r.reader_err ? strerror(r.reader_err) : "ok",
			     r.aloop_err < 0 ? snd_strerror(r.aloop_err) : "wrong samples", r.triggers,
			     r.periods, snd_pcm_state_name(snd_pcm_state(r.cable.cap)),
			     snd_pcm_avail(r.cable.cap));
			wrong++;
		}
		max_eio = r.aloop_eio_after > max_eio ? r.aloop_eio_after : max_eio;
		triggers += r.triggers;
		records += r.reader_records;
		periods += r.periods;
		cable_close(&r.cable);
		snd_timer_close(r.client);
		r.client = NULL;

		/* Recovery on a new timer, which gets the same id. */
		fd2 = new_timer(RES_1MS, &id2);
		if (fd2 < 0 || id2 != id) {
			diag("round %d: new CREATE: %s, id %u (was %u)", i,
			     fd2 < 0 ? strerror(-fd2) : "ok", id2, id);
			not_recovered++;
		} else if (recover(&r, id, fd2)) {
			diag("round %d: the consumers did not recover on the new timer", i);
			not_recovered++;
		}
		cable_close(&r.cable);
		if (r.client)
			snd_timer_close(r.client);
		if (fd2 >= 0)
			close(fd2);
	}
	diag("%d rounds: %lu triggers on the dying timers, %lu reader records, %lu aloop periods; "
	     "aloop's read got EIO at most %.0f ms after the last close", i, triggers, records,
	     periods, max_eio * 1e3);
	report("close_in_use_rounds", i);
	report("close_in_use_triggers", triggers);
	report("close_in_use_aloop_periods", periods);
	report("close_in_use_hangs", hangs);
	report("close_in_use_wrong_results", wrong);
	report("close_in_use_not_recovered", not_recovered);
	ksft_test_result(hangs == 0 && i == rounds, "close_while_in_use_never_hangs_a_consumer\n");
	ksft_test_result(wrong == 0,
			 "close_while_in_use_gives_ebadf_to_trigger_and_eio_to_aloop\n");
	ksft_test_result(not_recovered == 0, "consumers_recover_on_a_new_timer\n");
	capacity_check("close_in_use");
}

static void usage(void)
{
	fprintf(stderr, "usage: stress_close_in_use [-r ROUNDS] [-s SEED] [--plan]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int plan_only = take_flag(&argc, argv, "--plan"), rounds = 20;
	uint64_t seed = 0x5eed;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-r") && v)
			rounds = atoi(v), i++;
		else if (!strcmp(a, "-s") && v)
			seed = strtoull(v, NULL, 0), i++;
		else
			usage();
	}
	if (rounds < 1)
		usage();
	plan_or_print(4, plan_only);
	open_ctl_or_bail();
	mode_close_in_use(rounds, seed);
	close(ctl);
	ksft_finished();
}
