/*
 * decim.h -- integer decimation of complex samples with a proper low-pass:
 * Kaiser-windowed sinc FIR stages (a cascade of two when the factor splits,
 * much cheaper than one long filter), computing only the output samples,
 * with an optional frequency shift folded into the first stage's taps.
 *
 * Owns the filter design and the per-stream history. Not thread-safe: one
 * owner (a receiver driver, on the loop thread).
 *
 * Design figures (checked by tests/test_decim.c): over |f| <= pass_hz the
 * response is flat within 0.05 dB peak to peak; everything that would
 * alias into |f| <= pass_hz (|f| >= stop_hz at the output, i.e. from
 * stop_hz up to the input's Nyquist) is attenuated by at least atten_db
 * minus 3 dB.
 */
#ifndef DECIM_H
#define DECIM_H

#include <stddef.h>
#include <stdint.h>

struct decim;

struct decim_spec {
	double	fs_in;		/* input rate, samples/s */
	int	factor;		/* total decimation, >= 1; out = fs_in/factor */
	double	pass_hz;	/* kept flat: |f| <= pass_hz (after shift) */
	double	stop_hz;	/* rejected from here up; 0: fs_out - pass_hz
				   (nothing aliases into the passband) */
	double	atten_db;	/* stop-band rejection; 0: 80 dB */
	double	shift_hz;	/* this input frequency comes out at 0 Hz */
};

/* NULL + err when the spec is impossible (pass >= fs_out/2, ...). */
struct decim	*decim_new(const struct decim_spec *s, char *err, size_t errlen);
void		 decim_free(struct decim *d);
/* Forget the history (a new stream: after a retune or reconnect). */
void		 decim_reset(struct decim *d);
double		 decim_fs_out(const struct decim *d);
int		 decim_stages(const struct decim *d);
/* Total taps over the stages, and multiply-adds per input sample. */
size_t		 decim_taps(const struct decim *d);
double		 decim_cost(const struct decim *d);
/* Output samples that n more input samples can produce at most. */
size_t		 decim_out_max(const struct decim *d, size_t n);

/*
 * Feed n complex samples; write the outputs (at most decim_out_max(d, n))
 * and return how many. Variants by sample format:
 *   _cf: interleaved float I,Q in, interleaved float out (full scale 1.0)
 *   _u8: rtl_tcp's interleaved uint8 I,Q (zero at 127.5) in, int16 out
 *   _s16: interleaved int16 in, int16 out
 * int16 outputs are saturated at full scale.
 */
size_t		 decim_run_cf(struct decim *d, const float *in, size_t n,
		    float *out);
size_t		 decim_run_u8(struct decim *d, const uint8_t *in, size_t n,
		    int16_t *out);
size_t		 decim_run_s16(struct decim *d, const int16_t *in, size_t n,
		    int16_t *out);

/* Kaiser-windowed sinc low-pass design (exposed for tests): ntaps odd
 * taps into h, cutoff fc_hz at rate fs, Kaiser beta. DC gain 1. */
void		 decim_design(double *h, size_t ntaps, double fc_hz, double fs,
		    double beta);

#endif
