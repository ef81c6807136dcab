/*
 * arrays.h -- a stored session as training arrays: one .npz per session
 * (a zip of .npy members, written with libzip) that numpy.load opens with
 * no custom code. It owns the export's layout; doc/arrays.md lists every
 * array, its shape, dtype and unit.
 *
 *   iq        (W, R, 2, L) float32  every receiver resampled (libsoxr) to
 *                                   one rate and aligned on each window's
 *                                   start instant; [.., 0, :] I, [.., 1, :] Q
 *   mask      (W, R) bool           the receiver's window is whole: every
 *                                   stored chunk it overlaps is there
 *   features  (W, R, 7) float32     snr_db, signal_db, noise_floor_db,
 *                                   freq_offset_hz, latitude, longitude,
 *                                   altitude_m (NaN where masked/unknown)
 *   ... receiver positions, window times, target, TDoA and fixes
 *
 * W windows tile the session's time line from its origin T0 (chunk 0's
 * grid instant): window j covers [T0 + j w, T0 + (j + 1) w), w = chunk_ms
 * (by default the stored chunks' length: the manifest's chunk_ms, 1000 for
 * sessions recorded before it was kept). The output rate is chosen so that a window
 * holds a whole number L of samples: the windows of a receiver are then
 * consecutive pieces of one sample stream, gapless at the seams.
 *
 * Timing: for every run of consecutive stored chunks of a receiver, the
 * time of each input sample is the least-squares line through its chunks'
 * first-sample times (t0_ns when every chunk of the run has one -- GPS --,
 * else the rows' timestamps) against their sample index; soxr resamples the
 * run at that line's rate, and a windowed-sinc fractional delay puts the
 * output samples on T0 + n / rate exactly (soxr's output starts on its
 * input's first sample; the remaining fraction of a sample is the delay).
 *
 * libzip and libsoxr are loaded on first use (store/lazylib.c).
 */
#ifndef ARRAYS_H
#define ARRAYS_H

#include <stddef.h>

struct dataset;

struct arrays_opts {
	const char	*out_dir;	/* where <session_id>.npz goes; NULL: "." */
	double		 rate_hz;	/* 0: the session's lowest measured rate,
					   rounded down to whole samples per
					   window; else it must give whole
					   samples per window */
	int		 chunk_ms;	/* window length, 1 .. the stored
					   chunks' length; 0: that length */
};

/* Bounds on what one export accepts (untrusted manifests). */
#define ARRAYS_MAX_RX		256
#define ARRAYS_MAX_CHUNKS	100000
#define ARRAYS_MAX_RATE		10e6

/*
 * Export session `id` of ds to out_dir/<id>.npz (written to a temporary
 * name and renamed: never a torn file). out_path gets the file's path.
 * 0, or -1 with the reason in err (naming the session, the chunk file or
 * the option). The session may be in progress: its chunks with rows are
 * exported.
 */
int	arrays_export(struct dataset *ds, const char *id,
	    const struct arrays_opts *opts, char *out_path, size_t out_len,
	    char *err, size_t errlen);

#endif
