// SPDX-License-Identifier: GPL-2.0
/*
 * Reliability of rust_utimer under what userspace can do to it, run in the guest as root:
 *
 *   stress run [-d SECONDS] [-t THREADS] [--failslab PERCENT]
 *	THREADS owners (default 8) CREATE, TRIGGER, close, dup-and-close and fork-and-trigger on
 *	random timers, three /dev/snd/timer clients open, start, read and close instances on them,
 *	and an snd-aloop stream runs bit-exact on a timer of its own.  --failslab fails that share
 *	of the allocations made with the module's code on the stack (failslab's stacktrace filter).
 *   stress fuzz [-n IOCTLS] [-s SEED]
 *	random ioctl numbers, sizes and pointers on /dev/utimer and on a timer fd: every result
 *	must be the documented one, and a failure changes nothing (argument, fds, ids).
 *   stress failnth
 *	fails each fault-injection point of CREATE in turn (/proc/thread-self/fail-nth with
 *	failslab and fail_usercopy, as syzkaller does) until CREATE succeeds.
 *   stress close-in-use [-r ROUNDS]
 *	closes a timer while an aloop stream runs on it, a /dev/snd/timer reader waits in read or
 *	poll, and a thread is in TRIGGER on a dup; then checks that every consumer recovers.
 *   stress create N [--full]	N timers, one trigger each, closed; --full: then ENOSPC
 *   stress hold [--aloop]	holds a timer (and an aloop stream on it) until stdin closes
 *
 * Each mode ends with its capacity check: no timer left (debugfs), and every id can be created
 * again.  Output: TAP lines, and "# stat NAME VALUE" lines that scripts/stress tabulates.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include "../uapi/rust_utimer.h"
#include "utimer_helpers.h"
#include "aloop_helpers.h"

#define LISTING "/sys/kernel/debug/rust_utimer/timers"
#define FAILSLAB "/sys/kernel/debug/failslab/"
#define RES_1MS 1000000ULL	/* 48 frames at 48 kHz: aloop's period, and /dev/snd/timer's floor */

static int ctl;
static int tests, failures;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void diag(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void tap(int ok, const char *name)
{
	printf("%sok %d %s\n", ok ? "" : "not ", ++tests, name);
	fflush(stdout);
	if (!ok)
		failures++;
}

static void report(const char *name, unsigned long value)
{
	printf("# stat %s %lu\n", name, value);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* xorshift64*: each thread has its own state. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/* CREATE at `res`: the fd (id in *id), or -errno. */
static int create(__u64 res, unsigned int *id)
{
	struct utimer_uinfo u = { .resolution = res };

	if (ioctl(ctl, UTIMER_IOCTL_CREATE, &u) < 0)
		return -errno;
	if (id)
		*id = u.id;
	return u.fd;
}

static int write_file(const char *path, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int fd, n, ok;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ok = write(fd, buf, n) == n;
	close(fd);
	return ok ? 0 : -1;
}

/* The debugfs listing's header: live timers (and *max the capacity), or -1. */
static int listing_live(int *max)
{
	FILE *f = fopen(LISTING, "r");
	int m = -1, live = -1, q;

	if (!f && system("mount -t debugfs none /sys/kernel/debug 2>/dev/null") >= 0)
		f = fopen(LISTING, "r");
	if (!f)
		return -1;
	if (fscanf(f, "# max_timers %d max_user_timers %d live %d", &m, &q, &live) != 3)
		live = -1;
	fclose(f);
	if (max)
		*max = m;
	return live;
}

/*
 * After a mode: no timer left, and the whole id space can be created again, lowest id first
 * (an id lost anywhere shows as a gap or an early ENOSPC), then ENOSPC; all closed again.
 */
static void capacity_check(const char *mode)
{
	int max = 0, live = listing_live(&max), i, fd, ok = live == 0 && max > 0;
	int *fds = ok ? calloc(max, sizeof(*fds)) : NULL;
	char name[96];
	unsigned int id = 0;

	if (live != 0)
		diag("%s: %d timers still live after the run", mode, live);
	for (i = 0; ok && fds && i < max; i++) {
		fds[i] = fd = create(RES_1MS, &id);
		if (fd < 0 || id != (unsigned int)i) {
			diag("%s: CREATE %d of %d: %s, id %u", mode, i + 1, max,
			     fd < 0 ? strerror(-fd) : "ok", id);
			ok = 0;
			break;
		}
	}
	if (ok && (fd = create(RES_1MS, NULL)) != -ENOSPC) {
		diag("%s: CREATE beyond capacity %d: %d, want ENOSPC", mode, max, fd);
		if (fd >= 0)
			close(fd);
		ok = 0;
	}
	while (fds && i-- > 0)
		close(fds[i]);
	free(fds);
	if (ok && listing_live(NULL) != 0)
		ok = 0;
	snprintf(name, sizeof(name), "%s_leaves_every_id_free_and_recreatable", mode);
	tap(ok, name);
}

/* ------------------------------------------------------------------ stress run */

#define NSLOTS 24

enum op {
	OP_CREATE, OP_CREATE_ENOMEM, OP_TRIGGER, OP_CLOSE, OP_DUP_CLOSE, OP_FORK_TRIGGER, OP_FDINFO,
	OP_LISTING, OP_READER_OPEN, OP_READER_NODEV, OP_READER_TICKS, OP_ALOOP_PERIODS, NOPS
};

static const char *const op_names[NOPS] = {
	"create", "create_enomem_injected", "trigger", "close", "dup_trigger_close",
	"fork_trigger", "fdinfo_read", "debugfs_read", "snd_timer_open_start_read_close",
	"snd_timer_absent_or_gone", "snd_timer_ticks_read", "aloop_periods_bit_exact",
};

static unsigned long ops[NOPS];
static unsigned long unexpected;
static int stopping;
static int failslab_on;

struct slot {
	pthread_mutex_t lock;
	int fd;
	unsigned int id;
};

static struct slot slots[NSLOTS];

static void count(enum op op, unsigned long n)
{
	__atomic_fetch_add(&ops[op], n, __ATOMIC_RELAXED);
}

static int stopped(void)
{
	return __atomic_load_n(&stopping, __ATOMIC_RELAXED);
}

static void bad(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* The first few say what went wrong; the count says how often. */
	if (__atomic_fetch_add(&unexpected, 1, __ATOMIC_RELAXED) < 10)
		diag("unexpected: %s", buf);
}

static int trigger_n(int fd, int n)
{
	for (int i = 0; i < n; i++)
		if (ioctl(fd, UTIMER_IOCTL_TRIGGER) < 0)
			return -errno;
	return 0;
}

/* The utimer-id line of fd's fdinfo, or -1. */
static int fdinfo_id(int fd)
{
	char path[64], line[128];
	int id = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "utimer-id: %d", &id) == 1)
			break;
	fclose(f);
	return id;
}

static void owner_step(uint64_t *rng)
{
	struct slot *s = &slots[rnd(rng) % NSLOTS];
	int k = 1 + rnd(rng) % 4, d, err, st;
	char buf[4096];
	pid_t pid;
	FILE *f;

	pthread_mutex_lock(&s->lock);
	if (s->fd < 0) {
		err = create(RES_1MS, &s->id);
		if (err >= 0) {
			s->fd = err;
			count(OP_CREATE, 1);
		} else if (err == -ENOMEM && failslab_on) {
			count(OP_CREATE_ENOMEM, 1);
		} else {
			bad("CREATE: %s", strerror(-err));
		}
		pthread_mutex_unlock(&s->lock);
		return;
	}
	switch (rnd(rng) % 6) {
	case 0:
		if ((err = trigger_n(s->fd, k)))
			bad("TRIGGER: %s", strerror(-err));
		count(OP_TRIGGER, k);
		break;
	case 1:
		if (close(s->fd))
			bad("close: %s", strerror(errno));
		s->fd = -1;
		count(OP_CLOSE, 1);
		break;
	case 2:
		/* Trigger on a dup while other owners may close the original. */
		d = dup(s->fd);
		pthread_mutex_unlock(&s->lock);
		if (d < 0 || (err = trigger_n(d, k)))
			bad("dup and TRIGGER: %s", strerror(d < 0 ? errno : -err));
		if (d >= 0)
			close(d);
		count(OP_DUP_CLOSE, 1);
		return;
	case 3:
		d = dup(s->fd);
		pthread_mutex_unlock(&s->lock);
		if (d < 0) {
			bad("dup: %s", strerror(errno));
			return;
		}
		pid = fork();
		if (pid == 0)
			_exit(trigger_n(d, k) ? 1 : 0);
		close(d);
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
			bad("fork and TRIGGER in the child: pid %d status %#x", pid, st);
		count(OP_FORK_TRIGGER, 1);
		return;
	case 4:
		if (fdinfo_id(s->fd) != (int)s->id)
			bad("fdinfo of timer %u says %d", s->id, fdinfo_id(s->fd));
		count(OP_FDINFO, 1);
		break;
	case 5:
		f = fopen(LISTING, "re");
		if (!f || fread(buf, 1, sizeof(buf), f) < 20 || strncmp(buf, "# max_timers ", 13))
			bad("debugfs listing unreadable");
		if (f)
			fclose(f);
		count(OP_LISTING, 1);
		break;
	}
	pthread_mutex_unlock(&s->lock);
}

static void *owner(void *arg)
{
	uint64_t rng = 0x9e3779b97f4a7c15ULL * ((uintptr_t)arg + 1);

	while (!stopped())
		owner_step(&rng);
	return NULL;
}

/* Poll the client up to timeout_ms, then read every record it has: how many, or -errno. */
static long client_records(snd_timer_t *t, int timeout_ms)
{
	struct pollfd p;
	snd_timer_read_t r[16];
	long n = 0, got;

	if (snd_timer_poll_descriptors(t, &p, 1) != 1)
		return -EINVAL;
	if (poll(&p, 1, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	while ((got = snd_timer_read(t, r, sizeof(r))) > 0)
		n += got / (long)sizeof(r[0]);
	return got < 0 && got != -EAGAIN && got != -EINTR ? got : n;
}

/* A /dev/snd/timer client on a random timer: select, start, read what comes, close. */
static void *consumer(void *arg)
{
	uint64_t rng = 0xc2b2ae3d27d4eb4fULL * ((uintptr_t)arg + 1);

	while (!stopped()) {
		unsigned int id = rnd(&rng) % (NSLOTS + 1);
		snd_timer_t *t;
		int err = utimer_client_open(&t, id, 1);
		long n;

		if (err < 0) {
			/*
			 * The timer is not there (ENODEV), or went away between open and start: the
			 * core closed the instance, PARAMS answers EBADFD and START EINVAL.
			 */
			if (err == -ENODEV || err == -EBADFD || err == -EINVAL)
				count(OP_READER_NODEV, 1);
			else
				bad("alsa-lib client of timer %u: %s", id, snd_strerror(err));
			continue;
		}
		count(OP_READER_OPEN, 1);
		for (int i = 0; i < 4 && !stopped(); i++) {
			n = client_records(t, 5);
			if (n < 0)
				bad("alsa-lib client of timer %u: read: %s", id, snd_strerror((int)n));
			else
				count(OP_READER_TICKS, n);
		}
		snd_timer_close(t);
	}
	return NULL;
}

struct cable {
	struct stream_cfg cfg;
	snd_pcm_t *play, *cap;
	short *buf;
	unsigned long written, read;
};

static void cable_close(struct cable *c)
{
	aloop_close_cable(c->play, c->cap);
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

/* Point aloop at timer id, open the cable (capture in cap_mode), prefill, start. */
static int cable_open(struct cable *c, unsigned int id, unsigned int periods, int prefill,
		      int cap_mode)
{
	size_t bytes;
	int err;

	memset(c, 0, sizeof(*c));
	c->cfg = (struct stream_cfg){ 48000, 48 };
	bytes = (size_t)c->cfg.period * CHANNELS * sizeof(short);
	if (aloop_point_at(id) || !(c->buf = malloc(bytes)))
		return -ENODEV;
	if ((err = aloop_open_cable(&c->cfg, periods, &c->play, &c->cap, cap_mode)) < 0)
		return err;
	for (int i = 0; i < prefill; i++) {
		aloop_fill(c->buf, c->written, c->cfg.period);
		if ((err = snd_pcm_writei(c->play, c->buf, c->cfg.period)) != (int)c->cfg.period)
			return err < 0 ? err : -EIO;
		c->written += c->cfg.period;
	}
	if ((err = snd_pcm_start(c->cap)) < 0 || (err = snd_pcm_start(c->play)) < 0)
		return err;
	return 0;
}

/*
 * Read one period from the capture (waiting up to timeout_ms; 0: a blocking read, as long as
 * ALSA waits), check it is the next one of the
 * pattern, write the next period to the playback.  1 if it matched, 0 if not, or an ALSA error.
 */
static int cable_period(struct cable *c, int timeout_ms)
{
	unsigned int p = c->cfg.period;
	int err, same = 1;

	if (timeout_ms && snd_pcm_wait(c->cap, timeout_ms) < 0 &&
	    snd_pcm_avail_update(c->cap) < (long)p)
		return -EIO;
	err = snd_pcm_readi(c->cap, c->buf, p);
	if (err != (int)p)
		return err < 0 ? err : -EIO;
	for (unsigned int f = 0; f < p; f++)
		for (int ch = 0; ch < CHANNELS; ch++)
			same &= c->buf[f * CHANNELS + ch] == aloop_pattern(c->read + f, ch);
	c->read += p;
	aloop_fill(c->buf, c->written, p);
	err = snd_pcm_writei(c->play, c->buf, p);
	if (err != (int)p)
		return err < 0 ? err : -EIO;
	c->written += p;
	return same;
}

/* The aloop stream of `stress run`: one trigger, one period, bit-exact, until the end. */
static void *aloop_stream(void *arg)
{
	int fd = *(int *)arg, err;
	unsigned int id = *((int *)arg + 1);
	struct cable c;

	err = cable_open(&c, id, 8, 4, SND_PCM_NONBLOCK);
	if (err < 0) {
		bad("aloop cable on timer %u: %s", id, snd_strerror(err));
		cable_close(&c);
		return NULL;
	}
	while (!stopped()) {
		if (ioctl(fd, UTIMER_IOCTL_TRIGGER) < 0) {
			bad("aloop's TRIGGER: %s", strerror(errno));
			break;
		}
		err = cable_period(&c, 10000);
		if (err != 1) {
			bad("aloop period %lu: %s", c.read / c.cfg.period,
			    err ? snd_strerror(err) : "captured samples differ from the played ones");
			break;
		}
		count(OP_ALOOP_PERIODS, 1);
		usleep(1000);	/* one period per millisecond, as a real stream at 48 kHz */
	}
	cable_close(&c);
	return NULL;
}

/*
 * The module's text, from /proc/kallsyms: [*start, *end) covers every function of it and
 * nothing of another module's (snd-aloop, loaded later, may land in the pages right after ours:
 * its allocations must not be failed).
 */
static int module_text(unsigned long *start, unsigned long *end)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	unsigned long a, lo = ~0UL, hi = 0, next = ~0UL;
	char type, line[512];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[rust_utimer]") && sscanf(line, "%lx %c", &a, &type) == 2 &&
		    (type == 't' || type == 'T') && a) {
			lo = a < lo ? a : lo;
			hi = a > hi ? a : hi;
		}
	/* The first function of anything else after our last one. */
	rewind(f);
	while (fgets(line, sizeof(line), f))
		if (!strstr(line, "[rust_utimer]") && sscanf(line, "%lx %c", &a, &type) == 2 &&
		    (type == 't' || type == 'T') && a > hi && a < next)
			next = a;
	fclose(f);
	if (!hi)
		return -1;
	/* The last function ends within the page after its start: module text is page-aligned. */
	*start = lo;
	*end = (hi + 2 * 4096) & ~4095UL;
	if (next < *end)
		*end = next;
	return 0;
}

#define FAILSLAB_TIMES 100000000UL

/* failslab on every allocation whose stack has the module's code, `percent` of them. */
static int failslab_setup(int percent)
{
	unsigned long start, end;

	if (module_text(&start, &end)) {
		diag("no rust_utimer text in /proc/kallsyms");
		return -1;
	}
	diag("failslab: %d%% of the allocations with rust_utimer's text [%#lx, %#lx) on the stack",
	     percent, start, end);
	if (write_file(FAILSLAB "verbose", "0") || write_file(FAILSLAB "ignore-gfp-wait", "N") ||
	    write_file(FAILSLAB "task-filter", "N") || write_file(FAILSLAB "interval", "1") ||
	    write_file(FAILSLAB "stacktrace-depth", "32") ||
	    write_file(FAILSLAB "require-start", "%lu", start) ||
	    write_file(FAILSLAB "require-end", "%lu", end) ||
	    write_file(FAILSLAB "times", "%lu", FAILSLAB_TIMES) ||
	    write_file(FAILSLAB "probability", "%d", percent)) {
		diag("cannot configure " FAILSLAB ": %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Turns failslab off; returns how many allocations it failed. */
static unsigned long failslab_teardown(void)
{
	unsigned long left = 0;
	FILE *f;

	write_file(FAILSLAB "probability", "0");
	f = fopen(FAILSLAB "times", "re");
	if (f) {
		if (fscanf(f, "%lu", &left) != 1)
			left = FAILSLAB_TIMES;
		fclose(f);
	}
	write_file(FAILSLAB "require-start", "0");
	write_file(FAILSLAB "require-end", "%lu", ~0UL);
	write_file(FAILSLAB "times", "1");
	return FAILSLAB_TIMES - left;
}

static int mode_run(double seconds, int owners, int failslab)
{
	int nconsumers = 3, aloop_fd, args[2], fds_before = count_fds();
	pthread_t tid[owners + nconsumers + 1];
	unsigned int aloop_id;
	unsigned long injected = 0, total = 0;
	double t0;
	struct rlimit rl = { 8192, 8192 };

	setrlimit(RLIMIT_NOFILE, &rl);
	for (int i = 0; i < NSLOTS; i++) {
		pthread_mutex_init(&slots[i].lock, NULL);
		slots[i].fd = -1;
	}
	aloop_fd = create(RES_1MS, &aloop_id);
	if (aloop_fd < 0) {
		printf("Bail out! CREATE for the aloop stream: %s\n", strerror(-aloop_fd));
		return 1;
	}
	args[0] = aloop_fd;
	args[1] = (int)aloop_id;
	if (failslab && failslab_setup(failslab) == 0)
		failslab_on = 1;
	diag("%d owner threads, %d /dev/snd/timer clients, 1 aloop stream on timer %u, %.0f s%s",
	     owners, nconsumers, aloop_id, seconds, failslab_on ? ", failslab on" : "");
	t0 = now();
	pthread_create(&tid[0], NULL, aloop_stream, args);
	for (int i = 0; i < owners; i++)
		pthread_create(&tid[1 + i], NULL, owner, (void *)(uintptr_t)i);
	for (int i = 0; i < nconsumers; i++)
		pthread_create(&tid[1 + owners + i], NULL, consumer, (void *)(uintptr_t)i);
	while (now() - t0 < seconds)
		usleep(100000);
	__atomic_store_n(&stopping, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < owners + nconsumers + 1; i++)
		pthread_join(tid[i], NULL);
	if (failslab_on)
		injected = failslab_teardown();
	for (int i = 0; i < NSLOTS; i++)
		if (slots[i].fd >= 0)
			close(slots[i].fd);
	close(aloop_fd);

	report("threads", owners + nconsumers + 1);
	report("seconds", (unsigned long)(now() - t0));
	for (int i = 0; i < NOPS; i++) {
		report(op_names[i], ops[i]);
		if (i < OP_READER_OPEN)
			total += ops[i];
	}
	report("timer_operations", total);
	report("allocations_failed_by_injection", injected);
	report("unexpected_results", unexpected);
	tap(unexpected == 0, "concurrent_operations_give_only_documented_results");
	tap(ops[OP_ALOOP_PERIODS] > 0 && ops[OP_CREATE] > 0 && ops[OP_FORK_TRIGGER] > 0 &&
	    ops[OP_DUP_CLOSE] > 0 && ops[OP_READER_OPEN] > 0,
	    "every_kind_of_operation_ran");
	tap(count_fds() == fds_before, "no_fd_left_after_the_run");
	capacity_check("stress_run");
	return 0;
}

/* ------------------------------------------------------------------ stress fuzz */

/* Handled by the VFS before the driver (fs/ioctl.c, do_vfs_ioctl()): not ours to answer. */
static const unsigned int vfs_ioctls[] = {
	FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, FIFREEZE, FITHAW, FS_IOC_FIEMAP, FIGETBSZ,
	FICLONE, FICLONERANGE, FIDEDUPERANGE, FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IOC_FSGETXATTR,
	FS_IOC_FSSETXATTR, FS_IOC_GETFSUUID, FS_IOC_GETFSSYSFSPATH,
};

static int vfs_ioctl_number(unsigned int cmd)
{
	for (size_t i = 0; i < sizeof(vfs_ioctls) / sizeof(vfs_ioctls[0]); i++)
		if (cmd == vfs_ioctls[i])
			return 1;
	return 0;
}

enum ptr_kind { P_VALID, P_NULL, P_UNMAPPED, P_READONLY, P_KERNEL, P_STRADDLE, P_RANDOM, NPTR };

static const char *const ptr_names[NPTR] = {
	"valid", "null", "unmapped", "readonly", "kernel", "straddling_a_page_end", "random",
};

static unsigned int random_cmd(uint64_t *rng)
{
	unsigned int dir = rnd(rng) % 4, nr = rnd(rng) % 256, size = rnd(rng) % 0x4000;

	switch (rnd(rng) % 8) {
	case 0:
		return UTIMER_IOCTL_CREATE;
	case 1:
		return UTIMER_IOCTL_TRIGGER;
	case 2:	/* ours with another direction or size */
		return _IOC(dir, 'T', 0xa5 + rnd(rng) % 2, rnd(rng) % 2 ? size : sizeof(struct utimer_uinfo));
	case 3:	/* near ours: the /dev/snd/timer range */
		return _IOC(dir, 'T', rnd(rng) % 0xb0, rnd(rng) % 2 ? size : rnd(rng) % 128);
	case 4:
		return _IOC(dir, 'T', nr, size);
	case 5:
		return _IOC(dir, rnd(rng) % 256, nr, size);
	default:
		return (unsigned int)rnd(rng);
	}
}

static int mode_fuzz(unsigned long n, uint64_t seed)
{
	long page = sysconf(_SC_PAGESIZE);
	/* rw page | read-only page | rw page | PROT_NONE guard */
	char *map = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *rw = map, *ro = map + page, *edge = map + 3 * page, *gone;
	unsigned long by_ptr[NPTR] = { 0 }, created = 0, vfs_skipped = 0, enotty = 0, efault = 0;
	unsigned long einval = 0, bad_results = 0, changed = 0;
	struct utimer_uinfo good = { .resolution = RES_1MS }, snap;
	uint64_t rng = seed;
	unsigned int tid = 0, next_fd;
	int tfd, fds_before;

	if (map == MAP_FAILED) {
		printf("Bail out! mmap: %s\n", strerror(errno));
		return 1;
	}
	memcpy(ro, &good, sizeof(good));
	mprotect(ro, page, PROT_READ);
	mprotect(edge, page, PROT_NONE);
	gone = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, page);

	tfd = create(RES_1MS, &tid);
	if (tfd < 0 || tid != 0) {
		printf("Bail out! first CREATE: %d, id %u (want id 0: no other timer may live)\n", tfd, tid);
		return 1;
	}
	/* The fd the next CREATE would install: a failed CREATE must leave it unused. */
	next_fd = dup(0);
	close(next_fd);
	fds_before = count_fds();
	diag("%lu random ioctls, seed %#llx, on /dev/utimer and on timer fd %d (id 0)", n,
	     (unsigned long long)seed, tfd);

	for (unsigned long i = 0; i < n; i++) {
		unsigned int cmd = random_cmd(&rng);
		int on_timer = rnd(&rng) % 2, fd = on_timer ? tfd : ctl, valid_content = 0, want, r, e;
		enum ptr_kind pk = rnd(&rng) % NPTR;
		size_t arglen = sizeof(struct utimer_uinfo);
		unsigned long arg;

		if (vfs_ioctl_number(cmd)) {
			vfs_skipped++;
			continue;
		}
		switch (pk) {
		case P_VALID:
			/* Valid, or one field off: reserved bytes, resolution out of range. */
			good.resolution = RES_1MS;
			memcpy(rw, &good, sizeof(good));
			switch (rnd(&rng) % 4) {
			case 0:
				((struct utimer_uinfo *)rw)->reserved[rnd(&rng) % sizeof(good.reserved)] =
					1 + rnd(&rng) % 255;
				break;
			case 1:
				((struct utimer_uinfo *)rw)->resolution = rnd(&rng) % 2 ? rnd(&rng) % UTIMER_MIN_RESOLUTION :
					UTIMER_MAX_RESOLUTION + 1 + rnd(&rng) % 1000;
				break;
			default:
				valid_content = 1;
			}
			arg = (unsigned long)rw;
			break;
		case P_NULL:
			arg = 0;
			break;
		case P_UNMAPPED:
			arg = (unsigned long)gone + rnd(&rng) % page;
			break;
		case P_READONLY:
			arg = (unsigned long)ro;
			valid_content = 1;
			break;
		case P_KERNEL:
			arg = 0xffffffff81000000UL + rnd(&rng) % (1UL << 24);
			break;
		case P_STRADDLE:
			arg = (unsigned long)edge - 1 - rnd(&rng) % (arglen - 1);
			memset((char *)arg, 0, edge - (char *)arg);
			break;
		default:
			arg = rnd(&rng);
			break;
		}
		if (pk == P_VALID)
			memcpy(&snap, rw, sizeof(snap));
		by_ptr[pk]++;
		r = ioctl(fd, cmd, arg);
		e = r < 0 ? errno : 0;

		/* What the documentation says it must be. */
		if (on_timer)
			want = cmd == UTIMER_IOCTL_TRIGGER ? 0 : ENOTTY;
		else if (cmd != UTIMER_IOCTL_CREATE)
			want = ENOTTY;
		else if (pk == P_VALID)
			want = valid_content ? 0 : EINVAL;
		else
			want = EFAULT;	/* unreadable, or (read-only) not writable back */
		if (pk == P_RANDOM && want == EFAULT && e == EINVAL)
			want = e;	/* a random address that happens to be mapped */
		if (e != want || (r < 0) != (want != 0)) {
			if (bad_results++ < 10)
				diag("ioctl(%s, %#x, %s %#lx) = %d (%s), want %s", on_timer ? "timer" : "ctl",
				     cmd, ptr_names[pk], arg, r, e ? strerror(e) : "ok",
				     want ? strerror(want) : "success");
		}
		enotty += e == ENOTTY;
		efault += e == EFAULT;
		einval += e == EINVAL;
		if (!on_timer && cmd == UTIMER_IOCTL_CREATE && r == 0) {
			struct utimer_uinfo *u = (struct utimer_uinfo *)(pk == P_VALID ? rw : (char *)arg);

			/* Lowest free id: 1 (timer 0 is held), unless one was lost. */
			if (u->id != 1 || (unsigned int)u->fd != next_fd)
				if (bad_results++ < 10)
					diag("CREATE gave id %u fd %d, want id 1 fd %u", u->id, u->fd, next_fd);
			close(u->fd);
			created++;
		} else if (r < 0 && pk == P_VALID && memcmp(&snap, rw, sizeof(snap))) {
			if (changed++ < 10)
				diag("failed ioctl %#x changed its argument", cmd);
		}
		if (r < 0 && !on_timer && fcntl((int)next_fd, F_GETFD) >= 0) {
			if (bad_results++ < 10)
				diag("failed ioctl %#x left fd %u open", cmd, next_fd);
			close(next_fd);
		}
	}
	report("ioctls_tried", n);
	report("ioctls_vfs_numbers_skipped", vfs_skipped);
	for (int i = 0; i < NPTR; i++) {
		char name[64];

		snprintf(name, sizeof(name), "ioctls_with_%s_pointer", ptr_names[i]);
		report(name, by_ptr[i]);
	}
	report("ioctls_created_a_timer", created);
	report("ioctls_enotty", enotty);
	report("ioctls_efault", efault);
	report("ioctls_einval", einval);
	report("ioctls_unexpected_result", bad_results);
	report("ioctls_failed_but_changed_the_argument", changed);
	tap(bad_results == 0, "random_ioctls_give_only_documented_results");
	tap(changed == 0, "failed_ioctls_leave_their_argument_untouched");
	tap(count_fds() == fds_before, "random_ioctls_leave_no_fd");
	close(tfd);
	capacity_check("random_ioctls");
	munmap(map, 4 * page);
	return 0;
}

/* ------------------------------------------------------------------ stress failnth */

static int mode_failnth(void)
{
	int nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	unsigned long points = 0, wrong_errno = 0, fd_left = 0, id_lost = 0, listed = 0, enomem = 0;
	unsigned long efault = 0, tolerated = 0;
	unsigned int next_fd, id = 0;
	char buf[32];
	int fd, n;

	if (nth_fd < 0 || write_file(FAILSLAB "ignore-gfp-wait", "N") ||
	    write_file(FAILSLAB "verbose", "0") ||
	    write_file("/sys/kernel/debug/fail_usercopy/verbose", "0")) {
		printf("ok 1 create_fails_cleanly_at_every_injection_point # SKIP no fail-nth, failslab "
		       "or fail_usercopy (CONFIG_FAULT_INJECTION*, debugfs)\n");
		return 0;
	}
	next_fd = dup(0);
	close(next_fd);
	for (n = 1; n < 10000; n++) {
		int injected, err;

		if (pwrite(nth_fd, buf, snprintf(buf, sizeof(buf), "%d", n), 0) < 0)
			break;
		fd = create(RES_1MS, &id);
		err = fd < 0 ? -fd : 0;
		memset(buf, 0, sizeof(buf));
		injected = pread(nth_fd, buf, sizeof(buf) - 1, 0) > 0 && atoi(buf) == 0;
		/*
		 * Disarm, whether the point was reached or not: the write's own copy from user may
		 * be the point (EFAULT), which disarms it too.
		 */
		if (pwrite(nth_fd, "0", 1, 0) < 0 && pwrite(nth_fd, "0", 1, 0) < 0)
			break;
		if (!injected) {
			/* Every point of CREATE has failed once: this one ran clean. */
			if (fd < 0 || id != 0)
				wrong_errno++, diag("uninjected CREATE: %s, id %u", strerror(err), id);
			if (fd >= 0)
				close(fd);
			break;
		}
		points++;
		if (fd >= 0) {
			/* A failure the path tolerates (an allocation with a fallback). */
			tolerated++;
			if (id != 0)
				id_lost++;
			close(fd);
			continue;
		}
		enomem += err == ENOMEM;
		efault += err == EFAULT;
		if (err != ENOMEM && err != EFAULT && wrong_errno++ < 10)
			diag("point %d: CREATE failed with %s", n, strerror(err));
		if (fcntl((int)next_fd, F_GETFD) >= 0) {
			fd_left++;
			close(next_fd);
		}
		if (listing_live(NULL) != 0)
			listed++;
		/* The id is free again: a clean CREATE gets id 0. */
		fd = create(RES_1MS, &id);
		if (fd < 0 || id != 0) {
			if (id_lost++ < 10)
				diag("point %d: the next CREATE got %s, id %u", n,
				     fd < 0 ? strerror(-fd) : "ok", id);
		}
		if (fd >= 0)
			close(fd);
	}
	close(nth_fd);
	diag("CREATE has %lu fault-injection points: %lu ENOMEM, %lu EFAULT, %lu tolerated", points,
	     enomem, efault, tolerated);
	report("failnth_points", points);
	report("failnth_enomem", enomem);
	report("failnth_efault", efault);
	report("failnth_tolerated", tolerated);
	report("failnth_fd_left", fd_left);
	report("failnth_ids_lost", id_lost);
	report("failnth_timer_left_listed", listed);
	tap(points > 0 && wrong_errno == 0, "create_fails_cleanly_at_every_injection_point");
	tap(fd_left == 0 && listed == 0, "failed_create_leaves_no_fd_and_no_timer");
	tap(id_lost == 0, "failed_create_loses_no_id");
	capacity_check("fault_injection");
	return 0;
}

/* ------------------------------------------------------------------ stress close-in-use */

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

static int mode_close_in_use(int rounds, uint64_t seed)
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

		r.fd = create(RES_1MS, &id);
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
		fd2 = create(RES_1MS, &id2);
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
	tap(hangs == 0 && i == rounds, "close_while_in_use_never_hangs_a_consumer");
	tap(wrong == 0, "close_while_in_use_gives_ebadf_to_trigger_and_eio_to_aloop");
	tap(not_recovered == 0, "consumers_recover_on_a_new_timer");
	capacity_check("close_in_use");
	return 0;
}

/* ------------------------------------------------------------------ create, hold */

static int mode_create(int n, int full)
{
	int fds[4096], i, ok = 1, fd;
	unsigned int id = 0;
	struct rlimit rl = { 8192, 8192 };

	setrlimit(RLIMIT_NOFILE, &rl);
	if (n > 4096)
		n = 4096;
	for (i = 0; i < n; i++) {
		fds[i] = fd = create(RES_1MS, &id);
		if (fd < 0 || id != (unsigned int)i || ioctl(fd, UTIMER_IOCTL_TRIGGER)) {
			fprintf(stderr, "CREATE %d: %s, id %u\n", i, fd < 0 ? strerror(-fd) : "ok", id);
			ok = 0;
			break;
		}
	}
	if (ok && full && (fd = create(RES_1MS, NULL)) != -ENOSPC) {
		fprintf(stderr, "CREATE beyond %d: %d, want ENOSPC\n", n, fd);
		ok = 0;
	}
	while (i-- > 0)
		close(fds[i]);
	return ok ? 0 : 1;
}

static int mode_hold(int with_aloop)
{
	unsigned int id = 0;
	int fd = create(RES_1MS, &id);
	struct cable c = { 0 };
	char b;

	if (fd < 0) {
		fprintf(stderr, "CREATE: %s\n", strerror(-fd));
		return 1;
	}
	if (with_aloop && cable_open(&c, id, 8, 4, SND_PCM_NONBLOCK) < 0) {
		fprintf(stderr, "aloop on timer %u failed\n", id);
		return 1;
	}
	printf("%u\n", id);
	fflush(stdout);
	while (read(0, &b, 1) > 0)
		;
	cable_close(&c);
	close(fd);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: stress run [-d SECONDS] [-t THREADS] [--failslab PERCENT]\n"
		"       stress fuzz [-n IOCTLS] [-s SEED]\n"
		"       stress failnth\n"
		"       stress close-in-use [-r ROUNDS] [-s SEED]\n"
		"       stress create N [--full]\n"
		"       stress hold [--aloop]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dev = getenv("UTIMER_DEV") ? getenv("UTIMER_DEV") : UTIMER_DEVICE;
	double seconds = 10;
	unsigned long count_arg = 0;
	uint64_t seed = 0x5eed;
	int threads = 8, failslab = 0, rounds = 20, full = 0, aloop = 0, rc;

	if (argc < 2)
		usage();
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-d") && v)
			seconds = atof(v), i++;
		else if (!strcmp(a, "-t") && v)
			threads = atoi(v), i++;
		else if (!strcmp(a, "--failslab") && v)
			failslab = atoi(v), i++;
		else if (!strcmp(a, "-n") && v)
			count_arg = strtoul(v, NULL, 0), i++;
		else if (!strcmp(a, "-s") && v)
			seed = strtoull(v, NULL, 0), i++;
		else if (!strcmp(a, "-r") && v)
			rounds = atoi(v), i++;
		else if (!strcmp(a, "--full"))
			full = 1;
		else if (!strcmp(a, "--aloop"))
			aloop = 1;
		else if (!strcmp(argv[1], "create") && i == 2)
			count_arg = strtoul(a, NULL, 0);
		else
			usage();
	}
	if (threads < 1 || threads > 64 || rounds < 1)
		usage();
	ctl = open(dev, O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		printf("Bail out! open %s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "create"))
		return mode_create((int)count_arg, full);
	if (!strcmp(argv[1], "hold"))
		return mode_hold(aloop);
	printf("TAP version 13\n");
	if (!strcmp(argv[1], "run"))
		rc = mode_run(seconds, threads, failslab);
	else if (!strcmp(argv[1], "fuzz"))
		rc = mode_fuzz(count_arg ? count_arg : 1000000, seed);
	else if (!strcmp(argv[1], "failnth"))
		rc = mode_failnth();
	else if (!strcmp(argv[1], "close-in-use"))
		rc = mode_close_in_use(rounds, seed);
	else
		usage();
	printf("1..%d\n", tests);
	close(ctl);
	return rc ? rc : failures ? 1 : 0;
}
