/* metrics.c -- per-chunk signal metrics from one windowed FFT (FFTW): noise floor, signal, SNR, offset. */

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <fftw3.h>

#include "src/base/metrics.h"
#include "src/base/util.h"

struct metrics_ctx {
	size_t		 max_n;		/* longest chunk */
	size_t		 cap;		/* transform size of max_n */
	/*
	 * One mapping (util_bigbuf_reserve) of mem_len bytes holds in, out
	 * (cap points each) and the two windows (max_n each), each piece's
	 * pages made resident at once as it first comes into use
	 * (util_prefault): the first chunks' ~80 page faults on these
	 * arrays, ~9 us each on this project's VMs, cost twice that.
	 */
	char		*mem;
	size_t		 mem_len;
	size_t		 ready;		/* points of in and out resident */
	size_t		 win_ready[2];	/* samples of win[k] resident */
	fftwf_complex	*in, *out;	/* cap each */
	/* Scratch for the median: in's floats, free once the transform has
	 * run (FFTW_DESTROY_INPUT: in is scratch for FFTW too). */
	float		*sel;
	/* Hann windows for the last two lengths: chunks of a 12001.135 S/s
	 * receiver alternate between 12001 and 12002 samples. Each holds
	 * w[i] / 32768, the factor that takes an int16 sample to its
	 * windowed full-scale value. */
	float		*win[2];
	size_t		 win_len[2];
	double		 win_pow[2];	/* sum of w^2 */
	int		 win_next;	/* slot to replace */
	/* The last successful compute's transform, for metrics_spectrum. */
	size_t		 last_nf;	/* 0: none */
	double		 last_fs, last_norm;
};

/*
 * Plans, one per transform size, shared by every context: planning is
 * slow and FFTW's planner is not thread-safe, so it runs once per size
 * under plan_lock, the process's one planner lock (metrics.h); executing a plan (fftwf_execute_dft on a context's own
 * arrays) is thread-safe. The sizes are 2^a and 3*2^a, so 64 slots hold
 * every size up to 2^31 and the table never fills. Plans live as long as
 * the process.
 */
static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	size_t		 n;
	fftwf_plan	 plan;
} plans[64];
static int nplans;

void
metrics_planner_lock(void)
{
	pthread_mutex_lock(&plan_lock);
}

void
metrics_planner_unlock(void)
{
	pthread_mutex_unlock(&plan_lock);
}

size_t
metrics_fft_size(size_t n)
{
	size_t	p = 64;

	/* 2^a or 3*2^a: FFTW's fastest sizes (radix 2 and 3 codelets),
	 * padding at most a third where powers of two alone padded up to
	 * twice (12001 samples: 12288 points, not 16384). Sizes with 5, 7
	 * or larger factors (12005 = 5*7^4, or 12001 = 11*1091 unpadded)
	 * measured 2 to 10 times slower. */
	while (p < n)
		p *= 2;
	return p / 4 * 3 >= n && p / 4 * 3 >= 64 ? p / 4 * 3 : p;
}

/* The plan for size n on arrays aligned as m's (metrics_ctx_new). */
static fftwf_plan
plan_for(struct metrics_ctx *m, size_t n)
{
	fftwf_plan	 p = NULL;
	int		 i;

	pthread_mutex_lock(&plan_lock);
	for (i = 0; i < nplans; i++) {
		if (plans[i].n == n) {
			p = plans[i].plan;
			break;
		}
	}
	if (p == NULL && nplans < (int)(sizeof plans / sizeof plans[0])) {
		/* Out of place: the in-place plans FFTW picks for these sizes
		 * copy through a scratch buffer it mallocs on every run. */
		p = fftwf_plan_dft_1d((int)n, m->in, m->out, FFTW_FORWARD,
		    FFTW_ESTIMATE | FFTW_DESTROY_INPUT);
		if (p != NULL) {
			plans[nplans].n = n;
			plans[nplans++].plan = p;
		}
	}
	pthread_mutex_unlock(&plan_lock);
	return p;
}

struct metrics_ctx *
metrics_ctx_new(size_t max_n)
{
	struct metrics_ctx	*m;

	if (max_n < 64 || max_n > ((size_t)1 << 30))
		return NULL;
	m = calloc(1, sizeof *m);
	if (m == NULL)
		return NULL;
	m->max_n = max_n;
	m->cap = metrics_fft_size(max_n);
	/* page-aligned pieces, each a multiple of 512 bytes (cap >= 64, so
	 * max_n floats round up): as aligned as fftwf_alloc's, which the
	 * shared plans were made for */
	m->mem_len = 2 * m->cap * sizeof(fftwf_complex) + 2 * ((max_n *
	    sizeof(float) + 511) & ~(size_t)511);
	m->mem = util_bigbuf_reserve(m->mem_len);
	if (m->mem == NULL) {
		free(m);
		return NULL;
	}
	m->in = (fftwf_complex *)(void *)m->mem;
	m->out = m->in + m->cap;
	m->sel = &m->in[0][0];
	m->win[0] = (float *)(void *)(m->out + m->cap);
	m->win[1] = m->win[0] + ((max_n * sizeof(float) + 511) & ~(size_t)511) /
	    sizeof(float);
	return m;
}

void
metrics_ctx_free(struct metrics_ctx *m)
{
	if (m == NULL)
		return;
	util_bigbuf_free(m->mem, m->mem_len);
	free(m);
}

/* 8 int16 samples, 8 floats: GCC's and clang's vector extensions (the
 * loop over them is not vectorized by itself at -O2) */
typedef int16_t	v8s __attribute__((vector_size(16)));
typedef float	v8f __attribute__((vector_size(32)));

/* The Hann window of length n (cached), as struct metrics_ctx's win;
 * *pow gets sum w^2. */
static const float *
window(struct metrics_ctx *m, size_t n, double *pow)
{
	size_t	i;
	int	k;

	for (k = 0; k < 2; k++) {
		if (m->win_len[k] == n) {
			*pow = m->win_pow[k];
			return m->win[k];
		}
	}
	k = m->win_next;
	m->win_next ^= 1;
	m->win_pow[k] = 0;
	if (m->win_ready[k] < n) {
		(void)util_prefault(m->win[k], n * sizeof *m->win[k]);
		m->win_ready[k] = n;
	}
	/*
	 * cos(2 pi i / n) by rotating a phasor, not one cos() per sample:
	 * receivers' rates differ, so chunk lengths vary and windows are
	 * rebuilt often (cos() was 1/5 of metrics' time). In double the
	 * rotation drifts < 1e-12 over 16384 steps; renormalised anyway.
	 */
	{
		double c = 1, s = 0, wc = cos(2 * M_PI / (double)n),
		    ws = sin(2 * M_PI / (double)n), t;
		for (i = 0; i < n; i++) {
			float w = (float)(0.5 - 0.5 * c);
			m->win_pow[k] += (double)w * w;
			/* exact: a power of two */
			m->win[k][i] = w / 32768.0f;
			t = c * wc - s * ws;
			s = c * ws + s * wc;
			c = t;
			if ((i & 1023) == 1023) {
				t = 1 / sqrt(c * c + s * s);
				c *= t;
				s *= t;
			}
		}
	}
	m->win_len[k] = n;
	*pow = m->win_pow[k];
	return m->win[k];
}

/*
 * k-th smallest (0-based) of v[0..n), all >= 0 (reorders v). Non-negative
 * floats order as their bit patterns, so a radix selection (11 + 11 + 10
 * bits) finds it exactly in O(n) with few unpredictable branches; Hoare's
 * selection was half of metrics' time in mispredicted compares.
 */
static float
select_kth(float *v, size_t n, size_t k)
{
	static const int shift[3] = { 21, 10, 0 };
	static const uint32_t width[3] = { 0x7ff, 0x7ff, 0x3ff };
	uint32_t	 hist[2048], prefix = 0, mask = 0, b;
	size_t		 i, m, cum, d;
	float		 f;
	int		 pass;

	for (pass = 0; pass < 3; pass++) {
		memset(hist, 0, sizeof hist);
		for (i = 0; i < n; i++) {
			memcpy(&b, &v[i], sizeof b);
			hist[(b >> shift[pass]) & width[pass]]++;
		}
		for (d = 0, cum = 0; cum + hist[d] <= k; d++)
			cum += hist[d];
		k -= cum;
		prefix |= (uint32_t)d << shift[pass];
		mask |= width[pass] << shift[pass];
		/* keep only the bucket holding the answer, at the front:
		 * each value stored, the front advanced past it if it is one
		 * (m <= i: nothing unread is overwritten) -- a branch per
		 * value mispredicted as often as the bucket is small */
		for (i = 0, m = 0; i < n; i++) {
			memcpy(&b, &v[i], sizeof b);
			v[m] = v[i];
			m += (b & mask) == prefix;
		}
		n = m;
	}
	memcpy(&f, &prefix, sizeof f);
	return f;
}

/* |X_k|^2 of bin k (unnormalized: only ratios are used). */
static double
bin_power(const struct metrics_ctx *m, size_t k)
{
	return (double)m->out[k][0] * m->out[k][0] +
	    (double)m->out[k][1] * m->out[k][1];
}

/*
 * The first bin of [i0, i1) whose frequency (i - off) * df is >= edge
 * (above = 0) or > edge (above = 1); i1 if none. The frequency grows with
 * i, so a bisection with the same comparison the bins are kept by finds
 * exactly the bins a test of each would.
 */
static size_t
band_edge(size_t i0, size_t i1, double off, double df, double edge,
    int above)
{
	size_t	lo = i0, hi = i1, mid;

	while (lo < hi) {
		double f;
		mid = lo + (hi - lo) / 2;
		f = ((double)mid - off) * df;
		if (above ? f > edge : f >= edge)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* One passband bin i: its power (full-scale units) into sel[*nb] and the
 * partial sum part[*nb & 3], and the strongest so far (the first of
 * equals). */
static inline void
band1(struct metrics_ctx *m, size_t i, double norm, double part[4],
    size_t *nb, double *peakv, size_t *peak)
{
	double	p = bin_power(m, i) * norm;

	m->sel[*nb] = (float)p;
	part[*nb & 3] += p;
	if (p > *peakv) {
		*peakv = p;
		*peak = i;
	}
	(*nb)++;
}

typedef double		v2d __attribute__((vector_size(16)));
typedef long long	v2l __attribute__((vector_size(16)));

/* lanes of a where mask g is set, else of b */
static inline v2d
pick(v2l g, v2d a, v2d b)
{
	return (v2d)(((v2l)a & g) | ((v2l)b & ~g));
}

/*
 * band1 over bins [i, i + 4k) (the most that fit below b), *nb a multiple
 * of 4; returns the next bin. The same operations on each bin in the same
 * order, two bins to a vector (the scalar loop was half of metrics' own
 * time): part[0..1] and part[2..3] are two vectors, each lane summing its
 * bins in turn as before; each lane keeps its own strongest bin (the
 * first of equals), and the strongest of the lanes and of the bins before
 * -- the earliest of equals -- is the one the scalar loop would find.
 */
static size_t
band4(struct metrics_ctx *m, size_t i, size_t b, double norm, double part[4],
    size_t *nb, double *peakv, size_t *peak)
{
	v2d	 s01 = { part[0], part[1] }, s23 = { part[2], part[3] };
	v2d	 v01 = { *peakv, *peakv }, v23 = v01, nv = { norm, norm };
	v2d	 k01 = { (double)*peak, (double)*peak }, k23 = k01;
	size_t	 j, n = *nb;
	float	*sel = m->sel;

	for (; i + 4 <= b; i += 4, n += 4) {
		const float *o = &m->out[i][0];
		v2d x0 = { o[0], o[1] }, x1 = { o[2], o[3] };
		v2d x2 = { o[4], o[5] }, x3 = { o[6], o[7] };
		v2d p01, p23, i01 = { (double)i, (double)(i + 1) };
		v2d i23 = { (double)(i + 2), (double)(i + 3) };
		v2l g;
		x0 *= x0;
		x1 *= x1;
		x2 *= x2;
		x3 *= x3;
		/* re^2 + im^2 of each bin, as bin_power */
		p01 = (__builtin_shufflevector(x0, x1, 0, 2) +
		    __builtin_shufflevector(x0, x1, 1, 3)) * nv;
		p23 = (__builtin_shufflevector(x2, x3, 0, 2) +
		    __builtin_shufflevector(x2, x3, 1, 3)) * nv;
		sel[n] = (float)p01[0];
		sel[n + 1] = (float)p01[1];
		sel[n + 2] = (float)p23[0];
		sel[n + 3] = (float)p23[1];
		s01 += p01;
		s23 += p23;
		g = p01 > v01;
		v01 = pick(g, p01, v01);
		k01 = pick(g, i01, k01);
		g = p23 > v23;
		v23 = pick(g, p23, v23);
		k23 = pick(g, i23, k23);
	}
	part[0] = s01[0];
	part[1] = s01[1];
	part[2] = s23[0];
	part[3] = s23[1];
	{
		double v[4] = { v01[0], v01[1], v23[0], v23[1] };
		double k[4] = { k01[0], k01[1], k23[0], k23[1] };
		for (j = 0; j < 4; j++) {
			if (v[j] > *peakv || (v[j] == *peakv &&
			    (size_t)k[j] < *peak)) {
				*peakv = v[j];
				*peak = (size_t)k[j];
			}
		}
	}
	*nb = n;
	return i;
}

int
metrics_compute(struct metrics_ctx *m, const int16_t *iq, size_t n,
    double fs, double low_hz, double high_hz, struct metrics *out)
{
	size_t	 i, nb = 0, peak = 0;
	double	 norm, band = 0, med, noise_bin, noise, signal, df, peakv = 0;
	double	 pk = 0, wpow;
	const float *w;
	int	 amax = 0;
	size_t	 nf;
	fftwf_plan plan;

	m->last_nf = 0;
	if (n < 64 || n > m->max_n || fs <= 0 || !(low_hz < high_hz) ||
	    low_hz < -fs / 2 || high_hz > fs / 2)
		return -1;
	nf = metrics_fft_size(n);
	if (m->ready < nf) {
		(void)util_prefault(m->in, nf * sizeof *m->in);
		(void)util_prefault(m->out, nf * sizeof *m->out);
		m->ready = nf;
	}
	if ((plan = plan_for(m, nf)) == NULL)
		return -1;
	w = window(m, n, &wpow);
	/*
	 * The peak and the windowed samples in one pass, 8 values at a time
	 * in vectors (one loop per sample with its branches was half of
	 * metrics' time; a pass of its own for the peak a tenth). The peak
	 * |v| is the larger of the highest v and minus the lowest. Each
	 * product iq * (w / 32768) is the (iq / 32768) * w it replaces, bit
	 * for bit (both exact but for one rounding of the same value).
	 */
	{
		float *restrict in = &m->in[0][0];
		v8s hi = { 0 }, lo = { 0 }, g;
		size_t j, m2 = 2 * n;
		for (i = 0; i + 8 <= m2; i += 8) {
			const float *x = w + i / 2;
			v8s v;
			v8f f, ww = { x[0], x[0], x[1], x[1], x[2], x[2],
			    x[3], x[3] };
			memcpy(&v, iq + i, sizeof v);
			g = v > hi;
			hi = (v & g) | (hi & ~g);
			g = v < lo;
			lo = (v & g) | (lo & ~g);
			f = __builtin_convertvector(v, v8f) * ww;
			memcpy(in + i, &f, sizeof f);
		}
		for (j = 0; j < 8; j++) {
			amax = hi[j] > amax ? hi[j] : amax;
			amax = -lo[j] > amax ? -lo[j] : amax;
		}
		for (; i < m2; i++) {
			amax = abs(iq[i]) > amax ? abs(iq[i]) : amax;
			in[i] = (float)iq[i] * w[i / 2];
		}
	}
	/*
	 * Zero padding to the transform size nf interpolates the spectrum
	 * (bins of fs/nf, finer than fs/n) without changing any power
	 * estimate below: the window spans the n samples, not nf, and the
	 * scale uses nf. So nf may be any size >= n; metrics_fft_size picks
	 * one FFTW does fast.
	 */
	memset(m->in + n, 0, (nf - n) * sizeof *m->in);
	fftwf_execute_dft(plan, m->in, m->out);

	/*
	 * Power of bin k in full-scale units: |X_k|^2 / (N * sum w^2). With
	 * this scale (Parseval over the N zero-padded bins) white noise of
	 * power s^2 sums to s^2 over all bins, and a tone of amplitude A to
	 * A^2, whatever the window and padding.
	 */
	norm = 1.0 / ((double)nf * wpow);
	df = fs / (double)nf;
	/* FFT order: bin i is frequency i*df, or (i-N)*df past N/2. The
	 * passband is a run of bins in each half (the frequency grows with
	 * i): those from 0 (positive frequencies), then those from N/2
	 * (negative), in the transform's order. */
	{
		double	 part[4] = { 0, 0, 0, 0 };
		size_t	 h, a, b;
		for (h = 0; h < 2; h++) {
			size_t i0 = h == 0 ? 0 : nf / 2, i1 = h == 0 ? nf / 2 :
			    nf;
			double off = h == 0 ? 0 : (double)nf;
			a = band_edge(i0, i1, off, df, low_hz, 0);
			b = band_edge(i0, i1, off, df, high_hz, 1);
			/* Four partial sums: one running sum was a chain of
			 * dependent additions, a third of this loop's time
			 * (the total differs in its last bits at most). One
			 * bin at a time until nb is a multiple of 4 (the sums
			 * take bin nb into part[nb & 3]) and for the tail;
			 * four at a time between (band4: the same arithmetic,
			 * in vectors). */
			for (i = a; i < b && (nb & 3) != 0; i++)
				band1(m, i, norm, part, &nb, &peakv, &peak);
			if (b - i >= 4)
				i = band4(m, i, b, norm, part, &nb, &peakv,
				    &peak);
			for (; i < b; i++)
				band1(m, i, norm, part, &nb, &peakv, &peak);
		}
		band = (part[0] + part[1]) + (part[2] + part[3]);
	}
	if (nb < 8)
		return -1;

	/*
	 * Noise floor: the median bin, not the mean, so a carrier (a few
	 * bins) cannot lift it. For complex Gaussian noise each bin's power
	 * is exponentially distributed (any linear window of Gaussian samples
	 * stays Gaussian), and an exponential's median is its mean times
	 * ln 2: dividing by ln 2 removes that bias.
	 */
	med = select_kth(m->sel, nb, nb / 2);
	noise_bin = med / M_LN2;
	noise = noise_bin * (double)nb;
	signal = band - noise;
	if (signal < noise * 1e-6)
		signal = noise * 1e-6;	/* noise alone: far below 0 dB */

	out->noise_floor_db = 10 * log10(noise > 0 ? noise : 1e-30);
	out->noise_density_db = 10 * log10(noise_bin > 0 ? noise_bin / df :
	    1e-30);
	out->signal_strength_db = 10 * log10(signal > 0 ? signal : 1e-30);
	out->snr_db = noise > 0 ? 10 * log10(signal / noise) : -60;
	if (out->snr_db < -60)
		out->snr_db = -60;

	/*
	 * Offset: the strongest bin refined by a parabola through the log
	 * powers of it and its neighbours (a Gaussian fit: exact for a
	 * Gaussian-shaped peak, within a few hundredths of a bin for Hann).
	 */
	pk = 0;
	{
		double a = bin_power(m, (peak + nf - 1) % nf);
		double b = bin_power(m, peak);
		double c = bin_power(m, (peak + 1) % nf);
		if (a > 0 && b > 0 && c > 0) {
			double d;
			a = log(a), b = log(b), c = log(c);
			d = a - 2 * b + c;
			if (d < 0)
				pk = 0.5 * (a - c) / d;
		}
	}
	out->frequency_offset_hz = ((peak < nf / 2 ? (double)peak :
	    (double)peak - (double)nf) + pk) * df;
	out->peak_amplitude = amax / 32768.0;
	m->last_nf = nf;
	m->last_fs = fs;
	m->last_norm = norm;
	return 0;
}

int
metrics_spectrum(const struct metrics_ctx *m, double low_hz, double high_hz,
    int nbins, float *out_db)
{
	double	 df, w, f0, f1, sum, p;
	long	 k0, k1, k, nf;
	int	 i;

	if (m->last_nf == 0 || nbins < 1 || nbins > METRICS_SPECTRUM_MAX ||
	    !(low_hz < high_hz) || low_hz < -m->last_fs / 2 ||
	    high_hz > m->last_fs / 2)
		return -1;
	nf = (long)m->last_nf;
	df = m->last_fs / (double)nf;
	w = (high_hz - low_hz) / nbins;
	for (i = 0; i < nbins; i++) {
		/* Bins whose centre lies in [f0, f1): signed bin numbers,
		 * negative ones at the transform's end. */
		f0 = low_hz + i * w;
		f1 = f0 + w;
		k0 = (long)ceil(f0 / df);
		k1 = (long)ceil(f1 / df) - 1;
		if (k1 < k0)
			k0 = k1 = lround((f0 + f1) / 2 / df);
		sum = 0;
		for (k = k0; k <= k1; k++)
			sum += bin_power(m, (size_t)((k % nf + nf) % nf));
		p = sum * m->last_norm / (double)(k1 - k0 + 1);
		out_db[i] = (float)(p > 1e-20 ? 10 * log10(p) : -200);
	}
	return 0;
}
