/*
 * fix.h -- the position fix: where a transmitter is, from the time
 * differences of arrival (TDoA) of its signal at receivers of known
 * position, with the uncertainty of the answer; the session fix from its
 * chunk fixes; and the timing check against a source of known position.
 *
 * Pure numerics on the caller's arrays: no I/O, no state, no locks; every
 * function is thread-safe. (The first call turns GSL's abort-on-error
 * handler off for the process, once: every GSL status is checked here;
 * and loads the geodesic module, once, below.)
 * Geodesics come from GeographicLib (Karney's algorithm on WGS84, the
 * same as PROJ's geodesic.h), the least squares from GSL
 * (gsl_multifit_nlinear, Levenberg-Marquardt), the ellipse from GSL's
 * symmetric eigensolver, the CEPs from GSL's quadrature and root finder.
 * GeographicLib is C++: a module of its own, not linked but loaded by the
 * first call that needs it (src/loc/lazygeod.h); when it cannot be,
 * fix_solve and fix_combine (given a chunk with a fix: it loads nothing
 * for chunks without) give no fix with the reason "cannot load
 * .../libheimdall-geodesic.so: ...", and the geodesic helpers below NaN.
 *
 * Model. The source is on the ellipsoid (height 0). The path to receiver r
 * is d_r = sqrt(g_r^2 + h_r^2): g_r the WGS84 geodesic distance between the
 * source and the receiver's (lat, lon), h_r the receiver's alt_m (antenna
 * height above the ellipsoid) -- a straight-line correction that matters
 * only for high receivers close to the source; with alt_m = 0 it is the
 * geodesic. Propagation at c = 299792458 m/s along that path, so the
 * expected TDoA of a pair is (d_a - d_b) / c: arrival at a minus arrival
 * at b (positive: the signal reached a later). Sky-wave HF paths are longer
 * than the geodesic (see the localization notes): their residuals show it.
 * Measurements are taken as independent Gaussians with their sigma_s.
 *
 * How fix_solve works:
 *  1. Start: a grid search, bounded in cost (no geodesic per grid point).
 *     The receivers are put on an azimuthal-equidistant plane around the
 *     first one (distances and azimuths from geod_inverse, exact from its
 *     centre, within ~0.1 % over a few hundred km); a 64 x 64 grid covers
 *     their bounding box enlarged on each side by the larger of its size
 *     and 50 km (fix_opts.margin_m), scored by the sum of squared normalized
 *     residuals (each sigma widened by the grid step / c so that a coarse
 *     cell is not punished for its coarseness; each term capped at
 *     reject_nsigma^2 so that a bad clock cannot drag the start away). Its
 *     4 best local minima at least 3 cells apart (a hyperbolic fix may have
 *     two answers) each get two finer 21 x 21 grids (+-2 cells at 1/5 of
 *     the step, then 1/25). Cost: 4096 + 4 x 882 points x (receivers +
 *     pairs) additions, no transcendental function.
 *  2. Refinement of every candidate: Levenberg-Marquardt on the exact
 *     model (geodesics), parameters latitude and longitude, Jacobian from
 *     the geodesic azimuths (d g / d position = -unit vector towards the
 *     receiver, exact for geodesics); every candidate but the best grid
 *     minimum is dropped as soon as an iterate strays beyond twice the
 *     search area (they often run off towards the antipode, where they
 *     could be no rival anyway). The best chi2 wins; if another
 *     candidate inside the search area converged more than 10 m and more
 *     than 3 semi-major axes away with a chi2 less than 9 above the best,
 *     the answer is ambiguous: no fix.
 *  3. Outliers, only when some |normalized residual| exceeds
 *     reject_nsigma (default 4); no rejection ever leaves fewer than two
 *     redundant TDoAs (rank of the pair graph >= 4: with one check left,
 *     a wrong subset can look consistent). If residuals beyond the
 *     threshold remain and nothing more may go: no fix ("inconsistent
 *     measurements") -- e.g. 4 or 5 receivers with one bad clock, or
 *     sigmas far smaller than the real errors.
 *     Up to 16 receivers (LOO): while the largest residual exceeds it,
 *        the fit is redone (fresh start, step 1-2) without the worst pair
 *        and without each receiver in turn; the pair goes if that leaves
 *        no residual beyond the threshold, else whichever of those fits
 *        best (chi2 per degree of freedom): a receiver's removal drops all
 *        its pairs (rx_used = FIX_RX_REJECTED: a bad clock or position
 *        spoils every pair it is in). If neither the pair nor any one
 *        receiver leaves the rest consistent and there are at most 10
 *        receivers, every two receivers are tried together (two bad
 *        clocks: one at a time may blame a good receiver first). Bounded:
 *        at most 17 + 45 fits a step, only when outliers exist.
 *     More receivers (each matters less, and 17 fits would cost too much):
 *     a) A robust fit: iteratively reweighted least squares (Cauchy
 *        weights 1 / (1 + (r / 2.385)^2)) from the capped grid start. At
 *        that position a receiver with more than half (and >= 2) of its
 *        pairs beyond the threshold loses them all (rx_used =
 *        FIX_RX_REJECTED: a bad clock or position spoils every pair it is
 *        in), the worst share first; then every other pair beyond it goes.
 *        (A plain least-squares fit bends towards a bad clock first and
 *        then blames its good neighbours.)
 *     b) then, one at a time while the largest residual exceeds it: if one
 *        of the worst pair's receivers is bad in its other pairs too (RMS
 *        of their normalized residuals > reject_nsigma, and larger than
 *        the other's), that receiver goes, else the pair; refine again.
 *     In both cases, if anything went, the start (grid, candidates,
 *     ambiguity check) is redone on what is left. A fit that kept fewer
 *     than half the receivers, or dropped more pairs one by one than it
 *     kept, is no fix ("inconsistent measurements"): past half the data
 *     bad the "consistent" rest may as well be the wrong part.
 *  4. Uncertainty: the fit's covariance at the solution, J in east/north
 *     metres per sigma, A = J^T J: not A^-1 (independent pairs) but
 *     A^-1 (J^T C J) A^-1, C the pairs' error correlation when each pair's
 *     error is half its one receiver's, half its other's (pairs sharing a
 *     receiver correlate +-1/2; why: fix.c, covariance()) -- from the
 *     sigmas given, NOT scaled by the residuals (rms_norm_residual says
 *     whether the sigmas were right). Ellipse from its eigen
 *     decomposition. CEP50/CEP95 are
 *     exact for that 2-D Gaussian: the radius r with
 *        P(r) = 1/(2 pi s1 s2) Int_0^2pi (1 - exp(-r^2 q/2)) / q dtheta = p,
 *        q(theta) = cos^2 theta / s1^2 + sin^2 theta / s2^2
 *     (circular: 1.1774 s and 2.4477 s; very elongated: 0.6745 s1, 1.96 s1).
 *
 * No fix (ok = 0, reason says why, lat/lon NaN; never a made-up position):
 * invalid input; fewer than 3 receivers in valid measurements; fewer than 2
 * independent pairs; a degenerate geometry (the information matrix is
 * singular or the ellipse larger than the search area); an ambiguous
 * answer (a second, distinct position fits as well: typical of 3 receivers,
 * whose two hyperbolas can cross twice -- ~30 % of sources around a
 * triangle in the tests -- and of collinear receivers, mirror images);
 * inconsistent measurements that no allowed rejection explains (step 3);
 * a best fit outside the search area; no convergence.
 *
 * What no check can catch: an error that the geometry absorbs -- e.g. 4
 * receivers of which two are 2 km apart (3 sites: one redundant TDoA that
 * barely tests anything) with a bad clock on another: the fit moves 21 km
 * and stays consistent. Spread receivers; see the residuals against a
 * known source (fix_residuals_us).
 *
 * With 3 receivers (pair-graph rank 2) the fit is exact: two independent
 * TDoAs for two unknowns, so the residuals test nothing (exact = 1 and the
 * note says so); the ellipse still holds, since it comes from the sigmas.
 */
#ifndef FIX_H
#define FIX_H

#include <stddef.h>

#define FIX_MAX_RX	1024	/* receivers per call */
#define FIX_MAX_MEAS	8192	/* measurements per call */
#define FIX_C_M_S	299792458.0

struct fix_rx {
	double	lat, lon;	/* degrees, WGS84 */
	double	alt_m;		/* antenna height above the ellipsoid, m
				   (0 if unknown) */
};

struct fix_meas {
	int	a, b;		/* receiver indexes, a != b */
	double	tdoa_s;		/* arrival at a minus arrival at b, s */
	double	sigma_s;	/* its 1-sigma uncertainty, s, > 0 */
};

struct fix_opts {
	double	reject_nsigma;	/* outlier threshold on |residual| /
				   sigma; 0: 4 */
	double	margin_m;	/* search area: the receivers' box enlarged
				   by this on each side; 0: max(box, 50 km) */
	int	no_reject;	/* 1: keep every measurement */
	/*
	 * A start hint, e.g. the previous chunk's fix of the same stations
	 * (they do not move within a session; this module keeps no state,
	 * so the caller passes it). With hint = 1 and at least
	 * FIX_HINT_MIN_RX receivers in play, step 1's grid is skipped when
	 * the refinement from (hint_lat, hint_lon) converges inside the
	 * search area with no |normalized residual| above reject_nsigma:
	 * that solution is taken without the grid's ambiguity check (with
	 * 5 or more spread receivers a consistent fit is the fix; a moving
	 * source or an outlier fails the test and falls back to the grid).
	 * Otherwise, and at every fresh start of step 3 that fails it, the
	 * grid as without a hint. A caller still runs without a hint now
	 * and then (locate: every LOCATE_GRID_EVERY chunks) so that a
	 * second minimum that became the better one is not missed.
	 */
	int	hint;
	double	hint_lat, hint_lon;	/* degrees */
};

#define FIX_HINT_MIN_RX	5	/* receivers in play for a hint to count */

enum { FIX_RX_UNUSED = 0, FIX_RX_USED = 1, FIX_RX_REJECTED = 2 };

struct fix_result {
	int	ok;		/* 1: a fix; 0: none, reason says why */
	char	reason[160];	/* why no fix ("" when ok) */
	char	note[160];	/* a caveat with a fix: exact fit, residuals
				   above the threshold that could not be
				   rejected, outlier chunks... ("" if none) */
	double	lat, lon;	/* degrees; NaN when !ok */
	double	cov_en[3];	/* east/north covariance, m^2: ee, en, nn */
	double	semi_major_m, semi_minor_m;	/* 1-sigma ellipse */
	double	orient_deg;	/* major axis, clockwise from north, 0..180 */
	double	cep50_m, cep95_m;
	int	n_meas_used, n_rejected;	/* measurements (for a session
						   fix: those of the chunk
						   fixes it combines) */
	int	n_chunks_used, n_chunks_rejected;	/* a session fix: chunk
							   fixes combined, and
							   rejected as outliers
							   (0 for a chunk fix) */
	int	n_rx_used;
	unsigned char rx_used[FIX_MAX_RX];	/* FIX_RX_* per receiver */
	int	exact;		/* 1: as many independent TDoAs as unknowns */
	double	chi2;		/* sum of squared normalized residuals */
	double	rms_norm_residual;	/* sqrt(chi2 / n_meas_used): ~1 when
					   the sigmas are right */
	int	iterations;	/* least-squares iterations, all passes */
};

/*
 * Optional, ahead of the first fix: load GSL and the geodesic module now
 * (and set GSL's handler), so that the first fix_solve does not pay for
 * it (GSL: src/base/lazygsl.h; the geodesic module, ~1 ms:
 * src/loc/lazygeod.h); a caller with a delay target calls this while it
 * waits for data. 0, or -1
 * and the reason in err ("cannot load libgsl.so.27: ...", "cannot load
 * .../libheimdall-geodesic.so: ..."; the fixes will give the same).
 * Thread-safe; the work is done once.
 */
int	fix_prepare(char *err, size_t errlen);

/*
 * The fix from nm TDoA measurements between nrx receivers. o may be NULL
 * (defaults). Returns 0 with out->ok = 1, or -1 with out->ok = 0 and the
 * reason. nrx <= FIX_MAX_RX, nm <= FIX_MAX_MEAS; a receiver that no
 * measurement names is not looked at.
 */
int	fix_solve(const struct fix_rx *rx, int nrx, const struct fix_meas *m,
	    int nm, const struct fix_opts *o, struct fix_result *out);

/*
 * The session fix from its n chunk fixes (those with ok = 0 are skipped):
 * the covariance-weighted mean on a local east/north plane (independent
 * Gaussian estimates: x = (sum C_i^-1)^-1 sum C_i^-1 x_i), after dropping,
 * one by one, the chunk whose Mahalanobis distance to the mean of the
 * others is largest while it exceeds chi2(2 dof, 99.9 %) = 13.8 and 3
 * chunks remain. The covariance (sum C_i^-1)^-1 is inflated by the
 * chunks' scatter when they disagree more than their ellipses say
 * (factor chi2/(2(n-1)) when > 1). Why combine rather than solve on every
 * measurement: the chunk fixes are what the manifest and database keep,
 * so the session fix can be redone from them; a chunk spoilt as a whole
 * (interference, a burst) goes as one; for independent chunks and small
 * ellipses both give the same answer. rx_used: a receiver used by any
 * kept chunk; n_chunks_used / n_chunks_rejected count chunks, n_meas_used
 * / n_rejected the kept chunks' measurements (their sums). 0 or -1 (no
 * usable chunk: session->reason).
 */
int	fix_combine(const struct fix_result *chunks, int n,
	    struct fix_result *session);

/* The expected TDoA (s) of the pair (a, b) for a source at (lat, lon) on
 * the ellipsoid: arrival at a minus arrival at b, the model above. NaN
 * for invalid input (or without the geodesic module). */
double	fix_expected_tdoa_s(const struct fix_rx *a, const struct fix_rx *b,
	    double lat, double lon);

/*
 * Timing residuals against a source of known position: for each receiver
 * the mean, over its measurements, of (measured - expected) TDoA in us,
 * signed so that positive means the receiver's arrival is later than the
 * geometry says (its clock is late or it is further than configured).
 * A receiver with a clock offset d shows ~d; with all pairs of N
 * receivers the others show -d/(N-1). NaN for a receiver in no valid
 * measurement (every receiver without the geodesic module). res_us has nrx entries.
 */
void	fix_residuals_us(const struct fix_rx *rx, int nrx,
	    const struct fix_meas *m, int nm, double src_lat, double src_lon,
	    double *res_us);

/* WGS84 geodesic distance (m); NaN for coordinates out of range (or
 * without the geodesic module). */
double	fix_distance_m(double lat1, double lon1, double lat2, double lon2);

/* CEP (m) of a 2-D Gaussian with 1-sigma semi-axes s1, s2 for the
 * probability p (0 < p < 1), exact as above; NaN if s1, s2 are not >= 0
 * (or GSL cannot be loaded). */
double	fix_cep_m(double s1, double s2, double p);

#endif
