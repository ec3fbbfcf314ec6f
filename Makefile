# Thin front end: every target is a script under lab/.
#
#   target                                   what                      KERNEL default
#   make run                                 boot, show the DAX page
#                                            life cycle                patched
#   make check                               lint, build, run the
#                                            suite, judge              both
#   make shell                               interactive guest         patched (one only)
#   make build [DEBUG=kasan|off]             just build                patched
#   make torture [TORTURE_SECONDS=N] [DEBUG=kasan]
#                                            the torture workload      patched
#   make selftests                           the kernel's mm selftests both
#   make bench [DEBUG=off]                   microbenchmarks           both
#   make profile OP=NAME [DEBUG=off]         instructions per kernel
#                                            function of a benchmark   both
#   make series-check                        build + checkpatch each
#                                            patch                     both, always
#   make cross                               other architectures       both, always
#   make distro-configs [CONFIGS=...] [DISTRO_BUILD=0]
#                                            Debian's own configs      both, always
#   make tip-configs                         allnoconfig, THP off      patched, always
#                                            (x86_64, arm64, riscv64)
#   make patches | lint | tests | deps | tree | clean                  (no kernel)
#
# KERNEL=patched|baseline|both picks the kernel(s): patched is the series,
# baseline the pristine Debian source.  Unset, a target takes the default
# above.  It reaches the scripts in the environment, like DEBUG; a bad
# value, or one the target cannot use, stops it with an error.
# V=1 prints the QEMU command line.
export V DEBUG KERNEL

.PHONY: run check shell build tree deps patches tests clean series-check cross torture tip-configs distro-configs selftests lint

deps:
	@lab/deps.sh

tree: deps
	@lab/tree.sh

build: tree
	@lab/build.sh

tests:
	@$(MAKE) -s -C tests

run:
	@lab/demo.sh

lint:
	@lab/lint.sh

check:
	@lab/check.sh

shell:
	@lab/shell.sh

patches:
	@lab/format-patches.sh

clean:
	rm -rf results build/tests build/bench build/lab

# make bench: the kernels boot alternately.
.PHONY: bench
bench:
	@lab/bench.sh

# make profile OP=fault.devdax-2m: instructions per kernel function.
.PHONY: profile
profile:
	@lab/profile.sh $(OP)

# Slower than CI; run before resolving a series issue.
series-check:
	@lab/series-check.sh

cross:
	@lab/cross.sh

tip-configs:
	@lab/tip-configs.sh

# make distro-configs [CONFIGS="arm64_rt_arm64 ..."] [DISTRO_BUILD=0]:
# Debian's own 6.12 configs, baseline vs patched (slow, needs root).
distro-configs:
	@DISTRO_BUILD=$(DISTRO_BUILD) lab/distro-configs.sh $(CONFIGS)

# make torture: the concurrent workload, 2 minutes by default.
torture:
	@lab/torture.sh

# make selftests: tools/testing/selftests/mm on both kernels (slow, ~1 h).
selftests:
	@lab/selftests.sh
