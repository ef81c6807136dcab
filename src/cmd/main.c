/* main.c -- heimdall-rec: the subcommand table, dispatch, and shared flag helpers. */

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cmd/cmd.h"
#include "src/engine/config.h"
#include "src/engine/session.h"
#include "src/base/util.h"
#include "net/server/wsserver.h"
#include "store/dataset.h"

static const struct cmd_entry *commands[] = {
	&cmd_record_entry,
	&cmd_sessions_entry,
	&cmd_sources_entry,
	&cmd_serve_entry,
	&cmd_console_entry,
	&cmd_db_entry,
	&cmd_sync_entry,
	&cmd_status_entry,
	NULL
};

void
cmd_usage(const struct cmd_entry *e, FILE *f)
{
	fprintf(f, "usage: heimdall-rec %s %s\n%s\n", e->name, e->usage,
	    e->summary);
	if (e->help != NULL && e->help[0] != '\0')
		fprintf(f, "\n%s", e->help);
}

int
cmd_error(int code, const char *fmt, ...)
{
	va_list	ap;

	fputs("heimdall-rec: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int
cmd_parse_double(const char *flag, const char *s, double lo, double hi,
    double *out)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) ||
	    v < lo || v > hi) {
		cmd_error(0, "%s must be a number from %g to %g (got \"%s\")",
		    flag, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

int
cmd_parse_int(const char *flag, const char *s, long lo, long hi,
    const char *what, long *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		cmd_error(0, "%s must be a whole number of %s from %ld to %ld "
		    "(got \"%s\")", flag, what, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

int
cmd_parse_passband(const char *s, int *low, int *high)
{
	char	*colon, *end;
	long	 lo, hi;

	errno = 0;
	lo = strtol(s, &colon, 10);
	if (errno == 0 && colon != s && *colon == ':') {
		hi = strtol(colon + 1, &end, 10);
		if (errno == 0 && end != colon + 1 && *end == '\0' &&
		    lo < hi && lo >= -SESSION_PASSBAND_MAX &&
		    hi <= SESSION_PASSBAND_MAX) {
			*low = (int)lo;
			*high = (int)hi;
			return 0;
		}
	}
	cmd_error(0, "--passband must be LOW:HIGH in Hz with LOW < HIGH, "
	    "within -%d..%d, e.g. -5000:5000 (got \"%s\")",
	    SESSION_PASSBAND_MAX, SESSION_PASSBAND_MAX, s);
	return -1;
}

int
cmd_check_listen(const char *listen, const char *tokfile, char *addr,
    size_t addrlen)
{
	struct wsserver_addrs	 ad;
	char			 err[512], a[INET6_ADDRSTRLEN + 16];
	int			 port, i;

	if (wsserver_parse_listen(listen, addr, addrlen, &port, err,
	    sizeof err) != 0 || wsserver_resolve(listen, &ad, err,
	    sizeof err) != 0)
		return cmd_error(EXIT_USAGE, "%s", err);
	/* The rule rests on the addresses, not on how they are spelled
	 * (the server checks again what it really bound). */
	for (i = 0; i < ad.n && tokfile == NULL; i++)
		if (!wsserver_sa_is_loopback((struct sockaddr *)&ad.a[i])) {
			wsserver_format_addr((struct sockaddr *)&ad.a[i], a,
			    sizeof a);
			return cmd_error(EXIT_USAGE, "refusing to listen on %s "
			    "without a token: a non-loopback address needs "
			    "--token-file FILE", a);
		}
	return 0;
}

/* The token file: one line, surrounding whitespace ignored. */
int
cmd_read_token(const char *path, char **out)
{
	char	 err[512], *s, *b, *e;
	size_t	 len;

	s = util_read_file(path, WSSERVER_TOKEN_MAX + 64, &len, err,
	    sizeof err);
	/* 78 (a configuration file is missing or bad), not 66: that one
	 * says "no stations file". */
	if (s == NULL)
		return cmd_error(EXIT_CONFIG, "--token-file: %s", err);
	if (strlen(s) != len) {
		free(s);
		return cmd_error(EXIT_CONFIG, "--token-file %s: contains a NUL "
		    "byte", path);
	}
	for (b = s; *b == ' ' || *b == '\t' || *b == '\n' || *b == '\r'; b++)
		;
	for (e = b + strlen(b); e > b && (e[-1] == ' ' || e[-1] == '\t' ||
	    e[-1] == '\n' || e[-1] == '\r'); e--)
		;
	*e = '\0';
	if (strlen(b) < WSSERVER_TOKEN_MIN || strlen(b) > WSSERVER_TOKEN_MAX ||
	    strpbrk(b, " \t\r\n") != NULL) {
		free(s);
		return cmd_error(EXIT_CONFIG, "--token-file %s: the token must "
		    "be one word of %d to %d bytes", path, WSSERVER_TOKEN_MIN,
		    WSSERVER_TOKEN_MAX);
	}
	*out = strdup(b);
	free(s);
	return *out != NULL ? 0 : EXIT_SOFTWARE;
}

int
cmd_open_dataset(const char *dir, struct dataset **ds, char *path,
    size_t pathlen)
{
	char	err[1024];

	if (dir != NULL)
		snprintf(path, pathlen, "%s", dir);
	else if (config_default_data_dir(path, pathlen) != 0)
		return cmd_error(EXIT_USAGE, "no --data-dir and no HOME or "
		    "XDG_DATA_HOME to find the default");
	*ds = dataset_open(path, err, sizeof err);
	if (*ds == NULL)
		return cmd_error(EXIT_CANTCREAT, "data directory %s: %s", path,
		    err);
	return 0;
}

const char *
cmd_esc(const char *s)
{
	static __thread char	ring[16][1024];
	static __thread int	k;

	if (s == NULL)
		return "";
	k = (k + 1) % 16;
	return util_term_escape(s, ring[k], sizeof ring[k]);
}

static void
usage(FILE *f)
{
	int	i;

	fprintf(f, "usage: heimdall-rec COMMAND [OPTIONS]\n"
	    "       heimdall-rec help COMMAND | --help | --version\n"
	    "       heimdall-rec [console options]   (on a terminal: the "
	    "operator console)\n\n"
	    "Records IQ training data for the Heimdall platform from web "
	    "receivers.\n\nCommands:\n");
	for (i = 0; commands[i] != NULL; i++)
		fprintf(f, "  %-10s %s\n", commands[i]->name,
		    commands[i]->summary);
	fprintf(f, "\nExit status: 0 every chunk stored; 75 some chunks "
	    "missing; 69 session failed;\n64 usage; 66 no stations file; 78 "
	    "bad stations or token file; 73 data dir;\n74 I/O; 130 "
	    "interrupted. See heimdall-rec(1).\n");
}

static const struct cmd_entry *
find(const char *name)
{
	int	i;

	for (i = 0; commands[i] != NULL; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	const struct cmd_entry	*e;

	/*
	 * Past a file size limit (ulimit -f) the kernel kills the writer with
	 * SIGXFSZ, silently and mid-write. Ignored, write() fails with EFBIG
	 * instead, and the storage error is reported like any other (74).
	 */
	signal(SIGXFSZ, SIG_IGN);

	if (argc < 2) {
		/* No command: the console on a terminal, else a pointer to
		 * the headless commands. */
		if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
		    isatty(STDERR_FILENO))
			return cmd_console_entry.exec(argc, argv);
		usage(stderr);
		fputc('\n', stderr);
		return cmd_console_no_tty();
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("heimdall-rec %s\n", HEIMDALL_VERSION);
		return 0;
	}
	/* Options without a command are the console's. */
	if (argv[1][0] == '-' && argv[1][1] == '-')
		return cmd_console_entry.exec(argc, argv);
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		if ((e = find(argv[2])) == NULL)
			return cmd_error(EXIT_USAGE, "no command \"%s\" (try "
			    "--help)", argv[2]);
		cmd_usage(e, stdout);
		return 0;
	}
	if ((e = find(argv[1])) == NULL)
		return cmd_error(EXIT_USAGE, "no command \"%s\" (try --help)",
		    argv[1]);
	return e->exec(argc - 1, argv + 1);
}
