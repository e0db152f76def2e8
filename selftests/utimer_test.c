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
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sound/asound.h>

#include "../uapi/rust_utimer.h"
#include "kselftest_harness.h"

#define RES_10MS 10000000ULL

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

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own fd */
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

TEST(create_returns_lowest_id_and_cloexec_fd)
{
	struct utimer_uinfo u;
	int ctl = open_ctl();

	ASSERT_LE(0, ctl) TH_LOG("open %s: %s", utimer_dev(), strerror(errno));
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	EXPECT_EQ(0u, u.id);
	ASSERT_LE(0, u.fd);
	EXPECT_EQ(FD_CLOEXEC, fcntl(u.fd, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(O_RDWR, fcntl(u.fd, F_GETFL) & O_ACCMODE);
	EXPECT_EQ(0, ioctl(u.fd, UTIMER_IOCTL_TRIGGER));
	EXPECT_EQ(0, close(u.fd));
	close(ctl);
}

TEST(create_rejects_zero_resolution)
{
	struct utimer_uinfo u = { .resolution = 0, .fd = -77, .id = 777 };
	int ctl = open_ctl(), fds;

	ASSERT_LE(0, ctl);
	fds = count_fds();
	EXPECT_EQ(-1, ioctl(ctl, UTIMER_IOCTL_CREATE, &u));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-77, u.fd);
	EXPECT_EQ(777u, u.id);
	EXPECT_EQ(fds, count_fds());
	/* Nothing was taken: the next timer still gets id 0. */
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	EXPECT_EQ(0u, u.id);
	close(u.fd);
	close(ctl);
}

TEST(create_rejects_null_and_unmapped_pointers)
{
	void *unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct utimer_uinfo u;
	int ctl = open_ctl(), fds;

	ASSERT_LE(0, ctl);
	ASSERT_NE(MAP_FAILED, unmapped);
	fds = count_fds();
	EXPECT_EQ(-1, ioctl(ctl, UTIMER_IOCTL_CREATE, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(ctl, UTIMER_IOCTL_CREATE, unmapped));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(fds, count_fds());
	ASSERT_EQ(0, create(ctl, RES_10MS, &u));
	EXPECT_EQ(0u, u.id);
	close(u.fd);
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
	ASSERT_NE(MAP_FAILED, ro);
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

static int unload(void)
{
	return syscall(SYS_delete_module, "rust_utimer", O_NONBLOCK) ? -errno : 0;
}

static int load(const char *ko)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return ret;
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
	ASSERT_EQ(0, load(ko));
	ASSERT_EQ(0, access(utimer_dev(), F_OK)) TH_LOG("%s is back", utimer_dev());
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

TEST_HARNESS_MAIN
