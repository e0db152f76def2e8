#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# A pyalsaaudio program as its documentation shows one (selftests/plugin_programs_test.sh):
# alsaaudio.PCM with its defaults (44100 Hz, 2 channels, S16_LE, periods of 32 frames) on
# DEVICE, SECONDS of a 1 kHz sine written in chunks of odd sizes, then drained.
#   plugin_pyalsaaudio.py DEVICE SECONDS
import math
import struct
import sys

import alsaaudio

device, seconds = sys.argv[1], float(sys.argv[2])
pcm = alsaaudio.PCM(device=device)
info = pcm.info()
rate = 44100
n = int(seconds * rate)
samples = (int(16384 * math.sin(2 * math.pi * 1000 * i / rate)) for i in range(n))
data = b"".join(struct.pack("<hh", v, v) for v in samples)
sizes = (1, 7, 32, 100, 441, 999, 4410)
done = k = 0
while done < n:
    m = min(sizes[k % len(sizes)], n - done)
    k += 1
    chunk = data[done * 4:(done + m) * 4]
    while chunk:
        w = pcm.write(chunk)
        if w < 0:
            sys.exit(f"write: {w}")
        done += w
        chunk = chunk[w * 4:]
pcm.drain()
pcm.close()
print(f"wrote {done} frames in {k} writes at {info['rate']} Hz, periods of {info['period_size']}")
