#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs in the guest: upstream's own utimer selftest (tools/testing/selftests/alsa/utimer-test.c,
# built unmodified) against one implementation, twice: with upstream's global-timer helper, and
# with ours (tick_counter) in its place.
#   upstream_selftests.sh --plan        prints the number of results (1)
#   upstream_selftests.sh upstream_c     CREATE on /dev/snd/timer, the kernel's CONFIG_SND_UTIMER
#   upstream_selftests.sh rust_utimer    the same program under tools/preload/utimer-run, so
#                                        CREATE reaches /dev/utimer (forced where the kernel has
#                                        its own utimers)
# Prints "# upstream-selftests-result IMPL HELPER: subtest=pass|fail|skip ..." for each run, for
# the caller to compare implementations, and one TAP line: upstream's utimer-test passes with a
# tick counter that works with current alsa-lib.
set -u
if [ "${1:-}" = --plan ]; then
	echo 1
	exit 0
fi
impl=$1
echo "TAP version 13"
echo "1..1"
bin=${UTIMER_BIN:-$(cd "$(dirname "$0")" && pwd)/build}
run="$bin/../../tools/preload/utimer-run"
export UTIMER_PRELOAD_LIB=$bin/libutimer-preload.so
# Where the kernel has its own utimers, CREATE on /dev/snd/timer succeeds without us: force.
if { zcat /proc/config.gz 2>/dev/null || cat "/lib/modules/$(uname -r)/config"; } |
	grep -q '^CONFIG_SND_UTIMER=y'; then
	export UTIMER_PRELOAD_FORCE=1
fi
n=0
for helper in upstream counter; do
	cd "$bin/$helper" || exit 1
	if [ "$impl" = rust_utimer ]; then
		out=$("$run" ./utimer-test 2>&1)
	else
		out=$(./utimer-test 2>&1)
	fi
	printf '%s\n' "$out" | grep -E '^#|^(not )?ok|[Aa]ssert' | grep -vE '^# (Totals|PASSED|FAILED)' |
		sed "s/^/# [$impl, $helper] /"
	result=$(printf '%s\n' "$out" | awk '
		/^(not )?ok [0-9]+ / {
			name = $0; sub(/^(not )?ok [0-9]+ /, "", name); sub(/ .*/, "", name)
			r = /^not ok/ ? "fail" : (/# SKIP/ ? "skip" : "pass")
			printf "%s%s=%s", sep, name, r; sep = " "
		}')
	echo "# upstream-selftests-result $impl $helper: ${result:-none}"
	if [ "$helper" = counter ]; then
		n=$((n + 1))
		case " $result " in
		*" timer_f.utimer=pass "*)
			case " $result " in
			*" global.wrong_timers_test=pass "*)
				echo "ok $n upstream_utimer_test_with_our_tick_counter@$impl"
				continue ;;
			esac ;;
		esac
		echo "not ok $n upstream_utimer_test_with_our_tick_counter@$impl # $result"
	fi
done
