/*
 * events.h -- the engine's event bus: envelopes and subscribers.
 *
 * Every event is one JSON object {"event":NAME,"timestamp":ISO-8601,
 * "data":{...}} -- the envelope of the WebSocket API -- serialized once, so
 * the JSON-lines writer, the WebSocket server and the console see the same
 * bytes. Subscribers are called synchronously on the emitting thread, in
 * emission order (one lock serializes emitters); they must not block and must
 * not emit from inside the callback.
 */
#ifndef EVENTS_H
#define EVENTS_H

#include <stddef.h>
#include <jansson.h>

struct events;

/* name: event name; data: the "data" object (borrowed, valid during the
 * call); json: the whole envelope, compact, no newline. */
typedef void (*events_fn)(void *ctx, const char *name, const json_t *data,
    const char *json, size_t len);

struct events	*events_new(void);
void		 events_free(struct events *ev);

/* Returns a subscription id (> 0), or -1. */
int		 events_subscribe(struct events *ev, events_fn fn, void *ctx);
/* After return, fn is not running and will not be called again. */
void		 events_unsubscribe(struct events *ev, int id);

/* Emit; steals data (a JSON object; NULL means {}). */
void		 events_emit(struct events *ev, const char *name, json_t *data);
/* The same with data already serialized by the caller: text, tlen bytes,
 * is util_json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER) (a row
 * stored and announced is serialized once); NULL: as events_emit. Steals
 * data. */
void		 events_emit_text(struct events *ev, const char *name,
		    json_t *data, const char *text, size_t tlen);

/* The same envelope around data already serialized: dlen bytes of compact
 * JSON (an object), or NULL for none. For replies assembled from stored
 * text (sessions:list). Malloc'd; caller frees. */
char		*events_envelope_text(const char *name, const char *data,
		    size_t dlen, size_t *len);
/* The envelope text for name/data (borrowed), malloc'd; caller frees. */
char		*events_envelope(const char *name, const json_t *data,
		    size_t *len);

#endif
