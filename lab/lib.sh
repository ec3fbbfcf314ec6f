# Common definitions for the lab scripts; sourced, not run.
# shellcheck shell=bash

LAB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB_BUILD=${LAB_BUILD:-$LAB_TOP/build}
LAB_RESULTS=${LAB_RESULTS:-$LAB_TOP/results}
LAB_TREE=$LAB_BUILD/linux          # git tree: tag "base" + one commit per patch
LAB_BASE_TREE=$LAB_BUILD/linux-baseline   # worktree of tag "base"
LAB_SRC_TARBALL=${LAB_SRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
LAB_JOBS=${LAB_JOBS:-$(nproc)}

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
export CCACHE_BASEDIR=$LAB_BUILD
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-20G}
# Compile the same source at two paths (patched, baseline) to one cache entry.
export CCACHE_NOHASHDIR=1

die() {
	echo "lab: error: $*" >&2
	exit 1
}

note() {
	echo "lab: $*" >&2
}

# DEBUG picks the kernel variant: the lab/configs fragments that make it
# and the suffix of its build directory out/<kernel><suffix>.  The other
# fragments go into every variant.
#   unset  debug.config                      out/<kernel>
#   kasan  debug.config + kasan.config       out/<kernel>-kasan
#   off    distro.config (-O2, no debug options, what a distribution
#          ships; for benchmarks)            out/<kernel>-nodebug
# shellcheck disable=SC2034  # for build.sh
LAB_VARIANT_CONFIGS=(debug kasan distro)
# shellcheck disable=SC2034  # LAB_CONFIGS as well
case "${DEBUG:-}" in
"") LAB_CONFIGS=(debug) LAB_CONFIG_SUFFIX= ;;
kasan) LAB_CONFIGS=(debug kasan) LAB_CONFIG_SUFFIX=-kasan ;;
off) LAB_CONFIGS=(distro) LAB_CONFIG_SUFFIX=-nodebug ;;
*) die "unknown DEBUG='$DEBUG' (use DEBUG=kasan, DEBUG=off or leave it unset)" ;;
esac

# KERNEL=patched|baseline|both: the kernel(s) a target works on, patched
# being the series and baseline the pristine Debian source.  make passes
# it to every script in the environment; unset, each script takes its
# default (the Makefile's header lists them).
case "${KERNEL:-}" in
"" | patched | baseline | both) ;;
*) die "unknown KERNEL='$KERNEL' (use KERNEL=patched, KERNEL=baseline or KERNEL=both)" ;;
esac

# select_kernels DEFAULT [ONLY]: set the array "kernels" from KERNEL, or
# from DEFAULT when KERNEL is unset.  A script that always works on the
# same kernels says which with ONLY and refuses any other KERNEL.
# shellcheck disable=SC2034  # the caller's variable
select_kernels() {
	local want=${KERNEL:-$1}
	[ -z "${2:-}" ] || [ "$want" = "$2" ] ||
		die "${0##*/} always works on KERNEL=$2; leave KERNEL unset, not '$want'"
	case $want in
	both) kernels=(patched baseline) ;;
	*) kernels=("$want") ;;
	esac
}

# select_kernels both for make bench and make profile, which compare the
# other kernel to the first: the baseline first.  Their old variables stop
# the run rather than being ignored.
select_kernels_baseline_first() {
	[ -z "${BENCH_KERNELS:-}${PROFILE_KERNELS:-}" ] ||
		die "BENCH_KERNELS and PROFILE_KERNELS are gone: use KERNEL=patched|baseline|both"
	select_kernels both
	[ ${#kernels[@]} = 1 ] || kernels=(baseline patched)
}

# One kernel named on a command line (vm.sh -k, the report scripts).
check_kernel_name() {
	case "$1" in
	patched | baseline) ;;
	*) die "unknown kernel '$1' (use patched or baseline)" ;;
	esac
}

kernel_src() {
	if [ "$1" = patched ]; then echo "$LAB_TREE"; else echo "$LAB_BASE_TREE"; fi
}

kernel_out() {
	echo "$LAB_BUILD/out/$1${LAB_CONFIG_SUFFIX:-}"
}

# The Debian package version of the installed source, e.g. 6.12.57-1~deb12u1.
installed_source_version() {
	dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true
}

# The warning and error lines of build log $1, with the source path, line
# numbers and frame sizes taken out: the series shifts those in warnings
# the pristine source already has.
warning_lines() {
	{ grep -E '(warning|error):' "$1" || true; } |
		sed -E -e 's#^(\.\./)*[^ :]*linux(-baseline)?/##' -e 's#:[0-9]+:[0-9]+:#:#' \
		       -e 's#frame size of [0-9]+ bytes#frame size of N bytes#' | sort -u
}

# kmake SRC OUT MAKEARGS...: the kernel build's make in tree SRC with O=OUT,
# LAB_JOBS jobs, through ccache.  kmake_arch ARCH PREFIX SRC OUT MAKEARGS...
# builds for kernel ARCH with the cross compiler PREFIXgcc.
kmake() {
	kmake_arch "" "" "$@"
}
# Debian's cross compiler prefix for each kernel ARCH the lab builds.
# shellcheck disable=SC2034  # for cross.sh, tip-configs.sh, distro-configs.sh
declare -A LAB_CROSS=([arm64]=aarch64-linux-gnu- [powerpc]=powerpc64le-linux-gnu-
		      [riscv]=riscv64-linux-gnu- [s390]=s390x-linux-gnu-)
kmake_arch() {
	local arch=$1 cross=$2 src=$3 out=$4
	shift 4
	make -s -C "$src" O="$out" ${arch:+ARCH="$arch"} ${cross:+CROSS_COMPILE="$cross"} \
		-j"$LAB_JOBS" CC="ccache ${cross}gcc" HOSTCC="ccache gcc" "$@"
}

# The patches of the series in patches/, in order, without the cover letter.
series_patches() {
	find "$LAB_TOP/patches" -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort
}

# A hash of patches/BASE and the series.  tree.sh applies the series again
# only when it differs from the one recorded by record_series.
series_stamp() {
	local series_files
	mapfile -t series_files < <(series_patches)
	{
		cat "$LAB_TOP/patches/BASE"
		[ ${#series_files[@]} -eq 0 ] || cat "${series_files[@]}"
	} | sha1sum | cut -d' ' -f1
}

# Record that the tree's HEAD is patches/ as it is now.
record_series() {
	series_stamp >"$LAB_TREE/.git/lab-applied"
	git -C "$LAB_TREE" rev-parse HEAD >"$LAB_TREE/.git/lab-head"
}

# The opening of every target that builds or boots: the Debian packages
# (lab/deps.sh; an argument adds a group such as bench or cross), then the
# kernel tree with the series applied (lab/tree.sh).
prepare_tree() {
	"$LAB_TOP"/lab/deps.sh "$@"
	"$LAB_TOP"/lab/tree.sh
}

# Build the kernels named in the array "kernels", one after the other.
build_kernels() {
	local k
	for k in "${kernels[@]}"; do
		KERNEL=$k "$LAB_TOP"/lab/build.sh
	done
}

# judge_run RUN: judge the TAP files of run RUN on the kernels named in
# "kernels" (lab/suite-report.sh prints the table), then set pass, fail and skip
# from its counts; a report that could not count is one failure.
# shellcheck disable=SC2034  # the caller's variables
judge_run() {
	LAB_RUN=$1 "$LAB_TOP"/lab/suite-report.sh "${kernels[@]}" || true
	read -r pass fail skip <"$LAB_RESULTS/$1.count" 2>/dev/null || { pass=0 fail=1 skip=0; }
}
