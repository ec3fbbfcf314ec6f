#!/bin/bash
# Export the series from build/linux (base..series) to patches/ with
# git format-patch --cover-letter.  The cover letter's text is kept in
# patches/0000-cover-letter.patch itself: it is read back as the branch
# description before exporting, so editing that file's prose is how the
# cover letter is changed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$LAB_TREE/.git" ] || die "no tree at $LAB_TREE; run 'make tree' first"
git_tree() { git -C "$LAB_TREE" "$@"; }
[ -z "$(git_tree status --porcelain --untracked-files=no)" ] ||
	die "$LAB_TREE has uncommitted changes; commit them first"
n=$(git_tree rev-list --count base..series)
[ "$n" -gt 0 ] || die "branch series has no commits on top of base"

cover=$LAB_TOP/patches/0000-cover-letter.patch
if [ -f "$cover" ]; then
	# Subject (minus the [PATCH 00/NN] prefix), blank line, body up to
	# the shortlog ("Name (N):").
	desc=$(awk '
		/^Subject: / { sub(/^Subject: \[[^]]*\] */, ""); subj = $0; hdr = 1; next }
		hdr && /^ / { subj = subj $0; next }	# folded header line
		hdr && /^$/ { hdr = 0; body = 1; print subj; print ""; next }
		body && /^[^ ].* \([0-9]+\):$/ { exit }
		body { print }' "$cover")
	git_tree config branch.series.description "$desc"
fi
git_tree config branch.series.description >/dev/null ||
	die "no cover letter text: write patches/0000-cover-letter.patch or set branch.series.description"

rm -f "$LAB_TOP"/patches/[0-9][0-9][0-9][0-9]-*.patch
git_tree format-patch -q --cover-letter --cover-from-description=subject \
	--zero-commit -o "$LAB_TOP/patches" base..series
# The tree now matches patches/: record it so tree.sh does not re-apply.
record_series
note "wrote $n patches and a cover letter to patches/"
