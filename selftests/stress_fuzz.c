// SPDX-License-Identifier: GPL-2.0
/*
 * Random ioctls on rust_utimer, run in the guest as root:
 *
 *   stress_fuzz [-n IOCTLS] [-s SEED] [--plan]
 *
 * Random ioctl numbers, sizes and pointers (IOCTLS, default 1000000) on /dev/utimer and on a
 * timer fd: every result must be the documented one, and a failure changes nothing (argument,
 * fds, ids).  Valid pointers carry a valid argument or one with a field off: for CREATE
 * (upstream's semantics) garbage reserved bytes and any resolution are valid, 0 is not; for
 * CREATE_EXT unknown flags, reserved fields, resolutions out of range and ids not below
 * max_timers are EINVAL, the id timer 0 holds EBUSY.
 *
 * It ends with the capacity check: no timer left (debugfs), and every id can be created again.
 * Output: TAP (the plan first; --plan, with the same arguments, prints only its number), and
 * "# stat NAME VALUE" lines that testing/stress tabulates.  Environment: UTIMER_DEV.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include "stress.h"

/*
 * A valid argument for cmd in buf, or one with a field off; returns the errno it must give
 * (0 for a valid one).  Timer 0 is held, max_timers is 128 or more.
 */
static int fill_valid(uint64_t *rng, unsigned int cmd, void *buf)
{
	struct utimer_uinfo *u = buf;
	struct utimer_create *c = buf;

	memset(buf, 0, 32);
	if (cmd == UTIMER_IOCTL_CREATE) {
		u->resolution = RES_1MS;
		switch (rnd(rng) % 4) {
		case 0:
			u->reserved[rnd(rng) % sizeof(u->reserved)] = 1 + rnd(rng) % 255;
			return 0;
		case 1:
			u->resolution = rnd(rng) | 1;
			return 0;
		case 2:
			u->resolution = 0;
			return EINVAL;
		default:
			return 0;
		}
	}
	if (cmd == UTIMER_IOCTL_ATTACH || cmd == UTIMER_IOCTL_REMOVE) {
		/* No persistent timer lives: id 0 is the fuzzer's owned timer, 77 nobody's. */
		struct utimer_attach *a = buf;
		struct utimer_remove *rm = buf;
		int attach = cmd == UTIMER_IOCTL_ATTACH;

		switch (rnd(rng) % 4) {
		case 0:
			if (attach)
				a->flags = 1 + rnd(rng) % 0xffffffffU;
			else
				rm->flags = 1 + rnd(rng) % 0xffffffffU;
			return EINVAL;
		case 1:
			if (attach)
				a->reserved[rnd(rng) % 5] = 1 + rnd(rng) % 0xffffffffU;
			else
				rm->reserved[rnd(rng) % 2] = 1 + rnd(rng) % 0xffffffffU;
			return EINVAL;
		case 2:
			return attach ? EBUSY : ENOENT;	/* id 0: owned, its fd is its writer */
		default:
			a->id = 77;	/* the same field in both */
			return ENOENT;
		}
	}
	c->resolution = RES_1MS;
	switch (rnd(rng) % 8) {
	case 0:
		if (rnd(rng) % 3)
			c->reserved[rnd(rng) % 2] = 1 + rnd(rng) % 0xffffffffU;
		else
			c->holdover = 1 + rnd(rng) % 0xffffffffU;	/* without its flag */
		return EINVAL;
	case 1:
		/* Unknown flags (persistent timers are made only by the persist words below). */
		c->flags = (1U << (3 + rnd(rng) % 29)) | (rnd(rng) % 2 ? UTIMER_CREATE_ID : 0);
		return EINVAL;
	case 2:
		c->resolution = rnd(rng) % 2 ? rnd(rng) % UTIMER_MIN_RESOLUTION :
			UTIMER_MAX_RESOLUTION + 1 + rnd(rng) % 1000;
		return EINVAL;
	case 3:
		c->flags = UTIMER_CREATE_ID;
		c->id = 4096 + rnd(rng) % 0x10000;
		return EINVAL;
	case 4:
		c->flags = UTIMER_CREATE_ID;
		return EBUSY;
	case 5:
		c->flags = UTIMER_CREATE_ID;
		c->id = 1;
		return 0;
	default:
		return 0;
	}
}

/* Handled by the VFS before the driver (fs/ioctl.c, do_vfs_ioctl()): not ours to answer. */
static const unsigned int vfs_ioctls[] = {
	FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, FIFREEZE, FITHAW, FS_IOC_FIEMAP, FIGETBSZ,
	FICLONE, FICLONERANGE, FIDEDUPERANGE, FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IOC_FSGETXATTR,
	FS_IOC_FSSETXATTR, FS_IOC_GETFSUUID, FS_IOC_GETFSSYSFSPATH,
};

static int vfs_ioctl_number(unsigned int cmd)
{
	for (size_t i = 0; i < sizeof(vfs_ioctls) / sizeof(vfs_ioctls[0]); i++)
		if (cmd == vfs_ioctls[i])
			return 1;
	return 0;
}

enum ptr_kind { P_VALID, P_NULL, P_UNMAPPED, P_READONLY, P_KERNEL, P_STRADDLE, P_RANDOM, NPTR };

static const char *const ptr_names[NPTR] = {
	"valid", "null", "unmapped", "readonly", "kernel", "straddling_a_page_end", "random",
};

static unsigned int random_cmd(uint64_t *rng)
{
	unsigned int dir = rnd(rng) % 4, nr = rnd(rng) % 256, size = rnd(rng) % 0x4000;

	switch (rnd(rng) % 9) {
	case 0:
		return rnd(rng) % 2 ? UTIMER_IOCTL_CREATE : UTIMER_IOCTL_CREATE_EXT;
	case 1:
		return UTIMER_IOCTL_TRIGGER;
	case 8:	/* the persistent timers' ioctls */
		return (const unsigned int[]){ UTIMER_IOCTL_ATTACH, UTIMER_IOCTL_REMOVE,
					       UTIMER_IOCTL_TAKE }[rnd(rng) % 3];
	case 2:	/* ours with another direction or size */
		return _IOC(dir, rnd(rng) % 2 ? 'T' : 'u', 0xa5 + rnd(rng) % 2,
			    rnd(rng) % 2 ? size : sizeof(struct utimer_uinfo));
	case 3:	/* near ours: the /dev/snd/timer range */
		return _IOC(dir, 'T', rnd(rng) % 0xb0, rnd(rng) % 2 ? size : rnd(rng) % 128);
	case 4:
		return _IOC(dir, 'T', nr, size);
	case 5:
		return _IOC(dir, rnd(rng) % 256, nr, size);
	default:
		return (unsigned int)rnd(rng);
	}
}

static void mode_fuzz(unsigned long n, uint64_t seed)
{
	long page = sysconf(_SC_PAGESIZE);
	/* rw page | read-only page | rw page | PROT_NONE guard */
	char *map = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *rw = map, *ro = map + page, *edge = map + 3 * page, *gone;
	unsigned long by_ptr[NPTR] = { 0 }, created = 0, vfs_skipped = 0, enotty = 0, efault = 0;
	unsigned long einval = 0, bad_results = 0, changed = 0;
	struct utimer_uinfo good = { .resolution = RES_1MS }, snap;
	unsigned long ebusy = 0;
	uint64_t rng = seed;
	unsigned int tid = 0, next_fd;
	int tfd, fds_before;

	if (map == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	memcpy(ro, &good, sizeof(good));
	mprotect(ro, page, PROT_READ);
	mprotect(edge, page, PROT_NONE);
	gone = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, page);

	tfd = new_timer(RES_1MS, &tid);
	if (tfd < 0 || tid != 0)
		ksft_exit_fail_msg("first CREATE: %d, id %u (want id 0: no other timer may live)\n",
				   tfd, tid);
	/* The fd the next CREATE would install: a failed CREATE must leave it unused. */
	next_fd = dup(0);
	close(next_fd);
	fds_before = count_fds();
	diag("%lu random ioctls, seed %#llx, on /dev/utimer and on timer fd %d (id 0)", n,
	     (unsigned long long)seed, tfd);

	for (unsigned long i = 0; i < n; i++) {
		unsigned int cmd = random_cmd(&rng);
		int on_timer = rnd(&rng) % 2, fd = on_timer ? tfd : ctl, valid_want = 0, want, r, e;
		enum ptr_kind pk = rnd(&rng) % NPTR;
		size_t arglen = sizeof(struct utimer_uinfo);
		unsigned long arg;

		if (vfs_ioctl_number(cmd)) {
			vfs_skipped++;
			continue;
		}
		switch (pk) {
		case P_VALID:
			/* Valid, or one field off (fill_valid). */
			valid_want = fill_valid(&rng, cmd, rw);
			arg = (unsigned long)rw;
			break;
		case P_NULL:
			arg = 0;
			break;
		case P_UNMAPPED:
			arg = (unsigned long)gone + rnd(&rng) % page;
			break;
		case P_READONLY:
			/* Valid for both CREATEs: only the copy back fails. */
			arg = (unsigned long)ro;
			break;
		case P_KERNEL:
			arg = 0xffffffff81000000UL + rnd(&rng) % (1UL << 24);
			break;
		case P_STRADDLE:
			arg = (unsigned long)edge - 1 - rnd(&rng) % (arglen - 1);
			memset((char *)arg, 0, edge - (char *)arg);
			break;
		default:
			arg = rnd(&rng);
			break;
		}
		if (pk == P_VALID)
			memcpy(&snap, rw, sizeof(snap));
		by_ptr[pk]++;
		r = ioctl(fd, cmd, arg);
		e = r < 0 ? errno : 0;

		/* What the documentation says it must be. */
		if (on_timer)
			want = cmd == UTIMER_IOCTL_TRIGGER ? 0 : ENOTTY;
		else if (cmd != UTIMER_IOCTL_CREATE && cmd != UTIMER_IOCTL_CREATE_EXT &&
			 cmd != UTIMER_IOCTL_ATTACH && cmd != UTIMER_IOCTL_REMOVE)
			want = ENOTTY;
		else if (pk == P_VALID)
			want = valid_want;
		else if ((cmd == UTIMER_IOCTL_ATTACH || cmd == UTIMER_IOCTL_REMOVE) &&
			 pk == P_READONLY)
			want = ENOENT;	/* read, as the uinfo there: id 1000000; nothing written back */
		else if (cmd == UTIMER_IOCTL_REMOVE && pk == P_STRADDLE &&
			 arg + sizeof(struct utimer_remove) <= (unsigned long)edge)
			want = ENOENT;	/* all of its 16 bytes readable: zeros, id 0 (owned) */
		else
			want = EFAULT;	/* unreadable, or (read-only) not writable back */
		if (pk == P_RANDOM && want == EFAULT && (e == EINVAL || e == EBUSY || e == ENOENT))
			want = e;	/* a random address that happens to be mapped */
		if (e != want || (r < 0) != (want != 0)) {
			if (bad_results++ < 10)
				diag("ioctl(%s, %#x, %s %#lx) = %d (%s), want %s", on_timer ? "timer" : "ctl",
				     cmd, ptr_names[pk], arg, r, e ? strerror(e) : "ok",
				     want ? strerror(want) : "success");
		}
		enotty += e == ENOTTY;
		efault += e == EFAULT;
		einval += e == EINVAL;
		ebusy += e == EBUSY;
		if (!on_timer && (cmd == UTIMER_IOCTL_CREATE || cmd == UTIMER_IOCTL_CREATE_EXT) &&
		    r == 0) {
			char *out = pk == P_VALID ? rw : (char *)arg;
			unsigned int id = ((struct utimer_uinfo *)out)->id;
			int nfd = cmd == UTIMER_IOCTL_CREATE ? ((struct utimer_uinfo *)out)->fd :
				  ((struct utimer_create *)out)->fd;

			/* Lowest free id (or the one asked for): 1, as timer 0 is held. */
			if (id != 1 || (unsigned int)nfd != next_fd)
				if (bad_results++ < 10)
					diag("CREATE %#x gave id %u fd %d, want id 1 fd %u", cmd, id, nfd,
					     next_fd);
			close(nfd);
			created++;
		} else if (r < 0 && pk == P_VALID && memcmp(&snap, rw, sizeof(snap))) {
			if (changed++ < 10)
				diag("failed ioctl %#x changed its argument", cmd);
		}
		if (r < 0 && !on_timer && fcntl((int)next_fd, F_GETFD) >= 0) {
			if (bad_results++ < 10)
				diag("failed ioctl %#x left fd %u open", cmd, next_fd);
			close(next_fd);
		}
	}
	report("ioctls_tried", n);
	report("ioctls_vfs_numbers_skipped", vfs_skipped);
	for (int i = 0; i < NPTR; i++) {
		char name[64];

		snprintf(name, sizeof(name), "ioctls_with_%s_pointer", ptr_names[i]);
		report(name, by_ptr[i]);
	}
	report("ioctls_created_a_timer", created);
	report("ioctls_enotty", enotty);
	report("ioctls_efault", efault);
	report("ioctls_einval", einval);
	report("ioctls_ebusy", ebusy);
	report("ioctls_unexpected_result", bad_results);
	report("ioctls_failed_but_changed_the_argument", changed);
	ksft_test_result(bad_results == 0, "random_ioctls_give_only_documented_results\n");
	ksft_test_result(changed == 0, "failed_ioctls_leave_their_argument_untouched\n");
	ksft_test_result(count_fds() == fds_before, "random_ioctls_leave_no_fd\n");
	close(tfd);
	capacity_check("random_ioctls");
	munmap(map, 4 * page);
}

static void usage(void)
{
	fprintf(stderr, "usage: stress_fuzz [-n IOCTLS] [-s SEED] [--plan]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int plan_only = take_flag(&argc, argv, "--plan");
	unsigned long n = 1000000;
	uint64_t seed = 0x5eed;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-n") && v)
			n = strtoul(v, NULL, 0), i++;
		else if (!strcmp(a, "-s") && v)
			seed = strtoull(v, NULL, 0), i++;
		else
			usage();
	}
	if (!n)
		usage();
	plan_or_print(4, plan_only);
	open_ctl_or_bail();
	mode_fuzz(n, seed);
	close(ctl);
	ksft_finished();
}
