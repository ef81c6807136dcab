/*
 * lazygsl.h -- GSL (libgsl and its libgslcblas), loaded when a position fix
 * or a training-array export first needs it rather than linked: fix.c
 * (src/loc) and arrays.c (store) include this header instead of GSL's.
 *
 * Why: a linked library is loaded, relocated and initialized at every start
 * of heimdall-rec. libgsl and libgslcblas are two shared objects and ~3,300
 * relocations that only the fix (GPS-timed sessions, `locate`) and the
 * export's resampling window use; a `record` without GPS, `serve`, `sync`
 * paid for them at each start (with ncurses, ~1-2 ms of CPU:
 * bench/README.md, "The fixed part at 7 stations", branch boot5).
 *
 * How: lazygsl.c defines the GSL functions they call, with GSL's names and
 * prototypes, forwarding to the real ones (src/base/dynlib.h, as
 * store/lazylib.c does for libpq; the list: lazygsl_funcs.h). The real
 * ones are in the GSL module (src/base/gslmod.c, libheimdall-gsl.so: GSL's
 * static archives in one object, ~1.3 ms less to load than the two shared
 * libraries) where the build made it, else in libgsl.so.27. The four solver types they name are
 * GSL variables, not functions: below, each name is a macro for the
 * library's own variable, reached through a pointer that the load fills
 * in (dlsym gives the variable's address); before the load they lead to
 * NULL stand-ins.
 *
 * The callers' entry points call lazygsl_load() before any other GSL
 * call: a missing library is then a clear error ("cannot load
 * libgsl.so.27: ..."). A forwarding function reached without it loads the
 * library itself (or aborts naming the function if it cannot: a bug).
 */
#ifndef LAZYGSL_H
#define LAZYGSL_H

#include <stddef.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_integration.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_roots.h>
#include <gsl/gsl_sf_bessel.h>
#include <gsl/gsl_vector.h>

/* Load GSL (once; thread-safe). 0, or -1 and a message in err. */
int	lazygsl_load(char *err, size_t errlen);

/* GSL's variables. The macros also turn GSL's own declarations, should a
 * header be included again, into declarations of these pointers' targets
 * with the same types: they agree. */
extern const gsl_multifit_nlinear_type	**lazygsl_nlinear_trust;
extern const gsl_multifit_nlinear_trs	**lazygsl_nlinear_trs_lm;
extern const gsl_multifit_nlinear_scale	**lazygsl_nlinear_scale_more;
extern const gsl_root_fsolver_type	**lazygsl_root_fsolver_brent;

#define gsl_multifit_nlinear_trust	(*lazygsl_nlinear_trust)
#define gsl_multifit_nlinear_trs_lm	(*lazygsl_nlinear_trs_lm)
#define gsl_multifit_nlinear_scale_more	(*lazygsl_nlinear_scale_more)
#define gsl_root_fsolver_brent		(*lazygsl_root_fsolver_brent)

#endif
