#!/bin/bash
# Compare benchmark results of two kernels: prints the table and writes
# results/bench.md and results/bench.png (gnuplot), named after RESDIR
# (results/bench-nodebug gives bench-nodebug.md).
#   bench-report.sh RESDIR [KERNEL...]     default kernels: baseline patched
# RESDIR holds <kernel>/<round>/results.txt as lab/bench.sh collects them.
# Numbers are compared, never judged: the targets are printed beside them.
set -euo pipefail
res=${1:?usage: bench-report.sh RESDIR [KERNEL...]}
shift
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(baseline patched)
[ ${#kernels[@]} -le 2 ] || { echo "bench-report.sh: compares at most two kernels" >&2; exit 2; }
out=$(dirname "$res")
md=$out/$(basename "$res").md png=$out/$(basename "$res").png dat=$res/ratios.dat
rm -f "$dat" "$png"

# What each benchmark measures, its reference and its targets, from the
# table of bench/benchmarks.txt, as "name|what|reference|target|ref target".
meta() {
	grep -v -e '^#' -e '^$' "$(dirname "$0")/../bench/benchmarks.txt" | cut -d'|' -f1,3-
}

# All result and na lines as "kernel round line...".
collect() {
	local k d
	for k in "${kernels[@]}"; do
		for d in "$res/$k"/*/; do
			[ -f "$d/results.txt" ] || continue
			sed "s|^|$k $(basename "$d") |" "$d/results.txt"
		done
	done
}

# The first kernel is the reference side of the ratio (baseline).
base=${kernels[0]} new=${kernels[1]:-}
info() { sed -n "s/^$1 //p" "$res/info.txt" 2>/dev/null | head -n 1; }

{ meta | sed 's/^/meta|/'; collect | sed 's/^/data|/'; } |
awk -F'|' -v base="$base" -v new="$new" -v md="$md" -v dat="$dat" -v pngname="$(basename "$png")" \
    -v rounds="$(info rounds)" -v reps="$(info reps)" -v wall="$(info wall)" \
    -v date="$(info date)" -v kinfo="$(grep '^kernel ' "$res/info.txt" 2>/dev/null | cut -d' ' -f2- | paste -sd';')" \
    -v failed="$(paste -sd';' "$res/failed-boots.txt" 2>/dev/null)" '
function median(list,   a, n, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	lo = a[1]; hi = a[n]
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function num(v) { return v >= 1000 ? sprintf("%.0f", v) : v >= 10 ? sprintf("%.1f", v) : sprintf("%.2f", v) }
# "median (min-max)" of the per-round medians of kernel k, name n
function cell(k, n,   c) {
	if (!((k, n) in vals)) {
		if ((k, n) in why) { nas[++nnas] = n " (" k "): " why[k, n]; return "n/a [" nnas "]" }
		return "-"
	}
	med[k, n] = median(vals[k, n]); mlo[k, n] = lo; mhi[k, n] = hi
	c = num(med[k, n]) " (" num(lo) "-" num(hi) ")"
	# Some boots measured it, others could not: say so.
	if ((k, n) in why) { nas[++nnas] = n " (" k "): " why[k, n]; c = c " [" nnas "]" }
	return c
}
$1 == "meta" {
	desc[$2] = $3; ref[$2] = $4; target[$2] = $5; rtarget[$2] = $6
	if (!($2 in order)) { order[$2] = ++norder; names[norder] = $2 }
	next
}
{
	split($2, f, " ")
	k = f[1]; r = f[2]; kind = f[3]; n = f[4]
	if (!(n in order)) { order[n] = ++norder; names[norder] = n }
	if (kind == "result") {
		vals[k, n] = vals[k, n] " " f[7]; unit[n] = f[5]
	} else if (kind == "na") {
		reason = $2; sub(/^[^ ]+ [^ ]+ na [^ ]+ /, "", reason)
		if (!((k, n) in why)) why[k, n] = "round " r ": " reason
	}
}
END {
	hdr[1] = "Operation"; hdr[2] = "What"; hdr[3] = "Unit"
	hdr[4] = base " median (min-max)"; nc = 4
	if (new != "") {
		hdr[++nc] = new " median (min-max)"; hdr[++nc] = new "/" base; hdr[++nc] = "Target"
	}
	hdr[++nc] = "Reference"; hdr[++nc] = "/ref " base
	if (new != "") hdr[++nc] = "/ref " new
	hdr[++nc] = "Ref target"
	nrows = 0
	for (i = 1; i <= norder; i++) {
		n = names[i]
		seen = 0
		for (kk in vals) { split(kk, s, SUBSEP); if (s[2] == n) seen = 1 }
		for (kk in why) { split(kk, s, SUBSEP); if (s[2] == n) seen = 1 }
		if (!seen) continue
		row[++nrows, 1] = n; row[nrows, 2] = desc[n]; row[nrows, 3] = (n in unit) ? unit[n] : "-"
		c = 3
		row[nrows, ++c] = cell(base, n)
		ratio = ""
		if (new != "") {
			row[nrows, ++c] = cell(new, n)
			if ((base, n) in med && (new, n) in med && med[base, n] > 0) {
				ratio = med[new, n] / med[base, n]
				rlo = mlo[new, n] / mhi[base, n]; rhi = mhi[new, n] / mlo[base, n]
				row[nrows, ++c] = sprintf("%.3f", ratio)
				tt = target[n]; sub(/^<= */, "", tt)
				printf "%s %.2f %.2f %.2f %s %d\n", n, (ratio - 1) * 100, (rlo - 1) * 100,
					(rhi - 1) * 100, tt == "" ? "NaN" : sprintf("%.2f", (tt - 1) * 100),
					desc[n] ~ /^reference/ > dat
				if (target[n] != "") {
					t = target[n]; sub(/^<= */, "", t)
					reach = "the whole spread is above it"
					if (sprintf("%.3f", rlo) + 0 <= t + 0) reach = "the spread reaches the target"
					if (sprintf("%.3f", ratio) + 0 > t + 0)
						over[++nover] = sprintf("%s: %.3f, target %s: %.1f%% over; %s", n, ratio,
							target[n], (ratio / t - 1) * 100, reach)
				}
			} else
				row[nrows, ++c] = "n/a"
			row[nrows, ++c] = target[n] == "" ? "-" : target[n]
		}
		row[nrows, ++c] = ref[n] == "" ? "-" : ref[n]
		nk = new == "" ? 1 : 2
		for (j = 1; j <= nk; j++) {
			k = j == 1 ? base : new
			rr = ref[n]
			if (rr != "" && (k, n) in med && (k, rr) in vals) {
				rm = median(vals[k, rr])
				row[nrows, ++c] = rm > 0 ? sprintf("%.2fx", med[k, n] / rm) : "n/a"
				if (j == nk && rtarget[n] != "" && rm > 0) {
					t = rtarget[n]; sub(/^<= */, "", t)
					if (sprintf("%.2f", med[k, n] / rm) + 0 > t + 0)
						over[++nover] = sprintf("%s on %s: %.2fx %s, target %s: %.1f%% over", n, k,
							med[k, n] / rm, rr, rtarget[n], (med[k, n] / rm / t - 1) * 100)
				}
				if (j == nk && new == "" && rm > 0)
					printf "%s %.2f %.2f %.2f %s\n", n, (med[k, n] / rm - 1) * 100,
						(mlo[k, n] / rm - 1) * 100, (mhi[k, n] / rm - 1) * 100,
						rtarget[n] == "" ? "NaN" : sprintf("%.2f", (substr(rtarget[n], 4) - 1) * 100),
						0 > dat
			} else
				row[nrows, ++c] = "-"
		}
		row[nrows, ++c] = rtarget[n] == "" ? "-" : rtarget[n]
	}
	# Text columns left, numbers right; the terminal copy leaves out "What".
	for (j = 1; j <= nc; j++) {
		left[j] = j <= 3 || hdr[j] == "Reference"
		w[j] = length(hdr[j])
		for (i = 1; i <= nrows; i++) if (length(row[i, j]) > w[j]) w[j] = length(row[i, j])
	}
	table = render(0); tty = render(2)
	notes = ""
	if (nnas) {
		notes = notes "\nn/a:\n"
		for (i = 1; i <= nnas; i++) notes = notes sprintf("  [%d] %s\n", i, nas[i])
	}
	if (new != "" || nover) {
		notes = notes "\nAbove target (median patched/baseline ratio vs the Target column; the series notes must say by how much and why):\n"
		if (!nover) notes = notes "  none\n"
		for (i = 1; i <= nover; i++) notes = notes "  " over[i] "\n"
	}
	if (failed != "") {
		gsub(/;/, "\n  ", failed)
		notes = notes "\nBoots that failed (numbers kept, check their dmesg):\n  " failed "\n"
	}
	printf "%s%s", tty, notes

	print "# Benchmarks: " (new != "" ? new " vs " base : base) "\n" > md
	printf "Run %s: %s boot(s) per kernel, alternating, %s repetitions per benchmark in each boot", date, rounds, reps > md
	if (wall != "") printf "; %d min wall time", (wall + 59) / 60 > md
	print ".  Kernels: " kinfo ".\n" > md
	print "Guest time under `-icount shift=0,sleep=off`: 1 ns = 1 guest instruction (not cycles).  Each cell is the median of the per-boot medians, with the min-max of the per-boot medians." (new != "" ? "  " new "/" base " above 1 means " new " is slower." : "") "  /ref is the cost relative to the normal-page reference on the same kernel; above 1 means the DAX operation costs more than on normal pages.\n" > md
	printf "%s%s", table, notes > md
	printf "\n![%s/%s ratios](%s)\n", new, base, pngname > md
}
function repeat(s, n,   r) { r = ""; while (n-- > 0) r = r s; return r }
function render(skip,   i, j, t, line, sep) {
	line = "|"; sep = "|"
	for (j = 1; j <= nc; j++) {
		if (j == skip) continue
		line = line sprintf(" %-" w[j] "s |", hdr[j])
		sep = sep (left[j] ? ":" repeat("-", w[j] + 1) : repeat("-", w[j] + 1) ":") "|"
	}
	t = line "\n" sep "\n"
	for (i = 1; i <= nrows; i++) {
		line = "|"
		for (j = 1; j <= nc; j++)
			if (j != skip)
				line = line sprintf(left[j] ? " %-" w[j] "s |" : " %" w[j] "s |", row[i, j])
		t = t line "\n"
	}
	return t
}
'

# The chart: one bar per operation, the change in percent with its spread
# as an error bar, and the target as a red mark where there is one.
if [ -s "$dat" ] && command -v gnuplot >/dev/null; then
	term=png
	gnuplot -e 'set terminal' 2>&1 | grep -q pngcairo && term=pngcairo
	if [ -n "$new" ]; then
		title="$new vs $base: change in guest instructions per operation"
		ylabel="$new / $base - 1 (%), above 0 = $new slower"
	else
		title="$base vs the normal-page reference"
		ylabel="$base / reference - 1 (%)"
	fi
	n=$(wc -l <"$dat")
	width=$((300 + 45 * n))
	[ $width -ge 800 ] || width=800
	gnuplot <<EOF || echo "bench-report.sh: gnuplot failed, no $png" >&2
set terminal $term size $width,700 noenhanced
set output '$png'
set title '$title'
set ylabel '$ylabel'
set style fill solid 0.6 border -1
set boxwidth 0.7
set xtics rotate by -45 left nomirror
set grid ytics
set bmargin 10
set xrange [-0.7:$n - 0.3]
set key top left
plot '$dat' using 0:(\$6 > 0 ? 1/0 : \$2) with boxes lc rgb '#4a7ab5' title 'DAX: median of per-boot medians', \\
     '' using 0:(\$6 > 0 ? \$2 : 1/0) with boxes lc rgb '#b0b0b0' title 'normal-page reference', \\
     '' using 0:2:3:4:xtic(1) with yerrorbars lc rgb 'black' pt 0 title 'min-max', \\
     '' using 0:5 with points pt 6 ps 1.5 lc rgb 'red' title 'target', \\
     0 with lines lc rgb 'black' notitle
EOF
	[ -f "$png" ] && echo "wrote $md and $png" || echo "wrote $md"
else
	echo "wrote $md (no chart: $([ -s "$dat" ] && echo 'gnuplot missing' || echo 'no ratios'))"
fi
