/* test_locate.c -- live localization (src/engine/locate.c): synthetic chunks of a transmitter at a known position -> session:tdoa and session:fix events and rows. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/engine/locate.h"
#include "src/engine/chunker.h"
#include "src/engine/events.h"
#include "src/base/util.h"
#include "src/loc/fix.h"

/*
 * The scene: the seven positions of examples/heimdall-2m.json, a
 * transmitter among them, a noise-like signal of 10 kHz bandwidth at
 * 20 dB SNR in that band. The signal is a sum of shaped chips: complex
 * Gaussian chips c_k at B = 10 kHz, each a windowed sinc (flat over
 * +-B/2), so it is defined, and evaluated exactly, at any instant:
 * receiver i's sample j, taken at GPS time t0_ns + j / fs_i, is
 * s(t - d_i / c) + noise, d_i its geodesic distance -- a fractional delay
 * with no interpolation error, on each receiver's own rate. (A sum of
 * pure tones would not do: TDoA notches narrow lines as carriers.)
 */
#define NST		7
#define BW_HZ		10000.0
#define HALF		16		/* the sinc's half-width, chips */
#define SPAN_S		8		/* seconds of chips */
#define NCHIPS		(SPAN_S * 10000 + 4 * HALF)	/* SPAN_S s at BW_HZ */
#define NOISE_P		1e-4		/* complex noise power, full scale */
#define T_EPOCH_NS	1800000000000000000LL	/* 2027-01-15 */

static const double pos[NST][2] = {
	{ 45.02, 7.29 }, { 45.234, 7.857 }, { 45.044, 7.672 },
	{ 45.03, 7.27 }, { 44.561, 8.956 }, { 44.395, 8.956 },
	{ 45.478, 9.123 },
};
static const double TX_LAT = 45.05, TX_LON = 8.20;

static double	 chip_re[NCHIPS], chip_im[NCHIPS];
static uint64_t	 rng = 0x9e3779b97f4a7c15ull;

static double
urand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static double
grand(void)
{
	double u = urand(), v = urand();

	return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

static void
tones_init(double snr_db)
{
	/* in-band noise: NOISE_P * BW / fs; the signal's power is snr x
	 * that (a chip's power is the signal's: the shaped chips are
	 * orthonormal) */
	double	p = pow(10, snr_db / 10) * NOISE_P * BW_HZ / 12000.0;
	int	i;

	for (i = 0; i < NCHIPS; i++) {
		chip_re[i] = grand() * sqrt(p / 2);
		chip_im[i] = grand() * sqrt(p / 2);
	}
}

/* s(u), u in seconds since the epoch: chip k is centred at
 * u = (k - 2 HALF) / B, so u may run from -HALF / B to about SPAN_S. */
static void
signal_at(double u, double *re, double *im)
{
	double	x = u * BW_HZ + 2 * HALF;	/* in chips, chip 0 first */
	int	k, k0 = (int)floor(x) - HALF + 1;

	*re = *im = 0;
	for (k = k0; k < k0 + 2 * HALF; k++) {
		double d = x - k, h, w;
		if (k < 0 || k >= NCHIPS)
			continue;
		h = fabs(d) < 1e-12 ? 1 : sin(M_PI * d) / (M_PI * d);
		/* Blackman window over +-HALF chips */
		w = 0.42 + 0.5 * cos(M_PI * d / HALF) + 0.08 *
		    cos(2 * M_PI * d / HALF);
		*re += chip_re[k] * h * w;
		*im += chip_im[k] * h * w;
	}
}

/* The scene's stations: KiwiSDRs at pos[], or as types[] says. */
static struct stations *
stations_new(const char *const *types)
{
	struct stations	*s = calloc(1, sizeof *s);
	int		 i;

	s->n = NST;
	s->v = calloc(NST, sizeof *s->v);
	for (i = 0; i < NST; i++) {
		s->v[i].index = i + 1;
		snprintf(s->v[i].name, sizeof s->v[i].name, "Station %d",
		    i + 1);
		snprintf(s->v[i].type, sizeof s->v[i].type, "%s",
		    types != NULL && types[i] != NULL ? types[i] : "kiwisdr");
		s->v[i].latitude = pos[i][0];
		s->v[i].longitude = pos[i][1];
	}
	return s;
}

static void
stations_free(struct stations *s)
{
	free(s->v);
	free(s);
}

/*
 * Chunk k of station i (0-based) as the chunker would emit it: its first
 * sample at a GPS time within one sample after the second's start, its
 * own rate, int16 IQ. clock_us: what its stamps claim minus the truth (a
 * receiver whose clock is late by d says its samples were taken d later).
 */
static struct chunk *
make_chunk_snr(int i, int k, double clock_us, double snr_db)
{
	struct chunk	*c = calloc(1, sizeof *c);
	double		 fs = 12001.0 + 0.137 * (i + 1), d, u0, sd, g;
	int64_t		 t0;
	size_t		 j, n = 12001;

	d = fix_distance_m(TX_LAT, TX_LON, pos[i][0], pos[i][1]) /
	    FIX_C_M_S;
	t0 = T_EPOCH_NS + (int64_t)k * 1000000000LL +
	    (int64_t)(urand() * 1e9 / fs);
	c->websdr = i + 1;
	c->index = k;
	c->fs = fs;
	c->fs_gps = fs;
	c->t_first = (double)t0 / 1e9;
	c->t0_ns = t0 + (int64_t)llround(clock_us * 1e3);
	c->gps = 1;
	c->gps_age = 0;
	c->time_src = CHUNK_TIME_GPS;
	c->n = c->cap = c->room = n;
	c->iq = calloc(2 * n, sizeof *c->iq);
	sd = sqrt(NOISE_P / 2);
	/* the tones are set for 20 dB: scaled to this station's SNR */
	g = sqrt(pow(10, (snr_db - 20) / 10));
	/* the signal at the receiver: s(u - d), u = time since the epoch */
	u0 = (double)(t0 - T_EPOCH_NS) / 1e9 - d;
	for (j = 0; j < n; j++) {
		double re, im, u = u0 + (double)j / fs;
		signal_at(u, &re, &im);
		c->iq[2 * j] = (int16_t)lrint((re * g + sd * grand()) * 32767);
		c->iq[2 * j + 1] = (int16_t)lrint((im * g + sd * grand()) *
		    32767);
	}
	return c;
}

static struct chunk *
make_chunk(int i, int k, double clock_us)
{
	return make_chunk_snr(i, k, clock_us, 20);
}

static void
chunk_del(struct chunk *c)
{
	free(c->iq);
	free(c);
}

/* ---- events ---- */

struct fx {
	struct events	*ev;
	pthread_mutex_t	 lock;
	json_t		*events;	/* [[name, data]] */
};

static void
on_event(void *ctx, const char *name, const json_t *data, const char *json,
    size_t len)
{
	struct fx	*f = ctx;

	(void)json;
	(void)len;
	pthread_mutex_lock(&f->lock);
	json_array_append_new(f->events, json_pack("[s, O]", name, data));
	pthread_mutex_unlock(&f->lock);
}

/* The fixture's events, and a configuration of total chunks for st on
 * them (the rest zero: the defaults). */
static void
fx_init(struct fx *f, const struct stations *st, int total,
    struct locate_config *c)
{
	memset(f, 0, sizeof *f);
	f->ev = events_new();
	pthread_mutex_init(&f->lock, NULL);
	f->events = json_array();
	events_subscribe(f->ev, on_event, f);
	memset(c, 0, sizeof *c);
	c->stations = st;
	c->ev = f->ev;
	c->session_id = "00000000-0000-4000-8000-000000000001";
	c->total = total;
}

static struct locate *
fx_locate(struct fx *f, const struct stations *st, int total, int max_rx,
    int source)
{
	struct locate_config	 c;
	struct locate		*l;
	char			 err[256];

	fx_init(f, st, total, &c);
	c.max_rx = max_rx;
	c.has_source = source;
	c.source_lat = TX_LAT;
	c.source_lon = TX_LON;
	l = locate_new(&c, err, sizeof err);
	assert_non_null(l);
	return l;
}

static void
fx_free(struct fx *f)
{
	events_free(f->ev);
	json_decref(f->events);
	pthread_mutex_destroy(&f->lock);
}

/* The data of the events called name, in order (new array). */
static json_t *
events_named(struct fx *f, const char *name)
{
	json_t	*out = json_array(), *e;
	size_t	 i;

	pthread_mutex_lock(&f->lock);
	json_array_foreach(f->events, i, e)
		if (strcmp(json_string_value(json_array_get(e, 0)), name) == 0)
			json_array_append(out, json_array_get(e, 1));
	pthread_mutex_unlock(&f->lock);
	return out;
}

static double
jnum(const json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* The excluded reason of station websdr in a session:tdoa, or NULL. */
static const char *
excluded_reason(const json_t *tdoa, int websdr)
{
	json_t	*x;
	size_t	 i;

	json_array_foreach(json_object_get(tdoa, "excluded"), i, x)
		if (json_integer_value(json_object_get(x, "websdr")) == websdr)
			return json_string_value(json_object_get(x, "reason"));
	return NULL;
}

/* ---- tests ---- */

/* Seven GPS receivers, three chunks: three fixes near the transmitter,
 * then the session fix, its error and the residuals; the rows. */
static void
test_fixes(void **state)
{
	struct stations	*st = stations_new(NULL);
	struct fx	 f;
	struct locate	*l;
	json_t		*tdoa, *fixes, *e, *rows_t, *rows_f, *fin;
	size_t		 i;
	int		 k, s;

	(void)state;
	tones_init(20);
	l = fx_locate(&f, st, 3, 0, 1);
	for (k = 0; k < 3; k++)
		for (s = 0; s < NST; s++) {
			struct chunk *c = make_chunk(s, k, 0);
			locate_offer(l, c, 0);
			chunk_del(c);	/* locate holds its own copy */
		}
	locate_finish(l);
	tdoa = events_named(&f, "session:tdoa");
	fixes = events_named(&f, "session:fix");
	assert_int_equal(json_array_size(tdoa), 3);
	assert_int_equal(json_array_size(fixes), 4);
	json_array_foreach(tdoa, i, e) {
		json_t *p;
		size_t j;
		assert_int_equal(json_integer_value(json_object_get(e,
		    "chunk_index")), i);
		assert_int_equal(json_array_size(json_object_get(e,
		    "excluded")), 0);
		/* at least a spanning set of pairs, each near the truth */
		assert_true(json_array_size(json_object_get(e, "pairs")) >=
		    NST - 1);
		json_array_foreach(json_object_get(e, "pairs"), j, p) {
			int a = (int)json_integer_value(json_object_get(p,
			    "websdr_a")) - 1;
			int b = (int)json_integer_value(json_object_get(p,
			    "websdr_b")) - 1;
			double want = (fix_distance_m(TX_LAT, TX_LON,
			    pos[a][0], pos[a][1]) - fix_distance_m(TX_LAT,
			    TX_LON, pos[b][0], pos[b][1])) / FIX_C_M_S * 1e6;
			assert_string_equal(json_string_value(
			    json_object_get(p, "station_a")), st->v[a].name);
			/* 1 us = 300 m; the bound is ~0.08 us here */
			assert_true(fabs(jnum(p, "tdoa_us") - want) < 0.5);
			assert_true(jnum(p, "sigma_us") > 0);
		}
	}
	json_array_foreach(fixes, i, e) {
		double err = fix_distance_m(jnum(e, "latitude"),
		    jnum(e, "longitude"), TX_LAT, TX_LON);
		print_message("fix %zu: %.6f %.6f error %.1f m CEP50 %.1f m "
		    "worst %s %.3f us\n", i, jnum(e, "latitude"),
		    jnum(e, "longitude"), err, jnum(e, "cep50_m"),
		    json_string_value(json_object_get(json_object_get(e,
		    "worst"), "station")), jnum(json_object_get(e, "worst"),
		    "residual_us"));
		assert_true(json_is_true(json_object_get(e, "ok")));
		assert_null(json_object_get(e, "reason"));
		assert_true(err < 60);
		assert_true(fabs(jnum(e, "error_m") - err) < 0.01);
		assert_true(jnum(e, "cep50_m") > 0);
		assert_true(jnum(e, "cep95_m") > jnum(e, "cep50_m"));
		assert_true(json_is_object(json_object_get(e, "ellipse")));
		assert_int_equal(json_array_size(json_object_get(e,
		    "receivers")), NST);
		assert_int_equal(json_array_size(json_object_get(e,
		    "residuals")), NST);
		/* no receiver is off: every residual well under 1 us */
		assert_true(fabs(jnum(json_object_get(e, "worst"),
		    "residual_us")) < 0.5);
		if (i < 3)
			assert_int_equal(json_integer_value(json_object_get(e,
			    "chunk_index")), i);
		else {
			assert_true(json_is_true(json_object_get(e, "final")));
			assert_null(json_object_get(e, "chunk_index"));
			assert_true(err < 30);
		}
	}
	locate_rows(l, &rows_t, &rows_f, &fin);
	assert_int_equal(json_array_size(rows_f), 4);
	assert_non_null(fin);
	assert_true(json_is_true(json_object_get(fin, "final")));
	assert_true(json_is_null(json_object_get(fin, "chunk_index")));
	assert_true(json_is_number(json_object_get(fin, "error_m")));
	/* rows are flat: no nested objects (one SQL row each) */
	json_array_foreach(rows_t, i, e) {
		const char *key;
		json_t *v;
		json_object_foreach(e, key, v)
			assert_false(json_is_object(v) || json_is_array(v));
		assert_string_equal(json_string_value(json_object_get(e,
		    "session_id")), "00000000-0000-4000-8000-000000000001");
	}
	assert_true(json_array_size(rows_t) >= 3 * (NST - 1));
	json_decref(rows_t);
	json_decref(rows_f);
	json_decref(fin);
	json_decref(tdoa);
	json_decref(fixes);
	locate_free(l);
	fx_free(&f);
	stations_free(st);
}

/* Receivers that cannot take part are left out, each with its reason;
 * the four left still give a fix. */
static void
test_exclusions(void **state)
{
	static const char *const types[NST] = { NULL, NULL, NULL, NULL,
	    "rtl_tcp", NULL, NULL };
	struct stations	*st = stations_new(types);
	struct fx	 f;
	struct locate	*l;
	json_t		*tdoa, *fixes, *fx0, *rx;
	const char	*r;
	int		 s;

	(void)state;
	tones_init(20);
	l = fx_locate(&f, st, 1, 0, 0);
	for (s = 0; s < NST; s++) {
		struct chunk *c;
		if (s == 6) {
			/* missing: declared by the engine */
			locate_exclude(l, s + 1, 0, "no samples for this "
			    "second");
			continue;
		}
		/* station 4: its signal 0 dB over the noise in the band */
		c = make_chunk_snr(s, 0, 0, s == 3 ? 0 : 20);
		if (s == 4) {		/* rtl_tcp: arrival clock */
			c->gps = 0;
			c->time_src = CHUNK_TIME_LOCAL;
			c->t0_ns = 0;
		}
		if (s == 5) {		/* a KiwiSDR whose fix is old */
			c->gps_age = 45;
			c->time_src = CHUNK_TIME_GPS_STALE;
		}
		locate_offer(l, c, 0);
		chunk_del(c);
	}
	/* every station is accounted for: located without the engine's
	 * settled call */
	locate_finish(l);
	tdoa = events_named(&f, "session:tdoa");
	fixes = events_named(&f, "session:fix");
	assert_int_equal(json_array_size(tdoa), 1);
	fx0 = json_array_get(tdoa, 0);
	assert_null(excluded_reason(fx0, 1));
	assert_null(excluded_reason(fx0, 3));
	r = excluded_reason(fx0, 4);
	assert_non_null(r);
	print_message("station 4: %s\n", r);
	assert_true(strncmp(r, "SNR ", 4) == 0);
	assert_non_null(strstr(r, " dB < 6 dB (measured by its correlation"));
	assert_true(atof(r + 4) < 3 && atof(r + 4) > -3);
	assert_string_equal(excluded_reason(fx0, 5),
	    "rtl_tcp: no sample timestamps");
	assert_string_equal(excluded_reason(fx0, 6), "GPS fix stale (45 s)");
	assert_string_equal(excluded_reason(fx0, 7),
	    "no chunk: no samples for this second");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(fx0, "excluded"), 0), "station")), "Station 4");
	/* 3 usable receivers: pairs only among them */
	assert_true(json_array_size(json_object_get(fx0, "pairs")) >= 2);
	fx0 = json_array_get(fixes, 0);
	rx = json_object_get(fx0, "receivers");
	if (json_is_true(json_object_get(fx0, "ok"))) {
		assert_true(json_array_size(rx) <= 3);
		assert_true(fix_distance_m(jnum(fx0, "latitude"),
		    jnum(fx0, "longitude"), TX_LAT, TX_LON) < 500);
	} else
		/* three receivers can be ambiguous: then no position */
		assert_true(json_is_null(json_object_get(fx0, "latitude")));
	/* no known source: no error, no residuals */
	assert_null(json_object_get(fx0, "error_m"));
	assert_null(json_object_get(fx0, "residuals"));
	json_decref(tdoa);
	json_decref(fixes);
	locate_free(l);
	fx_free(&f);
	stations_free(st);
}

/* Fewer than 3 usable receivers: "no fix" with the reason, never a
 * position -- per chunk and for the session. */
static void
test_too_few(void **state)
{
	struct stations	*st = stations_new(NULL);
	struct fx	 f;
	struct locate	*l;
	json_t		*fixes, *e, *rows_t, *rows_f, *fin;
	size_t		 i;
	int		 s;

	(void)state;
	tones_init(20);
	l = fx_locate(&f, st, 2, 0, 1);
	for (s = 0; s < NST; s++) {
		struct chunk *c = make_chunk(s, 0, 0);
		if (s >= 2) {
			c->time_src = CHUNK_TIME_LOCAL;
			c->gps = 0;
		}
		locate_offer(l, c, 0);
		chunk_del(c);
	}
	/* chunk 1: every receiver missing; settled by the engine */
	for (s = 0; s < NST; s++)
		locate_exclude(l, s + 1, 1, "receiver failed");
	locate_settled(l, 1);
	locate_finish(l);
	fixes = events_named(&f, "session:fix");
	assert_int_equal(json_array_size(fixes), 3);
	json_array_foreach(fixes, i, e) {
		assert_false(json_is_true(json_object_get(e, "ok")));
		assert_true(json_is_string(json_object_get(e, "reason")));
		assert_true(json_is_null(json_object_get(e, "latitude")));
		assert_true(json_is_null(json_object_get(e, "longitude")));
		assert_null(json_object_get(e, "ellipse"));
	}
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_array_get(fixes, 0), "reason")), "2 usable receivers"));
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_array_get(fixes, 1), "reason")), "no usable receiver"));
	assert_true(json_is_true(json_object_get(json_array_get(fixes, 2),
	    "final")));
	locate_rows(l, &rows_t, &rows_f, &fin);
	assert_false(json_is_true(json_object_get(fin, "ok")));
	assert_true(json_is_null(json_object_get(fin, "latitude")));
	assert_true(json_is_null(json_object_get(fin, "error_m")));
	json_decref(rows_t);
	json_decref(rows_f);
	json_decref(fin);
	json_decref(fixes);
	locate_free(l);
	fx_free(&f);
	stations_free(st);
}

/* A receiver whose clock is 20 us late is the worst residual, at about
 * +20 us, against the known source. */
static void
test_clock_offset(void **state)
{
	struct stations	*st = stations_new(NULL);
	struct fx	 f;
	struct locate	*l;
	json_t		*fixes, *e, *w;
	size_t		 i;
	int		 k, s, bad = 4;	/* 0-based: "Station 5" */

	(void)state;
	tones_init(20);
	l = fx_locate(&f, st, 2, 0, 1);
	for (k = 0; k < 2; k++)
		for (s = 0; s < NST; s++) {
			struct chunk *c = make_chunk(s, k, s == bad ? 20 : 0);
			locate_offer(l, c, 0);
			chunk_del(c);
		}
	locate_finish(l);
	fixes = events_named(&f, "session:fix");
	assert_int_equal(json_array_size(fixes), 3);
	json_array_foreach(fixes, i, e) {
		w = json_object_get(e, "worst");
		print_message("fix %zu: ok %d error %.1f m worst %s %.2f us\n",
		    i, json_is_true(json_object_get(e, "ok")),
		    jnum(e, "error_m"), json_string_value(json_object_get(w,
		    "station")), jnum(w, "residual_us"));
		assert_non_null(w);
		assert_int_equal(json_integer_value(json_object_get(w,
		    "websdr")), bad + 1);
		assert_true(fabs(jnum(w, "residual_us") - 20) < 5);
	}
	json_decref(fixes);
	locate_free(l);
	fx_free(&f);
	stations_free(st);
}

/* At most max_rx receivers are held per chunk index: the strongest; the
 * others are excluded, saying so. */
static void
test_cap(void **state)
{
	struct stations	*st = stations_new(NULL);
	struct fx	 f;
	struct locate	*l;
	json_t		*tdoa, *e;
	int		 s, n = 0;

	(void)state;
	tones_init(20);
	l = fx_locate(&f, st, 1, 4, 0);
	for (s = 0; s < NST; s++) {
		/* SNRs 14, 15, 16, 20, ...: stations 4..7 are the strongest
		 * (by power) */
		struct chunk *c = make_chunk_snr(s, 0, 0, s < 3 ? 14 + s : 20);
		locate_offer(l, c, 0);
		chunk_del(c);
	}
	locate_finish(l);
	tdoa = events_named(&f, "session:tdoa");
	e = json_array_get(tdoa, 0);
	for (s = 1; s <= 3; s++) {
		assert_non_null(excluded_reason(e, s));
		assert_non_null(strstr(excluded_reason(e, s),
		    "not among the 4 strongest"));
		n++;
	}
	for (s = 4; s <= NST; s++)
		assert_null(excluded_reason(e, s));
	assert_int_equal(json_array_size(json_object_get(e, "excluded")), n);
	json_decref(tdoa);
	locate_free(l);
	fx_free(&f);
	stations_free(st);
}

/* Chunk indices far ahead of an unsettled one: the oldest is located
 * with what it has (the laggard is "late"), so samples of at most
 * LOCATE_SLOTS chunk indices are held. */
static void
test_late(void **state)
{
	struct stations	*st = stations_new(NULL);
	struct fx	 f;
	struct locate	*l;
	json_t		*tdoa, *e;
	size_t		 i;
	int		 k, s;

	(void)state;
	tones_init(20);
	l = fx_locate(&f, st, 5, 0, 0);
	/* station 7 never delivers; the engine has not declared it
	 * missing yet */
	for (k = 0; k < 5; k++) {
		for (s = 0; s < NST - 1; s++) {
			struct chunk *c = make_chunk(s, k, 0);
			locate_offer(l, c, 0);
			chunk_del(c);
		}
		/* a chunk a second: the worker keeps up */
		locate_drain(l);
	}
	locate_finish(l);
	tdoa = events_named(&f, "session:tdoa");
	assert_int_equal(json_array_size(tdoa), 5);
	json_array_foreach(tdoa, i, e) {
		const char *r = excluded_reason(e, NST);
		assert_non_null(r);
		assert_int_equal(json_integer_value(json_object_get(e,
		    "chunk_index")), i);
		if (i + LOCATE_SLOTS - 1 < 5)
			assert_non_null(strstr(r, "late"));
		else
			assert_non_null(strstr(r, "acquisition ended"));
	}
	json_decref(tdoa);
	locate_free(l);
	fx_free(&f);
	stations_free(st);
}

/* ---- nudges ---- */

struct nudges {
	pthread_mutex_t	 lock;
	double		 t[64];
	int		 n;
};

static void
on_nudge(void *ctx)
{
	struct nudges	*nd = ctx;

	pthread_mutex_lock(&nd->lock);
	if (nd->n < 64)
		nd->t[nd->n++] = util_now();
	pthread_mutex_unlock(&nd->lock);
}

/*
 * The first nudge after a chunk's end goes when the block that completes
 * the last GPS-timed receiver's chunk is due on the host clock
 * (locate_block: its grid and its clock figure), plus a margin of a few
 * ms: not at the fixed 15 ms after the end. Here the grid's blocks end 35
 * ms after the end of chunk 0 for one station (5 ms for the other), and
 * the GPS clock is 20 ms behind the host's, so the nudge is due 55 ms
 * after the end on the host clock, not at 15. A late thread can only make
 * it later; the upper bound is loose for loaded machines.
 */
static void
test_nudge_predicted(void **state)
{
	struct stations		*st = stations_new(NULL);
	struct locate_config	 c;
	struct locate		*l;
	struct nudges		 nd;
	struct fx		 f;
	char			 err[256];
	double			 t0, end0, due;
	int			 i;

	(void)state;
	memset(&nd, 0, sizeof nd);
	pthread_mutex_init(&nd.lock, NULL);
	fx_init(&f, st, 2, &c);
	c.chunk_ms = 400;
	c.nudge = on_nudge;
	c.nudge_ctx = &nd;
	l = locate_new(&c, err, sizeof err);
	assert_non_null(l);
	/* GPS time = host time - 20 ms: t0 on GPS time, 100 ms from now */
	t0 = util_now() - 0.020 + 0.100;
	end0 = t0 + 0.400;
	/* blocks of 40 ms; station 1's grid ends 35 ms after end0, station
	 * 2's 5 ms after: the last completing block is station 1's */
	locate_block(l, 1, llround((end0 + 0.035 - 0.4) * 1e9), 40000000,
	    -0.020);
	locate_block(l, 2, llround((end0 + 0.005 - 0.4) * 1e9), 40000000,
	    -0.020);
	locate_grid(l, t0, 12000, 2);
	due = end0 + 0.035 + 0.020;	/* on the host clock */
	while (util_now() < due + 0.25)
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
	pthread_mutex_lock(&nd.lock);
	assert_true(nd.n >= 1);
	/* the prediction, not end + 15 ms (end0 + 0.035 on the host) */
	assert_true(nd.t[0] >= due);
	assert_true(nd.t[0] < due + 0.15);
	/* the chunk never comes: steps of 10 ms after it, no burst */
	for (i = 1; i < nd.n; i++)
		assert_true(nd.t[i] - nd.t[i - 1] > 0.004);
	pthread_mutex_unlock(&nd.lock);
	locate_finish(l);
	locate_free(l);
	fx_free(&f);
	stations_free(st);
	pthread_mutex_destroy(&nd.lock);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixes),
		cmocka_unit_test(test_exclusions),
		cmocka_unit_test(test_too_few),
		cmocka_unit_test(test_clock_offset),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_late),
		cmocka_unit_test(test_nudge_predicted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
