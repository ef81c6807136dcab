/* util.c -- clocks, ISO 8601 times, UUIDs, directories, atomic files, text
 * from outside and JSON text. */

#include <errno.h>
#include <float.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <uuid/uuid.h>

#include "src/base/util.h"

double
util_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double
util_mono(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
util_iso8601(double t, char *buf, size_t len)
{
	time_t		sec;
	long		usec;
	struct tm	tm;

	/* Round to the microsecond first so 0.9999996 becomes the next
	 * second, not ".1000000". */
	sec = (time_t)(t);
	usec = (long)((t - (double)sec) * 1e6 + 0.5);
	if (usec >= 1000000) {
		sec++;
		usec -= 1000000;
	} else if (usec < 0) {
		sec--;
		usec += 1000000;
	}
	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, usec);
}

int
util_parse_iso8601(const char *s, double *t)
{
	struct tm	 tm;
	const char	*p;
	double		 frac = 0, scale = 0.1;

	memset(&tm, 0, sizeof tm);
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return -1;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z')
		p++;
	else if (strcmp(p, "+00:00") == 0)
		p += 6;
	if (*p != '\0')
		return -1;
	*t = (double)timegm(&tm) + frac;
	return 0;
}

int
util_parse_when(const char *s, double now, double *t)
{
	char		*end;
	long		 n, unit = 1;

	if (s == NULL)
		return -1;
	if (s[0] != '+')
		return util_parse_iso8601(s, t);
	if (s[1] < '0' || s[1] > '9')
		return -1;
	errno = 0;
	n = strtol(s + 1, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		unit = 60, end++;
	else if (*end == 'h')
		unit = 3600, end++;
	if (*end != '\0' || n > 7L * 86400 / unit)
		return -1;
	*t = ceil(now + (double)(n * unit));
	return 0;
}

/*
 * A random (version 4) UUID from one getrandom(): libuuid's
 * uuid_generate_random() makes seven system calls per UUID (getrandom,
 * getpid twice, getuid, getppid, gettid...: 7 us here), and every stored
 * row takes one. libuuid remains the fallback if getrandom() fails.
 */
void
util_uuid(char out[UTIL_UUID_LEN])
{
	uuid_t	u;
	size_t	got = 0;
	ssize_t	n;

	while (got < sizeof u) {
		n = getrandom(u + got, sizeof u - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < sizeof u)
		uuid_generate_random(u);
	else {
		u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);	/* version 4 */
		u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);	/* RFC 4122 */
	}
	uuid_unparse_lower(u, out);
}

int
util_random_hex(char *out, size_t nbytes)
{
	static const char	 hex[] = "0123456789abcdef";
	unsigned char		 b[64];
	size_t			 got = 0, i;
	ssize_t			 n;

	if (nbytes > sizeof b)
		return -1;
	while (got < nbytes) {
		n = getrandom(b + got, nbytes - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	for (i = 0; i < nbytes; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * nbytes] = '\0';
	return 0;
}

int
util_secret_equal(const char *secret, const char *given, size_t given_len)
{
	size_t			 slen = strlen(secret), i;
	volatile unsigned char	 diff;

	/* Time depends on the length of what the client sent, never on
	 * where it first differs from the secret. */
	diff = (unsigned char)(slen != given_len);
	for (i = 0; i < given_len; i++)
		diff |= (unsigned char)(given[i] ^ (slen > 0 ?
		    secret[i % slen] : 0));
	return slen > 0 && diff == 0;
}

int
util_is_token(const char *s, size_t max)
{
	size_t	n = strlen(s);

	return n >= 1 && n <= max && strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._:-") == n;
}

int
util_is_uuid(const char *s)
{
	int	i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	}
	return 1;
}

int
util_mkdirs(const char *path, char *err, size_t errlen)
{
	char	 buf[PATH_MAX], *p;

	if (util_fmt(buf, sizeof buf, "%s", path) != 0) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	for (p = buf + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
				snprintf(err, errlen, "cannot create %s: %s", buf,
				    strerror(errno));
				return -1;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

int
util_fsync_dir(const char *dir)
{
	int	fd, rc;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
util_write_all(int fd, const void *data, size_t len)
{
	const char	*p = data;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {	/* no progress and no error: do not spin */
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
p_all(int fd, int wr, void *data, size_t len, int64_t off)
{
	char	*p = data;
	ssize_t	 n;

	while (len > 0) {
		n = wr ? pwrite(fd, p, len, (off_t)off) :
		    pread(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {	/* end of file, or no progress */
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23	/* Linux 5.14 */
#endif

int
util_prefault(void *p, size_t len)
{
	static long	 pg;
	uintptr_t	 a, b;

	if (pg == 0 && (pg = sysconf(_SC_PAGESIZE)) <= 0)
		pg = 4096;
	a = ((uintptr_t)p + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
	b = ((uintptr_t)p + len) & ~((uintptr_t)pg - 1);
	if (p == NULL || b <= a)
		return -1;
	return madvise((void *)a, b - a, MADV_POPULATE_WRITE) == 0 ? 0 : -1;
}

void *
util_bigbuf(size_t len)
{
	void	*m;

	if (len == 0 || len > ((size_t)1 << 40))
		return NULL;
	/* MAP_POPULATE: the pages are made (and zeroed) in the mmap, not
	 * one fault each at first write */
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

void *
util_bigbuf_reserve(size_t len)
{
	void	*m;

	if (len == 0 || len > ((size_t)1 << 40))
		return NULL;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	return m == MAP_FAILED ? NULL : m;
}

void
util_bigbuf_free(void *p, size_t len)
{
	/* munmap takes the pages len reaches, as mmap made them */
	if (p != NULL && len > 0)
		(void)munmap(p, len);
}

int
util_pwrite_all(int fd, const void *data, size_t len, int64_t off)
{
	return p_all(fd, 1, (void *)(uintptr_t)data, len, off);
}

int
util_pread_all(int fd, void *data, size_t len, int64_t off)
{
	return p_all(fd, 0, data, len, off);
}

int
util_atomic_open(const char *path, char *tmp, size_t tmplen, char *err,
    size_t errlen)
{
	static unsigned	 counter;
	int		 fd;

	if (util_fmt(tmp, tmplen, "%s.tmp.%ld.%u", path, (long)getpid(),
	    __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED)) != 0) {
		snprintf(err, errlen, "path too long: %s", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		snprintf(err, errlen, "cannot create %s: %s", tmp,
		    strerror(errno));
	return fd;
}

int
util_atomic_commit(int fd, const char *tmp, const char *path, int ok,
    char *err, size_t errlen)
{
	char	 dir[PATH_MAX], *slash;

	/* write, fsync, rename: a crash leaves the old file or the new one,
	 * never a torn one. */
	if (!ok || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (util_fmt(dir, sizeof dir, "%s", path) != 0) {
		snprintf(err, errlen, "path too long: %s", path);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot rename %s: %s", tmp,
		    strerror(errno));
		unlink(tmp);
		return -1;
	}
	slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		util_fsync_dir(dir[0] != '\0' ? dir : "/");
	} else
		util_fsync_dir(".");
	return 0;
}

int
util_write_atomic(const char *path, const void *data, size_t len, char *err,
    size_t errlen)
{
	char	 tmp[PATH_MAX];
	int	 fd;

	if ((fd = util_atomic_open(path, tmp, sizeof tmp, err, errlen)) < 0)
		return -1;
	return util_atomic_commit(fd, tmp, path, util_write_all(fd, data,
	    len) == 0, err, errlen);
}

/*
 * Open path for reading, refusing what is not a regular file. O_NONBLOCK:
 * opening a FIFO without it waits for a writer forever (a stations file
 * that is a FIFO would hang `record`); a regular file ignores the flag.
 */
static int
open_regular(const char *path, struct stat *st, char *err, size_t errlen)
{
	const char	*what;
	int		 fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, st) != 0) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		what = S_ISFIFO(st->st_mode) ? "a FIFO" : S_ISDIR(st->st_mode) ?
		    "a directory" : S_ISCHR(st->st_mode) ||
		    S_ISBLK(st->st_mode) ? "a device" : S_ISSOCK(st->st_mode) ?
		    "a socket" : "a special file";
		snprintf(err, errlen, "%s is %s, not a regular file", path,
		    what);
		close(fd);
		return -1;
	}
	return fd;
}

int
util_check_regular(const char *path, char *err, size_t errlen)
{
	struct stat	st;
	int		fd;

	if ((fd = open_regular(path, &st, err, errlen)) < 0)
		return -1;
	close(fd);
	return 0;
}

char *
util_read_file(const char *path, size_t max, size_t *len, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open_regular(path, &st, err, errlen)) < 0)
		return NULL;
	if ((size_t)st.st_size > max) {
		snprintf(err, errlen, "%s is too large (%lld bytes, at most "
		    "%zu)", path, (long long)st.st_size, max);
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		snprintf(err, errlen, "out of memory reading %s", path);
		close(fd);
		return NULL;
	}
	/* at most the size fstat saw: a file that grows meanwhile is cut
	 * there, never read past max */
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	if (len != NULL)
		*len = off;
	return buf;
}

long
util_raise_nofile(void)
{
	struct rlimit	rl;
	rlim_t		want;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	/*
	 * Distributions start processes at a soft limit of 1024 (select()'s
	 * old bound) with a far higher hard one: every receiver is a socket,
	 * so take what is allowed. Capped: libwebsockets sizes its tables by
	 * the limit.
	 */
	want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > UTIL_NOFILE_CAP ?
	    UTIL_NOFILE_CAP : rl.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = want;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > LONG_MAX ?
	    LONG_MAX : (long)rl.rlim_cur;
}

int
util_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* ---- text from outside ---- */

/* Length of the valid UTF-8 sequence at s (n bytes left), its code point in
 * *cp; 0 if the bytes there are not valid UTF-8. */
static size_t
utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t	c, min;
	size_t		k, i;

	if (n == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		k = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		k = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		return 0;	/* continuation byte, 0xc0/0xc1, 0xf5.. */
	if (n < k)
		return 0;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;	/* overlong, too large, surrogate */
	*cp = c;
	return k;
}

static int
is_control(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f);
}

int
util_utf8_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 c;
	size_t			 k;

	while (len > 0) {
		if ((k = utf8_next(p, len, &c)) == 0)
			return 0;
		p += k;
		len -= k;
	}
	return 1;
}

int
util_text_check(const char *s, int allow_newlines)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 len = strlen(s), k;
	uint32_t		 c;
	int			 ctl = 0;

	/* invalid UTF-8 first: it is the more fundamental fault */
	while (len > 0) {
		if ((k = utf8_next(p, len, &c)) == 0)
			return UTIL_TEXT_BAD_UTF8;
		if (is_control(c) && !(allow_newlines && (c == '\n' ||
		    c == '\t' || c == '\r')))
			ctl = 1;
		p += k;
		len -= k;
	}
	return ctl ? UTIL_TEXT_CONTROL : UTIL_TEXT_OK;
}

void
util_utf8_sanitize(char *s)
{
	unsigned char	*p = (unsigned char *)s;
	size_t		 len = strlen(s), k;
	uint32_t	 c;

	while (len > 0) {
		if ((k = utf8_next(p, len, &c)) == 0) {
			*p = '?';
			k = 1;
		}
		p += k;
		len -= k;
	}
}

const char *
util_term_escape(const char *s, char *buf, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = strlen(s), k, off = 0;
	uint32_t		 c;
	char			 esc[8];

	if (len == 0)
		return buf;
	while (n > 0) {
		k = utf8_next(p, n, &c);
		if (k == 0) {
			snprintf(esc, sizeof esc, "\\x%02x", p[0]);
			k = 1;
		} else if (is_control(c))
			snprintf(esc, sizeof esc, c < 0x80 ? "\\x%02x" :
			    "\\u%04x", (unsigned)c);
		else {
			if (off + k >= len)
				break;
			memcpy(buf + off, p, k);
			off += k;
			p += k;
			n -= k;
			continue;
		}
		if (off + strlen(esc) >= len)
			break;
		memcpy(buf + off, esc, strlen(esc));
		off += strlen(esc);
		p += k;
		n -= k;
	}
	buf[off] = '\0';
	return buf;
}

/* ---- JSON text ---- */

static locale_t		c_locale;
static pthread_once_t	c_locale_once = PTHREAD_ONCE_INIT;

static void
c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Whether v rounded to p significant digits (into t, "%e" style) reads
 * back as v. */
static int
round_trips(double v, int p, char *t, size_t len)
{
	snprintf(t, len, "%.*e", p - 1, v);
	return strtod(t, NULL) == v;
}

void
util_fmt_real(double v, char *buf, size_t len)
{
	locale_t	 old = (locale_t)0;
	char		 t[48], t2[48], *e, *d;
	int		 p, lo, hi, x;

	if (!isfinite(v)) {		/* not JSON; jansson refuses them */
		snprintf(buf, len, "null");
		return;
	}
	/* "%e" and strtod follow LC_NUMERIC (the console sets the user's
	 * locale: "14,2" in de_DE): format in the C locale, on this thread
	 * only */
	pthread_once(&c_locale_once, c_locale_init);
	if (c_locale != (locale_t)0)
		old = uselocale(c_locale);
	/*
	 * the fewest significant digits that read back as v: if v rounded
	 * to p digits reads back as v, so does v rounded to p + 1 (the
	 * nearest (p+1)-digit number is at least as close as the p-digit
	 * one, which is also a (p+1)-digit number), and 17 always does. A
	 * measured real needs 16 or 17 digits, so 16 and 15 are tried
	 * first (one or two probes for those; each probe is a printf and a
	 * strtod: this was 9 % of the recorder's CPU with 7 stations when
	 * every p was tried). When 15 reads back, the shortest form is the
	 * 15-digit text without its trailing zeros: if p <= 15 digits D
	 * read back, |v - D| is at most half v's ulp (<= 1.12e-16 v for a
	 * normal v), below half a unit of the 15th digit (>= 5e-16 v), so
	 * D padded with zeros is v rounded to 15 digits; and those digits
	 * without their trailing zeros, p of them, are v rounded to p
	 * digits. (A bisection of 1-15 finds the same p with 4 more probes:
	 * it was most of the cost of the short reals of locate's rows in a
	 * manifest. It stays for subnormals, whose ulp is larger.) ...
	 */
	if (!round_trips(v, 16, t, sizeof t))
		snprintf(t, sizeof t, "%.*e", 16, v);		/* 17 */
	else if (!round_trips(v, 15, t2, sizeof t2))
		;						/* 16 */
	else if (v != 0 && fabs(v) < DBL_MIN) {
		memcpy(t, t2, sizeof t);
		lo = 1;
		hi = 15;
		while (lo < hi) {
			p = lo + (hi - lo) / 2;
			if (round_trips(v, p, t2, sizeof t2)) {
				hi = p;
				memcpy(t, t2, sizeof t);
			} else
				lo = p + 1;
		}
	} else {
		memcpy(t, t2, sizeof t);
		/* "1.50000000000000e+01" -> "1.5e+01", "1.0...e+01" ->
		 * "1e+01", as "%.*e" writes p digits */
		e = strchr(t, 'e');
		for (d = e; d[-1] == '0'; d--)
			;
		if (d[-1] == '.')
			d--;
		memmove(d, e, strlen(e) + 1);
	}
	/* t: v to p significant digits, %e style */
	e = strchr(t, 'e');
	for (p = 0, d = t; d < e; d++)
		p += *d >= '0' && *d <= '9';
	x = atoi(strchr(t, 'e') + 1);
	/* ... written like Python's repr(): positional for 1e-4 <= |v| <
	 * 1e16, always with a fraction or an exponent, so that it reads
	 * back as a real */
	if (x >= -4 && x < 16) {
		/*
		 * What printf("%.*f", max(p - 1 - x, 0), v) prints, from t's
		 * digits instead of a third printf per real (a tenth of the
		 * JSON's CPU): that rounds v at the same decimal place as t
		 * did, so to the same digits; with no decimals (x >= p - 1) v
		 * is the integer the digits and x - p + 1 zeros spell (below
		 * 1e16 a double that reads back from such a decimal is that
		 * integer: below 2^53 every integer is one, above it every
		 * even one).
		 */
		char	 dig[24], *o = t2;
		int	 i, nd = 0;
		for (d = t; d < e; d++)
			if (*d >= '0' && *d <= '9')
				dig[nd++] = *d;
		if (t[0] == '-')
			*o++ = '-';
		if (x < 0) {
			*o++ = '0';
			*o++ = '.';
			for (i = 0; i < -x - 1; i++)
				*o++ = '0';
			for (i = 0; i < nd; i++)
				*o++ = dig[i];
		} else {
			for (i = 0; i <= x; i++)
				*o++ = i < nd ? dig[i] : '0';
			*o++ = '.';
			if (nd <= x + 1)
				*o++ = '0';
			for (i = x + 1; i < nd; i++)
				*o++ = dig[i];
		}
		*o = '\0';
		memcpy(t, t2, sizeof t);
	} else {
		/* as jansson writes exponents: no '+', no leading zeros */
		e = strchr(t, 'e');
		d = e + 1;
		if (*d == '+')
			memmove(d, d + 1, strlen(d));
		if (*d == '-')
			d++;
		while (d[0] == '0' && d[1] != '\0')
			memmove(d, d + 1, strlen(d));
	}
	if (c_locale != (locale_t)0)
		uselocale(old);
	snprintf(buf, len, "%s", t);
}

struct dump {
	char	*s;
	size_t	 len, cap;
	int	 in_str, esc;
	/* NULL: into s; else each piece handed to put (util_json_dump_fn) */
	int	(*put)(const char *, size_t, void *);
	void	*ctx;
};

static int
dump_put(struct dump *d, const char *p, size_t n)
{
	char	*s;
	size_t	 cap;

	if (d->put != NULL)
		return n == 0 ? 0 : d->put(p, n, d->ctx);
	if (d->len + n + 1 > d->cap) {
		cap = (d->len + n + 1) * 2 < 256 ? 256 : (d->len + n + 1) * 2;
		if ((s = realloc(d->s, cap)) == NULL)
			return -1;
		d->s = s;
		d->cap = cap;
	}
	memcpy(d->s + d->len, p, n);
	d->len += n;
	d->s[d->len] = '\0';
	return 0;
}

/* A whole JSON number token with a fraction or an exponent (a real). */
static int
is_real_token(const char *p, size_t n)
{
	size_t	i = 0;
	int	real = 0;

#define DIGITS() do { \
	if (i >= n || p[i] < '0' || p[i] > '9') \
		return 0; \
	while (i < n && p[i] >= '0' && p[i] <= '9') \
		i++; \
} while (0)
	if (n == 0 || n > 40)
		return 0;
	if (p[i] == '-')
		i++;
	DIGITS();
	if (i < n && p[i] == '.') {
		i++;
		real = 1;
		DIGITS();
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		real = 1;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		DIGITS();
	}
#undef DIGITS
	return real && i == n;
}

/*
 * jansson writes each real with one call of the callback, at full
 * precision (%.17g): outside strings (a small lexer follows them across
 * calls, whatever jansson's chunking), such a token is rewritten in its
 * shortest form. %.17g reads back exactly, so the value is unchanged; a
 * token split over calls would merely stay long.
 */
static int
dump_cb(const char *buf, size_t size, void *data)
{
	struct dump	*d = data;
	char		 t[48], num[48];
	size_t		 i;

	if (!d->in_str && is_real_token(buf, size)) {
		locale_t old = (locale_t)0;
		double v;
		memcpy(t, buf, size);
		t[size] = '\0';
		pthread_once(&c_locale_once, c_locale_init);
		if (c_locale != (locale_t)0)
			old = uselocale(c_locale);
		v = strtod(t, NULL);
		if (c_locale != (locale_t)0)
			uselocale(old);
		util_fmt_real(v, num, sizeof num);
		return dump_put(d, num, strlen(num));
	}
	for (i = 0; i < size; i++) {
		if (!d->in_str) {
			if (buf[i] == '"')
				d->in_str = 1;
		} else if (d->esc)
			d->esc = 0;
		else if (buf[i] == '\\')
			d->esc = 1;
		else if (buf[i] == '"')
			d->in_str = 0;
	}
	return dump_put(d, buf, size);
}

double
util_round_q(double v, double scale)
{
	double	x = v * scale;

	if (!isfinite(x) || !(fabs(x) < 1e15))
		return v;
	return round(x) / scale;
}

char *
util_json_dumps_q(const json_t *j, size_t flags)
{
	locale_t	 old = (locale_t)0;
	char		*s;

	if (j == NULL)
		return NULL;
	/* jansson's printf follows LC_NUMERIC too (see util_fmt_real) */
	pthread_once(&c_locale_once, c_locale_init);
	if (c_locale != (locale_t)0)
		old = uselocale(c_locale);
	s = json_dumps(j, flags | JSON_REAL_PRECISION(UTIL_JSON_Q_DIGITS));
	if (c_locale != (locale_t)0)
		uselocale(old);
	return s;
}

int
util_json_dump_fn(const json_t *j, size_t flags,
    int (*put)(const char *p, size_t n, void *ctx), void *ctx)
{
	struct dump	d;

	memset(&d, 0, sizeof d);
	d.put = put;
	d.ctx = ctx;
	return j == NULL || put == NULL ? -1 :
	    json_dump_callback(j, dump_cb, &d, flags) != 0 ? -1 : 0;
}

char *
util_json_dumps(const json_t *j, size_t flags)
{
	struct dump	d;

	memset(&d, 0, sizeof d);
	if (j == NULL || json_dump_callback(j, dump_cb, &d, flags) != 0 ||
	    dump_put(&d, "", 0) != 0) {
		free(d.s);
		return NULL;
	}
	return d.s;
}
