/*
 * sc_grid.h -- the coverage grid and the passband waterfall, drawn in the
 * table's place on Progress/Complete and in a past session's details
 * (sc_history): one row per station, one column per chunk (scrollable;
 * the selected cell's reason under it; the headline counts the chunks
 * localization can use), and the selected station's passband, one row
 * per chunk from session:spectrum, with each chunk's strongest bin
 * marked. Draws rows it is given (struct row); owns no state.
 */
#ifndef SC_GRID_H
#define SC_GRID_H

struct con;
struct row;
struct reasons;
struct gridnav;

/* A chunk localization can use: heard by GRID_MIN_STATIONS stations at
 * GRID_MIN_SNR dB or more (TDoA needs the same second at several). */
#define GRID_MIN_STATIONS	3
#define GRID_MIN_SNR		6.0

/* Chunks of total that rows (n) heard so. */
int	grid_heard(const struct row *rows, int n, int total);
/* The grid in h lines from y: headline, chunk numbers, rows, the
 * selected cell's reason on the last line. */
void	grid_draw(struct con *c, int y, int h, const struct row *rows, int n,
	    int total, const struct reasons *rs, struct gridnav *g);
/* The selected station's (g->row) waterfall in h lines from y. */
void	waterfall_draw(struct con *c, int y, int h, const struct row *rows,
	    int n, int total, struct gridnav *g);
/* Arrows, j/k/h/l, PgUp/PgDn, Home/End move the selection (the waterfall
 * moves stations only). 1 if the key was used. */
int	grid_key(struct gridnav *g, int k, int n, int total, int waterfall);

#endif
