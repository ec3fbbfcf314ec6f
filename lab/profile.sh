#!/bin/bash
# make profile OP=NAME: where the guest instructions of one benchmark go,
# per kernel function, on the baseline and on the patched kernel.
#
#   profile.sh NAME     NAME is a benchmark of bench/benchmarks.txt whose
#                       program marks its windows (fault.*, truncate.*,
#                       punch.*), e.g. fault.devdax-2m
#
#   PROFILE_TOP=N       rows of the table (default 40)
#   KERNEL=patched|baseline|both  (default both)
#   DEBUG=off           the -O2 kernels without the debug options
#
# Each kernel boots once under -icount with lab/insn-profile.c loaded
# into QEMU.  The benchmark calls personality(2) before and after its
# timed loop (or each timed call), and the plugin counts every
# instruction in between, per translation block.  The guest's
# /proc/kallsyms names the blocks.  The table is instructions per
# operation, largest difference first, and is written to
# results/profile[-nodebug]/NAME.md.  The kernels are used as built:
# make bench (or make build) builds them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() { sed -n '4,11s/^# \{0,1\}//p' "$0" >&2; exit 2; }
[ $# = 1 ] || usage
op=$1
[[ $op =~ ^[A-Za-z0-9._-]+$ ]] || die "bad benchmark name '$op'"
# The program is the first word of the benchmark's command.
prog=$(awk -F'|' -v op="$op" '$1 == op { split($2, w, " "); print w[1] }' "$LAB_TOP/bench/benchmarks.txt")
[ -n "$prog" ] || die "no benchmark '$op' in bench/benchmarks.txt (try fault.devdax-2m)"
[ -f "$LAB_TOP/bench/$prog.c" ] && grep -q 'bench_window' "$LAB_TOP/bench/$prog.c" ||
	die "$op does not mark a profile window"
top=${PROFILE_TOP:-40}
[[ $top =~ ^[1-9][0-9]*$ ]] || die "PROFILE_TOP must be a positive number, not '$top'"
select_kernels_baseline_first	# the table subtracts the first
for k in "${kernels[@]}"; do
	[ -f "$(kernel_out "$k")/System.map" ] ||
		die "no $k kernel at $(kernel_out "$k"); run 'make build KERNEL=$k${DEBUG:+ DEBUG=$DEBUG}'"
done

"$LAB_TOP"/lab/deps.sh bench
make -s -C "$LAB_TOP/bench" >/dev/null
# The plugin is host code, loaded by QEMU.
plugin=$LAB_BUILD/lab/insn-profile.so
mkdir -p "${plugin%/*}"
cc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$plugin" "$LAB_TOP/lab/insn-profile.c"
res=$LAB_RESULTS/profile${LAB_CONFIG_SUFFIX:-}
mkdir -p "$res"

# Instructions per operation of each function: every block goes to the
# text symbol at or below its first instruction (hex strings of equal
# length compare like the addresses), user space to [user].
per_function() {
	local kallsyms=$1 blocks=$2 ops=$3
	awk -v ops="$ops" '
		FNR == NR {
			if ($2 !~ /^[tTwW]$/) next
			name = $3 ($4 != "" ? " " $4 : "")
			addr[n] = $1; sym[n++] = name
			next
		}
		/^#/ { next }
		{
			pc = sprintf("%16s", $1); gsub(/ /, "0", pc)
			cost = $2 * $3
			if (pc < "8000000000000000") { f = "[user]" }
			else {
				lo = 0; hi = n - 1; f = "[unknown]"
				while (lo <= hi) {
					mid = int((lo + hi) / 2)
					if (addr[mid] "" <= pc "") { f = sym[mid]; lo = mid + 1 }
					else hi = mid - 1
				}
			}
			total[f] += cost
		}
		END { for (f in total) printf "%s\t%.1f\n", f, total[f] / ops }
	' <(LC_ALL=C sort "$kallsyms") "$blocks"
}

for k in "${kernels[@]}"; do
	out=$(kernel_out "$k")
	marker=$(awk '$3 == "__x64_sys_personality" { print $1 }' "$out/System.map")
	[ -n "$marker" ] || die "no __x64_sys_personality in $out/System.map"
	name=profile-$op
	guest=$LAB_RESULTS/$k/$name
	echo "profile: $op on the $k kernel"
	# shellcheck disable=SC2016	# expanded by the guest's bash
	LAB_QEMU_PLUGIN="$plugin,out=$res/$k-$op.blocks,marker=$marker" \
		"$LAB_TOP"/lab/vm.sh -i -k "$k" -n "$name" -t 1800 -- bash -c \
		'cat /proc/kallsyms >"$LAB_OUT/kallsyms" && BENCH_REPS=3 exec bench/guest/run-bench.sh "$1"' \
		- "$op" >"$res/$k-$op.console" 2>&1 ||
		die "the $k boot failed, see $res/$k-$op.console"
	# Every window the program closed says how many operations it held.
	windows=$(sed -n 's/^# windows //p' "$res/$k-$op.blocks")
	read -r closed ops < <(awk '/^# profile window: [0-9]+ operations$/ { n++; s += $4 }
		END { print n + 0, s + 0 }' "$guest/bench/$op.txt")
	[ "$closed" -gt 0 ] || die "$k: $op did not report its window (see $guest/bench/$op.txt)"
	[ "$windows" = "$closed" ] ||
		die "$k: personality(2) opened ${windows:-0} windows, $op closed $closed"
	per_function "$guest/kallsyms" "$res/$k-$op.blocks" "$ops" >"$res/$k-$op.functions"
	awk '$1 == "result" { print $5 }' "$guest/bench/$op.txt" >"$res/$k-$op.median"
done

functions=() medians=()
for k in "${kernels[@]}"; do
	functions+=("$res/$k-$op.functions")
	medians+=("$res/$k-$op.median")
done

# One table: a row per function, a column per kernel, then the
# difference of the last kernel to the first.
awk -F'\t' -v top="$top" -v op="$op" -v nk=${#kernels[@]} -v names="${kernels[*]}" '
	BEGIN { split(names, kn, " ") }
	FNR == 1 { ki++ }
	FILENAME ~ /\.median$/ { median[ki - nk] = $1; next }
	{ v[$1, ki] = $2; seen[$1] = 1; sum[ki] += $2 }
	END {
		printf "# Instructions per operation of %s, by kernel function\n\n", op
		printf "| function |"; for (i = 1; i <= nk; i++) printf " %s |", kn[i]
		if (nk > 1) printf " %s - %s |", kn[nk], kn[1]
		printf "\n|---|"; for (i = 1; i <= nk + (nk > 1); i++) printf "---:|"; print ""
		printf "| **all (profile)** |"; for (i = 1; i <= nk; i++) printf " %.0f |", sum[i]
		if (nk > 1) printf " %+.0f |", sum[nk] - sum[1]
		printf "\n| **bench median** |"; for (i = 1; i <= nk; i++) printf " %s |", median[i]
		if (nk > 1) printf " |"
		print ""
		# Rows by |difference| (by cost with one kernel), largest first.
		fflush()
		rows = "sort -t \"\t\" -k1,1gr | head -n " top " | cut -f2-"
		for (f in seen) {
			d = v[f, nk] - v[f, 1]; key = nk > 1 ? d : v[f, 1]
			row = sprintf("| %s |", f)
			for (j = 1; j <= nk; j++) row = row sprintf(" %.1f |", v[f, j])
			if (nk > 1) row = row sprintf(" %+.1f |", d)
			print (key < 0 ? -key : key) "\t" row | rows
		}
		close(rows)
	}
' "${functions[@]}" "${medians[@]}" | tee "$res/$op.md"
