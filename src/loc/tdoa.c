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
#include "src/base/util.h"

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
#define PB		32	/* bins per phasor anchor (segment) */
#define MEDL		8	/* blocks whose medians are taken at once */
#define REASON_LEN	112

/*
 * Speed. The per-bin loops are written on GCC vector types (4 floats:
 * SSE2 on any x86-64, NEON on arm64, plain scalar code elsewhere; the
 * compiler splits or widens them, no -march needed), on spectra stored
 * split (re[], im[]) in signed-frequency order so that a pair's shared
 * band is one contiguous run. Float sums over a few bins (<= 64), double
 * beyond. __builtin_shufflevector: GCC >= 12, clang.
 */
typedef float v4f __attribute__((vector_size(16)));
typedef float v4fu __attribute__((vector_size(16), aligned(4)));
typedef int v4i __attribute__((vector_size(16)));
typedef double v2d __attribute__((vector_size(16)));
typedef double v2du __attribute__((vector_size(16), aligned(8)));
#define LDV2(p)		(*(const v2du *)(const void *)(p))
#define LDU(p)		(*(const v4fu *)(const void *)(p))
#define STU(p, v)	(*(v4fu *)(void *)(p) = (v))
#define LDA(p)		(*(const v4f *)(const void *)(p))
#define STA(p, v)	(*(v4f *)(void *)(p) = (v))
#define SHUF		__builtin_shufflevector

static inline float
hsum(v4f v)
{
	return (v[0] + v[2]) + (v[1] + v[3]);
}

/* { hsum(a), hsum(b), hsum(c), hsum(d) } by a transpose */
static inline v4f
hsum4(v4f a, v4f b, v4f c, v4f d)
{
	v4f	ab = SHUF(a, b, 0, 4, 2, 6) + SHUF(a, b, 1, 5, 3, 7);
	v4f	cd = SHUF(c, d, 0, 4, 2, 6) + SHUF(c, d, 1, 5, 3, 7);

	return SHUF(ab, cd, 0, 1, 4, 5) + SHUF(ab, cd, 2, 3, 6, 7);
}

/* One segment of one receiver's chunk, on the common frequency grid. */
struct spec {
	float		*re, *im; /* M bins each, signed order: bin i is
				   frequency (i - M/2) fs / M; absolute time */
	float		*mask;	/* M tone-notch weights 0..1, same order,
				   where ones says */
	unsigned char	*ones;	/* per NOTCH_BLK bins: 1 if the mask is all
				   1 there: the pairs do not read it, and
				   tone_mask writes it only near tones
				   (writing 1s was ~10 % of a segment) */
	double		*bp;	/* per BLK block of a pair's band: |X|^2
				   (see unit_sums), for bp_i0, bp_nb */
	long		 bp_i0, bp_nb;	/* bp_nb -1: none yet */
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
	void		*big;		/* the M-sized arrays below, carved
					   from one util_bigbuf */
	size_t		 biglen;
	fftwf_complex	*u, *f, *x;	/* M each: FFT in, out, Horner sum */
	float		*pw;		/* M: power (tone finder) */
	unsigned char	*tone;		/* M / NOTCH_BLK + 2: the tone
					   finder's blocks with a tone */
	struct twt {
		float	*w;		/* M: a segment's sample weights */
		size_t	 len;		/* ... for this length */
		double	 nt;		/* and edge, samples */
		size_t	 ne;		/* samples of each edge (< 1 there) */
		size_t	 cap;		/* floats w holds (M) */
		double	 sum, sum2;	/* their sum, sum of squares */
	}		 tw[2];		/* the long and the short segments' */
	float		*gr, *gi, *hr, *hi; /* M: a pair's G = W A B*, H =
					   W A Bshort* over the band */
	float		*att;		/* M / 2 + 1: 1 / C0(l)^2, see frame */
	struct spec	*longs;		/* 2 * partners: the best ones' long
					   then short segments */
	struct spec	 shrt;
	double		*blk;		/* 5 * (M / BLK + 2): Pa, Pb, W0-2 */
	double		*mom;		/* 3 * (M / BLK + 2): W0-2 of W = 1 */
	long		 mom_nb;	/* ... for a band of mom_nb bins (-1:
					   none yet) */
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
	size_t	p, mf;		/* coarse correlation: bins summed, its
				   size M / p (see correlate) */
	long	ls;		/* lags searched: -ls .. ls samples */
};

/*
 * FFTW plans, one per size and direction used, shared by every
 * context: FFTW's planner is not thread-safe, so planning happens under
 * the process's one planner lock (metrics_planner_lock: the engine's
 * metrics plan on another thread), once each; fftwf_execute_dft on a
 * context's own arrays (64-byte aligned, as the planning arrays) is
 * thread-safe.
 * Sizes come from metrics_fft_size (2^a or 3*2^a), one direction each:
 * 64 slots hold them all.
 */
static struct {
	size_t		 n;
	int		 dir;
	fftwf_plan	 plan;
} plans[64];
static int nplans;

/* The plan of size n in direction dir (FFTW_FORWARD: the segments' size
 * M; FFTW_BACKWARD: the coarse correlation's M / p), made on first use:
 * each size is only ever run one way, and planning the other way too cost
 * a backward M-point plan (~0.2 ms) per process for nothing. */
static fftwf_plan
get_plan(size_t n, int dir, fftwf_complex *in, fftwf_complex *out)
{
	fftwf_plan	p = NULL;
	int		i;

	metrics_planner_lock();
	for (i = 0; i < nplans; i++) {
		if (plans[i].n == n && plans[i].dir == dir) {
			p = plans[i].plan;
			break;
		}
	}
	if (p == NULL && nplans < (int)(sizeof plans / sizeof plans[0])) {
		p = fftwf_plan_dft_1d((int)n, in, out, dir,
		    FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
		if (p != NULL) {
			plans[nplans].n = n;
			plans[nplans].dir = dir;
			plans[nplans++].plan = p;
		}
	}
	metrics_planner_unlock();
	return p;
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
	if (c->longs == NULL) {
		tdoa_free(c);
		return NULL;
	}
	return c;
}

static void
spec_free(struct spec *s)
{
	free(s->ones);
	free(s->bp);
	s->re = s->im = s->mask = NULL;
	s->ones = NULL;
	s->bp = NULL;
}

static void
free_bufs(struct tdoa_ctx *c)
{
	int	i;

	util_bigbuf_free(c->big, c->biglen);
	c->big = NULL;
	c->biglen = 0;
	c->tw[0].w = c->tw[1].w = NULL;
	free(c->att);
	free(c->tone);
	c->tone = NULL;
	free(c->blk);
	free(c->mom);
	c->mom = NULL;
	free(c->gb);
	free(c->hb);
	c->gb = c->hb = NULL;
	c->u = c->f = c->x = NULL;
	c->pw = c->gr = c->gi = c->hr = c->hi = c->att = NULL;
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
	free(c->why);
	free(c->ok);
	free(c->order);
	free(c->tmp);
	free(c);
}

/* The next n floats of the big buffer at *at: 64-byte aligned (as
 * fftwf_alloc's, for the vector loads and FFTW's plans; M is a multiple
 * of 32, so every array's length keeps the alignment). */
static float *
carve(char **at, size_t n)
{
	float	*p = (float *)(void *)*at;

	*at += (n * sizeof(float) + 63) & ~(size_t)63;
	return p;
}

static int
spec_alloc(struct spec *s, size_t m, char **at)
{
	s->re = carve(at, m);
	s->im = carve(at, m);
	s->mask = carve(at, m);
	s->ones = malloc(m / NOTCH_BLK + 2);
	s->bp = malloc((m / BLK + 2) * sizeof *s->bp);
	s->bp_nb = -1;
	return s->ones != NULL && s->bp != NULL ? 0 : -1;
}

/*
 * The M-sized arrays (3 complex, 7 real, 3 per spectrum: ~1.3 MB at
 * M = 12288 and 2 partners) come from one util_bigbuf, made resident at
 * once: their first touch, a page fault per 4 KiB, was most of the
 * warm-up's CPU (~420 faults, 6-9 ms on this project's VMs; one huge
 * page, or one populate, instead).
 */
static int
ensure_bufs(struct tdoa_ctx *c, size_t m)
{
	int	i, bad = 0, nspec = 2 * c->o.partners + 1;
	size_t	fl = (m * sizeof(float) + 63) & ~(size_t)63;
	char	*at;

	if (c->mcap >= m)
		return 0;
	free_bufs(c);
	c->biglen = (3 * 2 + 7 + 3 * (size_t)nspec) * fl;
	if ((c->big = util_bigbuf(c->biglen)) == NULL) {
		c->biglen = 0;
		return -1;
	}
	at = c->big;
	c->u = (fftwf_complex *)(void *)carve(&at, 2 * m);
	c->f = (fftwf_complex *)(void *)carve(&at, 2 * m);
	c->x = (fftwf_complex *)(void *)carve(&at, 2 * m);
	c->pw = carve(&at, m);
	c->tw[0].w = carve(&at, m);
	c->tw[1].w = carve(&at, m);
	c->tw[0].len = c->tw[1].len = 0;
	c->tw[0].cap = c->tw[1].cap = m;
	c->gr = carve(&at, m);
	c->gi = carve(&at, m);
	c->hr = carve(&at, m);
	c->hi = carve(&at, m);
	c->att = malloc((m / 2 + 1) * sizeof *c->att);
	c->tone = malloc(m / NOTCH_BLK + 2);
	c->blk = malloc(5 * (m / BLK + 2) * sizeof *c->blk);
	c->mom = malloc(3 * (m / BLK + 2) * sizeof *c->mom);
	c->mom_nb = -1;
	c->gb = malloc(2 * (m / SB + 1) * sizeof *c->gb);
	c->hb = malloc(2 * (m / SB + 1) * sizeof *c->hb);
	bad = c->att == NULL || c->tone == NULL || c->blk == NULL ||
	    c->mom == NULL ||
	    c->gb == NULL ||
	    c->hb == NULL;
	for (i = 0; i < 2 * c->o.partners && !bad; i++)
		bad = spec_alloc(&c->longs[i], m, &at) != 0;
	if (!bad)
		bad = spec_alloc(&c->shrt, m, &at) != 0;
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

/*
 * The segment's weights t->w[0..len): raised-cosine edges of nt samples,
 * 0.5 (1 - cos(pi (j + 0.5) / nt)), flat between, 0 from len to the next
 * multiple of 4 (the vector loops read so far); the cosine runs by
 * rotation (no cos() per sample); their sum and sum of squares. Each
 * receiver's rate gives its own nt, so this runs for most segments: w is
 * kept 1 everywhere but the current edges and tail, and only the old and
 * the new edges are written (writing the flat middle, ~80 % of len, and
 * summing it was most of the cost). The sums run by float blocks of 256
 * as over the whole array: a block that is all 1 adds exactly 256 to
 * both, so they are the same to the bit.
 */
static void
taper(struct twt *t, size_t len, double nt)
{
	double	cr[4], ci[4], rr = cos(4 * M_PI / nt), ri = sin(4 * M_PI / nt);
	float	*w = t->w;
	size_t	j, k, ne, n;
	int	l;

	if (t->len == 0) {	/* fresh buffer (M floats) */
		for (j = 0; j < t->cap; j++)
			w[j] = 1.0f;
	} else {
		for (j = 0; j < t->ne; j++)
			w[j] = w[t->len - 1 - j] = 1.0f;
		for (j = t->len; j % 4; j++)
			w[j] = 1.0f;
	}
	/* the edge: j < len / 2 with j + 0.5 < nt; 4 rotations by 4 steps
	 * (4 dependency chains, not one: it was ~10 % of a segment), each
	 * from its own cos/sin */
	ne = nt > 0.5 ? (size_t)ceil(nt - 0.5) : 0;	/* then exactly: */
	while (ne > 0 && !((double)(ne - 1) + 0.5 < nt))
		ne--;
	while ((double)ne + 0.5 < nt)
		ne++;
	if (ne > len / 2)
		ne = len / 2;
	for (l = 0; l < 4; l++) {
		cr[l] = cos(M_PI * (l + 0.5) / nt);
		ci[l] = sin(M_PI * (l + 0.5) / nt);
	}
	for (j = 0; j < ne; j += 4) {
		n = ne - j < 4 ? ne - j : 4;
		for (l = 0; l < 4; l++) {
			double	x = cr[l] * rr - ci[l] * ri;

			if ((size_t)l < n)
				w[j + l] = w[len - 1 - j - l] =
				    (float)(0.5 * (1 - cr[l]));
			ci[l] = cr[l] * ri + ci[l] * rr;
			cr[l] = x;
		}
	}
	for (j = len; j % 4; j++)
		w[j] = 0;	/* w has M >= len rounded to 4 */
	t->len = len;
	t->nt = nt;
	t->ne = ne;
	t->sum = t->sum2 = 0;
	for (k = 0; k < len; k += 256) {
		v4f	a = { 0 }, b = { 0 };

		if (k >= ne && k + 256 + ne <= len) {
			t->sum += 256;
			t->sum2 += 256;
			continue;
		}
		for (j = k; j < k + 256 && j < len; j += 4) {
			v4f	w4 = LDA(w + j);

			a += w4;
			b += w4 * w4;
		}
		t->sum += hsum(a);
		t->sum2 += hsum(b);
	}
}

/*
 * The medians of MEDL blocks at once: v[e] holds sample e of each block
 * (one lane a block). Batcher's odd-even merge sort on 16 values (its
 * 63 comparators below), on vectors: the comparators do not depend on
 * the data, so there is no branch to mispredict (the selection's cost
 * before). Gives v[8], the element kth(., 16, 8) picks.
 */
static const unsigned char batcher16[63][2] = {
	{0, 1}, {2, 3}, {4, 5}, {6, 7}, {8, 9}, {10, 11}, {12, 13}, {14, 15},
	{0, 2}, {1, 3}, {4, 6}, {5, 7}, {8, 10}, {9, 11}, {12, 14}, {13, 15},
	{1, 2}, {5, 6}, {9, 10}, {13, 14}, {0, 4}, {1, 5}, {2, 6}, {3, 7},
	{8, 12}, {9, 13}, {10, 14}, {11, 15}, {2, 4}, {3, 5}, {10, 12},
	{11, 13}, {1, 2}, {3, 4}, {5, 6}, {9, 10}, {11, 12}, {13, 14}, {0, 8},
	{1, 9}, {2, 10}, {3, 11}, {4, 12}, {5, 13}, {6, 14}, {7, 15}, {4, 8},
	{5, 9}, {6, 10}, {7, 11}, {2, 4}, {3, 5}, {6, 8}, {7, 9}, {10, 12},
	{11, 13}, {1, 2}, {3, 4}, {5, 6}, {7, 8}, {9, 10}, {11, 12}, {13, 14}
};

static void
med16(v4f v[16][MEDL / 4])
{
	int	k, h;

	for (k = 0; k < 63; k++) {
		for (h = 0; h < MEDL / 4; h++) {
			v4f	x = v[batcher16[k][0]][h];
			v4f	y = v[batcher16[k][1]][h];
			v4i	lt = x < y;

			v[batcher16[k][0]][h] = (v4f)(((v4i)x & lt) |
			    ((v4i)y & ~lt));
			v[batcher16[k][1]][h] = (v4f)(((v4i)y & lt) |
			    ((v4i)x & ~lt));
		}
	}
}

/*
 * The tone notch of one spectrum (signed order; c->pw holds its powers).
 * A carrier (or DC offset) is a narrow, strong line: it carries no timing
 * information (its correlation is flat in lag) yet dominates |R| and
 * pulls the peak. A bin whose 3-bin smoothed power stands notch_db above
 * its neighbourhood is a tone; the neighbourhood is the largest median
 * of its 64-bin block and the two beside it, so that the inside edge of a
 * signal's band (loud next to quiet) is not taken for a tone. Tones are
 * zeroed with NOTCH_GUARD bins each side and a raised-cosine edge of
 * NOTCH_RAMP bins: a hard edge would ring in lag. The segments are
 * tapered (taper()), which keeps a carrier's leakage within a few bins.
 * The mask is a function of the distance to the nearest tone bin, so it
 * is built run by run of tone bins (tones are few: cost ~ M).
 */
static void
tone_mask(struct tdoa_ctx *c, struct spec *s, size_t m)
{
	size_t	 nb = (m + NOTCH_BLK - 1) / NOTCH_BLK, b, j, i, e, l, full;
	float	*pw = c->pw, *mk = s->mask, thr, ramp[NOTCH_RAMP];
	v4f	 v[16][MEDL / 4];
	float	 med[16];
	double	*bm = c->tmp;
	unsigned char *tone = c->tone;
	size_t	 ntone = 0;
	const v4f one = { 1, 1, 1, 1 }, sent = { -1, -1, -1, -1 };

	memset(s->ones, 1, nb);
	if (c->o.notch_db <= 0)
		return;
	/* block medians (c->tmp holds >= nb doubles: see tdoa_chunk) of
	 * every 4th bin: a median of 16 is as good a level */
	full = m / NOTCH_BLK;
	for (b = 0; b < full; b += MEDL) {
		for (l = 0; l < MEDL; l++)
			for (e = 0; e < 16; e++)
				v[e][l / 4][l % 4] = pw[(b + (b + l < full ?
				    l : 0)) * NOTCH_BLK + 4 * e];
		med16(v);
		for (l = 0; l < MEDL && b + l < full; l++)
			bm[b + l] = v[8][l / 4][l % 4];
	}
	if (full < nb) {	/* a partial last block (M = 96) */
		size_t	k = 0;

		for (j = full * NOTCH_BLK; j < m; j += 4)
			med[k++] = pw[j];
		bm[full] = kth(med, k, k / 2);
	}
	thr = (float)pow(10.0, c->o.notch_db / 10.0);
	/* tones: 3-bin mean above the neighbourhood * thr; a block with
	 * one gets its mask written, 1 elsewhere and -1 (a flag) there for
	 * now; the others are left as they are (see struct spec's ones) */
	for (b = 0; b < nb; b++) {
		double	ref = bm[b];
		float	t3;
		size_t	j1 = (b + 1) * NOTCH_BLK < m ? (b + 1) * NOTCH_BLK : m;
		v4i	any = { 0 }, fl[NOTCH_BLK / 4];

		if (b > 0 && bm[b - 1] > ref)
			ref = bm[b - 1];
		if (b + 1 < nb && bm[b + 1] > ref)
			ref = bm[b + 1];
		t3 = ref > 0 ? (float)(3 * ref * thr) : INFINITY;
		for (i = b * NOTCH_BLK, l = 0; i < j1; i += 4, l++) {
			v4f	p = LDA(pw + i), t = { t3, t3, t3, t3 };
			v4f	l3 = i > 0 ? LDU(pw + i - 1) :
			    (v4f){ 0, pw[0], pw[1], pw[2] };
			v4f	r = i + 4 < m ? LDU(pw + i + 1) :
			    (v4f){ pw[i + 1], pw[i + 2], pw[i + 3], 0 };

			fl[l] = p + l3 + r > t;
			any |= fl[l];
		}
		if (any[0] | any[1] | any[2] | any[3])
			for (i = b * NOTCH_BLK, l = 0; i < j1; i += 4, l++)
				STA(mk + i, (v4f)((fl[l] & (v4i)sent) |
				    (~fl[l] & (v4i)one)));
		tone[b] = (any[0] | any[1] | any[2] | any[3]) != 0;
		ntone += tone[b];
	}
	if (ntone == 0)
		return;
	/* the blocks within 2 of a tone's, all 1: a tone's guard and edge
	 * reach 1 block beyond its own (NOTCH_GUARD + NOTCH_RAMP < 64
	 * bins), and a pair's 64-bin window across such a block and the
	 * next reads both */
	for (b = 0; b < nb; b++) {
		size_t	b0 = b >= 2 ? b - 2 : 0, b1 = b + 2 < nb ? b + 2 : nb - 1;
		size_t	j1 = (b + 1) * NOTCH_BLK < m ? (b + 1) * NOTCH_BLK : m;

		if (tone[b])
			continue;
		for (j = b0; j <= b1 && !tone[j]; j++)
			;
		if (j <= b1)
			for (i = b * NOTCH_BLK; i < j1; i += 4)
				STA(mk + i, one);
	}
	for (j = 1; j < NOTCH_RAMP; j++)
		ramp[j] = (float)(0.5 * (1 - cos(M_PI * (double)j /
		    NOTCH_RAMP)));
	/* each run [i, e) of tone bins: 0 within the guard, the edge
	 * beyond, keeping the smallest weight where edges meet; runs to the
	 * right keep their flag until their turn (only the tones' blocks
	 * hold flags) */
	for (i = 0; i < m; i = e) {
		size_t	lo, hi, k0, k1;

		if (!tone[i / NOTCH_BLK]) {
			e = (i / NOTCH_BLK + 1) * NOTCH_BLK;
			continue;
		}
		if (mk[i] >= 0) {
			e = i + 1;
			continue;
		}
		for (e = i; e < m && mk[e] < 0; e++)
			mk[e] = 0.0f;
		lo = i > NOTCH_GUARD ? i - NOTCH_GUARD : 0;
		hi = e + NOTCH_GUARD < m ? e + NOTCH_GUARD : m;
		for (j = lo; j < i; j++)
			mk[j] = 0.0f;
		for (j = e; j < hi; j++)
			if (mk[j] > 0)
				mk[j] = 0.0f;
		for (j = 1; j < NOTCH_RAMP; j++) {
			if (lo >= j && ramp[j] < mk[lo - j])
				mk[lo - j] = ramp[j];
			if (hi + j - 1 < m && mk[hi + j - 1] >= 0 &&
			    ramp[j] < mk[hi + j - 1])
				mk[hi + j - 1] = ramp[j];
		}
		k0 = lo > NOTCH_RAMP ? (lo - NOTCH_RAMP) / NOTCH_BLK : 0;
		k1 = (hi + NOTCH_RAMP) / NOTCH_BLK;
		for (j = k0; j <= k1 && j < nb; j++)
			s->ones[j] = 0;
	}
}

/*
 * One term's FFT input from samples ka .. kb of a segment: dst[k - ka] =
 * w_k v_k^n x_k, v_k = (k - nlo) / M (the weight's powers made here, in
 * the pass that reads the samples: no array of them). The float v_k is
 * exact to the same bits whatever the grouping: (float)(k - nlo) is an
 * integer below 2^24. always_inline: n = 0 and 1 (the common cases)
 * compile to loops of their own.
 */
static inline __attribute__((always_inline)) void
fill(float *dst, const float *src, const float *tw, size_t ka, size_t kb,
    size_t nlo, int n, float im)
{
	const v4f k4 = { 0, 1, 2, 3 };
	size_t	k;
	int	e;

	for (k = ka; k + 4 <= kb; k += 4) {
		v4f	w4 = LDU(tw + k), x0 = LDU(src + 2 * k);
		v4f	x1 = LDU(src + 2 * k + 4);
		v4f	v = (k4 + (float)((long)k - (long)nlo)) * im;
		float	*d = dst + 2 * (k - ka);

		for (e = 0; e < n; e++)
			w4 *= v;
		STU(d, x0 * SHUF(w4, w4, 0, 0, 1, 1));
		STU(d + 4, x1 * SHUF(w4, w4, 2, 2, 3, 3));
	}
	for (; k < kb; k++) {
		float	wk = tw[k], v = (float)((long)k - (long)nlo) * im;

		for (e = 0; e < n; e++)
			wk *= v;
		dst[2 * (k - ka)] = wk * src[2 * k];
		dst[2 * (k - ka) + 1] = wk * src[2 * k + 1];
	}
}

/* fill's n = 1 and n = 0 at once: d1 gets w v x, d0 w x. */
static void
fill2(float *d1, float *d0, const float *src, const float *tw, size_t ka,
    size_t kb, size_t nlo, float im)
{
	const v4f k4 = { 0, 1, 2, 3 };
	size_t	k;

	for (k = ka; k + 4 <= kb; k += 4) {
		v4f	w4 = LDU(tw + k), x0 = LDU(src + 2 * k);
		v4f	x1 = LDU(src + 2 * k + 4);
		v4f	v = (k4 + (float)((long)k - (long)nlo)) * im;
		v4f	w1 = w4 * v;
		size_t	o = 2 * (k - ka);

		STU(d1 + o, x0 * SHUF(w1, w1, 0, 0, 1, 1));
		STU(d1 + o + 4, x1 * SHUF(w1, w1, 2, 2, 3, 3));
		STU(d0 + o, x0 * SHUF(w4, w4, 0, 0, 1, 1));
		STU(d0 + o + 4, x1 * SHUF(w4, w4, 2, 2, 3, 3));
	}
	for (; k < kb; k++) {
		float	wk = tw[k], v = (float)((long)k - (long)nlo) * im;
		float	w1 = wk * v;
		size_t	o = 2 * (k - ka);

		d1[o] = w1 * src[2 * k];
		d1[o + 1] = w1 * src[2 * k + 1];
		d0[o] = wk * src[2 * k];
		d0[o + 1] = wk * src[2 * k + 1];
	}
}

/*
 * segment's last step over bins i .. i + PB (signed order): F (+ the
 * last Horner step a0 s X if hor) turned by the anchor phasor (pr0,
 * pi0) times the table (tr, ti), into re, im and the power pw. The
 * Horner factor's lanes are s0 + {0, 1, 2, 3} a0 (the same float sums
 * as one at a time). always_inline: hor = 0 and 1 compile to loops of
 * their own.
 */
static inline __attribute__((always_inline)) void
spin(float *re, float *im, float *pw, const float *F, const float *X,
    const float *tr, const float *ti, v4f pr0, v4f pi0, size_t i, size_t h,
    float a0, int hor)
{
	const v4f a0v = { 0, a0, 2 * a0, 3 * a0 };
	size_t	j, q;

	for (j = 0; j < PB; j += 4) {
		size_t	ii = i + j;
		v4f	f0, f1, xr, xi, yr, yi, pr, pi, tr4, ti4;

		q = ii < h ? ii + h : ii - h;
		f0 = LDA(F + 2 * q);
		f1 = LDA(F + 2 * q + 4);
		xr = SHUF(f0, f1, 0, 2, 4, 6);
		xi = SHUF(f0, f1, 1, 3, 5, 7);
		if (hor) {
			float	s0 = (float)((long)ii - (long)h) * a0;
			v4f	aa = (v4f){ s0, s0, s0, s0 } + a0v;
			v4f	g0 = LDA(X + 2 * q);
			v4f	g1 = LDA(X + 2 * q + 4);

			xr += aa * SHUF(g0, g1, 1, 3, 5, 7);
			xi -= aa * SHUF(g0, g1, 0, 2, 4, 6);
		}
		tr4 = LDA(tr + j);
		ti4 = LDA(ti + j);
		pr = pr0 * tr4 - pi0 * ti4;
		pi = pr0 * ti4 + pi0 * tr4;
		yr = xr * pr - xi * pi;
		yi = xr * pi + xi * pr;
		STA(re + ii, yr);
		STA(im + ii, yi);
		STA(pw + ii, yr * yr + yi * yi);
	}
}

/*
 * The spectrum of one receiver's samples lying in [lo, hi] (s from
 * t_ref), on the common grid f_s = s fs / M (s the signed bin), in
 * absolute time:
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
	size_t	 k1, k2, len, kc, m = fr->m, h = fr->m / 2, q, i, nlo;
	int	 nterms = 0, n, e;
	float	*tw, *u = (float *)c->u;
	float	*F = (float *)c->f, *X = (float *)c->x;
	fftwf_plan fwd;

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
	nlo = kc - k1;		/* samples before kc: FFT slots m - nlo .. */
	theta = M_PI * fabs(d) * (double)len / 2;
	for (term = theta; term >= TERM_TOL && nterms < MAX_TERMS;
	    term *= theta / (nterms + 1))	/* theta^(n+1) / (n+1)! */
		nterms++;
	if ((fwd = get_plan(m, FFTW_FORWARD, c->u, c->f)) == NULL)
		return -1;
	/* the weights, once per length and edge (segments of one length
	 * and edge share theirs) */
	e = c->tw[0].len == len && c->tw[0].nt == nt ? 0 :
	    c->tw[1].len == len && c->tw[1].nt == nt ? 1 :
	    c->tw[0].len > len;		/* or replace the same kind */
	tw = c->tw[e].w;
	if (c->tw[e].len != len || c->tw[e].nt != nt)
		taper(&c->tw[e], len, nt);
	s->sw = c->tw[e].sum;
	s->sw2 = c->tw[e].sum2;
	/* one term (the usual case: theta < ~0.14): both inputs from one
	 * pass over the samples, term 1 into u and term 0 into f, then
	 * f's transform into u (out of place as planned; the arrays are
	 * aligned alike), so F is u's */
	if (nterms == 1) {
		const float *src = in->iq + 2 * k1;
		float	 im = (float)(1.0 / (double)m), *f = (float *)c->f;

		memset(u + 2 * (len - nlo), 0, 2 * (m - len) * sizeof *u);
		memset(f + 2 * (len - nlo), 0, 2 * (m - len) * sizeof *f);
		fill2(u + 2 * (m - nlo), f + 2 * (m - nlo), src, tw, 0, nlo,
		    nlo, im);
		fill2(u, f, src, tw, nlo, len, nlo, im);
		fftwf_execute_dft(fwd, c->u, c->x);
		fftwf_execute_dft(fwd, c->f, c->u);
		F = u;
	}
	for (n = nterms; n >= 0 && nterms != 1; n--) {
		const float *src = in->iq + 2 * k1;
		float	 im = (float)(1.0 / (double)m);

		/* the FFT slots between the segment's end and its start: 0,
		 * for every term (FFTW_DESTROY_INPUT lets a plan overwrite
		 * them) */
		memset(u + 2 * (len - nlo), 0, 2 * (m - len) * sizeof *u);

		/* u[j] = w v^n x, v = (k - kc) / M, sample kc at slot 0:
		 * k >= kc to slots 0.., k < kc to slots m - nlo .. m - 1 */
		for (e = 0; e < 2; e++) {
			size_t	ka = e ? nlo : 0, kb = e ? len : nlo;
			/* the slot of sample ka (0 for kc, m - nlo for the
			 * first) */
			float	*dst = e ? u : u + 2 * (m - nlo);

			if (n == 0)
				fill(dst, src, tw, ka, kb, nlo, 0, im);
			else if (n == 1)
				fill(dst, src, tw, ka, kb, nlo, 1, im);
			else
				fill(dst, src, tw, ka, kb, nlo, n, im);
		}
		if (n == nterms && n > 0) {
			fftwf_execute_dft(fwd, c->u, c->x);
			continue;
		}
		fftwf_execute_dft(fwd, c->u, c->f);
		if (n == 0)
			break;
		/* Horner: X = F_n + (-j2pi s d / (n+1)) X, s the signed
		 * bin; -j a (xr + j xi) = a xi - j a xr */
		{
			float	a0 = (float)(2 * M_PI * d / (n + 1));

			for (q = 0; q < m; q += 2) {
				float	a1 = a0 * (float)(q < h ? (long)q :
				    (long)q - (long)m);
				v4f	aa = { a1, a1, a1 + a0, a1 + a0 };
				v4f	xx = LDA(X + 2 * q), ff = LDA(F + 2 * q);
				v4f	sg = { 1, -1, 1, -1 };

				STA(X + 2 * q, ff + aa * sg *
				    SHUF(xx, xx, 1, 0, 3, 2));
			}
		}
	}
	/*
	 * The last Horner step (if any), into signed order and split form,
	 * and into absolute time: times exp(-j 2 pi f_s tc), tc = time of
	 * kc. The phasor is an anchor per PB bins (a recurrence in double,
	 * error ~1e-13 over M) times a table of PB float phasors.
	 */
	{
		double	tc = t0 + (double)kc / rate, df = fr->fs / (double)m;
		double	ph = -2 * M_PI * df * tc, ar, ai, sr, si, t;
		float	tr[PB] __attribute__((aligned(16)));
		float	ti[PB] __attribute__((aligned(16)));
		float	a0 = (float)(2 * M_PI * d);
		int	hor = nterms > 0;

		for (i = 0; i < PB; i++) {
			tr[i] = (float)cos(ph * (double)i);
			ti[i] = (float)sin(ph * (double)i);
		}
		ar = cos(ph * -(double)h);
		ai = sin(ph * -(double)h);
		sr = cos(ph * PB);
		si = sin(ph * PB);
		for (i = 0; i < m; i += PB) {
			v4f	pr0 = { (float)ar, (float)ar, (float)ar,
				    (float)ar };
			v4f	pi0 = { (float)ai, (float)ai, (float)ai,
				    (float)ai };

			if (hor)
				spin(s->re, s->im, c->pw, F, X, tr, ti, pr0, pi0,
				    i, h, a0, 1);
			else
				spin(s->re, s->im, c->pw, F, X, tr, ti, pr0, pi0,
				    i, h, a0, 0);
			t = ar * sr - ai * si;
			ai = ar * si + ai * sr;
			ar = t;
		}
	}
	s->rate = rate;
	s->bp_nb = -1;
	tone_mask(c, s, m);
	return 0;
}

/*
 * R(d), R'(d), R''(d) of sums v[0..n) (interleaved re, im), element i at
 * angular frequency (i + x0) * w:  R(d) = sum v_i exp(j (i + x0) w d).
 * Double, real arithmetic; the phasor runs by recurrence in 4 interleaved
 * lanes (4 independent dependency chains the compiler may put in vector
 * registers; the recurrence's error stays ~1e-12).
 */
static void
rsums(const double *v, long n, double x0, double w, double d, double r[6])
{
	/* lanes 0, 1 in the first of each pair of vectors, 2, 3 in the
	 * second: locals, so they stay in registers (as arrays they were
	 * loaded and stored every step); per lane the same operations */
	v2d	zr[2], zi[2], f[2], w4r, w4i, w4, t;
	v2d	a0r[2] = { { 0 } }, a0i[2] = { { 0 } }, a1r[2] = { { 0 } };
	v2d	a1i[2] = { { 0 } }, a2r[2] = { { 0 } }, a2i[2] = { { 0 } };
	double	s[6][4];
	long	i = 0;
	int	j, h;

	for (j = 0; j < 4; j++) {
		zr[j / 2][j % 2] = cos(w * ((double)j + x0) * d);
		zi[j / 2][j % 2] = sin(w * ((double)j + x0) * d);
		f[j / 2][j % 2] = w * ((double)j + x0);
	}
	w4r = (v2d){ cos(4 * w * d), cos(4 * w * d) };
	w4i = (v2d){ sin(4 * w * d), sin(4 * w * d) };
	w4 = (v2d){ 4 * w, 4 * w };
	for (; i + 4 <= n; i += 4) {
		for (h = 0; h < 2; h++) {
			v2d	x0v = LDV2(v + 2 * (i + 2 * h));
			v2d	x1v = LDV2(v + 2 * (i + 2 * h) + 2);
			v2d	gr = SHUF(x0v, x1v, 0, 2);
			v2d	gi = SHUF(x0v, x1v, 1, 3);
			v2d	pr = gr * zr[h] - gi * zi[h];
			v2d	pi = gr * zi[h] + gi * zr[h];

			a0r[h] += pr;
			a0i[h] += pi;
			a1r[h] += f[h] * pr;
			a1i[h] += f[h] * pi;
			a2r[h] += f[h] * f[h] * pr;
			a2i[h] += f[h] * f[h] * pi;
			t = zr[h] * w4r - zi[h] * w4i;
			zi[h] = zr[h] * w4i + zi[h] * w4r;
			zr[h] = t;
			f[h] += w4;
		}
	}
	for (j = 0; j < 4; j++) {
		s[0][j] = a0r[j / 2][j % 2];
		s[1][j] = a0i[j / 2][j % 2];
		s[2][j] = a1r[j / 2][j % 2];
		s[3][j] = a1i[j / 2][j % 2];
		s[4][j] = a2r[j / 2][j % 2];
		s[5][j] = a2i[j / 2][j % 2];
	}
	for (j = 0; i + j < n; j++) {
		double	gr = v[2 * (i + j)], gi = v[2 * (i + j) + 1];
		double	zrj = zr[j / 2][j % 2], zij = zi[j / 2][j % 2];
		double	fj = f[j / 2][j % 2];
		double	pr = gr * zrj - gi * zij;
		double	pi = gr * zij + gi * zrj;

		s[0][j] += pr;
		s[1][j] += pi;
		s[2][j] += fj * pr;
		s[3][j] += fj * pi;
		s[4][j] += fj * fj * pr;
		s[5][j] += fj * fj * pi;
	}
	for (h = 0; h < 6; h++)
		for (j = 1; j < 4; j++)
			s[h][0] += s[h][j];
	/* R' = j sum f v z, R'' = -sum f^2 v z */
	r[0] = s[0][0];
	r[1] = s[1][0];
	r[2] = -s[3][0];
	r[3] = s[2][0];
	r[4] = -s[4][0];
	r[5] = -s[5][0];
}

/*
 * Bins i0 + [i, e) of a pair (one coherence block): G = W A B* and H =
 * W A Bshort* into c->gr.. (band index), and the block's |A|^2,
 * |Bshort|^2 and moments of W (x = i - ic) into o[5]. W is the product
 * of the masks that ma (sh's) and mb (lg's) say to read; a mask that is
 * all 1 over the block is not read (see struct spec): W = 1 without
 * either (the common case: two of eight streams less). 1 times a weight
 * is that weight, so leaving one out changes no bit.
 */
static inline __attribute__((always_inline)) void
cross_block(struct tdoa_ctx *c, const struct spec *sh, const struct spec *lg,
    const struct spec *sb, long i0, long i, long e, long ic, int ma, int mb,
    double o[5])
{
	v4f	spa = { 0 }, spb = { 0 }, s0 = { 0 }, s1 = { 0 };
	v4f	s2 = { 0 }, wq = { 1, 1, 1, 1 };
	int	unit = !ma && !mb;

	for (; i < e; i += 4) {
		long	I = i0 + i;
		v4f	ar = LDU(sh->re + I), ai = LDU(sh->im + I);
		v4f	br = LDU(lg->re + I), bm = LDU(lg->im + I);
		v4f	cr = LDU(sb->re + I), ci = LDU(sb->im + I);
		v4f	war, wai;
		float	x = (float)(i - ic);
		v4f	xv = { x, x + 1, x + 2, x + 3 };

		if (ma && mb)
			wq = LDU(sh->mask + I) * LDU(lg->mask + I);
		else if (ma)
			wq = LDU(sh->mask + I);
		else if (mb)
			wq = LDU(lg->mask + I);
		war = unit ? ar : wq * ar;
		wai = unit ? ai : wq * ai;
		STA(c->gr + i, war * br + wai * bm);
		STA(c->gi + i, wai * br - war * bm);
		STA(c->hr + i, war * cr + wai * ci);
		STA(c->hi + i, wai * cr - war * ci);
		if (unit)	/* the sums: unit_sums' */
			continue;
		spa += war * ar + wai * ai;
		spb += wq * (cr * cr + ci * ci);
		s0 += wq;
		s1 += wq * xv;
		s2 += wq * xv * xv;
	}
	o[0] = hsum(spa);
	o[1] = hsum(spb);
	o[2] = hsum(s0);
	o[3] = hsum(s1);
	o[4] = hsum(s2);
}

/*
 * The sums cross_block makes where W = 1, which do not depend on the
 * pair: a spectrum's |X|^2 per block of a band (s->bp: a receiver's
 * short segment serves up to `partners` pairs as A, a best one's as
 * Bshort for all of its pairs), and the moments of W = 1 per block
 * (c->mom: the same for every pair of a band of nb bins). Made once,
 * by the same float operations as cross_block's (1 times x is x): the
 * same bits.
 */
static const double *
unit_pow(struct spec *s, long i0, long nb)
{
	long	bi, i, nblk = (nb + BLK - 1) / BLK;

	if (s->bp_nb == nb && s->bp_i0 == i0)
		return s->bp;
	for (bi = 0; bi < nblk; bi++) {
		long	e = (bi + 1) * BLK < nb ? (bi + 1) * BLK : nb;
		v4f	sp = { 0 };

		for (i = bi * BLK; i < e; i += 4) {
			v4f	ar = LDU(s->re + i0 + i), ai = LDU(s->im + i0 + i);

			sp += ar * ar + ai * ai;
		}
		s->bp[bi] = hsum(sp);
	}
	s->bp_i0 = i0;
	s->bp_nb = nb;
	return s->bp;
}

static const double *
unit_moments(struct tdoa_ctx *c, long nb, long ic)
{
	long	bi, i, nblk = (nb + BLK - 1) / BLK;
	const v4f wq = { 1, 1, 1, 1 };

	if (c->mom_nb == nb)	/* ic = nb / 2 */
		return c->mom;
	for (bi = 0; bi < nblk; bi++) {
		long	e = (bi + 1) * BLK < nb ? (bi + 1) * BLK : nb;
		v4f	s0 = { 0 }, s1 = { 0 }, s2 = { 0 };

		for (i = bi * BLK; i < e; i += 4) {
			float	x = (float)(i - ic);
			v4f	xv = { x, x + 1, x + 2, x + 3 };

			s0 += wq;
			s1 += wq * xv;
			s2 += wq * xv * xv;
		}
		c->mom[3 * bi] = hsum(s0);
		c->mom[3 * bi + 1] = hsum(s1);
		c->mom[3 * bi + 2] = hsum(s2);
	}
	c->mom_nb = nb;
	return c->mom;
}

/*
 * One pair: sh (receiver a, the short segment) against lg (receiver b,
 * extended by fr->ext each side); sb is b's short segment (same span as
 * a's), for the coherence. tau = arrival at a minus arrival at b.
 * Returns 0 with *p filled (but a, b), -1 if they share no band.
 */
static int
correlate(struct tdoa_ctx *c, const struct frame *fr,
    const struct tdoa_input *ia, struct spec *sh,
    const struct tdoa_input *ib, const struct spec *lg,
    struct spec *sb, struct tdoa_pair *p)
{
	size_t	 m = fr->m, q, mf = fr->mf, pf = fr->p;
	double	 df = fr->fs / (double)m, w = 2 * M_PI * df, blo, bhi;
	double	 tau0, d = 0, step, r[6];
	long	 mlo, mhi, l, l0 = 0, ls = fr->ls, nblk, bi, nb, ic, i, nsb;
	long	 b, excl, i0;
	double	*pa = c->blk, *pb, *w0, *w1, *w2, best = -1, side = 0;
	double	 teff, info = 0, fbar, pat = 0, pbt = 0, totr = 0, toti = 0;
	double	*gs = c->gb, *hs = c->hb;
	const double *upa, *upb, *um;
	float	*gr = c->gr, *gi = c->gi, *hr = c->hr, *hi = c->hi;
	float	*U = (float *)c->u, *Rc = (float *)c->f;
	fftwf_plan bwd;
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
	i0 = mlo + (long)(m / 2);	/* the band's first bin in the arrays */
	pb = pa + nblk;
	w0 = pb + nblk;
	w1 = w0 + nblk;
	w2 = w1 + nblk;
	upa = unit_pow(sh, i0, nb);
	upb = unit_pow(sb, i0, nb);
	um = unit_moments(c, nb, ic);
	/* G = W A B* and H = W A Bshort* over the band, W = both notches;
	 * per BLK block: |A|^2, |Bshort|^2 and the moments of W for sigma
	 * (float sums over a block, double across) */
	for (bi = 0; bi < nblk; bi++) {
		long	e = (bi + 1) * BLK < nb ? (bi + 1) * BLK : nb;
		size_t	k0 = (size_t)(i0 + bi * BLK) / NOTCH_BLK;
		size_t	k1 = (size_t)(i0 + e - 1) / NOTCH_BLK;
		int	ma = !sh->ones[k0] || !sh->ones[k1];
		int	mb = !lg->ones[k0] || !lg->ones[k1];
		double	o[5];

		if (!ma && !mb)
			cross_block(c, sh, lg, sb, i0, bi * BLK, e, ic, 0, 0, o);
		else if (ma && mb)
			cross_block(c, sh, lg, sb, i0, bi * BLK, e, ic, 1, 1, o);
		else if (ma)
			cross_block(c, sh, lg, sb, i0, bi * BLK, e, ic, 1, 0, o);
		else
			cross_block(c, sh, lg, sb, i0, bi * BLK, e, ic, 0, 1, o);
		if (!ma && !mb) {
			pa[bi] = upa[bi];
			pb[bi] = upb[bi];
			w0[bi] = um[3 * bi];
			w1[bi] = um[3 * bi + 1];
			w2[bi] = um[3 * bi + 2];
			continue;
		}
		pa[bi] = o[0];
		pb[bi] = o[1];
		w0[bi] = o[2];
		w1[bi] = o[3];
		w2[bi] = o[4];
	}
	/*
	 * Integer peak within +-lag from a coarse correlation: G summed over
	 * runs of p bins (from the band's start) is an mf = M / p point
	 * spectrum whose inverse FFT is R at whole-sample lags over mf
	 * samples, attenuated by |C0(l)| = |sin(pi p l / M) / (p sin(pi l /
	 * M))| (the phase across a run is dropped; C0 >= 0.97 within the
	 * window, undone by fr's table) and with R(l +- mf) leaking in by
	 * at most 1 - C0^2 (<= 5 % of the power): mf >= 8 lags searched
	 * (see tdoa_chunk). The run's common phase exp(j 2pi mlo l / M)
	 * does not change |R|. 20 ms of lag over 1 s at 12 kS/s: 3072
	 * points instead of 12288; 2 ms: 384. (p = 1: the exact R.)
	 */
	memset(U, 0, 2 * mf * sizeof *U);
	for (i = 0, q = 0; i < nb; i += (long)pf, q = q + 1 == mf ? 0 : q + 1) {
		long	e = i + (long)pf < nb ? i + (long)pf : nb, k;
		size_t	t = q;		/* (i / p) mod mf */
		float	sr = 0, si = 0;

		if (pf % 4 == 0 && e - i == (long)pf) {
			v4f	vr = { 0 }, vi = { 0 };

			for (k = i; k < e; k += 4) {
				vr += LDA(gr + k);
				vi += LDA(gi + k);
			}
			sr = hsum(vr);
			si = hsum(vi);
		} else {
			for (k = i; k < e; k++) {
				sr += gr[k];
				si += gi[k];
			}
		}
		U[2 * t] += sr;
		U[2 * t + 1] += si;
	}
	if ((bwd = get_plan(mf, FFTW_BACKWARD, c->u, c->f)) == NULL)
		return -1;
	fftwf_execute_dft(bwd, c->u, c->f);
	/* then the highest side-lobe beyond the main lobe: 2 / bandwidth
	 * each side (+-3 samples for 10 kHz at 12 kS/s, +-25 for 1 kHz) */
	excl = (long)ceil(2 * fr->fs / (bhi - blo)) + 1;
	for (l = -ls; l <= ls; l++) {
		double	v;

		q = (size_t)((l + (long)mf) % (long)mf);
		v = (Rc[2 * q] * Rc[2 * q] + Rc[2 * q + 1] * Rc[2 * q + 1]) *
		    c->att[labs(l)];
		if (v > best) {
			best = v;
			l0 = l;
		}
	}
	for (l = -ls; l <= ls; l++) {
		double	v;

		q = (size_t)((l + (long)mf) % (long)mf);
		v = (Rc[2 * q] * Rc[2 * q] + Rc[2 * q + 1] * Rc[2 * q + 1]) *
		    c->att[labs(l)];
		if (labs(l - l0) > excl && v > side)
			side = v;
	}
	p->quality = side > 0 ? sqrt(best / side) : 0;

	/* A start: a parabola through |R| around the integer peak (only a
	 * start: as an estimate it is biased by a fraction of a sample). */
	{
		double	ym, y0, yp, den, dd = 0;

		y0 = sqrt(best);
		q = (size_t)((l0 - 1 + (long)mf) % (long)mf);
		ym = hypot(Rc[2 * q], Rc[2 * q + 1]) * sqrt(c->att[labs(l0 -
		    1)]);
		q = (size_t)((l0 + 1 + (long)mf) % (long)mf);
		yp = hypot(Rc[2 * q], Rc[2 * q + 1]) * sqrt(c->att[labs(l0 +
		    1)]);
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
	 * by Newton steps. To make each step cheap, G (and H = A Bshort*,
	 * for the coherence) are turned to tau0 once and summed over
	 * sub-blocks of SB bins; a sub-block then turns as one at its centre
	 * frequency: R(tau0 + d) = sum_s S_s exp(j w c_s d). The phase this
	 * neglects, w (f - c_s) d, is below 2pi 1 Hz 3.5 bins 0.5 sample =
	 * 1e-3 rad and symmetric about the centre: its effect on tau is of
	 * second order (< 0.01 ns). Frequencies are counted from the band's
	 * middle (ic): |R| does not change, the sums are better
	 * conditioned. The turn of bin s SB + j is exp(j w (s SB - ic)
	 * tau0) (a double recurrence per sub-block) times exp(j w j tau0)
	 * (SB floats): the SB-bin sums are float vector work.
	 */
	{
		double	zr, zi, wr, wi, t;
		float	tr[SB] __attribute__((aligned(16)));
		float	ti[SB] __attribute__((aligned(16)));
		v4f	tr0, tr1, ti0, ti1;
		int	j;

		for (j = 0; j < SB; j++) {
			tr[j] = (float)cos(w * j * tau0);
			ti[j] = (float)sin(w * j * tau0);
		}
		tr0 = LDA(tr);
		tr1 = LDA(tr + 4);
		ti0 = LDA(ti);
		ti1 = LDA(ti + 4);
		zr = cos(-w * (double)ic * tau0);
		zi = sin(-w * (double)ic * tau0);
		wr = cos(w * SB * tau0);
		wi = sin(w * SB * tau0);
		for (b = 0; b < nsb; b++) {
			long	k = b * SB;
			v4f	a0 = LDA(gr + k), a1 = LDA(gr + k + 4);
			v4f	c0 = LDA(gi + k), c1 = LDA(gi + k + 4);
			v4f	e0 = LDA(hr + k), e1 = LDA(hr + k + 4);
			v4f	f0 = LDA(hi + k), f1 = LDA(hi + k + 4);
			v4f	s4 = hsum4(a0 * tr0 - c0 * ti0 + a1 * tr1 -
			    c1 * ti1, a0 * ti0 + c0 * tr0 + a1 * ti1 +
			    c1 * tr1, e0 * tr0 - f0 * ti0 + e1 * tr1 -
			    f1 * ti1, e0 * ti0 + f0 * tr0 + e1 * ti1 +
			    f1 * tr1);
			double	sgr = s4[0], sgi = s4[1], shr = s4[2];
			double	shi = s4[3];

			gs[2 * b] = sgr * zr - sgi * zi;
			gs[2 * b + 1] = sgr * zi + sgi * zr;
			hs[2 * b] = shr * zr - shi * zi;
			hs[2 * b + 1] = shr * zi + shi * zr;
			t = zr * wr - zi * wi;
			zi = zr * wi + zi * wr;
			zr = t;
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
			/* quadratic convergence: after a step of 1e-3
			 * sample the error left is ~1e-6 sample (0.1 ns
			 * at 12 kS/s) */
			if (fabs(step) < 1e-3 / fr->fs)
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

/* The first of x[0..n) that is not finite, or n: x * 0 is NaN for an
 * infinity or a NaN, so one vector sum finds whether to look. */
static size_t
first_nonfinite(const float *x, size_t n)
{
	v4f	acc = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 };
	size_t	k;

	/* four sums: one would be a chain of n / 4 dependent adds */
	for (k = 0; k + 16 <= n; k += 16) {
		acc += LDU(x + k) * 0.0f;
		a1 += LDU(x + k + 4) * 0.0f;
		a2 += LDU(x + k + 8) * 0.0f;
		a3 += LDU(x + k + 12) * 0.0f;
	}
	for (; k + 4 <= n; k += 4)
		acc += LDU(x + k) * 0.0f;
	for (; k < n; k++)
		acc[0] += x[k] * 0.0f;
	if (hsum(acc + a1 + a2 + a3) == 0)
		return n;
	for (k = 0; k < n; k++)
		if (!isfinite(x[k]))
			break;
	return k;
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

/* tdoa_chunk, or with prepare only its steps 1-4 and the plans step 5
 * would use (tdoa_prepare): one place for the frame both follow. */
static int
chunk(struct tdoa_ctx *c, const struct tdoa_input *in, int n,
    struct tdoa_pair *out, int max, int *nout, int prepare)
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
	if (!prepare && max < tdoa_max_pairs(c, n)) {
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
		k2 = first_nonfinite(in[i].iq, 2 * in[i].n);
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
	/* the coarse correlation (see correlate): p bins summed while its
	 * size M / p stays >= 8 lags searched + 64, and 1 / C0(l)^2 */
	fr.ls = (long)floor(fr.lag * fr.fs);
	if (fr.ls > (long)fr.m / 2 - 2)
		fr.ls = (long)fr.m / 2 - 2;
	fr.p = 1;
	while (fr.m % (2 * fr.p) == 0 && fr.m / (2 * fr.p) >=
	    8 * (size_t)fr.ls + 64)
		fr.p *= 2;
	fr.mf = fr.m / fr.p;
	c->att[0] = 1;
	for (i = 1; i <= fr.ls + 1; i++) {	/* + 1: the parabola's */
		double	x = M_PI * (double)i / (double)fr.m;
		double	c0 = sin((double)fr.p * x) / ((double)fr.p * sin(x));

		c->att[i] = (float)(1 / (c0 * c0));
	}
	if (prepare) {
		/* the plans segment and correlate take (their arrays: the
		 * context's own, as then) */
		if (get_plan(fr.m, FFTW_FORWARD, c->u, c->f) == NULL ||
		    get_plan(fr.mf, FFTW_BACKWARD, c->u, c->f) == NULL) {
			snprintf(c->err, sizeof c->err, "tdoa_chunk: no FFT "
			    "plan");
			free(bands);
			return -1;
		}
		goto done;
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

int
tdoa_chunk(struct tdoa_ctx *c, const struct tdoa_input *in, int n,
    struct tdoa_pair *out, int max, int *nout)
{
	return chunk(c, in, n, out, max, nout, 0);
}

int
tdoa_prepare(struct tdoa_ctx *c, const struct tdoa_input *in, int n)
{
	int	np;

	return chunk(c, in, n, NULL, 0, &np, 1);
}
