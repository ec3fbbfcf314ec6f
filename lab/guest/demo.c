// SPDX-License-Identifier: GPL-2.0
/*
 * make run: show the reference-count life cycle of a DAX page on ext4,
 * xfs (both -o dax=always) and device DAX.  For each, fault in a page,
 * find its pfn with the lab_probe module and print its refcount,
 * mapcount and folio order while idle, mapped once, mapped by two
 * processes, and after munmap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "../../tests/probe/lab_probe.h"

#define SZ_2M (2UL << 20)

static int probe;

static const char *level_name(unsigned int level)
{
	static const char * const names[] = { "-", "PTE", "PMD", "PUD" };

	return level < 4 ? names[level] : "?";
}

static void show(const char *state, unsigned long pfn, const void *addr)
{
	struct lab_page_info info = { .addr = (unsigned long)addr, .pfn = pfn };
	int ret = ioctl(probe, addr ? LAB_PROBE_BY_ADDR : LAB_PROBE_BY_PFN, &info);

	if (ret) {
		printf("  %-22s probe failed: %s\n", state, strerror(errno));
		exit(1);
	}
	printf("  %-22s pfn %#9llx  refcount %2d  folio refcount %2d  mapcount %2d  order %2u  %s%s\n",
	       state, (unsigned long long)info.pfn, info.refcount,
	       info.folio_refcount, info.mapcount, info.order,
	       level_name(info.level),
	       info.flags & LAB_PAGE_ZONE_DEVICE ? "  zone-device" : "");
}

static char *map2m(int fd)
{
	/* Over-reserve so the mapping can be 2M aligned and PMD-mapped. */
	char *p = mmap(NULL, 2 * SZ_2M, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		return p;
	a = (char *)(((unsigned long)p + SZ_2M - 1) & ~(SZ_2M - 1));
	munmap(p, 2 * SZ_2M);
	return mmap(a, SZ_2M, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
}

static int demo(const char *what, const char *path, int is_file)
{
	struct lab_page_info info = { 0 };
	int fd, up[2], down[2];
	char *p, c;
	pid_t pid;

	printf("\n%s (%s)\n", what, path);
	fd = open(path, O_RDWR | (is_file ? O_CREAT | O_TRUNC : 0), 0600);
	if (fd < 0 || (is_file && fallocate(fd, 0, 0, SZ_2M))) {
		printf("  cannot set up %s: %s\n", path, strerror(errno));
		return 1;
	}
	p = map2m(fd);
	if (p == MAP_FAILED) {
		printf("  mmap failed: %s\n", strerror(errno));
		return 1;
	}
	memset(p, 0x5a, 4096);
	info.addr = (unsigned long)p;
	if (ioctl(probe, LAB_PROBE_BY_ADDR, &info) || !(info.flags & LAB_PAGE_PRESENT)) {
		printf("  page not mapped after touching it\n");
		return 1;
	}
	munmap(p, SZ_2M);
	show("idle (unmapped)", info.pfn, NULL);

	p = map2m(fd);
	p[0] = 1;
	show("mapped, 1 process", 0, p);

	/* The child faults the page in, then waits until it has been shown. */
	if (pipe(up) || pipe(down))
		return 1;
	pid = fork();
	if (pid == 0) {
		c = p[0];
		if (write(up[1], &c, 1) != 1 || read(down[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	if (read(up[0], &c, 1) != 1)
		return 1;
	show("mapped, 2 processes", 0, p);
	if (write(down[1], &c, 1) != 1)
		return 1;
	waitpid(pid, NULL, 0);

	munmap(p, SZ_2M);
	show("after munmap", info.pfn, NULL);
	close(fd);
	if (is_file)
		unlink(path);
	return 0;
}

int main(void)
{
	const char *kernel = getenv("LAB_KERNEL");
	char path[256];
	int ret = 0;

	probe = open(LAB_PROBE_PATH, O_RDWR);
	if (probe < 0) {
		fprintf(stderr, "demo: cannot open %s: %s (is lab_probe loaded?)\n",
			LAB_PROBE_PATH, strerror(errno));
		return 1;
	}
	printf("DAX page life cycle on the %s kernel\n", kernel ? kernel : "?");
	printf("(series: idle = refcount 0, each mapping +1 ref and +1 mapcount;\n"
	       " baseline: idle = refcount 1, mappings take nothing)\n");
	if (!getenv("LAB_EXT4_DIR") || !getenv("LAB_XFS_DIR") || !getenv("LAB_DEVDAX2M")) {
		fprintf(stderr, "demo: run me in the lab guest (LAB_* unset)\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/demo", getenv("LAB_EXT4_DIR"));
	ret |= demo("FS DAX on ext4", path, 1);
	snprintf(path, sizeof(path), "%s/demo", getenv("LAB_XFS_DIR"));
	ret |= demo("FS DAX on xfs (su=2m)", path, 1);
	ret |= demo("device DAX, 2M aligned", getenv("LAB_DEVDAX2M"), 0);
	return ret;
}
