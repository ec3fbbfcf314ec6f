#!/bin/bash
# Guest side of "make bench": runs every benchmark of bench/benchmarks.txt
# once, in order, and writes
#   $LAB_OUT/bench/<name>.txt   the benchmark's full output
#   $LAB_OUT/bench/results.txt  one line per benchmark:
#                               "result NAME UNIT MIN MEDIAN MAX K" or
#                               "na NAME REASON"
# It only measures; lab/bench.sh on the host compares the kernels.
#   run-bench.sh [PATTERN...]   run only the benchmarks whose name matches
#                               one of the shell globs, e.g. 'fault.*'
# BENCH_REPS=K sets the repetitions per benchmark (default 5).
set -uo pipefail
. /run/lab/env
bin=$LAB_TOP/build/bench
gup_test=$LAB_TOP/build/tests/gup_test
out=$LAB_OUT/bench
results=$out/results.txt
K=${BENCH_REPS:-5}
mkdir -p "$out"
: >"$results"

# References: shmem without and with huge pages.  /dev/shm is a plain
# tmpfs (4K pages); a second tmpfs with huge=always gives PMD-mapped
# shmem, the normal-page counterpart of a 2M DAX fault.
export BENCH_SHM_DIR=/dev/shm BENCH_SHMTHP_DIR=/run/bench-thp
mkdir -p "$BENCH_SHMTHP_DIR"
mount -t tmpfs -o huge=always,size=1G tmpfs "$BENCH_SHMTHP_DIR" ||
	unset BENCH_SHMTHP_DIR

patterns=("$@")
selected() {
	local p
	[ ${#patterns[@]} -eq 0 ] && return 0
	for p in "${patterns[@]}"; do
		# shellcheck disable=SC2053	# $p is a glob on purpose
		[[ $1 == $p ]] && return 0
	done
	return 1
}

start() {
	echo "bench: start $1" >/dev/kmsg
	echo "bench: running $1"
	t0=$(date +%s%N)
}

# Record the result line of NAME from its log, or say why there is none:
# a benchmark that crashes or hangs is "n/a", never fatal.
record() {
	local name=$1 rc=$2 line
	line=$(grep -E "^(result|na) $name " "$out/$name.txt" | tail -n 1)
	if [ -z "$line" ]; then
		case $rc in
		124 | 137) line="na $name timed out after ${BENCH_TIMEOUT:-300}s" ;;
		*) line="na $name exited with status $rc without a result" ;;
		esac
	fi
	echo "$line" >>"$results"
	echo "bench: $line [$((($(date +%s%N) - t0) / 1000000)) ms guest time]"
	# No leftovers from a crashed program; freed blocks committed.
	rm -f "$LAB_EXT4_DIR"/bench.* "$LAB_XFS_DIR"/bench.* "$BENCH_SHM_DIR"/bench.* \
	      ${BENCH_SHMTHP_DIR:+"$BENCH_SHMTHP_DIR"/bench.*} 2>/dev/null
	sync
}

# run NAME PROGRAM ARGS...: one of the bench/ programs, which prints its
# own result line.
run() {
	local name=$1 prog=$2 rc
	shift 2
	selected "$name" || return 0
	start "$name"
	timeout -k 5 "${BENCH_TIMEOUT:-300}" "$bin/$prog" -n "$name" -k "$K" "$@" \
		>"$out/$name.txt" 2>&1
	rc=$?
	record "$name" "$rc"
}

# gup NAME FLAG MB dir|dev PATH: the kernel tree's gup_test benchmark FLAG
# (-u GUP_FAST_BENCHMARK, -a PIN_FAST_BENCHMARK, -L PIN_LONGTERM_BENCHMARK)
# on a shared mapping of MB megabytes of a file in directory PATH or of
# device PATH.  It prints "Time: get:G put:P us" per repetition; the first
# one is a warm-up.  Result: get + put in ns per 4K page.
gup() {
	local name=$1 flag=$2 mb=$3 kind=$4 path=$5 file rc=0
	local batch=${BENCH_GUP_BATCH:-512}
	selected "$name" || return 0
	start "$name"
	case $kind in
	dev) file=$path ;;
	*) file=$path/bench.gup ;;
	esac
	{
		if [ ! -x "$gup_test" ]; then
			echo "na $name no $gup_test (make -C tests builds it)"
		elif [ -z "$path" ]; then
			echo "na $name the lab did not provide the device or directory"
		elif [ "$kind" = dir ] && ! fallocate -l "${mb}M" "$file"; then
			echo "na $name cannot allocate ${mb}M in $path"
		else
			echo "# gup_test $flag -S -n $batch -m $mb -r $((K + 1)) -f $file"
			timeout -k 5 "${BENCH_TIMEOUT:-300}" "$gup_test" "$flag" -S \
				-n "$batch" -m "$mb" -r $((K + 1)) -f "$file" 2>&1
			rc=$?
			echo "# exit status $rc"
		fi
	} >"$out/$name.raw"
	awk -v name="$name" -v pages=$((mb * 256)) -v rc="$rc" '
		{ print }
		/^na / { na = 1 }
		/Time: get:/ {
			if (++n == 1) next	# warm-up
			get = $0; sub(/.*get:/, "", get); sub(/ .*/, "", get)
			put = $0; sub(/.*put:/, "", put); sub(/ .*/, "", put)
			v[n - 1] = (get + put) * 1000 / pages
		}
		/truncated/ { trunc = 1 }
		/^not ok/ && bad == "" { bad = $0 }
		END {
			m = n - 1
			if (na) exit
			if (bad != "") { print "na", name, "gup_test:", bad; exit }
			if (trunc) { print "na", name, "gup_test covered only part of the range"; exit }
			if (m < 1) { print "na", name, "gup_test printed no timings, exit status", rc; exit }
			for (i = 2; i <= m; i++)	# insertion sort
				for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
					t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
				}
			med = m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
			printf "result %s ns/4K %.1f %.1f %.1f %d\n", name, v[1], med, v[m], m
		}' "$out/$name.raw" >"$out/$name.txt"
	rm -f "$out/$name.raw"
	record "$name" "$rc"
}

# Every row of bench/benchmarks.txt, in order.  A word $VAR of its command
# is the value of VAR here, empty if unset.
mapfile -t rows < <(grep -v -e '^#' -e '^$' "$LAB_TOP/bench/benchmarks.txt")
for row in "${rows[@]}"; do
	IFS='|' read -r name cmd _ <<<"$row"
	read -r -a words <<<"$cmd"
	for i in "${!words[@]}"; do
		case ${words[i]} in
		'$'*) var=${words[i]#'$'}; words[i]=${!var:-} ;;
		esac
	done
	case ${words[0]} in
	gup_test) gup "$name" "${words[@]:1}" ;;
	*) run "$name" "${words[@]}" ;;
	esac
done

echo "bench: done, $(grep -c '^result' "$results") results, $(grep -c '^na' "$results") n/a"
exit 0
