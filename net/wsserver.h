/*
 * wsserver.h -- the headless server: one port serving GET /health (JSON),
 * the WebSocket API at /ws (net/wsapi.h) and the built-in web page at /.
 *
 * It owns its own libwebsockets context and the one thread that services it;
 * every socket is touched only there. The engine's events arrive on the bus
 * (any thread), are serialized once and queued under a lock, and the loop is
 * woken with lws_cancel_service(); it then hands a reference to every
 * client's bounded queue (a client whose queue overflows -- a reader too slow
 * or gone -- is disconnected; the others are unaffected). One lws_write per
 * WRITEABLE callback.
 *
 * Security: a non-loopback address requires a token (wsserver_start refuses
 * otherwise), checked in constant time from "Authorization: Bearer T" or a
 * "token" query parameter on /ws and /health (the page at / holds nothing
 * secret and passes its own ?token= on). Optional TLS and Origin allow-list.
 */
#ifndef WSSERVER_H
#define WSSERVER_H

#include <stddef.h>
#include <jansson.h>

struct engine;
struct events;
struct dataset;
struct stations;
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
	const char		*listen;	/* "ADDR:PORT" ("[v6]:PORT"); port
						   0 = any free port */
	const char		*token;		/* NULL: none */
	const char		*tls_cert;	/* PEM paths, both or neither */
	const char		*tls_key;
	const char *const	*origins;	/* allow-list; NULL/0: any */
	int			 norigins;
	double			 heartbeat;	/* s between heartbeats (30) */
	int			 max_clients;	/* WebSocket clients (1024) */
	int			 queue_max;	/* messages queued per client (1024) */
	size_t			 queue_bytes;	/* bytes queued per client (4 MiB) */
	double			 probe_interval;/* s between receiver reachability
						   checks for /health (30) */
	/* Optional: the central store's status for /health (a new
	 * reference, or NULL); called on the server's thread, must not
	 * block. */
	json_t			*(*central)(void *ctx);
	void			*central_ctx;
};

/* Parse "ADDR:PORT": addr gets the address (no brackets), *port the port.
 * 0, or -1 with a message. */
int		 wsserver_parse_listen(const char *s, char *addr, size_t len,
		    int *port, char *err, size_t errlen);
/* 1 if addr is a loopback address (127.0.0.0/8, ::1, localhost). */
int		 wsserver_is_loopback(const char *addr);
/* Constant-time (in the secret's content) comparison: 1 if equal. */
int		 wsserver_token_equal(const char *secret, const char *given,
		    size_t given_len);

/* Bind, start the loop thread. NULL with a message (address in use,
 * non-loopback without a token, TLS files unreadable, ...). */
struct wsserver	*wsserver_start(const struct wsserver_config *cfg, char *err,
		    size_t errlen);
/* The port actually bound (useful with port 0). */
int		 wsserver_port(const struct wsserver *srv);
/* Disconnect everyone, stop the thread, free. NULL is fine. */
void		 wsserver_stop(struct wsserver *srv);

#endif
