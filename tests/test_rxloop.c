/* test_rxloop.c -- the network loop thread: calls run on it in order, call_wait waits, queued work ends the loop's rest at once, stop drains; the protocols drivers hand in are served, the table is bounded. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "net/rx/rxloop.h"

static double
mono(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct rec {
	struct rxloop	*loop;
	pthread_mutex_t	 lock;
	int		 order[64];
	int		 n;
	int		 on_loop;	/* every call ran on the loop thread */
	int		 inner_ran;
};

struct arg {
	struct rec	*r;
	int		 id;
};

static void
note(void *p)
{
	struct arg	*a = p;

	pthread_mutex_lock(&a->r->lock);
	if (a->r->n < 64)
		a->r->order[a->r->n++] = a->id;
	if (!rxloop_on_loop(a->r->loop))
		a->r->on_loop = 0;
	pthread_mutex_unlock(&a->r->lock);
}

static void
inner(void *p)
{
	struct rec	*r = p;

	pthread_mutex_lock(&r->lock);
	r->inner_ran = 1;
	pthread_mutex_unlock(&r->lock);
}

/* On the loop thread: call_wait runs inline, call queues for later. */
static void
nested(void *p)
{
	struct rec	*r = p;

	assert_true(rxloop_on_loop(r->loop));
	assert_int_equal(rxloop_call_wait(r->loop, inner, r), 0);
	assert_int_equal(r->inner_ran, 1);		/* inline */
	r->inner_ran = 0;
	assert_int_equal(rxloop_call(r->loop, inner, r), 0);
	assert_int_equal(r->inner_ran, 0);		/* not yet */
}

static void
nothing(void *p)
{
	(void)p;
}

static void
test_calls(void **state)
{
	struct rec	 r;
	struct arg	 a[20];
	char		 err[128];
	int		 i;

	(void)state;
	memset(&r, 0, sizeof r);
	pthread_mutex_init(&r.lock, NULL);
	r.on_loop = 1;
	r.loop = rxloop_new(0, err, sizeof err);
	assert_non_null(r.loop);
	assert_false(rxloop_on_loop(r.loop));
	assert_non_null(rxloop_context(r.loop));
	for (i = 0; i < 20; i++) {
		a[i].r = &r;
		a[i].id = i;
		assert_int_equal(rxloop_call(r.loop, note, &a[i]), 0);
	}
	/* call_wait returns only once its call (and so all before) ran */
	assert_int_equal(rxloop_call_wait(r.loop, nothing, NULL), 0);
	pthread_mutex_lock(&r.lock);
	assert_int_equal(r.n, 20);
	for (i = 0; i < 20; i++)
		assert_int_equal(r.order[i], i);	/* FIFO */
	assert_int_equal(r.on_loop, 1);
	pthread_mutex_unlock(&r.lock);

	assert_int_equal(rxloop_call_wait(r.loop, nested, &r), 0);
	assert_int_equal(rxloop_call_wait(r.loop, nothing, NULL), 0);
	pthread_mutex_lock(&r.lock);
	assert_int_equal(r.inner_ran, 1);		/* ran at a later turn */
	pthread_mutex_unlock(&r.lock);
	rxloop_free(r.loop);
	pthread_mutex_destroy(&r.lock);
}

/*
 * With no connection the loop rests 200 ms between turns; queued work must
 * end the rest at once (the engine closes receivers one call_wait each).
 * 20 round trips would take about 4 s if each waited out a rest.
 */
static void
test_call_ends_rest(void **state)
{
	struct rxloop	*loop;
	char		 err[128];
	double		 t;
	int		 i;

	(void)state;
	loop = rxloop_new(0, err, sizeof err);
	assert_non_null(loop);
	usleep(250000);			/* well into resting turns */
	t = mono();
	for (i = 0; i < 20; i++) {
		assert_int_equal(rxloop_call_wait(loop, nothing, NULL), 0);
		usleep(5000);		/* the loop goes back to rest */
	}
	t = mono() - t;
	if (t > 1.0)
		fail_msg("20 calls took %.3f s: the rest was not cut short", t);
	rxloop_free(loop);
}

/* Work queued just before the stop still runs; after it, none is taken. */
static void
test_free_drains(void **state)
{
	struct rec	 r;
	struct arg	 a = { &r, 7 };
	char		 err[128];

	(void)state;
	memset(&r, 0, sizeof r);
	pthread_mutex_init(&r.lock, NULL);
	r.on_loop = 1;
	r.loop = rxloop_new(0, err, sizeof err);
	assert_non_null(r.loop);
	assert_int_equal(rxloop_call(r.loop, note, &a), 0);
	rxloop_free(r.loop);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.order[0], 7);
	pthread_mutex_destroy(&r.lock);
}

/* ---- protocols handed in ---- */

static int	probe_inits;

static int
probe_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	(void)wsi;
	(void)user;
	(void)in;
	(void)len;
	if (reason == LWS_CALLBACK_PROTOCOL_INIT)
		probe_inits++;
	return 0;
}

static const struct lws_protocols probe = {
	"probe", probe_cb, 0, 0, 0, NULL, 0
};
static const struct lws_protocols probe_twin = {
	"probe", probe_cb, 0, 0, 0, NULL, 0
};
static const struct lws_protocols loop_twin = {
	"rxloop", probe_cb, 0, 0, 0, NULL, 0
};

struct served {
	struct rxloop	*loop;
	const char	*name;
	const struct lws_protocols *found;
};

static void
find_protocol(void *arg)
{
	struct served	*s = arg;
	struct lws_vhost *vh = lws_get_vhost_by_name(rxloop_context(s->loop),
			    "default");

	s->found = vh != NULL ? lws_vhost_name_to_protocol(vh, s->name) :
	    NULL;
}

static const struct lws_protocols *
served(struct rxloop *loop, const char *name)
{
	struct served	s = { loop, name, NULL };

	assert_int_equal(rxloop_call_wait(loop, find_protocol, &s), 0);
	return s.found;
}

static void
test_protocols(void **state)
{
	static struct lws_protocols	 many[RXLOOP_MAX_PROTOCOLS + 1];
	static char			 names[RXLOOP_MAX_PROTOCOLS + 1][16];
	struct rxloop			*loop;
	char				 err[128];
	int				 i, added = 0;

	(void)state;
	assert_int_equal(rxloop_protocol_add(&probe), 0);
	assert_int_equal(rxloop_protocol_add(&probe), 0);	/* again: ok */
	assert_int_equal(rxloop_protocol_add(&probe_twin), -1);	/* name */
	assert_int_equal(rxloop_protocol_add(&loop_twin), -1);	/* ours */
	assert_int_equal(rxloop_protocol_add(NULL), -1);
	loop = rxloop_new(0, err, sizeof err);
	assert_non_null(loop);
	/* the loop's context serves it, with the callback handed in */
	assert_non_null(served(loop, "probe"));
	assert_ptr_equal(served(loop, "probe")->callback, probe_cb);
	assert_true(probe_inits >= 1);
	assert_non_null(served(loop, "rxloop"));
	assert_null(served(loop, "many0"));	/* not added (yet) */
	/* the table is bounded: adding stops with -1, never overflows */
	for (i = 0; i < RXLOOP_MAX_PROTOCOLS + 1; i++) {
		snprintf(names[i], sizeof names[i], "many%d", i);
		many[i] = probe;
		many[i].name = names[i];
		if (rxloop_protocol_add(&many[i]) != 0)
			break;
		added++;
	}
	assert_true(i < RXLOOP_MAX_PROTOCOLS + 1);
	assert_true(added > 0);
	/* a loop made before keeps what it had; one made after serves all */
	assert_null(served(loop, "many0"));
	rxloop_free(loop);
	loop = rxloop_new(0, err, sizeof err);
	assert_non_null(loop);
	assert_non_null(served(loop, "many0"));
	assert_non_null(served(loop, names[added - 1]));
	assert_non_null(served(loop, "probe"));
	rxloop_free(loop);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calls),
		cmocka_unit_test(test_call_ends_rest),
		cmocka_unit_test(test_free_drains),
		cmocka_unit_test(test_protocols),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
