/* kiwi.c -- KiwiSDR SND client (IQ mode): connection, commands, frames, faults (the life cycle is rxlife's). */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/rx/kiwi.h"
#include "net/rx/rxlife.h"
#include "net/rx/rxloop.h"
#include "net/rx/wsclient.h"
#include "src/base/station.h"
#include "src/base/util.h"

#define KIWI_STALL_S		2.0	/* no frame this long: reconnect */
#define KIWI_START_S		10.0	/* connected but no audio yet */
#define KIWI_TICK_S		0.5	/* keepalive every 2nd tick */
#define GPS_UNIX_EPOCH_I	INT64_C(315964800)	/* 1980-01-06 */
#define GPS_UNIX_EPOCH		((double)GPS_UNIX_EPOCH_I)
#define GPS_LEAP_I		INT64_C(18)	/* GPS - UTC since 2017 */
#define GPS_LEAP_S		((double)GPS_LEAP_I)
#define GPS_WEEK_I		INT64_C(604800)
#define GPS_WEEK_S		((double)GPS_WEEK_I)
#define KIWI_GPS_FRESH_S	10	/* last_gps_solution at most this */
#define KIWI_GPS_TOL_NS		1e6	/* a stamp this near the previous
					   one plus its samples continues it */
#define KIWI_GPS_RUN		2	/* continuous stamps in a row before
					   GPS time is passed on */
#define KIWI_GPS_WAIT		8	/* frames a new stream waits for
					   them at most */

struct rx {
	struct rxloop		*loop;
	struct rxlife		*life;		/* the life cycle */
	struct station		 st;
	struct rx_params	 p;
	struct rx_sink		 sink;
	char			 addr[64];	/* numeric, resolved once */
	char			 path[320];

	/* loop thread only from here */
	struct wsc		*ws;		/* the connection, or NULL */
	unsigned		 ticks;		/* this connection's */

	double			 fs;
	int			 frames;	/* SND frames this connection */
	int			 have_seq;
	uint32_t		 seq;
	size_t			 spf;		/* samples per frame */

	int16_t			*conv;
	size_t			 conv_cap;

	/* GPS stamps: the previous frame's (UTC ns; 0: none) and how many
	 * in a row continued their predecessor. */
	int64_t			 gps_prev;
	size_t			 gps_prev_n;
	int			 gps_run;
	/* A new stream waits (held frames, not passed on) for continuous
	 * stamps when the receiver claims a fix; started: this connection
	 * has said "streaming". */
	int			 hold;
	int			 held;
	int			 started;
};

/* ---- pure parsers ---- */

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

int
kiwi_parse_snd(const uint8_t *buf, size_t len, struct kiwi_snd *out,
    char *err, size_t errlen)
{
	if (len < 3 || memcmp(buf, "SND", 3) != 0) {
		snprintf(err, errlen, "not an SND frame");
		return -1;
	}
	if (len < KIWI_SND_HDR) {
		snprintf(err, errlen, "SND frame too short (%zu bytes)", len);
		return -1;
	}
	if ((len - KIWI_SND_HDR) % 4 != 0) {
		snprintf(err, errlen, "SND frame with a partial sample (%zu "
		    "bytes)", len);
		return -1;
	}
	out->flags = buf[3];
	if (!(out->flags & KIWI_FLAG_IQ)) {
		snprintf(err, errlen, "SND frame is not IQ (flags 0x%02x)",
		    out->flags);
		return -1;
	}
	if (out->flags & KIWI_FLAG_ADPCM) {
		/* never in IQ mode: the bytes would not be int16 samples */
		snprintf(err, errlen, "SND frame is ADPCM-compressed (flags "
		    "0x%02x)", out->flags);
		return -1;
	}
	out->seq = le32(buf + 4);
	/* the S-meter alone is big-endian */
	out->smeter = (uint16_t)(buf[8] << 8 | buf[9]);
	out->rssi_dbm = 0.1 * out->smeter - 127.0;
	out->gps_age = buf[10];
	out->gpssec = le32(buf + 12);
	out->gpsnsec = le32(buf + 16);
	out->samples = buf + KIWI_SND_HDR;
	out->n = (len - KIWI_SND_HDR) / 4;
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
kiwi_parse_msg(const char *body, size_t len,
    void (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
	char	 tok[4096], name[4096], *eq, *o;
	size_t	 i = 0, tl;
	int	 rc = 0;

	while (i < len) {
		while (i < len && (body[i] == ' ' || body[i] == '\n' ||
		    body[i] == '\t' || body[i] == '\r' || body[i] == '\0'))
			i++;
		tl = 0;
		while (i < len && body[i] != ' ' && body[i] != '\n' &&
		    body[i] != '\t' && body[i] != '\r' && body[i] != '\0') {
			if (tl + 1 >= sizeof tok) {
				rc = -1;
				tl = 0;
				while (i < len && body[i] != ' ')
					i++;
				break;
			}
			tok[tl++] = body[i++];
		}
		if (tl == 0)
			continue;
		tok[tl] = '\0';
		eq = strchr(tok, '=');
		if (eq != NULL)
			*eq = '\0';
		snprintf(name, sizeof name, "%s", tok);
		/* URL-decode the value in place (%XX, '+' stays '+'). */
		o = eq != NULL ? eq + 1 : tok + tl;
		if (eq != NULL) {
			char *r = eq + 1, *w = eq + 1;
			while (*r != '\0') {
				int h, l;
				if (r[0] == '%' && (h = hexval(r[1])) >= 0 &&
				    (l = hexval(r[2])) >= 0) {
					*w++ = (char)(h << 4 | l);
					r += 3;
				} else
					*w++ = *r++;
			}
			*w = '\0';
		}
		fn(ctx, name, o);
	}
	return rc;
}

int64_t
kiwi_gps_to_utc_ns(uint32_t gpssec, uint32_t gpsnsec, double now_utc)
{
	double	now_gps = now_utc - GPS_UNIX_EPOCH + GPS_LEAP_S;
	int64_t	s = (int64_t)floor(now_gps / GPS_WEEK_S) * GPS_WEEK_I +
		    (int64_t)gpssec;

	/* The frame carries only the time of week: take the week that puts
	 * it nearest our clock (right across a week boundary too). The
	 * week is decided on doubles (seconds matter, not nanoseconds); the
	 * stamp itself is added in integers, exactly. */
	if ((double)s - now_gps > GPS_WEEK_S / 2)
		s -= GPS_WEEK_I;
	else if (now_gps - (double)s > GPS_WEEK_S / 2)
		s += GPS_WEEK_I;
	return (s + GPS_UNIX_EPOCH_I - GPS_LEAP_I) * 1000000000 +
	    (int64_t)gpsnsec;
}

int64_t
kiwi_snd_time_ns(const struct kiwi_snd *f, double now_utc)
{
	/* A fresh fix only (a stale time would misplace the chunk grid and
	 * every TDoA), and only a well-formed stamp: never zero (no time
	 * yet), nanoseconds below one second, seconds within the week. */
	if (f->gps_age > KIWI_GPS_FRESH_S || (f->gpssec == 0 &&
	    f->gpsnsec == 0) || f->gpsnsec >= 1000000000u ||
	    f->gpssec >= (uint32_t)GPS_WEEK_I)
		return 0;
	return kiwi_gps_to_utc_ns(f->gpssec, f->gpsnsec, now_utc);
}

int
kiwi_url_encode(const char *s, char *out, size_t outlen)
{
	static const char	hex[] = "0123456789ABCDEF";
	size_t			o = 0;
	unsigned char		c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~') {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= outlen)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return 0;
}

/* 16 uint16 (GCC's and clang's vector extensions) */
typedef uint16_t v16u __attribute__((vector_size(32)));

void
kiwi_samples_be(const uint8_t *src, size_t n, int16_t *dst)
{
	uint16_t	v;
	v16u		w;
	size_t		i = 0;

	/*
	 * 16 values at a time, each swapped by two shifts: gcc 12 at -O2
	 * leaves the plain loop scalar (its "very cheap" cost model refuses
	 * a loop that needs an epilogue): 0.31 -> 0.06 us a 512-sample frame,
	 * ~0.45 ms of a 7-station 10-s session's network thread.
	 */
	for (; 2 * n - i >= 16; i += 16) {
		memcpy(&w, src + 2 * i, sizeof w);
		w = (w << 8) | (w >> 8);
		memcpy(dst + i, &w, sizeof w);
	}
	for (; i < 2 * n; i++) {
		memcpy(&v, src + 2 * i, 2);
		dst[i] = (int16_t)__builtin_bswap16(v);
	}
}

/* ---- the connection (loop thread) ---- */

static void
send_text(struct rx *rx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
send_text(struct rx *rx, const char *fmt, ...)
{
	va_list	ap;
	char	buf[512];
	int	n;

	if (rx->ws == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf)
		return;		/* cannot happen: fields are bounded */
	/* -1 only while closing or with 32 frames unsent: the socket is
	 * not draining, and the stall check will reconnect */
	(void)wsc_send_text(rx->ws, buf, (size_t)n);
}

/* End this connection: fatal -> RX_FAILED, else reconnect later. */
static void
drop(struct rx *rx, const char *why, int fatal)
{
	rxlife_drop(rx->life, why, fatal);
}

struct msg_ctx {
	struct rx	*rx;
};

static void
on_msg(void *ctx, const char *name, const char *value)
{
	struct rx	*rx = ((struct msg_ctx *)ctx)->rx;
	char		 why[200];
	double		 v;

	if (strcmp(name, "sample_rate") == 0) {
		v = strtod(value, NULL);
		if (!(v >= 1000 && v <= 100000)) {
			snprintf(why, sizeof why, "receiver sent an impossible "
			    "sample_rate (%.40s)", value);
			drop(rx, why, 1);
			return;
		}
		rx->fs = v;
		/* kiwirecorder's order, after the rate is known. */
		send_text(rx, "SET squelch=0 max=0");
		send_text(rx, "SET genattn=0");
		send_text(rx, "SET gen=0 mix=-1");
		send_text(rx, "SET ident_user=%s", rx->p.ident != NULL ?
		    rx->p.ident : "heimdall-rec");
		send_text(rx, "SET mod=iq low_cut=%d high_cut=%d freq=%.3f",
		    rx->p.low_cut, rx->p.high_cut, rx->p.freq_hz / 1e3);
		/* Fixed gain: amplitudes comparable across stations. */
		send_text(rx, "SET agc=0 hang=0 thresh=-100 slope=6 decay=1000 "
		    "manGain=50");
		send_text(rx, "SET keepalive");
	} else if (strcmp(name, "audio_rate") == 0) {
		send_text(rx, "SET AR OK in=%d out=44100", atoi(value));
	} else if (strcmp(name, "badp") == 0) {
		int b = atoi(value);
		if (b == 1)
			drop(rx, "bad password (badp=1)", 1);
		else if (b == 5)
			drop(rx, "receiver allows one connection per IP "
			    "(badp=5)", 1);
		else if (b != 0) {
			snprintf(why, sizeof why, "receiver refused the "
			    "connection (badp=%d)", b);
			drop(rx, why, 1);
		}
	} else if (strcmp(name, "too_busy") == 0) {
		drop(rx, "receiver busy (too_busy)", 0);
	} else if (strcmp(name, "redirect") == 0) {
		snprintf(why, sizeof why, "receiver redirects to %.120s", value);
		drop(rx, why, 1);
	} else if (strcmp(name, "reason_disabled") == 0) {
		snprintf(why, sizeof why, "receiver disabled: %.120s", value);
		drop(rx, why, 1);
	} else if (strcmp(name, "kiwi_kick") == 0) {
		drop(rx, "kicked by the receiver's admin", 1);
	} else if (strcmp(name, "ip_limit") == 0) {
		snprintf(why, sizeof why, "receiver's time limit for this IP "
		    "reached (%.80s)", value);
		drop(rx, why, 1);
	} else if (strcmp(name, "inactivity_timeout") == 0) {
		drop(rx, "receiver's inactivity timeout", 0);
	}
}

static void
on_snd(struct rx *rx, const uint8_t *buf, size_t len)
{
	struct kiwi_snd	 f;
	struct rx_block	 b;
	char		 err[128], why[200];
	double		 now = util_now();
	int64_t		 t_gps;
	uint32_t	 gap;
	size_t		 lost = 0;

	if (kiwi_parse_snd(buf, len, &f, err, sizeof err) != 0) {
		snprintf(why, sizeof why, "malformed frame: %s", err);
		drop(rx, why, 0);
		return;
	}
	if (rx->fs <= 0) {
		drop(rx, "audio before sample_rate", 0);
		return;
	}
	rxlife_fed(rx->life);
	if (rx->frames++ == 0) {
		/* The first frame holds the channel's previous user's data. */
		rx->have_seq = 1;
		rx->seq = f.seq;
		rxlife_watch(rx->life, KIWI_STALL_S, "no frame for 2 s");
		return;
	}
	gap = f.seq - rx->seq - 1;	/* uint32: wraps correctly */
	rx->seq = f.seq;
	if (rx->frames == 2) {
		rx->spf = f.n;
		rxlife_settled(rx->life);
		rx->hold = 1;
	} else if (gap != 0) {
		if (gap > 1000)
			/* Not a few lost frames: the stream restarted. */
			rx->hold = 1;
		else
			lost = (size_t)gap * rx->spf;
	}
	if (rx->conv_cap < f.n) {
		int16_t *c = realloc(rx->conv, 2 * f.n * sizeof *c);
		if (c == NULL) {
			drop(rx, "out of memory", 0);
			return;
		}
		rx->conv = c;
		rx->conv_cap = f.n;
	}
	if (f.flags & KIWI_FLAG_LE)
		memcpy(rx->conv, f.samples, 4 * f.n);
	else
		kiwi_samples_be(f.samples, f.n, rx->conv);
	memset(&b, 0, sizeof b);
	b.iq = rx->conv;
	b.n = f.n;
	b.lost = lost;
	b.t_arrival = now;
	b.gps_age = f.gps_age == 255 ? -1 : f.gps_age;
	/*
	 * Only a stamp that continues the previous ones: the first stamp or
	 * two of a stream can be stale (zero, or left from before), and one
	 * of them anchoring the stream would put every chunk of it seconds
	 * off, or make it look like a receiver whose clock disagrees. Stamps
	 * stay integer nanoseconds end to end (a double of UTC seconds
	 * resolves only ~240 ns); the chunker fits them (chunker.h).
	 */
	t_gps = kiwi_snd_time_ns(&f, now);
	if (t_gps > 0 && rx->gps_prev > 0 && fabs((double)(t_gps -
	    rx->gps_prev) - (double)(rx->gps_prev_n + lost) * 1e9 / rx->fs) <
	    KIWI_GPS_TOL_NS)
		rx->gps_run++;
	else
		rx->gps_run = 0;
	rx->gps_prev = t_gps;
	rx->gps_prev_n = f.n;
	if (rx->gps_run >= KIWI_GPS_RUN)
		b.t_gps_ns = t_gps;
	if (rx->hold) {
		/* A new stream begins on a frame with trusted GPS time when
		 * the receiver has a fix: its first block anchors it, and an
		 * arrival-clock anchor would stay for the whole stream. */
		if (t_gps > 0 && b.t_gps_ns == 0 &&
		    rx->held++ < KIWI_GPS_WAIT)
			return;
		rx->hold = rx->held = 0;
		b.lost = 0;	/* nothing of this stream came before */
		rx->sink.stream(rx->sink.ctx, rx->fs);
		if (!rx->started) {
			rx->started = 1;
			rxlife_streaming(rx->life);
		}
	}
	b.rssi_dbm = f.rssi_dbm;
	b.overflow = (f.flags & KIWI_FLAG_OVERFLOW) != 0;
	rx->sink.block(rx->sink.ctx, &b);
}

static void
on_message(struct rx *rx, const unsigned char *buf, size_t len)
{
	struct msg_ctx	 mc = { rx };

	if (len >= 3 && memcmp(buf, "MSG", 3) == 0)
		kiwi_parse_msg((const char *)buf + 3, len - 3, on_msg, &mc);
	else if (len >= 3 && memcmp(buf, "SND", 3) == 0)
		on_snd(rx, buf, len);
	/* W/F, EXT and others are not ours to read. */
}

/* ---- wsclient callbacks (loop thread) ---- */

static void
ws_open(void *ctx)
{
	struct rx	*rx = ctx;
	char		 pw[3 * sizeof rx->st.password];

	rxlife_connected(rx->life);
	rxlife_watch(rx->life, KIWI_START_S, "no audio from the receiver");
	/* The receiver URL-decodes the password (rx_cmd.cpp); encoded, a
	 * space or '%' in it cannot break the command. */
	if (kiwi_url_encode(rx->st.password, pw, sizeof pw) != 0)
		pw[0] = '\0';		/* cannot happen: 3x the field */
	send_text(rx, "SET auth t=kiwi p=%s", pw);
}

static void
ws_message(void *ctx, int binary, const unsigned char *p, size_t n)
{
	(void)binary;	/* the receiver sends all as binary; take either */
	on_message(ctx, p, n);
}

static void
ws_closed(void *ctx, const char *why)
{
	struct rx	*rx = ctx;

	rx->ws = NULL;		/* wsclient frees it */
	rxlife_closed(rx->life, why);
}

static const struct wsc_ops kiwi_ws_ops = { ws_open, ws_message, ws_closed };

/* ---- rxlife_ops (loop thread) ---- */

static void
life_connect(void *arg)
{
	struct rx	*rx = arg;
	char		 path[400], err[200], why[300];
	static unsigned	 seq;

	rx->frames = 0;
	rx->have_seq = 0;
	rx->gps_prev = 0;
	rx->gps_run = 0;
	rx->hold = rx->held = rx->started = 0;
	rx->fs = 0;
	rx->ticks = 0;
	/* A unique <ts> per connection: the receiver drops a second SND
	 * connection with the same one from the same IP. */
	snprintf(path, sizeof path, "%s/%u/SND", rx->st.path,
	    (unsigned)time(NULL) + (unsigned)getpid() + ++seq);
	/* Our own lean client on an lws raw socket: lws' WebSocket client
	 * (4.1) runs every received byte through its parser, which was 60 %
	 * of the recorder's CPU at 50 receivers (see wsclient.h). */
	rx->ws = wsc_connect(rxloop_context(rx->loop), rx->addr, rx->st.port,
	    rx->st.tls, rx->st.host, path, &kiwi_ws_ops, rx, err, sizeof err);
	if (rx->ws == NULL) {
		snprintf(why, sizeof why, "cannot connect to %s:%d: %s",
		    rx->st.host, rx->st.port, err);
		rxlife_closed(rx->life, why);
	}
}

static void
life_kill(void *arg, const char *why)
{
	struct rx	*rx = arg;

	if (rx->ws != NULL)
		wsc_drop(rx->ws, why);
}

static void
life_detach(void *arg)
{
	struct rx	*rx = arg;

	if (rx->ws != NULL) {
		/* 1001 "going away", as kiwirecorder ends; wsc_close detaches
		 * at once, so nothing of ours is touched after we free rx */
		wsc_close(rx->ws, 1001);
		rx->ws = NULL;
	}
}

static void
life_tick(void *arg, double now)
{
	struct rx	*rx = arg;

	(void)now;
	/* The receiver closes a channel after 60 s without keepalive;
	 * kiwirecorder sends one a second, and so do we (every 2nd tick). */
	if (++rx->ticks % 2 == 0)
		send_text(rx, "SET keepalive");
}

static struct rx *
kiwi_open(struct rxloop *loop, const struct station *st,
    const struct rx_params *p, const struct rx_sink *sink, char *err,
    size_t errlen)
{
	/* settle: the handshake is a few quick steps, each of which would
	 * otherwise wait out one of the loop's rests */
	static const struct rxlife_ops	ops = { life_connect, life_kill,
					    life_detach, life_tick, NULL };
	static const struct rxlife_cfg	cfg = { KIWI_TICK_S, 1 };
	struct rx			*rx;

	err[0] = '\0';
	rx = calloc(1, sizeof *rx);
	if (rx == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rx->loop = loop;
	rx->st = *st;
	rx->p = *p;
	rx->p.ident = NULL;	/* not copied: the default ident is used */
	rx->sink = *sink;
	if (rx_resolve(rx->st.host, rx->addr, sizeof rx->addr, err,
	    errlen) != 0 ||
	    (rx->life = rxlife_new(loop, sink, p->deadline, &cfg, &ops, rx,
	    err, errlen)) == NULL) {
		free(rx);
		return NULL;
	}
	if (rxlife_start(rx->life, err, errlen) != 0) {
		rxlife_free(rx->life);
		free(rx);
		return NULL;
	}
	return rx;
}

static void
kiwi_close(struct rx *rx)
{
	if (rx == NULL)
		return;
	rxlife_free(rx->life);
	free(rx->conv);
	free(rx);
}

/* kiwi runs on wsclient: the loop serves its protocol */
RXLOOP_PROTOCOL(wsc_protocol)

const struct rx_driver kiwi_driver = {
	"kiwisdr", 0, 30e6, kiwi_open, kiwi_close
};
