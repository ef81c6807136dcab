/*
 * metrics.h -- signal metrics of one chunk: noise floor, signal power, SNR
 * over the passband, frequency offset of the strongest peak, peak amplitude.
 *
 * All powers are relative to full scale: a complex sample of magnitude 1.0
 * (int16 32768) has power 1.0 = 0 dBFS. Uses FFTW (single precision).
 * A struct metrics_ctx holds the scratch buffers of one thread; use one
 * per worker thread. The transform is zero-padded to metrics_fft_size(n)
 * points, a size FFTW does fast; its plans are made once per size and
 * shared by every context (planning is serialised inside).
 */
#ifndef METRICS_H
#define METRICS_H

#include <stddef.h>
#include <stdint.h>

struct metrics_ctx;

struct metrics {
	double	noise_floor_db;		/* noise power in the passband, dBFS */
	double	noise_density_db;	/* noise power per Hz, dBFS/Hz */
	double	signal_strength_db;	/* passband power minus noise, dBFS */
	double	snr_db;			/* 10 log10(signal / noise) over the
					   passband; floored at -60 */
	double	frequency_offset_hz;	/* strongest peak in the passband,
					   interpolated, Hz from the center */
	double	peak_amplitude;		/* max |I| or |Q|, 0..1 of full scale */
};

/* max_n: the longest chunk (samples) it will be given, 64 .. 2^30. */
struct metrics_ctx *metrics_ctx_new(size_t max_n);
void	metrics_ctx_free(struct metrics_ctx *m);

/*
 * Metrics of n complex samples iq (interleaved int16 I,Q, host order) at
 * sample rate fs, for the passband [low_hz, high_hz] around the center.
 * n must be <= max_n. 0, or -1 if the input is unusable (n < 64,
 * passband outside +-fs/2).
 */
int	metrics_compute(struct metrics_ctx *m, const int16_t *iq, size_t n,
	    double fs, double low_hz, double high_hz, struct metrics *out);

/*
 * The power spectrum behind the last metrics_compute() on m (the same
 * transform: no second FFT), over [low_hz, high_hz] in nbins equal slices
 * -- a decimated view for a waterfall: out_db[i] is the mean power of the
 * transform's bins in slice i, in dBFS per bin (floored at -200). A slice
 * narrower than a bin takes its nearest bin. 0, or -1 when there was no
 * successful compute, nbins is outside 1..METRICS_SPECTRUM_MAX or the
 * band is outside that compute's +-fs/2.
 */
#define METRICS_SPECTRUM_MAX	1024
int	metrics_spectrum(const struct metrics_ctx *m, double low_hz,
	    double high_hz, int nbins, float *out_db);

/*
 * FFTW's planner is not thread-safe, and that is process-wide: every
 * module that makes plans (metrics here, src/loc/tdoa) takes this one lock
 * around fftwf_plan_* -- two locks of their own let the engine's metrics
 * and the localization thread plan at once, and FFTW aborted
 * ("planner.c: assertion failed"). Executing a plan needs no lock.
 */
void	metrics_planner_lock(void);
void	metrics_planner_unlock(void);

/* The transform size for n samples: the smallest 2^a or 3*2^a >= n (and
 * >= 64): 12288 for chunks of ~12001 samples. */
size_t	metrics_fft_size(size_t n);

#endif
