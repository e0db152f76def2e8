// SPDX-License-Identifier: GPL-2.0
/*
 * utimer: userspace-driven ALSA timers from the shell.
 *
 *   utimer run (-n NS | -r RATE -p FRAMES) [--id ID] [-i US | -u PORT] [-D DEVICE]
 *   utimer list
 *   utimer setup [--id ID]
 *
 * `run` creates a timer (timer ID with --id, else the lowest free one; rust_utimer's
 * UTIMER_IOCTL_CREATE_EXT, or upstream's CREATE on a DEVICE without it), prints
 * "id=N resolution=NS source=-1.4.N" on stdout and triggers it
 * once for each line read from stdin (the default), every US microseconds (-i), or for each
 * datagram received on UDP PORT (-u); it ends on end of input, SIGINT or SIGTERM, prints
 * "triggers=N" and destroys the timer.  -r/-p give the resolution snd-aloop needs for RATE Hz
 * and FRAMES frames per period, exactly as the kernel computes it (utimer_resolution()).
 * `list` prints the live timers (debugfs: root only).  `setup` prints what makes any ALSA program
 * the clock of snd-aloop on timer ID (default 0) through the utimer PCM (tools/alsa-plugin): the
 * modprobe.d line, the asoundrc snippet, and whether this user is in the audio group.
 *
 * Exit status: 0 done, 1 other failure, 2 usage (a resolution out of range, an ID not below
 * max_timers), 3 rust_utimer not loaded, 4 permission denied, 5 no timer free (max_timers, the
 * user's max_user_timers, or timer ID is taken).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../uapi/rust_utimer.h"

#define LISTING "/sys/kernel/debug/rust_utimer/timers"

enum { OK, FAILED, USAGE, NOT_LOADED, NO_PERMISSION, NO_TIMER_FREE };

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static int usage(void)
{
	fprintf(stderr, "usage: utimer run (-n NS | -r RATE -p FRAMES) [--id ID] [-i US | -u PORT] "
			"[-D DEVICE]\n"
			"       utimer list\n"
			"       utimer setup [--id ID]\n");
	return USAGE;
}

/* An exit status and a message that says what to do, for a failed open or CREATE. */
static int explain(const char *what, int err)
{
	switch (err) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		fprintf(stderr, "utimer: %s: %s: rust_utimer is not loaded (modprobe rust_utimer)\n",
			what, strerror(err));
		return NOT_LOADED;
	case EACCES:
	case EPERM:
		fprintf(stderr, "utimer: %s: %s: join the audio group (udev/60-rust-utimer.rules "
			"gives it /dev/utimer) or run as root\n", what, strerror(err));
		return NO_PERMISSION;
	case ENOSPC:
		fprintf(stderr, "utimer: %s: %s: all max_timers timers exist "
			"(/sys/module/rust_utimer/parameters/max_timers)\n", what, strerror(err));
		return NO_TIMER_FREE;
	case EDQUOT:
		fprintf(stderr, "utimer: %s: %s: you hold max_user_timers timers already "
			"(/sys/module/rust_utimer/parameters/max_user_timers)\n", what, strerror(err));
		return NO_TIMER_FREE;
	case EBUSY:
		fprintf(stderr, "utimer: %s: %s: the timer id is taken (utimer list shows the live "
			"timers)\n", what, strerror(err));
		return NO_TIMER_FREE;
	case EINVAL:
		/* The resolution is checked before CREATE_EXT: what is left is the id. */
		fprintf(stderr, "utimer: %s: %s: the id must be below max_timers "
			"(/sys/module/rust_utimer/parameters/max_timers)\n", what, strerror(err));
		return USAGE;
	default:
		fprintf(stderr, "utimer: %s: %s\n", what, strerror(err));
		return FAILED;
	}
}

static int list(void)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(LISTING, "r");

	if (!f) {
		int err = errno;

		if (access("/sys/module/rust_utimer", F_OK))
			return explain(LISTING, ENOENT);
		fprintf(stderr, "utimer: %s: %s: the listing needs root and debugfs "
			"(mount -t debugfs none /sys/kernel/debug)\n", LISTING, strerror(err));
		return err == EACCES || err == EPERM ? NO_PERMISSION : FAILED;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return OK;
}

/* Wait for the next event of the chosen source: 1 for a tick, 0 at the end. */
static int next_event(int udp, unsigned long interval_us, struct timespec *due)
{
	char line[256], dgram[64];

	if (udp >= 0)
		return recv(udp, dgram, sizeof(dgram), 0) >= 0;
	if (interval_us) {
		due->tv_nsec += (long)(interval_us % 1000000) * 1000;
		due->tv_sec += interval_us / 1000000 + due->tv_nsec / 1000000000;
		due->tv_nsec %= 1000000000;
		return clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, due, NULL) == 0;
	}
	/* A line longer than the buffer is one tick, as the whole line. */
	while (fgets(line, sizeof(line), stdin))
		if (strchr(line, '\n') || feof(stdin))
			return 1;
	return 0;
}

/*
 * CREATE_EXT, with the id if `want_id`; on a device without it (upstream's /dev/snd/timer),
 * upstream's CREATE when no id is asked for.  0 or an exit status, the message printed.
 */
static int create_timer(int ctl, __u64 resolution, int want_id, unsigned int id,
			const char *dev, struct utimer_create *c)
{
	struct utimer_uinfo u = { .resolution = resolution };

	*c = (struct utimer_create){ .resolution = resolution,
				     .flags = want_id ? UTIMER_CREATE_ID : 0, .id = id };
	if (!ioctl(ctl, UTIMER_IOCTL_CREATE_EXT, c))
		return OK;
	if (errno != ENOTTY)
		return explain("create", errno);
	if (want_id) {
		fprintf(stderr, "utimer: %s has no UTIMER_IOCTL_CREATE_EXT: --id needs rust_utimer's "
			"%s\n", dev, UTIMER_DEVICE);
		return FAILED;
	}
	if (ioctl(ctl, UTIMER_IOCTL_CREATE, &u) < 0)
		return explain("create", errno);
	c->id = u.id;
	c->fd = u.fd;
	return OK;
}

/* --id, of run and setup. */
static const struct option id_option[] = {
	{ "id", required_argument, NULL, 'I' },
	{ 0 }
};

/* A timer id from @s (decimal, 0x hex or 0 octal) into @id; -1 when it is not one up to @max. */
static int parse_id(const char *s, unsigned long long max, unsigned long long *id)
{
	char *end;

	errno = 0;
	*id = strtoull(s, &end, 0);
	return errno || *end || !*s || *id > max ? -1 : 0;
}

static int run(int argc, char **argv)
{
	unsigned long long ns = 0, rate = 0, frames = 0;
	unsigned long interval_us = 0;
	const char *dev = UTIMER_DEVICE;
	struct sigaction sa = { .sa_handler = on_signal };
	struct utimer_create u = { 0 };
	unsigned long long triggers = 0, id = 0;
	struct timespec due;
	int opt, port = -1, udp = -1, fd, status = OK, want_id = 0;

	while ((opt = getopt_long(argc, argv, "n:r:p:i:u:D:", id_option, NULL)) != -1) {
		switch (opt) {
		case 'I':
			/* The kernel refuses an id not below max_timers (exit 2 then). */
			if (parse_id(optarg, 0xffffffffULL, &id) < 0)
				return usage();
			want_id = 1;
			break;
		case 'n': ns = strtoull(optarg, NULL, 0); break;
		case 'r': rate = strtoull(optarg, NULL, 0); break;
		case 'p': frames = strtoull(optarg, NULL, 0); break;
		case 'i': interval_us = strtoul(optarg, NULL, 0); break;
		case 'u': port = atoi(optarg); break;
		case 'D': dev = optarg; break;
		default: return usage();
		}
	}
	if (optind != argc || !ns == !(rate || frames) ||
	    (!ns && !(u.resolution = utimer_resolution(rate, frames))) ||
	    (interval_us && port >= 0) || port > 65535)
		return usage();
	if (ns)
		u.resolution = ns;
	if (u.resolution < UTIMER_MIN_RESOLUTION || u.resolution > UTIMER_MAX_RESOLUTION) {
		fprintf(stderr, "utimer: resolution %llu ns: it must be %llu to %llu ns (one tick "
			"per TRIGGER for every consumer)\n", (unsigned long long)u.resolution,
			UTIMER_MIN_RESOLUTION, UTIMER_MAX_RESOLUTION);
		return USAGE;
	}
	if (port >= 0) {
		struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };

		udp = socket(AF_INET, SOCK_DGRAM, 0);
		if (udp < 0 || bind(udp, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
			fprintf(stderr, "utimer: UDP port %d: %s\n", port, strerror(errno));
			return FAILED;
		}
	}
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return explain(dev, errno);
	status = create_timer(fd, u.resolution, want_id, (unsigned int)id, dev, &u);
	close(fd);
	if (status != OK)
		return status;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("id=%u resolution=%llu source=-1.%d.%u\n", u.id, (unsigned long long)u.resolution,
	       UTIMER_GLOBAL_DEVICE, u.id);
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &due);
	while (!stop && next_event(udp, interval_us, &due)) {
		if (stop)
			break;
		if (ioctl(u.fd, UTIMER_IOCTL_TRIGGER) < 0) {
			status = explain("trigger", errno);
			break;
		}
		triggers++;
	}
	printf("triggers=%llu\n", triggers);
	close(u.fd);
	return status;
}

/* Whether this process is in the group NAME (as its primary or a supplementary group). */
static int in_group(const char *name)
{
	gid_t groups[256];
	struct group *g = getgrnam(name);
	int i, n = getgroups(256, groups);

	if (!g)
		return 0;
	if (getegid() == g->gr_gid)
		return 1;
	for (i = 0; i < n; i++)
		if (groups[i] == g->gr_gid)
			return 1;
	return 0;
}

/*
 * The setup that lets any ALSA program be the clock of snd-aloop through the utimer PCM
 * (tools/alsa-plugin), for timer ID: what to write where, and whether this user is ready.
 */
static int setup(int argc, char **argv)
{
	unsigned long long id = 0;
	int opt;

	/* No kernel to ask: the largest id of the largest max_timers (4096). */
	while ((opt = getopt_long(argc, argv, "", id_option, NULL)) != -1)
		if (opt != 'I' || parse_id(optarg, 4095, &id) < 0)
			return usage();
	if (optind != argc)
		return usage();
	printf("# snd-aloop on timer %llu, at every boot (as root):\n"
	       "echo 'options snd-aloop timer_source=-1.%d.%llu' > /etc/modprobe.d/snd-aloop-utimer.conf\n"
	       "echo rust_utimer > /etc/modules-load.d/rust_utimer.conf\n"
	       "# the utimer PCM (make install puts its plugin in place), in ~/.asoundrc:\n"
	       "pcm.netaudio { type utimer; slave.pcm \"hw:Loopback,0,0\"; timer %llu }\n"
	       "# then: WRITER | aplay -D netaudio ...; arecord -D hw:Loopback,1,0 ... (writer first)\n",
	       id, UTIMER_GLOBAL_DEVICE, id, id);
	if (in_group("audio") || geteuid() == 0)
		printf("# this user may use %s and the loopback (audio group or root)\n",
		       UTIMER_DEVICE);
	else
		printf("# this user is not in the audio group: sudo usermod -aG audio $USER, "
		       "then log in again\n");
	return OK;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "run"))
		return run(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "list"))
		return list();
	if (argc >= 2 && !strcmp(argv[1], "setup"))
		return setup(argc - 1, argv + 1);
	return usage();
}
