#!/bin/bash
# Judge the mm selftests of one or both kernels (lab/selftests.sh).
#   selftests-report.sh KERNEL...
# Reads results/<kernel>/<run>/mm/<category>.log (run: MM_RUN, default
# selftests), writes the table results/<run>.md (one row per test, a
# column per kernel) and prints the differences.  The rule: every test
# that passes on the baseline passes on the series, and the series'
# guest dmesg has no report the baseline's lacks.  Exit status 1 when
# the rule is broken or a kernel's run is missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
[ $# -gt 0 ] || die "usage: selftests-report.sh patched|baseline..."

run=${MM_RUN:-selftests}
rows=$(mktemp) subs=$(mktemp)
trap 'rm -f "$rows" "$subs"' EXIT
for k in "$@"; do
	check_kernel_name "$k"
	dir=$LAB_RESULTS/$k/$run/mm
	[ -d "$dir" ] || die "no mm selftest results for $k in $dir"
	for log in "$dir"/*.log; do
		cat=$(basename "$log" .log)
		case $cat in env | hmm-direct) continue ;; esac
		# run_vmtests.sh: "# running CMD" opens a test, "ok N CMD
		# [# SKIP]" or "not ok N CMD # exit=R" closes it.  The reason
		# is the last line of the test's output that says skip, else
		# its last line.
		awk -v k="$k" -v c="$cat" -v subs="$subs" '
			/^# running / { why = ""; skipwhy = ""; subskip = ""; red = 0; redwhy = ""; sp = sf = ss = 0; n++; next }
			# khugepaged prints failed checks in red and exits with
			# their count, so four failures read as KSFT_SKIP (4).
			/\033\[31m/ { if (!red++) { redwhy = substr($0, 3); gsub(/\033\[[0-9;]*m/, "", redwhy) } }
			/^# -+$/ || /^# \[(PASS|SKIP|FAIL)\]$/ { next }
			/^# exit status / { status = $4; next }
			# A subtest of the program (its own TAP, indented by "# ").
			/^# (not )?ok [0-9]+ / {
				# Keep the number: names such as "Should have
				# worked" repeat, the order does not change.
				# Figures inside a name ("Extra pages 6") vary from run
				# to run: they are not part of it.
				t = substr($0, 3); sst = ($1 == "#" && $2 == "ok") ? "PASS" : "FAIL"
				sub(/^(not )?ok /, "", t)
				num = t; sub(/ .*/, "", num); sub(/^[0-9]+ ?/, "", t)
				gsub(/[0-9]+(\.[0-9]+)?/, "N", t); t = "#" num " " t
				if (match(t, / # [Ss][Kk][Ii][Pp]/)) {
					sst = "SKIP"
					if (subskip == "") subskip = substr(t, RSTART + 8)
					t = substr(t, 1, RSTART - 1)
				}
				sub(/ # .*/, "", t)
				if (sst == "PASS") sp++; else if (sst == "FAIL") sf++; else ss++
				sub_[++nsub] = t "\t" sst
			}
			/^# / { line = substr($0, 3); gsub(/\t/, " ", line)
				if (line != "") why = line
				if (line ~ /[Ss][Kk][Ii][Pp]/) skipwhy = line
				next }
			/^(not )?ok [0-9]+ / {
				st = ($1 == "ok") ? "PASS" : "FAIL"
				name = $0; sub(/^(not )?ok [0-9]+ /, "", name)
				if (match(name, / # SKIP$/)) { st = "SKIP"; name = substr(name, 1, RSTART - 1) }
				sub(/ # exit=[0-9]+$/, "", name)
				gsub(/\/tmp\/[^ ]*/, "/tmp/DIR", name)	# mktemp names
				if (st == "SKIP" && red) {
					st = "FAIL"; skipwhy = ""
					why = sprintf("exit status 4 is its count of %d failed checks, not a skip; first: %s", red, redwhy)
				}
				r = (st == "SKIP" && skipwhy != "") ? skipwhy : why
				if (st == "PASS") r = ""
				if (st == "PASS" && ss) r = "subtests skipped, e.g.: " subskip
				if (length(r) > 110) r = substr(r, 1, 107) "..."
				cnt = (sp + sf + ss) ? sprintf("%d/%d/%d", sp, sf, ss) : ""
				printf "%s\t%s: %s\t%s\t%s\t%s\n", k, c, name, st, r, cnt
				for (i = 1; i <= nsub; i++)
					printf "%s\t%s: %s: %s\n", k, c, name, sub_[i] >> subs
				nsub = 0
				done++
			}
			END {
				if (status == 124 || status == 137)
					printf "%s\t%s: (category)\tFAIL\ttimed out after %d of its tests\t\n", k, c, done
				else if (done == 0)
					printf "%s\t%s: (category)\tFAIL\tno result (exit status %s)\t\n", k, c, status
			}' "$log"
	done
	# The hmm category's direct run of hmm-tests (tests/guest/run-mm-selftests.sh).
	if [ -f "$dir/hmm-direct.log" ]; then
		st=FAIL
		grep -qx '# exit status 0' "$dir/hmm-direct.log" && st=PASS
		printf '%s\thmm: hmm-tests (run directly, test_hmm built in)\t%s\t%s\n' "$k" "$st" \
			"$(grep -m1 '^# Totals' "$dir/hmm-direct.log" || echo 'no totals')"
		awk -v k="$k" '/^(not )?ok [0-9]+ / {
			st = ($1 == "ok") ? "PASS" : "FAIL"; t = $0
			sub(/^(not )?ok [0-9]+ /, "", t)
			if (t ~ / # SKIP/) st = "SKIP"
			sub(/ # .*/, "", t)
			printf "%s\thmm: hmm-tests: %s\t%s\n", k, t, st }' "$dir/hmm-direct.log" >>"$subs"
	fi
done >"$rows"

md=$LAB_RESULTS/$run.md
bad=0
{
	echo "# mm selftests (tools/testing/selftests/mm, run_vmtests.sh)"
	echo
	echo "Each kernel built from its own tree, lean lab config + lab/configs/selftests.config,"
	echo "in a TCG guest.  Rule: every test that passes on the baseline passes on"
	echo "the series."
	echo
	for k in "$@"; do
		printf '%s %s\n\n' "$k" "$(sed 's/^# //' "$LAB_RESULTS/$k/$run/mm/env.log" 2>/dev/null || echo 'guest: (no env.log)')"
	done
	echo "A program's subtests (its own TAP) are counted as passed/failed/skipped"
	echo "per kernel; the rule holds for them too."
	echo
	printf '| test |'; for k in "$@"; do printf ' %s | subtests |' "$k"; done; echo ' why (fail or skip) |'
	printf '|---|'; for _ in "$@"; do printf -- '---|---|'; done; echo '---|'
	cut -f2 "$rows" | awk '!seen[$0]++' | while IFS= read -r t; do
		printf '| %s |' "$t"
		why=""
		for k in "$@"; do
			r=$(awk -F'\t' -v k="$k" -v t="$t" '$1 == k && $2 == t' "$rows" | head -1)
			st=$(cut -f3 <<<"$r")
			printf ' %s | %s |' "${st:-(none)}" "$(cut -f5 <<<"$r")"
			w=$(cut -f4 <<<"$r")
			[ -z "$w" ] || why+="${why:+; }$k: $w"
		done
		echo " ${why//|/\\|} |"
	done
	echo
	for k in "$@"; do
		printf '%s: %s passed, %s failed, %s skipped\n\n' "$k" \
			"$(awk -F'\t' -v k="$k" '$1 == k && $3 == "PASS"' "$rows" | wc -l)" \
			"$(awk -F'\t' -v k="$k" '$1 == k && $3 == "FAIL"' "$rows" | wc -l)" \
			"$(awk -F'\t' -v k="$k" '$1 == k && $3 == "SKIP"' "$rows" | wc -l)"
	done
} >"$md"

for k in "$@"; do
	grep "^$k	" "$rows" >/dev/null || { note "no results for $k"; bad=1; }
	printf '%s: ' "$k"; tail -n +2 "$md" | grep "^$k: " | head -1 | cut -d' ' -f2-
done

# Differences between the kernels, and the rule.
if [ $# = 2 ]; then
	base=baseline pat=patched
	echo "differences (baseline -> patched):"
	join -t$'\t' -a1 -a2 -e '(none)' -o 0,1.2,2.2 \
		<(awk -F'\t' -v k=$base '$1 == k { print $2 "\t" $3 }' "$rows" | sort) \
		<(awk -F'\t' -v k=$pat '$1 == k { print $2 "\t" $3 }' "$rows" | sort) |
		awk -F'\t' '$2 != $3 { print "  " $1 ": " $2 " -> " $3 }'
	regress=$(join -t$'\t' -a1 -e '(none)' -o 0,1.2,2.2 \
		<(awk -F'\t' -v k=$base '$1 == k && $3 == "PASS" { print $2 "\tPASS" }' "$rows" | sort) \
		<(awk -F'\t' -v k=$pat '$1 == k { print $2 "\t" $3 }' "$rows" | sort) |
		awk -F'\t' '$3 != "PASS" { print $1 }')
	# Subtests: a program can run several times in a category (with other
	# arguments each time), so compare how many times each passes.
	subreg=$(awk -F'\t' -v b=$base -v p=$pat '
		$3 == "PASS" { n[$1 "\t" $2]++; names[$2] = 1 }
		END { for (t in names) if (n[b "\t" t] > n[p "\t" t])
			printf "%s (passes %d times on the baseline, %d on the series)\n", t, n[b "\t" t], n[p "\t" t] }' "$subs" | sort)
	regress+=${subreg:+${regress:+$'\n'}$subreg}
	# Programs listed as flaky on both kernels, subtests included.
	flaky=$(awk -F'\t' '!/^#/ && NF { print $1 }' "$LAB_TOP/tests/expectations/mm-selftests-flaky.txt")
	if [ -n "$regress" ] && [ -n "$flaky" ]; then
		# The program itself, and its subtests ("program: #N ...").
		listed=$({ grep -xF -f <(echo "$flaky") <<<"$regress"
			   grep -F -f <(sed 's/$/: #/' <<<"$flaky") <<<"$regress"; } || true)
		if [ -n "$listed" ]; then
			echo "listed as flaky on both kernels (tests/expectations/mm-selftests-flaky.txt), not counted:" | tee -a "$md"
			sed 's/^/    /' <<<"$listed" | tee -a "$md"
			echo >>"$md"
			regress=$(grep -vxF -f <(echo "$listed") <<<"$regress" || true)
		fi
	fi
	if [ -n "$regress" ]; then
		echo "REGRESSION: passes on the baseline, not on the series:"
		sed 's/^/  /' <<<"$regress"
		bad=1
	fi
fi

# dmesg: the guest's reports, normalised; the series may add none.
hits() {
	local f=$LAB_RESULTS/$1/$run/dmesg
	[ -f "$f" ] || { echo "no dmesg: the guest did not finish"; return; }
	"$LAB_TOP"/lab/scan-dmesg.sh "$f" 2>&1 | sed -E 's/^[0-9]+:\[ *[0-9.]+\] //; s/ *\[[^]]*\]$//; s/(CPU|PID): [0-9]+/\1: N/g' | sort -u || true
}
for k in "$@"; do
	h=$(hits "$k")
	if [ -z "$h" ]; then
		echo "guest dmesg of $k: clean" | tee -a "$md"
	else
		echo "guest dmesg of $k: $(wc -l <<<"$h") report line(s):" | tee -a "$md"
		sed 's/^/    /' <<<"$h" | tee -a "$md"
	fi
	echo >>"$md"
done
if [ $# = 2 ]; then
	new=$(comm -13 <(hits baseline) <(hits patched) || true)
	if [ -n "$new" ]; then
		echo "REGRESSION: dmesg reports on the series only:"
		sed 's/^/  /' <<<"$new"
		bad=1
	fi
fi
echo "table: $md"
exit $bad
