#!/bin/bash
# Guest side of the regression suite: runs every test program and the
# kernel tree's gup_test and hmm-tests, writing one TAP file per program
# (plus its dmesg) to $LAB_OUT/tests/.  The host judges the results
# (lab/suite-report.sh); this script only runs things.
#   run-suite.sh [NAME...]   run only the named programs
set -uo pipefail
. /run/lab/env
bin=$LAB_TOP/build/tests
out=$LAB_OUT/tests
mkdir -p "$out"

# The kernel log stays whole for the run's final scan; each program's
# share of it is cut out between markers.
mark() { echo "lab-suite: start $1" >/dev/kmsg; }
dmesg_since() { dmesg | sed -n "/lab-suite: start $1\$/,\$p"; }

# Run one program: its TAP goes to <name>.tap, the dmesg it caused to
# <name>.dmesg, everything else to <name>.full.
run() {
	local name=$1 limit=${LIMIT:-${LAB_TEST_TIMEOUT:-600}}
	shift
	echo "== $name"
	mark "$name"
	timeout -k 5 "$limit" "$@" >"$out/$name.full" 2>&1
	echo "# exit status $?" >>"$out/$name.full"
	grep -E '^(not )?ok |^#' "$out/$name.full" >"$out/$name.tap"
	dmesg_since "$name" >"$out/$name.dmesg"
}

# gup_test reports one TAP line per thread and always exits 0; fold it
# into one named result.  Expectation "refused" means the ioctl must fail.
gup_case() {
	local name=$1 expect=$2
	shift 2
	local log=$out/gup_test.full
	echo "## gup_test $*" >>"$log"
	"$bin/gup_test" "$@" >>"$log" 2>&1
	# The gup_test module reports a refused GUP as a success that pinned
	# nothing: "truncated (size: 0)".
	local run
	run=$(sed -n '/^## gup_test/h; /^## gup_test/!H; ${x;p}' "$log")
	local failed passed empty short
	failed=$(grep -c '^not ok' <<<"$run")
	passed=$(grep -c '^ok' <<<"$run")
	empty=$(grep -c 'truncated (size: 0)' <<<"$run")
	short=$(grep -c 'runcated' <<<"$run")
	if { [ "$expect" = works ] && [ "$passed" -gt 0 ] && [ "$failed" = 0 ] && [ "$short" = 0 ]; } ||
	   { [ "$expect" = refused ] && { [ "$failed" -gt 0 ] || [ "$empty" -gt 0 ]; }; }; then
		echo "ok 0 gup_test.$name"
	else
		echo "not ok 0 gup_test.$name # expected the pin to be $expect"
	fi
}

gup_suite() {
	local f
	: >"$out/gup_test.full"
	for fs in ext4 xfs; do
		f=/mnt/$fs/gup_test.data
		fallocate -l 8M "$f"
		gup_case $fs.get_fast works -u -S -m 8 -f "$f"
		gup_case $fs.pin_fast works -a -S -m 8 -f "$f"
		gup_case $fs.get_slow works -U -S -m 8 -f "$f"
		gup_case $fs.pin_slow works -b -S -m 8 -f "$f"
		gup_case $fs.longterm_refused refused -L -S -m 8 -f "$f"
		rm -f "$f"
	done
	for dax in "$LAB_DEVDAX2M" "$LAB_DEVDAX4K"; do
		local n
		n=devdax$([ "$dax" = "$LAB_DEVDAX2M" ] && echo 2m || echo 4k)
		gup_case $n.get_fast works -u -S -m 8 -f "$dax"
		gup_case $n.pin_fast works -a -S -m 8 -f "$dax"
		gup_case $n.get_slow works -U -S -m 8 -f "$dax"
		gup_case $n.pin_slow works -b -S -m 8 -f "$dax"
		gup_case $n.longterm_allowed works -L -S -m 8 -f "$dax"
	done
}

selected=("$@")
is_selected() { [ ${#selected[@]} -eq 0 ] || [[ " ${selected[*]} " == *" $1 "* ]]; }

for t in "$bin"/*; do
	name=${t##*/}
	case $name in gup_test | hmm-tests | torture) continue ;; esac
	is_selected "$name" && run "$name" "$t"
done
if is_selected gup_test; then
	echo "== gup_test"
	mark gup_test
	gup_suite >"$out/gup_test.tap"
	dmesg_since gup_test >"$out/gup_test.dmesg"
fi
is_selected hmm-tests && run hmm-tests "$bin/hmm-tests"
# Last: it unmounts the filesystems.  30 s by default (the CI run);
# make torture sets LAB_TORTURE_SECONDS.
secs=${LAB_TORTURE_SECONDS:-30}
is_selected torture && LIMIT=$((secs + 600)) run torture "$bin/torture" -t "$secs"
exit 0
