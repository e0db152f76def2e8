#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A self-identifying signal for the utimer PCM's persistent-timer cases (alsa_plugin_test.sh),
and the checker of what snd-aloop's capture side recorded of it.

  plugin_signal.py gen FILE START FRAMES
      FRAMES frames of S16_LE stereo into FILE, frame n of them numbered START + n: left
      1 + (number & 0x3fff), right 1 + (number >> 14), never 0, so that no frame is silence and
      each says where in which signal it is.
  plugin_signal.py check CAPTURE SIGNAL:START... [--period N] [--whole I...]
                         [--silence-first] [--silence-last] [--signal-periods N]
      Each whole period of CAPTURE (S16_LE stereo) must be silence or a whole period of one of
      the SIGNALs (a file gen wrote, numbered from START), period-aligned in it (its first
      frame's number - START a multiple of the period), byte for byte.  The signals' periods
      come in order: every period of signal i before any of signal i+1, and each signal's from
      its first period on, one after the other, none twice or missing: a prefix of it, with
      silence between its periods only where holdover ticked (a gap); each signal has at least
      a period there.  --whole I: signal I
      (0-based) arrived whole.  --silence-first / --silence-last: the capture begins / ends
      with silence.  --signal-periods N: N periods of the signals in all (the TRIGGERs
      counted by rust_utimer: each moved one).  Prints "# stat" lines and, on failure, why;
      exits 0 when it holds.
  plugin_signal.py snapshot ID STATUS BASE [--period N]
      A consistent snapshot of rust_utimer's ticks of timer ID (its TRIGGERs plus its holdover
      ticks, from the debugfs listing) and the hw_ptr of the capture's /proc STATUS file: the
      listing read before and after the status shows the same count.  Passes when such a
      snapshot has hw_ptr = (ticks - BASE) x period: snd-aloop moved one period per tick, each
      tick once.  Tries for a few seconds (a tick between the reads is a retry).
"""
import array
import sys
import time

LISTING = "/sys/kernel/debug/rust_utimer/timers"
FRAME = 4  # S16_LE stereo


def signal(start, frames):
    """Frames numbered start .. start + frames - 1, as bytes."""
    out = array.array("h")
    n = start
    end = start + frames
    while n < end:
        # A run of frames with the same right sample: up to the next multiple of 0x4000.
        run = min(end, (n | 0x3FFF) + 1) - n
        block = array.array("h", bytes(run * FRAME))
        block[0::2] = array.array("h", range(1 + (n & 0x3FFF), 1 + (n & 0x3FFF) + run))
        block[1::2] = array.array("h", [1 + (n >> 14)]) * run
        out.extend(block)
        n += run
    if sys.byteorder != "little":
        out.byteswap()
    return out.tobytes()


def number_of(frame):
    """The number of a frame of the signal, None if it cannot be one."""
    left = int.from_bytes(frame[0:2], "little", signed=True)
    right = int.from_bytes(frame[2:4], "little", signed=True)
    if not 1 <= left <= 0x4000 or right < 1:
        return None
    return (left - 1) | ((right - 1) << 14)


def gen(args):
    path, start, frames = args[0], int(args[1]), int(args[2])
    with open(path, "wb") as f:
        f.write(signal(start, frames))
    return 0


def check(args):
    period = 480
    whole = []
    silence_first = silence_last = False
    signal_periods = None
    specs = []
    capture = None
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--period":
            period = int(args[i + 1])
            i += 1
        elif a == "--whole":
            whole.append(int(args[i + 1]))
            i += 1
        elif a == "--silence-first":
            silence_first = True
        elif a == "--silence-last":
            silence_last = True
        elif a == "--signal-periods":
            signal_periods = int(args[i + 1])
            i += 1
        elif capture is None:
            capture = a
        else:
            path, start = a.rsplit(":", 1)
            specs.append((path, int(start)))
        i += 1
    pbytes = period * FRAME
    sigs = []
    for path, start in specs:
        with open(path, "rb") as f:
            data = f.read()
        sigs.append((start, len(data) // FRAME, data))
    with open(capture, "rb") as f:
        cap = f.read()
    zero = bytes(pbytes)
    nperiods = len(cap) // pbytes
    problems = []
    # What each period of the capture is: None (silence) or (signal index, its period index).
    seen = []
    for k in range(nperiods):
        p = cap[k * pbytes:(k + 1) * pbytes]
        if p == zero:
            seen.append(None)
            continue
        n = number_of(p[0:FRAME])
        hit = None
        if n is not None:
            for s, (start, frames, data) in enumerate(sigs):
                off = n - start
                if 0 <= off < frames:
                    if off % period == 0 and data[off * FRAME:off * FRAME + pbytes] == p:
                        hit = (s, off // period)
                    break
        if hit is None:
            problems.append("period %d of the capture (frame %d) is neither silence nor a "
                            "whole, aligned period of a signal (first frame %s, number %s)"
                            % (k, k * period, p[0:FRAME].hex(), n))
            seen.append(("bad",))
            continue
        seen.append(hit)
    # The order: signal by signal, each a prefix of its periods, one after the other.
    got = [0] * len(sigs)
    cur = -1
    gaps = 0
    in_gap = False
    lead = 0
    trail = 0
    for k, x in enumerate(seen):
        if x is None:
            if cur < 0:
                lead += 1
            else:
                in_gap = True
            trail += 1
            continue
        trail = 0
        if len(x) == 1:
            continue
        s, idx = x
        if s < cur:
            problems.append("period %d of the capture is period %d of signal %d, after signal "
                            "%d began" % (k, idx, s, cur))
            continue
        if s > cur:
            cur = s
            in_gap = False
        elif in_gap:
            gaps += 1
            in_gap = False
        if idx != got[s]:
            problems.append("period %d of the capture is period %d of signal %d, where its "
                            "period %d was due" % (k, idx, s, got[s]))
        got[s] = max(got[s], idx + 1)
    total = sum(1 for x in seen if x is not None and len(x) == 2)
    print("# stat capture_periods %d" % nperiods)
    print("# stat capture_tail_frames %d" % ((len(cap) % pbytes) // FRAME))
    print("# stat silence_periods %d" % seen.count(None))
    print("# stat leading_silence_periods %d" % lead)
    print("# stat trailing_silence_periods %d" % trail)
    print("# stat signal_periods %d" % total)
    print("# stat periods_of_each_signal %s" % " ".join(
        "%d/%d" % (g, frames // period) for g, (_, frames, _) in zip(got, sigs)))
    print("# stat holdover_gaps_inside_a_signal %d" % gaps)
    for s, g in enumerate(got):
        if not g:
            problems.append("signal %d: none of its periods arrived" % s)
    for s in whole:
        if got[s] != sigs[s][1] // period:
            problems.append("signal %d: %d of its %d periods arrived"
                            % (s, got[s], sigs[s][1] // period))
    if silence_first and (not seen or seen[0] is not None):
        problems.append("the capture does not begin with silence")
    if silence_last and (not seen or seen[-1] is not None):
        problems.append("the capture does not end with silence")
    if signal_periods is not None and total != signal_periods:
        problems.append("%d periods of the signals arrived, %d were triggered"
                        % (total, signal_periods))
    for p in problems[:10]:
        print("# %s" % p)
    return 1 if problems else 0


def listing_ticks(tid):
    with open(LISTING) as f:
        for line in f:
            w = line.split()
            if w and w[0] == str(tid):
                return int(w[4]) + int(w[10])
    return None


def hw_ptr(status):
    with open(status) as f:
        for line in f:
            if line.startswith("hw_ptr"):
                return int(line.split(":")[1])
    return None


def snapshot(args):
    tid, status, base = int(args[0]), args[1], int(args[2])
    period = int(args[4]) if len(args) > 4 and args[3] == "--period" else 480
    end = time.monotonic() + 5
    attempts = 0
    last = None
    while time.monotonic() < end:
        attempts += 1
        a = listing_ticks(tid)
        h = hw_ptr(status)
        b = listing_ticks(tid)
        if a is None or h is None:
            print("# timer %d or the capture's hw_ptr (%s) is gone" % (tid, status))
            return 1
        if a != b:
            continue
        last = (a, h)
        if h == (a - base) * period:
            print("# stat ticks %d hw_ptr_periods %d snapshot_attempts %d"
                  % (a - base, h // period, attempts))
            return 0
        time.sleep(0.001)
    if last is None:
        print("# no snapshot: the ticks kept moving between the reads (%d attempts)" % attempts)
    else:
        print("# %d ticks of timer %d since the capture began, but its hw_ptr is %d frames "
              "(%d periods; %d attempts)" % (last[0] - base, tid, last[1],
                                            last[1] / period, attempts))
    return 1


def main():
    cmds = {"gen": gen, "check": check, "snapshot": snapshot}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
