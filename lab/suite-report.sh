#!/bin/bash
# Judge the suite results of one or both kernels.
#   suite-report.sh KERNEL...    (reads results/<kernel>/<run>/tests/*.tap)
# Prints one row per test and kernel, writes results/contract.md (the
# suite) or results/<run>.md, and ends with "N passed, N failed, N
# skipped", also kept in results/<run>.count.  Exit status 1 on failures.
# LAB_RUN names the run: suite (default) or torture.
#
# Rules: a behavioural test must pass on every kernel.  A contract test
# (name contains "contract_") must FAIL on the baseline; on the patched
# kernel it must pass unless tests/expectations/expected-failures.txt
# lists it, in which case it must still fail (XFAIL) -- an XPASS is a
# failure so the list cannot go stale.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ $# -gt 0 ] || die "usage: suite-report.sh patched|baseline..."

run=${LAB_RUN:-suite}
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
for k in "$@"; do
	check_kernel_name "$k"
	dir=$LAB_RESULTS/$k/$run/tests
	[ -d "$dir" ] || die "no suite results for $k in $dir"
	for tap in "$dir"/*.tap; do
		prog=$(basename "$tap" .tap)
		# "ok N name # SKIP why" / "not ok N name"; a plan without
		# enough results means the program died midway.
		awk -v k="$k" -v p="$prog" '
			/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0 }
			/^(not )?ok / {
				st = ($1 == "ok") ? "PASS" : "FAIL"
				line = $0; why = ""
				if (match(line, / # (SKIP|skip)/)) {
					why = substr(line, RSTART + 8); st = "SKIP"
					line = substr(line, 1, RSTART - 1)
				} else if (match(line, / # /)) {
					why = substr(line, RSTART + 3)
					line = substr(line, 1, RSTART - 1)
				}
				sub(/^(not )?ok [0-9]+ /, "", line)
				printf "%s\t%s:%s\t%s\t%s\n", k, p, line, st, why
				n++
			}
			END {
				if (n == 0 || n < plan)
					printf "%s\t%s:(program)\tFAIL\t%d of %d results, see %s.full\n", k, p, n, plan, p
			}' "$tap"
	done
done >"$rows"

globs() { awk '!/^#/ && NF { print $1 }' "$LAB_TOP/tests/expectations/$1"; }
mapfile -t xfail_globs < <(globs expected-failures.txt)
mapfile -t known_globs < <(globs known-baseline-failures.txt)
matches() {	# matches NAME GLOB...
	local n=$1 g
	shift
	for g in "$@"; do
		# shellcheck disable=SC2053
		[[ $n == $g ]] && return 0
	done
	return 1
}
is_listed() { matches "$1" "${xfail_globs[@]}"; }
is_known_baseline_bug() { matches "$1" "${known_globs[@]}"; }

pass=0 fail=0 skip=0 xfail=0 known=0
table=$LAB_RESULTS/contract.md
[ "$run" = suite ] || table=$LAB_RESULTS/$run.md
{
	echo "| test | kernel | result | verdict |"
	echo "|---|---|---|---|"
} >"$table"
while IFS=$'\t' read -r k name st why; do
	verdict=ok
	if [[ $name == *contract_* ]]; then
		case $k:$st in
		baseline:FAIL) verdict="fails on baseline, as required" ;;
		baseline:PASS) verdict="FAIL: contract test passes on the baseline, so it proves nothing" ;;
		patched:FAIL) if is_listed "$name"; then verdict="XFAIL: rule not changed by the series yet"
			else verdict="FAIL: contract not met by the series"; fi ;;
		patched:PASS) if is_listed "$name"; then verdict="FAIL: XPASS, remove it from tests/expectations/expected-failures.txt"
			else verdict="ok"; fi ;;
		*:SKIP) verdict="skipped: $why" ;;
		esac
	else
		case $st in
		FAIL) if [ "$k" = baseline ] && is_known_baseline_bug "$name"; then
				verdict="known baseline bug, fixed by the series (tests/expectations/known-baseline-failures.txt)"
			else
				verdict="FAIL${why:+: $why}"
			fi ;;
		SKIP) verdict="skipped: $why" ;;
		esac
	fi
	case $verdict in
	FAIL*) fail=$((fail + 1)) ;;
	skipped*) skip=$((skip + 1)) ;;
	XFAIL*) xfail=$((xfail + 1)); pass=$((pass + 1)) ;;
	known*) known=$((known + 1)); pass=$((pass + 1)) ;;
	*) pass=$((pass + 1)) ;;
	esac
	printf '%-70s %-8s %-4s %s\n' "$name" "$k" "$st" "$verdict"
	echo "| $name | $k | $st | $verdict |" >>"$table"
done <"$rows"

echo "$run: $pass passed (of them $xfail expected failures, $known known baseline bugs), $fail failed, $skip skipped; table in $table"
echo "$pass $fail $skip" >"$LAB_RESULTS/$run.count"
[ $fail = 0 ]
