/* test_util.c -- times, UUIDs, directories, atomic writes, bounded reads,
 * text from outside (UTF-8, controls, terminal escaping), JSON numbers. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "src/base/util.h"

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
	for (int i = 0; i < 64; i++) {	/* the RFC 4122 variant: 10xx */
		util_uuid(b);
		assert_int_equal(b[14], '4');
		assert_non_null(strchr("89ab", b[19]));
	}
	assert_false(util_is_uuid("../../etc/passwd"));
	assert_false(util_is_uuid("0000000-0000-4000-8000-0000000000000"));
	assert_false(util_is_uuid(NULL));
	assert_true(util_is_uuid("00000000-0000-4000-8000-00000000000A"));
}

static void
test_when(void **state)
{
	double	t;

	(void)state;
	assert_int_equal(util_parse_when("+30s", 1000.25, &t), 0);
	assert_true(t == 1031);			/* up to a whole second */
	assert_int_equal(util_parse_when("+30", 1000, &t), 0);
	assert_true(t == 1030);
	assert_int_equal(util_parse_when("+2m", 1000, &t), 0);
	assert_true(t == 1120);
	assert_int_equal(util_parse_when("+1h", 1000, &t), 0);
	assert_true(t == 4600);
	assert_int_equal(util_parse_when("2026-12-02T10:00:00Z", 0, &t), 0);
	assert_true(t == 1796205600);
	assert_int_equal(util_parse_when("+", 0, &t), -1);
	assert_int_equal(util_parse_when("+-5s", 0, &t), -1);
	assert_int_equal(util_parse_when("+5x", 0, &t), -1);
	assert_int_equal(util_parse_when("+169h", 0, &t), -1);	/* > 7 d */
	assert_int_equal(util_parse_when("+99999999999999999999", 0, &t), -1);
	assert_int_equal(util_parse_when("soon", 0, &t), -1);
	assert_int_equal(util_parse_when(NULL, 0, &t), -1);
}

static void
test_token(void **state)
{
	char	long_[UTIL_GROUP_ID_MAX + 2];

	(void)state;
	assert_true(util_is_token("net-2m:2026-12-02T10.00_Z", 64));
	assert_false(util_is_token("", 64));
	assert_false(util_is_token("a b", 64));
	assert_false(util_is_token("../x", 64));
	assert_false(util_is_token("a'b", 64));
	assert_false(util_is_token("caf\xc3\xa9", 64));
	memset(long_, 'g', sizeof long_ - 1);
	long_[UTIL_GROUP_ID_MAX] = '\0';
	assert_true(util_is_token(long_, UTIL_GROUP_ID_MAX));
	long_[UTIL_GROUP_ID_MAX] = 'g';
	long_[UTIL_GROUP_ID_MAX + 1] = '\0';
	assert_false(util_is_token(long_, UTIL_GROUP_ID_MAX));
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

/* A FIFO is refused at once (opening it plainly would wait for a writer
 * forever), so are directories; the message names the path and the kind. */
static void
test_not_regular(void **state)
{
	char	dir[] = "/tmp/test_util_fifo_XXXXXX", path[128], err[256];
	size_t	len;
	pid_t	pid;
	int	st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	/* in a child with an alarm: a hang fails the test instead of
	 * hanging it */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(5);
		_exit(util_read_file(path, 100, &len, err, sizeof err) == NULL &&
		    strstr(err, "is a FIFO, not a regular file") != NULL &&
		    strstr(err, path) != NULL &&
		    util_check_regular(path, err, sizeof err) == -1 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_null(util_read_file(dir, 100, &len, err, sizeof err));
	assert_non_null(strstr(err, "is a directory"));
	assert_int_equal(util_check_regular("/dev/null", err, sizeof err), -1);
	assert_non_null(strstr(err, "is a device"));
	unlink(path);
	rmdir(dir);
}

static void
test_text(void **state)
{
	char	buf[64];

	(void)state;
	assert_true(util_utf8_valid("Torino \xc3\xa8 \xe2\x82\xac "
	    "\xf0\x9f\x93\xa1", 18));
	assert_false(util_utf8_valid("\xff", 1));
	assert_false(util_utf8_valid("\xc3", 1));		/* cut */
	assert_false(util_utf8_valid("\xc0\xaf", 2));		/* overlong */
	assert_false(util_utf8_valid("\xe0\x80\xaf", 3));	/* overlong */
	assert_false(util_utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	assert_false(util_utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	assert_false(util_utf8_valid("\x80", 1));
	assert_int_equal(util_text_check("caf\xc3\xa9", 0), UTIL_TEXT_OK);
	assert_int_equal(util_text_check("a\xffz", 0), UTIL_TEXT_BAD_UTF8);
	assert_int_equal(util_text_check("a\x1b[2Jz", 0), UTIL_TEXT_CONTROL);
	assert_int_equal(util_text_check("a\x7f", 0), UTIL_TEXT_CONTROL);
	/* C1: U+0085 (NEL), U+009B (CSI) */
	assert_int_equal(util_text_check("a\xc2\x85", 0), UTIL_TEXT_CONTROL);
	assert_int_equal(util_text_check("a\xc2\x9b" "2J", 0),
	    UTIL_TEXT_CONTROL);
	assert_int_equal(util_text_check("\xc2\xa0", 0), UTIL_TEXT_OK);
	assert_int_equal(util_text_check("a\nb\tc", 1), UTIL_TEXT_OK);
	assert_int_equal(util_text_check("a\nb", 0), UTIL_TEXT_CONTROL);
	assert_int_equal(util_text_check("a\xc2\x85", 1), UTIL_TEXT_CONTROL);

	snprintf(buf, sizeof buf, "ok \xc3\xa8 \xff x \xe2\x82");
	util_utf8_sanitize(buf);
	assert_string_equal(buf, "ok \xc3\xa8 ? x ??");
	assert_true(util_utf8_valid(buf, strlen(buf)));

	assert_string_equal(util_term_escape("a\x1b[31mb\xc2\x9b\xff\xc3\xa8",
	    buf, sizeof buf), "a\\x1b[31mb\\u009b\\xff\xc3\xa8");
	/* cut at the buffer, never inside an escape or a character */
	assert_string_equal(util_term_escape("ab\x1b", buf, 6), "ab");
	assert_string_equal(util_term_escape("a\xc3\xa8", buf, 3), "a");
}

/* What Python's repr() (shortest round trip) gives, and the value reads
 * back identically. */
static void
test_json_numbers(void **state)
{
	static const struct {
		double		 v;
		const char	*s;
	} cases[] = {
		{ 14.2, "14.2" }, { 14200000.0, "14200000.0" }, { 0.1, "0.1" },
		{ 12001.135, "12001.135" }, { -0.5, "-0.5" }, { 3.0, "3.0" },
		{ 1e300, "1e300" }, { 1.5e-7, "1.5e-7" },
		{ 0.30000000000000004, "0.30000000000000004" },
		{ 145.5 / 1e6 * 1e6, "145.5" }, { 1e15, "1000000000000000.0" },
		{ 1e16, "1e16" }, { 0.0001, "0.0001" }, { 0.00001, "1e-5" },
		{ 5e-324, "5e-324" }, { 1.7976931348623157e308,
		"1.7976931348623157e308" }, { 0.0, "0.0" },
	};
	char	 buf[32], *s;
	json_t	*j;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		util_fmt_real(cases[i].v, buf, sizeof buf);
		assert_string_equal(buf, cases[i].s);
		assert_true(strtod(buf, NULL) == cases[i].v);
	}
	/* every real of a document, not the strings that look like one;
	 * integers as they are; in any locale */
	setlocale(LC_NUMERIC, "C.UTF-8");
	j = json_pack("{s:f, s:[f, f, I], s:s, s:s, s:f}", "frequency_mhz",
	    14.2, "v", 0.1 + 0.2, 12001.135, (json_int_t)7, "name",
	    "14.199999999999999", "q", "\"1.0000000000000002", "snr",
	    19.873456789012344);
	s = util_json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(s, "{\"frequency_mhz\":14.2,\"v\":["
	    "0.30000000000000004,12001.135,7],\"name\":\"14.199999999999999\","
	    "\"q\":\"\\\"1.0000000000000002\",\"snr\":19.873456789012344}");
	free(s);
	s = util_json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	assert_non_null(strstr(s, "\"frequency_mhz\": 14.2,\n"));
	free(s);
	json_decref(j);
	assert_null(util_json_dumps(NULL, 0));
}

/* The shortest digits by the plain search (p = 1, 2, ... up to 17), to
 * check util_fmt_real's bisection against. */
static int
shortest_linear(double v)
{
	char	t[48];
	int	p;

	for (p = 1; p < 17; p++) {
		snprintf(t, sizeof t, "%.*e", p - 1, v);
		if (strtod(t, NULL) == v)
			break;
	}
	return p;
}

/* Significant digits written in a util_fmt_real text, from its first to
 * its last nonzero digit before any exponent ("0.00012" -> 2, "1e16" -> 1,
 * "14200000.0" -> 3, "0.0" -> 1). */
static int
digits_of(const char *s)
{
	int	first = -1, last = -1, i = 0;

	for (; *s != '\0' && *s != 'e'; s++) {
		if (*s < '0' || *s > '9')
			continue;
		if (*s != '0') {
			if (first < 0)
				first = i;
			last = i;
		}
		i++;
	}
	return first < 0 ? 1 : last - first + 1;
}

/* Bisection finds the same shortest form as the plain search, on every
 * kind of value a row holds: measured reals (16-17 digits), short ones,
 * integers, tiny and huge, random bit patterns. */
static void
test_json_numbers_shortest(void **state)
{
	char		 buf[32], ref[48];
	unsigned long	 x = 88172645463325252UL;
	int		 i, p;
	double		 v;

	(void)state;
	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		switch (i % 4) {
		case 0:		/* a measured-looking real */
			v = ((double)(x >> 11) / 9007199254740992.0 - 0.5) *
			    200.0;
			break;
		case 1:		/* a short decimal */
			v = (double)(long)(x % 2000001) / 1000.0;
			break;
		case 2:		/* an integer or a power of ten */
			v = (x & 1) ? (double)(x % 100000000) :
			    pow(10.0, (double)(int)(x % 600) - 300.0);
			break;
		default:	/* any finite bit pattern */
			memcpy(&v, &x, sizeof v);
			if (!isfinite(v))
				v = 1.0 / (double)(x | 1);
			break;
		}
		util_fmt_real(v, buf, sizeof buf);
		assert_true(strtod(buf, NULL) == v);
		p = shortest_linear(v);
		snprintf(ref, sizeof ref, "%.*e", p - 1, v);
		if (digits_of(buf) != p)
			fail_msg("%s: %d digits, the plain search %d (%s)",
			    buf, digits_of(buf), p, ref);
	}
}

static void
test_secrets(void **state)
{
	char	a[33], b[33];
	size_t	i;

	(void)state;
	assert_int_equal(util_random_hex(a, 16), 0);
	assert_int_equal(util_random_hex(b, 16), 0);
	assert_int_equal(strlen(a), 32);
	for (i = 0; i < 32; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	assert_string_not_equal(a, b);
	assert_int_equal(util_random_hex(a, 65), -1);
	assert_true(util_secret_equal("s3cret", "s3cret", 6));
	assert_false(util_secret_equal("s3cret", "s3creT", 6));
	assert_false(util_secret_equal("s3cret", "s3cret", 5));
	assert_false(util_secret_equal("s3cret", "s3crets3cret", 12));
	assert_false(util_secret_equal("s3cret", "", 0));
	assert_false(util_secret_equal("", "", 0));
}

/* Rounded reals (util_round_q) written in one printf each
 * (util_json_dumps_q): the same text as the shortest form, reading back
 * as the same double. */
static void
test_json_rounded(void **state)
{
	double	 v[] = { 44.90000123456789, -8.123456789012345,
		    123.45678912345678, 0.000123456789, -0.0000005,
		    12345.6789012345678, 1e-9, 3.0 };
	double	 sc[] = { 1e9, 1e9, 1e6, 1e9, 1e6, 1e4, 1e9, 1e4 };
	char	*a, *b, num[48];
	json_t	*j;
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		double r = util_round_q(v[i], sc[i]);
		assert_true(fabs(r - v[i]) <= 0.5 / sc[i] * (1 + 1e-9));
		j = json_pack("{s:f}", "x", r);
		a = util_json_dumps_q(j, JSON_COMPACT);
		b = util_json_dumps(j, JSON_COMPACT);
		assert_string_equal(a, b);
		util_fmt_real(r, num, sizeof num);
		assert_non_null(strstr(a, num));
		assert_true(strtod(strchr(a, ':') + 1, NULL) == r);
		free(a);
		free(b);
		json_decref(j);
	}
	assert_true(util_round_q(1.25, 10) == 1.3 || util_round_q(1.25, 10)
	    == 1.2);
	assert_true(isnan(util_round_q(NAN, 1e6)));
	assert_true(util_round_q(1e300, 1e6) == 1e300);	/* beyond: as is */
	assert_null(util_json_dumps_q(NULL, 0));
}

/* Pages resident (mincore) of the n pages at p. */
static int
resident(void *p, size_t n)
{
	unsigned char	 v[16];
	int		 k = 0;

	assert_true(n <= sizeof v);
	assert_int_equal(mincore(p, n * 4096, v), 0);
	for (size_t i = 0; i < n; i++)
		k += v[i] & 1;
	return k;
}

/* util_prefault makes the whole pages inside the range resident, none
 * outside it (an unaligned start or end leaves its partial page alone). */
static void
test_prefault(void **state)
{
	unsigned char	*p;

	(void)state;
	assert_int_equal(sysconf(_SC_PAGESIZE), 4096);
	p = mmap(NULL, 8 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	assert_int_equal(resident(p, 8), 0);
	/* pages 1-3 whole, 0 and 4 partial (before Linux 5.14: -1, and
	 * nothing to check but that it says so) */
	if (util_prefault(p + 100, 4 * 4096) == 0) {
		assert_int_equal(resident(p, 1), 0);
		assert_int_equal(resident(p + 4096, 3), 3);
	} else
		assert_int_equal(resident(p + 4096, 3), 0);
	assert_int_equal(resident(p + 4 * 4096, 4), 0);
	assert_int_equal(util_prefault(NULL, 4096), -1);
	assert_int_equal(util_prefault(p + 5 * 4096 + 1, 4096), -1);
	assert_int_equal(resident(p + 4 * 4096, 4), 0);
	/* and writable: the memory is the caller's as before */
	memset(p, 7, 8 * 4096);
	assert_int_equal(p[4096 + 5], 7);
	munmap(p, 8 * 4096);
}

/* util_bigbuf: page-aligned, zeroed, every page resident before the
 * first write (the point of it), writable; 0 bytes is refused. */
static void
test_bigbuf(void **state)
{
	unsigned char	*p;
	size_t		 len = 3 * 4096 + 100, i;

	(void)state;
	p = util_bigbuf(len);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 4096, 0);
	assert_int_equal(resident(p, 4), 4);
	for (i = 0; i < len; i++)
		assert_int_equal(p[i], 0);
	memset(p, 7, len);
	assert_int_equal(p[len - 1], 7);
	util_bigbuf_free(p, len);
	util_bigbuf_free(NULL, 0);
	assert_null(util_bigbuf(0));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_uuid),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_when),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_fmt),
		cmocka_unit_test(test_raise_nofile),
		cmocka_unit_test(test_not_regular),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_json_numbers),
		cmocka_unit_test(test_json_numbers_shortest),
		cmocka_unit_test(test_json_rounded),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_prefault),
		cmocka_unit_test(test_bigbuf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
