/* test_fix.c -- the position fix against synthetic TDoAs with known truth:
 * the original Heimdall network (examples/heimdall-2m.json), exact WGS84
 * geodesic TDoAs plus Gaussian noise, over many trials. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <geodesic.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/loc/fix.h"

#define C	299792458.0
#define NOISE	50e-9		/* per pair, s */

/* examples/heimdall-2m.json, in its order */
static const struct fix_rx net7[7] = {
	{ 45.02, 7.29, 0 },	/* Aquila di Giaveno */
	{ 45.234, 7.857, 0 },	/* Montanaro */
	{ 45.044, 7.672, 0 },	/* Torino */
	{ 45.03, 7.27, 0 },	/* Coazze */
	{ 44.561, 8.956, 0 },	/* Passo del Giovi */
	{ 44.395, 8.956, 0 },	/* Genova */
	{ 45.478, 9.123, 0 },	/* Milano - Baggio */
};
#define IN_LAT	44.90		/* inside the network (near Asti) */
#define IN_LON	8.25
#define OUT_LAT	45.85		/* outside: ~45 km north of Milano's */
#define OUT_LON	8.60		/* latitude, beyond the hull */

static uint64_t rng;

static double
uniform(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return ((rng * 2685821657736338717ULL) >> 11) * (1.0 / 9007199254740992.0);
}

static double
gauss(void)
{
	double u = uniform(), v = uniform();

	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* The truth, independently of fix.c: geodesic distance / c, from PROJ
 * (linked here; fix.c loads GeographicLib). */
static double
true_tdoa(const struct fix_rx *a, const struct fix_rx *b, double lat,
    double lon)
{
	struct geod_geodesic g;
	double	sa, sb;

	geod_init(&g, 6378137, 1 / 298.257223563);
	geod_inverse(&g, lat, lon, a->lat, a->lon, &sa, NULL, NULL);
	geod_inverse(&g, lat, lon, b->lat, b->lon, &sb, NULL, NULL);
	return (hypot(sa, a->alt_m) - hypot(sb, b->alt_m)) / C;
}

/* Every pair of n receivers; bad >= 0 adds off_s to that receiver's
 * arrival times. Returns the count. The noise is the cross-correlation's
 * (src/loc/fix.c, covariance()): one draw per receiver, pair (a, b) gets
 * (n_a - n_b) / sqrt(2), so each pair's sigma is `noise` and pairs that
 * share a receiver correlate (+-1/2). */
static int
all_pairs(const struct fix_rx *rx, int n, double lat, double lon,
    double noise, int bad, double off_s, struct fix_meas *m)
{
	int	k = 0;
	double	nr[FIX_MAX_RX];

	for (int a = 0; a < n; a++)
		nr[a] = noise * gauss() / sqrt(2);
	for (int a = 0; a < n; a++)
		for (int b = a + 1; b < n; b++) {
			m[k].a = a;
			m[k].b = b;
			m[k].tdoa_s = true_tdoa(&rx[a], &rx[b], lat, lon) +
			    nr[a] - nr[b] + (a == bad ? off_s : 0) -
			    (b == bad ? off_s : 0);
			m[k].sigma_s = noise > 0 ? noise : 1e-9;
			k++;
		}
	return k;
}

static int
cmpd(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(double), cmpd);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The truth's east/north offset from the fix (m) and its squared
 * Mahalanobis distance under the fix's covariance. */
static double
maha2(const struct fix_result *r, double lat, double lon, double *dist)
{
	struct geod_geodesic g;
	double	s, az, e, n, det, i0, i1, i2;

	geod_init(&g, 6378137, 1 / 298.257223563);
	geod_inverse(&g, r->lat, r->lon, lat, lon, &s, &az, NULL);
	e = s * sin(az * M_PI / 180);
	n = s * cos(az * M_PI / 180);
	det = r->cov_en[0] * r->cov_en[2] - r->cov_en[1] * r->cov_en[1];
	i0 = r->cov_en[2] / det;
	i1 = -r->cov_en[1] / det;
	i2 = r->cov_en[0] / det;
	if (dist)
		*dist = s;
	return e * (i0 * e + i1 * n) + n * (i1 * e + i2 * n);
}

static void
test_distance(void **state)
{
	(void)state;
	/* GeodSolve(1)'s example: JFK (40:38:23N 073:46:44W) to Singapore
	 * Changi (01:21:33N 103:59:22E), s12 = 15347628 m (to the metre) */
	double	s = fix_distance_m(40 + 38 / 60.0 + 23 / 3600.0,
	    -(73 + 46 / 60.0 + 44 / 3600.0), 1 + 21 / 60.0 + 33 / 3600.0,
	    103 + 59 / 60.0 + 22 / 3600.0);

	printf("JFK-SIN %.3f m\n", s);
	assert_true(fabs(s - 15347628) <= 1.0);
	assert_true(fix_distance_m(45, 7, 45, 7) == 0);
	/* a sphere would be off by ~0.3 %: the ellipsoid is used */
	s = fix_distance_m(0, 0, 0, 1);
	assert_true(fabs(s - 111319.49) < 0.01);	/* a * pi / 180 */
	assert_true(isnan(fix_distance_m(91, 0, 0, 0)));
	assert_true(isnan(fix_distance_m(NAN, 0, 0, 0)));

	/* the model agrees with geodesic / c */
	double	t = fix_expected_tdoa_s(&net7[0], &net7[6], IN_LAT, IN_LON);

	assert_true(fabs(t - true_tdoa(&net7[0], &net7[6], IN_LAT, IN_LON))
	    < 1e-15);
	assert_true(t < 0);	/* Giaveno is closer to Asti than Milano */
	struct fix_rx high = net7[0];

	high.alt_m = 2000;
	assert_true(fix_expected_tdoa_s(&high, &net7[6], IN_LAT, IN_LON) > t);
	assert_true(isnan(fix_expected_tdoa_s(&net7[0], &net7[6], 95, 0)));
}

static void
test_cep(void **state)
{
	(void)state;
	/* circular: Rayleigh, r = s sqrt(-2 ln(1 - p)) */
	assert_true(fabs(fix_cep_m(10, 10, 0.5) - 10 * sqrt(2 * log(2))) <
	    1e-6);
	assert_true(fabs(fix_cep_m(10, 10, 0.95) - 10 * sqrt(2 * log(20))) <
	    1e-6);
	/* beyond 4 s (p > 1 - exp(-8)): the root's bracket reaches it */
	assert_true(fabs(fix_cep_m(10, 10, 0.9999) - 10 * sqrt(2 *
	    log(1e4))) < 1e-6);
	assert_true(fabs(fix_cep_m(10, 0, 0.9999) - 38.9059) < 1e-3);
	/* a line: the 1-D Gaussian's 0.6745 s and 1.95996 s */
	assert_true(fabs(fix_cep_m(10, 0, 0.5) - 6.7449) < 1e-3);
	assert_true(fabs(fix_cep_m(10, 0, 0.95) - 19.5996) < 1e-3);
	/* in between: the usual approximation 0.5887 (s1 + s2) within 2 % */
	double	c = fix_cep_m(10, 5, 0.5);

	assert_true(fabs(c / (0.5887 * 15) - 1) < 0.02);
	/* and a Monte Carlo count of the same */
	int	in = 0;

	rng = 7;
	for (int i = 0; i < 200000; i++)
		in += hypot(10 * gauss(), 5 * gauss()) <= c;
	assert_true(fabs(in / 200000.0 - 0.5) < 0.005);
	assert_true(isnan(fix_cep_m(-1, 1, 0.5)));
	assert_true(isnan(fix_cep_m(1, 1, 1)));
}

/* ntrial fixes of a source with 50 ns per pair: median error, coverage
 * of the 1-sigma ellipse, of CEP50 and CEP95. */
static void
trials(double lat, double lon, int ntrial, double *med_err,
    double *cov1, double *cov50, double *cov95, double *med_major)
{
	struct fix_meas m[21];
	struct fix_result r;
	double	*err = malloc(ntrial * sizeof(double));
	double	*maj = malloc(ntrial * sizeof(double));
	int	 in1 = 0, in50 = 0, in95 = 0, rej = 0;

	assert_non_null(err);
	assert_non_null(maj);
	for (int t = 0; t < ntrial; t++) {
		int	nm = all_pairs(net7, 7, lat, lon, NOISE, -1, 0, m);

		assert_int_equal(fix_solve(net7, 7, m, nm, NULL, &r), 0);
		assert_true(r.ok);
		assert_int_equal(r.n_rx_used, 7);
		assert_int_equal(r.exact, 0);
		in1 += maha2(&r, lat, lon, &err[t]) <= 1;
		in50 += err[t] <= r.cep50_m;
		in95 += err[t] <= r.cep95_m;
		maj[t] = r.semi_major_m;
		rej += r.n_rejected > 0;
		assert_true(r.semi_minor_m <= r.semi_major_m);
		assert_true(r.orient_deg >= 0 && r.orient_deg < 180);
	}
	/* clean data: a 4-sigma residual among 21 is rare */
	assert_true(rej <= ntrial / 30);
	*med_err = median(err, ntrial);
	*med_major = median(maj, ntrial);
	*cov1 = in1 / (double)ntrial;
	*cov50 = in50 / (double)ntrial;
	*cov95 = in95 / (double)ntrial;
	free(err);
	free(maj);
}

static void
test_inside(void **state)
{
	double	me, c1, c50, c95, mj;

	(void)state;
	rng = 12345;
	trials(IN_LAT, IN_LON, 300, &me, &c1, &c50, &c95, &mj);
	printf("inside: median error %.1f m, semi-major %.1f m, 1-sigma "
	    "ellipse %.0f %%, CEP50 %.0f %%, CEP95 %.0f %%\n", me, mj,
	    100 * c1, 100 * c50, 100 * c95);
	assert_true(me <= 60);
	/* 2-D: 1 - exp(-1/2) = 39.3 %; 300 trials: +-2.8 % (1 sigma) */
	assert_true(c1 > 0.30 && c1 < 0.49);
	assert_true(c50 > 0.41 && c50 < 0.59);
	assert_true(c95 > 0.90);
}

/* The engine's pairs (src/loc/tdoa: 2 partners per receiver, 11 pairs of
 * 7 receivers) with the correlated noise of all_pairs: 200 fixes, how
 * often the truth is inside CEP50 and CEP95. Treating the pairs as
 * independent gave ~25 % and ~70 % here (bench/README.md, bench_locate). */
static void
test_coverage_partners(void **state)
{
	static const int pr[11][2] = {
		{ 0, 1 }, { 1, 2 }, { 2, 3 }, { 3, 4 }, { 4, 5 }, { 5, 6 },
		{ 6, 0 }, { 0, 2 }, { 1, 3 }, { 2, 4 }, { 3, 5 },
	};
	struct fix_meas all[21], m[11];
	struct fix_result r;
	int	 n50 = 0, n95 = 0, n = 200;
	double	 err, maj[200];

	(void)state;
	rng = 4242;
	for (int t = 0; t < n; t++) {
		all_pairs(net7, 7, IN_LAT, IN_LON, NOISE, -1, 0, all);
		for (int i = 0; i < 11; i++) {
			int	 a = pr[i][0], b = pr[i][1];
			/* all_pairs' index of (min, max) */
			int	 lo = a < b ? a : b, hi = a < b ? b : a;
			int	 k = lo * 7 - lo * (lo + 1) / 2 + (hi - lo - 1);

			m[i] = all[k];
			assert_int_equal(m[i].a, lo);
			assert_int_equal(m[i].b, hi);
		}
		assert_int_equal(fix_solve(net7, 7, m, 11, NULL, &r), 0);
		assert_true(r.ok);
		maha2(&r, IN_LAT, IN_LON, &err);
		n50 += err <= r.cep50_m;
		n95 += err <= r.cep95_m;
		maj[t] = r.semi_major_m;
	}
	printf("11 pairs, correlated noise: CEP50 holds %d, CEP95 %d of %d;"
	    " median semi-major %.1f m\n", n50, n95, n, median(maj, n));
	/* binomial, 200 trials: 50 % +- 3.5 %, 95 % +- 1.5 % (1 sigma) */
	assert_true(n50 >= 0.40 * n && n50 <= 0.60 * n);
	assert_true(n95 >= 0.88 * n);
}

static void
test_outside(void **state)
{
	double	me, c1, c50, c95, mj;

	(void)state;
	rng = 777;
	trials(OUT_LAT, OUT_LON, 300, &me, &c1, &c50, &c95, &mj);
	printf("outside: median error %.1f m, semi-major %.1f m, 1-sigma "
	    "ellipse %.0f %%, CEP50 %.0f %%, CEP95 %.0f %%\n", me, mj,
	    100 * c1, 100 * c50, 100 * c95);
	assert_true(me <= 60);
	assert_true(c1 > 0.30 && c1 < 0.49);
	assert_true(c50 > 0.41 && c50 < 0.59);
	assert_true(c95 > 0.90);

	/* far north of the network: the range (north-south) is poorly
	 * known, the bearing well -- the major axis points north */
	struct fix_meas m[21];
	struct fix_result r;
	int	nm = all_pairs(net7, 7, 47.0, 8.2, NOISE, -1, 0, m);

	assert_int_equal(fix_solve(net7, 7, m, nm, NULL, &r), 0);
	printf("far north: semi-axes %.0f x %.0f m, major axis at %.0f deg\n",
	    r.semi_major_m, r.semi_minor_m, r.orient_deg);
	assert_true(r.orient_deg < 20 || r.orient_deg > 160);
	assert_true(r.semi_major_m > 3 * r.semi_minor_m);
	/* and the ellipse is the covariance's: var along the major axis */
	double	th = r.orient_deg * M_PI / 180, ue = sin(th), un = cos(th);
	double	v = ue * ue * r.cov_en[0] + 2 * ue * un * r.cov_en[1] +
	    un * un * r.cov_en[2];

	assert_true(fabs(sqrt(v) / r.semi_major_m - 1) < 1e-6);
}

static void
test_combine(void **state)
{
	struct fix_meas m[21];
	struct fix_result ch[10], s;
	double	err[60], e1;
	int	in1 = 0, falsely = 0;

	(void)state;
	rng = 99;
	for (int k = 0; k < 60; k++) {
		for (int i = 0; i < 10; i++) {
			int nm = all_pairs(net7, 7, IN_LAT, IN_LON, NOISE, -1,
			    0, m);

			assert_int_equal(fix_solve(net7, 7, m, nm, NULL,
			    &ch[i]), 0);
		}
		assert_int_equal(fix_combine(ch, 10, &s), 0);
		assert_true(s.ok);
		/* a clean chunk beyond chi2(2, 99.9 %) from the others:
		 * ~1 % of sessions of 10 */
		falsely += s.n_chunks_rejected;
		assert_int_equal(s.n_chunks_used + s.n_chunks_rejected, 10);
		/* the pairs of the kept chunks: 21 each (all pairs of 7) */
		assert_int_equal(s.n_meas_used + s.n_rejected,
		    21 * s.n_chunks_used);
		assert_int_equal(s.n_rx_used, 7);
		in1 += maha2(&s, IN_LAT, IN_LON, &err[k]) <= 1;
		/* ~ sqrt(10) smaller than one chunk's ellipse */
		assert_true(s.semi_major_m < ch[0].semi_major_m / 2);
	}
	printf("session of 10: median error %.1f m, 1-sigma ellipse "
	    "%d/60, %d chunks rejected\n", median(err, 60), in1, falsely);
	assert_true(median(err, 60) <= 30);
	assert_true(falsely <= 3);
	assert_true(err[59] <= 60);	/* the worst of 60 (sorted) */
	assert_true(in1 >= 12 && in1 <= 36);

	/* a chunk 2 km off (a burst of interference) is dropped */
	ch[3].lat += 0.018;
	assert_int_equal(fix_combine(ch, 10, &s), 0);
	assert_int_equal(s.n_chunks_rejected, 1);
	assert_int_equal(s.n_chunks_used, 9);
	assert_int_equal(s.n_meas_used + s.n_rejected, 9 * 21);
	maha2(&s, IN_LAT, IN_LON, &e1);
	assert_true(e1 <= 40);
	assert_non_null(strstr(s.note, "rejected"));

	/* chunks without a fix are skipped; none at all: no fix */
	ch[0].ok = 0;
	assert_int_equal(fix_combine(ch, 1, &s), -1);
	assert_false(s.ok);
	assert_true(isnan(s.lat));
	assert_non_null(strstr(s.reason, "no chunk"));
	assert_int_equal(fix_combine(ch, 10, &s), 0);
	assert_int_equal(fix_combine(NULL, 0, &s), -1);
}

static void
test_clock_offset(void **state)
{
	struct fix_meas m[21];
	struct fix_result r;
	double	res[7], err;

	(void)state;
	rng = 4242;
	for (int t = 0; t < 20; t++) {
		int	bad = t % 7;
		int	nm = all_pairs(net7, 7, IN_LAT, IN_LON, NOISE, bad,
		    20e-6, m);

		/* against the known source: the bad clock stands out */
		fix_residuals_us(net7, 7, m, nm, IN_LAT, IN_LON, res);
		for (int i = 0; i < 7; i++) {
			if (i == bad)
				assert_true(fabs(res[i] - 20) < 0.2);
			else	/* -20/6: its pair with the bad one */
				assert_true(fabs(res[i] + 20 / 6.0) < 0.2);
		}
		/* the fix rejects the receiver, not the position */
		assert_int_equal(fix_solve(net7, 7, m, nm, NULL, &r), 0);
		assert_int_equal(r.rx_used[bad], FIX_RX_REJECTED);
		assert_int_equal(r.n_rejected, 6);
		assert_int_equal(r.n_rx_used, 6);
		assert_int_equal(r.n_meas_used, 15);
		maha2(&r, IN_LAT, IN_LON, &err);
		assert_true(err < 150);
		assert_true(r.rms_norm_residual < 2);

		/* without rejection the offset drags the fix away */
		struct fix_opts o = { .no_reject = 1 };

		assert_int_equal(fix_solve(net7, 7, m, nm, &o, &r), 0);
		assert_true(r.rms_norm_residual > 10);
	}
	/* sources anywhere around the network, each receiver bad in
	 * turn: the bad one is the one rejected, the fix stays within its
	 * ellipse (an outside source along the line of two receivers can
	 * fool it: at most 2 of 70) */
	int	rejected = 0, off = 0;

	for (int t = 0; t < 70; t++) {
		double	la = 43.5 + 3 * uniform(), lo = 6.5 + 3.5 * uniform();
		int	bad = t % 7;
		int	nm = all_pairs(net7, 7, la, lo, NOISE, bad, 20e-6, m);

		assert_int_equal(fix_solve(net7, 7, m, nm, NULL, &r), 0);
		rejected += r.rx_used[bad] == FIX_RX_REJECTED;
		maha2(&r, la, lo, &err);
		off += err > 5 * r.semi_major_m + 10;
	}
	printf("bad clock, 70 sources around the network: bad receiver "
	    "rejected in %d, fix off in %d\n", rejected, off);
	assert_true(rejected >= 68);
	assert_true(off <= 2);

	/* two bad clocks at once (5 good receivers left) */
	rejected = off = 0;
	for (int t = 0; t < 14; t++) {
		double	la = 43.5 + 3 * uniform(), lo = 6.5 + 3.5 * uniform();
		int	b1 = t % 7, b2 = (t + 1 + t / 7) % 7;
		int	nm = all_pairs(net7, 7, la, lo, NOISE, b1, 20e-6, m);

		for (int i = 0; i < nm; i++)	/* b2: 35 us early */
			m[i].tdoa_s += (m[i].a == b2 ? -35e-6 : 0) -
			    (m[i].b == b2 ? -35e-6 : 0);
		assert_int_equal(fix_solve(net7, 7, m, nm, NULL, &r), 0);
		rejected += r.rx_used[b1] == FIX_RX_REJECTED &&
		    r.rx_used[b2] == FIX_RX_REJECTED;
		maha2(&r, la, lo, &err);
		off += err > 5 * r.semi_major_m + 10;
	}
	printf("two bad clocks, 14 sources: both rejected in %d, fix off "
	    "in %d\n", rejected, off);
	assert_true(rejected >= 13);
	assert_true(off == 0);

	/* clean measurements: nothing stands out */
	int	nm = all_pairs(net7, 7, IN_LAT, IN_LON, NOISE, -1, 0, m);

	fix_residuals_us(net7, 7, m, nm, IN_LAT, IN_LON, res);
	for (int i = 0; i < 7; i++)
		assert_true(fabs(res[i]) < 0.1);
	/* a receiver in no measurement: NaN */
	fix_residuals_us(net7, 7, m, 5, IN_LAT, IN_LON, res);
	assert_true(isnan(res[6]));
}

/* A receiver configured 5 km north of where it is. */
static void
test_wrong_position(void **state)
{
	struct fix_rx conf[7];
	struct fix_meas m[21];
	struct fix_result r;
	double	res[7], worst = 0, err;
	int	nm;

	(void)state;
	rng = 8080;
	nm = all_pairs(net7, 7, IN_LAT, IN_LON, NOISE, -1, 0, m);
	memcpy(conf, net7, sizeof(conf));
	conf[4].lat += 0.045;
	fix_residuals_us(conf, 7, m, nm, IN_LAT, IN_LON, res);
	for (int i = 0; i < 7; i++)
		if (i != 4 && fabs(res[i]) > worst)
			worst = fabs(res[i]);
	printf("Passo del Giovi 5 km off: residual %.2f us, others <= %.2f "
	    "us\n", res[4], worst);
	assert_true(fabs(res[4]) > 3);
	assert_true(fabs(res[4]) > 4 * worst);
	assert_int_equal(fix_solve(conf, 7, m, nm, NULL, &r), 0);
	assert_int_equal(r.rx_used[4], FIX_RX_REJECTED);
	maha2(&r, IN_LAT, IN_LON, &err);
	assert_true(err < 60);
}

static void
test_no_fix(void **state)
{
	struct fix_meas m[21];
	struct fix_result r;
	int	nm;

	(void)state;
	rng = 5;
	/* two receivers: one TDoA, a hyperbola, never a position */
	nm = all_pairs(net7, 2, IN_LAT, IN_LON, NOISE, -1, 0, m);
	assert_int_equal(nm, 1);
	assert_int_equal(fix_solve(net7, 7, m, nm, NULL, &r), -1);
	assert_false(r.ok);
	assert_true(isnan(r.lat) && isnan(r.lon));
	assert_non_null(strstr(r.reason, "2 receivers"));
	printf("2 receivers: %s\n", r.reason);
	assert_int_equal(fix_solve(net7, 7, m, 0, NULL, &r), -1);
	assert_non_null(strstr(r.reason, "0 receivers"));

	/* 3 receivers but only 2 pairs sharing... one pair twice */
	m[1] = m[0];
	assert_int_equal(fix_solve(net7, 7, m, 2, NULL, &r), -1);
	assert_false(r.ok);

	/* Torino, Montanaro, Genova, Milano with Montanaro's clock 20 us
	 * late: inconsistent, and with 3 left nothing would check which
	 * one is wrong */
	struct fix_rx rx4[4] = { net7[2], net7[1], net7[5], net7[6] };

	nm = all_pairs(rx4, 4, IN_LAT, IN_LON, NOISE, 1, 20e-6, m);
	assert_int_equal(fix_solve(rx4, 4, m, nm, NULL, &r), -1);
	assert_true(isnan(r.lat));
	assert_non_null(strstr(r.reason, "inconsistent"));
	printf("4 receivers, one bad clock: %s\n", r.reason);
	nm = all_pairs(rx4, 4, IN_LAT, IN_LON, NOISE, -1, 0, m);
	assert_int_equal(fix_solve(rx4, 4, m, nm, NULL, &r), 0);

	/* invalid input, named */
	nm = all_pairs(net7, 7, IN_LAT, IN_LON, NOISE, -1, 0, m);
	m[4].sigma_s = 0;
	assert_int_equal(fix_solve(net7, 7, m, nm, NULL, &r), -1);
	assert_non_null(strstr(r.reason, "measurement 4: sigma_s"));
	m[4].sigma_s = NOISE;
	m[5].b = 7;
	assert_int_equal(fix_solve(net7, 7, m, nm, NULL, &r), -1);
	assert_non_null(strstr(r.reason, "measurement 5"));
	m[5].b = m[5].a;
	assert_int_equal(fix_solve(net7, 7, m, nm, NULL, &r), -1);
	assert_non_null(strstr(r.reason, "itself"));
	m[5].b = 6;
	m[6].tdoa_s = NAN;
	assert_int_equal(fix_solve(net7, 7, m, nm, NULL, &r), -1);
	assert_non_null(strstr(r.reason, "measurement 6"));
	m[6].tdoa_s = 1;	/* longer than any path on Earth */
	assert_int_equal(fix_solve(net7, 7, m, nm, NULL, &r), -1);
	m[6].tdoa_s = 0;
	struct fix_rx bad[7];

	memcpy(bad, net7, sizeof(bad));
	bad[2].lat = 123;
	assert_int_equal(fix_solve(bad, 7, m, nm, NULL, &r), -1);
	assert_non_null(strstr(r.reason, "receiver 2"));
	assert_int_equal(fix_solve(net7, FIX_MAX_RX + 1, m, nm, NULL, &r), -1);
	assert_int_equal(fix_solve(NULL, 7, m, nm, NULL, &r), -1);
}

static void
test_three(void **state)
{
	/* Torino, Milano, Genova around a source between them: two TDoAs
	 * for two unknowns, an exact fit */
	struct fix_rx rx3[3] = { net7[2], net7[6], net7[5] };
	struct fix_meas m[3];
	struct fix_result r;
	double	err;
	int	nm;

	(void)state;
	nm = all_pairs(rx3, 3, 44.95, 8.5, 0, -1, 0, m);
	assert_int_equal(fix_solve(rx3, 3, m, nm, NULL, &r), 0);
	assert_true(r.exact);
	assert_non_null(strstr(r.note, "exact"));
	maha2(&r, 44.95, 8.5, &err);
	assert_true(err < 0.5);
	printf("3 receivers: %s; error %.3f m\n", r.note, err);

	/* collinear receivers: the mirror image fits as well -- ambiguous,
	 * never one of the two picked at random */
	struct fix_rx line[4] = { { 44.5, 8.0, 0 }, { 44.8, 8.0, 0 },
	    { 45.1, 8.0, 0 }, { 45.4, 8.0, 0 } };
	struct fix_meas ml[6];

	nm = all_pairs(line, 4, 45.0, 8.3, 0, -1, 0, ml);
	assert_int_equal(fix_solve(line, 4, ml, nm, NULL, &r), -1);
	assert_false(r.ok);
	assert_true(isnan(r.lat));
	assert_non_null(strstr(r.reason, "ambiguous"));
	printf("collinear: %s\n", r.reason);

	/* three receivers a metre apart: no position at all */
	struct fix_rx pt[3] = { { 45, 8, 0 }, { 45.00001, 8, 0 },
	    { 45, 8.00001, 0 } };

	nm = all_pairs(pt, 3, 45.2, 8.1, NOISE, -1, 0, ml);
	assert_int_equal(fix_solve(pt, 3, ml, nm, NULL, &r), -1);
	assert_false(r.ok);
	assert_true(isnan(r.lat));
	assert_true(r.reason[0] != '\0');	/* outside the area, today */
	printf("co-located: %s\n", r.reason);

	/* Torino, Milano, Genova and sources all around them, exact
	 * TDoAs: either the right position or "ambiguous", never a wrong
	 * one */
	int	nok = 0, namb = 0;

	rng = 3;
	for (int t = 0; t < 100; t++) {
		double	la = 43.9 + 2 * uniform(), lo = 7.0 + 3 * uniform();

		nm = all_pairs(rx3, 3, la, lo, 0, -1, 0, m);
		if (fix_solve(rx3, 3, m, nm, NULL, &r) == 0) {
			maha2(&r, la, lo, &err);
			assert_true(err < 1);
			nok++;
		} else {
			assert_true(isnan(r.lat));
			assert_non_null(strstr(r.reason, "ambiguous"));
			if (namb < 3)
				printf("  e.g. source (%.4f, %.4f): %s\n",
				    la, lo, r.reason);
			namb++;
		}
	}
	printf("3 receivers, 100 sources around them: %d fixes, %d "
	    "ambiguous\n", nok, namb);
	assert_true(nok >= 50);
}

/* Thread safety: the same fixes in 4 threads agree with the serial ones. */
struct job {
	struct fix_meas m[21];
	struct fix_result r;
};

/* A start hint (fix_opts.hint): the same fix as from the grid when it
 * is near (and fewer iterations: no grid minima to refine); a hint far
 * off (the source moved) or with a bad clock in the data falls back to
 * the grid and its outlier rejection. */
static void
test_hint(void **state)
{
	struct fix_meas m[21];
	struct fix_result r0, r1;
	struct fix_opts o = { .hint = 1 };
	double	d;
	int	nm;

	(void)state;
	for (int t = 0; t < 20; t++) {
		double	la = 43.8 + 2 * uniform(), lo = 7 + 3 * uniform();

		nm = all_pairs(net7, 7, la, lo, NOISE, -1, 0, m);
		assert_int_equal(fix_solve(net7, 7, m, nm, NULL, &r0), 0);
		/* near: the previous chunk's fix, a few hundred m off */
		o.hint_lat = la + 0.003;
		o.hint_lon = lo - 0.004;
		assert_int_equal(fix_solve(net7, 7, m, nm, &o, &r1), 0);
		d = fix_distance_m(r0.lat, r0.lon, r1.lat, r1.lon);
		assert_true(d < 0.01);
		assert_true(r1.iterations < r0.iterations);
		assert_true(fabs(r1.semi_major_m - r0.semi_major_m) < 0.01);
		/* far: 150 km away, outside the network: same fix */
		o.hint_lat = la + 1.4;
		o.hint_lon = lo + 1.5;
		assert_int_equal(fix_solve(net7, 7, m, nm, &o, &r1), 0);
		assert_true(fix_distance_m(r0.lat, r0.lon, r1.lat, r1.lon) <
		    1);
	}
	/* a 20 us clock error: rejected as without a hint */
	nm = all_pairs(net7, 7, IN_LAT, IN_LON, NOISE, 3, 20e-6, m);
	o.hint_lat = IN_LAT;
	o.hint_lon = IN_LON;
	assert_int_equal(fix_solve(net7, 7, m, nm, &o, &r1), 0);
	assert_int_equal(r1.rx_used[3], FIX_RX_REJECTED);
	assert_true(fix_distance_m(r1.lat, r1.lon, IN_LAT, IN_LON) < 150);
	/* invalid hints are ignored */
	nm = all_pairs(net7, 7, IN_LAT, IN_LON, NOISE, -1, 0, m);
	o.hint_lat = NAN;
	assert_int_equal(fix_solve(net7, 7, m, nm, &o, &r1), 0);
	assert_true(fix_distance_m(r1.lat, r1.lon, IN_LAT, IN_LON) < 150);
}

static void *
run_job(void *p)
{
	struct job *j = p;

	for (int i = 0; i < 20; i++)
		fix_solve(net7, 7, j->m, 21, NULL, &j->r);
	return NULL;
}

static void
test_threads(void **state)
{
	struct job j[4];
	pthread_t th[4];

	(void)state;
	rng = 31;
	for (int k = 0; k < 4; k++)
		all_pairs(net7, 7, IN_LAT, IN_LON, NOISE, k, k ? 0 : 20e-6,
		    j[k].m);
	for (int k = 0; k < 4; k++)
		assert_int_equal(pthread_create(&th[k], NULL, run_job, &j[k]),
		    0);
	for (int k = 0; k < 4; k++)
		pthread_join(th[k], NULL);
	for (int k = 0; k < 4; k++) {
		struct fix_result s;

		assert_int_equal(fix_solve(net7, 7, j[k].m, 21, NULL, &s), 0);
		assert_true(j[k].r.ok);
		assert_true(s.lat == j[k].r.lat && s.lon == j[k].r.lon);
		assert_true(s.cep95_m == j[k].r.cep95_m);
	}
}

static double
now_s(void)
{
	struct timespec ts;

	/* this thread's CPU time: the fix's cost, not the shared machine's
	 * load (two cores, other builds running) */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The cost of one fix: 7 receivers (21 pairs), 200 receivers (3 pairs
 * each: 600); it must be well under 100 ms at 200 (CPU time; a sanitizer
 * build, several times slower, gets 5 x the bound). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define COST_MAX	0.5
#else
#define COST_MAX	0.1
#endif
static void
test_cost(void **state)
{
	struct fix_rx *rx = malloc(200 * sizeof(*rx));
	struct fix_meas *m = malloc(600 * sizeof(*m));
	struct fix_result r;
	double	t0, t7, t200, err;
	int	nm = 0, reps = 20;

	(void)state;
	assert_non_null(rx);
	assert_non_null(m);
	rng = 2024;
	nm = all_pairs(net7, 7, IN_LAT, IN_LON, NOISE, -1, 0, m);
	t0 = now_s();
	for (int i = 0; i < reps; i++)
		assert_int_equal(fix_solve(net7, 7, m, nm, NULL, &r), 0);
	t7 = (now_s() - t0) / reps;
	double	t7bad;

	nm = all_pairs(net7, 7, IN_LAT, IN_LON, NOISE, 6, 20e-6, m);
	t0 = now_s();
	for (int i = 0; i < reps; i++)
		assert_int_equal(fix_solve(net7, 7, m, nm, NULL, &r), 0);
	t7bad = (now_s() - t0) / reps;
	printf("7 receivers, Milano 20 us late: %.2f ms\n", t7bad * 1e3);
	assert_true(t7bad < COST_MAX);

	/* 200 receivers over northern Italy (~4 x 6 degrees), each paired
	 * with the next three */
	for (int i = 0; i < 200; i++) {
		rx[i].lat = 43 + 4 * uniform();
		rx[i].lon = 6.5 + 6 * uniform();
		rx[i].alt_m = 0;
	}
	nm = 0;
	for (int i = 0; i < 200; i++)
		for (int k = 1; k <= 3; k++) {
			int	b = (i + k) % 200;

			m[nm].a = i;
			m[nm].b = b;
			m[nm].tdoa_s = true_tdoa(&rx[i], &rx[b], IN_LAT,
			    IN_LON) + NOISE * gauss();
			m[nm].sigma_s = NOISE;
			nm++;
		}
	reps = 5;
	t0 = now_s();
	for (int i = 0; i < reps; i++)
		assert_int_equal(fix_solve(rx, 200, m, nm, NULL, &r), 0);
	t200 = (now_s() - t0) / reps;
	maha2(&r, IN_LAT, IN_LON, &err);
	printf("cost of one fix: %.2f ms (7 receivers, 21 pairs), %.2f ms "
	    "(200 receivers, %d pairs; error %.1f m, %d LM iterations)\n",
	    t7 * 1e3, t200 * 1e3, nm, err, r.iterations);
	assert_int_equal(r.n_rx_used, 200);
	assert_true(err < 30);
	assert_true(t200 < COST_MAX);

	/* the same with receiver 17's clock 20 us late: the robust path */
	double	tbad;

	for (int i = 0; i < nm; i++)
		m[i].tdoa_s += (m[i].a == 17 ? 20e-6 : 0) -
		    (m[i].b == 17 ? 20e-6 : 0);
	t0 = now_s();
	for (int i = 0; i < reps; i++)
		assert_int_equal(fix_solve(rx, 200, m, nm, NULL, &r), 0);
	tbad = (now_s() - t0) / reps;
	maha2(&r, IN_LAT, IN_LON, &err);
	printf("200 receivers, one 20 us late: %.2f ms, %d rejected, "
	    "error %.1f m\n", tbad * 1e3, r.n_rejected, err);
	assert_int_equal(r.rx_used[17], FIX_RX_REJECTED);
	assert_int_equal(r.n_rejected, 6);
	assert_true(err < 30);
	assert_true(tbad < COST_MAX);
	free(rx);
	free(m);
}

/* The geodesic module loads (src/loc/lazygeod.c: not linked), once; the
 * reason when it cannot: test_lazylib. */
static void
test_prepare(void **state)
{
	char	err[256];

	(void)state;
	snprintf(err, sizeof err, "untouched");
	assert_int_equal(fix_prepare(err, sizeof err), 0);
	assert_int_equal(fix_prepare(NULL, 0), 0);
	assert_string_equal(err, "untouched");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prepare),
		cmocka_unit_test(test_distance),
		cmocka_unit_test(test_cep),
		cmocka_unit_test(test_inside),
		cmocka_unit_test(test_outside),
		cmocka_unit_test(test_coverage_partners),
		cmocka_unit_test(test_combine),
		cmocka_unit_test(test_clock_offset),
		cmocka_unit_test(test_wrong_position),
		cmocka_unit_test(test_no_fix),
		cmocka_unit_test(test_three),
		cmocka_unit_test(test_hint),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_cost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
