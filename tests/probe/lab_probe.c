// SPDX-License-Identifier: GPL-2.0
/*
 * lab_probe - report struct page reference and map counts to the lab tests
 * and let them hold GUP references, without disturbing the counts they
 * look at.  The interface is described in lab_probe.h.
 */

#include <linux/bits.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/idr.h>
#include <linux/memory_hotplug.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pgtable.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "lab_probe.h"

/* 1 GiB of 4K pages: enough for any test, small enough for kvmalloc. */
#define LAB_HOLD_MAX_PAGES	262144
#define LAB_HOLD_ALL_FLAGS	(LAB_HOLD_PIN | LAB_HOLD_LONGTERM | \
				 LAB_HOLD_WRITE | LAB_HOLD_FAST)
#define LAB_SCAN_BATCH		1024

struct lab_file {
	struct mutex lock;	/* protects holds */
	struct idr holds;
};

struct lab_hold_rec {
	struct page **pages;
	unsigned long nr_pages;
	bool pinned;
};

static struct dentry *lab_dentry;

/* pXd_devmap() does not exist once the series is applied. */
static bool lab_pte_devmap(pte_t pte)
{
#ifdef CONFIG_ARCH_HAS_PTE_DEVMAP
	return pte_devmap(pte);
#else
	return false;
#endif
}

static bool lab_pmd_devmap(pmd_t pmd)
{
#ifdef CONFIG_ARCH_HAS_PTE_DEVMAP
	return pmd_devmap(pmd);
#else
	return false;
#endif
}

static bool lab_pud_devmap(pud_t pud)
{
#ifdef CONFIG_ARCH_HAS_PTE_DEVMAP
	return pud_devmap(pud);
#else
	return false;
#endif
}

static u32 lab_pgmap_type(struct dev_pagemap *pgmap)
{
	switch (pgmap->type) {
	case MEMORY_DEVICE_PRIVATE:
		return LAB_PGMAP_PRIVATE;
	case MEMORY_DEVICE_COHERENT:
		return LAB_PGMAP_COHERENT;
	case MEMORY_DEVICE_FS_DAX:
		return LAB_PGMAP_FS_DAX;
	case MEMORY_DEVICE_GENERIC:
		return LAB_PGMAP_GENERIC;
	case MEMORY_DEVICE_PCI_P2PDMA:
		return LAB_PGMAP_P2PDMA;
	}
	return LAB_PGMAP_NONE;
}

/*
 * First pfn of @range_id whose struct page is initialised.  The memmap of
 * the altmap reserve at the start of a namespace is never initialised (and
 * is poisoned under CONFIG_DEBUG_VM), so it must not be read.  Same rule
 * as pfn_first() in mm/memremap.c.
 */
static unsigned long lab_first_pfn(struct dev_pagemap *pgmap, int range_id)
{
	unsigned long pfn = PHYS_PFN(pgmap->ranges[range_id].start);

	if (range_id)
		return pfn;
	return pfn + vmem_altmap_offset(pgmap_altmap(pgmap));
}

static unsigned long lab_end_pfn(struct dev_pagemap *pgmap, int range_id)
{
	const struct range *range = &pgmap->ranges[range_id];

	return PHYS_PFN(range->start + range_len(range));
}

static bool lab_pgmap_pfn_ok(struct dev_pagemap *pgmap, unsigned long pfn)
{
	int i;

	for (i = 0; i < pgmap->nr_range; i++) {
		if (pfn >= PHYS_PFN(pgmap->ranges[i].start) &&
		    pfn < lab_end_pfn(pgmap, i))
			return pfn >= lab_first_pfn(pgmap, i);
	}
	return false;
}

/*
 * Return the struct page of @pfn if it is safe to read, else NULL.  For
 * device memory *@pgmapp gets a pgmap reference that keeps the memmap
 * alive; the caller drops it with put_dev_pagemap().  Does not sleep, so
 * it can run under a page table lock.
 */
static struct page *lab_pfn_page(unsigned long pfn, struct dev_pagemap **pgmapp)
{
	struct dev_pagemap *pgmap;

	*pgmapp = NULL;
	/* Also rejects pfns that would alias after PFN_PHYS() overflows. */
	if (!pfn_valid(pfn))
		return NULL;

	pgmap = get_dev_pagemap(pfn, NULL);
	if (!pgmap)
		return pfn_to_online_page(pfn);

	*pgmapp = pgmap;
	if (!lab_pgmap_pfn_ok(pgmap, pfn))
		return NULL;
	return pfn_to_page(pfn);
}

/*
 * Mapcount of this very page: its own PTE mappings plus the PMD/PUD
 * mappings of its folio, as page_mapcount() defined it.  Page types
 * (hugetlb, slab, ...) live in _mapcount and are not mappings.
 */
static int lab_page_mapcount(struct page *page, struct folio *folio)
{
	int mapcount = atomic_read(&page->_mapcount) + 1;

	if (page_mapcount_is_type(mapcount))
		mapcount = 0;
	if (folio_test_large(folio))
		mapcount += folio_entire_mapcount(folio);
	return mapcount;
}

/*
 * Without a page table lock the folio may be split or freed under us;
 * like /proc/kpageflags the numbers are then just a racy snapshot.
 */
static void lab_fill_page(struct lab_page_info *info, struct page *page,
			  struct dev_pagemap *pgmap)
{
	struct folio *folio = page_folio(page);

	info->refcount = page_ref_count(page);
	info->folio_refcount = folio_ref_count(folio);
	info->mapcount = lab_page_mapcount(page, folio);
	info->folio_mapcount = folio_mapcount(folio);
	info->order = folio_order(folio);
	if (folio_test_large(folio)) {
		info->entire_mapcount = folio_entire_mapcount(folio);
		info->flags |= LAB_PAGE_COMPOUND;
		if (page == &folio->page)
			info->flags |= LAB_PAGE_HEAD;
	}
	if (is_zone_device_page(page))
		info->flags |= LAB_PAGE_ZONE_DEVICE;
	if (folio_test_anon(folio))
		info->flags |= LAB_PAGE_ANON;
	if (folio_maybe_dma_pinned(folio))
		info->flags |= LAB_PAGE_DMA_PINNED;
	if (pgmap)
		info->pgmap_type = lab_pgmap_type(pgmap);
}

/* Called with the lock of the entry that maps @pfn held. */
static void lab_fill_mapped(struct lab_page_info *info, unsigned long pfn,
			    u32 level, u32 flags)
{
	struct dev_pagemap *pgmap;
	struct page *page;

	info->pfn = pfn;
	info->level = level;
	info->flags = LAB_PAGE_PRESENT | flags;

	/* A special mapping may have no struct page at all. */
	page = lab_pfn_page(pfn, &pgmap);
	if (page)
		lab_fill_page(info, page, pgmap);
	if (pgmap)
		put_dev_pagemap(pgmap);
}

/*
 * pte_offset_map_lock() is not exported, so do what it does: the PTE
 * table may be freed (RCU deferred) by khugepaged under mmap_read_lock,
 * so map it under RCU and check the PMD still points to it once locked.
 * NULL means the PMD changed; the caller looks at it again.
 */
static pte_t *lab_pte_lock(struct mm_struct *mm, pmd_t *pmdp,
			   unsigned long addr, spinlock_t **ptlp)
{
	spinlock_t *ptl;	/* lock of the entry being read */
	pte_t *ptep;
	pmd_t pmd;

	rcu_read_lock();
	pmd = pmdp_get_lockless(pmdp);
	if (pmd_none(pmd) || !pmd_present(pmd) || pmd_leaf(pmd) ||
	    pmd_bad(pmd)) {
		rcu_read_unlock();
		return NULL;
	}
	ptep = __pte_map(&pmd, addr);
	ptl = pte_lockptr(mm, &pmd);
	spin_lock(ptl);
	if (likely(pmd_same(pmd, pmdp_get_lockless(pmdp)))) {
		*ptlp = ptl;
		return ptep;
	}
	pte_unmap_unlock(ptep, ptl);
	return NULL;
}

static void lab_walk_pte(struct mm_struct *mm, pmd_t *pmdp, unsigned long addr,
			 struct lab_page_info *info, bool *retry)
{
	spinlock_t *ptl;	/* lock of the entry being read */
	pte_t *ptep;
	pte_t pte;
	u32 flags = 0;

	ptep = lab_pte_lock(mm, pmdp, addr, &ptl);
	if (!ptep) {
		*retry = true;
		return;
	}
	pte = ptep_get(ptep);
	/* Swap, migration and device-private entries are not present. */
	if (pte_present(pte)) {
		if (pte_write(pte))
			flags |= LAB_PAGE_WRITABLE;
		if (pte_special(pte))
			flags |= LAB_PAGE_SPECIAL;
		if (lab_pte_devmap(pte))
			flags |= LAB_PAGE_DEVMAP;
		lab_fill_mapped(info, pte_pfn(pte), LAB_LEVEL_PTE, flags);
	}
	pte_unmap_unlock(ptep, ptl);
}

static void lab_walk_pmd(struct mm_struct *mm, pud_t *pudp, unsigned long addr,
			 struct lab_page_info *info)
{
	pmd_t *pmdp = pmd_offset(pudp, addr);
	spinlock_t *ptl;	/* lock of the entry being read */
	bool retry;
	pmd_t pmd;
	u32 flags;

again:
	pmd = pmdp_get_lockless(pmdp);
	if (pmd_none(pmd) || !pmd_present(pmd))
		return;
	if (pmd_leaf(pmd)) {
		ptl = pmd_lock(mm, pmdp);
		pmd = pmdp_get(pmdp);
		if (!pmd_leaf(pmd)) {
			/* Split or zapped meanwhile. */
			spin_unlock(ptl);
			goto again;
		}
		if (pmd_present(pmd)) {
			flags = 0;
			if (pmd_write(pmd))
				flags |= LAB_PAGE_WRITABLE;
			if (lab_pmd_devmap(pmd))
				flags |= LAB_PAGE_DEVMAP;
			lab_fill_mapped(info, pmd_pfn(pmd) +
					((addr & ~PMD_MASK) >> PAGE_SHIFT),
					LAB_LEVEL_PMD, flags);
		}
		spin_unlock(ptl);
		return;
	}
	if (pmd_bad(pmd))
		return;

	retry = false;
	lab_walk_pte(mm, pmdp, addr, info, &retry);
	if (retry)
		goto again;
}

/*
 * Walk current's page tables for @addr by hand: no fault and no page
 * reference, so the counts are the ones the test set up.  The caller
 * holds mmap_read_lock and has found a VMA, which keeps the upper tables
 * from being freed.
 */
static void lab_walk(struct mm_struct *mm, unsigned long addr,
		     struct lab_page_info *info)
{
	spinlock_t *ptl;	/* lock of the entry being read */
	pgd_t *pgdp;
	p4d_t *p4dp;
	pud_t *pudp;
	pud_t pud;
	u32 flags;

	pgdp = pgd_offset(mm, addr);
	if (pgd_none(*pgdp) || pgd_bad(*pgdp))
		return;
	p4dp = p4d_offset(pgdp, addr);
	if (p4d_none(*p4dp) || p4d_bad(*p4dp))
		return;
	pudp = pud_offset(p4dp, addr);

again:
	pud = pudp_get(pudp);
	if (pud_none(pud))
		return;
	if (pud_leaf(pud)) {
		ptl = pud_lock(mm, pudp);
		pud = pudp_get(pudp);
		if (!pud_none(pud) && !pud_leaf(pud)) {
			spin_unlock(ptl);
			goto again;
		}
		if (pud_leaf(pud) && pud_present(pud)) {
			flags = 0;
			if (pud_write(pud))
				flags |= LAB_PAGE_WRITABLE;
			if (lab_pud_devmap(pud))
				flags |= LAB_PAGE_DEVMAP;
			lab_fill_mapped(info, pud_pfn(pud) +
					((addr & ~PUD_MASK) >> PAGE_SHIFT),
					LAB_LEVEL_PUD, flags);
		}
		spin_unlock(ptl);
		return;
	}
	if (!pud_present(pud) || pud_bad(pud))
		return;
	lab_walk_pmd(mm, pudp, addr, info);
}

/*
 * Which file an FS DAX folio belongs to.  fs/dax.c records it when the
 * folio's DAX entry is created and a mapping of the page must not outlive
 * that; a page mapped without it is one that truncate and writeback can't
 * find through the file.  6.12 marks a reflinked folio with a special
 * mapping value, the series with a share count and no mapping.
 */
static u32 lab_dax_owner(struct vm_area_struct *vma, unsigned long pfn)
{
	struct address_space *mapping;
	struct dev_pagemap *pgmap;
	struct folio *folio;
	struct page *page;
	u32 flags = 0;

	page = lab_pfn_page(pfn, &pgmap);
	if (!page || !pgmap)
		goto out;
	if (pgmap->type != MEMORY_DEVICE_FS_DAX || !vma->vm_file)
		goto out;
	folio = page_folio(page);
	mapping = READ_ONCE(folio->mapping);
	if (mapping && mapping == vma->vm_file->f_mapping)
		flags |= LAB_PAGE_DAX_OWNED;
#ifdef PAGE_MAPPING_DAX_SHARED
	else if ((void *)mapping == PAGE_MAPPING_DAX_SHARED)
		flags |= LAB_PAGE_DAX_SHARED;
#else
	else if (!mapping && READ_ONCE(folio->page.share))
		flags |= LAB_PAGE_DAX_SHARED;
#endif
out:
	if (pgmap)
		put_dev_pagemap(pgmap);
	return flags;
}

static long lab_by_addr(void __user *uarg)
{
	struct vm_area_struct *vma;
	struct mm_struct *mm = current->mm;
	struct lab_page_info info;
	unsigned long addr;

	if (copy_from_user(&info, uarg, sizeof(info)))
		return -EFAULT;
	addr = info.addr;
	memset(&info, 0, sizeof(info));
	info.addr = addr;

	if (!mm || addr >= TASK_SIZE)
		return -EFAULT;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	/* Without a VMA the tables may be torn down by munmap right now. */
	vma = vma_lookup(mm, addr);
	if (vma)
		lab_walk(mm, addr, &info);
	if (info.flags & LAB_PAGE_PRESENT)
		info.flags |= lab_dax_owner(vma, info.pfn);
	mmap_read_unlock(mm);

	if (copy_to_user(uarg, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static long lab_by_pfn(void __user *uarg)
{
	struct lab_page_info info;
	struct dev_pagemap *pgmap;
	struct page *page;
	u64 addr, pfn;

	if (copy_from_user(&info, uarg, sizeof(info)))
		return -EFAULT;
	addr = info.addr;
	pfn = info.pfn;
	memset(&info, 0, sizeof(info));
	info.addr = addr;
	info.pfn = pfn;

	if (pfn > ULONG_MAX)
		return -ENXIO;
	page = lab_pfn_page(pfn, &pgmap);
	if (page) {
		/* PRESENT: there is a readable struct page, the rest is valid. */
		info.flags = LAB_PAGE_PRESENT;
		lab_fill_page(&info, page, pgmap);
	}
	if (pgmap)
		put_dev_pagemap(pgmap);
	if (!page)
		return -ENXIO;

	if (copy_to_user(uarg, &info, sizeof(info)))
		return -EFAULT;
	return 0;
}

static void lab_put_pages(struct page **pages, unsigned long nr, bool pinned)
{
	unsigned long i;

	if (pinned) {
		unpin_user_pages(pages, nr);
		return;
	}
	for (i = 0; i < nr; i++)
		put_page(pages[i]);
}

static void lab_hold_free(struct lab_hold_rec *rec)
{
	lab_put_pages(rec->pages, rec->nr_pages, rec->pinned);
	kvfree(rec->pages);
	kfree(rec);
}

static long lab_gup(unsigned long addr, unsigned long nr, u32 flags,
		    struct page **pages)
{
	struct mm_struct *mm = current->mm;
	unsigned int gup_flags = 0;
	long ret;

	if (flags & LAB_HOLD_WRITE)
		gup_flags |= FOLL_WRITE;
	if (flags & LAB_HOLD_LONGTERM)
		gup_flags |= FOLL_LONGTERM;

	if (flags & LAB_HOLD_FAST) {
		if (flags & LAB_HOLD_PIN)
			return pin_user_pages_fast(addr, nr, gup_flags, pages);
		return get_user_pages_fast(addr, nr, gup_flags, pages);
	}

	if (!mm)
		return -EFAULT;
	if (mmap_read_lock_killable(mm))
		return -EINTR;
	if (flags & LAB_HOLD_PIN)
		ret = pin_user_pages(addr, nr, gup_flags, pages);
	else
		ret = get_user_pages(addr, nr, gup_flags, pages);
	mmap_read_unlock(mm);
	return ret;
}

static long lab_hold(struct lab_file *lf, void __user *uarg)
{
	struct lab_hold_rec *rec;
	struct lab_hold h;
	long ret;
	int id;

	if (copy_from_user(&h, uarg, sizeof(h)))
		return -EFAULT;
	if (h.flags & ~LAB_HOLD_ALL_FLAGS)
		return -EINVAL;
	if ((h.flags & LAB_HOLD_LONGTERM) && !(h.flags & LAB_HOLD_PIN))
		return -EINVAL;
	if (!h.nr_pages || h.nr_pages > LAB_HOLD_MAX_PAGES)
		return -EINVAL;
	if (h.addr > ULONG_MAX || !PAGE_ALIGNED(h.addr))
		return -EINVAL;

	rec = kzalloc(sizeof(*rec), GFP_KERNEL);
	if (!rec)
		return -ENOMEM;
	rec->pinned = h.flags & LAB_HOLD_PIN;
	rec->pages = kvmalloc_array(h.nr_pages, sizeof(*rec->pages),
				    GFP_KERNEL);
	if (!rec->pages) {
		ret = -ENOMEM;
		goto out_free;
	}

	ret = lab_gup(h.addr, h.nr_pages, h.flags, rec->pages);
	if (ret < 0)
		goto out_free;
	rec->nr_pages = ret;
	if (ret != h.nr_pages) {
		/* All or nothing: the test asked for an exact range. */
		ret = -EFAULT;
		goto out_put;
	}

	mutex_lock(&lf->lock);
	id = idr_alloc_cyclic(&lf->holds, rec, 1, 0, GFP_KERNEL);
	mutex_unlock(&lf->lock);
	if (id < 0) {
		ret = id;
		goto out_put;
	}

	h.id = id;
	if (copy_to_user(uarg, &h, sizeof(h))) {
		/* Nobody learnt the id; undo unless it was guessed and freed. */
		mutex_lock(&lf->lock);
		rec = idr_remove(&lf->holds, id);
		mutex_unlock(&lf->lock);
		if (rec)
			lab_hold_free(rec);
		return -EFAULT;
	}
	return 0;

out_put:
	lab_put_pages(rec->pages, rec->nr_pages, rec->pinned);
out_free:
	kvfree(rec->pages);
	kfree(rec);
	return ret;
}

static long lab_release_hold(struct lab_file *lf, void __user *uarg)
{
	struct lab_hold_rec *rec;
	s32 id;

	if (get_user(id, (s32 __user *)uarg))
		return -EFAULT;
	if (id <= 0)
		return -ENOENT;

	mutex_lock(&lf->lock);
	rec = idr_remove(&lf->holds, id);
	mutex_unlock(&lf->lock);
	if (!rec)
		return -ENOENT;
	lab_hold_free(rec);
	return 0;
}

static void lab_scan_page(struct lab_scan *scan, unsigned long pfn)
{
	struct page *page = pfn_to_page(pfn);
	struct folio *folio = page_folio(page);
	int ref = page_ref_count(page);
	int mapcount = lab_page_mapcount(page, folio);

	scan->nr_pages++;
	if (ref == 0)
		scan->nr_ref0++;
	else if (ref == 1)
		scan->nr_ref1++;
	if (PageCompound(page))
		scan->nr_compound++;
	if (ref > 1 || mapcount > 0 || folio_mapped(folio)) {
		if (!scan->nr_busy) {
			scan->first_busy_pfn = pfn;
			scan->first_busy_refcount = ref;
			scan->first_busy_mapcount = mapcount;
		}
		scan->nr_busy++;
	}
}

static long lab_scan(void __user *uarg)
{
	struct dev_pagemap *pgmap;
	struct lab_scan scan;
	unsigned long pfn, end;
	long ret = 0;
	u64 in_pfn;
	int i;

	if (copy_from_user(&scan, uarg, sizeof(scan)))
		return -EFAULT;
	in_pfn = scan.pfn;
	memset(&scan, 0, sizeof(scan));
	scan.pfn = in_pfn;

	if (in_pfn > ULONG_MAX || !pfn_valid(in_pfn))
		return -ENXIO;
	/* The reference keeps the memmap from being torn down meanwhile. */
	pgmap = get_dev_pagemap(in_pfn, NULL);
	if (!pgmap)
		return -ENXIO;
	scan.pgmap_type = lab_pgmap_type(pgmap);

	for (i = 0; i < pgmap->nr_range; i++) {
		end = lab_end_pfn(pgmap, i);
		for (pfn = lab_first_pfn(pgmap, i); pfn < end; pfn++) {
			lab_scan_page(&scan, pfn);
			if (scan.nr_pages % LAB_SCAN_BATCH)
				continue;
			if (fatal_signal_pending(current)) {
				ret = -EINTR;
				goto out;
			}
			cond_resched();
		}
	}
out:
	put_dev_pagemap(pgmap);
	if (!ret && copy_to_user(uarg, &scan, sizeof(scan)))
		ret = -EFAULT;
	return ret;
}

/* fs/dax.c's entry encoding: bit 1 of the value marks a PMD entry. */
#define LAB_DAX_PMD	BIT(1)

static long lab_dax_entries(void __user *uarg)
{
	XA_STATE(xas, NULL, 0);
	struct lab_dax_entries de;
	struct address_space *mapping;
	unsigned long claimed, indices;
	struct fd f;
	void *entry;
	long ret = 0;

	if (copy_from_user(&de, uarg, sizeof(de)))
		return -EFAULT;
	f = fdget(de.fd);
	if (!fd_file(f))
		return -EBADF;
	mapping = fd_file(f)->f_mapping;
	if (!IS_DAX(mapping->host)) {
		ret = -EINVAL;
		goto out;
	}
	memset(&de.nr_entries, 0, sizeof(de) - offsetof(typeof(de), nr_entries));

	xas.xa = &mapping->i_pages;
	xas_lock_irq(&xas);
	xas_for_each(&xas, entry, ULONG_MAX) {
		if (!xa_is_value(entry)) {
			de.nr_not_dax++;
			continue;
		}
		claimed = xa_to_value(entry) & LAB_DAX_PMD ?
			  1UL << (PMD_SHIFT - PAGE_SHIFT) : 1;
		indices = 1UL << xas_get_order(&xas);
		de.nr_entries++;
		de.nr_claimed += claimed;
		de.nr_indices += indices;
		if (claimed != indices)
			de.nr_mismatched++;
	}
	de.nrpages = mapping->nrpages;
	xas_unlock_irq(&xas);

	if (copy_to_user(uarg, &de, sizeof(de)))
		ret = -EFAULT;
out:
	fdput(f);
	return ret;
}

static long lab_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct lab_file *lf = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case LAB_PROBE_BY_ADDR:
		return lab_by_addr(uarg);
	case LAB_PROBE_BY_PFN:
		return lab_by_pfn(uarg);
	case LAB_PROBE_HOLD:
		return lab_hold(lf, uarg);
	case LAB_PROBE_RELEASE:
		return lab_release_hold(lf, uarg);
	case LAB_PROBE_SCAN:
		return lab_scan(uarg);
	case LAB_PROBE_DAX_ENTRIES:
		return lab_dax_entries(uarg);
	}
	return -ENOTTY;
}

static int lab_open(struct inode *inode, struct file *file)
{
	struct lab_file *lf;

	lf = kzalloc(sizeof(*lf), GFP_KERNEL);
	if (!lf)
		return -ENOMEM;
	mutex_init(&lf->lock);
	idr_init(&lf->holds);
	file->private_data = lf;
	return nonseekable_open(inode, file);
}

/* Drop whatever the test still holds, so a killed test leaks nothing. */
static int lab_release(struct inode *inode, struct file *file)
{
	struct lab_file *lf = file->private_data;
	struct lab_hold_rec *rec;
	int id;

	mutex_lock(&lf->lock);
	idr_for_each_entry(&lf->holds, rec, id)
		lab_hold_free(rec);
	idr_destroy(&lf->holds);
	mutex_unlock(&lf->lock);
	mutex_destroy(&lf->lock);
	kfree(lf);
	return 0;
}

static const struct file_operations lab_fops = {
	.owner		= THIS_MODULE,
	.open		= lab_open,
	.release	= lab_release,
	.unlocked_ioctl	= lab_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static int __init lab_probe_init(void)
{
	lab_dentry = debugfs_create_file("lab_probe", 0600, NULL, NULL,
					 &lab_fops);
	return PTR_ERR_OR_ZERO(lab_dentry);
}

static void __exit lab_probe_exit(void)
{
	debugfs_remove(lab_dentry);
}

module_init(lab_probe_init);
module_exit(lab_probe_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("ZONE_DEVICE refcount lab: page count probe and GUP holds");
