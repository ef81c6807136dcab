/* wsserver.c -- /health, /ws and / on one libwebsockets context with its own loop thread. */

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "net/server/wsserver.h"
#include "net/server/wsapi.h"
#include "net/server/monitor.h"
#include "src/engine/config.h"
#include "src/engine/engine.h"
#include "src/engine/events.h"
#include "src/engine/probe.h"
#include "src/base/util.h"
#include "store/dataset.h"

/* The built-in page (generated from web/index.html at build time). */
extern const unsigned char	wsserver_page[];
extern const size_t		wsserver_page_len;

#define HTTP_CHUNK	16384
/* Requests per client: a token bucket, so one client's flood (each request
 * may read the dataset on this thread) cannot starve the others. */
#define RATE_PER_S	100.0
#define RATE_BURST	200.0
/* Of the connections allowed, these are left for HTTP (/health, the page,
 * upgrades in progress) when the WebSocket client limit is derived. */
#define HTTP_SLACK		16
#define ACCEPT_PAUSE_US		(250 * LWS_US_PER_MS)
#define ACCEPT_LOG_EVERY	10.0	/* s between accept-error messages */

/*
 * RFC 6455 5.1: a server must close on an unmasked client frame. lws 4.1
 * reads the mask bit and ignores it (fixed in later lws), so the server
 * follows the frame headers of its own plain WebSocket sockets as lws reads
 * them: recv() is wrapped (lws reads plain sockets with recv()), and only
 * sockets registered in frames[] by this server's loop thread -- the one
 * thread that reads them -- are looked at; every other recv() in the
 * process passes straight through. TLS sockets are read by OpenSSL and are
 * not followed.
 */
struct wsframe {
	pthread_t	owner;		/* the loop thread reading the socket */
	int		state;		/* F_* */
	int		need;		/* header bytes still to come */
	uint64_t	left;		/* payload bytes still to come */
	int		bad;		/* an unmasked frame was seen */
};
enum { F_HDR0, F_HDR1, F_LEN, F_KEY, F_PAYLOAD };

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
	int		 close_code;	/* close once the queue is written */
	const char	*close_why;
	int		 dead;		/* being killed: queue nothing more */
	double		 t_rx;		/* last frame (or pong) received */
	double		 t_partial;	/* when the message in progress began */
	int		 partial;	/* a message is in progress */
	int		 ping_due, ping_sent;
	int		 fd;		/* followed in frames[] (-1: not) */
	struct wsframe	 frame;
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
	struct monitor		*mon;		/* /metrics, the status line */
	struct lws_context	*ctx;
	struct lws_vhost	*vh;
	int			 port;
	/* listening sockets: ours, bound exactly to what was asked */
	int			 nlisten;
	int			 lfd[WSSERVER_MAX_LISTEN];
	struct lws		*lwsi[WSSERVER_MAX_LISTEN];
	int			 adopted[WSSERVER_MAX_LISTEN];	/* lws
							   closes it */
	struct sockaddr_storage	 bound[WSSERVER_MAX_LISTEN];
	char			 host[256];	/* as given to --listen */
	char			**own;		/* this server's origins */
	int			 nown;
	int			 conn_budget;	/* connections at most */
	int			 fd_limit, fd_used, fd_reserve;
	int			 nconns;	/* wsi alive (loop thread) */
	int			 accept_paused;
	int			 spare;		/* a descriptor held back to
						   refuse with when out of them */
	double			 accept_logged;
	unsigned long		 accept_errors;
	lws_sorted_usec_list_t	 sul_accept, sul_sweep;
	atomic_int		 draining;	/* set by wsserver_shutdown() */
	int			 live_clients;	/* nclients, for other threads
						   (__atomic) */
	pthread_t		 thread;
	atomic_int		 stop;		/* set by wsserver_stop() */
	int			 sub;
	double			 started;

	pthread_mutex_t		 lock;		/* pending */
	struct msg		*pending, *pending_tail;

	/* loop thread only */
	struct client		*clients;
	int			 nclients;
	int			 max_clients;	/* effective */
	lws_sorted_usec_list_t	 sul_heartbeat;
	unsigned long		 kicked;	/* slow consumers disconnected */
	lws_sorted_usec_list_t	 sul_alive;	/* cfg.alive's timer */
	char			 status_sent[MONITOR_STATUS_MAX];

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
wsserver_sa_is_loopback(const struct sockaddr *sa)
{
	const struct in6_addr	*a6;

	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6) {
		a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a6) || (IN6_IS_ADDR_V4MAPPED(a6) &&
		    a6->s6_addr[12] == 127);
	}
	return 0;
}

int
wsserver_is_loopback(const char *addr)
{
	struct sockaddr_in	 s4;
	struct sockaddr_in6	 s6;

	memset(&s4, 0, sizeof s4);
	memset(&s6, 0, sizeof s6);
	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		return wsserver_sa_is_loopback((struct sockaddr *)&s4);
	}
	if (inet_pton(AF_INET6, addr, &s6.sin6_addr) == 1) {
		s6.sin6_family = AF_INET6;
		return wsserver_sa_is_loopback((struct sockaddr *)&s6);
	}
	return 0;
}

int
wsserver_resolve(const char *listen, struct wsserver_addrs *out, char *err,
    size_t errlen)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	char		 addr[256], p[16];
	int		 port, gai, i, dup;

	memset(out, 0, sizeof *out);
	if (wsserver_parse_listen(listen, addr, sizeof addr, &port, err,
	    errlen) != 0)
		return -1;
	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(p, sizeof p, "%d", port);
	if ((gai = getaddrinfo(addr, p, &hints, &res)) != 0) {
		snprintf(err, errlen, "--listen %s: cannot resolve \"%s\": %s",
		    listen, addr, gai_strerror(gai));
		return -1;
	}
	for (ai = res; ai != NULL && out->n < WSSERVER_MAX_LISTEN;
	    ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof out->a[0])
			continue;
		for (i = dup = 0; i < out->n; i++)
			dup |= out->len[i] == ai->ai_addrlen &&
			    memcmp(&out->a[i], ai->ai_addr, ai->ai_addrlen) == 0;
		if (dup)
			continue;
		memcpy(&out->a[out->n], ai->ai_addr, ai->ai_addrlen);
		out->len[out->n++] = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	if (out->n == 0) {
		snprintf(err, errlen, "--listen %s: \"%s\" has no IPv4 or IPv6 "
		    "address", listen, addr);
		return -1;
	}
	return 0;
}

void
wsserver_format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	char	a[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
		snprintf(buf, len, "[%s]:%d", a, ntohs(s6->sin6_port));
	} else if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
		snprintf(buf, len, "%s:%d", a, ntohs(s4->sin_port));
	} else
		snprintf(buf, len, "?");
}

int
wsserver_token_equal(const char *secret, const char *given, size_t given_len)
{
	return util_secret_equal(secret, given, given_len);
}

/* ---- listening ---- */

/*
 * Bind and listen on every resolved address, exactly (IPv6 sockets are
 * V6ONLY: "[::1]" is not also 127.0.0.1). Port 0: the first bind picks the
 * port, the others take the same. Then the rule rests on what was really
 * bound: off loopback, a token.
 */
static int
listen_bind(struct wsserver *srv, const struct wsserver_addrs *ad,
    int has_token, char *err, size_t errlen)
{
	struct sockaddr_storage	 sa;
	socklen_t		 sl;
	char			 a[INET6_ADDRSTRLEN + 16];
	int			 i, fd, one = 1, port = 0;

	for (i = 0; i < ad->n; i++) {
		memcpy(&sa, &ad->a[i], ad->len[i]);
		if (i > 0 && port != 0) {
			if (sa.ss_family == AF_INET6)
				((struct sockaddr_in6 *)&sa)->sin6_port =
				    htons((uint16_t)port);
			else
				((struct sockaddr_in *)&sa)->sin_port =
				    htons((uint16_t)port);
		}
		wsserver_format_addr((struct sockaddr *)&sa, a, sizeof a);
		fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(err, errlen, "cannot listen on %s: %s", a,
			    strerror(errno));
			return -1;
		}
		srv->lfd[srv->nlisten++] = fd;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (sa.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof one);
		if (bind(fd, (struct sockaddr *)&sa, ad->len[i]) != 0 ||
		    listen(fd, 511) != 0) {
			int e = errno;
			snprintf(err, errlen, "cannot listen on %s: %s", a,
			    e == EADDRINUSE ? "the port is in use" :
			    e == EADDRNOTAVAIL ? "the address is not on this "
			    "host" : e == EACCES ? "permission denied (ports "
			    "below 1024 need privileges)" : strerror(e));
			return -1;
		}
		sl = sizeof srv->bound[i];
		if (getsockname(fd, (struct sockaddr *)&srv->bound[i],
		    &sl) != 0) {
			snprintf(err, errlen, "cannot listen on %s: %s", a,
			    strerror(errno));
			return -1;
		}
		wsserver_format_addr((struct sockaddr *)&srv->bound[i], a,
		    sizeof a);
		if (!has_token && !wsserver_sa_is_loopback(
		    (struct sockaddr *)&srv->bound[i])) {
			snprintf(err, errlen, "refusing to listen on %s without "
			    "a token: a non-loopback address needs --token-file "
			    "FILE", a);
			return -1;
		}
		if (i == 0)
			port = srv->bound[0].ss_family == AF_INET6 ?
			    ntohs(((struct sockaddr_in6 *)&srv->bound[0])->
			    sin6_port) : ntohs(((struct sockaddr_in *)
			    &srv->bound[0])->sin_port);
	}
	srv->port = port;
	return 0;
}

/* Origins a page served by this server has: scheme://host:port for the
 * name given to --listen and every bound address, and the loopback names
 * when bound to loopback (a browser may call it localhost or 127.0.0.1). */
static void
own_origins(struct wsserver *srv, int tls)
{
	const char	*scheme = tls ? "https" : "http";
	char		 hosts[WSSERVER_MAX_LISTEN + 4][INET6_ADDRSTRLEN + 2];
	char		 o[512], a[INET6_ADDRSTRLEN + 16], *c;
	int		 nh = 0, i, j, loop = 0, dup, def;

	snprintf(hosts[nh++], sizeof hosts[0], strchr(srv->host, ':') ?
	    "[%s]" : "%s", srv->host);
	for (i = 0; i < srv->nlisten; i++) {
		wsserver_format_addr((struct sockaddr *)&srv->bound[i], a,
		    sizeof a);
		if ((c = strrchr(a, ':')) != NULL)
			*c = '\0';
		snprintf(hosts[nh++], sizeof hosts[0], "%s", a);
		loop |= wsserver_sa_is_loopback((struct sockaddr *)
		    &srv->bound[i]);
	}
	if (loop) {
		snprintf(hosts[nh++], sizeof hosts[0], "localhost");
		snprintf(hosts[nh++], sizeof hosts[0], "127.0.0.1");
		snprintf(hosts[nh++], sizeof hosts[0], "[::1]");
	}
	def = srv->port == (tls ? 443 : 80);
	srv->own = calloc((size_t)nh * 2, sizeof *srv->own);
	for (i = 0; srv->own != NULL && i < nh; i++) {
		for (j = dup = 0; j < i; j++)
			dup |= strcmp(hosts[i], hosts[j]) == 0;
		if (dup)
			continue;
		snprintf(o, sizeof o, "%s://%s:%d", scheme, hosts[i],
		    srv->port);
		srv->own[srv->nown++] = strdup(o);
		if (def) {	/* browsers leave the default port out */
			snprintf(o, sizeof o, "%s://%s", scheme, hosts[i]);
			srv->own[srv->nown++] = strdup(o);
		}
	}
}

/* Say what is wrong with the TLS files before lws does it vaguely. */
static int
no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf; (void)size; (void)rw; (void)u;
	return 0;
}

int
wsserver_check_tls(const char *cert, const char *key, char *err,
    size_t errlen)
{
	char		 e[512];
	FILE		*f;
	X509		*x = NULL;
	EVP_PKEY	*k = NULL;
	int		 rc = -1;

	/* Regular files only: a FIFO would block the opening for ever. */
	if (util_check_regular(cert, e, sizeof e) != 0) {
		snprintf(err, errlen, "--tls-cert: %s", e);
		return -1;
	}
	if (util_check_regular(key, e, sizeof e) != 0) {
		snprintf(err, errlen, "--tls-key: %s", e);
		return -1;
	}
	if ((f = fopen(cert, "r")) == NULL) {
		snprintf(err, errlen, "--tls-cert %s: %s", cert,
		    strerror(errno));
		return -1;
	}
	x = PEM_read_X509(f, NULL, no_passphrase, NULL);
	fclose(f);
	if (x == NULL) {
		snprintf(err, errlen, "--tls-cert %s: not a PEM certificate",
		    cert);
		goto out;
	}
	if ((f = fopen(key, "r")) == NULL) {
		snprintf(err, errlen, "--tls-key %s: %s", key,
		    strerror(errno));
		goto out;
	}
	k = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
	fclose(f);
	if (k == NULL) {
		snprintf(err, errlen, "--tls-key %s: not a PEM private key "
		    "(or protected by a passphrase)", key);
		goto out;
	}
	if (X509_check_private_key(x, k) != 1) {
		snprintf(err, errlen, "--tls-key %s does not match the "
		    "certificate %s", key, cert);
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

/* Descriptors open now (the engine, the store, the loops, ours). */
static int
fds_open(void)
{
	DIR		*d = opendir("/proc/self/fd");
	struct dirent	*e;
	int		 n = 0;

	if (d == NULL)
		return 64;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own */
}

/* ---- unmasked frames (see struct wsframe) ---- */

static struct wsframe	**frames;	/* by fd; allocated once, kept */
static int		  nframes;
static pthread_mutex_t	  frames_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t	  recv_once = PTHREAD_ONCE_INIT;
static ssize_t		(*real_recv)(int, void *, size_t, int);

static void
recv_init(void)
{
	real_recv = (ssize_t (*)(int, void *, size_t, int))dlsym(RTLD_NEXT,
	    "recv");
}

static void
frames_init(int n)
{
	pthread_mutex_lock(&frames_lock);
	if (frames == NULL && n > 0 && (frames = calloc((size_t)n,
	    sizeof *frames)) != NULL)
		__atomic_store_n(&nframes, n, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&frames_lock);
}

static void
frame_scan(struct wsframe *f, const unsigned char *p, size_t n)
{
	size_t	k;

	while (n > 0 && !f->bad) {
		switch (f->state) {
		case F_HDR0:		/* FIN, RSV, opcode */
			f->state = F_HDR1;
			p++, n--;
			break;
		case F_HDR1:		/* MASK, length */
			if (!(*p & 0x80)) {
				f->bad = 1;
				return;
			}
			f->left = *p & 0x7f;
			f->need = f->left == 126 ? 2 : f->left == 127 ? 8 : 0;
			if (f->need > 0)
				f->left = 0;
			f->state = f->need > 0 ? F_LEN : F_KEY;
			if (f->need == 0)
				f->need = 4;
			p++, n--;
			break;
		case F_LEN:
			f->left = f->left << 8 | *p;
			p++, n--;
			if (--f->need == 0) {
				f->need = 4;
				f->state = F_KEY;
			}
			break;
		case F_KEY:
			p++, n--;
			if (--f->need == 0)
				f->state = f->left > 0 ? F_PAYLOAD : F_HDR0;
			break;
		default:		/* F_PAYLOAD */
			k = n < f->left ? n : (size_t)f->left;
			p += k;
			n -= k;
			f->left -= k;
			if (f->left == 0)
				f->state = F_HDR0;
		}
	}
}

/* The process's recv(): lws's plain sockets are read through it. */
ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	struct wsframe	*f;
	ssize_t		 n;

	pthread_once(&recv_once, recv_init);
	if (real_recv == NULL) {
		errno = ENOSYS;
		return -1;
	}
	n = real_recv(fd, buf, len, flags);
	if (n > 0 && !(flags & MSG_PEEK) && fd >= 0 &&
	    fd < __atomic_load_n(&nframes, __ATOMIC_ACQUIRE) &&
	    (f = __atomic_load_n(&frames[fd], __ATOMIC_ACQUIRE)) != NULL &&
	    pthread_equal(f->owner, pthread_self()))
		frame_scan(f, buf, (size_t)n);
	return n;
}

static void
frame_follow(struct client *c, int fd)
{
	c->fd = -1;
	if (fd < 0 || fd >= __atomic_load_n(&nframes, __ATOMIC_ACQUIRE))
		return;
	memset(&c->frame, 0, sizeof c->frame);
	c->frame.owner = pthread_self();
	c->fd = fd;
	__atomic_store_n(&frames[fd], &c->frame, __ATOMIC_RELEASE);
}

static void
frame_unfollow(struct client *c)
{
	struct wsframe	*mine = &c->frame;

	if (c->fd >= 0)
		__atomic_compare_exchange_n(&frames[c->fd], &mine, NULL, 0,
		    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	c->fd = -1;
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

	/* Every event counts for /metrics, broadcast or not. */
	monitor_event(srv->mon, name, data);
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

/* ---- the service manager (cfg.alive, cfg.status) ---- */

/* The loop turns: say so. Only this timer calls alive(), so a loop that
 * stalls (a callback that blocks) stops the calls. */
static void
alive_tick(lws_sorted_usec_list_t *sul)
{
	struct wsserver	*srv = lws_container_of(sul, struct wsserver,
	    sul_alive);

	srv->cfg.alive(srv->cfg.service_ctx);
	lws_sul_schedule(srv->ctx, 0, &srv->sul_alive, alive_tick,
	    (lws_usec_t)(srv->cfg.alive_interval * LWS_USEC_PER_SEC));
}

/* After events: the status line, when it changed. */
static void
status_tick(struct wsserver *srv)
{
	char	line[MONITOR_STATUS_MAX];

	if (srv->cfg.status == NULL)
		return;
	monitor_status(srv->mon, line, sizeof line);
	if (strcmp(line, srv->status_sent) == 0)
		return;
	memcpy(srv->status_sent, line, sizeof line);
	srv->cfg.status(srv->cfg.service_ctx, line);
}

void
wsserver_status(struct wsserver *srv, char *buf, size_t len)
{
	monitor_status(srv->mon, buf, len);
}

/* ---- access checks ---- */

/* "Authorization: Bearer T" */
static int
token_header_ok(struct wsserver *srv, struct lws *wsi)
{
	char	buf[WSSERVER_TOKEN_MAX + 32];
	int	n;

	n = lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_AUTHORIZATION);
	return n > 7 && strncasecmp(buf, "Bearer ", 7) == 0 &&
	    wsserver_token_equal(srv->token, buf + 7, (size_t)n - 7);
}

static int
token_ok(struct wsserver *srv, struct lws *wsi)
{
	char		 buf[WSSERVER_TOKEN_MAX + 32];
	const char	*v;

	if (srv->token == NULL || token_header_ok(srv, wsi))
		return 1;
	v = lws_get_urlarg_by_name(wsi, "token=", buf, sizeof buf);
	if (v != NULL && wsserver_token_equal(srv->token, v, strlen(v)))
		return 1;
	return 0;
}

/*
 * Cross-site WebSocket hijacking: a page from any site open in the
 * operator's browser could otherwise drive the recorder. Browsers always
 * send Origin; it must be this server's own (the built-in page) or one
 * allowed with --allow-origin. Own means a host name this server was asked
 * to listen on or bound, not whatever Host says (DNS rebinding would make
 * them equal); with a token the page cannot be foreign without it, so
 * scheme://Host is own too.
 */
static int
origin_ok(struct wsserver *srv, struct lws *wsi)
{
	char	buf[512], host[300], o[320];
	int	i, n;

	n = lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_ORIGIN);
	if (n <= 0 && lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0)
		return 1;	/* not a browser: no cross-site risk */
	if (n <= 0)
		return 0;	/* present but too long */
	for (i = 0; i < srv->cfg.norigins; i++)
		if (strcmp(srv->origins[i], buf) == 0)
			return 1;
	for (i = 0; i < srv->nown; i++)
		if (srv->own[i] != NULL && strcmp(srv->own[i], buf) == 0)
			return 1;
	if (srv->token != NULL && lws_hdr_copy(wsi, host, sizeof host,
	    WSI_TOKEN_HOST) > 0) {
		snprintf(o, sizeof o, "%s://%s", srv->cfg.tls_cert != NULL ?
		    "https" : "http", host);
		if (strcmp(o, buf) == 0)
			return 1;
	}
	return 0;
}

/* An upgrade request: refused with an HTTP status that says why. */
static int
confirm_upgrade(struct wsserver *srv, struct lws *wsi)
{
	char		 uri[64];
	unsigned int	 st = 0;
	const char	*why = NULL;

	if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
	    strcmp(uri, "/ws") != 0) {
		st = HTTP_STATUS_NOT_FOUND;
		why = "the WebSocket endpoint is /ws";
	} else if (!token_ok(srv, wsi)) {
		st = HTTP_STATUS_UNAUTHORIZED;
		why = "a token is required (Authorization: Bearer T or ?token=T)";
	} else if (!origin_ok(srv, wsi)) {
		st = HTTP_STATUS_FORBIDDEN;
		why = "this Origin is not allowed (serve --allow-origin ORIGIN)";
	} else if (srv->draining) {
		st = HTTP_STATUS_SERVICE_UNAVAILABLE;
		why = "the server is shutting down";
	} else if (srv->nclients >= srv->max_clients) {
		st = HTTP_STATUS_SERVICE_UNAVAILABLE;
		why = "too many clients (serve --max-clients)";
	}
	if (st == 0)
		return 0;
	if (lws_return_http_status(wsi, st, why) != 0)
		return -1;
	return 1;
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

/* ---- /metrics ---- */

static char *
metrics_text(struct wsserver *srv, size_t *len)
{
	struct monitor_scrape	 sc;
	json_t			*central = NULL;
	char			*s;

	memset(&sc, 0, sizeof sc);
	sc.clients = srv->nclients;
	sc.max_clients = srv->max_clients;
	sc.clients_dropped = srv->kicked;
	if (srv->cfg.central != NULL)
		central = srv->cfg.central(srv->cfg.central_ctx);
	sc.central = central;
	s = monitor_render(srv->mon, &sc, len);
	json_decref(central);
	return s;
}

static void *
prober_main(void *arg)
{
	struct wsserver	*srv = arg;
	struct timespec	 ts;
	char		 at[40];
	int		 n;

	pthread_mutex_lock(&srv->plock);
	while (!srv->pstop) {
		pthread_mutex_unlock(&srv->plock);
		/* the shared probe (src/engine/probe.h): TCP only, as a
		 * periodic check must not take the receivers' slots */
		n = probe_tcp(srv->cfg.stations, 2.0, NULL);
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
	if (strcmp(uri, "/metrics") == 0) {
		/* The token from the header only: a scraper has it in its
		 * configuration (Prometheus: authorization), never in a URL
		 * that lands in logs. */
		if (srv->token != NULL && !token_header_ok(srv, wsi))
			return http_error(wsi, pss, HTTP_STATUS_UNAUTHORIZED,
			    "a token is required (Authorization: Bearer T)");
		if ((s = metrics_text(srv, &len)) == NULL)
			return 1;
		return http_respond(wsi, pss, HTTP_STATUS_OK,
		    "text/plain; version=0.0.4; charset=utf-8",
		    (const unsigned char *)s, len, s);
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
	__atomic_store_n(&srv->live_clients, srv->nclients, __ATOMIC_RELEASE);
	frame_unfollow(c);
	while (c->qlen > 0) {
		msg_unref(c->q[c->qhead]);
		c->qhead = (c->qhead + 1) % srv->cfg.queue_max;
		c->qlen--;
	}
	free(c->q);
	free(c->rx);
	free(c);
}

/* Close with code once what is queued is written. */
static void
client_close(struct client *c, int code, const char *why)
{
	if (c->close_code != 0 || c->dead)
		return;
	c->close_code = code;
	c->close_why = why;
	lws_callback_on_writable(c->wsi);
	/* If it never reads what is queued either, do not wait forever. */
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 5);
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
	if (close_after)
		client_close(c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
		    "message too large");
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
	if (c->frame.bad) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_PROTOCOL_ERR,
		    (unsigned char *)"unmasked frame", 14);
		return -1;
	}
	now = util_mono();
	c->t_rx = now;
	c->ping_sent = 0;
	if (!c->partial)
		c->t_partial = now;
	c->partial = !final;
	if (c->dead || c->close_code)
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
	if (c->ping_due) {
		/* lws 4.1 reports no empty pong: give it a payload */
		unsigned char	ping[LWS_PRE + 4];

		memcpy(ping + LWS_PRE, "idle", 4);
		c->ping_due = 0;
		c->ping_sent = 1;
		if (lws_write(wsi, ping + LWS_PRE, 4, LWS_WRITE_PING) < 0)
			return -1;
		if (c->qlen > 0 || c->close_code)
			lws_callback_on_writable(wsi);
		return 0;
	}
	if (c->qlen == 0) {
		if (c->close_code) {
			lws_close_reason(wsi, (enum lws_close_status)
			    c->close_code, (unsigned char *)c->close_why,
			    strlen(c->close_why));
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
	if (c->qlen > 0 || c->close_code)
		lws_callback_on_writable(wsi);
	return 0;
}

/* ---- accepting (our listening sockets, adopted as raw descriptors) ---- */

static void
accept_resume(lws_sorted_usec_list_t *sul)
{
	struct wsserver	*srv = lws_container_of(sul, struct wsserver,
	    sul_accept);
	int		 i;

	srv->accept_paused = 0;
	for (i = 0; i < srv->nlisten; i++)
		if (srv->lwsi[i] != NULL)
			lws_rx_flow_control(srv->lwsi[i], 1);
}

/* At most one line per ACCEPT_LOG_EVERY, however often it happens. */
static void
accept_log(struct wsserver *srv, int e, const char *what)
{
	double	now = util_mono();

	srv->accept_errors++;
	if (srv->accept_logged == 0 ||
	    now - srv->accept_logged >= ACCEPT_LOG_EVERY) {
		fprintf(stderr, "heimdall-rec: server: accept: %s: %s (%lu "
		    "such errors so far)\n", strerror(e), what,
		    srv->accept_errors);
		srv->accept_logged = now;
	}
}

/* Out of descriptors (or memory): stop polling the listeners for a moment
 * instead of waking up for the same error thousands of times a second. */
static void
accept_pause(struct wsserver *srv, int e)
{
	int	i;

	accept_log(srv, e, "new connections wait 250 ms");
	if (srv->accept_paused)
		return;
	srv->accept_paused = 1;
	for (i = 0; i < srv->nlisten; i++)
		if (srv->lwsi[i] != NULL)
			lws_rx_flow_control(srv->lwsi[i], 0);
	lws_sul_schedule(srv->ctx, 0, &srv->sul_accept, accept_resume,
	    ACCEPT_PAUSE_US);
}

/* Over the connection budget: a plain answer, then the door. */
static void
refuse_raw(int fd)
{
#define REFUSAL	"too many connections: try again later\n"
	static const char r[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: text/plain\r\nConnection: close\r\n"
	    "Content-Length: 38\r\n\r\n" REFUSAL;
	_Static_assert(sizeof REFUSAL - 1 == 38, "Content-Length");
	ssize_t	n;

	n = send(fd, r, sizeof r - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)n;
	close(fd);
}

/*
 * Out of descriptors in this process: give the spare one back, take the
 * waiting connection with it, answer 503 and close, take the spare again.
 * The client learns why at once, and the queue drains instead of waking
 * the loop for ever. 0 if a connection was refused so.
 */
static int
refuse_with_spare(struct wsserver *srv, int lfd)
{
	int	fd;

	if (srv->spare < 0)
		return -1;
	close(srv->spare);
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0)
		refuse_raw(fd);
	srv->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0 ? 0 : -1;
}

/*
 * Another thread (the reachability prober, the engine's drivers, the
 * store) may take the descriptor refuse_with_spare() gave back before it
 * is opened again; the spare is then missing, and without it every later
 * EMFILE could only pause. So it is taken again before each round of
 * accepts, as soon as a descriptor is free: a free descriptor goes to the
 * spare first, and the connection waiting for it is refused at once
 * instead of waiting for another one to close.
 */
static void
spare_retake(struct wsserver *srv)
{
	if (srv->spare < 0)
		srv->spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static void
on_accept(struct wsserver *srv, int lfd)
{
	int	i, fd, one = 1, e;

	spare_retake(srv);
	for (i = 0; i < 64; i++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			e = errno;
			if (e == EAGAIN || e == EWOULDBLOCK)
				return;
			if (e == EINTR || e == ECONNABORTED || e == EPROTO)
				continue;
			if (e == EMFILE && refuse_with_spare(srv, lfd) == 0) {
				accept_log(srv, e, "connections are refused "
				    "(503)");
				continue;
			}
			accept_pause(srv, e);
			return;
		}
		if (srv->nconns - srv->nlisten >= srv->conn_budget ||
		    srv->draining) {
			refuse_raw(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		/* On failure lws has closed fd (out of memory, its table
		 * full): pause as for accept errors. */
		if (lws_adopt_socket_vhost(srv->vh, fd) == NULL) {
			accept_pause(srv, ENOMEM);
			return;
		}
	}
}

/* ---- idle connections, pings, closes requested from other threads ---- */

static void
sweep(lws_sorted_usec_list_t *sul)
{
	struct wsserver	*srv = lws_container_of(sul, struct wsserver,
	    sul_sweep);
	struct client	*c;
	double		 now = util_mono(), idle = srv->cfg.conn_timeout;

	for (c = srv->clients; c != NULL; c = c->next) {
		if (c->dead || c->close_code)
			continue;
		if (c->frame.bad)
			client_close(c, LWS_CLOSE_STATUS_PROTOCOL_ERR,
			    "unmasked frame");
		else if (srv->draining)
			client_close(c, LWS_CLOSE_STATUS_GOINGAWAY,
			    "server shutting down");
		else if (c->partial && now - c->t_partial > idle)
			client_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			    "message not completed in time");
		else if (now - c->t_rx > 2 * idle) {
			/* Not even a pong: gone, or stuck mid-frame. */
			c->dead = 1;
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
			    LWS_TO_KILL_ASYNC);
		} else if (now - c->t_rx > idle && !c->ping_sent &&
		    !c->ping_due) {
			c->ping_due = 1;
			lws_callback_on_writable(c->wsi);
		}
	}
	lws_sul_schedule(srv->ctx, 0, &srv->sul_sweep, sweep,
	    srv->draining ? 20 * LWS_US_PER_MS : (lws_usec_t)(idle < 4 ?
	    idle / 4 * LWS_US_PER_SEC : LWS_US_PER_SEC));
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct wsserver	*srv = lws_context_user(lws_get_context(wsi));
	struct pss	*pss = user;
	struct client	*c;
	int		 i;

	switch (reason) {
	case LWS_CALLBACK_WSI_CREATE:
		if (srv != NULL)
			srv->nconns++;
		return 0;
	case LWS_CALLBACK_WSI_DESTROY:
		if (srv != NULL)
			srv->nconns--;
		return 0;
	case LWS_CALLBACK_RAW_RX_FILE:
		/* a listening socket is readable: connections wait */
		for (i = 0; srv != NULL && i < srv->nlisten; i++)
			if (srv->lwsi[i] == wsi)
				on_accept(srv, srv->lfd[i]);
		return 0;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		for (i = 0; srv != NULL && i < srv->nlisten; i++)
			if (srv->lwsi[i] == wsi)
				srv->lwsi[i] = NULL;
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (srv != NULL) {
			drain_pending(srv);
			status_tick(srv);
			if (srv->draining)
				lws_sul_schedule(srv->ctx, 0, &srv->sul_sweep,
				    sweep, 1);
		}
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
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		return confirm_upgrade(srv, wsi);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* Checked with an HTTP answer at CONFIRM_UPGRADE; this is
		 * the last word (lws drops without one). */
		return srv->nclients >= srv->max_clients || srv->draining;
	case LWS_CALLBACK_ESTABLISHED:
		c = calloc(1, sizeof *c);
		if (c == NULL || (c->q = calloc((size_t)srv->cfg.queue_max,
		    sizeof *c->q)) == NULL) {
			free(c);
			return -1;
		}
		c->wsi = wsi;
		c->tokens = RATE_BURST;
		c->t_tokens = c->t_rx = util_mono();
		c->fd = -1;
		if (!lws_is_ssl(wsi))
			frame_follow(c, (int)lws_get_socket_fd(wsi));
		c->next = srv->clients;
		if (srv->clients != NULL)
			srv->clients->prev = c;
		srv->clients = c;
		srv->nclients++;
		__atomic_store_n(&srv->live_clients, srv->nclients,
		    __ATOMIC_RELEASE);
		pss->c = c;
		wsapi_welcome(srv->api, reply_to, c);
		return 0;
	case LWS_CALLBACK_RECEIVE:
		if (pss == NULL || pss->c == NULL)
			return -1;
		return ws_receive(srv, wsi, pss->c, in, len);
	case LWS_CALLBACK_RECEIVE_PONG:
		if (pss != NULL && pss->c != NULL) {
			if (pss->c->frame.bad) {
				lws_close_reason(wsi,
				    LWS_CLOSE_STATUS_PROTOCOL_ERR,
				    (unsigned char *)"unmasked frame", 14);
				return -1;
			}
			pss->c->t_rx = util_mono();
			pss->c->ping_sent = 0;
		}
		return 0;
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
	/* our listening sockets, adopted as raw descriptors */
	{ "heimdall-listen", callback, 0, 0, 0, NULL, 0 },
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
	for (i = 0; i < srv->nown; i++)
		free(srv->own[i]);
	free(srv->own);
	if (srv->spare >= 0)
		close(srv->spare);
	/* listening sockets lws has not adopted (it closes the others) */
	for (i = 0; i < srv->nlisten; i++)
		if (srv->lfd[i] >= 0 && !srv->adopted[i])
			close(srv->lfd[i]);
}

/*
 * How many connections the descriptors allow: the open-file limit, minus
 * what is open now, minus the reserve for the engine and the store; the
 * WebSocket clients leave HTTP_SLACK of those to plain HTTP.
 */
static void
fd_budget(struct wsserver *srv)
{
	struct rlimit	rl;

	srv->fd_limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)1 << 30 ?
	    (int)rl.rlim_cur : 1 << 20;
	srv->fd_used = fds_open();
	/* Connections never take what the engine and the store need at
	 * their peak (engine_fds_needed, the estimate record's exit 71 rests
	 * on). Part of it (the loop, the dataset) is open already and counted
	 * in fd_used too: the reserve errs on the engine's side. */
	srv->fd_reserve = (int)engine_fds_needed(srv->cfg.stations->n);
	srv->conn_budget = srv->fd_limit - srv->fd_used - srv->fd_reserve;
	if (srv->conn_budget < 2)
		srv->conn_budget = 2;
	srv->max_clients = srv->cfg.max_clients;
	if (srv->max_clients > srv->conn_budget - HTTP_SLACK)
		srv->max_clients = srv->conn_budget - HTTP_SLACK;
	if (srv->max_clients < 1)
		srv->max_clients = 1;
}

struct wsserver *
wsserver_start(const struct wsserver_config *cfg, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	struct wsserver_addrs ad;
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
	    errlen) != 0 || wsserver_resolve(cfg->listen != NULL ?
	    cfg->listen : WSSERVER_DEFAULT_LISTEN, &ad, err, errlen) != 0)
		return NULL;
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
	if (cfg->tls_cert != NULL && wsserver_check_tls(cfg->tls_cert,
	    cfg->tls_key, err, errlen) != 0)
		return NULL;
	if (cfg->norigins > WSSERVER_MAX_ORIGINS) {
		snprintf(err, errlen, "at most %d --allow-origin",
		    WSSERVER_MAX_ORIGINS);
		return NULL;
	}
	if ((srv = calloc(1, sizeof *srv)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	srv->cfg = *cfg;
	srv->cfg.listen = NULL;
	srv->cfg.origins = NULL;
	srv->cfg.token = NULL;
	snprintf(srv->host, sizeof srv->host, "%s", addr);
	for (i = 0; i < WSSERVER_MAX_LISTEN; i++)
		srv->lfd[i] = -1;
	srv->spare = -1;
	srv->token = cfg->token != NULL ? strdup(cfg->token) : NULL;
	srv->origins = calloc((size_t)cfg->norigins + 1, sizeof *srv->origins);
	for (i = 0; srv->origins != NULL && i < cfg->norigins; i++)
		srv->origins[i] = strdup(cfg->origins[i]);
	if (listen_bind(srv, &ad, srv->token != NULL && srv->token[0] != '\0',
	    err, errlen) != 0) {
		free_config(srv);
		free(srv);
		return NULL;
	}
	own_origins(srv, cfg->tls_cert != NULL);
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
	if (srv->cfg.conn_timeout <= 0)
		srv->cfg.conn_timeout = 30;
	srv->reachable = -1;
	srv->started = util_mono();
	pthread_mutex_init(&srv->lock, NULL);
	pthread_mutex_init(&srv->plock, NULL);
	pthread_cond_init(&srv->pcond, NULL);
	{
		struct wsapi_config ac = { cfg->eng, cfg->ds, cfg->stations,
		    cfg->sched };
		srv->api = wsapi_new(&ac);
	}
	if ((srv->mon = monitor_new(cfg->stations)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}

	memset(&info, 0, sizeof info);
	/* No listener of lws' own: ours are adopted below. */
	info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
	info.protocols = protocols;
	info.user = srv;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	/* A request must arrive whole within the idle timeout. */
	info.timeout_secs = (unsigned int)(srv->cfg.conn_timeout + 0.999);
	info.keepalive_timeout = (int)info.timeout_secs;
	info.timeout_secs_ah_idle = info.timeout_secs;	/* headers pending */
	info.max_http_header_pool = 64;
	info.pt_serv_buf_size = 32 * 1024;
	if (cfg->tls_cert != NULL) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cfg->tls_cert;
		info.ssl_private_key_filepath = cfg->tls_key;
	}
	srv->ctx = lws_create_context(&info);
	if (srv->ctx == NULL) {
		snprintf(err, errlen, "cannot start the server on %s:%d%s", addr,
		    srv->port, cfg->tls_cert != NULL ? " (TLS set-up failed)" :
		    "");
		goto fail;
	}
	srv->vh = lws_get_vhost_by_name(srv->ctx, "default");
	for (i = 0; srv->vh != NULL && i < srv->nlisten; i++) {
		lws_sock_file_fd_type u;

		u.filefd = srv->lfd[i];
		srv->lwsi[i] = lws_adopt_descriptor_vhost(srv->vh,
		    LWS_ADOPT_RAW_FILE_DESC, u, "heimdall-listen", NULL);
		if (srv->lwsi[i] == NULL)
			break;
		srv->adopted[i] = 1;
	}
	if (srv->vh == NULL || i < srv->nlisten) {
		snprintf(err, errlen, "cannot serve on %s:%d", addr, srv->port);
		lws_context_destroy(srv->ctx);
		goto fail;
	}
	spare_retake(srv);
	/* The budget counts what the engine, the store and lws hold now. */
	fd_budget(srv);
	frames_init(srv->fd_limit);
	srv->sub = events_subscribe(cfg->ev, on_event, srv);
	lws_sul_schedule(srv->ctx, 0, &srv->sul_heartbeat, heartbeat,
	    (lws_usec_t)(srv->cfg.heartbeat * LWS_USEC_PER_SEC));
	lws_sul_schedule(srv->ctx, 0, &srv->sul_sweep, sweep, LWS_US_PER_SEC);
	if (srv->cfg.alive != NULL && srv->cfg.alive_interval > 0)
		lws_sul_schedule(srv->ctx, 0, &srv->sul_alive, alive_tick,
		    (lws_usec_t)(srv->cfg.alive_interval * LWS_USEC_PER_SEC));
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
	monitor_free(srv->mon);
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

int
wsserver_bound(const struct wsserver *srv, int i, char *buf, size_t len)
{
	if (i >= 0 && i < srv->nlisten && buf != NULL)
		wsserver_format_addr((const struct sockaddr *)&srv->bound[i],
		    buf, len);
	return srv->nlisten;
}

int
wsserver_max_clients(const struct wsserver *srv, char *why, size_t len)
{
	if (why != NULL && len > 0)
		why[0] = '\0';
	if (why != NULL && srv->max_clients < srv->cfg.max_clients)
		snprintf(why, len, "--max-clients %d lowered to %d: the "
		    "open-file limit is %d, %d are open and %d stay reserved "
		    "for the receivers and the store (raise ulimit -n)",
		    srv->cfg.max_clients, srv->max_clients, srv->fd_limit,
		    srv->fd_used, srv->fd_reserve);
	return srv->max_clients;
}

void
wsserver_shutdown(struct wsserver *srv, double wait)
{
	double	t0 = util_mono();

	if (srv == NULL)
		return;
	srv->draining = 1;
	lws_cancel_service(srv->ctx);
	while (__atomic_load_n(&srv->live_clients, __ATOMIC_ACQUIRE) > 0 &&
	    util_mono() - t0 < wait)
		usleep(10000);
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
	monitor_free(srv->mon);
	pthread_mutex_destroy(&srv->lock);
	pthread_mutex_destroy(&srv->plock);
	pthread_cond_destroy(&srv->pcond);
	free_config(srv);
	free(srv);
}
