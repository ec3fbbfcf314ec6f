/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest tests' pieces built on the kselftest harness: fixture
 * variants over the lab's DAX devices, region fixtures and the helpers
 * that end a test through ASSERT_*() or SKIP().  The plain helpers they
 * use are in lab.h, which the benchmarks and tests/torture use alone.
 */
#ifndef LAB_HARNESS_H
#define LAB_HARNESS_H

#include "kselftest_harness.h"
#include "lab.h"

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

/*
 * Skip with the exact missing precondition (kselftest exit 4).  Only for
 * preconditions that are truly absent, never for a failed assertion.
 */
#define LAB_REQUIRE_ENV(var)						\
	do {								\
		if (!lab_env(var))					\
			SKIP(return, "lab did not provide %s", var);	\
	} while (0)

/* Skip when the kernel under test lacks a feature (@what) the test needs. */
#define LAB_REQUIRE(have, what)						\
	do {								\
		if (!(have))						\
			SKIP(return, "this kernel lacks %s", what);	\
	} while (0)

/* What the tests of RDS zerocopy sends and TLS records need (hold.h). */
#define LAB_RDS	"RDS over TCP (CONFIG_RDS_TCP)"
#define LAB_TLS	"kernel TLS (CONFIG_TLS)"
#define LAB_FUSE	"FUSE (CONFIG_FUSE_FS)"

/*
 * Fixture pieces for tests of one DAX region.  They use the harness'
 * ASSERT_*().  A region fixture
 * has the probe open and a lab_region that the teardown destroys:
 *
 *	LAB_REGION_FIXTURE(f);
 *	LAB_DAX_VARIANTS(f);	(or LAB_VARIANT(f) and LAB_VARIANT_ADD()s)
 *	LAB_REGION_SETUP(f);
 */
#define LAB_REGION_FIXTURE(f)						\
	FIXTURE(f) {							\
		int probe;						\
		struct lab_region r;					\
	}

#define LAB_VARIANT(f)	FIXTURE_VARIANT(f) { struct lab_dax dax; }
#define LAB_VARIANT_ADD(f, v, init) FIXTURE_VARIANT_ADD(f, v) { .dax = init }

#define LAB_REGION_SETUP(f)						\
	FIXTURE_SETUP(f)						\
	{								\
		lab_region_setup(_metadata, &variant->dax,		\
				 &self->probe, &self->r);		\
	}								\
	FIXTURE_TEARDOWN(f)						\
	{								\
		lab_region_destroy(&self->r);				\
		if (self->probe >= 0)					\
			close(self->probe);				\
	}

/* Skip if the lab lacks the variant's device; fail without the probe. */
static inline void lab_region_setup(struct __test_metadata *_metadata,
				    const struct lab_dax *dax, int *probe,
				    struct lab_region *r)
{
	lab_region_init(r, dax);
	*probe = -1;
	LAB_REQUIRE_ENV(dax->env);
	*probe = lab_probe_open();
	ASSERT_LE(0, *probe) {
		TH_LOG("cannot open %s: %s (lab_probe not loaded?)",
		       LAB_PROBE_PATH, strerror(errno));
	}
}

/* A mapping size that holds 2M on every variant, and a whole PUD on 1G. */
static inline size_t lab_span(const struct lab_dax *dax)
{
	return dax->huge > SZ_2M ? dax->huge : SZ_2M;
}

/* lab_region_map() that fails the test with the reason. */
static inline void lab_map_or_fail(struct __test_metadata *_metadata,
				   struct lab_region *r, const char *tag,
				   size_t file_len, size_t len, off_t off,
				   size_t align)
{
	int ret = lab_region_map(r, tag, file_len, len, off, align);

	ASSERT_EQ(0, ret) {
		TH_LOG("%s: cannot map %zu bytes at offset %lld of %s: %s",
		       r->dax->name, len, (long long)off,
		       r->path[0] ? r->path : r->dax->env, strerror(-ret));
	}
}

/*
 * Write-fault the page at @off of the region and return what maps it,
 * failing unless it is the variant's kind of ZONE_DEVICE memory.  A
 * write is needed: a read fault of an unwritten FS DAX extent maps the
 * zero page, not pmem.
 */
static inline void lab_touch_or_fail(struct __test_metadata *_metadata,
				     int probe, const struct lab_region *r,
				     size_t off, struct lab_page_info *info)
{
	const struct lab_dax *dax = r->dax;
	unsigned int want = dax->kind == LAB_FSDAX ? LAB_PGMAP_FS_DAX :
						     LAB_PGMAP_GENERIC;

	lab_fill(r->addr + off, SZ_4K, SZ_4K, lab_seed(dax->name));
	ASSERT_EQ(0, lab_info_addr(probe, r->addr + off, info));
	ASSERT_TRUE(!!(info->flags & LAB_PAGE_PRESENT)) {
		TH_LOG("%s: offset %zu is not mapped after a write fault",
		       dax->name, off);
	}
	ASSERT_TRUE(!!(info->flags & LAB_PAGE_ZONE_DEVICE)) {
		TH_LOG("%s: offset %zu maps pfn %#llx, not ZONE_DEVICE memory",
		       dax->name, off, (unsigned long long)info->pfn);
	}
	ASSERT_EQ(want, info->pgmap_type) {
		TH_LOG("%s: pfn %#llx has pgmap type %u, expected %u",
		       dax->name, (unsigned long long)info->pfn,
		       info->pgmap_type, want);
	}
}

/* Fail unless the fault used the entry size the test is about. */
static inline void lab_want_level(struct __test_metadata *_metadata,
				  const struct lab_region *r,
				  const struct lab_page_info *info,
				  unsigned int want)
{
	ASSERT_EQ(want, info->level) {
		TH_LOG("%s: fault of a %zu-byte aligned mapping produced a %s entry, expected %s",
		       r->dax->name, r->len, lab_level_name(info->level),
		       lab_level_name(want));
	}
}

/*
 * The counts of @pfn must equal @idle, measured when nothing mapped or
 * held it, and it must not be mapped.  @when goes into the messages.
 */
static inline void lab_want_idle(struct __test_metadata *_metadata,
				 int probe, const char *name,
				 const char *when, uint64_t pfn,
				 const struct lab_page_info *idle)
{
	struct lab_page_info info;

	ASSERT_EQ(0, lab_info_pfn(probe, pfn, &info));
	EXPECT_EQ(idle->refcount, info.refcount) {
		TH_LOG("%s page (pfn %#llx) has refcount %d %s, %d when idle",
		       name, (unsigned long long)pfn, info.refcount, when,
		       idle->refcount);
	}
	EXPECT_EQ(idle->folio_refcount, info.folio_refcount) {
		TH_LOG("%s folio (pfn %#llx) has refcount %d %s, %d when idle",
		       name, (unsigned long long)pfn, info.folio_refcount,
		       when, idle->folio_refcount);
	}
	EXPECT_EQ(0, info.mapcount) {
		TH_LOG("%s page (pfn %#llx) has mapcount %d %s",
		       name, (unsigned long long)pfn, info.mapcount, when);
	}
	EXPECT_EQ(0, info.folio_mapcount) {
		TH_LOG("%s folio (pfn %#llx) has folio mapcount %d %s",
		       name, (unsigned long long)pfn, info.folio_mapcount,
		       when);
	}
}

#endif /* LAB_HARNESS_H */
