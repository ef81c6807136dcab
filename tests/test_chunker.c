/* test_chunker.c -- slicing across frame boundaries, odd rates, alignment, gaps, reconnects. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "src/engine/chunker.h"

#define MAXC	64

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

/* Counting signal: sample i carries i in I (low 15 bits) and Q (high). */
static uint32_t
counter_at(const struct chunk *c, size_t i)
{
	return (uint32_t)c->iq[2 * i] | (uint32_t)c->iq[2 * i + 1] << 15;
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
	b.t_gps = s->gps ? s->start + s->count / s->fs + s->gpsoff : 0;
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
		if (g.c[0]->iq[2 * i] == 0 && g.c[0]->iq[2 * i + 1] == 0)
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

/* The origin comes late: only the ring's newest samples are kept, and the
 * origin (chosen at or after the oldest kept) still cuts exactly. */
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
	assert_true(t > 1.7 && t < 1.8);
	chunker_set_origin(ch, t, collect, &g);
	while (s.count < 12000 * 3 + 512)
		send_block(ch, &s, 512, 0, &g);
	assert_int_equal(g.n, 1);
	assert_true(fabs(s.start + counter_at(g.c[0], 0) / s.fs - t) <
	    1.0 / s.fs);
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

	assert_true(c->room >= c->cap);
	assert_int_equal(c->n, c->cap);
	for (i = 1; i < c->n; i++)
		assert_int_equal(counter_at(c, i), counter_at(c, 0) + i);
}

static void
test_pool(void **state)
{
	struct stream	 s = { .fs = 12001.135, .start = 1000.0, .gps = 1 };
	struct chunker	*ch = chunker_new(1, 40, 0.5);
	struct got	 g = { .n = 0 };
	int16_t		*seen[40];
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
			for (j = 0; j < nseen && seen[j] != c->iq; j++)
				;
			if (j == nseen)
				seen[nseen++] = c->iq;
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gapless_odd_rate),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_lost_samples),
		cmocka_unit_test(test_reconnect),
		cmocka_unit_test(test_skip),
		cmocka_unit_test(test_local_anchor),
		cmocka_unit_test(test_ring_limit),
		cmocka_unit_test(test_clock_offset),
		cmocka_unit_test(test_clock_frozen),
		cmocka_unit_test(test_distrusted_gps),
		cmocka_unit_test(test_pool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
