#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The `utimer` command line tool (tools/utimer), in the guest (selftests/run.sh): its three tick
# sources, a timer by id, its listing, and the exit status and message of each failure a user
# meets; `utimer setup`, the setup of the utimer PCM and the boot configuration; and persistent
# timers: `create --persist`, `run --id` attaching to one as its writer, `remove`.
#   selftests/cli_test.sh MODULE.ko | --plan
# KTAP; rust_utimer must not be loaded when it starts (it loads and unloads it).  Nothing here
# depends on how fast the guest runs: every wait polls for its condition, with a generous bound,
# and the interval source is checked against what the tool promises (one TRIGGER per interval,
# on absolute deadlines), measured around it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/ktap.sh"
ktap_plan_or_exit 37 "${1:-}"
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
# Without rust_utimer, `run` falls back to the kernel's own utimers (/dev/snd/timer), where it
# has them (CONFIG_SND_UTIMER: the debug kernel); -D /dev/utimer asks for rust_utimer alone.
if { zcat /proc/config.gz 2>/dev/null || cat "/lib/modules/$(uname -r)/config"; } |
	grep -qx 'CONFIG_SND_UTIMER=y'; then
	expect 3 "rust_utimer is not loaded" cli_says_when_the_module_is_not_loaded \
		"$utimer" run -D /dev/utimer -n 10000000
	"$utimer" run -n 10000000 < /dev/null > "$tmp/out" 2> "$tmp/err"
	rc=$?
	[ $rc = 0 ] && grep -qx 'id=0 resolution=10000000 source=-1.4.0' "$tmp/out"
	ktap_check $? cli_without_the_module_runs_on_the_kernels_own_utimers \
		"exit $rc: $(cat "$tmp/out" "$tmp/err" | head -c 300)"
else
	expect 3 "rust_utimer is not loaded" cli_says_when_the_module_is_not_loaded \
		"$utimer" run -n 10000000
	ktap_test_skip "cli_without_the_module_runs_on_the_kernels_own_utimers (no CONFIG_SND_UTIMER here)"
fi
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
# The boot configuration: a persistent timer (rust_utimer's timers=, 48000/480 by default) and
# snd-aloop on it, in modprobe.d.
out=$("$utimer" setup --id 3 2>&1)
out2=$("$utimer" setup --id 2 -r 44100 -p 441 --holdover 4 2>&1)
echo "$out" | grep -qx "echo 'options rust_utimer timers=3:48000/480' > /etc/modprobe.d/rust-utimer.conf" &&
	echo "$out" | grep -qx "echo 'options snd-aloop timer_source=-1.4.3' > /etc/modprobe.d/snd-aloop-utimer.conf" &&
	echo "$out2" | grep -qx "echo 'options rust_utimer timers=2:44100/441:4' > /etc/modprobe.d/rust-utimer.conf" &&
	echo "$out2" | grep -qx "echo 'options snd-aloop timer_source=-1.4.2' > /etc/modprobe.d/snd-aloop-utimer.conf" &&
	echo "$out2" | grep -q 'rate 44100; period_size 441; timer 2 }'
ktap_check $? cli_setup_prints_the_modprobe_d_lines_of_the_boot_configuration "$out / $out2"
expect 2 "must be 0 (never) to 1000 periods" cli_create_says_the_holdover_range \
	"$utimer" create --persist -n 10000000 --holdover 1001

# Persistent timers, on a module loaded afresh (no quota): root makes one, a user in the audio
# group attaches to it as its writer (no privilege), root removes it.
rmmod rust_utimer
insmod "$ko" || ktap_exit_fail_msg "insmod $ko failed"
[ -z "${UTIMER_UDEV_RULE:-}" ] || wait_udev_rule /dev/utimer
# cell NAME ID: timer ID's cell in column NAME of `utimer list` (its "# id ..." line names them).
cell() {
	"$utimer" list | awk -v c="$1" -v id="$2" '
		$1 == "#" && $2 == "id" { for (i = 2; i <= NF; i++) if ($i == c) n = i - 1 }
		n && $1 == id { print $n }'
}
"$utimer" create --persist -r 48000 -p 480 --id 1 --holdover 3 > "$tmp/out" 2> "$tmp/err"
rc=$?
p=$(cell persistent 1) w=$(cell writer 1)
[ $rc = 0 ] && grep -qx 'id=1 resolution=10000000 source=-1.4.1' "$tmp/out" && [ "$p" = yes ] &&
	[ "$w" = - ]
ktap_check $? cli_create_persist_makes_a_persistent_timer_the_list_shows \
	"exit $rc: $(cat "$tmp/out" "$tmp/err"); persistent '$p', writer '$w'; $("$utimer" list 2>&1)"
expect 5 "the timer id is taken" cli_create_persist_says_when_the_id_is_taken \
	"$utimer" create --persist -n 10000000 --id 1
mode=$(stat -c %a /dev/utimer)
chmod 666 /dev/utimer
# Without a resolution: the timer's.  As uid 1000, who may open /dev/utimer.
as="setpriv --reuid 1000 --regid 1000 --clear-groups"
if start --id 1; then
	as=
	grep -qx "id=1 resolution=10000000 source=-1.4.1 mode=attached" "$tmp/run"
	ktap_check $? cli_run_attaches_to_a_persistent_timer "$(head -1 "$tmp/run")"
	printf 'one\ntwo\nthree\n' >&3
	wait_until 60 triggers_at_least 1 3
	t=$(cell triggers 1) w=$(cell writer 1)
	[ "$t" = 3 ] && [ "$w" = "$pid" ]
	ktap_check $? cli_attached_run_triggers_the_persistent_timer \
		"triggers '$t', writer '$w' (the run is pid $pid)"
	expect 5 "timer 1 has a writer already (pid $pid)" \
		cli_says_when_the_persistent_timer_has_a_writer "$utimer" run --id 1
	expect 5 "a writer is attached to timer 1 (pid $pid)" \
		cli_remove_refuses_while_a_writer_is_attached "$utimer" remove 1
	finish
	p=$(cell persistent 1) w=$(cell writer 1) t=$(cell triggers 1)
	[ "$rc" = 0 ] && [ "$triggers" = 3 ] && [ "$p" = yes ] && [ "$w" = - ] && [ "$t" = 3 ]
	ktap_check $? cli_attached_run_detaches_and_the_timer_lives_on \
		"exit $rc, triggers=$triggers; then persistent '$p', writer '$w', triggers '$t'"
else
	as=
	ktap_check 1 cli_run_attaches_to_a_persistent_timer "no id: $(cat "$tmp/run")"
	exec 3>&-
	kill "$pid" 2>/dev/null
	wait "$pid"
	for t in cli_attached_run_triggers_the_persistent_timer \
		cli_says_when_the_persistent_timer_has_a_writer \
		cli_remove_refuses_while_a_writer_is_attached \
		cli_attached_run_detaches_and_the_timer_lives_on; do
		ktap_check 1 "$t"
	done
fi
# Another resolution than the timer's is refused; its own is accepted.
"$utimer" run -r 48000 -p 480 --id 1 < /dev/null > "$tmp/out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -qx "id=1 resolution=10000000 source=-1.4.1 mode=attached" "$tmp/out"; then
	expect 2 "persistent timer of resolution 10000000 ns, not 5000000 ns" \
		cli_run_refuses_another_resolution_than_the_persistent_timers \
		"$utimer" run -n 5000000 --id 1
else
	ktap_check 1 cli_run_refuses_another_resolution_than_the_persistent_timers \
		"with its own resolution: exit $rc: $(cat "$tmp/out")"
fi
# Root's only (CAP_SYS_ADMIN): an unprivileged user is told so, and of timers= at boot.
expect 4 "needs root (CAP_SYS_ADMIN); or make it at boot with the module's timers=" \
	cli_create_persist_needs_cap_sys_admin as_user "$utimer" create --persist -n 10000000
expect 4 "needs root (CAP_SYS_ADMIN)" cli_remove_needs_cap_sys_admin as_user "$utimer" remove 1
chmod "$mode" /dev/utimer
"$utimer" remove 1 > "$tmp/out" 2> "$tmp/err"
rc=$?
left=$("$utimer" list | awk '$1 == 1')
[ $rc = 0 ] && [ -z "$left" ]
ktap_check $? cli_remove_removes_the_persistent_timer "exit $rc: $(cat "$tmp/err"); listed: $left"
expect 6 "no persistent timer 1 (utimer list shows" cli_remove_says_when_no_persistent_timer_has_the_id \
	"$utimer" remove 1
expect 2 "no persistent timer 1 to attach to" cli_run_without_a_resolution_needs_a_persistent_timer \
	"$utimer" run --id 1
# A timer of a program's own is no persistent timer: remove says whose it is.
if start -n 10000000 --id 1; then
	expect 6 "no persistent timer 1: timer 1 is pid $pid's own" \
		cli_remove_says_when_the_timer_is_not_persistent "$utimer" remove 1
	finish
else
	ktap_check 1 cli_remove_says_when_the_timer_is_not_persistent "no id: $(cat "$tmp/run")"
fi

rmmod rust_utimer
ktap_check $? cli_leaves_the_module_unloadable
rm -rf "$tmp"
ktap_finished
