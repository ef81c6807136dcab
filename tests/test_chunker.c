/* test_chunker.c -- slicing across frame boundaries, odd rates, alignment, gaps, reconnects. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stdio.h>
#include <unistd.h>

#include "src/engine/chunker.h"

#define MAXC	64

/*
 * Every test runs twice: rings on the heap, then in a spool file
 * (chunker_spool), each chunker its own region of it -- the same chunks
 * either way. chunker_new below is this wrapper; (chunker_new) the real.
 */
static int	 spool_fd = -1;
static int	 spool_next;

static struct chunker *
new_chunker(int websdr, int total, double ring_s)
{
	struct chunker	*ch = (chunker_new)(websdr, total, ring_s);

	if (ch != NULL && spool_fd >= 0)
		chunker_spool(ch, spool_fd, (int64_t)spool_next++ << 20,
		    (size_t)1 << 20);
	return ch;
}
#define chunker_new	new_chunker

struct got {
	struct chunk	*c[MAXC];
	int		 n;
};

static void
collect(void *ctx, struct chunk *c)
{
	struct got *g = ctx;

	assert_true(g->n < MAXC);
	g->c[g->n++] = c;
}

static void
got_free(struct got *g)
{
	int	i;

	for (i = 0; i < g->n; i++)
		chunk_free(g->c[i]);
	g->n = 0;
}

/* int16 k of a chunk's samples (I of sample k/2, or Q), in memory or
 * spooled (read from its slot: the file is what a spooled chunk is). */
static int16_t
iq_at(const struct chunk *c, size_t k)
{
	int16_t	 v;

	if (c->iq != NULL)
		return c->iq[k];
	assert_true(c->slot >= 0);
	assert_int_equal(pread(c->spool_fd, &v, sizeof v, (off_t)(c->spool_off +
	    2 * (int64_t)k)), (ssize_t)sizeof v);
	return v;
}

/* Counting signal: sample i carries i in I (low 15 bits) and Q (high). */
static uint32_t
counter_at(const struct chunk *c, size_t i)
{
	return (uint32_t)iq_at(c, 2 * i) | (uint32_t)iq_at(c, 2 * i + 1) << 15;
}

/* A simulated stream: samples counted from 0, sample i taken at
 * start + i/fs (true time: GPS time); blocks of frame samples. The host
 * clock that stamps arrivals reads host seconds off true time. */
struct stream {
	double		 fs;
	double		 start;
	int		 gps;
	double		 gpsoff;	/* its GPS stamps read this far off */
	double		 host;
	uint32_t	 count;
	int16_t		 buf[2 * 4096];
};

static void
send_block(struct chunker *ch, struct stream *s, size_t n, size_t lost,
    struct got *g)
{
	struct rx_block	 b;
	size_t		 i;

	s->count += (uint32_t)lost;
	for (i = 0; i < n; i++) {
		uint32_t v = s->count + (uint32_t)i;
		s->buf[2 * i] = (int16_t)(v & 0x7fff);
		s->buf[2 * i + 1] = (int16_t)((v >> 15) & 0x7fff);
	}
	memset(&b, 0, sizeof b);
	b.iq = s->buf;
	b.n = n;
	b.lost = lost;
	b.t_gps_ns = s->gps ? llround((s->start + s->count / s->fs +
	    s->gpsoff) * 1e9) : 0;
	/* arrival: just after the block's last sample, plus 3 ms */
	b.t_arrival = s->start + (s->count + n) / s->fs + 0.003 + s->host;
	b.gps_age = s->gps ? 1 : -1;
	b.rssi_dbm = -80.0;
	s->count += (uint32_t)n;
	chunker_feed(ch, &b, collect, g);
}

static void
test_gapless_odd_rate(void **state)
{
	struct stream	 s = { .fs = 12001.135, .start = 1000.0, .gps = 1 };
	struct chunker	*ch = chunker_new(1, 5, 0.5);
	struct got	 g = { .n = 0 };
	int		 k;
	double		 t;

	(void)state;
	chunker_stream(ch, s.fs);
	send_block(ch, &s, 512, 0, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	assert_true(fabs(t - 1000.0) < 1e-9);
	chunker_set_origin(ch, t, collect, &g);
	while (s.count < 7 * 12002)
		send_block(ch, &s, 512, 0, &g);
	assert_int_equal(g.n, 5);
	assert_int_equal(chunker_next(ch), 5);
	for (k = 0; k < 5; k++) {
		struct chunk *c = g.c[k];
		size_t want = (size_t)(ceil((k + 1) * s.fs) - ceil(k * s.fs));
		size_t i;
		assert_int_equal(c->index, k);
		assert_int_equal(c->n, want);
		assert_int_equal(counter_at(c, 0), (uint32_t)ceil(k * s.fs));
		for (i = 1; i < c->n; i++)
			assert_int_equal(counter_at(c, i), counter_at(c, 0) + i);
		if (k > 0)
			assert_int_equal(counter_at(c, 0),
			    counter_at(g.c[k - 1], g.c[k - 1]->n - 1) + 1);
		assert_true(fabs(c->t_first - (1000.0 + k)) < 1.0 / s.fs);
		assert_true(c->gps);
		assert_true(c->rssi_n > 0);
	}
	got_free(&g);
	chunker_free(ch);
}

/* Chunk lengths other than 1 s (--chunk-ms): chunk k is [t0 + k*L,
 * t0 + (k+1)*L) by sample count at the real rate, gapless, with floor or
 * ceil of L*fs samples, its exact time stepping by L; the origin between
 * two samples (an --at instant) still starts chunk 0 on the first sample
 * at or after it. */
static void
test_chunk_length(void **state)
{
	static const int	 lens[] = { 100, 200, 2500, 5000 };
	size_t			 li;

	(void)state;
	for (li = 0; li < sizeof lens / sizeof lens[0]; li++) {
		struct stream	 s = { .fs = 12001.135, .start = 1000.0,
				    .gps = 1 };
		int		 ms = lens[li], total = ms >= 2500 ? 3 : 12;
		double		 L = ms / 1000.0, t0, x0;
		struct chunker	*ch = chunker_new(1, total, L + 1.0);
		struct got	 g = { .n = 0 };
		size_t		 sum = 0;
		int		 k;

		chunker_set_chunk_ms(ch, ms);
		chunker_stream(ch, s.fs);
		send_block(ch, &s, 512, 0, &g);
		/* an origin 0.3 samples after sample 37 */
		t0 = 1000.0 + 37.3 / s.fs;
		x0 = 37.3;
		chunker_set_origin(ch, t0, collect, &g);
		while (s.count < (uint32_t)((total * L + 1) * s.fs))
			send_block(ch, &s, 512, 0, &g);
		assert_int_equal(g.n, total);
		assert_int_equal(chunker_next(ch), total);
		for (k = 0; k < total; k++) {
			struct chunk *c = g.c[k];
			uint32_t a = (uint32_t)ceil(x0 + (double)k * ms *
			    s.fs / 1000 - 1e-6);
			uint32_t b = (uint32_t)ceil(x0 + (double)(k + 1) *
			    ms * s.fs / 1000 - 1e-6);
			size_t i;
			assert_int_equal(c->index, k);
			assert_int_equal(counter_at(c, 0), a);
			assert_int_equal(c->n, b - a);
			assert_true(c->n == (size_t)floor(L * s.fs) ||
			    c->n == (size_t)ceil(L * s.fs));
			for (i = 1; i < c->n; i++)
				assert_int_equal(counter_at(c, i),
				    counter_at(c, 0) + i);
			if (k > 0) {
				assert_int_equal(counter_at(c, 0),
				    counter_at(g.c[k - 1], g.c[k - 1]->n -
				    1) + 1);
				/* t0_ns steps by the chunk's samples: L to
				 * a sample */
				assert_true(llabs(c->t0_ns - g.c[k - 1]->t0_ns -
				    (int64_t)ms * 1000000) < 1e9 / s.fs);
			}
			assert_true(c->t_first >= t0 + k * L - 1e-9);
			assert_true(c->t_first < t0 + k * L + 1.0 / s.fs);
			assert_int_equal(c->time_src, CHUNK_TIME_GPS);
			sum += c->n;
		}
		/* the chunks tile total*L seconds of the stream exactly */
		assert_int_equal(sum, (size_t)(ceil(x0 + total * L * s.fs -
		    1e-6) - ceil(x0 - 1e-6)));
		got_free(&g);
		chunker_free(ch);
	}
}

/* Receivers with different rates, start times and frame sizes: chunk k of
 * each starts within one sample of t0 + k (by their true sample times). */
static void
test_alignment(void **state)
{
	struct stream	 s[3] = {
		{ .fs = 12001.135, .start = 500.0137, .gps = 1 },
		{ .fs = 11999.9, .start = 500.2411, .gps = 1 },
		{ .fs = 12000.0, .start = 500.1, .gps = 1 },
	};
	size_t		 frame[3] = { 512, 333, 1000 };
	struct chunker	*ch[3];
	struct got	 g[3];
	double		 t0 = 0, t;
	int		 r, k;

	(void)state;
	memset(g, 0, sizeof g);
	for (r = 0; r < 3; r++) {
		ch[r] = chunker_new(r + 1, 4, 0.5);
		chunker_stream(ch[r], s[r].fs);
	}
	/* Feed in time order until every receiver has samples. */
	for (t = 500.0; t < 500.3; t += 0.01) {
		for (r = 0; r < 3; r++) {
			while (s[r].start + (s[r].count + frame[r]) / s[r].fs
			    <= t)
				send_block(ch[r], &s[r], frame[r], 0, &g[r]);
		}
	}
	for (r = 0; r < 3; r++) {
		assert_int_equal(chunker_oldest(ch[r], &t), 0);
		if (t > t0)
			t0 = t;
	}
	for (r = 0; r < 3; r++)
		chunker_set_origin(ch[r], t0, collect, &g[r]);
	for (t = 500.3; t < 506; t += 0.01) {
		for (r = 0; r < 3; r++) {
			while (s[r].start + (s[r].count + frame[r]) / s[r].fs
			    <= t)
				send_block(ch[r], &s[r], frame[r], 0, &g[r]);
		}
	}
	for (r = 0; r < 3; r++) {
		assert_int_equal(g[r].n, 4);
		for (k = 0; k < 4; k++) {
			struct chunk *c = g[r].c[k];
			double truth = s[r].start + counter_at(c, 0) / s[r].fs;
			/* the first sample at or after t0 + k */
			assert_true(truth >= t0 + k - 1e-9);
			assert_true(truth < t0 + k + 1.0 / s[r].fs);
			assert_true(fabs(c->t_first - truth) < 1e-6);
		}
		got_free(&g[r]);
		chunker_free(ch[r]);
	}
}

/* A gap while the samples wait for the origin (in the ring): the chunk
 * cut from the ring counts it as lost too, not as samples received. */
static void
test_lost_before_origin(void **state)
{
	struct stream	 s = { .fs = 12000.0, .start = 10.0, .gps = 1 };
	struct chunker	*ch = chunker_new(2, 2, 2.0);
	struct got	 g = { .n = 0 };
	double		 t;

	(void)state;
	chunker_stream(ch, s.fs);
	send_block(ch, &s, 512, 0, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	send_block(ch, &s, 512, 0, &g);
	send_block(ch, &s, 512, 1024, &g);	/* two frames lost */
	while (s.count < 14000)
		send_block(ch, &s, 512, 0, &g);
	send_block(ch, &s, 512, 512, &g);	/* one more, in chunk 1 */
	/* chunk 0 and part of chunk 1 wait in the ring */
	chunker_set_origin(ch, t, collect, &g);
	while (s.count < 25000)
		send_block(ch, &s, 512, 0, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.c[0]->lost, 1024);
	assert_int_equal(g.c[1]->lost, 512);
	got_free(&g);
	chunker_free(ch);
}

/* A sequence gap: zeros keep later samples in place; chunk sizes hold. */
static void
test_lost_samples(void **state)
{
	struct stream	 s = { .fs = 12000.0, .start = 10.0, .gps = 1 };
	struct chunker	*ch = chunker_new(2, 2, 0.5);
	struct got	 g = { .n = 0 };
	double		 t;
	size_t		 i, zeros = 0;

	(void)state;
	chunker_stream(ch, s.fs);
	send_block(ch, &s, 512, 0, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	chunker_set_origin(ch, t, collect, &g);
	send_block(ch, &s, 512, 0, &g);
	send_block(ch, &s, 512, 1024, &g);	/* two frames lost */
	while (s.count < 25000)
		send_block(ch, &s, 512, 0, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.c[0]->n, 12000);
	assert_int_equal(g.c[0]->lost, 1024);
	for (i = 0; i < g.c[0]->n; i++)
		if (iq_at(g.c[0], 2 * i) == 0 && iq_at(g.c[0], 2 * i + 1) == 0)
			zeros++;
	assert_true(zeros >= 1024);
	/* after the gap the counter is where time says it is */
	assert_int_equal(counter_at(g.c[0], 2048), 2048);
	assert_int_equal(counter_at(g.c[1], 0), 12000);
	got_free(&g);
	chunker_free(ch);
}

/* A reconnect mid-chunk: the partial chunk is dropped, the new stream's
 * whole chunks land on the same grid. */
static void
test_reconnect(void **state)
{
	struct stream	 s = { .fs = 12000.0, .start = 100.0, .gps = 1 };
	struct stream	 s2 = { .fs = 12000.5, .start = 102.4, .gps = 1 };
	struct chunker	*ch = chunker_new(3, 5, 0.5);
	struct got	 g = { .n = 0 };
	double		 t0;

	(void)state;
	chunker_stream(ch, s.fs);
	send_block(ch, &s, 512, 0, &g);
	assert_int_equal(chunker_oldest(ch, &t0), 0);
	chunker_set_origin(ch, t0, collect, &g);
	while (s.count < 12000 * 1.5)
		send_block(ch, &s, 512, 0, &g);
	assert_int_equal(g.n, 1);		/* chunk 0 done, 1 partial */
	chunker_stream(ch, s2.fs);		/* reconnected at 102.4 */
	while (s2.count < 12001 * 3)
		send_block(ch, &s2, 512, 0, &g);
	/* chunks 1 and 2 cannot be whole; 3 and 4 are */
	assert_int_equal(g.n, 3);
	assert_int_equal(g.c[1]->index, 3);
	assert_int_equal(g.c[2]->index, 4);
	assert_true(fabs(g.c[1]->t_first - (t0 + 3)) < 1.0 / s2.fs);
	assert_true(fabs(s2.start + counter_at(g.c[1], 0) / s2.fs -
	    (t0 + 3)) < 1.0 / s2.fs);
	got_free(&g);
	chunker_free(ch);
}

static void
test_skip(void **state)
{
	struct stream	 s = { .fs = 12000.0, .start = 0.0, .gps = 0 };
	struct chunker	*ch = chunker_new(1, 4, 0.5);
	struct got	 g = { .n = 0 };
	double		 t0;

	(void)state;
	chunker_stream(ch, s.fs);
	send_block(ch, &s, 512, 0, &g);
	assert_int_equal(chunker_oldest(ch, &t0), 0);
	chunker_set_origin(ch, t0, collect, &g);
	send_block(ch, &s, 512, 0, &g);
	chunker_skip(ch, 2);			/* engine gave up on 0, 1 */
	while (s.count < 12000 * 5)
		send_block(ch, &s, 512, 0, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.c[0]->index, 2);
	assert_int_equal(g.c[1]->index, 3);
	assert_false(g.c[0]->gps);
	got_free(&g);
	chunker_free(ch);
}

/* Arrival-clock anchoring: late blocks never move the anchor later. */
static void
test_local_anchor(void **state)
{
	struct chunker	*ch = chunker_new(1, 1, 0.5);
	struct got	 g = { .n = 0 };
	int16_t		 iq[2 * 512] = { 0 };
	struct rx_block	 b = { .iq = iq, .n = 512, .gps_age = -1 };
	double		 t;

	(void)state;
	chunker_stream(ch, 12000.0);
	b.t_arrival = 50.0 + 512 / 12000.0 + 0.020;	/* 20 ms late */
	chunker_feed(ch, &b, collect, &g);
	b.t_arrival = 50.0 + 1024 / 12000.0 + 0.002;	/* 2 ms late */
	chunker_feed(ch, &b, collect, &g);
	b.t_arrival = 50.0 + 1536 / 12000.0 + 0.030;
	chunker_feed(ch, &b, collect, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	assert_true(fabs(t - 50.002) < 1e-9);
	chunker_free(ch);
}

/* The origin comes late: only the ring's newest samples are kept (ring_s:
 * 0.25 s of 2 s, the ring wrapped many times), and the origin (chosen at
 * or after the oldest kept) still cuts exactly. */
static void
test_ring_limit(void **state)
{
	struct stream	 s = { .fs = 12000.0, .start = 0.0, .gps = 1 };
	struct chunker	*ch = chunker_new(1, 1, 0.25);
	struct got	 g = { .n = 0 };
	double		 t;

	(void)state;
	chunker_stream(ch, s.fs);
	while (s.count < 12000 * 2)
		send_block(ch, &s, 512, 0, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	/* the newest 0.25 s (3001 samples) of the 2 s sent */
	assert_true(fabs(t - (s.start + (s.count - 3001) / s.fs)) < 1e-6);
	chunker_set_origin(ch, t, collect, &g);
	while (s.count < 12000 * 3 + 512)
		send_block(ch, &s, 512, 0, &g);
	assert_int_equal(g.n, 1);
	assert_true(fabs(s.start + counter_at(g.c[0], 0) / s.fs - t) <
	    1.0 / s.fs);
	got_free(&g);
	chunker_free(ch);
}

/* The ring is circular: a gap zero-filled across its end (the slots wrap
 * to its start) and samples from both sides of the wrap are cut into one
 * chunk in order, the gap counted as lost and as zeros, nothing else. */
static void
test_ring_wrap(void **state)
{
	/* counted from 1: no slot holds a zero it was not given */
	struct stream	 s = { .fs = 12000.0, .start = 0.0, .gps = 1,
	    .count = 1 };
	struct chunker	*ch = chunker_new(1, 1, 0.5);	/* 6001 samples */
	struct got	 g = { .n = 0 };
	double		 t;
	uint32_t	 first, gap0 = 17600, gapn = 700, v;
	size_t		 i, zeros = 0;

	(void)state;
	chunker_stream(ch, s.fs);
	while (s.count + 512 <= gap0)
		send_block(ch, &s, 512, 0, &g);
	send_block(ch, &s, gap0 - s.count, 0, &g);
	/* stream index gap0 - 1 is slot 5597 of 6001: the gap runs over
	 * the ring's end */
	assert_true((gap0 - 1) % 6001 + gapn > 6001);
	send_block(ch, &s, 512, gapn, &g);
	while (s.count < 20300)
		send_block(ch, &s, 512, 0, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	first = s.count - 6001;
	assert_true(fabs(t - first / s.fs) < 1e-6);
	chunker_set_origin(ch, t, collect, &g);
	while (s.count < first + 12000 + 512)
		send_block(ch, &s, 512, 0, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.c[0]->n, 12000);
	assert_int_equal(g.c[0]->lost, gapn);
	for (i = 0; i < g.c[0]->n; i++) {
		v = first + (uint32_t)i;
		if (v >= gap0 && v < gap0 + gapn) {
			zeros += counter_at(g.c[0], i) == 0;
			continue;
		}
		assert_int_equal(counter_at(g.c[0], i), v);
	}
	assert_int_equal(zeros, gapn);
	got_free(&g);
	chunker_free(ch);
}

/*
 * A host clock 18 s behind GPS time (a field machine without time sync):
 * a GPS receiver and a local one (arrival clock) hear the same seconds.
 * With the measured offset the local receiver's anchor, oldest sample,
 * grid and t_first are on the GPS time line and its chunk k holds the
 * same true second as the GPS receiver's (within its 3 ms arrival delay);
 * without it, it would be 18 s off.
 */
static void
test_clock_offset(void **state)
{
	struct stream	 s[2] = {
		{ .fs = 12001.135, .start = 2000.0, .gps = 1, .host = -18.0 },
		{ .fs = 11999.5, .start = 2000.02, .gps = 0, .host = -18.0 },
	};
	struct chunker	*ch[2], *bare;
	struct got	 g[2];
	double		 t0 = 0, t, tb;
	int		 r, k;

	(void)state;
	memset(g, 0, sizeof g);
	for (r = 0; r < 2; r++) {
		ch[r] = chunker_new(r + 1, 3, 0.5);
		chunker_stream(ch[r], s[r].fs);
		/* the engine's measured offset: GPS time - host clock */
		chunker_set_clock(ch[r], 18.0);
	}
	for (r = 0; r < 2; r++) {
		send_block(ch[r], &s[r], 512, 0, &g[r]);
		assert_int_equal(chunker_oldest(ch[r], &t), 0);
		if (t > t0)
			t0 = t;
	}
	/* GPS anchors ignore the offset: stamped time is already true */
	assert_true(chunker_gps(ch[0]));
	assert_true(fabs(t0 - (2000.02 + 0.003)) < 1e-6);
	/* the same stream without the offset sits on the host clock */
	bare = chunker_new(3, 3, 0.5);
	chunker_stream(bare, s[1].fs);
	s[1].count = 0;
	send_block(bare, &s[1], 512, 0, &g[1]);
	assert_int_equal(chunker_oldest(bare, &tb), 0);
	assert_true(fabs(tb - (t0 - 18.0)) < 1e-6);
	chunker_free(bare);
	for (r = 0; r < 2; r++)
		chunker_set_origin(ch[r], t0, collect, &g[r]);
	for (t = 2000.05; t < 2004.5; t += 0.01) {
		for (r = 0; r < 2; r++) {
			while (s[r].start + (s[r].count + 512) / s[r].fs <= t)
				send_block(ch[r], &s[r], 512, 0, &g[r]);
		}
	}
	for (r = 0; r < 2; r++) {
		assert_int_equal(g[r].n, 3);
		for (k = 0; k < 3; k++) {
			struct chunk *c = g[r].c[k];
			double truth = s[r].start + counter_at(c, 0) / s[r].fs;
			assert_int_equal(c->index, k);
			assert_true(c->t_first >= t0 + k - 1e-6);
			assert_true(c->t_first < t0 + k + 1.0 / s[r].fs);
			/* local: its anchor is late by the 3 ms delay */
			assert_true(fabs(truth - (t0 + k)) <
			    (r == 0 ? 1.0 : 0.004));
			if (r == 0)
				assert_true(fabs(truth - c->t_first) < 1e-6);
		}
		got_free(&g[r]);
		chunker_free(ch[r]);
	}
}

/*
 * The offset is frozen with a stream's grid: a refinement later does not
 * move that stream's chunks, and a reconnect's new stream takes the
 * current one.
 */
static void
test_clock_frozen(void **state)
{
	struct stream	 s = { .fs = 12000.0, .start = 300.0, .gps = 0,
			    .host = 3.0 };
	struct stream	 s2 = { .fs = 12000.0, .start = 302.5, .gps = 0,
			    .host = 3.0 };
	struct chunker	*ch = chunker_new(1, 5, 0.5);
	struct got	 g = { .n = 0 };
	double		 t0;

	(void)state;
	chunker_stream(ch, s.fs);
	chunker_set_clock(ch, -3.0);		/* host 3 s ahead */
	send_block(ch, &s, 512, 0, &g);
	assert_int_equal(chunker_oldest(ch, &t0), 0);
	assert_true(fabs(t0 - 300.003) < 1e-6);
	chunker_set_origin(ch, t0, collect, &g);
	send_block(ch, &s, 512, 0, &g);		/* grid fixed */
	chunker_set_clock(ch, -3.5);		/* a (bad) refinement */
	while (s.count < 12000 * 2.2)
		send_block(ch, &s, 512, 0, &g);
	assert_int_equal(g.n, 2);
	assert_true(fabs(g.c[0]->t_first - t0) < 1.0 / s.fs);
	assert_true(fabs(g.c[1]->t_first - (t0 + 1)) < 1.0 / s.fs);
	assert_int_equal(counter_at(g.c[1], 0), 12000);
	chunker_set_clock(ch, -3.0);
	chunker_stream(ch, s2.fs);		/* reconnected at 302.5 */
	while (s2.count < 12000 * 2.6)
		send_block(ch, &s2, 512, 0, &g);
	/* chunk 2 only partly covered; 3 and 4 whole, on the grid */
	assert_int_equal(g.n, 4);
	assert_int_equal(g.c[2]->index, 3);
	assert_int_equal(g.c[3]->index, 4);
	assert_true(fabs(g.c[2]->t_first - (t0 + 3)) < 1.0 / s2.fs);
	assert_true(fabs(s2.start + counter_at(g.c[2], 0) / s2.fs -
	    (t0 + 3)) < 0.004);
	got_free(&g);
	chunker_free(ch);
}

/*
 * A receiver whose GPS stamps the engine distrusts (the other GPS
 * receivers agree on a time 18 s earlier): before its grid is fixed it
 * falls back to the arrival clock at once, later stamps do not re-anchor
 * it, and its chunks are "local" and on the right second.
 */
static void
test_distrusted_gps(void **state)
{
	struct stream	 s = { .fs = 12000.0, .start = 700.0, .gps = 1,
			    .gpsoff = 18.0 };
	struct chunker	*ch = chunker_new(1, 2, 0.5);
	struct got	 g = { .n = 0 };
	double		 t;

	(void)state;
	chunker_stream(ch, s.fs);
	send_block(ch, &s, 512, 0, &g);
	assert_true(chunker_gps(ch));
	assert_int_equal(chunker_oldest(ch, &t), 0);
	assert_true(fabs(t - 718.0) < 1e-6);
	chunker_trust_gps(ch, 0);
	assert_false(chunker_gps(ch));
	assert_int_equal(chunker_oldest(ch, &t), 0);
	assert_true(fabs(t - 700.003) < 1e-6);
	chunker_set_origin(ch, t, collect, &g);
	while (s.count < 12000 * 2.5)		/* stamps still 18 s off */
		send_block(ch, &s, 512, 0, &g);
	assert_false(chunker_gps(ch));
	assert_int_equal(g.n, 2);
	assert_false(g.c[0]->gps);
	assert_true(fabs(g.c[0]->t_first - t) < 1.0 / s.fs);
	assert_true(fabs(g.c[1]->t_first - (t + 1)) < 1.0 / s.fs);
	assert_true(fabs(s.start + counter_at(g.c[1], 0) / s.fs - (t + 1)) <
	    0.004);
	got_free(&g);
	chunker_free(ch);
}

/*
 * The buffer pool: chunks given back are reused, so a steady stream runs
 * on two buffers (one filling, one being stored) whatever its length, and
 * a reused buffer holds only the new chunk's samples. A faster stream
 * after a reconnect does not get a buffer too small for it.
 */
static void
check_counting(const struct chunk *c)
{
	size_t	i;

	int16_t		*buf = NULL;
	const int16_t	*iq;
	size_t		 cap = 0;

	assert_true(c->room >= c->cap);
	assert_int_equal(c->n, c->cap);
	for (i = 1; i < c->n; i++)
		assert_int_equal(counter_at(c, i), counter_at(c, 0) + i);
	/* chunk_iq: the same samples, from memory or read from the slot */
	assert_non_null(iq = chunk_iq(c, &buf, &cap));
	assert_true(iq == c->iq || (c->iq == NULL && iq == buf));
	for (i = 0; i < 2 * c->n; i++)
		assert_int_equal(iq[i], iq_at(c, i));
	free(buf);
}

static void
test_pool(void **state)
{
	struct stream	 s = { .fs = 12001.135, .start = 1000.0, .gps = 1 };
	struct chunker	*ch = chunker_new(1, 40, 0.5);
	struct got	 g = { .n = 0 };
	int64_t		 seen[40];	/* buffers (or slots) used */
	uint32_t	 last = 0;
	int		 nseen = 0, i, j, chunks = 0;
	double		 t;

	(void)state;
	chunker_stream(ch, s.fs);
	send_block(ch, &s, 512, 0, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	chunker_set_origin(ch, t, collect, &g);
	while (chunks < 12) {
		send_block(ch, &s, 700, 0, &g);
		/* the engine's order: stored after the feed, then given back */
		for (i = 0; i < g.n; i++) {
			struct chunk *c = g.c[i];
			check_counting(c);
			if (chunks > 0)
				assert_int_equal(counter_at(c, 0), last + 1);
			last = counter_at(c, c->n - 1);
			int64_t id = c->iq != NULL ? (int64_t)(intptr_t)c->iq :
			    c->spool_off;
			if (spool_fd >= 0)	/* written as it filled */
				assert_null(c->iq);
			for (j = 0; j < nseen && seen[j] != id; j++)
				;
			if (j == nseen)
				seen[nseen++] = id;
			chunks++;
			chunker_recycle(ch, c);
		}
		g.n = 0;
	}
	assert_int_equal(nseen, 2);

	/* a reconnect at twice the rate: the pooled 12002-sample buffers
	 * are too small and are not used */
	s.fs = 24000.5;
	s.start = s.start + s.count / 12001.135 + 0.5;
	s.count = 0;
	chunker_stream(ch, s.fs);
	for (i = 0; i < 4 * 24001 / 700; i++)
		send_block(ch, &s, 700, 0, &g);
	assert_true(g.n >= 2);
	for (i = 0; i < g.n; i++) {
		check_counting(g.c[i]);
		assert_true(g.c[i]->n >= 24000);
		assert_true(g.c[i]->room >= 24001);
	}
	/* more than the pool keeps: the rest are freed (ASAN: no leak) */
	for (i = 0; i < g.n; i++)
		chunker_recycle(ch, g.c[i]);
	g.n = 0;
	chunker_recycle(ch, NULL);
	chunker_free(ch);
}

/*
 * Exact time. A receiver really at 12001.13 S/s that says 12001.135 (the
 * grid counts in that), sample 0 taken at T0 (UTC ns, an odd value), its
 * stamps the true time of each block's first sample rounded to the
 * nanosecond, as gpsnsec is. Chunk k's t0_ns must be the true time of its
 * first sample (T0 + i/R, i read from the counting signal) within 1 ns,
 * not rounded to a sample or a microsecond, and the measured rate R
 * within 0.01 ppm.
 */
#define EX_T0	INT64_C(1795478400123456789)	/* 2026-11-24T00:00:00.123456789Z */
#define EX_R	12001.13

/* The true time of stream sample i, ns after EX_T0 (a double holds
 * 4e10 ns to 1e-5 ns). */
static double
ex_true(uint64_t i)
{
	return (double)i * 1e9 / EX_R;
}

/* A block of n counting samples from sample *i, stamped with stamp (0:
 * none; else its true time plus stale_ns), arriving 5 ms after its last
 * sample. */
static void
ex_block(struct chunker *ch, uint32_t *i, size_t n, int stamped,
    int64_t stale_ns, int age, struct got *g)
{
	static int16_t	 buf[2 * 1024];
	struct rx_block	 b;
	size_t		 j;

	for (j = 0; j < n; j++) {
		uint32_t v = *i + (uint32_t)j;
		buf[2 * j] = (int16_t)(v & 0x7fff);
		buf[2 * j + 1] = (int16_t)((v >> 15) & 0x7fff);
	}
	memset(&b, 0, sizeof b);
	b.iq = buf;
	b.n = n;
	b.t_gps_ns = stamped ? EX_T0 + llround(ex_true(*i)) + stale_ns : 0;
	b.t_arrival = (double)EX_T0 / 1e9 + ex_true(*i + n) / 1e9 + 0.005;
	b.gps_age = age;
	b.rssi_dbm = NAN;
	*i += (uint32_t)n;
	chunker_feed(ch, &b, collect, g);
}

/* Chunk c's t0_ns against the truth: returns |error| in ns. */
static double
ex_err(const struct chunk *c)
{
	return fabs((double)(c->t0_ns - EX_T0) - ex_true(counter_at(c, 0)));
}

static void
test_exact_time(void **state)
{
	struct chunker	*ch = chunker_new(1, 8, 0.5);
	struct got	 g = { .n = 0 };
	uint32_t	 i = 0;
	double		 t, worst = 0;
	int		 k;

	(void)state;
	chunker_stream(ch, 12001.135);
	ex_block(ch, &i, 512, 1, 0, 1, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	/* a lone stamp places the grid already */
	assert_true(fabs(t - (double)EX_T0 / 1e9) < 1e-6);
	chunker_set_origin(ch, t, collect, &g);
	while (g.n < 8)
		ex_block(ch, &i, 512, 1, 0, 1, &g);
	for (k = 0; k < 8; k++) {
		struct chunk *c = g.c[k];
		assert_int_equal(c->index, k);
		assert_int_equal(c->time_src, CHUNK_TIME_GPS);
		assert_string_equal(chunk_time_name(c->time_src), "gps");
		if (ex_err(c) > worst)
			worst = ex_err(c);
		assert_true(ex_err(c) <= 1.0);
		/* from chunk 1 on the line spans > 1 s: the rate to 1e-8 */
		if (k > 0)
			assert_true(fabs(c->fs_gps - EX_R) / EX_R < 1e-8);
		/* the grid's t_first agrees (within a sample) */
		assert_true(fabs(c->t_first - (double)c->t0_ns / 1e9) <
		    1.0 / EX_R);
		/* and first samples are one chunk of samples apart */
		if (k > 0)
			assert_int_equal(counter_at(c, 0),
			    counter_at(g.c[k - 1], 0) + g.c[k - 1]->n);
	}
	print_message("exact time: worst |t0_ns - truth| %.3f ns, rate %.9f "
	    "(true %.2f)\n", worst, g.c[7]->fs_gps, EX_R);
	got_free(&g);
	chunker_free(ch);
}

/*
 * The stream's first two stamps are stale (7.5 s old, continuous between
 * themselves: they seed the line), the third has no stamp at all (zero:
 * none); the true ones then outvote them. The grid, fixed later, is on
 * the true time; every chunk is exact; chunks holding the blocks whose
 * stamps were off the line get no t0_ns.
 */
static void
test_exact_time_stale_first(void **state)
{
	struct chunker	*ch = chunker_new(1, 6, 0.5);
	struct got	 g = { .n = 0 };
	uint32_t	 i = 0;
	double		 t;
	int		 k, n;

	(void)state;
	chunker_stream(ch, 12001.135);
	ex_block(ch, &i, 512, 1, -7500000000, 1, &g);
	ex_block(ch, &i, 512, 1, -7500000000, 1, &g);
	ex_block(ch, &i, 512, 0, 0, 1, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	assert_true(fabs(t - ((double)EX_T0 / 1e9 - 7.5)) < 1e-3);
	for (n = 0; n < 3; n++)			/* true: outvote the pair */
		ex_block(ch, &i, 512, 1, 0, 1, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	/* the oldest sample kept is sample 0: on the true line now */
	assert_true(fabs(t - (double)EX_T0 / 1e9) < 1e-6);
	chunker_set_origin(ch, t + 0.25, collect, &g);
	while (g.n < 6)
		ex_block(ch, &i, 512, 1, 0, 1, &g);
	for (k = 0; k < 6; k++) {
		struct chunk *c = g.c[k];
		assert_true(c->gps);
		assert_true(fabs(c->t_first - (t + 0.25 + k)) < 1.0 / EX_R);
		assert_int_equal(c->time_src, CHUNK_TIME_GPS);
		assert_true(ex_err(c) <= 1.0);
		if (k > 0)
			assert_true(fabs(c->fs_gps - EX_R) / EX_R < 1e-8);
	}
	got_free(&g);

	/* The origin at the stream's start: chunk 0 holds the stale blocks
	 * (the same samples, but their stamps were off the line) */
	chunker_free(ch);
	ch = chunker_new(1, 3, 0.5);
	chunker_stream(ch, 12001.135);
	i = 0;
	ex_block(ch, &i, 512, 1, -7500000000, 1, &g);
	ex_block(ch, &i, 512, 1, -7500000000, 1, &g);
	for (n = 0; n < 3; n++)
		ex_block(ch, &i, 512, 1, 0, 1, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	chunker_set_origin(ch, t, collect, &g);
	while (g.n < 3)
		ex_block(ch, &i, 512, 1, 0, 1, &g);
	assert_int_equal(g.c[0]->time_src, CHUNK_TIME_GPS_STALE);
	assert_int_equal(g.c[0]->t0_ns, 0);
	assert_true(g.c[0]->fs_gps == 0);
	assert_int_equal(g.c[1]->time_src, CHUNK_TIME_GPS);
	assert_true(ex_err(g.c[1]) <= 1.0);
	got_free(&g);
	chunker_free(ch);
}

/*
 * Jittered stamps (a real receiver's fit to ~0.2 us: +-300 ns uniform)
 * with one wild stamp (an outlier 3 ms off: left out), a fix lost for a
 * while mid-stream (blocks without stamps: those chunks are gps_stale),
 * then back on the same line.
 */
static void
test_exact_time_jitter(void **state)
{
	struct chunker	*ch = chunker_new(1, 10, 0.5);
	struct got	 g = { .n = 0 };
	uint32_t	 i = 0, rng = 12345;
	double		 t, worst = 0;
	int		 k, blocks = 0;

	(void)state;
	chunker_stream(ch, 12001.135);
	ex_block(ch, &i, 512, 1, 0, 1, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	chunker_set_origin(ch, t, collect, &g);
	while (g.n < 10) {
		int64_t j;
		rng = rng * 1103515245u + 12345u;
		j = (int64_t)((rng >> 16) % 601) - 300;
		blocks++;
		if (blocks == 40)
			j += 3000000;			/* wild */
		if (blocks >= 130 && blocks < 150)	/* chunks 4, 5 */
			ex_block(ch, &i, 512, 0, 0, 30, &g);
		else
			ex_block(ch, &i, 512, 1, j, 1, &g);
	}
	for (k = 0; k < 10; k++) {
		struct chunk *c = g.c[k];
		if (k == 5 || k == 6) {
			assert_int_equal(c->time_src, CHUNK_TIME_GPS_STALE);
			assert_string_equal(chunk_time_name(c->time_src),
			    "gps_stale");
			assert_int_equal(c->t0_ns, 0);
			continue;
		}
		assert_int_equal(c->time_src, CHUNK_TIME_GPS);
		if (ex_err(c) > worst)
			worst = ex_err(c);
		/* chunk 0 is fitted over its own second only */
		assert_true(ex_err(c) < (k == 0 ? 300 : 100));
		/* the rate's error falls as the line grows: about
		 * 170 ns * sqrt(12 / blocks) / span -- 0.04 ppm at 2 s */
		if (k > 1)
			assert_true(fabs(c->fs_gps - EX_R) / EX_R < 1e-7);
	}
	assert_true(fabs(g.c[9]->fs_gps - EX_R) / EX_R < 2e-8);
	print_message("jittered: worst |t0_ns - truth| %.1f ns, rate error "
	    "%.4f ppm\n", worst, (g.c[9]->fs_gps - EX_R) / EX_R * 1e6);
	got_free(&g);
	chunker_free(ch);
}

/* Receivers without GPS time: local, no t0_ns; a GPS receiver the engine
 * distrusts: gps_rejected. */
static void
test_time_source_names(void **state)
{
	struct stream	 s = { .fs = 12000.0, .start = 50.0, .gps = 0 };
	struct chunker	*ch = chunker_new(1, 1, 0.5);
	struct got	 g = { .n = 0 };
	double		 t;

	(void)state;
	chunker_stream(ch, s.fs);
	send_block(ch, &s, 512, 0, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	chunker_set_origin(ch, t, collect, &g);
	while (g.n < 1)
		send_block(ch, &s, 512, 0, &g);
	assert_int_equal(g.c[0]->time_src, CHUNK_TIME_LOCAL);
	assert_string_equal(chunk_time_name(g.c[0]->time_src), "local");
	assert_int_equal(g.c[0]->t0_ns, 0);
	got_free(&g);
	chunker_free(ch);

	s = (struct stream){ .fs = 12000.0, .start = 700.0, .gps = 1,
	    .gpsoff = 18.0 };
	ch = chunker_new(1, 1, 0.5);
	chunker_stream(ch, s.fs);
	send_block(ch, &s, 512, 0, &g);
	chunker_trust_gps(ch, 0);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	chunker_set_origin(ch, t, collect, &g);
	while (g.n < 1)
		send_block(ch, &s, 512, 0, &g);
	assert_int_equal(g.c[0]->time_src, CHUNK_TIME_GPS_REJECTED);
	assert_string_equal(chunk_time_name(g.c[0]->time_src),
	    "gps_rejected");
	assert_int_equal(g.c[0]->t0_ns, 0);
	got_free(&g);
	chunker_free(ch);
}

/* A reconnect starts a new line: the new stream's own stamps (another
 * rate, another start) time its chunks exactly, nothing of the old one's
 * fit leaks in. */
static void
test_exact_time_reconnect(void **state)
{
	struct chunker	*ch = chunker_new(1, 6, 0.5);
	struct got	 g = { .n = 0 };
	uint32_t	 i = 0;
	double		 t;
	int		 k;

	(void)state;
	chunker_stream(ch, 12001.135);
	ex_block(ch, &i, 512, 1, 0, 1, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	chunker_set_origin(ch, t, collect, &g);
	while (i < 12001 * 1.5)
		ex_block(ch, &i, 512, 1, 0, 1, &g);
	assert_int_equal(g.n, 1);
	/* reconnected: the same receiver clock, the stream's sample 0 is
	 * true sample 30000 (2.5 s on), counted from 0 again */
	chunker_stream(ch, 12001.135);
	{
		uint32_t j = 0, off = 30000;
		while (g.n < 4) {
			struct rx_block b;
			int16_t buf[2 * 512];
			size_t m;
			for (m = 0; m < 512; m++) {
				buf[2 * m] = (int16_t)((j + m) & 0x7fff);
				buf[2 * m + 1] = (int16_t)(((j + m) >> 15) &
				    0x7fff);
			}
			memset(&b, 0, sizeof b);
			b.iq = buf;
			b.n = 512;
			b.t_gps_ns = EX_T0 + llround(ex_true(off + j));
			b.t_arrival = (double)EX_T0 / 1e9 +
			    ex_true(off + j + 512) / 1e9 + 0.005;
			b.gps_age = 1;
			b.rssi_dbm = NAN;
			j += 512;
			chunker_feed(ch, &b, collect, &g);
		}
		for (k = 1; k < 4; k++) {
			struct chunk *c = g.c[k];
			double truth = ex_true(off + counter_at(c, 0));
			assert_int_equal(c->time_src, CHUNK_TIME_GPS);
			assert_true(fabs((double)(c->t0_ns - EX_T0) - truth) <=
			    1.0);
		}
		assert_int_equal(g.c[1]->index, 3);
	}
	got_free(&g);
	chunker_free(ch);
}

/*
 * A longer stale run (the first six stamps 7.5 s old, continuous among
 * themselves) than the origin waits for: the origin comes from another
 * receiver, on the true time line, while this stream's line is still the
 * stale one, so its grid is fixed 7.5 s off -- every chunk would wait for
 * samples 7.5 s later and none would be stored in time. Once the true
 * stamps outvote the stale ones, the stream is re-placed on their line
 * and cut again from the samples kept: every chunk is produced, holding
 * the samples of its second; chunk 0 (holding blocks whose stamps were
 * off the line) without t0_ns, the others exact.
 */
static void
test_stale_run_after_origin(void **state)
{
	struct chunker	*ch = chunker_new(1, 4, 2.0);
	struct got	 g = { .n = 0 };
	uint32_t	 i = 0;
	double		 t, t0 = (double)EX_T0 / 1e9 + 0.1;
	int		 k, n, line;

	(void)state;
	chunker_stream(ch, EX_R);
	ex_block(ch, &i, 512, 1, -7500000000, 1, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	assert_true(fabs(t - ((double)EX_T0 / 1e9 - 7.5)) < 1e-3);
	line = chunker_line(ch);
	chunker_set_origin(ch, t0, collect, &g);
	for (n = 1; n < 6; n++)
		ex_block(ch, &i, 512, 1, -7500000000, 1, &g);
	assert_true(chunker_on_line(ch));
	/* the true stamps: rivals until they outnumber the stale six */
	for (n = 0; n < 6; n++) {
		ex_block(ch, &i, 512, 1, 0, 1, &g);
		assert_false(chunker_on_line(ch));
	}
	assert_int_equal(chunker_line(ch), line);
	ex_block(ch, &i, 512, 1, 0, 1, &g);
	assert_true(chunker_on_line(ch));
	assert_int_equal(chunker_line(ch), line + 1);
	while (i < (uint32_t)(EX_R * 5.5))	/* bounded: 7.5 s off, none */
		ex_block(ch, &i, 512, 1, 0, 1, &g);
	assert_int_equal(g.n, 4);
	for (k = 0; k < 4; k++) {
		struct chunk *c = g.c[k];
		uint32_t first = (uint32_t)ceil((t0 + k -
		    (double)EX_T0 / 1e9) * EX_R - 1e-6);
		assert_int_equal(c->index, k);
		assert_int_equal(c->n, c->cap);
		/* the samples of second k: its first sample is the first
		 * taken at or after t0 + k (the true time) */
		assert_true(abs((int)counter_at(c, 0) - (int)first) <= 1);
		assert_true(fabs(c->t_first - (t0 + k)) < 1.0 / EX_R);
		if (k == 0) {
			assert_int_equal(c->time_src, CHUNK_TIME_GPS_STALE);
			assert_int_equal(c->t0_ns, 0);
			continue;
		}
		assert_int_equal(c->time_src, CHUNK_TIME_GPS);
		assert_true(ex_err(c) <= 1.0);
	}
	got_free(&g);
	chunker_free(ch);
}

/*
 * The same stale run on the only GPS receiver: the origin was taken from
 * its stale line, seconds before any sample it will send. While nothing is
 * emitted the engine chooses the origin again (chunker_unset_origin): the
 * stream's oldest kept sample is then on the true line, and its chunks are
 * cut there. Once a chunk is out, the origin stays.
 */
static void
test_stale_run_origin_again(void **state)
{
	struct chunker	*ch = chunker_new(1, 3, 2.0);
	struct got	 g = { .n = 0 };
	uint32_t	 i = 0;
	double		 t;
	int		 k, n;

	(void)state;
	chunker_stream(ch, EX_R);
	ex_block(ch, &i, 512, 1, -7500000000, 1, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	chunker_set_origin(ch, t, collect, &g);	/* on the stale line */
	assert_int_equal(chunker_oldest(ch, &t), -1);	/* set: none */
	for (n = 1; n < 6; n++)
		ex_block(ch, &i, 512, 1, -7500000000, 1, &g);
	for (n = 0; n < 7; n++)
		ex_block(ch, &i, 512, 1, 0, 1, &g);
	assert_int_equal(g.n, 0);
	chunker_unset_origin(ch);
	ex_block(ch, &i, 512, 1, 0, 1, &g);
	assert_int_equal(chunker_oldest(ch, &t), 0);
	/* sample 0 kept, now on the true line */
	assert_true(fabs(t - (double)EX_T0 / 1e9) < 1e-6);
	chunker_set_origin(ch, t, collect, &g);
	while (i < (uint32_t)(EX_R * 4.5))
		ex_block(ch, &i, 512, 1, 0, 1, &g);
	assert_int_equal(g.n, 3);
	for (k = 0; k < 3; k++) {
		assert_true(fabs(g.c[k]->t_first - (t + k)) < 1.0 / EX_R);
		assert_true(abs((int)counter_at(g.c[k], 0) -
		    (int)ceil(k * EX_R - 1e-6)) <= 1);
	}
	assert_int_equal(g.c[0]->time_src, CHUNK_TIME_GPS_STALE);
	assert_int_equal(g.c[1]->time_src, CHUNK_TIME_GPS);
	assert_true(ex_err(g.c[1]) <= 1.0);
	/* a chunk is out: the origin stays */
	chunker_unset_origin(ch);
	ex_block(ch, &i, 512, 1, 0, 1, &g);
	assert_int_equal(chunker_oldest(ch, &t), -1);
	got_free(&g);
	chunker_free(ch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gapless_odd_rate),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_lost_samples),
		cmocka_unit_test(test_lost_before_origin),
		cmocka_unit_test(test_reconnect),
		cmocka_unit_test(test_skip),
		cmocka_unit_test(test_local_anchor),
		cmocka_unit_test(test_ring_limit),
		cmocka_unit_test(test_ring_wrap),
		cmocka_unit_test(test_clock_offset),
		cmocka_unit_test(test_clock_frozen),
		cmocka_unit_test(test_distrusted_gps),
		cmocka_unit_test(test_pool),
		cmocka_unit_test(test_exact_time),
		cmocka_unit_test(test_exact_time_stale_first),
		cmocka_unit_test(test_exact_time_jitter),
		cmocka_unit_test(test_time_source_names),
		cmocka_unit_test(test_exact_time_reconnect),
		cmocka_unit_test(test_stale_run_after_origin),
		cmocka_unit_test(test_stale_run_origin_again),
		cmocka_unit_test(test_chunk_length),
	};

	FILE	*f;
	int	 rc;

	if ((rc = cmocka_run_group_tests_name("heap rings", tests, NULL,
	    NULL)) != 0)
		return rc;
	/* an unnamed file, as the engine's (there in the data directory) */
	if ((f = tmpfile()) == NULL)
		return 1;
	spool_fd = fileno(f);
	rc = cmocka_run_group_tests_name("spooled rings", tests, NULL, NULL);
	fclose(f);
	return rc;
}
