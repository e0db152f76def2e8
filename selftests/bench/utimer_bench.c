// SPDX-License-Identifier: GPL-2.0
/*
 * rust_utimer against upstream's C utimers, in one boot of a kernel that has both
 * (testing/bench: the bench kernel, CONFIG_SND_UTIMER=y, rust_utimer loaded with
 * max_timers=4096).  Each measurement alternates the two implementations round by round (the
 * order flips every round) and reports the medians and their ratio, rust_utimer / upstream.
 *
 *   utimer_bench [--rounds N] [--json FILE]
 *                [--only trigger|floor|create|scale|latency|memory|holdover]
 *
 * Cases: TRIGGER with no consumer, with one /dev/snd/timer client, with a running snd-aloop
 * stream, on an owned timer and (rust_utimer) from the writer attached to a persistent one; the floor (an ioctl the timer fd rejects, ENOTTY, and one on /dev/null); CREATE +
 * close; TRIGGER with 1 to 4096 live timers and CREATE as the id space fills; the latency from
 * TRIGGER to a client woken in poll() and to an aloop capture woken in read(); slab memory per
 * live timer; holdover's pace (ours only).  Times are CLOCK_MONOTONIC in the guest: under QEMU's -icount they count guest
 * instructions, which makes the ratios reproducible; under plain TCG or KVM they are wall time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "../../uapi/rust_utimer.h"
#include "aloop_helpers.h"
#include "bench_stats.h"

enum { UPSTREAM, OURS, NIMPL };

static const char *const impl_devs[NIMPL] = { "/dev/snd/timer", "/dev/utimer" };
static int ctl[NIMPL];
static int rounds = 21;
static FILE *json;

#define RES_1MS 1000000ULL	/* 48 frames at 48 kHz */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("Bail out! ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	exit(1);
}

static int create(int impl, unsigned int *id)
{
	struct utimer_uinfo u = { .resolution = RES_1MS };

	if (ioctl(ctl[impl], UTIMER_IOCTL_CREATE, &u) < 0)
		return -errno;
	if (id)
		*id = u.id;
	return u.fd;
}

static int must_create(int impl, unsigned int *id)
{
	int fd = create(impl, id);

	if (fd < 0)
		die("CREATE on %s: %s", impl_devs[impl], strerror(-fd));
	return fd;
}

/*
 * rust_utimer's persistent timer of 1 ms (its lowest free id) and a writer's fd on it: the
 * TRIGGER of an attached writer.  The timer is removed when the writer's fd is closed (remove()).
 */
static int must_attach(unsigned int *id)
{
	struct utimer_create c = { .resolution = RES_1MS, .flags = UTIMER_CREATE_PERSIST };
	struct utimer_attach a = { 0 };

	if (ioctl(ctl[OURS], UTIMER_IOCTL_CREATE_EXT, &c) < 0)
		die("CREATE_EXT persistent: %s", strerror(errno));
	a.id = c.id;
	if (ioctl(ctl[OURS], UTIMER_IOCTL_ATTACH, &a) < 0)
		die("ATTACH %u: %s", c.id, strerror(errno));
	*id = c.id;
	return a.fd;
}

static void must_remove(unsigned int id)
{
	struct utimer_remove r = { .id = id };

	if (ioctl(ctl[OURS], UTIMER_IOCTL_REMOVE, &r) < 0)
		die("REMOVE %u: %s", id, strerror(errno));
}

static int json_first = 1;

/* One result line of the table, and its JSON object. */
static void result(const char *name, const char *unit, double up, double ours)
{
	char ratio[32] = "-";

	if (up > 0 && ours >= 0)
		snprintf(ratio, sizeof(ratio), "%.3f", ours / up);
	if (!strcmp(unit, "x"))
		printf("# %-44s %14.3f %14.3f %8s  %s\n", name, up, ours, ratio, unit);
	else
		printf("# %-44s %14.1f %14.1f %8s  %s\n", name, up, ours, ratio, unit);
	if (json) {
		fprintf(json, "%s\n  {\"case\": \"%s\", \"unit\": \"%s\", \"upstream\": %.3f, "
			"\"rust_utimer\": %.3f, \"ratio\": %s}", json_first ? "" : ",", name, unit,
			up, ours, up > 0 && ours >= 0 ? ratio : "null");
		json_first = 0;
	}
	fflush(stdout);
}

/* A /dev/snd/timer client on (GLOBAL, 4, id): started, one tick per period. */
static snd_timer_t *client(unsigned int id)
{
	snd_timer_t *t;
	int err = utimer_client_open(&t, id, 1);

	if (err < 0)
		die("a /dev/snd/timer client of timer %u: %s", id, snd_strerror(err));
	return t;
}

static void drain(snd_timer_t *t)
{
	snd_timer_read_t r[64];

	while (snd_timer_read(t, r, sizeof(r)) > 0)
		;
}

/* ------------------------------------------------------------------ TRIGGER */

enum consumer { NONE, CLIENT, ALOOP };

struct cable {
	struct stream_cfg cfg;
	snd_pcm_t *play, *cap;
	short buf[48 * CHANNELS * 16];
};

static void cable_open(struct cable *c, unsigned int id, int cap_mode)
{
	int err;

	c->cfg = (struct stream_cfg){ 48000, 48 };
	memset(c->buf, 0, sizeof(c->buf));
	if (aloop_point_at(id))
		die("point snd-aloop at timer %u", id);
	if ((err = aloop_open_cable(&c->cfg, 64, &c->play, &c->cap, cap_mode)) < 0)
		die("open the loopback: %s", snd_strerror(err));
	for (int i = 0; i < 2; i++)
		if (snd_pcm_writei(c->play, c->buf, 16 * 48) != 16 * 48)
			die("prefill");
	if (snd_pcm_start(c->cap) < 0 || snd_pcm_start(c->play) < 0)
		die("start the loopback");
}

/* 16 periods out of the capture, 16 into the playback: room for the next 16 triggers. */
static void cable_refill(struct cable *c)
{
	if (snd_pcm_readi(c->cap, c->buf, 16 * 48) != 16 * 48 ||
	    snd_pcm_writei(c->play, c->buf, 16 * 48) != 16 * 48)
		die("aloop refill: capture %s", snd_pcm_state_name(snd_pcm_state(c->cap)));
}

static void cable_close(struct cable *c)
{
	aloop_close_cable(c->play, c->cap);
}

/* ns per TRIGGER on fd, in batches the consumer can take (untimed upkeep between them). */
static double trigger_cost(int fd, enum consumer kind, snd_timer_t *t, struct cable *c)
{
	int batch = kind == NONE ? 2000 : kind == CLIENT ? 256 : 16;
	int batches = kind == ALOOP ? 16 : 1;
	double total = 0;

	for (int b = 0; b < batches; b++) {
		double t0 = now_ns();

		for (int i = 0; i < batch; i++)
			if (ioctl(fd, UTIMER_IOCTL_TRIGGER) < 0)
				die("TRIGGER: %s", strerror(errno));
		total += now_ns() - t0;
		if (kind == CLIENT)
			drain(t);
		else if (kind == ALOOP)
			cable_refill(c);
	}
	return total / (batch * batches);
}

/*
 * Median ns per TRIGGER for both implementations, interleaved; with `persist`, rust_utimer's
 * TRIGGER is an attached writer's on a persistent timer (upstream has none: its own CREATE).
 */
static void bench_trigger(enum consumer kind, int persist, const char *name)
{
	double v[NIMPL][rounds];
	int fd[NIMPL];
	unsigned int id[NIMPL];
	snd_timer_t *t[NIMPL] = { NULL };

	for (int i = 0; i < NIMPL; i++) {
		fd[i] = persist && i == OURS ? must_attach(&id[i]) : must_create(i, &id[i]);
		if (kind == CLIENT)
			t[i] = client(id[i]);
	}
	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < NIMPL; k++) {
			int i = (r + k) % NIMPL;
			struct cable c;

			if (kind == ALOOP)
				cable_open(&c, id[i], SND_PCM_NONBLOCK);
			v[i][r] = trigger_cost(fd[i], kind, t[i], &c);
			if (kind == ALOOP)
				cable_close(&c);
		}
	result(name, "ns/op", percentile(v[UPSTREAM], rounds, 0.5),
	       percentile(v[OURS], rounds, 0.5));
	for (int i = 0; i < NIMPL; i++) {
		if (t[i])
			snd_timer_close(t[i]);
		close(fd[i]);
	}
	if (persist)
		must_remove(id[OURS]);
}

/*
 * Holdover's pace (rust_utimer only): a persistent timer of 1 ms with no writer and one client;
 * once holdover runs, the ticks the client counts over 10 s of CLOCK_MONOTONIC against 10 000:
 * the error in parts per million (1 tick is 100 ppm).
 */
static void bench_holdover(void)
{
	struct utimer_create c = { .resolution = RES_1MS, .flags = UTIMER_CREATE_PERSIST };
	snd_timer_read_t rec[64];
	unsigned long ticks = 0;
	double t0, t1;
	snd_timer_t *t;
	long n;

	if (ioctl(ctl[OURS], UTIMER_IOCTL_CREATE_EXT, &c) < 0)
		die("CREATE_EXT persistent: %s", strerror(errno));
	t = client(c.id);
	usleep(500000);		/* holdover begins after 2 periods */
	drain(t);
	t0 = now_ns();
	do {
		struct pollfd p;

		snd_timer_poll_descriptors(t, &p, 1);
		poll(&p, 1, 100);
		while ((n = snd_timer_read(t, rec, sizeof(rec))) > 0)
			for (long i = 0; i < n / (long)sizeof(rec[0]); i++)
				ticks += rec[i].ticks;
		t1 = now_ns();
	} while (t1 - t0 < 10e9);
	snd_timer_close(t);
	must_remove(c.id);
	result("holdover pace over 10 s, error", "ppm", -1,
	       (ticks / ((t1 - t0) / (double)RES_1MS) - 1) * 1e6);
}

/* The floor: an ioctl the timer fd rejects at once, and one on /dev/null. */
static void bench_floor(void)
{
	double v[NIMPL][rounds], null[rounds];
	int fd[NIMPL], dn = open("/dev/null", O_RDONLY);
	const unsigned int bogus = _IO('T', 0xfe);

	for (int i = 0; i < NIMPL; i++)
		fd[i] = must_create(i, NULL);
	for (int r = 0; r < rounds; r++) {
		for (int k = 0; k < NIMPL; k++) {
			int i = (r + k) % NIMPL;
			double t0 = now_ns();

			for (int n = 0; n < 2000; n++)
				if (ioctl(fd[i], bogus) == 0 || errno != ENOTTY)
					die("ioctl %#x on a timer fd did not fail with ENOTTY", bogus);
			v[i][r] = (now_ns() - t0) / 2000;
		}
		double t0 = now_ns();

		for (int n = 0; n < 2000; n++)
			ioctl(dn, bogus);
		null[r] = (now_ns() - t0) / 2000;
	}
	result("floor: ENOTTY ioctl on the timer fd", "ns/op", percentile(v[UPSTREAM], rounds, 0.5),
	       percentile(v[OURS], rounds, 0.5));
	double dnull = percentile(null, rounds, 0.5);

	result("floor: ENOTTY ioctl on /dev/null (both)", "ns/op", dnull, dnull);
	for (int i = 0; i < NIMPL; i++)
		close(fd[i]);
	close(dn);
}

/* ------------------------------------------------------------------ CREATE */

static void bench_create_close(void)
{
	double v[NIMPL][rounds];

	for (int r = 0; r < rounds; r++)
		for (int k = 0; k < NIMPL; k++) {
			int i = (r + k) % NIMPL;
			double t0 = now_ns();

			for (int n = 0; n < 100; n++)
				close(must_create(i, NULL));
			v[i][r] = (now_ns() - t0) / 100;
		}
	result("CREATE + close", "ns/cycle", percentile(v[UPSTREAM], rounds, 0.5),
	       percentile(v[OURS], rounds, 0.5));
}

/*
 * TRIGGER (one client on the timer) with 1 to 4096 timers alive, and what each CREATE cost
 * while the ids filled.  One implementation at a time (they share the subdevice space), upstream
 * only up to its 128 ids.
 */
static const int sizes[] = { 1, 16, 128, 1024, 4096 };
#define NSIZES (int)(sizeof(sizes) / sizeof(sizes[0]))
static int fillers[4096];
static double create_ns[NIMPL][4096];

static void scale_one(int i, double *med)
{
	int nfill = 0, max = i == UPSTREAM ? 128 : 4096;

	for (int s = 0; s < NSIZES; s++) {
		double v[rounds];
		unsigned int id;
		snd_timer_t *t;
		int fd;

		med[s] = -1;
		if (sizes[s] > max)
			continue;
		while (nfill < sizes[s] - 1) {
			double t0 = now_ns();

			fillers[nfill] = must_create(i, NULL);
			create_ns[i][nfill++] = now_ns() - t0;
		}
		fd = must_create(i, &id);
		t = client(id);
		for (int r = 0; r < rounds; r++)
			v[r] = trigger_cost(fd, CLIENT, t, NULL);
		med[s] = percentile(v, rounds, 0.5);
		snd_timer_close(t);
		close(fd);
	}
	while (nfill > 0)
		close(fillers[--nfill]);
}

static void bench_scale(void)
{
	static const int bands[][2] = { { 0, 63 }, { 64, 126 }, { 1024, 1087 }, { 4031, 4094 } };
	double med[NIMPL][NSIZES];
	char name[96];

	scale_one(UPSTREAM, med[UPSTREAM]);
	scale_one(OURS, med[OURS]);
	for (int s = 0; s < NSIZES; s++) {
		snprintf(name, sizeof(name), "TRIGGER, 1 client, %d live timers", sizes[s]);
		result(name, "ns/op", med[UPSTREAM][s], med[OURS][s]);
	}
	for (int s = 1; s < NSIZES; s++) {
		snprintf(name, sizeof(name), "  the same, relative to 1 live timer, at %d", sizes[s]);
		result(name, "x", med[UPSTREAM][s] >= 0 ? med[UPSTREAM][s] / med[UPSTREAM][0] : -1,
		       med[OURS][s] / med[OURS][0]);
	}
	/* CREATE cost as the ids fill: medians over bands of the number of timers alive. */
	for (size_t b = 0; b < sizeof(bands) / sizeof(bands[0]); b++) {
		double v[NIMPL][64];
		int n = bands[b][1] - bands[b][0] + 1;

		for (int i = 0; i < NIMPL; i++)
			for (int j = 0; j < n; j++)
				v[i][j] = create_ns[i][bands[b][0] + j];
		snprintf(name, sizeof(name), "CREATE with %d to %d timers alive", bands[b][0],
			 bands[b][1]);
		result(name, "ns/op", bands[b][1] < 127 ? percentile(v[UPSTREAM], n, 0.5) : -1,
		       percentile(v[OURS], n, 0.5));
	}
}

/* ------------------------------------------------------------------ latency */

struct waiter {
	int kind;		/* CLIENT or ALOOP */
	snd_timer_t *t;
	struct cable *c;
	double woke;		/* guest ns, when the wait returned */
	int seq, done;
};

static void *waiter_thread(void *arg)
{
	struct waiter *w = arg;
	struct pollfd p;

	if (w->kind == CLIENT)
		snd_timer_poll_descriptors(w->t, &p, 1);
	for (;;) {
		if (w->kind == CLIENT) {
			if (poll(&p, 1, 2000) <= 0)
				break;
		} else if (snd_pcm_readi(w->c->cap, w->c->buf, 48) != 48) {
			break;
		}
		w->woke = now_ns();
		if (w->kind == CLIENT)
			drain(w->t);
		__atomic_fetch_add(&w->seq, 1, __ATOMIC_RELEASE);
		if (__atomic_load_n(&w->done, __ATOMIC_ACQUIRE))
			break;
	}
	return NULL;
}

static void bench_latency(int kind, const char *name)
{
	enum { N = 201 };
	double lat[NIMPL][N];

	for (int k = 0; k < NIMPL; k++) {
		int i = k, fd;
		unsigned int id;
		struct waiter w = { .kind = kind };
		struct cable c;
		pthread_t th;

		fd = must_create(i, &id);
		if (kind == CLIENT) {
			w.t = client(id);
		} else {
			cable_open(&c, id, 0);	/* a blocking capture */
			w.c = &c;
		}
		pthread_create(&th, NULL, waiter_thread, &w);
		for (int n = 0; n < N; n++) {
			int seq = __atomic_load_n(&w.seq, __ATOMIC_ACQUIRE);
			double t0;

			usleep(2000);	/* let the waiter block */
			if (n == N - 1)
				__atomic_store_n(&w.done, 1, __ATOMIC_RELEASE);
			t0 = now_ns();
			if (ioctl(fd, UTIMER_IOCTL_TRIGGER) < 0)
				die("TRIGGER: %s", strerror(errno));
			while (__atomic_load_n(&w.seq, __ATOMIC_ACQUIRE) == seq)
				if (now_ns() - t0 > 10e9)
					die("%s (%s): the waiter did not wake at trigger %d; capture %s, avail %ld", name,
					    impl_devs[i], n, kind == ALOOP ? snd_pcm_state_name(snd_pcm_state(c.cap)) : "-",
					    kind == ALOOP ? snd_pcm_avail(c.cap) : 0L);
				else
					sched_yield();
			lat[i][n] = w.woke - t0;
			if (kind == ALOOP && snd_pcm_writei(c.play, c.buf, 48) != 48)
				die("aloop write");
		}
		pthread_join(th, NULL);
		if (kind == CLIENT)
			snd_timer_close(w.t);
		else
			cable_close(&c);
		close(fd);
	}
	char n50[96], n99[96];

	snprintf(n50, sizeof(n50), "%s, p50", name);
	snprintf(n99, sizeof(n99), "%s, p99", name);
	result(n50, "ns", percentile(lat[UPSTREAM], N, 0.5), percentile(lat[OURS], N, 0.5));
	result(n99, "ns", percentile(lat[UPSTREAM], N, 0.99), percentile(lat[OURS], N, 0.99));
}

/* ------------------------------------------------------------------ memory */

/*
 * Slab objects in use, per cache of /sys/kernel/slab (aliases skipped): every cache is shrunk
 * first so that the objects cached per CPU (slabs, sheaves) go back to their slabs.
 */
#define MAX_CACHES 512

struct slab_snapshot {
	int n;
	char name[MAX_CACHES][64];
	unsigned long objects[MAX_CACHES], size[MAX_CACHES];
};

static unsigned long read_ulong(const char *cache, const char *attr, int shrink_first)
{
	char path[512];
	unsigned long v = 0;
	FILE *f;

	if (shrink_first) {
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", cache);
		if ((f = fopen(path, "w"))) {
			fputs("1", f);
			fclose(f);
		}
	}
	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/%s", cache, attr);
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

static void slab_snapshot(struct slab_snapshot *ss)
{
	DIR *d = opendir("/sys/kernel/slab");
	struct dirent *e;

	if (!d)
		die("/sys/kernel/slab: %s", strerror(errno));
	ss->n = 0;
	while ((e = readdir(d)) && ss->n < MAX_CACHES) {
		if (e->d_name[0] == '.' || e->d_type == DT_LNK)
			continue;
		if (strlen(e->d_name) >= sizeof(ss->name[0]))
			continue;
		memcpy(ss->name[ss->n], e->d_name, strlen(e->d_name) + 1);
		ss->objects[ss->n] = read_ulong(e->d_name, "objects", 1);
		ss->size[ss->n] = read_ulong(e->d_name, "slab_size", 0);
		ss->n++;
	}
	closedir(d);
}

/* Bytes more in `after` than in `before`; with `show`, the caches that grew by n/2 objects. */
static double slab_delta(const struct slab_snapshot *before, const struct slab_snapshot *after,
			 int n, const char *show)
{
	double sum = 0;

	for (int i = 0; i < after->n; i++)
		for (int j = 0; j < before->n; j++) {
			long d;

			if (strcmp(after->name[i], before->name[j]))
				continue;
			d = (long)after->objects[i] - (long)before->objects[j];
			sum += (double)d * after->size[i];
			if (show && d >= n / 2)
				printf("#   %s: %s %+.2f objects of %lu bytes per timer\n", show,
				       after->name[i], (double)d / n, after->size[i]);
			break;
		}
	return sum;
}

static struct slab_snapshot snap_before, snap_after;

static void bench_memory(void)
{
	enum { N = 128, R = 9 };
	double per[NIMPL][R];
	int fds[N];

	for (int r = 0; r < R; r++)
		for (int k = 0; k < NIMPL; k++) {
			int i = (r + k) % NIMPL;

			slab_snapshot(&snap_before);
			for (int n = 0; n < N; n++)
				fds[n] = must_create(i, NULL);
			slab_snapshot(&snap_after);
			per[i][r] = slab_delta(&snap_before, &snap_after, N,
					       r == R - 1 ? impl_devs[i] : NULL) / N;
			for (int n = 0; n < N; n++)
				close(fds[n]);
			usleep(100000);
		}
	result("slab memory per live timer", "bytes", percentile(per[UPSTREAM], R, 0.5),
	       percentile(per[OURS], R, 0.5));
}

int main(int argc, char **argv)
{
	const char *json_path = NULL, *only = "";
	struct rlimit rl = { 16384, 16384 };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--json") && i + 1 < argc)
			json_path = argv[++i];
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else
			die("usage: utimer_bench [--rounds N] [--json FILE] "
			    "[--only trigger|floor|create|scale|latency|memory|holdover]");
	}
	if (rounds < 3)
		die("--rounds must be at least 3");
	setrlimit(RLIMIT_NOFILE, &rl);
	for (int i = 0; i < NIMPL; i++) {
		ctl[i] = open(impl_devs[i], O_RDWR | O_CLOEXEC);
		if (ctl[i] < 0)
			die("open %s: %s", impl_devs[i], strerror(errno));
	}
	if (json_path && !(json = fopen(json_path, "w")))
		die("%s: %s", json_path, strerror(errno));
	if (json)
		fprintf(json, "{\"rounds\": %d, \"results\": [", rounds);
	printf("# %-44s %14s %14s %8s\n", "case (medians)", "upstream C", "rust_utimer", "ratio");
#define WANT(x) (!*only || !strcmp(only, x))
	if (WANT("trigger")) {
		bench_trigger(NONE, 0, "TRIGGER, no consumer");
		bench_trigger(CLIENT, 0, "TRIGGER, 1 /dev/snd/timer client");
		bench_trigger(ALOOP, 0, "TRIGGER, snd-aloop stream running");
		bench_trigger(NONE, 1, "TRIGGER, attached persistent, no consumer");
		bench_trigger(CLIENT, 1, "TRIGGER, attached persistent, 1 client");
		bench_trigger(ALOOP, 1, "TRIGGER, attached persistent, snd-aloop");
	}
	if (WANT("floor"))
		bench_floor();
	if (WANT("create"))
		bench_create_close();
	if (WANT("scale"))
		bench_scale();
	if (WANT("latency")) {
		bench_latency(CLIENT, "TRIGGER to client woken in poll()");
		bench_latency(ALOOP, "TRIGGER to aloop capture woken in read()");
	}
	if (WANT("memory"))
		bench_memory();
	if (WANT("holdover"))
		bench_holdover();
	if (json) {
		fprintf(json, "\n]}\n");
		fclose(json);
	}
	return 0;
}
