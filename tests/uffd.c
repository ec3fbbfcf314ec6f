// SPDX-License-Identifier: GPL-2.0
/*
 * userfaultfd write protection over huge DAX mappings.  With
 * UFFD_FEATURE_WP_ASYNC any VMA can be registered for write protection.
 * Unregistering resolves the protection of the whole range; a PUD leaf
 * never carries the uffd-wp bit (protecting one splits it), so there is
 * nothing to resolve there and nothing to warn about.  6.12 warns in
 * change_huge_pud(), because it tests for either uffd flag; the series
 * fixes that in its first patch.
 *
 * Behavioural.  Not run on the baseline, whose warning would fail the run.
 */
#include "lab_harness.h"

#include <linux/userfaultfd.h>
#include <sys/syscall.h>

static int uffd_open(void)
{
	return syscall(__NR_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
}

LAB_REGION_FIXTURE(uffd);
LAB_VARIANT(uffd);
LAB_VARIANT_ADD(uffd, devdax1g, LAB_DAX1G);
LAB_VARIANT_ADD(uffd, devdax2m, LAB_DAX2M);
LAB_VARIANT_ADD(uffd, xfs, LAB_XFS);
LAB_REGION_SETUP(uffd);

/*
 * Register a huge mapping for asynchronous write protection, protect
 * nothing, unregister: no kernel warning, the mapping and its data stay.
 */
TEST_F_TIMEOUT(uffd, unregister_wp_over_huge_mapping_is_quiet, 60)
{
	const struct lab_dax *dax = &variant->dax;
	size_t len = lab_span(dax);
	struct uffdio_api api = {
		.api = UFFD_API,
		.features = UFFD_FEATURE_WP_ASYNC,
	};
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct uffdio_range range;
	struct lab_page_info info;
	char msg[256];
	int fd, kmsg;

	if (!strcmp(lab_kernel(), "baseline"))
		SKIP(return, "not run on the baseline: it warns in change_huge_pud(), which fails the run");
	lab_map_or_fail(_metadata, &self->r, "uffd", len, len, 0, dax->huge);
	lab_touch_or_fail(_metadata, self->probe, &self->r, 0, &info);
	lab_want_level(_metadata, &self->r, &info,
		       dax->huge == SZ_1G ? LAB_LEVEL_PUD : LAB_LEVEL_PMD);

	fd = uffd_open();
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		SKIP(return, "userfaultfd() not available: %s", strerror(errno));
	ASSERT_LE(0, fd) TH_LOG("userfaultfd: %s", strerror(errno));
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		if (errno == EINVAL)
			SKIP(return, "this kernel has no UFFD_FEATURE_WP_ASYNC");
		ASSERT_EQ(0, errno) TH_LOG("UFFDIO_API: %s", strerror(errno));
	}
	kmsg = lab_kmsg_open();
	ASSERT_LE(0, kmsg) TH_LOG("open /dev/kmsg: %s", strerror(errno));

	reg.range.start = (uintptr_t)self->r.addr;
	reg.range.len = len;
	ASSERT_EQ(0, ioctl(fd, UFFDIO_REGISTER, &reg))
		TH_LOG("UFFDIO_REGISTER (WP) of %s: %s", dax->name, strerror(errno));
	range = reg.range;
	ASSERT_EQ(0, ioctl(fd, UFFDIO_UNREGISTER, &range))
		TH_LOG("UFFDIO_UNREGISTER: %s", strerror(errno));
	close(fd);

	EXPECT_EQ(0, lab_kmsg_warning(kmsg, msg, sizeof(msg)))
		TH_LOG("unregistering warned: %s", msg);
	close(kmsg);
	EXPECT_EQ(-1, lab_check(self->r.addr, SZ_4K, SZ_4K, lab_seed(dax->name)))
		TH_LOG("the data changed");
}

TEST_HARNESS_MAIN
