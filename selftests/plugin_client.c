// SPDX-License-Identifier: GPL-2.0
/*
 * The utimer PCM (tools/alsa-plugin) through alsa-lib's API, as a program drives a hw PCM:
 * close destroys the timer while the program lives on (and the id can be had again), start,
 * pause, drop, prepare and drain do what they do on a hw PCM, and TRIGGERs fire for whole
 * periods only, never while paused or stopped; the slave's buffer is the program's, not the
 * largest snd-aloop allows.  The TRIGGERs are counted in rust_utimer's listing (debugfs).
 * Run by alsa_plugin_test.sh, which loads rust_utimer and snd-aloop (timer_source=-1.4.0) and
 * defines pcm.netaudio in ~/.asoundrc.
 *   plugin_client [--plan] [PCM]
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <alsa/asoundlib.h>

#include "utimer_helpers.h"

#define LISTING "/sys/kernel/debug/rust_utimer/timers"
#define PERIOD 480

/* The TRIGGERs of timer 0 so far, -1 when it is not listed. */
static long triggers_of_timer_0(void)
{
	char line[256];
	long id, uid, pid, res, trig = -1, t;
	FILE *f = fopen(LISTING, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%ld %ld %ld %ld %ld", &id, &uid, &pid, &res, &t) == 5 && id == 0)
			trig = t;
	fclose(f);
	return trig;
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
	if (pcm)
		snd_pcm_close(pcm);
	ksft_test_result(ok, "plugin_close_destroys_the_timer_while_the_program_lives\n");
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
	if (pcm)
		snd_pcm_close(pcm);
	ksft_test_result(ok, "plugin_start_pause_drop_prepare_drain_as_on_a_hw_pcm\n");
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
	if (pcm)
		snd_pcm_close(pcm);
	ksft_test_result(ok, "plugin_slave_buffer_is_the_programs_not_the_largest\n");
}

int main(int argc, char **argv)
{
	int plan_only = take_flag(&argc, argv, "--plan");
	const char *name = argc > 1 ? argv[1] : "netaudio";

	plan_or_print(3, plan_only);
	close_destroys_the_timer(name);
	triggers_follow_the_stream_state(name);
	slave_buffer_is_the_programs(name);
	ksft_finished();
}
