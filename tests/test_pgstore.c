/* test_pgstore.c -- connection failures named and bounded in time (statements against a real server: e2e_store, e2e_store_faults). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_silent_server_bounded),
		cmocka_unit_test(test_bad_url),
		cmocka_unit_test(test_password_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
