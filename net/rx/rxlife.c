/* rxlife.c -- a receiver connection's life cycle: attempts, reasons (first fatal wins), backoff, stall watch, tick, close. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "net/rx/rxlife.h"
#include "net/rx/rxloop.h"
#include "src/base/util.h"

struct rxlife {
	struct rxloop		*loop;
	struct rx_sink		 sink;
	struct rxlife_ops	 ops;
	struct rxlife_cfg	 cfg;
	void			*drv;
	double			 deadline;

	/* loop thread only */
	lws_sorted_usec_list_t	 sul_tick;
	lws_sorted_usec_list_t	 sul_retry;
	enum rx_state		 state;
	int			 dead;		/* closed by the engine */
	int			 failed;	/* given up: no retry */
	int			 live;		/* an attempt is under way */
	int			 connected;	/* its transport is up */
	int			 settling;	/* 2: in rxloop_settling, 1: in
						   rxloop_brisk (settle()) */
	char			 why[RX_REASON_MAX + 1];	/* of the end */
	int			 fatal;		/* ... and it is final */
	double			 backoff;
	double			 watch_s;	/* the stall watch, 0: none */
	double			 watch_t;	/* monotonic: counted from */
	char			 watch_why[RX_REASON_MAX + 1];
};

double
rxlife_retry_delay(double *backoff, double max, double deadline)
{
	double	 delay;

	delay = *backoff * (0.8 + 0.4 * ((double)rand() / RAND_MAX));
	if (util_now() + delay > deadline)
		return -1;
	*backoff *= 2;
	if (*backoff > max)
		*backoff = max;
	return delay;
}

static void
report(struct rxlife *l, enum rx_state st, const char *reason)
{
	char	why[RX_REASON_MAX + 1];

	l->state = st;
	if (!l->dead)
		l->sink.state(l->sink.ctx, st, rx_reason(reason, why));
}

/* A handshake under way keeps the loop from resting (cfg.settle: a quick
 * one) or shortens its rests (rxloop_brisk): l->settling is 2 or 1. */
static void
settle(struct rxlife *l, int on)
{
	int	kind = on ? (l->cfg.settle ? 2 : 1) : 0;

	if (l->settling == kind)
		return;
	if (l->settling == 2)
		rxloop_settling(l->loop, -1);
	else if (l->settling == 1)
		rxloop_brisk(l->loop, -1);
	if (kind == 2)
		rxloop_settling(l->loop, 1);
	else if (kind == 1)
		rxloop_brisk(l->loop, 1);
	l->settling = kind;
}

/* The rule (rxlife.h): the first fatal reason, else the first one. */
static void
note(struct rxlife *l, const char *why, int fatal)
{
	if (l->why[0] == '\0' || (fatal && !l->fatal)) {
		/* rx_reason: cut whole characters, as the sink gets it */
		rx_reason(why, l->why);
		if (l->why[0] == '\0')
			snprintf(l->why, sizeof l->why, "unknown reason");
		l->fatal = fatal;
	}
}

static void
stop_timer(struct rxlife *l, lws_sorted_usec_list_t *sul)
{
	lws_sul_schedule(rxloop_context(l->loop), 0, sul, NULL,
	    LWS_SET_TIMER_USEC_CANCEL);
}

static void
attempt(struct rxlife *l)
{
	l->why[0] = '\0';
	l->fatal = 0;
	l->watch_s = 0;
	l->connected = 0;
	l->live = 1;
	if (l->state != RX_RETRYING)
		report(l, RX_CONNECTING, "connecting");
	settle(l, 1);
	l->ops.connect(l->drv);
}

static void
retry_cb(lws_sorted_usec_list_t *sul)
{
	struct rxlife *l = lws_container_of(sul, struct rxlife, sul_retry);

	if (!l->dead && !l->failed)
		attempt(l);
}

static void
tick_cb(lws_sorted_usec_list_t *sul)
{
	struct rxlife	*l = lws_container_of(sul, struct rxlife, sul_tick);
	double		 now = util_mono();

	if (l->dead || !l->connected)
		return;
	if (l->ops.tick != NULL)
		l->ops.tick(l->drv, now);
	/* Dropped again every tick while the watch stays expired: the
	 * reason stays the first one, and a transport that did not go at
	 * the first kill is killed again. */
	if (l->connected && l->watch_s > 0 && now - l->watch_t > l->watch_s)
		rxlife_drop(l, l->watch_why, 0);
	if (l->dead || !l->connected)
		return;
	lws_sul_schedule(rxloop_context(l->loop), 0, &l->sul_tick, tick_cb,
	    (lws_usec_t)(l->cfg.tick_s * LWS_US_PER_SEC));
}

void
rxlife_connected(struct rxlife *l)
{
	if (l->dead || !l->live)
		return;
	l->connected = 1;
	lws_sul_schedule(rxloop_context(l->loop), 0, &l->sul_tick, tick_cb,
	    (lws_usec_t)(l->cfg.tick_s * LWS_US_PER_SEC));
}

void
rxlife_watch(struct rxlife *l, double limit, const char *why)
{
	l->watch_s = limit > 0 ? limit : 0;
	l->watch_t = util_mono();
	rx_reason(why, l->watch_why);
}

void
rxlife_fed(struct rxlife *l)
{
	l->watch_t = util_mono();
}

void
rxlife_settled(struct rxlife *l)
{
	l->backoff = RXLIFE_BACKOFF_MIN;
	settle(l, 0);
}

void
rxlife_streaming(struct rxlife *l)
{
	rxlife_settled(l);
	report(l, RX_STREAMING, "streaming");
}

void
rxlife_unsettled(struct rxlife *l)
{
	if (l->live && !l->dead)
		settle(l, 1);
}

void
rxlife_drop(struct rxlife *l, const char *why, int fatal)
{
	note(l, why, fatal);
	if (!l->dead)
		l->ops.kill(l->drv, l->why);
}

int
rxlife_dropping(const struct rxlife *l)
{
	return l->why[0] != '\0';
}

const struct rx_sink *
rxlife_sink(const struct rxlife *l)
{
	return &l->sink;
}

void
rxlife_closed(struct rxlife *l, const char *why)
{
	char	 final[RX_REASON_MAX + 16];
	double	 delay;

	if (!l->live)
		return;		/* this attempt already ended */
	l->live = 0;
	l->connected = 0;
	l->watch_s = 0;
	settle(l, 0);
	stop_timer(l, &l->sul_tick);
	if (l->dead || l->failed)
		return;
	if (why != NULL)
		note(l, why, 0);
	if (l->ops.closed != NULL)
		l->ops.closed(l->drv);
	if (l->why[0] == '\0')
		note(l, "connection closed by the receiver", 0);
	if (l->fatal) {
		l->failed = 1;
		report(l, RX_FAILED, l->why);
		return;
	}
	/* Jittered (rxlife_retry_delay): the reconnects of many stations
	 * after a shared outage do not hammer the receivers in step. */
	delay = rxlife_retry_delay(&l->backoff, RXLIFE_BACKOFF_MAX,
	    l->deadline);
	if (delay < 0) {
		snprintf(final, sizeof final, "gave up: %s", l->why);
		l->failed = 1;
		report(l, RX_FAILED, final);
		return;
	}
	report(l, RX_RETRYING, l->why);
	lws_sul_schedule(rxloop_context(l->loop), 0, &l->sul_retry, retry_cb,
	    (lws_usec_t)(delay * LWS_US_PER_SEC));
}

struct rxlife *
rxlife_new(struct rxloop *loop, const struct rx_sink *sink, double deadline,
    const struct rxlife_cfg *cfg, const struct rxlife_ops *ops, void *drv,
    char *err, size_t errlen)
{
	struct rxlife	*l;

	l = calloc(1, sizeof *l);
	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->loop = loop;
	l->sink = *sink;
	l->ops = *ops;
	l->cfg = *cfg;
	if (!(l->cfg.tick_s > 0))
		l->cfg.tick_s = 0.5;
	l->drv = drv;
	l->deadline = deadline;
	l->backoff = RXLIFE_BACKOFF_MIN;
	l->state = RX_CONNECTING;
	return l;
}

static void
start_cb(void *arg)
{
	struct rxlife	*l = arg;

	if (!l->dead)
		attempt(l);
}

int
rxlife_start(struct rxlife *l, char *err, size_t errlen)
{
	if (rxloop_call(l->loop, start_cb, l) != 0) {
		snprintf(err, errlen, "network loop is stopping");
		return -1;
	}
	return 0;
}

static void
close_cb(void *arg)
{
	struct rxlife	*l = arg;

	l->dead = 1;
	settle(l, 0);
	stop_timer(l, &l->sul_tick);
	stop_timer(l, &l->sul_retry);
	l->ops.detach(l->drv);
}

void
rxlife_free(struct rxlife *l)
{
	if (l == NULL)
		return;
	rxloop_call_wait(l->loop, close_cb, l);
	free(l);
}
