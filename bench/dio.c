// SPDX-License-Identifier: GPL-2.0
/*
 * O_DIRECT read from a block device into a DAX-mapped buffer: the block
 * layer pins the buffer's pages (pin_user_pages_fast()), the device
 * writes into them, and the pages are dirtied and unpinned again.
 *
 *   dio -n NAME -f SRCDEV (-e ENV [-d] | -A) -l BUFLEN -s ALIGN -o IOSIZE
 *       -i ITERS -k REPS [-c]
 *
 *   -f SRCDEV  block device to read from (O_DIRECT)
 *   -e ENV     buffer: a file in directory $ENV or, with -d, a device
 *              DAX node; -A anonymous memory, huge pages if ALIGN >= 2M
 *              (the reference)
 *   -o IOSIZE  bytes per read; the reads walk the buffer round robin
 *   -c         time with CLOCK_THREAD_CPUTIME_ID instead of the guest
 *              clock: a device that completes by interrupt leaves the
 *              CPU idle, and under "-icount sleep=off" idle time jumps to
 *              the next timer tick, which is noise, not cost
 *
 * Result: nanoseconds per 4K page read.
 */
#include "bench.h"

#include <getopt.h>

static void usage(void)
{
	fprintf(stderr, "usage: dio -n NAME -f SRCDEV (-e ENV [-d] | -A) -l BUFLEN -s ALIGN -o IOSIZE -i ITERS -k REPS [-c]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench_args a = BENCH_ARGS_INIT;
	unsigned long align = SZ_4K, iosize = 0;
	int anon = 0, cputime = 0, opt, fd = -1, src;
	const char *srcdev = NULL;
	double cost[BENCH_MAX_REPS];
	char path[256] = "";
	off_t srcsize;
	char *p;

	while ((opt = getopt(argc, argv, "n:f:e:dAl:s:o:i:k:c")) != -1) {
		if (bench_arg(opt, &a))
			continue;
		switch (opt) {
		case 'f':
			srcdev = optarg;
			break;
		case 'A':
			anon = 1;
			break;
		case 's':
			align = bench_size(optarg);
			break;
		case 'o':
			iosize = bench_size(optarg);
			break;
		case 'c':
			cputime = 1;
			break;
		default:
			usage();
		}
	}
	if (!a.len || !align || !iosize || a.len % iosize || iosize % SZ_4K ||
	    a.iters < 1 || (!a.env == !anon))
		usage();
	if (!srcdev || !*srcdev)
		bench_na("no source block device (LAB_NVME unset?)");

	bench_pin_cpu();
	src = open(srcdev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (src < 0)
		bench_na_errno("open %s O_DIRECT", srcdev);
	srcsize = lseek(src, 0, SEEK_END);
	if (srcsize < (off_t)iosize)
		bench_na("%s is smaller than one read", srcdev);

	if (anon) {
		p = lab_aligned_hint(a.len, align);
		if (p)
			p = mmap(p, a.len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (!p || p == MAP_FAILED)
			bench_na_errno("mmap anonymous");
		/* THP "always" does not compact for a fault; madvise does. */
		if (align >= SZ_2M && madvise(p, a.len, MADV_HUGEPAGE))
			bench_na_errno("madvise(MADV_HUGEPAGE)");
	} else {
		fd = bench_open(a.env, a.kind, a.len, path, sizeof(path));
		p = lab_map(fd, a.len, align, 0);
		if (p == MAP_FAILED)
			bench_na_errno("mmap %s", path);
	}
	memset(p, 1, a.len);
	bench_check_level(p, align);

	for (int r = -1; r < a.reps; r++) {
		uint64_t t0 = cputime ? bench_cpu_now() : bench_now();
		unsigned long boff = 0;
		off_t soff = 0;

		for (int i = 0; i < a.iters; i++) {
			ssize_t n = pread(src, p + boff, iosize, soff);

			if (n != (ssize_t)iosize)
				bench_na_errno("O_DIRECT read of %lu bytes returned %zd",
					       iosize, n);
			boff = (boff + iosize) % a.len;
			soff = soff + 2 * (off_t)iosize <= srcsize ? soff + iosize : 0;
		}
		if (r >= 0)
			cost[r] = (double)((cputime ? bench_cpu_now() : bench_now()) - t0) /
				  a.iters / (iosize / SZ_4K);
	}
	bench_result("ns/4K", cost, a.reps);

	munmap(p, a.len);
	if (!anon && a.kind == LAB_FSDAX)
		unlink(path);
	return 0;
}
