#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The `utimer` command line tool (tools/utimer), in the guest (selftests/run.sh): its three tick
# sources, a timer by id, its listing, and the exit status and message of each failure a user
# meets; and `utimer setup`, the setup of the utimer PCM.
#   selftests/cli_test.sh MODULE.ko | --plan
# KTAP; rust_utimer must not be loaded when it starts (it loads and unloads it).  Nothing here
# depends on how fast the guest runs: every wait polls for its condition, with a generous bound,
# and the interval source is checked against what the tool promises (one TRIGGER per interval,
# on absolute deadlines), measured around it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/ktap.sh"
ktap_plan_or_exit 20 "${1:-}"
ko=$1
b=$UTIMER_BIN
utimer=$b/utimer
counter=$b/counter/global-timer	# selftests/tick_counter.c
listing=/sys/kernel/debug/rust_utimer/timers
tmp=$(mktemp -d)
# has FILE TEXT: FILE has a line matching TEXT.
has() { grep -q "$2" "$1" 2>/dev/null; }
# triggers_of ID: the TRIGGERs of timer ID so far, from the module's listing.
triggers_of() { awk -v id="$1" '$1 == id { print $5 }' "$listing"; }
triggers_at_least() { [ "$(triggers_of "$1")" -ge "$2" ] 2>/dev/null; }
# expect STATUS TEXT NAME CMD...: CMD exits with STATUS and says TEXT on stderr.
expect() {
	want=$1 text=$2 name=$3
	shift 3
	"$@" < /dev/null > "$tmp/out" 2> "$tmp/err"
	got=$?
	[ "$got" = "$want" ] && grep -q "$text" "$tmp/err"
	ktap_check $? "$name" "exit $got, wanted $want; stderr: $(head -c 300 "$tmp/err")"
}
# start ARGS...: `utimer run ARGS` in the background (as the user $as names, if set), its stdin
# on fd 3; sets $pid, $id.
as=
start() {
	rm -f "$tmp/in"
	mkfifo "$tmp/in"
	$as "$utimer" run "$@" < "$tmp/in" > "$tmp/run" 2>&1 &
	pid=$!
	exec 3> "$tmp/in"
	wait_until 60 has "$tmp/run" '^id=' || return 1
	id=$(sed -n 's/^id=\([0-9]*\) .*/\1/p' "$tmp/run")
}
# finish: end its input, wait; sets $rc and $triggers.
finish() {
	exec 3>&-
	wait "$pid"
	rc=$?
	triggers=$(sed -n 's/^triggers=//p' "$tmp/run")
}
[ -d /sys/kernel/debug/rust_utimer ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null || true

expect 2 usage cli_without_arguments_prints_usage "$utimer"
expect 2 usage cli_with_two_resolutions_prints_usage "$utimer" run -n 10000000 -r 48000 -p 480
expect 2 usage cli_with_period_0_prints_usage "$utimer" run -r 48000 -p 0
expect 3 "rust_utimer is not loaded" cli_says_when_the_module_is_not_loaded \
	"$utimer" run -n 10000000
expect 3 "rust_utimer is not loaded" cli_list_says_when_the_module_is_not_loaded "$utimer" list

modprobe snd-timer
insmod "$ko" max_timers=2 || ktap_exit_fail_msg "insmod $ko max_timers=2 failed"
expect 2 "must be 100000 to" cli_says_the_resolution_range "$utimer" run -n 99999

# One tick per line, received by a /dev/snd/timer client; the resolution from (rate, period).
if start -r 44100 -p 1024; then
	# The counter counts until SIGINT (its window is only a bound), then drains its queue: a
	# TRIGGER has queued the client's tick by the time the ioctl returns.  Not on fd 3: the
	# tool's input must end when finish closes it.
	"$counter" 4 "$id" 600 > "$tmp/count" 2>&1 3>&- &
	cpid=$!
	wait_until 60 has "$tmp/count" "Timer has started"
	listed=$("$utimer" list | awk -v id="$id" '$1 == id { print $4 }')
	printf 'one\ntwo\nthree\nfour\nfive\n' >&3
	finish
	kill -INT "$cpid"
	wait "$cpid"
	ticks=$(sed -n 's/^Total ticks count: //p' "$tmp/count")
	grep -q "^id=$id resolution=23219954 source=-1.4.$id$" "$tmp/run"
	ktap_check $? cli_prints_id_and_exact_resolution_for_rate_and_period "$(head -1 "$tmp/run")"
	[ "$listed" = 23219954 ]
	ktap_check $? cli_list_shows_the_live_timer "resolution column: $listed"
	[ "$rc" = 0 ] && [ "$triggers" = 5 ] && [ "$ticks" = 5 ]
	ktap_check $? cli_triggers_once_per_input_line "exit $rc, triggers=$triggers, client got $ticks"
else
	ktap_check 1 cli_prints_id_and_exact_resolution_for_rate_and_period "no id: $(cat "$tmp/run")"
	ktap_check 1 cli_list_shows_the_live_timer
	ktap_check 1 cli_triggers_once_per_input_line
fi

# One tick per datagram: seven sent, seven counted by the module before the signal.
"$utimer" run -n 5000000 -u 5006 > "$tmp/run" 2>&1 &
pid=$!
wait_until 60 has "$tmp/run" '^id='
id=$(sed -n 's/^id=\([0-9]*\) .*/\1/p' "$tmp/run")
python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(7):
    s.sendto(b"tick", ("127.0.0.1", 5006))'
wait_until 60 triggers_at_least "$id" 7
kill -INT "$pid"
wait "$pid"
rc=$?
triggers=$(sed -n 's/^triggers=//p' "$tmp/run")
[ "$rc" = 0 ] && [ "$triggers" = 7 ]
ktap_check $? cli_triggers_once_per_datagram "exit $rc, triggers=$triggers"

# Every 2 ms until SIGTERM: at least the 50 seen before the signal, and no more than the
# deadlines that fell between its start and its exit (the tool catches up on absolute
# deadlines, so a starved guest gives a burst, never more than one per interval).
t0=$(now_ms)
"$utimer" run -n 1000000 -i 2000 > "$tmp/run" 2>&1 &
pid=$!
wait_until 60 has "$tmp/run" '^id='
id=$(sed -n 's/^id=\([0-9]*\) .*/\1/p' "$tmp/run")
wait_until 60 triggers_at_least "$id" 50
kill -TERM "$pid"
wait "$pid"
rc=$?
t1=$(now_ms)
triggers=$(sed -n 's/^triggers=//p' "$tmp/run")
[ "$rc" = 0 ] && [ "${triggers:-0}" -ge 50 ] && [ "$triggers" -le $(((t1 - t0) / 2 + 1)) ]
ktap_check $? cli_triggers_on_an_interval_until_signalled \
	"exit $rc, triggers=$triggers, at most $(((t1 - t0) / 2 + 1)) deadlines in $((t1 - t0)) ms"

# A timer by id (rust_utimer's CREATE_EXT): the id asked for; taken; not below max_timers=2.
if start -n 10000000 --id 1; then
	[ "$id" = 1 ]
	ktap_check $? cli_takes_the_requested_id "$(head -1 "$tmp/run")"
else
	ktap_check 1 cli_takes_the_requested_id "no id: $(cat "$tmp/run")"
fi
expect 5 "the timer id is taken" cli_says_when_the_id_is_taken "$utimer" run -n 10000000 --id 1
finish
expect 2 "below max_timers" cli_says_when_the_id_is_out_of_range \
	"$utimer" run -n 10000000 --id 2

# Capacity: max_timers=2.
start -n 10000000 && h1=$pid && start -n 10000000
expect 5 "all max_timers timers exist" cli_says_when_no_timer_is_free "$utimer" run -n 10000000
finish
pid=$h1
finish

# Permission: without the udev rule /dev/utimer is root's; as uid 1000, then the quota.
as_user() { setpriv --reuid 1000 --regid 1000 --clear-groups "$@"; }
mode=$(stat -c %a /dev/utimer)
chmod 600 /dev/utimer
expect 4 "join the audio group" cli_says_permission_denied as_user "$utimer" run -n 10000000
rmmod rust_utimer
insmod "$ko" max_user_timers=1
# A udev rule would set the mode after us: wait for it first.
[ -z "${UTIMER_UDEV_RULE:-}" ] || wait_udev_rule /dev/utimer
chmod 666 /dev/utimer
as="setpriv --reuid 1000 --regid 1000 --clear-groups"
start -n 10000000
as=
expect 5 "max_user_timers timers already" cli_says_when_the_user_quota_is_spent \
	as_user "$utimer" run -n 10000000
finish
chmod "$mode" /dev/utimer

# The setup of the utimer PCM for a timer id, and whether the user is in the audio group.
out=$("$utimer" setup --id 3 2>&1)
rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "options snd-aloop timer_source=-1.4.3'" &&
	echo "$out" | grep -q 'type utimer; slave.pcm "hw:Loopback,0,0"; timer 3 }'
ktap_check $? cli_setup_prints_the_modprobe_line_and_the_asoundrc_for_the_id "exit $rc: $out"
out=$(as_user "$utimer" setup 2>&1)
echo "$out" | grep -q "timer_source=-1.4.0'" && echo "$out" | grep -q 'not in the audio group: sudo usermod -aG audio'
ktap_check $? cli_setup_tells_a_user_outside_the_audio_group "$out"

rmmod rust_utimer
ktap_check $? cli_leaves_the_module_unloadable
rm -rf "$tmp"
ktap_finished
