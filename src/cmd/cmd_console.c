/* cmd_console.c -- "console" (and no subcommand on a terminal): the ncurses operator console. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cmd/cmd.h"
#include "src/engine/config.h"
#include "src/engine/engine.h"
#include "src/engine/events.h"
#include "src/engine/session.h"
#include "src/cmd/runtime.h"
#include "net/server/wsserver.h"
#include "store/replicator.h"
#include "ui/console.h"

int
cmd_console_no_tty(void)
{
	return cli_error(EXIT_USAGE, "the console needs a terminal (stdin, "
	    "stdout and stderr); without one use \"heimdall-rec record\" for a "
	    "scripted session or \"heimdall-rec serve\" for the WebSocket API "
	    "(see --help)");
}

/* The completion screen's line about the central store. The replicator
 * works oldest session first, so "nothing pending" covers this one. */
static int
store_state(void *ctx, const char *session_id, char *buf, size_t len)
{
	json_t		*st = runtime_store_status(ctx);
	json_int_t	 rows, objects;
	char		 line[2048], *p;

	(void)session_id;
	if (st == NULL)
		return -1;
	rows = json_integer_value(json_object_get(st, "pending_rows"));
	objects = json_integer_value(json_object_get(st, "pending_objects"));
	if (rows == 0 && objects == 0)
		snprintf(buf, len, "everything replicated");
	else {
		/* the line without its "central store: " label */
		cli_store_line(st, line, sizeof line);
		p = strchr(line, ':');
		snprintf(buf, len, "%s", p != NULL ? p + 2 : line);
	}
	json_decref(st);
	return 0;
}

static const struct option console_options[] = {
	{ "stations", required_argument, NULL, 0 },
	{ "data-dir", required_argument, NULL, 0 },
	{ "passband", required_argument, NULL, 0 },
	{ "start-timeout", required_argument, NULL, 0 },
	{ "idle-timeout", required_argument, NULL, 0 },
	{ "listen", required_argument, NULL, 0 },
	{ "token-file", required_argument, NULL, 0 },
	{ "name", required_argument, NULL, 0 },
	{ "freq", required_argument, NULL, 0 },
	{ "duration", required_argument, NULL, 0 },
	{ "notes", required_argument, NULL, 0 },
	{ "group", required_argument, NULL, 0 },
	{ "chunk-ms", required_argument, NULL, 0 },
	REPLICATOR_OPTIONS,
	RUNTIME_OPTIONS,
	{ NULL, 0, NULL, 0 }
};

static int
console_exec(const struct args *a)
{
	struct replicator_config rcfg;
	struct console_config	 cc;
	struct wsserver_config	 wc;
	struct runtime		 rt;
	struct session_params	 pre;		/* --name, --freq, ... */
	struct wsserver		*srv = NULL;
	const char		*stfile, *dir, *listen, *tokfile, *s;
	char			 err[1024], addr[256], *token = NULL;
	char			 notice[600], url[300];
	double			 start_timeout = 5, idle = ENGINE_IDLE_DEFAULT;
	double			 mhz = 0;
	long			 dur = 0;
	int			 rc, low = -SESSION_PASSBAND_DEFAULT;
	int			 high = SESSION_PASSBAND_DEFAULT;
	sigset_t		 set;

	memset(&rt, 0, sizeof rt);
	stfile = args_get(a, "stations");
	dir = args_get(a, "data-dir");
	listen = args_get(a, "listen");
	tokfile = args_get(a, "token-file");
	if ((s = args_get(a, "passband")) != NULL &&
	    cli_parse_passband(s, &low, &high) != 0)
		return EXIT_USAGE;
	/* a session ready to start: the form filled, Start focused */
	session_params_init(&pre);
	if ((rc = cmd_session_options(a, &pre, &mhz, &dur)) != 0)
		return rc;
	pre.freq_hz = mhz * 1e6;
	pre.duration_s = (int)dur;
	if (args_double(a, "start-timeout", 0.1, 60, &start_timeout) != 0 ||
	    args_double(a, "idle-timeout", ENGINE_IDLE_MIN, ENGINE_IDLE_MAX,
	    &idle) != 0)
		return EXIT_USAGE;
	replicator_config_init(&rcfg);
	if ((rc = runtime_store_options(a, &rcfg)) != 0)
		return rc;
	if (replicator_config_check(&rcfg, err, sizeof err) != 0)
		return cli_error(EXIT_USAGE, "%s", err);
	if (listen != NULL) {
		if ((rc = cli_check_listen(listen, tokfile, addr,
		    sizeof addr)) != 0)
			return rc;
	} else if (tokfile != NULL)
		return cli_error(EXIT_USAGE, "--token-file goes with --listen");
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) ||
	    !isatty(STDERR_FILENO))
		return cmd_console_no_tty();

	/* Everything that can go wrong before the screen opens is said on
	 * stderr, as for record. */
	if (tokfile != NULL && (rc = cli_read_token(tokfile, &token)) != 0)
		return rc;
	/* Only the console's thread takes these signals: every thread made
	 * from here on inherits the mask; console_run() unblocks them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	if ((rc = runtime_start_service(&rt, a, stfile, dir, start_timeout,
	    idle, &rcfg, &set)) != 0)
		goto out;
	/* --listen: the WebSocket API of "serve" on the same engine, so a
	 * web page can watch (or run) sessions next to the operator. */
	if (listen != NULL) {
		memset(&wc, 0, sizeof wc);
		runtime_ws_config(&rt, &wc);
		wc.listen = listen;
		wc.token = token;
		if ((srv = wsserver_start(&wc, err, sizeof err)) == NULL) {
			rc = cli_error(EXIT_FAILED, "%s", err);
			goto out;
		}
		/* The address really bound (the port, when 0 was asked). */
		wsserver_bound(srv, 0, addr, sizeof addr);
		snprintf(notice, sizeof notice, "serving on http://%s/ "
		    "(WebSocket ws://%s/ws)", addr, addr);
		snprintf(url, sizeof url, "http://%s/", addr);
	}
	memset(&cc, 0, sizeof cc);
	cc.eng = rt.eng;
	cc.ev = rt.ev;
	cc.ds = rt.ds;
	cc.sched = rt.sched;	/* poked by the schedule screen */
	cc.stations = &rt.stations;
	cc.data_dir = rt.data_dir;
	if (rt.rep != NULL) {
		cc.store_state = store_state;
		cc.store_ctx = &rt;
	}
	cc.notice = srv != NULL ? notice : NULL;
	cc.url = srv != NULL ? url : NULL;
	cc.start_timeout = start_timeout;
	cc.low_cut = low;
	cc.high_cut = high;
	if (args_has(a, "name") || args_has(a, "freq") ||
	    args_has(a, "duration") || args_has(a, "notes") ||
	    args_has(a, "group") || args_has(a, "chunk-ms"))
		cc.preset = &pre;
	if (console_run(&cc, err, sizeof err) != 0)
		rc = cli_error(EXIT_SOFTWARE, "%s", err);
out:
	/* The server first: no client may reach an engine being freed. What
	 * is queued (the last session's final status) goes out, then 1001. */
	wsserver_shutdown(srv, 2);
	wsserver_stop(srv);
	runtime_stop(&rt);
	free(token);
	return rc;
}

const struct cmd_entry cmd_console_entry = {
	.name = "console",
	.args = { .lower = 0, .upper = 0 },
	.options = console_options,
	.usage = "[--stations FILE] [--data-dir DIR] [--name NAME] [--freq MHZ] "
	    "[--duration S] [options]",
	.summary =
	    "The operator console (ncurses): configure, assign source, acquire, "
	    "live.",
	.help =
	    "  --stations FILE      stations file (default "
	    "$XDG_CONFIG_HOME/heimdall-rec/stations.json)\n"
	    "  --data-dir DIR       dataset folder (default "
	    "$XDG_DATA_HOME/heimdall-rec)\n"
	    "  --passband LOW:HIGH  Hz around the frequency (default -5000:5000)\n"
	    "  --start-timeout S    wait this long for every station to stream "
	    "(default 5)\n"
	    "  --idle-timeout S     a session (of a web client) that gets no "
	    "request for S\n"
	    "                       seconds before acquisition ends failed, "
	    "\"abandoned\"\n"
	    "                       (1-86400, default 600)\n"
	    "  --listen ADDR:PORT   also serve the WebSocket API and page of "
	    "\"serve\" here\n"
	    "  --token-file FILE    with --listen: clients must send this token; "
	    "required\n"
	    "                       off loopback\n"
	    "  --name NAME, --freq MHZ, --duration S, --notes TEXT, --group ID,\n"
	    "  --chunk-ms MS        fill the Configure form with these (Start "
	    "focused;\n"
	    "                       chunk length 100-5000 ms, default 1000):\n"
	    "                       a session ready to start (scripts/demo)\n"
	    REPLICATOR_HELP
	    RUNTIME_HELP
	    "\nRuns on a terminal (also in tmux, screen, over SSH); heimdall-rec "
	    "without a\ncommand opens it. Keys are shown on the bottom line; ? or "
	    "F1 lists them.\nNO_COLOR=1 turns colours off.\n",
	.exec = console_exec
};
