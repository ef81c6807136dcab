/* wsserver.c -- /health, /ws and / on one libwebsockets context with its own loop thread. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "net/wsserver.h"
#include "net/wsapi.h"
#include "src/config.h"
#include "src/engine.h"
#include "src/events.h"
#include "src/util.h"
#include "store/dataset.h"

/* The built-in page (generated from web/index.html at build time). */
extern const unsigned char	wsserver_page[];
extern const size_t		wsserver_page_len;

#define HTTP_CHUNK	16384
/* Requests per client: a token bucket, so one client's flood (each request
 * may read the dataset on this thread) cannot starve the others. */
#define RATE_PER_S	100.0
#define RATE_BURST	200.0

/* One serialized envelope; after it leaves the pending list only the loop
 * thread touches it, so the count needs no lock. */
struct msg {
	struct msg	*next;		/* pending list only */
	unsigned	 cls;		/* broadcast class (wsapi_broadcast) */
	int		 refs;
	size_t		 len;
	unsigned char	 buf[];		/* LWS_PRE + len */
};

struct client {
	struct client	*next, *prev;
	struct lws	*wsi;
	struct msg	**q;		/* ring of queue_max */
	int		 qhead, qlen;
	size_t		 qbytes;
	char		*rx;		/* message being reassembled */
	size_t		 rxlen;
	int		 rx_drop;	/* discarding an oversized message */
	unsigned	 subs;		/* WSAPI_SUB_* it subscribed to */
	double		 tokens;	/* rate limit bucket */
	double		 t_tokens;	/* when it was last filled */
	int		 closing;	/* close once the queue is written */
	int		 dead;		/* being killed: queue nothing more */
};

/* Per connection (HTTP or WebSocket). */
struct pss {
	struct client	*c;
	const unsigned char *body;	/* HTTP response being written */
	char		*owned;		/* body to free */
	size_t		 blen, boff;
};

struct probe {
	int	reachable;		/* -1: not checked yet */
	char	checked_at[40];
};

struct wsserver {
	struct wsserver_config	 cfg;
	char			*token;
	char			**origins;
	struct wsapi		*api;
	struct lws_context	*ctx;
	struct lws_vhost	*vh;
	int			 port;
	pthread_t		 thread;
	atomic_int		 stop;		/* set by wsserver_stop() */
	int			 sub;
	double			 started;

	pthread_mutex_t		 lock;		/* pending */
	struct msg		*pending, *pending_tail;

	/* loop thread only */
	struct client		*clients;
	int			 nclients;
	lws_sorted_usec_list_t	 sul_heartbeat;
	unsigned long		 kicked;	/* slow consumers disconnected */

	/* receiver reachability for /health */
	pthread_t		 prober;
	int			 has_prober;
	pthread_mutex_t		 plock;
	pthread_cond_t		 pcond;
	int			 pstop;
	int			 reachable;	/* -1 until the first check */
	char			 checked_at[40];
};

/* ---- helpers: addresses, tokens ---- */

int
wsserver_parse_listen(const char *s, char *addr, size_t len, int *port,
    char *err, size_t errlen)
{
	const char	*colon, *a = s;
	size_t		 alen;
	char		*end;
	long		 p;

	if (s == NULL || s[0] == '\0')
		goto bad;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (rb == NULL || rb[1] != ':')
			goto bad;
		a = s + 1;
		alen = (size_t)(rb - a);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			goto bad;
		alen = (size_t)(colon - s);
	}
	if (alen == 0 || alen >= len)
		goto bad;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || p < 0 ||
	    p > 65535)
		goto bad;
	memcpy(addr, a, alen);
	addr[alen] = '\0';
	*port = (int)p;
	return 0;
bad:
	snprintf(err, errlen, "--listen must be ADDR:PORT or [IPV6]:PORT with a "
	    "port from 0 to 65535 (got \"%s\")", s != NULL ? s : "");
	return -1;
}

int
wsserver_is_loopback(const char *addr)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;

	if (strcmp(addr, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, addr, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) &&
		    a6.s6_addr[12] == 127);
	return 0;
}

int
wsserver_token_equal(const char *secret, const char *given, size_t given_len)
{
	return util_secret_equal(secret, given, given_len);
}

/*
 * Try the bind ourselves first: the common failures (port in use, address
 * not on this host) then get a precise message, and lws 4.1's failing
 * context creation -- which leaks -- is never reached for them.
 */
static int
preflight_bind(const char *addr, int port, char *err, size_t errlen)
{
	struct addrinfo	 hints, *res = NULL;
	char		 p[16];
	int		 fd, one = 1, rc = -1, gai;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(p, sizeof p, "%d", port);
	if ((gai = getaddrinfo(addr, p, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", addr, port,
		    gai_strerror(gai));
		return -1;
	}
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", addr, port,
		    strerror(errno));
	} else {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 ||
		    listen(fd, 1) != 0)
			snprintf(err, errlen, "cannot listen on %s:%d: %s", addr,
			    port, strerror(errno));
		else
			rc = 0;
		close(fd);
	}
	freeaddrinfo(res);
	return rc;
}

/* ---- messages and client queues (loop thread) ---- */

static struct msg *
msg_new(const char *json, size_t len)
{
	struct msg	*m = malloc(sizeof *m + LWS_PRE + len);

	if (m == NULL)
		return NULL;
	m->next = NULL;
	m->cls = WSAPI_TO_ALL;
	m->refs = 1;
	m->len = len;
	memcpy(m->buf + LWS_PRE, json, len);
	return m;
}

static void
msg_unref(struct msg *m)
{
	if (m != NULL && --m->refs == 0)
		free(m);
}

/* Drop a client that cannot keep up: the loop kills it on its next turn
 * (its socket may be full, so no close frame can be promised). */
static void
client_kill(struct wsserver *srv, struct client *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = 1;
	srv->kicked++;
	lwsl_user("ws client dropped: %s\n", why);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void
client_push(struct wsserver *srv, struct client *c, struct msg *m)
{
	if (c->dead)
		return;
	if (c->qlen >= srv->cfg.queue_max ||
	    c->qbytes + m->len > srv->cfg.queue_bytes) {
		client_kill(srv, c, "send queue full (slow consumer)");
		return;
	}
	m->refs++;
	c->q[(c->qhead + c->qlen) % srv->cfg.queue_max] = m;
	c->qlen++;
	c->qbytes += m->len;
	lws_callback_on_writable(c->wsi);
}

/* wsapi reply callback: on the loop thread, during wsapi_handle. */
static void
reply_to(void *arg, const char *json, size_t len)
{
	struct client	*c = arg;
	struct wsserver	*srv = lws_context_user(lws_get_context(c->wsi));
	struct msg	*m = msg_new(json, len);

	if (m == NULL) {
		client_kill(srv, c, "out of memory");
		return;
	}
	client_push(srv, c, m);
	msg_unref(m);
}

static void
broadcast(struct wsserver *srv, struct msg *m)
{
	struct client	*c;

	for (c = srv->clients; c != NULL; c = c->next)
		if ((m->cls & WSAPI_TO_ALL) || (m->cls & c->subs))
			client_push(srv, c, m);
}

static void
drain_pending(struct wsserver *srv)
{
	struct msg	*m, *next;

	pthread_mutex_lock(&srv->lock);
	m = srv->pending;
	srv->pending = srv->pending_tail = NULL;
	pthread_mutex_unlock(&srv->lock);
	for (; m != NULL; m = next) {
		next = m->next;
		broadcast(srv, m);
		msg_unref(m);
	}
}

/* Event bus subscriber: any thread; must not block (a lock and a wake-up). */
static void
on_event(void *ctx, const char *name, const json_t *data, const char *json,
    size_t len)
{
	struct wsserver	*srv = ctx;
	struct msg	*m;
	unsigned	 cls;

	(void)data;
	if ((cls = wsapi_broadcast(name)) == 0)
		return;
	if ((m = msg_new(json, len)) == NULL)
		return;
	m->cls = cls;
	pthread_mutex_lock(&srv->lock);
	if (srv->pending_tail != NULL)
		srv->pending_tail->next = m;
	else
		srv->pending = m;
	srv->pending_tail = m;
	pthread_mutex_unlock(&srv->lock);
	lws_cancel_service(srv->ctx);
}

static void
heartbeat(lws_sorted_usec_list_t *sul)
{
	struct wsserver	*srv = lws_container_of(sul, struct wsserver,
	    sul_heartbeat);
	json_t		*d;
	char		*s;
	size_t		 len;
	struct msg	*m;

	d = json_pack("{s:f, s:i}", "uptime_seconds", util_mono() -
	    srv->started, "clients", srv->nclients);
	s = events_envelope("heartbeat", d, &len);
	json_decref(d);
	if (s != NULL && (m = msg_new(s, len)) != NULL) {
		broadcast(srv, m);
		msg_unref(m);
	}
	free(s);
	lws_sul_schedule(srv->ctx, 0, &srv->sul_heartbeat, heartbeat,
	    (lws_usec_t)(srv->cfg.heartbeat * LWS_USEC_PER_SEC));
}

/* ---- access checks ---- */

static int
token_ok(struct wsserver *srv, struct lws *wsi)
{
	char		 buf[WSSERVER_TOKEN_MAX + 32];
	const char	*v;
	int		 n;

	if (srv->token == NULL)
		return 1;
	n = lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n > 7 && strncasecmp(buf, "Bearer ", 7) == 0 &&
	    wsserver_token_equal(srv->token, buf + 7, (size_t)n - 7))
		return 1;
	v = lws_get_urlarg_by_name(wsi, "token=", buf, sizeof buf);
	if (v != NULL && wsserver_token_equal(srv->token, v, strlen(v)))
		return 1;
	return 0;
}

static int
origin_ok(struct wsserver *srv, struct lws *wsi)
{
	char	buf[512];
	int	i, n;

	if (srv->cfg.norigins == 0)
		return 1;
	n = lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_ORIGIN);
	if (n <= 0)
		return 1;	/* not a browser: no cross-site risk */
	for (i = 0; i < srv->cfg.norigins; i++)
		if (strcmp(srv->origins[i], buf) == 0)
			return 1;
	return 0;
}

/* ---- /health ---- */

static char *
health_json(struct wsserver *srv, size_t *len)
{
	struct wsapi_stats	 st;
	struct statvfs		 vfs;
	const char		*dir = dataset_dir(srv->cfg.ds);
	json_t			*h, *store;
	char			*s;
	int			 writable;

	wsapi_stats(srv->api, &st);
	writable = access(dir, W_OK) == 0;
	store = json_pack("{s:s, s:s, s:b}", "state", writable ? "ok" :
	    "read_only", "dir", dir, "writable", writable);
	if (statvfs(dir, &vfs) == 0)
		json_object_set_new(store, "free_bytes", json_integer(
		    (json_int_t)vfs.f_bavail * (json_int_t)vfs.f_frsize));
	h = json_pack("{s:s, s:s, s:f, s:i, s:i, s:i, s:o, s:i}",
	    "status", writable ? "ok" : "degraded",
	    "version", HEIMDALL_VERSION,
	    "uptime_seconds", util_mono() - srv->started,
	    "sessions_in_progress", st.sessions_active,
	    "sessions_acquiring", st.sessions_acquiring,
	    "receivers_total", srv->cfg.stations->n,
	    "store", store,
	    "clients", srv->nclients);
	json_object_set_new(h, "clients_dropped", json_integer(
	    (json_int_t)srv->kicked));
	/* The central store: what the replicator still has to send and the
	 * state of each server ("off" without one). */
	if (srv->cfg.central != NULL)
		json_object_set_new(h, "central_store",
		    srv->cfg.central(srv->cfg.central_ctx));
	pthread_mutex_lock(&srv->plock);
	json_object_set_new(h, "receivers_reachable", srv->reachable >= 0 ?
	    json_integer(srv->reachable) : json_null());
	json_object_set_new(h, "receivers_checked_at", srv->checked_at[0] ?
	    json_string(srv->checked_at) : json_null());
	pthread_mutex_unlock(&srv->plock);
	s = util_json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(h);
	if (s != NULL)
		*len = strlen(s);
	return s;
}

/* A TCP connect within 2 s: the station's host answers on its port. */
static int
reachable(const struct station *st)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	struct pollfd	 pfd;
	char		 port[16];
	int		 fd, ok = 0, soerr;
	socklen_t	 sl = sizeof soerr;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%d", st->port);
	if (getaddrinfo(st->host, port, &hints, &res) != 0)
		return 0;
	for (ai = res; ai != NULL && !ok; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			ok = 1;
		else if (errno == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, 2000) == 1 && getsockopt(fd,
			    SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
			    soerr == 0)
				ok = 1;
		}
		close(fd);
	}
	freeaddrinfo(res);
	return ok;
}

static void *
prober_main(void *arg)
{
	struct wsserver	*srv = arg;
	struct timespec	 ts;
	char		 at[40];
	int		 i, n;

	pthread_mutex_lock(&srv->plock);
	while (!srv->pstop) {
		pthread_mutex_unlock(&srv->plock);
		for (i = n = 0; i < srv->cfg.stations->n; i++)
			n += reachable(&srv->cfg.stations->v[i]);
		util_iso8601(util_now(), at, sizeof at);
		pthread_mutex_lock(&srv->plock);
		srv->reachable = n;
		memcpy(srv->checked_at, at, sizeof at);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)srv->cfg.probe_interval;
		while (!srv->pstop && pthread_cond_timedwait(&srv->pcond,
		    &srv->plock, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&srv->plock);
	return NULL;
}

/* ---- HTTP ---- */

static int
http_respond(struct lws *wsi, struct pss *pss, unsigned int status,
    const char *type, const unsigned char *body, size_t blen, char *owned)
{
	unsigned char	 buf[LWS_PRE + 1024], *start = &buf[LWS_PRE];
	unsigned char	*p = start, *end = &buf[sizeof buf - 1];

	pss->body = body;
	pss->owned = owned;
	pss->blen = blen;
	pss->boff = 0;
	if (lws_add_http_common_headers(wsi, status, type, blen, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)
	    "cache-control:", (const unsigned char *)"no-store", 8, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)
	    "x-content-type-options:", (const unsigned char *)"nosniff", 7,
	    &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return 1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int
http_error(struct lws *wsi, struct pss *pss, unsigned int status,
    const char *text)
{
	char	*s;
	json_t	*j = json_pack("{s:s, s:i}", "error", text, "status",
	    (int)status);

	s = util_json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL)
		return 1;
	return http_respond(wsi, pss, status, "application/json",
	    (const unsigned char *)s, strlen(s), s);
}

static int
on_http(struct wsserver *srv, struct lws *wsi, struct pss *pss,
    const char *uri)
{
	char	*s;
	size_t	 len = 0;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
		return http_error(wsi, pss, HTTP_STATUS_METHOD_NOT_ALLOWED,
		    "only GET is served");
	if (strcmp(uri, "/") == 0 || strcmp(uri, "/index.html") == 0)
		return http_respond(wsi, pss, HTTP_STATUS_OK,
		    "text/html; charset=utf-8", wsserver_page,
		    wsserver_page_len, NULL);
	if (strcmp(uri, "/health") == 0) {
		if (!token_ok(srv, wsi))
			return http_error(wsi, pss, HTTP_STATUS_UNAUTHORIZED,
			    "a token is required (Authorization: Bearer T or "
			    "?token=T)");
		if ((s = health_json(srv, &len)) == NULL)
			return 1;
		return http_respond(wsi, pss, HTTP_STATUS_OK,
		    "application/json", (const unsigned char *)s, len, s);
	}
	if (strcmp(uri, "/ws") == 0)
		return http_error(wsi, pss, HTTP_STATUS_BAD_REQUEST,
		    "/ws is the WebSocket endpoint: send an Upgrade request");
	return http_error(wsi, pss, HTTP_STATUS_NOT_FOUND, "not found");
}

static int
http_writeable(struct lws *wsi, struct pss *pss)
{
	unsigned char	 buf[LWS_PRE + HTTP_CHUNK];
	size_t		 n;
	int		 last;

	if (pss->body == NULL)
		return 0;
	n = pss->blen - pss->boff;
	if (n > HTTP_CHUNK)
		n = HTTP_CHUNK;
	last = pss->boff + n == pss->blen;
	memcpy(buf + LWS_PRE, pss->body + pss->boff, n);
	if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL :
	    LWS_WRITE_HTTP) != (int)n)
		return 1;
	pss->boff += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	free(pss->owned);
	pss->owned = NULL;
	pss->body = NULL;
	if (lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

/* ---- WebSocket ---- */

static void
client_free(struct wsserver *srv, struct client *c)
{
	/* Its address may be reused by the next connection. */
	wsapi_client_gone(srv->api, c);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nclients--;
	while (c->qlen > 0) {
		msg_unref(c->q[c->qhead]);
		c->qhead = (c->qhead + 1) % srv->cfg.queue_max;
		c->qlen--;
	}
	free(c->q);
	free(c->rx);
	free(c);
}

/* Reply with an error and close once it is written. */
static void
reject_message(struct wsserver *srv, struct client *c, const char *code,
    const char *msg, int close_after)
{
	char	*s;
	size_t	 len;

	(void)srv;
	if ((s = wsapi_error_json(code, "", msg, &len)) != NULL) {
		reply_to(c, s, len);
		free(s);
	}
	if (close_after) {
		c->closing = 1;
		/* If it never reads the error either, do not wait forever. */
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 5);
	}
}

static int
ws_receive(struct wsserver *srv, struct lws *wsi, struct client *c,
    const void *in, size_t len)
{
	int	final;
	char	*nrx;
	double	now;

	final = lws_is_final_fragment(wsi) &&
	    lws_remaining_packet_payload(wsi) == 0;
	if (c->dead || c->closing)
		return 0;
	if (lws_frame_is_binary(wsi)) {
		/* Whole binary messages are refused; keep serving text. */
		c->rx_drop = 1;
		if (final) {
			c->rx_drop = 0;
			c->rxlen = 0;
			reject_message(srv, c, "invalid_frame", "binary frames "
			    "are not accepted: send JSON text", 0);
		}
		return 0;
	}
	if (c->rx_drop) {
		if (final)
			c->rx_drop = 0;
		return 0;
	}
	if (c->rxlen + len > WSAPI_MAX_MESSAGE) {
		free(c->rx);
		c->rx = NULL;
		c->rxlen = 0;
		reject_message(srv, c, "too_large", "message larger than 65536 "
		    "bytes: closing", 1);
		return 0;
	}
	if (len > 0) {
		if ((nrx = realloc(c->rx, c->rxlen + len)) == NULL) {
			client_kill(srv, c, "out of memory");
			return 0;
		}
		c->rx = nrx;
		memcpy(c->rx + c->rxlen, in, len);
		c->rxlen += len;
	}
	if (!final)
		return 0;
	now = util_mono();
	c->tokens += (now - c->t_tokens) * RATE_PER_S;
	if (c->tokens > RATE_BURST)
		c->tokens = RATE_BURST;
	c->t_tokens = now;
	if (c->tokens < 1.0) {
		free(c->rx);
		c->rx = NULL;
		c->rxlen = 0;
		reject_message(srv, c, "busy", "too many requests: at most 100 "
		    "per second (burst 200); this one was dropped", 0);
		return 0;
	}
	c->tokens -= 1.0;
	wsapi_handle(srv->api, c->rx != NULL ? c->rx : "", c->rxlen, &c->subs,
	    reply_to, c);
	free(c->rx);
	c->rx = NULL;
	c->rxlen = 0;
	return 0;
}

static int
ws_writeable(struct wsserver *srv, struct lws *wsi, struct client *c)
{
	struct msg	*m;
	int		 n;

	if (c->dead)
		return -1;
	if (c->qlen == 0) {
		if (c->closing) {
			lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
			    (unsigned char *)"message too large", 17);
			return -1;
		}
		return 0;
	}
	m = c->q[c->qhead];
	c->qhead = (c->qhead + 1) % srv->cfg.queue_max;
	c->qlen--;
	c->qbytes -= m->len;
	/* The LWS_PRE bytes before the payload are scratch for the frame
	 * header: the same for every client (a server does not mask), and
	 * only this thread writes, so one buffer serves them all. */
	n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
	msg_unref(m);
	if (n < 0)
		return -1;
	if (c->qlen > 0 || c->closing)
		lws_callback_on_writable(wsi);
	return 0;
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct wsserver	*srv = lws_context_user(lws_get_context(wsi));
	struct pss	*pss = user;
	struct client	*c;
	char		 uri[64];

	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (srv != NULL)
			drain_pending(srv);
		return 0;
	case LWS_CALLBACK_HTTP:
		return on_http(srv, wsi, pss, (const char *)in);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return http_writeable(wsi, pss);
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (pss != NULL) {
			free(pss->owned);
			pss->owned = NULL;
			pss->body = NULL;
		}
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* lws would upgrade any path: only /ws is the API. Refusing
		 * here drops the connection (lws sends no 4xx). */
		if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
		    strcmp(uri, "/ws") != 0)
			return 1;
		if (!token_ok(srv, wsi) || !origin_ok(srv, wsi))
			return 1;
		if (srv->nclients >= srv->cfg.max_clients)
			return 1;
		return 0;
	case LWS_CALLBACK_ESTABLISHED:
		c = calloc(1, sizeof *c);
		if (c == NULL || (c->q = calloc((size_t)srv->cfg.queue_max,
		    sizeof *c->q)) == NULL) {
			free(c);
			return -1;
		}
		c->wsi = wsi;
		c->tokens = RATE_BURST;
		c->t_tokens = util_mono();
		c->next = srv->clients;
		if (srv->clients != NULL)
			srv->clients->prev = c;
		srv->clients = c;
		srv->nclients++;
		pss->c = c;
		wsapi_welcome(srv->api, reply_to, c);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (pss == NULL || pss->c == NULL)
			return -1;
		return ws_receive(srv, wsi, pss->c, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (pss == NULL || pss->c == NULL)
			return -1;
		return ws_writeable(srv, wsi, pss->c);
	case LWS_CALLBACK_CLOSED:
		if (pss != NULL && pss->c != NULL) {
			client_free(srv, pss->c);
			pss->c = NULL;
		}
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	{ "heimdall", callback, sizeof(struct pss), 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void *
loop_main(void *arg)
{
	struct wsserver	*srv = arg;

	while (!srv->stop)
		if (lws_service(srv->ctx, 0) < 0)
			break;
	return NULL;
}

static void
free_config(struct wsserver *srv)
{
	int	i;

	free(srv->token);
	for (i = 0; srv->origins != NULL && i < srv->cfg.norigins; i++)
		free(srv->origins[i]);
	free(srv->origins);
}

struct wsserver *
wsserver_start(const struct wsserver_config *cfg, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	struct wsserver	*srv;
	char		 addr[256];
	int		 port, i;

	if (cfg->eng == NULL || cfg->ev == NULL || cfg->ds == NULL ||
	    cfg->stations == NULL) {
		snprintf(err, errlen, "server: engine, events, dataset and "
		    "stations are required");
		return NULL;
	}
	if (wsserver_parse_listen(cfg->listen != NULL ? cfg->listen :
	    WSSERVER_DEFAULT_LISTEN, addr, sizeof addr, &port, err,
	    errlen) != 0)
		return NULL;
	if (!wsserver_is_loopback(addr) && (cfg->token == NULL ||
	    cfg->token[0] == '\0')) {
		snprintf(err, errlen, "refusing to listen on %s without a token: "
		    "a non-loopback address needs --token-file FILE", addr);
		return NULL;
	}
	if (cfg->token != NULL && (strlen(cfg->token) < WSSERVER_TOKEN_MIN ||
	    strlen(cfg->token) > WSSERVER_TOKEN_MAX)) {
		snprintf(err, errlen, "the token must be %d to %d bytes",
		    WSSERVER_TOKEN_MIN, WSSERVER_TOKEN_MAX);
		return NULL;
	}
	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
		snprintf(err, errlen, "TLS needs both --tls-cert and --tls-key");
		return NULL;
	}
	if (cfg->tls_cert != NULL && (access(cfg->tls_cert, R_OK) != 0 ||
	    access(cfg->tls_key, R_OK) != 0)) {
		snprintf(err, errlen, "TLS certificate or key %s: %s",
		    access(cfg->tls_cert, R_OK) != 0 ? cfg->tls_cert :
		    cfg->tls_key, strerror(errno));
		return NULL;
	}
	if (cfg->norigins > WSSERVER_MAX_ORIGINS) {
		snprintf(err, errlen, "at most %d --allow-origin",
		    WSSERVER_MAX_ORIGINS);
		return NULL;
	}
	if (preflight_bind(strcmp(addr, "localhost") == 0 ? "127.0.0.1" : addr,
	    port, err, errlen) != 0)
		return NULL;
	if ((srv = calloc(1, sizeof *srv)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->cfg = *cfg;
	if (srv->cfg.heartbeat <= 0)
		srv->cfg.heartbeat = 30;
	if (srv->cfg.max_clients <= 0)
		srv->cfg.max_clients = 1024;
	if (srv->cfg.queue_max <= 0)
		srv->cfg.queue_max = 1024;
	if (srv->cfg.queue_bytes == 0)
		srv->cfg.queue_bytes = 4 * 1024 * 1024;
	if (srv->cfg.probe_interval <= 0)
		srv->cfg.probe_interval = 30;
	srv->cfg.listen = NULL;
	srv->token = cfg->token != NULL ? strdup(cfg->token) : NULL;
	srv->origins = calloc((size_t)cfg->norigins + 1, sizeof *srv->origins);
	for (i = 0; i < cfg->norigins; i++)
		srv->origins[i] = strdup(cfg->origins[i]);
	srv->cfg.origins = NULL;
	srv->cfg.token = NULL;
	srv->reachable = -1;
	srv->started = util_mono();
	pthread_mutex_init(&srv->lock, NULL);
	pthread_mutex_init(&srv->plock, NULL);
	pthread_cond_init(&srv->pcond, NULL);
	{
		struct wsapi_config ac = { cfg->eng, cfg->ds, cfg->stations };
		srv->api = wsapi_new(&ac);
	}

	memset(&info, 0, sizeof info);
	info.port = port;
	/* lws binds to an interface name or an address; NULL = all. */
	if (strcmp(addr, "0.0.0.0") != 0 && strcmp(addr, "::") != 0)
		info.iface = strcmp(addr, "localhost") == 0 ? "127.0.0.1" :
		    addr;
	info.protocols = protocols;
	info.user = srv;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	info.timeout_secs = 10;
	info.max_http_header_pool = 64;
	info.pt_serv_buf_size = 32 * 1024;
	if (cfg->tls_cert != NULL) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cfg->tls_cert;
		info.ssl_private_key_filepath = cfg->tls_key;
	}
	srv->ctx = lws_create_context(&info);
	if (srv->ctx == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%d (address in use, "
		    "not local, or bad TLS files)", addr, port);
		goto fail;
	}
	srv->vh = lws_get_vhost_by_name(srv->ctx, "default");
	srv->port = srv->vh != NULL ? lws_get_vhost_listen_port(srv->vh) : -1;
	if (srv->port <= 0) {
		snprintf(err, errlen, "cannot listen on %s:%d", addr, port);
		lws_context_destroy(srv->ctx);
		goto fail;
	}
	srv->sub = events_subscribe(cfg->ev, on_event, srv);
	lws_sul_schedule(srv->ctx, 0, &srv->sul_heartbeat, heartbeat,
	    (lws_usec_t)(srv->cfg.heartbeat * LWS_USEC_PER_SEC));
	if (pthread_create(&srv->thread, NULL, loop_main, srv) != 0) {
		snprintf(err, errlen, "cannot start the server thread");
		events_unsubscribe(cfg->ev, srv->sub);
		lws_context_destroy(srv->ctx);
		goto fail;
	}
	/* Without it /health says receivers_reachable: null, nothing worse. */
	srv->has_prober = pthread_create(&srv->prober, NULL, prober_main,
	    srv) == 0;
	return srv;
fail:
	wsapi_free(srv->api);
	pthread_mutex_destroy(&srv->lock);
	pthread_mutex_destroy(&srv->plock);
	pthread_cond_destroy(&srv->pcond);
	free_config(srv);
	free(srv);
	return NULL;
}

int
wsserver_port(const struct wsserver *srv)
{
	return srv->port;
}

void
wsserver_stop(struct wsserver *srv)
{
	struct msg	*m, *next;

	if (srv == NULL)
		return;
	/* No more events into a context about to go. */
	events_unsubscribe(srv->cfg.ev, srv->sub);
	if (srv->has_prober) {
		pthread_mutex_lock(&srv->plock);
		srv->pstop = 1;
		pthread_cond_signal(&srv->pcond);
		pthread_mutex_unlock(&srv->plock);
		pthread_join(srv->prober, NULL);
	}
	srv->stop = 1;
	lws_cancel_service(srv->ctx);
	pthread_join(srv->thread, NULL);
	/* Closes every connection: CLOSED frees each client. */
	lws_context_destroy(srv->ctx);
	for (m = srv->pending; m != NULL; m = next) {
		next = m->next;
		msg_unref(m);
	}
	wsapi_free(srv->api);
	pthread_mutex_destroy(&srv->lock);
	pthread_mutex_destroy(&srv->plock);
	pthread_cond_destroy(&srv->pcond);
	free_config(srv);
	free(srv);
}
