// SPDX-License-Identifier: GPL-2.0
/*
 * Reliability of rust_utimer under concurrent use, run in the guest as root:
 *
 *   stress_run [-d SECONDS] [-t THREADS] [--failslab PERCENT] [--plan]
 *
 * THREADS owners (default 8) CREATE, TRIGGER, close, dup-and-close and fork-and-trigger on
 * random timers, three /dev/snd/timer clients open, start, read and close instances on them,
 * and an snd-aloop stream runs bit-exact on a timer of its own, for SECONDS (default 10).
 * --failslab fails that share of the allocations made with the module's code on the stack
 * (failslab's stacktrace filter).
 *
 * It ends with the capacity check: no timer left (debugfs), and every id can be created again.
 * Output: TAP (the plan first; --plan, with the same arguments, prints only its number), and
 * "# stat NAME VALUE" lines that testing/stress tabulates.  Environment: UTIMER_DEV.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "stress.h"

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
		err = new_timer(RES_1MS, &s->id);
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

/* The aloop stream of stress_run: one trigger, one period, bit-exact, until the end. */
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

static void mode_run(double seconds, int owners, int failslab)
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
	aloop_fd = new_timer(RES_1MS, &aloop_id);
	if (aloop_fd < 0)
		ksft_exit_fail_msg("CREATE for the aloop stream: %s\n", strerror(-aloop_fd));
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
	ksft_test_result(unexpected == 0, "concurrent_operations_give_only_documented_results\n");
	ksft_test_result(ops[OP_ALOOP_PERIODS] > 0 && ops[OP_CREATE] > 0 &&
			 ops[OP_FORK_TRIGGER] > 0 && ops[OP_DUP_CLOSE] > 0 && ops[OP_READER_OPEN] > 0,
			 "every_kind_of_operation_ran\n");
	ksft_test_result(count_fds() == fds_before, "no_fd_left_after_the_run\n");
	capacity_check("stress_run");
}

static void usage(void)
{
	fprintf(stderr, "usage: stress_run [-d SECONDS] [-t THREADS] [--failslab PERCENT] [--plan]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int plan_only = take_flag(&argc, argv, "--plan"), threads = 8, failslab = 0;
	double seconds = 10;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-d") && v)
			seconds = atof(v), i++;
		else if (!strcmp(a, "-t") && v)
			threads = atoi(v), i++;
		else if (!strcmp(a, "--failslab") && v)
			failslab = atoi(v), i++;
		else
			usage();
	}
	if (threads < 1 || threads > 64)
		usage();
	plan_or_print(4, plan_only);
	open_ctl_or_bail();
	mode_run(seconds, threads, failslab);
	close(ctl);
	ksft_finished();
}
