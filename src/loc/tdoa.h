/*
 * tdoa.h -- time differences of arrival for one chunk: which receivers are
 * usable, which pairs to correlate, and for each pair the TDoA with its
 * uncertainty and quality, from the two chunks' complex baseband on their
 * exact time bases.
 *
 * Owns: the choice of receivers and pairs for a chunk, the correlation and
 * its sub-sample refinement, sigma and quality. Not the position fix
 * (src/loc/fix), not timestamps (the caller gives each chunk the time of
 * its first sample and its measured rate), no I/O, no threads.
 *
 * A struct tdoa_ctx holds one thread's scratch buffers: use one per thread;
 * different contexts may run at once (FFTW plans are shared, planned once
 * per size under a lock). Buffers are reused chunk after chunk (taper
 * weights rewritten only at their edges, tone masks only near tones),
 * but a chunk's pairs never depend on the chunks before: the same, bit
 * for bit, as a fresh context's (tests/test_tdoa).
 *
 * The method, in short (tdoa.c explains each step):
 *  - usable: skip_reason NULL, SNR >= min_snr_db, sane rate and length,
 *    finite samples, chunk covering the others' time span, rate within
 *    reach of the others' (drift over the chunk < ~0.6 sample);
 *  - pairs: each usable receiver with its `partners` best-SNR others
 *    (deduplicated): at most partners * N pairs, not N(N-1)/2;
 *  - per pair, receiver b's chunk is extended by max_lag_s (+ a taper) on
 *    both sides of a's, so the overlap is the same at every lag searched
 *    (no pull toward lag 0);
 *  - each chunk is transformed onto one common frequency grid in absolute
 *    time (its own t0_ns and rate: the rate difference is corrected in the
 *    spectrum, see tdoa.c), strong narrow tones (carriers, DC) are notched
 *    with smooth edges, and only the band both receivers pass is used;
 *  - integer peak from a coarse inverse FFT (the cross-spectrum summed
 *    over runs of p bins: M / p >= 8 lags searched points, so a small
 *    max_lag_s makes it small), then Newton steps on |R(tau)|^2
 *    evaluated from the cross-spectrum (an infinitely upsampled
 *    correlation; no parabola);
 *  - sigma: the Cramer-Rao bound in Carter's coherence form, with the
 *    coherence measured per 64-bin block between the two receivers'
 *    segments (so it reflects the real SNR and occupied band, both
 *    receivers' noise included); in tests/test_tdoa it is within 10 % of
 *    the observed RMS error;
 *  - quality: the correlation peak over its highest side-lobe.
 *
 * Memory: (2 partners + 1) spectra of M bins (M ~ the chunk's samples,
 * 12288 for 1 s at 12 kS/s: 12 bytes a bin), whatever the number of
 * receivers; the M-sized arrays are one mapping made resident when it is
 * made (util_bigbuf), not page by page on first use. Cost
 * (bench/bench_tdoa, 1-s chunks at 12 kS/s, 3 partners, one core of a
 * loaded machine, 2026-12-04): ~0.16 ms of CPU per receiver and chunk,
 * ~1.1 ms per chunk at 7 receivers, ~35 ms at 200; ~0.8 ms at 7 with 2
 * partners and a 3-ms lag window (the recorder's), ~40 % of it FFTW
 * (the nterms + 1 forward transforms of each segment).
 */
#ifndef TDOA_H
#define TDOA_H

#include <stddef.h>
#include <stdint.h>

/* One receiver's chunk. Nothing is copied: the arrays must live until
 * tdoa_chunk returns. */
struct tdoa_input {
	const float	*iq;		/* n interleaved I,Q float32 pairs
					   (complex64 as stored), any scale */
	size_t		 n;		/* complex samples, 64 .. 2^21 */
	double		 rate_hz;	/* measured sample rate, S/s */
	int64_t		 t0_ns;		/* time of iq[0]: ns since the Unix
					   epoch, UTC */
	double		 snr_db;	/* the chunk's measured SNR (metrics) */
	double		 band_lo_hz;	/* passband relative to the center;
					   both 0: the whole +-rate/2 */
	double		 band_hi_hz;
	const char	*skip_reason;	/* NULL = usable; else why not ("no
					   GPS time", "GPS fix stale") */
};

struct tdoa_pair {
	int	a, b;		/* indexes into the input array, a < b */
	double	tdoa_s;		/* arrival at a minus arrival at b, s */
	double	sigma_s;	/* 1-sigma uncertainty of tdoa_s, s */
	double	quality;	/* peak / highest side-lobe within the lag
				   window, beyond the main lobe (2 / shared
				   bandwidth each side); >= 1, ~1 means
				   ambiguous; 0 when the window has no
				   side-lobe region */
	double	corr;		/* normalized peak (coherence over the band
				   used), 0..1 */
};

struct tdoa_opts {
	double	min_snr_db;	/* receivers below are left out (6) */
	double	max_lag_s;	/* |TDoA| searched; also how far b's chunk
				   must extend beyond a's (0.02 s = 6000 km).
				   The engine may set it from its stations'
				   largest baseline / c plus clock margin. */
	int	partners;	/* pairs per receiver, 1 .. 64 (3) */
	double	notch_db;	/* a bin more than this above its
				   neighbourhood's median is a tone and is
				   notched; 0 = no notch (10) */
	double	taper_s;	/* raised-cosine edge of each segment (0:
				   min(0.1 s, 10 % of the chunk): shorter
				   edges let a carrier 20 dB above the
				   signal leak past the notch) */
};

struct tdoa_ctx;

/* The defaults above. */
void	tdoa_opts_default(struct tdoa_opts *o);

/* NULL opts = the defaults. NULL if an option is out of range (min_snr_db
 * not finite, max_lag_s outside 0 .. 1 s, partners outside 1 .. 64,
 * notch_db outside 0 .. 60, taper_s outside 0 .. 1) or out of memory. */
struct tdoa_ctx *tdoa_new(const struct tdoa_opts *opts);
void	tdoa_free(struct tdoa_ctx *c);

/* The most pairs tdoa_chunk can give for n inputs with these options
 * (min(n(n-1)/2, partners * n)): size `out` with it. */
int	tdoa_max_pairs(const struct tdoa_ctx *c, int n);

/*
 * The pairs of one chunk. in[0..n) are the receivers' chunks of the same
 * grid instant (their spans overlap; n 0 .. 100000). Writes *nout pairs
 * to out (each unordered pair once, a < b). A receiver left out has its
 * reason in tdoa_excluded(c, i); fewer than 2 usable receivers is not an
 * error: *nout = 0. 0, or -1 on invalid arguments (NULL, n or max out of
 * range, max < tdoa_max_pairs) or out of memory: tdoa_error says which.
 */
int	tdoa_chunk(struct tdoa_ctx *c, const struct tdoa_input *in, int n,
	    struct tdoa_pair *out, int max, int *nout);

/*
 * What tdoa_chunk(c, in, n, ...) would make before its first correlation,
 * without correlating: its buffers for these inputs' transform size and
 * the FFT plans it runs (planning is slow: ~1-3 ms at first, see
 * bench/README.md). For a caller that wants its first real chunk's delay
 * free of them. 0, or -1 as tdoa_chunk (tdoa_error); fewer than 2 usable
 * inputs prepare nothing. tdoa_excluded then says why inputs would be
 * left out.
 */
int	tdoa_prepare(struct tdoa_ctx *c, const struct tdoa_input *in, int n);

/* Why input i of the last tdoa_chunk was left out ("SNR 3.1 dB < 6 dB",
 * the input's own skip_reason, ...), or NULL if it was used or i is out
 * of range. Valid until the next tdoa_chunk or tdoa_free. */
const char *tdoa_excluded(const struct tdoa_ctx *c, int i);

/* The last error of tdoa_chunk ("" if none). */
const char *tdoa_error(const struct tdoa_ctx *c);

#endif
