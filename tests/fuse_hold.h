/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A FUSE file whose server holds a direct I/O request until the test
 * says so: the reference that a user's own FUSE server can keep, for as
 * long as it likes, on the pages of a read or write whose buffer maps an
 * FS DAX file.  The server is a thread of the test that speaks the
 * /dev/fuse protocol itself (no libfuse), the request comes from a
 * second thread that blocks in it, and the file opens with
 * FOPEN_DIRECT_IO, so its I/O goes to the server straight from the
 * caller's pages.  With async_dio set, the file opens O_DIRECT instead,
 * and the kernel sends the I/O as asynchronous requests.  Both are
 * threads so that no other process maps the DAX file: eviction tests
 * need the test's mapping to be the last.
 */
#ifndef LAB_FUSE_HOLD_H
#define LAB_FUSE_HOLD_H

#include "lab.h"

#include <linux/fuse.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>

#define FUSE_HOLD_NODE	2		/* the one file, "f" */
#define FUSE_HOLD_SIZE	(1 << 20)	/* its size */
#define FUSE_HOLD_BUF	(128 * 1024)	/* request buffer, > max_write */
#define FUSE_HOLD_MS	10000		/* bound for each step to happen */

struct fuse_hold {
	char mnt[64];
	int dev;			/* /dev/fuse, -1 when not mounted */
	int held[2];			/* server -> test: a request is held */
	int go[2];			/* test -> server: answer it */
	int done[2];			/* client -> test: the I/O returned */
	pthread_t server, client;
	bool server_up, client_up;
	bool async_dio;			/* O_DIRECT with FUSE_ASYNC_DIO */
	bool uring;			/* submitted through io_uring */
	bool write;			/* the client writes, or reads */
	void *addr;			/* its 4K buffer */
	ssize_t result;			/* what its pwrite/pread returned */
	int client_errno;
	uint64_t unique;		/* of the held request */
	bool pending;			/* which the server has not answered */
	uint32_t data[SZ_4K / 4];	/* a held write's data; a read's reply */
	/* Run by the server, in place of waiting for go, once it holds. */
	void (*on_hold)(struct fuse_hold *h);
	void *arg;
	int on_hold_err;
	char *buf;
};

/* Whether this kernel has FUSE (the guest must be root to mount). */
static inline bool fuse_available(void)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static inline int fuse_reply(int dev, uint64_t unique, int error,
			     const void *arg, size_t len)
{
	struct fuse_out_header out = {
		.len = sizeof(out) + (error ? 0 : len),
		.error = error,
		.unique = unique,
	};
	struct iovec iov[2] = { { &out, sizeof(out) }, { (void *)arg, len } };

	if (writev(dev, iov, error || !len ? 1 : 2) != (ssize_t)out.len)
		return -errno;
	return 0;
}

static inline void fuse_hold_attr(struct fuse_attr *a, uint64_t node)
{
	memset(a, 0, sizeof(*a));
	a->ino = node;
	a->blksize = SZ_4K;
	if (node == FUSE_ROOT_ID) {
		a->mode = S_IFDIR | 0755;
		a->nlink = 2;
	} else {
		a->mode = S_IFREG | 0666;
		a->nlink = 1;
		a->size = FUSE_HOLD_SIZE;
		a->blocks = FUSE_HOLD_SIZE / 512;
	}
}

/* Answer the held READ or WRITE: a read gets h->data. */
static inline int fuse_hold_answer(struct fuse_hold *h)
{
	struct fuse_write_out wo = { .size = SZ_4K };

	if (h->write)
		return fuse_reply(h->dev, h->unique, 0, &wo, sizeof(wo));
	return fuse_reply(h->dev, h->unique, 0, h->data, sizeof(h->data));
}

/*
 * Hold a READ or WRITE of the file and say so on held; a write's data is
 * kept in h->data.  It is answered on go, while other requests are served
 * meanwhile, or at once after on_hold has run.
 */
static inline void fuse_hold_io(struct fuse_hold *h, struct fuse_in_header *in)
{
	struct fuse_write_in *wi = (void *)(in + 1);
	char c = 'h';
	size_t n;

	h->unique = in->unique;
	if (in->opcode == FUSE_WRITE) {
		n = wi->size < sizeof(h->data) ? wi->size : sizeof(h->data);
		memcpy(h->data, wi + 1, n);
	}
	if (write(h->held[1], &c, 1) != 1)
		return;
	h->pending = true;
	if (h->on_hold) {
		h->on_hold(h);
		h->pending = false;
		fuse_hold_answer(h);
	}
}

static inline void *fuse_hold_serve(void *p)
{
	struct fuse_hold *h = p;
	struct fuse_in_header *in = (void *)h->buf;
	void *arg = in + 1;
	union {
		struct fuse_init_out init;
		struct fuse_entry_out entry;
		struct fuse_attr_out attr;
		struct fuse_open_out open;
	} out;
	struct pollfd pfd[2] = {
		{ .fd = h->dev, .events = POLLIN },
		{ .fd = h->go[0], .events = POLLIN },
	};
	ssize_t n;
	char c;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return NULL;
		}
		if (pfd[1].revents) {
			if (read(h->go[0], &c, 1) != 1)
				return NULL;
			if (h->pending)
				fuse_hold_answer(h);
			h->pending = false;
		}
		if (!pfd[0].revents)
			continue;
		n = read(h->dev, h->buf, FUSE_HOLD_BUF);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < (ssize_t)sizeof(*in))
			return NULL;	/* ENODEV: unmounted */
		memset(&out, 0, sizeof(out));
		switch (in->opcode) {
		case FUSE_INIT:
			out.init.major = FUSE_KERNEL_VERSION;
			out.init.minor = FUSE_KERNEL_MINOR_VERSION;
			out.init.max_readahead = SZ_4K;
			out.init.max_background = 4;
			out.init.congestion_threshold = 3;
			out.init.max_write = 64 * 1024;
			out.init.time_gran = 1;
			if (h->async_dio)
				out.init.flags = FUSE_ASYNC_DIO;
			fuse_reply(h->dev, in->unique, 0, &out.init, sizeof(out.init));
			break;
		case FUSE_LOOKUP:
			if (in->nodeid != FUSE_ROOT_ID || strcmp(arg, "f")) {
				fuse_reply(h->dev, in->unique, -ENOENT, NULL, 0);
				break;
			}
			out.entry.nodeid = FUSE_HOLD_NODE;
			out.entry.generation = 1;
			out.entry.entry_valid = out.entry.attr_valid = 3600;
			fuse_hold_attr(&out.entry.attr, FUSE_HOLD_NODE);
			fuse_reply(h->dev, in->unique, 0, &out.entry, sizeof(out.entry));
			break;
		case FUSE_GETATTR:
		case FUSE_SETATTR:
			out.attr.attr_valid = 3600;
			fuse_hold_attr(&out.attr.attr, in->nodeid);
			fuse_reply(h->dev, in->unique, 0, &out.attr, sizeof(out.attr));
			break;
		case FUSE_OPEN:
			out.open.fh = 1;
			/*
			 * No FLUSH on close: a forked worker closes its copy
			 * of the file at exit, and a flush would wait for
			 * the inode lock that the held write has.
			 */
			out.open.open_flags = FOPEN_NOFLUSH;
			if (!h->async_dio)
				out.open.open_flags |= FOPEN_DIRECT_IO;
			fuse_reply(h->dev, in->unique, 0, &out.open, sizeof(out.open));
			break;
		case FUSE_READ:
		case FUSE_WRITE:
			fuse_hold_io(h, in);
			break;
		case FUSE_FLUSH:
		case FUSE_RELEASE:
		case FUSE_FSYNC:
			fuse_reply(h->dev, in->unique, 0, NULL, 0);
			break;
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break;		/* no answer expected */
		default:
			fuse_reply(h->dev, in->unique, -ENOSYS, NULL, 0);
		}
	}
}

/*
 * The I/O through io_uring: the kernel completes it from an io-wq
 * worker, not in a system call of the caller's (an asynchronous kiocb).
 */
static inline ssize_t fuse_hold_uring_io(struct fuse_hold *h, int fd)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	ssize_t ret;

	ret = io_uring_queue_init(2, &ring, 0);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	sqe = io_uring_get_sqe(&ring);
	if (h->write)
		io_uring_prep_write(sqe, fd, h->addr, SZ_4K, 0);
	else
		io_uring_prep_read(sqe, fd, h->addr, SZ_4K, 0);
	ret = io_uring_submit(&ring);
	if (ret == 1)
		ret = io_uring_wait_cqe(&ring, &cqe);
	else if (ret >= 0)
		ret = -EIO;
	if (!ret) {
		ret = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return ret;
}

static inline void *fuse_hold_io_thread(void *p)
{
	struct fuse_hold *h = p;
	char path[80], c = 'd';
	int fd;

	snprintf(path, sizeof(path), "%s/f", h->mnt);
	fd = open(path, O_RDWR | O_CLOEXEC | (h->async_dio ? O_DIRECT : 0));
	if (fd < 0)
		h->result = -1;
	else if (h->uring)
		h->result = fuse_hold_uring_io(h, fd);
	else if (h->write)
		h->result = pwrite(fd, h->addr, SZ_4K, 0);
	else
		h->result = pread(fd, h->addr, SZ_4K, 0);
	h->client_errno = h->result < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	if (write(h->done[1], &c, 1) != 1)
		h->client_errno = EPIPE;
	return NULL;
}

static inline bool fuse_hold_wait(int fd, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char c;

	return poll(&pfd, 1, ms) == 1 && read(fd, &c, 1) == 1;
}

static inline void fuse_hold_init(struct fuse_hold *h)
{
	memset(h, 0, sizeof(*h));
	h->dev = -1;
	h->held[0] = h->held[1] = h->go[0] = h->go[1] = -1;
	h->done[0] = h->done[1] = -1;
}

/*
 * Mount the file system and start its server.  0 or -errno; on failure
 * fuse_hold_end() undoes what was done.
 */
static inline int fuse_hold_mount(struct fuse_hold *h)
{
	char opts[128];
	int err;

	if (pipe2(h->held, O_CLOEXEC) || pipe2(h->go, O_CLOEXEC) ||
	    pipe2(h->done, O_CLOEXEC))
		return -errno;
	h->buf = malloc(FUSE_HOLD_BUF);
	if (!h->buf)
		return -ENOMEM;
	snprintf(h->mnt, sizeof(h->mnt), "/tmp/lab-fuse.XXXXXX");
	if (!mkdtemp(h->mnt)) {
		h->mnt[0] = 0;
		return -errno;
	}
	h->dev = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (h->dev < 0)
		return -errno;
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0",
		 h->dev);
	if (mount("lab-fuse", h->mnt, "fuse", MS_NOSUID | MS_NODEV, opts)) {
		err = -errno;
		close(h->dev);
		h->dev = -1;
		return err;
	}
	err = pthread_create(&h->server, NULL, fuse_hold_serve, h);
	if (err)
		return -err;
	h->server_up = true;
	return 0;
}

/*
 * Start a 4K direct write (or read) of the file from (into) @addr and
 * return once the server holds it.  0 or -errno.
 */
static inline int fuse_hold_start(struct fuse_hold *h, bool write, void *addr)
{
	int err;

	h->write = write;
	h->addr = addr;
	err = pthread_create(&h->client, NULL, fuse_hold_io_thread, h);
	if (err)
		return -err;
	h->client_up = true;
	if (!fuse_hold_wait(h->held[0], FUSE_HOLD_MS))
		return fuse_hold_wait(h->done[0], 0) ? -(h->client_errno ?: EIO) :
							-ETIMEDOUT;
	return 0;
}

/*
 * Let the server answer and wait for the I/O to return.  Returns what
 * it returned (4096) or -errno.
 */
static inline ssize_t fuse_hold_release(struct fuse_hold *h)
{
	char c = 'g';

	if (write(h->go[1], &c, 1) != 1)
		return -errno;
	if (!fuse_hold_wait(h->done[0], FUSE_HOLD_MS))
		return -ETIMEDOUT;
	pthread_join(h->client, NULL);
	h->client_up = false;
	return h->result < 0 ? -h->client_errno : h->result;
}

/* Unmount and stop everything, whatever state it is in. */
static inline void fuse_hold_end(struct fuse_hold *h)
{
	char c = 'g';

	if (h->client_up) {
		/* A request still held: answer it so the client returns. */
		if (h->go[1] >= 0 && write(h->go[1], &c, 1) != 1)
			c = 0;
		if (fuse_hold_wait(h->done[0], FUSE_HOLD_MS))
			pthread_join(h->client, NULL);
		h->client_up = false;
	}
	if (h->mnt[0]) {
		if (h->dev >= 0)
			umount2(h->mnt, MNT_DETACH);
		rmdir(h->mnt);
		h->mnt[0] = 0;
	}
	if (h->server_up) {
		/*
		 * Once no file of it is open the unmount ends the connection
		 * and the server's read() fails; a server stuck for good is
		 * left to the end of the process.
		 */
		struct timespec end;

		clock_gettime(CLOCK_REALTIME, &end);
		end.tv_sec += FUSE_HOLD_MS / 1000;
		if (pthread_timedjoin_np(h->server, NULL, &end)) {
			pthread_cancel(h->server);
			pthread_detach(h->server);
		}
		h->server_up = false;
	}
	if (h->dev >= 0)
		close(h->dev);
	for (int i = 0; i < 2; i++) {
		if (h->held[i] >= 0)
			close(h->held[i]);
		if (h->go[i] >= 0)
			close(h->go[i]);
		if (h->done[i] >= 0)
			close(h->done[i]);
	}
	free(h->buf);
	fuse_hold_init(h);
}

#endif /* LAB_FUSE_HOLD_H */
