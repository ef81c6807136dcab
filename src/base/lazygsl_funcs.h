/* lazygsl_funcs.h -- the GSL functions and variables heimdall-rec calls: one list for lazygsl.c (the forwarders) and gslmod.c (the module that holds them). */

#ifndef LAZYGSL_FUNCS_H
#define LAZYGSL_FUNCS_H

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

/* GSL's variables the callers name (lazygsl.h): (name, lazygsl's pointer
 * to it). */
#define GSL_VARS(X) \
	X(gsl_multifit_nlinear_trust, lazygsl_nlinear_trust) \
	X(gsl_multifit_nlinear_trs_lm, lazygsl_nlinear_trs_lm) \
	X(gsl_multifit_nlinear_scale_more, lazygsl_nlinear_scale_more) \
	X(gsl_root_fsolver_brent, lazygsl_root_fsolver_brent)

#endif
