/*
 * chunker.h -- cuts one receiver's sample stream into chunks of L seconds
 * (L = chunk_ms / 1000, 1 s unless chunker_set_chunk_ms says otherwise) by
 * sample count, on a time grid shared by every receiver of the session.
 *
 * The grid: the session's origin t0 (UTC s) is the first instant at which
 * every receiver streams. For a stream whose sample 0 was taken at anchor
 * (GPS time when the receiver has a fresh fix, else estimated from arrival)
 * at rate fs, chunk k holds the stream samples taken in [t0 + k*L,
 * t0 + (k+1)*L): indices [ceil(x0 + k*L*fs), ceil(x0 + (k+1)*L*fs)) with
 * x0 = (t0 - anchor)*fs -- floor(L*fs) or ceil(L*fs) of them, gapless, the
 * remainder of a frame carried into the next chunk, and chunk k of every
 * receiver starting in [t0 + k*L, t0 + k*L + 1/fs), within one sample of
 * the others. A reconnect
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
 * Exact time of each chunk (for TDoA): one sample at 12 kS/s is 83 us,
 * 25 km of path, so a chunk also carries the time of its first sample to
 * the nanosecond, t0_ns, from the receiver's GPS block stamps and its
 * measured sample rate -- not from the grid above, which only decides
 * which sample starts the chunk. Per stream, a least-squares line of stamp
 * (UTC ns) against stream sample index is fitted over every block that
 * carries a stamp, live: running means and co-moments (Welford's update,
 * O(1) per block, numerically stable), kept relative to the stream's
 * first fitted stamp so that doubles hold nanoseconds exactly (offsets
 * below 2^53 ns, 104 days). A chunk's t0_ns is that line at its first
 * sample when it is emitted (every stamp up to its end has been fitted;
 * stamps fit a line to ~0.2 us, a single stamp plus the nominal rate errs
 * by tens of us), and its measured rate is 1e9 / the line's slope. A stamp
 * joins the line only if it continues it (within 20 us + 20 ppm of the
 * span from the last fitted stamp; the first stamp is kept while a second
 * confirms it): the first stamp or two of a stream can be stale or zero.
 * Rejected stamps that continue each other form a rival line, which
 * replaces the stream's when it holds more stamps (a stale first stamp is
 * outvoted by the next two). A reconnect is a new stream: a new line (its
 * sample indices restart, and the receiver may have re-acquired its
 * clock). A chunk gets t0_ns only when its stream is placed on GPS time,
 * every block in it carried a stamp (a fresh fix), none of them came
 * before a rival line that took over or belongs to a rival still pending
 * (an outlier followed by stamps on the line is harmless: a lost sample
 * would have moved them all), and the grid agrees with the line at its
 * first sample (within 10 ms: a grid anchored on a stale stamp does
 * not); else time_src says why not.
 *
 * Re-placement: a stream's grid is fixed on its line as it stands when
 * the origin is set (or at a reconnect's first block), but a stale run of
 * stamps -- an old fix's, continuous among themselves, seconds off the
 * true time, the host clock and the other receivers -- can be longer than
 * that wait (a real receiver's is a stamp or two; nothing bounds it). A
 * grid on it puts every chunk of the stream seconds from its samples:
 * none would be stored. So once a settled line (two stamps or more, no
 * rival pending) puts the stream more than 10 ms from its grid, or gives
 * a young stream placed by the arrival clock (its GPS time distrusted
 * then) GPS time it is trusted with, the stream is re-placed on that
 * line: its grid fixed again, the partial chunk dropped and the chunks
 * not yet emitted or given up cut again from the samples kept -- the
 * ring holds a stream's newest ring_s seconds for its first RING_KEEP_S
 * (5 s), where stale runs occur. When the stale line set the session's
 * origin itself (a lone GPS receiver), the engine chooses the origin
 * again while no chunk is out (chunker_unset_origin).
 *
 * Chunk buffers are pooled per receiver: the owner hands a chunk it is done
 * with back (chunker_recycle) and the next chunk reuses its buffer, so a
 * recording allocates a receiver's buffers once and not every second (that
 * churn -- mmap, page faults, munmap and TLB shoot-downs on every core --
 * was 40 % of the recorder's CPU at 50 stations: bench/README.md). With
 * a spool file (chunker_spool, what the engine uses from ENGINE_SPOOL_MIN
 * receivers) the ring and the chunks' samples are in the file, not the
 * heap: a chunk is written to its slot as it fills and read back with
 * chunk_iq.
 *
 * Not thread-safe: one owner (the engine, under its session lock).
 */
#ifndef CHUNKER_H
#define CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#include "net/rx/receiver.h"

/* How a chunk is timed; why it has no t0_ns when it has none. */
enum chunk_time {
	CHUNK_TIME_LOCAL = 0,	/* the receiver gives no GPS time (rtl_tcp,
				   SpyServer, OpenWebRX, KiwiSDR without
				   GPS): placed by the arrival clock */
	CHUNK_TIME_GPS,		/* GPS time: t0_ns and fs_gps are set */
	CHUNK_TIME_GPS_STALE,	/* the receiver has GPS, but this chunk has
				   no fresh fix or stamps that continue its
				   stream's line (lost fix, stale or
				   inconsistent stamps) */
	CHUNK_TIME_GPS_REJECTED	/* its GPS time contradicts the session's
				   other GPS receivers (chunker_trust_gps) */
};

/* "gps", "gps_stale", "gps_rejected" or "local": the rows' time_source. */
const char	*chunk_time_name(enum chunk_time t);

struct chunk {
	int		 websdr;	/* 1-based station index */
	int		 index;		/* 0-based chunk index */
	double		 fs;		/* real sample rate of its stream */
	double		 t_first;	/* UTC (s) of iq[0] */
	int		 gps;		/* 1: t_first from GPS time */
	int		 gps_age;	/* s since fix at the chunk; -1 none */
	/* Why these two: TDoA needs each chunk's sample times to the
	 * nanosecond (t_first, a double on the grid, resolves ~240 ns and
	 * uses the nominal rate); see "Exact time" above. */
	int64_t		 t0_ns;		/* UTC ns of iq[0] from the GPS fit;
					   0 unless time_src is GPS */
	double		 fs_gps;	/* sample rate measured by the fit
					   (S/s); 0 unless GPS */
	enum chunk_time	 time_src;
	size_t		 n;		/* complex samples */
	size_t		 cap;		/* samples the chunk will hold */
	size_t		 room;		/* samples iq has room for (>= cap) */
	int16_t		*iq;		/* 2*room int16, interleaved I,Q;
					   NULL when spooled: */
	/* A chunk of a chunker that spools (chunker_spool) is written to
	 * its slot of the spool file as it fills: its n samples are at
	 * spool_off of spool_fd, read with chunk_iq. slot -1: on the heap. */
	int		 slot;
	int		 spool_fd;
	int64_t		 spool_off;
	double		 rssi_sum;	/* S-meter over the blocks in it */
	int		 rssi_n;
	int		 overflow;	/* blocks flagged ADC overflow */
	size_t		 lost;		/* zero-filled samples (seq gaps) */
};

/* Frees a chunk (use chunker_recycle to give it back for reuse). */
void	chunk_free(struct chunk *c);
/* A chunk's samples (2*n int16): c->iq, or a spooled chunk's read into
 * *buf (grown as needed, *cap samples; the caller frees it). NULL if they
 * cannot be read (errno set). */
const int16_t	*chunk_iq(const struct chunk *c, int16_t **buf, size_t *cap);

/* Called for each finished chunk; takes ownership. */
typedef void (*chunker_emit_fn)(void *ctx, struct chunk *c);

struct chunker;

/* total: chunks in the session; ring_s: seconds of samples kept (the
 * newest ring_s) before the origin is known, and in a stream's first
 * seconds for a re-placement: the chunk in progress when a stale run is
 * outvoted must still be there (2 s covers a run of ~1 s). */
struct chunker	*chunker_new(int websdr, int total, double ring_s);
void		 chunker_free(struct chunker *ch);
/* The chunk length in ms (the session's chunk_ms, validated by
 * session_validate); 1000 by default. Only before the first chunk is cut
 * (ignored after). */
void		 chunker_set_chunk_ms(struct chunker *ch, int ms);

/* A new stream begins at rate fs (drops any partial chunk). */
void		 chunker_stream(struct chunker *ch, double fs);
/* Feed samples of the current stream; emits finished chunks. A block's
 * t_gps_ns (0: none) feeds the stream's time fit. */
void		 chunker_feed(struct chunker *ch, const struct rx_block *b,
		    chunker_emit_fn emit, void *ctx);
/* Time of the oldest sample still buffered for the current stream (before
 * the origin is set): 0 and *t, or -1 when nothing is buffered. */
int		 chunker_oldest(const struct chunker *ch, double *t);
/* Set the session origin; buffered samples are cut at once. */
void		 chunker_set_origin(struct chunker *ch, double t0,
		    chunker_emit_fn emit, void *ctx);
/* Back to before the origin, while no chunk was emitted or given up (the
 * engine chooses it again: chunker.h "Re-placement"); the samples kept
 * for the stream are cut when it is set. No-op otherwise. */
void		 chunker_unset_origin(struct chunker *ch);
/*
 * Keep the ring's samples and the chunks' in file fd, bytes [base, base +
 * room), instead of the heap (fd -1: the heap, the default): the ring in
 * the first half, the chunks in slots of the second (a chunk is written
 * to its slot as it fills; chunk_iq reads it back). Why: the ring is
 * ring_s seconds of every young stream, 96 KiB a KiwiSDR, and each
 * receiver has a chunk filling and one or more waiting to be stored, 47
 * KiB each; at 1000 receivers those were 87 + 35..96 MB of a 203 MB peak
 * heap (bench/README.md), all live at once. In a file they are page cache
 * the kernel can reclaim (written back only if kept past dirty_expire,
 * 30 s; a dropped ring's pages are punched out, a slot is rewritten each
 * second). What does not fit (a faster stream's ring, a chunk larger
 * than the slots, more chunks than slots) stays on the heap. A write
 * that fails loses what it was writing (that ring's samples, that chunk:
 * missing, as when the heap cannot be allocated) and what follows is on
 * the heap. The file stays the caller's; call before feeding.
 */
void		 chunker_spool(struct chunker *ch, int fd, int64_t base,
		    size_t room);
/* Chunks < k will not be produced (the engine gave up on them). */
void		 chunker_skip(struct chunker *ch, int k);
/* The next chunk index the chunker would produce (total when done). */
int		 chunker_next(const struct chunker *ch);
/* Give a chunk of ch's (emitted earlier, now done with) back: its buffer
 * serves a later chunk. Frees it when the pool is full. */
void		 chunker_recycle(struct chunker *ch, struct chunk *c);
/* 1 if the current stream uses GPS time. */
int		 chunker_gps(const struct chunker *ch);
/* The time line's generation: changes with a new stream and when a rival
 * line of stamps replaces the stream's. A receiver's clock measured from
 * stamps before a change is not its clock. */
int		 chunker_line(const struct chunker *ch);
/* 1 if the last block fed carried a stamp that is on the stream's line:
 * only those measure the receiver's clock (a rival's are not its time
 * yet, and may never be). */
int		 chunker_on_line(const struct chunker *ch);
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
