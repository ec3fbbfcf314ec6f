/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interface of the lab_probe test module, shared by the module and the
 * guest tests.  The module exposes one debugfs file; every request is an
 * ioctl on an open descriptor of it.  References taken with
 * LAB_PROBE_HOLD belong to that descriptor and are dropped when it is
 * closed, so a test that dies leaks nothing.
 */
#ifndef LAB_PROBE_H
#define LAB_PROBE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define LAB_PROBE_PATH "/sys/kernel/debug/lab_probe"

/* lab_page_info.flags */
#define LAB_PAGE_PRESENT	(1u << 0)  /* addr is mapped; the rest is valid */
#define LAB_PAGE_ZONE_DEVICE	(1u << 1)
#define LAB_PAGE_COMPOUND	(1u << 2)  /* part of a large folio */
#define LAB_PAGE_HEAD		(1u << 3)
#define LAB_PAGE_ANON		(1u << 4)
#define LAB_PAGE_DMA_PINNED	(1u << 5)  /* folio_maybe_dma_pinned() */
#define LAB_PAGE_SPECIAL	(1u << 6)  /* mapped by a pte_special() PTE */
#define LAB_PAGE_DEVMAP		(1u << 7)  /* mapped by a pXd_devmap() entry */
#define LAB_PAGE_WRITABLE	(1u << 8)  /* the mapping entry is writable */
/* BY_ADDR of an FS DAX page: the file it belongs to (see fs/dax.c) */
#define LAB_PAGE_DAX_OWNED	(1u << 9)  /* folio->mapping is the vma's file */
#define LAB_PAGE_DAX_SHARED	(1u << 10) /* shared by reflinked files */

/* lab_page_info.level: which page-table entry maps addr */
#define LAB_LEVEL_NONE	0
#define LAB_LEVEL_PTE	1
#define LAB_LEVEL_PMD	2
#define LAB_LEVEL_PUD	3

/* lab_page_info.pgmap_type: enum memory_type, or NONE for normal memory */
#define LAB_PGMAP_NONE		0
#define LAB_PGMAP_PRIVATE	1
#define LAB_PGMAP_COHERENT	2
#define LAB_PGMAP_FS_DAX	3
#define LAB_PGMAP_GENERIC	4
#define LAB_PGMAP_P2PDMA	5

struct lab_page_info {
	__u64 addr;		/* in: user address (BY_ADDR) */
	__u64 pfn;		/* in: pfn (BY_PFN); out for BY_ADDR */
	__s32 refcount;		/* page_ref_count(page) */
	__s32 folio_refcount;	/* folio_ref_count(folio) */
	__s32 mapcount;		/* page_mapcount(page) */
	__s32 folio_mapcount;	/* folio_mapcount(folio) */
	__s32 entire_mapcount;	/* PMD/PUD mappings of the folio */
	__u32 order;		/* folio_order(folio) */
	__u32 flags;		/* LAB_PAGE_* */
	__u32 level;		/* LAB_LEVEL_* (BY_ADDR only) */
	__u32 pgmap_type;	/* LAB_PGMAP_* */
	__u32 pad;
};

/* lab_hold.flags */
#define LAB_HOLD_PIN		(1u << 0)  /* FOLL_PIN, else FOLL_GET */
#define LAB_HOLD_LONGTERM	(1u << 1)  /* FOLL_LONGTERM (needs PIN) */
#define LAB_HOLD_WRITE		(1u << 2)  /* FOLL_WRITE */
#define LAB_HOLD_FAST		(1u << 3)  /* *_user_pages_fast() */

struct lab_hold {
	__u64 addr;		/* in: page aligned */
	__u64 nr_pages;		/* in */
	__u32 flags;		/* in: LAB_HOLD_* */
	__s32 id;		/* out: handle for LAB_PROBE_RELEASE */
};

/*
 * Scan every initialised struct page of the dev_pagemap that contains
 * @pfn and count pages by state.  "Busy" means refcount > 1 or mapped;
 * whether 0 or 1 is idle depends on the kernel, so both are counted.
 */
struct lab_scan {
	__u64 pfn;		/* in: any pfn of the device */
	__u64 nr_pages;		/* out: pages scanned */
	__u64 nr_ref0;		/* out: refcount == 0 */
	__u64 nr_ref1;		/* out: refcount == 1 */
	__u64 nr_busy;		/* out: refcount > 1, or mapcount > 0 */
	__u64 nr_compound;	/* out: pages still part of a large folio */
	__u64 first_busy_pfn;	/* out: valid if nr_busy */
	__s32 first_busy_refcount;
	__s32 first_busy_mapcount;
	__u32 pgmap_type;	/* out: LAB_PGMAP_* */
	__u32 pad;
};

/*
 * The DAX page cache entries of a file, checked against each other and
 * against mapping->nrpages.  fs/dax.c records an entry's size in its value
 * (a PMD flag) and removes the entry by that size; the xarray knows how
 * many indices the entry's slots cover.  The two must agree and nrpages
 * must be their sum, or removing the entries leaves nrpages behind and
 * clear_inode() BUGs when the file is evicted.
 */
struct lab_dax_entries {
	__s32 fd;		/* in: a file on a filesystem mounted -o dax */
	__u32 nr_entries;	/* out: DAX entries found */
	__u64 nrpages;		/* out: mapping->nrpages */
	__u64 nr_indices;	/* out: indices the entries' slots cover */
	__u64 nr_claimed;	/* out: pages the entries' values claim */
	__u32 nr_mismatched;	/* out: entries whose value and slots differ */
	__u32 nr_not_dax;	/* out: entries that are no DAX entry */
};

#define LAB_PROBE_MAGIC 'L'
#define LAB_PROBE_BY_ADDR	_IOWR(LAB_PROBE_MAGIC, 1, struct lab_page_info)
#define LAB_PROBE_BY_PFN	_IOWR(LAB_PROBE_MAGIC, 2, struct lab_page_info)
#define LAB_PROBE_HOLD		_IOWR(LAB_PROBE_MAGIC, 3, struct lab_hold)
#define LAB_PROBE_RELEASE	_IOW(LAB_PROBE_MAGIC, 4, __s32)
#define LAB_PROBE_SCAN		_IOWR(LAB_PROBE_MAGIC, 5, struct lab_scan)
#define LAB_PROBE_DAX_ENTRIES	_IOWR(LAB_PROBE_MAGIC, 6, struct lab_dax_entries)

#endif /* LAB_PROBE_H */
