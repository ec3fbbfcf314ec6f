// SPDX-License-Identifier: GPL-2.0
/*
 * Splitting huge DAX mappings: partial munmap and mprotect of PMD and PUD
 * mappings, mprotect of a whole one, MADV_DONTNEED of one of its pages,
 * and MADV_COLD/MADV_PAGEOUT over them.  The data must survive and the
 * page counts must return to their idle values.  These hold on both
 * kernels.  The other mapping tests are in mapping.c and
 * mapping-remap.c, the helpers they share in mapping.h.
 */
#include "mapping.h"

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

TEST_HARNESS_MAIN
