#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs in the guest (testing/vm-run -- selftests/run.sh [MODULE.ko [REGEX]]): loads the modules,
# runs every test and prints KTAP that testing/check counts.
#
# KTAP as the kernel's runner (kselftest/runner.sh) prints it: each test program run is one
# numbered result at the top level, its own output nested below it as comment lines ("# ok 1
# ..."); the harness programs run one test per run, so each of their tests is a result of its own.
# Each program has a time limit (selftests/settings, as kselftest's): one that hangs is killed
# and fails by name, and the suite goes on.
# The plan comes first: before anything runs, the runs are counted (a kselftest-harness program
# lists its tests with --list, from the harness's own tables) into this run's "1..N", and every
# other program is asked how many results it will print (--plan).  A program passes when it
# printed exactly the results it planned, none failed, it exited 0 (4: all skipped) and the kernel
# logged no problem meanwhile; the host (testing/check) fails a guest whose results are not
# exactly its plan.
#
# Each test's TAP name gets the implementation it ran against: @rust_utimer (/dev/utimer) or,
# on a kernel with CONFIG_SND_UTIMER=y, also @upstream_c (/dev/snd/timer, same test code).
# The kernel log is read after every test program: a report in it is a "not ok" naming the
# test; on a kernel with kmemleak, a scan at the end must find no leak.
# REGEX (testing/mutants): only the tests whose names match; whole programs by these words:
# netaudio_, aloop_, parity_, stress_, i386 (armhf on arm64), upstream_, lifecycle_, cli_,
# plugin_, install_, dkms_, persist_ (persist_test's tests, all named persist_...).  (The Debian
# packages' test, deb_, runs in a guest of its own: testing/check, testing/packaging/deb_test.sh.)
# UTIMER_SUITE=core (testing/check, for the kernels of kernels.tsv marked "core"): the suite's
# core only: abi_test, the harness programs, aloop_test's four streams, the 32-bit programs,
# netaudio (as UTIMER_NETAUDIO_ARGS says), the module DKMS built; no sweep, reliability, upstream
# selftest, lifecycle, CLI, utimer PCM, make install or persistent timer (persist) tests.  A
# word the suite does not know fails the run (suite_words_known).  What a test needs and this
# guest lacks (the kernel's headers, udevd, 32-bit support) is a counted "# SKIP" saying so,
# never a test left out; with UTIMER_STRICT=1 (testing/check, for the kernels of kernels.tsv,
# whose roots have headers and udevd) the headers and udevd missing is a failure.
# Exit status: 0 when every result passed, 1 when one failed.
set -u
cd "$(dirname "$0")/.."
. selftests/ktap.sh
# The programs of this machine's architecture (ktap.sh), for the scripts below too.
bin=$UTIMER_BIN
ko=${1:-$PWD/build/stock/rust_utimer.ko}
only=${2:-.}
# (Without REGEX, everything: no grep per name.  Each fork costs a guest under TCG a good part
# of a second on the debug kernel, and the suite asks this hundreds of times.)
want() { [ "$only" = . ] || printf '%s\n' "$1" | grep -qE "$only"; }
# UTIMER_SUITE=core+cli+upstream: the core and those programs of the rest (their words above,
# without the underscore); -WORD leaves that program out (full-plugin on the debug kernel).
core=
extra=
badwords=
suite=${UTIMER_SUITE:-full}
case $suite in
core*) core=1 extra=$(echo "${suite#core}" | sed 's/[+-]/ &/g') ;;
full*) extra=$(echo "${suite#full}" | sed 's/[+-]/ &/g') ;;
*) badwords=$suite ;;
esac
# The words of the programs above (testing/common.sh checks kernels.tsv against the same list).
for w in $extra; do
	case ${w#[+-]} in
	netaudio | aloop | parity | stress | i386 | armhf | upstream | lifecycle | cli | plugin | \
		install | dkms | persist) ;;
	*) badwords="$badwords $w" ;;
	esac
done
# want_extra NAME: NAME is selected and one of the extras (core+WORD).
want_extra() {
	want "$1" || return 1
	case " $extra " in *" +${1%_} "*) return 0 ;; esac
	return 1
}
# want_full NAME: NAME is selected and the whole suite runs (NAME not left out), or NAME is one
# of the extras.
want_full() {
	want "$1" || return 1
	case " $extra " in *" -${1%_} "*) return 1 ;; esac
	[ -z "$core" ] && return 0
	want_extra "$1"
}
# in_suite WORD: WORD's program is in this suite (full and not -WORD, or core+WORD), whatever
# REGEX selects (persist_test's tests are selected one by one, by name, as harness() does).
in_suite() {
	case " $extra " in *" -$1 "*) return 1 ;; *" +$1 "*) return 0 ;; esac
	[ -z "$core" ]
}
config() { { zcat /proc/config.gz 2>/dev/null || cat "/lib/modules/$(uname -r)/config"; } | grep -E "^(# )?$1[= ]"; }
tmpd=$(mktemp -d)
# The kselftest-harness programs, run one test at a time so that the kernel log is read after each.
HARNESS="create_test tick_test module_test"

upstream=
config CONFIG_SND_UTIMER | grep -q '=y' && upstream=1
# 32-bit programs: i386 on x86_64 (CONFIG_IA32_EMULATION), armhf on arm64 (CONFIG_COMPAT).
compat32=
case $(uname -m) in
x86_64) abi32=i386; config CONFIG_IA32_EMULATION | grep -q '=y' && compat32=1 ;;
aarch64) abi32=armhf; config CONFIG_COMPAT | grep -q '=y' && compat32=1 ;;
*) abi32=none ;;
esac
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
kmemleak=
[ -w /sys/kernel/debug/kmemleak ] && kmemleak=1
# `make install` where the running kernel's headers are: from the module's build directory (MO=,
# testing/build) when it is not the repo itself.
install=
[ -d "/usr/src/linux-headers-$(uname -r)" ] && install=1
UTIMER_MO=$(dirname "$ko")
[ "$UTIMER_MO" = "$PWD" ] && UTIMER_MO=
export UTIMER_MO

# kernel_log_clean: the kernel log written since the last call has no report (BUG, WARNING,
# KASAN, ...); if it has, it is printed (nested) and the result of the test just run fails.
kernel_log_clean() {
	new=$(dmesg -c)
	[ -n "$new" ] || return 0
	printf '%s\n' "$new" | grep -qE "$KERNEL_REPORTS" || return 0
	printf '%s\n' "$new" | grep -E -A20 "$KERNEL_REPORTS" | head -60 | sed 's/^/# # /'
	return 1
}

# The two passes: "plan" counts the top-level results, "run" runs and prints them.
pass=plan
planned=0
# The number of the last top-level result.
num=0
# result STATUS NAME [DIAGNOSTIC]: the next top-level result: ok, not ok, or (STATUS "skip") ok
# with "# SKIP DIAGNOSTIC".
result() {
	num=$((num + 1))
	case $1 in
	0) echo "ok $num $2" ;;
	skip) echo "ok $num $2 # SKIP $3" ;;
	*) echo "not ok $num $2${3:+ # $3}" ;;
	esac
}
# limit_of NAME: NAME's time limit in seconds in $lim (selftests/settings: NAME=SECONDS, or
# timeout=; read once, looked up without a fork).
settings="
$(grep -E '^[A-Za-z0-9_.]+=[0-9]+$' selftests/settings)
"
limit_of() {
	case $settings in
	*"
$1="*) lim=${settings#*"
$1="} ;;
	*"
timeout="*) lim=${settings#*"
timeout="} ;;
	*) lim=300 ;;
	esac
	lim=${lim%%[!0-9]*}
}
# read_uptime: seconds since boot in $now (no fork: the guest's clock, for durations).
read_uptime() {
	read -r now _ < /proc/uptime
	now=${now%%.*}
}

# step IMPL NAME PLAN CMD...: one run of a test program: one top-level result NAME@IMPL, its
# output nested below it, its own results tagged @IMPL; PLAN is the number of results it must
# print.  A program killed at its limit (limit_of), one that printed another number of results
# than PLAN, ended on a signal or with a status its results do not explain, or after which the
# kernel logged a problem, fails; one whose every result is a skip is a skip.
step() {
	if [ "$pass" = plan ]; then
		planned=$((planned + 1))
		return
	fi
	impl=$1 name=$2 n=$3
	shift 3
	echo "# selftests: rust_utimer: $name@$impl"
	limit_of "$name"
	read_uptime
	step_t0=$now
	timeout -k 10 "$lim" "$@" > "$tmpd/out" 2>&1
	rc=$?
	read_uptime
	step_t0=$((now - step_t0))
	sed -E "s/^((not )?ok [0-9]+ [^ #]+)/\1@$impl/; s/^/# /" "$tmpd/out"
	# Its results, failures and skips, in one pass.
	# shellcheck disable=SC2046
	set -- $(awk '/^(not )?ok / { g++ } /^not ok / { f++ } /^ok [0-9]+ [^#]*# SKIP/ { k++ }
		END { print g + 0, f + 0, k + 0 }' "$tmpd/out")
	got=$1 failed=$2 skipped=$3
	why=
	if [ $rc = 124 ] || [ $rc = 137 ]; then
		why="timeout: killed after $lim s (selftests/settings)"
	elif [ "$got" != "$n" ]; then
		why="$got results of $n planned (exit $rc)"
	elif [ $rc -ge 128 ] || { [ $rc -ne 0 ] && [ $rc -ne 4 ] && [ "$failed" = 0 ]; }; then
		why="exited with $rc"
	elif [ "$failed" != 0 ]; then
		why="$failed of its $got results failed"
	fi
	kernel_log_clean || why="${why:+$why; }the kernel logged a problem (above)"
	if [ -n "$why" ]; then
		result 1 "$name@$impl" "$why"
	elif [ "$skipped" = "$n" ]; then
		result skip "$name@$impl" "$(sed -n 's/^ok [0-9]* [^#]*# SKIP *//p' "$tmpd/out" | head -1)"
	else
		result 0 "$name@$impl"
	fi
	# Where the guest's time goes.
	echo "# time $name@$impl $step_t0 s"
}
# lacking NAME WHY: the result of a test that cannot run here: a skip, or with UTIMER_STRICT a
# failure.
lacking() {
	if [ -n "${UTIMER_STRICT:-}" ]; then
		check "$1" 1 "$2 (UTIMER_STRICT: this kernel's line asks for it)"
	else
		check "$1" skip "$2"
	fi
}
# check NAME STATUS [DIAGNOSTIC]: a result of this script's own (planned as 1); STATUS "skip"
# with the reason as DIAGNOSTIC.
check() {
	if [ "$pass" = plan ]; then
		planned=$((planned + 1))
	else
		result "$2" "$1" "${3:-}"
	fi
}
# plan_of CMD...: the number of results CMD will print (--plan); 1 for a failure line if it
# cannot say.
plan_of() {
	p=$("$@" --plan 2>/dev/null) && [ "$p" -gt 0 ] 2>/dev/null && echo "$p" || echo 1
}

# harness IMPL PROGRAM: each selected test of a kselftest-harness program, one run each.
harness() {
	if ! "$bin/$2" --list > "$tmpd/list.$2" 2>&1 || ! [ -s "$tmpd/list.$2" ]; then
		check "${2}_lists_its_tests@$1" 1 "$(head -c 200 "$tmpd/list.$2")"
		return
	fi
	while read -r t; do
		want "$t" || continue
		step "$1" "$t" 1 "$bin/$2" -r "$t"
	done < "$tmpd/list.$2"
}

# suite IMPL DEVICE: the tests that run against both implementations.
suite() {
	export UTIMER_DEV=$2
	for p in $HARNESS; do
		harness "$1" "$p"
	done
	# The parity table's inputs (selftests/parity_probe.c); compared in parity_table.
	if want parity_; then
		step "$1" parity_probe 1 "$bin/parity_probe"
		[ "$pass" = plan ] || cp "$tmpd/out" "$tmpd/parity.$1"
	fi
	# The use case end to end (examples/): network audio on a utimer, and on aloop's own clock.
	if want netaudio_; then
		# Its persistent-timer cases where persist_test runs (the word persist), as that is
		# where the suite tests persistent timers.
		np=-P
		in_suite persist && np=
		# shellcheck disable=SC2086
		step "$1" netaudio_test "$(plan_of sh selftests/netaudio_test.sh ${UTIMER_NETAUDIO_ARGS:-} $np)" \
			sh selftests/netaudio_test.sh -d "${UTIMER_NETAUDIO_SECONDS:-6}" -t "$2" \
			${UTIMER_NETAUDIO_ARGS:-} $np
		[ "$pass" = plan ] || rmmod snd-aloop 2>/dev/null
	fi
	if want aloop_; then
		step "$1" aloop_test "$(plan_of "$bin/aloop_test")" "$bin/aloop_test"
		# aloop's own report of the refused resolution is expected there: no kernel problem.
		[ -n "$core" ] ||
			step "$1" aloop_test_sweep "$(plan_of "$bin/aloop_test" --sweep)" "$bin/aloop_test" --sweep
		[ "$pass" = plan ] || rmmod snd-aloop 2>/dev/null
	fi
}

# The parity table: on a kernel with both implementations, each input of parity_probe gave the
# same outcome through /dev/snd/timer and /dev/utimer, in the same boot.
parity_table() {
	if [ -z "$upstream" ] || ! want parity_; then
		return
	fi
	if [ "$pass" = plan ]; then
		planned=$((planned + $("$bin/parity_probe" --list | wc -l)))
		return
	fi
	echo "# parity table: case | upstream_c | rust_utimer"
	"$bin/parity_probe" --list | while read -r c; do
		a=$(sed -n "s/^# parity $c //p" "$tmpd/parity.upstream_c" 2>/dev/null)
		b=$(sed -n "s/^# parity $c //p" "$tmpd/parity.rust_utimer" 2>/dev/null)
		echo "# parity $c | ${a:-none} | ${b:-none}"
		[ -n "$a" ] && [ "$a" = "$b" ]
		check "parity_${c}_same_as_upstream_c" $? "upstream: ${a:-none}; ours: ${b:-none}"
	done
}

# packaging_test NAME: testing/packaging/NAME.sh, which needs the running kernel's headers; a
# guest root without them (the debug kernel's) lacks it.
packaging_test() {
	if [ -n "$install" ]; then
		step rust_utimer "$1" "$(plan_of sh "testing/packaging/$1.sh")" sh "testing/packaging/$1.sh"
	else
		lacking "$1@rust_utimer" \
			"no headers for $(uname -r) in this guest's root (/usr/src/linux-headers-$(uname -r))"
	fi
}

# The rust_utimer part; IMPL rust_utimer.
ours() {
	if [ "$pass" = run ]; then
		echo "# ---- rust_utimer through /dev/utimer ($ko)"
		insmod "$ko"
		loaded=$?
		check load_rust_utimer $loaded
		# Without the module nothing below can run: the guest prints fewer results than its plan.
		[ $loaded = 0 ] || return
		# The documented udev rule, where udevd runs: the node goes to the audio group, and the
		# permission test checks that.  The debug kernel's guest has no udevd: a skip there.
		if udevadm control --ping 2>/dev/null; then
			mkdir -p /run/udev/rules.d
			cp udev/60-rust-utimer.rules /run/udev/rules.d/
			udevadm control --reload
			udevadm trigger --action=add --sysname-match=utimer
			wait_udev_rule /dev/utimer
			check udev_rule_gives_dev_utimer_to_the_audio_group $? \
				"/dev/utimer is $(stat -c '%U:%G %a' /dev/utimer)"
			export UTIMER_UDEV_RULE=1
		else
			lacking udev_rule_gives_dev_utimer_to_the_audio_group "no udevd runs in this guest"
		fi
	else
		check load_rust_utimer 0
		check udev_rule_gives_dev_utimer_to_the_audio_group 0
	fi
	export UTIMER_KO="$ko"
	suite rust_utimer /dev/utimer
	parity_table
	# Persistent timers, holdover and the timers= parameter (ours alone): each test of
	# persist_test as the harness programs' (all named persist_..., so the word selects them).
	in_suite persist && harness rust_utimer persist_test
	# Reliability (selftests/stress_*.c), bounded here; `make stress` runs it long.  Failslab
	# scoped to the module where the kernel has it.
	if want_full stress_; then
		failslab=
		[ -d /sys/kernel/debug/failslab ] && failslab="--failslab 5"
		for mode in "fuzz -n ${UTIMER_FUZZ_IOCTLS:-1000000}" failnth \
			"close_in_use -r ${UTIMER_CLOSE_ROUNDS:-20}" \
			"run -d ${UTIMER_STRESS_SECONDS:-15} $failslab"; do
			t0=$(date +%s)
			# shellcheck disable=SC2086
			step rust_utimer "stress_${mode%% *}" "$(plan_of "$bin/stress_${mode%% *}")" \
				"$bin/stress_"$mode
			[ "$pass" = plan ] || echo "# stat seconds_stress_${mode%% *} $(($(date +%s) - t0))"
		done
	fi
	# 32-bit tasks: the same ABI and behaviour tests, built for i386 (x86_64) or armhf (arm64),
	# through compat_ioctl.
	if want "$abi32"; then
		if [ -n "$compat32" ]; then
			step "rust_utimer_$abi32" abi_test32 "$(plan_of "$bin/abi_test32")" "$bin/abi_test32"
			# Each program whole (one kernel-log read per program).
			for p in $HARNESS; do
				n=$("$bin/${p}32" --list 2>/dev/null | wc -l)
				if [ "$n" -gt 0 ]; then
					step "rust_utimer_$abi32" "${p}32" "$n" "$bin/${p}32"
				else
					check "${p}32_lists_its_tests@rust_utimer_$abi32" 1
				fi
			done
		else
			check "${abi32}_tests@rust_utimer_$abi32" skip \
				"no 32-bit programs here (no CONFIG_IA32_EMULATION, no CONFIG_COMPAT)"
		fi
	fi
	# Upstream's own selftest, unmodified, through the preload library.
	if want_full upstream_; then
		step rust_utimer upstream_utimer_test 1 sh selftests/upstream_selftests.sh rust_utimer
		if [ -n "$upstream" ]; then
			# Same boot: the results must be upstream's, helper by helper.
			a=$(sed -n 's/^# upstream-selftests-result upstream_c //p' "$tmpd/upstream_c" 2>/dev/null)
			b=$(sed -n 's/^# upstream-selftests-result rust_utimer //p' "$tmpd/out" 2>/dev/null)
			[ -n "$a" ] && [ "$a" = "$b" ]
			check upstream_selftests_same_results_through_preload_as_upstream_c $? \
				"upstream: ${a:-none}; ours: ${b:-none}"
		fi
	fi
	# Everything is closed: the module must unload, and the kernel log say nothing of it.
	if [ "$pass" = run ]; then
		rmmod rust_utimer && kernel_log_clean
		check unload_rust_utimer_after_tests $?
	else
		check unload_rust_utimer_after_tests 0
	fi
}

main() {
	[ -z "$badwords" ] || check suite_words_known 1 "UTIMER_SUITE=$suite: unknown:$badwords"
	step rust_utimer abi_test "$(plan_of "$bin/abi_test")" "$bin/abi_test"
	if [ -n "$upstream" ]; then
		[ "$pass" = plan ] || echo "# ---- upstream's C utimers (CONFIG_SND_UTIMER) through /dev/snd/timer"
		suite upstream_c /dev/snd/timer
		if want upstream_; then
			step upstream_c upstream_utimer_test 1 sh selftests/upstream_selftests.sh upstream_c
			[ "$pass" = plan ] || cp "$tmpd/out" "$tmpd/upstream_c"
			# The utimer PCM on the kernel's own utimers (rust_utimer not loaded yet).
			step upstream_c plugin_upstream_test \
				"$(plan_of sh selftests/plugin_upstream_test.sh)" \
				sh selftests/plugin_upstream_test.sh
		fi
	fi
	ours
	# insmod/rmmod cycles, parameters at their bounds, rmmod refused while in use.
	if want_full lifecycle_; then
		t0=$(date +%s)
		step rust_utimer lifecycle "$(plan_of sh selftests/lifecycle.sh)" \
			sh selftests/lifecycle.sh "$ko" "${UTIMER_CYCLES:-100}"
		[ "$pass" = plan ] || echo "# stat seconds_lifecycle $(($(date +%s) - t0))"
	fi
	# The command line tool: tick sources, listing, and what it says when something is wrong.
	want_full cli_ && step rust_utimer cli_test "$(plan_of sh selftests/cli_test.sh)" \
		sh selftests/cli_test.sh "$ko"
	# The utimer PCM (tools/alsa-plugin): aplay, sox and GStreamer write into it.
	want_full plugin_ && step rust_utimer alsa_plugin_test \
		"$(plan_of sh selftests/alsa_plugin_test.sh)" sh selftests/alsa_plugin_test.sh "$ko"
	# Players and a sound server into it: mpg123, speaker-test, pyalsaaudio, alsaloop, PipeWire.
	want_full plugin_ && step rust_utimer plugin_programs_test \
		"$(plan_of sh selftests/plugin_programs_test.sh)" sh selftests/plugin_programs_test.sh "$ko"
	# `make install`, where the kernel's headers are: modprobe, udev, PATH (depmod alone takes
	# minutes under TCG: the whole suite, and the kernels that name it).
	want_full install_ && packaging_test install_test
	# The module DKMS built in the toolchain root for this kernel loads.
	want dkms_ && packaging_test dkms_test
	if [ -n "$kmemleak" ]; then
		if [ "$pass" = run ]; then
			# Objects younger than a few seconds are not reported: scan, wait, scan again.
			echo scan > /sys/kernel/debug/kmemleak
			sleep 6
			echo scan > /sys/kernel/debug/kmemleak
			cat /sys/kernel/debug/kmemleak > "$tmpd/leaks"
			dmesg -c > /dev/null
			[ ! -s "$tmpd/leaks" ]
			check kmemleak_finds_no_leak $?
			head -60 "$tmpd/leaks" | sed 's/^/# /'
		else
			check kmemleak_finds_no_leak 0
		fi
	fi
}

all() {
	echo "# guest: $(uname -r); $(config CONFIG_SND_UTIMER)"
	dmesg -c > /dev/null
	modprobe snd-timer 2>/dev/null
	export UTIMER_DEV=/dev/utimer
	# The plan: the same steps, counted; then run.
	main
	echo "TAP version 13"
	echo "1..$planned"
	pass=run
	main
}

all 2>&1 | tee "$tmpd/all"
! grep -q '^not ok' "$tmpd/all"
rc=$?
rm -rf "$tmpd"
exit $rc
