// SPDX-License-Identifier: GPL-2.0
/*
 * plugin_bench: the utimer PCM (tools/alsa-plugin) against a program that fires its TRIGGERs
 * itself, in one boot.  Each round streams the same signal, one 10 ms period every 10 ms from a
 * pipe, through `aplay -D netaudio` (the plugin), through `aplay -D utimer` (the installed
 * definition: plug in front of the plugin, nothing to convert at its own rate) or through this
 * program's own writer (`direct`: snd_pcm_writei() to hw:Loopback,0,0, then TRIGGER, as
 * examples/receiver does),
 * while this program captures hw:Loopback,1,0 with a blocking read.  It reports, per writer, the
 * CPU time of the writer process per second of audio while it streams (from its schedstat
 * after the warm-up periods to the last period's arrival: what a receiver running for hours
 * costs) and over its whole life (start-up, alsa-lib's configuration and exit included), and
 * the delay from the write of a period's last frame into the pipe to that period's arrival at
 * the capture's read(), p50 and p99; rounds go ABCCBA and the medians are compared.
 *   plugin_bench [--rounds N] [--seconds S]
 * Needs rust_utimer, snd-aloop with timer_source=-1.4.0, and pcm.netaudio and pcm.utimer (timer
 * 0) in ~/.asoundrc.  Goals: the plugin's CPU ratio <= 1.05 and p99 ratio <= 1.10 (issue 18);
 * plug's, both <= 1.10 (issue 34).  Not a test: it prints.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aloop_helpers.h"
#include "bench_stats.h"

#define RATE 48000
#define PERIOD 480
#define WARMUP 20

static const struct stream_cfg cfg = { .rate = RATE, .period = PERIOD };

/*
 * The direct writer's playback (aloop_set_params(), started by hand): it is empty after each
 * period, as the plugin's slave is, so it must not stop then.
 */
static int no_stop_when_empty(snd_pcm_t *pcm)
{
	snd_pcm_sw_params_t *sw;
	snd_pcm_uframes_t boundary;
	int err;

	snd_pcm_sw_params_alloca(&sw);
	if ((err = snd_pcm_sw_params_current(pcm, sw)) < 0 ||
	    (err = snd_pcm_sw_params_get_boundary(sw, &boundary)) < 0 ||
	    (err = snd_pcm_sw_params_set_stop_threshold(pcm, sw, boundary)) < 0)
		return err;
	return snd_pcm_sw_params(pcm, sw);
}

/* The direct writer: timer 0, hw:Loopback,0,0, a period from stdin, writei, TRIGGER. */
static int direct(void)
{
	struct utimer_create c = {
		.resolution = utimer_resolution(RATE, PERIOD),
		.flags = UTIMER_CREATE_ID,
		.id = 0,
	};
	static short buf[PERIOD * CHANNELS];
	snd_pcm_t *pcm;
	int ctl;

	ctl = open(UTIMER_DEVICE, O_RDWR | O_CLOEXEC);
	if (ctl < 0 || ioctl(ctl, UTIMER_IOCTL_CREATE_EXT, &c) < 0)
		return 1;
	close(ctl);
	if (snd_pcm_open(&pcm, "hw:Loopback,0,0", SND_PCM_STREAM_PLAYBACK, 0) < 0 ||
	    aloop_set_params(pcm, &cfg, 10) < 0 || no_stop_when_empty(pcm) < 0)
		return 1;
	for (;;) {
		size_t got = 0;

		while (got < sizeof(buf)) {
			ssize_t n = read(0, (char *)buf + got, sizeof(buf) - got);

			if (n <= 0)
				goto out;
			got += n;
		}
		if (snd_pcm_writei(pcm, buf, PERIOD) != PERIOD ||
		    (snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED && snd_pcm_start(pcm) < 0) ||
		    ioctl(c.fd, UTIMER_IOCTL_TRIGGER) < 0)
			return 1;
	}
out:
	snd_pcm_close(pcm);
	close(c.fd);
	return 0;
}

struct result {
	double cpu_ms_per_s, total_ms_per_s, p50_us, p99_us;
};

/* The CPU time @pid has run, in ns (/proc/PID/schedstat's first field), or -1. */
static double run_ns(pid_t pid)
{
	char path[64];
	double ns = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%lf", &ns) != 1)
		ns = -1;
	fclose(f);
	return ns;
}

/* One round: WRITER streams SECONDS of audio; fills @r; 0 on success. */
/* The writers: this program's own, aplay into the plugin, aplay into pcm.utimer (plug). */
enum { DIRECT, PLUGIN, PLUG, WRITERS };
static const char *const name[WRITERS] = { "direct", "plugin", "utimer" };

static int round_of(const char *self, int writer, int seconds, struct result *r)
{
	static short buf[PERIOD * CHANNELS];
	int periods = seconds * RATE / PERIOD, p[2], k, i, status, bad = 0;
	double *delay = calloc(periods, sizeof(double)), t_w, next, ns0 = -1, ns1;
	snd_pcm_t *cap = NULL;
	struct rusage ru;
	pid_t pid;

	if (!delay || pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[0], 0);
		close(p[0]);
		close(p[1]);
		if (writer != DIRECT)
			execlp("aplay", "aplay", "-q", "-D", writer == PLUGIN ? "netaudio" : "utimer",
			       "-t", "raw", "-f", "S16_LE", "-c", "2", "-r", "48000",
			       "--period-size=480", "--buffer-size=4800", "-R", "10000", "-",
			       (char *)NULL);
		else
			execl(self, self, "--direct", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	/* The capture opens once the writer created the timer (ENODEV before). */
	for (i = 0; i < 1000; i++) {
		if (snd_pcm_open(&cap, "hw:Loopback,1,0", SND_PCM_STREAM_CAPTURE, 0) == 0)
			break;
		cap = NULL;
		usleep(10000);
	}
	if (!cap || (i = aloop_set_params(cap, &cfg, 100)) < 0 || (i = snd_pcm_start(cap)) < 0) {
		fprintf(stderr, "plugin_bench: the capture did not open or start: %s\n",
			cap ? snd_strerror(i) : "no timer");
		return -1;
	}
	next = now_ns() / 1e3;
	for (k = 0; k < periods; k++) {
		struct timespec ts;

		next += 1e6 * PERIOD / RATE;
		if (k == WARMUP)
			ns0 = run_ns(pid);
		memset(buf, 0, sizeof(buf));
		buf[0] = k & 0x7fff;
		buf[1] = 0x5555;
		if (write(p[1], buf, sizeof(buf)) != sizeof(buf)) {
			fprintf(stderr, "plugin_bench: the writer took no input at period %d\n", k);
			return -1;
		}
		t_w = now_ns() / 1e3;
		if (snd_pcm_readi(cap, buf, PERIOD) != PERIOD) {
			fprintf(stderr, "plugin_bench: no capture of period %d\n", k);
			return -1;
		}
		delay[k] = now_ns() / 1e3 - t_w;
		if (buf[0] != (k & 0x7fff) || buf[1] != 0x5555)
			bad++;
		ts.tv_sec = (time_t)(next / 1e6);
		ts.tv_nsec = (long)((next - ts.tv_sec * 1e6) * 1e3);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	ns1 = run_ns(pid);
	close(p[1]);
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		fprintf(stderr, "plugin_bench: the writer ended with status %d\n", status);
	snd_pcm_close(cap);
	if (bad) {
		fprintf(stderr, "plugin_bench: %d periods arrived out of order\n", bad);
		return -1;
	}
	qsort(delay + WARMUP, periods - WARMUP, sizeof(double), cmp_double);
	if (ns0 < 0 || ns1 < ns0) {
		fprintf(stderr, "plugin_bench: no /proc/%d/schedstat\n", (int)pid);
		return -1;
	}
	r->cpu_ms_per_s = (ns1 - ns0) / 1e6 / ((double)(periods - WARMUP) * PERIOD / RATE);
	r->total_ms_per_s = (ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
			   ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3) / seconds;
	r->p50_us = delay[WARMUP + (periods - WARMUP) / 2];
	r->p99_us = delay[WARMUP + (periods - WARMUP) * 99 / 100];
	free(delay);
	return 0;
}

int main(int argc, char **argv)
{
	/* ABCCBA: each writer as often early as late in the boot. */
	static const int order[6] = { DIRECT, PLUGIN, PLUG, PLUG, PLUGIN, DIRECT };
	int rounds = 4, seconds = 10, i, n[WRITERS] = { 0 };
	double cpu[WRITERS][64], total[WRITERS][64], p50[WRITERS][64], p99[WRITERS][64];
	double m[WRITERS][4];

	if (argc == 2 && !strcmp(argv[1], "--direct"))
		return direct();
	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--rounds"))
			rounds = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--seconds"))
			seconds = atoi(argv[i + 1]);
	}
	if (rounds < 1 || rounds > 64 || seconds < 1 || seconds * RATE / PERIOD <= 2 * WARMUP) {
		fprintf(stderr, "usage: plugin_bench [--rounds 1..64] [--seconds S]\n");
		return 2;
	}
	printf("# round writer cpu_ms_per_s_streaming cpu_ms_per_s_whole_life delay_p50_us "
	       "delay_p99_us\n");
	for (i = 0; i < WRITERS * rounds; i++) {
		int w = order[i % 6];
		struct result r;

		if (round_of(argv[0], w, seconds, &r) < 0) {
			printf("# round %d %s failed\n", i / WRITERS, name[w]);
			return 1;
		}
		printf("# %d %s %.2f %.2f %.0f %.0f\n", i / WRITERS, name[w], r.cpu_ms_per_s,
		       r.total_ms_per_s, r.p50_us, r.p99_us);
		cpu[w][n[w]] = r.cpu_ms_per_s;
		total[w][n[w]] = r.total_ms_per_s;
		p50[w][n[w]] = r.p50_us;
		p99[w][n[w]++] = r.p99_us;
	}
	for (i = 0; i < WRITERS; i++) {
		m[i][0] = median(cpu[i], n[i]);
		m[i][1] = median(p50[i], n[i]);
		m[i][2] = median(p99[i], n[i]);
		m[i][3] = median(total[i], n[i]);
	}
	printf("writer  cpu_ms_per_s_streaming  cpu_ms_per_s_whole_life  delay_p50_us  delay_p99_us  "
	       "(medians of %d rounds of %d s)\n", rounds, seconds);
	for (i = 0; i < WRITERS; i++)
		printf("%-7s %23.2f %24.2f %13.0f %13.0f\n", name[i], m[i][0], m[i][3], m[i][1],
		       m[i][2]);
	for (i = PLUGIN; i < WRITERS; i++) {
		double goal_cpu = i == PLUGIN ? 1.05 : 1.10;

		printf("ratio %s/direct: cpu streaming %.3f (goal <= %.2f: %s), cpu whole life %.3f, "
		       "p50 delay %.3f, p99 delay %.3f (goal <= 1.10: %s)\n", name[i],
		       m[i][0] / m[DIRECT][0], goal_cpu,
		       m[i][0] / m[DIRECT][0] <= goal_cpu ? "met" : "MISSED",
		       m[i][3] / m[DIRECT][3], m[i][1] / m[DIRECT][1], m[i][2] / m[DIRECT][2],
		       m[i][2] / m[DIRECT][2] <= 1.10 ? "met" : "MISSED");
	}
	return 0;
}
