/*
 * runtime.h -- what every front-end that records (record, serve, console)
 * sets up and tears down the same way: the stations file, the dataset, the
 * event bus, the receiver loop, the engine, and -- when --db/--s3 (or
 * DATABASE_URL) ask for it -- the central store's replicator, whose status
 * goes out on the bus as "store:status".
 *
 * Errors are said on stderr (cli_error) and returned as the command's exit
 * status, so a front-end only passes them on.
 */
#ifndef RUNTIME_H
#define RUNTIME_H

#include <jansson.h>
#include <signal.h>

#include "src/engine/config.h"
#include "src/engine/events.h"

struct dataset;
struct rxloop;
struct engine;
struct replicator;
struct replicator_config;
struct args;
struct scheduler;
struct wsserver_config;

struct runtime {
	struct stations		 stations;
	struct dataset		*ds;
	struct events		*ev;
	struct rxloop		*loop;
	struct engine		*eng;
	struct replicator	*rep;		/* NULL: no central store */
	double			 idle_timeout;	/* the engine's (0: default);
						   set between load_stations
						   and start */
	int			 replay;	/* import: the engine's replay
						   mode (engine.h), from */
	double			 replay_origin;	/* this origin (UTC s); set
						   between load_stations and
						   start */
	char			 data_dir[4096];	/* the dataset's path */
	char			 recorder_host[256];	/* the engine's ("": the
						   host name); set between
						   load_stations and start */
	double			 start_at;	/* record --at: UTC s of chunk
						   0 (0: as soon as the
						   receivers stream) */
	int			 schedules;	/* run the dataset's schedules
						   (serve, console): set
						   before start */
	struct scheduler	*sched;
};

/* --recorder-host NAME, for the entries whose table has RUNTIME_OPTIONS. */
#define RUNTIME_OPTIONS \
	{ "recorder-host", required_argument, NULL, 0 }
#define RUNTIME_HELP \
	"  --recorder-host NAME the name this recorder's sessions carry (the\n" \
	"                       manifest's and the central store's\n" \
	"                       recorder_host; default the host name)\n"
/* RUNTIME_OPTIONS given in a (after runtime_load_stations) into rt: 0, or
 * EXIT_USAGE after a message. */
int	runtime_options(const struct args *a, struct runtime *rt);

/* The central store's options among those given (REPLICATOR_OPTIONS in
 * the entry's table; the others are not the store's and are skipped) into
 * c: 0, or EXIT_USAGE after a message naming the flag. */
int	runtime_store_options(const struct args *a,
	    struct replicator_config *c);
/* Zero rt, then load the stations file (NULL: the default path). 0, or the
 * exit status (66 missing, 78 invalid, 64 no default) after a message. */
int	runtime_load_stations(struct runtime *rt, const char *path);
/*
 * Open the dataset (dir NULL: the default) and the bus -- subscribing sub
 * (may be NULL) first, so that it sees every event -- then the loop, the
 * engine, and the replicator when rcfg (may be NULL) enables it. Signals
 * must already be blocked as the caller wants them in every thread made
 * here. 0, or the exit status after a message; runtime_stop() cleans up
 * either way.
 */
int	runtime_start(struct runtime *rt, const char *dir,
	    double start_timeout, struct replicator_config *rcfg,
	    events_fn sub, void *subctx);
/*
 * serve and console, which start alike: the stations file (NULL: the
 * default) and RUNTIME_OPTIONS into rt, which runs the dataset's schedules
 * and ends a client's session idle for idle s; the signals of block
 * blocked in this thread and so in every thread made from here on (the
 * caller alone takes them: sigwait, the console's loop); SIGPIPE ignored (a
 * peer gone mid-write is an error return, not the end of the process);
 * then runtime_start() without a subscriber. 0, or the exit status after a
 * message; runtime_stop() cleans up either way.
 */
int	runtime_start_service(struct runtime *rt, const struct args *a,
	    const char *stfile, const char *dir, double start_timeout,
	    double idle, struct replicator_config *rcfg,
	    const sigset_t *block);
/* The engine side of a WebSocket server's configuration from a started
 * rt (the rest of wc is left as it is). */
void	runtime_ws_config(struct runtime *rt, struct wsserver_config *wc);
/* The central store's status (new reference), or NULL without one. rt is
 * a struct runtime: void so that it serves as wsserver's "central"
 * callback as it is. */
json_t	*runtime_store_status(void *rt);
/* Stop and free in reverse order (a session acquiring is cancelled, its
 * chunks kept); safe on a partly started runtime. */
void	runtime_stop(struct runtime *rt);

#endif
