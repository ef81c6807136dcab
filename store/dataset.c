/* dataset.c -- the embedded dataset folder: sessions, chunks, rows, sources; atomic and crash-safe. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/dataset.h"
#include "src/base/npy.h"
#include "src/base/station.h"
#include "src/base/util.h"

#define DS_MAX_MANIFEST	(256 * 1024 * 1024)
#define DS_MAX_SOURCES	(16 * 1024 * 1024)
#define DS_MAX_LOCKS	64
/* How often a listing looks for sessions other processes (a `record` run
 * on the same folder) created or are writing: the index only sees this
 * process's writes as they happen. */
#define DS_RESCAN_S	1.0

struct held {
	char	id[UTIL_UUID_LEN];
	int	fd;		/* flock(LOCK_EX) on sessions/<id>/.lock */
	int	batch;		/* next rows file number */
	/* The localization rows this process appended to rows/loc.jsonl
	 * (dataset_put_loc), by chunk label ("000003", "final"): what each
	 * line holds, for merge_loc at the session's end instead of reading
	 * and parsing the file again. NULL: none yet. */
	json_t	*loc;
	int	 locfd;		/* rows/loc.jsonl, open for appending; 0:
				   not opened yet */
	off_t	 locsize;	/* its size, as this process knows it */
	off_t	 locown;	/* the bytes of it this process wrote */
	/* Serializes this session's manifest writes, so that no save lands
	 * after the final one (taken before ds->lock, never inside it). */
	pthread_mutex_t wr;
};

/* One stored session in the index: its listing row. */
struct ds_entry {
	char	 id[UTIL_UUID_LEN];
	char	 start[40];	/* session_start: the sort key */
	json_t	*row;		/* never changed once here, only replaced: pages
				   share it (jansson's counts are atomic) */
	char	*text;		/* row as compact JSON, for pages sent as text */
	size_t	 tlen;
	int	 final;		/* completed or failed: no longer changes */
};

/* A manifest parsed by the recovery scan, kept for dataset_session_load
 * (dataset_open_keep), with the identity of the file it came from. */
struct kept {
	char		 id[UTIL_UUID_LEN];
	json_t		*m;
	struct stat	 st;
	struct kept	*next;
};

struct dataset {
	char			 dir[PATH_MAX];
	/* dataset_open_keep: filled by recover(), emptied by loads (under
	 * lock) */
	dataset_keep_fn		 keep;
	void			*keep_ctx;
	struct kept		*kept;
	size_t			 kept_bytes;
	pthread_mutex_t		 lock;
	struct held		 held[DS_MAX_LOCKS];
	dataset_listener_fn	 listener;
	void			*listener_ctx;

	/*
	 * The session index: one row per stored session, built by the
	 * first listing and kept up to date by the writes below, so a
	 * listing never re-reads manifests. ilock is never held during I/O
	 * nor together with lock.
	 */
	pthread_mutex_t		 ilock;
	struct ds_entry		*idx;
	size_t			 nidx, cidx;
	int			 live;		/* writes update it */
	int			 built;		/* the folder has been read */
	int			 sorted;	/* newest first */
	double			 scanned;	/* util_mono() of the last rescan */
	pthread_mutex_t		 scan;		/* one rescan at a time */
};

static void	index_update(struct dataset *, const char *, const json_t *,
		    json_int_t, json_int_t);
static void	index_add_rows(struct dataset *, const char *, size_t);
static int	count_chunk_files(struct dataset *, const char *);

static const char *final_status[] = { "completed", "failed", NULL };

static int
is_final(const char *st)
{
	int	i;

	for (i = 0; st != NULL && final_status[i] != NULL; i++)
		if (strcmp(st, final_status[i]) == 0)
			return 1;
	return 0;
}

const char *
dataset_dir(const struct dataset *ds)
{
	return ds->dir;
}

int
dataset_session_chunk_ms(const json_t *session)
{
	json_t	*v = json_object_get(session, "chunk_ms");

	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > 60000)
		return 1000;
	return (int)json_integer_value(v);
}

long long
dataset_session_total_chunks(const json_t *session)
{
	json_t		*v = json_object_get(session, "duration_seconds");
	double		 d = json_number_value(v);

	if (!json_is_number(v) || !(d > 0) || d > 1e6)
		return 0;
	/* +0.5 ms: a duration written as a double (a rebuilt manifest)
	 * that is a hair under a whole number of chunks */
	return (long long)((d * 1000 + 0.5) /
	    dataset_session_chunk_ms(session));
}

int
dataset_chunk_leaf(int chunk_index, int websdr, char *buf, size_t len)
{
	return util_fmt(buf, len, "chunk_%03d_websdr_%d.npy", chunk_index,
	    websdr);
}

int
dataset_chunk_key(const char *session_id, int chunk_index, int websdr,
    char *buf, size_t len)
{
	char	leaf[64];

	if (dataset_chunk_leaf(chunk_index, websdr, leaf, sizeof leaf) != 0)
		return -1;
	return util_fmt(buf, len, "sessions/%s/%s", session_id, leaf);
}

static int
session_path(struct dataset *ds, const char *id, const char *leaf,
    char *buf, size_t len, char *err, size_t errlen)
{
	/* Only a canonical UUID ever reaches a path: names and notes never
	 * do, and "../" cannot. */
	if (!util_is_uuid(id)) {
		snprintf(err, errlen, "invalid session id");
		return -1;
	}
	if (util_fmt(buf, len, "%s/sessions/%s%s%s", ds->dir, id,
	    leaf[0] ? "/" : "", leaf) != 0) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	return 0;
}

static void
notify(struct dataset *ds, const char *id, const char *what)
{
	/*
	 * Called under the lock, so that once dataset_set_listener(NULL)
	 * returns the old listener is not running and can be freed (the
	 * replicator stops while sessions may still be written). Listeners
	 * neither block nor call back into the dataset.
	 */
	pthread_mutex_lock(&ds->lock);
	if (ds->listener != NULL)
		ds->listener(ds->listener_ctx, id, what);
	pthread_mutex_unlock(&ds->lock);
}

void
dataset_set_listener(struct dataset *ds, dataset_listener_fn fn, void *ctx)
{
	pthread_mutex_lock(&ds->lock);
	ds->listener = fn;
	ds->listener_ctx = ctx;
	pthread_mutex_unlock(&ds->lock);
}

static int
write_json(const char *path, const json_t *j, char *err, size_t errlen)
{
	char	*s;
	int	 rc;

	s = util_json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	if (s == NULL) {
		snprintf(err, errlen, "cannot serialize %s", path);
		return -1;
	}
	rc = util_write_atomic(path, s, strlen(s), err, errlen);
	free(s);
	return rc;
}

static json_t *
read_json(const char *path, size_t max, char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*j;
	char		*buf;
	size_t		 len;

	buf = util_read_file(path, max, &len, err, errlen);
	if (buf == NULL)
		return NULL;
	j = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (j == NULL)
		snprintf(err, errlen, "%s: line %d: %s", path, jerr.line,
		    jerr.text);
	return j;
}

/* ---- sources ---- */

static int
sources_path(struct dataset *ds, const char *leaf, char *buf, size_t len)
{
	return util_fmt(buf, len, "%s/%s", ds->dir, leaf);
}

/* flock on DIR/.sources.lock: serializes writers across processes. */
static int
sources_lock(struct dataset *ds, int op)
{
	char	path[PATH_MAX];
	int	fd;

	if (sources_path(ds, ".sources.lock", path, sizeof path) != 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	while (flock(fd, op) != 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static json_t *
sources_load(struct dataset *ds, char *err, size_t errlen)
{
	char	 path[PATH_MAX];
	json_t	*j;

	sources_path(ds, "sources.json", path, sizeof path);
	j = read_json(path, DS_MAX_SOURCES, err, errlen);
	if (j != NULL && !json_is_array(json_object_get(j, "sources"))) {
		snprintf(err, errlen, "%s: expected {\"sources\": [...]}", path);
		json_decref(j);
		return NULL;
	}
	return j;
}

static int
source_from_json(json_t *o, struct source *s)
{
	const char	*id = json_string_value(json_object_get(o, "id"));
	const char	*name = json_string_value(json_object_get(o, "name"));
	const char	*desc = json_string_value(json_object_get(o,
			    "description"));
	const char	*created = json_string_value(json_object_get(o,
			    "created_at"));
	json_t		*lat = json_object_get(o, "latitude");
	json_t		*lon = json_object_get(o, "longitude");

	if (id == NULL || name == NULL || !util_is_uuid(id))
		return -1;
	memset(s, 0, sizeof *s);
	snprintf(s->id, sizeof s->id, "%s", id);
	snprintf(s->name, sizeof s->name, "%s", name);
	snprintf(s->description, sizeof s->description, "%s",
	    desc != NULL ? desc : "");
	snprintf(s->created_at, sizeof s->created_at, "%s",
	    created != NULL ? created : "");
	s->frequency_hz = json_number_value(json_object_get(o,
	    "frequency_hz"));
	if (json_is_number(lat) && json_is_number(lon)) {
		s->has_coords = 1;
		s->latitude = json_number_value(lat);
		s->longitude = json_number_value(lon);
	}
	return 0;
}

static json_t *
source_to_json(const struct source *s)
{
	json_t	*o;

	o = json_pack("{s:s, s:s, s:s, s:f}", "id", s->id, "name", s->name,
	    "description", s->description, "frequency_hz", s->frequency_hz);
	json_object_set_new(o, "latitude", s->has_coords ?
	    json_real(s->latitude) : json_null());
	json_object_set_new(o, "longitude", s->has_coords ?
	    json_real(s->longitude) : json_null());
	json_object_set_new(o, "created_at", json_string(s->created_at));
	return o;
}

/* Make sure sources.json exists and holds "Unknown" first. */
static int
sources_init(struct dataset *ds, char *err, size_t errlen)
{
	char		 path[PATH_MAX], msg[512];
	json_t		*j, *arr, *o;
	struct source	 unk;
	size_t		 i;
	int		 fd, rc = 0, found = 0;

	if ((fd = sources_lock(ds, LOCK_EX)) < 0) {
		snprintf(err, errlen, "cannot lock %s/.sources.lock: %s",
		    ds->dir, strerror(errno));
		return -1;
	}
	sources_path(ds, "sources.json", path, sizeof path);
	if (access(path, F_OK) == 0) {
		j = sources_load(ds, err, errlen);
		if (j == NULL) {
			close(fd);
			return -1;
		}
	} else
		j = json_pack("{s:[]}", "sources");
	arr = json_object_get(j, "sources");
	json_array_foreach(arr, i, o) {
		const char *n = json_string_value(json_object_get(o, "name"));
		if (n != NULL && strcasecmp(n, "Unknown") == 0)
			found = 1;
	}
	if (!found) {
		memset(&unk, 0, sizeof unk);
		util_uuid(unk.id);
		snprintf(unk.name, sizeof unk.name, "Unknown");
		snprintf(unk.description, sizeof unk.description,
		    "Transmitter not identified");
		util_iso8601(util_now(), unk.created_at, sizeof unk.created_at);
		json_array_insert_new(arr, 0, source_to_json(&unk));
		rc = write_json(path, j, msg, sizeof msg);
		if (rc != 0)
			snprintf(err, errlen, "%s", msg);
	}
	json_decref(j);
	close(fd);
	return rc;
}

int
dataset_sources_list(struct dataset *ds, struct source **out, int *n,
    char *err, size_t errlen)
{
	json_t	*j, *o;
	size_t	 i;
	int	 fd, k = 0;

	*out = NULL;
	*n = 0;
	if ((fd = sources_lock(ds, LOCK_SH)) < 0) {
		snprintf(err, errlen, "cannot lock sources: %s",
		    strerror(errno));
		return -1;
	}
	j = sources_load(ds, err, errlen);
	close(fd);
	if (j == NULL)
		return -1;
	*out = calloc(json_array_size(json_object_get(j, "sources")) + 1,
	    sizeof **out);
	if (*out == NULL) {
		json_decref(j);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_array_foreach(json_object_get(j, "sources"), i, o) {
		if (source_from_json(o, &(*out)[k]) == 0)
			k++;
	}
	*n = k;
	json_decref(j);
	return 0;
}

int
dataset_source_add(struct dataset *ds, struct source *s, char *err,
    size_t errlen)
{
	char	 path[PATH_MAX];
	json_t	*j, *o;
	size_t	 i, len = strlen(s->name);
	int	 fd, rc, tc, td = UTIL_TEXT_OK;

	if (len == 0 || strspn(s->name, " \t") == len) {
		snprintf(err, errlen, "source name must not be empty");
		return -1;
	}
	/* stored as JSON and shown in terminals: see session_validate() */
	if ((tc = util_text_check(s->name, 0)) != UTIL_TEXT_OK ||
	    (td = util_text_check(s->description, 1)) != UTIL_TEXT_OK) {
		snprintf(err, errlen, "source %s must %s",
		    tc != UTIL_TEXT_OK ? "name" : "description",
		    (tc != UTIL_TEXT_OK ? tc : td) == UTIL_TEXT_BAD_UTF8 ?
		    "be valid UTF-8 text" : "not contain control characters");
		return -1;
	}
	if (s->has_coords && (s->latitude < -90 || s->latitude > 90 ||
	    s->longitude < -180 || s->longitude > 180 ||
	    s->latitude != s->latitude || s->longitude != s->longitude)) {
		snprintf(err, errlen, "coordinates must be latitude -90..90 and "
		    "longitude -180..180");
		return -1;
	}
	if (!(s->frequency_hz >= 0) || s->frequency_hz > 1e12) {
		snprintf(err, errlen, "frequency must be 0 or more");
		return -1;
	}
	if ((fd = sources_lock(ds, LOCK_EX)) < 0) {
		snprintf(err, errlen, "cannot lock sources: %s",
		    strerror(errno));
		return -1;
	}
	j = sources_load(ds, err, errlen);
	if (j == NULL) {
		close(fd);
		return -1;
	}
	json_array_foreach(json_object_get(j, "sources"), i, o) {
		const char *n = json_string_value(json_object_get(o, "name"));
		if (n != NULL && strcasecmp(n, s->name) == 0) {
			snprintf(err, errlen, "a source named \"%s\" already "
			    "exists", n);
			json_decref(j);
			close(fd);
			return -1;
		}
	}
	util_uuid(s->id);
	util_iso8601(util_now(), s->created_at, sizeof s->created_at);
	/* never report an id that was not saved */
	if (json_array_append_new(json_object_get(j, "sources"),
	    source_to_json(s)) != 0) {
		snprintf(err, errlen, "source \"%s\" cannot be stored as JSON",
		    s->name);
		json_decref(j);
		close(fd);
		return -1;
	}
	sources_path(ds, "sources.json", path, sizeof path);
	rc = write_json(path, j, err, errlen);
	json_decref(j);
	close(fd);
	return rc;
}

int
dataset_source_find(struct dataset *ds, const char *key, struct source *out)
{
	struct source	*v;
	char		 err[256];
	int		 n, i, rc = -1;

	if (dataset_sources_list(ds, &v, &n, err, sizeof err) != 0)
		return -1;
	for (i = 0; i < n && rc != 0; i++) {
		if (strcasecmp(key, "unknown") == 0 ?
		    strcasecmp(v[i].name, "Unknown") == 0 :
		    util_is_uuid(key) ? strcasecmp(v[i].id, key) == 0 :
		    strcasecmp(v[i].name, key) == 0) {
			*out = v[i];
			rc = 0;
		}
	}
	free(v);
	return rc;
}

/* ---- sessions ---- */

static struct held *
held_find(struct dataset *ds, const char *id)
{
	int	i;

	for (i = 0; i < DS_MAX_LOCKS; i++)
		if (ds->held[i].fd > 0 && strcmp(ds->held[i].id, id) == 0)
			return &ds->held[i];
	return NULL;
}

/*
 * The slot holding id open, with its wr mutex locked for a manifest write;
 * NULL (err set) if this process does not hold id open -- in particular
 * once dataset_session_finish() has written its final manifest. The slot is
 * re-checked under wr: it may have been finished or reused meanwhile.
 */
static struct held *
held_write_lock(struct dataset *ds, const char *id, char *err,
    size_t errlen)
{
	struct held	*h;
	int		 ours;

	pthread_mutex_lock(&ds->lock);
	h = held_find(ds, id);
	pthread_mutex_unlock(&ds->lock);
	if (h != NULL) {
		pthread_mutex_lock(&h->wr);
		pthread_mutex_lock(&ds->lock);
		ours = h->fd > 0 && strcmp(h->id, id) == 0;
		pthread_mutex_unlock(&ds->lock);
		if (ours)
			return h;
		pthread_mutex_unlock(&h->wr);
	}
	snprintf(err, errlen, "session %s is not open for writing (ended, "
	    "or recorded by another process)", id);
	return NULL;
}

/*
 * What a stored session depends on: a manifest whose session names it and
 * carries its name and status. jansson builds no string from text that is
 * not UTF-8 (json_string() gives NULL, the key is silently left out), so a
 * manifest built from such text lacks them and the session would vanish
 * from listings and replication: refuse to store it, saying so.
 */
static int
manifest_check(const json_t *m, const char *id, char *err, size_t errlen)
{
	const json_t	*ses = json_object_get(m, "session");
	const char	*sid = json_string_value(json_object_get(ses, "id"));
	const char	*bad = NULL;

	if (!json_is_object(ses))
		bad = "session";
	else if (sid == NULL || strcmp(sid, id) != 0)
		bad = "session.id";
	else if (!json_is_string(json_object_get(ses, "session_name")))
		bad = "session.session_name";
	else if (!json_is_string(json_object_get(ses, "status")))
		bad = "session.status";
	if (bad == NULL)
		return 0;
	snprintf(err, errlen, "session %s: its manifest cannot be stored: "
	    "\"%s\" is missing or not text (invalid UTF-8?)", id, bad);
	return -1;
}

int
dataset_session_create(struct dataset *ds, const char *id,
    const json_t *manifest, char *err, size_t errlen)
{
	char		 dir[PATH_MAX], path[PATH_MAX];
	struct held	*h = NULL;
	int		 i, fd;

	/* the manifest checked before the directory exists: nothing may
	 * depend on a session that cannot be stored */
	if (session_path(ds, id, "rows", dir, sizeof dir, err, errlen) != 0 ||
	    manifest_check(manifest, id, err, errlen) != 0 ||
	    util_mkdirs(dir, err, errlen) != 0 ||
	    session_path(ds, id, ".lock", path, sizeof path, err,
	    errlen) != 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		snprintf(err, errlen, "cannot lock %s: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	pthread_mutex_lock(&ds->lock);
	for (i = 0; i < DS_MAX_LOCKS && h == NULL; i++)
		if (ds->held[i].fd <= 0)
			h = &ds->held[i];
	if (h != NULL) {
		snprintf(h->id, sizeof h->id, "%s", id);
		h->fd = fd;
		h->batch = 0;
		h->locfd = 0;
		h->locsize = h->locown = 0;
	}
	pthread_mutex_unlock(&ds->lock);
	if (h == NULL) {
		close(fd);
		snprintf(err, errlen, "too many sessions recording at once");
		return -1;
	}
	return dataset_session_save(ds, id, manifest, err, errlen);
}

int
dataset_session_save(struct dataset *ds, const char *id,
    const json_t *manifest, char *err, size_t errlen)
{
	char		 path[PATH_MAX];
	struct held	*h;
	json_t		*m;
	int		 rc;

	if (session_path(ds, id, "manifest.json", path, sizeof path, err,
	    errlen) != 0 || manifest_check(manifest, id, err, errlen) != 0 ||
	    (h = held_write_lock(ds, id, err, errlen)) == NULL)
		return -1;
	m = json_copy((json_t *)manifest);
	json_object_del(m, "measurements");
	rc = write_json(path, m, err, errlen);
	if (rc == 0)
		index_update(ds, id, m, -1, -1);
	json_decref(m);
	pthread_mutex_unlock(&h->wr);
	if (rc == 0)
		notify(ds, id, "manifest");
	return rc;
}

int
dataset_put_batch(struct dataset *ds, const char *id,
    const struct ds_chunk *chunks, int n, const json_t *rows, char *err,
    size_t errlen)
{
	return dataset_put_batch_text(ds, id, chunks, n, rows, NULL, err,
	    errlen);
}

int
dataset_put_batch_text(struct dataset *ds, const char *id,
    const struct ds_chunk *chunks, int n, const json_t *rows,
    const char *rows_text, char *err, size_t errlen)
{
	char		 dir[PATH_MAX], rowsdir[PATH_MAX], tmp[PATH_MAX];
	char		 final[PATH_MAX], leaf[64], *text = NULL;
	struct held	*h;
	const char	*fmt;
	int		 i, fd = -1, batch, dfd, rc = -1, written = 0, real;
	int		 rowtmp = 0;
	const int16_t	*iq;
	int16_t		*buf = NULL;
	size_t		 ncap = 0;

	if (session_path(ds, id, "", dir, sizeof dir, err, errlen) != 0 ||
	    session_path(ds, id, "rows", rowsdir, sizeof rowsdir, err,
	    errlen) != 0)
		return -1;
	pthread_mutex_lock(&ds->lock);
	h = held_find(ds, id);
	batch = h != NULL ? h->batch++ : -1;
	pthread_mutex_unlock(&ds->lock);
	if (batch < 0) {
		snprintf(err, errlen, "session %s is not open for writing", id);
		return -1;
	}

	/* 1. every file under a temporary name */
	for (i = 0; i < n; i++) {
		if (dataset_chunk_leaf(chunks[i].chunk_index,
		    chunks[i].websdr, leaf, sizeof leaf) != 0 ||
		    util_fmt(tmp, sizeof tmp, "%s/%s.tmp", dir, leaf) != 0)
			goto out;
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0)
			written = i + 1;	/* unlinked if the batch fails */
		/* the row says what the file holds: audio rows ("float32")
		 * keep iq[2k] only, as '<f4' */
		fmt = json_string_value(json_object_get(json_array_get(rows,
		    (size_t)i), "iq_data_format"));
		real = fmt != NULL && strcmp(fmt, "float32") == 0;
		iq = chunks[i].iq;
		if (fd >= 0 && iq == NULL) {
			/* a spooled chunk: read into the batch's one buffer */
			if (ncap < chunks[i].n) {
				int16_t *b = realloc(buf, 2 * chunks[i].n *
				    sizeof *b);
				if (b == NULL) {
					snprintf(err, errlen, "out of memory");
					goto out;
				}
				buf = b;
				ncap = chunks[i].n;
			}
			if (util_pread_all(chunks[i].fd, buf, 4 * chunks[i].n,
			    chunks[i].off) != 0) {
				snprintf(err, errlen, "cannot read the samples "
				    "of %s: %s", leaf, strerror(errno));
				goto out;
			}
			iq = buf;
		}
		if (fd < 0 || (real ? npy_write_f4_fd(fd, iq,
		    chunks[i].n) : npy_write_c8_fd(fd, iq,
		    chunks[i].n)) != 0) {
			snprintf(err, errlen, "cannot write %s: %s", tmp,
			    strerror(errno));
			goto out;
		}
		close(fd);
		fd = -1;
	}
	if (rows_text == NULL)
		rows_text = text = util_json_dumps(rows, JSON_COMPACT |
		    JSON_PRESERVE_ORDER);
	if (util_fmt(tmp, sizeof tmp, "%s/batch_%06d.json.tmp", rowsdir,
	    batch) != 0 || rows_text == NULL)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	rowtmp = fd >= 0;
	if (fd < 0 || util_write_all(fd, rows_text, strlen(rows_text)) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp,
		    strerror(errno));
		goto out;
	}

	/*
	 * 2. one durability barrier for the whole batch: syncfs() flushes
	 * every file of this filesystem at once, instead of one fdatasync()
	 * per chunk (hundreds per second at 200 receivers).
	 */
	if (syncfs(fd) != 0) {
		snprintf(err, errlen, "cannot sync %s: %s", dir,
		    strerror(errno));
		goto out;
	}
	close(fd);
	fd = -1;

	/* 3. rename: chunks first, so a row never names a missing file */
	for (i = 0; i < n; i++) {
		dataset_chunk_leaf(chunks[i].chunk_index, chunks[i].websdr,
		    leaf, sizeof leaf);	/* fitted in step 1 */
		util_fmt(final, sizeof final, "%s/%s", dir, leaf);
		util_fmt(tmp, sizeof tmp, "%s.tmp", final);
		if (rename(tmp, final) != 0) {
			snprintf(err, errlen, "cannot rename %s: %s", tmp,
			    strerror(errno));
			goto out;
		}
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	util_fmt(final, sizeof final, "%s/batch_%06d.json", rowsdir, batch);
	util_fmt(tmp, sizeof tmp, "%s.tmp", final);
	if (rename(tmp, final) != 0 || util_fsync_dir(rowsdir) != 0) {
		snprintf(err, errlen, "cannot commit %s: %s", final,
		    strerror(errno));
		goto out;
	}
	written = 0;
	rowtmp = 0;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(text);
	free(buf);
	if (rowtmp && util_fmt(tmp, sizeof tmp, "%s/batch_%06d.json.tmp",
	    rowsdir, batch) == 0)
		unlink(tmp);
	/* A failed batch leaves no temporary file behind. */
	for (i = 0; i < written; i++) {
		if (dataset_chunk_leaf(chunks[i].chunk_index,
		    chunks[i].websdr, leaf, sizeof leaf) == 0 &&
		    util_fmt(tmp, sizeof tmp, "%s/%s.tmp", dir, leaf) == 0)
			unlink(tmp);
	}
	if (rc != 0 && err[0] == '\0')
		snprintf(err, errlen, "cannot store the batch");
	if (rc == 0) {
		index_add_rows(ds, id, json_array_size(rows));
		notify(ds, id, "batch");
	}
	return rc;
}

/* A row and its sort key, read once (not per comparison: a session of
 * 200 receivers x 30 chunks is 6000 rows, ~80,000 comparisons). */
struct rowkey {
	long	 ci, ws;
	json_t	*r;
};

static int
cmp_rows(const void *a, const void *b)
{
	const struct rowkey	*x = a, *y = b;

	if (x->ci != y->ci)
		return x->ci < y->ci ? -1 : 1;
	return x->ws < y->ws ? -1 : x->ws > y->ws;
}

/* Every row: the final manifest's, plus any rows/ files, sorted. With
 * taken (dataset_session_load_new): the rows files named there are
 * skipped, and those read are added. */
static json_t *
merge_rows(struct dataset *ds, const char *id, json_t *m, json_t *taken)
{
	char		 rowsdir[PATH_MAX], path[PATH_MAX], err[512];
	json_t		*all = json_array(), *r, *sorted;
	struct dirent	*de;
	struct rowkey	*v;
	DIR		*d;
	size_t		 i, n;
	int		 in_order = 1;

	/* an open session's manifest holds no rows (dataset_session_save
	 * drops them): one written otherwise gives them once */
	if (taken == NULL || json_object_get(taken, "manifest.json") == NULL)
		json_array_extend(all, json_object_get(m, "measurements"));
	if (taken != NULL)
		json_object_set_new(taken, "manifest.json", json_true());
	if (session_path(ds, id, "rows", rowsdir, sizeof rowsdir, err,
	    sizeof err) == 0 && (d = opendir(rowsdir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			size_t l = strlen(de->d_name);
			if (strncmp(de->d_name, "batch_", 6) != 0 || l < 5 ||
			    strcmp(de->d_name + l - 5, ".json") != 0)
				continue;
			/* a rows file is written once (renamed into place
			 * whole) and never changed: read once */
			if (taken != NULL && json_object_get(taken,
			    de->d_name) != NULL)
				continue;
			if (util_fmt(path, sizeof path, "%s/%s", rowsdir,
			    de->d_name) != 0)
				continue;
			r = read_json(path, DS_MAX_MANIFEST, err, sizeof err);
			if (json_is_array(r)) {
				json_array_extend(all, r);
				/* taken only once read: one that cannot be
				 * read now is tried again next time */
				if (taken != NULL)
					json_object_set_new(taken, de->d_name,
					    json_true());
			}
			json_decref(r);
		}
		closedir(d);
	}
	n = json_array_size(all);
	v = calloc(n + 1, sizeof *v);
	for (i = 0; v != NULL && i < n; i++) {
		v[i].r = json_array_get(all, i);
		v[i].ci = (long)json_integer_value(json_object_get(v[i].r,
		    "chunk_index"));
		v[i].ws = (long)json_integer_value(json_object_get(v[i].r,
		    "websdr"));
		if (i > 0 && cmp_rows(&v[i - 1], &v[i]) > 0)
			in_order = 0;
	}
	/* a final manifest's rows are in order already */
	if (v != NULL && !in_order)
		qsort(v, n, sizeof *v, cmp_rows);
	sorted = json_array();
	for (i = 0; v != NULL && i < n; i++)
		json_array_append(sorted, v[i].r);
	free(v);
	json_decref(all);
	return sorted;
}

/* ---- localization rows (src/engine/locate.h), per chunk index ---- */

/* What a chunk index is called in held.loc and in a rows/loc.jsonl line's
 * "chunk": its number, or "final" for the session fix (-1). */
static void
loc_label(int chunk_index, char *buf, size_t len)
{
	if (chunk_index < 0)
		snprintf(buf, len, "final");
	else
		snprintf(buf, len, "%06d", chunk_index);
}

int
dataset_put_loc(struct dataset *ds, const char *id, int chunk_index,
    const json_t *tdoa, const json_t *fixes, char *err, size_t errlen)
{
	char	 label[16], path[PATH_MAX], *text = NULL, *line = NULL;
	struct held *h;
	json_t	*o;
	size_t	 n = 0;
	int	 rc = -1;

	if (chunk_index < -1 || !json_is_array(fixes) || (tdoa != NULL &&
	    !json_is_array(tdoa))) {
		snprintf(err, errlen, "session %s: bad localization rows", id);
		return -1;
	}
	if (session_path(ds, id, "rows/loc.jsonl", path, sizeof path, err,
	    errlen) != 0)
		return -1;
	/* wr: this session's writes in order, none after its final
	 * manifest (finish closes the file under it) */
	if ((h = held_write_lock(ds, id, err, errlen)) == NULL)
		return -1;
	loc_label(chunk_index, label, sizeof label);
	o = json_pack("{s:s, s:o, s:O}", "chunk", label, "tdoa", tdoa !=
	    NULL ? json_incref((json_t *)tdoa) : json_array(), "fixes",
	    fixes);
	/* locate's reals are rounded to their resolution (short): one
	 * printf each */
	text = o != NULL ? util_json_dumps_q(o, JSON_COMPACT |
	    JSON_PRESERVE_ORDER) : NULL;
	/* the line: the text and its '\n', in the text's own buffer */
	if (text != NULL && (n = strlen(text)) > 0 &&
	    (line = realloc(text, n + 2)) != NULL) {
		text = NULL;
		line[n++] = '\n';
		line[n] = '\0';
	}
	/*
	 * One line appended to rows/loc.jsonl per chunk index, the file
	 * opened once a session: a file created and renamed per chunk index
	 * cost 0.1-0.3 ms of CPU each on a quiet recorder (the kernel's cold
	 * create path), 1-2 ms of a 10-s session whether or not anything
	 * could be located (bench/README.md). Not synced here: the session's
	 * next batch (its syncfs, dataset_put_batch) or its final manifest
	 * makes it durable, at most a chunk later (a fsync of its own per
	 * chunk index cost as much CPU as the fix). A process killed at any
	 * point leaves whole lines and at most a torn last one; a machine
	 * that stops before the barrier may lose or tear the last lines:
	 * merge_loc skips a line that does not parse. A failed write is cut
	 * off again (ftruncate), so the next line starts on its own.
	 */
	if (line == NULL)
		snprintf(err, errlen, "session %s: cannot write its "
		    "localization rows", id);
	else {
		if (h->locfd <= 0) {
			struct stat st;
			int fd = open(path, O_WRONLY | O_CREAT | O_APPEND |
			    O_CLOEXEC, 0644);

			if (fd >= 0 && fstat(fd, &st) == 0) {
				h->locfd = fd;
				h->locsize = st.st_size;
			} else if (fd >= 0)
				close(fd);
		}
		if (h->locfd > 0 && util_write_all(h->locfd, line, n) == 0) {
			h->locsize += (off_t)n;
			h->locown += (off_t)n;
			rc = 0;
		} else {
			snprintf(err, errlen, "cannot write %s: %s", path,
			    strerror(errno));
			if (h->locfd > 0)
				(void)!ftruncate(h->locfd, h->locsize);
		}
	}
	free(line);
	free(text);
	if (rc == 0) {
		/* what the line holds, for this process's merge_loc: o's
		 * reals are the rounded ones its text spells (util_round_q:
		 * the nearest double to that decimal, which is what parsing
		 * the text gives back) */
		pthread_mutex_lock(&ds->lock);
		if (h->loc == NULL)
			h->loc = json_object();
		json_object_set(h->loc, label, o);
		pthread_mutex_unlock(&ds->lock);
	}
	pthread_mutex_unlock(&h->wr);
	if (rc == 0)
		notify(ds, id, "batch");
	json_decref(o);
	return rc;
}

/* A TDoA row's key (chunk index, then the pair in either order) or a fix
 * row's (chunk index; the session fix after every chunk's). */
static void
loc_key(const json_t *r, int fix, char *buf, size_t len)
{
	json_int_t	k = json_integer_value(json_object_get(r, "chunk_index"));
	json_int_t	a = json_integer_value(json_object_get(r, "websdr_a"));
	json_int_t	b = json_integer_value(json_object_get(r, "websdr_b"));

	if (fix && json_is_true(json_object_get(r, "final")))
		snprintf(buf, len, "final");
	else if (fix)
		snprintf(buf, len, "%lld", (long long)k);
	else
		snprintf(buf, len, "%lld:%lld:%lld", (long long)k,
		    (long long)(a < b ? a : b), (long long)(a < b ? b : a));
}

static int
cmp_loc(const void *x, const void *y)
{
	const json_t	*a = *(json_t *const *)x, *b = *(json_t *const *)y;
	json_int_t	 d;
	int		 fa = json_is_true(json_object_get(a, "final"));
	int		 fb = json_is_true(json_object_get(b, "final"));

	if (fa != fb)
		return fa - fb;
	d = json_integer_value(json_object_get(a, "chunk_index")) -
	    json_integer_value(json_object_get(b, "chunk_index"));
	if (d == 0)
		d = json_integer_value(json_object_get(a, "websdr_a")) -
		    json_integer_value(json_object_get(b, "websdr_a"));
	if (d == 0)
		d = json_integer_value(json_object_get(a, "websdr_b")) -
		    json_integer_value(json_object_get(b, "websdr_b"));
	return d < 0 ? -1 : d > 0;
}

/* Add the rows of src (an array or NULL) to out, each key once (the first
 * one seen wins: the manifest's, then the files'). */
static void
loc_add(json_t *out, json_t *seen, const json_t *src, int fix)
{
	char	 key[96];
	json_t	*r;
	size_t	 i;

	json_array_foreach(src, i, r) {
		if (!json_is_object(r))
			continue;
		loc_key(r, fix, key, sizeof key);
		if (json_object_get(seen, key) != NULL)
			continue;
		json_object_set_new(seen, key, json_true());
		json_array_append(out, r);
	}
}

static json_t *
loc_sorted(json_t *a)
{
	size_t	 n = json_array_size(a), i;
	json_t	**v = calloc(n + 1, sizeof *v), *out;

	if (v == NULL)
		return a;
	for (i = 0; i < n; i++)
		v[i] = json_array_get(a, i);
	qsort(v, n, sizeof *v, cmp_loc);
	out = json_array();
	for (i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	json_decref(a);
	return out;
}

/* One chunk index's rows ({"tdoa": [...], "fixes": [...]}) into the
 * merge, unless that index was taken already (seen_chunk, by label). */
static void
loc_take(json_t *tdoa, json_t *fixes, json_t *st, json_t *sf,
    json_t *seen_chunk, const char *label, const json_t *r)
{
	if (!json_is_object(r))
		return;
	if (label != NULL) {
		if (json_object_get(seen_chunk, label) != NULL)
			return;
		json_object_set_new(seen_chunk, label, json_true());
	}
	loc_add(tdoa, st, json_object_get(r, "tdoa"), 0);
	loc_add(fixes, sf, json_object_get(r, "fixes"), 1);
}

/*
 * The localization rows a recorder wrote as it located each chunk index
 * (rows/loc.jsonl, dataset_put_loc: a line per chunk index) merged into
 * m's "tdoa" and "fixes": a recorder killed mid-session keeps them, as it
 * keeps its measurement rows. Nothing is added to a manifest that has
 * neither and no such line. The manifest's rows come first, then the
 * file's lines from the last (a chunk index written twice: the later
 * line), skipping one that does not parse (a torn last line); then the
 * rows/loc_*.json files of recorders before 2026-12-04 (a file per chunk
 * index), which a recovery may still find. own: what this process
 * appended, by chunk label (held.loc; NULL: read the file), when the file
 * holds nothing else: not read again (the session's end read and parsed
 * each chunk's rows, ~1 ms of a 7-station session).
 */
static void
merge_loc(struct dataset *ds, const char *id, json_t *m, const json_t *own)
{
	char		 rowsdir[PATH_MAX], path[PATH_MAX], err[512];
	json_t		*tdoa, *fixes, *st, *sf, *seen, *r;
	struct dirent	*de;
	DIR		*d;
	int		 any = json_is_array(json_object_get(m, "tdoa")) ||
			    json_is_array(json_object_get(m, "fixes"));

	tdoa = json_array();
	fixes = json_array();
	st = json_object();
	sf = json_object();
	seen = json_object();
	loc_add(tdoa, st, json_object_get(m, "tdoa"), 0);
	loc_add(fixes, sf, json_object_get(m, "fixes"), 1);
	if (own != NULL) {
		const char *label;

		json_object_foreach((json_t *)own, label, r) {
			loc_take(tdoa, fixes, st, sf, seen, label, r);
			any = 1;
		}
	} else if (session_path(ds, id, "rows/loc.jsonl", path, sizeof path,
	    err, sizeof err) == 0) {
		size_t	 len = 0, e;
		char	*buf = util_read_file(path, DS_MAX_MANIFEST, &len, err,
			    sizeof err);

		/* lines from the last: split at each '\n' going back */
		for (e = len; buf != NULL && e > 0; ) {
			size_t	b = e - 1;

			while (b > 0 && buf[b - 1] != '\n')
				b--;
			r = json_loadb(buf + b, e - b, 0, NULL);
			if (json_is_object(r)) {
				loc_take(tdoa, fixes, st, sf, seen,
				    json_string_value(json_object_get(r,
				    "chunk")), r);
				any = 1;
			}
			json_decref(r);
			e = b;
		}
		free(buf);
	}
	if (session_path(ds, id, "rows", rowsdir, sizeof rowsdir, err,
	    sizeof err) == 0 && (d = opendir(rowsdir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			size_t l = strlen(de->d_name);
			if (strncmp(de->d_name, "loc_", 4) != 0 || l < 5 ||
			    strcmp(de->d_name + l - 5, ".json") != 0 ||
			    util_fmt(path, sizeof path, "%s/%s", rowsdir,
			    de->d_name) != 0)
				continue;
			r = read_json(path, DS_MAX_MANIFEST, err, sizeof err);
			if (json_is_object(r)) {
				loc_take(tdoa, fixes, st, sf, seen, NULL, r);
				any = 1;
			}
			json_decref(r);
		}
		closedir(d);
	}
	if (any) {
		json_object_set_new(m, "tdoa", loc_sorted(tdoa));
		json_object_set_new(m, "fixes", loc_sorted(fixes));
	} else {
		json_decref(tdoa);
		json_decref(fixes);
	}
	json_decref(st);
	json_decref(sf);
	json_decref(seen);
}

/*
 * Read sessions/<id>/manifest.json and check that it is a session's
 * manifest: a JSON object whose "session" holds this id, a name, a start
 * and a status. NULL if it is not, with why in err ("manifest.json is
 * empty", "manifest.json: line 3: ...", ...), without the session id: the
 * callers name the session.
 */
static json_t *
manifest_read_st(struct dataset *ds, const char *id, struct stat *pst,
    char *err, size_t errlen)
{
	char		 path[PATH_MAX], e[512];
	json_error_t	 jerr;
	struct stat	 st;
	json_t		*m, *ses;
	const char	*sid;
	char		*buf;
	size_t		 len;

	if (session_path(ds, id, "manifest.json", path, sizeof path, err,
	    errlen) != 0)
		return NULL;
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, errno == ENOENT ? "manifest.json is "
		    "missing" : "manifest.json: %s", strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "manifest.json is not a regular file");
		return NULL;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "manifest.json is empty");
		return NULL;
	}
	if ((buf = util_read_file(path, DS_MAX_MANIFEST, &len, e,
	    sizeof e)) == NULL) {
		snprintf(err, errlen, "%s", e);
		return NULL;
	}
	m = json_loadb(buf, len, 0, &jerr);
	free(buf);
	if (m == NULL) {
		snprintf(err, errlen, "manifest.json is not valid JSON (line %d: "
		    "%s)", jerr.line, jerr.text);
		return NULL;
	}
	ses = json_object_get(m, "session");
	sid = json_string_value(json_object_get(ses, "id"));
	if (!json_is_object(ses))
		snprintf(err, errlen, "manifest.json has no session object");
	else if (sid == NULL || !json_is_string(json_object_get(ses,
	    "session_name")) || !json_is_string(json_object_get(ses,
	    "session_start")) || !json_is_string(json_object_get(ses,
	    "status")))
		snprintf(err, errlen, "manifest.json lacks the session's id, "
		    "session_name, session_start or status");
	else if (strcasecmp(sid, id) != 0)
		snprintf(err, errlen, "manifest.json belongs to session %.40s",
		    sid);
	else {
		if (pst != NULL)
			*pst = st;
		return m;
	}
	json_decref(m);
	return NULL;
}

static json_t *
manifest_read(struct dataset *ds, const char *id, char *err, size_t errlen)
{
	return manifest_read_st(ds, id, NULL, err, errlen);
}

/* Whether two stats are of the same, unchanged file: every manifest write
 * is a new file renamed over the old (a new inode). */
static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size && a->st_mtim.tv_sec ==
	    b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* The kept manifest of session id (taken: handed out once) if its file
 * is still the one parsed; else NULL. */
static json_t *
kept_take(struct dataset *ds, const char *id)
{
	char		 path[PATH_MAX], err[64];
	struct kept	**pp, *k = NULL;
	struct stat	 st;
	json_t		*m = NULL;

	pthread_mutex_lock(&ds->lock);
	for (pp = &ds->kept; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->id, id) == 0) {
			k = *pp;
			*pp = k->next;
			ds->kept_bytes -= (size_t)k->st.st_size;
			break;
		}
	pthread_mutex_unlock(&ds->lock);
	if (k == NULL)
		return NULL;
	if (session_path(ds, id, "manifest.json", path, sizeof path, err,
	    sizeof err) == 0 && stat(path, &st) == 0 && same_file(&st, &k->st))
		m = k->m;
	else
		json_decref(k->m);
	free(k);
	return m;
}

/* Whether a directory entry is a chunk file ("chunk_*.npy"). */
static int
is_chunk_file(const char *name)
{
	size_t	l = strlen(name);

	return strncmp(name, "chunk_", 6) == 0 && l > 10 &&
	    strcmp(name + l - 4, ".npy") == 0;
}

/* Whether a name is one of our temporaries: "x.tmp" (batches) or
 * "x.tmp.<pid>.<n>" (util_write_atomic). */
static int
is_tmp_file(const char *name)
{
	size_t		 l = strlen(name);
	const char	*p = strstr(name, ".tmp.");

	return (l > 4 && strcmp(name + l - 4, ".tmp") == 0) ||
	    (p != NULL && p[5] >= '0' && p[5] <= '9');
}

/* Number of chunk files of a session. */
static int
count_chunk_files(struct dataset *ds, const char *id)
{
	char		 dir[PATH_MAX], err[64];
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	if (session_path(ds, id, "", dir, sizeof dir, err, sizeof err) != 0 ||
	    (d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		n += is_chunk_file(de->d_name);
	closedir(d);
	return n;
}

/*
 * Remove the temporaries of a session (its folder and rows/): what a
 * failed or killed write left. Only called when no writer can be at work
 * on it (its lock is held by the caller, or the session is final).
 */
static void
clean_tmp(struct dataset *ds, const char *id)
{
	char		 dir[PATH_MAX], path[PATH_MAX], err[64];
	struct dirent	*de;
	DIR		*d;
	int		 pass;

	for (pass = 0; pass < 2; pass++) {
		if (session_path(ds, id, pass ? "rows" : "", dir, sizeof dir,
		    err, sizeof err) != 0 || (d = opendir(dir)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			if (is_tmp_file(de->d_name) && util_fmt(path,
			    sizeof path, "%s/%s", dir, de->d_name) == 0)
				unlink(path);
		}
		closedir(d);
	}
}

json_t *
dataset_session_load(struct dataset *ds, const char *id, char *err,
    size_t errlen)
{
	return dataset_session_load_new(ds, id, NULL, err, errlen);
}

json_t *
dataset_session_load_new(struct dataset *ds, const char *id, json_t *taken,
    char *err, size_t errlen)
{
	json_t	*m;

	char	 why[600];

	if ((m = kept_take(ds, id)) == NULL &&
	    (m = manifest_read(ds, id, why, sizeof why)) == NULL) {
		snprintf(err, errlen, "session %s: %s", id, why);
		return NULL;
	}
	/* a final manifest holds every row (finish, recovery): all of
	 * them, whatever was taken before */
	if (is_final(json_string_value(json_object_get(json_object_get(m,
	    "session"), "status"))))
		taken = NULL;
	json_object_set_new(m, "measurements", merge_rows(ds, id, m, taken));
	merge_loc(ds, id, m, NULL);
	return m;
}

static void
remove_rows(struct dataset *ds, const char *id)
{
	char		 rowsdir[PATH_MAX], path[PATH_MAX], err[64];
	struct dirent	*de;
	DIR		*d;

	if (session_path(ds, id, "rows", rowsdir, sizeof rowsdir, err,
	    sizeof err) != 0 || (d = opendir(rowsdir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (util_fmt(path, sizeof path, "%s/%s", rowsdir,
		    de->d_name) == 0)
			unlink(path);
	}
	closedir(d);
	rmdir(rowsdir);
}

/*
 * The final manifest is written as it is made (finish): m's text, then
 * every measurement row, one a line, sorted as merge_rows sorts them,
 * through one buffer in front of the temporary file. Nothing of the size
 * of the rows is held: a row whose text in its rows file is the text the
 * manifest carries (util_json_dumps' compact form, as the recorder
 * writes them) is kept as its place in that file and copied from there;
 * others as their text. For 1000 receivers x 10 s (10,000 rows, 7.5 MB)
 * building the whole text in memory (the rows' text, m's, the manifest's)
 * added ~25 MB to the recorder's peak; this adds ~0.5 MB.
 */
struct mrow {
	json_int_t	 k, websdr;
	char		*text;		/* NULL: len bytes at off of file */
	int		 file;		/* index in struct mrows' names */
	size_t		 off, len;
};

struct mrows {
	struct mrow	*v;
	size_t		 n, cap;
	char		**names;	/* rows files (leaf names) */
	int		 nnames, capnames;
};

static int
cmp_mrow(const void *a, const void *b)
{
	const struct mrow *x = a, *y = b;

	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	return (x->websdr > y->websdr) - (x->websdr < y->websdr);
}

static void
mrows_free(struct mrows *r)
{
	size_t	i;
	int	j;

	for (i = 0; i < r->n; i++)
		free(r->v[i].text);
	for (j = 0; j < r->nnames; j++)
		free(r->names[j]);
	free(r->v);
	free(r->names);
}

/* Room for one more row (r->v[r->n]). -1: out of memory. */
static int
mrows_grow(struct mrows *r)
{
	struct mrow	*nv;
	size_t		 cap;

	if (r->n < r->cap)
		return 0;
	cap = r->cap ? 2 * r->cap : 1024;
	if ((nv = realloc(r->v, cap * sizeof *nv)) == NULL)
		return -1;
	r->v = nv;
	r->cap = cap;
	return 0;
}

/* A row: its keys, and its text (given, malloc'd) or its place. */
static int
mrows_add(struct mrows *r, const json_t *row, char *text, int file,
    size_t off, size_t len)
{
	if (mrows_grow(r) != 0)
		return -1;
	r->v[r->n] = (struct mrow){ json_integer_value(json_object_get(row,
	    "chunk_index")), json_integer_value(json_object_get(row,
	    "websdr")), text, file, off, len };
	r->n++;
	return 0;
}

static size_t
skip_ws(const char *b, size_t len, size_t i)
{
	while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' ||
	    b[i] == '\r'))
		i++;
	return i;
}

/*
 * The rows of one rows file (text b, len bytes; file: its index): parsed
 * one element at a time, each kept as its place when its text there is
 * util_json_dumps' (checked: the row is dumped and compared), else as
 * that text. A file that is not an array of JSON values as json_loadb
 * reads it is parsed whole instead (what is not JSON has no rows). -1:
 * out of memory.
 */
static int
mrows_file(struct mrows *r, const char *b, size_t len, int file)
{
	json_error_t	 jerr;
	json_t		*row, *all;
	size_t		 i, n0 = r->n, used;
	char		*text;
	int		 ok = 1;

	i = skip_ws(b, len, 0);
	if (i < len && b[i] == '[') {
		i = skip_ws(b, len, i + 1);
		if (i < len && b[i] == ']')
			i++;
		else
			for (;;) {
				row = json_loadb(b + i, len - i,
				    JSON_DISABLE_EOF_CHECK, &jerr);
				if (row == NULL) {
					ok = 0;
					break;
				}
				used = (size_t)jerr.position;
				text = util_json_dumps(row, JSON_COMPACT |
				    JSON_PRESERVE_ORDER);
				if (text == NULL) {
					json_decref(row);
					return -1;
				}
				if (strlen(text) == used && used > 0 &&
				    memcmp(text, b + i, used) == 0) {
					free(text);
					text = NULL;
				}
				if (mrows_add(r, row, text, file, i, text !=
				    NULL ? strlen(text) : used) != 0) {
					free(text);
					json_decref(row);
					return -1;
				}
				json_decref(row);
				i = skip_ws(b, len, i + used);
				if (i < len && b[i] == ',') {
					i = skip_ws(b, len, i + 1);
					continue;
				}
				if (i < len && b[i] == ']')
					i++;
				else
					ok = 0;
				break;
			}
		if (ok && skip_ws(b, len, i) == len)
			return 0;
	}
	/* not what the recorder writes: its rows, if any, as their text */
	while (r->n > n0)
		free(r->v[--r->n].text);
	if ((all = json_loadb(b, len, 0, &jerr)) == NULL)
		return 0;
	json_array_foreach(all, i, row) {
		if ((text = util_json_dumps(row, JSON_COMPACT |
		    JSON_PRESERVE_ORDER)) == NULL ||
		    mrows_add(r, row, text, file, 0, strlen(text)) != 0) {
			free(text);
			json_decref(all);
			return -1;
		}
	}
	json_decref(all);
	return 0;
}

/*
 * An integer member of the object whose text is b[i..e) (compact JSON as
 * jansson writes it: no white space), at its top level: its value at
 * *out. 0, or -1 if it is not there as a plain integer.
 */
static int
scan_int_member(const char *b, size_t i, size_t e, const char *key,
    json_int_t *out)
{
	size_t		 klen = strlen(key), s;
	int		 depth = 0, neg;
	json_int_t	 v;

	for (; i < e; i++) {
		if (b[i] == '{' || b[i] == '[')
			depth++;
		else if (b[i] == '}' || b[i] == ']')
			depth--;
		else if (b[i] == '"') {
			/* a key at the top level follows '{' or ',' */
			int is_key = depth == 1 && (b[i - 1] == '{' ||
			    b[i - 1] == ',');
			for (s = ++i; i < e && b[i] != '"'; i++)
				if (b[i] == '\\')
					i++;
			if (!is_key || i - s != klen || i + 1 >= e ||
			    b[i + 1] != ':' || memcmp(b + s, key, klen) != 0)
				continue;
			i += 2;
			neg = i < e && b[i] == '-';
			i += neg;
			if (i >= e || b[i] < '0' || b[i] > '9')
				return -1;
			for (v = 0; i < e && b[i] >= '0' && b[i] <= '9' &&
			    v < LLONG_MAX / 16; i++)
				v = 10 * v + (b[i] - '0');
			if (i >= e || (b[i] != ',' && b[i] != '}'))
				return -1;	/* a real, or too long */
			*out = neg ? -v : v;
			return 0;
		}
	}
	return -1;
}

/*
 * The rows of a rows file this process wrote (dataset_put_batch_text:
 * util_json_dumps' compact text of an array of objects, so each element's
 * text is the one the manifest carries): each row's place, found by
 * scanning the text for the elements' ends and the two keys, without
 * parsing the row (mrows_file's parse and re-dump of every row, to check
 * that its text is that text, was ~a third of a 7-station session's end:
 * the reals read by strtod and written again by their shortest form).
 * 0; 1: not that shape (nothing added: the caller parses it); -1: out of
 * memory.
 */
static int
mrows_own(struct mrows *r, const char *b, size_t len, int file)
{
	size_t		 i = 0, s, n0 = r->n;
	int		 depth, in_str;
	json_int_t	 k, w;

	if (len < 2 || b[0] != '[' || b[len - 1] != ']')
		return 1;
	if (len == 2)
		return 0;
	for (i = 1; i < len - 1; i++) {
		if (b[i] != '{')
			goto other;
		depth = in_str = 0;
		for (s = i; i < len - 1; i++) {
			if (in_str) {
				if (b[i] == '\\')
					i++;
				else if (b[i] == '"')
					in_str = 0;
			} else if (b[i] == '"')
				in_str = 1;
			else if (b[i] == '{' || b[i] == '[')
				depth++;
			else if ((b[i] == '}' || b[i] == ']') && --depth == 0)
				break;
		}
		if (i >= len - 1 || scan_int_member(b, s, i + 1, "chunk_index",
		    &k) != 0 || scan_int_member(b, s, i + 1, "websdr", &w) != 0)
			goto other;
		if (mrows_grow(r) != 0)
			return -1;
		r->v[r->n++] = (struct mrow){ k, w, NULL, file, s, i + 1 - s };
		i++;	/* onto the ',' or the closing ']' */
		if (i < len - 1 && (b[i] != ',' || i + 1 == len - 1))
			goto other;

	}
	return 0;
other:
	r->n = n0;
	return 1;
}

/* N of a rows file's name "batch_N.json" as dataset_put_batch_text names
 * it (N in %06d), or -1. */
static int
batch_number(const char *name)
{
	const char	*p = name + 6;
	int		 n = 0;

	if (strncmp(name, "batch_", 6) != 0)
		return -1;
	for (; *p >= '0' && *p <= '9' && n < INT_MAX / 10; p++)
		n = 10 * n + (*p - '0');
	if (p - name < 12 || strcmp(p, ".json") != 0)
		return -1;
	return n;
}

/* Every row of the session's rows files (rows/batch_*.json), sorted; the
 * files batch_000000 .. own - 1 are this process's own (mrows_own).
 * -1: out of memory. */
static int
mrows_collect(struct dataset *ds, const char *id, int own, struct mrows *r)
{
	char		 rowsdir[PATH_MAX], path[PATH_MAX], e[512], **nn;
	struct dirent	*de;
	DIR		*d;
	char		*buf;
	size_t		 len;
	int		 rc = 0, num;

	if (session_path(ds, id, "rows", rowsdir, sizeof rowsdir, e,
	    sizeof e) != 0 || (d = opendir(rowsdir)) == NULL)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (strncmp(de->d_name, "batch_", 6) != 0 || l < 5 ||
		    strcmp(de->d_name + l - 5, ".json") != 0 ||
		    util_fmt(path, sizeof path, "%s/%s", rowsdir,
		    de->d_name) != 0)
			continue;
		if ((buf = util_read_file(path, DS_MAX_MANIFEST, &len, e,
		    sizeof e)) == NULL)
			continue;
		if (r->nnames == r->capnames) {
			int cap = r->capnames ? 2 * r->capnames : 64;
			if ((nn = realloc(r->names, (size_t)cap *
			    sizeof *nn)) == NULL)
				rc = -1;
			else {
				r->names = nn;
				r->capnames = cap;
			}
		}
		if (rc == 0 && (r->names[r->nnames] =
		    strdup(de->d_name)) == NULL)
			rc = -1;
		if (rc == 0) {
			num = batch_number(de->d_name);
			rc = num >= 0 && num < own ? mrows_own(r, buf, len,
			    r->nnames) : 1;
			if (rc == 1)
				rc = mrows_file(r, buf, len, r->nnames);
			r->nnames++;
		}
		free(buf);
	}
	closedir(d);
	if (rc == 0 && r->n > 0)
		qsort(r->v, r->n, sizeof *r->v, cmp_mrow);
	return rc;
}

/* The buffer in front of the manifest's temporary file. */
#define WB_CAP	(64 * 1024)
struct wbuf {
	int	 fd;
	int	 failed;	/* errno of the first failure, or 0 */
	size_t	 n;
	char	 b[WB_CAP];
};

/* Make room for at least one byte: write out all but the last two bytes
 * (m's text ends "\n}", which the rows go before: finish takes it back). */
static void
wb_room(struct wbuf *w)
{
	if (w->n < WB_CAP)
		return;
	if (w->failed == 0 && util_write_all(w->fd, w->b, WB_CAP - 2) != 0)
		w->failed = errno != 0 ? errno : EIO;
	memmove(w->b, w->b + WB_CAP - 2, 2);
	w->n = 2;
}

/* util_json_dump_fn's put, and the rows' text */
static int
wb_put(const char *p, size_t len, void *ctx)
{
	struct wbuf	*w = ctx;
	size_t		 k;

	while (len > 0 && w->failed == 0) {
		wb_room(w);
		k = WB_CAP - w->n < len ? WB_CAP - w->n : len;
		memcpy(w->b + w->n, p, k);
		w->n += k;
		p += k;
		len -= k;
	}
	return w->failed != 0 ? -1 : 0;
}

/* len bytes at off of fd */
static void
wb_copy(struct wbuf *w, int fd, size_t off, size_t len)
{
	size_t	k;

	while (len > 0 && w->failed == 0) {
		wb_room(w);
		k = WB_CAP - w->n < len ? WB_CAP - w->n : len;
		if (util_pread_all(fd, w->b + w->n, k, (int64_t)off) != 0) {
			w->failed = errno != 0 ? errno : EIO;
			return;
		}
		w->n += k;
		off += k;
		len -= k;
	}
}

/*
 * The final manifest's text into w: m (without "measurements") as
 * util_json_dumps writes it with JSON_INDENT(1), and the rows as its last
 * member, one a line. 0, or -1 with errno set.
 */
#define MR_FDS	8
static int
final_write(struct dataset *ds, const char *id, const json_t *m,
    const struct mrows *r, struct wbuf *w)
{
	char		 rowsdir[PATH_MAX], path[PATH_MAX], e[64];
	int		 fds[MR_FDS], fdfile[MR_FDS], j, slot;
	const char	*tail;
	size_t		 i;

	if (util_json_dump_fn(m, JSON_INDENT(1) | JSON_PRESERVE_ORDER,
	    wb_put, w) != 0 || w->n < 2 || memcmp(w->b + w->n - 2, "\n}",
	    2) != 0) {
		/* m is an object with members (manifest_check): its text
		 * ends "\n}" */
		errno = w->failed != 0 ? w->failed : ENOMEM;
		return -1;
	}
	w->n -= 2;
	if (session_path(ds, id, "rows", rowsdir, sizeof rowsdir, e,
	    sizeof e) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (j = 0; j < MR_FDS; j++)
		fds[j] = fdfile[j] = -1;
	wb_put(",\n \"measurements\": [", 20, w);
	for (i = 0; i < r->n && w->failed == 0; i++) {
		const struct mrow *x = &r->v[i];
		wb_put(i ? ",\n  " : "\n  ", i ? 4 : 3, w);
		if (x->text != NULL) {
			wb_put(x->text, x->len, w);
			continue;
		}
		/* the rows come in the files' order, mostly: a few open */
		slot = x->file % MR_FDS;
		if (fdfile[slot] != x->file) {
			if (fds[slot] >= 0)
				close(fds[slot]);
			fdfile[slot] = x->file;
			fds[slot] = util_fmt(path, sizeof path, "%s/%s",
			    rowsdir, r->names[x->file]) != 0 ? -1 :
			    open(path, O_RDONLY | O_CLOEXEC);
			if (fds[slot] < 0) {
				w->failed = errno != 0 ? errno : EIO;
				break;
			}
		}
		wb_copy(w, fds[slot], x->off, x->len);
	}
	for (j = 0; j < MR_FDS; j++)
		if (fds[j] >= 0)
			close(fds[j]);
	tail = r->n ? "\n ]\n}" : "]\n}";
	wb_put(tail, strlen(tail), w);
	if (w->failed == 0 && util_write_all(w->fd, w->b, w->n) != 0)
		w->failed = errno != 0 ? errno : EIO;
	if (w->failed != 0) {
		errno = w->failed;
		return -1;
	}
	return 0;
}

/* Write the final manifest (rows merged), then drop rows/. own: the rows
 * files batch_000000 .. own - 1 are this process's (mrows_collect); 0 from
 * recovery, whose files another process wrote. */
static int
finish(struct dataset *ds, const char *id, int own, const json_t *own_loc,
    json_t *m, char *err, size_t errlen)
{
	char		 path[PATH_MAX], tmp[PATH_MAX];
	struct mrows	 r;
	struct wbuf	*w;
	int		 fd, rc;

	if (session_path(ds, id, "manifest.json", path, sizeof path, err,
	    errlen) != 0 || manifest_check(m, id, err, errlen) != 0)
		return -1;
	/* the localization rows into m (few: trees), the measurement rows
	 * copied from their files as the manifest is written */
	merge_loc(ds, id, m, own_loc);
	memset(&r, 0, sizeof r);
	if (mrows_collect(ds, id, own, &r) != 0 ||
	    (w = malloc(sizeof *w)) == NULL) {
		mrows_free(&r);
		snprintf(err, errlen, "cannot build %s: out of memory", path);
		return -1;
	}
	if ((fd = util_atomic_open(path, tmp, sizeof tmp, err,
	    errlen)) < 0) {
		free(w);
		mrows_free(&r);
		return -1;
	}
	w->fd = fd;
	w->failed = 0;
	w->n = 0;
	rc = util_atomic_commit(fd, tmp, path, final_write(ds, id, m, &r,
	    w) == 0, err, errlen);
	free(w);
	if (rc == 0) {
		/* The manifest now holds every row durably: rows/ is
		 * redundant, and so is whatever a failed write left (no
		 * .tmp in a final session). */
		remove_rows(ds, id);
		clean_tmp(ds, id);
		index_update(ds, id, m, (json_int_t)r.n, count_chunk_files(ds,
		    id));
	}
	mrows_free(&r);
	return rc;
}

int
dataset_session_finish(struct dataset *ds, const char *id,
    const json_t *manifest, char *err, size_t errlen)
{
	char		 path[PATH_MAX];
	struct held	*h;
	json_t		*m, *own_loc;
	int		 rc, own;

	if ((h = held_write_lock(ds, id, err, errlen)) == NULL)
		return -1;
	pthread_mutex_lock(&ds->lock);
	own = h->batch;		/* every rows file of the session is ours */
	own_loc = NULL;
	/* rows/loc.jsonl holds only what this process appended: its lines
	 * are what held.loc holds, not read again */
	if (h->loc != NULL && h->locfd > 0) {
		struct stat st;

		if (fstat(h->locfd, &st) == 0 && st.st_size == h->locown)
			own_loc = json_copy(h->loc);
	}
	pthread_mutex_unlock(&ds->lock);
	/* A shallow copy: finish only sets and deletes m's own members
	 * ("measurements", "tdoa", "fixes"); a deep one of a 1000-receiver
	 * manifest cost ~5 MB at the recorder's peak. */
	m = json_copy((json_t *)manifest);
	if (m == NULL) {
		snprintf(err, errlen, "session %s: out of memory", id);
		rc = -1;
	} else {
		json_object_del(m, "measurements");
		rc = finish(ds, id, own, own_loc, m, err, errlen);
	}
	json_decref(m);
	json_decref(own_loc);
	pthread_mutex_lock(&ds->lock);
	/* The lock file goes only once the final manifest is durable: a
	 * recovering process that takes the lock (this inode, or a new file
	 * after the unlink) re-reads the manifest under it and sees it
	 * final (recover_one). */
	if (session_path(ds, id, ".lock", path, sizeof path, err,
	    errlen) == 0 && rc == 0)
		unlink(path);
	close(h->fd);
	h->fd = 0;
	h->id[0] = '\0';
	if (h->locfd > 0)
		close(h->locfd);
	h->locfd = 0;
	json_decref(h->loc);
	h->loc = NULL;
	pthread_mutex_unlock(&ds->lock);
	pthread_mutex_unlock(&h->wr);
	if (rc == 0)
		notify(ds, id, "finish");
	return rc;
}

/* ---- recovery ---- */

/* Chunk files no row names: kept, and listed so nothing is lost. */
static json_t *
orphans(struct dataset *ds, const char *id, json_t *rows)
{
	char		 dir[PATH_MAX], key[PATH_MAX], path[PATH_MAX];
	char		 err[256];
	json_t		*out = json_array(), *r;
	struct dirent	*de;
	size_t		 i, n;
	float		*data;
	DIR		*d;
	int		 named;

	if (session_path(ds, id, "", dir, sizeof dir, err, sizeof err) != 0 ||
	    (d = opendir(dir)) == NULL)
		return out;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (util_fmt(path, sizeof path, "%s/%s", dir, de->d_name) != 0)
			continue;
		if (strstr(de->d_name, ".tmp") != NULL) {
			/* a torn write from the crash: never renamed, so no
			 * row or reader has seen it */
			unlink(path);
			continue;
		}
		if (strncmp(de->d_name, "chunk_", 6) != 0 || l < 4 ||
		    strcmp(de->d_name + l - 4, ".npy") != 0)
			continue;
		util_fmt(key, sizeof key, "sessions/%s/%s", id, de->d_name);
		named = 0;
		json_array_foreach(rows, i, r) {
			const char *loc = json_string_value(json_object_get(r,
			    "iq_data_location"));
			if (loc != NULL && strcmp(loc, key) == 0)
				named = 1;
		}
		if (named)
			continue;
		n = 0;
		if (npy_read_c8(path, &data, &n, err, sizeof err) == 0)
			free(data);
		json_array_append_new(out, json_pack("{s:s, s:I}",
		    "iq_data_location", key, "iq_samples_count",
		    (json_int_t)n));
	}
	closedir(d);
	return out;
}

/*
 * A session whose manifest is missing, empty, torn or not a session's:
 * rebuilt from what is left -- the rows files (complete measurement rows)
 * and the chunk files (chunks without a row are listed as orphans) -- so
 * that it is listed and replicated instead of vanishing. It is marked
 * failed (nothing proves it complete), the unusable file is kept beside
 * it as manifest.json.damaged[.N], and nothing else is deleted. Under the
 * session's lock: never while a recorder writes it. 0 if rebuilt (or
 * nothing to do), -1 if not (left as it is: listed as damaged).
 */
static int
rebuild_one(struct dataset *ds, const char *id, const char *why)
{
	char		 path[PATH_MAX], lock[PATH_MAX], aside[PATH_MAX];
	char		 err[512], now[40], reason[1024];
	json_t		*m, *ses, *rows, *r, *rb;
	const char	*t, *first = NULL, *last = NULL;
	struct stat	 st;
	size_t		 i;
	json_int_t	 maxk = -1, maxw = 0, freq = 0;
	int		 fd, files, k, rc = -1;

	if (session_path(ds, id, "manifest.json", path, sizeof path, err,
	    sizeof err) != 0 || session_path(ds, id, ".lock", lock,
	    sizeof lock, err, sizeof err) != 0)
		return -1;
	/* No manifest and nothing recorded: a session being created (its
	 * folder comes before its lock and manifest), or an empty folder. */
	if (dataset_session_check(ds, id, err, sizeof err) >= 0)
		return 0;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;	/* a live recorder: not ours to touch */
	}
	/* Under the lock, again: another process may have rebuilt it. */
	if ((m = manifest_read(ds, id, err, sizeof err)) != NULL) {
		json_decref(m);
		close(fd);
		return 0;
	}
	files = count_chunk_files(ds, id);
	rows = merge_rows(ds, id, NULL, NULL);
	json_array_foreach(rows, i, r) {
		t = json_string_value(json_object_get(r, "timestamp"));
		if (t != NULL && (first == NULL || strcmp(t, first) < 0))
			first = t;
		if (t != NULL && (last == NULL || strcmp(t, last) > 0))
			last = t;
		if (freq == 0)
			freq = (json_int_t)json_number_value(json_object_get(r,
			    "frequency_hz"));
	}
	util_iso8601(util_now(), now, sizeof now);
	ses = json_object();
	json_object_set_new(ses, "id", json_string(id));
	json_object_set_new(ses, "session_name",
	    json_string("(manifest rebuilt)"));
	json_object_set_new(ses, "frequency_hz", json_integer(freq));
	json_object_set_new(ses, "frequency_mhz", json_real((double)freq /
	    1e6));
	json_object_set_new(ses, "notes", json_string(""));
	json_object_set_new(ses, "status", json_string("failed"));
	json_object_set_new(ses, "known_source_id", json_null());
	json_object_set_new(ses, "source_name", json_null());
	/* no row: the time of the rebuild stands in for the unknown start */
	json_object_set_new(ses, "session_start", json_string(first != NULL ?
	    first : now));
	json_object_set_new(ses, "session_end", json_string(last != NULL ?
	    last : now));
	json_object_set_new(ses, "created_at", json_string(first != NULL ?
	    first : now));
	json_object_set_new(ses, "updated_at", json_string(now));
	snprintf(reason, sizeof reason, "manifest rebuilt from %d chunks "
	    "(%zu with their measurement row): %s", files,
	    json_array_size(rows), why);
	json_object_set_new(ses, "failure_reason", json_string(reason));
	json_object_set_new(ses, "approval_status", json_string("pending"));
	m = json_pack("{s:s, s:o, s:[], s:[]}", "format", "heimdall-rec/1",
	    "session", ses, "stations", "missing");
	/* stations stay unknown (their URLs were in the manifest); the rows
	 * name theirs. The grid: every chunk index of every receiver seen. */
	json_object_set_new(m, "orphans", orphans(ds, id, rows));
	json_array_foreach(rows, i, r) {
		if (json_integer_value(json_object_get(r, "chunk_index")) > maxk)
			maxk = json_integer_value(json_object_get(r,
			    "chunk_index"));
		if (json_integer_value(json_object_get(r, "websdr")) > maxw)
			maxw = json_integer_value(json_object_get(r, "websdr"));
	}
	json_array_foreach(json_object_get(m, "orphans"), i, r) {
		int w;
		t = json_string_value(json_object_get(r, "iq_data_location"));
		t = t != NULL ? strrchr(t, '/') : NULL;
		if (t != NULL && sscanf(t, "/chunk_%d_websdr_%d.npy", &k,
		    &w) == 2) {
			if (k > maxk)
				maxk = k;
			if (w > maxw)
				maxw = w;
		}
	}
	/* The chunk length: a row's duration rounded to the ms (a chunk
	 * holds floor or ceil of length x rate samples, well within one);
	 * 1000 when no row says */
	{
		int	 ms = 0;
		json_array_foreach(rows, i, r) {
			double d = json_number_value(json_object_get(r,
			    "duration_seconds"));
			if (d > 0 && d < 100) {
				ms = (int)lround(d * 1000);
				break;
			}
		}
		if (ms < 100 || ms > 5000)
			ms = 1000;
		json_object_set_new(ses, "chunk_ms", json_integer(ms));
		if ((maxk + 1) * ms % 1000 == 0)
			json_object_set_new(ses, "duration_seconds",
			    json_integer((maxk + 1) * ms / 1000));
		else
			json_object_set_new(ses, "duration_seconds",
			    json_real((double)(maxk + 1) * ms / 1000.0));
	}
	rb = json_pack("{s:s, s:s, s:i, s:I, s:I}", "at", now, "reason", why,
	    "chunk_files", files, "rows", (json_int_t)json_array_size(rows),
	    "chunks_expected", (maxk + 1) * maxw);
	json_decref(rows);
	/* keep the damaged file, under a name no earlier one has */
	if (lstat(path, &st) == 0) {
		for (k = 0; k < 100; k++) {
			if (util_fmt(aside, sizeof aside, k == 0 ? "%s.damaged" :
			    "%s.damaged.%d", path, k) != 0 ||
			    lstat(aside, &st) != 0)
				break;
		}
		if (k == 100 || rename(path, aside) != 0) {
			fprintf(stderr, "heimdall-rec: warning: session %s: %s; "
			    "cannot move it aside: %s\n", id, why,
			    strerror(k == 100 ? EEXIST : errno));
			goto out;
		}
		json_object_set_new(rb, "damaged_file", json_string(strrchr(
		    aside, '/') + 1));
	}
	json_object_set_new(m, "rebuilt", rb);
	rb = NULL;
	if (finish(ds, id, 0, NULL, m, err, sizeof err) != 0) {
		fprintf(stderr, "heimdall-rec: warning: session %s: %s; cannot "
		    "rebuild it: %s\n", id, why, err);
		goto out;
	}
	unlink(lock);
	fprintf(stderr, "heimdall-rec: session %s: %s\n", id, reason);
	rc = 0;
out:
	json_decref(rb);
	json_decref(m);
	close(fd);
	return rc;
}

int
dataset_session_check(struct dataset *ds, const char *id, char *why,
    size_t len)
{
	json_t	*m, *rows;
	int	 files;

	if ((m = manifest_read(ds, id, why, len)) != NULL) {
		json_decref(m);
		return 0;
	}
	if (strcmp(why, "manifest.json is missing") == 0) {
		rows = merge_rows(ds, id, NULL, NULL);
		files = count_chunk_files(ds, id);
		len = json_array_size(rows);
		json_decref(rows);
		if (files == 0 && len == 0)
			return 1;
	}
	return -1;
}

/* ---- the session index ---- */

/*
 * The listing row of a session from its manifest, the number of rows
 * stored and of chunk files on disk: NULL if the manifest lacks a field
 * every row has (such a folder is not listed).
 */
static json_t *
row_from_manifest(const char *id, const json_t *m, json_int_t stored,
    json_int_t files)
{
	static const char *const keys[] = { "session_name", "status",
	    "frequency_hz", "duration_seconds", "session_start" };
	json_t		*ses = json_object_get(m, "session"), *o, *v;
	json_t		*rebuilt = json_object_get(m, "rebuilt");
	json_int_t	 expected, nst;
	size_t		 i;

	/* stations left out for the frequency (state "excluded", the
	 * engine's session_station_takes) owe no chunk */
	nst = 0;
	json_array_foreach(json_object_get(m, "stations"), i, v)
		nst += !json_is_string(json_object_get(v, "state")) ||
		    strcmp(json_string_value(json_object_get(v, "state")),
		    "excluded") != 0;
	expected = dataset_session_total_chunks(ses) * nst;
	if (json_is_object(rebuilt))
		expected = json_integer_value(json_object_get(rebuilt,
		    "chunks_expected"));
	o = json_pack("{s:s}", "id", id);
	/* Copies: the row outlives the caller's manifest and is shared. */
	for (i = 0; i < sizeof keys / sizeof keys[0] && o != NULL; i++) {
		if ((v = json_object_get(ses, keys[i])) == NULL) {
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, keys[i], json_deep_copy(v));
	}
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "chunks_expected", json_integer(expected));
	json_object_set_new(o, "chunk_ms",
	    json_integer(dataset_session_chunk_ms(ses)));
	json_object_set_new(o, "chunks_stored", json_integer(stored));
	json_object_set_new(o, "chunks_missing", json_integer(expected -
	    stored));
	if ((v = json_object_get(ses, "failure_reason")) != NULL)
		json_object_set_new(o, "failure_reason", json_deep_copy(v));
	/* a manifest is read back from disk: a group id that is not one
	 * (edited by hand) is left out rather than shown or sent on */
	v = json_object_get(ses, "group_id");
	if (json_is_string(v) && util_is_token(json_string_value(v),
	    UTIL_GROUP_ID_MAX))
		json_object_set_new(o, "group_id", json_deep_copy(v));
	json_object_set_new(o, "chunk_files", json_integer(files));
	/* The session fix (the "final" row of "fixes", src/engine/locate.h):
	 * manifests written before localization have none. */
	json_array_foreach(json_object_get(m, "fixes"), i, v) {
		if (json_is_true(json_object_get(v, "final"))) {
			json_t *fix = json_deep_copy(v);
			json_object_del(fix, "session_id");
			json_object_set_new(o, "fix", fix);
		}
	}
	if (json_is_object(rebuilt))
		json_object_set_new(o, "rebuilt", json_deep_copy(rebuilt));
	return o;
}

/*
 * The row of session id as the folder has it now (reads its manifest,
 * rows and chunk names): NULL if it is not listed (being created, or an
 * empty folder). A damaged manifest that was not rebuilt (a live lock, a
 * read-only dataset) is listed, never hidden: status "damaged".
 */
static json_t *
row_load(struct dataset *ds, const char *id)
{
	char	 why[600];
	json_t	*m, *rows, *o;
	int	 files = count_chunk_files(ds, id);

	if ((m = manifest_read(ds, id, why, sizeof why)) == NULL) {
		if (dataset_session_check(ds, id, why, sizeof why) >= 0)
			return NULL;
		rows = merge_rows(ds, id, NULL, NULL);
		o = json_pack("{s:s, s:n, s:s, s:n, s:n, s:n, s:i, s:I, s:i, "
		    "s:s, s:i}", "id", id, "session_name", "status", "damaged",
		    "frequency_hz", "duration_seconds", "session_start",
		    "chunks_expected", 0, "chunks_stored",
		    (json_int_t)json_array_size(rows), "chunks_missing", 0,
		    "damaged", why, "chunk_files", files);
		json_decref(rows);
		return o;
	}
	rows = merge_rows(ds, id, m, NULL);
	o = row_from_manifest(id, m, (json_int_t)json_array_size(rows), files);
	json_decref(rows);
	json_decref(m);
	return o;
}

static struct ds_entry *
index_find(struct dataset *ds, const char *id)
{
	size_t	i;

	for (i = 0; i < ds->nidx; i++)
		if (strcmp(ds->idx[i].id, id) == 0)
			return &ds->idx[i];
	return NULL;
}

/* Replace e's row (taking the reference) and its text. Under ilock. */
static void
entry_set(struct ds_entry *e, json_t *row)
{
	char	*text = util_json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);

	json_decref(e->row);
	free(e->text);
	e->row = row;
	e->text = text;
	e->tlen = text != NULL ? strlen(text) : 0;
}

/* Put row (taking the reference) for session id; with only_new, an
 * indexed session is left alone. Under ilock. */
static void
index_put(struct dataset *ds, const char *id, json_t *row, int only_new)
{
	struct ds_entry	*e, *nv;
	const char	*start;

	e = index_find(ds, id);
	if (e != NULL && only_new) {
		json_decref(row);
		return;
	}
	if (e == NULL) {
		if (ds->nidx == ds->cidx) {
			nv = realloc(ds->idx, (ds->cidx * 2 + 64) * sizeof *nv);
			if (nv == NULL) {
				json_decref(row);
				return;
			}
			ds->idx = nv;
			ds->cidx = ds->cidx * 2 + 64;
		}
		e = &ds->idx[ds->nidx++];
		memset(e, 0, sizeof *e);
		snprintf(e->id, sizeof e->id, "%s", id);
	}
	start = json_string_value(json_object_get(row, "session_start"));
	if (start == NULL)
		start = "";
	if (strcmp(e->start, start) != 0 || e->row == NULL)
		ds->sorted = 0;
	snprintf(e->start, sizeof e->start, "%s", start);
	e->final = is_final(json_string_value(json_object_get(row,
	    "status")));
	entry_set(e, row);
}

/*
 * This process wrote manifest m of session id, with `stored` rows and
 * `files` chunk files; < 0 keeps the index's counts (a manifest save
 * touches neither). Before the index is built there is nothing to update:
 * building reads the folder.
 */
static void
index_update(struct dataset *ds, const char *id, const json_t *m,
    json_int_t stored, json_int_t files)
{
	struct ds_entry	*e;
	json_t		*row;

	pthread_mutex_lock(&ds->ilock);
	if (ds->live) {
		e = index_find(ds, id);
		if (stored < 0)
			stored = e != NULL ? json_integer_value(json_object_get(
			    e->row, "chunks_stored")) : 0;
		if (files < 0)
			files = e != NULL ? json_integer_value(json_object_get(
			    e->row, "chunk_files")) : 0;
		if ((row = row_from_manifest(id, m, stored, files)) != NULL)
			index_put(ds, id, row, 0);
	}
	pthread_mutex_unlock(&ds->ilock);
}

/* A batch of n chunks and their n rows was stored. */
static void
index_add_rows(struct dataset *ds, const char *id, size_t n)
{
	struct ds_entry	*e;
	json_int_t	 stored, expected;
	json_t		*row;

	pthread_mutex_lock(&ds->ilock);
	/* A new row: pages handed out share the old one (see row). */
	if ((e = index_find(ds, id)) != NULL &&
	    (row = json_copy(e->row)) != NULL) {
		stored = json_integer_value(json_object_get(row,
		    "chunks_stored")) + (json_int_t)n;
		expected = json_integer_value(json_object_get(row,
		    "chunks_expected"));
		json_object_set_new(row, "chunks_stored", json_integer(stored));
		json_object_set_new(row, "chunks_missing",
		    json_integer(expected - stored));
		json_object_set_new(row, "chunk_files", json_integer(
		    json_integer_value(json_object_get(row, "chunk_files")) +
		    (json_int_t)n));
		entry_set(e, row);
	}
	pthread_mutex_unlock(&ds->ilock);
}

/* Newest first; the id breaks ties, so a `before` cursor is exact. */
static int
cmp_entry(const void *a, const void *b)
{
	const struct ds_entry	*x = a, *y = b;
	int			 c = strcmp(y->start, x->start);

	return c != 0 ? c : strcmp(y->id, x->id);
}

static int
cmp_id(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/*
 * Pick up what other processes did to the folder: sessions they created
 * (or that vanished), and the progress of those they are still writing
 * (not final, and not held by this process). Manifests are read without
 * ilock held; only the few sessions found that way are read.
 */
static void
index_rescan(struct dataset *ds)
{
	char		 dir[PATH_MAX], held[DS_MAX_LOCKS][UTIL_UUID_LEN];
	char		 (*ids)[UTIL_UUID_LEN] = NULL, (*todo)[UTIL_UUID_LEN] = NULL;
	char		 (*nv)[UTIL_UUID_LEN], *isnew = NULL;
	size_t		 n = 0, cap = 0, ntodo = 0, i, j;
	int		 nheld = 0, mine;
	struct dirent	*de;
	json_t		*row;
	DIR		*d;

	if (pthread_mutex_trylock(&ds->scan) != 0)
		return;			/* another thread is at it */
	if (util_fmt(dir, sizeof dir, "%s/sessions", ds->dir) != 0 ||
	    (d = opendir(dir)) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		if (!util_is_uuid(de->d_name))
			continue;
		if (n == cap) {
			nv = realloc(ids, (cap * 2 + 64) * sizeof *ids);
			if (nv == NULL)
				break;
			ids = nv;
			cap = cap * 2 + 64;
		}
		snprintf(ids[n++], UTIL_UUID_LEN, "%s", de->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(ids, n, sizeof *ids, cmp_id);
	pthread_mutex_lock(&ds->lock);
	for (i = 0; i < DS_MAX_LOCKS; i++)
		if (ds->held[i].fd > 0)
			snprintf(held[nheld++], UTIL_UUID_LEN, "%s",
			    ds->held[i].id);
	pthread_mutex_unlock(&ds->lock);

	/* What to read: folders not indexed, and sessions another process
	 * is writing; drop rows whose folder is gone. */
	todo = calloc(n + 1, sizeof *todo);
	isnew = calloc(n + 1, 1);
	if (isnew == NULL) {
		free(todo);
		todo = NULL;
	}
	pthread_mutex_lock(&ds->ilock);
	for (i = 0; i < ds->nidx; ) {
		if (n == 0 || bsearch(ds->idx[i].id, ids, n, sizeof *ids,
		    cmp_id) == NULL) {
			json_decref(ds->idx[i].row);
			free(ds->idx[i].text);
			ds->idx[i] = ds->idx[--ds->nidx];
			ds->sorted = 0;
			continue;
		}
		for (j = 0, mine = 0; j < (size_t)nheld; j++)
			if (strcmp(held[j], ds->idx[i].id) == 0)
				mine = 1;
		if (!ds->idx[i].final && !mine && todo != NULL)
			snprintf(todo[ntodo++], UTIL_UUID_LEN, "%s",
			    ds->idx[i].id);
		i++;
	}
	for (i = 0; i < n && todo != NULL; i++)
		if (index_find(ds, ids[i]) == NULL) {
			isnew[ntodo] = 1;
			snprintf(todo[ntodo++], UTIL_UUID_LEN, "%s", ids[i]);
		}
	pthread_mutex_unlock(&ds->ilock);

	for (i = 0; i < ntodo; i++) {
		for (j = 0, mine = 0; j < (size_t)nheld; j++)
			if (strcmp(held[j], todo[i]) == 0)
				mine = 1;
		if (mine)
			continue;	/* this process indexes it itself */
		/* Not listed (yet): the next rescan looks again. */
		if ((row = row_load(ds, todo[i])) == NULL)
			continue;
		pthread_mutex_lock(&ds->ilock);
		index_put(ds, todo[i], row, isnew[i]);
		pthread_mutex_unlock(&ds->ilock);
	}
out:
	pthread_mutex_lock(&ds->ilock);
	ds->scanned = util_mono();
	pthread_mutex_unlock(&ds->ilock);
	free(ids);
	free(todo);
	free(isnew);
	pthread_mutex_unlock(&ds->scan);
}

/*
 * Build the index: one row per session folder. Lazily, on the first
 * listing (a server builds it when it starts: wsapi_new), so commands
 * that never list do not read every manifest twice. Writes made while it
 * builds are applied (live) and win over what it read.
 */
static void
index_build(struct dataset *ds)
{
	char		 dir[PATH_MAX];
	struct dirent	*de;
	json_t		*row;
	DIR		*d;

	pthread_mutex_lock(&ds->scan);
	if (ds->built) {
		pthread_mutex_unlock(&ds->scan);
		return;
	}
	pthread_mutex_lock(&ds->ilock);
	ds->live = 1;
	pthread_mutex_unlock(&ds->ilock);
	if (util_fmt(dir, sizeof dir, "%s/sessions", ds->dir) == 0 &&
	    (d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (!util_is_uuid(de->d_name) ||
			    (row = row_load(ds, de->d_name)) == NULL)
				continue;
			pthread_mutex_lock(&ds->ilock);
			index_put(ds, de->d_name, row, 1);
			pthread_mutex_unlock(&ds->ilock);
		}
		closedir(d);
	}
	pthread_mutex_lock(&ds->ilock);
	ds->built = 1;
	ds->scanned = util_mono();
	pthread_mutex_unlock(&ds->ilock);
	pthread_mutex_unlock(&ds->scan);
}

/*
 * Under ilock (taken here, held on success): the page's range [*from,
 * *to) of the sorted index, after a rescan if one is due. 0, or -1 with
 * errno ENOENT (before is not indexed; ilock released).
 */
static int
page_range(struct dataset *ds, const char *before, size_t offset,
    size_t limit, size_t *from, size_t *to)
{
	size_t	 start = 0, i;
	double	 scanned;
	int	 built;

	pthread_mutex_lock(&ds->ilock);
	scanned = ds->scanned;
	built = ds->built;
	pthread_mutex_unlock(&ds->ilock);
	if (!built)
		index_build(ds);
	else if (util_mono() - scanned >= DS_RESCAN_S)
		index_rescan(ds);
	pthread_mutex_lock(&ds->ilock);
	if (!ds->sorted && ds->nidx > 0)
		qsort(ds->idx, ds->nidx, sizeof *ds->idx, cmp_entry);
	ds->sorted = 1;
	if (before != NULL) {
		for (i = 0; i < ds->nidx; i++)
			if (strcmp(ds->idx[i].id, before) == 0)
				break;
		if (i == ds->nidx) {
			pthread_mutex_unlock(&ds->ilock);
			errno = ENOENT;
			return -1;
		}
		start = i + 1;
	}
	*from = offset > ds->nidx - start ? ds->nidx : start + offset;
	*to = limit > ds->nidx - *from ? ds->nidx : *from + limit;
	return 0;
}

int
dataset_sessions_page(struct dataset *ds, const char *before, size_t offset,
    size_t limit, json_t **page, size_t *total, int *more)
{
	size_t	 from, to, i;
	json_t	*out;

	*page = NULL;
	*total = 0;
	*more = 0;
	if ((out = json_array()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (page_range(ds, before, offset, limit, &from, &to) != 0) {
		json_decref(out);
		return -1;
	}
	/* The rows themselves, not copies: the index replaces a row
	 * rather than change it, so a page stays as it was. */
	for (i = from; i < to; i++)
		json_array_append(out, ds->idx[i].row);
	*total = ds->nidx;
	*more = to < ds->nidx;
	pthread_mutex_unlock(&ds->ilock);
	*page = out;
	return 0;
}

char *
dataset_sessions_page_text(struct dataset *ds, const char *before,
    size_t offset, size_t limit, size_t *len, size_t *total, int *more)
{
	size_t	 from, to, i, n = 2;
	char	*s;

	*len = *total = 0;
	*more = 0;
	if (page_range(ds, before, offset, limit, &from, &to) != 0)
		return NULL;
	for (i = from; i < to; i++)
		n += ds->idx[i].tlen + 1;
	if ((s = malloc(n + 1)) != NULL) {
		n = 0;
		s[n++] = '[';
		for (i = from; i < to; i++) {
			if (ds->idx[i].text == NULL)
				continue;	/* out of memory when made */
			if (n > 1)
				s[n++] = ',';
			memcpy(s + n, ds->idx[i].text, ds->idx[i].tlen);
			n += ds->idx[i].tlen;
		}
		s[n++] = ']';
		s[n] = '\0';
		*len = n;
		*total = ds->nidx;
		*more = to < ds->nidx;
	} else
		errno = ENOMEM;
	pthread_mutex_unlock(&ds->ilock);
	return s;
}

static void
recover_one(struct dataset *ds, const char *id)
{
	char		 path[PATH_MAX], err[512], now[40];
	json_t		*m, *ses, *rows, *st, *r;
	struct stat	 mst;
	struct kept	*k;
	size_t		 i, j;
	int		 fd;

	if (session_path(ds, id, "manifest.json", path, sizeof path, err,
	    sizeof err) != 0)
		return;
	if ((m = manifest_read_st(ds, id, &mst, err, sizeof err)) == NULL) {
		rebuild_one(ds, id, err);
		return;
	}
	ses = json_object_get(m, "session");
	if (is_final(json_string_value(json_object_get(ses, "status")))) {
		/* what a failed write left in a session no one writes */
		clean_tmp(ds, id);
		/* parsed: kept for the load that follows (sync), if wanted */
		if (ds->keep != NULL && ds->kept_bytes + (size_t)mst.st_size <=
		    DS_KEEP_BYTES && ds->keep(ds->dir, id, ds->keep_ctx) &&
		    (k = calloc(1, sizeof *k)) != NULL) {
			snprintf(k->id, sizeof k->id, "%s", id);
			k->m = m;
			k->st = mst;
			pthread_mutex_lock(&ds->lock);
			k->next = ds->kept;
			ds->kept = k;
			ds->kept_bytes += (size_t)mst.st_size;
			pthread_mutex_unlock(&ds->lock);
			return;
		}
		json_decref(m);
		return;
	}
	/* A live recorder holds the lock: leave its session alone. */
	session_path(ds, id, ".lock", path, sizeof path, err, sizeof err);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (fd >= 0)
			close(fd);
		json_decref(m);
		return;
	}
	/*
	 * What was read before the lock is stale: the recorder may have
	 * written its final manifest and released the lock in between. Decide
	 * on the manifest read under the lock; a final one is never rewritten.
	 */
	json_decref(m);
	if ((m = manifest_read(ds, id, err, sizeof err)) == NULL) {
		close(fd);
		rebuild_one(ds, id, err);
		return;
	}
	ses = json_object_get(m, "session");
	if (is_final(json_string_value(json_object_get(ses, "status")))) {
		/* Ended meanwhile: the recorder removed its lock file and our
		 * open() may have made a new one; nobody needs it any more
		 * (whoever else opened it re-reads the final manifest too). */
		unlink(path);
		close(fd);
		json_decref(m);
		return;
	}
	util_iso8601(util_now(), now, sizeof now);
	json_object_set_new(ses, "status", json_string("failed"));
	json_object_set_new(ses, "failure_reason", json_string("interrupted: "
	    "the recorder stopped before the session ended"));
	json_object_set_new(ses, "session_end", json_string(now));
	json_object_set_new(ses, "updated_at", json_string(now));
	rows = merge_rows(ds, id, m, NULL);
	json_array_foreach(json_object_get(m, "stations"), i, st) {
		json_int_t k = json_integer_value(json_object_get(st,
		    "websdr")), ok = 0;
		json_array_foreach(rows, j, r)
			if (json_integer_value(json_object_get(r, "websdr")) == k)
				ok++;
		json_object_set_new(st, "chunks_ok", json_integer(ok));
		if (!json_is_string(json_object_get(st, "state")) ||
		    strcmp(json_string_value(json_object_get(st, "state")),
		    "excluded") != 0)	/* left out: it stays so */
			json_object_set_new(st, "state",
			    json_string("stopped"));
	}
	json_object_set_new(m, "orphans", orphans(ds, id, rows));
	json_decref(rows);
	json_object_del(m, "measurements");
	if (finish(ds, id, 0, NULL, m, err, sizeof err) != 0)
		fprintf(stderr, "heimdall-rec: warning: cannot recover session "
		    "%s: %s\n", id, err);
	else
		unlink(path);
	close(fd);
	json_decref(m);
}

static void
recover(struct dataset *ds)
{
	char		 dir[PATH_MAX];
	struct dirent	*de;
	DIR		*d;

	if (util_fmt(dir, sizeof dir, "%s/sessions", ds->dir) != 0 ||
	    (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (util_is_uuid(de->d_name))
			recover_one(ds, de->d_name);
	}
	closedir(d);
}

struct dataset *
dataset_open(const char *dir, char *err, size_t errlen)
{
	return dataset_open_keep(dir, NULL, NULL, err, errlen);
}

struct dataset *
dataset_open_keep(const char *dir, dataset_keep_fn keep, void *ctx,
    char *err, size_t errlen)
{
	struct dataset	*ds;
	char		 path[PATH_MAX];
	int		 i;

	ds = calloc(1, sizeof *ds);
	if (ds == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&ds->lock, NULL);
	for (i = 0; i < DS_MAX_LOCKS; i++)
		pthread_mutex_init(&ds->held[i].wr, NULL);
	pthread_mutex_init(&ds->ilock, NULL);
	pthread_mutex_init(&ds->scan, NULL);
	if (util_fmt(ds->dir, sizeof ds->dir, "%s", dir) != 0 ||
	    util_fmt(path, sizeof path, "%s/sessions", dir) != 0) {
		snprintf(err, errlen, "data directory path too long");
		goto fail;
	}
	if (util_mkdirs(path, err, errlen) != 0 ||
	    sources_init(ds, err, errlen) != 0)
		goto fail;
	ds->keep = keep;
	ds->keep_ctx = ctx;
	recover(ds);
	return ds;
fail:
	for (i = 0; i < DS_MAX_LOCKS; i++)
		pthread_mutex_destroy(&ds->held[i].wr);
	pthread_mutex_destroy(&ds->lock);
	pthread_mutex_destroy(&ds->ilock);
	pthread_mutex_destroy(&ds->scan);
	free(ds);
	return NULL;
}

void
dataset_close(struct dataset *ds)
{
	struct kept	*kp;
	size_t		 k;
	int		 i;

	if (ds == NULL)
		return;
	while ((kp = ds->kept) != NULL) {
		ds->kept = kp->next;
		json_decref(kp->m);
		free(kp);
	}
	for (i = 0; i < DS_MAX_LOCKS; i++) {
		if (ds->held[i].fd > 0)
			close(ds->held[i].fd);
		if (ds->held[i].locfd > 0)
			close(ds->held[i].locfd);
		json_decref(ds->held[i].loc);
		pthread_mutex_destroy(&ds->held[i].wr);
	}
	for (k = 0; k < ds->nidx; k++) {
		json_decref(ds->idx[k].row);
		free(ds->idx[k].text);
	}
	free(ds->idx);
	pthread_mutex_destroy(&ds->lock);
	pthread_mutex_destroy(&ds->ilock);
	pthread_mutex_destroy(&ds->scan);
	free(ds);
}

json_t *
dataset_sessions_list(struct dataset *ds, char *err, size_t errlen)
{
	json_t	*all;
	size_t	 total;
	int	 more;

	if (dataset_sessions_page(ds, NULL, 0, (size_t)-1, &all, &total,
	    &more) != 0) {
		snprintf(err, errlen, "cannot list the sessions of %s: %s",
		    ds->dir, strerror(errno));
		return NULL;
	}
	return all;
}

double
dataset_station_altitude(const json_t *station)
{
	const json_t	*v = json_object_get(station, "altitude");
	double		 a;

	if (!json_is_number(v))
		return NAN;
	a = json_number_value(v);
	return a >= STATION_ALT_MIN && a <= STATION_ALT_MAX ? a : NAN;
}
