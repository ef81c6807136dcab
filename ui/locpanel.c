/* locpanel.c -- the console's localization panel; see locpanel.h. */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ui/locpanel.h"
#include "ui/widgets.h"
#include "src/base/util.h"

void
locpanel_reset(struct locpanel *p, const char *session_id)
{
	memset(p, 0, sizeof *p);
	snprintf(p->sid, sizeof p->sid, "%s", session_id != NULL ?
	    session_id : "");
	p->fix.chunk = p->final.chunk = -1;
	p->tdoa_chunk = -1;
}

/* ---- reading the events (every field checked) ---- */

/* A finite number: 1 and *v. */
static int
num(const json_t *o, const char *k, double *v)
{
	json_t	*x = json_object_get(o, k);

	if (!json_is_number(x))
		return 0;
	*v = json_number_value(x);
	return isfinite(*v);
}

/* A non-negative integer that fits an int, else -1. */
static int
count(const json_t *o, const char *k)
{
	json_t		*x = json_object_get(o, k);
	json_int_t	 v;

	if (!json_is_integer(x))
		return -1;
	v = json_integer_value(x);
	return v >= 0 && v <= 1000000000 ? (int)v : -1;
}

/* A string from outside, escaped for the terminal ("" if absent). */
static void
text(const json_t *o, const char *k, char *out, size_t len)
{
	const char	*s = json_string_value(json_object_get(o, k));

	util_term_escape(s != NULL ? s : "", out, len);
}

/* A station's name: its "station", else "station N" from websdr. */
static void
station(const json_t *o, const char *k_name, const char *k_websdr,
    char *out, size_t len)
{
	int	n;

	text(o, k_name, out, len);
	if (out[0] == '\0') {
		n = count(o, k_websdr);
		if (n >= 0)
			snprintf(out, len, "station %d", n);
		else
			snprintf(out, len, "?");
	}
}

static void
read_fix(struct lp_fix *f, const json_t *d)
{
	const json_t	*e, *w;
	double		 a, b;

	memset(f, 0, sizeof *f);
	f->seen = 1;
	f->final = json_is_true(json_object_get(d, "final"));
	f->chunk = count(d, "chunk_index");
	f->ok = json_is_true(json_object_get(d, "ok"));
	text(d, "reason", f->reason, sizeof f->reason);
	if (!f->ok && f->reason[0] == '\0')
		snprintf(f->reason, sizeof f->reason, "no reason given");
	text(d, "note", f->note, sizeof f->note);
	if (num(d, "latitude", &a) && num(d, "longitude", &b) &&
	    fabs(a) <= 90 && fabs(b) <= 180) {
		f->has_pos = 1;
		f->lat = a;
		f->lon = b;
	}
	e = json_object_get(d, "ellipse");
	if (json_is_object(e) && num(e, "semi_major_m", &a) &&
	    num(e, "semi_minor_m", &b) && a >= 0 && b >= 0) {
		f->has_ell = 1;
		f->smaj = a;
		f->smin = b;
		if (!num(e, "orientation_deg", &f->orient))
			f->orient = NAN;
	}
	f->has_cep50 = num(d, "cep50_m", &f->cep50) && f->cep50 >= 0;
	f->has_cep95 = num(d, "cep95_m", &f->cep95) && f->cep95 >= 0;
	f->nrx = json_is_array(json_object_get(d, "receivers")) ?
	    (int)json_array_size(json_object_get(d, "receivers")) : -1;
	f->pairs_used = count(d, "pairs_used");
	f->pairs_rejected = count(d, "pairs_rejected");
	f->chunks_used = count(d, "chunks_used");
	f->chunks_rejected = count(d, "chunks_rejected");
	f->has_err = num(d, "error_m", &f->err_m) && f->err_m >= 0;
	w = json_object_get(d, "worst");
	if (json_is_object(w) && num(w, "residual_us", &f->worst_us)) {
		f->has_worst = 1;
		f->worst_websdr = count(w, "websdr");
		station(w, "station", "websdr", f->worst, sizeof f->worst);
	}
}

static void
read_tdoa(struct locpanel *p, const json_t *d)
{
	const json_t	*ex = json_object_get(d, "excluded"), *x;
	size_t		 i;
	int		 k = count(d, "chunk_index");

	/* Events come in chunk order; an older one never replaces. */
	if (k >= 0 && k < p->tdoa_chunk)
		return;
	p->tdoa_chunk = k;
	p->npairs = json_is_array(json_object_get(d, "pairs")) ?
	    (int)json_array_size(json_object_get(d, "pairs")) : 0;
	p->nexcl = 0;
	json_array_foreach(ex, i, x) {
		if (!json_is_object(x))
			continue;
		if (p->nexcl < LP_EXCL_MAX) {
			struct lp_excl *e = &p->excl[p->nexcl];
			e->websdr = count(x, "websdr");
			station(x, "station", "websdr", e->station,
			    sizeof e->station);
			text(x, "reason", e->reason, sizeof e->reason);
		}
		p->nexcl++;
	}
}

int
locpanel_event(struct locpanel *p, const char *name, const json_t *d)
{
	const char	*sid = json_string_value(json_object_get(d,
			    "session_id"));
	int		 fix = strcmp(name, "session:fix") == 0;

	if (!fix && strcmp(name, "session:tdoa") != 0)
		return 0;
	if (sid == NULL || p->sid[0] == '\0' || strcmp(sid, p->sid) != 0)
		return 0;
	if (!fix)
		read_tdoa(p, d);
	else if (json_is_true(json_object_get(d, "final")))
		read_fix(&p->final, d);
	else
		read_fix(&p->fix, d);
	return 1;
}

/* ---- formatting ---- */

void
locpanel_dist(double m, char *out, size_t len)
{
	/* Thresholds where the rounded figure would change its form. */
	if (!isfinite(m) || m < 0)
		snprintf(out, len, "?");
	else if (m < 9.95)
		snprintf(out, len, "%.1f m", m);
	else if (m < 999.5)
		snprintf(out, len, "%.0f m", m);
	else if (m < 9995)
		snprintf(out, len, "%.2f km", m / 1e3);
	else if (m < 99950)
		snprintf(out, len, "%.1f km", m / 1e3);
	else
		snprintf(out, len, "%.0f km", m / 1e3);
}

/* v in the unit the ellipse's major axis chose (m or km). */
static void
axis(double v, int km, char *out, size_t len)
{
	if (km) {
		v /= 1e3;
		snprintf(out, len, v < 9.995 ? "%.2f" : v < 99.95 ? "%.1f" :
		    "%.0f", v);
	} else
		snprintf(out, len, v < 9.95 ? "%.1f" : "%.0f", v);
}

/* Parts of one line, shown in order; when they do not all fit, those of the
 * lowest priority go first (prio 0 is always there, cut if it must). */
#define PARTS	8
struct parts {
	char	s[PARTS][LP_LINE];
	int	prio[PARTS];
	int	n;
};

static void
part(struct parts *ps, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
part(struct parts *ps, int prio, const char *fmt, ...)
{
	va_list	ap;

	if (ps->n == PARTS)
		return;
	va_start(ap, fmt);
	vsnprintf(ps->s[ps->n], LP_LINE, fmt, ap);
	va_end(ap);
	ps->prio[ps->n++] = prio;
}

/* Cut s to w cells with an ellipsis when it is wider. */
static void
cut(const char *s, int w, int utf8, char *out)
{
	if (wg_text_cells(s) <= w)
		snprintf(out, LP_LINE, "%s", s);
	else
		wg_fit(s, w, 0, utf8, out, LP_LINE);
}

static void
pack(const struct parts *ps, int w, int utf8, char *out)
{
	int	keep[PARTS] = { 0 }, used = 0, prio, i, c, first = 1;
	size_t	o = 0;
	char	head[LP_LINE];

	out[0] = '\0';
	if (ps->n == 0 || w <= 0)
		return;
	/* The first part always; then by priority, while they fit. */
	keep[0] = 1;
	used = wg_text_cells(ps->s[0]);
	for (prio = 1; prio < 10; prio++)
		for (i = 1; i < ps->n; i++) {
			if (ps->prio[i] != prio)
				continue;
			c = 2 + wg_text_cells(ps->s[i]);
			if (used + c <= w) {
				keep[i] = 1;
				used += c;
			}
		}
	for (i = 0; i < ps->n; i++) {
		if (!keep[i])
			continue;
		if (i == 0) {
			cut(ps->s[0], w, utf8, head);
			o += (size_t)snprintf(out + o, LP_LINE - o, "%s", head);
		} else
			o += (size_t)snprintf(out + o, LP_LINE - o, "%s%s",
			    first ? "" : "  ", ps->s[i]);
		first = 0;
		if (o >= LP_LINE)
			break;
	}
}

/* Line 1: the fix, or why there is none. */
static void
line_fix(const struct lp_fix *f, int w, int utf8, char *out)
{
	struct parts	ps;
	char		a[64], b[64], d[64];
	int		km;

	memset(&ps, 0, sizeof ps);
	if (!f->ok) {
		part(&ps, 0, "No fix: %s", f->reason);
		pack(&ps, w, utf8, out);
		return;
	}
	if (f->has_pos)
		part(&ps, 0, "Fix %.5f, %.5f", f->lat, f->lon);
	else
		part(&ps, 0, "Fix (no position given)");
	if (f->has_ell) {
		km = f->smaj >= 999.5;
		axis(f->smaj, km, a, sizeof a);
		axis(f->smin, km, b, sizeof b);
		if (isfinite(f->orient))
			part(&ps, 2, "ellipse %s%s%s %s @%.0f%s", a,
			    utf8 ? "\xc3\x97" : "x", b, km ? "km" : "m",
			    f->orient, utf8 ? "\xc2\xb0" : "deg");
		else
			part(&ps, 2, "ellipse %s%s%s %s", a, utf8 ?
			    "\xc3\x97" : "x", b, km ? "km" : "m");
	}
	if (f->has_cep50) {
		locpanel_dist(f->cep50, d, sizeof d);
		part(&ps, 1, "CEP50 %s", d);
	}
	if (f->has_cep95) {
		locpanel_dist(f->cep95, d, sizeof d);
		part(&ps, 3, "CEP95 %s", d);
	}
	if (f->nrx >= 0)
		part(&ps, 4, "%d rx", f->nrx);
	pack(&ps, w, utf8, out);
}

/* Line 2: against the known source, the pairs, a note; "" when nothing. */
static void
line_quality(const struct lp_fix *f, int w, int utf8, const char *extra,
    char *out)
{
	struct parts	ps;
	char		d[64];

	memset(&ps, 0, sizeof ps);
	if (f->has_err) {
		locpanel_dist(f->err_m, d, sizeof d);
		part(&ps, 0, "Error %s vs source", d);
	}
	if (f->has_worst)
		part(&ps, ps.n == 0 ? 0 : 1, "worst residual %s %+.2f %s",
		    f->worst, f->worst_us, utf8 ? "\xc2\xb5s" : "us");
	/* The session fix combines chunk fixes: those first, then the
	 * pairs they used. */
	if (f->final && f->chunks_used >= 0 && f->chunks_rejected > 0)
		part(&ps, ps.n == 0 ? 0 : 2, "chunk fixes %d used, %d "
		    "rejected", f->chunks_used, f->chunks_rejected);
	else if (f->final && f->chunks_used >= 0)
		part(&ps, ps.n == 0 ? 0 : 2, "%d chunk fix%s",
		    f->chunks_used, f->chunks_used == 1 ? "" : "es");
	if (f->pairs_used >= 0 && f->pairs_rejected > 0)
		part(&ps, ps.n == 0 ? 0 : 2, "pairs %d used, %d rejected",
		    f->pairs_used, f->pairs_rejected);
	else if (f->pairs_used >= 0)
		part(&ps, ps.n == 0 ? 0 : 2, "%d pair%s", f->pairs_used,
		    f->pairs_used == 1 ? "" : "s");
	if (extra != NULL && extra[0] != '\0')
		part(&ps, ps.n == 0 ? 0 : 3, "%s", extra);
	if (f->ok && f->note[0] != '\0')
		part(&ps, ps.n == 0 ? 0 : 4, "(%s)", f->note);
	pack(&ps, w, utf8, out);
}

/* Line 3: "3 excluded: Torino (no GPS time), ..." cut to w. */
static void
line_excluded(const struct locpanel *p, int final, int w, int utf8, char *out)
{
	char	buf[LP_LINE * 2];
	size_t	o;
	int	i;

	if (p->nexcl == 0) {
		snprintf(buf, sizeof buf, "TDoA: %d pair%s, no receiver "
		    "excluded", p->npairs, p->npairs == 1 ? "" : "s");
		cut(buf, w, utf8, out);
		return;
	}
	/* The session fix combines chunks: say whose exclusions these are. */
	o = (size_t)snprintf(buf, sizeof buf, "%d excluded%s:", p->nexcl,
	    final ? " (last chunk)" : "");
	for (i = 0; i < p->nexcl && i < LP_EXCL_MAX && o < sizeof buf; i++)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s %s (%s)",
		    i > 0 ? "," : "", p->excl[i].station, p->excl[i].reason[0] ?
		    p->excl[i].reason : "no reason given");
	if (p->nexcl > LP_EXCL_MAX && o < sizeof buf)
		snprintf(buf + o, sizeof buf - o, ", %d more",
		    p->nexcl - LP_EXCL_MAX);
	cut(buf, w, utf8, out);
}

void
locpanel_title(const struct locpanel *p, int final, int total, int utf8,
    char *out, size_t len)
{
	const char	*dot = utf8 ? "\xc2\xb7" : "-";

	if (final)
		snprintf(out, len, "Session fix");
	else if (p->fix.seen && p->fix.chunk >= 0 && total > 0)
		snprintf(out, len, "Localization %s chunk %d/%d", dot,
		    p->fix.chunk + 1, total);
	else if (p->fix.seen && p->fix.chunk >= 0)
		snprintf(out, len, "Localization %s chunk %d", dot,
		    p->fix.chunk + 1);
	else
		snprintf(out, len, "Localization");
}

int
locpanel_lines(const struct locpanel *p, int final, int w, int max,
    int utf8, char lines[][LP_LINE])
{
	const struct lp_fix	*f = final ? &p->final : &p->fix;
	char			 q[LP_LINE], ex[64];
	int			 n = 0, has_ex, has_q, rich;

	if (max <= 0 || w <= 0)
		return 0;
	if (!f->seen) {
		cut(final ? "none: no session fix was computed" :
		    "waiting for the first chunk's TDoA and fix", w, utf8,
		    lines[n++]);
	} else
		line_fix(f, w, utf8, lines[n++]);
	has_ex = p->tdoa_chunk >= 0;
	q[0] = '\0';
	if (f->seen)
		line_quality(f, w, utf8, NULL, q);
	has_q = q[0] != '\0';
	/* What the source says (error, worst residual) is worth more than
	 * the exclusions; a bare pair count is worth less. */
	rich = f->has_err || f->has_worst;
	if (n < max && has_q && has_ex && max - n < 2 && rich) {
		/* One line left: the exclusions' count joins it. */
		if (p->nexcl > 0) {
			snprintf(ex, sizeof ex, "%d excluded", p->nexcl);
			line_quality(f, w, utf8, ex, q);
		}
		snprintf(lines[n++], LP_LINE, "%s", q);
		return n;
	}
	if (n < max && has_q && (!has_ex || max - n >= 2))
		snprintf(lines[n++], LP_LINE, "%s", q);
	if (n < max && has_ex)
		line_excluded(p, final, w, utf8, lines[n++]);
	return n;
}
