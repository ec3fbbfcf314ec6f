# Thin front end: every target is a script under lab/.
#   make run    [KERNEL=patched|baseline]   boot, show the DAX page life cycle
#   make check  [KERNEL=both|patched|baseline]  build, run the suite, judge
#   make shell  [KERNEL=...]                interactive guest
#   make build  [KERNEL=...] [DEBUG=kasan]  just build a kernel
#   make patches                            export build/linux to patches/
#   make torture [KERNEL=patched|baseline|both] [TORTURE_SECONDS=N] [DEBUG=kasan]
#   make profile OP=NAME [DEBUG=off]         instructions per kernel function
#   make distro-configs [CONFIGS=...] [DISTRO_BUILD=0]  Debian's configs
#   make selftests [KERNEL=both|patched|baseline]  the kernel's mm selftests
#   make lint                               shellcheck + checkpatch (check runs it)
# V=1 prints the QEMU command line.
KERNEL ?= patched
export V DEBUG

.PHONY: run check shell build tree deps patches tests clean series-check cross torture tip-configs distro-configs selftests lint

deps:
	@lab/deps.sh

tree: deps
	@lab/tree.sh

build: tree
	@lab/build.sh $(KERNEL)

tests:
	@$(MAKE) -s -C tests

run: build tests
	@lab/vm.sh -k $(KERNEL) -n demo -t 600 -- build/lab/demo

lint:
	@lab/lint.sh

check:
	@lab/check.sh $(if $(filter command line,$(origin KERNEL)),$(KERNEL),both)

shell: build
	@lab/vm.sh -k $(KERNEL) -n shell -s

patches:
	@lab/format-patches.sh

clean:
	rm -rf results build/tests build/bench build/lab

# make bench [KERNEL=baseline|patched]: both kernels by default, alternating.
.PHONY: bench
bench:
	@BENCH_KERNELS="$(if $(filter command line,$(origin KERNEL)),$(KERNEL),baseline patched)" lab/bench.sh

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
	@lab/torture.sh $(if $(filter command line,$(origin KERNEL)),$(KERNEL),patched)

# make selftests: tools/testing/selftests/mm on both kernels (slow, ~1 h).
selftests:
	@lab/selftests.sh $(if $(filter command line,$(origin KERNEL)),$(KERNEL),both)
