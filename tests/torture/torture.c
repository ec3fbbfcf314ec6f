// SPDX-License-Identifier: GPL-2.0
/*
 * Torture: a bounded, concurrent workload over FS DAX (ext4, xfs su=2m)
 * and device DAX (2M, 4K), with faults and bad input mixed in, that must
 * end with every byte where it belongs and every page idle.
 *
 *   torture [-t SECONDS] [-p PROCESSES] [-j THREADS] [-s SEED]
 *
 * Data lives in "slots": 8 MiB files (FS DAX) or 8 MiB chunks of a
 * device.  Every 4K block of a slot holds the pattern of a 64-bit seed
 * (lab_word()), 0 for zeroes, or is beyond EOF; the seeds are the truth,
 * kept in shared memory.  Operations that change data or size (mmap
 * write, pwrite, O_DIRECT into a mapping, truncate, extend, punch,
 * reflink) hold the slot lock and update the truth.  Operations that only
 * take references (O_DIRECT out of a mapping, vmsplice, probe get/pin,
 * fork, mremap) run unlocked, racing the former: they may see EFAULT or
 * SIGBUS when a truncate wins, which is counted as "raced", never as an
 * error.  A memory-failure thread poisons pages of a file of its own.
 *
 * When the time is up every slot is checked against the truth, the
 * filesystems are unmounted, one of them racing a held pin, and the probe
 * checks that every page of each namespace is as idle as before the run.
 * Output is TAP, one result per scenario, with the operation counts as
 * comments.  Exit status 0 when every scenario passed.
 */
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

static const struct lab_dax backends[NR_BACKENDS] = {
	[B_EXT4] = LAB_EXT4,
	[B_XFS] = LAB_XFS,
	[B_DAX2M] = LAB_DAX2M,
	[B_DAX4K] = LAB_DAX4K,
};

enum op {
	OP_MMAP_WRITE, OP_PWRITE, OP_DIO_IN, OP_VERIFY,		/* locked */
	OP_TRUNCATE, OP_EXTEND, OP_PUNCH, OP_REFLINK,		/* locked, FS */
	OP_DIO_OUT, OP_VMSPLICE, OP_HOLD, OP_FORK, OP_MREMAP,	/* racing */
	OP_POISON,
	NR_OPS
};

static const char *const op_name[NR_OPS] = {
	"mmap-write", "pwrite", "dio-into-map", "verify",
	"truncate", "extend", "punch", "reflink",
	"dio-from-map", "vmsplice", "probe-hold", "fork", "mremap",
	"hwpoison",
};

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

static struct shared *sh;
static int seconds = 120, nproc_workers = 2, nthreads = 3;
static uint64_t base_seed;
static const char *nvme;

/* ---- small helpers ---------------------------------------------------- */

static void record_error(const char *fmt, ...)
{
	int i = atomic_fetch_add(&sh->nerrors, 1);
	va_list ap;

	if (i >= MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(sh->errors[i], sizeof(sh->errors[i]), fmt, ap);
	va_end(ap);
}

static void count(int b, enum op op, int outcome)
{
	struct counters *c = &sh->ops[b][op];

	if (outcome > 0)
		atomic_fetch_add(&c->raced, 1);
	else if (outcome < 0)
		atomic_fetch_add(&c->failed, 1);
	else
		atomic_fetch_add(&c->done, 1);
}

struct worker {
	int id;
	uint64_t rng;
	int probe;
	int nvme;
	int fds[MAX_SLOTS];
	char *dio_buf;		/* DIO_AREA bytes, page aligned */
};

static uint64_t rnd(struct worker *w)
{
	/* xorshift64*: cheap and good enough to pick operations. */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545f4914f6cdd1dull;
}

static unsigned long below(struct worker *w, unsigned long n)
{
	return n ? rnd(w) % n : 0;
}

static uint64_t new_seed(struct worker *w)
{
	uint64_t s;

	do
		s = rnd(w);
	while (s == SEED_ZERO || s == SEED_NONE);
	return s;
}

static bool is_fs(int b)
{
	return backends[b].kind == LAB_FSDAX;
}

static void fill_block(void *p, uint64_t seed)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < BLK / 8; i++)
		w[i] = seed == SEED_ZERO ? 0 : lab_word(seed, i * 8);
}

/* True if the block at @p holds what @seed says. */
static bool block_is(const void *p, uint64_t seed)
{
	const volatile uint64_t *w = p;
	size_t i;

	for (i = 0; i < BLK / 8; i++)
		if (w[i] != (seed == SEED_ZERO ? 0 : lab_word(seed, i * 8)))
			return false;
	return true;
}

/*
 * SIGBUS from a racing truncate (or a poisoned page) is expected in the
 * racing operations: they arm a per-thread jump buffer around accesses.
 */
static __thread sigjmp_buf bus_jb;
static __thread volatile int bus_armed;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	if (bus_armed) {
		bus_armed = 0;
		siglongjmp(bus_jb, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static int slot_fd(struct worker *w, int s)
{
	struct slot *sl = &sh->slots[s];

	if (w->fds[s] < 0)
		w->fds[s] = open(sl->path, O_RDWR | O_CLOEXEC);
	return w->fds[s];
}

/*
 * Pick a range of blocks of slot @s: a whole aligned 2M for device DAX
 * 2M (its only legal mapping unit) and sometimes for the others, so the
 * FS DAX faults use PMDs where the filesystem allows; else 1-64 blocks.
 */
static void pick_range(struct worker *w, int s, size_t *blk, size_t *nr)
{
	int b = sh->slots[s].backend;

	if (b == B_DAX2M || (b != B_DAX4K && below(w, 3) == 0)) {
		*blk = below(w, SLOT_BLOCKS / HUGE_BLOCKS) * HUGE_BLOCKS;
		*nr = HUGE_BLOCKS;
	} else {
		*nr = 1 + below(w, 64);
		*blk = below(w, SLOT_BLOCKS - *nr + 1);
	}
}

/* Map blocks [blk, blk + nr) of slot @s shared; MAP_FAILED on error. */
static char *map_blocks(struct worker *w, int s, size_t blk, size_t nr)
{
	struct slot *sl = &sh->slots[s];
	size_t len = nr * BLK;
	size_t align = (blk % HUGE_BLOCKS == 0 && len % SZ_2M == 0) ?
		       SZ_2M : SZ_4K;
	int fd = slot_fd(w, s);

	if (fd < 0)
		return MAP_FAILED;
	return lab_map(fd, len, align, sl->base + blk * BLK);
}

/* ---- locked operations: they change data and keep the truth ----------- */

static void set_size(struct slot *sl, size_t size);

/*
 * Locked operations work on data that exists: a range past EOF is first
 * made part of the file (zeroes), as an extend would.
 */
static bool range_in_size(struct worker *w, int s, size_t blk, size_t nr)
{
	struct slot *sl = &sh->slots[s];
	size_t end = (blk + nr) * BLK;

	if (end <= sl->size)
		return true;
	if (!is_fs(sl->backend) || ftruncate(slot_fd(w, s), end))
		return false;
	set_size(sl, end);
	return true;
}

static int op_mmap_write(struct worker *w, int s, size_t blk, size_t nr)
{
	struct slot *sl = &sh->slots[s];
	char *p;
	size_t i;

	if (!range_in_size(w, s, blk, nr))
		return -1;
	p = map_blocks(w, s, blk, nr);
	if (p == MAP_FAILED) {
		record_error("mmap-write: mmap slot %d blocks %zu+%zu: %s",
			     s, blk, nr, strerror(errno));
		return -1;
	}
	for (i = 0; i < nr; i++) {
		uint64_t seed = new_seed(w);

		fill_block(p + i * BLK, seed);
		sl->seed[blk + i] = seed;
	}
	/* Read back through the same mapping before it goes away. */
	for (i = 0; i < nr; i++)
		if (!block_is(p + i * BLK, sl->seed[blk + i])) {
			atomic_fetch_add(&sh->mismatches[sl->backend], 1);
			record_error("mmap-write: slot %d block %zu reads back wrong",
				     s, blk + i);
		}
	munmap(p, nr * BLK);
	return 0;
}

static int op_pwrite(struct worker *w, int s, size_t blk, size_t nr)
{
	struct slot *sl = &sh->slots[s];
	char buf[BLK];
	size_t i;

	for (i = 0; i < nr; i++) {
		uint64_t seed = new_seed(w);
		size_t b = blk + i;

		fill_block(buf, seed);
		if (pwrite(slot_fd(w, s), buf, BLK, b * BLK) != BLK) {
			record_error("pwrite: slot %d block %zu: %s", s, b,
				     strerror(errno));
			return -1;
		}
		/* Writing past EOF zero-fills the gap. */
		while (sl->size < b * BLK) {
			sl->seed[sl->size / BLK] = SEED_ZERO;
			sl->size += BLK;
		}
		sl->seed[b] = seed;
		if (sl->size < (b + 1) * BLK)
			sl->size = (b + 1) * BLK;
	}
	return 0;
}

/* O_DIRECT read from the NVMe into a DAX mapping: a FOLL_WRITE pin. */
static int op_dio_in(struct worker *w, int s, size_t blk, size_t nr)
{
	struct slot *sl = &sh->slots[s];
	off_t area = (off_t)w->id * DIO_AREA;
	uint64_t seeds[DIO_AREA / BLK];
	size_t i, io = nr > DIO_AREA / BLK ? DIO_AREA / BLK : nr;
	ssize_t n;
	char *p;

	if (w->nvme < 0)
		return 1;
	if (!range_in_size(w, s, blk, nr))
		return -1;
	for (i = 0; i < io; i++) {
		seeds[i] = new_seed(w);
		fill_block(w->dio_buf + i * BLK, seeds[i]);
	}
	if (pwrite(w->nvme, w->dio_buf, io * BLK, area) != (ssize_t)(io * BLK)) {
		record_error("dio-into-map: staging write to %s: %s", nvme,
			     strerror(errno));
		return -1;
	}
	p = map_blocks(w, s, blk, nr);
	if (p == MAP_FAILED)
		return -1;
	/* The mapping covers nr blocks (device DAX 2M maps whole 2M). */
	n = pread(w->nvme, p, io * BLK, area);
	if (n != (ssize_t)(io * BLK)) {
		record_error("dio-into-map: slot %d blocks %zu+%zu: %zd (%s)",
			     s, blk, io, n, strerror(errno));
		/* What landed is unknown: re-establish the truth. */
		for (i = 0; i < io; i++) {
			sl->seed[blk + i] = new_seed(w);
			fill_block(p + i * BLK, sl->seed[blk + i]);
		}
		munmap(p, nr * BLK);
		return -1;
	}
	for (i = 0; i < io; i++)
		sl->seed[blk + i] = seeds[i];
	munmap(p, nr * BLK);
	return 0;
}

/* Compare blocks with the truth: pread for files, a mapping for devices. */
static int check_blocks(struct worker *w, int s, size_t blk, size_t nr,
			const char *who)
{
	struct slot *sl = &sh->slots[s];
	char buf[BLK];
	char *p = NULL;
	int bad = 0;
	size_t i;

	if (!is_fs(sl->backend)) {
		p = map_blocks(w, s, blk, nr);
		if (p == MAP_FAILED) {
			record_error("%s: mmap slot %d: %s", who, s, strerror(errno));
			return -1;
		}
	}
	for (i = 0; i < nr; i++) {
		uint64_t want = sl->seed[blk + i];
		const char *got = p ? p + i * BLK : buf;

		if (want == SEED_NONE)
			continue;
		if (!p && pread(slot_fd(w, s), buf, BLK, (blk + i) * BLK) != BLK) {
			record_error("%s: pread slot %d block %zu: %s", who, s,
				     blk + i, strerror(errno));
			bad++;
			continue;
		}
		if (!block_is(got, want)) {
			atomic_fetch_add(&sh->mismatches[sl->backend], 1);
			record_error("%s: %s slot %d block %zu does not hold seed %#llx",
				     who, backends[sl->backend].name, s, blk + i,
				     (unsigned long long)want);
			bad++;
		}
	}
	if (p)
		munmap(p, nr * BLK);
	return bad ? -1 : 0;
}

static void set_size(struct slot *sl, size_t size)
{
	size_t b;

	for (b = size / BLK; b < sl->size / BLK; b++)
		sl->seed[b] = SEED_NONE;
	for (b = sl->size / BLK; b < size / BLK; b++)
		sl->seed[b] = SEED_ZERO;
	sl->size = size;
}

static int op_resize(struct worker *w, int s, bool grow)
{
	struct slot *sl = &sh->slots[s];
	size_t blocks = sl->size / BLK;
	size_t nb = grow ? blocks + below(w, SLOT_BLOCKS - blocks + 1) :
			   below(w, blocks + 1);

	if (ftruncate(slot_fd(w, s), nb * BLK)) {
		record_error("%s: slot %d to %zu blocks: %s",
			     grow ? "extend" : "truncate", s, nb, strerror(errno));
		return -1;
	}
	set_size(sl, nb * BLK);
	return 0;
}

static int op_punch(struct worker *w, int s, size_t blk, size_t nr)
{
	struct slot *sl = &sh->slots[s];
	size_t i;

	if (!range_in_size(w, s, blk, nr))
		return -1;
	if (fallocate(slot_fd(w, s), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      blk * BLK, nr * BLK)) {
		record_error("punch: slot %d blocks %zu+%zu: %s", s, blk, nr,
			     strerror(errno));
		return -1;
	}
	for (i = 0; i < nr; i++)
		sl->seed[blk + i] = SEED_ZERO;
	return 0;
}

/* FICLONERANGE from another slot of the same filesystem; both locked. */
static int op_reflink(struct worker *w, int src, int dst, size_t blk,
		      size_t nr)
{
	struct slot *d = &sh->slots[dst], *sl = &sh->slots[src];
	struct file_clone_range fcr = {
		.src_fd = slot_fd(w, src),
		.src_offset = blk * BLK,
		.src_length = nr * BLK,
		.dest_offset = blk * BLK,
	};
	size_t i;

	if (!range_in_size(w, src, blk, nr) || !range_in_size(w, dst, blk, nr))
		return -1;
	if (ioctl(slot_fd(w, dst), FICLONERANGE, &fcr)) {
		if (errno == EOPNOTSUPP || errno == EINVAL) {
			sh->reflink_off = "not supported with DAX on this kernel";
			return 1;
		}
		record_error("reflink: slot %d -> %d blocks %zu+%zu: %s", src,
			     dst, blk, nr, strerror(errno));
		return -1;
	}
	for (i = 0; i < nr; i++)
		d->seed[blk + i] = sl->seed[blk + i];
	return 0;
}

/* ---- racing operations: references only, no data changes ------------- */

/* O_DIRECT write from a DAX mapping to the NVMe: a read-only pin. */
static int op_dio_out(struct worker *w, int s, size_t blk, size_t nr)
{
	off_t area = (off_t)w->id * DIO_AREA;
	size_t io = nr > DIO_AREA / BLK ? DIO_AREA / BLK : nr;
	ssize_t n;
	char *p;
	int ret = 0;

	if (w->nvme < 0)
		return 1;
	p = map_blocks(w, s, blk, nr);
	if (p == MAP_FAILED)
		return -1;
	n = pwrite(w->nvme, p, io * BLK, area);
	if (n < 0 && errno == EFAULT)
		ret = 1;	/* a truncate took the blocks */
	else if (n < 0) {
		record_error("dio-from-map: slot %d: %s", s, strerror(errno));
		ret = -1;
	}
	munmap(p, nr * BLK);
	return ret;
}

/* vmsplice keeps page references in a pipe after the munmap. */
static int op_vmsplice(struct worker *w, int s, size_t blk, size_t nr)
{
	char sink[BLK];
	struct iovec iov;
	int pfd[2], ret = 0;
	ssize_t n;
	char *p;

	if (pipe2(pfd, O_CLOEXEC))
		return -1;
	p = map_blocks(w, s, blk, nr);
	if (p == MAP_FAILED) {
		ret = -1;
		goto out;
	}
	iov.iov_base = p;
	iov.iov_len = (nr > 16 ? 16 : nr) * BLK;	/* what a pipe holds */
	n = vmsplice(pfd[1], &iov, 1, SPLICE_F_NONBLOCK);
	if (n < 0)
		ret = errno == EFAULT ? 1 : -1;
	munmap(p, nr * BLK);
	usleep(below(w, 2000));
	while (n > 0) {
		ssize_t r = read(pfd[0], sink, sizeof(sink));

		if (r <= 0)
			break;
		n -= r;
	}
out:
	close(pfd[0]);
	close(pfd[1]);
	return ret;
}

static int op_hold(struct worker *w, int s, size_t blk, size_t nr)
{
	static const unsigned int kinds[] = {
		0, LAB_HOLD_FAST, LAB_HOLD_PIN, LAB_HOLD_PIN | LAB_HOLD_FAST,
		LAB_HOLD_PIN | LAB_HOLD_WRITE,
	};
	unsigned int flags = kinds[below(w, 5)];
	char *p;
	int id, ret = 0;

	p = map_blocks(w, s, blk, nr);
	if (p == MAP_FAILED)
		return -1;
	id = lab_hold(w->probe, p, nr * BLK, flags);
	if (id == -EFAULT)
		ret = 1;
	else if (id < 0) {
		record_error("probe-hold: slot %d flags %#x: %s", s, flags,
			     strerror(-id));
		ret = -1;
	}
	munmap(p, nr * BLK);
	if (id >= 0) {
		usleep(below(w, 3000));
		if (lab_release(w->probe, id))
			ret = -1;
	}
	return ret;
}

/* Fork with the mapping; the child reads every page and exits. */
static int op_fork(struct worker *w, int s, size_t blk, size_t nr)
{
	volatile uint64_t sum = 0;
	int status, ret = 0;
	size_t i;
	pid_t pid;
	char *p;

	p = map_blocks(w, s, blk, nr);
	if (p == MAP_FAILED)
		return -1;
	pid = fork();
	if (pid == 0) {
		signal(SIGBUS, SIG_DFL);
		for (i = 0; i < nr; i++)
			sum += *(volatile uint64_t *)(p + i * BLK);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		ret = -1;
	else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS &&
		 is_fs(sh->slots[s].backend))
		ret = 1;
	else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		record_error("fork: child on slot %d ended with status %#x",
			     s, status);
		ret = -1;
	}
	munmap(p, nr * BLK);
	return ret;
}

/* Move a mapping elsewhere (keeping its alignment) and read it there. */
static int op_mremap(struct worker *w, int s, size_t blk, size_t nr)
{
	size_t len = nr * BLK;
	size_t align = len % SZ_2M == 0 ? SZ_2M : SZ_4K;
	char *p, *to, *q;
	int ret = 0;

	p = map_blocks(w, s, blk, nr);
	if (p == MAP_FAILED)
		return -1;
	to = lab_aligned_hint(len, align);
	if (!to) {
		munmap(p, len);
		return -1;
	}
	q = mremap(p, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	if (q == MAP_FAILED) {
		record_error("mremap: slot %d %zu bytes: %s", s, len,
			     strerror(errno));
		munmap(p, len);
		munmap(to, len);
		return -1;
	}
	if (sigsetjmp(bus_jb, 1) == 0) {
		bus_armed = 1;
		(void)*(volatile uint64_t *)q;
		(void)*(volatile uint64_t *)(q + len - 8);
		bus_armed = 0;
	} else {
		ret = is_fs(sh->slots[s].backend) ? 1 : -1;
	}
	munmap(q, len);
	return ret;
}

/* ---- the workers ------------------------------------------------------- */

static int op_verify(struct worker *w, int s, size_t blk, size_t nr)
{
	return check_blocks(w, s, blk, nr, "verify");
}

static int op_truncate(struct worker *w, int s, size_t blk, size_t nr)
{
	return op_resize(w, s, false);
}

static int op_extend(struct worker *w, int s, size_t blk, size_t nr)
{
	return op_resize(w, s, true);
}

/* Every operation on a range of one slot (reflink takes two). */
static int (*const range_ops[NR_OPS])(struct worker *w, int s, size_t blk,
				      size_t nr) = {
	[OP_MMAP_WRITE] = op_mmap_write,
	[OP_PWRITE] = op_pwrite,
	[OP_DIO_IN] = op_dio_in,
	[OP_VERIFY] = op_verify,
	[OP_TRUNCATE] = op_truncate,
	[OP_EXTEND] = op_extend,
	[OP_PUNCH] = op_punch,
	[OP_DIO_OUT] = op_dio_out,
	[OP_VMSPLICE] = op_vmsplice,
	[OP_HOLD] = op_hold,
	[OP_FORK] = op_fork,
	[OP_MREMAP] = op_mremap,
};

static void lock_slot(int s)
{
	int r = pthread_mutex_lock(&sh->slots[s].lock);

	if (r == EOWNERDEAD) {
		record_error("a worker died holding the lock of slot %d", s);
		pthread_mutex_consistent(&sh->slots[s].lock);
	}
}

static void unlock_slot(int s)
{
	pthread_mutex_unlock(&sh->slots[s].lock);
}

static void one_op(struct worker *w)
{
	int s = below(w, sh->nslots);
	struct slot *sl = &sh->slots[s];
	int b = sl->backend, ret, s2;
	size_t blk, nr;
	enum op op;

	/* Half the operations change data, half only take references. */
	if (below(w, 2)) {
		static const enum op fs_ops[] = {
			OP_MMAP_WRITE, OP_MMAP_WRITE, OP_PWRITE, OP_DIO_IN,
			OP_VERIFY, OP_TRUNCATE, OP_EXTEND, OP_EXTEND, OP_PUNCH,
			OP_REFLINK,
		};
		static const enum op dev_ops[] = {
			OP_MMAP_WRITE, OP_DIO_IN, OP_VERIFY,
		};
		op = is_fs(b) ? fs_ops[below(w, 10)] : dev_ops[below(w, 3)];
	} else {
		op = OP_DIO_OUT + below(w, OP_MREMAP - OP_DIO_OUT + 1);
	}
	pick_range(w, s, &blk, &nr);

	switch (op) {
	case OP_REFLINK:
		if (b != B_XFS || sh->reflink_off)
			return;
		do
			s2 = below(w, sh->nslots);
		while (sh->slots[s2].backend != B_XFS);
		if (s2 == s)
			return;
		lock_slot(s < s2 ? s : s2);
		lock_slot(s < s2 ? s2 : s);
		ret = op_reflink(w, s2, s, blk, nr);
		unlock_slot(s);
		unlock_slot(s2);
		break;
	default:
		/* Operations that change data keep the slot's truth: locked. */
		if (op < OP_DIO_OUT)
			lock_slot(s);
		ret = range_ops[op](w, s, blk, nr);
		if (op < OP_DIO_OUT)
			unlock_slot(s);
		break;
	}
	count(b, op, ret);
}

static int worker_init(struct worker *w, int id)
{
	int i;

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->rng = base_seed ^ ((uint64_t)(id + 1) * 0x9e3779b97f4a7c15ull);
	for (i = 0; i < MAX_SLOTS; i++)
		w->fds[i] = -1;
	w->probe = lab_probe_open();
	w->nvme = nvme ? open(nvme, O_RDWR | O_DIRECT | O_CLOEXEC) : -1;
	w->dio_buf = mmap(NULL, DIO_AREA, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w->probe < 0 || w->dio_buf == MAP_FAILED) {
		record_error("worker %d: cannot open the probe or allocate", id);
		return -1;
	}
	return 0;
}

static void worker_fini(struct worker *w)
{
	int i;

	for (i = 0; i < MAX_SLOTS; i++)
		if (w->fds[i] >= 0)
			close(w->fds[i]);
	if (w->nvme >= 0)
		close(w->nvme);
	close(w->probe);
	munmap(w->dio_buf, DIO_AREA);
}

static void *worker_thread(void *arg)
{
	struct worker w;

	if (worker_init(&w, (int)(intptr_t)arg))
		return NULL;
	while (!sh->stop)
		one_op(&w);
	worker_fini(&w);
	return NULL;
}

/* A worker process: @nthreads threads, ids from @first. */
static void worker_process(int first)
{
	pthread_t t[MAX_WORKERS];
	int i;

	for (i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, worker_thread,
				   (void *)(intptr_t)(first + i)))
			t[i] = 0;
	for (i = 0; i < nthreads; i++)
		if (t[i])
			pthread_join(t[i], NULL);
}

/*
 * Memory failure under load, on a file of its own (poisoned blocks stay
 * bad for the rest of the boot): a child maps two pages, poisons one with
 * madvise(MADV_HWPOISON) and must get SIGBUS; then the other page, now
 * unmapped, is poisoned by pfn through debugfs corrupt-pfn.
 */
static void poison_once(struct worker *w, int n)
{
	const char *dir = lab_env("LAB_EXT4_DIR");
	struct lab_page_info info;
	int fd, status, ret = 0;
	char path[256];
	uint64_t pfn = 0;
	int pfd[2];
	pid_t pid;
	FILE *f;

	snprintf(path, sizeof(path), "%s/torture-poison.%d", dir, n);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fallocate(fd, 0, 0, 2 * BLK) || pipe2(pfd, O_CLOEXEC)) {
		record_error("hwpoison: cannot set up %s: %s", path, strerror(errno));
		count(B_EXT4, OP_POISON, -1);
		if (fd >= 0)
			close(fd);
		return;
	}
	pid = fork();
	if (pid == 0) {
		char *p = mmap(NULL, 2 * BLK, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, 0);

		if (p == MAP_FAILED)
			_exit(2);
		signal(SIGBUS, SIG_DFL);
		memset(p, 0xa5, 2 * BLK);
		if (lab_info_addr(w->probe, p + BLK, &info) == 0 &&
		    write(pfd[1], &info.pfn, sizeof(info.pfn)) < 0)
			_exit(2);
		madvise(p, BLK, MADV_HWPOISON);
		(void)*(volatile char *)p;
		_exit(3);	/* no SIGBUS: the poison did not take */
	}
	close(pfd[1]);
	if (read(pfd[0], &pfn, sizeof(pfn)) != sizeof(pfn))
		pfn = 0;
	close(pfd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid ||
	    !WIFSIGNALED(status) || WTERMSIG(status) != SIGBUS) {
		record_error("hwpoison: the process touching a poisoned page was not killed by SIGBUS (status %#x)",
			     status);
		ret = -1;
	}
	close(fd);
	if (pfn) {
		f = fopen("/sys/kernel/debug/hwpoison/corrupt-pfn", "w");
		if (!f || fprintf(f, "%llu\n", (unsigned long long)pfn) < 0 ||
		    fclose(f)) {
			/* EBUSY/EIO are answers; only a missing file is not. */
			if (!f) {
				record_error("hwpoison: corrupt-pfn: %s", strerror(errno));
				ret = -1;
			}
		}
	}
	count(B_EXT4, OP_POISON, ret);
}

static void *poison_thread(void *arg)
{
	struct worker w;
	int n = 0;

	if (worker_init(&w, (int)(intptr_t)arg))
		return NULL;
	while (!sh->stop) {
		poison_once(&w, n++);
		for (int i = 0; i < 50 && !sh->stop; i++)
			usleep(100000);
	}
	worker_fini(&w);
	return NULL;
}

/* ---- bad input, once, while the workload runs ------------------------- */

enum bad {
	BAD_PRIVATE, BAD_MISALIGNED, BAD_SPLIT_1G, BAD_LONGTERM, BAD_DIO_UNMAP,
	NR_BAD
};

static const char *const bad_name[NR_BAD] = {
	"bad_input.devdax_map_private_refused",
	"bad_input.contract_devdax_misaligned_offset_refused",
	"bad_input.devdax_1g_split_refused",
	"bad_input.fsdax_longterm_pin_refused",
	"bad_input.odirect_into_concurrently_unmapped_dax",
};

/* 1 pass, 0 fail, -1 skip; with a reason. */
static int bad_result[NR_BAD];
static char bad_why[NR_BAD][400];

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

static void *bad_input_thread(void *arg)
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

/* ---- setup and the end of the run -------------------------------------- */

struct backend_state {
	bool present;
	uint64_t pfn;			/* any pfn of its namespace */
	struct lab_scan before;
};

static struct backend_state bstate[NR_BACKENDS];

static int tap_n;
static bool all_ok = true;

#define TAP_RET(...) do { tap(__VA_ARGS__); return; } while (0)

static void tap(int res, const char *name, const char *fmt, ...)
{
	char why[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (res < 0) {
		printf("ok %d torture.%s # SKIP %s\n", ++tap_n, name, why);
		return;
	}
	if (!res)
		all_ok = false;
	printf("%sok %d torture.%s%s%s\n", res ? "" : "not ", ++tap_n, name,
	       *why ? " # " : "", why);
}

/* Create the slots of every backend the lab provides. */
static int setup_slots(struct worker *w)
{
	pthread_mutexattr_t ma;
	int b, i;

	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	for (b = 0; b < NR_BACKENDS; b++) {
		const char *where = lab_env(backends[b].env);
		int n = is_fs(b) ? SLOTS_PER_FS : SLOTS_PER_DEV;

		if (!where)
			continue;
		bstate[b].present = true;
		for (i = 0; i < n; i++) {
			int s = sh->nslots++;
			struct slot *sl = &sh->slots[s];
			size_t k;

			pthread_mutex_init(&sl->lock, &ma);
			sl->backend = b;
			sl->size = SLOT_SIZE;
			if (is_fs(b)) {
				int fd;

				snprintf(sl->path, sizeof(sl->path),
					 "%s/torture.%d", where, i);
				fd = open(sl->path, O_RDWR | O_CREAT | O_TRUNC, 0600);
				if (fd < 0 || fallocate(fd, 0, 0, SLOT_SIZE)) {
					printf("# cannot create %s: %s\n",
					       sl->path, strerror(errno));
					return -1;
				}
				close(fd);
				for (k = 0; k < SLOT_BLOCKS; k++)
					sl->seed[k] = SEED_ZERO;
			} else {
				snprintf(sl->path, sizeof(sl->path), "%s", where);
				sl->base = (off_t)i * SLOT_SIZE;
				/* Earlier tests left data: write ours. */
				if (op_mmap_write(w, s, 0, SLOT_BLOCKS)) {
					printf("# cannot initialise %s\n", where);
					return -1;
				}
			}
		}
	}
	return 0;
}

/*
 * Snapshot the page states of each namespace while nothing is mapped:
 * the probe needs a pfn, taken from a mapping of the first slot.
 */
static void snapshot_before(struct worker *w)
{
	struct lab_page_info info;
	int s;

	for (s = 0; s < sh->nslots; s++) {
		int b = sh->slots[s].backend;
		char *p;

		if (bstate[b].pfn)
			continue;
		p = map_blocks(w, s, 0, HUGE_BLOCKS);
		if (p == MAP_FAILED)
			continue;
		/* A write: a read of FS DAX may map the zero page. */
		*(volatile char *)p = *(volatile char *)p;
		if (lab_info_addr(w->probe, p, &info) == 0 &&
		    (info.flags & LAB_PAGE_ZONE_DEVICE))
			bstate[b].pfn = info.pfn;
		munmap(p, SZ_2M);
	}
	for (s = 0; s < sh->nslots; s++)	/* nothing else holds fds */
		if (w->fds[s] >= 0) {
			close(w->fds[s]);
			w->fds[s] = -1;
		}
	for (int b = 0; b < NR_BACKENDS; b++)
		if (bstate[b].pfn)
			lab_scan(w->probe, bstate[b].pfn, &bstate[b].before);
}

static void print_counts(void)
{
	int b, op;

	printf("# %-10s %-13s %10s %8s %7s\n", "backend", "operation", "done",
	       "raced", "failed");
	for (b = 0; b < NR_BACKENDS; b++)
		for (op = 0; op < NR_OPS; op++) {
			struct counters *c = &sh->ops[b][op];
			unsigned long d = c->done, r = c->raced, f = c->failed;

			if (d + r + f)
				printf("# %-10s %-13s %10lu %8lu %7lu\n",
				       backends[b].name, op_name[op], d, r, f);
		}
	if (sh->reflink_off)
		printf("# reflink not run: %s\n", sh->reflink_off);
}

/* Verify every slot of @b against the truth, file sizes included. */
static int verify_backend(struct worker *w, int b)
{
	int s, r, bad = 0;
	struct stat st;

	for (s = 0; s < sh->nslots; s++) {
		struct slot *sl = &sh->slots[s];

		if (sl->backend != b)
			continue;
		/* A worker killed mid-operation leaves its slot's truth unknown. */
		r = pthread_mutex_trylock(&sl->lock);
		if (r == EOWNERDEAD) {
			pthread_mutex_consistent(&sl->lock);
			pthread_mutex_unlock(&sl->lock);
			printf("# %s slot %d not verified: its worker was killed in an operation on it\n",
			       backends[b].name, s);
			continue;
		}
		if (r == 0)
			pthread_mutex_unlock(&sl->lock);
		if (is_fs(b) && (fstat(slot_fd(w, s), &st) ||
				 (size_t)st.st_size != sl->size)) {
			record_error("%s slot %d: size %lld, expected %zu",
				     backends[b].name, s, (long long)st.st_size,
				     sl->size);
			bad++;
		}
		if (check_blocks(w, s, 0, SLOT_BLOCKS, "final verify"))
			bad++;
	}
	return bad;
}

/*
 * Map the first BLK of @fd, fill it, pin it for write and unmap it again:
 * the pin's id, or -errno.
 */
static int pin_first_block(struct worker *w, int fd)
{
	char *p = lab_map(fd, BLK, BLK, 0);
	int id;

	if (p == MAP_FAILED)
		return -errno;
	lab_fill(p, BLK, 8, base_seed);
	id = lab_hold(w->probe, p, BLK, LAB_HOLD_PIN | LAB_HOLD_WRITE);
	munmap(p, BLK);
	return id;
}

/* Wait up to @tenths tenths of a second for @pid: nonzero once it exited. */
static pid_t wait_tenths(pid_t pid, int tenths, int *status)
{
	pid_t done = 0;

	while (tenths-- > 0 && !done) {
		usleep(100000);
		done = waitpid(pid, status, WNOHANG);
	}
	return done;
}

/*
 * An unmount racing a held pin: a page of a file of the filesystem stays
 * pinned (the file closed, nothing mapped) while umount runs in a child.
 * The umount must still be running after a while, and complete soon
 * after the pin is released.
 */
static void umount_racing_pin(struct worker *w, int b)
{
	const char *dir = lab_env(backends[b].env);
	char name[64], path[256];
	int fd, id, status = 0;
	pid_t pid, done = 0;

	snprintf(name, sizeof(name), "contract_umount_waits_for_pin.%s",
		 backends[b].name);
	snprintf(path, sizeof(path), "%s/torture-pin", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || fallocate(fd, 0, 0, BLK))
		TAP_RET(0, name, "cannot create %s: %s", path, strerror(errno));
	id = pin_first_block(w, fd);
	close(fd);
	if (id < 0)
		TAP_RET(0, name, "cannot map and pin %s: %s", path, strerror(-id));
	pid = fork();
	if (pid == 0)
		_exit(umount2(dir, 0) ? errno : 0);
	done = wait_tenths(pid, 30, &status);	/* 3 s with the pin held */
	lab_release(w->probe, id);
	if (done) {
		tap(0, name, "umount returned (status %#x) while a page was pinned",
		    status);
		return;
	}
	done = wait_tenths(pid, 600, &status);	/* 60 s after the release */
	if (!done)
		tap(0, name, "umount still waiting 60 s after the pin was released");
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		tap(0, name, "umount failed: %s", strerror(WEXITSTATUS(status)));
	else
		tap(1, name, "waited while pinned, completed after the release");
}

/* Every page of the namespace of @b as idle as before the run. */
static void check_idle(struct worker *w, int b)
{
	struct lab_scan *a = &bstate[b].before, now;
	char name[64];
	int ret;

	snprintf(name, sizeof(name), "idle_after_run.%s", backends[b].name);
	if (!bstate[b].pfn)
		TAP_RET(0, name, "no pfn of the namespace was found");
	ret = lab_scan(w->probe, bstate[b].pfn, &now);
	if (ret)
		TAP_RET(0, name, "scan: %s", strerror(-ret));
	if (now.nr_busy)
		tap(0, name, "%llu of %llu pages busy, first pfn %#llx refcount %d mapcount %d",
		    (unsigned long long)now.nr_busy,
		    (unsigned long long)now.nr_pages,
		    (unsigned long long)now.first_busy_pfn,
		    now.first_busy_refcount, now.first_busy_mapcount);
	else if (now.nr_ref0 != a->nr_ref0 || now.nr_ref1 != a->nr_ref1)
		tap(0, name, "idle refcounts changed: %llu at 0 and %llu at 1 before, %llu and %llu after",
		    (unsigned long long)a->nr_ref0, (unsigned long long)a->nr_ref1,
		    (unsigned long long)now.nr_ref0,
		    (unsigned long long)now.nr_ref1);
	else
		tap(1, name, "%llu pages: %llu at refcount 0, %llu at 1, %llu in large folios",
		    (unsigned long long)now.nr_pages,
		    (unsigned long long)now.nr_ref0,
		    (unsigned long long)now.nr_ref1,
		    (unsigned long long)now.nr_compound);
}

/* ndctl must refuse to disable the namespace under a mounted filesystem. */
static void namespace_busy(struct worker *w, int b)
{
	const char *dev = lab_env(b == B_EXT4 ? "LAB_EXT4" : "LAB_XFS");
	char link[256], cmd[512], name[64];
	int rc, s;
	ssize_t n;

	snprintf(name, sizeof(name), "disable_mounted_namespace_refused.%s",
		 backends[b].name);
	snprintf(cmd, sizeof(cmd), "/sys/block/%s/device", dev ? dev + 5 : "");
	n = dev ? readlink(cmd, link, sizeof(link) - 1) : -1;
	if (n < 0)
		TAP_RET(0, name, "no namespace behind %s", dev ? dev : "?");
	link[n] = '\0';
	snprintf(cmd, sizeof(cmd), "ndctl disable-namespace %s >/dev/null 2>&1",
		 strrchr(link, '/') + 1);
	rc = system(cmd);
	for (s = 0; s < sh->nslots; s++)
		if (sh->slots[s].backend == b)
			break;
	if (rc == 0)
		tap(0, name, "'%s' succeeded under a mounted filesystem", cmd);
	else if (check_blocks(w, s, 0, SLOT_BLOCKS, "after disable-namespace"))
		tap(0, name, "refused, but the data is no longer intact");
	else
		tap(1, name, "refused (exit %d), data intact", WEXITSTATUS(rc));
}

/*
 * Disabling the namespace of a device DAX instance with a page pinned:
 * the mappings go, but the memory must stay until the pin is released,
 * so the disable must still be running while the pin is held and finish
 * after.  The baseline frees the memmap under the pin and oopses on the
 * release, so it does not run there.  Runs last: the namespace comes
 * back, but the other scenarios are done with it.
 */
static void disable_racing_pin(struct worker *w)
{
	const char *name = "devdax_disable_waits_for_pin";
	const char *dev = lab_env("LAB_DEVDAX4K");
	char sys[PATH_MAX], real[PATH_MAX], link[256], *nd;
	int fd, id, status = 0;
	pid_t pid, done = 0;
	struct stat st;
	char state;
	ssize_t n;

	if (!dev)
		TAP_RET(-1, name, "lab did not provide LAB_DEVDAX4K");
	if (!strcmp(lab_kernel(), "baseline"))
		TAP_RET(-1, name, "not run on the baseline, which frees the memmap under the pin and oopses on its release");
	/* /sys/dev/char/M:m -> .../regionN/daxN.M/daxN.M; the nd_dax names its namespace. */
	if (stat(dev, &st))
		TAP_RET(0, name, "stat %s: %s", dev, strerror(errno));
	snprintf(sys, sizeof(sys), "/sys/dev/char/%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	nd = realpath(sys, real) ? strrchr(real, '/') : NULL;
	if (!nd)
		TAP_RET(0, name, "cannot resolve %s", sys);
	*nd = '\0';
	nd = strrchr(real, '/');
	snprintf(sys, sizeof(sys), "/sys/bus/nd/devices/%s/namespace", nd ? nd + 1 : "?");
	fd = open(sys, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, link + 1, sizeof(link) - 2);
	if (fd >= 0)
		close(fd);
	if (n <= 0)
		TAP_RET(0, name, "cannot read the namespace from %s", sys);
	link[0] = '/';		/* "/namespaceN.M", as strrchr() below wants */
	link[n + 1] = '\0';
	link[strcspn(link, "\n")] = '\0';

	fd = open(dev, O_RDWR | O_CLOEXEC);
	id = fd < 0 ? -errno : pin_first_block(w, fd);
	if (fd >= 0)
		close(fd);
	if (id < 0)
		TAP_RET(0, name, "cannot map and pin %s: %s", dev, strerror(-id));
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execlp("ndctl", "ndctl", "disable-namespace", strrchr(link, '/') + 1,
		       (char *)NULL);
		_exit(127);
	}
	done = wait_tenths(pid, 30, &status);	/* 3 s with the pin held */
	if (done) {
		/* The memory is gone: releasing the pin now may crash. */
		TAP_RET(0, name, "disable-namespace %s finished (status %#x) while a page was pinned",
			strrchr(link, '/') + 1, status);
	}
	/* A long-term pin may keep it waiting: not as a hung task. */
	state = lab_proc_state(pid);
	lab_release(w->probe, id);
	done = wait_tenths(pid, 600, &status);	/* 60 s after the release */
	if (!done)
		tap(0, name, "disable-namespace still waiting 60 s after the release");
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		tap(0, name, "disable-namespace failed with status %#x", status);
	else if (state == 'D')
		tap(0, name, "disable-namespace waited for the pin in state D, which the hung task detector reports");
	else
		tap(1, name, "waited while pinned (state %c), finished after the release", state);
	snprintf(sys, sizeof(sys), "ndctl enable-namespace %s >/dev/null 2>&1",
		 strrchr(link, '/') + 1);
	if (system(sys))
		printf("# could not enable %s again\n", strrchr(link, '/') + 1);
}

#define STOP_GRACE	120	/* seconds a last operation may take */

/* Print what a stuck task waits for: state, wchan and kernel stack. */
static void dump_task(pid_t pid)
{
	char path[512], dir[64], buf[4096];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		static const char *const files[] = { "stat", "wchan", "stack" };
		unsigned int f;

		if (de->d_name[0] == '.')
			continue;
		for (f = 0; f < 3; f++) {
			FILE *in;
			size_t n;

			snprintf(path, sizeof(path), "%s/%s/%s", dir, de->d_name, files[f]);
			in = fopen(path, "r");
			n = in ? fread(buf, 1, sizeof(buf) - 1, in) : 0;
			if (in)
				fclose(in);
			buf[n] = '\0';
			for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
				printf("# stuck %d/%s %s: %s\n", pid, de->d_name, files[f], l);
		}
	}
	if (d)
		closedir(d);
}

/*
 * Wait for the workers to finish their last operation.  One that is
 * still in the kernel after STOP_GRACE seconds is a hang the run must
 * report, not wait out: print where it is stuck, SIGKILL it, and go on
 * with the verdicts.  Returns the number of stuck workers.
 */
static int wait_workers(pid_t *procs, pthread_t poisoner, pthread_t bad)
{
	time_t end = time(NULL) + STOP_GRACE;
	struct timespec ts = { .tv_sec = end };
	int i, left, stuck = 0, status;

	do {
		left = 0;
		for (i = 0; i < nproc_workers; i++) {
			if (procs[i] <= 0)
				continue;
			if (waitpid(procs[i], &status, WNOHANG) == procs[i]) {
				if (!WIFEXITED(status) || WEXITSTATUS(status))
					record_error("worker process %d ended with status %#x",
						     i, status);
				procs[i] = 0;
			} else {
				left++;
			}
		}
		if (left)
			usleep(200000);
	} while (left && time(NULL) < end);
	for (i = 0; i < nproc_workers; i++) {
		if (procs[i] <= 0)
			continue;
		dump_task(procs[i]);
		kill(procs[i], SIGKILL);
		stuck++;
	}
	if (pthread_timedjoin_np(poisoner, NULL, &ts)) {
		dump_task(getpid());
		stuck++;
	}
	if (pthread_timedjoin_np(bad, NULL, &ts))
		stuck++;
	return stuck;
}

/*
 * A read-only pin (O_DIRECT out of the mapping does this) of an FS DAX
 * page that two files share after a reflink.  The baseline marks such a
 * page with PAGE_MAPPING_DAX_SHARED, which PageAnon() takes for an
 * anonymous page, and GUP's VM_BUG_ON in follow_page_pte() kills the
 * kernel; the series counts sharing without a fake mapping.
 */
static const char baseline_shared_pin[] =
	"the baseline hits VM_BUG_ON in follow_page_pte() when a reflinked FS DAX page is pinned (PAGE_MAPPING_DAX_SHARED looks anonymous)";

static void pin_reflinked_page(struct worker *w)
{
	const char *name = "pin_reflinked_page.xfs";
	const char *dir = lab_env("LAB_XFS_DIR");
	char a[256], b[256];
	int fa, fb, id, ok;
	char *p;

	if (!dir)
		TAP_RET(-1, name, "lab did not provide LAB_XFS_DIR");
	if (!strcmp(lab_kernel(), "baseline"))
		TAP_RET(-1, name, "%s", baseline_shared_pin);
	snprintf(a, sizeof(a), "%s/torture-share-a", dir);
	snprintf(b, sizeof(b), "%s/torture-share-b", dir);
	fa = open(a, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	fb = open(b, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	p = fa < 0 || fb < 0 || ftruncate(fa, BLK) ? MAP_FAILED :
	    lab_map(fa, BLK, BLK, 0);
	if (p == MAP_FAILED)
		TAP_RET(0, name, "cannot set up %s: %s", a, strerror(errno));
	fill_block(p, base_seed | 1);
	munmap(p, BLK);
	if (ioctl(fb, FICLONE, fa)) {
		tap(errno == EOPNOTSUPP ? -1 : 0, name, "FICLONE: %s", strerror(errno));
		goto out;
	}
	p = mmap(NULL, BLK, PROT_READ, MAP_SHARED, fb, 0);
	if (p == MAP_FAILED) {
		tap(0, name, "mmap of the clone: %s", strerror(errno));
		goto out;
	}
	ok = block_is(p, base_seed | 1);	/* maps the shared page */
	id = lab_hold(w->probe, p, BLK, LAB_HOLD_PIN);
	if (id >= 0)
		lab_release(w->probe, id);
	munmap(p, BLK);
	if (id < 0)
		tap(0, name, "pinning the shared page failed: %s", strerror(-id));
	else
		tap(ok, name, ok ? "pinned and released, data intact" :
		    "the clone does not hold the data");
out:
	close(fa);
	close(fb);
	unlink(a);
	unlink(b);
}

/*
 * Two clones of one file fault the same blocks at the same time, one
 * through PMDs and one through PTEs, while a third process takes and
 * drops references on them and a fourth rewrites pages of the source in
 * place (a copy on write that leaves the data as it was).  Each file
 * associates the shared folios under its own i_pages lock; the folios'
 * sharing count and shape must survive that.  Both clones must read the
 * original data at the end.
 */
#define CLONE_LEN	(2 * SZ_2M)
#define CLONE_SECONDS	5

static const char baseline_pte_under_pmd[] =
	"the baseline BUGs on a 4K fault under a shared PMD entry";

static void clone_faulter(struct worker *w, int fd, int kind, uint64_t seed)
{
	time_t end = time(NULL) + CLONE_SECONDS;
	size_t pg, nr = CLONE_LEN / BLK;
	int bad = 0;

	while (time(NULL) < end && !bad) {
		char *p = kind == 1 ? lab_map(fd, CLONE_LEN, SZ_4K, 0) :
			  lab_map(fd, CLONE_LEN, SZ_2M, 0);
		int id;

		if (p == MAP_FAILED)
			_exit(2);
		if (kind == 1)
			madvise(p, CLONE_LEN, MADV_NOHUGEPAGE);
		for (pg = 0; pg < nr; pg++) {
			size_t q = (pg * 97 + rnd(w)) % nr;

			switch (kind) {
			case 0:
			case 1:	/* read faults, PMD and PTE */
				bad |= !block_is(p + q * BLK, lab_word(seed, q));
				break;
			case 2:	/* a reference taken and dropped */
				id = lab_hold(w->probe, p + q * BLK, BLK,
					      rnd(w) & 1 ? LAB_HOLD_PIN : 0);
				if (id >= 0)
					lab_release(w->probe, id);
				break;
			case 3:	/* rewrite in place: copy on write, same data */
				if (!(rnd(w) % 64))
					((volatile char *)p)[q * BLK] = p[q * BLK];
				break;
			}
		}
		munmap(p, CLONE_LEN);
	}
	_exit(bad);
}

static void clones_fault_together(struct worker *w)
{
	const char *name = "clones_fault_together.xfs";
	const char *dir = lab_env("LAB_XFS_DIR");
	uint64_t seed = base_seed ^ 0xc10e;
	int fd[2] = { -1, -1 }, k, status, ok = 1;
	char path[2][256];
	pid_t kids[4];
	size_t pg;
	char *p;

	if (!dir)
		TAP_RET(-1, name, "lab did not provide LAB_XFS_DIR");
	if (!strcmp(lab_kernel(), "baseline"))
		TAP_RET(-1, name, "%s", baseline_pte_under_pmd);
	for (k = 0; k < 2; k++) {
		snprintf(path[k], sizeof(path[k]), "%s/torture-clone-%d", dir, k);
		fd[k] = open(path[k], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	}
	p = fd[0] < 0 || fd[1] < 0 || ftruncate(fd[0], CLONE_LEN) ? MAP_FAILED :
	    lab_map(fd[0], CLONE_LEN, SZ_2M, 0);
	if (p == MAP_FAILED) {
		tap(0, name, "cannot set up %s: %s", path[0], strerror(errno));
		goto out;
	}
	for (pg = 0; pg < CLONE_LEN / BLK; pg++)
		fill_block(p + pg * BLK, lab_word(seed, pg));
	munmap(p, CLONE_LEN);
	if (fsync(fd[0]) || ioctl(fd[1], FICLONE, fd[0])) {
		tap(errno == EOPNOTSUPP ? -1 : 0, name, "FICLONE: %s", strerror(errno));
		goto out;
	}
	for (k = 0; k < 4; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			w->rng ^= (uint64_t)(k + 1) << 32;
			clone_faulter(w, fd[k == 1 || k == 2], k, seed);
		}
	}
	for (k = 0; k < 4; k++) {
		if (kids[k] < 0 || waitpid(kids[k], &status, 0) != kids[k] ||
		    !WIFEXITED(status) || WEXITSTATUS(status)) {
			record_error("clone faulter %d: status %#x", k, status);
			ok = 0;
		}
	}
	for (k = 0; k < 2 && ok; k++) {
		p = mmap(NULL, CLONE_LEN, PROT_READ, MAP_SHARED, fd[k], 0);
		for (pg = 0; p != MAP_FAILED && pg < CLONE_LEN / BLK; pg++)
			ok &= block_is(p + pg * BLK, lab_word(seed, pg));
		if (p == MAP_FAILED)
			ok = 0;
		else
			munmap(p, CLONE_LEN);
	}
	tap(ok, name, ok ? "%d s of PMD and PTE faults of both clones, references and rewrites; data intact" :
	    "a faulter failed or the data changed (see the errors below)", CLONE_SECONDS);
out:
	for (k = 0; k < 2; k++) {
		if (fd[k] >= 0)
			close(fd[k]);
		unlink(path[k]);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: torture [-t SECONDS] [-p PROCESSES] [-j THREADS] [-s SEED]\n");
	exit(2);
}

static int number(const char *s, int lo, int hi)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end || v < lo || v > hi) {
		fprintf(stderr, "torture: '%s' is not a number in [%d, %d]\n",
			s, lo, hi);
		usage();
	}
	return v;
}

int main(int argc, char **argv)
{
	pid_t procs[MAX_WORKERS];
	pthread_t poisoner, bad;
	struct sigaction sa = { .sa_sigaction = on_sigbus,
				.sa_flags = SA_SIGINFO | SA_NODEFER };
	struct worker w;
	int opt, i, b, stuck;

	base_seed = lab_seed("torture");
	while ((opt = getopt(argc, argv, "t:p:j:s:")) != -1) {
		switch (opt) {
		case 't':
			seconds = number(optarg, 1, 24 * 3600);
			break;
		case 'p':
			nproc_workers = number(optarg, 1, 8);
			break;
		case 'j':
			nthreads = number(optarg, 1, MAX_WORKERS / 8);
			break;
		case 's':
			base_seed = strtoull(optarg, NULL, 0);
			break;
		default:
			usage();
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigaction(SIGBUS, &sa, NULL);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("torture: shared state");
		return 1;
	}
	nvme = lab_env("LAB_NVME");
	/* Racing pins would hit that VM_BUG_ON on the baseline, see pin_reflinked_page(). */
	if (!strcmp(lab_kernel(), "baseline"))
		sh->reflink_off = baseline_shared_pin;
	printf("# torture: %d s, %d processes x %d threads, seed %#llx, kernel %s\n",
	       seconds, nproc_workers, nthreads, (unsigned long long)base_seed,
	       lab_kernel());
	if (worker_init(&w, MAX_WORKERS - 1)) {
		printf("1..1\nnot ok 1 torture.setup # cannot open %s\n",
		       LAB_PROBE_PATH);
		return 1;
	}
	if (setup_slots(&w)) {
		printf("1..1\nnot ok 1 torture.setup # see above\n");
		return 1;
	}
	snapshot_before(&w);

	for (i = 0; i < nproc_workers; i++) {
		procs[i] = fork();
		if (procs[i] == 0) {
			worker_process(i * nthreads);
			_exit(0);
		}
	}
	pthread_create(&poisoner, NULL, poison_thread,
		       (void *)(intptr_t)(MAX_WORKERS - 2));
	pthread_create(&bad, NULL, bad_input_thread, NULL);
	for (i = 0; i < seconds; i++) {
		sleep(1);
		if (i % 30 == 29)
			printf("# %d s\n", i + 1);
	}
	sh->stop = 1;
	stuck = wait_workers(procs, poisoner, bad);

	print_counts();
	printf("1..%d\n", 1 + 4 + 2 + NR_BAD + 1 + 1 + 1 + 2 + 4 + 1);
	if (stuck)
		tap(0, "workers_stop", "%d workers still running %d s after the end, see the stacks above",
		    stuck, STOP_GRACE);
	else
		tap(1, "workers_stop", "every worker finished its last operation");
	for (b = 0; b < NR_BACKENDS; b++) {
		char name[64];
		unsigned long failed = 0;
		int bad_slots;

		snprintf(name, sizeof(name), "workload.%s", backends[b].name);
		if (!bstate[b].present) {
			tap(-1, name, "lab did not provide %s", backends[b].env);
			continue;
		}
		bad_slots = verify_backend(&w, b);
		for (i = 0; i < NR_OPS; i++)
			failed += sh->ops[b][i].failed;
		tap(!bad_slots && !failed && !sh->mismatches[b], name,
		    "%lu mismatching blocks, %lu failed operations, %d bad slots",
		    (unsigned long)sh->mismatches[b], failed, bad_slots);
	}
	for (b = B_EXT4; b <= B_XFS; b++)
		if (bstate[b].present)
			namespace_busy(&w, b);
		else
			tap(-1, "disable_mounted_namespace_refused", "no %s",
			    backends[b].name);
	for (i = 0; i < NR_BAD; i++)
		tap(bad_result[i], bad_name[i] + 0, "%s", bad_why[i]);
	{
		struct counters *c = &sh->ops[B_EXT4][OP_POISON];

		tap(bstate[B_EXT4].present ? c->done > 0 && !c->failed : -1,
		    "hwpoison_under_load", "%lu injections, %lu failed",
		    (unsigned long)c->done, (unsigned long)c->failed);
	}
	pin_reflinked_page(&w);
	clones_fault_together(&w);
	for (i = 0; i < MAX_SLOTS; i++)
		if (w.fds[i] >= 0) {
			close(w.fds[i]);
			w.fds[i] = -1;
		}
	for (b = B_EXT4; b <= B_XFS; b++)
		if (bstate[b].present)
			umount_racing_pin(&w, b);
		else
			tap(-1, "contract_umount_waits_for_pin", "no %s",
			    backends[b].name);
	for (b = 0; b < NR_BACKENDS; b++)
		if (bstate[b].present)
			check_idle(&w, b);
		else
			tap(-1, "idle_after_run", "no %s", backends[b].name);
	disable_racing_pin(&w);
	for (i = 0; i < atomic_load(&sh->nerrors) && i < MAX_ERRORS; i++)
		printf("# error: %s\n", sh->errors[i]);
	worker_fini(&w);
	return all_ok ? 0 : 1;
}
