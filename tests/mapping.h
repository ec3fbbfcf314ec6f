/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the tests of operations on DAX mappings
 * (mapping-split.c, mapping-remap.c and mapping.c): a map/fill/unmap
 * cycle that records the idle state of the pages, the unmap that checks
 * they are back to it, and checks of the data in a mapping and in the
 * file behind it.  They end a test through ASSERT_*(), hence the harness
 * include; no fixtures or tests here.
 */
#ifndef LAB_MAPPING_H
#define LAB_MAPPING_H

#include "lab_harness.h"

/* Sampled pages: lab_fill() tags 512 pages spread over a mapping. */
static inline size_t mp_stride(size_t len)
{
	return len / 512 < SZ_4K ? SZ_4K : len / 512;
}

/*
 * One map/fill/unmap cycle of @len bytes at offset 0: leaves @seed data
 * in the backing object and returns, in @idle[i], the idle state of the
 * pfn mapping offset @offs[i] (and that pfn in @pfns[i]).
 */
static inline void mp_idle_cycle(struct __test_metadata *_metadata,
				 int probe, struct lab_region *r,
				 size_t file_len, size_t len, uint64_t seed,
				 const size_t *offs, int n, uint64_t *pfns,
				 struct lab_page_info *idle)
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
static inline void mp_unmap_want_idle(struct __test_metadata *_metadata,
				      int probe, struct lab_region *r,
				      const char *when, const uint64_t *pfns,
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
static inline long mp_bad(const char *base, size_t off, size_t len,
			  size_t stride, uint64_t seed)
{
	size_t o;

	for (o = off; o < off + len; o += stride)
		if (*(const volatile uint64_t *)(base + o) != lab_word(seed, o))
			return (long)o;
	return -1;
}

/* Data at [@off, @off + @len) of the mapping must be lab_fill(@seed) data. */
static inline void mp_want_data(struct __test_metadata *_metadata,
				const struct lab_region *r, size_t off,
				size_t len, size_t stride, uint64_t seed,
				const char *when)
{
	long bad = mp_bad(r->addr, off, len, stride, seed);

	ASSERT_EQ(-1, bad) {
		TH_LOG("%s: data at offset %ld lost %s", r->dax->name, bad,
		       when);
	}
}

/* The same check on the file behind an FS DAX region, read with pread. */
static inline void mp_want_file(struct __test_metadata *_metadata,
				const struct lab_region *r, size_t off,
				size_t len, size_t stride, uint64_t seed,
				const char *when)
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

#endif /* LAB_MAPPING_H */
