/* cmd_sync.c -- "sync": push what the spool still holds to the central store, then exit. */

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/base/jarena.h"
#include "src/base/util.h"
#include "src/cmd/cmd.h"
#include "src/cmd/runtime.h"
#include "src/engine/events.h"
#include "store/dataset.h"
#include "store/pgstore.h"
#include "store/replicator.h"

/* Bytes of parsed manifests (jansson objects: ~9 times the file) that
 * come from the arena: a 200-receiver x 30-chunk session (4.4 MB) and
 * more; reserved, counted only as touched. */
#define SYNC_ARENA	((size_t)128 << 20)

/* The database connection opened while the manifests are parsed. */
struct sync_pre {
	const struct replicator_config *c;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	int		 done;
	volatile int	 abort;	/* abandons its statement (pgstore_set_abort) */
	struct pgstore	*pg;
	char		 err[1024];
};

static void *
sync_preconnect(void *arg)
{
	struct sync_pre	*p = arg;

	p->pg = replicator_db_open(p->c, &p->abort, p->err, sizeof p->err);
	pthread_mutex_lock(&p->lock);
	p->done = 1;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/*
 * Wait for the preconnect until the sync's own deadline: a server that
 * accepts and never answers must not hold sync past --timeout, so its
 * statement is then abandoned (a connect in flight ends within libpq's
 * 5-s connect_timeout, as it would in the replicator) and the replicator
 * tries again itself. The seconds waited, to take from the drain.
 */
static double
sync_pre_wait(struct sync_pre *p, pthread_t th, double timeout)
{
	double	 t0 = util_mono(), d;
	struct timespec ts;

	pthread_mutex_lock(&p->lock);
	while (!p->done && (d = timeout - (util_mono() - t0)) > 0) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)d;
		ts.tv_nsec += (long)((d - (double)(time_t)d) * 1e9);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
	}
	if (!p->done)
		__atomic_store_n(&p->abort, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&p->lock);
	pthread_join(th, NULL);
	if (p->abort) {
		pgstore_close(p->pg);
		p->pg = NULL;
	}
	return util_mono() - t0;
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
		cli_store_line(st, line, sizeof line);
		if (strcmp(line, o->last) != 0)
			fprintf(stderr, "%s\n", line);
		snprintf(o->last, sizeof o->last, "%s", line);
	}
	pthread_mutex_unlock(&o->lock);
}

static const struct option sync_options[] = {
	REPLICATOR_OPTIONS,
	{ "data-dir", required_argument, NULL, 0 },
	{ "timeout", required_argument, NULL, 0 },
	{ "full", no_argument, NULL, 0 },
	{ "no-migrate", no_argument, NULL, 0 },
	{ "json", no_argument, NULL, 0 },
	{ NULL, 0, NULL, 0 }
};

static int
sync_exec(const struct args *a)
{
	struct replicator_config c;
	struct replicator	*rep;
	struct dataset		*ds = NULL;
	struct sync_out		 o;
	struct sync_pre		 pre;
	pthread_t		 pre_th;
	int			 pre_on = 0;
	double			 drain;
	const char		*dir = args_get(a, "data-dir");
	char			 err[1024], dpath[4096], line[2048];
	double			 timeout = 300;
	json_t			*st;
	int			 rc;

	memset(&o, 0, sizeof o);
	o.json = args_has(a, "json");
	replicator_config_init(&c);
	if (args_has(a, "full"))
		c.full = 1;
	if (args_has(a, "no-migrate"))
		c.migrate = 0;
	if (args_double(a, "timeout", 0, 86400, &timeout) != 0)
		return EXIT_USAGE;
	drain = timeout;
	if ((rc = runtime_store_options(a, &c)) != 0)
		return rc;
	pthread_mutex_init(&o.lock, NULL);
	if (!replicator_config_enabled(&c))
		return cli_error(EXIT_USAGE, "sync: give --db URL and/or --s3 "
		    "URL (or set DATABASE_URL)");
	if (replicator_config_check(&c, err, sizeof err) != 0)
		return cli_error(EXIT_USAGE, "%s", err);
	/* Connecting and checking the schema (~40 ms: TCP, auth, one
	 * query) overlaps the parse instead of following it. A failure
	 * here is left to the replicator, which tries again and reports
	 * it as it always does. */
	memset(&pre, 0, sizeof pre);
	pre.c = &c;
	pthread_mutex_init(&pre.lock, NULL);
	pthread_cond_init(&pre.cond, NULL);
	if (c.db_on && pthread_create(&pre_th, NULL, sync_preconnect,
	    &pre) == 0)
		pre_on = 1;
	/* the manifests the recovery scan parses and the replicator is
	 * about to load: parsed once (a few MB each at 200 receivers), into
	 * an arena (src/base/jarena.h: malloc, page faults and frees were
	 * half of sync's CPU); past SYNC_ARENA, malloc as before */
	jarena_begin(SYNC_ARENA);
	rc = cli_open_dataset_keep(dir, &ds, dpath, sizeof dpath,
	    replicator_wants, &c);
	jarena_end();
	/* the wait for the connection counts against the drain's timeout */
	if (pre_on)
		drain -= sync_pre_wait(&pre, pre_th, rc != 0 ? 0 : timeout);
	/* no time left for the replicator to try and say why itself */
	if (pre_on && rc == 0 && pre.pg == NULL && drain <= 0 &&
	    pre.err[0] != '\0' && !o.json)
		fprintf(stderr, "sync: %s\n", pre.err);
	pthread_cond_destroy(&pre.cond);
	pthread_mutex_destroy(&pre.lock);
	if (rc != 0) {
		pgstore_close(pre.pg);
		return rc;
	}
	c.pg = pre.pg;	/* replicator_start takes it over */
	c.on_status = on_status;
	c.ctx = &o;
	if ((rep = replicator_start(&c, ds, err, sizeof err)) == NULL) {
		dataset_close(ds);
		return cli_error(EXIT_USAGE, "%s", err);
	}
	rc = replicator_drain(rep, drain) == 0 ? 0 : EXIT_PARTIAL;
	st = replicator_status(rep);
	replicator_stop(rep);
	if (!o.json) {
		cli_store_line(st, line, sizeof line);
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
	.name = "sync",
	.args = { .lower = 0, .upper = 0 },
	.options = sync_options,
	.usage = "[--db URL] [--s3 URL] [--data-dir DIR] [--timeout S] [--full]",
	.summary = "Push every pending session, row and chunk to the central store.",
	.help =
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
	.exec = sync_exec
};
