#!/bin/bash
# Guest side of "make bench": runs every benchmark once and writes
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

# gup NAME FLAG DIR|dev:PATH MB: the kernel tree's gup_test benchmark FLAG
# (-u GUP_FAST_BENCHMARK, -a PIN_FAST_BENCHMARK, -L PIN_LONGTERM_BENCHMARK)
# on a shared mapping of MB megabytes.  It prints "Time: get:G put:P us"
# per repetition; the first one is a warm-up.  Result: get + put in ns
# per 4K page.
gup() {
	local name=$1 flag=$2 target=$3 mb=$4 file rc=0
	local batch=${BENCH_GUP_BATCH:-512}
	selected "$name" || return 0
	start "$name"
	case $target in
	dev:*) file=${target#dev:} ;;
	*) file=$target/bench.gup ;;
	esac
	{
		if [ ! -x "$gup_test" ]; then
			echo "na $name no $gup_test (make -C tests builds it)"
		elif [ -z "$file" ] || [ "$file" = /bench.gup ]; then
			echo "na $name the lab did not provide the device or directory"
		elif [ "$target" = "${target#dev:}" ] && ! fallocate -l "${mb}M" "$file"; then
			echo "na $name cannot allocate ${mb}M in $target"
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

ext4=$LAB_EXT4_DIR xfs=$LAB_XFS_DIR

# Fault in + touch + munmap, ns per fault.  Device DAX namespaces keep
# their memmap in pmem, so less than the NVDIMM size is mappable: the 3G
# devdax1g region gives two 1G pages, the 1G devdax2m region under 1G.
run fault.ext4-4k        fault -e LAB_EXT4_DIR       -l 2M  -s 4K -i 2
run fault.xfs-2m         fault -e LAB_XFS_DIR        -l 64M -s 2M -i 4
run fault.devdax-4k      fault -e LAB_DEVDAX4K -d    -l 2M  -s 4K -i 4
run fault.devdax-2m      fault -e LAB_DEVDAX2M -d    -l 64M -s 2M -i 4
run fault.devdax-1g      fault -e LAB_DEVDAX1G -d    -l 2G  -s 1G -i 8
run fault.shmem-4k       fault -e BENCH_SHM_DIR      -l 2M  -s 4K -i 4
run fault.shmem-2m       fault -e BENCH_SHMTHP_DIR   -l 64M -s 2M -i 4
run fault.anon-thp-2m    fault -A -H                 -l 8M  -s 2M -i 2

# GUP and pin: fast paths and FOLL_LONGTERM through the kernel's gup_test
# program, the slow get/pin paths through the same module (gup-slow).
gup gup.xfs.get-fast          -u "$xfs"                  64
gup gup.xfs.pin-fast          -a "$xfs"                  64
run gup.xfs.get-slow          gup-slow -e LAB_XFS_DIR -c get -l 64M -s 2M -b 512
run gup.xfs.pin-slow          gup-slow -e LAB_XFS_DIR -c pin -l 64M -s 2M -b 512
gup gup.devdax-2m.get-fast    -u "dev:${LAB_DEVDAX2M:-}" 64
gup gup.devdax-2m.pin-fast    -a "dev:${LAB_DEVDAX2M:-}" 64
gup gup.devdax-2m.pin-longterm -L "dev:${LAB_DEVDAX2M:-}" 64
run gup.devdax-2m.get-slow    gup-slow -e LAB_DEVDAX2M -d -c get -l 64M -s 2M -b 512
run gup.devdax-2m.pin-slow    gup-slow -e LAB_DEVDAX2M -d -c pin -l 64M -s 2M -b 512
gup gup.ext4.get-fast         -u "$ext4"                 16
gup gup.ext4.pin-fast         -a "$ext4"                 16
shm=$BENCH_SHM_DIR shmthp=${BENCH_SHMTHP_DIR:-}
gup gup.shmem-2m.get-fast     -u "$shmthp"               64
gup gup.shmem-2m.pin-fast     -a "$shmthp"               64
run gup.shmem-2m.get-slow     gup-slow -e BENCH_SHMTHP_DIR -c get -l 64M -s 2M -b 512
run gup.shmem-2m.pin-slow     gup-slow -e BENCH_SHMTHP_DIR -c pin -l 64M -s 2M -b 512
gup gup.shmem-4k.get-fast     -u "$shm"                  16
gup gup.shmem-4k.pin-fast     -a "$shm"                  16

# O_DIRECT read from the NVMe drive into a DAX buffer (ns per 4K page).
run dio.xfs-2m           dio -f "${LAB_NVME:-}" -e LAB_XFS_DIR    -l 16M -s 2M -o 512K -i 64 -c
run dio.devdax-2m        dio -f "${LAB_NVME:-}" -e LAB_DEVDAX2M -d -l 16M -s 2M -o 512K -i 64 -c
run dio.anon-thp         dio -f "${LAB_NVME:-}" -A                -l 16M -s 2M -o 512K -i 64 -c

# Truncate / punch a hole through a mapped, fully faulted file.  The
# issue asks for 1 GiB; every repetition has to allocate, zero and fault
# the file again, which under TCG costs far more than the operation, so
# the files are smaller and the cost is given per mapped page.
run truncate.ext4-4k     truncate -e LAB_EXT4_DIR     -o truncate -l 8M   -s 4K
run truncate.xfs-2m      truncate -e LAB_XFS_DIR      -o truncate -l 128M -s 2M
run punch.ext4-4k        truncate -e LAB_EXT4_DIR     -o punch    -l 8M   -s 4K
run punch.xfs-2m         truncate -e LAB_XFS_DIR      -o punch    -l 128M -s 2M
run punch1.ext4-4k       truncate -e LAB_EXT4_DIR     -o punch-one -l 32M  -s 4K
run punch1.xfs-2m        truncate -e LAB_XFS_DIR      -o punch-one -l 128M -s 2M
run punch1.shmem-4k      truncate -e BENCH_SHM_DIR    -o punch-one -l 32M  -s 4K
run truncate.shmem-4k    truncate -e BENCH_SHM_DIR    -o truncate -l 8M   -s 4K
run truncate.shmem-2m    truncate -e BENCH_SHMTHP_DIR -o truncate -l 64M  -s 2M
run punch.shmem-4k       truncate -e BENCH_SHM_DIR    -o punch    -l 8M   -s 4K
run punch.shmem-2m       truncate -e BENCH_SHMTHP_DIR -o punch    -l 64M  -s 2M

# fork + exit + wait with a large mapping, all faulted in.  Shared file
# mappings are not copied at fork, so their size hardly matters; the
# private ones are (every PTE copied, then zapped by the child's exit).
run fork.devdax-2m-shared fork -e LAB_DEVDAX2M -d   -l 512M -s 2M -i 16
run fork.ext4-shared     fork -e LAB_EXT4_DIR       -l 32M -s 4K -i 16
run fork.ext4-private    fork -e LAB_EXT4_DIR -P    -l 32M -s 4K -i 4
run fork.shmem-shared    fork -e BENCH_SHM_DIR      -l 32M -s 4K -i 16
run fork.shmem-private   fork -e BENCH_SHM_DIR -P   -l 32M -s 4K -i 4

echo "bench: done, $(grep -c '^result' "$results") results, $(grep -c '^na' "$results") n/a"
exit 0
