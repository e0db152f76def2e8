#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs in the guest (scripts/vm-run -- selftests/run.sh): loads the modules, runs every test
# program, and prints TAP that scripts/check counts. A test program that dies without saying
# "not ok" gets a "not ok" line of its own.
set -u
cd "$(dirname "$0")/.."
bin=selftests/build
ko=$PWD/rust_utimer.ko
export UTIMER_KO="$ko"

modprobe snd-timer
if ! insmod "$ko"; then
	echo "not ok load_rust_utimer"
	exit 1
fi
echo "ok load_rust_utimer"
echo "# guest: $(uname -r), $(grep -E '^(# )?CONFIG_SND_UTIMER' /lib/modules/$(uname -r)/config)"

for t in abi_test utimer_test aloop_test; do
	echo "# ---- $t"
	out=$("$bin/$t" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^not ok'; then
		echo "not ok ${t}_exit_status # exited with $rc"
	fi
done

# Everything closed: both modules must unload.
rmmod snd-aloop 2>/dev/null
if rmmod rust_utimer; then
	echo "ok unload_rust_utimer_after_tests"
else
	echo "not ok unload_rust_utimer_after_tests"
fi
