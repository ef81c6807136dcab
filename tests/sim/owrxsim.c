/*
 * owrxsim.c -- the simulator's OpenWebRX stations (lws, the simulator's
 * main loop): GET /status.json, and the WebSocket at /ws/ speaking v1.2
 * (handshake reply, then JSON) or v1.1 (JSON first), config (full then
 * deltas), profiles, smeter; dspcontrol params checked as the real server
 * does (offset_freq must be an integer, an unknown key aborts the message);
 * selectprofile; audio frames (type 2) at 12000 samples/s as IMA ADPCM with
 * v1.2 SYNC blocks split across messages (v1.1: one continuous stream) or
 * int16 (comp=none).
 *
 * Profiles: "RTL-SDR" with "2m" (145.0 MHz, 2.4 MS/s) and "70cm" (433.0 MHz).
 * Audio truth (usb): the tone at center + offset Hz is heard at
 * f = tone - (profile center + offset_freq) if low_cut <= f <= high_cut,
 * amplitude A with A^2 fs / (4 sigma^2 (high - low)) = SNR (the SNR over the
 * audio passband of the real signal), plus real white Gaussian noise of
 * variance sigma^2 = 1e-4. smeter = A^2/2 + sigma^2, every 100 ms.
 * Faults: backoff (first `times` connections: backoff then close),
 * resync (from `after` s, every 4th SYNC block loses 300 bytes), profile
 * (at `after` s another user switches to the other profile), stall.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <libwebsockets.h>

#include "adpcm.h"
#include "sim.h"

#define ORATE		12000
#define OSIGMA2		1e-4
#define OQ		16
#define OQLEN		2048
#define ENC_MAX		8192

static struct lws_context *octx;

static const struct {
	const char	*id, *name;
	double		 center, rate;
} profs[2] = {
	{ "2m", "2m", 145.0e6, 2.4e6 },
	{ "70cm", "70cm", 433.0e6, 2.4e6 },
};

struct oconn {
	struct lws		*wsi;
	struct simst		*st;
	int			 n;
	int			 http;
	char			 body[4096];
	size_t			 blen;
	/* ws */
	char			 q[OQ][OQLEN];
	size_t			 qlen[OQ];
	int			 qbin[OQ];
	int			 qh, qn;
	int			 close_after;
	int			 hello;
	int			 prof;
	int			 have_params, started;
	char			 mod[16];
	long long		 offset;
	int			 lo, hi;
	double			 t_start, t_smeter, t_prof;
	uint64_t		 sent;
	double			 ph;
	uint64_t		 rng;
	struct sim_adpcm	 enc;		/* ADPCM encoder */
	int			 blk;		/* data bytes in this block */
	int			 nblk;
	int			 profile_done;
	lws_sorted_usec_list_t	 sul;
};

static double
gauss(uint64_t *s)
{
	double u, v;

	u = (sim_xorshift(s) >> 11) / 9007199254740992.0;
	v = (sim_xorshift(s) >> 11) / 9007199254740992.0;
	if (u < 1e-300)
		u = 1e-300;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

static void
qput(struct oconn *c, const void *p, size_t n, int bin)
{
	int	slot;

	if (c->qn == OQ || n > OQLEN)
		return;
	slot = (c->qh + c->qn) % OQ;
	memcpy(c->q[slot], p, n);
	c->qlen[slot] = n;
	c->qbin[slot] = bin;
	c->qn++;
	lws_callback_on_writable(c->wsi);
}

static void
qjson(struct oconn *c, json_t *j)
{
	char	*s = json_dumps(j, JSON_COMPACT);

	if (s != NULL)
		qput(c, s, strlen(s), 0);
	free(s);
	json_decref(j);
}

static json_t *
config_full(struct oconn *c)
{
	return json_pack("{s:s, s:{s:f, s:f, s:s, s:s, s:s, s:i}}", "type",
	    "config", "value", "center_freq", profs[c->prof].center,
	    "samp_rate", profs[c->prof].rate, "sdr_id", "rtlsdr",
	    "profile_id", profs[c->prof].id, "audio_compression",
	    c->st->int16 ? "none" : "adpcm", "fft_size", 4096);
}

static void
send_hello_json(struct oconn *c)
{
	qjson(c, json_pack("{s:s, s:{s:s, s:f, s:f}}", "type",
	    "receiver_details", "value", "receiver_name", c->st->name,
	    "receiver_gps_lat", 45.0 + c->st->k * 0.01, "receiver_gps_lon",
	    7.6 + c->st->k * 0.01));
	qjson(c, config_full(c));
	qjson(c, json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}]}", "type",
	    "profiles", "value", "id", "rtlsdr|2m", "name", "RTL-SDR 2m",
	    "id", "rtlsdr|70cm", "name", "RTL-SDR 70cm"));
}

/* Switch profile and tell the client with a config delta. */
static void
switch_profile(struct oconn *c, int p)
{
	c->prof = p;
	c->st->profile = p;	/* the SDR's, shared by its users */
	c->t_prof = sim_now();
	qjson(c, json_pack("{s:s, s:{s:f, s:f, s:s, s:s}}", "type", "config",
	    "value", "center_freq", profs[p].center, "samp_rate",
	    profs[p].rate, "sdr_id", "rtlsdr", "profile_id", profs[p].id));
}

/* As the server: any unknown key or wrong type ends the message. */
static void
on_dsp(struct oconn *c, json_t *params)
{
	const char	*k;
	json_t		*v;

	json_object_foreach(params, k, v) {
		if (strcmp(k, "mod") == 0 && json_is_string(v))
			snprintf(c->mod, sizeof c->mod, "%s",
			    json_string_value(v));
		else if (strcmp(k, "offset_freq") == 0 && json_is_integer(v))
			c->offset = json_integer_value(v);
		else if (strcmp(k, "low_cut") == 0 && json_is_integer(v))
			c->lo = (int)json_integer_value(v);
		else if (strcmp(k, "high_cut") == 0 && json_is_integer(v))
			c->hi = (int)json_integer_value(v);
		else if (strcmp(k, "squelch_level") == 0 && json_is_number(v))
			;
		else
			return;
	}
	c->have_params = 1;
}

static void
on_text(struct oconn *c, const char *msg, size_t len)
{
	json_t		*j, *p;
	const char	*type;
	char		 hs[128];

	if (len >= 16 && memcmp(msg, "SERVER DE CLIENT", 16) == 0) {
		if (c->st->fault == F_BACKOFF && c->n <= c->st->times) {
			qjson(c, json_pack("{s:s, s:s}", "type", "backoff",
			    "reason", "Too many clients"));
			c->close_after = 1;
			return;
		}
		snprintf(hs, sizeof hs, "CLIENT DE SERVER server=openwebrx "
		    "version=%s", c->st->v11 ? "v1.1.0" : "v1.2.1");
		if (c->st->v11) {
			send_hello_json(c);
			qput(c, hs, strlen(hs), 0);
		} else {
			qput(c, hs, strlen(hs), 0);
			send_hello_json(c);
		}
		c->hello = 1;
		return;
	}
	if (!c->hello || (j = json_loadb(msg, len, 0, NULL)) == NULL)
		return;
	type = json_string_value(json_object_get(j, "type"));
	p = json_object_get(j, "params");
	if (type != NULL && strcmp(type, "dspcontrol") == 0) {
		const char *a = json_string_value(json_object_get(j, "action"));
		if (a != NULL && strcmp(a, "start") == 0 && !c->started) {
			c->started = 1;
			c->t_start = sim_now();
			c->sent = 0;
		} else if (json_is_object(p))
			on_dsp(c, p);
	} else if (type != NULL && strcmp(type, "selectprofile") == 0) {
		const char *id = json_string_value(json_object_get(p,
		    "profile"));
		if (id != NULL && strcmp(id, "rtlsdr|2m") == 0)
			switch_profile(c, 0);
		else if (id != NULL && strcmp(id, "rtlsdr|70cm") == 0)
			switch_profile(c, 1);
	}
	json_decref(j);
}

static void
produce(struct oconn *c, double now)
{
	struct simst	*s = c->st;
	unsigned char	 out[ENC_MAX + 1];
	size_t		 o = 1;
	double		 fa, amp = 0, sd = sqrt(OSIGMA2), pw;
	uint64_t	 due, first = c->sent;
	int		 i, k, lossy;

	if (!c->started)
		return;
	if (s->fault == F_STALL && c->n <= s->times && now - c->t_start >
	    s->after)
		return;
	if (s->fault == F_PROFILE && !c->profile_done && now - c->t_start >
	    s->after) {
		c->profile_done = 1;	/* another user moves the receiver */
		switch_profile(c, !c->prof);
	}
	fa = s->center + s->offset - (profs[c->prof].center + c->offset);
	if (c->have_params && s->sig == SIG_TONE && fa >= c->lo && fa <= c->hi &&
	    c->hi > c->lo)
		amp = sqrt(pow(10, s->snr / 10) * 4 * OSIGMA2 * (c->hi - c->lo) /
		    ORATE);
	if (now - c->t_smeter > 0.1) {
		c->t_smeter = now;
		pw = amp * amp / 2 + OSIGMA2;
		qjson(c, json_pack("{s:s, s:f}", "type", "smeter", "value", pw));
	}
	due = (uint64_t)((now - c->t_start) * ORATE);
	/* ~240 samples (20 ms) per message: SYNC blocks straddle them */
	lossy = s->fault == F_RESYNC && now - c->t_start > s->after;
	out[0] = 2;
	/* at most 960 samples a message, so a late tick catches up */
	while (c->sent + 2 <= due && c->sent - first < 960) {
		int16_t sm[2];
		for (k = 0; k < 2; k++) {
			double x = amp * sin(c->ph) + sd * gauss(&c->rng);
			c->ph = fmod(c->ph + 2 * M_PI * fa / ORATE, 2 * M_PI);
			x = round(x * 32768);
			sm[k] = (int16_t)(x > 32767 ? 32767 : x < -32768 ?
			    -32768 : x);
		}
		c->sent += 2;
		if (s->int16) {
			for (k = 0; k < 2; k++) {
				out[o++] = (unsigned char)sm[k];
				out[o++] = (unsigned char)((uint16_t)sm[k] >>
				    8);
			}
			continue;
		}
		if (!s->v11 && c->blk == 0) {
			memcpy(out + o, "SYNC", 4);
			out[o + 4] = (unsigned char)c->enc.index;
			out[o + 5] = (unsigned char)(c->enc.index >> 8);
			out[o + 6] = (unsigned char)c->enc.pred;
			out[o + 7] = (unsigned char)((uint16_t)c->enc.pred >>
			    8);
			o += 8;
		}
		i = sim_adpcm_enc(&c->enc, sm[0]);
		i |= sim_adpcm_enc(&c->enc, sm[1]) << 4;
		/* resync fault: 300 bytes of every 4th block never arrive */
		if (!(lossy && c->nblk % 4 == 3 && c->blk >= 300 &&
		    c->blk < 600))
			out[o++] = (unsigned char)i;
		if (!s->v11 && ++c->blk == 1001) {
			c->blk = 0;
			c->nblk++;
		}
	}
	if (o > 1)
		qput(c, out, o, 1);
}

static void
conn_tick(lws_sorted_usec_list_t *sul)
{
	struct oconn	*c = lws_container_of(sul, struct oconn, sul);

	produce(c, sim_now());
	lws_sul_schedule(octx, 0, &c->sul, conn_tick, 20 * LWS_US_PER_MS);
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct oconn	*c = user;
	unsigned char	 buf[LWS_PRE + OQLEN], hdr[LWS_PRE + 512];
	unsigned char	*p, *end;
	char		 uri[128];
	json_t		*j;
	char		*s;
	int		 slot;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		memset(c, 0, sizeof *c);
		c->http = 1;
		c->st = lws_vhost_user(lws_get_vhost(wsi));
		if (strcmp((const char *)in, "/status.json") != 0) {
			lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND,
			    NULL);
			return -1;
		}
		j = json_pack("{s:{s:s, s:s, s:{s:f, s:f}, s:i, s:s}, s:i, "
		    "s:s, s:[{s:s, s:s, s:[{s:s, s:f, s:f}, {s:s, s:f, "
		    "s:f}]}]}", "receiver", "name", c->st->name, "admin",
		    "sim@example.org", "gps", "lat", 45.0 + c->st->k * 0.01,
		    "lon", 7.6 + c->st->k * 0.01, "asl", 300, "location",
		    "Simulated", "max_clients", 20, "version", c->st->v11 ?
		    "v1.1.0" : "v1.2.1", "sdrs", "name", "RTL-SDR", "type",
		    "rtl_sdr", "profiles", "name", "2m", "center_freq",
		    profs[0].center, "sample_rate", profs[0].rate, "name",
		    "70cm", "center_freq", profs[1].center, "sample_rate",
		    profs[1].rate);
		s = json_dumps(j, JSON_COMPACT);
		json_decref(j);
		c->blen = s != NULL ? strlen(s) : 0;
		if (c->blen >= sizeof c->body)
			c->blen = 0;
		memcpy(c->body, s != NULL ? s : "", c->blen);
		free(s);
		p = hdr + LWS_PRE;
		end = hdr + sizeof hdr - 1;
		if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK,
		    "application/json", c->blen, &p, end) ||
		    lws_finalize_write_http_header(wsi, hdr + LWS_PRE, &p, end))
			return 1;
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!c->http)
			break;
		memcpy(buf + LWS_PRE, c->body, c->blen);
		if (lws_write(wsi, buf + LWS_PRE, c->blen,
		    LWS_WRITE_HTTP_FINAL) != (int)c->blen)
			return 1;
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 ||
		    strcmp(uri, "/ws/") != 0)
			return -1;
		break;
	case LWS_CALLBACK_ESTABLISHED:
		memset(c, 0, sizeof *c);
		c->wsi = wsi;
		c->st = lws_vhost_user(lws_get_vhost(wsi));
		c->n = ++c->st->conns;
		c->prof = c->st->profile;
		c->rng = (uint64_t)c->st->k * 7919 + (uint64_t)c->n * 104729 + 1;
		lws_sul_schedule(octx, 0, &c->sul, conn_tick,
		    20 * LWS_US_PER_MS);
		break;
	case LWS_CALLBACK_RECEIVE:
		if (!lws_frame_is_binary(wsi))
			on_text(c, in, len);
		break;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (c->qn > 0) {
			slot = c->qh;
			memcpy(buf + LWS_PRE, c->q[slot], c->qlen[slot]);
			c->qh = (c->qh + 1) % OQ;
			c->qn--;
			if (lws_write(wsi, buf + LWS_PRE, c->qlen[slot],
			    c->qbin[slot] ? LWS_WRITE_BINARY : LWS_WRITE_TEXT)
			    < (int)c->qlen[slot])
				return -1;
			if (c->qn > 0 || c->close_after)
				lws_callback_on_writable(wsi);
			break;
		}
		if (c->close_after)
			return -1;
		break;
	case LWS_CALLBACK_CLOSED:
		lws_sul_schedule(octx, 0, &c->sul, NULL,
		    LWS_SET_TIMER_USEC_CANCEL);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "openwebrx", callback, sizeof(struct oconn), 4096, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

const struct lws_protocols *owrxsim_protocols = protocols;

void
owrxsim_init(struct lws_context *ctx)
{
	octx = ctx;
}
