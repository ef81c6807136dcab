/* lazygeod.c -- the geodesic module loaded on first use: geodmod.h's functions, forwarded by src/base/dynlib. */

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

static struct dynlib	geod = DYNLIB_INIT(GEODMOD_INSTALL_PATH, geod_syms);
static pthread_once_t	where_once = PTHREAD_ONCE_INIT;
static char		where_path[PATH_MAX];

/*
 * Which module a process loads (dlopen runs its code in this process, so
 * the choice is a matter of trust, not only of finding it):
 *
 * - A program that lives in the build folder (heimdall-rec, the unit tests
 *   and benchmarks run from the build tree) loads the build folder's
 *   module: the one built with it, not an older installed one.
 * - Any other program -- an installed heimdall-rec -- never looks in the
 *   build folder whose path was compiled in: that folder may be gone,
 *   rebuilt from other sources, or writable by someone who must not run
 *   code in a service. It loads the installed module: first the one next
 *   to it (GEODMOD_INSTALL_REL from the binary's folder, as installed
 *   together: also an install under --destdir or a staged package), else
 *   the configured LIBDIR/heimdall-rec/ path.
 *
 * "Lives in the build folder": /proc/self/exe (the kernel's resolved path
 * of the running binary) is under the build folder (the folder of
 * GEODMOD_BUILD_PATH, resolved). A failure anywhere keeps the configured
 * installed path, whose error message then names it.
 */
static void
where(void)
{
	char	 exe[PATH_MAX], dir[PATH_MAX], root[PATH_MAX], *p;
	ssize_t	 n;
	size_t	 rl;

	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) <= 0)
		return;
	exe[n] = '\0';
	snprintf(dir, sizeof dir, "%s", GEODMOD_BUILD_PATH);
	if ((p = strrchr(dir, '/')) != NULL && p != dir) {
		*p = '\0';
		if (realpath(dir, root) != NULL) {
			rl = strlen(root);
			if (strncmp(exe, root, rl) == 0 && exe[rl] == '/') {
				if (access(GEODMOD_BUILD_PATH, R_OK) == 0)
					geod.soname = GEODMOD_BUILD_PATH;
				return;
			}
		}
	}
	if (GEODMOD_INSTALL_REL[0] == '\0' || (p = strrchr(exe, '/')) == NULL)
		return;
	*p = '\0';
	if ((size_t)snprintf(where_path, sizeof where_path, "%s/%s", exe,
	    GEODMOD_INSTALL_REL) < sizeof where_path &&
	    access(where_path, R_OK) == 0)
		geod.soname = where_path;
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
