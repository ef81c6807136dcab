/* arrays.c -- a stored session as one .npz of training arrays (libzip), every receiver resampled (libsoxr) and aligned on the window instants. */

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <soxr.h>
#include <zip.h>

#include "src/base/lazygsl.h"	/* GSL, loaded on first use */
#include "src/base/npy.h"
#include "src/base/util.h"
#include "store/arrays.h"
#include "store/dataset.h"
#include "store/lazylib.h"

#define NFEAT		7
#define FD_H		32	/* fractional-delay taps each side */
#define FD_BETA		8.0	/* its Kaiser window */
#define NAME_CHARS	64	/* receiver_name: '<U64' */

static const char *const feature_names[NFEAT] = {
	"snr_db", "signal_db", "noise_floor_db", "freq_offset_hz",
	"latitude", "longitude", "altitude_m"
};

/* One stored chunk of one receiver, as its row says. */
struct cell {
	const json_t	*row;		/* NULL: missing */
	size_t		 n;		/* samples (the row's count) */
	int64_t		 t_ns;		/* first sample, ns from T0 (t0_ns) */
	int64_t		 ts_ns;		/* the same from the row's timestamp */
	int		 has_t0;	/* t0_ns given */
	int		 run;		/* run id (consecutive stored chunks) */
};

/* A receiver's resampling state: one run at a time, windows in order. */
struct rxs {
	int		 websdr;
	int		 audio;		/* '<f4' chunks: I = audio, Q = 0 */
	double		 rate;		/* median of its rows' rates */
	int		 run;		/* current run id, -1 none */
	int		 next;		/* next chunk of the run to feed */
	int		 run_end;	/* its last chunk */
	int		 flushed;
	soxr_t		 sx;
	long		 n0;		/* output n is soxr output n + n0 + delta */
	double		 delta;
	int		 use_fd;
	float		 h[2 * FD_H + 1];
	float		*z;		/* soxr output, complex: z[2i], z[2i+1] */
	size_t		 zlen, zcap;	/* samples */
	long		 zbase;		/* soxr output index of z[0] */
	float		*acc;		/* one window, interleaved (2 L) */
};

struct ex {
	struct dataset	*ds;
	const char	*id;
	char		 sdir[4096];
	int		 nrx, nchunks, nwin, wms;
	int		 cms;		/* the stored chunks' length, ms (the
					   manifest's; 1000 before it) */
	size_t		 L;
	double		 rate;
	int64_t		 t0_abs;	/* T0, UTC ns */
	struct cell	*cells;		/* [chunk * nrx + r] */
	struct rxs	*rx;
	uint8_t		*mask;		/* [win * nrx + r] */
	/* the iq member, produced while libzip reads it */
	char		 hdr[256];
	size_t		 hlen;
	uint64_t	 total, pos;
	float		*win;		/* one window: nrx * 2 * L */
	int		 wnext;
	size_t		 woff;		/* bytes of win already given */
	char		 err[1024];
	int		 failed;
};

#define CELL(e, k, r)	(&(e)->cells[(size_t)(k) * (size_t)(e)->nrx + (size_t)(r)])

/* "...T..:..:..(.ffffff)Z" -> UTC ns, exactly (the fraction's digits). */
static int
parse_ns(const char *s, int64_t *out)
{
	char		 whole[32];
	const char	*dot;
	double		 t;
	int64_t		 frac = 0, scale = 1000000000;

	if (s == NULL || (dot = strchr(s, '.')) == NULL)
		return util_parse_iso8601(s != NULL ? s : "", &t) == 0 ?
		    (*out = (int64_t)t * 1000000000, 0) : -1;
	if ((size_t)(dot - s) >= sizeof whole - 1)
		return -1;
	memcpy(whole, s, (size_t)(dot - s));
	whole[dot - s] = 'Z';
	whole[dot - s + 1] = '\0';
	if (util_parse_iso8601(whole, &t) != 0)
		return -1;
	for (dot++; *dot >= '0' && *dot <= '9'; dot++)
		if (scale > 1) {
			scale /= 10;
			frac += (*dot - '0') * scale;
		}
	*out = (int64_t)t * 1000000000 + frac;
	return 0;
}

static double
jnum(const json_t *o, const char *k)
{
	const json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* --- the fractional delay ------------------------------------------------
 * soxr's output sample i sits on input sample i * (fs_in / fs_out) of what
 * it was fed (its filter's delay is compensated), so a run fed from its
 * first sample gives outputs on that sample's time + i / rate. The window
 * instants are T0 + n / rate: a whole number of samples away plus a
 * fraction delta. That fraction is a windowed-sinc interpolation of soxr's
 * (band-limited) output: y[n] = sum_k z[n + n0 + k] sinc(delta - k) w(k),
 * 2 FD_H + 1 taps, Kaiser window (beta 8: the error is below -70 dB for
 * signals within 0.84 of Nyquist; soxr passes 0.91).
 */
static void
fd_taps(float *h, double delta)
{
	double	 i0b = gsl_sf_bessel_I0(FD_BETA), x, t, s, sum = 0;
	int	 k;

	for (k = -FD_H; k <= FD_H; k++) {
		x = delta - k;
		t = x / (FD_H + 1);
		s = fabs(x) < 1e-12 ? 1.0 : sin(M_PI * x) / (M_PI * x);
		h[k + FD_H] = (float)(s * gsl_sf_bessel_I0(FD_BETA *
		    sqrt(fmax(0.0, 1.0 - t * t))) / i0b);
		sum += h[k + FD_H];
	}
	/* unit gain at DC */
	for (k = 0; k < 2 * FD_H + 1; k++)
		h[k] = (float)(h[k] / sum);
}

/* y[0..n) += a x[0..n), four floats at a time (GCC's vector extension:
 * SSE on x86-64, NEON on arm64; -O2 does not vectorize it by itself). The
 * filter is most of an export's CPU. */
typedef float v4f __attribute__((vector_size(16)));

static void
fd_axpy(float *restrict y, const float *restrict x, float a, size_t n)
{
	v4f	 s = { a, a, a, a }, u, v;
	size_t	 i;

	for (i = 0; i + 4 <= n; i += 4) {
		memcpy(&u, y + i, sizeof u);
		memcpy(&v, x + i, sizeof v);
		u += s * v;
		memcpy(y + i, &u, sizeof u);
	}
	for (; i < n; i++)
		y[i] += a * x[i];
}

static void
rx_reset(struct rxs *x)
{
	soxr_delete(x->sx);
	x->sx = NULL;
	x->run = -1;
	x->zlen = 0;
	x->flushed = 0;
}

static int
z_room(struct ex *e, struct rxs *x, size_t more)
{
	float	*nz;
	size_t	 cap;

	if (x->zlen + more <= x->zcap)
		return 0;
	cap = (x->zlen + more) * 3 / 2 + 1024;
	if ((nz = realloc(x->z, cap * 2 * sizeof *nz)) == NULL) {
		snprintf(e->err, sizeof e->err, "out of memory");
		return -1;
	}
	x->z = nz;
	x->zcap = cap;
	return 0;
}

/* Feed in (n samples, or NULL: end of the run) and keep all soxr gives. */
static int
rx_feed(struct ex *e, struct rxs *x, const float *in, size_t n)
{
	size_t		 idone, odone, space;
	soxr_error_t	 se;

	for (;;) {
		if (z_room(e, x, (size_t)((double)n * e->rate / x->rate) +
		    4096) != 0)
			return -1;
		space = x->zcap - x->zlen;
		se = soxr_process(x->sx, in, n, &idone, x->z + 2 * x->zlen,
		    space, &odone);
		if (se != NULL) {
			snprintf(e->err, sizeof e->err, "session %s: "
			    "websdr %d: resampler: %s", e->id, x->websdr, se);
			return -1;
		}
		x->zlen += odone;
		if (in != NULL) {
			in += 2 * idone;
			n -= idone;
		}
		/* done when the input is taken and the output not full */
		if ((in == NULL || n == 0) && odone < space)
			return 0;
	}
}

/* Read chunk k of receiver r as complex float (audio: Q = 0). */
static int
read_chunk(struct ex *e, int k, int r, float **out, size_t *n)
{
	char		 leaf[64], path[4200], why[600];
	struct rxs	*x = &e->rx[r];
	struct cell	*c = CELL(e, k, r);
	float		*a, *iq;
	size_t		 i;

	if (dataset_chunk_leaf(k, x->websdr, leaf, sizeof leaf) != 0 ||
	    util_fmt(path, sizeof path, "%s/%s", e->sdir, leaf) != 0) {
		snprintf(e->err, sizeof e->err, "session %s: path too long",
		    e->id);
		return -1;
	}
	if ((x->audio ? npy_read_f4(path, &a, n, why, sizeof why) :
	    npy_read_c8(path, out, n, why, sizeof why)) != 0) {
		snprintf(e->err, sizeof e->err, "session %s: %s", e->id, why);
		return -1;
	}
	if (x->audio) {
		if ((iq = calloc(*n > 0 ? *n : 1, 2 * sizeof *iq)) == NULL) {
			free(a);
			snprintf(e->err, sizeof e->err, "out of memory");
			return -1;
		}
		for (i = 0; i < *n; i++)
			iq[2 * i] = a[i];
		free(a);
		*out = iq;
	}
	if (*n != c->n) {
		snprintf(e->err, sizeof e->err, "session %s: %s holds %zu "
		    "samples, its row says %zu", e->id, path, *n, c->n);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/*
 * Start receiver r's run holding chunk k: the line of its chunks' first
 * samples (time against sample index) gives the run's rate and where its
 * first sample falls on the output grid.
 */
static int
rx_start(struct ex *e, int r, int k)
{
	struct rxs		*x = &e->rx[r];
	int			 a = k, b = k, i, gps = 1, np = 0;
	double			 sx = 0, sy = 0, cum = 0;
	double			 fs = x->rate, t0, d, D;
	soxr_error_t		 se;
	soxr_io_spec_t		 io;
	soxr_quality_spec_t	 q;

	rx_reset(x);
	while (a > 0 && CELL(e, a - 1, r)->run == CELL(e, k, r)->run)
		a--;
	while (b + 1 < e->nchunks && CELL(e, b + 1, r)->run ==
	    CELL(e, k, r)->run)
		b++;
	for (i = a; i <= b; i++)
		gps &= CELL(e, i, r)->has_t0;
	/* least squares (two passes: centred sums), relative to the run's
	 * first point (doubles keep ns exactly there) */
	{
		double		 mx, my, cxx = 0, cxy = 0, slope;
		const int64_t	 base = gps ? CELL(e, a, r)->t_ns :
				    CELL(e, a, r)->ts_ns;

		for (i = a; i <= b; i++, np++) {
			struct cell *c = CELL(e, i, r);
			sx += cum;
			sy += (double)((gps ? c->t_ns : c->ts_ns) - base);
			cum += (double)c->n;
		}
		mx = sx / np;
		my = sy / np;
		for (cum = 0, i = a; i <= b; i++) {
			struct cell *c = CELL(e, i, r);
			double y = (double)((gps ? c->t_ns : c->ts_ns) - base);
			cxx += (cum - mx) * (cum - mx);
			cxy += (cum - mx) * (y - my);
			cum += (double)c->n;
		}
		/* a line far from the rows' rate is bogus timing: keep the
		 * rate */
		slope = np >= 2 && cxx > 0 ? cxy / cxx : 0;
		if (slope > 0 && fabs(1e9 / slope - fs) < 1e-3 * fs)
			fs = 1e9 / slope;
		t0 = np >= 2 ? my - mx * (1e9 / fs) : 0;
	}
	t0 += (double)(gps ? CELL(e, a, r)->t_ns : CELL(e, a, r)->ts_ns);
	/* soxr output i is at t0 + i / rate; output n of the grid at
	 * n / rate: n = i - D */
	D = t0 * 1e-9 * e->rate;
	x->n0 = lround(-D);
	d = -D - (double)x->n0;
	x->delta = d;
	x->use_fd = fabs(d) > 1e-4;
	if (x->use_fd)
		fd_taps(x->h, d);
	x->rate = fs;
	io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
	q = soxr_quality_spec(SOXR_HQ, 0);
	x->sx = soxr_create(fs, e->rate, 2, &se, &io, &q, NULL);
	if (x->sx == NULL || se != NULL) {
		snprintf(e->err, sizeof e->err, "session %s: websdr %d: "
		    "resampler %.3f -> %.3f S/s: %s", e->id, x->websdr, fs,
		    e->rate, se != NULL ? se : "failed");
		return -1;
	}
	x->run = CELL(e, k, r)->run;
	x->next = a;
	x->run_end = b;
	x->zbase = 0;
	return 0;
}

/*
 * Receiver r's samples n0..n0+L-1 of the output grid (window j) into
 * I[0..L), Q[0..L): z is fed until it holds every soxr output those need.
 */
static int
rx_window(struct ex *e, int r, int j, float *I, float *Q)
{
	struct rxs	*x = &e->rx[r];
	int		 k = (int)((int64_t)j * e->wms / e->cms);
	long		 nst = (long)((size_t)j * e->L), hi, m, i0;
	size_t		 t, i, n;
	int		 kk, h;
	float		*in;

	if (x->run != CELL(e, k, r)->run || x->sx == NULL)
		if (rx_start(e, r, k) != 0)
			return -1;
	h = x->use_fd ? FD_H : 0;	/* the run's, once started */
	hi = nst + (long)e->L - 1 + x->n0 + h;
	while (x->zbase + (long)x->zlen <= hi && !x->flushed) {
		if (x->next <= x->run_end) {
			if (read_chunk(e, x->next, r, &in, &n) != 0)
				return -1;
			x->next++;
			if (rx_feed(e, x, in, n) != 0) {
				free(in);
				return -1;
			}
			free(in);
		} else {
			if (rx_feed(e, x, NULL, 0) != 0)
				return -1;
			x->flushed = 1;
		}
	}
	/* Samples whose taps all fall inside z: the filter as 2 FD_H + 1
	 * scaled sums of contiguous interleaved floats (which the compiler
	 * vectorizes); the others (at a run's ends: outside what soxr gave
	 * counts as 0) one by one. */
	{
		long	 ta, tb;

		i0 = nst + x->n0 - x->zbase;	/* z index of sample 0 */
		ta = h - i0 > 0 ? h - i0 : 0;
		tb = (long)x->zlen - h - i0;
		if (tb > (long)e->L)
			tb = (long)e->L;
		if (tb < ta)
			tb = ta;
		if (tb > ta) {
			if (!x->use_fd)
				memcpy(x->acc, x->z + 2 * (i0 + ta),
				    (size_t)(tb - ta) * 2 * sizeof *x->acc);
			else {
				memset(x->acc, 0, (size_t)(tb - ta) * 2 *
				    sizeof *x->acc);
				for (kk = -FD_H; kk <= FD_H; kk++)
					fd_axpy(x->acc, x->z + 2 * (i0 + ta +
					    kk), x->h[kk + FD_H],
					    (size_t)(tb - ta) * 2);
			}
			for (m = ta; m < tb; m++) {
				I[m] = x->acc[2 * (m - ta)];
				Q[m] = x->acc[2 * (m - ta) + 1];
			}
		}
		for (t = 0; t < e->L; t++) {
			float re = 0, im = 0;
			if ((long)t == ta && tb > ta) {
				t = (size_t)tb - 1;
				continue;
			}
			for (kk = -h; kk <= h; kk++) {
				m = i0 + (long)t + kk;
				if (m < 0 || m >= (long)x->zlen)
					continue;
				re += (h ? x->h[kk + FD_H] : 1) * x->z[2 * m];
				im += (h ? x->h[kk + FD_H] : 1) * x->z[2 * m +
				    1];
			}
			I[t] = re;
			Q[t] = im;
		}
	}
	/* drop what the next window no longer needs */
	m = nst + (long)e->L + x->n0 - h - x->zbase;
	if (m > 0) {
		i = (size_t)m < x->zlen ? (size_t)m : x->zlen;
		memmove(x->z, x->z + 2 * i, (x->zlen - i) * 2 * sizeof *x->z);
		x->zlen -= i;
		x->zbase += (long)i;
	}
	return 0;
}

/* The next window of every receiver into e->win (zeros where masked). */
static int
make_window(struct ex *e)
{
	int	 r, j = e->wnext++;
	float	*I;

	memset(e->win, 0, (size_t)e->nrx * 2 * e->L * sizeof *e->win);
	for (r = 0; r < e->nrx; r++) {
		if (!e->mask[(size_t)j * e->nrx + r])
			continue;
		I = e->win + (size_t)r * 2 * e->L;
		if (rx_window(e, r, j, I, I + e->L) != 0)
			return -1;
	}
	e->woff = 0;
	return 0;
}

/* libzip reads the iq member through this: header, then window by window. */
static zip_int64_t
iq_source(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
	struct ex	*e = ud;
	size_t		 wbytes = (size_t)e->nrx * 2 * e->L * sizeof(float);
	size_t		 got = 0, m;
	char		*out = data;

	switch (cmd) {
	case ZIP_SOURCE_OPEN:
		/* read again from the start (libzip reads once; should it
		 * not): every receiver starts its run again */
		for (int r = 0; r < e->nrx; r++)
			rx_reset(&e->rx[r]);
		e->pos = 0;
		e->wnext = 0;
		e->woff = wbytes;
		return 0;
	case ZIP_SOURCE_READ:
		while (got < len && e->pos < e->total) {
			if (e->pos < e->hlen) {
				m = e->hlen - (size_t)e->pos;
				if (m > len - got)
					m = len - got;
				memcpy(out + got, e->hdr + e->pos, m);
			} else {
				if (e->woff == wbytes && make_window(e) != 0) {
					e->failed = 1;
					return -1;
				}
				m = wbytes - e->woff;
				if (m > len - got)
					m = len - got;
				memcpy(out + got, (char *)e->win + e->woff, m);
				e->woff += m;
			}
			got += m;
			e->pos += m;
		}
		return (zip_int64_t)got;
	case ZIP_SOURCE_CLOSE:
		return 0;
	case ZIP_SOURCE_STAT: {
		zip_stat_t *st = data;
		if (len < sizeof *st)
			return -1;
		memset(st, 0, sizeof *st);
		st->index = ZIP_UINT64_MAX;
		st->size = e->total;
		st->valid = ZIP_STAT_SIZE;
		return sizeof *st;
	}
	case ZIP_SOURCE_ERROR: {
		int *ev = data;
		if (len < 2 * sizeof(int))
			return -1;
		ev[0] = ZIP_ER_READ;
		ev[1] = EIO;
		return 2 * sizeof(int);
	}
	case ZIP_SOURCE_FREE:
		return 0;
	case ZIP_SOURCE_SUPPORTS:
		return ZIP_SOURCE_SUPPORTS_READABLE;
	default:
		return -1;
	}
}

/* --- the small arrays: whole .npy members built in memory --------------- */

struct member {
	char	 name[40];
	void	*buf;
	size_t	 len;
};

struct members {
	struct member	 v[32];
	int		 n;
};

/* A new member "name.npy" with room for its data; returns the data. */
static void *
member_new(struct members *ms, const char *name, const char *descr,
    const size_t *shape, int ndim, size_t item)
{
	struct member	*m;
	char		 hdr[640];
	size_t		 hl, count = 1;
	int		 i;

	if (ms->n >= (int)(sizeof ms->v / sizeof ms->v[0]))
		return NULL;
	for (i = 0; i < ndim; i++)
		count *= shape[i];
	if ((hl = npy_header_nd(hdr, sizeof hdr, descr, shape, ndim)) == 0)
		return NULL;
	m = &ms->v[ms->n];
	if ((m->buf = calloc(1, hl + count * item + 1)) == NULL)
		return NULL;
	memcpy(m->buf, hdr, hl);
	m->len = hl + count * item;
	snprintf(m->name, sizeof m->name, "%s.npy", name);
	ms->n++;
	return (char *)m->buf + hl;
}

static void
members_free(struct members *ms)
{
	int	 i;

	for (i = 0; i < ms->n; i++)
		free(ms->v[i].buf);
	ms->n = 0;
}

/* UTF-8 into a '<U' slot of NAME_CHARS code points (UTF-32LE, 0-padded). */
static void
put_u32(uint8_t *slot, const char *s)
{
	const unsigned char	*p = (const unsigned char *)(s != NULL ? s : "");
	uint32_t		 cp;
	int			 n = 0, extra;

	while (*p != '\0' && n < NAME_CHARS) {
		if (*p < 0x80) {
			cp = *p++;
			extra = 0;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p++ & 0x1f;
			extra = 1;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p++ & 0x0f;
			extra = 2;
		} else {
			cp = *p++ & 0x07;
			extra = 3;
		}
		for (; extra > 0 && (*p & 0xc0) == 0x80; extra--)
			cp = cp << 6 | (*p++ & 0x3f);
		memcpy(slot + 4 * n++, &cp, 4);	/* x86/arm: little-endian */
	}
}

#define NEW(ms, name, descr, shape, nd, type) \
	((type *)member_new((ms), (name), (descr), (shape), (nd), sizeof(type)))

/* --- the export --------------------------------------------------------- */

/* The windows whose start lies in stored chunk c: ja..jb (maybe none). */
static void
win_range(const struct ex *e, int c, int *ja, int *jb)
{
	*ja = (int)(((int64_t)c * e->cms + e->wms - 1) / e->wms);
	*jb = (int)(((int64_t)(c + 1) * e->cms + e->wms - 1) / e->wms) - 1;
	if (*jb >= e->nwin)
		*jb = e->nwin - 1;
}

static int
fail(char *err, size_t errlen, const char *id, const char *what)
{
	snprintf(err, errlen, "session %s: %s", id, what);
	return -1;
}

int
arrays_export(struct dataset *ds, const char *id,
    const struct arrays_opts *opts, char *out_path, size_t out_len,
    char *err, size_t errlen)
{
	struct ex	 e;
	struct members	 ms = { .n = 0 };
	json_t		*man = NULL, *rows, *stations, *row, *st, *tdoa, *fixes;
	const json_t	*sess;
	int		 websdr[ARRAYS_MAX_RX], r, k, j, i, rc = -1, maxk = -1;
	size_t		 idx, shape[3];
	double		*rates = NULL, rmin = INFINITY;
	int64_t		 t0 = INT64_MAX;
	char		 tmp[4200], why[1024];
	const char	*outdir = opts != NULL && opts->out_dir != NULL ?
			    opts->out_dir : ".";
	zip_t		*za = NULL;
	zip_source_t	*src;
	zip_int64_t	 zi;
	int		 zerr;

	memset(&e, 0, sizeof e);
	e.ds = ds;
	e.id = id;
	e.wms = opts != NULL ? opts->chunk_ms : 0;	/* 0: the chunks' */
	if (e.wms < 0 || e.wms > 5000)
		return fail(err, errlen, id, "--chunk-ms must be 1-5000");
	if (opts != NULL && (opts->rate_hz < 0 || opts->rate_hz >
	    ARRAYS_MAX_RATE || isnan(opts->rate_hz)))
		return fail(err, errlen, id, "--rate must be 0-10000000 S/s");
	if (!util_is_uuid(id))
		return fail(err, errlen, id, "not a session id");
	if (lazylib_zip(why, sizeof why) != 0 ||
	    lazylib_soxr(why, sizeof why) != 0 ||
	    lazygsl_load(why, sizeof why) != 0)	/* fd_taps' window */
		return fail(err, errlen, id, why);
	if ((man = dataset_session_load(ds, id, err, errlen)) == NULL)
		return -1;
	if (util_fmt(e.sdir, sizeof e.sdir, "%s/sessions/%s", dataset_dir(ds),
	    id) != 0) {
		fail(err, errlen, id, "path too long");
		goto out;
	}
	sess = json_object_get(man, "session");
	rows = json_object_get(man, "measurements");
	stations = json_object_get(man, "stations");

	/* receivers: the stations, and any websdr a row names */
	e.nrx = 0;
	json_array_foreach(stations, idx, st) {
		json_int_t w = json_integer_value(json_object_get(st,
		    "websdr"));
		for (r = 0; r < e.nrx && websdr[r] != w; r++)
			;
		if (w < 1 || w > 100000 || r < e.nrx)
			continue;
		if (e.nrx == ARRAYS_MAX_RX) {
			fail(err, errlen, id, "more than 256 receivers");
			goto out;
		}
		websdr[e.nrx++] = (int)w;
	}
	json_array_foreach(rows, idx, row) {
		json_int_t w = json_integer_value(json_object_get(row,
		    "websdr"));
		json_int_t c = json_integer_value(json_object_get(row,
		    "chunk_index"));
		if (w < 1 || w > 100000 || c < 0 || c >= ARRAYS_MAX_CHUNKS)
			continue;
		if (c > maxk)
			maxk = (int)c;
		for (r = 0; r < e.nrx && websdr[r] != w; r++)
			;
		if (r == e.nrx) {
			if (e.nrx == ARRAYS_MAX_RX) {
				fail(err, errlen, id, "more than 256 "
				    "receivers");
				goto out;
			}
			websdr[e.nrx++] = (int)w;
		}
	}
	/* in websdr order */
	for (i = 1; i < e.nrx; i++)
		for (r = i; r > 0 && websdr[r - 1] > websdr[r]; r--) {
			int t = websdr[r];
			websdr[r] = websdr[r - 1];
			websdr[r - 1] = t;
		}
	e.cms = dataset_session_chunk_ms(sess);
	if (e.wms == 0)
		e.wms = e.cms;
	if (e.wms > e.cms) {
		snprintf(why, sizeof why, "--chunk-ms %d is longer than the "
		    "session's %d-ms chunks: windows tile chunks (at most "
		    "%d)", e.wms, e.cms, e.cms);
		fail(err, errlen, id, why);
		goto out;
	}
	e.nchunks = (int)dataset_session_total_chunks(sess);
	if (e.nchunks < maxk + 1)
		e.nchunks = maxk + 1;
	if (e.nrx == 0 || e.nchunks <= 0 || e.nchunks > ARRAYS_MAX_CHUNKS) {
		fail(err, errlen, id, "no stored chunks to export");
		goto out;
	}
	e.cells = calloc((size_t)e.nchunks * e.nrx, sizeof *e.cells);
	e.rx = calloc((size_t)e.nrx, sizeof *e.rx);
	rates = calloc((size_t)e.nchunks + 1, sizeof *rates);
	if (e.cells == NULL || e.rx == NULL || rates == NULL) {
		fail(err, errlen, id, "out of memory");
		goto out;
	}
	for (r = 0; r < e.nrx; r++) {
		e.rx[r].websdr = websdr[r];
		e.rx[r].run = -1;
	}
	/* (acc is allocated once the window length is known, below) */

	/* the rows: T0 is the earliest grid instant they give (each chunk
	 * k starts within a sample after T0 + k on the grid) */
	json_array_foreach(rows, idx, row) {
		json_int_t w = json_integer_value(json_object_get(row,
		    "websdr"));
		json_int_t c = json_integer_value(json_object_get(row,
		    "chunk_index"));
		json_int_t n = json_integer_value(json_object_get(row,
		    "iq_samples_count"));
		const char *fmt = json_string_value(json_object_get(row,
		    "iq_data_format"));
		double fs = jnum(row, "sample_rate_hz");
		int64_t ts;
		struct cell *cl;
		char leaf[64], path[4200];
		struct stat sb;

		if (!isfinite(fs))
			fs = jnum(row, "iq_sample_rate");
		for (r = 0; r < e.nrx && websdr[r] != w; r++)
			;
		if (r == e.nrx || c < 0 || c >= e.nchunks || n <= 0 ||
		    n > 100000000 || !(fs > 0 && fs < ARRAYS_MAX_RATE) ||
		    parse_ns(json_string_value(json_object_get(row,
		    "timestamp")), &ts) != 0)
			continue;
		/* a row whose file is gone is a missing chunk */
		if (dataset_chunk_leaf((int)c, (int)w, leaf, sizeof leaf) !=
		    0 || util_fmt(path, sizeof path, "%s/%s", e.sdir, leaf) !=
		    0 || stat(path, &sb) != 0)
			continue;
		cl = CELL(&e, c, r);
		cl->row = row;
		cl->n = (size_t)n;
		cl->ts_ns = ts;
		cl->has_t0 = json_is_integer(json_object_get(row, "t0_ns"));
		cl->t_ns = cl->has_t0 ? (int64_t)json_integer_value(
		    json_object_get(row, "t0_ns")) : ts;
		e.rx[r].audio = fmt != NULL && strcmp(fmt, "float32") == 0;
		if (ts - c * e.cms * 1000000LL < t0)
			t0 = ts - c * e.cms * 1000000LL;
	}
	if (t0 == INT64_MAX) {
		fail(err, errlen, id, "no stored chunks to export");
		goto out;
	}
	e.t0_abs = t0;
	for (r = 0; r < e.nrx; r++) {
		int nr = 0, run = 0, prev = 0;
		for (k = 0; k < e.nchunks; k++) {
			struct cell *cl = CELL(&e, k, r);
			if (cl->row == NULL) {
				prev = 0;
				continue;
			}
			if (!prev)
				run++;
			prev = 1;
			cl->run = run;
			cl->t_ns -= t0;
			cl->ts_ns -= t0;
			rates[nr] = jnum(cl->row, "sample_rate_hz");
			if (!isfinite(rates[nr]))
				rates[nr] = jnum(cl->row, "iq_sample_rate");
			nr++;
		}
		if (nr > 0) {
			qsort(rates, (size_t)nr, sizeof *rates, cmp_double);
			e.rx[r].rate = rates[nr / 2];
			if (e.rx[r].rate < rmin)
				rmin = e.rx[r].rate;
		}
	}

	/* the rate: whole samples per window */
	if (opts != NULL && opts->rate_hz > 0) {
		double l = opts->rate_hz * e.wms / 1000.0;
		if (fabs(l - round(l)) > 1e-6 * l || round(l) < 1) {
			snprintf(why, sizeof why, "--rate %g gives %.4f "
			    "samples per %d ms window: give a rate that "
			    "makes it a whole number", opts->rate_hz, l,
			    e.wms);
			fail(err, errlen, id, why);
			goto out;
		}
		e.L = (size_t)round(l);
	} else {
		e.L = (size_t)floor(rmin * e.wms / 1000.0 + 1e-9);
		if (e.L < 1) {
			fail(err, errlen, id, "--chunk-ms too short for the "
			    "session's rate: no whole sample per window");
			goto out;
		}
	}
	e.rate = (double)e.L * 1000.0 / e.wms;
	/* bounds on what is held in memory: the per-window arrays and one
	 * window of iq */
	if ((uint64_t)e.nchunks * e.cms / e.wms * e.nrx > ((uint64_t)1 << 26) ||
	    (uint64_t)e.L * e.nrx > ((uint64_t)1 << 26)) {
		snprintf(why, sizeof why, "%d windows of %zu samples x %d "
		    "receivers is too large (at most 2^26 windows x receivers "
		    "and samples x receivers): use a longer --chunk-ms or a "
		    "lower --rate", (int)((int64_t)e.nchunks * e.cms / e.wms),
		    e.L, e.nrx);
		fail(err, errlen, id, why);
		goto out;
	}
	for (r = 0; r < e.nrx; r++)
		if ((e.rx[r].acc = malloc(2 * e.L * sizeof(float))) == NULL) {
			fail(err, errlen, id, "out of memory");
			goto out;
		}
	e.nwin = (int)((int64_t)e.nchunks * e.cms / e.wms);

	/* a window is whole when every chunk it overlaps is stored */
	if ((e.mask = calloc((size_t)e.nwin * e.nrx, 1)) == NULL) {
		fail(err, errlen, id, "out of memory");
		goto out;
	}
	for (j = 0; j < e.nwin; j++) {
		int ka = (int)((int64_t)j * e.wms / e.cms);
		int kb = (int)(((int64_t)(j + 1) * e.wms - 1) / e.cms);
		for (r = 0; r < e.nrx; r++) {
			int ok = 1;
			for (k = ka; k <= kb && k < e.nchunks; k++)
				ok &= CELL(&e, k, r)->row != NULL;
			e.mask[(size_t)j * e.nrx + r] = (uint8_t)ok;
		}
	}

	/* --- the small arrays --- */
	{
		size_t nw = (size_t)e.nwin, nr = (size_t)e.nrx;
		uint8_t *mk, *au, *nm, *fn;
		float *ft;
		double *pos, *sc;
		int64_t *tt;
		int32_t *ci, *wd;
		char descr[16];

		shape[0] = nw;
		shape[1] = nr;
		if ((mk = NEW(&ms, "mask", "|b1", shape, 2, uint8_t)) == NULL)
			goto oom;
		memcpy(mk, e.mask, nw * nr);
		if ((tt = NEW(&ms, "t0_ns", "<i8", shape, 1, int64_t)) ==
		    NULL || (ci = NEW(&ms, "chunk_index", "<i4", shape, 1,
		    int32_t)) == NULL)
			goto oom;
		for (j = 0; j < e.nwin; j++) {
			tt[j] = e.t0_abs + (int64_t)j * e.wms * 1000000;
			ci[j] = (int32_t)((int64_t)j * e.wms / e.cms);
		}
		shape[0] = nr;
		shape[1] = 3;
		if ((pos = NEW(&ms, "receiver_position", "<f8", shape, 2,
		    double)) == NULL || (wd = NEW(&ms, "receiver_websdr",
		    "<i4", shape, 1, int32_t)) == NULL || (au = NEW(&ms,
		    "receiver_audio", "|b1", shape, 1, uint8_t)) == NULL)
			goto oom;
		snprintf(descr, sizeof descr, "<U%d", NAME_CHARS);
		if ((nm = member_new(&ms, "receiver_name", descr, shape, 1,
		    4 * NAME_CHARS)) == NULL)
			goto oom;
		for (r = 0; r < e.nrx; r++) {
			const char *name = NULL;
			pos[3 * r] = pos[3 * r + 1] = pos[3 * r + 2] = NAN;
			wd[r] = websdr[r];
			au[r] = (uint8_t)e.rx[r].audio;
			json_array_foreach(stations, idx, st)
				if (json_integer_value(json_object_get(st,
				    "websdr")) == websdr[r]) {
					pos[3 * r] = jnum(st, "latitude");
					pos[3 * r + 1] = jnum(st, "longitude");
					pos[3 * r + 2] =
					    dataset_station_altitude(st);
					name = json_string_value(
					    json_object_get(st, "name"));
				}
			for (k = 0; name == NULL && k < e.nchunks; k++)
				if (CELL(&e, k, r)->row != NULL)
					name = json_string_value(
					    json_object_get(CELL(&e, k, r)->row,
					    "websdr_station_name"));
			put_u32(nm + (size_t)r * 4 * NAME_CHARS, name);
		}
		shape[0] = NFEAT;
		if ((fn = member_new(&ms, "feature_names", descr, shape, 1,
		    4 * NAME_CHARS)) == NULL)
			goto oom;
		for (i = 0; i < NFEAT; i++)
			put_u32(fn + (size_t)i * 4 * NAME_CHARS,
			    feature_names[i]);
		shape[0] = nw;
		shape[1] = nr;
		shape[2] = NFEAT;
		if ((ft = NEW(&ms, "features", "<f4", shape, 3, float)) ==
		    NULL)
			goto oom;
		for (j = 0; j < e.nwin; j++)
			for (r = 0; r < e.nrx; r++) {
				float *f = ft + ((size_t)j * nr + r) * NFEAT;
				const json_t *rw = CELL(&e, ci[j], r)->row;
				for (i = 0; i < NFEAT; i++)
					f[i] = NAN;
				if (!e.mask[(size_t)j * nr + r])
					continue;
				f[0] = (float)jnum(rw, "snr_db");
				f[1] = (float)jnum(rw, "signal_strength_db");
				f[2] = (float)jnum(rw, "noise_floor_db");
				f[3] = (float)jnum(rw, "frequency_offset_hz");
				f[4] = (float)pos[3 * r];
				f[5] = (float)pos[3 * r + 1];
				f[6] = (float)pos[3 * r + 2];
			}
		if ((sc = NEW(&ms, "rate_hz", "<f8", shape, 0, double)) ==
		    NULL)
			goto oom;
		*sc = e.rate;
		if ((sc = NEW(&ms, "window_s", "<f8", shape, 0, double)) ==
		    NULL)
			goto oom;
		*sc = e.wms / 1000.0;
		if ((sc = NEW(&ms, "frequency_hz", "<f8", shape, 0, double)) ==
		    NULL)
			goto oom;
		*sc = jnum(sess, "frequency_hz");

		/* the known source's position */
		{
			const char *sid = json_string_value(json_object_get(
			    sess, "known_source_id"));
			struct source so;
			if (sid != NULL && dataset_source_find(ds, sid, &so) ==
			    0 && so.has_coords) {
				shape[0] = 3;
				if ((sc = NEW(&ms, "target", "<f8", shape, 1,
				    double)) == NULL)
					goto oom;
				sc[0] = so.latitude;
				sc[1] = so.longitude;
				sc[2] = NAN;
			}
		}
		/* TDoA per window (its chunk's): [a][b] = arrival at a
		 * minus arrival at b, us; NaN where none */
		tdoa = json_object_get(man, "tdoa");
		if (json_array_size(tdoa) > 0 && nw * nr * nr > ((size_t)1 << 26)) {
			fail(err, errlen, id, "tdoa_us would exceed 2^26 values "
			    "(windows x receivers^2): use a longer --chunk-ms");
			goto out;
		}
		if (json_array_size(tdoa) > 0) {
			double *td, *sg;
			size_t cnt;
			shape[0] = nw;
			shape[1] = nr;
			shape[2] = nr;
			cnt = nw * nr * nr;
			if ((td = NEW(&ms, "tdoa_us", "<f8", shape, 3,
			    double)) == NULL || (sg = NEW(&ms,
			    "tdoa_sigma_us", "<f8", shape, 3, double)) == NULL)
				goto oom;
			for (idx = 0; idx < cnt; idx++)
				td[idx] = sg[idx] = NAN;
			json_array_foreach(tdoa, idx, row) {
				json_int_t c = json_integer_value(
				    json_object_get(row, "chunk_index"));
				int a, b, ja, jb;
				if (c < 0 || c >= e.nchunks)
					continue;
				win_range(&e, (int)c, &ja, &jb);
				for (j = ja; j <= jb; j++) {
					for (a = 0; a < e.nrx && websdr[a] !=
					    json_integer_value(json_object_get(
					    row, "websdr_a")); a++)
						;
					for (b = 0; b < e.nrx && websdr[b] !=
					    json_integer_value(json_object_get(
					    row, "websdr_b")); b++)
						;
					if (a == e.nrx || b == e.nrx || a == b)
						continue;
					cnt = ((size_t)j * nr + a) * nr + b;
					td[cnt] = jnum(row, "tdoa_us");
					sg[cnt] = jnum(row, "sigma_us");
					cnt = ((size_t)j * nr + b) * nr + a;
					td[cnt] = -jnum(row, "tdoa_us");
					sg[cnt] = jnum(row, "sigma_us");
				}
			}
		}
		/* fixes: per window (its chunk's) and the session's */
		fixes = json_object_get(man, "fixes");
		if (json_array_size(fixes) > 0) {
			double *fx, *ce;
			int ja, jb;
			shape[0] = nw;
			shape[1] = 2;
			if ((fx = NEW(&ms, "fix", "<f8", shape, 2, double)) ==
			    NULL || (ce = NEW(&ms, "fix_cep50_m", "<f8", shape,
			    1, double)) == NULL)
				goto oom;
			for (j = 0; j < e.nwin; j++)
				fx[2 * j] = fx[2 * j + 1] = ce[j] = NAN;
			json_array_foreach(fixes, idx, row) {
				const json_t *ck = json_object_get(row,
				    "chunk_index");
				if (!json_is_true(json_object_get(row, "ok")))
					continue;
				if (json_is_true(json_object_get(row,
				    "final"))) {
					shape[0] = 2;
					if ((sc = NEW(&ms, "session_fix", "<f8",
					    shape, 1, double)) == NULL)
						goto oom;
					sc[0] = jnum(row, "latitude");
					sc[1] = jnum(row, "longitude");
					continue;
				}
				if (!json_is_integer(ck) || json_integer_value(
				    ck) < 0 || json_integer_value(ck) >=
				    e.nchunks)
					continue;
				win_range(&e, (int)json_integer_value(ck), &ja,
				    &jb);
				for (j = ja; j <= jb; j++) {
					fx[2 * j] = jnum(row, "latitude");
					fx[2 * j + 1] = jnum(row, "longitude");
					ce[j] = jnum(row, "cep50_m");
				}
			}
		}
	}

	/* --- the iq member, streamed --- */
	shape[0] = (size_t)e.nwin;
	shape[1] = (size_t)e.nrx;
	shape[2] = 2;
	{
		size_t sh4[4] = { shape[0], shape[1], 2, e.L };
		e.hlen = npy_header_nd(e.hdr, sizeof e.hdr, "<f4", sh4, 4);
	}
	e.total = e.hlen + (uint64_t)e.nwin * e.nrx * 2 * e.L * 4;
	if (e.hlen == 0 || (e.win = malloc((size_t)e.nrx * 2 * e.L *
	    sizeof *e.win)) == NULL)
		goto oom;

	/* --- the archive: a temporary name, renamed when whole --- */
	if (util_mkdirs(outdir, why, sizeof why) != 0) {
		fail(err, errlen, id, why);
		goto out;
	}
	if (util_fmt(out_path, out_len, "%s/%s.npz", outdir, id) != 0 ||
	    util_fmt(tmp, sizeof tmp, "%s/.%s.npz.tmp", outdir, id) != 0) {
		fail(err, errlen, id, "output path too long");
		goto out;
	}
	if ((za = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr)) == NULL) {
		zip_error_t ze;
		zip_error_init_with_code(&ze, zerr);
		snprintf(why, sizeof why, "cannot create %s: %s", tmp,
		    zip_error_strerror(&ze));
		zip_error_fini(&ze);
		fail(err, errlen, id, why);
		goto out;
	}
	if ((src = zip_source_function(za, iq_source, &e)) == NULL ||
	    (zi = zip_file_add(za, "iq.npy", src, ZIP_FL_ENC_UTF_8)) < 0) {
		zip_source_free(src);
		goto zfail;
	}
	/* stored, not deflated: float IQ hardly compresses, and numpy reads
	 * a stored member without inflating it */
	zip_set_file_compression(za, (zip_uint64_t)zi, ZIP_CM_STORE, 0);
	for (i = 0; i < ms.n; i++) {
		if ((src = zip_source_buffer(za, ms.v[i].buf, ms.v[i].len,
		    1)) == NULL)
			goto zfail;
		ms.v[i].buf = NULL;	/* libzip frees it */
		if ((zi = zip_file_add(za, ms.v[i].name, src,
		    ZIP_FL_ENC_UTF_8)) < 0) {
			zip_source_free(src);
			goto zfail;
		}
		zip_set_file_compression(za, (zip_uint64_t)zi, ZIP_CM_STORE,
		    0);
	}
	if (zip_close(za) != 0) {
		if (e.failed)
			snprintf(err, errlen, "%s", e.err);
		else
			goto zfail;
		goto out;
	}
	za = NULL;
	if (rename(tmp, out_path) != 0) {
		snprintf(why, sizeof why, "rename %s: %s", out_path,
		    strerror(errno));
		fail(err, errlen, id, why);
		unlink(tmp);
		goto out;
	}
	rc = 0;
	goto out;
zfail:
	snprintf(why, sizeof why, "%s: %s", tmp, zip_strerror(za));
	fail(err, errlen, id, why);
	goto out;
oom:
	fail(err, errlen, id, "out of memory");
out:
	if (za != NULL) {
		zip_discard(za);
		unlink(tmp);
	}
	members_free(&ms);
	if (e.rx != NULL)
		for (r = 0; r < e.nrx; r++) {
			soxr_delete(e.rx[r].sx);
			free(e.rx[r].z);
			free(e.rx[r].acc);
		}
	free(e.rx);
	free(e.cells);
	free(e.mask);
	free(e.win);
	free(rates);
	json_decref(man);
	return rc;
}
