/* jarena.c -- a bump arena for jansson's allocations during one thread's window (sync's manifest parse). */

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <jansson.h>

#include "src/base/jarena.h"

#define HUGE_PAGE	((size_t)2 << 20)

static char		*base;		/* set once, before the funcs */
static size_t		 cap;
static size_t		 used;		/* atomic */
static __thread int	 active;

static void *
ja_malloc(size_t n)
{
	size_t	need = (n + 15) & ~(size_t)15, off;

	if (active && need >= n) {
		off = __atomic_fetch_add(&used, need, __ATOMIC_RELAXED);
		if (off <= cap && need <= cap - off)
			return base + off;
	}
	return malloc(n);
}

int
jarena_owns(const void *p)
{
	return p != NULL && base != NULL && (const char *)p >= base &&
	    (const char *)p < base + cap;
}

void
jarena_free(void *p)
{
	/* the arena's own memory is never reused: nothing to do */
	if (jarena_owns(p))
		return;
	free(p);
}

int
jarena_begin(size_t bytes)
{
	void		*m;
	uintptr_t	 a;

	if (base == NULL) {
		if (bytes < HUGE_PAGE)
			return -1;
		/* reserved, not committed: pages count once touched */
		m = mmap(NULL, bytes + HUGE_PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m == MAP_FAILED)
			return -1;
		/* huge pages need 2-MB-aligned ranges: one fault per 2 MB
		 * instead of per 4 KiB (best effort: THP may be off) */
		a = ((uintptr_t)m + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
		(void)madvise((void *)a, bytes, MADV_HUGEPAGE);
		base = (char *)a;
		cap = bytes;
		/* objects made before now were malloc'd: jarena_free
		 * passes them to free() */
		json_set_alloc_funcs(ja_malloc, jarena_free);
	}
	active = 1;
	return 0;
}

void
jarena_end(void)
{
	active = 0;
}
