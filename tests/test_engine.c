/* test_engine.c -- the engine end to end with in-process fake receivers. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/engine.h"
#include "src/events.h"
#include "src/util.h"
#include "net/receiver.h"
#include "net/rxloop.h"
#include "store/dataset.h"

#define FAKERX_NOISE	100	/* Q gets +-100 of noise: finite SNR */
#include "fakerx.h"

/* ---- fixture ---- */

struct fx {
	struct fakerx_env env;	/* the engine, its dataset and bus */
	pthread_mutex_t	 lock;
	json_t		*events;	/* [[name, data], ...] */
};

static void
on_event(void *ctx, const char *name, const json_t *data, const char *json,
    size_t len)
{
	struct fx *f = ctx;

	(void)json;
	(void)len;
	pthread_mutex_lock(&f->lock);
	json_array_append_new(f->events, json_pack("[s, O]", name, data));
	pthread_mutex_unlock(&f->lock);
}

static struct fx *
fx_new(const char *modes[], int n)
{
	struct fx		*f = calloc(1, sizeof *f);
	char			 json[4096];
	size_t			 off;
	int			 i;

	off = (size_t)snprintf(json, sizeof json, "{\"stations\":[");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(json + off, sizeof json - off,
		    "%s{\"name\":\"Fake %d\",\"type\":\"fake\",\"url\":"
		    "\"tcp://127.0.0.1:%d\",\"latitude\":45,\"longitude\":7,"
		    "\"password\":\"%s\"}", i ? "," : "", i + 1, 9000 + i,
		    modes[i]);
	snprintf(json + off, sizeof json - off, "]}");
	f->events = json_array();
	pthread_mutex_init(&f->lock, NULL);
	fakerx_env_start(&f->env, "test_engine", json, on_event, f);
	return f;
}

static void
fx_free(struct fx *f)
{
	fakerx_env_stop(&f->env);
	json_decref(f->events);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static struct session_params
params(int duration)
{
	struct session_params p;

	memset(&p, 0, sizeof p);
	snprintf(p.name, sizeof p.name, "engine test");
	p.freq_hz = 10e6;
	p.duration_s = duration;
	p.low_cut = -5000;
	p.high_cut = 5000;
	return p;
}

static int
count_events(struct fx *f, const char *name)
{
	size_t	 i;
	json_t	*e;
	int	 n = 0;

	json_array_foreach(f->events, i, e) {
		if (strcmp(json_string_value(json_array_get(e, 0)), name) == 0)
			n++;
	}
	return n;
}

static json_t *
last_event(struct fx *f)
{
	return json_array_get(json_array_get(f->events,
	    json_array_size(f->events) - 1), 1);
}

static int
record(struct fx *f, int duration, char id[37])
{
	struct session_params	p = params(duration);
	struct session_error	e;

	assert_int_equal(engine_session_start(f->env.eng, &p, id, &e), 0);
	assert_int_equal(engine_session_assign(f->env.eng, id, "unknown", &e),
	    0);
	assert_int_equal(engine_session_acquire(f->env.eng, id, &e), 0);
	return engine_session_wait(f->env.eng, id);
}

static void
test_complete(void **state)
{
	const char	*modes[] = { "ok", "ok", "ok" };
	struct fx	*f = fx_new(modes, 3);
	char		 id[37], err[256];
	json_t		*d, *m, *sum;
	size_t		 i;
	json_t		*row;

	(void)state;
	assert_int_equal(record(f, 2, id), SESSION_COMPLETED);
	assert_int_equal(count_events(f, "session:started"), 1);
	assert_int_equal(count_events(f, "session:source_assigned"), 1);
	assert_int_equal(count_events(f, "session:completed"), 1);
	assert_int_equal(count_events(f, "session:progress"), 2);
	assert_int_equal(count_events(f, "session:measurement"), 6);
	d = last_event(f);
	assert_string_equal(json_string_value(json_object_get(d, "status")),
	    "completed");
	sum = json_object_get(d, "summary");
	assert_int_equal(json_integer_value(json_object_get(sum,
	    "chunks_stored")), 6);
	assert_int_equal(json_integer_value(json_object_get(sum,
	    "chunks_missing")), 0);

	m = dataset_session_load(f->env.ds, id, err, sizeof err);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(json_object_get(m,
	    "session"), "status")), "completed");
	assert_int_equal(json_array_size(json_object_get(m, "measurements")),
	    6);
	json_array_foreach(json_object_get(m, "measurements"), i, row) {
		/* 1 kHz tone well above the noise */
		assert_true(json_real_value(json_object_get(row, "snr_db")) > 10);
		assert_true(fabs(json_real_value(json_object_get(row,
		    "frequency_offset_hz")) - 1000) < 2);
		assert_int_equal(json_integer_value(json_object_get(row,
		    "iq_samples_count")), 12000);
	}
	json_decref(m);
	fx_free(f);
}

static void
test_steps(void **state)
{
	const char		*modes[] = { "ok" };
	struct fx		*f = fx_new(modes, 1);
	struct session_params	 p = params(1);
	struct session_error	 e;
	char			 id[37];

	(void)state;
	assert_int_equal(engine_session_assign(f->env.eng,
	    "00000000-0000-4000-8000-000000000000", "unknown", &e), -1);
	assert_string_equal(e.code, "not_found");
	assert_int_equal(engine_session_acquire(f->env.eng, "nope", &e), -1);
	assert_string_equal(e.code, "out_of_range");
	p.freq_hz = 145.5e6;
	assert_int_equal(engine_session_start(f->env.eng, &p, id, &e), -1);
	assert_string_equal(e.code, "out_of_range");
	assert_string_equal(e.field, "frequency_mhz");
	p = params(1);
	assert_int_equal(engine_session_start(f->env.eng, &p, id, &e), 0);
	assert_int_equal(engine_session_acquire(f->env.eng, id, &e), -1);
	assert_string_equal(e.code, "bad_state");
	assert_int_equal(engine_session_assign(f->env.eng, id, "no such source",
	    &e), -1);
	assert_string_equal(e.code, "not_found");
	assert_int_equal(engine_session_assign(f->env.eng, id, "Unknown", &e),
	    0);
	assert_int_equal(engine_session_assign(f->env.eng, id, "unknown", &e),
	    -1);
	assert_string_equal(e.code, "bad_state");
	assert_int_equal(engine_session_acquire(f->env.eng, id, &e), 0);
	assert_int_equal(engine_session_acquire(f->env.eng, id, &e), -1);
	assert_string_equal(e.code, "bad_state");
	assert_int_equal(engine_session_wait(f->env.eng, id),
	    SESSION_COMPLETED);
	fx_free(f);
}

static void
test_receiver_faults(void **state)
{
	const char	*modes[] = { "ok", "fail", "late" };
	struct fx	*f = fx_new(modes, 3);
	char		 id[37];
	json_t		*sum, *st, *miss;
	size_t		 i;

	(void)state;
	assert_int_equal(record(f, 3, id), SESSION_COMPLETED);
	sum = json_object_get(last_event(f), "summary");
	st = json_object_get(sum, "stations");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(st,
	    0), "chunks_ok")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(st,
	    1), "chunks_missing")), 3);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_array_get(st, 1), "reason")), "password"));
	/* "late" streamed about 1 s: at most one whole chunk, the rest
	 * missing with the receiver's reason */
	assert_true(json_integer_value(json_object_get(json_array_get(st, 2),
	    "chunks_missing")) >= 2);
	miss = json_object_get(sum, "missing");
	json_array_foreach(miss, i, st) {
		if (json_integer_value(json_object_get(st, "websdr")) == 3)
			assert_non_null(strstr(json_string_value(
			    json_object_get(st, "reason")), "maintenance"));
	}
	assert_int_equal(count_events(f, "session:progress"), 3);
	fx_free(f);
}

static void
test_all_fail(void **state)
{
	const char	*modes[] = { "fail", "fail" };
	struct fx	*f = fx_new(modes, 2);
	char		 id[37];

	(void)state;
	assert_int_equal(record(f, 5, id), SESSION_FAILED);
	assert_string_equal(json_string_value(json_object_get(last_event(f),
	    "status")), "failed");
	fx_free(f);
}

static void
test_cancel(void **state)
{
	const char		*modes[] = { "ok", "ok" };
	struct fx		*f = fx_new(modes, 2);
	struct session_params	 p = params(10);
	struct session_error	 e;
	char			 id[37], err[256];
	json_t			*m;

	(void)state;
	assert_int_equal(engine_session_start(f->env.eng, &p, id, &e), 0);
	assert_int_equal(engine_session_assign(f->env.eng, id, "unknown", &e),
	    0);
	assert_int_equal(engine_session_acquire(f->env.eng, id, &e), 0);
	sleep(3);
	assert_int_equal(engine_session_cancel(f->env.eng, id, "operator", &e),
	    0);
	assert_int_equal(engine_session_wait(f->env.eng, id), SESSION_FAILED);
	m = dataset_session_load(f->env.ds, id, err, sizeof err);
	assert_non_null(m);
	/* finished chunks kept (about 2 s of 2 receivers) */
	assert_true(json_array_size(json_object_get(m, "measurements")) >= 2);
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(m, "session"), "failure_reason")), "operator"));
	json_decref(m);
	fx_free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_receiver_faults),
		cmocka_unit_test(test_all_fail),
		cmocka_unit_test(test_cancel),
	};

	if (rx_driver_register(&fakerx_driver) != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
