/*
 * asan-exit.c: the sanitizer build's leak check at exit, made cheaper.
 * Compiled to nothing unless the tool is built with AddressSanitizer
 * (configure --enable-sanitizers).
 *
 * LeakSanitizer's check at exit scans the writable data of every loaded
 * object for pointers, the ASan runtime's own 5.6 MB among them (its
 * stack depot's table, 4.4 MB, is mostly never written).  Read page by
 * page, each page never touched is a page fault: a thousand in every
 * run.  Just before the check, one madvise(MADV_POPULATE_READ) maps
 * them in one system call, and a sanitized hdpgp-verify -c takes an
 * eighth less CPU time.  What is scanned, and what the check finds, do
 * not change.  doc/DESIGN, "The test suite".
 */
#include "config.h"

#if defined(__SANITIZE_ADDRESS__)
#define HD_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HD_ASAN 1
#endif
#endif

#ifdef HD_ASAN
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22	/* Linux 5.14 */
#endif

static int
populate_runtime(struct dl_phdr_info *info, size_t size, void *unused)
{
	const ElfW(Phdr) *ph;
	uintptr_t start, end, page;
	int i;

	(void)size;
	(void)unused;
	if (strstr(info->dlpi_name, "/libasan.") == NULL)
		return 0;
	page = (uintptr_t)sysconf(_SC_PAGESIZE);
	for (i = 0; i < info->dlpi_phnum; i++) {
		ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || (ph->p_flags & PF_W) == 0)
			continue;
		start = (info->dlpi_addr + ph->p_vaddr) & ~(page - 1);
		end = (info->dlpi_addr + ph->p_vaddr + ph->p_memsz + page - 1) &
		    ~(page - 1);
		/* a hint: where it fails (an older kernel), the scan faults */
		(void)madvise((void *)start, end - start, MADV_POPULATE_READ);
	}
	return 1;
}

static void
populate_at_exit(void)
{
	dl_iterate_phdr(populate_runtime, NULL);
}

/*
 * The runtime registers its check with atexit(3) as it starts, before
 * the tool's constructors run: this handler, registered later, runs
 * before it.  (At start, the pages would be copied by every fork.)
 */
__attribute__((constructor)) static void
asan_exit_init(void)
{
	atexit(populate_at_exit);
}
#else
typedef int hd_asan_exit_unused;	/* ISO C: no empty translation unit */
#endif
