// SPDX-License-Identifier: GPL-2.0
/*
 * mremap of DAX mappings: moving PTE, PMD and PUD mappings, and growing
 * an FS DAX mapping over more of its file.  The data must survive and the
 * page counts must return to their idle values.  These hold on both
 * kernels (the PUD move logs "bad pud" on the baseline, see
 * tests/expectations/known-baseline-dmesg.txt).
 */
#include "mapping.h"

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

TEST_HARNESS_MAIN
