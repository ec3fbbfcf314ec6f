// SPDX-License-Identifier: GPL-2.0
/*
 * The end of the torture run: every slot against the truth, umount and
 * namespace disable racing held pins, every page idle again, and the
 * reflink scenarios run after the workload.
 */
#include "torture.h"

/* Verify every slot of @b against the truth, file sizes included. */
int verify_backend(struct worker *w, int b)
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
void umount_racing_pin(struct worker *w, int b)
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
void check_idle(struct worker *w, int b)
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
void namespace_busy(struct worker *w, int b)
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
void disable_racing_pin(struct worker *w)
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

/*
 * A read-only pin (O_DIRECT out of the mapping does this) of an FS DAX
 * page that two files share after a reflink.  The baseline marks such a
 * page with PAGE_MAPPING_DAX_SHARED, which PageAnon() takes for an
 * anonymous page, and GUP's VM_BUG_ON in follow_page_pte() kills the
 * kernel; the series counts sharing without a fake mapping.
 */
const char baseline_shared_pin[] =
	"the baseline hits VM_BUG_ON in follow_page_pte() when a reflinked FS DAX page is pinned (PAGE_MAPPING_DAX_SHARED looks anonymous)";

void pin_reflinked_page(struct worker *w)
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

void clones_fault_together(struct worker *w)
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
