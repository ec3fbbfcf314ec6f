#!/bin/bash
# make distro-configs: Debian's own 6.12 kernel configs, baseline against
# patched.  For each config:
#  - olddefconfig on both trees; no option may disappear or change except
#    the symbols the series removes by design (DESIGN_GONE below);
#  - unless DISTRO_BUILD=0, the objects the series touches are built on
#    both trees: the directories it changes, the top level of fs/, every
#    .c file it changes and every .c file that uses an identifier it
#    removes or changes (objects a config does not select are not built);
#    errors and warnings that only the patched tree has are listed.
# Slow (cross builds of distribution configs): not part of CI.  Table in
# results/distro-configs.txt.
#   distro-configs.sh [CONFIG...]   e.g. arm64_rt_arm64 (default: all)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

select_kernels both both
[ "$(id -u)" = 0 ] || die "distro-configs needs root: it adds dpkg architectures to download Debian's linux-config-6.12 packages"
prepare_tree cross

dir=$LAB_BUILD/distro
mkdir -p "$dir/debs" "$dir/configs" "$LAB_RESULTS"

# Symbols the series removes on purpose; their disappearance is expected.
DESIGN_GONE='CONFIG_ARCH_HAS_PTE_DEVMAP'
# Identifiers the series removes or whose signature it changes: every .c
# file that uses one is built.
CHANGED_IDS='pte_devmap|pmd_devmap|pud_devmap|pgd_devmap|pte_mkdevmap|pmd_mkdevmap|pud_mkdevmap|pfn_t_devmap|PFN_DEV|_PAGE_DEVMAP|PTE_DEVMAP|put_devmap_managed|devmap_managed_key|vmf_insert_pfn_pmd|vmf_insert_pfn_pud|dax_layout_busy_page|dax_break_layout|dax_wait_page_idle|zone_device_page_init|pgmap->type|page->pgmap|ARCH_HAS_PTE_DEVMAP|FS_DAX_LIMITED|pudp_huge_get_and_clear|change_huge_pud'

# Debian arch -> kernel ARCH (its cross compiler: LAB_CROSS).
declare -A karch=([amd64]=x86 [arm64]=arm64 [ppc64el]=powerpc [riscv64]=riscv [s390x]=s390)

# apt-get or apt-cache ($2) on Debian 13 (trixie) package lists for
# architecture $1, kept in an apt state of their own so that the host's
# sources are untouched: riscv64 is a Debian 13 architecture, and s390x's
# packages are only had from there.
trixie_apt() {
	local arch=$1 cmd=$2 a=$dir/apt-trixie-$1
	shift 2
	mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
	echo "deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$a/sources.list"
	"$cmd" -q -o Dir::Etc::SourceList="$a/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
		-o Dir::State::Lists="$a/lists" -o Dir::Cache="$a/cache" \
		-o APT::Architectures::="$arch" "$@"
}

# When linux-config-6.12 can't be had for $1, the .config of Debian 13's
# newest linux-headers-6.12.*-FLAVOUR package that downloads is the same
# config, resolved; it becomes config.ARCH_none_FLAVOUR.  Only packages
# of the plain featureset ("none") match: not -rt-, -cloud-, -common.
fetch_headers_config() {
	local arch=$1 pkg deb flavour
	trixie_apt "$arch" apt-get update >/dev/null 2>&1 || return 0
	for pkg in $(trixie_apt "$arch" apt-cache pkgnames linux-headers-6.12. 2>/dev/null |
			grep -E '^linux-headers-6\.12\.[0-9]+\+deb[0-9]+-[a-z0-9]+$' |
			grep -v -- '-common$' | sort -rV); do
		deb=$(find "$dir/debs" -name "${pkg}_*_$arch.deb" | head -1)
		if [ -z "$deb" ]; then
			(cd "$dir/debs" && trixie_apt "$arch" apt-get download "$pkg:$arch" >/dev/null 2>&1) || continue
			deb=$(find "$dir/debs" -name "${pkg}_*_$arch.deb" | head -1)
		fi
		[ -n "$deb" ] || continue
		flavour=${pkg##*-}
		dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards "./usr/src/$pkg/.config" \
			>"$dir/configs/config.${arch}_none_$flavour"
		echo "$arch $(basename "$deb") (its .config: linux-config-6.12 could not be downloaded)" >>"$dir/versions"
		return 0
	done
}

# Download linux-config-6.12 for each architecture once; note what the
# archive does not have.
fetch() {
	local arch=$1 deb
	deb=$(find "$dir/debs" -name "linux-config-6.12_*_$arch.deb" | head -1)
	if [ -z "$deb" ]; then
		if [ "$arch" = riscv64 ] || [ "$arch" = s390x ]; then
			trixie_apt "$arch" apt-get update >/dev/null 2>&1 || true
			(cd "$dir/debs" && trixie_apt "$arch" apt-get download "linux-config-6.12:$arch" >/dev/null 2>&1) || true
		else
			dpkg --print-foreign-architectures | grep -qx "$arch" || [ "$arch" = amd64 ] || {
				dpkg --add-architecture "$arch"
				apt-get update -q >/dev/null
			}
			(cd "$dir/debs" && apt-get download "linux-config-6.12:$arch" >/dev/null 2>&1) || true
		fi
		deb=$(find "$dir/debs" -name "linux-config-6.12_*_$arch.deb" | head -1)
	fi
	if [ -z "$deb" ]; then
		fetch_headers_config "$arch"
		grep -q "^$arch " "$dir/versions" ||
			echo "$arch: neither linux-config-6.12 nor a linux-headers-6.12 package downloads from the archives this host reaches" >>"$dir/unavailable"
		return
	fi
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$dir" ./usr/src/linux-config-6.12/
	local f
	for f in "$dir"/usr/src/linux-config-6.12/config.*.xz; do
		xz -dc "$f" >"$dir/configs/$(basename "${f%.xz}")"
	done
	echo "$arch $(basename "$deb")" >>"$dir/versions"
}

: >"$dir/unavailable"
: >"$dir/versions"
for arch in amd64 arm64 ppc64el riscv64 s390x; do
	fetch "$arch"
done

configs=("$@")
if [ ${#configs[@]} -eq 0 ]; then
	mapfile -t configs < <(find "$dir/configs" -name 'config.*' -printf '%f\n' | sed 's/^config\.//' | sort)
fi
[ ${#configs[@]} -gt 0 ] || die "no Debian config could be had (see $dir/unavailable)"

# The objects to build for kernel ARCH $1.
objects() {
	local ka=$1 f
	echo mm/ fs/ext2/ fs/ext4/ fs/xfs/ fs/fuse/ fs/erofs/ drivers/dax/ drivers/nvdimm/ \
		drivers/pci/ drivers/gpu/drm/nouveau/ drivers/xen/ lib/ "arch/$ka/mm/"
	[ "$ka" != s390 ] || echo drivers/s390/block/
	{
		git -C "$LAB_TREE" ls-tree --name-only base fs/ | grep '\.c$'
		git -C "$LAB_TREE" diff --name-only base..series -- '*.c'
		git -C "$LAB_TREE" grep -l -E "$CHANGED_IDS" base -- '*.c' | sed 's/^base://'
	} | sort -u | grep -Ev '^(mm|fs/(ext2|ext4|xfs|fuse|erofs)|drivers/(dax|nvdimm|pci|xen|gpu/drm/nouveau)|lib|tools|samples|Documentation)/' |
		while read -r f; do
			case $f in
			arch/"$ka"/*) ;;
			arch/*) continue ;;
			esac
			echo "${f%.c}.o"
		done
}

# Configure and (unless DISTRO_BUILD=0) build config $1 on kernel $2.
run_one() {
	local name=$1 kernel=$2 arch=${1%%_*} src out
	src=$(kernel_src "$kernel")
	out=$LAB_BUILD/out/distro-$name-$kernel
	mkdir -p "$out"
	local mk=(kmake_arch "${karch[$arch]}" "${LAB_CROSS[${karch[$arch]}]:-}" "$src" "$out")
	cp "$dir/configs/config.$name" "$out/.config"
	"${mk[@]}" olddefconfig >/dev/null 2>"$out/config.log"
	[ "${DISTRO_BUILD:-1}" = 0 ] && return
	# Every object again, so each run sees all warnings (ccache replays).
	find "$out" -name '*.o' -delete
	# shellcheck disable=SC2046
	"${mk[@]}" -k $(objects "${karch[$arch]}") >"$out/objs.log" 2>&1 || true
}

options() { grep -E '^(CONFIG_[A-Z0-9_]+=|# CONFIG_[A-Z0-9_]+ is not set)' "$1" | sort; }

# One block per config in $dir/rows, tagged with the series tree it was
# made from, so that configs checked in separate runs add up to one table.
tree=$(git -C "$LAB_TREE" rev-parse 'series^{tree}')
mkdir -p "$dir/rows"
header() { printf '%-30s %-28s %-8s %-8s %s\n' config "options lost/changed" baseline patched "new in patched"; }
# The table: every config checked so far; a block made from an older
# series tree says so.  Written after each config, so that a run that is
# stopped still leaves the rows it made in it.
write_table() {
	{
		header
		for f in "$dir"/rows/*.txt; do
			[ -f "$f" ] || continue
			if [ "$(head -1 "$f")" = "tree $tree" ]; then
				tail -n +2 "$f"
			else
				tail -n +2 "$f" | sed '1s/$/   (from an older series tree: run again)/'
			fi
		done
		sed 's/^/packages: /' "$dir/versions"
		sed 's/^/not available: /' "$dir/unavailable"
	} >"$LAB_RESULTS/distro-configs.txt"
}

header
bad=0
for name in "${configs[@]}"; do
	[ -f "$dir/configs/config.$name" ] ||
		die "no Debian config '$name' (have: $(find "$dir/configs" -name 'config.*' -printf '%f ' | sed 's/config\.//g'))"
	run_one "$name" baseline
	run_one "$name" patched
	b=$LAB_BUILD/out/distro-$name-baseline
	p=$LAB_BUILD/out/distro-$name-patched
	lost=$(comm -23 <(options "$b/.config") <(options "$p/.config") | grep -Ev "^(# )?($DESIGN_GONE)[= ]" || true)
	gone=$(comm -23 <(options "$b/.config") <(options "$p/.config") | grep -E "^(# )?($DESIGN_GONE)[= ]" | cut -d= -f1 | paste -sd' ' || true)
	nlost=$(grep -c . <<<"$lost" || true)
	if [ "${DISTRO_BUILD:-1}" = 0 ]; then
		bw=- pw=- new=-
	else
		wb=$(warning_lines "$b/objs.log")
		wp=$(warning_lines "$p/objs.log")
		bw="$(grep -c . <<<"$wb" || true)"
		pw="$(grep -c . <<<"$wp" || true)"
		new=$(comm -13 <(echo "$wb") <(echo "$wp") | grep -c . || true)
	fi
	{
		printf '%-30s %-28s %-8s %-8s %s\n' "$name" "$nlost${gone:+ (by design: $gone)}" "$bw" "$pw" "$new"
		# shellcheck disable=SC2001	# one prefix per line
		[ "$nlost" = 0 ] || sed 's/^/    lost: /' <<<"$lost"
		if [ "$new" != - ] && [ "$new" != 0 ]; then
			comm -13 <(echo "$wb") <(echo "$wp") | sed 's/^/    /'
		fi
		z=$(grep -E '^CONFIG_(ZONE_DEVICE|FS_DAX|DEV_DAX|TRANSPARENT_HUGEPAGE)=' "$p/.config" | sed 's/^CONFIG_//' | paste -sd' ' || true)
		echo "    patched has: ${z:-none of ZONE_DEVICE, FS_DAX, DEV_DAX, TRANSPARENT_HUGEPAGE}"
		[ "$bw" = - ] || echo "    objects built: $(find "$p" -name '*.o' | wc -l)"
	} | tee "$dir/rows/$name.txt.new"
	{ echo "tree $tree"; cat "$dir/rows/$name.txt.new"; } >"$dir/rows/$name.txt"
	rm -f "$dir/rows/$name.txt.new"
	{ [ "$nlost" = 0 ] && { [ "$new" = - ] || [ "$new" = 0 ]; }; } || bad=1
	write_table
done

echo "table: $LAB_RESULTS/distro-configs.txt"
exit $bad
