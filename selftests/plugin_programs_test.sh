#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Players and a sound server no one here wrote, into the utimer PCM as their users point them at
# it (pcm.utimer: plug in front of the plugin, tools/alsa-plugin/60-utimer.conf), in the guest
# (selftests/run.sh): mpg123 on an MP3 file, speaker-test, a pyalsaaudio program with that
# library's defaults and writes of odd sizes, alsaloop from a capture device that runs on its
# own clock, and PipeWire with an ALSA sink node on the utimer PCM playing pw-play's file.
#   selftests/plugin_programs_test.sh MODULE.ko | --plan
# KTAP; rust_utimer and snd-aloop must not be loaded when it starts (it loads and unloads them).
#
# These programs start writing as soon as they have opened the PCM, so the capture side must run
# first: timer 0 is a persistent timer (made at load, as at boot: the order Documentation/
# usage.rst gives for that), and with holdover=0 the module never ticks it itself, so that the
# capture holds exactly what the program wrote, whatever its pace on this guest.  Each program
# plays a 1 kHz sine (most at 44.1 kHz: resampled by plug to the timer's 48 kHz) while arecord
# captures hw:Loopback,1,0; the capture holds the tone at 1 kHz within 1 Hz (tone_check: zero
# crossings), as long as it was played within 50 ms (100 ms where a resampler or a server's
# start is in the way), and no run of silence inside it longer than a period (480 frames).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/ktap.sh"
ktap_plan_or_exit 10 "${1:-}"
ko=$1
. "$here/plugin_lib.sh"
rust_utimer_listing
asoundrc_head > "$tmp/.asoundrc"
# col0 N: column N of timer 0's line of the listing (9: its writer's pid, 0 for none).
col0() { awk -v c="$1" '$1 == 0 { print $c }' "$listing" 2>/dev/null; }
modprobe snd-timer
insmod "$ko" timers=0:$rate/$period holdover=0 || ktap_exit_fail_msg "insmod $ko failed"
# Two loopback cards: Loopback on timer 0, Source (alsaloop's capture) on a high-resolution
# timer, as a sound card runs on its own crystal.
modprobe snd-aloop enable=1,1 id=Loopback,Source timer_source=-1.4.0,hrtimer ||
	ktap_exit_fail_msg "modprobe snd-aloop failed"

# capture_start: arecord on hw:Loopback,1,0 into $tmp/cap.raw until capture_stop.
capture_start() {
	rm -f "$tmp/cap.raw"
	arecord -D hw:Loopback,1,0 $fmt --period-size=$period --buffer-size=$((10 * rate)) \
		"$tmp/cap.raw" > "$tmp/cap.log" 2>&1 &
	cpid=$!
	wait_until 60 capture_running
}
# capture_stop: arecord stopped by SIGINT (aplay.c's handler exits 1, "Aborted by signal");
# $capture_ok is 0 when it ran until then and said nothing else.
capture_stop() {
	kill -0 "$cpid" 2>/dev/null
	alive=$?
	kill -INT "$cpid" 2>/dev/null
	wait "$cpid"
	crc=$?
	# (Blocked in a read that no TRIGGER will end, arecord says "Input/output error" too.)
	[ $alive = 0 ] && [ $crc = 1 ] && has "$tmp/cap.log" "Aborted by signal" &&
		! grep -vE "Aborted by signal|read error: Input/output error" "$tmp/cap.log" |
		grep -qiE 'error|xrun|overrun|No such'
	capture_ok=$?
	cdiag="arecord exit $crc: $(grep -v '^Recording' "$tmp/cap.log" | head -2 | tr '\n' ' ')"
}
# tone_arrived NAME SECONDS SLACK_MS WRITER_EXIT DIAG [HZ [GAP]]: the capture holds SECONDS of
# the tone within SLACK_MS, at HZ (1000 by default) within 1 Hz, no silence inside longer than
# GAP frames (a period by default); the writer exited 0 and the timer has no writer left.
tone_arrived() {
	tone_heard "$1" "$tmp/cap.raw" "${6:-1000}" "${7:-}"
	heard=$?
	want=$(echo "$2" | awk -v r=$rate '{ printf "%d", $1 * r }') slack=$(($3 * rate / 1000))
	[ "$4" = 0 ] && [ $capture_ok = 0 ] && [ $heard = 0 ] && [ "$n" -ge $((want - slack)) ] &&
		[ "$n" -le $((want + slack)) ] && wait_until 10 eval '[ "$(col0 9)" = 0 ]'
	ktap_check $? "plugin_${1}" "writer exit $4; $res (want $want frames of tone at ${6:-1000} Hz within $slack); arecord exit $crc: $(grep -v '^Recording' "$tmp/cap.log" | head -2 | tr '\n' ' '); $5"
}
# played NAME SECONDS SLACK_MS HZ WRITER...: WRITER plays into the utimer PCM while the
# capture runs.
played() {
	name=$1 secs=$2 slack=$3 hz=$4
	shift 4
	capture_start
	timeout 120 "$@" > "$tmp/w.log" 2>&1
	wrc=$?
	capture_stop
	tone_arrived "$name" "$secs" "$slack" $wrc "says: $(grep -iE 'error|xrun|underrun|warn|fail' "$tmp/w.log" | head -3 | tr '\n' ' ')" "$hz"
}
sine() { # sine FILE RATE SECONDS: a WAV of a 1 kHz sine, stereo S16_LE.
	sox -n -r "$2" -c 2 -b 16 -e signed-integer "$1" synth "$3" sine 1000 vol 0.5
}

# mpg123 on an MP3 file (LAME's, at 44.1 kHz, whose gapless header mpg123 reads).
sine "$tmp/tone44.wav" 44100 3
lame --quiet -b 192 "$tmp/tone44.wav" "$tmp/tone44.mp3"
played mpg123_plays_an_mp3_file_into_pcm_utimer 3 100 1000 mpg123 -q -o alsa -a utimer "$tmp/tone44.mp3"
# speaker-test as its manual page shows it: one loop of the sine, each channel in turn (3 s of
# the first channel, which tone_check reads; it asks for 48 kHz, the timer's own).  Its
# oscillator (symplectic Euler) runs at 2 asin(pi f / rate) rate / (2 pi): 1000.714 Hz.
played speaker_test_sine_loop_into_pcm_utimer 3 50 1000.714 speaker-test -D utimer -c 2 -t sine -f 1000 -l 1
# pyalsaaudio with its defaults (44100 Hz, periods of 32 frames), writes of 1 to 4410 frames.
played pyalsaaudio_defaults_and_odd_writes_into_pcm_utimer 3 100 1000 \
	python3 "$here/plugin_pyalsaaudio.py" utimer 3
echo "# pyalsaaudio: $(tail -1 "$tmp/w.log")"
# alsaloop: hw:Source,1,0 (what aplay plays into hw:Source,0,0 in real time) into the utimer PCM,
# alsaloop's default sync.  It runs until stopped (its -s is parsed but never used, alsa-utils
# 1.2.14): SIGINT once aplay is done and a second more has passed.
sine "$tmp/tone48.wav" 48000 3
capture_start
timeout 120 alsaloop -C hw:Source,1,0 -P utimer -f S16_LE -c 2 -r $rate -t 100000 \
	> "$tmp/w.log" 2>&1 &
lpid=$!
sleep 1
timeout 60 aplay -q -D hw:Source,0,0 "$tmp/tone48.wav" > "$tmp/a.log" 2>&1
arc=$?
sleep 1
kill -0 $lpid 2>/dev/null
lalive=$?
kill -INT $lpid 2>/dev/null
wait $lpid
wrc=$?
echo "# alsaloop: running until SIGINT: $([ $lalive = 0 ] && echo yes || echo no), exit $wrc"
[ $lalive = 0 ] && wrc=0
capture_stop
tone_arrived alsaloop_from_a_capture_device_into_pcm_utimer 3 100 $wrc \
	"aplay into the source exit $arc; alsaloop says: $(grep -iE 'error|xrun|underrun|warn|fail' "$tmp/w.log" | head -3 | tr '\n' ' ')"

# pcm.utimer's FORMAT and CHANNELS are what the loopback runs (S16_LE, 2): with its capture side
# open at S32_LE first, the default is refused saying what to set, and FORMAT=S32_LE plays (plug
# converts), a second of silence: 48000 frames of 8 bytes at least in the capture.
arecord -D hw:Loopback,1,0 -t raw -f S32_LE -c 2 -r $rate --period-size=$period \
	--buffer-size=$((10 * rate)) "$tmp/cap32.raw" > "$tmp/cap.log" 2>&1 &
cpid=$!
wait_until 60 capture_running
timeout 60 aplay -D utimer $fmt -d 1 /dev/zero > "$tmp/out" 2>&1
rc=$?
[ $rc != 0 ] && [ $rc != 124 ] && has "$tmp/out" 'set "format" and "channels"' &&
	[ "$(col0 9)" = 0 ]
ktap_check $? plugin_utimer_pcm_says_what_to_set_when_the_capture_runs_another_format \
	"exit $rc; says: $(head -c 300 "$tmp/out")"
timeout 60 aplay -D utimer:FORMAT=S32_LE $fmt -d 1 /dev/zero > "$tmp/out" 2>&1
rc=$?
capture_stop
size=$(stat -c %s "$tmp/cap32.raw" 2>/dev/null || echo 0)
[ $rc = 0 ] && [ $capture_ok = 0 ] && [ "$size" -ge $((rate * 8)) ]
ktap_check $? plugin_utimer_pcm_plays_into_a_capture_of_the_format_set \
	"exit $rc; says: $(head -c 300 "$tmp/out"); capture $size bytes; $cdiag"

# PipeWire, as Debian starts it for a user (pipewire, then wireplumber, its session manager),
# with an ALSA sink node on the utimer PCM (PipeWire's documented way: an adapter object of
# api.alsa.pcm.sink in a pipewire.conf.d fragment); wireplumber's device monitors are off (no
# D-Bus, no udev seat here; and no node of its own on the loopback cards).  pw-play plays a
# 10 s WAV to that sink; PipeWire's warnings (xruns, resyncs) are counted.
export XDG_RUNTIME_DIR=$tmp/run XDG_CONFIG_HOME=$tmp/config
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME/pipewire/pipewire.conf.d" \
	"$XDG_CONFIG_HOME/wireplumber/wireplumber.conf.d"
chmod 700 "$XDG_RUNTIME_DIR"
cat > "$XDG_CONFIG_HOME/pipewire/pipewire.conf.d/utimer.conf" <<EOF
context.objects = [
	{ factory = adapter
		args = {
			factory.name = api.alsa.pcm.sink
			node.name = utimer-sink
			node.description = "Loopback clocked by the data written"
			media.class = Audio/Sink
			api.alsa.path = "utimer"
			audio.rate = $rate
			audio.channels = 2
			audio.position = [ FL FR ]
		}
	}
]
EOF
cat > "$XDG_CONFIG_HOME/wireplumber/wireplumber.conf.d/utimer.conf" <<EOF
wireplumber.profiles = {
	main = {
		monitor.alsa = disabled
		monitor.alsa-midi = disabled
		monitor.bluez = disabled
		monitor.bluez-midi = disabled
		monitor.libcamera = disabled
		monitor.v4l2 = disabled
	}
}
EOF
PIPEWIRE_DEBUG=3 pipewire > "$tmp/pw.log" 2>&1 &
pwpid=$!
wireplumber > "$tmp/wp.log" 2>&1 &
wppid=$!
sink_ready() { pw-cli ls Node 2>/dev/null | grep -q 'node.name = "utimer-sink"'; }
wait_until 60 sink_ready
ready=$?
sine "$tmp/tone10.wav" 44100 10
capture_start
# The sink's xruns as PipeWire counts them (pw-top's ERR, from its profiler: sampled each second
# while it plays, the largest), and the resyncs and recoveries its ALSA code logs (level 3, info).
timeout 60 pw-top -b -n 30 > "$tmp/top" 2>&1 &
tpid=$!
timeout 120 pw-play --target utimer-sink "$tmp/tone10.wav" > "$tmp/w.log" 2>&1
wrc=$?
kill $tpid 2>/dev/null
wait $tpid
echo "# pw-top: $(grep -m1 ' ERR ' "$tmp/top")"
echo "# pw-top: $(grep '^R.*utimer-sink' "$tmp/top" | tail -1)"
errs=$(awk '/^R.*utimer-sink/ { if ($9 + 0 > e + 0) e = $9; n++ } END { if (n) print e + 0 }' \
	"$tmp/top")
capture_stop
# The sink's (spa.alsa) resyncs and recoveries, and the graph's xruns of pw-play (impl-node's
# debug_xrun_target: the client late for a cycle, on a guest that does not run it in time).
resyncs=$(grep 'spa\.alsa' "$tmp/pw.log" | grep -ciE 'resync|recover|xrun|underrun')
late=$(grep -c 'debug_xrun_target' "$tmp/pw.log")
echo "# stat plugin_pipewire_sink_xruns ${errs:-none} sink_resyncs $resyncs client_xruns $late"
# A cycle pw-play was late for (as the next check allows, up to two) is a quantum of silence
# the graph plays in its place: PipeWire's doing, before the sink (whose own xruns and resyncs
# the next check counts); the tone's pitch is measured without it (tone_check).
quant=$(awk '/^R.*utimer-sink/ { q = $3 } END { print q + 0 }' "$tmp/top")
allowed=$period
[ "$late" -lt 1 ] || [ "$late" -gt 2 ] || [ $((late * quant)) -le $period ] || allowed=$((late * quant))
tone_arrived pipewire_sink_on_pcm_utimer_plays_pw_plays_file 10 100 $wrc \
	"sink ready: $ready; pw-play late $late times (silence allowed: $allowed frames); pipewire says: $(grep -iE 'error|xrun|underrun|warn|fail' "$tmp/pw.log" | head -3 | tr '\n' ' ')" \
	1000 $allowed
[ "$errs" = 0 ] && [ "$resyncs" = 0 ] && [ "$late" -le 2 ]
ktap_check $? plugin_pipewire_sink_has_no_xrun_and_no_resync \
	"sink xruns (pw-top ERR): ${errs:-none}; pw-play late: $late; $(grep -iE 'resync|recover|xrun|underrun' "$tmp/pw.log" | head -4 | tr '\n' ' ')"
kill "$wppid" "$pwpid" 2>/dev/null
wait "$wppid" "$pwpid"
wait_until 10 eval '[ "$(col0 9)" = 0 ]'
ktap_check $? plugin_pipewire_gone_leaves_the_timer_without_a_writer "listing: $(awk '$1 == 0' "$listing")"

rmmod snd-aloop
rmmod rust_utimer
ktap_check $? plugin_programs_leave_rust_utimer_unloadable
rm -rf "$tmp"
ktap_finished
