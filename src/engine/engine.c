/* engine.c -- sessions and their acquisition: receivers -> chunker -> metrics -> dataset -> events. */

#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/engine/engine.h"
#include "src/engine/chunker.h"
#include "src/engine/events.h"
#include "src/engine/locate.h"
#include "src/engine/probe.h"
#include "src/base/metrics.h"
#include "src/base/util.h"
#include "net/rx/receiver.h"
#include "net/rx/rxloop.h"
#include "store/dataset.h"

#define ENGINE_MAX_SESSIONS	1000	/* kept in memory; oldest final ones go */
#define CLOCK_WARN_S		0.5	/* host this far off GPS time: say so */
#define CLOCK_AGREE_S		0.5	/* GPS receivers this close agree */
#define CLOCK_MAX_WAIT_S	60.0	/* longest wait past the deadline for a
					   receiver whose GPS time is behind
					   the session's time line */
#define WORK_MAX_SLEEP_S	0.5	/* the worker's longest sleep (work()) */
#define GATHER_S		0.05	/* longest wait for the rest of a row of
					   chunks (on_chunk) */

/* C_PAUSED: its second fell in a pause (engine_session_pause): not
 * stored, and not missing either -- it was not wanted. */
enum cstate { C_PENDING = 0, C_QUEUED, C_STORED, C_MISSING, C_PAUSED };

/* The receiver of station websdr in acquisition a (only stations in the
 * session make chunks). */
#define RT(a, websdr)	(&(a)->rt[(a)->map[(websdr) - 1]])

/* What the loop thread hands the acquisition worker. */
struct item {
	struct item	*next;
	struct chunk	*chunk;		/* a finished chunk, or */
	int		 websdr;	/* a receiver state change */
	enum rx_state	 state;
	char		 reason[160];
};

struct acq;

/* One receiver in one acquisition. Fields below "lock" are guarded by
 * acq->lock (the loop thread writes them from sink callbacks). */
struct rxrt {
	struct acq		*acq;
	const struct station	*st;
	const struct rx_driver	*drv;
	struct rx		*rx;
	/* guarded by acq->lock */
	struct chunker		*ch;
	enum rx_state		 state;
	char			 reason[160];
	char			 fault[160];	/* last non-streaming reason */
	double			 fs;
	unsigned char		*cst;		/* enum cstate per chunk */
	int			 ok;
	int			 missing;
	int			 paused;	/* chunks C_PAUSED */
	json_t			*last;		/* last measurement row */
	int			 pos_valid;	/* the receiver published */
	double			 pub_lat, pub_lon;
	/* Its GPS time minus the host clock (s), from fresh-fix stamps:
	 * the largest (stamp of a block's end - its arrival) seen, i.e. the
	 * block that came with the least delay; clk_n blocks measured. */
	double			 clk;
	int			 clk_n;
	int			 line;		/* chunker_line at clk */
};

struct acq {
	struct engine	*eng;
	struct sess	*s;
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	struct rxrt	*rt;		/* the stations in the session */
	int		 n;
	int		 spool_fd;	/* the chunkers' rings (spool_open) */
	int		*map;		/* websdr - 1 -> its rt index, -1: left
					   out (cfg.stations->n entries) */
	int		 total;
	/* Chunk k covers [t0 + k*len_s, t0 + (k+1)*len_s) on the session's
	 * time line: len_s = chunk_ms / 1000, total = duration / len_s. */
	double		 len_s;
	double		 t_start;	/* CLOCK_REALTIME at acquisition */
	double		 deadline;	/* nothing more is awaited after it */
	int		 has_origin;
	double		 t0;
	/* A coordinated start (engine_session_acquire_at): the origin is
	 * the instant given, set before any block, never chosen again (a
	 * re-placement moves receivers onto it, not it); preflight: 1 once
	 * session:preflight said who is ready for it. */
	double		 start_at;
	int		 preflight;
	/* The session's time line minus the host clock (s): the median of
	 * the GPS receivers' clk; 0 without GPS. trusted: a majority of the
	 * GPS receivers agree on it. clk_place: what local receivers are
	 * shifted by. clock_event: 1 to emit session:clock, 2 emitted. */
	int		 clk_gps;	/* GPS receivers measured */
	double		*clkv;		/* n: clock_update's scratch */
	double		 clk_off;
	int		 clk_trusted;
	double		 clk_place;
	int		 clock_event;
	struct item	*head, *tail;
	int		 kick;		/* wake the worker: unlock_wake() */
	int		 end_nudged;	/* supervise: the loop nudged at the end */
	double		 next_due;	/* supervise's next deadline */
	/* Gathering a row (on_chunk): chunks are queued whose row (the
	 * same index from every streaming receiver) is not complete; the
	 * worker takes the queue when it is (row_done) or at gather_until.
	 * row_k, row_pos: how far the row's check got (cst only leaves
	 * C_PENDING, so it resumes there). */
	int		 gather;
	int		 row_done;
	double		 gather_until;
	int		 row_k, row_pos;
	int		 cancel;
	char		 cancel_reason[256];
	char		 io_error[512];	/* the first storage error: it ends
					   the acquisition, failed, exit 74 */
	int		 progress;	/* chunks reported by session:progress */
	int		 failure_said;	/* acquisition_failed is out */
	int		 announce;	/* started from the queue: say so */
	int		 measurements;
	int		 progress_rows;	/* rows of chunks 0..progress-1 */
	json_t		*missing;	/* [{chunk_index, websdr, reason}] */
	struct metrics_ctx *mctx;
	size_t		 mctx_size;
	/* A spooled chunk's samples read back (chunk_iq), one buffer per
	 * thread that reads them: the worker's (metrics) and, under lock,
	 * the network thread's (locate's copy). */
	int16_t		*wbuf, *nbuf;
	size_t		 wcap, ncap;
	double		 spec_lo, spec_hi;	/* compute's last passband */
	struct locate	*loc;		/* TDoA and fixes (NULL: none) */
	/*
	 * Pause (engine_session_pause). pz[k]: chunk index k is in a pause;
	 * it becomes C_PAUSED (per receiver) only once its second has come
	 * (on_chunk, supervise), so a resume can still take back the seconds
	 * not come yet. A pause at session time P covers every chunk not
	 * ended at P; a resume at R gives back those starting at or after R:
	 * a chunk is paused when its second overlaps [P, R). paused: 1 while
	 * paused; pause_from: P (session time).
	 */
	unsigned char	*pz;
	int		 paused;
	double		 pause_from;
	int		 progress_paused;	/* C_PAUSED of chunks
						   0..progress-1 */
};

struct sess {
	struct sess		*next;
	char			 id[UTIL_UUID_LEN];
	struct session_params	 p;
	enum session_status	 status;
	char			 source_id[UTIL_UUID_LEN];
	char			 source_name[128];
	int			 source_coords;	/* the source's position */
	double			 source_lat, source_lon;
	char			 created_at[40];
	char			 session_end[40];
	char			 failure_reason[256];
	json_t			*summary;
	struct acq		*acq;		/* from acquisition on */
	int			 ended;		/* the final event is out */
	double			 touched;	/* util_mono() of the last request */
	int			 qpos;		/* 1.. while queued, else 0 */
	double			 start_at;	/* UTC s of chunk 0, 0: none */
	struct sess		*qnext;		/* the acquisition queue */
	struct sess		*endnext;	/* to be ended (a local list) */
	int			 saying_start;	/* acquire's events not out yet */
	/* Stations that cannot take the frequency (session_station_takes)
	 * or the operator excluded (session_params.exclude): left out of the
	 * session, [{websdr, station, reason}] in file order; out[i] for
	 * station i + 1. */
	json_t			*excluded;
	unsigned char		*out;
	char			 warning[512];	/* source_frequency_warning() */
};

struct engine {
	struct engine_config	 cfg;
	char			 host[ENGINE_HOST_MAX + 1];	/* recorder_host */
	pthread_mutex_t		 lock;	/* sessions list and their status */
	pthread_cond_t		 done;	/* a session ended / a worker quit */
	struct sess		*sessions;
	int			 nsessions;
	int			 active;	/* acquisitions running */
	int			 workers;	/* their threads, alive */
	int			 reserved;	/* starts being created */
	struct sess		*qhead;		/* waiting acquisitions, FIFO */
	int			 nqueued;
	int			 closing;	/* engine_free: start nothing */
	pthread_t		 reaper;	/* ends abandoned sessions */
	int			 reaper_up;
	pthread_cond_t		 tick;		/* wakes the reaper (monotonic) */
	int			 spectra;	/* engine_set_spectra (atomic) */
};

static json_t	*manifest_build(struct engine *, struct sess *);
static json_t	*station_json(struct rxrt *);
static void	*reaper_main(void *);
static void	 end_unacquired(struct engine *, struct sess *);
static void	 fail_unacquired(struct sess *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	 queue_remove(struct engine *, struct sess *);
static int	 launch(struct engine *, struct sess *, int,
		    struct session_error *);

struct engine *
engine_new(const struct engine_config *cfg, char *err, size_t errlen)
{
	struct engine		*eng;
	pthread_condattr_t	 ca;
	int			 i;

	if (cfg->stations == NULL || cfg->stations->n == 0 || cfg->ds == NULL ||
	    cfg->ev == NULL || cfg->loop == NULL) {
		snprintf(err, errlen, "engine: stations, dataset, events and "
		    "loop are required");
		return NULL;
	}
	for (i = 0; i < cfg->stations->n; i++) {
		const struct station *st = &cfg->stations->v[i];
		if (rx_type_replay(st->type) != (cfg->replay != 0)) {
			snprintf(err, errlen, cfg->replay ? "station %d (%s) is "
			    "a %s receiver: an import replays recordings "
			    "(kiwiwav) only" : "station %d (%s) is a recording "
			    "(%s): use 'heimdall-rec import' to replay it",
			    st->index, st->name, st->type);
			return NULL;
		}
	}
	if (cfg->replay && !(cfg->replay_origin > 0)) {
		snprintf(err, errlen, "engine: a replay needs its origin");
		return NULL;
	}
	eng = calloc(1, sizeof *eng);
	if (eng == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	eng->cfg = *cfg;
	if (cfg->recorder_host != NULL && cfg->recorder_host[0] != '\0')
		snprintf(eng->host, sizeof eng->host, "%s", cfg->recorder_host);
	else if (gethostname(eng->host, sizeof eng->host) != 0)
		eng->host[0] = '\0';
	eng->host[sizeof eng->host - 1] = '\0';
	eng->cfg.recorder_host = eng->host;	/* the caller's may not live */
	if (eng->cfg.start_timeout <= 0)
		eng->cfg.start_timeout = 5.0;
	if (eng->cfg.grace <= 0)
		eng->cfg.grace = ENGINE_GRACE_DEFAULT;
	if (eng->cfg.max_active <= 0)
		eng->cfg.max_active = 1;
	if (eng->cfg.idle_timeout <= 0)
		eng->cfg.idle_timeout = ENGINE_IDLE_DEFAULT;
	if (eng->cfg.max_open <= 0)
		eng->cfg.max_open = ENGINE_MAX_OPEN;
	if (eng->cfg.spool_min <= 0)
		eng->cfg.spool_min = ENGINE_SPOOL_MIN;
	if (eng->cfg.queue_max <= 0)
		eng->cfg.queue_max = ENGINE_QUEUE_MAX;
	pthread_mutex_init(&eng->lock, NULL);
	pthread_cond_init(&eng->done, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&eng->tick, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&eng->reaper, NULL, reaper_main, eng) != 0) {
		snprintf(err, errlen, "engine: cannot start a thread");
		pthread_cond_destroy(&eng->tick);
		pthread_cond_destroy(&eng->done);
		pthread_mutex_destroy(&eng->lock);
		free(eng);
		return NULL;
	}
	eng->reaper_up = 1;
	return eng;
}

static void
acq_free(struct acq *a)
{
	struct item	*it, *next;
	int		 i;

	if (a == NULL)
		return;
	for (i = 0; a->rt != NULL && i < a->n; i++) {
		chunker_free(a->rt[i].ch);
		free(a->rt[i].cst);
		json_decref(a->rt[i].last);
	}
	free(a->pz);
	for (it = a->head; it != NULL; it = next) {
		next = it->next;
		chunk_free(it->chunk);
		free(it);
	}
	free(a->rt);
	free(a->wbuf);
	free(a->nbuf);
	if (a->spool_fd >= 0)
		close(a->spool_fd);
	free(a->map);
	free(a->clkv);
	locate_free(a->loc);
	json_decref(a->missing);
	metrics_ctx_free(a->mctx);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static void
sess_free(struct sess *s)
{
	acq_free(s->acq);
	json_decref(s->summary);
	json_decref(s->excluded);
	free(s->out);
	free(s);
}

void
engine_free(struct engine *eng)
{
	struct sess	*s, *next, *end = NULL;

	if (eng == NULL)
		return;
	pthread_mutex_lock(&eng->lock);
	/* The reaper first: nothing may end a session behind our back. */
	eng->closing = 1;
	pthread_cond_signal(&eng->tick);
	pthread_mutex_unlock(&eng->lock);
	if (eng->reaper_up)
		pthread_join(eng->reaper, NULL);
	pthread_mutex_lock(&eng->lock);
	/* Queued acquisitions will not run: they end failed, as cancelled. */
	while ((s = eng->qhead) != NULL) {
		queue_remove(eng, s);
		fail_unacquired(s, "cancelled: the recorder is shutting down");
		s->endnext = end;
		end = s;
	}
	pthread_mutex_unlock(&eng->lock);
	for (; end != NULL; end = next) {
		next = end->endnext;
		end_unacquired(eng, end);
	}
	pthread_mutex_lock(&eng->lock);
	for (s = eng->sessions; s != NULL; s = s->next) {
		if (s->acq != NULL) {
			pthread_mutex_lock(&s->acq->lock);
			s->acq->cancel = 1;
			snprintf(s->acq->cancel_reason,
			    sizeof s->acq->cancel_reason,
			    "cancelled: the recorder is shutting down");
			pthread_cond_signal(&s->acq->cond);
			pthread_mutex_unlock(&s->acq->lock);
		}
	}
	/* Workers are detached: wait until the last one has said goodbye. */
	while (eng->workers > 0)
		pthread_cond_wait(&eng->done, &eng->lock);
	pthread_mutex_unlock(&eng->lock);
	for (s = eng->sessions; s != NULL; s = next) {
		next = s->next;
		sess_free(s);
	}
	pthread_cond_destroy(&eng->tick);
	pthread_cond_destroy(&eng->done);
	pthread_mutex_destroy(&eng->lock);
	free(eng);
}

/* Caller holds eng->lock. */
static struct sess *
find(struct engine *eng, const char *id, struct session_error *e)
{
	struct sess	*s;

	if (id == NULL || !util_is_uuid(id)) {
		session_error_set(e, "out_of_range", "session_id",
		    "session_id must be a UUID");
		return NULL;
	}
	for (s = eng->sessions; s != NULL; s = s->next) {
		if (strcmp(s->id, id) == 0)
			return s;
	}
	session_error_set(e, "not_found", "session_id",
	    "no session %s in this recorder", id);
	return NULL;
}

/* The status_update payload: what every front-end needs to show a session. */
static json_t *
status_data(struct sess *s)
{
	json_t	*d;

	d = json_pack("{s:s, s:s, s:s, s:f, s:i, s:s}",
	    "session_id", s->id,
	    "session_name", s->p.name,
	    "status", session_status_name(s->status),
	    "frequency_mhz", s->p.freq_hz / 1e6,
	    "duration_seconds", s->p.duration_s,
	    "notes", s->p.notes);
	json_object_set_new(d, "frequency_hz",
	    json_integer((json_int_t)llround(s->p.freq_hz)));
	json_object_set_new(d, "chunk_ms", json_integer(s->p.chunk_ms));
	json_object_set_new(d, "total_chunks",
	    json_integer(session_total_chunks(&s->p)));
	if (s->p.group[0] != '\0')
		json_object_set_new(d, "group_id", json_string(s->p.group));
	if (s->source_id[0] != '\0') {
		json_object_set_new(d, "source_id", json_string(s->source_id));
		json_object_set_new(d, "source_name",
		    json_string(s->source_name));
	}
	if (s->status == SESSION_IN_PROGRESS)
		json_object_set_new(d, "queue_position", json_integer(s->qpos));
	if (s->failure_reason[0] != '\0')
		json_object_set_new(d, "error", json_string(s->failure_reason));
	if (json_array_size(s->excluded) > 0)
		json_object_set(d, "excluded", s->excluded);
	if (s->warning[0] != '\0')
		json_object_set_new(d, "warning", json_string(s->warning));
	if (s->summary != NULL)
		json_object_set(d, "summary", s->summary);
	if (session_status_final(s->status)) {
		/* the one vocabulary (session_outcome): complete, partial (k
		 * missing), failed -- so the page says what record says */
		char w[64];
		session_outcome_text(session_status_name(s->status),
		    json_integer_value(json_object_get(s->summary,
		    "chunks_missing")), w, sizeof w);
		json_object_set_new(d, "outcome", json_string(w));
	}
	return d;
}

/* Emits the session's status_update, its data taken under eng->lock
 * (not held by the caller): every step ends with one. */
static void
say_status(struct engine *eng, struct sess *s)
{
	json_t	*d;

	pthread_mutex_lock(&eng->lock);
	d = status_data(s);
	pthread_mutex_unlock(&eng->lock);
	events_emit(eng->cfg.ev, "session:status_update", d);
}

/* Save the manifest; an error is reported on the bus, not fatal. */
static void
save_manifest(struct engine *eng, struct sess *s)
{
	json_t	*m = manifest_build(eng, s);
	char	 err[512];

	if (dataset_session_save(eng->cfg.ds, s->id, m, err, sizeof err) != 0)
		events_emit(eng->cfg.ev, "session:error", json_pack(
		    "{s:s, s:s, s:s, s:s}", "session_id", s->id, "error", err,
		    "code", "io_error", "field", ""));
	json_decref(m);
}

/* ---- sessions that end without acquiring, the queue, the reaper ---- */

/* eng->lock held. Waiting for its owner's next request: the only state in
 * which a session can be forgotten by a client that went away. */
static int
idle_waiting(const struct sess *s)
{
	return s->status == SESSION_PENDING || s->status == SESSION_RECORDING ||
	    s->status == SESSION_SOURCE_ASSIGNED;
}

/* eng->lock held. s (not acquiring) is failed now; the caller calls
 * end_unacquired() once it has released the lock. */
static void
fail_unacquired(struct sess *s, const char *fmt, ...)
{
	va_list	ap;

	s->status = SESSION_FAILED;
	va_start(ap, fmt);
	vsnprintf(s->failure_reason, sizeof s->failure_reason, fmt, ap);
	va_end(ap);
	util_iso8601(util_now(), s->session_end, sizeof s->session_end);
}

/* Without eng->lock: the manifest and the last event of a session that
 * fail_unacquired() ended. It stays in the list until ended is set, so
 * it cannot be freed meanwhile. */
/*
 * Wait until engine_session_acquire() has said that s started (manifest
 * in_progress, session:completed, status_update): the session's end --
 * its final manifest and status_update -- comes after those, however fast
 * every receiver fails or the session is cancelled or reaped.
 */
static void
wait_start_said(struct engine *eng, struct sess *s)
{
	pthread_mutex_lock(&eng->lock);
	while (s->saying_start)
		pthread_cond_wait(&eng->done, &eng->lock);
	pthread_mutex_unlock(&eng->lock);
}

static void
end_unacquired(struct engine *eng, struct sess *s)
{
	json_t	*m;
	char	 err[512];

	wait_start_said(eng, s);
	m = manifest_build(eng, s);
	if (dataset_session_finish(eng->cfg.ds, s->id, m, err,
	    sizeof err) != 0)
		events_emit(eng->cfg.ev, "session:error", json_pack(
		    "{s:s, s:s, s:s, s:s}", "session_id", s->id, "error", err,
		    "code", "io_error", "field", ""));
	json_decref(m);
	say_status(eng, s);
	pthread_mutex_lock(&eng->lock);
	s->ended = 1;
	pthread_cond_broadcast(&eng->done);
	pthread_mutex_unlock(&eng->lock);
}

/* eng->lock held. Number the queue 1..n; returns the status_update of
 * every session whose position changed (to emit without the lock). */
static json_t *
queue_renumber(struct engine *eng)
{
	struct sess	*q;
	json_t		*moved = json_array();
	int		 pos = 0;

	for (q = eng->qhead; q != NULL; q = q->qnext) {
		if (q->qpos != ++pos) {
			q->qpos = pos;
			json_array_append_new(moved, status_data(q));
		}
	}
	return moved;
}

static void
emit_all(struct engine *eng, const char *name, json_t *arr)
{
	size_t	 i;
	json_t	*d;

	json_array_foreach(arr, i, d)
		events_emit(eng->cfg.ev, name, json_incref(d));
	json_decref(arr);
}

/* eng->lock held. */
static void
queue_remove(struct engine *eng, struct sess *s)
{
	struct sess	**pp;

	for (pp = &eng->qhead; *pp != NULL; pp = &(*pp)->qnext) {
		if (*pp == s) {
			*pp = s->qnext;
			s->qnext = NULL;
			s->qpos = 0;
			eng->nqueued--;
			return;
		}
	}
}

/* eng->lock held. */
static void
queue_append(struct engine *eng, struct sess *s)
{
	struct sess	**pp;
	int		  pos = 1;

	for (pp = &eng->qhead; *pp != NULL; pp = &(*pp)->qnext)
		pos++;
	*pp = s;
	s->qnext = NULL;
	s->qpos = pos;
	eng->nqueued++;
}

int
engine_queued(struct engine *eng)
{
	int	n;

	pthread_mutex_lock(&eng->lock);
	n = eng->nqueued;
	pthread_mutex_unlock(&eng->lock);
	return n;
}

/*
 * The engine's own timer: a session that waits for a request (the
 * original page's Cancel, New Session and reload send nothing; a refused
 * session:complete leaves it open) ends failed, "abandoned", idle_timeout
 * seconds after its last request. It sleeps until the earliest such
 * deadline; engine_session_start wakes it for a new one.
 */
static void *
reaper_main(void *arg)
{
	struct engine	*eng = arg;
	struct sess	*s, *end, *next;
	struct timespec	 ts;
	double		 now, due, first;

	pthread_mutex_lock(&eng->lock);
	while (!eng->closing) {
		now = util_mono();
		first = INFINITY;
		end = NULL;
		for (s = eng->sessions; s != NULL; s = s->next) {
			if (!idle_waiting(s))
				continue;
			due = s->touched + eng->cfg.idle_timeout;
			if (due <= now) {
				fail_unacquired(s, "abandoned: no request for "
				    "%g s before acquisition",
				    eng->cfg.idle_timeout);
				s->endnext = end;
				end = s;
			} else if (due < first)
				first = due;
		}
		if (end != NULL) {
			pthread_mutex_unlock(&eng->lock);
			for (; end != NULL; end = next) {
				next = end->endnext;
				end_unacquired(eng, end);
			}
			pthread_mutex_lock(&eng->lock);
			continue;
		}
		if (isinf(first)) {
			pthread_cond_wait(&eng->tick, &eng->lock);
			continue;
		}
		first += 0.01;	/* past the deadline, not just before */
		ts.tv_sec = (time_t)first;
		ts.tv_nsec = (long)((first - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&eng->tick, &eng->lock, &ts);
	}
	pthread_mutex_unlock(&eng->lock);
	return NULL;
}

/*
 * The stations that cannot take p's frequency are left out of s (s->out,
 * s->excluded), with the reason: a mixed network (HF KiwiSDRs and 2 m
 * receivers) records on those that can; so are those the operator
 * excluded (SESSION_EXCLUDED_REASON; the frequency's reason first, it is
 * the harder one). session_validate() has refused a frequency no station
 * takes, unknown names, and an exclusion that leaves none.
 */
static int
left_out(struct engine *eng, struct sess *s, const struct session_params *p)
{
	const struct stations	*sts = eng->cfg.stations;
	char			 why[160];
	int			 i;

	s->out = calloc((size_t)sts->n, 1);
	s->excluded = json_array();
	if (s->out == NULL || s->excluded == NULL)
		return -1;
	for (i = 0; i < sts->n; i++) {
		if (session_station_takes(&sts->v[i], p->freq_hz, why,
		    sizeof why)) {
			if (!session_excludes(p, sts->v[i].name))
				continue;
			snprintf(why, sizeof why, "%s", SESSION_EXCLUDED_REASON);
		}
		s->out[i] = 1;
		if (json_array_append_new(s->excluded, json_pack(
		    "{s:i, s:s, s:s}", "websdr", sts->v[i].index, "station",
		    sts->v[i].name, "reason", why)) != 0)
			return -1;
	}
	return 0;
}

/* receiver:status "excluded" for each station left out of s: every
 * front-end shows it in its table with the reason. */
static void
say_left_out(struct engine *eng, struct sess *s)
{
	json_t	*x;
	size_t	 i;

	json_array_foreach(s->excluded, i, x)
		events_emit(eng->cfg.ev, "receiver:status", json_pack(
		    "{s:s, s:O, s:O, s:s, s:O}", "session_id", s->id,
		    "websdr", json_object_get(x, "websdr"),
		    "station", json_object_get(x, "station"),
		    "state", "excluded",
		    "reason", json_object_get(x, "reason")));
}

/* A stations-list entry's "altitude" (m above the WGS84 ellipsoid) when
 * the stations file gives one; no key when it does not. Returns o. */
static json_t *
with_altitude(json_t *o, const struct station *st)
{
	if (o != NULL && st->has_altitude)
		json_object_set_new(o, "altitude", json_real(st->altitude));
	return o;
}

/* An entry of the stations list (summary, snapshot, manifest) for a
 * station left out: state "excluded", its reason, no chunk. */
static json_t *
left_out_json(const struct station *st, const char *reason)
{
	return with_altitude(json_pack("{s:i, s:s, s:s, s:s, s:f, s:f, s:n, "
	    "s:s, s:s, s:i, s:i}", "websdr", st->index, "name", st->name,
	    "type", st->type, "url", st->url, "latitude", st->latitude,
	    "longitude", st->longitude, "sample_rate", "state", "excluded",
	    "reason", reason, "chunks_ok", 0, "chunks_missing", 0), st);
}

/* The stations list of s while or after acquiring: those in the session
 * (station_json) and those left out, in file order. acq->lock held. */
static json_t *
stations_json(struct engine *eng, struct sess *s, struct acq *a)
{
	json_t	*arr = json_array(), *x;
	size_t	 j = 0;
	int	 i;

	for (i = 0; i < eng->cfg.stations->n; i++) {
		if (a->map[i] >= 0) {
			json_array_append_new(arr,
			    station_json(&a->rt[a->map[i]]));
			continue;
		}
		x = json_array_get(s->excluded, j++);
		json_array_append_new(arr, left_out_json(
		    &eng->cfg.stations->v[i], json_string_value(
		    json_object_get(x, "reason"))));
	}
	return arr;
}

static int	source_lookup(struct engine *, const char *, struct source *,
		    struct session_error *);
static void	assign_fields(struct sess *, const struct source *);
static void	say_assigned(struct engine *, struct sess *,
		    const struct source *);

/*
 * engine_session_start, and with src (a known source, source_lookup's)
 * also engine_session_assign's step in the same manifest write: the
 * session is created with its source assigned. The events are both
 * steps' as they come when the two are called one after the other (the
 * first status_update says "recording", taken before the assignment).
 */
static int
start_session(struct engine *eng, const struct session_params *p,
    const struct source *src, char id[37], struct session_error *e)
{
	struct sess	*s, **pp, *victim = NULL;
	json_t		*m, *st0 = NULL;
	char		 err[512];
	int		 open = 0;
	double		 now = util_mono();

	if (session_validate(p, eng->cfg.stations, e) != 0)
		return -1;

	/*
	 * Every open session holds memory and a folder until it ends, so
	 * their number is bounded; but clients that leave sessions behind
	 * must not lock the recorder out: at the limit, the session idle
	 * longest makes room. The slot is reserved (eng->reserved) while
	 * the folder is created without the lock.
	 */
	pthread_mutex_lock(&eng->lock);
	for (s = eng->sessions; s != NULL; s = s->next) {
		if (session_status_final(s->status))
			continue;
		open++;
		if (idle_waiting(s) && (victim == NULL ||
		    s->touched < victim->touched))
			victim = s;
	}
	if (open + eng->reserved < eng->cfg.max_open)
		victim = NULL;
	else if (victim == NULL) {
		pthread_mutex_unlock(&eng->lock);
		return session_error_set(e, "busy", "", "%d sessions are open "
		    "and every one is acquiring or queued: try again when one "
		    "ends", open);
	} else
		fail_unacquired(victim, "abandoned: idle for %.0f s, ended to "
		    "make room for a new session (%d sessions open)",
		    now - victim->touched, open);
	eng->reserved++;
	pthread_mutex_unlock(&eng->lock);
	if (victim != NULL)
		end_unacquired(eng, victim);

	s = calloc(1, sizeof *s);
	if (s == NULL) {
		session_error_set(e, "io_error", "", "out of memory");
		goto unreserve;
	}
	if (left_out(eng, s, p) != 0) {
		json_decref(s->excluded);
		free(s->out);
		free(s);
		session_error_set(e, "io_error", "", "out of memory");
		goto unreserve;
	}
	util_uuid(s->id);
	s->p = *p;
	s->p.exclude = NULL;	/* borrowed for this call only */
	s->p.nexclude = 0;
	s->status = SESSION_PENDING;
	s->touched = now;
	util_iso8601(util_now(), s->created_at, sizeof s->created_at);
	if (session_transition(s->status, SESSION_RECORDING, e) != 0) {
		json_decref(s->excluded);
		free(s->out);
		free(s);
		goto unreserve;
	}
	s->status = SESSION_RECORDING;
	if (src != NULL) {
		/* s is not in the list yet: nobody else sees it */
		st0 = status_data(s);
		if (session_transition(s->status, SESSION_SOURCE_ASSIGNED,
		    e) != 0) {
			json_decref(st0);
			json_decref(s->excluded);
			free(s->out);
			free(s);
			goto unreserve;
		}
		assign_fields(s, src);
	}
	m = manifest_build(eng, s);
	if (dataset_session_create(eng->cfg.ds, s->id, m, err,
	    sizeof err) != 0) {
		json_decref(m);
		json_decref(st0);
		json_decref(s->excluded);
		free(s->out);
		free(s);
		session_error_set(e, "io_error", "", "%s", err);
		goto unreserve;
	}
	json_decref(m);

	pthread_mutex_lock(&eng->lock);
	eng->reserved--;
	/* its idle deadline may be the reaper's next */
	pthread_cond_signal(&eng->tick);
	/* Bound memory in a long-running server: forget the oldest ended
	 * sessions (they stay in the dataset). */
	while (eng->nsessions >= ENGINE_MAX_SESSIONS) {
		struct sess *old = NULL, **oldp = NULL;
		for (pp = &eng->sessions; *pp != NULL; pp = &(*pp)->next) {
			if ((*pp)->ended) {
				old = *pp;
				oldp = pp;
			}
		}
		if (old == NULL)
			break;
		*oldp = old->next;
		sess_free(old);
		eng->nsessions--;
	}
	s->next = eng->sessions;
	eng->sessions = s;
	eng->nsessions++;
	memcpy(id, s->id, UTIL_UUID_LEN);
	pthread_mutex_unlock(&eng->lock);

	events_emit(eng->cfg.ev, "session:started", json_pack(
	    "{s:s, s:s, s:s, s:f, s:i, s:i, s:s, s:s*, s:O}", "session_id",
	    s->id, "session_name", p->name, "status", "recording",
	    "frequency_mhz", p->freq_hz / 1e6, "duration_seconds",
	    p->duration_s, "chunk_ms", p->chunk_ms, "notes", p->notes,
	    "group_id",
	    p->group[0] != '\0' ? p->group : NULL, "excluded", s->excluded));
	say_left_out(eng, s);
	if (st0 != NULL) {
		events_emit(eng->cfg.ev, "session:status_update", st0);
		say_assigned(eng, s, src);
		return 0;
	}
	pthread_mutex_lock(&eng->lock);
	m = status_data(s);
	pthread_mutex_unlock(&eng->lock);
	events_emit(eng->cfg.ev, "session:status_update", m);
	return 0;
unreserve:
	pthread_mutex_lock(&eng->lock);
	eng->reserved--;
	pthread_mutex_unlock(&eng->lock);
	return -1;
}

/*
 * A known source whose frequency lies outside what the session records
 * (its frequency and passband): the chunks would be labelled with a
 * transmitter they do not hold. Said, not refused: the source list may be
 * the stale one. A source inside the passband is recorded (offset), so
 * no warning.
 */
static void
source_frequency_warning(const struct sess *s, const struct source *src,
    char *buf, size_t len)
{
	double	lo = s->p.freq_hz + s->p.low_cut;
	double	hi = s->p.freq_hz + s->p.high_cut;

	buf[0] = '\0';
	if (!(src->frequency_hz > 0) || (src->frequency_hz >= lo &&
	    src->frequency_hz <= hi))
		return;
	snprintf(buf, len, "source \"%s\" is known at %.10g MHz, outside "
	    "the session's %.10g MHz (passband %+d..%+d Hz): its chunks "
	    "would be labelled with a transmitter they do not hold; check "
	    "the source or the frequency", src->name, src->frequency_hz / 1e6,
	    s->p.freq_hz / 1e6, s->p.low_cut, s->p.high_cut);
}

/* The known source that source names (engine_session_assign's words). */
static int
source_lookup(struct engine *eng, const char *source, struct source *src,
    struct session_error *e)
{
	if (source == NULL || source[0] == '\0')
		return session_error_set(e, "missing_field", "source_id",
		    "source_id is required (a known source's id or name, or "
		    "\"unknown\")");
	if (strlen(source) > 255)
		return session_error_set(e, "too_large", "source_id",
		    "source_id is too long");
	if (dataset_source_find(eng->cfg.ds, source, src) != 0)
		return session_error_set(e, "not_found", "source_id",
		    "no known source \"%s\" (use \"unknown\" or add it with "
		    "'heimdall-rec sources add')", source);
	return 0;
}

/* eng->lock held (or s not yet in the list). src assigned to s, whose
 * status may become SESSION_SOURCE_ASSIGNED (session_transition). */
static void
assign_fields(struct sess *s, const struct source *src)
{
	s->status = SESSION_SOURCE_ASSIGNED;
	snprintf(s->source_id, sizeof s->source_id, "%s", src->id);
	snprintf(s->source_name, sizeof s->source_name, "%s", src->name);
	s->source_coords = src->has_coords;
	s->source_lat = src->latitude;
	s->source_lon = src->longitude;
	source_frequency_warning(s, src, s->warning, sizeof s->warning);
}

/* The events of an assignment, once its manifest is written. */
static void
say_assigned(struct engine *eng, struct sess *s, const struct source *src)
{
	json_t	*d;
	char	 warn[sizeof s->warning];

	pthread_mutex_lock(&eng->lock);
	memcpy(warn, s->warning, sizeof warn);
	pthread_mutex_unlock(&eng->lock);
	d = json_pack("{s:s, s:s, s:s, s:s}", "session_id", s->id,
	    "source_id", src->id, "source_name", src->name, "status",
	    "source_assigned");
	if (warn[0] != '\0')
		json_object_set_new(d, "warning", json_string(warn));
	events_emit(eng->cfg.ev, "session:source_assigned", d);
	if (warn[0] != '\0')
		events_emit(eng->cfg.ev, "session:warning", json_pack(
		    "{s:s, s:s, s:s, s:f, s:f}", "session_id", s->id,
		    "code", "source_frequency", "message", warn,
		    "source_frequency_mhz", src->frequency_hz / 1e6,
		    "frequency_mhz", s->p.freq_hz / 1e6));
	say_status(eng, s);
}

int
engine_session_start(struct engine *eng, const struct session_params *p,
    char id[37], struct session_error *e)
{
	return start_session(eng, p, NULL, id, e);
}

int
engine_session_start_assigned(struct engine *eng,
    const struct session_params *p, const char *source, char id[37],
    struct session_error *e)
{
	struct source		src;
	struct session_error	ignored;

	id[0] = '\0';
	if (source_lookup(eng, source, &src, &ignored) == 0)
		return start_session(eng, p, &src, id, e);
	/* refused: the two steps as before (start, then the assignment's
	 * refusal), so that the session and its events are theirs */
	if (engine_session_start(eng, p, id, e) != 0) {
		id[0] = '\0';
		return -1;
	}
	return engine_session_assign(eng, id, source, e);
}

int
engine_session_assign(struct engine *eng, const char *id, const char *source,
    struct session_error *e)
{
	struct sess	*s;
	struct source	 src;

	if (source_lookup(eng, source, &src, e) != 0)
		return -1;
	pthread_mutex_lock(&eng->lock);
	if ((s = find(eng, id, e)) != NULL)
		s->touched = util_mono();	/* its client is still there */
	if (s == NULL ||
	    session_transition(s->status, SESSION_SOURCE_ASSIGNED, e) != 0) {
		pthread_mutex_unlock(&eng->lock);
		return -1;
	}
	assign_fields(s, &src);
	pthread_mutex_unlock(&eng->lock);

	save_manifest(eng, s);
	say_assigned(eng, s, &src);
	return 0;
}

/* ---- the loop thread side: sink callbacks (quick, never block) ---- */

/*
 * acq->lock held. The worker is woken once the lock is released (wake()):
 * signalled under the lock, it would wake only to block on the lock the
 * loop thread still holds, a second sleep and wake-up.
 */
static void
push_item(struct acq *a, struct item *it)
{
	if (a->tail != NULL)
		a->tail->next = it;
	else
		a->head = it;
	a->tail = it;
	if (it->chunk == NULL)
		a->kick = 1;	/* chunks: on_chunk decides */
}

/* Release acq->lock and wake the worker if something was queued for it
 * (or the origin was set: its supervisor starts). */
static void
unlock_wake(struct acq *a)
{
	int	kick = a->kick;

	a->kick = 0;
	pthread_mutex_unlock(&a->lock);
	if (kick)
		pthread_cond_signal(&a->cond);
}

/* acq->lock held. 1 when no receiver that streams still owes chunk k. */
static int
row_complete(struct acq *a, int k)
{
	if (k != a->row_k) {
		a->row_k = k;
		a->row_pos = 0;
	}
	while (a->row_pos < a->n &&
	    (a->rt[a->row_pos].cst[k] != C_PENDING ||
	    a->rt[a->row_pos].state != RX_STREAMING))
		a->row_pos++;
	return a->row_pos == a->n;
}

/*
 * Chunker output; acq->lock held. The receivers' seconds end at the same
 * instants, so their chunks come in rows, one after another from the same
 * loop turn. Each batch the worker stores costs a durability barrier, a
 * rows file and two directory syncs whatever its size: it waits for the
 * row to be complete (at most GATHER_S after its first chunk) and stores
 * it as one batch, instead of waking for the first chunk and storing the
 * row in two or three batches.
 */
static void
on_chunk(void *ctx, struct chunk *c)
{
	struct acq	*a = ctx;
	struct rxrt	*r = RT(a, c->websdr);
	struct item	*it;

	if (c->index < a->total && r->cst[c->index] == C_PENDING &&
	    a->pz[c->index]) {
		/* its second fell in a pause: not stored, counted paused */
		r->cst[c->index] = C_PAUSED;
		r->paused++;
		a->kick = 1;	/* the row may be settled now */
		chunker_recycle(r->ch, c);
		return;
	}
	if (c->index >= a->total || r->cst[c->index] != C_PENDING ||
	    (it = calloc(1, sizeof *it)) == NULL) {
		/* Already given up on (declared missing): drop it. */
		chunker_recycle(r->ch, c);
		return;
	}
	r->cst[c->index] = C_QUEUED;
	/* TDoA takes its copy as the chunk is cut (one pass over the
	 * samples), not after metrics and storage: the fix of a chunk is
	 * due soon after its end; locate works on its own thread. */
	if (a->loc != NULL) {
		/* A spooled chunk is read back for locate only when locate
		 * can use it: GPS time, not audio (locate.c's unusable()
		 * turns the others away before it reads a sample). */
		int audio = rx_type_audio(r->st->type);
		struct chunk view = *c;
		if (c->iq == NULL && (c->time_src != CHUNK_TIME_GPS || audio)) {
			static const int16_t none[2];
			view.iq = (int16_t *)none;
			view.n = 0;	/* never read: see above */
			locate_offer(a->loc, &view, audio);
		} else if ((view.iq = (int16_t *)chunk_iq(c, &a->nbuf,
		    &a->ncap)) != NULL)
			locate_offer(a->loc, &view, audio);
		else
			locate_exclude(a->loc, c->websdr, c->index,
			    "its samples cannot be read back");
	}
	it->chunk = c;
	push_item(a, it);
	if (row_complete(a, c->index))
		a->row_done = a->kick = 1;
	else if (!a->gather) {
		/* wakes the worker, which waits for the rest of the row */
		a->gather = a->kick = 1;
		a->gather_until = util_now() + GATHER_S;
	}
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/*
 * acq->lock held. The session's time line is GPS time (UTC) as soon as a
 * receiver has a fresh fix: the host clock of a field machine without time
 * sync may be seconds off it, and a chunk judged or placed on the wrong
 * clock is lost. Each GPS receiver measures its own offset (sink_block);
 * the session's is their median, trusted when a majority agree within
 * CLOCK_AGREE_S -- one receiver with a broken GPS does not move it. Local
 * (arrival-clock) receivers are placed on it when it is trusted and the
 * host is CLOCK_WARN_S or more off; else they stay on the host clock.
 */
static int
clock_off(const struct acq *a)
{
	int	 i;

	if (fabs(a->clk_off) >= CLOCK_WARN_S)
		return 1;
	for (i = 0; i < a->n; i++)
		if (a->rt[i].clk_n > 0 &&
		    fabs(a->rt[i].clk - a->clk_off) >= CLOCK_AGREE_S)
			return 1;
	return 0;
}

static void
clock_update(struct acq *a)
{
	double	*v = a->clkv, med;
	int	 i, n = 0, agree = 0;

	for (i = 0; i < a->n; i++)
		if (a->rt[i].clk_n > 0)
			v[n++] = a->rt[i].clk;
	a->clk_gps = n;
	if (n == 0) {
		a->clk_off = 0;
		a->clk_trusted = 0;
	} else {
		qsort(v, (size_t)n, sizeof v[0], cmp_double);
		med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
		for (i = 0; i < n; i++)
			if (fabs(v[i] - med) < CLOCK_AGREE_S)
				agree++;
		a->clk_off = med;
		a->clk_trusted = 2 * agree > n;
	}
	/*
	 * The estimate is low by the GPS receivers' network delay (tens to
	 * hundreds of ms over the internet): a host clock that is right (NTP)
	 * is better than that, so local receivers are shifted only when the
	 * host is clearly off -- the same threshold as the warning.
	 */
	a->clk_place = a->clk_trusted && fabs(a->clk_off) >= CLOCK_WARN_S ?
	    a->clk_off : 0;
	/* A GPS receiver the majority disagrees with has wrong stamps: it
	 * is placed by its arrival time like a local receiver (its samples
	 * kept, on the right second), rather than seconds off the others. */
	for (i = 0; i < a->n; i++)
		if (a->rt[i].clk_n > 0)
			chunker_trust_gps(a->rt[i].ch, !a->clk_trusted ||
			    fabs(a->rt[i].clk - a->clk_off) < CLOCK_AGREE_S);
	/* Takes effect for streams whose grid is not fixed yet: the first
	 * one, and a reconnect's. */
	for (i = 0; i < a->n; i++)
		chunker_set_clock(a->rt[i].ch, a->clk_place);
	/* Say so (once, when the origin has seen every receiver) when the
	 * host clock is off GPS time, or the GPS receivers disagree. */
	if (n > 0 && a->has_origin && a->clock_event == 0 && clock_off(a))
		a->clock_event = 1;
}

/* acq->lock held. The clock that stamps r's chunks, minus the host clock:
 * its own GPS time, or the host clock placed on the session's time line. */
static double
rx_clock(const struct acq *a, const struct rxrt *r)
{
	if (chunker_gps(r->ch) && r->clk_n > 0)
		return r->clk;
	return a->clk_place;
}

/* acq->lock held. The origin is the first instant at which every receiver
 * that has not failed streams; after the start timeout, the streaming
 * ones decide alone and late ones join the grid when they come. */
static void
try_origin(struct acq *a, int timed_out)
{
	double	 t0 = 0, t;
	int	 i, have = 0, ngps;

	if (a->has_origin)
		return;
	for (i = 0; i < a->n; i++) {
		struct rxrt *r = &a->rt[i];
		if (chunker_oldest(r->ch, &t) == 0)
			have++;
		else if (r->state != RX_FAILED && !timed_out)
			return;
	}
	if (have == 0)
		return;
	/* Every receiver is in: measure the clocks, then place them all. */
	clock_update(a);
	for (i = 0; i < a->n; i++) {
		if (chunker_oldest(a->rt[i].ch, &t) == 0 && t > t0)
			t0 = t;
	}
	a->has_origin = 1;
	a->t0 = t0;
	a->kick = 1;	/* the supervisor's deadlines start now */
	/* locate learns the grid (and the rate to prepare for) before the
	 * first chunk: its first fix is as quick as the others. With fewer than
	 * two receivers on GPS time there is nothing to locate: locate skips
	 * its warm-up (GSL, the geodesic module, TDoA's plans and buffers: a
	 * few ms) and its nudges of the receivers' loop until a GPS-timed
	 * chunk comes (locate.h). */
	for (i = 0, ngps = 0; i < a->n; i++)
		ngps += chunker_gps(a->rt[i].ch) != 0;
	for (i = 0; i < a->n; i++)
		if (a->rt[i].fs > 0)
			break;
	locate_grid(a->loc, t0, i < a->n ? a->rt[i].fs : 0, ngps);
	for (i = 0; i < a->n; i++)
		chunker_set_origin(a->rt[i].ch, t0, on_chunk, a);
}

/*
 * acq->lock held. A receiver's time line moved by seconds after the origin
 * (a stale run of GPS stamps at its stream's start, outvoted: chunker.h):
 * if it defined the origin (a lone GPS receiver, or every one stale), the
 * session's seconds are seconds off true time and none of its chunks can
 * be filled. While no chunk is stored, queued or given up, the origin is
 * chosen again, from the samples the chunkers still keep; the clock is
 * measured again with it (and said, if need be, on the new line).
 */
/* acq->lock held. 1 once a chunk is stored, queued or given up: the
 * origin is not chosen again. */
static int
origin_final(const struct acq *a)
{
	int	 i, k;

	for (i = 0; i < a->n; i++)
		for (k = 0; k < a->total; k++)
			if (a->rt[i].cst[k] != C_PENDING)
				return 1;
	return 0;
}

static void
retry_origin(struct acq *a)
{
	int	 i;

	if (!a->has_origin || origin_final(a) || a->start_at > 0)
		return;
	a->has_origin = 0;
	if (a->clock_event == 1)
		a->clock_event = 0;
	for (i = 0; i < a->n; i++)
		chunker_unset_origin(a->rt[i].ch);
}

static void
sink_state(void *ctx, enum rx_state st, const char *reason)
{
	struct rxrt	*r = ctx;
	struct acq	*a = r->acq;
	struct item	*it;

	pthread_mutex_lock(&a->lock);
	r->state = st;
	snprintf(r->reason, sizeof r->reason, "%s", reason);
	if (st != RX_STREAMING && st != RX_CONNECTING)
		snprintf(r->fault, sizeof r->fault, "%s", reason);
	if (st == RX_FAILED)
		try_origin(a, 0);	/* stop waiting for it */
	if ((it = calloc(1, sizeof *it)) != NULL) {
		it->websdr = r->st->index;
		it->state = st;
		snprintf(it->reason, sizeof it->reason, "%s", reason);
		push_item(a, it);
	}
	unlock_wake(a);
}

static void
sink_stream(void *ctx, double fs)
{
	struct rxrt	*r = ctx;

	pthread_mutex_lock(&r->acq->lock);
	r->fs = fs;
	chunker_stream(r->ch, fs);
	pthread_mutex_unlock(&r->acq->lock);
}

static void
sink_block(void *ctx, const struct rx_block *b)
{
	struct rxrt	*r = ctx;
	struct acq	*a = r->acq;
	double		 old;
	int		 moved = 0;

	pthread_mutex_lock(&a->lock);
	if (b->pos_valid) {
		r->pos_valid = 1;
		r->pub_lat = b->latitude;
		r->pub_lon = b->longitude;
	}
	old = r->clk_n > 0 ? r->clk : NAN;
	chunker_feed(r->ch, b, on_chunk, a);
	if (chunker_line(r->ch) != r->line) {
		/* A new stream, or a rival line of stamps replaced the
		 * stream's (a stale run at its start): the offset measured
		 * on the old line is not this receiver's clock. */
		r->line = chunker_line(r->ch);
		r->clk_n = 0;
		moved = 1;
	}
	if (b->t_gps_ns > 0 && r->fs > 0 && chunker_on_line(r->ch)) {
		/* A block arrives after its last sample was taken: this is
		 * the receiver's offset minus the block's delay, and the
		 * largest one is the best estimate (seconds suffice). */
		double e = (double)b->t_gps_ns / 1e9 + (double)b->n / r->fs -
		    b->t_arrival;
		if (r->clk_n == 0 || e > r->clk)
			r->clk = e;
		r->clk_n++;
		if (a->loc != NULL) {
			/* the block grid, for locate's nudges */
			int64_t len = llround((double)b->n * 1e9 / r->fs);
			locate_block(a->loc, r->st->index, b->t_gps_ns + len,
			    len, r->clk);
		}
	}
	if (moved && r->clk_n > 0 && fabs(r->clk - old) >= CLOCK_AGREE_S)
		retry_origin(a);
	if (!a->has_origin)
		try_origin(a, 0);
	unlock_wake(a);
}

/*
 * The loop thread, replay only: may r's recording go on? Not while r has
 * cut past the lowest chunk index the engine has not finished (stored or
 * given up on everywhere): r may fill that one and the next, no more; nor
 * while live localization has no room for the chunk r fills (its worker
 * is behind: it would skip that chunk index, or leave a receiver out as
 * "late"). A recording is read as fast as the session is processed, the
 * receivers in step, and nothing downstream overflows or skips (the queue
 * of chunks to store stays one or two rows long).
 */
static int
sink_hold(void *ctx)
{
	struct rxrt	*r = ctx;
	struct acq	*a = r->acq;
	int		 hold, k;

	pthread_mutex_lock(&a->lock);
	k = chunker_next(r->ch);
	hold = k > a->progress + 1;
	pthread_mutex_unlock(&a->lock);
	/* and localization: r's next chunk must find a place there */
	if (!hold && a->loc != NULL)
		hold = !locate_can_take(a->loc, k);
	return hold;
}

/* ---- the acquisition worker ---- */

/* acq->lock held. */
static const char *
missing_reason(struct acq *a, struct rxrt *r, char *buf, size_t len)
{
	double	 d = rx_clock(a, r) - a->clk_off;

	if (r->state != RX_STREAMING && r->reason[0] != '\0')
		return r->reason;
	if (r->fault[0] != '\0')
		return r->fault;
	if (a->clk_gps > 0 && fabs(d) >= CLOCK_AGREE_S) {
		snprintf(buf, len, "no samples for this second: the receiver's "
		    "time is %.2f s %s the session's time line", fabs(d),
		    d < 0 ? "behind" : "ahead of");
		return buf;
	}
	return "no samples for this second";
}

/* acq->lock held. Declare chunk k of r missing; its record is appended
 * to out (emit_missing sends it as session:missing, without the lock). */
static void
mark_missing(struct acq *a, struct rxrt *r, int k, const char *reason,
    json_t *out)
{
	r->cst[k] = C_MISSING;
	r->missing++;
	chunker_skip(r->ch, k + 1);
	locate_exclude(a->loc, r->st->index, k, reason);
	json_array_append_new(out, json_pack("{s:i, s:i, s:s, s:s}",
	    "chunk_index", k, "websdr", r->st->index, "station", r->st->name,
	    "reason", reason));
}

/*
 * acq->lock held. A replay runs on the recordings' time line, as fast as
 * they come: no wall-clock grace or deadline. Chunk k of r will not come
 * when r failed (its file refused or unreadable) or stopped (its
 * recording ended), or when its chunker went past k without it (the
 * stream cannot fill it whole).
 */
static void
supervise_replay(struct acq *a, json_t *missing)
{
	int	i, k;

	for (i = 0; i < a->n; i++) {
		struct rxrt *r = &a->rt[i];
		char why[200];
		int over = r->state == RX_FAILED || r->state == RX_STOPPED ||
		    a->cancel;
		for (k = 0; k < a->total; k++) {
			if (r->cst[k] != C_PENDING)
				continue;
			if (!over && chunker_next(r->ch) <= k)
				break;
			mark_missing(a, r, k, a->cancel ? a->cancel_reason :
			    missing_reason(a, r, why, sizeof why), missing);
		}
	}
}

/*
 * acq->lock held. Chunks still pending whose second ended more than grace
 * ago (or all of them at the deadline, or of a failed receiver) will not
 * come: record them missing with the receiver's reason. Returns when it
 * has something to do next (a pending chunk falls due, the start timeout,
 * the deadline): the worker sleeps until then unless woken.
 */
/*
 * acq->lock held. A coordinated start's pre-flight (engine.h): once, a
 * second before the instant or as soon as every receiver streams, who is
 * ready and who is not, with the reason (busy, refused frequency, no
 * answer, still connecting), while there is time to act on it. Until
 * then, *next is the moment to look again. The event's data, or NULL.
 */
static json_t *
preflight_check(struct acq *a, double now, double *next)
{
	json_t	*ready, *not_ready;
	char	 iso[40];
	int	 i, all = 1;

	if (a->start_at <= 0 || a->preflight)
		return NULL;
	for (i = 0; i < a->n; i++)
		if (a->rt[i].state != RX_STREAMING)
			all = 0;
	if (!all && now < a->start_at - 1.0 && !a->cancel) {
		*next = fmin(*next, a->start_at - 1.0);
		return NULL;
	}
	a->preflight = 1;
	ready = json_array();
	not_ready = json_array();
	for (i = 0; i < a->n; i++) {
		struct rxrt *r = &a->rt[i];
		if (r->state == RX_STREAMING)
			json_array_append_new(ready, json_pack("{s:i, s:s}",
			    "websdr", r->st->index, "station", r->st->name));
		else
			json_array_append_new(not_ready, json_pack("{s:i, s:s, "
			    "s:s, s:s}", "websdr", r->st->index, "station",
			    r->st->name, "state", rx_state_name(r->state),
			    "reason", r->reason[0] != '\0' ? r->reason :
			    r->state == RX_CONNECTING ? "not streaming yet" :
			    "not streaming"));
	}
	util_iso8601(a->start_at, iso, sizeof iso);
	return json_pack("{s:s, s:s, s:f, s:o, s:o}", "session_id", a->s->id,
	    "start_at", iso, "seconds_ahead", a->start_at - now, "ready",
	    ready, "not_ready", not_ready);
}

static void nudge_loop(void *ctx);

/*
 * The receivers' loop rests up to 200 ms between turns (net/rx/rxloop.c),
 * so the frames that complete the last chunks would wait as much and the
 * session end with them. A KiwiSDR sends that frame 0-43 ms after the
 * chunk's end: one turn of the loop this long after the end reads them
 * all at once.
 */
#define END_NUDGE_S	0.05

static double
supervise(struct acq *a, double now, json_t *missing)
{
	struct engine	*eng = a->eng;
	double		 next = a->deadline;
	int		 i, k;

	if (!a->has_origin && now >= a->t_start + eng->cfg.start_timeout)
		try_origin(a, 1);
	if (!a->has_origin)
		next = fmin(next, a->t_start + eng->cfg.start_timeout);
	if (a->has_origin)
		clock_update(a);
	if (eng->cfg.replay) {
		/* nothing falls due with time: what it waits for wakes it */
		supervise_replay(a, missing);
		return INFINITY;
	}
	for (i = 0; i < a->n; i++) {
		struct rxrt *r = &a->rt[i];
		char why[200];
		/* Grace and deadline on the clock that stamps r's chunks: a
		 * receiver whose time is behind the session's delivers its
		 * seconds later, within reason. */
		double c = rx_clock(a, r), deadline = a->deadline;
		if (a->has_origin) {
			double end = a->t0 + a->total * a->len_s +
			    eng->cfg.grace - c;
			if (end > deadline)
				deadline = fmin(end,
				    a->deadline + CLOCK_MAX_WAIT_S);
		}
		for (k = 0; k < a->total; k++) {
			int overdue;
			if (r->cst[k] != C_PENDING)
				continue;
			overdue = now >= deadline || r->state == RX_FAILED ||
			    a->cancel || (a->has_origin &&
			    now + c > a->t0 + (k + 1) * a->len_s +
			    eng->cfg.grace);
			if (overdue && a->pz[k]) {
				/* A receiver that failed during a pause: its
				 * chunks in the pause are paused once their
				 * second has come (a resume may yet take the
				 * later ones back). */
				if (r->state == RX_FAILED && !a->cancel &&
				    now < deadline && a->has_origin &&
				    now + c < a->t0 + (k + 1) * a->len_s) {
					next = fmin(next, a->t0 + (k + 1) *
					    a->len_s - c);
					continue;
				}
				r->cst[k] = C_PAUSED;
				r->paused++;
				chunker_skip(r->ch, k + 1);
				continue;
			}
			if (!overdue) {
				/* later chunks are later still */
				next = fmin(next, deadline);
				if (a->has_origin)
					next = fmin(next, a->t0 + (k + 1) *
					    a->len_s +
					    eng->cfg.grace - c);
				break;
			}
			mark_missing(a, r, k, a->cancel ? a->cancel_reason :
			    missing_reason(a, r, why, sizeof why), missing);
		}
	}
	if (a->has_origin && !a->end_nudged && eng->cfg.loop != NULL) {
		double e = a->t0 + a->total * a->len_s + END_NUDGE_S;
		if (now >= e) {
			a->end_nudged = 1;
			nudge_loop(eng->cfg.loop);
		} else
			next = fmin(next, e);
	}
	return next;
}

/* acq->lock held. */
static int
all_accounted(struct acq *a)
{
	int	i, k;

	for (i = 0; i < a->n; i++) {
		for (k = 0; k < a->total; k++) {
			if (a->rt[i].cst[k] == C_PENDING ||
			    a->rt[i].cst[k] == C_QUEUED)
				return 0;
		}
	}
	return 1;
}

/* JSON has no NaN or infinity: a metric that could not be computed is null. */
static json_t *
jreal(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
measurement_row(struct acq *a, struct rxrt *r, const struct chunk *c,
    const struct metrics *m, const char *key)
{
	struct sess	*s = a->s;
	char		 id[UTIL_UUID_LEN], ts[40], now[40];
	json_t		*row;

	util_uuid(id);
	util_iso8601(c->t_first, ts, sizeof ts);
	util_iso8601(util_now(), now, sizeof now);
	row = json_object();
	json_object_set_new(row, "id", json_string(id));
	json_object_set_new(row, "recording_session_id", json_string(s->id));
	json_object_set_new(row, "websdr", json_integer(r->st->index));
	json_object_set_new(row, "websdr_station_name",
	    json_string(r->st->name));
	json_object_set_new(row, "chunk_index", json_integer(c->index));
	json_object_set_new(row, "timestamp", json_string(ts));
	json_object_set_new(row, "frequency_hz",
	    json_integer((json_int_t)llround(s->p.freq_hz)));
	json_object_set_new(row, "signal_strength_db",
	    jreal(m->signal_strength_db));
	json_object_set_new(row, "snr_db", jreal(m->snr_db));
	json_object_set_new(row, "frequency_offset_hz",
	    jreal(m->frequency_offset_hz));
	json_object_set_new(row, "noise_floor_db",
	    jreal(m->noise_floor_db));
	json_object_set_new(row, "rssi_dbm", c->rssi_n > 0 ?
	    jreal(c->rssi_sum / c->rssi_n) : json_null());
	json_object_set_new(row, "peak_amplitude",
	    jreal(m->peak_amplitude));
	json_object_set_new(row, "adc_overflow_count",
	    json_integer(c->overflow));
	json_object_set_new(row, "gps_fix_age_s", c->gps_age >= 0 ?
	    json_integer(c->gps_age) : json_null());
	/* Why a chunk has no t0_ns, machine-readable (chunk_time_name). */
	json_object_set_new(row, "time_source",
	    json_string(chunk_time_name(c->time_src)));
	/* The first sample's time to the nanosecond (an integer: a double
	 * cannot hold it) and the rate measured from the GPS stamps, for
	 * TDoA; null unless time_source is "gps". */
	json_object_set_new(row, "t0_ns", c->time_src == CHUNK_TIME_GPS ?
	    json_integer((json_int_t)c->t0_ns) : json_null());
	json_object_set_new(row, "sample_rate_hz",
	    c->time_src == CHUNK_TIME_GPS ? json_real(c->fs_gps) :
	    json_null());
	json_object_set_new(row, "samples_lost",
	    json_integer((json_int_t)c->lost));
	json_object_set_new(row, "iq_data_location", json_string(key));
	if (rx_type_audio(r->st->type)) {
		/* What the receiver really gives: demodulated real audio. */
		const char *mode;
		int lo, hi;
		rx_audio_passband(r->st, s->p.high_cut, c->fs, &mode, &lo, &hi);
		json_object_set_new(row, "iq_data_format",
		    json_string("float32"));
		json_object_set_new(row, "format", json_string("audio"));
		json_object_set_new(row, "demod_mode", json_string(mode));
		json_object_set_new(row, "passband_low_hz", json_integer(lo));
		json_object_set_new(row, "passband_high_hz", json_integer(hi));
	} else
		json_object_set_new(row, "iq_data_format",
		    json_string("complex64"));
	json_object_set_new(row, "iq_sample_rate", json_real(c->fs));
	json_object_set_new(row, "iq_samples_count",
	    json_integer((json_int_t)c->n));
	json_object_set_new(row, "duration_seconds",
	    json_real((double)c->n / c->fs));
	json_object_set_new(row, "created_at", json_string(now));
	return row;
}

void
engine_set_spectra(struct engine *eng, int on)
{
	__atomic_store_n(&eng->spectra, on ? 1 : 0, __ATOMIC_RELAXED);
}

/*
 * session:spectrum of a chunk just measured (engine_set_spectra): the
 * passband metrics_compute used, in ENGINE_SPECTRUM_BINS slices of the
 * same transform (no second FFT; a.mctx still holds it), dB to 0.1.
 * NULL when off or unusable.
 */
static json_t *
spectrum_event(struct acq *a, const struct chunk *c, const struct metrics *m,
    double lo, double hi)
{
	float	 db[ENGINE_SPECTRUM_BINS];
	json_t	*bins;
	int	 i;

	if (!__atomic_load_n(&a->eng->spectra, __ATOMIC_RELAXED) ||
	    metrics_spectrum(a->mctx, lo, hi, ENGINE_SPECTRUM_BINS, db) != 0)
		return NULL;
	bins = json_array();
	for (i = 0; i < ENGINE_SPECTRUM_BINS; i++)
		json_array_append_new(bins, json_real(round(db[i] * 10) / 10));
	return json_pack("{s:s, s:i, s:i, s:f, s:f, s:f, s:o}", "session_id",
	    a->s->id, "websdr", c->websdr, "chunk_index", c->index, "low_hz",
	    lo, "high_hz", hi, "offset_hz", isfinite(m->frequency_offset_hz) ?
	    m->frequency_offset_hz : 0.0, "bins", bins);
}

static int
compute(struct acq *a, const struct chunk *c, struct metrics *m)
{
	size_t		 want = 1024;
	const int16_t	*iq = chunk_iq(c, &a->wbuf, &a->wcap);

	while (want < c->n)
		want *= 2;
	if (a->mctx == NULL || a->mctx_size < want) {
		metrics_ctx_free(a->mctx);
		a->mctx = metrics_ctx_new(want);
		a->mctx_size = a->mctx != NULL ? want : 0;
	}
	if (a->mctx == NULL || iq == NULL)
		return -1;
	if (rx_type_audio(RT(a, c->websdr)->st->type)) {
		/* Audio is real (Q = 0): its spectrum's positive half over
		 * the audio passband holds the signal and the noise in the
		 * same ratio as the whole. */
		const char *mode;
		int lo, hi;
		rx_audio_passband(RT(a, c->websdr)->st, a->s->p.high_cut,
		    c->fs, &mode, &lo, &hi);
		a->spec_lo = lo;
		a->spec_hi = hi;
		return metrics_compute(a->mctx, iq, c->n, c->fs, lo, hi, m);
	}
	a->spec_lo = a->s->p.low_cut;
	a->spec_hi = a->s->p.high_cut;
	return metrics_compute(a->mctx, iq, c->n, c->fs,
	    a->s->p.low_cut, a->s->p.high_cut, m);
}

/*
 * Store a batch of finished chunks: metrics, one dataset_put_batch (one
 * durability barrier for the batch), then the events. Chunks that cannot
 * be stored are declared missing with the storage error.
 */
static void
store_batch(struct acq *a, struct chunk **cv, int n, json_t *missing)
{
	struct engine	*eng = a->eng;
	struct ds_chunk	*dv;
	json_t		*rows, *row, *spec;
	char		 key[256], err[512], **text, *all;
	size_t		*tlen, sum;
	int		 i, rc;

	if (n == 0)
		return;
	dv = calloc((size_t)n, sizeof *dv);
	text = calloc((size_t)n, sizeof *text);
	tlen = calloc((size_t)n, sizeof *tlen);
	rows = json_array();
	spec = json_array();
	for (i = 0; i < n; i++) {
		struct chunk *c = cv[i];
		struct metrics m;
		struct rxrt *r = RT(a, c->websdr);
		json_t *sp;
		if (compute(a, c, &m) != 0)
			memset(&m, 0, sizeof m), m.snr_db = NAN;
		else if ((sp = spectrum_event(a, c, &m, a->spec_lo,
		    a->spec_hi)) != NULL)
			json_array_append_new(spec, sp);
		dataset_chunk_key(a->s->id, c->index, c->websdr, key,
		    sizeof key);
		row = measurement_row(a, r, c, &m, key);
		json_array_append_new(rows, row);
		dv[i] = (struct ds_chunk){ c->index, c->websdr, c->iq, c->n,
		    c->spool_fd, c->spool_off };
	}
	/*
	 * Each row serialized once, for the rows file ("[r0,r1,...]", what
	 * jansson writes for the array) and for its session:measurement
	 * (its JSON was a tenth of the CPU at 7 stations, every real in its
	 * shortest form). Any failure: both serialize on their own.
	 */
	for (i = 0, sum = 2; text != NULL && tlen != NULL && i < n; i++) {
		if ((text[i] = util_json_dumps(json_array_get(rows,
		    (size_t)i), JSON_COMPACT | JSON_PRESERVE_ORDER)) == NULL)
			break;
		sum += (tlen[i] = strlen(text[i])) + 1;
	}
	all = text != NULL && tlen != NULL && i == n ? malloc(sum) : NULL;
	if (all != NULL) {
		char *p = all;
		for (i = 0; i < n; i++) {
			*p++ = i ? ',' : '[';
			memcpy(p, text[i], tlen[i]);
			p += tlen[i];
		}
		*p++ = ']';
		*p = '\0';
	}
	rc = dv == NULL ? -1 : dataset_put_batch_text(eng->cfg.ds, a->s->id,
	    dv, n, rows, all, err, sizeof err);
	free(all);
	if (dv == NULL)
		snprintf(err, sizeof err, "out of memory");
	pthread_mutex_lock(&a->lock);
	if (rc != 0 && a->io_error[0] == '\0') {
		/*
		 * A storage error (disk full, EFBIG, EIO) ends the session: it
		 * fails with the error, instead of completing "partial" with
		 * every later chunk missing for the same reason.
		 */
		snprintf(a->io_error, sizeof a->io_error, "%s", err);
		if (!a->cancel) {
			a->cancel = 1;
			snprintf(a->cancel_reason, sizeof a->cancel_reason,
			    "storage error: %s", err);
		}
	}
	for (i = 0; i < n; i++) {
		struct rxrt *r = RT(a, cv[i]->websdr);
		if (rc == 0) {
			r->cst[cv[i]->index] = C_STORED;
			r->ok++;
			a->measurements++;
			json_decref(r->last);
			r->last = json_incref(json_array_get(rows, i));
		} else {
			char why[600];
			snprintf(why, sizeof why, "not stored: %s", err);
			mark_missing(a, r, cv[i]->index, why, missing);
		}
		/* stored (or given up): its buffer serves r's next chunk */
		chunker_recycle(r->ch, cv[i]);
		cv[i] = NULL;
	}
	pthread_mutex_unlock(&a->lock);
	if (rc != 0)
		events_emit(eng->cfg.ev, "session:error", json_pack(
		    "{s:s, s:s, s:s, s:s}", "session_id", a->s->id, "error",
		    err, "code", "io_error", "field", ""));
	else {
		for (i = 0; i < n; i++)
			events_emit_text(eng->cfg.ev, "session:measurement",
			    json_incref(json_array_get(rows, (size_t)i)),
			    text != NULL ? text[i] : NULL,
			    tlen != NULL ? tlen[i] : 0);
		for (i = 0; i < (int)json_array_size(spec); i++)
			events_emit(eng->cfg.ev, "session:spectrum",
			    json_incref(json_array_get(spec, i)));
	}
	json_decref(spec);
	for (i = 0; text != NULL && i < n; i++)
		free(text[i]);
	free(text);
	free(tlen);
	json_decref(rows);
	free(dv);
}

/* acq->lock held. Why the acquisition fails, or NULL: final once every
 * chunk is settled (a cancel may still come until the worker ends). */
static const char *
acq_failure(const struct acq *a)
{
	if (a->cancel)
		return a->cancel_reason;
	if (a->measurements == 0)
		return "no receiver delivered a whole second of samples";
	return NULL;
}

/* The stable signal of a failed acquisition, once: pages that count
 * progress to N (the original RecordingSession) would else show a
 * failed session as complete. */
static void
say_failure(struct acq *a, const char *why)
{
	events_emit(a->eng->cfg.ev, "session:error", json_pack(
	    "{s:s, s:s, s:s, s:s}", "session_id", a->s->id, "error", why,
	    "code", "acquisition_failed", "field", ""));
}

/* Emit session:progress for every chunk index now settled everywhere;
 * before the last one, session:error acquisition_failed if it failed. */
static void
report_progress(struct acq *a)
{
	int		 i, k, settled, count, npaused, fail;
	const char	*why;
	char		 reason[256];

	for (;;) {
		fail = 0;
		pthread_mutex_lock(&a->lock);
		k = a->progress;
		settled = k < a->total;
		for (i = 0; settled && i < a->n; i++) {
			if (a->rt[i].cst[k] != C_STORED &&
			    a->rt[i].cst[k] != C_MISSING &&
			    a->rt[i].cst[k] != C_PAUSED)
				settled = 0;
		}
		/* A progress event counts the rows of the chunks it
		 * reports (chunk k+1 may already be stored for every
		 * receiver when k settles: counting every stored row
		 * would make "chunk k" claim another chunk's rows). */
		for (i = 0; settled && i < a->n; i++) {
			a->progress_rows += a->rt[i].cst[k] == C_STORED;
			a->progress_paused += a->rt[i].cst[k] == C_PAUSED;
		}
		if (settled)
			a->progress++;
		if (settled)
			locate_settled(a->loc, k);
		if (settled && a->progress == a->total && !a->failure_said &&
		    (why = acq_failure(a)) != NULL) {
			snprintf(reason, sizeof reason, "%s", why);
			a->failure_said = fail = 1;
		}
		count = a->progress_rows;
		npaused = a->progress_paused;
		pthread_mutex_unlock(&a->lock);
		if (!settled)
			return;
		if (fail)
			say_failure(a, reason);
		events_emit(a->eng->cfg.ev, "session:progress", json_pack(
		    "{s:s, s:i, s:i, s:i, s:i, s:i}", "session_id", a->s->id,
		    "chunk", k + 1, "total_chunks", a->total,
		    "progress", (int)lround(100.0 * (k + 1) / a->total),
		    "measurements_count", count, "paused_chunks", npaused));
	}
}

static void
emit_state(struct acq *a, struct item *it)
{
	const struct station *st = &a->eng->cfg.stations->v[it->websdr - 1];

	events_emit(a->eng->cfg.ev, "receiver:status", json_pack(
	    "{s:s, s:i, s:s, s:s, s:s}", "session_id", a->s->id,
	    "websdr", it->websdr, "station", st->name,
	    "state", rx_state_name(it->state), "reason", it->reason));
}

/*
 * acq->lock held. session:clock: the host clock's offset from the GPS
 * receivers (offset_s = GPS time - host clock: > 0 the host is behind),
 * each GPS receiver's own, and a sentence for people.
 */
static json_t *
clock_event(struct acq *a)
{
	json_t	*rxs = json_array(), *d;
	char	 msg[1024];
	size_t	 off;
	int	 i;

	if (a->clk_trusted)
		off = (size_t)snprintf(msg, sizeof msg, "the host clock is "
		    "%.2f s %s GPS time (measured on %d GPS receiver%s): "
		    "chunks are placed on GPS time", fabs(a->clk_off),
		    a->clk_off >= 0 ? "behind" : "ahead of", a->clk_gps,
		    a->clk_gps == 1 ? "" : "s");
	else
		off = (size_t)snprintf(msg, sizeof msg, "the GPS receivers "
		    "disagree on the time, each keeps its own; their time "
		    "minus the host clock:");
	for (i = 0; i < a->n; i++) {
		struct rxrt *r = &a->rt[i];
		double dv = r->clk - a->clk_off;
		if (r->clk_n == 0)
			continue;
		json_array_append_new(rxs, json_pack("{s:i, s:s, s:f}",
		    "websdr", r->st->index, "station", r->st->name,
		    "offset_s", r->clk));
		if (off >= sizeof msg)
			continue;
		if (!a->clk_trusted)
			off += (size_t)snprintf(msg + off, sizeof msg - off,
			    " %s %+.2f s", r->st->name, r->clk);
		else if (fabs(dv) >= CLOCK_AGREE_S)
			off += (size_t)snprintf(msg + off, sizeof msg - off,
			    "; %s's GPS time is %.2f s %s the others': placed "
			    "by arrival time", r->st->name, fabs(dv),
			    dv < 0 ? "behind" : "ahead of");
	}
	d = json_pack("{s:s, s:s, s:f, s:b, s:i, s:o, s:s}",
	    "session_id", a->s->id, "time_line", "gps", "offset_s", a->clk_off,
	    "trusted", a->clk_trusted, "gps_receivers", a->clk_gps,
	    "receivers", rxs, "message", msg);
	return d;
}

static void
emit_missing(struct acq *a, json_t *missing)
{
	size_t	 i;
	json_t	*m;

	json_array_foreach(missing, i, m) {
		json_t *d = json_deep_copy(m);
		json_object_set_new(d, "session_id", json_string(a->s->id));
		json_array_append(a->missing, m);
		events_emit(a->eng->cfg.ev, "session:missing", d);
	}
	json_array_clear(missing);
}

/* One pass: take what the loop thread queued, store it, report. Returns 1
 * when every chunk of every receiver is settled. */
static int
work(struct acq *a, int wait)
{
	struct item	*items, *it, *next;
	struct chunk	*cv[256];
	json_t		*missing = json_array(), *clock = NULL, *pre;
	int		 n = 0, done;
	struct timespec	 ts;

	pthread_mutex_lock(&a->lock);
	if (wait && a->head == NULL && !a->cancel) {
		/*
		 * Asleep until the supervisor's next deadline (a chunk falls
		 * due, the start timeout) or until woken: a chunk or a state
		 * change queued, the origin set, a cancel. At most
		 * WORK_MAX_SLEEP_S, so that the GPS clock estimate the
		 * supervisor refreshes stays fresh. (It woke every 50 ms:
		 * 20 wake-ups a second whatever happened, a few % of the CPU
		 * of a small session.) 1 ms past the deadline, so that it has
		 * passed when checked.
		 */
		double	until = fmin(a->next_due + 0.001,
		    util_now() + WORK_MAX_SLEEP_S);
		ts.tv_sec = (time_t)until;
		ts.tv_nsec = (long)((until - (double)ts.tv_sec) * 1e9);
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_nsec = 999999999L;
		pthread_cond_timedwait(&a->cond, &a->lock, &ts);
	}
	/* the rest of a row of chunks (on_chunk) */
	while (wait && a->gather && !a->row_done && !a->cancel &&
	    util_now() < a->gather_until) {
		ts.tv_sec = (time_t)a->gather_until;
		ts.tv_nsec = (long)((a->gather_until - (double)ts.tv_sec) *
		    1e9);
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_nsec = 999999999L;
		if (pthread_cond_timedwait(&a->cond, &a->lock, &ts) != 0)
			break;
	}
	items = a->head;
	a->head = a->tail = NULL;
	a->kick = 0;
	a->gather = 0;
	a->row_done = 0;
	pthread_mutex_unlock(&a->lock);

	for (it = items; it != NULL; it = next) {
		next = it->next;
		if (it->chunk != NULL) {
			cv[n++] = it->chunk;
			if (n == (int)(sizeof cv / sizeof cv[0])) {
				store_batch(a, cv, n, missing);
				n = 0;
			}
		} else
			emit_state(a, it);
		free(it);
	}
	store_batch(a, cv, n, missing);

	pthread_mutex_lock(&a->lock);
	a->next_due = supervise(a, util_now(), missing);
	pre = preflight_check(a, util_now(), &a->next_due);
	done = all_accounted(a);
	/* Said once the origin is final (retry_origin: a stale run of
	 * stamps outvoted after it may have moved a receiver's clock, and
	 * the session's, by seconds), and only if still so. */
	if (a->clock_event == 1 && (done || origin_final(a))) {
		if (clock_off(a)) {
			clock = clock_event(a);
			a->clock_event = 2;
		} else
			a->clock_event = 0;
	}
	pthread_mutex_unlock(&a->lock);
	if (pre != NULL)
		events_emit(a->eng->cfg.ev, "session:preflight", pre);
	if (clock != NULL)
		events_emit(a->eng->cfg.ev, "session:clock", clock);
	emit_missing(a, missing);
	json_decref(missing);
	report_progress(a);
	return done;
}

static void
open_receivers(struct acq *a)
{
	struct engine	*eng = a->eng;
	struct rx_params p;
	char		 err[256];
	int		 i;

	memset(&p, 0, sizeof p);
	p.freq_hz = a->s->p.freq_hz;
	p.low_cut = a->s->p.low_cut;
	p.high_cut = a->s->p.high_cut;
	p.deadline = a->deadline;
	p.origin = eng->cfg.replay ? a->t0 : 0;
	p.ident = "heimdall-rec";
	for (i = 0; i < a->n; i++) {
		struct rxrt *r = &a->rt[i];
		struct rx_sink sink = { sink_state, sink_stream, sink_block, r,
		    eng->cfg.replay ? sink_hold : NULL };
		r->rx = r->drv->open(eng->cfg.loop, r->st, &p, &sink, err,
		    sizeof err);
		if (r->rx == NULL)
			sink_state(r, RX_FAILED, err);
	}
}

static void
close_receivers(struct acq *a)
{
	int	i;

	for (i = 0; i < a->n; i++) {
		if (a->rt[i].rx != NULL) {
			a->rt[i].drv->close(a->rt[i].rx);
			a->rt[i].rx = NULL;
		}
	}
}

static json_t *
summary_build(struct acq *a)
{
	json_t	*stations, *sum;
	int	 i, k, ok = 0, miss = 0, pz = 0, rows_pz = 0;

	pthread_mutex_lock(&a->lock);
	stations = stations_json(a->eng, a->s, a);
	for (i = 0; i < a->n; i++) {
		ok += a->rt[i].ok;
		miss += a->rt[i].missing;
		pz += a->rt[i].paused;
	}
	/* chunk indexes some receiver skipped for a pause: times the chunk
	 * length, the seconds of the session not recorded because of it */
	for (k = 0; k < a->total; k++)
		for (i = 0; i < a->n; i++)
			if (a->rt[i].cst[k] == C_PAUSED) {
				rows_pz++;
				break;
			}
	pthread_mutex_unlock(&a->lock);
	sum = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:o, s:O}",
	    "chunks_expected", a->total * a->n, "chunks_stored", ok,
	    "chunks_missing", miss, "measurements_count", ok,
	    "total_chunks", a->total, "paused_chunks", pz,
	    "paused_seconds", rows_pz * a->len_s, "stations", stations,
	    "missing", a->missing);
	/* left out (not counted in chunks_expected) */
	json_object_set(sum, "excluded", a->s->excluded);
	if (a->has_origin) {
		char t0[40];
		util_iso8601(a->t0, t0, sizeof t0);
		json_object_set_new(sum, "chunk0_utc", json_string(t0));
	}
	if (a->io_error[0] != '\0')
		json_object_set_new(sum, "io_error", json_string(a->io_error));
	if (a->loc != NULL) {
		json_t *tdoa, *fixes, *fix;
		locate_rows(a->loc, &tdoa, &fixes, &fix);
		if (fix != NULL)
			json_object_set_new(sum, "fix", fix);
		json_decref(tdoa);
		json_decref(fixes);
	}
	pthread_mutex_lock(&a->lock);
	json_object_set_new(sum, "clock", json_pack("{s:s, s:o, s:b, s:i}",
	    "time_line", a->clk_gps > 0 ? "gps" : "host",
	    "host_offset_s", a->clk_gps > 0 ? json_real(a->clk_off) :
	    json_null(), "trusted", a->clk_trusted,
	    "gps_receivers", a->clk_gps));
	pthread_mutex_unlock(&a->lock);
	return sum;
}

/*
 * The final manifest could not be written: the session cannot be what the
 * dataset does not hold. It fails with the storage error (what is said
 * and the exit status 74), and a manifest without the merged rows (the
 * rows files stay and are merged on reading) is tried once more, so that
 * the dataset says so too; if that fails as well, the next dataset_open()
 * marks it failed (interrupted).
 */
static void
finish_failed(struct engine *eng, struct sess *s, const char *why)
{
	char	 err[512];
	json_t	*m;

	events_emit(eng->cfg.ev, "session:error", json_pack(
	    "{s:s, s:s, s:s, s:s}", "session_id", s->id, "error", why,
	    "code", "io_error", "field", ""));
	pthread_mutex_lock(&eng->lock);
	s->status = SESSION_FAILED;
	snprintf(s->failure_reason, sizeof s->failure_reason, "storage "
	    "error: cannot write the final manifest: %s", why);
	if (s->summary != NULL && json_object_get(s->summary,
	    "io_error") == NULL)
		json_object_set_new(s->summary, "io_error", json_string(why));
	pthread_mutex_unlock(&eng->lock);
	m = manifest_build(eng, s);
	if (dataset_session_save(eng->cfg.ds, s->id, m, err,
	    sizeof err) != 0)
		events_emit(eng->cfg.ev, "session:error", json_pack(
		    "{s:s, s:s, s:s, s:s}", "session_id", s->id, "error", err,
		    "code", "io_error", "field", ""));
	json_decref(m);
}

static void *
acq_main(void *arg)
{
	struct acq	*a = arg;
	struct engine	*eng = a->eng;
	struct sess	*s = a->s;
	struct sess	*end, *next;
	json_t		*sum, *m, *moved = NULL;
	const char	*why;
	char		 err[512], reason[256];
	int		 said;

	wait_start_said(eng, s);
	if (a->announce) {
		/* Started from the queue: its position is now 0. */
		say_status(eng, s);
	}
	open_receivers(a);
	while (!work(a, 1))
		;
	close_receivers(a);
	/* Chunks that finished while the receivers were closing. */
	work(a, 0);
	/* The last chunks' fixes and the session fix: before the summary
	 * and the session's last event. */
	locate_finish(a->loc);

	sum = summary_build(a);
	pthread_mutex_lock(&a->lock);
	why = acq_failure(a);
	snprintf(reason, sizeof reason, "%s", why != NULL ? why : "");
	said = a->failure_said;
	a->failure_said = 1;
	pthread_mutex_unlock(&a->lock);
	/* Cancelled in the instant after the last progress event. */
	if (why != NULL && !said)
		say_failure(a, reason);
	pthread_mutex_lock(&eng->lock);
	s->summary = sum;
	if (why != NULL) {
		s->status = SESSION_FAILED;
		snprintf(s->failure_reason, sizeof s->failure_reason, "%s",
		    reason);
	} else
		s->status = SESSION_COMPLETED;
	util_iso8601(util_now(), s->session_end, sizeof s->session_end);
	pthread_mutex_unlock(&eng->lock);

	m = manifest_build(eng, s);
	if (dataset_session_finish(eng->cfg.ds, s->id, m, err,
	    sizeof err) != 0)
		finish_failed(eng, s, err);
	json_decref(m);

	/* The last event of the session. */
	say_status(eng, s);

	/* Hand the slot to the queue's first; the sessions behind move up.
	 * This thread counts in eng->workers until it has said so. */
	pthread_mutex_lock(&eng->lock);
	s->ended = 1;
	eng->active--;
	end = NULL;
	while (!eng->closing && eng->qhead != NULL &&
	    eng->active < eng->cfg.max_active) {
		struct sess		*q = eng->qhead;
		struct session_error	 e;
		queue_remove(eng, q);
		if (launch(eng, q, 1, &e) != 0) {
			fail_unacquired(q, "cannot start acquisition: %s",
			    e.msg);
			q->endnext = end;
			end = q;
		}
	}
	if (eng->qhead != NULL)
		moved = queue_renumber(eng);
	pthread_cond_broadcast(&eng->done);
	pthread_mutex_unlock(&eng->lock);
	for (; end != NULL; end = next) {
		next = end->endnext;
		end_unacquired(eng, end);
	}
	if (moved != NULL)
		emit_all(eng, "session:status_update", moved);
	pthread_mutex_lock(&eng->lock);
	eng->workers--;
	pthread_cond_broadcast(&eng->done);
	pthread_mutex_unlock(&eng->lock);
	return NULL;
}

static void
nudge_noop(void *arg)
{
	(void)arg;
}

/* locate's nudge: a turn of the receivers' loop now (rxloop_call ends
 * its rest), so the frames that complete a chunk are read at once. */
static void
nudge_loop(void *ctx)
{
	(void)rxloop_call(ctx, nudge_noop, NULL);
}

/* locate's rows of a located chunk index (k; -1 the session fix), made
 * durable as they come (dataset_put_loc): a recorder killed later keeps
 * them. A failure is said on the bus; the rows stay in memory for the
 * manifest. */
static void
persist_loc(void *ctx, int k, const json_t *tdoa, const json_t *fixes)
{
	struct acq	*a = ctx;
	char		 err[512];

	if (dataset_put_loc(a->eng->cfg.ds, a->s->id, k, tdoa, fixes, err,
	    sizeof err) != 0)
		events_emit(a->eng->cfg.ev, "session:error", json_pack(
		    "{s:s, s:s, s:s, s:s}", "session_id", a->s->id, "error",
		    err, "code", "io_error", "field", ""));
}

/*
 * The chunkers' rings in one unnamed file in the data directory, a region
 * of SPOOL_STRIDE bytes per receiver (chunker_spool says why: 87 MB of
 * heap at 1000 KiwiSDRs). Unnamed (O_TMPFILE): nothing is left behind by
 * a crash, and no reader of the data directory ever sees it. In the data
 * directory, not /tmp: there it is on a disk (a tmpfs /tmp is RAM that
 * cannot be reclaimed without swap). Sparse: only the regions' written
 * slots take space, and only while a ring is kept. -1 (the rings stay on
 * the heap) where the file system has no O_TMPFILE or no data directory.
 * Only for acquisitions of cfg.spool_min receivers or more (engine.h).
 */
#define SPOOL_STRIDE	((size_t)1 << 20)	/* half for the ring (2 s
						   of 65 kS/s: a faster
						   stream's stays on the
						   heap), half for 10
						   slots of 12 kS/s */
static int
spool_open(struct engine *eng)
{
	const char	*dir = eng->cfg.ds != NULL ? dataset_dir(eng->cfg.ds) :
			    NULL;

	if (dir == NULL || *dir == '\0')
		return -1;
	return open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

static struct acq *
acq_new(struct engine *eng, struct sess *s)
{
	struct acq	*a;
	int		 i;

	a = calloc(1, sizeof *a);
	if (a == NULL)
		return NULL;
	a->eng = eng;
	a->s = s;
	a->spool_fd = -1;
	a->map = calloc((size_t)eng->cfg.stations->n, sizeof *a->map);
	if (a->map == NULL) {
		free(a);
		return NULL;
	}
	for (i = 0; i < eng->cfg.stations->n; i++)
		a->map[i] = s->out[i] ? -1 : a->n++;
	a->total = session_total_chunks(&s->p);
	a->len_s = s->p.chunk_ms / 1000.0;
	a->rt = calloc((size_t)a->n, sizeof *a->rt);
	/* a few receivers' samples fit the heap: no file to pay for */
	a->spool_fd = a->n >= eng->cfg.spool_min ? spool_open(eng) : -1;
	a->clkv = calloc((size_t)a->n, sizeof *a->clkv);
	a->missing = json_array();
	a->pz = calloc((size_t)a->total, 1);
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	a->t_start = util_now();
	a->deadline = a->t_start + eng->cfg.start_timeout + s->p.duration_s +
	    eng->cfg.grace;
	if (s->start_at > 0) {
		a->start_at = s->start_at;
		a->deadline = fmax(a->deadline, s->start_at + s->p.duration_s +
		    eng->cfg.grace);
	}
	for (i = 0; a->rt != NULL && i < eng->cfg.stations->n; i++) {
		struct rxrt *r;
		if (a->map[i] < 0)
			continue;
		r = &a->rt[a->map[i]];
		r->acq = a;
		r->st = &eng->cfg.stations->v[i];
		r->drv = rx_driver_find(r->st->type);
		/* 2 s kept (a chunk more when chunks are longer than 1 s):
		 * a stream re-placed after a stale run of GPS stamps
		 * (chunker.h) is cut again from them. */
		r->ch = chunker_new(r->st->index, a->total,
		    fmax(2.0, a->len_s + 1.0));
		if (r->ch != NULL)
			chunker_set_chunk_ms(r->ch, s->p.chunk_ms);
		if (r->ch != NULL && a->spool_fd >= 0)
			chunker_spool(r->ch, a->spool_fd,
			    (int64_t)a->map[i] * SPOOL_STRIDE, SPOOL_STRIDE);
		r->cst = calloc((size_t)a->total, 1);
		r->state = RX_CONNECTING;
		snprintf(r->reason, sizeof r->reason, "connecting");
		if (r->drv == NULL || r->ch == NULL || r->cst == NULL)
			break;
	}
	if (a->rt != NULL && i == eng->cfg.stations->n) {
		struct locate_config lc;
		char err[256];
		memset(&lc, 0, sizeof lc);
		lc.stations = eng->cfg.stations;
		lc.absent = s->out;
		lc.ev = eng->cfg.ev;
		lc.session_id = s->id;
		lc.total = a->total;
		lc.chunk_ms = s->p.chunk_ms;
		lc.band_lo_hz = s->p.low_cut;
		lc.band_hi_hz = s->p.high_cut;
		lc.nudge = nudge_loop;
		lc.nudge_ctx = eng->cfg.loop;
		lc.persist = persist_loc;
		lc.persist_ctx = a;
		lc.has_source = s->source_coords;
		lc.source_lat = s->source_lat;
		lc.source_lon = s->source_lon;
		a->loc = locate_new(&lc, err, sizeof err);
	}
	if (a->rt == NULL || i < eng->cfg.stations->n || a->missing == NULL ||
	    a->pz == NULL ||
	    a->clkv == NULL) {
		acq_free(a);
		return NULL;
	}
	if (eng->cfg.replay || a->start_at > 0) {
		/* The recordings' common overlap, or the instant the operator
		 * gave (every recorder given it cuts the same seconds): known
		 * before any block, so every stream is cut as it comes (what
		 * comes before the instant is not the session's), none
		 * awaited, and the grid is not chosen again. */
		a->has_origin = 1;
		a->t0 = eng->cfg.replay ? eng->cfg.replay_origin : a->start_at;
		if (!eng->cfg.replay)
			locate_grid(a->loc, a->t0, 0, -1);
		for (i = 0; i < a->n; i++)
			chunker_set_origin(a->rt[i].ch, a->t0, on_chunk, a);
	}
	return a;
}

/* eng->lock held. s acquires now, on a worker thread of its own; with
 * announce, that thread first says so (it comes from the queue). */
static int
launch(struct engine *eng, struct sess *s, int announce,
    struct session_error *e)
{
	struct acq	*a;
	pthread_attr_t	 attr;
	int		 rc;

	/* A coordinated start that waited in the queue past its instant is
	 * missed, never run late (the seconds it names are gone). */
	if (s->start_at > 0 && util_now() + ENGINE_AT_LEAD_MIN_S >
	    s->start_at)
		return session_error_set(e, "bad_state", "start_at", "its "
		    "start instant passed while it waited for the session "
		    "before it");
	if ((a = acq_new(eng, s)) == NULL)
		return session_error_set(e, "io_error", "", "out of memory");
	a->announce = announce;
	s->acq = a;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&a->thread, &attr, acq_main, a);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		s->acq = NULL;
		acq_free(a);
		return session_error_set(e, "io_error", "", "cannot start a "
		    "thread");
	}
	/* The worker reads none of this before it takes eng->lock. */
	s->status = SESSION_IN_PROGRESS;
	s->qpos = 0;
	eng->active++;
	eng->workers++;
	return 0;
}

int
engine_session_acquire(struct engine *eng, const char *id,
    struct session_error *e)
{
	return engine_session_acquire_at(eng, id, 0, e);
}

int
engine_busy(struct engine *eng)
{
	int	n;

	pthread_mutex_lock(&eng->lock);
	n = eng->active + eng->nqueued;
	pthread_mutex_unlock(&eng->lock);
	return n;
}

double
engine_at_lead(const struct engine *eng)
{
	return fmax(ENGINE_AT_LEAD_MIN_S, eng->cfg.start_timeout);
}

int
engine_session_acquire_at(struct engine *eng, const char *id,
    double start_at, struct session_error *e)
{
	struct sess	*s;
	double		 now = util_now(), lead = engine_at_lead(eng);
	int		 pos;

	if (start_at != 0 && (!isfinite(start_at) || eng->cfg.replay))
		return session_error_set(e, "invalid", "start_at", "%s",
		    eng->cfg.replay ? "an import runs on its recordings' "
		    "time line: no start instant" : "start_at is not a time");
	if (start_at != 0 && start_at < now + lead)
		return session_error_set(e, "out_of_range", "start_at",
		    "the start instant is %.1f s away: it must be at least "
		    "%.0f s ahead (the receivers connect and are checked "
		    "first)", start_at - now, lead);
	if (start_at > now + ENGINE_AT_AHEAD_MAX_S)
		return session_error_set(e, "out_of_range", "start_at",
		    "the start instant is more than %d days ahead",
		    ENGINE_AT_AHEAD_MAX_S / 86400);
	pthread_mutex_lock(&eng->lock);
	if ((s = find(eng, id, e)) != NULL)
		s->touched = util_mono();	/* its client is still there */
	if (s == NULL ||
	    session_transition(s->status, SESSION_IN_PROGRESS, e) != 0)
		goto fail;
	s->start_at = start_at;
	/* Recorders given the same instant and frequency recorded the same
	 * transmission: without a group of its own, the session gets the one
	 * they all derive alike (issue 16), "at:<instant>:<Hz>". */
	if (start_at > 0 && s->p.group[0] == '\0') {
		time_t		tt = (time_t)floor(start_at);
		struct tm	tm;
		char		stamp[32];
		gmtime_r(&tt, &tm);
		strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
		snprintf(s->p.group, sizeof s->p.group, "at:%s.%03dZ:%lld",
		    stamp, (int)((start_at - floor(start_at)) * 1000),
		    (long long)llround(s->p.freq_hz));
	}
	/* First come, first served: nobody overtakes the queue. */
	if (eng->active < eng->cfg.max_active && eng->qhead == NULL) {
		if (launch(eng, s, 0, e) != 0)
			goto fail;
	} else if (eng->nqueued >= eng->cfg.queue_max) {
		session_error_set(e, "busy", "session_id", "the acquisition "
		    "queue is full (%d sessions wait behind the one acquiring): "
		    "try again when one ends", eng->nqueued);
		goto fail;
	} else {
		s->status = SESSION_IN_PROGRESS;
		queue_append(eng, s);
	}
	pos = s->qpos;
	s->saying_start = 1;	/* the end waits for what follows */
	pthread_mutex_unlock(&eng->lock);

	save_manifest(eng, s);
	{
		json_t *d = json_pack("{s:s, s:s, s:s, s:i, s:i}",
		    "session_id", s->id, "task_id", s->id, "status",
		    "in_progress", "chunks", session_total_chunks(&s->p),
		    "queue_position", pos);
		if (start_at > 0) {
			char iso[40];
			util_iso8601(start_at, iso, sizeof iso);
			json_object_set_new(d, "start_at", json_string(iso));
		}
		events_emit(eng->cfg.ev, "session:completed", d);
	}
	say_status(eng, s);
	pthread_mutex_lock(&eng->lock);
	s->saying_start = 0;
	pthread_cond_broadcast(&eng->done);
	pthread_mutex_unlock(&eng->lock);
	return 0;
fail:
	pthread_mutex_unlock(&eng->lock);
	return -1;
}

int
engine_session_cancel(struct engine *eng, const char *id, const char *reason,
    struct session_error *e)
{
	struct sess	*s;
	json_t		*moved = NULL;

	pthread_mutex_lock(&eng->lock);
	if ((s = find(eng, id, e)) == NULL ||
	    session_transition(s->status, SESSION_FAILED, e) != 0) {
		pthread_mutex_unlock(&eng->lock);
		return -1;
	}
	if (s->acq != NULL) {
		pthread_mutex_lock(&s->acq->lock);
		if (!s->acq->cancel) {
			s->acq->cancel = 1;
			snprintf(s->acq->cancel_reason,
			    sizeof s->acq->cancel_reason, "cancelled: %s",
			    reason != NULL ? reason : "by request");
		}
		pthread_cond_signal(&s->acq->cond);
		pthread_mutex_unlock(&s->acq->lock);
		pthread_mutex_unlock(&eng->lock);
		return 0;
	}
	/* Not acquiring (yet, or queued: then it leaves the queue and
	 * never acquires): it simply ends. */
	if (s->qpos > 0) {
		queue_remove(eng, s);
		moved = queue_renumber(eng);
	}
	fail_unacquired(s, "cancelled: %s", reason != NULL ? reason :
	    "by request");
	pthread_mutex_unlock(&eng->lock);
	end_unacquired(eng, s);
	if (moved != NULL)
		emit_all(eng, "session:status_update", moved);
	return 0;
}

/*
 * Pause/resume. The session's time line is the host clock plus the GPS
 * receivers' median offset (0 without GPS): chunk k covers [t0 + k*L,
 * t0 + (k+1)*L) on it (L the chunk length, s). Before the origin is known, a pause covers every
 * chunk and a resume gives every chunk back (none has begun).
 */
int
engine_session_pause(struct engine *eng, const char *id, int paused,
    struct session_error *e)
{
	struct sess	*s;
	struct acq	*a;
	double		 now;
	int		 k, from;
	json_t		*d;

	pthread_mutex_lock(&eng->lock);
	if ((s = find(eng, id, e)) == NULL) {
		pthread_mutex_unlock(&eng->lock);
		return -1;
	}
	if (eng->cfg.replay) {
		pthread_mutex_unlock(&eng->lock);
		return session_error_set(e, "invalid", "",
		    "an import (replay) cannot be paused");
	}
	if (s->status != SESSION_IN_PROGRESS || (a = s->acq) == NULL ||
	    s->summary != NULL) {
		pthread_mutex_unlock(&eng->lock);
		return session_error_set(e, "bad_state", "session_id",
		    "session %s is not acquiring (status %s%s): only an "
		    "acquisition can be %s", id,
		    session_status_name(s->status), s->qpos > 0 ?
		    ", queued" : "", paused ? "paused" : "resumed");
	}
	pthread_mutex_lock(&a->lock);
	if (a->cancel || all_accounted(a)) {
		pthread_mutex_unlock(&a->lock);
		pthread_mutex_unlock(&eng->lock);
		return session_error_set(e, "bad_state", "session_id",
		    "session %s is ending: nothing left to %s", id,
		    paused ? "pause" : "resume");
	}
	if (a->paused == !!paused) {
		pthread_mutex_unlock(&a->lock);
		pthread_mutex_unlock(&eng->lock);
		return session_error_set(e, "bad_state", "session_id",
		    "session %s is %s", id, paused ? "already paused" :
		    "not paused");
	}
	now = util_now() + a->clk_off;
	if (paused) {
		/* every chunk not ended at now: floor((now - t0) / L) on */
		from = a->has_origin ? (int)fmax(0, fmin(a->total,
		    floor((now - a->t0) / a->len_s))) : 0;
		for (k = from; k < a->total; k++)
			a->pz[k] = 1;
		a->paused = 1;
		a->pause_from = now;
		d = json_pack("{s:s, s:i, s:f}", "session_id", id,
		    "chunk_index", from, "at", now);
	} else {
		/* every chunk starting at or after now: ceil((now - t0) / L)
		 * on */
		from = a->has_origin ? (int)fmax(0, fmin(a->total,
		    ceil((now - a->t0) / a->len_s))) : 0;
		for (k = from; k < a->total; k++)
			a->pz[k] = 0;
		a->paused = 0;
		d = json_pack("{s:s, s:i, s:f, s:f}", "session_id", id,
		    "chunk_index", from, "at", now, "pause_seconds",
		    now - a->pause_from);
	}
	/* the supervisor's deadlines change (paused chunks are not
	 * awaited): wake the worker */
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->lock);
	pthread_mutex_unlock(&eng->lock);
	events_emit(eng->cfg.ev, paused ? "session:paused" :
	    "session:resumed", d);
	return 0;
}

int
engine_session_wait(struct engine *eng, const char *id)
{
	struct sess	*s;
	struct session_error e;
	int		 st;

	pthread_mutex_lock(&eng->lock);
	if ((s = find(eng, id, &e)) == NULL) {
		pthread_mutex_unlock(&eng->lock);
		return -1;
	}
	/* ended, not just final: the session's last event has been
	 * delivered to every subscriber when this returns. */
	while (!s->ended)
		pthread_cond_wait(&eng->done, &eng->lock);
	st = s->status;
	pthread_mutex_unlock(&eng->lock);
	return st;
}

/* ---- snapshots and the manifest ---- */

/* acq->lock held (or the acquisition is over). */
static json_t *
station_json(struct rxrt *r)
{
	json_t	*o;

	o = json_pack("{s:i, s:s, s:s, s:s, s:f, s:f, s:s, s:s, s:i, s:i}",
	    "websdr", r->st->index, "name", r->st->name, "type", r->st->type,
	    "url", r->st->url, "latitude", r->st->latitude,
	    "longitude", r->st->longitude, "state", rx_state_name(r->state),
	    "reason", r->reason, "chunks_ok", r->ok,
	    "chunks_missing", r->missing);
	with_altitude(o, r->st);
	json_object_set_new(o, "chunks_paused", json_integer(r->paused));
	json_object_set_new(o, "sample_rate", r->fs > 0 ? json_real(r->fs) :
	    json_null());
	if (r->pos_valid) {
		/* where the receiver says it is (the file's may be rough) */
		json_object_set_new(o, "published_latitude",
		    json_real(r->pub_lat));
		json_object_set_new(o, "published_longitude",
		    json_real(r->pub_lon));
	}
	if (r->clk_n > 0)
		/* its GPS time minus the host clock */
		json_object_set_new(o, "clock_offset_s", json_real(r->clk));
	if (r->last != NULL)
		json_object_set(o, "last", r->last);
	return o;
}

static json_t *
manifest_build(struct engine *eng, struct sess *s)
{
	json_t	*m, *ses, *stations;
	char	 now[40];
	int	 i;

	util_iso8601(util_now(), now, sizeof now);
	pthread_mutex_lock(&eng->lock);
	ses = json_object();
	json_object_set_new(ses, "id", json_string(s->id));
	json_object_set_new(ses, "session_name", json_string(s->p.name));
	json_object_set_new(ses, "frequency_hz",
	    json_integer((json_int_t)llround(s->p.freq_hz)));
	json_object_set_new(ses, "frequency_mhz", json_real(s->p.freq_hz / 1e6));
	json_object_set_new(ses, "duration_seconds",
	    json_integer(s->p.duration_s));
	json_object_set_new(ses, "chunk_ms", json_integer(s->p.chunk_ms));
	json_object_set_new(ses, "notes", json_string(s->p.notes));
	json_object_set_new(ses, "group_id", s->p.group[0] ?
	    json_string(s->p.group) : json_null());
	if (s->start_at > 0) {
		/* a coordinated start: chunk 0 began exactly then */
		char at[40];
		util_iso8601(s->start_at, at, sizeof at);
		json_object_set_new(ses, "start_at", json_string(at));
	}
	/* who recorded it, as it was then (a later sync, from anywhere,
	 * sends this and not its own host name); a host name that is not
	 * UTF-8 text is left out */
	if (eng->host[0] != '\0' && util_text_check(eng->host, 0) ==
	    UTIL_TEXT_OK)
		json_object_set_new(ses, "recorder_host",
		    json_string(eng->host));
	json_object_set_new(ses, "status",
	    json_string(session_status_name(s->status)));
	json_object_set_new(ses, "known_source_id", s->source_id[0] ?
	    json_string(s->source_id) : json_null());
	json_object_set_new(ses, "source_name", s->source_name[0] ?
	    json_string(s->source_name) : json_null());
	json_object_set_new(ses, "session_start", json_string(s->created_at));
	json_object_set_new(ses, "session_end", s->session_end[0] ?
	    json_string(s->session_end) : json_null());
	json_object_set_new(ses, "created_at", json_string(s->created_at));
	json_object_set_new(ses, "updated_at", json_string(now));
	json_object_set_new(ses, "passband_low_hz", json_integer(s->p.low_cut));
	json_object_set_new(ses, "passband_high_hz",
	    json_integer(s->p.high_cut));
	json_object_set_new(ses, "failure_reason", s->failure_reason[0] ?
	    json_string(s->failure_reason) : json_null());
	json_object_set_new(ses, "approval_status", json_string("pending"));
	if (s->warning[0] != '\0')
		json_object_set_new(ses, "warning", json_string(s->warning));

	stations = json_array();
	if (s->acq != NULL && s->summary == NULL) {
		pthread_mutex_lock(&s->acq->lock);
		json_decref(stations);
		stations = stations_json(eng, s, s->acq);
		pthread_mutex_unlock(&s->acq->lock);
	} else if (s->summary != NULL) {
		json_array_extend(stations,
		    json_object_get(s->summary, "stations"));
	} else {
		for (i = 0; i < eng->cfg.stations->n; i++) {
			const struct station *st = &eng->cfg.stations->v[i];
			if (s->out != NULL && s->out[i]) {
				char why[160];
				session_station_takes(st, s->p.freq_hz, why,
				    sizeof why);
				json_array_append_new(stations,
				    left_out_json(st, why));
				continue;
			}
			json_array_append_new(stations, with_altitude(
			    json_pack("{s:i, s:s, s:s, s:s, s:f, s:f, s:n, "
			    "s:s, s:s, s:i, s:i}", "websdr", st->index, "name",
			    st->name, "type", st->type, "url", st->url,
			    "latitude", st->latitude, "longitude",
			    st->longitude, "sample_rate", "state", "idle",
			    "reason", "", "chunks_ok", 0, "chunks_missing", 0),
			    st));
		}
	}
	m = json_pack("{s:s, s:o, s:o}", "format", "heimdall-rec/1",
	    "session", ses, "stations", stations);
	if (s->acq != NULL && s->acq->loc != NULL) {
		/* TDoA and fix rows (locate.h): derived from the chunks,
		 * kept in memory and written with the manifest. */
		json_t *tdoa, *fixes, *fix;
		locate_rows(s->acq->loc, &tdoa, &fixes, &fix);
		json_object_set_new(m, "tdoa", tdoa);
		json_object_set_new(m, "fixes", fixes);
		json_decref(fix);
	}
	if (s->summary != NULL) {
		json_object_set(m, "summary", s->summary);
		json_object_set(m, "missing",
		    json_object_get(s->summary, "missing"));
	} else
		json_object_set_new(m, "missing", json_array());
	pthread_mutex_unlock(&eng->lock);
	return m;
}

json_t *
engine_session_snapshot(struct engine *eng, const char *id)
{
	struct sess	*s;
	struct session_error e;
	json_t		*d, *stations;

	pthread_mutex_lock(&eng->lock);
	if ((s = find(eng, id, &e)) == NULL) {
		pthread_mutex_unlock(&eng->lock);
		return NULL;
	}
	d = status_data(s);
	if (s->acq != NULL && s->summary == NULL) {
		struct acq *a = s->acq;
		pthread_mutex_lock(&a->lock);
		stations = stations_json(eng, s, a);
		json_object_set_new(d, "chunk", json_integer(a->progress));
		json_object_set_new(d, "total_chunks", json_integer(a->total));
		json_object_set_new(d, "measurements_count",
		    json_integer(a->measurements));
		json_object_set_new(d, "acquisition_started",
		    json_real(a->t_start));
		json_object_set_new(d, "paused", json_boolean(a->paused));
		pthread_mutex_unlock(&a->lock);
		json_object_set_new(d, "stations", stations);
	}
	if (s->acq != NULL && s->acq->loc != NULL) {
		/* localization: the latest chunk's session:fix, and the
		 * session fix once it is done (locate's lock only) */
		json_t *f = locate_latest_fix(s->acq->loc, 0);
		if (f != NULL)
			json_object_set_new(d, "latest_fix", f);
		if ((f = locate_latest_fix(s->acq->loc, 1)) != NULL)
			json_object_set_new(d, "session_fix", f);
	}
	pthread_mutex_unlock(&eng->lock);
	return d;
}

json_t *
engine_sessions(struct engine *eng)
{
	struct sess	*s;
	json_t		*arr = json_array();

	pthread_mutex_lock(&eng->lock);
	for (s = eng->sessions; s != NULL; s = s->next)
		json_array_append_new(arr, status_data(s));
	pthread_mutex_unlock(&eng->lock);
	return arr;
}

int
engine_probe(struct engine *eng, const struct session_params *p,
    double timeout, struct probe_result *out)
{
	return probe_accepting(eng->cfg.loop, eng->cfg.stations, p, timeout,
	    out);
}
