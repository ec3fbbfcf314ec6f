/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of the torture workload share: the slots and their
 * truth, the region the worker processes share, the workers, and the
 * functions the parts call in each other.
 *
 *   torture.c    setup, the run, the end of the run and the TAP output
 *   ops.c        the operations and the workers that run them
 *   bad-input.c  bad input, tried once while the workload runs
 *   verify.c     the checks and scenarios at the end of the run
 */
#ifndef LAB_TORTURE_H
#define LAB_TORTURE_H

#include "lab.h"

#include <dirent.h>
#include <limits.h>
#include <linux/fs.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/uio.h>
#include <sys/wait.h>

#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif

#define BLK		SZ_4K
#define SLOT_BLOCKS	2048			/* 8 MiB */
#define SLOT_SIZE	(SLOT_BLOCKS * BLK)
#define HUGE_BLOCKS	(SZ_2M / BLK)
#define SLOTS_PER_FS	3
#define SLOTS_PER_DEV	2
#define MAX_SLOTS	16
#define MAX_WORKERS	32
#define DIO_AREA	(512UL << 10)		/* NVMe bytes per worker */
#define SEED_ZERO	0ull
#define SEED_NONE	(~0ull)			/* beyond EOF */

enum backend { B_EXT4, B_XFS, B_DAX2M, B_DAX4K, NR_BACKENDS };

extern const struct lab_dax backends[NR_BACKENDS];

enum op {
	OP_MMAP_WRITE, OP_PWRITE, OP_DIO_IN, OP_VERIFY,		/* locked */
	OP_TRUNCATE, OP_EXTEND, OP_PUNCH, OP_REFLINK,		/* locked, FS */
	OP_DIO_OUT, OP_VMSPLICE, OP_HOLD, OP_FORK, OP_MREMAP,	/* racing */
	OP_POISON,
	NR_OPS
};

extern const char *const op_name[NR_OPS];

struct slot {
	pthread_mutex_t lock;
	int backend;
	char path[128];
	off_t base;			/* offset in the device, 0 for files */
	size_t size;			/* bytes, a multiple of BLK */
	uint64_t seed[SLOT_BLOCKS];
};

struct counters {
	atomic_ulong done, raced, failed;
};

#define MAX_ERRORS 24

/* Everything the worker processes share, in a MAP_SHARED region. */
struct shared {
	volatile int stop;
	int nslots;
	struct slot slots[MAX_SLOTS];
	struct counters ops[NR_BACKENDS][NR_OPS];
	atomic_ulong mismatches[NR_BACKENDS];
	atomic_int nerrors;
	char errors[MAX_ERRORS][200];
	const char *reflink_off;	/* why reflink is not run, or NULL */
};

struct worker {
	int id;
	uint64_t rng;
	int probe;
	int nvme;
	int fds[MAX_SLOTS];
	char *dio_buf;		/* DIO_AREA bytes, page aligned */
};

struct backend_state {
	bool present;
	uint64_t pfn;			/* any pfn of its namespace */
	struct lab_scan before;
};

enum bad {
	BAD_PRIVATE, BAD_MISALIGNED, BAD_SPLIT_1G, BAD_LONGTERM, BAD_DIO_UNMAP,
	NR_BAD
};

extern struct shared *sh;
extern int seconds, nproc_workers, nthreads;
extern uint64_t base_seed;
extern const char *nvme;
extern struct backend_state bstate[NR_BACKENDS];

/* torture.c: one TAP result; @res 1 pass, 0 fail, -1 skip. */
void tap(int res, const char *name, const char *fmt, ...);
#define TAP_RET(...) do { tap(__VA_ARGS__); return; } while (0)

/* ops.c */
extern __thread sigjmp_buf bus_jb;
extern __thread volatile int bus_armed;
void record_error(const char *fmt, ...);
void count(int b, enum op op, int outcome);
uint64_t rnd(struct worker *w);
unsigned long below(struct worker *w, unsigned long n);
bool is_fs(int b);
void fill_block(void *p, uint64_t seed);
bool block_is(const void *p, uint64_t seed);
void on_sigbus(int sig, siginfo_t *si, void *uc);
int slot_fd(struct worker *w, int s);
char *map_blocks(struct worker *w, int s, size_t blk, size_t nr);
int op_mmap_write(struct worker *w, int s, size_t blk, size_t nr);
int check_blocks(struct worker *w, int s, size_t blk, size_t nr,
			const char *who);
int worker_init(struct worker *w, int id);
void worker_fini(struct worker *w);
void worker_process(int first);
void *poison_thread(void *arg);

/* bad-input.c: 1 pass, 0 fail, -1 skip; with a reason. */
extern const char *const bad_name[NR_BAD];
extern int bad_result[NR_BAD];
extern char bad_why[NR_BAD][400];
void *bad_input_thread(void *arg);

/* verify.c */
extern const char baseline_shared_pin[];
int verify_backend(struct worker *w, int b);
void umount_racing_pin(struct worker *w, int b);
void check_idle(struct worker *w, int b);
void namespace_busy(struct worker *w, int b);
void disable_racing_pin(struct worker *w);
void pin_reflinked_page(struct worker *w);
void clones_fault_together(struct worker *w);

#endif /* LAB_TORTURE_H */
