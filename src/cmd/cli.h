/*
 * cli.h -- what every subcommand shares below the command table: the exit
 * codes (sysexits), error messages, strict parsing of flag values (numbers,
 * --passband, --listen with its token rule, --token-file, the central
 * store's options), opening the dataset, and escaping outside text for a
 * terminal. It knows no command: cmd.c (the parser) and every cmd_*.c call
 * it, it calls none of them.
 */
#ifndef CLI_H
#define CLI_H

#include <stddef.h>

#include <jansson.h>

/* sysexits(3) codes, and ours. */
#define EXIT_PARTIAL	75	/* EX_TEMPFAIL: completed, chunks missing */
#define EXIT_FAILED	69	/* EX_UNAVAILABLE: session failed */
#define EXIT_USAGE	64	/* EX_USAGE */
#define EXIT_DATAERR	65	/* EX_DATAERR: import: fewer than 2 usable
				   recordings, or no 1-s overlap */
#define EXIT_NOINPUT	66	/* EX_NOINPUT: stations file missing */
#define EXIT_SOFTWARE	70	/* EX_SOFTWARE */
#define EXIT_CANTCREAT	73	/* EX_CANTCREAT: data dir */
#define EXIT_OSERR	71	/* EX_OSERR: too few open files */
#define EXIT_IOERR	74	/* EX_IOERR */
#define EXIT_CONFIG	78	/* EX_CONFIG: stations file invalid */
#define EXIT_INTERRUPTED 130

/* Print "heimdall-rec: " + message to stderr; returns code. */
int	cli_error(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Strict number parsing for flags: the whole string, finite, in range.
 * 0, or -1 with a message naming the flag and the range. */
int	cli_parse_double(const char *flag, const char *s, double lo, double hi,
	    double *out);
int	cli_parse_int(const char *flag, const char *s, long lo, long hi,
	    const char *what, long *out);
/* --passband LOW:HIGH (Hz, LOW < HIGH). 0, or -1 after a message. */
int	cli_parse_passband(const char *s, int *low, int *high);
/* --listen ADDR:PORT parsed into addr; off loopback a --token-file is
 * required. 0, or the exit status after a message. */
int	cli_check_listen(const char *listen, const char *tokfile, char *addr,
	    size_t addrlen);
/* --token-file: one word of WSSERVER_TOKEN_MIN..MAX bytes; *out malloc'd.
 * 0, or the exit status after a message. */
int	cli_read_token(const char *path, char **out);
/* --data-dir or the default; opens (and recovers) the dataset. 0, or the
 * exit status after a message. */
struct dataset;
/* The same, keeping the manifests keep wants (dataset_open_keep). */
int	cli_open_dataset_keep(const char *dir, struct dataset **ds, char *path,
	    size_t pathlen, int (*keep)(const char *, const char *, void *),
	    void *ctx);
int	cli_open_dataset(const char *dir, struct dataset **ds, char *path,
	    size_t pathlen);

/*
 * A SESSION argument to its id (into id, UTIL_UUID_LEN bytes): a stored
 * session's id, a unique prefix of one (at least 4 characters: the 8 that
 * export's file names show), or a session name (exact; when several
 * sessions share it, the message lists their ids). 0, or the exit status
 * after a message (EXIT_NOINPUT none, EXIT_USAGE ambiguous).
 */
int	cli_find_session(struct dataset *ds, const char *key, char *id,
	    size_t idlen);

/* One of the central store's options (REPLICATOR_OPTIONS: val is a
 * REPL_OPT_*) into c: 0, or EXIT_USAGE after a message naming the flag. */
struct replicator_config;
int	cli_store_option(struct replicator_config *c, int val,
	    const char *arg);

/* s made safe for a terminal (util_term_escape: control characters and
 * invalid bytes written as \xNN), "" for NULL. The text lives in one of 16
 * buffers of this thread, reused round-robin: valid until 16 more calls. */
const char *cli_esc(const char *s);

/* The string member k of o for a human-readable line, through cli_esc
 * (names, reasons and errors come from flags, files, receivers and
 * servers: an ESC in one must not drive the terminal); "" when absent. */
const char *cli_jstr(const json_t *o, const char *k);

/* One line describing a replicator status (replicator.h), for messages:
 * "central store: N rows, M objects pending; database ...; S3 ...". */
int	cli_store_line(const json_t *status, char *buf, size_t len);

/* One line describing a position fix: a session:fix event's data, a fix
 * row of the manifest or a listing's "fix" (src/engine/locate.h):
 * "45.04420 N 7.67210 E, CEP50 9 m, ...; 8 m from the source; worst
 * residual ..." or "no fix: REASON". Escaped for a terminal. */
void	cli_fix_line(const json_t *fix, char *buf, size_t len);

#endif
