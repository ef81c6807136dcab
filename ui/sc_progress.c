/* sc_progress.c -- Progress and Complete; see sc_progress.h. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/lazycurses.h"	/* <curses.h>, loaded on first use */

#include "ui/cstate.h"
#include "ui/sc_config.h"
#include "ui/sc_grid.h"
#include "ui/sc_history.h"
#include "ui/sc_progress.h"
#include "src/engine/config.h"
#include "src/engine/engine.h"
#include "src/engine/session.h"

/* ---- acquisition ---- */

static struct row *row_of(struct con *, const json_t *);

void
rows_free(struct row *rows, int n)
{
	int	i;

	for (i = 0; rows != NULL && i < n; i++)
		free(rows[i].spec);
	free(rows);
}

void
progress_reset(struct con *c)
{
	const struct stations	*st = c->cfg->stations;
	int			 i;

	rows_free(c->rows, c->nrows);
	c->nrows = st->n;
	c->rows = calloc((size_t)st->n > 0 ? (size_t)st->n : 1,
	    sizeof *c->rows);
	for (i = 0; c->rows != NULL && i < st->n; i++) {
		c->rows[i].websdr = st->v[i].index;
		snprintf(c->rows[i].name, sizeof c->rows[i].name, "%s",
		    st->v[i].name);
		snprintf(c->rows[i].state, sizeof c->rows[i].state, "waiting");
		c->rows[i].miss_seq = -1;
	}
	if (c->rows == NULL)
		c->nrows = 0;
	c->table_top = 0;
	c->log_back = 0;
	c->found = 0;
	c->t_acq = 0;
	c->stored = 0;
	memset(&c->grid, 0, sizeof c->grid);
	c->reasons.n = 0;
	c->view = PV_TABLE;
}

/* session:spectrum: the station's passband in that chunk. */
static void
apply_spectrum(struct con *c, const json_t *d)
{
	struct row	*r = row_of(c, d);
	long long	 ci = jint(d, "chunk_index");
	const json_t	*b = json_object_get(d, "bins");
	double		 v;
	size_t		 i;

	if (r == NULL || ci < 0 || ci >= NCHUNK ||
	    json_array_size(b) != ENGINE_SPECTRUM_BINS)
		return;
	if (r->spec == NULL &&
	    (r->spec = calloc(NCHUNK, sizeof *r->spec)) == NULL)
		return;
	for (i = 0; i < ENGINE_SPECTRUM_BINS; i++) {
		v = json_number_value(json_array_get(b, i));
		r->spec[ci][i] = isfinite(v) ? (float)v : -200;
	}
	if (!jnum(d, "offset_hz", &v))
		v = 0;
	r->spec_off[ci] = (float)v;
	if (jnum(d, "low_hz", &v))
		r->spec_lo = v;
	if (jnum(d, "high_hz", &v))
		r->spec_hi = v;
	r->has_spec[ci] = 1;
}

static struct row *
row_of(struct con *c, const json_t *d)
{
	long long	k = jint(d, "websdr");

	if (k < 1 || k > c->nrows || c->rows[k - 1].websdr != k)
		return NULL;
	return &c->rows[k - 1];
}

void
progress_resync(struct con *c)
{
	json_t	*snap, *st;
	size_t	 i;
	struct row *r;

	if (c->id[0] == '\0' ||
	    (snap = engine_session_snapshot(c->cfg->eng, c->id)) == NULL)
		return;
	if (json_object_get(snap, "chunk") != NULL) {
		c->chunk = (int)jint(snap, "chunk");
		c->measurements = (int)jint(snap, "measurements_count");
	}
	json_array_foreach(json_object_get(snap, "stations"), i, st) {
		if ((r = row_of(c, st)) == NULL)
			continue;
		snprintf(r->state, sizeof r->state, "%s", jstr(st, "state"));
		snprintf(r->reason, sizeof r->reason, "%s", jstr(st, "reason"));
		r->ok = (int)jint(st, "chunks_ok");
		r->miss = (int)jint(st, "chunks_missing");
	}
	json_decref(snap);
	con_log(c, "display fell behind; state re-read from the engine");
}

int
progress_follow(struct con *c, const char *sid, double start_at)
{
	json_t		*snap, *st;
	struct row	*r;
	const char	*status;
	size_t		 i;
	double		 v;

	if ((snap = engine_session_snapshot(c->cfg->eng, sid)) == NULL)
		return -1;
	status = jstr(snap, "status");
	if (strcmp(status, "completed") == 0 || strcmp(status, "failed") == 0) {
		json_decref(snap);
		return -1;
	}
	/* Fresh state, as step 3 makes for the operator's own session; what
	 * happened before this (its start, the receivers connecting) is
	 * read from the engine, as after a queue overflow. */
	progress_reset(c);
	session_params_init(&c->p);
	snprintf(c->p.name, sizeof c->p.name, "%s", jstr(snap, "session_name"));
	snprintf(c->p.notes, sizeof c->p.notes, "%s", jstr(snap, "notes"));
	snprintf(c->p.group, sizeof c->p.group, "%s", jstr(snap, "group_id"));
	c->p.freq_hz = jnum(snap, "frequency_hz", &v) ? v : 0;
	c->p.duration_s = (int)jint(snap, "duration_seconds");
	/* the schedule's chunk length (the snapshot says it) */
	if (jint(snap, "chunk_ms") > 0)
		c->p.chunk_ms = (int)jint(snap, "chunk_ms");
	snprintf(c->id, sizeof c->id, "%s", sid);
	snprintf(c->source_name, sizeof c->source_name, "%s",
	    jstr(snap, "source_name")[0] ? jstr(snap, "source_name") :
	    "Unknown");
	c->total = session_total_chunks(&c->p);
	c->chunk = (int)jint(snap, "chunk");
	c->measurements = (int)jint(snap, "measurements_count");
	c->acquiring = 1;
	c->paused = json_is_true(json_object_get(snap, "paused"));
	c->qpos = (int)jint(snap, "queue_position");
	c->start_at = c->qpos > 0 ? 0 : start_at;
	json_decref(c->final);
	c->final = NULL;
	snprintf(c->status, sizeof c->status, "recording");
	locpanel_reset(&c->lp, c->id);
	json_array_foreach(json_object_get(snap, "stations"), i, st) {
		if ((r = row_of(c, st)) == NULL)
			continue;
		snprintf(r->state, sizeof r->state, "%s", jstr(st, "state"));
		snprintf(r->reason, sizeof r->reason, "%s", jstr(st, "reason"));
		if (strcmp(r->reason, r->state) == 0)
			r->reason[0] = '\0';
	}
	c->t_chunk = mono();
	c->t_acq = c->qpos == 0 ? mono() : 0;
	con_log(c, "following the scheduled session \"%s\" (%s)%s", c->p.name,
	    c->id, c->qpos > 0 ? ": queued behind a running session" : "");
	json_decref(snap);
	c->sc = SC_PROGRESS;
	c->force = 1;
	return 0;
}

static void
apply_measurement(struct con *c, const json_t *d)
{
	struct row	*r = row_of(c, d);
	long long	 ci = jint(d, "chunk_index");

	if (r == NULL)
		return;
	r->has_snr = jnum(d, "snr_db", &r->snr);
	r->has_sig = jnum(d, "signal_strength_db", &r->sig);
	r->has_noise = jnum(d, "noise_floor_db", &r->noise);
	r->has_off = jnum(d, "frequency_offset_hz", &r->off);
	r->has_rssi = jnum(d, "rssi_dbm", &r->rssi);
	r->ok++;
	if (ci >= 0 && ci < NCHUNK) {
		r->cst[ci] = WG_SPARK_OK;
		r->hist[ci] = r->has_snr ? r->snr : NAN;
	}
}

/* One log line per run of missing chunks of a station (same reason,
 * consecutive chunks): "Sim 2: chunks 3-7 missing - stalled", updated
 * in place while the run grows, so a stalled station does not flood the
 * log. */
static void
log_missing(struct con *c, struct row *r, int ci, const char *reason)
{
	if (r->miss_seq >= 0 && ci == r->miss_last + 1 &&
	    strncmp(reason, r->miss_reason, sizeof r->miss_reason - 1) == 0 &&
	    c->log_seq - r->miss_seq <= c->log_n) {
		r->miss_last = ci;
		con_log_rewrite(c, r->miss_seq, "%s: chunks %d-%d missing - %s",
		    r->name, r->miss_first + 1, r->miss_last + 1, reason);
		return;
	}
	r->miss_seq = c->log_seq;
	r->miss_first = r->miss_last = ci;
	snprintf(r->miss_reason, sizeof r->miss_reason, "%s", reason);
	con_log(c, "%s: chunk %d missing - %s", r->name, ci + 1, reason);
}

/* The session ended: the chunks really stored (a cancelled session's bar
 * shows them, not the engine's last progress count) and each station's
 * outcome in the vocabulary of the session's (never "streaming" any
 * more). */
static void
rows_final(struct con *c, const json_t *d)
{
	const json_t	*sum = json_object_get(d, "summary"), *st;
	struct row	*r;
	size_t		 i;
	int		 j, k, miss;

	c->stored = 0;
	for (j = 0; j < c->total && j < NCHUNK; j++)
		for (k = 0; k < c->nrows; k++)
			if (c->rows[k].cst[j] == WG_SPARK_OK) {
				c->stored++;
				break;
			}
	json_array_foreach(json_object_get(sum, "stations"), i, st) {
		if ((r = row_of(c, st)) == NULL)
			continue;
		r->ok = (int)jint(st, "chunks_ok");
		r->miss = (int)jint(st, "chunks_missing");
		if (json_object_get(st, "reason") != NULL)
			snprintf(r->reason, sizeof r->reason, "%s",
			    jstr(st, "reason"));
	}
	for (k = 0; k < c->nrows; k++) {
		r = &c->rows[k];
		if (strcmp(r->state, "excluded") == 0)
			continue;	/* left out (frequency, operator):
					   owed none */
		/* Chunks never reached (a cancel) are missing too. */
		miss = c->total - r->ok;
		if (miss < r->miss)
			miss = r->miss;
		if (r->ok == 0)
			snprintf(r->state, sizeof r->state, "failed");
		else
			session_outcome_text("completed", miss, r->state,
			    sizeof r->state);
		if (strcmp(r->reason, r->state) == 0 ||
		    strcmp(r->reason, "streaming") == 0)
			r->reason[0] = '\0';
	}
}

void
progress_event(struct con *c, const char *name, const json_t *d)
{
	struct row	*r;
	const char	*st, *sid;
	long long	 ci;

	/* The queue moves with any session's steps (a WebSocket client may
	 * queue behind us, or we behind it). */
	if (strcmp(name, "session:status_update") == 0 ||
	    strcmp(name, "session:completed") == 0) {
		c->nqueued = engine_queued(c->cfg->eng);
		c->dirty = 1;
	}
	/* Only our session: a WebSocket client may drive others.
	 * Measurement rows name it with their column name. */
	sid = json_object_get(d, "session_id") != NULL ?
	    jstr(d, "session_id") : jstr(d, "recording_session_id");
	if (c->id[0] == '\0' || strcmp(sid, c->id) != 0)
		return;
	c->dirty = 1;
	if (locpanel_event(&c->lp, name, d)) {
		/* The session fix also goes to the log (it outlives the
		 * screen there). */
		if (c->lp.final.seen && json_is_true(json_object_get(d,
		    "final"))) {
			char fl[1][LP_LINE];
			locpanel_lines(&c->lp, 1, 200, 1, c->th.utf8, fl);
			con_log(c, "end of session: %s", fl[0]);
		}
		return;
	}
	if (strcmp(name, "session:started") == 0)
		con_log(c, "session \"%s\" created (%s)", jstr(d, "session_name"),
		    c->id);
	else if (strcmp(name, "session:source_assigned") == 0)
		con_log(c, "source: %s", jstr(d, "source_name"));
	else if (strcmp(name, "session:completed") == 0) {
		c->total = (int)jint(d, "chunks");
		c->t_chunk = mono();
		c->qpos = (int)jint(d, "queue_position");
		if (c->qpos == 0)
			c->t_acq = mono();
		if (c->qpos > 0)
			con_log(c, "queued: position %d, another session is "
			    "acquiring", c->qpos);
		else {
			int k, n = 0;	/* left out ones acquire nothing */
			for (k = 0; k < c->nrows; k++)
				n += strcmp(c->rows[k].state, "excluded") != 0;
			con_log(c, "acquiring %d chunks from %d stations",
			    c->total, n);
		}
	} else if (strcmp(name, "receiver:status") == 0) {
		if ((r = row_of(c, d)) == NULL)
			return;
		snprintf(r->state, sizeof r->state, "%s", jstr(d, "state"));
		snprintf(r->reason, sizeof r->reason, "%s", jstr(d, "reason"));
		if (strcmp(r->reason, r->state) == 0)
			r->reason[0] = '\0';
		con_log(c, "%s: %s%s%s", r->name, r->state,
		    r->reason[0] ? " - " : "", r->reason);
	} else if (strcmp(name, "session:measurement") == 0)
		apply_measurement(c, d);
	else if (strcmp(name, "session:spectrum") == 0)
		apply_spectrum(c, d);
	else if (strcmp(name, "session:missing") == 0) {
		if ((r = row_of(c, d)) == NULL)
			return;
		ci = jint(d, "chunk_index");
		r->miss++;
		if (ci >= 0 && ci < NCHUNK) {
			r->cst[ci] = WG_SPARK_MISSING;
			r->why[ci] = (unsigned char)reasons_add(&c->reasons,
			    jstr(d, "reason"));
		}
		log_missing(c, r, (int)ci, jstr(d, "reason"));
	} else if (strcmp(name, "session:progress") == 0) {
		c->chunk = (int)jint(d, "chunk");
		c->total = (int)jint(d, "total_chunks");
		c->measurements = (int)jint(d, "measurements_count");
		c->t_chunk = mono();
		con_log(c, "chunk %d/%d settled, %d measurements", c->chunk,
		    c->total, c->measurements);
	} else if (strcmp(name, "session:error") == 0) {
		con_log(c, "error: %s", jstr(d, "error"));
	} else if (strcmp(name, "session:preflight") == 0) {
		con_log(c, "pre-flight for %s: %zu ready, %zu not ready",
		    jstr(d, "start_at"), json_array_size(json_object_get(d,
		    "ready")), json_array_size(json_object_get(d,
		    "not_ready")));
	} else if (strcmp(name, "session:clock") == 0) {
		con_log(c, "clock: %s", jstr(d, "message"));
	} else if (strcmp(name, "session:status_update") == 0) {
		st = jstr(d, "status");
		snprintf(c->status, sizeof c->status, "%s", st);
		if (strcmp(st, "in_progress") == 0 &&
		    (int)jint(d, "queue_position") != c->qpos) {
			c->qpos = (int)jint(d, "queue_position");
			c->t_chunk = mono();
			if (c->qpos == 0)
				c->t_acq = mono();
			if (c->qpos > 0)
				con_log(c, "queued: position %d", c->qpos);
			else
				con_log(c, "acquiring %d chunks from %d stations "
				    "(was queued)", c->total, c->nrows);
		}
		if (strcmp(st, "completed") == 0 || strcmp(st, "failed") == 0) {
			json_decref(c->final);
			c->final = json_deep_copy(d);
			memcpy(c->last_id, c->id, sizeof c->last_id);
			c->acquiring = 0;
			rows_final(c, d);
			if (c->sc == SC_PROGRESS) {
				c->sc = SC_COMPLETE;
				c->force = 1;
			}
			if (c->modal == MO_CANCEL)
				c->modal = MO_NONE;
			{
				char w[64];
				session_outcome_text(st, jint(json_object_get(d,
				    "summary"), "chunks_missing"), w, sizeof w);
				con_log(c, "session %s%s%s", w,
				    json_object_get(d, "error") ? ": " : "",
				    jstr(d, "error"));
			}
		}
	}
}

static int
loc_rows(const struct con *c)
{
	/* The completion screen's summary is taller: 80x24 keeps 3 lines,
	 * 60x20 one, so that 7 stations' rows still show. */
	if (c->sc == SC_COMPLETE)
		return LINES >= 24 ? 3 : LINES >= 22 ? 2 : 1;
	return LINES >= 22 ? 3 : LINES >= 18 ? 2 : 1;
}

/* 1 if the session had localization events (the completion screen shows
 * its session fix). */
static int
loc_seen(const struct con *c)
{
	return c->lp.fix.seen || c->lp.final.seen || c->lp.tdoa_chunk >= 0;
}

/* The colour of an outcome: complete green, partial yellow, failed red. */
static unsigned int
outcome_attr(const struct con *c, enum session_outcome o)
{
	switch (o) {
	case SESSION_OUTCOME_COMPLETE:
		return c->th.ok;
	case SESSION_OUTCOME_PARTIAL:
		return c->th.warn;
	case SESSION_OUTCOME_FAILED:
		return c->th.bad;
	default:
		return 0;
	}
}

static enum session_outcome
final_outcome(const struct con *c)
{
	const json_t	*sum = json_object_get(c->final, "summary");

	return session_outcome(jstr(c->final, "status"),
	    jint(sum, "chunks_missing"));
}

/* "5 ok, 1 failed, 1 retrying": the table in one line (zero counts left
 * out). While acquiring a station is ok when streaming; once ended the
 * stations' outcomes are counted. */
static void
table_counts(const struct con *c, char *buf, size_t len)
{
	static const char *words[] = { "ok", "complete", "partial", "failed",
	    "retrying", "connecting", "waiting", "excluded" };
	int	n[8] = { 0 }, i, k;
	size_t	off = 0;

	for (i = 0; i < c->nrows; i++) {
		const char *st = c->rows[i].state;
		if (strcmp(st, "streaming") == 0)
			k = 0;
		else if (strcmp(st, "complete") == 0)
			k = 1;
		else if (strncmp(st, "partial", 7) == 0)
			k = 2;
		else if (strcmp(st, "failed") == 0)
			k = 3;
		else if (strcmp(st, "retrying") == 0)
			k = 4;
		else if (strcmp(st, "connecting") == 0)
			k = 5;
		else if (strcmp(st, "excluded") == 0)
			k = 7;
		else
			k = 6;
		n[k]++;
	}
	buf[0] = '\0';
	for (k = 0; k < 8; k++)
		if (n[k] > 0 && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%d %s",
			    off > 0 ? ", " : "", n[k], words[k]);
}

/* The summary's missing chunks, grouped by station in runs:
 * "2 Sim 2: 3-8, 10 (stalled); 5 Sim 5: 4". Chunk numbers count from 1,
 * as "Chunk k/N" does. */
static void
missing_text(const struct con *c, const json_t *sum, char *buf, size_t len)
{
	const json_t	*m;
	const char	**why;
	unsigned char	*mk;
	size_t		 i, off = 0;
	long long	 k, ci;
	int		 j, first, any;

	buf[0] = '\0';
	if (c->nrows == 0)
		return;
	/* One pass over the list (it may hold stations x chunks entries):
	 * a mark per station and chunk, the first reason per station. */
	mk = calloc((size_t)c->nrows * NCHUNK, 1);
	why = calloc((size_t)c->nrows, sizeof *why);
	if (mk == NULL || why == NULL) {
		free(mk);
		free(why);
		return;
	}
	json_array_foreach(json_object_get(sum, "missing"), i, m) {
		k = jint(m, "websdr");
		ci = jint(m, "chunk_index");
		if (k < 1 || k > c->nrows || c->rows[k - 1].websdr != k ||
		    ci < 0 || ci >= NCHUNK)
			continue;
		mk[(k - 1) * NCHUNK + ci] = 1;
		if (why[k - 1] == NULL)
			why[k - 1] = jstr(m, "reason");
	}
	for (k = 0; k < c->nrows && off + 1 < len; k++) {
		any = 0;
		for (j = 0; j < NCHUNK && off + 1 < len; j++) {
			if (!mk[k * NCHUNK + j])
				continue;
			for (first = j; j + 1 < NCHUNK &&
			    mk[k * NCHUNK + j + 1]; j++)
				;
			if (!any)
				off += (size_t)snprintf(buf + off, len - off,
				    "%s%d %s: ", off > 0 ? "; " : "",
				    c->rows[k].websdr, c->rows[k].name);
			else
				off += (size_t)snprintf(buf + off, len - off,
				    ", ");
			if (off + 1 < len)
				off += (size_t)(first == j ? snprintf(buf + off,
				    len - off, "%d", first + 1) : snprintf(buf +
				    off, len - off, "%d-%d", first + 1, j + 1));
			any = 1;
		}
		if (any && why[k] != NULL && why[k][0] != '\0' && off + 1 < len)
			off += (size_t)snprintf(buf + off, len - off, " (%s)",
			    why[k]);
	}
	free(mk);
	free(why);
}

/* Lines of the completion summary under the table (its rule included). */
static int
summary_rows(const struct con *c)
{
	const json_t *sum = json_object_get(c->final, "summary");

	return 7 + (loc_seen(c) ? loc_rows(c) : 0) +
	    (json_array_size(json_object_get(sum, "missing")) > 0);
}

/* The end of a session, under its final table: status, chunks, the
 * missing chunks, the session fix, where the data went. */
static int
draw_summary(struct con *c, int y)
{
	char		 buf[1024], part[1024], word[64];
	const json_t	*d = c->final, *sum;
	int		 w = COLS, lx = 2, vx = 18;
	size_t		 off, n, k;
	enum session_outcome o;

	if (d == NULL)
		return y;
	sum = json_object_get(d, "summary");
	o = final_outcome(c);
	/* One vocabulary (session_outcome): a session with chunks missing
	 * is "partial", never "complete" in green. */
	session_outcome_text(jstr(d, "status"), jint(sum, "chunks_missing"),
	    word, sizeof word);
	snprintf(buf, sizeof buf, "Session %s", o == SESSION_OUTCOME_PARTIAL ?
	    "partial" : word);
	wg_rule(stdscr, &c->th, y++, 0, w, buf);
	if (o == SESSION_OUTCOME_FAILED)
		snprintf(buf, sizeof buf, "failed: %s", jstr(d, "error"));
	else
		snprintf(buf, sizeof buf, "%s", word);
	wg_put(stdscr, y, lx, vx - lx, c->th.label, "Status");
	wg_put(stdscr, y++, vx, w - vx - 1, outcome_attr(c, o), buf);
	snprintf(buf, sizeof buf, "%lld of %lld stored, %lld missing "
	    "(%lld measurements)", jint(sum, "chunks_stored"),
	    jint(sum, "chunks_expected"), jint(sum, "chunks_missing"),
	    jint(sum, "measurements_count"));
	wg_put(stdscr, y, lx, vx - lx, c->th.label, "Chunks");
	wg_put(stdscr, y++, vx, w - vx - 1, jint(sum, "chunks_missing") > 0 ?
	    c->th.warn : 0, buf);
	if (json_array_size(json_object_get(sum, "missing")) > 0) {
		missing_text(c, sum, part, sizeof part);
		wg_fit(part, w - vx - 1, 0, c->th.utf8, buf, sizeof buf);
		wg_put(stdscr, y, lx, vx - lx, c->th.label, "Missing");
		wg_put(stdscr, y++, vx, w - vx - 1, c->th.warn, buf);
	}
	if (loc_seen(c)) {
		char	ll[3][LP_LINE];
		int	n = locpanel_lines(&c->lp, 1, w - vx - 1, loc_rows(c),
			    c->th.utf8, ll), i;
		wg_put(stdscr, y, lx, vx - lx, c->th.label, "Session fix");
		for (i = 0; i < n; i++)
			wg_put(stdscr, y++, vx, w - vx - 1, i == 0 &&
			    !c->lp.final.ok ? c->th.warn : 0, ll[i]);
	}
	/* The path in full, over as many lines as it needs. */
	snprintf(buf, sizeof buf, "%s/sessions/%s/", c->cfg->data_dir, c->id);
	wg_put(stdscr, y, lx, vx - lx, c->th.label, "Dataset");
	for (off = 0, n = strlen(buf); off < n && y < LINES - 2; off += k) {
		k = n - off < (size_t)(w - vx - 1) ? n - off :
		    (size_t)(w - vx - 1);
		memcpy(part, buf + off, k);
		part[k] = '\0';
		wg_put(stdscr, y++, vx, w - vx - 1, 0, part);
	}
	wg_put(stdscr, y, lx, vx - lx, c->th.label, "Central store");
	if (c->cfg->store_state == NULL)
		snprintf(buf, sizeof buf, "not configured: the dataset folder "
		    "holds everything");
	else if (c->cfg->store_state(c->cfg->store_ctx, c->id, buf,
	    sizeof buf) != 0)
		snprintf(buf, sizeof buf, "state unknown");
	wg_put(stdscr, y++, vx, w - vx - 1, c->cfg->store_state == NULL ?
	    c->th.dim : 0, buf);
	return y;
}

enum { TC_NAME, TC_STATE, TC_SNR, TC_SIG, TC_NOISE, TC_OFF, TC_RSSI,
    TC_OK, TC_SPARK, TC_N };
static const struct wg_col cols[TC_N] = {
	{ "Station", 10, 24, 1, 0, 0 },
	{ "State", 10, 40, 4, 0, 0 },
	{ "SNR dB", 6, 0, 0, 1, 0 },
	{ "Sig dB", 6, 0, 0, 1, 0 },
	{ "Noise", 6, 0, 0, 1, 0 },
	{ "Off Hz", 7, 0, 0, 1, 0 },
	{ "RSSI", 5, 0, 0, 1, 2 },
	{ "ok/miss", 7, 0, 0, 1, 0 },
	{ "SNR/chunk", 9, SESSION_DURATION_MAX, 1, 0, 1 },	/* the newest */
};

/* The sparkline's one fixed scale, the same for every station and every
 * session, so that rows and sessions compare: SPARK_LO dB and below is
 * the lowest block, SPARK_HI and above the full one. The column's title
 * is the legend. */
#define SPARK_LO	0.0
#define SPARK_HI	40.0

static unsigned int
state_attr(const struct con *c, const char *st)
{
	if (strcmp(st, "streaming") == 0 || strcmp(st, "complete") == 0)
		return c->th.ok;
	if (strcmp(st, "failed") == 0)
		return c->th.bad;
	if (strcmp(st, "retrying") == 0 || strcmp(st, "connecting") == 0 ||
	    strncmp(st, "partial", 7) == 0)
		return c->th.warn;
	return c->th.dim;
}

/* Cells of one row, left to right, each with its attribute. */
static void
draw_cells(struct con *c, int y, const int *wid, const char *const *cells,
    const unsigned int *attr)
{
	char	buf[1024];
	int	i, x = 0;

	for (i = 0; i < TC_N; i++) {
		if (wid[i] <= 0)
			continue;
		wg_fit(cells[i], wid[i], cols[i].right, c->th.utf8, buf,
		    sizeof buf);
		wg_put(stdscr, y, x, wid[i], attr[i], buf);
		x += wid[i] + 1;
	}
}

/* ---- the table's order: 's' cycles it ---- */
enum { PS_INDEX, PS_NAME, PS_SNR, PS_MISSING, PS_N };
static const char *sort_names[PS_N] = { "#", "name", "SNR", "missing" };
static const struct con *sort_con;	/* UI thread only: qsort's context */

static int
sort_cmp(const void *a, const void *b)
{
	const struct row *x = &sort_con->rows[*(const int *)a];
	const struct row *y = &sort_con->rows[*(const int *)b];
	int		  r = 0;

	switch (sort_con->sort) {
	case PS_NAME:
		r = strcasecmp(x->name, y->name);
		break;
	case PS_SNR:	/* best first; no SNR last */
		if (x->has_snr != y->has_snr)
			r = y->has_snr - x->has_snr;
		else if (x->has_snr && x->snr != y->snr)
			r = x->snr > y->snr ? -1 : 1;
		break;
	case PS_MISSING:	/* most missing first */
		r = y->miss - x->miss;
		break;
	}
	return r != 0 ? r : x->websdr - y->websdr;
}

/* The rows in display order (ord: nrows indexes). */
static void
table_order(const struct con *c, int *ord)
{
	int	i;

	for (i = 0; i < c->nrows; i++)
		ord[i] = i;
	if (c->sort != PS_INDEX && c->nrows > 1) {
		sort_con = c;
		qsort(ord, (size_t)c->nrows, sizeof *ord, sort_cmp);
	}
}

/* Case-insensitive: "3 sim" finds "3 Sim 3" (index and name). */
static int
row_matches(const struct row *r, const char *q)
{
	char	s[160];

	if (q[0] == '\0')
		return 0;
	snprintf(s, sizeof s, "%d %s", r->websdr, r->name);
	return strcasestr(s, q) != NULL;
}

/* '/': the first station (in display order) matching the prompt, shown
 * at the top of the table. */
static void
find_apply(struct con *c)
{
	int	*ord, i;

	c->found = 0;
	if (c->nrows == 0 || (ord = calloc((size_t)c->nrows,
	    sizeof *ord)) == NULL)
		return;
	table_order(c, ord);
	for (i = 0; i < c->nrows; i++)
		if (row_matches(&c->rows[ord[i]], c->find.buf)) {
			c->found = c->rows[ord[i]].websdr;
			c->table_top = i;
			break;
		}
	free(ord);
}

/* The sparkline of a row with its missing chunks in their own colour:
 * the whole line in the "ok" colour, then the missing cells again. */
static void
draw_spark(struct con *c, int y, int x, int w, const struct row *r, int upto)
{
	char	spark[512], one[16];
	int	start, j;

	if (w <= 0)
		return;
	wg_spark_text(r->hist, r->cst, upto, w, SPARK_LO, SPARK_HI,
	    c->th.utf8, spark, sizeof spark);
	wg_put(stdscr, y, x, w, c->th.ok, spark);
	start = upto > w ? upto - w : 0;
	for (j = start; j < upto; j++)
		if (r->cst[j] == WG_SPARK_MISSING) {
			wg_spark_text(r->hist + j, r->cst + j, 1, 1, SPARK_LO,
			    SPARK_HI, c->th.utf8, one, sizeof one);
			wg_put(stdscr, y, x + (j - start), 1, c->th.bad, one);
		}
}

/* The session's chunk length, s (its chunk_ms; 1 s before it is set). */
static double
chunk_s(const struct con *c)
{
	return c->p.chunk_ms > 0 ? c->p.chunk_ms / 1000.0 : 1.0;
}

static void
fmt_mmss(double s, char *buf, size_t len)
{
	long	t = s < 0 ? 0 : (long)(s + 0.5);

	snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

/* The header's words after the bar: queued, waiting (for what, until
 * when), the percentage with elapsed and remaining time, or once ended
 * what was stored and the outcome. *attr: their colour. */
static void
header_text(struct con *c, double frac, char *buf, size_t len,
    unsigned int *attr)
{
	char		 el[16], left[16], until[16], names[256];
	double		 now = mono(), wait_end;
	int		 k, nw = 0, nstream = 0, nrec = 0, ci;
	size_t		 off = 0;
	time_t		 t;
	struct tm	 tm;

	*attr = 0;
	if (c->final != NULL) {
		char word[64];
		session_outcome_text(jstr(c->final, "status"), jint(
		    json_object_get(c->final, "summary"), "chunks_missing"),
		    word, sizeof word);
		snprintf(buf, len, "%3d%% stored  %s", (int)floor(frac * 100 +
		    1e-9), word);
		*attr = outcome_attr(c, final_outcome(c));
		return;
	}
	if (c->qpos > 0) {
		snprintf(buf, len, "queued: position %d", c->qpos);
		return;
	}
	if (c->acquiring && c->start_at > 0 && c->measurements == 0 &&
	    util_now() < c->start_at) {
		/* A coordinated start: the instant, and how long until it. */
		t = (time_t)c->start_at;
		localtime_r(&t, &tm);
		strftime(until, sizeof until, "%H:%M:%S", &tm);
		fmt_mmss(c->start_at - util_now(), left, sizeof left);
		snprintf(buf, len, "starts at %s (%s left)", until, left);
		*attr = c->th.warn;
		return;
	}
	fmt_mmss(c->t_acq > 0 ? now - c->t_acq : 0, el, sizeof el);
	/* What the next chunk waits for: the stations that have not
	 * delivered it yet (none at all before the first). */
	ci = c->chunk;
	names[0] = '\0';
	for (k = 0; k < c->nrows && ci < NCHUNK; k++) {
		const struct row *r = &c->rows[k];
		if (strcmp(r->state, "excluded") == 0)
			continue;	/* left out: awaited for nothing */
		nrec++;
		if (strcmp(r->state, "streaming") == 0)
			nstream++;
		if (r->cst[ci] != WG_SPARK_NONE || strcmp(r->state,
		    "failed") == 0)
			continue;
		if (nw++ < 3 && off < sizeof names)
			off += (size_t)snprintf(names + off, sizeof names - off,
			    "%s%s", off > 0 ? ", " : "", r->name);
	}
	if (c->acquiring && c->t_acq > 0 && c->measurements == 0 &&
	    nstream < nrec && c->cfg->start_timeout > 0) {
		/* Before the first second: the receivers are awaited for the
		 * start timeout. */
		wait_end = c->t_acq + c->cfg->start_timeout;
		t = time(NULL) + (time_t)(wait_end - now + 0.5);
		localtime_r(&t, &tm);
		strftime(until, sizeof until, "%H:%M:%S", &tm);
		fmt_mmss(wait_end - now, left, sizeof left);
		if (now < wait_end) {
			snprintf(buf, len, "waiting for %d of %d stations "
			    "until %s (%s left)", nrec - nstream,
			    nrec, until, left);
			*attr = c->th.warn;
			return;
		}
	}
	if (c->acquiring && c->t_acq > 0 && nw > 0 && c->chunk < c->total &&
	    now - c->t_chunk > chunk_s(c) + 0.5) {
		/* A chunk is late: who it waits for, and until when it is
		 * given up for them (the engine's grace). */
		wait_end = c->t_chunk + chunk_s(c) + (c->cfg->grace > 0 ?
		    c->cfg->grace : ENGINE_GRACE_DEFAULT);
		fmt_mmss(wait_end - now, left, sizeof left);
		snprintf(buf, len, "chunk %d waits for %s%s%s (%s left)", ci + 1,
		    names, nw > 3 ? " +" : "", nw > 3 ? "more" : "", left);
		*attr = c->th.warn;
		return;
	}
	fmt_mmss((c->total - frac * c->total) * chunk_s(c), left,
	    sizeof left);
	snprintf(buf, len, "%3d%%  %d measurements", (int)floor(frac * 100 +
	    1e-9), c->measurements);
	if (COLS >= 70 && c->t_acq > 0) {
		size_t o = strlen(buf);
		snprintf(buf + o, len - o, "  %s elapsed, %s left", el, left);
	}
}

/* The event log's rule and its lines, y the rule, lh lines under it.
 * The rule says what the table holds (stations shown, their states in
 * one line), the queue, the --listen URL and which part the keys move. */
static void
draw_log(struct con *c, int y, int lh)
{
	char	buf[1024], counts[256];
	size_t	off;
	int	i, j, back;

	if (lh < 1)
		return;
	off = (size_t)snprintf(buf, sizeof buf, "Events%s",
	    c->pfocus == 1 ? " [keys]" : "");
	if (c->log_back > 0)
		off += (size_t)snprintf(buf + off, sizeof buf - off,
		    " (%d back: End newest)", c->log_back);
	table_counts(c, counts, sizeof counts);
	if (counts[0] != '\0')
		off += (size_t)snprintf(buf + off, sizeof buf - off, "  %s %s",
		    con_arrows(c, "\xc2\xb7", "-"), counts);
	if (c->nrows > c->table_rows)
		off += (size_t)snprintf(buf + off, sizeof buf - off,
		    "  %s stations %d-%d of %d: Up/Down scroll",
		    con_arrows(c, "\xc2\xb7", "-"), c->table_top + 1,
		    c->table_top + c->table_rows, c->nrows);
	/* Acquisitions waiting behind the running one (ours included when
	 * it waits), e.g. queued by WebSocket clients of --listen. */
	if (c->nqueued > 0)
		off += (size_t)snprintf(buf + off, sizeof buf - off,
		    "  %s queued: %d session%s", con_arrows(c, "\xc2\xb7", "-"),
		    c->nqueued, c->nqueued == 1 ? "" : "s");
	if (c->cfg->url != NULL && off < sizeof buf)
		snprintf(buf + off, sizeof buf - off, "  %s web %s",
		    con_arrows(c, "\xc2\xb7", "-"), c->cfg->url);
	wg_rule(stdscr, &c->th, y, 0, COLS, buf);
	/* The newest lines that fit, or log_back lines before them. */
	back = c->log_back;
	if (back > c->log_n - lh)
		back = c->log_n - lh > 0 ? c->log_n - lh : 0;
	c->log_back = back;
	j = c->log_n > lh ? c->log_n - lh - back : 0;
	for (i = 0; i < lh && j + i < c->log_n; i++)
		wg_put(stdscr, y + 1 + i, 1, COLS - 2, 0,
		    c->log[(c->log_head + j + i) % LOG_MAX]);
}

/* The bottom line: the keys, or the '/' prompt while it is open. */
static void
status_keys(struct con *c)
{
	char	line[1024], view[WG_FIELD_MAX + 8];
	int	curx;

	if (c->find_on) {
		wg_field_view(&c->find, COLS - 40, view, sizeof view, &curx);
		snprintf(line, sizeof line, "find station: %s%s   Enter keep  "
		    "Esc close", view, c->found ? "" : c->find.len ?
		    "  (no match)" : "");
		con_status_line(c, line);
		return;
	}
	if (c->view != PV_TABLE)
		con_status_line(c, c->view == PV_GRID ? "arrows cell  g/Esc "
		    "table  w passband  ? keys" : "Up/Down station  w/Esc "
		    "table  g grid  ? keys");
	else if (c->sc == SC_COMPLETE)
		con_status_line(c, "n new session  q quit  Esc back  "
		    "g grid  w passband  H history  Up/Down scroll  Tab log  "
		    "/ find  s sort  ? keys");
	else
		con_status_line(c, !c->acquiring ? "waiting for the session "
		    "to end..." : c->paused ? "PAUSED: p resume  Ctrl-C cancel  "
		    "g grid  w passband  ? keys" : "Ctrl-C cancel  p pause  "
		    "g grid  w passband  Up/Down scroll  Tab log  / find  "
		    "s sort  ? keys");
}

/* The grid or the waterfall in the table's place, two log lines under
 * it. */
static void
view_draw(struct con *c)
{
	int	logy = LINES - 4;

	if (c->view == PV_GRID)
		grid_draw(c, 2, logy - 2, c->rows, c->nrows, c->total,
		    &c->reasons, &c->grid);
	else
		waterfall_draw(c, 2, logy - 2, c->rows, c->nrows, c->total,
		    &c->grid);
	draw_log(c, logy, 2);
	status_keys(c);
	curs_set(0);
}

void
progress_draw(struct con *c)
{
	char		 buf[1024], bar[1024], cell[TC_N][512];
	const char	*cells[TC_N];
	unsigned int	 attr[TC_N], hattr;
	int		 w = COLS, h = LINES, wid[TC_N], i, j, y, th, lh, bw, upto;
	int		*ord;
	double		 frac, within;
	struct row	*r;

	snprintf(buf, sizeof buf, "%.6f MHz %s %d s %s %s", c->p.freq_hz / 1e6,
	    con_arrows(c, "\xc2\xb7", "-"), c->p.duration_s,
	    con_arrows(c, "\xc2\xb7", "-"), c->source_name);
	con_title_line(c, c->p.name, buf);

	/* Chunk counter and a bar that moves per chunk and, in between,
	 * with the clock (each chunk is chunk_s(c) of signal). Once ended:
	 * the chunks really stored (a cancel at 11/20 shows 11/20). */
	within = 0;
	if (c->acquiring && c->qpos == 0 && c->chunk < c->total &&
	    c->measurements > 0) {
		within = (mono() - c->t_chunk) / chunk_s(c);
		within = within < 0 ? 0 : within > 0.95 ? 0.95 : within;
	}
	if (c->final != NULL) {
		frac = c->total > 0 ? (double)c->stored / c->total : 0;
		snprintf(buf, sizeof buf, "Chunk %d/%d", c->stored, c->total);
	} else {
		frac = c->total > 0 ? (c->chunk + within) / c->total : 0;
		snprintf(buf, sizeof buf, "Chunk %d/%d", c->chunk, c->total);
	}
	wg_put(stdscr, 1, 1, 14, c->th.label, buf);
	header_text(c, frac, buf, sizeof buf, &hattr);
	bw = w - 15 - wg_text_cells(buf) - 2;
	if (bw < 5)
		bw = 5;
	wg_bar_text(frac, bw, c->th.utf8, bar, sizeof bar);
	wg_put(stdscr, 1, 15, bw, c->th.bar, bar);
	wg_put(stdscr, 1, 15 + bw + 1, w - 16 - bw, hattr, buf);

	if (c->view != PV_TABLE) {
		view_draw(c);
		return;
	}
	/* The table, then the event log with what is left. */
	wg_table_layout(cols, TC_N, w, wid);
	for (i = 0; i < TC_N; i++) {
		cells[i] = cols[i].title;
		attr[i] = c->th.label;
	}
	/* The sparkline's legend: its fixed scale. */
	snprintf(cell[TC_SPARK], sizeof cell[0], wid[TC_SPARK] >= 14 ?
	    "SNR %.0f..%.0f dB" : "SNR %.0f-%.0f", SPARK_LO, SPARK_HI);
	cells[TC_SPARK] = cell[TC_SPARK];
	if (c->sort != PS_INDEX) {
		snprintf(cell[TC_NAME], sizeof cell[0], "by %s",
		    sort_names[c->sort]);
		cells[TC_NAME] = cell[TC_NAME];
	}
	draw_cells(c, 2, wid, cells, attr);
	/* Below the table: the localization panel (a rule and its lines)
	 * and at least 4 log lines, or the summary lines and the session
	 * fix once the session is over. */
	lh = c->sc == SC_COMPLETE ? summary_rows(c) : 4 + 1 + loc_rows(c);
	th = c->nrows;
	if (th > h - 3 - 1 - 1 - lh)
		th = h - 3 - 1 - 1 - lh;
	if (th < 1)
		th = 1;
	c->table_rows = th;
	if (c->table_top > c->nrows - th)
		c->table_top = c->nrows - th;
	if (c->table_top < 0)
		c->table_top = 0;
	/* The sparkline shows the newest chunks any station has reached. */
	upto = 0;
	for (i = 0; i < c->nrows; i++)
		for (j = 0; j < NCHUNK; j++)
			if (c->rows[i].cst[j] != WG_SPARK_NONE && j + 1 > upto)
				upto = j + 1;
	ord = c->nrows > 0 ? calloc((size_t)c->nrows, sizeof *ord) : NULL;
	if (ord != NULL)
		table_order(c, ord);
	for (i = 0; ord != NULL && i < th && c->table_top + i < c->nrows;
	    i++) {
		r = &c->rows[ord[c->table_top + i]];
		for (j = 0; j < TC_N; j++) {
			cells[j] = cell[j];
			attr[j] = 0;
			cell[j][0] = '\0';
		}
		snprintf(cell[TC_NAME], sizeof cell[0], "%d %s", r->websdr,
		    r->name);
		if (c->found == r->websdr)
			attr[TC_NAME] = c->th.select;
		/* "excluded by the operator" says its state itself */
		if (r->reason[0] != '\0' && strncmp(r->reason, r->state,
		    strlen(r->state)) == 0)
			snprintf(cell[TC_STATE], sizeof cell[0], "%s",
			    r->reason);
		else if (r->reason[0] != '\0')
			snprintf(cell[TC_STATE], sizeof cell[0], "%s: %s",
			    r->state, r->reason);
		else
			snprintf(cell[TC_STATE], sizeof cell[0], "%s",
			    r->state);
		attr[TC_STATE] = state_attr(c, r->state);
		if (r->has_snr)
			snprintf(cell[TC_SNR], sizeof cell[0], "%.1f", r->snr);
		else
			snprintf(cell[TC_SNR], sizeof cell[0], "-");
		if (r->has_sig)
			snprintf(cell[TC_SIG], sizeof cell[0], "%.1f", r->sig);
		if (r->has_noise)
			snprintf(cell[TC_NOISE], sizeof cell[0], "%.1f",
			    r->noise);
		if (r->has_off)
			snprintf(cell[TC_OFF], sizeof cell[0], "%+.1f", r->off);
		if (r->has_rssi)
			snprintf(cell[TC_RSSI], sizeof cell[0], "%.0f",
			    r->rssi);
		snprintf(cell[TC_OK], sizeof cell[0], "%d/%d", r->ok, r->miss);
		if (r->miss > 0)
			attr[TC_OK] = c->th.warn;
		/* No metrics yet (failed, or still connecting): the reason
		 * may use their columns, where it is readable in full. */
		if (!r->has_snr && !r->has_sig && !r->has_noise &&
		    !r->has_off && r->reason[0] != '\0') {
			int x = 0, span = 0;
			for (j = 0; j < TC_STATE; j++)
				x += wid[j] > 0 ? wid[j] + 1 : 0;
			for (j = TC_STATE; j <= TC_RSSI; j++)
				span += wid[j] > 0 ? wid[j] + 1 : 0;
			cell[TC_SNR][0] = '\0';
			draw_cells(c, 3 + i, wid, cells, attr);
			wg_fit(cell[TC_STATE], span - 1, 0, c->th.utf8, buf,
			    sizeof buf);
			wg_put(stdscr, 3 + i, x, span - 1, attr[TC_STATE], buf);
		} else
			draw_cells(c, 3 + i, wid, cells, attr);
		if (wid[TC_SPARK] > 0) {
			int x = 0;
			for (j = 0; j < TC_SPARK; j++)
				x += wid[j] > 0 ? wid[j] + 1 : 0;
			draw_spark(c, 3 + i, x, wid[TC_SPARK], r, upto);
		}
	}
	free(ord);
	y = 3 + th;
	if (c->sc == SC_COMPLETE) {
		y = draw_summary(c, y);
		/* The room left shows the event log. */
		lh = h - 1 - (y + 1);
		if (lh >= 2)
			draw_log(c, y, lh);
		status_keys(c);
		curs_set(0);
		return;
	}
	/* The localization panel: the latest chunk's fix. */
	{
		char	ll[3][LP_LINE];
		int	n;
		locpanel_title(&c->lp, 0, c->total, c->th.utf8, buf,
		    sizeof buf);
		wg_rule(stdscr, &c->th, y++, 0, w, buf);
		n = locpanel_lines(&c->lp, 0, w - 2, loc_rows(c), c->th.utf8,
		    ll);
		for (i = 0; i < loc_rows(c); i++)
			if (i < n)
				wg_put(stdscr, y + i, 1, w - 2, i == 0 &&
				    c->lp.fix.seen && !c->lp.fix.ok ?
				    c->th.warn : c->lp.fix.seen ? 0 :
				    c->th.dim, ll[i]);
		y += loc_rows(c);
	}
	draw_log(c, y, h - 1 - (y + 1));
	status_keys(c);
	curs_set(0);
}

/* Up/Down/j/k, PgUp/PgDn by the rows really shown, Home/End: on the
 * station table, or on the event log after Tab. */
static void
table_scroll(struct con *c, int k)
{
	int	page = c->table_rows > 1 ? c->table_rows : 1, d = 0;

	switch (k) {
	case WG_KEY_UP: case 'k': d = -1; break;
	case WG_KEY_DOWN: case 'j': d = 1; break;
	case WG_KEY_PGUP: d = -page; break;
	case WG_KEY_PGDN: d = page; break;
	case WG_KEY_HOME: d = -1000000; break;
	case WG_KEY_END: d = 1000000; break;
	default: return;
	}
	if (c->pfocus == 1) {
		/* The log: back is up; clamped when drawn. */
		c->log_back -= d;
		if (c->log_back < 0)
			c->log_back = 0;
		if (c->log_back > c->log_n)
			c->log_back = c->log_n;
		return;
	}
	c->table_top += d;
	if (c->table_top > c->nrows - page)
		c->table_top = c->nrows - page;
	if (c->table_top < 0)
		c->table_top = 0;
}

void
progress_key(struct con *c, int k)
{
	if (c->find_on) {
		if (k == WG_KEY_ENTER || k == WG_KEY_ESC) {
			c->find_on = 0;
			if (k == WG_KEY_ESC)
				c->found = 0;
		} else if (wg_field_key(&c->find, k))
			find_apply(c);
		return;
	}
	if (k == 'g' || k == 'G' || k == 'w' || k == 'W') {
		int v = k == 'g' || k == 'G' ? PV_GRID : PV_WATERFALL;
		c->view = c->view == v ? PV_TABLE : v;
		c->force = 1;
		return;
	}
	if (c->view != PV_TABLE) {
		if (k == WG_KEY_ESC) {
			c->view = PV_TABLE;
			c->force = 1;
		} else if (k == WG_KEY_F1 || k == '?')
			c->modal = MO_HELP;
		else
			grid_key(&c->grid, k, c->nrows, c->total,
			    c->view == PV_WATERFALL);
		return;
	}
	switch (k) {
	case WG_KEY_F1: case '?':
		c->modal = MO_HELP;
		break;
	case WG_KEY_TAB: case WG_KEY_BTAB:
		c->pfocus = !c->pfocus;
		break;
	case '/':
		c->find_on = 1;
		wg_field_init(&c->find, 64, "");
		c->found = 0;
		c->pfocus = 0;
		break;
	case 's': case 'S':
		c->sort = (c->sort + 1) % PS_N;
		c->found = 0;
		break;
	case 'p': case 'P':
		/* Pause: the receivers stay connected, the chunks of the
		 * pause are not stored and count as paused, not missing
		 * (engine.h); p again resumes. */
		if (c->sc == SC_PROGRESS && c->acquiring) {
			struct session_error e;
			if (engine_session_pause(c->cfg->eng, c->id,
			    !c->paused, &e) != 0)
				con_log(c, "%s", e.msg);
			else {
				c->paused = !c->paused;
				con_log(c, c->paused ? "paused: the chunks from "
				    "now on are not stored (p resumes)" :
				    "resumed");
			}
			c->force = 1;
		}
		break;
	case WG_KEY_ESC:
		if (c->sc == SC_PROGRESS)
			con_log(c, "acquisition is running: Ctrl-C cancels it");
		break;
	default:
		table_scroll(c, k);
		break;
	}
}

void
progress_help(struct con *c)
{
	static const char *prg[] = {
		"Ctrl-C             cancel (asks first; stored chunks are kept)",
		"p                  pause / resume (paused: not stored, not missing)",
		"Up/Down j/k        scroll the stations (or the log after Tab)",
		"PgUp/PgDn          a page of the rows shown",
		"Home/End           first / last",
		"Tab                the keys move the stations / the event log",
		"/                  find a station (name or number)",
		"s                  sort: #, name, SNR, missing",
		"g                  coverage grid (arrows: a cell and why)",
		"w                  passband waterfall of a station",
		"", "any key closes this help" };

	con_draw_modal(c, "Keys: acquisition", prg, 11);
}

void
complete_help(struct con *c)
{
	static const char *cmp[] = {
		"n, Esc             new session with the same settings",
		"q, Ctrl-C          quit",
		"Up/Down j/k PgUp/PgDn Home/End  scroll (Tab: the log)",
		"/ find   s sort",
		"g grid   w passband   H history of sessions",
		"", "any key closes this help" };

	con_draw_modal(c, "Keys: session complete", cmp, 7);
}

void
complete_key(struct con *c, int k)
{
	if (c->find_on || c->view != PV_TABLE || k == 'g' || k == 'G' ||
	    k == 'w' || k == 'W')
		progress_key(c, k);
	else if (k == 'H')
		history_enter(c);
	else if (k == 'q' || k == 'Q')
		c->quit = 1;
	else if (k == 'n' || k == 'N' || k == WG_KEY_ESC) {
		/* Esc goes back, as on every screen: to a new session with
		 * the same settings (q quits). */
		c->id[0] = '\0';
		c->focus = CF_NAME;
		config_enter(c);
	} else if (k == '?' || k == WG_KEY_F1)
		c->modal = MO_HELP;
	else
		progress_key(c, k);
}
