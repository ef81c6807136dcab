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

#include <curses.h>

#include "ui/cstate.h"
#include "ui/sc_assign.h"
#include "ui/sc_config.h"
#include "ui/sc_confirm.h"
#include "ui/sc_progress.h"
#include "src/engine/config.h"
#include "src/engine/engine.h"
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
	/* reachable AND accepting this session (the shared probe) */
	int			 ok = engine_probe(c->cfg->eng, &c->p, 0, NULL);

	con_queue_push(c, "ui:probe", json_pack("{s:i, s:i, s:i}", "gen", pr->gen,
	    "ok", ok, "total", st->n));
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

static void
start_session(struct con *c)
{
	struct session_error	e, e2;
	const char		*key;
	int			 s = wg_list_selected(&c->list);

	if (s < 0)
		return;
	/* Fresh state before the first event of the session is applied. */
	progress_reset(c);
	c->total = c->p.duration_s;
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
	if (engine_session_start(c->cfg->eng, &c->p, c->id, &e) != 0) {
		c->id[0] = '\0';
		snprintf(c->msg, sizeof c->msg, "Cannot start: %s", e.msg);
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

/* The queue overflowed: re-read counters and station states. */

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
	KV("Duration", "%d s (%d chunks per station)", c->p.duration_s,
	    c->p.duration_s);
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
	if (c->probe_done && c->probe_ok < c->probe_total)
		wg_put(stdscr, y++, vx, w - vx - 1, c->th.warn,
		    "unreachable stations will be retried, then marked failed");
	y++;
	wg_put(stdscr, y + 1, lx, w - lx - 1, c->th.select,
	    "[ Enter: start acquisition ]");
	if (c->msg[0] != '\0')
		wg_put(stdscr, y + 3, lx, w - lx - 1, c->th.error, c->msg);
	con_status_line(c, "Enter start  Esc back  ? keys  q quit");
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
	c->sc = SC_CONFIRM;
	c->msg[0] = '\0';
	probe_start(c);
}

void
confirm_help(struct con *c)
{
	static const char *cnf[] = {
		"Enter              start acquisition",
		"Esc                back to the source",
		"q                  quit",
		"", "any key closes this help" };

	con_draw_modal(c, "Keys: start acquisition", cnf, 5);
}

void
confirm_key(struct con *c, int k)
{
	if (k == WG_KEY_ENTER)
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
	}
	c->dirty = 1;
}
