#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The use case end to end, with the programs of examples/: sender -> UDP -> receiver ->
# hw:Loopback,0,0 -> snd-aloop -> hw:Loopback,1,0 -> listener, on the guest's loopback network.
# Runs in the guest with the timer device present (selftests/run.sh, testing/netaudio).
#
#   selftests/netaudio_test.sh [--plan] [-d SECONDS] [-t DEVICE] [-b PERIODS] [-c REGEX] [-P] [-T]
#                               [-l | -u]
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
# -P: without the persistent cases (below; selftests/run.sh gives it where persist_test does not run).
# -T: the guest keeps no time (the debug kernel's: KASAN and lockdep under TCG, beside another
# guest): the stall's silence against the receiver's gap is a figure, not a check.  There the
# receiver is descheduled for tens of milliseconds at a time (77 holdovers of its own in a 7 s
# stream, where stock and sid had none), between a TRIGGER and its reading of the clock too, and
# mismeasures the gap by as much (seen: 244 periods of silence for a measured 238.4).  Every
# other check of the case holds there.
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
#
# The persistent cases (utimer_persistent_..., in the default and -u sets unless -P; a device
# other than /dev/utimer skips them): rust_utimer is loaded again, from $UTIMER_KO (run.sh; else the stock
# build's), with timer 0 persistent (timers=0:48000/480: holdover after 2 periods), snd-aloop is
# pointed at it (timer_source -1.4.0), and arecord captures hw:Loopback,1,0 before any writer
# runs, into a file that the listener checks afterwards (-f); the receiver attaches to timer 0
# (-i 0).  Their streams are 4 s longer (-d + 4).  At the end rust_utimer is loaded again as
# run.sh loads it, without parameters.
# - sender_stall_2s: the sender is stopped (SIGSTOP) for 2 s a third into the stream; it resumes
#   in real time (-s).  arecord must run on, and the capture hold every frame in order, with the
#   silence of the stall: as many periods as the receiver's longest gap between two periods
#   played (from its TRIGGER before the stall to its play after it) spans, less two (the period
#   ahead, which the first holdover tick moves, and the one the receiver's next TRIGGER moves:
#   examples/receiver.c), within one period (and a tenth for measuring); all the silence in the
#   capture must be the module's holdover ticks between the stream's first and last periods as
#   the receiver counted them (silence_gaps, from the writer fd's fdinfo), or less: ALSA's timer
#   core merges a TRIGGER that comes while a holdover tick's callback runs into that tick (one
#   callback at a time per instance), which only a stall of the guest at that moment makes happen.
# - receiver_restart: the receiver is killed (SIGKILL) a third into the stream and started again
#   0.5 s later while the sender and arecord run: arecord must run on, and the capture be signal,
#   silence, signal: the frames sent while no receiver ran are missing at one run of silence
#   (skips=1), and nowhere else; every other frame in order.
# Holdover inserts silence whenever the receiver's TRIGGERs stop for 2 periods: a stall of the
# guest of 20 ms does that too (counted, and in real time, but a run of silence of its own), so
# other runs of silence are allowed as long as no frame is lost at them (their number is a
# figure, silence_runs).
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
no_persistent=
no_time=
periods=32
only=.
while getopts d:t:b:c:luPT opt; do
	case $opt in
	d) secs=$OPTARG ;;
	t) dev=$OPTARG ;;
	l) long=1 ;;
	u) utimer_only=1 ;;
	P) no_persistent=1 ;;
	T) no_time=1 ;;
	b) periods=$OPTARG ;;
	c) only=$OPTARG ;;
	*) echo "usage: $0 [-d SECONDS] [-t DEVICE] [-b PERIODS] [-c REGEX] [-P] [-T] [-l | -u]" >&2; exit 2 ;;
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
		# Last: they load rust_utimer again (persistent()).
		if [ -z "$no_persistent" ]; then
			echo "utimer_persistent_sender_stall_2s persistent -1.4.0 stall -s 100"
			echo "utimer_persistent_receiver_restart persistent -1.4.0 restart"
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

# figure NAME FILE: the value of NAME=... in FILE's last line that has it (NAME whole: not the
# end of another name).
figure() {
	grep -oE "(^| )$1=[^ ]*" "$2" | tail -1 | cut -d= -f2
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

# The persistent cases' module: run.sh's (UTIMER_KO), else the stock build's.
ko=${UTIMER_KO:-$(cd "$(dirname "$0")/.." && pwd)/build/stock/rust_utimer.ko}
# Set when rust_utimer was loaded with timers= ("ok") or could not be ("failed: WHY").
persistent_module=

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# capture_running: snd-aloop's capture side runs.
capture_running() {
	grep -q RUNNING /proc/asound/Loopback/pcm1c/sub0/status 2>/dev/null
}

# poll SECONDS CMD...: CMD every 0.2 s until it succeeds; 1 if it never did (a bound, not a pace).
poll() {
	_p=$(($1 * 5))
	shift
	until "$@"; do
		_p=$((_p - 1))
		[ $_p -gt 0 ] || return 1
		sleep 0.2
	done
}

# capture_complete: the capture's last 5 s hold the stream's last frame.
capture_complete() {
	tail -c $((5 * 48000 * 4)) "$tmp/cap" | "$bin/listener" -f - -d "$psecs" 2>/dev/null |
		grep -q 'complete=yes'
}

# reload_utimer [PARAM...]: rust_utimer loaded again from $ko with PARAMs; once udevd has applied
# its rule to the new node where run.sh installed one (later tests check the node's group).
reload_utimer() {
	if grep -q '^rust_utimer ' /proc/modules; then
		rmmod rust_utimer || return 1
	fi
	insmod "$ko" "$@" || return 1
	[ -n "${UTIMER_UDEV_RULE:-}" ] || return 0
	udevadm settle --timeout=30 2>/dev/null
	poll 30 sh -c '[ "$(stat -c "%G %a" /dev/utimer 2>/dev/null)" = "audio 660" ]'
}

# persistent NAME SOURCE EXPECT SENDER_ARGS...: a persistent case on snd-aloop's timer SOURCE
# (timer 0's), EXPECT stall or restart (above).
persistent() {
	name=$1 source=$2 expect=$3
	shift 3
	n=$((n + 1))
	if [ "$dev" != /dev/utimer ]; then
		echo "ok $n netaudio_$name # SKIP persistent timers are rust_utimer's (/dev/utimer), not $dev's"
		return
	fi
	if [ -z "$persistent_module" ]; then
		persistent_module=ok
		if [ ! -f "$ko" ]; then
			persistent_module="failed: no module at $ko (UTIMER_KO)"
		elif ! reload_utimer timers=0:48000/480; then
			persistent_module="failed: rust_utimer could not be loaded again from $ko with timers=0:48000/480"
		fi
	fi
	if [ "$persistent_module" != ok ]; then
		echo "not ok $n netaudio_$name # $persistent_module"
		failed=$((failed + 1))
		return
	fi
	why=
	rm -f "$tmp/cap"
	for f in rx rx2 lx tx ax; do : > "$tmp/$f"; done
	# Timer 0 is the clock of the cable's first open: arecord's, before any writer runs.
	echo "$source" > /proc/asound/Loopback/timer_source
	arecord -D hw:Loopback,1,0 -t raw -f S16_LE -c 2 -r 48000 --period-size=480 \
		--buffer-size=480000 "$tmp/cap" > "$tmp/ax" 2>&1 &
	ax=$!
	poll 60 capture_running || why="arecord did not start capturing"
	rx=
	if [ -z "$why" ]; then
		"$bin/receiver" -i 0 -n "$utimer_periods" > "$tmp/rx" 2>&1 &
		rx=$!
		wait_for "$tmp/rx" "receiver: ready" || why="the receiver did not start"
	fi
	tx_rc=1 stall_ms= restart_ms=
	if [ -z "$why" ]; then
		"$bin/sender" -d "$psecs" "$@" > "$tmp/tx" 2>&1 &
		tx=$!
		# A third into the stream.
		sleep $((psecs / 3))
		case $expect in
		stall)
			t0=$(now_ms)
			kill -STOP "$tx"
			sleep 2
			kill -CONT "$tx"
			stall_ms=$(($(now_ms) - t0))
			;;
		restart)
			t0=$(now_ms)
			kill -KILL "$rx"
			wait "$rx" 2>/dev/null
			sleep 0.5
			"$bin/receiver" -i 0 -n "$utimer_periods" > "$tmp/rx2" 2>&1 &
			rx=$!
			wait_for "$tmp/rx2" "receiver: ready" || why="the receiver did not start again"
			restart_ms=$(($(now_ms) - t0))
			;;
		esac
		wait "$tx"
		tx_rc=$?
		[ "$tx_rc" = 0 ] || why="${why:+$why; }the sender failed"
		# Until the stream's last frame is in the capture (or 20 s).
		poll 20 capture_complete
	fi
	if [ -n "$rx" ]; then
		kill -INT "$rx"
		wait "$rx"
	fi
	# Without a writer, holdover keeps the capture going: arecord must still run.
	sleep 0.5
	if kill -0 "$ax" 2>/dev/null; then
		kill -INT "$ax"
		wait "$ax"
		# Its only words: what it records, and the signal that stopped it.
		! grep -viE '^(Recording raw data|Aborted by signal Interrupt)' "$tmp/ax" | grep -q . ||
			why="${why:+$why; }arecord said: $(grep -viE '^(Recording|Aborted)' "$tmp/ax" | head -2 | tr '\n' ' ')"
	else
		wait "$ax"
		why="${why:+$why; }arecord stopped (exit $?): $(tail -2 "$tmp/ax" | tr '\n' ' ')"
	fi
	"$bin/listener" -f "$tmp/cap" -d "$psecs" > "$tmp/lx" 2>&1
	rxf=$tmp/rx
	[ "$expect" = restart ] && rxf=$tmp/rx2
	for f in frames missing silence disorder complete silence_runs silence_longest skips skipped; do
		echo "# stat netaudio_${name}_$f $(figure $f "$tmp/lx")"
	done
	for f in silence_before silence_gaps silence_after incomplete underruns dropped_frames \
		late_frames early_frames holdover_ticks resumes restarts overtaken longest_gap_ms; do
		echo "# stat netaudio_${name}_receiver_$f $(figure $f "$rxf")"
	done
	sed 's/^/# /' "$tmp/ax" "$tmp/tx" "$tmp/rx" "$tmp/rx2" "$tmp/lx"
	lx_ok=$(grep -c 'disorder=0 xruns=0 complete=yes' "$tmp/lx")
	[ "$lx_ok" = 1 ] || why="${why:+$why; }the capture is not the stream in order to its end"
	grep -q 'timer=persistent' "$rxf" || why="${why:+$why; }the receiver did not run on timer 0 to its end"
	seen=$(awk -v s="$(figure silence_longest "$tmp/lx")" 'BEGIN { printf "%.2f", s / 480 }')
	echo "# stat netaudio_${name}_gap_periods_seen $seen"
	case $expect in
	stall)
		gap=$(figure longest_gap_ms "$rxf")
		expected=$(awk -v g="$gap" 'BEGIN { printf "%.2f", g / 10 - 2 }')
		echo "# stat netaudio_${name}_stall_ms $stall_ms"
		echo "# stat netaudio_${name}_sender_stalled_ms $(figure stalled_ms "$tmp/tx")"
		echo "# stat netaudio_${name}_gap_ms $gap"
		echo "# stat netaudio_${name}_gap_periods_expected $expected"
		# Every frame; the stall's silence as long as the gap, within a period (and a tenth of
		# one for measuring: the receiver reads its clock after its TRIGGER and before its
		# TAKE, the module counts from inside them); all silence the module's holdover ticks.
		[ "$(figure missing "$tmp/lx")" = 0 ] && [ "$(figure skips "$tmp/lx")" = 0 ] ||
			why="${why:+$why; }frames lost"
		grep -q 'incomplete=0 underruns=0 dropped_frames=0 late_frames=0 early_frames=0' "$rxf" ||
			why="${why:+$why; }the receiver lost or dropped frames"
		if [ -n "$no_time" ]; then
			echo "# the stall's silence against the receiver's gap is a figure here (-T)"
		else
			awk -v s="$seen" -v e="$expected" 'BEGIN { d = s - e; exit !(d <= 1.1 && d >= -1.1) }' ||
				why="${why:+$why; }$seen periods of silence for a gap of $expected"
		fi
		gaps=$(figure silence_gaps "$rxf")
		silence=$(figure silence "$tmp/lx")
		echo "# stat netaudio_${name}_silence_periods_counted ${gaps:-}"
		echo "# stat netaudio_${name}_silence_periods_seen $((${silence:-0} / 480))"
		[ "${silence:-1}" -le "$((${gaps:-0} * 480))" ] 2>/dev/null ||
			why="${why:+$why; }more silence in the capture than holdover ticks (silence_gaps)"
		awk -v t="$(figure stalled_ms "$tmp/tx")" 'BEGIN { exit !(t >= 1900) }' ||
			why="${why:+$why; }the sender was not stalled 2 s"
		;;
	restart)
		echo "# stat netaudio_${name}_restart_ms $restart_ms"
		# The frames sent while no receiver ran are missing at one run of silence, no other.
		[ "$(figure skips "$tmp/lx")" = 1 ] &&
			[ "$(figure missing "$tmp/lx")" = "$(figure skipped "$tmp/lx")" ] ||
			why="${why:+$why; }not signal, silence, signal with each segment whole"
		grep -q 'underruns=0 dropped_frames=0 late_frames=0 early_frames=0' "$rxf" &&
			[ "$(figure incomplete "$rxf")" -le 1 ] 2>/dev/null ||
			why="${why:+$why; }the restarted receiver lost or dropped frames"
		;;
	esac
	if [ -z "$why" ]; then
		echo "ok $n netaudio_$name"
	else
		echo "not ok $n netaudio_$name # $why"
		failed=$((failed + 1))
	fi
}

utimer_periods=$periods
# The persistent cases' streams: 4 s longer than the others (the stall, the restart, and a
# receiver that takes long to start on a loaded machine must leave some stream to deliver).
psecs=$((secs + 4))
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
	if [ "$clock" = persistent ]; then
		persistent "$name" "$source" "$expect" $args < /dev/null
	else
		check "$name" "$clock" "$source" "$expect" $args < /dev/null
	fi
done < "$tmp/cases"
echo "" > /proc/asound/Loopback/timer_source
# rust_utimer as run.sh loaded it (no persistent timer); a failure fails the run.
if [ -n "$persistent_module" ] && ! reload_utimer; then
	echo "# rust_utimer could not be loaded again from $ko without parameters"
	failed=$((failed + 1))
fi
rm -rf "$tmp"
[ "$failed" = 0 ]
