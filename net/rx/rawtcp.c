/* rawtcp.c -- raw TCP receiver connections on the rxloop: connect, send queue, and the rxlife core around them. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "net/rx/rawtcp.h"
#include "net/rx/rxloop.h"
#include "src/base/station.h"
#include "src/base/util.h"

struct rawtcp {
	struct rxloop		*loop;
	struct rxlife		*life;
	struct station		 st;
	struct rawtcp_ops	 ops;
	void			*drv;
	char			 addr[64];

	/* loop thread only */
	struct lws		*wsi;
	unsigned char		 q[LWS_PRE + RAWTCP_SENDQ];
	size_t			 qlen;
	double			 t_dial, rtt;
};

struct rxlife *
rawtcp_life(const struct rawtcp *rt)
{
	return rt->life;
}

double
rawtcp_rtt(const struct rawtcp *rt)
{
	return rt->rtt;
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

/* The socket is gone: the core decides what comes next. */
static void
gone(struct rawtcp *rt, const char *why)
{
	rt->wsi = NULL;
	rt->qlen = 0;
	rxlife_closed(rt->life, why);
}

static int
rawtcp_callback(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct rawtcp	*rt = user;
	char		 why[200];
	size_t		 n;

	if (rt == NULL)
		return 0;	/* detached by close(): nothing is ours */
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		snprintf(why, sizeof why, "cannot connect to %.100s:%d: %.60s",
		    rt->st.host, rt->st.port, in != NULL ? (const char *)in :
		    "unknown error");
		gone(rt, why);
		break;
	case LWS_CALLBACK_RAW_CONNECTED:
		rt->rtt = util_mono() - rt->t_dial;
		rxlife_connected(rt->life);
		rt->ops.connected(rt->drv);
		break;
	case LWS_CALLBACK_RAW_RX:
		rxloop_rx(rt->loop, len);
		if (!rxlife_dropping(rt->life))	/* nothing more once dropping */
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
		gone(rt, NULL);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols rawtcp_protocol = {
	/* 64 KiB per read: rtl_tcp sends 4 MB/s */
	"rawtcp", rawtcp_callback, 0, 65536, 0, NULL, 0
};
RXLOOP_PROTOCOL(rawtcp_protocol)

/* ---- rxlife_ops ---- */

static void
life_connect(void *arg)
{
	struct rawtcp			*rt = arg;
	struct lws_client_connect_info	 i;
	char				 why[200];

	rt->qlen = 0;
	memset(&i, 0, sizeof i);
	i.context = rxloop_context(rt->loop);
	i.address = rt->addr;
	i.port = rt->st.port;
	i.host = rt->st.host;
	i.method = "RAW";
	i.local_protocol_name = rawtcp_protocol.name;
	i.userdata = rt;
	rt->t_dial = util_mono();
	rt->wsi = lws_client_connect_via_info(&i);
	if (rt->wsi == NULL) {
		snprintf(why, sizeof why, "cannot connect to %s:%d",
		    rt->st.host, rt->st.port);
		gone(rt, why);
	}
}

static void
life_kill(void *arg, const char *why)
{
	struct rawtcp	*rt = arg;

	(void)why;
	if (rt->wsi != NULL)
		lws_set_timeout(rt->wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
}

static void
life_detach(void *arg)
{
	struct rawtcp	*rt = arg;

	if (rt->wsi != NULL) {
		/* Detach first: the asynchronous close then touches
		 * nothing we free. */
		lws_set_wsi_user(rt->wsi, NULL);
		lws_set_timeout(rt->wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
		rt->wsi = NULL;
	}
}

static void
life_tick(void *arg, double now)
{
	struct rawtcp	*rt = arg;

	if (rt->ops.tick != NULL)
		rt->ops.tick(rt->drv, now);
}

static void
life_closed(void *arg)
{
	struct rawtcp	*rt = arg;

	rt->ops.closed(rt->drv);
}

struct rawtcp *
rawtcp_open(struct rxloop *loop, const struct station *st,
    const struct rx_params *p, const struct rx_sink *sink,
    const struct rawtcp_ops *ops, void *drv, char *err, size_t errlen)
{
	static const struct rxlife_ops	lops = { life_connect, life_kill,
					    life_detach, life_tick,
					    life_closed };
	static const struct rxlife_cfg	cfg = { RAWTCP_TICK_S, 0 };
	struct rawtcp			*rt;

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
	rt->ops = *ops;
	rt->drv = drv;
	if (rx_resolve(rt->st.host, rt->addr, sizeof rt->addr, err,
	    errlen) != 0 ||
	    (rt->life = rxlife_new(loop, sink, p->deadline, &cfg, &lops, rt,
	    err, errlen)) == NULL) {
		free(rt);
		return NULL;
	}
	return rt;
}

int
rawtcp_start(struct rawtcp *rt, char *err, size_t errlen)
{
	return rxlife_start(rt->life, err, errlen);
}

void
rawtcp_close(struct rawtcp *rt)
{
	if (rt == NULL)
		return;
	rxlife_free(rt->life);
	free(rt);
}
