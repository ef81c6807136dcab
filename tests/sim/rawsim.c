/*
 * rawsim.c -- the simulator's raw-TCP stations: rtl_tcp and SpyServer
 * servers on loopback, served by one poll() thread of the simulator.
 *
 * rtl_tcp: the 12-byte "RTL0" greeting, 5-byte commands (frequency, rate,
 * gain...), uint8 IQ paced in real time at the commanded rate (default
 * 2.048 MS/s). One client at a time: while one is connected the next is
 * not accepted (it waits in the listen queue and hears nothing, as with the
 * real server). Before the first tuning command and for 50 ms of samples
 * after each one the samples are "stale": uniform full-scale noise, easy
 * to see if a client keeps them. Faults: busy (another client holds the
 * dongle for `after` s, 0 = for ever), stall (after `after` s of streaming
 * no samples; the server ends the session after 5 s).
 *
 * SpyServer: HELLO -> DEVICE_INFO + CLIENT_SYNC; settings; int16 IQ
 * messages (1024 samples, sequence +1) at 6 MS/s / 2^stage once streaming
 * is enabled; a CLIENT_SYNC after each IQ_FREQUENCY. Faults: nodevice
 * (DeviceType 0, then EOF), full (EOF after HELLO), cancontrol0 (device
 * fixed at dev Hz, IQ center only within +-2.5 MHz of it), gap (every
 * 10th message not sent), stall.
 *
 * Signal truth: a tone at center + offset Hz (absolute) if it falls in the
 * tuned band, plus complex white Gaussian noise of power SIGMA2 (rtl_tcp
 * 1e-3, SpyServer 1e-4 of full scale) over the whole rate; the tone's
 * amplitude A gives A^2 / (SIGMA2 * 2 pb / rate) = SNR. rtl_tcp's tone
 * frequency is rounded to a multiple of rate / 2^21 (0.98 Hz).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

#define RAW_MAXCONN	256
#define TAB_N		(1u << 21)	/* rtl_tcp: 1.024 s at 2.048 MS/s */
#define RTL_SIGMA2	1e-3
#define SPY_SIGMA2	1e-4
#define SPY_SPM		1024		/* samples per IQ message */
#define SPY_MAXRATE	6000000
#define SPY_STAGES	9
#define SPY_VERSION	0x020006A4u
#define OUT_MAX		(1u << 20)	/* pending bytes per connection */

struct rconn {
	int		 fd;
	struct simst	*s;
	int		 n;		/* the station's n-th connection */
	double		 t_start;	/* UTC of sample 0 */
	uint64_t	 sent;		/* next sample index */
	unsigned char	*out;
	size_t		 olen, ooff;
	unsigned char	 in[600];
	size_t		 ilen;
	int		 closing;	/* close once out is flushed */
	double		 t_stall;
	uint64_t	 rng;
	/* rtl_tcp */
	double		 fc, rate;
	int		 tuned;
	uint64_t	 stale_end;
	const uint8_t	*tab;
	uint32_t	 tab_off;
	/* SpyServer */
	int		 streaming, format, stage;
	uint32_t	 seq;
	double		 iqf, devc;
	double		 ph_re, ph_im;
};

struct rtab {			/* an rtl_tcp station's signal for one tuning */
	uint8_t	*tab;
	double	 fc, rate;
};

static struct simst	*S;
static int		 NS;
static struct rtab	*tabs;
static struct rconn	*conns[RAW_MAXCONN];
static float		*gnoise;	/* TAB_N complex unit-power Gaussian */
static pthread_t	 thr;
static atomic_int	 stopping;	/* set by rawsim_stop, read by the loop */
static int		 running;
static double		 t_begin;

static uint32_t
rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static int
fault_now(struct rconn *c, enum fault f)
{
	if (c->s->fault != f)
		return 0;
	if (f == F_STALL || f == F_GAP)
		return c->n <= c->s->times;
	return 1;
}

/* Append to the connection's pending output; 0, or -1 if full. */
static int
out_put(struct rconn *c, const void *p, size_t n)
{
	if (c->ooff > 0 && c->olen + n > OUT_MAX) {
		memmove(c->out, c->out + c->ooff, c->olen - c->ooff);
		c->olen -= c->ooff;
		c->ooff = 0;
	}
	if (c->olen + n > OUT_MAX)
		return -1;
	memcpy(c->out + c->olen, p, n);
	c->olen += n;
	return 0;
}

static size_t
out_pending(const struct rconn *c)
{
	return c->olen - c->ooff;
}

/* ---- rtl_tcp ---- */

static const uint8_t *
rtl_table(struct rconn *c)
{
	struct simst	*s = c->s;
	struct rtab	*t = &tabs[s->k - 1];
	double		 sd = sqrt(RTL_SIGMA2 / 2), amp = 0, fb, m, w;
	double		 re = 1, im = 0, wr, wi, r2;
	uint32_t	 i, off;

	if (t->tab != NULL && t->fc == c->fc && t->rate == c->rate)
		return t->tab;
	if (t->tab == NULL && (t->tab = malloc(2 * TAB_N)) == NULL)
		return NULL;
	t->fc = c->fc;
	t->rate = c->rate;
	fb = s->center + s->offset - c->fc;
	m = round(fb / c->rate * TAB_N);	/* periodic in the table */
	if (s->sig == SIG_TONE && fabs(fb) < c->rate / 2)
		amp = sqrt(pow(10, s->snr / 10) * RTL_SIGMA2 * 2 * s->pb /
		    c->rate);
	w = 2 * M_PI * m / TAB_N;
	wr = cos(w);
	wi = sin(w);
	off = (uint32_t)s->k * 104729u;
	for (i = 0; i < TAB_N; i++) {
		uint32_t j = 2 * ((i + off) & (TAB_N - 1));
		double x = sd * gnoise[j] + amp * re;
		double y = sd * gnoise[j + 1] + amp * im;
		x = round(x * 127.5 + 127.5);
		y = round(y * 127.5 + 127.5);
		t->tab[2 * i] = (uint8_t)(x < 0 ? 0 : x > 255 ? 255 : x);
		t->tab[2 * i + 1] = (uint8_t)(y < 0 ? 0 : y > 255 ? 255 : y);
		r2 = re * wr - im * wi;
		im = re * wi + im * wr;
		re = r2;
		if ((i & 1023) == 1023) {
			double mag = hypot(re, im);
			re /= mag;
			im /= mag;
		}
	}
	return t->tab;
}

static void
rtl_command(struct rconn *c, const unsigned char *p, double now)
{
	uint32_t v = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 8 | p[4];
	uint64_t idx = (uint64_t)((now - c->t_start) * c->rate);

	switch (p[0]) {
	case 0x01:
		c->fc = v;
		c->tuned = 1;
		c->tab = NULL;
		/* samples already in the dongle's buffers: 50 ms */
		c->stale_end = (idx > c->sent ? idx : c->sent) +
		    (uint64_t)(0.05 * c->rate);
		break;
	case 0x02:
		/* the ranges librtlsdr accepts; others are ignored */
		if ((v > 225000 && v <= 300000) ||
		    (v > 900000 && v <= 3200000)) {
			c->t_start = now - (double)c->sent / v;
			c->rate = v;
			c->tab = NULL;
		}
		break;
	default:
		break;	/* gain, AGC...: accepted, no effect here */
	}
}

static int
rtl_produce(struct rconn *c, double now)
{
	unsigned char	 buf[65536];
	uint64_t	 due, n, i, k;
	size_t		 b;

	if (fault_now(c, F_STALL) && now - c->t_start > c->s->after) {
		if (c->t_stall == 0)
			c->t_stall = now;
		/* rtl_tcp ends the session after 5 s without samples */
		return now - c->t_stall > 5.0 ? -1 : 0;
	}
	due = (uint64_t)((now - c->t_start) * c->rate);
	if (due <= c->sent)
		return 0;
	if (out_pending(c) > OUT_MAX / 2) {
		c->s->skipped += due - c->sent;
		c->sent = due;	/* a slow reader loses samples */
		return 0;
	}
	if (c->tuned && c->tab == NULL && (c->tab = rtl_table(c)) == NULL)
		return -1;
	n = due - c->sent;
	if (n > 4 * 65536)
		n = 4 * 65536;
	for (i = 0; i < n; i += k) {
		k = n - i < sizeof buf / 2 ? n - i : sizeof buf / 2;
		uint64_t idx = c->sent + i;
		if (!c->tuned || idx < c->stale_end) {
			if (c->tuned && c->stale_end - idx < k)
				k = c->stale_end - idx;
			for (b = 0; b < 2 * k; b++)
				buf[b] = (unsigned char)(sim_xorshift(&c->rng) >> 56);
		} else {
			for (b = 0; b < k; b++) {
				uint32_t t = (uint32_t)((idx + b) &
				    (TAB_N - 1));
				buf[2 * b] = c->tab[2 * t];
				buf[2 * b + 1] = c->tab[2 * t + 1];
			}
		}
		if (out_put(c, buf, 2 * k) != 0)
			break;
	}
	c->sent += n;
	return 0;
}

static void
rtl_accept(struct rconn *c, double now)
{
	unsigned char	h[12];

	memcpy(h, "RTL0", 4);
	h[4] = h[5] = h[6] = 0;
	h[7] = (unsigned char)c->s->tuner;
	h[8] = h[9] = h[10] = 0;
	h[11] = 29;
	out_put(c, h, 12);
	c->fc = 100e6;
	c->rate = 2048000;
	c->t_start = now;
}

/* ---- SpyServer ---- */

static void
spy_msg(struct rconn *c, uint32_t type, uint32_t stream, uint32_t seq,
    const void *body, uint32_t len)
{
	unsigned char	h[20];

	sim_le32(h, SPY_VERSION);
	sim_le32(h + 4, type);
	sim_le32(h + 8, stream);
	sim_le32(h + 12, seq);
	sim_le32(h + 16, len);
	if (out_put(c, h, 20) == 0 && len > 0)
		out_put(c, body, len);
}

static int
spy_cancontrol(const struct rconn *c)
{
	return c->s->fault != F_CANCONTROL0;
}

static void
spy_sync(struct rconn *c)
{
	unsigned char	b[36];
	double		lo, hi;

	if (spy_cancontrol(c)) {
		lo = 24e6;
		hi = 1800e6;
	} else {
		lo = c->devc - 2.5e6;
		hi = c->devc + 2.5e6;
	}
	sim_le32(b, (uint32_t)spy_cancontrol(c));
	sim_le32(b + 4, 10);
	sim_le32(b + 8, (uint32_t)c->devc);
	sim_le32(b + 12, (uint32_t)c->iqf);
	sim_le32(b + 16, (uint32_t)c->iqf);
	sim_le32(b + 20, (uint32_t)lo);
	sim_le32(b + 24, (uint32_t)hi);
	sim_le32(b + 28, (uint32_t)lo);
	sim_le32(b + 32, (uint32_t)hi);
	spy_msg(c, 1, 0, 0, b, 36);
}

static int
spy_command(struct rconn *c, uint32_t type, const unsigned char *body,
    uint32_t len, double now)
{
	unsigned char	d[48];
	uint32_t	set, v;

	if (type == 0) {		/* HELLO */
		if (len < 4 || rd32(body) >> 24 != 2)
			return -1;
		if (c->s->fault == F_FULL)
			return -1;
		memset(d, 0, sizeof d);
		sim_le32(d, c->s->fault == F_NODEVICE ? 0 : 1);
		sim_le32(d + 4, 0x5e11a1u);
		sim_le32(d + 8, SPY_MAXRATE);
		sim_le32(d + 12, 5000000);
		sim_le32(d + 16, SPY_STAGES);
		sim_le32(d + 20, 21);
		sim_le32(d + 24, 21);
		sim_le32(d + 28, 24000000);
		sim_le32(d + 32, 1800000000u);
		sim_le32(d + 36, 12);
		sim_le32(d + 40, 0);
		sim_le32(d + 44, (uint32_t)c->s->forced);
		spy_msg(c, 0, 0, 0, d, 48);
		if (c->s->fault == F_NODEVICE) {
			c->closing = 1;
			return 0;
		}
		spy_sync(c);
		return 0;
	}
	if (type != 2 || len < 8)
		return 0;		/* PING and others: ignored */
	set = rd32(body);
	v = rd32(body + 4);
	switch (set) {
	case 1:				/* STREAMING_ENABLED */
		if (v && !c->streaming) {
			c->streaming = 1;
			c->t_start = now;
			c->sent = 0;
		} else if (!v)
			c->streaming = 0;
		break;
	case 100:			/* IQ_FORMAT */
		c->format = (int)v;
		break;
	case 101:			/* IQ_FREQUENCY */
		if (spy_cancontrol(c)) {
			c->iqf = v;
			c->devc = v;
		} else if (v >= c->devc - 2.5e6 && v <= c->devc + 2.5e6)
			c->iqf = v;	/* else silently not applied */
		spy_sync(c);
		break;
	case 102:			/* IQ_DECIMATION */
		if (v <= SPY_STAGES)
			c->stage = (int)v;
		break;
	default:
		break;
	}
	return 0;
}

static int
spy_produce(struct rconn *c, double now)
{
	struct simst	*s = c->s;
	unsigned char	 body[8 * SPY_SPM];
	int		 fmt = s->forced ? s->forced : c->format;
	size_t		 bps = fmt == 1 ? 2 : fmt == 2 ? 4 : 8;
	double		 rate, sd = sqrt(SPY_SIGMA2 / 2), amp = 0, fb;
	double		 wr, wi, r2;
	uint64_t	 due;
	int		 i;

	if (!c->streaming || (fmt != 1 && fmt != 2 && fmt != 4))
		return 0;
	if (fault_now(c, F_STALL) && now - c->t_start > s->after)
		return 0;
	rate = (double)SPY_MAXRATE / (1 << c->stage);
	due = (uint64_t)((now - c->t_start) * rate);
	fb = s->center + s->offset - c->iqf;
	if (s->sig == SIG_TONE && fabs(fb) < rate / 2)
		amp = sqrt(pow(10, s->snr / 10) * SPY_SIGMA2 * 2 * s->pb /
		    rate);
	wr = cos(2 * M_PI * fb / rate);
	wi = sin(2 * M_PI * fb / rate);
	while (c->sent + SPY_SPM <= due) {
		if (out_pending(c) > OUT_MAX / 2) {
			c->s->skipped += due - c->sent;
			c->sent = due;
			c->seq++;
			break;
		}
		for (i = 0; i < SPY_SPM; i++) {
			uint32_t j = 2 * ((uint32_t)sim_xorshift(&c->rng) &
			    (TAB_N - 1));
			double x = sd * gnoise[j] + amp * c->ph_re;
			double y = sd * gnoise[j + 1] + amp * c->ph_im;
			int16_t I, Q;
			x = round(x * 32768);
			y = round(y * 32768);
			I = (int16_t)(x > 32767 ? 32767 : x < -32768 ? -32768 :
			    x);
			Q = (int16_t)(y > 32767 ? 32767 : y < -32768 ? -32768 :
			    y);
			if (fmt == 2) {
				body[4 * i] = (unsigned char)I;
				body[4 * i + 1] = (unsigned char)((uint16_t)I >>
				    8);
				body[4 * i + 2] = (unsigned char)Q;
				body[4 * i + 3] = (unsigned char)((uint16_t)Q >>
				    8);
			} else if (fmt == 1) {
				/* uint8 around 128, rounded */
				long u = lround(x / 256.0) + 128;
				long v = lround(y / 256.0) + 128;
				body[2 * i] = (unsigned char)(u < 0 ? 0 :
				    u > 255 ? 255 : u);
				body[2 * i + 1] = (unsigned char)(v < 0 ? 0 :
				    v > 255 ? 255 : v);
			} else {
				float fi = (float)(x / 32768), fq = (float)(y /
				    32768);
				uint32_t u;
				memcpy(&u, &fi, 4);
				sim_le32(body + 8 * i, u);
				memcpy(&u, &fq, 4);
				sim_le32(body + 8 * i + 4, u);
			}
			r2 = c->ph_re * wr - c->ph_im * wi;
			c->ph_im = c->ph_re * wi + c->ph_im * wr;
			c->ph_re = r2;
		}
		r2 = hypot(c->ph_re, c->ph_im);
		c->ph_re /= r2;
		c->ph_im /= r2;
		c->sent += SPY_SPM;
		/* the gap fault: every 10th message lost on the way */
		if (fault_now(c, F_GAP) && c->seq % 10 == 9) {
			c->seq++;
			continue;
		}
		spy_msg(c, (uint32_t)(fmt == 1 ? 100 : fmt == 2 ? 101 : 103) |
		    (10u << 16), 1, c->seq++, body, (uint32_t)(bps * SPY_SPM));
	}
	return 0;
}

/* ---- the poll loop ---- */

static void
conn_close(int i)
{
	close(conns[i]->fd);
	free(conns[i]->out);
	free(conns[i]);
	conns[i] = NULL;
}

static int
station_busy(struct simst *s, double now)
{
	int	i;

	if (s->type == T_RTLTCP) {
		if (s->fault == F_BUSY && (s->after <= 0 ||
		    now - t_begin < s->after))
			return 1;	/* someone else holds the dongle */
		for (i = 0; i < RAW_MAXCONN; i++)
			if (conns[i] != NULL && conns[i]->s == s)
				return 1;
	}
	return 0;
}

static void
do_accept(struct simst *s, double now)
{
	struct rconn	*c;
	int		 fd, i, one = 1;

	fd = accept(s->lfd, NULL, NULL);
	if (fd < 0)
		return;
	for (i = 0; i < RAW_MAXCONN && conns[i] != NULL; i++)
		;
	if (i == RAW_MAXCONN || (c = calloc(1, sizeof *c)) == NULL) {
		close(fd);
		return;
	}
	if ((c->out = malloc(OUT_MAX)) == NULL) {
		free(c);
		close(fd);
		return;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->fd = fd;
	c->s = s;
	c->n = ++s->conns;
	c->rng = (uint64_t)s->k * 7919 + (uint64_t)c->n * 104729 + 1;
	c->ph_re = 1;
	c->devc = s->dev;
	c->iqf = s->dev;
	c->t_start = now;
	conns[i] = c;
	if (s->type == T_RTLTCP)
		rtl_accept(c, now);
}

/* Read what the client sent; -1: close. */
static int
do_read(struct rconn *c, double now)
{
	ssize_t		r;
	size_t		off = 0;

	r = read(c->fd, c->in + c->ilen, sizeof c->in - c->ilen);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
		return -1;
	if (r < 0)
		return 0;
	c->ilen += (size_t)r;
	if (c->s->type == T_RTLTCP) {
		for (; c->ilen - off >= 5; off += 5)
			rtl_command(c, c->in + off, now);
	} else {
		while (c->ilen - off >= 8) {
			uint32_t type = rd32(c->in + off);
			uint32_t len = rd32(c->in + off + 4);
			if (len > 256)
				return -1;	/* the real server's limit */
			if (c->ilen - off < 8 + len)
				break;
			if (spy_command(c, type, c->in + off + 8, len, now)
			    != 0)
				return -1;
			off += 8 + len;
		}
	}
	memmove(c->in, c->in + off, c->ilen - off);
	c->ilen -= off;
	return 0;
}

static int
do_write(struct rconn *c)
{
	ssize_t	w;

	if (out_pending(c) == 0)
		return c->closing ? -1 : 0;
	w = send(c->fd, c->out + c->ooff, out_pending(c), MSG_NOSIGNAL);
	if (w < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	c->ooff += (size_t)w;
	if (c->ooff == c->olen)
		c->ooff = c->olen = 0;
	return 0;
}

static void *
loop_main(void *arg)
{
	struct pollfd	 pf[RAW_MAXCONN + 1024];
	int		 who[RAW_MAXCONN + 1024];
	int		 i, np;
	double		 now;

	(void)arg;
	while (!stopping) {
		now = sim_now();
		np = 0;
		for (i = 0; i < NS && np < 1024; i++) {
			if (S[i].type == T_KIWI || S[i].type == T_OPENWEBRX ||
			    S[i].lfd < 0 ||
			    station_busy(&S[i], now))
				continue;
			pf[np].fd = S[i].lfd;
			pf[np].events = POLLIN;
			who[np++] = -1 - i;
		}
		for (i = 0; i < RAW_MAXCONN; i++) {
			if (conns[i] == NULL)
				continue;
			pf[np].fd = conns[i]->fd;
			pf[np].events = POLLIN |
			    (out_pending(conns[i]) ? POLLOUT : 0);
			who[np++] = i;
		}
		if (poll(pf, (nfds_t)np, 4) < 0 && errno != EINTR)
			break;
		now = sim_now();
		for (i = 0; i < np; i++) {
			if (!pf[i].revents)
				continue;
			if (who[i] < 0)
				do_accept(&S[-1 - who[i]], now);
			else if (conns[who[i]] != NULL &&
			    (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    do_read(conns[who[i]], now) != 0)
				conn_close(who[i]);
		}
		for (i = 0; i < RAW_MAXCONN; i++) {
			struct rconn *c = conns[i];
			int rc;
			if (c == NULL)
				continue;
			rc = c->s->type == T_RTLTCP ? rtl_produce(c, now) :
			    spy_produce(c, now);
			if (rc != 0 || do_write(c) != 0)
				conn_close(i);
		}
	}
	for (i = 0; i < RAW_MAXCONN; i++)
		if (conns[i] != NULL)
			conn_close(i);
	return NULL;
}

int
rawsim_listen(struct simst *st, int n, const char *host)
{
	struct sockaddr_in6	a6;
	struct sockaddr_in	a4;
	socklen_t		len;
	int			i, fd, one = 1, v6;

	S = st;
	NS = n;
	tabs = calloc((size_t)n, sizeof *tabs);
	if (tabs == NULL)
		return -1;
	v6 = strchr(host, ':') != NULL;
	for (i = 0; i < n; i++) {
		st[i].lfd = -1;
		if (st[i].type == T_KIWI || st[i].type == T_OPENWEBRX)
			continue;
		fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return -1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (v6) {
			memset(&a6, 0, sizeof a6);
			a6.sin6_family = AF_INET6;
			a6.sin6_port = htons((uint16_t)st[i].port);
			if (inet_pton(AF_INET6, host, &a6.sin6_addr) != 1 ||
			    bind(fd, (struct sockaddr *)&a6, sizeof a6) != 0)
				goto fail;
			len = sizeof a6;
			getsockname(fd, (struct sockaddr *)&a6, &len);
			st[i].port = ntohs(a6.sin6_port);
		} else {
			memset(&a4, 0, sizeof a4);
			a4.sin_family = AF_INET;
			a4.sin_port = htons((uint16_t)st[i].port);
			if (inet_pton(AF_INET, host, &a4.sin_addr) != 1 ||
			    bind(fd, (struct sockaddr *)&a4, sizeof a4) != 0)
				goto fail;
			len = sizeof a4;
			getsockname(fd, (struct sockaddr *)&a4, &len);
			st[i].port = ntohs(a4.sin_port);
		}
		if (listen(fd, 8) != 0)
			goto fail;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		st[i].lfd = fd;
	}
	return 0;
fail:
	fprintf(stderr, "heimdall-kiwisim: cannot listen on %s port %d: %s\n",
	    host, st[i].port, strerror(errno));
	close(fd);
	return -1;
}

int
rawsim_start(uint64_t seed)
{
	uint32_t	i;
	int		any = 0;

	for (i = 0; i < (uint32_t)NS; i++)
		any |= S[i].type == T_RTLTCP || S[i].type == T_SPYSERVER;
	if (!any)
		return 0;
	gnoise = malloc(2 * TAB_N * sizeof *gnoise);
	if (gnoise == NULL)
		return -1;
	seed = seed * 0x9e3779b97f4a7c15ULL + 12345;
	for (i = 0; i < 2 * TAB_N; i += 2) {
		double u = ((sim_xorshift(&seed) >> 11) + 1) / 9007199254740993.0;
		double v = (sim_xorshift(&seed) >> 11) / 9007199254740992.0;
		double r = sqrt(-2 * log(u));
		gnoise[i] = (float)(r * cos(2 * M_PI * v));
		gnoise[i + 1] = (float)(r * sin(2 * M_PI * v));
	}
	t_begin = sim_now();
	if (pthread_create(&thr, NULL, loop_main, NULL) != 0)
		return -1;
	running = 1;
	return 0;
}

void
rawsim_stop(void)
{
	int	i;

	if (running) {
		stopping = 1;
		pthread_join(thr, NULL);
		running = 0;
	}
	for (i = 0; tabs != NULL && i < NS; i++) {
		free(tabs[i].tab);
		/* for benchmarks: what a slow client made the server drop */
		if (S[i].type == T_RTLTCP || S[i].type == T_SPYSERVER)
			fprintf(stderr, "heimdall-kiwisim: station %d skipped "
			    "%llu samples\n", S[i].k,
			    (unsigned long long)S[i].skipped);
	}
	free(tabs);
	tabs = NULL;
	free(gnoise);
	gnoise = NULL;
}
