/* test_pgstore.c -- connection failures named and bounded in time (statements against a real server: e2e_store, e2e_store_faults). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/base/util.h"
#include "store/pgstore.h"

#include "loopsock.h"

static void
test_refused(void **state)
{
	char	url[128], err[1024];
	int	port;

	(void)state;
	loopsock(0, &port);
	snprintf(url, sizeof url, "postgresql://u@127.0.0.1:%d/db", port);
	assert_null(pgstore_connect(url, err, sizeof err));
	assert_non_null(strstr(err, "cannot connect to the database"));
	assert_non_null(strstr(err, "refused"));
	/* no trailing newline from libpq */
	assert_true(err[strlen(err) - 1] != '\n');
}

static void
test_silent_server_bounded(void **state)
{
	char	url[128], err[1024];
	double	t0;
	int	port, fd;

	(void)state;
	fd = loopsock(1, &port);	/* accepts, never speaks */
	snprintf(url, sizeof url, "postgresql://u@127.0.0.1:%d/db"
	    "?connect_timeout=2", port);
	t0 = util_mono();
	assert_null(pgstore_connect(url, err, sizeof err));
	assert_true(util_mono() - t0 < 6);
	assert_non_null(strstr(err, "cannot connect to the database"));
	close(fd);
}

static void
test_bad_url(void **state)
{
	char	err[1024];

	(void)state;
	assert_null(pgstore_connect("postgresql://[bad", err, sizeof err));
	assert_non_null(strstr(err, "cannot connect to the database"));
}

/* A password on the command line is refused however libpq would read it
 * (issue 10: "?pass%77ord=", "?%70assword=", "password = x" passed). */
static void
test_password_refused(void **state)
{
	static const char *bad[] = {
		"password=x",
		"host=h password=x",
		"host=h password = x",
		"host=h\tpassword\t=\tx",
		"host=h password='a b'",
		"host=h password=''",
		"postgresql://u@h/db?password=x",
		"postgresql://u@h/db?pass%77ord=x",
		"postgresql://u@h/db?%70assword=x",
		"postgresql://u@h/db?%70%61%73%73%77%6f%72%64=x",
		"postgres://u@h/db?sslmode=disable&password=x",
		"postgresql://u:secret@h/db",
		"postgresql://u%3Asecret:x@h/db",
		"postgresql://:secret@h/db",
	};
	static const char *good[] = {
		"postgresql://",
		"postgresql://u@h:5432/db",
		"postgres://u@h/db?sslmode=disable&connect_timeout=3",
		"host=h user=u dbname=db",
		"heimdall",			/* a database name */
		"host=h dbname=my_password_db",
		"postgresql://u@h/password",
		"host=h passfile=/tmp/pgpass",
		"postgresql://u@h/db?application_name=password%3Dx",
	};
	char	 err[512];
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		if (pgstore_conninfo_check(bad[i], err, sizeof err) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_non_null(strstr(err, "PGPASSWORD"));
		/* the message never repeats the secret */
		assert_null(strstr(err, "secret"));
	}
	for (i = 0; i < sizeof good / sizeof good[0]; i++)
		if (pgstore_conninfo_check(good[i], err, sizeof err) != 0)
			fail_msg("refused %s: %s", good[i], err);
	/* what libpq cannot parse is refused with its message */
	assert_int_equal(pgstore_conninfo_check("host=h bogus=1", err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "invalid connection string"));
	assert_non_null(strstr(err, "bogus"));
	assert_int_equal(pgstore_conninfo_check("host='unterminated", err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "invalid connection string"));
}

/*
 * The rows parameter: t0_ns (a chunk's first-sample time in ns, beyond
 * 2^53) reaches the bigint column digit for digit; a real or a string
 * there becomes NULL, never a wrong instant; a row from an older manifest
 * (no t0_ns, no sample_rate_hz) has no key, which jsonb_to_recordset
 * stores as NULL. (The statement against a real server: e2e_store.)
 */
static void
test_rows_param(void **state)
{
	json_t		*rows, *back, *r;
	char		*text;

	(void)state;
	rows = json_pack("[{s:I, s:s, s:f, s:f}, {s:f, s:s}, {s:s, s:s},"
	    " {s:n, s:n}, {s:i}]",
	    "t0_ns", (json_int_t)INT64_C(1795478400123456789),
	    "time_source", "gps", "sample_rate_hz", 12001.13,
	    "frequency_hz", 145000000.0,
	    "t0_ns", 1.7954784001234568e18, "sample_rate_hz", "fast",
	    "t0_ns", "soon", "time_source", "gps",
	    "t0_ns", "sample_rate_hz",
	    "chunk_index", 3);
	assert_non_null(rows);
	text = pgstore_rows_param(rows);
	assert_non_null(text);
	/* exact digits in the text sent */
	assert_non_null(strstr(text, "\"t0_ns\":1795478400123456789"));
	back = json_loads(text, 0, NULL);
	assert_non_null(back);
	r = json_array_get(back, 0);
	assert_true(json_integer_value(json_object_get(r, "t0_ns")) ==
	    INT64_C(1795478400123456789));
	assert_true(json_real_value(json_object_get(r, "sample_rate_hz")) ==
	    12001.13);
	assert_true(json_is_integer(json_object_get(r, "frequency_hz")));
	assert_int_equal(json_integer_value(json_object_get(r,
	    "frequency_hz")), 145000000);
	r = json_array_get(back, 1);
	assert_true(json_is_null(json_object_get(r, "t0_ns")));
	assert_true(json_is_null(json_object_get(r, "sample_rate_hz")));
	assert_true(json_is_null(json_object_get(json_array_get(back, 2),
	    "t0_ns")));
	assert_true(json_is_null(json_object_get(json_array_get(back, 3),
	    "t0_ns")));
	r = json_array_get(back, 4);
	assert_null(json_object_get(r, "t0_ns"));
	assert_null(json_object_get(r, "sample_rate_hz"));
	json_decref(back);
	free(text);
	json_decref(rows);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_silent_server_bounded),
		cmocka_unit_test(test_bad_url),
		cmocka_unit_test(test_password_refused),
		cmocka_unit_test(test_rows_param),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
