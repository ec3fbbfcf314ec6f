// SPDX-License-Identifier: GPL-2.0
/*
 * Fault in, touch and unmap: the cost of one page fault plus its share
 * of the munmap that tears the mapping down again.
 *
 *   fault -n NAME -e ENV|-A [-d] -l LEN -s STRIDE -i ITERS -k REPS [-H]
 *
 *   -e ENV     backing object: $ENV is a directory (a file of LEN bytes
 *              is created and allocated there) or, with -d, a device DAX
 *              node
 *   -A         anonymous private memory instead (allocated and zeroed on
 *              every fault)
 *   -H         madvise(MADV_HUGEPAGE) on the anonymous mapping
 *   -l LEN     mapping length; -s STRIDE the size one fault maps (4K, 2M,
 *              1G): every STRIDE bytes get one store
 *   -i ITERS   map/touch/unmap cycles per repetition, -k REPS repetitions
 *
 * One untimed cycle runs first: it allocates the file blocks or shmem
 * pages, so the timed cycles measure faults on memory that exists, the
 * way a DAX fault finds its pmem.  The result is nanoseconds of guest
 * time per fault (per STRIDE bytes), map and unmap included.
 */
#include "bench.h"

#include <getopt.h>

static void usage(void)
{
	fprintf(stderr, "usage: fault -n NAME (-e ENV [-d] | -A [-H]) -l LEN -s STRIDE -i ITERS -k REPS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench_args a = BENCH_ARGS_INIT;
	unsigned long stride = 0;
	int anon = 0, thp = 0, opt, fd = -1;
	double cost[BENCH_MAX_REPS];
	char path[256] = "";
	char *hint;

	while ((opt = getopt(argc, argv, "n:e:dAHl:s:i:k:")) != -1) {
		if (bench_arg(opt, &a))
			continue;
		switch (opt) {
		case 'A':
			anon = 1;
			break;
		case 'H':
			thp = 1;
			break;
		case 's':
			stride = bench_size(optarg);
			break;
		default:
			usage();
		}
	}
	if (!a.len || !stride || a.len % stride || a.iters < 1 ||
	    (!a.env == !anon))
		usage();

	bench_pin_cpu();
	if (!anon)
		fd = bench_open(a.env, a.kind, a.len, path, sizeof(path));

	/* One aligned address range, left free and reused by every cycle. */
	hint = lab_aligned_hint(a.len, stride);
	if (!hint)
		bench_na_errno("cannot reserve %lu bytes of address space",
			       a.len);
	munmap(hint, a.len);

	for (int r = -1; r < a.reps; r++) {
		uint64_t t0;

		if (r == 0)
			bench_window(0);
		t0 = bench_now();

		for (int i = 0; i < a.iters; i++) {
			char *p;

			if (anon)
				p = mmap(hint, a.len, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
					 -1, 0);
			else
				p = mmap(hint, a.len, PROT_READ | PROT_WRITE,
					 MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
			if (p == MAP_FAILED)
				bench_na_errno("mmap %s", anon ? "anonymous" : path);
			if (thp && madvise(p, a.len, MADV_HUGEPAGE))
				bench_na_errno("madvise(MADV_HUGEPAGE)");
			for (unsigned long off = 0; off < a.len; off += stride)
				p[off] = 1;
			if (r < 0 && i == 0)
				bench_check_level(p, stride);
			if (munmap(p, a.len))
				bench_na_errno("munmap");
		}
		if (r >= 0)
			cost[r] = (double)(bench_now() - t0) / a.iters /
				  (a.len / stride);
	}
	bench_window((unsigned long)a.reps * a.iters * (a.len / stride));
	bench_result(bench_unit(stride), cost, a.reps);

	if (a.kind == LAB_FSDAX && !anon)
		unlink(path);
	return 0;
}
