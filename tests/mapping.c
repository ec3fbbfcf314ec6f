// SPDX-License-Identifier: GPL-2.0
/*
 * Operations on DAX mappings: partial munmap and mprotect of PMD and PUD
 * mappings, MAP_PRIVATE copy-on-write after fork, mremap, mlock, and what
 * /proc/self/smaps and /proc/self/pagemap report.  The data must survive
 * and the page counts must return to their idle values.
 *
 * contract_* tests check a rule the series introduces and must fail on
 * the baseline; the others hold on both kernels.
 */
#include "lab_harness.h"

#include <sys/wait.h>

/* Sampled pages: lab_fill() tags 512 pages spread over a mapping. */
static size_t mp_stride(size_t len)
{
	return len / 512 < SZ_4K ? SZ_4K : len / 512;
}

/*
 * One map/fill/unmap cycle of @len bytes at offset 0: leaves @seed data
 * in the backing object and returns, in @idle[i], the idle state of the
 * pfn mapping offset @offs[i] (and that pfn in @pfns[i]).
 */
static void mp_idle_cycle(struct __test_metadata *_metadata, int probe,
			  struct lab_region *r, size_t file_len, size_t len,
			  uint64_t seed, const size_t *offs, int n,
			  uint64_t *pfns, struct lab_page_info *idle)
{
	struct lab_page_info info;
	int i;

	lab_map_or_fail(_metadata, r, "map", file_len, len, 0, len);
	lab_fill(r->addr, len, mp_stride(len), seed);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, lab_info_addr(probe, r->addr + offs[i], &info));
		ASSERT_TRUE(!!(info.flags & LAB_PAGE_ZONE_DEVICE)) {
			TH_LOG("%s: offset %zu not mapped to device memory",
			       r->dax->name, offs[i]);
		}
		pfns[i] = info.pfn;
	}
	ASSERT_EQ(0, lab_region_unmap(r));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, lab_info_pfn(probe, pfns[i], &idle[i]));
		ASSERT_EQ(0, idle[i].mapcount);
	}
}

/*
 * The end of a test: unmap @r and check that the pfns mp_idle_cycle()
 * recorded are back at the idle state it recorded for them.
 */
static void mp_unmap_want_idle(struct __test_metadata *_metadata, int probe,
			       struct lab_region *r, const char *when,
			       const uint64_t *pfns,
			       const struct lab_page_info *idle, int n)
{
	int i;

	ASSERT_EQ(0, lab_region_unmap(r));
	for (i = 0; i < n; i++)
		lab_want_idle(_metadata, probe, r->dax->name, when, pfns[i],
			      &idle[i]);
}

/*
 * First offset in [@off, @off + @len) of @base, a copy of data laid out by
 * lab_fill(@base, ..., @stride, @seed), where a tag is wrong; -1 if none.
 * Unlike lab_check(), offsets count from @base, not from @off.
 */
static long mp_bad(const char *base, size_t off, size_t len, size_t stride,
		   uint64_t seed)
{
	size_t o;

	for (o = off; o < off + len; o += stride)
		if (*(const volatile uint64_t *)(base + o) != lab_word(seed, o))
			return (long)o;
	return -1;
}

/* Data at [@off, @off + @len) of the mapping must be lab_fill(@seed) data. */
static void mp_want_data(struct __test_metadata *_metadata,
			 const struct lab_region *r, size_t off, size_t len,
			 size_t stride, uint64_t seed, const char *when)
{
	long bad = mp_bad(r->addr, off, len, stride, seed);

	ASSERT_EQ(-1, bad) {
		TH_LOG("%s: data at offset %ld lost %s", r->dax->name, bad,
		       when);
	}
}

/* The same check on the file behind an FS DAX region, read with pread. */
static void mp_want_file(struct __test_metadata *_metadata,
			 const struct lab_region *r, size_t off, size_t len,
			 size_t stride, uint64_t seed, const char *when)
{
	char *buf = malloc(off + len);
	long bad;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ((ssize_t)(off + len), pread(r->fd, buf, off + len, 0));
	bad = mp_bad(buf, off, len, stride, seed);
	free(buf);
	ASSERT_EQ(-1, bad) {
		TH_LOG("%s: file data at offset %ld lost %s", r->dax->name,
		       bad, when);
	}
}

/*
 * Map the first @len bytes of the object again, aligned to @align, check
 * that the data lab_fill(@seed) left there is intact and that offset 0 is
 * mapped by an entry of @align's size, whose state goes to @mapped.
 */
static void mp_remap_huge(struct __test_metadata *_metadata, int probe,
			  struct lab_region *r, size_t len, size_t align,
			  uint64_t seed, struct lab_page_info *mapped)
{
	lab_map_or_fail(_metadata, r, "map", len, len, 0, align);
	mp_want_data(_metadata, r, 0, len, mp_stride(len), seed,
		     "across munmap/mmap");
	ASSERT_EQ(0, lab_info_addr(probe, r->addr, mapped));
	lab_want_level(_metadata, r, mapped, lab_level_of(align));
}

/* @info shows the entry @mapped showed: same folio, same counts. */
static void mp_want_same_entry(struct __test_metadata *_metadata,
			       const struct lab_page_info *mapped,
			       const struct lab_page_info *info)
{
	ASSERT_TRUE(!!(info->flags & LAB_PAGE_PRESENT));
	EXPECT_EQ(mapped->level, info->level);
	EXPECT_EQ(mapped->pfn, info->pfn);
	EXPECT_EQ(mapped->folio_refcount, info->folio_refcount);
	EXPECT_EQ(mapped->entire_mapcount, info->entire_mapcount);
}

/* Variants with a huge fault size: xfs and devdax2m (PMD), devdax1g (PUD). */
LAB_REGION_FIXTURE(split);
LAB_VARIANT(split);
LAB_VARIANT_ADD(split, xfs, LAB_XFS);
LAB_VARIANT_ADD(split, devdax2m, LAB_DAX2M);
LAB_VARIANT_ADD(split, devdax1g, LAB_DAX1G);
LAB_REGION_SETUP(split);

/*
 * munmap of the upper half of a PMD/PUD mapping.  FS DAX splits the
 * entry (xfs zaps it and refaults PTEs); device DAX refuses to split a
 * VMA off its alignment (dev_dax_may_split() returns -EINVAL), so the
 * munmap fails and the mapping stays as it was.  Either way the data is
 * intact and the counts return to idle after the full unmap.
 */
TEST_F(split, partial_munmap_of_huge_mapping)
{
	const struct lab_dax *dax = &variant->dax;
	size_t huge = dax->huge, half = huge / 2, stride = mp_stride(huge);
	size_t offs[2] = { 0, half };
	struct lab_page_info idle[2], mapped, info;
	uint64_t seed = lab_seed("partial"), pfns[2];
	int ret;

	mp_idle_cycle(_metadata, self->probe, &self->r, huge, huge, seed,
		      offs, 2, pfns, idle);

	mp_remap_huge(_metadata, self->probe, &self->r, huge, huge, seed,
		      &mapped);
	ASSERT_EQ(pfns[0], mapped.pfn);

	errno = 0;
	ret = munmap(self->r.addr + half, half);
	if (dax->kind == LAB_FSDAX) {
		ASSERT_EQ(0, ret) {
			TH_LOG("%s: munmap of half a %s mapping: %s", dax->name,
			       lab_level_name(mapped.level), strerror(errno));
		}
		/* The lower half refaults, with PTEs now, to the same pages. */
		mp_want_data(_metadata, &self->r, 0, half, stride, seed,
			     "after munmap of the other half");
		ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr, &info));
		ASSERT_TRUE(!!(info.flags & LAB_PAGE_PRESENT));
		EXPECT_EQ(pfns[0], info.pfn);
		EXPECT_EQ((unsigned int)LAB_LEVEL_PTE, info.level) {
			TH_LOG("%s: half a PMD range is mapped at %s level",
			       dax->name, lab_level_name(info.level));
		}
		EXPECT_LE(idle[0].folio_refcount, info.folio_refcount);
		mp_want_file(_metadata, &self->r, 0, huge, stride, seed,
			     "after partial munmap");
	} else {
		ASSERT_EQ(-1, ret) {
			TH_LOG("%s: munmap of half a %s mapping succeeded; dev_dax_may_split() should refuse it",
			       dax->name, lab_level_name(mapped.level));
		}
		ASSERT_EQ(EINVAL, errno);
		/* Nothing changed: same entry, same counts, same data. */
		ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr, &info));
		mp_want_same_entry(_metadata, &mapped, &info);
		EXPECT_EQ(mapped.mapcount, info.mapcount);
		mp_want_data(_metadata, &self->r, 0, huge, stride, seed,
			     "after a refused partial munmap");
	}

	mp_unmap_want_idle(_metadata, self->probe, &self->r, "after munmap",
			   pfns, idle, 2);
}

/*
 * munmap of the second of two PMD/PUD mappings in one VMA: allowed on
 * every variant (the split is on the alignment), the first entry stays
 * as it is and the second one's folio goes back to idle.
 */
TEST_F(split, munmap_at_huge_boundary)
{
	const struct lab_dax *dax = &variant->dax;
	size_t huge = dax->huge, len = 2 * huge, stride = mp_stride(len);
	size_t offs[2] = { 0, huge };
	struct lab_page_info idle[2], mapped, info;
	uint64_t seed = lab_seed("boundary"), pfns[2];
	unsigned long long size;

	if (dax->kind == LAB_DEVDAX) {
		size = lab_devdax_attr(lab_env(dax->env), "size");
		if (size < len)
			SKIP(return, "%s (%s) has %llu bytes, the test needs %zu",
			     dax->name, lab_env(dax->env), size, len);
	}

	mp_idle_cycle(_metadata, self->probe, &self->r, len, len, seed, offs,
		      2, pfns, idle);
	mp_remap_huge(_metadata, self->probe, &self->r, len, huge, seed,
		      &mapped);
	ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr + huge, &info));
	lab_want_level(_metadata, &self->r, &info, lab_level_of(huge));

	ASSERT_EQ(0, munmap(self->r.addr + huge, huge)) {
		TH_LOG("%s: munmap of the second %s: %s", dax->name,
		       lab_level_name(mapped.level), strerror(errno));
	}
	self->r.len = huge;

	/* The first entry was not touched: still there, nothing refaulted. */
	ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr, &info));
	mp_want_same_entry(_metadata, &mapped, &info);
	mp_want_data(_metadata, &self->r, 0, huge, stride, seed,
		     "after munmap of the next entry");
	lab_want_idle(_metadata, self->probe, dax->name,
		      "after munmap of its entry", pfns[1], &idle[1]);

	mp_unmap_want_idle(_metadata, self->probe, &self->r, "after munmap",
			   pfns, idle, 1);
}

/*
 * mprotect(PROT_READ) of the upper half of a PMD/PUD mapping.  xfs
 * splits the VMA and the entry: the upper half refaults read-only, the
 * lower half stays writable.  Device DAX refuses the split with EINVAL
 * and the whole mapping stays writable.
 */
TEST_F(split, mprotect_half_of_huge_mapping)
{
	const struct lab_dax *dax = &variant->dax;
	size_t huge = dax->huge, half = huge / 2, stride = mp_stride(huge);
	size_t offs[2] = { 0, half };
	struct lab_page_info idle[2], mapped, info;
	uint64_t seed = lab_seed("mprotect"), seed2 = ~seed, pfns[2];
	int ret;

	mp_idle_cycle(_metadata, self->probe, &self->r, huge, huge, seed,
		      offs, 2, pfns, idle);
	mp_remap_huge(_metadata, self->probe, &self->r, huge, huge, seed,
		      &mapped);

	errno = 0;
	ret = mprotect(self->r.addr + half, half, PROT_READ);
	if (dax->kind == LAB_FSDAX) {
		ASSERT_EQ(0, ret) {
			TH_LOG("%s: mprotect of half a %s mapping: %s",
			       dax->name, lab_level_name(mapped.level),
			       strerror(errno));
		}
		/* Upper half: readable, same pages, mapped read-only. */
		mp_want_data(_metadata, &self->r, half, half, stride, seed,
			     "after mprotect");
		ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr + half,
					   &info));
		ASSERT_TRUE(!!(info.flags & LAB_PAGE_PRESENT));
		EXPECT_EQ(pfns[1], info.pfn);
		EXPECT_FALSE(!!(info.flags & LAB_PAGE_WRITABLE)) {
			TH_LOG("%s: PROT_READ half is mapped writable",
			       dax->name);
		}
		EXPECT_LE(idle[1].folio_refcount, info.folio_refcount);
		/* Lower half: still writable, to the same pages. */
		lab_fill(self->r.addr, half, stride, seed2);
		ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr, &info));
		ASSERT_TRUE(!!(info.flags & LAB_PAGE_PRESENT));
		EXPECT_EQ(pfns[0], info.pfn);
		EXPECT_TRUE(!!(info.flags & LAB_PAGE_WRITABLE));
		EXPECT_LE(idle[0].folio_refcount, info.folio_refcount);
		mp_want_data(_metadata, &self->r, 0, half, stride, seed2,
			     "after writing the writable half");
	} else {
		ASSERT_EQ(-1, ret) {
			TH_LOG("%s: mprotect of half a %s mapping succeeded; dev_dax_may_split() should refuse it",
			       dax->name, lab_level_name(mapped.level));
		}
		ASSERT_EQ(EINVAL, errno);
		ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr + half,
					   &info));
		EXPECT_EQ(mapped.level, info.level);
		EXPECT_EQ(pfns[1], info.pfn);
		EXPECT_TRUE(!!(info.flags & LAB_PAGE_WRITABLE));
		EXPECT_EQ(mapped.folio_refcount, info.folio_refcount);
		EXPECT_EQ(mapped.entire_mapcount, info.entire_mapcount);
		/* Still writable everywhere: this must not SIGSEGV. */
		lab_fill(self->r.addr, huge, stride, seed2);
		mp_want_data(_metadata, &self->r, 0, huge, stride, seed2,
			     "after a refused mprotect");
	}

	mp_unmap_want_idle(_metadata, self->probe, &self->r, "after munmap",
			   pfns, idle, 2);
	if (dax->kind == LAB_FSDAX) {
		/* The file: new data below, old data above. */
		mp_want_file(_metadata, &self->r, 0, half, stride, seed2,
			     "after writing the writable half");
		mp_want_file(_metadata, &self->r, half, half, stride, seed,
			     "after mprotect");
	}
}

/*
 * mprotect(PROT_READ) and back to PROT_READ|PROT_WRITE of a whole PMD/PUD
 * mapping: the entry is changed in place (change_huge_pmd(),
 * change_huge_pud()), so the same folio stays mapped with the same counts
 * throughout, read-only in between, and a write afterwards reaches it.
 */
TEST_F(split, mprotect_whole_huge_mapping_keeps_counts)
{
	const struct lab_dax *dax = &variant->dax;
	size_t huge = dax->huge, stride = mp_stride(huge);
	size_t offs[1] = { 0 };
	struct lab_page_info idle[1], mapped, info;
	uint64_t seed = lab_seed("mprotect-whole"), seed2 = ~seed, pfns[1];

	mp_idle_cycle(_metadata, self->probe, &self->r, huge, huge, seed,
		      offs, 1, pfns, idle);
	mp_remap_huge(_metadata, self->probe, &self->r, huge, huge, seed,
		      &mapped);
	/* A write fault: FS DAX maps read-only until the first write. */
	lab_fill(self->r.addr, SZ_4K, SZ_4K, seed);
	ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr, &mapped));
	lab_want_level(_metadata, &self->r, &mapped, lab_level_of(huge));
	ASSERT_TRUE(!!(mapped.flags & LAB_PAGE_WRITABLE));

	ASSERT_EQ(0, mprotect(self->r.addr, huge, PROT_READ)) {
		TH_LOG("%s: mprotect(PROT_READ) of a whole %s mapping: %s",
		       dax->name, lab_level_name(mapped.level),
		       strerror(errno));
	}
	ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr, &info));
	mp_want_same_entry(_metadata, &mapped, &info);
	EXPECT_FALSE(!!(info.flags & LAB_PAGE_WRITABLE)) {
		TH_LOG("%s: the %s entry is still writable after PROT_READ",
		       dax->name, lab_level_name(info.level));
	}
	mp_want_data(_metadata, &self->r, 0, huge, stride, seed,
		     "after mprotect(PROT_READ)");

	ASSERT_EQ(0, mprotect(self->r.addr, huge, PROT_READ | PROT_WRITE));
	lab_fill(self->r.addr, huge, stride, seed2);
	ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr, &info));
	ASSERT_TRUE(!!(info.flags & LAB_PAGE_PRESENT));
	EXPECT_EQ(mapped.pfn, info.pfn);
	EXPECT_TRUE(!!(info.flags & LAB_PAGE_WRITABLE));
	EXPECT_EQ(mapped.folio_refcount, info.folio_refcount) {
		TH_LOG("%s folio (pfn %#llx) has refcount %d after PROT_READ and back, %d before",
		       dax->name, (unsigned long long)info.pfn,
		       info.folio_refcount, mapped.folio_refcount);
	}
	EXPECT_EQ(mapped.entire_mapcount, info.entire_mapcount);
	mp_want_data(_metadata, &self->r, 0, huge, stride, seed2,
		     "after writing through the restored mapping");

	mp_unmap_want_idle(_metadata, self->probe, &self->r, "after munmap",
			   pfns, idle, 1);
}

/*
 * MADV_DONTNEED of one 4K page inside a PMD/PUD mapping.  The VMA stays,
 * so the huge entry is split in place, which for a file mapping means it
 * is zapped whole (__split_huge_pmd_locked(), __split_huge_pud_locked()).
 * That zap must give back what the mapping held: the folio is idle right
 * after the madvise, before any munmap, and the range refaults the same
 * pages with the data intact.
 */
TEST_F(split, dontneed_page_of_huge_mapping)
{
	const struct lab_dax *dax = &variant->dax;
	size_t huge = dax->huge, half = huge / 2, stride = mp_stride(huge);
	size_t offs[2] = { 0, half };
	struct lab_page_info idle[2], mapped, info;
	uint64_t seed = lab_seed("dontneed"), pfns[2];

	mp_idle_cycle(_metadata, self->probe, &self->r, huge, huge, seed,
		      offs, 2, pfns, idle);
	mp_remap_huge(_metadata, self->probe, &self->r, huge, huge, seed,
		      &mapped);

	ASSERT_EQ(0, madvise(self->r.addr + half, SZ_4K, MADV_DONTNEED)) {
		TH_LOG("%s: MADV_DONTNEED of a page of a %s mapping: %s",
		       dax->name, lab_level_name(mapped.level),
		       strerror(errno));
	}
	ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr, &info));
	EXPECT_FALSE(!!(info.flags & LAB_PAGE_PRESENT)) {
		TH_LOG("%s: the %s entry survived MADV_DONTNEED of one of its pages",
		       dax->name, lab_level_name(mapped.level));
	}
	lab_want_idle(_metadata, self->probe, dax->name,
		      "after MADV_DONTNEED split its entry", pfns[0], &idle[0]);
	lab_want_idle(_metadata, self->probe, dax->name,
		      "after MADV_DONTNEED split its entry", pfns[1], &idle[1]);

	mp_want_data(_metadata, &self->r, 0, huge, stride, seed,
		     "after MADV_DONTNEED");
	ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr + half, &info));
	ASSERT_TRUE(!!(info.flags & LAB_PAGE_PRESENT));
	EXPECT_EQ(pfns[1], info.pfn);
	EXPECT_LE(idle[1].folio_refcount, info.folio_refcount);

	mp_unmap_want_idle(_metadata, self->probe, &self->r, "after munmap",
			   pfns, idle, 2);
}

/*
 * MADV_COLD and MADV_PAGEOUT, of a whole PMD/PUD mapping and of one page
 * of it.  Without the devmap bit a DAX PMD is pmd_trans_huge(), so these
 * walks now treat it as a THP: they try to split a folio for a partial
 * range and to deactivate or reclaim it.  A DAX folio is on no LRU and
 * can't be split, so all of that must come to nothing: the advice
 * succeeds, the data stays, and the counts return to idle at munmap.
 */
TEST_F(split, cold_and_pageout_leave_dax_folios_alone)
{
	static const struct {
		int advice;
		const char *name;
	} advice[] = {
		{ MADV_COLD, "MADV_COLD" },
		{ MADV_PAGEOUT, "MADV_PAGEOUT" },
	};
	const struct lab_dax *dax = &variant->dax;
	size_t huge = dax->huge, half = huge / 2, stride = mp_stride(huge);
	size_t offs[2] = { 0, half }, lens[2] = { huge, SZ_4K };
	struct lab_page_info idle[2], info;
	uint64_t seed = lab_seed("cold"), pfns[2];
	int a, l;

	mp_idle_cycle(_metadata, self->probe, &self->r, huge, huge, seed,
		      offs, 2, pfns, idle);
	lab_map_or_fail(_metadata, &self->r, "map", huge, huge, 0, huge);

	for (a = 0; a < 2; a++) {
		for (l = 0; l < 2; l++) {
			/* Fault it in again: a PUD walk zaps the entry. */
			mp_want_data(_metadata, &self->r, 0, huge, stride,
				     seed, "before madvise");
			ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr,
						   &info));
			lab_want_level(_metadata, &self->r, &info,
				       lab_level_of(huge));
			ASSERT_EQ(0, madvise(self->r.addr + (l ? half : 0),
					     lens[l], advice[a].advice)) {
				TH_LOG("%s: %s of %zu bytes of a %s mapping: %s",
				       dax->name, advice[a].name, lens[l],
				       lab_level_name(info.level),
				       strerror(errno));
			}
			mp_want_data(_metadata, &self->r, 0, huge, stride,
				     seed, "after MADV_COLD/MADV_PAGEOUT");
			ASSERT_EQ(0, lab_info_addr(self->probe,
						   self->r.addr + half,
						   &info));
			ASSERT_TRUE(!!(info.flags & LAB_PAGE_PRESENT));
			EXPECT_EQ(pfns[1], info.pfn) {
				TH_LOG("%s: %s moved the data to pfn %#llx",
				       dax->name, advice[a].name,
				       (unsigned long long)info.pfn);
			}
		}
	}

	mp_unmap_want_idle(_metadata, self->probe, &self->r,
			   "after MADV_COLD/MADV_PAGEOUT and munmap", pfns, idle,
			   2);
}

/* FS DAX only: device DAX refuses MAP_PRIVATE. */
LAB_REGION_FIXTURE(private_cow);
LAB_FSDAX_VARIANTS(private_cow);
LAB_REGION_SETUP(private_cow);

/*
 * A child that writes to a MAP_PRIVATE FS DAX mapping gets an anonymous
 * copy of the page; the file and the parent's view keep the old data.
 */
TEST_F(private_cow, fork_private_write_gets_anon_copy)
{
	const struct lab_dax *dax = &variant->dax;
	uint64_t seed = lab_seed("private"), seed2 = ~seed;
	struct lab_page_info info;
	struct lab_verdict v;
	char *buf, *hint, *p;
	int up[2], status;
	pid_t pid;

	self->r.fd = lab_dax_open(dax, "private", SZ_2M, self->r.path,
				  sizeof(self->r.path));
	ASSERT_LE(0, self->r.fd) {
		TH_LOG("%s: cannot create %s: %s", dax->name, self->r.path,
		       strerror(errno));
	}
	buf = calloc(1, SZ_2M);
	ASSERT_NE(NULL, buf);
	lab_fill(buf, SZ_2M, SZ_4K, seed);
	ASSERT_EQ((ssize_t)SZ_2M, pwrite(self->r.fd, buf, SZ_2M, 0));

	hint = lab_aligned_hint(SZ_2M, SZ_2M);
	ASSERT_NE(NULL, hint);
	p = mmap(hint, SZ_2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
		 self->r.fd, 0);
	ASSERT_NE(MAP_FAILED, p) {
		munmap(hint, SZ_2M);
		TH_LOG("mmap MAP_PRIVATE: %s", strerror(errno));
	}
	self->r.addr = p;
	self->r.len = SZ_2M;

	/* A read fault maps the pmem page itself. */
	mp_want_data(_metadata, &self->r, 0, SZ_2M, SZ_4K, seed,
		     "in a MAP_PRIVATE mapping");
	ASSERT_EQ(0, lab_info_addr(self->probe, p, &info));
	ASSERT_TRUE(!!(info.flags & LAB_PAGE_ZONE_DEVICE)) {
		TH_LOG("%s: read fault of MAP_PRIVATE mapped pfn %#llx, not pmem",
		       dax->name, (unsigned long long)info.pfn);
	}

	ASSERT_EQ(0, pipe(up));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct lab_page_info ci;
		char page[SZ_4K];

		close(up[0]);
		lab_fill(p, SZ_4K, 8, seed2);
		if (lab_info_addr(self->probe, p, &ci) ||
		    !(ci.flags & LAB_PAGE_PRESENT))
			lab_verdict_send(up[1], 0, 0, "child: page not mapped");
		else if ((ci.flags & LAB_PAGE_ZONE_DEVICE) ||
			 !(ci.flags & LAB_PAGE_ANON) ||
			 ci.pgmap_type != LAB_PGMAP_NONE)
			lab_verdict_send(up[1], 0, 0,
					 "child: written private page pfn %#llx has flags %#x pgmap %u, expected an anonymous RAM page",
					 (unsigned long long)ci.pfn, ci.flags,
					 ci.pgmap_type);
		else if (lab_check(p, SZ_4K, 8, seed2) != -1)
			lab_verdict_send(up[1], 0, 0,
					 "child: its own write is not visible");
		else if (mp_bad(p, SZ_4K, SZ_2M - SZ_4K, SZ_4K, seed) != -1)
			lab_verdict_send(up[1], 0, 0,
					 "child: the page it did not write changed");
		else if (pread(self->r.fd, page, SZ_4K, 0) != SZ_4K ||
			 lab_check(page, SZ_4K, SZ_4K, seed) != -1)
			lab_verdict_send(up[1], 0, 0,
					 "child: its private write reached the file");
		else
			lab_verdict_send(up[1], 1, 0, "child ok");
		_exit(0);
	}
	close(up[1]);
	ASSERT_EQ(0, lab_verdict_recv(up[0], &v)) TH_LOG("%s", v.msg);
	close(up[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(v.ok) TH_LOG("%s: %s", dax->name, v.msg);

	/* The parent still sees the file data, through the pmem page. */
	mp_want_data(_metadata, &self->r, 0, SZ_2M, SZ_4K, seed,
		     "in the parent after the child's private write");
	ASSERT_EQ(0, lab_info_addr(self->probe, p, &info));
	EXPECT_TRUE(!!(info.flags & LAB_PAGE_ZONE_DEVICE));
	EXPECT_FALSE(!!(info.flags & LAB_PAGE_ANON));
	free(buf);
	mp_want_file(_metadata, &self->r, 0, SZ_2M, SZ_4K, seed,
		     "after the child's private write");
}

/* mremap move of PTE and PMD mappings; PUD below. */
LAB_REGION_FIXTURE(remap);
LAB_VARIANT(remap);
LAB_VARIANT_ADD(remap, ext4, LAB_EXT4);
LAB_VARIANT_ADD(remap, xfs, LAB_XFS);
LAB_VARIANT_ADD(remap, devdax4k, LAB_DAX4K);
LAB_VARIANT_ADD(remap, devdax2m, LAB_DAX2M);
LAB_REGION_SETUP(remap);

/*
 * Moving a DAX mapping moves its entries: the new address maps the same
 * pfns at the same level without a fault, the old one maps nothing, the
 * data is there, and munmap brings the pages back to idle.
 */
TEST_F(remap, mremap_move_keeps_pages)
{
	const struct lab_dax *dax = &variant->dax;
	size_t len = lab_span(dax), stride = mp_stride(len);
	size_t offs[3] = { 0, len / 2, len - SZ_4K };
	struct lab_page_info idle[3], before[3], info;
	uint64_t seed = lab_seed("mremap"), pfns[3];
	char *old, *dest, *p;
	int i;

	mp_idle_cycle(_metadata, self->probe, &self->r, len, len, seed, offs,
		      3, pfns, idle);
	lab_map_or_fail(_metadata, &self->r, "map", len, len, 0, len);
	mp_want_data(_metadata, &self->r, 0, len, stride, seed,
		     "across munmap/mmap");
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, lab_info_addr(self->probe,
					   self->r.addr + offs[i], &before[i]));
		ASSERT_EQ(pfns[i], before[i].pfn);
	}

	old = self->r.addr;
	dest = lab_aligned_hint(len, len);
	ASSERT_NE(NULL, dest);
	p = mremap(old, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
	ASSERT_EQ(dest, p) {
		munmap(dest, len);
		TH_LOG("%s: mremap to %p: %s", dax->name, dest,
		       strerror(errno));
	}
	self->r.addr = p;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, lab_info_addr(self->probe, p + offs[i], &info));
		EXPECT_TRUE(!!(info.flags & LAB_PAGE_PRESENT)) {
			TH_LOG("%s: offset %zu is not mapped after the move",
			       dax->name, offs[i]);
		}
		EXPECT_EQ(pfns[i], info.pfn);
		EXPECT_EQ(before[i].level, info.level) {
			TH_LOG("%s: offset %zu mapped at %s level after the move, %s before",
			       dax->name, offs[i], lab_level_name(info.level),
			       lab_level_name(before[i].level));
		}
		EXPECT_EQ(before[i].folio_refcount, info.folio_refcount);
		EXPECT_EQ(before[i].mapcount, info.mapcount);
		ASSERT_EQ(0, lab_info_addr(self->probe, old + offs[i], &info));
		EXPECT_FALSE(!!(info.flags & LAB_PAGE_PRESENT)) {
			TH_LOG("%s: old address of offset %zu still maps pfn %#llx",
			       dax->name, offs[i],
			       (unsigned long long)info.pfn);
		}
	}
	mp_want_data(_metadata, &self->r, 0, len, stride, seed,
		     "after mremap");

	mp_unmap_want_idle(_metadata, self->probe, &self->r,
			   "after munmap of the moved mapping", pfns, idle, 3);
}

/* mremap move of a PUD mapping. */
LAB_REGION_FIXTURE(remap_pud);
LAB_VARIANT(remap_pud);
LAB_VARIANT_ADD(remap_pud, devdax1g, LAB_DAX1G);
LAB_REGION_SETUP(remap_pud);

/*
 * Moving a PUD-mapped device DAX range keeps the data and the counts.
 * 6.12 does not move the PUD: get_old_pud() takes the leaf for a bad
 * table entry, logs "bad pud" and clears it, and the new address
 * refaults.  That is harmless while a mapping holds no reference, but a
 * PUD cleared that way once mappings hold one leaks it, so check that
 * the folio has exactly one mapping's worth after the move and is idle
 * after munmap.  Whether the entry itself was moved is not asserted.
 */
TEST_F(remap_pud, mremap_move_pud_keeps_data_and_counts)
{
	const struct lab_dax *dax = &variant->dax;
	size_t len = SZ_1G, stride = mp_stride(len);
	size_t offs[2] = { 0, len / 2 };
	struct lab_page_info idle[2], before, info;
	uint64_t seed = lab_seed("mremap_pud"), pfns[2];
	char *old, *dest, *p;
	int i;

	mp_idle_cycle(_metadata, self->probe, &self->r, len, len, seed, offs,
		      2, pfns, idle);
	lab_map_or_fail(_metadata, &self->r, "map", len, len, 0, len);
	mp_want_data(_metadata, &self->r, 0, len, stride, seed,
		     "across munmap/mmap");
	ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr, &before));
	lab_want_level(_metadata, &self->r, &before, LAB_LEVEL_PUD);

	old = self->r.addr;
	dest = lab_aligned_hint(len, len);
	ASSERT_NE(NULL, dest);
	p = mremap(old, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dest);
	ASSERT_EQ(dest, p) {
		munmap(dest, len);
		TH_LOG("%s: mremap to %p: %s", dax->name, dest,
		       strerror(errno));
	}
	self->r.addr = p;

	ASSERT_EQ(0, lab_info_addr(self->probe, old, &info));
	EXPECT_FALSE(!!(info.flags & LAB_PAGE_PRESENT)) {
		TH_LOG("%s: old address still maps pfn %#llx", dax->name,
		       (unsigned long long)info.pfn);
	}
	mp_want_data(_metadata, &self->r, 0, len, stride, seed,
		     "after mremap");
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, lab_info_addr(self->probe, p + offs[i], &info));
		ASSERT_TRUE(!!(info.flags & LAB_PAGE_PRESENT));
		EXPECT_EQ(pfns[i], info.pfn);
		EXPECT_EQ((unsigned int)LAB_LEVEL_PUD, info.level);
		EXPECT_EQ(before.folio_refcount, info.folio_refcount) {
			TH_LOG("%s folio (pfn %#llx) has refcount %d after the move, %d before",
			       dax->name, (unsigned long long)info.pfn,
			       info.folio_refcount, before.folio_refcount);
		}
		EXPECT_EQ(before.entire_mapcount, info.entire_mapcount) {
			TH_LOG("%s folio (pfn %#llx) has entire mapcount %d after the move, %d before",
			       dax->name, (unsigned long long)info.pfn,
			       info.entire_mapcount, before.entire_mapcount);
		}
	}

	mp_unmap_want_idle(_metadata, self->probe, &self->r,
			   "after munmap of the moved mapping", pfns, idle, 2);
}

/* mremap grow: FS DAX, where the file has more to show. */
LAB_REGION_FIXTURE(remap_grow);
LAB_FSDAX_VARIANTS(remap_grow);
LAB_REGION_SETUP(remap_grow);

/*
 * Growing a mapping of the first half of a file to the whole file keeps
 * the pages of the first half and maps the file's own pages above.
 */
TEST_F(remap_grow, mremap_grow_keeps_pages)
{
	const struct lab_dax *dax = &variant->dax;
	size_t len = 2 * SZ_2M, stride = mp_stride(len);
	size_t offs[2] = { 0, SZ_2M };
	struct lab_page_info idle[2], info;
	uint64_t seed = lab_seed("grow"), pfns[2];
	char *p;
	int i;

	mp_idle_cycle(_metadata, self->probe, &self->r, len, len, seed, offs,
		      2, pfns, idle);
	lab_map_or_fail(_metadata, &self->r, "map", len, SZ_2M, 0, SZ_2M);
	mp_want_data(_metadata, &self->r, 0, SZ_2M, stride, seed,
		     "across munmap/mmap");

	p = mremap(self->r.addr, SZ_2M, len, MREMAP_MAYMOVE);
	ASSERT_NE(MAP_FAILED, p) {
		TH_LOG("%s: mremap from 2M to 4M: %s", dax->name,
		       strerror(errno));
	}
	self->r.addr = p;
	self->r.len = len;
	mp_want_data(_metadata, &self->r, 0, len, stride, seed,
		     "after growing the mapping");
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, lab_info_addr(self->probe, p + offs[i], &info));
		EXPECT_TRUE(!!(info.flags & LAB_PAGE_PRESENT));
		EXPECT_TRUE(!!(info.flags & LAB_PAGE_ZONE_DEVICE));
		EXPECT_EQ(pfns[i], info.pfn) {
			TH_LOG("%s: offset %zu maps pfn %#llx after mremap, %#llx before",
			       dax->name, offs[i],
			       (unsigned long long)info.pfn,
			       (unsigned long long)pfns[i]);
		}
		EXPECT_LE(idle[i].folio_refcount, info.folio_refcount);
	}

	mp_unmap_want_idle(_metadata, self->probe, &self->r,
			   "after munmap of the grown mapping", pfns, idle, 2);
}

/* mlock of PMD mappings. */
LAB_REGION_FIXTURE(mlock_pmd);
LAB_VARIANT(mlock_pmd);
LAB_VARIANT_ADD(mlock_pmd, xfs, LAB_XFS);
LAB_VARIANT_ADD(mlock_pmd, devdax2m, LAB_DAX2M);
LAB_REGION_SETUP(mlock_pmd);

/*
 * mlock() of a PMD-sized DAX mapping succeeds and populates it with a PMD
 * (DAX VMAs are never VM_LOCKED, but mlock still faults them in);
 * munlock() succeeds and leaves the PMD and the data alone.
 */
TEST_F(mlock_pmd, mlock_munlock_keep_pmd_mapping)
{
	const struct lab_dax *dax = &variant->dax;
	struct lab_page_info idle, locked, info;
	uint64_t seed = lab_seed("mlock"), pfn;
	size_t off = 0;

	mp_idle_cycle(_metadata, self->probe, &self->r, SZ_2M, SZ_2M, seed,
		      &off, 1, &pfn, &idle);
	lab_map_or_fail(_metadata, &self->r, "map", SZ_2M, SZ_2M, 0, SZ_2M);

	ASSERT_EQ(0, mlock(self->r.addr, SZ_2M)) {
		TH_LOG("%s: mlock: %s", dax->name, strerror(errno));
	}
	/* Populated by mlock, before any access of ours. */
	ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr, &locked));
	ASSERT_TRUE(!!(locked.flags & LAB_PAGE_PRESENT)) {
		TH_LOG("%s: mlock did not populate the mapping", dax->name);
	}
	EXPECT_EQ((unsigned int)LAB_LEVEL_PMD, locked.level) {
		TH_LOG("%s: mlock populated a %s entry, expected PMD",
		       dax->name, lab_level_name(locked.level));
	}
	EXPECT_EQ(pfn, locked.pfn);
	EXPECT_LE(idle.folio_refcount, locked.folio_refcount);
	mp_want_data(_metadata, &self->r, 0, SZ_2M, SZ_4K, seed,
		     "after mlock");

	ASSERT_EQ(0, munlock(self->r.addr, SZ_2M)) {
		TH_LOG("%s: munlock: %s", dax->name, strerror(errno));
	}
	ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr, &info));
	ASSERT_TRUE(!!(info.flags & LAB_PAGE_PRESENT));
	EXPECT_EQ(locked.level, info.level);
	EXPECT_EQ(locked.pfn, info.pfn);
	EXPECT_EQ(locked.folio_refcount, info.folio_refcount);
	EXPECT_EQ(locked.entire_mapcount, info.entire_mapcount);
	mp_want_data(_metadata, &self->r, 0, SZ_2M, SZ_4K, seed,
		     "after munlock");

	mp_unmap_want_idle(_metadata, self->probe, &self->r, "after munmap",
			   &pfn, &idle, 1);
}

/*
 * /proc/self/{smaps,pagemap}.  Not devdax1g: a page walk with only a
 * pmd_entry (smaps and pagemap have no pud_entry in 6.12) calls
 * split_huge_pud() on a PUD leaf, which zaps the device DAX PUD, so
 * there is nothing left to report (both kernels).
 */
LAB_REGION_FIXTURE(procfs);
LAB_VARIANT(procfs);
LAB_VARIANT_ADD(procfs, ext4, LAB_EXT4);
LAB_VARIANT_ADD(procfs, xfs, LAB_XFS);
LAB_VARIANT_ADD(procfs, devdax4k, LAB_DAX4K);
LAB_VARIANT_ADD(procfs, devdax2m, LAB_DAX2M);
LAB_REGION_SETUP(procfs);

#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)

/*
 * pagemap reports every touched page of a DAX mapping as present, with
 * the pfn the probe sees in the page table (root sees pfns).
 */
TEST_F(procfs, pagemap_matches_probe_pfns)
{
	const struct lab_dax *dax = &variant->dax;
	unsigned int i, n = SZ_2M / SZ_4K, bad = 0, first = 0;
	uint64_t ent[512], first_ent = 0, first_pfn = 0;
	struct lab_page_info info;
	int fd;

	lab_map_or_fail(_metadata, &self->r, "pagemap", SZ_2M, SZ_2M, 0,
			SZ_2M);
	lab_fill(self->r.addr, SZ_2M, SZ_4K, lab_seed("pagemap"));

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open pagemap: %s", strerror(errno));
	ASSERT_EQ((ssize_t)sizeof(ent),
		  pread(fd, ent, sizeof(ent),
			(uintptr_t)self->r.addr / SZ_4K * sizeof(ent[0])));
	close(fd);

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, lab_info_addr(self->probe,
					   self->r.addr + i * SZ_4K, &info));
		ASSERT_TRUE(!!(info.flags & LAB_PAGE_PRESENT));
		if ((ent[i] & PM_PRESENT) &&
		    (ent[i] & PM_PFN_MASK) == info.pfn && info.pfn)
			continue;
		if (!bad++) {
			first = i;
			first_ent = ent[i];
			first_pfn = info.pfn;
		}
	}
	EXPECT_EQ(0U, bad) {
		TH_LOG("%s: %u of %u pagemap entries disagree with the page table; first: page %u, entry %#llx, pfn %#llx",
		       dax->name, bad, n, first,
		       (unsigned long long)first_ent,
		       (unsigned long long)first_pfn);
	}
}

/* Rss of the smaps entry that starts at @addr, in kB, or -1. */
static long mp_smaps_rss(const void *addr)
{
	unsigned long start, end;
	char line[512];
	long rss = -1;
	int in = 0;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = start == (uintptr_t)addr;
			continue;
		}
		if (in && sscanf(line, "Rss: %ld kB", &rss) == 1)
			break;
	}
	fclose(f);
	return rss;
}

/*
 * A touched DAX mapping counts in smaps Rss, as a page-cache mapping
 * does.  The baseline's smaps walk skips devmap entries
 * (vm_normal_page() returns NULL for them), so it reports 0 kB.
 */
TEST_F(procfs, contract_smaps_rss_counts_dax)
{
	const struct lab_dax *dax = &variant->dax;
	long rss;

	lab_map_or_fail(_metadata, &self->r, "smaps", SZ_2M, SZ_2M, 0, SZ_2M);
	lab_fill(self->r.addr, SZ_2M, SZ_4K, lab_seed("smaps"));

	rss = mp_smaps_rss(self->r.addr);
	ASSERT_LE(0, rss) {
		TH_LOG("no smaps entry with an Rss line for %p",
		       self->r.addr);
	}
	EXPECT_LE((long)(SZ_2M / 1024), rss) {
		TH_LOG("smaps Rss of a touched %lu kB %s mapping is %ld kB, expected >= %lu kB",
		       SZ_2M / 1024, dax->name, rss, SZ_2M / 1024);
	}
}

TEST_HARNESS_MAIN
