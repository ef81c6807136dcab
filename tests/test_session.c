/* test_session.c -- parameter validation and the session state machine. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/engine/config.h"
#include "src/engine/session.h"

static struct session_params
good(void)
{
	struct session_params p;

	session_params_init(&p);
	strcpy(p.name, "Test Recording 001");
	p.freq_hz = 14.2e6;
	p.duration_s = 5;
	strcpy(p.notes, "Test of 1-second chunking\nline two");
	p.low_cut = -5000;
	p.high_cut = 5000;
	return p;
}

static void
test_valid(void **state)
{
	struct session_params	p = good();
	struct session_error	e;

	(void)state;
	assert_int_equal(session_validate(&p, NULL, &e), 0);
	p.duration_s = 1;
	assert_int_equal(session_validate(&p, NULL, &e), 0);
	p.duration_s = 30;
	assert_int_equal(session_validate(&p, NULL, &e), 0);
	assert_int_equal(session_total_chunks(&p), 30);
	/* chunk lengths: the bounds, and the message says the range */
	p.duration_s = 5;
	p.chunk_ms = 100;
	assert_int_equal(session_validate(&p, NULL, &e), 0);
	assert_int_equal(session_total_chunks(&p), 50);
	p.chunk_ms = 5000;
	assert_int_equal(session_validate(&p, NULL, &e), 0);
	assert_int_equal(session_total_chunks(&p), 1);
	p.chunk_ms = 2500;
	assert_int_equal(session_validate(&p, NULL, &e), 0);
	assert_int_equal(session_total_chunks(&p), 2);
	p.chunk_ms = 50;
	assert_int_equal(session_validate(&p, NULL, &e), -1);
	assert_string_equal(e.msg, "chunk length must be 100 to 5000 ms "
	    "(got 50)");
	p.chunk_ms = 2000;
	assert_int_equal(session_validate(&p, NULL, &e), -1);
	assert_string_equal(e.msg, "the duration (5 s) must be a whole number "
	    "of 2000-ms chunks");
}

static void
expect_bad(struct session_params *p, const char *code, const char *field)
{
	struct session_error	e;

	memset(&e, 0, sizeof e);
	assert_int_equal(session_validate(p, NULL, &e), -1);
	assert_string_equal(e.code, code);
	assert_string_equal(e.field, field);
	assert_true(strlen(e.msg) > 10);
}

static void
test_invalid(void **state)
{
	struct session_params	p;

	(void)state;
	p = good(); p.name[0] = '\0';
	expect_bad(&p, "missing_field", "session_name");
	p = good(); strcpy(p.name, "   ");
	expect_bad(&p, "missing_field", "session_name");
	p = good(); strcpy(p.name, "bad\x1b[2Jname");
	expect_bad(&p, "out_of_range", "session_name");
	p = good(); p.duration_s = 0;
	expect_bad(&p, "out_of_range", "duration_seconds");
	p = good(); p.duration_s = 31;
	expect_bad(&p, "out_of_range", "duration_seconds");
	p = good(); p.duration_s = -1;
	expect_bad(&p, "out_of_range", "duration_seconds");
	p = good(); p.freq_hz = 0;
	expect_bad(&p, "out_of_range", "frequency_mhz");
	p = good(); p.freq_hz = NAN;
	expect_bad(&p, "out_of_range", "frequency_mhz");
	p = good(); p.low_cut = 5000;
	expect_bad(&p, "out_of_range", "passband");
	/* chunk length: 100-5000 ms, the duration whole chunks */
	p = good(); p.chunk_ms = 99;
	expect_bad(&p, "out_of_range", "chunk_ms");
	p = good(); p.chunk_ms = 5001;
	expect_bad(&p, "out_of_range", "chunk_ms");
	p = good(); p.chunk_ms = 0;	/* not from session_params_init */
	expect_bad(&p, "out_of_range", "chunk_ms");
	p = good(); p.duration_s = 3; p.chunk_ms = 2000;
	expect_bad(&p, "out_of_range", "chunk_ms");
	p = good(); p.duration_s = 1; p.chunk_ms = 300;
	expect_bad(&p, "out_of_range", "chunk_ms");
	p = good(); strcpy(p.notes, "a\x07");
	expect_bad(&p, "out_of_range", "notes");
	/* a group id is a token: no spaces, slashes, quotes */
	p = good(); strcpy(p.group, "2m net/1");
	expect_bad(&p, "out_of_range", "group_id");
	p = good(); strcpy(p.group, "2m-net:2026-12-02T10:00Z");
	{
		struct session_error	ok;

		assert_int_equal(session_validate(&p, NULL, &ok), 0);
	}
	/* text that JSON cannot hold: wrong_type, in every field */
	p = good(); strcpy(p.name, "caf\xe9");		/* Latin-1 */
	expect_bad(&p, "wrong_type", "session_name");
	p = good(); strcpy(p.name, "cut \xe2\x82");
	expect_bad(&p, "wrong_type", "session_name");
	p = good(); strcpy(p.notes, "line\n\xff");
	expect_bad(&p, "wrong_type", "notes");
	/* C1 controls like C0 ones: U+009B is CSI, U+0085 NEL */
	p = good(); strcpy(p.name, "a\xc2\x9b" "2Jb");
	expect_bad(&p, "out_of_range", "session_name");
	p = good(); strcpy(p.notes, "a\xc2\x85" "b");
	expect_bad(&p, "out_of_range", "notes");
	/* and real text passes */
	p = good(); strcpy(p.name, "Torino \xc3\xa8 \xe2\x82\xac \xf0\x9f\x93\xa1");
	strcpy(p.notes, "\xc2\xa0non-breaking\tand\r\nnewlines");
	assert_int_equal(session_validate(&p, NULL, NULL), 0);
}

/* The stations' range (issue 13): a station that cannot take the
 * frequency is left out with the reason, the session goes on with the
 * others; only a frequency that no station takes is refused. */
static void
test_range(void **state)
{
	struct station		v[3];
	struct stations		st = { v, 3 };
	struct session_params	p = good();
	struct session_error	e;
	char			why[160], note[256];

	(void)state;
	memset(v, 0, sizeof v);
	strcpy(v[0].name, "Wide");
	v[0].freq_min_hz = 0;
	v[0].freq_max_hz = 3e9;
	strcpy(v[1].name, "Torino");
	v[1].freq_min_hz = 24e6;
	v[1].freq_max_hz = 1766e6;
	strcpy(v[2].name, "Kiwi");
	v[2].freq_min_hz = 0;
	v[2].freq_max_hz = 30e6;

	st.n = 1;
	assert_int_equal(session_validate(&p, &st, &e), 0);
	st.n = 3;		/* 14.2 MHz: Torino is left out, no refusal */
	assert_int_equal(session_validate(&p, &st, &e), 0);
	assert_int_equal(session_station_takes(&v[1], p.freq_hz, why,
	    sizeof why), 0);
	assert_string_equal(why,
	    "14.2 MHz is outside its range 24-1766 MHz");
	assert_int_equal(session_station_takes(&v[2], p.freq_hz, why,
	    sizeof why), 1);
	assert_int_equal(session_frequency_left_out(&st, p.freq_hz, note,
	    sizeof note), 1);
	assert_string_equal(note, "left out: Torino");
	/* the range's edges are inside */
	p.freq_hz = 24e6;
	st.n = 2;
	assert_int_equal(session_frequency_left_out(&st, p.freq_hz, note,
	    sizeof note), 0);
	assert_string_equal(note, "");
	p.freq_hz = 1766e6;
	assert_int_equal(session_station_takes(&v[1], p.freq_hz, NULL, 0), 1);
	/* two left out: both named; in a short note, the rest counted */
	p.freq_hz = 2000.5e6;
	st.n = 3;
	assert_int_equal(session_check_frequency(&st, p.freq_hz, &e), 0);
	assert_int_equal(session_frequency_left_out(&st, p.freq_hz, note,
	    sizeof note), 2);
	assert_string_equal(note, "left out: Torino and Kiwi");
	assert_int_equal(session_frequency_left_out(&st, p.freq_hz, note,
	    30), 2);
	assert_string_equal(note, "left out: Torino and Kiwi");
	assert_int_equal(session_frequency_left_out(&st, p.freq_hz, note,
	    22), 2);
	assert_string_equal(note, "2 stations left out");
	assert_int_equal(session_frequency_left_out(&st, 4000e6, note, 30), 3);
	assert_string_equal(note, "left out: Wide and 2 others");
	/* none takes it: refused, naming the first */
	p.freq_hz = 4000e6;
	memset(&e, 0, sizeof e);
	assert_int_equal(session_validate(&p, &st, &e), -1);
	assert_string_equal(e.code, "out_of_range");
	assert_string_equal(e.field, "frequency_mhz");
	assert_string_equal(e.msg, "4000 MHz is out of range of every "
	    "station: Wide takes 0-3000 MHz (and 2 others)");
	st.n = 1;
	assert_int_equal(session_check_frequency(&st, p.freq_hz, &e), -1);
	assert_string_equal(e.msg,
	    "4000 MHz is out of range: Wide takes 0-3000 MHz");
	st.n = 3;
	/* without stations, the range is not checked */
	assert_int_equal(session_validate(&p, NULL, &e), 0);
	/* the other checks still come first */
	p.duration_s = 0;
	assert_int_equal(session_validate(&p, &st, &e), -1);
	assert_string_equal(e.field, "duration_seconds");
}

/* The operator's exclude list (issue 13): names checked against the
 * stations, at least one station that takes the frequency left. */
static void
test_exclude(void **state)
{
	struct station		v[3];
	struct stations		st = { v, 3 };
	struct session_params	p = good();
	struct session_error	e;
	const char		*one[] = { "Torino" };
	const char		*two[] = { "Wide", "Kiwi", "Wide" };
	const char		*bad[] = { "Kiwi", "Nobody\x1b[2J" };
	const char		*all[] = { "Wide", "Kiwi", "Torino" };
	char			 lng[200];
	const char		*lst[] = { lng };

	(void)state;
	memset(v, 0, sizeof v);
	strcpy(v[0].name, "Wide");
	v[0].freq_max_hz = 3e9;
	strcpy(v[1].name, "Torino");
	v[1].freq_min_hz = 24e6;
	v[1].freq_max_hz = 1766e6;
	strcpy(v[2].name, "Kiwi");
	v[2].freq_max_hz = 30e6;
	p.freq_hz = 14.2e6;		/* Torino is out of range */
	p.exclude = one;
	p.nexclude = 1;
	assert_int_equal(session_validate(&p, &st, &e), 0);
	assert_int_equal(session_excludes(&p, "Torino"), 1);
	assert_int_equal(session_excludes(&p, "Wide"), 0);
	/* twice the same name is no error (at 100 MHz Torino is left) */
	p.freq_hz = 100e6;
	p.exclude = two;
	p.nexclude = 3;
	assert_int_equal(session_validate(&p, &st, &e), 0);
	/* Wide and Kiwi excluded at 14.2 MHz: Torino cannot take it */
	p.freq_hz = 14.2e6;
	memset(&e, 0, sizeof e);
	assert_int_equal(session_check_exclude(&p, &st, &e), -1);
	assert_int_equal(session_validate(&p, &st, &e), -1);
	assert_string_equal(e.code, "out_of_range");
	assert_string_equal(e.field, "exclude");
	assert_string_equal(e.msg, "no station is left to record: every "
	    "station that takes 14.2 MHz is excluded");
	/* every station excluded */
	p.freq_hz = 100e6;
	p.exclude = all;
	assert_int_equal(session_validate(&p, &st, &e), -1);
	assert_string_equal(e.field, "exclude");
	/* an unknown name: not_found, said without its control bytes */
	p.exclude = bad;
	p.nexclude = 2;
	assert_int_equal(session_validate(&p, &st, &e), -1);
	assert_string_equal(e.code, "not_found");
	assert_string_equal(e.field, "exclude");
	assert_string_equal(e.msg, "no station is named \"Nobody?[2J\" "
	    "(exclude takes the names of the stations file: \"Wide\", ...)");
	/* a long name is cut, on a character's boundary */
	memset(lng, 'a', sizeof lng);
	memcpy(lng + 75, "\xc3\xa8", 2);	/* cut at 76: inside */
	lng[sizeof lng - 1] = '\0';
	p.exclude = lst;
	p.nexclude = 1;
	assert_int_equal(session_validate(&p, &st, &e), -1);
	assert_non_null(strstr(e.msg, "\"aaaa"));
	assert_non_null(strstr(e.msg, "a...\" (exclude"));
	assert_null(strchr(e.msg, 0xc3));	/* no half character */
	/* bounds: a negative count, a NULL list, a NULL name */
	p.nexclude = -1;
	assert_int_equal(session_validate(&p, &st, &e), -1);
	assert_string_equal(e.code, "too_large");
	p.exclude = NULL;
	p.nexclude = 1;
	assert_int_equal(session_validate(&p, &st, &e), -1);
	lst[0] = NULL;
	p.exclude = lst;
	assert_int_equal(session_validate(&p, &st, &e), -1);
	assert_string_equal(e.code, "wrong_type");
	/* without stations, not checked (record's early check) */
	assert_int_equal(session_validate(&p, NULL, &e), 0);
}

static void
test_transitions(void **state)
{
	struct session_error	e;

	(void)state;
	assert_int_equal(session_transition(SESSION_PENDING,
	    SESSION_RECORDING, &e), 0);
	assert_int_equal(session_transition(SESSION_RECORDING,
	    SESSION_SOURCE_ASSIGNED, &e), 0);
	assert_int_equal(session_transition(SESSION_SOURCE_ASSIGNED,
	    SESSION_IN_PROGRESS, &e), 0);
	assert_int_equal(session_transition(SESSION_IN_PROGRESS,
	    SESSION_COMPLETED, &e), 0);
	assert_int_equal(session_transition(SESSION_IN_PROGRESS,
	    SESSION_FAILED, &e), 0);
	assert_int_equal(session_transition(SESSION_RECORDING,
	    SESSION_FAILED, &e), 0);

	/* assigning before starting */
	assert_int_equal(session_transition(SESSION_PENDING,
	    SESSION_SOURCE_ASSIGNED, &e), -1);
	assert_string_equal(e.code, "bad_state");
	assert_non_null(strstr(e.msg, "start the session"));
	/* acquiring before assigning */
	assert_int_equal(session_transition(SESSION_RECORDING,
	    SESSION_IN_PROGRESS, &e), -1);
	assert_non_null(strstr(e.msg, "assign a source"));
	/* acquiring twice */
	assert_int_equal(session_transition(SESSION_IN_PROGRESS,
	    SESSION_IN_PROGRESS, &e), -1);
	assert_non_null(strstr(e.msg, "already started"));
	/* nothing after the end */
	assert_int_equal(session_transition(SESSION_COMPLETED,
	    SESSION_FAILED, &e), -1);
	assert_int_equal(session_transition(SESSION_FAILED,
	    SESSION_IN_PROGRESS, &e), -1);
	assert_non_null(strstr(e.msg, "already ended"));
	/* assigning again after acquisition began */
	assert_int_equal(session_transition(SESSION_IN_PROGRESS,
	    SESSION_SOURCE_ASSIGNED, &e), -1);
}

static void
test_names(void **state)
{
	int	i;

	(void)state;
	for (i = SESSION_PENDING; i <= SESSION_FAILED; i++)
		assert_int_equal(session_status_parse(
		    session_status_name((enum session_status)i)), i);
	assert_string_equal(session_status_name(SESSION_SOURCE_ASSIGNED),
	    "source_assigned");
	assert_int_equal(session_status_parse("nope"), -1);
	assert_true(session_status_final(SESSION_FAILED));
	assert_false(session_status_final(SESSION_IN_PROGRESS));
}

/* The one frequency parser (console field, record/import/sources --freq). */
static void
test_parse_mhz(void **state)
{
	char	err[256];
	double	v;

	(void)state;
	assert_int_equal(session_parse_mhz("14.074", 0, &v, err, sizeof err),
	    0);
	assert_true(v == strtod("14.074", NULL));
	assert_int_equal(session_parse_mhz(" 145.5 ", 0, &v, err, sizeof err),
	    0);
	assert_true(v == 145.5);
	assert_int_equal(session_parse_mhz("7", 0, &v, err, sizeof err), 0);
	assert_true(v == 7);
	assert_int_equal(session_parse_mhz(".5", 0, &v, err, sizeof err), 0);
	assert_true(v == 0.5);
	assert_int_equal(session_parse_mhz("100000", 0, &v, err, sizeof err),
	    0);
	/* strtod's other syntaxes are not frequencies */
	assert_int_equal(session_parse_mhz("0x10", 0, &v, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "digits"));
	assert_int_equal(session_parse_mhz("1e1", 0, &v, err, sizeof err), -1);
	assert_int_equal(session_parse_mhz("inf", 0, &v, err, sizeof err), -1);
	assert_int_equal(session_parse_mhz("nan", 0, &v, err, sizeof err), -1);
	assert_int_equal(session_parse_mhz("-14", 0, &v, err, sizeof err), -1);
	assert_int_equal(session_parse_mhz("+14", 0, &v, err, sizeof err), -1);
	assert_int_equal(session_parse_mhz("1.2.3", 0, &v, err, sizeof err),
	    -1);
	assert_int_equal(session_parse_mhz(".", 0, &v, err, sizeof err), -1);
	assert_int_equal(session_parse_mhz("14 2", 0, &v, err, sizeof err), -1);
	/* the decimal comma: a hint with the number meant */
	assert_int_equal(session_parse_mhz("14,2", 0, &v, err, sizeof err), -1);
	assert_non_null(strstr(err, "decimal point"));
	assert_non_null(strstr(err, "14.2 MHz"));
	assert_int_equal(session_parse_mhz("1,000.5", 0, &v, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "decimal point"));
	/* too large is said as too large, however many digits */
	assert_int_equal(session_parse_mhz("1234567890123456789", 0, &v, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "at most 100000 MHz"));
	assert_int_equal(session_parse_mhz("100000.5", 0, &v, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "at most"));
	assert_int_equal(session_parse_mhz("0000000000007", 0, &v, err,
	    sizeof err), 0);
	assert_true(v == 7);
	/* empty and zero */
	assert_int_equal(session_parse_mhz("  ", 0, &v, err, sizeof err), -1);
	assert_non_null(strstr(err, "required"));
	assert_int_equal(session_parse_mhz("0", 0, &v, err, sizeof err), -1);
	assert_non_null(strstr(err, "above 0"));
	assert_int_equal(session_parse_mhz("0.0", 1, &v, err, sizeof err), 0);
	assert_true(v == 0);
}

/* One vocabulary for a finished session. */
static void
test_outcome(void **state)
{
	char	b[64];

	(void)state;
	assert_int_equal(session_outcome("completed", 0),
	    SESSION_OUTCOME_COMPLETE);
	assert_int_equal(session_outcome("completed", 37),
	    SESSION_OUTCOME_PARTIAL);
	assert_int_equal(session_outcome("failed", 0), SESSION_OUTCOME_FAILED);
	assert_int_equal(session_outcome("failed", 5), SESSION_OUTCOME_FAILED);
	assert_int_equal(session_outcome("in_progress", 0),
	    SESSION_OUTCOME_NONE);
	assert_int_equal(session_outcome(NULL, 0), SESSION_OUTCOME_NONE);
	assert_string_equal(session_outcome_text("completed", 0, b, sizeof b),
	    "complete");
	assert_string_equal(session_outcome_text("completed", 37, b, sizeof b),
	    "partial (37 missing)");
	assert_string_equal(session_outcome_text("failed", 3, b, sizeof b),
	    "failed");
	assert_string_equal(session_outcome_text("damaged", 0, b, sizeof b),
	    "damaged");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_exclude),
		cmocka_unit_test(test_transitions),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse_mhz),
		cmocka_unit_test(test_outcome),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
