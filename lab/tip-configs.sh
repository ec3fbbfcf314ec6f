#!/bin/bash
# make tip-configs: build the tip of the series in configurations the lab
# kernel does not cover, each in its own O= directory:
#   allnoconfig  x86_64 allnoconfig: no ZONE_DEVICE, no DAX, no THP
#   nothp        the lab config with TRANSPARENT_HUGEPAGE off: FS DAX and
#                ZONE_DEVICE without PMD or PUD mappings (device DAX
#                needs THP, so it goes)
#   arm64-nothp, riscv64-nothp
#                defconfig + ZONE_DEVICE and FS DAX, THP off, as Debian's
#                arm64 RT kernel is; cross-built, and only the objects the
#                series touches (mm/, fs/dax.o, ext4, xfs, fuse, nvdimm,
#                arch/ARCH/mm), not a whole kernel
# A configuration fails on a build error or on a warning in a file the
# series touches.  Prints one line per configuration, also to
# results/tip-configs.txt.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

select_kernels patched patched
prepare_tree cross
src=$LAB_TREE
lean=$(kernel_out patched)/.config
[ -f "$lean" ] || die "build the patched kernel first (make build): its .config is the base of nothp"
touched=$(git -C "$src" diff --name-only base..series)

# Options the THP-off cross configurations must have (and THP off).
cross_opts=(MEMORY_HOTPLUG MEMORY_HOTREMOVE SPARSEMEM_VMEMMAP ZONE_DEVICE
	    LIBNVDIMM BLK_DEV_PMEM NVDIMM_PFN FS_DAX EXT4_FS XFS_FS FUSE_FS)
declare -A karch=([arm64]=arm64 [riscv64]=riscv)

configure() {	# configure NAME OUT
	local a o
	case $1 in
	*-nothp)
		a=${1%-nothp}
		kmake_arch "${karch[$a]}" "${LAB_CROSS[${karch[$a]}]}" "$src" "$2" defconfig
		local enable=()
		for o in "${cross_opts[@]}"; do
			enable+=(-e "$o")
		done
		"$src"/scripts/config --file "$2/.config" -d TRANSPARENT_HUGEPAGE "${enable[@]}"
		kmake_arch "${karch[$a]}" "${LAB_CROSS[${karch[$a]}]}" "$src" "$2" olddefconfig
		grep -q '^CONFIG_TRANSPARENT_HUGEPAGE=y' "$2/.config" &&
			die "$1: TRANSPARENT_HUGEPAGE is still set"
		for o in "${cross_opts[@]}"; do
			grep -q "^CONFIG_$o=y" "$2/.config" || die "$1: CONFIG_$o is not set"
		done ;;
	allnoconfig) kmake "$src" "$2" allnoconfig ;;
	nothp)
		cp "$lean" "$2/.config"
		"$src"/scripts/config --file "$2/.config" -d TRANSPARENT_HUGEPAGE
		kmake "$src" "$2" olddefconfig
		grep -q '^CONFIG_TRANSPARENT_HUGEPAGE=y' "$2/.config" &&
			die "nothp: TRANSPARENT_HUGEPAGE is still set"
		# DEV_DAX depends on THP; FS DAX and ZONE_DEVICE do not.
		for o in ZONE_DEVICE FS_DAX; do
			grep -q "^CONFIG_$o=y" "$2/.config" || die "nothp: CONFIG_$o is not set"
		done ;;
	esac
}

mkdir -p "$LAB_RESULTS"
exec > >(tee "$LAB_RESULTS/tip-configs.txt")
printf '%-14s %-6s %s\n' config build "warnings in files the series touches"
bad=0
for cfg in allnoconfig nothp arm64-nothp riscv64-nothp; do
	out=$LAB_BUILD/out/tip-$cfg
	mkdir -p "$out"
	configure "$cfg" "$out" >/dev/null
	case $cfg in
	*-nothp)
		a=${cfg%-nothp}
		build() {
			kmake_arch "${karch[$a]}" "${LAB_CROSS[${karch[$a]}]}" "$src" "$out" mm/ fs/dax.o \
				fs/ext4/ fs/xfs/ fs/fuse/ drivers/nvdimm/ "arch/${karch[$a]}/mm/"
		} ;;
	*)	build() { kmake "$src" "$out" vmlinux; } ;;
	esac
	if build >"$out/build.log" 2>&1; then b=ok; else b=FAIL; bad=1; fi
	new=$(grep -E '(warning|error):' "$out/build.log" | sed -E 's#^[^ :]*linux/##' |
	      grep -F -f <(echo "$touched") | sort -u || true)
	printf '%-14s %-6s %s\n' "$cfg" "$b" "$(grep -c . <<<"$new" || true)"
	if [ -n "$new" ]; then
		sed 's/^/    /' <<<"$new"
		bad=1
	fi
	[ $b = ok ] || note "$cfg: see $out/build.log"
done
exit $bad
