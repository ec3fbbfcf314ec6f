// SPDX-License-Identifier: GPL-2.0
/*
 * PCI P2PDMA memory handed to user space through the p2pmem "allocate"
 * file of the QEMU NVMe controller's memory buffer (CMB).  Each mmap takes
 * pages from the device's pool; the pages go back to the pool when their
 * last reference goes (munmap, MADV_DONTNEED, exit of a forked child).
 *
 * Behavioural on both kernels: the pool's "available" count returns to its
 * starting value, a mapped page holds one reference and one mapcount, and
 * mmap calls the driver refuses leave the pool untouched.  Contract: with
 * the series a free P2PDMA page has refcount 0; the baseline resets freed
 * pages to refcount 1.
 */
#include "lab_harness.h"

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>

#define CYCLES		1000
#define MAX_PAGES	16

/* Read an unsigned number from a p2pmem attribute; 0 or -errno. */
static int read_attr(const char *dir, const char *name, uint64_t *val)
{
	char path[PATH_MAX], buf[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = 0;
	*val = strtoull(buf, NULL, 10);
	return 0;
}

FIXTURE(p2p) {
	int probe;
	int fd;			/* the "allocate" file */
	const char *dir;
	uint64_t start;		/* "available" before the test */
	char *map;
	size_t maplen;
	pid_t child;
};

FIXTURE_VARIANT(p2p) {
	size_t len;
};

FIXTURE_VARIANT_ADD(p2p, map4k) { .len = SZ_4K };
FIXTURE_VARIANT_ADD(p2p, map64k) { .len = 16 * SZ_4K };

FIXTURE_SETUP(p2p)
{
	char path[PATH_MAX];
	uint64_t size;
	int ret;

	self->probe = self->fd = -1;
	self->map = MAP_FAILED;
	self->child = -1;
	LAB_REQUIRE_ENV("LAB_P2PMEM");
	self->dir = lab_env("LAB_P2PMEM");
	self->probe = lab_probe_open();
	ASSERT_LE(0, self->probe)
		TH_LOG("cannot open %s: %s (lab_probe not loaded?)", LAB_PROBE_PATH, strerror(errno));

	snprintf(path, sizeof(path), "%s/allocate", self->dir);
	self->fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", path, strerror(errno));
	ret = read_attr(self->dir, "size", &size);
	ASSERT_EQ(0, ret) TH_LOG("read %s/size: %s", self->dir, strerror(-ret));
	ret = read_attr(self->dir, "available", &self->start);
	ASSERT_EQ(0, ret) TH_LOG("read %s/available: %s", self->dir, strerror(-ret));
	ASSERT_LE(self->start, size);
	ASSERT_LE(2 * variant->len, self->start)
		TH_LOG("p2pmem pool has only %llu of %llu bytes available",
		       (unsigned long long)self->start, (unsigned long long)size);
}

FIXTURE_TEARDOWN(p2p)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (self->map != MAP_FAILED)
		munmap(self->map, self->maplen);
	if (self->fd >= 0)
		close(self->fd);
	if (self->probe >= 0)
		close(self->probe);
}

static uint64_t available(struct __test_metadata *_metadata, FIXTURE_DATA(p2p) *self)
{
	uint64_t v = 0;
	int ret = read_attr(self->dir, "available", &v);

	EXPECT_EQ(0, ret) TH_LOG("read available: %s", strerror(-ret));
	return v;
}

static void *p2p_map(FIXTURE_DATA(p2p) *self, size_t len, int flags, off_t off)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, flags, self->fd, off);
}

/*
 * Write and read back two words of every page (each access is an MMIO
 * exit in QEMU, so not the whole page).  Returns the first bad page or -1.
 */
static int touch_pages(char *p, size_t len, uint32_t seed)
{
	size_t pg, n = len / SZ_4K;

	for (pg = 0; pg < n; pg++) {
		volatile uint32_t *w = (volatile uint32_t *)(p + pg * SZ_4K);

		w[0] = seed ^ (uint32_t)pg;
		w[SZ_4K / 4 - 1] = ~seed ^ (uint32_t)pg;
	}
	for (pg = 0; pg < n; pg++) {
		volatile uint32_t *w = (volatile uint32_t *)(p + pg * SZ_4K);

		if (w[0] != (seed ^ (uint32_t)pg) ||
		    w[SZ_4K / 4 - 1] != (~seed ^ (uint32_t)pg))
			return pg;
	}
	return -1;
}

/* Probe every page of a P2PDMA mapping; fills pfns[]. */
static void check_mapped(struct __test_metadata *_metadata, FIXTURE_DATA(p2p) *self,
			 char *p, size_t len, int refs, uint64_t *pfns)
{
	struct lab_page_info info;
	size_t pg;
	int ret;

	for (pg = 0; pg < len / SZ_4K; pg++) {
		ret = lab_info_addr(self->probe, p + pg * SZ_4K, &info);
		ASSERT_EQ(0, ret) TH_LOG("probe page %zu: %s", pg, strerror(-ret));
		ASSERT_TRUE(!!(info.flags & LAB_PAGE_PRESENT));
		ASSERT_TRUE(!!(info.flags & LAB_PAGE_ZONE_DEVICE))
			TH_LOG("p2pmem page is not ZONE_DEVICE (flags %#x)", info.flags);
		ASSERT_EQ((unsigned int)LAB_PGMAP_P2PDMA, info.pgmap_type)
			TH_LOG("p2pmem page has pgmap type %u", info.pgmap_type);
		ASSERT_EQ(refs, info.mapcount)
			TH_LOG("p2pmem page %zu mapped %d times has mapcount %d",
			       pg, refs, info.mapcount);
		ASSERT_EQ(refs, info.refcount)
			TH_LOG("p2pmem page %zu mapped %d times has refcount %d, expected %d",
			       pg, refs, info.refcount, refs);
		if (pfns)
			pfns[pg] = info.pfn;
	}
}

/* Idle on either kernel: no mapping, at most the base reference. */
static void check_idle(struct __test_metadata *_metadata, FIXTURE_DATA(p2p) *self,
		       const uint64_t *pfns, size_t n)
{
	struct lab_page_info info;
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = lab_info_pfn(self->probe, pfns[i], &info);
		ASSERT_EQ(0, ret) TH_LOG("probe pfn %#llx: %s",
					 (unsigned long long)pfns[i], strerror(-ret));
		ASSERT_TRUE(info.refcount <= 1 && info.mapcount <= 0)
			TH_LOG("freed p2pmem page pfn %#llx: refcount %d mapcount %d",
			       (unsigned long long)pfns[i], info.refcount, info.mapcount);
	}
}

/* Map, use and unmap many times: nothing leaks from the pool. */
TEST_F_TIMEOUT(p2p, map_unmap_cycles_restore_available, 120)
{
	size_t len = variant->len;
	uint64_t pfns[MAX_PAGES];
	int i, bad;

	for (i = 0; i < CYCLES; i++) {
		char *p = p2p_map(self, len, MAP_SHARED, 0);

		ASSERT_NE(MAP_FAILED, p)
			TH_LOG("mmap #%d of %zu bytes: %s (available %llu, started at %llu)",
			       i, len, strerror(errno),
			       (unsigned long long)available(_metadata, self),
			       (unsigned long long)self->start);
		self->map = p;
		self->maplen = len;
		bad = touch_pages(p, len, 0x5a000000u | i);
		ASSERT_EQ(-1, bad) TH_LOG("cycle %d: page %d does not read back what was written",
					  i, bad);
		if (i == 0) {
			check_mapped(_metadata, self, p, len, 1, pfns);
			ASSERT_EQ(self->start - len, available(_metadata, self))
				TH_LOG("a %zu-byte mapping did not take %zu bytes from the pool",
				       len, len);
		}
		ASSERT_EQ(0, munmap(p, len));
		self->map = MAP_FAILED;
	}
	ASSERT_EQ(self->start, available(_metadata, self))
		TH_LOG("after %d map/unmap cycles the pool is missing %lld bytes",
		       CYCLES, (long long)(self->start - available(_metadata, self)));
	check_idle(_metadata, self, pfns, len / SZ_4K);
}

/* Contract: a P2PDMA page back in the pool has refcount 0. */
TEST_F(p2p, contract_freed_page_refcount_0)
{
	size_t len = variant->len, pg;
	uint64_t pfns[MAX_PAGES];
	struct lab_page_info info;
	int ret;

	self->map = p2p_map(self, len, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, self->map) TH_LOG("mmap: %s", strerror(errno));
	self->maplen = len;
	ASSERT_EQ(-1, touch_pages(self->map, len, 0xc0ffee));
	check_mapped(_metadata, self, self->map, len, 1, pfns);
	ASSERT_EQ(0, munmap(self->map, len));
	self->map = MAP_FAILED;
	ASSERT_EQ(self->start, available(_metadata, self));
	for (pg = 0; pg < len / SZ_4K; pg++) {
		ret = lab_info_pfn(self->probe, pfns[pg], &info);
		ASSERT_EQ(0, ret) TH_LOG("probe pfn: %s", strerror(-ret));
		ASSERT_EQ(0, info.refcount)
			TH_LOG("freed P2PDMA page (pfn %#llx) has refcount %d, expected 0",
			       (unsigned long long)pfns[pg], info.refcount);
	}
}

/* mmap calls the driver refuses take nothing from the pool. */
TEST_F(p2p, refused_mmap_leaves_pool_alone)
{
	size_t len = variant->len;
	uint64_t big = (self->start + SZ_2M) & ~(uint64_t)(SZ_4K - 1);
	char *p;

	p = p2p_map(self, len, MAP_SHARED, SZ_4K);
	ASSERT_EQ(MAP_FAILED, p) TH_LOG("mmap at a non-zero offset succeeded");
	ASSERT_EQ(EINVAL, errno) TH_LOG("mmap at a non-zero offset: %s, expected EINVAL",
					strerror(errno));
	ASSERT_EQ(self->start, available(_metadata, self))
		TH_LOG("refused mmap at a non-zero offset changed the pool");

	p = p2p_map(self, len, MAP_PRIVATE, 0);
	ASSERT_EQ(MAP_FAILED, p) TH_LOG("private mmap succeeded");
	ASSERT_EQ(EINVAL, errno) TH_LOG("private mmap: %s, expected EINVAL", strerror(errno));
	ASSERT_EQ(self->start, available(_metadata, self))
		TH_LOG("refused private mmap changed the pool");

	p = p2p_map(self, big, MAP_SHARED, 0);
	ASSERT_EQ(MAP_FAILED, p)
		TH_LOG("mmap of %llu bytes succeeded with %llu available",
		       (unsigned long long)big, (unsigned long long)self->start);
	ASSERT_EQ(ENOMEM, errno) TH_LOG("oversized mmap: %s, expected ENOMEM", strerror(errno));
	ASSERT_EQ(self->start, available(_metadata, self))
		TH_LOG("refused oversized mmap changed the pool");

	/* The pool still works. */
	self->map = p2p_map(self, len, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, self->map) TH_LOG("mmap after the refusals: %s", strerror(errno));
	self->maplen = len;
	ASSERT_EQ(-1, touch_pages(self->map, len, 0x1234));
	check_mapped(_metadata, self, self->map, len, 1, NULL);
	ASSERT_EQ(0, munmap(self->map, len));
	self->map = MAP_FAILED;
	ASSERT_EQ(self->start, available(_metadata, self));
}

/*
 * A forked child shares the pages (one more reference and mapcount);
 * they stay out of the pool until the child unmaps them too.
 */
TEST_F_TIMEOUT(p2p, fork_keeps_pages_until_last_unmap, 60)
{
	size_t len = variant->len;
	uint64_t pfns[MAX_PAGES];
	int go[2], status = 0;
	char c = 'g';

	self->map = p2p_map(self, len, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, self->map) TH_LOG("mmap: %s", strerror(errno));
	self->maplen = len;
	ASSERT_EQ(-1, touch_pages(self->map, len, 0xf00d));
	ASSERT_EQ(0, pipe2(go, O_CLOEXEC));

	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		size_t pg;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		for (pg = 0; pg < len / SZ_4K; pg++) {
			volatile uint32_t *w = (volatile uint32_t *)(self->map + pg * SZ_4K);

			if (w[0] != (0xf00du ^ (uint32_t)pg))
				_exit(2);
		}
		_exit(0);
	}
	close(go[0]);
	check_mapped(_metadata, self, self->map, len, 2, pfns);
	ASSERT_EQ(0, munmap(self->map, len));
	self->map = MAP_FAILED;
	EXPECT_EQ(self->start - len, available(_metadata, self))
		TH_LOG("pages went back to the pool while the child still mapped them");
	ASSERT_EQ(1, write(go[1], &c, 1));
	close(go[1]);
	ASSERT_EQ(self->child, waitpid(self->child, &status, 0));
	self->child = -1;
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("child did not read the parent's data from the shared pages (status %#x)",
		       status);
	ASSERT_EQ(self->start, available(_metadata, self))
		TH_LOG("pages did not go back to the pool after the last unmap");
	check_idle(_metadata, self, pfns, len / SZ_4K);
}

/* MADV_DONTNEED drops the pages: they go back while the VMA remains. */
TEST_F(p2p, dontneed_returns_pages)
{
	size_t len = variant->len;
	uint64_t pfns[MAX_PAGES];

	self->map = p2p_map(self, len, MAP_SHARED, 0);
	ASSERT_NE(MAP_FAILED, self->map) TH_LOG("mmap: %s", strerror(errno));
	self->maplen = len;
	ASSERT_EQ(-1, touch_pages(self->map, len, 0xd0d0));
	check_mapped(_metadata, self, self->map, len, 1, pfns);
	ASSERT_EQ(self->start - len, available(_metadata, self));
	ASSERT_EQ(0, madvise(self->map, len, MADV_DONTNEED)) TH_LOG("madvise: %s", strerror(errno));
	ASSERT_EQ(self->start, available(_metadata, self))
		TH_LOG("MADV_DONTNEED did not give the pages back to the pool");
	check_idle(_metadata, self, pfns, len / SZ_4K);
	ASSERT_EQ(0, munmap(self->map, len));
	self->map = MAP_FAILED;
	ASSERT_EQ(self->start, available(_metadata, self));
}

TEST_HARNESS_MAIN
