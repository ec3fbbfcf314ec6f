#!/bin/bash
# Unpack Debian's linux-source-6.12 into a git tree (tag "base"), keep a
# baseline worktree at "base", and apply patches/ as commits on "series".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

want=$(cat "$LAB_TOP/patches/BASE")
have=$(installed_source_version)
[ -f "$LAB_SRC_TARBALL" ] ||
	die "$LAB_SRC_TARBALL is missing; install linux-source-6.12 (make deps)"

git_tree() { git -C "$LAB_TREE" -c user.name=lab -c user.email=lab@localhost "$@"; }

if [ ! -d "$LAB_TREE/.git" ]; then
	note "unpacking $LAB_SRC_TARBALL (Debian $have)"
	tmp=$LAB_BUILD/unpack.tmp
	rm -rf "$tmp" && mkdir -p "$tmp"
	tar -C "$tmp" -xf "$LAB_SRC_TARBALL"
	rm -rf "$LAB_TREE"
	mv "$tmp"/linux-source-6.12 "$LAB_TREE"
	rmdir "$tmp"
	git -C "$LAB_TREE" init -q -b series
	git_tree add -A -f  # Debian's .gitignore ignores the whole top level
	git_tree commit -q -m "Debian linux-source-6.12 $have"
	git_tree tag base
	echo "$have" >"$LAB_TREE/.git/lab-base-version"
fi

tree_version=$(cat "$LAB_TREE/.git/lab-base-version")
if [ "$tree_version" != "$want" ]; then
	note "WARNING: patches/BASE is Debian $want but the tree is $tree_version;"
	note "WARNING: applying with a 3-way merge, results may differ from the recorded base"
fi

if [ ! -d "$LAB_BASE_TREE" ]; then
	git_tree worktree add -q --detach "$LAB_BASE_TREE" base
fi

# Re-apply the series only when patches/ changed since the last apply, so
# work committed in the tree but not yet exported is not thrown away.
if [ "$(cat "$LAB_TREE/.git/lab-applied" 2>/dev/null)" = "$(series_stamp)" ]; then
	exit 0
fi
if [ "${LAB_KEEP_TREE:-0}" = 1 ]; then
	note "patches/ differs from the tree, but LAB_KEEP_TREE=1: building the tree as is"
	exit 0
fi
if [ -n "$(git_tree status --porcelain --untracked-files=no)" ]; then
	die "$LAB_TREE has uncommitted changes; commit them and run 'make patches', or reset the tree"
fi
ahead=$(git_tree rev-list --count base..HEAD)
if [ -f "$LAB_TREE/.git/lab-applied" ] && [ "$ahead" -gt 0 ] &&
   [ "$(git_tree rev-parse HEAD)" != "$(cat "$LAB_TREE/.git/lab-head" 2>/dev/null)" ]; then
	die "$LAB_TREE has commits not exported to patches/; run 'make patches' or LAB_KEEP_TREE=1"
fi

mapfile -t series < <(series_patches)
note "applying ${#series[@]} patches from patches/"
git_tree checkout -q -B series base
if [ ${#series[@]} -gt 0 ]; then
	am_opts=()
	[ "$tree_version" = "$want" ] || am_opts+=(--3way)
	if ! git_tree am -q "${am_opts[@]}" "${series[@]}"; then
		failed=$(git_tree am --show-current-patch=raw 2>/dev/null | sed -n 's/^Subject: //p' | head -1)
		git_tree am --abort || true
		[ "$tree_version" = "$want" ] ||
			note "the tree is Debian $tree_version; if $want is installed now, move build/linux and build/linux-baseline away to unpack it"
		die "patch does not apply: $failed"
	fi
fi
record_series
