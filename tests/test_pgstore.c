/* test_pgstore.c -- connection failures named and bounded in time (statements against a real server: e2e_store, e2e_store_faults). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "src/util.h"
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_silent_server_bounded),
		cmocka_unit_test(test_bad_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
