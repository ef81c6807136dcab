/* lazygsl.c -- GSL loaded on first use: the functions and variables fix.c and arrays.c use, forwarded by src/base/dynlib (see lazygsl.h). */

#include <stddef.h>

#include "src/base/dynlib.h"
#include "src/base/lazygsl.h"
#include "src/base/lazygsl_funcs.h"

/*
 * The GSL module (src/base/gslmod.c: GSL's static archives in one object,
 * ~1.3 ms less CPU to load) where the build made one: which of its copies
 * as DYNLIB_INIT_MODULE says (meson.build defines the paths). Else
 * libgsl.so.27: the soname of GSL 2.7's ABI (Debian's libgsl27), which the
 * headers we compile against describe; GSL changes it when its ABI
 * changes. It needs libgslcblas.so.0, which the dynamic loader brings
 * along.
 */
#define GSL_SONAME	"libgsl.so.27"
#ifndef GSLMOD_INSTALL_REL
#define GSLMOD_INSTALL_REL ""
#endif

GSL_FUNCS(DYNLIB_PTR, DYNLIB_PTRV, DYNLIB_PTRV)

/* The variables: NULL stand-ins until the load points at the real ones. */
static const gsl_multifit_nlinear_type	*none_trust;
static const gsl_multifit_nlinear_trs	*none_trs;
static const gsl_multifit_nlinear_scale	*none_scale;
static const gsl_root_fsolver_type	*none_brent;

const gsl_multifit_nlinear_type		**lazygsl_nlinear_trust = &none_trust;
const gsl_multifit_nlinear_trs		**lazygsl_nlinear_trs_lm = &none_trs;
const gsl_multifit_nlinear_scale	**lazygsl_nlinear_scale_more =
					    &none_scale;
const gsl_root_fsolver_type		**lazygsl_root_fsolver_brent =
					    &none_brent;

/* dlsym's answer for a variable is its address: written through void **
 * like the function slots, before dynlib_load publishes the load
 * (release). A failed load may leave some pointing into the library it
 * closed again: they are read only after a successful load. */
static const struct dynlib_sym gsl_syms[] = {
#define GSL_VARSYM(name, ptr)	{ #name, (void **)&ptr },
	GSL_FUNCS(DYNLIB_SYM, DYNLIB_SYMV, DYNLIB_SYMV)
	GSL_VARS(GSL_VARSYM)
	{ NULL, NULL }
};

#ifdef GSLMOD_BUILD_PATH
static struct dynlib gsl_lib = DYNLIB_INIT_MODULE(GSLMOD_BUILD_PATH,
    GSLMOD_INSTALL_PATH, GSLMOD_INSTALL_REL, gsl_syms);
#else
static struct dynlib gsl_lib = DYNLIB_INIT(GSL_SONAME, gsl_syms);
#endif

#define GSL_FWD(r, n, p, a)	DYNLIB_FWD(gsl_lib, r, n, p, a)
#define GSL_FWDV(n, p, a)	DYNLIB_FWD_VOID(gsl_lib, n, p, a)
/* The frees: nothing of a library never loaded can exist. */
#define GSL_FWDF(n, p, a)	DYNLIB_FWD_FREE(gsl_lib, n, p, a)
GSL_FUNCS(GSL_FWD, GSL_FWDV, GSL_FWDF)

int
lazygsl_load(char *err, size_t errlen)
{
	return dynlib_load(&gsl_lib, err, errlen);
}
