/* cmd.c -- the one parse loop of every subcommand, and the args_* accessors (cmd.h). */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd/cmd.h"

struct args {
	const struct cmd_entry	*e;
	int			 n;		/* options given */
	struct {
		const struct option	*o;	/* in e->options */
		const char		*v;
	}			*opt;
	int			 argc;		/* positional arguments */
	char			**argv;
};

void
cmd_usage(const struct cmd_entry *e, FILE *f)
{
	fprintf(f, "usage: heimdall-rec %s %s\n%s\n", e->name, e->usage,
	    e->summary);
	if (e->help != NULL && e->help[0] != '\0')
		fprintf(f, "\n%s", e->help);
}

/* "list or add" */
static void
actions_text(const struct cmd_entry *e, char *buf, size_t len)
{
	size_t	off = 0;
	int	i;

	buf[0] = '\0';
	for (i = 0; e->args.actions[i] != NULL && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		    i == 0 ? "" : " or ", e->args.actions[i]);
}

/* The positional arguments against the entry's limits and actions. */
static int
check_positional(const struct cmd_entry *e, int argc, char **argv)
{
	char	what[256];
	int	i;

	if (e->args.actions != NULL)
		actions_text(e, what, sizeof what);
	if (argc < e->args.lower) {
		if (e->args.actions != NULL)
			return cli_error(EXIT_USAGE, "%s: which action? (%s)",
			    e->name, what);
		return cli_error(EXIT_USAGE, "%s: too few arguments (usage: "
		    "heimdall-rec %s %s)", e->name, e->name, e->usage);
	}
	if (e->args.actions != NULL && argc > 0) {
		for (i = 0; e->args.actions[i] != NULL; i++)
			if (strcmp(argv[0], e->args.actions[i]) == 0)
				break;
		if (e->args.actions[i] == NULL)
			return cli_error(EXIT_USAGE, "%s: no action \"%s\" (%s)",
			    e->name, argv[0], what);
	}
	if (argc > e->args.upper)
		return cli_error(EXIT_USAGE, "unexpected argument \"%s\"",
		    argv[e->args.upper]);
	return 0;
}

int
cmd_run(const struct cmd_entry *e, int argc, char **argv)
{
	struct option	*lo;
	struct args	 a;
	int		 n, ch, idx, rc;

	for (n = 0; e->options[n].name != NULL; n++)
		;
	/* the entry's options and --help, which every command has */
	lo = calloc((size_t)n + 2, sizeof *lo);
	memset(&a, 0, sizeof a);
	a.e = e;
	a.opt = calloc((size_t)argc + 1, sizeof *a.opt);
	if (lo == NULL || a.opt == NULL) {
		rc = cli_error(EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	memcpy(lo, e->options, (size_t)n * sizeof *lo);
	lo[n].name = "help";
	lo[n].has_arg = no_argument;
	lo[n].val = 'h';
	/* 0, not 1: glibc then starts afresh (a second call in one process,
	 * as the unit test makes, would otherwise inherit the first's state) */
	optind = 0;
	for (;;) {
		idx = -1;
		if ((ch = getopt_long(argc, argv, "h", lo, &idx)) == -1)
			break;
		if (ch == 'h' && (idx < 0 || idx == n)) {
			cmd_usage(e, stdout);
			rc = 0;
			goto out;
		}
		if (ch == '?' || idx < 0 || idx >= n) {
			/* getopt said which option and why */
			cmd_usage(e, stderr);
			rc = EXIT_USAGE;
			goto out;
		}
		a.opt[a.n].o = &e->options[idx];
		a.opt[a.n++].v = optarg;
	}
	a.argc = argc - optind;
	a.argv = argv + optind;
	if ((rc = check_positional(e, a.argc, a.argv)) != 0)
		goto out;
	rc = e->exec(&a);
out:
	free(a.opt);
	free(lo);
	return rc;
}

/* The entry's option called name; a name it does not have is a bug. */
static const struct option *
find_option(const struct args *a, const char *name)
{
	const struct option	*o;

	for (o = a->e->options; o->name != NULL; o++)
		if (strcmp(o->name, name) == 0)
			return o;
	fprintf(stderr, "heimdall-rec: %s has no option --%s\n", a->e->name,
	    name);
	abort();
}

const char *
args_get(const struct args *a, const char *name)
{
	const struct option	*o = find_option(a, name);
	int			 i;

	for (i = a->n - 1; i >= 0; i--)
		if (a->opt[i].o == o)
			return a->opt[i].v != NULL ? a->opt[i].v : "";
	return NULL;
}

int
args_has(const struct args *a, const char *name)
{
	return args_get(a, name) != NULL;
}

int
args_double(const struct args *a, const char *name, double lo, double hi,
    double *out)
{
	const char	*s = args_get(a, name);
	char		 flag[64];

	if (s == NULL)
		return 0;
	snprintf(flag, sizeof flag, "--%s", name);
	return cli_parse_double(flag, s, lo, hi, out);
}

int
args_long(const struct args *a, const char *name, long lo, long hi,
    const char *what, long *out)
{
	const char	*s = args_get(a, name);
	char		 flag[64];

	if (s == NULL)
		return 0;
	snprintf(flag, sizeof flag, "--%s", name);
	return cli_parse_int(flag, s, lo, hi, what, out);
}

int
args_options(const struct args *a)
{
	return a->n;
}

const struct option *
args_option(const struct args *a, int i, const char **value)
{
	if (i < 0 || i >= a->n)
		return NULL;
	if (value != NULL)
		*value = a->opt[i].v;
	return a->opt[i].o;
}

int
args_count(const struct args *a)
{
	return a->argc;
}

const char *
args_string(const struct args *a, int i)
{
	return i >= 0 && i < a->argc ? a->argv[i] : NULL;
}
