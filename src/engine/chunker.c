/* chunker.c -- one receiver's stream cut into chunks of L seconds (L = chunk_ms/1000) on the session's time grid. */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/engine/chunker.h"
#include "src/base/util.h"

#define CHUNKER_POOL	1
#define FIT_TOL_NS	20e3	/* a stamp continues a line within this */
#define FIT_TOL_PPM	20.0	/* + this much of the span it is projected
				   over (receivers differ by ~15 ppm from
				   the nominal rate a lone stamp goes by) */
#define FIT_GRID_TOL_S	10e-3	/* grid and fit disagree by more: the grid
				   was anchored on a stale stamp (a frame is
				   43 ms; the nominal rate's drift over 30 s
				   is a few us) */
#define RING_KEEP_S	5.0	/* a stream's first seconds stay buffered
				   after the origin, for a re-placement
				   (stale stamps are a stream-start event:
				   a run of them is outvoted within ~2x its
				   length, under a second) */
#define REPLACE_FAR_S	0.5	/* moved this far, a partial chunk's
				   samples belong to another second */

/*
 * A least-squares line of GPS stamp (UTC ns) against stream sample index,
 * updated one stamp at a time (chunker.h, "Exact time"). Coordinates are
 * relative to the first point, (x0, y0): integers below 2^53, exact in a
 * double. mx, my are the means of those, sxx, sxy the co-moments about
 * them (Welford): no sum of squares of large numbers is ever subtracted.
 */
struct tfit {
	int		 n;		/* points */
	int64_t		 x0, y0;	/* the first point */
	int64_t		 xl;		/* the last point's x */
	double		 mx, my;
	double		 sxx, sxy;
};

struct chunker {
	int		 websdr;
	int		 total;
	int		 chunk_ms;	/* chunk length (chunker_set_chunk_ms) */
	double		 ring_s;

	/* The current stream: sample index pos is the next one to arrive.
	 * anchor is the UTC time of stream sample 0. */
	int		 streaming;
	double		 fs;
	int64_t		 pos;
	int		 anchored;
	double		 anchor;
	int		 gps;
	int		 gps_age;
	/* Offset (s) from the host clock to the session's time line, added
	 * to an arrival-clock anchor (never to a GPS one). */
	double		 clock;
	/* The arrival-clock bound on the anchor, kept even with GPS so a
	 * stream whose GPS time is distrusted falls back to it at once. */
	int		 arr_ok;
	double		 arr;
	int		 nogps;		/* ignore GPS stamps (distrusted) */
	/* The current stream's time fit, a rival line of stamps that do not
	 * continue it (alt_end: the end of its last block), and the end
	 * (stream index) of the last block without a stamp on the line:
	 * chunks starting before it, or before a pending rival's end, get
	 * no t0_ns. */
	struct tfit	 fit;
	struct tfit	 alt;
	int64_t		 alt_end;
	int64_t		 bad_end;
	/* The stream's placement is superseded (its grid was fixed on a
	 * line a rival has since replaced, or on the arrival clock while
	 * its GPS time was distrusted): re-place it on the current line. */
	int		 replace;
	int		 line;		/* line generation (chunker_line) */
	int		 on_line;	/* the last block's stamp is on it */

	/* Before the origin is known, the newest samples of the stream wait
	 * here; after it, they are kept for the stream's first RING_KEEP_S
	 * (stream index below keep_until), from which a re-placed stream is
	 * cut again. Circular: stream sample p (ring_start <= p < ring_start
	 * + ring_len) is at slot p % ring_cap, and ring_cap is the ring_s
	 * seconds kept. (It was linear, the oldest samples moved down in
	 * bulk: at 1000 receivers that memmove was the network thread's
	 * largest cost, and the 1.5x room a third more memory.) */
	int16_t		*ring;
	size_t		 ring_cap;
	/* Or in a file (chunker_spool): the ring's slots at spool_base of
	 * spool_fd (spool_room bytes), in the page cache, not the heap.
	 * spool_ok: the ring's samples are all there (a failed write
	 * loses them, as a failed allocation does the memory ring's). */
	int		 spool_fd;
	int64_t		 spool_base;
	size_t		 spool_room;
	int		 spool_ok;
	/* The chunks' slots, the region's second half: slot_room samples
	 * each (fixed by the first chunk: a chunk in flight keeps its
	 * offset whatever the next stream's rate), nslots of them,
	 * slot_busy the ones a chunk holds (filling, emitted or pooled);
	 * slot_fail: a write failed, no more slots. */
	size_t		 slot_room;
	int		 nslots;
	uint32_t	 slot_busy;
	int		 slot_fail;
	size_t		 ring_len;
	int64_t		 ring_start;
	/* The ring's zero-filled stretches (sequence gaps), stream indices:
	 * a chunk cut from the ring counts them in its lost samples as a
	 * chunk cut from the live blocks does. */
	struct lost_run { int64_t start, n; } *lost;
	int		 lost_n;
	int		 lost_cap;
	int64_t		 keep_until;

	/* The grid: origin t0, and x0 = (t0 - anchor) * fs, where t0 falls
	 * in the stream counted in samples (fractional; negative after a
	 * reconnect), fixed once per stream. */
	int		 has_origin;
	double		 t0;
	int		 grid;
	double		 x0;
	double		 base;		/* anchor_t() when the grid was fixed */

	int		 next;		/* next chunk index to produce */
	int		 low;		/* chunks below: emitted or given up */
	struct chunk	*cur;		/* chunk being filled (index next) */

	/* Chunks given back (chunker_recycle), their buffers ready for
	 * reuse. One suffices: a chunk fills while the previous one is
	 * stored, then that one's buffer waits here for the next. A buffer
	 * more, made while storage lagged, is freed when given back. */
	struct chunk	*pool[CHUNKER_POOL];
	int		 npool;
};

void
chunk_free(struct chunk *c)
{
	if (c == NULL)
		return;
	free(c->iq);
	free(c);
}

const int16_t *
chunk_iq(const struct chunk *c, int16_t **buf, size_t *cap)
{
	int16_t	*b;

	if (c->iq != NULL || c->slot < 0)
		return c->iq;
	if (*buf == NULL || *cap < c->n) {
		if ((b = realloc(*buf, 2 * (c->n ? c->n : 1) * sizeof *b)) ==
		    NULL)
			return NULL;
		*buf = b;
		*cap = c->n;
	}
	if (util_pread_all(c->spool_fd, *buf, 4 * c->n, c->spool_off) != 0)
		return NULL;
	return *buf;
}

/* A chunk given up for good: its slot is free again. */
static void
chunk_release(struct chunker *ch, struct chunk *c)
{
	if (c->iq == NULL && c->slot >= 0 && c->slot < 32)
		ch->slot_busy &= ~((uint32_t)1 << c->slot);
	chunk_free(c);
}

/* A free slot for a chunk of len samples: its number, or -1 (the chunk
 * goes on the heap). */
static int
slot_take(struct chunker *ch, size_t len)
{
	size_t	 half = ch->spool_room / 2;
	int	 j;

	if (ch->spool_fd < 0 || ch->slot_fail)
		return -1;
	if (ch->slot_room == 0) {
		ch->slot_room = (size_t)ceil(ch->fs);
		if (ch->slot_room < len)
			ch->slot_room = len;
		ch->nslots = (int)(half / (4 * ch->slot_room));
		if (ch->nslots > 32)
			ch->nslots = 32;
	}
	if (len > ch->slot_room)
		return -1;
	for (j = 0; j < ch->nslots; j++)
		if (!(ch->slot_busy & ((uint32_t)1 << j))) {
			ch->slot_busy |= (uint32_t)1 << j;
			return j;
		}
	return -1;
}

const char *
chunk_time_name(enum chunk_time t)
{
	switch (t) {
	case CHUNK_TIME_GPS:
		return "gps";
	case CHUNK_TIME_GPS_STALE:
		return "gps_stale";
	case CHUNK_TIME_GPS_REJECTED:
		return "gps_rejected";
	case CHUNK_TIME_LOCAL:
		break;
	}
	return "local";
}

static void
fit_add(struct tfit *f, int64_t x, int64_t y)
{
	double	 u, v, du;

	if (f->n == 0) {
		memset(f, 0, sizeof *f);
		f->x0 = x;
		f->y0 = y;
	}
	u = (double)(x - f->x0);
	v = (double)(y - f->y0);
	f->n++;
	du = u - f->mx;
	f->mx += du / f->n;
	f->my += (v - f->my) / f->n;
	/* with the new means: C_n = C_n-1 + (u - mx_old) (v - my_new) */
	f->sxx += du * (u - f->mx);
	f->sxy += du * (v - f->my);
	f->xl = x;
}

/* The line's slope, ns per sample; the nominal rate's until it has two
 * points. */
static double
fit_slope(const struct tfit *f, double fs)
{
	if (f->n >= 2 && f->sxx > 0)
		return f->sxy / f->sxx;
	return 1e9 / fs;
}

/* The line at stream index x, ns after its first point's stamp y0. */
static double
fit_at(const struct tfit *f, int64_t x, double fs)
{
	double	 u = (double)(x - f->x0);

	if (f->n >= 2 && f->sxx > 0)
		return f->my + fit_slope(f, fs) * (u - f->mx);
	return u * 1e9 / fs;
}

/* The line at x as UTC ns: rounded once, at the end, to the nanosecond. */
static int64_t
fit_ns(const struct tfit *f, int64_t x, double fs)
{
	return f->y0 + (int64_t)llround(fit_at(f, x, fs));
}

/* 1 if stamp y at index x continues the line f (which has a point). */
static int
fit_continues(const struct tfit *f, int64_t x, int64_t y, double fs)
{
	double	 span = fabs((double)(x - f->xl)) * 1e9 / fs;

	return fabs((double)(y - f->y0) - fit_at(f, x, fs)) <=
	    FIT_TOL_NS + FIT_TOL_PPM * 1e-6 * span;
}

struct chunker *
chunker_new(int websdr, int total, double ring_s)
{
	struct chunker	*ch;

	ch = calloc(1, sizeof *ch);
	if (ch == NULL)
		return NULL;
	ch->websdr = websdr;
	ch->total = total;
	ch->ring_s = ring_s > 0 ? ring_s : 0.5;
	ch->chunk_ms = 1000;
	ch->gps_age = -1;
	ch->spool_fd = -1;
	return ch;
}

void
chunker_set_chunk_ms(struct chunker *ch, int ms)
{
	if (ms > 0 && ch->next == 0 && ch->cur == NULL)
		ch->chunk_ms = ms;
}

void
chunker_free(struct chunker *ch)
{
	if (ch == NULL)
		return;
	while (ch->npool > 0)
		chunk_free(ch->pool[--ch->npool]);
	chunk_free(ch->cur);
	free(ch->ring);
	free(ch->lost);
	free(ch);
}

void
chunker_stream(struct chunker *ch, double fs)
{
	/* A partial chunk cannot be completed from another stream: its samples
	 * would not be contiguous. Drop it; the engine records it missing. */
	if (ch->cur != NULL)
		chunker_recycle(ch, ch->cur);
	ch->cur = NULL;
	/* next stays: the new stream's grid skips what it cannot cover. */
	ch->streaming = 1;
	ch->fs = fs;
	ch->pos = 0;
	ch->anchored = 0;
	ch->arr_ok = 0;
	ch->gps = 0;
	ch->grid = 0;
	ch->ring_len = 0;
	ch->ring_start = 0;
	ch->lost_n = 0;
	/* A new line: sample indices restart, and the receiver may have a
	 * new clock state; nothing of the old stream's fit applies. */
	ch->fit.n = 0;
	ch->alt.n = 0;
	ch->bad_end = 0;
	ch->replace = 0;
	ch->line++;
	ch->keep_until = (int64_t)(RING_KEEP_S * fs);
}

/*
 * Start index (stream samples) of grid chunk k in the current stream: the
 * first sample taken at or after t0 + k*L (L the chunk length, s). Chunk k
 * is then exactly the samples of [t0 + k*L, t0 + (k+1)*L), at the real
 * rate: k*L*fs and not k*round(L*fs), so the fraction of 12001.135 S/s
 * carries into the next chunk instead of drifting (chunks hold floor(L*fs)
 * or ceil(L*fs) samples), and chunk k of every receiver starts in
 * [t0 + k*L, t0 + k*L + 1/fs): within
 * one sample of the others. The epsilon keeps a sample exactly on the
 * boundary from rounding up through float noise.
 */
/* The current stream's anchor on the session's time line: GPS time as
 * stamped, an arrival-clock estimate shifted by the host's offset. */
static double
anchor_t(const struct chunker *ch)
{
	return ch->gps ? ch->anchor : ch->anchor + ch->clock;
}

static int64_t
chunk_start(const struct chunker *ch, int k)
{
	/* k * chunk_ms is an exact integer: (double)k * 0.2 would not be,
	 * and chunk k's first sample must not depend on that rounding. */
	return (int64_t)ceil(ch->x0 + (double)k * ch->chunk_ms * ch->fs /
	    1000.0 - 1e-6);
}

static void
fix_grid(struct chunker *ch)
{
	/* Frozen with the grid: a later refinement of the clock offset must
	 * not move chunks of this stream off the positions x0 gave them. */
	ch->base = anchor_t(ch);
	ch->x0 = (ch->t0 - ch->base) * ch->fs;
	ch->grid = 1;
}

static struct chunk *
chunk_new(struct chunker *ch, int k, size_t len)
{
	struct chunk	*c = NULL;
	int16_t		*iq;
	size_t		 room;
	int		 slot = -1;

	while (c == NULL && ch->npool > 0) {
		c = ch->pool[--ch->npool];
		if (c->room < len || (c->iq == NULL && ch->slot_fail)) {
			/* from a slower stream before a reconnect (or its
			 * slot cannot be written) */
			chunk_release(ch, c);
			c = NULL;
		}
	}
	if (c == NULL && (slot = slot_take(ch, len)) >= 0) {
		if ((c = malloc(sizeof *c)) == NULL) {
			ch->slot_busy &= ~((uint32_t)1 << slot);
			return NULL;
		}
		iq = NULL;
		room = ch->slot_room;
	} else if (c == NULL) {
		/* Room for the longest chunk of this stream (chunks hold
		 * floor(L*fs) or ceil(L*fs) samples, L the chunk length in
		 * s), so any can reuse it. */
		room = (size_t)ceil(ch->fs * ch->chunk_ms / 1000.0);
		if (room < len)
			room = len;
		if ((c = malloc(sizeof *c)) == NULL)
			return NULL;
		if ((iq = malloc(2 * room * sizeof *iq)) == NULL) {
			free(c);
			return NULL;
		}
		/* filled whole, then reused for the session (recycled) */
		(void)util_prefault(iq, 2 * room * sizeof *iq);
	} else {
		iq = c->iq;
		room = c->room;
		slot = c->iq == NULL ? c->slot : -1;
	}
	memset(c, 0, sizeof *c);
	c->iq = iq;
	c->room = room;
	c->slot = slot;
	c->spool_fd = slot >= 0 ? ch->spool_fd : -1;
	c->spool_off = slot >= 0 ? ch->spool_base + (int64_t)(ch->spool_room /
	    2) + (int64_t)slot * 4 * (int64_t)ch->slot_room : 0;
	c->websdr = ch->websdr;
	c->index = k;
	c->fs = ch->fs;
	c->t_first = ch->base + (double)chunk_start(ch, k) / ch->fs;
	c->gps = ch->gps;
	c->gps_age = ch->gps_age;
	c->cap = len;
	return c;
}

/*
 * A finished chunk's exact time (chunker.h, "Exact time"): the stream's
 * line at its first sample, when the chunk is on GPS time throughout.
 */
static void
chunk_timing(const struct chunker *ch, struct chunk *c)
{
	int64_t	 start = chunk_start(ch, c->index), t;

	c->t0_ns = 0;
	c->fs_gps = 0;
	if (ch->nogps) {
		c->time_src = CHUNK_TIME_GPS_REJECTED;
		return;
	}
	if (ch->gps && ch->fit.n >= 2 && ch->bad_end <= start &&
	    (ch->alt.n == 0 || ch->alt_end <= start)) {
		t = fit_ns(&ch->fit, start, ch->fs);
		if (fabs((double)(t - (int64_t)llround(c->t_first * 1e9))) <
		    FIT_GRID_TOL_S * 1e9) {
			c->t0_ns = t;
			c->fs_gps = 1e9 / fit_slope(&ch->fit, ch->fs);
			c->time_src = CHUNK_TIME_GPS;
			return;
		}
	}
	c->time_src = ch->gps || c->gps_age >= 0 ? CHUNK_TIME_GPS_STALE :
	    CHUNK_TIME_LOCAL;
}

static size_t	lost_in(const struct chunker *, int64_t, size_t);

/* Samples [c->n, c->n + m) of a spooled chunk (iq NULL: zeros) to its
 * slot. */
static int
chunk_put(struct chunker *ch, struct chunk *c, const int16_t *iq, size_t m)
{
	static const int16_t	 zero[2 * 4096];
	int64_t			 off = c->spool_off + 4 * (int64_t)c->n;
	size_t			 k;

	(void)ch;
	while (m > 0) {
		k = iq != NULL || m < 4096 ? m : 4096;
		if (util_pwrite_all(c->spool_fd, iq != NULL ? iq : zero, 4 * k,
		    off) != 0)
			return -1;
		if (iq != NULL)
			iq += 2 * k;
		off += 4 * (int64_t)k;
		m -= k;
	}
	return 0;
}

/*
 * Put samples [pos, pos+n) of the stream (iq NULL: zeros for lost ones)
 * onto the grid. b carries the block's S-meter and flags for the chunks it
 * touches.
 */
static void
cut(struct chunker *ch, const int16_t *iq, int64_t pos, size_t n,
    const struct rx_block *b, int ring, chunker_emit_fn emit, void *ctx)
{
	/* ring: iq is in the ring, whose zero-filled gaps are lost samples */
	while (n > 0 && ch->next < ch->total) {
		int	 k = ch->next;
		int64_t	 start = chunk_start(ch, k);
		int64_t	 end = chunk_start(ch, k + 1);
		size_t	 m, skip;

		if (ch->cur == NULL) {
			if (pos > start) {
				/* This stream began inside chunk k (or the
				 * grid puts k before the stream): k cannot be
				 * whole. Move on; the engine marks it. */
				ch->next++;
				continue;
			}
			if (pos + (int64_t)n <= start)
				return;
			skip = (size_t)(start - pos);
			if (iq != NULL)
				iq += 2 * skip;
			pos += (int64_t)skip;
			n -= skip;
			ch->cur = chunk_new(ch, k, (size_t)(end - start));
			if (ch->cur == NULL) {
				ch->next++;	/* out of memory: k is lost */
				continue;
			}
		}
		m = (size_t)(end - (start + (int64_t)ch->cur->n));
		if (m > n)
			m = n;
		if (ch->cur->iq == NULL && chunk_put(ch, ch->cur, iq, m) != 0) {
			/* its slot cannot be written (disk full): k is lost,
			 * as out of memory; later chunks on the heap */
			ch->slot_fail = 1;
			chunk_release(ch, ch->cur);
			ch->cur = NULL;
			ch->next++;
			continue;
		}
		if (iq != NULL) {
			if (ch->cur->iq != NULL)
				memcpy(ch->cur->iq + 2 * ch->cur->n, iq,
				    2 * m * sizeof *iq);
			iq += 2 * m;
			if (ring && ch->lost_n > 0)
				ch->cur->lost += lost_in(ch, pos, m);
		} else {
			if (ch->cur->iq != NULL)
				memset(ch->cur->iq + 2 * ch->cur->n, 0,
				    2 * m * sizeof *iq);
			ch->cur->lost += m;
		}
		if (b != NULL && m > 0) {
			if (!isnan(b->rssi_dbm)) {
				ch->cur->rssi_sum += b->rssi_dbm;
				ch->cur->rssi_n++;
			}
			if (b->overflow && iq != NULL)
				ch->cur->overflow++;
			if (b->gps_age >= 0)
				ch->cur->gps_age = b->gps_age;
		}
		ch->cur->n += m;
		pos += (int64_t)m;
		n -= m;
		if (ch->cur->n == ch->cur->cap) {
			struct chunk *done = ch->cur;
			chunk_timing(ch, done);
			ch->cur = NULL;
			ch->next++;
			ch->low = ch->next;
			emit(ctx, done);
		}
	}
}

/* Forget the gaps that have left the ring. */
static void
lost_prune(struct chunker *ch)
{
	int	 i, j = 0;

	for (i = 0; i < ch->lost_n; i++)
		if (ch->lost[i].start + ch->lost[i].n > ch->ring_start)
			ch->lost[j++] = ch->lost[i];
	ch->lost_n = j;
}

/* Samples [start, start+n) of the stream were zero-filled into the ring.
 * Out of memory, the gap is not remembered: its chunk would then count
 * fewer lost samples (never more). */
static void
lost_note(struct chunker *ch, int64_t start, size_t n)
{
	struct lost_run	*v;

	lost_prune(ch);
	if (ch->lost_n == ch->lost_cap) {
		int cap = ch->lost_cap ? 2 * ch->lost_cap : 16;
		v = realloc(ch->lost, (size_t)cap * sizeof *v);
		if (v == NULL)
			return;
		ch->lost = v;
		ch->lost_cap = cap;
	}
	ch->lost[ch->lost_n].start = start;
	ch->lost[ch->lost_n].n = (int64_t)n;
	ch->lost_n++;
}

/* How many of the ring's samples [pos, pos+m) were zero-filled. */
static size_t
lost_in(const struct chunker *ch, int64_t pos, size_t m)
{
	int64_t	 lo, hi, sum = 0;
	int	 i;

	for (i = 0; i < ch->lost_n; i++) {
		lo = ch->lost[i].start > pos ? ch->lost[i].start : pos;
		hi = ch->lost[i].start + ch->lost[i].n;
		if (hi > pos + (int64_t)m)
			hi = pos + (int64_t)m;
		if (hi > lo)
			sum += hi - lo;
	}
	return (size_t)sum;
}

/* Slot of stream sample p in the ring. */
static size_t
ring_slot(const struct chunker *ch, int64_t p)
{
	return (size_t)(p % (int64_t)ch->ring_cap);
}

/* Samples moved to or from the spool file per call (and the zeros of a
 * gap written at a time): 16 KiB, on the stack of ring_cut. */
#define SPOOL_STEP	4096

/* n samples (iq NULL: zeros) into the ring at slot at (no wrap). */
static void
ring_put(struct chunker *ch, size_t at, const int16_t *iq, size_t n)
{
	static const int16_t	 zero[2 * SPOOL_STEP];
	size_t			 m;

	if (ch->ring != NULL) {
		if (iq != NULL)
			memcpy(ch->ring + 2 * at, iq, 2 * n * sizeof *iq);
		else
			memset(ch->ring + 2 * at, 0, 2 * n * sizeof *iq);
		return;
	}
	while (n > 0 && ch->spool_ok) {
		m = iq != NULL || n < SPOOL_STEP ? n : SPOOL_STEP;
		if (util_pwrite_all(ch->spool_fd, iq != NULL ? iq : zero, 4 * m,
		    ch->spool_base + 4 * (int64_t)at) != 0) {
			/* disk full or failing: this ring's samples are
			 * lost (as an allocation failure loses the memory
			 * ring's), and later rings stay in memory */
			ch->spool_ok = 0;
			ch->spool_fd = -1;
			break;
		}
		if (iq != NULL)
			iq += 2 * m;
		at += m;
		n -= m;
	}
}

/* 1 if the ring holds its samples (in memory or in the spool file). */
static int
ring_ok(const struct chunker *ch)
{
	return ch->ring != NULL || (ch->ring_cap > 0 && ch->spool_ok);
}

/*
 * Keep the newest ring_s seconds of the stream: the ring ends at stream
 * index ch->pos; samples older than ring_cap are overwritten.
 */
static void
ring_push(struct chunker *ch, const int16_t *iq, size_t n)
{
	size_t	 keep = (size_t)(ch->ring_s * ch->fs) + 1;
	size_t	 at, m;

	if (ch->ring_cap != keep ||
	    (ch->ring == NULL && ch->spool_fd < 0)) {
		/* a stream of another rate (or a spool file that failed): the ring restarts (the samples
		 * of the old stream are of no use to the new one) */
		ch->ring_len = 0;
		ch->spool_ok = 0;
		if (ch->spool_fd >= 0 && 4 * keep <= ch->spool_room / 2) {
			free(ch->ring);
			ch->ring = NULL;
			ch->ring_cap = keep;
		} else {
			int16_t *r = realloc(ch->ring, 2 * keep * sizeof *r);
			if (r == NULL) {
				free(ch->ring);
				ch->ring = NULL;
				ch->ring_cap = 0;
				return;
			}
			ch->ring = r;
			ch->ring_cap = keep;
			/* ring_s seconds: filled whole within them */
			(void)util_prefault(r, 2 * keep * sizeof *r);
		}
	}
	if (ch->ring_len == 0) {
		ch->ring_start = ch->pos;
		/* a new ring: nothing lost from it yet */
		ch->spool_ok = ch->ring == NULL && ch->spool_fd >= 0;
	}
	if (n > keep) {
		if (iq != NULL)
			iq += 2 * (n - keep);
		ch->ring_start = ch->pos + (int64_t)(n - keep);
		ch->ring_len = 0;
		n = keep;
	}
	if (ch->ring_len + n > keep) {
		m = ch->ring_len + n - keep;	/* the oldest go */
		ch->ring_len -= m;
		ch->ring_start += (int64_t)m;
	}
	if (iq == NULL)
		lost_note(ch, ch->ring_start + (int64_t)ch->ring_len, n);
	at = ring_slot(ch, ch->ring_start + (int64_t)ch->ring_len);
	ch->ring_len += n;
	while (n > 0) {
		m = ch->ring_cap - at < n ? ch->ring_cap - at : n;
		ring_put(ch, at, iq, m);
		if (iq != NULL)
			iq += 2 * m;
		n -= m;
		at = 0;
	}
}

/* Cut every sample the ring holds (at most two spans: it wraps; from the
 * spool file, SPOOL_STEP samples at a time). */
static void
ring_cut(struct chunker *ch, chunker_emit_fn emit, void *ctx)
{
	int16_t	 buf[2 * SPOOL_STEP];
	int64_t	 pos = ch->ring_start, end = ch->ring_start +
	    (int64_t)ch->ring_len;
	size_t	 at, m;

	while (pos < end && ring_ok(ch)) {
		at = ring_slot(ch, pos);
		m = ch->ring_cap - at;
		if ((int64_t)m > end - pos)
			m = (size_t)(end - pos);
		if (ch->ring != NULL)
			cut(ch, ch->ring + 2 * at, pos, m, NULL, 1, emit, ctx);
		else {
			if (m > SPOOL_STEP)
				m = SPOOL_STEP;
			if (util_pread_all(ch->spool_fd, buf, 4 * m,
			    ch->spool_base + 4 * (int64_t)at) != 0) {
				ch->spool_ok = 0;
				break;
			}
			cut(ch, buf, pos, m, NULL, 1, emit, ctx);
		}
		pos += (int64_t)m;
	}
}

static void
ring_drop(struct chunker *ch)
{
	if (ch->ring == NULL && ch->ring_cap > 0 && ch->spool_fd >= 0)
		/* the page cache of its region goes too (nothing to write
		 * back); where holes cannot be punched, it is reclaimable */
		(void)fallocate(ch->spool_fd, FALLOC_FL_PUNCH_HOLE |
		    FALLOC_FL_KEEP_SIZE, (off_t)ch->spool_base,
		    (off_t)(4 * ch->ring_cap));
	free(ch->ring);
	ch->ring = NULL;
	ch->ring_cap = ch->ring_len = 0;
	ch->spool_ok = 0;
	ch->lost_n = 0;
}

static void
bad_until(struct chunker *ch, int64_t end)
{
	if (end > ch->bad_end)
		ch->bad_end = end;
}

/*
 * The block's GPS stamp into the stream's time fit (ch->pos: its first
 * sample's stream index). A stamp that does not continue the line is left
 * out of it. Stamps left out that continue each other make a rival line,
 * which takes over once it holds more stamps than the line (the stream's
 * first stamps were the stale ones): then every block before the rival's
 * first is out of every chunk's t0_ns, as are blocks without a stamp (no
 * fresh fix) and a rival's while it is pending. A stamp off the line
 * followed by one on it was an outlier: the samples between kept their
 * times (a lost sample would have moved every later stamp off the line),
 * so its block stays in.
 */
static void
fit_block(struct chunker *ch, const struct rx_block *b)
{
	int64_t	 x = ch->pos, y = b->t_gps_ns, end = x + (int64_t)b->n;

	ch->on_line = 0;
	/* Fitted even while distrusted (nogps): the engine's verdict may
	 * change, and the line is then ready to place the stream. */
	if (y <= 0 || b->n == 0) {
		bad_until(ch, end);
		return;
	}
	if (ch->fit.n == 0 || fit_continues(&ch->fit, x, y, ch->fs)) {
		/* the first stamp is kept until the next confirms it (or a
		 * rival line outvotes it) */
		fit_add(&ch->fit, x, y);
		ch->alt.n = 0;		/* were outliers */
		ch->on_line = 1;
		return;
	}
	if (ch->alt.n > 0 && !fit_continues(&ch->alt, x, y, ch->fs))
		ch->alt.n = 0;
	fit_add(&ch->alt, x, y);
	ch->alt_end = end;
	if (ch->alt.n > ch->fit.n) {
		bad_until(ch, ch->alt.x0);
		ch->fit = ch->alt;
		ch->alt.n = 0;
		ch->line++;
		ch->on_line = 1;
	}
}

/* Stream sample 0's time on the current line (UTC s). */
static double
line_anchor(const struct chunker *ch)
{
	return (double)fit_ns(&ch->fit, ch->pos, ch->fs) / 1e9 -
	    (double)ch->pos / ch->fs;
}

/*
 * After the grid is fixed: is the stream's placement superseded? Its grid
 * was fixed on the line as it stood (or on the arrival clock, its GPS time
 * distrusted then); a stale run of stamps -- an old fix's, continuous with
 * each other, seconds off -- can hold the line for longer than the origin
 * waits, and a grid fixed on it puts every chunk seconds away from its
 * samples: they arrive too late to be stored, or are stored on the wrong
 * second. Once a settled line (two stamps or more, no rival pending) puts
 * the stream elsewhere than its grid by more than the grid may err, or a
 * young stream placed by the arrival clock has a trusted line, it is
 * re-placed on that line.
 */
static int
placement_stale(const struct chunker *ch)
{
	if (!ch->grid || ch->nogps || ch->fit.n < 2 || ch->alt.n > 0)
		return 0;
	if (!ch->gps)
		return ch->pos < ch->keep_until;
	return fabs(line_anchor(ch) - ch->base) > FIT_GRID_TOL_S;
}

/*
 * Re-place the stream on its current line (chunker.h, "Re-placement"):
 * a new grid, like a reconnect's but keeping the stream's sample indices;
 * the partial chunk is dropped and the chunks from the lowest one not yet
 * emitted or given up are cut again from the samples kept (the ring);
 * chunks the kept samples do not cover whole are never produced.
 */
static void
replace_now(struct chunker *ch, chunker_emit_fn emit, void *ctx)
{
	ch->replace = 0;
	ch->anchor = line_anchor(ch);
	ch->anchored = 1;
	ch->gps = 1;
	if (ch->cur != NULL)
		chunker_recycle(ch, ch->cur);
	ch->cur = NULL;
	ch->next = ch->low;
	fix_grid(ch);
	ring_cut(ch, emit, ctx);
}

static void
update_anchor(struct chunker *ch, const struct rx_block *b)
{
	double	 t;

	/*
	 * Without GPS the best we have is the arrival clock. A block arrives
	 * after its last sample was taken, never before, so every block gives
	 * an upper bound on the stream's start time: keep the smallest.
	 */
	t = b->t_arrival - (double)(ch->pos + (int64_t)b->n) / ch->fs;
	if (!ch->arr_ok || t < ch->arr)
		ch->arr = t;
	ch->arr_ok = 1;
	if (ch->fit.n > 0 && !ch->nogps) {
		/* GPS time stamps samples directly: the stream's line (its
		 * first stamp while it is alone) at this block, counted back
		 * to sample 0 at the rate the grid counts in. */
		ch->anchor = (double)fit_ns(&ch->fit, ch->pos, ch->fs) / 1e9 -
		    (double)ch->pos / ch->fs;
		ch->anchored = 1;
		ch->gps = 1;
		return;
	}
	if (ch->gps)
		return;
	ch->anchor = ch->arr;
	ch->anchored = 1;
}

void
chunker_feed(struct chunker *ch, const struct rx_block *b,
    chunker_emit_fn emit, void *ctx)
{
	int	 keep;

	if (!ch->streaming || ch->fs <= 0)
		return;
	keep = !ch->has_origin || ch->pos < ch->keep_until;
	if (!keep && ch->ring_cap > 0)
		ring_drop(ch);
	if (b->lost > 0) {
		/* Samples the receiver sent but we never got (sequence gap):
		 * zeros keep every later sample at its true time. */
		if (keep)
			ring_push(ch, NULL, b->lost);
		if (ch->has_origin && ch->grid)
			cut(ch, NULL, ch->pos, b->lost, NULL, 0, emit, ctx);
		ch->pos += (int64_t)b->lost;
	}
	fit_block(ch, b);
	if (!ch->grid)
		update_anchor(ch, b);
	ch->gps_age = b->gps_age;
	if (keep)
		ring_push(ch, b->iq, b->n);
	if (ch->has_origin) {
		if (!ch->grid)
			fix_grid(ch);
		if (placement_stale(ch))
			ch->replace = 1;
		if (ch->replace && keep) {
			/* the ring holds this block already */
			ch->pos += (int64_t)b->n;
			replace_now(ch, emit, ctx);
			return;
		}
		if (ch->replace)
			/* nothing kept to cut again: from this block on */
			replace_now(ch, emit, ctx);
		cut(ch, b->iq, ch->pos, b->n, b, 0, emit, ctx);
	}
	ch->pos += (int64_t)b->n;
}

int
chunker_oldest(const struct chunker *ch, double *t)
{
	if (!ch->streaming || !ch->anchored || ch->ring_len == 0 ||
	    ch->has_origin)
		return -1;
	*t = anchor_t(ch) + (double)ch->ring_start / ch->fs;
	return 0;
}

void
chunker_set_origin(struct chunker *ch, double t0, chunker_emit_fn emit,
    void *ctx)
{
	if (ch->has_origin)
		return;
	ch->has_origin = 1;
	ch->t0 = t0;
	if (ch->streaming && ch->anchored) {
		fix_grid(ch);
		ring_cut(ch, emit, ctx);
	}
	/* a young stream's samples stay for a re-placement */
	if (!ch->streaming || ch->pos >= ch->keep_until)
		ring_drop(ch);
}

void
chunker_unset_origin(struct chunker *ch)
{
	if (!ch->has_origin || ch->low > 0)
		return;
	ch->has_origin = 0;
	ch->grid = 0;
	ch->replace = 0;
	if (ch->cur != NULL)
		chunker_recycle(ch, ch->cur);
	ch->cur = NULL;
	ch->next = 0;
	/* the anchor follows the stream's line (or the arrival bound)
	 * again until the new origin fixes the grid */
	if (ch->gps && ch->fit.n > 0 && !ch->nogps)
		ch->anchor = line_anchor(ch);
}

void
chunker_skip(struct chunker *ch, int k)
{
	if (ch->low < k)
		ch->low = k < ch->total ? k : ch->total;
	if (ch->next >= k)
		return;
	if (ch->cur != NULL && ch->cur->index < k) {
		chunker_recycle(ch, ch->cur);
		ch->cur = NULL;
	}
	ch->next = k < ch->total ? k : ch->total;
	if (ch->low < ch->next)
		ch->low = ch->next;
}

int
chunker_next(const struct chunker *ch)
{
	return ch->next;
}

void
chunker_spool(struct chunker *ch, int fd, int64_t base, size_t room)
{
	ring_drop(ch);
	ch->spool_fd = fd;
	ch->spool_base = base;
	ch->spool_room = fd >= 0 ? room : 0;
	ch->slot_room = 0;
	ch->nslots = 0;
	ch->slot_fail = 0;
}

void
chunker_recycle(struct chunker *ch, struct chunk *c)
{
	if (c == NULL)
		return;
	if (ch->npool < CHUNKER_POOL)
		ch->pool[ch->npool++] = c;
	else
		chunk_release(ch, c);
}

int
chunker_gps(const struct chunker *ch)
{
	return ch->gps;
}

int
chunker_line(const struct chunker *ch)
{
	return ch->line;
}

int
chunker_on_line(const struct chunker *ch)
{
	return ch->on_line;
}

void
chunker_set_clock(struct chunker *ch, double offset)
{
	ch->clock = offset;
}

void
chunker_trust_gps(struct chunker *ch, int trust)
{
	ch->nogps = !trust;
	if (trust || !ch->gps || ch->grid)
		return;
	/* Not placed yet: fall back to the arrival clock now. */
	ch->gps = 0;
	ch->anchor = ch->arr;
	ch->anchored = ch->arr_ok;
}
