/* main.c -- heimdall-rec: --help, --version, help COMMAND; each command through cmd_run. */

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "src/cmd/cmd.h"

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
	for (i = 0; cmd_table[i] != NULL; i++)
		fprintf(f, "  %-10s %s\n", cmd_table[i]->name,
		    cmd_table[i]->summary);
	fprintf(f, "\nExit status: 0 every chunk stored; 75 some chunks "
	    "missing; 69 session failed;\n64 usage; 66 no stations file; 78 "
	    "bad stations or token file; 73 data dir;\n74 I/O; 130 "
	    "interrupted. See heimdall-rec(1).\n");
}

static const struct cmd_entry *
find(const char *name)
{
	int	i;

	for (i = 0; cmd_table[i] != NULL; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
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
			return cmd_run(&cmd_console_entry, argc, argv);
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
		return cmd_run(&cmd_console_entry, argc, argv);
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		if ((e = find(argv[2])) == NULL)
			return cli_error(EXIT_USAGE, "no command \"%s\" (try "
			    "--help)", argv[2]);
		cmd_usage(e, stdout);
		return 0;
	}
	if ((e = find(argv[1])) == NULL)
		return cli_error(EXIT_USAGE, "no command \"%s\" (try --help)",
		    argv[1]);
	return cmd_run(e, argc - 1, argv + 1);
}
