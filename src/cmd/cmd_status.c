/* cmd_status.c -- "status": what the spool still holds for the central store, and why. */

#include <stdio.h>
#include <string.h>

#include "src/cmd/cmd.h"
#include "src/base/util.h"
#include "src/cmd/runtime.h"
#include "store/dataset.h"
#include "store/pgstore.h"
#include "store/replicator.h"
#include "store/s3store.h"

/* Was this store used before (DIR/replica.json)? */
static int
used(const json_t *last, const char *k)
{
	const char	*st = cli_jstr(json_object_get(last, k), "state");

	return st[0] != '\0' && strcmp(st, "off") != 0;
}

static const struct option status_options[] = {
	REPLICATOR_OPTIONS,
	{ "data-dir", required_argument, NULL, 0 },
	{ "json", no_argument, NULL, 0 },
	{ NULL, 0, NULL, 0 }
};

/* {session_id, session_name, fix} of the newest session with a session
 * fix (src/engine/locate.h), or NULL. */
static json_t *
latest_fix(struct dataset *ds)
{
	char	 err[512];
	json_t	*list = dataset_sessions_list(ds, err, sizeof err), *o, *r = NULL;
	size_t	 i;

	json_array_foreach(list, i, o) {
		if (json_is_object(json_object_get(o, "fix"))) {
			r = json_pack("{s:O, s:O, s:O}", "session_id",
			    json_object_get(o, "id"), "session_name",
			    json_object_get(o, "session_name"), "fix",
			    json_object_get(o, "fix"));
			break;
		}
	}
	json_decref(list);
	return r;
}

static int
status_exec(const struct args *a)
{
	struct replicator_config c;
	struct dataset		*ds = NULL;
	struct pgstore		*pg;
	struct s3store		*s3;
	const char		*dir = args_get(a, "data-dir");
	char			 err[1024], dpath[4096], *s;
	json_t			*p, *last, *ses, *live, *fix;
	size_t			 i;
	int			 rc, json = args_has(a, "json"), db, s3on, n;

	replicator_config_init(&c);
	if ((rc = runtime_store_options(a, &c)) != 0)
		return rc;
	if ((rc = cli_open_dataset(dir, &ds, dpath, sizeof dpath)) != 0)
		return rc;
	/* which stores: the ones given now, else the ones used last */
	p = replicator_pending(ds, 1, 1, err, sizeof err);
	if (p == NULL) {
		dataset_close(ds);
		return cli_error(EXIT_IOERR, "%s", err);
	}
	last = json_object_get(p, "last");
	db = c.db_on || (!replicator_config_enabled(&c) && used(last, "db"));
	s3on = c.s3_on || (!replicator_config_enabled(&c) && used(last, "s3"));
	json_decref(p);
	p = replicator_pending(ds, db, s3on, err, sizeof err);
	fix = latest_fix(ds);
	dataset_close(ds);
	if (p == NULL) {
		json_decref(fix);
		return cli_error(EXIT_IOERR, "%s", err);
	}
	/* the newest session's fix, whatever is pending */
	json_object_set_new(p, "latest_fix", fix != NULL ? fix : json_null());
	last = json_object_get(p, "last");

	/* reachability, when told where the stores are */
	live = json_object();
	if (c.db_on) {
		pg = pgstore_connect(c.db, err, sizeof err);
		if (pg == NULL)
			json_object_set_new(live, "db", json_pack("{s:s, s:s}",
			    "state", "error", "error", err));
		else {
			n = pgstore_pending_migrations(pg, err, sizeof err);
			json_object_set_new(live, "db", json_pack("{s:s, s:s, "
			    "s:s, s:i}", "target", pgstore_target(pg), "state",
			    n < 0 ? "error" : "ok", "error", n < 0 ? err : "",
			    "migrations_pending", n));
			pgstore_close(pg);
		}
	}
	if (c.s3_on) {
		s3 = s3store_new(&c.s3, err, sizeof err);
		if (s3 == NULL || s3store_check_bucket(s3, 0, err,
		    sizeof err) != 0)
			json_object_set_new(live, "s3", json_pack("{s:s, s:s}",
			    "state", "error", "error", err));
		else
			json_object_set_new(live, "s3", json_pack("{s:s, s:s, "
			    "s:s}", "target", s3store_target(s3), "state", "ok",
			    "error", ""));
		s3store_free(s3);
	}
	json_object_set_new(p, "live", live);
	rc = json_integer_value(json_object_get(p, "pending_rows")) > 0 ||
	    json_integer_value(json_object_get(p, "pending_objects")) > 0 ||
	    json_integer_value(json_object_get(p, "pending_loc_rows")) > 0 ||
	    json_integer_value(json_object_get(p, "pending_sessions")) > 0 ?
	    EXIT_PARTIAL : 0;
	if (json) {
		s = util_json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
		if (s != NULL)
			printf("%s\n", s);
		free(s);
		json_decref(p);
		return rc;
	}
	printf("spool %s: %lld rows and %lld objects pending in %lld "
	    "session(s)%s\n", dpath,
	    (long long)json_integer_value(json_object_get(p, "pending_rows")),
	    (long long)json_integer_value(json_object_get(p,
	    "pending_objects")),
	    (long long)json_integer_value(json_object_get(p,
	    "pending_sessions")),
	    !db && !s3on ? " (no central store configured or used yet)" : "");
	if (json_integer_value(json_object_get(p, "pending_loc_rows")) > 0)
		printf("  and %lld localization rows (TDoA, fixes) pending\n",
		    (long long)json_integer_value(json_object_get(p,
		    "pending_loc_rows")));
	if (json_is_object(fix = json_object_get(p, "latest_fix"))) {
		char fl[1024];
		cli_fix_line(json_object_get(fix, "fix"), fl, sizeof fl);
		printf("latest session fix: %s \"%s\": %s\n", cli_jstr(fix,
		    "session_id"), cli_jstr(fix, "session_name"), fl);
	}
	json_array_foreach(json_object_get(p, "sessions"), i, ses) {
		if (json_object_get(ses, "damaged") != NULL) {
			printf("  %s damaged: %s (nothing of it can be sent "
			    "until it is rebuilt: heimdall-rec sessions)\n",
			    cli_jstr(ses, "id"), cli_jstr(ses, "damaged"));
			continue;
		}
		if (json_integer_value(json_object_get(ses,
		    "loc_rows_invalid")) > 0)
			printf("  %s: %lld localization rows cannot be sent "
			    "(%s)\n", cli_jstr(ses, "id"), (long long)
			    json_integer_value(json_object_get(ses,
			    "loc_rows_invalid")), cli_jstr(ses, "loc_invalid"));
		if (json_integer_value(json_object_get(ses, "rows_pending")) ==
		    0 && json_integer_value(json_object_get(ses,
		    "objects_pending")) == 0 && json_integer_value(
		    json_object_get(ses, "loc_rows_pending")) == 0 &&
		    (!db || strcmp(cli_jstr(ses, "session_row"), "sent") == 0))
			continue;
		printf("  %s %-20.20s %-11s %4lld rows pending, %4lld objects "
		    "pending, %4lld localization rows pending, session row "
		    "%s\n", cli_jstr(ses, "id"),
		    cli_jstr(ses, "session_name"), cli_jstr(ses, "status"),
		    (long long)json_integer_value(json_object_get(ses,
		    "rows_pending")), (long long)json_integer_value(
		    json_object_get(ses, "objects_pending")),
		    (long long)json_integer_value(json_object_get(ses,
		    "loc_rows_pending")), cli_jstr(ses, "session_row"));
	}
	if (json_is_object(last)) {
		const char *k[] = { "db", "s3" };
		for (i = 0; i < 2; i++) {
			json_t *o = json_object_get(last, k[i]);
			if (!used(last, k[i]))
				continue;
			printf("last run (%s): %s %s: %s%s%s\n", cli_jstr(last,
			    "updated_at"), i == 0 ? "database" : "S3",
			    cli_jstr(o, "target"), cli_jstr(o, "state"),
			    cli_jstr(o, "error")[0] ? " - " : "",
			    cli_jstr(o, "error"));
		}
	}
	for (i = 0; i < 2; i++) {
		json_t *o = json_object_get(live, i == 0 ? "db" : "s3");
		if (o == NULL)
			continue;
		printf("now: %s %s: %s%s%s", i == 0 ? "database" : "S3",
		    cli_jstr(o, "target"), cli_jstr(o, "state"),
		    cli_jstr(o, "error")[0] ? " - " : "", cli_jstr(o, "error"));
		if (json_integer_value(json_object_get(o,
		    "migrations_pending")) > 0)
			printf(" (%lld migrations pending: heimdall-rec db "
			    "migrate)", (long long)json_integer_value(
			    json_object_get(o, "migrations_pending")));
		printf("\n");
	}
	json_decref(p);
	return rc;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.args = { .lower = 0, .upper = 0 },
	.options = status_options,
	.usage = "[--data-dir DIR] [--db URL] [--s3 URL] [--json]",
	.summary =
	    "Show what the spool has not yet pushed to the central "
	    "store, and why.",
	.help =
	    REPLICATOR_HELP
	    "  --data-dir DIR       the dataset (spool) (default "
	    "$XDG_DATA_HOME/heimdall-rec)\n"
	    "  --json               one JSON object on stdout\n"
	    "\nIt counts measurement rows, chunk objects and localization "
	    "rows (TDoA, fixes),\nand names localization rows that can never "
	    "be sent.\n"
	    "\nIt also shows the newest session fix (latest_fix).\n"
	    "\nWithout --db/--s3 it counts against the stores used last (from "
	    "DIR/replica.json)\nand shows their last error; with them it also "
	    "checks that they answer.\n"
	    "\nExit status: 0 nothing pending, 75 something pending, 64 usage, "
	    "73 data dir.\n",
	.exec = status_exec
};
