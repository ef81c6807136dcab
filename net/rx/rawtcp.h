/*
 * rawtcp.h -- a raw TCP client connection on the rxloop (lws raw socket)
 * for the TCP receiver drivers (rtl_tcp, SpyServer): one resolve on the
 * caller's thread, a bounded send queue, and the connection's life cycle
 * run by the one core every driver uses (rxlife.h: reasons, retries with
 * backoff until the deadline, stall watch, close from any thread).
 *
 * Owns the lws wsi and its lws protocol (handed to the rxloop); the driver
 * (rtl_tcp, SpyServer) owns the protocol spoken on it and gets its bytes
 * through rawtcp_ops, on the loop thread.
 */
#ifndef RAWTCP_H
#define RAWTCP_H

#include <stddef.h>
#include <stdint.h>

#include "net/rx/receiver.h"
#include "net/rx/rxlife.h"

#define RAWTCP_SENDQ	4096	/* bytes queued for sending, at most */
#define RAWTCP_TICK_S	0.25	/* the stall watch's check, and tick */

struct rawtcp;

struct rawtcp_ops {
	/* TCP is up (each connection). */
	void	(*connected)(void *drv);
	/* Bytes from the receiver, in order (none once dropping). */
	void	(*data)(void *drv, const uint8_t *p, size_t n);
	/* Optional: every RAWTCP_TICK_S while connected; now is monotonic
	 * seconds. */
	void	(*tick)(void *drv, double now);
	/* The connection is gone (before any retry is scheduled); a reason
	 * dropped here still counts (rxlife_ops.closed). */
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
/* The connection's life cycle: rxlife_drop, _watch, _fed, _streaming;
 * rxlife_sink for the samples. */
struct rxlife	*rawtcp_life(const struct rawtcp *rt);
/* The TCP handshake's duration on this connection (s): a round trip. */
double		 rawtcp_rtt(const struct rawtcp *rt);

#endif
