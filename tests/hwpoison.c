// SPDX-License-Identifier: GPL-2.0
/*
 * Memory failure on DAX pages, injected with madvise(MADV_HWPOISON)
 * (CONFIG_MEMORY_FAILURE, CAP_SYS_ADMIN).  The process that maps the page
 * must get SIGBUS with si_code BUS_MCEERR_AR, the address of the page and
 * the size of the mapping that covered it (si_addr_lsb: 12 for a PTE, 21
 * for a PMD, 30 for a PUD).  The memory-failure code finds the mapping
 * through the page (mapping/index, rmap walk) and the mapping size through
 * the page tables, both of which the series touches.  The kernel must
 * survive, and the page must not be left referenced or mapped.
 *
 * All behavioural: the same on both kernels.
 *
 * Poisoned pages stay marked for the rest of the boot.  FS DAX tests use
 * a file of their own and leave it in place, so the poisoned block is
 * never handed to another file; device DAX tests poison the last
 * alignment-sized chunk of the device, which other tests do not use.
 */
#include "lab_harness.h"

#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#ifndef BUS_MCEERR_AR
#define BUS_MCEERR_AR 4
#define BUS_MCEERR_AO 5
#endif

#define FS_PAGES	16

/* What the child saw, shared with the parent. */
struct report {
	int stage;		/* how far the child got */
	int map_errno;
	int info_ret;
	uint64_t pfn;
	uint32_t level;
	uint32_t flags;
	int madv_ret;
	int madv_errno;
	int signo;
	int code;		/* si_code */
	uint64_t addr;		/* si_addr */
	int addr_lsb;		/* si_addr_lsb */
	uint64_t target;	/* the address poisoned */
};

enum { ST_START, ST_MAPPED, ST_PROBED, ST_MADVISE, ST_SIGNAL, ST_RETURNED };

static volatile struct report *rep;
static sigjmp_buf jb;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	rep->signo = sig;
	rep->code = si->si_code;
	rep->addr = (uintptr_t)si->si_addr;
	rep->addr_lsb = si->si_addr_lsb;
	rep->stage = ST_SIGNAL;
	siglongjmp(jb, 1);
}

FIXTURE(hwpoison) {
	int probe;
	int fd;
	char path[PATH_MAX];
	size_t maplen;		/* bytes to map */
	off_t off;		/* offset of the mapping in the file/device */
	size_t poff;		/* offset of the poisoned page in the mapping */
	struct report *rep;
	pid_t child;
};

/*
 * The standard variants, plus xfs with a file that a PMD maps: the page
 * poisoned inside it is not the first page of its folio, and it is that
 * page, not the folio's head, that must be marked and named in SIGBUS.
 */
FIXTURE_VARIANT(hwpoison) { struct lab_dax dax; size_t fs_len; };
FIXTURE_VARIANT_ADD(hwpoison, ext4) { .dax = LAB_EXT4 };
FIXTURE_VARIANT_ADD(hwpoison, xfs) { .dax = LAB_XFS };
FIXTURE_VARIANT_ADD(hwpoison, xfs_pmd) { .dax = LAB_XFS, .fs_len = SZ_2M };
FIXTURE_VARIANT_ADD(hwpoison, devdax4k) { .dax = LAB_DAX4K };
FIXTURE_VARIANT_ADD(hwpoison, devdax2m) { .dax = LAB_DAX2M };
FIXTURE_VARIANT_ADD(hwpoison, devdax1g) { .dax = LAB_DAX1G };

FIXTURE_SETUP(hwpoison)
{
	const struct lab_dax *dax = &variant->dax;
	uint32_t buf[SZ_4K / sizeof(uint32_t)];
	size_t pg, i;

	self->probe = self->fd = -1;
	self->child = -1;
	self->rep = MAP_FAILED;
	LAB_REQUIRE_ENV(dax->env);
	self->probe = lab_probe_open();
	ASSERT_LE(0, self->probe)
		TH_LOG("cannot open %s: %s (lab_probe not loaded?)", LAB_PROBE_PATH, strerror(errno));

	if (dax->kind == LAB_FSDAX) {
		size_t len = variant->fs_len ? variant->fs_len : FS_PAGES * SZ_4K;

		/* A file of its own, kept afterwards: see the top comment. */
		self->fd = lab_dax_open(dax, "hwpoisoned", len,
					self->path, sizeof(self->path));
		ASSERT_LE(0, self->fd) TH_LOG("create %s: %s", self->path, strerror(errno));
		for (pg = 0; pg < len / SZ_4K; pg++) {
			for (i = 0; i < SZ_4K / sizeof(*buf); i++)
				buf[i] = (uint32_t)(pg << 16 | i);
			ASSERT_EQ((ssize_t)SZ_4K, pwrite(self->fd, buf, SZ_4K, pg * SZ_4K));
		}
		ASSERT_EQ(0, fsync(self->fd));
		self->maplen = len;
		self->off = 0;
		self->poff = variant->fs_len ? 5 * SZ_4K : SZ_4K;
	} else {
		uint64_t size = lab_devdax_attr(lab_env(dax->env), "size");

		ASSERT_LT(0ULL, size) TH_LOG("cannot read the size of %s", lab_env(dax->env));
		if (size < 2 * dax->align)
			SKIP(return, "%s (%llu bytes) has no spare %lu-byte chunk to poison",
			     lab_env(dax->env), (unsigned long long)size, dax->align);
		self->fd = lab_dax_open(dax, "", 0, self->path, sizeof(self->path));
		ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", self->path, strerror(errno));
		self->maplen = dax->align;
		self->off = (size / dax->align - 1) * dax->align;
		self->poff = 0;
	}
	self->rep = mmap(NULL, sizeof(*self->rep), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->rep);
	memset(self->rep, 0, sizeof(*self->rep));
}

FIXTURE_TEARDOWN(hwpoison)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (self->fd >= 0)
		close(self->fd);	/* FS DAX: the file stays, see above */
	if (self->rep != MAP_FAILED)
		munmap(self->rep, sizeof(*self->rep));
	if (self->probe >= 0)
		close(self->probe);
}

/*
 * Child: map, touch, record the page, optionally drop privileges, and
 * poison the page.  Exits 0 after a SIGBUS, 2 if madvise returned.
 */
static void child(FIXTURE_DATA(hwpoison) *self, const struct lab_dax *dax,
		  bool drop_caps)
{
	struct lab_page_info info;
	struct sigaction sa;
	char *map, *target;

	rep = self->rep;
	rep->stage = ST_START;
	map = lab_map(self->fd, self->maplen,
		      dax->align ? dax->align : self->maplen >= SZ_2M ? SZ_2M : SZ_4K,
		      self->off);
	if (map == MAP_FAILED) {
		rep->map_errno = errno;
		_exit(3);
	}
	target = map + self->poff;
	rep->target = (uintptr_t)target;
	(void)*(volatile char *)target;
	rep->stage = ST_MAPPED;
	rep->info_ret = lab_info_addr(self->probe, target, &info);
	rep->pfn = info.pfn;
	rep->level = info.level;
	rep->flags = info.flags;
	rep->stage = ST_PROBED;
	close(self->probe);

	if (drop_caps &&
	    (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534)))
		_exit(4);

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, NULL))
		_exit(5);
	if (sigsetjmp(jb, 1) == 0) {
		rep->stage = ST_MADVISE;
		rep->madv_ret = madvise(target, SZ_4K, MADV_HWPOISON);
		rep->madv_errno = errno;
		rep->stage = ST_RETURNED;
		_exit(2);
	}
	_exit(0);
}

/* Run the child and wait for it (bounded); returns its wait status. */
static int run_child(struct __test_metadata *_metadata, FIXTURE_DATA(hwpoison) *self,
		     const struct lab_dax *dax, bool drop_caps)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int status = 0, waited = 0;
	pid_t r;

	self->child = fork();
	if (self->child == 0)
		child(self, dax, drop_caps);
	if (self->child < 0)
		return -1;
	for (;;) {
		r = waitpid(self->child, &status, WNOHANG);
		if (r == self->child)
			break;
		if (waited >= 30000) {
			TH_LOG("child did not finish in 30 s (stage %d)", self->rep->stage);
			return -1;
		}
		nanosleep(&tick, NULL);
		waited += 10;
	}
	self->child = -1;
	return status;
}

static unsigned int level_shift(uint32_t level)
{
	switch (level) {
	case LAB_LEVEL_PTE: return 12;
	case LAB_LEVEL_PMD: return 21;
	case LAB_LEVEL_PUD: return 30;
	}
	return 0;
}

static const char *code_name(int code)
{
	switch (code) {
	case BUS_MCEERR_AR: return "BUS_MCEERR_AR";
	case BUS_MCEERR_AO: return "BUS_MCEERR_AO";
	case BUS_ADRERR: return "BUS_ADRERR";
	case BUS_ADRALN: return "BUS_ADRALN";
	case BUS_OBJERR: return "BUS_OBJERR";
	}
	return "other";
}

/*
 * Without CAP_SYS_ADMIN the injection is refused and nothing happens.
 * Runs first, before the page is poisoned by the next test.
 */
TEST_F_TIMEOUT(hwpoison, poison_needs_cap_sys_admin, 60)
{
	struct report *r = self->rep;
	int status;

	if (geteuid() != 0)
		SKIP(return, "needs root to drop privileges from");
	status = run_child(_metadata, self, &variant->dax, true);
	ASSERT_NE(-1, status);
	ASSERT_TRUE(WIFEXITED(status))
		TH_LOG("child killed by signal %d at stage %d", WTERMSIG(status), r->stage);
	ASSERT_NE(4, WEXITSTATUS(status)) TH_LOG("cannot drop privileges");
	ASSERT_NE(3, WEXITSTATUS(status)) TH_LOG("mmap: %s", strerror(r->map_errno));
	ASSERT_NE(0, WEXITSTATUS(status))
		TH_LOG("unprivileged madvise(MADV_HWPOISON) poisoned the page (SIGBUS si_code %d)",
		       r->code);
	ASSERT_EQ(2, WEXITSTATUS(status)) TH_LOG("child failed at stage %d", r->stage);
	if (r->madv_ret && r->madv_errno == EINVAL)
		SKIP(return, "madvise(MADV_HWPOISON) returned EINVAL: kernel without CONFIG_MEMORY_FAILURE");
	ASSERT_EQ(-1, r->madv_ret) TH_LOG("unprivileged madvise(MADV_HWPOISON) succeeded");
	ASSERT_EQ(EPERM, r->madv_errno)
		TH_LOG("unprivileged madvise(MADV_HWPOISON) failed with %s, expected EPERM",
		       strerror(r->madv_errno));
}

/* The mapping of a DAX page that gets poisoned is torn down with SIGBUS. */
TEST_F_TIMEOUT(hwpoison, poison_sends_sigbus_mceerr_ar, 60)
{
	struct report *r = self->rep;
	struct lab_page_info info;
	int status, ret;

	status = run_child(_metadata, self, &variant->dax, false);
	ASSERT_NE(-1, status);
	ASSERT_TRUE(WIFEXITED(status))
		TH_LOG("child was killed by signal %d at stage %d instead of catching SIGBUS",
		       WIFSIGNALED(status) ? WTERMSIG(status) : 0, r->stage);
	ASSERT_NE(3, WEXITSTATUS(status)) TH_LOG("mmap: %s", strerror(r->map_errno));
	ASSERT_EQ(0, r->info_ret) TH_LOG("probe page info: %s", strerror(-r->info_ret));
	ASSERT_TRUE(!!(r->flags & LAB_PAGE_ZONE_DEVICE))
		TH_LOG("mapped page is not ZONE_DEVICE memory (flags %#x)", r->flags);
	if (variant->fs_len)
		ASSERT_EQ((uint32_t)LAB_LEVEL_PMD, r->level)
			TH_LOG("the 2M file was not PMD mapped (level %u)", r->level);
	if (WEXITSTATUS(status) == 2 && r->madv_ret && r->madv_errno == EINVAL)
		SKIP(return, "madvise(MADV_HWPOISON) returned EINVAL: kernel without CONFIG_MEMORY_FAILURE");
	if (WEXITSTATUS(status) == 2 && r->madv_ret && r->madv_errno == EPERM)
		SKIP(return, "madvise(MADV_HWPOISON) needs CAP_SYS_ADMIN, which this test lacks");
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("no SIGBUS: child stage %d, madvise returned %d (%s)", r->stage,
		       r->madv_ret, r->madv_ret ? strerror(r->madv_errno) : "no error");

	ASSERT_EQ(SIGBUS, r->signo);
	ASSERT_EQ(BUS_MCEERR_AR, r->code)
		TH_LOG("SIGBUS si_code %d (%s), expected BUS_MCEERR_AR", r->code,
		       code_name(r->code));
	ASSERT_EQ(r->target, r->addr)
		TH_LOG("SIGBUS si_addr %#llx, the poisoned page is at %#llx",
		       (unsigned long long)r->addr, (unsigned long long)r->target);
	ASSERT_NE(0U, level_shift(r->level)) TH_LOG("probe reported mapping level %u", r->level);
	ASSERT_EQ((int)level_shift(r->level), r->addr_lsb)
		TH_LOG("SIGBUS si_addr_lsb %d, but the page was mapped at level %u (shift %u)",
		       r->addr_lsb, r->level, level_shift(r->level));

	/* The kernel is still here, and nothing holds or maps the page. */
	ret = lab_info_pfn(self->probe, r->pfn, &info);
	ASSERT_EQ(0, ret) TH_LOG("probe of the poisoned pfn %#llx: %s",
				 (unsigned long long)r->pfn, strerror(-ret));
	ASSERT_TRUE(!!(info.flags & LAB_PAGE_ZONE_DEVICE));
	ASSERT_TRUE(info.refcount <= 1 && info.mapcount <= 0 && info.folio_mapcount <= 0)
		TH_LOG("poisoned page (pfn %#llx) not idle after its user exited: refcount %d mapcount %d folio mapcount %d",
		       (unsigned long long)r->pfn, info.refcount, info.mapcount,
		       info.folio_mapcount);
}

TEST_HARNESS_MAIN
