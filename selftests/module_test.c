// SPDX-License-Identifier: GPL-2.0
/*
 * The module: its parameters and reload, unload refused while in use, consumers pinning it,
 * the per-user quota and a hostile user, the device node's permissions, the debugfs listing
 * and fdinfo.  Checked from userspace in the guest, as root.
 *
 * Environment: UTIMER_DEV as described in utimer_helpers.h; UTIMER_KO, the module's path, for
 * the tests of the `reload` fixture, which reload it (skipped without it, and on upstream's
 * built-in utimers).  Their teardown loads it again with its defaults, whatever the test did.
 *   module_test [harness options]	module_test --list	(every test's name for -r)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sound/asound.h>

#include "utimer_helpers.h"
#include "kselftest_harness.h"

/* The tests that reload the module (utimer_helpers.h: RELOAD_FIXTURE_SETUP). */
FIXTURE(reload) {};

FIXTURE_SETUP(reload)
{
	RELOAD_FIXTURE_SETUP();
}

FIXTURE_TEARDOWN_PARENT(reload)
{
	RESTORE_MODULE();
}

TEST_F(reload, unload_refused_while_a_timer_fd_is_open)
{
	const char *ko = getenv("UTIMER_KO");
	struct utimer_uinfo u;
	int ctl, err;

	ctl = open_ctl();
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	close(ctl);
	/* Only the timer fd pins the module now. */
	err = module_unload();
	EXPECT_TRUE(err == -EWOULDBLOCK || err == -EBUSY) TH_LOG("delete_module: %s", strerror(-err));
	EXPECT_EQ(0, ioctl(u.fd, UTIMER_IOCTL_TRIGGER));
	close(u.fd);
	EXPECT_EQ(0, module_unload());
	EXPECT_EQ(-1, access(utimer_dev(), F_OK));
	ASSERT_EQ(0, module_load(ko, ""));
	ASSERT_EQ(0, access(utimer_dev(), F_OK)) TH_LOG("%s is back", utimer_dev());
}

/*
 * An open /dev/utimer pins the module too: the misc device's file_operations name it as their
 * owner (the kernel crate's on 7.3, misc.rs's own before).  Without it, rmmod would succeed and
 * the next ioctl or close would run freed code.
 */
TEST_F(reload, unload_refused_while_the_control_fd_is_open)
{
	const char *ko = getenv("UTIMER_KO");
	struct utimer_uinfo u;
	int ctl, err;

	ctl = open_ctl();
	ASSERT_LE(0, ctl);
	err = module_unload();
	ASSERT_TRUE(err == -EWOULDBLOCK || err == -EBUSY) TH_LOG("delete_module: %s", strerror(-err));
	ASSERT_EQ(0, create(ctl, RES_10MS, &u)) TH_LOG("the module still serves the open file");
	close(u.fd);
	close(ctl);
	EXPECT_EQ(0, module_unload());
	ASSERT_EQ(0, module_load(ko, ""));
}

/*
 * A consumer that has one of our timers open (a /dev/snd/timer instance here, an aloop cable in
 * aloop_test) holds a reference on the module: the ALSA core pins timer->module.  So even once
 * the timer fd is closed the module stays until the consumer lets go.
 */
TEST(consumer_of_a_timer_pins_the_module)
{
	struct utimer_uinfo u;
	int ctl, rd, base;

	if (upstream())
		SKIP(return, "upstream's utimers are built into the kernel");
	ctl = open_ctl();
	ASSERT_LE(0, ctl);
	base = module_refcnt();
	ASSERT_LE(0, base);
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	EXPECT_EQ(base + 1, module_refcnt()) TH_LOG("the timer fd");
	rd = reader_open(u.id, NULL);
	ASSERT_LE(0, rd);
	EXPECT_EQ(base + 2, module_refcnt()) TH_LOG("the timer fd and one instance");
	close(u.fd);
	EXPECT_EQ(base, module_refcnt()) TH_LOG("the timer is gone: its instance let go");
	close(rd);
	EXPECT_EQ(base, module_refcnt());
	close(ctl);
}

TEST_F(reload, bad_module_parameters_are_refused_at_load)
{
	static const struct { const char *params, *msg; } bad[] = {
		{ "max_timers=0", "max_timers=0 is out of range" },
		{ "max_timers=4097", "max_timers=4097 is out of range" },
		{ "max_timers=-1", NULL },
		{ "max_timers=lots", NULL },
		{ "max_user_timers=0", "max_user_timers=0 is out of range" },
	};
	const char *ko = getenv("UTIMER_KO");
	unsigned int i;

	ASSERT_EQ(0, module_unload()) TH_LOG("rmmod: is a timer still open?");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, module_load(ko, bad[i].params))
			TH_LOG("insmod %s", bad[i].params);
		EXPECT_EQ(-1, access(utimer_dev(), F_OK));
		if (bad[i].msg)
			EXPECT_TRUE(klog_count(bad[i].msg) > 0) TH_LOG("no \"%s\" in the log", bad[i].msg);
	}
	ASSERT_EQ(0, module_load(ko, ""));
}

TEST_F(reload, capacity_follows_max_timers_up_to_4096)
{
	static struct utimer_uinfo u[4097];
	struct rlimit nofile = { 8192, 8192 };
	struct timespec t0, t1, t2;
	int ctl, i, n;

	RELOAD("max_timers=4096 max_user_timers=4096");
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &nofile));
	ctl = open_ctl();
	ASSERT_LE(0, ctl);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 4096; i++) {
		ASSERT_EQ(0, create(ctl, RES_10MS, &u[i])) TH_LOG("timer %d", i);
		ASSERT_EQ((unsigned int)i, u[i].id);
		if (i == 0)
			clock_gettime(CLOCK_MONOTONIC, &t1);
	}
	clock_gettime(CLOCK_MONOTONIC, &t2);
	TH_LOG("4096 CREATEs in %.1f ms",
	       (t2.tv_sec - t0.tv_sec) * 1e3 + (t2.tv_nsec - t0.tv_nsec) / 1e6);
	EXPECT_EQ(-ENOSPC, create(ctl, RES_10MS, &u[4096]));
	/* Lowest free first, across words of the id map. */
	close(u[4000].fd);
	close(u[17].fd);
	close(u[64].fd);
	for (n = 0; n < 3; n++) {
		static const unsigned int want[] = { 17, 64, 4000 };
		struct utimer_uinfo v;

		ASSERT_EQ(0, create(ctl, RES_10MS, &v));
		EXPECT_EQ(want[n], v.id);
		u[want[n]] = v;
	}
	EXPECT_EQ(-ENOSPC, create(ctl, RES_10MS, &u[4096]));
	/* The last id still ticks. */
	i = reader_open(4095, NULL);
	ASSERT_LE(0, i);
	ASSERT_EQ(0, ioctl(u[4095].fd, UTIMER_IOCTL_TRIGGER));
	EXPECT_EQ(1, reader_ticks(i, 1000, NULL));
	close(i);
	for (i = 0; i < 4096; i++)
		close(u[i].fd);
	close(ctl);

	/* A smaller capacity. */
	RELOAD("max_timers=3");
	ctl = open_ctl();
	ASSERT_LE(0, ctl);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, create(ctl, RES_10MS, &u[i]));
	EXPECT_EQ(-ENOSPC, create(ctl, RES_10MS, &u[3]));
	for (i = 0; i < 3; i++)
		close(u[i].fd);
	close(ctl);
}

/* Become `uid` (real and effective) keeping saved uid 0, so that root can be had back. */
static int become(uid_t uid)
{
	if (setresuid(-1, 0, -1))
		return -1;
	return setresuid(uid, uid, 0);
}

/*
 * Per-user quota (ours): max_user_timers (default 32) timers per real uid, EDQUOT beyond; the
 * ids stay free for the others.  CAP_SYS_RESOURCE (root here) is not limited.
 * Upstream has no quota: one user can take all 128 ids.
 */
TEST(per_user_quota_stops_one_user_not_the_others)
{
	struct utimer_uinfo a[33], b, r[33];
	int ctl = open_ctl(), i, fds, quota = 32;

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, become(1000));
	for (i = 0; i < quota; i++)
		ASSERT_EQ(0, create(ctl, RES_10MS, &a[i])) TH_LOG("uid 1000, timer %d", i);
	fds = count_fds();
	if (upstream()) {
		TH_LOG("upstream, as documented: no per-user limit");
		ASSERT_EQ(0, create(ctl, RES_10MS, &a[quota]));
		close(a[quota].fd);
	} else {
		EXPECT_EQ(-EDQUOT, create(ctl, RES_10MS, &a[quota]));
		EXPECT_EQ(fds, count_fds());
	}
	/* Another user still gets the next id. */
	ASSERT_EQ(0, become(1001));
	ASSERT_EQ(0, create(ctl, RES_10MS, &b)) TH_LOG("uid 1001 beside uid 1000's %d", quota);
	EXPECT_EQ((unsigned int)quota, b.id);
	/* Closing one gives uid 1000 its place back. */
	ASSERT_EQ(0, become(1000));
	close(a[5].fd);
	ASSERT_EQ(0, create(ctl, RES_10MS, &a[5]));
	EXPECT_EQ(5u, a[5].id);
	if (!upstream())
		EXPECT_EQ(-EDQUOT, create(ctl, RES_10MS, &a[quota]));
	/* Root, with CAP_SYS_RESOURCE, is not limited: it holds quota + 1 at once. */
	ASSERT_EQ(0, setresuid(0, 0, 0));
	for (i = 0; i < quota + 1; i++)
		ASSERT_EQ(0, create(ctl, RES_10MS, &r[i])) TH_LOG("root, timer %d", i);
	for (i = 0; i < quota + 1; i++)
		close(r[i].fd);
	for (i = 0; i < quota; i++)
		close(a[i].fd);
	close(b.fd);
	close(ctl);
}

TEST_F(reload, per_user_quota_follows_max_user_timers)
{
	struct utimer_uinfo a[3];
	int ctl, i;

	RELOAD("max_user_timers=2");
	ctl = open_ctl();
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, become(1000));
	ASSERT_EQ(0, create(ctl, RES_10MS, &a[0]));
	ASSERT_EQ(0, create(ctl, RES_10MS, &a[1]));
	EXPECT_EQ(-EDQUOT, create(ctl, RES_10MS, &a[2]));
	ASSERT_EQ(0, setresuid(0, 0, 0));
	for (i = 0; i < 2; i++)
		close(a[i].fd);
	close(ctl);
}

/*
 * Exhaustion (ours): a hostile user creating timers in a loop gets EDQUOT at its quota and keeps
 * getting it, while another user creates and closes timers the whole time.  Upstream has no
 * quota: the loop takes every id, then both users get ENOSPC.
 */
TEST(hostile_user_hits_its_quota_while_another_user_creates)
{
	int ctl = open_ctl(), ready[2], stop[2], status, i, want = upstream() ? -ENOSPC : -EDQUOT;
	struct utimer_uinfo u;
	pid_t hostile;
	char c;

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(stop));
	hostile = fork();
	ASSERT_LE(0, hostile);
	if (hostile == 0) {
		int held = 0, err, wrong = 0, tries = 0;

		close(ready[0]);
		close(stop[1]);
		if (become(1000))
			_exit(2);
		while (!(err = create(ctl, RES_10MS, &u)) && held <= 128)
			held++;
		if (write(ready[1], "x", 1) != 1)
			_exit(2);
		/* Keep the timers and hammer until the parent closes the pipe. */
		fcntl(stop[0], F_SETFL, O_NONBLOCK);
		for (; read(stop[0], &c, 1) < 0 && tries < 1000000; tries++) {
			int e = create(ctl, RES_10MS, &u);

			if (e != want)
				wrong++;
			if (!e)
				close(u.fd);
		}
		if (held != (upstream() ? 128 : 32) || err != want || wrong) {
			fprintf(stderr, "hostile uid 1000: held %d, then %s; %d of %d more tries "
				"not %s\n", held, strerror(-err), wrong, tries, strerror(-want));
			_exit(1);
		}
		_exit(0);
	}
	close(ready[1]);
	close(stop[0]);
	ASSERT_EQ(1, read(ready[0], &c, 1));
	/* While it hammers, uid 1001 creates and closes. */
	ASSERT_EQ(0, become(1001));
	for (i = 0; i < 20; i++) {
		int e = create(ctl, RES_10MS, &u);

		EXPECT_EQ(upstream() ? -ENOSPC : 0, e) TH_LOG("uid 1001, timer %d", i);
		if (!e)
			close(u.fd);
	}
	ASSERT_EQ(0, setresuid(0, 0, 0));
	close(stop[1]);
	ASSERT_EQ(hostile, waitpid(hostile, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(ready[0]);
	close(ctl);
}

/* The gid of group `name` in /etc/group, or -1. */
static long group_gid(const char *name)
{
	FILE *f = fopen("/etc/group", "r");
	size_t len = strlen(name);
	char line[512], *p;
	long gid = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':' && (p = strchr(line + len + 1, ':'))) {
			gid = strtol(p + 1, NULL, 10);
			break;
		}
	if (f)
		fclose(f);
	return gid;
}

/* As uid and gid 1000 with `groups`, in a child: open dev and CREATE.  0, or the errno. */
static int create_as_user(const char *dev, const gid_t *groups, int ngroups)
{
	struct utimer_uinfo u;
	pid_t pid = fork();
	int st, fd;

	if (pid == 0) {
		if (setgroups(ngroups, groups) || setresgid(1000, 1000, 1000) ||
		    setresuid(1000, 1000, 1000))
			_exit(255);
		fd = open(dev, O_RDWR);
		if (fd < 0)
			_exit(errno);
		_exit(-create(fd, RES_10MS, &u));
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/*
 * Permissions (ours): /dev/utimer is root's alone (0600) until udev/60-rust-utimer.rules gives
 * it to the audio group (0660), as ALSA's own nodes.  A user outside the group gets EACCES either
 * way; a member creates timers once the rule applied.  run.sh applies the rule where udevd runs
 * and says so with UTIMER_UDEV_RULE=1.
 */
TEST(device_node_is_for_root_or_the_audio_group)
{
	int rule = getenv("UTIMER_UDEV_RULE") != NULL;
	long audio = group_gid("audio");
	struct stat st;
	gid_t g;

	if (upstream())
		SKIP(return, "/dev/snd/timer's permissions are the distribution's udev rules");
	ASSERT_LT(0, audio);
	g = (gid_t)audio;
	/*
	 * A reload by an earlier test makes a new node: let udev apply the rule to it.  `udevadm
	 * settle` is not enough (udevd's queue is empty until it has read the uevent) and may fail
	 * while udevd is busy: poll the node instead, up to 20 s, inside the harness's 30 s.
	 */
	ASSERT_EQ(0, stat(utimer_dev(), &st));
	for (int i = 0; rule && i < 200 && (st.st_mode & 0777) != 0660; i++) {
		usleep(100000);
		ASSERT_EQ(0, stat(utimer_dev(), &st));
	}
	EXPECT_EQ(rule ? g : 0, st.st_gid);
	EXPECT_EQ(rule ? 0660 : 0600, (int)(st.st_mode & 0777));
	EXPECT_EQ(EACCES, create_as_user(utimer_dev(), NULL, 0));
	EXPECT_EQ(rule ? 0 : EACCES, create_as_user(utimer_dev(), &g, 1));
}

/* The debugfs listing's line for timer `id`, or "" if it has none. */
static int listing_line(unsigned int id, char *line, size_t size)
{
	char want[16];
	FILE *f = fopen(LISTING, "r");

	line[0] = 0;
	if (!f)
		return -1;
	snprintf(want, sizeof(want), "%u ", id);
	while (fgets(line, size, f))
		if (!strncmp(line, want, strlen(want))) {
			fclose(f);
			return 0;
		}
	fclose(f);
	line[0] = 0;
	return 0;
}

/* Observability (ours): a debugfs file lists every live timer.  Upstream has no such file. */
TEST(debugfs_lists_every_live_timer)
{
	char line[256], head[256], comm[64], state[16];
	unsigned int id, uid, inst, persistent;
	unsigned long long res, trig, age, held;
	int writer;
	struct utimer_uinfo a, b;
	int ctl, rd, pid, i;
	FILE *f;

	if (upstream())
		SKIP(return, "upstream has no listing");
	if (access(LISTING, R_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	ctl = open_ctl();
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, RES_10MS, &a));
	ASSERT_EQ(0, create(ctl, 12345678, &b));
	rd = reader_open(b.id, NULL);
	ASSERT_LE(0, rd);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, ioctl(b.fd, UTIMER_IOCTL_TRIGGER));
	f = fopen(LISTING, "r");
	ASSERT_TRUE(f != NULL) TH_LOG("%s: %s", LISTING, strerror(errno));
	ASSERT_TRUE(fgets(head, sizeof(head), f) != NULL);
	fclose(f);
	EXPECT_TRUE(strstr(head, "max_timers 128 max_user_timers 32 live 2") != NULL) TH_LOG("%s", head);
	ASSERT_EQ(0, listing_line(b.id, line, sizeof(line)));
	ASSERT_EQ(12, sscanf(line, "%u %u %d %llu %llu %u %llu %u %d %15s %llu %63[^\n]", &id,
			     &uid, &pid, &res, &trig, &inst, &age, &persistent, &writer, state,
			     &held, comm)) TH_LOG("line: %s", line);
	EXPECT_EQ(b.id, id);
	/* An owned timer: not persistent, its creator is its writer, driven, no holdover. */
	EXPECT_EQ(0u, persistent);
	EXPECT_EQ(getpid(), writer);
	EXPECT_STREQ("driven", state);
	EXPECT_EQ(0ULL, held);
	EXPECT_EQ(getuid(), uid);
	EXPECT_EQ(getpid(), pid);
	EXPECT_EQ(12345678ULL, res);
	EXPECT_EQ(3ULL, trig);
	EXPECT_EQ(1u, inst);
	EXPECT_GT(60000ULL, age);
	EXPECT_EQ(0, strncmp(program_invocation_short_name, comm, 15)) TH_LOG("comm %s", comm);
	ASSERT_EQ(0, listing_line(a.id, line, sizeof(line)));
	ASSERT_EQ(12, sscanf(line, "%u %u %d %llu %llu %u %llu %u %d %15s %llu %63[^\n]", &id,
			     &uid, &pid, &res, &trig, &inst, &age, &persistent, &writer, state,
			     &held, comm)) TH_LOG("line: %s", line);
	EXPECT_EQ(0ULL, trig);
	EXPECT_EQ(0u, inst);
	close(rd);
	close(b.fd);
	ASSERT_EQ(0, listing_line(b.id, line, sizeof(line)));
	EXPECT_STREQ("", line);
	close(a.fd);
	close(ctl);
}

/* fdinfo of a timer fd (ours): its id, resolution, triggers and instances. */
TEST(fdinfo_shows_id_resolution_and_triggers)
{
	char path[64], line[128];
	struct utimer_uinfo a, b;
	unsigned long long v;
	int ctl, i, seen = 0;
	FILE *f;

	if (upstream())
		SKIP(return, "upstream's timer fds have no fdinfo of their own");
	ctl = open_ctl();
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, RES_10MS, &a));
	ASSERT_EQ(0, create(ctl, 2666666, &b));
	for (i = 0; i < 7; i++)
		ASSERT_EQ(0, ioctl(b.fd, UTIMER_IOCTL_TRIGGER));
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", b.fd);
	f = fopen(path, "r");
	ASSERT_TRUE(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "utimer-id: %llu", &v) == 1) {
			EXPECT_EQ(b.id, v);
			seen |= 1;
		} else if (sscanf(line, "utimer-resolution: %llu", &v) == 1) {
			EXPECT_EQ(2666666ULL, v);
			seen |= 2;
		} else if (sscanf(line, "utimer-triggers: %llu", &v) == 1) {
			EXPECT_EQ(7ULL, v);
			seen |= 4;
		} else if (sscanf(line, "utimer-instances: %llu", &v) == 1) {
			EXPECT_EQ(0ULL, v);
			seen |= 8;
		}
	}
	fclose(f);
	EXPECT_EQ(15, seen);
	close(a.fd);
	close(b.fd);
	close(ctl);
}

HARNESS_MAIN_WITH_LIST
