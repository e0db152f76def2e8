# shellcheck shell=bash
# Sourced by the scripts under scripts/: the pins (every cache is keyed by them) and helpers.

# The Debian kernel we build for and boot (trixie-backports).
KVER=${KVER:-7.3.4+deb13-amd64}
KPKGVER=${KPKGVER:-7.3.4-1~bpo13+1}
KSRC_PKG=${KSRC_PKG:-linux-source-7.3}

# Debian's PREEMPT_RT flavour of the same build (the pro-audio kernel): same source, same
# toolchain, its own .config (so its own Rust metadata and crate hashes).
RT_KVER=${RT_KVER:-${KVER%-amd64}-rt-amd64}
RT_KDIR_IN_ROOT=/usr/src/linux-headers-$RT_KVER
RT_MOD_IN_ROOT=/build/mod-rt

# The toolchain that built that kernel (Debian 13 "trixie").
SUITE=trixie
MIRROR=${MIRROR:-http://deb.debian.org/debian}
RUSTC_WANT=1.85.1
BINDGEN_WANT=0.71.1

# The VM runner (virtme-ng), from PyPI, in a venv of its own.
VNG_VERSION=1.42

# Bump when the package list or the root's layout changes.
ROOT_REV=1

CACHE=${RUST_UTIMER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rust_utimer}
ROOT=${RUST_UTIMER_ROOT:-$CACHE/root-$SUITE-$KVER-r$ROOT_REV}
VNG_VENV=$CACHE/venv-vng-$VNG_VERSION
# The prepared headers tree, inside the root (as /usr/src/linux-headers-$KVER).
KDIR_IN_ROOT=/usr/src/linux-headers-$KVER
# The kernel source (for the selftest harness) and its installed uapi headers, inside the root.
KSRC_IN_ROOT=/usr/src/$KSRC_PKG
UAPI_IN_ROOT=/usr/src/$KSRC_PKG-uapi

# The debug kernel (scripts/debug-kernel): keyed by the source package and the config fragment.
DEBUG_FRAGMENT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kconfig/debug.config
DEBUG_KEY=$( (echo "$KPKGVER"; cat "$DEBUG_FRAGMENT") | sha1sum | cut -c1-12)
DEBUG_BUILD_IN_ROOT=/build/debug-$DEBUG_KEY
DEBUG_KVER=${KVER%%+*}-utimer-debug
DEBUG_MOD_IN_ROOT=/build/mod-debug

# The bench kernel (scripts/debug-kernel bench, for scripts/bench): debug.config, then
# bench.config on top of it (merge_config.sh): the same kernel without the sanitizers, with
# Debian's choices where they change costs.
BENCH_FRAGMENT=$(dirname "$DEBUG_FRAGMENT")/bench.config
BENCH_KEY=$( (echo "$KPKGVER"; cat "$DEBUG_FRAGMENT" "$BENCH_FRAGMENT") | sha1sum | cut -c1-12)
BENCH_BUILD_IN_ROOT=/build/bench-$BENCH_KEY
BENCH_KVER=${KVER%%+*}-utimer-bench
BENCH_MOD_IN_ROOT=/build/mod-bench

# custom_kernel debug|bench: sets CK_BUILD_IN_ROOT, CK_KVER and CK_MOD_IN_ROOT for that kernel.
custom_kernel() {
	case $1 in
	debug) CK_BUILD_IN_ROOT=$DEBUG_BUILD_IN_ROOT CK_KVER=$DEBUG_KVER CK_MOD_IN_ROOT=$DEBUG_MOD_IN_ROOT ;;
	bench) CK_BUILD_IN_ROOT=$BENCH_BUILD_IN_ROOT CK_KVER=$BENCH_KVER CK_MOD_IN_ROOT=$BENCH_MOD_IN_ROOT ;;
	*) die "no kernel flavour $1 (debug or bench)" ;;
	esac
}

log() { printf '\033[1m[rust_utimer]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[rust_utimer] error:\033[0m %s\n' "$*" >&2; exit 1; }

# The repo, as the root sees it (bind-mounted by in_root).
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC_IN_ROOT=/src

# Run a command chrooted in the root, with /proc, /sys, /dev and the repo (at /src) mounted in a
# private mount namespace, so nothing stays mounted on the host if we are interrupted.
in_root() {
	[ -x "$ROOT/usr/bin/env" ] || die "no toolchain root at $ROOT: run scripts/provision first"
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
