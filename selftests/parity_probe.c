// SPDX-License-Identifier: GPL-2.0
/*
 * The parity table's probe: runs the same inputs against the device in UTIMER_DEV and prints,
 * for each, what came back, as "# parity CASE OUTCOME".  selftests/run.sh runs it against
 * upstream's C utimers (/dev/snd/timer) and against rust_utimer (/dev/utimer) in one boot and
 * compares the outcomes case by case: a drop-in must give the same on every one.
 *
 * Its own result says only whether every case could be set up (a device that does not open, a
 * timer that cannot be made for a case that needs one).
 *   parity_probe [--plan | --list]	(--list: the cases, one per line)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <sound/asound.h>

#include "utimer_helpers.h"

static int ctl, setup_failed;

/* errno's name, or "0". */
static const char *err_name(int ret, int err)
{
	return ret >= 0 ? "0" : strerrorname_np(err) ?: "?";
}

static void outcome(const char *name, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ksft_print_msg("parity %s %s\n", name, buf);
}

/* CREATE with the struct as given: the result, the fields it writes, INFO's resolution. */
static void probe_create(const char *name, struct utimer_uinfo u)
{
	struct utimer_uinfo before = u;
	struct snd_timer_info info = { 0 };
	int r = ioctl(ctl, UTIMER_IOCTL_CREATE, &u), e = errno, rd;

	if (r < 0) {
		outcome(name, "ret=%d errno=%s untouched=%s", r, err_name(r, e),
			memcmp(&before, &u, sizeof(u)) ? "no" : "yes");
		return;
	}
	rd = timer_select(u.id, O_RDONLY, &info);
	outcome(name, "ret=%d id=%u fd=%s cloexec=%d resolution=%s reserved=%s "
		"info_resolution=%lu", r, u.id, u.fd > 2 ? "new" : "odd",
		(fcntl(u.fd, F_GETFD) & FD_CLOEXEC) != 0,
		u.resolution == before.resolution ? "kept" : "changed",
		memcmp(u.reserved, before.reserved, sizeof(u.reserved)) ? "changed" : "kept",
		rd < 0 ? 0UL : (unsigned long)info.resolution);
	if (rd >= 0)
		close(rd);
	close(u.fd);
}

static void create_cases(int list)
{
	static const struct { const char *name; __u64 res; } res[] = {
		{ "create_resolution_0", 0 },
		{ "create_resolution_1ns", 1 },
		{ "create_resolution_50us", 50000 },
		{ "create_resolution_99999ns", 99999 },
		{ "create_resolution_10ms", 10000000 },
		{ "create_resolution_2pow32_ns", 1ULL << 32 },
		{ "create_resolution_2pow63_ns", 1ULL << 63 },
		{ "create_resolution_2pow64_minus_1_ns", ~0ULL },
	};
	struct utimer_uinfo u;
	int r;

	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
		if (list) {
			printf("%s\n", res[i].name);
			continue;
		}
		memset(&u, 0, sizeof(u));
		u.resolution = res[i].res;
		u.fd = -77;
		u.id = 777;
		probe_create(res[i].name, u);
	}
	if (list) {
		printf("create_reserved_garbage\ncreate_null_argument\n");
		return;
	}
	memset(&u, 0xa5, sizeof(u));
	u.resolution = 10000000;
	probe_create("create_reserved_garbage", u);
	r = ioctl(ctl, UTIMER_IOCTL_CREATE, NULL);
	outcome("create_null_argument", "ret=%d errno=%s", r, err_name(r, errno));
}

/* A /dev/snd/timer reader with `ticks` per wakeup on a timer of `res` ns, after 3 TRIGGERs. */
static void probe_reader(const char *name, __u64 res, unsigned int ticks)
{
	struct snd_timer_params par = { .flags = SNDRV_TIMER_PSFLG_AUTO, .ticks = ticks,
					.queue_size = 128 };
	struct utimer_uinfo u;
	int rd, p, s = -1, e1, e2 = 0;
	long got = -1;

	if (create(ctl, res, &u)) {
		setup_failed++;
		outcome(name, "no_timer");
		return;
	}
	rd = timer_select(u.id, O_RDONLY | O_NONBLOCK, NULL);
	if (rd < 0) {
		setup_failed++;
		outcome(name, "no_reader");
		close(u.fd);
		return;
	}
	p = ioctl(rd, SNDRV_TIMER_IOCTL_PARAMS, &par);
	e1 = errno;
	if (!p) {
		s = ioctl(rd, SNDRV_TIMER_IOCTL_START);
		e2 = errno;
		for (int i = 0; i < 3; i++)
			ioctl(u.fd, UTIMER_IOCTL_TRIGGER);
		got = s ? -1 : reader_ticks(rd, 1000, NULL);
	}
	outcome(name, "params=%s start=%s ticks_after_3_triggers=%ld", err_name(p, e1),
		p ? "-" : err_name(s, e2), got);
	close(rd);
	close(u.fd);
}

/* What the timer fd answers besides TRIGGER. */
static void probe_timer_fd(int list)
{
	struct pollfd pfd;
	struct utimer_uinfo u;
	char buf[64];
	off_t a, b, c;
	void *m;
	int r, e;

	if (list) {
		printf("timer_fd_lseek\ncontrol_fd_lseek\ntimer_fd_read\ntimer_fd_write\n"
		       "timer_fd_poll\ntimer_fd_mmap\ntimer_fd_flags\ntimer_fd_trigger_with_arg\n"
		       "timer_fd_create\n");
		return;
	}
	if (create(ctl, 10000000, &u)) {
		setup_failed++;
		return;
	}
	a = lseek(u.fd, 4096, SEEK_SET);
	b = lseek(u.fd, 10, SEEK_CUR);
	c = lseek(u.fd, 0, SEEK_END);
	outcome("timer_fd_lseek", "set=%lld cur=%lld end=%lld errno=%s", (long long)a,
		(long long)b, (long long)c, a < 0 ? strerrorname_np(errno) : "0");
	a = lseek(ctl, 0, SEEK_SET);
	outcome("control_fd_lseek", "ret=%lld errno=%s", (long long)a, err_name(a, errno));
	r = read(u.fd, buf, sizeof(buf));
	e = errno;
	outcome("timer_fd_read", "ret=%d errno=%s", r, err_name(r, e));
	r = write(u.fd, buf, sizeof(buf));
	e = errno;
	outcome("timer_fd_write", "ret=%d errno=%s", r, err_name(r, e));
	pfd = (struct pollfd){ .fd = u.fd, .events = POLLIN | POLLOUT };
	r = poll(&pfd, 1, 0);
	outcome("timer_fd_poll", "ret=%d revents=%#x", r, pfd.revents);
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, u.fd, 0);
	e = errno;
	outcome("timer_fd_mmap", "errno=%s", m == MAP_FAILED ? strerrorname_np(e) : "0");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	outcome("timer_fd_flags", "accmode=%d cloexec=%d", fcntl(u.fd, F_GETFL) & O_ACCMODE,
		(fcntl(u.fd, F_GETFD) & FD_CLOEXEC) != 0);
	r = ioctl(u.fd, UTIMER_IOCTL_TRIGGER, 0xdeadbeefUL);
	outcome("timer_fd_trigger_with_arg", "ret=%d errno=%s", r, err_name(r, errno));
	r = ioctl(u.fd, UTIMER_IOCTL_CREATE, &u);
	outcome("timer_fd_create", "ret=%d errno=%s", r, err_name(r, errno));
	close(u.fd);
}

int main(int argc, char **argv)
{
	int plan_only = take_flag(&argc, argv, "--plan"), list = argc == 2 &&
		!strcmp(argv[1], "--list");

	if (argc != 1 && !list) {
		fprintf(stderr, "usage: %s [--plan | --list]\n", argv[0]);
		return 2;
	}
	if (list) {
		create_cases(1);
		printf("reader_ticks_20_on_50us\nreader_ticks_1_on_50us\nreader_ticks_1_on_1ms\n");
		probe_timer_fd(1);
		return 0;
	}
	plan_or_print(1, plan_only);
	ctl = open_ctl();
	if (ctl < 0)
		ksft_exit_fail_msg("open %s: %s\n", utimer_dev(), strerror(errno));
	create_cases(0);
	probe_reader("reader_ticks_20_on_50us", 50000, 20);
	probe_reader("reader_ticks_1_on_50us", 50000, 1);
	probe_reader("reader_ticks_1_on_1ms", 1000000, 1);
	probe_timer_fd(0);
	close(ctl);
	ksft_test_result(!setup_failed, "parity_probe_set_up_every_case # %s, %d not set up\n",
			 utimer_dev(), setup_failed);
	ksft_finished();
}
