/*
 * chunker.h -- cuts one receiver's sample stream into 1-second chunks by
 * sample count, on a time grid shared by every receiver of the session.
 *
 * The grid: the session's origin t0 (UTC s) is the first instant at which
 * every receiver streams. For a stream whose sample 0 was taken at anchor
 * (GPS time when the receiver has a fresh fix, else estimated from arrival)
 * at rate fs, chunk k holds the stream samples taken in [t0 + k, t0 + k + 1):
 * indices [ceil(x0 + k*fs), ceil(x0 + (k+1)*fs)) with x0 = (t0 - anchor)*fs
 * -- floor(fs) or ceil(fs) of them, gapless, the remainder of a frame
 * carried into the next chunk, and chunk k of every receiver starting in
 * [t0 + k, t0 + k + 1/fs), within one sample of the others. A reconnect
 * starts a new
 * stream with a new anchor on the same grid; chunks it only partly covers
 * are never produced (the engine records them as missing).
 *
 * Time line: t0, anchors and t_first are on the session's time line, GPS
 * time (UTC) when any receiver has a fix. A GPS anchor is on it as stamped;
 * an arrival-clock anchor is the host clock plus the offset the engine
 * measured between the host and the GPS receivers (chunker_set_clock; 0
 * without GPS), so a host clock seconds off GPS time still puts every
 * receiver's chunk k on the same second.
 *
 * Chunk buffers are pooled per receiver: the owner hands a chunk it is done
 * with back (chunker_recycle) and the next chunk reuses its buffer, so a
 * recording allocates a receiver's buffers once and not every second (that
 * churn -- mmap, page faults, munmap and TLB shoot-downs on every core --
 * was 40 % of the recorder's CPU at 50 stations: bench/README.md).
 *
 * Not thread-safe: one owner (the engine, under its session lock).
 */
#ifndef CHUNKER_H
#define CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#include "net/rx/receiver.h"

struct chunk {
	int		 websdr;	/* 1-based station index */
	int		 index;		/* 0-based chunk index */
	double		 fs;		/* real sample rate of its stream */
	double		 t_first;	/* UTC (s) of iq[0] */
	int		 gps;		/* 1: t_first from GPS time */
	int		 gps_age;	/* s since fix at the chunk; -1 none */
	size_t		 n;		/* complex samples */
	size_t		 cap;		/* samples the chunk will hold */
	size_t		 room;		/* samples iq has room for (>= cap) */
	int16_t		*iq;		/* 2*room int16, interleaved I,Q */
	double		 rssi_sum;	/* S-meter over the blocks in it */
	int		 rssi_n;
	int		 overflow;	/* blocks flagged ADC overflow */
	size_t		 lost;		/* zero-filled samples (seq gaps) */
};

/* Frees a chunk (use chunker_recycle to give it back for reuse). */
void	chunk_free(struct chunk *c);

/* Called for each finished chunk; takes ownership. */
typedef void (*chunker_emit_fn)(void *ctx, struct chunk *c);

struct chunker;

/* total: chunks in the session; ring_s: seconds of samples kept before the
 * origin is known (0.5 is plenty: the origin is always recent). */
struct chunker	*chunker_new(int websdr, int total, double ring_s);
void		 chunker_free(struct chunker *ch);

/* A new stream begins at rate fs (drops any partial chunk). */
void		 chunker_stream(struct chunker *ch, double fs);
/* Feed samples of the current stream; emits finished chunks. */
void		 chunker_feed(struct chunker *ch, const struct rx_block *b,
		    chunker_emit_fn emit, void *ctx);
/* Time of the oldest sample still buffered for the current stream (before
 * the origin is set): 0 and *t, or -1 when nothing is buffered. */
int		 chunker_oldest(const struct chunker *ch, double *t);
/* Set the session origin; buffered samples are cut at once. */
void		 chunker_set_origin(struct chunker *ch, double t0,
		    chunker_emit_fn emit, void *ctx);
/* Chunks < k will not be produced (the engine gave up on them). */
void		 chunker_skip(struct chunker *ch, int k);
/* The next chunk index the chunker would produce (total when done). */
int		 chunker_next(const struct chunker *ch);
/* Give a chunk of ch's (emitted earlier, now done with) back: its buffer
 * serves a later chunk. Frees it when the pool is full. */
void		 chunker_recycle(struct chunker *ch, struct chunk *c);
/* 1 if the current stream uses GPS time. */
int		 chunker_gps(const struct chunker *ch);
/* The session's time line minus the host clock (s): shifts arrival-clock
 * anchors (oldest, grid, t_first) of streams without GPS. Takes effect for
 * a stream whose grid is not fixed yet (before the origin, or a reconnect's
 * first block after it). */
void		 chunker_set_clock(struct chunker *ch, double offset);
/* trust 0: this receiver's GPS stamps are wrong (the other GPS receivers
 * agree on another time): place its streams by the arrival clock instead,
 * the current one too if its grid is not fixed yet. 1 (the default):
 * use them. */
void		 chunker_trust_gps(struct chunker *ch, int trust);

#endif
