/* cmd_record.c -- "record": a scripted session from flags, progress on stderr or JSON lines on stdout. */

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cmd/cmd.h"
#include "src/engine/config.h"
#include "src/engine/engine.h"
#include "src/engine/events.h"
#include "src/cmd/runtime.h"
#include "src/engine/session.h"
#include "src/base/util.h"
#include "store/dataset.h"
#include "store/replicator.h"

/* What a chunk line shows for one station: a chunk's progress line comes
 * when every station settled that chunk, and stations deliver out of step
 * (a reconnect, OpenWebRX's batches), so values are kept per chunk. */
enum { SNR_NONE = 0, SNR_VALUE, SNR_NULL };

struct out {
	int		 json;
	pthread_mutex_t	 lock;
	double		*snr;		/* [chunk * (nst + 1) + websdr] */
	unsigned char	*has_snr;	/* SNR_* for the same cells */
	int		 nchunks;
	int		 nst;
	int		 nexcluded;	/* stations left out (frequency,
					   --exclude) */
	json_t		*final;			/* last status_update data */
	char		 store[2048];		/* last store line printed */
	char		 excluded[2048];	/* last TDoA exclusions printed */
	long long	 paused;	/* paused_chunks of the last progress */
};

/* Write a line with one write(): lines of concurrent writers never mix. */
static void
write_line(int fd, const char *s, size_t len)
{
	char	*buf = malloc(len + 1);

	if (buf == NULL)
		return;
	memcpy(buf, s, len);
	buf[len] = '\n';
	(void)util_write_all(fd, buf, len + 1);	/* nowhere to report it */
	free(buf);
}

static json_int_t
jint(const json_t *d, const char *k)
{
	return json_integer_value(json_object_get(d, k));
}

/* session:tdoa: who was left out of TDoA and why, said when it changes
 * (every chunk would repeat it). */
/* session:preflight (record --at): who is ready for the instant. */
static void
human_preflight(const json_t *d)
{
	json_t	*r;
	size_t	 i;

	fprintf(stderr, "pre-flight, %.1f s before %s: %zu ready, %zu not\n",
	    json_number_value(json_object_get(d, "seconds_ahead")),
	    cli_jstr(d, "start_at"), json_array_size(json_object_get(d,
	    "ready")), json_array_size(json_object_get(d, "not_ready")));
	json_array_foreach(json_object_get(d, "not_ready"), i, r)
		fprintf(stderr, "  not ready: station %lld (%s): %s\n",
		    (long long)json_integer_value(json_object_get(r, "websdr")),
		    cli_jstr(r, "station"), cli_jstr(r, "reason"));
}

static void
human_tdoa(struct out *o, const json_t *d)
{
	char	 line[2048];
	size_t	 off = 0, i;
	json_t	*x;

	line[0] = '\0';
	json_array_foreach(json_object_get(d, "excluded"), i, x) {
		if (off >= sizeof line)
			break;
		off += (size_t)snprintf(line + off, sizeof line - off, "%s%lld "
		    "%s (%s)", i ? ", " : "", (long long)jint(x, "websdr"),
		    cli_jstr(x, "station"), cli_jstr(x, "reason"));
	}
	if (strcmp(line, o->excluded) != 0)
		fprintf(stderr, "  TDoA without: %s\n", line[0] ? line :
		    "(none)");
	snprintf(o->excluded, sizeof o->excluded, "%s", line);
}

static void
human(struct out *o, const char *name, const json_t *d)
{
	char	 line[4096];
	size_t	 off;
	int	 i;

	if (strcmp(name, "session:started") == 0)
		o->nexcluded = (int)json_array_size(json_object_get(d,
		    "excluded"));
	if (strcmp(name, "session:started") == 0)
		fprintf(stderr, "session %s: \"%s\", %.6f MHz, %lld s in "
		    "%lld-ms chunks\n", cli_jstr(d, "session_id"),
		    cli_jstr(d, "session_name"),
		    json_real_value(json_object_get(d, "frequency_mhz")),
		    (long long)jint(d, "duration_seconds"),
		    (long long)jint(d, "chunk_ms"));
	else if (strcmp(name, "session:source_assigned") == 0)
		fprintf(stderr, "source: %s\n", cli_jstr(d, "source_name"));
	else if (strcmp(name, "session:completed") == 0)
		fprintf(stderr, "acquiring %lld chunks from %d stations...\n",
		    (long long)jint(d, "chunks"), o->nst - o->nexcluded);
	else if (strcmp(name, "receiver:status") == 0)
		fprintf(stderr, "  station %lld (%s): %s%s%s\n",
		    (long long)jint(d, "websdr"), cli_jstr(d, "station"),
		    cli_jstr(d, "state"),
		    strcmp(cli_jstr(d, "reason"), cli_jstr(d, "state")) != 0 ?
		    " - " : "",
		    strcmp(cli_jstr(d, "reason"), cli_jstr(d, "state")) != 0 ?
		    cli_jstr(d, "reason") : "");
	else if (strcmp(name, "session:measurement") == 0) {
		json_int_t k = jint(d, "websdr"), c = jint(d, "chunk_index");
		json_t *v = json_object_get(d, "snr_db");
		if (k >= 1 && k <= o->nst && c >= 0 && c < o->nchunks) {
			size_t cell = (size_t)c * (size_t)(o->nst + 1) +
			    (size_t)k;
			o->snr[cell] = json_number_value(v);
			o->has_snr[cell] = json_is_number(v) ? SNR_VALUE :
			    SNR_NULL;
		}
	} else if (strcmp(name, "session:missing") == 0)
		fprintf(stderr, "  station %lld (%s) chunk %lld missing: %s\n",
		    (long long)jint(d, "websdr"), cli_jstr(d, "station"),
		    (long long)jint(d, "chunk_index"), cli_jstr(d, "reason"));
	else if (strcmp(name, "session:progress") == 0) {
		off = (size_t)snprintf(line, sizeof line, "chunk %lld/%lld: "
		    "%lld measurements; SNR dB:", (long long)jint(d, "chunk"),
		    (long long)jint(d, "total_chunks"),
		    (long long)jint(d, "measurements_count"));
		/* this chunk's own values: "-" not stored, "?" stored
		 * without an SNR (a silent chunk) */
		json_int_t c = jint(d, "chunk") - 1;
		for (i = 1; i <= o->nst && off < sizeof line - 16; i++) {
			size_t cell = (size_t)c * (size_t)(o->nst + 1) +
			    (size_t)i;
			int h = c >= 0 && c < o->nchunks ? o->has_snr[cell] :
			    SNR_NONE;
			if (h == SNR_VALUE)
				off += (size_t)snprintf(line + off,
				    sizeof line - off, " %.1f", o->snr[cell]);
			else
				off += (size_t)snprintf(line + off,
				    sizeof line - off, h == SNR_NULL ? " ?" :
				    " -");
		}
		/* this chunk's receivers skipped for a pause ("-" above) */
		if (jint(d, "paused_chunks") > o->paused)
			fprintf(stderr, "%s (%lld paused)\n", line,
			    (long long)jint(d, "paused_chunks") - o->paused);
		else
			fprintf(stderr, "%s\n", line);
		o->paused = (long long)jint(d, "paused_chunks");
	} else if (strcmp(name, "session:paused") == 0)
		fprintf(stderr, "paused: chunks from %lld are not stored\n",
		    (long long)jint(d, "chunk_index"));
	else if (strcmp(name, "session:resumed") == 0)
		fprintf(stderr, "resumed: chunks from %lld are stored "
		    "(paused %.1f s)\n", (long long)jint(d, "chunk_index"),
		    json_number_value(json_object_get(d, "pause_seconds")));
	else if (strcmp(name, "session:error") == 0)
		fprintf(stderr, "error: %s\n", cli_jstr(d, "error"));
	else if (strcmp(name, "session:clock") == 0 ||
	    strcmp(name, "session:warning") == 0)
		fprintf(stderr, "warning: %s\n", cli_jstr(d, "message"));
	else if (strcmp(name, "session:preflight") == 0)
		human_preflight(d);
	else if (strcmp(name, "session:tdoa") == 0)
		human_tdoa(o, d);
	else if (strcmp(name, "session:fix") == 0) {
		cli_fix_line(d, line, sizeof line);
		if (json_is_true(json_object_get(d, "final")))
			fprintf(stderr, "session fix: %s\n", line);
		else
			fprintf(stderr, "  fix chunk %lld: %s\n",
			    (long long)jint(d, "chunk_index"), line);
	}
	else if (strcmp(name, "store:status") == 0) {
		/* only when a store's state or error changes, not every count */
		json_t *c = json_deep_copy(d);
		char *s;
		json_object_del(c, "pending_rows");
		json_object_del(c, "pending_objects");
		json_object_del(c, "pending_loc_rows");
		json_object_del(c, "pending_sessions");
		json_object_del(c, "retry_in_s");
		json_object_del(c, "state");
		s = util_json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);
		if (s != NULL && strcmp(s, o->store) != 0) {
			cli_store_line(d, line, sizeof line);
			fprintf(stderr, "%s\n", line);
			snprintf(o->store, sizeof o->store, "%s", s);
		}
		free(s);
		json_decref(c);
	}
}

static void
on_event(void *ctx, const char *name, const json_t *data, const char *json,
    size_t len)
{
	struct out	*o = ctx;

	pthread_mutex_lock(&o->lock);
	if (o->json)
		write_line(STDOUT_FILENO, json, len);
	else
		human(o, name, data);
	if (strcmp(name, "session:status_update") == 0) {
		json_decref(o->final);
		o->final = json_deep_copy(data);
	}
	pthread_mutex_unlock(&o->lock);
}

static void
summary(const json_t *d, const char *dir)
{
	json_t	*sum = json_object_get(d, "summary"), *st, *m;
	size_t	 i;

	char	 word[64];

	/* the one vocabulary (session_outcome): complete, partial (k
	 * missing) -- exit 75 --, failed */
	fprintf(stderr, "\nsession %s %s", cli_jstr(d, "session_id"),
	    session_outcome_text(cli_jstr(d, "status"), jint(sum,
	    "chunks_missing"), word, sizeof word));
	if (json_object_get(d, "error") != NULL)
		fprintf(stderr, " (%s)", cli_jstr(d, "error"));
	fprintf(stderr, ": %lld of %lld chunks stored",
	    (long long)jint(sum, "chunks_stored"),
	    (long long)jint(sum, "chunks_expected"));
	if (jint(sum, "paused_chunks") > 0)
		fprintf(stderr, ", %lld paused (%.0f s)",
		    (long long)jint(sum, "paused_chunks"),
		    json_number_value(json_object_get(sum,
		    "paused_seconds")));
	fprintf(stderr, "\n");
	json_array_foreach(json_object_get(sum, "stations"), i, st) {
		char pz[32] = "";
		/* left out (frequency, --exclude): no chunk was expected */
		if (strcmp(cli_jstr(st, "state"), "excluded") == 0) {
			fprintf(stderr, "  %2lld %-24s excluded        %s\n",
			    (long long)jint(st, "websdr"),
			    cli_jstr(st, "name"), cli_jstr(st, "reason"));
			continue;
		}
		if (jint(st, "chunks_paused") > 0)
			snprintf(pz, sizeof pz, " %3lld paused",
			    (long long)jint(st, "chunks_paused"));
		fprintf(stderr, "  %2lld %-24s %3lld ok %3lld missing%s  %s\n",
		    (long long)jint(st, "websdr"), cli_jstr(st, "name"),
		    (long long)jint(st, "chunks_ok"),
		    (long long)jint(st, "chunks_missing"), pz,
		    cli_jstr(st, "reason"));
	}
	json_array_foreach(json_object_get(sum, "missing"), i, m) {
		if (i == 20) {
			fprintf(stderr, "  ... %zu more missing\n",
			    json_array_size(json_object_get(sum, "missing")) -
			    20);
			break;
		}
		fprintf(stderr, "  missing: chunk %lld of station %lld: %s\n",
		    (long long)jint(m, "chunk_index"),
		    (long long)jint(m, "websdr"), cli_jstr(m, "reason"));
	}
	fprintf(stderr, "data: %s/sessions/%s/\n", dir,
	    cli_jstr(d, "session_id"));
}

struct sigctx {
	struct engine	*eng;
	pthread_mutex_t	 lock;		/* id: set by main once assigned */
	char		 id[37];
	sigset_t	 set;
	volatile int	 got;		/* __atomic: read by the main thread */
	volatile int	 quit;		/* __atomic: main's SIGUSR1 is the
					   wake-up at exit, not a pause */
};

/* Signals arrive here, on a normal thread: cancelling is not
 * async-signal-safe, so no handler does it. */
static void *
sig_main(void *arg)
{
	struct sigctx		*s = arg;
	struct session_error	 e;
	char			 id[37];
	int			 sig;

	for (;;) {
		if (sigwait(&s->set, &sig) != 0)
			continue;
		if (__atomic_load_n(&s->quit, __ATOMIC_SEQ_CST))
			return NULL;	/* our own wake-up at exit */
		if (sig == SIGUSR1 || sig == SIGUSR2) {
			/* pause / resume: the engine says session:paused or
			 * session:resumed; a refusal is said here */
			pthread_mutex_lock(&s->lock);
			memcpy(id, s->id, sizeof id);
			pthread_mutex_unlock(&s->lock);
			if (id[0] == '\0')
				fprintf(stderr, "heimdall-rec: %s ignored: "
				    "no acquisition yet\n", sig == SIGUSR1 ?
				    "SIGUSR1 (pause)" : "SIGUSR2 (resume)");
			else if (engine_session_pause(s->eng, id,
			    sig == SIGUSR1, &e) != 0)
				fprintf(stderr, "heimdall-rec: %s: %s\n",
				    sig == SIGUSR1 ? "pause" : "resume", e.msg);
			continue;
		}
		/* under the lock: main either sees got once it has set the
		 * id (and cancels itself), or we see the id */
		pthread_mutex_lock(&s->lock);
		__atomic_store_n(&s->got, sig, __ATOMIC_SEQ_CST);
		memcpy(id, s->id, sizeof id);
		pthread_mutex_unlock(&s->lock);
		if (id[0] != '\0')
			engine_session_cancel(s->eng, id,
			    "interrupted by the operator", &e);
	}
}

static int
exit_code(const json_t *d)
{
	json_t	*sum = json_object_get(d, "summary");

	/* a storage error is said as such, whatever else happened */
	if (json_object_get(sum, "io_error") != NULL)
		return EXIT_IOERR;
	if (strcmp(cli_jstr(d, "status"), "completed") != 0)
		return EXIT_FAILED;
	if (jint(sum, "chunks_missing") > 0)
		return EXIT_PARTIAL;
	return 0;
}

/* The flag that set a session_error's field, for messages. */
static const char *
flag_of(const char *field)
{
	static const char *map[][2] = {
		{ "session_name", "--name" }, { "notes", "--notes" },
		{ "group_id", "--group" }, { "start_at", "--at" },
		{ "duration_seconds", "--duration" },
		{ "frequency_mhz", "--freq" }, { "passband", "--passband" },
		{ "source_id", "--source" }, { "exclude", "--exclude" },
		{ "chunk_ms", "--chunk-ms" },
	};
	size_t	i;

	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(field, map[i][0]) == 0)
			return map[i][1];
	return "record";
}

static int
map_error(const struct session_error *e)
{
	if (strcmp(e->code, "io_error") == 0)
		return cli_error(EXIT_IOERR, "%s", e->msg);
	/* the flag, when a flag set the field (not the session's id) */
	if (strcmp(flag_of(e->field), "record") != 0)
		return cli_error(EXIT_USAGE, "%s: %s", flag_of(e->field),
		    e->msg);
	return cli_error(EXIT_USAGE, "%s", e->msg);
}

/* Wait (bounded) for the central store to take this session; say what is
 * left. The data is safe in the spool either way: the exit status stays
 * the session's. */
static void
store_finish(struct replicator *rep, double timeout, int json,
    const char *dir, volatile int *interrupted)
{
	char	 line[2048];
	json_t	*st;
	double	 end = util_mono() + timeout;
	int	 drained;

	/* in short steps: SIGINT/SIGTERM ends the wait at once */
	do
		drained = replicator_drain(rep, end - util_mono() < 0.25 ?
		    end - util_mono() : 0.25) == 0;
	while (!drained && !__atomic_load_n(interrupted, __ATOMIC_SEQ_CST) &&
	    util_mono() < end);
	/* the counts `status` gives, from the ledgers: the replicator's own
	 * are those of its last finished pass, stale (0) while a server
	 * that accepts but never answers holds its first one */
	st = replicator_backlog(rep);
	if (!json) {
		cli_store_line(st, line, sizeof line);
		if (drained)
			fprintf(stderr, "central store: every row and object "
			    "replicated\n");
		else
			fprintf(stderr, "%s\nkept in %s: the next run or "
			    "`heimdall-rec sync` sends it\n", line, dir);
	}
	json_decref(st);
}

static const struct option record_options[] = {
	{ "stations", required_argument, NULL, 0 },
	{ "data-dir", required_argument, NULL, 0 },
	{ "name", required_argument, NULL, 0 },
	{ "freq", required_argument, NULL, 0 },
	{ "duration", required_argument, NULL, 0 },
	{ "source", required_argument, NULL, 0 },
	{ "notes", required_argument, NULL, 0 },
	{ "group", required_argument, NULL, 0 },
	{ "passband", required_argument, NULL, 0 },
	{ "exclude", required_argument, NULL, 0 },
	{ "chunk-ms", required_argument, NULL, 0 },
	{ "start-timeout", required_argument, NULL, 0 },
	{ "at", required_argument, NULL, 0 },
	{ "json", no_argument, NULL, 0 },
	{ "sync-timeout", required_argument, NULL, 0 },
	REPLICATOR_OPTIONS,
	RUNTIME_OPTIONS,
	{ NULL, 0, NULL, 0 }
};

/*
 * The session's own options, as record and import take them: --name,
 * --notes and --group (bounded here, once; what a group may hold is
 * session_validate's), --freq (MHz), --duration (s), --passband,
 * --chunk-ms (any integer here: its range and the duration's fit are
 * session_validate's, the one check).
 * Each one only when given: *mhz and *dur keep their values otherwise.
 * 0, or the exit status after the message.
 */
int
cmd_session_options(const struct args *a, struct session_params *p,
    double *mhz, long *dur)
{
	const char	*s;
	char		 ferr[256];

	if ((s = args_get(a, "name")) != NULL) {
		if (strlen(s) > SESSION_NAME_MAX)
			return cli_error(EXIT_USAGE, "--name is longer than %d "
			    "bytes", SESSION_NAME_MAX);
		snprintf(p->name, sizeof p->name, "%s", s);
	}
	if ((s = args_get(a, "notes")) != NULL) {
		if (strlen(s) > SESSION_NOTES_MAX)
			return cli_error(EXIT_USAGE, "--notes is longer than %d "
			    "bytes", SESSION_NOTES_MAX);
		snprintf(p->notes, sizeof p->notes, "%s", s);
	}
	if ((s = args_get(a, "group")) != NULL) {
		if (strlen(s) > SESSION_GROUP_MAX)
			return cli_error(EXIT_USAGE, "--group is longer than %d "
			    "bytes", SESSION_GROUP_MAX);
		snprintf(p->group, sizeof p->group, "%s", s);
	}
	/* the one parser of typed frequencies (the console's too) */
	if ((s = args_get(a, "freq")) != NULL &&
	    session_parse_mhz(s, 0, mhz, ferr, sizeof ferr) != 0)
		return cli_error(EXIT_USAGE, "--freq: %s", ferr);
	if (args_long(a, "duration", SESSION_DURATION_MIN,
	    SESSION_DURATION_MAX, "seconds", dur) != 0)
		return EXIT_USAGE;
	if ((s = args_get(a, "passband")) != NULL &&
	    cli_parse_passband(s, &p->low_cut, &p->high_cut) != 0)
		return EXIT_USAGE;
	if (args_has(a, "chunk-ms")) {
		long ms;
		if (args_long(a, "chunk-ms", INT_MIN, INT_MAX, "milliseconds",
		    &ms) != 0)
			return EXIT_USAGE;
		p->chunk_ms = (int)ms;
	}
	return 0;
}

/*
 * --exclude NAME[,NAME...]: the names into a NULL-ended array in one
 * malloc'd block (*out, freed by the caller), "\," a comma inside a name,
 * "\\" a backslash. Which names are stations, and that one is left, is
 * session_check_exclude's (the engine's validation, every front-end's).
 * The count, or -1 after a message.
 */
static int
split_names(const char *s, const char ***out)
{
	size_t	 len = strlen(s), n = 1, i, k = 0;
	char	*w;
	const char **v;

	for (i = 0; i < len; i++)
		if (s[i] == ',')
			n++;
	/* the pointers, then the names (never longer than s) */
	v = malloc((n + 1) * sizeof *v + len + 1);
	if (v == NULL) {
		cli_error(EXIT_OSERR, "out of memory");
		return -1;
	}
	w = (char *)(v + n + 1);
	v[k++] = w;
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && (s[i + 1] == ',' || s[i + 1] == '\\'))
			*w++ = s[++i];
		else if (s[i] == ',') {
			*w++ = '\0';
			v[k++] = w;
		} else
			*w++ = s[i];
	}
	*w = '\0';
	v[k] = NULL;
	for (i = 0; i < k; i++)
		if (v[i][0] == '\0') {
			free(v);
			cli_error(EXIT_USAGE, "--exclude: an empty station name "
			    "(NAME[,NAME...], \\, for a comma in a name)");
			return -1;
		}
	*out = v;
	return (int)k;
}

static int
record_exec(const struct args *a)
{
	struct replicator_config rcfg;
	double			 sync_timeout = 30;
	struct session_params	 p;
	struct session_error	 e;
	struct runtime		 rt;
	const char		*stfile, *dir, *source, **names = NULL;
	char			 err[1024];
	double			 mhz = 0, start_timeout = 5, at = 0;
	long			 dur = 0;
	int			 rc;

	session_params_init(&p);
	replicator_config_init(&rcfg);
	stfile = args_get(a, "stations");
	dir = args_get(a, "data-dir");
	source = args_get(a, "source");
	if ((rc = cmd_session_options(a, &p, &mhz, &dur)) != 0)
		return rc;
	if (args_double(a, "start-timeout", 0.1, 60, &start_timeout) != 0 ||
	    args_double(a, "sync-timeout", 0, 86400, &sync_timeout) != 0)
		return EXIT_USAGE;
	if ((rc = runtime_store_options(a, &rcfg)) != 0)
		return rc;
	if (args_get(a, "at") != NULL && util_parse_when(args_get(a, "at"),
	    util_now(), &at) != 0)
		return cli_error(EXIT_USAGE, "--at must be an ISO 8601 UTC time "
		    "(2026-12-02T10:00:00Z) or +N[s|m|h] from now (got \"%s\")",
		    cli_esc(args_get(a, "at")));
	if (p.name[0] == '\0')
		return cli_error(EXIT_USAGE, "--name is required and must not "
		    "be empty");
	if (!args_has(a, "freq"))
		return cli_error(EXIT_USAGE, "--freq MHZ is required");
	if (!args_has(a, "duration"))
		return cli_error(EXIT_USAGE, "--duration S is required (a whole "
		    "number of seconds from %d to %d)", SESSION_DURATION_MIN,
		    SESSION_DURATION_MAX);
	if (source == NULL)
		return cli_error(EXIT_USAGE, "--source is required: \"unknown\", "
		    "a known source's name or its UUID");
	if (replicator_config_check(&rcfg, err, sizeof err) != 0)
		return cli_error(EXIT_USAGE, "%s", err);
	p.freq_hz = mhz * 1e6;
	p.duration_s = (int)dur;
	/* all but the stations' range now: usage errors before the file */
	if (session_validate(&p, NULL, &e) != 0)
		return cli_error(EXIT_USAGE, "%s: %s", flag_of(e.field), e.msg);
	if (args_get(a, "exclude") != NULL &&
	    (p.nexclude = split_names(args_get(a, "exclude"), &names)) < 0)
		return EXIT_USAGE;
	p.exclude = names;

	if ((rc = runtime_load_stations(&rt, stfile)) != 0 ||
	    (rc = runtime_options(a, &rt)) != 0) {
		runtime_stop(&rt);
		free(names);
		return rc;
	}
	/* the range and the names before any receiver is dialled */
	if (session_check_frequency(&rt.stations, p.freq_hz, &e) != 0 ||
	    session_check_exclude(&p, &rt.stations, &e) != 0) {
		runtime_stop(&rt);
		free(names);
		return cli_error(EXIT_USAGE, "%s: %s", flag_of(e.field),
		    e.msg);
	}
	rt.start_at = at;
	rc = cmd_record_run(&rt, dir, start_timeout, &rcfg, &p, source,
	    args_has(a, "json"), sync_timeout);
	free(names);
	return rc;
}

int
cmd_record_run(struct runtime *rt, const char *dir, double start_timeout,
    struct replicator_config *rcfg, const struct session_params *pp,
    const char *source, int json, double sync_timeout)
{
	struct session_params	 p = *pp;
	struct session_error	 e;
	struct out		 o;
	struct sigctx		 sc;
	pthread_t		 sigth;
	char			 id[37];
	int			 rc;
	int			 interrupted;

	memset(&o, 0, sizeof o);
	o.json = json;
	o.nst = rt->stations.n;
	o.nchunks = session_total_chunks(&p);	/* validated: >= 1 */
	o.snr = calloc((size_t)o.nchunks * (size_t)(o.nst + 1), sizeof *o.snr);
	o.has_snr = calloc((size_t)o.nchunks * (size_t)(o.nst + 1), 1);
	if (o.snr == NULL || o.has_snr == NULL) {
		rc = cli_error(EXIT_SOFTWARE, "out of memory");
		goto out;
	}
	pthread_mutex_init(&o.lock, NULL);

	/* Every thread inherits this mask: only sig_main takes signals. */
	memset(&sc, 0, sizeof sc);
	pthread_mutex_init(&sc.lock, NULL);
	sigemptyset(&sc.set);
	sigaddset(&sc.set, SIGINT);
	sigaddset(&sc.set, SIGTERM);
	sigaddset(&sc.set, SIGUSR1);
	sigaddset(&sc.set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &sc.set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((rc = runtime_start(rt, dir, start_timeout, rcfg, on_event,
	    &o)) != 0)
		goto out;
	sc.eng = rt->eng;
	pthread_create(&sigth, NULL, sig_main, &sc);

	/* created with its source: one manifest write, not two */
	if (engine_session_start_assigned(rt->eng, &p, source, id, &e) != 0) {
		struct session_error e2;
		rc = map_error(&e);
		if (id[0] != '\0')	/* the assignment was refused */
			engine_session_cancel(rt->eng, id, e.msg, &e2);
		goto stop;
	}
	pthread_mutex_lock(&sc.lock);
	memcpy(sc.id, id, sizeof id);
	interrupted = __atomic_load_n(&sc.got, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&sc.lock);
	if (interrupted) {
		/* the signal came before the id: sig_main could not cancel */
		engine_session_cancel(rt->eng, id, "interrupted by the operator",
		    &e);
		rc = EXIT_INTERRUPTED;
		goto stop;
	}
	if (engine_session_acquire_at(rt->eng, id, rt->start_at, &e) != 0) {
		/* cancelled by a signal just now: that is what happened */
		rc = __atomic_load_n(&sc.got, __ATOMIC_SEQ_CST) ?
		    EXIT_INTERRUPTED : map_error(&e);
		goto stop;
	}
	engine_session_wait(rt->eng, id);
	pthread_mutex_lock(&o.lock);
	rc = o.final != NULL ? exit_code(o.final) : EXIT_SOFTWARE;
	if (!o.json && o.final != NULL)
		summary(o.final, rt->data_dir);
	pthread_mutex_unlock(&o.lock);
	interrupted = __atomic_load_n(&sc.got, __ATOMIC_SEQ_CST);
	if (interrupted)
		rc = EXIT_INTERRUPTED;
	if (rt->rep != NULL)
		store_finish(rt->rep, interrupted ? 0 : sync_timeout, o.json,
		    rt->data_dir, &sc.got);
stop:
	__atomic_store_n(&sc.quit, 1, __ATOMIC_SEQ_CST);
	pthread_kill(sigth, SIGUSR1);
	pthread_join(sigth, NULL);
	pthread_mutex_destroy(&sc.lock);
out:
	runtime_stop(rt);
	json_decref(o.final);
	free(o.snr);
	free(o.has_snr);
	return rc;
}

const struct cmd_entry cmd_record_entry = {
	.name = "record",
	.args = { .lower = 0, .upper = 0 },
	.options = record_options,
	.usage = "--name NAME --freq MHZ --duration S --source SOURCE [options]",
	.summary = "Record a session now, from every station, without a terminal UI.",
	.help =
	    "  --stations FILE      stations file (default "
	    "$XDG_CONFIG_HOME/heimdall-rec/stations.json)\n"
	    "  --data-dir DIR       dataset folder (default "
	    "$XDG_DATA_HOME/heimdall-rec)\n"
	    "  --name NAME          session name (1-255 bytes of UTF-8, no control\n"
	    "                       characters)\n"
	    "  --freq MHZ           dial frequency in MHz; a station whose range\n"
	    "                       excludes it is left out (none takes it: 64)\n"
	    "  --duration S         whole seconds, 1-30: S*1000/MS chunks per station\n"
	    "  --chunk-ms MS        chunk length in ms, 100-5000 (default 1000); the\n"
	    "                       duration must be a whole number of chunks\n"
	    "  --source SOURCE      unknown, a known source's name, or its UUID\n"
	    "  --notes TEXT         free text (up to 4096 bytes of UTF-8)\n"
	    "  --group ID           links this session with other recorders'\n"
	    "                       sessions of the same transmission: 1-64\n"
	    "                       letters, digits, '.', '_', ':' or '-'\n"
	    "  --passband LOW:HIGH  Hz around the frequency (default -5000:5000)\n"
	    "  --exclude NAME[,NAME...]\n"
	    "                       leave these stations out (names from the\n"
	    "                       stations file; \\, is a comma in a name): the\n"
	    "                       manifest lists them \"excluded by the operator\"\n"
	    "  --at TIME            start at this instant: chunk 0 begins then on\n"
	    "                       every receiver (GPS time where it has it), so\n"
	    "                       recorders given the same TIME cut the same\n"
	    "                       seconds; ISO 8601 UTC or +N[s|m|h] from now\n"
	    "                       (rounded up to a whole second), at least the\n"
	    "                       start timeout ahead; the receivers connect\n"
	    "                       and are checked first (session:preflight)\n"
	    "  --start-timeout S    wait this long for every station to stream "
	    "(default 5)\n"
	    "  --json               events as JSON lines on stdout (with\n"
	    "                       session:tdoa and session:fix: the position\n"
	    "                       fixed per chunk and for the session; a\n"
	    "                       known source with --lat/--lon adds its\n"
	    "                       error)\n"
	    REPLICATOR_HELP
	    RUNTIME_HELP
	    "  --sync-timeout S     at the end, wait up to S s for the central "
	    "store\n"
	    "                       (default 30; what is left is sent later)\n"
	    "\nSignals: SIGUSR1 pauses the acquisition (receivers stay connected;\n"
	    "the chunks of the pause are not stored, counted as paused, not\n"
	    "missing), SIGUSR2 resumes it; SIGINT/SIGTERM interrupt.\n"
	    "\nExit status: 0 every chunk stored, 75 some missing, 69 failed, 64 "
	    "usage,\n66 no stations file, 78 bad stations file, 73 data dir, 74 "
	    "I/O (storage\nerror: the session failed), 71 too few open files for "
	    "the stations,\n130 interrupted.\n",
	.exec = record_exec
};
