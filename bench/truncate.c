// SPDX-License-Identifier: GPL-2.0
/*
 * Truncate or punch a hole in a DAX file while it is mapped and every
 * page of it is faulted in.  The filesystem must unmap the pages, wait
 * for them to be idle (break the layout) and drop its DAX entries before
 * it frees the blocks: the path the series changes most.
 *
 *   truncate -n NAME -e ENV -o truncate|punch|punch-one -l LEN -s STRIDE -k REPS
 *
 * Each repetition creates a file of LEN bytes in directory $ENV, maps
 * it, writes one byte per STRIDE (one fault each), then times only
 * ftruncate(fd, 0) or fallocate(PUNCH_HOLE) over the whole file.
 * Result: nanoseconds per mapped STRIDE-sized page.
 *
 * punch-one punches a single 4K page out of the middle of the file
 * instead, with every other page still mapped and dirty: what the layout
 * break around it costs when only that page changes.  Result:
 * nanoseconds per punch.
 */
#include "bench.h"

#include <getopt.h>
#include <linux/falloc.h>

static void usage(void)
{
	fprintf(stderr, "usage: truncate -n NAME -e ENV -o truncate|punch|punch-one -l LEN -s STRIDE -k REPS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench_args a = BENCH_ARGS_INIT;
	unsigned long stride = 0;
	int punch = -1, opt;
	double cost[BENCH_MAX_REPS];

	while ((opt = getopt(argc, argv, "n:e:o:l:s:k:")) != -1) {
		if (bench_arg(opt, &a))
			continue;
		switch (opt) {
		case 'o':
			if (!strcmp(optarg, "truncate"))
				punch = 0;
			else if (!strcmp(optarg, "punch"))
				punch = 1;
			else if (!strcmp(optarg, "punch-one"))
				punch = 2;
			else
				usage();
			break;
		case 's':
			stride = bench_size(optarg);
			break;
		default:
			usage();
		}
	}
	if (!a.env || punch < 0 || !a.len || !stride || a.len % stride)
		usage();

	bench_pin_cpu();
	for (int r = 0; r < a.reps; r++) {
		char path[256];
		uint64_t t0, t;
		int fd, ret;
		char *p;

		fd = bench_open(a.env, LAB_FSDAX, a.len, path, sizeof(path));
		p = lab_map(fd, a.len, stride, 0);
		if (p == MAP_FAILED)
			bench_na_errno("mmap %s", path);
		for (unsigned long off = 0; off < a.len; off += stride)
			p[off] = 1;
		if (r == 0)
			bench_check_level(p, stride);

		bench_window(0);
		t0 = bench_now();
		if (punch == 2)
			ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					a.len / 2, SZ_4K);
		else if (punch)
			ret = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					0, a.len);
		else
			ret = ftruncate(fd, 0);
		t = bench_now() - t0;
		bench_window(punch == 2 ? 1 : a.len / stride);
		if (ret)
			bench_na_errno("%s", punch ? "punch hole" : "truncate");
		cost[r] = punch == 2 ? (double)t : (double)t / (a.len / stride);

		munmap(p, a.len);
		close(fd);
		unlink(path);
	}
	bench_result(punch == 2 ? "ns/punch" : bench_unit(stride), cost, a.reps);
	return 0;
}
