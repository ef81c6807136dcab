/* test_lazygsl.c -- GSL that cannot be used (src/base/lazygsl.c): the
 * position fix and the export say so and do not crash. Run with
 * LD_LIBRARY_PATH on tests/fakelibs in the build folder, whose libgsl.so.27
 * (tests/fakelib.c) defines none of GSL's functions, and built with its
 * own lazygsl.c whose GSL module is that library (tests/meson.build). */

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "src/base/lazygsl.h"
#include "src/loc/fix.h"
#include "store/arrays.h"

#define NO_GSL	"libgsl.so.27 has no gsl_"

static void
test_no_gsl(void **state)
{
	/* a fix that GSL would solve: three receivers, consistent pairs */
	struct fix_rx		 rx[3] = { { 50.0, 8.0, 0 }, { 50.5, 9.0, 0 },
	    { 49.5, 9.5, 0 } };
	struct fix_meas		 m[3] = { { 0, 1, 1e-5, 1e-7 },
	    { 0, 2, 2e-5, 1e-7 }, { 1, 2, 1e-5, 1e-7 } };
	struct fix_result	 r, chunks[2];
	struct arrays_opts	 o = { NULL, 0, 0 };
	char			 err[256], out[256];

	(void)state;
	err[0] = '\0';
	assert_int_equal(lazygsl_load(err, sizeof err), -1);
	assert_non_null(strstr(err, NO_GSL));
	/* the variables were never pointed into the library */
	assert_null(gsl_root_fsolver_brent);
	assert_null(gsl_multifit_nlinear_trust);
	err[0] = '\0';
	assert_int_equal(fix_prepare(err, sizeof err), -1);
	assert_non_null(strstr(err, NO_GSL));
	assert_int_equal(fix_solve(rx, 3, m, 3, NULL, &r), -1);
	assert_int_equal(r.ok, 0);
	assert_non_null(strstr(r.reason, NO_GSL));
	memset(chunks, 0, sizeof chunks);
	for (int k = 0; k < 2; k++) {
		chunks[k].ok = 1;
		chunks[k].lat = 50.1 + 0.001 * k;
		chunks[k].lon = 8.9;
		chunks[k].cov_en[0] = chunks[k].cov_en[2] = 1e6;
	}
	assert_int_equal(fix_combine(chunks, 2, &r), -1);
	assert_int_equal(r.ok, 0);
	assert_non_null(strstr(r.reason, NO_GSL));
	assert_true(isnan(fix_cep_m(100, 100, 0.5)));
	/* the export: before it reads anything (libzip, libsoxr are real) */
	err[0] = '\0';
	assert_int_equal(arrays_export(NULL,
	    "0b4c5b1e-8c53-4a34-9c54-2f2d1e0b9a77", &o, out, sizeof out, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, NO_GSL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_gsl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
