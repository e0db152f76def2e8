/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every selftest program shares:
 *
 *   - TAP through the kernel's kselftest.h: plan_or_print() prints "TAP version 13" and the
 *     plan before any result, or with --plan only the plan's number (and exits); diag() is a
 *     "# ..." line, serialised for stress_run's threads; the results are ksft_test_result*().
 *   - HARNESS_MAIN_WITH_LIST, the main() of the kselftest-harness programs: --list prints each
 *     test's full name as -r takes it.
 *   - the device (UTIMER_DEV, and whether it is upstream's), CREATE, time, the module's
 *     reference count, the kernel log, the open fds, /proc/asound/timers;
 *   - unloading and loading the module; kselftest-harness checks as macros (the harness is
 *     included after this header): the reload fixtures' RELOAD() and RESTORE_MODULE(), a
 *     refused CREATE_EXT;
 *   - for the programs that include the kernel's <sound/asound.h> before this header (it cannot
 *     be mixed with alsa-lib's headers): /dev/snd/timer readers through raw ioctls.
 *
 * Environment: UTIMER_DEV (default /dev/utimer) is the device that creates timers: set it to
 * /dev/snd/timer to run the same tests against upstream's C utimers (CONFIG_SND_UTIMER).
 * UTIMER_KO is the module's path, for the tests that reload it (skipped without it).
 */
#ifndef UTIMER_HELPERS_H
#define UTIMER_HELPERS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../uapi/rust_utimer.h"
#include "kselftest.h"

#define RES_10MS 10000000ULL
#define LISTING "/sys/kernel/debug/rust_utimer/timers"

/* ------------------------------------------------------------------ TAP */

/*
 * Takes `flag` out of argv if it is there (the other arguments keep their order): 1 if it was.
 * For --plan, which any TAP program accepts beside the arguments it runs with.
 */
static inline int take_flag(int *argc, char **argv, const char *flag)
{
	for (int i = 1; i < *argc; i++)
		if (!strcmp(argv[i], flag)) {
			memmove(&argv[i], &argv[i + 1], (*argc - i) * sizeof(argv[0]));
			(*argc)--;
			return 1;
		}
	return 0;
}

/*
 * The plan: with --plan, print n alone and exit 0 (nothing else is touched); otherwise begin
 * the TAP output with its header and "1..n".  A test that cannot run is still reported, as
 * "ok N name # SKIP reason", so that the count is n whatever the kernel has.
 */
static inline void plan_or_print(unsigned int n, int plan_only)
{
	if (plan_only) {
		printf("%u\n", n);
		exit(0);
	}
	ksft_print_header();
	ksft_set_plan(n);
}

/* One "# ..." line (the newline is added), whole even when stress_run's threads all talk. */
static pthread_mutex_t diag_lock __maybe_unused = PTHREAD_MUTEX_INITIALIZER;
#define diag(fmt, ...) (pthread_mutex_lock(&diag_lock),				\
			ksft_print_msg(fmt "\n", ##__VA_ARGS__), fflush(stdout),	\
			pthread_mutex_unlock(&diag_lock))

/*
 * The main() of a kselftest-harness program, in place of TEST_HARNESS_MAIN: `--list` as the
 * only argument prints every test's full name, one per line, exactly as -r takes it
 * ("fixture.test", or "fixture.variant.test"), from the harness's own tables; an empty list is
 * an error.  Anything else goes to the harness.
 */
#define HARNESS_MAIN_WITH_LIST							\
	static int harness_list(void)						\
	{									\
		struct __fixture_variant_metadata no_variant = { .name = "" }, *v; \
		struct __fixture_metadata *f;					\
		struct __test_metadata *t;					\
		int n = 0;							\
										\
		for (f = __fixture_list; f; f = f->next)			\
			for (v = f->variant ?: &no_variant; v; v = v->next)	\
				for (t = f->tests; t; t = t->next, n++)		\
					printf("%s%s%s.%s\n", f->name,		\
					       v->name[0] ? "." : "", v->name,	\
					       t->name);			\
		if (!n)								\
			fprintf(stderr, "no tests\n");				\
		return n ? 0 : 1;						\
	}									\
										\
	int main(int argc, char **argv)						\
	{									\
		if (argc == 2 && !strcmp(argv[1], "--list"))			\
			return harness_list();					\
		return test_harness_run(argc, argv);				\
	}

/* ------------------------------------------------------------------ the device, CREATE */

static inline const char *utimer_dev(void)
{
	const char *dev = getenv("UTIMER_DEV");

	return dev ? dev : UTIMER_DEVICE;
}

/* Upstream's CONFIG_SND_UTIMER, through /dev/snd/timer, rather than rust_utimer. */
static inline int upstream(void)
{
	return !strcmp(utimer_dev(), "/dev/snd/timer");
}

static inline int open_ctl(void)
{
	return open(utimer_dev(), O_RDWR | O_CLOEXEC);
}

/* CREATE at `resolution` on ctl, the rest of *u zeroed: 0 (u->fd and u->id set) or -errno. */
static inline int create(int ctl, __u64 resolution, struct utimer_uinfo *u)
{
	memset(u, 0, sizeof(*u));
	u->resolution = resolution;
	return ioctl(ctl, UTIMER_IOCTL_CREATE, u) < 0 ? -errno : 0;
}

/* ------------------------------------------------------------------ time, module, log, fds */

/* CLOCK_MONOTONIC, in seconds. */
static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

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

/*
 * How many lines of /proc/asound/timers show a global timer 4 with this resolution.  The file
 * names no subdevice (and our timers, as upstream's, have an empty name): the tests give their
 * timers resolutions of their own, and find ids through /dev/snd/timer (timer_info_resolution()).
 */
static inline int proc_timers_count(__u64 resolution)
{
	char want[64], line[256];
	FILE *f = fopen("/proc/asound/timers", "re");
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

/* ------------------------------------------------------------------ loading the module */

/* rmmod rust_utimer, without waiting: 0 or -errno (EWOULDBLOCK while it is in use). */
static inline int module_unload(void)
{
	return syscall(SYS_delete_module, "rust_utimer", O_NONBLOCK) ? -errno : 0;
}

/* insmod `ko` with `params` ("" for its defaults): 0 or -errno. */
static inline int module_load(const char *ko, const char *params)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * The fixtures whose tests reload the module (module_test's reload, persist_test's
 * persist_load).  Their setup skips the test on upstream's built-in utimers and without
 * UTIMER_KO; their FIXTURE_TEARDOWN_PARENT is RESTORE_MODULE(): it loads the module again with
 * its defaults, for the tests after them, whatever the test did or where it stopped.  It runs in
 * the parent once the test's process has exited, after a failed assertion or a crash too, so
 * that no fd of the test still pins the module (only a test killed at the harness's timeout
 * goes without it).
 */
#define RELOAD_FIXTURE_SETUP() do {						\
	if (upstream())								\
		SKIP(return, "upstream's utimers are built into the kernel");	\
	if (!getenv("UTIMER_KO"))						\
		SKIP(return, "UTIMER_KO not set");				\
} while (0)

/*
 * A failed assertion in the test's process leaves the harness's `trigger` set in the metadata
 * it shares with the parent (it is reset only on the way out of an EXPECT): cleared, or every
 * check here would take the failure for its own.  The last references of the test's files may
 * take a moment to go: unloading is tried for up to 5 s.
 */
#define RESTORE_MODULE() do {							\
	const char *_ko = getenv("UTIMER_KO");					\
	int _err, _i;								\
										\
	if (upstream() || !_ko)							\
		return;								\
	_metadata->trigger = 0;							\
	for (_i = 0; (_err = module_unload()) == -EWOULDBLOCK && _i < 100; _i++) \
		usleep(50000);							\
	ASSERT_TRUE(_err == 0 || _err == -ENOENT)				\
		TH_LOG("teardown: rmmod: %s, refcnt %d", strerror(-_err), module_refcnt()); \
	ASSERT_EQ(0, module_load(_ko, "")) TH_LOG("teardown: insmod %s", _ko);	\
	ASSERT_EQ(0, access(utimer_dev(), F_OK)) TH_LOG("teardown: no %s", utimer_dev()); \
} while (0)

/*
 * A refused CREATE_EXT of `*c` (a kselftest-harness check, as the macros above): -1 and `err`,
 * the struct unchanged, no fd left.
 */
#define EXPECT_CREATE_EXT_REFUSED(ctl, c, err, what) do {			\
	struct utimer_create _before = *(c);					\
	int _fds = count_fds();							\
										\
	EXPECT_EQ(-1, ioctl(ctl, UTIMER_IOCTL_CREATE_EXT, c)) TH_LOG("%s", what); \
	EXPECT_EQ(err, errno) TH_LOG("%s: %s", what, strerror(errno));		\
	EXPECT_EQ(0, memcmp(&_before, c, sizeof(_before))) TH_LOG("%s: argument changed", what); \
	EXPECT_EQ(_fds, count_fds()) TH_LOG("%s: an fd was left", what);	\
} while (0)

/* Reload the module with `params`, in a test of a reload fixture. */
#define RELOAD(params) do {							\
	ASSERT_EQ(0, module_unload()) TH_LOG("rmmod: is a timer still open?");	\
	ASSERT_EQ(0, module_load(getenv("UTIMER_KO"), params)) TH_LOG("insmod %s", params); \
} while (0)

/* ------------------------------------------------------------------ /dev/snd/timer readers */

#ifdef __SOUND_ASOUND_H

/*
 * /dev/snd/timer selected on (GLOBAL, 4, id), in tread mode (a timestamp per event) if `tread`;
 * -1 (errno set) on error.
 */
static inline int timer_select_tread(unsigned int id, int flags, int tread,
				     struct snd_timer_info *info)
{
	struct snd_timer_select sel = { 0 };
	int fd = open("/dev/snd/timer", flags | O_CLOEXEC), e;

	if (fd < 0)
		return -1;
	/* Before SELECT: the core refuses TREAD on a client with an instance (EBUSY). */
	if (tread && ioctl(fd, SNDRV_TIMER_IOCTL_TREAD, &tread) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	sel.id.dev_class = SNDRV_TIMER_CLASS_GLOBAL;
	sel.id.dev_sclass = SNDRV_TIMER_SCLASS_NONE;
	sel.id.card = -1;
	sel.id.device = UTIMER_GLOBAL_DEVICE;
	sel.id.subdevice = id;
	if (ioctl(fd, SNDRV_TIMER_IOCTL_SELECT, &sel) < 0 ||
	    (info && ioctl(fd, SNDRV_TIMER_IOCTL_INFO, info) < 0)) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* /dev/snd/timer selected on (GLOBAL, 4, id); -1 (errno set) on error. */
static inline int timer_select(unsigned int id, int flags, struct snd_timer_info *info)
{
	return timer_select_tread(id, flags, 0, info);
}

/* The resolution /dev/snd/timer's INFO reports for (GLOBAL, 4, id); 0 on error (none). */
static inline unsigned long timer_info_resolution(unsigned int id)
{
	struct snd_timer_info info = { 0 };
	int fd = timer_select(id, O_RDONLY, &info);

	if (fd < 0)
		return 0;
	close(fd);
	return info.resolution;
}

/*
 * A non-blocking /dev/snd/timer client on (GLOBAL, 4, id), started, auto-reloading every tick,
 * with a queue of `queue_size` records; in tread mode if `tread` (a timestamp per event), then
 * with only tick events.  Its resolution into *resolution if that is not NULL; -1 (errno set) on
 * error.
 */
static inline int reader_open_ext(unsigned int id, int tread, unsigned int queue_size,
				  unsigned long *resolution)
{
	struct snd_timer_params par = { 0 };
	struct snd_timer_info info = { 0 };
	int fd = timer_select_tread(id, O_RDONLY | O_NONBLOCK, tread, &info), e;

	if (fd < 0)
		return -1;
	par.flags = SNDRV_TIMER_PSFLG_AUTO;
	par.ticks = 1;
	par.queue_size = queue_size;
	if (tread)
		par.filter = 1 << SNDRV_TIMER_EVENT_TICK;
	if (ioctl(fd, SNDRV_TIMER_IOCTL_PARAMS, &par) < 0 ||
	    ioctl(fd, SNDRV_TIMER_IOCTL_START) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	if (resolution)
		*resolution = info.resolution;
	return fd;
}

/* A non-blocking /dev/snd/timer client on (GLOBAL, 4, id), started, auto-reloading every tick. */
static inline int reader_open(unsigned int id, unsigned long *resolution)
{
	return reader_open_ext(id, 0, 128, resolution);
}

/*
 * Sum the ticks of every record the reader has, waiting up to timeout_ms for the first one.
 * Consecutive records of one resolution are merged by the core, so ticks are summed.
 */
static inline long reader_ticks(int fd, int timeout_ms, unsigned long *resolution)
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

#endif /* __SOUND_ASOUND_H */

#endif /* UTIMER_HELPERS_H */
