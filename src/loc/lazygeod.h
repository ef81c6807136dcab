/*
 * lazygeod.h -- the geodesic module (src/loc/geodmod.h: WGS84 geodesics
 * from GeographicLib), loaded when a position fix is first computed
 * rather than linked.
 *
 * Why not linked: GeographicLib is C++, so it brings libstdc++ and
 * libgcc_s to every start of heimdall-rec, fix or no fix (~3 ms of CPU).
 * Why not PROJ's geodesic.h, as before: libproj.so.25 drags 38 shared
 * objects along (libcurl, libtiff, sqlite, libstdc++...): loading it on
 * the first fix cost ~30 ms of CPU, two thirds of what localization added
 * to a 10-s session of 7 stations (bench/README.md, "What localization
 * costs"); the module loads in ~1 ms: GeographicLib and the part of
 * libstdc++ it uses are linked into it (meson.build), one object to map
 * instead of three shared libraries (~3 ms).
 *
 * Where: libheimdall-geodesic.so in the build folder only for a program
 * that lives in the build folder (tests, benchmarks, heimdall-rec run from
 * its build tree); an installed binary never looks there, and loads the
 * installed module (next to it, else LIBDIR/heimdall-rec/: lazygeod.c says
 * why). It needs nothing beyond libc and libm (built where
 * libGeographicLib.a is found; else it needs libGeographicLib.so.23).
 *
 * fix.c's entry points call lazygeod_load() before anything else: without
 * the module they answer "cannot load .../libheimdall-geodesic.so: ..."
 * (no fix) instead of crashing. A geo_* call without a successful load
 * aborts (a bug).
 */
#ifndef LAZYGEOD_H
#define LAZYGEOD_H

#include <stddef.h>

#include "src/loc/geodmod.h"

/* Load the module (once; thread-safe). 0, or -1 and a message in err. */
int	lazygeod_load(char *err, size_t errlen);

#endif
