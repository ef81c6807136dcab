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

/* Field k (0-based) of line l of COPY text, in buf. */
static const char *
copy_field(const char *text, int l, int k, char *buf, size_t len)
{
	const char	*p = text, *e;
	size_t		 n;

	while (l-- > 0)
		p = strchr(p, '\n') + 1;
	while (k-- > 0)
		p = strchr(p, '\t') + 1;
	for (e = p; *e != '\t' && *e != '\n'; e++)
		;
	n = (size_t)(e - p) < len - 1 ? (size_t)(e - p) : len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/*
 * The COPY text of rows: t0_ns (a chunk's first-sample time in ns, beyond
 * 2^53) reaches the bigint column digit for digit; a real or a string
 * there becomes NULL (\N), never a wrong instant; a row from an older
 * manifest (no t0_ns, no sample_rate_hz) stores NULL; every double reads
 * back exactly; text is escaped so that no value can end a field, a row
 * or the data. (The statement against a real server: e2e_store.)
 * Columns: 0 id, 4 frequency_hz, 6 snr_db, 13 chunk_index, 20
 * time_source, 22 t0_ns, 23 sample_rate_hz, 24 created_at.
 */
static void
test_rows_copy(void **state)
{
	json_t		*rows;
	char		*text, f[128];
	const char	*p;
	size_t		 len, lines = 0, tabs = 0;

	(void)state;
	rows = json_pack("[{s:I, s:s, s:f, s:f, s:f}, {s:f, s:s}, {s:s, s:s},"
	    " {s:n, s:n}, {s:i}, {s:s, s:s}]",
	    "t0_ns", (json_int_t)INT64_C(1795478400123456789),
	    "time_source", "gps", "sample_rate_hz", 12001.13,
	    "frequency_hz", 145000000.0, "snr_db", 1.0 / 3.0,
	    "t0_ns", 1.7954784001234568e18, "sample_rate_hz", "fast",
	    "t0_ns", "soon", "time_source", "gps",
	    "t0_ns", "sample_rate_hz",
	    "chunk_index", 3,
	    "time_source", "a\tb\nc\\d\re", "id", "\\.");
	assert_non_null(rows);
	text = pgstore_rows_copy(rows, &len);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	for (p = text; *p != '\0'; p++) {
		lines += *p == '\n';
		tabs += *p == '\t';
	}
	/* one line per row, 25 fields each */
	assert_int_equal(lines, 6);
	assert_int_equal(tabs, 6 * 24);
	/* exact digits */
	assert_string_equal(copy_field(text, 0, 22, f, sizeof f),
	    "1795478400123456789");
	assert_true(strtod(copy_field(text, 0, 23, f, sizeof f), NULL) ==
	    12001.13);
	assert_true(strtod(copy_field(text, 0, 6, f, sizeof f), NULL) ==
	    1.0 / 3.0);
	assert_string_equal(copy_field(text, 0, 4, f, sizeof f), "145000000");
	assert_string_equal(copy_field(text, 0, 20, f, sizeof f), "gps");
	/* absent: NULL */
	assert_string_equal(copy_field(text, 0, 0, f, sizeof f), "\\N");
	assert_string_equal(copy_field(text, 0, 24, f, sizeof f), "\\N");
	assert_string_equal(copy_field(text, 1, 22, f, sizeof f), "\\N");
	assert_string_equal(copy_field(text, 1, 23, f, sizeof f), "\\N");
	assert_string_equal(copy_field(text, 2, 22, f, sizeof f), "\\N");
	assert_string_equal(copy_field(text, 3, 22, f, sizeof f), "\\N");
	assert_string_equal(copy_field(text, 3, 23, f, sizeof f), "\\N");
	assert_string_equal(copy_field(text, 4, 22, f, sizeof f), "\\N");
	assert_string_equal(copy_field(text, 4, 13, f, sizeof f), "3");
	/* escaped: tab, newline, backslash, CR; "\." cannot end the data */
	assert_string_equal(copy_field(text, 5, 20, f, sizeof f),
	    "a\\tb\\nc\\\\d\\re");
	assert_string_equal(copy_field(text, 5, 0, f, sizeof f), "\\\\.");
	free(text);
	json_decref(rows);
}

#define SID	"0b0e6f1c-7a61-4c1e-9d2a-6f0f3a8c2b10"

static json_t *
loc_stations(void)
{
	return json_pack("[{s:i, s:s}, {s:i, s:s}, {s:i, s:s}]", "websdr", 1,
	    "name", "Torino", "websdr", 2, "name", "Milano", "websdr", 3,
	    "name", "Genova");
}

static json_t *
tdoa_row(int k, int a, int b, double us)
{
	return json_pack("{s:s, s:i, s:i, s:i, s:f, s:f, s:f, s:f}",
	    "session_id", SID, "chunk_index", k, "websdr_a", a, "websdr_b", b,
	    "tdoa_us", us, "sigma_us", 0.02, "quality", 9.5, "corr", 0.81);
}

static json_t *
fix_row(int k)
{
	json_t	*r = json_pack("{s:s, s:b, s:b, s:n, s:f, s:f, s:f, s:f, s:f, "
	    "s:f, s:f, s:[i,i,i], s:i, s:f, s:i, s:f}", "session_id", SID,
	    "final", k < 0, "ok", 1, "reason", "latitude", 45.07, "longitude",
	    7.69, "semi_major_m", 30.5, "semi_minor_m", 9.25,
	    "orientation_deg", 112.5, "cep50_m", 14.0, "cep95_m", 36.0,
	    "receivers", 1, 2, 3, "pairs_used", 3, "error_m", 12.5,
	    "worst_websdr", 2, "worst_residual_us", -0.04);

	json_object_set_new(r, "chunk_index", k < 0 ? json_null() :
	    json_integer(k));
	return r;
}

/* One check: 0 and the key, or -1 with a reason holding want. */
static void
expect(enum pgstore_loc kind, json_t *row, const char *want_key,
    const char *want_why)
{
	json_t	*st = loc_stations();
	char	 key[64], why[512];
	int	 rc;

	why[0] = '\0';
	rc = pgstore_loc_check(kind, row, SID, st, key, sizeof key, why,
	    sizeof why);
	if (want_key != NULL) {
		if (rc != 0)
			fail_msg("refused: %s", why);
		assert_string_equal(key, want_key);
	} else {
		if (rc != -1)
			fail_msg("accepted, wanted \"%s\"", want_why);
		if (strstr(why, want_why) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", why, want_why);
	}
	json_decref(st);
	json_decref(row);
}

static json_t *
with(json_t *row, const char *k, json_t *v)
{
	if (v == NULL)
		json_object_del(row, k);
	else
		json_object_set_new(row, k, v);
	return row;
}

/*
 * Localization rows come from the spool (files): each is checked by the
 * predicates of sql/004's constraints before it is sent, so the database
 * never refuses a batch for one bad row; its key is what the ledger logs.
 */
static void
test_loc_check(void **state)
{
	char	 big[PG_LOC_MAX_REASON + 2];
	json_t	*rx;
	int	 i;

	(void)state;
	expect(PG_LOC_TDOA, tdoa_row(4, 1, 3, -12.5), "t 4 1 3", NULL);
	/* a pair that failed (NaN written as null) is still a row */
	expect(PG_LOC_TDOA, with(tdoa_row(0, 2, 1, 0), "tdoa_us",
	    json_null()), "t 0 2 1", NULL);
	expect(PG_LOC_TDOA, tdoa_row(0, 2, 2, 1), NULL, "websdr_a = websdr_b");
	expect(PG_LOC_TDOA, tdoa_row(0, 1, 4, 1), NULL,
	    "websdr 4 is not a station");
	expect(PG_LOC_TDOA, tdoa_row(0, 0, 1, 1), NULL, "websdr_a");
	expect(PG_LOC_TDOA, tdoa_row(-1, 1, 2, 1), NULL, "chunk_index");
	expect(PG_LOC_TDOA, tdoa_row(PG_LOC_MAX_CHUNK, 1, 2, 1), NULL,
	    "chunk_index");
	expect(PG_LOC_TDOA, tdoa_row(0, 1, 2, 1.5e6), NULL, "tdoa_us");
	expect(PG_LOC_TDOA, with(tdoa_row(0, 1, 2, 1), "sigma_us",
	    json_real(-1)), NULL, "sigma_us");
	expect(PG_LOC_TDOA, with(tdoa_row(0, 1, 2, 1), "corr",
	    json_string("0.5")), NULL, "corr is not a number");
	expect(PG_LOC_TDOA, with(tdoa_row(0, 1, 2, 1), "chunk_index",
	    json_real(1.0)), NULL, "chunk_index");
	expect(PG_LOC_TDOA, with(tdoa_row(0, 1, 2, 1), "session_id",
	    json_string("11111111-2222-3333-4444-555555555555")), NULL,
	    "session_id");
	expect(PG_LOC_TDOA, json_pack("[]"), NULL, "not an object");

	expect(PG_LOC_FIX, fix_row(7), "x 7", NULL);
	expect(PG_LOC_FIX, fix_row(-1), "x final", NULL);
	/* no fix: a reason, never a position */
	expect(PG_LOC_FIX, with(with(with(fix_row(2), "ok", json_false()),
	    "latitude", json_null()), "longitude", json_null()), NULL,
	    "no fix and no reason");
	expect(PG_LOC_FIX, with(with(with(with(fix_row(2), "ok", json_false()),
	    "latitude", json_null()), "longitude", NULL), "reason",
	    json_string("2 usable receivers, 3 are needed")), "x 2", NULL);
	expect(PG_LOC_FIX, with(with(fix_row(2), "ok", json_false()),
	    "reason", json_string("why")), NULL, "a position without a fix");
	expect(PG_LOC_FIX, with(fix_row(2), "latitude", json_null()), NULL,
	    "latitude missing");
	expect(PG_LOC_FIX, with(fix_row(2), "latitude", json_real(90.5)),
	    NULL, "latitude 90.5 out of -90..90");
	expect(PG_LOC_FIX, with(fix_row(2), "longitude", json_real(-181)),
	    NULL, "longitude");
	expect(PG_LOC_FIX, with(fix_row(2), "orientation_deg",
	    json_real(181)), NULL, "orientation_deg");
	expect(PG_LOC_FIX, with(fix_row(2), "cep95_m", json_real(-1)), NULL,
	    "cep95_m");
	expect(PG_LOC_FIX, with(fix_row(2), "error_m", json_real(-0.5)), NULL,
	    "error_m");
	expect(PG_LOC_FIX, with(fix_row(2), "final", json_true()), NULL,
	    "the session fix has a chunk_index");
	expect(PG_LOC_FIX, with(fix_row(2), "final", NULL), NULL, "final");
	expect(PG_LOC_FIX, with(fix_row(-1), "final", json_false()), NULL,
	    "chunk_index missing");
	expect(PG_LOC_FIX, with(fix_row(2), "receivers", json_pack("[i,s]",
	    1, "x")), NULL, "receivers");
	expect(PG_LOC_FIX, with(fix_row(2), "worst_websdr", json_integer(0)),
	    NULL, "worst_websdr");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	expect(PG_LOC_FIX, with(with(with(with(fix_row(2), "ok",
	    json_false()), "latitude", json_null()), "longitude",
	    json_null()), "reason", json_string(big)), NULL, "reason");
	rx = json_array();
	for (i = 0; i <= PG_LOC_MAX_RECEIVERS; i++)
		json_array_append_new(rx, json_integer(1));
	expect(PG_LOC_FIX, with(fix_row(2), "receivers", rx), NULL,
	    "receivers");
}

/* The parameter: only checked rows, only the table's columns, the
 * stations' names for the TDoA rows, numbers exact. */
static void
test_loc_param(void **state)
{
	json_t	*st = loc_stations(), *rows, *back, *r;
	char	*text;

	(void)state;
	rows = json_pack("[o, o, o]", tdoa_row(3, 1, 3, -41.25),
	    tdoa_row(3, 2, 2, 1), with(tdoa_row(3, 2, 3, 7), "extra",
	    json_string("dropped")));
	text = pgstore_loc_param(PG_LOC_TDOA, rows, SID, st);
	assert_non_null(text);
	back = json_loads(text, 0, NULL);
	assert_int_equal(json_array_size(back), 2);
	r = json_array_get(back, 0);
	assert_string_equal(json_string_value(json_object_get(r, "station_a")),
	    "Torino");
	assert_string_equal(json_string_value(json_object_get(r, "station_b")),
	    "Genova");
	assert_true(json_real_value(json_object_get(r, "tdoa_us")) == -41.25);
	assert_int_equal(json_integer_value(json_object_get(r, "chunk_index")),
	    3);
	assert_null(json_object_get(json_array_get(back, 1), "extra"));
	json_decref(back);
	free(text);
	json_decref(rows);

	rows = json_pack("[o, o]", fix_row(-1), with(fix_row(1), "latitude",
	    json_real(-91)));
	text = pgstore_loc_param(PG_LOC_FIX, rows, SID, st);
	back = json_loads(text, 0, NULL);
	assert_int_equal(json_array_size(back), 1);
	r = json_array_get(back, 0);
	assert_true(json_is_null(json_object_get(r, "chunk_index")));
	assert_true(json_is_true(json_object_get(r, "final")));
	assert_int_equal(json_array_size(json_object_get(r, "receivers")), 3);
	assert_true(json_real_value(json_object_get(r, "latitude")) == 45.07);
	json_decref(back);
	free(text);
	json_decref(rows);
	json_decref(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_silent_server_bounded),
		cmocka_unit_test(test_bad_url),
		cmocka_unit_test(test_password_refused),
		cmocka_unit_test(test_rows_copy),
		cmocka_unit_test(test_loc_check),
		cmocka_unit_test(test_loc_param),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
