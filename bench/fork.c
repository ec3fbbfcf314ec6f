// SPDX-License-Identifier: GPL-2.0
/*
 * fork() of a process that has a large DAX mapping, all of it faulted in;
 * the child exits at once and the parent waits for it.
 *
 *   fork -n NAME -e ENV [-d] [-P] -l LEN -s STRIDE -i ITERS -k REPS
 *
 * A shared file mapping without an anon_vma is not copied at fork (the
 * child faults it in again), so its cost is the VMA copy only.  With -P
 * the mapping is private: every page is read-faulted (mapping the DAX
 * page itself) and one page is written, which gives the VMA an anon_vma,
 * so fork copies every page-table entry and the child's exit zaps them:
 * the case where per-page reference counting shows.
 *
 * Parent and child share one CPU, so the wait never idles the clock.
 * Result: nanoseconds per fork + exit + wait.
 */
#include "bench.h"

#include <getopt.h>
#include <sys/wait.h>

static void usage(void)
{
	fprintf(stderr, "usage: fork -n NAME -e ENV [-d] [-P] -l LEN -s STRIDE -i ITERS -k REPS\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench_args a = BENCH_ARGS_INIT;
	unsigned long stride = SZ_4K;
	int private = 0, opt, fd;
	double cost[BENCH_MAX_REPS];
	char path[256] = "";
	volatile char sink = 0;
	char *p, *hint;

	while ((opt = getopt(argc, argv, "n:e:dPl:s:i:k:")) != -1) {
		if (bench_arg(opt, &a))
			continue;
		switch (opt) {
		case 'P':
			private = 1;
			break;
		case 's':
			stride = bench_size(optarg);
			break;
		default:
			usage();
		}
	}
	if (!a.env || !a.len || !stride || a.len % stride || a.iters < 1)
		usage();

	bench_pin_cpu();
	fd = bench_open(a.env, a.kind, a.len, path, sizeof(path));
	if (private) {
		/* Give the file written blocks so read faults map pmem. */
		p = lab_map(fd, a.len, stride, 0);
		if (p == MAP_FAILED)
			bench_na_errno("mmap %s", path);
		for (unsigned long off = 0; off < a.len; off += SZ_4K)
			p[off] = 1;
		munmap(p, a.len);
		hint = lab_aligned_hint(a.len, stride);
		p = hint ? mmap(hint, a.len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_FIXED, fd, 0) : MAP_FAILED;
		if (p == MAP_FAILED)
			bench_na_errno("mmap private %s", path);
		for (unsigned long off = 0; off < a.len; off += SZ_4K)
			sink += p[off];
		bench_check_level(p + stride, stride);
		p[0] = 2;	/* a COW page: the VMA gets an anon_vma */
	} else {
		p = lab_map(fd, a.len, stride, 0);
		if (p == MAP_FAILED)
			bench_na_errno("mmap %s", path);
		for (unsigned long off = 0; off < a.len; off += SZ_4K)
			p[off] = 1;
		bench_check_level(p, stride);
	}

	for (int r = -1; r < a.reps; r++) {
		uint64_t t0 = bench_now();

		for (int i = 0; i < a.iters; i++) {
			int status;
			pid_t pid = fork();

			if (pid < 0)
				bench_na_errno("fork");
			if (pid == 0)
				_exit(0);
			if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
				bench_na("child %d did not exit cleanly", pid);
		}
		if (r >= 0)
			cost[r] = (double)(bench_now() - t0) / a.iters;
	}
	bench_result("ns/fork", cost, a.reps);

	munmap(p, a.len);
	if (a.kind == LAB_FSDAX)
		unlink(path);
	return 0;
}
