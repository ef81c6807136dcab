/* lazyproj.c -- PROJ loaded on first use: the geodesic functions fix.c calls, forwarded by src/base/dynlib. */

#include <stddef.h>

#include <geodesic.h>
#include <proj.h>

#include "src/base/dynlib.h"
#include "src/loc/lazyproj.h"

/*
 * The soname: PROJ changes it with its major releases, when its ABI
 * changes (PROJ 9.x, Debian's libproj25: libproj.so.25). The geod_*
 * functions themselves have not changed since PROJ 4.9, but fix.c lays
 * out struct geod_geodesic itself from the geodesic.h it compiles
 * against, so it takes the library that header belongs to: a PROJ 10
 * header must come with a new soname here (the check below stops the
 * build until then). Not the unversioned "libproj.so": that link exists
 * only with libproj-dev, and would take whatever ABI is installed.
 */
#if PROJ_VERSION_MAJOR != 9
#error "PROJ_SONAME is libproj.so.25, PROJ 9's: check the new soname (objdump -p libproj.so | grep SONAME)"
#endif
#define PROJ_SONAME	"libproj.so.25"

/*
 * Every PROJ function src/loc calls: (return type, name, parameters,
 * arguments); all three return nothing and need the library. Calling
 * another one means adding it here (the link fails otherwise: PROJ is not
 * linked).
 */
#define PROJ_FUNCS(X, V) \
	V(geod_init, (struct geod_geodesic *g, double a, double f), \
	    (g, a, f)) \
	V(geod_direct, (const struct geod_geodesic *g, double lat1, \
	    double lon1, double azi1, double s12, double *plat2, \
	    double *plon2, double *pazi2), (g, lat1, lon1, azi1, s12, plat2, \
	    plon2, pazi2)) \
	V(geod_inverse, (const struct geod_geodesic *g, double lat1, \
	    double lon1, double lat2, double lon2, double *ps12, \
	    double *pazi1, double *pazi2), (g, lat1, lon1, lat2, lon2, ps12, \
	    pazi1, pazi2))

PROJ_FUNCS(DYNLIB_PTR, DYNLIB_PTRV)

static const struct dynlib_sym proj_syms[] = {
	PROJ_FUNCS(DYNLIB_SYM, DYNLIB_SYMV)
	{ NULL, NULL }
};

static struct dynlib	proj = DYNLIB_INIT(PROJ_SONAME, proj_syms);

int
lazyproj_load(char *err, size_t errlen)
{
	return dynlib_load(&proj, err, errlen);
}

/* They compute (none frees): a call without the library aborts. */
#define PROJ_FWD(ret, name, params, args) DYNLIB_FWD(proj, ret, name, params, \
	args)
#define PROJ_FWDV(name, params, args) DYNLIB_FWD_VOID(proj, name, params, args)
PROJ_FUNCS(PROJ_FWD, PROJ_FWDV)
