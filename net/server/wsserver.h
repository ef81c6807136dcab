/*
 * wsserver.h -- the headless server: one port serving GET /health (JSON),
 * GET /metrics (Prometheus), the WebSocket API at /ws (net/wsapi.h) and
 * the built-in web page at /.
 *
 * It owns its own libwebsockets context and the one thread that services it;
 * every socket is touched only there. The engine's events arrive on the bus
 * (any thread), are serialized once and queued under a lock, and the loop is
 * woken with lws_cancel_service(); it then hands a reference to every
 * client's bounded queue (a client whose queue overflows -- a reader too slow
 * or gone -- is disconnected; the others are unaffected). One lws_write per
 * WRITEABLE callback.
 *
 * GET /metrics: the Prometheus text exposition (net/server/monitor.h),
 * built from the engine's events on the bus and the server's own figures;
 * with a token, only "Authorization: Bearer T" opens it (no ?token=: a
 * scraper keeps it in its configuration, not in a URL that is logged).
 *
 * Listening: the server binds its own sockets to exactly the address asked
 * (a name: every address it resolves to), accepts itself and hands each
 * connection to lws. A non-loopback bound address requires a token
 * (wsserver_start refuses otherwise), checked in constant time from
 * "Authorization: Bearer T" or a "token" query parameter on /ws and /health
 * (the page at / holds nothing secret and passes its own ?token= on); a
 * refused upgrade gets an HTTP status (401 token, 403 Origin, 404 path, 503
 * full) before the close.
 *
 * Browsers: an upgrade carrying an Origin is accepted only from the server's
 * own origin (scheme://the listen host or a bound address:port; with a token
 * also scheme://Host) or one of cfg->origins; clients without Origin
 * (scripts) are not browsers and pass. Cross-site pages get 403.
 *
 * Descriptors: connections are bounded so that RESERVE (64 + 8 per station)
 * of the open-file limit stay free for the engine and the store
 * (wsserver_max_clients says the effective client limit); over it a
 * connection gets a 503 and is closed. On EMFILE a descriptor held back
 * takes the waiting connection to answer it 503; other accept errors pause
 * accepting for 250 ms; either is logged at most once per 10 s.
 * Connections that send no complete request, stay mid-message, or answer no
 * ping within conn_timeout are closed; unmasked client frames close 1002
 * (plain ws: lws 4.1 does not check the mask bit, so the server watches the
 * frame headers of its own sockets as they are read).
 */
#ifndef WSSERVER_H
#define WSSERVER_H

#include <stddef.h>
#include <sys/socket.h>
#include <jansson.h>

struct engine;
struct events;
struct dataset;
struct stations;
struct scheduler;
struct wsserver;

#define WSSERVER_DEFAULT_LISTEN		"127.0.0.1:8001"
#define WSSERVER_MAX_ORIGINS		16
#define WSSERVER_TOKEN_MAX		1024	/* bytes */
#define WSSERVER_TOKEN_MIN		16

struct wsserver_config {
	struct engine		*eng;		/* borrowed, all four */
	struct events		*ev;
	struct dataset		*ds;
	const struct stations	*stations;
	struct scheduler	*sched;		/* borrowed, NULL: none (schedule:*
						   still edits the dataset) */
	const char		*listen;	/* "ADDR:PORT" ("[v6]:PORT"); port
						   0 = any free port */
	const char		*token;		/* NULL: none */
	const char		*tls_cert;	/* PEM paths, both or neither */
	const char		*tls_key;
	const char *const	*origins;	/* more allowed browser origins */
	int			 norigins;
	double			 heartbeat;	/* s between heartbeats (30) */
	int			 max_clients;	/* WebSocket clients (1024) */
	int			 queue_max;	/* messages queued per client (1024) */
	size_t			 queue_bytes;	/* bytes queued per client (4 MiB) */
	double			 conn_timeout;	/* s: request/message completion,
						   ping after silence, close if no
						   pong in as long again (30) */
	double			 probe_interval;/* s between receiver reachability
						   checks for /health (30) */
	/* Optional: the central store's status for /health (a new
	 * reference, or NULL); called on the server's thread, must not
	 * block. */
	json_t			*(*central)(void *ctx);
	void			*central_ctx;
	/*
	 * Optional, for a service manager (serve under systemd): alive()
	 * is called on the loop thread every alive_interval s from a timer
	 * of the loop -- a loop that stalls stops calling it; status() on
	 * the loop thread with the one-line state (net/monitor.h) each time
	 * it changes. Neither may block.
	 */
	void			(*alive)(void *ctx);
	void			(*status)(void *ctx, const char *line);
	void			*service_ctx;
	double			 alive_interval;	/* s; 0: no alive() */
};

/* Parse "ADDR:PORT": addr gets the address (no brackets), *port the port.
 * 0, or -1 with a message. */
int		 wsserver_parse_listen(const char *s, char *addr, size_t len,
		    int *port, char *err, size_t errlen);
/* 1 if addr is a numeric loopback address (127.0.0.0/8, ::1,
 * ::ffff:127.x); names are resolved first (wsserver_resolve). */
int		 wsserver_is_loopback(const char *addr);
int		 wsserver_sa_is_loopback(const struct sockaddr *sa);

#define WSSERVER_MAX_LISTEN	4
struct wsserver_addrs {
	int			n;
	struct sockaddr_storage	a[WSSERVER_MAX_LISTEN];
	socklen_t		len[WSSERVER_MAX_LISTEN];
};
/* Resolve "ADDR:PORT": a numeric address as it is, a name to every address
 * it resolves to (at most WSSERVER_MAX_LISTEN, duplicates dropped). 0, or
 * -1 with a message naming --listen. */
int		 wsserver_resolve(const char *listen, struct wsserver_addrs *out,
		    char *err, size_t errlen);
/* "127.0.0.1:8001" / "[::1]:8001" */
void		 wsserver_format_addr(const struct sockaddr *sa, char *buf,
		    size_t len);
/* Constant-time (in the secret's content) comparison: 1 if equal. */
int		 wsserver_token_equal(const char *secret, const char *given,
		    size_t given_len);

/* The TLS files: regular, readable, a PEM certificate and a PEM key (no
 * passphrase) that match. 0, or -1 with a message naming the flag, the
 * file and the cause. */
int		 wsserver_check_tls(const char *cert, const char *key,
		    char *err, size_t errlen);

/* Bind, start the loop thread. NULL with a message (address in use,
 * non-loopback without a token, TLS files unreadable, ...). */
struct wsserver	*wsserver_start(const struct wsserver_config *cfg, char *err,
		    size_t errlen);
/* The port actually bound (useful with port 0). */
int		 wsserver_port(const struct wsserver *srv);
/* The i-th bound address as "ADDR:PORT" ("[v6]:PORT"); the count. */
int		 wsserver_bound(const struct wsserver *srv, int i, char *buf,
		    size_t len);
/* WebSocket clients accepted at most: --max-clients, or lower when the
 * open-file limit leaves less (then *why says so). */
int		 wsserver_max_clients(const struct wsserver *srv, char *why,
		    size_t len);
/* The one-line state (monitor_status): any thread. */
void		 wsserver_status(struct wsserver *srv, char *buf, size_t len);
/* Graceful end: what is queued is sent (the sessions' final status
 * updates), then every client is closed with 1001; waits up to wait s. */
void		 wsserver_shutdown(struct wsserver *srv, double wait);
/* Disconnect everyone, stop the thread, free. NULL is fine. */
void		 wsserver_stop(struct wsserver *srv);

#endif
