/*
 * geosim.c -- the localization scenario (geosim.h): geometry with PROJ's
 * geodesic.h, the transmitter's signal as a function of absolute time.
 *
 * The signal. Chips x[m] (m an integer, any sign) at rate B are a pure
 * function of (seed, m): a hash picks a unit-variance complex Gaussian from
 * the shared table, or a QPSK symbol. The baseband waveform is
 *
 *     s0(v) = sum_m x[m] k(v - m),   v = B u (u: s on the GPS time line),
 *
 * k a sinc windowed by a Kaiser window (beta 7) over TAPS chips: flat to
 * ~0.45 B, -6 dB at B/2, below -70 dB past ~0.55 B. k is tabulated at
 * PHASES fractional positions and interpolated linearly between them
 * (error < 2e-6 of full scale): s0 is that interpolated sum, a continuous
 * function of v, so a station whose samples fall at any real v gets the
 * waveform's exact value there -- the delay is exact, not quantized to the
 * table. v is formed in double from u < ~1e5 s (the epoch is the
 * simulator's start): its resolution is ~1e-7 chip, picoseconds.
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <geodesic.h>
#include <jansson.h>

#include "geosim.h"

#define TAPS		48		/* chips under the shaping kernel */
#define PHASES		512		/* tabulated fractional positions */
#define KBETA		7.0
#define C_LIGHT		299792458.0	/* m/s */
#define MAXBLK		512		/* samples per inner block */
/* Baseband the signal may occupy: within a KiwiSDR's IQ passband (about
 * +-5.9 kHz at 12 kS/s), so no station aliases it. */
#define MAX_EDGE	5800.0

struct geotx	 geotx;
static float	 ktab[PHASES * TAPS];	/* ktab[p][i] = k(p/P + i - T/2) */
static float	 kdif[PHASES * TAPS];	/* ktab[p + 1][i] - ktab[p][i] */
/* The dot products in GNU C vectors (SSE on any x86-64): one float sum
 * may not be reordered, so plain loops run at the adds' latency. */
typedef float v4f __attribute__((vector_size(16)));

static inline v4f
ld4(const float *p)
{
	v4f	v;

	memcpy(&v, p, sizeof v);
	return v;
}
static float	*gauss;				/* the Gaussian table */
#define GAUSS_N		(1 << 16)

static double
bessel_i0(double x)
{
	double	sum = 1, term = 1;
	int	k;

	for (k = 1; k < 60; k++) {
		term *= (x / (2 * k)) * (x / (2 * k));
		sum += term;
		if (term < sum * 1e-17)
			break;
	}
	return sum;
}

static double
kernel(double w)
{
	double	r = w / (TAPS / 2.0), sinc;

	if (fabs(r) >= 1)
		return 0;
	sinc = w == 0 ? 1 : sin(M_PI * w) / (M_PI * w);
	return sinc * bessel_i0(KBETA * sqrt(1 - r * r)) / bessel_i0(KBETA);
}

/* The table, scaled so that E|s0|^2 = 1 for unit-power chips. */
static void
make_table(void)
{
	double	power = 0, k, k1, scale;
	int	p, i;

	for (p = 0; p < PHASES; p++)
		for (i = 0; i < TAPS; i++) {
			k = kernel((double)p / PHASES + i - TAPS / 2);
			power += k * k;
		}
	scale = 1 / sqrt(power / PHASES);
	for (p = 0; p < PHASES; p++)
		for (i = 0; i < TAPS; i++) {
			k = kernel((double)p / PHASES + i - TAPS / 2) * scale;
			k1 = kernel((double)(p + 1) / PHASES + i - TAPS / 2) *
			    scale;
			ktab[p * TAPS + i] = (float)k;
			kdif[p * TAPS + i] = (float)(k1 - k);
		}
}

/* splitmix64's finalizer: chip m's bits, random access. */
static uint64_t
chip_bits(uint64_t seed, int64_t m)
{
	uint64_t z = seed + (uint64_t)m * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
chip(int64_t m, float *re, float *im)
{
	uint64_t z = chip_bits(geotx.seed, m);

	if (geotx.pn) {
		*re = (z & 1) ? (float)M_SQRT1_2 : -(float)M_SQRT1_2;
		*im = (z & 2) ? (float)M_SQRT1_2 : -(float)M_SQRT1_2;
	} else {
		*re = gauss[(z >> 8) & (GAUSS_N - 1)] * (float)M_SQRT1_2;
		*im = gauss[(z >> 32) & (GAUSS_N - 1)] * (float)M_SQRT1_2;
	}
}

/* A finite number in [lo, hi] from the whole of s. */
static int
num(const char *s, double lo, double hi, double *out)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < lo ||
	    v > hi)
		return -1;
	*out = v;
	return 0;
}

int
geosim_parse_tx(const char *spec)
{
	char	*dup = strdup(spec), *tok, *save = NULL, *eq;
	int	 have_lat = 0, have_lon = 0;
	double	 v;

	geotx.on = 1;
	geotx.bw = 10000;
	geotx.offset = 0;
	geotx.pn = 0;
	geotx.seed = 1;
	geotx.carrier_db = NAN;
	geotx.carrier_hz = 0;
	for (tok = strtok_r(dup, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if ((eq = strchr(tok, '=')) == NULL)
			goto bad;
		*eq++ = '\0';
		if (strcmp(tok, "lat") == 0) {
			if (num(eq, -90, 90, &geotx.lat) != 0)
				goto bad;
			have_lat = 1;
		} else if (strcmp(tok, "lon") == 0) {
			if (num(eq, -180, 180, &geotx.lon) != 0)
				goto bad;
			have_lon = 1;
		} else if (strcmp(tok, "bw") == 0) {
			if (num(eq, 100, 2 * MAX_EDGE, &geotx.bw) != 0)
				goto bad;
		} else if (strcmp(tok, "offset") == 0) {
			if (num(eq, -MAX_EDGE, MAX_EDGE, &geotx.offset) != 0)
				goto bad;
		} else if (strcmp(tok, "mod") == 0) {
			if (strcmp(eq, "noise") == 0)
				geotx.pn = 0;
			else if (strcmp(eq, "pn") == 0)
				geotx.pn = 1;
			else
				goto bad;
		} else if (strcmp(tok, "seed") == 0) {
			if (num(eq, 0, 1e15, &v) != 0 || v != floor(v))
				goto bad;
			geotx.seed = (uint64_t)v;
		} else if (strcmp(tok, "carrier") == 0) {
			if (num(eq, -60, 40, &geotx.carrier_db) != 0)
				goto bad;
		} else if (strcmp(tok, "carrier_hz") == 0) {
			if (num(eq, -MAX_EDGE, MAX_EDGE, &geotx.carrier_hz) != 0)
				goto bad;
		} else
			goto bad;
	}
	free(dup);
	if (!have_lat || !have_lon) {
		fprintf(stderr, "heimdall-kiwisim: --tx needs lat= and lon=: "
		    "%s\n", spec);
		return -1;
	}
	if (fabs(geotx.offset) + geotx.bw / 2 > MAX_EDGE) {
		fprintf(stderr, "heimdall-kiwisim: --tx: the band (offset %g "
		    "+- bw/2 %g Hz) must stay within +-%g Hz\n", geotx.offset,
		    geotx.bw / 2, MAX_EDGE);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "heimdall-kiwisim: bad --tx item \"%s\" in %s\n", tok,
	    spec);
	free(dup);
	return -1;
}

int
geosim_positions(const char *path, struct simst *st, int n)
{
	json_error_t	 err;
	json_t		*root, *arr, *e;
	size_t		 i;
	double		 lat, lon;

	if ((root = json_load_file(path, 0, &err)) == NULL) {
		fprintf(stderr, "heimdall-kiwisim: --positions %s: %s (line "
		    "%d)\n", path, err.text, err.line);
		return -1;
	}
	arr = json_object_get(root, "stations");
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		fprintf(stderr, "heimdall-kiwisim: --positions %s: no "
		    "\"stations\" array\n", path);
		json_decref(root);
		return -1;
	}
	json_array_foreach(arr, i, e) {
		if ((int)i >= n)
			break;
		lat = json_number_value(json_object_get(e, "latitude"));
		lon = json_number_value(json_object_get(e, "longitude"));
		if (!json_is_number(json_object_get(e, "latitude")) ||
		    !json_is_number(json_object_get(e, "longitude")) ||
		    fabs(lat) > 90 || fabs(lon) > 180) {
			fprintf(stderr, "heimdall-kiwisim: --positions %s: "
			    "station %zu has no valid latitude/longitude\n",
			    path, i + 1);
			json_decref(root);
			return -1;
		}
		st[i].lat = lat;
		st[i].lon = lon;
	}
	json_decref(root);
	return (int)(i < (size_t)n ? i : (size_t)n);
}

void
geosim_claimed(const struct simst *s, int i, double *lat, double *lon)
{
	if (isfinite(s->lat) && isfinite(s->lon)) {
		*lat = s->lat;
		*lon = s->lon;
		return;
	}
	*lat = 45.0 + 0.05 * (i % 800);
	*lon = fmod(187.6 + 0.07 * i, 360.0) - 180.0;
}

int
geosim_setup(struct simst *st, int n)
{
	struct geod_geodesic	 g;
	uint64_t		 seed = geotx.seed ^ 0x5deece66dULL;
	double			 lat, lon;
	int			 i;

	geod_init(&g, 6378137, 1 / 298.257223563);	/* WGS84 */
	for (i = 0; i < n; i++) {
		geosim_claimed(&st[i], i, &lat, &lon);
		st[i].tlat = lat;
		st[i].tlon = lon;
		if (st[i].moved_km > 0)
			geod_direct(&g, lat, lon, st[i].moved_az,
			    st[i].moved_km * 1e3, &st[i].tlat, &st[i].tlon,
			    NULL);
		if (!geotx.on || st[i].sig != SIG_TX)
			continue;
		/* the chips (rate B) must be fewer than the samples, and the
		 * band within the station's Nyquist range */
		if (st[i].rate < 2 * (fabs(geotx.offset) + geotx.bw / 2) ||
		    st[i].rate > 1e6) {
			fprintf(stderr, "heimdall-kiwisim: station %d: rate %g "
			    "cannot carry the --tx band\n", st[i].k,
			    st[i].rate);
			return -1;
		}
		geod_inverse(&g, geotx.lat, geotx.lon, st[i].tlat, st[i].tlon,
		    &st[i].dist_m, NULL, NULL);
		st[i].delay_s = st[i].dist_m / C_LIGHT;
	}
	if (!geotx.on)
		return 0;
	make_table();
	/* Its own Gaussian table: the chips stay one function of (seed, m)
	 * whatever the stations' noise does. */
	if ((gauss = malloc(GAUSS_N * sizeof *gauss)) == NULL)
		return -1;
	for (i = 0; i < GAUSS_N; i += 2) {
		double u = ((sim_xorshift(&seed) >> 11) + 1) /
		    9007199254740993.0;
		double v = (sim_xorshift(&seed) >> 11) / 9007199254740992.0;
		double r = sqrt(-2 * log(u));
		gauss[i] = (float)(r * cos(2 * M_PI * v));
		gauss[i + 1] = (float)(r * sin(2 * M_PI * v));
	}
	return 0;
}

int
geosim_write_truth(const char *path, const struct simst *st, int n)
{
	json_t	*arr = json_array(), *root, *tx;
	char	 tmp[4096];
	double	 lat, lon;
	int	 i, rc;

	for (i = 0; i < n; i++) {
		json_t *e;
		if (st[i].sig != SIG_TX)
			continue;
		geosim_claimed(&st[i], i, &lat, &lon);
		e = json_pack("{s:i, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
		    "s:f, s:i, s:f, s:f, s:f}",
		    "i", st[i].k, "name", st[i].name,
		    "latitude", lat, "longitude", lon,
		    "true_latitude", st[i].tlat, "true_longitude", st[i].tlon,
		    "moved_km", st[i].moved_km, "moved_az", st[i].moved_az,
		    "distance_m", st[i].dist_m,
		    "delay_ns", st[i].delay_s * 1e9,
		    "gps", st[i].gps, "clock_us", st[i].clock_us,
		    "snr_db", st[i].txsnr, "rate", st[i].rate);
		json_array_append_new(arr, e);
	}
	tx = json_pack("{s:f, s:f, s:f, s:f, s:s, s:I, s:f, s:o}",
	    "latitude", geotx.lat, "longitude", geotx.lon,
	    "bandwidth_hz", geotx.bw, "offset_hz", geotx.offset,
	    "modulation", geotx.pn ? "pn" : "noise",
	    "seed", (json_int_t)geotx.seed, "carrier_hz", geotx.carrier_hz,
	    "carrier_db", isfinite(geotx.carrier_db) ?
	    json_real(geotx.carrier_db) : json_null());
	root = json_pack("{s:o, s:f, s:s, s:o}", "tx", tx, "c_m_per_s",
	    C_LIGHT, "ellipsoid", "WGS84", "stations", arr);
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

/* Amplitude of the chips' waveform at station s: its SNR is the signal's
 * power over the noise power that falls in the signal's band B. */
static double
sig_amp(const struct simst *s)
{
	return sqrt(pow(10, s->txsnr / 10) * KIWI_SIGMA2 * geotx.bw / s->rate);
}

double
geosim_power(const struct simst *s)
{
	double	a = sig_amp(s);

	if (isfinite(geotx.carrier_db))
		return a * a * (1 + pow(10, geotx.carrier_db / 10));
	return a * a;
}

/* exp(j 2 pi f t) as a phasor, the phase reduced first: f t may be 1e8
 * cycles, whose fraction double still holds to ~1e-8. */
static void
phasor(double f, double t, double *re, double *im)
{
	double	cyc = f * t;

	cyc -= floor(cyc);
	*re = cos(2 * M_PI * cyc);
	*im = sin(2 * M_PI * cyc);
}

static void
fill_block(const struct simst *s, double u0, int j0, double rf_hz,
    float *re, float *im, int n)
{
	float		 xr[MAXBLK + TAPS + 4], xi[MAXBLK + TAPS + 4];
	double		 b = geotx.bw, vfirst, vlast, a = sig_amp(s);
	double		 step = b / s->rate;
	double		 t0 = u0 + (double)j0 / s->rate - s->delay_s;
	double		 bre, bim, bwr, bwi, cre = 0, cim = 0, cwr = 0, cwi = 0;
	double		 ac = 0, rre, rim, tmp;
	int64_t		 mtop, mlo, m;
	int		 j, i;

	vfirst = b * t0;
	vlast = b * (t0 + (double)(n - 1) / s->rate);
	mtop = (int64_t)floor(vlast) + TAPS / 2;
	mlo = (int64_t)floor(vfirst) - TAPS / 2 + 1;
	/* xr[q] = x[mtop - q]: a sample's chips are then contiguous and in
	 * the kernel table's order */
	for (m = mtop; m >= mlo; m--)
		chip(m, &xr[mtop - m], &xi[mtop - m]);
	/* the band's centre, the carrier, and the RF phase the delay turns:
	 * received baseband = s(t - d) e^{-j 2 pi f_rf d} */
	phasor(geotx.offset, t0, &bre, &bim);
	phasor(geotx.offset, 1 / s->rate, &bwr, &bwi);
	if (isfinite(geotx.carrier_db)) {
		ac = a * sqrt(pow(10, geotx.carrier_db / 10));
		phasor(geotx.carrier_hz, t0, &cre, &cim);
		phasor(geotx.carrier_hz, 1 / s->rate, &cwr, &cwi);
	}
	phasor(-rf_hz, s->delay_s, &rre, &rim);
	for (j = 0; j < n; j++) {
		/* v = B (t0 + j / rate): j * step is exact to ~1e-13 chip */
		double	 v = vfirst + (double)j * step, ph;
		int64_t	 m0 = (int64_t)v;	/* floor: v > 0 (see top) */
		int	 p;
		float	 sr, si, w;
		v4f	 wv, kv, ar0 = { 0 }, ai0 = { 0 }, ar1 = { 0 }, ai1 = { 0 };
		const float *k0, *d0, *x0r, *x0i;

		if ((double)m0 > v)
			m0--;
		ph = (v - (double)m0) * PHASES;
		p = (int)ph;
		if (p >= PHASES)
			p = PHASES - 1;
		w = (float)(ph - p);
		k0 = ktab + p * TAPS;
		d0 = kdif + p * TAPS;
		/* x[m0 - (i - T/2)] = xr[mtop - m0 + i - T/2] */
		x0r = xr + (mtop - m0 - TAPS / 2);
		x0i = xi + (mtop - m0 - TAPS / 2);
		/* kernel at phase p + w, interpolated, times the chips */
		wv = (v4f){ w, w, w, w };
		for (i = 0; i < TAPS; i += 8) {
			kv = ld4(k0 + i) + wv * ld4(d0 + i);
			ar0 += ld4(x0r + i) * kv;
			ai0 += ld4(x0i + i) * kv;
			kv = ld4(k0 + i + 4) + wv * ld4(d0 + i + 4);
			ar1 += ld4(x0r + i + 4) * kv;
			ai1 += ld4(x0i + i + 4) * kv;
		}
		ar0 += ar1;
		ai0 += ai1;
		sr = ar0[0] + ar0[1] + ar0[2] + ar0[3];
		si = ai0[0] + ai0[1] + ai0[2] + ai0[3];
		/* s0 shifted to the band's centre, scaled, plus the carrier */
		double yr = a * (sr * bre - si * bim) + ac * cre;
		double yi = a * (sr * bim + si * bre) + ac * cim;
		re[j] = (float)(yr * rre - yi * rim);
		im[j] = (float)(yr * rim + yi * rre);
		tmp = bre * bwr - bim * bwi;
		bim = bre * bwi + bim * bwr;
		bre = tmp;
		tmp = cre * cwr - cim * cwi;
		cim = cre * cwi + cim * cwr;
		cre = tmp;
	}
}

void
geosim_fill(const struct simst *s, double u0, double rf_hz, float *re,
    float *im, int n)
{
	int	j;

	/* Blocks short enough that the chips fit the stack buffers (B <=
	 * 2 MAX_EDGE < rate: fewer chips than samples) and that rotating the
	 * phasors from an exact start stays exact. */
	for (j = 0; j < n; j += MAXBLK)
		fill_block(s, u0, j, rf_hz, re + j, im + j,
		    n - j < MAXBLK ? n - j : MAXBLK);
}
