/* test_util.c -- times, UUIDs, directories, atomic writes, bounded reads. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/util.h"

static void
test_iso8601(void **state)
{
	char	buf[40];
	double	t;

	(void)state;
	util_iso8601(0, buf, sizeof buf);
	assert_string_equal(buf, "1970-01-01T00:00:00.000000Z");
	util_iso8601(1795478400.1234564, buf, sizeof buf);
	assert_string_equal(buf, "2026-11-24T00:00:00.123456Z");
	util_iso8601(1795478400.9999996, buf, sizeof buf);	/* rounds up */
	assert_string_equal(buf, "2026-11-24T00:00:01.000000Z");
	assert_int_equal(util_parse_iso8601("2026-11-24T00:00:00.123456Z", &t),
	    0);
	assert_true(fabs(t - 1795478400.123456) < 1e-6);
	assert_int_equal(util_parse_iso8601("2026-11-24T00:00:00Z", &t), 0);
	assert_int_equal(util_parse_iso8601("yesterday", &t), -1);
	assert_int_equal(util_parse_iso8601("2026-11-24T00:00:00Zjunk", &t),
	    -1);
}

static void
test_uuid(void **state)
{
	char	a[UTIL_UUID_LEN], b[UTIL_UUID_LEN];

	(void)state;
	util_uuid(a);
	util_uuid(b);
	assert_true(util_is_uuid(a));
	assert_string_not_equal(a, b);
	assert_int_equal(a[14], '4');			/* version 4 */
	assert_false(util_is_uuid("../../etc/passwd"));
	assert_false(util_is_uuid("0000000-0000-4000-8000-0000000000000"));
	assert_false(util_is_uuid(NULL));
	assert_true(util_is_uuid("00000000-0000-4000-8000-00000000000A"));
}

static void
test_files(void **state)
{
	char	dir[] = "/tmp/test_util_XXXXXX", path[256], err[256], *s;
	size_t	len;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/a/b/c", dir);
	assert_int_equal(util_mkdirs(path, err, sizeof err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(util_mkdirs(path, err, sizeof err), 0);	/* again */

	snprintf(path, sizeof path, "%s/a/file", dir);
	assert_int_equal(util_write_atomic(path, "hello", 5, err, sizeof err),
	    0);
	assert_int_equal(util_write_atomic(path, "world!", 6, err, sizeof err),
	    0);
	s = util_read_file(path, 100, &len, err, sizeof err);
	assert_non_null(s);
	assert_int_equal(len, 6);
	assert_string_equal(s, "world!");
	free(s);
	assert_null(util_read_file(path, 3, &len, err, sizeof err));
	assert_non_null(strstr(err, "too large"));
	snprintf(path, sizeof path, "%s/a", dir);
	assert_null(util_read_file(path, 100, &len, err, sizeof err));
	assert_non_null(strstr(err, "not a regular file"));
	snprintf(path, sizeof path, "%s/nope/file", dir);
	assert_int_equal(util_write_atomic(path, "x", 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot create"));
	snprintf(path, sizeof path, "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
}

static void
test_fmt(void **state)
{
	char	buf[8];

	(void)state;
	assert_int_equal(util_fmt(buf, sizeof buf, "%s", "1234567"), 0);
	assert_int_equal(util_fmt(buf, sizeof buf, "%s", "12345678"), -1);
	assert_true(util_mono() > 0);
	assert_true(util_now() > 1.7e9);
}

/* The soft open-files limit goes up to the hard one (capped), never down. */
static void
test_raise_nofile(void **state)
{
	struct rlimit	rl, now;
	long		want;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > UTIL_NOFILE_CAP ?
	    UTIL_NOFILE_CAP : (long)rl.rlim_max;
	now = rl;
	now.rlim_cur = 64;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &now), 0);
	assert_int_equal(util_raise_nofile(), want);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &now), 0);
	assert_int_equal((long)now.rlim_cur, want);
	assert_true(now.rlim_max == rl.rlim_max);
	/* a soft limit already above the cap stays */
	if (rl.rlim_max > UTIL_NOFILE_CAP + 10) {
		now.rlim_cur = UTIL_NOFILE_CAP + 10;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &now), 0);
		assert_int_equal(util_raise_nofile(), UTIL_NOFILE_CAP + 10);
	}
	setrlimit(RLIMIT_NOFILE, &rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_raise_nofile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
