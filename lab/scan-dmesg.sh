#!/bin/bash
# Fail if a guest dmesg holds a kernel warning, a BUG, an oops, a bad page,
# a refcount_t saturation or a lockdep report.  Prints the hits.
set -euo pipefail
pattern='WARNING:|BUG:|Oops|Bad page|refcount_t:|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|INFO: task .* blocked|KASAN:|kernel BUG'
[ -f "$1" ] || { echo "lab: no dmesg at $1" >&2; exit 1; }
if grep -En "$pattern" "$1" >&2; then
	exit 1
fi
