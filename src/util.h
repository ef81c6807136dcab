/*
 * util.h -- small helpers shared by every module: clocks, ISO 8601 times,
 * directories, atomic file replacement, UUIDs.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>

#define UTIL_UUID_LEN	37	/* 36 chars + NUL */

/* CLOCK_REALTIME and CLOCK_MONOTONIC in seconds. */
double	util_now(void);
double	util_mono(void);

/* "2026-11-24T21:30:00.123456Z" (buf >= 32). */
void	util_iso8601(double t, char *buf, size_t len);
/* Parse what util_iso8601 writes (and without fraction). 0 or -1. */
int	util_parse_iso8601(const char *s, double *t);

/* Random (v4) UUID, lower case. */
void	util_uuid(char out[UTIL_UUID_LEN]);
/* 1 if s is a UUID in canonical text form. */
int	util_is_uuid(const char *s);

/* mkdir -p. 0 or -1 with a message. */
int	util_mkdirs(const char *path, char *err, size_t errlen);
/* Write data to path atomically: path.tmp.<pid>, fsync, rename, fsync the
 * directory. 0 or -1 with a message. */
int	util_write_atomic(const char *path, const void *data, size_t len,
	    char *err, size_t errlen);
/* fsync a directory. 0 or -1. */
int	util_fsync_dir(const char *dir);
/* Read a whole file up to max bytes (NUL-terminated, caller frees). */
char	*util_read_file(const char *path, size_t max, size_t *len,
	    char *err, size_t errlen);

/* Raise the soft limit of open files (RLIMIT_NOFILE) to the hard one, at
 * most to UTIL_NOFILE_CAP; returns the soft limit now in force (-1 if it
 * cannot be read). */
#define UTIL_NOFILE_CAP	65536
long	util_raise_nofile(void);

/* snprintf that reports truncation as -1. */
int	util_fmt(char *buf, size_t len, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
