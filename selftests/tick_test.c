// SPDX-License-Identifier: GPL-2.0
/*
 * Ticks: what a /dev/snd/timer reader of a utimer gets from TRIGGER, exactly, and what it gets
 * when the timer is closed under it.  Checked from userspace in the guest.
 *
 * Environment: UTIMER_DEV as described in utimer_helpers.h.
 *   tick_test [harness options]	tick_test --list	(every test's name for -r)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sound/asound.h>

#include "utimer_helpers.h"
#include "kselftest_harness.h"

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

/* /proc/PID/NAME's first line, without its newline; "" if it cannot be read. */
static void proc_read(pid_t pid, const char *name, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	buf[0] = 0;
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(buf, size, f))
		buf[0] = 0;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
}

/* /proc/PID/status's voluntary_ctxt_switches: how many times the task went to sleep; -1. */
static long sleeps(pid_t pid)
{
	char path[64], line[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
			break;
	if (f)
		fclose(f);
	return n;
}

/*
 * Whether task pid sleeps in a /dev/snd/timer read(): state S (/proc/PID/stat) in
 * snd_timer_user_read (/proc/PID/wchan; where the kernel hides it as "0", the read system call
 * in /proc/PID/syscall instead: 0 on x86_64, 3 on i386).  `where` says what was seen.
 */
static int asleep_in_timer_read(pid_t pid, char *where, size_t size)
{
	char stat[512], wchan[128], sc[128], state, *p;
	int in_read;

	proc_read(pid, "stat", stat, sizeof(stat));
	p = strrchr(stat, ')');
	state = p && p[1] == ' ' ? p[2] : '?';
	proc_read(pid, "wchan", wchan, sizeof(wchan));
	proc_read(pid, "syscall", sc, sizeof(sc));
	if (wchan[0] && strcmp(wchan, "0"))
		in_read = !strcmp(wchan, "snd_timer_user_read");
	else
		in_read = sc[0] >= '0' && sc[0] <= '9' && atol(sc) == SYS_read;
	snprintf(where, size, "state %c, wchan %s, syscall %.20s", state, wchan[0] ? wchan : "?",
		 sc[0] ? sc : "?");
	return state == 'S' && in_read;
}

/*
 * Closing the timer under a blocked /dev/snd/timer reader, as both implementations behave today:
 * the ALSA core closes the reader's instance without its disconnect callback (only card
 * timers get that), so a blocking read() sleeps on and poll() reports nothing, neither data nor
 * POLLERR.  See Documentation/design.rst, "Closing a timer under its consumers".
 * The reader is seen asleep in read() before the close (not guessed from a delay), and still
 * there after it.
 */
TEST(close_leaves_a_blocked_reader_asleep)
{
	struct pollfd p = { .events = POLLIN };
	struct snd_timer_read r;
	struct utimer_uinfo u;
	int ctl = open_ctl(), rd, status, asleep, i;
	long before;
	char where[256];
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
	/* Up to 20 s, in 10 ms steps, for the child to sleep in read() (the harness allows 30). */
	for (i = 0; !(asleep = asleep_in_timer_read(pid, where, sizeof(where))) && i < 2000; i++)
		usleep(10000);
	if (!asleep)
		kill(pid, SIGKILL);
	ASSERT_TRUE(asleep) TH_LOG("the reader never slept in read(): %s", where);
	before = sleeps(pid);
	close(u.fd);
	usleep(500000);
	/* Half a second after the close: not returned, and still asleep in read(). */
	EXPECT_EQ(0, waitpid(pid, &status, WNOHANG));
	EXPECT_TRUE(asleep_in_timer_read(pid, where, sizeof(where)))
		TH_LOG("after the close: %s", where);
	p.fd = rd;
	EXPECT_EQ(0, poll(&p, 1, 300));
	EXPECT_EQ(0, p.revents);
	EXPECT_TRUE(asleep_in_timer_read(pid, where, sizeof(where)))
		TH_LOG("after the poll: %s", where);
	TH_LOG("the reader went to sleep %ld times between the close and now", sleeps(pid) - before);
	kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	EXPECT_EQ(0, close(rd));
	close(ctl);
}

HARNESS_MAIN_WITH_LIST
