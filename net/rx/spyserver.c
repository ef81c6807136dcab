/* spyserver.c -- SpyServer client: HELLO, device info, sync, settings, IQ messages, sequence gaps. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/rx/spyserver.h"
#include "net/rx/rawtcp.h"
#include "src/base/station.h"
#include "src/base/util.h"

/* message types (low 16 bits) */
#define MSG_DEVICE_INFO	0
#define MSG_CLIENT_SYNC	1
#define MSG_IQ_U8	100
#define MSG_IQ_S16	101
#define MSG_IQ_S24	102
#define MSG_IQ_F32	103
/* commands and settings */
#define CMD_HELLO	0
#define CMD_SET		2
#define SET_MODE	0
#define SET_ENABLED	1
#define SET_GAIN	2
#define SET_IQ_FORMAT	100
#define SET_IQ_FREQ	101
#define SET_IQ_DECIM	102
#define SET_IQ_DGAIN	103

struct rx {
	struct rawtcp	*rt;
	struct rxlife	*life;		/* rt's */
	double		 freq;
	int		 low_cut, high_cut;

	/* per connection (loop thread) */
	uint8_t		 hdr[SPY_HDR];
	size_t		 nhdr;
	struct spy_hdr	 h;
	uint8_t		*body;
	size_t		 nbody, bodycap;
	int		 have_info, have_sync, sent_settings, streaming;
	struct spy_devinfo info;
	struct spy_sync	 sync;
	double		 fs;
	uint32_t	 seq;
	size_t		 spm;		/* samples in the last message */
	double		 t_conn;
	int16_t		*conv;
	size_t		 conv_cap;
};

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

int
spy_parse_header(const uint8_t *p, struct spy_hdr *h, char *err,
    size_t errlen)
{
	h->protocol = le32(p);
	h->type = le32(p + 4);
	h->stream = le32(p + 8);
	h->seq = le32(p + 12);
	h->size = le32(p + 16);
	/* the major version: a server of another protocol generation */
	if (h->protocol >> 24 != SPY_PROTOCOL >> 24) {
		snprintf(err, errlen, "not a SpyServer (protocol 0x%08x)",
		    h->protocol);
		return -1;
	}
	if (h->size > SPY_MAX_BODY) {
		snprintf(err, errlen, "SpyServer message of %u bytes (at most "
		    "%u)", h->size, SPY_MAX_BODY);
		return -1;
	}
	return 0;
}

int
spy_parse_devinfo(const uint8_t *p, size_t n, struct spy_devinfo *d,
    char *err, size_t errlen)
{
	if (n < 48) {
		snprintf(err, errlen, "SpyServer device info too short (%zu "
		    "bytes)", n);
		return -1;
	}
	d->device_type = le32(p);
	d->serial = le32(p + 4);
	d->max_rate = le32(p + 8);
	d->max_bandwidth = le32(p + 12);
	d->stages = le32(p + 16);
	d->gain_stages = le32(p + 20);
	d->max_gain = le32(p + 24);
	d->min_freq = le32(p + 28);
	d->max_freq = le32(p + 32);
	d->resolution = le32(p + 36);
	d->min_decim = le32(p + 40);
	d->forced_format = le32(p + 44);
	if (d->device_type != 0 && (d->max_rate < 1000 || d->stages > 32 ||
	    d->min_freq > d->max_freq)) {
		snprintf(err, errlen, "SpyServer device info is inconsistent "
		    "(rate %u, %u stages, %u-%u Hz)", d->max_rate, d->stages,
		    d->min_freq, d->max_freq);
		return -1;
	}
	return 0;
}

int
spy_parse_sync(const uint8_t *p, size_t n, struct spy_sync *s, char *err,
    size_t errlen)
{
	if (n < 36) {
		snprintf(err, errlen, "SpyServer client sync too short (%zu "
		    "bytes)", n);
		return -1;
	}
	s->can_control = le32(p);
	s->gain = le32(p + 4);
	s->device_center = le32(p + 8);
	s->iq_center = le32(p + 12);
	s->fft_center = le32(p + 16);
	s->min_iq = le32(p + 20);
	s->max_iq = le32(p + 24);
	s->min_fft = le32(p + 28);
	s->max_fft = le32(p + 32);
	return 0;
}

int
spy_pick_stage(const struct spy_devinfo *d, int low_cut, int high_cut)
{
	double	edge = fmax(fabs((double)low_cut), fabs((double)high_cut));
	double	want = fmax(SPY_OUT_RATE, 2.4 * edge);
	int	s, best = -1;

	for (s = (int)d->min_decim; s < (int)d->stages && s < 32; s++)
		if ((double)d->max_rate / (double)(1u << s) >= want)
			best = s;
	return best;
}

size_t
spy_command(uint8_t *out, uint32_t type, const void *body, size_t n)
{
	put32(out, type);
	put32(out + 4, (uint32_t)n);
	memcpy(out + 8, body, n);
	return 8 + n;
}

size_t
spy_setting(uint8_t *out, uint32_t setting, uint32_t value)
{
	uint8_t	b[8];

	put32(b, setting);
	put32(b + 4, value);
	return spy_command(out, CMD_SET, b, 8);
}

/* ---- the driver (loop thread) ---- */

static void
on_connected(void *arg)
{
	struct rx	*rx = arg;
	uint8_t		 b[64], body[40];
	const char	*name = "heimdall-rec";

	rx->nhdr = 0;
	rx->nbody = 0;
	rx->have_info = rx->have_sync = rx->sent_settings = 0;
	rx->streaming = 0;
	rx->t_conn = util_mono();
	rxlife_watch(rx->life, SPY_HELLO_S, "SpyServer did not answer HELLO");
	put32(body, SPY_PROTOCOL);
	memcpy(body + 4, name, strlen(name));
	rawtcp_send(rx->rt, b, spy_command(b, CMD_HELLO, body,
	    4 + strlen(name)));
}

static void
send_settings(struct rx *rx, int stage)
{
	uint8_t	b[8 * 16], *p = b;

	/* SDR++'s order: format, decimation, frequency, mode, gain,
	 * digital gain, enable. */
	p += spy_setting(p, SET_IQ_FORMAT, 2);		/* int16 */
	p += spy_setting(p, SET_IQ_DECIM, (uint32_t)stage);
	p += spy_setting(p, SET_IQ_FREQ, (uint32_t)llround(rx->freq));
	p += spy_setting(p, SET_MODE, 1);		/* IQ only */
	if (rx->sync.can_control)	/* fixed: comparable levels */
		p += spy_setting(p, SET_GAIN, rx->info.max_gain / 2);
	p += spy_setting(p, SET_IQ_DGAIN, 0);
	p += spy_setting(p, SET_ENABLED, 1);
	rawtcp_send(rx->rt, b, (size_t)(p - b));
	rx->sent_settings = 1;
}

static void
on_info(struct rx *rx)
{
	char	err[200];

	if (spy_parse_devinfo(rx->body, rx->nbody, &rx->info, err,
	    sizeof err) != 0) {
		rxlife_drop(rx->life, err, 1);
		return;
	}
	if (rx->info.device_type == 0) {
		/* the server runs but its SDR is absent or taken */
		rxlife_drop(rx->life, "SpyServer has no device (DeviceType 0)",
		    0);
		return;
	}
	if (rx->freq < rx->info.min_freq || rx->freq > rx->info.max_freq) {
		snprintf(err, sizeof err, "%.3f MHz is outside the SpyServer "
		    "device's range (%.3f-%.3f MHz)", rx->freq / 1e6,
		    rx->info.min_freq / 1e6, rx->info.max_freq / 1e6);
		rxlife_drop(rx->life, err, 1);
		return;
	}
	if (rx->info.forced_format == 3) {
		rxlife_drop(rx->life, "SpyServer forces int24 IQ (not "
		    "supported)", 1);
		return;
	}
	rx->have_info = 1;
	/* IQ within SPY_HELLO_S + SPY_STALL_S of the connect (a server that
	 * never sends its sync included) */
	rxlife_watch(rx->life, fmax(SPY_HELLO_S + SPY_STALL_S -
	    (util_mono() - rx->t_conn), 0.1), "SpyServer sends no IQ");
}

static void
on_sync(struct rx *rx)
{
	char	err[300];
	int	stage;

	if (spy_parse_sync(rx->body, rx->nbody, &rx->sync, err,
	    sizeof err) != 0) {
		rxlife_drop(rx->life, err, 1);
		return;
	}
	if (!rx->have_info) {
		rxlife_drop(rx->life, "SpyServer sent a client sync before its "
		    "device info", 0);
		return;
	}
	if (!rx->sync.can_control && (rx->freq < rx->sync.min_iq ||
	    rx->freq > rx->sync.max_iq)) {
		snprintf(err, sizeof err, "SpyServer does not let clients tune "
		    "(CanControl = 0) and %.3f MHz is outside its IQ range "
		    "(%.3f-%.3f MHz)", rx->freq / 1e6, rx->sync.min_iq / 1e6,
		    rx->sync.max_iq / 1e6);
		rxlife_drop(rx->life, err, 1);
		return;
	}
	if (!rx->sent_settings) {
		rx->have_sync = 1;
		stage = spy_pick_stage(&rx->info, rx->low_cut, rx->high_cut);
		if (stage < 0) {
			snprintf(err, sizeof err, "SpyServer's rates (%u "
			    "samples/s, stages %u-%u) cannot hold the passband "
			    "%d..%d Hz", rx->info.max_rate, rx->info.min_decim,
			    rx->info.stages, rx->low_cut, rx->high_cut);
			rxlife_drop(rx->life, err, 1);
			return;
		}
		rx->fs = (double)rx->info.max_rate / (double)(1u << stage);
		send_settings(rx, stage);
		return;
	}
	/* A sync after our settings: with CanControl = 0 an IQ frequency
	 * the server would not apply is silently ignored -- only this tells
	 * us. (With control the device follows our frequency.) */
	if (!rx->sync.can_control && fabs((double)rx->sync.iq_center -
	    rx->freq) > 1) {
		snprintf(err, sizeof err, "SpyServer did not apply %.3f MHz "
		    "(CanControl = 0; IQ center stays at %.3f MHz)",
		    rx->freq / 1e6, rx->sync.iq_center / 1e6);
		rxlife_drop(rx->life, err, 1);
	}
}

static void
on_iq(struct rx *rx, uint32_t kind)
{
	const struct rx_sink	*sink = rxlife_sink(rx->life);
	struct rx_block		 b;
	size_t			 n, i, bps;
	uint32_t		 gap;
	size_t			 lost = 0;
	const uint8_t		*p = rx->body;
	char			 why[64];

	if (!rx->sent_settings)
		return;		/* a stream someone else configured */
	bps = kind == MSG_IQ_U8 ? 2 : kind == MSG_IQ_S16 ? 4 : 8;
	if (kind == MSG_IQ_S24) {
		rxlife_drop(rx->life, "SpyServer sent int24 IQ (not supported)",
		    1);
		return;
	}
	if (rx->nbody % bps != 0) {
		rxlife_drop(rx->life, "SpyServer IQ message with a partial "
		    "sample", 0);
		return;
	}
	n = rx->nbody / bps;
	rxlife_fed(rx->life);
	if (!rx->streaming) {
		rx->streaming = 1;
		rx->seq = rx->h.seq;
		sink->stream(sink->ctx, rx->fs);
		rxlife_streaming(rx->life);
		snprintf(why, sizeof why, "no IQ for %.0f s", SPY_STALL_S);
		rxlife_watch(rx->life, SPY_STALL_S, why);
	} else {
		gap = rx->h.seq - rx->seq - 1;	/* wraps correctly */
		if (gap > 1000)
			sink->stream(sink->ctx, rx->fs);	/* restarted */
		else
			lost = (size_t)gap * rx->spm;
	}
	rx->seq = rx->h.seq;
	rx->spm = n;
	if (n == 0)
		return;
	if (rx->conv_cap < n) {
		int16_t *c = realloc(rx->conv, 2 * n * sizeof *c);
		if (c == NULL) {
			rxlife_drop(rx->life, "out of memory", 0);
			return;
		}
		rx->conv = c;
		rx->conv_cap = n;
	}
	for (i = 0; i < 2 * n; i++) {
		if (kind == MSG_IQ_S16)
			rx->conv[i] = (int16_t)(uint16_t)(p[2 * i] |
			    p[2 * i + 1] << 8);
		else if (kind == MSG_IQ_U8)
			rx->conv[i] = (int16_t)((p[i] - 128) * 256);
		else {
			uint32_t u = le32(p + 4 * i);
			float f;
			memcpy(&f, &u, sizeof f);
			f = isfinite(f) ? f * 32768.0f : 0;
			rx->conv[i] = (int16_t)(f > 32767 ? 32767 :
			    f < -32768 ? -32768 : f);
		}
	}
	memset(&b, 0, sizeof b);
	b.iq = rx->conv;
	b.n = n;
	b.lost = lost;
	b.t_arrival = util_now();
	b.gps_age = -1;
	b.rssi_dbm = NAN;
	sink->block(sink->ctx, &b);
}

static void
on_message(struct rx *rx)
{
	uint32_t	kind = rx->h.type & 0xffff;

	switch (kind) {
	case MSG_DEVICE_INFO:
		on_info(rx);
		break;
	case MSG_CLIENT_SYNC:
		on_sync(rx);
		break;
	case MSG_IQ_U8:
	case MSG_IQ_S16:
	case MSG_IQ_S24:
	case MSG_IQ_F32:
		if (rx->h.stream == 1)
			on_iq(rx, kind);
		break;
	default:
		break;	/* PONG, FFT...: not ours */
	}
}

static void
on_data(void *arg, const uint8_t *p, size_t n)
{
	struct rx	*rx = arg;
	char		 err[160];
	size_t		 k;

	while (n > 0) {
		if (rx->nhdr < SPY_HDR) {
			k = SPY_HDR - rx->nhdr < n ? SPY_HDR - rx->nhdr : n;
			memcpy(rx->hdr + rx->nhdr, p, k);
			rx->nhdr += k;
			p += k;
			n -= k;
			if (rx->nhdr < SPY_HDR)
				return;
			if (spy_parse_header(rx->hdr, &rx->h, err,
			    sizeof err) != 0) {
				rxlife_drop(rx->life, err, 1);
				return;
			}
			rx->nbody = 0;
			if (rx->h.size > rx->bodycap) {
				uint8_t *nb = realloc(rx->body, rx->h.size);
				if (nb == NULL) {
					rxlife_drop(rx->life, "out of memory",
					    0);
					return;
				}
				rx->body = nb;
				rx->bodycap = rx->h.size;
			}
		}
		k = rx->h.size - rx->nbody < n ? rx->h.size - rx->nbody : n;
		if (k > 0)
			memcpy(rx->body + rx->nbody, p, k);
		rx->nbody += k;
		p += k;
		n -= k;
		if (rx->nbody == rx->h.size) {
			on_message(rx);
			rx->nhdr = 0;
		}
	}
}

static void
on_closed(void *arg)
{
	struct rx	*rx = arg;

	/* EOF right after HELLO: the server is full (or has no device). */
	if (!rx->have_info)
		rxlife_drop(rx->life, "SpyServer closed the connection after "
		    "HELLO (full, or no device)", 0);
	rx->streaming = 0;
}

static struct rx *
spyserver_open(struct rxloop *loop, const struct station *st,
    const struct rx_params *p, const struct rx_sink *sink, char *err,
    size_t errlen)
{
	static const struct rawtcp_ops ops = { on_connected, on_data, NULL,
	    on_closed };
	struct rx	*rx;

	rx = calloc(1, sizeof *rx);
	if (rx == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rx->freq = p->freq_hz;
	rx->low_cut = p->low_cut;
	rx->high_cut = p->high_cut;
	rx->rt = rawtcp_open(loop, st, p, sink, &ops, rx, err, errlen);
	if (rx->rt == NULL) {
		free(rx);
		return NULL;
	}
	rx->life = rawtcp_life(rx->rt);
	/* rx->rt is set before the loop can call us back */
	if (rawtcp_start(rx->rt, err, errlen) != 0) {
		rawtcp_close(rx->rt);
		free(rx);
		return NULL;
	}
	return rx;
}

static void
spyserver_close(struct rx *rx)
{
	if (rx == NULL)
		return;
	rawtcp_close(rx->rt);
	free(rx->body);
	free(rx->conv);
	free(rx);
}

const struct rx_driver spyserver_driver = {
	/* Airspy R2/Mini 24-1800 MHz, HF+ lower: the device info decides */
	"spyserver", 9e3, 2e9, spyserver_open, spyserver_close
};
