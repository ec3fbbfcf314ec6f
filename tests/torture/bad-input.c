// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input, tried once while the workload runs: each must be refused
 * or survived, and its result is one TAP line at the end.
 */
#include "torture.h"

/* ---- bad input, once, while the workload runs ------------------------- */

const char *const bad_name[NR_BAD] = {
	"bad_input.devdax_map_private_refused",
	"bad_input.contract_devdax_misaligned_offset_refused",
	"bad_input.devdax_1g_split_refused",
	"bad_input.fsdax_longterm_pin_refused",
	"bad_input.odirect_into_concurrently_unmapped_dax",
};

/* 1 pass, 0 fail, -1 skip; with a reason. */
int bad_result[NR_BAD];
char bad_why[NR_BAD][400];

#define BAD(i, res, ...)						\
	do {								\
		bad_result[i] = (res);					\
		snprintf(bad_why[i], sizeof(bad_why[i]), __VA_ARGS__);	\
	} while (0)
#define BAD_RET(...) do { BAD(__VA_ARGS__); return; } while (0)

static void bad_private(void)
{
	const char *dev = lab_env("LAB_DEVDAX2M");
	int fd;
	void *p;

	if (!dev)
		BAD_RET(BAD_PRIVATE, -1, "no LAB_DEVDAX2M");
	fd = open(dev, O_RDWR | O_CLOEXEC);
	p = mmap(NULL, SZ_2M, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p != MAP_FAILED) {
		munmap(p, SZ_2M);
		BAD(BAD_PRIVATE, 0, "MAP_PRIVATE of %s succeeded", dev);
	} else {
		BAD(BAD_PRIVATE, errno == EINVAL, "MAP_PRIVATE: %s (want EINVAL)",
		    strerror(errno));
	}
	close(fd);
}

/*
 * A 4K-long mapping of a 2M device must be refused.  So must a mapping
 * at an offset that is not 2M aligned, or at least its access must raise
 * SIGBUS: a PMD can only map the aligned 2M around the offset, so
 * anything else hands out memory the caller did not ask for.  The test
 * area is far from the slots; the words written there say which device
 * offset a mapping reaches.
 */
static void bad_misaligned(void)
{
	const char *dev = lab_env("LAB_DEVDAX2M");
	const off_t area = 256UL << 20;
	uint64_t seed = base_seed | 1, got;
	char *p;
	int fd;

	if (!dev)
		BAD_RET(BAD_MISALIGNED, -1, "no LAB_DEVDAX2M");
	fd = open(dev, O_RDWR | O_CLOEXEC);
	p = mmap(NULL, SZ_4K, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED || errno != EINVAL) {
		if (p != MAP_FAILED)
			munmap(p, SZ_4K);
		close(fd);
		BAD_RET(BAD_MISALIGNED, 0, "4K mapping of a 2M device: %s",
			p != MAP_FAILED ? "succeeded" : strerror(errno));
	}
	p = lab_map(fd, 2 * SZ_2M, SZ_2M, area);
	if (p == MAP_FAILED) {
		close(fd);
		BAD_RET(BAD_MISALIGNED, 0, "aligned mapping: %s", strerror(errno));
	}
	lab_fill(p, 2 * SZ_2M, SZ_4K, seed);
	munmap(p, 2 * SZ_2M);

	p = lab_map(fd, SZ_2M, SZ_2M, area + SZ_4K);
	if (p == MAP_FAILED) {
		BAD(BAD_MISALIGNED, errno == EINVAL,
		    "2M mapping at a 4K offset refused: %s", strerror(errno));
	} else if (sigsetjmp(bus_jb, 1) == 0) {
		bus_armed = 1;
		got = *(volatile uint64_t *)p;
		bus_armed = 0;
		BAD(BAD_MISALIGNED, 0,
		    "2M mapping at a 4K offset accepted; its first word is %s",
		    got == lab_word(seed, SZ_4K) ? "from that offset" :
		    got == lab_word(seed, 0) ? "from the 2M-aligned offset below (wrong memory)" :
		    "from neither");
	} else {
		BAD(BAD_MISALIGNED, 1, "2M mapping at a 4K offset: SIGBUS on access");
	}
	if (p != MAP_FAILED)
		munmap(p, SZ_2M);
	close(fd);
}

/* Shrinking or punching a 1G device DAX mapping would split a PUD. */
static void bad_split_1g(void)
{
	const char *dev = lab_env("LAB_DEVDAX1G");
	uint64_t seed = base_seed | 1;
	char *p, *q;
	int fd, un;

	if (!dev)
		BAD_RET(BAD_SPLIT_1G, -1, "no LAB_DEVDAX1G");
	fd = open(dev, O_RDWR | O_CLOEXEC);
	p = lab_map(fd, SZ_1G, SZ_1G, 0);
	if (p == MAP_FAILED) {
		close(fd);
		BAD_RET(BAD_SPLIT_1G, 0, "cannot map 1G of %s: %s", dev,
			   strerror(errno));
	}
	lab_fill(p, SZ_1G, SZ_2M, seed);
	q = mremap(p, SZ_1G, SZ_1G - SZ_2M, 0);
	un = munmap(p + SZ_2M, SZ_2M);
	if (q != MAP_FAILED || un == 0)
		BAD(BAD_SPLIT_1G, 0, "a split of the 1G mapping succeeded (mremap %s, munmap %s)",
		    q != MAP_FAILED ? "ok" : "refused", un ? "refused" : "ok");
	else if (lab_check(p, SZ_1G, SZ_2M, seed) != -1)
		BAD(BAD_SPLIT_1G, 0, "data changed after the refused split");
	else
		BAD(BAD_SPLIT_1G, 1, "mremap and munmap refused, data intact");
	munmap(p, SZ_1G);
	close(fd);
}

/* FOLL_LONGTERM on FS DAX: refused, and no reference left behind. */
static void bad_longterm(int probe)
{
	const char *dir = lab_env("LAB_XFS_DIR");
	struct lab_page_info before, after;
	char path[256];
	char *p;
	int fd, id;

	if (!dir)
		BAD_RET(BAD_LONGTERM, -1, "no LAB_XFS_DIR");
	snprintf(path, sizeof(path), "%s/torture-longterm", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fallocate(fd, 0, 0, SZ_2M))
		BAD_RET(BAD_LONGTERM, 0, "cannot create %s: %s", path,
			   strerror(errno));
	p = lab_map(fd, SZ_2M, SZ_2M, 0);
	if (p == MAP_FAILED) {
		close(fd);
		BAD_RET(BAD_LONGTERM, 0, "mmap: %s", strerror(errno));
	}
	lab_fill(p, SZ_2M, SZ_4K, base_seed);
	lab_info_addr(probe, p, &before);
	id = lab_hold(probe, p, SZ_2M, LAB_HOLD_PIN | LAB_HOLD_LONGTERM |
		      LAB_HOLD_WRITE);
	lab_info_addr(probe, p, &after);
	if (id >= 0) {
		lab_release(probe, id);
		BAD(BAD_LONGTERM, 0, "FOLL_LONGTERM pin of FS DAX succeeded");
	} else if (after.folio_refcount != before.folio_refcount) {
		BAD(BAD_LONGTERM, 0, "refused (%s) but the refcount went %d -> %d",
		    strerror(-id), before.folio_refcount, after.folio_refcount);
	} else {
		BAD(BAD_LONGTERM, 1, "refused: %s", strerror(-id));
	}
	munmap(p, SZ_2M);
	close(fd);
	unlink(path);
}

struct unmapper {
	char *addr;
	int fd;
	volatile int stop;
	unsigned long remaps, failures;
};

static void *unmapper_thread(void *arg)
{
	struct unmapper *u = arg;

	while (!u->stop) {
		munmap(u->addr, SZ_2M);
		if (mmap(u->addr, SZ_2M, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, u->fd, 0) == MAP_FAILED)
			u->failures++;
		u->remaps++;
	}
	return NULL;
}

/* O_DIRECT into a DAX buffer that another thread unmaps and remaps. */
static void bad_dio_unmap(void)
{
	const char *dir = lab_env("LAB_EXT4_DIR");
	unsigned long full = 0, partial = 0, efault = 0, other = 0;
	struct unmapper u = { 0 };
	char path[256];
	pthread_t t;
	time_t end;
	int nv;

	if (!dir || !nvme)
		BAD_RET(BAD_DIO_UNMAP, -1, "no LAB_EXT4_DIR or LAB_NVME");
	snprintf(path, sizeof(path), "%s/torture-dio", dir);
	u.fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	nv = open(nvme, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (u.fd < 0 || nv < 0 || fallocate(u.fd, 0, 0, SZ_2M))
		BAD_RET(BAD_DIO_UNMAP, 0, "setup: %s", strerror(errno));
	u.addr = lab_map(u.fd, SZ_2M, SZ_2M, 0);
	if (u.addr == MAP_FAILED || pthread_create(&t, NULL, unmapper_thread, &u))
		BAD_RET(BAD_DIO_UNMAP, 0, "setup: %s", strerror(errno));
	for (end = time(NULL) + 3; time(NULL) < end;) {
		ssize_t n = pread(nv, u.addr, SZ_2M, 0);

		if (n == (ssize_t)SZ_2M)
			full++;
		else if (n >= 0)
			partial++;
		else if (errno == EFAULT)
			efault++;
		else
			other++;
	}
	u.stop = 1;
	pthread_join(t, NULL);
	munmap(u.addr, SZ_2M);
	close(u.fd);
	close(nv);
	unlink(path);
	BAD(BAD_DIO_UNMAP, other == 0 && u.failures == 0,
	    "%lu full, %lu short, %lu EFAULT, %lu other errors; %lu remaps (%lu failed)",
	    full, partial, efault, other, u.remaps, u.failures);
}

void *bad_input_thread(void *arg)
{
	int probe = lab_probe_open();

	for (int i = 0; i < NR_BAD; i++)
		BAD(i, -1, "not run");
	sleep(1);
	bad_private();
	bad_misaligned();
	bad_split_1g();
	bad_longterm(probe);
	bad_dio_unmap();
	close(probe);
	return NULL;
}
