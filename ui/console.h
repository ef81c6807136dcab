/*
 * console.h -- the ncurses operator console: configure -> assign source ->
 * confirm -> progress -> complete, driving the engine of src/engine/engine.h.
 *
 * It owns the terminal while it runs, and only renders: the engine's events
 * are copied into a queue by a subscriber (on engine threads; it never
 * blocks) and a pipe wakes the UI thread, the only thread that calls
 * ncurses. Signals (SIGINT, SIGTERM, SIGHUP, SIGWINCH) must be blocked in
 * every other thread before they are created: console_run() unblocks them on
 * its own thread and turns them into wake-ups too. Anything written to
 * stderr while the console runs (library warnings) goes to the event log.
 */
#ifndef CONSOLE_H
#define CONSOLE_H

#include <stddef.h>

struct engine;
struct events;
struct dataset;
struct stations;
struct session_params;
struct scheduler;

struct console_config {
	struct engine		*eng;		/* borrowed */
	struct events		*ev;		/* borrowed */
	struct dataset		*ds;		/* borrowed: sources, schedules */
	struct scheduler	*sched;		/* borrowed, may be NULL: poked
						   when a schedule is added or
						   cancelled */
	const struct stations	*stations;	/* borrowed */
	const char		*data_dir;	/* shown: where data goes */
	int			 low_cut;	/* passband for new sessions */
	int			 high_cut;
	/*
	 * Optional: the central store's state of a session for the
	 * completion screen ("replicated", "12 chunks queued", "error: ...").
	 * Called on the UI thread while drawing: must not block. NULL: the
	 * screen says the central store is not configured.
	 */
	int			(*store_state)(void *ctx,
				    const char *session_id, char *buf,
				    size_t len);
	void			*store_ctx;
	/* NULL, or the Configure form's values at start (name, frequency,
	 * duration, notes), focus on Start: a session ready to start
	 * (scripts/demo, console --name/--freq/--duration/--notes) */
	const struct session_params *preset;
	const char		*notice;	/* NULL, or a line shown under
						   the Configure form and first
						   in the event log (--listen's
						   bound address) */
	const char		*url;		/* NULL, or --listen's page
						   (http://ADDR:PORT/ as bound),
						   shown while acquiring */
	double			 start_timeout;	/* s the engine awaits the
						   receivers (shown while it
						   waits; 0: not shown) */
	double			 grace;		/* s a late chunk is awaited
						   (0: ENGINE_GRACE_DEFAULT) */
};

/* Run until the operator quits, or SIGTERM/SIGHUP (a running session is
 * cancelled, its finished chunks kept). Returns 0, or -1 with err set when
 * the terminal cannot be used. */
int	console_run(const struct console_config *cfg, char *err,
	    size_t errlen);

#endif
