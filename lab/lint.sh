#!/bin/bash
# make lint: shellcheck on the shell scripts of lab/, bench/, tests/ and
# .ci/, and the kernel tree's scripts/checkpatch.pl on the C and headers
# under lab/, tests/ and bench/.  Takes seconds; lab/check.sh runs it first.
# Installs nothing: lab/deps.sh installs shellcheck, lab/tree.sh unpacks
# the tree that checkpatch.pl comes from.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$LAB_TOP"
failed=0

# Shell: every *.sh and every file whose first line asks for a shell.
mapfile -t scripts < <(find lab bench tests .ci -type f | sort | while read -r f; do
	case $f in
	*.sh) echo "$f" ;;
	*) head -n1 "$f" | grep -qE '^#!.*[/ ](ba)?sh( |$)' && echo "$f" ;;
	esac
done)

# Severity "warning": errors and warnings (unquoted splitting of command
# output, unassigned variables, masked exit statuses...) fail; info and
# style notes are left to review.  -P SCRIPTDIR lets shellcheck follow
# '. "$(dirname "$0")/lib.sh"', so variables set in lib.sh count as set.
command -v shellcheck >/dev/null ||
	die "shellcheck is not installed: run lab/deps.sh as root (or apt-get install shellcheck)"
if shellcheck --severity=warning --external-sources --source-path=SCRIPTDIR \
	--format=gcc "${scripts[@]}"; then
	note "shellcheck: ${#scripts[@]} scripts clean"
else
	note "shellcheck: findings above"
	failed=1
fi

# C: checkpatch.pl of the kernel tree the lab builds.
checkpatch=$LAB_TREE/scripts/checkpatch.pl
[ -x "$checkpatch" ] ||
	die "no $checkpatch: the kernel tree $LAB_TREE is absent (make tree unpacks it)"

# The lab_probe module is kernel code and gets what the series gets
# (--strict).  Everything else is user space in kselftest style, checked
# at checkpatch's default level without these types:
ignore=(
	VOLATILE			# user space has no READ_ONCE(): volatile forces the access that faults a page in
	PREFER_DEFINED_ATTRIBUTE_MACRO	# __printf() and __noreturn are kernel-internal, not in user headers
	COMPLEX_MACRO			# lab.h's macros declare harness fixtures and variants, which cannot be parenthesised
	MULTISTATEMENT_MACRO_USE_DO_WHILE	# ... nor wrapped in do-while (they are file-scope declarations)
	MACRO_WITH_FLOW_CONTROL		# kselftest idiom: like ASSERT_*() and SKIP(return, ...), the wrappers leave the test
	EMBEDDED_FUNCTION_NAME		# flags words such as "usage" and TAP scenario names that must stay fixed strings
	ENOSYS				# user space tests errno == ENOSYS after a syscall, the one meaning the check allows
)
mapfile -t module < <(find tests/probe -name '*.c' | sort)
mapfile -t user < <(find lab tests bench -name '*.[ch]' ! -path 'tests/probe/*.c' | sort)

# Run on copies outside the git checkout: with --strict, inside a git
# tree checkpatch seeds its CamelCase list from "git ls-files include/"
# (empty here) and writes a .checkpatch-camelcase.* cache into the
# current directory.  (Whitespace findings were the same in and out of
# the checkout when this was written.)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp --parents "${module[@]}" "${user[@]}" "$tmp"/

run_checkpatch() {	# run_checkpatch OPTIONS... -- FILES...
	local opts=()
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	(cd "$tmp" && "$checkpatch" --no-tree --file --terse --show-types --quiet \
		"${opts[@]}" "$@") || true
}

# checkpatch takes "FIXTURE_DATA(f) *self" for a multiplication and
# reports "spacing around '*'" (it does so on the kernel's own selftests):
# drop exactly those reports.
harness_type_false_positive() {	# FILE:LINE: TYPE: message
	local re="^([^:]+):([0-9]+): ERROR:SPACING: need consistent spacing around '\\*'"
	[[ $1 =~ $re ]] || return 1
	sed -n "${BASH_REMATCH[2]}p" "$tmp/${BASH_REMATCH[1]}" |
		grep -qE 'FIXTURE_DATA\([A-Za-z0-9_]+\) \*'
}

ignore_list=$(IFS=,; echo "${ignore[*]}")
n=0
while IFS= read -r line; do
	case $line in
	"" | "total: "*) continue ;;
	esac
	harness_type_false_positive "$line" && continue
	echo "$line"
	[[ $line =~ ^[^:]+:[0-9]+:\ (ERROR|WARNING|CHECK): ]] && n=$((n + 1))
done < <(run_checkpatch --strict --root="$LAB_TREE" -- "${module[@]}"
	 run_checkpatch --ignore="$ignore_list" -- "${user[@]}")
files=$((${#module[@]} + ${#user[@]}))
if [ "$n" = 0 ]; then
	note "checkpatch: $files C files clean"
else
	note "checkpatch: $n findings in $files C files"
	failed=1
fi

[ "$failed" = 0 ] || die "lint failed (make lint)"
