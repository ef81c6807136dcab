/* test_cmd.c -- the subcommands' one parse loop (src/cmd/cmd.c): every
 * command of the table, looped over, refuses an unknown option, a missing
 * option value, a surplus argument, too few arguments and a wrong action
 * before its exec runs, and answers --help; its help text names every
 * option it takes. A new command gets these checks by being in the table.
 * Then the accessors, on an entry of the test's own. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cmd/cmd.h"

/* What one cmd_run printed on stdout and stderr, and its result. */
struct ran {
	int	rc;
	char	out[16384];
	char	err[16384];
};

static void
slurp(FILE *f, char *buf, size_t len)
{
	size_t	n;

	rewind(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* cmd_run with stdout and stderr caught in files. argv is copied: getopt
 * permutes what it is given. */
static void
run(const struct cmd_entry *e, struct ran *r, int argc, const char **argv)
{
	FILE	*o = tmpfile(), *x = tmpfile();
	char	*v[16];
	int	 so, se, i;

	assert_non_null(o);
	assert_non_null(x);
	assert_true(argc < 16);
	for (i = 0; i < argc; i++)
		v[i] = (char *)argv[i];
	v[argc] = NULL;
	fflush(stdout);
	fflush(stderr);
	so = dup(STDOUT_FILENO);
	se = dup(STDERR_FILENO);
	dup2(fileno(o), STDOUT_FILENO);
	dup2(fileno(x), STDERR_FILENO);
	r->rc = cmd_run(e, argc, v);
	fflush(stdout);
	fflush(stderr);
	dup2(so, STDOUT_FILENO);
	dup2(se, STDERR_FILENO);
	close(so);
	close(se);
	slurp(o, r->out, sizeof r->out);
	slurp(x, r->err, sizeof r->err);
}

/* argv: the command's name, then its fewest positional arguments (its
 * first action word), then extra. */
static int
argv_of(const struct cmd_entry *e, int npos, const char **extra, int nextra,
    const char **v)
{
	int	n = 0, i;

	v[n++] = e->name;
	for (i = 0; i < npos; i++)
		v[n++] = e->args.actions != NULL && i == 0 ?
		    e->args.actions[0] : "arg";
	for (i = 0; i < nextra; i++)
		v[n++] = extra[i];
	return n;
}

static void
test_every_command_refuses(void **state)
{
	const struct cmd_entry	*e;
	struct ran		*r = malloc(sizeof *r);
	const char		*v[16], *x[2];
	char			 want[128];
	int			 i, n, count = 0;

	(void)state;
	assert_non_null(r);
	for (i = 0; (e = cmd_table[i]) != NULL; i++, count++) {
		snprintf(want, sizeof want, "usage: heimdall-rec %s ", e->name);
		/* an unknown option: getopt names it, then the usage */
		x[0] = "--no-such-option";
		n = argv_of(e, e->args.lower, x, 1, v);
		run(e, r, n, v);
		assert_int_equal(r->rc, EXIT_USAGE);
		assert_non_null(strstr(r->err, "unrecognized option "
		    "'--no-such-option'"));
		assert_non_null(strstr(r->err, want));
		assert_string_equal(r->out, "");
		/* an unknown short option too */
		x[0] = "-Z";
		n = argv_of(e, e->args.lower, x, 1, v);
		run(e, r, n, v);
		assert_int_equal(r->rc, EXIT_USAGE);
		assert_non_null(strstr(r->err, want));
		/* one argument more than it takes */
		n = argv_of(e, e->args.upper, NULL, 0, v);
		v[n++] = "surplus";
		run(e, r, n, v);
		assert_int_equal(r->rc, EXIT_USAGE);
		assert_non_null(strstr(r->err, "heimdall-rec: unexpected "
		    "argument \"surplus\""));
		/* an option that needs a value, given none */
		if (e->options[0].name != NULL) {
			const struct option *o;
			for (o = e->options; o->name != NULL &&
			    o->has_arg != required_argument; o++)
				;
			if (o->name != NULL) {
				char flag[64];
				snprintf(flag, sizeof flag, "--%s", o->name);
				x[0] = flag;
				n = argv_of(e, e->args.lower, x, 1, v);
				run(e, r, n, v);
				assert_int_equal(r->rc, EXIT_USAGE);
				assert_non_null(strstr(r->err, "requires an "
				    "argument"));
			}
		}
		/* too few arguments; a word that is not an action */
		if (e->args.lower > 0) {
			n = argv_of(e, 0, NULL, 0, v);
			run(e, r, n, v);
			assert_int_equal(r->rc, EXIT_USAGE);
			assert_non_null(strstr(r->err, e->name));
		}
		if (e->args.actions != NULL) {
			v[0] = e->name;
			v[1] = "frobnicate";
			run(e, r, 2, v);
			assert_int_equal(r->rc, EXIT_USAGE);
			assert_non_null(strstr(r->err, "no action "
			    "\"frobnicate\""));
		}
		/* --help and -h, anywhere: the usage on stdout, 0 */
		x[0] = "--help";
		n = argv_of(e, 0, x, 1, v);
		run(e, r, n, v);
		assert_int_equal(r->rc, 0);
		assert_ptr_equal(strstr(r->out, want), r->out);
		assert_string_equal(r->err, "");
		x[0] = "-h";
		n = argv_of(e, e->args.lower, x, 1, v);
		run(e, r, n, v);
		assert_int_equal(r->rc, 0);
		assert_ptr_equal(strstr(r->out, want), r->out);
	}
	assert_int_equal(count, 11);
	free(r);
}

/* "--NAME" followed by a space or a line end in text. */
static int
names(const char *text, const char *name)
{
	char		 flag[64];
	const char	*p;
	size_t		 len;

	len = (size_t)snprintf(flag, sizeof flag, "--%s", name);
	for (p = text; (p = strstr(p, flag)) != NULL; p += len)
		if (p[len] == ' ' || p[len] == '\n')
			return 1;
	return 0;
}

static void
test_every_option_documented(void **state)
{
	const struct cmd_entry	*e;
	const struct option	*o, *q;
	int			 i;

	(void)state;
	for (i = 0; (e = cmd_table[i]) != NULL; i++) {
		assert_non_null(e->exec);
		assert_true(e->args.lower <= e->args.upper);
		for (o = e->options; o->name != NULL; o++) {
			if (!names(e->help, o->name))
				fail_msg("%s --help does not list --%s",
				    e->name, o->name);
			/* the parser adds --help; a name is there once */
			assert_string_not_equal(o->name, "help");
			for (q = o + 1; q->name != NULL; q++)
				assert_string_not_equal(o->name, q->name);
			/* the command's own are read by name (val 0) */
			assert_true(o->val == 0 || o->val >= 0x100);
			assert_null(o->flag);
		}
	}
}

/* The accessors, on a command of the test's own. */
static const struct option t_options[] = {
	{ "value", required_argument, NULL, 0 },
	{ "flag", no_argument, NULL, 0 },
	{ "number", required_argument, NULL, 0 },
	{ NULL, 0, NULL, 0 }
};

static int	t_ran;

static int
t_exec(const struct args *a)
{
	const struct option	*o;
	const char		*v;
	double			 d = -1;
	long			 l = -1;

	t_ran++;
	/* the last of a repeated option; "" for a flag; NULL: not given */
	assert_string_equal(args_get(a, "value"), "two");
	assert_true(args_has(a, "flag"));
	assert_string_equal(args_get(a, "flag"), "");
	assert_null(args_get(a, "number"));
	/* absent: 0, the default left alone */
	assert_int_equal(args_double(a, "number", 0, 10, &d), 0);
	assert_true(d == -1);
	assert_int_equal(args_long(a, "number", 0, 10, "things", &l), 0);
	assert_int_equal(l, -1);
	/* every option in command-line order */
	assert_int_equal(args_options(a), 3);
	o = args_option(a, 0, &v);
	assert_string_equal(o->name, "value");
	assert_string_equal(v, "one");
	o = args_option(a, 1, &v);
	assert_string_equal(o->name, "flag");
	assert_null(v);
	o = args_option(a, 2, &v);
	assert_string_equal(v, "two");
	assert_null(args_option(a, 3, &v));
	/* positional arguments, wherever they stood */
	assert_int_equal(args_count(a), 2);
	assert_string_equal(args_string(a, 0), "first");
	assert_string_equal(args_string(a, 1), "second");
	assert_null(args_string(a, 2));
	return 42;
}

static int
t_numbers(const struct args *a)
{
	double	d = 0;
	long	l = 0;

	t_ran++;
	/* a bad value: -1, a message naming the flag */
	if (args_double(a, "number", 0, 10, &d) == 0)
		return 1;
	if (args_long(a, "number", 0, 10, "things", &l) == 0)
		return 2;
	return 7;
}

static void
test_accessors(void **state)
{
	struct cmd_entry	 e = { "t", { 1, 2, NULL }, t_options,
	    "ARG [ARG]", "a test", "  --value V\n  --flag\n  --number N\n",
	    t_exec };
	struct ran		*r = malloc(sizeof *r);
	const char		*v[] = { "t", "--value", "one", "first", "--flag",
	    "--value=two", "second" };
	const char		*w[] = { "t", "x", "--number", "11" };

	(void)state;
	assert_non_null(r);
	run(&e, r, 7, v);
	assert_int_equal(r->rc, 42);
	assert_int_equal(t_ran, 1);
	/* a refused command line never reaches exec */
	v[6] = "--bogus";
	run(&e, r, 7, v);
	assert_int_equal(r->rc, EXIT_USAGE);
	assert_int_equal(t_ran, 1);
	e.exec = t_numbers;
	run(&e, r, 4, w);
	assert_int_equal(r->rc, 7);
	assert_non_null(strstr(r->err, "--number must be a number from 0 to "
	    "10 (got \"11\")"));
	assert_non_null(strstr(r->err, "--number must be a whole number of "
	    "things from 0 to 10"));
	free(r);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_every_command_refuses),
	cmocka_unit_test(test_every_option_documented),
	cmocka_unit_test(test_accessors),
};

int
main(void)
{
	char	home[] = "/tmp/test_cmd.XXXXXX";
	int	rc;

	/* were the parser to let a command through, it must not touch the
	 * user's own files (the default dataset is under $HOME) */
	if (mkdtemp(home) == NULL)
		return 1;
	setenv("HOME", home, 1);
	setenv("XDG_DATA_HOME", home, 1);
	setenv("XDG_CONFIG_HOME", home, 1);
	unsetenv("DATABASE_URL");

	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(home);	/* empty unless something was let through */
	return rc;
}
