/* wsapi.c -- the session:* WebSocket API: validate a message, call the engine, build the replies. */

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/server/wsapi.h"
#include "src/engine/config.h"
#include "src/engine/engine.h"
#include "src/engine/events.h"
#include "src/engine/scheduler.h"
#include "src/engine/session.h"
#include "src/base/util.h"
#include "store/dataset.h"
#include "store/sigmf.h"
#include "store/arrays.h"
#include "store/schedule.h"

/*
 * A session started over this API and not yet seen ended: who may act on
 * it (wsapi.h). The engine never sees the secret, so no snapshot, event or
 * manifest can carry it.
 */
struct owner {
	char		 id[UTIL_UUID_LEN];
	char		 token[WSAPI_TOKEN_LEN + 1];
	const void	*client;	/* the connection that started it */
	int		 gone;		/* ... has disconnected */
};

struct wsapi {
	struct wsapi_config	cfg;
	pthread_mutex_t		lock;		/* owners */
	struct owner		*owners;
	size_t			 nowners, cowners;
};

/* One request being handled. */
struct req {
	struct wsapi	*api;
	const char	*event;		/* "" until known */
	json_t		*data;		/* borrowed */
	wsapi_reply_fn	 reply;
	void		*client;
	unsigned	*subs;
};

void	wsapi_stats(struct wsapi *, struct wsapi_stats *);

struct wsapi *
wsapi_new(const struct wsapi_config *cfg)
{
	struct wsapi	*api = calloc(1, sizeof *api);
	json_t		*page;
	size_t		 total;
	int		 more;

	if (api != NULL) {
		api->cfg = *cfg;
		pthread_mutex_init(&api->lock, NULL);
		/* The dataset builds its session index on the first listing
		 * (it reads every session's folder): now, at start, rather
		 * than in a client's request on the network thread. */
		if (cfg->ds != NULL && dataset_sessions_page(cfg->ds, NULL, 0,
		    0, &page, &total, &more) == 0)
			json_decref(page);
	}
	return api;
}

void
wsapi_free(struct wsapi *api)
{
	if (api == NULL)
		return;
	free(api->owners);
	pthread_mutex_destroy(&api->lock);
	free(api);
}

static void
send_env(struct req *r, const char *name, const json_t *data)
{
	size_t	 len;
	char	*s = events_envelope(name, data, &len);

	if (s != NULL) {
		r->reply(r->client, s, len);
		free(s);
	}
}

char *
wsapi_error_json(const char *code, const char *field, const char *msg,
    size_t *len)
{
	json_t	*env;
	char	 ts[40], *s;

	util_iso8601(util_now(), ts, sizeof ts);
	env = json_object();
	json_object_set_new(env, "event", json_string("error"));
	json_object_set_new(env, "timestamp", json_string(ts));
	json_object_set_new(env, "message", json_string(msg));
	json_object_set_new(env, "data", json_pack("{s:s, s:s, s:s}",
	    "error", msg, "code", code, "field", field));
	s = util_json_dumps(env, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(env);
	if (s != NULL && len != NULL)
		*len = strlen(s);
	return s;
}

/*
 * Reply with an error: session:error for a session:* request (what the
 * original page listens to), else the generic "error". The text is also the
 * original's "error" field; "code" and "field" are what scripts test.
 */
static void
fail(struct req *r, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
fail(struct req *r, const char *code, const char *field, const char *fmt, ...)
{
	char		 msg[600];
	va_list		 ap;
	json_t		*d, *env, *sid;
	char		 ts[40], *s;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	d = json_pack("{s:s, s:s, s:s, s:s}", "error", msg, "code", code,
	    "field", field, "event", r->event);
	if (r->data != NULL && (sid = json_object_get(r->data, "session_id")) !=
	    NULL && json_is_string(sid) && util_is_uuid(json_string_value(sid)))
		json_object_set(d, "session_id", sid);
	if (strncmp(r->event, "session:", 8) == 0) {
		send_env(r, "session:error", d);
		json_decref(d);
		return;
	}
	util_iso8601(util_now(), ts, sizeof ts);
	env = json_object();
	json_object_set_new(env, "event", json_string("error"));
	json_object_set_new(env, "timestamp", json_string(ts));
	json_object_set_new(env, "message", json_string(msg));
	json_object_set_new(env, "data", d);
	s = util_json_dumps(env, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(env);
	if (s != NULL) {
		r->reply(r->client, s, strlen(s));
		free(s);
	}
}

static void
fail_session(struct req *r, const struct session_error *e)
{
	fail(r, e->code != NULL ? e->code : "invalid", e->field, "%s", e->msg);
}

/* ---- field validation ---- */

enum ftype { F_STR, F_NUM, F_INT, F_ARR, F_BOOL, F_STRNUM };

struct fspec {
	const char	*name;
	enum ftype	 type;
	int		 required;
	size_t		 max;		/* F_STR: bytes */
};

static const char *
type_word(enum ftype t)
{
	switch (t) {
	case F_STR:
		return "a string";
	case F_NUM:
		return "a number";
	case F_INT:
		return "a whole number";
	case F_BOOL:
		return "true or false";
	case F_STRNUM:
		return "a string or a number";
	default:
		return "an array";
	}
}

/*
 * Every key of data must be in spec (a typo must not pass silently), every
 * required one present, every present one of its type and size. null counts
 * as absent for optional fields (JavaScript clients send it for "no value").
 */
static int
check_fields(struct req *r, const struct fspec *spec, int n)
{
	const char	*key;
	json_t		*v;
	int		 i;

	json_object_foreach(r->data, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(spec[i].name, key) == 0)
				break;
		if (i == n) {
			fail(r, "unknown_field", strlen(key) < 64 ? key : "",
			    "unknown field \"%.64s\" in %s", key, r->event);
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		v = json_object_get(r->data, spec[i].name);
		if (v == NULL || (json_is_null(v) && !spec[i].required)) {
			if (spec[i].required) {
				fail(r, "missing_field", spec[i].name,
				    "%s is required in %s", spec[i].name,
				    r->event);
				return -1;
			}
			continue;
		}
		switch (spec[i].type) {
		case F_STR:
			if (!json_is_string(v))
				goto wrong;
			if (spec[i].max > 0 &&
			    json_string_length(v) > spec[i].max) {
				fail(r, "too_large", spec[i].name,
				    "%s is longer than %zu bytes", spec[i].name,
				    spec[i].max);
				return -1;
			}
			/* Strings reach C code as NUL-terminated. */
			if (strlen(json_string_value(v)) !=
			    json_string_length(v)) {
				fail(r, "out_of_range", spec[i].name,
				    "%s must not contain NUL characters",
				    spec[i].name);
				return -1;
			}
			break;
		case F_NUM:
		case F_INT:
			if (!json_is_number(v))
				goto wrong;
			break;
		case F_ARR:
			if (!json_is_array(v))
				goto wrong;
			break;
		case F_BOOL:
			if (!json_is_boolean(v))
				goto wrong;
			break;
		case F_STRNUM:
			if (!json_is_number(v) && !(json_is_string(v) &&
			    json_string_length(v) <= spec[i].max &&
			    strlen(json_string_value(v)) ==
			    json_string_length(v)))
				goto wrong;
			break;
		}
	}
	return 0;
wrong:
	fail(r, "wrong_type", spec[i].name, "%s must be %s", spec[i].name,
	    type_word(spec[i].type));
	return -1;
}

static const char *
sget(struct req *r, const char *k)
{
	return json_string_value(json_object_get(r->data, k));
}

/* A whole number in [lo, hi] (5 and 5.0 alike), else out_of_range. */
static int
whole(struct req *r, const char *k, long lo, long hi, const char *what,
    long *out)
{
	double	v = json_number_value(json_object_get(r->data, k));

	if (!isfinite(v) || v != floor(v) || v < (double)lo ||
	    v > (double)hi) {
		fail(r, "out_of_range", k, "%s must be a whole number of %s "
		    "from %ld to %ld (got %g)", k, what, lo, hi, v);
		return -1;
	}
	*out = (long)v;
	return 0;
}

/* An optional whole number (check_fields saw a number or nothing): *out
 * untouched when absent or null, else as whole(). */
static int
opt_whole(struct req *r, const char *k, long lo, long hi, const char *what,
    long *out)
{
	json_t	*v = json_object_get(r->data, k);

	if (v == NULL || json_is_null(v))
		return 0;
	return whole(r, k, lo, hi, what, out);
}

/* A required id field (check_fields saw a string): its value, or NULL once
 * the client was told "K must be a UUID<hint>". */
static const char *
uuid_field(struct req *r, const char *k, const char *hint)
{
	const char	*id = sget(r, k);

	if (!util_is_uuid(id)) {
		fail(r, "out_of_range", k, "%s must be a UUID%s", k, hint);
		return NULL;
	}
	return id;
}

/* frequency_mhz: a positive number of MHz up to SESSION_FREQ_MHZ_MAX. */
static int
mhz_field(struct req *r, double *out)
{
	double	mhz = json_number_value(json_object_get(r->data,
		    "frequency_mhz"));

	if (!isfinite(mhz) || mhz <= 0 || mhz > SESSION_FREQ_MHZ_MAX) {
		fail(r, "out_of_range", "frequency_mhz", "frequency_mhz must be "
		    "a positive number of MHz up to %.0f (got %g)",
		    SESSION_FREQ_MHZ_MAX, mhz);
		return -1;
	}
	*out = mhz;
	return 0;
}

/* An optional chunk_ms: 0 and *out untouched when absent; a whole number
 * otherwise (its range and the duration's fit are session_validate's, the
 * one check; a huge value is clamped, still out of it). */
static int
chunk_ms_field(struct req *r, int *out)
{
	json_t	*j = json_object_get(r->data, "chunk_ms");
	double	 v;

	if (j == NULL || json_is_null(j))
		return 0;
	v = json_number_value(j);
	if (!json_is_number(j) || !isfinite(v) || v != floor(v)) {
		fail(r, "wrong_type", "chunk_ms", "chunk_ms must be a whole "
		    "number of milliseconds");
		return -1;
	}
	*out = (int)fmax(-1e9, fmin(1e9, v));
	return 0;
}

/* ---- who may act on a session ---- */

/* Completed or failed: nothing can act on it any more. Any other status
 * -- including one added later -- is protected. */
static int
ended_status(const char *st)
{
	return st != NULL && (strcmp(st, "completed") == 0 ||
	    strcmp(st, "failed") == 0);
}

/* Under api->lock. */
static struct owner *
owner_find(struct wsapi *api, const char *id)
{
	size_t	i;

	for (i = 0; i < api->nowners; i++)
		if (strcmp(api->owners[i].id, id) == 0)
			return &api->owners[i];
	return NULL;
}

/*
 * Record who started session id; entries of sessions that have ended (or
 * that the engine forgot) go first, so the table stays as small as the
 * number of open sessions. 0, or -1 (out of memory).
 */
static int
owner_add(struct wsapi *api, const char *id, const char *token,
    const void *client)
{
	json_t		*all, *s;
	struct owner	*o, *nv;
	const char	*sid;
	size_t		 i, j;
	int		 live, rc = 0;

	all = engine_sessions(api->cfg.eng);
	pthread_mutex_lock(&api->lock);
	for (i = 0; i < api->nowners; ) {
		live = 0;
		json_array_foreach(all, j, s) {
			sid = json_string_value(json_object_get(s,
			    "session_id"));
			if (sid != NULL && strcmp(sid, api->owners[i].id) == 0)
				live = !ended_status(json_string_value(
				    json_object_get(s, "status")));
		}
		if (!live && strcmp(api->owners[i].id, id) != 0)
			api->owners[i] = api->owners[--api->nowners];
		else
			i++;
	}
	if (api->nowners == api->cowners) {
		nv = realloc(api->owners, (api->cowners * 2 + 16) * sizeof *nv);
		if (nv == NULL) {
			rc = -1;
			goto out;
		}
		api->owners = nv;
		api->cowners = api->cowners * 2 + 16;
	}
	o = &api->owners[api->nowners++];
	memset(o, 0, sizeof *o);
	snprintf(o->id, sizeof o->id, "%s", id);
	snprintf(o->token, sizeof o->token, "%s", token);
	o->client = client;
out:
	pthread_mutex_unlock(&api->lock);
	json_decref(all);
	return rc;
}

void
wsapi_client_gone(struct wsapi *api, const void *client)
{
	size_t	i;

	pthread_mutex_lock(&api->lock);
	for (i = 0; i < api->nowners; i++)
		if (api->owners[i].client == client)
			api->owners[i].gone = 1;
	pthread_mutex_unlock(&api->lock);
}

/*
 * May the sender act on (assign, acquire, cancel) session id? Yes if its
 * connection started it, or it sends the session's session_token. Else a
 * forbidden reply and 0. Malformed ids and sessions the engine does not
 * know or that have ended pass: the engine's own answer (out_of_range,
 * not_found, bad_state) follows, and no action can succeed on them.
 */
static int
may_act(struct req *r, const char *id)
{
	const char	*tok = sget(r, "session_token");
	struct owner	*o;
	json_t		*snap;
	int		 ok = 0, ended;

	if (!util_is_uuid(id) || (snap = engine_session_snapshot(
	    r->api->cfg.eng, id)) == NULL)
		return 1;
	ended = ended_status(json_string_value(json_object_get(snap,
	    "status")));
	json_decref(snap);
	if (ended)
		return 1;
	pthread_mutex_lock(&r->api->lock);
	if ((o = owner_find(r->api, id)) != NULL) {
		if (!o->gone && o->client == r->client)
			ok = 1;
		/* Every request's token is compared, in constant time. */
		if (tok != NULL && util_secret_equal(o->token, tok,
		    strlen(tok)))
			ok = 1;
	}
	pthread_mutex_unlock(&r->api->lock);
	if (!ok)
		fail(r, "forbidden", tok != NULL ? "session_token" :
		    "session_id", "session %s %s: only the connection that "
		    "started it, or a client sending its session_token, may "
		    "act on it", id, tok != NULL ? "has another session_token" :
		    "was not started by this connection");
	return ok;
}

/* ---- events ---- */

static void
ev_ping(struct req *r)
{
	if (check_fields(r, NULL, 0) != 0)
		return;
	send_env(r, "pong", NULL);
}

static unsigned
channel_bits(const char *ch)
{
	if (strcmp(ch, "*") == 0)
		return WSAPI_SUB_MEASUREMENTS | WSAPI_SUB_RECEIVERS |
		    WSAPI_SUB_MISSING | WSAPI_SUB_TDOA;
	if (strcmp(ch, "session:measurement") == 0)
		return WSAPI_SUB_MEASUREMENTS;
	if (strcmp(ch, "receiver:status") == 0)
		return WSAPI_SUB_RECEIVERS;
	if (strcmp(ch, "session:missing") == 0)
		return WSAPI_SUB_MISSING;
	if (strcmp(ch, "session:tdoa") == 0)
		return WSAPI_SUB_TDOA;
	if (strcmp(ch, "session:spectrum") == 0)
		return WSAPI_SUB_SPECTRUM;
	return 0;
}

static void
ev_subscribe(struct req *r)
{
	static const struct fspec spec[] = {
		{ "channels", F_ARR, 0, 0 },
		{ "events", F_ARR, 0, 0 },
	};
	json_t	*ch, *v, *out;
	size_t	 i;

	if (check_fields(r, spec, 2) != 0)
		return;
	ch = json_object_get(r->data, "channels");
	if (ch == NULL || json_is_null(ch))
		ch = json_object_get(r->data, "events");
	out = json_array();
	if (ch != NULL && json_is_array(ch)) {
		if (json_array_size(ch) > WSAPI_MAX_CHANNELS) {
			json_decref(out);
			fail(r, "too_large", "channels", "at most %d channels",
			    WSAPI_MAX_CHANNELS);
			return;
		}
		json_array_foreach(ch, i, v) {
			if (!json_is_string(v) || json_string_length(v) >
			    WSAPI_MAX_EVENT) {
				json_decref(out);
				fail(r, "wrong_type", "channels", "channels "
				    "must be strings of at most %d bytes",
				    WSAPI_MAX_EVENT);
				return;
			}
			json_array_append(out, v);
			if (r->subs != NULL)
				*r->subs |= channel_bits(json_string_value(v));
		}
	}
	/* Status updates and progress reach every client anyway: other
	 * channels are echoed for the original client. */
	v = json_pack("{s:o}", "channels", out);
	send_env(r, "subscribed", v);
	json_decref(v);
}

static void
ev_start(struct req *r)
{
	static const struct fspec spec[] = {
		{ "session_name", F_STR, 1, SESSION_NAME_MAX },
		{ "frequency_mhz", F_NUM, 1, 0 },
		{ "duration_seconds", F_INT, 1, 0 },
		{ "notes", F_STR, 0, SESSION_NOTES_MAX },
		{ "group_id", F_STR, 0, SESSION_GROUP_MAX },
		{ "exclude", F_ARR, 0, 0 },
		{ "chunk_ms", F_INT, 0, 0 },
	};
	struct session_params	 p;
	struct session_error	 e;
	char			 id[37], tok[WSAPI_TOKEN_LEN + 1];
	const char		*notes, *group, **names = NULL;
	double			 mhz;
	long			 dur;
	json_t			*d, *snap, *ex, *x;
	size_t			 i;
	int			 rc;

	if (check_fields(r, spec, sizeof spec / sizeof spec[0]) != 0)
		return;
	if (mhz_field(r, &mhz) != 0)
		return;
	if (whole(r, "duration_seconds", SESSION_DURATION_MIN,
	    SESSION_DURATION_MAX, "seconds", &dur) != 0)
		return;
	session_params_init(&p);
	snprintf(p.name, sizeof p.name, "%s", sget(r, "session_name"));
	notes = sget(r, "notes");
	snprintf(p.notes, sizeof p.notes, "%s", notes != NULL ? notes : "");
	group = sget(r, "group_id");	/* checked by the engine's validation */
	snprintf(p.group, sizeof p.group, "%s", group != NULL ? group : "");
	p.freq_hz = mhz * 1e6;
	p.duration_s = (int)dur;
	if (chunk_ms_field(r, &p.chunk_ms) != 0)
		return;
	/* Stations the client leaves out, by name: strings here; which
	 * names are stations, and that one is left, the engine's validation
	 * says (session_check_exclude). */
	ex = json_object_get(r->data, "exclude");
	if (ex != NULL && json_is_array(ex) && json_array_size(ex) > 0) {
		if (json_array_size(ex) > SESSION_EXCLUDE_MAX) {
			fail(r, "too_large", "exclude", "exclude holds at most "
			    "%d names", SESSION_EXCLUDE_MAX);
			return;
		}
		names = calloc(json_array_size(ex), sizeof *names);
		if (names == NULL) {
			fail(r, "io_error", "", "out of memory");
			return;
		}
		json_array_foreach(ex, i, x) {
			if (!json_is_string(x) || strlen(json_string_value(x))
			    != json_string_length(x)) {
				free(names);
				fail(r, "wrong_type", "exclude", "exclude must "
				    "be an array of station names (strings)");
				return;
			}
			names[i] = json_string_value(x);
		}
		p.exclude = names;
		p.nexclude = (int)json_array_size(ex);
	}
	/* The engine bounds the open sessions (ENGINE_MAX_OPEN): at the
	 * limit it ends the one idle longest, so abandoned sessions cannot
	 * lock the server out. */
	if (util_random_hex(tok, WSAPI_TOKEN_LEN / 2) != 0) {
		free(names);
		fail(r, "io_error", "", "no random bytes for the session's "
		    "secret: %s", strerror(errno));
		return;
	}
	rc = engine_session_start(r->api->cfg.eng, &p, id, &e);
	free(names);		/* read by the call only */
	p.exclude = NULL;
	p.nexclude = 0;
	if (rc != 0) {
		fail_session(r, &e);
		return;
	}
	if (owner_add(r->api, id, tok, r->client) != 0) {
		/* Nobody could act on it: do not leave it open. */
		engine_session_cancel(r->api->cfg.eng, id, "out of memory", &e);
		fail(r, "io_error", "", "out of memory");
		return;
	}
	/* The secret goes to the requester only (this reply is not
	 * broadcast: wsapi_broadcast). */
	d = json_pack("{s:s, s:s, s:s, s:f, s:i, s:i, s:i, s:s, s:s*, s:s}",
	    "session_id", id, "session_name", p.name, "status", "recording",
	    "frequency_mhz", mhz, "duration_seconds", p.duration_s,
	    "chunk_ms", p.chunk_ms, "total_chunks", session_total_chunks(&p),
	    "notes", p.notes,
	    "group_id", p.group[0] != '\0' ? p.group : NULL, "session_token",
	    tok);
	/* the stations left out (frequency, exclude), as the bus says */
	if ((snap = engine_session_snapshot(r->api->cfg.eng, id)) != NULL) {
		json_t *x = json_object_get(snap, "excluded");
		json_object_set_new(d, "excluded", x != NULL ? json_incref(x) :
		    json_array());
		json_decref(snap);
	}
	send_env(r, "session:started", d);
	json_decref(d);
}

static void
ev_assign(struct req *r)
{
	static const struct fspec spec[] = {
		{ "session_id", F_STR, 1, 64 },
		{ "source_id", F_STR, 1, 255 },
		{ "session_token", F_STR, 0, WSAPI_TOKEN_MAX },
	};
	struct session_error	 e;
	const char		*id;
	json_t			*snap, *d;

	if (check_fields(r, spec, 3) != 0)
		return;
	id = sget(r, "session_id");
	if (!may_act(r, id))
		return;
	if (engine_session_assign(r->api->cfg.eng, id, sget(r, "source_id"),
	    &e) != 0) {
		fail_session(r, &e);
		return;
	}
	snap = engine_session_snapshot(r->api->cfg.eng, id);
	d = json_pack("{s:s, s:O?, s:O?, s:s}", "session_id", id,
	    "source_id", json_object_get(snap, "source_id"),
	    "source_name", json_object_get(snap, "source_name"),
	    "status", "source_assigned");
	send_env(r, "session:source_assigned", d);
	json_decref(d);
	json_decref(snap);
}

static void
ev_complete(struct req *r)
{
	static const struct fspec spec[] = {
		{ "session_id", F_STR, 1, 64 },
		{ "frequency_hz", F_NUM, 1, 0 },
		{ "duration_seconds", F_INT, 1, 0 },
		{ "session_token", F_STR, 0, WSAPI_TOKEN_MAX },
		{ "start_at", F_STR, 0, 64 },
		{ "chunk_ms", F_INT, 0, 0 },
	};
	struct session_error	 e;
	const char		*id, *at;
	json_t			*snap, *d;
	double			 hz, start_at = 0;
	long			 dur;
	json_int_t		 shz, sdur, sms, stotal;
	int			 ms = 0;

	if (check_fields(r, spec, sizeof spec / sizeof spec[0]) != 0)
		return;
	/* a coordinated start (issue 15): as record --at takes it; the
	 * engine checks the lead time */
	at = sget(r, "start_at");
	if (at != NULL && util_parse_when(at, util_now(), &start_at) != 0) {
		fail(r, "wrong_type", "start_at", "start_at must be an ISO 8601 "
		    "UTC time (2026-12-02T10:00:00Z) or +N[s|m|h] from now");
		return;
	}
	id = sget(r, "session_id");
	hz = json_number_value(json_object_get(r->data, "frequency_hz"));
	if (!isfinite(hz) || hz <= 0 || hz > 1e11) {
		fail(r, "out_of_range", "frequency_hz", "frequency_hz must be "
		    "a positive number of Hz (got %g)", hz);
		return;
	}
	if (whole(r, "duration_seconds", SESSION_DURATION_MIN,
	    SESSION_DURATION_MAX, "seconds", &dur) != 0 ||
	    chunk_ms_field(r, &ms) != 0)
		return;
	if (uuid_field(r, "session_id", "") == NULL)
		return;
	if (!may_act(r, id))
		return;
	snap = engine_session_snapshot(r->api->cfg.eng, id);
	if (snap == NULL) {
		fail(r, "not_found", "session_id", "no session %s in this "
		    "recorder", id);
		return;
	}
	/*
	 * The original page repeats the session's frequency and duration:
	 * they must agree with what step 1 validated (the page sends
	 * round(MHz * 1e6); allow that rounding).
	 */
	shz = json_integer_value(json_object_get(snap, "frequency_hz"));
	sdur = json_integer_value(json_object_get(snap, "duration_seconds"));
	sms = json_integer_value(json_object_get(snap, "chunk_ms"));
	stotal = json_integer_value(json_object_get(snap, "total_chunks"));
	json_decref(snap);
	if (fabs(hz - (double)shz) > 1.0) {
		fail(r, "out_of_range", "frequency_hz", "frequency_hz %.0f does "
		    "not match the session's %lld", hz, (long long)shz);
		return;
	}
	if (dur != sdur) {
		fail(r, "out_of_range", "duration_seconds", "duration_seconds "
		    "%ld does not match the session's %lld", dur,
		    (long long)sdur);
		return;
	}
	/* like the duration, a chunk_ms repeats step 1's (it is chosen
	 * there, with session:start) */
	if (json_object_get(r->data, "chunk_ms") != NULL &&
	    !json_is_null(json_object_get(r->data, "chunk_ms")) && ms != sms) {
		fail(r, "out_of_range", "chunk_ms", "chunk_ms %d does not "
		    "match the session's %lld (chosen with session:start)", ms,
		    (long long)sms);
		return;
	}
	if (engine_session_acquire_at(r->api->cfg.eng, id, start_at, &e) != 0) {
		fail_session(r, &e);
		return;
	}
	/* Accepted: acquiring now (queue_position 0) or queued behind
	 * another session (1 = next); the position as it is now. */
	snap = engine_session_snapshot(r->api->cfg.eng, id);
	d = json_pack("{s:s, s:s, s:s, s:i, s:I}", "session_id", id,
	    "task_id", id, "status", "in_progress", "chunks", (int)stotal,
	    "queue_position", json_integer_value(json_object_get(snap,
	    "queue_position")));
	json_decref(snap);
	send_env(r, "session:completed", d);
	json_decref(d);
}

static void
ev_cancel(struct req *r)
{
	static const struct fspec spec[] = {
		{ "session_id", F_STR, 1, 64 },
		{ "reason", F_STR, 0, 200 },
		{ "session_token", F_STR, 0, WSAPI_TOKEN_MAX },
	};
	struct session_error	 e;
	const char		*id, *reason;
	json_t			*d;

	if (check_fields(r, spec, 3) != 0)
		return;
	id = sget(r, "session_id");
	if (!may_act(r, id))
		return;
	reason = sget(r, "reason");
	if (engine_session_cancel(r->api->cfg.eng, id, reason != NULL &&
	    reason[0] != '\0' ? reason : "cancelled by a WebSocket client",
	    &e) != 0) {
		fail_session(r, &e);
		return;
	}
	d = json_pack("{s:s}", "session_id", id);
	send_env(r, "session:cancelled", d);
	json_decref(d);
}

/* session:pause / session:resume: the reply is session:paused /
 * session:resumed {session_id, paused}; the engine's event of the same
 * name goes to the subscribers. */
static void
pause_resume(struct req *r, int paused)
{
	static const struct fspec spec[] = {
		{ "session_id", F_STR, 1, 64 },
		{ "session_token", F_STR, 0, WSAPI_TOKEN_MAX },
	};
	struct session_error	 e;
	const char		*id;
	json_t			*d;

	if (check_fields(r, spec, 2) != 0)
		return;
	id = sget(r, "session_id");
	if (!may_act(r, id))
		return;
	if (engine_session_pause(r->api->cfg.eng, id, paused, &e) != 0) {
		fail_session(r, &e);
		return;
	}
	d = json_pack("{s:s, s:b}", "session_id", id, "paused", paused);
	send_env(r, paused ? "session:paused" : "session:resumed", d);
	json_decref(d);
}

static void
ev_pause(struct req *r)
{
	pause_resume(r, 1);
}

static void
ev_resume(struct req *r)
{
	pause_resume(r, 0);
}

static void
ev_get(struct req *r)
{
	static const struct fspec spec[] = {
		{ "session_id", F_STR, 1, 64 },
	};
	const char	*id;
	json_t		*snap;

	if (check_fields(r, spec, 1) != 0)
		return;
	if ((id = uuid_field(r, "session_id", "")) == NULL)
		return;
	if ((snap = engine_session_snapshot(r->api->cfg.eng, id)) == NULL) {
		fail(r, "not_found", "session_id", "no session %s in this "
		    "recorder", id);
		return;
	}
	send_env(r, "session:status_update", snap);
	json_decref(snap);
}

static void
ev_sessions(struct req *r)
{
	static const struct fspec spec[] = {
		{ "limit", F_INT, 0, 0 },
		{ "offset", F_INT, 0, 0 },
		{ "before", F_STR, 0, 64 },
	};
	const char	*before;
	char		*rows, *data, *env, tail[80];
	long		 limit = WSAPI_LIST_DEFAULT, offset = 0;
	size_t		 total, rlen, tlen, elen;
	int		 more;

	if (check_fields(r, spec, 3) != 0)
		return;
	if (opt_whole(r, "limit", 1, WSAPI_LIST_MAX, "sessions",
	    &limit) != 0 || opt_whole(r, "offset", 0, WSAPI_LIST_OFFSET_MAX,
	    "sessions", &offset) != 0)
		return;
	before = sget(r, "before");
	if (before != NULL && !util_is_uuid(before)) {
		fail(r, "out_of_range", "before", "before must be a session "
		    "id (a UUID)");
		return;
	}
	/*
	 * From the dataset's index, as the text it keeps: the reply costs a
	 * copy of one page, never a read of the manifests nor a JSON
	 * encoding of every row, so a client listing often (this runs on
	 * the server's only network thread) delays no one.
	 */
	if ((rows = dataset_sessions_page_text(r->api->cfg.ds, before,
	    (size_t)offset, (size_t)limit, &rlen, &total, &more)) == NULL) {
		if (errno == ENOENT)
			fail(r, "not_found", "before", "no stored session %s",
			    before);
		else
			fail(r, "io_error", "", "cannot list the sessions: %s",
			    strerror(errno));
		return;
	}
	tlen = (size_t)snprintf(tail, sizeof tail, ",\"total\":%zu,\"more\":%s}",
	    total, more ? "true" : "false");
	if ((data = malloc(rlen + tlen + 16)) != NULL) {
		memcpy(data, "{\"sessions\":", 12);
		memcpy(data + 12, rows, rlen);
		memcpy(data + 12 + rlen, tail, tlen + 1);
		env = events_envelope_text("sessions:list", data, 12 + rlen +
		    tlen, &elen);
		if (env != NULL)
			r->reply(r->client, env, elen);
		free(env);
	}
	free(data);
	free(rows);
	if (data == NULL)
		fail(r, "io_error", "", "out of memory");
}

/*
 * session:export: a stored, ended session as SigMF under the dataset's
 * exports/ folder (a client never names a path on the server). It runs on
 * the server's thread: a copy of the session's chunks (20 MB for 7
 * receivers x 30 s: ~0.5 s measured on a loaded 2-core machine, 0.05 s of
 * it CPU), during which broadcasts wait in the clients' queues (1024
 * messages each: a recording's events for that long fit many times). A
 * worker thread replying through the bus is the way out if sessions grow.
 */
static void
ev_export(struct req *r)
{
	static const struct fspec spec[] = {
		{ "session_id", F_STR, 1, 64 },
		{ "format", F_STR, 0, 16 },
		{ "archive", F_BOOL, 0, 0 },
	};
	struct sigmf_opts	 o;
	const char		*id, *fmt;
	char			 dir[4096], err[2048];
	json_t			*res;

	if (check_fields(r, spec, 3) != 0)
		return;
	if ((id = uuid_field(r, "session_id", "")) == NULL)
		return;
	fmt = sget(r, "format");
	if (fmt != NULL && strcmp(fmt, "sigmf") != 0 &&
	    strcmp(fmt, "arrays") != 0) {
		fail(r, "out_of_range", "format", "format must be sigmf or "
		    "arrays");
		return;
	}
	snprintf(dir, sizeof dir, "%s/exports", dataset_dir(r->api->cfg.ds));
	if (fmt != NULL && strcmp(fmt, "arrays") == 0) {
		/* the training arrays at the session's own rate and chunks
		 * (the command line takes --rate and --chunk-ms) */
		struct arrays_opts	ao = { .out_dir = dir };
		char			file[4200];
		if (json_is_true(json_object_get(r->data, "archive"))) {
			fail(r, "invalid", "archive", "archive is for format "
			    "sigmf");
			return;
		}
		if (util_mkdirs(dir, err, sizeof err) != 0 ||
		    arrays_export(r->api->cfg.ds, id, &ao, file, sizeof file,
		    err, sizeof err) != 0) {
			fail(r, "io_error", "session_id", "%s", err);
			return;
		}
		res = json_pack("{s:s, s:s, s:s}", "session_id", id, "format",
		    "arrays", "file", file);
		send_env(r, "session:exported", res);
		json_decref(res);
		return;
	}
	o.out_dir = dir;
	o.archive = json_is_true(json_object_get(r->data, "archive"));
	if ((res = sigmf_export(r->api->cfg.ds, id, &o, err,
	    sizeof err)) == NULL) {
		fail(r, errno == ENOENT ? "not_found" : errno == EBUSY ||
		    errno == ENODATA ? "bad_state" : "io_error", "session_id",
		    "%s", err);
		return;
	}
	send_env(r, "session:exported", res);
	json_decref(res);
}

static void
ev_sources(struct req *r)
{
	struct source	*v = NULL;
	char		 err[512];
	json_t		*arr, *o, *d;
	int		 n = 0, i;

	if (check_fields(r, NULL, 0) != 0)
		return;
	if (dataset_sources_list(r->api->cfg.ds, &v, &n, err,
	    sizeof err) != 0) {
		fail(r, "io_error", "", "%s", err);
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++) {
		o = json_pack("{s:s, s:s, s:s}", "id", v[i].id, "name",
		    v[i].name, "description", v[i].description);
		json_object_set_new(o, "frequency_hz", v[i].frequency_hz > 0 ?
		    json_integer((json_int_t)llround(v[i].frequency_hz)) :
		    json_null());
		json_object_set_new(o, "latitude", v[i].has_coords ?
		    json_real(v[i].latitude) : json_null());
		json_object_set_new(o, "longitude", v[i].has_coords ?
		    json_real(v[i].longitude) : json_null());
		json_array_append_new(arr, o);
	}
	free(v);
	d = json_pack("{s:o}", "sources", arr);
	send_env(r, "sources:list", d);
	json_decref(d);
}

static void
ev_stations(struct req *r)
{
	const struct stations	*s = r->api->cfg.stations;
	json_t			*arr, *d;
	int			 i;

	if (check_fields(r, NULL, 0) != 0)
		return;
	arr = json_array();
	/* Never the password. */
	for (i = 0; i < s->n; i++)
		json_array_append_new(arr, json_pack("{s:i, s:s, s:s, s:s, "
		    "s:f, s:f, s:I, s:I}", "websdr", s->v[i].index,
		    "name", s->v[i].name, "type", s->v[i].type,
		    "url", s->v[i].url, "latitude", s->v[i].latitude,
		    "longitude", s->v[i].longitude,
		    "frequency_min_hz", (json_int_t)s->v[i].freq_min_hz,
		    "frequency_max_hz", (json_int_t)s->v[i].freq_max_hz));
	d = json_pack("{s:o}", "stations", arr);
	send_env(r, "stations:list", d);
	json_decref(d);
}

/* ---- schedules (store/schedule.h; checked as `schedule add` does) ---- */

/* A text field into buf (check_fields bounded it); "" when absent. */
static void
copy_str(struct req *r, const char *k, char *buf, size_t len)
{
	const char	*v = sget(r, k);

	snprintf(buf, len, "%s", v != NULL ? v : "");
}

static void
ev_schedule_add(struct req *r)
{
	static const struct fspec spec[] = {
		{ "name", F_STR, 1, sizeof(((struct schedule_spec *)0)->name) - 1 },
		{ "frequency_mhz", F_NUM, 1, 0 },
		{ "duration_seconds", F_INT, 1, 0 },
		{ "start_at", F_STR, 1, 64 },
		{ "every", F_STRNUM, 0, 32 },
		{ "count", F_INT, 0, 0 },
		{ "until", F_STR, 0, 64 },
		{ "source", F_STR, 0, sizeof(((struct schedule_spec *)0)->source) - 1 },
		{ "notes", F_STR, 0, sizeof(((struct schedule_spec *)0)->notes) - 1 },
		{ "group_id", F_STR, 0, sizeof(((struct schedule_spec *)0)->group) - 1 },
		{ "chunk_ms", F_INT, 0, 0 },
	};
	struct schedule_spec	 s;
	struct session_error	 e;
	char			 id[37], err[512];
	json_t			*v, *list, *o, *d;
	double			 mhz, now = util_now();
	long			 n;
	size_t			 i;

	if (check_fields(r, spec, sizeof spec / sizeof spec[0]) != 0)
		return;
	memset(&s, 0, sizeof s);
	copy_str(r, "name", s.name, sizeof s.name);
	if (mhz_field(r, &mhz) != 0)
		return;
	s.freq_hz = mhz * 1e6;
	if (whole(r, "duration_seconds", SESSION_DURATION_MIN,
	    SESSION_DURATION_MAX, "seconds", &n) != 0)
		return;
	s.duration_s = (int)n;
	s.chunk_ms = SESSION_CHUNK_MS_DEFAULT;
	if (chunk_ms_field(r, &s.chunk_ms) != 0)
		return;
	if (util_parse_when(sget(r, "start_at"), now, &s.first) != 0) {
		fail(r, "wrong_type", "start_at", "start_at must be an ISO 8601 "
		    "UTC time on a whole second or +N[s|m|h] from now");
		return;
	}
	v = json_object_get(r->data, "every");
	if (v != NULL && json_is_string(v) && scheduler_parse_every(
	    json_string_value(v), &s.every_s) != 0) {
		fail(r, "out_of_range", "every", "every must be N[s|m|h] or a "
		    "number of seconds");
		return;
	}
	if (v != NULL && json_is_number(v)) {
		if (whole(r, "every", SCHEDULE_EVERY_MIN_S,
		    SCHEDULE_EVERY_MAX_S, "seconds", &n) != 0)
			return;
		s.every_s = (int)n;
	}
	n = 0;		/* 0: no count */
	if (opt_whole(r, "count", 1, SCHEDULE_COUNT_MAX, "occurrences",
	    &n) != 0)
		return;
	s.count = (int)n;
	if (sget(r, "until") != NULL && util_parse_when(sget(r, "until"), now,
	    &s.until) != 0) {
		fail(r, "wrong_type", "until", "until must be an ISO 8601 UTC "
		    "time or +N[s|m|h] from now");
		return;
	}
	copy_str(r, "source", s.source, sizeof s.source);
	if (s.source[0] == '\0')
		snprintf(s.source, sizeof s.source, "unknown");
	copy_str(r, "notes", s.notes, sizeof s.notes);
	copy_str(r, "group_id", s.group, sizeof s.group);
	if (scheduler_check_new(r->api->cfg.ds, &s, now, &e) != 0) {
		fail_session(r, &e);
		return;
	}
	if (schedule_add(r->api->cfg.ds, &s, id, err, sizeof err) != 0) {
		fail(r, "io_error", "", "%s", err);
		return;
	}
	scheduler_poke(r->api->cfg.sched);
	/* the reply is the schedule as schedule:list says it */
	o = NULL;
	if ((list = schedule_list(r->api->cfg.ds, err, sizeof err)) != NULL)
		json_array_foreach(list, i, v) {
			const char *x = json_string_value(json_object_get(v,
			    "id"));
			if (x != NULL && strcmp(x, id) == 0)
				o = v;
		}
	if (o == NULL) {
		json_decref(list);
		fail(r, "io_error", "", "schedule %s added but not listed: %s",
		    id, list == NULL ? err : "gone");
		return;
	}
	d = json_pack("{s:O}", "schedule", o);
	json_decref(list);
	send_env(r, "schedule:added", d);
	json_decref(d);
}

static void
ev_schedule_list(struct req *r)
{
	char	 err[512];
	json_t	*list, *d;

	if (check_fields(r, NULL, 0) != 0)
		return;
	if ((list = schedule_list(r->api->cfg.ds, err, sizeof err)) == NULL) {
		fail(r, "io_error", "", "%s", err);
		return;
	}
	d = json_pack("{s:o}", "schedules", list);
	send_env(r, "schedule:list", d);
	json_decref(d);
}

static void
ev_schedule_cancel(struct req *r)
{
	static const struct fspec spec[] = {
		{ "schedule_id", F_STR, 1, 64 },
	};
	const char	*id;
	char		 err[512];
	json_t		*d;
	int		 rc;

	if (check_fields(r, spec, 1) != 0)
		return;
	if ((id = uuid_field(r, "schedule_id", " (schedule:list)")) == NULL)
		return;
	if ((rc = schedule_cancel(r->api->cfg.ds, id, err, sizeof err)) < 0) {
		fail(r, "io_error", "", "%s", err);
		return;
	}
	if (rc == 1) {
		fail(r, "not_found", "schedule_id", "no schedule %s", id);
		return;
	}
	scheduler_poke(r->api->cfg.sched);
	d = json_pack("{s:s}", "schedule_id", id);
	send_env(r, "schedule:cancelled", d);
	json_decref(d);
}

static const struct {
	const char	*name;
	void		(*fn)(struct req *);
} events[] = {
	{ "ping", ev_ping },
	{ "subscribe", ev_subscribe },
	{ "session:start", ev_start },
	{ "session:assign_source", ev_assign },
	{ "session:complete", ev_complete },
	{ "session:cancel", ev_cancel },
	{ "session:pause", ev_pause },
	{ "session:resume", ev_resume },
	{ "session:get", ev_get },
	{ "sessions:list", ev_sessions },
	{ "session:export", ev_export },
	{ "sources:list", ev_sources },
	{ "stations:list", ev_stations },
	{ "schedule:add", ev_schedule_add },
	{ "schedule:list", ev_schedule_list },
	{ "schedule:cancel", ev_schedule_cancel },
};

void
wsapi_handle(struct wsapi *api, const char *msg, size_t len, unsigned *subs,
    wsapi_reply_fn reply, void *client)
{
	struct req	 r;
	json_error_t	 jerr;
	json_t		*root, *ev, *ts;
	const char	*key;
	json_t		*v;
	size_t		 i;

	memset(&r, 0, sizeof r);
	r.api = api;
	r.event = "";
	r.reply = reply;
	r.client = client;
	r.subs = subs;
	if (len > WSAPI_MAX_MESSAGE) {
		fail(&r, "too_large", "", "message is larger than %d bytes",
		    WSAPI_MAX_MESSAGE);
		return;
	}
	root = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		fail(&r, "invalid_json", "", "invalid JSON at line %d column "
		    "%d: %.200s", jerr.line, jerr.column, jerr.text);
		return;
	}
	if (!json_is_object(root)) {
		fail(&r, "invalid_json", "", "a message must be a JSON object "
		    "{\"event\", \"data\", \"timestamp\"}");
		goto out;
	}
	ev = json_object_get(root, "event");
	if (ev == NULL) {
		fail(&r, "missing_field", "event", "event is required");
		goto out;
	}
	if (!json_is_string(ev)) {
		fail(&r, "wrong_type", "event", "event must be a string");
		goto out;
	}
	if (json_string_length(ev) > WSAPI_MAX_EVENT ||
	    strlen(json_string_value(ev)) != json_string_length(ev)) {
		fail(&r, "too_large", "event", "event names are at most %d "
		    "bytes", WSAPI_MAX_EVENT);
		goto out;
	}
	json_object_foreach(root, key, v) {
		if (strcmp(key, "event") != 0 && strcmp(key, "data") != 0 &&
		    strcmp(key, "timestamp") != 0) {
			fail(&r, "unknown_field", strlen(key) < 64 ? key : "",
			    "unknown envelope field \"%.64s\" (expected event, "
			    "data, timestamp)", key);
			goto out;
		}
	}
	for (i = 0; i < sizeof events / sizeof events[0]; i++)
		if (strcmp(events[i].name, json_string_value(ev)) == 0)
			break;
	if (i == sizeof events / sizeof events[0]) {
		/* r.event stays "": an unknown name is not echoed as if it
		 * were a session request. */
		fail(&r, "unknown_event", "event", "unknown event \"%s\"",
		    json_string_value(ev));
		goto out;
	}
	r.event = events[i].name;
	ts = json_object_get(root, "timestamp");
	if (ts != NULL && !json_is_string(ts) && !json_is_null(ts)) {
		fail(&r, "wrong_type", "timestamp", "timestamp must be an "
		    "ISO-8601 string");
		goto out;
	}
	r.data = json_object_get(root, "data");
	if (r.data == NULL || json_is_null(r.data))
		r.data = json_object();
	else if (!json_is_object(r.data)) {
		r.data = NULL;
		fail(&r, "wrong_type", "data", "data must be a JSON object");
		goto out;
	} else
		json_incref(r.data);
	events[i].fn(&r);
	json_decref(r.data);
out:
	json_decref(root);
}

static int
active_status(const char *st)
{
	return st != NULL && (strcmp(st, "recording") == 0 ||
	    strcmp(st, "source_assigned") == 0 ||
	    strcmp(st, "in_progress") == 0 || strcmp(st, "pending") == 0);
}

void
wsapi_welcome(struct wsapi *api, wsapi_reply_fn reply, void *client)
{
	struct req	 r;
	json_t		*all, *s, *snap;
	size_t		 i;
	int		 n = 0;

	memset(&r, 0, sizeof r);
	r.api = api;
	r.event = "";
	r.reply = reply;
	r.client = client;
	all = engine_sessions(api->cfg.eng);
	json_array_foreach(all, i, s) {
		if (n >= WSAPI_WELCOME_MAX)
			break;
		if (!active_status(json_string_value(json_object_get(s,
		    "status"))))
			continue;
		snap = engine_session_snapshot(api->cfg.eng,
		    json_string_value(json_object_get(s, "session_id")));
		if (snap != NULL) {
			send_env(&r, "session:status_update", snap);
			json_decref(snap);
			n++;
		}
	}
	json_decref(all);
}

unsigned
wsapi_broadcast(const char *event)
{
	static const struct {
		const char	*name;
		unsigned	 cls;
	} bcast[] = {
		{ "session:status_update", WSAPI_TO_ALL },
		{ "session:progress", WSAPI_TO_ALL },
		{ "session:error", WSAPI_TO_ALL },
		{ "session:clock", WSAPI_TO_ALL },
		{ "session:warning", WSAPI_TO_ALL },
		{ "session:fix", WSAPI_TO_ALL },
		{ "session:paused", WSAPI_TO_ALL },
		{ "session:resumed", WSAPI_TO_ALL },
		{ "session:measurement", WSAPI_SUB_MEASUREMENTS },
		{ "receiver:status", WSAPI_SUB_RECEIVERS },
		{ "session:missing", WSAPI_SUB_MISSING },
		{ "session:tdoa", WSAPI_SUB_TDOA },
		{ "session:spectrum", WSAPI_SUB_SPECTRUM },
		{ "schedule:run", WSAPI_TO_ALL },
		{ "schedule:error", WSAPI_TO_ALL },
	};
	size_t	i;

	for (i = 0; i < sizeof bcast / sizeof bcast[0]; i++)
		if (strcmp(bcast[i].name, event) == 0)
			return bcast[i].cls;
	return 0;
}

void
wsapi_stats(struct wsapi *api, struct wsapi_stats *st)
{
	json_t		*all, *s;
	const char	*status;
	size_t		 i;

	memset(st, 0, sizeof *st);
	all = engine_sessions(api->cfg.eng);
	json_array_foreach(all, i, s) {
		status = json_string_value(json_object_get(s, "status"));
		if (active_status(status))
			st->sessions_active++;
		/* queued ones are in_progress too, but wait */
		if (status != NULL && strcmp(status, "in_progress") == 0 &&
		    json_integer_value(json_object_get(s,
		    "queue_position")) == 0)
			st->sessions_acquiring++;
	}
	json_decref(all);
}
