#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The utimer PCM on a kernel's own utimers (CONFIG_SND_UTIMER, as Ubuntu's and CachyOS's), in the
# debug kernel's guest (selftests/run.sh, word upstream_), rust_utimer not loaded: the plugin's
# device "auto" finds no /dev/utimer and creates its timer through /dev/snd/timer's
# SNDRV_TIMER_IOCTL_CREATE: aplay streams through it bit-exact while arecord captures, the timer
# gone with the writer; with timer 0 held (utimer run -D /dev/snd/timer), the kernel's CREATE
# gives id 1, and the open (device "/dev/snd/timer") fails saying so and what to set; device
# "/dev/utimer" alone says that rust_utimer is not loaded.
#   selftests/plugin_upstream_test.sh | --plan
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/ktap.sh"
ktap_plan_or_exit 4 "${1:-}"
[ ! -e /dev/utimer ] || ktap_exit_fail_msg "rust_utimer is loaded: this test is for a kernel's own utimers"
. "$here/plugin_lib.sh"
# Upstream's utimers are global timers of device 4 (G4 in /proc/asound/timers, without their id).
listing=/proc/asound/timers
timer_listed() { grep -q '^G4: ' "$listing"; }
no_timer() { ! grep -q '^G4: ' "$listing"; }
timers_count() { grep -c '^G4: ' "$listing"; }
cat > "$tmp/.asoundrc" <<EOT
pcm_type.utimer { lib "$b/libasound_module_pcm_utimer.so" }
pcm.auto { type utimer; timer 0 }
pcm.upstream { type utimer; timer 0; device "/dev/snd/timer" }
pcm.ours { type utimer; timer 0; device "/dev/utimer" }
EOT
modprobe snd-timer
rmmod snd-aloop 2>/dev/null
modprobe snd-aloop timer_source=-1.4.0 || ktap_exit_fail_msg "modprobe snd-aloop failed"

stream upstream_auto cat aplay -D auto $fmt "$tmp/fifo"

while_held upstream -D /dev/snd/timer -r $rate -p $period
[ $rc != 0 ] && [ $rc != 124 ] && has "$tmp/out" 'gave timer 1, the lowest free id, not timer 0' &&
	has "$tmp/out" 'set "timer 1"' && [ "$held" = 1 ]
ktap_check $? plugin_upstream_says_which_id_the_kernel_gave \
	"exit $rc; says: $(head -c 400 "$tmp/out"); timers meanwhile: $held"

fails plugin_upstream_device_dev_utimer_says_rust_utimer_is_not_loaded "rust_utimer is not loaded" \
	aplay -D ours $fmt -d 1 /dev/zero
rmmod snd-aloop
rm -rf "$tmp"
ktap_finished
