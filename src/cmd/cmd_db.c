/* cmd_db.c -- "db migrate": apply the central database's pending migrations (once, locked, tracked). */

#include <stdio.h>
#include <string.h>

#include "src/cmd/cmd.h"
#include "src/cmd/runtime.h"
#include "store/migrations.h"
#include "store/pgstore.h"
#include "store/replicator.h"

static const struct option db_options[] = {
	{ "db", required_argument, NULL, REPL_OPT_DB },
	{ NULL, 0, NULL, 0 }
};

static const char *const db_actions[] = { "migrate", NULL };

static int
db_exec(const struct args *a)
{
	struct replicator_config c;
	struct pgstore		*pg;
	char			 err[1024];
	const char		*last = "";
	int			 n, i, rc;

	replicator_config_init(&c);
	if ((rc = runtime_store_options(a, &c)) != 0)
		return rc;
	if (!c.db_on)
		return cli_error(EXIT_USAGE, "db migrate: give --db URL or set "
		    "DATABASE_URL (\"postgresql://\" uses PGHOST, PGPORT, "
		    "PGDATABASE, PGUSER, PGPASSWORD)");
	if ((pg = pgstore_connect(c.db, err, sizeof err)) == NULL)
		return cli_error(EXIT_FAILED, "%s", err);
	rc = pgstore_migrate(pg, &n, err, sizeof err);
	for (i = 0; migrations[i].version != NULL; i++)
		last = migrations[i].version;
	if (rc != 0)
		rc = cli_error(EXIT_FAILED, "%s: %s (%d applied before the "
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
	.name = "db",
	.args = { .lower = 1, .upper = 1, .actions = db_actions },
	.options = db_options,
	.usage = "migrate [--db URL]",
	.summary = "Create or update the central database's schema (heimdall).",
	.help =
	    "  migrate              apply the pending migrations, each once, in a\n"
	    "                       transaction, recorded in heimdall.schema_migrations;\n"
	    "                       stations migrating at once wait for each other\n"
	    "                       (advisory lock); running it again does nothing\n"
	    "  --db URL             the database (default $DATABASE_URL; the libpq\n"
	    "                       environment PGHOST, PGPORT, PGDATABASE, PGUSER,\n"
	    "                       PGPASSWORD fills what the URL leaves out)\n"
	    "\nExit status: 0 done, 69 cannot connect or a migration failed, "
	    "64 usage.\n",
	.exec = db_exec
};
