/*
 * rawtcp.h -- a raw TCP client connection on the rxloop (lws raw socket)
 * with what every TCP receiver driver needs around it: one resolve on the
 * caller's thread, reconnects with jittered backoff until the session's
 * deadline, a fatal/non-fatal drop with a reason, a bounded send queue, a
 * periodic tick, and a close that is safe from any thread.
 *
 * Owns the lws wsi and the timers; the driver (rtl_tcp, SpyServer) owns the
 * protocol and gets its bytes through rawtcp_ops, on the loop thread.
 */
#ifndef RAWTCP_H
#define RAWTCP_H

#include <stddef.h>
#include <stdint.h>

#include "net/rx/receiver.h"

#define RAWTCP_SENDQ	4096	/* bytes queued for sending, at most */

extern const struct lws_protocols rawtcp_protocol;

struct rawtcp;

struct rawtcp_ops {
	/* TCP is up (each connection). */
	void	(*connected)(void *drv);
	/* Bytes from the receiver, in order. */
	void	(*data)(void *drv, const uint8_t *p, size_t n);
	/* Every 250 ms while connected; now is monotonic seconds. */
	void	(*tick)(void *drv, double now);
	/* The connection is gone (before any retry is scheduled). */
	void	(*closed)(void *drv);
};

/* Prepare a connection (resolving the host); nothing runs until
 * rawtcp_start(), so the driver can keep the pointer before any op is
 * called on the loop thread. */
struct rawtcp	*rawtcp_open(struct rxloop *loop, const struct station *st,
		    const struct rx_params *p, const struct rx_sink *sink,
		    const struct rawtcp_ops *ops, void *drv, char *err,
		    size_t errlen);
/* Connect (asynchronously). 0, or -1 (then rawtcp_close() it). */
int		 rawtcp_start(struct rawtcp *rt, char *err, size_t errlen);
/* Close: any thread but the loop's; no op is called after it returns. */
void		 rawtcp_close(struct rawtcp *rt);

/* Loop thread only, from the ops: */
/* Queue bytes for sending. -1 if the queue is full or not connected. */
int		 rawtcp_send(struct rawtcp *rt, const void *p, size_t n);
/* End this connection: fatal -> RX_FAILED for good, else retry later. */
void		 rawtcp_drop(struct rawtcp *rt, const char *why, int fatal);
/* Report a state (RX_STREAMING once samples flow); resets the backoff. */
void		 rawtcp_state(struct rawtcp *rt, enum rx_state st,
		    const char *reason);
const struct rx_sink *rawtcp_sink(const struct rawtcp *rt);
/* The TCP handshake's duration on this connection (s): a round trip. */
double		 rawtcp_rtt(const struct rawtcp *rt);
const struct rx_params *rawtcp_params(const struct rawtcp *rt);

#endif
