# shellcheck shell=bash
# Sourced by the scripts under scripts/: the pins (every cache is keyed by them) and helpers.

# The repo.
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

log() { printf '\033[1m[rust_utimer]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[rust_utimer] error:\033[0m %s\n' "$*" >&2; exit 1; }

# tap_totals FILE: the top-level results of a TAP stream (a guest's, a program's: nested lines
# start with "#"): T_PLAN (its first "1..N", empty without one), T_GOT, T_FAILED, T_SKIPPED,
# T_PASSED.  Its status is 0 when the results are exactly the plan: green needs that too
# (a stream cut short, or one with a result more, is no pass).
tap_totals() {
	T_PLAN=$(grep -m1 -E '^1\.\.[0-9]+$' "$1" | cut -c4- || true)
	T_GOT=$(grep -cE '^(not )?ok ' "$1" || true)
	T_FAILED=$(grep -cE '^not ok ' "$1" || true)
	T_SKIPPED=$(grep -cE '^ok .*# SKIP' "$1" || true)
	T_PASSED=$((T_GOT - T_FAILED - T_SKIPPED))
	[ -n "$T_PLAN" ] && [ "$T_GOT" = "$T_PLAN" ]
}

# The supported kernels: one line each in kernels.tsv (its header says what the columns are).
KERNELS_TSV=$TOP/testing/kernels.tsv
# kernel_names [full|core]: the names in the table, in its order (only those with these tests).
# A line that is not a comment and has not its 7 columns stops the script, naming it.
kernel_names() {
	awk -v t="${1:-}" -v f="$KERNELS_TSV" '
		/^#/ || NF == 0 { next }
		NF != 7 { printf "%s:%d: %d columns, not 7: %s\n", f, NR, NF, $0 > "/dev/stderr"; bad = 1; exit 1 }
		t == "" || $6 == t { print $1 }' "$KERNELS_TSV" || die "testing/kernels.tsv is malformed"
}
# The words a kernel's tests may name besides full or core (selftests/run.sh's programs; deb,
# testing/check's Debian packages' guest).
SUITE_WORDS="netaudio aloop parity stress i386 armhf upstream lifecycle cli plugin install dkms"
SUITE_WORDS="$SUITE_WORDS persist deb"
# kernel NAME: K_NAME, K_RELEASE, K_VERSION, K_SUITE, K_ROOT (the root's name), K_TESTS, K_ARCH
# of that kernel; K_MACH, its `uname -m` (x86_64, aarch64), K_ELF (readelf's name of its
# machine), and for another architecture than amd64 K_CROSS (its cross compilers' triplet) and
# K_ARCH32, K_CROSS32 (its 32-bit programs' Linux architecture and triplet); K_SERIES (7.3),
# K_HEADERS and K_MOD (its headers and the module's build directory, in its root); ROOT, the
# directory of its root, for in_root; GUEST_ROOT, its guest's root for vm-run (ROOT itself, but
# for another architecture than amd64).
kernel() {
	local line
	line=$(awk -v n="$1" '!/^#/ && $1 == n' "$KERNELS_TSV")
	[ -n "$line" ] || die "no kernel '$1' in testing/kernels.tsv (there: $(kernel_names | tr '\n' ' '))"
	read -r K_NAME K_RELEASE K_VERSION K_SUITE K_ROOT K_TESTS K_ARCH <<< "$line"
	[ "$(echo "$line" | awk '{ print NF }')" = 7 ] || die "testing/kernels.tsv: $1: not 7 columns: $line"
	local w
	case $K_TESTS in full | full[+-]* | core | core[+-]*) ;; *) die "testing/kernels.tsv: $1: tests '$K_TESTS' start neither with full nor with core" ;; esac
	w=${K_TESTS#full}
	for w in $(echo "${w#core}" | sed 's/[+-]/ /g'); do
		case " $SUITE_WORDS " in *" $w "*) ;; *) die "testing/kernels.tsv: $1: '$w' in '$K_TESTS' is no test's word (testing/common.sh: $SUITE_WORDS)" ;; esac
	done
	case $K_ARCH in
	amd64) K_MACH=x86_64 K_ELF=X86-64 K_CROSS= K_ARCH32= K_CROSS32= ;;
	arm64) K_MACH=aarch64 K_ELF=AArch64 K_CROSS=aarch64-linux-gnu K_ARCH32=arm
		K_CROSS32=arm-linux-gnueabihf ;;
	*) die "kernels.tsv: $K_NAME: no architecture or one the scripts do not know ('$K_ARCH')" ;;
	esac
	K_SERIES=$(echo "$K_RELEASE" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')
	K_HEADERS=/usr/src/linux-headers-$K_RELEASE
	# The module's output directory (MO=): build/NAME in the repo, one per kernel.
	K_MOD=$SRC_IN_ROOT/build/$K_NAME
	ROOT=$(root_dir "$K_ROOT")
	GUEST_ROOT=$(guest_root_dir "$K_ROOT" "$K_ARCH")
}

# Bump when a root's package list or layout changes.
ROOT_REV=2
MIRROR=${MIRROR:-http://deb.debian.org/debian}
CACHE=${RUST_UTIMER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rust_utimer}
# The main root (Debian trixie): builds the selftests, the tools, the debug and bench kernels;
# the userspace of every guest of a kernel of that root, and of the debug and bench kernels.
MAIN_ROOT=trixie
root_dir() {
	if [ "$1" = "$MAIN_ROOT" ] && [ -n "${RUST_UTIMER_ROOT:-}" ]; then
		echo "$RUST_UTIMER_ROOT"
	else
		echo "$CACHE/root-$1-r$ROOT_REV"
	fi
}
# guest_root_dir NAME ARCH: the root a guest of that architecture runs: the root NAME itself for
# amd64, a root of its own (the same suite, debootstrap --arch ARCH) for another.
guest_root_dir() {
	if [ "$2" = amd64 ]; then root_dir "$1"; else echo "$CACHE/root-$1-$2-r$ROOT_REV"; fi
}
# The repo, as a root sees it (bind-mounted by in_root).
SRC_IN_ROOT=/src

# The stock kernel (Debian's trixie-backports build), which the debug and bench kernels are
# built from, by the names the scripts have always used.
kernel stock
KVER=$K_RELEASE KPKGVER=$K_VERSION KSRC_PKG=linux-source-$K_SERIES
ROOT=$(root_dir "$MAIN_ROOT")

# The VM runner (virtme-ng), from PyPI, in a venv of its own.
VNG_VERSION=1.42
VNG_VENV=$CACHE/venv-vng-$VNG_VERSION
# The kernel source (for the selftest harness) and its installed uapi headers, in the main root.
KSRC_IN_ROOT=/usr/src/$KSRC_PKG
UAPI_IN_ROOT=/usr/src/$KSRC_PKG-uapi

# uapi_dir SERIES ARCH: the uapi headers of linux-source-SERIES for ARCH (Linux's name: arm64,
# arm), installed by testing/provision for the selftests of another architecture than x86.
uapi_dir() { echo "/usr/src/linux-source-$1-$2-uapi"; }

# The debug kernel (testing/debug-kernel): keyed by the source package and the config fragment.
DEBUG_FRAGMENT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kconfig/debug.config
# (Their comments are left out of the keys: a reworded comment is no reason to build again.)
DEBUG_KEY=$( (echo "$KPKGVER"; grep -hv '^#' "$DEBUG_FRAGMENT") | sha1sum | cut -c1-12)
DEBUG_BUILD_IN_ROOT=/build/debug-$DEBUG_KEY
DEBUG_KVER=${KVER%%+*}-utimer-debug
DEBUG_MOD_IN_ROOT=$SRC_IN_ROOT/build/debug

# The bench kernel (testing/debug-kernel bench, for testing/bench): debug.config, then
# bench.config on top of it (merge_config.sh): the same kernel without the sanitizers, with
# Debian's choices where they change costs.
BENCH_FRAGMENT=$(dirname "$DEBUG_FRAGMENT")/bench.config
BENCH_KEY=$( (echo "$KPKGVER"; grep -hv '^#' "$DEBUG_FRAGMENT" "$BENCH_FRAGMENT") | sha1sum | cut -c1-12)
BENCH_BUILD_IN_ROOT=/build/bench-$BENCH_KEY
BENCH_KVER=${KVER%%+*}-utimer-bench
BENCH_MOD_IN_ROOT=$SRC_IN_ROOT/build/bench

# custom_kernel debug|bench: sets CK_BUILD_IN_ROOT, CK_KVER and CK_MOD_IN_ROOT for that kernel.
custom_kernel() {
	case $1 in
	debug) CK_BUILD_IN_ROOT=$DEBUG_BUILD_IN_ROOT CK_KVER=$DEBUG_KVER CK_MOD_IN_ROOT=$DEBUG_MOD_IN_ROOT ;;
	bench) CK_BUILD_IN_ROOT=$BENCH_BUILD_IN_ROOT CK_KVER=$BENCH_KVER CK_MOD_IN_ROOT=$BENCH_MOD_IN_ROOT ;;
	*) die "no kernel flavour $1 (debug or bench)" ;;
	esac
}

# Run a command chrooted in the root, with /proc, /sys, /dev and the repo (at /src) mounted in a
# private mount namespace, so nothing stays mounted on the host if we are interrupted.
in_root() {
	[ -x "$ROOT/usr/bin/env" ] || die "no toolchain root at $ROOT: run testing/provision first"
	unshare --mount --fork -- /bin/sh -ec '
		r=$1; top=$2; shift 2
		mount -t proc proc "$r/proc"
		mount --rbind /sys "$r/sys"
		mount --rbind /dev "$r/dev"
		mkdir -p "$r/src"
		mount --bind "$top" "$r/src"
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' sh "$ROOT" "$TOP" "$@"
}

# in_machine CMD...: CMD as root of a throwaway Debian machine made of the root $ROOT, natively:
# the root under an overlay whose changes are removed when CMD ends, chrooted in a user
# namespace of its own that maps every user to itself (root there, without this machine's
# CAP_SYS_MODULE: nothing in it can load or unload a module of the host), with /proc, /dev's
# basic nodes, tmpfs /tmp and /run, no /sys, the repo at /src.  For what a user's machine does
# that needs no running kernel of its own: apt, dpkg, DKMS (testing/deb-machine).
in_machine() {
	[ -x "$ROOT/usr/bin/env" ] || die "no toolchain root at $ROOT: run testing/provision first"
	local m pid i rc=0
	m=$(mktemp -d "$CACHE/machine.XXXXXX")
	mkdir -p "$m/up" "$m/work" "$m/root"
	mkfifo "$m/go"
	# The namespace's first program waits for its map (written below: only a process outside
	# may), then runs the rest, which is root in it from that exec on.
	unshare --user -- /bin/sh -c 'read _ < "$1/go"; shift; exec "$@"' sh "$m" \
		unshare --mount --pid --fork -- /bin/sh -ec '
		r=$1; m=$2; top=$3; shift 3
		mount -t overlay overlay -o "userxattr,lowerdir=$r,upperdir=$m/up,workdir=$m/work" "$m/root"
		mount -t proc proc "$m/root/proc"
		mount -t tmpfs tmpfs "$m/root/dev"
		for d in null zero full random urandom tty; do
			touch "$m/root/dev/$d"
			mount --bind "/dev/$d" "$m/root/dev/$d"
		done
		mkdir "$m/root/dev/pts" "$m/root/dev/shm"
		ln -s /proc/self/fd "$m/root/dev/fd"
		mount -t tmpfs tmpfs "$m/root/tmp"
		mount -t tmpfs tmpfs "$m/root/run"
		mkdir -p "$m/root/src"
		mount --bind "$top" "$m/root/src"
		exec chroot "$m/root" /usr/bin/env -i \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' sh "$ROOT" "$m" "$TOP" "$@" &
	pid=$!
	for i in $(seq 200); do
		[ "$(readlink "/proc/$pid/ns/user")" = "$(readlink /proc/self/ns/user)" ] || break
		sleep 0.05
	done
	echo '0 0 65536' > "/proc/$pid/uid_map" && echo '0 0 65536' > "/proc/$pid/gid_map" ||
		{ kill "$pid"; rm -rf "$m"; die "in_machine: the user namespace could not be mapped"; }
	echo go > "$m/go"
	wait "$pid" || rc=$?
	rm -rf "$m"
	return $rc
}

# step NAME LOG COMMAND...: COMMAND's output in $logdir/LOG, and one TAP line: "ok NAME", or
# "not ok NAME" with the log's tail, setting fail=1 (testing/build, testing/deb).
logdir=$CACHE/logs
step() {
	local name=$1 logf=$logdir/$2
	shift 2
	mkdir -p "$logdir"
	if "$@" > "$logf" 2>&1; then
		echo "ok $name"
	else
		echo "not ok $name # log: $logf"
		sed 's/^/#   /' "$logf" | tail -40
		fail=1
	fi
}

