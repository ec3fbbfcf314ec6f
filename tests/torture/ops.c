// SPDX-License-Identifier: GPL-2.0
/*
 * The torture workload's operations: the locked ones change data and
 * keep the truth, the racing ones only take references; and the workers
 * that pick and run them.
 */
#include "torture.h"

/* ---- small helpers ---------------------------------------------------- */

void record_error(const char *fmt, ...)
{
	int i = atomic_fetch_add(&sh->nerrors, 1);
	va_list ap;

	if (i >= MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(sh->errors[i], sizeof(sh->errors[i]), fmt, ap);
	va_end(ap);
}

void count(int b, enum op op, int outcome)
{
	struct counters *c = &sh->ops[b][op];

	if (outcome > 0)
		atomic_fetch_add(&c->raced, 1);
	else if (outcome < 0)
		atomic_fetch_add(&c->failed, 1);
	else
		atomic_fetch_add(&c->done, 1);
}

uint64_t rnd(struct worker *w)
{
	/* xorshift64*: cheap and good enough to pick operations. */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545f4914f6cdd1dull;
}

unsigned long below(struct worker *w, unsigned long n)
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

bool is_fs(int b)
{
	return backends[b].kind == LAB_FSDAX;
}

void fill_block(void *p, uint64_t seed)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < BLK / 8; i++)
		w[i] = seed == SEED_ZERO ? 0 : lab_word(seed, i * 8);
}

/* True if the block at @p holds what @seed says. */
bool block_is(const void *p, uint64_t seed)
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
__thread sigjmp_buf bus_jb;
__thread volatile int bus_armed;

void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	if (bus_armed) {
		bus_armed = 0;
		siglongjmp(bus_jb, 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

int slot_fd(struct worker *w, int s)
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
char *map_blocks(struct worker *w, int s, size_t blk, size_t nr)
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

int op_mmap_write(struct worker *w, int s, size_t blk, size_t nr)
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
int check_blocks(struct worker *w, int s, size_t blk, size_t nr,
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

int worker_init(struct worker *w, int id)
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

void worker_fini(struct worker *w)
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
void worker_process(int first)
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

void *poison_thread(void *arg)
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
