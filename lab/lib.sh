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

# DEBUG=kasan kernels are built and booted from their own out/<k>-kasan,
# DEBUG=off kernels (no debug.config, -O2: what a distribution ships, for
# benchmarks) from out/<k>-nodebug.
case "${DEBUG:-}" in
"") ;;
kasan) LAB_CONFIG_SUFFIX=-kasan ;;
off) LAB_CONFIG_SUFFIX=-nodebug ;;
*) die "unknown DEBUG='$DEBUG' (use DEBUG=kasan, DEBUG=off or leave it unset)" ;;
esac

# Kernel flavour: "patched" (the series) or "baseline" (pristine Debian).
check_kernel_name() {
	case "$1" in
	patched | baseline) ;;
	*) die "unknown KERNEL='$1' (use KERNEL=patched or KERNEL=baseline)" ;;
	esac
}

# Set the array "kernels" from a "both|patched|baseline" argument.
# shellcheck disable=SC2034  # the caller's variable
select_kernels() {
	case $1 in
	both) kernels=(patched baseline) ;;
	patched | baseline) kernels=("$1") ;;
	*) die "unknown KERNEL='$1' (use patched, baseline or both)" ;;
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
