/*
 * fix.c -- the position fix from TDoA measurements (see fix.h for the
 * model, the steps and the contract).
 */
#include "src/base/lazygsl.h"	/* GSL, loaded on first use */
#include "src/loc/fix.h"
#include "src/loc/lazygeod.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define WGS84_A		6378137.0
#define WGS84_F		(1 / 298.257223563)
#define DEG		(M_PI / 180)
#define GRID_N		64	/* coarse grid, per side */
#define FINE_N		21	/* each finer grid, per side */
#define MIN_MARGIN_M	50e3
#define MAX_TDOA_S	0.07	/* half the Earth's circumference / c */
#define AMBIG_DCHI2	9.0	/* a second position this close in chi2 */
#define MAX_ITER	200
#define MAX_CAND	4	/* grid minima refined */
#define REJ_RANK	4	/* independent TDoAs left after a rejection:
				   2 unknowns + 2 checks (with 1 check, a
				   wrong subset can look consistent) */
#define LOO_MAX		16	/* up to this many receivers, outliers are
				   found by leaving each receiver out */

/* GSL's default error handler aborts the process; every GSL status is
 * checked here instead. Set once, for the whole process (nothing else in
 * heimdall-rec uses GSL). */
static pthread_once_t gsl_once = PTHREAD_ONCE_INIT;

static void
gsl_quiet(void)
{
	gsl_set_error_handler_off();
}

/* One problem: the receivers, the measurements still in play and the
 * per-receiver scratch of the last model evaluation. */
struct prob {
	const struct fix_rx *rx;
	int	 nrx;
	const struct fix_meas *m;
	int	*act;		/* indexes of the measurements in play */
	int	 nact;
	int	*rxl;		/* receivers those measurements name */
	int	 nrxl;
	double	*d, *ge, *gn;	/* per receiver: path (m) and its gradient
				   w.r.t. the source moving east / north */
	double	 clat, clon;	/* where d, ge, gn were computed */
	int	 cvalid;
	double	*wt;		/* per measurement: robust weight, or NULL */
	double	 trunc2;	/* grid score: cap on a squared residual */
	double	 alat, alon;	/* the search area's plane centre */
	int	 npair_drops;	/* measurements dropped one by one */
	/* refine's LM workspace, kept for the next refine of as many
	 * measurements (a fix refines 10-20 times, mostly at one size:
	 * allocating it each time was ~40 % of refine's CPU) */
	gsl_multifit_nlinear_workspace *w;
	size_t	 wn;
};

static void
fold(double *lat, double *lon)
{
	/* Over a pole: the point on the other side (LM may step there). */
	if (*lat > 90) {
		*lat = 180 - *lat;
		*lon += 180;
	} else if (*lat < -90) {
		*lat = -180 - *lat;
		*lon += 180;
	}
	*lon = remainder(*lon, 360.0);
}

/* The path from a source at (lat, lon) on the ellipsoid to receiver r and
 * its gradient: moving the source by dx along the unit vector u changes
 * the geodesic length by -(u . t) dx, t the unit tangent of the geodesic
 * at the source (azimuth azi1): exact to first order for geodesics. The
 * height adds sqrt(g^2 + h^2), so the gradient scales by g / d. */
static double
path(const struct fix_rx *r, double lat, double lon, double *ge, double *gn)
{
	double	s, azi, d, k;

	geo_inverse(lat, lon, r->lat, r->lon, &s, &azi, NULL);
	d = sqrt(s * s + r->alt_m * r->alt_m);
	k = d > 0 ? s / d : 0;
	if (ge) {
		*ge = -k * sin(azi * DEG);
		*gn = -k * cos(azi * DEG);
	}
	return d;
}

static void
eval_paths(struct prob *p, double lat, double lon)
{
	if (p->cvalid && lat == p->clat && lon == p->clon)
		return;
	double	la = lat, lo = lon;

	fold(&la, &lo);
	for (int i = 0; i < p->nrxl; i++) {
		int r = p->rxl[i];

		p->d[r] = path(&p->rx[r], la, lo, &p->ge[r], &p->gn[r]);
	}
	p->clat = lat;
	p->clon = lon;
	p->cvalid = 1;
}

/* metres per degree of latitude / longitude at lat: the ellipsoid's
 * meridional and prime-vertical radii of curvature (chain rule from the
 * east/north gradient to the (lat, lon) parameters). */
static void
m_per_deg(double lat, double *mlat, double *mlon)
{
	double	e2 = WGS84_F * (2 - WGS84_F), s = sin(lat * DEG);
	double	w = sqrt(1 - e2 * s * s);

	*mlat = WGS84_A * (1 - e2) / (w * w * w) * DEG;
	*mlon = WGS84_A / w * cos(lat * DEG) * DEG;
}

static int
cb_f(const gsl_vector *x, void *vp, gsl_vector *f)
{
	struct prob *p = vp;

	eval_paths(p, gsl_vector_get(x, 0), gsl_vector_get(x, 1));
	for (int i = 0; i < p->nact; i++) {
		const struct fix_meas *m = &p->m[p->act[i]];
		double	model = (p->d[m->a] - p->d[m->b]) / FIX_C_M_S;

		double	wi = p->wt ? sqrt(p->wt[p->act[i]]) : 1;

		gsl_vector_set(f, i, wi * (model - m->tdoa_s) / m->sigma_s);
	}
	return GSL_SUCCESS;
}

static int
cb_df(const gsl_vector *x, void *vp, gsl_matrix *J)
{
	struct prob *p = vp;
	double	lat = gsl_vector_get(x, 0), mlat, mlon;

	eval_paths(p, lat, gsl_vector_get(x, 1));
	m_per_deg(lat, &mlat, &mlon);
	for (int i = 0; i < p->nact; i++) {
		const struct fix_meas *m = &p->m[p->act[i]];
		double	k = 1 / (FIX_C_M_S * m->sigma_s);

		if (p->wt)
			k *= sqrt(p->wt[p->act[i]]);
		gsl_matrix_set(J, i, 0, (p->gn[m->a] - p->gn[m->b]) * k * mlat);
		gsl_matrix_set(J, i, 1, (p->ge[m->a] - p->ge[m->b]) * k * mlon);
	}
	return GSL_SUCCESS;
}

/* The receivers named by the measurements in play. */
static void
list_rx(struct prob *p)
{
	unsigned char seen[FIX_MAX_RX];

	memset(seen, 0, sizeof(seen));
	p->nrxl = 0;
	for (int i = 0; i < p->nact; i++) {
		const struct fix_meas *m = &p->m[p->act[i]];

		if (!seen[m->a]++)
			p->rxl[p->nrxl++] = m->a;
		if (!seen[m->b]++)
			p->rxl[p->nrxl++] = m->b;
	}
	p->cvalid = 0;
}

/* Rank of the pair graph (receivers - connected components): the number
 * of independent TDoAs among the measurements in play, skipping skip
 * (a measurement index) and every measurement of receiver skiprx. */
static int
pair_rank(const struct prob *p, int skip, int skiprx, int *nrx_out)
{
	int	 par[FIX_MAX_RX];
	unsigned char in[FIX_MAX_RX];
	int	 nodes = 0, comps = 0;

	memset(in, 0, sizeof(in));
	for (int i = 0; i < p->nact; i++) {
		const struct fix_meas *m = &p->m[p->act[i]];

		if (p->act[i] == skip || m->a == skiprx || m->b == skiprx)
			continue;
		int	 e[2] = { m->a, m->b };

		for (int k = 0; k < 2; k++)
			if (!in[e[k]]) {
				in[e[k]] = 1;
				par[e[k]] = e[k];
				nodes++;
				comps++;
			}
		int	 ra = m->a, rb = m->b;

		while (par[ra] != ra)
			ra = par[ra] = par[par[ra]];
		while (par[rb] != rb)
			rb = par[rb] = par[par[rb]];
		if (ra != rb) {
			par[ra] = rb;
			comps--;
		}
	}
	if (nrx_out)
		*nrx_out = nodes;
	return nodes - comps;
}

/* Levenberg-Marquardt from (lat, lon); 0 with the solution, chi2 and the
 * iterations, or -1. leash_m > 0: give up (-1) as soon as an iterate is
 * farther than that from the receivers' centre (p->alat, p->alon). */
static int
refine(struct prob *p, double *lat, double *lon, double *chi2, int *iters,
    double leash_m)
{
	const gsl_multifit_nlinear_type *T = gsl_multifit_nlinear_trust;
	gsl_multifit_nlinear_parameters par =
	    gsl_multifit_nlinear_default_parameters();
	gsl_multifit_nlinear_fdf fdf;
	gsl_multifit_nlinear_workspace *w;
	double	 x0[2] = { *lat, *lon };
	gsl_vector_view xv = gsl_vector_view_array(x0, 2);
	int	 info = 0, st;

	par.trs = gsl_multifit_nlinear_trs_lm;
	par.scale = gsl_multifit_nlinear_scale_more;
	memset(&fdf, 0, sizeof(fdf));
	fdf.f = cb_f;
	fdf.df = cb_df;
	fdf.n = (size_t)p->nact;
	fdf.p = 2;
	fdf.params = p;
	if (p->w == NULL || p->wn != fdf.n) {
		/* the parameters are the same at every call: only the size
		 * makes a new workspace */
		if (p->w != NULL)
			gsl_multifit_nlinear_free(p->w);
		p->w = gsl_multifit_nlinear_alloc(T, &par, fdf.n, 2);
		p->wn = fdf.n;
		if (p->w == NULL)
			return -1;
	}
	w = p->w;
	/* init starts the trust region afresh (radius, LM's mu, counts):
	 * a reused workspace iterates as a new one */
	st = gsl_multifit_nlinear_init(&xv.vector, &fdf, w);
	/*
	 * gsl_multifit_nlinear_driver's loop, written out so that a leashed
	 * start can be dropped as soon as it strays: the grid's secondary
	 * minima often run off towards the antipode (30-60 iterations of
	 * geodesics, 20,000 km away), where they are no rival of anything
	 * (solve_from_start); the leash stops them in a few.
	 */
	if (st == GSL_SUCCESS) {
		size_t	it = 0;

		do {
			st = gsl_multifit_nlinear_iterate(w);
			if (st == GSL_ENOPROG && it == 0) {
				st = GSL_EMAXITER;	/* as the driver */
				break;
			}
			it++;
			if (leash_m > 0) {
				gsl_vector *x = gsl_multifit_nlinear_position(w);
				double	 la = gsl_vector_get(x, 0);
				double	 lo = gsl_vector_get(x, 1);

				fold(&la, &lo);
				if (!(fix_distance_m(p->alat, p->alon, la, lo) <=
				    leash_m)) {
					*iters += (int)it;
					return -1;
				}
			}
			st = gsl_multifit_nlinear_test(1e-13, 1e-13, 0, &info,
			    w);
		} while (st == GSL_CONTINUE && it < MAX_ITER);
		if (st == GSL_ETOLF || st == GSL_ETOLX || st == GSL_ETOLG)
			st = GSL_SUCCESS;
		else if (it >= MAX_ITER && st != GSL_SUCCESS)
			st = GSL_EMAXITER;
	}
	/* No progress can mean "already at the minimum" (exact fits). */
	if (st == GSL_SUCCESS || st == GSL_ENOPROG || st == GSL_EMAXITER) {
		gsl_vector *x = gsl_multifit_nlinear_position(w);
		gsl_vector *f = gsl_multifit_nlinear_residual(w);
		double	 la = gsl_vector_get(x, 0), lo = gsl_vector_get(x, 1);
		double	 c2 = 0;

		for (size_t i = 0; i < f->size; i++)
			c2 += gsl_vector_get(f, i) * gsl_vector_get(f, i);
		fold(&la, &lo);
		*lat = la;
		*lon = lo;
		*chi2 = c2;
		*iters += (int)gsl_multifit_nlinear_niter(w);
		st = isfinite(c2) && isfinite(la) && isfinite(lo) ? 0 : -1;
	} else
		st = -1;
	return st;
}

static double	worst_resid(struct prob *, double, double, int *);
static int	covariance(struct prob *, double, double, double,
		    struct fix_result *);

/* ---- the start: grids on an azimuthal-equidistant plane ---- */

struct plane {
	double	 clat, clon;	/* centre */
	double	*px, *py;	/* per receiver */
	double	*dp;		/* scratch: plane path per receiver */
	double	*w;		/* per measurement in play: 1 / sigma^2 with
				   the grid step's share (set per level) */
	double	 wextra2;	/* the extra^2 that w was set for */
};

static double
grid_score(const struct prob *p, struct plane *pl, double x, double y,
    double extra2)
{
	double	 s = 0, cap = p->trunc2;

	if (extra2 != pl->wextra2) {
		for (int i = 0; i < p->nact; i++) {
			double	 sg = p->m[p->act[i]].sigma_s;

			pl->w[i] = 1 / (sg * sg + extra2);
		}
		pl->wextra2 = extra2;
	}

	for (int i = 0; i < p->nrxl; i++) {
		int	 r = p->rxl[i];

		double	 dx = x - pl->px[r], dy = y - pl->py[r];

		pl->dp[r] = sqrt(dx * dx + dy * dy + p->rx[r].alt_m *
		    p->rx[r].alt_m);
	}
	for (int i = 0; i < p->nact; i++) {
		const struct fix_meas *m = &p->m[p->act[i]];
		double	 e = m->tdoa_s - (pl->dp[m->a] - pl->dp[m->b]) *
		    (1 / FIX_C_M_S);

		/* capped: a bad clock or pair cannot pull the start away
		 * (the grids are the hot loop: no division, no fmin call) */
		e = e * e * pl->w[i];
		s += e < cap ? e : cap;
	}
	return s;
}

/* n x n grid centred on (*x, *y) with steps sx, sy; moves to the best. */
static void
grid_fine(const struct prob *p, struct plane *pl, double *x, double *y,
    double sx, double sy)
{
	double	 best = INFINITY, bx = *x, by = *y;
	double	 ex = hypot(sx, sy) / FIX_C_M_S;

	for (int j = 0; j < FINE_N; j++)
		for (int i = 0; i < FINE_N; i++) {
			double	 gx = *x + (i - FINE_N / 2) * sx;
			double	 gy = *y + (j - FINE_N / 2) * sy;
			double	 s = grid_score(p, pl, gx, gy, ex * ex);

			if (s < best) {
				best = s;
				bx = gx;
				by = gy;
			}
		}
	*x = bx;
	*y = by;
}

/* Up to MAX_CAND starting points (lat, lon); returns how many, or -1 when the
 * search area cannot be set up. *extent: the search area's diagonal. */
/*
 * The search area (fix.h, step 1): the receivers in play on the
 * azimuthal-equidistant plane around the first one (p->alat, p->alon;
 * into px, py per receiver when not NULL), their box enlarged by the
 * margin, and its diagonal in *extent.
 */
static void
area(struct prob *p, const struct fix_opts *o, double *px, double *py,
    double *x0, double *x1, double *y0, double *y1, double *extent)
{
	int	 c0 = p->rxl[0];

	*x0 = *y0 = INFINITY;
	*x1 = *y1 = -INFINITY;
	p->alat = p->rx[c0].lat;
	p->alon = p->rx[c0].lon;
	for (int i = 0; i < p->nrxl; i++) {
		int	 r = p->rxl[i];
		double	 s, az, x, y;

		geo_inverse(p->alat, p->alon, p->rx[r].lat,
		    p->rx[r].lon, &s, &az, NULL);
		x = s * sin(az * DEG);
		y = s * cos(az * DEG);
		if (px != NULL) {
			px[r] = x;
			py[r] = y;
		}
		*x0 = fmin(*x0, x);
		*x1 = fmax(*x1, x);
		*y0 = fmin(*y0, y);
		*y1 = fmax(*y1, y);
	}
	double	 w = fmax(*x1 - *x0, *y1 - *y0);
	double	 mg = o->margin_m > 0 ? o->margin_m : fmax(w, MIN_MARGIN_M);

	*x0 -= mg;
	*x1 += mg;
	*y0 -= mg;
	*y1 += mg;
	*extent = hypot(*x1 - *x0, *y1 - *y0);
}

static int
start(struct prob *p, const struct fix_opts *o, double lat[MAX_CAND],
    double lon[MAX_CAND], double *extent)
{
	struct plane pl;
	double	*sc;
	double	 x0, x1, y0, y1;
	int	 nc = 0;

	pl.px = malloc((3 * (size_t)p->nrx + (size_t)p->nact + 1) *
	    sizeof(double));
	sc = malloc(GRID_N * GRID_N * sizeof(double));
	if (!pl.px || !sc) {
		free(pl.px);
		free(sc);
		return -1;
	}
	pl.py = pl.px + p->nrx;
	pl.dp = pl.py + p->nrx;
	pl.w = pl.dp + p->nrx;
	pl.wextra2 = -1;
	area(p, o, pl.px, pl.py, &x0, &x1, &y0, &y1, extent);
	pl.clat = p->alat;
	pl.clon = p->alon;

	double	 sx = (x1 - x0) / (GRID_N - 1), sy = (y1 - y0) / (GRID_N - 1);
	double	 ex = hypot(sx, sy) / FIX_C_M_S;
	int	 ci[MAX_CAND], cj[MAX_CAND], ncand = 0;
	double	 cv[MAX_CAND];

	for (int j = 0; j < GRID_N; j++)
		for (int i = 0; i < GRID_N; i++)
			sc[j * GRID_N + i] = grid_score(p, &pl, x0 + i * sx,
			    y0 + j * sy, ex * ex);
	/* The best local minima (<= their 8 neighbours), at least 3 cells
	 * apart, best first: the fix and the other positions that might fit
	 * (a hyperbolic fix can have two). */
	for (int j = 0; j < GRID_N; j++)
		for (int i = 0; i < GRID_N; i++) {
			double	 v = sc[j * GRID_N + i];
			int	 lm = 1, at;

			for (int dj = -1; dj <= 1 && lm; dj++)
				for (int di = -1; di <= 1; di++) {
					int	 ni = i + di, nj = j + dj;

					if ((di || dj) && ni >= 0 &&
					    ni < GRID_N && nj >= 0 &&
					    nj < GRID_N &&
					    sc[nj * GRID_N + ni] < v) {
						lm = 0;
						break;
					}
				}
			if (!lm)
				continue;
			for (at = 0; at < ncand; at++)
				if (abs(i - ci[at]) < 3 && abs(j - cj[at]) < 3)
					break;
			if (at < ncand) {	/* near a kept one: the better */
				if (v < cv[at]) {
					ci[at] = i;
					cj[at] = j;
					cv[at] = v;
				}
				continue;
			}
			if (ncand == MAX_CAND && v >= cv[ncand - 1])
				continue;
			if (ncand < MAX_CAND)
				ncand++;
			for (at = ncand - 1; at > 0 && cv[at - 1] > v; at--) {
				ci[at] = ci[at - 1];
				cj[at] = cj[at - 1];
				cv[at] = cv[at - 1];
			}
			ci[at] = i;
			cj[at] = j;
			cv[at] = v;
		}
	/* (a replaced entry may now be out of order) */
	for (int a = 1; a < ncand; a++)
		for (int b = a; b > 0 && cv[b - 1] > cv[b]; b--) {
			int	 ti = ci[b], tj = cj[b];
			double	 tv = cv[b];

			ci[b] = ci[b - 1];
			cj[b] = cj[b - 1];
			cv[b] = cv[b - 1];
			ci[b - 1] = ti;
			cj[b - 1] = tj;
			cv[b - 1] = tv;
		}
	if (ncand == 0) {	/* a flat score: the centre */
		ci[0] = GRID_N / 2;
		cj[0] = GRID_N / 2;
		ncand = 1;
	}

	for (int k = 0; k < ncand; k++) {
		double	 x = x0 + ci[k] * sx, y = y0 + cj[k] * sy;
		double	 az, la, lo;

		/* two finer levels: +-2 cells at 1/5, then at 1/25 */
		grid_fine(p, &pl, &x, &y, sx / 5, sy / 5);
		grid_fine(p, &pl, &x, &y, sx / 25, sy / 25);
		az = atan2(x, y) / DEG;
		geo_direct(pl.clat, pl.clon, az, hypot(x, y), &la,
		    &lo, NULL);
		lat[nc] = la;
		lon[nc] = lo;
		nc++;
	}
	free(pl.px);
	free(sc);
	return nc;
}

/* Start + refinement of every candidate; the best in *lat, *lon, *chi2
 * and its start in st0. 0, -1 (failure: reason set), -2 (ambiguous:
 * another position, more than 1 km away, fits within AMBIG_DCHI2). */
static int
solve_from_start(struct prob *p, const struct fix_opts *o, double *lat,
    double *lon, double *chi2, double *extent, double st0[2],
    struct fix_result *out)
{
	double	 sl[MAX_CAND], so[MAX_CAND], l0[MAX_CAND], o0[MAX_CAND];
	double	 c2[MAX_CAND];
	int	 n, ok[MAX_CAND], b = -1;

	/* A hint (fix.h, fix_opts.hint): refined alone, taken if it lands
	 * inside the area with every residual within the threshold; else
	 * the grid, as without one */
	if (o->hint && p->nrxl >= FIX_HINT_MIN_RX && isfinite(o->hint_lat) &&
	    isfinite(o->hint_lon) && fabs(o->hint_lat) <= 90) {
		double	 la = o->hint_lat, lo = o->hint_lon, c2h, x0, x1, y0,
			 y1;

		area(p, o, NULL, NULL, &x0, &x1, &y0, &y1, extent);
		if (refine(p, &la, &lo, &c2h, &out->iterations,
		    2 * *extent) == 0 && fix_distance_m(p->alat, p->alon, la,
		    lo) <= *extent && worst_resid(p, la, lo, NULL) <=
		    sqrt(p->trunc2)) {
			*lat = la;
			*lon = lo;
			*chi2 = c2h;
			st0[0] = o->hint_lat;
			st0[1] = o->hint_lon;
			return 0;
		}
	}
	n = start(p, o, sl, so, extent);
	if (n < 0) {
		snprintf(out->reason, sizeof(out->reason), "out of memory");
		return -1;
	}
	for (int k = 0; k < n; k++) {
		l0[k] = sl[k];
		o0[k] = so[k];
		/* the best grid minimum goes where it goes (outside the
		 * area: no fix, said by the caller); the others only matter
		 * inside it (the rivalry check below), so they are leashed
		 * at twice its size */
		ok[k] = refine(p, &sl[k], &so[k], &c2[k], &out->iterations,
		    k == 0 ? 0 : 2 * *extent) == 0;
		if (ok[k] && (b < 0 || c2[k] < c2[b]))
			b = k;
	}
	if (b < 0) {
		snprintf(out->reason, sizeof(out->reason),
		    "the least-squares refinement did not converge");
		return -1;
	}
	*lat = sl[b];
	*lon = so[b];
	*chi2 = c2[b];
	/* the robust start: the best capped grid score, whatever the plain
	 * least squares (outliers included) preferred */
	st0[0] = l0[0];
	st0[1] = o0[0];
	for (int k = 0; k < n; k++) {
		struct fix_result tmp;
		double	 dist;

		if (k == b || !ok[k] || c2[k] - c2[b] >= AMBIG_DCHI2)
			continue;
		/* a solution that ran far out of the search area (the
		 * other side of the Earth) is no rival */
		if (fix_distance_m(p->alat, p->alon, sl[k], so[k]) > *extent)
			continue;
		dist = fix_distance_m(sl[b], so[b], sl[k], so[k]);
		/* distinct: not the same minimum reached twice, and beyond
		 * the fix's own ellipse (near a receiver the two crossings
		 * of the hyperbolas can be a few hundred metres apart) */
		memset(&tmp, 0, sizeof(tmp));
		if (dist > 10 && (covariance(p, sl[b], so[b], *extent,
		    &tmp) < 0 || dist > 3 * tmp.semi_major_m)) {
			snprintf(out->reason, sizeof(out->reason),
			    "ambiguous: (%.5f, %.5f) and (%.5f, %.5f), %.1f "
			    "km apart, fit equally well (chi2 %.3g, %.3g)",
			    sl[b], so[b], sl[k], so[k], dist / 1000, c2[b],
			    c2[k]);
			return -2;
		}
	}
	return 0;
}

/* ---- uncertainty ---- */

struct cep_par {
	double	 s1, s2, r, p;
};

static double
cep_integrand(double th, void *vp)
{
	const struct cep_par *c = vp;
	double	 q = cos(th) * cos(th) / (c->s1 * c->s1) +
	    sin(th) * sin(th) / (c->s2 * c->s2);

	return -expm1(-c->r * c->r * q / 2) / q;
}

/* P(|x| <= r) for the 2-D Gaussian with semi-axes s1, s2 (> 0). */
static double
cep_prob(double r, void *vp)
{
	struct cep_par *c = vp;
	gsl_integration_workspace *w = gsl_integration_workspace_alloc(200);
	gsl_function F = { cep_integrand, c };
	double	 v = NAN, err;

	if (!w)
		return NAN;
	c->r = r;
	/* symmetric in both axes: a quarter of the circle, times 4 */
	if (gsl_integration_qag(&F, 0, M_PI / 2, 0, 1e-10, 200,
	    GSL_INTEG_GAUSS41, w, &v, &err) != GSL_SUCCESS &&
	    !(err < 1e-6 * fabs(v)))
		v = NAN;
	gsl_integration_workspace_free(w);
	return 4 * v / (2 * M_PI * c->s1 * c->s2) - c->p;
}

double
fix_cep_m(double s1, double s2, double p)
{
	if (!(s1 >= 0) || !(s2 >= 0) || !(p > 0 && p < 1) || isinf(s1) ||
	    isinf(s2))
		return NAN;
	if (lazygsl_load(NULL, 0) != 0)
		return NAN;	/* no GSL: no answer (fix_solve says why) */
	pthread_once(&gsl_once, gsl_quiet);
	double	 hi = fmax(s1, s2), lo = fmin(s1, s2);

	if (hi == 0)
		return 0;
	/* A line (lo -> 0) is the 1-D limit; keep the integrand finite. */
	if (lo < 1e-9 * hi)
		lo = 1e-9 * hi;

	struct cep_par c = { hi, lo, 0, p };
	gsl_function F = { cep_prob, &c };
	gsl_root_fsolver *s = gsl_root_fsolver_alloc(gsl_root_fsolver_brent);
	double	 a, b, r = NAN;

	if (!s)
		return NAN;
	/*
	 * The root lies between two 1-parameter bounds (each probe is an
	 * integral: a tight bracket halves the probes against 0 .. 4 hi).
	 * The disk lies inside the strip |x| <= r along the major axis:
	 * P(r) <= P(|N(0, hi^2)| <= r), so r >= hi z, z the normal's
	 * (1 + p) / 2 quantile. The circular Gaussian of sigma hi is the
	 * wider one (Anderson's theorem: a smaller covariance puts more on
	 * a symmetric convex set): P(r) >= 1 - exp(-r^2 / 2 hi^2), so r <=
	 * hi sqrt(-2 ln(1 - p)). 1 % margins: the bounds are met at lo -> 0
	 * and lo = hi, where the integral's rounding could put both ends on
	 * one side.
	 */
	a = 0.99 * hi * gsl_cdf_ugaussian_Pinv(0.5 * (1 + p));
	b = 1.01 * hi * sqrt(-2 * log1p(-p));
	if (gsl_root_fsolver_set(s, &F, a, b) == GSL_SUCCESS)
		for (int i = 0; i < 100; i++) {
			if (gsl_root_fsolver_iterate(s) != GSL_SUCCESS)
				break;
			r = gsl_root_fsolver_root(s);
			a = gsl_root_fsolver_x_lower(s);
			b = gsl_root_fsolver_x_upper(s);
			if (gsl_root_test_interval(a, b, 0, 1e-9) ==
			    GSL_SUCCESS)
				break;
		}
	gsl_root_fsolver_free(s);
	return r;
}

/* Ellipse and CEPs from out->cov_en; -1 if it is not a covariance. */
static int
ellipse(struct fix_result *out)
{
	double	 a[4] = { out->cov_en[0], out->cov_en[1], out->cov_en[1],
	    out->cov_en[2] };
	gsl_matrix_view A = gsl_matrix_view_array(a, 2, 2);
	gsl_vector *ev = gsl_vector_alloc(2);
	gsl_matrix *V = gsl_matrix_alloc(2, 2);
	gsl_eigen_symmv_workspace *w = gsl_eigen_symmv_alloc(2);
	int	 st = -1;

	if (ev && V && w &&
	    gsl_eigen_symmv(&A.matrix, ev, V, w) == GSL_SUCCESS) {
		gsl_eigen_symmv_sort(ev, V, GSL_EIGEN_SORT_VAL_DESC);
		double	 l1 = gsl_vector_get(ev, 0), l2 = gsl_vector_get(ev, 1);

		if (l2 >= 0 && isfinite(l1)) {
			/* eigenvector columns: (east, north) */
			double	 ve = gsl_matrix_get(V, 0, 0);
			double	 vn = gsl_matrix_get(V, 1, 0);
			double	 o = atan2(ve, vn) / DEG;

			if (o < 0)
				o += 180;
			if (o >= 180)
				o -= 180;
			out->semi_major_m = sqrt(l1);
			out->semi_minor_m = sqrt(l2);
			out->orient_deg = o;
			out->cep50_m = fix_cep_m(sqrt(l1), sqrt(l2), 0.5);
			out->cep95_m = fix_cep_m(sqrt(l1), sqrt(l2), 0.95);
			st = 0;
		}
	}
	gsl_vector_free(ev);
	gsl_matrix_free(V);
	gsl_eigen_symmv_free(w);
	return st;
}

/* The covariance at (lat, lon). -1 (reason set) when degenerate.
 *
 * Why not just (J^T J)^-1 (J in east/north metres per sigma): that is the
 * covariance only if the pairs' errors are independent, and they are not.
 * At the SNRs that give a fix, a pair's cross-correlation error is mostly
 * each receiver's noise against the common signal (the noise x noise term
 * is 1/SNR smaller), so the error of pair (a, b) is ~ n_a - n_b: pairs
 * that share a receiver correlate (+ when it is on the same side, - when
 * not) and a triangle's errors nearly cancel. N receivers carry N - 1
 * independent TDoAs however many pairs are correlated; counting 11 or 15
 * pairs of 7 receivers as independent made the ellipse 1.4-1.9x too small
 * (bench/README.md: CEP95 held 18-24 of 30 errors). So the fix (its
 * weights unchanged, 1 / sigma^2) gets the sandwich covariance
 * A^-1 M A^-1, A = J^T J and M = J^T C J with C the pairs' error
 * correlation under that model, each pair's variance split evenly between
 * its two receivers: C = B B^T / 2, B the pair-receiver incidence (+1 a,
 * -1 b), so M = 1/2 sum over receivers r of v_r v_r^T, v_r = sum of the
 * rows J_i of r's pairs, signed. Independent pairs would give M = A (the
 * old covariance); with this model, errors that really are independent
 * get a conservative ellipse. Not chosen: scaling by the residuals'
 * reduced chi-square, which these errors keep small (their cycle sums
 * cancel), so it would not widen anything; generalized least squares,
 * whose C is singular (rank N - 1) and which would change the fix. */
static int
covariance(struct prob *p, double lat, double lon, double extent,
    struct fix_result *out)
{
	double	 see = 0, sen = 0, snn = 0, det;
	double	 mee = 0, men = 0, mnn = 0, a0, a1, a2;

	p->cvalid = 0;
	eval_paths(p, lat, lon);
	for (int i = 0; i < p->nact; i++) {
		const struct fix_meas *m = &p->m[p->act[i]];
		double	 k = 1 / (FIX_C_M_S * m->sigma_s);
		double	 je = (p->ge[m->a] - p->ge[m->b]) * k;
		double	 jn = (p->gn[m->a] - p->gn[m->b]) * k;

		see += je * je;
		sen += je * jn;
		snn += jn * jn;
	}
	/* 2 x 2: the inverse is the adjugate over the determinant; a
	 * determinant lost in rounding means a singular geometry. */
	det = see * snn - sen * sen;
	if (!(det > 1e-12 * (see + snn) * (see + snn))) {
		snprintf(out->reason, sizeof(out->reason),
		    "degenerate geometry: the receivers do not constrain the"
		    " position (singular information matrix)");
		return -1;
	}
	/* A^-1 = adjugate / determinant */
	a0 = snn / det;
	a1 = -sen / det;
	a2 = see / det;
	for (int j = 0; j < p->nrxl; j++) {
		int	 r = p->rxl[j];
		double	 ve = 0, vn = 0;

		for (int i = 0; i < p->nact; i++) {
			const struct fix_meas *m = &p->m[p->act[i]];
			double	 k = (m->a == r) - (m->b == r);

			if (k == 0)
				continue;
			k /= FIX_C_M_S * m->sigma_s;
			ve += (p->ge[m->a] - p->ge[m->b]) * k;
			vn += (p->gn[m->a] - p->gn[m->b]) * k;
		}
		mee += 0.5 * ve * ve;
		men += 0.5 * ve * vn;
		mnn += 0.5 * vn * vn;
	}
	/* A^-1 M A^-1, symmetric 2 x 2 */
	{
		double	 t00 = a0 * mee + a1 * men, t01 = a0 * men + a1 * mnn;
		double	 t10 = a1 * mee + a2 * men, t11 = a1 * men + a2 * mnn;

		out->cov_en[0] = t00 * a0 + t01 * a1;
		out->cov_en[1] = t00 * a1 + t01 * a2;
		out->cov_en[2] = t10 * a1 + t11 * a2;
	}
	if (ellipse(out) < 0) {
		snprintf(out->reason, sizeof(out->reason),
		    "degenerate geometry: no valid covariance");
		return -1;
	}
	if (out->semi_major_m > extent) {
		snprintf(out->reason, sizeof(out->reason),
		    "degenerate geometry: the 1-sigma ellipse (%.0f km) is"
		    " larger than the search area (%.0f km)",
		    out->semi_major_m / 1000, extent / 1000);
		return -1;
	}
	return 0;
}

/* ---- outliers ---- */

/* The largest |normalized residual| at (lat, lon); its measurement in *wi. */
static double
worst_resid(struct prob *p, double lat, double lon, int *wi)
{
	double	 worst = 0;

	p->cvalid = 0;
	eval_paths(p, lat, lon);
	for (int i = 0; i < p->nact; i++) {
		const struct fix_meas *q = &p->m[p->act[i]];
		double	 r = fabs(((p->d[q->a] - p->d[q->b]) / FIX_C_M_S -
		    q->tdoa_s) / q->sigma_s);

		if (r > worst || !isfinite(r)) {
			worst = r;
			if (wi)
				*wi = p->act[i];
		}
	}
	return worst;
}

/* Drops from play the measurement mi (>= 0) or every measurement of
 * receiver ri (>= 0); counts them in out->n_rejected. */
static void
drop(struct prob *p, int mi, int ri, struct fix_result *out)
{
	int	 k = 0;

	for (int i = 0; i < p->nact; i++) {
		const struct fix_meas *q = &p->m[p->act[i]];

		if (p->act[i] == mi || q->a == ri || q->b == ri)
			out->n_rejected++;
		else
			p->act[k++] = p->act[i];
	}
	p->nact = k;
	if (ri >= 0)
		out->rx_used[ri] = FIX_RX_REJECTED;
	else
		p->npair_drops++;
	list_rx(p);
}

/*
 * Gross outliers, when the plain fit has some: a robust fit first --
 * iteratively reweighted least squares with Cauchy weights
 * 1 / (1 + (r / 2.385)^2) (95 % efficient on clean Gaussian data), from
 * the grid start, which the capped grid score already keeps near the
 * consistent majority -- then, at that robust position, a receiver with
 * more than half (and >= 2) of its pairs beyond thr loses them all, and
 * every other pair beyond thr goes, while 3 receivers and a redundant
 * pair remain. A least-squares fit, even one outlier at a time, would
 * first bend towards a bad clock and blame its good neighbours.
 */
static int
robust(struct prob *p, double thr, const double st0[2], double *lat,
    double *lon, struct fix_result *out)
{
	double	*wt, la = st0[0], lo = st0[1], c2;
	int	 nm = 0, st = 0, *bad, *all, nr;

	for (int i = 0; i < p->nact; i++)
		nm = p->act[i] + 1 > nm ? p->act[i] + 1 : nm;
	wt = malloc(((size_t)nm + 1) * sizeof(double));
	bad = calloc((size_t)p->nrx + 1, sizeof(int));
	all = calloc((size_t)p->nrx + 1, sizeof(int));
	if (!wt || !bad || !all) {
		st = -1;
		goto out;
	}
	for (int it = 0; it < 20; it++) {
		double	 pla = la, plo = lo;

		p->cvalid = 0;
		eval_paths(p, la, lo);
		for (int i = 0; i < p->nact; i++) {
			const struct fix_meas *q = &p->m[p->act[i]];
			double	 r = ((p->d[q->a] - p->d[q->b]) / FIX_C_M_S -
			    q->tdoa_s) / q->sigma_s / 2.385;

			wt[p->act[i]] = 1 / (1 + r * r);
		}
		p->wt = wt;
		st = refine(p, &la, &lo, &c2, &out->iterations, 0);
		p->wt = NULL;
		if (st < 0)
			goto out;
		if (fix_distance_m(pla, plo, la, lo) < 0.1)
			break;
	}
	/* classify at the robust position */
	p->cvalid = 0;
	eval_paths(p, la, lo);
	for (int i = 0; i < p->nact; i++) {
		const struct fix_meas *q = &p->m[p->act[i]];
		double	 r = fabs(((p->d[q->a] - p->d[q->b]) / FIX_C_M_S -
		    q->tdoa_s) / q->sigma_s);

		wt[p->act[i]] = r;
	}
	/* receivers, the worst share of bad pairs first, counted anew
	 * after each (a bad receiver makes one bad pair for each other) */
	for (;;) {
		int	 wr = -1;

		memset(bad, 0, (size_t)p->nrx * sizeof(int));
		memset(all, 0, (size_t)p->nrx * sizeof(int));
		for (int i = 0; i < p->nact; i++) {
			const struct fix_meas *q = &p->m[p->act[i]];

			all[q->a]++;
			all[q->b]++;
			if (wt[p->act[i]] > thr) {
				bad[q->a]++;
				bad[q->b]++;
			}
		}
		for (int r = 0; r < p->nrx; r++)
			if (bad[r] >= 2 && 2 * bad[r] > all[r] &&
			    (wr < 0 || bad[r] * all[wr] > bad[wr] * all[r]) &&
			    pair_rank(p, -1, r, &nr) >= REJ_RANK)
				wr = r;
		if (wr < 0)
			break;
		drop(p, -1, wr, out);
	}
	for (int i = 0; i < p->nact; i++) {
		int	 mi = p->act[i];

		if (wt[mi] > thr && pair_rank(p, mi, -1, &nr) >= REJ_RANK) {
			drop(p, mi, -1, out);
			i--;
		}
	}
	*lat = la;
	*lon = lo;
	st = refine(p, lat, lon, &c2, &out->iterations, 0);
out:
	free(wt);
	free(bad);
	free(all);
	return st;
}

/* The fit without measurement mi (>= 0) or receiver ri (>= 0), from a
 * fresh start (grid and candidates: the fit with the outlier may be far
 * off); the measurements in play are restored after. 0 with the solution,
 * chi2 per degree of freedom and the worst |normalized residual|; -1 when
 * that would leave too little (fewer than 3 receivers or no redundant
 * pair) or did not converge. */
static int
trial(struct prob *p, const struct fix_opts *o, int *save, int mi, int ri,
    int ri2, double *lat, double *lon, double *c2dof, double *worst,
    int *iters)
{
	int	 n0 = p->nact, k = 0, nr, st = -1;
	double	 c2, ext, s0[2];
	struct fix_result *tmp = NULL;

	memcpy(save, p->act, (size_t)n0 * sizeof(int));
	for (int i = 0; i < n0; i++) {
		const struct fix_meas *q = &p->m[save[i]];

		if (save[i] != mi && q->a != ri && q->b != ri &&
		    q->a != ri2 && q->b != ri2)
			p->act[k++] = save[i];
	}
	p->nact = k;
	list_rx(p);
	if (pair_rank(p, -1, -1, &nr) >= REJ_RANK)
		tmp = malloc(sizeof(*tmp));
	if (tmp) {
		memset(tmp, 0, sizeof(*tmp));
		/* ambiguous (-2) still has a best fit to compare */
		if (solve_from_start(p, o, lat, lon, &c2, &ext, s0, tmp) !=
		    -1) {
			*c2dof = c2 / (k - 2);
			*worst = worst_resid(p, *lat, *lon, NULL);
			*iters += tmp->iterations;
			st = 0;
		}
		free(tmp);
	}
	memcpy(p->act, save, (size_t)n0 * sizeof(int));
	p->nact = n0;
	list_rx(p);
	return st;
}

/* ---- the API ---- */

static void
clear_result(struct fix_result *out)
{
	memset(out, 0, sizeof(*out));
	out->lat = out->lon = NAN;
	for (int i = 0; i < 3; i++)
		out->cov_en[i] = NAN;
	out->semi_major_m = out->semi_minor_m = out->orient_deg = NAN;
	out->cep50_m = out->cep95_m = NAN;
	out->chi2 = out->rms_norm_residual = NAN;
}

static int
no_fix(struct fix_result *out, const char *why)
{
	char	 r[sizeof(out->reason)];
	int	 it = out->iterations, nrej = out->n_rejected;

	snprintf(r, sizeof(r), "%s", why);
	clear_result(out);
	snprintf(out->reason, sizeof(out->reason), "%s", r);
	out->iterations = it;
	out->n_rejected = nrej;
	return -1;
}

static int
rx_valid(const struct fix_rx *r)
{
	return r->lat >= -90 && r->lat <= 90 && r->lon >= -540 &&
	    r->lon <= 540 && fabs(r->alt_m) < 1e5;
}

static int
meas_valid(const struct fix_meas *m, int nrx, char *why, size_t n)
{
	if (m->a < 0 || m->a >= nrx || m->b < 0 || m->b >= nrx) {
		snprintf(why, n, "receiver index out of range 0..%d", nrx - 1);
		return 0;
	}
	if (m->a == m->b) {
		snprintf(why, n, "a pair of receiver %d with itself", m->a);
		return 0;
	}
	if (!(fabs(m->tdoa_s) <= MAX_TDOA_S)) {
		snprintf(why, n, "tdoa_s %g is not a finite TDoA on Earth",
		    m->tdoa_s);
		return 0;
	}
	if (!(m->sigma_s > 0 && m->sigma_s < 1)) {
		snprintf(why, n, "sigma_s %g is not in (0, 1) s", m->sigma_s);
		return 0;
	}
	return 1;
}

int
fix_prepare(char *err, size_t errlen)
{
	if (lazygsl_load(err, errlen) != 0)
		return -1;
	pthread_once(&gsl_once, gsl_quiet);
	return lazygeod_load(err, errlen);
}

int
fix_solve(const struct fix_rx *rx, int nrx, const struct fix_meas *m,
    int nm, const struct fix_opts *o, struct fix_result *out)
{
	struct fix_opts def = { 0 };
	struct prob p;
	char	 why[160];
	double	 lat, lon, chi2, extent, thr, st0[2], stuck = 0;
	int	 st, nrxin, nrx_named, rank, *save = NULL;
	unsigned char in[FIX_MAX_RX];

	if (!out)
		return -1;
	clear_result(out);
	if (lazygeod_load(why, sizeof(why)) != 0 ||
	    lazygsl_load(why, sizeof(why)) != 0)
		return no_fix(out, why);
	pthread_once(&gsl_once, gsl_quiet);
	if (!o)
		o = &def;
	thr = o->reject_nsigma > 0 ? o->reject_nsigma : 4;
	if (!rx || !m || nrx < 0 || nm < 0)
		return no_fix(out, "no receivers or no measurements");
	if (nrx > FIX_MAX_RX || nm > FIX_MAX_MEAS) {
		snprintf(why, sizeof(why), "too many receivers (%d, at most "
		    "%d) or measurements (%d, at most %d)", nrx, FIX_MAX_RX,
		    nm, FIX_MAX_MEAS);
		return no_fix(out, why);
	}
	if (!(o->reject_nsigma >= 0) || !(o->margin_m >= 0) ||
	    !(o->margin_m < 2e7))
		return no_fix(out, "invalid options");
	memset(in, 0, sizeof(in));
	for (int i = 0; i < nm; i++) {
		char	 w2[96];

		if (!meas_valid(&m[i], nrx, w2, sizeof(w2))) {
			snprintf(why, sizeof(why), "measurement %d: %s", i, w2);
			return no_fix(out, why);
		}
		for (int k = 0; k < 2; k++) {
			int	 r = k ? m[i].b : m[i].a;

			if (!in[r] && !rx_valid(&rx[r])) {
				snprintf(why, sizeof(why), "receiver %d: "
				    "invalid position (%g, %g, %g m)", r,
				    rx[r].lat, rx[r].lon, rx[r].alt_m);
				return no_fix(out, why);
			}
			in[r] = 1;
		}
	}

	memset(&p, 0, sizeof(p));
	p.rx = rx;
	p.nrx = nrx;
	p.m = m;
	p.act = malloc(((size_t)nm + 1) * sizeof(int));
	p.rxl = malloc(((size_t)nrx + 1) * sizeof(int));
	p.d = malloc(3 * ((size_t)nrx + 1) * sizeof(double));
	save = malloc(((size_t)nm + (size_t)nrx + 1) * sizeof(int));
	if (!p.act || !p.rxl || !p.d || !save) {
		st = no_fix(out, "out of memory");
		goto done;
	}
	p.ge = p.d + nrx;
	p.gn = p.ge + nrx;
	p.nact = nm;
	for (int i = 0; i < nm; i++)
		p.act[i] = i;
	list_rx(&p);
	rank = pair_rank(&p, -1, -1, &nrxin);
	nrx_named = nrxin;
	if (nrxin < 3) {
		snprintf(why, sizeof(why), "%d receiver%s in the measurements: "
		    "a fix needs at least 3", nrxin, nrxin == 1 ? "" : "s");
		st = no_fix(out, why);
		goto done;
	}
	if (rank < 2) {
		snprintf(why, sizeof(why), "only %d independent TDoA: a fix "
		    "needs 2 (pairs joining 3 receivers)", rank);
		st = no_fix(out, why);
		goto done;
	}
	p.trunc2 = thr * thr;
	st = solve_from_start(&p, o, &lat, &lon, &chi2, &extent, st0, out);
	/* Ambiguous with outliers in the fit may be the outliers' doing:
	 * reject them first, the check is redone after. */
	if (st == -2 && !o->no_reject && worst_resid(&p, lat, lon, NULL) >
	    thr)
		out->reason[0] = '\0';
	else if (st < 0) {
		st = no_fix(out, out->reason);
		goto done;
	}

	/* Outliers (see fix.h, step 3). */
	if (!o->no_reject && p.nrxl > LOO_MAX &&
	    worst_resid(&p, lat, lon, NULL) > thr) {
		if (robust(&p, thr, st0, &lat, &lon, out) < 0) {
			st = no_fix(out, "the least-squares refinement did "
			    "not converge after rejecting outliers");
			goto done;
		}
	}
	for (int pass = 0; !o->no_reject && pass < nm; pass++) {
		double	 worst = 0, ssq[2] = { 0, 0 };
		int	 wi = -1, cnt[2] = { 0, 0 }, drop_rx = -1, wa, wb, nr;

		p.cvalid = 0;
		eval_paths(&p, lat, lon);
		for (int i = 0; i < p.nact; i++) {
			const struct fix_meas *q = &m[p.act[i]];
			double	 r = fabs(((p.d[q->a] - p.d[q->b]) / FIX_C_M_S -
			    q->tdoa_s) / q->sigma_s);

			if (r > worst) {
				worst = r;
				wi = p.act[i];
			}
		}
		if (wi < 0 || worst <= thr)
			break;
		wa = m[wi].a;
		wb = m[wi].b;
		if (p.nrxl <= LOO_MAX) {
			/* Few receivers: try without the worst pair, and
			 * without each receiver in turn; keep the best fit
			 * (chi2 per degree of freedom), the pair alone if
			 * that leaves nothing beyond the threshold. */
			double	 pl = lat, po = lon, pc = INFINITY, pw = 0;
			double	 bl = 0, bo = 0, bc = INFINITY, bw = INFINITY;
			int	 pok, br = -1, nl = p.nrxl;

			pok = trial(&p, o, save, wi, -1, -1, &pl, &po, &pc,
			    &pw, &out->iterations) == 0;
			if (!pok || pw > thr) {
				memcpy(save + nm, p.rxl, (size_t)nl *
				    sizeof(int));
				for (int i = 0; i < nl; i++) {
					double	 tl = lat, to = lon, tc, tw;

					if (trial(&p, o, save, -1, save[nm + i],
					    -1, &tl, &to, &tc, &tw,
					    &out->iterations) == 0 && tc < bc) {
						bc = tc;
						bw = tw;
						bl = tl;
						bo = to;
						br = save[nm + i];
					}
				}
			}
			/* Two bad at once (up to 10 receivers: <= 45 fits):
			 * one at a time may blame a good one first. */
			if ((!pok || pw > thr) && (br < 0 || bw > thr) &&
			    nl <= 10) {
				double	 b2c = INFINITY, b2l = 0, b2o = 0;
				int	 r1 = -1, r2 = -1;

				for (int i = 0; i < nl; i++)
					for (int j = i + 1; j < nl; j++) {
						double	 tl = lat, to = lon;
						double	 tc, tw;

						if (trial(&p, o, save, -1,
						    save[nm + i], save[nm + j],
						    &tl, &to, &tc, &tw,
						    &out->iterations) == 0 &&
						    tw <= thr && tc < b2c) {
							b2c = tc;
							b2l = tl;
							b2o = to;
							r1 = save[nm + i];
							r2 = save[nm + j];
						}
					}
				if (r1 >= 0) {
					drop(&p, -1, r1, out);
					drop(&p, -1, r2, out);
					lat = b2l;
					lon = b2o;
					br = -2;	/* done */
				}
			}
			if (br == -2) {
				/* two receivers went */
			} else if (br >= 0 && (!pok || bc < pc)) {
				drop(&p, -1, br, out);
				lat = bl;
				lon = bo;
			} else if (pok) {
				drop(&p, wi, -1, out);
				lat = pl;
				lon = po;
			} else {
				stuck = worst;
				break;
			}
			if (refine(&p, &lat, &lon, &chi2,
			    &out->iterations, 0) < 0) {
				st = no_fix(out, "the least-squares "
				    "refinement did not converge after "
				    "rejecting outliers");
				goto done;
			}
			continue;
		}
		/* Is one of the two bad in its other pairs too? */
		for (int i = 0; i < p.nact; i++) {
			const struct fix_meas *q = &m[p.act[i]];
			double	 r = ((p.d[q->a] - p.d[q->b]) / FIX_C_M_S -
			    q->tdoa_s) / q->sigma_s;

			if (p.act[i] == wi)
				continue;
			for (int k = 0; k < 2; k++) {
				int	 who = k ? wb : wa;

				if (q->a == who || q->b == who) {
					ssq[k] += r * r;
					cnt[k]++;
				}
			}
		}
		for (int k = 0; k < 2; k++) {
			double	 rms = cnt[k] ? sqrt(ssq[k] / cnt[k]) : 0;
			double	 oth = cnt[!k] ? sqrt(ssq[!k] / cnt[!k]) : 0;

			if (rms > thr && rms > oth)
				drop_rx = k ? wb : wa;
		}
		if (drop_rx >= 0 && pair_rank(&p, -1, drop_rx, &nr) < REJ_RANK)
			drop_rx = -1;
		if (drop_rx < 0 && pair_rank(&p, wi, -1, &nr) < REJ_RANK) {
			stuck = worst;
			break;
		}
		/* (the worst pair is one of drop_rx's) */
		drop(&p, drop_rx >= 0 ? -1 : wi, drop_rx, out);
		if (refine(&p, &lat, &lon, &chi2, &out->iterations, 0) < 0) {
			st = no_fix(out, "the least-squares refinement did "
			    "not converge after rejecting outliers");
			goto done;
		}
	}
	if (stuck > 0) {
		/* Inconsistent, and no rejection can say which is wrong: a
		 * position from these would be made up. */
		snprintf(why, sizeof(why), "inconsistent measurements: a "
		    "residual of %.1f sigma remains and too few receivers are "
		    "left to tell which measurement is wrong", stuck);
		st = no_fix(out, why);
		goto done;
	}
	if (out->n_rejected) {
		/* The start again on what is left: the global minimum and
		 * the ambiguity check without the outliers. */
		if (solve_from_start(&p, o, &lat, &lon, &chi2, &extent, st0,
		    out) < 0) {
			st = no_fix(out, out->reason);
			goto done;
		}
	}
	if (fix_distance_m(p.alat, p.alon, lat, lon) > extent) {
		snprintf(why, sizeof(why), "the best fit (%.4f, %.4f) lies "
		    "outside the search area around the receivers", lat, lon);
		st = no_fix(out, why);
		goto done;
	}
	if (covariance(&p, lat, lon, extent, out) < 0) {
		st = no_fix(out, out->reason);
		goto done;
	}

	rank = pair_rank(&p, -1, -1, &nrxin);
	/* A robust fit breaks down beyond half the data bad: then the
	 * "consistent" rest is as likely the wrong half. */
	if (2 * nrxin < nrx_named || p.npair_drops > p.nact) {
		snprintf(why, sizeof(why), "inconsistent measurements: "
		    "rejecting outliers would leave %d of %d receivers, and "
		    "drop %d of their pairs, keeping %d", nrxin, nrx_named,
		    p.npair_drops, p.nact);
		st = no_fix(out, why);
		goto done;
	}
	out->ok = 1;
	out->reason[0] = '\0';
	out->lat = lat;
	out->lon = lon;
	out->chi2 = chi2;
	out->n_meas_used = p.nact;
	out->rms_norm_residual = sqrt(chi2 / p.nact);
	out->exact = rank == 2;
	memset(in, 0, sizeof(in));
	for (int i = 0; i < p.nrxl; i++)
		in[p.rxl[i]] = 1;
	for (int r = 0; r < nrx; r++) {
		int	 named = 0;

		for (int i = 0; i < nm && !named; i++)
			named = m[i].a == r || m[i].b == r;
		if (in[r])
			out->rx_used[r] = FIX_RX_USED;
		else if (named)
			out->rx_used[r] = FIX_RX_REJECTED;
		out->n_rx_used += in[r];
	}
	if (out->exact && !out->note[0])
		snprintf(out->note, sizeof(out->note), "exact fit: %d "
		    "receivers give 2 independent TDoAs for 2 unknowns, the "
		    "residuals test nothing", nrxin);
	st = 0;
done:
	if (p.w != NULL)
		gsl_multifit_nlinear_free(p.w);
	free(p.act);
	free(p.rxl);
	free(p.d);
	free(save);
	return st;
}

double
fix_distance_m(double lat1, double lon1, double lat2, double lon2)
{
	double	 s;

	if (!(fabs(lat1) <= 90 && fabs(lat2) <= 90 && fabs(lon1) <= 540 &&
	    fabs(lon2) <= 540) || lazygeod_load(NULL, 0) != 0)
		return NAN;
	geo_inverse(lat1, lon1, lat2, lon2, &s, NULL, NULL);
	return s;
}

double
fix_expected_tdoa_s(const struct fix_rx *a, const struct fix_rx *b,
    double lat, double lon)
{

	if (!a || !b || !rx_valid(a) || !rx_valid(b) ||
	    !(fabs(lat) <= 90 && fabs(lon) <= 540) ||
	    lazygeod_load(NULL, 0) != 0)
		return NAN;
	return (path(a, lat, lon, NULL, NULL) -
	    path(b, lat, lon, NULL, NULL)) / FIX_C_M_S;
}

void
fix_residuals_us(const struct fix_rx *rx, int nrx, const struct fix_meas *m,
    int nm, double src_lat, double src_lon, double *res_us)
{
	double	*sum;
	int	*cnt;
	char	 why[96];

	if (!res_us || nrx <= 0 || nrx > FIX_MAX_RX)
		return;
	for (int r = 0; r < nrx; r++)
		res_us[r] = NAN;
	if (!rx || !m || nm <= 0 || nm > FIX_MAX_MEAS ||
	    !(fabs(src_lat) <= 90 && fabs(src_lon) <= 540) ||
	    lazygeod_load(NULL, 0) != 0)
		return;
	sum = calloc((size_t)nrx, sizeof(double));
	cnt = calloc((size_t)nrx, sizeof(int));
	if (!sum || !cnt)
		goto out;
	for (int i = 0; i < nm; i++) {
		double	 e;

		if (!meas_valid(&m[i], nrx, why, sizeof(why)) ||
		    !rx_valid(&rx[m[i].a]) || !rx_valid(&rx[m[i].b]))
			continue;
		/* measured - expected: positive when a heard it later (or
		 * b earlier) than the geometry says */
		e = m[i].tdoa_s - (path(&rx[m[i].a], src_lat, src_lon,
		    NULL, NULL) - path(&rx[m[i].b], src_lat, src_lon,
		    NULL, NULL)) / FIX_C_M_S;
		sum[m[i].a] += e;
		cnt[m[i].a]++;
		sum[m[i].b] -= e;
		cnt[m[i].b]++;
	}
	for (int r = 0; r < nrx; r++)
		if (cnt[r])
			res_us[r] = sum[r] / cnt[r] * 1e6;
out:
	free(sum);
	free(cnt);
}

/* ---- the session fix ---- */

static int
inv2(const double c[3], double i[3])
{
	double	 det = c[0] * c[2] - c[1] * c[1];

	if (!(det > 0) || !isfinite(det))
		return -1;
	i[0] = c[2] / det;
	i[1] = -c[1] / det;
	i[2] = c[0] / det;
	return 0;
}

/* Information-weighted mean of the kept chunks, skipping one (-1: none). */
static int
wmean(int n, const unsigned char *keep, const double *x, const double *y,
    const double *info, int skip, double *mx, double *my, double cov[3])
{
	double	 I[3] = { 0, 0, 0 }, bx = 0, by = 0;

	for (int k = 0; k < n; k++) {
		const double *f = info + 3 * k;

		if (!keep[k] || k == skip)
			continue;
		I[0] += f[0];
		I[1] += f[1];
		I[2] += f[2];
		bx += f[0] * x[k] + f[1] * y[k];
		by += f[1] * x[k] + f[2] * y[k];
	}
	if (inv2(I, cov) < 0)
		return -1;
	*mx = cov[0] * bx + cov[1] * by;
	*my = cov[1] * bx + cov[2] * by;
	return 0;
}

static double
maha(double dx, double dy, const double c[3])
{
	double	 i[3];

	if (inv2(c, i) < 0)
		return INFINITY;
	return dx * (i[0] * dx + i[1] * dy) + dy * (i[1] * dx + i[2] * dy);
}

int
fix_combine(const struct fix_result *chunks, int n,
    struct fix_result *session)
{
	double	*x = NULL, *y = NULL, *info = NULL, mx, my, cov[3], chi2 = 0;
	unsigned char *keep = NULL;
	int	 ref = -1, nk = 0, st = -1, nbad = 0;
	char	 why[160];

	if (!session)
		return -1;
	clear_result(session);
	if (!chunks || n <= 0)
		return no_fix(session, "no chunk fixes");
	if (n > 100000)
		return no_fix(session, "too many chunk fixes (at most 100000)");
	x = malloc((size_t)n * sizeof(double));
	y = malloc((size_t)n * sizeof(double));
	info = malloc(3 * (size_t)n * sizeof(double));
	keep = calloc((size_t)n, 1);
	if (!x || !y || !info || !keep) {
		no_fix(session, "out of memory");
		goto out;
	}
	for (int k = 0; k < n; k++) {
		const struct fix_result *c = &chunks[k];
		double	 s, az;

		if (!c->ok || !(fabs(c->lat) <= 90) || !(fabs(c->lon) <= 540) ||
		    inv2(c->cov_en, info + 3 * k) < 0) {
			nbad += c->ok;
			continue;
		}
		if (ref < 0) {
			/* The module is loaded by the first chunk fix that
			 * needs it, not before: a session whose chunks have
			 * no fix (no station on GPS time) never loads it
			 * (src/loc/lazygeod.h: ~1 ms of CPU), nor GSL. */
			if (lazygeod_load(why, sizeof(why)) != 0 ||
			    lazygsl_load(why, sizeof(why)) != 0) {
				no_fix(session, why);
				goto out;
			}
			pthread_once(&gsl_once, gsl_quiet);
			ref = k;
		}
		/* azimuthal-equidistant plane around the first chunk fix:
		 * exact distances from it, and chunk fixes lie km apart */
		geo_inverse(chunks[ref].lat, chunks[ref].lon, c->lat,
		    c->lon, &s, &az, NULL);
		x[k] = s * sin(az * DEG);
		y[k] = s * cos(az * DEG);
		keep[k] = 1;
		nk++;
	}
	if (nk == 0) {
		no_fix(session, nbad ? "no chunk fix with a valid covariance"
		    : "no chunk has a fix");
		goto out;
	}
	/* Outlier chunks: leave-one-out Mahalanobis distance. */
	while (nk > 3) {
		double	 worst = 0;
		int	 wk = -1;

		for (int k = 0; k < n; k++) {
			double	 lx, ly, lc[3], c2[3], d2;

			if (!keep[k] || wmean(n, keep, x, y, info, k, &lx, &ly,
			    lc) < 0)
				continue;
			for (int i = 0; i < 3; i++)
				c2[i] = lc[i] + chunks[k].cov_en[i];
			d2 = maha(x[k] - lx, y[k] - ly, c2);
			if (d2 > worst) {
				worst = d2;
				wk = k;
			}
		}
		if (wk < 0 || worst <= 13.8)
			break;
		keep[wk] = 0;
		nk--;
		session->n_chunks_rejected++;
	}
	if (wmean(n, keep, x, y, info, -1, &mx, &my, cov) < 0) {
		no_fix(session, "the chunk covariances do not combine");
		goto out;
	}
	for (int k = 0; k < n; k++)
		if (keep[k]) {
			double	 i[3] = { info[3 * k], info[3 * k + 1],
			    info[3 * k + 2] }, dx = x[k] - mx, dy = y[k] - my;

			chi2 += dx * (i[0] * dx + i[1] * dy) +
			    dy * (i[1] * dx + i[2] * dy);
		}
	/* Chunks scattered beyond their ellipses: widen (Birge ratio). */
	if (nk > 1 && chi2 / (2.0 * (nk - 1)) > 1)
		for (int i = 0; i < 3; i++)
			cov[i] *= chi2 / (2.0 * (nk - 1));
	{
		double	 la, lo;

		geo_direct(chunks[ref].lat, chunks[ref].lon,
		    atan2(mx, my) / DEG, hypot(mx, my), &la, &lo, NULL);
		session->lat = la;
		session->lon = lo;
	}
	memcpy(session->cov_en, cov, sizeof(cov));
	if (ellipse(session) < 0) {
		no_fix(session, "the combined covariance is not valid");
		goto out;
	}
	session->ok = 1;
	session->n_chunks_used = nk;
	session->chi2 = chi2;
	session->rms_norm_residual = nk > 1 ? sqrt(chi2 / (2.0 * (nk - 1)))
	    : NAN;
	for (int k = 0; k < n; k++) {
		if (!keep[k])
			continue;
		session->iterations += chunks[k].iterations;
		session->n_meas_used += chunks[k].n_meas_used;
		session->n_rejected += chunks[k].n_rejected;
		for (int r = 0; r < FIX_MAX_RX; r++)
			if (chunks[k].rx_used[r] == FIX_RX_USED)
				session->rx_used[r] = FIX_RX_USED;
	}
	for (int r = 0; r < FIX_MAX_RX; r++)
		session->n_rx_used += session->rx_used[r] == FIX_RX_USED;
	if (session->n_chunks_rejected || nbad)
		snprintf(session->note, sizeof(session->note), "%d of %d "
		    "chunk fixes combined, %d rejected as outliers, %d with "
		    "an invalid covariance", nk, n, session->n_chunks_rejected,
		    nbad);
	st = 0;
out:
	free(x);
	free(y);
	free(info);
	free(keep);
	return st;
}
