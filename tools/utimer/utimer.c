// SPDX-License-Identifier: GPL-2.0
/*
 * utimer: userspace-driven ALSA timers from the shell.
 *
 *   utimer run [-n NS | -r RATE -p FRAMES] [--id ID] [-i US | -u PORT] [-D DEVICE]
 *   utimer create --persist (-n NS | -r RATE -p FRAMES) [--id ID] [--holdover PERIODS]
 *   utimer remove ID
 *   utimer list
 *   utimer setup [--id ID] [-n NS | -r RATE -p FRAMES] [--holdover PERIODS]
 *
 * `run` drives a timer: with --id, timer ID if it is a persistent timer (UTIMER_IOCTL_ATTACH: it
 * becomes the timer's writer; the resolution is the timer's, and -n/-r/-p, which may then be
 * left out, must agree with it), else a timer it creates (timer ID with --id, else the lowest
 * free one; rust_utimer's UTIMER_IOCTL_CREATE_EXT, or upstream's CREATE on a DEVICE without it:
 * -D /dev/snd/timer, or by default where /dev/utimer does not exist, a kernel's own utimers,
 * CONFIG_SND_UTIMER; their CREATE gives the lowest free id, which must then be ID).
 * It prints "id=N resolution=NS source=-1.4.N" on stdout, with " mode=attached" at the end of
 * the line when it attached (a created timer's line is the same as ever), and triggers the
 * timer once for each line read from stdin (the default), every US microseconds (-i), or for
 * each datagram received on UDP PORT (-u); it ends on end of input, SIGINT or SIGTERM, prints
 * "triggers=N" and destroys the timer it created, or detaches from the persistent one (which
 * lives on).  -r/-p give the resolution snd-aloop needs for RATE Hz and FRAMES frames per
 * period, exactly as the kernel computes it (utimer_resolution()).
 * `create --persist` makes a persistent timer (UTIMER_CREATE_PERSIST; root, CAP_SYS_ADMIN): it
 * belongs to no process, lives until `remove` or the module's unload, snd-aloop may open it
 * before any writer runs, and `run --id` drives it; --holdover is the number of periods without
 * a TRIGGER after which the module ticks it itself (0: never; default the module's holdover
 * parameter).  It prints the same "id=..." line.  `remove` destroys persistent timer ID (root;
 * not while a writer is attached).
 * `list` prints the live timers (debugfs: root only) as a table, in the listing's own columns
 * (persistent yes/no, the writer's pid or -, driven/holdover, holdover ticks where the module
 * lists them).  `setup` prints what makes any ALSA program the clock of snd-aloop on timer ID
 * (default 0) at every boot: the modprobe.d lines (rust_utimer's timers= for a persistent timer
 * at RATE/FRAMES, 48000/480 by default, and snd-aloop's timer_source), the asoundrc snippet of
 * the utimer PCM (tools/alsa-plugin), and whether this user is in the audio group.
 *
 * Exit status: 0 done, 1 other failure, 2 usage (a resolution or holdover out of range, an ID
 * not below max_timers, a resolution other than the persistent timer's, none given where a timer
 * must be created), 3 rust_utimer not loaded, 4 permission denied (the audio group for
 * /dev/utimer; root, CAP_SYS_ADMIN, for create --persist and remove), 5 no timer free or busy
 * (max_timers, the user's max_user_timers, timer ID is taken, the persistent timer has a writer
 * already, remove while a writer is attached), 6 no such timer (remove: no persistent timer ID).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
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
/* A kernel's own utimers (CONFIG_SND_UTIMER): upstream's CREATE on the ALSA timer device. */
#define UPSTREAM_DEVICE "/dev/snd/timer"
#define PARAMETERS "/sys/module/rust_utimer/parameters/"

enum { OK, FAILED, USAGE, NOT_LOADED, NO_PERMISSION, NO_TIMER_FREE, NO_SUCH_TIMER };

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

static int usage(void)
{
	fprintf(stderr, "usage: utimer run [-n NS | -r RATE -p FRAMES] [--id ID] [-i US | -u PORT] "
			"[-D DEVICE]\n"
			"       utimer create --persist (-n NS | -r RATE -p FRAMES) [--id ID] "
			"[--holdover PERIODS]\n"
			"       utimer remove ID\n"
			"       utimer list\n"
			"       utimer setup [--id ID] [-n NS | -r RATE -p FRAMES] "
			"[--holdover PERIODS]\n");
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
			"(" PARAMETERS "max_timers)\n", what, strerror(err));
		return NO_TIMER_FREE;
	case EDQUOT:
		fprintf(stderr, "utimer: %s: %s: you hold max_user_timers timers already "
			"(" PARAMETERS "max_user_timers)\n", what, strerror(err));
		return NO_TIMER_FREE;
	case EBUSY:
		fprintf(stderr, "utimer: %s: %s: the timer id is taken (utimer list shows the live "
			"timers)\n", what, strerror(err));
		return NO_TIMER_FREE;
	case EINVAL:
		/* The resolution is checked before CREATE_EXT: what is left is the id. */
		fprintf(stderr, "utimer: %s: %s: the id must be below max_timers "
			"(" PARAMETERS "max_timers)\n", what, strerror(err));
		return USAGE;
	default:
		fprintf(stderr, "utimer: %s: %s\n", what, strerror(err));
		return FAILED;
	}
}

/* The whole of FILE, NUL-terminated, or NULL with errno set (debugfs files have no size). */
static char *read_all(const char *path)
{
	size_t len = 0, size = 8192, n;
	char *buf = malloc(size), *more;
	FILE *f = fopen(path, "r");

	if (!f || !buf) {
		int err = f ? ENOMEM : errno;

		if (f)
			fclose(f);
		free(buf);
		errno = err;
		return NULL;
	}
	while ((n = fread(buf + len, 1, size - len - 1, f)) > 0) {
		len += n;
		if (size - len > 1)
			continue;
		more = realloc(buf, size * 2);
		if (!more) {
			fclose(f);
			free(buf);
			errno = ENOMEM;
			return NULL;
		}
		buf = more;
		size *= 2;
	}
	fclose(f);
	buf[len] = 0;
	return buf;
}

/*
 * The listing's columns: its line "# id uid pid ... comm" names them, the last (comm) the rest
 * of the line, as it may contain spaces.  The format may grow; older modules have fewer columns.
 */
#define MAX_COLUMNS 32

/* split(LINE, N, FIELDS): LINE (modified) into at most N fields, the last the rest; the count. */
static int split(char *line, int n, char **fields)
{
	int i = 0;

	while (i < n) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line)
			break;
		if (i == n - 1) {
			fields[i++] = line;
			break;
		}
		fields[i++] = line;
		line += strcspn(line, " \t");
		if (*line)
			*line++ = 0;
	}
	return i;
}

/* The header line of the listing's columns. */
static int is_column_header(const char *line)
{
	return !strncmp(line, "# id ", 5);
}

/*
 * The listing's value in column COLUMN for timer ID, into VALUE: 0, or -1 when the listing is not
 * readable (not root, no debugfs), has no such column (an older module), or no timer ID.
 */
static int listing_value(unsigned int id, const char *column, char *value, size_t size)
{
	char *buf = read_all(LISTING), *line, *next, *names[MAX_COLUMNS], *fields[MAX_COLUMNS];
	int ncols = 0, col = -1, i, n, found = -1;

	if (!buf)
		return -1;
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (is_column_header(line)) {
			ncols = split(line + 2, MAX_COLUMNS, names);
			for (i = 0, col = -1; i < ncols; i++)
				if (!strcmp(names[i], column))
					col = i;
			continue;
		}
		if (*line == '#' || col < 0)
			continue;
		n = split(line, ncols, fields);
		if (n > col && n > 0 && strtoul(fields[0], NULL, 10) == id &&
		    isdigit((unsigned char)fields[0][0])) {
			snprintf(value, size, "%s", fields[col]);
			found = 0;
			break;
		}
	}
	free(buf);
	return found;
}

/* A cell of the table as `list` shows it: persistent yes/no, no writer as "-". */
static const char *shown(const char *column, const char *value)
{
	if (!strcmp(column, "persistent"))
		return !strcmp(value, "1") ? "yes" : !strcmp(value, "0") ? "no" : value;
	if (!strcmp(column, "writer") && !strcmp(value, "0"))
		return "-";
	return value;
}

static int is_number(const char *s)
{
	if (!strcmp(s, "-"))
		return 1;
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/*
 * The listing as a table: its comment lines as they are, then its columns aligned (numbers to the
 * right), the header line still starting with "#" and every column where the listing has it (awk
 * '$4' is the resolution whatever the module's version).  A listing without its header line of
 * column names is printed as it is.
 */
static void print_table(char *buf)
{
	char *line, *next, *names[MAX_COLUMNS], **cells = NULL, **more;
	int ncols = 0, nrows = 0, i, r, n, width[MAX_COLUMNS], right[MAX_COLUMNS];

	for (line = buf; *line; line = next + 1) {
		next = strchr(line, '\n');
		if (!next)
			next = line + strlen(line) - 1;
		if (is_column_header(line))
			break;
	}
	if (!*line) {
		fputs(buf, stdout);
		return;
	}
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (is_column_header(line) && !ncols) {
			ncols = split(line + 2, MAX_COLUMNS, names);
			continue;
		}
		if (*line == '#' || !ncols) {
			puts(line);
			continue;
		}
		if (!*line)
			continue;
		more = realloc(cells, sizeof(*cells) * ncols * (nrows + 1));
		if (!more)
			break;
		cells = more;
		n = split(line, ncols, cells + nrows * ncols);
		for (i = n; i < ncols; i++)
			cells[nrows * ncols + i] = "";
		for (i = 0; i < ncols; i++)
			cells[nrows * ncols + i] = (char *)shown(names[i], cells[nrows * ncols + i]);
		nrows++;
	}
	for (i = 0; i < ncols; i++) {
		width[i] = strlen(names[i]);
		right[i] = i < ncols - 1;
		for (r = 0; r < nrows; r++) {
			const char *c = cells[r * ncols + i];

			if ((int)strlen(c) > width[i])
				width[i] = strlen(c);
			if (!is_number(c))
				right[i] = 0;
		}
	}
	for (r = -1; r < nrows; r++) {
		fputs(r < 0 ? "#" : " ", stdout);
		for (i = 0; i < ncols; i++) {
			const char *c = r < 0 ? names[i] : cells[r * ncols + i];

			if (i == ncols - 1)
				printf(" %s\n", c);
			else
				printf(" %*s", right[i] ? width[i] : -width[i], c);
		}
	}
	free(cells);
}

static int list(void)
{
	char *buf = read_all(LISTING);

	if (!buf) {
		int err = errno;

		if (access("/sys/module/rust_utimer", F_OK))
			return explain(LISTING, ENOENT);
		fprintf(stderr, "utimer: %s: %s: the listing needs root and debugfs "
			"(mount -t debugfs none /sys/kernel/debug)\n", LISTING, strerror(err));
		return err == EACCES || err == EPERM ? NO_PERMISSION : FAILED;
	}
	print_table(buf);
	free(buf);
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
 * upstream's CREATE, whose id is the lowest free one: with `want_id` it must be `id`.  0 or an
 * exit status, the message printed.
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
	if (ioctl(ctl, UTIMER_IOCTL_CREATE, &u) < 0) {
		if (errno == ENOTTY) {
			fprintf(stderr, "utimer: %s makes no timers: rust_utimer is not loaded "
				"(modprobe rust_utimer), and this kernel has no utimers of its own "
				"(CONFIG_SND_UTIMER)\n", dev);
			return NOT_LOADED;
		}
		return explain("create", errno);
	}
	if (want_id && u.id != id) {
		close(u.fd);
		fprintf(stderr, "utimer: %s (the kernel's own utimers) gave timer %u, the lowest free "
			"id, not timer %u: use --id %u (and snd-aloop's timer_source=-1.%d.%u), close "
			"what holds timer %u, or load rust_utimer, whose timers take the id asked "
			"for\n", dev, u.id, id, u.id, UTIMER_GLOBAL_DEVICE, u.id, id);
		return NO_TIMER_FREE;
	}
	c->id = u.id;
	c->fd = u.fd;
	return OK;
}

/* " (pid P)" for the writer of timer ID, from the listing, or "" where it does not say. */
static const char *writer_of(unsigned int id, char *buf, size_t size)
{
	char pid[32];

	if (listing_value(id, "writer", pid, sizeof(pid)) || !strcmp(pid, "0"))
		return "";
	snprintf(buf, size, " (pid %s)", pid);
	return buf;
}

/*
 * ATTACH to persistent timer ID: OK with *wfd the writer's fd, OK with *wfd -1 when there is no
 * persistent timer to attach to (none has the id; a device or module without ATTACH), or the
 * exit status, the message printed.
 */
static int attach_timer(int ctl, unsigned int id, int *wfd)
{
	struct utimer_attach a = { .id = id };
	char persistent[8], pid[48];

	*wfd = -1;
	if (!ioctl(ctl, UTIMER_IOCTL_ATTACH, &a)) {
		*wfd = a.fd;
		return OK;
	}
	switch (errno) {
	case ENOENT:
	case ENOTTY:
	case EINVAL:
		/* Nothing to attach to: create it (which says what is wrong with the id). */
		return OK;
	case EBUSY:
		/* A writer, or no persistent timer: an fd from CREATE owns it.  The listing says. */
		if (listing_value(id, "persistent", persistent, sizeof(persistent))) {
			fprintf(stderr, "utimer: timer %u: %s: timer %u has a writer already, or the "
				"timer id is taken by a program's own timer (utimer list, as root, "
				"shows which)\n", id, strerror(EBUSY), id);
			return NO_TIMER_FREE;
		}
		if (!strcmp(persistent, "1")) {
			fprintf(stderr, "utimer: timer %u has a writer already%s: one writer at a "
				"time\n", id, writer_of(id, pid, sizeof(pid)));
			return NO_TIMER_FREE;
		}
		return explain("create", EBUSY);
	default:
		return explain("attach", errno);
	}
}

/* Field NAME ("utimer-resolution") of fd FD's fdinfo: 0, or -1 when it does not say. */
static int fd_field(int fd, const char *name, unsigned long long *value)
{
	char path[64], line[256], fmt[64];
	int found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	snprintf(fmt, sizeof(fmt), "%s: %%llu", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f))
		if (sscanf(line, fmt, value) == 1)
			found = 0;
	fclose(f);
	return found;
}

/* The resolution of the timer of fd FD, from its fdinfo: 0, or -1 when it does not say. */
static int fd_resolution(int fd, unsigned long long *resolution)
{
	return fd_field(fd, "utimer-resolution", resolution);
}

static double mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* --id, of run and setup; --persist and --holdover, of create and setup. */
static const struct option id_option[] = {
	{ "id", required_argument, NULL, 'I' },
	{ "persist", no_argument, NULL, 'P' },
	{ "holdover", required_argument, NULL, 'H' },
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

/*
 * The options that name a timer, --id and the resolution (-n, or -r and -p): what was given, and
 * the resolution they make.
 */
struct resolution_opts {
	int given_ns, given_rate, given_frames, given_id;
	unsigned long long ns, rate, frames, id;
	__u64 resolution;
};

/*
 * Option OPT of the timer's (--id up to MAX_ID): 1 if it was one, -1 if its value is no number
 * or out of range, 0 if OPT is another.
 */
static int resolution_opt(struct resolution_opts *r, int opt, const char *arg,
			  unsigned long long max_id)
{
	unsigned long long v;

	switch (opt) {
	case 'n': case 'r': case 'p':
		if (parse_id(arg, ~0ULL, &v) < 0)
			return -1;
		break;
	case 'I':
		if (parse_id(arg, max_id, &r->id) < 0)
			return -1;
		r->given_id = 1;
		return 1;
	default:
		return 0;
	}
	if (opt == 'n')
		r->given_ns = 1, r->ns = v;
	else if (opt == 'r')
		r->given_rate = 1, r->rate = v;
	else
		r->given_frames = 1, r->frames = v;
	return 1;
}

/*
 * The resolution from the options: 0 (r->resolution 0 if none was given and NONE_OK), or an exit
 * status, the message printed.
 */
static int resolution_of(struct resolution_opts *r, int none_ok)
{
	if (r->given_ns && (r->given_rate || r->given_frames))
		return usage();
	if (!r->given_ns && !r->given_rate && !r->given_frames) {
		r->resolution = 0;
		return none_ok ? OK : usage();
	}
	if (r->given_ns) {
		r->resolution = r->ns;
	} else {
		/* Both, and a pair the kernel accepts. */
		if (!r->given_rate || !r->given_frames)
			return usage();
		r->resolution = utimer_resolution(r->rate, r->frames);
		if (!r->resolution)
			return usage();
	}
	if (r->resolution < UTIMER_MIN_RESOLUTION || r->resolution > UTIMER_MAX_RESOLUTION) {
		fprintf(stderr, "utimer: resolution %llu ns: it must be %llu to %llu ns (one tick "
			"per TRIGGER for every consumer)\n", (unsigned long long)r->resolution,
			UTIMER_MIN_RESOLUTION, UTIMER_MAX_RESOLUTION);
		return USAGE;
	}
	return OK;
}

/* --holdover's value into *periods: 0, or an exit status, the message printed. */
static int holdover_of(const char *s, unsigned int *periods)
{
	unsigned long long v;

	if (parse_id(s, ~0ULL, &v) < 0 || v > UTIMER_MAX_HOLDOVER) {
		fprintf(stderr, "utimer: holdover %s: it must be 0 (never) to %d periods\n", s,
			UTIMER_MAX_HOLDOVER);
		return USAGE;
	}
	*periods = v;
	return OK;
}

static int run(int argc, char **argv)
{
	struct resolution_opts r = { 0 };
	unsigned long interval_us = 0;
	const char *dev = UTIMER_DEVICE;
	struct sigaction sa = { .sa_handler = on_signal };
	struct utimer_create u = { 0 };
	unsigned long long triggers = 0, id, resolution, holdover;
	double last;
	struct timespec due;
	int opt, port = -1, udp = -1, fd, status = OK, want_id, wfd = -1, dev_given = 0;

	/* The kernel refuses an id not below max_timers (exit 2 then). */
	while ((opt = getopt_long(argc, argv, "n:r:p:i:u:D:", id_option, NULL)) != -1) {
		switch (resolution_opt(&r, opt, optarg, 0xffffffffULL)) {
		case 1: continue;
		case -1: return usage();
		}
		switch (opt) {
		case 'i': interval_us = strtoul(optarg, NULL, 0); break;
		case 'u': port = atoi(optarg); break;
		case 'D': dev = optarg; dev_given = 1; break;
		default: return usage();
		}
	}
	if (optind != argc || (interval_us && port >= 0) || port > 65535)
		return usage();
	want_id = r.given_id;
	id = r.id;
	/* Without --id there is nothing to attach to: a resolution is needed. */
	status = resolution_of(&r, want_id);
	if (status != OK)
		return status;
	if (port >= 0) {
		struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };

		udp = socket(AF_INET, SOCK_DGRAM, 0);
		if (udp < 0 || bind(udp, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
			fprintf(stderr, "utimer: UDP port %d: %s\n", port, strerror(errno));
			return FAILED;
		}
	}
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	/* No rust_utimer: the kernel's own utimers, where it has them (create_timer says if not). */
	if (fd < 0 && errno == ENOENT && !dev_given) {
		dev = UPSTREAM_DEVICE;
		fd = open(dev, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return explain(UTIMER_DEVICE, ENOENT);
	}
	if (fd < 0)
		return explain(dev, errno);
	if (want_id)
		status = attach_timer(fd, (unsigned int)id, &wfd);
	if (status == OK && wfd < 0) {
		if (!r.resolution) {
			fprintf(stderr, "utimer: no persistent timer %llu to attach to: give a "
				"resolution (-n NS or -r RATE -p FRAMES) to create timer %llu\n", id, id);
			status = USAGE;
		} else {
			status = create_timer(fd, r.resolution, want_id, (unsigned int)id, dev, &u);
		}
	}
	close(fd);
	if (status != OK)
		return status;
	resolution = r.resolution;
	if (wfd >= 0) {
		u.id = id;
		u.fd = wfd;
		if (fd_resolution(wfd, &resolution)) {
			if (!r.resolution) {
				fprintf(stderr, "utimer: timer %llu: its resolution is not in "
					"/proc/self/fdinfo/%d: give it (-n NS or -r RATE -p FRAMES)\n",
					id, wfd);
				close(wfd);
				return FAILED;
			}
			resolution = r.resolution;
		} else if (r.resolution && r.resolution != resolution) {
			fprintf(stderr, "utimer: timer %llu is a persistent timer of resolution %llu "
				"ns, not %llu ns: leave -n/-r/-p out, or give its own\n", id, resolution,
				(unsigned long long)r.resolution);
			close(wfd);
			return USAGE;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("id=%u resolution=%llu source=-1.%d.%u%s\n", u.id, resolution, UTIMER_GLOBAL_DEVICE,
	       u.id, wfd >= 0 ? " mode=attached" : "");
	fflush(stdout);

	/*
	 * Attached: after a pause the module may be ticking the timer itself (holdover).  Take the
	 * clock back before the TRIGGER (UTIMER_IOCTL_TAKE), so that it does not coincide with a
	 * holdover tick, which the ALSA core would merge with it: a period less.
	 */
	if (wfd < 0 || fd_field(u.fd, "utimer-holdover", &holdover))
		holdover = 0;
	last = mono_ns();
	clock_gettime(CLOCK_MONOTONIC, &due);
	while (!stop && next_event(udp, interval_us, &due)) {
		if (stop)
			break;
		if (holdover && mono_ns() - last > (holdover - 0.5) * (double)resolution &&
		    ioctl(u.fd, UTIMER_IOCTL_TAKE) < 0) {
			status = explain("take", errno);
			break;
		}
		last = mono_ns();
		if (ioctl(u.fd, UTIMER_IOCTL_TRIGGER) < 0) {
			status = explain("trigger", errno);
			break;
		}
		triggers++;
	}
	printf("triggers=%llu\n", triggers);
	/* Destroys the timer run created; detaches from a persistent one. */
	close(u.fd);
	return status;
}

/* Whether ID is not below the module's max_timers, as far as sysfs says. */
static int id_out_of_range(unsigned long long id)
{
	unsigned long long max;
	FILE *f = fopen(PARAMETERS "max_timers", "r");
	int out = 0;

	if (f) {
		out = fscanf(f, "%llu", &max) == 1 && id >= max;
		fclose(f);
	}
	return out;
}

/* A failed CREATE_EXT or REMOVE of a persistent timer: EINVAL of a module without them. */
static int no_persistent_timers(const char *what)
{
	fprintf(stderr, "utimer: %s: this rust_utimer has no persistent timers (a module older "
		"than this tool)\n", what);
	return FAILED;
}

static int create(int argc, char **argv)
{
	struct resolution_opts r = { 0 };
	struct utimer_create c = { 0 };
	int opt, fd, status, persist = 0;

	while ((opt = getopt_long(argc, argv, "n:r:p:", id_option, NULL)) != -1) {
		switch (resolution_opt(&r, opt, optarg, 0xffffffffULL)) {
		case 1: continue;
		case -1: return usage();
		}
		switch (opt) {
		case 'P':
			persist = 1;
			break;
		case 'H':
			status = holdover_of(optarg, &c.holdover);
			if (status != OK)
				return status;
			c.flags |= UTIMER_CREATE_HOLDOVER;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc)
		return usage();
	if (!persist) {
		/* A timer of this process's own would end with it. */
		fprintf(stderr, "utimer: create makes persistent timers only (--persist); "
			"utimer run creates a timer of its own\n");
		return USAGE;
	}
	status = resolution_of(&r, 0);
	if (status != OK)
		return status;
	c.resolution = r.resolution;
	c.flags |= UTIMER_CREATE_PERSIST;
	if (r.given_id) {
		c.flags |= UTIMER_CREATE_ID;
		c.id = r.id;
	}
	fd = open(UTIMER_DEVICE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return explain(UTIMER_DEVICE, errno);
	status = ioctl(fd, UTIMER_IOCTL_CREATE_EXT, &c);
	if (status < 0) {
		int err = errno;

		close(fd);
		if (err == EPERM || err == EACCES) {
			fprintf(stderr, "utimer: create: %s: a persistent timer needs root "
				"(CAP_SYS_ADMIN); or make it at boot with the module's timers= "
				"parameter (utimer setup prints the line)\n", strerror(err));
			return NO_PERMISSION;
		}
		if (err == EINVAL && !((c.flags & UTIMER_CREATE_ID) && id_out_of_range(r.id)))
			return no_persistent_timers("create");
		return explain("create", err);
	}
	close(fd);
	if (c.fd >= 0)
		close(c.fd);
	printf("id=%u resolution=%llu source=-1.%d.%u\n", c.id, (unsigned long long)c.resolution,
	       UTIMER_GLOBAL_DEVICE, c.id);
	return OK;
}

static int remove_timer(int argc, char **argv)
{
	struct utimer_remove rm = { 0 };
	unsigned long long id;
	char persistent[8], pid[48], owner[32];
	int fd, err;

	if (argc != 2 || parse_id(argv[1], 0xffffffffULL, &id) < 0)
		return usage();
	rm.id = id;
	fd = open(UTIMER_DEVICE, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return explain(UTIMER_DEVICE, errno);
	if (!ioctl(fd, UTIMER_IOCTL_REMOVE, &rm)) {
		close(fd);
		return OK;
	}
	err = errno;
	close(fd);
	switch (err) {
	case ENOENT:
		if (!listing_value(rm.id, "persistent", persistent, sizeof(persistent)) &&
		    !strcmp(persistent, "0") && !listing_value(rm.id, "pid", owner, sizeof(owner))) {
			fprintf(stderr, "utimer: remove: no persistent timer %u: timer %u is pid %s's "
				"own and ends when it closes it\n", rm.id, rm.id, owner);
		} else {
			fprintf(stderr, "utimer: remove: no persistent timer %u (utimer list shows "
				"the timers)\n", rm.id);
		}
		return NO_SUCH_TIMER;
	case EBUSY:
		fprintf(stderr, "utimer: remove: %s: a writer is attached to timer %u%s: stop it "
			"first\n", strerror(err), rm.id, writer_of(rm.id, pid, sizeof(pid)));
		return NO_TIMER_FREE;
	case EPERM:
	case EACCES:
		fprintf(stderr, "utimer: remove: %s: removing a persistent timer needs root "
			"(CAP_SYS_ADMIN)\n", strerror(err));
		return NO_PERMISSION;
	case ENOTTY:
	case EINVAL:
		return no_persistent_timers("remove");
	default:
		return explain("remove", err);
	}
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
 * The setup that lets any ALSA program be the clock of snd-aloop for timer ID, at every boot: the
 * persistent timer (rust_utimer's timers=), snd-aloop on it, the utimer PCM (tools/alsa-plugin);
 * what to write where, and whether this user is ready.
 */
static int setup(int argc, char **argv)
{
	struct resolution_opts r = { 0 };
	unsigned long long id;
	unsigned int holdover = 0;
	char timer[96], hold[16] = "", pcm[64] = "";
	int opt, status, has_holdover = 0;

	/* No kernel to ask: the largest id of the largest max_timers (4096). */
	while ((opt = getopt_long(argc, argv, "n:r:p:", id_option, NULL)) != -1) {
		switch (resolution_opt(&r, opt, optarg, 4095)) {
		case 1: continue;
		case -1: return usage();
		}
		if (opt != 'H')
			return usage();
		status = holdover_of(optarg, &holdover);
		if (status != OK)
			return status;
		has_holdover = 1;
	}
	if (optind != argc)
		return usage();
	id = r.id;
	if (!r.given_ns && !r.given_rate && !r.given_frames)
		r.given_rate = r.given_frames = 1, r.rate = 48000, r.frames = 480;
	status = resolution_of(&r, 0);
	if (status != OK)
		return status;
	if (r.given_ns)
		snprintf(timer, sizeof(timer), "%llu:%llu", id, r.ns);
	else
		snprintf(timer, sizeof(timer), "%llu:%llu/%llu", id, r.rate, r.frames);
	if (has_holdover)
		snprintf(hold, sizeof(hold), ":%u", holdover);
	/* The utimer PCM's defaults are 48000 Hz and rate / 100 frames per period. */
	if (!r.given_ns && (r.rate != 48000 || r.frames != 480))
		snprintf(pcm, sizeof(pcm), "rate %llu; period_size %llu; ", r.rate, r.frames);
	printf("# persistent timer %llu, and snd-aloop on it, at every boot (as root):\n"
	       "echo 'options rust_utimer timers=%s%s' > /etc/modprobe.d/rust-utimer.conf\n"
	       "echo 'options snd-aloop timer_source=-1.%d.%llu' > /etc/modprobe.d/snd-aloop-utimer.conf\n"
	       "echo rust_utimer > /etc/modules-load.d/rust_utimer.conf\n"
	       "# its writer: utimer run --id %llu ..., or the utimer PCM (make install puts its plugin "
	       "in place), in ~/.asoundrc:\n"
	       "pcm.netaudio { type utimer; slave.pcm \"hw:Loopback,0,0\"; %stimer %llu }\n"
	       "# then: WRITER | aplay -D netaudio ...; arecord -D hw:Loopback,1,0 ...\n",
	       id, timer, hold, UTIMER_GLOBAL_DEVICE, id, id, pcm, id);
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
	if (argc >= 2 && !strcmp(argv[1], "create"))
		return create(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "remove"))
		return remove_timer(argc - 1, argv + 1);
	if (argc == 2 && !strcmp(argv[1], "list"))
		return list();
	if (argc >= 2 && !strcmp(argv[1], "setup"))
		return setup(argc - 1, argv + 1);
	return usage();
}
