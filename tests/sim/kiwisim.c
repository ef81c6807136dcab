/*
 * kiwisim.c -- a KiwiSDR simulator: many receivers speaking the SND
 * protocol in IQ mode, on consecutive loopback ports, from one process.
 *
 *   heimdall-kiwisim [--count N] [--base-port P] [--host ADDR]
 *       [--stations-out FILE] [--station SPEC]... [--seed N]
 *       [--tls-cert PEM --tls-key PEM]
 *
 * SPEC: i=K,rate=HZ,offset=HZ,snr=DB,pb=HZ,gps=0|1,gpsoff=S,
 *       signal=tone|noise|count,
 *       fault=none|busy|badp|disabled|stall|drop|busy_midstream,after=S,
 *       times=K,overflow=0|1,name=TEXT,min=HZ,max=HZ
 * Defaults for station k: rate 12001 + 0.137 k, offset 500 + 250 k Hz,
 * SNR 20 dB over +-pb (5000) Hz, GPS on odd k, a tone, no fault.
 * gpsoff=S (float, +/-): the station's GPS clock reads S seconds ahead of
 * the host's (S < 0: behind), as when the recording host's clock is off.
 * gpsstale=N: the first N frames of a connection carry a stale GPS stamp
 * (7.5 s old, continuous among themselves), as a real receiver's first
 * stamp or two can be.
 *
 * Localization scenario (geosim.c, tests/sim/README.md): --tx lat=,lon=
 * [,bw=HZ,offset=HZ,mod=noise|pn,seed=N,carrier=DB,carrier_hz=HZ] puts a
 * transmitter on the ellipsoid; every KiwiSDR station then hears it
 * (signal=tx, GPS on, a rate in 12001.03-12001.20 S/s unless its SPEC says
 * otherwise), delayed by its geodesic distance / c, at txsnr=DB (20) in
 * the signal's band. A station's position: lat=,lon= in its SPEC, or
 * --positions FILE (a stations file's entries, in order), else the grid
 * of the stations file. Faults: clockus=US (its GPS stamps are US off the
 * samples' true time), moved=KM[,movedaz=DEG] (it really stands KM away,
 * towards azimuth DEG; the stations file keeps the claimed position),
 * gps=0 (no fix: last_gps_solution 255). --geo-out FILE writes the truth.
 *
 * More station types (rawsim.c, same process, any mix): type=rtl_tcp or
 * type=spyserver in a SPEC, with center=HZ (the tone is at center + offset,
 * absolute; default 145.5 MHz), tuner=N (rtl_tcp greeting, 5 R820T),
 * dev=HZ (SpyServer's fixed device center with fault=cancontrol0), and
 * their faults: rtl_tcp busy|stall, SpyServer nodevice|full|cancontrol0|
 * gap|stall. Their stations file entries are tcp://host:port.
 * type=openwebrx (owrxsim.c): ver=1.1|1.2, comp=adpcm|none, profile=0|1
 * (starts on 2m or 70cm), faults backoff|resync|profile|stall.
 *
 * With --tls-cert/--tls-key every KiwiSDR station serves TLS (wss) and the
 * stations file has https:// URLs for them. Once every port listens (and the
 * stations file is written) it prints "ready N FIRST_PORT". SIGTERM or
 * SIGINT stops it.
 *
 * Signal truth, for tests: sample i of a connection's stream is taken at
 * t_start + i/rate (t_start = when audio starts); a frame goes out when its
 * last sample's time has passed; GPS fields carry the true time of the
 * frame's first sample to the ns (plus gpsoff, plus clockus). Noise: complex white Gaussian, power 1e-4 of full
 * scale; the tone's amplitude A gives A^2 / (1e-4 * 2 pb / rate) = SNR.
 * S-meter: rssi_dbm = 10 log10(A^2 + 1e-4) - 30. "count": I = counter &
 * 0x7fff, Q = (counter >> 15) & 0x7fff, counter = sample index since the
 * stream began. "tx": the transmitter's s(u - delay) (geosim.h) plus the
 * same noise, drawn independently at each sample.
 */

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "geosim.h"
#include "sim.h"

#define SIM_MAX		1000
#define SPF		512		/* complex samples per SND frame */
#define NOISE_TAB	(1 << 16)
#define SIGMA2		KIWI_SIGMA2


struct conn {
	struct lws		*wsi;
	struct simst		*st;
	int			 n;		/* this station's n-th connection */
	int			 authed, got_mod, got_agc, got_ar;
	int			 streaming;
	double			 t_start;	/* UTC of sample 0 */
	int64_t			 t0_ns;		/* the same, exact (ns) */
	double			 rf_hz;		/* tuned to (SET mod freq=) */
	uint64_t		 sent;		/* samples sent */
	uint32_t		 seq;
	double			 t_keepalive;
	char			 outq[16][256];
	int			 oq_head, oq_n;
	int			 close_after;	/* close once outq is empty */
	int			 faulted;
	double			 ph_re, ph_im;	/* tone phasor */
	uint64_t		 rng;
	int			 killed;	/* keepalive expired */
	struct conn		*prev, *next;	/* conns: every connection */
};

static struct simst	 st[SIM_MAX];
static int		 nst = 7;
static float		*noise;		/* unit-variance Gaussian table */
static volatile sig_atomic_t stopping;
static struct lws_context *ctx;
static lws_sorted_usec_list_t tick;
/*
 * Every KiwiSDR connection, for one 10-ms tick (frames_tick) that asks
 * for a write only where a frame is due. A timer per connection, each
 * asking every 10 ms (three asks in four for nothing: a frame is 42.7
 * ms), woke the loop ~25,000 times a second at 250 stations, each wake a
 * poll() over every socket and an insertion into lws' sorted timer list:
 * most of the simulator's CPU in the fleet bench (bench/README.md,
 * fleet6). The frames and their bytes are the same; each still goes out
 * within a tick after its last sample's time.
 */
static lws_sorted_usec_list_t frames;
static struct conn	*conns;
static int64_t		 epoch_ns;	/* the --tx signal's time origin */

static int64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
make_noise(uint64_t seed)
{
	int	i;

	noise = malloc(NOISE_TAB * sizeof *noise);
	for (i = 0; i < NOISE_TAB; i += 2) {
		double u = ((sim_xorshift(&seed) >> 11) + 1) /
		    9007199254740993.0;
		double v = (sim_xorshift(&seed) >> 11) / 9007199254740992.0;
		double r = sqrt(-2 * log(u));
		noise[i] = (float)(r * cos(2 * M_PI * v));
		noise[i + 1] = (float)(r * sin(2 * M_PI * v));
	}
}

static void
queue_msg(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
queue_msg(struct conn *c, const char *fmt, ...)
{
	va_list	ap;
	int	slot;

	if (c->oq_n == 16)
		return;
	slot = (c->oq_head + c->oq_n) % 16;
	memcpy(c->outq[slot], "MSG ", 4);
	va_start(ap, fmt);
	vsnprintf(c->outq[slot] + 4, sizeof c->outq[slot] - 4, fmt, ap);
	va_end(ap);
	c->oq_n++;
	lws_callback_on_writable(c->wsi);
}

static int
fault_now(struct conn *c, enum fault f)
{
	if (c->st->fault != f)
		return 0;
	if (f == F_BADP || f == F_DISABLED)
		return 1;
	return c->n <= c->st->times;
}

static int16_t
q16(double x)
{
	x = x * 32768.0;
	x = x < 0 ? x - 0.5 : x + 0.5;
	if (x > 32767)
		return 32767;
	if (x < -32768)
		return -32768;
	return (int16_t)x;
}

static void
put_be16(unsigned char *p, int16_t v)
{
	p[0] = (unsigned char)((uint16_t)v >> 8);
	p[1] = (unsigned char)v;
}

/* One SND frame of the station's signal into out (20 + 4*SPF bytes). */
static void
make_frame(struct conn *c, unsigned char *out)
{
	struct simst	*s = c->st;
	double		 amp = 0, sd = sqrt(SIGMA2 / 2), rssi;
	double		 w_re, w_im, re, im, mag, pw = 0;
	int64_t		 ns, gpsoff_ns = llround(s->gpsoff * 1e9);
	unsigned char	 flags = 0x08;
	unsigned	 v, ni;
	int		 i;

	if (s->sig == SIG_TONE)
		amp = sqrt(pow(10, s->snr / 10) * SIGMA2 * 2 * s->pb / s->rate);
	if (s->sig == SIG_TX)
		pw = geosim_power(s);
	if (s->overflow && c->seq % 10 == 0)
		flags |= 0x02;
	memcpy(out, "SND", 3);
	out[3] = flags;
	sim_le32(out + 4, c->seq++);
	rssi = 10 * log10(amp * amp + pw + SIGMA2) - 30;
	v = (unsigned)((rssi + 127) * 10);
	out[8] = (unsigned char)(v >> 8);
	out[9] = (unsigned char)v;
	if (s->gps) {
		/*
		 * The true time of the frame's first sample, in integer ns:
		 * a double of UTC seconds resolves only 0.24 us. sent/rate
		 * in double is exact to ~1e-3 ns for days of samples.
		 * clock_us: a receiver whose stamps are wrong.
		 */
		ns = c->t0_ns + gpsoff_ns + llround((double)c->sent * 1e9 /
		    s->rate) + llround(s->clock_us * 1e3);
		if (c->sent / SPF < (uint64_t)s->gpsstale)
			ns -= 7500000000LL;
		/* UTC -> GPS: the GPS epoch and 18 leap seconds */
		ns -= (315964800LL - 18) * 1000000000LL;
		out[10] = 1;
		sim_le32(out + 12, (uint32_t)(ns / 1000000000 % 604800));
		sim_le32(out + 16, (uint32_t)(ns % 1000000000));
	} else {
		out[10] = 255;
		memset(out + 12, 0, 8);
	}
	out[11] = 0;
	w_re = cos(2 * M_PI * s->offset / s->rate);
	w_im = sin(2 * M_PI * s->offset / s->rate);
	ni = (unsigned)sim_xorshift(&c->rng) & (NOISE_TAB - 1);
	if (s->sig == SIG_TX) {
		float	sr[SPF], si[SPF];
		/* GPS time of sample 0 since the epoch: the signal follows
		 * the GPS time line (gpsoff moves it with the stamps,
		 * clock_us does not) */
		double	u0 = (double)(c->t0_ns - epoch_ns + gpsoff_ns) / 1e9 +
		    (double)c->sent / s->rate;

		geosim_fill(s, u0, c->rf_hz, sr, si, SPF);
		for (i = 0; i < SPF; i++) {
			/* independent noise draws at every sample: no two
			 * stations share a stretch of the table */
			uint64_t z = sim_xorshift(&c->rng);
			put_be16(out + 20 + 4 * i, q16(sr[i] + sd *
			    noise[z & (NOISE_TAB - 1)]));
			put_be16(out + 22 + 4 * i, q16(si[i] + sd *
			    noise[(z >> 16) & (NOISE_TAB - 1)]));
		}
		c->sent += SPF;
		return;
	}
	for (i = 0; i < SPF; i++) {
		int16_t I, Q;
		if (s->sig == SIG_COUNT) {
			uint64_t n = c->sent + (uint64_t)i;
			I = (int16_t)(n & 0x7fff);
			Q = (int16_t)((n >> 15) & 0x7fff);
		} else {
			re = sd * noise[ni];
			im = sd * noise[(ni + 1) & (NOISE_TAB - 1)];
			ni = (ni + 2) & (NOISE_TAB - 1);
			if (s->sig == SIG_TONE) {
				re += amp * c->ph_re;
				im += amp * c->ph_im;
				/* rotate the phasor: continuous across
				 * frames, no sin/cos per sample */
				double r2 = c->ph_re * w_re - c->ph_im * w_im;
				c->ph_im = c->ph_re * w_im + c->ph_im * w_re;
				c->ph_re = r2;
			}
			I = q16(re);
			Q = q16(im);
		}
		put_be16(out + 20 + 4 * i, I);
		put_be16(out + 22 + 4 * i, Q);
	}
	mag = sqrt(c->ph_re * c->ph_re + c->ph_im * c->ph_im);
	c->ph_re /= mag;
	c->ph_im /= mag;
	c->sent += SPF;
}

/* A frame is due: its last sample's time has passed. */
static int
frame_due(const struct conn *c, double now)
{
	return c->t_start + (double)(c->sent + SPF) / c->st->rate <= now;
}

static void
frames_tick(lws_sorted_usec_list_t *sul)
{
	struct conn	*c;
	double		 now = sim_now();

	for (c = conns; c != NULL; c = c->next) {
		if (c->killed)
			continue;
		if (now - c->t_keepalive > 60) {
			c->killed = 1;
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK,
			    LWS_TO_KILL_ASYNC);
			continue;
		}
		if (c->streaming && frame_due(c, now))
			lws_callback_on_writable(c->wsi);
	}
	lws_sul_schedule(ctx, 0, sul, frames_tick, 10 * LWS_US_PER_MS);
}

static void
on_text(struct conn *c, const char *msg)
{
	struct simst	*s = c->st;
	double		 lat, lon;

	c->t_keepalive = sim_now();
	if (strncmp(msg, "SET auth", 8) == 0) {
		if (fault_now(c, F_BADP)) {
			queue_msg(c, "badp=1");
			c->close_after = 1;
			return;
		}
		if (fault_now(c, F_DISABLED)) {
			queue_msg(c, "reason_disabled=Down%%20for%%20maintenance");
			c->close_after = 1;
			return;
		}
		c->authed = 1;
		queue_msg(c, "rx_chans=8");
		queue_msg(c, "chan_no_pwd=0");
		queue_msg(c, "badp=0");
		if (fault_now(c, F_BUSY)) {
			queue_msg(c, "too_busy=8");
			c->close_after = 1;
			return;
		}
		queue_msg(c, "version_maj=1 version_min=700 debian_ver=11 "
		    "model=2 platform=0 ext_clk=0 abyy=0 freq_offset=0.000");
		queue_msg(c, "center_freq=15000000");
		queue_msg(c, "bandwidth=30000000");
		geosim_claimed(s, s->k - 1, &lat, &lon);
		queue_msg(c, "load_cfg=%%7B%%22rx_gps%%22%%3A%%22(%.6f%%2C%%20"
		    "%.6f)%%22%%7D", lat, lon);
		queue_msg(c, "audio_init=0 audio_rate=12000");
		return;
	}
	if (!c->authed)
		return;
	if (strncmp(msg, "SET mod=", 8) == 0) {
		const char *f = strstr(msg, " freq=");
		double khz = f != NULL ? atof(f + 6) : 0;
		/* kHz; only the --tx signal's RF phase uses it */
		c->rf_hz = isfinite(khz) && fabs(khz) < 1e7 ? khz * 1e3 : 0;
		c->got_mod = 1;
	}
	else if (strncmp(msg, "SET agc=", 8) == 0)
		c->got_agc = 1;
	else if (strncmp(msg, "SET AR OK", 9) == 0)
		c->got_ar = 1;
	if (!c->streaming && c->got_mod && c->got_agc && c->got_ar) {
		/* The real server starts audio once it has all three. */
		c->streaming = 1;
		c->t0_ns = now_ns();
		c->t_start = (double)c->t0_ns / 1e9;
		lws_callback_on_writable(c->wsi);
	}
}

static int
send_due(struct lws *wsi, struct conn *c)
{
	unsigned char	 buf[LWS_PRE + 20 + 4 * SPF];
	struct simst	*s = c->st;
	double		 now = sim_now(), up = now - c->t_start;

	if (fault_now(c, F_DROP) && up > s->after)
		return -1;		/* abrupt close */
	if (fault_now(c, F_BUSY_MID) && up > s->after && !c->faulted) {
		c->faulted = 1;
		queue_msg(c, "too_busy=8");
		c->close_after = 1;
		return 0;
	}
	if (fault_now(c, F_STALL) && up > s->after)
		return 0;		/* silent, connection kept */
	if (!frame_due(c, now))
		return 0;
	make_frame(c, buf + LWS_PRE);
	if (lws_write(wsi, buf + LWS_PRE, 20 + 4 * SPF, LWS_WRITE_BINARY) < 0)
		return -1;
	if (frame_due(c, now))
		lws_callback_on_writable(wsi);	/* more due: catch up */
	return 0;
}

/* /<decimal ts>/SND, as the real server serves it. */
static int
path_ok(const char *p)
{
	const char	*q;

	if (*p++ != '/')
		return 0;
	for (q = p; *q >= '0' && *q <= '9'; q++)
		;
	return q > p && strcmp(q, "/SND") == 0;
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct conn	*c = user;
	unsigned char	 buf[LWS_PRE + 256];
	char		 uri[256], text[1024];
	size_t		 n;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
		    !path_ok(uri))
			return -1;
		break;
	case LWS_CALLBACK_ESTABLISHED:
		memset(c, 0, sizeof *c);
		c->wsi = wsi;
		c->st = lws_vhost_user(lws_get_vhost(wsi));
		c->n = ++c->st->conns;
		c->t_keepalive = sim_now();
		c->ph_re = 1;
		c->rng = (uint64_t)c->st->k * 7919 + (uint64_t)c->n * 104729 + 1;
		queue_msg(c, "sample_rate=%.3f", c->st->rate);
		c->next = conns;
		if (conns != NULL)
			conns->prev = c;
		conns = c;
		break;
	case LWS_CALLBACK_RECEIVE:
		n = len < sizeof text - 1 ? len : sizeof text - 1;
		memcpy(text, in, n);
		text[n] = '\0';
		on_text(c, text);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (c->oq_n > 0) {
			n = strlen(c->outq[c->oq_head]);
			memcpy(buf + LWS_PRE, c->outq[c->oq_head], n);
			c->oq_head = (c->oq_head + 1) % 16;
			c->oq_n--;
			if (lws_write(wsi, buf + LWS_PRE, n,
			    LWS_WRITE_BINARY) < (int)n)
				return -1;
			if (c->oq_n > 0 || c->streaming)
				lws_callback_on_writable(wsi);
			else if (c->close_after)
				lws_callback_on_writable(wsi);
			break;
		}
		if (c->close_after)
			return -1;
		if (c->streaming)
			return send_due(wsi, c);
		break;
	case LWS_CALLBACK_CLOSED:
		if (c->prev != NULL)
			c->prev->next = c->next;
		else if (conns == c)
			conns = c->next;
		if (c->next != NULL)
			c->next->prev = c->prev;
		c->prev = c->next = NULL;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "kiwi-snd", callback, sizeof(struct conn), 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
tick_cb(lws_sorted_usec_list_t *sul)
{
	/* Keeps lws_service() returning so a signal is noticed. */
	lws_sul_schedule(ctx, 0, sul, tick_cb, 100 * LWS_US_PER_MS);
}

/* A finite number in [lo, hi] from the whole of text. */
static int
spec_num(const char *text, double lo, double hi, double *out)
{
	char	*end;
	double	 v = strtod(text, &end);

	if (end == text || *end != '\0' || !isfinite(v) || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
parse_spec(const char *spec)
{
	char		*dup = strdup(spec), *tok, *save = NULL, *eq;
	struct simst	*s = NULL;
	int		 k = 0;

	for (tok = strtok_r(dup, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (strncmp(tok, "i=", 2) == 0)
			k = atoi(tok + 2);
	}
	free(dup);
	if (k < 1 || k > SIM_MAX) {
		fprintf(stderr, "heimdall-kiwisim: --station needs i=K (1..%d): "
		    "%s\n", SIM_MAX, spec);
		return -1;
	}
	s = &st[k - 1];
	dup = strdup(spec);
	for (tok = strtok_r(dup, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(tok, '=')) == NULL)
			goto bad;
		*eq++ = '\0';
		if (strcmp(tok, "i") == 0)
			continue;
		else if (strcmp(tok, "rate") == 0) {
			s->rate = atof(eq);
			s->rate_set = 1;
		}
		else if (strcmp(tok, "offset") == 0)
			s->offset = atof(eq);
		else if (strcmp(tok, "snr") == 0)
			s->snr = atof(eq);
		else if (strcmp(tok, "pb") == 0)
			s->pb = atof(eq);
		else if (strcmp(tok, "gps") == 0) {
			s->gps = atoi(eq);
			s->gps_set = 1;
		} else if (strcmp(tok, "lat") == 0) {
			if (spec_num(eq, -90, 90, &s->lat) != 0)
				goto bad;
		} else if (strcmp(tok, "lon") == 0) {
			if (spec_num(eq, -180, 180, &s->lon) != 0)
				goto bad;
		} else if (strcmp(tok, "txsnr") == 0) {
			if (spec_num(eq, -40, 30, &s->txsnr) != 0)
				goto bad;
		} else if (strcmp(tok, "clockus") == 0) {
			if (spec_num(eq, -1e6, 1e6, &s->clock_us) != 0)
				goto bad;
		} else if (strcmp(tok, "moved") == 0) {
			if (spec_num(eq, 0, 20000, &s->moved_km) != 0)
				goto bad;
		} else if (strcmp(tok, "movedaz") == 0) {
			if (spec_num(eq, -360, 360, &s->moved_az) != 0)
				goto bad;
		}
		else if (strcmp(tok, "gpsoff") == 0) {
			char *end;
			s->gpsoff = strtod(eq, &end);
			if (end == eq || *end != '\0' || !isfinite(s->gpsoff) ||
			    fabs(s->gpsoff) > 86400)
				goto bad;
		} else if (strcmp(tok, "gpsstale") == 0) {
			if ((s->gpsstale = atoi(eq)) < 0)
				goto bad;
		} else if (strcmp(tok, "after") == 0)
			s->after = atof(eq);
		else if (strcmp(tok, "times") == 0)
			s->times = atoi(eq);
		else if (strcmp(tok, "overflow") == 0)
			s->overflow = atoi(eq);
		else if (strcmp(tok, "min") == 0)
			s->min = atof(eq);
		else if (strcmp(tok, "max") == 0)
			s->max = atof(eq);
		else if (strcmp(tok, "name") == 0)
			snprintf(s->name, sizeof s->name, "%s", eq);
		else if (strcmp(tok, "center") == 0)
			s->center = atof(eq);
		else if (strcmp(tok, "dev") == 0)
			s->dev = atof(eq);
		else if (strcmp(tok, "tuner") == 0)
			s->tuner = atoi(eq);
		else if (strcmp(tok, "forced") == 0)
			s->forced = atoi(eq);
		else if (strcmp(tok, "ver") == 0)
			s->v11 = strcmp(eq, "1.1") == 0;
		else if (strcmp(tok, "comp") == 0)
			s->int16 = strcmp(eq, "none") == 0;
		else if (strcmp(tok, "profile") == 0)
			s->profile = atoi(eq) != 0;
		else if (strcmp(tok, "type") == 0) {
			if (strcmp(eq, "kiwisdr") == 0)
				s->type = T_KIWI;
			else if (strcmp(eq, "rtl_tcp") == 0)
				s->type = T_RTLTCP;
			else if (strcmp(eq, "spyserver") == 0)
				s->type = T_SPYSERVER;
			else if (strcmp(eq, "openwebrx") == 0)
				s->type = T_OPENWEBRX;
			else
				goto bad;
		}
		else if (strcmp(tok, "signal") == 0) {
			if (strcmp(eq, "tone") == 0)
				s->sig = SIG_TONE;
			else if (strcmp(eq, "noise") == 0)
				s->sig = SIG_NOISE;
			else if (strcmp(eq, "count") == 0)
				s->sig = SIG_COUNT;
			else if (strcmp(eq, "tx") == 0)
				s->sig = SIG_TX;
			else
				goto bad;
			s->sig_set = 1;
		} else if (strcmp(tok, "fault") == 0) {
			static const char *names[] = { "none", "busy", "badp",
			    "disabled", "stall", "drop", "busy_midstream",
			    "nodevice", "full", "cancontrol0", "gap", "backoff",
			    "resync", "profile" };
			int i;
			for (i = 0; i < 14; i++)
				if (strcmp(eq, names[i]) == 0)
					break;
			if (i == 14)
				goto bad;
			s->fault = (enum fault)i;
		} else
			goto bad;
	}
	free(dup);
	if (k > nst)
		nst = k;
	return 0;
bad:
	fprintf(stderr, "heimdall-kiwisim: bad --station item \"%s\" in %s\n",
	    tok, spec);
	free(dup);
	return -1;
}

static int
write_stations(const char *path, const char *host, int tls)
{
	json_t	*arr = json_array(), *root;
	char	 url[128], tmp[4096];
	double	 lat, lon;
	int	 i, rc;

	static const char *types[] = { "kiwisdr", "rtl_tcp", "spyserver",
	    "openwebrx" };

	for (i = 0; i < nst; i++) {
		snprintf(url, sizeof url, "%s://%s%s%s:%d",
		    st[i].type == T_KIWI || st[i].type == T_OPENWEBRX ?
		    (tls && st[i].type == T_KIWI ? "https" : "http") : "tcp",
		    strchr(host, ':') ? "[" : "", host,
		    strchr(host, ':') ? "]" : "", st[i].port);
		/* lat=/lon=/--positions, else a grid (the claimed position:
		 * moved=KM puts the true one elsewhere) */
		geosim_claimed(&st[i], i, &lat, &lon);
		json_array_append_new(arr, json_pack(
		    "{s:s, s:s, s:s, s:f, s:f, s:s, s:f, s:f}",
		    "name", st[i].name, "type", types[st[i].type], "url", url,
		    "latitude", lat, "longitude", lon,
		    "password", "", "frequency_min_hz", st[i].min,
		    "frequency_max_hz", st[i].max));
	}
	root = json_pack("{s:o}", "stations", arr);
	snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
	rc = json_dump_file(root, tmp, JSON_INDENT(1));
	json_decref(root);
	if (rc != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "heimdall-kiwisim: cannot write %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: heimdall-kiwisim [--count N] [--base-port P] "
	    "[--host ADDR] [--stations-out FILE]\n"
	    "                        [--station SPEC]... [--seed N]\n"
	    "SPEC: i=K,rate=HZ,offset=HZ,snr=DB,pb=HZ,gps=0|1,gpsoff=S,"
	    "signal=tone|noise|count,\n"
	    "      fault=none|busy|badp|disabled|stall|drop|busy_midstream,"
	    "after=S,times=K,\n      overflow=0|1,name=TEXT,min=HZ,max=HZ,\n"
	    "      type=kiwisdr|rtl_tcp|spyserver|openwebrx,center=HZ,dev=HZ,tuner=N,"
	    "forced=1|4\n"
	    "      (rtl_tcp faults: busy|stall; spyserver: nodevice|full|"
	    "cancontrol0|gap|stall)\n"
	    "      type=openwebrx: ver=1.1|1.2,comp=adpcm|none,profile=0|1\n"
	    "      (faults: backoff|resync|profile|stall)\n"
	    "      gpsoff=S: the GPS time in SND frames is S s (float, +/-) "
	    "ahead of the host clock\n"
	    "      gpsstale=N: the first N frames carry a stale GPS stamp\n"
	    "--tls-cert PEM --tls-key PEM: KiwiSDR stations serve wss "
	    "(https:// URLs)\n"
	    "Localization scenario (tests/sim/README.md):\n"
	    "--tx lat=DEG,lon=DEG[,bw=HZ,offset=HZ,mod=noise|pn,seed=N,"
	    "carrier=DB,carrier_hz=HZ]\n"
	    "      a transmitter every KiwiSDR station hears, delayed by its "
	    "geodesic distance / c\n"
	    "--positions FILE: stations 1.. at the latitude/longitude of a "
	    "stations file's entries\n"
	    "--geo-out FILE: write the truth (positions, distances, delays) "
	    "as JSON\n"
	    "SPEC (with --tx): lat=DEG,lon=DEG,txsnr=DB,clockus=US,"
	    "moved=KM,movedaz=DEG,signal=tx\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'c' },
		{ "base-port", required_argument, NULL, 'p' },
		{ "host", required_argument, NULL, 'H' },
		{ "stations-out", required_argument, NULL, 'o' },
		{ "station", required_argument, NULL, 's' },
		{ "seed", required_argument, NULL, 'S' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "tx", required_argument, NULL, 'T' },
		{ "positions", required_argument, NULL, 'P' },
		{ "geo-out", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct lws_context_creation_info info;
	const char	*out = NULL, *host = "127.0.0.1";
	const char	*cert = NULL, *key = NULL;
	const char	*positions = NULL, *geo_out = NULL;
	char		*specs[SIM_MAX];
	int		 nspecs = 0, base = 18073, ch, i;
	uint64_t	 seed = 1;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			nst = atoi(optarg);
			if (nst < 1 || nst > SIM_MAX) {
				fprintf(stderr, "heimdall-kiwisim: --count must "
				    "be 1..%d\n", SIM_MAX);
				return 64;
			}
			break;
		case 'p':
			base = atoi(optarg);
			break;
		case 'H':
			host = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 's':
			if (nspecs < SIM_MAX)
				specs[nspecs++] = optarg;
			break;
		case 'S':
			seed = strtoull(optarg, NULL, 10);
			break;
		case 'C':
			cert = optarg;
			break;
		case 'K':
			key = optarg;
			break;
		case 'T':
			if (geosim_parse_tx(optarg) != 0)
				return 64;
			break;
		case 'P':
			positions = optarg;
			break;
		case 'G':
			geo_out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 64;
		}
	}
	for (i = 0; i < SIM_MAX; i++) {
		st[i].k = i + 1;
		snprintf(st[i].name, sizeof st[i].name, "Sim %d", i + 1);
		st[i].rate = 12001.0 + 0.137 * (i + 1);
		st[i].offset = 500 + 250 * (i + 1);
		st[i].snr = 20;
		st[i].pb = 5000;
		st[i].gps = (i + 1) % 2;
		st[i].times = 1;
		st[i].max = 30e6;
		st[i].center = 145.5e6;
		st[i].tuner = 5;
		st[i].lat = st[i].lon = NAN;
		st[i].txsnr = 20;
	}
	if (positions != NULL && geosim_positions(positions, st, SIM_MAX) < 0)
		return 64;
	for (i = 0; i < nspecs; i++)
		if (parse_spec(specs[i]) != 0)
			return 64;
	for (i = 0; i < nst; i++) {
		if (st[i].type != T_KIWI || !geotx.on) {
			if (st[i].sig == SIG_TX) {
				fprintf(stderr, "heimdall-kiwisim: station %d: "
				    "signal=tx needs --tx and a KiwiSDR "
				    "station\n", i + 1);
				return 64;
			}
			continue;
		}
		/* The scenario's defaults: every KiwiSDR station hears the
		 * transmitter, has GPS, and a rate like a real receiver's
		 * (12001.03-12001.20 S/s; 3 decimals, as sample_rate= says
		 * it) */
		if (!st[i].sig_set)
			st[i].sig = SIG_TX;
		if (!st[i].gps_set)
			st[i].gps = 1;
		if (!st[i].rate_set)
			st[i].rate = 12001.030 + 0.001 * ((37 * (i + 1)) % 171);
	}
	if (geo_out != NULL && !geotx.on) {
		fprintf(stderr, "heimdall-kiwisim: --geo-out needs --tx\n");
		return 64;
	}
	if (geosim_setup(st, nst) != 0)
		return 64;
	/* the --tx signal's time origin: a whole second before any stream
	 * starts, so its time u stays small and exact in double */
	epoch_ns = (now_ns() / 1000000000 - 1) * 1000000000;
	if ((cert == NULL) != (key == NULL)) {
		fprintf(stderr, "heimdall-kiwisim: --tls-cert and --tls-key go "
		    "together\n");
		return 64;
	}
	for (i = 0; i < nst; i++) {
		if (st[i].type == T_KIWI)
			continue;
		if (st[i].type == T_OPENWEBRX) {
			/* its profiles say what it covers */
			if (st[i].max == 30e6)
				st[i].max = 6e9;
			continue;
		}
		/* the stations file range: what the device covers */
		if (st[i].max == 30e6)
			st[i].max = st[i].type == T_RTLTCP ? 1766e6 : 1800e6;
		if (st[i].min == 0)
			st[i].min = 24e6;
		if (st[i].dev == 0)
			st[i].dev = st[i].center;
	}
	make_noise(seed);

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
	if (cert != NULL)
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	ctx = lws_create_context(&info);
	if (ctx == NULL) {
		fprintf(stderr, "heimdall-kiwisim: cannot create context\n");
		return 1;
	}
	for (i = 0; i < nst; i++)
		st[i].port = base > 0 ? base + i : 0;
	if (rawsim_listen(st, nst, host) != 0) {
		lws_context_destroy(ctx);
		return 1;
	}
	owrxsim_init(ctx);
	for (i = 0; i < nst; i++) {
		if (st[i].type != T_KIWI && st[i].type != T_OPENWEBRX)
			continue;
		memset(&info, 0, sizeof info);
		info.port = base > 0 ? base + i : 0;
		info.iface = host;
		info.protocols = st[i].type == T_KIWI ? protocols :
		    owrxsim_protocols;
		info.user = &st[i];
		info.vhost_name = st[i].name;
		if (cert != NULL && st[i].type == T_KIWI) {
			info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
			info.ssl_cert_filepath = cert;
			info.ssl_private_key_filepath = key;
		}
		st[i].vh = lws_create_vhost(ctx, &info);
		if (st[i].vh == NULL) {
			fprintf(stderr, "heimdall-kiwisim: cannot listen on %s "
			    "port %d\n", host, info.port);
			lws_context_destroy(ctx);
			return 1;
		}
		st[i].port = lws_get_vhost_listen_port(st[i].vh);
	}
	if (out != NULL && write_stations(out, host, cert != NULL) != 0) {
		lws_context_destroy(ctx);
		return 1;
	}
	if (geo_out != NULL && geosim_write_truth(geo_out, st, nst) != 0) {
		lws_context_destroy(ctx);
		return 1;
	}
	if (rawsim_start(seed) != 0) {
		fprintf(stderr, "heimdall-kiwisim: cannot start the raw-TCP "
		    "stations\n");
		lws_context_destroy(ctx);
		return 1;
	}
	printf("ready %d %d\n", nst, st[0].port);
	fflush(stdout);
	lws_sul_schedule(ctx, 0, &tick, tick_cb, 100 * LWS_US_PER_MS);
	lws_sul_schedule(ctx, 0, &frames, frames_tick, 10 * LWS_US_PER_MS);
	while (!stopping)
		if (lws_service(ctx, 0) < 0)
			break;
	rawsim_stop();
	lws_context_destroy(ctx);
	free(noise);
	return 0;
}
