// SPDX-License-Identifier: GPL-2.0
/*
 * Truncate, punch hole and unmount of FS DAX files while a page is still
 * referenced (a GUP reference, a pin, a pipe buffer from vmsplice, a
 * queued MSG_ZEROCOPY send on a TCP or an RDS socket, a kernel TLS record
 * that can't go out, or a FUSE direct read or write whose server has not
 * answered).
 *
 * The filesystem must break the layout: unmap the page, wait until it is
 * idle, and only then give the block back.  Both kernels wait in truncate
 * and punch hole (ext4_break_layouts, xfs_break_dax_layouts), so those
 * tests are behavioural.  Unmount is different: the baseline evicts the
 * inode without waiting for its pages, so "umount waits for a pinned
 * page" and "every page of the namespace is at refcount 0 after unmount"
 * are contract tests that fail on the baseline.
 *
 * The operation that has to wait runs in a forked worker; the test checks
 * that it has not finished while the reference is held, drops the
 * reference, and then checks that the worker finishes (a liveness bound,
 * not a timing target) and that the data outside the removed range is
 * intact.
 */
#include "lab_harness.h"
#include "hold.h"

#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#define NR_PAGES	16
#define FILE_LEN	(NR_PAGES * SZ_4K)
#define UMOUNT_HELD_MS	5000	/* umount gets longer: it has more to do */

/* ---- data pattern ------------------------------------------------------ */

static bool page_is_zero(const void *got)
{
	const unsigned char *c = got;
	size_t i;

	for (i = 0; i < SZ_4K; i++)
		if (c[i])
			return false;
	return true;
}

/*
 * Compare page @pg of @fd read with pread against the pattern (or zeroes
 * when @zero).  Returns 1 if it matches, 0 if not, -errno on a read error.
 */
static int pread_page_is(int fd, size_t pg, unsigned int salt, bool zero)
{
	uint32_t buf[SZ_4K / sizeof(uint32_t)];
	ssize_t n = pread(fd, buf, SZ_4K, pg * SZ_4K);

	if (n < 0)
		return -errno;
	if (n != (ssize_t)SZ_4K)
		return 0;
	return zero ? page_is_zero(buf) : lab_page_is(buf, pg, salt);
}

static off_t file_size(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? -1 : st.st_size;
}

static int do_umount(const void *p)
{
	return umount2(p, 0) ? errno : 0;
}

/* ---- truncate and punch hole on a mapped file --------------------------- */

FIXTURE(trunc) {
	int probe;
	int fd;
	char path[PATH_MAX];
	char *map;
	struct held_ref ref;
	struct worker w;
};

LAB_FSDAX_VARIANTS(trunc);

FIXTURE_SETUP(trunc)
{
	size_t pg;
	int err;

	self->probe = self->fd = -1;
	held_ref_init(&self->ref, REF_GET);
	self->map = MAP_FAILED;
	self->w.pid = -1;
	LAB_REQUIRE_ENV(variant->dax.env);
	self->probe = lab_probe_open();
	ASSERT_LE(0, self->probe)
		TH_LOG("cannot open %s: %s (lab_probe not loaded?)", LAB_PROBE_PATH, strerror(errno));

	self->fd = lab_dax_open(&variant->dax, "trunc", FILE_LEN,
				self->path, sizeof(self->path));
	ASSERT_LE(0, self->fd) TH_LOG("create %s: %s", self->path, strerror(errno));
	ASSERT_TRUE(lab_fd_is_dax(self->fd))
		TH_LOG("%s is not a DAX file (statx has no STATX_ATTR_DAX)", self->path);
	err = lab_write_pattern(self->fd, NR_PAGES, 1);
	ASSERT_EQ(0, err) TH_LOG("write %s: %s", self->path, strerror(-err));

	self->map = lab_map(self->fd, FILE_LEN, SZ_4K, 0);
	ASSERT_NE(MAP_FAILED, self->map) TH_LOG("mmap %s: %s", self->path, strerror(errno));
	/* What was written is what the mapping and read() show. */
	for (pg = 0; pg < NR_PAGES; pg++) {
		ASSERT_TRUE(lab_page_is(self->map + pg * SZ_4K, pg, 1))
			TH_LOG("page %zu read through the mapping differs from what was written", pg);
		ASSERT_EQ(1, pread_page_is(self->fd, pg, 1, false))
			TH_LOG("page %zu read with pread differs from what was written", pg);
	}
}

FIXTURE_TEARDOWN(trunc)
{
	held_ref_cleanup(&self->ref, self->probe);
	if (self->probe >= 0)
		close(self->probe);
	worker_reap(&self->w);
	if (self->map != MAP_FAILED)
		munmap(self->map, FILE_LEN);
	if (self->fd >= 0) {
		close(self->fd);
		unlink(self->path);
	}
}

/*
 * Take a reference of @kind on page @pg of the mapping.  Returns whether
 * it landed on the page: a GUP reference or pin always does; a pipe
 * buffer from vmsplice() does on the baseline, while the series gives
 * the pipe a copy of an FS DAX page (see contract_vmsplice_*).
 */
static bool take_ref(struct __test_metadata *_metadata,
		     FIXTURE_DATA(trunc) *self, enum ref_kind kind, size_t pg)
{
	struct lab_page_info before, info;
	char *addr = self->map + pg * SZ_4K;
	int ret;

	ret = lab_info_addr(self->probe, addr, &before);
	ASSERT_EQ(0, ret) TH_LOG("probe page info: %s", strerror(-ret));
	held_ref_init(&self->ref, kind);
	ret = held_ref_take(&self->ref, self->probe, addr);
	ASSERT_EQ(0, ret) TH_LOG("%s of page %zu: %s", ref_kind_name(kind), pg,
				 strerror(-ret));
	ret = lab_info_addr(self->probe, addr, &info);
	ASSERT_EQ(0, ret) TH_LOG("probe page info: %s", strerror(-ret));
	ASSERT_TRUE(!!(info.flags & LAB_PAGE_ZONE_DEVICE))
		TH_LOG("page %zu is not ZONE_DEVICE memory (flags %#x)", pg, info.flags);
	if (!ref_carries_data(kind))
		ASSERT_LT(before.folio_refcount, info.folio_refcount)
			TH_LOG("held page %zu has refcount %d, as before the %s; the reference did not land on the page",
			       pg, info.folio_refcount, ref_kind_name(kind));
	return info.folio_refcount > before.folio_refcount;
}

/*
 * Hold page @held with @kind, run @fn in a worker, check that it waits
 * while the page is referenced and completes after the release, and that
 * a pipe buffer still carries the file's data.
 */
static void held_op(struct __test_metadata *_metadata, FIXTURE_DATA(trunc) *self,
		    enum ref_kind kind, size_t held, const char *what,
		    work_fn fn, const void *arg)
{
	uint32_t buf[SZ_4K / sizeof(uint32_t)];
	bool early, landed;
	int closefds[5];
	char state;
	int err;

	landed = take_ref(_metadata, self, kind, held);
	closefds[0] = self->probe;
	closefds[1] = self->ref.pipefd[0];
	closefds[2] = self->ref.pipefd[1];
	closefds[3] = self->ref.tx;
	closefds[4] = self->ref.rx;

	self->w = worker_start(fn, arg, closefds, 5);
	ASSERT_LT(0, self->w.pid) TH_LOG("cannot start the %s worker", what);
	early = worker_wait(&self->w, HELD_MS);
	state = early ? '-' : lab_proc_state(self->w.pid);
	err = held_ref_drop(&self->ref, self->probe, buf);
	if (!early)
		worker_wait(&self->w, LIVE_MS);

	if (landed)
		EXPECT_FALSE(early)
			TH_LOG("%s returned (%s) while page %zu was still referenced; it must wait until the page is idle",
			       what, code_str(self->w.code), held);
	ASSERT_EQ(0, err) TH_LOG("dropping the %s: %s", ref_kind_name(kind), strerror(-err));
	if (ref_carries_data(kind))
		EXPECT_TRUE(lab_page_is(buf, held, 1))
			TH_LOG("the %s of page %zu no longer carried the file data after %s",
			       ref_kind_name(kind), held, what);
	ASSERT_TRUE(self->w.done)
		TH_LOG("%s still had not completed %d ms after the reference was dropped (worker state %c)",
		       what, LIVE_MS, lab_proc_state(self->w.pid));
	ASSERT_EQ(0, self->w.code) TH_LOG("%s failed: %s", what, code_str(self->w.code));
	TH_LOG("%s %s (worker state %c), completed after release", what,
	       landed ? "waited while held" : "had no reference to wait for", state);
}

static void truncate_held(struct __test_metadata *_metadata,
			  FIXTURE_DATA(trunc) *self, enum ref_kind kind)
{
	struct trunc_arg arg = { self->fd, 0 };
	char c;

	held_op(_metadata, self, kind, 5, "ftruncate(0)", do_truncate, &arg);
	ASSERT_EQ(0, file_size(self->fd));
	ASSERT_EQ(0, pread(self->fd, &c, 1, 0))
		TH_LOG("read after truncate to 0 returned data");
}

static void punch_held(struct __test_metadata *_metadata,
		       FIXTURE_DATA(trunc) *self, enum ref_kind kind)
{
	/* Punch pages 4..7, hold page 5 inside the hole. */
	struct punch_arg arg = { self->fd, 4 * SZ_4K, 4 * SZ_4K };
	size_t pg;

	held_op(_metadata, self, kind, 5, "fallocate(PUNCH_HOLE)", do_punch, &arg);
	ASSERT_EQ((off_t)FILE_LEN, file_size(self->fd))
		TH_LOG("punch hole with KEEP_SIZE changed the file size");
	for (pg = 0; pg < NR_PAGES; pg++) {
		bool hole = pg >= 4 && pg < 8;

		ASSERT_EQ(1, pread_page_is(self->fd, pg, 1, hole))
			TH_LOG("page %zu (%s) read with pread is wrong after the punch",
			       pg, hole ? "in the hole, expected zeroes" : "outside the hole, expected the data");
		if (hole) {
			ASSERT_TRUE(page_is_zero(self->map + pg * SZ_4K))
				TH_LOG("page %zu in the hole is not zero through the mapping", pg);
		} else {
			ASSERT_TRUE(lab_page_is(self->map + pg * SZ_4K, pg, 1))
				TH_LOG("page %zu outside the hole changed through the mapping", pg);
		}
	}
}

TEST_F_TIMEOUT(trunc, truncate_waits_for_get, 60)
{
	truncate_held(_metadata, self, REF_GET);
}

TEST_F_TIMEOUT(trunc, truncate_waits_for_pin, 60)
{
	truncate_held(_metadata, self, REF_PIN);
}

TEST_F_TIMEOUT(trunc, truncate_keeps_pipe_buffer_data, 60)
{
	truncate_held(_metadata, self, REF_PIPE);
}

TEST_F_TIMEOUT(trunc, truncate_keeps_zerocopy_send_data, 60)
{
	truncate_held(_metadata, self, REF_ZEROCOPY);
}

TEST_F_TIMEOUT(trunc, truncate_keeps_rds_zerocopy_send_data, 60)
{
	LAB_REQUIRE(rds_available(), LAB_RDS);
	truncate_held(_metadata, self, REF_RDS_ZEROCOPY);
}

TEST_F_TIMEOUT(trunc, truncate_keeps_tls_record_data, 60)
{
	LAB_REQUIRE(tls_available(), LAB_TLS);
	truncate_held(_metadata, self, REF_TLS_RECORD);
}

TEST_F_TIMEOUT(trunc, truncate_keeps_fuse_direct_write_data, 60)
{
	LAB_REQUIRE(fuse_available(), LAB_FUSE);
	truncate_held(_metadata, self, REF_FUSE_WRITE);
}

TEST_F_TIMEOUT(trunc, punch_hole_waits_for_get, 60)
{
	punch_held(_metadata, self, REF_GET);
}

TEST_F_TIMEOUT(trunc, punch_hole_waits_for_pin, 60)
{
	punch_held(_metadata, self, REF_PIN);
}

TEST_F_TIMEOUT(trunc, punch_hole_keeps_pipe_buffer_data, 60)
{
	punch_held(_metadata, self, REF_PIPE);
}

TEST_F_TIMEOUT(trunc, punch_hole_keeps_zerocopy_send_data, 60)
{
	punch_held(_metadata, self, REF_ZEROCOPY);
}

TEST_F_TIMEOUT(trunc, punch_hole_keeps_rds_zerocopy_send_data, 60)
{
	LAB_REQUIRE(rds_available(), LAB_RDS);
	punch_held(_metadata, self, REF_RDS_ZEROCOPY);
}

TEST_F_TIMEOUT(trunc, punch_hole_keeps_tls_record_data, 60)
{
	LAB_REQUIRE(tls_available(), LAB_TLS);
	punch_held(_metadata, self, REF_TLS_RECORD);
}

TEST_F_TIMEOUT(trunc, punch_hole_keeps_fuse_direct_write_data, 60)
{
	LAB_REQUIRE(fuse_available(), LAB_FUSE);
	punch_held(_metadata, self, REF_FUSE_WRITE);
}

/* Truncate to half with a page of the removed half pinned. */
TEST_F_TIMEOUT(trunc, truncate_half_keeps_first_half, 60)
{
	struct trunc_arg arg = { self->fd, FILE_LEN / 2 };
	size_t pg;
	char c;

	held_op(_metadata, self, REF_PIN, 12, "ftruncate(half)", do_truncate, &arg);
	ASSERT_EQ((off_t)FILE_LEN / 2, file_size(self->fd));
	for (pg = 0; pg < NR_PAGES / 2; pg++) {
		ASSERT_EQ(1, pread_page_is(self->fd, pg, 1, false))
			TH_LOG("page %zu of the kept half differs (pread)", pg);
		ASSERT_TRUE(lab_page_is(self->map + pg * SZ_4K, pg, 1))
			TH_LOG("page %zu of the kept half differs (mapping)", pg);
	}
	ASSERT_EQ(0, pread(self->fd, &c, 1, FILE_LEN / 2))
		TH_LOG("read past the new end of file returned data");
}

/*
 * Bytes [from, to) of the file, read with pread and through @map, are
 * zero or what lab_fill_page(@salt) put there.
 */
static bool bytes_are(int fd, const char *map, off_t from, off_t to,
		      unsigned int salt, bool zero)
{
	uint32_t want[SZ_4K / sizeof(uint32_t)];
	char got[SZ_4K];
	size_t pg = from / SZ_4K, in = from % SZ_4K, n = to - from;

	if (zero)
		memset(want, 0, sizeof(want));
	else
		lab_fill_page(want, pg, salt);
	if (pread(fd, got, n, from) != (ssize_t)n)
		return false;
	return !memcmp(got, (char *)want + in, n) &&
	       !memcmp(map + from, (char *)want + in, n);
}

/* Dirty every page through the mapping, with a pattern write() never wrote. */
static void dirty_through_map(char *map)
{
	size_t pg;

	for (pg = 0; pg < NR_PAGES; pg++)
		lab_fill_page(map + pg * SZ_4K, pg, 2);
}

/*
 * A hole that starts and ends inside pages.  The data of the hole is thrown
 * away without being written back, but the pages at its edges also hold data
 * outside it, which must stay.
 */
TEST_F_TIMEOUT(trunc, punch_unaligned_hole_keeps_the_data_around_it, 60)
{
	const off_t start = 3 * SZ_4K + 100, end = 7 * SZ_4K + 200;
	size_t pg;

	dirty_through_map(self->map);
	ASSERT_EQ(0, fallocate(self->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			       start, end - start))
		TH_LOG("punch hole: %s", strerror(errno));
	for (pg = 0; pg < NR_PAGES; pg++) {
		off_t lo = pg * SZ_4K, hi = lo + SZ_4K;
		off_t hs = lo > start ? lo : start, he = hi < end ? hi : end;

		if (hs < he) {
			ASSERT_TRUE(bytes_are(self->fd, self->map, hs, he, 2, true))
				TH_LOG("page %zu: the hole is not zero", pg);
		} else {
			hs = he = hi;
		}
		if (lo < hs)
			ASSERT_TRUE(bytes_are(self->fd, self->map, lo, hs, 2, false))
				TH_LOG("page %zu: data outside the hole changed", pg);
		if (he < hi)
			ASSERT_TRUE(bytes_are(self->fd, self->map, he, hi, 2, false))
				TH_LOG("page %zu: data after the hole changed", pg);
	}
}

/* Shrink to a size inside a page: the data below it stays. */
TEST_F_TIMEOUT(trunc, truncate_inside_a_page_keeps_the_data_below, 60)
{
	const off_t size = 5 * SZ_4K + 300;
	size_t pg;
	off_t b;

	dirty_through_map(self->map);
	ASSERT_EQ(0, ftruncate(self->fd, size)) TH_LOG("ftruncate: %s", strerror(errno));
	for (pg = 0; pg < 5; pg++)
		ASSERT_TRUE(bytes_are(self->fd, self->map, pg * SZ_4K, (pg + 1) * SZ_4K, 2, false))
			TH_LOG("page %zu below the new size changed", pg);
	ASSERT_TRUE(bytes_are(self->fd, self->map, 5 * SZ_4K, size, 2, false))
		TH_LOG("the part of page 5 below the new size changed");
	/* Beyond EOF in the last page the mapping shows zeroes. */
	for (b = size; b < (off_t)(6 * SZ_4K); b++) {
		ASSERT_EQ(0, self->map[b])
			TH_LOG("byte %jd beyond the new size is not zero", (intmax_t)b);
	}
}

/*
 * Contract: vmsplice() of an FS DAX page gives the pipe a copy.  A pipe
 * buffer keeps its page for as long as user space leaves the data in the
 * pipe, which would let any user hold a block of a file for good and make
 * truncate and eviction wait for it (FOLL_LONGTERM pins of FS DAX are
 * refused for the same reason).  The baseline puts the page itself in
 * the pipe: its refcount rises and later writes show through the pipe.
 */
/*
 * Hold page 3 with @kind, write to it, drop the reference and check that
 * the holder took no reference and carried the data as it was: a copy.
 */
static void holder_gets_a_copy(struct __test_metadata *_metadata,
			       FIXTURE_DATA(trunc) *self, enum ref_kind kind)
{
	uint32_t buf[SZ_4K / sizeof(uint32_t)];
	struct lab_page_info before, held;
	char *page = self->map + 3 * SZ_4K;
	const char *what = ref_kind_name(kind);
	int ret;

	ASSERT_EQ(0, lab_info_addr(self->probe, page, &before));
	held_ref_init(&self->ref, kind);
	ret = held_ref_take(&self->ref, self->probe, page);
	ASSERT_EQ(0, ret) TH_LOG("%s: %s", what, strerror(-ret));
	ASSERT_EQ(0, lab_info_addr(self->probe, page, &held));
	lab_fill_page(page, 3, 7);	/* after the reference was taken */
	ret = held_ref_drop(&self->ref, self->probe, buf);
	ASSERT_EQ(0, ret) TH_LOG("reading the %s: %s", what, strerror(-ret));

	EXPECT_EQ(before.folio_refcount, held.folio_refcount)
		TH_LOG("the %s took a reference on the FS DAX page: refcount %d -> %d",
		       what, before.folio_refcount, held.folio_refcount);
	EXPECT_TRUE(lab_page_is(buf, 3, 1))
		TH_LOG("the %s shows a write made after it was taken: it holds the page, not a copy",
		       what);
}

TEST_F_TIMEOUT(trunc, contract_vmsplice_copies_fs_dax_page, 60)
{
	holder_gets_a_copy(_metadata, self, REF_PIPE);
}

/*
 * A task that puts a page of a file into its own pipe, then closes and
 * unlinks the file: the eviction must not wait for the task's own pipe,
 * which it can only empty once the unlink returns.
 */
struct evict_own_pipe_arg {
	const char *dir;
};

static int evict_with_own_pipe(const void *p)
{
	const struct evict_own_pipe_arg *a = p;
	struct held_ref ref;
	uint32_t buf[SZ_4K / sizeof(uint32_t)];
	char path[PATH_MAX];
	char *map;
	int fd, err;

	snprintf(path, sizeof(path), "%s/evict-own-pipe.%d", a->dir, getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	err = lab_write_pattern(fd, 4, 6);
	if (err) {
		unlink(path);
		return -err;
	}
	map = mmap(NULL, 4 * SZ_4K, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		unlink(path);
		return errno;
	}
	held_ref_init(&ref, REF_PIPE);
	err = held_ref_take(&ref, -1, map + 2 * SZ_4K);
	munmap(map, 4 * SZ_4K);
	close(fd);
	if (unlink(path))
		return errno;
	if (err)
		return -err;
	err = held_ref_drop(&ref, -1, buf);
	if (err)
		return -err;
	return lab_page_is(buf, 2, 6) ? 0 : EBADMSG;
}

TEST_F_TIMEOUT(trunc, evict_with_page_in_own_pipe_completes, 60)
{
	struct evict_own_pipe_arg arg = { lab_env(variant->dax.env) };

	self->w = worker_start(evict_with_own_pipe, &arg, &self->probe, 1);
	ASSERT_LT(0, self->w.pid) TH_LOG("cannot start the worker");
	ASSERT_TRUE(worker_wait(&self->w, LIVE_MS))
		TH_LOG("close and unlink of a file whose page is in the task's own pipe still had not returned after %d ms (state %c)",
		       LIVE_MS, lab_proc_state(self->w.pid));
	ASSERT_EQ(0, self->w.code)
		TH_LOG("worker: %s (EBADMSG: the pipe lost the data)", code_str(self->w.code));
}

/*
 * Contract: a MSG_ZEROCOPY send of an FS DAX page queues a copy.  A
 * zerocopy skb keeps its pages until the peer has read the data, which a
 * peer may never do: like a pipe buffer, it would let any user hold a
 * block of a file for good.  The baseline queues the page itself: its
 * refcount rises and a write made after the send goes out with the data.
 */
TEST_F_TIMEOUT(trunc, contract_zerocopy_send_copies_fs_dax_page, 60)
{
	holder_gets_a_copy(_metadata, self, REF_ZEROCOPY);
}

/*
 * Contract: the same for RDS, whose zerocopy message keeps its pages
 * until it is acknowledged, or over loopback until it is read.
 */
TEST_F_TIMEOUT(trunc, contract_rds_zerocopy_send_copies_fs_dax_page, 60)
{
	LAB_REQUIRE(rds_available(), LAB_RDS);
	holder_gets_a_copy(_metadata, self, REF_RDS_ZEROCOPY);
}

/*
 * Contract: the same for kernel TLS, whose records keep the pages a send
 * took until TCP has taken the encrypted record, which a peer that does
 * not read puts off for good.
 */
TEST_F_TIMEOUT(trunc, contract_tls_record_copies_fs_dax_page, 60)
{
	LAB_REQUIRE(tls_available(), LAB_TLS);
	holder_gets_a_copy(_metadata, self, REF_TLS_RECORD);
}

/*
 * Contract: the same for FUSE direct I/O, whose requests keep the pages
 * of the user's buffer until the server answers, and a FUSE server is
 * any user's own process.  The server reads the data when it takes the
 * request, so here only the refcount tells the page from a copy.
 */
TEST_F_TIMEOUT(trunc, contract_fuse_direct_write_copies_fs_dax_page, 60)
{
	LAB_REQUIRE(fuse_available(), LAB_FUSE);
	holder_gets_a_copy(_metadata, self, REF_FUSE_WRITE);
}

/* A mounted FUSE file system with its server, cleaned up by teardown. */
static struct fuse_hold *fuse_hold_new(struct __test_metadata *_metadata,
				       FIXTURE_DATA(trunc) *self, bool async_dio)
{
	int ret;

	held_ref_init(&self->ref, REF_FUSE_WRITE);
	self->ref.fuse = malloc(sizeof(*self->ref.fuse));
	ASSERT_NE(NULL, self->ref.fuse);
	fuse_hold_init(self->ref.fuse);
	self->ref.fuse->async_dio = async_dio;
	ret = fuse_hold_mount(self->ref.fuse);
	ASSERT_EQ(0, ret) TH_LOG("mount a FUSE file system: %s", strerror(-ret));
	return self->ref.fuse;
}

/*
 * Contract: a FUSE direct read into an FS DAX page, or a write from it,
 * takes no reference on it while the server has the request; a read's
 * data reaches the page once the server answers, a write's reached the
 * server.  The baseline pins the page until then.  With @async_dio, an
 * O_DIRECT request that the kernel sends asynchronously, from io_uring
 * if @uring.
 */
static void fuse_io_takes_no_reference(struct __test_metadata *_metadata,
				       FIXTURE_DATA(trunc) *self, bool write,
				       bool async_dio, bool uring)
{
	const char *what = write ? "write" : "read";
	struct lab_page_info before, held;
	char *page = self->map + 3 * SZ_4K;
	struct fuse_hold *h;
	ssize_t got;
	int ret;

	LAB_REQUIRE(fuse_available(), LAB_FUSE);
	h = fuse_hold_new(_metadata, self, async_dio);
	h->uring = uring;
	if (!write)
		lab_fill_page(h->data, 3, 9);	/* what the server answers */
	ASSERT_EQ(0, lab_info_addr(self->probe, page, &before));
	ret = fuse_hold_start(h, write, page);
	ASSERT_EQ(0, ret) TH_LOG("FUSE direct %s: %s", what, strerror(-ret));
	ASSERT_EQ(0, lab_info_addr(self->probe, page, &held));
	got = fuse_hold_release(h);
	ASSERT_EQ((ssize_t)SZ_4K, got) TH_LOG("the FUSE direct %s returned %zd (%s)", what,
					      got, got < 0 ? strerror(-got) : "short");
	EXPECT_EQ(before.folio_refcount, held.folio_refcount)
		TH_LOG("the FUSE direct %s took a reference on the FS DAX page while the server had it: refcount %d -> %d",
		       what, before.folio_refcount, held.folio_refcount);
	if (write) {
		EXPECT_TRUE(lab_page_is(h->data, 3, 1)) TH_LOG("the server got other data");
		return;
	}
	EXPECT_TRUE(lab_page_is(page, 3, 9))
		TH_LOG("the server's data did not reach the page through the mapping");
	EXPECT_EQ(1, pread_page_is(self->fd, 3, 9, false))
		TH_LOG("the server's data did not reach the file");
}

TEST_F_TIMEOUT(trunc, contract_fuse_direct_read_takes_no_reference, 60)
{
	fuse_io_takes_no_reference(_metadata, self, false, false, false);
}

TEST_F_TIMEOUT(trunc, contract_fuse_async_direct_read_takes_no_reference, 60)
{
	fuse_io_takes_no_reference(_metadata, self, false, true, false);
}

TEST_F_TIMEOUT(trunc, contract_fuse_io_uring_direct_read_takes_no_reference, 60)
{
	fuse_io_takes_no_reference(_metadata, self, false, true, true);
}

TEST_F_TIMEOUT(trunc, contract_fuse_async_direct_write_copies_fs_dax_page, 60)
{
	fuse_io_takes_no_reference(_metadata, self, true, true, false);
}

/*
 * Contract: truncate does not wait for a FUSE server that has a direct
 * read into a page of the file; once the server answers, the copy into
 * the page, now beyond the end of the file, fails with EFAULT.  The
 * baseline waits for the server.
 */
TEST_F_TIMEOUT(trunc, contract_truncate_does_not_wait_for_fuse_direct_read, 60)
{
	struct trunc_arg arg = { self->fd, 0 };
	struct fuse_hold *h;
	ssize_t got;
	bool early;
	int ret;

	LAB_REQUIRE(fuse_available(), LAB_FUSE);
	h = fuse_hold_new(_metadata, self, false);
	lab_fill_page(h->data, 5, 9);
	ret = fuse_hold_start(h, false, self->map + 5 * SZ_4K);
	ASSERT_EQ(0, ret) TH_LOG("FUSE direct read: %s", strerror(-ret));
	self->w = worker_start(do_truncate, &arg, &self->probe, 1);
	ASSERT_LT(0, self->w.pid) TH_LOG("cannot start the truncate worker");
	early = worker_wait(&self->w, HELD_MS);
	got = fuse_hold_release(h);
	if (!early)
		worker_wait(&self->w, LIVE_MS);
	EXPECT_TRUE(early)
		TH_LOG("ftruncate(0) waited %d ms for the FUSE server's read into page 5",
		       HELD_MS);
	ASSERT_TRUE(self->w.done) TH_LOG("ftruncate(0) never finished (state %c)",
					 lab_proc_state(self->w.pid));
	ASSERT_EQ(0, self->w.code) TH_LOG("ftruncate(0): %s", code_str(self->w.code));
	ASSERT_EQ(0, file_size(self->fd));
	if (early)
		EXPECT_EQ(-EFAULT, got)
			TH_LOG("the read into a page truncated away returned %zd, not EFAULT",
			       got);
}

/*
 * A task that queues a page of a file in its own zerocopy send, which its
 * own receiver has not read, then closes and unlinks the file: eviction
 * must not wait for the task's own socket.  If it does, the test reads
 * the connection after LIVE_MS to let the worker go.
 */
struct evict_own_send_arg {
	enum ref_kind kind;	/* a send: REF_ZEROCOPY, _RDS_ZEROCOPY, _TLS_RECORD */
	const char *dir;
	int tx, rx;
	int filler;		/* what zerocopy_pair() returned */
};

static int evict_with_own_send(const void *p)
{
	const struct evict_own_send_arg *a = p;
	uint32_t buf[SZ_4K / sizeof(uint32_t)];
	char path[PATH_MAX];
	char *map;
	int fd, err, sent;

	snprintf(path, sizeof(path), "%s/evict-own-send.%d", a->dir, getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return errno;
	err = lab_write_pattern(fd, 4, 6);
	if (err) {
		unlink(path);
		return -err;
	}
	map = mmap(NULL, 4 * SZ_4K, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		unlink(path);
		return errno;
	}
	sent = zerocopy_send(a->kind, a->tx, map + 2 * SZ_4K);
	munmap(map, 4 * SZ_4K);
	close(fd);
	if (unlink(path))
		return errno;
	if (sent < 0)
		return -sent;
	err = zerocopy_drain(a->kind, a->rx, a->filler, sent, buf);
	if (err)
		return -err;
	return lab_page_is(buf, 2, 6) ? 0 : EBADMSG;
}

static void evict_with_own_send_completes(struct __test_metadata *_metadata,
					 FIXTURE_DATA(trunc) *self,
					 const char *dir, enum ref_kind kind)
{
	struct evict_own_send_arg arg = {
		.kind = kind, .dir = dir, .tx = -1, .rx = -1,
	};
	uint32_t buf[SZ_4K / sizeof(uint32_t)];
	bool done;
	char state = '-';
	int ret;

	ret = zerocopy_pair(kind, &arg.tx, &arg.rx);
	ASSERT_LE(0, ret) TH_LOG("sockets for the %s over loopback: %s",
				 ref_kind_name(kind), strerror(-ret));
	arg.filler = ret;
	self->w = worker_start(evict_with_own_send, &arg, &self->probe, 1);
	close(arg.tx);
	ASSERT_LT(0, self->w.pid) TH_LOG("cannot start the worker");
	done = worker_wait(&self->w, LIVE_MS);
	if (!done) {
		state = lab_proc_state(self->w.pid);
		zerocopy_drain(kind, arg.rx, arg.filler, TLS_COPIES, buf); /* let it go */
		worker_wait(&self->w, LIVE_MS);
	}
	close(arg.rx);
	ASSERT_TRUE(done)
		TH_LOG("close and unlink of a file whose page is queued in the task's own %s still had not returned after %d ms (state %c)",
		       ref_kind_name(kind), LIVE_MS, state);
	ASSERT_EQ(0, self->w.code)
		TH_LOG("worker: %s (EBADMSG: the peer got other data)", code_str(self->w.code));
}

TEST_F_TIMEOUT(trunc, evict_with_page_in_own_zerocopy_send_completes, 90)
{
	evict_with_own_send_completes(_metadata, self, lab_env(variant->dax.env),
				     REF_ZEROCOPY);
}

TEST_F_TIMEOUT(trunc, evict_with_page_in_own_rds_zerocopy_send_completes, 90)
{
	LAB_REQUIRE(rds_available(), LAB_RDS);
	evict_with_own_send_completes(_metadata, self, lab_env(variant->dax.env),
				     REF_RDS_ZEROCOPY);
}

TEST_F_TIMEOUT(trunc, evict_with_page_in_own_tls_record_completes, 90)
{
	LAB_REQUIRE(tls_available(), LAB_TLS);
	evict_with_own_send_completes(_metadata, self, lab_env(variant->dax.env),
				     REF_TLS_RECORD);
}

/*
 * A FUSE server that unlinks an FS DAX file while it has a direct write
 * from a page of that file: eviction must not wait for the request,
 * which only the server itself can answer.  If it does, the test answers
 * the request from outside after LIVE_MS to let the server go.
 */
struct evict_own_fuse {
	char path[PATH_MAX];
	char *map;
	int fd;
	int done[2];		/* the server's unlink returned */
	pid_t tid;		/* of the server thread */
	int err;
};

static void evict_from_server(struct fuse_hold *h)
{
	struct evict_own_fuse *e = h->arg;
	char c = 'e';

	e->tid = gettid();
	munmap(e->map, 4 * SZ_4K);
	close(e->fd);
	e->err = unlink(e->path) ? errno : 0;
	if (write(e->done[1], &c, 1) != 1)
		e->err = EPIPE;
}

TEST_F_TIMEOUT(trunc, evict_with_page_in_own_fuse_request_completes, 90)
{
	struct evict_own_fuse e = { .fd = -1, .done = { -1, -1 } };
	char state = '-';
	struct fuse_hold *h;
	ssize_t got;
	bool done;
	int ret;

	LAB_REQUIRE(fuse_available(), LAB_FUSE);
	snprintf(e.path, sizeof(e.path), "%s/evict-own-fuse.%d",
		 lab_env(variant->dax.env), getpid());
	e.fd = open(e.path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, e.fd) TH_LOG("create %s: %s", e.path, strerror(errno));
	ret = lab_write_pattern(e.fd, 4, 6);
	ASSERT_EQ(0, ret) TH_LOG("write %s: %s", e.path, strerror(-ret));
	e.map = mmap(NULL, 4 * SZ_4K, PROT_READ, MAP_SHARED, e.fd, 0);
	ASSERT_NE(MAP_FAILED, e.map) TH_LOG("mmap %s: %s", e.path, strerror(errno));
	ASSERT_EQ(0, pipe2(e.done, O_CLOEXEC));
	h = fuse_hold_new(_metadata, self, false);
	h->on_hold = evict_from_server;
	h->arg = &e;
	ret = fuse_hold_start(h, true, e.map + 2 * SZ_4K);
	ASSERT_EQ(0, ret) TH_LOG("FUSE direct write: %s", strerror(-ret));
	done = fuse_hold_wait(e.done[0], LIVE_MS);
	if (!done) {
		state = lab_proc_state(e.tid);
		fuse_hold_answer(h);	/* from outside the stuck server */
		fuse_hold_wait(e.done[0], LIVE_MS);
	}
	got = fuse_hold_release(h);
	close(e.done[0]);
	close(e.done[1]);
	ASSERT_TRUE(done)
		TH_LOG("close and unlink of a file whose page is in a direct write to the task's own FUSE server still had not returned after %d ms (state %c)",
		       LIVE_MS, state);
	ASSERT_EQ(0, e.err) TH_LOG("unlink: %s", strerror(e.err));
	ASSERT_EQ((ssize_t)SZ_4K, got) TH_LOG("the FUSE direct write returned %zd", got);
	EXPECT_TRUE(lab_page_is(h->data, 2, 6)) TH_LOG("the server got other data");
}

/*
 * Contract: eviction waits for a page that another task still holds.  The
 * test's own fd and mapping go first, so the unlink in the worker is the
 * last reference to the inode.  The baseline evicts without waiting.
 */
static void evict_waits(struct __test_metadata *_metadata,
			FIXTURE_DATA(trunc) *self, enum ref_kind kind)
{
	bool early;
	char state;
	int err;

	take_ref(_metadata, self, kind, 4);
	ASSERT_EQ(0, munmap(self->map, FILE_LEN));
	self->map = MAP_FAILED;
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;

	self->w = worker_start(do_unlink, self->path, &self->probe, 1);
	ASSERT_LT(0, self->w.pid) TH_LOG("cannot start the unlink worker");
	early = worker_wait(&self->w, HELD_MS);
	state = early ? '-' : lab_proc_state(self->w.pid);
	err = held_ref_drop(&self->ref, self->probe, NULL);
	if (!early)
		worker_wait(&self->w, LIVE_MS);
	ASSERT_EQ(0, err) TH_LOG("release: %s", strerror(-err));
	EXPECT_FALSE(early)
		TH_LOG("the unlink evicted the file while its page was held (%s)",
		       code_str(self->w.code));
	ASSERT_TRUE(self->w.done)
		TH_LOG("eviction still waited %d ms after the release (state %c)",
		       LIVE_MS, lab_proc_state(self->w.pid));
	ASSERT_EQ(0, self->w.code) TH_LOG("unlink: %s", code_str(self->w.code));
	TH_LOG("eviction waited in state %c", state);
}

TEST_F_TIMEOUT(trunc, contract_evict_waits_for_get, 60)
{
	evict_waits(_metadata, self, REF_GET);
}

TEST_F_TIMEOUT(trunc, contract_evict_waits_for_pin, 60)
{
	evict_waits(_metadata, self, REF_PIN);
}

/*
 * Eviction of an unlinked file with more DAX entries than the entry
 * walks handle before they drop the lock to reschedule (XA_CHECK_SCHED,
 * 4096): every entry must go before truncate_inode_pages_final(), which
 * warns about any it finds.  Mapped at a 4K offset so that xfs uses PTEs
 * (one entry a page) too.
 */
#define EVICT_LEN	(32UL << 20)

FIXTURE(evict) {
	char path[256];
	int fd, kmsg;
	char *map;
};

FIXTURE_VARIANT(evict) { const char *env; };
FIXTURE_VARIANT_ADD(evict, ext4) { .env = "LAB_EXT4_DIR" };
FIXTURE_VARIANT_ADD(evict, xfs) { .env = "LAB_XFS_DIR" };

FIXTURE_SETUP(evict)
{
	char *hint;

	self->fd = -1;
	self->kmsg = -1;
	self->map = MAP_FAILED;
	LAB_REQUIRE_ENV(variant->env);
	snprintf(self->path, sizeof(self->path), "%s/evict.%d",
		 lab_env(variant->env), getpid());
	self->fd = open(self->path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, self->fd) TH_LOG("create %s: %s", self->path, strerror(errno));
	ASSERT_EQ(0, fallocate(self->fd, 0, 0, EVICT_LEN));
	hint = lab_aligned_hint(EVICT_LEN + SZ_2M, SZ_2M);
	ASSERT_NE(NULL, hint);
	self->map = mmap(hint + SZ_4K, EVICT_LEN, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, self->map) TH_LOG("mmap: %s", strerror(errno));
	self->kmsg = lab_kmsg_open();
	ASSERT_LE(0, self->kmsg) TH_LOG("/dev/kmsg: %s", strerror(errno));
}

FIXTURE_TEARDOWN(evict)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, EVICT_LEN);
	if (self->fd >= 0)
		close(self->fd);
	if (self->path[0])
		unlink(self->path);
	if (self->kmsg >= 0)
		close(self->kmsg);
}

TEST_F_TIMEOUT(evict, evict_of_large_dax_file_removes_every_entry, 120)
{
	char warning[512];
	size_t off;

	for (off = 0; off < EVICT_LEN; off += SZ_4K)
		self->map[off] = 1;
	ASSERT_EQ(0, munmap(self->map, EVICT_LEN));
	self->map = MAP_FAILED;
	ASSERT_EQ(0, unlink(self->path));
	self->path[0] = '\0';
	ASSERT_EQ(0, close(self->fd));	/* the last reference: evicts */
	self->fd = -1;
	ASSERT_EQ(0, lab_kmsg_warning(self->kmsg, warning, sizeof(warning)))
		TH_LOG("evicting a file of %lu DAX entries warned: %s",
		       EVICT_LEN / SZ_4K, warning);
}

/* ---- unmount of a filesystem on the spare pmem namespace ---------------- */

FIXTURE(umount) {
	int probe;
	char mnt[64];
	bool mounted;
	int hold;
	uint64_t pfn;		/* a page of the file, read while mapped */
	struct worker w;
};

FIXTURE_VARIANT(umount) {
	const char *fs;
	const char *mkfs[8];
};

FIXTURE_VARIANT_ADD(umount, ext4) {
	.fs = "ext4",
	.mkfs = { "mkfs.ext4", "-q", "-F", "-b", "4096", NULL },
};

FIXTURE_VARIANT_ADD(umount, xfs) {
	.fs = "xfs",
	.mkfs = { "mkfs.xfs", "-q", "-f", "-K", NULL },
};

/* Run argv with @dev appended; returns the exit status or -errno. */
static int run_mkfs(const char *const *argv, const char *dev)
{
	const char *args[12];
	int i, status;
	pid_t pid;

	for (i = 0; argv[i] && i < 10; i++)
		args[i] = argv[i];
	args[i++] = dev;
	args[i] = NULL;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execvp(args[0], (char *const *)args);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

FIXTURE_SETUP(umount)
{
	const char *dev;
	int ret;

	self->probe = self->hold = -1;
	self->w.pid = -1;
	self->mounted = false;
	self->mnt[0] = 0;
	LAB_REQUIRE_ENV("LAB_RAWPMEM");
	dev = lab_env("LAB_RAWPMEM");
	self->probe = lab_probe_open();
	ASSERT_LE(0, self->probe)
		TH_LOG("cannot open %s: %s (lab_probe not loaded?)", LAB_PROBE_PATH, strerror(errno));

	ret = run_mkfs(variant->mkfs, dev);
	ASSERT_EQ(0, ret) TH_LOG("%s %s exited with %d", variant->mkfs[0], dev, ret);
	snprintf(self->mnt, sizeof(self->mnt), "/tmp/lab-umount.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->mnt)) TH_LOG("mkdtemp: %s", strerror(errno));
	ASSERT_EQ(0, mount(dev, self->mnt, variant->fs, 0, "dax=always"))
		TH_LOG("mount -t %s -o dax=always %s: %s", variant->fs, dev, strerror(errno));
	self->mounted = true;
}

FIXTURE_TEARDOWN(umount)
{
	if (self->hold >= 0)
		lab_release(self->probe, self->hold);
	if (self->probe >= 0)
		close(self->probe);
	if (self->w.pid > 0 && !self->w.done) {
		/* An umount in eviction may not be killable: let it finish. */
		worker_wait(&self->w, LIVE_MS);
		if (self->w.done && self->w.code == 0)
			self->mounted = false;
		worker_reap(&self->w);
	}
	if (self->mounted && umount2(self->mnt, 0))
		umount2(self->mnt, MNT_DETACH);
	if (self->mnt[0])
		rmdir(self->mnt);
}

/*
 * Create a file on the test filesystem, map it, check the data, remember
 * the pfn of page 3, and take a reference of @hold_flags on it (-1: none).
 * With @around, page 3 is mapped again by fault-around first: a new
 * MADV_SEQUENTIAL mapping reads page 0 only.  The file is unmapped and
 * closed on return; only the reference remains.
 */
static void populate(struct __test_metadata *_metadata,
		     FIXTURE_DATA(umount) *self, int hold_flags, bool around)
{
	struct lab_page_info info;
	char path[PATH_MAX];
	size_t pg;
	char *map;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/file", self->mnt);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, fd) TH_LOG("create %s: %s", path, strerror(errno));
	ASSERT_TRUE(lab_fd_is_dax(fd)) TH_LOG("%s is not a DAX file", path);
	ret = lab_write_pattern(fd, NR_PAGES, 2);
	ASSERT_EQ(0, ret) TH_LOG("write %s: %s", path, strerror(-ret));
	map = lab_map(fd, FILE_LEN, SZ_4K, 0);
	ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap %s: %s", path, strerror(errno));
	for (pg = 0; pg < NR_PAGES; pg++)
		ASSERT_TRUE(lab_page_is(map + pg * SZ_4K, pg, 2))
			TH_LOG("page %zu read through the mapping differs", pg);
	if (around) {
		ASSERT_EQ(0, munmap(map, FILE_LEN));
		map = lab_map(fd, FILE_LEN, SZ_4K, 0);
		ASSERT_NE(MAP_FAILED, map) TH_LOG("mmap %s: %s", path, strerror(errno));
		ASSERT_EQ(0, madvise(map, FILE_LEN, MADV_SEQUENTIAL));
		ASSERT_TRUE(lab_page_is(map, 0, 2)) TH_LOG("page 0 differs");
	}
	ret = lab_info_addr(self->probe, map + 3 * SZ_4K, &info);
	ASSERT_EQ(0, ret) TH_LOG("probe page info: %s", strerror(-ret));
	/* Only the series faults around; the baseline takes the pin's fault. */
	if (around && !strcmp(lab_kernel(), "patched"))
		ASSERT_TRUE(!!(info.flags & LAB_PAGE_PRESENT))
			TH_LOG("page 3 was not mapped by fault-around of a read of page 0");
	ASSERT_EQ((unsigned int)LAB_PGMAP_FS_DAX, info.pgmap_type)
		TH_LOG("page of a DAX file is not FS DAX memory (pgmap type %u)", info.pgmap_type);
	self->pfn = info.pfn;
	if (hold_flags >= 0) {
		ret = lab_hold(self->probe, map + 3 * SZ_4K, SZ_4K, hold_flags);
		ASSERT_LE(0, ret) TH_LOG("probe hold: %s", strerror(-ret));
		self->hold = ret;
	}
	ASSERT_EQ(0, munmap(map, FILE_LEN));
	ASSERT_EQ(0, close(fd));
	/* Leave umount nothing slow to do, so only a wait can delay it. */
	sync();
}

/* Unmount in a worker and wait for it (liveness bound). */
static void umount_now(struct __test_metadata *_metadata,
		       FIXTURE_DATA(umount) *self)
{
	int closefds[] = { self->probe };

	self->w = worker_start(do_umount, self->mnt, closefds, 1);
	ASSERT_LT(0, self->w.pid) TH_LOG("cannot start the umount worker");
	ASSERT_TRUE(worker_wait(&self->w, LIVE_MS))
		TH_LOG("umount of an idle filesystem did not complete within %d ms (worker state %c)",
		       LIVE_MS, lab_proc_state(self->w.pid));
	ASSERT_EQ(0, self->w.code) TH_LOG("umount: %s", code_str(self->w.code));
	self->mounted = false;
}

static void scan_namespace(struct __test_metadata *_metadata,
			   FIXTURE_DATA(umount) *self, struct lab_scan *scan)
{
	int ret = lab_scan(self->probe, self->pfn, scan);

	ASSERT_EQ(0, ret) TH_LOG("probe scan from pfn %#llx: %s",
				 (unsigned long long)self->pfn, strerror(-ret));
	ASSERT_EQ((unsigned int)LAB_PGMAP_FS_DAX, scan->pgmap_type);
	ASSERT_LT(0ULL, scan->nr_pages);
}

/*
 * Contract: unmount (inode eviction) waits until every page of the
 * filesystem is idle.  The baseline evicts the inode and returns.
 */
static void umount_waits_for_pin(struct __test_metadata *_metadata,
				 FIXTURE_DATA(umount) *self, int hold_flags,
				 bool around)
{
	int closefds[] = { self->probe };
	struct lab_scan scan;
	bool early;
	char state;
	int ret;

	populate(_metadata, self, hold_flags, around);
	self->w = worker_start(do_umount, self->mnt, closefds, 1);
	ASSERT_LT(0, self->w.pid) TH_LOG("cannot start the umount worker");
	early = worker_wait(&self->w, UMOUNT_HELD_MS);
	state = early ? '-' : lab_proc_state(self->w.pid);
	ret = lab_release(self->probe, self->hold);
	self->hold = -1;
	if (!early)
		worker_wait(&self->w, LIVE_MS);
	if (self->w.done && self->w.code == 0)
		self->mounted = false;

	EXPECT_FALSE(early)
		TH_LOG("umount returned (%s) while page pfn %#llx of the filesystem was still pinned; expected it to wait until the page was idle",
		       code_str(self->w.code), (unsigned long long)self->pfn);
	ASSERT_EQ(0, ret) TH_LOG("release: %s", strerror(-ret));
	ASSERT_TRUE(self->w.done)
		TH_LOG("umount had not completed %d ms after the pin was released (state %c)",
		       LIVE_MS, lab_proc_state(self->w.pid));
	ASSERT_EQ(0, self->w.code) TH_LOG("umount: %s", code_str(self->w.code));
	if (!early)
		TH_LOG("umount waited while pinned (state %c), completed after release", state);

	scan_namespace(_metadata, self, &scan);
	ASSERT_EQ(0ULL, scan.nr_busy)
		TH_LOG("%llu pages busy after unmount, first pfn %#llx refcount %d mapcount %d",
		       (unsigned long long)scan.nr_busy,
		       (unsigned long long)scan.first_busy_pfn,
		       scan.first_busy_refcount, scan.first_busy_mapcount);
}

TEST_F_TIMEOUT(umount, contract_umount_waits_for_pinned_page, 90)
{
	umount_waits_for_pin(_metadata, self, LAB_HOLD_PIN | LAB_HOLD_WRITE,
			     false);
}

/*
 * The same for a page that fault-around mapped, pinned for reading
 * through its read-only PTE.
 */
TEST_F_TIMEOUT(umount, contract_umount_waits_for_pin_on_around_page, 90)
{
	umount_waits_for_pin(_metadata, self, LAB_HOLD_PIN, true);
}

/* Behavioural: after unmount nothing of the namespace is busy. */
TEST_F_TIMEOUT(umount, umount_leaves_namespace_idle, 90)
{
	struct lab_scan scan;
	int ret;

	populate(_metadata, self, LAB_HOLD_PIN, false);
	ret = lab_release(self->probe, self->hold);
	self->hold = -1;
	ASSERT_EQ(0, ret) TH_LOG("release: %s", strerror(-ret));
	umount_now(_metadata, self);
	scan_namespace(_metadata, self, &scan);
	ASSERT_EQ(0ULL, scan.nr_busy)
		TH_LOG("%llu of %llu pages busy after unmount, first pfn %#llx refcount %d mapcount %d",
		       (unsigned long long)scan.nr_busy, (unsigned long long)scan.nr_pages,
		       (unsigned long long)scan.first_busy_pfn,
		       scan.first_busy_refcount, scan.first_busy_mapcount);
}

/* Contract: after unmount every page of the namespace is free: refcount 0. */
TEST_F_TIMEOUT(umount, contract_umount_leaves_pages_refcount_0, 90)
{
	struct lab_page_info info;
	struct lab_scan scan;
	int ret;

	populate(_metadata, self, 0, false);
	ret = lab_release(self->probe, self->hold);
	self->hold = -1;
	ASSERT_EQ(0, ret) TH_LOG("release: %s", strerror(-ret));
	umount_now(_metadata, self);
	scan_namespace(_metadata, self, &scan);
	ret = lab_info_pfn(self->probe, self->pfn, &info);
	ASSERT_EQ(0, ret) TH_LOG("probe pfn info: %s", strerror(-ret));
	EXPECT_EQ(0, info.refcount)
		TH_LOG("free FS DAX page (pfn %#llx, used by the file) has refcount %d after unmount, expected 0",
		       (unsigned long long)self->pfn, info.refcount);
	ASSERT_EQ(scan.nr_pages, scan.nr_ref0)
		TH_LOG("after unmount %llu of %llu pages of the namespace have refcount 1 and %llu are busy; expected every page at refcount 0",
		       (unsigned long long)scan.nr_ref1, (unsigned long long)scan.nr_pages,
		       (unsigned long long)scan.nr_busy);
}

TEST_HARNESS_MAIN
