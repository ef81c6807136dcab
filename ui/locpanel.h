/*
 * locpanel.h -- the console's localization panel: the latest position fix of
 * a session (session:fix per chunk), the receivers its TDoA left out
 * (session:tdoa "excluded") and the session fix (session:fix "final"), as
 * lines of text for a width.
 *
 * Pure, like the widgets: the state is fed the engine's event data and
 * formats lines without a terminal (tests/test_widgets.c checks it); the
 * console only draws them. Every field of an event is optional and checked:
 * a missing, null or mistyped one is shown as absent, never as 0. Text that
 * comes from outside (station names, reasons) is escaped for the terminal
 * (util_term_escape: control characters as \xNN).
 *
 * The lines, most important first (a smaller max drops the later ones):
 *   1 the fix: "Fix 45.07012, 7.68694  ellipse 35 x 12 m @41°  CEP50 18 m
 *     CEP95 44 m  7 rx" -- or "No fix: <reason>"
 *   2 against the known source: "Error 23 m vs source  worst residual
 *     Sim 3 +20.15 µs", and the pairs used/rejected
 *   3 the TDoA exclusions: "3 excluded: Torino (no GPS time), ..."
 * Parts that do not fit the width are left out whole, last first; the first
 * part of a line is cut with an ellipsis ("…", "~" without UTF-8).
 */
#ifndef LOCPANEL_H
#define LOCPANEL_H

#include <jansson.h>

#define LP_LINE		1024	/* bytes of one formatted line */
#define LP_EXCL_MAX	16	/* excluded receivers kept (nexcl is exact) */

struct lp_fix {
	int	seen;			/* a session:fix arrived */
	int	final;			/* the session fix */
	int	chunk;			/* chunk_index (0-based), -1: none */
	int	ok;
	char	reason[256];		/* no fix: why */
	char	note[256];		/* a fix with a remark */
	int	has_pos;
	double	lat, lon;		/* degrees */
	int	has_ell;
	double	smaj, smin, orient;	/* m, m, deg clockwise from north */
	int	has_cep50, has_cep95;
	double	cep50, cep95;		/* m */
	int	nrx;			/* receivers used, -1: unknown */
	int	pairs_used, pairs_rejected;	/* TDoA pairs, -1: unknown */
	int	chunks_used, chunks_rejected;	/* the session fix: chunk
						   fixes combined, dropped;
						   -1: unknown */
	int	has_err;
	double	err_m;			/* distance to the known source */
	int	has_worst;
	int	worst_websdr;
	char	worst[128];		/* its station name */
	double	worst_us;		/* its residual */
};

struct lp_excl {
	int	websdr;
	char	station[128];
	char	reason[256];
};

struct locpanel {
	char		sid[64];	/* the session shown */
	struct lp_fix	fix;		/* the latest chunk's */
	struct lp_fix	final;		/* the session's */
	int		tdoa_chunk;	/* chunk of the exclusions, -1: none */
	int		npairs;		/* TDoA pairs of that chunk */
	int		nexcl;		/* receivers excluded (all of them) */
	struct lp_excl	excl[LP_EXCL_MAX];	/* the first LP_EXCL_MAX */
};

/* Forget everything; show session_id's events from now on. */
void	locpanel_reset(struct locpanel *p, const char *session_id);
/* Take one engine event: 1 if it was a session:fix or session:tdoa of the
 * panel's session (the panel changed), else 0. */
int	locpanel_event(struct locpanel *p, const char *name, const json_t *d);
/* The panel's title: "Localization · chunk 3/10" (total <= 0: no total),
 * or "Session fix" when final. */
void	locpanel_title(const struct locpanel *p, int final, int total,
	    int utf8, char *out, size_t len);
/* Up to max lines of at most w cells (NUL-terminated, not padded) for the
 * latest fix (final 0) or the session fix (final 1). Returns the number of
 * lines (>= 1 when max >= 1: "waiting for ..." before the first fix). With
 * two lines the second is line 2 with the exclusions' count when the event
 * compared with a known source, else line 3. */
int	locpanel_lines(const struct locpanel *p, int final, int w, int max,
	    int utf8, char lines[][LP_LINE]);
/* A distance in m for people: "8.4 m", "35 m", "1.25 km", "12.3 km",
 * "154 km". */
void	locpanel_dist(double m, char *out, size_t len);

#endif
