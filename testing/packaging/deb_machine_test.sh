#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The Debian packages (build/deb/, testing/deb) on a user's machine, where nothing was prepared
# for them: a throwaway machine made of a toolchain root (testing/deb-machine, in_machine:
# natively, in a user namespace that cannot load modules; what needs the module loaded is
# testing/packaging/deb_test.sh's, in a guest).  Debian's headers only: the Rust metadata the
# root's headers were given, and the source trees unpacked in /usr/src, are taken out first.
#   testing/packaging/deb_machine_test.sh trixie|sid [--plan]
# trixie (the stock kernel's root; the rt kernel's headers removed first):
#   - apt install of the three packages: DKMS makes the kernel's tree from linux-source-7.3's
#     tarball in /var/lib/rust-utimer and builds (the time a user waits is printed); nothing new
#     or changed under /usr that dpkg does not own, apart from DKMS's module and depmod's indexes;
#   - trixie's own 6.12 kernel's headers (no CONFIG_RUST) installed beside: skipped, apt exits 0,
#     no tree;
#   - the rt kernel's headers installed again with a rustc other than the one that built it
#     first in PATH (as trixie-backports' newer one would be): skipped, apt exits 0, make.log
#     names the rustc to install; the kernel's headers configured;
#   - upgrade to the next version of the packages (build/deb/next/), then the downgrade back:
#     DKMS builds each for the kernel, apt exits 0, the tree is reused;
#   - apt purge: /usr, /etc and /var/lib list as before the install (dpkg's and apt's own
#     records aside), once the kernels the test installed are purged too.
# sid (sid's root, the kernel series after: experimental's 7.3 headers removed first):
#   - rust-utimer-dkms installed for 7.2.13, whose headers keep the metadata (as headers that
#     ship it do): linked, not built; then experimental's 7.3 headers installed (the next
#     series): DKMS makes its tree from linux-source-7.3 and builds for it, apt exits 0.
# KTAP.
set -u
UTIMER_SELFTESTS=/src/selftests
. "$UTIMER_SELFTESTS/ktap.sh"
mode=${1:-}
case $mode in
trixie) ktap_plan_or_exit 7 "${2:-}" ;;
sid) ktap_plan_or_exit 2 "${2:-}" ;;
*) echo "usage: deb_machine_test.sh trixie|sid [--plan]" >&2; exit 2 ;;
esac
debs=/src/build/deb
ver=$(dpkg-deb -f "$(ls "$debs"/rust-utimer-dkms_*_all.deb | head -1)" Version)
up=${ver%-*}
nver=$(dpkg-deb -f "$(ls "$debs"/next/rust-utimer-dkms_*_all.deb | head -1)" Version 2>/dev/null)
arch=$(dpkg --print-architecture)
log=/tmp/apt.log
export DEBIAN_FRONTEND=noninteractive
echo "man-db man-db/auto-update boolean false" | debconf-set-selections

# apt_get ARGS...: offline unless the packages are not in apt's cache; its time printed.
apt_get() {
	_t0=$(date +%s)
	timeout 1800 apt-get -y -o Acquire::Retries=2 "$@" >> "$log" 2>&1
	_rc=$?
	ktap_print_msg "apt-get $*: exit $_rc, $(($(date +%s) - _t0)) s" | cut -c1-300
	return $_rc
}
say() { tail -"${1:-8}" "$log" | tr '\n' ' ' | tail -c 800; }
# built_for V K: DKMS built and installed rust_utimer V for kernel K.
built_for() {
	dkms status -m rust_utimer -v "$1" -k "$2" 2> /dev/null | grep -q ': installed' &&
		ls /lib/modules/"$2"/updates/dkms/rust_utimer.ko* > /dev/null 2>&1
}
# mlog V K: DKMS's make.log of V's build for K (kept beside the module once built).
mlog() {
	cat "/var/lib/dkms/rust_utimer/$1/$2/$(uname -m)/log/make.log" 2> /dev/null ||
		cat "/var/lib/dkms/rust_utimer/$1/build/make.log" 2> /dev/null
}
# packages: the packages installed; purge_new BEFORE: purge those installed since BEFORE.
packages() { dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' | awk '$1 == "ii" { print $2 }' | LC_ALL=C sort; }
purge_new() {
	packages > /tmp/pkgs-now
	apt_get purge $(LC_ALL=C comm -13 "$1" /tmp/pkgs-now)
}
# listing: every file, link and directory of /usr, /etc and /var/lib (not dpkg's and apt's own
# records, nor the man-db and debconf caches), with size and time of change.
listing() {
	find /usr /etc /var/lib \( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/lib/man-db \
		-o -path /var/lib/debconf \) -prune -o -printf '%y %s %T@ %p\n' | LC_ALL=C sort -k4
}
names() { cut -d' ' -f1,4- "$1"; }
headers_pkg() { dpkg -S "/usr/src/linux-headers-$1" 2> /dev/null | cut -d: -f1; }

# A machine as users have it: no rust_utimer, Debian's headers as their packages ship them.
# (sid: 7.2.13's headers keep the metadata the root gave them, as headers that ship it do,
# Ubuntu's with linux-lib-rust: linked, not built; the next series' is built.)
keep=
[ "$mode" != sid ] || keep=7.2
for d in /var/lib/dkms/rust_utimer/[0-9]*; do
	[ ! -d "$d" ] || dkms remove "rust_utimer/${d##*/}" --all > /dev/null 2>&1
done
rm -rf /var/lib/dkms/rust_utimer /usr/src/rust_utimer-* /var/lib/rust-utimer
for h in /usr/src/linux-headers-*; do
	case ${h##*/linux-headers-} in "$keep".*) continue ;; esac
	[ ! -d "$h/rust" ] || [ -n "$(dpkg -S "$h/rust" 2> /dev/null)" ] || rm -rf "$h/rust"
done
for k in /usr/lib/linux-kbuild-*; do
	case ${k##*/linux-kbuild-} in "$keep".*) continue ;; esac
	rm -f "$k/scripts/target.json"
done
for s in /usr/src/linux-source-*; do
	[ ! -d "$s" ] || rm -rf "$s"
done
ktap_print_msg "rustc $(rustc --version | cut -d' ' -f2), $(nproc) CPUs; kernels: $(ls /lib/modules | tr '\n' ' ')"

if [ "$mode" = sid ]; then
	kver=7.2.13+deb14-amd64
	next=7.3-amd64
	rt=7.2.13+deb14-rt-amd64
	npkgs="$(headers_pkg "$next") $(dpkg -S /usr/src/linux-headers-7.3-common 2> /dev/null | cut -d: -f1)"
	apt_get purge $(headers_pkg "$rt") $npkgs
	apt_get install --no-install-recommends "$debs"/rust-utimer-dkms_*_all.deb
	rc=$?
	[ $rc = 0 ] && built_for "$up" "$kver" && [ -f "/var/lib/rust-utimer/$kver/.rust-utimer-stamp" ] &&
		mlog "$up" "$kver" | grep -q 'has the Rust metadata: linking it'
	ktap_check $? apt_installs_and_builds_for_sids_kernel_linking_its_metadata "apt exit $rc; $(dkms status 2>&1 | tr '\n' ' '); $(mlog "$up" "$kver" | grep '^\[rust-utimer\]' | tr '\n' ' ')"
	# The next series, as apt brings it (from apt's cache: the root had it).
	apt_get install --no-install-recommends $npkgs
	rc=$?
	[ $rc = 0 ] && built_for "$up" "$next" && [ -f "/var/lib/rust-utimer/$next/.rust-utimer-stamp" ] &&
		built_for "$up" "$kver"
	ktap_check $? next_series_headers_get_the_module_with_nothing_else_changed \
		"apt exit $rc; $(dkms status 2>&1 | tr '\n' ' '); $(mlog "$up" "$next" | grep '^\[rust-utimer\]' | tr '\n' ' ')"
	ktap_finished
fi

kver=7.3.4+deb13-amd64
rt=7.3.4+deb13-rt-amd64
rtpkg=$(headers_pkg "$rt")
apt_get purge "$rtpkg"
listing > /tmp/before

# The first install, as a user runs it.
t0=$(date +%s)
apt_get install --no-install-recommends "$debs"/rust-utimer-dkms_*_all.deb \
	"$debs"/rust-utimer-tools_*_"$arch".deb "$debs"/libasound2-plugin-utimer_*_"$arch".deb
rc=$?
took=$(($(date +%s) - t0))
steps=$(mlog "$up" "$kver" | grep '^\[rust-utimer\]' | tr '\n' ' ')
ktap_print_msg "first install: $took s; DKMS's make.log: $steps"
[ $rc = 0 ] && built_for "$up" "$kver" && [ -f "/var/lib/rust-utimer/$kver/.rust-utimer-stamp" ] &&
	echo "$steps" | grep -q 'unpacking /usr/src/linux-source-7.3.tar.xz' &&
	echo "$steps" | grep -q 'make prepare' && [ -z "$(ls -d /var/lib/rust-utimer/*.src /var/lib/rust-utimer/*.tmp 2> /dev/null)" ]
ktap_check $? first_install_makes_the_tree_from_the_source_and_builds "apt exit $rc in $took s: $(say)"

listing > /tmp/installed
cat /var/lib/dpkg/info/*.list | sed 's|^/lib/|/usr/lib/|; s|^/sbin/|/usr/sbin/|; s|^/bin/|/usr/bin/|' |
	LC_ALL=C sort -u > /tmp/owned
LC_ALL=C sort /tmp/before > /tmp/before.sorted
LC_ALL=C sort /tmp/installed > /tmp/installed.sorted
LC_ALL=C comm -13 /tmp/before.sorted /tmp/installed.sorted | awk '$1 != "d" && $4 ~ /^\/usr\// { print $4 }' |
	grep -vE '^/usr/lib/modules/[^/]+/(updates/dkms/|modules\.)' | LC_ALL=C sort -u > /tmp/new-usr
stray=$(LC_ALL=C comm -23 /tmp/new-usr /tmp/owned)
[ -z "$stray" ] && [ -s /tmp/new-usr ]
ktap_check $? first_install_writes_nothing_under_usr_that_dpkg_does_not_own \
	"$(wc -l < /tmp/new-usr) new under /usr; not dpkg's: $(echo $stray | head -c 600); tree: $(du -sh "/var/lib/rust-utimer/$kver" 2>&1)"

# Trixie's own kernel's headers beside (their postinst runs DKMS's autoinstall, as the image's
# does): no CONFIG_RUST.
old=$(apt-cache depends 'linux-headers-amd64/trixie' 2> /dev/null | sed -n 's/.*Depends: linux-headers-\(6[^ ]*\)$/\1/p' | head -1)
packages > /tmp/pkgs-before-old
apt_get install --no-install-recommends "linux-headers-$old"
rc=$?
[ -n "$old" ] && [ $rc = 0 ] && [ -e "/lib/modules/$old/build/.config" ] && ! built_for "$up" "$old" &&
	[ -z "$(ls -d /var/lib/rust-utimer/"$old"* 2> /dev/null)" ] && built_for "$up" "$kver"
ktap_check $? kernel_without_rust_is_skipped "${old:-no 6.12 kernel found}: apt exit $rc; $(dkms status 2>&1 | tr '\n' ' '); $(say 4)"
# Those packages and what they brought (the headers' common files and kbuild) go again.
purge_new /tmp/pkgs-before-old

# A rustc other than the kernel's, as `apt install -t trixie-backports rustc` would make it:
# /usr/bin/rustc diverted to one that says it is 1.99.0 (and runs the real one otherwise); the
# kernel whose headers then come is skipped, saying which rustc to install.
real=$(rustc --version | cut -d' ' -f2)
dpkg-divert --local --rename --divert /usr/bin/rustc.real --add /usr/bin/rustc > /dev/null
cat > /usr/bin/rustc << EOF
#!/bin/sh
[ "\$1" = --version ] && { echo "rustc 1.99.0 (test)"; exit 0; }
exec /usr/bin/rustc.real "\$@"
EOF
chmod +x /usr/bin/rustc
apt_get install --no-install-recommends "$rtpkg"
rc=$?
m=$(mlog "$up" "$rt")
rm -f /usr/bin/rustc
dpkg-divert --local --rename --divert /usr/bin/rustc.real --remove /usr/bin/rustc > /dev/null
[ $rc = 0 ] && ! built_for "$up" "$rt" && [ "$(dpkg-query -W -f '${Status}' "$rtpkg")" = "install ok installed" ] &&
	echo "$m" | grep -q "apt install rustc=$real" && echo "$m" | grep -q "dkms install rust_utimer/$up -k $rt" &&
	[ ! -e "/var/lib/rust-utimer/$rt" ]
ktap_check $? rustc_mismatch_skips_the_kernel_naming_the_rustc "apt exit $rc; make.log: $(echo "$m" | tail -4 | tr '\n' ' ')"
apt_get purge "$rtpkg"

# Upgrade to the next version, and back.
apt_get install --no-install-recommends "$debs"/next/rust-utimer-dkms_*_all.deb \
	"$debs"/next/rust-utimer-tools_*_"$arch".deb "$debs"/next/libasound2-plugin-utimer_*_"$arch".deb
rc=$?
[ -n "$nver" ] && [ $rc = 0 ] && built_for "${nver%-*}" "$kver" && ! dkms status -m rust_utimer -v "$up" 2> /dev/null | grep -q . &&
	! mlog "${nver%-*}" "$kver" | grep -q 'unpacking'
ktap_check $? upgrade_builds_the_next_version_with_the_tree_kept "$ver -> ${nver:-none}: apt exit $rc; $(dkms status 2>&1 | tr '\n' ' ')"
apt_get install --no-install-recommends --allow-downgrades "$debs"/rust-utimer-dkms_*_all.deb \
	"$debs"/rust-utimer-tools_*_"$arch".deb "$debs"/libasound2-plugin-utimer_*_"$arch".deb
rc=$?
[ $rc = 0 ] && built_for "$up" "$kver" && ! dkms status -m rust_utimer -v "${nver%-*}" 2> /dev/null | grep -q .
ktap_check $? downgrade_builds_the_version_back "${nver:-none} -> $ver: apt exit $rc; $(dkms status 2>&1 | tr '\n' ' ')"

apt_get purge rust-utimer-dkms rust-utimer-tools libasound2-plugin-utimer
rc=$?
listing > /tmp/purged
names /tmp/before > /tmp/before.names
names /tmp/purged > /tmp/purged.names
diff=$(LC_ALL=C diff /tmp/before.names /tmp/purged.names | grep '^[<>]')
[ $rc = 0 ] && [ -z "$diff" ] && [ ! -e /var/lib/rust-utimer ]
ktap_check $? purge_leaves_usr_etc_var_lib_as_they_were "apt exit $rc; $(echo "$diff" | head -20 | tr '\n' ' ')"
ktap_finished
