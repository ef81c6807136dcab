/* cstate.c -- the console's shared helpers: event log, event queue, the
 * title/key lines, fields and modal boxes; see cstate.h. */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ui/lazycurses.h"	/* <curses.h>, loaded on first use */

#include "ui/cstate.h"

void
con_wake(struct con *c, char what)
{
	ssize_t	n;

	n = write(c->wake[1], &what, 1);
	(void)n;	/* full pipe: a wake-up is already pending */
}

/* One line per entry: a reason with a newline must not break the
 * layout. */
static void
oneline(char *line)
{
	for (; *line != '\0'; line++)
		if (*line == '\n' || *line == '\r' || *line == '\t')
			*line = ' ';
}

void
con_log(struct con *c, const char *fmt, ...)
{
	va_list		 ap;
	time_t		 t = time(NULL);
	struct tm	 tm;
	char		*line;
	size_t		 off;

	line = c->log[c->log_seq % LOG_MAX];
	if (c->log_n == LOG_MAX)
		c->log_head = (c->log_head + 1) % LOG_MAX;
	else
		c->log_n++;
	c->log_seq++;
	/* Scrolled back: stay on the same lines as new ones arrive. */
	if (c->log_back > 0 && c->log_back < c->log_n)
		c->log_back++;
	localtime_r(&t, &tm);
	off = strftime(line, 256, "%H:%M:%S ", &tm);
	va_start(ap, fmt);
	vsnprintf(line + off, 256 - off, fmt, ap);
	va_end(ap);
	oneline(line);
	c->dirty = 1;
}

void
con_log_rewrite(struct con *c, long seq, const char *fmt, ...)
{
	va_list	 ap;
	char	*line;

	if (seq < 0 || seq >= c->log_seq || c->log_seq - seq > c->log_n)
		return;
	line = c->log[seq % LOG_MAX];
	va_start(ap, fmt);
	vsnprintf(line + 9, 256 - 9, fmt, ap);	/* after "HH:MM:SS " */
	va_end(ap);
	oneline(line);
	c->dirty = 1;
}

void
con_queue_push(struct con *c, const char *name, json_t *data)
{
	struct qev	*q;

	pthread_mutex_lock(&c->qlock);
	if (c->qn >= QUEUE_MAX || (q = calloc(1, sizeof *q)) == NULL) {
		/* The UI is far behind: drop, and let it re-read the engine's
		 * snapshot (it counts what it lost). */
		c->qdropped++;
		pthread_mutex_unlock(&c->qlock);
		json_decref(data);
		con_wake(c, 'e');
		return;
	}
	snprintf(q->name, sizeof q->name, "%s", name);
	q->data = data;
	if (c->qtail != NULL)
		c->qtail->next = q;
	else
		c->qhead = q;
	c->qtail = q;
	c->qn++;
	pthread_mutex_unlock(&c->qlock);
	con_wake(c, 'e');
}


/* ---- drawing ---- */

const char *
con_arrows(const struct con *c, const char *u, const char *a)
{
	return c->th.utf8 ? u : a;
}

void
con_status_line(struct con *c, const char *keys)
{
	char	line[1024], fit[1100];
	int	h = LINES, w = COLS;

	snprintf(line, sizeof line, " %s", keys);
	wg_fit(line, w, 0, c->th.utf8, fit, sizeof fit);
	wg_put(stdscr, h - 1, 0, w, c->th.status, fit);
}

void
con_title_line(struct con *c, const char *left, const char *right)
{
	char	buf[1024];
	int	w = COLS, lw, rw;

	snprintf(buf, sizeof buf, " %s", left);
	lw = wg_text_cells(buf);
	wg_put(stdscr, 0, 0, w, c->th.title, buf);
	rw = wg_text_cells(right);
	if (lw + 2 + rw + 1 <= w)
		wg_put(stdscr, 0, w - rw - 1, rw, c->th.dim, right);
}

void
con_draw_field(struct con *c, int y, int x, int w, struct wg_field *f, int focus,
    int *cy, int *cx)
{
	char	view[WG_FIELD_MAX + 8], pad[WG_FIELD_MAX + 64];
	int	curx;

	wg_field_view(f, w, view, sizeof view, &curx);
	wg_fit(view, w, 0, c->th.utf8, pad, sizeof pad);
	wg_put(stdscr, y, x, w, focus ? c->th.focus : A_UNDERLINE, pad);
	if (focus) {
		*cy = y;
		*cx = x + curx;
	}
}


void
con_draw_modal(struct con *c, const char *title, const char *const *lines,
    int n)
{
	int	w = 0, i, bw, bh, y, x;

	for (i = 0; i < n; i++)
		if (wg_text_cells(lines[i]) > w)
			w = wg_text_cells(lines[i]);
	if (wg_text_cells(title) > w)
		w = wg_text_cells(title);
	bw = w + 4 < COLS ? w + 4 : COLS;
	bh = n + 4 < LINES ? n + 4 : LINES;
	y = (LINES - bh) / 2;
	x = (COLS - bw) / 2;
	wg_box(stdscr, &c->th, y, x, bh, bw);
	wg_put(stdscr, y + 1, x + 2, bw - 4, c->th.title, title);
	for (i = 0; i < n && i < bh - 3; i++)
		wg_put(stdscr, y + 2 + i, x + 2, bw - 4, 0, lines[i]);
	curs_set(0);
}



int
reasons_add(struct reasons *rs, const char *why)
{
	int	i;

	if (why == NULL || why[0] == '\0')
		return 0;
	for (i = 0; i < rs->n; i++)
		if (strncmp(rs->v[i], why, sizeof rs->v[i] - 1) == 0)
			return i + 1;
	if (rs->n == REASONS_MAX) {
		snprintf(rs->v[REASONS_MAX - 1], sizeof rs->v[0], "(more "
		    "reasons: see the event log)");
		return REASONS_MAX;
	}
	snprintf(rs->v[rs->n], sizeof rs->v[0], "%s", why);
	return ++rs->n;
}
