/* cmd_schedule.c -- "schedule add|list|cancel": planned sessions, kept in the dataset and run by serve and the console. */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd/cmd.h"
#include "src/engine/scheduler.h"
#include "src/engine/session.h"
#include "src/base/util.h"
#include "store/dataset.h"
#include "store/schedule.h"

static const struct option schedule_options[] = {
	{ "data-dir", required_argument, NULL, 0 },
	{ "name", required_argument, NULL, 0 },
	{ "freq", required_argument, NULL, 0 },
	{ "duration", required_argument, NULL, 0 },
	{ "source", required_argument, NULL, 0 },
	{ "notes", required_argument, NULL, 0 },
	{ "group", required_argument, NULL, 0 },
	{ "chunk-ms", required_argument, NULL, 0 },
	{ "at", required_argument, NULL, 0 },
	{ "every", required_argument, NULL, 0 },
	{ "count", required_argument, NULL, 0 },
	{ "until", required_argument, NULL, 0 },
	{ "json", no_argument, NULL, 0 },
	{ NULL, 0, NULL, 0 }
};

static const char *const schedule_actions[] = { "add", "list", "cancel",
    NULL };

static int
schedule_addcmd(struct dataset *ds, const struct args *a)
{
	struct schedule_spec	 s;
	struct session_error	 e;
	const char		*v;
	char			 id[37], err[512], ferr[256];
	double			 mhz = 0;
	long			 dur = 0, count = 0, ms = SESSION_CHUNK_MS_DEFAULT;

	memset(&s, 0, sizeof s);
	if ((v = args_get(a, "name")) == NULL || args_get(a, "freq") == NULL ||
	    !args_has(a, "duration") || args_get(a, "at") == NULL)
		return cli_error(EXIT_USAGE, "schedule add needs --name PATTERN, "
		    "--freq MHZ, --duration S and --at TIME");
	if (strlen(v) >= sizeof s.name)
		return cli_error(EXIT_USAGE, "--name is longer than %zu bytes",
		    sizeof s.name - 1);
	snprintf(s.name, sizeof s.name, "%s", v);
	if (session_parse_mhz(args_get(a, "freq"), 0, &mhz, ferr,
	    sizeof ferr) != 0)
		return cli_error(EXIT_USAGE, "--freq: %s", ferr);
	if (args_long(a, "duration", SESSION_DURATION_MIN,
	    SESSION_DURATION_MAX, "seconds", &dur) != 0 ||
	    args_long(a, "count", 1, SCHEDULE_COUNT_MAX, "occurrences",
	    &count) != 0 || args_long(a, "chunk-ms", INT_MIN, INT_MAX,
	    "milliseconds", &ms) != 0)	/* range: session_validate */
		return EXIT_USAGE;
	snprintf(s.source, sizeof s.source, "%s", (v = args_get(a, "source"))
	    != NULL ? v : "unknown");
	if ((v = args_get(a, "notes")) != NULL) {
		if (strlen(v) >= sizeof s.notes)
			return cli_error(EXIT_USAGE, "--notes is longer than "
			    "%zu bytes", sizeof s.notes - 1);
		snprintf(s.notes, sizeof s.notes, "%s", v);
	}
	if ((v = args_get(a, "group")) != NULL) {
		if (strlen(v) >= sizeof s.group)
			return cli_error(EXIT_USAGE, "--group is longer than "
			    "%zu bytes", sizeof s.group - 1);
		snprintf(s.group, sizeof s.group, "%s", v);
	}
	if (util_parse_when(args_get(a, "at"), util_now(), &s.first) != 0)
		return cli_error(EXIT_USAGE, "--at must be an ISO 8601 UTC time "
		    "on a whole second or +N[s|m|h] from now");
	if ((v = args_get(a, "every")) != NULL &&
	    scheduler_parse_every(v, &s.every_s) != 0)
		return cli_error(EXIT_USAGE, "--every must be N[s|m|h] (got "
		    "\"%s\")", cli_esc(v));
	if ((v = args_get(a, "until")) != NULL && util_parse_when(v,
	    util_now(), &s.until) != 0)
		return cli_error(EXIT_USAGE, "--until must be an ISO 8601 UTC "
		    "time or +N[s|m|h] from now");
	s.count = (int)count;
	s.freq_hz = mhz * 1e6;
	s.duration_s = (int)dur;
	s.chunk_ms = (int)ms;
	/* the checks schedule:add makes too (lead, the template's session,
	 * every/count/until, the source) */
	if (scheduler_check_new(ds, &s, util_now(), &e) != 0)
		return cli_error(EXIT_USAGE, "%s", e.msg);
	if (schedule_add(ds, &s, id, err, sizeof err) != 0)
		return cli_error(EXIT_USAGE, "schedule add: %s", err);
	printf("%s\n", id);
	return 0;
}

static int
schedule_listcmd(struct dataset *ds, int json)
{
	json_t	*list, *o, *runs;
	char	 err[512], *s;
	size_t	 i;

	if ((list = schedule_list(ds, err, sizeof err)) == NULL)
		return cli_error(EXIT_IOERR, "%s", err);
	if (json) {
		s = util_json_dumps(list, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		printf("%s\n", s != NULL ? s : "[]");
		free(s);
	} else {
		printf("%-36s  %-9s  %-27s  %7s  %-10s  %s\n", "ID", "STATE",
		    "NEXT", "EVERY", "LAST", "NAME");
		json_array_foreach(list, i, o) {
			json_t *last;
			runs = json_object_get(o, "runs");
			last = json_array_get(runs, json_array_size(runs) - 1);
			printf("%-36s  %-9s  %-27s  %6llds  %-10s  %s\n",
			    cli_jstr(o, "id"), cli_jstr(o, "state"),
			    json_is_string(json_object_get(o, "next")) ?
			    cli_jstr(o, "next") : "-",
			    (long long)json_integer_value(json_object_get(o,
			    "every_s")), last != NULL ? cli_jstr(last,
			    "status") : "-", cli_jstr(o, "name"));
		}
		if (json_array_size(list) == 0)
			printf("(no schedules)\n");
	}
	json_decref(list);
	return 0;
}

static int
schedule_exec(const struct args *a)
{
	struct dataset	*ds;
	const char	*verb = args_string(a, 0);
	char		 path[4096], err[512];
	int		 rc;

	if (strcmp(verb, "cancel") == 0 && (args_count(a) != 2 ||
	    !util_is_uuid(args_string(a, 1))))
		return cli_error(EXIT_USAGE, "schedule cancel ID: the schedule's "
		    "UUID (schedule list)");
	if (strcmp(verb, "cancel") != 0 && args_count(a) != 1)
		return cli_error(EXIT_USAGE, "schedule %s takes no argument",
		    verb);
	if ((rc = cli_open_dataset(args_get(a, "data-dir"), &ds, path,
	    sizeof path)) != 0)
		return rc;
	if (strcmp(verb, "add") == 0)
		rc = schedule_addcmd(ds, a);
	else if (strcmp(verb, "list") == 0)
		rc = schedule_listcmd(ds, args_has(a, "json"));
	else {
		rc = schedule_cancel(ds, args_string(a, 1), err, sizeof err);
		if (rc < 0)
			rc = cli_error(EXIT_IOERR, "%s", err);
		else if (rc == 1)
			rc = cli_error(EXIT_USAGE, "no schedule %s",
			    args_string(a, 1));
		else
			printf("cancelled %s\n", args_string(a, 1));
	}
	dataset_close(ds);
	return rc;
}

const struct cmd_entry cmd_schedule_entry = {
	.name = "schedule",
	.args = { .lower = 1, .upper = 2, .actions = schedule_actions },
	.options = schedule_options,
	.usage =
	    "add --name PATTERN --freq MHZ --duration S --at TIME [--every N[s|m|h]"
	    " [--count N | --until TIME]] [--source SOURCE] [--notes TEXT] "
	    "[--group ID] [--chunk-ms MS] | list [--json] | cancel ID",
	.summary = "Planned sessions, run by serve and the console at their "
	    "instants.",
	.help =
	    "  --data-dir DIR       dataset folder (default "
	    "$XDG_DATA_HOME/heimdall-rec)\n"
	    "  --name PATTERN       session name; {n} is the occurrence (1, 2, ...)\n"
	    "  --freq MHZ           frequency\n"
	    "  --duration S         whole seconds, 1-30\n"
	    "  --chunk-ms MS        chunk length in ms, 100-5000 (default 1000); the\n"
	    "                       duration must be a whole number of chunks\n"
	    "  --at TIME            the first start: ISO 8601 UTC on a whole second,\n"
	    "                       or +N[s|m|h]; at least 10 s ahead\n"
	    "  --every N[s|m|h]     repeat (longer than the duration, 10 s to 7 d)\n"
	    "  --count N            this many occurrences in all (default: no limit)\n"
	    "  --until TIME         none after this instant\n"
	    "  --source SOURCE      unknown (default), a known source's name or UUID\n"
	    "  --notes TEXT, --group ID   as for record\n"
	    "  --json               list as JSON (with each schedule's runs)\n"
	    "add prints the new schedule's UUID. serve and the console run the\n"
	    "dataset's schedules: each occurrence starts exactly at its instant on\n"
	    "every receiver (record --at); one behind another session queues\n"
	    "(recorded as queued); one whose instant passed while nothing ran is\n"
	    "recorded as missed, never run late.\n",
	.exec = schedule_exec
};
