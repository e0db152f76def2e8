#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The utimer PCM (tools/alsa-plugin), in the guest (selftests/run.sh): unmodified ALSA programs
# (aplay, sox, GStreamer) write a known signal into it while arecord captures the loopback's other side,
# hw:Loopback,1,0; and what a user meets when something is wrong.
#   selftests/alsa_plugin_test.sh MODULE.ko | --plan
# KTAP; rust_utimer and snd-aloop must not be loaded when it starts (it loads and unloads them).
#
# Each stream: the writer opens the PCM (the plugin creates timer 0) and waits for its input on a
# FIFO; arecord then starts on the capture side (its buffer, 10 s, is longer than any stream:
# it never overruns, and waits 11 s for the first period before ALSA gives up); then the FIFO
# is fed, at once or throttled by pv.  The capture must be the input byte for byte, then the
# silence drain padded the last partial period with, nothing more; neither side may report an
# xrun; and the timer must be gone when the writer has exited.  The pace cases compare the
# capture's duration with the audio's, in the direction the writer's throttle makes certain
# (pv at half speed cannot be done sooner than twice the audio's duration) and, for the fast
# case, with a bound of six times the writer's own duration (three quarters of the audio's;
# skipped on a guest whose unthrottled stream is not twice as fast as real time).
# Last, on rust_utimer loaded again with a persistent timer 0 (timers=0:48000/480), the
# plugin as that timer's writer: a capture started before any writer, writers killed and
# restarted under it, stalls and pauses longer than the holdover ("Persistent timers" below);
# then both modules are unloaded, as when it started.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/ktap.sh"
ktap_plan_or_exit 53 "${1:-}"
ko=$1
. "$here/plugin_lib.sh"
rust_utimer_listing
# alsa-lib reads ~/.asoundrc: the plugin from the build, the shipped definition (pcm.utimer),
# and the PCMs of the error cases.
{
	asoundrc_head
	echo 'pcm.netaudio { type utimer; slave.pcm "hw:Loopback,0,0"; timer 0 }'
	echo 'pcm.tiny_period { type utimer; timer 0; period_size 2 }'
	echo 'pcm.slow_period { type utimer; timer 0; period_size 960 }'
} > "$tmp/.asoundrc"
silence1s="head -c $((rate * 4)) /dev/zero"
fails plugin_says_when_rust_utimer_is_not_loaded "rust_utimer is not loaded" \
	aplay -D netaudio $fmt -d 1 /dev/zero
modprobe snd-timer
insmod "$ko" || ktap_exit_fail_msg "insmod $ko failed"
modprobe snd-aloop
fails plugin_says_when_snd_aloop_runs_on_another_clock "timer_source=-1.4.0" \
	aplay -D netaudio $fmt -d 1 /dev/zero
rmmod snd-aloop
modprobe snd-aloop timer_source=-1.4.0

stream aplay cat aplay -D netaudio $fmt "$tmp/fifo"
unthrottled_ms=$secs
stream aplay_mmap cat aplay -D netaudio --mmap $fmt "$tmp/fifo"
stream aplay_nonblock cat aplay -D netaudio -N $fmt "$tmp/fifo"
stream aplay_pcm_utimer_of_alsa_conf_d cat aplay -D utimer:TIMER=0 $fmt "$tmp/fifo"
stream aplay_pcm_utimer_with_a_quoted_slave cat \
	aplay -D "utimer:TIMER=0,SLAVE='hw:Loopback,0,0',RATE=48000" $fmt "$tmp/fifo"
# sox, another writer (it pads its last chunk itself too, as aplay does: plugin_client checks
# the drain's own padding).
sox_fmt="-t raw -r $rate -e signed -b 16 -c 2"
stream sox cat sox -q $sox_fmt "$tmp/fifo" -t alsa netaudio
# GStreamer: a pipeline that ends in fdsink, piped into aplay.  (Its alsasink cannot be the clock:
# its ring-buffer thread writes each segment when the device takes one, filled by the pipeline
# or still silent, and this device takes one at once: Documentation/usage.rst.)
export GST_REGISTRY=$tmp/gst-registry.bin
# (its registry, built by the first GStreamer program: seconds here, not during a stream)
gst-inspect-1.0 wavparse > /dev/null 2>&1
sox $sox_fmt "$tmp/in.raw" "$tmp/in.wav"
stream gstreamer_fdsink_into_aplay "cat $tmp/in.wav" sh -c \
	"gst-launch-1.0 -q filesrc location=$tmp/fifo ! wavparse ! fdsink fd=1 | aplay -D netaudio $fmt"
# The network receiver: RTP (L16) over UDP from a sender that paces itself in real time (udpsink
# syncs on its clock).  Both start before the capture (the sender waits for the FIFO: its
# start-up, seconds on the debug kernel, is not in the time the capture waits for data); once
# the whole periods have arrived, the sender's side stops the receiver (SIGINT) and aplay drains
# the tail.
ip link set lo up 2>/dev/null
rtp="application/x-rtp,media=audio,clock-rate=$rate,encoding-name=L16,channels=2"
whole=$((frames / period * period * 4))
stream gstreamer_rtp_receiver_into_aplay "cat $tmp/in.wav" sh -c "
	{ gst-launch-1.0 -q filesrc location=$tmp/fifo ! wavparse ! audioconvert ! rtpL16pay \
		! udpsink host=127.0.0.1 port=5004 &&
	  while [ \$(stat -c %s $tmp/out.raw 2>/dev/null || echo 0) -lt $whole ]; do sleep 0.1; done
	  pkill -INT -x gst-launch-1.0; } &
	gst-launch-1.0 -q udpsrc port=5004 buffer-size=4194304 caps='$rtp' ! rtpL16depay \
		! audioconvert ! audio/x-raw,format=S16LE ! fdsink fd=1 | aplay -D netaudio $fmt"

# The pace: pv feeds the signal at half and at eight times real time.
audio_ms=$((frames * 1000 / rate))
stream aplay_fed_at_half_speed "pv -q -L $((rate * 2))" aplay -D netaudio $fmt "$tmp/fifo"
[ "$secs" -ge $((audio_ms * 3 / 2)) ]
ktap_check $? plugin_capture_follows_a_slow_writer "capture took $secs ms for $audio_ms ms of audio fed at half speed"
stream aplay_fed_at_eight_times_speed "pv -q -L $((rate * 32))" aplay -D netaudio $fmt "$tmp/fifo"
# A guest that cannot write much faster than real time (the debug kernel's: KASAN) cannot show
# it: skipped where an unthrottled stream took more than half the audio's duration.
if [ "$unthrottled_ms" -gt $((audio_ms / 2)) ]; then
	ktap_test_skip "plugin_capture_follows_a_fast_writer (an unthrottled stream took $unthrottled_ms ms for $audio_ms ms of audio here)"
else
	[ "$secs" -lt $((audio_ms * 3 / 4)) ]
	ktap_check $? plugin_capture_follows_a_fast_writer "capture took $secs ms for $audio_ms ms of audio fed at eight times speed"
fi

# relay_client TEST...: plugin_client's result for each TEST (its output in $tmp/client), as ours.
relay_client() {
	for t do
		grep -q "^ok [0-9]* $t" "$tmp/client"
		ktap_check $? "$t" "$(grep -v '^ok' "$tmp/client" | head -5 | tr '\n' ' ')"
	done
}

# alsa-lib's API as a program drives a hw PCM (selftests/plugin_client.c): its results, relayed.
"$b/plugin_client" netaudio > "$tmp/client" 2>&1
relay_client plugin_close_destroys_the_timer_while_the_program_lives \
	plugin_start_pause_drop_prepare_drain_as_on_a_hw_pcm \
	plugin_slave_buffer_is_the_programs_not_the_largest \
	plugin_rewind_forward_reset_keep_the_slave_in_step \
	plugin_stalled_slave_fails_at_once_and_recovers plugin_pause_release_refused_keeps_the_periods \
	plugin_avail_min_is_bounded_so_poll_wakes plugin_slave_xrun_is_the_programs_epipe_and_recovers

# tone NAME RATE: aplay plays a WAV file of 2 s of a 1 kHz sine at RATE into pcm.utimer (plug
# in front of the plugin: resampled to the timer's 48 kHz) while arecord captures all but its
# last 20 ms (the resampler's count of frames is not exact): aplay fed the file's header first
# (it opens the PCM, making the timer, once it knows the rate), arecord started, then the rest.
# The capture holds the tone at 1 kHz within 1 Hz (tone_check: zero crossings) and no run of
# silence longer than a period.
tone() {
	name=$1 r=$2
	rm -f "$tmp/tone.wav"
	sox -n -r "$r" -c 2 -b 16 -e signed-integer "$tmp/tone.wav" synth 2 sine 1000 vol 0.5
	play_and_capture "$tmp/tone.wav" $(($(stat -c %s "$tmp/tone.wav") - 2 * r * 4)) \
		$((2 * rate - 2 * period)) cat aplay -D utimer "$tmp/fifo"
	tone_heard "$name" "$tmp/out.raw" 1000
	heard=$?
	[ $wrc = 0 ] && [ $rrc = 0 ] && [ $heard = 0 ] && ! grep -qiE 'xrun|underrun|overrun' "$tmp/w.log" "$tmp/r.log" && wait_until 10 no_timer
	ktap_check $? "plugin_${name}" "writer exit $wrc, arecord exit $rrc; $res; $(grep -hiE 'error|xrun|warning' "$tmp/w.log" "$tmp/r.log" | head -3)"
}
tone utimer_pcm_resamples_44100_hz_and_the_tone_arrives 44100
tone utimer_pcm_resamples_96000_hz_and_the_tone_arrives 96000

# The plugin itself offers its timer's rate only: a program asking for another gets that one
# (aplay says so, and plays), rather than a refusal.
timeout 60 sh -c "$silence1s | aplay -D netaudio -t raw -f S16_LE -c 2 -r 44100 -" > "$tmp/out" 2>&1
rc=$?
[ $rc = 0 ] && has "$tmp/out" "got = 48000Hz" && no_timer
ktap_check $? plugin_offers_its_timers_rate_to_a_program_asking_another \
	"exit $rc; says: $(head -c 300 "$tmp/out")"

# What the timer cannot serve, and the id taken.
fails plugin_refuses_a_period_below_100us_saying_what_to_set 'set another "period_size"' \
	sh -c "$silence1s | aplay -D tiny_period $fmt -"
fails plugin_refuses_a_buffer_too_small_saying_what_to_set 'use a buffer of at least' \
	sh -c "$silence1s | aplay -D netaudio $fmt --period-size=300 --buffer-size=600 -"
while_held netaudio --id 0 -r $rate -p $period
[ $rc != 0 ] && [ $rc != 124 ] && has "$tmp/out" "timer 0 is taken" && [ "$held" = 1 ]
ktap_check $? plugin_says_when_its_timer_id_is_taken "exit $rc; says: $(head -c 300 "$tmp/out")"

# The order: the capture side opened before any writer created the timer cannot open (snd-aloop
# opens its clock with the cable's first side); opened after, it works (the streams above).
timeout 60 arecord -D hw:Loopback,1,0 $fmt -d 1 /dev/null > "$tmp/out" 2>&1
rc=$?
[ $rc != 0 ] && [ $rc != 124 ] && has "$tmp/out" "No such device"
ktap_check $? plugin_capture_opened_before_the_timer_fails_with_enodev "exit $rc; says: $(head -c 300 "$tmp/out")"

# A capture side that outlives its writer keeps that writer's closed timer: the next writer
# cannot start the cable, and says why.
stream_open_capture() {
	rm -f "$tmp/fifo"
	mkfifo "$tmp/fifo"
	timeout 120 aplay -D netaudio $fmt "$tmp/fifo" > "$tmp/w.log" 2>&1 &
	wpid=$!
	exec 3<> "$tmp/fifo"
	wait_until 60 timer_listed 0
	arecord -D hw:Loopback,1,0 $fmt --period-size=$period --buffer-size=$((10 * rate)) \
		-s $((10 * rate)) "$tmp/out.raw" > "$tmp/r.log" 2>&1 3>&- &
	rpid=$!
	wait_until 60 capture_running
	timeout 120 cat "$tmp/in.raw" >&3
	exec 3>&-
	wait "$wpid"
}
stream_open_capture
fails plugin_new_writer_with_the_old_capture_still_open_says_so "close the capture and open it again" \
	aplay -D netaudio $fmt "$tmp/in.raw"
kill "$rpid" 2>/dev/null
wait "$rpid"

# ---- Persistent timers: timer 0 made at load (timers=0:48000/480, holdover 2 periods), as at
# boot, snd-aloop on it, and its capture side started before any writer: the plugin attaches
# to the timer (and detaches on close, the capture running on), takes the clock before it
# starts or resumes (UTIMER_IOCTL_TAKE), gives the slave silence fill, and resyncs with what
# holdover moved (tools/alsa-plugin/pcm_utimer.c).  The signals number their frames
# (selftests/plugin_signal.py), so that the checker finds each captured period in them.
# Writers play whole periods of 480 frames (--period-size), so that all arrives whole and
# period-aligned: silence where no writer triggers (holdover), and the signals' periods in
# order, each once.  A writer that stalls for more than two periods in the middle of its stream
# (pv's bursts, a loaded guest) gets silence there, counted: "holdover_gaps_inside_a_signal".
# (An aplay that reaches the end of a raw file that ends with a whole chunk writes one chunk of
# silence more: playback_go() calls pcm_write() with 0 frames, which pads them to a chunk.
# That period is triggered too: one TRIGGER of each such writer is silence.)
rmmod snd-aloop
rmmod rust_utimer
insmod "$ko" timers=0:$rate/$period
echo "# persistent timers: insmod timers=0:$rate/$period: $?"
modprobe snd-aloop timer_source=-1.4.0
sig="python3 $here/plugin_signal.py"
status_c=/proc/asound/Loopback/pcm1c/sub0/status
wfmt="$fmt --period-size=$period --buffer-size=$((10 * period))"
# col0 N: column N of timer 0's line of the listing (5 triggers, 8 persistent, 9 writer, 10
# state, 11 holdover ticks).
col0() { awk -v c="$1" '$1 == 0 { print $c }' "$listing" 2>/dev/null; }
# trig0s / ticks0: timer 0's TRIGGERs / TRIGGERs and holdover ticks (0 when it is not listed).
trig0s() { awk '$1 == 0 { n = $5 } END { print n + 0 }' "$listing" 2>/dev/null; }
ticks0() { awk '$1 == 0 { n = $5 + $11 } END { print n + 0 }' "$listing" 2>/dev/null; }
triggered_since() { [ $(($(trig0s) - $1)) -ge "$2" ]; }
writer_is() { [ "$(col0 9)" = "$1" ]; }
# capture_start: arecord on the capture side, into $tmp/cap.raw, from timer 0's ticks $base on
# (TRIGGERs $trig0 on).
capture_start() {
	rm -f "$tmp/cap.raw"
	base=$(ticks0) trig0=$(trig0s)
	arecord -D hw:Loopback,1,0 $fmt --period-size=$period --buffer-size=$((10 * rate)) \
		"$tmp/cap.raw" > "$tmp/cap.log" 2>&1 &
	cpid=$!
	wait_until 60 capture_running
}
# capture_stop NAME: the snapshot of the ticks and the capture's hw_ptr (its result in $snaprc),
# then arecord stopped by SIGINT (aplay.c's handler exits 1, "Aborted by signal"): $capture_ok
# is 0 when it was running until then and said nothing else.  $trig: the TRIGGERs meanwhile.
capture_stop() {
	$sig snapshot 0 $status_c "$base" > "$tmp/snap" 2>&1
	snaprc=$?
	sed -n "s/^# stat /# stat plugin_persistent_$1_/p" "$tmp/snap"
	kill -0 "$cpid" 2>/dev/null
	alive=$?
	kill -INT "$cpid" 2>/dev/null
	wait "$cpid"
	crc=$?
	trig=$(($(trig0s) - trig0))
	[ $alive = 0 ] && [ $crc = 1 ] && has "$tmp/cap.log" "Aborted by signal" &&
		! grep -v "Aborted by signal" "$tmp/cap.log" | grep -qiE 'error|xrun|overrun|No such'
	capture_ok=$?
	cdiag="arecord: running at the end: $([ $alive = 0 ] && echo yes || echo no), exit $crc,"
	cdiag="$cdiag says: $(grep -v '^Recording' "$tmp/cap.log" | head -3 | tr '\n' ' ')"
}
# checked NAME ARGS...: the checker's result, its figures as "# stat plugin_persistent_NAME_...".
checked() {
	name=$1
	shift
	$sig check "$tmp/cap.raw" "$@" > "$tmp/chk" 2>&1
	chkrc=$?
	sed -n "s/^# stat /# stat plugin_persistent_${name}_/p" "$tmp/chk"
	chkdiag=$(grep -v '^# stat' "$tmp/chk" | head -5 | tr '\n' ' ')
	return $chkrc
}

# The boot order: the capture first, a writer a second later (200 periods, as fast as it
# writes), then none for a second.
$sig gen "$tmp/boot.raw" 0 $((200 * period))
capture_start
sleep 1
timeout 120 aplay -D netaudio $wfmt "$tmp/boot.raw" > "$tmp/w.log" 2>&1
wrc=$?
sleep 1
after=$(awk '$1 == 0' "$listing" 2>/dev/null)
capture_stop boot
[ $capture_ok = 0 ] && [ $wrc = 0 ]
ktap_check $? plugin_persistent_capture_opened_before_any_writer_runs_through_it \
	"$cdiag; writer exit $wrc: $(head -c 300 "$tmp/w.log")"
checked boot "$tmp/boot.raw:0" --whole 0 --silence-first --silence-last \
	--signal-periods $((trig - 1))
ktap_check $? plugin_persistent_boot_order_capture_is_silence_the_signal_whole_silence "$chkdiag"
ktap_check $snaprc plugin_persistent_boot_order_aloop_sees_every_tick_once \
	"$(grep -v '^# stat' "$tmp/snap")"
# The writer gone: the timer stays, without a writer, in holdover (the capture runs on).
printf '%s\n' "$after" | awk '{ exit !($8 == 1 && $9 == 0 && $10 == "holdover") }'
ktap_check $? plugin_persistent_writer_gone_the_timer_stays_in_holdover "listing: $after"

# Restarts: one capture throughout; three writers, each fed at real time (pv) and killed
# (SIGKILL) once 50 of its periods were triggered, then a fourth that plays 100 periods whole.
# Writer r's signal is numbered from r << 20.
for r in 0 1 2; do
	$sig gen "$tmp/run$r.raw" $((r << 20)) $((20 * rate))
done
$sig gen "$tmp/run3.raw" $((3 << 20)) $((100 * period))
capture_start
sleep 0.5
killed=
for r in 0 1 2; do
	rm -f "$tmp/feed"
	mkfifo "$tmp/feed"
	t=$(trig0s)
	aplay -D netaudio $wfmt "$tmp/feed" > "$tmp/w$r.log" 2>&1 &
	apid=$!
	pv -q -L $((rate * 4)) "$tmp/run$r.raw" > "$tmp/feed" 2>/dev/null &
	ppid=$!
	wait_until 60 triggered_since "$t" 50
	kill -KILL "$apid"
	wait "$apid"
	killed="$killed $?"
	kill "$ppid" 2>/dev/null
	wait "$ppid"
	sleep 0.3
done
timeout 120 aplay -D netaudio $wfmt "$tmp/run3.raw" > "$tmp/w.log" 2>&1
wrc=$?
sleep 0.5
capture_stop restarts
[ $capture_ok = 0 ] && [ "$killed" = " 137 137 137" ] && [ $wrc = 0 ]
ktap_check $? plugin_persistent_capture_runs_through_killed_and_restarted_writers \
	"$cdiag; killed writers' statuses:$killed (137: killed mid-stream); they said: $(
		cat "$tmp/w0.log" "$tmp/w1.log" "$tmp/w2.log" | grep -v '^Playing' | head -c 300);
	last writer exit $wrc: $(head -c 300 "$tmp/w.log")"
checked restarts "$tmp/run0.raw:0" "$tmp/run1.raw:$((1 << 20))" "$tmp/run2.raw:$((2 << 20))" \
	"$tmp/run3.raw:$((3 << 20))" --whole 3 --silence-first --silence-last \
	--signal-periods $((trig - 1))
ktap_check $? plugin_persistent_restarts_capture_is_whole_periods_of_each_writer_in_order "$chkdiag"
ktap_check $snaprc plugin_persistent_restarts_aloop_sees_every_tick_once \
	"$(grep -v '^# stat' "$tmp/snap")"

# alsa-lib's API (selftests/plugin_client.c --persistent): stall and pause, with a capture.
capture_start
"$b/plugin_client" --persistent netaudio > "$tmp/client" 2>&1
capture_stop client
relay_client plugin_persistent_close_detaches_and_the_timer_stays \
	plugin_persistent_stall_sends_the_partial_period_padded_and_resyncs \
	plugin_persistent_start_and_resume_take_the_clock_pause_keeps_data

# What a persistent timer cannot serve, and its writer's place taken.
timeout 60 aplay -D slow_period $fmt -d 1 /dev/zero > "$tmp/out" 2>&1
rc=$?
[ $rc != 0 ] && [ $rc != 124 ] && has "$tmp/out" "make timer 0 for them (timers=0:48000/960)" &&
	[ "$(col0 8) $(col0 9)" = "1 0" ]
ktap_check $? plugin_persistent_refuses_another_resolution_saying_what_to_set \
	"exit $rc; says: $(head -c 400 "$tmp/out"); listing: $(awk '$1 == 0' "$listing")"
rm -f "$tmp/hold"
mkfifo "$tmp/hold"
aplay -D netaudio $fmt "$tmp/hold" > "$tmp/hold.log" 2>&1 &
hpid=$!
exec 4> "$tmp/hold"
wait_until 60 writer_is "$hpid"
timeout 60 aplay -D netaudio $fmt -d 1 /dev/zero > "$tmp/out" 2>&1
rc=$?
[ $rc != 0 ] && [ $rc != 124 ] && writer_is "$hpid" &&
	has "$tmp/out" "timer 0 has a writer already (pid $hpid, aplay)"
ktap_check $? plugin_persistent_says_when_the_timer_has_a_writer \
	"exit $rc; says: $(head -c 300 "$tmp/out")"
exec 4>&-
wait $hpid

# The module's plain load again, as the tests after this one expect it: unloaded.
kill "$cpid" 2>/dev/null
rmmod snd-aloop
rmmod rust_utimer
ktap_check $? plugin_leaves_rust_utimer_unloadable
rm -rf "$tmp"
ktap_finished
