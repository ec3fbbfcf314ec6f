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
#include "torture.h"

const struct lab_dax backends[NR_BACKENDS] = {
	[B_EXT4] = LAB_EXT4,
	[B_XFS] = LAB_XFS,
	[B_DAX2M] = LAB_DAX2M,
	[B_DAX4K] = LAB_DAX4K,
};

const char *const op_name[NR_OPS] = {
	"mmap-write", "pwrite", "dio-into-map", "verify",
	"truncate", "extend", "punch", "reflink",
	"dio-from-map", "vmsplice", "probe-hold", "fork", "mremap",
	"hwpoison",
};

struct shared *sh;
int seconds = 120, nproc_workers = 2, nthreads = 3;
uint64_t base_seed;
const char *nvme;

/* ---- setup and the end of the run -------------------------------------- */

struct backend_state bstate[NR_BACKENDS];

static int tap_n;
static bool all_ok = true;

void tap(int res, const char *name, const char *fmt, ...)
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
