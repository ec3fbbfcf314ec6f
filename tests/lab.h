/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the guest tests.  The guest init (lab/guest-init)
 * describes the devices in LAB_* environment variables; the lab_probe
 * module reports page state.  Include after kselftest_harness.h.
 */
#ifndef LAB_H
#define LAB_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "probe/lab_probe.h"

#define SZ_4K	(4096UL)
#define SZ_2M	(2UL << 20)
#define SZ_1G	(1UL << 30)

enum lab_kind { LAB_FSDAX, LAB_DEVDAX };

/* One place a DAX mapping can come from: a filesystem or a device. */
struct lab_dax {
	const char *name;
	enum lab_kind kind;
	const char *env;	/* LAB_EXT4_DIR, LAB_DEVDAX_2M, ... */
	unsigned long align;	/* device DAX alignment, 0 for FS DAX */
	unsigned long huge;	/* largest mapping size a fault can use */
};

#define LAB_EXT4   { "ext4", LAB_FSDAX, "LAB_EXT4_DIR", 0, SZ_4K }
#define LAB_XFS    { "xfs", LAB_FSDAX, "LAB_XFS_DIR", 0, SZ_2M }
#define LAB_DAX4K  { "devdax4k", LAB_DEVDAX, "LAB_DEVDAX4K", SZ_4K, SZ_4K }
#define LAB_DAX2M  { "devdax2m", LAB_DEVDAX, "LAB_DEVDAX2M", SZ_2M, SZ_2M }
#define LAB_DAX1G  { "devdax1g", LAB_DEVDAX, "LAB_DEVDAX1G", SZ_1G, SZ_1G }

/* The standard variants: FS DAX on ext4 and xfs, device DAX 4K/2M/1G. */
#define LAB_DAX_VARIANTS(fixture)					\
	FIXTURE_VARIANT(fixture) { struct lab_dax dax; };		\
	FIXTURE_VARIANT_ADD(fixture, ext4) { .dax = LAB_EXT4 };		\
	FIXTURE_VARIANT_ADD(fixture, xfs) { .dax = LAB_XFS };		\
	FIXTURE_VARIANT_ADD(fixture, devdax4k) { .dax = LAB_DAX4K };	\
	FIXTURE_VARIANT_ADD(fixture, devdax2m) { .dax = LAB_DAX2M };	\
	FIXTURE_VARIANT_ADD(fixture, devdax1g) { .dax = LAB_DAX1G }

#define LAB_FSDAX_VARIANTS(fixture)					\
	FIXTURE_VARIANT(fixture) { struct lab_dax dax; };		\
	FIXTURE_VARIANT_ADD(fixture, ext4) { .dax = LAB_EXT4 };		\
	FIXTURE_VARIANT_ADD(fixture, xfs) { .dax = LAB_XFS }

/* Path of an environment-described resource, or NULL if the lab lacks it. */
static inline const char *lab_env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* Kernel flavour this guest runs: "patched" or "baseline". */
static inline const char *lab_kernel(void)
{
	const char *k = lab_env("LAB_KERNEL");

	return k ? k : "unknown";
}

static inline int lab_probe_open(void)
{
	return open(LAB_PROBE_PATH, O_RDWR | O_CLOEXEC);
}

/* Page state behind a user address; returns 0 or -errno. */
static inline int lab_info_addr(int probe, const void *addr,
				struct lab_page_info *info)
{
	memset(info, 0, sizeof(*info));
	info->addr = (uintptr_t)addr;
	return ioctl(probe, LAB_PROBE_BY_ADDR, info) ? -errno : 0;
}

static inline int lab_info_pfn(int probe, uint64_t pfn,
			       struct lab_page_info *info)
{
	memset(info, 0, sizeof(*info));
	info->pfn = pfn;
	return ioctl(probe, LAB_PROBE_BY_PFN, info) ? -errno : 0;
}

/* Take references on [addr, addr + len); returns a handle or -errno. */
static inline int lab_hold(int probe, const void *addr, size_t len,
			   unsigned int flags)
{
	struct lab_hold h = {
		.addr = (uintptr_t)addr,
		.nr_pages = len / SZ_4K,
		.flags = flags,
	};

	return ioctl(probe, LAB_PROBE_HOLD, &h) ? -errno : h.id;
}

static inline int lab_release(int probe, int id)
{
	return ioctl(probe, LAB_PROBE_RELEASE, &id) ? -errno : 0;
}

static inline int lab_scan(int probe, uint64_t pfn, struct lab_scan *scan)
{
	memset(scan, 0, sizeof(*scan));
	scan->pfn = pfn;
	return ioctl(probe, LAB_PROBE_SCAN, scan) ? -errno : 0;
}

/*
 * Reserve @len bytes of address space aligned to @align, so a DAX fault
 * can use a PMD or PUD mapping; returns the address for MAP_FIXED.
 */
static inline void *lab_aligned_hint(size_t len, size_t align)
{
	size_t span = len + align;
	char *p = mmap(NULL, span, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (a > p)
		munmap(p, a - p);
	munmap(a + len, p + span - (a + len));
	return a;
}

/*
 * Open the backing object of a DAX variant: a new file of @len bytes in
 * the filesystem (allocated, so faults map real blocks) or the device DAX
 * character device.  Returns the fd, or -1 with errno set.
 */
static inline int lab_dax_open(const struct lab_dax *dax, const char *tag,
			       size_t len, char *path, size_t pathlen)
{
	const char *where = lab_env(dax->env);
	int fd;

	if (!where) {
		errno = ENODEV;
		return -1;
	}
	if (dax->kind == LAB_DEVDAX) {
		snprintf(path, pathlen, "%s", where);
		return open(path, O_RDWR | O_CLOEXEC);
	}
	snprintf(path, pathlen, "%s/%s.%d", where, tag, getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (fallocate(fd, 0, 0, len)) {
		int err = errno;

		close(fd);
		unlink(path);
		errno = err;
		return -1;
	}
	return fd;
}

/* Map @len bytes of @fd shared, aligned to @align (MAP_FIXED on a hint). */
static inline void *lab_map(int fd, size_t len, size_t align, off_t off)
{
	void *hint = lab_aligned_hint(len, align < SZ_4K ? SZ_4K : align);
	void *p;

	if (!hint)
		return MAP_FAILED;
	p = mmap(hint, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
		 fd, off);
	if (p == MAP_FAILED)
		munmap(hint, len);
	return p;
}

/*
 * Skip with the exact missing precondition (kselftest exit 4).  Only for
 * preconditions that are truly absent, never for a failed assertion.
 */
#define LAB_REQUIRE_ENV(var)						\
	do {								\
		if (!lab_env(var))					\
			SKIP(return, "lab did not provide %s", var);	\
	} while (0)

#endif /* LAB_H */
