#!/bin/bash
# make torture: the concurrent workload of tests/torture on one kernel or
# both, then its verdicts judged like the suite's (lab/suite-report.sh).
#   KERNEL=patched|baseline|both   (default patched)
#   TORTURE_SECONDS=N   length of the workload (default 120)
#   DEBUG=kasan         run the KASAN build of the kernel(s)
# Ends with the line "N passed, N failed, N skipped".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

select_kernels patched
secs=${TORTURE_SECONDS:-120}
[[ $secs =~ ^[1-9][0-9]*$ ]] || die "TORTURE_SECONDS must be a positive number, not '$secs'"
run=torture${LAB_CONFIG_SUFFIX:-}

prepare_tree
build_kernels
make -s -C "$LAB_TOP/tests"

vm_fail=0
for k in "${kernels[@]}"; do
	# A guest that hangs or a dmesg warning fails the run; the verdicts
	# come from the TAP file.
	"$LAB_TOP"/lab/vm.sh -k "$k" -n "$run" -t $((secs + 900)) -- \
		env LAB_TORTURE_SECONDS="$secs" tests/guest/run-suite.sh torture ||
		{ echo "torture: the $k guest failed (see results/$k/$run/)"; vm_fail=$((vm_fail + 1)); }
	grep -a '^# ' "$LAB_RESULTS/$k/$run/tests/torture.full" 2>/dev/null | sed "s/^/$k: /"
done
judge_run "$run"
echo "$pass passed, $((fail + vm_fail)) failed, $skip skipped"
[ $((fail + vm_fail)) = 0 ]
