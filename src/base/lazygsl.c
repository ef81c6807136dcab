/* lazygsl.c -- GSL loaded on first use: the functions and variables fix.c and arrays.c use, forwarded by src/base/dynlib (see lazygsl.h). */

#include <stddef.h>

#include "src/base/dynlib.h"
#include "src/base/lazygsl.h"

/*
 * libgsl.so.27: the soname of GSL 2.7's ABI (Debian's libgsl27), which the
 * headers we compile against describe; GSL changes it when its ABI
 * changes. It needs libgslcblas.so.0, which the dynamic loader brings
 * along.
 */
#define GSL_SONAME	"libgsl.so.27"

/*
 * Every GSL function fix.c and arrays.c call (gsl_vector_get and _set are
 * functions here: the build does not define HAVE_INLINE). Calling another
 * one means adding it here: the link fails otherwise, as GSL is not
 * linked. X returns a value, V nothing, F frees (and does nothing when
 * GSL was never loaded).
 */
#define GSL_FUNCS(X, V, F) \
	X(gsl_error_handler_t *, gsl_set_error_handler_off, (void), ()) \
	X(double, gsl_sf_bessel_I0, (const double x), (x)) \
	X(double, gsl_cdf_ugaussian_Pinv, (const double P), (P)) \
	X(gsl_vector *, gsl_vector_alloc, (const size_t n), (n)) \
	F(gsl_vector_free, (gsl_vector *v), (v)) \
	X(double, gsl_vector_get, (const gsl_vector *v, const size_t i), \
	    (v, i)) \
	V(gsl_vector_set, (gsl_vector *v, const size_t i, double x), \
	    (v, i, x)) \
	X(_gsl_vector_view, gsl_vector_view_array, (double *v, size_t n), \
	    (v, n)) \
	X(gsl_matrix *, gsl_matrix_alloc, (const size_t n1, const size_t n2), \
	    (n1, n2)) \
	F(gsl_matrix_free, (gsl_matrix *m), (m)) \
	X(double, gsl_matrix_get, (const gsl_matrix *m, const size_t i, \
	    const size_t j), (m, i, j)) \
	V(gsl_matrix_set, (gsl_matrix *m, const size_t i, \
	    const size_t j, const double x), (m, i, j, x)) \
	X(_gsl_matrix_view, gsl_matrix_view_array, (double *base, \
	    const size_t n1, const size_t n2), (base, n1, n2)) \
	X(gsl_eigen_symmv_workspace *, gsl_eigen_symmv_alloc, \
	    (const size_t n), (n)) \
	F(gsl_eigen_symmv_free, (gsl_eigen_symmv_workspace *w), (w)) \
	X(int, gsl_eigen_symmv, (gsl_matrix *A, gsl_vector *eval, \
	    gsl_matrix *evec, gsl_eigen_symmv_workspace *w), \
	    (A, eval, evec, w)) \
	X(int, gsl_eigen_symmv_sort, (gsl_vector *eval, gsl_matrix *evec, \
	    gsl_eigen_sort_t t), (eval, evec, t)) \
	X(gsl_integration_workspace *, gsl_integration_workspace_alloc, \
	    (const size_t n), (n)) \
	F(gsl_integration_workspace_free, (gsl_integration_workspace *w), \
	    (w)) \
	X(int, gsl_integration_qag, (const gsl_function *f, double a, \
	    double b, double epsabs, double epsrel, size_t limit, int key, \
	    gsl_integration_workspace *w, double *result, double *abserr), \
	    (f, a, b, epsabs, epsrel, limit, key, w, result, abserr)) \
	X(gsl_multifit_nlinear_parameters, \
	    gsl_multifit_nlinear_default_parameters, (void), ()) \
	X(gsl_multifit_nlinear_workspace *, gsl_multifit_nlinear_alloc, \
	    (const gsl_multifit_nlinear_type *T, \
	    const gsl_multifit_nlinear_parameters *params, size_t n, \
	    size_t p), (T, params, n, p)) \
	F(gsl_multifit_nlinear_free, (gsl_multifit_nlinear_workspace *w), \
	    (w)) \
	X(int, gsl_multifit_nlinear_init, (const gsl_vector *x, \
	    gsl_multifit_nlinear_fdf *fdf, gsl_multifit_nlinear_workspace *w), \
	    (x, fdf, w)) \
	X(int, gsl_multifit_nlinear_iterate, \
	    (gsl_multifit_nlinear_workspace *w), (w)) \
	X(size_t, gsl_multifit_nlinear_niter, \
	    (const gsl_multifit_nlinear_workspace *w), (w)) \
	X(gsl_vector *, gsl_multifit_nlinear_position, \
	    (const gsl_multifit_nlinear_workspace *w), (w)) \
	X(gsl_vector *, gsl_multifit_nlinear_residual, \
	    (const gsl_multifit_nlinear_workspace *w), (w)) \
	X(int, gsl_multifit_nlinear_test, (const double xtol, \
	    const double gtol, const double ftol, int *info, \
	    const gsl_multifit_nlinear_workspace *w), \
	    (xtol, gtol, ftol, info, w)) \
	X(gsl_root_fsolver *, gsl_root_fsolver_alloc, \
	    (const gsl_root_fsolver_type *T), (T)) \
	F(gsl_root_fsolver_free, (gsl_root_fsolver *s), (s)) \
	X(int, gsl_root_fsolver_set, (gsl_root_fsolver *s, gsl_function *f, \
	    double x_lower, double x_upper), (s, f, x_lower, x_upper)) \
	X(int, gsl_root_fsolver_iterate, (gsl_root_fsolver *s), (s)) \
	X(double, gsl_root_fsolver_root, (const gsl_root_fsolver *s), (s)) \
	X(double, gsl_root_fsolver_x_lower, (const gsl_root_fsolver *s), (s)) \
	X(double, gsl_root_fsolver_x_upper, (const gsl_root_fsolver *s), (s)) \
	X(int, gsl_root_test_interval, (double x_lower, double x_upper, \
	    double epsabs, double epsrel), (x_lower, x_upper, epsabs, epsrel))

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
	GSL_FUNCS(DYNLIB_SYM, DYNLIB_SYMV, DYNLIB_SYMV)
	{ "gsl_multifit_nlinear_trust", (void **)&lazygsl_nlinear_trust },
	{ "gsl_multifit_nlinear_trs_lm", (void **)&lazygsl_nlinear_trs_lm },
	{ "gsl_multifit_nlinear_scale_more",
	    (void **)&lazygsl_nlinear_scale_more },
	{ "gsl_root_fsolver_brent", (void **)&lazygsl_root_fsolver_brent },
	{ NULL, NULL }
};

static struct dynlib gsl_lib = DYNLIB_INIT(GSL_SONAME, gsl_syms);

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
