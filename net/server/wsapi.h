/*
 * wsapi.h -- the session:* WebSocket API's message handler: one text message
 * in, engine calls, JSON replies out. It owns the protocol (envelope, event
 * names, payload fields, validation and error codes) and knows nothing of
 * sockets, so unit tests and the fuzzer drive it directly; net/wsserver.c
 * carries its replies and the engine's broadcasts to the clients.
 *
 * Client -> server: {"event": NAME, "data": {...}, "timestamp": ISO-8601}
 * ("data" may be omitted; "timestamp" is ignored). Replies go to the sender
 * only; the engine's own events (session:status_update, session:progress,
 * ...) reach every client through the event bus (wsapi_broadcast()).
 *
 *   ping                                     -> pong (no data)
 *   subscribe {channels?}                    -> subscribed {channels}
 *     (status updates, progress, errors and heartbeats reach every client;
 *     "session:measurement", "receiver:status", "session:missing",
 *     "session:tdoa" or "*" add those per-station events -- the page's
 *     SNR table uses them; session:fix goes to every client)
 *   session:start {session_name, frequency_mhz, duration_seconds, notes?}
 *                                            -> session:started {...,
 *                                               session_token}
 *   session:assign_source {session_id, source_id, session_token?}
 *                                            -> session:source_assigned
 *   session:complete {session_id, frequency_hz, duration_seconds,
 *                     session_token?}        -> session:completed
 *     (queue_position 0: acquiring; N: queued behind another session, the
 *     engine starts it when those before it end; "busy" if the queue is
 *     full)
 *   session:cancel {session_id, reason?, session_token?}
 *                                            -> session:cancelled
 *   session:pause {session_id, session_token?}
 *                                            -> session:paused
 *   session:resume {session_id, session_token?}
 *                                            -> session:resumed
 *     (the reply: {session_id, paused}; every client also gets the
 *     engine's event of the same name, engine_session_pause. Not
 *     acquiring, already paused / not paused: bad_state)
 *   session:get {session_id}                 -> session:status_update
 *   sessions:list {limit?, offset?, before?} -> sessions:list {sessions,
 *                                               total, more}
 *     (newest first, from the dataset's index; limit 1..WSAPI_LIST_MAX,
 *     default WSAPI_LIST_DEFAULT; before: a session id, the page starts
 *     after it -- the last id of the previous page; offset skips more)
 *   session:export {session_id, format?, archive?}
 *                                            -> session:exported {...}
 *     (an ended session as SigMF (store/sigmf.h) under the dataset's
 *     exports/ folder: the reply is sigmf_export's answer -- dir or
 *     archive, collection, recordings with their meta and data paths;
 *     format "sigmf" (default; "arrays" is not built yet), archive true:
 *     one .sigmf tar. Still recording: bad_state)
 *   sources:list                             -> sources:list {sources}
 *   stations:list                            -> stations:list {stations}
 *   schedule:add {name, frequency_mhz, duration_seconds, start_at, every?,
 *                 count?, until?, source?, notes?, group_id?}
 *                                            -> schedule:added {schedule}
 *     (planned sessions, store/schedule.h: name a pattern, "{n}" the
 *     occurrence; start_at and until ISO 8601 UTC or "+N[s|m|h]" from
 *     now, start_at at least SCHEDULER_LEAD_MIN_S ahead; every "15m" or
 *     seconds; source "unknown" (default), a known source's name or id.
 *     Checked by scheduler_check_new, as `schedule add` is)
 *   schedule:list                            -> schedule:list {schedules}
 *     (every schedule with state, next and runs, as schedule_list)
 *   schedule:cancel {schedule_id}            -> schedule:cancelled
 *                                               {schedule_id}
 *     (adding and cancelling wake the running scheduler; its
 *     schedule:run and schedule:error events reach every client)
 *
 * Who may act on a session (assign_source, complete, cancel): the
 * connection that started it, or any client that sends its session_token
 * (a random 128-bit secret in hex, returned only in that session:started
 * reply, compared in constant time; the page keeps it to resume after a
 * reload). Others get "forbidden". The console's operator calls the engine
 * directly and is not subject to this; a session it started has no token,
 * so WebSocket clients may only watch it. Schedules belong to the
 * dataset, not to a connection (like `schedule add|cancel` on the same
 * folder): any client the server admits (off loopback: with the server's
 * token, wsserver.h) may add, list and cancel them. Reading (session:get, the lists,
 * broadcasts, the welcome) stays open to every client and never carries a
 * token: the engine, its snapshots and the dataset never see one.
 *
 * A failed session:* request gets session:error {error, code, field, event};
 * anything else that fails gets error {error, code, field, event} with the
 * text also in a top-level "message" (as the original's generic error).
 * Codes: invalid_json, invalid_frame, unknown_event, unknown_field,
 * missing_field, wrong_type, out_of_range, not_found, bad_state, busy,
 * too_large, io_error, forbidden; and, broadcast by the engine for a
 * failed acquisition, acquisition_failed.
 */
#ifndef WSAPI_H
#define WSAPI_H

#include <stddef.h>
#include <jansson.h>

#define WSAPI_MAX_MESSAGE	(64 * 1024)	/* bytes of one client message */
#define WSAPI_MAX_EVENT		64		/* bytes of an event name */
#define WSAPI_MAX_CHANNELS	32		/* subscribe: channels */
#define WSAPI_LIST_DEFAULT	100		/* sessions:list default limit */
#define WSAPI_LIST_MAX		200		/* ... and its largest */
#define WSAPI_LIST_OFFSET_MAX	1000000000L
#define WSAPI_TOKEN_LEN		32		/* session_token: 128 bits, hex */
#define WSAPI_TOKEN_MAX		64		/* bytes a client may send */
#define WSAPI_WELCOME_MAX	16		/* sessions sent on connect */

struct engine;
struct dataset;
struct stations;
struct scheduler;
struct wsapi;

struct wsapi_config {
	struct engine		*eng;		/* borrowed */
	struct dataset		*ds;		/* borrowed */
	const struct stations	*stations;	/* borrowed */
	struct scheduler	*sched;		/* borrowed; NULL: none to poke */
};

/* One reply to the client that sent the message: a whole envelope, compact
 * (borrowed during the call). */
typedef void (*wsapi_reply_fn)(void *client, const char *json, size_t len);

struct wsapi	*wsapi_new(const struct wsapi_config *cfg);
void		 wsapi_free(struct wsapi *api);

/* Broadcast classes (wsapi_broadcast) and subscriptions (a client's mask). */
#define WSAPI_TO_ALL		0x1u	/* status_update, progress, error */
#define WSAPI_SUB_MEASUREMENTS	0x2u	/* session:measurement */
#define WSAPI_SUB_RECEIVERS	0x4u	/* receiver:status */
#define WSAPI_SUB_MISSING	0x8u	/* session:missing */
#define WSAPI_SUB_TDOA		0x10u	/* session:tdoa */
#define WSAPI_SUB_SPECTRUM	0x20u	/* session:spectrum (by name only,
					   not in "*": a console's spectra) */

/* Handle one text message of len bytes (not NUL-terminated, any bytes).
 * Every reply goes through reply(client, ...); a message always gets at
 * least one reply. client also identifies the connection: the sessions
 * it starts are its own until wsapi_client_gone(). A subscribe adds to
 * *subs (the client's mask, may be NULL). Thread-safe (the engine is). */
void		 wsapi_handle(struct wsapi *api, const char *msg, size_t len,
		    unsigned *subs, wsapi_reply_fn reply, void *client);
/* The connection client has closed: its sessions are no longer its own
 * (only their session_token acts on them), so a later connection given
 * the same pointer inherits nothing. */
void		 wsapi_client_gone(struct wsapi *api, const void *client);

/* What a client that just connected gets: a session:status_update (the
 * engine's snapshot) for each session not yet ended, so a reloaded page
 * resumes. */
void		 wsapi_welcome(struct wsapi *api, wsapi_reply_fn reply,
		    void *client);

/* An error envelope for transport-level problems the server detects itself
 * (binary or oversized frames): event "error". Malloc'd; caller frees. */
char		*wsapi_error_json(const char *code, const char *field,
		    const char *msg, size_t *len);

/* Which clients a bus event goes to: WSAPI_TO_ALL (status updates,
 * progress, engine errors), a WSAPI_SUB_* bit (only clients subscribed to
 * it), or 0: not broadcast (session:started/source_assigned/completed are
 * replies to the requester, built by wsapi_handle). */
unsigned	 wsapi_broadcast(const char *event);

/* Counters for /health. */
struct wsapi_stats {
	int	sessions_active;	/* recording/source_assigned/in_progress */
	int	sessions_acquiring;	/* in_progress */
};
void		 wsapi_stats(struct wsapi *api, struct wsapi_stats *st);

#endif
