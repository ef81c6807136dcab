/*
 * rxloop.h -- the one network event loop (libwebsockets) that serves every
 * receiver connection of the process, on its own thread.
 *
 * Other threads never touch lws: they hand work to the loop with
 * rxloop_call(), which queues it and wakes the loop with
 * lws_cancel_service(). Drivers hand in the lws protocols they need
 * (RXLOOP_PROTOCOL) so that one context serves them all; the loop knows
 * none of them by name.
 */
#ifndef RXLOOP_H
#define RXLOOP_H

#include <stddef.h>

struct lws_context;
struct lws_protocols;
struct rxloop;

typedef void (*rxloop_fn)(void *arg);

/*
 * A protocol the loop's context must serve (a connection names it in
 * local_protocol_name), handed in by the driver or transport that owns
 * its callback. Loops made afterwards serve every protocol added before
 * (rxloop_new copies the table). Not thread-safe: at start-up, never
 * while a loop is being made. 0; 0 again for the same protocol; -1 when
 * the table (RXLOOP_MAX_PROTOCOLS) is full or another protocol has that
 * name.
 */
#define RXLOOP_MAX_PROTOCOLS	16
/*
 * The most one turn of the loop reads from one socket (lws' own default is
 * 4 KiB). A protocol's rx_buffer_size caps it lower: a protocol whose
 * stream may be fast sets it to this. The loop rests up to 200 ms between
 * turns (rxloop.c), so a connection capped at 4 KiB per turn cannot take
 * more than ~20 KB/s: less than OpenWebRX's uncompressed audio (12,000
 * int16 samples/s, 24 KB/s).
 */
#define RXLOOP_RX_BUF	32768
int		 rxloop_protocol_add(const struct lws_protocols *p);
/* At file scope in the module that defines protocol p: adds it when the
 * program starts (before main), so that it is there for every loop. A
 * refusal is a programming error: the program stops, saying which. */
#define RXLOOP_PROTOCOL(p)						\
	static void __attribute__((constructor))			\
	rxloop_protocol_add_##p(void)					\
	{								\
		rxloop_protocol_must(&(p), #p);				\
	}
void		 rxloop_protocol_must(const struct lws_protocols *p,
		    const char *what);

/* Start the loop thread. nfds: the most descriptors its connections
 * take at once (engine_fds_needed's estimate), or 0 if not known; at most
 * RXLOOP_FEW_FDS / 4, lws' tables are sized for RXLOOP_FEW_FDS instead of
 * the open-file limit (rxloop.c says why). No TLS here: wsclient brings its
 * own, set up per connection. NULL + err on failure. */
#define RXLOOP_FEW_FDS	1024
struct rxloop	*rxloop_new(long nfds, char *err, size_t errlen);
/* Stop the thread and destroy the context. Close every rx first. */
void		 rxloop_free(struct rxloop *loop);

/*
 * Run fn(arg) on the loop thread, soon. Callable from any thread (from the
 * loop thread itself it runs at the next turn). Returns 0, or -1 when the
 * loop is stopping.
 */
int		 rxloop_call(struct rxloop *loop, rxloop_fn fn, void *arg);
/* Like rxloop_call, but waits until fn has run. Not from the loop thread. */
int		 rxloop_call_wait(struct rxloop *loop, rxloop_fn fn, void *arg);

/* The lws context (loop thread only). */
struct lws_context *rxloop_context(struct rxloop *loop);
/*
 * Loop thread only: a connection starts (+1) or ends (-1) its setup. The
 * loop rests between turns (to serve many receivers' frames per wake-up)
 * only while no connection is settling.
 */
void		 rxloop_settling(struct rxloop *loop, int delta);
/*
 * Loop thread only: a connection starts (+1) or ends (-1) a handshake of
 * many slow steps (one that would keep the loop awake for seconds if it
 * settled). While any is counted, the rests are the short ones.
 */
void		 rxloop_brisk(struct rxloop *loop, int delta);
/*
 * Loop thread only: a driver read len bytes from its socket. A read that
 * took about a full receive buffer means more is waiting: the loop then
 * turns again at once instead of resting, and rests only briefly for its
 * next turns (a fast stream must not outgrow the socket's buffer).
 */
void		 rxloop_rx(struct rxloop *loop, size_t len);
/* 1 when called on the loop thread. */
int		 rxloop_on_loop(struct rxloop *loop);

#endif
