# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of rust_utimer:  make [KDIR=/path/to/kernel/build] [MO=output directory]
# Install (as root): make install [DESTDIR=...] [PREFIX=/usr/local]: the module (updates/,
# depmod), the udev rule, the utimer and utimer-run tools, the utimer PCM.  DKMS: dkms.conf.
# Debian packages: make deb (debian/, Documentation/install.rst).
# Project commands (provision a Debian trixie toolchain root, boot the stock kernel in QEMU):
#   make demo    stream a tone through snd-aloop driven by a utimer, in a VM
#   make check   lint, build, and run every test in a VM per kernel of testing/kernels.tsv (and the
#                debug kernel); KERNELS="sid exp" for some of them
#   make stress  [DURATION=300] the long reliability run on the debug kernel, with its figures
#   make bench   rust_utimer against upstream's C utimers on the bench kernel, ratios and goals
#   make netaudio [DURATION=120] the network audio example (examples/) long, utimer against
#                aloop's own clocks, with its figures
#   make plugin-bench  the utimer PCM through aplay against a program that triggers itself
#   make deb     the Debian packages (rust-utimer-dkms, rust-utimer-tools,
#                libasound2-plugin-utimer) in build/deb/, and lintian on them

# The running kernel's build tree: the one dkms/prepare-objtree made with the Rust metadata
# (Debian's headers lack it), or the headers' own.
KDIR ?= $(firstword $(wildcard /var/lib/rust-utimer/$(shell uname -r)) \
	/lib/modules/$(shell uname -r)/build)
# MO=DIR: the objects and the module in DIR instead of beside the sources.
kbuild = $(MAKE) -C $(KDIR) M=$(CURDIR) $(if $(MO),MO=$(abspath $(MO)))

all: modules

modules clean modules_install:
	$(kbuild) $@

# The module (in /lib/modules/<version>/updates, then depmod: kbuild skips it where the
# headers have no System.map, as Debian's), the udev rule that gives the audio group
# /dev/utimer, the `utimer` and `utimer-run` tools, and the utimer PCM (alsa-lib's plugin directory,
# /usr/share/alsa/alsa.conf.d linked from /etc/alsa/conf.d; it needs libasound2-dev).  DESTDIR stages it all (no depmod, no udev
# reload then).  TOOLS_OUT=DIR builds the tools in DIR instead of beside their sources.
PREFIX ?= /usr/local
UDEVDIR ?= /etc/udev/rules.d
install:
	$(kbuild) INSTALL_MOD_DIR=updates \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR) DEPMOD=true) modules_install
	$(if $(DESTDIR),,depmod -a $(shell cat $(KDIR)/include/config/kernel.release))
	install -D -m 0644 udev/60-rust-utimer.rules $(DESTDIR)$(UDEVDIR)/60-rust-utimer.rules
	$(MAKE) -C tools/utimer install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) \
		$(if $(TOOLS_OUT),OUT=$(TOOLS_OUT))
	$(MAKE) -C tools/alsa-plugin install DESTDIR=$(DESTDIR) $(if $(TOOLS_OUT),OUT=$(TOOLS_OUT))
	$(MAKE) -C tools/preload install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) \
		$(if $(TOOLS_OUT),OUT=$(TOOLS_OUT))
	$(if $(DESTDIR),,-udevadm control --reload && udevadm trigger --sysname-match=utimer)

demo:
	testing/demo

check:
	testing/check $(if $(KERNELS),--kernels "$(KERNELS)")

stress:
	testing/stress $(if $(DURATION),--duration $(DURATION))

bench:
	testing/bench

netaudio:
	testing/netaudio $(if $(DURATION),--duration $(DURATION))

plugin-bench:
	testing/plugin-bench

deb:
	testing/deb

.PHONY: all modules clean modules_install install demo check stress bench netaudio plugin-bench deb
