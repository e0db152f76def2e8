#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The Debian packages (`make deb`, build/deb/) as a user installs them, in a guest of Debian's
# stock kernel of its own (testing/check, where kernels.tsv names "+deb"; testing/deb --guest):
# apt installs them with their real dependencies, which the guest's root (the toolchain root)
# has, as Debian's archive would give them; DKMS makes each kernel's build tree in
# /var/lib/rust-utimer (dkms/prepare-objtree: the root's headers have the Rust metadata, which
# it links) and builds the module for the running kernel and the other kernel of the root (the
# rt flavour); nothing is written under /usr that dpkg does not know of, apart from DKMS's
# modules and depmod's indexes; the module loads, /dev/utimer is root:audio 0660 and tagged
# uaccess, the autopkgtest (debian/tests/utimer-aloop) passes, rust-utimer.service's commands
# load the module; a kernel whose build needs what is missing is skipped with what to install
# (apt exits 0) and built once it is there; `apt purge` leaves /usr, /etc and /var/lib as they
# were.  The guest's root is read-only: /etc, /usr and /var get a tmpfs overlay for the test,
# removed at the end.  What the root's own DKMS build (testing/build) registered is taken out
# first, so that the packages meet a machine that never had the module.
#   testing/packaging/deb_test.sh [--plan]
# KTAP; rust_utimer must not be loaded when it starts.  Builds the module three times in the
# guest: about 2.5 min each under TCG, the whole test about 12 min.
set -u
UTIMER_SELFTESTS=$(cd "$(dirname "$0")/../../selftests" && pwd)
. "$UTIMER_SELFTESTS/ktap.sh"
ktap_plan_or_exit 13 "${1:-}"
kver=$(uname -r)
debs=/src/build/deb
pkgs="rust-utimer-dkms rust-utimer-tools libasound2-plugin-utimer"
ver=$(dpkg-deb -f "$(ls "$debs"/rust-utimer-dkms_*_all.deb | head -1)" Version 2>/dev/null)
dkms_m="-m rust_utimer -v ${ver%-*}"
multiarch=$(cc -print-multiarch)
over=$(mktemp -d)
log=$over/log
mount -t tmpfs tmpfs "$over"
mounted=
hidden=
for d in /etc /usr /var; do
	mkdir -p "$over$d/up" "$over$d/work"
	mount -t overlay overlay -o "lowerdir=$d,upperdir=$over$d/up,workdir=$over$d/work" "$d" &&
		mounted="$d $mounted"
done
# run.sh applies the rule from /run/udev/rules.d: out of the way, so only the packaged one acts.
run_rule=/run/udev/rules.d/60-rust-utimer.rules
[ ! -f "$run_rule" ] || mv "$run_rule" "$over/run-rule"
udevadm control --reload 2>/dev/null
cleanup() {
	rmmod snd-aloop rust_utimer 2>/dev/null
	for h in $hidden; do umount "$h"; done
	for d in $mounted; do umount -l "$d"; done
	[ ! -f "$over/run-rule" ] || mv "$over/run-rule" "$run_rule"
	udevadm control --reload 2>/dev/null
	umount -l "$over"
	rm -rf "$over"
}
export DEBIAN_FRONTEND=noninteractive
# apt_get: no network here, and none needed (what the packages depend on is installed).  Each
# call's duration is printed: DKMS's builds and depmod take minutes each under TCG.
apt_get() {
	_t0=$(date +%s)
	timeout 1800 apt-get -y -o Acquire::Retries=0 "$@" >> "$log" 2>&1
	_rc=$?
	ktap_print_msg "apt-get $1 ${2##*/}...: exit $_rc, $(($(date +%s) - _t0)) s"
	return $_rc
}
# man-db's trigger would index every manual page of the root through 9p after each install:
# minutes under TCG, and nothing this test checks.
echo "man-db man-db/auto-update boolean false" | debconf-set-selections
say() { tail -"${1:-8}" "$log" | tr '\n' ' '; }

# A machine without the module: the root's own DKMS registration gone.  (The project's debug
# and bench kernels, whose modules are in the root, have no build link: testing/debug-kernel
# removes it, so DKMS sees Debian's kernels only.)
dkms remove $dkms_m --all > /dev/null 2>&1
rm -rf /var/lib/dkms/rust_utimer /usr/src/rust_utimer-* /var/lib/rust-utimer

# The kernels DKMS must build for: every one with headers for this architecture and Rust.
kernels=
for b in /lib/modules/*/build; do
	k=${b%/build}
	k=${k##*/}
	grep -qs '^CONFIG_X86_64=y' "$b/.config" && grep -qs '^CONFIG_RUST=y' "$b/.config" &&
		kernels="$kernels $k"
done
other=$(echo $kernels | tr ' ' '\n' | grep -vxF "$kver" | head -1)
ktap_print_msg "kernels with headers here:$kernels"
# Each of DKMS's installs and removals runs depmod over the kernel's modules.
for k in $kernels; do
	slim_modules "$over" "$k" snd-timer snd-aloop ||
		ktap_print_msg "$k's module tree could not be slimmed: depmod reads all of it"
done

# listing: every file, link and directory of /usr, /etc and /var/lib (not dpkg's and apt's own
# records), with size and time of change.
listing() {
	find /usr /etc /var/lib -xdev \( -path /var/lib/dpkg -o -path /var/lib/apt \) -prune -o \
		-printf '%y %s %T@ %p\n' | LC_ALL=C sort -k4
}
# names LISTING: its types and paths alone.
names() { cut -d' ' -f1,4- "$1"; }
listing > "$over/before"

# built_for K: DKMS built and installed the module for kernel K.
built_for() {
	dkms status $dkms_m -k "$1" 2>/dev/null | grep -q ': installed' &&
		ls /lib/modules/"$1"/updates/dkms/rust_utimer.ko* > /dev/null 2>&1
}

# (--no-install-recommends: the guest is offline, and linux-source, which rust-utimer-dkms
# recommends, would be fetched; its linux-source-7.3 is installed.)
arch=$(dpkg --print-architecture)
apt_get install --no-install-recommends "$debs"/rust-utimer-dkms_*_all.deb "$debs"/rust-utimer-tools_*_"$arch".deb \
	"$debs"/libasound2-plugin-utimer_*_"$arch".deb
ktap_check $? apt_installs_the_three_packages "$(say)"
for k in $kernels; do
	ktap_print_msg "DKMS for $k, PRE_BUILD and make:" \
		$(grep -hs '^# elapsed' /var/lib/dkms/rust_utimer/*/"$k"/*/log/make.log | cut -d' ' -f4)
done
# Under /usr, what is new or changed and is not a directory must be dpkg's (its packages' lists),
# or DKMS's module and depmod's indexes in /usr/lib/modules.
listing > "$over/installed"
cat /var/lib/dpkg/info/*.list | sed 's|^/lib/|/usr/lib/|; s|^/sbin/|/usr/sbin/|; s|^/bin/|/usr/bin/|' |
	LC_ALL=C sort -u > "$over/owned"
LC_ALL=C comm -13 "$over/before" "$over/installed" | awk '$1 != "d" && $4 ~ /^\/usr\// { print $4 }' |
	grep -vE '^/usr/lib/modules/[^/]+/(updates/dkms/|modules\.)' | LC_ALL=C sort -u > "$over/new-usr"
stray=$(LC_ALL=C comm -23 "$over/new-usr" "$over/owned")
[ -z "$stray" ] && [ -s "$over/new-usr" ] && [ -f "/var/lib/rust-utimer/$kver/.rust-utimer-stamp" ]
ktap_check $? nothing_under_usr_written_that_dpkg_does_not_own \
	"$(wc -l < "$over/new-usr") new under /usr; not dpkg's: $(echo $stray | head -c 600); /var/lib/rust-utimer: $(ls /var/lib/rust-utimer 2>&1 | tr '\n' ' ')"
built_for "$kver"
running=$?
[ -n "$other" ] && built_for "$other"
second=$?
# dkms status, for a failure's diagnostic only: each call takes tens of seconds under TCG.
st=
[ $running = 0 ] && [ $second = 0 ] || st=$(dkms status 2>&1)
ktap_check $running dkms_built_the_module_for_the_running_kernel "$st"
ktap_check $second dkms_built_the_module_for_the_other_installed_kernel "other: ${other:-none}; $st"

# What the packages put where Debian's tools look.
files="/usr/lib/udev/rules.d/60-rust-utimer.rules /usr/lib/systemd/system/rust-utimer.service
	/usr/bin/utimer /usr/bin/utimer-run /usr/lib/$multiarch/rust-utimer/libutimer-preload.so
	/usr/lib/$multiarch/alsa-lib/libasound_module_pcm_utimer.so /etc/alsa/conf.d/60-utimer.conf
	/usr/share/alsa/alsa.conf.d/60-utimer.conf /usr/include/rust_utimer.h
	/usr/share/man/man1/utimer.1.gz /usr/share/man/man1/utimer-run.1.gz"
missing=
for f in $files; do
	[ -e "$f" ] || missing="$missing $f"
done
preload=$(utimer-run sh -c 'echo "$LD_PRELOAD"' 2>&1)
[ -z "$missing" ] && [ "$preload" = "/usr/lib/$multiarch/rust-utimer/libutimer-preload.so" ] &&
	aplay -L 2>/dev/null | grep -qx utimer
ktap_check $? packages_install_the_rule_the_tools_and_the_utimer_pcm \
	"missing:${missing:- none}; utimer-run preloads '$preload'; aplay -L: $(aplay -L 2>&1 | grep -c .) PCMs"

udevadm control --reload
modprobe rust_utimer && [ -c /dev/utimer ] &&
	modinfo -n rust_utimer | grep -q "^/lib/modules/$kver/updates/dkms/rust_utimer.ko"
ktap_check $? modprobe_loads_the_module_dkms_built "$(modinfo -n rust_utimer 2>&1)"
wait_udev_rule /dev/utimer
perm=$(stat -c '%U:%G %a' /dev/utimer 2>&1)
tags=$(udevadm info -q property /dev/utimer 2>&1 | grep -E '^(CURRENT_)?TAGS=')
[ "$perm" = "root:audio 660" ] && echo "$tags" | grep -q ':uaccess:'
ktap_check $? packaged_udev_rule_gives_the_audio_group_and_seat_the_device "/dev/utimer is $perm, $tags"

# The autopkgtest of debian/tests: `utimer run` ticks a timer snd-aloop captures from.
sh /src/debian/tests/utimer-aloop > "$over/autopkgtest.out" 2>&1
ktap_check $? autopkgtest_utimer_aloop_passes "$(tr '\n' ' ' < "$over/autopkgtest.out" | tail -c 600); kernel: $(dmesg | tail -3 | tr '\n' ' ')"

# At boot: rust-utimer.service's commands, as systemd runs them (the guest's init is not
# systemd): its condition holds where DKMS built the module, and its start loads it.
unit=/usr/lib/systemd/system/rust-utimer.service
rmmod rust_utimer
cond=$(sed -n 's/^ExecCondition=//p' "$unit")
start=$(sed -n 's/^ExecStart=//p' "$unit")
[ -n "$cond" ] && $cond > "$over/unit.out" 2>&1 && $start >> "$over/unit.out" 2>&1 &&
	[ -d /sys/module/rust_utimer ] && grep -qx 'WantedBy=sysinit.target' "$unit"
ktap_check $? service_loads_the_module_at_boot "condition '$cond', start '$start': $(cat "$over/unit.out")"

# A kernel installed after the package: the rt kernel goes (the hook its image's removal runs
# takes its module away; its headers removed), then its headers come back from apt's cache, and
# their hook has DKMS build for it.  First without what making its build tree needs and
# Debian's Depends cannot name: the Rust metadata Debian's headers lack (prepared when the root
# was made, files of no package) and the source of the kernel's series to make it from
# (linux-source-7.3's tarball), hidden (an empty tmpfs over the directory, /dev/null over the
# tarball: copying them aside would take minutes here): PRE_BUILD skips the kernel, before any
# compiler, saying in make.log what to install, and the headers install (apt exits 0).  Then,
# with them back, `dkms install` as make.log says builds it.
series=$(echo "$kver" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')
hpkg=
hide() {
	if [ -d "$1" ]; then mount -t tmpfs tmpfs "$1"; else mount --bind /dev/null "$1"; fi &&
		hidden="$1 $hidden"
}
if [ -n "$other" ]; then
	/etc/kernel/prerm.d/dkms "$other" >> "$log" 2>&1
	/etc/kernel/postrm.d/rust-utimer-dkms "$other" >> "$log" 2>&1
	hpkg=$(dpkg -S "/usr/src/linux-headers-$other" 2>/dev/null | cut -d: -f1)
	apt_get remove "$hpkg"
	! built_for "$other" && [ ! -e "/lib/modules/$other/build" ] && [ ! -e "/var/lib/rust-utimer/$other" ] &&
		hide "/usr/src/linux-headers-$other/rust" && hide "/usr/src/linux-source-$series.tar.xz"
fi
gone=$?
apt_get install --no-install-recommends "$hpkg"
rc=$?
mlog=/var/lib/dkms/rust_utimer/${ver%-*}/build/make.log
[ $gone = 0 ] && [ $rc = 0 ] && ! built_for "$other" && [ ! -e "/var/lib/rust-utimer/$other" ] &&
	grep -qs "apt install linux-source-$series" "$mlog" &&
	grep -q "dkms install rust_utimer/${ver%-*} -k $other" "$mlog" &&
	! grep -qE 'CC \[M\]|RUSTC \[M\]|error\[E' "$mlog"
ktap_check $? missing_build_dependency_skips_the_kernel_saying_what_to_install \
	"${hpkg:-no other kernel}: set up $gone, apt exit $rc; make.log: $(tr '\n' ' ' < "$mlog" 2>&1 | head -c 500)"
for h in $hidden; do umount "$h"; done
hidden=
[ -n "$hpkg" ] && timeout 1800 dkms install $dkms_m -k "$other" >> "$log" 2>&1 && built_for "$other"
ktap_check $? dkms_install_builds_the_module_once_it_is_there "${hpkg:-no other kernel}: $(say 12)"

# apt purge: no module (file, DKMS record, nor loaded), rule, unit, tool or build tree left,
# and /usr, /etc and /var/lib hold what they held before the install.
rmmod rust_utimer 2>/dev/null
apt_get purge $pkgs
rc=$?
left=$(
	dkms status 2>/dev/null | grep rust_utimer
	modinfo rust_utimer 2>/dev/null | head -1
	[ ! -d /sys/module/rust_utimer ] || echo "loaded"
	find /lib/modules -name 'rust_utimer.ko*'
	ls -d /usr/src/rust_utimer-* /var/lib/dkms/rust_utimer /var/lib/rust-utimer 2>/dev/null
	for f in $files; do [ ! -e "$f" ] && [ ! -L "$f" ] || echo "$f"; done
)
[ $rc = 0 ] && [ -z "$left" ]
ktap_check $? apt_purge_leaves_no_module_rule_tool_or_tree "apt exit $rc; left: $(echo "$left" | tr '\n' ' ')"
listing > "$over/purged"
names "$over/before" > "$over/before.names"
names "$over/purged" > "$over/purged.names"
diff=$(LC_ALL=C diff "$over/before.names" "$over/purged.names" | grep '^[<>]')
[ -z "$diff" ]
ktap_check $? apt_purge_leaves_usr_etc_var_lib_as_they_were "$(echo "$diff" | head -20 | tr '\n' ' ')"
cleanup
ktap_finished
