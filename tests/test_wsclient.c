/* test_wsclient.c -- the lean WebSocket client: handshake checks, framing (lengths, fragments, ping/pong, close), malformed frames, TLS, against a scripted server and a real lws server. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "net/rx/wsclient.h"

#include "loopsock.h"

static double
mono(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the client side: events recorded by the ops ---- */

struct res {
	int		 opened;
	int		 nmsg;
	int		 binary[8];
	unsigned char	*msg[8];
	size_t		 len[8];
	int		 closed;
	char		 why[200];
	const char	*send_on_open;	/* text to send from open() */
	int		 close_on_open;	/* wsc_close(1001) from open() */
	struct wsc	*w;
};

static void
r_open(void *ctx)
{
	struct res *r = ctx;

	r->opened++;
	if (r->send_on_open != NULL)
		assert_int_equal(wsc_send_text(r->w, r->send_on_open,
		    strlen(r->send_on_open)), 0);
	if (r->close_on_open)
		wsc_close(r->w, 1001);
}

static void
r_message(void *ctx, int binary, const unsigned char *p, size_t n)
{
	struct res *r = ctx;

	if (r->nmsg < 8) {
		r->binary[r->nmsg] = binary;
		r->msg[r->nmsg] = malloc(n + 1);
		memcpy(r->msg[r->nmsg], p, n);
		r->len[r->nmsg] = n;
	}
	r->nmsg++;
}

static void
r_closed(void *ctx, const char *why)
{
	struct res *r = ctx;

	r->closed++;
	snprintf(r->why, sizeof r->why, "%s", why);
}

static const struct wsc_ops r_ops = { r_open, r_message, r_closed };

static void
res_free(struct res *r)
{
	int	i;

	for (i = 0; i < r->nmsg && i < 8; i++)
		free(r->msg[i]);
}

static struct lws_context *
client_ctx(void)
{
	static struct lws_protocols	 prot[2];
	struct lws_context_creation_info info;

	prot[0] = wsc_protocol;
	memset(&prot[1], 0, sizeof prot[1]);
	lws_set_log_level(getenv("TEST_LWS_DEBUG") ? 0xff : LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = prot;
	info.timeout_secs = 5;
	info.connect_timeout_secs = 5;
	return lws_create_context(&info);
}

/* Service until cond(r) or the time is up. */
static void
run_until(struct lws_context *ctx, struct res *r, int (*cond)(struct res *),
    double secs)
{
	double	end = mono() + secs;

	while (!cond(r) && mono() < end) {
		lws_service(ctx, -1);
		usleep(1000);
	}
}

static int
is_closed(struct res *r)
{
	return r->closed > 0;
}

/* ---- a scripted server (plain sockets, its own thread) ---- */

enum hs {
	HS_OK, HS_BAD_ACCEPT, HS_404, HS_NO_UPGRADE, HS_EXTENSION, HS_HUGE,
	HS_REDIRECT, HS_SILENT
};

struct frame {
	int		 op, fin, masked;
	unsigned char	 data[256];
	size_t		 n;
};

struct script {
	int			 lfd, port;
	enum hs			 hs;
	const unsigned char	*after;		/* sent after the handshake */
	size_t			 afterlen;
	size_t			 split;		/* in pieces of this size */
	int			 want;		/* client frames to read */
	double			 linger;	/* then keep the socket open */
	/* results */
	char			 req[4096];
	struct frame		 got[8];
	int			 ngot;
	pthread_t		 th;
};

static int
read_full(int fd, unsigned char *p, size_t n)
{
	ssize_t	k;

	while (n > 0) {
		k = read(fd, p, n);
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* One client frame: unmask it and record whether it was masked. */
static int
read_frame(int fd, struct frame *f)
{
	unsigned char	h[14], mask[4] = { 0 };
	size_t		 n, i;

	if (read_full(fd, h, 2) != 0)
		return -1;
	f->fin = h[0] >> 7;
	f->op = h[0] & 0x0f;
	f->masked = h[1] >> 7;
	n = h[1] & 0x7f;
	if (n == 126) {
		if (read_full(fd, h + 2, 2) != 0)
			return -1;
		n = (size_t)h[2] << 8 | h[3];
	} else if (n == 127)
		return -1;		/* never from this client here */
	if (f->masked && read_full(fd, mask, 4) != 0)
		return -1;
	if (n > sizeof f->data)
		return -1;
	if (read_full(fd, f->data, n) != 0)
		return -1;
	for (i = 0; i < n; i++)
		f->data[i] ^= mask[i & 3];
	f->n = n;
	return 0;
}

static void
accept_of(const char *key, char *out, size_t outlen)
{
	unsigned char	sha[20];
	char		buf[128];
	int		n;

	n = snprintf(buf, sizeof buf, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
	    key);
	lws_SHA1((unsigned char *)buf, (size_t)n, sha);
	lws_b64_encode_string((char *)sha, 20, out, (int)outlen);
}

static void *
server_main(void *arg)
{
	struct script	*s = arg;
	struct pollfd	 pfd = { s->lfd, POLLIN, 0 };
	char		 resp[10000], acc[64], *k, *e;
	size_t		 got = 0, off;
	struct timeval	 tv = { 3, 0 };
	int		 fd, n;

	if (poll(&pfd, 1, 5000) != 1)
		return NULL;
	fd = accept(s->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	while (strstr(s->req, "\r\n\r\n") == NULL && got < sizeof s->req - 1) {
		ssize_t r = read(fd, s->req + got, sizeof s->req - 1 - got);
		if (r <= 0)
			goto out;
		got += (size_t)r;
		s->req[got] = '\0';
	}
	acc[0] = '\0';
	k = strstr(s->req, "Sec-WebSocket-Key: ");
	if (k != NULL) {
		k += 19;
		e = strstr(k, "\r\n");
		if (e != NULL) {
			char key[64];
			snprintf(key, sizeof key, "%.*s", (int)(e - k), k);
			accept_of(key, acc, sizeof acc);
		}
	}
	switch (s->hs) {
	case HS_OK:
	case HS_BAD_ACCEPT:
		if (s->hs == HS_BAD_ACCEPT)
			acc[0] = acc[0] == 'A' ? 'B' : 'A';
		n = snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching "
		    "Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
		break;
	case HS_404:
		n = snprintf(resp, sizeof resp, "HTTP/1.1 404 Not Found\r\n"
		    "Content-Length: 0\r\n\r\n");
		break;
	case HS_REDIRECT:
		n = snprintf(resp, sizeof resp, "HTTP/1.1 307 Temporary "
		    "Redirect\r\nLocation: http://elsewhere:8073/\r\n\r\n");
		break;
	case HS_NO_UPGRADE:
		n = snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching "
		    "Protocols\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
		break;
	case HS_EXTENSION:
		n = snprintf(resp, sizeof resp, "HTTP/1.1 101 Switching "
		    "Protocols\r\nUpgrade: WebSocket\r\nConnection: keep-alive, "
		    "Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
		    "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", acc);
		break;
	case HS_SILENT:		/* reads the request, answers nothing */
		usleep((useconds_t)(s->linger * 1e6));
		goto out;
	default:		/* HS_HUGE: a head that never ends */
		memcpy(resp, "HTTP/1.1 101 Switching Protocols\r\n", 34);
		for (off = 34; off < sizeof resp - 2; off++)
			resp[off] = 'x';
		n = (int)off;
		break;
	}
	if (write(fd, resp, (size_t)n) != n)
		goto out;
	for (off = 0; off < s->afterlen; ) {
		size_t m = s->split ? s->split : s->afterlen;
		if (m > s->afterlen - off)
			m = s->afterlen - off;
		if (write(fd, s->after + off, m) != (ssize_t)m)
			goto out;
		off += m;
		if (s->split)
			usleep(2000);
	}
	while (s->ngot < s->want && s->ngot < 8 &&
	    read_frame(fd, &s->got[s->ngot]) == 0)
		s->ngot++;
	if (s->linger > 0)
		usleep((useconds_t)(s->linger * 1e6));
out:
	close(fd);
	return NULL;
}

static void
server_start(struct script *s)
{
	struct sockaddr_in	sa;
	socklen_t		sl = sizeof sa;

	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = 0;			/* a free port */
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &sl), 0);
	s->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, server_main, s), 0);
}

static void
server_join(struct script *s)
{
	pthread_join(s->th, NULL);
	close(s->lfd);
}

/* Run one scripted exchange; the client's events land in r. */
static void
exchange(struct script *s, struct res *r, double secs)
{
	struct lws_context	*ctx = client_ctx();
	char			 err[200];

	assert_non_null(ctx);
	server_start(s);
	r->w = wsc_connect(ctx, "127.0.0.1", s->port, 0, "127.0.0.1",
	    "/12345/SND", &r_ops, r, err, sizeof err);
	assert_non_null(r->w);
	run_until(ctx, r, is_closed, secs);
	server_join(s);
	lws_context_destroy(ctx);
}

/* A server frame (unmasked) into b; returns its length. */
static size_t
sframe(unsigned char *b, int b0, const void *data, size_t n)
{
	size_t	hl;

	b[0] = (unsigned char)b0;
	if (n < 126) {
		b[1] = (unsigned char)n;
		hl = 2;
	} else if (n < 65536) {
		b[1] = 126;
		b[2] = (unsigned char)(n >> 8);
		b[3] = (unsigned char)n;
		hl = 4;
	} else {
		int i;
		b[1] = 127;
		for (i = 0; i < 8; i++)
			b[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	if (data != NULL)
		memcpy(b + hl, data, n);
	else
		memset(b + hl, 0x5a, n);
	return hl + n;
}

/* ---- tests ---- */

static void
test_accept_vector(void **state)
{
	char	acc[64];

	(void)state;
	/* RFC 6455 1.3: the server's proof for the sample key */
	accept_of("dGhlIHNhbXBsZSBub25jZQ==", acc, sizeof acc);
	assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

/* Upgrade, messages of every length encoding, fragments with a ping in
 * between, our masked text, the pong, and the close handshake. */
static void
test_session(void **state)
{
	static unsigned char	 b[70000 + 200000];
	static unsigned char	 big[65536];
	struct script		 s;
	struct res		 r;
	size_t			 n = 0, i;

	(void)state;
	for (i = 0; i < sizeof big; i++)
		big[i] = (unsigned char)(i * 7);
	n += sframe(b + n, 0x82, "SND\x08", 4);		/* binary, 7-bit */
	n += sframe(b + n, 0x82, NULL, 300);		/* 16-bit length */
	n += sframe(b + n, 0x82, big, sizeof big);	/* 64-bit, the max */
	n += sframe(b + n, 0x01, "MSG sam", 7);		/* text, not final */
	n += sframe(b + n, 0x89, "p1", 2);		/* ping in between */
	n += sframe(b + n, 0x00, "ple_rate=", 9);	/* continuation */
	n += sframe(b + n, 0x80, "12001.135", 9);	/* final */
	n += sframe(b + n, 0x8A, "x", 1);		/* unsolicited pong */
	n += sframe(b + n, 0x88, "\x03\xe8", 2);	/* close 1000 */
	memset(&s, 0, sizeof s);
	memset(&r, 0, sizeof r);
	s.hs = HS_OK;
	s.after = b;
	s.afterlen = n;
	s.want = 3;
	r.send_on_open = "SET auth t=kiwi p=";
	exchange(&s, &r, 10);

	/* the request */
	assert_non_null(strstr(s.req, "GET /12345/SND HTTP/1.1\r\n"));
	assert_non_null(strstr(s.req, "\r\nUpgrade: websocket\r\n"));
	assert_non_null(strstr(s.req, "\r\nConnection: Upgrade\r\n"));
	assert_non_null(strstr(s.req, "\r\nSec-WebSocket-Version: 13\r\n"));
	assert_non_null(strstr(s.req, "\r\nHost: 127.0.0.1:"));

	assert_int_equal(r.opened, 1);
	assert_int_equal(r.nmsg, 4);
	assert_int_equal(r.binary[0], 1);
	assert_int_equal(r.len[0], 4);
	assert_memory_equal(r.msg[0], "SND\x08", 4);
	assert_int_equal(r.len[1], 300);
	assert_int_equal(r.msg[1][299], 0x5a);
	assert_int_equal(r.len[2], sizeof big);
	assert_memory_equal(r.msg[2], big, sizeof big);
	assert_int_equal(r.binary[3], 0);
	assert_int_equal(r.len[3], 25);
	assert_memory_equal(r.msg[3], "MSG sample_rate=12001.135", 25);

	/* what the server read: masked text, pong echoing the ping's
	 * payload, close echoing the code */
	assert_int_equal(s.ngot, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(s.got[i].masked, 1);
		assert_int_equal(s.got[i].fin, 1);
	}
	assert_int_equal(s.got[0].op, 1);
	assert_int_equal(s.got[0].n, 18);
	assert_memory_equal(s.got[0].data, "SET auth t=kiwi p=", 18);
	assert_int_equal(s.got[1].op, 0xA);
	assert_int_equal(s.got[1].n, 2);
	assert_memory_equal(s.got[1].data, "p1", 2);
	assert_int_equal(s.got[2].op, 0x8);
	assert_int_equal(s.got[2].n, 2);
	assert_memory_equal(s.got[2].data, "\x03\xe8", 2);

	assert_int_equal(r.closed, 1);
	assert_non_null(strstr(r.why, "code 1000"));
	res_free(&r);
}

/* Frames dribbled in 3-byte pieces (headers and lengths split across
 * reads), right after the upgrade response. */
static void
test_split_reads(void **state)
{
	unsigned char	 b[2000];
	struct script	 s;
	struct res	 r;
	size_t		 n = 0;

	(void)state;
	n += sframe(b + n, 0x82, NULL, 1000);
	n += sframe(b + n, 0x82, "abc", 3);
	memset(&s, 0, sizeof s);
	memset(&r, 0, sizeof r);
	s.hs = HS_OK;
	s.after = b;
	s.afterlen = n;
	s.split = 3;
	exchange(&s, &r, 10);
	assert_int_equal(r.nmsg, 2);
	assert_int_equal(r.len[0], 1000);
	assert_int_equal(r.len[1], 3);
	assert_memory_equal(r.msg[1], "abc", 3);
	assert_int_equal(r.closed, 1);	/* the server hung up */
	assert_non_null(strstr(r.why, "closed by the receiver"));
	res_free(&r);
}

/* A malformed stream: the good message before it arrives, nothing after,
 * and the connection ends with a reason naming the fault. */
static void
malformed(const unsigned char *bad, size_t badlen, const char *why)
{
	static unsigned char	 b[80000];
	struct script		 s;
	struct res		 r;
	size_t			 n = 0;

	n += sframe(b + n, 0x82, "ok", 2);
	memcpy(b + n, bad, badlen);
	n += badlen;
	n += sframe(b + n, 0x82, "after", 5);
	memset(&s, 0, sizeof s);
	memset(&r, 0, sizeof r);
	s.hs = HS_OK;
	s.after = b;
	s.afterlen = n;
	s.linger = 0.3;		/* the client must hang up, not the server */
	exchange(&s, &r, 10);
	assert_int_equal(r.nmsg, 1);
	assert_memory_equal(r.msg[0], "ok", 2);
	assert_int_equal(r.closed, 1);
	if (strstr(r.why, why) == NULL)
		fail_msg("closed with \"%s\", expected \"%s\"", r.why, why);
	res_free(&r);
}

static void
test_malformed_frames(void **state)
{
	static unsigned char	b[80000];
	size_t			n;

	(void)state;
	/* masked frame from a server */
	malformed((const unsigned char *)"\x82\x82\x01\x02\x03\x04xx", 8,
	    "masked frame");
	/* reserved bits (no extension was negotiated) */
	malformed((const unsigned char *)"\xc2\x01x", 3, "reserved bits");
	malformed((const unsigned char *)"\x92\x01x", 3, "reserved bits");
	/* reserved opcodes */
	malformed((const unsigned char *)"\x83\x01x", 3, "unknown opcode");
	malformed((const unsigned char *)"\x8b\x00", 2, "unknown opcode");
	/* fragmented control frame; long control frame */
	malformed((const unsigned char *)"\x09\x01x", 3, "control frame");
	n = sframe(b, 0x89, NULL, 126);
	malformed(b, n, "control frame");
	/* continuation with nothing to continue */
	malformed((const unsigned char *)"\x80\x01x", 3, "stray continuation");
	/* a new message inside a fragmented one */
	malformed((const unsigned char *)"\x02\x01x\x82\x01y", 6,
	    "inside a fragmented");
	/* close frame with a 1-byte body */
	malformed((const unsigned char *)"\x88\x01x", 3, "close frame of 1");
	/* a 64-bit length with the top bit set */
	malformed((const unsigned char *)"\x82\x7f\x80\0\0\0\0\0\0\x01", 10,
	    "over 2^63");
	/* an oversized message does not excuse a protocol error */
	n = sframe(b, 0x02, NULL, 70000);
	n += sframe(b + n, 0x82, "x", 1);
	malformed(b, n, "inside a fragmented");
}

/* Messages over 64 KiB (one frame; fragments adding up, a ping among
 * them) are skipped without buffering; the stream goes on around them. */
static void
test_oversized_skipped(void **state)
{
	static unsigned char	 b[400000];
	struct script		 s;
	struct res		 r;
	size_t			 n = 0;

	(void)state;
	n += sframe(b + n, 0x82, "one", 3);
	n += sframe(b + n, 0x82, NULL, 200000);		/* 64-bit length */
	n += sframe(b + n, 0x82, "two", 3);
	n += sframe(b + n, 0x01, NULL, 40000);		/* 40000 + 30000 */
	n += sframe(b + n, 0x89, "pp", 2);
	n += sframe(b + n, 0x80, NULL, 30000);
	n += sframe(b + n, 0x82, "three", 5);
	n += sframe(b + n, 0x82, NULL, 65536);		/* the limit: kept */
	memset(&s, 0, sizeof s);
	memset(&r, 0, sizeof r);
	s.hs = HS_OK;
	s.after = b;
	s.afterlen = n;
	s.split = 7000;		/* skips straddle reads */
	s.want = 1;		/* the pong */
	s.linger = 0.3;
	exchange(&s, &r, 10);
	assert_int_equal(r.nmsg, 4);
	assert_memory_equal(r.msg[0], "one", 3);
	assert_memory_equal(r.msg[1], "two", 3);
	assert_memory_equal(r.msg[2], "three", 5);
	assert_int_equal(r.len[3], 65536);
	assert_int_equal(s.ngot, 1);
	assert_int_equal(s.got[0].op, 0xA);
	assert_memory_equal(s.got[0].data, "pp", 2);
	assert_int_equal(r.closed, 1);		/* the server, at the end */
	assert_non_null(strstr(r.why, "closed by the receiver"));
	res_free(&r);
}

static void
handshake_fails(enum hs hs, const char *why)
{
	struct script	s;
	struct res	r;

	memset(&s, 0, sizeof s);
	memset(&r, 0, sizeof r);
	s.hs = hs;
	s.after = (const unsigned char *)"\x82\x02ok";
	s.afterlen = 4;
	s.linger = 0.3;
	exchange(&s, &r, 10);
	assert_int_equal(r.opened, 0);
	assert_int_equal(r.nmsg, 0);
	assert_int_equal(r.closed, 1);
	if (strstr(r.why, why) == NULL)
		fail_msg("closed with \"%s\", expected \"%s\"", r.why, why);
}

static void
test_bad_handshakes(void **state)
{
	(void)state;
	handshake_fails(HS_BAD_ACCEPT, "Sec-WebSocket-Accept");
	handshake_fails(HS_404, "upgrade refused: HTTP/1.1 404 Not Found");
	handshake_fails(HS_REDIRECT, "Location: http://elsewhere:8073/");
	handshake_fails(HS_NO_UPGRADE, "Upgrade: websocket");
	handshake_fails(HS_EXTENSION, "extension");
	handshake_fails(HS_HUGE, "upgrade response too large");
}

/* Connected, request read, then silence: given up after 5 s. */
static void
test_silent_server(void **state)
{
	struct script	s;
	struct res	r;

	(void)state;
	memset(&s, 0, sizeof s);
	memset(&r, 0, sizeof r);
	s.hs = HS_SILENT;
	s.linger = 6.5;		/* longer than the client's 5 s */
	exchange(&s, &r, 10);
	assert_int_equal(r.opened, 0);
	assert_int_equal(r.closed, 1);
	if (strstr(r.why, "no upgrade response") == NULL)
		fail_msg("closed with \"%s\"", r.why);
	/* a server that hangs up at once is told apart */
	memset(&s, 0, sizeof s);
	memset(&r, 0, sizeof r);
	s.hs = HS_SILENT;
	exchange(&s, &r, 10);
	assert_int_equal(r.closed, 1);
	if (strstr(r.why, "closed during the upgrade") == NULL)
		fail_msg("closed with \"%s\"", r.why);
}

/* wsc_close(): a masked close frame with our code goes out, and no
 * callback follows. */
static void
test_close_detaches(void **state)
{
	struct script	s;
	struct res	r;

	(void)state;
	memset(&s, 0, sizeof s);
	memset(&r, 0, sizeof r);
	s.hs = HS_OK;
	s.want = 1;
	r.close_on_open = 1;
	exchange(&s, &r, 1);
	assert_int_equal(r.opened, 1);
	assert_int_equal(r.closed, 0);
	assert_int_equal(s.ngot, 1);
	assert_int_equal(s.got[0].op, 0x8);
	assert_int_equal(s.got[0].masked, 1);
	assert_memory_equal(s.got[0].data, "\x03\xe9", 2);	/* 1001 */
}

static void
test_refused(void **state)
{
	struct lws_context	*ctx = client_ctx();
	struct res		 r;
	char			 err[200] = "";
	int			 port;

	(void)state;
	/* a port that was free a moment ago: nothing listens there */
	loopsock(0, &port);
	memset(&r, 0, sizeof r);
	r.w = wsc_connect(ctx, "127.0.0.1", port, 0, "127.0.0.1", "/1/SND",
	    &r_ops, &r, err, sizeof err);
	if (r.w == NULL)
		assert_non_null(strstr(err, "connect"));
	else {
		run_until(ctx, &r, is_closed, 10);
		assert_int_equal(r.closed, 1);
		assert_int_equal(r.opened, 0);
		assert_non_null(strstr(r.why, "connect"));
	}
	/* bad arguments never reach the network */
	assert_null(wsc_connect(ctx, "127.0.0.1", port, 0, "127.0.0.1",
	    "no-slash", &r_ops, &r, err, sizeof err));
	assert_null(wsc_connect(ctx, "127.0.0.1", port, 0, "a\r\nX: y",
	    "/1/SND", &r_ops, &r, err, sizeof err));
	lws_context_destroy(ctx);
}

/* ---- against a real lws WebSocket server, plain and TLS ---- */

/* A self-signed certificate for localhost / 127.0.0.1 (test only). */
static const char test_cert[] =
"-----BEGIN CERTIFICATE-----\n"
"MIIBmzCCAUGgAwIBAgIUSLCPdGQGvO1TcH6chV2X5r14/w8wCgYIKoZIzj0EAwIw\n"
"FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNTA3NDY0N1oYDzIxMjYxMTAx\n"
"MDc0NjQ3WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO\n"
"PQMBBwNCAAT0p0bxC3WqZM4Mp7WOlrifkVRT+u6Snl4NoCaiCqzB2Czg1qw5pYnL\n"
"TANZJILML8YGskkm+3V9rT//JWrMy/kwo28wbTAdBgNVHQ4EFgQUhsQUMGdGcghL\n"
"gFN0F0D6G/pKOfQwHwYDVR0jBBgwFoAUhsQUMGdGcghLgFN0F0D6G/pKOfQwDwYD\n"
"VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI\n"
"zj0EAwIDSAAwRQIgBZI3i7TMDXItFrnPMvElclxhIO/SOCQRH42F5J+e6/ICIQDp\n"
"LgqphCTBeYzZoBQBi1KGEtzmP/6ufcddTo7Y/s+iPQ==\n"
"-----END CERTIFICATE-----\n";
static const char test_key[] =
"-----BEGIN PRIVATE KEY-----\n"
"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQglyQeZW3Hr29z3JZ1\n"
"yjnfMVv545MnLia1QM1OM5zNjF6hRANCAAT0p0bxC3WqZM4Mp7WOlrifkVRT+u6S\n"
"nl4NoCaiCqzB2Czg1qw5pYnLTANZJILML8YGskkm+3V9rT//JWrMy/kw\n"
"-----END PRIVATE KEY-----\n";

struct echo {
	struct lws_context	*ctx;
	pthread_t		 th;
	atomic_int		 stop;
	int			 port;
};

/* The server: on connect a 3000-byte binary message; echoes every text
 * it gets back as binary. */
struct echo_pss {
	int		hello_sent;
	size_t		n;		/* pending echo, 0 if none */
	unsigned char	text[200];
};

static int
echo_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct echo_pss	*ps = user;
	unsigned char	 buf[LWS_PRE + 4096];
	size_t		 n;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		memset(ps, 0, sizeof *ps);
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_RECEIVE:
		if (len > sizeof ps->text || ps->n != 0)
			return -1;
		memcpy(ps->text, in, len);
		ps->n = len;
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!ps->hello_sent) {
			ps->hello_sent = 1;
			memset(buf + LWS_PRE, 'S', 3000);
			if (lws_write(wsi, buf + LWS_PRE, 3000,
			    LWS_WRITE_BINARY) < 3000)
				return -1;
			if (ps->n != 0)
				lws_callback_on_writable(wsi);
		} else if (ps->n != 0) {
			n = ps->n;
			memcpy(buf + LWS_PRE, ps->text, n);
			ps->n = 0;
			if (lws_write(wsi, buf + LWS_PRE, n,
			    LWS_WRITE_BINARY) < (int)n)
				return -1;
		}
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols echo_prot[] = {
	{ "echo", echo_cb, sizeof(struct echo_pss), 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void *
echo_main(void *arg)
{
	struct echo	*e = arg;

	while (!e->stop)
		lws_service(e->ctx, 0);
	return NULL;
}

static int
got_two(struct res *r)
{
	return r->nmsg >= 2 || r->closed;
}

static int
got_one(struct res *r)
{
	return r->nmsg >= 1 || r->closed;
}

static void
against_lws(int tls, const char *certdir)
{
	struct lws_context_creation_info info;
	struct lws_context	*cctx;
	struct echo		 e;
	struct res		 r;
	char			 cert[300], key[300], err[200];

	snprintf(cert, sizeof cert, "%s/cert.pem", certdir);
	snprintf(key, sizeof key, "%s/key.pem", certdir);
	memset(&e, 0, sizeof e);
	memset(&info, 0, sizeof info);
	info.port = 0;
	info.iface = "127.0.0.1";
	info.protocols = echo_prot;
	if (tls) {
		info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = cert;
		info.ssl_private_key_filepath = key;
	}
	e.ctx = lws_create_context(&info);
	assert_non_null(e.ctx);
	e.port = lws_get_vhost_listen_port(lws_get_vhost_by_name(e.ctx,
	    "default"));
	assert_true(e.port > 0);
	assert_int_equal(pthread_create(&e.th, NULL, echo_main, &e), 0);

	/* TLS is OpenSSL's, verifying against SSL_CERT_FILE when set */
	if (tls)
		setenv("SSL_CERT_FILE", cert, 1);
	cctx = client_ctx();
	assert_non_null(cctx);
	memset(&r, 0, sizeof r);
	r.send_on_open = "SET keepalive";
	/* TLS: the certificate is checked against the host name */
	r.w = wsc_connect(cctx, "127.0.0.1", e.port, tls, "localhost",
	    "/7/SND", &r_ops, &r, err, sizeof err);
	if (r.w == NULL)
		fail_msg("wsc_connect: %s", err);
	run_until(cctx, &r, got_two, 10);
	if (r.closed)
		fail_msg("closed: %s", r.why);
	assert_int_equal(r.opened, 1);
	assert_int_equal(r.nmsg, 2);
	assert_int_equal(r.binary[0], 1);
	assert_int_equal(r.len[0], 3000);
	assert_int_equal(r.msg[0][2999], 'S');
	assert_int_equal(r.len[1], 13);
	assert_memory_equal(r.msg[1], "SET keepalive", 13);	/* echoed */
	wsc_close(r.w, 1001);
	{
		double end = mono() + 0.3;
		while (mono() < end) {
			lws_service(cctx, -1);
			usleep(1000);
		}
	}
	assert_int_equal(r.closed, 0);		/* detached */
	res_free(&r);

	if (tls) {
		/* an IP literal the certificate names is fine too */
		memset(&r, 0, sizeof r);
		r.w = wsc_connect(cctx, "127.0.0.1", e.port, 1, "127.0.0.1",
		    "/7/SND", &r_ops, &r, err, sizeof err);
		assert_non_null(r.w);
		run_until(cctx, &r, got_one, 10);
		assert_int_equal(r.closed, 0);
		assert_int_equal(r.nmsg, 1);
		assert_int_equal(r.len[0], 3000);
		wsc_close(r.w, 1000);
		res_free(&r);
		/* a name the certificate does not hold is refused */
		memset(&r, 0, sizeof r);
		r.w = wsc_connect(cctx, "127.0.0.1", e.port, 1, "example.com",
		    "/7/SND", &r_ops, &r, err, sizeof err);
		assert_non_null(r.w);
		run_until(cctx, &r, is_closed, 10);
		assert_int_equal(r.closed, 1);
		assert_int_equal(r.opened, 0);
		if (strstr(r.why, "certificate") == NULL)
			fail_msg("closed with \"%s\"", r.why);
		/* and without our CA the self-signed certificate too */
		unsetenv("SSL_CERT_FILE");
		memset(&r, 0, sizeof r);
		r.w = wsc_connect(cctx, "127.0.0.1", e.port, 1, "localhost",
		    "/7/SND", &r_ops, &r, err, sizeof err);
		assert_non_null(r.w);
		run_until(cctx, &r, is_closed, 10);
		assert_int_equal(r.closed, 1);
		assert_int_equal(r.opened, 0);
		if (strstr(r.why, "certificate") == NULL)
			fail_msg("closed with \"%s\"", r.why);
	}
	lws_context_destroy(cctx);
	e.stop = 1;
	lws_cancel_service(e.ctx);	/* its poll waits for events only */
	pthread_join(e.th, NULL);
	lws_context_destroy(e.ctx);
}

static void
test_lws_server(void **state)
{
	(void)state;
	against_lws(0, "/nonexistent");
}

static void
test_tls(void **state)
{
	char	 dir[] = "/tmp/test_wsclient_XXXXXX", path[300];
	FILE	*f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/cert.pem", dir);
	f = fopen(path, "w");
	fputs(test_cert, f);
	fclose(f);
	snprintf(path, sizeof path, "%s/key.pem", dir);
	f = fopen(path, "w");
	fputs(test_key, f);
	fclose(f);
	against_lws(1, dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/cert.pem", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_vector),
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_split_reads),
		cmocka_unit_test(test_malformed_frames),
		cmocka_unit_test(test_oversized_skipped),
		cmocka_unit_test(test_bad_handshakes),
		cmocka_unit_test(test_silent_server),
		cmocka_unit_test(test_close_detaches),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_lws_server),
		cmocka_unit_test(test_tls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
