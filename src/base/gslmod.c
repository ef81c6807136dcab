/* gslmod.c -- the GSL module: the GSL functions and variables lazygsl.c forwards to, linked from GSL's static archives into one shared object (libheimdall-gsl.so, loaded by src/base/lazygsl.c). */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_vector.h>

#include "src/base/lazygsl_funcs.h"

/*
 * Why a module: libgsl.so.27 and libgslcblas.so.0 are two shared objects
 * and ~3,300 relocations, most against their own exported symbols, that
 * the first fix of every session paid for in its dlopen (~2 ms of CPU on
 * this project's VMs). Linked from libgsl.a and libgslcblas.a (Debian's
 * libgsl-dev ships both), only the archive members these functions need
 * come in, and -Bsymbolic (meson.build) binds their references to each
 * other at link time: ~130 relocations, ~0.8 ms (bench/README.md, loc7).
 *
 * The table below is what pulls them in: each function and variable the
 * list names is referenced here, so the linker takes its member from the
 * archives; lazygsl.c finds them by their own names with dlsym.
 */
#define KEEP_X(ret, name, params, args)	(const void *)name,
#define KEEP_V(name, params, args)	(const void *)name,
#define KEEP_VAR(name, ptr)		(const void *)&name,
const void *const heimdall_gsl_keep[] = {
	GSL_FUNCS(KEEP_X, KEEP_V, KEEP_V)
	GSL_VARS(KEEP_VAR)
	NULL
};

/*
 * CBLAS's error handler, which the BLAS routines call with a bad argument
 * (a bug: GSL checks its own). GSL's (libgslcblas.a, xerbla.o) is the
 * archive's one member built without -fPIC, so it cannot go into a shared
 * object; this one does what it does: say which parameter of which
 * routine, then abort.
 */
void
cblas_xerbla(int p, const char *rout, const char *form, ...)
{
	va_list	ap;

	va_start(ap, form);
	if (p)
		fprintf(stderr, "Parameter %d to routine %s was incorrect\n",
		    p, rout);
	vfprintf(stderr, form, ap);
	va_end(ap);
	abort();
}
