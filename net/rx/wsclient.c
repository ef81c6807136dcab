/* wsclient.c -- WebSocket client framing (RFC 6455) on an lws raw socket: handshake, bulk frame parsing, masked writes. */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <sys/random.h>

#include <pthread.h>

#include <libwebsockets.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "net/rx/wsclient.h"

#define WSC_GUID	"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WSC_MAX_HDR	8192	/* upgrade response head */
#define WSC_OUTQ	32
#define WSC_UPGRADE_S	5	/* connected: TLS + upgrade must be done by */
/* What the receive buffer may hold: one whole largest frame (payload +
 * 14 header bytes) plus one read of the next bytes (lws reads at most its
 * service buffer, 4 KiB by default; 64 KiB is far above any setting). */
#define WSC_INBUF_MAX	(WSC_MAX_MSG + 14 + 65536)
#define WSC_PIECE	2048	/* bytes appended at a time to complete a
				   buffered frame (feed) */
#define WSC_INBUF_KEEP	16384	/* kept allocated when empty; larger is
				   freed once parsed */

struct wsc {
	struct lws	*wsi;
	struct wsc_ops	 ops;
	void		*ctx;
	char		 key[32];	/* Sec-WebSocket-Key sent */
	char		 req[1024];	/* the upgrade request */
	int		 upgraded;
	int		 detached;	/* wsc_close(): no more callbacks */
	int		 dying;		/* close after the queue is written */
	int		 notified;
	int		 in_connect;	/* inside lws_client_connect_via_info */
	int		 failed;	/* ...and it failed there */
	lws_usec_t	 t_connected;	/* TCP up (lws clock) */
	char		 why[200];

	unsigned char	*in;		/* received, not yet parsed */
	size_t		 inlen, incap;
	unsigned char	*msg;		/* fragmented message being joined */
	size_t		 msglen;
	int		 msgop;		/* its opcode, 0 if none */
	uint64_t	 skip;		/* payload bytes still to discard */
	int		 discarding;	/* the rest of an oversized message */

	unsigned char	*outq[WSC_OUTQ];	/* frames, LWS_PRE headroom */
	size_t		 outlen[WSC_OUTQ];
	int		 oq_head, oq_n;
	/* random bytes for the frames' masks, drawn 16 masks at a time:
	 * one getrandom() per frame was most of the recorder's system
	 * calls of that kind (a keepalive a second per receiver) */
	unsigned char	 rnd[64];
	size_t		 rnd_n;		/* unused, at the end of rnd */

	/* TLS: OpenSSL over memory BIOs; lws carries the records as raw
	 * bytes (see tls_ctx() for why not lws' own TLS). */
	SSL		*ssl;
	BIO		*rbio;		/* records received, for OpenSSL */
	BIO		*wbio;		/* records OpenSSL wants sent */
	int		 tls_up;	/* TLS handshake done */
};

static int	feed(struct wsc *, const unsigned char *, size_t);

static void
notify_closed(struct wsc *w)
{
	if (!w->notified && !w->detached) {
		w->notified = 1;
		w->ops.closed(w->ctx, w->why[0] ? w->why :
		    "connection closed by the receiver");
	}
}

static void
wsc_free(struct wsc *w)
{
	int	i;

	for (i = 0; i < w->oq_n; i++)
		free(w->outq[(w->oq_head + i) % WSC_OUTQ]);
	free(w->in);
	free(w->msg);
	SSL_free(w->ssl);	/* and its BIOs */
	free(w);
}

static void
set_why(struct wsc *w, const char *why)
{
	if (w->why[0] == '\0')
		snprintf(w->why, sizeof w->why, "%s", why);
}

/* Queue raw bytes (with LWS_PRE headroom) for the next WRITEABLE. */
static int
queue_raw(struct wsc *w, unsigned char *f, size_t n)
{
	int	slot;

	if (w->oq_n == WSC_OUTQ || w->wsi == NULL) {
		free(f);
		return -1;
	}
	slot = (w->oq_head + w->oq_n) % WSC_OUTQ;
	w->outq[slot] = f;
	w->outlen[slot] = n;
	w->oq_n++;
	lws_callback_on_writable(w->wsi);
	return 0;
}

/* Queue a frame (opcode op) with a fresh mask: clients must mask. */
static int
queue_frame(struct wsc *w, int op, const void *data, size_t n)
{
	unsigned char	*f, *p, mask[4];
	size_t		 hl = n < 126 ? 2 : n < 65536 ? 4 : 10, i;

	if (w->oq_n == WSC_OUTQ || w->wsi == NULL || n > WSC_MAX_MSG)
		return -1;
	f = malloc(LWS_PRE + hl + 4 + n);
	if (f == NULL)
		return -1;
	p = f + LWS_PRE;
	p[0] = (unsigned char)(0x80 | op);
	if (hl == 2)
		p[1] = (unsigned char)(0x80 | n);
	else if (hl == 4) {
		p[1] = 0x80 | 126;
		p[2] = (unsigned char)(n >> 8);
		p[3] = (unsigned char)n;
	} else {
		p[1] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			p[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
	}
	/* The mask only has to be unpredictable to scripts in browsers
	 * (RFC 6455 10.3); each is used once; rand() is the fallback if
	 * getrandom() fails. */
	if (w->rnd_n < sizeof mask) {
		if (getrandom(w->rnd, sizeof w->rnd, GRND_NONBLOCK) ==
		    (ssize_t)sizeof w->rnd)
			w->rnd_n = sizeof w->rnd;
		else
			for (i = 0; i < sizeof mask; i++)
				w->rnd[i] = (unsigned char)rand();
	}
	if (w->rnd_n >= sizeof mask) {
		w->rnd_n -= sizeof mask;
		memcpy(mask, w->rnd + w->rnd_n, sizeof mask);
	} else
		memcpy(mask, w->rnd, sizeof mask);
	memcpy(p + hl, mask, 4);
	for (i = 0; i < n; i++)
		p[hl + 4 + i] = ((const unsigned char *)data)[i] ^ mask[i & 3];
	return queue_raw(w, f, hl + 4 + n);
}

int
wsc_send_text(struct wsc *w, const char *s, size_t n)
{
	if (w->dying || !w->upgraded)
		return -1;
	return queue_frame(w, 1, s, n);
}

/* End at once (the queue is dropped): the error path. */
static void
kill_now(struct wsc *w, const char *why)
{
	set_why(w, why);
	w->dying = 1;
	if (w->wsi != NULL)
		lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
}

void
wsc_drop(struct wsc *w, const char *why)
{
	kill_now(w, why);
}

/* Send a close frame (code, or none if code is 0), then close the socket
 * once it is written; lws kills it after 1 s if the writes never drain. */
static void
close_gracefully(struct wsc *w, int code)
{
	unsigned char	c[2] = { (unsigned char)(code >> 8),
			    (unsigned char)code };

	if (w->wsi == NULL)
		return;
	if (!w->upgraded || queue_frame(w, 8, c, code ? 2 : 0) != 0) {
		kill_now(w, "closed");
		return;
	}
	w->dying = 1;
	lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, 1);
}

void
wsc_close(struct wsc *w, int code)
{
	w->detached = 1;
	if (w->wsi == NULL) {
		wsc_free(w);
		return;
	}
	close_gracefully(w, code);
}

/* The value of header name (with the colon) in the NUL-terminated
 * response head, trimmed, into out; -1 if absent. */
static int
header(const char *head, const char *name, char *out, size_t outlen)
{
	const char	*h, *e;
	size_t		 nl = strlen(name);

	for (h = head; (h = strchr(h, '\n')) != NULL; ) {
		h++;
		if (strncasecmp(h, name, nl) != 0)
			continue;
		h += nl;
		while (*h == ' ' || *h == '\t')
			h++;
		e = h + strcspn(h, "\r\n");
		while (e > h && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		snprintf(out, outlen, "%.*s", (int)(e - h), h);
		return 0;
	}
	return -1;
}

/* 1 if the comma-separated list v holds token tok (any case). */
static int
has_token(const char *v, const char *tok)
{
	size_t	tl = strlen(tok), n;

	while (*v != '\0') {
		while (*v == ' ' || *v == '\t' || *v == ',')
			v++;
		n = strcspn(v, ", \t");
		if (n == tl && strncasecmp(v, tok, tl) == 0)
			return 1;
		v += n;
	}
	return 0;
}

/*
 * Check the server's upgrade response (RFC 6455 4.1: the client fails the
 * connection unless every point holds). 1 done, 0 need more, -1 refused.
 */
static int
handshake(struct wsc *w)
{
	unsigned char	 sha[20];
	char		 want[64], val[128], why[200], *end, *eol;
	size_t		 hl, l;

	end = memmem(w->in, w->inlen, "\r\n\r\n", 4);
	if (end == NULL) {
		if (w->inlen > WSC_MAX_HDR) {
			kill_now(w, "upgrade response too large");
			return -1;
		}
		return 0;
	}
	hl = (size_t)(end - (char *)w->in) + 4;
	if (hl > WSC_MAX_HDR || memchr(w->in, '\0', hl) != NULL) {
		kill_now(w, "malformed upgrade response");
		return -1;
	}
	*end = '\0';
	if (strncmp((char *)w->in, "HTTP/1.1 101", 12) != 0 ||
	    (w->in[12] != ' ' && w->in[12] != '\0' && w->in[12] != '\r')) {
		eol = strchr((char *)w->in, '\r');
		if (eol != NULL)
			*eol = '\0';
		/* a redirect names its target: say where */
		if (eol != NULL && header(eol + 1, "location:", val,
		    sizeof val) == 0)
			snprintf(why, sizeof why, "upgrade refused: %.80s "
			    "(Location: %.80s)", (char *)w->in, val);
		else
			snprintf(why, sizeof why, "upgrade refused: %.100s",
			    (char *)w->in);
		kill_now(w, why);
		return -1;
	}
	if (header((char *)w->in, "upgrade:", val, sizeof val) != 0 ||
	    strcasecmp(val, "websocket") != 0) {
		kill_now(w, "upgrade response without \"Upgrade: websocket\"");
		return -1;
	}
	if (header((char *)w->in, "connection:", val, sizeof val) != 0 ||
	    !has_token(val, "upgrade")) {
		kill_now(w, "upgrade response without \"Connection: "
		    "Upgrade\"");
		return -1;
	}
	/* Sec-WebSocket-Accept = base64(SHA-1(key + GUID)): proves the
	 * server speaks WebSocket and read our request. */
	l = (size_t)snprintf(want, sizeof want, "%s%s", w->key, WSC_GUID);
	lws_SHA1((unsigned char *)want, l, sha);
	lws_b64_encode_string((char *)sha, 20, want, sizeof want);
	if (header((char *)w->in, "sec-websocket-accept:", val,
	    sizeof val) != 0 || strcmp(val, want) != 0) {
		kill_now(w, "bad Sec-WebSocket-Accept in the upgrade response");
		return -1;
	}
	/* We asked for no extension and no subprotocol: accepting one we
	 * cannot speak (say, compressed frames) would garble the stream. */
	if (header((char *)w->in, "sec-websocket-extensions:", val,
	    sizeof val) == 0 && val[0] != '\0') {
		kill_now(w, "server imposed an extension we did not ask for");
		return -1;
	}
	if (header((char *)w->in, "sec-websocket-protocol:", val,
	    sizeof val) == 0 && val[0] != '\0') {
		kill_now(w, "server imposed a subprotocol we did not ask for");
		return -1;
	}
	memmove(w->in, w->in + hl, w->inlen - hl);
	w->inlen -= hl;
	w->upgraded = 1;
	lws_set_timeout(w->wsi, NO_PENDING_TIMEOUT, 0);
	if (!w->detached)
		w->ops.open(w->ctx);
	return 1;
}

static void
deliver(struct wsc *w, int op, const unsigned char *p, size_t n)
{
	if (!w->detached && !w->dying)
		w->ops.message(w->ctx, op == 2, p, n);
}

/* Parse every whole frame in buf[0..len); *used gets the bytes taken
 * (the rest: a frame not yet whole). -1 when the connection must end. */
static int
parse_buf(struct wsc *w, const unsigned char *buf, size_t len, size_t *used)
{
	size_t		 off = 0, hl, n, i;
	uint64_t	 n64;
	int		 fin, op;
	const unsigned char *p;

	while (!w->dying) {
		if (w->skip > 0) {
			/* an oversized message's payload: dropped as it
			 * streams by, never buffered */
			n = len - off;
			if ((uint64_t)n > w->skip)
				n = (size_t)w->skip;
			off += n;
			w->skip -= n;
			if (w->skip > 0)
				break;
			continue;
		}
		if (len - off < 2)
			break;
		p = buf + off;
		fin = p[0] & 0x80;
		op = p[0] & 0x0f;
		if (p[0] & 0x70) {
			kill_now(w, "protocol error: reserved bits set");
			return -1;
		}
		/* RFC 6455 5.1: a client closes on a masked frame. */
		if (p[1] & 0x80) {
			kill_now(w, "protocol error: masked frame from the "
			    "server");
			return -1;
		}
		n64 = p[1] & 0x7f;
		hl = 2;
		if (n64 == 126) {
			if (len - off < 4)
				break;
			n64 = (uint64_t)p[2] << 8 | p[3];
			hl = 4;
		} else if (n64 == 127) {
			if (len - off < 10)
				break;
			for (n64 = 0, i = 0; i < 8; i++)
				n64 = n64 << 8 | p[2 + i];
			hl = 10;
			if (n64 >> 63) {	/* RFC 6455 5.2: MSB is 0 */
				kill_now(w, "protocol error: frame length "
				    "over 2^63");
				return -1;
			}
		}
		if (op & 0x8) {
			/* control frames: whole, and short (RFC 6455 5.5) */
			if (!fin || n64 > 125) {
				kill_now(w, "protocol error: fragmented or "
				    "long control frame");
				return -1;
			}
		} else {
			if (op > 2) {
				kill_now(w, "protocol error: unknown opcode");
				return -1;
			}
			if (op != 0 && (w->msgop != 0 || w->discarding)) {
				kill_now(w, "protocol error: new message "
				    "inside a fragmented one");
				return -1;
			}
			if (op == 0 && w->msgop == 0 && !w->discarding) {
				kill_now(w, "protocol error: stray "
				    "continuation frame");
				return -1;
			}
			/*
			 * Larger than WSC_MAX_MSG in all: skipped whole, the
			 * connection kept. A receiver's big configuration
			 * MSG (load_cfg) must not cost us its IQ stream.
			 */
			if (w->discarding || n64 > WSC_MAX_MSG - w->msglen) {
				off += hl;
				w->skip = n64;
				w->discarding = !fin;
				w->msglen = 0;
				w->msgop = 0;
				continue;
			}
		}
		n = (size_t)n64;
		if (len - off < hl + n)
			break;		/* the rest comes with the next read */
		p += hl;
		off += hl + n;
		switch (op) {
		case 0x0:			/* continuation */
		case 0x1:			/* text */
		case 0x2:			/* binary */
			if (op != 0 && fin) {	/* the common case: whole */
				deliver(w, op, p, n);
				break;
			}
			if (w->msg == NULL &&
			    (w->msg = malloc(WSC_MAX_MSG)) == NULL) {
				kill_now(w, "out of memory");
				return -1;
			}
			if (op != 0)
				w->msgop = op;
			memcpy(w->msg + w->msglen, p, n);
			w->msglen += n;
			if (fin) {
				deliver(w, w->msgop, w->msg, w->msglen);
				w->msglen = 0;
				w->msgop = 0;
			}
			break;
		case 0x8: {			/* close */
			char	why[80];
			int	code = n >= 2 ? p[0] << 8 | p[1] : 0;

			if (n == 1) {
				kill_now(w, "protocol error: close frame of "
				    "1 byte");
				return -1;
			}
			if (code != 0)
				snprintf(why, sizeof why, "closed by the "
				    "receiver (code %d)", code);
			else
				snprintf(why, sizeof why, "closed by the "
				    "receiver");
			set_why(w, why);
			/* answer with its code, then close (RFC 6455 5.5.1) */
			close_gracefully(w, code);
			return -1;
		}
		case 0x9:			/* ping */
			if (queue_frame(w, 0xA, p, n) != 0) {
				kill_now(w, "cannot answer a ping");
				return -1;
			}
			break;
		case 0xA:			/* pong */
			break;
		default:
			kill_now(w, "protocol error: unknown opcode");
			return -1;
		}
	}
	*used = off;
	return 0;
}

/* Parse the frames buffered in w->in, keeping what is not whole yet. */
static int
parse(struct wsc *w)
{
	size_t	off = 0;
	int	rc = parse_buf(w, w->in, w->inlen, &off);

	if (rc == 0 && off > 0) {
		memmove(w->in, w->in + off, w->inlen - off);
		w->inlen -= off;
	}
	if (rc == 0 && w->inlen == 0 && w->incap > WSC_INBUF_KEEP) {
		/* a burst grew it (a read of many frames): not kept for
		 * good, it would be the connection's largest buffer */
		free(w->in);
		w->in = NULL;
		w->incap = 0;
	}
	return rc;
}

static int
append(struct wsc *w, const void *data, size_t n)
{
	size_t	cap = w->incap ? w->incap : 8192;

	if (n > WSC_INBUF_MAX - w->inlen) {
		kill_now(w, "receive buffer overflow");
		return -1;
	}
	while (cap < w->inlen + n)
		cap *= 2;
	if (cap > WSC_INBUF_MAX)
		cap = WSC_INBUF_MAX;
	if (cap != w->incap) {
		unsigned char *b = realloc(w->in, cap);
		if (b == NULL) {
			kill_now(w, "out of memory");
			return -1;
		}
		w->in = b;
		w->incap = cap;
	}
	memcpy(w->in + w->inlen, data, n);
	w->inlen += n;
	return 0;
}

/* ---- TLS ---- */

/*
 * lws 4.1.6 cannot run TLS on a RAW client connection: it calls
 * SSL_connect before the socket exists (EBADF, "tls start fail"). So the
 * raw socket stays plain to lws and OpenSSL runs over memory BIOs here.
 * One client context for the process, verifying peers against the system
 * store (or SSL_CERT_FILE / SSL_CERT_DIR, as OpenSSL reads them; a change
 * of SSL_CERT_FILE makes a new context).
 */
static pthread_mutex_t	 tls_lock = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX		*tls_shared;
static char		 tls_cafile[512];

static SSL_CTX *
tls_ctx(void)
{
	const char	*ca = getenv("SSL_CERT_FILE");
	SSL_CTX		*c;

	pthread_mutex_lock(&tls_lock);
	if (tls_shared != NULL && strcmp(tls_cafile, ca ? ca : "") != 0) {
		SSL_CTX_free(tls_shared);	/* SSL objects hold refs */
		tls_shared = NULL;
	}
	if (tls_shared == NULL && (c = SSL_CTX_new(TLS_client_method()))) {
		SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
		SSL_CTX_set_verify(c, SSL_VERIFY_PEER, NULL);
		if (SSL_CTX_set_default_verify_paths(c) != 1) {
			SSL_CTX_free(c);
			c = NULL;
		}
		tls_shared = c;
		snprintf(tls_cafile, sizeof tls_cafile, "%s", ca ? ca : "");
	}
	c = tls_shared;
	if (c != NULL)
		SSL_CTX_up_ref(c);
	pthread_mutex_unlock(&tls_lock);
	return c;
}

/* Why OpenSSL failed, for the user: the certificate check first. */
static void
tls_fail(struct wsc *w, const char *what)
{
	char		 why[200], e[120];
	long		 v = SSL_get_verify_result(w->ssl);
	unsigned long	 code = ERR_get_error();

	if (v != X509_V_OK)
		snprintf(why, sizeof why, "TLS %s: certificate: %s", what,
		    X509_verify_cert_error_string(v));
	else {
		ERR_error_string_n(code, e, sizeof e);
		snprintf(why, sizeof why, "TLS %s: %s", what,
		    code ? e : "connection broken");
	}
	ERR_clear_error();
	kill_now(w, why);
}

static int
tls_start(struct wsc *w, const char *host, char *err, size_t errlen)
{
	SSL_CTX		*c = tls_ctx();
	unsigned char	 ip[16];
	int		 ok;

	if (c == NULL) {
		snprintf(err, errlen, "cannot set up TLS");
		return -1;
	}
	w->ssl = SSL_new(c);
	SSL_CTX_free(c);		/* the SSL holds its own reference */
	w->rbio = BIO_new(BIO_s_mem());
	w->wbio = BIO_new(BIO_s_mem());
	if (w->ssl == NULL || w->rbio == NULL || w->wbio == NULL) {
		BIO_free(w->rbio);
		BIO_free(w->wbio);
		snprintf(err, errlen, "cannot set up TLS");
		return -1;
	}
	SSL_set_bio(w->ssl, w->rbio, w->wbio);
	SSL_set_connect_state(w->ssl);
	/* the certificate must name the host we asked for */
	if (inet_pton(AF_INET, host, ip) == 1 ||
	    inet_pton(AF_INET6, host, ip) == 1)
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(w->ssl),
		    host) == 1;
	else
		ok = SSL_set_tlsext_host_name(w->ssl, host) == 1 &&
		    SSL_set1_host(w->ssl, host) == 1;
	if (!ok) {
		snprintf(err, errlen, "cannot set up TLS for %.100s", host);
		return -1;
	}
	return 0;
}

/* Records arrived: run the handshake, then hand plaintext on. */
static void
tls_rx(struct wsc *w, const void *in, size_t len)
{
	unsigned char	buf[16384];
	int		n, e;

	if (BIO_write(w->rbio, in, (int)len) != (int)len) {
		kill_now(w, "out of memory");
		return;
	}
	if (!w->tls_up) {
		n = SSL_do_handshake(w->ssl);
		if (n == 1) {
			w->tls_up = 1;
			lws_callback_on_writable(w->wsi); /* the request */
		} else if (SSL_get_error(w->ssl, n) != SSL_ERROR_WANT_READ) {
			tls_fail(w, "handshake failed");
			return;
		}
	}
	while (w->tls_up && !w->dying) {
		n = SSL_read(w->ssl, buf, sizeof buf);
		if (n > 0) {
			if (feed(w, buf, (size_t)n) != 0)
				return;
			continue;
		}
		e = SSL_get_error(w->ssl, n);
		if (e == SSL_ERROR_ZERO_RETURN)
			kill_now(w, "connection closed by the receiver");
		else if (e != SSL_ERROR_WANT_READ)
			tls_fail(w, "error");
		break;
	}
	if (BIO_pending(w->wbio) > 0 && w->wsi != NULL)
		lws_callback_on_writable(w->wsi);
}

/* WRITEABLE with TLS: encrypt what is queued (once the handshake is
 * done), then send every pending record in one write. */
static int
tls_tx(struct wsc *w, struct lws *wsi)
{
	unsigned char	*f;
	size_t		 n;
	int		 k;

	while (w->tls_up && w->oq_n > 0) {
		k = (int)w->outlen[w->oq_head];
		if (SSL_write(w->ssl, w->outq[w->oq_head] + LWS_PRE, k) != k) {
			tls_fail(w, "write failed");
			return -1;
		}
		free(w->outq[w->oq_head]);
		w->oq_head = (w->oq_head + 1) % WSC_OUTQ;
		w->oq_n--;
	}
	n = (size_t)BIO_pending(w->wbio);
	if (n == 0)
		return w->dying && w->oq_n == 0 ? -1 : 0;
	if ((f = malloc(LWS_PRE + n)) == NULL)
		return -1;
	if (BIO_read(w->wbio, f + LWS_PRE, (int)n) != (int)n ||
	    lws_write(wsi, f + LWS_PRE, n, LWS_WRITE_RAW) < (int)n) {
		free(f);
		set_why(w, "write to the receiver failed");
		return -1;
	}
	free(f);
	if (w->dying)
		lws_callback_on_writable(wsi);	/* then close */
	return 0;
}

/* Plaintext from the socket (or from TLS): upgrade, then frames. */
static int
feed(struct wsc *w, const unsigned char *in, size_t len)
{
	size_t	off = 0;

	if (w->dying)
		return -1;
	if (w->upgraded && w->inlen == 0) {
		/*
		 * Nothing buffered: the frames are parsed where the read put
		 * them, and only a frame not yet whole is copied, to wait for
		 * the rest. (Each read was copied whole before: a copy of
		 * every byte, and a buffer per connection as large as the
		 * largest read, 64 KiB when the loop fell behind -- 64 MB at
		 * 1000 receivers.)
		 */
		if (parse_buf(w, in, len, &off) != 0)
			return -1;
		return off == len || w->dying ? 0 :
		    append(w, in + off, len - off);
	}
	if (w->upgraded) {
		/*
		 * A frame waits for its rest: complete it a piece at a time,
		 * then parse the rest where the read put it. (The whole read
		 * was appended: when the loop fell behind, reads of 64 KiB
		 * grew each connection's buffer to that size, 40 MB of the
		 * recorder's 58 MB peak heap at 1000 receivers.) The buffer
		 * holds at most a frame and a piece.
		 */
		while (w->inlen > 0 && off < len) {
			size_t k = len - off < WSC_PIECE ? len - off :
			    WSC_PIECE;
			if (append(w, in + off, k) != 0)
				return -1;
			off += k;
			if (parse(w) != 0)
				return -1;
			if (w->dying)
				return 0;
		}
		if (off == len)
			return 0;
		return feed(w, in + off, len - off);
	}
	if (append(w, in, len) != 0)
		return -1;
	if (!w->upgraded && handshake(w) <= 0)
		return w->dying ? -1 : 0;
	return parse(w);
}

static int
wsc_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct wsc	*w = user;
	unsigned char	*f;
	size_t		 n;

	if (w == NULL)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		/* lws makes this and RAW_CLOSE mutually exclusive */
		if (w->why[0] == '\0')
			snprintf(w->why, sizeof w->why, "cannot connect: %.150s",
			    in != NULL ? (const char *)in : "unknown error");
		w->wsi = NULL;
		if (w->in_connect) {
			/* wsc_connect() is still on the stack: it reports */
			w->failed = 1;
			break;
		}
		notify_closed(w);
		wsc_free(w);
		break;
	case LWS_CALLBACK_RAW_CONNECTED:
		/* lws times out the TCP connect, but nothing after it on a
		 * raw socket: a server that accepts and stays silent would
		 * hold the receiver in "connecting" for ever. */
		w->t_connected = lws_now_usecs();
		lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, WSC_UPGRADE_S);
		n = strlen(w->req);
		if ((f = malloc(LWS_PRE + n)) == NULL)
			return -1;
		memcpy(f + LWS_PRE, w->req, n);
		if (queue_raw(w, f, n) != 0)
			return -1;
		/* TLS: the ClientHello goes first; the request waits */
		if (w->ssl != NULL) {
			int r = SSL_do_handshake(w->ssl);
			if (r != 1 && SSL_get_error(w->ssl, r) !=
			    SSL_ERROR_WANT_READ) {
				tls_fail(w, "handshake failed");
				return -1;
			}
		}
		break;
	case LWS_CALLBACK_RAW_RX:
		if (w->dying)
			break;
		if (w->ssl != NULL)
			tls_rx(w, in, len);
		else
			feed(w, in, len);
		break;
	case LWS_CALLBACK_RAW_WRITEABLE:
		if (w->ssl != NULL)
			return tls_tx(w, wsi);
		if (w->oq_n == 0)
			return w->dying ? -1 : 0;
		n = w->outlen[w->oq_head];
		if (lws_write(wsi, w->outq[w->oq_head] + LWS_PRE, n,
		    LWS_WRITE_RAW) < (int)n) {
			set_why(w, "write to the receiver failed");
			return -1;
		}
		free(w->outq[w->oq_head]);
		w->oq_head = (w->oq_head + 1) % WSC_OUTQ;
		w->oq_n--;
		/* dying: one more turn, which closes once the queue is out */
		if (w->oq_n > 0 || w->dying)
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_RAW_CLOSE:
		w->wsi = NULL;
		if (!w->upgraded && w->why[0] == '\0')
			set_why(w, lws_now_usecs() - w->t_connected >=
			    (WSC_UPGRADE_S - 0.5) * LWS_US_PER_SEC ?
			    "no upgrade response within 5 s" :
			    "connection closed during the upgrade");
		notify_closed(w);
		wsc_free(w);
		break;
	default:
		break;
	}
	return 0;
}

const struct lws_protocols wsc_protocol = {
	"wsc", wsc_callback, 0, 0, 0, NULL, 0
};

struct wsc *
wsc_connect(struct lws_context *ctx, const char *addr, int port, int tls,
    const char *host, const char *path, const struct wsc_ops *ops,
    void *opctx, char *err, size_t errlen)
{
	struct lws_client_connect_info	 i;
	unsigned char			 raw[16];
	struct wsc			*w;
	const char			*lb, *rb;
	size_t				 k;
	int				 n;

	if (path[0] != '/' || strpbrk(path, " \r\n") != NULL ||
	    strpbrk(host, " \r\n") != NULL) {
		snprintf(err, errlen, "bad WebSocket path or host");
		return NULL;
	}
	w = calloc(1, sizeof *w);
	if (w == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	w->ops = *ops;
	w->ctx = opctx;
	if (getrandom(raw, sizeof raw, GRND_NONBLOCK) != sizeof raw)
		for (k = 0; k < sizeof raw; k++)
			raw[k] = (unsigned char)rand();
	lws_b64_encode_string((char *)raw, sizeof raw, w->key, sizeof w->key);
	/* an IPv6 literal goes in brackets in Host and Origin */
	lb = strchr(host, ':') != NULL ? "[" : "";
	rb = *lb != '\0' ? "]" : "";
	n = snprintf(w->req, sizeof w->req, "GET %s HTTP/1.1\r\n"
	    "Host: %s%s%s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
	    "Origin: http%s://%s%s%s:%d\r\nUser-Agent: heimdall-rec\r\n\r\n",
	    path, lb, host, rb, port, w->key, tls ? "s" : "", lb, host, rb,
	    port);
	if (n < 0 || (size_t)n >= sizeof w->req) {
		snprintf(err, errlen, "WebSocket path or host too long");
		free(w);
		return NULL;
	}
	if (tls && tls_start(w, host, err, errlen) != 0) {
		wsc_free(w);
		return NULL;
	}
	memset(&i, 0, sizeof i);
	i.context = ctx;
	i.address = addr;
	i.port = port;
	i.path = "";
	i.host = host;
	i.method = "RAW";
	i.ssl_connection = 0;	/* TLS is ours (w->ssl), not lws' */
	i.local_protocol_name = wsc_protocol.name;
	i.userdata = w;
	/* A failure inside the call (a CONNECTION_ERROR callback, or NULL)
	 * is reported here, by return value, never by closed(). */
	w->in_connect = 1;
	w->wsi = lws_client_connect_via_info(&i);
	w->in_connect = 0;
	if (w->wsi == NULL || w->failed) {
		snprintf(err, errlen, "%s", w->why[0] ? w->why :
		    "cannot connect");
		if (w->wsi != NULL)
			/* lws may still close it: never with our pointer */
			lws_set_wsi_user(w->wsi, NULL);
		wsc_free(w);
		return NULL;
	}
	return w;
}
