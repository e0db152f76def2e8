/* SPDX-License-Identifier: GPL-2.0 */
/*
 * alsa-lib helpers for the selftests and the benchmark: snd-aloop streams on cable 0 (S16_LE
 * stereo, started by hand, a known pattern that makes every sample of a long stream distinct
 * from its neighbours), and /dev/snd/timer clients of a utimer.
 */
#ifndef ALOOP_HELPERS_H
#define ALOOP_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <alsa/asoundlib.h>

#include "../uapi/rust_utimer.h"

#define CHANNELS 2

struct stream_cfg {
	unsigned int rate;
	unsigned int period;
};

/* Sample `ch` of `frame` of the test pattern: distinct, non-silent, not periodic in a buffer. */
static inline short aloop_pattern(unsigned long frame, int ch)
{
	return (short)((frame * 7919u + (unsigned long)ch * 104729u + 1u) & 0xffff);
}

/* Fill `frames` frames of buf with the pattern, from frame `first` of the stream on. */
static inline void aloop_fill(short *buf, unsigned long first, unsigned long frames)
{
	for (unsigned long f = 0; f < frames; f++)
		for (int c = 0; c < CHANNELS; c++)
			buf[f * CHANNELS + c] = aloop_pattern(first + f, c);
}

/* hw and sw parameters: cfg's rate and period, `periods` periods of buffer, no auto start. */
static inline int aloop_set_params(snd_pcm_t *pcm, const struct stream_cfg *cfg,
				   unsigned int periods)
{
	snd_pcm_uframes_t period = cfg->period, buffer = (snd_pcm_uframes_t)cfg->period * periods;
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_uframes_t boundary;
	int err;

	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	if ((err = snd_pcm_hw_params_any(pcm, hw)) < 0 ||
	    (err = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0 ||
	    (err = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0 ||
	    (err = snd_pcm_hw_params_set_channels(pcm, hw, CHANNELS)) < 0 ||
	    (err = snd_pcm_hw_params_set_rate(pcm, hw, cfg->rate, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_period_size(pcm, hw, period, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_buffer_size(pcm, hw, buffer)) < 0 ||
	    (err = snd_pcm_hw_params(pcm, hw)) < 0)
		return err;
	/* Start by hand; never stop on our own pauses. */
	if ((err = snd_pcm_sw_params_current(pcm, sw)) < 0 ||
	    (err = snd_pcm_sw_params_get_boundary(sw, &boundary)) < 0 ||
	    (err = snd_pcm_sw_params_set_start_threshold(pcm, sw, boundary)) < 0 ||
	    (err = snd_pcm_sw_params_set_avail_min(pcm, sw, period)) < 0 ||
	    (err = snd_pcm_sw_params(pcm, sw)) < 0)
		return err;
	return 0;
}

/*
 * Open both ends of loopback cable 0 at cfg (playback non-blocking, capture in cap_mode).
 * 0 or an ALSA error; what was opened is in *play and *cap either way.
 */
static inline int aloop_open_cable(const struct stream_cfg *cfg, unsigned int periods,
				   snd_pcm_t **play, snd_pcm_t **cap, int cap_mode)
{
	int err;

	if ((err = snd_pcm_open(play, "hw:Loopback,0,0", SND_PCM_STREAM_PLAYBACK,
				SND_PCM_NONBLOCK)) < 0 ||
	    (err = snd_pcm_open(cap, "hw:Loopback,1,0", SND_PCM_STREAM_CAPTURE, cap_mode)) < 0)
		return err;
	if ((err = aloop_set_params(*play, cfg, periods)) < 0 ||
	    (err = aloop_set_params(*cap, cfg, periods)) < 0)
		return err;
	return 0;
}

/* Close what aloop_open_cable() opened (either may be NULL). */
static inline void aloop_close_cable(snd_pcm_t *play, snd_pcm_t *cap)
{
	if (play)
		snd_pcm_close(play);
	if (cap)
		snd_pcm_close(cap);
}

/*
 * Point snd-aloop at timer (GLOBAL, 4, id): through /proc when loaded, else by loading it with
 * timer_source=-1.4.<id>, the way the feature is documented.  0 or -1.
 */
static inline int aloop_point_at(unsigned int id)
{
	char cmd[128];
	FILE *f = fopen("/proc/asound/Loopback/timer_source", "w");

	if (f) {
		int ok = fprintf(f, "-1.4.%u\n", id) > 0;

		return fclose(f) == 0 && ok ? 0 : -1;
	}
	snprintf(cmd, sizeof(cmd), "modprobe snd-aloop timer_source=-1.4.%u", id);
	printf("# %s\n", cmd);
	fflush(stdout);
	return system(cmd) == 0 ? 0 : -1;
}

/*
 * A /dev/snd/timer client of timer (GLOBAL, 4, id) through alsa-lib, as applications open one
 * (hw:CLASS=1,SCLASS=0,DEV=4,SUBDEV=<id>): one tick per event, started.  0 or a negative errno
 * (-ENODEV: no such timer); *t is NULL on failure.
 */
static inline int utimer_client_open(snd_timer_t **t, unsigned int id, int nonblock)
{
	snd_timer_params_t *params;
	char name[80];
	int err;

	snprintf(name, sizeof(name), "hw:CLASS=%d,SCLASS=%d,DEV=%d,SUBDEV=%u",
		 SND_TIMER_CLASS_GLOBAL, SND_TIMER_SCLASS_NONE, UTIMER_GLOBAL_DEVICE, id);
	*t = NULL;
	if ((err = snd_timer_open(t, name, nonblock ? SND_TIMER_OPEN_NONBLOCK : 0)) < 0)
		return err;
	snd_timer_params_alloca(&params);
	snd_timer_params_set_auto_start(params, 1);
	snd_timer_params_set_ticks(params, 1);
	snd_timer_params_set_queue_size(params, 1024);
	if ((err = snd_timer_params(*t, params)) < 0 || (err = snd_timer_start(*t)) < 0) {
		snd_timer_close(*t);
		*t = NULL;
	}
	return err;
}

#endif /* ALOOP_HELPERS_H */
