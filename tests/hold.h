/* SPDX-License-Identifier: GPL-2.0 */
/*
 * References held outside a mapping (a GUP reference or pin through the
 * probe, a pipe buffer from vmsplice), and the forked worker that runs an
 * operation which may have to wait for them.  Plain helpers, no harness:
 * used by truncate.c and reflink.c.
 */
#ifndef LAB_HOLD_H
#define LAB_HOLD_H

#include "lab.h"

#include <poll.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define HELD_MS		1500	/* an operation must still wait after this */
#define LIVE_MS		30000	/* and must finish this long after the release */

/* ---- held references --------------------------------------------------- */

enum ref_kind { REF_GET, REF_PIN, REF_PIPE };

struct held_ref {
	enum ref_kind kind;
	int hold;		/* probe handle, or -1 */
	int pipefd[2];		/* vmsplice pipe, or -1 */
};

static inline const char *ref_kind_name(enum ref_kind kind)
{
	switch (kind) {
	case REF_GET: return "GUP reference";
	case REF_PIN: return "pin";
	case REF_PIPE: return "pipe buffer";
	}
	return "?";
}

static inline void held_ref_init(struct held_ref *r, enum ref_kind kind)
{
	r->kind = kind;
	r->hold = r->pipefd[0] = r->pipefd[1] = -1;
}

/* Take a reference of @r->kind on the 4K page at @addr; 0 or -errno. */
static inline int held_ref_take(struct held_ref *r, int probe, void *addr)
{
	struct iovec iov = { addr, SZ_4K };
	int ret;

	if (r->kind != REF_PIPE) {
		ret = lab_hold(probe, addr, SZ_4K,
			       r->kind == REF_PIN ? LAB_HOLD_PIN | LAB_HOLD_WRITE : 0);
		if (ret >= 0)
			r->hold = ret;
		return ret < 0 ? ret : 0;
	}
	if (pipe2(r->pipefd, O_CLOEXEC))
		return -errno;
	if (vmsplice(r->pipefd[1], &iov, 1, 0) != (ssize_t)SZ_4K)
		return errno ? -errno : -EIO;
	return 0;
}

/*
 * Drop the reference.  A pipe is read first: the 4K it carried go to
 * @buf.  Returns 0 or -errno.
 */
static inline int held_ref_drop(struct held_ref *r, int probe, void *buf)
{
	size_t got = 0;
	ssize_t n;
	int err = 0;

	if (r->kind != REF_PIPE) {
		if (r->hold >= 0)
			err = lab_release(probe, r->hold);
		r->hold = -1;
		return err;
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
	r->hold = r->pipefd[0] = r->pipefd[1] = -1;
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

#endif /* LAB_HOLD_H */
