/* sc_grid.c -- the coverage grid and the passband waterfall; see
 * sc_grid.h. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui/lazycurses.h"	/* <curses.h>, loaded on first use */

#include "ui/cstate.h"
#include "ui/sc_grid.h"

#define LABEL_W		16	/* "12 Station name" */

/* One cell's text and colour. */
static const char *
cell_text(const struct con *c, const struct row *r, int j, unsigned int *attr)
{
	switch (r->cst[j]) {
	case WG_SPARK_OK:
		if (!isfinite(r->hist[j])) {
			*attr = c->th.warn;
			return "?";
		}
		if (r->hist[j] >= GRID_MIN_SNR) {
			*attr = c->th.ok;
			return c->th.utf8 ? "\xe2\x96\x88" : "#";
		}
		*attr = c->th.warn;
		return c->th.utf8 ? "\xe2\x96\x92" : "+";
	case WG_SPARK_MISSING:
		*attr = c->th.bad;
		return c->th.utf8 ? "\xc3\x97" : "x";
	default:
		*attr = c->th.dim;
		return c->th.utf8 ? "\xc2\xb7" : ".";
	}
}

int
grid_heard(const struct row *rows, int n, int total)
{
	unsigned char	*st;
	double		*snr;
	int		 k, count;

	if (n <= 0)
		return 0;
	st = calloc((size_t)n, NCHUNK);
	snr = calloc((size_t)n * NCHUNK, sizeof *snr);
	if (st == NULL || snr == NULL) {
		free(st);
		free(snr);
		return 0;
	}
	for (k = 0; k < n; k++) {
		memcpy(st + (size_t)k * NCHUNK, rows[k].cst, NCHUNK);
		memcpy(snr + (size_t)k * NCHUNK, rows[k].hist, sizeof
		    rows[k].hist);
	}
	count = wg_coverage_count(st, snr, n, NCHUNK, total < NCHUNK ? total :
	    NCHUNK, GRID_MIN_SNR, GRID_MIN_STATIONS);
	free(st);
	free(snr);
	return count;
}

/* Keep the selection inside and visible in rows x cols. */
static void
nav_clamp(struct gridnav *g, int n, int total, int rows, int cols)
{
	if (g->row >= n)
		g->row = n - 1;
	if (g->row < 0)
		g->row = 0;
	if (g->chunk >= total)
		g->chunk = total - 1;
	if (g->chunk < 0)
		g->chunk = 0;
	if (rows < 1)
		rows = 1;
	if (cols < 1)
		cols = 1;
	if (g->top > g->row)
		g->top = g->row;
	if (g->row >= g->top + rows)
		g->top = g->row - rows + 1;
	if (g->left > g->chunk)
		g->left = g->chunk;
	if (g->chunk >= g->left + cols)
		g->left = g->chunk - cols + 1;
}

/* The selected cell in words: station, chunk, what was stored or why
 * not. */
static void
cell_reason(const struct row *r, int j, const struct reasons *rs, char *buf,
    size_t len)
{
	int	n = snprintf(buf, len, "%d %s, chunk %d: ", r->websdr, r->name,
		    j + 1);

	if (n < 0 || (size_t)n >= len)
		return;
	if (r->cst[j] == WG_SPARK_OK && isfinite(r->hist[j]))
		snprintf(buf + n, len - (size_t)n, "stored, SNR %.1f dB%s",
		    r->hist[j], r->hist[j] < GRID_MIN_SNR ? " (below 6 dB)" :
		    "");
	else if (r->cst[j] == WG_SPARK_OK)
		snprintf(buf + n, len - (size_t)n, "stored without an SNR");
	else if (r->cst[j] == WG_SPARK_MISSING)
		snprintf(buf + n, len - (size_t)n, "missing - %s", r->why[j] >
		    0 && r->why[j] <= rs->n ? rs->v[r->why[j] - 1] :
		    "no reason given");
	else
		snprintf(buf + n, len - (size_t)n, "not recorded yet");
}

void
grid_draw(struct con *c, int y, int h, const struct row *rows, int n,
    int total, const struct reasons *rs, struct gridnav *g)
{
	char		 buf[1024], cell[64];
	const char	*t;
	unsigned int	 attr;
	int		 cw, cols, nr, i, j, x, k;

	if (h < 4 || total <= 0)
		return;
	snprintf(buf, sizeof buf, "chunks heard by at least %d stations above "
	    "%.0f dB: %d/%d", GRID_MIN_STATIONS, GRID_MIN_SNR, grid_heard(rows,
	    n, total), total);
	wg_put(stdscr, y, 1, COLS - 2, c->th.label, buf);
	x = wg_text_cells(buf);
	snprintf(buf, sizeof buf, "%s>=6dB %s<6dB %smissing",
	    c->th.utf8 ? "\xe2\x96\x88" : "#", c->th.utf8 ? "\xe2\x96\x92" : "+",
	    c->th.utf8 ? "\xc3\x97" : "x");
	if (1 + x + 2 + wg_text_cells(buf) <= COLS - 1)
		wg_put(stdscr, y, COLS - 1 - wg_text_cells(buf),
		    wg_text_cells(buf), c->th.dim, buf);
	/* Two cells a chunk when the whole session fits, else one. */
	cw = LABEL_W + 1 + 2 * total <= COLS - 1 ? 2 : 1;
	cols = (COLS - 1 - LABEL_W - 1) / cw;
	nr = h - 3;
	nav_clamp(g, n, total, nr, cols);
	/* chunk numbers: every 5th (and the first) */
	wg_put(stdscr, y + 1, 1, LABEL_W - 1, c->th.dim, n > nr ? "stations" :
	    "");
	for (j = g->left; j < total && j < g->left + cols; j++)
		if (j == g->left || (j + 1) % 5 == 0) {
			x = LABEL_W + 1 + (j - g->left) * cw;
			snprintf(cell, sizeof cell, "%d", j + 1);
			if (x + (int)strlen(cell) < COLS)
				wg_put(stdscr, y + 1, x, (int)strlen(cell),
				    j == g->chunk ? c->th.label : c->th.dim,
				    cell);
		}
	for (i = 0; i < nr && g->top + i < n; i++) {
		k = g->top + i;
		snprintf(buf, sizeof buf, "%d %s", rows[k].websdr, rows[k].name);
		wg_fit(buf, LABEL_W - 1, 0, c->th.utf8, cell, sizeof cell);
		wg_put(stdscr, y + 2 + i, 1, LABEL_W - 1, k == g->row ?
		    c->th.label : 0, cell);
		for (j = g->left; j < total && j < g->left + cols; j++) {
			t = cell_text(c, &rows[k], j, &attr);
			if (k == g->row && j == g->chunk)
				attr = c->th.select;
			wg_put(stdscr, y + 2 + i, LABEL_W + 1 + (j - g->left) *
			    cw, 1, attr, t);
		}
	}
	if (n > 0) {
		cell_reason(&rows[g->row], g->chunk, rs, buf, sizeof buf);
		wg_put(stdscr, y + h - 1, 1, COLS - 2, rows[g->row].cst[
		    g->chunk] == WG_SPARK_MISSING ? c->th.warn : 0, buf);
	}
}

int
grid_key(struct gridnav *g, int k, int n, int total, int waterfall)
{
	switch (k) {
	case WG_KEY_UP: case 'k': g->row--; break;
	case WG_KEY_DOWN: case 'j': g->row++; break;
	case WG_KEY_LEFT: case 'h': if (!waterfall) g->chunk--; break;
	case WG_KEY_RIGHT: case 'l': if (!waterfall) g->chunk++; break;
	case WG_KEY_PGUP: g->row -= 10; break;
	case WG_KEY_PGDN: g->row += 10; break;
	case WG_KEY_HOME: g->chunk = 0; g->row = waterfall ? g->row : 0; break;
	case WG_KEY_END: g->chunk = total - 1; break;
	default: return 0;
	}
	if (g->row >= n)
		g->row = n - 1;
	if (g->row < 0)
		g->row = 0;
	if (g->chunk >= total)
		g->chunk = total - 1;
	if (g->chunk < 0)
		g->chunk = 0;
	return 1;
}

static int
cmpf(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return x < y ? -1 : x > y;
}

void
waterfall_draw(struct con *c, int y, int h, const struct row *rows, int n,
    int total, struct gridnav *g)
{
	char		 buf[4096], num[32];
	const struct row *r;
	float		*all;
	double		 lo, hi;
	int		 i, j, m = 0, ww, nr, first, x, cnt;

	if (h < 4 || n <= 0)
		return;
	/* the station only: the grid's scroll stays as it was */
	if (g->row >= n)
		g->row = n - 1;
	if (g->row < 0)
		g->row = 0;
	r = &rows[g->row];
	ww = COLS - 1 - 7 - 12;
	if (ww > 2 * ENGINE_SPECTRUM_BINS)
		ww = 2 * ENGINE_SPECTRUM_BINS;
	snprintf(buf, sizeof buf, "Passband of %d %s (Up/Down: station)",
	    r->websdr, r->name);
	wg_put(stdscr, y, 1, COLS - 2, c->th.label, buf);
	if (r->spec == NULL) {
		wg_put(stdscr, y + 2, 1, COLS - 2, c->th.dim,
		    "no spectrum from this station yet");
		return;
	}
	/* One scale for the station: its median bin (the noise) to its
	 * strongest, so the signal stands out whatever the gain. */
	all = malloc(sizeof(float) * NCHUNK * ENGINE_SPECTRUM_BINS);
	for (j = 0; all != NULL && j < NCHUNK; j++)
		if (r->has_spec[j])
			for (i = 0; i < ENGINE_SPECTRUM_BINS; i++)
				all[m++] = r->spec[j][i];
	lo = hi = 0;
	if (m > 0) {
		qsort(all, (size_t)m, sizeof *all, cmpf);
		/* a little under the median: the noise shows as texture */
		lo = all[m / 2] - 6;
		hi = all[m - 1];
	}
	free(all);
	snprintf(buf, sizeof buf, "%.0f..%.0f dBFS/bin", lo, hi);
	wg_put(stdscr, y, COLS - 1 - wg_text_cells(buf), wg_text_cells(buf),
	    c->th.dim, buf);
	/* The newest chunks that fit, oldest on top. */
	nr = h - 3;
	for (cnt = 0, j = 0; j < total && j < NCHUNK; j++)
		cnt += r->cst[j] != WG_SPARK_NONE;
	first = cnt > nr ? cnt - nr : 0;
	for (i = 0, j = 0; j < total && j < NCHUNK && i < nr; j++) {
		if (r->cst[j] == WG_SPARK_NONE)
			continue;
		if (first-- > 0)
			continue;
		snprintf(num, sizeof num, "%4d", j + 1);
		wg_put(stdscr, y + 1 + i, 1, 5, c->th.dim, num);
		if (!r->has_spec[j]) {
			wg_put(stdscr, y + 1 + i, 7, ww, r->cst[j] ==
			    WG_SPARK_MISSING ? c->th.bad : c->th.dim,
			    r->cst[j] == WG_SPARK_MISSING ? "missing" :
			    "no spectrum");
			i++;
			continue;
		}
		wg_waterfall_text(r->spec[j], ENGINE_SPECTRUM_BINS, ww, lo, hi,
		    c->th.utf8, buf, sizeof buf);
		wg_put(stdscr, y + 1 + i, 7, ww, c->th.ok, buf);
		/* The signal's bin: the chunk's peak, marked. */
		x = wg_waterfall_cell(r->spec_off[j], r->spec_lo, r->spec_hi, ww);
		if (x >= 0)
			wg_put(stdscr, y + 1 + i, 7 + x, 1, c->th.select |
			    A_BOLD, c->th.utf8 ? "\xe2\x94\x83" : "|");
		snprintf(num, sizeof num, "%+8.1f Hz", r->spec_off[j]);
		wg_put(stdscr, y + 1 + i, 7 + ww + 1, COLS - 1 - (7 + ww + 1),
		    0, num);
		i++;
	}
	/* The axis: the band's edges and the session frequency (0 Hz). */
	memset(buf, ' ', (size_t)ww);
	buf[ww] = '\0';
	x = wg_waterfall_cell(0, r->spec_lo, r->spec_hi, ww);
	wg_put(stdscr, y + h - 2, 7, ww, c->th.dim, buf);
	snprintf(num, sizeof num, "%+.0f Hz", r->spec_lo);
	wg_put(stdscr, y + h - 2, 7, ww, c->th.dim, num);
	snprintf(num, sizeof num, "%+.0f Hz", r->spec_hi);
	wg_put(stdscr, y + h - 2, 7 + ww - (int)strlen(num), (int)strlen(num),
	    c->th.dim, num);
	if (x >= 0)
		wg_put(stdscr, y + h - 2, 7 + x, 6, c->th.label, c->th.utf8 ?
		    "\xe2\x96\xb2" "0 Hz" : "^0 Hz");
	wg_put(stdscr, y + h - 1, 1, COLS - 2, c->th.dim, c->th.utf8 ?
	    "\xe2\x94\x83 the chunk's strongest bin (the signal); "
	    "\xe2\x96\xb2 the session's frequency" :
	    "| the chunk's strongest bin (the signal); ^ the session's "
	    "frequency");
}
