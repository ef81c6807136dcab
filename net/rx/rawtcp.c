/* rawtcp.c -- raw TCP receiver connections on the rxloop: connect, retry with backoff, send queue, tick, safe close. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "net/rx/rawtcp.h"
#include "net/rx/rxloop.h"
#include "src/base/station.h"
#include "src/base/util.h"

#define RAWTCP_BACKOFF_MIN	0.5
#define RAWTCP_BACKOFF_MAX	5.0
#define RAWTCP_TICK_MS		250

struct rawtcp {
	struct rxloop		*loop;
	struct station		 st;
	struct rx_params	 p;
	struct rx_sink		 sink;
	struct rawtcp_ops	 ops;
	void			*drv;
	char			 addr[64];

	/* loop thread only */
	struct lws		*wsi;
	lws_sorted_usec_list_t	 sul_tick;
	lws_sorted_usec_list_t	 sul_retry;
	int			 dead, failed, fatal;
	enum rx_state		 state;
	char			 why[200];
	double			 backoff;
	unsigned char		 q[LWS_PRE + RAWTCP_SENDQ];
	size_t			 qlen;
	double			 t_dial, rtt;
};

static void	connect_now(struct rawtcp *rt);

void
rawtcp_state(struct rawtcp *rt, enum rx_state st, const char *reason)
{
	rt->state = st;
	if (st == RX_STREAMING)
		rt->backoff = RAWTCP_BACKOFF_MIN;
	if (!rt->dead) {
		char why[RX_REASON_MAX + 1];
		rt->sink.state(rt->sink.ctx, st, rx_reason(reason, why));
	}
}

const struct rx_sink *
rawtcp_sink(const struct rawtcp *rt)
{
	return &rt->sink;
}

double
rawtcp_rtt(const struct rawtcp *rt)
{
	return rt->rtt;
}

const struct rx_params *
rawtcp_params(const struct rawtcp *rt)
{
	return &rt->p;
}

int
rawtcp_send(struct rawtcp *rt, const void *p, size_t n)
{
	if (rt->wsi == NULL || rt->qlen + n > RAWTCP_SENDQ)
		return -1;
	memcpy(rt->q + LWS_PRE + rt->qlen, p, n);
	rt->qlen += n;
	lws_callback_on_writable(rt->wsi);
	return 0;
}

void
rawtcp_drop(struct rawtcp *rt, const char *why, int fatal)
{
	/* The first reason wins, unless a later one is final. */
	if (rt->why[0] == '\0' || (fatal && !rt->fatal)) {
		snprintf(rt->why, sizeof rt->why, "%s", why);
		rt->fatal |= fatal;
	}
	if (rt->wsi != NULL)
		lws_set_timeout(rt->wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
}

static void
retry_cb(lws_sorted_usec_list_t *sul)
{
	struct rawtcp *rt = lws_container_of(sul, struct rawtcp, sul_retry);

	if (!rt->dead && !rt->failed)
		connect_now(rt);
}

static void
closed(struct rawtcp *rt)
{
	char	 reason[220];
	double	 delay;

	rt->wsi = NULL;
	rt->qlen = 0;
	lws_sul_schedule(rxloop_context(rt->loop), 0, &rt->sul_tick, NULL,
	    LWS_SET_TIMER_USEC_CANCEL);
	if (rt->dead || rt->failed)
		return;
	rt->ops.closed(rt->drv);
	snprintf(reason, sizeof reason, "%s", rt->why[0] ? rt->why :
	    "connection closed by the receiver");
	if (rt->fatal) {
		rt->failed = 1;
		rawtcp_state(rt, RX_FAILED, reason);
		return;
	}
	delay = rx_retry_delay(&rt->backoff, RAWTCP_BACKOFF_MAX,
	    rt->p.deadline);
	if (delay < 0) {
		char final[240];
		snprintf(final, sizeof final, "gave up: %.200s", reason);
		rt->failed = 1;
		rawtcp_state(rt, RX_FAILED, final);
		return;
	}
	rawtcp_state(rt, RX_RETRYING, reason);
	lws_sul_schedule(rxloop_context(rt->loop), 0, &rt->sul_retry, retry_cb,
	    (lws_usec_t)(delay * 1e6));
}

static void
tick_cb(lws_sorted_usec_list_t *sul)
{
	struct rawtcp *rt = lws_container_of(sul, struct rawtcp, sul_tick);

	if (rt->dead || rt->wsi == NULL)
		return;
	rt->ops.tick(rt->drv, util_mono());
	lws_sul_schedule(rxloop_context(rt->loop), 0, &rt->sul_tick, tick_cb,
	    RAWTCP_TICK_MS * LWS_US_PER_MS);
}

static int
rawtcp_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct rawtcp	*rt = user;
	size_t		 n;

	if (rt == NULL)
		return 0;	/* detached by close(): nothing is ours */
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (rt->why[0] == '\0')
			snprintf(rt->why, sizeof rt->why, "cannot connect to "
			    "%.100s:%d: %.60s", rt->st.host, rt->st.port,
			    in != NULL ? (const char *)in : "unknown error");
		closed(rt);
		break;
	case LWS_CALLBACK_RAW_CONNECTED:
		rt->rtt = util_mono() - rt->t_dial;
		lws_sul_schedule(rxloop_context(rt->loop), 0, &rt->sul_tick,
		    tick_cb, RAWTCP_TICK_MS * LWS_US_PER_MS);
		rt->ops.connected(rt->drv);
		break;
	case LWS_CALLBACK_RAW_RX:
		rxloop_rx(rt->loop, len);
		if (!rt->why[0])	/* nothing more once dropping */
			rt->ops.data(rt->drv, in, len);
		break;
	case LWS_CALLBACK_RAW_WRITEABLE:
		if (rt->qlen == 0)
			break;
		n = rt->qlen;
		rt->qlen = 0;
		/* a few bytes of commands: lws buffers what the kernel
		 * does not take at once */
		if (lws_write(wsi, rt->q + LWS_PRE, n, LWS_WRITE_RAW) < (int)n)
			return -1;
		break;
	case LWS_CALLBACK_RAW_CLOSE:
		closed(rt);
		break;
	default:
		break;
	}
	return 0;
}

const struct lws_protocols rawtcp_protocol = {
	/* 64 KiB per read: rtl_tcp sends 4 MB/s */
	"rawtcp", rawtcp_callback, 0, 65536, 0, NULL, 0
};

static void
connect_now(struct rawtcp *rt)
{
	struct lws_client_connect_info	i;

	rt->why[0] = '\0';
	rt->fatal = 0;
	rt->qlen = 0;
	memset(&i, 0, sizeof i);
	i.context = rxloop_context(rt->loop);
	i.address = rt->addr;
	i.port = rt->st.port;
	i.host = rt->st.host;
	i.method = "RAW";
	i.local_protocol_name = "rawtcp";
	i.userdata = rt;
	if (rt->state != RX_RETRYING)
		rawtcp_state(rt, RX_CONNECTING, "connecting");
	rt->t_dial = util_mono();
	rt->wsi = lws_client_connect_via_info(&i);
	if (rt->wsi == NULL) {
		snprintf(rt->why, sizeof rt->why, "cannot connect to %s:%d",
		    rt->st.host, rt->st.port);
		closed(rt);
	}
}

static void
open_cb(void *arg)
{
	connect_now(arg);
}

struct rawtcp *
rawtcp_open(struct rxloop *loop, const struct station *st,
    const struct rx_params *p, const struct rx_sink *sink,
    const struct rawtcp_ops *ops, void *drv, char *err, size_t errlen)
{
	struct rawtcp	*rt;

	err[0] = '\0';
	rt = calloc(1, sizeof *rt);
	if (rt == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (st->tls) {
		snprintf(err, errlen, "%s: TLS is not supported for %s",
		    st->name, st->type);
		free(rt);
		return NULL;
	}
	rt->loop = loop;
	rt->st = *st;
	rt->p = *p;
	rt->p.ident = NULL;	/* not copied */
	rt->sink = *sink;
	rt->ops = *ops;
	rt->drv = drv;
	rt->backoff = RAWTCP_BACKOFF_MIN;
	rt->state = RX_CONNECTING;
	if (rx_resolve(rt->st.host, rt->addr, sizeof rt->addr, err,
	    errlen) != 0) {
		free(rt);
		return NULL;
	}
	return rt;
}

int
rawtcp_start(struct rawtcp *rt, char *err, size_t errlen)
{
	if (rxloop_call(rt->loop, open_cb, rt) != 0) {
		snprintf(err, errlen, "network loop is stopping");
		return -1;
	}
	return 0;
}

static void
close_cb(void *arg)
{
	struct rawtcp		*rt = arg;
	struct lws_context	*ctx = rxloop_context(rt->loop);

	rt->dead = 1;
	lws_sul_schedule(ctx, 0, &rt->sul_tick, NULL,
	    LWS_SET_TIMER_USEC_CANCEL);
	lws_sul_schedule(ctx, 0, &rt->sul_retry, NULL,
	    LWS_SET_TIMER_USEC_CANCEL);
	if (rt->wsi != NULL) {
		/* Detach first: the asynchronous close then touches
		 * nothing we free. */
		lws_set_wsi_user(rt->wsi, NULL);
		lws_set_timeout(rt->wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
		rt->wsi = NULL;
	}
}

void
rawtcp_close(struct rawtcp *rt)
{
	if (rt == NULL)
		return;
	rxloop_call_wait(rt->loop, close_cb, rt);
	free(rt);
}
