// SPDX-License-Identifier: GPL-2.0
/*
 * Behaviour of /dev/utimer and its timer fds, checked from userspace in the guest.
 *
 * Environment: UTIMER_DEV (default /dev/utimer) is the device that creates timers: set it to
 * /dev/snd/timer to run the same tests against upstream's C utimers (CONFIG_SND_UTIMER), where
 * the two differ on purpose each side's documented behaviour is checked.  UTIMER_KO is the
 * module's path, for the unload test (skipped without it).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sound/asound.h>

#include "../uapi/rust_utimer.h"
#include "utimer_helpers.h"
#include "kselftest_harness.h"

#define RES_10MS 10000000ULL
#define LISTING "/sys/kernel/debug/rust_utimer/timers"

static const char *utimer_dev(void)
{
	const char *dev = getenv("UTIMER_DEV");

	return dev ? dev : UTIMER_DEVICE;
}

/* Upstream's CONFIG_SND_UTIMER, through /dev/snd/timer, rather than rust_utimer. */
static int upstream(void)
{
	return !strcmp(utimer_dev(), "/dev/snd/timer");
}

static int open_ctl(void)
{
	return open(utimer_dev(), O_RDWR | O_CLOEXEC);
}

/* CREATE; returns 0 or -errno. */
static int create(int ctl, __u64 resolution, struct utimer_uinfo *u)
{
	memset(u, 0, sizeof(*u));
	u->resolution = resolution;
	return ioctl(ctl, UTIMER_IOCTL_CREATE, u) < 0 ? -errno : 0;
}

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

/* A /dev/snd/timer client on (GLOBAL, 4, id), started, auto-reloading every tick. */
static int reader_open(unsigned int id, unsigned long *resolution)
{
	struct snd_timer_select sel = { 0 };
	struct snd_timer_params par = { 0 };
	struct snd_timer_info info = { 0 };
	int fd = open("/dev/snd/timer", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	sel.id.dev_class = SNDRV_TIMER_CLASS_GLOBAL;
	sel.id.dev_sclass = SNDRV_TIMER_SCLASS_NONE;
	sel.id.card = -1;
	sel.id.device = UTIMER_GLOBAL_DEVICE;
	sel.id.subdevice = id;
	par.flags = SNDRV_TIMER_PSFLG_AUTO;
	par.ticks = 1;
	par.queue_size = 128;
	if (ioctl(fd, SNDRV_TIMER_IOCTL_SELECT, &sel) < 0 ||
	    ioctl(fd, SNDRV_TIMER_IOCTL_INFO, &info) < 0 ||
	    ioctl(fd, SNDRV_TIMER_IOCTL_PARAMS, &par) < 0 ||
	    ioctl(fd, SNDRV_TIMER_IOCTL_START) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	if (resolution)
		*resolution = info.resolution;
	return fd;
}

/* The resolution /dev/snd/timer's INFO reports for (GLOBAL, 4, id); 0 on error. */
static unsigned long timer_info_resolution(unsigned int id)
{
	struct snd_timer_select sel = { 0 };
	struct snd_timer_info info = { 0 };
	int fd = open("/dev/snd/timer", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	sel.id.dev_class = SNDRV_TIMER_CLASS_GLOBAL;
	sel.id.dev_sclass = SNDRV_TIMER_SCLASS_NONE;
	sel.id.card = -1;
	sel.id.device = UTIMER_GLOBAL_DEVICE;
	sel.id.subdevice = id;
	if (ioctl(fd, SNDRV_TIMER_IOCTL_SELECT, &sel) < 0 || ioctl(fd, SNDRV_TIMER_IOCTL_INFO, &info) < 0)
		info.resolution = 0;
	close(fd);
	return info.resolution;
}

/*
 * Sum the ticks of every record the reader has, waiting up to timeout_ms for the first one.
 * Consecutive records of one resolution are merged by the core, so ticks are summed.
 */
static long reader_ticks(int fd, int timeout_ms, unsigned long *resolution)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct snd_timer_read r[16];
	long ticks = 0;
	ssize_t n;

	if (poll(&p, 1, timeout_ms) < 0)
		return -1;
	while ((n = read(fd, r, sizeof(r))) > 0)
		for (size_t i = 0; i < n / sizeof(r[0]); i++) {
			ticks += r[i].ticks;
			if (resolution)
				*resolution = r[i].resolution;
		}
	return ticks;
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

TEST(reader_counts_exactly_n_ticks_at_our_resolution)
{
	unsigned long info_res = 0, rec_res = 0;
	__u64 res = 12345678;
	struct utimer_uinfo u;
	long got = 0;
	int ctl = open_ctl(), rd, i;

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, res, &u));
	rd = reader_open(u.id, &info_res);
	ASSERT_LE(0, rd) TH_LOG("reader on G4.%u: %s", u.id, strerror(errno));
	EXPECT_EQ(res, info_res);
	/* No tick without a trigger. */
	EXPECT_EQ(0, reader_ticks(rd, 100, NULL));
	for (i = 0; i < 25; i++)
		ASSERT_EQ(0, ioctl(u.fd, UTIMER_IOCTL_TRIGGER));
	got = reader_ticks(rd, 1000, &rec_res);
	EXPECT_EQ(25, got);
	EXPECT_EQ(res, rec_res);
	/* And no tick after them. */
	EXPECT_EQ(0, reader_ticks(rd, 100, NULL));
	close(rd);
	close(u.fd);
	close(ctl);
}

TEST(ticks_before_a_reader_starts_are_lost)
{
	struct utimer_uinfo u;
	int ctl = open_ctl(), rd, i;

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, ioctl(u.fd, UTIMER_IOCTL_TRIGGER));
	rd = reader_open(u.id, NULL);
	ASSERT_LE(0, rd);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, ioctl(u.fd, UTIMER_IOCTL_TRIGGER));
	EXPECT_EQ(3, reader_ticks(rd, 1000, NULL));
	close(rd);
	close(u.fd);
	close(ctl);
}

TEST(two_timers_tick_independently)
{
	struct utimer_uinfo a, b;
	int ctl = open_ctl(), ra, rb, i;

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, RES_10MS, &a));
	ASSERT_EQ(0, create(ctl, RES_10MS, &b));
	EXPECT_EQ(a.id + 1, b.id);
	ra = reader_open(a.id, NULL);
	rb = reader_open(b.id, NULL);
	ASSERT_LE(0, ra);
	ASSERT_LE(0, rb);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, ioctl(a.fd, UTIMER_IOCTL_TRIGGER));
	for (i = 0; i < 7; i++)
		ASSERT_EQ(0, ioctl(b.fd, UTIMER_IOCTL_TRIGGER));
	EXPECT_EQ(4, reader_ticks(ra, 1000, NULL));
	EXPECT_EQ(7, reader_ticks(rb, 1000, NULL));
	close(ra);
	close(rb);
	close(a.fd);
	close(b.fd);
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

TEST(close_while_a_reader_is_attached_is_safe)
{
	struct utimer_uinfo u;
	int ctl = open_ctl(), rd;

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	rd = reader_open(u.id, NULL);
	ASSERT_LE(0, rd);
	ASSERT_EQ(0, ioctl(u.fd, UTIMER_IOCTL_TRIGGER));
	EXPECT_EQ(0, close(u.fd));
	/* The reader keeps what it got, gets no more, and closes cleanly. */
	EXPECT_EQ(1, reader_ticks(rd, 200, NULL));
	EXPECT_EQ(0, reader_ticks(rd, 100, NULL));
	EXPECT_EQ(0, close(rd));
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

/*
 * Closing the timer under a blocked /dev/snd/timer reader, as both implementations behave today:
 * the ALSA core closes the reader's instance without its disconnect callback (only card
 * timers get that), so a blocking read() sleeps on and poll() reports nothing, neither data nor
 * POLLERR.  See Documentation/rust_utimer.rst, "Closing a timer under its consumers".
 */
TEST(close_leaves_a_blocked_reader_asleep)
{
	struct pollfd p = { .events = POLLIN };
	struct snd_timer_read r;
	struct utimer_uinfo u;
	int ctl = open_ctl(), rd, status;
	pid_t pid;

	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	rd = reader_open(u.id, NULL);
	ASSERT_LE(0, rd);
	ASSERT_EQ(0, fcntl(rd, F_SETFL, 0));	/* blocking */
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(read(rd, &r, sizeof(r)) == sizeof(r) ? 0 : 1);
	usleep(200000);
	close(u.fd);
	usleep(500000);
	/* Still asleep half a second after the close. */
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));
	p.fd = rd;
	EXPECT_EQ(0, poll(&p, 1, 300));
	EXPECT_EQ(0, p.revents);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(0, close(rd));
	close(ctl);
}

static int unload(void)
{
	return syscall(SYS_delete_module, "rust_utimer", O_NONBLOCK) ? -errno : 0;
}

static int load(const char *ko, const char *params)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

/* Reload the module with `params`; skips the test where that cannot be done. */
#define RELOAD_OR_SKIP(params) do {						\
	const char *ko_ = getenv("UTIMER_KO");					\
	if (upstream())								\
		SKIP(return, "upstream's utimers are built into the kernel");	\
	if (!ko_)								\
		SKIP(return, "UTIMER_KO not set");				\
	ASSERT_EQ(0, unload()) TH_LOG("rmmod: is a timer still open?");	\
	ASSERT_EQ(0, load(ko_, params)) TH_LOG("insmod %s", params);		\
} while (0)

static void reload_defaults(struct __test_metadata *_metadata)
{
	const char *ko = getenv("UTIMER_KO");

	ASSERT_EQ(0, unload());
	ASSERT_EQ(0, load(ko, ""));
}

TEST(unload_refused_while_a_timer_fd_is_open)
{
	const char *ko = getenv("UTIMER_KO");
	struct utimer_uinfo u;
	int ctl, err;

	if (upstream())
		SKIP(return, "upstream's utimers are built into the kernel");
	if (!ko)
		SKIP(return, "UTIMER_KO not set");
	ctl = open_ctl();
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	close(ctl);
	/* Only the timer fd pins the module now. */
	err = unload();
	EXPECT_TRUE(err == -EWOULDBLOCK || err == -EBUSY) TH_LOG("delete_module: %s", strerror(-err));
	EXPECT_EQ(0, ioctl(u.fd, UTIMER_IOCTL_TRIGGER));
	close(u.fd);
	EXPECT_EQ(0, unload());
	EXPECT_EQ(-1, access(utimer_dev(), F_OK));
	ASSERT_EQ(0, load(ko, ""));
	ASSERT_EQ(0, access(utimer_dev(), F_OK)) TH_LOG("%s is back", utimer_dev());
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

TEST(bad_module_parameters_are_refused_at_load)
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

	RELOAD_OR_SKIP("");
	ASSERT_EQ(0, unload());
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, load(ko, bad[i].params)) TH_LOG("insmod %s", bad[i].params);
		EXPECT_EQ(-1, access(utimer_dev(), F_OK));
		if (bad[i].msg)
			EXPECT_TRUE(klog_count(bad[i].msg) > 0) TH_LOG("no \"%s\" in the log", bad[i].msg);
	}
	ASSERT_EQ(0, load(ko, ""));
}

TEST(capacity_follows_max_timers_up_to_4096)
{
	static struct utimer_uinfo u[4097];
	struct rlimit nofile = { 8192, 8192 };
	struct timespec t0, t1, t2;
	int ctl, i, n;

	RELOAD_OR_SKIP("max_timers=4096 max_user_timers=4096");
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
	RELOAD_OR_SKIP("max_timers=3");
	ctl = open_ctl();
	ASSERT_LE(0, ctl);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, create(ctl, RES_10MS, &u[i]));
	EXPECT_EQ(-ENOSPC, create(ctl, RES_10MS, &u[3]));
	for (i = 0; i < 3; i++)
		close(u[i].fd);
	close(ctl);
	reload_defaults(_metadata);
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

TEST(per_user_quota_follows_max_user_timers)
{
	struct utimer_uinfo a[3];
	int ctl, i;

	RELOAD_OR_SKIP("max_user_timers=2");
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
	reload_defaults(_metadata);
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
	/* A reload by an earlier test makes a new node: let udev apply the rule to it. */
	if (rule)
		ASSERT_EQ(0, system("udevadm settle --timeout=30"));
	ASSERT_EQ(0, stat(utimer_dev(), &st));
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
	char line[256], head[256], comm[64];
	unsigned int id, uid, inst;
	unsigned long long res, trig, age;
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
	ASSERT_EQ(8, sscanf(line, "%u %u %d %llu %llu %u %llu %63[^\n]", &id, &uid, &pid, &res,
			    &trig, &inst, &age, comm)) TH_LOG("line: %s", line);
	EXPECT_EQ(b.id, id);
	EXPECT_EQ(getuid(), uid);
	EXPECT_EQ(getpid(), pid);
	EXPECT_EQ(12345678ULL, res);
	EXPECT_EQ(3ULL, trig);
	EXPECT_EQ(1u, inst);
	EXPECT_GT(60000ULL, age);
	EXPECT_EQ(0, strncmp(program_invocation_short_name, comm, 15)) TH_LOG("comm %s", comm);
	ASSERT_EQ(0, listing_line(a.id, line, sizeof(line)));
	ASSERT_EQ(8, sscanf(line, "%u %u %d %llu %llu %u %llu %63[^\n]", &id, &uid, &pid, &res,
			    &trig, &inst, &age, comm)) TH_LOG("line: %s", line);
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

TEST_HARNESS_MAIN
