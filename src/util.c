/* util.c -- clocks, ISO 8601 times, UUIDs, directories and atomic files. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <uuid/uuid.h>

#include "util.h"

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

void
util_uuid(char out[UTIL_UUID_LEN])
{
	uuid_t	u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
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

static int
write_all(int fd, const void *data, size_t len)
{
	const char	*p = data;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
util_write_atomic(const char *path, const void *data, size_t len, char *err,
    size_t errlen)
{
	static unsigned	 counter;
	char		 tmp[PATH_MAX], dir[PATH_MAX], *slash;
	int		 fd;

	if (util_fmt(tmp, sizeof tmp, "%s.tmp.%ld.%u", path, (long)getpid(),
	    __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED)) != 0 ||
	    util_fmt(dir, sizeof dir, "%s", path) != 0) {
		snprintf(err, errlen, "path too long: %s", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp,
		    strerror(errno));
		return -1;
	}
	/* write, fsync, rename: a crash leaves the old file or the new one,
	 * never a torn one. */
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
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

char *
util_read_file(const char *path, size_t max, size_t *len, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		close(fd);
		return NULL;
	}
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
