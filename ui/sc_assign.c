/* sc_assign.c -- step 2, Assign source; see sc_assign.h. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/lazycurses.h"	/* <curses.h>, loaded on first use */

#include "ui/cstate.h"
#include "ui/sc_assign.h"
#include "ui/sc_config.h"
#include "ui/sc_confirm.h"
#include "store/dataset.h"

/* ---- assign: the sources ---- */

static int
load_sources(struct con *c)
{
	char	err[512];
	int	i, keep = -1;

	if (c->nsrc > 0 && c->src_pick >= 0 && c->src_pick < c->nsrc)
		keep = c->src_pick;
	free(c->src);
	free(c->srcnames);
	c->src = NULL;
	c->srcnames = NULL;
	c->nsrc = 0;
	if (dataset_sources_list(c->cfg->ds, &c->src, &c->nsrc, err,
	    sizeof err) != 0) {
		snprintf(c->msg, sizeof c->msg, "Cannot read the sources: %s",
		    err);
		return -1;
	}
	if ((c->srcnames = calloc((size_t)c->nsrc + 1, sizeof *c->srcnames)) ==
	    NULL)
		return -1;
	for (i = 0; i < c->nsrc; i++)
		c->srcnames[i] = c->src[i].name;
	wg_list_init(&c->list, c->srcnames, c->nsrc);
	if (keep >= 0 && keep < c->nsrc)
		wg_list_select(&c->list, keep);
	return 0;
}

void
assign_draw(struct con *c)
{
	char	buf[1024], line[1024], fit[1100];
	int	w = COLS, h, i, y, idx;
	const struct source *s;

	con_title_line(c, c->p.name, "");
	wg_rule(stdscr, &c->th, 1, 0, w, "2 Assign source: who is transmitting?");
	snprintf(buf, sizeof buf, "Filter: %s", c->list.filter);
	wg_put(stdscr, 3, 2, w - 4, c->th.label, buf);
	if (c->list.filter[0] == '\0')
		wg_put(stdscr, 3, 10, w - 12, c->th.dim,
		    "(type to filter)");
	h = LINES - 10;
	if (h < 1)
		h = 1;
	wg_list_scroll(&c->list, h);
	for (i = 0; i < h && c->list.top + i < c->list.nmatch; i++) {
		idx = c->list.match[c->list.top + i];
		s = &c->src[idx];
		if (s->frequency_hz > 0)
			snprintf(buf, sizeof buf, "%.6f MHz", s->frequency_hz /
			    1e6);
		else
			buf[0] = '\0';
		/* A marker as well as the highlight: readable without
		 * colour or reverse video. */
		snprintf(line, sizeof line, "%s %-28s %-16s %s",
		    c->list.top + i == c->list.sel ? ">" : " ", s->name, buf,
		    s->description);
		wg_fit(line, w - 4, 0, c->th.utf8, fit, sizeof fit);
		y = 5 + i;
		wg_put(stdscr, y, 2, w - 4, c->list.top + i == c->list.sel ?
		    c->th.select : 0, fit);
	}
	if (c->list.nmatch == 0)
		wg_put(stdscr, 5, 2, w - 4, c->th.warn,
		    "No source matches: Backspace edits the filter");
	idx = wg_list_selected(&c->list);
	if (idx >= 0) {
		s = &c->src[idx];
		if (strcmp(s->name, "Unknown") == 0)
			snprintf(buf, sizeof buf, "Selected: Unknown (the "
			    "transmitter is not identified)");
		else if (s->has_coords)
			snprintf(buf, sizeof buf, "Selected: %s at %.4f, %.4f",
			    s->name, s->latitude, s->longitude);
		else
			snprintf(buf, sizeof buf, "Selected: %s", s->name);
		wg_put(stdscr, LINES - 4, 2, w - 4, c->th.label, buf);
	}
	if (c->msg[0] != '\0')
		wg_put(stdscr, LINES - 3, 2, w - 4, c->th.error, c->msg);
	con_status_line(c, "type to filter  Up/Down choose  Enter assign  "
	    "Esc back  ? keys");
	curs_set(0);
}

void
assign_enter(struct con *c)
{
	if (load_sources(c) != 0)
		return;
	c->sc = SC_ASSIGN;
	c->msg[0] = '\0';
}

void
assign_key(struct con *c, int k)
{
	if (k == WG_KEY_ESC) {
		config_enter(c);
		return;
	}
	if (k == WG_KEY_F1 || k == '?') {
		c->modal = MO_HELP;
		return;
	}
	if (k == WG_KEY_ENTER) {
		confirm_enter(c);
		return;
	}
	c->msg[0] = '\0';
	wg_list_key(&c->list, k, LINES - 10);
}

void
assign_help(struct con *c)
{
	static const char *asg[] = {
		"letters            filter the list",
		"Backspace, Ctrl-U  edit / clear the filter",
		"Up/Down PgUp/PgDn  choose",
		"Enter              assign the chosen source",
		"Esc                back to the settings",
		"", "any key closes this help" };

	con_draw_modal(c, "Keys: assign source", asg, 7);
}
