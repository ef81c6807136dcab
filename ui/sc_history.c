/* sc_history.c -- past sessions; see sc_history.h. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ui/lazycurses.h"	/* <curses.h>, loaded on first use */

#include "ui/cstate.h"
#include "ui/sc_config.h"
#include "ui/sc_confirm.h"
#include "ui/sc_grid.h"
#include "ui/sc_history.h"
#include "ui/sc_progress.h"
#include "ui/sc_sched.h"
#include "src/base/util.h"
#include "src/engine/config.h"
#include "src/engine/session.h"
#include "store/arrays.h"
#include "store/dataset.h"
#include "store/sigmf.h"

/* ---- a session's manifest as grid rows ---- */

static void
detail_clear(struct con *c)
{
	rows_free(c->hrows, c->hnrows);
	c->hrows = NULL;
	c->hnrows = 0;
	c->htotal = 0;
	json_decref(c->hman);
	c->hman = NULL;
	c->hreasons.n = 0;
	memset(&c->hgrid, 0, sizeof c->hgrid);
}

/* Rows from a manifest: its stations, each measurement row's SNR, each
 * missing chunk's reason. 0, or -1 (message in c->hmsg). */
static int
detail_load(struct con *c, const char *id)
{
	char		 err[512];
	json_t		*man, *sts, *st, *m;
	size_t		 i;
	long long	 k, ci, kmax = 0;
	double		 v;

	detail_clear(c);
	if ((man = dataset_session_load(c->cfg->ds, id, err, sizeof err)) ==
	    NULL) {
		c->hmsg_ok = 0;
		snprintf(c->hmsg, sizeof c->hmsg, "cannot read session %s: %s",
		    id, err);
		return -1;
	}
	c->hman = man;
	sts = json_object_get(man, "stations");
	json_array_foreach(sts, i, st)
		if (jint(st, "websdr") > kmax)
			kmax = jint(st, "websdr");
	/* websdr numbers index the rows (a manifest is outside input):
	 * no more than a stations file may hold */
	if (kmax > CONFIG_MAX_STATIONS)
		kmax = CONFIG_MAX_STATIONS;
	c->hnrows = (int)kmax;
	c->hrows = calloc(kmax > 0 ? (size_t)kmax : 1, sizeof *c->hrows);
	if (c->hrows == NULL) {
		c->hnrows = 0;
		return -1;
	}
	for (k = 0; k < kmax; k++) {
		c->hrows[k].websdr = (int)k + 1;
		snprintf(c->hrows[k].name, sizeof c->hrows[k].name, "?");
	}
	json_array_foreach(sts, i, st) {
		k = jint(st, "websdr");
		if (k >= 1 && k <= kmax)
			snprintf(c->hrows[k - 1].name, sizeof c->hrows[k - 1].
			    name, "%s", jstr(st, "name"));
	}
	c->htotal = (int)jint(json_object_get(man, "summary"), "total_chunks");
	if (c->htotal <= 0)	/* the one reading of duration and length */
		c->htotal = (int)dataset_session_total_chunks(
		    json_object_get(man, "session"));
	if (c->htotal > NCHUNK)
		c->htotal = NCHUNK;
	json_array_foreach(json_object_get(man, "measurements"), i, m) {
		k = jint(m, "websdr");
		ci = jint(m, "chunk_index");
		if (k < 1 || k > kmax || ci < 0 || ci >= NCHUNK)
			continue;
		c->hrows[k - 1].cst[ci] = WG_SPARK_OK;
		c->hrows[k - 1].hist[ci] = jnum(m, "snr_db", &v) ? v : NAN;
		c->hrows[k - 1].ok++;
	}
	json_array_foreach(json_object_get(json_object_get(man, "summary"),
	    "missing"), i, m) {
		k = jint(m, "websdr");
		ci = jint(m, "chunk_index");
		if (k < 1 || k > kmax || ci < 0 || ci >= NCHUNK)
			continue;
		c->hrows[k - 1].cst[ci] = WG_SPARK_MISSING;
		c->hrows[k - 1].why[ci] = (unsigned char)reasons_add(
		    &c->hreasons, jstr(m, "reason"));
		c->hrows[k - 1].miss++;
	}
	return 0;
}

/* ---- the list ---- */

void
history_enter(struct con *c)
{
	char	err[512];

	if (c->sc != SC_HISTORY)
		c->hback = c->sc;
	json_decref(c->hlist);
	c->hlist = dataset_sessions_list(c->cfg->ds, err, sizeof err);
	c->hmsg[0] = '\0';
	c->hmsg_ok = 0;
	if (c->hlist == NULL)
		snprintf(c->hmsg, sizeof c->hmsg, "cannot list the sessions: %s",
		    err);
	if (c->hsel >= (int)json_array_size(c->hlist))
		c->hsel = 0;
	c->hdetail = 0;
	c->sc = SC_HISTORY;
	c->force = 1;
}

void
history_free(struct con *c)
{
	detail_clear(c);
	json_decref(c->hlist);
	c->hlist = NULL;
}

/* "2026-12-02 22:55" in local time from an ISO 8601 instant. */
static void
when_text(const char *iso, char *buf, size_t len)
{
	double		 t;
	time_t		 tt;
	struct tm	 tm;

	if (util_parse_iso8601(iso, &t) != 0) {
		snprintf(buf, len, "?");
		return;
	}
	tt = (time_t)t;
	localtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
}

static unsigned int
outcome_attr(const struct con *c, enum session_outcome o)
{
	return o == SESSION_OUTCOME_COMPLETE ? c->th.ok :
	    o == SESSION_OUTCOME_PARTIAL ? c->th.warn :
	    o == SESSION_OUTCOME_FAILED ? c->th.bad : 0;
}

/* One session's status in the one vocabulary, with its colour. */
static void
status_of(const struct con *c, const json_t *s, char *buf, size_t len,
    unsigned int *attr)
{
	const char *st = jstr(s, "status");

	session_outcome_text(st, jint(s, "chunks_missing"), buf, len);
	*attr = strcmp(st, "damaged") == 0 ? c->th.bad : outcome_attr(c,
	    session_outcome(st, jint(s, "chunks_missing")));
}

static void
list_draw(struct con *c)
{
	char		 buf[1024], line[1024], when[32], word[64], fit[1024];
	const json_t	*s;
	unsigned int	 attr;
	int		 n = (int)json_array_size(c->hlist), h, i, k, wn;

	snprintf(buf, sizeof buf, "%d session%s %s %s", n, n == 1 ? "" : "s",
	    con_arrows(c, "\xc2\xb7", "-"), c->cfg->data_dir);
	con_title_line(c, "heimdall-rec - sessions", buf);
	wg_rule(stdscr, &c->th, 1, 0, COLS, "History");
	/* Name takes what the fixed columns leave. */
	wn = COLS - 2 - 17 - 12 - 4 - 22 - 4;
	if (wn < 8)
		wn = 8;
	snprintf(line, sizeof line, "%-16s %-*s %11s %3s  %s", "Started", wn,
	    "Name", "MHz", "s", "Status");
	wg_put(stdscr, 2, 1, COLS - 2, c->th.label, line);
	h = LINES - 7;
	if (h < 1)
		h = 1;
	if (c->hsel < c->htop)
		c->htop = c->hsel;
	if (c->hsel >= c->htop + h)
		c->htop = c->hsel - h + 1;
	for (i = 0; i < h && c->htop + i < n; i++) {
		k = c->htop + i;
		s = json_array_get(c->hlist, (size_t)k);
		when_text(jstr(s, "session_start"), when, sizeof when);
		wg_fit(jstr(s, "session_name"), wn, 0, c->th.utf8, fit,
		    sizeof fit);
		snprintf(line, sizeof line, "%-16s %s %11.6f %3lld  ", when, fit,
		    json_number_value(json_object_get(s, "frequency_hz")) / 1e6,
		    jint(s, "duration_seconds"));
		wg_put(stdscr, 3 + i, 1, COLS - 2, k == c->hsel ? c->th.select :
		    0, line);
		status_of(c, s, word, sizeof word, &attr);
		wg_put(stdscr, 3 + i, 1 + wg_text_cells(line), COLS - 2 -
		    wg_text_cells(line), k == c->hsel ? c->th.select : attr,
		    word);
	}
	if (n == 0)
		wg_put(stdscr, 4, 2, COLS - 4, c->th.dim,
		    "No sessions in this dataset yet.");
	/* The selected one: group, chunks, why it failed. */
	if ((s = json_array_get(c->hlist, (size_t)c->hsel)) != NULL) {
		size_t off = (size_t)snprintf(buf, sizeof buf, "%lld of %lld "
		    "chunks stored", jint(s, "chunks_stored"),
		    jint(s, "chunks_expected"));
		if (jstr(s, "group_id")[0] != '\0')
			off += (size_t)snprintf(buf + off, sizeof buf - off,
			    "  group %s", jstr(s, "group_id"));
		if (jstr(s, "failure_reason")[0] != '\0')
			off += (size_t)snprintf(buf + off, sizeof buf - off,
			    "  reason: %s", jstr(s, "failure_reason"));
		if (jstr(s, "damaged")[0] != '\0')
			snprintf(buf + off, sizeof buf - off, "  damaged: %s",
			    jstr(s, "damaged"));
		wg_put(stdscr, LINES - 3, 1, COLS - 2, 0, buf);
	}
	if (c->hmsg[0] != '\0')
		wg_put(stdscr, LINES - 2, 1, COLS - 2, c->hmsg_ok ? 0 :
		    c->th.error, c->hmsg);
	con_status_line(c, "Enter details  r record again  s schedules  "
	    "e SigMF  a arrays  Esc back  ? keys");
	curs_set(0);
}

/* ---- a session's details ---- */

/* The missing chunks by station, in runs, with the first reason. */
static void
missing_line(const struct con *c, char *buf, size_t len)
{
	size_t	off = 0;
	int	k, j, first, any;

	buf[0] = '\0';
	for (k = 0; k < c->hnrows && off + 1 < len; k++) {
		const struct row *r = &c->hrows[k];
		int why = 0;
		any = 0;
		for (j = 0; j < c->htotal && off + 1 < len; j++) {
			if (r->cst[j] != WG_SPARK_MISSING)
				continue;
			if (why == 0)
				why = r->why[j];
			for (first = j; j + 1 < c->htotal && r->cst[j + 1] ==
			    WG_SPARK_MISSING; j++)
				;
			off += (size_t)snprintf(buf + off, len - off, "%s",
			    !any ? (off > 0 ? "; " : "") : ", ");
			if (!any && off + 1 < len)
				off += (size_t)snprintf(buf + off, len - off,
				    "%d %s: ", r->websdr, r->name);
			if (off + 1 < len)
				off += (size_t)(first == j ? snprintf(buf + off,
				    len - off, "%d", first + 1) :
				    snprintf(buf + off, len - off, "%d-%d",
				    first + 1, j + 1));
			any = 1;
		}
		if (any && why > 0 && why <= c->hreasons.n && off + 1 < len)
			off += (size_t)snprintf(buf + off, len - off, " (%s)",
			    c->hreasons.v[why - 1]);
	}
}

static void
detail_draw(struct con *c)
{
	char		 buf[2048], fit[2048], word[64];
	const json_t	*se = json_object_get(c->hman, "session");
	const json_t	*sum = json_object_get(c->hman, "summary");
	unsigned int	 attr;
	int		 y = 2;

	snprintf(buf, sizeof buf, "%.6f MHz %s %lld s %s %s",
	    json_number_value(json_object_get(se, "frequency_hz")) / 1e6,
	    con_arrows(c, "\xc2\xb7", "-"), jint(se, "duration_seconds"),
	    con_arrows(c, "\xc2\xb7", "-"), jstr(se, "source_name"));
	con_title_line(c, jstr(se, "session_name"), buf);
	session_outcome_text(jstr(se, "status"), jint(sum, "chunks_missing"),
	    word, sizeof word);
	attr = outcome_attr(c, session_outcome(jstr(se, "status"),
	    jint(sum, "chunks_missing")));
	snprintf(buf, sizeof buf, "Session %s", word);
	wg_rule(stdscr, &c->th, 1, 0, COLS, buf);
	snprintf(buf, sizeof buf, "%s: %lld of %lld chunks stored%s%s%s%s",
	    word, jint(sum, "chunks_stored"), jint(sum, "chunks_expected"),
	    jstr(se, "group_id")[0] ? "  group " : "", jstr(se, "group_id"),
	    jstr(se, "failure_reason")[0] ? "  reason: " : "",
	    jstr(se, "failure_reason"));
	wg_put(stdscr, y++, 1, COLS - 2, attr, buf);
	missing_line(c, buf, sizeof buf);
	if (buf[0] != '\0') {
		snprintf(fit, sizeof fit, "Missing: %s", buf);
		wg_put(stdscr, y++, 1, COLS - 2, c->th.warn, fit);
	}
	grid_draw(c, y, LINES - 1 - y - (c->hmsg[0] ? 1 : 0), c->hrows,
	    c->hnrows, c->htotal, &c->hreasons, &c->hgrid);
	if (c->hmsg[0] != '\0')
		wg_put(stdscr, LINES - 2, 1, COLS - 2, c->hmsg_ok ? 0 :
		    c->th.error, c->hmsg);
	con_status_line(c, "arrows cell  r record again  e SigMF  a arrays  "
	    "Esc list  ? keys");
	curs_set(0);
}

void
history_draw(struct con *c)
{
	if (c->hdetail && c->hman != NULL)
		detail_draw(c);
	else
		list_draw(c);
}

/* ---- record again ---- */

/* Fill Configure from a manifest's session: name, frequency, duration,
 * notes, group, the source and the stations chosen (step 3). */
static void
record_again(struct con *c, const char *id)
{
	char		 err[512], mhz[64];
	json_t		*man = NULL;
	const json_t	*se, *sts;
	struct source	*src = NULL;
	int		 nsrc = 0, i;
	size_t		 n;

	if (c->hman != NULL && strcmp(jstr(json_object_get(c->hman,
	    "session"), "id"), id) == 0) {
		se = json_object_get(c->hman, "session");
		sts = json_object_get(c->hman, "stations");
	} else if ((man = dataset_session_load(c->cfg->ds, id, err,
	    sizeof err)) != NULL) {
		se = json_object_get(man, "session");
		sts = json_object_get(man, "stations");
	} else {
		c->hmsg_ok = 0;
		snprintf(c->hmsg, sizeof c->hmsg, "cannot read session %s: %s",
		    id, err);
		return;
	}
	wg_field_set(&c->name, jstr(se, "session_name"));
	/* The frequency as typed: MHz without trailing zeros. */
	snprintf(mhz, sizeof mhz, "%.6f", json_number_value(json_object_get(se,
	    "frequency_hz")) / 1e6);
	for (n = strlen(mhz); n > 0 && mhz[n - 1] == '0'; n--)
		mhz[n - 1] = '\0';
	if (n > 0 && mhz[n - 1] == '.')
		mhz[n - 1] = '\0';
	wg_field_set(&c->freq, mhz);
	wg_slider_init(&c->dur, SESSION_DURATION_MIN, SESSION_DURATION_MAX,
	    (int)jint(se, "duration_seconds") >= SESSION_DURATION_MIN &&
	    (int)jint(se, "duration_seconds") <= SESSION_DURATION_MAX ?
	    (int)jint(se, "duration_seconds") : 10);
	/* its chunk length (1000 ms before sessions kept it) */
	c->chunk_ms = (int)jint(se, "chunk_ms") >= SESSION_CHUNK_MS_MIN &&
	    (int)jint(se, "chunk_ms") <= SESSION_CHUNK_MS_MAX ?
	    (int)jint(se, "chunk_ms") : SESSION_CHUNK_MS_DEFAULT;
	wg_field_set(&c->notes, jstr(se, "notes"));
	wg_field_set(&c->group, jstr(se, "group_id"));
	/* A start instant is of its moment: never repeated. */
	wg_field_set(&c->at, "");
	if (dataset_sources_list(c->cfg->ds, &src, &nsrc, err,
	    sizeof err) == 0) {
		for (i = 0; i < nsrc; i++)
			if (strcmp(src[i].id, jstr(se, "known_source_id")) == 0)
				c->src_pick = i;
		free(src);
	}
	/* and its stations: those the operator left out stay out */
	confirm_pick_from(c, sts);
	snprintf(c->note_cfg, sizeof c->note_cfg, "settings of \"%s\" "
	    "loaded: check them, then Start", jstr(se, "session_name"));
	json_decref(man);
	memset(c->ferr, 0, sizeof c->ferr);
	c->id[0] = '\0';		/* a new session, as 'n' on Complete */
	c->focus = CF_NAME;
	config_enter(c);
}

/*
 * The selected session exported (issue 14), as session:export does: into
 * the dataset's exports/ folder, SigMF or the training arrays; what was
 * written, or why not, on the message line.
 */
static void
export_selected(struct con *c, const char *id, int arrays)
{
	char	 dir[4096], err[1024], file[4200];
	json_t	*res;

	c->hmsg_ok = 0;
	if (util_fmt(dir, sizeof dir, "%s/exports", dataset_dir(c->cfg->ds))
	    != 0 || util_mkdirs(dir, err, sizeof err) != 0) {
		snprintf(c->hmsg, sizeof c->hmsg, "export: no exports folder");
		return;
	}
	if (arrays) {
		struct arrays_opts o = { .out_dir = dir };
		if (arrays_export(c->cfg->ds, id, &o, file, sizeof file, err,
		    sizeof err) != 0) {
			snprintf(c->hmsg, sizeof c->hmsg, "export: %s", err);
			return;
		}
		snprintf(c->hmsg, sizeof c->hmsg, "arrays written: %s", file);
	} else {
		struct sigmf_opts o = { .out_dir = dir, .archive = 0 };
		if ((res = sigmf_export(c->cfg->ds, id, &o, err,
		    sizeof err)) == NULL) {
			snprintf(c->hmsg, sizeof c->hmsg, "export: %s", err);
			return;
		}
		snprintf(c->hmsg, sizeof c->hmsg, "SigMF written: %s",
		    json_string_value(json_object_get(res, "dir")) != NULL ?
		    json_string_value(json_object_get(res, "dir")) : dir);
		json_decref(res);
	}
	c->hmsg_ok = 1;
	c->force = 1;
}

void
history_key(struct con *c, int k)
{
	int		 n = (int)json_array_size(c->hlist);
	const json_t	*s = json_array_get(c->hlist, (size_t)c->hsel);

	if (k == WG_KEY_F1 || k == '?') {
		c->modal = MO_HELP;
		return;
	}
	if (k == 'r' || k == 'R') {
		if (s != NULL)
			record_again(c, jstr(s, "id"));
		return;
	}
	if (k == 'e' || k == 'E' || k == 'a' || k == 'A') {
		if (s != NULL)
			export_selected(c, jstr(s, "id"), k == 'a' || k == 'A');
		return;
	}
	if (c->hdetail) {
		if (k == WG_KEY_ESC || k == WG_KEY_ENTER) {
			c->hdetail = 0;
			c->force = 1;
		} else
			grid_key(&c->hgrid, k, c->hnrows, c->htotal, 0);
		return;
	}
	switch (k) {
	case WG_KEY_ESC:
		if (c->hback == SC_COMPLETE)
			c->sc = SC_COMPLETE;
		else if (c->hback == SC_SCHED) {
			c->sc = SC_SCHED;	/* back: sback kept */
			sched_enter(c);
		}
		else
			config_enter(c);
		c->force = 1;
		return;
	case 's': case 'S':
		if (c->hback == SC_SCHED)
			c->sc = SC_SCHED;	/* back there: sback kept */
		sched_enter(c);
		return;
	case WG_KEY_ENTER:
		if (s != NULL && detail_load(c, jstr(s, "id")) == 0) {
			c->hdetail = 1;
			c->hmsg[0] = '\0';
		}
		return;
	case WG_KEY_UP: case 'k': c->hsel--; break;
	case WG_KEY_DOWN: case 'j': c->hsel++; break;
	case WG_KEY_PGUP: c->hsel -= LINES - 7; break;
	case WG_KEY_PGDN: c->hsel += LINES - 7; break;
	case WG_KEY_HOME: c->hsel = 0; break;
	case WG_KEY_END: c->hsel = n - 1; break;
	default: return;
	}
	if (c->hsel >= n)
		c->hsel = n - 1;
	if (c->hsel < 0)
		c->hsel = 0;
}

void
history_help(struct con *c)
{
	static const char *hl[] = {
		"Up/Down j/k        choose a session (PgUp/PgDn, Home/End)",
		"Enter              its details: the coverage grid",
		"arrows             (details) a cell and its reason",
		"r                  record again with these settings",
		"e / a              export it: SigMF / training arrays (exports/)",
		"s                  schedules: planned sessions",
		"Esc                back",
		"", "any key closes this help" };

	con_draw_modal(c, "Keys: history", hl, 9);
}
