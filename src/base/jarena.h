/*
 * jarena.h -- a bump arena for jansson's allocations, for one thread and
 * one stretch of time. Between jarena_begin() and jarena_end() the
 * calling thread's jansson allocations (a manifest of a few MB parses
 * into hundreds of thousands of small objects) come from one mapping,
 * backed by transparent huge pages where the kernel allows it, and
 * freeing them costs nothing; everything else -- other threads, other
 * times, a request past the arena's end -- goes to malloc and free as
 * usual. Arena memory is never reused (freeing it is a no-op), so it suits
 * a short command that parses a bounded amount (sync), not a long-running
 * process.
 *
 * Why: in `sync --db` malloc, the first touch of each 4-KiB page of the
 * parsed manifest and the frees were about half of the process's CPU.
 *
 * Contract: call jarena_begin before other threads use jansson. Within a
 * window json_dumps' result comes from the arena too: release it with
 * jarena_free, not free() (util_json_dumps, which mallocs its own buffer,
 * is unaffected).
 */
#ifndef JARENA_H
#define JARENA_H

#include <stddef.h>

/* Map an arena of bytes (once per process; later calls reuse it) and
 * route jansson's allocations through it for the calling thread until
 * jarena_end. 0, or -1 (nothing changed: malloc as before). */
int	jarena_begin(size_t bytes);
void	jarena_end(void);
/* free() for memory that may come from the arena. */
void	jarena_free(void *p);
/* 1 if p lies in the arena (tests). */
int	jarena_owns(const void *p);

#endif
