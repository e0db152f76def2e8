// SPDX-License-Identifier: GPL-2.0
/*
 * Persistent timers and holdover (ours; upstream has neither): UTIMER_CREATE_PERSIST, ATTACH,
 * TRIGGER and TAKE on a writer's fd, REMOVE, their errnos; holdover, the module's own ticks while
 * no writer triggers, measured by a /dev/snd/timer reader (tread: a timestamp per event); the
 * module's timers= and holdover= parameters.  Checked from userspace in the guest, as root.
 *
 * Every test's name starts with persist_ (its fixture's), the word selftests/run.sh selects the
 * program by.  Each fixture's teardown runs in the parent once the test's process has exited,
 * whatever the test did: persist_abi and persist_holdover remove every persistent timer left
 * (the tests after them count on the lowest free id), persist_load loads the module again with
 * its defaults.
 *
 * Timing under TCG: a writer that the emulator stalls for 2 periods between two TRIGGERs lets
 * holdover start, as it should.  So a tick no TRIGGER made while the writer drives fails a test
 * only where the TRIGGERs around it were less than `holdover` periods apart (count_strays()),
 * and the hand-over's pause, whose count depends on what runs first after a stalled guest comes
 * back, is measured again (up to ATTEMPTS times) when the test saw a stall in it.  The counts
 * that hold whatever the timing (the reader's ticks against the writer's fdinfo) are exact.
 * /proc/asound/timers names no subdevice (the timers' names are empty, as upstream's): the
 * tests find a timer there by a resolution of its own, and by id through /dev/snd/timer.
 *
 * Environment: UTIMER_DEV as described in utimer_helpers.h (run.sh runs this program against
 * /dev/utimer only); UTIMER_KO, the module's path, for the persist_load tests (skipped without).
 *   persist_test [harness options]	persist_test --list	(every test's name for -r)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sound/asound.h>

#include "utimer_helpers.h"
#include "kselftest_harness.h"

/* The period of the timing tests: 10 ms, in seconds. */
#define P 0.01
/* A stall of the test longer than this (in periods) in the hand-over's pause: measured again. */
#define STALL 1.9
#define ATTEMPTS 5

/* ------------------------------------------------------------------ the module's ioctls */

/* rust_utimer's module parameter `name` (an unsigned number); `dflt` where it cannot be read. */
static unsigned int param_u32(const char *name, unsigned int dflt)
{
	char path[128];
	unsigned int n = dflt;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/rust_utimer/parameters/%s", name);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%u", &n) != 1)
			n = dflt;
		fclose(f);
	}
	return n;
}

/*
 * CREATE_EXT of a persistent timer: flags UTIMER_CREATE_PERSIST | `more`; 0 (c->id set, c->fd
 * written back) or -errno.  c->fd goes in as 12345, to see it written back as -1.
 */
static int create_persist(int ctl, __u64 resolution, __u32 more, __u32 id, __u32 holdover,
			  struct utimer_create *c)
{
	memset(c, 0, sizeof(*c));
	c->resolution = resolution;
	c->flags = UTIMER_CREATE_PERSIST | more;
	c->id = id;
	c->holdover = holdover;
	c->fd = 12345;
	return ioctl(ctl, UTIMER_IOCTL_CREATE_EXT, c) < 0 ? -errno : 0;
}

/* ATTACH to timer `id` with `flags` and reserved[rsv_at] = rsv (rsv_at < 0: none): fd or -errno. */
static int attach_ext(int ctl, __u32 id, __u32 flags, int rsv_at, __u32 rsv)
{
	struct utimer_attach a = { .id = id, .flags = flags, .fd = -77 };

	if (rsv_at >= 0)
		a.reserved[rsv_at] = rsv;
	return ioctl(ctl, UTIMER_IOCTL_ATTACH, &a) < 0 ? -errno : a.fd;
}

static int attach(int ctl, __u32 id)
{
	return attach_ext(ctl, id, 0, -1, 0);
}

/* REMOVE timer `id` with `flags` and reserved[rsv_at] = rsv (rsv_at < 0: none): 0 or -errno. */
static int remove_ext(int ctl, __u32 id, __u32 flags, int rsv_at, __u32 rsv)
{
	struct utimer_remove r = { .id = id, .flags = flags };

	if (rsv_at >= 0)
		r.reserved[rsv_at] = rsv;
	return ioctl(ctl, UTIMER_IOCTL_REMOVE, &r) < 0 ? -errno : 0;
}

static int remove_timer(int ctl, __u32 id)
{
	return remove_ext(ctl, id, 0, -1, 0);
}

/* TAKE on a writer's fd: 1 (it was in holdover), 0, or -errno. */
static int take(int w)
{
	int r = ioctl(w, UTIMER_IOCTL_TAKE);

	return r < 0 ? -errno : r;
}

/* ------------------------------------------------------------------ what the kernel shows */

/* fdinfo field `key` ("utimer-state") of our fd, its value without the tab and newline. */
static int fdinfo_str(int fd, const char *key, char *val, size_t size)
{
	char path[64], line[256];
	size_t len = strlen(key);
	int found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	val[0] = 0;
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':') {
			char *v = line + len + 1;

			v += strspn(v, " \t");
			v[strcspn(v, "\n")] = 0;
			snprintf(val, size, "%s", v);
			found = 0;
			break;
		}
	fclose(f);
	return found;
}

/* fdinfo field `key` as a number; -1 if it is missing. */
static long long fdinfo_num(int fd, const char *key)
{
	char v[64];

	if (fdinfo_str(fd, key, v, sizeof(v)) || !v[0])
		return -1;
	return strtoll(v, NULL, 10);
}

/*
 * The debugfs listing's columns for timer `id`: `# id uid pid resolution_ns triggers instances
 * age_ms persistent writer state holdover_ticks comm`, split; 0, or -1 if it has no such line.
 */
struct listing {
	char col[11][32];
	char comm[64];
};

static int listing_of(unsigned int id, struct listing *l)
{
	char want[16], line[512];
	FILE *f;
	int n = -1;

	if (access(LISTING, R_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	f = fopen(LISTING, "re");
	memset(l, 0, sizeof(*l));
	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%u ", id);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want))) {
			n = sscanf(line, "%31s %31s %31s %31s %31s %31s %31s %31s %31s %31s %31s %63[^\n]",
				   l->col[0], l->col[1], l->col[2], l->col[3], l->col[4], l->col[5],
				   l->col[6], l->col[7], l->col[8], l->col[9], l->col[10], l->comm);
			break;
		}
	fclose(f);
	return n == 12 ? 0 : -1;
}

enum { L_ID, L_UID, L_PID, L_RES, L_TRIG, L_INST, L_AGE, L_PERSIST, L_WRITER, L_STATE, L_HOT };

/* How many lines of the kernel log have both `a` and `b`; -1 on error. */
static int klog_lines(const char *a, const char *b)
{
	static char buf[1 << 20];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof(buf) - 1), count = 0;
	char *line, *save;

	if (n < 0)
		return -1;
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (strstr(line, a) && strstr(line, b))
			count++;
	return count;
}

/* ------------------------------------------------------------------ processes, capabilities */

/* Drop capability `cap` from this process's effective set (it stays root). */
static int drop_effective_cap(int cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[cap >> 5].effective &= ~(1U << (cap & 31));
	return syscall(SYS_capset, &h, d);
}

/* How a child does: `how` 0 root without CAP_SYS_ADMIN, 1 uid and gid 65534 (no capability). */
static int unprivileged(int how)
{
	if (how == 0)
		return drop_effective_cap(CAP_SYS_ADMIN);
	return setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534) ? -1 : 0;
}

/*
 * In a child made unprivileged (`how`, above): `op` on /dev/utimer: 1 CREATE_EXT PERSIST of id
 * `id`, 2 REMOVE of `id`, 3 ATTACH to `id` then one TRIGGER.  Root without CAP_SYS_ADMIN opens
 * /dev/utimer itself, uid 65534 (which cannot) uses ctl, opened by root.  The errno, 0 on
 * success, 255 if the child could not drop its privileges or open the device.
 */
static int as_unprivileged(int how, int ctl, int op, __u32 id)
{
	struct utimer_create c;
	int st, r = 0, w;
	pid_t pid = fork();

	if (pid == 0) {
		if (unprivileged(how))
			_exit(255);
		if (how == 0 && (ctl = open_ctl()) < 0)
			_exit(255);
		switch (op) {
		case 1:
			r = -create_persist(ctl, RES_10MS, UTIMER_CREATE_ID, id, 0, &c);
			break;
		case 2:
			r = -remove_timer(ctl, id);
			break;
		case 3:
			w = attach(ctl, id);
			r = w < 0 ? -w : (ioctl(w, UTIMER_IOCTL_TRIGGER) ? errno : 0);
			break;
		}
		_exit(r);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* ------------------------------------------------------------------ a reader with timestamps */

/*
 * The clock of /dev/snd/timer's timestamps: CLOCK_MONOTONIC unless snd-timer's
 * timer_tstamp_monotonic says otherwise.  The tests take their own times on it too.
 */
static clockid_t tclock(void)
{
	static clockid_t clk = -1;
	FILE *f;
	char c = 'Y';

	if (clk >= 0)
		return clk;
	f = fopen("/sys/module/snd_timer/parameters/timer_tstamp_monotonic", "re");
	if (f) {
		if (fscanf(f, " %c", &c) != 1)
			c = 'Y';
		fclose(f);
	}
	clk = (c == 'N' || c == '0') ? CLOCK_REALTIME : CLOCK_MONOTONIC;
	return clk;
}

static double tnow(void)
{
	struct timespec ts;

	clock_gettime(tclock(), &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The ticks a reader got: one record per event (the core merges ticks not read yet). */
/*
 * The ticks a reader got: one record per event (the core merges ticks not read yet), with its
 * timestamp and `seg`, the part of the test it was read in (see GAP() and TRIG()).
 */
struct evlog {
	int n, seg;
	long ticks;
	struct { double t; unsigned int val; int seg; } e[16384];
};

/*
 * Where a writer's test reads its ticks: GAP(j) while it waits before its TRIGGER j, TRIG(j) at
 * once after that TRIGGER (whose tick the core queues before the ioctl returns).  So a TRIGGER's
 * tick is told from a holdover tick by when it was read, not by timestamps, which are as coarse
 * as the guest's clocksource (4 ms on the debug kernel under TCG: jiffies).
 */
#define GAP(j) (2 * (j))
#define TRIG(j) (2 * (j) + 1)

/*
 * A reader in tread mode (utimer_helpers.h: a timestamp per event, only tick events) on
 * (GLOBAL, 4, id); -1 (errno set) on error.
 */
static int tread_open(unsigned int id)
{
	return reader_open_ext(id, 1, 1024, NULL);
}

/* Everything the reader has now, into the log; the ticks read. */
static long drain(int rd, struct evlog *log)
{
	struct snd_timer_tread r[64];
	long got = 0;
	ssize_t n;

	while ((n = read(rd, r, sizeof(r))) > 0)
		for (size_t i = 0; i < n / sizeof(r[0]); i++) {
			if (r[i].event != SNDRV_TIMER_EVENT_TICK)
				continue;
			if (log->n < (int)(sizeof(log->e) / sizeof(log->e[0]))) {
				log->e[log->n].t = r[i].tstamp.tv_sec + r[i].tstamp.tv_nsec / 1e9;
				log->e[log->n].val = r[i].val;
				log->e[log->n].seg = log->seg;
				log->n++;
			}
			log->ticks += r[i].val;
			got += r[i].val;
		}
	return got;
}

/*
 * The test's own view of the clock: the longest interval between two of its looks (a stall of
 * the test, or of the whole guest: the emulator not scheduled), and the time its intervals
 * lasted beyond a period in all, since obs_reset().  It looks at least once per period while it
 * waits (wait_until()).
 */
static double obs_last, obs_max, obs_excess;

static double observe(void)
{
	double t = tnow();

	if (t - obs_last > obs_max)
		obs_max = t - obs_last;
	if (t - obs_last > P)
		obs_excess += t - obs_last - P;
	obs_last = t;
	return t;
}

static void obs_reset(void)
{
	obs_last = tnow();
	obs_max = 0;
	obs_excess = 0;
}

/* Until `deadline` (tnow()), reading each event as it comes, looking at the clock each period. */
static void wait_until(int rd, struct evlog *log, double deadline)
{
	struct pollfd p = { .fd = rd, .events = POLLIN };
	double rem;

	while ((rem = deadline - observe()) > 0) {
		struct timespec ts;

		if (rem > P)
			rem = P;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(rem * 1e9);
		ppoll(&p, 1, &ts, NULL);
		drain(rd, log);
	}
	drain(rd, log);
}

/* The ticks read in part `seg` of the test. */
static long seg_ticks(const struct evlog *log, int seg)
{
	long n = 0;

	for (int i = 0; i < log->n; i++)
		if (log->e[i].seg == seg)
			n += log->e[i].val;
	return n;
}

/* The ticks read in parts from `seg` on. */
static long ticks_from_seg(const struct evlog *log, int seg)
{
	long n = 0;

	for (int i = 0; i < log->n; i++)
		if (log->e[i].seg >= seg)
			n += log->e[i].val;
	return n;
}

/* The ticks of the events timestamped in (from, to]. */
static long ticks_between(const struct evlog *log, double from, double to)
{
	long n = 0;

	for (int i = 0; i < log->n; i++)
		if (log->e[i].t > from && log->e[i].t <= to)
			n += log->e[i].val;
	return n;
}

/* ------------------------------------------------------------------ the fixtures */

/* No timer of ours is persistent any more: REMOVE of every id (most get ENOENT). */
static void remove_all_persistent(void)
{
	unsigned int max = param_u32("max_timers", 128);
	int ctl = open_ctl();

	if (ctl < 0)
		return;
	for (unsigned int id = 0; id < max; id++)
		remove_timer(ctl, id);
	close(ctl);
}

static void setup_common(struct __test_metadata *_metadata)
{
	if (upstream())
		SKIP(return, "rust_utimer's own persistent timers");
	if (geteuid() != 0)
		SKIP(return, "needs root");
	remove_all_persistent();
}

/* Persistent timers' ABI: their lifecycle and errnos. */
FIXTURE(persist_abi) {};
FIXTURE_SETUP(persist_abi) { setup_common(_metadata); }
FIXTURE_TEARDOWN_PARENT(persist_abi) { remove_all_persistent(); }

/* Holdover, measured. */
FIXTURE(persist_holdover) {};
FIXTURE_SETUP(persist_holdover) { setup_common(_metadata); }
FIXTURE_TEARDOWN_PARENT(persist_holdover) { remove_all_persistent(); }

/* ------------------------------------------------------------------ lifecycle */

/*
 * A persistent timer: made without an fd, listed with none open, driven by a writer that
 * attaches, detached by the writer's close (the timer and its consumer stay), attached again,
 * removed only once no writer is attached; its id is then free.  Plain CREATE passes over it.
 */
TEST_F_TIMEOUT(persist_abi, create_attach_trigger_detach_remove_round_trip, 60)
{
	struct utimer_create c, lo, o;
	struct listing l;
	struct utimer_uinfo u;
	char link[64], path[64], v[64];
	int ctl = open_ctl(), fds, w, rd;
	ssize_t n;

	ASSERT_LE(0, ctl) TH_LOG("open %s: %s", utimer_dev(), strerror(errno));
	fds = count_fds();
	/* Holdover 0: the counts below are the TRIGGERs alone, however slow the machine. */
	ASSERT_EQ(0, create_persist(ctl, 12345678, UTIMER_CREATE_ID | UTIMER_CREATE_HOLDOVER, 7, 0,
				    &c)) TH_LOG("CREATE_EXT PERSIST id 7: %s", strerror(errno));
	EXPECT_EQ(7u, c.id);
	EXPECT_EQ(-1, c.fd);
	EXPECT_EQ(fds, count_fds()) TH_LOG("a persistent timer has no fd");
	/* Without an id: the lowest free one. */
	ASSERT_EQ(0, create_persist(ctl, RES_10MS, 0, 0, 0, &lo));
	EXPECT_EQ(0u, lo.id);
	EXPECT_EQ(-1, lo.fd);
	close(ctl);

	/* No fd of ours is open: both are there all the same. */
	EXPECT_EQ(fds - 1, count_fds());
	EXPECT_EQ(1, proc_timers_count(12345678));
	EXPECT_EQ(1, proc_timers_count(RES_10MS));
	EXPECT_EQ(12345678ul, timer_info_resolution(7));
	EXPECT_EQ(RES_10MS, timer_info_resolution(0));
	ASSERT_EQ(0, listing_of(7, &l)) TH_LOG("no line for timer 7 in %s", LISTING);
	EXPECT_STREQ("1", l.col[L_PERSIST]);
	EXPECT_TRUE(!strcmp(l.col[L_WRITER], "0") || !strcmp(l.col[L_WRITER], "-"))
		TH_LOG("writer %s before any attach", l.col[L_WRITER]);
	EXPECT_STREQ("12345678", l.col[L_RES]);

	ctl = open_ctl();
	ASSERT_LE(0, ctl);
	/* Plain CREATE and CREATE_EXT pass over the persistent ids. */
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	EXPECT_EQ(1u, u.id);
	memset(&o, 0, sizeof(o));
	o.resolution = RES_10MS;
	o.flags = UTIMER_CREATE_ID;
	o.id = 7;
	EXPECT_EQ(-1, ioctl(ctl, UTIMER_IOCTL_CREATE_EXT, &o));
	EXPECT_EQ(EBUSY, errno) TH_LOG("owned CREATE_EXT on persistent id 7: %s", strerror(errno));
	close(u.fd);

	/* A writer. */
	w = attach(ctl, 7);
	ASSERT_LE(0, w) TH_LOG("ATTACH 7: %s", strerror(-w));
	EXPECT_EQ(FD_CLOEXEC, fcntl(w, F_GETFD) & FD_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", w);
	n = readlink(path, link, sizeof(link) - 1);
	link[n > 0 ? n : 0] = 0;
	TH_LOG("the writer's fd: %s", link);
	EXPECT_EQ(7, fdinfo_num(w, "utimer-id"));
	EXPECT_EQ(12345678, fdinfo_num(w, "utimer-resolution"));
	EXPECT_EQ(1, fdinfo_num(w, "utimer-persistent"));
	EXPECT_EQ(getpid(), fdinfo_num(w, "utimer-writer"));
	EXPECT_EQ(0, fdinfo_str(w, "utimer-state", v, sizeof(v)));
	EXPECT_STREQ("driven", v);
	ASSERT_EQ(0, listing_of(7, &l));
	EXPECT_EQ(getpid(), atoi(l.col[L_WRITER])) TH_LOG("writer column %s", l.col[L_WRITER]);
	rd = reader_open(7, NULL);
	ASSERT_LE(0, rd) TH_LOG("reader on G4.7: %s", strerror(errno));
	for (int i = 0; i < 5; i++)
		ASSERT_EQ(0, ioctl(w, UTIMER_IOCTL_TRIGGER));
	EXPECT_EQ(5, reader_ticks(rd, 1000, NULL));
	EXPECT_EQ(5, fdinfo_num(w, "utimer-triggers"));
	EXPECT_EQ(1, fdinfo_num(w, "utimer-instances"));
	EXPECT_EQ(0, fdinfo_num(w, "utimer-holdover-ticks"));
	EXPECT_EQ(0, take(w)) TH_LOG("TAKE right after TRIGGERs");
	/* Nobody else while it is attached; it cannot be removed under it. */
	EXPECT_EQ(-EBUSY, attach(ctl, 7));
	EXPECT_EQ(-EBUSY, remove_timer(ctl, 7));

	/* The writer's close only detaches: the timer, its consumer and the listing stay. */
	EXPECT_EQ(0, close(w));
	EXPECT_EQ(1, proc_timers_count(12345678));
	EXPECT_EQ(12345678ul, timer_info_resolution(7));
	ASSERT_EQ(0, listing_of(7, &l));
	EXPECT_STREQ("1", l.col[L_PERSIST]);
	EXPECT_TRUE(!strcmp(l.col[L_WRITER], "0") || !strcmp(l.col[L_WRITER], "-"))
		TH_LOG("writer %s after the close", l.col[L_WRITER]);
	EXPECT_STREQ("1", l.col[L_INST]);

	/* Attached again: the same timer, the same consumer. */
	w = attach(ctl, 7);
	ASSERT_LE(0, w) TH_LOG("ATTACH 7 again: %s", strerror(-w));
	EXPECT_EQ(0, reader_ticks(rd, 0, NULL)) TH_LOG("ticks while detached, holdover 0");
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, ioctl(w, UTIMER_IOCTL_TRIGGER));
	EXPECT_EQ(3, reader_ticks(rd, 1000, NULL));
	TH_LOG("after the second writer: utimer-triggers %lld", fdinfo_num(w, "utimer-triggers"));
	EXPECT_EQ(0, close(w));

	/* Removed: gone from everywhere, its consumer gets no more, its id is free. */
	EXPECT_EQ(0, remove_timer(ctl, 7));
	EXPECT_EQ(0, proc_timers_count(12345678));
	EXPECT_EQ(0ul, timer_info_resolution(7));
	EXPECT_EQ(-1, listing_of(7, &l));
	EXPECT_EQ(-ENOENT, attach(ctl, 7));
	EXPECT_EQ(-ENOENT, remove_timer(ctl, 7));
	reader_ticks(rd, 0, NULL);
	EXPECT_EQ(0, reader_ticks(rd, 100, NULL));
	EXPECT_EQ(0, close(rd));
	ASSERT_EQ(0, ioctl(ctl, UTIMER_IOCTL_CREATE_EXT, &o)) TH_LOG("owned id 7 after the remove");
	EXPECT_EQ(7u, o.id);
	close(o.fd);
	EXPECT_EQ(0, remove_timer(ctl, 0));
	EXPECT_EQ(0ul, timer_info_resolution(0));
	EXPECT_EQ(0, proc_timers_count(RES_10MS));
	close(ctl);
}

/* A writer process's exit detaches it too, and holdover 1000 is the most accepted. */
TEST_F(persist_abi, writer_exit_detaches_and_the_timer_stays)
{
	struct utimer_create c;
	int ctl = open_ctl(), st, w;
	pid_t pid;

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create_persist(ctl, 11111111, UTIMER_CREATE_HOLDOVER, 0, UTIMER_MAX_HOLDOVER, &c));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		w = attach(ctl, c.id);
		_exit(w < 0 ? 1 : ioctl(w, UTIMER_IOCTL_TRIGGER) ? 2 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) TH_LOG("child: %d", WEXITSTATUS(st));
	EXPECT_EQ(1, proc_timers_count(11111111));
	EXPECT_EQ(11111111ul, timer_info_resolution(c.id));
	w = attach(ctl, c.id);
	EXPECT_LE(0, w) TH_LOG("ATTACH after the writer exited: %s", strerror(-w));
	close(w);
	EXPECT_EQ(0, remove_timer(ctl, c.id));
	close(ctl);
}

/* ------------------------------------------------------------------ errnos */

static struct utimer_create req(__u64 resolution, __u32 flags, __u32 id, __u32 holdover)
{
	return (struct utimer_create){ .resolution = resolution, .flags = flags, .id = id,
				       .holdover = holdover, .fd = -77 };
}

TEST_F(persist_abi, create_errnos)
{
	static const __u64 bad_res[] = { 0, 99999, UTIMER_MAX_RESOLUTION + 1, ~0ULL };
	const __u32 PH = UTIMER_CREATE_PERSIST | UTIMER_CREATE_HOLDOVER;
	unsigned int max = param_u32("max_timers", 128), i;
	struct utimer_create c, d;
	struct utimer_uinfo u;
	int ctl = open_ctl();
	char what[96];

	ASSERT_LE(0, ctl);
	c = req(RES_10MS, UTIMER_CREATE_HOLDOVER, 0, 2);
	EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, "HOLDOVER without PERSIST");
	c = req(RES_10MS, UTIMER_CREATE_HOLDOVER | UTIMER_CREATE_ID, 3, 0);
	EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, "HOLDOVER 0 without PERSIST");
	c = req(RES_10MS, PH, 0, UTIMER_MAX_HOLDOVER + 1);
	EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, "holdover 1001");
	c = req(RES_10MS, PH, 0, ~0U);
	EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, "holdover 2^32-1");
	c = req(RES_10MS, UTIMER_CREATE_PERSIST, 0, 2);
	EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, "holdover 2 without the HOLDOVER flag");
	c = req(RES_10MS, 0, 0, 1);
	EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, "holdover 1 on an owned timer");
	for (i = 0; i < sizeof(bad_res) / sizeof(bad_res[0]); i++) {
		c = req(bad_res[i], UTIMER_CREATE_PERSIST, 0, 0);
		snprintf(what, sizeof(what), "PERSIST, resolution %llu", (unsigned long long)bad_res[i]);
		EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, what);
	}
	c = req(RES_10MS, UTIMER_CREATE_PERSIST | UTIMER_CREATE_ID, max, 0);
	snprintf(what, sizeof(what), "PERSIST, id %u (max_timers %u)", max, max);
	EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, what);
	c = req(RES_10MS, UTIMER_CREATE_PERSIST, 0, 0);
	c.reserved[1] = 1;
	EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, "PERSIST, reserved[1] 1");
	c = req(RES_10MS, UTIMER_CREATE_PERSIST | (1U << 3), 0, 0);
	EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, "PERSIST, an unknown flag");

	/* The id taken: by a persistent timer, by an owned one. */
	ASSERT_EQ(0, create_persist(ctl, RES_10MS, UTIMER_CREATE_ID | UTIMER_CREATE_HOLDOVER, 5,
				    UTIMER_MAX_HOLDOVER, &d)) TH_LOG("holdover 1000: %s", strerror(errno));
	c = req(RES_10MS, UTIMER_CREATE_PERSIST | UTIMER_CREATE_ID, 5, 0);
	EXPECT_CREATE_EXT_REFUSED(ctl, &c, EBUSY, "PERSIST on persistent id 5");
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	c = req(RES_10MS, UTIMER_CREATE_PERSIST | UTIMER_CREATE_ID, u.id, 0);
	snprintf(what, sizeof(what), "PERSIST on owned id %u", u.id);
	EXPECT_CREATE_EXT_REFUSED(ctl, &c, EBUSY, what);
	/* Nothing was taken by the refusals. */
	EXPECT_EQ(0u, u.id);
	close(u.fd);
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	EXPECT_EQ(0u, u.id);
	close(u.fd);
	EXPECT_EQ(0, remove_timer(ctl, 5));
	close(ctl);
}

TEST_F(persist_abi, attach_errnos)
{
	struct utimer_create c;
	struct utimer_uinfo u;
	int ctl = open_ctl(), w, w2, fds, i;
	char what[64];

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create_persist(ctl, RES_10MS, UTIMER_CREATE_ID, 4, 0, &c));
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	fds = count_fds();
	EXPECT_EQ(-ENOENT, attach(ctl, 9)) TH_LOG("no timer 9");
	EXPECT_EQ(-ENOENT, attach(ctl, param_u32("max_timers", 128)));
	EXPECT_EQ(-ENOENT, attach(ctl, ~0U));
	EXPECT_EQ(-EBUSY, attach(ctl, u.id)) TH_LOG("owned timer %u", u.id);
	EXPECT_EQ(-EINVAL, attach_ext(ctl, 4, 1, -1, 0)) TH_LOG("flags 1");
	EXPECT_EQ(-EINVAL, attach_ext(ctl, 4, 0x80000000U, -1, 0)) TH_LOG("flags 1<<31");
	for (i = 0; i < 5; i++) {
		snprintf(what, sizeof(what), "reserved[%d]", i);
		EXPECT_EQ(-EINVAL, attach_ext(ctl, 4, 0, i, 1U << (i * 7))) TH_LOG("%s", what);
	}
	EXPECT_EQ(fds, count_fds()) TH_LOG("a refused ATTACH left an fd");
	/* Not on a timer's fd, nor on a writer's. */
	EXPECT_EQ(-ENOTTY, attach(u.fd, 4));
	w = attach(ctl, 4);
	ASSERT_LE(0, w);
	EXPECT_EQ(-ENOTTY, attach(w, 4));
	/* A second writer, from this process or another. */
	EXPECT_EQ(-EBUSY, attach(ctl, 4));
	w2 = open_ctl();
	ASSERT_LE(0, w2);
	EXPECT_EQ(-EBUSY, attach(w2, 4));
	close(w2);
	/* TAKE is the writer's: not on /dev/utimer, nor on an owned timer's fd. */
	EXPECT_EQ(-ENOTTY, take(ctl));
	TH_LOG("TAKE on an owned timer's fd: %s", strerror(-take(u.fd)));
	close(w);
	w = attach(ctl, 4);
	EXPECT_LE(0, w) TH_LOG("ATTACH once the first writer closed: %s", strerror(-w));
	close(w);
	close(u.fd);
	EXPECT_EQ(0, remove_timer(ctl, 4));
	close(ctl);
}

TEST_F(persist_abi, remove_errnos)
{
	struct utimer_create c;
	struct utimer_uinfo u;
	int ctl = open_ctl(), w, i;

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create_persist(ctl, RES_10MS, UTIMER_CREATE_ID, 6, 0, &c));
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	EXPECT_EQ(-ENOENT, remove_timer(ctl, 9)) TH_LOG("no timer 9");
	EXPECT_EQ(-ENOENT, remove_timer(ctl, ~0U));
	EXPECT_EQ(-ENOENT, remove_timer(ctl, u.id)) TH_LOG("owned timer %u", u.id);
	EXPECT_EQ(0, ioctl(u.fd, UTIMER_IOCTL_TRIGGER)) TH_LOG("the owned timer is untouched");
	EXPECT_EQ(-EINVAL, remove_ext(ctl, 6, 1, -1, 0));
	EXPECT_EQ(-EINVAL, remove_ext(ctl, 6, 0x80000000U, -1, 0));
	for (i = 0; i < 2; i++)
		EXPECT_EQ(-EINVAL, remove_ext(ctl, 6, 0, i, 1)) TH_LOG("reserved[%d]", i);
	w = attach(ctl, 6);
	ASSERT_LE(0, w);
	EXPECT_EQ(-EBUSY, remove_timer(ctl, 6)) TH_LOG("a writer is attached");
	EXPECT_EQ(0, ioctl(w, UTIMER_IOCTL_TRIGGER));
	close(w);
	EXPECT_EQ(RES_10MS, timer_info_resolution(6)) TH_LOG("the refusals removed it");
	EXPECT_EQ(0, remove_timer(ctl, 6));
	EXPECT_EQ(-ENOENT, remove_timer(ctl, 6));
	close(u.fd);
	close(ctl);
}

/*
 * CAP_SYS_ADMIN: needed to make and remove a persistent timer (root without it, or uid 65534,
 * gets EPERM, through an fd root opened), not to drive one.
 */
TEST_F(persist_abi, create_and_remove_need_cap_sys_admin_attach_does_not)
{
	struct utimer_create c;
	int ctl = open_ctl();

	ASSERT_LE(0, ctl);
	EXPECT_EQ(EPERM, as_unprivileged(0, ctl, 1, 10)) TH_LOG("root without CAP_SYS_ADMIN: PERSIST");
	EXPECT_EQ(EPERM, as_unprivileged(1, ctl, 1, 10)) TH_LOG("uid 65534: PERSIST");
	EXPECT_EQ(0ul, timer_info_resolution(10)) TH_LOG("a refused PERSIST made timer 10");
	ASSERT_EQ(0, create_persist(ctl, RES_10MS, UTIMER_CREATE_ID, 10, 0, &c));
	EXPECT_EQ(EPERM, as_unprivileged(0, ctl, 2, 10)) TH_LOG("root without CAP_SYS_ADMIN: REMOVE");
	EXPECT_EQ(EPERM, as_unprivileged(1, ctl, 2, 10)) TH_LOG("uid 65534: REMOVE");
	TH_LOG("uid 65534: REMOVE of no timer: %s", strerror(as_unprivileged(1, ctl, 2, 11)));
	EXPECT_EQ(0, as_unprivileged(1, ctl, 3, 10)) TH_LOG("uid 65534: ATTACH and TRIGGER");
	EXPECT_EQ(RES_10MS, timer_info_resolution(10));
	EXPECT_EQ(0, remove_timer(ctl, 10));
	close(ctl);
}

/*
 * Persistent timers are not counted against max_user_timers: root without CAP_SYS_RESOURCE
 * (the quota binds it then) makes quota + 1 of them, and still gets quota owned ones.
 */
TEST_F(persist_abi, persistent_timers_not_counted_against_the_quota)
{
	unsigned int quota = param_u32("max_user_timers", 32), max = param_u32("max_timers", 128);
	int ctl = open_ctl(), st;
	pid_t pid;

	ASSERT_LE(0, ctl);
	if (2 * quota + 2 > max)
		SKIP(return, "max_timers %u too small for 2 * max_user_timers %u + 2", max, quota);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct utimer_uinfo u[1024];
		struct utimer_create c;
		unsigned int i;

		if (drop_effective_cap(CAP_SYS_RESOURCE))
			_exit(255);
		for (i = 0; i < quota + 1; i++)
			if (create_persist(ctl, RES_10MS, 0, 0, 0, &c))
				_exit(1);
		for (i = 0; i < quota; i++)
			if (create(ctl, RES_10MS, &u[i]))
				_exit(2);
		if (create(ctl, RES_10MS, &u[quota]) != -EDQUOT)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st)) TH_LOG("1: a persistent timer refused; 2: an owned one; "
					     "3: no EDQUOT at the quota; 255: capset");
	close(ctl);
}

/* ------------------------------------------------------------------ holdover */

/*
 * Ticks the writer's TRIGGERs first..last-1 (begun at tb[j], ended at ta[j]) do not account for:
 * those read in the gap before each (GAP(j)), beyond the one read with it (TRIG(j)), and, with
 * `stop`, those read after the last until `stop`.  Holdover may make them only where `holdover`
 * periods passed without a TRIGGER, so in a gap between two TRIGGERs of at least `holdover`
 * periods (`start`: when the one before `first` began), at most one per period of it: a writer
 * the emulator stalled that long.  Any other is unexplained.
 */
struct strays {
	long ticks, unexplained, untimely;
	double longest;		/* the longest gap, in s */
	char first[160];	/* the first unexplained ones */
};

/* The resolution of the test's clock, in s. */
static double tres(void)
{
	struct timespec ts;

	if (clock_getres(tclock(), &ts))
		return 0.004;
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void count_strays(const struct evlog *log, const double *tb, const double *ta, int first,
			 int last, double start, double stop, unsigned int holdover,
			 struct strays *st)
{
	double res = tres();

	memset(st, 0, sizeof(*st));
	for (int j = first; j <= last; j++) {
		double begun = j > first ? tb[j - 1] : start, ended = j < last ? ta[j] : stop;
		long in = seg_ticks(log, GAP(j)), allowed = 0, own;

		if (j == last && stop <= 0)
			break;
		if (j < last) {
			own = seg_ticks(log, TRIG(j));
			/* A TRIGGER whose tick was not read right after it. */
			if (own < 1)
				st->untimely++;
			in += own > 1 ? own - 1 : 0;
		}
		if (ended - begun > st->longest)
			st->longest = ended - begun;
		if (holdover && ended - begun + res >= holdover * P)
			allowed = (long)((ended - begun + res) / P) + 1;
		st->ticks += in;
		if (in > allowed) {
			if (!st->unexplained)
				snprintf(st->first, sizeof(st->first), "%ld tick(s) before TRIGGER %d, "
					 "%.1f ms after the one before", in, j, (ended - begun) * 1e3);
			st->unexplained += in - allowed;
		}
	}
}

/* One hand-over, measured: see TEST_F(persist_holdover, hand_over...). */
struct handover {
	long reader_total, fd_triggers, fd_holdover;
	long pause_ticks, cut_ticks, cut_triggers;
	double pause_s, pause_stall, pause_excess, take_gap, end_gap;
	struct strays run1, run2;
	int take_driven, take_end;
	char state_driven[32], state_pause[32], state_end[32];
};

/*
 * A persistent 10 ms timer with holdover 2 and a tread reader; a writer attaches and TRIGGERs
 * 50 times at a 10 ms pace (TAKE before the 26th), stops for 1 s, TRIGGERs 50 more times, and
 * the reader stops; then a last TAKE, and the timer is removed.
 */
static void handover_attempt(struct __test_metadata *_metadata, int ctl, struct evlog *log,
			     struct handover *h)
{
	double tb[100], ta[100], base, t0, t;
	struct utimer_create c;
	int w, rd, i, k;

	memset(h, 0, sizeof(*h));
	memset(log, 0, sizeof(*log));
	ASSERT_EQ(0, create_persist(ctl, RES_10MS, UTIMER_CREATE_HOLDOVER, 0, 2, &c));
	w = attach(ctl, c.id);
	ASSERT_LE(0, w) TH_LOG("ATTACH: %s", strerror(-w));
	t0 = tnow();
	rd = tread_open(c.id);
	ASSERT_LE(0, rd) TH_LOG("tread reader on G4.%u: %s", c.id, strerror(errno));
	base = tnow();
	for (i = 0; i < 100; i++) {
		if (i == 50) {
			/* The pause: 1 s without a TRIGGER, the state seen in the middle. */
			obs_reset();
			wait_until(rd, log, ta[49] + 0.5);
			fdinfo_str(w, "utimer-state", h->state_pause, sizeof(h->state_pause));
			wait_until(rd, log, ta[49] + 1.0);
			base = tnow();
		}
		wait_until(rd, log, base + (i % 50) * P);
		if (i == 25) {
			h->take_gap = tnow() - ta[24];
			h->take_driven = take(w);
			fdinfo_str(w, "utimer-state", h->state_driven, sizeof(h->state_driven));
		}
		tb[i] = tnow();
		ASSERT_EQ(0, ioctl(w, UTIMER_IOCTL_TRIGGER));
		ta[i] = tnow();
		if (i == 50) {
			h->pause_stall = obs_max > tb[50] - obs_last ? obs_max : tb[50] - obs_last;
			h->pause_excess = obs_excess + (tb[50] - obs_last > P ? tb[50] - obs_last - P : 0);
		}
		log->seg = TRIG(i);
		drain(rd, log);
		log->seg = GAP(i + 1);
	}
	/* The end: the reader stops (nothing reaches it any more), then TAKE (driven: 0). */
	ASSERT_EQ(0, ioctl(rd, SNDRV_TIMER_IOCTL_STOP));
	t = tnow();
	h->end_gap = t - tb[99];
	h->take_end = take(w);
	fdinfo_str(w, "utimer-state", h->state_end, sizeof(h->state_end));
	drain(rd, log);
	h->fd_triggers = fdinfo_num(w, "utimer-triggers");
	h->fd_holdover = fdinfo_num(w, "utimer-holdover-ticks");
	h->reader_total = log->ticks;
	/*
	 * The pause: from the last TRIGGER of the first run to the first of the second, that
	 * TRIGGER's own tick left out (a holdover tick under way when it came may be read with it).
	 */
	h->pause_s = tb[50] - ta[49];
	h->pause_ticks = seg_ticks(log, GAP(50)) + seg_ticks(log, TRIG(50)) - 1;
	/* The first run, from the reader's start (the module watches from there). */
	count_strays(log, tb, ta, 0, 50, t0, 0, 2, &h->run1);
	/*
	 * The second run from one period after its first TRIGGER: the first TRIGGER k that late,
	 * the ticks read after TRIGGER k-1's (each TRIGGER's tick was read before the next), and
	 * those until the reader stopped.
	 */
	for (k = 51; k < 99 && tb[k] <= ta[50] + P; k++)
		;
	h->cut_triggers = 100 - k;
	h->cut_ticks = ticks_from_seg(log, GAP(k));
	count_strays(log, tb, ta, k, 100, tb[k - 1], t, 2, &h->run2);
	close(rd);
	close(w);
	EXPECT_EQ(0, remove_timer(ctl, c.id));
}

/*
 * Holdover hands the clock over and back: the reader's ticks are exactly the writer's TRIGGERs
 * plus the module's holdover ticks (fdinfo); the pause's holdover ticks are about its length in
 * periods; once the writer is back, the reader gets its TRIGGERs and nothing else (but where the
 * emulator stalled the writer for 2 periods: holdover then, as it should).  TAKE says 0 while
 * the writer drives.  The pause is measured again (up to ATTEMPTS times) when the test was not
 * running all along it (the guest stalled: its count then depends on what ran first after, the
 * watch or the TRIGGER); if it never ran so, the count may be short by the stalls' periods.
 */
TEST_F_TIMEOUT(persist_holdover, hand_over_to_holdover_and_back, 60)
{
	static struct evlog log;
	struct handover h;
	int ctl = open_ctl(), a;

	ASSERT_LE(0, ctl);
	for (a = 1; a <= ATTEMPTS; a++) {
		handover_attempt(_metadata, ctl, &log, &h);
		diag("hand-over, attempt %d: reader %ld ticks = fdinfo %ld triggers + %ld holdover; "
		     "pause %.3f s (%.1f periods): %ld holdover ticks; after the second run's first "
		     "period %ld ticks for %ld TRIGGERs; TAKE %d driven, %d at the end; state %s, "
		     "%s in the pause, %s at the end", a, h.reader_total, h.fd_triggers,
		     h.fd_holdover, h.pause_s, h.pause_s / P, h.pause_ticks, h.cut_ticks,
		     h.cut_triggers, h.take_driven, h.take_end, h.state_driven, h.state_pause,
		     h.state_end);
		diag("hand-over, attempt %d: the writer's longest gap %.1f ms in the first run, "
		     "%.1f ms in the second, the test's longest stall in the pause %.1f ms; ticks no "
		     "TRIGGER made while the writer drove: %ld (%ld unexplained) in the first run, "
		     "%ld (%ld unexplained) in the second; TRIGGERs without their tick at once: %ld"
		     "%s%s%s%s", a, h.run1.longest * 1e3, h.run2.longest * 1e3, h.pause_stall * 1e3,
		     h.run1.ticks, h.run1.unexplained, h.run2.ticks, h.run2.unexplained,
		     h.run1.untimely + h.run2.untimely, h.run1.first[0] ? "; " : "", h.run1.first,
		     h.run2.first[0] ? "; " : "", h.run2.first);
		/* Whatever the timing. */
		EXPECT_EQ(h.reader_total, h.fd_triggers + h.fd_holdover);
		EXPECT_EQ(100, h.fd_triggers);
		EXPECT_STREQ("holdover", h.state_pause);
		EXPECT_EQ(0, h.run1.unexplained) TH_LOG("first run: %s", h.run1.first);
		EXPECT_EQ(0, h.run2.unexplained) TH_LOG("second run: %s", h.run2.first);
		EXPECT_EQ(h.cut_triggers, h.cut_ticks - h.run2.ticks);
		EXPECT_EQ(0, h.run1.untimely + h.run2.untimely);
		if (h.pause_stall <= STALL * P)
			break;
		diag("the test was stalled %.1f ms in the pause: again", h.pause_stall * 1e3);
	}
	if (h.pause_stall > STALL * P)
		diag("the test was stalled in the pause in each of %d attempts: the last count may "
		     "be short by %.1f periods", ATTEMPTS, h.pause_excess / P);
	else
		h.pause_excess = 0;
	/* TAKE while driven: 0, unless the writer was stalled 2 periods just before. */
	if (h.take_gap < 2 * P)
		EXPECT_EQ(0, h.take_driven);
	if (h.end_gap < 2 * P)
		EXPECT_EQ(0, h.take_end);
	EXPECT_STREQ("driven", h.state_driven);
	EXPECT_STREQ("driven", h.state_end);
	/* The pause's holdover ticks, about one per period of it. */
	EXPECT_GE(h.pause_s / P + 2.0, h.pause_ticks)
		TH_LOG("%ld holdover ticks in %.1f periods", h.pause_ticks, h.pause_s / P);
	EXPECT_LE(h.pause_s / P - 2.0 - h.pause_excess / P, h.pause_ticks)
		TH_LOG("%ld holdover ticks in %.1f periods (stalled %.1f of them)", h.pause_ticks,
		       h.pause_s / P, h.pause_excess / P);
	close(ctl);
}

/*
 * TAKE: 1 in holdover, 0 otherwise; holdover stops when it returns (no tick after it but the
 * TRIGGERs that follow at the period's pace), and the state in fdinfo says so.
 */
TEST_F(persist_holdover, take_stops_holdover_synchronously)
{
	static struct evlog log;
	double tb[20], ta[20], base, t_last = 0, t_take0, t_end, gap0, gap2;
	int ctl = open_ctl(), w, rd, i, r0, r1, r2;
	char st_hold[32], st_after[32];
	struct utimer_create c;
	struct strays st;
	long hold_ticks, after;

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create_persist(ctl, RES_10MS, UTIMER_CREATE_HOLDOVER, 0, 2, &c));
	w = attach(ctl, c.id);
	ASSERT_LE(0, w);
	rd = tread_open(c.id);
	ASSERT_LE(0, rd);
	log.seg = -1;
	base = tnow();
	for (i = 0; i < 10; i++) {
		wait_until(rd, &log, base + i * P);
		t_last = tnow();
		ASSERT_EQ(0, ioctl(w, UTIMER_IOCTL_TRIGGER));
	}
	gap0 = tnow() - t_last;
	r0 = take(w);
	/* 300 ms without a TRIGGER: holdover. */
	wait_until(rd, &log, tnow() + 0.3);
	fdinfo_str(w, "utimer-state", st_hold, sizeof(st_hold));
	hold_ticks = log.ticks - 10;
	t_take0 = tnow();
	r1 = take(w);
	fdinfo_str(w, "utimer-state", st_after, sizeof(st_after));
	r2 = take(w);
	gap2 = tnow() - t_take0;
	/* The ticks queued before TAKE returned, read now; then 20 TRIGGERs at the pace. */
	drain(rd, &log);
	log.seg = GAP(0);
	base = tnow();
	for (i = 0; i < 20; i++) {
		wait_until(rd, &log, base + i * P);
		tb[i] = tnow();
		ASSERT_EQ(0, ioctl(w, UTIMER_IOCTL_TRIGGER));
		ta[i] = tnow();
		log.seg = TRIG(i);
		drain(rd, &log);
		log.seg = GAP(i + 1);
	}
	ASSERT_EQ(0, ioctl(rd, SNDRV_TIMER_IOCTL_STOP));
	t_end = tnow();
	drain(rd, &log);
	after = ticks_from_seg(&log, GAP(0));
	/* TAKE counts as a TRIGGER there: the writer took the clock. */
	count_strays(&log, tb, ta, 0, 20, t_take0, t_end, 2, &st);
	diag("TAKE: %d driven, %d in holdover (state %s, %ld holdover ticks), %d just after "
	     "(state %s); %ld ticks after it for 20 TRIGGERs, %ld of holdover (%ld unexplained, "
	     "the writer's longest gap %.1f ms), %ld TRIGGERs without their tick at once%s%s", r0,
	     r1, st_hold, hold_ticks, r2, st_after, after, st.ticks, st.unexplained,
	     st.longest * 1e3, st.untimely, st.first[0] ? ": " : "", st.first);
	EXPECT_EQ(log.ticks, fdinfo_num(w, "utimer-triggers") +
			     fdinfo_num(w, "utimer-holdover-ticks"));
	/* Just after TRIGGERs, or after another TAKE: 0, unless stalled 2 periods meanwhile. */
	if (gap0 < 2 * P)
		EXPECT_EQ(0, r0);
	if (gap2 < 2 * P)
		EXPECT_EQ(0, r2);
	EXPECT_STREQ("holdover", st_hold);
	EXPECT_LT(10, hold_ticks) TH_LOG("300 ms of holdover");
	EXPECT_EQ(1, r1);
	EXPECT_STREQ("driven", st_after);
	EXPECT_EQ(0, st.unexplained) TH_LOG("%s", st.first);
	EXPECT_EQ(0, st.untimely);
	EXPECT_EQ(20, after - st.ticks);
	close(rd);
	close(w);
	EXPECT_EQ(0, remove_timer(ctl, c.id));
	close(ctl);
}

/* Holdover 0: never a tick but the writer's, with a writer or without. */
TEST_F(persist_holdover, holdover_0_never_ticks)
{
	static struct evlog log;
	struct utimer_create c;
	int ctl = open_ctl(), w, rd, i;

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create_persist(ctl, RES_10MS, UTIMER_CREATE_HOLDOVER, 0, 0, &c));
	rd = tread_open(c.id);
	ASSERT_LE(0, rd);
	/* No writer yet: nothing. */
	wait_until(rd, &log, tnow() + 0.5);
	EXPECT_EQ(0, log.ticks) TH_LOG("without a writer");
	w = attach(ctl, c.id);
	ASSERT_LE(0, w);
	for (i = 0; i < 10; i++) {
		wait_until(rd, &log, tnow() + P);
		ASSERT_EQ(0, ioctl(w, UTIMER_IOCTL_TRIGGER));
	}
	/* A 1 s pause. */
	wait_until(rd, &log, tnow() + 1.0);
	EXPECT_EQ(10, log.ticks);
	EXPECT_EQ(0, take(w));
	EXPECT_EQ(10, fdinfo_num(w, "utimer-triggers"));
	EXPECT_EQ(0, fdinfo_num(w, "utimer-holdover-ticks"));
	close(w);
	/* Detached again: nothing. */
	wait_until(rd, &log, tnow() + 0.5);
	EXPECT_EQ(10, log.ticks) TH_LOG("after the writer's close");
	close(rd);
	EXPECT_EQ(0, remove_timer(ctl, c.id));
	close(ctl);
}

/*
 * Holdover keeps the timer's pace: a persistent 10 ms timer (the module's default holdover) that
 * no writer ever attached, a reader running; the ticks timestamped in the last 10 s of 11 are
 * 1000 within 1 %.  The ratio is printed.
 */
TEST_F_TIMEOUT(persist_holdover, holdover_keeps_the_period_without_a_writer, 60)
{
	static struct evlog log;
	struct utimer_create c;
	int ctl = open_ctl(), rd;
	double end, ratio;
	long ticks;

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create_persist(ctl, RES_10MS, 0, 0, 0, &c));
	rd = tread_open(c.id);
	ASSERT_LE(0, rd);
	wait_until(rd, &log, tnow() + 11.0);
	ASSERT_EQ(0, ioctl(rd, SNDRV_TIMER_IOCTL_STOP));
	drain(rd, &log);
	ASSERT_LT(0, log.n) TH_LOG("no tick in 11 s");
	end = log.e[log.n - 1].t;
	ticks = ticks_between(&log, end - 10.0, end);
	ratio = ticks / (10.0 / P);
	diag("holdover pace: %ld ticks in the last 10 s (1000 expected): ratio %.4f; %ld ticks, "
	     "%d events in all", ticks, ratio, log.ticks, log.n);
	EXPECT_GE(0.01, fabs(ratio - 1.0)) TH_LOG("ratio %.4f", ratio);
	close(rd);
	EXPECT_EQ(0, remove_timer(ctl, c.id));
	close(ctl);
}

/* ------------------------------------------------------------------ load time: timers= */

/* The tests that reload the module (as module_test's reload fixture). */
FIXTURE(persist_load) {};

FIXTURE_SETUP(persist_load)
{
	RELOAD_FIXTURE_SETUP();
}

FIXTURE_TEARDOWN_PARENT(persist_load)
{
	RESTORE_MODULE();
}

/*
 * timers= makes persistent timers at load: ids and resolutions as given (RATE/FRAMES through
 * utimer_resolution()), a writer attaches, the holdover of each entry (":0": none) or the
 * default; plain CREATE passes over them.
 */
TEST_F_TIMEOUT(persist_load, timers_parameter_makes_persistent_timers, 60)
{
	static struct evlog l0, l1;
	struct utimer_uinfo u;
	int ctl, w, r0, r1;

	RELOAD("timers=0:48000/480,1:44100/441:0,2:5000000");
	/* Both of the first two are 10 ms. */
	EXPECT_EQ(2, proc_timers_count(RES_10MS));
	EXPECT_EQ(1, proc_timers_count(5000000));
	EXPECT_EQ(utimer_resolution(48000, 480), timer_info_resolution(0));
	EXPECT_EQ(utimer_resolution(44100, 441), timer_info_resolution(1));
	EXPECT_EQ(5000000ul, timer_info_resolution(2));
	EXPECT_EQ(0ul, timer_info_resolution(3));
	ctl = open_ctl();
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	EXPECT_EQ(3u, u.id);
	close(u.fd);
	w = attach(ctl, 2);
	ASSERT_LE(0, w) TH_LOG("ATTACH 2: %s", strerror(-w));
	EXPECT_EQ(1, fdinfo_num(w, "utimer-persistent"));
	EXPECT_EQ(5000000, fdinfo_num(w, "utimer-resolution"));
	close(w);
	/* Holdover: the default (2) on timer 0, none on timer 1. */
	r0 = tread_open(0);
	r1 = tread_open(1);
	ASSERT_LE(0, r0);
	ASSERT_LE(0, r1);
	wait_until(r1, &l1, tnow() + 0.5);
	drain(r0, &l0);
	EXPECT_LT(10, l0.ticks) TH_LOG("timer 0, default holdover, 0.5 s");
	EXPECT_EQ(0, l1.ticks) TH_LOG("timer 1, holdover 0, 0.5 s");
	close(r0);
	close(r1);
	EXPECT_EQ(0, remove_timer(ctl, 2));
	EXPECT_EQ(0ul, timer_info_resolution(2));
	EXPECT_EQ(0, proc_timers_count(5000000));
	close(ctl);
}

/* holdover= is the default holdover: of timers= entries without their own, and of CREATE_EXT. */
TEST_F_TIMEOUT(persist_load, holdover_parameter_is_the_default, 60)
{
	static struct evlog l0, l1, l2;
	struct utimer_create c;
	int ctl, r0, r1, r2;

	RELOAD("holdover=0 timers=0:10000000,1:10000000:2");
	ctl = open_ctl();
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create_persist(ctl, RES_10MS, 0, 0, 0, &c));
	EXPECT_EQ(2u, c.id);
	r0 = tread_open(0);
	r1 = tread_open(1);
	r2 = tread_open(2);
	ASSERT_LE(0, r0);
	ASSERT_LE(0, r1);
	ASSERT_LE(0, r2);
	wait_until(r1, &l1, tnow() + 0.5);
	drain(r0, &l0);
	drain(r2, &l2);
	EXPECT_EQ(0, l0.ticks) TH_LOG("timers= entry without a holdover, holdover=0");
	EXPECT_LT(10, l1.ticks) TH_LOG("timers= entry with holdover 2");
	EXPECT_EQ(0, l2.ticks) TH_LOG("CREATE_EXT without HOLDOVER, holdover=0");
	close(r0);
	close(r1);
	close(r2);
	close(ctl);
}

/* A bad timers= entry: the module does not load, and its log names the entry. */
TEST_F_TIMEOUT(persist_load, bad_timers_entries_are_refused_at_load, 60)
{
	static const struct { const char *params, *entry; } bad[] = {
		{ "timers=0:abc", "0:abc" },
		{ "timers=0:48000/", "0:48000/" },
		{ "timers=x:1000000", "x:1000000" },
		{ "timers=0:1000000,0:2000000", "0:2000000" },
		{ "timers=128:1000000", "128:1000000" },
		{ "max_timers=4 timers=0:1000000,4:1000000", "4:1000000" },
		{ "timers=0:99999", "0:99999" },
		{ "timers=0:4294967296", "0:4294967296" },
		{ "timers=1:48000/1", "1:48000/1" },
	};
	const char *ko = getenv("UTIMER_KO");
	unsigned int i;
	int before;

	ASSERT_EQ(0, module_unload()) TH_LOG("rmmod: is a timer still open?");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		before = klog_lines("rust_utimer: timers=", bad[i].entry);
		EXPECT_EQ(-EINVAL, module_load(ko, bad[i].params))
			TH_LOG("insmod %s", bad[i].params);
		EXPECT_EQ(-1, access(utimer_dev(), F_OK)) TH_LOG("%s: loaded", bad[i].params);
		EXPECT_LT(before, klog_lines("rust_utimer: timers=", bad[i].entry))
			TH_LOG("%s: no line with \"rust_utimer: timers=\" and \"%s\" in the log",
			       bad[i].params, bad[i].entry);
		module_unload();
	}
	ASSERT_EQ(0, module_load(ko, ""));
}

HARNESS_MAIN_WITH_LIST
