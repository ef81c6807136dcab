/* tdoa.c -- per-chunk TDoA: receiver and pair choice, cross-correlation on exact time bases, Newton refinement, Cramer-Rao sigma (FFTW). */

#include "src/loc/tdoa.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "src/base/metrics.h"

#define MAX_INPUTS	100000
#define MAX_SAMPLES	((size_t)1 << 21)	/* bounds M, the memory */
#define MAX_TERMS	6	/* Taylor terms of the rate correction */
#define TERM_TOL	1e-2	/* relative size of the first term left out */
#define MAX_THETA	1.0	/* rad: beyond, a receiver's rate is too far */
#define BLK		64	/* bins per coherence block */
#define SB		8	/* bins per sub-block (refinement) */
#define NOTCH_BLK	64	/* bins per median block of the tone finder */
#define NOTCH_GUARD	2	/* bins zeroed beside a tone */
#define NOTCH_RAMP	8	/* bins of the raised-cosine edge */
#define REASON_LEN	112

/* One segment of one receiver's chunk, on the common frequency grid. */
struct spec {
	fftwf_complex	*x;	/* M bins, FFT order, absolute time */
	float		*mask;	/* M tone-notch weights 0..1 */
	double		 sw;	/* sum of the sample weights */
	double		 sw2;	/* sum of their squares */
	double		 rate;	/* the receiver's rate */
};

struct tdoa_ctx {
	struct tdoa_opts o;
	char		 err[200];
	int		 ncap;
	int		 nlast;		/* inputs of the last tdoa_chunk */
	char		(*why)[REASON_LEN];
	int		*ok;		/* per input: 1 usable */
	int		*order;		/* usable inputs, best SNR first */
	double		*tmp;		/* medians, block figures */
	size_t		 tmpcap;
	size_t		 mcap;		/* M the buffers hold */
	fftwf_complex	*u, *f, *r;	/* M each: FFT in, out, R */
	float		*pw;		/* M: smoothed power (tone finder) */
	float		*med;		/* NOTCH_BLK scratch */
	struct spec	*longs;		/* 2 * partners: the best ones' long
					   then short segments */
	struct spec	 shrt;
	double		*blk;		/* 5 * (M / BLK + 2): Pa, Pb, W0-2 */
	double		*gb, *hb;	/* 2 M / SB: a pair's sub-block sums */
};

/* The common frame of one chunk (times in s from t_ref, the first usable
 * receiver's t0). */
struct frame {
	int64_t	t_ref;
	double	lo, hi;		/* the span every usable chunk covers */
	double	ext;		/* b's extension beyond a's on each side */
	double	taper;		/* raised-cosine edge length */
	double	lag;		/* |tau| searched */
	double	fs;		/* reference rate: the usable rates' median */
	size_t	m;		/* transform size */
};

/*
 * FFTW plans, one forward and one backward per size, shared by every
 * context: FFTW's planner is not thread-safe, so planning happens under
 * plan_lock, once per size; fftwf_execute_dft on a context's own arrays
 * (fftwf_alloc'd, so aligned like the planning arrays) is thread-safe.
 * Sizes come from metrics_fft_size (2^a or 3*2^a): 64 slots hold them all.
 */
static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	size_t		 n;
	fftwf_plan	 fwd, bwd;
} plans[64];
static int nplans;

static int
get_plans(size_t n, fftwf_complex *in, fftwf_complex *out, fftwf_plan *fwd,
    fftwf_plan *bwd)
{
	int	i, rc = -1;

	pthread_mutex_lock(&plan_lock);
	for (i = 0; i < nplans; i++) {
		if (plans[i].n == n) {
			*fwd = plans[i].fwd;
			*bwd = plans[i].bwd;
			rc = 0;
			break;
		}
	}
	if (rc != 0 && nplans < (int)(sizeof plans / sizeof plans[0])) {
		*fwd = fftwf_plan_dft_1d((int)n, in, out, FFTW_FORWARD,
		    FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
		*bwd = fftwf_plan_dft_1d((int)n, in, out, FFTW_BACKWARD,
		    FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
		if (*fwd != NULL && *bwd != NULL) {
			plans[nplans].n = n;
			plans[nplans].fwd = *fwd;
			plans[nplans++].bwd = *bwd;
			rc = 0;
		}
	}
	pthread_mutex_unlock(&plan_lock);
	return rc;
}

void
tdoa_opts_default(struct tdoa_opts *o)
{
	o->min_snr_db = 6;
	o->max_lag_s = 0.02;
	o->partners = 3;
	o->notch_db = 10;
	o->taper_s = 0;
}

struct tdoa_ctx *
tdoa_new(const struct tdoa_opts *opts)
{
	struct tdoa_ctx	*c;
	struct tdoa_opts o;

	if (opts == NULL)
		tdoa_opts_default(&o);
	else
		o = *opts;
	if (!isfinite(o.min_snr_db) || !(o.max_lag_s >= 0 &&
	    o.max_lag_s <= 1) || o.partners < 1 || o.partners > 64 ||
	    !(o.notch_db >= 0 && o.notch_db <= 60) ||
	    !(o.taper_s >= 0 && o.taper_s <= 1))
		return NULL;
	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->o = o;
	c->longs = calloc(2 * (size_t)o.partners, sizeof *c->longs);
	c->med = malloc(NOTCH_BLK * sizeof *c->med);
	if (c->longs == NULL || c->med == NULL) {
		tdoa_free(c);
		return NULL;
	}
	return c;
}

static void
spec_free(struct spec *s)
{
	fftwf_free(s->x);
	free(s->mask);
	s->x = NULL;
	s->mask = NULL;
}

static void
free_bufs(struct tdoa_ctx *c)
{
	int	i;

	fftwf_free(c->u);
	fftwf_free(c->f);
	fftwf_free(c->r);
	free(c->pw);
	free(c->blk);
	free(c->gb);
	free(c->hb);
	c->gb = c->hb = NULL;
	c->u = c->f = c->r = NULL;
	c->pw = NULL;
	c->blk = NULL;
	for (i = 0; i < 2 * c->o.partners; i++)
		spec_free(&c->longs[i]);
	spec_free(&c->shrt);
	c->mcap = 0;
}

void
tdoa_free(struct tdoa_ctx *c)
{
	if (c == NULL)
		return;
	if (c->longs != NULL)
		free_bufs(c);
	free(c->longs);
	free(c->med);
	free(c->why);
	free(c->ok);
	free(c->order);
	free(c->tmp);
	free(c);
}

static int
spec_alloc(struct spec *s, size_t m)
{
	s->x = fftwf_alloc_complex(m);
	s->mask = malloc(m * sizeof *s->mask);
	return s->x != NULL && s->mask != NULL ? 0 : -1;
}

static int
ensure_bufs(struct tdoa_ctx *c, size_t m)
{
	int	i, bad = 0;

	if (c->mcap >= m)
		return 0;
	free_bufs(c);
	c->u = fftwf_alloc_complex(m);
	c->f = fftwf_alloc_complex(m);
	c->r = fftwf_alloc_complex(m);
	c->pw = malloc(m * sizeof *c->pw);
	c->blk = malloc(5 * (m / BLK + 2) * sizeof *c->blk);
	c->gb = malloc(2 * m * sizeof *c->gb);
	c->hb = malloc(2 * m * sizeof *c->hb);
	bad = c->u == NULL || c->f == NULL || c->r == NULL ||
	    c->pw == NULL || c->blk == NULL || c->gb == NULL || c->hb == NULL;
	for (i = 0; i < 2 * c->o.partners && !bad; i++)
		bad = spec_alloc(&c->longs[i], m) != 0;
	if (!bad)
		bad = spec_alloc(&c->shrt, m) != 0;
	if (bad) {
		free_bufs(c);
		return -1;
	}
	c->mcap = m;
	return 0;
}

int
tdoa_max_pairs(const struct tdoa_ctx *c, int n)
{
	long	k = c->o.partners, u = n, p;

	if (n < 2)
		return 0;
	/* The pairs are {r, s}, ranks r < s with r < k (see tdoa_chunk). */
	if (u <= k)
		p = u * (u - 1) / 2;
	else
		p = k * (k - 1) / 2 + (u - k) * k;
	return p > 0x7fffffffL ? 0x7fffffff : (int)p;
}

const char *
tdoa_excluded(const struct tdoa_ctx *c, int i)
{
	if (c == NULL || i < 0 || i >= c->nlast || c->ok[i])
		return NULL;
	return c->why[i][0] != '\0' ? c->why[i] : NULL;
}

const char *
tdoa_error(const struct tdoa_ctx *c)
{
	return c->err;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The k-th smallest of a[0..n) (reorders a): Hoare's selection. */
static float
kth(float *a, size_t n, size_t k)
{
	size_t	lo = 0, hi = n - 1;

	while (lo < hi) {
		float	x = a[(lo + hi) / 2], t;
		size_t	i = lo, j = hi;

		while (i <= j) {
			while (a[i] < x)
				i++;
			while (a[j] > x)
				j--;
			if (i <= j) {
				t = a[i];
				a[i] = a[j];
				a[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return a[k];
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Seconds from t_ref (int64 difference first: exact to the ns). */
static double
rel_s(int64_t t, int64_t ref)
{
	return (double)(t - ref) * 1e-9;
}

/* The segment's weights w[0..len): raised-cosine edges of nt samples,
 * 0.5 (1 - cos(pi (j + 0.5) / nt)), flat between; the cosine runs by
 * rotation (no cos() per sample). */
static void
taper(float *w, size_t len, double nt)
{
	double	cr = cos(M_PI * 0.5 / nt), ci = sin(M_PI * 0.5 / nt);
	double	rr = cos(M_PI / nt), ri = sin(M_PI / nt), t;
	size_t	j;

	for (j = 0; j < len; j++)
		w[j] = 1.0f;
	for (j = 0; j < len / 2 && (double)j + 0.5 < nt; j++) {
		w[j] = w[len - 1 - j] = (float)(0.5 * (1 - cr));
		t = cr * rr - ci * ri;
		ci = cr * ri + ci * rr;
		cr = t;
	}
}

/*
 * The tone notch of one spectrum. A carrier (or DC offset) is a narrow,
 * strong line: it carries no timing information (its correlation is flat
 * in lag) yet dominates |R| and pulls the peak. A bin whose 3-bin
 * smoothed power stands notch_db above its neighbourhood is a tone; the
 * neighbourhood is the largest median of its 64-bin block and the two
 * beside it, so that the inside edge of a signal's band (loud next to
 * quiet) is not taken for a tone. Tones are zeroed with NOTCH_GUARD bins
 * each side and a raised-cosine edge of NOTCH_RAMP bins: a hard edge
 * would ring in lag. The segments are tapered (taper()), which keeps a
 * carrier's leakage within a few bins of it.
 */
static void
tone_mask(struct tdoa_ctx *c, struct spec *s, size_t m)
{
	size_t	 q, nb = (m + NOTCH_BLK - 1) / NOTCH_BLK, b, j, i;
	float	*pw = c->pw, thr;
	double	*bm = c->tmp, dist;
	long	 last;

	for (q = 0; q < m; q++)
		s->mask[q] = 1.0f;
	if (c->o.notch_db <= 0)
		return;
	/* Work in signed-frequency order: index i = q + m/2 (mod m). */
	for (i = 0; i < m; i++) {
		size_t	qq = i >= m / 2 ? i - m / 2 : i + m - m / 2;

		pw[i] = s->x[qq][0] * s->x[qq][0] + s->x[qq][1] * s->x[qq][1];
	}
	/* block medians (c->tmp holds >= nb doubles: see tdoa_chunk) */
	for (b = 0; b < nb; b++) {
		size_t	k = 0;

		/* every 4th bin: a median of 16 is as good a level and
		 * 4x cheaper (the selection's branches are the cost) */
		for (j = b * NOTCH_BLK; j < m && j < (b + 1) * NOTCH_BLK; j += 4)
			c->med[k++] = pw[j];
		bm[b] = kth(c->med, k, k / 2);
	}
	thr = (float)pow(10.0, c->o.notch_db / 10.0);
	/* flags (1: tone) in s->mask, signed order for now */
	for (i = 0; i < m; i++) {
		double	p = pw[i], ref;

		if (i > 0)
			p += pw[i - 1];
		if (i + 1 < m)
			p += pw[i + 1];
		p /= 3;
		b = i / NOTCH_BLK;
		ref = bm[b];
		if (b > 0 && bm[b - 1] > ref)
			ref = bm[b - 1];
		if (b + 1 < nb && bm[b + 1] > ref)
			ref = bm[b + 1];
		s->mask[i] = (ref > 0 && p > ref * thr) ? 1.0f : 0.0f;
	}
	/* pw: distance to the nearest tone, both directions */
	last = -1000000;
	for (i = 0; i < m; i++) {
		if (s->mask[i] > 0)
			last = (long)i;
		pw[i] = (float)((long)i - last);
	}
	last = 2000000000L;
	for (i = m; i-- > 0;) {
		if (s->mask[i] > 0)
			last = (long)i;
		if ((float)(last - (long)i) < pw[i])
			pw[i] = (float)(last - (long)i);
	}
	/* the mask, FFT order: 0 within the guard, a raised-cosine edge */
	for (i = 0; i < m; i++) {
		size_t	qq = i >= m / 2 ? i - m / 2 : i + m - m / 2;

		dist = pw[i] - NOTCH_GUARD;
		if (dist <= 0)
			s->mask[qq] = 0.0f;
		else if (dist < NOTCH_RAMP)
			s->mask[qq] = (float)(0.5 * (1 - cos(M_PI * dist /
			    NOTCH_RAMP)));
		else
			s->mask[qq] = 1.0f;
	}
}

/* Signed frequency index of FFT bin q. */
static long
sbin(size_t q, size_t m)
{
	return q < (m + 1) / 2 ? (long)q : (long)q - (long)m;
}

/*
 * The spectrum of one receiver's samples lying in [lo, hi] (s from
 * t_ref), on the common grid f_q = sbin(q) * fs / M, in absolute time:
 *
 *   X(f) = sum_k w_k x_k exp(-j 2 pi f t_k),  t_k = t0 + k / rate.
 *
 * That is why the cross-spectrum of two such spectra is the correlation
 * on the exact time bases (both t0_ns and both real rates), whatever the
 * receivers' offsets: sum_k a(t_k) conj(b(t_k - tau)) = integral of
 * A(f) conj(B(f)) exp(j 2 pi f tau) df, with b the band-limited
 * interpolation of b's samples. The choice (each stream evaluated at the
 * common frequencies, instead of resampling one in time) keeps the
 * expensive part per receiver, not per pair.
 *
 * An FFT gives the bins m * rate / M of the receiver's own rate; the
 * common grid is off by the factor 1 + d, d = fs / rate - 1 (a few ppm).
 * With v = (k - kc) / M around the segment's middle sample kc,
 *   exp(-j2pi m (k-kc)(1+d)/M) = exp(-j2pi m v) sum_n (-j2pi m d v)^n / n!
 * so X is a short sum of FFTs of v^n w x (Horner form below). The
 * largest phase, theta = pi |d| len / 2, is ~0.1 rad at 7 ppm over 12000
 * samples: 1 term leaves 0.5 %. Ignoring d instead would stretch one
 * stream against the other by d * len samples over the chunk (0.09
 * sample, 7.5 us, at 7.5 ppm), which biases the peak by tens of ns as the
 * signal's energy moves in time.
 */
static int
segment(struct tdoa_ctx *c, const struct frame *fr, const struct tdoa_input *in,
    double lo, double hi, struct spec *s)
{
	double	 t0 = rel_s(in->t0_ns, fr->t_ref), rate = in->rate_hz;
	double	 a = ceil((lo - t0) * rate), z = floor((hi - t0) * rate);
	double	 d = fr->fs / rate - 1, theta, nt = fr->taper * rate, term;
	size_t	 k1, k2, len, kc, m = fr->m, q, k;
	int	 nterms = 0, n, e;
	fftwf_plan fwd, bwd;

	if (a < 0)
		a = 0;
	if (z > (double)in->n - 1)
		z = (double)in->n - 1;
	if (z - a + 1 < 64 || z - a + 1 > (double)m)
		return -1;
	k1 = (size_t)a;
	k2 = (size_t)z;
	len = k2 - k1 + 1;
	kc = k1 + len / 2;
	theta = M_PI * fabs(d) * (double)len / 2;
	for (term = theta; term >= TERM_TOL && nterms < MAX_TERMS;
	    term *= theta / (nterms + 1))	/* theta^(n+1) / (n+1)! */
		nterms++;
	if (get_plans(m, c->u, c->f, &fwd, &bwd) != 0)
		return -1;
	s->sw = s->sw2 = 0;
	taper(c->pw, len, nt);		/* once (c->pw: M >= len) */
	for (k = 0; k < len; k++) {
		s->sw += c->pw[k];
		s->sw2 += (double)c->pw[k] * c->pw[k];
	}
	for (n = nterms; n >= 0; n--) {
		memset(c->u, 0, m * sizeof *c->u);
		for (k = k1; k <= k2; k++) {
			double	w = c->pw[k - k1];
			double	v = ((double)k - (double)kc) / (double)m;
			size_t	j = k >= kc ? k - kc : k + m - kc;

			for (e = 0; e < n; e++)
				w *= v;
			c->u[j][0] = (float)(w * in->iq[2 * k]);
			c->u[j][1] = (float)(w * in->iq[2 * k + 1]);
		}
		fftwf_execute_dft(fwd, c->u, c->f);
		/* Horner: X = F_n + (-j2pi m d / (n+1)) X; real arithmetic
		 * (-j a (xr + j xi) = a xi - j a xr) */
		if (n < nterms) {
			for (q = 0; q < m; q++) {
				double	a = 2 * M_PI * (double)sbin(q, m) * d /
				    (n + 1);
				double	xr = s->x[q][0], xi = s->x[q][1];

				s->x[q][0] = (float)(c->f[q][0] + a * xi);
				s->x[q][1] = (float)(c->f[q][1] - a * xr);
			}
		} else
			memcpy(s->x, c->f, m * sizeof *s->x);
	}
	/* Into absolute time: times exp(-j 2 pi f_m tc), tc = time of kc.
	 * The phasor runs by recurrence in double (error ~1e-12 over M),
	 * from the lowest frequency up. */
	{
		double	tc = t0 + (double)kc / rate;
		double	df = fr->fs / (double)m, pr, pi, rr, ri, t;

		rr = cos(-2 * M_PI * df * tc);
		ri = sin(-2 * M_PI * df * tc);
		t = -2 * M_PI * df * tc * (double)sbin((m + 1) / 2, m);
		pr = cos(t);
		pi = sin(t);
		for (q = (m + 1) / 2, k = 0; k < m; k++) {
			double	xr = s->x[q][0], xi = s->x[q][1];

			s->x[q][0] = (float)(xr * pr - xi * pi);
			s->x[q][1] = (float)(xr * pi + xi * pr);
			t = pr * rr - pi * ri;
			pi = pr * ri + pi * rr;
			pr = t;
			if (++q == m)
				q = 0;
		}
	}
	s->rate = rate;
	tone_mask(c, s, m);
	return 0;
}

/*
 * R(d), R'(d), R''(d) of sums v[0..n) (interleaved re, im), element i at
 * angular frequency (i + x0) * w:  R(d) = sum v_i exp(j (i + x0) w d).
 * Double, real arithmetic; the phasor runs by recurrence in 4 interleaved
 * lanes (4 independent dependency chains; the recurrence's error stays
 * ~1e-12).
 */
static void
rsums(const double *v, long n, double x0, double w, double d, double r[6])
{
	double	zr[4], zi[4], w4r, w4i, t;
	double	a0r[4] = { 0 }, a0i[4] = { 0 }, a1r[4] = { 0 };
	double	a1i[4] = { 0 }, a2r[4] = { 0 }, a2i[4] = { 0 };
	long	i = 0;
	int	j;

	for (j = 0; j < 4; j++) {
		zr[j] = cos(w * ((double)j + x0) * d);
		zi[j] = sin(w * ((double)j + x0) * d);
	}
	w4r = cos(4 * w * d);
	w4i = sin(4 * w * d);
	for (; i < n; i += 4) {
		for (j = 0; j < 4 && i + j < n; j++) {
			double	gr = v[2 * (i + j)], gi = v[2 * (i + j) + 1];
			double	pr = gr * zr[j] - gi * zi[j];
			double	pi = gr * zi[j] + gi * zr[j];
			double	f = w * ((double)(i + j) + x0);

			a0r[j] += pr;
			a0i[j] += pi;
			a1r[j] += f * pr;
			a1i[j] += f * pi;
			a2r[j] += f * f * pr;
			a2i[j] += f * f * pi;
			t = zr[j] * w4r - zi[j] * w4i;
			zi[j] = zr[j] * w4i + zi[j] * w4r;
			zr[j] = t;
		}
	}
	for (j = 1; j < 4; j++) {
		a0r[0] += a0r[j];
		a0i[0] += a0i[j];
		a1r[0] += a1r[j];
		a1i[0] += a1i[j];
		a2r[0] += a2r[j];
		a2i[0] += a2i[j];
	}
	/* R' = j sum f v z, R'' = -sum f^2 v z */
	r[0] = a0r[0];
	r[1] = a0i[0];
	r[2] = -a1i[0];
	r[3] = a1r[0];
	r[4] = -a2r[0];
	r[5] = -a2i[0];
}

/*
 * One pair: sh (receiver a, the short segment) against lg (receiver b,
 * extended by fr->ext each side); sb is b's short segment (same span as
 * a's), for the coherence. tau = arrival at a minus arrival at b.
 * Returns 0 with *p filled (but a, b), -1 if they share no band.
 */
static int
correlate(struct tdoa_ctx *c, const struct frame *fr,
    const struct tdoa_input *ia, const struct spec *sh,
    const struct tdoa_input *ib, const struct spec *lg,
    const struct spec *sb, struct tdoa_pair *p)
{
	size_t	 m = fr->m, q, q0;
	double	 df = fr->fs / (double)m, w = 2 * M_PI * df, blo, bhi;
	double	 tau0, d = 0, step, r[6];
	long	 mlo, mhi, l, l0 = 0, ls, nblk, bi, nb, ic, i, nsb, b, excl;
	double	*pa = c->blk, *pb, *w0, *w1, *w2, best = -1, side = 0;
	double	 teff, info = 0, fbar, pat = 0, pbt = 0, totr = 0, toti = 0;
	double	*gs = c->gb, *hs = c->hb;
	fftwf_plan fwd, bwd;
	int	 it;

	/* the band both pass */
	blo = fmax(ia->band_lo_hz, ib->band_lo_hz);
	bhi = fmin(ia->band_hi_hz, ib->band_hi_hz);
	mlo = (long)ceil(blo / df);
	mhi = (long)floor(bhi / df);
	if (mlo < -(long)(m / 2))
		mlo = -(long)(m / 2);
	if (mhi > (long)((m - 1) / 2))
		mhi = (long)((m - 1) / 2);
	if (mhi - mlo + 1 < 2 * BLK)
		return -1;
	/* the band's bins i = 0..nb (signed order), frequency (i - ic) df,
	 * whole sub-blocks of SB bins only (the band's last < SB bins go) */
	nb = (mhi - mlo + 1) / SB * SB;
	ic = nb / 2;
	nsb = nb / SB;
	nblk = (nb + BLK - 1) / BLK;
	pb = pa + nblk;
	w0 = pb + nblk;
	w1 = w0 + nblk;
	w2 = w1 + nblk;
	memset(pa, 0, 5 * (size_t)nblk * sizeof *pa);
	memset(c->u, 0, m * sizeof *c->u);
	/* G = W A B* over the band into c->u (FFT order) for the inverse
	 * FFT, W = both notches; per BLK block: |A|^2, |Bshort|^2 and the
	 * moments of W for sigma */
	q0 = (size_t)((mlo + (long)m) % (long)m);
	for (i = 0, q = q0; i < nb; i++, q = q + 1 == m ? 0 : q + 1) {
		float	wq = sh->mask[q] * lg->mask[q];
		float	ar = sh->x[q][0], ai = sh->x[q][1];
		float	br = lg->x[q][0], bim = lg->x[q][1];
		float	cr = sb->x[q][0], ci = sb->x[q][1];
		double	x = (double)(i - ic);

		bi = i / BLK;
		c->u[q][0] = wq * (ar * br + ai * bim);
		c->u[q][1] = wq * (ai * br - ar * bim);
		pa[bi] += wq * (ar * ar + ai * ai);
		pb[bi] += wq * (cr * cr + ci * ci);
		w0[bi] += wq;
		w1[bi] += wq * x;
		w2[bi] += wq * x * x;
	}
	if (get_plans(m, c->u, c->f, &fwd, &bwd) != 0)
		return -1;
	fftwf_execute_dft(bwd, c->u, c->r);
	/* integer peak within +-lag, then the highest side-lobe beyond the
	 * main lobe: 2 / bandwidth each side (+-3 samples for 10 kHz at
	 * 12 kS/s, +-25 for 1 kHz) */
	excl = (long)ceil(2 * fr->fs / (bhi - blo)) + 1;
	ls = (long)floor(fr->lag * fr->fs);
	if (ls > (long)m / 2 - 2)
		ls = (long)m / 2 - 2;
	for (l = -ls; l <= ls; l++) {
		double	v;

		q = (size_t)((l + (long)m) % (long)m);
		v = c->r[q][0] * c->r[q][0] + c->r[q][1] * c->r[q][1];
		if (v > best) {
			best = v;
			l0 = l;
		}
	}
	for (l = -ls; l <= ls; l++) {
		double	v;

		q = (size_t)((l + (long)m) % (long)m);
		v = c->r[q][0] * c->r[q][0] + c->r[q][1] * c->r[q][1];
		if (labs(l - l0) > excl && v > side)
			side = v;
	}
	p->quality = side > 0 ? sqrt(best / side) : 0;

	/* A start: a parabola through |R| around the integer peak (only a
	 * start: as an estimate it is biased by a fraction of a sample). */
	{
		double	ym, y0, yp, den, dd = 0;

		y0 = sqrt(best);
		q = (size_t)((l0 - 1 + (long)m) % (long)m);
		ym = hypot(c->r[q][0], c->r[q][1]);
		q = (size_t)((l0 + 1 + (long)m) % (long)m);
		yp = hypot(c->r[q][0], c->r[q][1]);
		den = ym - 2 * y0 + yp;
		if (den < 0)
			dd = 0.5 * (ym - yp) / den;
		if (dd > 0.5 || dd < -0.5)
			dd = 0;
		tau0 = ((double)l0 + dd) / fr->fs;
	}

	/*
	 * Refinement: the maximum of the continuous correlation
	 * |R(tau)|^2, R(tau) = sum G_m exp(j 2pi f_m tau) evaluated exactly
	 * from the cross-spectrum (what an infinite upsampling would find),
	 * by Newton steps. To make each step cheap, G (and A Bshort*, for
	 * the coherence) are turned to tau0 once and summed over sub-blocks
	 * of SB bins; a sub-block then turns as one at its centre frequency:
	 * R(tau0 + d) = sum_s S_s exp(j w c_s d). The phase this neglects,
	 * w (f - c_s) d, is below 2pi 1 Hz 3.5 bins 0.5 sample = 1e-3 rad
	 * and symmetric about the centre: its effect on tau is of second
	 * order (< 0.01 ns). Frequencies are counted from the band's middle
	 * (ic): |R| does not change, the sums are better conditioned.
	 */
	{
		double	zr, zi, wr, wi, t, x0 = -(double)ic;

		zr = cos(w * x0 * tau0);
		zi = sin(w * x0 * tau0);
		wr = cos(w * tau0);
		wi = sin(w * tau0);
		q = q0;
		for (b = 0; b < nsb; b++) {
			double	gr = 0, gi = 0, hr = 0, hi = 0;
			int	j;

			for (j = 0; j < SB; j++) {
				float	wq = sh->mask[q] * lg->mask[q];
				float	ar = sh->x[q][0], ai = sh->x[q][1];
				float	br = lg->x[q][0], bim = lg->x[q][1];
				float	cr = sb->x[q][0], ci = sb->x[q][1];
				double	ur = wq * (ar * br + ai * bim);
				double	ui = wq * (ai * br - ar * bim);
				double	vr = wq * (ar * cr + ai * ci);
				double	vi = wq * (ai * cr - ar * ci);

				q = q + 1 == m ? 0 : q + 1;
				gr += ur * zr - ui * zi;
				gi += ur * zi + ui * zr;
				hr += vr * zr - vi * zi;
				hi += vr * zi + vi * zr;
				t = zr * wr - zi * wi;
				zi = zr * wi + zi * wr;
				zr = t;
			}
			gs[2 * b] = gr;
			gs[2 * b + 1] = gi;
			hs[2 * b] = hr;
			hs[2 * b + 1] = hi;
		}
	}
	/* sub-block s's centre: bin s SB + (SB - 1) / 2, minus ic */
	{
		double	x0 = (SB - 1) / 2.0 - (double)ic, ws = w;

		for (it = 0; it < 10; it++) {
			double	j1, j2;

			/* element s at (s SB + x0) w = (s + x0 / SB) (SB w) */
			rsums(gs, nsb, x0 / SB, SB * ws, d, r);
			/* J' = 2 Re(R* R'), J'' = 2 (|R'|^2 + Re(R* R'')) */
			j1 = 2 * (r[0] * r[2] + r[1] * r[3]);
			j2 = 2 * (r[2] * r[2] + r[3] * r[3] + r[0] * r[4] +
			    r[1] * r[5]);
			step = j2 < 0 ? -j1 / j2 : (j1 > 0 ? 0.1 : -0.1) /
			    fr->fs;
			if (step > 0.5 / fr->fs)
				step = 0.5 / fr->fs;
			if (step < -0.5 / fr->fs)
				step = -0.5 / fr->fs;
			d += step;
			/* quadratic convergence: after a step of 1e-4
			 * sample the error left is ~1e-8 sample */
			if (fabs(step) < 1e-4 / fr->fs)
				break;
		}
		if (!isfinite(d) || fabs(tau0 + d - (double)l0 / fr->fs) >
		    1.0 / fr->fs)
			d = (double)l0 / fr->fs - tau0;
		p->tdoa_s = tau0 + d;

		/*
		 * sigma: the Cramer-Rao bound for a delay with an unknown
		 * phase, in Carter's coherence form for complex baseband,
		 *   1/var = 2 T sum_bins df (2 pi (f - fbar))^2 g2/(1 - g2),
		 * g2 the magnitude-squared coherence between the two
		 * receivers (g2/(1-g2) = SNR_a SNR_b / (1 + SNR_a + SNR_b):
		 * both noises count), T the short segment's effective
		 * duration ((sum w)^2 / sum w^2). g2 is measured per BLK-bin
		 * block between a's and b's segments of the same span
		 * (turned to tau), less its bias 1/dof (dof = the block's
		 * independent bins, T df each); so sigma follows the real
		 * SNR and the band the signal really occupies, not the
		 * passband or the inputs' snr_db. It does not know of errors
		 * common to both receivers' data (a carrier leaking past the
		 * notch, multipath): quality and corr speak for those.
		 */
		teff = sh->sw * sh->sw / sh->sw2 / sh->rate;
		{
			double	*g2 = c->tmp;	/* nblk (see tdoa_chunk) */
			double	 sf = 0, sff = 0, sr = 0, zr, zi, wr, wi, t;
			int	 per = BLK / SB;

			zr = cos(SB * ws * (x0 / SB) * d);
			zi = sin(SB * ws * (x0 / SB) * d);
			wr = cos(SB * ws * d);
			wi = sin(SB * ws * d);
			for (bi = 0; bi < nblk; bi++) {
				double	cr = 0, ci = 0, dof, v;

				for (b = bi * per; b < nsb && b < (bi + 1) *
				    per; b++) {
					double	hr = hs[2 * b], hi = hs[2 * b +
					    1];

					cr += hr * zr - hi * zi;
					ci += hr * zi + hi * zr;
					t = zr * wr - zi * wi;
					zi = zr * wi + zi * wr;
					zr = t;
				}
				totr += cr;
				toti += ci;
				pat += pa[bi];
				pbt += pb[bi];
				dof = w0[bi] * df * teff;
				v = pa[bi] > 0 && pb[bi] > 0 ? (cr * cr +
				    ci * ci) / (pa[bi] * pb[bi]) : 0;
				if (dof > 1)
					v = (v - 1 / dof) / (1 - 1 / dof);
				v = v < 0 ? 0 : v > 0.9999 ? 0.9999 : v;
				g2[bi] = v / (1 - v);
				sr += g2[bi] * w0[bi];
				sf += g2[bi] * w1[bi];
			}
			/* fbar: the information-weighted mean frequency
			 * (the unknown phase absorbs a common offset) */
			fbar = sr > 0 ? sf / sr : 0;
			for (bi = 0; bi < nblk; bi++)
				sff += g2[bi] * (w2[bi] - 2 * fbar * w1[bi] +
				    fbar * fbar * w0[bi]);
			info = 2 * teff * df * w * w * sff;
		}
	}
	p->sigma_s = info > 0 ? 1 / sqrt(info) : fr->lag + 1 / fr->fs;
	p->corr = pat > 0 && pbt > 0 ? sqrt((totr * totr + toti * toti) /
	    (pat * pbt)) : 0;
	if (p->corr > 1)
		p->corr = 1;
	return 0;
}

static void
exclude(struct tdoa_ctx *c, int i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
exclude(struct tdoa_ctx *c, int i, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(c->why[i], REASON_LEN, fmt, ap);
	va_end(ap);
	c->ok[i] = 0;
}

static int
ensure_inputs(struct tdoa_ctx *c, int n)
{
	int	cap = n < 16 ? 16 : n;
	void	*a, *b, *d;

	if (c->ncap >= cap)
		return 0;
	a = realloc(c->why, (size_t)cap * sizeof *c->why);
	if (a != NULL)
		c->why = a;
	b = realloc(c->ok, (size_t)cap * sizeof *c->ok);
	if (b != NULL)
		c->ok = b;
	d = realloc(c->order, (size_t)cap * sizeof *c->order);
	if (d != NULL)
		c->order = d;
	if (a == NULL || b == NULL || d == NULL)
		return -1;
	c->ncap = cap;
	return 0;
}

static int
ensure_tmp(struct tdoa_ctx *c, size_t n)
{
	double	*t;

	if (c->tmpcap >= n)
		return 0;
	if ((t = realloc(c->tmp, n * sizeof *t)) == NULL)
		return -1;
	c->tmp = t;
	c->tmpcap = n;
	return 0;
}

/* Sort indexes by SNR, best first (qsort_r: no global state, so contexts
 * stay independent across threads). */
static int
cmp_snr_r(const void *a, const void *b, void *arg)
{
	const struct tdoa_input *in = arg;
	int	i = *(const int *)a, j = *(const int *)b;
	double	x = in[i].snr_db, y = in[j].snr_db;

	return x > y ? -1 : x < y ? 1 : (i > j) - (i < j);
}

int
tdoa_chunk(struct tdoa_ctx *c, const struct tdoa_input *in, int n,
    struct tdoa_pair *out, int max, int *nout)
{
	struct frame	 fr;
	struct tdoa_input *bands = NULL;
	double		 mstart, mend, tlen, *v;
	int		 i, u, r, s, k, np = 0, first = -1;
	size_t		 nlong = 0;

	if (c == NULL)
		return -1;
	c->err[0] = '\0';
	c->nlast = 0;
	if (nout != NULL)
		*nout = 0;
	if (nout == NULL || n < 0 || n > MAX_INPUTS || (n > 0 && in == NULL) ||
	    max < 0 || (max > 0 && out == NULL)) {
		snprintf(c->err, sizeof c->err, "tdoa_chunk: invalid arguments");
		return -1;
	}
	if (max < tdoa_max_pairs(c, n)) {
		snprintf(c->err, sizeof c->err, "tdoa_chunk: room for %d pairs, "
		    "%d inputs may give %d", max, n, tdoa_max_pairs(c, n));
		return -1;
	}
	if (ensure_inputs(c, n) != 0 || (bands = calloc((size_t)n + 1,
	    sizeof *bands)) == NULL) {
		snprintf(c->err, sizeof c->err, "tdoa_chunk: out of memory");
		return -1;
	}

	/* 1. each input on its own */
	for (i = 0; i < n; i++) {
		const struct tdoa_input *x = &in[i];

		c->ok[i] = 1;
		c->why[i][0] = '\0';
		bands[i] = *x;
		if (x->skip_reason != NULL) {
			exclude(c, i, "%s", x->skip_reason[0] ? x->skip_reason :
			    "left out by the caller");
		} else if (x->iq == NULL || x->n < 64 || x->n > MAX_SAMPLES) {
			exclude(c, i, "chunk of %zu samples (needs 64 .. %zu)",
			    x->n, MAX_SAMPLES);
		} else if (!(x->rate_hz >= 100 && x->rate_hz <= 1e8)) {
			exclude(c, i, "sample rate %g S/s out of range",
			    x->rate_hz);
		} else if (!isfinite(x->snr_db)) {
			exclude(c, i, "no SNR");
		} else if (x->snr_db < c->o.min_snr_db) {
			exclude(c, i, "SNR %.1f dB < %g dB", x->snr_db,
			    c->o.min_snr_db);
		} else if (!isfinite(x->band_lo_hz) || !isfinite(x->band_hi_hz) ||
		    ((x->band_lo_hz != 0 || x->band_hi_hz != 0) &&
		    !(x->band_hi_hz > x->band_lo_hz))) {
			exclude(c, i, "passband %g..%g Hz invalid",
			    x->band_lo_hz, x->band_hi_hz);
		} else {
			if (x->band_lo_hz == 0 && x->band_hi_hz == 0) {
				bands[i].band_lo_hz = -x->rate_hz / 2;
				bands[i].band_hi_hz = x->rate_hz / 2;
			}
			bands[i].band_lo_hz = fmax(bands[i].band_lo_hz,
			    -x->rate_hz / 2);
			bands[i].band_hi_hz = fmin(bands[i].band_hi_hz,
			    x->rate_hz / 2);
			if (first < 0)
				first = i;
		}
	}
	if (first < 0)
		goto done;
	if (ensure_tmp(c, (size_t)n + 16) != 0) {
		snprintf(c->err, sizeof c->err, "tdoa_chunk: out of memory");
		free(bands);
		return -1;
	}
	v = c->tmp;
	fr.t_ref = in[first].t0_ns;

	/* 2. the common span: the median chunk's, each chunk must cover it
	 * within 5 % (chunks of one grid instant differ by < 1 sample) */
	for (u = 0, i = 0; i < n; i++)
		if (c->ok[i])
			v[u++] = rel_s(in[i].t0_ns, fr.t_ref);
	mstart = median(v, u);
	for (u = 0, i = 0; i < n; i++)
		if (c->ok[i])
			v[u++] = rel_s(in[i].t0_ns, fr.t_ref) +
			    (double)in[i].n / in[i].rate_hz;
	mend = median(v, u);
	tlen = mend - mstart;
	fr.lo = -1e300;
	fr.hi = 1e300;
	for (i = 0; i < n; i++) {
		double	a, b;

		if (!c->ok[i])
			continue;
		a = rel_s(in[i].t0_ns, fr.t_ref);
		b = a + (double)in[i].n / in[i].rate_hz;
		if (a > mstart + 0.05 * tlen || b < mend - 0.05 * tlen) {
			exclude(c, i, "chunk spans %+.6f..%+.6f s, the others "
			    "%+.6f..%+.6f s", a, b, mstart, mend);
			continue;
		}
		fr.lo = fmax(fr.lo, a);
		fr.hi = fmin(fr.hi, b);
	}
	tlen = fr.hi - fr.lo;
	fr.lag = c->o.max_lag_s;
	fr.taper = c->o.taper_s > 0 ? c->o.taper_s : fmin(0.1, 0.1 * tlen);

	/* 3. the reference rate, and rates too far from it */
	for (u = 0, i = 0; i < n; i++)
		if (c->ok[i])
			v[u++] = in[i].rate_hz;
	if (u < 2)
		goto done;
	fr.fs = median(v, u);
	fr.ext = fr.lag + fr.taper + 2 / fr.fs;
	if (tlen - 2 * fr.ext < 0.25 * tlen) {
		snprintf(c->err, sizeof c->err, "tdoa_chunk: chunks of %.3f s "
		    "are too short for a lag window of %g s", tlen, fr.lag);
		free(bands);
		return -1;
	}
	for (i = 0; i < n; i++) {
		double	d, len, th;
		size_t	k2;

		if (!c->ok[i])
			continue;
		d = fr.fs / in[i].rate_hz - 1;
		len = tlen * in[i].rate_hz;
		th = M_PI * fabs(d) * len / 2;
		if (th > MAX_THETA) {
			exclude(c, i, "sample rate %.3f S/s is %.1f ppm from "
			    "the others' %.3f", in[i].rate_hz, d * -1e6, fr.fs);
			continue;
		}
		for (k2 = 0; k2 < 2 * in[i].n; k2++)
			if (!isfinite(in[i].iq[k2]))
				break;
		if (k2 < 2 * in[i].n) {
			exclude(c, i, "sample %zu is not a number", k2 / 2);
			continue;
		}
		if (len + 4 > (double)nlong)
			nlong = (size_t)(len + 4);
	}

	/* 4. ranks: usable inputs by SNR, best first */
	for (u = 0, i = 0; i < n; i++)
		if (c->ok[i])
			c->order[u++] = i;
	if (u < 2)
		goto done;
	qsort_r(c->order, (size_t)u, sizeof *c->order, cmp_snr_r, (void *)in);
	fr.m = metrics_fft_size(nlong);
	if (ensure_tmp(c, fr.m / BLK + 16) != 0 || ensure_bufs(c, fr.m) != 0) {
		snprintf(c->err, sizeof c->err, "tdoa_chunk: out of memory");
		free(bands);
		return -1;
	}

	/*
	 * 5. pairs. Each receiver takes its `partners` (k) best-SNR others:
	 * for ranks r < s that is exactly the pairs {r, s} with r < k, at
	 * most k per receiver (tdoa_max_pairs). In each pair the better one
	 * (lower rank) gives the long, extended segment and the other the
	 * short one, so only the k best need a long spectrum, kept while
	 * the others stream past: memory is (k + 1) spectra, not N.
	 */
	k = c->o.partners;
	for (s = 0; s < u; s++) {
		int	is = c->order[s];

		struct spec *sh = s < k ? &c->longs[k + s] : &c->shrt;

		if ((s < k && segment(c, &fr, &bands[is], fr.lo, fr.hi,
		    &c->longs[s]) != 0) || segment(c, &fr, &bands[is],
		    fr.lo + fr.ext, fr.hi - fr.ext, sh) != 0) {
			exclude(c, is, "chunk too short for the common span");
			continue;
		}
		for (r = 0; r < s && r < k; r++) {
			int	ir = c->order[r];
			struct tdoa_pair p;

			if (!c->ok[ir])
				continue;
			if (correlate(c, &fr, &bands[is], sh, &bands[ir],
			    &c->longs[r], &c->longs[k + r], &p) != 0)
				continue;
			if (is < ir) {
				p.a = is;
				p.b = ir;
			} else {
				p.a = ir;
				p.b = is;
				p.tdoa_s = -p.tdoa_s;
			}
			if (np < max)
				out[np++] = p;
		}
	}
done:
	c->nlast = n;
	free(bands);
	*nout = np;
	return 0;
}
