/* scheduler.c -- the dataset's schedules run by the engine (scheduler.h). */

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/engine/scheduler.h"
#include "src/engine/engine.h"
#include "src/engine/events.h"
#include "src/engine/session.h"
#include "src/base/util.h"
#include "store/dataset.h"
#include "store/schedule.h"

/* An occurrence is claimed up to this long before it would be too close
 * for the engine (its lead): the thread wakes then, and a little late is
 * still in time. */
#define CLAIM_WINDOW_S	3.0

struct scheduler {
	struct engine	*eng;
	struct dataset	*ds;
	struct events	*ev;
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	int		 stop;
	int		 poked;
};

static void
say(struct scheduler *sc, const char *id, const char *name, int n,
    double at, const char *status, const char *sid, const char *reason)
{
	char	iso[40];
	json_t	*d;

	util_iso8601(at, iso, sizeof iso);
	d = json_pack("{s:s, s:s, s:i, s:s, s:s}", "schedule_id", id, "name",
	    name, "n", n, "at", iso, "status", status);
	if (d == NULL)
		return;
	if (sid != NULL)
		json_object_set_new(d, "session_id", json_string(sid));
	if (reason != NULL)
		json_object_set_new(d, "reason", json_string(reason));
	events_emit(sc->ev, "schedule:run", d);
}

static void
record(struct scheduler *sc, const struct schedule_due *d,
    const char *status, const char *sid, const char *reason)
{
	char	err[256];

	(void)schedule_record(sc->ds, d->id, d->n, status, sid, reason, err,
	    sizeof err);
	say(sc, d->id, d->spec.name, d->n, d->at, status, sid, reason);
}

/* The occurrence as a session, through the engine's steps. */
static void
run(struct scheduler *sc, const struct schedule_due *d)
{
	struct session_params	 p;
	struct session_error	 e, e2;
	char			 id[37];
	int			 queued;

	session_params_init(&p);
	snprintf(p.name, sizeof p.name, "%s", d->spec.name);
	snprintf(p.notes, sizeof p.notes, "%s", d->spec.notes);
	snprintf(p.group, sizeof p.group, "%s", d->spec.group);
	p.freq_hz = d->spec.freq_hz;
	p.duration_s = d->spec.duration_s;
	p.chunk_ms = d->spec.chunk_ms;
	/* created with its source: one manifest write, not two */
	if (engine_session_start_assigned(sc->eng, &p, d->spec.source, id,
	    &e) != 0) {
		record(sc, d, "failed", id[0] != '\0' ? id : NULL, e.msg);
		if (id[0] != '\0')	/* the assignment was refused */
			engine_session_cancel(sc->eng, id, e.msg, &e2);
		return;
	}
	/* Overlapping schedules queue, visibly: behind a session that is
	 * acquiring, this one waits its turn (then it cannot keep its
	 * instant, and says so); otherwise it starts at the instant. */
	queued = engine_busy(sc->eng);
	if ((queued ? engine_session_acquire(sc->eng, id, &e) :
	    engine_session_acquire_at(sc->eng, id, d->at, &e)) != 0) {
		record(sc, d, "failed", id, e.msg);
		engine_session_cancel(sc->eng, id, e.msg, &e2);
		return;
	}
	record(sc, d, queued ? "queued" : "starting", id, queued ?
	    "another session was acquiring: queued behind it, not at its "
	    "instant" : NULL);
}

static void *
sched_main(void *arg)
{
	struct scheduler	*sc = arg;
	struct schedule_due	 due;
	struct timespec		 ts;
	json_t			*missed, *m;
	double			 next, until, lead;
	size_t			 i;
	char			 err[512];
	int			 rc;

	pthread_mutex_lock(&sc->lock);
	while (!sc->stop) {
		sc->poked = 0;
		pthread_mutex_unlock(&sc->lock);
		missed = NULL;
		/* the session is made before it acquires: half a second
		 * for that, past the engine's own lead */
		lead = engine_at_lead(sc->eng) + 0.5;
		rc = schedule_claim(sc->ds, util_now(), lead, CLAIM_WINDOW_S,
		    &due, &missed, &next, err, sizeof err);
		json_array_foreach(missed, i, m) {
			double at = 0;
			(void)util_parse_iso8601(json_string_value(
			    json_object_get(m, "at")), &at);
			say(sc, json_string_value(json_object_get(m,
			    "schedule_id")), json_string_value(
			    json_object_get(m, "name")), (int)json_integer_value(
			    json_object_get(m, "n")), at, "missed",
			    NULL, json_string_value(json_object_get(m,
			    "reason")));
		}
		json_decref(missed);
		if (rc == 1)
			run(sc, &due);
		else if (rc < 0)
			events_emit(sc->ev, "schedule:error", json_pack(
			    "{s:s}", "message", err));
		pthread_mutex_lock(&sc->lock);
		if (rc == 1 || sc->stop || sc->poked)
			continue;
		until = fmin(next, util_now() + SCHEDULER_RESCAN_S);
		ts.tv_sec = (time_t)until;
		ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_nsec = 999999999L;
		if (ts.tv_nsec < 0)
			ts.tv_nsec = 0;
		pthread_cond_timedwait(&sc->cond, &sc->lock, &ts);
	}
	pthread_mutex_unlock(&sc->lock);
	return NULL;
}

struct scheduler *
scheduler_start(struct engine *eng, struct dataset *ds, struct events *ev,
    char *err, size_t errlen)
{
	struct scheduler	*sc;
	pthread_condattr_t	 ca;

	if ((sc = calloc(1, sizeof *sc)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sc->eng = eng;
	sc->ds = ds;
	sc->ev = ev;
	pthread_mutex_init(&sc->lock, NULL);
	/* CLOCK_REALTIME: schedules are instants of UTC */
	pthread_condattr_init(&ca);
	pthread_cond_init(&sc->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&sc->thread, NULL, sched_main, sc) != 0) {
		snprintf(err, errlen, "cannot start the scheduler's thread");
		pthread_cond_destroy(&sc->cond);
		pthread_mutex_destroy(&sc->lock);
		free(sc);
		return NULL;
	}
	return sc;
}

void
scheduler_poke(struct scheduler *sc)
{
	if (sc == NULL)
		return;
	pthread_mutex_lock(&sc->lock);
	sc->poked = 1;
	pthread_cond_signal(&sc->cond);
	pthread_mutex_unlock(&sc->lock);
}

void
scheduler_stop(struct scheduler *sc)
{
	if (sc == NULL)
		return;
	pthread_mutex_lock(&sc->lock);
	sc->stop = 1;
	pthread_cond_signal(&sc->cond);
	pthread_mutex_unlock(&sc->lock);
	pthread_join(sc->thread, NULL);
	pthread_cond_destroy(&sc->cond);
	pthread_mutex_destroy(&sc->lock);
	free(sc);
}

int
scheduler_parse_every(const char *s, int *out)
{
	char	buf[64];
	double	t;

	if (snprintf(buf, sizeof buf, "+%s", s) >= (int)sizeof buf ||
	    util_parse_when(buf, 0, &t) != 0 || t < 1 || t > 1e9)
		return -1;
	*out = (int)t;
	return 0;
}

int
scheduler_check_new(struct dataset *ds, const struct schedule_spec *s,
    double now, struct session_error *e)
{
	struct session_params	p;
	struct source		src;
	char			err[256];

	if (s->first < now + SCHEDULER_LEAD_MIN_S)
		return session_error_set(e, "out_of_range", "start_at", "the "
		    "first start is %.0f s away: a schedule must start at "
		    "least %d s ahead (the recorder connects and checks the "
		    "receivers first)", s->first - now, SCHEDULER_LEAD_MIN_S);
	session_params_init(&p);
	snprintf(p.name, sizeof p.name, "%s", s->name);
	snprintf(p.notes, sizeof p.notes, "%s", s->notes);
	snprintf(p.group, sizeof p.group, "%s", s->group);
	p.freq_hz = s->freq_hz;
	p.duration_s = s->duration_s;
	p.chunk_ms = s->chunk_ms;
	if (session_validate(&p, NULL, e) != 0) {
		/* the template's field is the schedule's "name" */
		if (strcmp(e->field, "session_name") == 0)
			snprintf(e->field, sizeof e->field, "name");
		return -1;
	}
	if (schedule_check(s, err, sizeof err) != 0)
		return session_error_set(e, "out_of_range", "", "%s", err);
	if (dataset_source_find(ds, s->source, &src) != 0)
		return session_error_set(e, "not_found", "source", "no known "
		    "source \"%.127s\" (sources list)", s->source);
	return 0;
}
