/* console.c -- the operator console's main loop: the terminal, signals,
 * the event queue drained on the UI thread, keys and frames dispatched to
 * the screen shown (ui/sc_*.c), the modals; see console.h and cstate.h. */

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ui/lazycurses.h"	/* <curses.h>, loaded on first use */

#include "ui/cstate.h"
#include "ui/sc_assign.h"
#include "ui/sc_config.h"
#include "ui/sc_confirm.h"
#include "ui/sc_history.h"
#include "ui/sc_progress.h"
#include "ui/sc_sched.h"
#include "src/base/util.h"
#include "src/engine/engine.h"
#include "src/engine/events.h"

static int	term_known(void);

static int	sig_fd = -1;
/* Set by the handler; the byte it writes only wakes the loop (it could be
 * dropped when the pipe is full of engine wake-ups, the flag cannot). */
static volatile sig_atomic_t got_int, got_term, got_winch;

/* ---- events from engine threads ---- */

/* Subscriber: runs on the emitting (engine) thread. Copy and wake; never
 * touch ncurses here. */
static void
on_event(void *ctx, const char *name, const json_t *data, const char *json,
    size_t len)
{
	(void)json;
	(void)len;
	con_queue_push(ctx, name, json_deep_copy(data));
}

static void
on_signal(int sig)
{
	int	 saved = errno;
	char	 c = 's';
	ssize_t	 n;

	if (sig == SIGINT)
		got_int = 1;
	else if (sig == SIGWINCH)
		got_winch = 1;
	else
		got_term = 1;
	if (sig_fd >= 0)
		n = write(sig_fd, &c, 1);
	(void)n;
	errno = saved;
}

/* ---- theme ---- */

static void
theme_init(struct con *c)
{
	const char	*nc = getenv("NO_COLOR");
	struct wg_theme	*t = &c->th;

	memset(t, 0, sizeof *t);
	/* UTF-8 bar and box characters only when the locale encodes them. */
	t->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	/* no-color.org: present and not empty disables colour. */
	c->color = has_colors() && (nc == NULL || nc[0] == '\0');
	if (c->color) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_CYAN, -1);
		init_pair(2, COLOR_GREEN, -1);
		init_pair(3, COLOR_YELLOW, -1);
		init_pair(4, COLOR_RED, -1);
		init_pair(5, COLOR_BLACK, COLOR_CYAN);
		init_pair(6, COLOR_BLUE, -1);
		t->title = COLOR_PAIR(1) | A_BOLD;
		t->label = A_BOLD;
		t->focus = COLOR_PAIR(1) | A_BOLD | A_UNDERLINE;
		t->error = COLOR_PAIR(4) | A_BOLD;
		t->ok = COLOR_PAIR(2);
		t->warn = COLOR_PAIR(3);
		t->bad = COLOR_PAIR(4) | A_BOLD;
		t->dim = COLOR_PAIR(6);
		t->bar = COLOR_PAIR(2);
		t->status = COLOR_PAIR(5);
		t->select = COLOR_PAIR(5) | A_BOLD;
		t->key = A_BOLD;
	} else {
		/* Plain attributes: still readable on a monochrome terminal. */
		t->title = A_BOLD;
		t->label = A_BOLD;
		t->focus = A_BOLD | A_UNDERLINE;
		t->error = A_BOLD;
		t->ok = 0;
		t->warn = A_BOLD;
		t->bad = A_BOLD;
		t->dim = 0;
		t->bar = 0;
		t->status = A_REVERSE;
		t->select = A_REVERSE;
		t->key = A_BOLD;
	}
}

static void
drain_queue(struct con *c)
{
	struct qev	*q, *next;
	long		 dropped;

	pthread_mutex_lock(&c->qlock);
	q = c->qhead;
	c->qhead = c->qtail = NULL;
	c->qn = 0;
	dropped = c->qdropped;
	pthread_mutex_unlock(&c->qlock);
	for (; q != NULL; q = next) {
		next = q->next;
		if (strcmp(q->name, "ui:probe") == 0)
			confirm_probe_done(c, q->data);
		else if (strncmp(q->name, "schedule:", 9) == 0)
			sched_event(c, q->name, q->data);
		else
			progress_event(c, q->name, q->data);
		json_decref(q->data);
		free(q);
	}
	if (dropped != c->seen_dropped) {
		c->seen_dropped = dropped;
		progress_resync(c);
	}
}

/* ---- stderr into the log ---- */

static void
stderr_capture(struct con *c)
{
	c->saved_stderr = -1;
	c->errpipe[0] = c->errpipe[1] = -1;
	if (pipe2(c->errpipe, O_CLOEXEC) != 0)
		return;
	/* A writer must never block on a full pipe (the network thread logs
	 * through stderr): then the line is lost, not the stream. */
	fcntl(c->errpipe[1], F_SETFL, O_NONBLOCK);
	fcntl(c->errpipe[0], F_SETFL, O_NONBLOCK);
	fflush(stderr);
	c->saved_stderr = dup(STDERR_FILENO);
	dup2(c->errpipe[1], STDERR_FILENO);
}

static void
stderr_read(struct con *c, int final)
{
	ssize_t	 n;
	char	*nl;

	if (c->errpipe[0] < 0)
		return;
	for (;;) {
		if (c->errlen == sizeof c->errbuf - 1) {
			/* An endless line: show what fits. */
			c->errbuf[c->errlen] = '\0';
			con_log(c, "%s", c->errbuf);
			c->errlen = 0;
		}
		n = read(c->errpipe[0], c->errbuf + c->errlen,
		    sizeof c->errbuf - 1 - c->errlen);
		if (n <= 0)
			break;
		c->errlen += (size_t)n;
		c->errbuf[c->errlen] = '\0';
		while ((nl = memchr(c->errbuf, '\n', c->errlen)) != NULL) {
			*nl = '\0';
			if (final)
				fprintf(stderr, "%s\n", c->errbuf);
			else if (c->errbuf[0] != '\0')
				con_log(c, "%s", c->errbuf);
			c->errlen -= (size_t)(nl + 1 - c->errbuf);
			memmove(c->errbuf, nl + 1, c->errlen);
		}
	}
	if (final && c->errlen > 0) {
		c->errbuf[c->errlen] = '\0';
		fprintf(stderr, "%s\n", c->errbuf);
		c->errlen = 0;
	}
}

static void
stderr_restore(struct con *c)
{
	if (c->saved_stderr < 0)
		return;
	fflush(stderr);
	dup2(c->saved_stderr, STDERR_FILENO);
	close(c->saved_stderr);
	close(c->errpipe[1]);
	/* What was written but not shown yet goes to the real stderr. */
	stderr_read(c, 1);
	close(c->errpipe[0]);
}

static void
draw_help(struct con *c)
{
	switch (c->sc) {
	case SC_CONFIG:
		config_help(c);
		break;
	case SC_ASSIGN:
		assign_help(c);
		break;
	case SC_CONFIRM:
		confirm_help(c);
		break;
	case SC_PROGRESS:
		progress_help(c);
		break;
	case SC_COMPLETE:
		complete_help(c);
		break;
	case SC_HISTORY:
		history_help(c);
		break;
	case SC_SCHED:
		sched_help(c);
		break;
	}
}

static void
render(struct con *c)
{
	static const char *cancel[] = {
		"The session ends failed; chunks already stored are kept.",
		"", "y  cancel it      n, Esc  keep recording" };
	static const char *quit[] = { "", "y  quit      n, Esc  stay" };

	erase();
	if (COLS < CON_MIN_COLS || LINES < CON_MIN_LINES) {
		/* Rather than buttons cut off: what is needed. */
		char msg[128];
		snprintf(msg, sizeof msg, "terminal too small (needs %dx%d, "
		    "80x24 is best; this is %dx%d)", CON_MIN_COLS,
		    CON_MIN_LINES, COLS, LINES);
		mvaddnstr(LINES / 2, 0, msg, COLS);
		curs_set(0);
	} else {
		switch (c->sc) {
		case SC_CONFIG:
			config_draw(c);
			break;
		case SC_ASSIGN:
			assign_draw(c);
			break;
		case SC_CONFIRM:
			confirm_draw(c);
			break;
		case SC_PROGRESS:
			progress_draw(c);
			break;
		case SC_COMPLETE:
			progress_draw(c);
			break;
		case SC_HISTORY:
			history_draw(c);
			break;
		case SC_SCHED:
			sched_draw(c);
			break;
		}
		if (c->modal == MO_HELP)
			draw_help(c);
		else if (c->modal == MO_CANCEL)
			con_draw_modal(c, "Cancel the acquisition?", cancel, 3);
		else if (c->modal == MO_QUIT)
			con_draw_modal(c, "Quit heimdall-rec?", quit, 2);
	}
	/* ncurses sends only the cells that differ from the last frame. */
	wnoutrefresh(stdscr);
	doupdate();
	c->dirty = 0;
	c->force = 0;
	c->last_frame = mono();
}

/* ---- keys ---- */

static int
map_key(int r, wint_t ch)
{
	if (r == KEY_CODE_YES) {
		switch (ch) {
		case KEY_LEFT: return WG_KEY_LEFT;
		case KEY_RIGHT: return WG_KEY_RIGHT;
		case KEY_UP: return WG_KEY_UP;
		case KEY_DOWN: return WG_KEY_DOWN;
		case KEY_HOME: return WG_KEY_HOME;
		case KEY_END: return WG_KEY_END;
		case KEY_PPAGE: return WG_KEY_PGUP;
		case KEY_NPAGE: return WG_KEY_PGDN;
		case KEY_BACKSPACE: return WG_KEY_BACKSPACE;
		case KEY_DC: return WG_KEY_DELETE;
		case KEY_ENTER: return WG_KEY_ENTER;
		case KEY_BTAB: return WG_KEY_BTAB;
		case KEY_F(1): return WG_KEY_F1;
		case KEY_F(2): return WG_KEY_F2;
		case KEY_F(3): return WG_KEY_F3;
		case KEY_F(10): return WG_KEY_F10;
		case KEY_RESIZE: return WG_KEY_RESIZE;
		}
		return -1;
	}
	switch (ch) {
	case '\r': case '\n': return WG_KEY_ENTER;
	case '\t': return WG_KEY_TAB;
	case 27: return WG_KEY_ESC;
	case 0x7f: case 8: return WG_KEY_BACKSPACE;
	case 1: return WG_KEY_HOME;		/* Ctrl-A */
	case 5: return WG_KEY_END;		/* Ctrl-E */
	case 11: return WG_KEY_CTRL_K;
	case 21: return WG_KEY_CTRL_U;
	case 23: return WG_KEY_CTRL_W;
	}
	return (int)ch;
}

static void
key(struct con *c, int k)
{
	struct session_error	e;

	c->dirty = 1;
	if (k == WG_KEY_RESIZE) {
		c->force = 1;
		return;
	}
	if (c->modal == MO_HELP) {
		c->modal = MO_NONE;
		return;
	}
	if (c->modal == MO_CANCEL) {
		if (k == 'y' || k == 'Y') {
			if (engine_session_cancel(c->cfg->eng, c->id,
			    "by the operator", &e) != 0)
				con_log(c, "cancel: %s", e.msg);
			else
				con_log(c, "cancelling; stored chunks are kept");
			c->modal = MO_NONE;
		} else if (k == 'n' || k == 'N' || k == WG_KEY_ESC)
			c->modal = MO_NONE;
		return;
	}
	if (c->modal == MO_QUIT) {
		if (k == 'y' || k == 'Y' || k == 'q')
			c->quit = 1;
		else if (k == 'n' || k == 'N' || k == WG_KEY_ESC)
			c->modal = MO_NONE;
		return;
	}
	switch (c->sc) {
	case SC_CONFIG:
		config_key(c, k);
		break;
	case SC_ASSIGN:
		assign_key(c, k);
		break;
	case SC_CONFIRM:
		confirm_key(c, k);
		break;
	case SC_PROGRESS:
		progress_key(c, k);
		break;
	case SC_COMPLETE:
		complete_key(c, k);
		break;
	case SC_HISTORY:
		history_key(c, k);
		break;
	case SC_SCHED:
		sched_key(c, k);
		break;
	}
}

/* Ctrl-C asks, on every screen, as Esc does on the first: to cancel a
 * running acquisition, else to quit; a second Ctrl-C answers yes to the
 * quit question (never to the cancel one: a session is not lost to a
 * key held down). */
static void
on_interrupt(struct con *c)
{
	c->dirty = 1;
	if (c->sc == SC_PROGRESS && c->acquiring) {
		if (c->modal == MO_CANCEL)
			return;
		c->modal = MO_CANCEL;
		con_log(c, "Ctrl-C: confirm with y to cancel the session");
	} else if (c->sc == SC_PROGRESS)
		return;		/* already ending */
	else if (c->modal == MO_QUIT)
		c->quit = 1;
	else
		c->modal = MO_QUIT;
}

static void
on_resize(struct con *c)
{
	struct winsize	ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	/* Repaint everything at once: after a resize the terminal's idea of
	 * the screen is unknown. */
	clearok(curscr, TRUE);
	c->force = 1;
	c->dirty = 1;
}

/* ---- main loop ---- */

static void
read_wake(struct con *c)
{
	char	buf[256];
	ssize_t	n;

	while ((n = read(c->wake[0], buf, sizeof buf)) > 0)
		;
	if (got_int) {
		got_int = 0;
		on_interrupt(c);
	}
	if (got_winch) {
		got_winch = 0;
		on_resize(c);
	}
	if (got_term)
		c->sig_term = 1;
}

/* The next key: get_wch in a UTF-8 locale; elsewhere bytes (getch), as
 * the C locale's get_wch drops a byte it cannot decode and what follows
 * it ("Zürich" became "Z"). */
static int
next_key(struct con *c, wint_t *ch)
{
	int	r;

	if (c->th.utf8)
		return get_wch(ch);
	if ((r = getch()) == ERR)
		return ERR;
	*ch = (wint_t)r;
	return r >= KEY_MIN ? KEY_CODE_YES : OK;
}

static void
read_keys(struct con *c)
{
	wint_t	ch, ch2;
	int	r, r2, k;

	while ((r = next_key(c, &ch)) != ERR) {
		/* Outside a UTF-8 locale the bytes of UTF-8 text come one by
		 * one: gather them into characters (the fields keep UTF-8). */
		if (r == OK && !c->th.utf8 && ch >= 0x80 && ch <= 0xff) {
			if ((k = wg_u8_feed(&c->u8, (int)ch)) >= 0)
				key(c, k);
			continue;
		}
		c->u8.need = 0;
		k = map_key(r, ch);
		if (k == 3) {		/* ^C as a key (raw terminals) */
			on_interrupt(c);
			continue;
		}
		/* Esc and Backspace at once is Alt-Backspace (the terminal
		 * sends both together): a word deleted, not the quit
		 * question. Esc and any other key stay two keys (a script or
		 * a fast operator sends "Esc y"). */
		if (k == WG_KEY_ESC && (r2 = next_key(c, &ch2)) != ERR) {
			if ((r2 == OK && (ch2 == 0x7f || ch2 == 8)) ||
			    (r2 == KEY_CODE_YES && ch2 == KEY_BACKSPACE)) {
				key(c, WG_KEY_CTRL_W);
				continue;
			}
			key(c, WG_KEY_ESC);
			if (c->quit)
				break;
			k = map_key(r2, ch2);
			if (r2 == OK && !c->th.utf8 && ch2 >= 0x80 &&
			    ch2 <= 0xff) {
				if ((k = wg_u8_feed(&c->u8, (int)ch2)) >= 0)
					key(c, k);
				continue;
			}
			if (k == 3) {
				on_interrupt(c);
				continue;
			}
		}
		if (k >= 0)
			key(c, k);
		if (c->quit)
			break;
	}
}

static void
loop(struct con *c)
{
	struct pollfd	pf[3];
	double		now, due;
	int		timeout, nfd;

	while (!c->quit) {
		if (c->sig_term) {
			/* SIGTERM/SIGHUP: stop the session (chunks kept). */
			struct session_error e;
			if (c->acquiring)
				engine_session_cancel(c->cfg->eng, c->id,
				    "the console was terminated", &e);
			break;
		}
		/* During acquisition the bar moves with the clock; on the
		 * schedules, the countdowns each second. */
		if (c->sc == SC_PROGRESS && c->acquiring)
			c->dirty = 1;
		if (c->sc == SC_SCHED && util_now() >= c->stick)
			c->dirty = 1;
		now = mono();
		if (c->dirty || c->force) {
			due = c->force ? now : c->last_frame + FRAME_S;
			if (due <= now) {
				render(c);
				continue;
			}
			timeout = (int)((due - now) * 1000) + 1;
		} else if (c->sc == SC_SCHED) {
			/* (bounded: the wall clock may be set back) */
			timeout = (int)((c->stick - util_now()) * 1000) + 1;
			if (timeout < 0 || timeout > 1001)
				timeout = timeout < 0 ? 0 : 1001;
		} else
			timeout = -1;	/* keys, events and signals wake us */
		pf[0].fd = STDIN_FILENO;
		pf[0].events = POLLIN;
		pf[1].fd = c->wake[0];
		pf[1].events = POLLIN;
		pf[2].fd = c->errpipe[0];
		pf[2].events = POLLIN;
		nfd = c->errpipe[0] >= 0 ? 3 : 2;
		pf[0].revents = pf[1].revents = pf[2].revents = 0;
		if (poll(pf, (nfds_t)nfd, timeout) < 0 && errno != EINTR)
			break;
		/* The terminal went away (SSH dropped, SIGHUP ignored): as
		 * SIGTERM, rather than spin on a dead descriptor. */
		if (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			c->sig_term = 1;
		read_wake(c);
		drain_queue(c);
		stderr_read(c, 0);
		/* stdin: always try (also catches KEY_RESIZE from ncurses). */
		read_keys(c);
		if (c->probe_running && c->probe_done) {
			pthread_join(c->probe_th, NULL);
			c->probe_running = 0;
		}
	}
}

int
console_run(const struct console_config *cfg, char *err, size_t errlen)
{
	struct con		*c;
	struct sigaction	 sa;
	sigset_t		 set;
	int			 sub;
	SCREEN			*scr;

	/* ncursesw is loaded here, not at start (ui/lazycurses.h) */
	if (lazycurses_load(err, errlen) != 0)
		return -1;
	if ((c = calloc(1, sizeof *c)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->cfg = cfg;
	pthread_mutex_init(&c->qlock, NULL);
	if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		free(c);
		return -1;
	}
	config_defaults(c);
	sched_defaults(c);
	setlocale(LC_ALL, "");
	/* newterm (not initscr) so a bad TERM is an error, not an exit;
	 * checked first because a failing newterm leaks its pre-screen. */
	if (!term_known() || (scr = newterm(NULL, stdout, stdin)) == NULL) {
		snprintf(err, errlen, "cannot use the terminal \"%s\" (check "
		    "TERM)", getenv("TERM") != NULL ? getenv("TERM") : "");
		close(c->wake[0]);
		close(c->wake[1]);
		free(c);
		return -1;
	}
	set_term(scr);
	set_escdelay(40);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	theme_init(c);

	/* Signals become bytes on the wake pipe, read by this thread. Ours
	 * replaces ncurses' SIGWINCH handler: the loop resizes itself. */
	sig_fd = c->wake[1];
	got_int = got_term = got_winch = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	stderr_capture(c);
	if (cfg->notice != NULL)
		con_log(c, "%s", cfg->notice);
	/* The passband waterfall's spectra (session:spectrum). */
	engine_set_spectra(cfg->eng, 1);
	sub = events_subscribe(cfg->ev, on_event, c);
	c->force = 1;
	loop(c);
	events_unsubscribe(cfg->ev, sub);
	engine_set_spectra(cfg->eng, 0);

	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sig_fd = -1;
	endwin();
	delscreen(scr);
	stderr_restore(c);
	if (c->probe_running)
		pthread_join(c->probe_th, NULL);
	/* Events queued after the last frame. */
	drain_queue(c);
	if (c->acquiring)
		fprintf(stderr, "heimdall-rec: session %s cancelled; its "
		    "stored chunks are in %s/sessions/%s/\n", c->id,
		    cfg->data_dir, c->id);
	else if (c->final != NULL) {
		char word[64];
		session_outcome_text(jstr(c->final, "status"), jint(
		    json_object_get(c->final, "summary"), "chunks_missing"),
		    word, sizeof word);
		fprintf(stderr, "heimdall-rec: last session %s %s: %s/sessions/"
		    "%s/\n", c->last_id, word, cfg->data_dir, c->last_id);
	}
	json_decref(c->final);
	rows_free(c->rows, c->nrows);
	history_free(c);
	sched_free(c);
	confirm_free(c);
	free(c->src);
	free(c->srcnames);
	close(c->wake[0]);
	close(c->wake[1]);
	pthread_mutex_destroy(&c->qlock);
	free(c);
	return 0;
}

/*
 * Last in the file: <term.h> defines a macro for every terminfo capability
 * ("lines", "columns", "tab", ...), which must not reach the code above.
 */
#include <term.h>

/* 1 if $TERM has a terminfo entry. */
static int
term_known(void)
{
	int	err = 0;

	if (setupterm(NULL, STDOUT_FILENO, &err) != OK)
		return 0;
	del_curterm(cur_term);
	cur_term = NULL;
	return 1;
}
