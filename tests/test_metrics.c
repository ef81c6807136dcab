/* test_metrics.c -- metrics against synthetic signals with known truth. */

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
#include <time.h>

#include "src/base/metrics.h"

#define FS	12001.135
#define N	12001
#define SIGMA2	1e-4		/* noise power, full scale: rms 0.01 */

static uint64_t rng;

static double
uniform(void)
{
	/* xorshift64*: seeded, reproducible */
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

static int16_t
q16(double x)
{
	x = round(x * 32768.0);
	if (x > 32767)
		x = 32767;
	if (x < -32768)
		x = -32768;
	return (int16_t)x;
}

/* Tone at offset f with the SNR (over the 10 kHz passband) snr_db, plus
 * complex white noise of power SIGMA2; snr_db < -100 means noise only. */
static void
synth_n(int16_t *iq, size_t n, double f, double snr_db, uint64_t seed)
{
	double	 a = 0, s = sqrt(SIGMA2 / 2), ph0;
	size_t	 i;

	rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	if (snr_db > -100)
		a = sqrt(pow(10, snr_db / 10) * SIGMA2 * 10000.0 / FS);
	ph0 = uniform() * 2 * M_PI;
	for (i = 0; i < n; i++) {
		double ph = ph0 + 2 * M_PI * f * (double)i / FS;
		iq[2 * i] = q16(a * cos(ph) + s * gauss());
		iq[2 * i + 1] = q16(a * sin(ph) + s * gauss());
	}
}

static void
synth(int16_t *iq, double f, double snr_db, uint64_t seed)
{
	synth_n(iq, N, f, snr_db, seed);
}

#define NMAX	16400
static int16_t	iq[2 * NMAX];

static void
check_tone(double f, double snr, double tol, uint64_t seed)
{
	struct metrics_ctx	*m = metrics_ctx_new(16384);
	struct metrics		 r;
	double			 a2;

	synth(iq, f, snr, seed);
	assert_int_equal(metrics_compute(m, iq, N, FS, -5000, 5000, &r), 0);
	if (fabs(r.snr_db - snr) > tol)
		fail_msg("SNR %.2f dB, want %.1f +- %.1f (f %.1f seed %llu)",
		    r.snr_db, snr, tol, f, (unsigned long long)seed);
	if (fabs(r.frequency_offset_hz - f) > 2)
		fail_msg("offset %.3f Hz, want %.3f +- 2", r.frequency_offset_hz,
		    f);
	/* noise in the passband: SIGMA2 * 10000/FS, within 0.5 dB */
	assert_true(fabs(r.noise_floor_db - 10 * log10(SIGMA2 * 10000.0 /
	    FS)) < 0.5);
	if (snr >= 20) {
		a2 = pow(10, snr / 10) * SIGMA2 * 10000.0 / FS;
		assert_true(fabs(r.signal_strength_db - 10 * log10(a2)) < 0.5);
	}
	metrics_ctx_free(m);
}

static void
test_snr_20(void **state)
{
	double	 offs[] = { -3210.4, 0.7, 1234.5, 4500.0 };
	int	 i, seed;

	(void)state;
	for (i = 0; i < 4; i++)
		for (seed = 1; seed <= 5; seed++)
			check_tone(offs[i], 20, 1.0, (uint64_t)(seed + 10 * i));
}

static void
test_snr_0(void **state)
{
	double	 offs[] = { -4100.2, -12.3, 2500.0 };
	int	 i, seed;

	(void)state;
	for (i = 0; i < 3; i++)
		for (seed = 1; seed <= 5; seed++)
			check_tone(offs[i], 0, 1.5, (uint64_t)(seed + 100 * i));
}

static void
test_snr_range(void **state)
{
	(void)state;
	check_tone(777.7, 10, 1.0, 7);
	check_tone(-999.9, 40, 1.0, 8);
}

static void
test_noise_only(void **state)
{
	struct metrics_ctx	*m = metrics_ctx_new(16384);
	struct metrics		 r;
	int			 seed;

	(void)state;
	for (seed = 1; seed <= 40; seed++) {
		synth(iq, 0, -200, (uint64_t)seed);
		assert_int_equal(metrics_compute(m, iq, N, FS, -5000, 5000,
		    &r), 0);
		if (r.snr_db > 3)
			fail_msg("noise read as signal: SNR %.2f dB (seed %d)",
			    r.snr_db, seed);
		assert_true(fabs(r.noise_floor_db - 10 * log10(SIGMA2 *
		    10000.0 / FS)) < 0.5);
	}
	metrics_ctx_free(m);
}

static void
test_peak_amplitude(void **state)
{
	struct metrics_ctx	*m = metrics_ctx_new(16384);
	struct metrics		 r;

	(void)state;
	synth(iq, 100, 20, 3);
	iq[2 * 500 + 1] = -32768;
	assert_int_equal(metrics_compute(m, iq, N, FS, -5000, 5000, &r), 0);
	assert_true(fabs(r.peak_amplitude - 1.0) < 1e-9);
	metrics_ctx_free(m);
}

/* The waterfall's spectrum: the tone's slice is the strongest, the
 * others sit at the noise per transform bin; nothing before a compute. */
static void
test_spectrum(void **state)
{
	struct metrics_ctx	*m = metrics_ctx_new(16384);
	struct metrics		 r;
	float			 db[64];
	double			 per_bin;
	int			 i, best = 0;

	(void)state;
	assert_int_equal(metrics_spectrum(m, -5000, 5000, 64, db), -1);
	synth(iq, 750, 30, 3);
	assert_int_equal(metrics_compute(m, iq, N, FS, -5000, 5000, &r), 0);
	assert_int_equal(metrics_spectrum(m, -5000, 5000, 64, db), 0);
	for (i = 1; i < 64; i++)
		if (db[i] > db[best])
			best = i;
	/* 750 Hz in slices of 156.25 Hz from -5000 Hz */
	assert_int_equal(best, 36);
	per_bin = 10 * log10(SIGMA2 / (double)metrics_fft_size(N));
	assert_true(fabs(db[5] - per_bin) < 1.0);
	assert_true(fabs(db[60] - per_bin) < 1.0);
	assert_true(db[best] > per_bin + 20);
	/* More slices than bins still answers (nearest bin); bad ones not. */
	assert_int_equal(metrics_spectrum(m, -10, 10, 64, db), 0);
	assert_int_equal(metrics_spectrum(m, -5000, 5000, 0, db), -1);
	assert_int_equal(metrics_spectrum(m, -5000, 9000, 64, db), -1);
	assert_int_equal(metrics_spectrum(m, 10, -10, 64, db), -1);
	/* A failed compute forgets the transform. */
	assert_int_equal(metrics_compute(m, iq, 10, FS, -5000, 5000, &r), -1);
	assert_int_equal(metrics_spectrum(m, -5000, 5000, 64, db), -1);
	metrics_ctx_free(m);
}

static void
test_bad_input(void **state)
{
	struct metrics_ctx	*m = metrics_ctx_new(16384);
	struct metrics		 r;

	(void)state;
	assert_null(metrics_ctx_new(63));		/* too short */
	assert_int_equal(metrics_compute(m, iq, 10, FS, -5000, 5000, &r), -1);
	assert_int_equal(metrics_compute(m, iq, 16385, FS, -5000, 5000, &r),
	    -1);					/* > max_n */
	assert_int_equal(metrics_compute(m, iq, N, FS, -7000, 5000, &r), -1);
	assert_int_equal(metrics_compute(m, iq, N, FS, 100, 100, &r), -1);
	assert_int_equal(metrics_compute(m, iq, N, 0, -5000, 5000, &r), -1);
	metrics_ctx_free(m);
}

/* Transform sizes: the smallest 2^a or 3*2^a >= n (FFTW's fast sizes). */
static void
test_fft_size(void **state)
{
	size_t	n, f, p, best;

	(void)state;
	assert_int_equal(metrics_fft_size(12001), 12288);
	assert_int_equal(metrics_fft_size(12002), 12288);
	assert_int_equal(metrics_fft_size(12289), 16384);
	assert_int_equal(metrics_fft_size(16385), 24576);
	assert_int_equal(metrics_fft_size(1), 64);
	assert_int_equal(metrics_fft_size(65), 96);
	assert_int_equal(metrics_fft_size(97), 128);
	for (n = 64; n <= 70000; n++) {
		best = 0;
		for (p = 64; best == 0 || p < best; p *= 2) {
			if (p / 4 * 3 >= n && p / 4 * 3 >= 64 &&
			    (best == 0 || p / 4 * 3 < best))
				best = p / 4 * 3;
			if (p >= n && (best == 0 || p < best))
				best = p;
		}
		f = metrics_fft_size(n);
		if (f != best)
			fail_msg("fft size %zu for %zu, want %zu", f, n, best);
	}
}

/*
 * The padding does not change what is measured: the same signal in chunks
 * whose transforms differ (12001 -> 12288 points, 12289 -> 16384, 9000 ->
 * 12288: 2.4 % and 33 % of zeros, and another window length) reads the
 * same SNR, noise floor and offset.
 */
static void
test_padding_invariant(void **state)
{
	static const size_t	 lens[] = { 12001, 12289, 9000, 12288 };
	struct metrics_ctx	*m = metrics_ctx_new(16384);
	struct metrics		 r[4];
	size_t			 i;
	int			 seed;

	(void)state;
	for (seed = 1; seed <= 5; seed++) {
		for (i = 0; i < 4; i++) {
			synth_n(iq, lens[i], 1234.5, 20, (uint64_t)seed);
			assert_int_equal(metrics_compute(m, iq, lens[i], FS,
			    -5000, 5000, &r[i]), 0);
			if (fabs(r[i].snr_db - 20) > 1.0 ||
			    fabs(r[i].frequency_offset_hz - 1234.5) > 2 ||
			    fabs(r[i].noise_floor_db - 10 * log10(SIGMA2 *
			    10000.0 / FS)) > 0.5)
				fail_msg("n %zu (transform %zu): SNR %.2f dB, "
				    "offset %.2f Hz, noise %.2f dBFS", lens[i],
				    metrics_fft_size(lens[i]), r[i].snr_db,
				    r[i].frequency_offset_hz,
				    r[i].noise_floor_db);
		}
		/* same samples 12001 vs 12288 (the first 12001 of them):
		 * within a few tenths of a dB of each other */
		assert_true(fabs(r[0].snr_db - r[3].snr_db) < 0.3);
	}
	metrics_ctx_free(m);
}

/* Contexts on several threads, planning new sizes at the same time (the
 * plans are shared): each gets what one thread alone gets. */
struct par {
	size_t		 n;
	int16_t		*iq;
	struct metrics	 got;
	int		 bad;
};

static void *
par_run(void *arg)
{
	struct par		*p = arg;
	struct metrics_ctx	*m = metrics_ctx_new(NMAX);
	struct metrics		 r;
	int			 k;

	for (k = 0; k < 20 && m != NULL; k++) {
		if (metrics_compute(m, p->iq, p->n, FS, -5000, 5000, &r) != 0)
			p->bad++;
		else if (k == 0)
			p->got = r;
		else if (r.snr_db != p->got.snr_db ||
		    r.frequency_offset_hz != p->got.frequency_offset_hz)
			p->bad++;
	}
	if (m == NULL)
		p->bad++;
	metrics_ctx_free(m);
	return NULL;
}

static void
test_threads(void **state)
{
	/* sizes whose plans nobody made yet in this process */
	static const size_t	 lens[4] = { 700, 1500, 3000, 5000 };
	static int16_t		 buf[4][2 * 5000];
	struct metrics_ctx	*m;
	struct metrics		 r;
	struct par		 p[4];
	pthread_t		 t[4];
	int			 i;

	(void)state;
	for (i = 0; i < 4; i++) {
		synth_n(buf[i], lens[i], 100.0 * (i + 1), 20, (uint64_t)i + 1);
		memset(&p[i], 0, sizeof p[i]);
		p[i].n = lens[i];
		p[i].iq = buf[i];
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, par_run, &p[i]), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	/* the reference: one thread, after the fact */
	m = metrics_ctx_new(NMAX);
	for (i = 0; i < 4; i++) {
		assert_int_equal(p[i].bad, 0);
		assert_int_equal(metrics_compute(m, buf[i], lens[i], FS, -5000,
		    5000, &r), 0);
		assert_true(r.snr_db == p[i].got.snr_db);
		assert_true(r.frequency_offset_hz ==
		    p[i].got.frequency_offset_hz);
		assert_true(fabs(r.frequency_offset_hz - 100.0 * (i + 1)) < 10);
	}
	metrics_ctx_free(m);
}

/* Cost per chunk, for the record (the benchmark is bench/). */
static void
test_cost(void **state)
{
	struct metrics_ctx	*m = metrics_ctx_new(16384);
	struct metrics		 r;
	struct timespec		 a, b;
	int			 i;

	(void)state;
	synth(iq, 100, 20, 3);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < 50; i++)
		metrics_compute(m, iq, N, FS, -5000, 5000, &r);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("metrics: %.0f us per 1-s chunk (mean of 50; informative)\n",
	    ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 50e3);
	metrics_ctx_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_snr_20),
		cmocka_unit_test(test_snr_0),
		cmocka_unit_test(test_snr_range),
		cmocka_unit_test(test_noise_only),
		cmocka_unit_test(test_peak_amplitude),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_spectrum),
		cmocka_unit_test(test_fft_size),
		cmocka_unit_test(test_padding_invariant),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_cost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
