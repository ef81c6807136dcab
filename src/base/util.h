/*
 * util.h -- small helpers shared by every module: clocks, ISO 8601 times,
 * directories, whole writes and atomic file replacement, UUIDs, secrets,
 * text from outside (UTF-8 validity, control characters, terminal
 * escaping) and JSON text.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <stdint.h>

#define UTIL_UUID_LEN	37	/* 36 chars + NUL */

/* CLOCK_REALTIME and CLOCK_MONOTONIC in seconds. */
double	util_now(void);
double	util_mono(void);

/* "2026-11-24T21:30:00.123456Z" (buf >= 32). */
void	util_iso8601(double t, char *buf, size_t len);
/* Parse what util_iso8601 writes (and without fraction). 0 or -1. */
int	util_parse_iso8601(const char *s, double *t);
/* A start instant as an operator writes it (record --at, the API's
 * start_at, schedules): ISO 8601 UTC as util_parse_iso8601 takes it, or
 * "+N" / "+Ns" / "+Nm" / "+Nh" from now (whole N, up to 7 days), rounded
 * up to the next whole second so that it falls on a second as a
 * session's grid does. 0, or -1 when s is neither. */
int	util_parse_when(const char *s, double now, double *t);

/* Random (v4) UUID, lower case. */
void	util_uuid(char out[UTIL_UUID_LEN]);
/* 1 if s is a UUID in canonical text form. */
int	util_is_uuid(const char *s);
/* 1 if s is a token: 1..max bytes of letters, digits and . _ : - (safe as
 * it is in file names, labels, URLs and queries; a session's group id). */
int	util_is_token(const char *s, size_t max);
/* A session's group id (issue 16) is a token of at most this many bytes:
 * defined here, below both the session (engine) and the stores that read
 * it back from manifests. */
#define UTIL_GROUP_ID_MAX	64

/* A fresh random secret: nbytes from the kernel's CSPRNG as 2*nbytes
 * lower-case hex digits (out >= 2*nbytes+1). 0, or -1 if none could be had. */
int	util_random_hex(char *out, size_t nbytes);
/* 1 if given (given_len bytes) equals the non-empty NUL-terminated secret;
 * the time taken depends on given_len only, never on where they differ. */
int	util_secret_equal(const char *secret, const char *given,
	    size_t given_len);

/* mkdir -p. 0 or -1 with a message. */
int	util_mkdirs(const char *path, char *err, size_t errlen);
/* Write data to path atomically: path.tmp.<pid>, fsync, rename, fsync the
 * directory. 0 or -1 with a message. */
int	util_write_atomic(const char *path, const void *data, size_t len,
	    char *err, size_t errlen);
/* The same in two steps, for a file written as it is made:
 * util_atomic_open creates path.tmp.<pid>.<n> (its name in tmp) and returns
 * its descriptor, or -1 with a message; util_atomic_commit(fd, tmp, path,
 * ok) fsyncs, closes, renames and fsyncs the directory when ok (the
 * caller's writes succeeded), else (errno says why) closes and removes the
 * temporary. 0, or -1 with a message; the temporary never stays. */
int	util_atomic_open(const char *path, char *tmp, size_t tmplen, char *err,
	    size_t errlen);
int	util_atomic_commit(int fd, const char *tmp, const char *path, int ok,
	    char *err, size_t errlen);
/* Write all len bytes to fd, retrying short writes and EINTR. 0, or -1
 * with errno set (EIO if write() wrote nothing without an error). */
int	util_write_all(int fd, const void *data, size_t len);
/* pwrite / pread all len bytes at off (never past what the file holds:
 * a read that ends early fails with EIO), retrying short ones and EINTR.
 * 0, or -1 with errno set. */
int	util_pwrite_all(int fd, const void *data, size_t len, int64_t off);
int	util_pread_all(int fd, void *data, size_t len, int64_t off);
/* Make the whole pages of [p, p + len) resident at once (one
 * madvise(MADV_POPULATE_WRITE) instead of a page fault on each first
 * write) for a buffer about to be filled whole. Why: a page fault costs
 * 10-15 us on the VMs this runs on, a populated page about half (the
 * trap, not the zeroing). A hint: where the kernel cannot (before Linux
 * 5.14), the pages fault in as before. 0, or -1 (not populated: no whole
 * page in the range, or the kernel could not). */
int	util_prefault(void *p, size_t len);
/* A zeroed buffer of len bytes for large scratch arrays, its pages made
 * resident by the allocation itself (one mmap with MAP_POPULATE) instead
 * of a page fault on each first write: 1.4 MB took ~0.3 ms that way and
 * ~4 ms by faults on this project's VMs. Page-aligned. Free it with
 * util_bigbuf_free(p, len). NULL on failure. */
void	*util_bigbuf(size_t len);
/* The same without making its pages resident: for a buffer filled piece
 * by piece, each piece made resident as it comes into use (util_prefault).
 * Why one mapping rather than a util_bigbuf per piece: its munmap is one
 * TLB shoot-down, not one per piece (~60 us each on this project's VMs
 * once threads run: 21 pieces of 96 KB took ~1.4 ms to unmap one by one,
 * ~0.15 ms as one mapping). */
void	*util_bigbuf_reserve(size_t len);
void	 util_bigbuf_free(void *p, size_t len);
/* fsync a directory. 0 or -1. */
int	util_fsync_dir(const char *dir);
/* Read a whole file up to max bytes (NUL-terminated, caller frees). Only a
 * regular file: a FIFO, device or directory is refused at once, never
 * waited on ("PATH is a FIFO, not a regular file"). */
char	*util_read_file(const char *path, size_t max, size_t *len,
	    char *err, size_t errlen);
/* 0 if path is a regular file we can open, else -1 with the same messages
 * as util_read_file (for files another library opens). */
int	util_check_regular(const char *path, char *err, size_t errlen);

/*
 * Text from outside. Every string that reaches JSON, a file or a terminal
 * must be valid UTF-8 (JSON cannot carry anything else: jansson refuses to
 * build such a string, silently dropping the field).
 * util_utf8_valid: 1 if s[0..len) is valid UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF). util_text_check: UTIL_TEXT_OK,
 * UTIL_TEXT_BAD_UTF8, or UTIL_TEXT_CONTROL for a C0 control (tab, CR and LF
 * allowed when allow_newlines), DEL or a C1 control (U+0080-U+009F).
 */
enum { UTIL_TEXT_OK = 0, UTIL_TEXT_BAD_UTF8, UTIL_TEXT_CONTROL };
int	util_utf8_valid(const char *s, size_t len);
int	util_text_check(const char *s, int allow_newlines);
/* In place: every byte that is not part of a valid UTF-8 sequence becomes
 * '?' (for text receivers send, and text cut to a buffer mid-character). */
void	util_utf8_sanitize(char *s);
/* For a terminal: s with every control character (C0, DEL, C1) and invalid
 * byte written as \xNN (or \u0080..\u009F) and backslashes kept; cut to
 * len. Returns buf. */
const char *util_term_escape(const char *s, char *buf, size_t len);

/*
 * json_dumps, but every real number in its shortest form that reads back as
 * the same double (14.2, not jansson's 14.199999999999999). The one place
 * JSON text is made; flags as for json_dumps (JSON_REAL_PRECISION ignored).
 * NULL on failure (out of memory). Independent of the C library's locale.
 */
struct json_t;
char	*util_json_dumps(const struct json_t *j, size_t flags);
/* The same text handed to put(p, n, ctx) piece by piece as it is made
 * (nothing held: a large document written as it goes). 0, or -1 when
 * put failed (returned non-zero) or jansson did. */
int	util_json_dump_fn(const struct json_t *j, size_t flags,
	    int (*put)(const char *p, size_t n, void *ctx), void *ctx);
/* The shortest text of v that reads back as v, as JSON ("14.2", "1e+300",
 * "3.0"): at most 24 bytes with the NUL. */
void	util_fmt_real(double v, char *buf, size_t len);

/*
 * For reals of a known resolution (a TDoA to the picosecond, a latitude to
 * 1e-9 degree): v rounded to a multiple of 1 / scale (scale a power of
 * ten, exact in a double: 1e9 for nanodegrees), i.e. the double nearest to
 * that decimal (round(v scale) and the division are each exact or
 * correctly rounded). Such a value has at most 15 significant digits as
 * long as |v scale| < 1e15 (beyond, v is returned unrounded); NaN and
 * infinities pass through.
 */
double	util_round_q(double v, double scale);
/*
 * util_json_dumps for values whose reals come from util_round_q (or are
 * otherwise short): each real written with jansson's %.15g, one printf
 * and no round-trip probes. A double nearest to a decimal of at most 15
 * significant digits prints as that decimal, so the text is the same as
 * util_json_dumps' shortest form and reads back as the same double; a
 * real with more digits is cut to 15 (a relative 1e-15).
 */
#define UTIL_JSON_Q_DIGITS	15
char	*util_json_dumps_q(const struct json_t *j, size_t flags);

/* Raise the soft limit of open files (RLIMIT_NOFILE) to the hard one, at
 * most to UTIL_NOFILE_CAP; returns the soft limit now in force (-1 if it
 * cannot be read). */
#define UTIL_NOFILE_CAP	65536
long	util_raise_nofile(void);

/* snprintf that reports truncation as -1. */
int	util_fmt(char *buf, size_t len, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

#endif
