/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers the selftests share: module refcount, kernel log, open fds. */
#ifndef UTIMER_HELPERS_H
#define UTIMER_HELPERS_H

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/klog.h>
#include <unistd.h>

/* rust_utimer's reference count in /sys/module; -1 where it has none (upstream's are built in). */
static inline int module_refcnt(void)
{
	FILE *f = fopen("/sys/module/rust_utimer/refcnt", "r");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* How many times the kernel log has `want` (klogctl; the tests run as root); -1 on error. */
static inline int klog_count(const char *want)
{
	static char buf[1 << 20];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof(buf) - 1), count = 0;

	if (n < 0)
		return -1;
	buf[n] = 0;
	for (char *p = buf; (p = strstr(p, want)); p++)
		count++;
	return count;
}

/* How many fds this process has open. */
static inline int count_fds(void)
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

#endif /* UTIMER_HELPERS_H */
