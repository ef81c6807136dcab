/* openwebrx.c -- OpenWebRX client: /status.json, WebSocket JSON protocol, profiles, ADPCM/int16 audio, S-meter. */

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "net/rx/openwebrx.h"
#include "net/rx/rxlife.h"
#include "net/rx/rxloop.h"
#include "src/base/station.h"
#include "src/base/util.h"

#define OWRX_OUTQ		8
#define OWRX_OUTLEN		512
#define OWRX_TICK_S		0.5

struct rx {
	struct rxloop		*loop;
	struct rxlife		*life;		/* the life cycle */
	struct station		 st;
	struct rx_params	 p;
	struct rx_sink		 sink;
	char			 addr[64];
	const char		*mode;
	int			 lo, hi;

	/* loop thread only */
	struct lws		*http;		/* GET /status.json */
	struct lws		*wsi;		/* the WebSocket */
	int			 ws_up;		/* wsi finished its handshake */

	int			 status_tried;
	char			*sbuf;
	size_t			 slen;
	json_t			*status;	/* NULL: not published */
	char			 want[160];	/* profile name to use */
	double			 want_center;

	unsigned char		*rbuf;
	size_t			 rlen, rcap;
	int			 toolong;
	char			 outq[OWRX_OUTQ][OWRX_OUTLEN];
	int			 oq_head, oq_n;
	int			 v11;		/* < 1.2: no SYNC framing */
	json_t			*cfg;		/* merged config */
	json_t			*profiles;	/* [{id, name}] */
	int			 started;	/* params + start sent for a
						   profile that covers us */
	double			 tuned_center;
	int			 streaming;
	struct owrx_adpcm	 dec;
	double			 smeter_db;
	int16_t			*conv;
	size_t			 conv_cap;
	int16_t			*pcm;
	size_t			 pcm_cap;
	size_t			 lost_pending;	/* ADPCM samples lost, for
						   the next block */
};

/* Last profile switch per host: all drivers run on the loop thread. */
static struct {
	char	host[256];
	double	t;
} switches[64];

/* ---- pure parts ---- */

static const int adpcm_steps[89] = {
	7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37,
	41, 45, 50, 55, 60, 66, 73, 80, 88, 97, 107, 118, 130, 143, 157, 173,
	190, 209, 230, 253, 279, 307, 337, 371, 408, 449, 494, 544, 598, 658,
	724, 796, 876, 963, 1060, 1166, 1282, 1411, 1552, 1707, 1878, 2066,
	2272, 2499, 2749, 3024, 3327, 3660, 4026, 4428, 4871, 5358, 5894, 6484,
	7132, 7845, 8630, 9493, 10442, 11487, 12635, 13899, 15289, 16818,
	18500, 20350, 22385, 24623, 27086, 29794, 32767
};
static const int adpcm_index[16] = {
	-1, -1, -1, -1, 2, 4, 6, 8, -1, -1, -1, -1, 2, 4, 6, 8
};

void
owrx_adpcm_init(struct owrx_adpcm *a, int sync)
{
	memset(a, 0, sizeof *a);
	a->sync = sync;
}

static int16_t
nibble(struct owrx_adpcm *a, int n)
{
	int	step = adpcm_steps[a->index], diff = step >> 3;

	if (n & 4)
		diff += step;
	if (n & 2)
		diff += step >> 1;
	if (n & 1)
		diff += step >> 2;
	if (n & 8)
		diff = -diff;
	a->pred += diff;
	if (a->pred > 32767)
		a->pred = 32767;
	else if (a->pred < -32768)
		a->pred = -32768;
	a->index += adpcm_index[n];
	if (a->index < 0)
		a->index = 0;
	else if (a->index > 88)
		a->index = 88;
	return (int16_t)a->pred;
}

/* Remember where zeros went (merging with the previous run). */
static void
note_fill(struct owrx_adpcm *a, size_t at, size_t n)
{
	if (a->nfills > 0 && a->fill_at[a->nfills - 1] +
	    a->fill_n[a->nfills - 1] == at)
		a->fill_n[a->nfills - 1] += n;
	else if (a->nfills < OWRX_FILLS) {
		a->fill_at[a->nfills] = at;
		a->fill_n[a->nfills++] = n;
	}
	/* more runs in one call cannot happen (a call is < 4 blocks):
	 * they would stay as zeros, uncounted */
}

/* Decode one data byte: low nibble first. */
static size_t
data_byte(struct owrx_adpcm *a, uint8_t b, int16_t *out)
{
	out[0] = nibble(a, b & 0x0f);
	out[1] = nibble(a, b >> 4);
	return 2;
}

size_t
owrx_adpcm_decode(struct owrx_adpcm *a, const uint8_t *in, size_t n,
    int16_t *out)
{
	static const uint8_t	 word[4] = { 'S', 'Y', 'N', 'C' };
	size_t			 i, o = 0;
	int			 k;

	a->nfills = 0;
	for (i = 0; i < n; i++) {
		uint8_t b = in[i];
		if (!a->sync) {
			o += data_byte(a, b, out + o);
			continue;
		}
		if (a->phase == 2) {
			/* "SYN" held + "C": the next block's header inside
			 * this block's data -- bytes were lost. */
			if (b == 'C' && a->nheld == 3 && a->held[0] == 'S' &&
			    a->held[1] == 'Y' && a->held[2] == 'N') {
				size_t miss = (size_t)(1001 - (a->count - 3));
				memset(out + o, 0, 2 * miss * sizeof *out);
				note_fill(a, o, 2 * miss);
				o += 2 * miss;
				a->filled += 2 * miss;
				a->nheld = 0;
				a->count = 0;
				a->phase = 1;
				continue;
			}
			if (a->nheld == 3) {
				o += data_byte(a, a->held[0], out + o);
				a->held[0] = a->held[1];
				a->held[1] = a->held[2];
				a->nheld = 2;
			}
			a->held[a->nheld++] = b;
			if (++a->count == 1001) {
				for (k = 0; k < a->nheld; k++)
					o += data_byte(a, a->held[k], out + o);
				a->nheld = 0;
				a->phase = 0;
				a->count = 0;
			}
		} else if (a->phase == 0) {
			/* As OpenWebRX's client: a mismatch restarts the
			 * search. Skipped bytes after the first SYNC were
			 * audio we cannot decode: zeros keep the length. */
			if (b == word[a->count])
				a->count++;
			else {
				size_t sk = (size_t)a->count + 1;
				a->count = b == 'S';
				sk -= (size_t)a->count;
				a->skipped += sk;
				if (a->synced) {
					memset(out + o, 0, 2 * sk * sizeof *out);
					note_fill(a, o, 2 * sk);
					o += 2 * sk;
					a->filled += 2 * sk;
				}
			}
			if (a->count == 4) {
				a->phase = 1;
				a->count = 0;
			}
		} else {
			a->state[a->count++] = b;
			if (a->count == 4) {
				int idx = (int16_t)(a->state[0] |
				    a->state[1] << 8);
				/* untrusted: keep the index in the table */
				a->index = idx < 0 ? 0 : idx > 88 ? 88 : idx;
				a->pred = (int16_t)(a->state[2] |
				    a->state[3] << 8);
				a->count = 0;
				a->phase = 2;
				a->synced = 1;
				a->resyncs++;
			}
		}
	}
	return o;
}

void
owrx_config_merge(json_t *cfg, json_t *delta)
{
	const char	*k;
	json_t		*v;

	json_object_foreach(delta, k, v) {
		if (json_is_null(v))
			json_object_del(cfg, k);
		else
			json_object_set(cfg, k, v);
	}
}

int
owrx_pick_profile(json_t *status, double f, int hi, char *name,
    size_t namelen, double *center, char *err, size_t errlen)
{
	json_t	*sdrs = json_object_get(status, "sdrs"), *sdr, *profs, *pr;
	size_t	 i, j, used = 0;
	double	 best = -1;
	char	 list[400] = "";

	json_array_foreach(sdrs, i, sdr) {
		const char *sn = json_string_value(json_object_get(sdr,
		    "name"));
		profs = json_object_get(sdr, "profiles");
		json_array_foreach(profs, j, pr) {
			const char *pn = json_string_value(json_object_get(pr,
			    "name"));
			json_t *c = json_object_get(pr, "center_freq");
			json_t *r = json_object_get(pr, "sample_rate");
			double cf, sr, margin;
			if (sn == NULL || pn == NULL || !json_is_number(c) ||
			    !json_is_number(r))
				continue;
			cf = json_number_value(c);
			sr = json_number_value(r);
			if (used < sizeof list - 1)
				used += (size_t)snprintf(list + used,
				    sizeof list - used, "%s%s %.3f-%.3f MHz",
				    used ? ", " : "", pn, (cf - sr / 2) / 1e6,
				    (cf + sr / 2) / 1e6);
			margin = sr / 2 - fabs(f - cf) - fabs((double)hi);
			if (margin >= 0 && margin > best) {
				best = margin;
				snprintf(name, namelen, "%s %s", sn, pn);
				*center = cf;
			}
		}
	}
	if (best >= 0)
		return 0;
	snprintf(err, errlen, "no profile of this OpenWebRX covers %.3f MHz "
	    "(profiles: %s)", f / 1e6, used ? list : "none published");
	return -1;
}

int
owrx_status_gps(json_t *status, double *lat, double *lon)
{
	json_t	*g = json_object_get(json_object_get(status, "receiver"),
		    "gps");
	json_t	*a = json_object_get(g, "lat"), *o = json_object_get(g, "lon");

	if (!json_is_number(a) || !json_is_number(o))
		return -1;
	*lat = json_number_value(a);
	*lon = json_number_value(o);
	if (!(*lat >= -90 && *lat <= 90 && *lon >= -180 && *lon <= 180))
		return -1;
	return 0;
}

/* ---- the connection (loop thread) ---- */

static void	connect_ws(struct rx *rx);

static void
send_text(struct rx *rx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
send_text(struct rx *rx, const char *fmt, ...)
{
	va_list	ap;
	int	slot;

	if (rx->oq_n == OWRX_OUTQ || rx->wsi == NULL)
		return;
	slot = (rx->oq_head + rx->oq_n) % OWRX_OUTQ;
	va_start(ap, fmt);
	vsnprintf(rx->outq[slot], OWRX_OUTLEN, fmt, ap);
	va_end(ap);
	rx->oq_n++;
	lws_callback_on_writable(rx->wsi);
}

/* The WebSocket is gone (why: its own word, or NULL). */
static void
gone(struct rx *rx, const char *why)
{
	rx->wsi = NULL;
	rx->ws_up = 0;
	rxlife_closed(rx->life, why);
}

static double *
last_switch(const char *host)
{
	int	i, free_slot = -1, oldest = 0;

	for (i = 0; i < 64; i++) {
		if (switches[i].host[0] == '\0') {
			if (free_slot < 0)
				free_slot = i;
		} else if (strcmp(switches[i].host, host) == 0)
			return &switches[i].t;
		else if (switches[i].t < switches[oldest].t)
			oldest = i;
	}
	i = free_slot >= 0 ? free_slot : oldest;
	snprintf(switches[i].host, sizeof switches[i].host, "%s", host);
	switches[i].t = -1e9;
	return &switches[i].t;
}

/* Switch to the wanted profile when the host's spacing allows. */
static void
maybe_switch(struct rx *rx)
{
	double	*t = last_switch(rx->st.host), now = util_mono();
	json_t	*p;
	size_t	 i;
	char	 why[300];

	if (rx->want[0] == '\0' || rx->profiles == NULL)
		return;
	if (now - *t < OWRX_SWITCH_S)
		return;		/* the tick tries again */
	json_array_foreach(rx->profiles, i, p) {
		const char *name = json_string_value(json_object_get(p,
		    "name"));
		const char *id = json_string_value(json_object_get(p, "id"));
		if (name != NULL && id != NULL && strcmp(name, rx->want) == 0 &&
		    strlen(id) < 200 && strchr(id, '"') == NULL &&
		    strchr(id, '\\') == NULL) {
			send_text(rx, "{\"type\":\"selectprofile\",\"params\":"
			    "{\"profile\":\"%s\"}}", id);
			*t = now;
			rx->want[0] = '\0';
			rxlife_watch(rx->life, OWRX_START_S,
			    "no audio from the receiver");
			return;
		}
	}
	snprintf(why, sizeof why, "OpenWebRX lists no profile named \"%.150s\"",
	    rx->want);
	rxlife_drop(rx->life, why, 1);
}

/* (Re)tune after a config: params + start when the current profile
 * covers the target, else ask for the profile that does. */
static void
tune(struct rx *rx)
{
	json_t	*c = json_object_get(rx->cfg, "center_freq");
	json_t	*r = json_object_get(rx->cfg, "samp_rate");
	double	 cf, sr, off;
	char	 err[500];

	if (!json_is_number(c) || !json_is_number(r))
		return;
	cf = json_number_value(c);
	sr = json_number_value(r);
	off = rx->p.freq_hz - cf;
	if (fabs(off) + fabs((double)rx->hi) <= sr / 2) {
		/* offset_freq must be a JSON integer: a float silently
		 * aborts the whole message on the server. */
		send_text(rx, "{\"type\":\"dspcontrol\",\"params\":{\"mod\":"
		    "\"%s\",\"offset_freq\":%lld,\"low_cut\":%d,\"high_cut\":"
		    "%d,\"squelch_level\":-150}}", rx->mode, llround(off),
		    rx->lo, rx->hi);
		send_text(rx, "{\"type\":\"dspcontrol\",\"action\":\"start\"}");
		if (!rx->started || rx->tuned_center != cf) {
			/* a new stream from here: its steps (start, the
			 * first audio) at the loop's short rests */
			rx->streaming = 0;
			rxlife_unsettled(rx->life);
		}
		rx->started = 1;
		rx->tuned_center = cf;
		if (!rx->streaming)
			rxlife_watch(rx->life, OWRX_START_S,
			    "no audio from the receiver");
		return;
	}
	/* Someone (maybe another user) moved the receiver off our
	 * frequency: its audio is not ours until we are back, and none is
	 * awaited before we have switched back (maybe_switch). */
	rx->started = 0;
	rx->streaming = 0;
	rxlife_watch(rx->life, 0, NULL);
	/* the switch back (maybe_switch, when the host's spacing allows),
	 * the new config, the tuning: a handshake again, at short rests */
	rxlife_unsettled(rx->life);
	if (rx->status == NULL) {
		snprintf(err, sizeof err, "%.3f MHz is outside the receiver's "
		    "current band (%.3f-%.3f MHz) and it publishes no profiles",
		    rx->p.freq_hz / 1e6, (cf - sr / 2) / 1e6,
		    (cf + sr / 2) / 1e6);
		rxlife_drop(rx->life, err, 1);
		return;
	}
	if (owrx_pick_profile(rx->status, rx->p.freq_hz, rx->hi, rx->want,
	    sizeof rx->want, &rx->want_center, err, sizeof err) != 0) {
		rxlife_drop(rx->life, err, 1);
		return;
	}
	maybe_switch(rx);
}

static void
on_json(struct rx *rx, json_t *m)
{
	const char	*type = json_string_value(json_object_get(m, "type"));
	json_t		*v = json_object_get(m, "value");
	char		 why[300];

	if (type == NULL)
		return;
	if (strcmp(type, "config") == 0 && json_is_object(v)) {
		/* the first is whole, later ones are deltas */
		owrx_config_merge(rx->cfg, v);
		if (json_object_get(v, "center_freq") != NULL ||
		    json_object_get(v, "samp_rate") != NULL ||
		    json_object_get(v, "profile_id") != NULL || !rx->started)
			tune(rx);
	} else if (strcmp(type, "profiles") == 0 && json_is_array(v)) {
		json_decref(rx->profiles);
		rx->profiles = json_incref(v);
		if (rx->want[0] != '\0')
			maybe_switch(rx);
	} else if (strcmp(type, "smeter") == 0 && json_is_number(v)) {
		double p = json_number_value(v);
		rx->smeter_db = p > 0 && isfinite(p) ? 10 * log10(p) : NAN;
	} else if (strcmp(type, "backoff") == 0) {
		const char *r = json_string_value(json_object_get(m, "reason"));
		snprintf(why, sizeof why, "receiver busy (backoff: %.150s)",
		    r != NULL ? r : "no reason given");
		rxlife_drop(rx->life, why, 0);
	} else if (strcmp(type, "sdr_error") == 0) {
		snprintf(why, sizeof why, "receiver's SDR failed: %.150s",
		    json_is_string(v) ? json_string_value(v) : "unknown");
		rxlife_drop(rx->life, why, 0);
	}
}

static void
on_text(struct rx *rx, const char *s, size_t len)
{
	json_error_t	 je;
	json_t		*m;
	const char	*v;
	int		 maj = 0, min = 0;

	if (len >= 16 && memcmp(s, "CLIENT DE SERVER", 16) == 0) {
		/* the message is not NUL-terminated: a bounded copy */
		char line[256];
		snprintf(line, sizeof line, "%.*s", (int)(len < 255 ? len : 255),
		    s);
		v = strstr(line, "version=");
		if (v != NULL && sscanf(v + 8, "v%d.%d", &maj, &min) >= 1)
			rx->v11 = maj < 1 || (maj == 1 && min < 2);
		/* v1.2 expects the properties after its reply */
		send_text(rx, "{\"type\":\"connectionproperties\",\"params\":"
		    "{\"output_rate\":%d,\"hd_output_rate\":48000}}",
		    OWRX_RATE);
		return;
	}
	m = json_loadb(s, len, 0, &je);
	if (m == NULL)
		return;		/* not ours to judge: other messages */
	on_json(rx, m);
	json_decref(m);
}

static int
grow(int16_t **buf, size_t *cap, size_t n)
{
	int16_t	*nb;

	if (*cap >= n)
		return 0;
	nb = realloc(*buf, 2 * n * sizeof *nb);
	if (nb == NULL)
		return -1;
	*buf = nb;
	*cap = n;
	return 0;
}

static void
on_audio(struct rx *rx, const uint8_t *p, size_t n)
{
	const char	*comp = json_string_value(json_object_get(rx->cfg,
			    "audio_compression"));
	int		 adpcm = comp != NULL && strcmp(comp, "adpcm") == 0;
	struct rx_block	 b;
	size_t		 m, i, from = 0;
	int		 f, nf;
	char		 why[64];

	if (!rx->started)
		return;		/* not (yet, or no longer) our frequency */
	if (!rx->streaming) {
		rx->streaming = 1;
		rx->lost_pending = 0;
		owrx_adpcm_init(&rx->dec, !rx->v11);
		rx->sink.stream(rx->sink.ctx, OWRX_RATE);
		rxlife_streaming(rx->life);
		snprintf(why, sizeof why, "no audio for %.0f s", OWRX_STALL_S);
		rxlife_watch(rx->life, OWRX_STALL_S, why);
	}
	rxlife_fed(rx->life);
	if (grow(&rx->pcm, &rx->pcm_cap, 2 * n + 2004) != 0 ||
	    grow(&rx->conv, &rx->conv_cap, 2 * n + 2004) != 0) {
		rxlife_drop(rx->life, "out of memory", 0);
		return;
	}
	if (adpcm)
		m = owrx_adpcm_decode(&rx->dec, p, n, rx->pcm);
	else {
		m = n / 2;	/* int16 little-endian */
		for (i = 0; i < m; i++)
			rx->pcm[i] = (int16_t)(uint16_t)(p[2 * i] |
			    p[2 * i + 1] << 8);
	}
	if (m == 0)
		return;
	/* real audio rides the complex path with Q = 0 (receiver.h) */
	for (i = 0; i < m; i++) {
		rx->conv[2 * i] = rx->pcm[i];
		rx->conv[2 * i + 1] = 0;
	}
	memset(&b, 0, sizeof b);
	b.t_arrival = util_now();
	b.gps_age = -1;
	b.rssi_dbm = rx->smeter_db;
	b.pos_valid = rx->status != NULL && owrx_status_gps(rx->status,
	    &b.latitude, &b.longitude) == 0;
	/* The decoder's zeros for lost ADPCM data go to the engine as lost
	 * samples (zero-filled and counted in samples_lost there), the
	 * audio around them as blocks. */
	nf = adpcm ? rx->dec.nfills : 0;
	for (f = 0; f <= nf; f++) {
		size_t to = f < nf ? rx->dec.fill_at[f] : m;
		if (to > from) {
			b.iq = rx->conv + 2 * from;
			b.n = to - from;
			b.lost = rx->lost_pending;
			rx->lost_pending = 0;
			rx->sink.block(rx->sink.ctx, &b);
		}
		if (f < nf) {
			rx->lost_pending += rx->dec.fill_n[f];
			from = to + rx->dec.fill_n[f];
		}
	}
}

static void
on_message(struct rx *rx, const unsigned char *buf, size_t len, int bin)
{
	if (!bin) {
		on_text(rx, (const char *)buf, len);
		return;
	}
	/* byte 0: 1 FFT, 2 audio, 3 secondary FFT, 4 HD audio */
	if (len >= 1 && buf[0] == 2)
		on_audio(rx, buf + 1, len - 1);
}

static void
status_done(struct rx *rx)
{
	json_error_t	 je;
	char		 err[500];

	rx->http = NULL;
	if (rx->status_tried)
		return;
	rx->status_tried = 1;
	if (rx->sbuf != NULL) {
		json_t *s = json_loadb(rx->sbuf, rx->slen, 0, &je);
		if (json_is_object(s) && json_is_array(json_object_get(s,
		    "sdrs")))
			rx->status = s;
		else
			json_decref(s);
	}
	free(rx->sbuf);
	rx->sbuf = NULL;
	/* The range check before recording, when profiles are published. */
	if (rx->status != NULL && owrx_pick_profile(rx->status,
	    rx->p.freq_hz, rx->hi, rx->want, sizeof rx->want,
	    &rx->want_center, err, sizeof err) != 0) {
		rx->want[0] = '\0';
		rxlife_drop(rx->life, err, 1);
		gone(rx, NULL);
		return;
	}
	rx->want[0] = '\0';	/* switched only if the current one misses */
	connect_ws(rx);
}

static int
owrx_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct rx	*rx = user;
	unsigned char	 buf[LWS_PRE + OWRX_OUTLEN];
	char		 hb[LWS_PRE + 2048], *px, why[200];
	int		 lenx;
	size_t		 n;

	if (rx == NULL)
		return 0;	/* detached by close() */
	if (wsi == rx->http) {
		switch (reason) {
		case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
			if (lws_http_client_http_response(wsi) != 200)
				status_done(rx);
			break;
		case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
			px = hb + LWS_PRE;
			lenx = (int)(sizeof hb - LWS_PRE);
			if (lws_http_client_read(wsi, &px, &lenx) < 0)
				return -1;
			break;
		case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ:
			if (rx->slen + len > OWRX_MAX_STATUS) {
				free(rx->sbuf);
				rx->sbuf = NULL;
				status_done(rx);	/* too big: ignored */
				return -1;
			} else {
				char *nb = realloc(rx->sbuf, rx->slen + len);
				if (nb == NULL)
					return -1;
				rx->sbuf = nb;
				memcpy(rx->sbuf + rx->slen, in, len);
				rx->slen += len;
			}
			break;
		case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
			status_done(rx);
			return -1;	/* no keep-alive: we are done */
		case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
			/* no status: go on without it (older servers) */
			free(rx->sbuf);
			rx->sbuf = NULL;
			status_done(rx);
			break;
		default:
			break;
		}
		return 0;
	}
	if (wsi != rx->wsi)	/* a finished HTTP request's leftovers */
		return reason == LWS_CALLBACK_RECEIVE_CLIENT_HTTP ? -1 : 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		snprintf(why, sizeof why, "cannot connect: %.150s",
		    in != NULL ? (const char *)in : "unknown error");
		gone(rx, why);
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		rx->ws_up = 1;
		rxlife_connected(rx->life);
		rxlife_watch(rx->life, OWRX_START_S,
		    "no audio from the receiver");
		send_text(rx, "SERVER DE CLIENT client=heimdall-rec "
		    "type=receiver");
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (rx->rlen + len > OWRX_MAX_MSG)
			rx->toolong = 1;
		else {
			if (rx->rlen + len > rx->rcap) {
				size_t cap = rx->rcap ? rx->rcap : 4096;
				unsigned char *nb;
				while (cap < rx->rlen + len)
					cap *= 2;
				if ((nb = realloc(rx->rbuf, cap)) == NULL) {
					rxlife_drop(rx->life, "out of memory",
					    0);
					break;
				}
				rx->rbuf = nb;
				rx->rcap = cap;
			}
			memcpy(rx->rbuf + rx->rlen, in, len);
			rx->rlen += len;
		}
		if (lws_is_final_fragment(wsi) &&
		    !lws_remaining_packet_payload(wsi)) {
			if (rx->toolong)
				rxlife_drop(rx->life, "message larger than "
				    "64 KiB", 0);
			else
				on_message(rx, rx->rbuf, rx->rlen,
				    lws_frame_is_binary(wsi));
			rx->rlen = 0;
			rx->toolong = 0;
		}
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (rx->oq_n == 0)
			break;
		/* one whole frame per write: the server's parser takes no
		 * fragments and no frame split across reads */
		n = strlen(rx->outq[rx->oq_head]);
		memcpy(buf + LWS_PRE, rx->outq[rx->oq_head], n);
		rx->oq_head = (rx->oq_head + 1) % OWRX_OUTQ;
		rx->oq_n--;
		if (lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT) < (int)n)
			return -1;
		if (rx->oq_n > 0)
			lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		gone(rx, NULL);
		break;
	default:
		break;
	}
	return 0;
}

/* rx_buffer_size: what one turn of the loop reads (rxloop.h): 4 KiB a
 * turn would not keep up with uncompressed audio at the loop's 200-ms
 * rests. */
static const struct lws_protocols openwebrx_protocol = {
	"openwebrx", owrx_callback, 0, RXLOOP_RX_BUF, 0, NULL, 0
};
RXLOOP_PROTOCOL(openwebrx_protocol)

/* A connection to this receiver's path (WebSocket unless i->method is
 * set): by its resolved address, with its own name as Host and Origin. */
static void
connect_info(struct rx *rx, struct lws_client_connect_info *i,
    const char *path)
{
	memset(i, 0, sizeof *i);
	i->context = rxloop_context(rx->loop);
	i->address = rx->addr;
	i->port = rx->st.port;
	i->path = path;
	i->host = rx->st.host;
	i->origin = rx->st.host;
	i->ssl_connection = rx->st.tls ? LCCSCF_USE_SSL : 0;
	i->local_protocol_name = openwebrx_protocol.name;
	i->userdata = rx;
}

static void
connect_ws(struct rx *rx)
{
	struct lws_client_connect_info	 i;
	char				 path[300], why[300];

	rx->ws_up = 0;
	rx->rlen = 0;
	rx->toolong = 0;
	rx->oq_n = 0;
	rx->started = 0;
	rx->streaming = 0;
	rx->v11 = 0;
	rx->smeter_db = NAN;
	json_object_clear(rx->cfg);
	json_decref(rx->profiles);
	rx->profiles = NULL;
	snprintf(path, sizeof path, "%s/ws/", rx->st.path);
	connect_info(rx, &i, path);
	rx->wsi = lws_client_connect_via_info(&i);
	if (rx->wsi == NULL) {
		snprintf(why, sizeof why, "cannot connect to %s:%d",
		    rx->st.host, rx->st.port);
		gone(rx, why);
	}
}

/* ---- rxlife_ops (loop thread) ---- */

static void
life_connect(void *arg)
{
	struct rx			*rx = arg;
	struct lws_client_connect_info	 i;
	char				 path[300];

	if (rx->status_tried) {
		connect_ws(rx);
		return;
	}
	/* First the receiver's published status: profiles, position. */
	snprintf(path, sizeof path, "%s/status.json", rx->st.path);
	connect_info(rx, &i, path);
	i.method = "GET";
	i.pwsi = &rx->http;	/* set before any callback runs */
	if (lws_client_connect_via_info(&i) == NULL && rx->http == NULL)
		status_done(rx);
}

static void
life_kill(void *arg, const char *why)
{
	struct rx	*rx = arg;

	(void)why;
	if (rx->wsi != NULL)
		lws_set_timeout(rx->wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
}

static void
life_detach(void *arg)
{
	struct rx	*rx = arg;

	if (rx->http != NULL) {
		lws_set_wsi_user(rx->http, NULL);
		lws_set_timeout(rx->http, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
		rx->http = NULL;
	}
	if (rx->wsi != NULL) {
		/* A close frame only on an open WebSocket: lws asserts its
		 * role (SIGABRT) when the connection is still being made --
		 * a full receiver's reconnect at the session's end. */
		if (rx->ws_up)
			lws_close_reason(rx->wsi, LWS_CLOSE_STATUS_GOINGAWAY,
			    NULL, 0);
		lws_set_wsi_user(rx->wsi, NULL);
		lws_set_timeout(rx->wsi, PENDING_TIMEOUT_USER_OK,
		    LWS_TO_KILL_ASYNC);
		rx->wsi = NULL;
	}
}

/* A profile switch waits for the host's spacing: tried every tick. */
static void
life_tick(void *arg, double now)
{
	struct rx	*rx = arg;

	(void)now;
	if (rx->want[0] != '\0')
		maybe_switch(rx);
}

static struct rx *
owrx_open(struct rxloop *loop, const struct station *st,
    const struct rx_params *p, const struct rx_sink *sink, char *err,
    size_t errlen)
{
	static const struct rxlife_ops	ops = { life_connect, life_kill,
					    life_detach, life_tick, NULL };
	static const struct rxlife_cfg	cfg = { OWRX_TICK_S, 0 };
	struct rx			*rx;

	err[0] = '\0';
	rx = calloc(1, sizeof *rx);
	if (rx == NULL || (rx->cfg = json_object()) == NULL) {
		free(rx);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rx->loop = loop;
	rx->st = *st;
	rx->p = *p;
	rx->p.ident = NULL;
	rx->sink = *sink;
	rx->smeter_db = NAN;
	/* mode points into our copy of the station, or is a literal */
	rx_audio_passband(&rx->st, p->high_cut, OWRX_RATE, &rx->mode, &rx->lo,
	    &rx->hi);
	if (rx_resolve(rx->st.host, rx->addr, sizeof rx->addr, err,
	    errlen) != 0 ||
	    (rx->life = rxlife_new(loop, sink, p->deadline, &cfg, &ops, rx,
	    err, errlen)) == NULL) {
		json_decref(rx->cfg);
		free(rx);
		return NULL;
	}
	if (rxlife_start(rx->life, err, errlen) != 0) {
		rxlife_free(rx->life);
		json_decref(rx->cfg);
		free(rx);
		return NULL;
	}
	return rx;
}

static void
owrx_close(struct rx *rx)
{
	if (rx == NULL)
		return;
	rxlife_free(rx->life);
	json_decref(rx->cfg);
	json_decref(rx->profiles);
	json_decref(rx->status);
	free(rx->sbuf);
	free(rx->rbuf);
	free(rx->conv);
	free(rx->pcm);
	free(rx);
}

const struct rx_driver openwebrx_driver = {
	/* the range comes from the receiver's profiles (/status.json) */
	"openwebrx", 0, 6e9, owrx_open, owrx_close
};
