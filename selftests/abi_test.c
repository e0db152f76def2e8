// SPDX-License-Identifier: GPL-2.0
/*
 * Our uapi header against upstream's: built with -I on linux-source-7.3's include/uapi, so
 * <sound/asound.h> below is the kernel's own.  A mismatch fails the build; the TAP lines show
 * the values that were compared.
 */
#include <stddef.h>
#include <stdio.h>
#include <sound/asound.h>

#include "../uapi/rust_utimer.h"

#define SAME_OFFSET(f) (offsetof(struct utimer_uinfo, f) == offsetof(struct snd_timer_uinfo, f))

_Static_assert(sizeof(struct utimer_uinfo) == sizeof(struct snd_timer_uinfo), "size");
_Static_assert(sizeof(struct snd_timer_uinfo) == 32, "upstream size");
_Static_assert(SAME_OFFSET(resolution) && SAME_OFFSET(fd) && SAME_OFFSET(id) &&
	       SAME_OFFSET(reserved), "offsets");
_Static_assert(UTIMER_IOCTL_CREATE == SNDRV_TIMER_IOCTL_CREATE, "CREATE");
_Static_assert(UTIMER_IOCTL_TRIGGER == SNDRV_TIMER_IOCTL_TRIGGER, "TRIGGER");
_Static_assert(SNDRV_TIMER_IOCTL_CREATE == 0xC02054A5, "CREATE number");
_Static_assert(SNDRV_TIMER_IOCTL_TRIGGER == 0x54A6, "TRIGGER number");
_Static_assert(UTIMER_GLOBAL_DEVICE == SNDRV_TIMER_GLOBAL_UDRIVEN, "device");

int main(void)
{
	int n = 0;

	printf("TAP version 13\n1..3\n");
	printf("ok %d abi_uinfo_layout_matches_upstream # size %zu, offsets %zu/%zu/%zu/%zu\n", ++n,
	       sizeof(struct snd_timer_uinfo), offsetof(struct snd_timer_uinfo, resolution),
	       offsetof(struct snd_timer_uinfo, fd), offsetof(struct snd_timer_uinfo, id),
	       offsetof(struct snd_timer_uinfo, reserved));
	printf("ok %d abi_ioctl_numbers_match_upstream # CREATE %#lx TRIGGER %#lx\n", ++n,
	       (unsigned long)SNDRV_TIMER_IOCTL_CREATE, (unsigned long)SNDRV_TIMER_IOCTL_TRIGGER);
	printf("ok %d abi_udriven_device_matches_upstream # %d\n", ++n, SNDRV_TIMER_GLOBAL_UDRIVEN);
	return 0;
}
