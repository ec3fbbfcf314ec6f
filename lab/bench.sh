#!/bin/bash
# make bench: build both kernels and the benchmarks, then boot the
# kernels alternately under "-icount shift=0,sleep=off" and run
# bench/guest/run-bench.sh in each boot (the rows of bench/benchmarks.txt);
# finally lab/bench-report.sh prints the comparison table and writes
# results/bench.md and results/bench.png.
#
#   bench.sh [PATTERN...]     only benchmarks matching the shell globs
#
#   KERNEL=patched|baseline|both   (default both; booted baseline first)
#   BENCH_ROUNDS=R            boots per kernel (default 3)
#   BENCH_REPS=K              repetitions inside each boot (default 5)
#   BENCH_NO_BUILD=1          use the kernels as built, do not run lab/build.sh
#   BENCH_REPORT_ONLY=1       skip building and running, report existing results
#   DEBUG=off                 kernels without lab/configs/debug.config (no
#                             lockdep, no DEBUG_VM): results/bench-nodebug.md
set -euo pipefail
. "$(dirname "$0")/lib.sh"

rounds=${BENCH_ROUNDS:-3}
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be a positive number, not '$rounds'"
select_kernels_baseline_first	# the report divides by the first

# DEBUG=off (kernels without the debug options) keeps its own results.
res=$LAB_RESULTS/bench${LAB_CONFIG_SUFFIX:-}
tty=0
[ -t 1 ] && tty=1

# One progress line, rewritten in place on a terminal.
progress() {
	if [ $tty = 1 ]; then
		printf '\r\033[K%s' "$*"
	else
		echo "$*"
	fi
}

# Boot KERNEL for ROUND and run the benchmarks, showing which one runs.
boot() {
	local k=$1 r=$2 name=bench${LAB_CONFIG_SUFFIX:-}-$2 log pid rc last="" cur n t0
	shift 2
	log=$res/$k-$name.console
	t0=$SECONDS
	progress "bench: round $r/$rounds, $k kernel: booting"
	set +e
	"$LAB_TOP"/lab/vm.sh -i -k "$k" -n "$name" -t "${BENCH_VM_TIMEOUT:-1200}" -- \
		env BENCH_REPS="${BENCH_REPS:-5}" bench/guest/run-bench.sh "$@" >"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 2
		cur=$(grep -a '^bench: running ' "$log" | tail -n 1 | cut -d' ' -f3)
		n=$(grep -ac '^bench: \(result\|na\) ' "$log")
		if [ -n "$cur" ] && [ "$cur" != "$last" ] || [ $tty = 1 ]; then
			progress "bench: round $r/$rounds, $k kernel: ${cur:-booting}" \
				"($n done, $((SECONDS - t0))s)"
			last=$cur
		fi
	done
	wait "$pid"
	rc=$?
	set -e
	[ $tty = 1 ] && echo
	echo "bench: round $r/$rounds, $k kernel: finished in $((SECONDS - t0))s, vm.sh exit status $rc" |
		tee -a "$res/runs.txt"
	if [ $rc != 0 ]; then
		# The numbers may still be there; the report marks the boot.
		echo "$k $r vm.sh exit status $rc: $(grep -a '^lab: ' "$log" | tail -n 1)" >>"$res/failed-boots.txt"
		note "the $k boot of round $r failed (exit $rc), see $log"
	fi
	mkdir -p "$res/$k/$r"
	cp "$LAB_RESULTS/$k/$name/bench/"*.txt "$res/$k/$r/" 2>/dev/null ||
		note "no benchmark output from the $k boot of round $r"
}

if [ "${BENCH_REPORT_ONLY:-0}" = 0 ]; then
	if [ "${BENCH_NO_BUILD:-0}" = 0 ]; then
		prepare_tree bench
		build_kernels
	else
		"$LAB_TOP"/lab/deps.sh bench
	fi
	for k in "${kernels[@]}"; do
		[ -f "$(kernel_out "$k")/arch/x86/boot/bzImage" ] || die "no $k kernel built"
	done
	# Only gup_test from the suite; without it the gup rows say n/a.
	make -s -C "$LAB_TOP/tests" "$LAB_BUILD/tests/gup_test" >/dev/null ||
		note "cannot build gup_test; its benchmarks will be n/a"
	make -s -C "$LAB_TOP/bench" >/dev/null

	rm -rf "$res" && mkdir -p "$res"
	{
		echo "date $(date -u +%Y-%m-%dT%H:%MZ)"
		echo "rounds $rounds"
		echo "reps ${BENCH_REPS:-5}"
		for k in "${kernels[@]}"; do
			echo "kernel $k $(git -C "$(kernel_src "$k")" describe --always --tags 2>/dev/null || echo '?')" \
				"(${DEBUG:+DEBUG=$DEBUG }config $(kernel_out "$k")/.config)"
		done
	} >"$res/info.txt"
	start=$SECONDS
	for r in $(seq 1 "$rounds"); do
		for k in "${kernels[@]}"; do
			boot "$k" "$r" "$@"
		done
	done
	echo "wall $((SECONDS - start))" >>"$res/info.txt"
fi

exec "$LAB_TOP"/lab/bench-report.sh "$res" "${kernels[@]}"
