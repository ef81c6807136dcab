/* test_lazylib.c -- libpq, libcurl, libzip, libsoxr and the geodesic
 * module that cannot be used: the central store, the export and the
 * position fix say so and do not crash. Run with LD_LIBRARY_PATH on the
 * tests build folder, whose libpq.so.5, libcurl.so.4, libzip.so.4 and
 * libsoxr.so.0 (tests/fakelib.c) define none of the functions; its own
 * copy of src/loc/lazygeod.c loads a libheimdall-geodesic.so that is not
 * a library at all (tests/meson.build), so that the module cannot load. */

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/loc/fix.h"
#include "src/loc/lazygeod.h"
#include "store/arrays.h"
#include "store/lazylib.h"
#include "store/pgstore.h"
#include "store/s3store.h"

static void
test_pq(void **state)
{
	char	err[256];

	(void)state;
	err[0] = '\0';
	assert_int_equal(lazylib_pq(err, sizeof err), -1);
	assert_non_null(strstr(err, "libpq.so.5 has no PQ"));
	/* the entry points fail with the same message */
	err[0] = '\0';
	assert_null(pgstore_connect("dbname=x", err, sizeof err));
	assert_non_null(strstr(err, "libpq.so.5 has no PQ"));
	err[0] = '\0';
	assert_int_equal(pgstore_conninfo_check("host=x dbname=y", err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "libpq.so.5 has no PQ"));
	/* a plain database name needs no parsing, hence no libpq */
	assert_int_equal(pgstore_conninfo_check("heimdall", err, sizeof err),
	    0);
	pgstore_close(NULL);
}

static void
test_curl(void **state)
{
	struct s3_config	c;
	char			err[256];

	(void)state;
	memset(&c, 0, sizeof c);
	snprintf(c.endpoint, sizeof c.endpoint, "http://127.0.0.1:9");
	snprintf(c.bucket, sizeof c.bucket, "heimdall");
	snprintf(c.region, sizeof c.region, "us-east-1");
	snprintf(c.access_key, sizeof c.access_key, "key");
	snprintf(c.secret_key, sizeof c.secret_key, "secret");
	assert_int_equal(s3_config_check(&c, err, sizeof err), 0);
	err[0] = '\0';
	assert_null(s3store_new(&c, err, sizeof err));
	assert_non_null(strstr(err, "libcurl.so.4 has no curl_"));
	err[0] = '\0';
	assert_int_equal(lazylib_curl(err, sizeof err), -1);
	assert_non_null(strstr(err, "libcurl.so.4 has no curl_"));
}

/* libzip and libsoxr (tests/fakelib.c again): the export says so before
 * it reads anything. */
static void
test_zip_soxr(void **state)
{
	struct arrays_opts	 o = { NULL, 0, 0 };
	char			 err[256], out[256];

	(void)state;
	err[0] = '\0';
	assert_int_equal(lazylib_zip(err, sizeof err), -1);
	assert_non_null(strstr(err, "libzip.so.4 has no zip_"));
	err[0] = '\0';
	assert_int_equal(lazylib_soxr(err, sizeof err), -1);
	assert_non_null(strstr(err, "libsoxr.so.0 has no soxr_"));
	err[0] = '\0';
	assert_int_equal(arrays_export(NULL,
	    "0b4c5b1e-8c53-4a34-9c54-2f2d1e0b9a77", &o, out, sizeof out, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "libzip.so.4 has no zip_"));
}

/* The loader's message: the module's path, then what is wrong with it
 * (here: not an ELF file). */
static void
assert_no_geod(const char *why)
{
	const char *p = strstr(why, "libheimdall-geodesic.so: ");

	assert_non_null(strstr(why, "cannot load /"));
	assert_non_null(p);
	assert_non_null(strstr(p, "file too short"));
}

/* The reason fix_solve and fix_combine give without the module. */
static void
assert_no_geod_fix(const struct fix_result *r)
{
	assert_int_equal(r->ok, 0);
	assert_true(isnan(r->lat) && isnan(r->lon));
	assert_no_geod(r->reason);
}

static void
test_geod(void **state)
{
	/* a fix that the module would solve: three receivers, consistent pairs */
	struct fix_rx	 rx[3] = { { 50.0, 8.0, 0 }, { 50.5, 9.0, 0 },
	    { 49.5, 9.5, 0 } };
	struct fix_meas	 m[3] = { { 0, 1, 1e-5, 1e-7 }, { 0, 2, 2e-5, 1e-7 },
	    { 1, 2, 1e-5, 1e-7 } };
	struct fix_result *r, *chunks;
	double		 res[3] = { 0, 0, 0 };
	char		 err[256];

	(void)state;
	r = calloc(1, sizeof(*r));
	chunks = calloc(2, sizeof(*chunks));
	assert_non_null(r);
	assert_non_null(chunks);
	err[0] = '\0';
	assert_int_equal(lazygeod_load(err, sizeof err), -1);
	assert_no_geod(err);
	err[0] = '\0';
	assert_int_equal(fix_prepare(err, sizeof err), -1);
	assert_no_geod(err);
	assert_int_equal(fix_solve(rx, 3, m, 3, NULL, r), -1);
	assert_no_geod_fix(r);
	/* two chunk fixes that would combine */
	for (int k = 0; k < 2; k++) {
		chunks[k].ok = 1;
		chunks[k].lat = 50.1 + 0.001 * k;
		chunks[k].lon = 8.9;
		chunks[k].cov_en[0] = chunks[k].cov_en[2] = 1e6;
	}
	assert_int_equal(fix_combine(chunks, 2, r), -1);
	assert_no_geod_fix(r);
	assert_true(isnan(fix_distance_m(50, 8, 50.5, 9)));
	assert_true(isnan(fix_expected_tdoa_s(&rx[0], &rx[1], 50.1, 8.9)));
	fix_residuals_us(rx, 3, m, 3, 50.1, 8.9, res);
	for (int i = 0; i < 3; i++)
		assert_true(isnan(res[i]));
	/* what needs no geodesic still works */
	assert_true(fix_cep_m(100, 100, 0.5) > 117 &&
	    fix_cep_m(100, 100, 0.5) < 118);
	free(r);
	free(chunks);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pq),
		cmocka_unit_test(test_curl),
		cmocka_unit_test(test_geod),
		cmocka_unit_test(test_zip_soxr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
