/* cmd_sessions.c -- "sessions": list recorded sessions (and recover interrupted ones). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd/cmd.h"
#include "src/cmd/runtime.h"
#include "src/engine/session.h"
#include "src/base/util.h"
#include "store/dataset.h"
#include "store/pgstore.h"
#include "store/replicator.h"

static const struct option sessions_options[] = {
	{ "data-dir", required_argument, NULL, 0 },
	{ "json", no_argument, NULL, 0 },
	{ "db", required_argument, NULL, REPL_OPT_DB },
	{ "limit", required_argument, NULL, 0 },
	{ NULL, 0, NULL, 0 }
};

static const char *
jstr_or(const json_t *o, const char *key, const char *dflt)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return s != NULL && s[0] != '\0' ? s : dflt;
}

/*
 * sessions --db URL: the central store's sessions, every recorder's (the
 * station that recorded it is its recorder_host), so an operator sees
 * what the other field stations recorded and which sessions a group links.
 */
static int
central_list(const struct args *a, int json)
{
	struct replicator_config c;
	struct pgstore		*pg;
	char			 err[1024];
	json_t			*list, *o;
	long			 limit = 100;
	size_t			 i;
	char			*s;
	int			 rc;

	replicator_config_init(&c);
	if ((rc = runtime_store_options(a, &c)) != 0)
		return rc;
	if (args_long(a, "limit", 1, 10000, "sessions", &limit) != 0)
		return EXIT_USAGE;
	if ((pg = pgstore_connect(c.db, err, sizeof err)) == NULL)
		return cli_error(EXIT_FAILED, "%s", err);
	list = pgstore_sessions_list(pg, (int)limit, err, sizeof err);
	if (list == NULL) {
		rc = cli_error(EXIT_FAILED, "%s: %s", pgstore_target(pg), err);
		pgstore_close(pg);
		return rc;
	}
	if (json) {
		s = util_json_dumps(list, JSON_INDENT(1) |
		    JSON_PRESERVE_ORDER);
		printf("%s\n", s != NULL ? s : "[]");
		free(s);
	} else {
		printf("%-36s  %-9s  %-27s  %-16s  %-16s  %6s  %3s  %s\n", "ID",
		    "STATUS", "START", "RECORDER", "GROUP", "CHUNKS", "RX",
		    "NAME");
		/* the database is not trusted: its text is escaped for the
		 * terminal like any other */
		json_array_foreach(list, i, o)
			printf("%-36s  %-9s  %-27s  %-16s  %-16s  %6lld  %3lld  "
			    "%s\n", cli_esc(jstr_or(o, "id", "-")),
			    cli_esc(jstr_or(o, "status", "-")),
			    cli_esc(jstr_or(o, "session_start", "-")),
			    cli_esc(jstr_or(o, "recorder_host", "-")),
			    cli_esc(jstr_or(o, "group_id", "-")),
			    (long long)json_integer_value(json_object_get(o,
			    "chunks_stored")), (long long)json_integer_value(
			    json_object_get(o, "receivers")),
			    cli_esc(jstr_or(o, "session_name", "-")));
		if (json_array_size(list) == 0)
			printf("(no sessions in %s)\n", pgstore_target(pg));
	}
	pgstore_close(pg);
	json_decref(list);
	return 0;
}

static int
sessions_exec(const struct args *a)
{
	struct dataset	*ds;
	char		 path[4096], err[1024], *s;
	json_t		*list, *o;
	size_t		 i;
	int		 json = args_has(a, "json"), rc;

	if (args_has(a, "db"))
		return central_list(a, json);
	if (args_has(a, "limit"))
		return cli_error(EXIT_USAGE, "--limit goes with --db (the "
		    "local list is every session)");
	if ((rc = cli_open_dataset(args_get(a, "data-dir"), &ds, path,
	    sizeof path)) != 0)
		return rc;
	list = dataset_sessions_list(ds, err, sizeof err);
	dataset_close(ds);
	if (list == NULL)
		return cli_error(EXIT_IOERR, "%s", err);
	if (json) {
		s = util_json_dumps(list, JSON_INDENT(1) |
		    JSON_PRESERVE_ORDER);
		printf("%s\n", s != NULL ? s : "[]");
		free(s);
	} else {
		printf("%-36s  %-20s  %-27s  %7s  %7s  %-16s  %s\n", "ID",
		    "STATUS", "START", "STORED", "MISSING", "GROUP", "NAME");
		json_array_foreach(list, i, o) {
			const char *start = json_string_value(json_object_get(o,
			    "session_start"));
			const char *name = json_string_value(json_object_get(o,
			    "session_name"));
			json_t *rb = json_object_get(o, "rebuilt");
			char word[64];
			/* the one vocabulary: complete, partial (k missing),
			 * failed (in_progress and damaged as they are) */
			session_outcome_text(json_string_value(json_object_get(o,
			    "status")), (long long)json_integer_value(
			    json_object_get(o, "chunks_missing")), word,
			    sizeof word);
			printf("%-36s  %-20s  %-27s  %3lld/%-3lld  %7lld  %-16s  "
			    "%s\n",
			    json_string_value(json_object_get(o, "id")), word,
			    start != NULL ? start : "-",
			    (long long)json_integer_value(json_object_get(o,
			    "chunks_stored")),
			    (long long)json_integer_value(json_object_get(o,
			    "chunks_expected")),
			    (long long)json_integer_value(json_object_get(o,
			    "chunks_missing")), cli_esc(jstr_or(o, "group_id",
			    "-")), name != NULL ? cli_esc(name) : "-");
			if (json_is_object(json_object_get(o, "fix"))) {
				char fl[1024];
				cli_fix_line(json_object_get(o, "fix"), fl,
				    sizeof fl);
				printf("  fix: %s\n", fl);
			}
			/* a damaged manifest is said, with what is left */
			if (json_object_get(o, "damaged") != NULL)
				printf("  damaged: %s; %lld chunk files kept "
				    "(not rebuilt: the dataset is read-only or "
				    "the session is being written)\n",
				    cli_esc(json_string_value(json_object_get(o,
				    "damaged"))), (long long)json_integer_value(
				    json_object_get(o, "chunk_files")));
			else if (rb != NULL)
				printf("  rebuilt %s from %lld chunk files and "
				    "%lld rows: %s%s%s\n", json_string_value(
				    json_object_get(rb, "at")), (long long)
				    json_integer_value(json_object_get(rb,
				    "chunk_files")), (long long)
				    json_integer_value(json_object_get(rb,
				    "rows")), json_string_value(
				    json_object_get(rb, "reason")),
				    json_object_get(rb, "damaged_file") != NULL ?
				    "; kept as " : "", json_object_get(rb,
				    "damaged_file") != NULL ? json_string_value(
				    json_object_get(rb, "damaged_file")) : "");
		}
		if (json_array_size(list) == 0)
			printf("(no sessions in %s)\n", path);
	}
	json_decref(list);
	return 0;
}

const struct cmd_entry cmd_sessions_entry = {
	.name = "sessions",
	.args = { .lower = 0, .upper = 0 },
	.options = sessions_options,
	.usage = "[--data-dir DIR] [--json] [--db URL [--limit N]]",
	.summary = "List recorded sessions: status, chunks stored and "
	    "missing, the session fix.",
	.help =
	    "  --data-dir DIR  dataset folder (default $XDG_DATA_HOME/heimdall-rec)\n"
	    "  --json          print a JSON array\n"
	    "  --db URL        list the central store's sessions instead, every\n"
	    "                  recorder's: recorder host, group, status, chunks\n"
	    "                  and receivers stored (the password from PGPASSWORD\n"
	    "                  or ~/.pgpass, never the command line)\n"
	    "  --limit N       with --db: the newest N, 1-10000 (default 100)\n"
	    "Opening the dataset marks sessions whose recorder died as failed "
	    "(interrupted),\nand rebuilds sessions whose manifest.json is missing, "
	    "empty or damaged from\ntheir chunk files and rows (failed, \"manifest "
	    "rebuilt from N chunks\"; the old\nfile is kept as "
	    "manifest.json.damaged). Sessions that cannot be rebuilt are\nlisted "
	    "as damaged, with the reason.\n",
	.exec = sessions_exec
};
