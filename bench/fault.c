// SPDX-License-Identifier: GPL-2.0
/*
 * Fault in, touch and unmap: the cost of one page fault plus its share
 * of the munmap that tears the mapping down again.
 *
 *   fault -n NAME -e ENV|-A [-d] -l LEN -s STRIDE -i ITERS -k REPS [-H]
 *         [-r] [-N] [-R] [-F BYTES]
 *
 *   -e ENV     backing object: $ENV is a directory (a file of LEN bytes
 *              is created and allocated there) or, with -d, a device DAX
 *              node
 *   -A         anonymous private memory instead (allocated and zeroed on
 *              every fault)
 *   -H         madvise(MADV_HUGEPAGE) on the anonymous mapping
 *   -N         madvise(MADV_NOHUGEPAGE) on the mapping, so that xfs maps
 *              4K PTEs where it could map a PMD
 *   -l LEN     mapping length; -s STRIDE the size one fault maps (4K, 2M,
 *              1G): every STRIDE bytes get one store
 *   -r         load a byte instead of storing one: read faults, which
 *              may map the pages around them (fault-around)
 *   -R         random: touch one 4K page (-s 4K) in each 64K window of
 *              the mapping, visiting the windows in a fixed pseudo-random
 *              order, the same on every run, so that consecutive faults
 *              are far apart
 *   -F BYTES   set /sys/kernel/debug/fault_around_bytes to BYTES for the
 *              run (4096: no fault-around) and restore it at exit; "na"
 *              if the file is missing
 *   -i ITERS   map/touch/unmap cycles per repetition, -k REPS repetitions
 *
 * One untimed cycle runs first: its first pass stores to every STRIDE
 * bytes, with -r and -R too, which allocates the file blocks or shmem
 * pages and gives every page of an FS DAX file its DAX entry, so the
 * timed cycles measure faults on memory that exists, the way a DAX fault
 * finds its pmem (a read of an unwritten FS DAX extent would map the
 * zero page).  The result is nanoseconds of guest time per touched page
 * (per STRIDE bytes, or per 64K window with -R), map and unmap included.
 */
#include "bench.h"

#include <getopt.h>
#include <signal.h>

#define FAR_PATH	"/sys/kernel/debug/fault_around_bytes"
#define RANDOM_WINDOW	(64UL << 10)

/* fault_around_bytes as it was before -F, restored at exit. */
static char far_old[32];
static int far_old_len;

static int far_write(const char *buf, int len)
{
	int fd = open(FAR_PATH, O_WRONLY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return -1;
	if (write(fd, buf, len) != len)
		ret = -1;
	close(fd);
	return ret;
}

static long far_read(void)
{
	FILE *f = fopen(FAR_PATH, "r");
	long v;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static void far_restore(void)
{
	if (far_old_len && far_write(far_old, far_old_len))
		fprintf(stderr, "fault: cannot restore %s to %s", FAR_PATH, far_old);
}

/* Killed (by timeout, say): restore with async-signal-safe calls only. */
static void far_on_signal(int sig)
{
	if (far_old_len)
		far_write(far_old, far_old_len);
	_exit(128 + sig);
}

static void far_set(unsigned long bytes)
{
	char buf[32];
	long old, now;
	int len;

	if (access(FAR_PATH, F_OK))
		bench_na_errno("no %s", FAR_PATH);
	old = far_read();
	if (old < 0)
		bench_na("cannot read %s", FAR_PATH);
	far_old_len = snprintf(far_old, sizeof(far_old), "%ld\n", old);
	atexit(far_restore);
	signal(SIGTERM, far_on_signal);
	signal(SIGINT, far_on_signal);
	signal(SIGHUP, far_on_signal);
	len = snprintf(buf, sizeof(buf), "%lu\n", bytes);
	if (far_write(buf, len))
		bench_na_errno("cannot write %lu to %s", bytes, FAR_PATH);
	now = far_read();
	printf("# fault_around_bytes %ld for this run (was %ld)\n", now, old);
}

/*
 * -R: the offset of the page touched in each 64K window, windows in a
 * shuffled order.  xorshift64 with a fixed seed: the same order on every
 * run and kernel.
 */
static unsigned long *random_offsets(unsigned long len, unsigned long *nr)
{
	unsigned long n = len / RANDOM_WINDOW, i, j, t;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned long *off = malloc(n * sizeof(*off));

	if (!off)
		bench_na("out of memory");
	for (i = 0; i < n; i++)
		off[i] = i * RANDOM_WINDOW;
	for (i = n; i-- > 0;) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = x % (i + 1);
		t = off[i];
		off[i] = off[j];
		off[j] = t;
		off[i] += (x >> 32) % (RANDOM_WINDOW / SZ_4K) * SZ_4K;
	}
	*nr = n;
	return off;
}

static void usage(void)
{
	fprintf(stderr, "usage: fault -n NAME (-e ENV [-d] | -A [-H]) -l LEN -s STRIDE -i ITERS -k REPS [-r] [-N] [-R] [-F BYTES]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench_args a = BENCH_ARGS_INIT;
	unsigned long stride = 0, far = 0, nr_touch, *offs = NULL;
	int anon = 0, thp = 0, nothp = 0, rd = 0, rnd = 0, opt, fd = -1;
	double cost[BENCH_MAX_REPS];
	char path[256] = "";
	char *hint;

	while ((opt = getopt(argc, argv, "n:e:dAHNrRF:l:s:i:k:")) != -1) {
		if (bench_arg(opt, &a))
			continue;
		switch (opt) {
		case 'A':
			anon = 1;
			break;
		case 'H':
			thp = 1;
			break;
		case 'N':
			nothp = 1;
			break;
		case 'r':
			rd = 1;
			break;
		case 'R':
			rnd = 1;
			break;
		case 'F':
			far = bench_size(optarg);
			if (!far)
				usage();
			break;
		case 's':
			stride = bench_size(optarg);
			break;
		default:
			usage();
		}
	}
	if (!a.len || !stride || a.len % stride || a.iters < 1 ||
	    (!a.env == !anon) || (thp && nothp) ||
	    (rnd && (stride != SZ_4K || a.len % RANDOM_WINDOW)))
		usage();

	bench_pin_cpu();
	if (!anon)
		fd = bench_open(a.env, a.kind, a.len, path, sizeof(path));
	if (far)
		far_set(far);
	if (rnd)
		offs = random_offsets(a.len, &nr_touch);
	else
		nr_touch = a.len / stride;

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
			if (nothp && madvise(p, a.len, MADV_NOHUGEPAGE))
				bench_na_errno("madvise(MADV_NOHUGEPAGE)");
			if ((!rd && !rnd) || (r < 0 && i == 0)) {
				/* Stores everywhere: also what sets up -r and -R. */
				for (unsigned long off = 0; off < a.len; off += stride)
					p[off] = 1;
			} else if (!rnd) {
				for (unsigned long off = 0; off < a.len; off += stride)
					(void)*(volatile char *)(p + off);
			} else if (rd) {
				for (unsigned long k = 0; k < nr_touch; k++)
					(void)*(volatile char *)(p + offs[k]);
			} else {
				for (unsigned long k = 0; k < nr_touch; k++)
					p[offs[k]] = 1;
			}
			if (r < 0 && i == 0)
				bench_check_level(p, stride);
			if (munmap(p, a.len))
				bench_na_errno("munmap");
		}
		if (r >= 0)
			cost[r] = (double)(bench_now() - t0) / a.iters / nr_touch;
	}
	bench_window((unsigned long)a.reps * a.iters * nr_touch);
	bench_result(bench_unit(stride), cost, a.reps);

	free(offs);
	if (a.kind == LAB_FSDAX && !anon)
		unlink(path);
	return 0;
}
