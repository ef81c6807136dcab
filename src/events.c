/* events.c -- the event bus: builds envelopes once, calls subscribers in order. */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "util.h"

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
events_envelope(const char *name, const json_t *data, size_t *len)
{
	json_t	*env;
	char	 ts[40], *s;

	util_iso8601(util_now(), ts, sizeof ts);
	env = json_object();
	json_object_set_new(env, "event", json_string(name));
	json_object_set_new(env, "timestamp", json_string(ts));
	json_object_set(env, "data", (json_t *)data);
	/* JSON_PRESERVE_ORDER keeps "event" first: readable JSON lines. */
	s = util_json_dumps(env, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(env);
	if (s != NULL && len != NULL)
		*len = strlen(s);
	return s;
}

void
events_emit(struct events *ev, const char *name, json_t *data)
{
	char	*json;
	size_t	 len = 0;
	int	 i;

	if (data == NULL)
		data = json_object();
	pthread_mutex_lock(&ev->lock);
	json = events_envelope(name, data, &len);
	if (json != NULL) {
		for (i = 0; i < ev->nsubs; i++)
			ev->subs[i].fn(ev->subs[i].ctx, name, data, json, len);
	}
	pthread_mutex_unlock(&ev->lock);
	free(json);
	json_decref(data);
}
