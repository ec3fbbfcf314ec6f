// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin that counts the guest instructions executed in each
 * translation block, between two marker calls of the guest.
 *
 *   qemu-system-x86_64 ... -plugin insn-profile.so,out=FILE,marker=ADDR
 *
 * ADDR is the entry of a guest kernel function that only the profiled
 * program calls (bench.h's bench_window() calls personality(2) for it):
 * every execution of the block at ADDR switches counting on or off.  At
 * exit FILE gets one line per block that ran while counting was on:
 *
 *   PC NINSNS COUNT
 *
 * lab/profile.sh turns that into instructions per kernel function.
 * Sampling with perf inside the guest gives a few dozen samples per run
 * under -icount; this counts every instruction, and the plugin does not
 * change the guest's own instruction count.
 *
 * Debian's QEMU 7.2 ships no plugin header: qemu-plugin.h declares the
 * few entry points used here.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu-plugin.h"

EXPORT int qemu_plugin_version = 1;

/* One translated block, kept for the whole run: QEMU holds its address. */
struct block {
	uint64_t pc;
	uint64_t count;
	unsigned int n;
};

static struct block **table;
static size_t table_size, table_used;
static uint64_t marker;
static bool counting;
static unsigned int windows;
static const char *out_path;

static size_t slot_of(uint64_t pc, unsigned int n, size_t size)
{
	uint64_t h = (pc ^ ((uint64_t)n << 48)) * 0x9e3779b97f4a7c15ull;

	return (h >> 20) & (size - 1);
}

static void table_insert(struct block *b)
{
	size_t i = slot_of(b->pc, b->n, table_size);

	while (table[i])
		i = (i + 1) & (table_size - 1);
	table[i] = b;
}

static bool table_grow(void)
{
	struct block **old = table;
	size_t old_size = table_size;

	table_size = old_size ? old_size * 2 : 1 << 16;
	table = calloc(table_size, sizeof(*table));
	if (!table) {
		table = old;
		table_size = old_size;
		return false;
	}
	for (size_t i = 0; i < old_size; i++)
		if (old[i])
			table_insert(old[i]);
	free(old);
	return true;
}

/* The block for (pc, n): QEMU translates a block again after a flush. */
static struct block *block_get(uint64_t pc, unsigned int n)
{
	struct block *b;
	size_t i;

	if (table_used * 10 >= table_size * 7 && !table_grow())
		return NULL;
	for (i = slot_of(pc, n, table_size); table[i]; i = (i + 1) & (table_size - 1))
		if (table[i]->pc == pc && table[i]->n == n)
			return table[i];
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->pc = pc;
	b->n = n;
	table[i] = b;
	table_used++;
	return b;
}

static void block_exec(unsigned int vcpu, void *udata)
{
	struct block *b = udata;

	(void)vcpu;
	if (b->pc == marker) {
		counting = !counting;
		windows += counting;
	}
	if (counting)
		b->count++;
}

static void block_translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	struct block *b = block_get(qemu_plugin_tb_vaddr(tb),
				    qemu_plugin_tb_n_insns(tb));

	(void)id;
	if (b)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, block_exec,
						     QEMU_PLUGIN_CB_NO_REGS, b);
	else
		qemu_plugin_outs("insn-profile: out of memory, block not counted\n");
}

static void write_profile(qemu_plugin_id_t id, void *udata)
{
	FILE *f = fopen(out_path, "w");

	(void)id;
	(void)udata;
	if (!f) {
		qemu_plugin_outs("insn-profile: cannot write the profile\n");
		return;
	}
	fprintf(f, "# windows %u\n", windows);
	for (size_t i = 0; i < table_size; i++)
		if (table[i] && table[i]->count)
			fprintf(f, "%" PRIx64 " %u %" PRIu64 "\n", table[i]->pc,
				table[i]->n, table[i]->count);
	fclose(f);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info *info,
			       int argc, char **argv)
{
	(void)info;
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4))
			out_path = argv[i] + 4;
		else if (!strncmp(argv[i], "marker=", 7))
			marker = strtoull(argv[i] + 7, NULL, 16);
	}
	if (!out_path || !marker) {
		qemu_plugin_outs("insn-profile: needs out=FILE and marker=HEXADDR\n");
		return -1;
	}
	if (!table_grow())
		return -1;
	qemu_plugin_register_vcpu_tb_trans_cb(id, block_translated);
	qemu_plugin_register_atexit_cb(id, write_profile, NULL);
	return 0;
}
