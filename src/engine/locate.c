/* locate.c -- live localization of an acquisition: chunk copies, TDoA and fix per chunk index on a thread of its own, the session fix. */

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/engine/locate.h"
#include "src/engine/chunker.h"
#include "src/engine/events.h"
#include "src/base/util.h"
#include "src/loc/fix.h"
#include "src/loc/tdoa.h"

enum sstate { S_FREE = 0, S_FILLING, S_QUEUED, S_RUNNING };

/* One receiver's chunk, held for the TDoA. */
struct lrx {
	int		 websdr;
	double		 power_db;	/* mean |x|^2, dBFS: the rank */
	double		 fs;
	int64_t		 t0_ns;
	size_t		 n;
	size_t		 cap;		/* complex samples iq has room for */
	float		*iq;		/* 2*cap, interleaved I,Q: its region
					   of l->arena, or (own) a util_bigbuf
					   of its own */
	int		 own;
};

/* A GPS-timed receiver's block grid (locate_block), to predict when the
 * frame that completes a chunk reaches the host (next_nudge). */
struct lblk {
	int64_t		 end_ns;	/* GPS time of its last block's end */
	int64_t		 len_ns;	/* a block's length */
	double		 clk;		/* GPS minus host time at arrival,
					   least delay (s) */
	int		 ok;
};

/* One chunk index in flight. */
struct slot {
	enum sstate	 state;
	int		 k;
	int		 nheld;
	struct lrx	*rx;		/* max_rx; buffers kept for reuse */
	unsigned char	*seen;		/* per station: offered or excluded */
	int		 nseen;
	json_t		*excluded;	/* [{websdr, station, reason}] */
};

struct locate {
	struct locate_config	 cfg;
	char			 sid[UTIL_UUID_LEN];
	int			 nst;
	unsigned char		*absent;	/* cfg.absent's copy */
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;	/* work queued / a slot freed */
	pthread_t		 thread;
	int			 up;
	int			 stop;
	int			 finished;
	struct slot		 slots[LOCATE_SLOTS];
	unsigned char		*done;	/* per chunk index: taken up */
	int			*skipped;	/* chunk indices without a slot */
	int			 nskipped;
	json_t			*tdoa_rows;
	json_t			*fix_rows;
	json_t			*final;	/* the session fix row */
	/* Copies of the session:fix data said last: the highest chunk
	 * index's, and the session fix's (locate_latest_fix). */
	json_t			*last_ev;
	int			 last_k;
	json_t			*final_ev;
	struct fix_result	*fixes;	/* per chunk index (ok or not) */
	unsigned char		*has_fix;
	struct fix_rx		*pos;	/* per station (index websdr - 1) */
	/* Residual sums per station over the chunk fixes (known source). */
	double			*res_sum;
	int			*res_n;
	struct tdoa_ctx		*tctx;	/* the worker's */
	/* The held copies' memory (hold): one mapping with a region per
	 * slot and receiver (LOCATE_SLOTS x arena_nrx regions of
	 * region_cap complex samples), each made resident when first used;
	 * a chunk too long for its region gets a buffer of its own. */
	char			*arena;
	size_t			 arena_len;	/* bytes */
	size_t			 region;	/* bytes per region */
	size_t			 region_cap;	/* complex samples */
	int			 arena_nrx;	/* regions per slot */
	int			 arena_failed;
	/* The grid, for nudges (locate_main): the end of chunk 0 (UTC ns,
	 * from the first GPS-timed chunk) and the highest index offered. */
	int64_t			 end0_ns;
	double			 warm_fs;	/* locate_grid's rate, then -1 */
	int			 timed;		/* a GPS-timed receiver was
						   announced or offered: nudge */
	int			 kmax;
	int			 nudge_k, nudge_step;
	double			 nudge_first;	/* nudge_k's first due time */
	int			 nudge_pred;	/* ... was predicted */
	double			 nudge_margin;	/* after a predicted arrival */
	struct lblk		*blk;		/* per station (websdr - 1) */
};

/*
 * The resolutions the rows and events carry (what their consumers use,
 * well below each figure's uncertainty), so that every real is short and
 * written with one printf (util_json_dumps_q) instead of the shortest-form
 * probes: the in-memory rows, the events, rows/loc.jsonl and the
 * manifest all hold the same rounded value.
 */
#define Q_DEG	1e9	/* latitude, longitude: 1e-9 degree, 0.1 mm */
#define Q_US	1e6	/* TDoA, sigma, residuals in us: 1 ps */
#define Q_M	1e4	/* ellipse axes, CEPs, errors: 0.1 mm */
#define Q_ORI	1e6	/* orientation: 1e-6 degree */
#define Q_FIG	1e9	/* quality, correlation: 1e-9 */

/* Chunks between two fixes started from the grid rather than from the
 * previous fix (fix_opts.hint): a moving source or a minimum that became
 * the better one is caught within this many chunks. */
#define LOCATE_GRID_EVERY	10

/* TDoA's partners per receiver (tdoa_opts.partners; see locate_new). */
#define LOCATE_PARTNERS		2

static json_t *
jreal(double v, double scale)
{
	return isfinite(v) ? json_real(util_round_q(v, scale)) : json_null();
}

/* An event of locate's rows (reals from jreal): one printf per real. */
static void
emit_q(struct locate *l, const char *name, json_t *ev)
{
	char	*t = util_json_dumps_q(ev, JSON_COMPACT | JSON_PRESERVE_ORDER |
		    JSON_ENCODE_ANY);

	events_emit_text(l->cfg.ev, name, ev, t, t != NULL ? strlen(t) : 0);
	free(t);
}

static const char *
st_name(const struct locate *l, int websdr)
{
	return l->cfg.stations->v[websdr - 1].name;
}

/* l->lock held. */
static void
exclude_locked(struct locate *l, struct slot *s, int websdr,
    const char *reason)
{
	json_array_append_new(s->excluded, json_pack("{s:i, s:s, s:s}",
	    "websdr", websdr, "station", st_name(l, websdr), "reason",
	    reason));
}

/* l->lock held. Chunk index k is to be located now: the stations not
 * heard from are excluded with why. */
static void
queue_slot(struct locate *l, struct slot *s, const char *late)
{
	int	i;

	if (s->state != S_FILLING)
		return;
	for (i = 0; i < l->nst; i++) {
		if (!s->seen[i]) {
			s->seen[i] = 1;
			s->nseen++;
			exclude_locked(l, s, i + 1, late);
		}
	}
	s->state = S_QUEUED;
	pthread_cond_broadcast(&l->cond);
}

int
locate_can_take(struct locate *l, int k)
{
	int	i, filling = 0, used = 0, ok = 0;

	pthread_mutex_lock(&l->lock);
	if (k < 0 || k >= l->cfg.total || l->done[k])
		ok = 1;
	for (i = 0; !ok && i < LOCATE_SLOTS; i++) {
		struct slot *s = &l->slots[i];
		if (s->state == S_FREE)
			continue;
		if (s->k == k)
			ok = 1;
		used++;
		filling += s->state == S_FILLING;
	}
	if (!ok)
		ok = filling < LOCATE_SLOTS - 1 && used < LOCATE_SLOTS;
	pthread_mutex_unlock(&l->lock);
	return ok;
}

/* l->lock held. The slot of chunk index k, or a new one; NULL when k was
 * taken up already or no slot is free (then k is skipped, said once). */
static struct slot *
slot_get(struct locate *l, int k)
{
	struct slot	*s, *free_s = NULL, *oldest = NULL;
	int		 i, filling = 0;

	if (k < 0 || k >= l->cfg.total)
		return NULL;
	for (i = 0; i < LOCATE_SLOTS; i++) {
		s = &l->slots[i];
		if (s->state != S_FREE && s->k == k)
			return s;
		if (s->state == S_FREE && free_s == NULL)
			free_s = s;
		if (s->state == S_FILLING) {
			filling++;
			if (oldest == NULL || s->k < oldest->k)
				oldest = s;
		}
	}
	if (l->done[k])
		return NULL;	/* located already, or skipped */
	/*
	 * A slot is kept free for the chunk index the worker takes next:
	 * at most LOCATE_SLOTS - 1 are filling. A receiver that lags the
	 * others by that many seconds is excluded from the oldest ("late")
	 * rather than holding every later chunk's samples.
	 */
	if (filling >= LOCATE_SLOTS - 1 && oldest != NULL && oldest->k < k)
		queue_slot(l, oldest, "late: its chunk came after the next "
		    "chunks' had to be located");
	if (free_s == NULL) {
		/* The worker is behind (the machine is overloaded): this
		 * chunk index goes without a fix, and says so. */
		l->done[k] = 1;
		l->skipped[l->nskipped++] = k;
		pthread_cond_broadcast(&l->cond);
		return NULL;
	}
	free_s->state = S_FILLING;
	free_s->k = k;
	free_s->nheld = 0;
	free_s->nseen = 0;
	memset(free_s->seen, 0, (size_t)l->nst);
	/* Stations not in the session never come: accounted for at once,
	 * without a reason in its excluded list (the session says why). */
	for (i = 0; l->absent != NULL && i < l->nst; i++)
		if (l->absent[i]) {
			free_s->seen[i] = 1;
			free_s->nseen++;
		}
	json_array_clear(free_s->excluded);
	l->done[k] = 1;
	return free_s;
}

/* l->lock held. One more station accounted for in s. */
static void
seen(struct locate *l, struct slot *s, int websdr)
{
	s->seen[websdr - 1] = 1;
	if (++s->nseen == l->nst)
		queue_slot(l, s, "");
}

/* Why a chunk cannot take part in TDoA, or NULL. */
static const char *
unusable(const struct locate *l, const struct chunk *c, int audio, char *buf,
    size_t len)
{
	const struct station *st = &l->cfg.stations->v[c->websdr - 1];

	if (audio) {
		snprintf(buf, len, "%s: demodulated audio, no sample "
		    "timestamps", st->type);
		return buf;
	}
	switch (c->time_src) {
	case CHUNK_TIME_GPS:
		break;
	case CHUNK_TIME_LOCAL:
		if (strcmp(st->type, "kiwisdr") != 0)
			snprintf(buf, len, "%s: no sample timestamps",
			    st->type);
		else
			snprintf(buf, len, "no GPS fix");
		return buf;
	case CHUNK_TIME_GPS_STALE:
		if (c->gps_age > LOCATE_GPS_MAX_AGE_S && c->gps_age < 254)
			snprintf(buf, len, "GPS fix stale (%d s)", c->gps_age);
		else if (c->gps_age >= 254 || c->gps_age < 0)
			snprintf(buf, len, "no recent GPS fix");
		else
			snprintf(buf, len, "GPS stamps stale or inconsistent "
			    "in this chunk");
		return buf;
	case CHUNK_TIME_GPS_REJECTED:
	default:
		snprintf(buf, len, "its GPS time contradicts the other "
		    "receivers'");
		return buf;
	}
	if (c->gps_age > LOCATE_GPS_MAX_AGE_S) {
		snprintf(buf, len, "GPS fix stale (%d s)", c->gps_age);
		return buf;
	}
	if (c->t0_ns <= 0 || !(c->fs_gps > 0) || c->n < 2) {
		snprintf(buf, len, "no sample times");
		return buf;
	}
	return NULL;
}

/* The chunk's mean power, dBFS: what ranks receivers (the max_rx cap,
 * TDoA's choice of partners). Not an SNR: that is measured on the
 * correlations (corr_snr), the chunk metric's reads a signal that fills
 * the passband as noise. */
static double
power_db(const struct chunk *c)
{
	int64_t	acc = 0;
	size_t	i;

	for (i = 0; i < 2 * c->n; i++)
		acc += (int32_t)c->iq[i] * c->iq[i];
	return 10 * log10((double)acc / (double)c->n / (32768.0 * 32768.0) +
	    1e-30);
}

/*
 * l->lock held. The region of slot si's receiver i (its index in
 * s->rx) in the arena, for a chunk of n samples, made
 * resident (NULL: none; the caller allocates on its own). The arena is
 * made at the first chunk held, for regions a little longer than it
 * (rates differ by ppm), one per slot and receiver that can be held; a
 * region's pages are made resident at its first use (util_prefault), not
 * one page fault per 4 KiB of the slots' first copies (~1-3 ms of the
 * receivers' thread's CPU per session; on_chunk calls hold) nor all at
 * once (a session of many stations with few on GPS time would hold
 * memory it never uses).
 */
static float *
region_get(struct locate *l, int si, int i, size_t n)
{
	char	*p;

	if (l->arena == NULL && !l->arena_failed) {
		long	pg = sysconf(_SC_PAGESIZE);
		int	j, nrx = 0;

		if (pg <= 0)
			pg = 4096;
		for (j = 0; j < l->nst; j++)
			nrx += l->absent == NULL || !l->absent[j];
		l->arena_nrx = nrx < l->cfg.max_rx ? nrx : l->cfg.max_rx;
		l->region_cap = n + n / 64 + 64;
		l->region = (2 * l->region_cap * sizeof(float) +
		    (size_t)pg - 1) & ~((size_t)pg - 1);
		l->arena_len = (size_t)LOCATE_SLOTS * (size_t)l->arena_nrx *
		    l->region;
		l->arena = util_bigbuf_reserve(l->arena_len);
		l->arena_failed = l->arena == NULL;
	}
	if (l->arena == NULL || si < 0 || si >= LOCATE_SLOTS || i < 0 ||
	    i >= l->arena_nrx || n > l->region_cap)
		return NULL;
	p = l->arena + ((size_t)si * (size_t)l->arena_nrx + (size_t)i) *
	    l->region;
	(void)util_prefault(p, l->region);
	return (float *)(void *)p;
}

/* l->lock held. Copy c into r, slot si's receiver i (see region_get), as
 * complex float (full scale 1); pw: its power_db(), or NAN to have it
 * measured in the same pass (one read of the samples instead of two). */
static int
hold(struct locate *l, int si, int i, const struct chunk *c, double pw)
{
	struct lrx *r = &l->slots[si].rx[i];
	size_t	j;
	int64_t	acc = 0, chunk_ns = (int64_t)l->cfg.chunk_ms * 1000000;

	if (r->cap < c->n) {
		float	*p = r->cap == 0 ? region_get(l, si, i, c->n) : NULL;
		size_t	 cap = l->region_cap;
		int	 own = p == NULL;

		if (own) {
			/* made resident at once, as a region is */
			cap = c->n + c->n / 64 + 64;
			if ((p = util_bigbuf(2 * cap * sizeof *p)) == NULL)
				return -1;
		}
		if (r->own)
			util_bigbuf_free(r->iq, 2 * r->cap * sizeof *r->iq);
		r->iq = p;
		r->cap = cap;
		r->own = own;
	}
	/* the exact integer sum of squares, as power_db(): at most 2^31 per
	 * sample, so 63 bits hold 4e9 samples (a chunk has ~rate). In
	 * vector blocks of 8 (GCC vector types, as tdoa.c: SSE2 on any
	 * x86-64, NEON on arm64, scalar code elsewhere): two squares of
	 * int16 sum to at most 2^31, which an unsigned 32-bit lane holds,
	 * widened to 64 bits before the next block. */
	{
		typedef int16_t v8s __attribute__((vector_size(16),
		    aligned(2)));
		typedef int32_t v4i __attribute__((vector_size(16)));
		typedef uint32_t v4u __attribute__((vector_size(16)));
		typedef uint64_t v2u __attribute__((vector_size(16)));
		typedef float v4f __attribute__((vector_size(16), aligned(4)));
		const v4f sc = { 1.0f / 32768, 1.0f / 32768, 1.0f / 32768,
			    1.0f / 32768 };
		v2u	a0 = { 0, 0 }, a1 = { 0, 0 };

		for (j = 0; j + 8 <= 2 * c->n; j += 8) {
			v8s x = *(const v8s *)(const void *)(c->iq + j);
			v4i lo = __builtin_convertvector(
			    __builtin_shufflevector(x, x, 0, 1, 2, 3), v4i);
			v4i hi = __builtin_convertvector(
			    __builtin_shufflevector(x, x, 4, 5, 6, 7), v4i);
			v4u q = (v4u)(lo * lo) + (v4u)(hi * hi);

			*(v4f *)(void *)(r->iq + j) =
			    __builtin_convertvector(lo, v4f) * sc;
			*(v4f *)(void *)(r->iq + j + 4) =
			    __builtin_convertvector(hi, v4f) * sc;
			a0 += __builtin_convertvector(
			    __builtin_shufflevector(q, q, 0, 1), v2u);
			a1 += __builtin_convertvector(
			    __builtin_shufflevector(q, q, 2, 3), v2u);
		}
		a0 += a1;
		acc = (int64_t)(a0[0] + a0[1]);
	}
	for (; j < 2 * c->n; j++) {
		int32_t v = c->iq[j];
		acc += v * v;
		r->iq[j] = (float)v * (1.0f / 32768.0f);
	}
	if (isnan(pw))
		pw = 10 * log10((double)acc / (double)c->n /
		    (32768.0 * 32768.0) + 1e-30);
	r->websdr = c->websdr;
	r->power_db = pw;
	l->timed = 1;
	if (l->end0_ns == 0)
		l->end0_ns = c->t0_ns + llround((double)c->n * 1e9 /
		    c->fs_gps) - (int64_t)c->index * chunk_ns;
	/* The time base TDoA needs: the first sample's time in integer ns
	 * and the rate measured from the GPS stamps (chunker.h), not the
	 * grid's double of UTC seconds (~0.2 us) and nominal rate. */
	r->fs = c->fs_gps;
	r->t0_ns = c->t0_ns;
	r->n = c->n;
	return 0;
}

void
locate_offer(struct locate *l, const struct chunk *c, int audio)
{
	struct slot	*s;
	char		 why[200];
	const char	*bad;
	double		 pw;
	int		 i, weak;

	if (l == NULL || c->websdr < 1 || c->websdr > l->nst)
		return;
	pthread_mutex_lock(&l->lock);
	if (l->finished || (s = slot_get(l, c->index)) == NULL ||
	    s->state != S_FILLING || s->seen[c->websdr - 1]) {
		pthread_mutex_unlock(&l->lock);
		return;
	}
	if ((bad = unusable(l, c, audio, why, sizeof why)) != NULL) {
		exclude_locked(l, s, c->websdr, bad);
		seen(l, s, c->websdr);
		pthread_mutex_unlock(&l->lock);
		return;
	}
	/* Full: the weakest of those held and this one, the weaker goes
	 * (its power first); else hold() measures it as it copies. */
	pw = NAN;
	if (s->nheld == l->cfg.max_rx) {
		pw = power_db(c);
		weak = 0;
		for (i = 1; i < s->nheld; i++)
			if (s->rx[i].power_db < s->rx[weak].power_db)
				weak = i;
		snprintf(why, sizeof why, "not among the %d strongest "
		    "receivers", l->cfg.max_rx);
		if (!(pw > s->rx[weak].power_db)) {
			exclude_locked(l, s, c->websdr, why);
			seen(l, s, c->websdr);
			pthread_mutex_unlock(&l->lock);
			return;
		}
		exclude_locked(l, s, s->rx[weak].websdr, why);
		i = weak;
	} else
		i = s->nheld;
	if (c->index > l->kmax)
		l->kmax = c->index;
	if (hold(l, (int)(s - l->slots), i, c, pw) != 0)
		exclude_locked(l, s, c->websdr, "out of memory");
	else if (i == s->nheld)
		s->nheld++;
	seen(l, s, c->websdr);
	pthread_mutex_unlock(&l->lock);
}

void
locate_exclude(struct locate *l, int websdr, int k, const char *reason)
{
	struct slot	*s;
	char		 why[300];

	if (l == NULL || websdr < 1 || websdr > l->nst)
		return;
	snprintf(why, sizeof why, "no chunk: %s", reason);
	pthread_mutex_lock(&l->lock);
	if (!l->finished && (s = slot_get(l, k)) != NULL &&
	    s->state == S_FILLING && !s->seen[websdr - 1]) {
		exclude_locked(l, s, websdr, why);
		seen(l, s, websdr);
	}
	pthread_mutex_unlock(&l->lock);
}

void
locate_settled(struct locate *l, int k)
{
	int	i;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	for (i = 0; i < LOCATE_SLOTS; i++)
		if (l->slots[i].state == S_FILLING && l->slots[i].k == k)
			queue_slot(l, &l->slots[i], "no chunk");
	pthread_mutex_unlock(&l->lock);
}

void
locate_block(struct locate *l, int websdr, int64_t end_ns, int64_t len_ns,
    double clk)
{
	struct lblk	*b;

	if (l == NULL || websdr < 1 || websdr > l->nst || end_ns <= 0 ||
	    len_ns <= 0 || !isfinite(clk))
		return;
	pthread_mutex_lock(&l->lock);
	b = &l->blk[websdr - 1];
	/* The clock figure is the largest seen: in the first second, from
	 * few blocks (most read after a rest of the loop), it is too low by
	 * up to the rest, and the due times too late. When it moves, the
	 * thread waiting for a nudge looks again (a few times a session). */
	if (b->ok && fabs(clk - b->clk) > 0.001)
		pthread_cond_broadcast(&l->cond);
	b->end_ns = end_ns;
	b->len_ns = len_ns;
	b->clk = clk;
	b->ok = 1;
	pthread_mutex_unlock(&l->lock);
}

void
locate_grid(struct locate *l, double t0, double fs, int ngps)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	if (l->end0_ns == 0)
		l->end0_ns = (int64_t)llround(t0 * 1e9) +
		    (int64_t)l->cfg.chunk_ms * 1000000;
	/* fewer than 2 receivers on GPS time: no TDoA at all for now, so
	 * neither warm-up (~10 ms of CPU: plans, page faults of the
	 * buffers, the geodesic module) nor nudges (wake-ups of the
	 * receivers' loop) -- they come with the first GPS-timed chunk */
	if (ngps >= 2 || ngps < 0)
		l->timed = 1;
	if (l->timed && fs > 1000 && fs < 1e7 && l->warm_fs == 0)
		l->warm_fs = fs;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
}

/*
 * Without l->lock, on locate's thread. TDoA plans its FFTs for a chunk
 * size the first time it sees it and sizes its buffers to it: a few ms,
 * once. Preparing that (tdoa_prepare: the frame, buffers and plans of a
 * chunk of the expected size, no correlation) before the first real chunk
 * keeps it out of the first fix's delay. Two receivers are enough: the
 * buffers are sized by the partners, not the receivers (src/loc/tdoa.h),
 * and made resident when made. Correlating noise as well, as this did
 * before (3 pairs, 5 segments), cost ~1-2 ms of CPU a session for
 * nothing the first chunk needs. The same for the fix's libraries (GSL,
 * the geodesic module: fix_prepare, ~1-3 ms; their failure is each fix's
 * reason, so it is not looked at here).
 */
static void
warm_up(struct locate *l, double fs)
{
	struct tdoa_input	 in[2];
	size_t			 n = (size_t)(fs * l->cfg.chunk_ms / 1000.0);
	/* zeros: finite samples are all the frame looks at */
	float			*iq = calloc(2 * n + 2, sizeof *iq);
	int			 j;

	(void)fix_prepare(NULL, 0);
	if (iq == NULL)
		return;
	memset(in, 0, sizeof in);
	for (j = 0; j < 2; j++) {
		in[j].iq = iq;
		in[j].n = n;
		in[j].rate_hz = fs;
		in[j].t0_ns = 1000000000000000000LL;
		in[j].snr_db = 20;
		in[j].band_lo_hz = l->cfg.band_lo_hz;
		in[j].band_hi_hz = l->cfg.band_hi_hz;
	}
	(void)tdoa_prepare(l->tctx, in, 2);
	free(iq);
}

void
locate_drain(struct locate *l)
{
	int	i, busy;

	pthread_mutex_lock(&l->lock);
	do {
		busy = l->nskipped > 0;
		for (i = 0; i < LOCATE_SLOTS; i++)
			busy |= l->slots[i].state == S_QUEUED ||
			    l->slots[i].state == S_RUNNING;
		if (busy)
			pthread_cond_wait(&l->cond, &l->lock);
	} while (busy);
	pthread_mutex_unlock(&l->lock);
}

/* ---- the worker: TDoA and fix of one chunk index ---- */

/* The fix row (flat: one SQL row) and the session:fix data of f. k < 0:
 * the session fix. res: per station residual (us) or NULL. */
static void
fix_json(struct locate *l, int k, const struct fix_result *f,
    const double *res, json_t **row, json_t **ev)
{
	json_t	*rx = json_array(), *r, *e, *resid = NULL, *worst = NULL;
	int	 i, wi = -1;
	double	 err = NAN;

	for (i = 0; i < l->nst; i++)
		if (f->ok && f->rx_used[i] == FIX_RX_USED)
			json_array_append_new(rx, json_integer(i + 1));
	if (f->ok && l->cfg.has_source)
		err = fix_distance_m(f->lat, f->lon, l->cfg.source_lat,
		    l->cfg.source_lon);
	if (res != NULL) {
		resid = json_array();
		for (i = 0; i < l->nst; i++) {
			if (!isfinite(res[i]))
				continue;
			json_array_append_new(resid, json_pack("{s:i, s:s, "
			    "s:o}", "websdr", i + 1, "station", st_name(l,
			    i + 1), "residual_us", jreal(res[i], Q_US)));
			if (wi < 0 || fabs(res[i]) > fabs(res[wi]))
				wi = i;
		}
		if (wi >= 0)
			worst = json_pack("{s:i, s:s, s:o}", "websdr", wi + 1,
			    "station", st_name(l, wi + 1), "residual_us",
			    jreal(res[wi], Q_US));
	}
	r = json_pack("{s:s, s:o, s:b, s:b, s:o}", "session_id", l->sid,
	    "chunk_index", k >= 0 ? json_integer(k) : json_null(),
	    "final", k < 0, "ok", f->ok,
	    "reason", f->ok ? json_null() : json_string(f->reason));
	json_object_set_new(r, "latitude", f->ok ? jreal(f->lat, Q_DEG) :
	    json_null());
	json_object_set_new(r, "longitude", f->ok ? jreal(f->lon, Q_DEG) :
	    json_null());
	json_object_set_new(r, "semi_major_m", f->ok ?
	    jreal(f->semi_major_m, Q_M) : json_null());
	json_object_set_new(r, "semi_minor_m", f->ok ?
	    jreal(f->semi_minor_m, Q_M) : json_null());
	json_object_set_new(r, "orientation_deg", f->ok ?
	    jreal(f->orient_deg, Q_ORI) : json_null());
	json_object_set_new(r, "cep50_m", f->ok ? jreal(f->cep50_m, Q_M) :
	    json_null());
	json_object_set_new(r, "cep95_m", f->ok ? jreal(f->cep95_m, Q_M) :
	    json_null());
	json_object_set_new(r, "receivers", json_incref(rx));
	json_object_set_new(r, "pairs_used", json_integer(f->n_meas_used));
	json_object_set_new(r, "error_m", jreal(err, Q_M));
	json_object_set_new(r, "worst_websdr", wi >= 0 ?
	    json_integer(wi + 1) : json_null());
	json_object_set_new(r, "worst_residual_us", wi >= 0 ?
	    jreal(res[wi], Q_US) : json_null());

	e = json_pack("{s:s}", "session_id", l->sid);
	if (k >= 0)
		json_object_set_new(e, "chunk_index", json_integer(k));
	else
		json_object_set_new(e, "final", json_true());
	json_object_set_new(e, "ok", json_boolean(f->ok));
	if (!f->ok)
		json_object_set_new(e, "reason", json_string(f->reason));
	else if (f->note[0] != '\0')
		json_object_set_new(e, "note", json_string(f->note));
	json_object_set_new(e, "latitude", json_deep_copy(json_object_get(r,
	    "latitude")));
	json_object_set_new(e, "longitude", json_deep_copy(json_object_get(r,
	    "longitude")));
	if (f->ok)
		json_object_set_new(e, "ellipse", json_pack("{s:o, s:o, s:o}",
		    "semi_major_m", jreal(f->semi_major_m, Q_M), "semi_minor_m",
		    jreal(f->semi_minor_m, Q_M), "orientation_deg",
		    jreal(f->orient_deg, Q_ORI)));
	json_object_set_new(e, "cep50_m", json_deep_copy(json_object_get(r,
	    "cep50_m")));
	json_object_set_new(e, "cep95_m", json_deep_copy(json_object_get(r,
	    "cep95_m")));
	json_object_set_new(e, "receivers", rx);
	json_object_set_new(e, "pairs_used", json_integer(f->n_meas_used));
	json_object_set_new(e, "pairs_rejected", json_integer(f->n_rejected));
	if (k < 0) {
		/* the session fix combines chunk fixes (fix_combine): how
		 * many, beside the pairs those chunks used */
		json_object_set_new(e, "chunks_used",
		    json_integer(f->n_chunks_used));
		json_object_set_new(e, "chunks_rejected",
		    json_integer(f->n_chunks_rejected));
	}
	if (l->cfg.has_source) {
		json_object_set_new(e, "error_m", jreal(err, Q_M));
		json_object_set_new(e, "residuals", resid != NULL ? resid :
		    json_array());
		resid = NULL;
		if (worst != NULL) {
			json_object_set_new(e, "worst", worst);
			worst = NULL;
		}
	}
	json_decref(resid);
	json_decref(worst);
	*row = r;
	*ev = e;
}

/*
 * Each receiver's SNR from its pairs' correlation, the SNR TDoA depends
 * on. The chunk metric's SNR (noise floor = median bin, metrics.h) is
 * right for a narrowband signal and meaningless for one that fills the
 * passband -- a 10 kHz noise-like signal at 20 dB reads about -18 dB --
 * so the gate is measured here instead. For a signal common to both
 * receivers and independent noise, a pair's normalized correlation is
 * rho_ab = sqrt(q_a q_b), q = snr / (1 + snr) (its coherence over the
 * band used): log rho_ab = (log q_a + log q_b) / 2, solved for every
 * log q by least squares over the pairs (damped Jacobi iterations: at
 * most max_rx unknowns, a few pairs each). Only a component of the pair
 * graph with an odd cycle determines each q (on an even cycle or a tree
 * q_a x c, q_b / c fit as well): other receivers get NaN, not judged.
 */
static void
corr_snr(const struct tdoa_pair *p, int np, int n, double *snr_db)
{
	double	*x, *acc, *lr;
	int	*deg, *color, *queue, *comp;
	int	 i, j, it, head, tail, c, odd;

	x = calloc((size_t)n, sizeof *x);
	acc = calloc((size_t)n, sizeof *acc);
	deg = calloc((size_t)n, sizeof *deg);
	color = calloc((size_t)n, sizeof *color);
	queue = calloc((size_t)n, sizeof *queue);
	comp = calloc((size_t)n, sizeof *comp);
	lr = calloc((size_t)np + 1, sizeof *lr);
	for (i = 0; i < n; i++)
		snr_db[i] = NAN;
	if (x == NULL || acc == NULL || deg == NULL || color == NULL ||
	    queue == NULL || comp == NULL || lr == NULL)
		goto out;
	for (j = 0; j < np; j++) {
		deg[p[j].a]++;
		deg[p[j].b]++;
	}
	for (j = 0; j < np; j++)	/* 2 log rho, once per pair */
		lr[j] = 2 * log(fmin(fmax(p[j].corr, 1e-6), 0.999999));
	for (it = 0; it < 200; it++) {
		memset(acc, 0, (size_t)n * sizeof *acc);
		for (j = 0; j < np; j++) {
			acc[p[j].a] += lr[j] - x[p[j].b];
			acc[p[j].b] += lr[j] - x[p[j].a];
		}
		for (i = 0; i < n; i++)
			if (deg[i] > 0)
				x[i] = fmin(0.5 * x[i] + 0.5 * acc[i] / deg[i],
				    log(0.999999));
	}
	/* 2-colour each component: one edge between equal colours is an
	 * odd cycle */
	for (i = 0; i < n; i++)
		color[i] = comp[i] = -1;
	for (c = 0, i = 0; i < n; i++) {
		if (color[i] >= 0 || deg[i] == 0)
			continue;
		color[i] = 0;
		comp[i] = c;
		queue[0] = i;
		for (head = 0, tail = 1; head < tail; head++) {
			int u = queue[head];
			for (j = 0; j < np; j++) {
				int v = p[j].a == u ? p[j].b : p[j].b == u ?
				    p[j].a : -1;
				if (v < 0 || color[v] >= 0)
					continue;
				color[v] = !color[u];
				comp[v] = c;
				queue[tail++] = v;
			}
		}
		c++;
	}
	for (i = 0; i < n; i++) {
		if (deg[i] == 0)
			continue;
		for (odd = 0, j = 0; j < np && !odd; j++)
			odd = comp[p[j].a] == comp[i] &&
			    color[p[j].a] == color[p[j].b];
		if (odd)
			snr_db[i] = 10 * log10(exp(x[i]) / (1 - exp(x[i])));
	}
out:
	free(x);
	free(acc);
	free(deg);
	free(color);
	free(queue);
	free(comp);
	free(lr);
}

static int
cmp_websdr(const void *x, const void *y)
{
	json_int_t a = json_integer_value(json_object_get(*(json_t *const *)x,
	    "websdr"));
	json_int_t b = json_integer_value(json_object_get(*(json_t *const *)y,
	    "websdr"));

	return (a > b) - (a < b);
}

/* A copy of the exclusions in station order (they are gathered in the
 * order chunks come), for people and for the event's subscribers: the
 * slot's array is cleared for its next chunk index meanwhile. */
static json_t *
excluded_sorted(const json_t *ex)
{
	size_t	 n = json_array_size(ex), i;
	json_t	**v = calloc(n + 1, sizeof *v), *out = json_array();

	for (i = 0; v != NULL && i < n; i++)
		v[i] = json_array_get(ex, i);
	if (v != NULL)
		qsort(v, n, sizeof *v, cmp_websdr);
	for (i = 0; v != NULL && i < n; i++)
		json_array_append_new(out, json_deep_copy(v[i]));
	free(v);
	return out;
}

/* No fix for chunk index k, with why. */
static void
no_fix(struct fix_result *f, const char *fmt, const char *arg)
{
	memset(f, 0, sizeof *f);
	f->lat = f->lon = NAN;
	snprintf(f->reason, sizeof f->reason, fmt, arg);
}

/* Emit and keep the fix of chunk index k (k < 0: the session's), then
 * hand it and the chunk's TDoA rows (tdoa, NULL: none) to persist. */
static void
say_fix(struct locate *l, int k, const struct fix_result *f,
    const double *res, const json_t *tdoa)
{
	json_t	*row, *ev, *one;

	fix_json(l, k, f, res, &row, &ev);
	pthread_mutex_lock(&l->lock);
	json_array_append(l->fix_rows, row);
	if (k < 0) {
		json_decref(l->final);
		l->final = json_incref(row);
		json_decref(l->final_ev);
		l->final_ev = json_deep_copy(ev);
	} else {
		l->fixes[k] = *f;
		l->has_fix[k] = 1;
		if (l->last_ev == NULL || k > l->last_k) {
			json_decref(l->last_ev);
			l->last_ev = json_deep_copy(ev);
			l->last_k = k;
		}
	}
	pthread_mutex_unlock(&l->lock);
	emit_q(l, "session:fix", ev);
	/* after the event: the fix is out first, then made durable */
	if (l->cfg.persist != NULL && (one = json_array()) != NULL) {
		json_array_append(one, row);
		l->cfg.persist(l->cfg.persist_ctx, k < 0 ? -1 : k, tdoa, one);
		json_decref(one);
	}
	json_decref(row);
}

/*
 * Runs without l->lock: the slot is S_RUNNING, nobody else touches it.
 * TDoA of the held receivers' pairs, session:tdoa, the fix, session:fix.
 */
static void
locate_slot(struct locate *l, struct slot *s)
{
	struct tdoa_input	*in;
	struct tdoa_pair	*pairs = NULL;
	struct fix_meas		*meas = NULL;
	struct fix_result	 f;
	json_t			*jp, *ev, *rows;
	double			*res = NULL, *snr;
	char			 err[200];
	const char		*why;
	int			 i, j, np = 0, nmeas = 0, maxp, rc = 0, nused;

	in = calloc((size_t)s->nheld + 1, sizeof *in);
	maxp = tdoa_max_pairs(l->tctx, s->nheld);
	if (maxp > 0) {
		pairs = calloc((size_t)maxp, sizeof *pairs);
		meas = calloc((size_t)maxp, sizeof *meas);
	}
	if (in == NULL || (maxp > 0 && (pairs == NULL || meas == NULL))) {
		free(in);
		free(pairs);
		free(meas);
		no_fix(&f, "%s", "out of memory");
		say_fix(l, s->k, &f, NULL, NULL);
		return;
	}
	for (i = 0; i < s->nheld; i++) {
		in[i].iq = s->rx[i].iq;
		in[i].n = s->rx[i].n;
		in[i].rate_hz = s->rx[i].fs;
		in[i].t0_ns = s->rx[i].t0_ns;
		/* a rank for TDoA's choice of partners (its SNR gate is
		 * off: ours is corr_snr) */
		in[i].snr_db = s->rx[i].power_db;
		in[i].band_lo_hz = l->cfg.band_lo_hz;
		in[i].band_hi_hz = l->cfg.band_hi_hz;
	}
	if (s->nheld >= 2 && (rc = tdoa_chunk(l->tctx, in, s->nheld, pairs,
	    maxp, &np)) != 0) {
		snprintf(err, sizeof err, "%s", tdoa_error(l->tctx));
		np = 0;
	}
	/* Receivers TDoA would not use say why, as the others do (only
	 * this thread touches a running slot). */
	nused = s->nheld;
	for (i = 0; rc == 0 && i < s->nheld && s->nheld >= 2; i++) {
		if ((why = tdoa_excluded(l->tctx, i)) != NULL) {
			exclude_locked(l, s, s->rx[i].websdr, why);
			nused--;
		}
	}
	/* the SNR gate, on what correlates (corr_snr): a weak receiver's
	 * pairs go */
	if ((snr = calloc((size_t)s->nheld + 1, sizeof *snr)) != NULL)
		corr_snr(pairs, np, s->nheld, snr);
	for (i = 0; snr != NULL && i < s->nheld; i++) {
		char w[160];
		if (!(snr[i] < l->cfg.snr_min_db))
			continue;
		snprintf(w, sizeof w, "SNR %.1f dB < %g dB (measured by its "
		    "correlation with the others)", snr[i], l->cfg.snr_min_db);
		exclude_locked(l, s, s->rx[i].websdr, w);
		nused--;
	}
	for (i = j = 0; i < np; i++)
		if (snr == NULL || (!(snr[pairs[i].a] < l->cfg.snr_min_db) &&
		    !(snr[pairs[i].b] < l->cfg.snr_min_db)))
			pairs[j++] = pairs[i];
	np = j;
	free(snr);

	jp = json_array();
	rows = json_array();
	for (i = 0; i < np; i++) {
		const struct tdoa_pair *p = &pairs[i];
		int wa = s->rx[p->a].websdr, wb = s->rx[p->b].websdr;
		json_array_append_new(jp, json_pack("{s:i, s:s, s:i, s:s, "
		    "s:o, s:o, s:o, s:o}", "websdr_a", wa, "station_a",
		    st_name(l, wa), "websdr_b", wb, "station_b", st_name(l, wb),
		    "tdoa_us", jreal(p->tdoa_s * 1e6, Q_US), "sigma_us",
		    jreal(p->sigma_s * 1e6, Q_US), "quality", jreal(p->quality, Q_FIG),
		    "corr", jreal(p->corr, Q_FIG)));
		json_array_append_new(rows, json_pack("{s:s, s:i, s:i, s:i, "
		    "s:o, s:o, s:o, s:o}", "session_id", l->sid, "chunk_index",
		    s->k, "websdr_a", wa, "websdr_b", wb, "tdoa_us",
		    jreal(p->tdoa_s * 1e6, Q_US), "sigma_us", jreal(p->sigma_s * 1e6, Q_US),
		    "quality", jreal(p->quality, Q_FIG), "corr", jreal(p->corr, Q_FIG)));
		/* the fix indexes receivers by station (websdr - 1) */
		if (!isfinite(p->tdoa_s) || !(p->sigma_s > 0) ||
		    !isfinite(p->sigma_s))
			continue;
		meas[nmeas].a = wa - 1;
		meas[nmeas].b = wb - 1;
		meas[nmeas].tdoa_s = p->tdoa_s;
		meas[nmeas].sigma_s = p->sigma_s;
		nmeas++;
	}
	ev = json_pack("{s:s, s:i, s:o, s:o}", "session_id", l->sid,
	    "chunk_index", s->k, "pairs", jp, "excluded",
	    excluded_sorted(s->excluded));
	pthread_mutex_lock(&l->lock);
	json_array_extend(l->tdoa_rows, rows);
	pthread_mutex_unlock(&l->lock);
	emit_q(l, "session:tdoa", ev);

	if (rc != 0)
		no_fix(&f, "TDoA failed: %s", err);
	else if (nused < 3)
		no_fix(&f, "%s", nused <= 0 ? "no usable receiver (see "
		    "excluded)" : nused == 1 ? "1 usable receiver, 3 are "
		    "needed (see excluded)" : "2 usable receivers, 3 are "
		    "needed (see excluded)");
	else {
		/* start from the previous chunk's fix (fix_opts.hint), but
		 * from the grid every LOCATE_GRID_EVERY chunks */
		struct fix_opts fo = { 0 };

		pthread_mutex_lock(&l->lock);
		if (s->k > 0 && s->k % LOCATE_GRID_EVERY != 0 &&
		    l->has_fix[s->k - 1] && l->fixes[s->k - 1].ok) {
			fo.hint = 1;
			fo.hint_lat = l->fixes[s->k - 1].lat;
			fo.hint_lon = l->fixes[s->k - 1].lon;
		}
		pthread_mutex_unlock(&l->lock);
		fix_solve(l->pos, l->nst, meas, nmeas, &fo, &f);
	}
	if (l->cfg.has_source && nmeas > 0 &&
	    (res = malloc((size_t)l->nst * sizeof *res)) != NULL) {
		fix_residuals_us(l->pos, l->nst, meas, nmeas,
		    l->cfg.source_lat, l->cfg.source_lon, res);
		pthread_mutex_lock(&l->lock);
		for (i = 0; i < l->nst; i++) {
			if (isfinite(res[i])) {
				l->res_sum[i] += res[i];
				l->res_n[i]++;
			}
		}
		pthread_mutex_unlock(&l->lock);
	}
	say_fix(l, s->k, &f, res, rows);
	json_decref(rows);
	free(res);
	free(in);
	free(pairs);
	free(meas);
}

static void
skip_fix(struct locate *l, int k)
{
	struct fix_result f;

	no_fix(&f, "%s", "skipped: the locator is behind (the machine is "
	    "overloaded); this chunk is stored but not located");
	events_emit(l->cfg.ev, "session:tdoa", json_pack("{s:s, s:i, s:[], "
	    "s:[]}", "session_id", l->sid, "chunk_index", k, "pairs",
	    "excluded"));
	say_fix(l, k, &f, NULL, NULL);
}

/* l->lock held. Chunk index k still waits for a receiver's chunk. */
static int
pending(const struct locate *l, int k)
{
	int	i;

	if (!l->done[k])
		return 1;
	for (i = 0; i < LOCATE_SLOTS; i++)
		if (l->slots[i].state == S_FILLING && l->slots[i].k == k)
			return 1;
	return 0;
}

/*
 * l->lock held. The host time by which every GPS-timed receiver still
 * owing chunk index k should have delivered the frame that completes it
 * (NAN: none can be predicted). A receiver's blocks lie on a grid of GPS
 * time (locate_block: its last block's end and a block's length), so the
 * block holding the chunk's last sample ends at the first grid point at
 * or after the chunk's end; it reaches the host that GPS time minus the
 * receiver's clock figure (GPS minus host time at arrival, the least
 * delay seen), i.e. at the earliest a frame of it can come. A receiver
 * whose completing block is in already has delivered its chunk (the
 * chunker offers it while it takes the block), so only those to come
 * count. Receivers without GPS stamps have no grid: they are not
 * predicted (the steps after the prediction catch them).
 */
static double
predict_in(const struct locate *l, int k)
{
	const struct slot *s = NULL;
	int64_t	 e = l->end0_ns + (int64_t)k * (int64_t)l->cfg.chunk_ms *
		    1000000;
	double	 t, best = NAN;
	int	 i;

	for (i = 0; i < LOCATE_SLOTS; i++)
		if (l->slots[i].state == S_FILLING && l->slots[i].k == k)
			s = &l->slots[i];
	for (i = 0; i < l->nst; i++) {
		const struct lblk *b = &l->blk[i];
		int64_t	m;

		if (!b->ok || (s != NULL && s->seen[i]) || e <= b->end_ns)
			continue;
		m = (e - b->end_ns + b->len_ns - 1) / b->len_ns;
		t = (double)(b->end_ns + m * b->len_ns) / 1e9 - b->clk;
		if (isnan(best) || t > best)
			best = t;
	}
	return best;
}

/* The margin after the predicted arrival (locate.nudge_margin): a frame
 * comes later than the least delay seen (scheduling on both ends, the
 * sender's pace). It adapts: a predicted nudge that did not complete the
 * chunk widens it by NUDGE_WIDEN_S, one that did narrows it by
 * NUDGE_NARROW_S, within MIN .. MAX: about one miss in five, each costing
 * one more nudge and that chunk's fix 10 ms later. */
#define NUDGE_MARGIN_START_S	0.003
#define NUDGE_MARGIN_MIN_S	0.001
#define NUDGE_MARGIN_MAX_S	0.030
#define NUDGE_WIDEN_S		0.002
#define NUDGE_NARROW_S		0.0005
#define NUDGE_STEP_S		0.010
/* Without a prediction, the first nudge this long after the chunk's end;
 * none later than NUDGE_LAST_S after it (see next_nudge). */
#define NUDGE_BLIND_S		0.015
#define NUDGE_LAST_S		0.150

/*
 * l->lock held. When to nudge the receivers' loop next (0: no need).
 * The loop rests up to 200 ms between turns to serve many frames per
 * wake-up (net/rx/rxloop.c), so a chunk would reach us up to 200 ms after
 * the frame that completes it: too late for a fix within 100 ms of the
 * chunk's end. A KiwiSDR sends that frame 0-43 ms after the end (512
 * samples at 12 kS/s). Each nudge is a turn of the loop (a wake-up, lws'
 * service, a recv per socket): ~3.5 a chunk at 10-ms steps from 15 ms
 * after the end. So the first nudge goes when the last GPS-timed
 * receiver's completing frame is due (predict_in), which is one nudge a
 * chunk when the prediction holds; then, while a receiver's chunk is
 * still missing, every 10 ms (without a prediction: from 15 ms after the
 * end, as before), until every receiver's chunk is in or 150 ms after
 * the end (a receiver that is late is waited for by the grace period,
 * not by nudges). The end is on GPS time, the nudge on the host clock:
 * the prediction converts with each receiver's measured clock; the
 * fallback assumes the host clock on GPS time, and a host clock far off
 * makes it useless (the rest still bounds the delay), never harmful.
 */
static double
next_nudge(struct locate *l)
{
	double	end, first, due;
	int	k;

	if (l->cfg.nudge == NULL || l->end0_ns == 0 || !l->timed)
		return 0;
	for (k = l->nudge_k < 0 ? 0 : l->nudge_k; k < l->cfg.total &&
	    !pending(l, k); k++)
		;
	if (k != l->nudge_k) {
		/* nudge_k is in: did its predicted nudge do it? */
		if (l->nudge_pred && l->nudge_step > 1)
			l->nudge_margin = fmin(l->nudge_margin +
			    NUDGE_WIDEN_S, NUDGE_MARGIN_MAX_S);
		else if (l->nudge_pred && l->nudge_step == 1)
			l->nudge_margin = fmax(l->nudge_margin -
			    NUDGE_NARROW_S, NUDGE_MARGIN_MIN_S);
		l->nudge_k = k;
		l->nudge_step = 0;
	}
	if (k >= l->cfg.total)
		return 0;
	end = (double)l->end0_ns / 1e9 + k * (l->cfg.chunk_ms / 1000.0);
	if (l->nudge_step == 0) {
		first = predict_in(l, k);
		l->nudge_pred = !isnan(first) && first > end - 0.05 &&
		    first < end + NUDGE_LAST_S;
		/* without a prediction (or with a clock gone wrong): from
		 * NUDGE_BLIND_S after the end */
		l->nudge_first = l->nudge_pred ? first + l->nudge_margin :
		    end + NUDGE_BLIND_S;
	}
	due = l->nudge_first + NUDGE_STEP_S * l->nudge_step;
	if (due > end + NUDGE_LAST_S) {	/* give up on k */
		l->nudge_k = k + 1;
		l->nudge_step = 0;
		l->nudge_pred = 0;
		return next_nudge(l);
	}
	return due;
}

static void *
locate_main(void *arg)
{
	struct locate	*l = arg;
	struct slot	*s;
	struct timespec	 ts;
	double		 due, now;
	int		 i, k;

	pthread_mutex_lock(&l->lock);
	for (;;) {
		s = NULL;
		for (i = 0; i < LOCATE_SLOTS; i++)
			if (l->slots[i].state == S_QUEUED && (s == NULL ||
			    l->slots[i].k < s->k))
				s = &l->slots[i];
		if (l->nskipped > 0) {
			k = l->skipped[--l->nskipped];
			pthread_mutex_unlock(&l->lock);
			skip_fix(l, k);
			pthread_mutex_lock(&l->lock);
			continue;
		}
		if (s != NULL) {
			s->state = S_RUNNING;
			pthread_mutex_unlock(&l->lock);
			locate_slot(l, s);
			pthread_mutex_lock(&l->lock);
			s->state = S_FREE;
			pthread_cond_broadcast(&l->cond);
			continue;
		}
		if (l->stop)
			break;
		if (l->warm_fs > 0) {
			double fs = l->warm_fs;
			l->warm_fs = -1;
			pthread_mutex_unlock(&l->lock);
			warm_up(l, fs);
			pthread_mutex_lock(&l->lock);
			continue;
		}
		if ((due = next_nudge(l)) == 0) {
			pthread_cond_wait(&l->cond, &l->lock);
			continue;
		}
		if ((now = util_now()) >= due) {
			/* the next step at least half a step after now: a
			 * thread that was busy (a TDoA, the warm-up) does
			 * not make up for the steps it missed with a burst */
			l->nudge_step = (int)fmax(l->nudge_step + 1,
			    floor((now - l->nudge_first) / NUDGE_STEP_S +
			    0.5) + 1);
			pthread_mutex_unlock(&l->lock);
			l->cfg.nudge(l->cfg.nudge_ctx);
			pthread_mutex_lock(&l->lock);
			continue;
		}
		ts.tv_sec = (time_t)due;
		ts.tv_nsec = (long)((due - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&l->cond, &l->lock, &ts);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

/*
 * The largest |TDoA| to search: the longest baseline / c (no arrival can
 * differ by more), plus a margin for clocks and positions that are off
 * (0.5 ms = 150 km: a 20 us clock error is well inside and shows in the
 * residuals), at most 20 ms. A great circle on a sphere of the WGS84
 * equatorial radius (O(n^2) cheap trigonometry, not geodesics) is long
 * enough: it exceeds the geodesic by at most ~0.5 %, and 1 % is added.
 */
static double
max_lag(const struct locate *l)
{
	double	best = 0, d, s1, s2;
	int	i, j;

	for (i = 0; i < l->nst; i++) {
		double la1 = l->pos[i].lat * M_PI / 180;
		double lo1 = l->pos[i].lon * M_PI / 180;
		for (j = i + 1; j < l->nst; j++) {
			double la2 = l->pos[j].lat * M_PI / 180;
			double lo2 = l->pos[j].lon * M_PI / 180;
			s1 = sin((la2 - la1) / 2);
			s2 = sin((lo2 - lo1) / 2);
			d = 2 * 6378137.0 * asin(fmin(1, sqrt(s1 * s1 +
			    cos(la1) * cos(la2) * s2 * s2)));
			if (d > best)
				best = d;
		}
	}
	return fmin(0.02, best * 1.01 / FIX_C_M_S + 0.5e-3);
}

struct locate *
locate_new(const struct locate_config *cfg, char *err, size_t errlen)
{
	struct locate	*l;
	struct tdoa_opts to;
	int		 i, n = cfg->stations != NULL ? cfg->stations->n : 0;

	if (n <= 0 || n > FIX_MAX_RX || cfg->total <= 0 ||
	    cfg->session_id == NULL || cfg->ev == NULL) {
		snprintf(err, errlen, "locate: %s", n > FIX_MAX_RX ?
		    "too many stations to locate with" : "bad configuration");
		return NULL;
	}
	if ((l = calloc(1, sizeof *l)) == NULL)
		goto oom;
	l->cfg = *cfg;
	l->nst = n;
	l->kmax = -1;
	l->nudge_k = -1;
	l->nudge_margin = NUDGE_MARGIN_START_S;
	snprintf(l->sid, sizeof l->sid, "%s", cfg->session_id);
	l->cfg.session_id = l->sid;
	if (l->cfg.snr_min_db <= 0)
		l->cfg.snr_min_db = LOCATE_SNR_MIN_DB;
	if (l->cfg.max_rx <= 0)
		l->cfg.max_rx = LOCATE_MAX_RX;
	if (l->cfg.chunk_ms <= 0)
		l->cfg.chunk_ms = 1000;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cond, NULL);
	l->done = calloc((size_t)cfg->total, 1);
	l->skipped = calloc((size_t)cfg->total, sizeof *l->skipped);
	l->fixes = calloc((size_t)cfg->total, sizeof *l->fixes);
	l->has_fix = calloc((size_t)cfg->total, 1);
	if (cfg->absent != NULL) {
		if ((l->absent = malloc((size_t)n)) == NULL)
			goto oom;
		memcpy(l->absent, cfg->absent, (size_t)n);
	}
	l->cfg.absent = NULL;
	l->pos = calloc((size_t)n, sizeof *l->pos);
	l->res_sum = calloc((size_t)n, sizeof *l->res_sum);
	l->res_n = calloc((size_t)n, sizeof *l->res_n);
	l->blk = calloc((size_t)n, sizeof *l->blk);
	l->tdoa_rows = json_array();
	l->fix_rows = json_array();
	if (l->done == NULL || l->skipped == NULL || l->fixes == NULL ||
	    l->has_fix == NULL || l->pos == NULL || l->res_sum == NULL ||
	    l->res_n == NULL || l->blk == NULL || l->tdoa_rows == NULL ||
	    l->fix_rows == NULL)
		goto oom;
	for (i = 0; i < n; i++) {
		l->pos[i].lat = cfg->stations->v[i].latitude;
		l->pos[i].lon = cfg->stations->v[i].longitude;
	}
	tdoa_opts_default(&to);
	/* the SNR gate is ours, on the correlations (corr_snr): the chunk
	 * metric TDoA would judge by is wrong for wideband signals */
	to.min_snr_db = -999;
	to.max_lag_s = max_lag(l);
	/* LOCATE_PARTNERS: each receiver is paired with the two best (2N - 3
	 * pairs: 11 at 7 receivers, not 15 with 3 nor 21 with all), the
	 * fewest that still close triangles, which corr_snr needs to tell
	 * each receiver's SNR from the pairs' correlations (a star of N - 1
	 * pairs has no odd cycle). The fix takes its pairs as independent
	 * (src/loc/fix.h) while N - 1 of them carry the information: fewer
	 * pairs overstate it less. ~20 % less TDoA CPU at 7 receivers
	 * (bench/README.md, "What localization costs"). */
	to.partners = LOCATE_PARTNERS;
	if ((l->tctx = tdoa_new(&to)) == NULL)
		goto oom;
	for (i = 0; i < LOCATE_SLOTS; i++) {
		struct slot *s = &l->slots[i];
		s->rx = calloc((size_t)l->cfg.max_rx, sizeof *s->rx);
		s->seen = calloc((size_t)n, 1);
		s->excluded = json_array();
		if (s->rx == NULL || s->seen == NULL || s->excluded == NULL)
			goto oom;
	}
	if (pthread_create(&l->thread, NULL, locate_main, l) != 0) {
		snprintf(err, errlen, "locate: cannot start a thread");
		locate_free(l);
		return NULL;
	}
	pthread_setname_np(l->thread, "hr-locate");	/* for top -H, perf */
	l->up = 1;
	return l;
oom:
	snprintf(err, errlen, "locate: out of memory");
	locate_free(l);
	return NULL;
}

void
locate_finish(struct locate *l)
{
	struct fix_result	 f, *v;
	double			*res;
	int			 i, k, n = 0, busy;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	if (l->finished) {
		pthread_mutex_unlock(&l->lock);
		return;
	}
	l->finished = 1;
	for (i = 0; i < LOCATE_SLOTS; i++)
		queue_slot(l, &l->slots[i], "no chunk: the acquisition ended");
	/* Drain, then stop the thread. */
	do {
		busy = l->nskipped > 0;
		for (i = 0; i < LOCATE_SLOTS; i++)
			busy |= l->slots[i].state != S_FREE;
		if (busy)
			pthread_cond_wait(&l->cond, &l->lock);
	} while (busy);
	l->stop = 1;
	pthread_cond_broadcast(&l->cond);
	pthread_mutex_unlock(&l->lock);
	if (l->up) {
		pthread_join(l->thread, NULL);
		l->up = 0;
	}

	/* The session fix: its chunk fixes combined. */
	v = calloc((size_t)l->cfg.total + 1, sizeof *v);
	res = calloc((size_t)l->nst, sizeof *res);
	for (k = 0; v != NULL && k < l->cfg.total; k++)
		if (l->has_fix[k])
			v[n++] = l->fixes[k];
	if (v == NULL)
		no_fix(&f, "%s", "out of memory");
	else if (n == 0)
		no_fix(&f, "%s", "no chunk was located");
	else if (fix_combine(v, n, &f) != 0 && f.reason[0] == '\0')
		snprintf(f.reason, sizeof f.reason, "no chunk has a fix");
	/* A receiver's residual for the session: its mean over the
	 * chunks. */
	for (i = 0; res != NULL && i < l->nst; i++)
		res[i] = l->res_n[i] > 0 ? l->res_sum[i] / l->res_n[i] : NAN;
	say_fix(l, -1, &f, l->cfg.has_source ? res : NULL, NULL);
	free(res);
	free(v);
}

void
locate_rows(struct locate *l, json_t **tdoa, json_t **fixes, json_t **final)
{
	pthread_mutex_lock(&l->lock);
	*tdoa = json_copy(l->tdoa_rows);
	*fixes = json_copy(l->fix_rows);
	*final = l->final != NULL ? json_incref(l->final) : NULL;
	pthread_mutex_unlock(&l->lock);
}

json_t *
locate_latest_fix(struct locate *l, int final)
{
	json_t	*d;

	if (l == NULL)
		return NULL;
	pthread_mutex_lock(&l->lock);
	d = final ? l->final_ev : l->last_ev;
	d = d != NULL ? json_deep_copy(d) : NULL;
	pthread_mutex_unlock(&l->lock);
	return d;
}

void
locate_free(struct locate *l)
{
	int	i, j;

	if (l == NULL)
		return;
	if (l->up) {
		pthread_mutex_lock(&l->lock);
		l->stop = 1;
		l->finished = 1;
		pthread_cond_broadcast(&l->cond);
		pthread_mutex_unlock(&l->lock);
		pthread_join(l->thread, NULL);
	}
	for (i = 0; i < LOCATE_SLOTS; i++) {
		for (j = 0; l->slots[i].rx != NULL && j < l->cfg.max_rx; j++)
			if (l->slots[i].rx[j].own)
				util_bigbuf_free(l->slots[i].rx[j].iq,
				    2 * l->slots[i].rx[j].cap *
				    sizeof *l->slots[i].rx[j].iq);
		free(l->slots[i].rx);
		free(l->slots[i].seen);
		json_decref(l->slots[i].excluded);
	}
	util_bigbuf_free(l->arena, l->arena_len);
	free(l->done);
	free(l->skipped);
	free(l->fixes);
	free(l->has_fix);
	free(l->pos);
	free(l->absent);
	free(l->res_sum);
	free(l->res_n);
	free(l->blk);
	tdoa_free(l->tctx);
	json_decref(l->tdoa_rows);
	json_decref(l->fix_rows);
	json_decref(l->final);
	json_decref(l->last_ev);
	json_decref(l->final_ev);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->cond);
	free(l);
}
