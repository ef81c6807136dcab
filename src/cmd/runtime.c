/* runtime.c -- the shared set-up of the recording front-ends: stations, dataset, bus, loop, engine, replicator. */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "src/cmd/cmd.h"
#include "src/engine/engine.h"
#include "src/engine/events.h"
#include "src/engine/scheduler.h"
#include "src/cmd/runtime.h"
#include "net/rx/receiver.h"
#include "net/rx/rxloop.h"
#include "net/server/wsserver.h"
#include "store/dataset.h"
#include "store/replicator.h"
#include "src/base/util.h"

int
runtime_store_options(const struct args *a, struct replicator_config *c)
{
	const struct option	*o;
	const char		*v;
	char			 err[1024];
	int			 i;

	/* in command-line order, so that the last of a repeated one wins */
	for (i = 0; (o = args_option(a, i, &v)) != NULL; i++)
		if (replicator_config_option(c, o->val, v, err,
		    sizeof err) < 0)
			return cli_error(EXIT_USAGE, "%s", err);
	return 0;
}

int
runtime_load_stations(struct runtime *rt, const char *path)
{
	char	 def[4096], err[1024];

	memset(rt, 0, sizeof *rt);
	if (path == NULL) {
		if (config_default_stations_path(def, sizeof def) != 0)
			return cli_error(EXIT_USAGE, "no --stations and no HOME "
			    "to find the default");
		path = def;
	}
	if (access(path, F_OK) != 0)
		return cli_error(EXIT_NOINPUT, "stations file %s: %s (use "
		    "--stations FILE)", path, strerror(errno));
	if (config_load_stations(path, &rt->stations, err, sizeof err) != 0)
		return cli_error(EXIT_CONFIG, "%s", err);
	return 0;
}

/* The replicator's thread: its status becomes an event like any other, so
 * the JSON lines, the WebSocket clients and the console all see it. */
static void
on_store(void *ctx, const json_t *st)
{
	events_emit(ctx, "store:status", json_deep_copy(st));
}

int
runtime_options(const struct args *a, struct runtime *rt)
{
	const char	*s = args_get(a, "recorder-host");

	if (s == NULL)
		return 0;
	/* one limit, the engine's: a name it would cut is refused here */
	if (s[0] == '\0' || strlen(s) > ENGINE_HOST_MAX ||
	    strlen(s) >= sizeof rt->recorder_host)
		return cli_error(EXIT_USAGE, "--recorder-host must be 1-%d "
		    "bytes", ENGINE_HOST_MAX);
	if (util_text_check(s, 0) != UTIL_TEXT_OK)
		return cli_error(EXIT_USAGE, "--recorder-host must be UTF-8 "
		    "text without control characters");
	snprintf(rt->recorder_host, sizeof rt->recorder_host, "%s", s);
	return 0;
}

int
runtime_start(struct runtime *rt, const char *dir, double start_timeout,
    struct replicator_config *rcfg, events_fn sub, void *subctx)
{
	struct engine_config	 cfg;
	char			 err[1024];
	long			 lim, need;
	int			 i, rc;

	/*
	 * Too few descriptors make every receiver fail at once ("no receiver
	 * delivered a whole second"): take what the hard limit allows, and
	 * refuse up front what it still cannot hold (engine.h says why).
	 */
	lim = util_raise_nofile();
	need = engine_fds_needed(rt->stations.n);
	if (lim >= 0 && lim < need)
		return cli_error(EXIT_OSERR, "%d stations need about %ld open "
		    "files, and this process may open %ld (ulimit -n, hard "
		    "limit): raise the limit or use fewer stations",
		    rt->stations.n, need, lim);
	if ((rc = cli_open_dataset(dir, &rt->ds, rt->data_dir,
	    sizeof rt->data_dir)) != 0)
		return rc;
	if ((rt->ev = events_new()) == NULL ||
	    (sub != NULL && events_subscribe(rt->ev, sub, subctx) < 0))
		return cli_error(EXIT_SOFTWARE, "out of memory");
	if ((rt->loop = rxloop_new(need, err, sizeof err)) == NULL)
		return cli_error(EXIT_SOFTWARE, "%s", err);
	memset(&cfg, 0, sizeof cfg);
	cfg.stations = &rt->stations;
	cfg.ds = rt->ds;
	cfg.ev = rt->ev;
	cfg.loop = rt->loop;
	cfg.start_timeout = start_timeout;
	cfg.idle_timeout = rt->idle_timeout;
	cfg.replay = rt->replay;
	cfg.replay_origin = rt->replay_origin;
	cfg.recorder_host = rt->recorder_host;
	if ((rt->eng = engine_new(&cfg, err, sizeof err)) == NULL) {
		/* a recording in a live stations file, or a receiver in an
		 * import's: the file does not fit the command */
		for (i = 0; i < rt->stations.n; i++)
			if (rx_type_replay(rt->stations.v[i].type) !=
			    (rt->replay != 0))
				return cli_error(EXIT_CONFIG, "%s", err);
		return cli_error(EXIT_SOFTWARE, "%s", err);
	}
	/* The dataset stays the spool: the replicator follows it on its own
	 * thread, and nothing recorded waits for the central store. */
	if (rcfg != NULL && replicator_config_enabled(rcfg)) {
		rcfg->on_status = on_store;
		rcfg->ctx = rt->ev;
		if ((rt->rep = replicator_start(rcfg, rt->ds, err,
		    sizeof err)) == NULL)
			return cli_error(EXIT_USAGE, "%s", err);
	}
	/* serve and the console run the dataset's schedules */
	if (rt->schedules && (rt->sched = scheduler_start(rt->eng, rt->ds,
	    rt->ev, err, sizeof err)) == NULL)
		return cli_error(EXIT_SOFTWARE, "%s", err);
	return 0;
}

json_t *
runtime_store_status(void *arg)
{
	struct runtime	*rt = arg;

	return rt->rep != NULL ? replicator_status(rt->rep) : NULL;
}

void
runtime_stop(struct runtime *rt)
{
	scheduler_stop(rt->sched);	/* before the engine it starts on */
	rt->sched = NULL;
	replicator_stop(rt->rep);
	rt->rep = NULL;
	engine_free(rt->eng);
	rt->eng = NULL;
	rxloop_free(rt->loop);
	rt->loop = NULL;
	events_free(rt->ev);
	rt->ev = NULL;
	dataset_close(rt->ds);
	rt->ds = NULL;
	config_free_stations(&rt->stations);
}

int
runtime_start_service(struct runtime *rt, const struct args *a,
    const char *stfile, const char *dir, double start_timeout, double idle,
    struct replicator_config *rcfg, const sigset_t *block)
{
	int	rc;

	if ((rc = runtime_load_stations(rt, stfile)) != 0 ||
	    (rc = runtime_options(a, rt)) != 0)
		return rc;
	rt->schedules = 1;
	rt->idle_timeout = idle;
	pthread_sigmask(SIG_BLOCK, block, NULL);
	signal(SIGPIPE, SIG_IGN);
	return runtime_start(rt, dir, start_timeout, rcfg, NULL, NULL);
}

void
runtime_ws_config(struct runtime *rt, struct wsserver_config *wc)
{
	wc->eng = rt->eng;
	wc->ev = rt->ev;
	wc->ds = rt->ds;
	wc->stations = &rt->stations;
	wc->sched = rt->sched;
	wc->central = rt->rep != NULL ? runtime_store_status : NULL;
	wc->central_ctx = rt;
}
