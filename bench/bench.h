/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the guest microbenchmarks.
 *
 * Every benchmark program measures one named operation and prints exactly
 * one line for it on stdout:
 *
 *   result NAME UNIT MIN MEDIAN MAX K
 *   na NAME REASON...
 *
 * MIN/MEDIAN/MAX are over K repetitions; each repetition performs the
 * operation many times and divides.  Lines starting with '#' are
 * commentary for the log.  Under "-icount shift=0,sleep=off" the guest
 * clock advances one nanosecond per guest instruction, so the numbers
 * are instruction counts, not cycles.
 */
#ifndef BENCH_H
#define BENCH_H

/* lab.h's plain helpers; the kselftest harness is not needed here. */
#include "lab.h"

#include <getopt.h>
#include <sched.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <stdarg.h>
#include <time.h>

#define BENCH_MAX_REPS	64

/* The name of the operation, for the na/result line. */
static const char *bench_name = "unnamed";

static inline uint64_t bench_clock(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* Guest time: instructions under icount. */
static inline uint64_t bench_now(void)
{
	return bench_clock(CLOCK_MONOTONIC);
}

/* Time this thread spent on a CPU: excludes idle waits for a device. */
static inline uint64_t bench_cpu_now(void)
{
	return bench_clock(CLOCK_THREAD_CPUTIME_ID);
}

/*
 * The operation cannot be measured here: say why and exit.  Exit status
 * 0, because a missing measurement is a result, not a crash.
 */
static inline void __attribute__((noreturn, format(printf, 1, 2)))
bench_na(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	printf("na %s ", bench_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(0);
}

/* bench_na() with strerror(errno) appended. */
#define bench_na_errno(fmt, ...)					\
	bench_na(fmt ": %s", ##__VA_ARGS__, strerror(errno))

static int bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Print the result line of @k per-operation costs (sorted in place). */
static inline void bench_result(const char *unit, double *v, int k)
{
	double med;

	qsort(v, k, sizeof(*v), bench_cmp);
	med = k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
	printf("result %s %s %.1f %.1f %.1f %d\n", bench_name, unit,
	       v[0], med, v[k - 1], k);
	fflush(stdout);
}

/*
 * Run on one CPU only: with icount every vCPU's instructions advance the
 * one guest clock, and a migration or an idle wait for a child on the
 * other CPU would count time that is not the operation's.
 */
static inline void bench_pin_cpu(void)
{
	cpu_set_t set;
	int cpu = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (int i = CPU_SETSIZE - 1; i >= 0; i--)
			if (CPU_ISSET(i, &set)) {
				cpu = i;
				break;
			}
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		printf("# cannot pin to cpu %d: %s\n", cpu, strerror(errno));
}

/* "4K", "2M", "1G" style sizes; 0 on a bad string. */
static inline unsigned long bench_size(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	switch (*end) {
	case 'k':
	case 'K':
		v <<= 10;
		end++;
		break;
	case 'm':
	case 'M':
		v <<= 20;
		end++;
		break;
	case 'g':
	case 'G':
		v <<= 30;
		end++;
		break;
	}
	return *end || end == s ? 0 : v;
}

static inline const char *bench_unit(unsigned long stride)
{
	return stride >= SZ_1G ? "ns/1G" : stride >= SZ_2M ? "ns/2M" : "ns/4K";
}

/*
 * Check with the lab_probe module that @addr is mapped at the level a
 * fault of @stride bytes should give, so a benchmark never reports a
 * 4K fallback as a 2M fault.  Without the probe, only note it.
 */
static inline void bench_check_level(const void *addr, unsigned long stride)
{
	unsigned int want = lab_level_of(stride);
	struct lab_page_info info;
	int probe = lab_probe_open();
	int ret;

	if (probe < 0) {
		printf("# mapping level not checked: %s: %s\n",
		       LAB_PROBE_PATH, strerror(errno));
		return;
	}
	ret = lab_info_addr(probe, addr, &info);
	close(probe);
	if (ret) {
		printf("# mapping level not checked: probe: %s\n", strerror(-ret));
		return;
	}
	if (info.level != want)
		bench_na("mapped by a %s entry, expected %s",
			 lab_level_name(info.level), lab_level_name(want));
	printf("# mapped by a %s entry, folio order %u, folio refcount %d\n",
	       lab_level_name(info.level), info.order, info.folio_refcount);
}

/*
 * Open (@ops == 0) or close the measured window for lab/profile.sh.  Its
 * QEMU plugin counts guest instructions only between two entries into
 * personality(2), which nothing else in a lab guest calls; the query
 * 0xffffffff changes nothing.  Outside the profiler this is one cheap
 * syscall next to, never inside, the timed loop.
 */
static inline void bench_window(unsigned long ops)
{
	syscall(SYS_personality, 0xffffffffUL);
	if (ops)
		printf("# profile window: %lu operations\n", ops);
}

/* Repetition count from -k, bounded. */
static inline int bench_reps(const char *s)
{
	int k = atoi(s);

	if (k < 1 || k > BENCH_MAX_REPS) {
		fprintf(stderr, "repetitions must be 1..%d\n", BENCH_MAX_REPS);
		exit(2);
	}
	return k;
}

/*
 * The options every benchmark spells the same way: -n NAME, -e ENV (with
 * -d, ENV names a device DAX node), -l LEN, -i ITERS and -k REPS.  Each
 * program lists in its getopt() string the ones it takes.
 */
struct bench_args {
	const char *env;
	enum lab_kind kind;
	unsigned long len;
	int iters;
	int reps;
};

#define BENCH_ARGS_INIT	{ .kind = LAB_FSDAX, .iters = 1, .reps = 5 }

/* Take option @opt into @a; false if it is not a common one. */
static inline bool bench_arg(int opt, struct bench_args *a)
{
	switch (opt) {
	case 'n':
		bench_name = optarg;
		return true;
	case 'e':
		a->env = optarg;
		return true;
	case 'd':
		a->kind = LAB_DEVDAX;
		return true;
	case 'l':
		a->len = bench_size(optarg);
		return true;
	case 'i':
		a->iters = atoi(optarg);
		return true;
	case 'k':
		a->reps = bench_reps(optarg);
		return true;
	}
	return false;
}

/*
 * Where the backing object lives: an environment variable naming a
 * directory (a new file is created there) or a device DAX node.
 */
static inline int bench_open(const char *env, enum lab_kind kind,
			     size_t len, char *path, size_t pathlen)
{
	struct lab_dax dax = { .name = env, .kind = kind, .env = env };
	int fd = lab_dax_open(&dax, "bench", len, path, pathlen);

	if (fd < 0) {
		if (!lab_env(env))
			bench_na("lab did not provide %s", env);
		bench_na_errno("cannot open %s (%s)", path, env);
	}
	return fd;
}

#endif /* BENCH_H */
