/* kiwiwav.c -- kiwirecorder's GPS-stamped IQ WAV files: a bounded reader and the stamp checks (kiwiwav.h). */

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "src/base/kiwiwav.h"

#define GPS_WEEK_NS	(604800LL * 1000000000LL)

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint16_t
le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Exactly len bytes at off, or -1 (EOF counts as an error). */
static int
read_at(int fd, void *buf, size_t len, int64_t off)
{
	size_t	 got = 0;
	ssize_t	 r;

	while (got < len) {
		r = pread(fd, (char *)buf + got, len - got, (off_t)off +
		    (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		got += (size_t)r;
	}
	return 0;
}

void
kiwiwav_free(struct kiwiwav *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	free(w->b);
	w->b = NULL;
	w->nblocks = 0;
}

int
kiwiwav_open(const char *path, struct kiwiwav *w, char *err, size_t errlen)
{
	int	fd;

	memset(w, 0, sizeof *w);
	w->fd = -1;
	/* O_NONBLOCK: a FIFO named by mistake must not hang the open */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return kiwiwav_load(fd, w, err, errlen);
}

static int
fail(struct kiwiwav *w, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
fail(struct kiwiwav *w, char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	kiwiwav_free(w);
	return -1;
}

static int
check_fmt(struct kiwiwav *w, const unsigned char *f, uint32_t size,
    char *err, size_t errlen)
{
	uint16_t	tag, ch, align, bits;
	uint32_t	rate, brate;

	if (size < 16 || size > 64)
		return fail(w, err, errlen, "fmt chunk of %u bytes (16 "
		    "expected)", size);
	tag = le16(f);
	ch = le16(f + 2);
	rate = le32(f + 4);
	brate = le32(f + 8);
	align = le16(f + 12);
	bits = le16(f + 14);
	if (tag != 1 || ch != 2 || bits != 16 || align != 4)
		return fail(w, err, errlen, "not a KiwiSDR IQ recording: format "
		    "%u, %u channels of %u bits (PCM, 2 channels I and Q of 16 "
		    "bits expected)", tag, ch, bits);
	if (rate < KIWIWAV_RATE_MIN || rate > KIWIWAV_RATE_MAX)
		return fail(w, err, errlen, "sample rate %u S/s is out of range "
		    "(%d-%d)", rate, KIWIWAV_RATE_MIN, KIWIWAV_RATE_MAX);
	if (brate != rate * 4)
		return fail(w, err, errlen, "byte rate %u does not match %u S/s "
		    "x 4 bytes", brate, rate);
	w->rate = (int)rate;
	return 0;
}

int
kiwiwav_load(int fd, struct kiwiwav *w, char *err, size_t errlen)
{
	unsigned char	 h[12], f[64], k[10];
	struct stat	 sb;
	int64_t		 size, end, pos, body;
	uint32_t	 csize;
	int		 have_fmt = 0, have_stamp = 0, cap = 0, wraps = 0;
	int64_t		 prev_t = -1;
	struct kiwiwav_block stamp;

	memset(w, 0, sizeof *w);
	w->fd = fd;
	memset(&stamp, 0, sizeof stamp);
	if (fstat(fd, &sb) != 0)
		return fail(w, err, errlen, "cannot stat: %s", strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return fail(w, err, errlen, "not a regular file");
	/* reads block from here on (O_NONBLOCK was for the open only) */
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	size = (int64_t)sb.st_size;
	if (size > KIWIWAV_BYTES_MAX)
		return fail(w, err, errlen, "%lld bytes: larger than a WAV "
		    "file can be (%lld)", (long long)size,
		    (long long)KIWIWAV_BYTES_MAX);
	if (size < 12 || read_at(fd, h, 12, 0) != 0 ||
	    memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0)
		return fail(w, err, errlen, "not a RIFF/WAVE file");
	/* The RIFF size says where the file ends; a file cut short (the
	 * recorder killed) ends at its size, a torn last chunk left out. */
	end = (int64_t)le32(h + 4) + 8;
	if (end > size) {
		end = size;
		w->truncated = 1;
	}
	for (pos = 12; pos < end; ) {
		if (end - pos < 8) {
			w->truncated = 1;
			break;
		}
		if (read_at(fd, h, 8, pos) != 0)
			return fail(w, err, errlen, "read error at offset %lld: "
			    "%s", (long long)pos, strerror(errno));
		csize = le32(h + 4);
		body = pos + 8;
		if ((int64_t)csize > end - body) {
			/* runs past the end: an incomplete last chunk */
			w->truncated = 1;
			break;
		}
		if (memcmp(h, "fmt ", 4) == 0) {
			if (have_fmt)
				return fail(w, err, errlen, "a second fmt chunk "
				    "at offset %lld", (long long)pos);
			if (csize > sizeof f)
				return fail(w, err, errlen, "fmt chunk of %u "
				    "bytes (16 expected)", csize);
			if (read_at(fd, f, csize, body) != 0)
				return fail(w, err, errlen, "read error at "
				    "offset %lld: %s", (long long)body,
				    strerror(errno));
			if (check_fmt(w, f, csize, err, errlen) != 0)
				return -1;
			have_fmt = 1;
		} else if (memcmp(h, "kiwi", 4) == 0) {
			if (!have_fmt)
				return fail(w, err, errlen, "kiwi chunk before "
				    "the fmt chunk");
			if (csize != 10)
				return fail(w, err, errlen, "kiwi chunk of %u "
				    "bytes at offset %lld (10 expected)", csize,
				    (long long)pos);
			if (have_stamp)
				return fail(w, err, errlen, "two kiwi chunks "
				    "in a row at offset %lld", (long long)pos);
			if (read_at(fd, k, 10, body) != 0)
				return fail(w, err, errlen, "read error at "
				    "offset %lld: %s", (long long)body,
				    strerror(errno));
			stamp.solution = k[0];
			stamp.gpssec = le32(k + 2);
			stamp.gpsnsec = le32(k + 6);
			have_stamp = 1;
		} else if (memcmp(h, "data", 4) == 0) {
			if (!have_fmt)
				return fail(w, err, errlen, "data chunk before "
				    "the fmt chunk");
			if (!have_stamp)
				return fail(w, err, errlen, "data chunk at "
				    "offset %lld has no kiwi stamp before it "
				    "(not recorded with kiwirecorder -w?)",
				    (long long)pos);
			if (csize == 0 || csize % 4 != 0 ||
			    csize / 4 > KIWIWAV_BLOCK_MAX)
				return fail(w, err, errlen, "data chunk of %u "
				    "bytes at offset %lld (a whole number of "
				    "I,Q pairs, at most %d, expected)", csize,
				    (long long)pos, KIWIWAV_BLOCK_MAX);
			if (w->nblocks == cap) {
				/* bounded by the file: >= 30 bytes a block */
				int ncap = cap ? 2 * cap : 256;
				struct kiwiwav_block *nb = realloc(w->b,
				    (size_t)ncap * sizeof *nb);
				if (nb == NULL)
					return fail(w, err, errlen, "out of "
					    "memory");
				w->b = nb;
				cap = ncap;
			}
			stamp.off = body;
			stamp.n = csize / 4;
			stamp.sample = w->samples;
			/* Time of week, unwrapped: a stamp more than half a
			 * week before the previous one is in the next week. */
			if (stamp.gpssec >= 604800 || stamp.gpsnsec >= 1000000000)
				stamp.t_ns = -1;
			else {
				stamp.t_ns = (int64_t)stamp.gpssec * 1000000000LL +
				    stamp.gpsnsec + (int64_t)wraps * GPS_WEEK_NS;
				if (prev_t >= 0 && prev_t - stamp.t_ns >
				    GPS_WEEK_NS / 2) {
					wraps++;
					stamp.t_ns += GPS_WEEK_NS;
				}
				prev_t = stamp.t_ns;
			}
			w->b[w->nblocks++] = stamp;
			w->samples += stamp.n;
			have_stamp = 0;
		}
		/* RIFF pads odd chunks to even length */
		pos = body + (int64_t)csize + (csize & 1);
	}
	if (!have_fmt)
		return fail(w, err, errlen, "no fmt chunk");
	if (w->nblocks == 0)
		return fail(w, err, errlen, "no GPS-stamped samples (kiwi + data "
		    "chunks): not recorded with kiwirecorder -w");
	kiwiwav_check(w);
	return 0;
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static void
refuse(struct kiwiwav *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
refuse(struct kiwiwav *w, const char *fmt, ...)
{
	va_list	ap;

	w->ok = 0;
	va_start(ap, fmt);
	vsnprintf(w->reason, sizeof w->reason, fmt, ap);
	va_end(ap);
}

void
kiwiwav_check(struct kiwiwav *w)
{
	double	*rates, med, sx = 0, sy = 0, sxx = 0, sxy = 0, x, y, slope;
	double	 ix0, resid;
	int	 i, n, never = 0, stale = 0, nr = 0, first = 0, bad_at = -1;
	double	 bad_dev = 0;

	w->ok = 0;
	w->reason[0] = '\0';
	w->first = 0;
	w->fs = 0;
	for (i = 0; i < w->nblocks; i++) {
		never += w->b[i].solution == 255;
		stale += w->b[i].solution == 254;
	}
	if (never > 0) {
		refuse(w, "never had a GPS fix (last_gps_solution 255 in %d of "
		    "%d stamps)", never, w->nblocks);
		return;
	}
	if (stale > 0) {
		refuse(w, "no recent GPS fix (last_gps_solution 254 in %d of %d "
		    "stamps)", stale, w->nblocks);
		return;
	}
	if (w->nblocks < KIWIWAV_MIN_BLOCKS) {
		refuse(w, "too short: %d GPS-stamped frames", w->nblocks);
		return;
	}
	/* The rate the stamps advance at, step by step: their median is
	 * robust to the stale first stamps and to a gap. */
	if ((rates = malloc((size_t)w->nblocks * sizeof *rates)) == NULL) {
		refuse(w, "out of memory");
		return;
	}
	for (i = 1; i < w->nblocks; i++) {
		int64_t dt = w->b[i].t_ns - w->b[i - 1].t_ns;
		if (w->b[i].t_ns < 0 || w->b[i - 1].t_ns < 0 || dt <= 0)
			continue;
		rates[nr++] = (double)w->b[i - 1].n * 1e9 / (double)dt;
	}
	if (nr < KIWIWAV_MIN_BLOCKS - 1) {
		free(rates);
		refuse(w, "inconsistent GPS stamps: they do not advance");
		return;
	}
	qsort(rates, (size_t)nr, sizeof *rates, cmp_double);
	med = rates[nr / 2];
	free(rates);
	if (fabs(med / w->rate - 1) > KIWIWAV_RATE_TOL) {
		refuse(w, "inconsistent sample rate: the GPS stamps advance at "
		    "%.3f S/s of samples, the header says %d S/s", med,
		    w->rate);
		return;
	}
	/* Each step against what its samples take at that rate: only the
	 * first KIWIWAV_STALE_MAX stamps may be off (stale); after them, a
	 * step that is off is a gap (frames lost) or a jump. */
	for (i = 1; i < w->nblocks; i++) {
		double dev;
		if (w->b[i].t_ns < 0 || w->b[i - 1].t_ns < 0)
			dev = INFINITY;
		else
			dev = (double)(w->b[i].t_ns - w->b[i - 1].t_ns) -
			    (double)w->b[i - 1].n * 1e9 / med;
		if (fabs(dev) <= KIWIWAV_JUMP_NS)
			continue;
		if (i <= KIWIWAV_STALE_MAX)
			first = i;
		else if (bad_at < 0) {
			bad_at = i;
			bad_dev = dev;
		}
	}
	if (bad_at >= 0) {
		double at = (double)w->b[bad_at].sample / med;
		if (!isfinite(bad_dev))
			refuse(w, "gap: frame %d (%.3f s into the file) has a GPS "
			    "stamp out of range", bad_at, at);
		else if (bad_dev > 0)
			refuse(w, "gap: the GPS stamps jump %.3f ms ahead at "
			    "frame %d (%.3f s into the file): about %.0f samples "
			    "missing", bad_dev / 1e6, bad_at, at,
			    bad_dev * med / 1e9);
		else
			refuse(w, "gap: the GPS stamps go %.3f ms back at frame "
			    "%d (%.3f s into the file)", -bad_dev / 1e6, bad_at,
			    at);
		return;
	}
	if (w->nblocks - first < KIWIWAV_MIN_BLOCKS) {
		refuse(w, "too short: %d continuous GPS stamps",
		    w->nblocks - first);
		return;
	}
	/* Least squares, time against sample index, both relative to the
	 * first usable stamp: offsets stay far below 2^53 ns. */
	n = w->nblocks - first;
	for (i = first; i < w->nblocks; i++) {
		x = (double)(w->b[i].sample - w->b[first].sample);
		y = (double)(w->b[i].t_ns - w->b[first].t_ns);
		sx += x;
		sy += y;
	}
	sx /= n;
	sy /= n;
	for (i = first; i < w->nblocks; i++) {
		x = (double)(w->b[i].sample - w->b[first].sample) - sx;
		y = (double)(w->b[i].t_ns - w->b[first].t_ns) - sy;
		sxx += x * x;
		sxy += x * y;
	}
	slope = sxy / sxx;	/* ns per sample */
	ix0 = sy - slope * sx;	/* at the first usable sample */
	w->fs = 1e9 / slope;
	w->line_ns = (double)w->b[first].t_ns + ix0;
	w->first = first;
	w->resid_ns = 0;
	for (i = first; i < w->nblocks; i++) {
		resid = fabs((double)w->b[i].t_ns - kiwiwav_time_ns(w,
		    w->b[i].sample));
		if (resid > w->resid_ns)
			w->resid_ns = resid;
	}
	if (w->resid_ns > KIWIWAV_JUMP_NS) {
		refuse(w, "inconsistent sample rate: the GPS stamps stray %.1f "
		    "us from one rate (%.3f S/s)", w->resid_ns / 1e3, w->fs);
		return;
	}
	if (fabs(w->fs / w->rate - 1) > KIWIWAV_RATE_TOL) {
		refuse(w, "inconsistent sample rate: the GPS stamps give %.3f "
		    "S/s, the header says %d S/s", w->fs, w->rate);
		return;
	}
	w->ok = 1;
}

double
kiwiwav_time_ns(const struct kiwiwav *w, int64_t s)
{
	return w->line_ns + (double)(s - w->b[w->first].sample) * 1e9 / w->fs;
}

int
kiwiwav_samples(const struct kiwiwav *w, int i, int16_t *iq, char *err,
    size_t errlen)
{
	unsigned char	*raw = (unsigned char *)iq;
	size_t		 k, len;

	if (i < 0 || i >= w->nblocks || w->fd < 0) {
		snprintf(err, errlen, "no frame %d", i);
		return -1;
	}
	len = (size_t)w->b[i].n * 4;
	if (read_at(w->fd, raw, len, w->b[i].off) != 0) {
		snprintf(err, errlen, "read error at offset %lld: %s",
		    (long long)w->b[i].off, strerror(errno));
		return -1;
	}
	/* little-endian in the file; in place, front to back */
	for (k = 0; k < 2 * (size_t)w->b[i].n; k++)
		iq[k] = (int16_t)le16(raw + 2 * k);
	return 0;
}

static const char *
base_name(const char *path)
{
	const char	*s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

double
kiwiwav_name_time(const char *path)
{
	const char	*b = base_name(path);
	struct tm	 tm;
	int		 i;

	/* YYYYmmddTHHMMSSZ_ */
	for (i = 0; i < 16; i++) {
		if (i == 8 ? b[i] != 'T' : i == 15 ? b[i] != 'Z' :
		    (b[i] < '0' || b[i] > '9'))
			return 0;
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = (b[0] - '0') * 1000 + (b[1] - '0') * 100 +
	    (b[2] - '0') * 10 + (b[3] - '0') - 1900;
	tm.tm_mon = (b[4] - '0') * 10 + (b[5] - '0') - 1;
	tm.tm_mday = (b[6] - '0') * 10 + (b[7] - '0');
	tm.tm_hour = (b[9] - '0') * 10 + (b[10] - '0');
	tm.tm_min = (b[11] - '0') * 10 + (b[12] - '0');
	tm.tm_sec = (b[13] - '0') * 10 + (b[14] - '0');
	if (tm.tm_year < 80 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 60)
		return 0;
	return (double)timegm(&tm);
}

double
kiwiwav_name_freq(const char *path)
{
	const char	*b = base_name(path);
	double		 hz = 0;
	int		 i, digits = 0;

	if (kiwiwav_name_time(path) == 0 || b[16] != '_')
		return 0;
	/* kiwirecorder writes int(kHz * 1000): Hz */
	for (i = 17; b[i] >= '0' && b[i] <= '9' && digits < 12; i++, digits++)
		hz = hz * 10 + (b[i] - '0');
	if (digits == 0 || (b[i] != '_' && b[i] != '.'))
		return 0;
	return hz;
}
