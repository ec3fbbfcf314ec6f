#!/bin/bash
# make selftests: the kernel's own mm selftests (tools/testing/selftests/mm,
# run_vmtests.sh) built from each kernel's tree and run in the lab guest,
# to show the series changes nothing for anonymous memory, THP, hugetlb,
# KSM, userfaultfd, mremap and friends.
#   KERNEL=patched|baseline|both   (default both)
# MM_CATEGORIES overrides the run_vmtests.sh categories, MM_RUN names the
# run (default selftests; make check's subset is selftests-ci).  Results:
# results/<kernel>/<run>/mm/*.log and the table results/<run>.md.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

select_kernels both
run=${MM_RUN:-selftests}
[[ $run =~ ^[A-Za-z0-9._-]+$ ]] || die "bad MM_RUN '$run'"
export MM_RUN=$run
categories=${MM_CATEGORIES:-"mmap gup_test userfaultfd mlock mremap hmm madv_populate memfd_secret process_mrelease ksm ksm_numa soft_dirty pagemap cow thp hugetlb migration mkdirty"}
# Categories run one per run_vmtests.sh call; the guest gets the time for
# all of them plus boot.
ncat=$(wc -w <<<"$categories")
timeout=$((ncat * ${LAB_CATEGORY_TIMEOUT:-1200} + 600))

prepare_tree selftests

# Build the selftests of kernel $1 against its own uapi headers.
build_selftests() {
	local k=$1 src dir
	src=$(kernel_src "$k")
	dir=$LAB_BUILD/selftests/$k
	rm -rf "$dir/mm"
	mkdir -p "$dir/obj"
	note "building the mm selftests of the $k tree"
	make -s -C "$src" O="$dir/hdr" headers_install INSTALL_HDR_PATH="$dir/usr" >/dev/null
	# Debian's khugepaged.c (a stable backport) returns KSFT_SKIP
	# without including kselftest.h; define it to kselftest's value.
	make -s -C "$src/tools/testing/selftests/mm" -j"$LAB_JOBS" \
		OUTPUT="$dir/obj" KHDR_INCLUDES="-isystem $dir/usr/include" \
		USERCFLAGS=-DKSFT_SKIP=4 \
		INSTALL_PATH="$dir/mm" install >"$dir/build.log" 2>&1 ||
		{ tail -20 "$dir/build.log" >&2; die "mm selftests of $k do not build ($dir/build.log)"; }
	[ -x "$dir/mm/run_vmtests.sh" ] || die "no run_vmtests.sh installed in $dir/mm"
}

build_kernels
rc=0
for k in "${kernels[@]}"; do
	build_selftests "$k"
	# 4G for hugetlb reserves beside the page cache; two NUMA nodes for
	# migration and ksm_numa; migration also wants three CPUs (two
	# threads beside the one that migrates).
	# shellcheck disable=SC2086	# one word per category
	LAB_MEM=4G LAB_APPEND="numa=fake=2" LAB_SMP=${LAB_SMP:-3} \
		"$LAB_TOP"/lab/vm.sh -k "$k" -n "$run" -t "$timeout" -- \
		tests/guest/run-mm-selftests.sh -t "${LAB_CATEGORY_TIMEOUT:-1200}" \
		"$LAB_BUILD/selftests/$k/mm" $categories || rc=1
done
"$LAB_TOP"/lab/selftests-report.sh "${kernels[@]}" || rc=1
exit $rc
