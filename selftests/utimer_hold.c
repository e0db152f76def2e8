// SPDX-License-Identifier: GPL-2.0
/*
 * Timers for selftests/lifecycle.sh, which (re)loads the module around them:
 *
 *   utimer_hold create N [--full]	creates N timers (ids 0 to N-1), triggers each once, closes
 *					them; --full: then the next CREATE must be ENOSPC
 *   utimer_hold hold [--aloop]		creates a timer (and an snd-aloop stream on it), prints its
 *					id, and holds it until stdin closes
 *
 * Exit status 0, or 1 with the reason on stderr.  Environment: UTIMER_DEV.
 */
#define _GNU_SOURCE
#include <sys/resource.h>

#include "stress.h"

/* create N [--full]: ids 0 to n-1 in order, one TRIGGER each; with full, then ENOSPC. */
static int create_timers(int n, int full)
{
	int fds[4096], i, ok = 1, fd;
	unsigned int id = 0;
	struct rlimit rl = { 8192, 8192 };

	setrlimit(RLIMIT_NOFILE, &rl);
	if (n > 4096)
		n = 4096;
	for (i = 0; i < n; i++) {
		fds[i] = fd = new_timer(RES_1MS, &id);
		if (fd < 0 || id != (unsigned int)i || ioctl(fd, UTIMER_IOCTL_TRIGGER)) {
			fprintf(stderr, "CREATE %d: %s, id %u\n", i, fd < 0 ? strerror(-fd) : "ok", id);
			ok = 0;
			break;
		}
	}
	if (ok && full && (fd = new_timer(RES_1MS, NULL)) != -ENOSPC) {
		fprintf(stderr, "CREATE beyond %d: %d, want ENOSPC\n", n, fd);
		ok = 0;
	}
	while (i-- > 0)
		close(fds[i]);
	return ok ? 0 : 1;
}

/* hold [--aloop]: one timer (and a running stream on it), its id on stdout, until stdin ends. */
static int hold_timer(int with_aloop)
{
	unsigned int id = 0;
	int fd = new_timer(RES_1MS, &id);
	struct cable c = { 0 };
	char b;

	if (fd < 0) {
		fprintf(stderr, "CREATE: %s\n", strerror(-fd));
		return 1;
	}
	if (with_aloop && cable_open(&c, id, 8, 4, SND_PCM_NONBLOCK) < 0) {
		fprintf(stderr, "aloop on timer %u failed\n", id);
		return 1;
	}
	printf("%u\n", id);
	fflush(stdout);
	while (read(0, &b, 1) > 0)
		;
	cable_close(&c);
	close(fd);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: utimer_hold create N [--full]\n"
		"       utimer_hold hold [--aloop]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int create_cmd = argc >= 3 && argc <= 4 && !strcmp(argv[1], "create");
	int hold_cmd = argc >= 2 && argc <= 3 && !strcmp(argv[1], "hold");
	const char *flag = create_cmd ? argv[3] : hold_cmd ? argv[2] : NULL;

	if (!create_cmd && !hold_cmd)
		usage();
	if (flag && strcmp(flag, create_cmd ? "--full" : "--aloop"))
		usage();
	ctl = open_ctl();
	if (ctl < 0) {
		fprintf(stderr, "open %s: %s\n", utimer_dev(), strerror(errno));
		return 1;
	}
	if (create_cmd)
		return create_timers(atoi(argv[2]), flag != NULL);
	return hold_timer(flag != NULL);
}
