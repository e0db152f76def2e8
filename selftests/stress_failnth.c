// SPDX-License-Identifier: GPL-2.0
/*
 * CREATE under fault injection, run in the guest as root:
 *
 *   stress_failnth [--plan]
 *
 * Fails each fault-injection point of CREATE in turn (/proc/thread-self/fail-nth with failslab
 * and fail_usercopy, as syzkaller does) until CREATE succeeds.  Without fault injection in the
 * kernel, every result is a SKIP.
 *
 * It ends with the capacity check: no timer left (debugfs), and every id can be created again.
 * Output: TAP (the plan first; --plan, with the same arguments, prints only its number), and
 * "# stat NAME VALUE" lines that testing/stress tabulates.  Environment: UTIMER_DEV.
 */
#define _GNU_SOURCE
#include "stress.h"

static void mode_failnth(void)
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
		static const char *const names[] = {
			"create_fails_cleanly_at_every_injection_point",
			"failed_create_leaves_no_fd_and_no_timer",
			"failed_create_loses_no_id",
			"fault_injection_leaves_every_id_free_and_recreatable",
		};

		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			ksft_test_result_code(KSFT_SKIP, names[i], "no fail-nth, failslab or "
					      "fail_usercopy (CONFIG_FAULT_INJECTION*, debugfs)");
		if (nth_fd >= 0)
			close(nth_fd);
		return;
	}
	next_fd = dup(0);
	close(next_fd);
	for (n = 1; n < 10000; n++) {
		int injected, err;

		if (pwrite(nth_fd, buf, snprintf(buf, sizeof(buf), "%d", n), 0) < 0)
			break;
		fd = new_timer(RES_1MS, &id);
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
		fd = new_timer(RES_1MS, &id);
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
	ksft_test_result(points > 0 && wrong_errno == 0,
			 "create_fails_cleanly_at_every_injection_point\n");
	ksft_test_result(fd_left == 0 && listed == 0, "failed_create_leaves_no_fd_and_no_timer\n");
	ksft_test_result(id_lost == 0, "failed_create_loses_no_id\n");
	capacity_check("fault_injection");
}

int main(int argc, char **argv)
{
	int plan_only = take_flag(&argc, argv, "--plan");

	if (argc != 1) {
		fprintf(stderr, "usage: stress_failnth [--plan]\n");
		return 2;
	}
	plan_or_print(4, plan_only);
	open_ctl_or_bail();
	mode_failnth();
	close(ctl);
	ksft_finished();
}
