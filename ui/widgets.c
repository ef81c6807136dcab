/* widgets.c -- text field, slider, list, bar, sparkline, table; see widgets.h. */

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

#include "ui/lazycurses.h"	/* <curses.h>, loaded on first use */

#include "ui/widgets.h"

int
wg_key_is_text(int key)
{
	return key >= 0x20 && key != 0x7f && key < WG_KEY_BASE &&
	    !(key >= 0x80 && key < 0xa0);
}

/* ---- UTF-8 ---- */

/* cp as UTF-8 into out (4 bytes): its length, 0 if not a character. */
static size_t
u8_encode(unsigned int cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp < 0x110000) {
		out[0] = (char)(0xf0 | cp >> 18);
		out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[3] = (char)(0x80 | (cp & 0x3f));
		return 4;
	}
	return 0;
}

int
wg_u8_feed(struct wg_u8 *u, int b)
{
	static const unsigned int min[] = { 0, 0x80, 0x800, 0x10000 };
	int	n;

	b &= 0xff;
	if (u->need > 0) {
		if ((b & 0xc0) == 0x80) {
			u->cp = u->cp << 6 | (unsigned int)(b & 0x3f);
			if (--u->need > 0)
				return -1;
			n = u->cp < 0x800 ? 1 : u->cp < 0x10000 ? 2 : 3;
			/* Overlong forms, surrogates, past U+10FFFF: no. */
			if (u->cp < min[n] || u->cp > 0x10ffff ||
			    (u->cp >= 0xd800 && u->cp <= 0xdfff) ||
			    u->len != n + 1)
				return -1;
			return (int)u->cp;
		}
		u->need = 0;	/* cut short: this byte starts anew */
	}
	if (b < 0x80)
		return b;
	if ((b & 0xe0) == 0xc0) {
		u->cp = (unsigned int)(b & 0x1f);
		u->need = 1;
	} else if ((b & 0xf0) == 0xe0) {
		u->cp = (unsigned int)(b & 0x0f);
		u->need = 2;
	} else if ((b & 0xf8) == 0xf0) {
		u->cp = (unsigned int)(b & 0x07);
		u->need = 3;
	} else
		return -1;
	u->len = u->need + 1;
	return -1;
}

/* Length of the UTF-8 sequence at s (1 for an invalid byte), its code
 * point in *cp. */
static size_t
u8_next(const char *s, size_t n, wchar_t *cp)
{
	mbstate_t	st;
	size_t		r;
	wchar_t		wc;

	memset(&st, 0, sizeof st);
	r = mbrtowc(&wc, s, n, &st);
	if (r == (size_t)-1 || r == (size_t)-2 || r == 0) {
		*cp = (unsigned char)*s;
		return 1;
	}
	*cp = wc;
	return r;
}

static int
cp_cells(wchar_t cp)
{
	int	w = wcwidth(cp);

	return w < 0 ? 1 : w;
}

int
wg_text_cells(const char *s)
{
	size_t	n = strlen(s), off = 0, k;
	wchar_t	cp;
	int	cells = 0;

	while (off < n) {
		k = u8_next(s + off, n - off, &cp);
		cells += cp_cells(cp);
		off += k;
	}
	return cells;
}

/* Append up to len-1 bytes; returns the new offset. */
static size_t
put(char *out, size_t len, size_t off, const char *s, size_t n)
{
	if (len == 0)
		return 0;
	if (off + n > len - 1)
		n = off < len - 1 ? len - 1 - off : 0;
	memcpy(out + off, s, n);
	out[off + n] = '\0';
	return off + n;
}

static size_t
put_rep(char *out, size_t len, size_t off, const char *s, int times)
{
	size_t	n = strlen(s);

	while (times-- > 0)
		off = put(out, len, off, s, n);
	return off;
}

size_t
wg_fit(const char *s, int w, int right, int utf8, char *out, size_t len)
{
	size_t	n = strlen(s), off = 0, k, o = 0;
	wchar_t	cp;
	int	cells = wg_text_cells(s), used = 0, c;

	if (len == 0)
		return 0;
	out[0] = '\0';
	if (w <= 0)
		return 0;
	if (cells <= w) {
		if (right)
			o = put_rep(out, len, o, " ", w - cells);
		o = put(out, len, o, s, n);
		if (!right)
			o = put_rep(out, len, o, " ", w - cells);
		return o;
	}
	/* Cut: keep w-1 cells of text, then the ellipsis. */
	while (off < n) {
		k = u8_next(s + off, n - off, &cp);
		c = cp_cells(cp);
		if (used + c > w - 1)
			break;
		o = put(out, len, o, s + off, k);
		used += c;
		off += k;
	}
	o = put_rep(out, len, o, " ", w - 1 - used);
	return put(out, len, o, utf8 ? "\xe2\x80\xa6" : "~", utf8 ? 3 : 1);
}

/* ---- text field ---- */

void
wg_field_init(struct wg_field *f, size_t max, const char *text)
{
	memset(f, 0, sizeof *f);
	f->max = max > WG_FIELD_MAX ? WG_FIELD_MAX : max;
	wg_field_set(f, text);
}

void
wg_field_set(struct wg_field *f, const char *text)
{
	size_t	n = text != NULL ? strlen(text) : 0;

	if (n > f->max)
		n = f->max;
	if (n > 0)
		memcpy(f->buf, text, n);
	f->buf[n] = '\0';
	f->len = f->cur = n;
}

int
wg_field_blank(const struct wg_field *f)
{
	const char	*s;

	for (s = f->buf; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t')
			return 0;
	return 1;
}

/* Byte offset of the character before off. */
static size_t
u8_prev(const char *s, size_t off)
{
	if (off == 0)
		return 0;
	off--;
	while (off > 0 && ((unsigned char)s[off] & 0xc0) == 0x80)
		off--;
	return off;
}

int
wg_field_key(struct wg_field *f, int key)
{
	char		mb[MB_LEN_MAX];
	size_t		k, p;
	wchar_t		cp;

	if (wg_key_is_text(key)) {
		/* UTF-8 by hand, not wcrtomb: the field holds UTF-8 whatever
		 * the display's locale (LANG=C keeps "Zürich"). */
		k = u8_encode((unsigned int)key, mb);
		if (k == 0)
			return 1;
		if (f->len + k > f->max)
			return 1;	/* full: swallow, nothing changes */
		memmove(f->buf + f->cur + k, f->buf + f->cur,
		    f->len - f->cur + 1);
		memcpy(f->buf + f->cur, mb, k);
		f->len += k;
		f->cur += k;
		return 1;
	}
	switch (key) {
	case WG_KEY_BACKSPACE:
		if (f->cur == 0)
			return 1;
		p = u8_prev(f->buf, f->cur);
		memmove(f->buf + p, f->buf + f->cur, f->len - f->cur + 1);
		f->len -= f->cur - p;
		f->cur = p;
		return 1;
	case WG_KEY_DELETE:
		if (f->cur == f->len)
			return 1;
		k = u8_next(f->buf + f->cur, f->len - f->cur, &cp);
		memmove(f->buf + f->cur, f->buf + f->cur + k,
		    f->len - f->cur - k + 1);
		f->len -= k;
		return 1;
	case WG_KEY_LEFT:
		f->cur = u8_prev(f->buf, f->cur);
		return 1;
	case WG_KEY_RIGHT:
		if (f->cur < f->len)
			f->cur += u8_next(f->buf + f->cur, f->len - f->cur,
			    &cp);
		return 1;
	case WG_KEY_HOME:
		f->cur = 0;
		return 1;
	case WG_KEY_END:
		f->cur = f->len;
		return 1;
	case WG_KEY_CTRL_U:
		memmove(f->buf, f->buf + f->cur, f->len - f->cur + 1);
		f->len -= f->cur;
		f->cur = 0;
		return 1;
	case WG_KEY_CTRL_K:
		f->buf[f->cur] = '\0';
		f->len = f->cur;
		return 1;
	case WG_KEY_CTRL_W:
		/* Blanks before the cursor, then the word before them. */
		p = f->cur;
		while (p > 0 && (f->buf[p - 1] == ' ' || f->buf[p - 1] == '\t'))
			p--;
		while (p > 0 && f->buf[p - 1] != ' ' && f->buf[p - 1] != '\t')
			p = u8_prev(f->buf, p);
		memmove(f->buf + p, f->buf + f->cur, f->len - f->cur + 1);
		f->len -= f->cur - p;
		f->cur = p;
		return 1;
	}
	return 0;
}

void
wg_field_view(const struct wg_field *f, int w, char *out, size_t len,
    int *curx)
{
	size_t	start = 0, off, k, o = 0;
	wchar_t	cp;
	int	cells, c;

	if (len == 0)
		return;
	out[0] = '\0';
	*curx = 0;
	if (w <= 0)
		return;
	/* Start as far left as possible with the cursor within w-1 cells
	 * (the last cell is where the cursor sits past the end). */
	for (;;) {
		cells = 0;
		for (off = start; off < f->cur; off += k) {
			k = u8_next(f->buf + off, f->cur - off, &cp);
			cells += cp_cells(cp);
		}
		if (cells <= w - 1 || start >= f->cur)
			break;
		start += u8_next(f->buf + start, f->len - start, &cp);
	}
	*curx = cells;
	cells = 0;
	for (off = start; off < f->len; off += k) {
		k = u8_next(f->buf + off, f->len - off, &cp);
		c = cp_cells(cp);
		if (cells + c > w)
			break;
		o = put(out, len, o, f->buf + off, k);
		cells += c;
	}
}

/* ---- slider ---- */

void
wg_slider_init(struct wg_slider *s, int min, int max, int value)
{
	s->min = min;
	s->max = max;
	s->value = value < min ? min : value > max ? max : value;
	s->typed = 0;
	s->ndig = 0;
	s->note[0] = '\0';
}

void
wg_slider_commit(struct wg_slider *s)
{
	s->typed = 0;
	s->ndig = 0;
	s->note[0] = '\0';
}

int
wg_slider_key(struct wg_slider *s, int key)
{
	int	v;

	if (key >= '0' && key <= '9') {
		/* What was typed, or why not: never a number built from a
		 * leftover that was not typed as one ("3","1" is 31, refused
		 * as such, not a silent 1). */
		v = s->ndig > 0 ? s->typed * 10 + (key - '0') : key - '0';
		if (v > s->max) {
			snprintf(s->note, sizeof s->note, "%d s is more than "
			    "the %d s maximum: not taken", v, s->max);
			return 1;
		}
		s->typed = v;
		s->ndig++;
		if (v >= s->min) {
			s->value = v;
			s->note[0] = '\0';
		} else
			snprintf(s->note, sizeof s->note, "%d s is less than "
			    "the %d s minimum: type %d-%d", v, s->min, s->min,
			    s->max);
		return 1;
	}
	switch (key) {
	case WG_KEY_LEFT:
		wg_slider_commit(s);
		if (s->value > s->min)
			s->value--;
		return 1;
	case WG_KEY_RIGHT:
		wg_slider_commit(s);
		if (s->value < s->max)
			s->value++;
		return 1;
	case WG_KEY_HOME:
		wg_slider_commit(s);
		s->value = s->min;
		return 1;
	case WG_KEY_END:
		wg_slider_commit(s);
		s->value = s->max;
		return 1;
	case WG_KEY_BACKSPACE:
		if (s->ndig == 0)
			return 1;
		s->typed /= 10;
		s->ndig--;
		s->note[0] = '\0';
		if (s->ndig > 0 && s->typed >= s->min)
			s->value = s->typed;
		return 1;
	}
	return 0;
}

size_t
wg_slider_text(const struct wg_slider *s, int w, int utf8, char *out,
    size_t len)
{
	size_t	o = 0;
	int	pos;

	if (len > 0)
		out[0] = '\0';
	if (w <= 0)
		return 0;
	pos = s->max > s->min ? (int)lround((double)(s->value - s->min) *
	    (w - 1) / (s->max - s->min)) : 0;
	o = put_rep(out, len, o, utf8 ? "\xe2\x94\x81" : "=", pos);
	o = put(out, len, o, utf8 ? "\xe2\x97\x8f" : "O", utf8 ? 3 : 1);
	return put_rep(out, len, o, utf8 ? "\xe2\x94\x80" : "-", w - 1 - pos);
}

/* ---- list ---- */

void
wg_list_init(struct wg_list *l, const char **items, int n)
{
	memset(l, 0, sizeof *l);
	l->items = items;
	l->n = n > WG_LIST_MAX ? WG_LIST_MAX : n;
	l->sel = -1;
	wg_list_refilter(l);
}

static int
contains_ci(const char *hay, const char *needle)
{
	size_t	n = strlen(needle);

	if (n == 0)
		return 1;
	for (; *hay != '\0'; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

int
wg_list_selected(const struct wg_list *l)
{
	return l->sel >= 0 && l->sel < l->nmatch ? l->match[l->sel] : -1;
}

void
wg_list_refilter(struct wg_list *l)
{
	int	keep = wg_list_selected(l), i;

	l->nmatch = 0;
	l->sel = -1;
	for (i = 0; i < l->n; i++) {
		if (!contains_ci(l->items[i], l->filter))
			continue;
		if (i == keep)
			l->sel = l->nmatch;
		l->match[l->nmatch++] = i;
	}
	if (l->sel < 0 && l->nmatch > 0)
		l->sel = 0;
	if (l->top > l->sel)
		l->top = l->sel < 0 ? 0 : l->sel;
}

void
wg_list_select(struct wg_list *l, int idx)
{
	int	i;

	for (i = 0; i < l->nmatch; i++)
		if (l->match[i] == idx)
			l->sel = i;
}

int
wg_list_key(struct wg_list *l, int key, int page)
{
	char		mb[MB_LEN_MAX];
	mbstate_t	st;
	size_t		n = strlen(l->filter), k;

	if (page < 1)
		page = 1;
	if (wg_key_is_text(key)) {
		memset(&st, 0, sizeof st);
		k = wcrtomb(mb, (wchar_t)key, &st);
		if (k == (size_t)-1 || n + k >= sizeof l->filter)
			return 1;
		memcpy(l->filter + n, mb, k);
		l->filter[n + k] = '\0';
		wg_list_refilter(l);
		return 1;
	}
	switch (key) {
	case WG_KEY_BACKSPACE:
		if (n > 0) {
			l->filter[u8_prev(l->filter, n)] = '\0';
			wg_list_refilter(l);
		}
		return 1;
	case WG_KEY_CTRL_U:
		l->filter[0] = '\0';
		wg_list_refilter(l);
		return 1;
	case WG_KEY_UP:
		if (l->sel > 0)
			l->sel--;
		return 1;
	case WG_KEY_DOWN:
		if (l->sel < l->nmatch - 1)
			l->sel++;
		return 1;
	case WG_KEY_PGUP:
		l->sel = l->sel - page < 0 ? (l->nmatch > 0 ? 0 : -1) :
		    l->sel - page;
		return 1;
	case WG_KEY_PGDN:
		l->sel = l->sel + page >= l->nmatch ? l->nmatch - 1 :
		    l->sel + page;
		return 1;
	case WG_KEY_HOME:
		l->sel = l->nmatch > 0 ? 0 : -1;
		return 1;
	case WG_KEY_END:
		l->sel = l->nmatch - 1;
		return 1;
	}
	return 0;
}

void
wg_list_scroll(struct wg_list *l, int h)
{
	if (h < 1)
		h = 1;
	if (l->sel < 0) {
		l->top = 0;
		return;
	}
	if (l->sel < l->top)
		l->top = l->sel;
	if (l->sel >= l->top + h)
		l->top = l->sel - h + 1;
	if (l->top > l->nmatch - h)
		l->top = l->nmatch - h > 0 ? l->nmatch - h : 0;
}

/* ---- bar ---- */

size_t
wg_bar_text(double frac, int w, int utf8, char *out, size_t len)
{
	/* U+258F..U+2589: one to seven eighths of a cell, left-aligned. */
	static const char *eighth[8] = { "", "\xe2\x96\x8f", "\xe2\x96\x8e",
	    "\xe2\x96\x8d", "\xe2\x96\x8c", "\xe2\x96\x8b", "\xe2\x96\x8a",
	    "\xe2\x96\x89" };
	size_t	o = 0;
	int	full, part, cells;

	if (len > 0)
		out[0] = '\0';
	if (w <= 0)
		return 0;
	if (!(frac >= 0))	/* NaN too */
		frac = 0;
	if (frac > 1)
		frac = 1;
	if (utf8) {
		int eighths = (int)floor(frac * w * 8 + 1e-9);
		full = eighths / 8;
		part = eighths % 8;
		o = put_rep(out, len, o, "\xe2\x96\x88", full);
		cells = full;
		if (part > 0 && cells < w) {
			o = put(out, len, o, eighth[part], 3);
			cells++;
		}
		return put_rep(out, len, o, "\xe2\x96\x91", w - cells);
	}
	full = (int)floor(frac * w + 1e-9);
	o = put_rep(out, len, o, "#", full);
	return put_rep(out, len, o, ".", w - full);
}

/* ---- sparkline ---- */

int
wg_coverage_count(const unsigned char *state, const double *snr, int n,
    int stride, int nchunk, double min_snr, int min_st)
{
	int	j, k, heard, count = 0;

	for (j = 0; j < nchunk && j < stride; j++) {
		for (k = heard = 0; k < n; k++)
			if (state[k * stride + j] == WG_SPARK_OK &&
			    isfinite(snr[k * stride + j]) &&
			    snr[k * stride + j] >= min_snr)
				heard++;
		if (heard >= min_st)
			count++;
	}
	return count;
}

size_t
wg_waterfall_text(const float *db, int nbins, int w, double lo, double hi,
    int utf8, char *out, size_t len)
{
	static const char *shades[5] = { " ", "\xe2\x96\x91", "\xe2\x96\x92",
	    "\xe2\x96\x93", "\xe2\x96\x88" };
	static const char ascii[] = " .:-=+*#%@";
	size_t	o = 0;
	int	i, b0, b1, b, lvl, nl = utf8 ? 5 : 10;
	double	v, f;
	char	c[2] = { 0, 0 };

	if (len > 0)
		out[0] = '\0';
	if (w <= 0 || nbins <= 0)
		return 0;
	for (i = 0; i < w; i++) {
		/* the bins of cell i: [i*nbins/w, (i+1)*nbins/w), at least one */
		b0 = (int)((long)i * nbins / w);
		b1 = (int)((long)(i + 1) * nbins / w);
		if (b1 <= b0)
			b1 = b0 + 1;
		v = db[b0];
		for (b = b0 + 1; b < b1 && b < nbins; b++)
			if (db[b] > v)
				v = db[b];
		f = hi > lo ? (v - lo) / (hi - lo) : 0;
		f = f < 0 ? 0 : f > 1 ? 1 : f;
		lvl = (int)lround(f * (nl - 1));
		if (utf8)
			o = put(out, len, o, shades[lvl], strlen(shades[lvl]));
		else {
			c[0] = ascii[lvl];
			o = put(out, len, o, c, 1);
		}
	}
	return o;
}

int
wg_waterfall_cell(double f, double lo, double hi, int w)
{
	int	x;

	if (!(hi > lo) || w <= 0 || !(f >= lo && f <= hi))
		return -1;
	x = (int)floor((f - lo) / (hi - lo) * w);
	return x >= w ? w - 1 : x;
}

size_t
wg_spark_text(const double *v, const unsigned char *state, int n, int w,
    double lo, double hi, int utf8, char *out, size_t len)
{
	static const char *blocks[8] = { "\xe2\x96\x81", "\xe2\x96\x82",
	    "\xe2\x96\x83", "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
	    "\xe2\x96\x87", "\xe2\x96\x88" };
	static const char ascii[] = " .:-=+*#";
	size_t	o = 0;
	int	i, first, lvl;
	double	f;
	char	c[2] = { 0, 0 };

	if (len > 0)
		out[0] = '\0';
	if (w <= 0)
		return 0;
	first = n > w ? n - w : 0;
	for (i = first; i < n; i++) {
		if (state[i] == WG_SPARK_MISSING) {
			o = utf8 ? put(out, len, o, "\xc3\x97", 2) :
			    put(out, len, o, "x", 1);
			continue;
		}
		if (state[i] != WG_SPARK_OK || !isfinite(v[i])) {
			o = put(out, len, o, " ", 1);
			continue;
		}
		f = hi > lo ? (v[i] - lo) / (hi - lo) : 0.5;
		if (f < 0)
			f = 0;
		if (f > 1)
			f = 1;
		lvl = (int)lround(f * 7);
		if (utf8)
			o = put(out, len, o, blocks[lvl], 3);
		else {
			/* Level 0 is a space in ASCII: show at least a dot. */
			c[0] = ascii[lvl > 0 ? lvl : 1];
			o = put(out, len, o, c, 1);
		}
	}
	return put_rep(out, len, o, " ", w - (n - first));
}

/* ---- table ---- */

int
wg_table_layout(const struct wg_col *cols, int n, int w, int *widths)
{
	int	i, need, shown, spare, wsum, give, top, changed;

	for (i = 0; i < n; i++)
		widths[i] = cols[i].min;
	/* Drop the highest-prio columns until the minima fit. */
	for (;;) {
		need = 0;
		shown = 0;
		for (i = 0; i < n; i++)
			if (widths[i] > 0) {
				need += widths[i] + (shown > 0);
				shown++;
			}
		if (need <= w || shown <= 1)
			break;
		top = -1;
		for (i = 0; i < n; i++)
			if (widths[i] > 0 && cols[i].prio > 0 &&
			    (top < 0 || cols[i].prio >= cols[top].prio))
				top = i;
		if (top < 0)
			break;
		widths[top] = 0;
	}
	/* Share the spare cells by weight, respecting maxima. */
	spare = w - need;
	while (spare > 0) {
		wsum = 0;
		for (i = 0; i < n; i++)
			if (widths[i] > 0 && cols[i].grow > 0 &&
			    (cols[i].max == 0 || widths[i] < cols[i].max))
				wsum += cols[i].grow;
		if (wsum == 0)
			break;
		changed = 0;
		for (i = 0; i < n && spare > 0; i++) {
			if (widths[i] == 0 || cols[i].grow == 0 ||
			    (cols[i].max > 0 && widths[i] >= cols[i].max))
				continue;
			give = spare * cols[i].grow / wsum;
			if (give < 1)
				give = 1;
			if (cols[i].max > 0 && widths[i] + give > cols[i].max)
				give = cols[i].max - widths[i];
			if (give > spare)
				give = spare;
			widths[i] += give;
			spare -= give;
			changed = 1;
		}
		if (!changed)
			break;
	}
	return shown;
}

size_t
wg_table_line(const struct wg_col *cols, int n, const int *widths,
    const char *const *cells, int utf8, char *out, size_t len)
{
	char	cell[1024];
	size_t	o = 0;
	int	i, first = 1;

	if (len > 0)
		out[0] = '\0';
	for (i = 0; i < n; i++) {
		if (widths[i] <= 0)
			continue;
		if (!first)
			o = put(out, len, o, " ", 1);
		first = 0;
		wg_fit(cells[i] != NULL ? cells[i] : "", widths[i],
		    cols[i].right, utf8, cell, sizeof cell);
		o = put(out, len, o, cell, strlen(cell));
	}
	return o;
}

/* ---- drawing ---- */

void
wg_put(WINDOW *win, int y, int x, int w, unsigned int attr, const char *s)
{
	char	buf[4096];
	int	cells;

	if (w <= 0)
		return;
	cells = wg_text_cells(s);
	if (cells > w) {
		wg_fit(s, w, 0, 0, buf, sizeof buf);
		s = buf;
	}
	wattron(win, (attr_t)attr);
	mvwaddstr(win, y, x, s);
	wattroff(win, (attr_t)attr);
}

void
wg_rule(WINDOW *win, const struct wg_theme *t, int y, int x, int w,
    const char *title)
{
	const char	*h = t->utf8 ? "\xe2\x94\x80" : "-";
	char		 line[4096];
	size_t		 o = 0;
	int		 tw = 0;

	if (w <= 0)
		return;
	if (title != NULL && title[0] != '\0') {
		o = put_rep(line, sizeof line, o, h, 2);
		o = put(line, sizeof line, o, " ", 1);
		o = put(line, sizeof line, o, title, strlen(title));
		o = put(line, sizeof line, o, " ", 1);
		tw = 4 + wg_text_cells(title);
	}
	put_rep(line, sizeof line, o, h, w - tw);
	wg_put(win, y, x, w, t->dim, line);
}

void
wg_box(WINDOW *win, const struct wg_theme *t, int y, int x, int h, int w)
{
	char	line[4096];
	size_t	o;
	int	i;

	if (h < 2 || w < 2)
		return;
	o = put(line, sizeof line, 0, t->utf8 ? "\xe2\x94\x8c" : "+",
	    t->utf8 ? 3 : 1);
	o = put_rep(line, sizeof line, o, t->utf8 ? "\xe2\x94\x80" : "-",
	    w - 2);
	put(line, sizeof line, o, t->utf8 ? "\xe2\x94\x90" : "+",
	    t->utf8 ? 3 : 1);
	wg_put(win, y, x, w, 0, line);
	o = put(line, sizeof line, 0, t->utf8 ? "\xe2\x94\x94" : "+",
	    t->utf8 ? 3 : 1);
	o = put_rep(line, sizeof line, o, t->utf8 ? "\xe2\x94\x80" : "-",
	    w - 2);
	put(line, sizeof line, o, t->utf8 ? "\xe2\x94\x98" : "+",
	    t->utf8 ? 3 : 1);
	wg_put(win, y + h - 1, x, w, 0, line);
	for (i = 1; i < h - 1; i++) {
		o = put(line, sizeof line, 0, t->utf8 ? "\xe2\x94\x82" : "|",
		    t->utf8 ? 3 : 1);
		o = put_rep(line, sizeof line, o, " ", w - 2);
		put(line, sizeof line, o, t->utf8 ? "\xe2\x94\x82" : "|",
		    t->utf8 ? 3 : 1);
		wg_put(win, y + i, x, w, 0, line);
	}
}
