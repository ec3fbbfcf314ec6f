/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers for the guest tests.  The guest init (lab/guest/init)
 * describes the devices in LAB_* environment variables; the lab_probe
 * module reports page state.  Plain C, no kselftest harness: the tests'
 * fixture pieces built on the harness are in lab_harness.h.
 */
#ifndef LAB_H
#define LAB_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

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

/* Check the DAX entries of @fd against mapping->nrpages; 0 or -errno. */
static inline int lab_dax_entries(int probe, int fd, struct lab_dax_entries *de)
{
	memset(de, 0, sizeof(*de));
	de->fd = fd;
	return ioctl(probe, LAB_PROBE_DAX_ENTRIES, de) ? -errno : 0;
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
 * Helpers shared by lifecycle.c, the mapping*.c tests and gup.c.
 */

/* A DAX mapping under test: its backing object and where it is mapped. */
struct lab_region {
	const struct lab_dax *dax;
	int fd;
	char path[256];
	char *addr;		/* MAP_FAILED when not mapped */
	size_t len;
};

static inline void lab_region_init(struct lab_region *r,
				   const struct lab_dax *dax)
{
	memset(r, 0, sizeof(*r));
	r->dax = dax;
	r->fd = -1;
	r->addr = MAP_FAILED;
}

/*
 * Open the backing object (an allocated file of @file_len bytes for FS
 * DAX, ignored for device DAX) and map @len bytes of it at @off, aligned
 * to @align.  Returns 0 or -errno.
 */
static inline int lab_region_map(struct lab_region *r, const char *tag,
				 size_t file_len, size_t len, off_t off,
				 size_t align)
{
	if (r->fd < 0) {
		r->fd = lab_dax_open(r->dax, tag, file_len, r->path,
				     sizeof(r->path));
		if (r->fd < 0) {
			r->path[0] = '\0';
			return -errno;
		}
	}
	r->addr = lab_map(r->fd, len, align, off);
	if (r->addr == MAP_FAILED)
		return -errno;
	r->len = len;
	return 0;
}

static inline int lab_region_unmap(struct lab_region *r)
{
	int ret = 0;

	if (r->addr != MAP_FAILED)
		ret = munmap(r->addr, r->len) ? -errno : 0;
	r->addr = MAP_FAILED;
	return ret;
}

/* Unmap, close and, for FS DAX, delete the file. */
static inline void lab_region_destroy(struct lab_region *r)
{
	lab_region_unmap(r);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (r->dax && r->dax->kind == LAB_FSDAX && r->path[0])
		unlink(r->path);
	r->path[0] = '\0';
}

/* The word lab_fill() stores at byte offset @off for @seed. */
static inline uint64_t lab_word(uint64_t seed, size_t off)
{
	return seed ^ ((uint64_t)off * 0x9e3779b97f4a7c15ull) ^ 0x5a5aull;
}

/*
 * Store one 64-bit word at the start of every @stride bytes of @p (a
 * write to every 4K page with stride SZ_4K), so each touched page is
 * faulted in for write and tagged with its offset.
 */
static inline void lab_fill(void *p, size_t len, size_t stride, uint64_t seed)
{
	volatile uint64_t *w;
	size_t off;

	for (off = 0; off < len; off += stride) {
		w = (volatile uint64_t *)((char *)p + off);
		*w = lab_word(seed, off);
	}
}

/* First offset where lab_fill(@seed) data is missing, or -1 if intact. */
static inline long lab_check(const void *p, size_t len, size_t stride,
			     uint64_t seed)
{
	const volatile uint64_t *w;
	size_t off;

	for (off = 0; off < len; off += stride) {
		w = (const volatile uint64_t *)((const char *)p + off);
		if (*w != lab_word(seed, off))
			return (long)off;
	}
	return -1;
}

/* Page @pgno of the whole-page test pattern @salt, written to @buf (4K). */
static inline void lab_fill_page(void *buf, size_t pgno, unsigned int salt)
{
	uint32_t *w = buf;
	size_t i;

	for (i = 0; i < SZ_4K / sizeof(*w); i++)
		w[i] = (salt * 0x9e3779b9u) ^ (uint32_t)(pgno << 16) ^ (uint32_t)i;
}

static inline bool lab_page_is(const void *got, size_t pgno, unsigned int salt)
{
	uint32_t want[SZ_4K / sizeof(uint32_t)];

	lab_fill_page(want, pgno, salt);
	return !memcmp(got, want, SZ_4K);
}

/* Write pages [0, nr) of @fd with the pattern and fsync; 0 or -errno. */
static inline int lab_write_pattern(int fd, size_t nr, unsigned int salt)
{
	uint32_t buf[SZ_4K / sizeof(uint32_t)];
	size_t pg;

	for (pg = 0; pg < nr; pg++) {
		lab_fill_page(buf, pg, salt);
		if (pwrite(fd, buf, SZ_4K, pg * SZ_4K) != (ssize_t)SZ_4K)
			return -(errno ? errno : EIO);
	}
	return fsync(fd) ? -errno : 0;
}

/* statx() says the file is accessed through DAX. */
static inline bool lab_fd_is_dax(int fd)
{
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &stx))
		return false;
	return stx.stx_attributes_mask & STATX_ATTR_DAX &&
	       stx.stx_attributes & STATX_ATTR_DAX;
}

/* A per-run seed, so data left by an earlier run cannot pass a check. */
static inline uint64_t lab_seed(const char *salt)
{
	uint64_t s = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);

	while (salt && *salt)
		s = s * 131 + (unsigned char)*salt++;
	return s;
}

/*
 * A sysfs attribute of the device DAX instance behind @devpath (e.g.
 * "size" or "align"), read through /sys/dev/char/MAJ:MIN.  0 if absent.
 */
static inline unsigned long long lab_devdax_attr(const char *devpath,
						 const char *attr)
{
	unsigned long long v = 0;
	char sys[128];
	struct stat st;
	FILE *f;

	if (stat(devpath, &st) || !S_ISCHR(st.st_mode))
		return 0;
	snprintf(sys, sizeof(sys), "/sys/dev/char/%u:%u/%s",
		 major(st.st_rdev), minor(st.st_rdev), attr);
	f = fopen(sys, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

static inline const char *lab_level_name(unsigned int level)
{
	switch (level) {
	case LAB_LEVEL_PTE:
		return "PTE";
	case LAB_LEVEL_PMD:
		return "PMD";
	case LAB_LEVEL_PUD:
		return "PUD";
	}
	return "none";
}

/* The entry a fault at a @size-aligned address of @size bytes uses. */
static inline unsigned int lab_level_of(size_t size)
{
	if (size >= SZ_1G)
		return LAB_LEVEL_PUD;
	if (size >= SZ_2M)
		return LAB_LEVEL_PMD;
	return LAB_LEVEL_PTE;
}

/*
 * What a forked child tells its parent.  The child must not use the
 * harness' ASSERT_*() (its longjmp would run the fixture teardown in the
 * child), so it reports through a pipe and _exit()s.
 */
struct lab_verdict {
	int ok;
	unsigned int level;	/* whatever the test wants to pass on */
	char msg[240];
};

static inline void lab_verdict_send(int fd, int ok, unsigned int level,
				    const char *fmt, ...)
{
	struct lab_verdict v = { .ok = ok, .level = level };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v.msg, sizeof(v.msg), fmt, ap);
	va_end(ap);
	if (write(fd, &v, sizeof(v)) != sizeof(v))
		_exit(2);
}

/* 0 on a whole verdict, -1 if the child died without sending one. */
static inline int lab_verdict_recv(int fd, struct lab_verdict *v)
{
	ssize_t n;

	memset(v, 0, sizeof(*v));
	do {
		n = read(fd, v, sizeof(*v));
	} while (n < 0 && errno == EINTR);
	if (n != sizeof(*v)) {
		snprintf(v->msg, sizeof(v->msg), "child sent no verdict");
		return -1;
	}
	v->msg[sizeof(v->msg) - 1] = '\0';
	return 0;
}

/*
 * Scheduler state of a process ('S', 'D', 'I', 'R', ...) or '?'.  'D' is
 * what the hung task detector reports; TASK_IDLE waits show as 'I'.
 */
static inline char lab_proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/*
 * The kernel log from now on: open /dev/kmsg positioned at its end.
 * lab_kmsg_warning() then copies the first new WARNING/BUG line into
 * @buf and returns 1 (0 if there is none, -errno if unreadable), so a
 * test can fail on the warning its own operation caused.
 */
static inline int lab_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static inline int lab_kmsg_warning(int fd, char *buf, size_t len)
{
	char rec[1024];
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten records */
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		rec[n] = '\0';
		if (strstr(rec, "WARNING:") || strstr(rec, "BUG:")) {
			const char *msg = strchr(rec, ';') ? strchr(rec, ';') + 1 : rec;
			size_t l = strlen(msg) < len ? strlen(msg) : len - 1;

			memcpy(buf, msg, l);
			buf[l] = '\0';
			return 1;
		}
	}
}

#endif /* LAB_H */
