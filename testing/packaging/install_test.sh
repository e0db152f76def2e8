#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# `make install` as a user runs it, in the guest on Debian's stock kernel (selftests/run.sh):
# the module lands where modprobe finds it, the udev rule gives the audio group /dev/utimer,
# `utimer` is on the PATH, alsa-lib finds the utimer PCM.  Then the module DKMS built loads.
# The guest's root is read-only: /etc, /lib/modules, /etc/udev/rules.d, /usr/local and
# alsa-lib's plugin directory get a tmpfs overlay for the test, removed at the end.
#   testing/packaging/install_test.sh [--plan]
# KTAP; rust_utimer must not be loaded when it starts.
set -u
UTIMER_SELFTESTS=$(cd "$(dirname "$0")/../../selftests" && pwd)
. "$UTIMER_SELFTESTS/ktap.sh"
ktap_plan_or_exit 7 "${1:-}"
kver=$(uname -r)
over=$(mktemp -d)
# On a tmpfs of its own: virtme-ng's shell init (another architecture's guest) makes /tmp an
# overlay, which cannot hold an overlay's upper directory.
mount -t tmpfs tmpfs "$over"
mounted=$over
# /etc (the udev rule's directory with it), alsa-lib's plugin directory.
multiarch=$(cc -print-multiarch)
for d in /etc /lib/modules /usr/local "/usr/lib/$multiarch"; do
	mkdir -p "$over$d/up" "$over$d/work"
	mount -t overlay overlay -o "lowerdir=$d,upperdir=$over$d/up,workdir=$over$d/work" "$d" &&
		mounted="$d $mounted"
done
# make install's depmod reads the tree: the modules this test loads are enough.
slim_modules "$over" "$kver" snd-timer snd-aloop ||
	ktap_print_msg "the module tree could not be slimmed: depmod reads all of it"
# run.sh applies the rule from /run/udev/rules.d: out of the way, so only the installed one acts.
run_rule=/run/udev/rules.d/60-rust-utimer.rules
if [ -f "$run_rule" ]; then
	mv "$run_rule" "$over/run-rule"
	udevadm control --reload
fi
cleanup() {
	modprobe -r rust_utimer 2>/dev/null
	# Lazily: udevd, told to reload, keeps files of /lib/modules open.
	for d in $mounted; do [ "$d" = "$over" ] || umount -l "$d"; done
	if [ -f "$over/run-rule" ]; then
		mv "$over/run-rule" "$run_rule"
		udevadm control --reload
	fi
	umount -l "$over"
	rm -rf "$over"
}

# UTIMER_MO (run.sh): the module's build directory, where it is not the repo itself.  The tools
# are built here, by this machine's compiler, outside the repo: other guests (other
# architectures among them) share it.
mkdir -p "$over/tools"
make -C /src install KDIR="/usr/src/linux-headers-$kver" ${UTIMER_MO:+MO="$UTIMER_MO"} \
	TOOLS_OUT="$over/tools" > "$over/log" 2>&1
rc=$?
ktap_check $rc make_install_succeeds "$(tail -5 "$over/log" | tr '\n' ' ')"
ls /lib/modules/"$kver"/updates/rust_utimer.ko* > /dev/null 2>&1
ktap_check $? make_install_puts_the_module_in_updates "$(ls /lib/modules/"$kver"/updates 2>&1)"
grep -q 'updates/rust_utimer.ko' "/lib/modules/$kver/modules.dep"
ktap_check $? make_install_runs_depmod
# The utimer PCM: alsa-lib finds the installed definition and plugin (with no ~/.asoundrc);
# the plugin itself says that rust_utimer is not loaded yet.
out=$(aplay -D utimer -t raw -f S16_LE -c 2 -r 48000 -d 1 /dev/zero 2>&1)
rc=$?
[ -f "/usr/lib/$multiarch/alsa-lib/libasound_module_pcm_utimer.so" ] &&
	[ -f /etc/alsa/conf.d/60-utimer.conf ] && [ $rc != 0 ] &&
	echo "$out" | grep -q 'rust_utimer is not loaded'
ktap_check $? installed_utimer_pcm_is_found_by_alsa_lib "exit $rc: $out"
modprobe rust_utimer && [ -c /dev/utimer ]
ktap_check $? modprobe_finds_the_installed_module
if udevadm control --ping 2>/dev/null; then
	wait_udev_rule /dev/utimer
	perm=$(stat -c '%G %a' /dev/utimer 2>/dev/null)
	[ "$perm" = "audio 660" ]
	ktap_check $? installed_udev_rule_gives_the_audio_group_the_device "/dev/utimer is $perm"
else
	ktap_print_msg "no udevd in this guest"
	ktap_test_skip installed_udev_rule_gives_the_audio_group_the_device
fi
out=$(PATH=/usr/local/bin:$PATH utimer run -r 48000 -p 480 < /dev/null 2>&1)
echo "$out" | grep -q '^id=0 resolution=10000000 source=-1.4.0$'
ktap_check $? installed_utimer_tool_creates_a_timer "$out"
cleanup

ktap_finished
