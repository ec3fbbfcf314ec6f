// SPDX-License-Identifier: GPL-2.0
/*
 * Life cycle of a DAX page: free, mapped by one or two processes at PTE,
 * PMD or PUD level, unmapped again.
 *
 * Tests named contract_* check a rule the series introduces and must fail
 * on the baseline:
 *  - a free FS DAX page has refcount 0 (the baseline keeps 1); device DAX
 *    has its own test for that, see contract_devdax_free_page_refcount_zero;
 *  - every mapping holds one reference and one mapcount: a page mapped N
 *    times has N mapcounts (entire mapcounts for PMD/PUD) and its free
 *    refcount plus N, the free refcount being measured on the same page
 *    between two map cycles, so these tests state only the "+1 per
 *    mapping" rule and the free value is checked once, above;
 *  - PMD-mapped FS DAX memory is one order-9 folio.
 * The others hold on both kernels.
 */
#include "lab_harness.h"

#include <sys/wait.h>

/*
 * Map @len bytes at file/device offset 0, aligned to @len so that a fault
 * can use the entry of that size.  FS DAX gets a fresh file of
 * @file_len bytes.
 */
static void lc_map(struct __test_metadata *_metadata, struct lab_region *r,
		   const char *tag, size_t file_len, size_t len)
{
	lab_map_or_fail(_metadata, r, tag, file_len, len, 0, len);
}

/* Map the largest unit a fault of this variant uses (4K on ext4). */
static void lc_map_huge(struct __test_metadata *_metadata,
			struct lab_region *r, const char *tag)
{
	lc_map(_metadata, r, tag, r->dax->huge, r->dax->huge);
}

/*
 * Map @len bytes (as lc_map()) and write-fault offset 0, twice: the first
 * cycle finds the pfn and, once unmapped, its free state (@free); the
 * second leaves it mapped (@mapped, same pfn).
 */
static void lc_map_measured(struct __test_metadata *_metadata, int probe,
			    struct lab_region *r, const char *tag,
			    size_t file_len, size_t len,
			    struct lab_page_info *free,
			    struct lab_page_info *mapped)
{
	uint64_t pfn;

	lc_map(_metadata, r, tag, file_len, len);
	lab_touch_or_fail(_metadata, probe, r, 0, mapped);
	pfn = mapped->pfn;
	ASSERT_EQ(0, lab_region_unmap(r));
	ASSERT_EQ(0, lab_info_pfn(probe, pfn, free));
	ASSERT_EQ(0, free->mapcount) {
		TH_LOG("%s page (pfn %#llx) has mapcount %d after munmap",
		       r->dax->name, (unsigned long long)pfn, free->mapcount);
	}

	lc_map(_metadata, r, tag, file_len, len);
	lab_touch_or_fail(_metadata, probe, r, 0, mapped);
	ASSERT_EQ(pfn, mapped->pfn) {
		TH_LOG("%s: offset 0 mapped pfn %#llx, then pfn %#llx",
		       r->dax->name, (unsigned long long)pfn,
		       (unsigned long long)mapped->pfn);
	}
}

/* A page nobody maps or holds must have refcount 0. */
static void lc_want_free_zero(struct __test_metadata *_metadata, int probe,
			      struct lab_region *r)
{
	const char *name = r->dax->name;
	struct lab_page_info info;
	uint64_t pfn;

	lc_map(_metadata, r, "free", r->dax->huge, r->dax->huge);
	lab_touch_or_fail(_metadata, probe, r, 0, &info);
	pfn = info.pfn;
	ASSERT_EQ(0, lab_region_unmap(r));

	ASSERT_EQ(0, lab_info_pfn(probe, pfn, &info));
	EXPECT_EQ(0, info.mapcount) {
		TH_LOG("unmapped %s page (pfn %#llx) has mapcount %d",
		       name, (unsigned long long)pfn, info.mapcount);
	}
	EXPECT_EQ(0, info.refcount) {
		TH_LOG("free %s page (pfn %#llx) has refcount %d, expected 0",
		       name, (unsigned long long)pfn, info.refcount);
	}
	EXPECT_EQ(0, info.folio_refcount) {
		TH_LOG("free %s folio (pfn %#llx, order %u) has refcount %d, expected 0",
		       name, (unsigned long long)pfn, info.order,
		       info.folio_refcount);
	}
}

static unsigned int lc_log2(unsigned long v)
{
	unsigned int n = 0;

	while (v > 1) {
		v >>= 1;
		n++;
	}
	return n;
}

/* All variants: ext4, xfs, devdax4k, devdax2m, devdax1g. */
LAB_REGION_FIXTURE(lifecycle);
LAB_DAX_VARIANTS(lifecycle);
LAB_REGION_SETUP(lifecycle);

/* FS DAX: ext4, xfs. */
LAB_REGION_FIXTURE(lifecycle_fsdax);
LAB_FSDAX_VARIANTS(lifecycle_fsdax);
LAB_REGION_SETUP(lifecycle_fsdax);

/* Mappings that fault at PTE level: 4K windows of FS DAX, devdax4k. */
LAB_REGION_FIXTURE(lifecycle_pte);
LAB_VARIANT(lifecycle_pte);
LAB_VARIANT_ADD(lifecycle_pte, ext4, LAB_EXT4);
LAB_VARIANT_ADD(lifecycle_pte, xfs, LAB_XFS);
LAB_VARIANT_ADD(lifecycle_pte, devdax4k, LAB_DAX4K);
LAB_REGION_SETUP(lifecycle_pte);

/* Mappings that fault at PMD level. */
LAB_REGION_FIXTURE(lifecycle_pmd);
LAB_VARIANT(lifecycle_pmd);
LAB_VARIANT_ADD(lifecycle_pmd, xfs, LAB_XFS);
LAB_VARIANT_ADD(lifecycle_pmd, devdax2m, LAB_DAX2M);
LAB_REGION_SETUP(lifecycle_pmd);

/* Mappings that fault at PUD level. */
LAB_REGION_FIXTURE(lifecycle_pud);
LAB_VARIANT(lifecycle_pud);
LAB_VARIANT_ADD(lifecycle_pud, devdax1g, LAB_DAX1G);
LAB_REGION_SETUP(lifecycle_pud);

/* FS DAX that faults at PMD level. */
LAB_REGION_FIXTURE(lifecycle_fsdax_pmd);
LAB_VARIANT(lifecycle_fsdax_pmd);
LAB_VARIANT_ADD(lifecycle_fsdax_pmd, xfs, LAB_XFS);
LAB_REGION_SETUP(lifecycle_fsdax_pmd);

/* Device DAX of every alignment. */
LAB_REGION_FIXTURE(lifecycle_devdax);
LAB_VARIANT(lifecycle_devdax);
LAB_VARIANT_ADD(lifecycle_devdax, devdax4k, LAB_DAX4K);
LAB_VARIANT_ADD(lifecycle_devdax, devdax2m, LAB_DAX2M);
LAB_VARIANT_ADD(lifecycle_devdax, devdax1g, LAB_DAX1G);
LAB_REGION_SETUP(lifecycle_devdax);

/*
 * An FS DAX page nobody maps or holds is free, and a free page has
 * refcount 0 like one in the page allocator.  The baseline keeps 1.
 */
TEST_F(lifecycle_fsdax, contract_free_page_refcount_zero)
{
	lc_want_free_zero(_metadata, self->probe, &self->r);
}

/*
 * The same for device DAX, as the lab's contract states it.  Upstream
 * (the v6 series and later) resets a freed MEMORY_DEVICE_GENERIC folio
 * to refcount 1 instead, which this test reports as a failure.
 */
TEST_F(lifecycle_devdax, contract_devdax_free_page_refcount_zero)
{
	lc_want_free_zero(_metadata, self->probe, &self->r);
}

/* A PTE mapping holds one reference and one mapcount on its page. */
TEST_F(lifecycle_pte, contract_pte_map_takes_ref_and_mapcount)
{
	const struct lab_dax *dax = &variant->dax;
	struct lab_page_info free, info;
	size_t file_len = dax->kind == LAB_FSDAX ? SZ_2M : 0;

	/* A 4K window: no PMD fits, whatever the file system could do. */
	lc_map_measured(_metadata, self->probe, &self->r, "pte", file_len,
			SZ_4K, &free, &info);
	lab_want_level(_metadata, &self->r, &info, LAB_LEVEL_PTE);

	EXPECT_EQ(1, info.mapcount) {
		TH_LOG("PTE-mapped %s page (pfn %#llx) has mapcount %d, expected 1",
		       dax->name, (unsigned long long)info.pfn, info.mapcount);
	}
	EXPECT_EQ(free.refcount + 1, info.refcount) {
		TH_LOG("PTE-mapped %s page (pfn %#llx) has refcount %d, expected %d (free %d + 1 mapping)",
		       dax->name, (unsigned long long)info.pfn, info.refcount,
		       free.refcount + 1, free.refcount);
	}
	EXPECT_EQ(free.folio_refcount + 1, info.folio_refcount) {
		TH_LOG("PTE-mapped %s folio (pfn %#llx, order %u) has refcount %d, expected %d (free %d + 1 mapping)",
		       dax->name, (unsigned long long)info.pfn, info.order,
		       info.folio_refcount, free.folio_refcount + 1,
		       free.folio_refcount);
	}
}

/*
 * A PMD or PUD mapping maps one folio of that size and holds one folio
 * reference and one entire mapcount.
 */
static void lc_want_huge_folio(struct __test_metadata *_metadata, int probe,
			       struct lab_region *r, size_t size)
{
	unsigned int level = lab_level_of(size);
	unsigned int order = size == SZ_1G ? 18 : 9;
	const char *name = r->dax->name, *lv = lab_level_name(level);
	struct lab_page_info free, info;

	lc_map_measured(_metadata, probe, r, "huge", size, size, &free,
			&info);
	lab_want_level(_metadata, r, &info, level);
	ASSERT_EQ(0ULL, info.pfn & (size / SZ_4K - 1)) {
		TH_LOG("%s: %s maps pfn %#llx, which is not aligned to it",
		       name, lv, (unsigned long long)info.pfn);
	}

	EXPECT_EQ(order, info.order) {
		TH_LOG("%s-mapped %s memory (pfn %#llx) is an order-%u folio, expected order %u",
		       lv, name, (unsigned long long)info.pfn, info.order,
		       order);
	}
	EXPECT_EQ(1, info.entire_mapcount) {
		TH_LOG("%s-mapped %s folio (pfn %#llx) has entire mapcount %d, expected 1",
		       lv, name, (unsigned long long)info.pfn,
		       info.entire_mapcount);
	}
	EXPECT_EQ(free.folio_refcount + 1, info.folio_refcount) {
		TH_LOG("%s-mapped %s folio (pfn %#llx) has refcount %d, expected %d (free %d + 1 mapping)",
		       lv, name, (unsigned long long)info.pfn,
		       info.folio_refcount, free.folio_refcount + 1,
		       free.folio_refcount);
	}
}

TEST_F(lifecycle_pmd, contract_pmd_map_folio)
{
	lc_want_huge_folio(_metadata, self->probe, &self->r, SZ_2M);
}

TEST_F(lifecycle_pud, contract_pud_map_folio)
{
	lc_want_huge_folio(_metadata, self->probe, &self->r, SZ_1G);
}

/*
 * Two processes that map the same page count twice: two mapcounts and two
 * references, per page for PTEs, on the whole folio for PMD and PUD.
 */
TEST_F(lifecycle, contract_two_processes_count_twice)
{
	const struct lab_dax *dax = &variant->dax;
	struct lab_page_info free, info, child_info;
	struct lab_verdict v;
	int up[2], down[2], status;
	unsigned int level;
	pid_t pid;
	char c;

	lc_map_measured(_metadata, self->probe, &self->r, "twice", dax->huge,
			dax->huge, &free, &info);
	level = info.level;
	lab_want_level(_metadata, &self->r, &info, lab_level_of(dax->huge));

	ASSERT_EQ(0, pipe(up));
	ASSERT_EQ(0, pipe(down));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Shared file VMAs are not copied at fork: fault it in. */
		close(up[0]);
		close(down[1]);
		lab_fill(self->r.addr, SZ_4K, SZ_4K, 1);
		if (lab_info_addr(self->probe, self->r.addr, &child_info) ||
		    !(child_info.flags & LAB_PAGE_PRESENT))
			lab_verdict_send(up[1], 0, 0, "child: page not mapped");
		else
			lab_verdict_send(up[1], child_info.pfn == info.pfn,
					 child_info.level,
					 "child maps pfn %#llx, parent %#llx",
					 (unsigned long long)child_info.pfn,
					 (unsigned long long)info.pfn);
		/* Stay mapped until the parent has looked. */
		while (read(down[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	ASSERT_EQ(0, lab_verdict_recv(up[0], &v)) TH_LOG("%s", v.msg);
	ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr, &info));
	close(down[1]);
	close(up[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));

	ASSERT_TRUE(v.ok) TH_LOG("%s", v.msg);
	ASSERT_EQ(level, v.level) {
		TH_LOG("parent maps at %s level, child at %s level",
		       lab_level_name(level), lab_level_name(v.level));
	}
	if (level == LAB_LEVEL_PTE) {
		EXPECT_EQ(2, info.mapcount) {
			TH_LOG("%s page (pfn %#llx) PTE-mapped by two processes has mapcount %d, expected 2",
			       dax->name, (unsigned long long)info.pfn,
			       info.mapcount);
		}
	} else {
		EXPECT_EQ(2, info.entire_mapcount) {
			TH_LOG("%s folio (pfn %#llx) %s-mapped by two processes has entire mapcount %d, expected 2",
			       dax->name, (unsigned long long)info.pfn,
			       lab_level_name(level), info.entire_mapcount);
		}
	}
	EXPECT_EQ(free.folio_refcount + 2, info.folio_refcount) {
		TH_LOG("%s folio (pfn %#llx) %s-mapped by two processes has refcount %d, expected %d (free %d + 2 mappings)",
		       dax->name, (unsigned long long)info.pfn,
		       lab_level_name(level), info.folio_refcount,
		       free.folio_refcount + 2, free.folio_refcount);
	}
}

/* One mapping: one mapcount (entire, for PMD/PUD) and one reference. */
static void lc_want_mapped_once(struct __test_metadata *_metadata,
				const struct lab_dax *dax,
				const struct lab_page_info *free,
				const struct lab_page_info *info,
				const char *when)
{
	const char *lv = lab_level_name(info->level);
	int mapcount = info->level == LAB_LEVEL_PTE ? info->mapcount :
						     info->entire_mapcount;

	EXPECT_EQ(1, mapcount) {
		TH_LOG("%s folio (pfn %#llx) %s-mapped once has mapcount %d %s, expected 1",
		       dax->name, (unsigned long long)info->pfn, lv, mapcount,
		       when);
	}
	EXPECT_EQ(free->folio_refcount + 1, info->folio_refcount) {
		TH_LOG("%s folio (pfn %#llx) %s-mapped once has refcount %d %s, expected %d (free %d + 1 mapping)",
		       dax->name, (unsigned long long)info->pfn, lv,
		       info->folio_refcount, when, free->folio_refcount + 1,
		       free->folio_refcount);
	}
}

/*
 * A read fault and then a write fault of the same page make one mapping,
 * not two.  On FS DAX the read fault maps read-only (the file system
 * wants to hear of the first write), so the write goes through the
 * write-protect fault and ->page_mkwrite or ->huge_fault, which find the
 * page already mapped and only make the entry writable: that must take
 * no second reference or mapcount.  Device DAX maps writable at once.
 */
TEST_F(lifecycle, contract_read_then_write_fault_counts_once)
{
	const struct lab_dax *dax = &variant->dax;
	struct lab_page_info ro, rw, idle;
	char *buf;

	lc_map(_metadata, &self->r, "rw", dax->huge, dax->huge);
	if (dax->kind == LAB_FSDAX) {
		/* Written blocks: a read fault of unwritten ones maps zeroes. */
		buf = malloc(dax->huge);
		ASSERT_NE(NULL, buf);
		memset(buf, 0x3c, dax->huge);
		ASSERT_EQ((ssize_t)dax->huge,
			  pwrite(self->r.fd, buf, dax->huge, 0));
		free(buf);
	}

	(void)*(volatile char *)self->r.addr;
	ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr, &ro));
	ASSERT_TRUE(!!(ro.flags & LAB_PAGE_PRESENT));
	ASSERT_TRUE(!!(ro.flags & LAB_PAGE_ZONE_DEVICE)) {
		TH_LOG("%s: a read fault mapped pfn %#llx, not device memory",
		       dax->name, (unsigned long long)ro.pfn);
	}
	lab_want_level(_metadata, &self->r, &ro, lab_level_of(dax->huge));
	if (dax->kind == LAB_FSDAX)
		EXPECT_FALSE(!!(ro.flags & LAB_PAGE_WRITABLE)) {
			TH_LOG("%s: a read fault mapped the page writable, so the write below tests nothing",
			       dax->name);
		}

	*(volatile char *)self->r.addr = 0x5a;
	ASSERT_EQ(0, lab_info_addr(self->probe, self->r.addr, &rw));
	ASSERT_TRUE(!!(rw.flags & LAB_PAGE_PRESENT));
	ASSERT_EQ(ro.pfn, rw.pfn);
	EXPECT_TRUE(!!(rw.flags & LAB_PAGE_WRITABLE));

	/* The free state of that pfn, measured rather than assumed. */
	ASSERT_EQ(0, lab_region_unmap(&self->r));
	ASSERT_EQ(0, lab_info_pfn(self->probe, ro.pfn, &idle));
	ASSERT_EQ(0, idle.mapcount);

	lc_want_mapped_once(_metadata, dax, &idle, &ro,
			    "after a read fault");
	lc_want_mapped_once(_metadata, dax, &idle, &rw,
			    "after a read and a write fault");
}

/*
 * Unmapping, and exiting with the mapping still in place, give back
 * everything a mapping took: the counts return to the idle ones, which
 * are measured here (after one map/unmap cycle) rather than assumed.
 */
TEST_F(lifecycle, unmap_and_exit_restore_idle)
{
	const struct lab_dax *dax = &variant->dax;
	struct lab_page_info info, idle, idle_last;
	uint64_t pfn, last = 0;
	struct lab_verdict v;
	int up[2], status;
	pid_t pid;

	lc_map_huge(_metadata, &self->r, "idle");
	lab_touch_or_fail(_metadata, self->probe, &self->r, 0, &info);
	pfn = info.pfn;
	/* A PMD or PUD maps contiguous pfns; watch its last page too. */
	if (info.level != LAB_LEVEL_PTE)
		last = pfn + dax->huge / SZ_4K - 1;
	ASSERT_EQ(0, lab_region_unmap(&self->r));
	ASSERT_EQ(0, lab_info_pfn(self->probe, pfn, &idle));
	ASSERT_EQ(0, idle.mapcount) {
		TH_LOG("%s page (pfn %#llx) has mapcount %d after munmap",
		       dax->name, (unsigned long long)pfn, idle.mapcount);
	}
	if (last)
		ASSERT_EQ(0, lab_info_pfn(self->probe, last, &idle_last));

	/* Map, touch, unmap. */
	lc_map(_metadata, &self->r, "idle", dax->huge, dax->huge);
	lab_touch_or_fail(_metadata, self->probe, &self->r, 0, &info);
	ASSERT_EQ(pfn, info.pfn) {
		TH_LOG("%s: offset 0 mapped pfn %#llx, then pfn %#llx",
		       dax->name, (unsigned long long)pfn,
		       (unsigned long long)info.pfn);
	}
	EXPECT_LE(idle.folio_refcount, info.folio_refcount) {
		TH_LOG("mapped %s folio (pfn %#llx) has refcount %d, below its idle %d",
		       dax->name, (unsigned long long)pfn,
		       info.folio_refcount, idle.folio_refcount);
	}
	ASSERT_EQ(0, lab_region_unmap(&self->r));
	lab_want_idle(_metadata, self->probe, dax->name, "after munmap", pfn,
		      &idle);
	if (last)
		lab_want_idle(_metadata, self->probe, dax->name,
			      "after munmap", last, &idle_last);

	/* A child maps and touches the page, then exits still mapping it. */
	ASSERT_EQ(0, pipe(up));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *p = lab_map(self->r.fd, dax->huge, dax->huge, 0);

		close(up[0]);
		if (p == MAP_FAILED) {
			lab_verdict_send(up[1], 0, 0, "child: mmap: %s",
					 strerror(errno));
			_exit(1);
		}
		lab_fill(p, SZ_4K, SZ_4K, 2);
		if (lab_info_addr(self->probe, p, &info) ||
		    !(info.flags & LAB_PAGE_PRESENT) || info.pfn != pfn)
			lab_verdict_send(up[1], 0, 0,
					 "child: offset 0 not mapped to pfn %#llx",
					 (unsigned long long)pfn);
		else
			lab_verdict_send(up[1], 1, info.level, "child mapped");
		_exit(0);
	}
	close(up[1]);
	ASSERT_EQ(0, lab_verdict_recv(up[0], &v)) TH_LOG("%s", v.msg);
	close(up[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(v.ok) TH_LOG("%s", v.msg);
	lab_want_idle(_metadata, self->probe, dax->name,
		      "after the process mapping it exited", pfn, &idle);
	if (last)
		lab_want_idle(_metadata, self->probe, dax->name,
			      "after the process mapping it exited", last,
			      &idle_last);
}

/*
 * A PMD mapping of FS DAX maps one order-9 folio: every 4K page of the 2M
 * range is part of it and has the same head.  The baseline uses 512
 * order-0 pages.
 */
TEST_F(lifecycle_fsdax_pmd, contract_fsdax_pmd_is_order9_folio)
{
	const char *name = variant->dax.name;
	struct lab_page_info head, info;
	unsigned int i, bad = 0, first_bad = 0, first_order = 0;

	lc_map(_metadata, &self->r, "order9", SZ_2M, SZ_2M);
	lab_touch_or_fail(_metadata, self->probe, &self->r, 0, &head);
	lab_want_level(_metadata, &self->r, &head, LAB_LEVEL_PMD);
	ASSERT_EQ(0ULL, head.pfn & 511) {
		TH_LOG("%s: PMD maps pfn %#llx, which is not 2M aligned",
		       name, (unsigned long long)head.pfn);
	}

	for (i = 0; i < 512; i++) {
		ASSERT_EQ(0, lab_info_addr(self->probe,
					   self->r.addr + i * SZ_4K, &info));
		/* Same PMD entry, so consecutive pfns; else the test is wrong. */
		ASSERT_EQ((unsigned int)LAB_LEVEL_PMD, info.level);
		ASSERT_EQ(head.pfn + i, info.pfn);
		if (info.order == 9 && (info.pfn & ~511ULL) == head.pfn &&
		    (info.flags & LAB_PAGE_COMPOUND) &&
		    !!(info.flags & LAB_PAGE_HEAD) == (i == 0))
			continue;
		if (!bad++) {
			first_bad = i;
			first_order = info.order;
		}
	}
	EXPECT_EQ(0U, bad) {
		TH_LOG("%u of 512 pages of a PMD-mapped %s range are not in one order-9 folio headed by pfn %#llx; first: page %u, pfn %#llx, order %u",
		       bad, name, (unsigned long long)head.pfn, first_bad,
		       (unsigned long long)(head.pfn + first_bad),
		       first_order);
	}
}

/*
 * Device DAX memory comes in folios of the device's alignment (4K, 2M or
 * 1G), mapped by an entry of that size.  True on both kernels.
 */
TEST_F(lifecycle_devdax, devdax_folio_matches_alignment)
{
	const struct lab_dax *dax = &variant->dax;
	unsigned int order = lc_log2(dax->align / SZ_4K);
	unsigned long long align;
	struct lab_page_info info;
	size_t offs[2] = { 0, dax->align / 2 };
	int i;

	align = lab_devdax_attr(lab_env(dax->env), "align");
	ASSERT_EQ(dax->align, align) {
		TH_LOG("%s (%s) has alignment %llu in sysfs, expected %lu",
		       dax->name, lab_env(dax->env), align, dax->align);
	}
	lc_map(_metadata, &self->r, "align", 0, dax->align);
	for (i = 0; i < (dax->align > SZ_4K ? 2 : 1); i++) {
		lab_touch_or_fail(_metadata, self->probe, &self->r, offs[i], &info);
		EXPECT_EQ(lab_level_of(dax->align), info.level) {
			TH_LOG("%s: offset %zu mapped by a %s entry, expected %s",
			       dax->name, offs[i], lab_level_name(info.level),
			       lab_level_name(lab_level_of(dax->align)));
		}
		EXPECT_EQ(order, info.order) {
			TH_LOG("%s page (pfn %#llx) is in an order-%u folio, expected order %u",
			       dax->name, (unsigned long long)info.pfn,
			       info.order, order);
		}
	}
}

TEST_HARNESS_MAIN
