/* replicator.c -- the spool -> central store thread: ledger, ordering, retries with backoff and jitter. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/dataset.h"
#include "store/pgstore.h"
#include "store/replicator.h"
#include "store/s3store.h"
#include "src/base/jarena.h"
#include "src/base/util.h"

#define LEDGER		"replica.log"
#define STATE_FILE	"replica.json"
#define MAX_LEDGER	(64 * 1024 * 1024)
#define ROWS_PER_STMT	2000	/* localization rows in one INSERT */
/* Measurement rows in one COPY transaction (and one ledger append): a
 * 200-receiver x 30-chunk backlog in one round of four round trips, a
 * few MB of text. */
#define ROWS_PER_COPY	10000
#define OBJS_PER_ROUND	64	/* uploads between two ledger appends */

/* What the central store confirmed for one session (sessions/<id>/replica.log):
 *   r <row id>    the measurement row is in the database
 *   o <key>       the object is in the bucket (ETag checked)
 *   s <status>    the session row is in the database with this status
 *   t K A B       the TDoA row of chunk K, websdr A and B is in the database
 *   x K, x final  the fix of chunk K, the session fix, is in the database
 *   Fd / Fs       final: every row / object of the final session is there
 * A torn last line (no newline: killed while appending) is ignored. */
/* A growing text buffer for ledger lines. */
struct buf {
	char	*s;
	size_t	 len, cap;
};

struct ledger {
	json_t	*rows;		/* set: id -> true */
	json_t	*objs;		/* set: key -> true */
	json_t	*loc;		/* set: "t K A B" / "x K" -> true */
	char	 status[32];
	int	 fin_db;
	int	 fin_s3;
	/* lines the database confirmed, not yet appended: one append (one
	 * fdatasync) takes them with the next batch's or the final line
	 * (ledger_flush). Each line is a fact once its statement
	 * committed, so holding it only risks sending that row again
	 * after a crash (both stores ignore duplicates), never a loss. */
	struct buf pend;
};

struct store_state {
	const char	*name;		/* "db", "s3" */
	int		 on;
	char		 target[640];
	char		 state[16];	/* ok, error, off, unknown */
	char		 error[512];
};

struct replicator {
	struct replicator_config c;
	struct dataset		*ds;
	pthread_t		 th;
	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;
	int			 stop;
	volatile int		 abort;		/* stop now: read by curl and
						   libpq waits on the thread */
	unsigned long		 gen_req;	/* bumped by every notification */
	unsigned long		 gen_done;	/* gen_req seen by the last pass */
	int			 retrying;
	double			 next_try;	/* util_mono() */
	int			 fails;
	json_t			*known;		/* id -> 0 pending, 1 done */
	json_t			*status;
	long			 pend_rows;
	long			 pend_objs;
	long			 pend_loc;	/* TDoA and fix rows */
	long			 pend_sessions;
	json_t			*damaged;	/* [{session_id, error}]: not
						   sendable, last pass */
	/* only the thread touches this: per open session, {"taken": the
	 * rows files read (dataset_session_load_new), "rows": their rows
	 * still pending after the last pass} -- a pass reads only the rows
	 * files new since the last one */
	json_t			*follow;
	unsigned int		 seed;
	/* only the thread touches these */
	struct pgstore		*pg;
	struct s3store		*s3;
	int			 bucket_ok;
	struct store_state	 db_st;
	struct store_state	 s3_st;
	char			 saved[2048];	/* last replica.json body */
};

/* ---- options ---- */

static void
copy_env(char *dst, size_t len, const char *name)
{
	const char	*v = getenv(name);

	if (v != NULL && v[0] != '\0')
		snprintf(dst, len, "%s", v);
}

void
replicator_config_init(struct replicator_config *c)
{
	const char	*u = getenv("DATABASE_URL");

	memset(c, 0, sizeof *c);
	c->concurrency = 8;
	c->migrate = 1;
	c->backoff_min = 0.5;
	c->backoff_max = 30;
	c->db_timeout = 30;
	snprintf(c->s3.bucket, sizeof c->s3.bucket, "%s", S3_BUCKET_DEFAULT);
	snprintf(c->s3.region, sizeof c->s3.region, "%s", S3_REGION_DEFAULT);
	copy_env(c->s3.region, sizeof c->s3.region, "AWS_DEFAULT_REGION");
	copy_env(c->s3.region, sizeof c->s3.region, "AWS_REGION");
	copy_env(c->s3.access_key, sizeof c->s3.access_key,
	    "AWS_ACCESS_KEY_ID");
	copy_env(c->s3.secret_key, sizeof c->s3.secret_key,
	    "AWS_SECRET_ACCESS_KEY");
	copy_env(c->s3.session_token, sizeof c->s3.session_token,
	    "AWS_SESSION_TOKEN");
	if (u != NULL && u[0] != '\0' && strlen(u) < sizeof c->db) {
		snprintf(c->db, sizeof c->db, "%s", u);
		c->db_on = 1;
	}
}

static int
set_str(char *dst, size_t len, const char *flag, const char *arg, char *err,
    size_t errlen)
{
	if (strlen(arg) >= len) {
		snprintf(err, errlen, "%s is longer than %zu bytes", flag,
		    len - 1);
		return -1;
	}
	snprintf(dst, len, "%s", arg);
	return 1;
}

int
replicator_config_option(struct replicator_config *c, int opt,
    const char *arg, char *err, size_t errlen)
{
	char	*end, e[512];
	long	 v;

	switch (opt) {
	case REPL_OPT_DB:
		/* a password on the command line ends up in ps(1) and shell
		 * histories: refuse it however written (pgstore parses with
		 * libpq's own parser) */
		if (pgstore_conninfo_check(arg, e, sizeof e) != 0) {
			snprintf(err, errlen, "--db: %s", e);
			return -1;
		}
		c->db_on = 1;
		return set_str(c->db, sizeof c->db, "--db", arg, err, errlen);
	case REPL_OPT_S3:
		c->s3_on = 1;
		return set_str(c->s3.endpoint, sizeof c->s3.endpoint, "--s3",
		    arg, err, errlen);
	case REPL_OPT_S3_BUCKET:
		return set_str(c->s3.bucket, sizeof c->s3.bucket, "--s3-bucket",
		    arg, err, errlen);
	case REPL_OPT_S3_REGION:
		return set_str(c->s3.region, sizeof c->s3.region, "--s3-region",
		    arg, err, errlen);
	case REPL_OPT_S3_CONCURRENCY:
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno != 0 || end == arg || *end != '\0' || v < 1 ||
		    v > 64) {
			snprintf(err, errlen, "--s3-concurrency must be a whole "
			    "number from 1 to 64 (got \"%s\")", arg);
			return -1;
		}
		c->concurrency = (int)v;
		return 1;
	case REPL_OPT_DB_TIMEOUT:
		errno = 0;
		c->db_timeout = strtod(arg, &end);
		if (errno != 0 || end == arg || *end != '\0' ||
		    !(c->db_timeout >= 1 && c->db_timeout <= 3600)) {
			snprintf(err, errlen, "--db-timeout must be a number of "
			    "seconds from 1 to 3600 (got \"%s\")", arg);
			return -1;
		}
		return 1;
	}
	return 0;
}

int
replicator_config_check(const struct replicator_config *c, char *err,
    size_t errlen)
{
	if (c->s3_on && s3_config_check(&c->s3, err, errlen) != 0)
		return -1;
	return 0;
}

int
replicator_config_enabled(const struct replicator_config *c)
{
	return c->db_on || c->s3_on;
}

/* ---- ledger ---- */

static int
ledger_path_dir(const char *dir, const char *id, char *buf, size_t len)
{
	if (!util_is_uuid(id))
		return -1;
	return util_fmt(buf, len, "%s/sessions/%s/%s", dir, id, LEDGER);
}

static int
ledger_path(struct dataset *ds, const char *id, char *buf, size_t len)
{
	return ledger_path_dir(dataset_dir(ds), id, buf, len);
}

static void
ledger_free(struct ledger *l)
{
	json_decref(l->rows);
	json_decref(l->objs);
	json_decref(l->loc);
	free(l->pend.s);
	memset(l, 0, sizeof *l);
}

static int
ledger_load_dir(const char *dir, const char *id, struct ledger *l)
{
	char	 path[PATH_MAX], err[256], *buf, *p, *nl;
	size_t	 len;

	memset(l, 0, sizeof *l);
	l->rows = json_object();
	l->objs = json_object();
	l->loc = json_object();
	if (ledger_path_dir(dir, id, path, sizeof path) != 0)
		return -1;
	if (access(path, F_OK) != 0)
		return 0;
	buf = util_read_file(path, MAX_LEDGER, &len, err, sizeof err);
	if (buf == NULL)
		return -1;
	for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (p[0] == 'r' && p[1] == ' ')
			json_object_set_new(l->rows, p + 2, json_true());
		else if (p[0] == 'o' && p[1] == ' ')
			json_object_set_new(l->objs, p + 2, json_true());
		else if ((p[0] == 't' || p[0] == 'x') && p[1] == ' ')
			json_object_set_new(l->loc, p, json_true());
		else if (p[0] == 's' && p[1] == ' ')
			snprintf(l->status, sizeof l->status, "%s", p + 2);
		else if (strcmp(p, "Fd") == 0)
			l->fin_db = 1;
		else if (strcmp(p, "Fs") == 0)
			l->fin_s3 = 1;
	}
	free(buf);
	return 0;
}

static int
ledger_load(struct dataset *ds, const char *id, struct ledger *l)
{
	return ledger_load_dir(dataset_dir(ds), id, l);
}

int
replicator_wants(const char *dir, const char *id, void *config)
{
	const struct replicator_config	*c = config;
	struct ledger			 l;
	int				 done = 0;

	if (c->full)
		return 1;
	if (ledger_load_dir(dir, id, &l) == 0)
		done = (!c->db_on || l.fin_db) && (!c->s3_on || l.fin_s3);
	ledger_free(&l);
	return !done;
}

/* Append text (whole lines) durably: one write, then fdatasync. A crash
 * mid-append leaves a last line without its newline; the next record must
 * not be glued to that fragment (and lost with it), so it then starts on a
 * new line: the fragment stays an unreadable line of its own. */
int
replicator_ledger_append(struct dataset *ds, const char *id,
    const char *text, size_t len)
{
	struct stat	st;
	char		path[PATH_MAX], last = '\n', *buf;
	size_t		skip;
	int		fd, rc = 0;

	if (len == 0)
		return 0;
	if (ledger_path(ds, id, path, sizeof path) != 0)
		return -1;
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || (st.st_size > 0 &&
	    pread(fd, &last, 1, st.st_size - 1) != 1) ||
	    (buf = malloc(len + 1)) == NULL) {
		close(fd);
		return -1;
	}
	buf[0] = '\n';
	memcpy(buf + 1, text, len);
	skip = last == '\n' ? 1 : 0;
	rc = util_write_all(fd, buf + skip, len + 1 - skip);
	free(buf);
	if (rc == 0 && fdatasync(fd) != 0)
		rc = -1;
	close(fd);
	return rc;
}

static void
buf_add(struct buf *b, const char *a, const char *c)
{
	size_t	la = strlen(a), lc = strlen(c);
	char	*p;

	if (b->len + la + lc + 2 > b->cap) {
		b->cap = (b->len + la + lc + 2) * 2;
		p = realloc(b->s, b->cap);
		if (p == NULL)
			return;
		b->s = p;
	}
	memcpy(b->s + b->len, a, la);
	memcpy(b->s + b->len + la, c, lc);
	b->len += la + lc;
	b->s[b->len++] = '\n';
	b->s[b->len] = '\0';
}

/* Append the lines held in l->pend (one write, one fdatasync). */
static int
ledger_flush(struct replicator *r, const char *id, struct ledger *l)
{
	int	rc;

	rc = replicator_ledger_append(r->ds, id, l->pend.s, l->pend.len);
	l->pend.len = 0;
	return rc;
}

/* ---- status ---- */

static void
store_set(struct store_state *s, const char *state, const char *error)
{
	snprintf(s->state, sizeof s->state, "%s", state);
	snprintf(s->error, sizeof s->error, "%s", error != NULL ? error : "");
}

static json_t *
store_json(const struct store_state *s)
{
	return json_pack("{s:s, s:s, s:s}", "target", s->target, "state",
	    s->on ? s->state : "off", "error", s->error);
}

/* DIR/replica.json: the last state and error of each store, for
 * `heimdall-rec status` (written only when they change). */
static void
save_state(struct replicator *r)
{
	char	 path[PATH_MAX], now[40], err[256], *text;
	json_t	*j;

	j = json_pack("{s:o, s:o}", "db", store_json(&r->db_st), "s3",
	    store_json(&r->s3_st));
	text = util_json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (text == NULL || strcmp(text, r->saved) == 0) {
		free(text);
		return;
	}
	snprintf(r->saved, sizeof r->saved, "%s", text);
	free(text);
	util_iso8601(util_now(), now, sizeof now);
	j = json_pack("{s:o, s:o, s:s}", "db", store_json(&r->db_st), "s3",
	    store_json(&r->s3_st), "updated_at", now);
	text = util_json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (text != NULL && util_fmt(path, sizeof path, "%s/%s",
	    dataset_dir(r->ds), STATE_FILE) == 0)
		util_write_atomic(path, text, strlen(text), err, sizeof err);
	free(text);
}

static void
report(struct replicator *r)
{
	json_t	*st;
	double	 in;
	int	 changed;

	pthread_mutex_lock(&r->lock);
	in = r->retrying ? r->next_try - util_mono() : 0;
	st = json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:o, s:o}",
	    "state", r->retrying ? "retrying" : (r->pend_rows ||
	    r->pend_objs || r->pend_loc) ? "sending" : "idle",
	    "pending_rows", (json_int_t)r->pend_rows,
	    "pending_objects", (json_int_t)r->pend_objs,
	    "pending_loc_rows", (json_int_t)r->pend_loc,
	    "pending_sessions", (json_int_t)r->pend_sessions,
	    "retry_in_s", in > 0 ? round(in * 10) / 10 : 0.0,
	    "db", store_json(&r->db_st), "s3", store_json(&r->s3_st));
	if (json_array_size(r->damaged) > 0)
		json_object_set(st, "damaged", r->damaged);
	changed = r->status == NULL || !json_equal(r->status, st);
	json_decref(r->status);
	r->status = st;
	pthread_mutex_unlock(&r->lock);
	save_state(r);
	if (changed && r->c.on_status != NULL)
		r->c.on_status(r->c.ctx, st);
}

/* ---- connections ---- */

struct pgstore *
replicator_db_open(const struct replicator_config *c,
    const volatile int *abort, char *err, size_t errlen)
{
	struct pgstore	*pg;
	int		 n;

	if ((pg = pgstore_connect(c->db, err, errlen)) == NULL)
		return NULL;
	if (abort != NULL)
		pgstore_set_abort(pg, abort);
	if (c->migrate && pgstore_migrate(pg, &n, err, errlen) != 0) {
		pgstore_close(pg);
		return NULL;
	}
	pgstore_set_timeout(pg, c->db_timeout);
	if (!c->migrate && (n = pgstore_pending_migrations(pg, err,
	    errlen)) != 0) {
		if (n > 0)
			snprintf(err, errlen, "the database schema is %d "
			    "migration(s) behind: run heimdall-rec db migrate",
			    n);
		pgstore_close(pg);
		return NULL;
	}
	return pg;
}

static int
ensure_db(struct replicator *r)
{
	char	err[1024];

	if (r->pg != NULL)
		return 0;
	/* a connection handed over by replicator_start's caller first */
	if ((r->pg = r->c.pg) != NULL)
		r->c.pg = NULL;
	else if ((r->pg = replicator_db_open(&r->c, &r->abort, err,
	    sizeof err)) == NULL) {
		store_set(&r->db_st, "error", err);
		return -1;
	}
	snprintf(r->db_st.target, sizeof r->db_st.target, "%s",
	    pgstore_target(r->pg));
	pgstore_set_abort(r->pg, &r->abort);
	store_set(&r->db_st, "ok", NULL);
	return 0;
}

/* A statement about a session failed: the error names the session. */
static void
db_failed(struct replicator *r, const char *id, const char *err)
{
	char	e[1200];

	snprintf(e, sizeof e, "session %s: %s", id, err);
	store_set(&r->db_st, "error", e);
	/* a new connection next time: the old one may be dead or aborted */
	pgstore_close(r->pg);
	r->pg = NULL;
}

static int
ensure_s3(struct replicator *r)
{
	char	err[1024];

	if (r->bucket_ok)
		return 0;
	if (s3store_check_bucket(r->s3, 1, err, sizeof err) != 0) {
		store_set(&r->s3_st, "error", err);
		return -1;
	}
	r->bucket_ok = 1;
	store_set(&r->s3_st, "ok", NULL);
	return 0;
}

/* ---- one session ---- */

static const char *
jstr(const json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static int
is_final(const char *st)
{
	return strcmp(st, "completed") == 0 || strcmp(st, "failed") == 0;
}

/* A row's object key, checked: "sessions/<id>/chunk_..." and nothing that
 * leaves the session's folder (the spool is input like any other). */
static const char *
row_key(const json_t *row, const char *id)
{
	const char	*k = jstr(row, "iq_data_location");
	size_t		 n = strlen(id);

	if (strncmp(k, "sessions/", 9) != 0 || strncmp(k + 9, id, n) != 0 ||
	    strncmp(k + 9 + n, "/chunk_", 7) != 0 || strstr(k, "..") != NULL ||
	    strchr(k + 9 + n + 1, '/') != NULL)
		return NULL;
	return k;
}

static json_t *
source_json(struct replicator *r, const json_t *ses)
{
	struct source	s;

	if (dataset_source_find(r->ds, jstr(ses, "known_source_id"),
	    &s) != 0)
		return json_pack("{s:s}", "name", json_string_value(
		    json_object_get(ses, "source_name")) != NULL ?
		    jstr(ses, "source_name") : "Unknown");
	return json_pack("{s:s, s:s, s:f, s:o, s:o}", "name", s.name,
	    "description", s.description, "frequency_hz", s.frequency_hz,
	    "latitude", s.has_coords ? json_real(s.latitude) : json_null(),
	    "longitude", s.has_coords ? json_real(s.longitude) : json_null());
}

/* The uploads of one push_objects: what to do as each object is stored. */
struct objdone {
	struct replicator	*r;
	const char		*id;
	struct ledger		*l;
	json_t			*bykey;	/* key queued -> its row (borrowed) */
	int			*db_ok;	/* rows may go as objects land */
	int			 rc;
	struct buf		 b;
};

/* Append the ledger lines gathered so far. */
static void
objects_log(struct objdone *od)
{
	if (replicator_ledger_append(od->r->ds, od->id, od->b.s,
	    od->b.len) != 0 && od->rc == 0) {
		char e[512];
		snprintf(e, sizeof e, "session %s: cannot append to its ledger "
		    "(replica.log)", od->id);
		store_set(&od->r->s3_st, "error", e);
		od->rc = -1;
	}
	od->b.len = 0;
}

/*
 * Objects finished (s3store_put_many_cb): each one stored is logged, and
 * -- when the session row is in the database already -- its row goes in
 * at once, not after the whole round: a row waited for the slowest of up
 * to OBJS_PER_ROUND uploads (a second's worth at 50 receivers). The rows
 * of the objects finished together go in one transaction, and the
 * ledger lines ("o" then "r") in one append: while that runs, the next
 * uploads are in flight, so the batches grow with the statement's time.
 * A row still never names an object the bucket has not confirmed.
 */
static void
objects_done(void *ctx, struct s3_object *v, const int *idx, int n)
{
	struct objdone	*od = ctx;
	struct replicator *r = od->r;
	json_t		*batch = NULL, *row;
	const char	*rid;
	char		 err[1024];
	size_t		 j;
	int		 k;

	for (k = 0; k < n; k++) {
		struct s3_object *o = &v[idx[k]];
		if (o->ok) {
			buf_add(&od->b, "o ", o->key);
			json_object_set_new(od->l->objs, o->key, json_true());
			row = json_object_get(od->bykey, o->key);
			rid = jstr(row, "id");
			if (row == NULL || !*od->db_ok || !util_is_uuid(rid) ||
			    json_object_get(od->l->rows, rid) != NULL)
				continue;
			if (batch == NULL)
				batch = json_array();
			json_array_append(batch, row);
		} else if (od->rc == 0) {
			char e[700];
			/* the key names the session */
			snprintf(e, sizeof e, "%s: %s", o->key, o->err);
			store_set(&r->s3_st, "error", e);
			/* 403: the credentials; force a new bucket check so
			 * the error names them */
			if (o->http_status == 403 || o->http_status == 0)
				r->bucket_ok = 0;
			od->rc = -1;
		}
	}
	/* rows whose object was just confirmed, not in the ledger: new
	 * centrally but for a crash between their commit and the ledger's
	 * append (then the direct COPY is refused and the staging path
	 * skips what is there). One statement instead of the staging
	 * table's BEGIN, COPY, INSERT ... SELECT and COMMIT (which empties
	 * the temporary table): per transaction of ~2 rows, most of what
	 * the server spent on a fleet's rows (bench/README.md, fleet6). */
	if (batch != NULL && pgstore_put_new_rows(r->pg, batch, NULL, err,
	    sizeof err) != 0) {
		db_failed(r, od->id, err);
		*od->db_ok = 0;		/* this pass: no more statements */
	} else if (batch != NULL) {
		json_array_foreach(batch, j, row) {
			buf_add(&od->b, "r ", jstr(row, "id"));
			json_object_set_new(od->l->rows, jstr(row, "id"),
			    json_true());
		}
	}
	/* with no rows sent, the "o" lines wait for the round's end (one
	 * fdatasync a round, as before); a crash meanwhile only sends those
	 * objects again */
	if (batch != NULL)
		objects_log(od);
	json_decref(batch);
}

/* Upload the objects not yet in the ledger; with *db_ok, the rows of those
 * stored go in as they land (objects_done; *db_ok cleared if that failed,
 * db error set). 0, or -1 (s3 error set). */
static int
push_objects(struct replicator *r, const char *id, json_t *rows,
    struct ledger *l, int *db_ok)
{
	struct s3_object	 v[OBJS_PER_ROUND];
	char			 paths[OBJS_PER_ROUND][PATH_MAX];
	json_t			*row;
	size_t			 i = 0, nrows = json_array_size(rows);
	const char		*key;
	int			 n, rows_now, started;
	struct objdone		 od = { r, id, l, json_object(), &rows_now, 0,
				    { NULL, 0, 0 } };

	/* rows now only once the session row (and its stations, which the
	 * rows name) is in the database: else after the objects, as before */
	rows_now = *db_ok && r->c.db_on && !l->fin_db && l->status[0] != '\0'
	    && r->pg != NULL;
	started = rows_now;
	while (i < nrows && od.rc == 0) {
		for (n = 0; i < nrows && n < OBJS_PER_ROUND; i++) {
			row = json_array_get(rows, i);
			/* bykey: the objects queued, each with its row for
			 * objects_done (a key twice is uploaded once) */
			if ((key = row_key(row, id)) == NULL ||
			    json_object_get(l->objs, key) != NULL ||
			    json_object_get(od.bykey, key) != NULL)
				continue;
			json_object_set(od.bykey, key, row);
			memset(&v[n], 0, sizeof v[n]);
			util_fmt(paths[n], sizeof paths[n], "%s/%s",
			    dataset_dir(r->ds), key);
			v[n].key = key;
			v[n].path = paths[n];
			v[n].session_id = id;
			v[n].station = jstr(row, "websdr_station_name");
			v[n].websdr = (int)json_integer_value(json_object_get(
			    row, "websdr"));
			v[n].chunk_index = (int)json_integer_value(
			    json_object_get(row, "chunk_index"));
			v[n].sample_rate = json_number_value(json_object_get(
			    row, "iq_sample_rate"));
			v[n].samples = (long)json_integer_value(
			    json_object_get(row, "iq_samples_count"));
			n++;
		}
		if (n == 0)
			break;
		if (ensure_s3(r) != 0) {
			od.rc = -1;
			break;
		}
		s3store_put_many_cb(r->s3, v, n, r->c.concurrency,
		    objects_done, &od);
		objects_log(&od);
		if (od.rc == 0)
			store_set(&r->s3_st, "ok", NULL);
	}
	if (started && !rows_now)
		*db_ok = 0;	/* a statement failed: db error set */
	free(od.b.s);
	json_decref(od.bykey);
	return od.rc;
}

/* The manifest's array of localization rows of that kind. */
static json_t *
loc_rows(json_t *m, enum pgstore_loc kind)
{
	return json_object_get(m, kind == PG_LOC_TDOA ? "tdoa" : "fixes");
}

/*
 * Count a session's localization rows (the manifest's "tdoa" and "fixes",
 * src/engine/locate.h) not yet in its ledger; rows that fail the check
 * (pgstore_loc_check: the spool is input) can never be sent: counted in
 * *pbad, not pending, the first one's reason in bad_why.
 */
static void
count_loc(const char *id, json_t *m, const struct ledger *l, long *ploc,
    long *pbad, char *bad_why, size_t whylen)
{
	enum pgstore_loc kinds[] = { PG_LOC_TDOA, PG_LOC_FIX };
	json_t		*row, *seen = json_object();
	json_t		*stations = json_object_get(m, "stations");
	char		 key[64], why[512];
	size_t		 i, k;

	*ploc = *pbad = 0;
	if (bad_why != NULL && whylen > 0)
		bad_why[0] = '\0';
	for (k = 0; k < 2; k++) {
		json_array_foreach(loc_rows(m, kinds[k]), i, row) {
			if (pgstore_loc_check(kinds[k], row, id, stations, key,
			    sizeof key, why, sizeof why) != 0) {
				if (*pbad == 0 && bad_why != NULL)
					snprintf(bad_why, whylen, "%s", why);
				(*pbad)++;
				continue;
			}
			if (json_object_get(seen, key) != NULL)
				continue;
			json_object_set_new(seen, key, json_true());
			if (json_object_get(l->loc, key) == NULL)
				(*ploc)++;
		}
	}
	json_decref(seen);
}

/* Send the localization rows not yet in the ledger (after the session
 * row and its stations: they name both), ROWS_PER_STMT at a time, each
 * batch logged once the database has it. 0, or -1 (db error set). */
static int
push_loc(struct replicator *r, const char *id, json_t *m, struct ledger *l)
{
	enum pgstore_loc kinds[] = { PG_LOC_TDOA, PG_LOC_FIX };
	json_t		*stations = json_object_get(m, "stations");
	json_t		*rows, *batch, *keys, *row, *seen = json_object();
	char		 key[64], why[512], err[1024];
	size_t		 i, j, k, n;
	int		 rc = 0;

	for (k = 0; k < 2 && rc == 0; k++) {
		rows = loc_rows(m, kinds[k]);
		n = json_array_size(rows);
		i = 0;
		while (i < n && rc == 0) {
			batch = json_array();
			keys = json_array();
			for (; i < n && json_array_size(batch) <
			    ROWS_PER_STMT; i++) {
				row = json_array_get(rows, i);
				if (pgstore_loc_check(kinds[k], row, id,
				    stations, key, sizeof key, why,
				    sizeof why) != 0 ||
				    json_object_get(l->loc, key) != NULL ||
				    json_object_get(seen, key) != NULL)
					continue;
				json_object_set_new(seen, key, json_true());
				json_array_append(batch, row);
				json_array_append_new(keys, json_string(key));
			}
			if (json_array_size(batch) > 0 && pgstore_put_loc(r->pg,
			    kinds[k], batch, id, stations, NULL, err,
			    sizeof err) != 0) {
				db_failed(r, id, err);
				rc = -1;
			} else if (json_array_size(batch) > 0) {
				json_array_foreach(keys, j, row) {
					buf_add(&l->pend, json_string_value(row),
					    "");
					json_object_set_new(l->loc,
					    json_string_value(row), json_true());
				}
				/* with the measurement rows' lines held */
				if (ledger_flush(r, id, l) != 0) {
					db_failed(r, id, "cannot append to "
					    "its ledger (replica.log)");
					rc = -1;
				}
			}
			json_decref(batch);
			json_decref(keys);
		}
	}
	json_decref(seen);
	return rc;
}

/* Send the session row (when its status changed), the rows whose
 * objects are stored, and the localization rows. 0, or -1 (db error
 * set). The session row's line and the last batch's are left in
 * l->pend for push_session's final append. */
static int
push_rows(struct replicator *r, const char *id, json_t *m, struct ledger *l)
{
	char		 err[1024];
	json_t		*ses = json_object_get(m, "session");
	json_t		*rows = json_object_get(m, "measurements");
	json_t		*batch, *row, *src;
	const char	*st = jstr(ses, "status"), *rid, *key;
	size_t		 i, j, nrows = json_array_size(rows);
	int		 rc = 0;
	/* nothing of the session confirmed yet (a backlog sent for the
	 * first time, as by sync): its rows are most likely absent
	 * centrally and go by direct COPY, which falls back to the staging
	 * path by itself if one is there; a session already partly sent
	 * (the live path after its first chunk) keeps the staging path */
	int		 fresh = json_object_size(l->rows) == 0;

	if (ensure_db(r) != 0)
		return -1;
	if (strcmp(l->status, st) != 0) {
		src = source_json(r, ses);
		rc = pgstore_put_session(r->pg, ses, src, json_object_get(m,
		    "stations"), err, sizeof err);
		json_decref(src);
		if (rc != 0) {
			db_failed(r, id, err);
			return -1;
		}
		/* appended with the first batch's lines: re-sending the
		 * session row after a crash is an upsert of the same row */
		buf_add(&l->pend, "s ", st);
		snprintf(l->status, sizeof l->status, "%s", st);
	}
	i = 0;
	while (i < nrows && rc == 0) {
		batch = json_array();
		for (; i < nrows && json_array_size(batch) < ROWS_PER_COPY;
		    i++) {
			row = json_array_get(rows, i);
			rid = jstr(row, "id");
			if (!util_is_uuid(rid) ||
			    json_object_get(l->rows, rid) != NULL)
				continue;
			/* a row never names an object the bucket lacks */
			if (r->c.s3_on && ((key = row_key(row, id)) == NULL ||
			    json_object_get(l->objs, key) == NULL))
				continue;
			/* in the set at once, so that an id twice in the
			 * manifest goes once; taken out again if the batch
			 * fails (one set instead of a "seen" set and a
			 * second insertion: 6000 ids are a few ms). A
			 * checked UUID is ASCII: no UTF-8 check needed. */
			json_object_set_new_nocheck(l->rows, rid, json_true());
			json_array_append(batch, row);
		}
		if (json_array_size(batch) > 0) {
			if ((fresh ? pgstore_put_new_rows(r->pg, batch, NULL,
			    err, sizeof err) : pgstore_put_rows(r->pg, batch,
			    NULL, err, sizeof err)) != 0) {
				db_failed(r, id, err);
				rc = -1;
				json_array_foreach(batch, j, row)
					json_object_del(l->rows, jstr(row,
					    "id"));
			} else {
				json_array_foreach(batch, j, row)
					buf_add(&l->pend, "r ", jstr(row, "id"));
				/* the last batch's lines wait for the final
				 * append (push_session: with "Fd", one
				 * fdatasync); earlier ones go now, so that a
				 * crash in a long backlog re-sends little */
				if (i < nrows && ledger_flush(r, id, l) != 0) {
					db_failed(r, id, "cannot append to "
					    "its ledger (replica.log)");
					rc = -1;
				}
			}
		}
		json_decref(batch);
	}
	if (rc == 0)
		rc = push_loc(r, id, m, l);
	return rc;
}

/* Count what is still pending for a session, given its ledger. */
static void
count_pending(const char *id, json_t *rows, const struct ledger *l, int db,
    int s3, long *prow, long *pobj)
{
	json_t		*row, *seen = json_object();
	const char	*key;
	size_t		 i;

	*prow = *pobj = 0;
	json_array_foreach(rows, i, row) {
		const char *rid = jstr(row, "id");
		if (json_object_get(seen, rid) != NULL)
			continue;
		json_object_set_new(seen, rid, json_true());
		if (db && json_object_get(l->rows, rid) == NULL)
			(*prow)++;
		if (s3 && (key = row_key(row, id)) != NULL &&
		    json_object_get(l->objs, key) == NULL)
			(*pobj)++;
	}
	json_decref(seen);
}

/*
 * The rows that count_pending counts (a row the database lacks, or an
 * object the bucket lacks), in order: what a later pass still has to
 * do for them. The others are skipped by every step of a pass (each
 * looks its row or object up in the ledger, which only grows), so a
 * pass of an open session need not see them again (struct replicator's
 * follow).
 */
static json_t *
still_pending(const char *id, json_t *rows, const struct ledger *l, int db,
    int s3)
{
	json_t		*row, *out = json_array();
	const char	*key;
	size_t		 i;

	json_array_foreach(rows, i, row) {
		if ((db && json_object_get(l->rows, jstr(row, "id")) == NULL) ||
		    (s3 && (key = row_key(row, id)) != NULL &&
		    json_object_get(l->objs, key) == NULL))
			json_array_append(out, row);
	}
	return out;
}

/* Push one session; 1 if it is done for good, 0 if not, -1 on error.
 * With keep: *keep gets the rows still pending afterwards (still_pending;
 * left NULL if the ledger could not be read). */
static int
push_session(struct replicator *r, const char *id, json_t *m, int db_ok,
    int s3_ok, long *prow, long *pobj, long *ploc, json_t **keep)
{
	struct ledger	 l;
	json_t		*rows = json_object_get(m, "measurements");
	const char	*st = jstr(json_object_get(m, "session"), "status");
	long		 bad;
	int		 rc = 0, done, fs, fd;

	*prow = *pobj = *ploc = 0;
	if (ledger_load(r->ds, id, &l) != 0) {
		char e[512];
		snprintf(e, sizeof e, "session %s: cannot read its ledger "
		    "(replica.log)", id);
		store_set(r->c.db_on ? &r->db_st : &r->s3_st, "error", e);
		ledger_free(&l);
		return -1;
	}
	if (r->c.s3_on && !l.fin_s3 && (!s3_ok ||
	    push_objects(r, id, rows, &l, &db_ok) != 0))
		rc = -1;
	/* the session row, and the rows whose objects are in the bucket,
	 * go in even when S3 fails */
	if (r->c.db_on && !l.fin_db && (!db_ok ||
	    push_rows(r, id, m, &l) != 0))
		rc = -1;
	count_pending(id, rows, &l, r->c.db_on, r->c.s3_on, prow, pobj);
	if (keep != NULL)
		*keep = still_pending(id, rows, &l, r->c.db_on, r->c.s3_on);
	if (r->c.db_on)
		count_loc(id, m, &l, ploc, &bad, NULL, 0);
	/* the final lines go in the same append as the lines held in
	 * l.pend (the last batch's rows): one fdatasync, before anything
	 * is reported (the lines held are facts even when rc != 0) */
	fs = fd = 0;
	if (is_final(st) && rc == 0) {
		if (r->c.s3_on && !l.fin_s3 && *pobj == 0) {
			buf_add(&l.pend, "Fs", "");
			fs = 1;
		}
		if (r->c.db_on && !l.fin_db && *prow == 0 && *ploc == 0 &&
		    strcmp(l.status, st) == 0) {
			buf_add(&l.pend, "Fd", "");
			fd = 1;
		}
	}
	if (l.pend.len > 0 && ledger_flush(r, id, &l) != 0) {
		char e[512];
		snprintf(e, sizeof e, "session %s: cannot append to its "
		    "ledger (replica.log)", id);
		store_set(r->c.db_on ? &r->db_st : &r->s3_st, "error", e);
		rc = -1;
		fs = fd = 0;
	}
	if (fs)
		l.fin_s3 = 1;
	if (fd)
		l.fin_db = 1;
	done = (!r->c.db_on || l.fin_db) && (!r->c.s3_on || l.fin_s3);
	ledger_free(&l);
	return rc != 0 ? -1 : done;
}

/* ---- the thread ---- */

struct item {
	const char	*id;
	json_t		*m;
	const char	*start;
};

static int
cmp_item(const void *a, const void *b)
{
	const struct item	*x = a, *y = b;

	return strcmp(x->start, y->start);
}

/* Scan DIR/sessions: every session not marked done in its ledger. */
static void
scan(struct replicator *r)
{
	char		 dir[PATH_MAX], path[PATH_MAX];
	struct dirent	*de;
	struct ledger	 l;
	DIR		*d;
	int		 done;

	if (util_fmt(dir, sizeof dir, "%s/sessions", dataset_dir(r->ds)) != 0 ||
	    (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (!util_is_uuid(de->d_name))
			continue;
		if (r->c.full && ledger_path(r->ds, de->d_name, path,
		    sizeof path) == 0)
			unlink(path);	/* idempotent stores: send it all */
		done = 0;
		if (ledger_load(r->ds, de->d_name, &l) == 0)
			done = (!r->c.db_on || l.fin_db) &&
			    (!r->c.s3_on || l.fin_s3);
		ledger_free(&l);
		pthread_mutex_lock(&r->lock);
		if (json_object_get(r->known, de->d_name) == NULL)
			json_object_set_new(r->known, de->d_name,
			    json_integer(done));
		pthread_mutex_unlock(&r->lock);
	}
	closedir(d);
}

/*
 * Free a loaded manifest. One parsed into sync's arena (src/base/jarena.h,
 * where frees are no-ops) is not walked object by object: its rows (~25
 * objects each, ~150,000 for 200 receivers x 30 chunks: ~15 ms of a
 * sync's wall) are pinned, and only what came from malloc after the parse
 * is freed: the top level's arrays that dataset_session_load put in
 * (measurements, tdoa, fixes), their rows that came from batch files, and
 * the top object's own table. The pinned rows stay in the arena, which is
 * never reused anyway.
 */
static void
manifest_free(json_t *m)
{
	const char	*k;
	json_t		*v, *e;
	size_t		 i;

	if (jarena_owns(m))
		json_object_foreach(m, k, v)
			if (json_is_array(v) && !jarena_owns(v))
				json_array_foreach(v, i, e)
					if (jarena_owns(e))
						json_incref(e);
	json_decref(m);
}

/* One pass over every session not done. 0, or -1 if a store failed. */
static int
pass(struct replicator *r)
{
	struct item	*v;
	const char	*id;
	json_t		*val, *ids, *damaged, *f, *rows, *keep;
	char		 err[512];
	size_t		 n = 0, i;
	long		 prow, pobj, ploc, bad, trow = 0, tobj = 0, tloc = 0;
	long		 tses = 0;
	int		 rc = 0, d, db_ok = 1, s3_ok = 1;

	ids = json_array();
	pthread_mutex_lock(&r->lock);
	json_object_foreach(r->known, id, val)
		if (json_integer_value(val) == 0)
			json_array_append_new(ids, json_string(id));
	pthread_mutex_unlock(&r->lock);
	v = calloc(json_array_size(ids) + 1, sizeof *v);
	if (v == NULL) {
		json_decref(ids);
		return -1;
	}
	damaged = json_array();
	for (i = 0; i < json_array_size(ids); i++) {
		id = json_string_value(json_array_get(ids, i));
		if ((f = json_object_get(r->follow, id)) == NULL) {
			f = json_pack("{s:o, s:o}", "taken", json_object(),
			    "rows", json_array());
			json_object_set_new(r->follow, id, f);
		}
		v[n].m = dataset_session_load_new(r->ds, id, json_object_get(f,
		    "taken"), err, sizeof err);
		if (v[n].m != NULL && is_final(jstr(json_object_get(v[n].m,
		    "session"), "status")))
			/* every row, from the final manifest */
			json_object_del(r->follow, id);
		else if (v[n].m != NULL) {
			/* the rows still pending, then the new files' */
			rows = json_object_get(f, "rows");
			json_array_extend(rows, json_object_get(v[n].m,
			    "measurements"));
			json_object_set(v[n].m, "measurements", rows);
		} else
			/* forgotten: read whole again next time */
			json_object_del(r->follow, id);
		if (v[n].m == NULL) {
			/* being created: the next pass; damaged (and not
			 * rebuilt: see dataset_open): said, and pending */
			if (dataset_session_check(r->ds, id, err,
			    sizeof err) < 0) {
				json_array_append_new(damaged, json_pack(
				    "{s:s, s:s}", "session_id", id, "error",
				    err));
				tses++;
			}
			continue;
		}
		v[n].id = id;
		v[n].start = jstr(json_object_get(v[n].m, "session"),
		    "session_start");
		n++;
	}
	/* oldest first */
	qsort(v, n, sizeof *v, cmp_item);

	/* connect up front, so that errors show before there is data */
	if (r->c.db_on && ensure_db(r) != 0)
		db_ok = 0;
	if (r->c.s3_on && ensure_s3(r) != 0)
		s3_ok = 0;
	if (!db_ok || !s3_ok)
		rc = -1;
	for (i = 0; i < n; i++) {
		pthread_mutex_lock(&r->lock);
		d = r->stop;
		pthread_mutex_unlock(&r->lock);
		if (d) {
			rc = -1;	/* counts stay as they were */
			break;
		}
		f = json_object_get(r->follow, v[i].id);
		keep = NULL;
		if (db_ok || s3_ok) {
			d = push_session(r, v[i].id, v[i].m, db_ok, s3_ok,
			    &prow, &pobj, &ploc, f != NULL ? &keep : NULL);
		} else {
			/* a store is down: count, do not hammer it */
			struct ledger l;
			ledger_load(r->ds, v[i].id, &l);
			count_pending(v[i].id, json_object_get(v[i].m,
			    "measurements"), &l, r->c.db_on, r->c.s3_on, &prow,
			    &pobj);
			ploc = 0;
			if (r->c.db_on)
				count_loc(v[i].id, v[i].m, &l, &ploc, &bad,
				    NULL, 0);
			ledger_free(&l);
			d = 0;
		}
		/* an open session: what is left for the next pass */
		if (keep != NULL)
			json_object_set_new(f, "rows", keep);
		if (d < 0)
			rc = -1;
		trow += prow;
		tobj += pobj;
		tloc += ploc;
		if (d <= 0)
			tses++;
		if (d == 1) {
			json_object_del(r->follow, v[i].id);
			pthread_mutex_lock(&r->lock);
			json_object_set_new(r->known, v[i].id,
			    json_integer(1));
			pthread_mutex_unlock(&r->lock);
		}
	}
	pthread_mutex_lock(&r->lock);
	r->pend_rows = trow;
	r->pend_objs = tobj;
	r->pend_loc = tloc;
	r->pend_sessions = tses;
	json_decref(r->damaged);
	r->damaged = damaged;
	pthread_mutex_unlock(&r->lock);
	for (i = 0; i < n; i++)
		manifest_free(v[i].m);
	free(v);
	json_decref(ids);
	return rc;
}

/* Exponential backoff with "equal jitter": half the delay fixed, half
 * random, so recorders that lost the server together do not return in
 * lockstep, and none retries at once. */
static double
backoff(struct replicator *r)
{
	double	d = r->c.backoff_min * pow(2, r->fails > 30 ? 30 :
		    r->fails - 1);

	if (d > r->c.backoff_max)
		d = r->c.backoff_max;
	return d / 2 + d / 2 * ((double)rand_r(&r->seed) / RAND_MAX);
}

static void
add_ms(struct timespec *ts, double s)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)s;
	ts->tv_nsec += (long)((s - floor(s)) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *
run(void *arg)
{
	struct replicator	*r = arg;
	struct timespec		 ts;
	unsigned long		 g;
	double			 wait;
	int			 rc;

	scan(r);
	for (;;) {
		pthread_mutex_lock(&r->lock);
		for (;;) {
			if (r->stop)
				break;
			if (r->retrying) {
				wait = r->next_try - util_mono();
				if (wait <= 0)
					break;
				add_ms(&ts, wait);
				pthread_cond_timedwait(&r->cond, &r->lock, &ts);
				continue;
			}
			if (r->gen_req != r->gen_done)
				break;
			pthread_cond_wait(&r->cond, &r->lock);
		}
		if (r->stop) {
			pthread_mutex_unlock(&r->lock);
			break;
		}
		g = r->gen_req;
		pthread_mutex_unlock(&r->lock);

		rc = pass(r);

		pthread_mutex_lock(&r->lock);
		r->gen_done = g;
		if (rc != 0) {
			r->fails++;
			r->retrying = 1;
			r->next_try = util_mono() + backoff(r);
		} else {
			r->fails = 0;
			r->retrying = 0;
		}
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
		report(r);
	}
	return NULL;
}

static void
on_dataset(void *ctx, const char *id, const char *what)
{
	struct replicator	*r = ctx;

	(void)what;
	pthread_mutex_lock(&r->lock);
	json_object_set_new(r->known, id, json_integer(0));
	r->gen_req++;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

struct replicator *
replicator_start(const struct replicator_config *c, struct dataset *ds,
    char *err, size_t errlen)
{
	struct replicator	*r;
	pthread_condattr_t	 ca;

	if (replicator_config_check(c, err, errlen) != 0)
		goto fail;
	if (!replicator_config_enabled(c)) {
		snprintf(err, errlen, "no central store: give --db and/or --s3");
		goto fail;
	}
	r = calloc(1, sizeof *r);
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r->c = *c;
	if (r->c.backoff_min <= 0)
		r->c.backoff_min = 0.5;
	if (r->c.backoff_max < r->c.backoff_min)
		r->c.backoff_max = r->c.backoff_min;
	if (r->c.concurrency < 1)
		r->c.concurrency = 1;
	r->ds = ds;
	r->known = json_object();
	r->follow = json_object();
	r->seed = (unsigned int)(getpid() ^ (unsigned int)(util_now() * 1e6));
	r->db_st.name = "db";
	r->db_st.on = c->db_on;
	store_set(&r->db_st, c->db_on ? "unknown" : "off", NULL);
	r->s3_st.name = "s3";
	r->s3_st.on = c->s3_on;
	store_set(&r->s3_st, c->s3_on ? "unknown" : "off", NULL);
	if (c->s3_on) {
		r->s3 = s3store_new(&c->s3, err, errlen);
		if (r->s3 == NULL) {
			json_decref(r->known);
			json_decref(r->follow);
			free(r);
			goto fail;
		}
		snprintf(r->s3_st.target, sizeof r->s3_st.target, "%s",
		    s3store_target(r->s3));
		s3store_set_abort(r->s3, &r->abort);
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cond, &ca);
	pthread_condattr_destroy(&ca);
	/* one pass at start, even with nothing new */
	r->gen_req = 1;
	dataset_set_listener(ds, on_dataset, r);
	if (pthread_create(&r->th, NULL, run, r) != 0) {
		dataset_set_listener(ds, NULL, NULL);
		snprintf(err, errlen, "cannot start the replicator thread");
		s3store_free(r->s3);
		json_decref(r->known);
		json_decref(r->follow);
		free(r);
		goto fail;
	}
	return r;
fail:
	pgstore_close(c->pg);	/* a handed-over connection is ours */
	return NULL;
}

int
replicator_drain(struct replicator *r, double timeout)
{
	struct timespec	ts;
	int		rc;

	add_ms(&ts, timeout > 0 ? timeout : 0);
	pthread_mutex_lock(&r->lock);
	for (;;) {
		if (r->gen_done == r->gen_req && !r->retrying &&
		    r->pend_rows == 0 && r->pend_objs == 0 &&
		    r->pend_loc == 0 && r->pend_sessions == 0) {
			rc = 0;
			break;
		}
		if (timeout <= 0 || pthread_cond_timedwait(&r->cond, &r->lock,
		    &ts) == ETIMEDOUT) {
			rc = r->gen_done == r->gen_req && !r->retrying &&
			    r->pend_rows == 0 && r->pend_objs == 0 &&
			    r->pend_loc == 0 && r->pend_sessions == 0 ? 0 :
			    -1;
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

json_t *
replicator_status(struct replicator *r)
{
	json_t	*s;

	pthread_mutex_lock(&r->lock);
	s = r->status != NULL ? json_deep_copy(r->status) : json_pack(
	    "{s:s, s:I, s:I, s:I}", "state", "starting", "pending_rows",
	    (json_int_t)0, "pending_objects", (json_int_t)0,
	    "pending_sessions", (json_int_t)0);
	pthread_mutex_unlock(&r->lock);
	return s;
}

json_t *
replicator_backlog(struct replicator *r)
{
	static const char	*keys[] = { "pending_rows", "pending_objects",
				    "pending_loc_rows", "pending_sessions" };
	json_t			*s, *p;
	char			 err[512];
	size_t			 i;

	s = replicator_status(r);
	p = replicator_pending(r->ds, r->c.db_on, r->c.s3_on, err, sizeof err);
	for (i = 0; p != NULL && i < sizeof keys / sizeof keys[0]; i++)
		json_object_set(s, keys[i], json_object_get(p, keys[i]));
	json_decref(p);
	return s;
}

void
replicator_stop(struct replicator *r)
{
	if (r == NULL)
		return;
	dataset_set_listener(r->ds, NULL, NULL);
	__atomic_store_n(&r->abort, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&r->lock);
	r->stop = 1;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->th, NULL);
	pgstore_close(r->pg);
	pgstore_close(r->c.pg);	/* handed over, never used */
	s3store_free(r->s3);
	json_decref(r->known);
	json_decref(r->status);
	json_decref(r->damaged);
	json_decref(r->follow);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}

/* ---- offline view ---- */

json_t *
replicator_pending(struct dataset *ds, int db, int s3, char *err,
    size_t errlen)
{
	char		 dir[PATH_MAX], path[PATH_MAX], e[256];
	struct dirent	*de;
	struct ledger	 l;
	json_t		*out, *list, *m, *ses, *last = NULL, *o;
	long		 prow, pobj, ploc, bad, trow = 0, tobj = 0, tloc = 0;
	long		 tses = 0;
	char		 bad_why[512];
	DIR		*d;
	char		*text;
	size_t		 len;

	if (util_fmt(dir, sizeof dir, "%s/sessions", dataset_dir(ds)) != 0 ||
	    (d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "cannot read %s/sessions: %s",
		    dataset_dir(ds), strerror(errno));
		return NULL;
	}
	list = json_array();
	while ((de = readdir(d)) != NULL) {
		const char *st;
		if (!util_is_uuid(de->d_name))
			continue;
		m = dataset_session_load(ds, de->d_name, e, sizeof e);
		if (m == NULL) {
			/* damaged and not rebuilt: listed, and pending */
			if (dataset_session_check(ds, de->d_name, e,
			    sizeof e) < 0) {
				json_array_append_new(list, json_pack("{s:s, "
				    "s:n, s:n, s:s, s:I, s:I, s:I, s:s, s:s}",
				    "id", de->d_name, "session_name",
				    "session_start", "status", "damaged",
				    "rows", (json_int_t)0, "rows_pending",
				    (json_int_t)0, "objects_pending",
				    (json_int_t)0, "session_row", "not sent",
				    "damaged", e));
				tses++;
			}
			continue;
		}
		ses = json_object_get(m, "session");
		st = jstr(ses, "status");
		ledger_load(ds, de->d_name, &l);
		count_pending(de->d_name, json_object_get(m, "measurements"),
		    &l, db, s3, &prow, &pobj);
		ploc = bad = 0;
		count_loc(de->d_name, m, &l, &ploc, &bad, bad_why,
		    sizeof bad_why);
		if (!db)
			ploc = 0;
		if (prow > 0 || pobj > 0 || ploc > 0 || (db && strcmp(l.status,
		    st) != 0))
			tses++;
		trow += prow;
		tobj += pobj;
		tloc += ploc;
		o = json_pack("{s:s, s:s, s:s, s:s, "
		    "s:I, s:I, s:I, s:s}", "id", de->d_name, "session_name",
		    jstr(ses, "session_name"), "session_start", jstr(ses,
		    "session_start"), "status", st, "rows",
		    (json_int_t)json_array_size(json_object_get(m,
		    "measurements")), "rows_pending", (json_int_t)prow,
		    "objects_pending", (json_int_t)pobj, "session_row",
		    !db ? "off" : l.status[0] == '\0' ? "pending" :
		    strcmp(l.status, st) != 0 ? "stale" : "sent");
		/* localization rows (TDoA, fixes): pending, and those that
		 * can never be sent with the first one's reason */
		json_object_set_new(o, "loc_rows", json_integer((json_int_t)(
		    json_array_size(loc_rows(m, PG_LOC_TDOA)) +
		    json_array_size(loc_rows(m, PG_LOC_FIX)))));
		json_object_set_new(o, "loc_rows_pending",
		    json_integer((json_int_t)ploc));
		if (bad > 0) {
			json_object_set_new(o, "loc_rows_invalid",
			    json_integer((json_int_t)bad));
			json_object_set_new(o, "loc_invalid", json_string(
			    bad_why));
		}
		json_array_append_new(list, o);
		ledger_free(&l);
		json_decref(m);
	}
	closedir(d);
	if (util_fmt(path, sizeof path, "%s/%s", dataset_dir(ds),
	    STATE_FILE) == 0 && access(path, F_OK) == 0 &&
	    (text = util_read_file(path, 1 << 20, &len, e, sizeof e)) != NULL) {
		last = json_loadb(text, len, 0, NULL);
		free(text);
	}
	out = json_pack("{s:o, s:I, s:I, s:I, s:I, s:o}", "sessions", list,
	    "pending_rows", (json_int_t)trow, "pending_objects",
	    (json_int_t)tobj, "pending_loc_rows", (json_int_t)tloc,
	    "pending_sessions", (json_int_t)tses, "last",
	    last != NULL ? last : json_null());
	return out;
}
