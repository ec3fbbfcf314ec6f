#!/bin/bash
# scan-dmesg.sh DMESG [KERNEL]: fail if a guest dmesg holds a kernel
# warning, BUG, oops, bad page or page-table entry, refcount_t
# saturation, KASAN or lockdep report.  Prints the hits.  On the baseline,
# the messages listed in tests/expectations/known-baseline-dmesg.txt are
# reported but
# tolerated.
set -euo pipefail
here=$(dirname "$0")
pattern='WARNING:|BUG:|Oops|Bad page|bad (pgd|p4d|pud|pmd|pte)|refcount_t:|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|INFO: task .* blocked|KASAN:|kernel BUG'
[ -f "$1" ] || { echo "lab: no dmesg at $1" >&2; exit 1; }
hits=$(grep -En "$pattern" "$1" || true)
[ -n "$hits" ] || exit 0
if [ "${2:-}" = baseline ]; then
	known=$(grep -v '^#' "$here/../tests/expectations/known-baseline-dmesg.txt" | cut -f1 | paste -sd'|')
	grep -E "$known" <<<"$hits" | sed 's/^/known baseline bug: /' >&2 || true
	hits=$(grep -vE "$known" <<<"$hits" || true)
fi
[ -n "$hits" ] || exit 0
echo "$hits" >&2
exit 1
