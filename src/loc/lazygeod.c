/* lazygeod.c -- the geodesic module loaded on first use: geodmod.h's functions, forwarded by src/base/dynlib. */

#include <pthread.h>
#include <stddef.h>
#include <unistd.h>

#include "src/base/dynlib.h"
#include "src/loc/lazygeod.h"

/* meson.build defines both (absolute paths of libheimdall-geodesic.so). */
#ifndef GEODMOD_BUILD_PATH
#error "GEODMOD_BUILD_PATH is defined by meson.build"
#endif
#ifndef GEODMOD_INSTALL_PATH
#error "GEODMOD_INSTALL_PATH is defined by meson.build"
#endif

/* Every function of the module: (name, parameters, arguments); both
 * return nothing and need the module. */
#define GEOD_FUNCS(X, V) \
	V(geo_inverse, (double lat1, double lon1, double lat2, double lon2, \
	    double *s12, double *azi1, double *azi2), (lat1, lon1, lat2, \
	    lon2, s12, azi1, azi2)) \
	V(geo_direct, (double lat1, double lon1, double azi1, double s12, \
	    double *lat2, double *lon2, double *azi2), (lat1, lon1, azi1, \
	    s12, lat2, lon2, azi2))

GEOD_FUNCS(DYNLIB_PTR, DYNLIB_PTRV)

static const struct dynlib_sym geod_syms[] = {
	GEOD_FUNCS(DYNLIB_SYM, DYNLIB_SYMV)
	{ NULL, NULL }
};

static struct dynlib	geod = DYNLIB_INIT(GEODMOD_INSTALL_PATH, geod_syms);
static pthread_once_t	where_once = PTHREAD_ONCE_INIT;

/* The build folder's module when there is one (the tests, the benchmarks
 * and a binary run where it was built), else the installed one. */
static void
where(void)
{
	if (access(GEODMOD_BUILD_PATH, R_OK) == 0)
		geod.soname = GEODMOD_BUILD_PATH;
}

int
lazygeod_load(char *err, size_t errlen)
{
	pthread_once(&where_once, where);
	return dynlib_load(&geod, err, errlen);
}

/* They compute (none frees): a call without the module aborts. */
#define GEOD_FWD(ret, name, params, args) DYNLIB_FWD(geod, ret, name, params, \
	args)
#define GEOD_FWDV(name, params, args) DYNLIB_FWD_VOID(geod, name, params, args)
GEOD_FUNCS(GEOD_FWD, GEOD_FWDV)
