/*
 * widgets.h -- the console's drawing pieces: text field, slider, filterable
 * list, progress bar, sparkline, table layout and cell fitting.
 *
 * Each widget has a pure part -- its state, its key handling and the text it
 * draws -- that works without a terminal (tests check it directly), and a
 * small draw function onto an ncurses WINDOW. Keys are Unicode code points,
 * or WG_KEY_* (above the Unicode range, so they never collide with text).
 * Text is UTF-8; "cells" are terminal columns (wcwidth).
 */
#ifndef WIDGETS_H
#define WIDGETS_H

#include <stddef.h>

struct _win_st;

/* Keys that are not text. */
enum {
	WG_KEY_BASE = 0x110000,
	WG_KEY_LEFT, WG_KEY_RIGHT, WG_KEY_UP, WG_KEY_DOWN,
	WG_KEY_HOME, WG_KEY_END, WG_KEY_PGUP, WG_KEY_PGDN,
	WG_KEY_BACKSPACE, WG_KEY_DELETE, WG_KEY_ENTER, WG_KEY_TAB,
	WG_KEY_BTAB, WG_KEY_ESC, WG_KEY_F1, WG_KEY_F10, WG_KEY_RESIZE,
	WG_KEY_CTRL_U,		/* delete to the start of the field */
	WG_KEY_CTRL_K,		/* delete to the end */
	WG_KEY_CTRL_W,		/* delete the word before the cursor (also
				   Alt-Backspace) */
	WG_KEY_F2, WG_KEY_F3
};

/* 1 if key is printable text (not a control character, not a WG key). */
int	wg_key_is_text(int key);

/* ---- raw bytes to code points ---- */
/* A terminal in a non-UTF-8 locale (LANG=C) hands over the bytes of
 * UTF-8 text one by one: gather them. */
struct wg_u8 {
	unsigned int	cp;	/* the code point so far */
	int		need;	/* continuation bytes still expected */
	int		len;	/* the sequence's length */
};
/* Feed one byte (0-255): the code point once a sequence is whole, or -1
 * while one is pending and for an invalid byte (dropped, with a sequence
 * it cuts short; overlong forms and surrogates are invalid). */
int	wg_u8_feed(struct wg_u8 *u, int byte);

/* ---- text: UTF-8 measured in terminal cells ---- */

/* Cells s takes on screen (invalid bytes count one each). */
int	wg_text_cells(const char *s);
/* Fit s into exactly w cells: padded with spaces (left- or right-aligned),
 * or cut with an ellipsis ("…", or "~" when !utf8). out gets a NUL-terminated
 * string; returns its length in bytes. */
size_t	wg_fit(const char *s, int w, int right, int utf8, char *out,
	    size_t len);

/* ---- text field ---- */
#define WG_FIELD_MAX	4096
struct wg_field {
	char	buf[WG_FIELD_MAX + 1];	/* UTF-8 */
	size_t	len;			/* bytes */
	size_t	cur;			/* cursor, byte offset (char boundary) */
	size_t	max;			/* byte limit (<= WG_FIELD_MAX) */
};

void	wg_field_init(struct wg_field *f, size_t max, const char *text);
void	wg_field_set(struct wg_field *f, const char *text);
/* 1 if the field holds only spaces and tabs (or nothing). */
int	wg_field_blank(const struct wg_field *f);
/* Edit: text inserts at the cursor as UTF-8 whatever the locale (refused
 * past max), Backspace/Delete, Left/Right/Home/End (Ctrl-A/Ctrl-E map to
 * Home/End), Ctrl-U deletes to the start, Ctrl-K to the end, Ctrl-W and
 * Alt-Backspace the word before the cursor. 1 if the key was used. */
int	wg_field_key(struct wg_field *f, int key);
/* The part of the field shown in w cells so that the cursor is visible:
 * out gets the text, *curx the cursor's cell in it. */
void	wg_field_view(const struct wg_field *f, int w, char *out, size_t len,
	    int *curx);

/* ---- slider: integer min..max, ←/→ step 1, typed digits ---- */
struct wg_slider {
	int	min, max, value;
	int	typed;		/* the number typed so far */
	int	ndig;		/* its digits (0: none typed) */
	char	note[96];	/* why the last digit was not taken, or "" */
};

void	wg_slider_init(struct wg_slider *s, int min, int max, int value);
/* ←/→ (and Home/End) move; digits type a value: the first digit after
 * focus came (or after an arrow) starts a number ("1","5" -> 15). A
 * digit that would pass max is not taken and note says why ("31 s is
 * more than the 30 s maximum"); a number below min ("0") leaves the
 * value and says so. Backspace drops a typed digit. 1 if the key was
 * used. */
int	wg_slider_key(struct wg_slider *s, int key);
/* Forget typed digits (focus left the slider). */
void	wg_slider_commit(struct wg_slider *s);
/* The track in w cells: "━━━━●──────" (utf8) or "====O------". */
size_t	wg_slider_text(const struct wg_slider *s, int w, int utf8, char *out,
	    size_t len);

/* ---- filterable list ---- */
#define WG_LIST_MAX	4096
struct wg_list {
	const char	**items;	/* borrowed */
	int		  n;
	char		  filter[128];
	int		  match[WG_LIST_MAX];	/* indexes into items */
	int		  nmatch;
	int		  sel;		/* index into match, -1 if none */
	int		  top;		/* first row shown */
};

void	wg_list_init(struct wg_list *l, const char **items, int n);
/* Recompute matches (case-insensitive substring of the filter), keeping
 * the selected item when it still matches. */
void	wg_list_refilter(struct wg_list *l);
/* ↑/↓/PgUp/PgDn/Home/End move; text extends the filter, Backspace shortens
 * it. page: rows visible. 1 if used. */
int	wg_list_key(struct wg_list *l, int key, int page);
/* Scroll so the selection is in the h rows shown. */
void	wg_list_scroll(struct wg_list *l, int h);
/* The selected item's index in items, or -1. */
int	wg_list_selected(const struct wg_list *l);
/* Select items[idx] if it matches. */
void	wg_list_select(struct wg_list *l, int idx);

/* ---- progress bar ---- */
/* frac 0..1 in w cells: full blocks, an eighth-block edge, "░" rest; or
 * "#" and "." when !utf8. */
size_t	wg_bar_text(double frac, int w, int utf8, char *out, size_t len);

/* ---- sparkline ---- */
enum { WG_SPARK_NONE = 0, WG_SPARK_OK, WG_SPARK_MISSING };
/* One cell per value, the last w of n: state[i] says whether v[i] is a
 * value, missing (shown "×" / "x") or not there yet (" "). Values map
 * linearly from lo..hi onto "▁▂▃▄▅▆▇█" (or " .:-=+*#"). */
size_t	wg_spark_text(const double *v, const unsigned char *state, int n,
	    int w, double lo, double hi, int utf8, char *out, size_t len);

/* ---- coverage grid ---- */
/* Chunks (of nchunk) that at least min_st of n stations stored with an
 * SNR of min_snr dB or more: localization needs the same second at
 * several receivers. state/snr: row k's chunk j at [k * stride + j]
 * (WG_SPARK_* states; NaN: no SNR). */
int	wg_coverage_count(const unsigned char *state, const double *snr, int n,
	    int stride, int nchunk, double min_snr, int min_st);

/* ---- waterfall ---- */
/* One waterfall row: nbins dB values in w cells (each cell the strongest
 * of its bins; w > nbins repeats bins), lo..hi onto " .:-=+*#%@" (ASCII)
 * or " ░▒▓█". Returns the length in bytes. */
size_t	wg_waterfall_text(const float *db, int nbins, int w, double lo,
	    double hi, int utf8, char *out, size_t len);
/* The cell of w holding frequency f of a band lo..hi Hz, or -1 outside. */
int	wg_waterfall_cell(double f, double lo, double hi, int w);

/* ---- table layout ---- */
struct wg_col {
	const char	*title;
	int		 min;	/* cells */
	int		 max;	/* cells, 0: no limit */
	int		 grow;	/* share of spare width (0: fixed) */
	int		 right;	/* right-aligned */
	int		 prio;	/* dropped first when it does not fit: higher */
};
/* Widths for n columns in w cells with one space between columns: minima,
 * then spare cells shared by grow weight; columns of the highest prio are
 * dropped (width 0) until the rest fit. Returns the columns shown. */
int	wg_table_layout(const struct wg_col *cols, int n, int w, int *widths);
/* One table line: cells[i] fitted to widths[i], skipping width 0. */
size_t	wg_table_line(const struct wg_col *cols, int n, const int *widths,
	    const char *const *cells, int utf8, char *out, size_t len);

/* ---- drawing (ncurses; UI thread only) ---- */
/* Attributes the console picked for its terminal (colour, plain, none). */
struct wg_theme {
	unsigned int	title, label, focus, error, ok, warn, bad, dim, bar,
			status, select, key;
	int		utf8;
};

/* Print s at y,x cut to w cells, with attr. */
void	wg_put(struct _win_st *win, int y, int x, int w, unsigned int attr,
	    const char *s);
/* A horizontal rule of w cells, with an optional title. */
void	wg_rule(struct _win_st *win, const struct wg_theme *t, int y, int x,
	    int w, const char *title);
/* A box outline. */
void	wg_box(struct _win_st *win, const struct wg_theme *t, int y, int x,
	    int h, int w);

#endif
