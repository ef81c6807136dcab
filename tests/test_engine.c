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

#include "src/engine/engine.h"
#include "src/engine/events.h"
#include "src/engine/config.h"
#include "src/base/util.h"
#include "net/rx/receiver.h"
#include "net/rx/rxloop.h"
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

/* Where fx_new* put their dataset (fakerx_env_start's name). */
static const char *fx_name = "test_engine";

/* An engine with idle timeout, open-session and queue limits and spool
 * threshold (0: the defaults). */
static struct fx *
fx_new_tuned(const char *modes[], int n, double idle, int max_open,
    int queue_max, int spool_min)
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
	f->env.idle_timeout = idle;
	f->env.max_open = max_open;
	f->env.queue_max = queue_max;
	f->env.spool_min = spool_min;
	fakerx_env_start(&f->env, fx_name, json, on_event, f);
	return f;
}

static struct fx *
fx_new(const char *modes[], int n)
{
	return fx_new_tuned(modes, n, 0, 0, 0, 0);
}

/* An engine that spools from spool_min receivers (0: the default). */
static struct fx *
fx_new_spool(const char *modes[], int n, int spool_min)
{
	return fx_new_tuned(modes, n, 0, 0, 0, spool_min);
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

	session_params_init(&p);
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

	pthread_mutex_lock(&f->lock);
	json_array_foreach(f->events, i, e) {
		if (strcmp(json_string_value(json_array_get(e, 0)), name) == 0)
			n++;
	}
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* The session of an event: session_id, or a measurement row's. */
static const char *
event_session(const json_t *d)
{
	const char *s = json_string_value(json_object_get(d, "session_id"));

	return s != NULL ? s : json_string_value(json_object_get(d,
	    "recording_session_id"));
}

/* Index of the first (last: the last) event name of session id whose
 * data's string key begins with val (key NULL: any), or -1. */
static int
find_event(struct fx *f, const char *name, const char *id, const char *key,
    const char *val, int last)
{
	size_t	 i, n;
	json_t	*e, *d;
	int	 found = -1;

	pthread_mutex_lock(&f->lock);
	n = json_array_size(f->events);
	for (i = 0; i < n; i++) {
		e = json_array_get(f->events, i);
		d = json_array_get(e, 1);
		if (strcmp(json_string_value(json_array_get(e, 0)), name) != 0 ||
		    event_session(d) == NULL ||
		    strcmp(event_session(d), id) != 0)
			continue;
		if (key != NULL && (json_string_value(json_object_get(d,
		    key)) == NULL || strncmp(json_string_value(
		    json_object_get(d, key)), val, strlen(val)) != 0))
			continue;
		found = (int)i;
		if (!last)
			break;
	}
	pthread_mutex_unlock(&f->lock);
	return found;
}

static json_t *
event_at(struct fx *f, int i)
{
	return json_array_get(json_array_get(f->events, (size_t)i), 1);
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

/* 1 if this process has an unnamed file (O_TMPFILE: "DIR/#INODE
 * (deleted)") of directory dir open. */
static int
open_unnamed_in(const char *dir)
{
	char	 path[64], to[512];
	size_t	 n = strlen(dir);

	for (int fd = 0; fd < 1024; fd++) {
		ssize_t	 k;

		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if ((k = readlink(path, to, sizeof to - 1)) <= 0)
			continue;
		to[k] = '\0';
		if (strncmp(to, dir, n) == 0 && to[n] == '/' &&
		    to[n + 1] == '#' && strstr(to, " (deleted)") != NULL)
			return 1;
	}
	return 0;
}

/* A session of 3 receivers stored whole; spool_min: the engine's (0: the
 * default, on the heap; 1: their samples through the spool file). */
static void
complete(int spool_min)
{
	const char	*modes[] = { "ok", "ok", "ok" };
	struct fx	*f = fx_new_spool(modes, 3, spool_min);
	char		 id[37], err[256];
	json_t		*d, *m, *sum;
	size_t		 i;
	json_t		*row;
	struct session_params	 p = params(2);
	struct session_error	 e;
	int			 spooled = 0;

	assert_int_equal(engine_session_start(f->env.eng, &p, id, &e), 0);
	assert_int_equal(engine_session_assign(f->env.eng, id, "unknown", &e),
	    0);
	assert_int_equal(engine_session_acquire(f->env.eng, id, &e), 0);
	/* the spool file is open while the session acquires: an unnamed
	 * file (O_TMPFILE) in the dataset's directory */
	for (int t = 0; t < 100 && !spooled; t++) {
		usleep(10000);
		spooled = open_unnamed_in(f->env.dir);
	}
	assert_int_equal(spooled, spool_min == 1);
	assert_int_equal(engine_session_wait(f->env.eng, id),
	    SESSION_COMPLETED);
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
test_complete(void **state)
{
	(void)state;
	complete(0);
}

/* The same through the spool file (chunker_spool; the engine's default
 * only from ENGINE_SPOOL_MIN receivers): chunks read back for metrics
 * and storage. */
static void
test_complete_spooled(void **state)
{
	(void)state;
	complete(1);
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

/* Steps 1 and 2 at once (engine_session_start_assigned, record's and the
 * scheduler's): the session is created with its source assigned (its
 * first manifest says so), with the two steps' events in their order; a
 * refused start creates nothing; a refused source leaves the session
 * created and unassigned, as a refused engine_session_assign does. */
static void
test_start_assigned(void **state)
{
	const char		*modes[] = { "ok" };
	struct fx		*f = fx_new(modes, 1);
	struct session_params	 p = params(1);
	struct session_error	 e;
	char			 id[37], err[256];
	json_t			*m, *ses;
	int			 k[4], i;
	static const char	*seq[4][2] = {
		{ "session:started", NULL },
		{ "session:status_update", "recording" },
		{ "session:source_assigned", NULL },
		{ "session:status_update", "source_assigned" },
	};

	(void)state;
	p.freq_hz = 145.5e6;
	assert_int_equal(engine_session_start_assigned(f->env.eng, &p,
	    "unknown", id, &e), -1);
	assert_string_equal(e.code, "out_of_range");
	assert_string_equal(id, "");
	assert_int_equal(count_events(f, "session:started"), 0);

	p = params(1);
	assert_int_equal(engine_session_start_assigned(f->env.eng, &p,
	    "no such source", id, &e), -1);
	assert_string_equal(e.code, "not_found");
	assert_string_equal(e.field, "source_id");
	assert_int_equal((int)strlen(id), 36);
	assert_int_equal(count_events(f, "session:source_assigned"), 0);
	m = dataset_session_load(f->env.ds, id, err, sizeof err);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    m, "session"), "status")), "recording");
	json_decref(m);
	/* created and unassigned: the second step is still open */
	assert_int_equal(engine_session_assign(f->env.eng, id, "unknown", &e),
	    0);
	assert_int_equal(engine_session_cancel(f->env.eng, id, "test", &e), 0);

	assert_int_equal(engine_session_start_assigned(f->env.eng, &p,
	    "Unknown", id, &e), 0);
	m = dataset_session_load(f->env.ds, id, err, sizeof err);
	assert_non_null(m);
	ses = json_object_get(m, "session");
	assert_string_equal(json_string_value(json_object_get(ses, "status")),
	    "source_assigned");
	assert_string_equal(json_string_value(json_object_get(ses,
	    "source_name")), "Unknown");
	assert_non_null(json_string_value(json_object_get(ses,
	    "known_source_id")));
	json_decref(m);
	for (i = 0; i < 4; i++) {
		k[i] = find_event(f, seq[i][0], id, seq[i][1] != NULL ?
		    "status" : NULL, seq[i][1], 0);
		assert_true(k[i] >= 0);
		assert_true(i == 0 || k[i] > k[i - 1]);
	}
	assert_null(json_object_get(event_at(f, k[1]), "source_id"));
	assert_string_equal(json_string_value(json_object_get(event_at(f,
	    k[3]), "source_name")), "Unknown");
	assert_int_equal(engine_session_assign(f->env.eng, id, "unknown", &e),
	    -1);
	assert_string_equal(e.code, "bad_state");
	assert_int_equal(engine_session_acquire(f->env.eng, id, &e), 0);
	assert_int_equal(engine_session_wait(f->env.eng, id),
	    SESSION_COMPLETED);
	fx_free(f);
}

/* Stations the operator excludes (issue 13): left out of the session with
 * SESSION_EXCLUDED_REASON, in the events, the summary and the manifest;
 * the others record; unknown names and an exclusion of all are refused
 * before any session exists. */
static void
test_exclude(void **state)
{
	const char		*modes[] = { "ok", "ok", "ok", "ok" };
	struct fx		*f = fx_new(modes, 4);
	struct session_params	 p = params(2);
	struct session_error	 e;
	const char		*two[] = { "Fake 2", "Fake 4" };
	const char		*bad[] = { "Fake 2", "Fake 9" };
	const char		*all[] = { "Fake 1", "Fake 2", "Fake 3",
				    "Fake 4" };
	char			 id[37], err[256];
	json_t			*m, *st, *x, *sum;
	size_t			 i;
	int			 k;

	(void)state;
	p.exclude = bad;
	p.nexclude = 2;
	assert_int_equal(engine_session_start(f->env.eng, &p, id, &e), -1);
	assert_string_equal(e.code, "not_found");
	assert_string_equal(e.field, "exclude");
	assert_non_null(strstr(e.msg, "\"Fake 9\""));
	p.exclude = all;
	p.nexclude = 4;
	assert_int_equal(engine_session_start(f->env.eng, &p, id, &e), -1);
	assert_string_equal(e.code, "out_of_range");
	assert_string_equal(e.field, "exclude");
	assert_int_equal(count_events(f, "session:started"), 0);

	p.exclude = two;
	p.nexclude = 2;
	assert_int_equal(engine_session_start(f->env.eng, &p, id, &e), 0);
	/* session:started says which, and receiver:status for each */
	k = find_event(f, "session:started", id, NULL, NULL, 0);
	assert_true(k >= 0);
	x = json_object_get(event_at(f, k), "excluded");
	assert_int_equal(json_array_size(x), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(x,
	    0), "station")), "Fake 2");
	assert_string_equal(json_string_value(json_object_get(json_array_get(x,
	    1), "reason")), SESSION_EXCLUDED_REASON);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(x,
	    1), "websdr")), 4);
	k = find_event(f, "receiver:status", id, "state", "excluded", 0);
	assert_true(k >= 0);
	assert_string_equal(json_string_value(json_object_get(event_at(f, k),
	    "reason")), SESSION_EXCLUDED_REASON);
	assert_int_equal(engine_session_assign(f->env.eng, id, "unknown", &e),
	    0);
	assert_int_equal(engine_session_acquire(f->env.eng, id, &e), 0);
	assert_int_equal(engine_session_wait(f->env.eng, id),
	    SESSION_COMPLETED);
	/* 2 stations x 2 chunks, none owed by the excluded ones */
	sum = json_object_get(last_event(f), "summary");
	assert_int_equal(json_integer_value(json_object_get(sum,
	    "chunks_stored")), 4);
	assert_int_equal(json_integer_value(json_object_get(sum,
	    "chunks_missing")), 0);
	assert_int_equal(json_array_size(json_object_get(sum, "excluded")), 2);

	m = dataset_session_load(f->env.ds, id, err, sizeof err);
	assert_non_null(m);
	assert_int_equal(json_array_size(json_object_get(m, "measurements")),
	    4);
	json_array_foreach(json_object_get(m, "measurements"), i, x) {
		json_int_t w = json_integer_value(json_object_get(x,
		    "websdr"));
		assert_true(w == 1 || w == 3);
	}
	st = json_object_get(m, "stations");
	assert_int_equal(json_array_size(st), 4);
	json_array_foreach(st, i, x) {
		const char *state = json_string_value(json_object_get(x,
		    "state"));
		if (i == 1 || i == 3) {
			assert_string_equal(state, "excluded");
			assert_string_equal(json_string_value(json_object_get(x,
			    "reason")), SESSION_EXCLUDED_REASON);
		} else
			assert_string_not_equal(state, "excluded");
	}
	json_decref(m);
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
	int		 err, lastprog;
	json_t		*d;

	(void)state;
	assert_int_equal(record(f, 5, id), SESSION_FAILED);
	assert_string_equal(json_string_value(json_object_get(last_event(f),
	    "status")), "failed");
	/* A page that counts progress to N sees the failure first: one
	 * session:error acquisition_failed with the reason, before the last
	 * progress event; the final status_update stays the last event. */
	assert_int_equal(count_events(f, "session:progress"), 5);
	err = find_event(f, "session:error", id, "code", "acquisition_failed",
	    0);
	assert_true(err >= 0);
	assert_int_equal(find_event(f, "session:error", id, "code",
	    "acquisition_failed", 1), err);
	d = event_at(f, err);
	assert_non_null(strstr(json_string_value(json_object_get(d, "error")),
	    "no receiver delivered"));
	assert_string_equal(json_string_value(json_object_get(d, "field")), "");
	lastprog = find_event(f, "session:progress", id, NULL, NULL, 1);
	assert_true(err < lastprog);
	assert_int_equal(json_integer_value(json_object_get(event_at(f,
	    lastprog), "chunk")), 5);
	assert_int_equal(find_event(f, "session:status_update", id, NULL, NULL,
	    1), (int)json_array_size(f->events) - 1);
	fx_free(f);
}

/* A session that completes says no acquisition_failed. */
static void
test_no_failure_said(void **state)
{
	const char	*modes[] = { "ok", "fail" };
	struct fx	*f = fx_new(modes, 2);
	char		 id[37];

	(void)state;
	assert_int_equal(record(f, 1, id), SESSION_COMPLETED);
	assert_int_equal(find_event(f, "session:error", id, NULL, NULL, 0),
	    -1);
	fx_free(f);
}

/*
 * 200 sessions left behind -- some created only, some assigned, some with
 * a refused session:complete -- with at most 8 open: each new one ends the
 * one idle longest ("abandoned"), so none is refused; the engine's timer
 * ends the rest after the idle limit; then a normal session completes.
 */
static void
test_abandoned(void **state)
{
	const char		*modes[] = { "ok" };
	struct fx		*f = fx_new_tuned(modes, 1, 0.5, 8, 0, 0);
	struct session_params	 p = params(1);
	struct session_error	 e;
	char			 id[37], first[37], err[256];
	int			 i, n;
	json_t			*m;
	double			 t0;

	(void)state;
	for (i = 0; i < 200; i++) {
		assert_int_equal(engine_session_start(f->env.eng, &p, id, &e),
		    0);
		if (i == 0)
			memcpy(first, id, sizeof first);
		if (i % 3 >= 1)
			assert_int_equal(engine_session_assign(f->env.eng, id,
			    "unknown", &e), 0);
		if (i % 3 == 2) {
			/* refused (wrong state), leaves the session open */
			assert_int_equal(engine_session_assign(f->env.eng, id,
			    "unknown", &e), -1);
			assert_string_equal(e.code, "bad_state");
		}
	}
	/* 192 made room at once (the first is one of them) */
	n = 0;
	for (i = 0; i < (int)json_array_size(f->events); i++) {
		json_t *d = event_at(f, i);
		if (json_string_value(json_object_get(d, "error")) != NULL &&
		    strncmp(json_string_value(json_object_get(d, "error")),
		    "abandoned", 9) == 0)
			n++;
	}
	assert_true(n >= 192);
	assert_true(find_event(f, "session:status_update", first, "error",
	    "abandoned: idle for", 0) >= 0);
	assert_int_equal(engine_session_wait(f->env.eng, first),
	    SESSION_FAILED);
	m = dataset_session_load(f->env.ds, first, err, sizeof err);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(json_object_get(m,
	    "session"), "status")), "failed");
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(m, "session"), "failure_reason")), "abandoned"));
	json_decref(m);
	/* the last 8 by the timer, within about the idle limit */
	t0 = util_mono();
	assert_int_equal(engine_session_wait(f->env.eng, id), SESSION_FAILED);
	assert_true(util_mono() - t0 < 2.0);
	assert_true(find_event(f, "session:status_update", id, "error",
	    "abandoned: no request for", 0) >= 0);
	/* and the recorder still works */
	assert_int_equal(record(f, 1, id), SESSION_COMPLETED);
	fx_free(f);
}

/* The open-session limit is reached only by sessions that acquire or
 * wait to: then "busy"; and an acquiring session is never abandoned. */
static void
test_open_limit_busy(void **state)
{
	const char		*modes[] = { "ok" };
	struct fx		*f = fx_new_tuned(modes, 1, 1, 2, 0, 0);
	struct session_params	 p = params(2);
	struct session_error	 e;
	char			 a[37], b[37], c[37];

	(void)state;
	assert_int_equal(engine_session_start(f->env.eng, &p, a, &e), 0);
	assert_int_equal(engine_session_assign(f->env.eng, a, "unknown", &e),
	    0);
	assert_int_equal(engine_session_acquire(f->env.eng, a, &e), 0);
	assert_int_equal(engine_session_start(f->env.eng, &p, b, &e), 0);
	assert_int_equal(engine_session_assign(f->env.eng, b, "unknown", &e),
	    0);
	assert_int_equal(engine_session_acquire(f->env.eng, b, &e), 0);
	assert_int_equal(engine_session_start(f->env.eng, &p, c, &e), -1);
	assert_string_equal(e.code, "busy");
	assert_non_null(strstr(e.msg, "acquiring or queued"));
	assert_int_equal(engine_session_wait(f->env.eng, a), SESSION_COMPLETED);
	assert_int_equal(engine_session_wait(f->env.eng, b), SESSION_COMPLETED);
	assert_int_equal(engine_session_start(f->env.eng, &p, c, &e), 0);
	fx_free(f);
}

static int
queue_position(struct fx *f, const char *id)
{
	json_t	*snap = engine_session_snapshot(f->env.eng, id);
	int	 pos;

	assert_non_null(snap);
	assert_string_equal(json_string_value(json_object_get(snap, "status")),
	    "in_progress");
	pos = (int)json_integer_value(json_object_get(snap, "queue_position"));
	json_decref(snap);
	return pos;
}

/*
 * Acquisitions queue (first come, first served, at most queue_max wait;
 * then busy); a queued one can be cancelled and never acquires; each
 * starts when the one before ends.
 */
static void
test_queue(void **state)
{
	const char		*modes[] = { "ok", "ok" };
	struct fx		*f = fx_new_tuned(modes, 2, 0, 0, 2, 0);
	struct session_params	 p = params(2);
	struct session_error	 e;
	char			 id[4][37];
	int			 i, endA, startC;
	json_t			*d;

	(void)state;
	for (i = 0; i < 4; i++) {
		assert_int_equal(engine_session_start(f->env.eng, &p, id[i], &e),
		    0);
		assert_int_equal(engine_session_assign(f->env.eng, id[i],
		    "unknown", &e), 0);
	}
	assert_int_equal(engine_session_acquire(f->env.eng, id[0], &e), 0);
	assert_int_equal(queue_position(f, id[0]), 0);
	assert_int_equal(engine_session_acquire(f->env.eng, id[1], &e), 0);
	assert_int_equal(engine_session_acquire(f->env.eng, id[2], &e), 0);
	assert_int_equal(queue_position(f, id[1]), 1);
	assert_int_equal(queue_position(f, id[2]), 2);
	assert_int_equal(engine_queued(f->env.eng), 2);
	/* the queue is full */
	assert_int_equal(engine_session_acquire(f->env.eng, id[3], &e), -1);
	assert_string_equal(e.code, "busy");
	assert_non_null(strstr(e.msg, "queue is full"));
	/* session:completed says where it waits */
	i = find_event(f, "session:completed", id[2], NULL, NULL, 0);
	assert_true(i >= 0);
	assert_int_equal(json_integer_value(json_object_get(event_at(f, i),
	    "queue_position")), 2);
	/* cancel the first in the queue: it ends, the next moves up */
	assert_int_equal(engine_session_cancel(f->env.eng, id[1], "changed my "
	    "mind", &e), 0);
	assert_int_equal(engine_session_wait(f->env.eng, id[1]),
	    SESSION_FAILED);
	d = event_at(f, find_event(f, "session:status_update", id[1], NULL,
	    NULL, 1));
	assert_string_equal(json_string_value(json_object_get(d, "status")),
	    "failed");
	assert_string_equal(json_string_value(json_object_get(d, "error")),
	    "cancelled: changed my mind");
	assert_int_equal(queue_position(f, id[2]), 1);
	assert_true(find_event(f, "session:status_update", id[2], NULL, NULL,
	    1) > find_event(f, "session:status_update", id[1], NULL, NULL, 1));
	assert_int_equal(engine_queued(f->env.eng), 1);
	assert_int_equal(engine_session_wait(f->env.eng, id[0]),
	    SESSION_COMPLETED);
	assert_int_equal(engine_session_wait(f->env.eng, id[2]),
	    SESSION_COMPLETED);
	assert_int_equal(engine_queued(f->env.eng), 0);
	/* the cancelled one never acquired */
	assert_int_equal(find_event(f, "receiver:status", id[1], NULL, NULL, 0),
	    -1);
	assert_int_equal(find_event(f, "session:progress", id[1], NULL, NULL,
	    0), -1);
	/* the second started after the first's last event */
	endA = find_event(f, "session:status_update", id[0], "status",
	    "completed", 0);
	startC = find_event(f, "receiver:status", id[2], NULL, NULL, 0);
	assert_true(endA >= 0 && startC > endA);
	d = event_at(f, find_event(f, "session:status_update", id[2], "status",
	    "in_progress", 1));
	assert_int_equal(json_integer_value(json_object_get(d,
	    "queue_position")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    last_event(f), "summary"), "chunks_stored")), 4);
	/* the one refused for a full queue stayed source_assigned */
	assert_int_equal(engine_session_acquire(f->env.eng, id[3], &e), 0);
	assert_int_equal(engine_session_wait(f->env.eng, id[3]),
	    SESSION_COMPLETED);
	fx_free(f);
}

/* engine_free with acquisitions queued: they end failed, never run. */
static void
test_queue_shutdown(void **state)
{
	const char		*modes[] = { "ok" };
	struct fx		*f = fx_new(modes, 1);
	struct session_params	 p = params(3);
	struct session_error	 e;
	char			 a[37], b[37], err[256];
	json_t			*m;

	(void)state;
	assert_int_equal(engine_session_start(f->env.eng, &p, a, &e), 0);
	assert_int_equal(engine_session_assign(f->env.eng, a, "unknown", &e),
	    0);
	assert_int_equal(engine_session_acquire(f->env.eng, a, &e), 0);
	assert_int_equal(engine_session_start(f->env.eng, &p, b, &e), 0);
	assert_int_equal(engine_session_assign(f->env.eng, b, "unknown", &e),
	    0);
	assert_int_equal(engine_session_acquire(f->env.eng, b, &e), 0);
	engine_free(f->env.eng);
	f->env.eng = NULL;
	assert_true(find_event(f, "session:status_update", b, "error",
	    "cancelled: the recorder is shutting down", 0) >= 0);
	assert_int_equal(find_event(f, "receiver:status", b, NULL, NULL, 0),
	    -1);
	m = dataset_session_load(f->env.ds, b, err, sizeof err);
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(json_object_get(m,
	    "session"), "status")), "failed");
	json_decref(m);
	fx_free(f);
}

static int
is_final_update(json_t *ev)
{
	const char *st = json_string_value(json_object_get(json_array_get(ev,
	    1), "status"));

	return strcmp(json_string_value(json_array_get(ev, 0)),
	    "session:status_update") == 0 && st != NULL &&
	    (strcmp(st, "completed") == 0 || strcmp(st, "failed") == 0);
}

/*
 * The start race: every receiver fails at once, so the acquisition can end
 * while engine_session_acquire() is still saving the in_progress manifest
 * and emitting session:completed and status_update(in_progress). For each
 * of 500 sessions the last event must be its final status_update (nothing
 * after it), no save may have failed, and the manifest on disk be final.
 */
static void
test_start_race(void **state)
{
	const char	*modes[] = { "fail", "fail", "fail" };
	struct fx	*f;
	char		 ids[500][37], err[256];
	json_t		*last, *ev, *m;
	const char	*sid;
	size_t		 i;
	int		 k, finals;

	(void)state;
	/* in memory when it can: 3000 manifest fsyncs on a busy disk take
	 * a minute, and durability is not what is tested here */
	if (access("/dev/shm", W_OK) == 0)
		fx_name = "/dev/shm/test_engine";
	f = fx_new(modes, 3);
	fx_name = "test_engine";
	for (k = 0; k < 500; k++)
		assert_int_equal(record(f, 1, ids[k]), SESSION_FAILED);
	/* the last event of each session, and how many final ones it had */
	last = json_object();
	pthread_mutex_lock(&f->lock);
	json_array_foreach(f->events, i, ev) {
		sid = json_string_value(json_object_get(json_array_get(ev, 1),
		    "session_id"));
		assert_non_null(sid);
		/* (a failed session says acquisition_failed; a save refused
		 * after the end would be an io_error) */
		if (strcmp(json_string_value(json_array_get(ev, 0)),
		    "session:error") == 0)
			assert_string_equal(json_string_value(json_object_get(
			    json_array_get(ev, 1), "code")),
			    "acquisition_failed");
		json_object_set(last, sid, ev);
	}
	pthread_mutex_unlock(&f->lock);
	assert_int_equal(json_object_size(last), 500);
	for (k = 0; k < 500; k++) {
		ev = json_object_get(last, ids[k]);
		if (!is_final_update(ev))
			fail_msg("session %d (%s) ended with %s %s", k, ids[k],
			    json_string_value(json_array_get(ev, 0)),
			    json_dumps(json_array_get(ev, 1), 0));
		m = dataset_session_load(f->env.ds, ids[k], err, sizeof err);
		assert_non_null(m);
		assert_string_equal(json_string_value(json_object_get(
		    json_object_get(m, "session"), "status")), "failed");
		json_decref(m);
	}
	finals = 0;
	json_array_foreach(f->events, i, ev)
		finals += is_final_update(ev);
	assert_int_equal(finals, 500);
	json_decref(last);
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

/*
 * 200-ms chunks (--chunk-ms): 2 s make 10 chunks per station of 2400
 * samples (12 kS/s), each measured on its own (the tone's SNR and offset
 * hold on 0.2 s), progress counts 10, the manifest and the snapshot say
 * chunk_ms; a pause is counted in chunks of 0.2 s (paused_seconds).
 */
static void
test_chunk_ms(void **state)
{
	const char		*modes[] = { "ok", "ok" };
	struct fx		*f = fx_new(modes, 2);
	struct session_params	 p = params(2);
	struct session_error	 e;
	char			 id[37], err[256];
	json_t			*d, *sum, *m, *row;
	int			 i, from, to, paused;
	size_t			 j;

	(void)state;
	p.chunk_ms = 200;
	assert_int_equal(engine_session_start(f->env.eng, &p, id, &e), 0);
	d = engine_session_snapshot(f->env.eng, id);
	assert_int_equal(json_integer_value(json_object_get(d, "chunk_ms")),
	    200);
	assert_int_equal(json_integer_value(json_object_get(d,
	    "total_chunks")), 10);
	json_decref(d);
	assert_int_equal(engine_session_assign(f->env.eng, id, "unknown", &e),
	    0);
	assert_int_equal(engine_session_acquire(f->env.eng, id, &e), 0);
	for (i = 0; i < 200 && count_events(f, "session:progress") < 2; i++)
		usleep(10000);
	assert_int_equal(engine_session_pause(f->env.eng, id, 1, &e), 0);
	usleep(500000);
	assert_int_equal(engine_session_pause(f->env.eng, id, 0, &e), 0);
	assert_int_equal(engine_session_wait(f->env.eng, id),
	    SESSION_COMPLETED);
	from = (int)json_integer_value(json_object_get(event_at(f,
	    find_event(f, "session:paused", id, NULL, NULL, 0)),
	    "chunk_index"));
	to = (int)json_integer_value(json_object_get(event_at(f,
	    find_event(f, "session:resumed", id, NULL, NULL, 0)),
	    "chunk_index"));
	/* 0.5 s from within a chunk: 3 or 4 chunks of 0.2 s */
	assert_true(to - from >= 3 && to - from <= 4);
	assert_int_equal(count_events(f, "session:progress"), 10);
	d = event_at(f, find_event(f, "session:progress", id, NULL, NULL, 1));
	assert_int_equal(json_integer_value(json_object_get(d,
	    "total_chunks")), 10);
	sum = json_object_get(last_event(f), "summary");
	assert_int_equal(json_integer_value(json_object_get(sum,
	    "total_chunks")), 10);
	paused = (int)json_integer_value(json_object_get(sum,
	    "paused_chunks"));
	assert_int_equal(paused, 2 * (to - from));
	assert_int_equal(json_integer_value(json_object_get(sum,
	    "chunks_stored")) + paused, 20);
	/* seconds, not chunks */
	assert_true(fabs(json_real_value(json_object_get(sum,
	    "paused_seconds")) - 0.2 * (to - from)) < 1e-9);

	m = dataset_session_load(f->env.ds, id, err, sizeof err);
	assert_non_null(m);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(m,
	    "session"), "chunk_ms")), 200);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(m,
	    "session"), "duration_seconds")), 2);
	assert_int_equal(json_array_size(json_object_get(m, "measurements")),
	    20 - paused);
	json_array_foreach(json_object_get(m, "measurements"), j, row) {
		assert_int_equal(json_integer_value(json_object_get(row,
		    "iq_samples_count")), 2400);
		assert_true(fabs(json_real_value(json_object_get(row,
		    "duration_seconds")) - 0.2) < 1e-9);
		assert_true(json_real_value(json_object_get(row, "snr_db")) > 10);
		assert_true(fabs(json_real_value(json_object_get(row,
		    "frequency_offset_hz")) - 1000) < 2);
	}
	json_decref(m);
	fx_free(f);
}


/*
 * Pause and resume (issue 15): the receivers stay connected; the chunks
 * whose second overlaps the pause are not stored and are counted paused,
 * not missing (the session completes, not partial); numbering goes on;
 * the summary, the stations and the progress events count them. Pausing
 * what is not acquiring, pausing twice, resuming what is not paused:
 * bad_state.
 */
static void
test_pause(void **state)
{
	const char		*modes[] = { "ok", "ok" };
	struct fx		*f = fx_new(modes, 2);
	struct session_params	 p = params(6);
	struct session_error	 e;
	char			 id[37], err[256];
	json_t			*d, *sum, *m, *row, *st;
	int			 i, from, to, stored, paused, k;
	size_t			 j;

	(void)state;
	assert_int_equal(engine_session_start(f->env.eng, &p, id, &e), 0);
	/* not acquiring yet */
	assert_int_equal(engine_session_pause(f->env.eng, id, 1, &e), -1);
	assert_string_equal(e.code, "bad_state");
	assert_int_equal(engine_session_assign(f->env.eng, id, "unknown", &e),
	    0);
	assert_int_equal(engine_session_pause(f->env.eng, id, 1, &e), -1);
	assert_string_equal(e.code, "bad_state");
	assert_int_equal(engine_session_pause(f->env.eng,
	    "00000000-0000-4000-8000-000000000000", 1, &e), -1);
	assert_string_equal(e.code, "not_found");
	assert_int_equal(engine_session_acquire(f->env.eng, id, &e), 0);
	/* resume while not paused */
	assert_int_equal(engine_session_pause(f->env.eng, id, 0, &e), -1);
	assert_string_equal(e.code, "bad_state");
	/* after the first chunk is in */
	for (i = 0; i < 100 && count_events(f, "session:progress") < 1; i++)
		usleep(50000);
	assert_int_equal(count_events(f, "session:progress"), 1);
	assert_int_equal(engine_session_pause(f->env.eng, id, 1, &e), 0);
	assert_int_equal(engine_session_pause(f->env.eng, id, 1, &e), -1);
	assert_string_equal(e.code, "bad_state");
	d = engine_session_snapshot(f->env.eng, id);
	assert_true(json_is_true(json_object_get(d, "paused")));
	json_decref(d);
	usleep(2200000);
	assert_int_equal(engine_session_pause(f->env.eng, id, 0, &e), 0);
	assert_int_equal(engine_session_wait(f->env.eng, id),
	    SESSION_COMPLETED);
	/* ended: nothing to pause */
	assert_int_equal(engine_session_pause(f->env.eng, id, 1, &e), -1);
	assert_string_equal(e.code, "bad_state");

	assert_int_equal(count_events(f, "session:paused"), 1);
	assert_int_equal(count_events(f, "session:resumed"), 1);
	from = (int)json_integer_value(json_object_get(event_at(f,
	    find_event(f, "session:paused", id, NULL, NULL, 0)),
	    "chunk_index"));
	d = event_at(f, find_event(f, "session:resumed", id, NULL, NULL, 0));
	to = (int)json_integer_value(json_object_get(d, "chunk_index"));
	assert_true(json_real_value(json_object_get(d, "pause_seconds")) >
	    2.0);
	/* a pause of 2.2 s from within chunk >= 1 covers 3 or 4 seconds */
	assert_true(from >= 1 && from <= 2);
	assert_true(to - from >= 3 && to - from <= 4);
	assert_true(to <= 6);

	d = last_event(f);
	assert_string_equal(json_string_value(json_object_get(d, "status")),
	    "completed");
	sum = json_object_get(d, "summary");
	stored = (int)json_integer_value(json_object_get(sum,
	    "chunks_stored"));
	paused = (int)json_integer_value(json_object_get(sum,
	    "paused_chunks"));
	assert_int_equal(json_integer_value(json_object_get(sum,
	    "chunks_missing")), 0);
	assert_int_equal(paused, 2 * (to - from));
	assert_int_equal(stored + paused, 12);
	assert_true(fabs(json_real_value(json_object_get(sum,
	    "paused_seconds")) - (to - from)) < 1e-9);
	json_array_foreach(json_object_get(sum, "stations"), j, st)
		assert_int_equal(json_integer_value(json_object_get(st,
		    "chunks_paused")), to - from);
	/* every progress event came (numbering goes on), the last counts
	 * the paused chunks */
	assert_int_equal(count_events(f, "session:progress"), 6);
	d = event_at(f, find_event(f, "session:progress", id, NULL, NULL, 1));
	assert_int_equal(json_integer_value(json_object_get(d, "chunk")), 6);
	assert_int_equal(json_integer_value(json_object_get(d,
	    "paused_chunks")), paused);
	assert_int_equal(json_integer_value(json_object_get(d,
	    "measurements_count")), stored);
	assert_int_equal(count_events(f, "session:missing"), 0);

	/* no row of a paused chunk is stored; the others are */
	m = dataset_session_load(f->env.ds, id, err, sizeof err);
	assert_non_null(m);
	assert_int_equal(json_array_size(json_object_get(m, "measurements")),
	    stored);
	json_array_foreach(json_object_get(m, "measurements"), j, row) {
		k = (int)json_integer_value(json_object_get(row,
		    "chunk_index"));
		assert_true(k < from || k >= to);
	}
	json_decref(m);
	fx_free(f);
}

/* The descriptor estimate both the recorder (exit 71) and the WebSocket
 * server's reserve use: 32 + 1.25 per station, whole. */
/* A kiwirecorder -w file of nblocks frames of 512 samples at fs, its
 * first sample at UTC start_ns (stamped as GPS time of week). */
static void
write_kiwiwav(const char *path, double fs, int64_t start_ns, int nblocks)
{
	FILE		*f = fopen(path, "wb");
	uint32_t	 rate = (uint32_t)(fs + 0.5), u;
	uint16_t	 h;
	int16_t		 iq[2 * 512];
	int		 i, k;

	assert_non_null(f);
	/* little-endian host assumed, as the project's targets are */
	fwrite("RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x02\0", 1, 24, f);
	fwrite(&rate, 4, 1, f);
	u = rate * 4;
	fwrite(&u, 4, 1, f);
	h = 4;
	fwrite(&h, 2, 1, f);
	h = 16;
	fwrite(&h, 2, 1, f);
	for (i = 0; i < nblocks; i++) {
		int64_t t = start_ns + llround(i * 512 * 1e9 / fs);
		int64_t tow = (t - 315964800LL * 1000000000LL +
		    18LL * 1000000000LL) % (604800LL * 1000000000LL);
		unsigned char sol[2] = { 0, 0 };
		fwrite("kiwi\x0a\0\0\0", 1, 8, f);
		fwrite(sol, 1, 2, f);
		u = (uint32_t)(tow / 1000000000LL);
		fwrite(&u, 4, 1, f);
		u = (uint32_t)(tow % 1000000000LL);
		fwrite(&u, 4, 1, f);
		fwrite("data\0\x08\0\0", 1, 8, f);
		for (k = 0; k < 512; k++) {
			iq[2 * k] = (int16_t)(1000 * cos(0.3 * (i * 512 + k)));
			iq[2 * k + 1] = (int16_t)(1000 * sin(0.3 * (i * 512 + k)));
		}
		fwrite(iq, sizeof iq, 1, f);
	}
	u = (uint32_t)ftell(f) - 8;
	fseek(f, 4, SEEK_SET);
	fwrite(&u, 4, 1, f);
	fclose(f);
}

/*
 * Replay mode: the session runs on the recordings' time line, not the
 * wall clock. Two files 0.25 s apart of 3 s each, a third that does not
 * exist, origin just after the later start and 3 chunks asked: chunks 0
 * and 1 come from both files, chunk 2 is past the later file's end
 * ("end of the recording"), the missing file fails its station with its
 * reason -- all at once, though the recordings are from another time.
 */
static void
test_replay(void **state)
{
	struct engine_config	 cfg;
	struct session_params	 p = params(3);
	struct session_error	 e;
	struct stations		 st;
	struct dataset		*ds;
	struct events		*ev;
	struct rxloop		*loop;
	struct engine		*eng;
	struct fx		*f = calloc(1, sizeof *f);
	char			 dir[] = "/tmp/test_engine_replay_XXXXXX";
	char			 json[2048], err[512], id[37], cmd[128];
	char			 a[128], b[128];
	/* a day ago: the GPS week is chosen by the files' mtime (now) */
	int64_t			 t0 = ((int64_t)util_now() - 86400) *
				    1000000000LL;
	json_t			*sum, *m;
	double			 began;
	size_t			 i;
	int			 n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof a, "%s/a.wav", dir);
	snprintf(b, sizeof b, "%s/b.wav", dir);
	write_kiwiwav(a, 12001.1, t0, 70);		/* 2.99 s */
	write_kiwiwav(b, 12000.9, t0 + 250000000, 70);
	snprintf(json, sizeof json, "{\"stations\":["
	    "{\"name\":\"A\",\"type\":\"kiwiwav\",\"url\":\"file://%s\","
	    "\"latitude\":45,\"longitude\":7},"
	    "{\"name\":\"B\",\"type\":\"kiwiwav\",\"url\":\"file://%s\","
	    "\"latitude\":46,\"longitude\":7},"
	    "{\"name\":\"C\",\"type\":\"kiwiwav\",\"url\":"
	    "\"file://%s/none.wav\",\"latitude\":47,\"longitude\":7}]}",
	    a, b, dir);
	assert_int_equal(config_parse_stations(json, strlen(json), &st, err,
	    sizeof err), 0);
	f->events = json_array();
	pthread_mutex_init(&f->lock, NULL);
	snprintf(cmd, sizeof cmd, "%s/data", dir);
	assert_non_null(ds = dataset_open(cmd, err, sizeof err));
	ev = events_new();
	events_subscribe(ev, on_event, f);
	assert_non_null(loop = rxloop_new(0, err, sizeof err));
	memset(&cfg, 0, sizeof cfg);
	cfg.stations = &st;
	cfg.ds = ds;
	cfg.ev = ev;
	cfg.loop = loop;
	/* no replay: a recording is refused */
	assert_null(engine_new(&cfg, err, sizeof err));
	assert_non_null(strstr(err, "station 1 (A) is a recording"));
	cfg.replay = 1;
	cfg.replay_origin = (double)(t0 + 251000000) / 1e9;
	assert_non_null(eng = engine_new(&cfg, err, sizeof err));

	began = util_mono();
	assert_int_equal(engine_session_start(eng, &p, id, &e), 0);
	assert_int_equal(engine_session_assign(eng, id, "unknown", &e), 0);
	assert_int_equal(engine_session_acquire(eng, id, &e), 0);
	assert_int_equal(engine_session_wait(eng, id), SESSION_COMPLETED);
	/* the data's pace, not the wall clock's (3 s of it) */
	assert_true(util_mono() - began < 2.0);
	m = last_event(f);
	sum = json_object_get(m, "summary");
	assert_int_equal(json_integer_value(json_object_get(sum,
	    "chunks_stored")), 4);
	assert_int_equal(json_integer_value(json_object_get(sum,
	    "chunks_missing")), 5);
	json_array_foreach(json_object_get(sum, "missing"), i, m) {
		int w = (int)json_integer_value(json_object_get(m, "websdr"));
		int k = (int)json_integer_value(json_object_get(m,
		    "chunk_index"));
		const char *r = json_string_value(json_object_get(m,
		    "reason"));
		if (w == 3)
			assert_non_null(strstr(r, "refused: cannot open"));
		else {
			assert_int_equal(k, 2);
			assert_string_equal(r, "end of the recording");
		}
	}
	/* rows on the recordings' time: chunk k of each file's first sample
	 * within one sample after origin + k */
	n = 0;
	json_array_foreach(f->events, i, m) {
		json_t *d = json_array_get(m, 1);
		int64_t due, got;
		if (strcmp(json_string_value(json_array_get(m, 0)),
		    "session:measurement") != 0)
			continue;
		due = t0 + 251000000 + 1000000000LL * json_integer_value(
		    json_object_get(d, "chunk_index"));
		got = json_integer_value(json_object_get(d, "t0_ns"));
		assert_true(got >= due - 10 && got < due + 83500);
		assert_string_equal(json_string_value(json_object_get(d,
		    "time_source")), "gps");
		n++;
	}
	assert_int_equal(n, 4);
	engine_free(eng);
	rxloop_free(loop);
	events_free(ev);
	dataset_close(ds);
	config_free_stations(&st);
	json_decref(f->events);
	pthread_mutex_destroy(&f->lock);
	free(f);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_fds_needed(void **state)
{
	(void)state;
	assert_int_equal(engine_fds_needed(0), 32);
	assert_int_equal(engine_fds_needed(7), 40);
	assert_int_equal(engine_fds_needed(120), 182);
	assert_int_equal(engine_fds_needed(300), 407);	/* README's example */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_complete_spooled),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_start_assigned),
		cmocka_unit_test(test_exclude),
		cmocka_unit_test(test_chunk_ms),
		cmocka_unit_test(test_receiver_faults),
		cmocka_unit_test(test_all_fail),
		cmocka_unit_test(test_no_failure_said),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_pause),
		cmocka_unit_test(test_abandoned),
		cmocka_unit_test(test_open_limit_busy),
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_queue_shutdown),
		cmocka_unit_test(test_start_race),
		cmocka_unit_test(test_fds_needed),
		cmocka_unit_test(test_replay),
	};

	if (rx_driver_register(&fakerx_driver) != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
