#!/bin/bash
# make cross: build the objects the series touches for arm64, ppc64le,
# riscv64 and s390x with Debian's cross compilers, on the baseline and the
# patched tree, and report warnings and errors that only the patched tree
# has.  defconfig plus the DAX options; objects only, not a full kernel.
# Warnings are compared without line numbers, which the series shifts.
# The table also goes to results/cross.txt.
#   cross.sh [arm64|powerpc|riscv|s390 ...]
set -euo pipefail
. "$(dirname "$0")/lib.sh"

select_kernels both both
prepare_tree cross

declare -A defconfig=([arm64]=defconfig [powerpc]=ppc64le_defconfig
		      [riscv]=defconfig [s390]=defconfig)
arches=("$@")
[ ${#arches[@]} -gt 0 ] || arches=(arm64 powerpc riscv s390)
dax_opts=(MEMORY_HOTPLUG MEMORY_HOTREMOVE SPARSEMEM_VMEMMAP ZONE_DEVICE
	  TRANSPARENT_HUGEPAGE LIBNVDIMM BLK_DEV_PMEM NVDIMM_PFN NVDIMM_DAX
	  DAX DEV_DAX DEV_DAX_PMEM FS_DAX EXT4_FS XFS_FS FUSE_FS VIRTIO_FS
	  PCI_P2PDMA)

# Build the touched directories; print the normalised warning/error lines.
build_objs() {
	local arch=$1 kernel=$2 src out
	src=$(kernel_src "$kernel")
	out=$LAB_BUILD/out/cross-$arch-$kernel
	mkdir -p "$out"
	local mk=(kmake_arch "$arch" "${LAB_CROSS[$arch]}" "$src" "$out")
	local enable=() opt
	for opt in "${dax_opts[@]}"; do
		enable+=(-e "$opt")
	done
	[ -f "$out/.config" ] || "${mk[@]}" "${defconfig[$arch]}" >/dev/null
	# Asked for on every run: a changed tree may offer an option that the
	# last one could not.
	"$src"/scripts/config --file "$out/.config" "${enable[@]}"
	"${mk[@]}" olddefconfig >/dev/null
	# Options the architecture cannot have (s390 has no ZONE_DEVICE) are
	# listed; fs/dax.o is only built with FS_DAX.
	local o
	for o in "${dax_opts[@]}"; do
		grep -q "^CONFIG_$o=y" "$out/.config" || echo "$o"
	done >"$out/missing-options"
	local objs=(mm/ fs/ext4/ fs/xfs/ fs/fuse/ drivers/dax/ drivers/nvdimm/ "arch/$arch/mm/")
	# dcssblk: s390's DAX driver (FS_DAX_LIMITED)
	[ "$arch" != s390 ] || objs+=(drivers/s390/block/)
	! grep -q '^CONFIG_FS_DAX=y' "$out/.config" || objs+=(fs/dax.o)
	# Compile every object again, so that each run sees all warnings
	# (ccache replays them, so this is cheap when nothing changed).
	local d
	for d in mm fs/ext4 fs/xfs fs/fuse drivers/dax drivers/nvdimm drivers/s390/block "arch/$arch/mm"; do
		[ ! -d "$out/$d" ] || find "$out/$d" -name '*.o' -delete
	done
	rm -f "$out/fs/dax.o"
	"${mk[@]}" -k "${objs[@]}" >"$out/objs.log" 2>&1 || true
	warning_lines "$out/objs.log"
}

mkdir -p "$LAB_RESULTS"
exec > >(tee "$LAB_RESULTS/cross.txt")
printf '%-8s %-10s %-10s %s\n' arch baseline patched "new in patched"
bad=0
for arch in "${arches[@]}"; do
	[ -n "${LAB_CROSS[$arch]:-}" ] || die "unknown arch '$arch' (arm64, powerpc, riscv, s390)"
	b=$(build_objs "$arch" baseline)
	p=$(build_objs "$arch" patched)
	new=$(comm -13 <(echo "$b") <(echo "$p") | grep -c . || true)
	printf '%-8s %-10s %-10s %s\n' "$arch" "$(grep -c . <<<"$b" || true) issues" \
		"$(grep -c . <<<"$p" || true) issues" "$new"
	if [ "$new" != 0 ]; then
		comm -13 <(echo "$b") <(echo "$p") | sed 's/^/    /'
		bad=1
	fi
	for k in baseline patched; do
		m=$(paste -sd' ' "$LAB_BUILD/out/cross-$arch-$k/missing-options")
		[ -z "$m" ] || echo "    $k config cannot set: $m"
	done
done
echo "loongarch: no Debian cross compiler here; its hunks are reviewed by reading"
exit $bad
