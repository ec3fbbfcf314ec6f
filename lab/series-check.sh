#!/bin/bash
# make series-check: apply patches/ one at a time to a clean tree of the
# recorded Debian source, build the lean x86_64 kernel after each, run
# checkpatch --strict on each, and print a table.  A checkpatch complaint
# is accepted only with a justification line in patches/CHECKPATCH
# ("NNNN reason"); the first patch that does not build is reported.
# A tree that already built cleanly (same git tree hash) is not built
# again, so an interrupted run resumes where it stopped.  The table also
# goes to results/series-check.txt as it grows.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

select_kernels both both
prepare_tree
# The check tree mirrors the baseline build's layout (linux-baseline and
# out/baseline under its own ccache base directory), so compiling the
# pristine source is a ccache hit on the objects of `make build
# KERNEL=baseline` instead of a cold build.
top=$LAB_BUILD/series-check
wt=$top/linux-baseline
out=$top/out/baseline
export CCACHE_BASEDIR=$top
# Work on a copy, so that patches/ can be regenerated during the run.
rm -rf "$top/queue"
mkdir -p "$top/queue"
mapfile -t series < <(series_patches)
[ ${#series[@]} -gt 0 ] || die "patches/ holds no patches"
cp "${series[@]}" "$top/queue/"
mapfile -t series < <(find "$top/queue" -name '*.patch' | sort)
[ -d "$wt" ] || git -C "$LAB_TREE" worktree add -q --detach "$wt" base
git -C "$wt" checkout -q --detach base
git -C "$wt" reset -q --hard base
mkdir -p "$out"
cp "$(kernel_out baseline)/.config" "$out/.config" 2>/dev/null ||
	die "build the baseline kernel first (make build KERNEL=baseline): its .config is reused"

kbuild() { kmake "$wt" "$out" olddefconfig bzImage; }
# Warnings the pristine source already has are not the series' fault.
# make only shows those of the files it compiles, so keep the union of
# all runs (the base tree is always the same).
# The first time, compile every object (ccache replays the warnings).
[ -f "$out/base.warnings" ] || find "$out" -name '*.o' -delete
touch "$out/base.warnings"
kbuild >"$out/base.log" 2>&1 || die "the base tree does not build (see $out/base.log)"
warning_lines "$out/base.log" | sort -u - "$out/base.warnings" >"$out/base.warnings.new"
mv "$out/base.warnings.new" "$out/base.warnings"

# One stamp per source tree that built without new warnings.
stamps=$top/built-ok
mkdir -p "$stamps" "$LAB_RESULTS"
table=$LAB_RESULTS/series-check.txt
row() { printf '%-62s %-14s %s\n' "$@" | tee -a "$table"; }

justified() { grep -q "^${1%%-*} " "$LAB_TOP/patches/CHECKPATCH" 2>/dev/null; }
: >"$table"
row patch build checkpatch
bad=0 broken=
for p in "${series[@]}"; do
	name=$(basename "$p" .patch)
	git -C "$wt" -c user.name=lab -c user.email=lab@localhost am -q "$p" ||
		{ git -C "$wt" am --abort; die "$name does not apply"; }
	tree=$(git -C "$wt" rev-parse 'HEAD^{tree}')
	if [ -e "$stamps/$tree" ]; then
		b="ok (earlier)"
	elif kbuild >"$out/$name.log" 2>&1 &&
	   [ -z "$(warning_lines "$out/$name.log" | comm -13 "$out/base.warnings" -)" ]; then
		b=ok
		touch "$stamps/$tree"
	else
		b=FAIL; bad=1; broken=${broken:-$name}
	fi
	# From inside the kernel tree: run elsewhere, checkpatch takes git
	# state of the current directory into account.
	cp=$(cd "$wt" && ./scripts/checkpatch.pl --strict --quiet --no-summary "$p" 2>&1 |
		grep -cE '^(ERROR|WARNING|CHECK):' || true)
	if [ "$cp" = 0 ]; then c=clean
	elif justified "$name"; then c="$cp issues, justified in patches/CHECKPATCH"
	else c="$cp issues"; bad=1; fi
	row "$name" "$b" "$c"
done
[ -z "$broken" ] || note "first patch that does not build cleanly: $broken (log in $out/$broken.log)"
exit $bad
