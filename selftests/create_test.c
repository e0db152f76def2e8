// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/utimer's ABI and errnos, checked from userspace in the guest: CREATE as upstream's on
 * every input, the timer fd (close-on-exec, its name, unknown ioctls, lseek, fork), ids and
 * capacity, the listing in /proc/asound/timers, rust_utimer beside upstream's utimers, and our
 * own UTIMER_IOCTL_CREATE_EXT (skipped against upstream).
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
	struct utimer_create x = { .resolution = RES_10MS, .flags = UTIMER_CREATE_ID };
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
	/* Asked for by id, the subdevice upstream holds is busy. */
	x.id = c.id;
	EXPECT_EQ(-1, ioctl(ctl, UTIMER_IOCTL_CREATE_EXT, &x));
	EXPECT_EQ(EBUSY, errno);
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
 * Upstream's CREATE ignores reserved: a program that fills only .resolution of a stack struct
 * works, and the bytes come back as they went.  The same on both implementations.
 */
TEST(create_accepts_any_reserved_bytes)
{
	struct utimer_uinfo u;
	int ctl = open_ctl(), i;

	ASSERT_LE(0, ctl);
	for (i = 0; i < 16; i += 5) {
		memset(&u, 0xa5, sizeof(u));
		u.resolution = RES_10MS;
		u.reserved[i] = 0x80;
		ASSERT_EQ(0, ioctl(ctl, UTIMER_IOCTL_CREATE, &u)) TH_LOG("reserved[%d]: %s", i,
									  strerror(errno));
		EXPECT_EQ(0u, u.id);
		EXPECT_EQ(0xa5, u.reserved[(i + 1) % 16]);
		EXPECT_EQ(0x80, u.reserved[i]);
		EXPECT_EQ(RES_10MS, timer_info_resolution(u.id));
		close(u.fd);
	}
	close(ctl);
}

/*
 * Upstream's CREATE takes any resolution but 0, and /dev/snd/timer's INFO reports it as given
 * (an unsigned long: 64 bits on a 64-bit task).  The same on both implementations.
 */
TEST(create_accepts_any_nonzero_resolution)
{
	static const __u64 res[] = { 1, 50000, 99999, 100000, 0xffffffffULL, 0x100000000ULL,
				     1ULL << 63, ~0ULL };
	struct utimer_uinfo u;
	unsigned int i;
	int ctl = open_ctl();

	ASSERT_LE(0, ctl);
	for (i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
		ASSERT_EQ(0, create(ctl, res[i], &u)) TH_LOG("resolution %llu",
							     (unsigned long long)res[i]);
		EXPECT_EQ(0u, u.id);
		EXPECT_EQ(res[i], u.resolution);
		if (sizeof(unsigned long) == 8)
			EXPECT_EQ(res[i], timer_info_resolution(u.id));
		close(u.fd);
	}
	close(ctl);
}

/*
 * A 50 us timer runs a /dev/snd/timer reader with ticks = 20 (the core needs 1 ms per wakeup):
 * the first instance to start on the idle timer sets its tick count (timer->sticks), and each
 * TRIGGER is worth that many ticks.  The same on both implementations.
 */
TEST(reader_with_20_ticks_counts_exactly_on_a_50us_timer)
{
	struct snd_timer_params par = { .flags = SNDRV_TIMER_PSFLG_AUTO, .ticks = 20,
					.queue_size = 128 };
	struct utimer_uinfo u;
	int ctl = open_ctl(), rd, i;

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, 50000, &u));
	rd = timer_select(u.id, O_RDONLY | O_NONBLOCK, NULL);
	ASSERT_LE(0, rd);
	ASSERT_EQ(0, ioctl(rd, SNDRV_TIMER_IOCTL_PARAMS, &par)) TH_LOG("PARAMS: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(rd, SNDRV_TIMER_IOCTL_START)) TH_LOG("START: %s", strerror(errno));
	for (i = 0; i < 7; i++)
		ASSERT_EQ(0, ioctl(u.fd, UTIMER_IOCTL_TRIGGER));
	EXPECT_EQ(7 * 20, reader_ticks(rd, 1000, NULL));
	close(rd);
	close(u.fd);
	close(ctl);
}

/* lseek() on the timer fd succeeds and does nothing (noop_llseek); the device has none. */
TEST(lseek_on_the_timer_fd_returns_0)
{
	struct utimer_uinfo u;
	int ctl = open_ctl();

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	EXPECT_EQ(0, lseek(u.fd, 0, SEEK_SET));
	EXPECT_EQ(0, lseek(u.fd, 4096, SEEK_SET));
	EXPECT_EQ(0, lseek(u.fd, 10, SEEK_CUR));
	EXPECT_EQ(0, lseek(u.fd, 0, SEEK_END));
	EXPECT_EQ(-1, lseek(ctl, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	close(u.fd);
	close(ctl);
}

/* ------------------------------------------------------------------ UTIMER_IOCTL_CREATE_EXT */

/* A CREATE_EXT argument: the rest zeroed. */
static struct utimer_create ext_req(__u64 resolution, __u32 flags, __u32 id)
{
	return (struct utimer_create){ .resolution = resolution, .flags = flags, .id = id };
}

/* CREATE_EXT with `flags` and `id`: 0 (c->fd and c->id set) or -errno. */
static int create_ext(int ctl, __u64 resolution, __u32 flags, __u32 id, struct utimer_create *c)
{
	*c = ext_req(resolution, flags, id);
	return ioctl(ctl, UTIMER_IOCTL_CREATE_EXT, c) < 0 ? -errno : 0;
}

/* rust_utimer's max_timers; 128 where it cannot be read. */
static unsigned int max_timers(void)
{
	FILE *f = fopen("/sys/module/rust_utimer/parameters/max_timers", "r");
	unsigned int n = 128;

	if (f) {
		if (fscanf(f, "%u", &n) != 1)
			n = 128;
		fclose(f);
	}
	return n;
}

/* Nothing was taken: CREATE_EXT without an id gets `want` (and the timer is closed again). */
static void expect_next_ext_id(struct __test_metadata *_metadata, int ctl, unsigned int want)
{
	struct utimer_create c;

	ASSERT_EQ(0, create_ext(ctl, RES_10MS, 0, 0, &c));
	EXPECT_EQ(want, c.id);
	close(c.fd);
}

TEST(create_ext_takes_the_requested_id)
{
	struct utimer_create a, b;
	struct utimer_uinfo u;
	unsigned int max = max_timers();
	int ctl = open_ctl(), rd;

	if (upstream())
		SKIP(return, "rust_utimer's own ioctl");
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create_ext(ctl, RES_10MS, UTIMER_CREATE_ID, 5, &a));
	EXPECT_EQ(5u, a.id);
	EXPECT_EQ(FD_CLOEXEC, fcntl(a.fd, F_GETFD) & FD_CLOEXEC);
	/* The others still get the lowest free id, with or without the ext ioctl. */
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	EXPECT_EQ(0u, u.id);
	ASSERT_EQ(0, create_ext(ctl, RES_10MS, 0, 77, &b));
	EXPECT_EQ(1u, b.id);
	close(b.fd);
	/* The timer answers on its subdevice, at its resolution. */
	rd = reader_open(5, NULL);
	ASSERT_LE(0, rd);
	EXPECT_EQ(RES_10MS, timer_info_resolution(5));
	ASSERT_EQ(0, ioctl(a.fd, UTIMER_IOCTL_TRIGGER));
	ASSERT_EQ(0, ioctl(a.fd, UTIMER_IOCTL_TRIGGER));
	EXPECT_EQ(2, reader_ticks(rd, 1000, NULL));
	close(rd);
	close(a.fd);
	/* The highest id there is, then the id again once it is free. */
	ASSERT_EQ(0, create_ext(ctl, RES_10MS, UTIMER_CREATE_ID, max - 1, &a));
	EXPECT_EQ(max - 1, a.id);
	close(a.fd);
	ASSERT_EQ(0, create_ext(ctl, RES_10MS, UTIMER_CREATE_ID, 5, &a));
	EXPECT_EQ(5u, a.id);
	close(a.fd);
	close(u.fd);
	close(ctl);
}

TEST(create_ext_requested_id_taken_is_ebusy)
{
	struct utimer_create c, again;
	struct utimer_uinfo u;
	int ctl = open_ctl();

	if (upstream())
		SKIP(return, "rust_utimer's own ioctl");
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	ASSERT_EQ(0, create_ext(ctl, RES_10MS, UTIMER_CREATE_ID, 3, &c));
	again = ext_req(RES_10MS, UTIMER_CREATE_ID, 0);
	EXPECT_CREATE_EXT_REFUSED(ctl, &again, EBUSY, "id 0, held by CREATE");
	again.id = 3;
	EXPECT_CREATE_EXT_REFUSED(ctl, &again, EBUSY, "id 3, held by CREATE_EXT");
	/* Nothing was taken by the refusals: the lowest free id is still 1. */
	close(c.fd);
	expect_next_ext_id(_metadata, ctl, 1);
	close(u.fd);
	close(ctl);
}

TEST(create_ext_requested_id_out_of_range_is_einval)
{
	static const __u32 bad_above_max[] = { 0, 1, 4096, 0x7fffffff, 0xffffffff };
	struct utimer_create c;
	unsigned int max = max_timers(), i;
	int ctl = open_ctl();
	char what[64];

	if (upstream())
		SKIP(return, "rust_utimer's own ioctl");
	ASSERT_LE(0, ctl);
	for (i = 0; i < sizeof(bad_above_max) / sizeof(bad_above_max[0]); i++) {
		c = ext_req(RES_10MS, UTIMER_CREATE_ID, bad_above_max[i] < 4096 ?
			    max + bad_above_max[i] : bad_above_max[i]);
		snprintf(what, sizeof(what), "id %u (max_timers %u)", c.id, max);
		EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, what);
	}
	expect_next_ext_id(_metadata, ctl, 0);
	close(ctl);
}

TEST(create_ext_refuses_unknown_flags_and_reserved)
{
	struct utimer_create c;
	int ctl = open_ctl(), i;
	char what[64];

	if (upstream())
		SKIP(return, "rust_utimer's own ioctl");
	ASSERT_LE(0, ctl);
	for (i = 3; i < 64; i += 5) {
		/* Each unknown bit (above UTIMER_CREATE_HOLDOVER), alone and beside UTIMER_CREATE_ID. */
		c = ext_req(RES_10MS, (1U << (3 + i % 29)) | (i >= 32 ? UTIMER_CREATE_ID : 0), 0);
		snprintf(what, sizeof(what), "flags %#x", c.flags);
		EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, what);
	}
	for (i = 0; i < 2; i++) {
		c = ext_req(RES_10MS, 0, 0);
		c.reserved[i] = 0x80000000U >> i;
		snprintf(what, sizeof(what), "reserved[%d]", i);
		EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, what);
	}
	/* A holdover without UTIMER_CREATE_HOLDOVER, and that flag without a persistent timer. */
	c = ext_req(RES_10MS, 0, 0);
	c.holdover = 2;
	EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, "holdover without its flag");
	c = ext_req(RES_10MS, UTIMER_CREATE_HOLDOVER, 0);
	EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, "UTIMER_CREATE_HOLDOVER without PERSIST");
	expect_next_ext_id(_metadata, ctl, 0);
	close(ctl);
}

/*
 * The resolutions no consumer can run one tick per TRIGGER at: below 100 us (snd_timer_start
 * refuses shorter ticks) or above UINT32_MAX ns (the 32-bit resolution fields of snd_timer_read
 * and of aloop's PCM runtime).
 */
TEST(create_ext_refuses_resolution_out_of_range)
{
	static const __u64 bad[] = { 0, 1, 99999, 0x100000000ULL, ~0ULL };
	static const __u64 good[] = { UTIMER_MIN_RESOLUTION, 166666, UTIMER_MAX_RESOLUTION };
	struct utimer_create c;
	int ctl = open_ctl();
	unsigned int i;
	char what[64];

	if (upstream())
		SKIP(return, "rust_utimer's own ioctl");
	ASSERT_LE(0, ctl);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = ext_req(bad[i], 0, 0);
		snprintf(what, sizeof(what), "resolution %llu", (unsigned long long)bad[i]);
		EXPECT_CREATE_EXT_REFUSED(ctl, &c, EINVAL, what);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ASSERT_EQ(0, create_ext(ctl, good[i], 0, 0, &c)) TH_LOG("resolution %llu",
									(unsigned long long)good[i]);
		EXPECT_EQ(0u, c.id);
		EXPECT_EQ(good[i], timer_info_resolution(c.id));
		close(c.fd);
	}
	close(ctl);
}

/* As CREATE: a reply that cannot be written back leaves nothing behind. */
TEST(create_ext_with_readonly_argument_leaves_nothing)
{
	struct utimer_create *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct utimer_create c;
	int ctl = open_ctl(), fds;

	if (upstream())
		SKIP(return, "rust_utimer's own ioctl");
	ASSERT_LE(0, ctl);
	ASSERT_TRUE(ro != MAP_FAILED);
	ro->resolution = 12345678;
	ro->flags = UTIMER_CREATE_ID;
	ro->id = 9;
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	fds = count_fds();
	EXPECT_EQ(-1, ioctl(ctl, UTIMER_IOCTL_CREATE_EXT, ro));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(fds, count_fds());
	EXPECT_EQ(0, proc_timers_count(12345678));
	/* Id 9 is free again. */
	ASSERT_EQ(0, create_ext(ctl, RES_10MS, UTIMER_CREATE_ID, 9, &c));
	EXPECT_EQ(9u, c.id);
	close(c.fd);
	close(ctl);
}

HARNESS_MAIN_WITH_LIST
