#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs in the guest (scripts/vm-run -- selftests/run.sh [MODULE.ko]): loads the modules, runs
# every test and prints TAP that scripts/check counts.
#
# Each test's TAP name gets the implementation it ran against: @rust_utimer (/dev/utimer) or,
# on a kernel with CONFIG_SND_UTIMER=y, also @upstream_c (/dev/snd/timer, same test code).
# The kernel log is read after every test: a report in it is a "not ok" naming the test; on a
# kernel with kmemleak, a scan at the end must find no leak.  A test program that dies without
# saying "not ok" gets a "not ok" line of its own.
set -u
cd "$(dirname "$0")/.."
bin=$PWD/selftests/build
ko=${1:-$PWD/rust_utimer.ko}
# An optional regex: only the tests whose names match (scripts/mutants uses it to run the tests
# a mutant is expected to fail; aloop_test, the i386 and upstream's tests by those words).
only=${2:-.}
want() { printf '%s\n' "$1" | grep -qE "$only"; }
bad='BUG:|WARNING:|Oops|KASAN:|KFENCE:|UBSAN:|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|blocked for more than|refcount_t:|kmemleak: [0-9]+ new suspected|general protection fault|Call Trace:'
config() { { zcat /proc/config.gz 2>/dev/null || cat "/lib/modules/$(uname -r)/config"; } | grep -E "^(# )?$1[= ]"; }

# Read the kernel log written since the last call; a report in it fails the test just run.
log_after() {
	new=$(dmesg -c)
	if printf '%s\n' "$new" | grep -qE "$bad"; then
		echo "not ok kernel_log_after_$1"
		printf '%s\n' "$new" | grep -E -A20 "$bad" | head -60 | sed 's/^/# /'
	fi
}

# run IMPL PROGRAM [ARGS...]: TAP of PROGRAM, each name tagged @IMPL.
run() {
	impl=$1
	shift
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed -E "s/^((not )?ok [0-9]+ [^ #]+)/\1@$impl/"
	if [ $rc -ne 0 ] && [ $rc -ne 4 ] && ! printf '%s\n' "$out" | grep -q '^not ok'; then
		echo "not ok $(basename "$1")_exit_status@$impl # exited with $rc"
	fi
}

suite() { # IMPL DEVICE
	export UTIMER_DEV=$2
	for t in $("$bin/utimer_test" -l 2>&1 | awk 'NR > 1 && NF { print $NF }'); do
		want "$t" || continue
		echo "# RUN $t@$1"
		run "$1" "$bin/utimer_test" -t "$t"
		log_after "$t@$1"
	done
	# The use case end to end (examples/): network audio on a utimer, and on aloop's own clock.
	if want netaudio_; then
		echo "# RUN netaudio_test@$1"
		# shellcheck disable=SC2086
		run "$1" sh selftests/netaudio_test.sh -d "${UTIMER_NETAUDIO_SECONDS:-6}" -t "$2" \
			${UTIMER_NETAUDIO_ARGS:-}
		log_after "netaudio_test@$1"
		rmmod snd-aloop 2>/dev/null
	fi
	want aloop_ || return 0
	echo "# RUN aloop_test@$1"
	run "$1" "$bin/aloop_test"
	log_after "aloop_test@$1"
	echo "# RUN aloop_test --sweep@$1"
	run "$1" "$bin/aloop_test" --sweep
	# aloop's own report of the refused resolution is expected there, and is no kernel problem.
	log_after "aloop_test_sweep@$1"
	rmmod snd-aloop 2>/dev/null
}

echo "# guest: $(uname -r); $(config CONFIG_SND_UTIMER)"
dmesg -c > /dev/null
modprobe snd-timer 2>/dev/null
"$bin/abi_test"

if config CONFIG_SND_UTIMER | grep -q '=y'; then
	echo "# ---- upstream's C utimers (CONFIG_SND_UTIMER) through /dev/snd/timer"
	suite upstream_c /dev/snd/timer
	if want upstream_; then
		echo "# RUN upstream's utimer-test@upstream_c"
		upstream_results=$("$PWD/selftests/upstream_selftests.sh" upstream_c)
		printf '%s\n' "$upstream_results"
		log_after "upstream_utimer_test@upstream_c"
	fi
fi

echo "# ---- rust_utimer through /dev/utimer ($ko)"
export UTIMER_KO="$ko"
if insmod "$ko"; then
	echo "ok load_rust_utimer"
	# The documented udev rule, where udevd runs (the debug kernel's guest has none): the node
	# goes to the audio group, and the permission test checks that.
	if udevadm control --ping 2>/dev/null; then
		mkdir -p /run/udev/rules.d
		cp udev/60-rust-utimer.rules /run/udev/rules.d/
		udevadm control --reload
		udevadm trigger --action=add --sysname-match=utimer
		udevadm settle --timeout=30
		export UTIMER_UDEV_RULE=1
		echo "# udev rule applied: /dev/utimer is $(stat -c '%U:%G %a' /dev/utimer)"
	fi
	suite rust_utimer /dev/utimer
	# Reliability (selftests/stress.c), bounded here; `make stress` runs it long.  Failslab
	# scoped to the module where the kernel has it.
	if want stress_; then
		failslab=
		[ -d /sys/kernel/debug/failslab ] && failslab="--failslab 5"
		for mode in "fuzz -n ${UTIMER_FUZZ_IOCTLS:-1000000}" failnth \
			"close-in-use -r ${UTIMER_CLOSE_ROUNDS:-20}" \
			"run -d ${UTIMER_STRESS_SECONDS:-15} $failslab"; do
			echo "# RUN stress $mode@rust_utimer"
			t0=$(date +%s)
			# shellcheck disable=SC2086
			run rust_utimer "$bin/stress" $mode
			echo "# stat seconds_stress_${mode%% *} $(($(date +%s) - t0))"
			log_after "stress_${mode%% *}@rust_utimer"
		done
	fi
	# 32-bit tasks: the same ABI and behaviour tests, built for i386, through compat_ioctl.
	if ! want i386; then
		echo "# i386 tests not selected"
	elif config CONFIG_IA32_EMULATION | grep -q '=y'; then
		echo "# RUN i386 tests@rust_utimer_i386"
		run rust_utimer_i386 "$bin/abi_test32"
		run rust_utimer_i386 "$bin/utimer_test32"
		log_after "utimer_test32@rust_utimer_i386"
	else
		echo "ok 1 i386_tests@rust_utimer_i386 # SKIP no CONFIG_IA32_EMULATION"
	fi
	# Upstream's own selftest, unmodified, through the preload library.
	if want upstream_; then
		echo "# RUN upstream's utimer-test through utimer-run@rust_utimer"
		ours=$("$PWD/selftests/upstream_selftests.sh" rust_utimer)
		printf '%s\n' "$ours"
		log_after "upstream_utimer_test@rust_utimer"
		if [ -n "${upstream_results:-}" ]; then
			# Same boot: the results must be upstream's, helper by helper.
			a=$(printf '%s\n' "$upstream_results" | sed -n 's/^# upstream-selftests-result upstream_c //p')
			b=$(printf '%s\n' "$ours" | sed -n 's/^# upstream-selftests-result rust_utimer //p')
			if [ -n "$a" ] && [ "$a" = "$b" ]; then
				echo "ok upstream_selftests_same_results_through_preload_as_upstream_c"
			else
				echo "not ok upstream_selftests_same_results_through_preload_as_upstream_c # upstream: $a; ours: $b"
			fi
		fi
	fi
	# Everything is closed: the module must unload.
	if rmmod rust_utimer; then
		echo "ok unload_rust_utimer_after_tests"
	else
		echo "not ok unload_rust_utimer_after_tests"
	fi
else
	echo "not ok load_rust_utimer"
fi
log_after unload

# 100 insmod/rmmod cycles, parameters at their bounds, rmmod refused while in use.
if want lifecycle_; then
	echo "# RUN lifecycle@rust_utimer"
	t0=$(date +%s)
	run rust_utimer sh selftests/lifecycle.sh "$ko" "${UTIMER_CYCLES:-100}"
	echo "# stat seconds_lifecycle $(($(date +%s) - t0))"
	log_after lifecycle@rust_utimer
fi

# The command line tool: tick sources, listing, and what it says when something is wrong.
if want cli_; then
	echo "# RUN cli_test@rust_utimer"
	run rust_utimer sh selftests/cli_test.sh "$ko"
	log_after cli_test@rust_utimer
fi

# `make install`, where the kernel's headers are (Debian's stock kernel): modprobe, udev, PATH.
if want install_ && [ -d "/usr/src/linux-headers-$(uname -r)" ] && [ "$ko" = "$PWD/rust_utimer.ko" ]; then
	echo "# RUN install_test@rust_utimer"
	run rust_utimer sh selftests/install_test.sh
	log_after install_test@rust_utimer
fi

if [ -w /sys/kernel/debug/kmemleak ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null && [ -w /sys/kernel/debug/kmemleak ]; then
	# Objects younger than a few seconds are not reported: scan, wait, scan again.
	echo scan > /sys/kernel/debug/kmemleak
	sleep 6
	echo scan > /sys/kernel/debug/kmemleak
	leaks=$(cat /sys/kernel/debug/kmemleak)
	if [ -n "$leaks" ]; then
		echo "not ok kmemleak_finds_no_leak"
		printf '%s\n' "$leaks" | head -60 | sed 's/^/# /'
	else
		echo "ok kmemleak_finds_no_leak"
	fi
	dmesg -c > /dev/null
fi
