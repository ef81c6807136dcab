/*
 * cmd.h -- subcommands as data: each src/cmd_<name>.c exports one entry;
 * main.c holds the table and dispatches.
 */
#ifndef CMD_H
#define CMD_H

#include <stddef.h>
#include <stdio.h>

/* sysexits(3) codes, and ours. */
#define EXIT_PARTIAL	75	/* EX_TEMPFAIL: completed, chunks missing */
#define EXIT_FAILED	69	/* EX_UNAVAILABLE: session failed */
#define EXIT_USAGE	64	/* EX_USAGE */
#define EXIT_NOINPUT	66	/* EX_NOINPUT: stations file missing */
#define EXIT_SOFTWARE	70	/* EX_SOFTWARE */
#define EXIT_CANTCREAT	73	/* EX_CANTCREAT: data dir */
#define EXIT_OSERR	71	/* EX_OSERR: too few open files */
#define EXIT_IOERR	74	/* EX_IOERR */
#define EXIT_CONFIG	78	/* EX_CONFIG: stations file invalid */
#define EXIT_INTERRUPTED 130

struct cmd_entry {
	const char	*name;
	const char	*usage;		/* after "heimdall-rec NAME " */
	const char	*summary;	/* one line */
	const char	*help;		/* options, one per line */
	int		(*exec)(int argc, char **argv);
};

extern const struct cmd_entry cmd_record_entry;
extern const struct cmd_entry cmd_sessions_entry;
extern const struct cmd_entry cmd_sources_entry;
extern const struct cmd_entry cmd_serve_entry;
extern const struct cmd_entry cmd_console_entry;

/* No terminal for the console: say what to use instead; EXIT_USAGE. */
int	cmd_console_no_tty(void);
extern const struct cmd_entry cmd_db_entry;
extern const struct cmd_entry cmd_sync_entry;
extern const struct cmd_entry cmd_status_entry;

/* Print "usage: heimdall-rec NAME USAGE" + help to f. */
void	cmd_usage(const struct cmd_entry *e, FILE *f);
/* Print "heimdall-rec: " + message to stderr; returns code. */
int	cmd_error(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Strict number parsing for flags: the whole string, finite, in range.
 * 0, or -1 with a message naming the flag and the range. */
int	cmd_parse_double(const char *flag, const char *s, double lo, double hi,
	    double *out);
int	cmd_parse_int(const char *flag, const char *s, long lo, long hi,
	    const char *what, long *out);
/* --passband LOW:HIGH (Hz, LOW < HIGH). 0, or -1 after a message. */
int	cmd_parse_passband(const char *s, int *low, int *high);
/* --listen ADDR:PORT parsed into addr; off loopback a --token-file is
 * required. 0, or the exit status after a message. */
int	cmd_check_listen(const char *listen, const char *tokfile, char *addr,
	    size_t addrlen);
/* --token-file: one word of WSSERVER_TOKEN_MIN..MAX bytes; *out malloc'd.
 * 0, or the exit status after a message. */
int	cmd_read_token(const char *path, char **out);
/* --data-dir or the default; opens (and recovers) the dataset. */
struct dataset;
int	cmd_open_dataset(const char *dir, struct dataset **ds, char *path,
	    size_t pathlen);

/* s made safe for a terminal (util_term_escape: control characters and
 * invalid bytes written as \xNN), "" for NULL. The text lives in one of 16
 * buffers of this thread, reused round-robin: valid until 16 more calls. */
const char *cmd_esc(const char *s);

/* One line describing a replicator status (replicator.h), for messages. */
#include <jansson.h>
int	cmd_store_line(const json_t *status, char *buf, size_t len);

#endif
