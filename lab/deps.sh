#!/bin/bash
# Install the Debian packages the lab needs, if any are missing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pkgs=(qemu-system-x86 qemu-utils busybox-static bc bison flex
      libelf-dev libssl-dev cpio ccache ndctl daxctl xfsprogs fio rsync
      liburing-dev libcap-dev kmod gcc make shellcheck)
[ "${1:-}" = bench ] && pkgs+=(gnuplot-nox)
# mm selftests: migration and ksm_tests link libnuma; on-fault-limit
# runs as nobody through sudo.
[ "${1:-}" = selftests ] && pkgs+=(libnuma-dev sudo)
[ "${1:-}" = cross ] && pkgs+=(gcc-aarch64-linux-gnu gcc-powerpc64le-linux-gnu
			       gcc-riscv64-linux-gnu gcc-s390x-linux-gnu)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
# The series applies to one Debian source version (patches/BASE): install
# that one, so a Debian update does not change what gets built under us.
# Keep another installed version (with a warning; tree.sh says what to do
# if the patches do not apply) when we cannot change it: not root, or an
# earlier run found the version gone from the archive.
base=$(cat "$LAB_TOP/patches/BASE")
have=$(installed_source_version)
gone=$LAB_BUILD/source-not-in-archive
if [ "$have" != "$base" ]; then
	if [ -n "$have" ] && { [ "$(id -u)" != 0 ] || [ "$(cat "$gone" 2>/dev/null)" = "$base" ]; }; then
		note "WARNING: building linux-source-6.12 $have, patches/BASE is $base"
	else
		missing+=(linux-source-6.12)
	fi
fi
[ ${#missing[@]} -eq 0 ] && exit 0

[ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}) and not root to install them"
note "installing: ${missing[*]}"
apt-get update -q >/dev/null || die "apt-get update failed"
for i in "${!missing[@]}"; do
	[ "${missing[$i]}" = linux-source-6.12 ] || continue
	if apt-cache madison linux-source-6.12 | awk '{ print $3 }' | grep -qxF "$base"; then
		missing[$i]="linux-source-6.12=$base"
	else
		note "WARNING: Debian no longer has linux-source-6.12 $base (patches/BASE)"
		mkdir -p "$LAB_BUILD" && echo "$base" >"$gone"
		if [ -n "$have" ]; then unset "missing[$i]"; fi
	fi
done
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades --no-install-recommends "${missing[@]}" >/dev/null ||
	die "apt-get install failed for: ${missing[*]}"
