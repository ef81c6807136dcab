/* rtltcp.c -- rtl_tcp client: greeting, commands, uint8 IQ -> decimated int16, busy/stall/retune handling. */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/rx/rtltcp.h"
#include "net/rx/rawtcp.h"
#include "src/base/station.h"
#include "src/base/decim.h"
#include "src/base/util.h"

#define RTLTCP_PIECE	16384	/* complex samples decimated per call */

struct rx {
	struct rawtcp	*rt;
	struct rxlife	*life;		/* rt's */
	struct decim	*dec;
	double		 fs_out;
	double		 freq;		/* session target */
	int16_t		*out;

	/* per connection (loop thread) */
	uint8_t		 hdr[12];
	size_t		 nhdr;
	int		 have_hdr;
	size_t		 stale;		/* samples still to drop */
	int		 streaming;
	int		 have_odd;	/* a lone I byte from the last read */
	uint8_t		 odd;
};

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

int
rtltcp_parse_header(const uint8_t *p, size_t n, struct rtltcp_hdr *h,
    char *err, size_t errlen)
{
	if (n < 12) {
		snprintf(err, errlen, "rtl_tcp greeting too short (%zu bytes)",
		    n);
		return -1;
	}
	if (memcmp(p, "RTL0", 4) != 0) {
		snprintf(err, errlen, "not an rtl_tcp server (greeting "
		    "%02x %02x %02x %02x, not \"RTL0\")", p[0], p[1], p[2],
		    p[3]);
		return -1;
	}
	h->tuner = be32(p + 4);
	h->gains = be32(p + 8);
	if (h->gains > 1000) {
		snprintf(err, errlen, "rtl_tcp greeting: impossible gain count "
		    "%u", h->gains);
		return -1;
	}
	return 0;
}

int
rtltcp_tuner_covers(uint32_t tuner, double f, const char **name,
    char *range, size_t rlen)
{
	/* librtlsdr's tuners and the ranges they tune (MHz). */
	static const struct {
		const char	*name;
		double		 r[2][2];
	} t[] = {
		{ "unknown", { { 0, 0 }, { 0, 0 } } },
		{ "E4000", { { 52, 1100 }, { 1250, 2200 } } },
		{ "FC0012", { { 22, 948.6 }, { 0, 0 } } },
		{ "FC0013", { { 22, 1100 }, { 0, 0 } } },
		{ "FC2580", { { 146, 308 }, { 438, 924 } } },
		{ "R820T", { { 24, 1766 }, { 0, 0 } } },
		{ "R828D", { { 24, 1766 }, { 0, 0 } } },
	};
	double	mhz = f / 1e6;
	int	i;

	if (tuner == 0 || tuner >= sizeof t / sizeof t[0]) {
		*name = "unknown";
		snprintf(range, rlen, "unknown");
		return -1;
	}
	*name = t[tuner].name;
	if (t[tuner].r[1][1] > 0)
		snprintf(range, rlen, "%g-%g, %g-%g MHz", t[tuner].r[0][0],
		    t[tuner].r[0][1], t[tuner].r[1][0], t[tuner].r[1][1]);
	else
		snprintf(range, rlen, "%g-%g MHz", t[tuner].r[0][0],
		    t[tuner].r[0][1]);
	for (i = 0; i < 2; i++)
		if (mhz >= t[tuner].r[i][0] && mhz <= t[tuner].r[i][1])
			return 1;
	return 0;
}

void
rtltcp_command(uint8_t out[5], uint8_t cmd, uint32_t param)
{
	out[0] = cmd;
	out[1] = (uint8_t)(param >> 24);
	out[2] = (uint8_t)(param >> 16);
	out[3] = (uint8_t)(param >> 8);
	out[4] = (uint8_t)param;
}

int
rtltcp_factor(double device_rate, int low_cut, int high_cut)
{
	double	edge = fmax(fabs((double)low_cut), fabs((double)high_cut));
	double	want = fmax(RTLTCP_OUT_RATE, 2.4 * edge);

	/* The output keeps the passband below 5/12 of its rate. */
	return (int)floor(device_rate / want);
}

/* ---- the driver (loop thread) ---- */

static void
on_connected(void *arg)
{
	struct rx	*rx = arg;
	uint8_t		 c[5 * 5];
	char		 why[160];

	rx->nhdr = 0;
	rx->have_hdr = 0;
	rx->streaming = 0;
	rx->have_odd = 0;
	/* rtl_tcp accepts one client; the next waits in the listen queue
	 * and hears nothing. */
	snprintf(why, sizeof why, "receiver busy: no rtl_tcp greeting in "
	    "%.0f s (it serves one client at a time)", RTLTCP_HEADER_S);
	rxlife_watch(rx->life, RTLTCP_HEADER_S, why);
	/* Commands are never answered: rate, then the tuning, then a fixed
	 * gain with the RTL's own AGC off (levels comparable across
	 * stations and chunks). */
	rtltcp_command(c, 0x02, RTLTCP_DEVICE_RATE);
	rtltcp_command(c + 5, 0x01, (uint32_t)llround(rx->freq +
	    RTLTCP_TUNE_OFFSET));
	rtltcp_command(c + 10, 0x03, 1);
	rtltcp_command(c + 15, 0x04, RTLTCP_GAIN_TENTHS);
	rtltcp_command(c + 20, 0x08, 0);
	rawtcp_send(rx->rt, c, sizeof c);
	/* What the server sent before the retune took effect: everything
	 * until our commands reach it (a round trip, measured by the TCP
	 * handshake, covers that on a remote link) plus the dongle's
	 * buffers of the old tuning. */
	rx->stale = (size_t)((RTLTCP_STALE_S + fmin(rawtcp_rtt(rx->rt), 2.0)) *
	    RTLTCP_DEVICE_RATE);
}

static void
samples(struct rx *rx, const uint8_t *p, size_t n)
{
	const struct rx_sink	*sink = rxlife_sink(rx->life);
	struct rx_block		 b;
	size_t			 k, piece, m, i;
	double			 now = util_now();

	rxlife_fed(rx->life);
	if (rx->stale > 0) {
		k = n < rx->stale ? n : rx->stale;
		rx->stale -= k;
		p += 2 * k;
		n -= k;
		if (n == 0)
			return;
	}
	if (!rx->streaming) {
		rx->streaming = 1;
		decim_reset(rx->dec);
		sink->stream(sink->ctx, rx->fs_out);
		rxlife_streaming(rx->life);
	}
	for (k = 0; k < n; k += piece) {
		int over = 0;
		piece = n - k < RTLTCP_PIECE ? n - k : RTLTCP_PIECE;
		/* 0 or 255: the ADC (8 bits) clipped */
		for (i = 2 * k; i < 2 * (k + piece); i++)
			over |= p[i] == 0 || p[i] == 255;
		m = decim_run_u8(rx->dec, p + 2 * k, piece, rx->out);
		if (m == 0)
			continue;
		memset(&b, 0, sizeof b);
		b.iq = rx->out;
		b.n = m;
		b.t_arrival = now;
		b.gps_age = -1;
		b.rssi_dbm = NAN;	/* rtl_tcp has no S-meter */
		b.overflow = over;
		sink->block(sink->ctx, &b);
	}
}

static void
on_data(void *arg, const uint8_t *p, size_t n)
{
	struct rx		*rx = arg;
	struct rtltcp_hdr	 h;
	char			 err[160], why[300], range[64];
	const char		*name;
	uint8_t			 pair[2];
	size_t			 k;

	if (!rx->have_hdr) {
		k = 12 - rx->nhdr < n ? 12 - rx->nhdr : n;
		memcpy(rx->hdr + rx->nhdr, p, k);
		rx->nhdr += k;
		p += k;
		n -= k;
		if (rx->nhdr < 12)
			return;
		if (rtltcp_parse_header(rx->hdr, 12, &h, err, sizeof err)
		    != 0) {
			rxlife_drop(rx->life, err, 1);
			return;
		}
		if (rtltcp_tuner_covers(h.tuner, rx->freq, &name, range,
		    sizeof range) == 0) {
			snprintf(why, sizeof why, "%.3f MHz is outside the "
			    "dongle's %s tuner range (%s)", rx->freq / 1e6,
			    name, range);
			rxlife_drop(rx->life, why, 1);
			return;
		}
		rx->have_hdr = 1;
		snprintf(why, sizeof why, "no samples for %.0f s",
		    RTLTCP_STALL_S);
		rxlife_watch(rx->life, RTLTCP_STALL_S, why);
	}
	if (n == 0)
		return;
	/* Reads need not end on an I,Q pair. */
	if (rx->have_odd) {
		pair[0] = rx->odd;
		pair[1] = p[0];
		rx->have_odd = 0;
		samples(rx, pair, 1);
		p++;
		n--;
	}
	if (n % 2 == 1) {
		rx->odd = p[n - 1];
		rx->have_odd = 1;
		n--;
	}
	if (n > 0)
		samples(rx, p, n / 2);
}

static void
on_closed(void *arg)
{
	struct rx	*rx = arg;

	rx->have_hdr = 0;
	rx->streaming = 0;
}

static struct rx *
rtltcp_open(struct rxloop *loop, const struct station *st,
    const struct rx_params *p, const struct rx_sink *sink, char *err,
    size_t errlen)
{
	static const struct rawtcp_ops ops = { on_connected, on_data, NULL,
	    on_closed };
	struct decim_spec	 ds;
	struct rx		*rx;
	int			 f;

	rx = calloc(1, sizeof *rx);
	if (rx == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rx->freq = p->freq_hz;
	f = rtltcp_factor(RTLTCP_DEVICE_RATE, p->low_cut, p->high_cut);
	memset(&ds, 0, sizeof ds);
	ds.fs_in = RTLTCP_DEVICE_RATE;
	ds.factor = f;
	ds.pass_hz = fmax(fabs((double)p->low_cut), fabs((double)p->high_cut));
	ds.shift_hz = -RTLTCP_TUNE_OFFSET;	/* the target, below center */
	if (f < 2 || ds.pass_hz < 1 ||
	    (rx->dec = decim_new(&ds, err, errlen)) == NULL) {
		if (f < 2 || ds.pass_hz < 1)
			snprintf(err, errlen, "%s: passband %d..%d Hz does not "
			    "fit rtl_tcp's %d samples/s", st->name, p->low_cut,
			    p->high_cut, RTLTCP_DEVICE_RATE);
		free(rx);
		return NULL;
	}
	rx->fs_out = decim_fs_out(rx->dec);
	rx->out = malloc(2 * decim_out_max(rx->dec, RTLTCP_PIECE) *
	    sizeof *rx->out);
	if (rx->out == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	rx->rt = rawtcp_open(loop, st, p, sink, &ops, rx, err, errlen);
	if (rx->rt == NULL)
		goto fail;
	rx->life = rawtcp_life(rx->rt);
	/* rx->rt is set before the loop can call us back */
	if (rawtcp_start(rx->rt, err, errlen) != 0) {
		rawtcp_close(rx->rt);
		goto fail;
	}
	return rx;
fail:
	decim_free(rx->dec);
	free(rx->out);
	free(rx);
	return NULL;
}

static void
rtltcp_close(struct rx *rx)
{
	if (rx == NULL)
		return;
	rawtcp_close(rx->rt);
	decim_free(rx->dec);
	free(rx->out);
	free(rx);
}

const struct rx_driver rtltcp_driver = {
	/* R820T/R828D, the common tuners; the greeting's tuner type is
	 * checked again on connect */
	"rtl_tcp", 24e6, 1766e6, rtltcp_open, rtltcp_close
};
