#!/bin/bash
# make shell: build the kernel and boot it with an interactive shell.
#   KERNEL=patched|baseline   (default patched; one kernel, not both)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

select_kernels patched
[ ${#kernels[@]} = 1 ] || die "make shell boots one kernel: KERNEL=patched or KERNEL=baseline"
prepare_tree
build_kernels
exec "$LAB_TOP"/lab/vm.sh -k "${kernels[0]}" -n shell -s
