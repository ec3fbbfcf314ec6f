#!/bin/bash
# Print the QEMU accelerator to use: "kvm" only if a probe boot under KVM
# reaches userspace, "tcg" otherwise.  On the lab hosts (themselves VMs) a
# KVM guest hangs in the decompressor, so the probe times out once and the
# answer is cached.  LAB_ACCEL=tcg|kvm overrides.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [ -n "${LAB_ACCEL:-}" ]; then
	echo "$LAB_ACCEL"
	exit 0
fi
cache=$LAB_BUILD/accel
if [ -f "$cache" ]; then
	cat "$cache"
	exit 0
fi
accel=tcg
bz=$(kernel_out baseline)/arch/x86/boot/bzImage
[ -f "$bz" ] || bz=$(kernel_out patched)/arch/x86/boot/bzImage
[ -f "$bz" ] || { echo tcg; exit 0; }	# nothing to probe with yet
if [ -w /dev/kvm ]; then
	# No root filesystem: reaching the "VFS: Unable to mount root" panic
	# proves the kernel ran.
	if timeout 30 qemu-system-x86_64 -accel kvm -cpu host -m 256M -nodefaults \
		-no-reboot -display none -serial stdio -kernel "$bz" \
		-append "console=ttyS0 panic=-1" </dev/null 2>/dev/null |
		grep -q 'Kernel panic'; then
		accel=kvm
	fi
	note "KVM probe boot: using $accel"
fi
mkdir -p "$LAB_BUILD"
echo "$accel" >"$cache"
echo "$accel"
