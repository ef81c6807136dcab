/* test_tdoa.c -- per-chunk TDoA against synthetic receivers with known delays, rates and clocks: error vs the Cramer-Rao bound, sigma, carrier, exclusions, pair count. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* fftw3.h before complex.h: fftwf_complex stays float[2] */
#include <fftw3.h>
#include <complex.h>

#include "src/loc/tdoa.h"

/*
 * The transmitted signal: complex Gaussian noise with a flat spectrum over
 * |f| < BW/2, periodic over PERIOD s, made on a grid of GF = 48 kS/s (4x
 * oversampled) by an inverse FFT. A receiver samples it at any instant
 * t - delay with a 32-tap Kaiser-windowed sinc (the signal occupies 5 of
 * 24 kHz, so the interpolation error is below -100 dB): each receiver gets
 * its own t0, its own real rate and a fractional delay, exactly, without
 * borrowing anything from the code under test.
 */
#define GF	48000.0
#define PERIOD	2.0
#define BW	10000.0
#define TAPS	32
#define PHASES	1024
#define GRID_NS	INT64_C(1764700000000000000)	/* a grid instant */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static double
uniform(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return ((rng * 2685821657736338717ULL) >> 11) *
	    (1.0 / 9007199254740992.0);
}

static double
gauss(void)
{
	double	u = uniform(), v = uniform();

	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static float	*sig;		/* GF * PERIOD complex samples, power 1 */
static size_t	 nsig;
static float	 tab[PHASES + 1][TAPS];

static double
bessel_i0(double x)
{
	double	s = 1, t = 1;
	int	k;

	for (k = 1; k < 40; k++) {
		t *= (x / (2 * k)) * (x / (2 * k));
		s += t;
	}
	return s;
}

static void
make_signal(void)
{
	fftwf_complex	*spec, *out;
	fftwf_plan	 p;
	size_t		 q;
	double		 pw = 0, beta = 10;
	int		 ph, j;

	nsig = (size_t)(GF * PERIOD);
	spec = fftwf_alloc_complex(nsig);
	out = fftwf_alloc_complex(nsig);
	p = fftwf_plan_dft_1d((int)nsig, spec, out, FFTW_BACKWARD,
	    FFTW_ESTIMATE);
	for (q = 0; q < nsig; q++) {
		double	f = (q < nsig / 2 ? (double)q : (double)q -
		    (double)nsig) / PERIOD;

		spec[q][0] = spec[q][1] = 0;
		if (fabs(f) < BW / 2) {
			spec[q][0] = (float)gauss();
			spec[q][1] = (float)gauss();
		}
	}
	fftwf_execute(p);
	sig = malloc(2 * nsig * sizeof *sig);
	for (q = 0; q < nsig; q++)
		pw += out[q][0] * out[q][0] + out[q][1] * out[q][1];
	pw /= (double)nsig;
	for (q = 0; q < nsig; q++) {
		sig[2 * q] = (float)(out[q][0] / sqrt(pw));
		sig[2 * q + 1] = (float)(out[q][1] / sqrt(pw));
	}
	fftwf_destroy_plan(p);
	fftwf_free(spec);
	fftwf_free(out);
	/* kernel: tab[ph][j] = h(ph / PHASES + TAPS/2 - 1 - j) */
	for (ph = 0; ph <= PHASES; ph++) {
		for (j = 0; j < TAPS; j++) {
			double	x = (double)ph / PHASES + TAPS / 2 - 1 - j;
			double	r = x / (TAPS / 2), w, s;

			w = fabs(r) < 1 ? bessel_i0(beta * sqrt(1 - r * r)) /
			    bessel_i0(beta) : 0;
			s = fabs(x) < 1e-12 ? 1 : sin(M_PI * x) / (M_PI * x);
			tab[ph][j] = (float)(w * s);
		}
	}
}

/* The signal at time t (s, any real). */
static double complex
sig_at(double t)
{
	double	u = fmod(t * GF, (double)nsig), fr, a;
	double complex acc = 0;
	long	i0;
	int	ph, j;

	if (u < 0)
		u += (double)nsig;
	i0 = (long)floor(u);
	fr = u - (double)i0;
	ph = (int)(fr * PHASES);
	a = fr * PHASES - ph;
	for (j = 0; j < TAPS; j++) {
		long	i = (i0 - TAPS / 2 + 1 + j + (long)nsig) % (long)nsig;
		double	h = tab[ph][j] * (1 - a) + tab[ph + 1][j] * a;

		acc += h * (sig[2 * i] + I * sig[2 * i + 1]);
	}
	return acc;
}

struct rx {
	double	rate;		/* real rate, S/s */
	int64_t	t0_ns;		/* time of sample 0 */
	double	delay;		/* propagation delay, s */
	double	snr_db;		/* over BW */
	double	carrier;	/* carrier power relative to the signal (0: none) */
	double	fc;		/* its frequency, Hz */
	double	band_lo, band_hi; /* passband given to tdoa (0, 0: all) */
};

/* n samples of receiver r: the signal delayed, plus noise at snr, plus a
 * carrier (an unmodulated tone, here of another transmitter). off shifts
 * the whole transmission (a new stretch of noise every trial). */
static void
receive(const struct rx *r, size_t n, double off, float *iq)
{
	double	sn = sqrt(r->rate / BW * pow(10, -r->snr_db / 10) / 2);
	double	ph0 = 2 * M_PI * uniform();
	size_t	k;

	for (k = 0; k < n; k++) {
		double	t = (double)(r->t0_ns - GRID_NS) * 1e-9 +
		    (double)k / r->rate;
		double complex v = sig_at(t - r->delay + off);

		if (r->carrier > 0)
			v += sqrt(r->carrier) * cexp(I * (2 * M_PI * r->fc * t +
			    ph0));
		iq[2 * k] = (float)(creal(v) + sn * gauss());
		iq[2 * k + 1] = (float)(cimag(v) + sn * gauss());
	}
}

static void
input_of(const struct rx *r, size_t n, const float *iq, struct tdoa_input *in)
{
	memset(in, 0, sizeof *in);
	in->iq = iq;
	in->n = n;
	in->rate_hz = r->rate;
	in->t0_ns = r->t0_ns;
	in->snr_db = r->snr_db;
	in->band_lo_hz = r->band_lo;
	in->band_hi_hz = r->band_hi;
}

/*
 * The Cramer-Rao bound for the delay between two noisy receivers of a
 * flat band B (complex baseband, unknown phase), SNR per receiver over
 * the band, integration time T:
 *   sigma_CRB = 1 / (2 pi B_rms sqrt(2 SNR_eff B T)),
 *   B_rms = B / sqrt(12),  SNR_eff = SNR_a SNR_b / (1 + SNR_a + SNR_b).
 * (Fisher information of a complex signal in complex white noise:
 * 2 (E/N0) (2 pi B_rms)^2 with E/N0 = SNR_eff B T.) B = 10 kHz, 20 dB
 * both, T = 1 s: 55 ns.
 */
static double
crb_band(double snr_a_db, double snr_b_db, double t, double bw)
{
	double	sa = pow(10, snr_a_db / 10), sb = pow(10, snr_b_db / 10);
	double	se = sa * sb / (1 + sa + sb);

	return 1 / (2 * M_PI * (bw / sqrt(12)) * sqrt(2 * se * bw * t));
}

static double
crb(double snr_a_db, double snr_b_db, double t)
{
	return crb_band(snr_a_db, snr_b_db, t, BW);
}

struct stats {
	double	rms, mean, sigma, corr, quality;
	int	n;
};

/* trials of a two-receiver chunk of 1 s; errors against the truth */
static void
run_pair(struct rx *ra, struct rx *rb, const struct tdoa_opts *o, int trials,
    struct stats *st)
{
	struct tdoa_ctx	*c = tdoa_new(o);
	size_t		 na = (size_t)ra->rate, nb = (size_t)rb->rate;
	float		*a = malloc(2 * na * sizeof *a);
	float		*b = malloc(2 * nb * sizeof *b);
	struct tdoa_input in[2];
	struct tdoa_pair p[4];
	double		 s2 = 0, s1 = 0, ss = 0, sc = 0, sq = 0, e;
	int		 t, np;

	assert_non_null(c);
	memset(st, 0, sizeof *st);
	for (t = 0; t < trials; t++) {
		double	off = uniform() * PERIOD;

		receive(ra, na, off, a);
		receive(rb, nb, off, b);
		input_of(ra, na, a, &in[0]);
		input_of(rb, nb, b, &in[1]);
		assert_int_equal(tdoa_chunk(c, in, 2, p, 4, &np), 0);
		assert_int_equal(np, 1);
		assert_int_equal(p[0].a, 0);
		assert_int_equal(p[0].b, 1);
		e = p[0].tdoa_s - (ra->delay - rb->delay);
		s1 += e;
		s2 += e * e;
		ss += p[0].sigma_s;
		sc += p[0].corr;
		sq += p[0].quality;
	}
	st->n = trials;
	st->mean = s1 / trials;
	st->rms = sqrt(s2 / trials);
	st->sigma = ss / trials;
	st->corr = sc / trials;
	st->quality = sq / trials;
	free(a);
	free(b);
	tdoa_free(c);
}

static void
two_rx(struct rx *ra, struct rx *rb, double snr_db)
{
	memset(ra, 0, sizeof *ra);
	memset(rb, 0, sizeof *rb);
	/* real rates 12.5 ppm apart; t0s off the grid by different
	 * fractions of a sample; a fractional true TDoA of 123.4567 us */
	ra->rate = 12001.03;
	rb->rate = 12001.18;
	ra->t0_ns = GRID_NS + 21357;
	rb->t0_ns = GRID_NS - 40211;
	ra->delay = 0.0012 + 123.4567e-6;
	rb->delay = 0.0012;
	ra->snr_db = rb->snr_db = snr_db;
}

static void
report(const char *what, const struct stats *st, double bound)
{
	printf("# %s: %d trials, rms %.1f ns, mean %+.1f ns, sigma %.1f ns, "
	    "CRB %.1f ns (rms/CRB %.2f, sigma/rms %.2f), corr %.3f, "
	    "quality %.1f\n", what, st->n, st->rms * 1e9, st->mean * 1e9,
	    st->sigma * 1e9, bound * 1e9, st->rms / bound, st->sigma / st->rms,
	    st->corr, st->quality);
}

/* 200 trials at 20 dB and 200 at 6 dB: RMS error within 2x the CRB of the
 * whole 1-s chunk, no bias beyond the trials' own spread, and the
 * reported sigma within a factor 2 of the observed RMS. */
static void
test_crb(void **state)
{
	static const double snrs[] = { 20, 6 };
	struct rx	 ra, rb;
	struct stats	 st;
	double		 b;
	size_t		 i;

	(void)state;
	for (i = 0; i < 2; i++) {
		two_rx(&ra, &rb, snrs[i]);
		run_pair(&ra, &rb, NULL, 200, &st);
		b = crb(snrs[i], snrs[i], 1.0);
		report(snrs[i] > 10 ? "20 dB" : "6 dB", &st, b);
		assert_true(st.rms <= 2 * b);
		assert_true(fabs(st.mean) <= 3 * st.rms / sqrt(st.n) + 2e-9);
		assert_true(st.sigma >= 0.5 * st.rms && st.sigma <= 2 * st.rms);
		assert_true(st.corr > 0.3 && st.corr <= 1);
		assert_true(st.quality > 3);
	}
}

/* Rates 60 ppm apart (several correction terms) and t0s a sample and a
 * half apart: still within 2x the bound, unbiased. */
static void
test_rates(void **state)
{
	struct rx	 ra, rb;
	struct stats	 st;
	double		 b;

	(void)state;
	two_rx(&ra, &rb, 20);
	ra.rate = 12000.4;
	rb.rate = 12001.12;
	rb.t0_ns = GRID_NS - 125000;
	ra.delay = 0.0003;
	rb.delay = 0.0021789;
	run_pair(&ra, &rb, NULL, 60, &st);
	b = crb(20, 20, 1.0);
	report("60 ppm", &st, b);
	assert_true(st.rms <= 2 * b);
	assert_true(fabs(st.mean) <= 3 * st.rms / sqrt(st.n) + 2e-9);
}

/* A carrier 20 dB above the whole signal (a strong AM carrier, DC on a
 * direct-conversion receiver) at each receiver: notched, the estimate
 * stays within 2x the bound and unbiased. Without the notch it is far
 * worse: the notch is what does it. */
static void
test_carrier(void **state)
{
	struct rx	 ra, rb;
	struct stats	 st, off;
	struct tdoa_opts o;
	double		 b = crb(20, 20, 1.0);

	(void)state;
	two_rx(&ra, &rb, 20);
	ra.carrier = rb.carrier = 100;
	ra.fc = rb.fc = 1234.5;
	run_pair(&ra, &rb, NULL, 60, &st);
	report("carrier +20 dB", &st, b);
	assert_true(st.rms <= 2 * b);
	assert_true(fabs(st.mean) <= 3 * st.rms / sqrt(st.n) + 2e-9);
	ra.fc = rb.fc = 0;	/* at DC */
	run_pair(&ra, &rb, NULL, 30, &st);
	report("DC +20 dB", &st, b);
	assert_true(st.rms <= 2 * b);
	tdoa_opts_default(&o);
	o.notch_db = 0;
	ra.fc = rb.fc = 1234.5;
	run_pair(&ra, &rb, &o, 30, &off);
	report("carrier +20 dB, no notch", &off, b);
	assert_true(off.rms > 3 * st.rms);
}

/* One receiver passes only +-500 Hz: the pair uses the band both pass,
 * and its error and sigma are those of a 1-kHz band (per-bin SNR as
 * before), ten times the full band's. */
static void
test_shared_band(void **state)
{
	struct rx	 ra, rb;
	struct stats	 st;
	double		 b = crb_band(20, 20, 1.0, 1000);

	(void)state;
	two_rx(&ra, &rb, 20);
	rb.band_lo = -500;
	rb.band_hi = 500;
	run_pair(&ra, &rb, NULL, 60, &st);
	report("shared band +-500 Hz", &st, b);
	assert_true(st.rms <= 2 * b);
	assert_true(st.rms > 4 * crb(20, 20, 1.0));
	assert_true(st.quality > 2);	/* its wide main lobe is no side-lobe */
	assert_true(st.sigma >= 0.5 * st.rms && st.sigma <= 2 * st.rms);
}

/* A small lag window (3 ms: the coarse correlation sums 16 bins) with the
 * true TDoA near its edges (+-2.7 ms, where the coarse peak is attenuated
 * most): still found, within 2x the bound, and a clear peak. */
static void
test_lag_edge(void **state)
{
	struct rx	 ra, rb;
	struct stats	 st;
	struct tdoa_opts o;
	double		 b = crb(20, 20, 1.0);

	(void)state;
	two_rx(&ra, &rb, 20);
	ra.delay = 0.0012 + 0.0027;
	tdoa_opts_default(&o);
	o.max_lag_s = 0.003;
	run_pair(&ra, &rb, &o, 30, &st);
	report("TDoA +2.7 ms, lag window 3 ms", &st, b);
	assert_true(st.rms <= 2 * b);
	assert_true(st.quality > 3);
	ra.delay = 0.0012;	/* and the other side: -2.7 ms */
	rb.delay = 0.0012 + 0.0027;
	run_pair(&ra, &rb, &o, 30, &st);
	report("TDoA -2.7 ms, lag window 3 ms", &st, b);
	assert_true(st.rms <= 2 * b);
	assert_true(st.quality > 3);
}

/* Unusable receivers are left out with their reason; the others pair. */
static void
test_excluded(void **state)
{
	struct rx	 r[6];
	struct tdoa_input in[6];
	struct tdoa_pair p[32];
	struct tdoa_ctx	*c = tdoa_new(NULL);
	size_t		 n = 12001;
	float		*iq[6];
	int		 i, np;

	(void)state;
	assert_non_null(c);
	for (i = 0; i < 6; i++) {
		memset(&r[i], 0, sizeof r[i]);
		r[i].rate = 12001.0 + 0.03 * i;
		r[i].t0_ns = GRID_NS + 1000 * i;
		r[i].delay = 0.001 * i;
		r[i].snr_db = 20;
		iq[i] = malloc(2 * n * sizeof *iq[i]);
		receive(&r[i], n, 0.3, iq[i]);
		input_of(&r[i], n, iq[i], &in[i]);
	}
	in[1].skip_reason = "no GPS time";
	in[2].snr_db = 3.1;
	in[3].t0_ns += INT64_C(400000000);	/* 0.4 s late: another grid */
	iq[4][2 * 77 + 1] = NAN;
	assert_int_equal(tdoa_chunk(c, in, 6, p, 32, &np), 0);
	assert_string_equal(tdoa_excluded(c, 1), "no GPS time");
	assert_string_equal(tdoa_excluded(c, 2), "SNR 3.1 dB < 6 dB");
	assert_non_null(strstr(tdoa_excluded(c, 3), "chunk spans"));
	assert_string_equal(tdoa_excluded(c, 4), "sample 77 is not a number");
	assert_null(tdoa_excluded(c, 0));
	assert_null(tdoa_excluded(c, 5));
	assert_null(tdoa_excluded(c, 6));
	assert_int_equal(np, 1);
	assert_int_equal(p[0].a, 0);
	assert_int_equal(p[0].b, 5);
	assert_true(fabs(p[0].tdoa_s - (r[0].delay - r[5].delay)) < 300e-9);
	/* one usable receiver: no pair, no error */
	in[5].skip_reason = "GPS fix stale";
	assert_int_equal(tdoa_chunk(c, in, 6, p, 32, &np), 0);
	assert_int_equal(np, 0);
	assert_string_equal(tdoa_excluded(c, 5), "GPS fix stale");
	/* a rate far from the others' (100 ppm over the chunk) */
	in[5].skip_reason = NULL;
	in[5].rate_hz = 12002.3;
	assert_int_equal(tdoa_chunk(c, in, 6, p, 32, &np), 0);
	assert_non_null(strstr(tdoa_excluded(c, 5), "ppm from the others"));
	for (i = 0; i < 6; i++)
		free(iq[i]);
	tdoa_free(c);
}

/* 200 receivers: at most partners * 200 pairs (not 19,900), each right. */
static void
test_many(void **state)
{
	enum { NR = 200 };
	struct rx	*r = calloc(NR, sizeof *r);
	struct tdoa_input *in = calloc(NR, sizeof *in);
	float		**iq = calloc(NR, sizeof *iq);
	struct tdoa_opts o;
	struct tdoa_ctx	*c;
	struct tdoa_pair *p;
	size_t		 n = 3000;	/* 0.25 s chunks keep it quick */
	int		 i, np, max, bad = 0, *seen = calloc(NR, sizeof *seen);
	char		*pairs = calloc(NR * NR, 1);

	(void)state;
	tdoa_opts_default(&o);
	o.max_lag_s = 0.01;
	c = tdoa_new(&o);
	assert_non_null(c);
	max = tdoa_max_pairs(c, NR);
	assert_int_equal(max, 3 * 2 / 2 + (NR - 3) * 3);
	assert_true(max <= o.partners * NR);
	p = calloc((size_t)max, sizeof *p);
	for (i = 0; i < NR; i++) {
		r[i].rate = 12000.9 + 0.3 * uniform();
		r[i].t0_ns = GRID_NS + (int64_t)(uniform() * 80000);
		r[i].delay = uniform() * 0.008;
		r[i].snr_db = 10 + 20 * uniform();
		iq[i] = malloc(2 * n * sizeof *iq[i]);
		receive(&r[i], n, 0.7, iq[i]);
		input_of(&r[i], n, iq[i], &in[i]);
	}
	assert_int_equal(tdoa_chunk(c, in, NR, p, max - 1, &np), -1);
	assert_non_null(strstr(tdoa_error(c), "room for"));
	assert_int_equal(tdoa_chunk(c, in, NR, p, max, &np), 0);
	assert_int_equal(np, max);
	for (i = 0; i < np; i++) {
		double	e = p[i].tdoa_s - (r[p[i].a].delay - r[p[i].b].delay);

		assert_true(p[i].a < p[i].b);
		/* each unordered pair once: (a, b) not also as (b, a) or
		 * twice */
		assert_int_equal(pairs[p[i].a * NR + p[i].b], 0);
		pairs[p[i].a * NR + p[i].b] = 1;
		seen[p[i].a]++;
		seen[p[i].b]++;
		if (fabs(e) > 5 * p[i].sigma_s + 20e-9)
			bad++;
	}
	for (i = 0; i < NR; i++)
		assert_true(seen[i] >= 3);
	printf("# 200 receivers: %d pairs, %d beyond 5 sigma\n", np, bad);
	assert_true(bad <= 2);
	for (i = 0; i < NR; i++)
		free(iq[i]);
	free(iq);
	free(in);
	free(r);
	free(p);
	free(seen);
	free(pairs);
	tdoa_free(c);
}

/* Contexts on several threads at once, with chunk lengths new to the
 * process (so the shared plan table is filled concurrently): each gets
 * what one thread alone gets. (tsan checks the locking itself.) */
struct job {
	size_t		 n;
	float		*iq[2];
	struct tdoa_input in[2];
	struct tdoa_pair p[1];
	int		 np, rc;
};

static void *
job_run(void *arg)
{
	struct job	*j = arg;
	struct tdoa_ctx	*c = tdoa_new(NULL);

	j->rc = c == NULL ? -1 : tdoa_chunk(c, j->in, 2, j->p, 1, &j->np);
	tdoa_free(c);
	return NULL;
}

static void
test_threads(void **state)
{
	enum { NJ = 4 };
	struct job	 jobs[NJ], alone;
	pthread_t	 th[NJ];
	struct rx	 ra, rb;
	int		 i, k;

	(void)state;
	two_rx(&ra, &rb, 20);
	for (i = 0; i < NJ; i++) {
		struct job *j = &jobs[i];

		j->n = 5000 + 1500 * (size_t)i;	/* 5000 .. 9500 samples */
		for (k = 0; k < 2; k++)
			j->iq[k] = malloc(2 * j->n * sizeof *j->iq[k]);
		receive(&ra, j->n, 0.1 * i, j->iq[0]);
		receive(&rb, j->n, 0.1 * i, j->iq[1]);
		input_of(&ra, j->n, j->iq[0], &j->in[0]);
		input_of(&rb, j->n, j->iq[1], &j->in[1]);
	}
	for (i = 0; i < NJ; i++)
		assert_int_equal(pthread_create(&th[i], NULL, job_run,
		    &jobs[i]), 0);
	for (i = 0; i < NJ; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < NJ; i++) {
		alone = jobs[i];
		job_run(&alone);
		assert_int_equal(jobs[i].rc, 0);
		assert_int_equal(jobs[i].np, 1);
		assert_true(jobs[i].p[0].tdoa_s == alone.p[0].tdoa_s);
		assert_true(fabs(jobs[i].p[0].tdoa_s - 123.4567e-6) < 1e-6);
		for (k = 0; k < 2; k++)
			free(jobs[i].iq[k]);
	}
}

/*
 * A context keeps per-spectrum state from chunk to chunk (a tone mask is
 * written only near tones, cached block powers, taper weights): after a
 * chunk with carriers in some receivers, a chunk with carriers elsewhere
 * (one receiver of a pair only, DC in another, no carrier in the third;
 * one receiver's passband narrower, so its pairs' blocks straddle the
 * tone finder's) gives the same pairs, bit for bit, as a fresh context's; and so does
 * the first chunk after the second.
 */
static void
test_reuse(void **state)
{
	struct rx	 r[3][4];
	float		*iq[3][4];
	struct tdoa_input in[3][4];
	struct tdoa_pair p[8], q[8];
	struct tdoa_ctx	*used = tdoa_new(NULL), *fresh;
	size_t		 n = 12001, j;
	int		 k, i, np, nq, t;
	/* tones at the tone finder's 64-bin block edges (62.5 Hz apart),
	 * so their notches reach into the next block; chunk 2 has a comb
	 * of 27 tones 187.5 Hz apart (masks written nearly everywhere:
	 * what a later chunk must not read where its own tones do not
	 * reach) */
	const double	 fc[3][4] = { { 1250.1, 0, -2100.25, 0 },
			    { 0, 2500.2, 0, 0 }, { 0, 0, 0, 0 } };
	const int	 order[] = { 0, 1, 0, 2, 1, 2, 0 };

	(void)state;
	assert_non_null(used);
	for (k = 0; k < 3; k++) {
		double	off = uniform() * PERIOD;

		for (i = 0; i < 4; i++) {
			memset(&r[k][i], 0, sizeof r[k][i]);
			r[k][i].rate = 12001.03 + 0.05 * i;
			r[k][i].t0_ns = GRID_NS + 10007 * i - 15000;
			r[k][i].delay = 0.0012 + 37.1e-6 * i;
			r[k][i].snr_db = 20 - i;
			r[k][i].carrier = fc[k][i] != 0 ? 100 : 0;
			r[k][i].fc = fc[k][i];
			if (k == 1 && i == 3) {	/* at DC */
				r[k][i].carrier = 100;
				r[k][i].fc = 0;
			}
			if (i == 2) {	/* its pairs' band: not on blocks */
				r[k][i].band_lo = -4500.3;
				r[k][i].band_hi = 4400;
			}
			iq[k][i] = malloc(2 * n * sizeof *iq[k][i]);
			assert_non_null(iq[k][i]);
			receive(&r[k][i], n, off, iq[k][i]);
			for (t = -40; k == 2 && t < 40; t += 3) {
				double	f = 62.506 * (2 * t + 1) / 2 / r[k][i].rate;

				for (j = 0; j < n; j++) {
					iq[k][i][2 * j] += (float)(10 * cos(2 *
					    M_PI * f * (double)j));
					iq[k][i][2 * j + 1] += (float)(10 *
					    sin(2 * M_PI * f * (double)j));
				}
			}
			input_of(&r[k][i], n, iq[k][i], &in[k][i]);
		}
	}
	for (k = 0; k < (int)(sizeof order / sizeof order[0]); k++) {
		int	c = order[k];

		assert_int_equal(tdoa_chunk(used, in[c], 4, p, 8, &np), 0);
		fresh = tdoa_new(NULL);
		assert_non_null(fresh);
		assert_int_equal(tdoa_chunk(fresh, in[c], 4, q, 8, &nq), 0);
		tdoa_free(fresh);
		assert_int_equal(np, 6);
		assert_int_equal(nq, np);
		assert_memory_equal(p, q, (size_t)np * sizeof *p);
	}
	tdoa_free(used);
	for (k = 0; k < 3; k++)
		for (i = 0; i < 4; i++)
			free(iq[k][i]);
}

/* tdoa_prepare makes what the first tdoa_chunk would (buffers, plans) and
 * nothing the results depend on: a prepared context's pair is the same,
 * bit for bit, as a fresh one's; fewer than 2 usable inputs prepare
 * nothing and are not an error. */
static void
test_prepare(void **state)
{
	struct rx	 ra, rb;
	struct tdoa_ctx	*c0 = tdoa_new(NULL), *c1 = tdoa_new(NULL);
	struct tdoa_input in[2], zin[2];
	struct tdoa_pair p0[4], p1[4];
	size_t		 na, nb;
	float		*a, *b, *z;
	int		 n0, n1;

	(void)state;
	assert_non_null(c0);
	assert_non_null(c1);
	two_rx(&ra, &rb, 20);
	rb.rate = 12000.9;
	na = (size_t)ra.rate;
	nb = (size_t)rb.rate;
	a = malloc(2 * na * sizeof *a);
	b = malloc(2 * nb * sizeof *b);
	z = calloc(2 * na, sizeof *z);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(z);
	receive(&ra, na, 0.25, a);
	receive(&rb, nb, 0.25, b);
	input_of(&ra, na, a, &in[0]);
	input_of(&rb, nb, b, &in[1]);
	/* the warm-up's inputs: zeros of the same length and rate */
	input_of(&ra, na, z, &zin[0]);
	input_of(&ra, na, z, &zin[1]);
	assert_int_equal(tdoa_prepare(c1, zin, 1), 0);
	assert_int_equal(tdoa_prepare(c1, zin, 2), 0);
	assert_int_equal(tdoa_chunk(c0, in, 2, p0, 4, &n0), 0);
	assert_int_equal(tdoa_chunk(c1, in, 2, p1, 4, &n1), 0);
	assert_int_equal(n0, 1);
	assert_int_equal(n1, 1);
	assert_memory_equal(&p0[0], &p1[0], sizeof p0[0]);
	assert_true(fabs(p0[0].tdoa_s - (ra.delay - rb.delay)) < 1e-6);
	free(a);
	free(b);
	free(z);
	tdoa_free(c0);
	tdoa_free(c1);
}

static void
test_args(void **state)
{
	struct tdoa_opts o;
	struct tdoa_ctx	*c;
	struct tdoa_pair p[1];
	int		 np = 5;

	(void)state;
	tdoa_opts_default(&o);
	o.partners = 0;
	assert_null(tdoa_new(&o));
	tdoa_opts_default(&o);
	o.max_lag_s = NAN;
	assert_null(tdoa_new(&o));
	tdoa_opts_default(&o);
	o.notch_db = -1;
	assert_null(tdoa_new(&o));
	c = tdoa_new(NULL);
	assert_non_null(c);
	assert_int_equal(tdoa_chunk(c, NULL, 0, p, 1, &np), 0);
	assert_int_equal(np, 0);
	assert_int_equal(tdoa_chunk(c, NULL, 3, p, 1, &np), -1);
	assert_int_equal(tdoa_chunk(c, NULL, -1, p, 1, &np), -1);
	assert_null(tdoa_excluded(c, 0));
	assert_int_equal(tdoa_max_pairs(c, 1), 0);
	assert_int_equal(tdoa_max_pairs(c, 3), 3);
	assert_int_equal(tdoa_max_pairs(c, 7), 3 + 4 * 3);
	tdoa_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_prepare),
		cmocka_unit_test(test_excluded),
		cmocka_unit_test(test_crb),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_carrier),
		cmocka_unit_test(test_shared_band),
		cmocka_unit_test(test_lag_edge),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_reuse),
	};

	make_signal();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
