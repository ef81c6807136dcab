/*
 * lazycurses.h -- ncursesw (and its libtinfo), loaded when the console
 * starts rather than linked: every ui/ file includes this header instead of
 * <curses.h>.
 *
 * Why: a linked library is loaded, relocated and initialized at every start
 * of heimdall-rec. ncursesw and libtinfo are two shared objects and ~2,000
 * relocations that only `console` uses; a `record` paid for them at each
 * start (with GSL, ~1-2 ms of CPU: bench/README.md, "The fixed part at 7
 * stations", branch boot5).
 *
 * How: lazycurses.c defines the ncurses functions ui/ calls, with their
 * own names and prototypes, forwarding to the real ones (src/base/dynlib.h,
 * as store/lazylib.c does for libpq). The five variables ui/ reads
 * (stdscr, curscr, LINES, COLS, cur_term) cannot be forwarded by a
 * function: below, each name is a macro for the library's own variable,
 * reached through a pointer that the load fills in (dlsym gives the
 * variable's address). So `stdscr` is always the library's current value,
 * after a resize too. Before the load the pointers lead to zeroed stand-ins
 * (stdscr reads NULL), never to garbage.
 *
 * console_run() calls lazycurses_load() first: a missing library is then a
 * clear error ("cannot load libncursesw.so.6: ..."). A forwarding function
 * reached before that loads the library itself (or aborts naming the
 * function if it cannot be loaded: a bug).
 */
#ifndef LAZYCURSES_H
#define LAZYCURSES_H

#include <stddef.h>

#include <curses.h>

/* Load ncursesw (once; thread-safe). 0, or -1 and a message in err. */
int	lazycurses_load(char *err, size_t errlen);

/* The library's variables. The macros also turn curses.h's and term.h's
 * own declarations (extern WINDOW *stdscr; ...) into declarations of these
 * pointers' targets, with the same types: they agree. */
struct term;
extern WINDOW		**lazycurses_stdscr;
extern WINDOW		**lazycurses_curscr;
extern int		 *lazycurses_LINES;
extern int		 *lazycurses_COLS;
extern struct term	**lazycurses_cur_term;

#define stdscr		(*lazycurses_stdscr)
#define curscr		(*lazycurses_curscr)
#define LINES		(*lazycurses_LINES)
#define COLS		(*lazycurses_COLS)
#define cur_term	(*lazycurses_cur_term)

#endif
