/* events.c -- the event bus: builds envelopes once, calls subscribers in order. */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "src/engine/events.h"
#include "src/base/util.h"

#define EVENTS_MAX_SUBS	64

struct sub {
	int		 id;
	events_fn	 fn;
	void		*ctx;
};

struct events {
	/* One lock for emitting and (un)subscribing: delivery order is
	 * emission order, and unsubscribe waits out a running callback. */
	pthread_mutex_t	 lock;
	struct sub	 subs[EVENTS_MAX_SUBS];
	int		 nsubs;
	int		 next_id;
};

struct events *
events_new(void)
{
	struct events	*ev;

	ev = calloc(1, sizeof *ev);
	if (ev == NULL)
		return NULL;
	pthread_mutex_init(&ev->lock, NULL);
	ev->next_id = 1;
	return ev;
}

void
events_free(struct events *ev)
{
	if (ev == NULL)
		return;
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}

int
events_subscribe(struct events *ev, events_fn fn, void *ctx)
{
	int	id = -1;

	pthread_mutex_lock(&ev->lock);
	if (ev->nsubs < EVENTS_MAX_SUBS) {
		id = ev->next_id++;
		ev->subs[ev->nsubs++] = (struct sub){ id, fn, ctx };
	}
	pthread_mutex_unlock(&ev->lock);
	return id;
}

void
events_unsubscribe(struct events *ev, int id)
{
	int	i;

	pthread_mutex_lock(&ev->lock);
	for (i = 0; i < ev->nsubs; i++) {
		if (ev->subs[i].id == id) {
			memmove(&ev->subs[i], &ev->subs[i + 1],
			    (size_t)(ev->nsubs - i - 1) * sizeof ev->subs[0]);
			ev->nsubs--;
			break;
		}
	}
	pthread_mutex_unlock(&ev->lock);
}

char *
events_envelope_text(const char *name, const char *data, size_t dlen,
    size_t *len)
{
	char		 ts[40], head[160], *s;
	const char	*c;
	int		 n;

	/* "event" first: readable JSON lines. Names are the API's own
	 * identifiers (no quoting needed); the data is already JSON. */
	for (c = name; *c != '\0'; c++)
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20)
			return NULL;
	util_iso8601(util_now(), ts, sizeof ts);
	n = snprintf(head, sizeof head, "{\"event\":\"%s\",\"timestamp\":"
	    "\"%s\"%s", name, ts, data != NULL ? ",\"data\":" : "}");
	if (n < 0 || (size_t)n >= sizeof head ||
	    (s = malloc((size_t)n + dlen + 2)) == NULL)
		return NULL;
	memcpy(s, head, (size_t)n);
	if (data != NULL) {
		memcpy(s + n, data, dlen);
		s[n + dlen] = '}';
		n += (int)dlen + 1;
	}
	s[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
	return s;
}

char *
events_envelope(const char *name, const json_t *data, size_t *len)
{
	char	*d = NULL, *s;

	if (data != NULL &&
	    (d = util_json_dumps(data, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_ENCODE_ANY)) == NULL)
		return NULL;
	s = events_envelope_text(name, d, d != NULL ? strlen(d) : 0, len);
	free(d);
	return s;
}

/* Under ev->lock: json (the envelope) to every subscriber. */
static void
deliver(struct events *ev, const char *name, const json_t *data,
    const char *json, size_t len)
{
	int	i;

	for (i = 0; json != NULL && i < ev->nsubs; i++)
		ev->subs[i].fn(ev->subs[i].ctx, name, data, json, len);
}

void
events_emit_text(struct events *ev, const char *name, json_t *data,
    const char *text, size_t tlen)
{
	char	*json;
	size_t	 len = 0;

	if (text == NULL) {	/* the caller could not serialize it */
		events_emit(ev, name, data);
		return;
	}
	pthread_mutex_lock(&ev->lock);
	json = events_envelope_text(name, text, tlen, &len);
	deliver(ev, name, data, json, len);
	pthread_mutex_unlock(&ev->lock);
	free(json);
	json_decref(data);
}

void
events_emit(struct events *ev, const char *name, json_t *data)
{
	char	*json;
	size_t	 len = 0;

	if (data == NULL)
		data = json_object();
	pthread_mutex_lock(&ev->lock);
	json = events_envelope(name, data, &len);
	deliver(ev, name, data, json, len);
	pthread_mutex_unlock(&ev->lock);
	free(json);
	json_decref(data);
}
