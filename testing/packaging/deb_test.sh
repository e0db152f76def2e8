#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The Debian packages (`make deb`, build/deb/) as a user installs them, in a guest of Debian's
# stock kernel of its own (testing/check, where kernels.tsv names "+deb"; testing/deb --guest),
# for what needs the module loaded (the rest, natively: testing/packaging/deb_machine_test.sh):
# apt installs the three packages with their real dependencies, which the guest's root (the
# toolchain root) has; DKMS makes the kernel's build tree in /var/lib/rust-utimer (the root's
# headers have the Rust metadata, which dkms/prepare-objtree links: building it under TCG would
# take most of an hour) and builds the module; nothing is written under /usr that dpkg does not
# know of, apart from DKMS's module and depmod's indexes; the module loads, /dev/utimer is
# root:audio 0660 and tagged uaccess, the autopkgtest (debian/tests/utimer-aloop) passes,
# rust-utimer.service's commands load the module; with the module loaded, the upgrade to the
# next version (build/deb/next/) and the downgrade back: DKMS builds each, apt exits 0, the
# module loaded stays, and the new one loads after rmmod and modprobe; `apt purge` leaves /usr,
# /etc and /var/lib as they were.  The rt kernel's headers are purged first: one kernel, one
# build per version.  The guest's root is read-only: /etc, /usr and /var get a tmpfs overlay for
# the test, removed at the end.  What the root's own DKMS build (testing/build) registered is
# taken out first, so that the packages meet a machine that never had the module.
#   testing/packaging/deb_test.sh [--plan]
# KTAP; rust_utimer must not be loaded when it starts.  Builds the module three times in the
# guest: about 2.5 min each under TCG, the whole test about 12 min.
set -u
UTIMER_SELFTESTS=$(cd "$(dirname "$0")/../../selftests" && pwd)
. "$UTIMER_SELFTESTS/ktap.sh"
ktap_plan_or_exit 11 "${1:-}"
kver=$(uname -r)
debs=/src/build/deb
pkgs="rust-utimer-dkms rust-utimer-tools libasound2-plugin-utimer"
ver=$(dpkg-deb -f "$(ls "$debs"/rust-utimer-dkms_*_all.deb | head -1)" Version 2>/dev/null)
nver=$(dpkg-deb -f "$(ls "$debs"/next/rust-utimer-dkms_*_all.deb | head -1)" Version 2>/dev/null)
up=${ver%-*}
nup=${nver%-*}
multiarch=$(cc -print-multiarch)
arch=$(dpkg --print-architecture)
over=$(mktemp -d)
log=$over/log
mount -t tmpfs tmpfs "$over"
mounted=
# (Each directory also bound to $over/lower/DIR: what it held before the test, for `changes`.)
for d in /etc /usr /var; do
	mkdir -p "$over$d/up" "$over$d/work" "$over/lower$d"
	mount --bind "$d" "$over/lower$d" && mounted="$over/lower$d $mounted"
	mount -t overlay overlay -o "lowerdir=$over/lower$d,upperdir=$over$d/up,workdir=$over$d/work" "$d" &&
		mounted="$d $mounted"
done
# run.sh applies the rule from /run/udev/rules.d: out of the way, so only the packaged one acts.
run_rule=/run/udev/rules.d/60-rust-utimer.rules
[ ! -f "$run_rule" ] || mv "$run_rule" "$over/run-rule"
udevadm control --reload 2>/dev/null
cleanup() {
	rmmod snd-aloop rust_utimer 2>/dev/null
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
# built_for V: DKMS built and installed version V of the module for the running kernel.
built_for() {
	dkms status -m rust_utimer -v "$1" -k "$kver" 2>/dev/null | grep -q ': installed' &&
		ls /lib/modules/"$kver"/updates/dkms/rust_utimer.ko* > /dev/null 2>&1
}
debs_of() { echo "$1"/rust-utimer-dkms_*_all.deb "$1"/rust-utimer-tools_*_"$arch".deb \
	"$1"/libasound2-plugin-utimer_*_"$arch".deb; }

# A machine without the module: the root's own DKMS registration and trees gone, and one kernel
# with headers for DKMS (the rt kernel's build link taken away: each DKMS build takes minutes
# here; purging its headers would write thousands of paths into the overlay, which the checks
# below read one by one).  (The project's
# debug and bench kernels, whose modules are in the root, have no build link: testing/debug-kernel
# removes it, so DKMS sees Debian's kernels only.)
for d in /var/lib/dkms/rust_utimer/[0-9]*; do
	[ ! -d "$d" ] || dkms remove "rust_utimer/${d##*/}" --all > /dev/null 2>&1
done
rm -rf /var/lib/dkms/rust_utimer /usr/src/rust_utimer-* /var/lib/rust-utimer
for b in /lib/modules/*/build; do
	k=${b%/build}
	k=${k##*/}
	[ "$k" = "$kver" ] || ! grep -qs '^CONFIG_X86_64=y' "$b/.config" || rm "$b"
done
ktap_print_msg "kernels with headers here: $(ls -d /lib/modules/*/build 2>/dev/null | tr '\n' ' ')"
# Each of DKMS's installs and removals runs depmod over the kernel's modules.
slim_modules "$over" "$kver" snd-timer snd-aloop ||
	ktap_print_msg "$kver's module tree could not be slimmed: depmod reads all of it"

# What the test writes into /usr, /etc and /var/lib is in the overlays' upper directories (a
# listing of the whole trees through 9p would take minutes here).  written: the files and links
# there (not dpkg's and apt's own records), with size and time of change; state P: P's type in
# the tree now (f, d, l or - for none); was P: its type before the test.
written() {
	for d in /etc /usr /var; do
		(cd "$over$d/up" && find . -mindepth 1 \( -type f -o -type l \) -printf "%y %s %T@ $d/%P\n")
	done | grep -E ' /(usr|etc|var/lib)/' | grep -vE ' /var/lib/(dpkg|apt)/' | LC_ALL=C sort
}
touched() {
	for d in /etc /usr /var; do
		(cd "$over$d/up" && find . -mindepth 1 -printf "$d/%P\n")
	done | grep -E '^/(usr|etc|var/lib)/' | grep -vE '^/var/lib/(dpkg|apt)(/|$)' | LC_ALL=C sort -u
}
state() {
	if [ -L "$1" ]; then echo l; elif [ -d "$1" ]; then echo d; elif [ -e "$1" ]; then echo f; else echo -; fi
}
# before: each path the setup touched, with its state then; the others were as in the root.
touched | while read -r p; do echo "$p $(state "$p")"; done > "$over/before"
written > "$over/written-before"

# (--no-install-recommends: the guest is offline, and linux-source, which rust-utimer-dkms
# recommends, would be fetched; its linux-source-7.3 is installed.)
apt_get install --no-install-recommends $(debs_of "$debs")
ktap_check $? apt_installs_the_three_packages "$(say)"
ktap_print_msg "DKMS for $kver, PRE_BUILD and make:" \
	$(grep -hs '^# elapsed' /var/lib/dkms/rust_utimer/*/"$kver"/*/log/make.log | cut -d' ' -f4)

# Under /usr, what is new or changed and is not a directory must be dpkg's (its packages' lists),
# or DKMS's module and depmod's indexes in /usr/lib/modules.
written > "$over/written-installed"
cat /var/lib/dpkg/info/*.list | sed 's|^/lib/|/usr/lib/|; s|^/sbin/|/usr/sbin/|; s|^/bin/|/usr/bin/|' |
	LC_ALL=C sort -u > "$over/owned"
LC_ALL=C comm -13 "$over/written-before" "$over/written-installed" | awk '$4 ~ /^\/usr\// { print $4 }' |
	grep -vE '^/usr/lib/modules/[^/]+/(updates/dkms/|modules\.)' | LC_ALL=C sort -u > "$over/new-usr"
stray=$(LC_ALL=C comm -23 "$over/new-usr" "$over/owned")
[ -z "$stray" ] && [ -s "$over/new-usr" ] && [ -f "/var/lib/rust-utimer/$kver/.rust-utimer-stamp" ]
ktap_check $? nothing_under_usr_written_that_dpkg_does_not_own \
	"$(wc -l < "$over/new-usr") new under /usr; not dpkg's: $(echo $stray | head -c 600); /var/lib/rust-utimer: $(ls /var/lib/rust-utimer 2>&1 | tr '\n' ' ')"

built_for "$up"
ktap_check $? dkms_built_the_module_for_the_running_kernel "$(dkms status 2>&1 | tr '\n' ' ')"

# What the packages put where Debian's tools look.
files="/usr/lib/udev/rules.d/60-rust-utimer.rules /usr/lib/systemd/system/rust-utimer.service
	/etc/kernel/postrm.d/rust-utimer-dkms
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

# switch_to DIR V NEXT NAME: with the module loaded (and /dev/utimer open), apt installs the
# packages of DIR, version V: DKMS builds it, the module in use stays, and the file that loads
# after rmmod and modprobe is the new one (NEXT: yes if its description says "the next version").
switch_to() {
	sleep 600 < /dev/utimer &
	_holder=$!
	apt_get install --no-install-recommends --allow-downgrades $(debs_of "$1")
	_rc=$?
	_loaded=no
	[ ! -d /sys/module/rust_utimer ] || _loaded=yes
	kill "$_holder"
	wait "$_holder" 2>/dev/null
	rmmod rust_utimer && modprobe rust_utimer
	_re=$?
	_next=no
	modinfo -F description rust_utimer 2>/dev/null | grep -q 'the next version' && _next=yes
	[ $_rc = 0 ] && [ $_loaded = yes ] && [ $_re = 0 ] && built_for "$2" && [ -c /dev/utimer ] &&
		[ $_next = "$3" ] && [ -z "$(dkms status -m rust_utimer 2>/dev/null | grep -v "rust_utimer/$2,")" ]
	ktap_check $? "$4" "apt exit $_rc, module kept loaded: $_loaded, rmmod+modprobe: $_re, next: $_next; $(dkms status 2>&1 | tr '\n' ' '); $(say 4)"
}
switch_to "$debs/next" "$nup" yes upgrade_with_the_module_loaded_builds_and_loads_the_next_version
switch_to "$debs" "$up" no downgrade_with_the_module_loaded_builds_and_loads_the_version_back

# apt purge: no module (file, DKMS record), rule, unit, tool or build tree left, and /usr, /etc
# and /var/lib hold what they held before the install.
rmmod rust_utimer 2>/dev/null
apt_get purge $pkgs
rc=$?
left=$(
	dkms status 2>/dev/null | grep rust_utimer
	modinfo rust_utimer 2>/dev/null | head -1
	find /lib/modules -name 'rust_utimer.ko*'
	ls -d /usr/src/rust_utimer-* /var/lib/dkms/rust_utimer /var/lib/rust-utimer 2>/dev/null
	for f in $files; do [ ! -e "$f" ] && [ ! -L "$f" ] || echo "$f"; done
)
# Every path the test touched is as it was (type and presence): as the setup left it, or as the
# root has it.
{ touched; cut -d' ' -f1 "$over/before"; } | LC_ALL=C sort -u > "$over/paths"
while read -r p; do echo "$p $(state "$over/lower$p") $(state "$p")"; done < "$over/paths" > "$over/states"
diff=$(awk 'NR == FNR { b[$1] = $2; next } { w = ($1 in b) ? b[$1] : $2; if (w != $3) print $1 ": " w " -> " $3 }' \
	"$over/before" "$over/states")
[ $rc = 0 ] && [ -z "$left" ] && [ -z "$diff" ]
ktap_check $? apt_purge_leaves_usr_etc_var_lib_as_they_were \
	"apt exit $rc; left: $(echo "$left" | tr '\n' ' '); changed: $(echo "$diff" | head -20 | tr '\n' ' ')"
cleanup
ktap_finished
