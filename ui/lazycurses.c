/* lazycurses.c -- ncursesw loaded on first use: the functions and variables ui/ uses, forwarded by src/base/dynlib (see lazycurses.h). */

#include <stddef.h>
#include <wchar.h>

#include "ui/lazycurses.h"

#include <term.h>	/* setupterm, del_curterm; after: its macros */

#include "src/base/dynlib.h"

/*
 * libncursesw.so.6: the soname of ncurses 6's ABI (since 2015), which the
 * headers we compile against describe. It needs libtinfo.so.6; dlsym on
 * its handle also finds libtinfo's functions and variables (a handle's
 * lookup covers the libraries it loaded), so one load gives both.
 */
#define CURSES_SONAME	"libncursesw.so.6"

/*
 * Every function ui/ calls (curses.h's macros -- getch, move, attron... --
 * are calls of these), and the last four for tests/test_widgets.c (which
 * draws into a pad and reads it back, with the library loaded the same
 * way). Calling another one means adding it here: the link fails
 * otherwise, as ncursesw is not linked.
 */
#define CURSES_FUNCS(X, V) \
	X(int, clearok, (WINDOW *w, bool b), (w, b)) \
	V(delscreen, (SCREEN *s), (s)) \
	X(int, doupdate, (void), ()) \
	X(int, endwin, (void), ()) \
	X(bool, has_colors, (void), ()) \
	X(int, init_pair, (NCURSES_PAIRS_T p, NCURSES_COLOR_T f, \
	    NCURSES_COLOR_T b), (p, f, b)) \
	X(SCREEN *, newterm, (const char *t, FILE *o, FILE *i), (t, o, i)) \
	X(int, noecho, (void), ()) \
	X(int, nonl, (void), ()) \
	X(int, resizeterm, (int l, int c), (l, c)) \
	X(int, set_escdelay, (int d), (d)) \
	X(SCREEN *, set_term, (SCREEN *s), (s)) \
	X(int, start_color, (void), ()) \
	X(int, use_default_colors, (void), ()) \
	X(int, waddnstr, (WINDOW *w, const char *s, int n), (w, s, n)) \
	X(int, wattr_off, (WINDOW *w, attr_t a, void *o), (w, a, o)) \
	X(int, wattr_on, (WINDOW *w, attr_t a, void *o), (w, a, o)) \
	X(int, werase, (WINDOW *w), (w)) \
	X(int, wget_wch, (WINDOW *w, wint_t *c), (w, c)) \
	X(int, wgetch, (WINDOW *w), (w)) \
	X(int, wmove, (WINDOW *w, int y, int x), (w, y, x)) \
	X(int, wnoutrefresh, (WINDOW *w), (w)) \
	X(int, cbreak, (void), ()) \
	X(int, curs_set, (int v), (v)) \
	X(int, keypad, (WINDOW *w, bool b), (w, b)) \
	X(int, nodelay, (WINDOW *w, bool b), (w, b)) \
	X(int, setupterm, (const char *t, int fd, int *e), (t, fd, e)) \
	X(int, del_curterm, (TERMINAL *t), (t)) \
	X(WINDOW *, newpad, (int l, int c), (l, c)) \
	X(int, delwin, (WINDOW *w), (w)) \
	X(chtype, winch, (WINDOW *w), (w)) \
	X(int, winnstr, (WINDOW *w, char *s, int n), (w, s, n))

CURSES_FUNCS(DYNLIB_PTR, DYNLIB_PTRV)

/* The variables: zeroed stand-ins until the load points at the real ones. */
static WINDOW		*none_win;
static WINDOW		*none_cur;
static int		 none_lines;
static int		 none_cols;
static TERMINAL		*none_term;

WINDOW		**lazycurses_stdscr = &none_win;
WINDOW		**lazycurses_curscr = &none_cur;
int		 *lazycurses_LINES = &none_lines;
int		 *lazycurses_COLS = &none_cols;
struct term	**lazycurses_cur_term = &none_term;

/* dlsym's answer for a variable is its address: written through void **
 * like the function slots, before dynlib_load publishes the load
 * (release). A failed load may leave some pointing into the library it
 * closed again: ui/ reads them only after console_run's load succeeded. */
static const struct dynlib_sym curses_syms[] = {
	CURSES_FUNCS(DYNLIB_SYM, DYNLIB_SYMV)
	{ "stdscr", (void **)&lazycurses_stdscr },
	{ "curscr", (void **)&lazycurses_curscr },
	{ "LINES", (void **)&lazycurses_LINES },
	{ "COLS", (void **)&lazycurses_COLS },
	{ "cur_term", (void **)&lazycurses_cur_term },
	{ NULL, NULL }
};

static struct dynlib curses_lib = DYNLIB_INIT(CURSES_SONAME, curses_syms);

#define CURSES_FWD(r, n, p, a)	DYNLIB_FWD(curses_lib, r, n, p, a)
/* delscreen frees a screen: none exists before the load. */
#define CURSES_FWDV(n, p, a)	DYNLIB_FWD_FREE(curses_lib, n, p, a)
CURSES_FUNCS(CURSES_FWD, CURSES_FWDV)

int
lazycurses_load(char *err, size_t errlen)
{
	return dynlib_load(&curses_lib, err, errlen);
}
