#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The use case end to end, with the programs of examples/: sender -> UDP -> receiver ->
# hw:Loopback,0,0 -> snd-aloop -> hw:Loopback,1,0 -> listener, on the guest's loopback network.
# Runs in the guest with the timer device present (selftests/run.sh, testing/netaudio).
#
#   selftests/netaudio_test.sh [--plan] [-d SECONDS] [-t DEVICE] [-b PERIODS] [-c REGEX] [-l | -u]
#
# On a utimer the listener must get the sender's stream perfect at every drift (whatever the
# sender's clock does, aloop follows it), and a network gap must come out as counted silence,
# nothing lost.  On snd-aloop's own clock (jiffies, hrtimer) the same drift must damage the
# stream: that proves the listener sees damage, and gives the contrast's figures.  Every case
# prints "# stat netaudio_<case>_<figure> VALUE" for the tables.  -l: the long run's cases
# (testing/netaudio), figures only for the aloop clocks.  -u: the utimer cases only (the debug
# kernel's guest is too slow for aloop's own clocks to mean anything: a 6 s stream takes 10 s).
# -c REGEX: only the cases whose names match (the debug kernel's guest: every case goes through
# the same kernel code, only the sender's clock differs, and each costs it about 37 s).
# -b: the ALSA buffer of the utimer cases, in periods (default 32: 320 ms).  The buffer is what
# absorbs a stall of the guest: the listener's capture overruns when it is not scheduled for a
# buffer's time, and the receiver plays keep-alive silence when nothing arrived for half of it
# (plus 10 %).  Under TCG on a shared 2-core machine stalls of 50 to 100 ms are common (seen:
# 8 capture xruns with 8 periods, 80 ms, on the first case after boot; the debug kernel's
# sender stalls past 50 ms), so 32 periods: 320 ms of capture, keep-alive after 176 ms, still
# well under the 400 ms gap the gap case must show as silence.  A network with that much jitter
# would need the same.  The jiffies cases keep 8 periods: they must show damage, and a stall
# only adds to it.  The listener, the checker, captures into a buffer of its own of 128 periods
# (1.28 s; snd-aloop matches the two sides' format, rate, channels and period size, not their
# buffers): seen under a CPU hog on the debug kernel, a 320 ms capture buffer overran once
# while the stream itself was whole.
set -u
# --plan (anywhere among the options): print the number of results these options give, and exit.
plan_only=
for a do
	shift
	if [ "$a" = --plan ]; then plan_only=1; else set -- "$@" "$a"; fi
done
bin=${UTIMER_BIN:-$(cd "$(dirname "$0")" && pwd)/build}/examples
secs=6
dev=/dev/utimer
long=
utimer_only=
periods=32
only=.
while getopts d:t:b:c:lu opt; do
	case $opt in
	d) secs=$OPTARG ;;
	t) dev=$OPTARG ;;
	l) long=1 ;;
	u) utimer_only=1 ;;
	b) periods=$OPTARG ;;
	c) only=$OPTARG ;;
	*) echo "usage: $0 [-d SECONDS] [-t DEVICE] [-b PERIODS] [-c REGEX] [-l | -u]" >&2; exit 2 ;;
	esac
done
# The cases these options select, a line each: NAME CLOCK SOURCE EXPECT SENDER_ARGS ("-" for
# aloop's default source).  Jitter of 4 ms on packets 2.5 ms apart: they overtake each other.
j="-j 4000"
cases() {
	if [ -z "$long" ]; then
		echo "utimer_sender_1000ppm_fast utimer - perfect -D 1000 $j"
		echo "utimer_sender_1000ppm_slow utimer - perfect -D -1000 $j"
		echo "utimer_sender_2pct_fast utimer - perfect -D 20000 $j"
		echo "utimer_sender_2pct_slow utimer - perfect -D -20000 $j"
		echo "utimer_network_gap_400ms utimer - gap -g $((secs / 2)):400"
		if [ -z "$utimer_only" ]; then
			echo "jiffies_sender_2pct_fast aloop - damaged -D 20000 $j"
			echo "jiffies_sender_2pct_slow aloop - damaged -D -20000 $j"
		fi
	else
		for ppm in 1000 0 -1000; do
			echo "utimer_${ppm}ppm utimer - perfect -D $ppm $j"
			echo "jiffies_${ppm}ppm aloop - figures -D $ppm $j"
			echo "hrtimer_${ppm}ppm aloop hrtimer figures -D $ppm $j"
		done
	fi | awk -v re="$only" '$1 ~ re'
}
plan=$(cases | wc -l)
if [ -n "$plan_only" ]; then
	echo "$plan"
	exit 0
fi
tmp=$(mktemp -d)
n=0
failed=0

# wait_for FILE TEXT: until a line of FILE starts with TEXT (60 s at most: a bound, not a pace).
wait_for() {
	i=0
	while ! grep -q "^$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 600 ] || return 1
		sleep 0.1
	done
}

# figure NAME FILE: the value of NAME=... in FILE's last line that has it.
figure() {
	grep -o "$1=[^ ]*" "$2" | tail -1 | cut -d= -f2
}

# pipeline CLOCK PERIODS SENDER_ARGS...: one run of the three programs; leaves their output in
# $tmp.
pipeline() {
	clock=$1 periods=$2
	shift 2
	: > "$tmp/rx"
	: > "$tmp/lx"
	: > "$tmp/tx"
	"$bin/receiver" -c "$clock" -t "$dev" -n "$periods" > "$tmp/rx" 2>&1 &
	rx=$!
	if ! wait_for "$tmp/rx" "receiver: ready"; then
		kill "$rx" 2>/dev/null
		wait "$rx"
		return 1
	fi
	"$bin/listener" -d "$secs" -n 128 > "$tmp/lx" 2>&1 &
	lx=$!
	wait_for "$tmp/lx" "listener: ready" &&
		"$bin/sender" -d "$secs" "$@" > "$tmp/tx" 2>&1
	tx_rc=$?
	wait "$lx"
	kill -INT "$rx"
	wait "$rx"
	# It ran: the sender sent its whole stream, and the listener captured some of it.
	[ "$tx_rc" = 0 ] && [ "$(figure frames "$tmp/lx")" -gt 0 ] 2>/dev/null
}

# check NAME CLOCK SOURCE EXPECT SENDER_ARGS...: EXPECT is perfect, gap or damaged.
check() {
	name=$1 clock=$2 source=$3 expect=$4
	shift 4
	n=$((n + 1))
	echo "$source" > /proc/asound/Loopback/timer_source
	p=$utimer_periods
	[ "$clock" = utimer ] || p=8
	pipeline "$clock" "$p" "$@"
	ran=$?
	for f in frames missing silence disorder xruns complete; do
		echo "# stat netaudio_${name}_$f $(figure $f "$tmp/lx")"
	done
	for f in silence_gaps incomplete underruns dropped_frames late_frames; do
		echo "# stat netaudio_${name}_receiver_$f $(figure $f "$tmp/rx")"
	done
	sed 's/^/# /' "$tmp/tx" "$tmp/rx" "$tmp/lx"
	gaps=$(figure silence_gaps "$tmp/rx")
	case $expect in
	perfect) # every frame, in order, nothing inserted, nothing dropped on the way
		grep -q 'missing=0 silence=0 disorder=0 xruns=0 complete=yes' "$tmp/lx" &&
			[ "$gaps" = 0 ] && grep -q 'incomplete=0 underruns=0 dropped_frames=0 late_frames=0' "$tmp/rx" ;;
	gap) # every frame, in order; the gap came out as the receiver's counted silence
		grep -q 'missing=0 silence=[1-9][0-9]* disorder=0 xruns=0 complete=yes' "$tmp/lx" &&
			[ "$(figure silence "$tmp/lx")" = "$((${gaps:-0} * 480))" ] ;;
	damaged) # the listener saw what drift does without a utimer (in a stream that ran)
		[ "$ran" = 0 ] && ! grep -q 'missing=0 silence=0 disorder=0 xruns=0 complete=yes' "$tmp/lx" ;;
	figures) # the long run's contrast: its figures, from a stream that ran
		[ "$ran" = 0 ] ;;
	esac
	if [ $? = 0 ]; then
		echo "ok $n netaudio_$name"
	else
		echo "not ok $n netaudio_$name # expected $expect$([ "$ran" = 0 ] || echo ", but the stream did not run: sender or listener failed")"
		failed=$((failed + 1))
	fi
}

utimer_periods=$periods
echo "TAP version 13"
echo "1..$plan"
if ! modprobe snd-aloop; then
	echo "Bail out! modprobe snd-aloop failed"
	exit 1
fi
cases > "$tmp/cases"
while read -r name clock source expect args; do
	[ "$source" != - ] || source=
	# shellcheck disable=SC2086
	check "$name" "$clock" "$source" "$expect" $args < /dev/null
done < "$tmp/cases"
echo "" > /proc/asound/Loopback/timer_source
rm -rf "$tmp"
[ "$failed" = 0 ]
