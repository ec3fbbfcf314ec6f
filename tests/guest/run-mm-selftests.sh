#!/bin/bash
# Guest side of "make selftests": the kernel's own mm selftests, built
# from this kernel's tree (lab/selftests.sh), one run_vmtests.sh call per
# category so a hang or crash costs one category, not the rest.
#   run-mm-selftests.sh [-t SECONDS] DIR CATEGORY...
# -t bounds each category (default 1200 s).
# Writes $LAB_OUT/mm/<category>.log (run_vmtests.sh's TAP) and
# <category>.dmesg; the host judges (lab/selftests-report.sh).
set -uo pipefail
. /run/lab/env
limit=1200
if [ "${1:-}" = -t ]; then
	limit=${2:?-t needs a number of seconds}
	shift 2
fi
src=${1:?usage: run-mm-selftests.sh [-t SECONDS] DIR CATEGORY...}
shift
[ -x "$src/run_vmtests.sh" ] || { echo "no run_vmtests.sh in $src" >&2; exit 2; }
out=$LAB_OUT/mm
mkdir -p "$out"

# run_vmtests.sh mounts hugetlbfs under its own directory and some tests
# write beside themselves: run from a copy on tmpfs, not the read-only
# host root.
cp -a "$src" /tmp/mm || exit 1
cd /tmp/mm || exit 1
mkdir -p /sys/fs/cgroup
mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null
# MADV_PAGEOUT of anonymous memory needs swap (cow, khugepaged, ...): the
# NVMe drive, which only the suite's P2PDMA tests use, is free here.
if [ -n "${LAB_NVME:-}" ] && mkswap -q "$LAB_NVME" && swapon "$LAB_NVME"; then
	swap=$LAB_NVME
else
	swap=none
fi
# run_vmtests.sh reserves huge pages for its hugetlb tests and gives them
# back before migration, whose hugetlb cases then find none; what is
# reserved beforehand is what it gives back to.
echo 16 >/proc/sys/vm/nr_hugepages
# The same address layout on both kernels: mremap_test maps a 40MB
# "preamble" with MAP_FIXED_NOREPLACE at a spot it never checks is free,
# and with ASLR it now and then finds something there (seen once, on the
# series, 2026-12-07; ten more runs passed).
echo 0 >/proc/sys/kernel/randomize_va_space
numactl=$(ls -d /sys/devices/system/node/node* | wc -l)
echo "# guest: $(nproc) cpus, $numactl numa nodes, $(grep MemTotal /proc/meminfo), swap on $swap, $(cat /proc/sys/vm/nr_hugepages) huge pages reserved, ASLR off" >"$out/env.log"

for cat in "$@"; do
	echo "== $cat"
	echo "lab-mm: start $cat" >/dev/kmsg
	timeout -k 10 "$limit" ./run_vmtests.sh -t "$cat" >"$out/$cat.log" 2>&1
	echo "# exit status $?" >>"$out/$cat.log"
	# test_hmm.sh finds the driver with modinfo, which needs
	# /lib/modules of this kernel; the lab builds test_hmm in, so
	# run the same program directly when the script skipped for that.
	if [ "$cat" = hmm ] && grep -q 'CONFIG_TEST_HMM=m' "$out/$cat.log" &&
	   [ -d /sys/module/test_hmm ]; then
		timeout -k 10 600 ./hmm-tests >"$out/hmm-direct.log" 2>&1
		echo "# exit status $?" >>"$out/hmm-direct.log"
	fi
	dmesg | sed -n "/lab-mm: start $cat\$/,\$p" >"$out/$cat.dmesg"
done
exit 0
