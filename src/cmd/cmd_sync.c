/* cmd_sync.c -- "sync": push what the spool still holds to the central store, then exit. */

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "src/cmd/cmd.h"
#include "src/cmd/runtime.h"
#include "src/engine/events.h"
#include "store/dataset.h"
#include "store/replicator.h"

/* A string of o for a human-readable line: escaped for the terminal
 * (server errors and session names are not ours to trust). */
static const char *
sstr(const json_t *o, const char *k)
{
	return cmd_esc(json_string_value(json_object_get(o, k)));
}

int
cmd_store_line(const json_t *st, char *buf, size_t len)
{
	const json_t	*db = json_object_get(st, "db");
	const json_t	*s3 = json_object_get(st, "s3");
	json_t		*d;
	size_t		 off, i;

	off = (size_t)snprintf(buf, len, "central store: %lld rows, %lld "
	    "objects pending",
	    (long long)json_integer_value(json_object_get(st, "pending_rows")),
	    (long long)json_integer_value(json_object_get(st,
	    "pending_objects")));
	if (off < len && strcmp(sstr(db, "state"), "off") != 0)
		off += (size_t)snprintf(buf + off, len - off, "; database %s: "
		    "%s%s%s", sstr(db, "target")[0] ? sstr(db, "target") :
		    "(not connected)", sstr(db, "state"), sstr(db, "error")[0] ?
		    " - " : "", sstr(db, "error"));
	if (off < len && strcmp(sstr(s3, "state"), "off") != 0)
		off += (size_t)snprintf(buf + off, len - off, "; S3 %s: %s%s%s",
		    sstr(s3, "target"), sstr(s3, "state"), sstr(s3, "error")[0] ?
		    " - " : "", sstr(s3, "error"));
	if (off < len && json_real_value(json_object_get(st, "retry_in_s")) > 0)
		off += (size_t)snprintf(buf + off, len - off, "; retry in "
		    "%.1f s", json_real_value(json_object_get(st,
		    "retry_in_s")));
	/* sessions that cannot be sent, each named */
	json_array_foreach(json_object_get(st, "damaged"), i, d)
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "; session "
			    "%s not sent: %s", sstr(d, "session_id"),
			    sstr(d, "error"));
	return 0;
}

struct sync_out {
	int		 json;
	pthread_mutex_t	 lock;
	char		 last[2048];
};

static void
on_status(void *ctx, const json_t *st)
{
	struct sync_out	*o = ctx;
	char		 line[2048], *s;

	pthread_mutex_lock(&o->lock);
	if (o->json) {
		s = events_envelope("store:status", st, NULL);
		if (s != NULL)
			printf("%s\n", s);
		fflush(stdout);
		free(s);
	} else {
		cmd_store_line(st, line, sizeof line);
		if (strcmp(line, o->last) != 0)
			fprintf(stderr, "%s\n", line);
		snprintf(o->last, sizeof o->last, "%s", line);
	}
	pthread_mutex_unlock(&o->lock);
}

static int
sync_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		REPLICATOR_OPTIONS,
		{ "data-dir", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "full", no_argument, NULL, 'F' },
		{ "no-migrate", no_argument, NULL, 'M' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct replicator_config c;
	struct replicator	*rep;
	struct dataset		*ds = NULL;
	struct sync_out		 o;
	const char		*dir = NULL;
	char			 err[1024], dpath[4096], line[2048];
	double			 timeout = 300;
	json_t			*st;
	int			 ch, rc;

	memset(&o, 0, sizeof o);
	pthread_mutex_init(&o.lock, NULL);
	replicator_config_init(&c);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			continue;
		case 't':
			if (cmd_parse_double("--timeout", optarg, 0, 86400,
			    &timeout) != 0)
				return EXIT_USAGE;
			continue;
		case 'F':
			c.full = 1;
			continue;
		case 'M':
			c.migrate = 0;
			continue;
		case 'j':
			o.json = 1;
			continue;
		case 'h':
			cmd_usage(&cmd_sync_entry, stdout);
			return 0;
		}
		if ((rc = runtime_store_option(&cmd_sync_entry, &c, ch, optarg)) != 0)
			return rc;
	}
	if (optind < argc)
		return cmd_error(EXIT_USAGE, "unexpected argument \"%s\"",
		    argv[optind]);
	if (!replicator_config_enabled(&c))
		return cmd_error(EXIT_USAGE, "sync: give --db URL and/or --s3 "
		    "URL (or set DATABASE_URL)");
	if (replicator_config_check(&c, err, sizeof err) != 0)
		return cmd_error(EXIT_USAGE, "%s", err);
	if ((rc = cmd_open_dataset(dir, &ds, dpath, sizeof dpath)) != 0)
		return rc;
	c.on_status = on_status;
	c.ctx = &o;
	if ((rep = replicator_start(&c, ds, err, sizeof err)) == NULL) {
		dataset_close(ds);
		return cmd_error(EXIT_USAGE, "%s", err);
	}
	rc = replicator_drain(rep, timeout) == 0 ? 0 : EXIT_PARTIAL;
	st = replicator_status(rep);
	replicator_stop(rep);
	if (!o.json) {
		cmd_store_line(st, line, sizeof line);
		if (rc == 0)
			fprintf(stderr, "sync: everything in %s is in the "
			    "central store\n", dpath);
		else
			fprintf(stderr, "sync: not finished after %g s: %s\n"
			    "the data stays in %s; run sync again\n", timeout,
			    line, dpath);
	}
	json_decref(st);
	dataset_close(ds);
	pthread_mutex_destroy(&o.lock);
	return rc;
}

const struct cmd_entry cmd_sync_entry = {
	"sync",
	"[--db URL] [--s3 URL] [--data-dir DIR] [--timeout S] [--full]",
	"Push every pending session, row and chunk to the central store.",
	REPLICATOR_HELP
	"  --data-dir DIR       the dataset (spool) to push (default "
	"$XDG_DATA_HOME/heimdall-rec)\n"
	"  --timeout S          stop waiting after S seconds "
	"(default 300)\n"
	"  --full               forget what was confirmed and send everything "
	"again\n"
	"                       (safe: both stores ignore duplicates)\n"
	"  --no-migrate         refuse to run on an outdated schema instead of "
	"migrating\n"
	"  --json               store:status events as JSON lines on stdout\n"
	"\nExit status: 0 everything is in the central store, 75 something is "
	"still\npending (kept locally; run sync again), 64 usage, 73 data "
	"dir.\n",
	sync_exec
};
