/* sc_confirm.c -- step 3, Start acquisition; see sc_confirm.h. */

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ui/lazycurses.h"	/* <curses.h>, loaded on first use */

#include "ui/cstate.h"
#include "ui/sc_assign.h"
#include "ui/sc_config.h"
#include "ui/sc_confirm.h"
#include "ui/sc_progress.h"
#include "src/engine/config.h"
#include "src/engine/engine.h"
#include "src/engine/probe.h"
#include "src/engine/session.h"

/* ---- the reachability probe (src/engine/probe.h; its own thread) ---- */

struct probe {
	struct con	*c;
	int		 gen;
};

static void *
probe_main(void *arg)
{
	struct probe		*pr = arg;
	struct con		*c = pr->c;
	const struct stations	*st = c->cfg->stations;
	struct probe_result	*res = calloc((size_t)st->n + 1, sizeof *res);
	json_t			*each = json_array();
	int			 ok, i;

	/* reachable AND accepting this session (the shared probe) */
	ok = engine_probe(c->cfg->eng, &c->p, 0, res);
	for (i = 0; res != NULL && i < st->n; i++)
		json_array_append_new(each, json_pack("[b, s]",
		    res[i].accepting, res[i].reason));
	free(res);
	con_queue_push(c, "ui:probe", json_pack("{s:i, s:i, s:i, s:o}", "gen",
	    pr->gen, "ok", ok, "total", st->n, "each", each));
	free(pr);
	return NULL;
}

static void
probe_start(struct con *c)
{
	struct probe	*pr;

	if (c->probe_running) {
		/* The previous probe is short-lived (DNS + 1.5 s): wait. */
		pthread_join(c->probe_th, NULL);
		c->probe_running = 0;
	}
	c->probe_gen++;
	c->probe_done = 0;
	json_decref(c->probe_res);
	c->probe_res = NULL;
	if ((pr = malloc(sizeof *pr)) == NULL)
		return;
	pr->c = c;
	pr->gen = c->probe_gen;
	if (pthread_create(&c->probe_th, NULL, probe_main, pr) != 0) {
		free(pr);
		return;
	}
	c->probe_running = 1;
}

/* ---- the operator's choice of stations (issue 13) ---- */

/* 1 if station i can record at the session's frequency (the engine's
 * rule: session_station_takes), else 0 with why (may be NULL). */
static int
takes(struct con *c, int i, char *why, size_t len)
{
	return session_station_takes(&c->cfg->stations->v[i], c->p.freq_hz,
	    why, len);
}

/* Stations that will record: chosen and taking the frequency. */
static int
picked(struct con *c)
{
	int	i, k = 0;

	for (i = 0; c->pick != NULL && i < c->cfg->stations->n; i++)
		k += c->pick[i] && takes(c, i, NULL, 0);
	return k;
}

/* Stations chosen, taking the frequency, that the probe found not
 * accepting (they will be retried). */
static int
unanswered(struct con *c)
{
	int	i, k = 0;

	if (!c->probe_done)
		return 0;
	for (i = 0; c->pick != NULL && i < c->cfg->stations->n; i++)
		k += c->pick[i] && takes(c, i, NULL, 0) && !json_is_true(
		    json_array_get(json_array_get(c->probe_res, (size_t)i),
		    0));
	return k;
}

/* Space on a row: in or out; a station the frequency leaves out cannot
 * be included, and the message says why. */
static void
toggle(struct con *c, int i)
{
	char	why[160];

	if (c->pick == NULL || i < 0 || i >= c->cfg->stations->n)
		return;
	if (!takes(c, i, why, sizeof why)) {
		snprintf(c->msg, sizeof c->msg, "%s cannot be included: %s",
		    c->cfg->stations->v[i].name, why);
		return;
	}
	c->pick[i] = !c->pick[i];
	c->msg[0] = '\0';
}

static void
pick_all(struct con *c, int on)
{
	if (c->pick != NULL)
		memset(c->pick, on ? 1 : 0, (size_t)c->cfg->stations->n);
	c->msg[0] = '\0';
}

static void
start_session(struct con *c)
{
	struct session_error	e, e2;
	const char		*key;
	int			 s = wg_list_selected(&c->list);

	const struct stations	*sts = c->cfg->stations;
	const char		**out = NULL;
	int			 i, n = 0, rc;

	if (s < 0)
		return;
	if (c->pick != NULL && picked(c) == 0) {
		snprintf(c->msg, sizeof c->msg, "No station selected: Space "
		    "includes the row under the cursor, a includes all");
		return;
	}
	/* The stations left out by the operator, by name: the engine
	 * leaves them out, "excluded by the operator" (session_params). */
	if (c->pick != NULL && (out = calloc((size_t)sts->n + 1,
	    sizeof *out)) == NULL) {
		snprintf(c->msg, sizeof c->msg, "Cannot start: out of memory");
		return;
	}
	for (i = 0; out != NULL && i < sts->n; i++)
		if (!c->pick[i] && takes(c, i, NULL, 0))
			out[n++] = sts->v[i].name;
	/* Fresh state before the first event of the session is applied. */
	progress_reset(c);
	c->total = session_total_chunks(&c->p);
	c->chunk = c->measurements = 0;
	c->acquiring = 0;
	c->paused = 0;
	c->qpos = 0;
	json_decref(c->final);
	c->final = NULL;
	snprintf(c->status, sizeof c->status, "recording");
	key = strcmp(c->src[s].name, "Unknown") == 0 ? "unknown" :
	    c->src[s].id;
	snprintf(c->source_name, sizeof c->source_name, "%s", c->src[s].name);
	c->src_pick = s;
	/* The engine's three steps. They are quick (a manifest write, no
	 * network): acquisition itself runs on the engine's threads. */
	c->p.exclude = out;
	c->p.nexclude = n;
	rc = engine_session_start(c->cfg->eng, &c->p, c->id, &e);
	c->p.exclude = NULL;	/* read by the call only */
	c->p.nexclude = 0;
	free(out);
	if (rc != 0) {
		c->id[0] = '\0';
		snprintf(c->msg, sizeof c->msg, "Cannot start: %s", e.msg);
		if (strcmp(e.field, "exclude") == 0)
			return;		/* the choice is made here */
		c->sc = SC_CONFIG;
		if (strcmp(e.field, "frequency_hz") == 0 ||
		    strcmp(e.field, "frequency_mhz") == 0)
			c->focus = CF_FREQ;
		return;
	}
	if (engine_session_assign(c->cfg->eng, c->id, key, &e) != 0) {
		engine_session_cancel(c->cfg->eng, c->id, e.msg, &e2);
		snprintf(c->msg, sizeof c->msg, "Cannot assign the source: %s",
		    e.msg);
		c->sc = SC_ASSIGN;
		return;
	}
	/* Before acquisition: its first fix may come at once. */
	locpanel_reset(&c->lp, c->id);
	/* The start instant now: "+30s" counts from this Enter. */
	if (config_start_at(c, &c->start_at) != 0)
		c->start_at = 0;
	if (engine_session_acquire_at(c->cfg->eng, c->id, c->start_at,
	    &e) != 0) {
		engine_session_cancel(c->cfg->eng, c->id, e.msg, &e2);
		snprintf(c->msg, sizeof c->msg, "Cannot start acquisition: %s",
		    e.msg);
		return;
	}
	c->msg[0] = '\0';
	c->acquiring = 1;
	c->t_chunk = mono();
	c->sc = SC_PROGRESS;
	c->force = 1;
}

/*
 * The stations, one row each from y to bottom (exclusive), scrolled to
 * keep the cursor's row shown, under a line "k of n stations selected":
 *   > [x]  3 Sim 3                   accepting
 *     [ ]  4 Sim 4                   excluded by the operator
 *      -   5 Sim 5                   10 MHz is outside its range ...
 * Returns the next free line.
 */
static int
draw_stations(struct con *c, int y, int bottom)
{
	const struct stations	*sts = c->cfg->stations;
	char			 buf[512], why[160];
	int			 w = COLS, lx = 4, h, i, k = picked(c);

	snprintf(buf, sizeof buf, "%d of %d stations selected", k, sts->n);
	wg_put(stdscr, y++, lx, w - lx - 1, k == 0 ? c->th.error :
	    c->th.label, buf);
	h = bottom - y;
	c->pick_rows = h > 1 ? h : 1;
	if (h < 1 || sts->n == 0 || c->pick == NULL)
		return y;
	if (c->pick_sel >= sts->n)
		c->pick_sel = sts->n - 1;
	if (c->pick_sel < 0)
		c->pick_sel = 0;
	if (c->pick_sel < c->pick_top)
		c->pick_top = c->pick_sel;
	if (c->pick_sel >= c->pick_top + h)
		c->pick_top = c->pick_sel - h + 1;
	if (c->pick_top > sts->n - h)
		c->pick_top = sts->n - h > 0 ? sts->n - h : 0;
	for (i = c->pick_top; i < sts->n && y < bottom; i++, y++) {
		const json_t	*pr = json_array_get(c->probe_res, (size_t)i);
		int		 in = takes(c, i, why, sizeof why);
		int		 on = in && c->pick[i], cur = i == c->pick_sel;
		unsigned int	 attr = 0;

		wg_put(stdscr, y, lx - 2, 2, c->th.select, cur ? ">" : "");
		wg_put(stdscr, y, lx, 4, cur ? c->th.select : 0, !in ? " - " :
		    on ? "[x]" : "[ ]");
		snprintf(buf, sizeof buf, "%2d %s", sts->v[i].index,
		    sts->v[i].name);
		wg_put(stdscr, y, lx + 4, 26, cur ? c->th.select : 0, buf);
		if (!in) {		/* " - ": left out, why */
			snprintf(buf, sizeof buf, "%s", why);
			attr = c->th.dim;
		} else if (!on) {
			snprintf(buf, sizeof buf, "%s", SESSION_EXCLUDED_REASON);
			attr = c->th.dim;
		} else if (!c->probe_done || pr == NULL)
			snprintf(buf, sizeof buf, "checking...");
		else if (json_is_true(json_array_get(pr, 0))) {
			snprintf(buf, sizeof buf, "accepting");
			attr = c->th.ok;
		} else {
			snprintf(buf, sizeof buf, "%s",
			    json_string_value(json_array_get(pr, 1)));
			attr = c->th.warn;
		}
		wg_put(stdscr, y, lx + 31, w - lx - 32, attr, buf);
	}
	return y;
}

void
confirm_draw(struct con *c)
{
	char	buf[1024];
	int	w = COLS, y = 3, lx = 4, vx = 22;

	con_title_line(c, c->p.name, "");
	wg_rule(stdscr, &c->th, 1, 0, w, "3 Start acquisition");
#define KV(k, ...) do {							\
	snprintf(buf, sizeof buf, __VA_ARGS__);				\
	wg_put(stdscr, y, lx, vx - lx, c->th.label, k);			\
	wg_put(stdscr, y, vx, w - vx - 1, 0, buf);			\
	y++;								\
} while (0)
	KV("Session name", "%s", c->p.name);
	KV("Frequency", "%.6f MHz", c->p.freq_hz / 1e6);
	KV("Duration", "%d s (%d chunks of %d ms per station)",
	    c->p.duration_s, session_total_chunks(&c->p), c->p.chunk_ms);
	KV("Source", "%s", c->source_name);
	KV("Notes", "%s", c->p.notes[0] ? c->p.notes : "-");
	if (c->p.group[0] != '\0')
		KV("Group", "%s", c->p.group);
	if (c->at.len > 0) {
		double	t;
		char	iso[40];
		if (config_start_at(c, &t) == 0 && t > 0) {
			util_iso8601(t, iso, sizeof iso);
			KV("Start at", "%.19sZ (chunk 0 begins then)", iso);
		}
	}
	if (c->probe_done)
		KV("Stations", "%d configured, %d reachable", c->cfg->stations->n,
		    c->probe_ok);
	else
		KV("Stations", "%d configured, checking which are reachable...",
		    c->cfg->stations->n);
	KV("Data", "%s", c->cfg->data_dir);
#undef KV
	if (unanswered(c) > 0)
		wg_put(stdscr, y++, vx, w - vx - 1, c->th.warn,
		    "unreachable stations will be retried, then marked failed");
	y = draw_stations(c, y, LINES - 5);
	wg_put(stdscr, LINES - 4, lx, w - lx - 1, c->th.select,
	    "[ Enter: start acquisition ]");
	if (c->msg[0] != '\0')
		wg_put(stdscr, LINES - 3, lx, w - lx - 1, c->th.error, c->msg);
	con_status_line(c, "Enter start  Space in/out  a all  n none  Esc back"
	    "  ? keys  q quit");
	curs_set(0);
}

/* Lines of the localization panel (without its rule) on the acquisition
 * screen, and of the session fix on the completion screen: fewer on short
 * terminals, so that the table and the event log keep their rows. */

void
confirm_enter(struct con *c)
{
	if (wg_list_selected(&c->list) < 0) {
		snprintf(c->msg, sizeof c->msg, "Choose a source first "
		    "(Backspace edits the filter)");
		return;
	}
	snprintf(c->source_name, sizeof c->source_name, "%s",
	    c->src[wg_list_selected(&c->list)].name);
	c->src_pick = wg_list_selected(&c->list);
	/* every station, the first time; then the operator's last choice */
	if (c->pick == NULL && (c->pick = malloc((size_t)c->cfg->stations->n +
	    1)) != NULL)
		memset(c->pick, 1, (size_t)c->cfg->stations->n + 1);
	c->sc = SC_CONFIRM;
	c->msg[0] = '\0';
	probe_start(c);
}

void
confirm_help(struct con *c)
{
	static const char *cnf[] = {
		"Enter              start acquisition",
		"Up/Down, j/k       move between the stations",
		"PgUp/PgDn          a page up / down",
		"Home/End           the first / last station",
		"Space              include / exclude the station",
		"a / n              include all / none",
		"Esc                back to the source",
		"q                  quit",
		"", "any key closes this help" };

	con_draw_modal(c, "Keys: start acquisition", cnf, 10);
}

void
confirm_key(struct con *c, int k)
{
	int	n = c->cfg->stations->n, page = c->pick_rows > 1 ?
		    c->pick_rows : 1;

	if (k == WG_KEY_UP || k == 'k')
		c->pick_sel = c->pick_sel > 0 ? c->pick_sel - 1 : 0;
	else if (k == WG_KEY_DOWN || k == 'j')
		c->pick_sel = c->pick_sel < n - 1 ? c->pick_sel + 1 : n - 1;
	else if (k == WG_KEY_PGUP)
		c->pick_sel = c->pick_sel > page ? c->pick_sel - page : 0;
	else if (k == WG_KEY_PGDN)
		c->pick_sel = c->pick_sel + page < n ? c->pick_sel + page :
		    n - 1;
	else if (k == WG_KEY_HOME)
		c->pick_sel = 0;
	else if (k == WG_KEY_END)
		c->pick_sel = n - 1;
	else if (k == ' ')
		toggle(c, c->pick_sel);
	else if (k == 'a' || k == 'A')
		pick_all(c, 1);
	else if (k == 'n' || k == 'N')
		pick_all(c, 0);
	else if (k == WG_KEY_ENTER)
		start_session(c);
	else if (k == WG_KEY_ESC)
		assign_enter(c);
	else if (k == 'q' || k == 'Q')
		c->modal = MO_QUIT;
	else if (k == '?' || k == WG_KEY_F1)
		c->modal = MO_HELP;
}

/* The probe thread's answer (an older probe's is ignored). */
void
confirm_probe_done(struct con *c, const json_t *d)
{
	if (jint(d, "gen") == c->probe_gen) {
		c->probe_ok = (int)jint(d, "ok");
		c->probe_total = (int)jint(d, "total");
		c->probe_done = 1;
		json_decref(c->probe_res);
		c->probe_res = json_incref(json_object_get(d, "each"));
	}
	c->dirty = 1;
}

void
confirm_pick_from(struct con *c, const json_t *stations)
{
	const struct stations	*sts = c->cfg->stations;
	const json_t		*x;
	size_t			 k;
	int			 i;

	if (c->pick == NULL && (c->pick = malloc((size_t)sts->n + 1)) ==
	    NULL)
		return;
	memset(c->pick, 1, (size_t)sts->n + 1);
	json_array_foreach(stations, k, x) {
		if (strcmp(jstr(x, "reason"), SESSION_EXCLUDED_REASON) != 0)
			continue;
		for (i = 0; i < sts->n; i++)
			if (strcmp(sts->v[i].name, jstr(x, "name")) == 0)
				c->pick[i] = 0;
	}
}

void
confirm_free(struct con *c)
{
	free(c->pick);
	c->pick = NULL;
	json_decref(c->probe_res);
	c->probe_res = NULL;
}
