/*
 * rxlife.h -- the life cycle of a receiver connection, one core for every
 * driver: each attempt to connect, why a connection ends (fatal: RX_FAILED
 * for good; else a retry), retries with jittered backoff until the
 * session's deadline, the stall watch, a periodic tick, the states the
 * engine hears (rx_sink.state) and a close that is safe from any thread.
 *
 * The driver owns its protocol and its transport (wsclient, an lws raw
 * socket, lws' own WebSocket client) and tells the core what happens on
 * it; the core owns the timers (lws, on the rxloop thread) and decides
 * what comes next. Apart from rxlife_new, rxlife_start and rxlife_free,
 * everything here runs on the loop thread, and so do the rxlife_ops.
 *
 * Why a connection ended -- one rule for every driver: the FIRST FATAL
 * reason, else the first reason. A fatal reason decides that there is no
 * retry, so what RX_FAILED reports must be a final reason (never a "no
 * frame for 2 s" noted just before a "bad password"); and among reasons of
 * one kind the first is the cause, the later ones its consequences (a
 * receiver that refused us then closes, or says it is busy; a stalled one
 * then fails a write). What the transport says when it is gone
 * ("connection reset", "cannot connect to ...") counts as a non-fatal
 * reason given at that moment; with no reason at all it is "connection
 * closed by the receiver".
 */
#ifndef RXLIFE_H
#define RXLIFE_H

#include <stddef.h>

#include "net/rx/receiver.h"

#define RXLIFE_BACKOFF_MIN	0.5	/* s before the first retry */
#define RXLIFE_BACKOFF_MAX	5.0	/* s between retries, at most */

struct rxloop;
struct rxlife;

struct rxlife_ops {
	/* Start one attempt: reset the connection's own state and dial.
	 * When it cannot even start, call rxlife_closed() with why. */
	void	(*connect)(void *drv);
	/* End the current connection now, if there is one; the transport's
	 * rxlife_closed() follows. why: the reason that will be reported. */
	void	(*kill)(void *drv, const char *why);
	/* The engine closes: end the connection and detach from it, so that
	 * no transport callback reaches the driver any more. */
	void	(*detach)(void *drv);
	/* Optional: every tick while connected (now: monotonic s), before
	 * the stall check. */
	void	(*tick)(void *drv, double now);
	/* Optional: the connection is gone and will be retried or failed:
	 * per-connection state ends here; a reason noted now with
	 * rxlife_drop() still counts (after the transport's). */
	void	(*closed)(void *drv);
};

struct rxlife_cfg {
	double	 tick_s;	/* period of ops.tick and the stall check */
	/* Keep the loop from resting (rxloop_settling) from each dial until
	 * rxlife_settled(): every step of a handshake would otherwise wait
	 * out a rest. For drivers whose handshake is quick: a connection
	 * that stays unsettled (a busy receiver that answers nothing) keeps
	 * the whole loop awake. Without it, the loop's rests are shortened
	 * (rxloop_brisk) from each dial until rxlife_streaming() or the
	 * connection's end. */
	int	 settle;
};

/*
 * A connection's core: nothing runs until rxlife_start(). sink and cfg are
 * copied; deadline (CLOCK_REALTIME s): no retry is made after it. NULL +
 * err on failure.
 */
struct rxlife	*rxlife_new(struct rxloop *loop, const struct rx_sink *sink,
		    double deadline, const struct rxlife_cfg *cfg,
		    const struct rxlife_ops *ops, void *drv, char *err,
		    size_t errlen);
/* The first attempt, soon, on the loop thread. 0, or -1 + err (the loop
 * is stopping): then rxlife_free() it. */
int		 rxlife_start(struct rxlife *l, char *err, size_t errlen);
/* Close (ops.detach, on the loop thread) and free: any thread but the
 * loop's. When it returns no op or sink callback runs or will run. */
void		 rxlife_free(struct rxlife *l);

/* Loop thread only, from the driver: */

/* The transport is up: ticks start (and end when it is gone). */
void		 rxlife_connected(struct rxlife *l);
/*
 * The stall watch: when limit s pass without rxlife_fed(), the connection
 * is dropped (not fatal) with why. Counted from now; each call replaces
 * the watch (the phase of a handshake, then the stream); limit <= 0 ends
 * it. Checked every tick. Every attempt starts without one.
 */
void		 rxlife_watch(struct rxlife *l, double limit, const char *why);
/* Data came: the watch counts from now. */
void		 rxlife_fed(struct rxlife *l);
/* The connection is set up and data flows: the backoff is back to its
 * minimum, the loop may rest again. */
void		 rxlife_settled(struct rxlife *l);
/* A stream begins: RX_STREAMING for the engine (and rxlife_settled). */
void		 rxlife_streaming(struct rxlife *l);
/*
 * A connection that streamed starts a handshake again (OpenWebRX: the
 * receiver was moved to another profile, ours is asked back and tuned):
 * the loop's rests are the short ones again (or none: cfg.settle) until
 * the next rxlife_streaming() or rxlife_settled(), as from a dial.
 */
void		 rxlife_unsettled(struct rxlife *l);
/* End this connection (ops.kill) for the reason why: fatal, no retry.
 * Which reason is reported: the rule at the top. */
void		 rxlife_drop(struct rxlife *l, const char *why, int fatal);
/* 1 when this connection is ending (a reason was noted). */
int		 rxlife_dropping(const struct rxlife *l);
/*
 * The transport is gone (why: its own word, or NULL). Then: RX_FAILED
 * when the reason is fatal or the next attempt would come after the
 * deadline ("gave up: why"), else RX_RETRYING and a retry after the
 * backoff. Once per attempt: later calls are ignored.
 */
void		 rxlife_closed(struct rxlife *l, const char *why);
const struct rx_sink *rxlife_sink(const struct rxlife *l);

/*
 * The delay (s) before a retry: *backoff times a jitter of 0.8 .. 1.2, so
 * that stations that lost a shared link do not come back in step;
 * *backoff then doubles, up to max. -1 (*backoff unchanged) when that
 * attempt would come after deadline (CLOCK_REALTIME s): give up.
 */
double		 rxlife_retry_delay(double *backoff, double max,
		    double deadline);

#endif
