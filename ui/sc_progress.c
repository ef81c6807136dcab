/* sc_progress.c -- Progress and Complete; see sc_progress.h. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curses.h>

#include "ui/cstate.h"
#include "ui/sc_config.h"
#include "ui/sc_progress.h"
#include "src/engine/config.h"
#include "src/engine/engine.h"
#include "src/engine/session.h"

/* ---- acquisition ---- */

void
progress_reset(struct con *c)
{
	const struct stations	*st = c->cfg->stations;
	int			 i;

	free(c->rows);
	c->nrows = st->n;
	c->rows = calloc((size_t)st->n > 0 ? (size_t)st->n : 1,
	    sizeof *c->rows);
	for (i = 0; c->rows != NULL && i < st->n; i++) {
		c->rows[i].websdr = st->v[i].index;
		snprintf(c->rows[i].name, sizeof c->rows[i].name, "%s",
		    st->v[i].name);
		snprintf(c->rows[i].state, sizeof c->rows[i].state, "waiting");
	}
	if (c->rows == NULL)
		c->nrows = 0;
	c->table_top = 0;
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
		if (c->qpos > 0)
			con_log(c, "queued: position %d, another session is "
			    "acquiring", c->qpos);
		else
			con_log(c, "acquiring %d chunks from %d stations",
			    c->total, c->nrows);
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
	else if (strcmp(name, "session:missing") == 0) {
		if ((r = row_of(c, d)) == NULL)
			return;
		ci = jint(d, "chunk_index");
		r->miss++;
		if (ci >= 0 && ci < NCHUNK)
			r->cst[ci] = WG_SPARK_MISSING;
		con_log(c, "%s: chunk %lld missing - %s", r->name, ci + 1,
		    jstr(d, "reason"));
	} else if (strcmp(name, "session:progress") == 0) {
		c->chunk = (int)jint(d, "chunk");
		c->total = (int)jint(d, "total_chunks");
		c->measurements = (int)jint(d, "measurements_count");
		c->t_chunk = mono();
		con_log(c, "chunk %d/%d settled, %d measurements", c->chunk,
		    c->total, c->measurements);
	} else if (strcmp(name, "session:error") == 0) {
		con_log(c, "error: %s", jstr(d, "error"));
	} else if (strcmp(name, "session:clock") == 0) {
		con_log(c, "clock: %s", jstr(d, "message"));
	} else if (strcmp(name, "session:status_update") == 0) {
		st = jstr(d, "status");
		snprintf(c->status, sizeof c->status, "%s", st);
		if (strcmp(st, "in_progress") == 0 &&
		    (int)jint(d, "queue_position") != c->qpos) {
			c->qpos = (int)jint(d, "queue_position");
			c->t_chunk = mono();
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
			if (c->sc == SC_PROGRESS) {
				c->sc = SC_COMPLETE;
				c->force = 1;
			}
			if (c->modal == MO_CANCEL)
				c->modal = MO_NONE;
			con_log(c, "session %s%s%s", st,
			    json_object_get(d, "error") ? ": " : "",
			    jstr(d, "error"));
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

/* The end of a session, under its final table: status, chunks, the
 * session fix, where the data went. */
static int
draw_summary(struct con *c, int y)
{
	char		 buf[1024], part[1024];
	const json_t	*d = c->final, *sum;
	int		 w = COLS, lx = 2, vx = 18, failed;
	size_t		 off, n, k;

	if (d == NULL)
		return y;
	sum = json_object_get(d, "summary");
	failed = strcmp(jstr(d, "status"), "completed") != 0;
	wg_rule(stdscr, &c->th, y++, 0, w, failed ? "Session failed" :
	    "Session complete");
	if (failed)
		snprintf(buf, sizeof buf, "failed: %s", jstr(d, "error"));
	else
		snprintf(buf, sizeof buf, "completed");
	wg_put(stdscr, y, lx, vx - lx, c->th.label, "Status");
	wg_put(stdscr, y++, vx, w - vx - 1, failed ? c->th.bad : c->th.ok, buf);
	snprintf(buf, sizeof buf, "%lld of %lld stored, %lld missing "
	    "(%lld measurements)", jint(sum, "chunks_stored"),
	    jint(sum, "chunks_expected"), jint(sum, "chunks_missing"),
	    jint(sum, "measurements_count"));
	wg_put(stdscr, y, lx, vx - lx, c->th.label, "Chunks");
	wg_put(stdscr, y++, vx, w - vx - 1, jint(sum, "chunks_missing") > 0 ?
	    c->th.warn : 0, buf);
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
	{ "SNR/chunk", 9, NCHUNK, 1, 0, 1 },
};

static unsigned int
state_attr(const struct con *c, const char *st)
{
	if (strcmp(st, "streaming") == 0)
		return c->th.ok;
	if (strcmp(st, "failed") == 0)
		return c->th.bad;
	if (strcmp(st, "retrying") == 0 || strcmp(st, "connecting") == 0)
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

void
progress_draw(struct con *c)
{
	char		 buf[1024], bar[1024], cell[TC_N][512], spark[512];
	const char	*cells[TC_N];
	unsigned int	 attr[TC_N];
	int		 w = COLS, h = LINES, wid[TC_N], i, j, y, th, lh, bw, upto;
	double		 frac, within, lo = INFINITY, hi = -INFINITY;
	struct row	*r;

	snprintf(buf, sizeof buf, "%.6f MHz %s %d s %s %s", c->p.freq_hz / 1e6,
	    con_arrows(c, "\xc2\xb7", "-"), c->p.duration_s,
	    con_arrows(c, "\xc2\xb7", "-"), c->source_name);
	con_title_line(c, c->p.name, buf);

	/* Chunk counter and a bar that moves per chunk and, in between,
	 * with the clock (each chunk is one second of signal). */
	within = 0;
	if (c->acquiring && c->qpos == 0 && c->chunk < c->total) {
		within = mono() - c->t_chunk;
		within = within < 0 ? 0 : within > 0.95 ? 0.95 : within;
	}
	frac = c->total > 0 ? (c->chunk + within) / c->total : 0;
	snprintf(buf, sizeof buf, "Chunk %d/%d", c->chunk, c->total);
	wg_put(stdscr, 1, 1, 14, c->th.label, buf);
	if (c->qpos > 0)
		snprintf(buf, sizeof buf, "queued: position %d", c->qpos);
	else
		snprintf(buf, sizeof buf, "%3d%%  %d measurements",
		    (int)floor(frac * 100 + 1e-9), c->measurements);
	bw = w - 15 - wg_text_cells(buf) - 2;
	if (bw < 5)
		bw = 5;
	wg_bar_text(frac, bw, c->th.utf8, bar, sizeof bar);
	wg_put(stdscr, 1, 15, bw, c->th.bar, bar);
	wg_put(stdscr, 1, 15 + bw + 1, w - 16 - bw, 0, buf);

	/* The table, then the event log with what is left. */
	wg_table_layout(cols, TC_N, w, wid);
	for (i = 0; i < TC_N; i++) {
		cells[i] = cols[i].title;
		attr[i] = c->th.label;
	}
	draw_cells(c, 2, wid, cells, attr);
	/* Below the table: the localization panel (a rule and its lines)
	 * and at least 4 log lines, or the 6-7 summary lines and the
	 * session fix once the session is over. */
	lh = c->sc == SC_COMPLETE ? 7 + (loc_seen(c) ? loc_rows(c) : 0) :
	    4 + 1 + loc_rows(c);
	th = c->nrows;
	if (th > h - 3 - 1 - 1 - lh)
		th = h - 3 - 1 - 1 - lh;
	if (th < 1)
		th = 1;
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
	for (i = 0; i < c->nrows; i++)
		for (j = 0; j < c->total && j < NCHUNK; j++)
			if (c->rows[i].cst[j] == WG_SPARK_OK &&
			    isfinite(c->rows[i].hist[j])) {
				if (c->rows[i].hist[j] < lo)
					lo = c->rows[i].hist[j];
				if (c->rows[i].hist[j] > hi)
					hi = c->rows[i].hist[j];
			}
	/* One scale for every station, so rows compare; at least 12 dB
	 * tall, so a steady SNR draws a flat line, not magnified noise. */
	if (hi - lo < 12 && isfinite(lo)) {
		double mid = (lo + hi) / 2;
		lo = mid - 6;
		hi = mid + 6;
	}
	for (i = 0; i < th && c->table_top + i < c->nrows; i++) {
		r = &c->rows[c->table_top + i];
		for (j = 0; j < TC_N; j++) {
			cells[j] = cell[j];
			attr[j] = 0;
			cell[j][0] = '\0';
		}
		snprintf(cell[TC_NAME], sizeof cell[0], "%d %s", r->websdr,
		    r->name);
		if (r->reason[0] != '\0')
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
		wg_spark_text(r->hist, r->cst, upto, wid[TC_SPARK], lo, hi, c->th.utf8, spark,
		    sizeof spark);
		snprintf(cell[TC_SPARK], sizeof cell[0], "%s", spark);
		attr[TC_SPARK] = c->th.ok;
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
			continue;
		}
		draw_cells(c, 3 + i, wid, cells, attr);
	}
	y = 3 + th;
	if (c->sc == SC_COMPLETE) {
		y = draw_summary(c, y);
		/* The room left shows the end of the event log. */
		lh = h - 1 - (y + 1);
		if (lh >= 2) {
			wg_rule(stdscr, &c->th, y, 0, w, "Events");
			j = c->log_n > lh ? c->log_n - lh : 0;
			for (i = 0; i < lh && j + i < c->log_n; i++)
				wg_put(stdscr, y + 1 + i, 1, w - 2, 0,
				    c->log[(c->log_head + j + i) % LOG_MAX]);
		}
		con_status_line(c, c->nrows > th ? "n new session (same settings)  "
		    "q quit  Up/Down scroll  ? keys" : "n new session (same "
		    "settings)  q quit  ? keys");
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
	if (c->nrows > th)
		snprintf(buf, sizeof buf, "Events (stations %d-%d of %d: "
		    "Up/Down scroll)", c->table_top + 1, c->table_top + th,
		    c->nrows);
	else
		snprintf(buf, sizeof buf, "Events");
	/* Acquisitions waiting behind the running one (ours included when
	 * it waits), e.g. queued by WebSocket clients of --listen. */
	if (c->nqueued > 0) {
		size_t off = strlen(buf);
		snprintf(buf + off, sizeof buf - off, "  %s queued: %d "
		    "session%s", con_arrows(c, "\xc2\xb7", "-"), c->nqueued,
		    c->nqueued == 1 ? "" : "s");
	}
	wg_rule(stdscr, &c->th, y, 0, w, buf);
	lh = h - 1 - (y + 1);
	/* The newest lines that fit. */
	j = c->log_n > lh ? c->log_n - lh : 0;
	for (i = 0; i < lh && j + i < c->log_n; i++)
		wg_put(stdscr, y + 1 + i, 1, w - 2, 0,
		    c->log[(c->log_head + j + i) % LOG_MAX]);
	con_status_line(c, c->acquiring ? "Ctrl-C cancel  Up/Down scroll "
	    "stations  ? keys" : "waiting for the session to end...");
	curs_set(0);
}

void
progress_key(struct con *c, int k)
{
	int	page = LINES - 9 > 1 ? LINES - 9 : 1;

	switch (k) {
	case WG_KEY_F1: case '?':
		c->modal = MO_HELP;
		break;
	case WG_KEY_UP:
		c->table_top--;
		break;
	case WG_KEY_DOWN:
		c->table_top++;
		break;
	case WG_KEY_PGUP:
		c->table_top -= page;
		break;
	case WG_KEY_PGDN:
		c->table_top += page;
		break;
	case WG_KEY_ESC:
		con_log(c, "acquisition is running: Ctrl-C cancels it");
		break;
	}
}

void
progress_help(struct con *c)
{
	static const char *prg[] = {
		"Ctrl-C             cancel (asks first; stored chunks are kept)",
		"Up/Down PgUp/PgDn  scroll the stations",
		"", "any key closes this help" };

	con_draw_modal(c, "Keys: acquisition", prg, 4);
}

void
complete_help(struct con *c)
{
	static const char *cmp[] = {
		"n                  new session with the same settings",
		"q, Esc             quit",
		"", "any key closes this help" };

	con_draw_modal(c, "Keys: session complete", cmp, 4);
}

void
complete_key(struct con *c, int k)
{
	if (k == 'q' || k == 'Q' || k == WG_KEY_ESC)
		c->quit = 1;
	else if (k == 'n' || k == 'N') {
		c->id[0] = '\0';
		c->focus = CF_NAME;
		config_enter(c);
	} else if (k == '?' || k == WG_KEY_F1)
		c->modal = MO_HELP;
	else
		progress_key(c, k);
}
