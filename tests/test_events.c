/* test_events.c -- envelopes and subscriber delivery. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "src/engine/events.h"

struct rec {
	int	 n;
	char	 last[512];
	char	 names[64][32];
};

static void
record(void *ctx, const char *name, const json_t *data, const char *json,
    size_t len)
{
	struct rec *r = ctx;

	assert_true(json_is_object(data));
	assert_int_equal(strlen(json), len);
	snprintf(r->last, sizeof r->last, "%s", json);
	if (r->n < 64)
		snprintf(r->names[r->n], sizeof r->names[0], "%s", name);
	r->n++;
}

static void
test_envelope(void **state)
{
	struct events	*ev = events_new();
	struct rec	 r = { 0 };
	json_t		*root, *d;
	json_error_t	 jerr;
	const char	*ts;

	(void)state;
	assert_true(events_subscribe(ev, record, &r) > 0);
	events_emit(ev, "session:progress", json_pack("{s:s, s:i, s:i}",
	    "session_id", "x", "chunk", 3, "total_chunks", 5));
	assert_int_equal(r.n, 1);
	/* event first, as the WebSocket API writes it */
	assert_true(strncmp(r.last, "{\"event\":\"session:progress\"", 27) == 0);
	root = json_loads(r.last, 0, &jerr);
	assert_non_null(root);
	ts = json_string_value(json_object_get(root, "timestamp"));
	assert_non_null(ts);
	assert_int_equal(strlen(ts), 27);	/* 2026-11-24T21:30:00.123456Z */
	assert_int_equal(ts[26], 'Z');
	d = json_object_get(root, "data");
	assert_int_equal(json_integer_value(json_object_get(d, "chunk")), 3);
	json_decref(root);

	/* from stored text: the same envelope; no data: no "data" key */
	{
		char	*s;
		size_t	 len;

		s = events_envelope_text("sessions:list", "{\"a\":[1]}", 9,
		    &len);
		assert_int_equal(len, strlen(s));
		assert_true(strncmp(s, "{\"event\":\"sessions:list\","
		    "\"timestamp\":\"", 38) == 0);
		assert_string_equal(s + len - 17, "\"data\":{\"a\":[1]}}");
		root = json_loads(s, 0, &jerr);
		assert_non_null(root);
		assert_int_equal(json_object_size(root), 3);
		json_decref(root);
		free(s);
		s = events_envelope("pong", NULL, &len);
		root = json_loads(s, 0, &jerr);
		assert_non_null(root);
		assert_null(json_object_get(root, "data"));
		assert_string_equal(json_string_value(json_object_get(root,
		    "event")), "pong");
		json_decref(root);
		free(s);
		assert_null(events_envelope_text("a\"b", NULL, 0, NULL));
	}

	events_emit(ev, "pong", NULL);			/* no data: {} */
	assert_non_null(strstr(r.last, "\"data\":{}"));
	events_free(ev);
}

static void
test_unsubscribe(void **state)
{
	struct events	*ev = events_new();
	struct rec	 a = { 0 }, b = { 0 };
	int		 ida;

	(void)state;
	ida = events_subscribe(ev, record, &a);
	events_subscribe(ev, record, &b);
	events_emit(ev, "one", NULL);
	events_unsubscribe(ev, ida);
	events_emit(ev, "two", NULL);
	assert_int_equal(a.n, 1);
	assert_int_equal(b.n, 2);
	assert_string_equal(b.names[1], "two");
	events_free(ev);
}

/* Emitters on several threads: every subscriber sees every event, and
 * all subscribers see them in the same order. */
struct emitter {
	struct events	*ev;
	int		 id;
};

static void *
emit_many(void *arg)
{
	struct emitter	*e = arg;
	int		 i;

	for (i = 0; i < 16; i++) {
		char name[32];
		snprintf(name, sizeof name, "t%d:%d", e->id, i);
		events_emit(e->ev, name, NULL);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct events	*ev = events_new();
	struct rec	 a = { 0 }, b = { 0 };
	struct emitter	 em[4];
	pthread_t	 th[4];
	int		 i;

	(void)state;
	events_subscribe(ev, record, &a);
	events_subscribe(ev, record, &b);
	for (i = 0; i < 4; i++) {
		em[i] = (struct emitter){ ev, i };
		pthread_create(&th[i], NULL, emit_many, &em[i]);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(a.n, 64);
	assert_int_equal(b.n, 64);
	for (i = 0; i < 64; i++)
		assert_string_equal(a.names[i], b.names[i]);
	events_free(ev);
}

/* events_emit_text: the caller's serialization of data in the envelope,
 * byte for byte what events_emit makes of the same data (but the time);
 * without a text, events_emit's. */
static void
test_emit_text(void **state)
{
	struct events	*ev = events_new();
	struct rec	 r = { 0 };
	json_t		*d = json_pack("{s:s, s:f, s:i}", "id", "a\"b",
			    "snr_db", 20.148116314326, "chunk_index", 3);
	const char	*text = "{\"id\":\"a\\\"b\",\"snr_db\":20.148116314326,"
			    "\"chunk_index\":3}";
	char		 viaemit[512], *p, *q;

	(void)state;
	assert_true(events_subscribe(ev, record, &r) > 0);
	events_emit(ev, "session:measurement", json_incref(d));
	snprintf(viaemit, sizeof viaemit, "%s", r.last);
	events_emit_text(ev, "session:measurement", json_incref(d), text,
	    strlen(text));
	assert_int_equal(r.n, 2);
	assert_string_equal(r.names[1], "session:measurement");
	/* the same bytes but the timestamp's */
	p = strstr(viaemit, ",\"data\":");
	q = strstr(r.last, ",\"data\":");
	assert_non_null(p);
	assert_non_null(q);
	assert_string_equal(p, q);
	assert_int_equal(p - viaemit, q - r.last);
	assert_int_equal(strncmp(viaemit, r.last, 40), 0);
	/* no text: serialized from data */
	events_emit_text(ev, "session:measurement", json_incref(d), NULL, 0);
	assert_int_equal(r.n, 3);
	assert_string_equal(strstr(r.last, ",\"data\":"), p);
	json_decref(d);
	events_free(ev);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_emit_text),
		cmocka_unit_test(test_unsubscribe),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
