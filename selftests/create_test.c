// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/utimer's ABI and errnos, checked from userspace in the guest: CREATE and what it refuses,
 * the timer fd (close-on-exec, its name, unknown ioctls, fork), ids and capacity, the listing
 * in /proc/asound/timers, and rust_utimer beside upstream's utimers.
 *
 * Environment: UTIMER_DEV as described in utimer_helpers.h; where upstream's implementation
 * differs on purpose, each side's documented behaviour is checked.
 *   create_test [harness options]	create_test --list	(every test's name for -r)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sound/asound.h>

#include "utimer_helpers.h"
#include "kselftest_harness.h"

/* How many lines of /proc/asound/timers show a global timer 4 with this resolution. */
static int proc_timers_count(__u64 resolution)
{
	char want[64], line[256];
	FILE *f = fopen("/proc/asound/timers", "r");
	int n = 0;

	if (!f)
		return -1;
	snprintf(want, sizeof(want), " %llu.%03lluus (1 ticks)",
		 (unsigned long long)resolution / 1000, (unsigned long long)resolution % 1000);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "G4:", 3) && strstr(line, want))
			n++;
	fclose(f);
	return n;
}

/* The resolution /dev/snd/timer's INFO reports for (GLOBAL, 4, id); 0 on error. */
static unsigned long timer_info_resolution(unsigned int id)
{
	struct snd_timer_info info = { 0 };
	int fd = timer_select(id, O_RDONLY, &info);

	if (fd < 0)
		return 0;
	close(fd);
	return info.resolution;
}

/* The fd's file, as /proc/self/fd shows it; "" on error. */
static void fd_link(int fd, char *buf, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, buf, size - 1);
	buf[n > 0 ? n : 0] = 0;
}

TEST(create_returns_lowest_id_and_cloexec_fd)
{
	struct utimer_uinfo u;
	int ctl = open_ctl();
	char link[64];

	ASSERT_LE(0, ctl) TH_LOG("open %s: %s", utimer_dev(), strerror(errno));
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	EXPECT_EQ(0u, u.id);
	ASSERT_LE(0, u.fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(u.fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(u.fd, F_GETFL) & O_ACCMODE);
	/* Upstream names the file after the timer: snd-utimer<id>. */
	fd_link(u.fd, link, sizeof(link));
	EXPECT_STREQ("anon_inode:snd-utimer0", link);
	EXPECT_EQ(0, ioctl(u.fd, UTIMER_IOCTL_TRIGGER));
	EXPECT_EQ(0, close(u.fd));
	close(ctl);
}

/* A refused CREATE: -1 and EINVAL, and the fields it would have written still -77 and 777. */
static void expect_refused_untouched(struct __test_metadata *_metadata, int ctl,
				     struct utimer_uinfo *u, const char *what)
{
	EXPECT_EQ(-1, ioctl(ctl, UTIMER_IOCTL_CREATE, u)) TH_LOG("%s", what);
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-77, u->fd);
	EXPECT_EQ(777u, u->id);
}

/* Nothing was taken: the next timer still gets id 0 (and is closed again). */
static void expect_next_id_is_0(struct __test_metadata *_metadata, int ctl)
{
	struct utimer_uinfo u;

	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	EXPECT_EQ(0u, u.id);
	close(u.fd);
}

TEST(create_rejects_zero_resolution)
{
	struct utimer_uinfo u = { .resolution = 0, .fd = -77, .id = 777 };
	int ctl = open_ctl(), fds;

	ASSERT_LE(0, ctl);
	fds = count_fds();
	expect_refused_untouched(_metadata, ctl, &u, "resolution 0");
	EXPECT_EQ(fds, count_fds());
	expect_next_id_is_0(_metadata, ctl);
	close(ctl);
}

TEST(create_rejects_null_and_unmapped_pointers)
{
	void *unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int ctl = open_ctl(), fds;

	ASSERT_LE(0, ctl);
	ASSERT_TRUE(unmapped != MAP_FAILED);
	fds = count_fds();
	EXPECT_EQ(-1, ioctl(ctl, UTIMER_IOCTL_CREATE, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(ctl, UTIMER_IOCTL_CREATE, unmapped));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(fds, count_fds());
	expect_next_id_is_0(_metadata, ctl);
	close(ctl);
}

/*
 * A reply that cannot be written back: we leave nothing behind.  Upstream installs the fd
 * before the copy and documents that it "leaks" the fd and the timer until the process exits.
 */
TEST(create_with_readonly_argument_returns_efault)
{
	struct utimer_uinfo *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	__u64 res = 12345678;
	struct utimer_uinfo u;
	int ctl = open_ctl(), fds;

	ASSERT_LE(0, ctl);
	ASSERT_TRUE(ro != MAP_FAILED);
	ro->resolution = res;
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	fds = count_fds();
	EXPECT_EQ(-1, ioctl(ctl, UTIMER_IOCTL_CREATE, ro));
	EXPECT_EQ(EFAULT, errno);
	if (upstream()) {
		TH_LOG("upstream, as documented: the fd and timer 0 stay until exit");
		EXPECT_EQ(fds + 1, count_fds());
		EXPECT_EQ(1, proc_timers_count(res));
		ASSERT_EQ(0, create(ctl, RES_10MS, &u));
		EXPECT_EQ(1u, u.id);
	} else {
		EXPECT_EQ(fds, count_fds());
		EXPECT_EQ(0, proc_timers_count(res));
		ASSERT_EQ(0, create(ctl, RES_10MS, &u));
		EXPECT_EQ(0u, u.id);
	}
	close(u.fd);
	close(ctl);
}

TEST(unknown_ioctls_get_enotty)
{
	struct utimer_uinfo u, v;
	int ctl = open_ctl();

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	/* TRIGGER on the control fd, CREATE on a timer fd, and neighbours of both. */
	EXPECT_EQ(-1, ioctl(ctl, UTIMER_IOCTL_TRIGGER));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(ctl, _IO('T', 0xa7)));
	EXPECT_EQ(ENOTTY, errno);
	if (!upstream()) {
		/* /dev/snd/timer has START of its own. */
		EXPECT_EQ(-1, ioctl(ctl, SNDRV_TIMER_IOCTL_START));
		EXPECT_EQ(ENOTTY, errno);
	}
	v.resolution = RES_10MS;
	EXPECT_EQ(-1, ioctl(u.fd, UTIMER_IOCTL_CREATE, &v));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(u.fd, _IO('T', 0xa5)));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(u.fd, _IOWR('U', 0xa6, int), &v));
	EXPECT_EQ(ENOTTY, errno);
	close(u.fd);
	close(ctl);
}

TEST(timer_listed_in_proc_asound_timers_until_closed)
{
	__u64 res = 12345678;
	struct utimer_uinfo u;
	int ctl = open_ctl();

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, proc_timers_count(res));
	ASSERT_EQ(0, create(ctl, res, &u));
	EXPECT_EQ(1, proc_timers_count(res));
	close(u.fd);
	EXPECT_EQ(0, proc_timers_count(res));
	close(ctl);
}

TEST(close_frees_the_id_for_the_next_create)
{
	struct utimer_uinfo a, b, c;
	int ctl = open_ctl();

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, RES_10MS, &a));
	ASSERT_EQ(0, create(ctl, RES_10MS, &b));
	EXPECT_EQ(0u, a.id);
	EXPECT_EQ(1u, b.id);
	close(a.fd);
	ASSERT_EQ(0, create(ctl, RES_10MS, &c));
	EXPECT_EQ(0u, c.id);
	/* The old subdevice is gone with its fd; the new timer answers on it. */
	EXPECT_LE(0, reader_open(c.id, NULL));
	close(b.fd);
	close(c.fd);
	close(ctl);
}

TEST(capacity_is_128_then_enospc_and_reusable)
{
	struct utimer_uinfo u[129];
	int ctl = open_ctl(), i, round;

	ASSERT_LE(0, ctl);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 128; i++) {
			ASSERT_EQ(0, create(ctl, RES_10MS, &u[i])) TH_LOG("round %d, timer %d", round, i);
			ASSERT_EQ((unsigned int)i, u[i].id);
		}
		EXPECT_EQ(-ENOSPC, create(ctl, RES_10MS, &u[128]));
		for (i = 0; i < 128; i++)
			close(u[i].fd);
	}
	close(ctl);
}

TEST(fd_triggers_from_a_forked_child)
{
	struct utimer_uinfo u;
	int ctl = open_ctl(), rd, status;
	pid_t pid;

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	rd = reader_open(u.id, NULL);
	ASSERT_LE(0, rd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		for (int i = 0; i < 6; i++)
			if (ioctl(u.fd, UTIMER_IOCTL_TRIGGER))
				_exit(1);
		_exit(0);
	}
	/* The parent's close does not destroy the timer: the child still holds the file. */
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(6, reader_ticks(rd, 1000, NULL));
	close(rd);
	close(u.fd);
	close(ctl);
}

/*
 * With the kernel's own CONFIG_SND_UTIMER in the same kernel, both number their timers in the
 * same (GLOBAL, 4, subdevice) space: ours must skip the subdevices upstream holds.
 */
TEST(coexists_with_upstream_utimers)
{
	struct utimer_uinfo c, r;
	int snd, ctl, rc_, rr, i;

	if (upstream())
		SKIP(return, "checks rust_utimer beside upstream");
	snd = open("/dev/snd/timer", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, snd);
	if (create(snd, RES_10MS, &c) == -ENOTTY)
		SKIP(return, "this kernel has no CONFIG_SND_UTIMER");
	ASSERT_LE(0, c.fd);
	ctl = open_ctl();
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, RES_10MS, &r)) TH_LOG("ours after upstream's %u", c.id);
	EXPECT_NE(c.id, r.id);
	rc_ = reader_open(c.id, NULL);
	rr = reader_open(r.id, NULL);
	ASSERT_LE(0, rc_);
	ASSERT_LE(0, rr);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, ioctl(c.fd, UTIMER_IOCTL_TRIGGER));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, ioctl(r.fd, UTIMER_IOCTL_TRIGGER));
	EXPECT_EQ(3, reader_ticks(rc_, 1000, NULL));
	EXPECT_EQ(5, reader_ticks(rr, 1000, NULL));
	close(rc_);
	close(rr);
	close(c.fd);
	close(r.fd);
	close(ctl);
	close(snd);
}

/*
 * Strict validation (ours): reserved bytes must be zero, so that they can carry flags later.
 * Upstream ignores them.
 */
TEST(create_rejects_nonzero_reserved_bytes)
{
	struct utimer_uinfo u;
	int ctl = open_ctl(), fds, i;
	char what[32];

	ASSERT_LE(0, ctl);
	fds = count_fds();
	for (i = 0; i < 16; i += 5) {
		memset(&u, 0, sizeof(u));
		u.resolution = RES_10MS;
		u.fd = -77;
		u.id = 777;
		u.reserved[i] = 0x80;
		if (upstream()) {
			TH_LOG("upstream, as documented: reserved[%d] is ignored", i);
			ASSERT_EQ(0, ioctl(ctl, UTIMER_IOCTL_CREATE, &u));
			close(u.fd);
			continue;
		}
		snprintf(what, sizeof(what), "reserved[%d]", i);
		expect_refused_untouched(_metadata, ctl, &u, what);
	}
	EXPECT_EQ(fds, count_fds());
	expect_next_id_is_0(_metadata, ctl);
	close(ctl);
}

/*
 * Strict validation (ours): the resolution must be one the ALSA core can run one tick per
 * TRIGGER at: at least 100 us (snd_timer_start refuses shorter ticks) and at most UINT32_MAX ns
 * (the 32-bit resolution fields of snd_timer_read and of aloop's PCM runtime).
 * Upstream accepts any non-zero value.
 */
TEST(create_rejects_resolution_out_of_range)
{
	static const __u64 bad[] = { 1, 99999, 0x100000000ULL, ~0ULL };
	static const __u64 good[] = { 100000, 166666, 0xffffffffULL };
	struct utimer_uinfo u;
	int ctl = open_ctl(), fds;
	unsigned int i;

	ASSERT_LE(0, ctl);
	fds = count_fds();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = create(ctl, bad[i], &u);

		if (upstream()) {
			EXPECT_EQ(0, ret) TH_LOG("upstream accepts %llu", (unsigned long long)bad[i]);
			if (!ret)
				close(u.fd);
		} else {
			EXPECT_EQ(-EINVAL, ret) TH_LOG("resolution %llu", (unsigned long long)bad[i]);
		}
	}
	EXPECT_EQ(fds, count_fds());
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ASSERT_EQ(0, create(ctl, good[i], &u)) TH_LOG("resolution %llu", (unsigned long long)good[i]);
		EXPECT_EQ(0u, u.id);
		EXPECT_EQ(good[i], timer_info_resolution(u.id));
		close(u.fd);
	}
	close(ctl);
}

HARNESS_MAIN_WITH_LIST
