// SPDX-License-Identifier: GPL-2.0
/*
 * GUP on DAX memory: O_DIRECT I/O from and into DAX-mapped buffers,
 * vmsplice, FOLL_GET and FOLL_PIN references, and FOLL_LONGTERM (probe
 * pins and io_uring fixed buffers), which FS DAX refuses and device DAX
 * allows.  All of it holds on both kernels: GUP has always taken
 * references on DAX pages; only the idle value they add to differs, and
 * it is measured, not assumed.  The one difference is vmsplice() of FS
 * DAX memory, which the series answers with a copy (see below).
 */
#include "lab_harness.h"

#include <liburing.h>
#include <sys/uio.h>

/* GUP_PIN_COUNTING_BIAS in include/linux/mm.h. */
#define PIN_BIAS	1024

/* What one FOLL_PIN adds to the refcount of a folio of @order. */
static int gup_pin_delta(unsigned int order)
{
	return order ? 1 : PIN_BIAS;
}

LAB_REGION_FIXTURE(gup);
LAB_DAX_VARIANTS(gup);
LAB_REGION_SETUP(gup);

/* Map lab_span() bytes of the variant at offset 0 and write-fault page 0. */
static void gup_map(struct __test_metadata *_metadata, int probe,
		    struct lab_region *r, const char *tag,
		    struct lab_page_info *info)
{
	size_t len = lab_span(r->dax);

	lab_map_or_fail(_metadata, r, tag, len, len, 0, len);
	lab_touch_or_fail(_metadata, probe, r, 0, info);
}

/* Page state of @addr, which must be mapped. */
static void gup_info(struct __test_metadata *_metadata, int probe,
		     const void *addr, struct lab_page_info *info)
{
	ASSERT_EQ(0, lab_info_addr(probe, addr, info));
	ASSERT_TRUE(!!(info->flags & LAB_PAGE_PRESENT)) {
		TH_LOG("address %p is not mapped", addr);
	}
}

/*
 * O_DIRECT write of 2 MiB from a DAX-mapped buffer to the block device
 * @env names, then an O_DIRECT read back into the same buffer after it
 * was scribbled over.  The data must round-trip, must really be on the
 * device (read into an anonymous buffer too), and the pins the block
 * layer took must be gone afterwards.
 */
static void gup_odirect(struct __test_metadata *_metadata, int probe,
			struct lab_region *r, const char *env)
{
	const struct lab_dax *dax = r->dax;
	const size_t len = SZ_2M, stride = 512;
	const off_t off = 64UL << 20;
	uint64_t seed = lab_seed(env);
	struct lab_page_info before, after;
	void *bounce = NULL;
	const char *dev;
	ssize_t n;
	long bad;
	int fd;

	LAB_REQUIRE_ENV(env);
	dev = lab_env(env);
	fd = open(dev, O_RDWR | O_DIRECT | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open %s O_DIRECT: %s", dev, strerror(errno));

	gup_map(_metadata, probe, r, "odirect", &before);
	lab_fill(r->addr, len, stride, seed);
	gup_info(_metadata, probe, r->addr, &before);

	n = pwrite(fd, r->addr, len, off);
	ASSERT_EQ((ssize_t)len, n) {
		TH_LOG("%s: O_DIRECT write from %s memory: %s", dev, dax->name,
		       n < 0 ? strerror(errno) : "short");
	}
	lab_fill(r->addr, len, stride, ~seed);
	n = pread(fd, r->addr, len, off);
	ASSERT_EQ((ssize_t)len, n) {
		TH_LOG("%s: O_DIRECT read into %s memory: %s", dev, dax->name,
		       n < 0 ? strerror(errno) : "short");
	}
	bad = lab_check(r->addr, len, stride, seed);
	EXPECT_EQ(-1, bad) {
		TH_LOG("%s: data at offset %ld did not round-trip through %s",
		       dax->name, bad, dev);
	}

	ASSERT_EQ(0, posix_memalign(&bounce, SZ_4K, len));
	memset(bounce, 0, len);
	ASSERT_EQ((ssize_t)len, pread(fd, bounce, len, off));
	bad = lab_check(bounce, len, stride, seed);
	EXPECT_EQ(-1, bad) {
		TH_LOG("%s: offset %ld on the device does not hold what was written from %s memory",
		       dev, bad, dax->name);
	}
	free(bounce);
	close(fd);

	gup_info(_metadata, probe, r->addr, &after);
	EXPECT_EQ(before.pfn, after.pfn);
	EXPECT_EQ(before.folio_refcount, after.folio_refcount) {
		TH_LOG("%s folio (pfn %#llx) has refcount %d after O_DIRECT to %s, %d before",
		       dax->name, (unsigned long long)after.pfn,
		       after.folio_refcount, dev, before.folio_refcount);
	}
	EXPECT_FALSE(!!(after.flags & LAB_PAGE_DMA_PINNED));
}

TEST_F(gup, odirect_roundtrip_nvme)
{
	gup_odirect(_metadata, self->probe, &self->r, "LAB_NVME");
}

TEST_F(gup, odirect_roundtrip_rawpmem)
{
	gup_odirect(_metadata, self->probe, &self->r, "LAB_RAWPMEM");
}

/*
 * vmsplice() takes a reference on each page it puts in the pipe, and the
 * pipe drops it when read() drains the buffer.  Not on FS DAX with the
 * series, which hands the pipe a copy instead (a pipe would otherwise
 * hold a block of the file for as long as user space likes): that rule
 * is the contract test truncate.c:contract_vmsplice_copies_fs_dax_page.
 * Here the reference is checked where both kernels take one, and the
 * data and the refcount after draining everywhere.
 */
static bool vmsplice_lends_page(const struct lab_dax *dax)
{
	return dax->kind == LAB_DEVDAX || !strcmp(lab_kernel(), "baseline");
}

TEST_F(gup, vmsplice_ref_held_until_drained)
{
	const struct lab_dax *dax = &variant->dax;
	uint64_t seed = lab_seed("vmsplice");
	struct lab_page_info before, info;
	struct iovec iov;
	char buf[SZ_4K];
	int pfd[2];
	ssize_t n;

	gup_map(_metadata, self->probe, &self->r, "vmsplice", &before);
	lab_fill(self->r.addr, SZ_4K, 8, seed);
	gup_info(_metadata, self->probe, self->r.addr, &before);

	ASSERT_EQ(0, pipe(pfd));
	iov.iov_base = self->r.addr;
	iov.iov_len = SZ_4K;
	n = vmsplice(pfd[1], &iov, 1, 0);
	ASSERT_EQ((ssize_t)SZ_4K, n) {
		TH_LOG("%s: vmsplice: %s", dax->name,
		       n < 0 ? strerror(errno) : "short");
	}
	gup_info(_metadata, self->probe, self->r.addr, &info);
	if (vmsplice_lends_page(dax)) {
		EXPECT_LE(before.folio_refcount + 1, info.folio_refcount) {
			TH_LOG("%s folio (pfn %#llx) has refcount %d with a page in a pipe, %d before vmsplice",
			       dax->name, (unsigned long long)info.pfn,
			       info.folio_refcount, before.folio_refcount);
		}
	}

	ASSERT_EQ((ssize_t)SZ_4K, read(pfd[0], buf, sizeof(buf)));
	EXPECT_EQ(-1, lab_check(buf, SZ_4K, 8, seed));
	gup_info(_metadata, self->probe, self->r.addr, &info);
	EXPECT_EQ(before.folio_refcount, info.folio_refcount) {
		TH_LOG("%s folio (pfn %#llx) has refcount %d after the pipe was drained, %d before vmsplice",
		       dax->name, (unsigned long long)info.pfn,
		       info.folio_refcount, before.folio_refcount);
	}
	close(pfd[0]);
	close(pfd[1]);
}

/*
 * The pipe's reference outlives the mapping: after munmap the page is
 * still referenced (where vmsplice lends it, see above) and its data
 * readable from the pipe; draining it brings the page back to idle.
 */
TEST_F(gup, vmsplice_ref_outlives_munmap)
{
	const struct lab_dax *dax = &variant->dax;
	uint64_t seed = lab_seed("outlives"), pfn;
	struct lab_page_info idle, info;
	struct iovec iov;
	char buf[SZ_4K];
	int pfd[2];
	ssize_t n;

	/* Idle state: after one map/touch/unmap cycle. */
	gup_map(_metadata, self->probe, &self->r, "outlives", &info);
	pfn = info.pfn;
	ASSERT_EQ(0, lab_region_unmap(&self->r));
	ASSERT_EQ(0, lab_info_pfn(self->probe, pfn, &idle));
	ASSERT_EQ(0, idle.mapcount);

	gup_map(_metadata, self->probe, &self->r, "outlives", &info);
	ASSERT_EQ(pfn, info.pfn);
	lab_fill(self->r.addr, SZ_4K, 8, seed);
	ASSERT_EQ(0, pipe(pfd));
	iov.iov_base = self->r.addr;
	iov.iov_len = SZ_4K;
	n = vmsplice(pfd[1], &iov, 1, 0);
	ASSERT_EQ((ssize_t)SZ_4K, n) {
		TH_LOG("%s: vmsplice: %s", dax->name,
		       n < 0 ? strerror(errno) : "short");
	}
	ASSERT_EQ(0, lab_region_unmap(&self->r));

	ASSERT_EQ(0, lab_info_pfn(self->probe, pfn, &info));
	EXPECT_EQ(0, info.mapcount);
	if (vmsplice_lends_page(dax)) {
		EXPECT_LE(idle.folio_refcount + 1, info.folio_refcount) {
			TH_LOG("%s folio (pfn %#llx) has refcount %d, unmapped but in a pipe; %d when idle",
			       dax->name, (unsigned long long)pfn,
			       info.folio_refcount, idle.folio_refcount);
		}
	}

	ASSERT_EQ((ssize_t)SZ_4K, read(pfd[0], buf, sizeof(buf)));
	EXPECT_EQ(-1, lab_check(buf, SZ_4K, 8, seed)) {
		TH_LOG("%s: pipe data changed after munmap", dax->name);
	}
	close(pfd[0]);
	close(pfd[1]);
	lab_want_idle(_metadata, self->probe, dax->name,
		      "after the pipe was drained", pfn, &idle);
}

/*
 * One FOLL_GET reference (fast and slow GUP) adds exactly 1 to the folio
 * refcount, does not make the folio look DMA-pinned, and is given back.
 */
TEST_F(gup, get_adds_one_ref)
{
	const struct lab_dax *dax = &variant->dax;
	static const unsigned int modes[] = { 0, LAB_HOLD_FAST };
	struct lab_page_info before, info;
	unsigned int i;
	int id;

	gup_map(_metadata, self->probe, &self->r, "get", &before);
	for (i = 0; i < 2; i++) {
		const char *how = modes[i] ? "get_user_pages_fast" :
					     "get_user_pages";

		gup_info(_metadata, self->probe, self->r.addr, &before);
		id = lab_hold(self->probe, self->r.addr, SZ_4K, modes[i]);
		ASSERT_LT(0, id) {
			TH_LOG("%s: %s: %s", dax->name, how, strerror(-id));
		}
		gup_info(_metadata, self->probe, self->r.addr, &info);
		EXPECT_EQ(before.folio_refcount + 1, info.folio_refcount) {
			TH_LOG("%s: %s took folio refcount (order %u) from %d to %d",
			       dax->name, how, info.order,
			       before.folio_refcount, info.folio_refcount);
		}
		EXPECT_FALSE(!!(info.flags & LAB_PAGE_DMA_PINNED)) {
			TH_LOG("%s: folio looks DMA-pinned after %s",
			       dax->name, how);
		}
		ASSERT_EQ(0, lab_release(self->probe, id));
		gup_info(_metadata, self->probe, self->r.addr, &info);
		EXPECT_EQ(before.folio_refcount, info.folio_refcount) {
			TH_LOG("%s: folio refcount %d after releasing %s, %d before",
			       dax->name, info.folio_refcount, how,
			       before.folio_refcount);
		}
	}
}

/*
 * One FOLL_PIN (fast and slow, not long term) adds GUP_PIN_COUNTING_BIAS
 * to a small folio's refcount, or 1 to a large folio's refcount plus 1 to
 * its pincount; either way the folio is then "maybe DMA pinned".  Unpin
 * gives it all back.
 */
TEST_F(gup, pin_adds_pin_count)
{
	const struct lab_dax *dax = &variant->dax;
	static const unsigned int modes[] = { LAB_HOLD_PIN,
					      LAB_HOLD_PIN | LAB_HOLD_FAST };
	struct lab_page_info before, info;
	unsigned int i;
	int id;

	gup_map(_metadata, self->probe, &self->r, "pin", &before);
	for (i = 0; i < 2; i++) {
		const char *how = modes[i] & LAB_HOLD_FAST ?
			"pin_user_pages_fast" : "pin_user_pages";

		gup_info(_metadata, self->probe, self->r.addr, &before);
		ASSERT_FALSE(!!(before.flags & LAB_PAGE_DMA_PINNED));
		id = lab_hold(self->probe, self->r.addr, SZ_4K,
			      modes[i] | LAB_HOLD_WRITE);
		ASSERT_LT(0, id) {
			TH_LOG("%s: %s: %s", dax->name, how, strerror(-id));
		}
		gup_info(_metadata, self->probe, self->r.addr, &info);
		EXPECT_EQ(before.folio_refcount + gup_pin_delta(info.order),
			  info.folio_refcount) {
			TH_LOG("%s: %s took folio refcount (order %u) from %d to %d",
			       dax->name, how, info.order,
			       before.folio_refcount, info.folio_refcount);
		}
		EXPECT_TRUE(!!(info.flags & LAB_PAGE_DMA_PINNED)) {
			TH_LOG("%s: folio does not look DMA-pinned after %s",
			       dax->name, how);
		}
		ASSERT_EQ(0, lab_release(self->probe, id));
		gup_info(_metadata, self->probe, self->r.addr, &info);
		EXPECT_EQ(before.folio_refcount, info.folio_refcount) {
			TH_LOG("%s: folio refcount %d after unpinning (%s), %d before",
			       dax->name, info.folio_refcount, how,
			       before.folio_refcount);
		}
		EXPECT_FALSE(!!(info.flags & LAB_PAGE_DMA_PINNED));
	}
}

/*
 * FOLL_LONGTERM pins: FS DAX refuses them with EOPNOTSUPP (the file
 * system must be able to break the layout), without leaking a
 * reference; device DAX takes them and gives them back.
 */
TEST_F(gup, longterm_pin_fsdax_refused_devdax_allowed)
{
	const struct lab_dax *dax = &variant->dax;
	static const unsigned int modes[] = { 0, LAB_HOLD_FAST };
	const unsigned int lt = LAB_HOLD_PIN | LAB_HOLD_LONGTERM |
				LAB_HOLD_WRITE;
	struct lab_page_info before, info;
	unsigned int i;
	int id;

	gup_map(_metadata, self->probe, &self->r, "longterm", &before);
	for (i = 0; i < 2; i++) {
		const char *how = modes[i] ? "pin_user_pages_fast" :
					     "pin_user_pages";

		gup_info(_metadata, self->probe, self->r.addr, &before);
		id = lab_hold(self->probe, self->r.addr, SZ_4K, lt | modes[i]);
		if (dax->kind == LAB_FSDAX) {
			if (id > 0)
				lab_release(self->probe, id);
			EXPECT_EQ(-EOPNOTSUPP, id) {
				TH_LOG("%s: FOLL_LONGTERM %s of FS DAX returned %s, expected EOPNOTSUPP",
				       dax->name, how,
				       id > 0 ? "a pin" : strerror(-id));
			}
		} else {
			ASSERT_LT(0, id) {
				TH_LOG("%s: FOLL_LONGTERM %s of device DAX: %s",
				       dax->name, how, strerror(-id));
			}
			gup_info(_metadata, self->probe, self->r.addr, &info);
			EXPECT_EQ(before.folio_refcount +
				  gup_pin_delta(info.order),
				  info.folio_refcount);
			EXPECT_TRUE(!!(info.flags & LAB_PAGE_DMA_PINNED));
			ASSERT_EQ(0, lab_release(self->probe, id));
		}
		gup_info(_metadata, self->probe, self->r.addr, &info);
		EXPECT_EQ(before.pfn, info.pfn);
		EXPECT_EQ(before.folio_refcount, info.folio_refcount) {
			TH_LOG("%s: folio refcount %d after a long-term %s attempt, %d before",
			       dax->name, info.folio_refcount, how,
			       before.folio_refcount);
		}
		EXPECT_FALSE(!!(info.flags & LAB_PAGE_DMA_PINNED));
	}
}

/*
 * io_uring fixed buffers are FOLL_LONGTERM pins (io_pin_pages()):
 * registering FS DAX memory fails with EOPNOTSUPP, device DAX memory
 * registers and unregisters cleanly.
 */
TEST_F(gup, io_uring_buffers_fsdax_refused_devdax_allowed)
{
	const struct lab_dax *dax = &variant->dax;
	struct lab_page_info before, info;
	struct io_uring ring;
	struct iovec iov;
	int ret;

	ret = io_uring_queue_init(4, &ring, 0);
	if (ret < 0)
		SKIP(return, "io_uring not available: %s", strerror(-ret));

	gup_map(_metadata, self->probe, &self->r, "uring", &before);
	lab_fill(self->r.addr, SZ_2M, SZ_4K, lab_seed("uring"));
	gup_info(_metadata, self->probe, self->r.addr, &before);

	iov.iov_base = self->r.addr;
	iov.iov_len = SZ_2M;
	ret = io_uring_register_buffers(&ring, &iov, 1);
	if (dax->kind == LAB_FSDAX) {
		if (!ret)
			io_uring_unregister_buffers(&ring);
		EXPECT_EQ(-EOPNOTSUPP, ret) {
			TH_LOG("%s: registering FS DAX as an io_uring buffer returned %s, expected EOPNOTSUPP",
			       dax->name, ret ? strerror(-ret) : "success");
		}
	} else {
		ASSERT_EQ(0, ret) {
			TH_LOG("%s: registering device DAX as an io_uring buffer: %s",
			       dax->name, strerror(-ret));
		}
		gup_info(_metadata, self->probe, self->r.addr, &info);
		EXPECT_LT(before.folio_refcount, info.folio_refcount);
		EXPECT_TRUE(!!(info.flags & LAB_PAGE_DMA_PINNED));
		ASSERT_EQ(0, io_uring_unregister_buffers(&ring));
	}
	gup_info(_metadata, self->probe, self->r.addr, &info);
	EXPECT_EQ(before.folio_refcount, info.folio_refcount) {
		TH_LOG("%s: folio refcount %d after io_uring buffer registration%s, %d before",
		       dax->name, info.folio_refcount,
		       dax->kind == LAB_FSDAX ? " failed" : " and unregistration",
		       before.folio_refcount);
	}
	EXPECT_FALSE(!!(info.flags & LAB_PAGE_DMA_PINNED));
	io_uring_queue_exit(&ring);
}

TEST_HARNESS_MAIN
