/* schedule.c -- planned sessions in DIR/schedules.json (schedule.h). */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "store/schedule.h"
#include "store/dataset.h"
#include "src/base/util.h"

#define FILE_MAX	(8 << 20)	/* schedules.json, bytes */

static int
path_of(struct dataset *ds, const char *leaf, char *buf, size_t len)
{
	return util_fmt(buf, len, "%s/%s", dataset_dir(ds), leaf);
}

/* flock on DIR/.schedules.lock: every writer, in every process. */
static int
lock_file(struct dataset *ds)
{
	char	path[PATH_MAX];
	int	fd;

	if (path_of(ds, ".schedules.lock", path, sizeof path) != 0)
		return -1;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		return -1;
	while (flock(fd, LOCK_EX) != 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

static json_t *
load(struct dataset *ds, char *err, size_t errlen)
{
	char		 path[PATH_MAX], *buf;
	json_error_t	 je;
	json_t		*j;
	size_t		 len;

	if (path_of(ds, "schedules.json", path, sizeof path) != 0) {
		snprintf(err, errlen, "dataset path too long");
		return NULL;
	}
	if (access(path, F_OK) != 0)
		return json_pack("{s:[]}", "schedules");
	if ((buf = util_read_file(path, FILE_MAX, &len, err, errlen)) == NULL)
		return NULL;
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	free(buf);
	if (j == NULL || !json_is_array(json_object_get(j, "schedules"))) {
		snprintf(err, errlen, "%s: %s", path, j == NULL ? je.text :
		    "expected {\"schedules\": [...]}");
		json_decref(j);
		return NULL;
	}
	return j;
}

static int
save(struct dataset *ds, const json_t *j, char *err, size_t errlen)
{
	char	 path[PATH_MAX], *s;
	int	 rc;

	if (path_of(ds, "schedules.json", path, sizeof path) != 0) {
		snprintf(err, errlen, "dataset path too long");
		return -1;
	}
	if ((s = util_json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) ==
	    NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = util_write_atomic(path, s, strlen(s), err, errlen);
	free(s);
	return rc;
}

/* Lock the file (every writer, in every process) and load it: the
 * schedules and *fd to close when done, or NULL with err. */
static json_t *
begin(struct dataset *ds, int *fd, char *err, size_t errlen)
{
	json_t	*j;

	if ((*fd = lock_file(ds)) < 0) {
		snprintf(err, errlen, "cannot lock schedules: %s",
		    strerror(errno));
		return NULL;
	}
	if ((j = load(ds, err, errlen)) == NULL)
		close(*fd);
	return j;
}

int
schedule_check(const struct schedule_spec *s, char *err, size_t errlen)
{
	size_t	len = strnlen(s->name, sizeof s->name);

	if (len == 0 || len >= sizeof s->name || util_text_check(s->name, 0) !=
	    UTIL_TEXT_OK) {
		snprintf(err, errlen, "the name pattern must be 1-%zu bytes of "
		    "text without control characters", sizeof s->name - 1);
		return -1;
	}
	if (!isfinite(s->first) || s->first <= 0 || s->first != floor(s->first)) {
		snprintf(err, errlen, "the first start must be a whole second");
		return -1;
	}
	if (s->every_s != 0 && (s->every_s < SCHEDULE_EVERY_MIN_S ||
	    s->every_s > SCHEDULE_EVERY_MAX_S)) {
		snprintf(err, errlen, "every must be %d s to %d days",
		    SCHEDULE_EVERY_MIN_S, SCHEDULE_EVERY_MAX_S / 86400);
		return -1;
	}
	/* a session must end before the next one of the same schedule */
	if (s->every_s != 0 && s->every_s <= s->duration_s) {
		snprintf(err, errlen, "every (%d s) must be longer than the "
		    "duration (%d s)", s->every_s, s->duration_s);
		return -1;
	}
	if (s->count < 0 || s->count > SCHEDULE_COUNT_MAX) {
		snprintf(err, errlen, "count must be 0 to %d",
		    SCHEDULE_COUNT_MAX);
		return -1;
	}
	if (s->every_s == 0 && (s->count > 1 || s->until != 0)) {
		snprintf(err, errlen, "count and until need every");
		return -1;
	}
	if (s->until != 0 && (!isfinite(s->until) || s->until < s->first)) {
		snprintf(err, errlen, "until must not be before the first start");
		return -1;
	}
	if (s->group[0] != '\0' && !util_is_token(s->group, UTIL_GROUP_ID_MAX)) {
		snprintf(err, errlen, "the group must be 1-%d letters, digits, "
		    "'.', '_', ':' or '-'", UTIL_GROUP_ID_MAX);
		return -1;
	}
	if (s->source[0] == '\0' || util_text_check(s->source, 0) !=
	    UTIL_TEXT_OK) {
		snprintf(err, errlen, "the source must be given (unknown, a "
		    "known source's name or its UUID)");
		return -1;
	}
	return 0;
}

static json_t *
iso_or_null(double t)
{
	char	buf[40];

	if (t <= 0)
		return json_null();
	util_iso8601(t, buf, sizeof buf);
	return json_string(buf);
}

static double
jtime(const json_t *o, const char *k)
{
	double	t;
	const char *s = json_string_value(json_object_get(o, k));

	if (s == NULL || util_parse_iso8601(s, &t) != 0)
		return 0;
	return t;
}

/* A stored schedule back into a spec (the file is not trusted: what does
 * not check is not run). 0, or -1. */
static int
from_json(const json_t *o, struct schedule_spec *s, char *err, size_t errlen)
{
	const char	*v;

	memset(s, 0, sizeof *s);
#define STR(f, k) do { v = json_string_value(json_object_get(o, k)); \
	if (v != NULL) snprintf(s->f, sizeof s->f, "%s", v); } while (0)
	STR(name, "name");
	STR(source, "source");
	STR(notes, "notes");
	STR(group, "group_id");
#undef STR
	s->freq_hz = json_number_value(json_object_get(o, "freq_hz"));
	s->duration_s = (int)json_integer_value(json_object_get(o,
	    "duration_s"));
	/* schedules stored before the field: 1-s chunks */
	s->chunk_ms = json_is_integer(json_object_get(o, "chunk_ms")) ?
	    (int)json_integer_value(json_object_get(o, "chunk_ms")) : 1000;
	s->every_s = (int)json_integer_value(json_object_get(o, "every_s"));
	s->count = (int)json_integer_value(json_object_get(o, "count"));
	s->first = jtime(o, "first");
	s->until = jtime(o, "until");
	return schedule_check(s, err, errlen);
}

static double
occ_at(const struct schedule_spec *s, long n)
{
	return s->first + (double)(n - 1) * s->every_s;
}

/* 1 if occurrence n exists (within count, until, once). */
static int
occ_exists(const struct schedule_spec *s, long n)
{
	if (n < 1 || (s->every_s == 0 && n > 1) ||
	    (s->count > 0 && n > s->count))
		return 0;
	return !(s->until > 0 && occ_at(s, n) > s->until);
}

static void
add_run(json_t *o, json_t *run)
{
	json_t	*runs = json_object_get(o, "runs");

	if (!json_is_array(runs)) {
		runs = json_array();
		json_object_set_new(o, "runs", runs);
	}
	json_array_append_new(runs, run);
	while (json_array_size(runs) > SCHEDULE_RUNS_KEPT)
		json_array_remove(runs, 0);
}

int
schedule_add(struct dataset *ds, const struct schedule_spec *s, char id[37],
    char *err, size_t errlen)
{
	json_t	*j, *o, *arr;
	size_t	 i, live = 0;
	char	 now[40];
	int	 fd, rc;

	if (schedule_check(s, err, errlen) != 0)
		return -1;
	if ((j = begin(ds, &fd, err, errlen)) == NULL)
		return -1;
	arr = json_object_get(j, "schedules");
	json_array_foreach(arr, i, o)
		if (!json_is_true(json_object_get(o, "cancelled")))
			live++;
	if (live >= SCHEDULE_MAX) {
		snprintf(err, errlen, "%d schedules already: cancel one first",
		    SCHEDULE_MAX);
		json_decref(j);
		close(fd);
		return -1;
	}
	util_uuid(id);
	util_iso8601(util_now(), now, sizeof now);
	o = json_pack("{s:s, s:s, s:f, s:i, s:s, s:s, s:s?, s:o, s:i, s:i, "
	    "s:o, s:s, s:b, s:i, s:[]}", "id", id, "name", s->name, "freq_hz",
	    s->freq_hz, "duration_s", s->duration_s, "source", s->source,
	    "notes", s->notes, "group_id", s->group[0] ? s->group : NULL,
	    "first", iso_or_null(s->first), "every_s", s->every_s, "count",
	    s->count, "until", iso_or_null(s->until), "created_at", now,
	    "cancelled", 0, "next_n", 1, "runs");
	if (o != NULL)
		json_object_set_new(o, "chunk_ms", json_integer(s->chunk_ms));
	if (o == NULL || json_array_append_new(arr, o) != 0) {
		snprintf(err, errlen, "the schedule cannot be stored as JSON");
		json_decref(j);
		close(fd);
		return -1;
	}
	rc = save(ds, j, err, errlen);
	json_decref(j);
	close(fd);
	return rc;
}

json_t *
schedule_list(struct dataset *ds, char *err, size_t errlen)
{
	struct schedule_spec	 s;
	json_t			*j, *o, *out;
	size_t			 i;
	char			 why[256];
	long			 n;

	if ((j = load(ds, err, errlen)) == NULL)
		return NULL;
	out = json_deep_copy(json_object_get(j, "schedules"));
	json_decref(j);
	json_array_foreach(out, i, o) {
		n = (long)json_integer_value(json_object_get(o, "next_n"));
		if (from_json(o, &s, why, sizeof why) != 0) {
			json_object_set_new(o, "state", json_string("invalid"));
			json_object_set_new(o, "error", json_string(why));
			json_object_set_new(o, "next", json_null());
		} else if (json_is_true(json_object_get(o, "cancelled"))) {
			json_object_set_new(o, "state", json_string("cancelled"));
			json_object_set_new(o, "next", json_null());
		} else if (!occ_exists(&s, n)) {
			json_object_set_new(o, "state", json_string("finished"));
			json_object_set_new(o, "next", json_null());
		} else {
			json_object_set_new(o, "state", json_string("active"));
			json_object_set_new(o, "next", iso_or_null(occ_at(&s,
			    n)));
		}
	}
	return out;
}

int
schedule_cancel(struct dataset *ds, const char *id, char *err, size_t errlen)
{
	json_t	*j, *o;
	size_t	 i;
	int	 fd, rc = 1;

	if ((j = begin(ds, &fd, err, errlen)) == NULL)
		return -1;
	json_array_foreach(json_object_get(j, "schedules"), i, o) {
		const char *oid = json_string_value(json_object_get(o, "id"));
		if (oid != NULL && strcmp(oid, id) == 0) {
			json_object_set_new(o, "cancelled", json_true());
			rc = save(ds, j, err, errlen);
			break;
		}
	}
	json_decref(j);
	close(fd);
	return rc;
}

/* The session name of occurrence n: the pattern with each "{n}" as n. */
static void
expand(const char *pat, long n, char *out, size_t len)
{
	size_t	o = 0;
	char	num[24];

	snprintf(num, sizeof num, "%ld", n);
	while (*pat != '\0' && o + 1 < len) {
		if (strncmp(pat, "{n}", 3) == 0) {
			size_t k = strlen(num);
			if (o + k >= len)
				break;
			memcpy(out + o, num, k);
			o += k;
			pat += 3;
		} else
			out[o++] = *pat++;
	}
	out[o] = '\0';
}

int
schedule_claim(struct dataset *ds, double now, double lead, double window,
    struct schedule_due *due, json_t **missed, double *next, char *err,
    size_t errlen)
{
	struct schedule_spec	 s;
	json_t			*j, *o, *best = NULL;
	size_t			 i;
	double			 at, best_at = INFINITY;
	long			 n, m, best_n = 0;
	char			 why[256], iso[40];
	int			 fd, changed = 0, rc = 0;

	*next = INFINITY;
	if ((j = begin(ds, &fd, err, errlen)) == NULL)
		return -1;
	json_array_foreach(json_object_get(j, "schedules"), i, o) {
		if (json_is_true(json_object_get(o, "cancelled")) ||
		    from_json(o, &s, why, sizeof why) != 0)
			continue;
		n = (long)json_integer_value(json_object_get(o, "next_n"));
		if (n < 1)
			n = 1;
		if (!occ_exists(&s, n))
			continue;
		at = occ_at(&s, n);
		if (at < now + lead) {
			/* Its instant passed, or is too close to set up: the
			 * seconds it names cannot be recorded as planned. All
			 * such occurrences at once, as one record. */
			m = n;
			if (s.every_s > 0)
				m = n + (long)floor((now + lead - at - 1e-9) /
				    s.every_s);
			while (m > n && !occ_exists(&s, m))
				m--;
			util_iso8601(at, iso, sizeof iso);
			add_run(o, json_pack("{s:i, s:i, s:s, s:s, s:s}", "n",
			    (json_int_t)n, "n_last", (json_int_t)m, "at", iso,
			    "status", "missed", "reason", at <= now ?
			    "nothing was running at its instant" :
			    "too close to its instant to set up"));
			if (*missed == NULL)
				*missed = json_array();
			json_array_append_new(*missed, json_pack("{s:s, s:s, "
			    "s:i, s:i, s:s, s:s}", "schedule_id", json_string_value(
			    json_object_get(o, "id")), "name", s.name, "n",
			    (json_int_t)n, "n_last", (json_int_t)m, "at", iso,
			    "reason", at <= now ? "nothing was running at its "
			    "instant" : "too close to its instant to set up"));
			n = m + 1;
			json_object_set_new(o, "next_n", json_integer(n));
			changed = 1;
			if (!occ_exists(&s, n))
				continue;
			at = occ_at(&s, n);
		}
		if (at < now + lead + window && at < best_at) {
			best = o;
			best_at = at;
			best_n = n;
		} else if (at - lead - window < *next)
			*next = at - lead - window;
	}
	if (best != NULL) {
		from_json(best, &s, why, sizeof why);
		memset(due, 0, sizeof *due);
		snprintf(due->id, sizeof due->id, "%s", json_string_value(
		    json_object_get(best, "id")));
		due->n = (int)best_n;
		due->at = best_at;
		due->spec = s;
		expand(s.name, best_n, due->spec.name, sizeof due->spec.name);
		json_object_set_new(best, "next_n", json_integer(best_n + 1));
		util_iso8601(best_at, iso, sizeof iso);
		add_run(best, json_pack("{s:i, s:s, s:s}", "n",
		    (json_int_t)best_n, "at", iso, "status", "starting"));
		changed = 1;
		rc = 1;
		*next = now;	/* look again at once: another may be due */
	}
	if (changed && save(ds, j, err, errlen) != 0)
		rc = -1;
	json_decref(j);
	close(fd);
	return rc;
}

int
schedule_record(struct dataset *ds, const char *id, int n,
    const char *status, const char *session_id, const char *reason,
    char *err, size_t errlen)
{
	json_t	*j, *o, *r;
	size_t	 i, k;
	int	 fd, rc = 1;

	if ((j = begin(ds, &fd, err, errlen)) == NULL)
		return -1;
	json_array_foreach(json_object_get(j, "schedules"), i, o) {
		const char *oid = json_string_value(json_object_get(o, "id"));
		if (oid == NULL || strcmp(oid, id) != 0)
			continue;
		json_array_foreach(json_object_get(o, "runs"), k, r) {
			if (json_integer_value(json_object_get(r, "n")) != n)
				continue;
			json_object_set_new(r, "status", json_string(status));
			if (session_id != NULL)
				json_object_set_new(r, "session_id",
				    json_string(session_id));
			if (reason != NULL)
				json_object_set_new(r, "reason",
				    json_string(reason));
			rc = save(ds, j, err, errlen);
			break;
		}
		break;
	}
	json_decref(j);
	close(fd);
	return rc;
}
