// SPDX-License-Identifier: GPL-2.0
/*
 * The mission's path end to end: snd-aloop running on a utimer.  For each (rate, period) the
 * test creates a timer with the exact resolution ALSA computes for that period, points
 * snd-aloop at it (timer_source=-1.4.<id>), plays a known pattern into hw:Loopback,0,0 and
 * captures hw:Loopback,1,0, then checks that
 *   - nothing moves without a trigger,
 *   - each trigger moves exactly one period, and
 *   - the captured samples equal the played ones, bit for bit.
 * TAP through kselftest.h; the VM runner counts the ok / not ok lines.
 *
 * `aloop_test --sweep` checks utimer_resolution() against what snd-aloop accepts for every common
 * rate (8 kHz to 192 kHz, the 44.1 kHz family included) and period (32 to 8192 frames, and 10 ms):
 * a few triggers each, one period per trigger, bit-exact, no xrun.  It also shows that the
 * formula in upstream's documentation (1e9 / rate * period) is refused by aloop at 48 kHz / 480.
 *
 * `aloop_test --demo FILE.wav` is `make demo`: one second of a 440/660 Hz tone at 48 kHz,
 * period 480, one trigger per period, the capture saved as a WAV file.
 *
 * `--plan`, beside any of these arguments, prints how many results the run would have.
 *
 * Environment: UTIMER_DEV as described in utimer_helpers.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <alsa/asoundlib.h>

#include "../uapi/rust_utimer.h"
#include "utimer_helpers.h"
#include "aloop_helpers.h"

static int periods = 64;	/* buffer: covers the test's pauses without EIO */
static int prefill = 32;	/* periods written ahead of the triggers */
static int idle_ms = 150;	/* how long "nothing moves" is watched */
static int triggers = 20;
static const char *demo_wav;	/* --demo: tone instead of the test pattern, capture saved */

static const struct stream_cfg cfgs[] = {
	{ 48000, 480 },		/* 10 ms, the common case */
	{ 44100, 441 },		/* 10 ms on the 44.1 kHz family */
	{ 44100, 1024 },	/* 23219954 ns: 1e9 * P / R is not an integer */
	{ 96000, 256 },
};

static short sample(unsigned long frame, int ch)
{
	if (demo_wav)
		return (short)lrint(16000.0 * sin(2 * M_PI * (ch ? 660.0 : 440.0) * frame / 48000.0));
	return aloop_pattern(frame, ch);
}

static void fill(short *buf, unsigned long first, unsigned long frames)
{
	for (unsigned long f = 0; f < frames; f++)
		for (int c = 0; c < CHANNELS; c++)
			buf[f * CHANNELS + c] = sample(first + f, c);
}

/* Frames ready on capture after waiting up to timeout_ms for a period. */
static long captured(snd_pcm_t *cap, int timeout_ms)
{
	int err = snd_pcm_wait(cap, timeout_ms);

	if (err < 0)
		return err;
	return snd_pcm_avail_update(cap);
}

static void put_le(FILE *f, unsigned long v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		fputc((int)((v >> (8 * i)) & 0xff), f);
}

/* A canonical 44-byte WAV header for S16_LE; data_bytes filled in later. */
static void wav_header(FILE *f, unsigned int rate, unsigned long data_bytes)
{
	fwrite("RIFF", 1, 4, f);
	put_le(f, 36 + data_bytes, 4);
	fwrite("WAVEfmt ", 1, 8, f);
	put_le(f, 16, 4);
	put_le(f, 1, 2);
	put_le(f, CHANNELS, 2);
	put_le(f, rate, 4);
	put_le(f, (unsigned long)rate * CHANNELS * 2, 4);
	put_le(f, CHANNELS * 2, 2);
	put_le(f, 16, 2);
	fwrite("data", 1, 4, f);
	put_le(f, data_bytes, 4);
}

#define CHECK(cond, ...) do { if (!(cond)) { diag(__VA_ARGS__); goto out; } } while (0)

static int quiet;		/* --sweep: one line per rate rather than per stream */
static __u64 forced_res;	/* a resolution other than utimer_resolution()'s */

/*
 * Stream at cfg through snd-aloop on a new utimer; with `report` prints its TAP line, without
 * only returns whether it worked.
 */
static int run(int ctl, const struct stream_cfg *cfg, int report)
{
	unsigned long written = 0, read_frames = 0, mismatches = 0, moved_total = 0;
	__u64 res = forced_res ? forced_res : utimer_resolution(cfg->rate, cfg->period);
	snd_pcm_t *play = NULL, *cap = NULL;
	struct utimer_uinfo u = { .resolution = res };
	short *pbuf = NULL, *cbuf = NULL, *want = NULL;
	FILE *wav = NULL;
	size_t bytes = (size_t)cfg->period * CHANNELS * sizeof(short);
	int ok = 0, err, t, fd_refs = -1, aloop_refs = -1;
	long avail;

	u.fd = -1;
	pbuf = malloc(bytes);
	cbuf = malloc(bytes);
	want = malloc(bytes);
	CHECK(pbuf && cbuf && want, "out of memory");
	if (demo_wav) {
		wav = fopen(demo_wav, "wb");
		CHECK(wav, "%s: %s", demo_wav, strerror(errno));
		wav_header(wav, cfg->rate, 0);
	}
	CHECK(ioctl(ctl, UTIMER_IOCTL_CREATE, &u) == 0, "CREATE: %s", strerror(errno));
	if (!quiet)
		diag("rate %u period %u: timer %u, resolution %llu ns", cfg->rate, cfg->period, u.id,
		     (unsigned long long)res);
	fd_refs = module_refcnt();
	CHECK(aloop_point_at(u.id) == 0, "cannot point snd-aloop at timer %u", u.id);

	err = aloop_open_cable(cfg, periods, &play, &cap, SND_PCM_NONBLOCK);
	CHECK(err == 0, "open the loopback: %s", snd_strerror(err));

	if (!upstream())
		aloop_refs = module_refcnt();
	for (t = 0; t < prefill; t++) {
		fill(pbuf, written, cfg->period);
		err = snd_pcm_writei(play, pbuf, cfg->period);
		CHECK(err == (int)cfg->period, "prefill: %s", snd_strerror(err));
		written += cfg->period;
	}
	CHECK((err = snd_pcm_start(cap)) == 0, "start capture: %s", snd_strerror(err));
	CHECK((err = snd_pcm_start(play)) == 0, "start playback: %s", snd_strerror(err));

	/* The cable holds the timer open, and so our module: one reference more than the fd's. */
	if (!upstream())
		CHECK(aloop_refs == fd_refs + 1, "rust_utimer refcnt %d with aloop on the timer, %d without",
		      aloop_refs, fd_refs);

	/* No trigger, no data. */
	avail = captured(cap, idle_ms);
	CHECK(avail == 0, "%ld frames moved without a trigger", avail);

	for (t = 0; t < triggers; t++) {
		CHECK(ioctl(u.fd, UTIMER_IOCTL_TRIGGER) == 0, "TRIGGER: %s", strerror(errno));
		avail = captured(cap, 1000);
		CHECK(avail == (long)cfg->period, "trigger %d moved %ld frames, want %u", t, avail,
		      cfg->period);
		moved_total += avail;
		err = snd_pcm_readi(cap, cbuf, cfg->period);
		CHECK(err == (int)cfg->period, "read: %s", snd_strerror(err));
		fill(want, read_frames, cfg->period);
		if (memcmp(cbuf, want, bytes))
			mismatches++;
		if (wav)
			fwrite(cbuf, 1, bytes, wav);
		read_frames += cfg->period;
		/* Keep playback a full prefill ahead. */
		fill(pbuf, written, cfg->period);
		err = snd_pcm_writei(play, pbuf, cfg->period);
		CHECK(err == (int)cfg->period, "write: %s", snd_strerror(err));
		written += cfg->period;
	}
	avail = captured(cap, idle_ms);
	CHECK(avail == 0, "%ld frames moved after the last trigger", avail);
	CHECK(snd_pcm_state(cap) == SND_PCM_STATE_RUNNING, "capture state %s",
	      snd_pcm_state_name(snd_pcm_state(cap)));
	CHECK(mismatches == 0, "%lu of %d periods differ from what was played", mismatches,
	      triggers);
	if (!quiet)
		diag("%d triggers moved %lu frames (%lu bytes), %.2f periods per trigger, bit-exact: yes",
		     triggers, moved_total, moved_total * CHANNELS * sizeof(short),
		     (double)moved_total / cfg->period / triggers);
	ok = 1;
out:
	if (wav) {
		rewind(wav);
		wav_header(wav, cfg->rate, read_frames * CHANNELS * sizeof(short));
		fclose(wav);
	}
	aloop_close_cable(play, cap);
	if (u.fd >= 0)
		close(u.fd);
	free(pbuf);
	free(cbuf);
	free(want);
	if (report) {
		ksft_test_result(ok, "aloop_%u_hz_period_%u_moves_one_period_per_trigger_bit_exact\n",
				 cfg->rate, cfg->period);
	} else if (!ok) {
		diag("rate %u period %u: resolution %llu ns refused or stalled", cfg->rate,
		     cfg->period, (unsigned long long)res);
	}
	return ok;
}

/*
 * Closing the timer under a running stream, as both implementations behave today (see
 * Documentation/design.rst, "Closing a timer under its consumers"): the ALSA core closes
 * aloop's timer instance without telling aloop, the stream stays RUNNING with no clock, and a
 * blocking read returns EIO only when ALSA's wait gives up, after max(100 ms, 1.1 x buffer time).
 */
static void closed_timer_stalls_until_eio(int ctl)
{
	const struct stream_cfg cfg = { 48000, 480 };
	size_t bytes = (size_t)cfg.period * CHANNELS * sizeof(short);
	struct utimer_uinfo u = { .resolution = utimer_resolution(cfg.rate, cfg.period) };
	snd_pcm_t *play = NULL, *cap = NULL;
	short *buf = calloc(1, bytes);
	double t0, waited = 0, expect;
	int ok = 0, err, t, saved = periods;

	u.fd = -1;
	periods = 16;	/* 160 ms of buffer: EIO after 176 ms */
	expect = periods * cfg.period * 1100.0 / cfg.rate;
	CHECK(buf, "out of memory");
	CHECK(ioctl(ctl, UTIMER_IOCTL_CREATE, &u) == 0, "CREATE: %s", strerror(errno));
	CHECK(aloop_point_at(u.id) == 0, "cannot point snd-aloop at timer %u", u.id);
	err = aloop_open_cable(&cfg, periods, &play, &cap, 0);	/* blocking capture */
	CHECK(err == 0, "open the loopback: %s", snd_strerror(err));
	for (t = 0; t < 8; t++)
		CHECK(snd_pcm_writei(play, buf, cfg.period) == (int)cfg.period, "prefill");
	CHECK(snd_pcm_start(cap) == 0 && snd_pcm_start(play) == 0, "start");
	for (t = 0; t < 2; t++) {
		CHECK(ioctl(u.fd, UTIMER_IOCTL_TRIGGER) == 0, "TRIGGER: %s", strerror(errno));
		err = snd_pcm_readi(cap, buf, cfg.period);
		CHECK(err == (int)cfg.period, "read %d: %s", t, snd_strerror(err));
	}
	close(u.fd);
	u.fd = -1;
	t0 = now() * 1e3;
	err = snd_pcm_readi(cap, buf, cfg.period);
	waited = now() * 1e3 - t0;
	CHECK(err == -EIO, "read after close: %s, want EIO", err < 0 ? snd_strerror(err) : "data");
	/* Bounded: the wait is ALSA's timeout, not forever (generous for TCG). */
	CHECK(waited < 10 * expect + 2000, "EIO after %.0f ms", waited);
	diag("timer closed under a running stream: capture still %s, read got EIO after %.0f ms "
	     "(ALSA's timeout: %.0f ms)", snd_pcm_state_name(snd_pcm_state(cap)), waited, expect);
	ok = 1;
out:
	periods = saved;
	aloop_close_cable(play, cap);
	if (u.fd >= 0)
		close(u.fd);
	free(buf);
	ksft_test_result(ok, "aloop_stream_stalls_until_eio_when_its_timer_is_closed\n");
}

/*
 * snd-aloop cannot start on a global timer that another instance is running already (an
 * upstream snd-aloop bug, the same with either implementation): snd_timer_start() answers 1,
 * "delayed start", aloop's trigger callback passes that on, and the PCM core takes any non-zero
 * answer as a failure and undoes the start -- yet the ioctl returns 1, which alsa-lib reports as
 * success.  The stream stays PREPARED and no trigger moves it.  Once the other instance stops,
 * the same stream starts.  Found by stress_close_in_use; see Documentation/usage.rst.
 */
static void aloop_cannot_start_on_a_running_timer(int ctl)
{
	const struct stream_cfg cfg = { 48000, 480 };
	size_t bytes = (size_t)cfg.period * CHANNELS * sizeof(short);
	struct utimer_uinfo u = { .resolution = utimer_resolution(cfg.rate, cfg.period) };
	snd_pcm_t *play = NULL, *cap = NULL;
	snd_timer_t *client = NULL;
	short *buf = calloc(1, bytes);
	int ok = 0, err, t;
	long avail;

	u.fd = -1;
	CHECK(buf, "out of memory");
	CHECK(ioctl(ctl, UTIMER_IOCTL_CREATE, &u) == 0, "CREATE: %s", strerror(errno));
	err = utimer_client_open(&client, u.id, 1);
	CHECK(err == 0, "a /dev/snd/timer client of timer %u: %s", u.id, snd_strerror(err));
	CHECK(aloop_point_at(u.id) == 0, "cannot point snd-aloop at timer %u", u.id);
	err = aloop_open_cable(&cfg, periods, &play, &cap, SND_PCM_NONBLOCK);
	CHECK(err == 0, "open the loopback: %s", snd_strerror(err));
	for (t = 0; t < 4; t++)
		CHECK(snd_pcm_writei(play, buf, cfg.period) == (int)cfg.period, "prefill");
	/* "Started", but not running: the bug. */
	CHECK((err = snd_pcm_start(cap)) == 0, "start capture: %s", snd_strerror(err));
	CHECK(snd_pcm_state(cap) == SND_PCM_STATE_PREPARED,
	      "capture %s after a start on a running timer (snd-aloop fixed?)",
	      snd_pcm_state_name(snd_pcm_state(cap)));
	CHECK(ioctl(u.fd, UTIMER_IOCTL_TRIGGER) == 0, "TRIGGER: %s", strerror(errno));
	avail = captured(cap, idle_ms);
	CHECK(avail == 0, "%ld frames moved on a stream that did not start", avail);
	/* The other instance stops: the timer is idle, and the same stream starts and moves. */
	CHECK((err = snd_timer_stop(client)) == 0, "stop the client: %s", snd_strerror(err));
	CHECK(snd_pcm_start(cap) == 0 && snd_pcm_start(play) == 0, "start again");
	CHECK(snd_pcm_state(cap) == SND_PCM_STATE_RUNNING, "capture %s on an idle timer",
	      snd_pcm_state_name(snd_pcm_state(cap)));
	CHECK(ioctl(u.fd, UTIMER_IOCTL_TRIGGER) == 0, "TRIGGER: %s", strerror(errno));
	avail = captured(cap, 1000);
	CHECK(avail == (long)cfg.period, "%ld frames moved, want %u", avail, cfg.period);
	diag("snd_pcm_start() on a running timer returned 0 and left the stream PREPARED; on the "
	     "idle timer it ran");
	ok = 1;
out:
	aloop_close_cable(play, cap);
	if (client)
		snd_timer_close(client);
	if (u.fd >= 0)
		close(u.fd);
	free(buf);
	ksft_test_result(ok, "aloop_cannot_start_on_a_running_timer\n");
}

static const unsigned int sweep_rates[] = {
	8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000, 176400, 192000,
};

/*
 * Every period of 32 to 8192 frames (powers of two) and of 10 ms at `rate`, on the resolution
 * utimer_resolution() gives.  One TAP line for the rate.
 */
static void sweep_rate(int ctl, unsigned int rate)
{
	unsigned int bad = 0, streams = 0, inexact = 0, docwrong = 0;
	struct stream_cfg cfg = { .rate = rate };

	/* 32, 64, ..., 8192 frames, then 10 ms. */
	for (unsigned int p = 32; p <= 16384; p *= 2) {
		cfg.period = p <= 8192 ? p : rate / 100;
		streams++;
		if (1000000000ULL * cfg.period % rate)
			inexact++;
		if (1000000000ULL / rate * cfg.period != utimer_resolution(rate, cfg.period))
			docwrong++;
		if (!run(ctl, &cfg, 0))
			bad++;
	}
	diag("%u Hz: %u of %u streams ran (%u periods with no integer ns duration; upstream's doc "
	     "formula wrong for %u)", rate, streams - bad, streams, inexact, docwrong);
	ksft_test_result(!bad, "aloop_exact_resolution_at_%u_hz_periods_32_to_8192_and_10ms\n",
			 rate);
}

/*
 * The formula of upstream's Documentation/sound/utimers.rst, 1e9 / rate * period, gives
 * 9999840 ns for 48 kHz / 480 frames; the kernel's period is 10000000 ns, and aloop refuses
 * the timer at the first tick: an error in the log, the streams in XRUN, nothing moved.
 */
static void doc_formula_refused(int ctl)
{
	const struct stream_cfg cfg = { 48000, 480 };
	const char *msg = "not corresponding to timer resolution (9999840 nsec";
	int before = klog_count(msg), ok;

	forced_res = 1000000000ULL / cfg.rate * cfg.period;
	triggers = 1;
	ok = !run(ctl, &cfg, 0);
	forced_res = 0;
	if (ok && klog_count(msg) != before + 1) {
		diag("no \"%s\" in the kernel log", msg);
		ok = 0;
	}
	ksft_test_result(ok, "aloop_refuses_upstream_doc_formula_9999840_ns_at_48000_hz_period_480\n");
}

int main(int argc, char **argv)
{
	size_t n = sizeof(cfgs) / sizeof(cfgs[0]), nrates = sizeof(sweep_rates) / sizeof(sweep_rates[0]);
	int ctl, sweep = 0, plan_only = take_flag(&argc, argv, "--plan");

	if (argc == 3 && !strcmp(argv[1], "--demo")) {
		demo_wav = argv[2];
		triggers = 100;
		n = 1;
	} else if (argc == 2 && !strcmp(argv[1], "--sweep")) {
		sweep = 1;
		quiet = 1;
		triggers = 3;
		periods = 8;
		prefill = 4;
		idle_ms = 10;
	} else if (argc != 1) {
		fprintf(stderr, "usage: %s [--plan] [--demo FILE.wav | --sweep]\n", argv[0]);
		return 2;
	}

	/* Streams, or rates and the doc formula, and the two cases of a stream in trouble. */
	plan_or_print(sweep ? nrates + 1 : n + 2 * !demo_wav, plan_only);
	ctl = open_ctl();
	if (ctl < 0)
		ksft_exit_fail_msg("open %s: %s\n", utimer_dev(), strerror(errno));
	if (sweep) {
		for (size_t i = 0; i < nrates; i++)
			sweep_rate(ctl, sweep_rates[i]);
		doc_formula_refused(ctl);
	} else {
		for (size_t i = 0; i < n; i++)
			run(ctl, &cfgs[i], 1);
		if (!demo_wav) {
			closed_timer_stalls_until_eio(ctl);
			aloop_cannot_start_on_a_running_timer(ctl);
		}
	}
	close(ctl);
	ksft_finished();
}
