# shellcheck shell=sh
# SPDX-License-Identifier: GPL-2.0
# Sourced by the shell selftests and run.sh: the kernel's own KTAP helpers
# (tools/testing/selftests/kselftest/ktap_helpers.sh, copied from linux-source by
# selftests/Makefile beside the programs: another architecture's guest root has no
# linux-source), and what our tests share on top of them.

# UTIMER_SELFTESTS: this directory (a script elsewhere, testing/packaging/, sets it before it
# sources this file).
UTIMER_SELFTESTS=${UTIMER_SELFTESTS:-$(cd "$(dirname "$0")" && pwd)}
# UTIMER_BIN: the programs of this machine's architecture (selftests/Makefile's OUT: build for
# x86_64, build-aarch64 for arm64).
if [ -z "${UTIMER_BIN:-}" ]; then
	case $(uname -m) in
	x86_64) UTIMER_BIN=$UTIMER_SELFTESTS/build ;;
	*) UTIMER_BIN=$UTIMER_SELFTESTS/build-$(uname -m) ;;
	esac
	export UTIMER_BIN
fi
. "$UTIMER_BIN/ktap_helpers.sh"

# ktap_plan_or_exit N [ARG]: with --plan as ARG, print N and exit (run.sh adds up the plans
# before anything runs); else print the KTAP header and the plan.
ktap_plan_or_exit() {
	if [ "${2:-}" = --plan ]; then
		echo "$1"
		exit 0
	fi
	ktap_print_header
	ktap_set_plan "$1"
}

# ktap_check STATUS NAME [DIAGNOSTIC]: one result, passed when STATUS is 0; a failure's
# diagnostic goes on a comment line before it.
ktap_check() {
	if [ "$1" = 0 ]; then
		ktap_test_pass "$2"
	else
		[ -z "${3:-}" ] || printf '# %s: %s\n' "$2" "$3"
		ktap_test_fail "$2"
	fi
}

# wait_until SECONDS CMD...: poll CMD every 50 ms until it succeeds; 1 if it never did.  The
# bounds are generous on purpose: a condition that comes late on a loaded machine is no failure.
wait_until() {
	_wu_end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$_wu_end" ] || return 1
		sleep 0.05
	done
}

# udev_applied DEV: udev has handled DEV's uevent and its rule: DEV is the audio group's, 0660.
udev_applied() {
	[ "$(stat -c '%G %a' "$1" 2>/dev/null)" = "audio 660" ]
}
# wait_udev_rule DEV: where a udev rule for DEV acts (run.sh's UTIMER_UDEV_RULE, or udevd runs
# and the test installed one), wait until it applied to a node just made.  `udevadm settle`
# alone is not enough: it waits for udevd's queue, which is empty until udevd has read the
# kernel's uevent (seen on arm64 under TCG: settle returned before the node was chowned).
wait_udev_rule() {
	udevadm settle --timeout=30 2>/dev/null
	wait_until 30 udev_applied "$1"
}

# slim_modules SCRATCH KVER MODULE...: for a test that has /lib/modules under an overlay of its
# own, KVER's tree of modules (kernel/) holds only MODULEs, what they depend on and, for the
# running kernel, what is loaded now.  Every depmod (make install's, each of DKMS's installs and
# removals) reads every module of the tree: Debian's 4225, xz-compressed, take it 148 s under TCG
# through 9p; a handful, seconds.  What the test checks is the same on either tree.  SCRATCH: a
# directory on the test's tmpfs.  The test's lazy unmount of its overlay takes this mount too.
slim_modules() {
	_sm_keep=$1/slim-$2
	_sm_tree=/lib/modules/$2/kernel
	_sm_k=$2
	shift 2
	[ "$_sm_k" != "$(uname -r)" ] || set -- "$@" $(cut -d' ' -f1 /proc/modules)
	mkdir -p "$_sm_keep" || return 1
	for _sm_m in "$@"; do
		modprobe -S "$_sm_k" --show-depends "$_sm_m" 2>/dev/null
	done | sed -n "s|^insmod $_sm_tree/\([^ ]*\).*|\1|p" | sort -u | while read -r _sm_f; do
		mkdir -p "$_sm_keep/${_sm_f%/*}" && cp "$_sm_tree/$_sm_f" "$_sm_keep/$_sm_f" || exit 1
	done && [ -n "$(ls -A "$_sm_keep")" ] && mount --bind "$_sm_keep" "$_sm_tree"
}

# now_ms: CLOCK_REALTIME in milliseconds.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# The kernel log's reports (BUG, WARNING, KASAN, ...), shared with testing/vm-run.
KERNEL_REPORTS=$(cat "$UTIMER_SELFTESTS/kernel-reports.regex")
