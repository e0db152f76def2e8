// SPDX-License-Identifier: GPL-2.0
/*
 * Closing a timer while it is in use, run in the guest as root:
 *
 *   stress_close_in_use [-r ROUNDS] [-s SEED] [--plan]
 *
 * Each round (ROUNDS, default 20) closes a timer while an aloop stream runs on it, a
 * /dev/snd/timer reader waits in read or poll, and a thread is in TRIGGER on a dup; then
 * checks that every consumer recovers on a new timer.  First, for ROUNDS / 2 seconds, a
 * persistent timer is attached, triggered, taken, detached, read, removed and made again by
 * concurrent threads (mode_persist).
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

/*
 * Persistent timers under churn: two writers attach, trigger in bursts with pauses (so the timer
 * enters and leaves holdover), take the clock and detach; a /dev/snd/timer reader starts and
 * stops on the timer (the hrtimer armed and disarmed); a third thread removes the timer and
 * makes it again.  Every call must give a documented result (attach: ENOENT, EBUSY; remove:
 * EBUSY, ENOENT; create: EBUSY) and the kernel must report nothing (run.sh, KASAN and lockdep on
 * the debug kernel).
 */
#define CHURN_ID 7

struct churn {
	int stop;
	uint64_t seed;
	unsigned long attached, attach_busy, attach_gone, triggers, takes, removed, remove_busy,
		      remove_gone, created, reader_runs, reader_records, bad;
};

static int churn_stopped(struct churn *c)
{
	return __atomic_load_n(&c->stop, __ATOMIC_ACQUIRE);
}

static void churn_bad(struct churn *c, const char *what, int err)
{
	if (__atomic_fetch_add(&c->bad, 1, __ATOMIC_RELAXED) < 10)
		diag("persistent churn: %s: %s", what, strerror(err));
}

static int persist_make(unsigned int id)
{
	struct utimer_create req = {
		.resolution = RES_1MS,
		.flags = UTIMER_CREATE_ID | UTIMER_CREATE_PERSIST,
		.id = id,
	};

	return ioctl(ctl, UTIMER_IOCTL_CREATE_EXT, &req) < 0 ? -errno : 0;
}

static int persist_remove(unsigned int id)
{
	struct utimer_remove req = { .id = id };

	return ioctl(ctl, UTIMER_IOCTL_REMOVE, &req) < 0 ? -errno : 0;
}

static void *churn_writer(void *arg)
{
	struct churn *c = arg;
	uint64_t rng = __atomic_fetch_add(&c->seed, 1, __ATOMIC_RELAXED);

	while (!churn_stopped(c)) {
		struct utimer_attach a = { .id = CHURN_ID };
		int n = rnd(&rng) % 20;

		if (ioctl(ctl, UTIMER_IOCTL_ATTACH, &a) < 0) {
			if (errno == EBUSY)
				__atomic_fetch_add(&c->attach_busy, 1, __ATOMIC_RELAXED);
			else if (errno == ENOENT)
				__atomic_fetch_add(&c->attach_gone, 1, __ATOMIC_RELAXED);
			else
				churn_bad(c, "ATTACH", errno);
			usleep(rnd(&rng) % 2000);
			continue;
		}
		__atomic_fetch_add(&c->attached, 1, __ATOMIC_RELAXED);
		for (int i = 0; i < n; i++) {
			if (ioctl(a.fd, UTIMER_IOCTL_TRIGGER) < 0)
				churn_bad(c, "TRIGGER", errno);
			__atomic_fetch_add(&c->triggers, 1, __ATOMIC_RELAXED);
			if (rnd(&rng) % 4 == 0) {
				if (ioctl(a.fd, UTIMER_IOCTL_TAKE) < 0)
					churn_bad(c, "TAKE", errno);
				__atomic_fetch_add(&c->takes, 1, __ATOMIC_RELAXED);
			}
			/* Up to 5 periods without a TRIGGER: holdover (2 periods) begins and ends. */
			usleep(rnd(&rng) % 5000);
		}
		close(a.fd);
		usleep(rnd(&rng) % 10000);	/* room for the remover */
	}
	return NULL;
}

static void *churn_reader(void *arg)
{
	struct churn *c = arg;
	uint64_t rng = __atomic_fetch_add(&c->seed, 1, __ATOMIC_RELAXED);

	while (!churn_stopped(c)) {
		snd_timer_t *t = NULL;
		long n;

		/* Refused while the timer is removed: that is not what is tested here. */
		if (utimer_client_open(&t, CHURN_ID, 1) < 0) {
			usleep(1000);
			continue;
		}
		__atomic_fetch_add(&c->reader_runs, 1, __ATOMIC_RELAXED);
		n = client_records(t, rnd(&rng) % 20);
		if (n > 0)
			__atomic_fetch_add(&c->reader_records, n, __ATOMIC_RELAXED);
		snd_timer_stop(t);
		snd_timer_close(t);
	}
	return NULL;
}

static void *churn_remover(void *arg)
{
	struct churn *c = arg;
	uint64_t rng = __atomic_fetch_add(&c->seed, 1, __ATOMIC_RELAXED);

	while (!churn_stopped(c)) {
		int err;

		usleep(rnd(&rng) % 20000);
		/* Until no writer is attached (EBUSY meanwhile). */
		while ((err = persist_remove(CHURN_ID)) == -EBUSY && !churn_stopped(c)) {
			__atomic_fetch_add(&c->remove_busy, 1, __ATOMIC_RELAXED);
			usleep(200);
		}
		if (err == -EBUSY)
			break;
		if (err == -ENOENT)
			__atomic_fetch_add(&c->remove_gone, 1, __ATOMIC_RELAXED);
		else if (err)
			churn_bad(c, "REMOVE", -err);
		else
			__atomic_fetch_add(&c->removed, 1, __ATOMIC_RELAXED);
		usleep(rnd(&rng) % 5000);
		err = persist_make(CHURN_ID);
		if (err && err != -EBUSY)
			churn_bad(c, "CREATE_EXT persistent", -err);
		else if (!err)
			__atomic_fetch_add(&c->created, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void mode_persist(double seconds, uint64_t seed)
{
	struct churn c = { .seed = seed };
	pthread_t w1, w2, rd, rm;
	int err, live;

	err = persist_make(CHURN_ID);
	if (err) {
		ksft_test_result_fail("persistent_timers_churn_gives_documented_results # "
				      "CREATE_EXT persistent: %s\n", strerror(-err));
		return;
	}
	pthread_create(&w1, NULL, churn_writer, &c);
	pthread_create(&w2, NULL, churn_writer, &c);
	pthread_create(&rd, NULL, churn_reader, &c);
	pthread_create(&rm, NULL, churn_remover, &c);
	usleep((useconds_t)(seconds * 1e6));
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	pthread_join(w1, NULL);
	pthread_join(w2, NULL);
	pthread_join(rd, NULL);
	pthread_join(rm, NULL);
	/* No writer is left: the timer, if it exists, goes; then none is listed. */
	err = persist_remove(CHURN_ID);
	if (err && err != -ENOENT)
		churn_bad(&c, "the last REMOVE", -err);
	live = listing_live(NULL);
	diag("persistent churn, %.0f s: %lu attaches (%lu EBUSY, %lu ENOENT), %lu TRIGGERs, %lu "
	     "TAKEs, %lu removes (%lu EBUSY, %lu ENOENT), %lu creates, %lu reader runs with %lu "
	     "records; %d timers left", seconds, c.attached, c.attach_busy, c.attach_gone,
	     c.triggers, c.takes, c.removed, c.remove_busy, c.remove_gone, c.created,
	     c.reader_runs, c.reader_records, live);
	report("persist_attaches", c.attached);
	report("persist_attach_ebusy", c.attach_busy);
	report("persist_removes", c.removed);
	report("persist_remove_ebusy", c.remove_busy);
	report("persist_reader_records", c.reader_records);
	report("persist_unexpected_results", c.bad);
	ksft_test_result(c.bad == 0 && live == 0 && c.attached > 0 && c.removed > 0 &&
			 c.attach_busy > 0,
			 "persistent_timers_churn_gives_documented_results\n");
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
	plan_or_print(5, plan_only);
	open_ctl_or_bail();
	mode_persist(rounds / 2.0, seed);
	mode_close_in_use(rounds, seed);
	close(ctl);
	ksft_finished();
}
