# SPDX-License-Identifier: GPL-2.0
# The utimer PCM's streams, for alsa_plugin_test.sh and plugin_programs_test.sh (rust_utimer) and
# plugin_upstream_test.sh (a kernel's own utimers): the signal, a directory of its own ($tmp,
# also $HOME: alsa-lib reads the script's .asoundrc there, which asoundrc_head begins), stream,
# fails and while_held.  The sourcing script defines timer_listed ID, no_timer and timers_count
# (from where its timers are listed) and $listing (printed in diagnostics), or has
# rust_utimer_listing define them.
b=$UTIMER_BIN
tmp=$(mktemp -d)
rate=48000
period=480
# The signal: 4 s and half a period of random stereo S16_LE.
frames=$((4 * rate + period / 2))
padded=$(((frames + period - 1) / period * period))
head -c $((frames * 4)) /dev/urandom > "$tmp/in.raw"
fmt="-t raw -f S16_LE -c 2 -r $rate"
export HOME=$tmp

has() { grep -q "$2" "$1" 2>/dev/null; }

# asoundrc_head: the start of an .asoundrc: the plugin from the build, the shipped definition
# (pcm.utimer).
asoundrc_head() {
	echo "pcm_type.utimer { lib \"$b/libasound_module_pcm_utimer.so\" }"
	echo "<$UTIMER_SELFTESTS/../tools/alsa-plugin/60-utimer.conf>"
}

# tone_heard NAME FILE HZ [GAP]: tone_check's measure of FILE (raw S16_LE stereo at $rate) in
# $res (printed as "# stat plugin_NAME"), its figures in $f (Hz), $gap (longest silence) and $n
# (frames of tone); 0 when the tone is at HZ within 1 Hz with no silence longer than GAP frames
# (a period by default).
tone_heard() {
	res=$("$b/tone_check" "$2" $rate 2)
	echo "# stat plugin_$1 $res"
	f=$(echo "$res" | awk '{ print $2 }') gap=$(echo "$res" | awk '{ print $4 }')
	n=$(echo "$res" | awk '{ print $6 }')
	[ -n "$f" ] && awk -v f="$f" -v hz="$3" 'BEGIN { exit !(f > hz - 1 && f < hz + 1) }' &&
		[ "$gap" -le "${4:-$period}" ]
}

# rust_utimer_listing: $listing, timer_listed, no_timer and timers_count from rust_utimer's
# debugfs listing (debugfs mounted if it is not).
rust_utimer_listing() {
	listing=/sys/kernel/debug/rust_utimer/timers
	[ -d /sys/kernel/debug/rust_utimer ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null ||
		true
	timer_listed() { [ "$(awk -v id="$1" '$1 == id' "$listing" 2>/dev/null)" ]; }
	no_timer() { ! grep -q '^[0-9]' "$listing" 2>/dev/null; }
	timers_count() { grep -c '^[0-9]' "$listing"; }
}
capture_running() { has /proc/asound/Loopback/pcm1c/sub0/status RUNNING; }

# play_and_capture INPUT SKIP FRAMES FEED WRITER...: WRITER, reading the FIFO $tmp/fifo, plays
# INPUT into the plugin while arecord captures FRAMES frames of hw:Loopback,1,0 into
# $tmp/out.raw: INPUT's first SKIP bytes go in first (a header the writer reads before it opens
# the PCM, which makes the timer), the rest once the capture runs, through FEED (a command that
# writes its stdin to its stdout) when SKIP is 0.  Sets $wrc and $rrc (the writer's and
# arecord's exits) and $secs, the capture's duration from the feed to arecord's end, in ms.
play_and_capture() {
	input=$1 skip=$2 cap=$3 feed=$4
	shift 4
	rm -f "$tmp/fifo" "$tmp/out.raw"
	mkfifo "$tmp/fifo"
	timeout 120 "$@" > "$tmp/w.log" 2>&1 &
	wpid=$!
	# Opened read-write, the FIFO never blocks this script, whatever the writer does; the
	# writer has opened the PCM (before or after the FIFO) when the timer exists.
	exec 3<> "$tmp/fifo"
	[ "$skip" = 0 ] || head -c "$skip" "$input" >&3
	wait_until 60 timer_listed 0
	timeout 120 arecord -D hw:Loopback,1,0 $fmt --period-size=$period --buffer-size=$((10 * rate)) \
		-s "$cap" "$tmp/out.raw" > "$tmp/r.log" 2>&1 3>&- &
	rpid=$!
	wait_until 60 capture_running
	t0=$(now_ms)
	if [ "$skip" = 0 ]; then
		timeout 120 sh -c "$feed" < "$input" >&3
	else
		tail -c +$((skip + 1)) "$input" >&3
	fi
	exec 3>&-
	wait "$wpid"
	wrc=$?
	wait "$rpid"
	rrc=$?
	secs=$(($(now_ms) - t0))
}

# stream NAME FEED WRITER...: WRITER (reading the FIFO $tmp/fifo) plays the signal into the
# plugin while arecord captures (play_and_capture); FEED is the command that writes the signal to
# its stdout.  Sets $secs.
stream() {
	name=$1 feed=$2
	shift 2
	play_and_capture "$tmp/in.raw" 0 $padded "$feed" "$@"
	echo "# stat plugin_${name}_capture_ms $secs"
	diag="writer exit $wrc, arecord exit $rrc, capture $(stat -c %s "$tmp/out.raw" 2>/dev/null) bytes of $((padded * 4)); $(grep -hiE 'error|xrun|underrun|overrun|warning' "$tmp/w.log" "$tmp/r.log" | head -3)"
	[ $wrc = 0 ] && [ $rrc = 0 ] && cmp -s -n $((frames * 4)) "$tmp/in.raw" "$tmp/out.raw" &&
		! grep -qiE 'xrun|underrun|overrun' "$tmp/w.log" "$tmp/r.log"
	ktap_check $? "plugin_${name}_capture_is_the_input_bit_exact" "$diag"
	# Drain: the last partial period, padded with silence, arrives; nothing after it.
	[ "$(stat -c %s "$tmp/out.raw" 2>/dev/null)" = $((padded * 4)) ] &&
		[ -z "$(tail -c $(((padded - frames) * 4)) "$tmp/out.raw" | tr -d '\0' | head -c 1)" ] &&
		wait_until 10 no_timer
	ktap_check $? "plugin_${name}_drain_delivers_the_tail_and_the_timer_goes" \
		"$diag; listing: $(grep '^[0-9]' "$listing" 2>/dev/null)"
}

# fails NAME TEXT CMD...: CMD exits non-zero, says TEXT on stderr, and leaves no timer.
fails() {
	name=$1 text=$2
	shift 2
	timeout 60 "$@" < /dev/null > "$tmp/out" 2>&1
	rc=$?
	[ $rc != 0 ] && [ $rc != 124 ] && has "$tmp/out" "$text" && no_timer
	ktap_check $? "$name" "exit $rc; says: $(head -c 300 "$tmp/out"); listing: $(grep '^[0-9]' "$listing" 2>/dev/null)"
}

# while_held PCM ARGS...: with timer 0 held by `utimer run ARGS` (its input a FIFO), aplay opens
# PCM for a second of silence: sets $rc (aplay's exit; what it said in $tmp/out) and $held (the
# timers listed meanwhile, timers_count).
while_held() {
	pcm=$1
	shift
	rm -f "$tmp/hold"
	mkfifo "$tmp/hold"
	"$b/utimer" run "$@" < "$tmp/hold" > "$tmp/hold.log" 2>&1 &
	hpid=$!
	exec 4> "$tmp/hold"
	wait_until 60 timer_listed 0
	timeout 60 aplay -D "$pcm" $fmt -d 1 /dev/zero > "$tmp/out" 2>&1
	rc=$?
	held=$(timers_count)
	exec 4>&-
	wait $hpid
}
