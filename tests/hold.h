/* SPDX-License-Identifier: GPL-2.0 */
/*
 * References held outside a mapping (a GUP reference or pin through the
 * probe, a pipe buffer from vmsplice, a MSG_ZEROCOPY send queued on a
 * TCP connection or on an RDS socket, a kernel TLS record that can't go
 * out, a FUSE direct write whose server has not answered), and the
 * forked worker that runs an operation which may have to wait for them.
 * Plain helpers, no harness: used by truncate.c, reflink.c and around.c.
 */
#ifndef LAB_HOLD_H
#define LAB_HOLD_H

#include "lab.h"
#include "fuse_hold.h"

#include <arpa/inet.h>
#include <linux/rds.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define HELD_MS		1500	/* an operation must still wait after this */
#define LIVE_MS		30000	/* and must finish this long after the release */

/* ---- held references --------------------------------------------------- */

enum ref_kind {
	REF_GET, REF_PIN, REF_PIPE, REF_ZEROCOPY, REF_RDS_ZEROCOPY, REF_TLS_RECORD,
	REF_FUSE_WRITE,
};

struct held_ref {
	enum ref_kind kind;
	int hold;		/* probe handle, or -1 */
	int pipefd[2];		/* vmsplice pipe, or -1 */
	int tx, rx;		/* stalled TCP connection or RDS pair, or -1 */
	int filler;		/* bytes of plain filler before them (TLS) */
	int sent;		/* copies of the page queued on tx */
	struct fuse_hold *fuse;	/* FUSE file and server, or NULL */
};

/* What the stalled connection carries before the page. */
#define TCP_FILLER	(64 * 1024)

/* Close what a pair helper opened before it failed. */
static inline void pair_close(int *tx, int *rx)
{
	if (*tx >= 0)
		close(*tx);
	if (*rx >= 0)
		close(*rx);
	*tx = *rx = -1;
}

/*
 * A TCP connection over loopback whose receiver does not read: once its
 * small buffer is full, what is sent on @tx stays queued in the sender.
 * TCP_FILLER bytes of zeroes are sent first to get there.  MSG_ZEROCOPY
 * is enabled on @tx.  0 or -errno; on failure both are -1.
 */
static inline int tcp_stalled_pair(int *tx, int *rx)
{
	static const char filler[TCP_FILLER];
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int lst, small = 4096, big = 1 << 20, one = 1, err = 0;

	*tx = *rx = -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lst = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lst < 0)
		return -errno;
	/* The accepted socket inherits the listener's receive buffer. */
	if (setsockopt(lst, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) ||
	    bind(lst, (struct sockaddr *)&a, len) || listen(lst, 1) ||
	    getsockname(lst, (struct sockaddr *)&a, &len))
		goto fail;
	*tx = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*tx < 0)
		goto fail;
	/* Room for the filler and the page while the receiver is full. */
	if (setsockopt(*tx, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) &&
	    setsockopt(*tx, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big)))
		goto fail;
	if (setsockopt(*tx, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) ||
	    connect(*tx, (struct sockaddr *)&a, len))
		goto fail;
	*rx = accept4(lst, NULL, NULL, SOCK_CLOEXEC);
	if (*rx < 0)
		goto fail;
	if (send(*tx, filler, sizeof(filler), MSG_DONTWAIT) != (ssize_t)sizeof(filler)) {
		err = errno ? -errno : -EAGAIN;
		goto out;
	}
	close(lst);
	return 0;
fail:
	err = -errno;
out:
	close(lst);
	pair_close(tx, rx);
	return err;
}

/*
 * Read what the stalled connection carried: the filler, then 4K into
 * @buf.  Gives up after 10 s without data.  0 or -errno.
 */
static inline int tcp_drain(int rx, void *buf)
{
	struct timeval tmo = { 10, 0 };
	static char sink[TCP_FILLER];
	size_t got = 0, want = TCP_FILLER + SZ_4K, off;
	ssize_t n;

	if (setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)))
		return -errno;
	while (got < want) {
		if (got < TCP_FILLER)
			n = read(rx, sink + got, TCP_FILLER - got);
		else
			n = read(rx, (char *)buf + (got - TCP_FILLER), want - got);
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		got += n;
	}
	for (off = 0; off < TCP_FILLER; off++)
		if (sink[off])
			return -EBADMSG;
	return 0;
}

/*
 * Two RDS sockets on 127.0.0.1: @rx does not read, and @tx is connected
 * to it with zerocopy enabled.  MSG_ZEROCOPY needs @tx to use the TCP
 * transport; RDS then hands the connection to a local address to its
 * loopback transport, which queues the sent message itself, pages and
 * all, on @rx until it is read.  0 or -errno (-EAFNOSUPPORT: no RDS).
 */
static inline int rds_stalled_pair(int *tx, int *rx)
{
	struct sockaddr_in a = { .sin_family = AF_INET }, self;
	socklen_t len = sizeof(a);
	int tcp = RDS_TRANS_TCP, one = 1, err;

	*tx = *rx = -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	self = a;		/* port 0: RDS picks one */
	*rx = socket(AF_RDS, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (*rx < 0)
		return -errno;
	*tx = socket(AF_RDS, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (*tx < 0 || bind(*rx, (struct sockaddr *)&a, len) ||
	    getsockname(*rx, (struct sockaddr *)&a, &len) ||
	    setsockopt(*tx, SOL_RDS, SO_RDS_TRANSPORT, &tcp, sizeof(tcp)) ||
	    setsockopt(*tx, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) ||
	    bind(*tx, (struct sockaddr *)&self, sizeof(self)) ||
	    connect(*tx, (struct sockaddr *)&a, len))
		goto fail;
	return 0;
fail:
	err = -errno;
	if (*tx >= 0)
		close(*tx);
	close(*rx);
	*tx = *rx = -1;
	return err;
}

/* Whether this kernel has RDS with the TCP transport. */
static inline bool rds_available(void)
{
	int tx, rx;

	if (rds_stalled_pair(&tx, &rx))
		return false;
	close(tx);
	close(rx);
	return true;
}

/* A zerocopy RDS send of 4K at @addr; RDS wants a cookie with it. */
static inline int rds_zerocopy_send(int tx, const void *addr)
{
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctl = { 0 };
	struct iovec iov = { (void *)addr, SZ_4K };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	uint32_t cookie = 1;

	cm->cmsg_level = SOL_RDS;
	cm->cmsg_type = RDS_CMSG_ZCOPY_COOKIE;
	cm->cmsg_len = CMSG_LEN(sizeof(cookie));
	memcpy(CMSG_DATA(cm), &cookie, sizeof(cookie));
	if (sendmsg(tx, &msg, MSG_ZEROCOPY | MSG_DONTWAIT) != (ssize_t)SZ_4K)
		return errno ? -errno : -EIO;
	return 0;
}

/* Read the 4K message queued on @rx into @buf, within 10 s.  0 or -errno. */
static inline int rds_drain(int rx, void *buf)
{
	struct timeval tmo = { 10, 0 };
	ssize_t n;

	if (setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)))
		return -errno;
	n = recv(rx, buf, SZ_4K, 0);
	if (n < 0)
		return -errno;
	return n == (ssize_t)SZ_4K ? 0 : -EBADMSG;
}

static const struct tls12_crypto_info_aes_gcm_128 lab_tls_key = {
	.info.version = TLS_1_2_VERSION,
	.info.cipher_type = TLS_CIPHER_AES_GCM_128,
	.key = { 0x5a, 0x5a, 0x5a, 0x5a },
};

/*
 * A TCP connection over loopback whose receiver does not read, with
 * kernel TLS on both ends (a fixed key; TLS_RX is set on @rx only once
 * the plain filler has been read).  Plain zeroes are sent until nothing
 * moves any more: the receiver is full and acknowledges nothing from now
 * on.  Then @tx gets room for part of a record, not a whole one, and
 * TLS_TX: a full record sent next is only partly taken by TCP and keeps
 * the pages it was built from for good.  Returns the bytes of filler
 * (> 0) or -errno (-ENOENT: no kernel TLS).
 */
static inline int tls_stalled_pair(int *tx, int *rx)
{
	static const char zeros[SZ_4K];
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int lst, small = 4096, room = 8192, quiet = 0, filler = 0, err;
	ssize_t n;

	*tx = *rx = -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lst = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lst < 0)
		return -errno;
	*tx = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (*tx < 0 ||
	    setsockopt(lst, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) ||
	    bind(lst, (struct sockaddr *)&a, len) || listen(lst, 1) ||
	    getsockname(lst, (struct sockaddr *)&a, &len) ||
	    setsockopt(*tx, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)) ||
	    connect(*tx, (struct sockaddr *)&a, len))
		goto fail;
	*rx = accept4(lst, NULL, NULL, SOCK_CLOEXEC);
	if (*rx < 0 ||
	    setsockopt(*tx, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) ||
	    setsockopt(*rx, SOL_TCP, TCP_ULP, "tls", sizeof("tls")))
		goto fail;
	/* Stuck once 200 ms pass without progress. */
	while (quiet < 4) {
		n = send(*tx, zeros, sizeof(zeros), MSG_DONTWAIT);
		if (n > 0) {
			filler += n;
			quiet = 0;
		} else if (errno == EAGAIN) {
			usleep(50 * 1000);
			quiet++;
		} else {
			goto fail;
		}
		if (filler > (1 << 20)) {
			errno = ENOBUFS;
			goto fail;
		}
	}
	if (setsockopt(*tx, SOL_SOCKET, SO_SNDBUF, &room, sizeof(room)) ||
	    setsockopt(*tx, SOL_TLS, TLS_TX, &lab_tls_key, sizeof(lab_tls_key)))
		goto fail;
	close(lst);
	return filler;
fail:
	err = -errno;
	close(lst);
	pair_close(tx, rx);
	return err;
}

/* Whether this kernel has kernel TLS. */
static inline bool tls_available(void)
{
	int tx, rx;

	if (tls_stalled_pair(&tx, &rx) < 0)
		return false;
	close(tx);
	close(rx);
	return true;
}

/* Copies of the page in one TLS record: 16K, the largest record. */
#define TLS_COPIES	4

/*
 * Send the 4K at @addr TLS_COPIES times as one full record: more than
 * both small socket buffers hold, so TCP never takes all of it and the
 * record keeps the pages it was built from.  TLS_COPIES or -errno.
 */
static inline int tls_send_record(int tx, const void *addr)
{
	struct iovec iov[TLS_COPIES];
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = TLS_COPIES };
	int i;

	for (i = 0; i < TLS_COPIES; i++)
		iov[i] = (struct iovec){ (void *)addr, SZ_4K };
	/* Blocking, TCP would wait for room that never comes. */
	if (sendmsg(tx, &msg, MSG_DONTWAIT) != TLS_COPIES * SZ_4K)
		return errno ? -errno : -EIO;
	return TLS_COPIES;
}

/*
 * Read the @filler bytes of plain zeroes from @rx, turn on TLS_RX and
 * read @n times 4K; the last 4K go to @buf.  0 or -errno.
 */
static inline int tls_drain(int rx, int filler, int n, void *buf)
{
	struct timeval tmo = { 10, 0 };
	char sink[SZ_4K];
	size_t got;
	ssize_t r;

	if (setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)))
		return -errno;
	for (; filler > 0; filler -= r) {
		r = read(rx, sink, filler < (int)SZ_4K ? (size_t)filler : SZ_4K);
		if (r <= 0)
			return r < 0 ? -errno : -EPIPE;
		for (got = 0; got < (size_t)r; got++)
			if (sink[got])
				return -EBADMSG;
	}
	if (setsockopt(rx, SOL_TLS, TLS_RX, &lab_tls_key, sizeof(lab_tls_key)))
		return -errno;
	while (n--)
		for (got = 0; got < SZ_4K; got += r) {
			r = read(rx, (char *)buf + got, SZ_4K - got);
			if (r <= 0)
				return r < 0 ? -errno : -EPIPE;
		}
	return 0;
}

/*
 * The stalled pair of @kind: a TCP connection (zerocopy or TLS) or two
 * RDS sockets.  Returns the bytes of plain filler that zerocopy_drain()
 * has to read for TLS, 0 for the others, or -errno.
 */
static inline int zerocopy_pair(enum ref_kind kind, int *tx, int *rx)
{
	if (kind == REF_TLS_RECORD)
		return tls_stalled_pair(tx, rx);
	return kind == REF_RDS_ZEROCOPY ? rds_stalled_pair(tx, rx) :
					  tcp_stalled_pair(tx, rx);
}

/*
 * Send the 4K at @addr on @tx so that the send keeps the page.  Returns
 * how many copies of it are queued (> 0), or -errno.
 */
static inline int zerocopy_send(enum ref_kind kind, int tx, const void *addr)
{
	int err;

	if (kind == REF_TLS_RECORD)
		return tls_send_record(tx, addr);
	if (kind == REF_RDS_ZEROCOPY) {
		err = rds_zerocopy_send(tx, addr);
		return err ? err : 1;
	}
	if (send(tx, addr, SZ_4K, MSG_ZEROCOPY | MSG_DONTWAIT) != (ssize_t)SZ_4K)
		return errno ? -errno : -EIO;
	return 1;
}

/*
 * Read the @n copies the pair carried (after @filler bytes for TLS), the
 * last one into @buf; 0 or -errno.
 */
static inline int zerocopy_drain(enum ref_kind kind, int rx, int filler, int n,
				 void *buf)
{
	if (kind == REF_TLS_RECORD)
		return tls_drain(rx, filler, n, buf);
	return kind == REF_RDS_ZEROCOPY ? rds_drain(rx, buf) : tcp_drain(rx, buf);
}

static inline const char *ref_kind_name(enum ref_kind kind)
{
	switch (kind) {
	case REF_GET: return "GUP reference";
	case REF_PIN: return "pin";
	case REF_PIPE: return "pipe buffer";
	case REF_ZEROCOPY: return "zerocopy send";
	case REF_RDS_ZEROCOPY: return "RDS zerocopy send";
	case REF_TLS_RECORD: return "TLS record";
	case REF_FUSE_WRITE: return "FUSE direct write";
	}
	return "?";
}

/* A pipe or a connection carries the page's data, which is checked. */
static inline bool ref_carries_data(enum ref_kind kind)
{
	return kind != REF_GET && kind != REF_PIN;
}

static inline void held_ref_init(struct held_ref *r, enum ref_kind kind)
{
	r->kind = kind;
	r->filler = r->sent = 0;
	r->hold = r->pipefd[0] = r->pipefd[1] = r->tx = r->rx = -1;
	r->fuse = NULL;
}

/* Take a reference of @r->kind on the 4K page at @addr; 0 or -errno. */
static inline int held_ref_take(struct held_ref *r, int probe, void *addr)
{
	struct iovec iov = { addr, SZ_4K };
	int ret;

	if (r->kind == REF_GET || r->kind == REF_PIN) {
		ret = lab_hold(probe, addr, SZ_4K,
			       r->kind == REF_PIN ? LAB_HOLD_PIN | LAB_HOLD_WRITE : 0);
		if (ret >= 0)
			r->hold = ret;
		return ret < 0 ? ret : 0;
	}
	if (r->kind == REF_ZEROCOPY || r->kind == REF_RDS_ZEROCOPY ||
	    r->kind == REF_TLS_RECORD) {
		ret = zerocopy_pair(r->kind, &r->tx, &r->rx);
		if (ret < 0)
			return ret;
		r->filler = ret;
		ret = zerocopy_send(r->kind, r->tx, addr);
		if (ret < 0)
			return ret;
		r->sent = ret;
		return 0;
	}
	if (r->kind == REF_FUSE_WRITE) {
		r->fuse = malloc(sizeof(*r->fuse));
		if (!r->fuse)
			return -ENOMEM;
		fuse_hold_init(r->fuse);
		ret = fuse_hold_mount(r->fuse);
		return ret ? ret : fuse_hold_start(r->fuse, true, addr);
	}
	if (pipe2(r->pipefd, O_CLOEXEC))
		return -errno;
	if (vmsplice(r->pipefd[1], &iov, 1, 0) != (ssize_t)SZ_4K)
		return errno ? -errno : -EIO;
	return 0;
}

/*
 * Drop the reference.  A pipe or connection is read first: the 4K it
 * carried go to @buf.  Returns 0 or -errno.
 */
static inline int held_ref_drop(struct held_ref *r, int probe, void *buf)
{
	size_t got = 0;
	ssize_t n;
	int err = 0;

	if (r->kind == REF_GET || r->kind == REF_PIN) {
		if (r->hold >= 0)
			err = lab_release(probe, r->hold);
		r->hold = -1;
		return err;
	}
	if (r->kind == REF_ZEROCOPY || r->kind == REF_RDS_ZEROCOPY ||
	    r->kind == REF_TLS_RECORD) {
		err = zerocopy_drain(r->kind, r->rx, r->filler, r->sent, buf);
		close(r->tx);
		close(r->rx);
		r->tx = r->rx = -1;
		return err;
	}
	if (r->kind == REF_FUSE_WRITE) {
		/* What the server got, when it read the request. */
		n = fuse_hold_release(r->fuse);
		if (buf)
			memcpy(buf, r->fuse->data, SZ_4K);
		fuse_hold_end(r->fuse);
		free(r->fuse);
		r->fuse = NULL;
		return n == SZ_4K ? 0 : n < 0 ? n : -EIO;
	}
	while (got < SZ_4K) {
		n = read(r->pipefd[0], (char *)buf + got, SZ_4K - got);
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		got += n;
	}
	close(r->pipefd[0]);
	close(r->pipefd[1]);
	r->pipefd[0] = r->pipefd[1] = -1;
	return err;
}

/* Teardown: drop whatever is still held, without reading. */
static inline void held_ref_cleanup(struct held_ref *r, int probe)
{
	if (r->hold >= 0)
		lab_release(probe, r->hold);
	if (r->pipefd[0] >= 0)
		close(r->pipefd[0]);
	if (r->pipefd[1] >= 0)
		close(r->pipefd[1]);
	if (r->tx >= 0)
		close(r->tx);
	if (r->rx >= 0)
		close(r->rx);
	if (r->fuse) {
		fuse_hold_end(r->fuse);
		free(r->fuse);
		r->fuse = NULL;
	}
	r->hold = r->pipefd[0] = r->pipefd[1] = r->tx = r->rx = -1;
}

/* ---- the waiting operation runs in a forked worker ---------------------- */

struct worker {
	pid_t pid;
	bool done;
	int code;	/* exit code (an errno, 0 = success), or 1000 + signal */
};

typedef int (*work_fn)(const void *arg);

/*
 * Fork a worker that closes @close_fds (so it holds none of the test's
 * references), tells the parent it is about to start, and then exits with
 * fn(arg).  Returns once the worker has reported in; pid -1 on failure.
 */
static inline struct worker worker_start(work_fn fn, const void *arg,
					 const int *close_fds, int nr_close)
{
	struct worker w = { .pid = -1 };
	struct pollfd pfd;
	int p[2], i;
	char c = 'r';

	if (pipe2(p, O_CLOEXEC))
		return w;
	w.pid = fork();
	if (w.pid == 0) {
		for (i = 0; i < nr_close; i++)
			if (close_fds[i] >= 0)
				close(close_fds[i]);
		close(p[0]);
		if (write(p[1], &c, 1) != 1)
			_exit(EPIPE);
		close(p[1]);
		_exit(fn(arg));
	}
	close(p[1]);
	if (w.pid > 0) {
		pfd.fd = p[0];
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 10000) != 1 || read(p[0], &c, 1) != 1) {
			kill(w.pid, SIGKILL);
			waitpid(w.pid, NULL, 0);
			w.pid = -1;
		}
	}
	close(p[0]);
	return w;
}

/* Wait up to @ms for the worker; true once it has exited. */
static inline bool worker_wait(struct worker *w, int ms)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	int status, waited = 0;
	pid_t r;

	if (w->done)
		return true;
	if (w->pid <= 0)
		return false;
	for (;;) {
		r = waitpid(w->pid, &status, WNOHANG);
		if (r == w->pid)
			break;
		if (r < 0 && errno != EINTR)
			return false;
		if (waited >= ms)
			return false;
		nanosleep(&tick, NULL);
		waited += 10;
	}
	w->done = true;
	if (WIFEXITED(status))
		w->code = WEXITSTATUS(status);
	else
		w->code = 1000 + WTERMSIG(status);
	return true;
}

static inline const char *code_str(int code)
{
	static char buf[64];

	if (code >= 1000)
		snprintf(buf, sizeof(buf), "killed by signal %d", code - 1000);
	else
		snprintf(buf, sizeof(buf), "%s", code ? strerror(code) : "success");
	return buf;
}

/* A work_fn: unlink the path @p; 0 or errno. */
static inline int do_unlink(const void *p)
{
	return unlink(p) ? errno : 0;
}

/* Stop a worker that is still around at teardown, within a bound. */
static inline void worker_reap(struct worker *w)
{
	if (w->pid <= 0 || w->done)
		return;
	kill(w->pid, SIGKILL);
	worker_wait(w, LIVE_MS);
}

/* Operations for a worker: ftruncate() and a hole punch, errno or 0. */
struct trunc_arg {
	int fd;
	off_t size;
};

static inline int do_truncate(const void *p)
{
	const struct trunc_arg *a = p;

	return ftruncate(a->fd, a->size) ? errno : 0;
}

struct punch_arg {
	int fd;
	off_t off, len;
};

static inline int do_punch(const void *p)
{
	const struct punch_arg *a = p;

	return fallocate(a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			 a->off, a->len) ? errno : 0;
}

#endif /* LAB_HOLD_H */
