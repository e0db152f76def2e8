/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What sender.c, receiver.c and listener.c share: the packet, the audio format and the test
 * signal.
 *
 * Audio is S16_LE stereo.  The two samples of frame n hold n + 1 (low and high 16 bits), so the
 * listener can tell every frame apart: a lost, repeated or reordered frame shows in the numbers,
 * and inserted silence is the only (0, 0).  A real sender would send its audio instead; nothing
 * but the listener looks at the samples.
 */
#ifndef NETAUDIO_H
#define NETAUDIO_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <alsa/asoundlib.h>

#define NA_CHANNELS		2
#define NA_MAX_PACKET_FRAMES	480
#define NA_PORT			5004

/* One datagram: packet seq carries frames seq * frames .. seq * frames + frames - 1. */
struct na_packet {
	uint32_t seq;		/* network byte order */
	uint32_t frames;	/* network byte order; the same in every packet, 0 ends the stream */
	int16_t pcm[NA_MAX_PACKET_FRAMES * NA_CHANNELS];	/* S16_LE */
};

static inline void na_frame(int16_t *f, uint64_t n)
{
	f[0] = (int16_t)(uint16_t)(n + 1);
	f[1] = (int16_t)(uint16_t)((n + 1) >> 16);
}

/* The number of the frame at f; -1 for silence. */
static inline int64_t na_frame_number(const int16_t *f)
{
	return (int64_t)((uint32_t)(uint16_t)f[0] | (uint32_t)(uint16_t)f[1] << 16) - 1;
}

static inline double na_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Open and set up an snd-aloop end: `period` frames per period, `periods` of them in the buffer;
 * a playback starts when `start_at` frames are written (0: by hand).  `mode` is snd_pcm_open()'s:
 * SND_PCM_NONBLOCK must be given here, as snd_pcm_nonblock() later does not reach the kernel's
 * read and write paths on a hw device.  NULL after printing why.
 */
static inline snd_pcm_t *na_pcm_open(const char *name, snd_pcm_stream_t stream, int mode,
				     unsigned int rate, unsigned int period, unsigned int periods,
				     snd_pcm_uframes_t start_at)
{
	snd_pcm_uframes_t buffer = (snd_pcm_uframes_t)period * periods;

	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_t *pcm;
	int err;

	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	if ((err = snd_pcm_open(&pcm, name, stream, mode)) < 0) {
		fprintf(stderr, "%s: %s\n", name, snd_strerror(err));
		return NULL;
	}
	if ((err = snd_pcm_hw_params_any(pcm, hw)) < 0 ||
	    (err = snd_pcm_hw_params_set_access(pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0 ||
	    (err = snd_pcm_hw_params_set_format(pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0 ||
	    (err = snd_pcm_hw_params_set_channels(pcm, hw, NA_CHANNELS)) < 0 ||
	    (err = snd_pcm_hw_params_set_rate(pcm, hw, rate, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_period_size(pcm, hw, period, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_buffer_size(pcm, hw, buffer)) < 0 ||
	    (err = snd_pcm_hw_params(pcm, hw)) < 0 ||
	    (err = snd_pcm_sw_params_current(pcm, sw)) < 0 ||
	    (err = snd_pcm_sw_params_set_start_threshold(pcm, sw, start_at ? start_at : buffer + 1)) < 0 ||
	    (err = snd_pcm_sw_params(pcm, sw)) < 0) {
		fprintf(stderr, "%s: %u Hz, period %u, %u periods: %s\n", name, rate, period, periods,
			snd_strerror(err));
		snd_pcm_close(pcm);
		return NULL;
	}
	return pcm;
}

#endif /* NETAUDIO_H */
