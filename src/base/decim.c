/* decim.c -- Kaiser-windowed FIR decimation (one or two stages), polyphase: only output samples are computed. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/decim.h"

#define DECIM_BLK	4096	/* input samples converted per pass */
#define DECIM_MAXTAPS	65536	/* per stage: a spec needing more is refused */

typedef float v4sf __attribute__((vector_size(16)));

struct stage {
	int	 D;
	size_t	 nt;		/* taps, a multiple of 4 */
	float	*tr, *ti;	/* reversed taps; ti NULL: real taps */
	float	*xi, *xq;	/* history + the block being filtered */
	size_t	 cap, len, pos;	/* pos: newest input of the next output */
	double	 rot_re, rot_im;	/* output rotator (shifted stage) */
	double	 step_re, step_im;
	unsigned nrot;
};

struct decim {
	struct stage	 st[2];
	int		 ns;
	int		 factor;
	double		 fs_in, fs_out;
	float		*bi, *bq;	/* converted input block */
	float		*mi, *mq;	/* between the stages */
	float		*oi, *oq;	/* last stage's output */
};

static double
bessel_i0(double x)
{
	double	sum = 1, term = 1, q = x * x / 4;
	int	k;

	for (k = 1; k < 200; k++) {
		term *= q / ((double)k * k);
		sum += term;
		if (term < sum * 1e-17)
			break;
	}
	return sum;
}

static double
kaiser_beta(double a)
{
	if (a > 50)
		return 0.1102 * (a - 8.7);
	if (a > 21)
		return 0.5842 * pow(a - 21, 0.4) + 0.07886 * (a - 21);
	return 0;
}

/* Kaiser's estimate of the length for attenuation a and transition df. */
static size_t
kaiser_len(double a, double df, double fs)
{
	double	n = ceil((a - 7.95) / (14.36 * df / fs)) + 1;
	size_t	nt;

	if (!(n < DECIM_MAXTAPS))
		return DECIM_MAXTAPS + 1;
	nt = n < 3 ? 3 : (size_t)n;
	return nt | 1;		/* odd: symmetric about a whole sample */
}

void
decim_design(double *h, size_t ntaps, double fc_hz, double fs, double beta)
{
	double	 m = (double)(ntaps - 1) / 2, wc = 2 * fc_hz / fs, sum = 0;
	double	 i0b = bessel_i0(beta), x, r;
	size_t	 k;

	for (k = 0; k < ntaps; k++) {
		x = (double)k - m;
		h[k] = x == 0 ? wc : sin(M_PI * wc * x) / (M_PI * x);
		r = m > 0 ? x / m : 0;
		h[k] *= bessel_i0(beta * sqrt(fmax(0, 1 - r * r))) / i0b;
		sum += h[k];
	}
	for (k = 0; k < ntaps; k++)
		h[k] /= sum;	/* unit gain at DC */
}

static void
stage_free(struct stage *s)
{
	free(s->tr);
	free(s->ti);
	free(s->xi);
	free(s->xq);
	memset(s, 0, sizeof *s);
}

static void
stage_reset(struct stage *s)
{
	/* A zero history: the first output comes with the first input. */
	memset(s->xi, 0, s->cap * sizeof *s->xi);
	memset(s->xq, 0, s->cap * sizeof *s->xq);
	s->len = s->nt - 1;
	s->pos = s->nt - 1;
	s->rot_re = 1;
	s->rot_im = 0;
	s->nrot = 0;
}

/*
 * One stage at input rate fs: pass..stop transition, factor D, shift w
 * (rad/sample, 0 for none). Mixing by e^{-jwn} before the filter equals
 * filtering with taps h[k] e^{jwk} and rotating each output by e^{-jwmD}:
 * the shift costs 4 instead of 2 multiply-adds per tap, never a per-input
 * complex multiply.
 */
static int
stage_init(struct stage *s, double fs, int D, double pass, double stop,
    double atten, double w)
{
	size_t	 n = kaiser_len(atten, stop - pass, fs), k;
	double	*h;

	memset(s, 0, sizeof *s);
	if (n > DECIM_MAXTAPS)
		return -1;
	s->D = D;
	s->nt = (n + 3) & ~(size_t)3;
	s->cap = s->nt - 1 + DECIM_BLK;
	h = calloc(s->nt, sizeof *h);
	s->tr = aligned_alloc(16, s->nt * sizeof *s->tr);
	s->ti = w != 0 ? aligned_alloc(16, s->nt * sizeof *s->ti) : NULL;
	s->xi = malloc(s->cap * sizeof *s->xi);
	s->xq = malloc(s->cap * sizeof *s->xq);
	if (h == NULL || s->tr == NULL || (w != 0 && s->ti == NULL) ||
	    s->xi == NULL || s->xq == NULL) {
		free(h);
		stage_free(s);
		return -1;
	}
	decim_design(h, n, (pass + stop) / 2, fs, kaiser_beta(atten));
	/* The padding taps (k >= n) are zero; reversed so that the newest
	 * sample meets h[0]. */
	for (k = 0; k < s->nt; k++) {
		size_t j = s->nt - 1 - k;
		s->tr[j] = (float)(h[k] * cos(w * (double)k));
		if (s->ti != NULL)
			s->ti[j] = (float)(h[k] * sin(w * (double)k));
	}
	free(h);
	s->step_re = cos(-w * D);
	s->step_im = sin(-w * D);
	stage_reset(s);
	return 0;
}

static inline v4sf
load4(const float *p)
{
	v4sf	v;

	memcpy(&v, p, sizeof v);
	return v;
}

static inline float
hsum(v4sf v)
{
	return (v[0] + v[1]) + (v[2] + v[3]);
}

/* Filter the buffered input; outputs appended at oi/oq. */
static size_t
stage_drain(struct stage *s, float *oi, float *oq)
{
	size_t	 no = 0, start, k, nt = s->nt;

	while (s->pos < s->len) {
		const float *xi = s->xi + s->pos + 1 - nt;
		const float *xq = s->xq + s->pos + 1 - nt;
		v4sf a = { 0, 0, 0, 0 }, b = a, c = a, d = a;
		float yr, yi;

		if (s->ti == NULL) {
			for (k = 0; k < nt; k += 4) {
				v4sf t = load4(s->tr + k);
				a += t * load4(xi + k);
				b += t * load4(xq + k);
			}
			yr = hsum(a);
			yi = hsum(b);
		} else {
			for (k = 0; k < nt; k += 4) {
				v4sf tr = load4(s->tr + k), ti = load4(s->ti + k);
				v4sf x = load4(xi + k), y = load4(xq + k);
				a += tr * x;
				b += ti * y;
				c += tr * y;
				d += ti * x;
			}
			/* (tr + j ti)(x + j y) */
			double re = (double)hsum(a) - hsum(b);
			double im = (double)hsum(c) + hsum(d);
			double r2;
			yr = (float)(re * s->rot_re - im * s->rot_im);
			yi = (float)(re * s->rot_im + im * s->rot_re);
			r2 = s->rot_re * s->step_re - s->rot_im * s->step_im;
			s->rot_im = s->rot_re * s->step_im +
			    s->rot_im * s->step_re;
			s->rot_re = r2;
			if (++s->nrot % 1024 == 0) {
				/* keep |rot| = 1 against rounding drift */
				double m = hypot(s->rot_re, s->rot_im);
				s->rot_re /= m;
				s->rot_im /= m;
			}
		}
		oi[no] = yr;
		oq[no] = yi;
		no++;
		s->pos += (size_t)s->D;
	}
	/* Keep the nt - 1 samples the next output still needs. */
	start = s->pos + 1 - nt;
	if (start > s->len)
		start = s->len;	/* D > nt: some inputs are never needed */
	memmove(s->xi, s->xi + start, (s->len - start) * sizeof *s->xi);
	memmove(s->xq, s->xq + start, (s->len - start) * sizeof *s->xq);
	s->len -= start;
	s->pos -= start;
	return no;
}

/* Feed n samples (n <= DECIM_BLK) through stage s. */
static size_t
stage_run(struct stage *s, const float *ii, const float *iq, size_t n,
    float *oi, float *oq)
{
	memcpy(s->xi + s->len, ii, n * sizeof *ii);
	memcpy(s->xq + s->len, iq, n * sizeof *iq);
	s->len += n;
	return stage_drain(s, oi, oq);
}

static double
est_cost(double fs, int d1, int d2, double pass, double stop, double atten,
    int shifted)
{
	double	c1, c2 = 0, f1 = fs / d1;

	if (d2 == 1)
		return (double)kaiser_len(atten, stop - pass, fs) *
		    (shifted ? 4 : 2) / d1;
	c1 = (double)kaiser_len(atten, f1 - pass - pass, fs) *
	    (shifted ? 4 : 2) / d1;
	c2 = (double)kaiser_len(atten, stop - pass, f1) * 2 / ((double)d1 * d2);
	return c1 + c2;
}

struct decim *
decim_new(const struct decim_spec *sp, char *err, size_t errlen)
{
	struct decim	*d;
	double		 fs_out, stop, atten, w, best;
	int		 D = sp->factor, d1, bd1 = D;

	if (!(sp->fs_in > 0) || D < 1 || D > 100000) {
		snprintf(err, errlen, "decimator: bad input rate or factor");
		return NULL;
	}
	fs_out = sp->fs_in / D;
	stop = sp->stop_hz > 0 ? sp->stop_hz : fs_out - sp->pass_hz;
	atten = sp->atten_db > 0 ? sp->atten_db : 80;
	if (!(sp->pass_hz > 0) || !(sp->pass_hz < fs_out / 2) ||
	    !(stop > sp->pass_hz) || stop > fs_out - sp->pass_hz + 1e-9 ||
	    atten > 150) {
		snprintf(err, errlen, "decimator: passband %.0f Hz does not fit "
		    "an output rate of %.1f samples/s", sp->pass_hz, fs_out);
		return NULL;
	}
	if (!(fabs(sp->shift_hz) < sp->fs_in / 2)) {
		snprintf(err, errlen, "decimator: shift %.0f Hz outside the "
		    "input band", sp->shift_hz);
		return NULL;
	}
	w = 2 * M_PI * sp->shift_hz / sp->fs_in;
	/* The cheapest split D = d1 * d2 (d2 = 1: one stage). The first
	 * stage only has to keep aliases out of the passband; the second
	 * makes the sharp edge at the low rate. */
	best = est_cost(sp->fs_in, D, 1, sp->pass_hz, stop, atten, w != 0);
	for (d1 = 2; d1 < D && D > 1; d1++) {
		double c;
		if (D % d1 != 0 || sp->fs_in / d1 - 2 * sp->pass_hz <= 0)
			continue;
		c = est_cost(sp->fs_in, d1, D / d1, sp->pass_hz, stop, atten,
		    w != 0);
		if (c < best) {
			best = c;
			bd1 = d1;
		}
	}
	d = calloc(1, sizeof *d);
	if (d == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	d->factor = D;
	d->fs_in = sp->fs_in;
	d->fs_out = fs_out;
	if (bd1 == D) {
		d->ns = 1;
		if (stage_init(&d->st[0], sp->fs_in, D, sp->pass_hz, stop,
		    atten, w) != 0)
			goto fail;
	} else {
		double f1 = sp->fs_in / bd1;
		d->ns = 2;
		if (stage_init(&d->st[0], sp->fs_in, bd1, sp->pass_hz,
		    f1 - sp->pass_hz, atten, w) != 0 ||
		    stage_init(&d->st[1], f1, D / bd1, sp->pass_hz, stop,
		    atten, 0) != 0)
			goto fail;
	}
	d->bi = malloc(DECIM_BLK * sizeof *d->bi);
	d->bq = malloc(DECIM_BLK * sizeof *d->bq);
	d->mi = malloc((DECIM_BLK + 1) * sizeof *d->mi);
	d->mq = malloc((DECIM_BLK + 1) * sizeof *d->mq);
	d->oi = malloc((DECIM_BLK + 1) * sizeof *d->oi);
	d->oq = malloc((DECIM_BLK + 1) * sizeof *d->oq);
	if (d->bi == NULL || d->bq == NULL || d->mi == NULL || d->mq == NULL ||
	    d->oi == NULL || d->oq == NULL)
		goto fail;
	return d;
fail:
	snprintf(err, errlen, "decimator: filter too long or out of memory "
	    "(passband %.0f Hz at %.0f samples/s)", sp->pass_hz, sp->fs_in);
	decim_free(d);
	return NULL;
}

void
decim_free(struct decim *d)
{
	if (d == NULL)
		return;
	stage_free(&d->st[0]);
	stage_free(&d->st[1]);
	free(d->bi);
	free(d->bq);
	free(d->mi);
	free(d->mq);
	free(d->oi);
	free(d->oq);
	free(d);
}

void
decim_reset(struct decim *d)
{
	int	i;

	for (i = 0; i < d->ns; i++)
		stage_reset(&d->st[i]);
}

double
decim_fs_out(const struct decim *d)
{
	return d->fs_out;
}

int
decim_stages(const struct decim *d)
{
	return d->ns;
}

size_t
decim_taps(const struct decim *d)
{
	return d->st[0].nt + (d->ns > 1 ? d->st[1].nt : 0);
}

double
decim_cost(const struct decim *d)
{
	double	c = (double)d->st[0].nt * (d->st[0].ti ? 4 : 2) / d->st[0].D;

	if (d->ns > 1)
		c += (double)d->st[1].nt * 2 / d->factor;
	return c;
}

size_t
decim_out_max(const struct decim *d, size_t n)
{
	return n / (size_t)d->factor + (size_t)d->ns + 1;
}

/* Run the converted block bi/bq (n samples) through the cascade. */
static size_t
run_block(struct decim *d, size_t n, float **oi, float **oq)
{
	size_t	m = stage_run(&d->st[0], d->bi, d->bq, n, d->mi, d->mq);

	if (d->ns == 1) {
		*oi = d->mi;
		*oq = d->mq;
		return m;
	}
	*oi = d->oi;
	*oq = d->oq;
	return stage_run(&d->st[1], d->mi, d->mq, m, d->oi, d->oq);
}

size_t
decim_run_cf(struct decim *d, const float *in, size_t n, float *out)
{
	size_t	 done = 0, no = 0, b, k, m;
	float	*oi, *oq;

	while (done < n) {
		b = n - done < DECIM_BLK ? n - done : DECIM_BLK;
		for (k = 0; k < b; k++) {
			d->bi[k] = in[2 * (done + k)];
			d->bq[k] = in[2 * (done + k) + 1];
		}
		m = run_block(d, b, &oi, &oq);
		for (k = 0; k < m; k++) {
			out[2 * (no + k)] = oi[k];
			out[2 * (no + k) + 1] = oq[k];
		}
		no += m;
		done += b;
	}
	return no;
}

static inline int16_t
sat16(float x)
{
	x *= 32768.0f;
	if (x >= 32767.0f)
		return 32767;
	if (x <= -32768.0f)
		return -32768;
	return (int16_t)lrintf(x);
}

/*
 * The integer front-ends differ only in how a block of input becomes the
 * float I/Q the filter takes; the rest (blocking, filtering, saturating
 * back to int16) is one loop.
 */
typedef void (*load_fn)(struct decim *, const void *, size_t, size_t);

static void
load_u8(struct decim *d, const void *p, size_t at, size_t b)
{
	const uint8_t	*in = p;
	size_t		 k;

	for (k = 0; k < b; k++) {
		/* 0..255 around 127.5: full scale +-1 */
		d->bi[k] = ((float)in[2 * (at + k)] - 127.5f) *
		    (1.0f / 127.5f);
		d->bq[k] = ((float)in[2 * (at + k) + 1] - 127.5f) *
		    (1.0f / 127.5f);
	}
}

static void
load_s16(struct decim *d, const void *p, size_t at, size_t b)
{
	const int16_t	*in = p;
	size_t		 k;

	for (k = 0; k < b; k++) {
		d->bi[k] = (float)in[2 * (at + k)] * (1.0f / 32768);
		d->bq[k] = (float)in[2 * (at + k) + 1] * (1.0f / 32768);
	}
}

static size_t
run_to_s16(struct decim *d, load_fn load, const void *in, size_t n,
    int16_t *out)
{
	size_t	 done = 0, no = 0, b, k, m;
	float	*oi, *oq;

	while (done < n) {
		b = n - done < DECIM_BLK ? n - done : DECIM_BLK;
		load(d, in, done, b);
		m = run_block(d, b, &oi, &oq);
		for (k = 0; k < m; k++) {
			out[2 * (no + k)] = sat16(oi[k]);
			out[2 * (no + k) + 1] = sat16(oq[k]);
		}
		no += m;
		done += b;
	}
	return no;
}

size_t
decim_run_u8(struct decim *d, const uint8_t *in, size_t n, int16_t *out)
{
	return run_to_s16(d, load_u8, in, n, out);
}

size_t
decim_run_s16(struct decim *d, const int16_t *in, size_t n, int16_t *out)
{
	return run_to_s16(d, load_s16, in, n, out);
}
