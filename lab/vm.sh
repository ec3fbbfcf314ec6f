#!/bin/bash
# Boot a lab kernel in QEMU on emulated pmem and run one command in it.
#
#   vm.sh [-k patched|baseline] [-n NAME] [-t SECONDS] [-s] [-- CMD...]
#
#   -k  kernel flavour (default patched)
#   -n  result name: output goes to results/<kernel>/<NAME>/
#   -t  timeout for the whole VM run (default 900)
#   -s  interactive shell instead of CMD
#   -i  pass -icount shift=0,sleep=off (guest time = instruction count)
#
# One vCPU by default: under TCG on a loaded 2-core host a second vCPU
# sometimes never gets its timer interrupt during boot (RCU stall, hang);
# LAB_SMP=2 asks for two.  LAB_MEM sets the guest's memory (default 2G),
# LAB_APPEND adds to the kernel command line.
#
# The guest sees the host root read-only and results/<kernel>/<NAME>/ at
# /run/lab/out.  The exit status is CMD's; the run fails when the guest
# does not finish in time or dmesg holds a warning.  V=1 prints the QEMU
# command line.  LAB_QEMU_PLUGIN=SO,ARGS loads a TCG plugin (lab/profile.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kernel=patched name=run timeout=900 shell=0 icount=0
usage() { sed -n '3,16s/^# \{0,1\}//p' "$0" >&2; exit 2; }
while getopts "k:n:t:sih" opt; do
	case $opt in
	k) kernel=$OPTARG ;;
	n) name=$OPTARG ;;
	t) timeout=$OPTARG ;;
	s) shell=1 ;;
	i) icount=1 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ "${1:-}" = -- ] && shift
check_kernel_name "$kernel"
[[ $timeout =~ ^[0-9]+$ ]] || die "timeout must be a number of seconds, not '$timeout'"
[[ $name =~ ^[A-Za-z0-9._-]+$ ]] || die "bad result name '$name'"
[ $shell = 1 ] || [ $# -gt 0 ] || die "no command given (use -s for a shell)"

out=$(kernel_out "$kernel")
bzimage=$out/arch/x86/boot/bzImage
[ -f "$bzimage" ] || die "no $kernel kernel at $bzimage; run 'make build KERNEL=$kernel'"

res=$LAB_RESULTS/$kernel/$name
rm -rf "$res" && mkdir -p "$res"
# Fresh, sparse backing files per run: every run starts from blank pmem,
# and concurrent runs do not share devices.
img=$LAB_BUILD/vm/$kernel-$name.$$
mkdir -p "$img"
trap 'rm -rf "$img"' EXIT

# NVDIMM backing files, sparse.  The first one is placed 1G-aligned by
# QEMU, so it carries the 1G-aligned device DAX namespace.
nvdimms=(devdax1g:3G devdax2m:1G devdax4k:1G ext4:2G xfs:2G rawpmem:1G)
for nv in "${nvdimms[@]}"; do
	f=$img/${nv%%:*}.pmem
	truncate -s "${nv##*:}" "$f"
done
truncate -s 256M "$img/nvme.img"

{
	echo "export LAB_TOP='$LAB_TOP' LAB_KERNEL='$kernel' LAB_OUT=/run/lab/out"
	echo "export LAB_PROBE_KO='$out/probe/lab_probe.ko'"
	echo "export LAB_NVDIMMS='${nvdimms[*]}'"
	if [ $shell = 1 ]; then
		echo "exec /bin/bash -i"
	else
		printf 'cd %q && exec' "$LAB_TOP"
		printf ' %q' "$@"
		echo
	fi
} >"$res/cmd"

append="root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=524288,cache=loose"
append+=" ro init=$LAB_TOP/lab/guest/init console=ttyS0 panic=-1 oops=panic loglevel=5"
append+=" transparent_hugepage=madvise"	# as Debian kernels default; DAX ignores it
# TCG on a busy host can starve the vCPU for tens of seconds (a KASAN
# boot beside builds tripped RCU's 21 s grace-period-start check); real
# stalls still show within 300 s.
append+=" rcupdate.rcu_cpu_stall_timeout=300"
append+="${LAB_APPEND:+ $LAB_APPEND}"

# shellcheck disable=SC2054  # QEMU's options are comma-separated
qemu=(qemu-system-x86_64 -nodefaults -no-reboot -display none -serial mon:stdio
      -machine pc,nvdimm=on -cpu max -smp "${LAB_SMP:-1}"
      -m "${LAB_MEM:-2G}",slots=8,maxmem=16G
      -kernel "$bzimage" -append "$append"
      -fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap
      -device virtio-9p-pci,fsdev=root,mount_tag=/dev/root
      -fsdev local,id=out,path="$res",security_model=none,multidevs=remap
      -device virtio-9p-pci,fsdev=out,mount_tag=labout
      -drive file="$img/nvme.img",if=none,id=nvm,format=raw
      -device nvme,serial=lab0,drive=nvm,cmb_size_mb=64
      -device virtio-rng-pci)
i=0
for nv in "${nvdimms[@]}"; do
	f=$img/${nv%%:*}.pmem
	qemu+=(-object "memory-backend-file,id=mem$i,share=on,mem-path=$f,size=${nv##*:},align=1G"
	       -device "nvdimm,id=nv$i,memdev=mem$i")
	i=$((i + 1))
done
accel=$("$LAB_TOP"/lab/accel.sh)
qemu+=(-accel "$accel")
# shellcheck disable=SC2054  # as above
[ $icount = 0 ] || qemu+=(-icount shift=0,sleep=off)
[ -z "${LAB_QEMU_PLUGIN:-}" ] || qemu+=(-plugin "$LAB_QEMU_PLUGIN")

[ "${V:-0}" = 0 ] || { printf '%q ' "${qemu[@]}"; echo; } >&2

if [ $shell = 1 ]; then
	"${qemu[@]}" || true
	exit 0
fi
set +e
timeout --foreground -k 10 "$timeout" "${qemu[@]}" </dev/null | tee "$res/console.log"
qemu_rc=${PIPESTATUS[0]}
set -e
[ "$qemu_rc" = 124 ] && die "guest did not finish within ${timeout}s ($res/console.log)"
[ -f "$res/status" ] || die "guest died before reporting a status (qemu exit $qemu_rc, see $res/console.log)"
"$LAB_TOP"/lab/scan-dmesg.sh "$res/dmesg" "$kernel" || die "dmesg of $kernel/$name has warnings (see $res/dmesg)"
exit "$(cat "$res/status")"
