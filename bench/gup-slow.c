// SPDX-License-Identifier: GPL-2.0
/*
 * The slow (mmap_lock, page-table walk) GUP path, timed by the kernel
 * tree's gup_test module (CONFIG_GUP_TEST, uapi in mm/gup_test.h).
 *
 * The kernel tree's gup_test program prints timings only for its fast
 * and long-term benchmarks; its get_user_pages()/pin_user_pages() modes
 * (GUP_BASIC_TEST, PIN_BASIC_TEST) are timed by the module just the
 * same, so this issues those ioctls itself and reads the times back.
 *
 *   gup-slow -n NAME -e ENV [-d] -c get|pin -l LEN -s ALIGN -b BATCH -k REPS
 *
 * The mapping is shared, aligned to ALIGN and written once per 4K page
 * before timing.  Result: nanoseconds per 4K page for get plus put.
 */
#include "bench.h"

#include <getopt.h>
#include <mm/gup_test.h>

#define GUP_TEST_FILE	"/sys/kernel/debug/gup_test"
#define FOLL_WRITE	0x01	/* include/linux/mm.h, as gup_test.c does */

static void usage(void)
{
	fprintf(stderr, "usage: gup-slow -n NAME -e ENV [-d] -c get|pin -l LEN -s ALIGN -b BATCH -k REPS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench_args a = BENCH_ARGS_INIT;
	unsigned long align = SZ_4K, cmd = 0;
	int batch = 1, opt, fd, gup_fd;
	double cost[BENCH_MAX_REPS];
	char path[256] = "";
	char *p;

	while ((opt = getopt(argc, argv, "n:e:dc:l:s:b:k:")) != -1) {
		if (bench_arg(opt, &a))
			continue;
		switch (opt) {
		case 'c':
			if (!strcmp(optarg, "get"))
				cmd = GUP_BASIC_TEST;
			else if (!strcmp(optarg, "pin"))
				cmd = PIN_BASIC_TEST;
			else
				usage();
			break;
		case 's':
			align = bench_size(optarg);
			break;
		case 'b':
			batch = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (!a.env || !cmd || !a.len || !align || a.len % SZ_4K || batch < 1)
		usage();

	bench_pin_cpu();
	gup_fd = open(GUP_TEST_FILE, O_RDWR);
	if (gup_fd < 0)
		bench_na_errno("%s (CONFIG_GUP_TEST, debugfs)", GUP_TEST_FILE);
	fd = bench_open(a.env, a.kind, a.len, path, sizeof(path));
	p = lab_map(fd, a.len, align, 0);
	if (p == MAP_FAILED)
		bench_na_errno("mmap %s", path);
	for (unsigned long off = 0; off < a.len; off += SZ_4K)
		p[off] = 1;
	bench_check_level(p, align);

	for (int r = -1; r < a.reps; r++) {
		struct gup_test gup = {
			.addr = (uintptr_t)p,
			.size = a.len,
			.nr_pages_per_call = batch,
			.gup_flags = FOLL_WRITE,
		};

		if (ioctl(gup_fd, cmd, &gup))
			bench_na_errno("gup_test ioctl");
		if (gup.size != a.len)
			bench_na("gup_test got %llu of %lu bytes",
				 (unsigned long long)gup.size, a.len);
		printf("# get %llu us, put %llu us\n",
		       (unsigned long long)gup.get_delta_usec,
		       (unsigned long long)gup.put_delta_usec);
		if (r >= 0)
			cost[r] = (gup.get_delta_usec + gup.put_delta_usec) *
				  1000.0 / (a.len / SZ_4K);
	}
	bench_result("ns/4K", cost, a.reps);

	munmap(p, a.len);
	if (a.kind == LAB_FSDAX)
		unlink(path);
	return 0;
}
