// SPDX-License-Identifier: GPL-2.0
/*
 * The utimer PCM (tools/alsa-plugin) through alsa-lib's API, as a program drives a hw PCM:
 * close destroys the timer while the program lives on (and the id can be had again), start,
 * pause, drop, prepare and drain do what they do on a hw PCM, and TRIGGERs fire for whole
 * periods only, never while paused or stopped; the slave's buffer is the program's, not the
 * largest snd-aloop allows.  The TRIGGERs are counted in rust_utimer's listing (debugfs).
 * Run by alsa_plugin_test.sh, which loads rust_utimer and snd-aloop (timer_source=-1.4.0) and
 * defines pcm.netaudio in ~/.asoundrc.
 *
 * With --persistent, timer 0 is a persistent timer (rust_utimer timers=0:48000/480, holdover 2
 * periods) on which a capture side runs (alsa_plugin_test.sh's arecord): the plugin attaches
 * to it, and closing detaches; a stall longer than the holdover (the module ticks the timer
 * itself) sends the partial period the slave holds, padded with silence, and the stream goes
 * on in step (the slave's pointers equal, one TRIGGER per whole period written after it), the
 * plugin having taken the clock (UTIMER_IOCTL_TAKE: the listing says "driven" at once) before
 * it wrote; it takes it when it starts and resumes too, and a pause keeps the slave's data.
 * Without it: rewind, forward and reset keep the slave in step with the program's pointers; a
 * slave that cannot start or resume on the timer (a /dev/snd/timer client started it first)
 * fails at once, losing nothing; avail_min is bounded so that poll wakes.
 *   plugin_client [--plan] [--persistent] [PCM]
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <alsa/asoundlib.h>

#include "utimer_helpers.h"
#include "aloop_helpers.h"

#define LISTING "/sys/kernel/debug/rust_utimer/timers"
#define PERIOD 480
/* include/uapi/sound/asound.h: the stream, running, goes to XRUN (<sound/asound.h> and
 * alsa-lib's headers do not mix). */
#define SNDRV_PCM_IOCTL_XRUN _IO('A', 0x48)

/*
 * Column @col (1: id, 5: triggers, 8: persistent, 9: writer, 11: holdover_ticks) of timer 0's
 * line in the listing, -1 when it is not listed.
 */
static long column_of_timer_0(int col)
{
	char line[256], *tok, *save;
	long val = -1;
	int i;
	FILE *f = fopen(LISTING, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0 ", 2))
			continue;
		for (i = 1, tok = strtok_r(line, " \n", &save); tok && i < col;
		     i++, tok = strtok_r(NULL, " \n", &save))
			;
		if (tok)
			val = strtol(tok, NULL, 10);
	}
	fclose(f);
	return val;
}

/* Timer 0's state in the listing is @state (driven, holdover). */
static int timer_0_state_is(const char *state)
{
	char line[256], got[32] = "";
	FILE *f = fopen(LISTING, "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0 ", 2))
			continue;
		/* id uid pid resolution_ns triggers instances age_ms persistent writer state ... */
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %31s", got) != 1)
			got[0] = 0;
	}
	fclose(f);
	if (strcmp(got, state))
		ksft_print_msg("timer 0 is %s, not %s\n", got[0] ? got : "not listed", state);
	return !strcmp(got, state);
}

/* The TRIGGERs of timer 0 so far, -1 when it is not listed. */
static long triggers_of_timer_0(void)
{
	return column_of_timer_0(5);
}

static snd_pcm_t *open_configured(const char *name)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_t *pcm;

	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	if (snd_pcm_open(&pcm, name, SND_PCM_STREAM_PLAYBACK, 0) < 0)
		return NULL;
	if (snd_pcm_hw_params_any(pcm, hw) < 0 ||
	    snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED) < 0 ||
	    snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE) < 0 ||
	    snd_pcm_hw_params_set_channels(pcm, hw, 2) < 0 ||
	    snd_pcm_hw_params_set_rate(pcm, hw, 48000, 0) < 0 ||
	    snd_pcm_hw_params_set_period_size(pcm, hw, PERIOD, 0) < 0 ||
	    snd_pcm_hw_params_set_buffer_size(pcm, hw, 10 * PERIOD) < 0 ||
	    snd_pcm_hw_params(pcm, hw) < 0 ||
	    snd_pcm_sw_params_current(pcm, sw) < 0 ||
	    snd_pcm_sw_params_set_start_threshold(pcm, sw, 1) < 0 ||
	    snd_pcm_sw_params(pcm, sw) < 0) {
		snd_pcm_close(pcm);
		return NULL;
	}
	return pcm;
}

static short frames[10 * PERIOD * 2];

/* write N: N frames written whole. */
static int write_frames(snd_pcm_t *pcm, snd_pcm_uframes_t n)
{
	return snd_pcm_writei(pcm, frames, n) == (snd_pcm_sframes_t)n;
}

#define EXPECT(cond)                                                                   \
	do {                                                                           \
		if (!(cond)) {                                                         \
			ksft_print_msg("%s:%d: %s failed (state %s, triggers %ld)\n", \
				       __func__, __LINE__, #cond,                      \
				       pcm ? snd_pcm_state_name(snd_pcm_state(pcm)) : "-", \
				       triggers_of_timer_0());                         \
			ok = 0;                                                        \
			goto out;                                                      \
		}                                                                      \
	} while (0)

/* The end of a test: its /dev/snd/timer client and its PCM closed (where open), its result. */
static void test_end(snd_timer_t *t, snd_pcm_t *pcm, int ok, const char *name)
{
	if (t)
		snd_timer_close(t);
	if (pcm)
		snd_pcm_close(pcm);
	ksft_test_result(ok, "%s\n", name);
}

static void close_destroys_the_timer(const char *name)
{
	snd_pcm_t *pcm = NULL;
	int ok = 1;

	pcm = open_configured(name);
	EXPECT(pcm);
	EXPECT(triggers_of_timer_0() == 0);
	snd_pcm_close(pcm);
	pcm = NULL;
	EXPECT(triggers_of_timer_0() == -1);
	pcm = open_configured(name);
	EXPECT(pcm);
	EXPECT(triggers_of_timer_0() == 0);
out:
	test_end(NULL, pcm, ok, "plugin_close_destroys_the_timer_while_the_program_lives");
}

static void triggers_follow_the_stream_state(const char *name)
{
	snd_pcm_t *pcm = NULL;
	int ok = 1;

	pcm = open_configured(name);
	EXPECT(pcm);
	/* Two whole periods and a half: started at the first frame, two TRIGGERs. */
	EXPECT(write_frames(pcm, 2 * PERIOD + PERIOD / 2));
	EXPECT(snd_pcm_state(pcm) == SND_PCM_STATE_RUNNING);
	EXPECT(triggers_of_timer_0() == 2);
	/* Paused: what is written waits; resumed, its whole period goes. */
	EXPECT(snd_pcm_pause(pcm, 1) == 0);
	EXPECT(snd_pcm_state(pcm) == SND_PCM_STATE_PAUSED);
	EXPECT(snd_pcm_pause(pcm, 0) == 0);
	EXPECT(snd_pcm_state(pcm) == SND_PCM_STATE_RUNNING);
	EXPECT(write_frames(pcm, PERIOD / 2));
	EXPECT(triggers_of_timer_0() == 3);
	/* Dropped: the partial period is gone, nothing fires; prepared again, it starts over. */
	EXPECT(write_frames(pcm, PERIOD / 2));
	EXPECT(snd_pcm_drop(pcm) == 0);
	EXPECT(snd_pcm_state(pcm) == SND_PCM_STATE_SETUP);
	EXPECT(triggers_of_timer_0() == 3);
	EXPECT(snd_pcm_prepare(pcm) == 0);
	EXPECT(write_frames(pcm, PERIOD / 2));
	EXPECT(triggers_of_timer_0() == 3);
	EXPECT(write_frames(pcm, PERIOD / 2));
	EXPECT(triggers_of_timer_0() == 4);
	/* Drain: the partial period is padded and fires. */
	EXPECT(write_frames(pcm, 10));
	EXPECT(snd_pcm_drain(pcm) == 0);
	EXPECT(snd_pcm_state(pcm) == SND_PCM_STATE_SETUP);
	EXPECT(triggers_of_timer_0() == 5);
out:
	test_end(NULL, pcm, ok, "plugin_start_pause_drop_prepare_drain_as_on_a_hw_pcm");
}

/* The buffer_size line of the slave's hw_params in /proc, -1 when there is none. */
static long slave_buffer_size(void)
{
	char line[128];
	long n = -1;
	FILE *f = fopen("/proc/asound/Loopback/pcm0p/sub0/hw_params", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "buffer_size: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/*
 * The slave's buffer holds the program's (10 periods of 480 frames here) and no more: a larger
 * one is memory the stream walks through, a page fault per 4 KiB (snd-aloop allows 2 MiB).
 */
static void slave_buffer_is_the_programs(const char *name)
{
	snd_pcm_t *pcm = NULL;
	int ok = 1;

	pcm = open_configured(name);
	EXPECT(pcm);
	EXPECT(slave_buffer_size() == 10 * PERIOD);
out:
	test_end(NULL, pcm, ok, "plugin_slave_buffer_is_the_programs_not_the_largest");
}

/* hw_ptr and appl_ptr of the slave (the loopback's playback side), from /proc. */
static int slave_pointers(long *hw, long *appl)
{
	char line[128];
	int found = 0;
	FILE *f = fopen("/proc/asound/Loopback/pcm0p/sub0/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "hw_ptr : %ld", hw) == 1)
			found |= 1;
		if (sscanf(line, "appl_ptr : %ld", appl) == 1)
			found |= 2;
	}
	fclose(f);
	return found == 3;
}

/* Timer 0's holdover ticks so far. */
static long holdover_ticks_of_timer_0(void)
{
	return column_of_timer_0(11);
}

/*
 * The slave's hardware and application pointers are equal: nothing of it waits, none is owed;
 * or, where the machine was slow enough for holdover ticks to come since @ticks (timer 0's
 * holdover ticks before the last write), the hardware pointer is that many periods ahead.
 */
static int slave_in_step(long ticks)
{
	long hw = -1, appl = -2, now = holdover_ticks_of_timer_0();

	if (!slave_pointers(&hw, &appl)) {
		ksft_print_msg("no slave pointers in /proc\n");
		return 0;
	}
	if (hw == appl)
		return 1;
	ksft_print_msg("slave hw_ptr %ld, appl_ptr %ld; %ld holdover ticks since the write\n", hw,
		       appl, now - ticks);
	return hw > appl && (hw - appl) % PERIOD == 0 && (hw - appl) / PERIOD <= now - ticks;
}

static void close_detaches_from_the_persistent_timer(const char *name)
{
	snd_pcm_t *pcm = NULL;
	int ok = 1;

	pcm = open_configured(name);
	EXPECT(pcm);
	EXPECT(column_of_timer_0(8) == 1);
	EXPECT(column_of_timer_0(9) == getpid());
	snd_pcm_close(pcm);
	pcm = NULL;
	EXPECT(column_of_timer_0(8) == 1);
	EXPECT(column_of_timer_0(9) == 0);
	pcm = open_configured(name);
	EXPECT(pcm);
	EXPECT(column_of_timer_0(9) == getpid());
out:
	test_end(NULL, pcm, ok, "plugin_persistent_close_detaches_and_the_timer_stays");
}

/*
 * Two periods and a half written to @pcm: driven, two TRIGGERs since @t0; then 10 periods
 * without a write (the stream paused first if @pause), in which holdover ticks.  1 if all of
 * that was so.
 */
static int half_a_period_left_in_holdover(snd_pcm_t *pcm, long t0, int pause)
{
	long h;
	int ok = 1;

	EXPECT(write_frames(pcm, 2 * PERIOD + PERIOD / 2));
	EXPECT(timer_0_state_is("driven"));
	EXPECT(triggers_of_timer_0() == t0 + 2);
	if (pause)
		EXPECT(snd_pcm_pause(pcm, 1) == 0);
	h = holdover_ticks_of_timer_0();
	usleep(100000);
	EXPECT(holdover_ticks_of_timer_0() >= h + 5);
	EXPECT(timer_0_state_is("holdover"));
out:
	return ok;
}

/*
 * A stall of 10 periods with half a period in the slave: holdover sends it, padded with
 * silence; the program sees it gone (no xrun), and what it writes next starts a period of its
 * own: one TRIGGER per whole period, the slave's pointers in step after each.
 */
static void stall_sends_the_partial_period(const char *name)
{
	snd_pcm_t *pcm = NULL;
	long t0, h;
	int ok = 1;

	pcm = open_configured(name);
	EXPECT(pcm);
	t0 = triggers_of_timer_0();
	EXPECT(half_a_period_left_in_holdover(pcm, t0, 0));
	EXPECT(snd_pcm_state(pcm) == SND_PCM_STATE_RUNNING);
	EXPECT(snd_pcm_avail(pcm) == 10 * PERIOD);
	/*
	 * The half period went: the next TRIGGER needs a whole period more.  The plugin took the
	 * clock before it wrote (no TRIGGER could have: only a TAKE ends holdover at once).
	 */
	h = holdover_ticks_of_timer_0();
	EXPECT(write_frames(pcm, PERIOD / 2));
	EXPECT(timer_0_state_is("driven"));
	EXPECT(triggers_of_timer_0() == t0 + 2);
	EXPECT(write_frames(pcm, PERIOD / 2));
	EXPECT(triggers_of_timer_0() == t0 + 3);
	EXPECT(slave_in_step(h));
	EXPECT(snd_pcm_avail(pcm) == 10 * PERIOD);
	h = holdover_ticks_of_timer_0();
	EXPECT(write_frames(pcm, 3 * PERIOD));
	EXPECT(triggers_of_timer_0() == t0 + 6);
	EXPECT(slave_in_step(h));
	/* Drain pads a partial period written after a stall, as any. */
	usleep(100000);
	EXPECT(write_frames(pcm, PERIOD / 4));
	EXPECT(snd_pcm_drain(pcm) == 0);
	EXPECT(triggers_of_timer_0() == t0 + 7);
	EXPECT(snd_pcm_state(pcm) == SND_PCM_STATE_SETUP);
out:
	test_end(NULL, pcm, ok, "plugin_persistent_stall_sends_the_partial_period_padded_and_resyncs");
}

/*
 * Started in holdover, the plugin takes the clock.  Paused for 10 periods with half a period in
 * the slave: holdover ticks meanwhile, but the paused slave does not move; resumed, the plugin
 * takes the clock at once, that half period is still there, and the next half makes the next
 * TRIGGER.
 */
static void start_and_resume_take_the_clock(const char *name)
{
	snd_pcm_t *pcm = NULL;
	long t0, h;
	int ok = 1;

	pcm = open_configured(name);
	EXPECT(pcm);
	/* Opened a while ago: in holdover when it starts, and the start takes the clock. */
	usleep(100000);
	EXPECT(timer_0_state_is("holdover"));
	t0 = triggers_of_timer_0();
	EXPECT(half_a_period_left_in_holdover(pcm, t0, 1));
	/* Resumed: the clock taken at once (no TRIGGER: the half period waits for its rest). */
	EXPECT(snd_pcm_pause(pcm, 0) == 0);
	EXPECT(timer_0_state_is("driven"));
	EXPECT(triggers_of_timer_0() == t0 + 2);
	h = holdover_ticks_of_timer_0();
	EXPECT(write_frames(pcm, PERIOD / 2));
	EXPECT(triggers_of_timer_0() == t0 + 3);
	EXPECT(slave_in_step(h));
out:
	test_end(NULL, pcm, ok, "plugin_persistent_start_and_resume_take_the_clock_pause_keeps_data");
}

/* The slave's pointers are equal: nothing of it waits, none is owed. */
static int slave_hw_is_appl(void)
{
	return slave_in_step(holdover_ticks_of_timer_0());
}

/* The frames the slave holds (appl_ptr - hw_ptr), -1 without its status. */
static long slave_fill(void)
{
	long hw, appl;

	return slave_pointers(&hw, &appl) ? appl - hw : -1;
}

/*
 * What the program rewinds, forwards or resets, the slave does: rewound frames leave it (the
 * rest of the period is what the program writes next), forwarded ones go as silence (and fire
 * when they make a whole period), a reset drops what waits.  One TRIGGER per whole period of
 * what was finally committed, the slave's pointers in step.
 */
static void rewind_forward_reset_keep_the_slave_in_step(const char *name)
{
	snd_pcm_t *pcm = NULL;
	long t0;
	int ok = 1;

	pcm = open_configured(name);
	EXPECT(pcm);
	t0 = triggers_of_timer_0();
	/* Rewind: half a period written, a quarter taken back; 3/4 more make one period. */
	EXPECT(write_frames(pcm, PERIOD / 2));
	EXPECT(snd_pcm_avail(pcm) == 10 * PERIOD - PERIOD / 2);
	EXPECT(snd_pcm_rewindable(pcm) == PERIOD / 2);
	EXPECT(snd_pcm_rewind(pcm, PERIOD / 4) == PERIOD / 4);
	EXPECT(snd_pcm_avail(pcm) == 10 * PERIOD - PERIOD / 4);
	EXPECT(slave_fill() == PERIOD / 4);
	EXPECT(write_frames(pcm, 3 * PERIOD / 4));
	EXPECT(triggers_of_timer_0() == t0 + 1);
	EXPECT(slave_hw_is_appl());
	EXPECT(snd_pcm_avail(pcm) == 10 * PERIOD);
	/* Forward: half a period written, the other half forwarded: that period fires. */
	EXPECT(write_frames(pcm, PERIOD / 2));
	EXPECT(snd_pcm_forward(pcm, PERIOD / 2) == PERIOD / 2);
	EXPECT(snd_pcm_avail(pcm) == 10 * PERIOD);
	EXPECT(triggers_of_timer_0() == t0 + 2);
	EXPECT(slave_hw_is_appl());
	/* Reset: the half period waiting is dropped; a whole period written is one TRIGGER. */
	EXPECT(write_frames(pcm, PERIOD / 2));
	EXPECT(snd_pcm_reset(pcm) == 0);
	EXPECT(snd_pcm_avail(pcm) == 10 * PERIOD);
	EXPECT(slave_hw_is_appl());
	EXPECT(write_frames(pcm, PERIOD));
	EXPECT(triggers_of_timer_0() == t0 + 3);
	EXPECT(slave_hw_is_appl());
	/*
	 * Rewound further than what waits (ioplug does not clamp it): what was triggered cannot
	 * come back, an xrun; prepared, the stream starts over in step.
	 */
	EXPECT(write_frames(pcm, PERIOD / 2));
	EXPECT(snd_pcm_rewindable(pcm) == PERIOD / 2);
	EXPECT(snd_pcm_rewind(pcm, PERIOD) == PERIOD);
	EXPECT(snd_pcm_avail(pcm) == -EPIPE);
	EXPECT(snd_pcm_state(pcm) == SND_PCM_STATE_XRUN);
	EXPECT(snd_pcm_prepare(pcm) == 0);
	EXPECT(write_frames(pcm, PERIOD + PERIOD / 2));
	EXPECT(snd_pcm_drain(pcm) == 0);
	EXPECT(triggers_of_timer_0() == t0 + 5);
	EXPECT(slave_hw_is_appl());
out:
	test_end(NULL, pcm, ok, "plugin_rewind_forward_reset_keep_the_slave_in_step");
}

/*
 * A /dev/snd/timer client runs timer 0 before snd-aloop's stream starts on it: snd-aloop's
 * start is then "delayed", undone by the PCM core although it succeeds, and the slave stays
 * prepared.  The write that starts the stream, and a drain, fail at once (not after waiting
 * for a period that cannot come, under ioplug's lock); with the client gone, the program
 * prepares and streams.
 */
static void stalled_slave_fails_at_once(const char *name)
{
	snd_pcm_sw_params_t *sw;
	snd_timer_t *t = NULL;
	snd_pcm_t *pcm = NULL;
	double t0;
	long n0;
	int ok = 1;

	snd_pcm_sw_params_alloca(&sw);
	pcm = open_configured(name);
	EXPECT(pcm);
	EXPECT(utimer_client_open(&t, 0, 1) == 0);
	n0 = triggers_of_timer_0();
	/* The write that starts the stream (half a period: no TRIGGER yet). */
	EXPECT(snd_pcm_writei(pcm, frames, PERIOD / 2) < 0);
	EXPECT(snd_pcm_state(pcm) != SND_PCM_STATE_RUNNING);
	/* A drain that starts it (never started by a write: start threshold the buffer). */
	EXPECT(snd_pcm_drop(pcm) == 0);
	EXPECT(snd_pcm_sw_params_current(pcm, sw) == 0);
	EXPECT(snd_pcm_sw_params_set_start_threshold(pcm, sw, 10 * PERIOD) == 0);
	EXPECT(snd_pcm_sw_params(pcm, sw) == 0);
	EXPECT(snd_pcm_prepare(pcm) == 0);
	EXPECT(write_frames(pcm, PERIOD / 2));
	EXPECT(snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED);
	t0 = now();
	EXPECT(snd_pcm_drain(pcm) < 0);
	EXPECT(now() - t0 < 0.5);
	EXPECT(triggers_of_timer_0() == n0);
	/* The client gone: prepared again, the stream runs, a non-blocking drain completes. */
	snd_timer_close(t);
	t = NULL;
	EXPECT(snd_pcm_drop(pcm) == 0);
	EXPECT(snd_pcm_sw_params_set_start_threshold(pcm, sw, 1) == 0);
	EXPECT(snd_pcm_sw_params(pcm, sw) == 0);
	EXPECT(snd_pcm_prepare(pcm) == 0);
	EXPECT(snd_pcm_nonblock(pcm, 1) == 0);
	EXPECT(write_frames(pcm, 2 * PERIOD + PERIOD / 2));
	EXPECT(snd_pcm_state(pcm) == SND_PCM_STATE_RUNNING);
	EXPECT(triggers_of_timer_0() == n0 + 2);
	EXPECT(snd_pcm_drain(pcm) == 0);
	EXPECT(snd_pcm_state(pcm) == SND_PCM_STATE_SETUP);
	EXPECT(triggers_of_timer_0() == n0 + 3);
	EXPECT(slave_hw_is_appl());
out:
	test_end(t, pcm, ok, "plugin_stalled_slave_fails_at_once_and_recovers");
}

/*
 * Paused with half a period in the slave, then a /dev/snd/timer client runs the timer: the
 * release cannot restart snd-aloop's stream, fails, and the program stays paused with its
 * data; no TRIGGER is spent on a slave that does not run.  With the client gone, the release
 * works, and the next half period makes the next TRIGGER, in step.
 */
static void pause_release_refused_keeps_the_periods(const char *name)
{
	snd_timer_t *t = NULL;
	snd_pcm_t *pcm = NULL;
	long n0;
	int ok = 1;

	pcm = open_configured(name);
	EXPECT(pcm);
	n0 = triggers_of_timer_0();
	EXPECT(write_frames(pcm, 2 * PERIOD + PERIOD / 2));
	EXPECT(triggers_of_timer_0() == n0 + 2);
	EXPECT(snd_pcm_pause(pcm, 1) == 0);
	EXPECT(utimer_client_open(&t, 0, 1) == 0);
	EXPECT(snd_pcm_pause(pcm, 0) < 0);
	EXPECT(snd_pcm_state(pcm) == SND_PCM_STATE_PAUSED);
	EXPECT(triggers_of_timer_0() == n0 + 2);
	EXPECT(slave_fill() == PERIOD / 2);
	snd_timer_close(t);
	t = NULL;
	EXPECT(snd_pcm_pause(pcm, 0) == 0);
	EXPECT(snd_pcm_state(pcm) == SND_PCM_STATE_RUNNING);
	EXPECT(write_frames(pcm, PERIOD / 2));
	EXPECT(triggers_of_timer_0() == n0 + 3);
	EXPECT(slave_hw_is_appl());
out:
	test_end(t, pcm, ok, "plugin_pause_release_refused_keeps_the_periods");
}

/*
 * avail_min is bounded by what the program's avail can stay at (buffer - period + 1: a partial
 * period waits in the slave for its rest): asked for the whole buffer, the program reads back
 * the bound, and poll wakes with half a period written.
 */
static void avail_min_is_bounded(const char *name)
{
	snd_pcm_sw_params_t *sw;
	snd_pcm_uframes_t v = 0;
	snd_pcm_t *pcm = NULL;
	int ok = 1;

	snd_pcm_sw_params_alloca(&sw);
	pcm = open_configured(name);
	EXPECT(pcm);
	EXPECT(snd_pcm_sw_params_current(pcm, sw) == 0);
	EXPECT(snd_pcm_sw_params_set_avail_min(pcm, sw, 10 * PERIOD) == 0);
	EXPECT(snd_pcm_sw_params(pcm, sw) == 0);
	EXPECT(snd_pcm_sw_params_current(pcm, sw) == 0);
	EXPECT(snd_pcm_sw_params_get_avail_min(sw, &v) == 0);
	EXPECT(v == 9 * PERIOD + 1);
	EXPECT(write_frames(pcm, PERIOD / 2));
	EXPECT(snd_pcm_wait(pcm, 200) == 1);
out:
	test_end(NULL, pcm, ok, "plugin_avail_min_is_bounded_so_poll_wakes");
}

/*
 * The plugin's slave (the loopback's playback PCM, opened by alsa-lib in this process): its fd,
 * found among this process's open files, -1 when there is none.
 */
static int slave_fd(void)
{
	char path[300], target[128];
	struct dirent *e;
	int fd = -1;
	ssize_t n;
	DIR *d = opendir("/proc/self/fd");

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = 0;
		if (!strncmp(target, "/dev/snd/pcmC", 13) && n > 3 && !strcmp(target + n - 3, "D0p"))
			fd = atoi(e->d_name);
	}
	closedir(d);
	return fd;
}

/*
 * The slave's xrun is the program's: a program that polls the PCM's descriptors sees an error
 * event and the PCM in XRUN (what alsa-lib's snd_pcm_wait() and PipeWire's loop check), its
 * writes fail with -EPIPE, and prepare recovers, the stream in step again.
 */
static void slave_xrun_is_the_programs(const char *name)
{
	unsigned short revents = 0;
	struct pollfd pfd[4];
	snd_pcm_t *pcm = NULL;
	int ok = 1, n, fd;
	long n0;

	pcm = open_configured(name);
	EXPECT(pcm);
	n0 = triggers_of_timer_0();
	EXPECT(write_frames(pcm, PERIOD / 2));
	fd = slave_fd();
	EXPECT(fd >= 0);
	EXPECT(ioctl(fd, SNDRV_PCM_IOCTL_XRUN) == 0);
	n = snd_pcm_poll_descriptors(pcm, pfd, 4);
	EXPECT(n >= 1);
	EXPECT(poll(pfd, n, 1000) > 0);
	EXPECT(snd_pcm_poll_descriptors_revents(pcm, pfd, n, &revents) == 0);
	EXPECT(revents & POLLERR);
	EXPECT(snd_pcm_state(pcm) == SND_PCM_STATE_XRUN);
	EXPECT(snd_pcm_writei(pcm, frames, PERIOD) == -EPIPE);
	EXPECT(snd_pcm_prepare(pcm) == 0);
	EXPECT(write_frames(pcm, PERIOD + PERIOD / 2));
	EXPECT(triggers_of_timer_0() == n0 + 1);
	EXPECT(snd_pcm_drain(pcm) == 0);
	EXPECT(triggers_of_timer_0() == n0 + 2);
	EXPECT(slave_hw_is_appl());
out:
	test_end(NULL, pcm, ok, "plugin_slave_xrun_is_the_programs_epipe_and_recovers");
}

int main(int argc, char **argv)
{
	int plan_only = take_flag(&argc, argv, "--plan");
	int persistent = take_flag(&argc, argv, "--persistent");
	const char *name = argc > 1 ? argv[1] : "netaudio";

	plan_or_print(persistent ? 3 : 8, plan_only);
	if (persistent) {
		close_detaches_from_the_persistent_timer(name);
		stall_sends_the_partial_period(name);
		start_and_resume_take_the_clock(name);
	} else {
		close_destroys_the_timer(name);
		triggers_follow_the_stream_state(name);
		slave_buffer_is_the_programs(name);
		rewind_forward_reset_keep_the_slave_in_step(name);
		stalled_slave_fails_at_once(name);
		pause_release_refused_keeps_the_periods(name);
		avail_min_is_bounded(name);
		slave_xrun_is_the_programs(name);
	}
	ksft_finished();
}
