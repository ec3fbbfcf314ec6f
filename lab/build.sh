#!/bin/bash
# make build: build the lab kernel KERNEL=patched|baseline|both (default
# patched; both builds one after the other).
# Config = tinyconfig + every lab/configs/*.config except the ones that
# pick the variant, + the fragments of the variant DEBUG asks for (the
# table in lib.sh: debug.config by default, debug + kasan.config for
# DEBUG=kasan, distro.config for DEBUG=off).  Every option the fragments
# ask for is verified.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

select_kernels patched
if [ ${#kernels[@]} -gt 1 ]; then
	build_kernels
	exit 0
fi
kernel=${kernels[0]}
frags=()
for f in "$LAB_TOP"/lab/configs/*.config; do
	name=${f##*/}
	[[ " ${LAB_VARIANT_CONFIGS[*]} " == *" ${name%.config} "* ]] || frags+=("$f")
done
for name in "${LAB_CONFIGS[@]}"; do
	frags+=("$LAB_TOP/lab/configs/$name.config")
done

src=$(kernel_src "$kernel")
out=$(kernel_out "$kernel")
mkdir -p "$out"

# Regenerate .config only when the fragments change: a new .config
# rebuilds nearly everything.
stamp=$(cat "${frags[@]}" | sha1sum | cut -d' ' -f1)
if [ "$(cat "$out/.lab-config" 2>/dev/null)" != "$stamp" ] || [ ! -f "$out/.config" ]; then
	note "configuring $kernel kernel in $out"
	kmake "$src" "$out" tinyconfig >/dev/null
	"$src"/scripts/kconfig/merge_config.sh -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null
	kmake "$src" "$out" olddefconfig >/dev/null
	echo "$stamp" >"$out/.lab-config"
fi

# Every requested option must have survived dependency resolution.
bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n) opt=${line%=n}
		grep -q "^$opt=" "$out/.config" && { note "$opt is set, wanted n"; bad=1; } ;;
	CONFIG_*=*) grep -qx "$line" "$out/.config" ||
		{ note "config option not set as requested: $line"; bad=1; } ;;
	esac
done < <(cat "${frags[@]}")
[ $bad = 0 ] || die "kernel config for $kernel is missing required options (see above)"

note "building $kernel kernel ($(git -C "$src" describe --always --tags 2>/dev/null))"
kmake "$src" "$out" bzImage modules

# The probe module is built per kernel in its own copy of the source.
probe=$out/probe
rm -rf "$probe" && mkdir -p "$probe"
cp "$LAB_TOP"/tests/probe/* "$probe"/
kmake "$src" "$out" M="$probe" modules
note "built $out/arch/x86/boot/bzImage and $probe/lab_probe.ko"
