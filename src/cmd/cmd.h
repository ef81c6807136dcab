/*
 * cmd.h -- subcommands as data (tmux's cmd_entry is the model): each
 * src/cmd/cmd_<name>.c exports one entry carrying its name, its long-option
 * table (getopt_long's, shared groups such as REPLICATOR_OPTIONS included),
 * its positional-argument limits, its usage text and its exec function;
 * cmd_table.c lists them. cmd_run() is the one parse loop: unknown options,
 * a missing option value, "COMMAND --help", too few or too many arguments
 * and a wrong action word are handled there, the same for every command,
 * before exec runs. exec then reads what was given through the args_*
 * accessors.
 */
#ifndef CMD_H
#define CMD_H

#include <getopt.h>
#include <stdio.h>

#include "src/cmd/cli.h"

/* What the parser collected: options in command-line order, and the
 * positional arguments. Read with args_*; valid during exec. */
struct args;

struct cmd_entry {
	const char	*name;
	/* Positional arguments: from lower to upper of them. With actions
	 * (NULL-terminated), the first must be one of these words. */
	struct {
		int			 lower, upper;
		const char *const	*actions;
	} args;
	/* getopt_long options, ended by { NULL }; val 0 for the command's own
	 * (read by name with args_get), REPL_OPT_* for the store's. --help and
	 * -h are added by the parser. */
	const struct option *options;
	const char	*usage;		/* after "heimdall-rec NAME " */
	const char	*summary;	/* one line */
	const char	*help;		/* options, one per line */
	int		(*exec)(const struct args *);
};

extern const struct cmd_entry cmd_record_entry;
extern const struct cmd_entry cmd_sessions_entry;
extern const struct cmd_entry cmd_sources_entry;
extern const struct cmd_entry cmd_schedule_entry;
extern const struct cmd_entry cmd_serve_entry;
extern const struct cmd_entry cmd_console_entry;
extern const struct cmd_entry cmd_db_entry;
extern const struct cmd_entry cmd_sync_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_import_entry;
extern const struct cmd_entry cmd_export_entry;

/* Every command, NULL-ended (cmd_table.c): --help lists them in this
 * order. */
extern const struct cmd_entry *const cmd_table[];

/* record's and import's session options (--name, --notes, --freq,
 * --duration, --passband) into p, *mhz, *dur: 0 or an exit status. */
struct session_params;
int	cmd_session_options(const struct args *a, struct session_params *p,
	    double *mhz, long *dur);

/*
 * One scripted session on rt (its stations loaded: runtime_load_stations;
 * the rest is started here and stopped before it returns, whatever
 * happens): start p, assign source, acquire, wait; progress on stderr, or
 * every event as a JSON line on stdout with json; at the end the summary,
 * and with a central store (rcfg enabled) up to sync_timeout s for it.
 * Returns the exit status (0, 75 partial, 69 failed, 74 I/O, 130, ...).
 * Shared by record and import (which sets rt's replay mode first).
 */
struct runtime;
struct replicator_config;
struct session_params;
int	cmd_record_run(struct runtime *rt, const char *dir,
	    double start_timeout, struct replicator_config *rcfg,
	    const struct session_params *p, const char *source, int json,
	    double sync_timeout);

/* No terminal for the console: say what to use instead; EXIT_USAGE. */
int	cmd_console_no_tty(void);

/* Print "usage: heimdall-rec NAME USAGE" + summary + help to f. */
void	cmd_usage(const struct cmd_entry *e, FILE *f);
/*
 * Parse argv (argv[0] is the command's name, or the program's) against e
 * and run e->exec. Usage errors never reach exec: an unknown option or a
 * missing value prints the usage on stderr, too few or too many arguments
 * or a wrong action word a message; EXIT_USAGE. --help prints the usage on
 * stdout; 0. Else exec's result.
 */
int	cmd_run(const struct cmd_entry *e, int argc, char **argv);

/* The last value of --name (a no_argument option: ""), or NULL when it was
 * not given. name must be one of the entry's options (else abort: a typo
 * in the program, not the user's). */
const char *args_get(const struct args *a, const char *name);
int	args_has(const struct args *a, const char *name);
/* --name as a number in [lo, hi] into *out (left alone when absent):
 * 0, or -1 after a message naming the flag and the range. */
int	args_double(const struct args *a, const char *name, double lo,
	    double hi, double *out);
int	args_long(const struct args *a, const char *name, long lo, long hi,
	    const char *what, long *out);
/* The options given, in command-line order (repeated ones too): the i-th
 * (0..args_options()-1) and its value (NULL without one). */
int	args_options(const struct args *a);
const struct option *args_option(const struct args *a, int i,
	    const char **value);
/* Positional arguments. */
int	args_count(const struct args *a);
const char *args_string(const struct args *a, int i);

#endif
