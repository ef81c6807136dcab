/*
 * locate.h -- live localization of one acquisition: per chunk index, the
 * TDoA of the usable receivers' pairs and a position fix; at the end the
 * session fix. The engine feeds it; it owns the chunk copies it holds, its
 * worker thread, and the TDoA and fix rows of the session.
 *
 * Feeding (acquisition thread, never blocks on computation):
 *   locate_offer()    a finished chunk, as the chunker emits it (the loop
 *                     thread: no wait for metrics or storage): usable ones
 *                     (GPS-timed, fresh fix, complex IQ) are copied as
 *                     complex float (the chunk's own buffer goes on to be
 *                     stored and recycled as before); the others are
 *                     recorded with the reason ("rtl_tcp: no sample
 *                     timestamps", "GPS fix stale (45 s)"). The SNR gate
 *                     (snr_min_db) is applied on each receiver's SNR as
 *                     its correlations with the others measure it ("SNR
 *                     2.1 dB < 6 dB (measured by its correlation ...)"),
 *                     not on the chunk metric's SNR (metrics.h), which
 *                     reads a signal that fills the passband as noise (a
 *                     10 kHz noise-like signal at 20 dB reads -18 dB).
 *                     Receivers are ranked by their chunk's power.
 *   locate_exclude()  a chunk that will not come (missing: its reason).
 *   locate_settled()  chunk index k is settled on every receiver.
 * Chunk index k is located as soon as every receiver has been offered or
 * excluded for it (no wait for the storage barrier), or at the latest when
 * the engine says it is settled, on locate's own thread: TDoA of the pairs
 * (src/loc/tdoa.h), then the fix (src/loc/fix.h). It emits
 *   session:tdoa  {session_id, chunk_index, pairs:[{websdr_a, station_a,
 *                  websdr_b, station_b, tdoa_us, sigma_us, quality, corr}],
 *                  excluded:[{websdr, station, reason}]}
 *   session:fix   {session_id, chunk_index | final:true, ok, reason (not
 *                  ok), latitude, longitude, ellipse:{semi_major_m,
 *                  semi_minor_m, orientation_deg}, cep50_m, cep95_m,
 *                  receivers:[websdr...], pairs_used, pairs_rejected
 *                  (TDoA pairs; the session fix: those of the chunk
 *                  fixes it combines), the session fix only:
 *                  chunks_used, chunks_rejected (chunk fixes combined,
 *                  dropped as outliers); and with a known source that
 *                  has coordinates: error_m,
 *                  residuals:[{websdr, station, residual_us}], worst:{websdr,
 *                  station, residual_us}}
 * A fix with fewer than 3 usable receivers is ok:false with the reason,
 * never a position.
 *
 * Memory is bounded whatever the number of stations: at most max_rx
 * receivers are held per chunk index (the strongest by power; the others
 * are excluded, "not among the 64 strongest"), and at most LOCATE_SLOTS chunk
 * indices at once (a chunk index that would need a further slot is located
 * with what it has, and receivers that come later are excluded as late).
 * A chunk index is 12 kS/s x 8 bytes = 96 KiB per receiver: 3 x 64 x 96 KiB
 * = 18 MiB at most, with 1000 stations as with 64.
 *
 * Rows (flat, one SQL table each, see locate_rows()):
 *   tdoa  {session_id, chunk_index, websdr_a, websdr_b, tdoa_us, sigma_us,
 *          quality, corr}
 *   fixes {session_id, chunk_index (null for the session fix), final, ok,
 *          reason, latitude, longitude, semi_major_m, semi_minor_m,
 *          orientation_deg, cep50_m, cep95_m, receivers ([websdr]),
 *          pairs_used, error_m, worst_websdr, worst_residual_us}
 * Numbers that do not apply are null (no fix: no position; no known
 * source: no error). Each chunk index's rows go to cfg.persist right after
 * its session:fix (the engine writes them to the session folder:
 * dataset_put_loc), so they survive a crash of the recorder.
 *
 * Thread-safe: offer/exclude/settled from the acquisition thread (with or
 * without the engine's locks: locate takes only its own), finish once.
 */
#ifndef LOCATE_H
#define LOCATE_H

#include <jansson.h>
#include <stdint.h>

#include "src/base/station.h"

#define LOCATE_SNR_MIN_DB	6.0	/* a receiver's SNR to take part */
#define LOCATE_GPS_MAX_AGE_S	10	/* s since the GPS fix: fresh (as the
					   KiwiSDR driver's) */
#define LOCATE_MAX_RX		64	/* receivers held per chunk index */
#define LOCATE_SLOTS		3	/* chunk indices held at once */

struct chunk;
struct events;
struct locate;

struct locate_config {
	const struct stations	*stations;	/* borrowed: names, types,
						   positions */
	const unsigned char	*absent;	/* stations->n flags: 1 = not
						   in the session (left out:
						   never offered); NULL: none
						   (copied) */
	struct events		*ev;		/* borrowed */
	const char		*session_id;	/* copied */
	int			 total;		/* chunks in the session */
	int			 chunk_ms;	/* their length (0: 1000) */
	double			 snr_min_db;	/* 0: LOCATE_SNR_MIN_DB */
	int			 max_rx;	/* 0: LOCATE_MAX_RX */
	double			 band_lo_hz;	/* the session's passband, Hz */
	double			 band_hi_hz;	/* (both 0: the whole band) */
	/* Called on locate's thread soon after each chunk's end, so that
	 * the receivers' loop, which rests between turns, delivers the
	 * frames that complete the chunk at once (NULL: never). Quick, must
	 * not call back into locate. */
	void			(*nudge)(void *ctx);
	void			*nudge_ctx;
	/* Called on locate's thread once chunk index k is located (after
	 * its session:fix), and with k = -1 for the session fix: its TDoA
	 * rows (NULL: none) and fix rows (an array of one), borrowed, as in
	 * locate_rows(); to make them durable as they come (NULL: never).
	 * Must not call back into locate. */
	void			(*persist)(void *ctx, int k, const json_t *tdoa,
				    const json_t *fixes);
	void			*persist_ctx;
	int			 has_source;	/* a known source with coords */
	double			 source_lat;	/* degrees */
	double			 source_lon;
};

struct locate	*locate_new(const struct locate_config *cfg, char *err,
		    size_t errlen);
/* audio: the samples are real audio (no phase: not usable). Copies what
 * it keeps; quick (one pass over the samples). */
void		 locate_offer(struct locate *l, const struct chunk *c,
		    int audio);
/* Chunk k of websdr will not come (missing): reason says why. */
void		 locate_exclude(struct locate *l, int websdr, int k,
		    const char *reason);
void		 locate_settled(struct locate *l, int k);
/* 1 when chunk index k can be offered now without making a receiver late
 * or skipping it (a slot holds k already, or one is free beside the one
 * kept for the worker's next); 0 while the worker is behind. A replay
 * (engine_config.replay) waits for it; a live session cannot. */
int		 locate_can_take(struct locate *l, int k);
/* The session's grid is known: chunk k covers [t0 + k*L, t0 + (k+1)*L)
 * (UTC s on the session's time line; L = chunk_ms / 1000); fs: a receiver's
 * rate (0: unknown);
 * ngps: how many receivers are on GPS time now (-1: unknown). With
 * ngps >= 2 (or -1) the thread prepares the TDoA for chunks of that size
 * (FFTW plans, buffers, the geodesic module) and nudges the receivers'
 * loop after each chunk's end (nudge above). Without, neither: a session
 * that cannot locate does not pay for it (its first GPS-timed chunk
 * starts the nudges; TDoA and fix then prepare on first use). */
void		 locate_grid(struct locate *l, double t0, double fs, int ngps);
/* A block of GPS-timed samples of websdr reached the host: the GPS time
 * of its end (ns), a block's length (ns) and the receiver's clock figure
 * (GPS minus host time at a block's arrival, the least delay seen, s).
 * From them the nudges (above) go when the frames that complete a chunk
 * are due, not at fixed steps. Quick (locate's lock only). */
void		 locate_block(struct locate *l, int websdr, int64_t end_ns,
		    int64_t len_ns, double clk);
/* Wait until the chunk indices queued so far are located (those still
 * filling wait for their receivers): for tests and benchmarks. */
void		 locate_drain(struct locate *l);
/* Locate what is left, stop the thread, then the session fix (emitted as
 * session:fix with final:true). Idempotent. */
void		 locate_finish(struct locate *l);
/* The rows so far (new references): *tdoa and *fixes arrays as above;
 * *final the session fix row (NULL before locate_finish). */
void		 locate_rows(struct locate *l, json_t **tdoa, json_t **fixes,
		    json_t **final);
/* A copy of the last session:fix data said (new reference, NULL if none
 * yet): final 0, the highest chunk index's; 1, the session fix's (after
 * locate_finish). */
json_t		*locate_latest_fix(struct locate *l, int final);
void		 locate_free(struct locate *l);

#endif
