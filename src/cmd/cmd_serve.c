/* cmd_serve.c -- "serve": the engine without a terminal, driven over the WebSocket API (net/wsserver.h). */

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
#include "src/base/sdnotify.h"
#include "src/base/util.h"
#include "net/server/wsserver.h"
#include "src/cmd/runtime.h"
#include "store/replicator.h"
#include "store/dataset.h"

/* Cancel every session not ended yet and wait for each to end. */
static void
cancel_open_sessions(struct engine *eng)
{
	json_t		*all = engine_sessions(eng), *s;
	const char	*id, *st;
	size_t		 i;

	json_array_foreach(all, i, s) {
		id = json_string_value(json_object_get(s, "session_id"));
		st = json_string_value(json_object_get(s, "status"));
		if (id == NULL || st == NULL || strcmp(st, "completed") == 0 ||
		    strcmp(st, "failed") == 0)
			continue;
		if (engine_session_cancel(eng, id, "the recorder is shutting "
		    "down", NULL) == 0)
			engine_session_wait(eng, id);
	}
	json_decref(all);
}

/*
 * Under a service manager (systemd, Type=notify; sdnotify.h): READY=1 once
 * listening, STATUS= the server's one-line state whenever it changes, and
 * WATCHDOG=1 at half of WatchdogSec, from a timer of the server's event
 * loop (wsserver_config.alive): a loop that stalls stops pinging, and
 * systemd restarts the service.
 *
 * Test hook: with HEIMDALL_TEST_STALL=FILE in the environment, the ping
 * blocks the loop for as long as FILE exists -- the loop truly stalls
 * (no HTTP, no WebSocket, no ping), so that a test can see the pings stop
 * and come back.
 */
struct service {
	const char	*stall;		/* HEIMDALL_TEST_STALL */
};

static void
service_alive(void *ctx)
{
	struct service	*svc = ctx;

	while (svc->stall != NULL && access(svc->stall, F_OK) == 0)
		usleep(20000);
	sdnotify_watchdog();
}

static void
service_status(void *ctx, const char *line)
{
	(void)ctx;
	sdnotify_status(line);
}

static const struct option serve_options[] = {
	{ "listen", required_argument, NULL, 0 },
	{ "stations", required_argument, NULL, 0 },
	{ "data-dir", required_argument, NULL, 0 },
	{ "token-file", required_argument, NULL, 0 },
	{ "tls-cert", required_argument, NULL, 0 },
	{ "tls-key", required_argument, NULL, 0 },
	{ "allow-origin", required_argument, NULL, 0 },
	{ "heartbeat", required_argument, NULL, 0 },
	{ "max-clients", required_argument, NULL, 0 },
	{ "client-queue", required_argument, NULL, 0 },
	{ "conn-timeout", required_argument, NULL, 0 },
	{ "start-timeout", required_argument, NULL, 0 },
	{ "idle-timeout", required_argument, NULL, 0 },
	REPLICATOR_OPTIONS,
	RUNTIME_OPTIONS,
	{ NULL, 0, NULL, 0 }
};

static int
serve_exec(const struct args *a)
{
	struct replicator_config rcfg;
	struct wsserver_config	 wc;
	struct runtime		 rt;
	struct wsserver		*srv = NULL;
	struct service		 svc;
	const struct option	*opt;
	const char		*stfile, *dir, *tokfile, *v;
	const char		*origins[WSSERVER_MAX_ORIGINS];
	char			 err[1024], line[SDNOTIFY_STATUS_MAX];
	char			 addr[256], *token = NULL;
	double			 hb = 30, start_timeout = 5, conn_to = 30;
	double			 idle = ENGINE_IDLE_DEFAULT;
	long			 maxc = 1024, queue = 1024;
	int			 rc = 0, norigins = 0, sig = 0, i;
	sigset_t		 set;

	memset(&wc, 0, sizeof wc);
	memset(&rt, 0, sizeof rt);
	wc.listen = WSSERVER_DEFAULT_LISTEN;
	if (args_has(a, "listen"))
		wc.listen = args_get(a, "listen");
	stfile = args_get(a, "stations");
	dir = args_get(a, "data-dir");
	tokfile = args_get(a, "token-file");
	wc.tls_cert = args_get(a, "tls-cert");
	wc.tls_key = args_get(a, "tls-key");
	/* --allow-origin is repeatable: every one, in order */
	for (i = 0; (opt = args_option(a, i, &v)) != NULL; i++) {
		if (strcmp(opt->name, "allow-origin") != 0)
			continue;
		if (norigins == WSSERVER_MAX_ORIGINS)
			return cli_error(EXIT_USAGE, "at most %d --allow-origin",
			    WSSERVER_MAX_ORIGINS);
		if (strncmp(v, "http://", 7) != 0 &&
		    strncmp(v, "https://", 8) != 0)
			return cli_error(EXIT_USAGE, "--allow-origin must be an "
			    "origin like http://host:port (got \"%s\")", v);
		origins[norigins++] = v;
	}
	if (args_double(a, "heartbeat", 0.1, 3600, &hb) != 0 ||
	    args_long(a, "max-clients", 1, 100000, "clients", &maxc) != 0 ||
	    args_long(a, "client-queue", 8, 1000000, "messages",
	    &queue) != 0 ||
	    args_double(a, "conn-timeout", 0.5, 3600, &conn_to) != 0 ||
	    args_double(a, "start-timeout", 0.1, 60, &start_timeout) != 0 ||
	    args_double(a, "idle-timeout", ENGINE_IDLE_MIN, ENGINE_IDLE_MAX,
	    &idle) != 0)
		return EXIT_USAGE;
	replicator_config_init(&rcfg);
	if ((rc = runtime_store_options(a, &rcfg)) != 0)
		return rc;
	if (replicator_config_check(&rcfg, err, sizeof err) != 0)
		return cli_error(EXIT_USAGE, "%s", err);
	if ((rc = cli_check_listen(wc.listen, tokfile, addr,
	    sizeof addr)) != 0)
		return rc;
	if ((wc.tls_cert == NULL) != (wc.tls_key == NULL))
		return cli_error(EXIT_USAGE, "TLS needs both --tls-cert and "
		    "--tls-key");
	/* Configuration files like the token's: 78 with the cause (missing,
	 * a FIFO -- OpenSSL would wait on it for ever --, not PEM, a key for
	 * another certificate); 66 means "no stations file". */
	if (wc.tls_cert != NULL && wsserver_check_tls(wc.tls_cert, wc.tls_key,
	    err, sizeof err) != 0)
		return cli_error(EXIT_CONFIG, "%s", err);
	if (tokfile != NULL && (rc = cli_read_token(tokfile, &token)) != 0)
		return rc;

	/* Started by systemd (NOTIFY_SOCKET): it must hear READY, or it
	 * gives up on the service; say so now rather than at its timeout. */
	memset(&svc, 0, sizeof svc);
	if (sdnotify_open(err, sizeof err) < 0) {
		rc = cli_error(EXIT_FAILED, "%s", err);
		goto out;
	}
	svc.stall = getenv("HEIMDALL_TEST_STALL");

	/* Only the main thread takes these signals (sigwait below). */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if ((rc = runtime_start_service(&rt, a, stfile, dir, start_timeout,
	    idle, &rcfg, &set)) != 0)
		goto out;
	runtime_ws_config(&rt, &wc);
	wc.token = token;
	wc.origins = origins;
	wc.norigins = norigins;
	wc.heartbeat = hb;
	wc.max_clients = (int)maxc;
	wc.queue_max = (int)queue;
	wc.conn_timeout = conn_to;
	wc.service_ctx = &svc;
	wc.status = service_status;
	if ((wc.alive_interval = sdnotify_watchdog_interval()) > 0)
		wc.alive = service_alive;
	if ((srv = wsserver_start(&wc, err, sizeof err)) == NULL) {
		rc = cli_error(EXIT_FAILED, "%s", err);
		goto out;
	}
	if (wsserver_max_clients(srv, err, sizeof err) < maxc)
		fprintf(stderr, "heimdall-rec: %s\n", err);
	/* One line scripts wait for: the addresses and port really bound. */
	wsserver_bound(srv, 0, addr, sizeof addr);
	printf("listening on %s://%s/ (WebSocket %s://%s/ws)",
	    wc.tls_cert ? "https" : "http", addr, wc.tls_cert ? "wss" : "ws",
	    addr);
	for (i = 1; i < wsserver_bound(srv, i, addr, sizeof addr); i++)
		printf(", also %s://%s/", wc.tls_cert ? "https" : "http", addr);
	printf(", %d stations, data %s\n", rt.stations.n, rt.data_dir);
	fflush(stdout);
	wsserver_status(srv, line, sizeof line);
	sdnotify_ready(line);

	for (;;) {
		if (sigwait(&set, &sig) == 0 && (sig == SIGINT ||
		    sig == SIGTERM))
			break;
	}
	fprintf(stderr, "heimdall-rec: %s: stopping (open sessions are "
	    "cancelled, their chunks kept)\n", strsignal(sig));
	sdnotify_stopping("stopping: cancelling open sessions");
	/* Every open session ends now, so that its final status_update
	 * reaches the clients before they are closed (1001). */
	cancel_open_sessions(rt.eng);
	wsserver_shutdown(srv, 3);
	rc = 0;
out:
	/* The server first: no client may reach an engine being freed. */
	wsserver_stop(srv);
	runtime_stop(&rt);
	free(token);
	return rc;
}

const struct cmd_entry cmd_serve_entry = {
	.name = "serve",
	.args = { .lower = 0, .upper = 0 },
	.options = serve_options,
	.usage = "[--listen ADDR:PORT] [--stations FILE] [--data-dir DIR] [options]",
	.summary = "Run headless: the session WebSocket API, /health, /metrics and a web page.",
	.help =
	    "  --listen ADDR:PORT   where to serve (default 127.0.0.1:8001; port 0 "
	    "picks a free one)\n"
	    "  --stations FILE      stations file (default "
	    "$XDG_CONFIG_HOME/heimdall-rec/stations.json)\n"
	    "  --data-dir DIR       dataset folder (default "
	    "$XDG_DATA_HOME/heimdall-rec)\n"
	    "  --token-file FILE    clients must send this token (Authorization: "
	    "Bearer,\n"
	    "                       or ?token=); required off loopback\n"
	    "  --tls-cert FILE      serve https/wss with this PEM certificate...\n"
	    "  --tls-key FILE       ...and this PEM key\n"
	    "  --allow-origin URL   also accept browser pages from this origin, e.g.\n"
	    "                       http://localhost:5173 (repeatable; default: only "
	    "the\n"
	    "                       built-in page)\n"
	    "  --heartbeat S        seconds between heartbeat events (default 30)\n"
	    "  --max-clients N      WebSocket clients at once (default 1024)\n"
	    "  --client-queue N     messages queued per client before it is "
	    "dropped (1024)\n"
	    "  --conn-timeout S     close connections that send no complete "
	    "request or\n"
	    "                       message within S, or answer no ping (default "
	    "30)\n"
	    "  --start-timeout S    wait this long for every station to stream "
	    "(default 5)\n"
	    "  --idle-timeout S     a session that gets no request for S seconds "
	    "before\n"
	    "                       acquisition ends failed, \"abandoned\" "
	    "(1-86400, default 600)\n"
	    REPLICATOR_HELP
	    RUNTIME_HELP
	    "\nPrints \"listening on http://ADDR:PORT/ ...\" once serving; SIGINT or "
	    "SIGTERM\nstop it (exit 0). Exit status: 64 usage, 66 no stations file, "
	    "78 bad\nstations, token or TLS file, 73 data dir, 69 cannot listen (or, "
	    "under systemd,\nlibsystemd.so.0 cannot be loaded).\n"
	    "\nGET /metrics: Prometheus metrics (with a token, from \"Authorization: "
	    "Bearer\"\nonly). Under systemd (the heimdall-rec.service unit, "
	    "Type=notify): READY=1 once\nlistening, STATUS= the session state, "
	    "WATCHDOG=1 from the event loop at half\nof WatchdogSec.\n",
	.exec = serve_exec
};
