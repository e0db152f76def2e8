// SPDX-License-Identifier: GPL-2.0
/*
 * Our uapi header against upstream's: built with -I on linux-source-7.3's include/uapi
 * (UAPI_DIR), so <sound/asound.h> below is the kernel's own.  Checked twice: at compile time
 * (a mismatch fails the build), and at run time in this program, x86_64 or i386 (abi_test32),
 * where each TAP line says what it compared and the values it saw.
 *   abi_test [--plan]
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sound/asound.h>

#include "utimer_helpers.h"

#ifndef UAPI_DIR
#define UAPI_DIR "the default include path"
#endif

#if defined(__x86_64__)
#define ARCH "x86_64"
#elif defined(__i386__)
#define ARCH "i386"
#else
#define ARCH "this architecture's"
#endif

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
/* Ours: the numbers the module is built with (defs.rs asserts the same). */
_Static_assert(sizeof(struct utimer_create) == 32, "CREATE_EXT size");
_Static_assert(UTIMER_IOCTL_CREATE_EXT == 0xC02075A5, "CREATE_EXT number");

#define COMPILE_TIME "and at compile time against <sound/asound.h> from " UAPI_DIR

/* Where a member is in an object of this program: its address less the object's. */
#define AT(obj, f) ((size_t)((const char *)&(obj).f - (const char *)&(obj)))

/*
 * Sizes and offsets, measured on objects, and a round trip: fields written through our struct
 * are read back through upstream's, byte for byte.
 */
static void uinfo_layout(void)
{
	struct utimer_uinfo ours = { .resolution = 0x0123456789abcdefULL, .fd = -2, .id = 0xa5a5 };
	struct snd_timer_uinfo theirs;
	int same;

	for (size_t i = 0; i < sizeof(ours.reserved); i++)
		ours.reserved[i] = (unsigned char)(0x80 + i);
	memset(&theirs, 0, sizeof(theirs));
	memcpy(&theirs, &ours, sizeof(theirs) < sizeof(ours) ? sizeof(theirs) : sizeof(ours));
	same = sizeof(ours) == sizeof(theirs) && sizeof(theirs) == 32 &&
	       AT(ours, resolution) == AT(theirs, resolution) && AT(ours, fd) == AT(theirs, fd) &&
	       AT(ours, id) == AT(theirs, id) && AT(ours, reserved) == AT(theirs, reserved) &&
	       theirs.resolution == ours.resolution && theirs.fd == ours.fd &&
	       theirs.id == ours.id && !memcmp(theirs.reserved, ours.reserved, sizeof(ours.reserved));
	if (!same)
		diag("ours: size %zu, offsets %zu/%zu/%zu/%zu; upstream's: size %zu, offsets "
		     "%zu/%zu/%zu/%zu; round trip %llx %d %u", sizeof(ours), AT(ours, resolution),
		     AT(ours, fd), AT(ours, id), AT(ours, reserved), sizeof(theirs),
		     AT(theirs, resolution), AT(theirs, fd), AT(theirs, id), AT(theirs, reserved),
		     (unsigned long long)theirs.resolution, theirs.fd, theirs.id);
	ksft_test_result(same, "abi_uinfo_layout_matches_upstream # " ARCH " program: size %zu, "
			 "offsets %zu/%zu/%zu/%zu, fields read back through upstream's struct ("
			 COMPILE_TIME ")\n", sizeof(theirs), AT(theirs, resolution),
			 AT(theirs, fd), AT(theirs, id), AT(theirs, reserved));
}

/*
 * The numbers, and what they encode: CREATE is _IOWR('T', 0xa5) of the 32-byte struct on
 * i386 too (so no compat translation is needed), TRIGGER _IO('T', 0xa6).
 */
static void ioctl_numbers(void)
{
	unsigned long create = UTIMER_IOCTL_CREATE, trigger = UTIMER_IOCTL_TRIGGER;
	int same = create == (unsigned long)SNDRV_TIMER_IOCTL_CREATE &&
		   trigger == (unsigned long)SNDRV_TIMER_IOCTL_TRIGGER &&
		   create == 0xC02054A5UL && trigger == 0x54A6UL &&
		   _IOC_DIR(create) == (_IOC_READ | _IOC_WRITE) && _IOC_TYPE(create) == 'T' &&
		   _IOC_NR(create) == 0xa5 && _IOC_SIZE(create) == sizeof(struct snd_timer_uinfo) &&
		   _IOC_DIR(trigger) == _IOC_NONE && _IOC_NR(trigger) == 0xa6;

	if (!same)
		diag("ours: CREATE %#lx TRIGGER %#lx; upstream's: CREATE %#lx TRIGGER %#lx", create,
		     trigger, (unsigned long)SNDRV_TIMER_IOCTL_CREATE,
		     (unsigned long)SNDRV_TIMER_IOCTL_TRIGGER);
	ksft_test_result(same, "abi_ioctl_numbers_match_upstream # " ARCH " program: CREATE %#lx "
			 "(_IOWR 'T' %#x, %u bytes) TRIGGER %#lx (_IO 'T' %#x) (" COMPILE_TIME
			 ")\n", create, (unsigned int)_IOC_NR(create),
			 (unsigned int)_IOC_SIZE(create), trigger, (unsigned int)_IOC_NR(trigger));
}

static void udriven_device(void)
{
	int ours = UTIMER_GLOBAL_DEVICE, theirs = SNDRV_TIMER_GLOBAL_UDRIVEN;

	ksft_test_result(ours == theirs && ours == 4, "abi_udriven_device_matches_upstream # "
			 ARCH " program: ours %d, SNDRV_TIMER_GLOBAL_UDRIVEN %d (" COMPILE_TIME
			 ")\n", ours, theirs);
}

/*
 * Our own CREATE_EXT: the same 32 bytes at the same offsets for 32- and 64-bit programs (the
 * module has one compat_ioctl for both), and its number.
 */
static void create_ext_abi(void)
{
	struct utimer_create c;
	unsigned long nr = UTIMER_IOCTL_CREATE_EXT;
	int same = sizeof(c) == 32 && AT(c, resolution) == 0 && AT(c, flags) == 8 &&
		   AT(c, id) == 12 && AT(c, fd) == 16 && AT(c, holdover) == 20 &&
		   AT(c, reserved) == 24 &&
		   nr == 0xC02075A5UL && _IOC_TYPE(nr) == 'u' && _IOC_NR(nr) == 0xa5 &&
		   _IOC_DIR(nr) == (_IOC_READ | _IOC_WRITE) && _IOC_SIZE(nr) == sizeof(c) &&
		   UTIMER_CREATE_ID == 1 && UTIMER_CREATE_PERSIST == 2 &&
		   UTIMER_CREATE_HOLDOVER == 4 && UTIMER_MAX_HOLDOVER == 1000;

	ksft_test_result(same, "abi_create_ext_layout_and_number # " ARCH " program: size %zu, "
			 "offsets %zu/%zu/%zu/%zu/%zu/%zu, CREATE_EXT %#lx (the module: 32, "
			 "0/8/12/16/20/24, 0xc02075a5)\n", sizeof(c), AT(c, resolution),
			 AT(c, flags), AT(c, id), AT(c, fd), AT(c, holdover), AT(c, reserved), nr);
}

/* The persistent timers' ioctls: ATTACH, REMOVE, TAKE; the same for 32- and 64-bit programs. */
static void persistent_abi(void)
{
	struct utimer_attach a;
	struct utimer_remove r;
	unsigned long at = UTIMER_IOCTL_ATTACH, rm = UTIMER_IOCTL_REMOVE, tk = UTIMER_IOCTL_TAKE;
	int same = sizeof(a) == 32 && AT(a, id) == 0 && AT(a, flags) == 4 && AT(a, fd) == 8 &&
		   AT(a, reserved) == 12 && sizeof(r) == 16 && AT(r, flags) == 4 &&
		   AT(r, reserved) == 8 && at == 0xC02075A6UL && rm == 0x401075A7UL &&
		   tk == 0x75A8UL;

	ksft_test_result(same, "abi_persistent_layout_and_numbers # " ARCH " program: attach %zu "
			 "bytes (fd at %zu), remove %zu bytes, ATTACH %#lx REMOVE %#lx TAKE %#lx (the "
			 "module: 32 (8), 16, 0xc02075a6 0x401075a7 0x75a8)\n", sizeof(a), AT(a, fd),
			 sizeof(r), at, rm, tk);
}

int main(int argc, char **argv)
{
	int plan_only = take_flag(&argc, argv, "--plan");

	if (argc != 1) {
		fprintf(stderr, "usage: %s [--plan]\n", argv[0]);
		return 2;
	}
	plan_or_print(5, plan_only);
	uinfo_layout();
	ioctl_numbers();
	udriven_device();
	create_ext_abi();
	persistent_abi();
	ksft_finished();
}
