/* test_decim.c -- the decimator's response measured with tones: passband
 * ripple and stop-band rejection against the figures stated in decim.h,
 * the frequency shift, streaming in pieces, the uint8 path, bad specs. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/decim.h"

#define FS_IN	2048000.0
#define FACTOR	171		/* -> 11976.6 samples/s, as rtl_tcp uses */
#define PASS	5000.0
#define NIN	(FACTOR * 400)
#define SKIP	150		/* outputs dropped: the filters' transient */

/* Stated figures (decim.h): ripple <= 0.05 dB p-p, rejection >= 77 dB. */
#define RIPPLE_DB	0.05
#define REJECT_DB	77.0

/* Mean output power for a unit tone at input frequency f (Hz). */
static double
tone_gain_db(struct decim *d, double f)
{
	float	*in = malloc(2 * NIN * sizeof *in);
	float	*out = malloc(2 * decim_out_max(d, NIN) * sizeof *out);
	size_t	 i, n;
	double	 p = 0;

	decim_reset(d);
	for (i = 0; i < NIN; i++) {
		/* double phase: no drift over the run */
		double ph = fmod(2 * M_PI * f * (double)i / FS_IN, 2 * M_PI);
		in[2 * i] = (float)(0.5 * cos(ph));
		in[2 * i + 1] = (float)(0.5 * sin(ph));
	}
	n = decim_run_cf(d, in, NIN, out);
	assert_true(n >= NIN / FACTOR && n <= NIN / FACTOR + 2);
	for (i = SKIP; i < n; i++)
		p += (double)out[2 * i] * out[2 * i] +
		    (double)out[2 * i + 1] * out[2 * i + 1];
	p /= (double)(n - SKIP);
	free(in);
	free(out);
	return 10 * log10(p / 0.25);
}

static struct decim *
make(double shift)
{
	struct decim_spec s = { FS_IN, FACTOR, PASS, 0, 0, shift };
	char	err[200];
	struct decim *d = decim_new(&s, err, sizeof err);

	if (d == NULL)
		fail_msg("%s", err);
	return d;
}

static void
check_response(double shift)
{
	struct decim	*d = make(shift);
	double		 fs_out = FS_IN / FACTOR, stop = fs_out - PASS;
	double		 lo = 1e9, hi = -1e9, worst = -1e9, g, f;
	int		 k;

	assert_float_equal(decim_fs_out(d), fs_out, 1e-9);
	for (k = -20; k <= 20; k++) {
		g = tone_gain_db(d, shift + PASS * k / 20.0);
		lo = fmin(lo, g);
		hi = fmax(hi, g);
	}
	printf("# shift %.0f: passband %.4f .. %.4f dB (ripple %.4f dB), "
	    "%d stage(s), %zu taps, %.1f MAC/input sample\n", shift, lo, hi,
	    hi - lo, decim_stages(d), decim_taps(d), decim_cost(d));
	assert_true(hi - lo <= RIPPLE_DB);
	assert_true(fabs(hi) <= RIPPLE_DB && fabs(lo) <= RIPPLE_DB);
	/* The stop band: right at the edge, the band's worst folds, then
	 * out to the input's Nyquist on both sides. */
	for (k = 0; k < 60; k++) {
		double span = FS_IN / 2 - fabs(shift) - stop - 1;
		double x = stop + span * pow((double)k / 59, 2.5);
		for (int sgn = -1; sgn <= 1; sgn += 2) {
			f = shift + sgn * x;
			g = tone_gain_db(d, f);
			if (g > worst)
				worst = g;
			if (g > -REJECT_DB)
				fail_msg("%.0f Hz from the shift: %.1f dB", sgn * x,
				    g);
		}
	}
	/* Images of the passband at multiples of fs_out (what the cascade's
	 * first stage must catch). */
	for (k = 1; k < 60; k++) {
		f = shift + k * fs_out * 2.7;
		if (fabs(f) >= FS_IN / 2)
			break;
		g = tone_gain_db(d, f);
		worst = fmax(worst, g);
		assert_true(g <= -REJECT_DB);
	}
	printf("# shift %.0f: worst stop-band gain %.1f dB (>= %.0f dB "
	    "rejection required)\n", shift, worst, REJECT_DB);
	decim_free(d);
}

static void
test_response(void **state)
{
	(void)state;
	check_response(0);
}

static void
test_response_shifted(void **state)
{
	(void)state;
	check_response(256000);
	check_response(-300000);
}

/* A tone at shift + 1000 Hz comes out at +1000 Hz. */
static void
test_shift_frequency(void **state)
{
	struct decim	*d = make(256000);
	float		*in = malloc(2 * NIN * sizeof *in);
	float		*out = malloc(2 * decim_out_max(d, NIN) * sizeof *out);
	double complex	 acc = 0;
	size_t		 i, n;
	double		 f;

	(void)state;
	for (i = 0; i < NIN; i++) {
		double ph = fmod(2 * M_PI * 257000.0 * (double)i / FS_IN,
		    2 * M_PI);
		in[2 * i] = (float)(0.5 * cos(ph));
		in[2 * i + 1] = (float)(0.5 * sin(ph));
	}
	n = decim_run_cf(d, in, NIN, out);
	/* mean phase step between consecutive outputs */
	for (i = SKIP + 1; i < n; i++)
		acc += (out[2 * i] + I * out[2 * i + 1]) *
		    conj(out[2 * i - 2] + I * out[2 * i - 1]);
	f = carg(acc) / (2 * M_PI) * decim_fs_out(d);
	assert_float_equal(f, 1000.0, 0.5);
	free(in);
	free(out);
	decim_free(d);
}

/* Pieces of any size give the very outputs of one call. */
static void
test_streaming(void **state)
{
	struct decim	*d = make(123456);
	size_t		 n = 300000, i, a, b, off, sz;
	uint8_t		*in = malloc(2 * n);
	int16_t		*o1 = malloc(2 * decim_out_max(d, n) * sizeof *o1);
	int16_t		*o2 = malloc(2 * (decim_out_max(d, n) + 64) *
			    sizeof *o2);
	uint64_t	 r = 88172645463325252ULL;

	(void)state;
	for (i = 0; i < 2 * n; i++) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		in[i] = (uint8_t)(r >> 24);
	}
	a = decim_run_u8(d, in, n, o1);
	decim_reset(d);
	b = 0;
	for (off = 0; off < n; off += sz) {
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		sz = 1 + (size_t)(r % 20000);
		if (sz > n - off)
			sz = n - off;
		b += decim_run_u8(d, in + 2 * off, sz, o2 + 2 * b);
	}
	assert_int_equal(a, b);
	assert_memory_equal(o1, o2, 2 * a * sizeof *o1);
	free(in);
	free(o1);
	free(o2);
	decim_free(d);
}

/* uint8 full-scale DC in, int16 near full scale out; a tone in the
 * stop band leaves only quantization-level output. */
static void
test_u8_scale(void **state)
{
	struct decim	*d = make(0);
	size_t		 n = FACTOR * 300, i, m;
	uint8_t		*in = malloc(2 * n);
	int16_t		*out = malloc(2 * decim_out_max(d, n) * sizeof *out);

	(void)state;
	for (i = 0; i < n; i++) {
		in[2 * i] = 255;	/* +1.0 */
		in[2 * i + 1] = 0;	/* -1.0 */
	}
	m = decim_run_u8(d, in, n, out);
	for (i = SKIP; i < m; i++) {
		assert_true(out[2 * i] >= 32700);
		assert_true(out[2 * i + 1] <= -32700);
	}
	free(in);
	free(out);
	decim_free(d);
}

static void
test_bad_specs(void **state)
{
	struct decim_spec s = { FS_IN, FACTOR, 6000, 0, 0, 0 };
	char	err[200];

	(void)state;
	/* 6 kHz does not fit 11976 samples/s */
	assert_null(decim_new(&s, err, sizeof err));
	assert_non_null(strstr(err, "passband"));
	s.pass_hz = 5000;
	s.factor = 0;
	assert_null(decim_new(&s, err, sizeof err));
	s.factor = FACTOR;
	s.shift_hz = 1.1e6;
	assert_null(decim_new(&s, err, sizeof err));
	s.shift_hz = 0;
	s.atten_db = 1000;
	assert_null(decim_new(&s, err, sizeof err));
	/* a prime factor: one stage, still a proper filter */
	s.atten_db = 0;
	s.factor = 173;
	{
		struct decim *d = decim_new(&s, err, sizeof err);
		assert_non_null(d);
		assert_int_equal(decim_stages(d), 1);
		decim_free(d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_response_shifted),
		cmocka_unit_test(test_shift_frequency),
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_u8_scale),
		cmocka_unit_test(test_bad_specs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
