/* sc_config.c -- step 1, Configure; see sc_config.h. */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/lazycurses.h"	/* <curses.h>, loaded on first use */

#include "ui/cstate.h"
#include "ui/sc_assign.h"
#include "ui/sc_config.h"
#include "ui/sc_history.h"
#include "ui/sc_sched.h"
#include "src/engine/config.h"
#include "src/engine/session.h"

/* ---- configure: validation as you type ---- */

/* Parse the frequency field (the one parser of typed frequencies, the
 * CLI's --freq too): 0 and *hz, or -1 with the message in ferr. */
static int
check_freq(struct con *c, double *hz)
{
	struct session_error	 e;
	char			 err[256];
	double			 mhz;

	c->ferr[CF_FREQ][0] = '\0';
	if (session_parse_mhz(c->freq.buf, 0, &mhz, err, sizeof err) != 0) {
		/* Capitalized: it stands alone under the field. */
		if (err[0] >= 'a' && err[0] <= 'z')
			err[0] = (char)(err[0] - 'a' + 'A');
		snprintf(c->ferr[CF_FREQ], sizeof c->ferr[CF_FREQ], "%s", err);
		return -1;
	}
	*hz = mhz * 1e6;
	if (session_check_frequency(c->cfg->stations, *hz, &e) != 0) {
		snprintf(c->ferr[CF_FREQ], sizeof c->ferr[CF_FREQ], "%s",
		    e.msg);
		return -1;
	}
	return 0;
}

static int
check_name(struct con *c)
{
	c->ferr[CF_NAME][0] = '\0';
	if (wg_field_blank(&c->name)) {
		snprintf(c->ferr[CF_NAME], sizeof c->ferr[CF_NAME],
		    "Session name is required");
		return -1;
	}
	return 0;
}

/* The group: empty, or a token (letters, digits . _ : -). */
static int
check_group(struct con *c)
{
	c->ferr[CF_GROUP][0] = '\0';
	if (c->group.len > 0 && !util_is_token(c->group.buf,
	    SESSION_GROUP_MAX)) {
		snprintf(c->ferr[CF_GROUP], sizeof c->ferr[CF_GROUP], "Group: "
		    "1-%d letters, digits, . _ : - (no spaces)",
		    SESSION_GROUP_MAX);
		return -1;
	}
	return 0;
}

/* The start instant: empty (at once), ISO 8601 UTC or +N[s|m|h]; *t the
 * instant (0: at once). */
static int
check_at(struct con *c, double *t)
{
	*t = 0;
	c->ferr[CF_AT][0] = '\0';
	if (wg_field_blank(&c->at))
		return 0;
	if (util_parse_when(c->at.buf, util_now(), t) != 0) {
		snprintf(c->ferr[CF_AT], sizeof c->ferr[CF_AT], "Start at: an "
		    "ISO 8601 UTC time (2026-12-02T10:00:00Z) or +N[s|m|h] "
		    "from now");
		return -1;
	}
	return 0;
}

int
config_start_at(struct con *c, double *t)
{
	return check_at(c, t);
}

/* The chunk lengths c/C step through on the duration (--chunk-ms takes
 * any of 100-5000 ms; these divide most durations). */
static const int chunk_steps[] = { 100, 200, 250, 500, 1000, 2000, 2500,
    5000 };
#define NSTEPS	((int)(sizeof chunk_steps / sizeof chunk_steps[0]))

static void
chunk_step(struct con *c, int dir)
{
	int	i, at = -1;

	for (i = 0; i < NSTEPS; i++)
		if (chunk_steps[i] == c->chunk_ms)
			at = i;
	if (at < 0)	/* a --chunk-ms off the steps: the nearest below */
		for (at = 0; at + 1 < NSTEPS && chunk_steps[at + 1] <
		    c->chunk_ms; at++)
			;
	at = (at + dir + NSTEPS) % NSTEPS;
	c->chunk_ms = chunk_steps[at];
}

/* Everything of step 1; focuses the first bad field. 0 when valid. */
static int
validate_config(struct con *c)
{
	struct session_error	e;
	double			hz = 0;
	int			bad = -1;

	if (check_name(c) != 0)
		bad = CF_NAME;
	if (check_freq(c, &hz) != 0 && bad < 0)
		bad = CF_FREQ;
	if (check_group(c) != 0 && bad < 0)
		bad = CF_GROUP;
	if (check_at(c, &c->start_at) != 0 && bad < 0)
		bad = CF_AT;
	if (bad >= 0) {
		c->focus = bad;
		snprintf(c->msg, sizeof c->msg, "Not started: %s",
		    bad == CF_NAME ? "the session needs a name" :
		    bad == CF_FREQ ? "the frequency needs fixing" :
		    bad == CF_GROUP ? "the group needs fixing" :
		    "the start instant needs fixing");
		return -1;
	}
	session_params_init(&c->p);
	snprintf(c->p.name, sizeof c->p.name, "%s", c->name.buf);
	c->p.freq_hz = hz;
	c->p.duration_s = c->dur.value;
	c->p.chunk_ms = c->chunk_ms;
	snprintf(c->p.notes, sizeof c->p.notes, "%s", c->notes.buf);
	snprintf(c->p.group, sizeof c->p.group, "%s", c->group.buf);
	c->p.low_cut = c->cfg->low_cut;
	c->p.high_cut = c->cfg->high_cut;
	if (c->cfg->preset != NULL)	/* console --group (issue 16) */
		snprintf(c->p.group, sizeof c->p.group, "%s",
		    c->cfg->preset->group);
	if (session_validate(&c->p, c->cfg->stations, &e) != 0) {
		snprintf(c->msg, sizeof c->msg, "%s", e.msg);
		if (strcmp(e.field, "chunk_ms") == 0)
			c->focus = CF_DUR;
		return -1;
	}
	c->msg[0] = '\0';
	c->note_cfg[0] = '\0';
	return 0;
}

void
config_draw(struct con *c)
{
	static const char *labels[CF_N] = { "Session name", "Frequency MHz",
	    "Duration", "Notes", "Group", "Start at", "" };
	char	buf[1024], track[1024];
	int	w = COLS, fx = 18, fw, y, i, cy = -1, cx = -1;
	double	hz;

	snprintf(buf, sizeof buf, "%d station%s %s data %s",
	    c->cfg->stations->n, c->cfg->stations->n == 1 ? "" : "s",
	    con_arrows(c, "\xc2\xb7", "-"), c->cfg->data_dir);
	/* The data path is the first thing to go on a narrow terminal. */
	if (wg_text_cells(buf) > COLS - 42)
		snprintf(buf, sizeof buf, "%d station%s",
		    c->cfg->stations->n, c->cfg->stations->n == 1 ? "" : "s");
	con_title_line(c, c->th.utf8 ? "heimdall-rec \xe2\x80\x94 new recording "
	    "session" : "heimdall-rec - new recording session", buf);
	wg_rule(stdscr, &c->th, 1, 0, w, "1 Configure");
	fw = w - fx - 2;
	if (fw > 60)
		fw = 60;
	for (i = 0; i < CF_N; i++) {
		y = 3 + 2 * i;
		if (c->focus == i)
			wg_put(stdscr, y, 0, 2, c->th.focus, ">");
		if (i != CF_START)
			wg_put(stdscr, y, 2, fx - 3, c->th.label, labels[i]);
		switch (i) {
		case CF_NAME:
			con_draw_field(c, y, fx, fw, &c->name, c->focus == i, &cy,
			    &cx);
			break;
		case CF_FREQ:
			con_draw_field(c, y, fx, fw > 20 ? 20 : fw, &c->freq,
			    c->focus == i, &cy, &cx);
			break;
		case CF_NOTES:
			con_draw_field(c, y, fx, fw, &c->notes, c->focus == i, &cy,
			    &cx);
			break;
		case CF_GROUP:
			con_draw_field(c, y, fx, fw > 30 ? 30 : fw, &c->group,
			    c->focus == i, &cy, &cx);
			break;
		case CF_AT:
			con_draw_field(c, y, fx, fw > 30 ? 30 : fw, &c->at,
			    c->focus == i, &cy, &cx);
			break;
		case CF_DUR:
			wg_slider_text(&c->dur, 30, c->th.utf8, track,
			    sizeof track);
			snprintf(buf, sizeof buf, "%s %s %s %2d s  in %d-ms "
			    "chunks", con_arrows(c, "\xe2\x97\x80", "<"), track,
			    con_arrows(c, "\xe2\x96\xb6", ">"), c->dur.value,
			    c->chunk_ms);
			wg_put(stdscr, y, fx, w - fx, c->focus == i ?
			    c->th.focus : 0, buf);
			break;
		case CF_START:
			wg_put(stdscr, y, fx, w - fx, c->focus == i ?
			    c->th.select : c->th.label,
			    "[ Start Recording Session ]");
			break;
		}
		/* The line under each field: its error, else a hint. */
		buf[0] = '\0';
		if (i == CF_NAME)
			snprintf(buf, sizeof buf, "%s", c->ferr[i][0] ?
			    c->ferr[i] : "required, up to 255 bytes");
		else if (i == CF_FREQ) {
			char	left[256];
			/* the names that fit after "ok: 5 of 7 stations; " */
			size_t	ll = w - fx - 24 > 20 ? (size_t)(w - fx - 24) :
				    20;
			int	nout;
			if (ll > sizeof left)
				ll = sizeof left;
			if (c->ferr[i][0] == '\0' && !wg_field_blank(&c->freq) &&
			    check_freq(c, &hz) == 0 && (nout =
			    session_frequency_left_out(c->cfg->stations, hz,
			    left, ll)) > 0)
				/* a mixed network: say who will not record */
				snprintf(buf, sizeof buf, "%s %d of %d stations; "
				    "%s", con_arrows(c, "\xe2\x9c\x93", "ok:"),
				    c->cfg->stations->n - nout,
				    c->cfg->stations->n, left);
			else if (c->ferr[i][0] == '\0' &&
			    !wg_field_blank(&c->freq) && check_freq(c, &hz) == 0)
				snprintf(buf, sizeof buf, "%s inside every "
				    "station's range (%g-%g MHz)",
				    con_arrows(c, "\xe2\x9c\x93", "ok:"),
				    c->fmin / 1e6, c->fmax / 1e6);
			else if (c->ferr[i][0])
				snprintf(buf, sizeof buf, "%s", c->ferr[i]);
			else
				snprintf(buf, sizeof buf, "stations accept "
				    "%g-%g MHz", c->fmin / 1e6, c->fmax / 1e6);
		} else if (i == CF_DUR && c->dur.note[0] != '\0') {
			/* A digit not taken says why, where it was typed. */
			wg_put(stdscr, y + 1, fx, w - fx, c->th.error,
			    c->dur.note);
			continue;
		} else if (i == CF_DUR && (c->chunk_ms <= 0 ||
		    (long)c->dur.value * 1000 % c->chunk_ms != 0)) {
			/* said as session_validate says it */
			snprintf(buf, sizeof buf, "%d s is not a whole number "
			    "of %d-ms chunks (c/C: chunk length)",
			    c->dur.value, c->chunk_ms);
			wg_put(stdscr, y + 1, fx, w - fx, c->th.error, buf);
			continue;
		} else if (i == CF_DUR)
			snprintf(buf, sizeof buf, "%s or type digits: %d-%d s; "
			    "c/C chunk length: %ld chunks", con_arrows(c,
			    "\xe2\x86\x90/\xe2\x86\x92", "Left/Right"),
			    SESSION_DURATION_MIN, SESSION_DURATION_MAX,
			    (long)c->dur.value * 1000 / c->chunk_ms);
		/* (chunk_ms > 0 here: the branch above took the rest) */
		else if (i == CF_NOTES)
			snprintf(buf, sizeof buf, "optional");
		else if (i == CF_GROUP)
			snprintf(buf, sizeof buf, "%s", c->ferr[i][0] ?
			    c->ferr[i] : "optional: links sessions of several "
			    "recorders");
		else if (i == CF_AT) {
			double t;
			if (c->ferr[i][0] == '\0' && !wg_field_blank(&c->at) &&
			    check_at(c, &t) == 0) {
				char iso[40];
				util_iso8601(t, iso, sizeof iso);
				snprintf(buf, sizeof buf, "%s %.19sZ UTC (+N: "
				    "from Enter on step 3)",
				    con_arrows(c, "\xe2\x9c\x93", "ok:"), iso);
			} else
				snprintf(buf, sizeof buf, "%s", c->ferr[i][0] ?
				    c->ferr[i] : "optional: ISO 8601 UTC or "
				    "+N[s|m|h]; empty: at once");
		}
		if (buf[0] != '\0')
			wg_put(stdscr, y + 1, fx, w - fx, c->ferr[i][0] ?
			    c->th.error : c->th.dim, buf);
	}
	if (c->msg[0] != '\0')
		wg_put(stdscr, 17, 2, w - 4, c->th.error, c->msg);
	else if (c->note_cfg[0] != '\0')
		wg_put(stdscr, 17, 2, w - 4, c->th.warn, c->note_cfg);
	/* --listen: where the WebSocket API really is (the port, when 0 was
	 * asked); also the event log's first line. */
	if (c->cfg->notice != NULL && LINES > 19)
		wg_put(stdscr, 18, 2, w - 4, c->th.dim, c->cfg->notice);
	con_status_line(c, c->focus == CF_DUR ?
	    "Tab/Up/Down field  Left/Right or digits duration  Enter next  "
	    "? keys  F2 history  F3 schedules  Esc quit" : c->focus ==
	    CF_START ? "Enter start  Tab/Up/Down field  ? keys  F2 history  "
	    "F3 schedules  Esc quit" : "Tab/Up/Down field  Enter next  F1 "
	    "keys  F2 history  F3 schedules  Esc quit");
	if (cy >= 0) {
		curs_set(1);
		move(cy, cx);
	} else
		curs_set(0);
}

void
config_enter(struct con *c)
{
	c->sc = SC_CONFIG;
	c->msg[0] = '\0';
}

void
config_key(struct con *c, int k)
{
	struct wg_field	*f = NULL;
	double		 hz;

	if (c->focus == CF_NAME)
		f = &c->name;
	else if (c->focus == CF_FREQ)
		f = &c->freq;
	else if (c->focus == CF_NOTES)
		f = &c->notes;
	else if (c->focus == CF_GROUP)
		f = &c->group;
	else if (c->focus == CF_AT)
		f = &c->at;
	if (k == WG_KEY_F2) {
		history_enter(c);
		return;
	}
	if (k == WG_KEY_F3) {
		sched_enter(c);
		return;
	}
	if (k == WG_KEY_ESC) {
		c->modal = MO_QUIT;
		return;
	}
	if (k == WG_KEY_F1 || (k == '?' && f == NULL)) {
		c->modal = MO_HELP;
		return;
	}
	if (k == WG_KEY_TAB || k == WG_KEY_DOWN || (k == WG_KEY_ENTER &&
	    c->focus != CF_START)) {
		wg_slider_commit(&c->dur);
		if (c->focus == CF_NAME)
			check_name(c);
		else if (c->focus == CF_GROUP)
			check_group(c);
		else if (c->focus == CF_AT)
			check_at(c, &hz);
		c->focus = (c->focus + 1) % CF_N;
		return;
	}
	if (k == WG_KEY_BTAB || k == WG_KEY_UP) {
		wg_slider_commit(&c->dur);
		c->focus = (c->focus + CF_N - 1) % CF_N;
		return;
	}
	if (k == WG_KEY_ENTER) {	/* on Start */
		if (validate_config(c) == 0)
			assign_enter(c);
		return;
	}
	if (c->focus == CF_DUR && (k == 'c' || k == 'C')) {
		chunk_step(c, k == 'c' ? 1 : -1);
		c->msg[0] = '\0';
		return;
	}
	if (c->focus == CF_DUR) {
		wg_slider_key(&c->dur, k);
		return;
	}
	if (f != NULL && wg_field_key(f, k)) {
		/* Validate as you type; the name only complains once it was
		 * left empty. */
		if (f == &c->freq)
			check_freq(c, &hz);
		else if (f == &c->name && c->ferr[CF_NAME][0] != '\0')
			check_name(c);
		else if (f == &c->group)
			check_group(c);
		else if (f == &c->at && c->ferr[CF_AT][0] != '\0')
			check_at(c, &hz);
		c->msg[0] = '\0';
		c->note_cfg[0] = '\0';
	}
}

void
config_defaults(struct con *c)
{
	const struct stations	*st = c->cfg->stations;
	int			 i;
	const struct session_params *pre = c->cfg->preset;
	char			 mhz[32] = "";

	if (pre != NULL && pre->freq_hz > 0)
		snprintf(mhz, sizeof mhz, "%.10g", pre->freq_hz / 1e6);
	wg_field_init(&c->name, SESSION_NAME_MAX, pre != NULL ? pre->name : "");
	wg_field_init(&c->freq, 32, mhz);
	wg_field_init(&c->notes, SESSION_NOTES_MAX, pre != NULL ? pre->notes :
	    "");
	wg_field_init(&c->group, SESSION_GROUP_MAX, pre != NULL ? pre->group :
	    "");
	wg_field_init(&c->at, 40, "");
	wg_slider_init(&c->dur, SESSION_DURATION_MIN, SESSION_DURATION_MAX,
	    pre != NULL && pre->duration_s > 0 ? pre->duration_s : 10);
	/* as given (session_validate says what is wrong with it on Start;
	 * c/C steps to a valid one) */
	c->chunk_ms = pre != NULL ? pre->chunk_ms : SESSION_CHUNK_MS_DEFAULT;
	if (pre != NULL)	/* a session ready to start (console.h) */
		c->focus = CF_START;
	c->fmin = 0;
	c->fmax = 0;
	for (i = 0; i < st->n; i++) {
		if (i == 0 || st->v[i].freq_min_hz > c->fmin)
			c->fmin = st->v[i].freq_min_hz;
		if (i == 0 || st->v[i].freq_max_hz < c->fmax)
			c->fmax = st->v[i].freq_max_hz;
	}
	c->src_pick = 0;
}

void
config_help(struct con *c)
{
	static const char *cfg[] = {
		"Tab, Down, Enter   next field",
		"Shift-Tab, Up      previous field",
		"Left/Right         move the cursor; duration -/+ 1 s",
		"digits             type the duration (on the slider)",
		"c / C              chunk length +/- (100-5000 ms)",
		"Ctrl-A/Ctrl-E      start / end of the field (Home/End)",
		"Ctrl-W, Alt-Bksp   delete the word before the cursor",
		"Ctrl-U/Ctrl-K      delete to the start / to the end",
		"Enter on [Start]   go to the source",
		"F2                 history: past sessions, record again",
		"F3                 schedules: planned sessions, add, cancel",
		"Esc, Ctrl-C        quit (asks first)",
		"", "any key closes this help" };

	con_draw_modal(c, "Keys: configure", cfg, 14);
}
