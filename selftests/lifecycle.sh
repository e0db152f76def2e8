#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The module's lifecycle, in the guest (selftests/run.sh): CYCLES (default 100) insmod/rmmod
# cycles with timers created, triggered and closed in between, the module parameters cycling
# through their bounds; rmmod refused while a timer fd lives and while snd-aloop runs on a timer.
#   selftests/lifecycle.sh MODULE.ko [CYCLES] | --plan
# KTAP, the plan first; rust_utimer must not be loaded when it starts.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/ktap.sh"
ktap_plan_or_exit 3 "${1:-}"
ko=$1
cycles=${2:-100}
utimer_hold=$UTIMER_BIN/utimer_hold	# selftests/utimer_hold.c
listing=/sys/kernel/debug/rust_utimer/timers
[ -d /sys/kernel/debug/rust_utimer ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null

# hold [--aloop]: a process holding a timer (and a stream on it) until its stdin closes; waits
# until it has the timer.  Sets $holder (pid) and keeps its stdin open on fd 3.
hold() {
	fifo=$(mktemp -u /tmp/utimer-hold.XXXXXX)
	mkfifo "$fifo"
	"$utimer_hold" hold "$@" < "$fifo" > "$fifo.id" &
	holder=$!
	exec 3> "$fifo"
	for _ in $(seq 100); do
		[ -s "$fifo.id" ] && break
		sleep 0.1
	done
	[ -s "$fifo.id" ]
}
release() {
	exec 3>&-
	wait "$holder"
	rm -f "$fifo" "$fifo.id"
}

cycle_fail=0 params_fail=0 refused_fd=0 refused_aloop=0 refuse_fail=0 first_err=
for i in $(seq 1 "$cycles"); do
	# The bounds, in turn: the smallest capacity and quota, the largest, and the defaults.
	case $((i % 4)) in
	1) params="max_timers=1 max_user_timers=1" want="1 1" create="1 --full" ;;
	2) params="max_timers=4096 max_user_timers=4294967295" want="4096 4294967295" create=64 ;;
	3) params="max_timers=4096" want="4096 32" create=64 ;;
	0) params= want="128 32" create="128 --full" ;;
	esac
	# Once, the whole id space of the largest capacity.
	[ "$i" = 2 ] && create="4096 --full"
	# shellcheck disable=SC2086
	if ! insmod "$ko" $params; then
		cycle_fail=$((cycle_fail + 1)) first_err=${first_err:-"cycle $i: insmod $params failed"}
		continue
	fi
	got=$(sed -n 's/^# max_timers \([0-9]*\) max_user_timers \([0-9]*\) .*/\1 \2/p' "$listing")
	if [ "$got" != "$want" ]; then
		params_fail=$((params_fail + 1))
		first_err=${first_err:-"cycle $i: $params gave \"$got\", want \"$want\""}
	fi
	# shellcheck disable=SC2086
	"$utimer_hold" create $create || {
		cycle_fail=$((cycle_fail + 1)) first_err=${first_err:-"cycle $i: create $create failed"}
	}
	# Every tenth cycle, rmmod while a timer is held, and (the next) while aloop runs on it.
	case $((i % 10)) in
	5 | 6)
		if [ $((i % 10)) = 5 ]; then hold; else hold --aloop; fi || {
			refuse_fail=$((refuse_fail + 1)) first_err=${first_err:-"cycle $i: no holder"}
		}
		if rmmod rust_utimer 2>/dev/null; then
			refuse_fail=$((refuse_fail + 1))
			first_err=${first_err:-"cycle $i: rmmod succeeded while a timer was held"}
			release
			continue
		fi
		if [ $((i % 10)) = 5 ]; then refused_fd=$((refused_fd + 1)); else refused_aloop=$((refused_aloop + 1)); fi
		release
		;;
	esac
	if ! rmmod rust_utimer || [ -e /sys/module/rust_utimer ] || [ -e /dev/utimer ]; then
		cycle_fail=$((cycle_fail + 1)) first_err=${first_err:-"cycle $i: rmmod failed"}
		rmmod rust_utimer 2>/dev/null
	fi
done
rmmod snd-aloop 2>/dev/null

[ -n "$first_err" ] && echo "# first problem: $first_err"
echo "# stat insmod_rmmod_cycles $cycles"
echo "# stat rmmod_refused_while_a_fd_lives $refused_fd"
echo "# stat rmmod_refused_while_aloop_runs $refused_aloop"
ktap_check $cycle_fail insmod_rmmod_cycles_with_timers_in_between \
	"$cycle_fail of $cycles cycles failed"
ktap_check $params_fail module_parameters_at_their_bounds_take_effect "$params_fail cycles"
ktap_check $((refuse_fail + (refused_fd == 0) + (refused_aloop == 0))) \
	rmmod_refused_while_a_timer_fd_lives_or_aloop_runs_on_it \
	"refused $refused_fd (fd) and $refused_aloop (aloop) times, $refuse_fail wrong"
ktap_finished
