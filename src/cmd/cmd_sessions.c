/* cmd_sessions.c -- "sessions": list recorded sessions (and recover interrupted ones). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd/cmd.h"
#include "src/base/util.h"
#include "store/dataset.h"

static const struct option sessions_options[] = {
	{ "data-dir", required_argument, NULL, 0 },
	{ "json", no_argument, NULL, 0 },
	{ NULL, 0, NULL, 0 }
};

static int
sessions_exec(const struct args *a)
{
	struct dataset	*ds;
	char		 path[4096], err[1024], *s;
	json_t		*list, *o;
	size_t		 i;
	int		 json = args_has(a, "json"), rc;

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
		printf("%-36s  %-15s  %-27s  %7s  %7s  %s\n", "ID", "STATUS",
		    "START", "STORED", "MISSING", "NAME");
		json_array_foreach(list, i, o) {
			const char *start = json_string_value(json_object_get(o,
			    "session_start"));
			const char *name = json_string_value(json_object_get(o,
			    "session_name"));
			json_t *rb = json_object_get(o, "rebuilt");
			printf("%-36s  %-15s  %-27s  %3lld/%-3lld  %7lld  %s\n",
			    json_string_value(json_object_get(o, "id")),
			    json_string_value(json_object_get(o, "status")),
			    start != NULL ? start : "-",
			    (long long)json_integer_value(json_object_get(o,
			    "chunks_stored")),
			    (long long)json_integer_value(json_object_get(o,
			    "chunks_expected")),
			    (long long)json_integer_value(json_object_get(o,
			    "chunks_missing")), name != NULL ? cli_esc(name) :
			    "-");
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
	.usage = "[--data-dir DIR] [--json]",
	.summary = "List recorded sessions: status, chunks stored and "
	    "missing, the session fix.",
	.help =
	    "  --data-dir DIR  dataset folder (default $XDG_DATA_HOME/heimdall-rec)\n"
	    "  --json          print a JSON array\n"
	    "Opening the dataset marks sessions whose recorder died as failed "
	    "(interrupted),\nand rebuilds sessions whose manifest.json is missing, "
	    "empty or damaged from\ntheir chunk files and rows (failed, \"manifest "
	    "rebuilt from N chunks\"; the old\nfile is kept as "
	    "manifest.json.damaged). Sessions that cannot be rebuilt are\nlisted "
	    "as damaged, with the reason.\n",
	.exec = sessions_exec
};
