/* test_rxlife.c -- the one reconnect core, with a scripted in-process transport on a real rxloop: backoff bounds and jitter, first fatal reason wins, the transport's word and the default reason, stall watch and its timeout, retries until the deadline, backoff reset by a stream, a close that stops everything. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/rx/rxlife.h"
#include "net/rx/rxloop.h"
#include "src/base/util.h"

#define MAXEV	64

/* A transport that "connects" at once (or fails to), and closes a turn of
 * the loop after a kill, as lws does. Everything recorded under lock. */
struct fake {
	struct rxloop	*loop;
	struct rxlife	*life;
	pthread_mutex_t	 lock;
	int		 fail;		/* connect() cannot start */
	const char	*closed_note;	/* ops.closed notes this */
	int		 up, detached;
	int		 connects, kills, detaches, ticks, closed_ops;
	double		 t_connect[MAXEV];
	char		 kill_why[MAXEV][RX_REASON_MAX + 1];
	int		 nstates;
	enum rx_state	 st[MAXEV];
	char		 why[MAXEV][RX_REASON_MAX + 1];
	double		 t_st[MAXEV];
};

static void
f_state(void *ctx, enum rx_state st, const char *reason)
{
	struct fake	*f = ctx;

	pthread_mutex_lock(&f->lock);
	if (f->nstates < MAXEV) {
		f->st[f->nstates] = st;
		snprintf(f->why[f->nstates], sizeof f->why[0], "%s", reason);
		f->t_st[f->nstates++] = util_mono();
	}
	pthread_mutex_unlock(&f->lock);
}

static void
f_stream(void *ctx, double fs)
{
	(void)ctx;
	(void)fs;
}

static void
f_block(void *ctx, const struct rx_block *b)
{
	(void)ctx;
	(void)b;
}

static void
op_connect(void *arg)
{
	struct fake	*f = arg;
	int		 fail;

	pthread_mutex_lock(&f->lock);
	if (f->connects < MAXEV)
		f->t_connect[f->connects] = util_mono();
	f->connects++;
	fail = f->fail;
	f->up = !fail;
	pthread_mutex_unlock(&f->lock);
	if (fail)
		rxlife_closed(f->life, "cannot connect (fake)");
	else
		rxlife_connected(f->life);
}

static void
transport_gone(void *arg)
{
	struct fake	*f = arg;
	int		 up;

	pthread_mutex_lock(&f->lock);
	up = f->up && !f->detached;
	f->up = 0;
	pthread_mutex_unlock(&f->lock);
	if (up)
		rxlife_closed(f->life, "connection reset (fake)");
}

static void
op_kill(void *arg, const char *why)
{
	struct fake	*f = arg;

	pthread_mutex_lock(&f->lock);
	if (f->kills < MAXEV)
		snprintf(f->kill_why[f->kills], sizeof f->kill_why[0], "%s",
		    why);
	f->kills++;
	pthread_mutex_unlock(&f->lock);
	rxloop_call(f->loop, transport_gone, f);
}

static void
op_detach(void *arg)
{
	struct fake	*f = arg;

	pthread_mutex_lock(&f->lock);
	f->detaches++;
	f->detached = 1;
	f->up = 0;
	pthread_mutex_unlock(&f->lock);
}

static void
op_tick(void *arg, double now)
{
	struct fake	*f = arg;

	(void)now;
	pthread_mutex_lock(&f->lock);
	f->ticks++;
	pthread_mutex_unlock(&f->lock);
}

static void
op_closed(void *arg)
{
	struct fake	*f = arg;

	pthread_mutex_lock(&f->lock);
	f->closed_ops++;
	pthread_mutex_unlock(&f->lock);
	if (f->closed_note != NULL)
		rxlife_drop(f->life, f->closed_note, 0);
}

static const struct rxlife_ops fake_ops = { op_connect, op_kill, op_detach,
    op_tick, op_closed };

/* A loop and a started core; deadline in s from now. */
static struct fake *
fake_new(double deadline, int fail)
{
	static const struct rxlife_cfg	 cfg = { 0.1, 1 };
	struct fake			*f;
	struct rx_sink			 sink;
	char				 err[128];

	f = calloc(1, sizeof *f);
	assert_non_null(f);
	pthread_mutex_init(&f->lock, NULL);
	f->fail = fail;
	f->loop = rxloop_new(0, err, sizeof err);
	assert_non_null(f->loop);
	sink.state = f_state;
	sink.stream = f_stream;
	sink.block = f_block;
	sink.ctx = f;
	f->life = rxlife_new(f->loop, &sink, util_now() + deadline, &cfg,
	    &fake_ops, f, err, sizeof err);
	assert_non_null(f->life);
	assert_int_equal(rxlife_start(f->life, err, sizeof err), 0);
	return f;
}

static void
fake_free(struct fake *f)
{
	rxlife_free(f->life);
	rxloop_free(f->loop);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static int
get(struct fake *f, const int *field)
{
	int	v;

	pthread_mutex_lock(&f->lock);
	v = *field;
	pthread_mutex_unlock(&f->lock);
	return v;
}

/* Wait (up to secs) until *field >= n. */
static int
wait_for(struct fake *f, const int *field, int n, double secs)
{
	double	end = util_mono() + secs;

	while (get(f, field) < n && util_mono() < end)
		usleep(5000);
	return get(f, field) >= n;
}

/* The last state reported, and its reason. */
static enum rx_state
last(struct fake *f, char *why, size_t len)
{
	enum rx_state	st;

	pthread_mutex_lock(&f->lock);
	assert_true(f->nstates > 0);
	st = f->st[f->nstates - 1];
	if (why != NULL)
		snprintf(why, len, "%s", f->why[f->nstates - 1]);
	pthread_mutex_unlock(&f->lock);
	return st;
}

/* ---- backoff ---- */

/* Jittered 0.8 .. 1.2 x, doubling up to the cap; -1 past the deadline. */
static void
test_retry_delay(void **state)
{
	double	 b = 1, far = util_now() + 3600, d;
	int	 i;

	(void)state;
	d = rxlife_retry_delay(&b, 4, far);
	assert_true(d >= 0.8 && d <= 1.2);
	assert_true(b == 2);
	d = rxlife_retry_delay(&b, 4, far);
	assert_true(d >= 1.6 && d <= 2.4);
	for (i = 0; i < 5; i++)
		d = rxlife_retry_delay(&b, 4, far);
	assert_true(b == 4);
	assert_true(d >= 3.2 && d <= 4.8);
	/* the next attempt would come after the deadline: give up */
	assert_true(rxlife_retry_delay(&b, 4, util_now() + 1) < 0);
	assert_true(b == 4);
}

/* The core's own bounds, over many draws: never below 0.8 x the minimum
 * nor above 1.2 x the maximum, and really jittered (not one value). */
static void
test_backoff_bounds(void **state)
{
	double	 far = util_now() + 3600, lo = 1e9, hi = 0, d, b;
	int	 i, k;

	(void)state;
	for (k = 0; k < 200; k++) {
		b = RXLIFE_BACKOFF_MIN;
		for (i = 0; i < 8; i++) {
			d = rxlife_retry_delay(&b, RXLIFE_BACKOFF_MAX, far);
			assert_true(d >= 0.8 * RXLIFE_BACKOFF_MIN);
			assert_true(d <= 1.2 * RXLIFE_BACKOFF_MAX);
			assert_true(b <= RXLIFE_BACKOFF_MAX);
			if (i == 0) {
				lo = d < lo ? d : lo;
				hi = d > hi ? d : hi;
			}
		}
		assert_true(b == RXLIFE_BACKOFF_MAX);
	}
	/* first delays spread over most of 0.4 .. 0.6 s */
	assert_true(lo < 0.45 && hi > 0.55);
}

/* ---- reasons ---- */

struct drops {
	struct fake	*f;
	const char	*why[4];
	int		 fatal[4];
	int		 n;
};

static void
do_drops(void *arg)
{
	struct drops	*d = arg;
	int		 i;

	for (i = 0; i < d->n; i++)
		rxlife_drop(d->f->life, d->why[i], d->fatal[i]);
}

/* A non-fatal reason, then two fatal ones: the first fatal is reported
 * with RX_FAILED, and there is no retry. */
static void
test_fatal_first(void **state)
{
	struct fake	*f = fake_new(60, 0);
	struct drops	 d = { f, { "no frame for 2 s", "bad password (badp=1)",
			    "kicked by the receiver's admin" }, { 0, 1, 1 },
			    3 };
	char		 why[200];

	(void)state;
	assert_true(wait_for(f, &f->connects, 1, 2));
	assert_int_equal(rxloop_call_wait(f->loop, do_drops, &d), 0);
	assert_true(wait_for(f, &f->nstates, 2, 2));	/* connecting, ... */
	usleep(300000);
	assert_int_equal(last(f, why, sizeof why), RX_FAILED);
	assert_string_equal(why, "bad password (badp=1)");
	/* each kill said the reason standing at that moment */
	assert_int_equal(get(f, &f->kills), 3);
	assert_string_equal(f->kill_why[0], "no frame for 2 s");
	assert_string_equal(f->kill_why[1], "bad password (badp=1)");
	assert_string_equal(f->kill_why[2], "bad password (badp=1)");
	sleep(1);
	assert_int_equal(get(f, &f->connects), 1);	/* no retry */
	assert_int_equal(get(f, &f->closed_ops), 1);
	fake_free(f);
}

/* Non-fatal reasons: the first one is reported, and a retry follows after
 * the first backoff (0.4 .. 0.6 s, plus at most a rest of the loop). */
static void
test_first_reason(void **state)
{
	struct fake	*f = fake_new(60, 0);
	struct drops	 d = { f, { "receiver busy (too_busy)",
			    "no frame for 2 s" }, { 0, 0 }, 2 };
	double		 gap;

	(void)state;
	assert_true(wait_for(f, &f->connects, 1, 2));
	assert_int_equal(rxloop_call_wait(f->loop, do_drops, &d), 0);
	assert_true(wait_for(f, &f->connects, 2, 3));
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->st[0], RX_CONNECTING);
	assert_int_equal(f->st[1], RX_RETRYING);
	assert_string_equal(f->why[1], "receiver busy (too_busy)");
	/* no second CONNECTING: a retry stays "retrying" until it streams */
	assert_true(f->nstates == 2);
	gap = f->t_connect[1] - f->t_st[1];
	pthread_mutex_unlock(&f->lock);
	if (gap < 0.39 || gap > 0.8)
		fail_msg("retry %.3f s after the drop, not 0.4 .. 0.6 s", gap);
	fake_free(f);
}

static void
do_close_twice(void *arg)
{
	struct fake	*f = arg;

	pthread_mutex_lock(&f->lock);
	f->up = 0;
	pthread_mutex_unlock(&f->lock);
	rxlife_closed(f->life, "connection reset (fake)");
	rxlife_closed(f->life, "a second word of the same end");
}

/* Without a reason noted, the transport's word when it has one (a note
 * made in ops.closed then comes after it), else the driver's note in
 * ops.closed, else the default; one end per attempt. */
static void
test_transport_reason(void **state)
{
	struct fake	*f = fake_new(60, 0);
	char		 why[200];

	(void)state;
	f->closed_note = "SpyServer closed the connection after HELLO";
	assert_true(wait_for(f, &f->connects, 1, 2));
	assert_int_equal(rxloop_call_wait(f->loop, do_close_twice, f), 0);
	assert_int_equal(last(f, why, sizeof why), RX_RETRYING);
	assert_string_equal(why, "connection reset (fake)");
	assert_int_equal(get(f, &f->nstates), 2);	/* one RETRYING */
	assert_int_equal(get(f, &f->closed_ops), 1);
	fake_free(f);
}

static void
do_closed_silent(void *arg)
{
	struct fake	*f = arg;

	rxlife_closed(f->life, NULL);
}

static void
test_default_reason(void **state)
{
	struct fake	*f = fake_new(60, 0);
	char		 why[200];

	(void)state;
	assert_true(wait_for(f, &f->connects, 1, 2));
	assert_int_equal(rxloop_call_wait(f->loop, do_closed_silent, f), 0);
	assert_int_equal(last(f, why, sizeof why), RX_RETRYING);
	assert_string_equal(why, "connection closed by the receiver");
	fake_free(f);

	f = fake_new(60, 0);
	f->closed_note = "SpyServer closed the connection after HELLO";
	assert_true(wait_for(f, &f->connects, 1, 2));
	assert_int_equal(rxloop_call_wait(f->loop, do_closed_silent, f), 0);
	assert_int_equal(last(f, why, sizeof why), RX_RETRYING);
	assert_string_equal(why, "SpyServer closed the connection after HELLO");
	fake_free(f);
}

/* ---- the stall watch ---- */

struct watch {
	struct fake	*f;
	double		 limit;
	const char	*why;
};

static void
do_watch(void *arg)
{
	struct watch	*w = arg;

	rxlife_watch(w->f->life, w->limit, w->why);
}

static void
do_fed(void *arg)
{
	rxlife_fed(((struct fake *)arg)->life);
}

/* Fed, the watch never fires; starved, it drops the connection (not
 * fatal) with its reason once its limit has passed, checked every tick. */
static void
test_stall(void **state)
{
	struct fake	*f = fake_new(60, 0);
	struct watch	 w = { f, 0.3, "no frame for 0.3 s" };
	double		 t0, t;
	char		 why[200];
	int		 i;

	(void)state;
	assert_true(wait_for(f, &f->connects, 1, 2));
	assert_int_equal(rxloop_call_wait(f->loop, do_watch, &w), 0);
	for (i = 0; i < 20; i++) {		/* 1 s, fed every 50 ms */
		usleep(50000);
		assert_int_equal(rxloop_call_wait(f->loop, do_fed, f), 0);
	}
	assert_int_equal(get(f, &f->kills), 0);
	assert_true(get(f, &f->ticks) >= 5);	/* ticks ran meanwhile */
	t0 = util_mono();
	assert_true(wait_for(f, &f->kills, 1, 2));
	assert_true(wait_for(f, &f->nstates, 2, 2));
	pthread_mutex_lock(&f->lock);
	t = f->t_st[1] - t0;
	pthread_mutex_unlock(&f->lock);
	assert_int_equal(last(f, why, sizeof why), RX_RETRYING);
	assert_string_equal(why, "no frame for 0.3 s");
	/* limit 0.3 s + a tick 0.1 s + a rest of the loop 0.1 s + slack */
	if (t < 0.29 || t > 0.8)
		fail_msg("stall seen after %.3f s, not 0.3 .. 0.5 s", t);
	fake_free(f);

	/* limit 0 ends the watch: no drop however long nothing comes */
	f = fake_new(60, 0);
	w.f = f;
	assert_true(wait_for(f, &f->connects, 1, 2));
	assert_int_equal(rxloop_call_wait(f->loop, do_watch, &w), 0);
	w.limit = 0;
	assert_int_equal(rxloop_call_wait(f->loop, do_watch, &w), 0);
	usleep(700000);
	assert_int_equal(get(f, &f->kills), 0);
	fake_free(f);
}

/* ---- the deadline ---- */

/* A receiver that cannot be reached: retries until the next one would
 * come after the deadline, then RX_FAILED "gave up: <reason>", and no
 * attempt after that. */
static void
test_deadline(void **state)
{
	struct fake	*f = fake_new(1.2, 1);
	char		 why[200];
	int		 n, i, retrying = 0;

	(void)state;
	sleep(2);
	assert_int_equal(last(f, why, sizeof why), RX_FAILED);
	assert_string_equal(why, "gave up: cannot connect (fake)");
	n = get(f, &f->connects);
	assert_true(n >= 2 && n <= 3);		/* at 0, ~0.5, maybe ~1.5 */
	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->nstates; i++)
		retrying += f->st[i] == RX_RETRYING;
	/* each attempt but the last ended in RETRYING */
	assert_int_equal(retrying, n - 1);
	pthread_mutex_unlock(&f->lock);
	sleep(1);
	assert_int_equal(get(f, &f->connects), n);
	fake_free(f);

	/* a deadline already past: the first end is final */
	f = fake_new(-1, 1);
	assert_true(wait_for(f, &f->nstates, 2, 2));
	assert_int_equal(last(f, why, sizeof why), RX_FAILED);
	assert_non_null(strstr(why, "gave up"));
	assert_int_equal(get(f, &f->connects), 1);
	fake_free(f);
}

/* ---- a stream resets the backoff ---- */

static void
do_streaming(void *arg)
{
	rxlife_streaming(((struct fake *)arg)->life);
}

static void
do_drop(void *arg)
{
	rxlife_drop(((struct fake *)arg)->life, "no frame for 2 s", 0);
}

static void
test_backoff_reset(void **state)
{
	struct fake	*f = fake_new(60, 1);
	double		 gap;
	int		 n;

	(void)state;
	/* failures at 0, ~0.5, ~1.5 s: the backoff is now 4 s */
	assert_true(wait_for(f, &f->connects, 3, 3));
	pthread_mutex_lock(&f->lock);
	f->fail = 0;
	pthread_mutex_unlock(&f->lock);
	assert_true(wait_for(f, &f->connects, 4, 6));
	assert_int_equal(rxloop_call_wait(f->loop, do_streaming, f), 0);
	assert_int_equal(last(f, NULL, 0), RX_STREAMING);
	n = get(f, &f->nstates);
	assert_int_equal(rxloop_call_wait(f->loop, do_drop, f), 0);
	assert_true(wait_for(f, &f->connects, 5, 3));
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->st[n], RX_RETRYING);
	gap = f->t_connect[4] - f->t_st[n];
	pthread_mutex_unlock(&f->lock);
	/* back to the first backoff, not 4 s */
	if (gap < 0.39 || gap > 0.8)
		fail_msg("retry %.3f s after the drop, not 0.4 .. 0.6 s", gap);
	fake_free(f);
}

/* ---- close ---- */

/* Closed while a retry is pending: no attempt and no state after it,
 * the transport detached once. */
static void
test_close(void **state)
{
	struct fake	*f = fake_new(60, 1);
	struct rxloop	*loop;
	int		 n, s;

	(void)state;
	assert_true(wait_for(f, &f->nstates, 2, 2));	/* retrying */
	loop = f->loop;
	rxlife_free(f->life);
	n = get(f, &f->connects);
	s = get(f, &f->nstates);
	assert_int_equal(get(f, &f->detaches), 1);
	usleep(1200000);	/* the retry would have come by now */
	assert_int_equal(get(f, &f->connects), n);
	assert_int_equal(get(f, &f->nstates), s);
	rxloop_free(loop);
	pthread_mutex_destroy(&f->lock);
	free(f);

	/* closed while connected, with a stall watch running */
	f = fake_new(60, 0);
	assert_true(wait_for(f, &f->connects, 1, 2));
	{
		struct watch w = { f, 0.2, "no frame" };
		assert_int_equal(rxloop_call_wait(f->loop, do_watch, &w), 0);
	}
	loop = f->loop;
	rxlife_free(f->life);
	s = get(f, &f->nstates);
	usleep(500000);
	assert_int_equal(get(f, &f->kills), 0);
	assert_int_equal(get(f, &f->nstates), s);
	assert_int_equal(get(f, &f->detaches), 1);
	rxloop_free(loop);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_delay),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_fatal_first),
		cmocka_unit_test(test_first_reason),
		cmocka_unit_test(test_transport_reason),
		cmocka_unit_test(test_default_reason),
		cmocka_unit_test(test_stall),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_backoff_reset),
		cmocka_unit_test(test_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
