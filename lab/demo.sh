#!/bin/bash
# make run: build the kernel(s) and the demo program, boot each kernel and
# run the demo in it: the refcount life cycle of a DAX page on ext4, xfs
# and device DAX.
#   KERNEL=patched|baseline|both   (default patched)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

select_kernels patched
prepare_tree
build_kernels
make -s -C "$LAB_TOP/tests"
for k in "${kernels[@]}"; do
	"$LAB_TOP"/lab/vm.sh -k "$k" -n demo -t 600 -- build/lab/demo
done
