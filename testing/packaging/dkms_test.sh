#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The module DKMS built for the running kernel in its toolchain root (testing/build: dkms add,
# dkms build against Debian's headers; for another architecture, cross) loads and creates a
# timer, in the guest of every kernel of testing/kernels.tsv (selftests/run.sh).
#   testing/packaging/dkms_test.sh [--plan]
# KTAP; rust_utimer must not be loaded when it starts.
set -u
UTIMER_SELFTESTS=$(cd "$(dirname "$0")/../../selftests" && pwd)
. "$UTIMER_SELFTESTS/ktap.sh"
ktap_plan_or_exit 1 "${1:-}"
kver=$(uname -r)
err=$(mktemp)
# Signed with DKMS's MOK key, which this kernel does not know (no Secure Boot here: it loads,
# tainted E).
dkms_ko=$(ls /var/lib/dkms/rust_utimer/*/"$kver"/"$(uname -m)"/module/rust_utimer.ko* 2>/dev/null | head -1)
modprobe snd-timer	# modprobe -r took it with rust_utimer
if [ -n "$dkms_ko" ] && insmod "$dkms_ko" 2> "$err" && [ -c /dev/utimer ]; then
	out=$("$UTIMER_BIN/utimer" run -n 10000000 < /dev/null 2>&1)
	echo "$out" | grep -q '^id=0 '
	ktap_check $? dkms_built_module_loads_and_creates_a_timer "$dkms_ko: $out"
	rmmod rust_utimer
else
	ktap_check 1 dkms_built_module_loads_and_creates_a_timer "module: ${dkms_ko:-none}: $(cat "$err")"
fi
rm -f "$err"
ktap_finished
