// SPDX-License-Identifier: GPL-2.0
/*
 * More operations on DAX mappings: MAP_PRIVATE copy-on-write after fork,
 * mlock, and what /proc/self/smaps and /proc/self/pagemap report.  The
 * data must survive and the page counts must return to their idle values.
 * Splitting huge mappings is in mapping-split.c, mremap in
 * mapping-remap.c, the helpers the three share in mapping.h.
 *
 * contract_* tests check a rule the series introduces and must fail on
 * the baseline; the others hold on both kernels.
 */
#include "mapping.h"

#include <sys/wait.h>

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
