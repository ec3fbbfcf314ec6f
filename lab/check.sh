#!/bin/bash
# make check: lint (lab/lint.sh), build the kernels and the tests, run the
# regression suite in the guest on each kernel and judge the results.
#   KERNEL=patched|baseline|both   (default both: the contract tests
#                                  need the baseline too)
# Prints "N skipped", then ends with the line "N passed, N failed", which
# is what CI reads.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

select_kernels both

prepare_tree
mkdir -p "$LAB_RESULTS"
host=0 host_fail=0
hostcheck() {	# hostcheck NAME CMD...: a host-side step counted as a test
	local name=$1
	shift
	if "$@"; then
		echo "host: ok   $name"
		host=$((host + 1))
	else
		echo "host: FAIL $name"
		host_fail=$((host_fail + 1))
	fi
}

# Lint first, in seconds: findings stop the check before anything is built.
hostcheck "lint (make lint)" "$LAB_TOP"/lab/lint.sh
if [ "$host_fail" != 0 ]; then
	note "make lint failed: fix its findings above; no kernel was built or run"
	echo "$host passed, $host_fail failed"
	exit 1
fi

for k in "${kernels[@]}"; do
	hostcheck "build $k kernel" env KERNEL="$k" "$LAB_TOP"/lab/build.sh
done
hostcheck "build tests" make -s -C "$LAB_TOP/tests"

for k in "${kernels[@]}"; do
	# The VM run fails on a dmesg warning or timeout; test verdicts come
	# from the TAP files, judged below.
	hostcheck "suite on $k: guest finished, dmesg clean" \
		"$LAB_TOP"/lab/vm.sh -k "$k" -n suite -t "${LAB_SUITE_TIMEOUT:-1500}" -- tests/guest/run-suite.sh
done

# The kernel's own mm selftests, the categories that take minutes under
# TCG (make selftests runs them all): nothing that passes on the baseline
# may fail on the series.  Needs both kernels.
mm_subset() {
	# One vCPU, as for the suite: none of these needs two.
	LAB_SMP=1 MM_RUN=selftests-ci LAB_CATEGORY_TIMEOUT=600 MM_CATEGORIES="$LAB_CI_MM_CATEGORIES" \
		KERNEL=both "$LAB_TOP"/lab/selftests.sh >"$LAB_RESULTS/selftests-ci.log" 2>&1
	local rc=$?
	awk '/^(baseline|patched): [0-9]+ passed/ { p = 1 } p' "$LAB_RESULTS/selftests-ci.log"
	return $rc
}
LAB_CI_MM_CATEGORIES=${LAB_CI_MM_CATEGORIES:-"mmap gup_test mlock mremap hmm madv_populate memfd_secret process_mrelease soft_dirty pagemap cow mkdirty"}
if [ ${#kernels[@]} = 2 ]; then
	hostcheck "mm selftests ($LAB_CI_MM_CATEGORIES): no test passing on the baseline fails on the series" mm_subset
fi

judge_run suite
echo "$skip skipped"
echo "$((pass + host)) passed, $((fail + host_fail)) failed"
[ $((fail + host_fail)) = 0 ]
