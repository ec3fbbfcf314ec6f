// SPDX-License-Identifier: GPL-2.0
/*
 * Reflinked FS DAX files on xfs.  A clone shares the source's blocks, so
 * with DAX both files map the same page; a write through either mapping
 * must copy the page first (copy on write) and leave the other file as it
 * was.  After both files are unmapped the shared page is idle again.
 *
 * Behavioural on both kernels: the sharing, the copy on write, the data,
 * truncating one clone while the other is mapped, and idleness after
 * unmapping.  Contract: with the series a shared page mapped by both files
 * carries one mapcount and one reference per mapping (the baseline keeps
 * DAX pages out of rmap: mapcount 0, refcount 1).
 */
#include "lab_harness.h"
#include "hold.h"

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/fs.h>

#define NR_PAGES	16
#define FILE_LEN	(NR_PAGES * SZ_4K)

/* pread page @pg of @fd and compare it with pattern page @pgno/@salt. */
static bool pread_is(int fd, size_t pg, size_t pgno, unsigned int salt)
{
	uint32_t buf[SZ_4K / sizeof(uint32_t)];

	if (pread(fd, buf, SZ_4K, pg * SZ_4K) != (ssize_t)SZ_4K)
		return false;
	return lab_page_is(buf, pgno, salt);
}

/* Fault a page in for reading only, so a shared extent stays shared. */
static void read_touch(const char *p)
{
	(void)*(const volatile char *)p;
}

/* Idle on either kernel: nothing maps it and nothing but the base ref. */
static bool page_idle(const struct lab_page_info *i)
{
	return i->refcount <= 1 && i->mapcount <= 0 && i->folio_mapcount <= 0;
}

static void close_and_unlink(int fd, const char *path)
{
	if (fd >= 0) {
		close(fd);
		unlink(path);
	}
}

FIXTURE(reflink) {
	int probe;
	int src, dst;
	char src_path[PATH_MAX], dst_path[PATH_MAX];
	char *ms, *md;		/* mappings of src and dst */
	pid_t worker;
};

FIXTURE_SETUP(reflink)
{
	const struct lab_dax xfs = LAB_XFS;
	int ret;

	self->probe = self->src = self->dst = -1;
	self->ms = self->md = MAP_FAILED;
	self->worker = -1;
	LAB_REQUIRE_ENV("LAB_XFS_DIR");
	self->probe = lab_probe_open();
	ASSERT_LE(0, self->probe)
		TH_LOG("cannot open %s: %s (lab_probe not loaded?)", LAB_PROBE_PATH, strerror(errno));

	self->src = lab_dax_open(&xfs, "reflink-src", FILE_LEN,
				 self->src_path, sizeof(self->src_path));
	ASSERT_LE(0, self->src) TH_LOG("create %s: %s", self->src_path, strerror(errno));
	ASSERT_TRUE(lab_fd_is_dax(self->src))
		TH_LOG("%s is not a DAX file (statx has no STATX_ATTR_DAX)", self->src_path);
	ret = lab_write_pattern(self->src, NR_PAGES, 1);
	ASSERT_EQ(0, ret) TH_LOG("write %s: %s", self->src_path, strerror(-ret));

	snprintf(self->dst_path, sizeof(self->dst_path), "%s/reflink-dst.%d",
		 lab_env("LAB_XFS_DIR"), getpid());
	self->dst = open(self->dst_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, self->dst) TH_LOG("create %s: %s", self->dst_path, strerror(errno));
	ASSERT_TRUE(lab_fd_is_dax(self->dst)) TH_LOG("%s is not a DAX file", self->dst_path);
}

FIXTURE_TEARDOWN(reflink)
{
	if (self->worker > 0) {
		kill(self->worker, SIGKILL);
		waitpid(self->worker, NULL, 0);
	}
	if (self->ms != MAP_FAILED)
		munmap(self->ms, FILE_LEN);
	if (self->md != MAP_FAILED)
		munmap(self->md, FILE_LEN);
	close_and_unlink(self->src, self->src_path);
	close_and_unlink(self->dst, self->dst_path);
	if (self->probe >= 0)
		close(self->probe);
}

/* Clone all of src into dst; skip if this xfs cannot reflink DAX files. */
#define CLONE_OR_SKIP()							\
	do {								\
		if (ioctl(self->dst, FICLONE, self->src)) {		\
			if (errno == EOPNOTSUPP)			\
				SKIP(return, "xfs reflink+dax not supported: FICLONE returned EOPNOTSUPP"); \
			ASSERT_EQ(0, errno)				\
				TH_LOG("FICLONE %s -> %s: %s", self->src_path, \
				       self->dst_path, strerror(errno)); \
		}							\
	} while (0)

static void map_both(struct __test_metadata *_metadata, FIXTURE_DATA(reflink) *self)
{
	self->ms = lab_map(self->src, FILE_LEN, SZ_4K, 0);
	ASSERT_NE(MAP_FAILED, self->ms) TH_LOG("mmap src: %s", strerror(errno));
	self->md = lab_map(self->dst, FILE_LEN, SZ_4K, 0);
	ASSERT_NE(MAP_FAILED, self->md) TH_LOG("mmap dst: %s", strerror(errno));
}

static void info_at(struct __test_metadata *_metadata, FIXTURE_DATA(reflink) *self,
		    const char *addr, const char *what, struct lab_page_info *info)
{
	int ret = lab_info_addr(self->probe, addr, info);

	ASSERT_EQ(0, ret) TH_LOG("probe %s: %s", what, strerror(-ret));
	ASSERT_TRUE(!!(info->flags & LAB_PAGE_PRESENT)) TH_LOG("%s is not mapped", what);
	ASSERT_EQ((unsigned int)LAB_PGMAP_FS_DAX, info->pgmap_type)
		TH_LOG("%s is not FS DAX memory (pgmap type %u)", what, info->pgmap_type);
}

static void check_idle(struct __test_metadata *_metadata, FIXTURE_DATA(reflink) *self,
		       uint64_t pfn, const char *what)
{
	struct lab_page_info info;
	struct lab_scan scan;
	int ret;

	ret = lab_info_pfn(self->probe, pfn, &info);
	ASSERT_EQ(0, ret) TH_LOG("probe pfn %#llx: %s", (unsigned long long)pfn, strerror(-ret));
	ASSERT_TRUE(page_idle(&info))
		TH_LOG("%s (pfn %#llx) is not idle after unmapping: refcount %d mapcount %d folio mapcount %d",
		       what, (unsigned long long)pfn, info.refcount, info.mapcount,
		       info.folio_mapcount);
	ret = lab_scan(self->probe, pfn, &scan);
	ASSERT_EQ(0, ret) TH_LOG("probe scan: %s", strerror(-ret));
	ASSERT_EQ(0ULL, scan.nr_busy)
		TH_LOG("%llu of %llu pages of the xfs namespace busy after unmapping, first pfn %#llx refcount %d mapcount %d",
		       (unsigned long long)scan.nr_busy, (unsigned long long)scan.nr_pages,
		       (unsigned long long)scan.first_busy_pfn,
		       scan.first_busy_refcount, scan.first_busy_mapcount);
}

/*
 * Both clones map the same page read-only; a write through dst copies it
 * to a new page; src keeps the old page and its data.
 */
TEST_F(reflink, clone_shares_page_and_write_copies)
{
	struct lab_page_info is, id, is2, id2;
	char buf[SZ_4K];
	size_t pg, k = 5;

	CLONE_OR_SKIP();
	for (pg = 0; pg < NR_PAGES; pg++)
		ASSERT_TRUE(pread_is(self->dst, pg, pg, 1))
			TH_LOG("clone page %zu differs from the source (pread)", pg);
	map_both(_metadata, self);
	read_touch(self->ms + k * SZ_4K);
	read_touch(self->md + k * SZ_4K);
	info_at(_metadata, self, self->ms + k * SZ_4K, "src page", &is);
	info_at(_metadata, self, self->md + k * SZ_4K, "dst page", &id);
	ASSERT_EQ(is.pfn, id.pfn)
		TH_LOG("the clones map different pages (%#llx, %#llx) for a shared block",
		       (unsigned long long)is.pfn, (unsigned long long)id.pfn);
	ASSERT_FALSE(!!(is.flags & LAB_PAGE_WRITABLE))
		TH_LOG("shared page is mapped writable in src: a write would not copy");
	ASSERT_FALSE(!!(id.flags & LAB_PAGE_WRITABLE))
		TH_LOG("shared page is mapped writable in dst: a write would not copy");
	ASSERT_TRUE(lab_page_is(self->ms + k * SZ_4K, k, 1));
	ASSERT_TRUE(lab_page_is(self->md + k * SZ_4K, k, 1));

	/* Copy on write through dst. */
	lab_fill_page(buf, k, 9);
	memcpy(self->md + k * SZ_4K, buf, SZ_4K);
	info_at(_metadata, self, self->md + k * SZ_4K, "dst page after write", &id2);
	info_at(_metadata, self, self->ms + k * SZ_4K, "src page after write", &is2);
	ASSERT_NE(is.pfn, id2.pfn)
		TH_LOG("write through dst did not move dst to a new page (still pfn %#llx)",
		       (unsigned long long)id2.pfn);
	ASSERT_EQ(is.pfn, is2.pfn) TH_LOG("write through dst moved src to another page");
	ASSERT_TRUE(!!(id2.flags & LAB_PAGE_WRITABLE))
		TH_LOG("dst page is not writable after the copy on write");

	ASSERT_TRUE(lab_page_is(self->ms + k * SZ_4K, k, 1))
		TH_LOG("write through dst changed src (mapping)");
	ASSERT_TRUE(pread_is(self->src, k, k, 1)) TH_LOG("write through dst changed src (pread)");
	ASSERT_TRUE(lab_page_is(self->md + k * SZ_4K, k, 9)) TH_LOG("dst lost its write (mapping)");
	ASSERT_EQ(0, msync(self->md, FILE_LEN, MS_SYNC));
	ASSERT_TRUE(pread_is(self->dst, k, k, 9)) TH_LOG("dst lost its write (pread)");
	for (pg = 0; pg < NR_PAGES; pg++) {
		if (pg == k)
			continue;
		ASSERT_TRUE(pread_is(self->dst, pg, pg, 1))
			TH_LOG("dst page %zu changed by the write to page %zu", pg, k);
		ASSERT_TRUE(pread_is(self->src, pg, pg, 1))
			TH_LOG("src page %zu changed by the write to dst page %zu", pg, k);
	}

	ASSERT_EQ(0, munmap(self->ms, FILE_LEN));
	self->ms = MAP_FAILED;
	ASSERT_EQ(0, munmap(self->md, FILE_LEN));
	self->md = MAP_FAILED;
	check_idle(_metadata, self, is.pfn, "the formerly shared page");
	check_idle(_metadata, self, id2.pfn, "dst's copied page");
}

/*
 * FICLONERANGE of one page: only that page is shared.  Then a write
 * through the source copies, and the clone keeps the old data.
 */
TEST_F(reflink, clone_range_shares_one_page)
{
	struct file_clone_range fcr = {
		.src_fd = self->src,
		.src_offset = 3 * SZ_4K,
		.src_length = SZ_4K,
		.dest_offset = 9 * SZ_4K,
	};
	struct lab_page_info is[NR_PAGES], id[NR_PAGES], after;
	char buf[SZ_4K];
	size_t pg, i;
	int ret;

	ret = lab_write_pattern(self->dst, NR_PAGES, 2);
	ASSERT_EQ(0, ret) TH_LOG("write dst: %s", strerror(-ret));
	if (ioctl(self->dst, FICLONERANGE, &fcr)) {
		if (errno == EOPNOTSUPP)
			SKIP(return, "xfs reflink+dax not supported: FICLONERANGE returned EOPNOTSUPP");
		ASSERT_EQ(0, errno) TH_LOG("FICLONERANGE: %s", strerror(errno));
	}
	map_both(_metadata, self);
	for (pg = 0; pg < NR_PAGES; pg++) {
		read_touch(self->ms + pg * SZ_4K);
		read_touch(self->md + pg * SZ_4K);
		info_at(_metadata, self, self->ms + pg * SZ_4K, "src page", &is[pg]);
		info_at(_metadata, self, self->md + pg * SZ_4K, "dst page", &id[pg]);
	}
	ASSERT_EQ(is[3].pfn, id[9].pfn)
		TH_LOG("cloned page: src page 3 pfn %#llx, dst page 9 pfn %#llx",
		       (unsigned long long)is[3].pfn, (unsigned long long)id[9].pfn);
	for (pg = 0; pg < NR_PAGES; pg++) {
		for (i = 0; i < NR_PAGES; i++) {
			if (pg == 9 && i == 3)
				continue;
			ASSERT_NE(is[i].pfn, id[pg].pfn)
				TH_LOG("dst page %zu shares pfn %#llx with src page %zu but only page 3 -> 9 was cloned",
				       pg, (unsigned long long)id[pg].pfn, i);
		}
	}
	ASSERT_TRUE(lab_page_is(self->md + 9 * SZ_4K, 3, 1)) TH_LOG("dst page 9 is not src page 3");
	ASSERT_TRUE(lab_page_is(self->md + 8 * SZ_4K, 8, 2)) TH_LOG("dst page 8 changed");
	ASSERT_TRUE(lab_page_is(self->md + 10 * SZ_4K, 10, 2)) TH_LOG("dst page 10 changed");

	/* Copy on write through the source this time. */
	lab_fill_page(buf, 3, 7);
	memcpy(self->ms + 3 * SZ_4K, buf, SZ_4K);
	info_at(_metadata, self, self->ms + 3 * SZ_4K, "src page 3 after write", &after);
	ASSERT_NE(is[3].pfn, after.pfn) TH_LOG("write through src did not copy the shared page");
	info_at(_metadata, self, self->md + 9 * SZ_4K, "dst page 9 after write", &after);
	ASSERT_EQ(id[9].pfn, after.pfn) TH_LOG("write through src moved dst's page");
	ASSERT_TRUE(lab_page_is(self->md + 9 * SZ_4K, 3, 1))
		TH_LOG("write through src page 3 changed dst page 9 (mapping)");
	ASSERT_TRUE(pread_is(self->dst, 9, 3, 1))
		TH_LOG("write through src page 3 changed dst page 9 (pread)");
	ASSERT_EQ(0, msync(self->ms, FILE_LEN, MS_SYNC));
	ASSERT_TRUE(pread_is(self->src, 3, 3, 7)) TH_LOG("src lost its write");

	ASSERT_EQ(0, munmap(self->ms, FILE_LEN));
	self->ms = MAP_FAILED;
	ASSERT_EQ(0, munmap(self->md, FILE_LEN));
	self->md = MAP_FAILED;
	check_idle(_metadata, self, id[9].pfn, "the formerly shared page");
}

/*
 * write() into a shared extent that src maps: xfs copies the block, the
 * write lands in the copy, and the mapping must show the copy.  The page
 * src maps afterwards has to belong to src (the DAX entry that truncate
 * and writeback go by), not be mapped beside an entry left over for the
 * old shared page.  Write @len bytes at @off into page @k, with the old
 * page pinned meanwhile if @pin.
 */
static void write_to_mapped_clone(struct __test_metadata *_metadata,
				  FIXTURE_DATA(reflink) *self, size_t k,
				  size_t off, size_t len, bool pin)
{
	struct lab_page_info before, after;
	char buf[SZ_4K], want[SZ_4K];
	int id = -1;
	ssize_t ret;

	read_touch(self->ms + k * SZ_4K);
	info_at(_metadata, self, self->ms + k * SZ_4K, "src page", &before);
	ASSERT_TRUE(!!(before.flags & LAB_PAGE_DAX_SHARED))
		TH_LOG("src page %zu of a cloned file is not marked shared (flags %#x)",
		       k, before.flags);
	if (pin) {
		id = lab_hold(self->probe, self->ms + k * SZ_4K, SZ_4K, LAB_HOLD_PIN);
		ASSERT_LE(0, id) TH_LOG("pin src page %zu: %s", k, strerror(-id));
	}

	lab_fill_page(buf, k, 9);
	lab_fill_page(want, k, 1);
	memcpy(want + off, buf + off, len);
	ret = pwrite(self->src, buf + off, len, k * SZ_4K + off);
	if (pin)
		EXPECT_EQ(0, lab_release(self->probe, id));
	ASSERT_EQ((ssize_t)len, ret)
		TH_LOG("pwrite of %zu bytes into page %zu: %s", len, k, strerror(errno));

	ASSERT_EQ(0, memcmp(self->ms + k * SZ_4K, want, SZ_4K))
		TH_LOG("src page %zu through the mapping is not what was written (%zu bytes at %zu)",
		       k, len, off);
	info_at(_metadata, self, self->ms + k * SZ_4K, "src page after write", &after);
	ASSERT_NE(before.pfn, after.pfn)
		TH_LOG("src page %zu still maps the shared pfn %#llx after a write",
		       k, (unsigned long long)before.pfn);
	EXPECT_TRUE(!!(after.flags & LAB_PAGE_DAX_OWNED))
		TH_LOG("src page %zu (pfn %#llx) is mapped but does not belong to src (flags %#x): its DAX entry is still the old shared page's",
		       k, (unsigned long long)after.pfn, after.flags);
	ASSERT_TRUE(pread_is(self->dst, k, k, 1))
		TH_LOG("the write to src page %zu changed dst", k);
}

/* A whole page, and part of one (which copies the rest around it). */
TEST_F(reflink, write_to_mapped_clone_maps_owned_page)
{
	CLONE_OR_SKIP();
	map_both(_metadata, self);
	write_to_mapped_clone(_metadata, self, 4, 0, SZ_4K, false);
	write_to_mapped_clone(_metadata, self, 11, 100, 200, false);
}

/* The pin keeps the old page, not src's entry for it. */
TEST_F(reflink, write_to_pinned_clone_page_maps_owned_page)
{
	if (!strcmp(lab_kernel(), "baseline"))
		SKIP(return, "not run on the baseline: pinning a reflinked page spins in __get_user_pages() there for good (the page looks anonymous)");
	CLONE_OR_SKIP();
	map_both(_metadata, self);
	write_to_mapped_clone(_metadata, self, 13, 0, SZ_4K, true);
}

/*
 * Truncating one clone while the other still maps the shared pages: the
 * pages stay in use by dst, so the truncate must neither free them nor
 * wait for dst to go away; dst keeps its data and its pages.
 */
TEST_F_TIMEOUT(reflink, truncate_clone_while_other_mapped, 60)
{
	struct lab_page_info before[NR_PAGES], after;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int status = 0, waited = 0;
	bool done = false;
	size_t pg;
	pid_t r;

	CLONE_OR_SKIP();
	map_both(_metadata, self);
	for (pg = 0; pg < NR_PAGES; pg++) {
		read_touch(self->ms + pg * SZ_4K);
		read_touch(self->md + pg * SZ_4K);
		info_at(_metadata, self, self->md + pg * SZ_4K, "dst page", &before[pg]);
	}
	/* src has DAX entries for the shared pages, but no mapping now. */
	ASSERT_EQ(0, munmap(self->ms, FILE_LEN));
	self->ms = MAP_FAILED;

	self->worker = fork();
	ASSERT_LE(0, self->worker);
	if (self->worker == 0) {
		close(self->probe);
		_exit(ftruncate(self->src, 0) ? errno : 0);
	}
	while (waited < 15000) {
		r = waitpid(self->worker, &status, WNOHANG);
		if (r == self->worker) {
			done = true;
			break;
		}
		nanosleep(&tick, NULL);
		waited += 10;
	}
	if (!done) {
		/* Let a truncate that waits for dst's mapping finish. */
		munmap(self->md, FILE_LEN);
		self->md = MAP_FAILED;
	}
	ASSERT_TRUE(done)
		TH_LOG("truncate of src did not complete in 15 s while dst (not src) mapped the shared pages");
	self->worker = -1;
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("ftruncate(src, 0) failed: status %#x", status);

	for (pg = 0; pg < NR_PAGES; pg++) {
		ASSERT_TRUE(lab_page_is(self->md + pg * SZ_4K, pg, 1))
			TH_LOG("dst page %zu changed when src was truncated (mapping)", pg);
		ASSERT_TRUE(pread_is(self->dst, pg, pg, 1))
			TH_LOG("dst page %zu changed when src was truncated (pread)", pg);
		info_at(_metadata, self, self->md + pg * SZ_4K, "dst page", &after);
		ASSERT_EQ(before[pg].pfn, after.pfn)
			TH_LOG("dst page %zu moved from pfn %#llx to %#llx", pg,
			       (unsigned long long)before[pg].pfn,
			       (unsigned long long)after.pfn);
	}
	ASSERT_EQ(0, munmap(self->md, FILE_LEN));
	self->md = MAP_FAILED;
	check_idle(_metadata, self, before[0].pfn, "dst's page");
}

/*
 * Contract: a page shared by two clones and mapped through both holds one
 * mapcount and one reference per mapping, and both go back when the
 * mappings go.
 */
TEST_F(reflink, contract_shared_page_mapcount)
{
	struct lab_page_info both, one, none;
	size_t k = 5;
	int ret;

	CLONE_OR_SKIP();
	map_both(_metadata, self);
	read_touch(self->ms + k * SZ_4K);
	read_touch(self->md + k * SZ_4K);
	info_at(_metadata, self, self->ms + k * SZ_4K, "src page", &both);
	info_at(_metadata, self, self->md + k * SZ_4K, "dst page", &one);
	ASSERT_EQ(both.pfn, one.pfn) TH_LOG("the clones do not share the page");

	EXPECT_EQ(2, both.folio_mapcount)
		TH_LOG("page shared by two reflinked files and mapped by both has mapcount %d, expected 2",
		       both.folio_mapcount);
	EXPECT_EQ(2, both.folio_refcount)
		TH_LOG("page shared by two reflinked files and mapped by both has refcount %d, expected 2",
		       both.folio_refcount);

	ASSERT_EQ(0, munmap(self->md, FILE_LEN));
	self->md = MAP_FAILED;
	ret = lab_info_pfn(self->probe, both.pfn, &one);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(1, one.folio_mapcount)
		TH_LOG("shared page still mapped by src only has mapcount %d, expected 1",
		       one.folio_mapcount);
	EXPECT_EQ(1, one.folio_refcount)
		TH_LOG("shared page still mapped by src only has refcount %d, expected 1",
		       one.folio_refcount);

	ASSERT_EQ(0, munmap(self->ms, FILE_LEN));
	self->ms = MAP_FAILED;
	ret = lab_info_pfn(self->probe, both.pfn, &none);
	ASSERT_EQ(0, ret);
	EXPECT_EQ(0, none.folio_mapcount);
	ASSERT_EQ(0, none.refcount)
		TH_LOG("unmapped shared FS DAX page has refcount %d, expected 0", none.refcount);
}

/*
 * A 4K fault in the range of a PMD entry of a reflinked (shared) extent,
 * through a second mapping of the file that is not PMD aligned.  The
 * fault must not put a 4K entry in the PMD entry's slots: the entry would
 * still cover 512 indices but be removed as one page, leaving
 * mapping->nrpages behind, and clear_inode() BUGs on that when the file
 * is evicted.  Checked for a read fault, which maps a page of the PMD
 * entry's folio, and for a write fault, which copies the page to a new
 * block.
 */
#define SHARED_PMD_LEN	SZ_2M

/*
 * Create @src, @len bytes of the test pattern @salt on xfs, and @dst, a
 * clone of it (paths of PATH_MAX bytes).  Returns false if this xfs cannot
 * reflink DAX files; fails the test on any other error.
 */
static bool make_clone(struct __test_metadata *_metadata, const char *tag,
		       size_t len, unsigned int salt, int *src, char *src_path,
		       int *dst, char *dst_path)
{
	const struct lab_dax xfs = LAB_XFS;
	char name[64];
	int ret;

	snprintf(name, sizeof(name), "%s-src", tag);
	*src = lab_dax_open(&xfs, name, len, src_path, PATH_MAX);
	ASSERT_LE(0, *src) TH_LOG("create %s: %s", src_path, strerror(errno));
	ret = lab_write_pattern(*src, len / SZ_4K, salt);
	ASSERT_EQ(0, ret) TH_LOG("write %s: %s", src_path, strerror(-ret));
	snprintf(dst_path, PATH_MAX, "%s/%s-dst.%d", lab_env("LAB_XFS_DIR"), tag, getpid());
	*dst = open(dst_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, *dst) TH_LOG("create %s: %s", dst_path, strerror(errno));
	if (ioctl(*dst, FICLONE, *src)) {
		if (errno == EOPNOTSUPP)
			return false;
		ASSERT_EQ(0, errno) TH_LOG("FICLONE: %s", strerror(errno));
	}
	return true;
}


FIXTURE(shared_pmd) {
	int probe;
	int src, dst;
	char src_path[PATH_MAX], dst_path[PATH_MAX];
	char *pmd_map, *pte_map;	/* PMD aligned, and 4K past it */
};

FIXTURE_SETUP(shared_pmd)
{
	self->probe = self->src = self->dst = -1;
	self->pmd_map = self->pte_map = MAP_FAILED;
	LAB_REQUIRE_ENV("LAB_XFS_DIR");
	if (!strcmp(lab_kernel(), "baseline"))
		SKIP(return, "not run on the baseline: it has the bug, which can't be undone and makes the next unmount BUG");
	self->probe = lab_probe_open();
	ASSERT_LE(0, self->probe)
		TH_LOG("cannot open %s: %s (lab_probe not loaded?)", LAB_PROBE_PATH, strerror(errno));

	if (!make_clone(_metadata, "shared-pmd", SHARED_PMD_LEN, 3, &self->src,
			self->src_path, &self->dst, self->dst_path))
		SKIP(return, "xfs reflink+dax not supported: FICLONE returned EOPNOTSUPP");
}

FIXTURE_TEARDOWN(shared_pmd)
{
	if (self->pmd_map != MAP_FAILED)
		munmap(self->pmd_map, SHARED_PMD_LEN);
	if (self->pte_map != MAP_FAILED)
		munmap(self->pte_map, SHARED_PMD_LEN);
	close_and_unlink(self->src, self->src_path);
	close_and_unlink(self->dst, self->dst_path);
	if (self->probe >= 0)
		close(self->probe);
}

/* Every entry of src as large as its slots, and nrpages their sum. */
static void check_entries(struct __test_metadata *_metadata,
			  FIXTURE_DATA(shared_pmd) *self, const char *after)
{
	struct lab_dax_entries de;
	int ret = lab_dax_entries(self->probe, self->src, &de);

	ASSERT_EQ(0, ret) TH_LOG("probe entries: %s", strerror(-ret));
	EXPECT_EQ(0U, de.nr_not_dax);
	ASSERT_EQ(0U, de.nr_mismatched)
		TH_LOG("after %s: %u of %u DAX entries have a size other than their slots (%llu pages claimed, %llu indices)",
		       after, de.nr_mismatched, de.nr_entries,
		       (unsigned long long)de.nr_claimed,
		       (unsigned long long)de.nr_indices);
	ASSERT_EQ(de.nr_claimed, de.nrpages)
		TH_LOG("after %s: nrpages is %llu, the entries hold %llu pages",
		       after, (unsigned long long)de.nrpages,
		       (unsigned long long)de.nr_claimed);
}

static void map_pmd_then_pte(struct __test_metadata *_metadata,
			     FIXTURE_DATA(shared_pmd) *self)
{
	struct lab_page_info info;
	char *hint;
	int ret;

	self->pmd_map = lab_map(self->src, SHARED_PMD_LEN, SZ_2M, 0);
	ASSERT_NE(MAP_FAILED, self->pmd_map) TH_LOG("mmap src: %s", strerror(errno));
	read_touch(self->pmd_map);
	ret = lab_info_addr(self->probe, self->pmd_map, &info);
	ASSERT_EQ(0, ret) TH_LOG("probe: %s", strerror(-ret));
	ASSERT_EQ((unsigned int)LAB_LEVEL_PMD, info.level)
		TH_LOG("a read fault of a shared 2M extent at a 2M-aligned address was not PMD mapped (level %u)",
		       info.level);
	check_entries(_metadata, self, "a PMD fault");

	/* Same file range, mapped 4K off the PMD alignment: PTE faults only. */
	hint = lab_aligned_hint(SHARED_PMD_LEN + SZ_4K, SZ_2M);
	ASSERT_NE(NULL, hint);
	self->pte_map = mmap(hint + SZ_4K, SHARED_PMD_LEN, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_FIXED, self->src, 0);
	ASSERT_NE(MAP_FAILED, self->pte_map) TH_LOG("mmap src: %s", strerror(errno));
}

TEST_F(shared_pmd, read_fault_keeps_entry)
{
	struct lab_page_info pmd, pte;
	size_t k = 5;
	int ret;

	map_pmd_then_pte(_metadata, self);
	read_touch(self->pte_map + k * SZ_4K);
	ret = lab_info_addr(self->probe, self->pte_map + k * SZ_4K, &pte);
	ASSERT_EQ(0, ret);
	ASSERT_EQ((unsigned int)LAB_LEVEL_PTE, pte.level);
	check_entries(_metadata, self, "a 4K read fault under the PMD entry");

	ret = lab_info_addr(self->probe, self->pmd_map + k * SZ_4K, &pmd);
	ASSERT_EQ(0, ret);
	if (pmd.flags & LAB_PAGE_PRESENT)
		EXPECT_EQ(pmd.pfn, pte.pfn) TH_LOG("the two mappings of src map different pages");
	EXPECT_TRUE(lab_page_is(self->pte_map + k * SZ_4K, k, 3));
	EXPECT_TRUE(lab_page_is(self->pmd_map + k * SZ_4K, k, 3));
}

TEST_F(shared_pmd, write_fault_copies_page)
{
	uint32_t buf[SZ_4K / sizeof(uint32_t)];
	size_t k = 7;

	map_pmd_then_pte(_metadata, self);
	self->pte_map[k * SZ_4K] ^= 0x5a;
	check_entries(_metadata, self, "a 4K write fault under the PMD entry");

	/* src sees the write through both mappings, dst keeps the old data. */
	EXPECT_EQ(self->pte_map[k * SZ_4K], self->pmd_map[k * SZ_4K]);
	self->pte_map[k * SZ_4K] ^= 0x5a;
	EXPECT_TRUE(lab_page_is(self->pmd_map + k * SZ_4K, k, 3));
	ASSERT_EQ((ssize_t)SZ_4K, pread(self->dst, buf, SZ_4K, k * SZ_4K));
	EXPECT_TRUE(lab_page_is(buf, k, 3)) TH_LOG("the write through src changed dst");
	EXPECT_TRUE(lab_page_is(self->pmd_map + (k + 1) * SZ_4K, k + 1, 3));
	check_entries(_metadata, self, "reading through both mappings");
}

/*
 * The copy on write of a page under a PMD entry while another page of the
 * entry's folio is pinned.  The folio can't be split under the pin; the
 * copy must still get a DAX entry of its own (else writeback and truncate
 * don't see it), and the entries must stay consistent through the write,
 * a later 4K fault of another page, and the release of the pin.
 */
TEST_F(shared_pmd, write_fault_with_folio_pinned)
{
	struct lab_page_info info;
	size_t k = 7, r = 9;
	int id, ret;

	map_pmd_then_pte(_metadata, self);
	id = lab_hold(self->probe, self->pmd_map, SZ_4K, LAB_HOLD_PIN);
	ASSERT_LE(0, id) TH_LOG("pin: %s", strerror(-id));
	self->pte_map[k * SZ_4K] ^= 0x5a;
	check_entries(_metadata, self, "a 4K write fault under a pinned PMD entry");
	/*
	 * The copy has a DAX entry of its own, for writeback and truncate:
	 * only an entry associates a page with a file, and the new block
	 * is src's alone (the association may still count as shared, as the
	 * fault came through a shared extent).
	 */
	ret = lab_info_addr(self->probe, self->pte_map + k * SZ_4K, &info);
	ASSERT_EQ(0, ret) TH_LOG("probe: %s", strerror(-ret));
	EXPECT_TRUE(!!(info.flags & (LAB_PAGE_DAX_OWNED | LAB_PAGE_DAX_SHARED)))
		TH_LOG("the copied page (pfn %#llx) is mapped without a DAX entry (flags %#x)",
		       (unsigned long long)info.pfn, info.flags);
	EXPECT_TRUE(lab_page_is(self->pte_map + r * SZ_4K, r, 3));
	check_entries(_metadata, self, "a 4K read fault after it");
	ret = lab_release(self->probe, id);
	ASSERT_EQ(0, ret) TH_LOG("release: %s", strerror(-ret));
	EXPECT_EQ(self->pte_map[k * SZ_4K], self->pmd_map[k * SZ_4K]);
	EXPECT_TRUE(lab_page_is(self->pmd_map, 0, 3));
	check_entries(_metadata, self, "the release of the pin");
}

/*
 * A page of src held outside any mapping (a GUP reference, a pin or a
 * pipe buffer) while the layout of src changes and dst, a clone of src,
 * maps the same blocks.  Behavioural, on both kernels: nothing may be
 * lost, and nothing may wait for good.
 */
#define HELD_LEN	SZ_2M

FIXTURE(held_clone) {
	int probe;
	int src, dst;
	char src_path[PATH_MAX], dst_path[PATH_MAX];
	char *ms, *md;		/* mappings of src and dst, HELD_LEN each */
	struct held_ref ref;
	struct worker w;
};

FIXTURE_VARIANT(held_clone) { enum ref_kind kind; };
FIXTURE_VARIANT_ADD(held_clone, get) { .kind = REF_GET };
FIXTURE_VARIANT_ADD(held_clone, pin) { .kind = REF_PIN };
FIXTURE_VARIANT_ADD(held_clone, pipe) { .kind = REF_PIPE };
FIXTURE_VARIANT_ADD(held_clone, zerocopy) { .kind = REF_ZEROCOPY };
FIXTURE_VARIANT_ADD(held_clone, rds_zerocopy) { .kind = REF_RDS_ZEROCOPY };
FIXTURE_VARIANT_ADD(held_clone, tls_record) { .kind = REF_TLS_RECORD };
FIXTURE_VARIANT_ADD(held_clone, fuse_write) { .kind = REF_FUSE_WRITE };

FIXTURE_SETUP(held_clone)
{
	self->probe = self->src = self->dst = -1;
	self->ms = self->md = MAP_FAILED;
	self->w.pid = -1;
	held_ref_init(&self->ref, variant->kind);
	LAB_REQUIRE_ENV("LAB_XFS_DIR");
	if (variant->kind == REF_RDS_ZEROCOPY)
		LAB_REQUIRE(rds_available(), LAB_RDS);
	if (variant->kind == REF_TLS_RECORD)
		LAB_REQUIRE(tls_available(), LAB_TLS);
	if (variant->kind == REF_FUSE_WRITE)
		LAB_REQUIRE(fuse_available(), LAB_FUSE);
	/* FUSE direct I/O pins the pages of the user buffer too. */
	if ((variant->kind == REF_PIN || variant->kind == REF_FUSE_WRITE) &&
	    !strcmp(lab_kernel(), "baseline"))
		SKIP(return, "not run on the baseline: pinning a reflinked page BUGs there (PAGE_MAPPING_DAX_SHARED looks anonymous)");
	self->probe = lab_probe_open();
	ASSERT_LE(0, self->probe)
		TH_LOG("cannot open %s: %s (lab_probe not loaded?)", LAB_PROBE_PATH, strerror(errno));

	if (!make_clone(_metadata, "held", HELD_LEN, 4, &self->src,
			self->src_path, &self->dst, self->dst_path))
		SKIP(return, "xfs reflink+dax not supported: FICLONE returned EOPNOTSUPP");
}

FIXTURE_TEARDOWN(held_clone)
{
	held_ref_cleanup(&self->ref, self->probe);
	if (self->ms != MAP_FAILED)
		munmap(self->ms, HELD_LEN);
	if (self->md != MAP_FAILED)
		munmap(self->md, HELD_LEN);
	worker_reap(&self->w);
	close_and_unlink(self->src, self->src_path);
	close_and_unlink(self->dst, self->dst_path);
	if (self->probe >= 0)
		close(self->probe);
}

/* Map dst 4K off the PMD alignment, so its faults are PTE faults. */
static char *map_pte_only(int fd, size_t len)
{
	char *hint = lab_aligned_hint(len + SZ_4K, SZ_2M);

	if (!hint)
		return MAP_FAILED;
	munmap(hint, len + SZ_4K);
	return mmap(hint + SZ_4K, len, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_FIXED, fd, 0);
}

static int do_truncate_to_0(const void *p)
{
	return ftruncate(*(const int *)p, 0) ? errno : 0;
}

/* Truncate @fd to 0 in a worker; it must finish within LIVE_MS. */
static void truncate_finishes(struct __test_metadata *_metadata,
			      FIXTURE_DATA(held_clone) *self, int *fd,
			      const char *what)
{
	self->w = worker_start(do_truncate_to_0, fd, &self->probe, 1);
	ASSERT_LT(0, self->w.pid) TH_LOG("cannot start the truncate worker");
	ASSERT_TRUE(worker_wait(&self->w, LIVE_MS))
		TH_LOG("truncate of %s still waited after %d ms with nothing held (state %c)",
		       what, LIVE_MS, lab_proc_state(self->w.pid));
	ASSERT_EQ(0, self->w.code) TH_LOG("truncate of %s: %s", what, code_str(self->w.code));
}

/*
 * src maps the shared extent with a PMD, page 5 of it is held, and a write
 * to src's first byte copies on write: src's association with the old
 * folio ends while it is held.  dst then faults two of those blocks with
 * PTEs.  The held folio must not be split under its holder (dropping the
 * reference would then underflow a former tail page), the data must stay,
 * and dst's truncate must not wait for a reference that is gone.
 */
TEST_F_TIMEOUT(held_clone, cow_under_held_pmd_then_clone_pte_faults, 120)
{
	uint32_t buf[SZ_4K / sizeof(uint32_t)];
	struct lab_page_info info;
	uint64_t held_pfn;
	int ret;

	self->ms = lab_map(self->src, HELD_LEN, SZ_2M, 0);
	ASSERT_NE(MAP_FAILED, self->ms) TH_LOG("mmap src: %s", strerror(errno));
	read_touch(self->ms);
	ASSERT_EQ(0, lab_info_addr(self->probe, self->ms + 5 * SZ_4K, &info));
	ASSERT_EQ((unsigned int)LAB_LEVEL_PMD, info.level)
		TH_LOG("a read fault of src at a 2M-aligned address was not PMD mapped (level %u)",
		       info.level);
	held_pfn = info.pfn;
	ret = held_ref_take(&self->ref, self->probe, self->ms + 5 * SZ_4K);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", ref_kind_name(variant->kind), strerror(-ret));

	self->ms[0] ^= 0x5a;	/* copy on write of the shared extent */

	self->md = map_pte_only(self->dst, HELD_LEN);
	ASSERT_NE(MAP_FAILED, self->md) TH_LOG("mmap dst: %s", strerror(errno));
	EXPECT_TRUE(lab_page_is(self->md + 3 * SZ_4K, 3, 4)) TH_LOG("dst page 3 changed");
	EXPECT_TRUE(lab_page_is(self->md, 0, 4)) TH_LOG("dst page 0 changed");

	ret = held_ref_drop(&self->ref, self->probe, buf);
	ASSERT_EQ(0, ret) TH_LOG("dropping the %s: %s", ref_kind_name(variant->kind),
				 strerror(-ret));
	if (ref_carries_data(variant->kind))
		EXPECT_TRUE(lab_page_is(buf, 5, 4)) TH_LOG("the %s lost page 5's data",
							   ref_kind_name(variant->kind));
	EXPECT_TRUE(lab_page_is(self->md + 5 * SZ_4K, 5, 4)) TH_LOG("dst page 5 changed");
	EXPECT_TRUE(pread_is(self->dst, 5, 5, 4)) TH_LOG("dst page 5 changed (pread)");

	ASSERT_EQ(0, munmap(self->ms, HELD_LEN));
	self->ms = MAP_FAILED;
	ASSERT_EQ(0, munmap(self->md, HELD_LEN));
	self->md = MAP_FAILED;
	truncate_finishes(_metadata, self, &self->dst, "dst");
	truncate_finishes(_metadata, self, &self->src, "src");
	ASSERT_EQ(0, lab_info_pfn(self->probe, held_pfn, &info));
	EXPECT_TRUE(page_idle(&info))
		TH_LOG("the once held page (pfn %#llx) is not idle after both truncates: refcount %d mapcount %d",
		       (unsigned long long)held_pfn, info.refcount, info.mapcount);
}

/*
 * dst maps the shared pages, page 0 of src is held and src is unmapped
 * (and closed, if @close_src); then @fn runs in a worker.  It must wait
 * while the page is held (if the reference landed on it), and end once
 * the reference goes, although dst still maps the page: the refcount
 * then equals the mapcount, not 0, and no wake-up comes for that.
 */
static void held_clone_op(struct __test_metadata *_metadata,
			  FIXTURE_DATA(held_clone) *self, enum ref_kind kind,
			  bool close_src, work_fn fn, const void *arg,
			  const char *what)
{
	uint32_t buf[SZ_4K / sizeof(uint32_t)];
	struct lab_page_info before, held;
	bool early;
	size_t pg;
	int ret;

	self->md = map_pte_only(self->dst, HELD_LEN);
	ASSERT_NE(MAP_FAILED, self->md) TH_LOG("mmap dst: %s", strerror(errno));
	for (pg = 0; pg < 16; pg++)
		read_touch(self->md + pg * SZ_4K);
	self->ms = map_pte_only(self->src, HELD_LEN);
	ASSERT_NE(MAP_FAILED, self->ms) TH_LOG("mmap src: %s", strerror(errno));
	read_touch(self->ms);
	ASSERT_EQ(0, lab_info_addr(self->probe, self->ms, &before));
	ret = held_ref_take(&self->ref, self->probe, self->ms);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", ref_kind_name(kind), strerror(-ret));
	ASSERT_EQ(0, lab_info_addr(self->probe, self->ms, &held));
	ASSERT_EQ(0, munmap(self->ms, HELD_LEN));
	self->ms = MAP_FAILED;
	if (close_src) {
		ASSERT_EQ(0, close(self->src));
		self->src = -1;
	}

	self->w = worker_start(fn, arg, &self->probe, 1);
	ASSERT_LT(0, self->w.pid) TH_LOG("cannot start the %s worker", what);
	early = worker_wait(&self->w, HELD_MS);
	ret = held_ref_drop(&self->ref, self->probe, buf);
	if (!early)
		worker_wait(&self->w, LIVE_MS);
	ASSERT_EQ(0, ret) TH_LOG("dropping the %s: %s", ref_kind_name(kind),
				 strerror(-ret));
	if (held.folio_refcount > before.folio_refcount)
		EXPECT_FALSE(early)
			TH_LOG("%s returned while page 0 of src was held", what);
	ASSERT_TRUE(self->w.done)
		TH_LOG("%s still waited %d ms after the release, while dst maps the page (state %c)",
		       what, LIVE_MS, lab_proc_state(self->w.pid));
	ASSERT_EQ(0, self->w.code) TH_LOG("%s: %s", what, code_str(self->w.code));
	if (ref_carries_data(kind))
		EXPECT_TRUE(lab_page_is(buf, 0, 4)) TH_LOG("the %s lost page 0's data",
							   ref_kind_name(kind));
	for (pg = 0; pg < 16; pg++)
		ASSERT_TRUE(lab_page_is(self->md + pg * SZ_4K, pg, 4))
			TH_LOG("dst page %zu changed by the %s of src", pg, what);
}

/*
 * Contract: src is truncated, or unlinked so that the worker's unlink
 * evicts it.  The baseline waits for neither: it drops src's entry of
 * the held page (and warns in dax_disassociate_entry()).
 */
TEST_F_TIMEOUT(held_clone, contract_truncate_waits_for_held_page_of_clone, 120)
{
	held_clone_op(_metadata, self, variant->kind, false, do_truncate_to_0,
		      &self->src, "truncate");
}

TEST_F_TIMEOUT(held_clone, contract_evict_waits_for_held_page_of_clone, 120)
{
	held_clone_op(_metadata, self, variant->kind, true, do_unlink,
		      self->src_path, "eviction");
}

TEST_HARNESS_MAIN
