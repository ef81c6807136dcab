/* test_lazylib.c -- libpq and libcurl that cannot be used: the central
 * store says so and does not crash. Run with LD_LIBRARY_PATH on the tests
 * build folder, whose libpq.so.5 and libcurl.so.4 (tests/fakelib.c) define
 * none of the functions. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pq),
		cmocka_unit_test(test_curl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
