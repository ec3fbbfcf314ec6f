#!/bin/bash
# make tip-configs: build the tip of the series in configurations the lab
# kernel does not cover, each in its own O= directory:
#   allnoconfig  x86_64 allnoconfig: no ZONE_DEVICE, no DAX, no THP
#   nothp        the lab config with TRANSPARENT_HUGEPAGE off: FS DAX and
#                ZONE_DEVICE without PMD or PUD mappings (device DAX
#                needs THP, so it goes)
# A configuration fails on a build error or on a warning in a file the
# series touches.  Prints one line per configuration, also to
# results/tip-configs.txt.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

select_kernels patched patched
prepare_tree
src=$LAB_TREE
lean=$(kernel_out patched)/.config
[ -f "$lean" ] || die "build the patched kernel first (make build): its .config is the base of nothp"
touched=$(git -C "$src" diff --name-only base..series)

configure() {	# configure NAME OUT
	case $1 in
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
printf '%-12s %-6s %s\n' config build "warnings in files the series touches"
bad=0
for cfg in allnoconfig nothp; do
	out=$LAB_BUILD/out/tip-$cfg
	mkdir -p "$out"
	configure "$cfg" "$out" >/dev/null
	if kmake "$src" "$out" vmlinux >"$out/build.log" 2>&1; then b=ok; else b=FAIL; bad=1; fi
	new=$(grep -E '(warning|error):' "$out/build.log" | sed -E 's#^[^ :]*linux/##' |
	      grep -F -f <(echo "$touched") | sort -u || true)
	printf '%-12s %-6s %s\n' "$cfg" "$b" "$(grep -c . <<<"$new" || true)"
	if [ -n "$new" ]; then
		sed 's/^/    /' <<<"$new"
		bad=1
	fi
	[ $b = ok ] || note "$cfg: see $out/build.log"
done
exit $bad
