#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# In the guest (`make plugin-bench`): the utimer PCM against a program that fires its TRIGGERs
# itself (selftests/bench/plugin_bench.c), in one boot.  Not a test: it prints figures and ratios.
#   selftests/alsa_plugin_bench.sh MODULE.ko [plugin_bench's options]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ko=$1
shift
export HOME=$(mktemp -d)
cat > "$HOME/.asoundrc" <<ASOUNDRC
pcm_type.utimer { lib "$here/build/libasound_module_pcm_utimer.so" }
pcm.netaudio { type utimer; slave.pcm "hw:Loopback,0,0"; timer 0 }
<$here/../tools/alsa-plugin/60-utimer.conf>
ASOUNDRC
modprobe snd-timer
insmod "$ko"
modprobe snd-aloop timer_source=-1.4.0
echo "# guest: $(uname -r), $(nproc) CPUs"
"$here/build/plugin_bench" "$@"
rmmod snd-aloop
rmmod rust_utimer
rm -rf "$HOME"
