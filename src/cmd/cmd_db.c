/* cmd_db.c -- "db migrate": apply the central database's pending migrations (once, locked, tracked). */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "src/cmd/cmd.h"
#include "src/cmd/runtime.h"
#include "store/migrations.h"
#include "store/pgstore.h"
#include "store/replicator.h"

static int
db_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, REPL_OPT_DB },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct replicator_config c;
	struct pgstore		*pg;
	char			 err[1024];
	const char		*last = "";
	int			 ch, n, i, rc;

	replicator_config_init(&c);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			cmd_usage(&cmd_db_entry, stdout);
			return 0;
		}
		if ((rc = runtime_store_option(&cmd_db_entry, &c, ch, optarg)) != 0)
			return rc;
	}
	if (optind >= argc)
		return cmd_error(EXIT_USAGE, "db: which action? (migrate)");
	if (strcmp(argv[optind], "migrate") != 0)
		return cmd_error(EXIT_USAGE, "db: no action \"%s\" (migrate)",
		    argv[optind]);
	if (optind + 1 < argc)
		return cmd_error(EXIT_USAGE, "unexpected argument \"%s\"",
		    argv[optind + 1]);
	if (!c.db_on)
		return cmd_error(EXIT_USAGE, "db migrate: give --db URL or set "
		    "DATABASE_URL (\"postgresql://\" uses PGHOST, PGPORT, "
		    "PGDATABASE, PGUSER, PGPASSWORD)");
	if ((pg = pgstore_connect(c.db, err, sizeof err)) == NULL)
		return cmd_error(EXIT_FAILED, "%s", err);
	rc = pgstore_migrate(pg, &n, err, sizeof err);
	for (i = 0; migrations[i].version != NULL; i++)
		last = migrations[i].version;
	if (rc != 0)
		rc = cmd_error(EXIT_FAILED, "%s: %s (%d applied before the "
		    "error)", pgstore_target(pg), err, n);
	else if (n == 0)
		printf("database %s: up to date (%s)\n", pgstore_target(pg),
		    last);
	else
		printf("database %s: applied %d migration%s, now at %s\n",
		    pgstore_target(pg), n, n == 1 ? "" : "s", last);
	pgstore_close(pg);
	return rc;
}

const struct cmd_entry cmd_db_entry = {
	"db",
	"migrate [--db URL]",
	"Create or update the central database's schema (heimdall).",
	"  migrate              apply the pending migrations, each once, in a\n"
	"                       transaction, recorded in heimdall.schema_migrations;\n"
	"                       stations migrating at once wait for each other\n"
	"                       (advisory lock); running it again does nothing\n"
	"  --db URL             the database (default $DATABASE_URL; the libpq\n"
	"                       environment PGHOST, PGPORT, PGDATABASE, PGUSER,\n"
	"                       PGPASSWORD fills what the URL leaves out)\n"
	"\nExit status: 0 done, 69 cannot connect or a migration failed, "
	"64 usage.\n",
	db_exec
};
