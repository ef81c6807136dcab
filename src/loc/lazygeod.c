/* lazygeod.c -- the geodesic module loaded on first use: geodmod.h's functions, forwarded by src/base/dynlib. */

#include <stddef.h>

#include "src/base/dynlib.h"
#include "src/loc/lazygeod.h"

/* meson.build defines them: the absolute paths of libheimdall-geodesic.so
 * in the build folder and where it installs it, and the latter relative
 * to the installed binary's folder ("" when it cannot say). */
#ifndef GEODMOD_BUILD_PATH
#error "GEODMOD_BUILD_PATH is defined by meson.build"
#endif
#ifndef GEODMOD_INSTALL_PATH
#error "GEODMOD_INSTALL_PATH is defined by meson.build"
#endif
#ifndef GEODMOD_INSTALL_REL
#define GEODMOD_INSTALL_REL ""
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

/* Which copy: DYNLIB_INIT_MODULE (the build folder's for a program that
 * lives there, else the installed one). */
static struct dynlib	geod = DYNLIB_INIT_MODULE(GEODMOD_BUILD_PATH,
    GEODMOD_INSTALL_PATH, GEODMOD_INSTALL_REL, geod_syms);

int
lazygeod_load(char *err, size_t errlen)
{
	return dynlib_load(&geod, err, errlen);
}

/* They compute (none frees): a call without the module aborts. */
#define GEOD_FWD(ret, name, params, args) DYNLIB_FWD(geod, ret, name, params, \
	args)
#define GEOD_FWDV(name, params, args) DYNLIB_FWD_VOID(geod, name, params, args)
GEOD_FUNCS(GEOD_FWD, GEOD_FWDV)
