/*
 * lazyproj.h -- PROJ (its geodesic functions), loaded when a position fix
 * is first computed rather than when the program starts.
 *
 * Linked, libproj.so.25 added 38 shared objects (itself, libcurl, libtiff,
 * sqlite, libstdc++...) that every start of heimdall-rec loaded, relocated
 * and initialized, fix or no fix: 56 objects instead of 18, 42 ms of CPU
 * for `--version` instead of 15 (bench/README.md; src/base/dynlib.h says
 * why and how). Instead, lazyproj.c defines the geod_* functions fix.c calls, with PROJ's own
 * prototypes (geodesic.h), each forwarding to the real one; the program
 * only compiles against PROJ's headers.
 *
 * fix.c's entry points call lazyproj_load() before anything else: without
 * PROJ they answer "cannot load libproj.so.25: ..." (no fix) instead of
 * crashing. A geod_* call without a successful load aborts (a bug).
 */
#ifndef LAZYPROJ_H
#define LAZYPROJ_H

#include <stddef.h>

/* Load PROJ (once; thread-safe). 0, or -1 and a message in err. */
int	lazyproj_load(char *err, size_t errlen);

#endif
