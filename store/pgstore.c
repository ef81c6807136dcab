/* pgstore.c -- the central PostgreSQL store: connection, migrations, idempotent batched writes (libpq). */

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "store/lazylib.h"
#include "store/migrations.h"
#include "store/pgstore.h"
#include "src/base/util.h"

/* pg_advisory_lock key: "Heimdall" as a 64-bit integer. */
#define PG_MIGRATE_LOCK	"5216694955912375404"

#define PG_TIMEOUT_DEFAULT	30	/* s for one statement */
#define PG_TIMEOUT_MIGRATE	600	/* s: a migration, or waiting for
					   another station's */

struct pgstore {
	PGconn			*conn;
	char			 target[512];
	double			 timeout;
	const volatile int	*abort;
	int			 broken;	/* timed out or aborted */
	int			 staged;	/* heimdall_rows exists in this
						   connection's session */
	json_t			*station_ids;	/* name -> websdr_stations.id
						   (text), for direct COPY */
};

/* The server's message without its trailing newline. */
static void
set_err(char *err, size_t errlen, const char *what, const char *msg)
{
	size_t	n;
	char	*p;

	snprintf(err, errlen, "%s%s%s", what, what[0] ? ": " : "",
	    msg != NULL && msg[0] ? msg : "unknown error");
	n = strlen(err);
	while (n > 0 && (err[n - 1] == '\n' || err[n - 1] == ' '))
		err[--n] = '\0';
	/* libpq's messages span lines ("...\n\tIs the server running"):
	 * one line for logs and status */
	for (p = err; *p != '\0'; p++)
		if (*p == '\n' || *p == '\t')
			*p = ' ';
}

static void
quiet(void *arg, const char *msg)
{
	/* NOTICEs ("already exists, skipping") are not for the operator. */
	(void)arg;
	(void)msg;
}

int
pgstore_conninfo_check(const char *conninfo, char *err, size_t errlen)
{
	PQconninfoOption	*opts, *o;
	char			*msg = NULL;
	int			 rc = 0;

	/* what libpq's expand_dbname treats as a connection string; anything
	 * else is a database name */
	if (strncmp(conninfo, "postgresql://", 13) != 0 &&
	    strncmp(conninfo, "postgres://", 11) != 0 &&
	    strchr(conninfo, '=') == NULL)
		return 0;
	if (lazylib_pq(err, errlen) != 0)
		return -1;
	if ((opts = PQconninfoParse(conninfo, &msg)) == NULL) {
		set_err(err, errlen, "invalid connection string",
		    msg != NULL ? msg : "out of memory");
		PQfreemem(msg);
		return -1;
	}
	/* the parser decodes keywords and values (percent-encoding, quotes,
	 * spaces) and reports a URL's "user:secret@" as the password */
	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL) {
			snprintf(err, errlen, "the connection string holds a "
			    "password: put it in PGPASSWORD or ~/.pgpass, not "
			    "on the command line");
			rc = -1;
		}
	}
	PQconninfoFree(opts);
	return rc;
}

struct pgstore *
pgstore_connect(const char *conninfo, char *err, size_t errlen)
{
	/*
	 * Our defaults come first: with expand_dbname, what the URL (the
	 * first "dbname") sets overrides them, and what neither sets comes
	 * from the libpq environment.
	 */
	const char	*keys[] = { "connect_timeout", "application_name",
			    "dbname", NULL };
	const char	*vals[] = { "5", "heimdall-rec", conninfo, NULL };
	struct pgstore	*pg;

	if (lazylib_pq(err, errlen) != 0)
		return NULL;
	pg = calloc(1, sizeof *pg);
	if (pg == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pg->conn = PQconnectdbParams(keys, vals, 1);
	if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK) {
		set_err(err, errlen, "cannot connect to the database",
		    pg->conn != NULL ? PQerrorMessage(pg->conn) :
		    "out of memory");
		pgstore_close(pg);
		return NULL;
	}
	PQsetNoticeProcessor(pg->conn, quiet, NULL);
	pg->timeout = PG_TIMEOUT_DEFAULT;
	snprintf(pg->target, sizeof pg->target, "%s@%s:%s/%s",
	    PQuser(pg->conn), PQhost(pg->conn), PQport(pg->conn),
	    PQdb(pg->conn));
	return pg;
}

void
pgstore_close(struct pgstore *pg)
{
	if (pg == NULL)
		return;
	if (pg->conn != NULL)
		PQfinish(pg->conn);
	json_decref(pg->station_ids);
	free(pg);
}

const char *
pgstore_target(const struct pgstore *pg)
{
	return pg->target;
}

void
pgstore_set_timeout(struct pgstore *pg, double seconds)
{
	pg->timeout = seconds > 0 ? seconds : PG_TIMEOUT_DEFAULT;
}

void
pgstore_set_abort(struct pgstore *pg, const volatile int *flag)
{
	pg->abort = flag;
}

int
pgstore_alive(struct pgstore *pg)
{
	if (!pg->broken && PQstatus(pg->conn) == CONNECTION_OK)
		return 1;
	pg->broken = 0;
	pg->staged = 0;		/* a new server session: no temp table */
	json_decref(pg->station_ids);
	pg->station_ids = NULL;
	PQreset(pg->conn);
	if (PQstatus(pg->conn) == CONNECTION_OK)
		PQsetNoticeProcessor(pg->conn, quiet, NULL);
	return PQstatus(pg->conn) == CONNECTION_OK;
}

/*
 * Send a statement (n < 0: simple protocol, several statements allowed)
 * and wait for its result without blocking for ever: a server that stops
 * answering (a hung host, a stopped process) costs at most pg->timeout,
 * and the abort flag (the replicator stopping) ends the wait within
 * 200 ms. Either way the connection is dropped: the statement may or may
 * not have run, which the idempotent writes do not mind. NULL with a
 * message, or the last result (the first error, if any).
 */
static PGresult *
run(struct pgstore *pg, const char *sql, int n, const char *const *v,
    double timeout)
{
	struct pollfd	 pfd;
	PGresult	*r, *keep = NULL;
	double		 deadline;
	int		 sent;

	if (pg->broken || PQstatus(pg->conn) != CONNECTION_OK)
		return NULL;
	sent = n < 0 ? PQsendQuery(pg->conn, sql) : PQsendQueryParams(pg->conn,
	    sql, n, NULL, v, NULL, NULL, 0);
	if (!sent)
		return NULL;
	deadline = util_mono() + timeout;
	for (;;) {
		if (!PQconsumeInput(pg->conn))
			break;		/* connection lost: PQgetResult says */
		if (!PQisBusy(pg->conn))
			break;
		if (pg->abort != NULL && __atomic_load_n(pg->abort,
		    __ATOMIC_RELAXED)) {
			pg->broken = 1;
			return NULL;
		}
		if (util_mono() > deadline) {
			pg->broken = 1;
			return NULL;
		}
		pfd.fd = PQsocket(pg->conn);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) < 0 && errno != EINTR)
			break;
	}
	while ((r = PQgetResult(pg->conn)) != NULL) {
		if (keep == NULL || (PQresultStatus(keep) != PGRES_FATAL_ERROR &&
		    PQresultStatus(r) != PGRES_EMPTY_QUERY)) {
			PQclear(keep);
			keep = r;
		} else
			PQclear(r);
	}
	return keep;
}

/* Why run() gave no result. */
static const char *
run_error(struct pgstore *pg, double timeout, char *buf, size_t len)
{
	if (pg->broken && pg->abort != NULL && __atomic_load_n(pg->abort,
	    __ATOMIC_RELAXED))
		return "stopped";
	if (pg->broken) {
		snprintf(buf, len, "no answer from the database in %g s",
		    timeout);
		return buf;
	}
	return PQerrorMessage(pg->conn);
}

/* Run a statement without parameters; 0 or -1 with the message. */
static int
exec_simple(struct pgstore *pg, const char *sql, const char *what,
    char *err, size_t errlen)
{
	char		 why[128];
	PGresult	*r = run(pg, sql, -1, NULL, pg->timeout);
	int		 st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		set_err(err, errlen, what, r != NULL ?
		    PQresultErrorMessage(r) : run_error(pg, pg->timeout, why,
		    sizeof why));
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

static PGresult *
exec_params(struct pgstore *pg, const char *sql, int n, const char *const *v,
    const char *what, char *err, size_t errlen)
{
	char		 why[128];
	PGresult	*r = run(pg, sql, n, v, pg->timeout);
	int		 st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		set_err(err, errlen, what, r != NULL ?
		    PQresultErrorMessage(r) : run_error(pg, pg->timeout, why,
		    sizeof why));
		PQclear(r);
		return NULL;
	}
	return r;
}

static void
rollback(struct pgstore *pg)
{
	PGresult	*r;

	if (pg->broken || PQstatus(pg->conn) != CONNECTION_OK)
		return;
	r = run(pg, "ROLLBACK", -1, NULL, 5);
	PQclear(r);
}

static const char migrations_table[] =
    "CREATE SCHEMA IF NOT EXISTS heimdall;"
    "CREATE TABLE IF NOT EXISTS heimdall.schema_migrations ("
    " version text PRIMARY KEY,"
    " applied_at timestamptz NOT NULL DEFAULT now(),"
    " applied_by text NOT NULL DEFAULT current_user)";

/* 1 if version is recorded, 0 if not, -1 on error. */
static int
applied(struct pgstore *pg, const char *version, char *err, size_t errlen)
{
	const char	*v[1] = { version };
	PGresult	*r;
	int		 n;

	r = exec_params(pg, "SELECT 1 FROM heimdall.schema_migrations "
	    "WHERE version = $1", 1, v, "reading schema_migrations", err,
	    errlen);
	if (r == NULL)
		return -1;
	n = PQntuples(r);
	PQclear(r);
	return n > 0;
}

int
pgstore_pending_migrations(struct pgstore *pg, char *err, size_t errlen)
{
	PGresult	*r;
	int		 i, j, n = 0, a, found;

	r = exec_params(pg, "SELECT to_regclass('heimdall.schema_migrations') "
	    "IS NOT NULL", 0, NULL, "reading schema_migrations", err, errlen);
	if (r == NULL)
		return -1;
	a = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!a) {
		for (i = 0; migrations[i].version != NULL; i++)
			n++;
		return n;
	}
	/* every version recorded, in one round trip (each one costs a
	 * round trip to a distant server at every start) */
	r = exec_params(pg, "SELECT version FROM heimdall.schema_migrations",
	    0, NULL, "reading schema_migrations", err, errlen);
	if (r == NULL)
		return -1;
	for (i = 0; migrations[i].version != NULL; i++) {
		for (j = 0, found = 0; j < PQntuples(r) && !found; j++)
			found = strcmp(PQgetvalue(r, j, 0),
			    migrations[i].version) == 0;
		n += !found;
	}
	PQclear(r);
	return n;
}

int
pgstore_migrate(struct pgstore *pg, int *napplied, char *err, size_t errlen)
{
	const char	*v[1];
	char		 what[128];
	PGresult	*r;
	int		 i, rc = -1, n = 0, a;

	double		 saved = pg->timeout;

	if (napplied != NULL)
		*napplied = 0;
	/* Up to date: nothing to lock or create (a role without CREATE on
	 * the database can still use the store). */
	if (pgstore_pending_migrations(pg, err, errlen) == 0)
		return 0;
	/*
	 * A session-level advisory lock: a second station migrating at the
	 * same moment waits here, then finds every migration recorded.
	 */
	pg->timeout = PG_TIMEOUT_MIGRATE;
	if (exec_simple(pg, "SELECT pg_advisory_lock(" PG_MIGRATE_LOCK ")",
	    "taking the migration lock", err, errlen) != 0) {
		pg->timeout = saved;
		return -1;
	}
	if (exec_simple(pg, migrations_table, "creating schema_migrations",
	    err, errlen) != 0)
		goto out;
	for (i = 0; migrations[i].version != NULL; i++) {
		if ((a = applied(pg, migrations[i].version, err, errlen)) < 0)
			goto out;
		if (a)
			continue;
		snprintf(what, sizeof what, "migration %s",
		    migrations[i].version);
		if (exec_simple(pg, "BEGIN", what, err, errlen) != 0)
			goto out;
		if (exec_simple(pg, migrations[i].sql, what, err,
		    errlen) != 0) {
			rollback(pg);
			goto out;
		}
		v[0] = migrations[i].version;
		r = exec_params(pg, "INSERT INTO heimdall.schema_migrations "
		    "(version) VALUES ($1)", 1, v, what, err, errlen);
		if (r == NULL) {
			rollback(pg);
			goto out;
		}
		PQclear(r);
		if (exec_simple(pg, "COMMIT", what, err, errlen) != 0)
			goto out;
		n++;
	}
	rc = 0;
out:
	/* (a lost connection releases the lock by itself) */
	if (!pg->broken && PQstatus(pg->conn) == CONNECTION_OK) {
		r = run(pg, "SELECT pg_advisory_unlock(" PG_MIGRATE_LOCK ")", -1,
		    NULL, 5);
		PQclear(r);
	}
	pg->timeout = saved;
	if (napplied != NULL)
		*napplied = n;
	return rc;
}

/* ---- writes ---- */

static const char *
jstr(const json_t *o, const char *k)
{
	const char	*s = json_string_value(json_object_get(o, k));

	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* A JSON number as text in buf, or NULL (SQL NULL) when absent. */
static const char *
jnum(const json_t *o, const char *k, int integer, char *buf, size_t len)
{
	json_t	*v = json_object_get(o, k);
	double	 d;

	if (!json_is_number(v))
		return NULL;
	d = json_number_value(v);
	if (!isfinite(d))
		return NULL;
	if (integer)
		snprintf(buf, len, "%.0f", d);
	else
		snprintf(buf, len, "%.17g", d);
	return buf;
}

static const char sql_source[] =
    "INSERT INTO heimdall.known_sources (name, description, frequency_hz,"
    " latitude, longitude) VALUES ($1, $2, $3::bigint, $4::float8,"
    " $5::float8) "
    /* a no-op update, so that RETURNING gives the existing row's id */
    "ON CONFLICT (name) DO UPDATE SET name = EXCLUDED.name RETURNING id";

static const char sql_session[] =
    "INSERT INTO heimdall.recording_sessions (id, known_source_id,"
    " session_name, session_start, session_end, duration_seconds, status,"
    " notes, frequency_hz, failure_reason, recorder_host, created_at,"
    " updated_at, group_id) VALUES ($1::uuid, $2::uuid, $3, $4::timestamptz,"
    " $5::timestamptz, $6::float8, $7, $8, $9::bigint, $10, $11,"
    " coalesce($12::timestamptz, now()), now(), $13) "
    "ON CONFLICT (id) DO UPDATE SET known_source_id ="
    " EXCLUDED.known_source_id, session_end = EXCLUDED.session_end,"
    " status = EXCLUDED.status, notes = EXCLUDED.notes,"
    " group_id = EXCLUDED.group_id,"
    " failure_reason = EXCLUDED.failure_reason, updated_at = now()";

/* The shared row follows the newest session that described the station
 * (sql/006: described_at = $2, that session's start); an older session
 * replicated later leaves it alone. */
static const char sql_stations[] =
    "INSERT INTO heimdall.websdr_stations (name, url, latitude, longitude,"
    " api_type, frequency_min_hz, frequency_max_hz, described_at) "
    "SELECT s.name, s.url, s.latitude, s.longitude, s.type,"
    " s.frequency_min_hz, s.frequency_max_hz, $2::timestamptz "
    "FROM jsonb_to_recordset($1::jsonb) AS s(name text, url text,"
    " latitude float8, longitude float8, type text, frequency_min_hz bigint,"
    " frequency_max_hz bigint) "
    "ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url,"
    " latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude,"
    " api_type = EXCLUDED.api_type,"
    " frequency_min_hz = coalesce(EXCLUDED.frequency_min_hz,"
    "  websdr_stations.frequency_min_hz),"
    " frequency_max_hz = coalesce(EXCLUDED.frequency_max_hz,"
    "  websdr_stations.frequency_max_hz), described_at ="
    " EXCLUDED.described_at, updated_at = now() "
    "WHERE websdr_stations.described_at IS NULL OR"
    " websdr_stations.described_at <= EXCLUDED.described_at";

/* The session's own copy of its stations (sql/006), as its manifest has
 * them, written once: a station moved or renamed later does not rewrite
 * it. Every station of the session by its index, the same name twice
 * included (one shared row each name). */
static const char sql_session_stations[] =
    "INSERT INTO heimdall.session_stations (recording_session_id, websdr,"
    " websdr_station_id, name, url, api_type, latitude, longitude,"
    " published_latitude, published_longitude, sample_rate) "
    "SELECT $1::uuid, s.websdr, w.id, s.name, s.url, s.type, s.latitude,"
    " s.longitude, s.published_latitude, s.published_longitude,"
    " s.sample_rate "
    "FROM jsonb_to_recordset($2::jsonb) AS s(websdr int, name text, url text,"
    " type text, latitude float8, longitude float8, published_latitude"
    " float8, published_longitude float8, sample_rate float8) "
    "JOIN heimdall.websdr_stations w ON w.name = s.name "
    "WHERE s.websdr IS NOT NULL "
    "ON CONFLICT DO NOTHING";

/*
 * Measurement rows travel by COPY (text format) into a temporary staging
 * table, then one INSERT ... SELECT moves them: COPY is the cheapest way
 * in (no JSON for the server to parse), and the INSERT keeps what COPY
 * alone cannot: ON CONFLICT DO NOTHING (idempotence) and the station id
 * found by name. The staging table lives as long as the connection and
 * empties at every COMMIT (one transaction per batch). The LEFT JOIN makes
 * a row whose station is not in websdr_stations fail on the NOT NULL of
 * websdr_station_id instead of vanishing silently. A row without t0_ns /
 * sample_rate_hz (not GPS-timed, or from an older manifest) stores NULL
 * there; t0_ns travels as integer text, so every nanosecond reaches
 * bigint.
 */
#define STAGE_COLS \
    "(id uuid, \"timestamp\" timestamptz, websdr_station_name text," \
    " recording_session_id uuid, frequency_hz bigint, signal_strength_db" \
    " float8, snr_db float8, frequency_offset_hz float8, iq_data_location" \
    " text, iq_data_format text, iq_sample_rate float8, iq_samples_count" \
    " int, duration_seconds float8, chunk_index int, websdr int," \
    " noise_floor_db float8, rssi_dbm float8, peak_amplitude float8," \
    " adc_overflow_count int, gps_fix_age_s float8, time_source text," \
    " samples_lost int, t0_ns bigint, sample_rate_hz float8, created_at" \
    " timestamptz)"

static const char sql_stage_create[] =
    "BEGIN; CREATE TEMP TABLE IF NOT EXISTS heimdall_rows " STAGE_COLS
    " ON COMMIT DELETE ROWS; COPY heimdall_rows FROM STDIN";
static const char sql_stage_copy[] =
    "BEGIN; COPY heimdall_rows FROM STDIN";

static const char sql_rows[] =
    "INSERT INTO heimdall.measurements (id, \"timestamp\", websdr_station_id,"
    " recording_session_id, frequency_hz, signal_strength_db, snr_db,"
    " frequency_offset_hz, iq_data_location, iq_data_format, iq_sample_rate,"
    " iq_samples_count, duration_seconds, chunk_index, websdr,"
    " noise_floor_db, rssi_dbm, peak_amplitude, adc_overflow_count,"
    " gps_fix_age_s, time_source, samples_lost, first_sample_utc,"
    " t0_ns, sample_rate_hz, created_at) "
    "SELECT r.id, r.\"timestamp\", s.id, r.recording_session_id,"
    " r.frequency_hz, r.signal_strength_db, r.snr_db, r.frequency_offset_hz,"
    " r.iq_data_location, r.iq_data_format, r.iq_sample_rate,"
    " r.iq_samples_count, r.duration_seconds, r.chunk_index, r.websdr,"
    " r.noise_floor_db, r.rssi_dbm, r.peak_amplitude, r.adc_overflow_count,"
    " r.gps_fix_age_s, r.time_source, r.samples_lost, r.\"timestamp\","
    " r.t0_ns, r.sample_rate_hz, coalesce(r.created_at, now()) "
    "FROM heimdall_rows r "
    "LEFT JOIN heimdall.websdr_stations s ON s.name = r.websdr_station_name "
    "ON CONFLICT DO NOTHING";

/*
 * Rows never confirmed (pgstore_put_new_rows) go straight into the table:
 * the same columns as the staging table, the station's id in place of its
 * name, first_sample_utc (= "timestamp") last. One statement, so a refusal
 * (a row already there: unique_violation) stores nothing.
 */
static const char sql_direct_copy[] =
    "COPY heimdall.measurements (id, \"timestamp\", websdr_station_id,"
    " recording_session_id, frequency_hz, signal_strength_db, snr_db,"
    " frequency_offset_hz, iq_data_location, iq_data_format, iq_sample_rate,"
    " iq_samples_count, duration_seconds, chunk_index, websdr,"
    " noise_floor_db, rssi_dbm, peak_amplitude, adc_overflow_count,"
    " gps_fix_age_s, time_source, samples_lost, t0_ns, sample_rate_hz,"
    " created_at, first_sample_utc) FROM STDIN";

static const char sql_station_ids[] =
    "SELECT name, id::text FROM heimdall.websdr_stations "
    "WHERE name IN (SELECT jsonb_array_elements_text($1::jsonb))";

int
pgstore_put_session(struct pgstore *pg, const json_t *ses,
    const json_t *source, const json_t *stations, char *err, size_t errlen)
{
	char		 f1[64], f2[64], f3[64], f4[64], f5[64], host[256];
	char		 srcid[64], *text = NULL;
	const char	*v[13];
	json_t		*arr = NULL, *st, *o;
	PGresult	*r;
	size_t		 i, j;
	int		 dup;

	if (exec_simple(pg, "BEGIN", "session", err, errlen) != 0)
		return -1;
	v[0] = jstr(source, "name") != NULL ? jstr(source, "name") :
	    "Unknown";
	v[1] = jstr(source, "description");
	v[2] = jnum(source, "frequency_hz", 1, f1, sizeof f1);
	if (v[2] != NULL && strcmp(v[2], "0") == 0)
		v[2] = NULL;
	v[3] = jnum(source, "latitude", 0, f2, sizeof f2);
	v[4] = jnum(source, "longitude", 0, f3, sizeof f3);
	r = exec_params(pg, sql_source, 5, v, "source", err, errlen);
	if (r == NULL)
		goto fail;
	snprintf(srcid, sizeof srcid, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);

	if (gethostname(host, sizeof host) != 0)
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	v[0] = jstr(ses, "id");
	v[1] = srcid;
	v[2] = jstr(ses, "session_name");
	v[3] = jstr(ses, "session_start");
	v[4] = jstr(ses, "session_end");
	v[5] = jnum(ses, "duration_seconds", 0, f4, sizeof f4);
	v[6] = jstr(ses, "status");
	v[7] = jstr(ses, "notes");
	v[8] = jnum(ses, "frequency_hz", 1, f5, sizeof f5);
	v[9] = jstr(ses, "failure_reason");
	/* who recorded it, as its manifest says (engine: recorder_host);
	 * this host for manifests older than that */
	v[10] = host[0] ? host : NULL;
	if (jstr(ses, "recorder_host") != NULL &&
	    strlen(jstr(ses, "recorder_host")) <= 255 &&
	    util_text_check(jstr(ses, "recorder_host"), 0) == UTIL_TEXT_OK)
		v[10] = jstr(ses, "recorder_host");
	v[11] = jstr(ses, "created_at");
	/* the manifest is read back from disk: a group id that is not one
	 * goes as NULL (sql/005's check would refuse the whole session) */
	v[12] = jstr(ses, "group_id");
	if (v[12] != NULL && !util_is_token(v[12], UTIL_GROUP_ID_MAX))
		v[12] = NULL;
	if (v[0] == NULL || v[2] == NULL || v[3] == NULL || v[6] == NULL) {
		snprintf(err, errlen, "session: manifest lacks id, "
		    "session_name, session_start or status");
		goto fail;
	}
	r = exec_params(pg, sql_session, 13, v, "session", err, errlen);
	if (r == NULL)
		goto fail;
	PQclear(r);

	/* Stations, each name once (an upsert may not touch a row twice). */
	arr = json_array();
	json_array_foreach(stations, i, st) {
		if (jstr(st, "name") == NULL)
			continue;
		dup = 0;
		json_array_foreach(arr, j, o)
			if (strcmp(jstr(o, "name"), jstr(st, "name")) == 0)
				dup = 1;
		if (!dup)
			json_array_append(arr, (json_t *)st);
	}
	text = util_json_dumps(arr, JSON_COMPACT);
	v[0] = text;
	if (text == NULL) {
		snprintf(err, errlen, "stations: out of memory");
		goto fail;
	}
	v[1] = jstr(ses, "session_start");
	r = exec_params(pg, sql_stations, 2, v, "stations", err, errlen);
	if (r == NULL)
		goto fail;
	PQclear(r);
	free(text);
	text = util_json_dumps(stations, JSON_COMPACT);
	v[0] = jstr(ses, "id");
	v[1] = text;
	if (text == NULL) {
		snprintf(err, errlen, "stations: out of memory");
		goto fail;
	}
	r = exec_params(pg, sql_session_stations, 2, v, "session stations",
	    err, errlen);
	if (r == NULL)
		goto fail;
	PQclear(r);
	if (exec_simple(pg, "COMMIT", "session", err, errlen) != 0)
		goto fail;
	free(text);
	json_decref(arr);
	return 0;
fail:
	rollback(pg);
	free(text);
	json_decref(arr);
	return -1;
}

/* ---- measurement rows by COPY ---- */

/* How a manifest value becomes a COPY field, per staging column. */
enum col_kind {
	C_TEXT,		/* uuid, timestamptz, text: the string as it is */
	C_NUM,		/* float8 / int: the number (a string: as it is, for
			   the server to parse or refuse, as before) */
	C_FREQ,		/* bigint: a JSON real such as 145000000.0 rounded */
	C_T0,		/* bigint t0_ns: an exact integer, else NULL */
	C_RATE,		/* sample_rate_hz: a number, else NULL */
};

static const struct {
	const char	*name;
	enum col_kind	 kind;
} stage_cols[] = {
	{ "id", C_TEXT }, { "timestamp", C_TEXT },
	{ "websdr_station_name", C_TEXT }, { "recording_session_id", C_TEXT },
	{ "frequency_hz", C_FREQ }, { "signal_strength_db", C_NUM },
	{ "snr_db", C_NUM }, { "frequency_offset_hz", C_NUM },
	{ "iq_data_location", C_TEXT }, { "iq_data_format", C_TEXT },
	{ "iq_sample_rate", C_NUM }, { "iq_samples_count", C_NUM },
	{ "duration_seconds", C_NUM }, { "chunk_index", C_NUM },
	{ "websdr", C_NUM }, { "noise_floor_db", C_NUM }, { "rssi_dbm", C_NUM },
	{ "peak_amplitude", C_NUM }, { "adc_overflow_count", C_NUM },
	{ "gps_fix_age_s", C_NUM }, { "time_source", C_TEXT },
	{ "samples_lost", C_NUM }, { "t0_ns", C_T0 },
	{ "sample_rate_hz", C_RATE }, { "created_at", C_TEXT },
};

struct cbuf {
	char	*s;
	size_t	 len, cap;
	int	 oom;
};

static int
cbuf_room(struct cbuf *b, size_t n)
{
	char	*nv;
	size_t	 cap;

	if (b->oom)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 65536;
	while (cap < b->len + n + 1)
		cap *= 2;
	if ((nv = realloc(b->s, cap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->s = nv;
	b->cap = cap;
	return 0;
}

static void
cbuf_put(struct cbuf *b, const char *s, size_t n)
{
	if (cbuf_room(b, n) != 0)
		return;
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* A string as a COPY text field: backslash, tab, newline and carriage
 * return escaped (so that no field can end a row or the data, "\."). */
static void
cbuf_text(struct cbuf *b, const char *s, size_t n)
{
	size_t	i;
	char	*p;

	if (cbuf_room(b, 2 * n) != 0)
		return;
	p = b->s + b->len;
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\': *p++ = '\\'; *p++ = '\\'; break;
		case '\t': *p++ = '\\'; *p++ = 't'; break;
		case '\n': *p++ = '\\'; *p++ = 'n'; break;
		case '\r': *p++ = '\\'; *p++ = 'r'; break;
		default: *p++ = s[i];
		}
	}
	b->len = (size_t)(p - b->s);
	b->s[b->len] = '\0';
}

/* One value: \N (NULL) when absent, null, not finite, or not a scalar. */
static void
cbuf_value(struct cbuf *b, const json_t *v, enum col_kind kind)
{
	char	num[40];
	int	n;

	if (v == NULL) {
		cbuf_put(b, "\\N", 2);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_STRING:
		/* a NUL cannot travel in text (nor did it as jsonb) */
		if (kind == C_T0 || kind == C_RATE ||
		    memchr(json_string_value(v), '\0',
		    json_string_length(v)) != NULL)
			break;
		cbuf_text(b, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		cbuf_put(b, num, (size_t)n);
		return;
	case JSON_REAL:
		if (kind == C_T0 || !isfinite(json_real_value(v)))
			break;	/* t0_ns exact or nothing: a real lost its ns */
		/* %.17g: exact for any double; the server parses float8 */
		n = kind == C_FREQ ? snprintf(num, sizeof num, "%lld",
		    (long long)llround(json_real_value(v))) :
		    snprintf(num, sizeof num, "%.17g", json_real_value(v));
		cbuf_put(b, num, (size_t)n);
		return;
	case JSON_TRUE:
	case JSON_FALSE:
		if (kind != C_TEXT && kind != C_NUM)
			break;
		cbuf_put(b, json_is_true(v) ? "true" : "false",
		    json_is_true(v) ? 4 : 5);
		return;
	default:
		break;
	}
	cbuf_put(b, "\\N", 2);
}

/*
 * The COPY text of rows[from, to): for the staging table (ids NULL), or for
 * sql_direct_copy (ids: station name -> id; a station not in it leaves
 * the text NULL with *missing set). NULL also when out of memory.
 */
static char *
rows_copy(const json_t *rows, size_t from, size_t to, size_t *len,
    const json_t *ids, int *missing)
{
	struct cbuf	 b = { NULL, 0, 0, 0 };
	const json_t	*row, *v;
	size_t		 i, k, ncols = sizeof stage_cols / sizeof stage_cols[0];

	*len = 0;
	*missing = 0;
	if (cbuf_room(&b, 0) != 0)
		return NULL;
	b.s[0] = '\0';
	for (i = from; i < to && (row = json_array_get(rows, i)) != NULL;
	    i++) {
		for (k = 0; k < ncols; k++) {
			if (k > 0)
				cbuf_put(&b, "\t", 1);
			v = json_object_get(row, stage_cols[k].name);
			if (ids != NULL && k == 2) {
				/* websdr_station_name -> websdr_station_id */
				v = json_object_get(ids, json_string_value(v)
				    != NULL ? json_string_value(v) : "");
				if (!json_is_string(v)) {
					*missing = 1;
					free(b.s);
					return NULL;
				}
			}
			cbuf_value(&b, v, stage_cols[k].kind);
		}
		if (ids != NULL) {
			/* first_sample_utc: the chunk's "timestamp" */
			cbuf_put(&b, "\t", 1);
			cbuf_value(&b, json_object_get(row, "timestamp"),
			    C_TEXT);
		}
		cbuf_put(&b, "\n", 1);
	}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	*len = b.len;
	return b.s;
}

char *
pgstore_rows_copy(const json_t *rows, size_t *len)
{
	int	missing;

	return rows_copy(rows, 0, json_array_size(rows), len, NULL, &missing);
}

/*
 * Wait, within the deadline and the abort flag, until libpq can hand over
 * a result without blocking (want_write: until the socket takes more).
 * 0, or -1 with the connection marked broken (timeout, abort) or lost.
 */
static int
wait_conn(struct pgstore *pg, double deadline, int want_write)
{
	struct pollfd	pfd;

	for (;;) {
		if (!PQconsumeInput(pg->conn))
			return -1;
		if (!want_write && !PQisBusy(pg->conn))
			return 0;
		if (want_write) {
			int f = PQflush(pg->conn);
			if (f < 0)
				return -1;
			if (f == 0)
				return 0;
		}
		if ((pg->abort != NULL && __atomic_load_n(pg->abort,
		    __ATOMIC_RELAXED)) || util_mono() > deadline) {
			pg->broken = 1;
			return -1;
		}
		pfd.fd = PQsocket(pg->conn);
		pfd.events = POLLIN | (want_write ? POLLOUT : 0);
		if (poll(&pfd, 1, 200) < 0 && errno != EINTR)
			return -1;
	}
}

/* The COPY half of a batch: sql (BEGIN, the staging table on first use,
 * the COPY; or the direct COPY), the data (text, or rows with ids made
 * piece by piece: every station must be in ids), its end. 0 with *count (may be
 * NULL) the rows copied, or -1 with err and *refused (may be NULL) set
 * when the server refused a statement (the connection stays usable; the
 * transaction, if any, is left to roll back by the caller) rather than
 * the connection failing. */
/* Rows a piece of the direct COPY's text holds: built while the server
 * stores the piece before (client and server work overlap). */
#define COPY_PIECE_ROWS	500

static int
copy_in(struct pgstore *pg, const char *sql, const char *text, size_t len,
    const json_t *rows, const json_t *ids, int *count, int *refused,
    char *err, size_t errlen)
{
	char		 why[128];
	PGresult	*r;
	double		 deadline = util_mono() + pg->timeout;
	size_t		 off = 0, n, piece = 0;
	char		*own = NULL;
	int		 st = PGRES_FATAL_ERROR, rc;

	if (rows != NULL)
		len = 0;
	if (count != NULL)
		*count = 0;
	if (refused != NULL)
		*refused = 0;
	if (pg->broken || PQstatus(pg->conn) != CONNECTION_OK ||
	    !PQsendQuery(pg->conn, sql))
		goto lost;
	/* BEGIN, CREATE: their results; then the server awaits the data */
	for (;;) {
		if (wait_conn(pg, deadline, 0) != 0)
			goto lost;
		if ((r = PQgetResult(pg->conn)) == NULL)
			goto lost;
		st = PQresultStatus(r);
		if (st == PGRES_FATAL_ERROR) {
			set_err(err, errlen, "measurements",
			    PQresultErrorMessage(r));
			if (refused != NULL)
				*refused = 1;
			PQclear(r);
			while ((r = PQgetResult(pg->conn)) != NULL)
				PQclear(r);
			return -1;
		}
		PQclear(r);
		if (st == PGRES_COPY_IN)
			break;
	}
	/* non-blocking: a server that stops reading costs the timeout, not
	 * a thread blocked in send() for ever */
	if (PQsetnonblocking(pg->conn, 1) != 0)
		goto lost;
	for (;;) {
		if (off == len && rows != NULL && piece < json_array_size(rows)) {
			int missing;
			free(own);
			own = rows_copy(rows, piece, piece + COPY_PIECE_ROWS, &len,
			    ids, &missing);
			piece += COPY_PIECE_ROWS;
			if (own == NULL) {
				/* the server rolls the COPY back */
				PQputCopyEnd(pg->conn, "out of memory");
				goto oom;
			}
			text = own;
			off = 0;
		}
		if (off == len)
			break;
		n = len - off > 65536 ? 65536 : len - off;
		rc = PQputCopyData(pg->conn, text + off, (int)n);
		if (rc < 0)
			goto lost_nb;
		if (rc == 0) {
			if (wait_conn(pg, deadline, 1) != 0)
				goto lost_nb;
			continue;
		}
		off += n;
	}
	free(own);
	own = NULL;
	while ((rc = PQputCopyEnd(pg->conn, NULL)) == 0)
		if (wait_conn(pg, deadline, 1) != 0)
			goto lost_nb;
	if (rc < 0 || wait_conn(pg, deadline, 1) != 0)
		goto lost_nb;
	PQsetnonblocking(pg->conn, 0);
	if (wait_conn(pg, deadline, 0) != 0)
		goto lost;
	r = PQgetResult(pg->conn);
	st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK)
		set_err(err, errlen, "measurements", r != NULL ?
		    PQresultErrorMessage(r) : PQerrorMessage(pg->conn));
	else if (count != NULL)
		*count = atoi(PQcmdTuples(r));
	if (st == PGRES_FATAL_ERROR && r != NULL && refused != NULL &&
	    PQstatus(pg->conn) == CONNECTION_OK)
		*refused = 1;
	PQclear(r);
	while ((r = PQgetResult(pg->conn)) != NULL)
		PQclear(r);
	return st == PGRES_COMMAND_OK ? 0 : -1;
oom:
	free(own);
	if (PQstatus(pg->conn) == CONNECTION_OK)
		PQsetnonblocking(pg->conn, 0);
	snprintf(err, errlen, "measurements: out of memory");
	pg->broken = 1;		/* whatever the server says, a new one */
	return -1;
lost_nb:
	if (PQstatus(pg->conn) == CONNECTION_OK)
		PQsetnonblocking(pg->conn, 0);
lost:
	free(own);
	set_err(err, errlen, "measurements", run_error(pg, pg->timeout, why,
	    sizeof why));
	/* mid-COPY the connection cannot be reused: a new one next time
	 * (the transaction dies with it; nothing half-stored) */
	pg->broken = 1;
	return -1;
}

int
pgstore_put_rows(struct pgstore *pg, const json_t *rows, int *inserted,
    char *err, size_t errlen)
{
	PGresult	*r;
	char		*text;
	size_t		 len;

	if (inserted != NULL)
		*inserted = 0;
	if (json_array_size(rows) == 0)
		return 0;
	text = pgstore_rows_copy(rows, &len);
	if (text == NULL) {
		snprintf(err, errlen, "measurements: out of memory");
		return -1;
	}
	if (copy_in(pg, pg->staged ? sql_stage_copy : sql_stage_create, text,
	    len, NULL, NULL, NULL, NULL, err, errlen) != 0) {
		free(text);
		rollback(pg);
		return -1;
	}
	free(text);
	r = exec_params(pg, sql_rows, 0, NULL, "measurements", err, errlen);
	if (r == NULL) {
		rollback(pg);
		return -1;
	}
	if (inserted != NULL)
		*inserted = atoi(PQcmdTuples(r));
	PQclear(r);
	if (exec_simple(pg, "COMMIT", "measurements", err, errlen) != 0) {
		rollback(pg);
		return -1;
	}
	pg->staged = 1;
	return 0;
}

/*
 * Fill pg->station_ids with the ids of the stations rows name that it
 * lacks (one query). 0 (a name the table lacks stays missing), or -1 with
 * err (the connection failed).
 */
static int
station_ids(struct pgstore *pg, const json_t *rows, char *err, size_t errlen)
{
	json_t		*want, *row;
	const char	*name, *v[1];
	char		*text;
	PGresult	*r;
	size_t		 i;
	int		 k;

	if (pg->station_ids == NULL)
		pg->station_ids = json_object();
	want = json_array();
	if (pg->station_ids == NULL || want == NULL)
		goto oom;
	json_array_foreach(rows, i, row) {
		name = jstr(row, "websdr_station_name");
		if (name == NULL || json_object_get(pg->station_ids,
		    name) != NULL)
			continue;
		/* mark it asked for: each name once in the query */
		if (json_object_set_new(pg->station_ids, name,
		    json_null()) != 0 ||
		    json_array_append_new(want, json_string(name)) != 0)
			goto oom;
	}
	/* a name asked for but not found stays null: no second query */
	if (json_array_size(want) == 0) {
		json_decref(want);
		return 0;
	}
	text = util_json_dumps(want, JSON_COMPACT);
	json_decref(want);
	want = NULL;
	if (text == NULL)
		goto oom;
	v[0] = text;
	r = exec_params(pg, sql_station_ids, 1, v, "stations", err, errlen);
	free(text);
	if (r == NULL) {
		json_decref(pg->station_ids);
		pg->station_ids = NULL;
		return -1;
	}
	for (k = 0; k < PQntuples(r); k++)
		json_object_set_new(pg->station_ids, PQgetvalue(r, k, 0),
		    json_string(PQgetvalue(r, k, 1)));
	PQclear(r);
	return 0;
oom:
	json_decref(want);
	snprintf(err, errlen, "measurements: out of memory");
	return -1;
}

int
pgstore_put_new_rows(struct pgstore *pg, const json_t *rows, int *inserted,
    char *err, size_t errlen)
{
	const json_t	*row;
	const char	*name;
	size_t		 i;
	int		 refused, n, rc;

	if (inserted != NULL)
		*inserted = 0;
	if (json_array_size(rows) == 0)
		return 0;
	if (station_ids(pg, rows, err, errlen) != 0)
		return -1;
	/* a station the table lacks: the staging path says so */
	json_array_foreach(rows, i, row) {
		name = jstr(row, "websdr_station_name");
		if (name == NULL || !json_is_string(json_object_get(
		    pg->station_ids, name)))
			return pgstore_put_rows(pg, rows, inserted, err,
			    errlen);
	}
	rc = copy_in(pg, sql_direct_copy, NULL, 0, rows, pg->station_ids, &n,
	    &refused, err, errlen);
	if (rc == 0) {
		if (inserted != NULL)
			*inserted = n;
		return 0;
	}
	if (!refused)
		return -1;	/* the connection failed */
	/*
	 * The server refused the COPY (one statement: nothing of it is
	 * stored): a row already there (sent before a crash, or by another
	 * sender), a station id gone stale, a value the staging INSERT
	 * treats otherwise (created_at missing). The staging path, which
	 * skips what is there, decides; the ids are asked again next time.
	 */
	json_decref(pg->station_ids);
	pg->station_ids = NULL;
	return pgstore_put_rows(pg, rows, inserted, err, errlen);
}

/* ---- the central list of sessions (sql/005) ---- */

/* One value back (a JSON array built by the server): no per-column NULL
 * handling, and jansson checks the text. The counts are per session
 * (measurements_session_idx). */
static const char sql_sessions[] =
    "SELECT coalesce(json_agg(t ORDER BY t.session_start DESC), '[]') FROM ("
    " SELECT s.id, s.session_name, s.status,"
    "  to_char(s.session_start AT TIME ZONE 'UTC',"
    "  'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS session_start,"
    "  s.recorder_host, s.group_id, s.frequency_hz,"
    "  s.duration_seconds,"
    "  (SELECT count(*) FROM heimdall.measurements m"
    "   WHERE m.recording_session_id = s.id) AS chunks_stored,"
    "  (SELECT count(DISTINCT m.websdr_station_id) FROM heimdall.measurements m"
    "   WHERE m.recording_session_id = s.id) AS receivers"
    " FROM heimdall.recording_sessions s"
    " ORDER BY s.session_start DESC LIMIT $1::int) t";

json_t *
pgstore_sessions_list(struct pgstore *pg, int limit, char *err,
    size_t errlen)
{
	static const char *const strs[] = { "id", "session_name", "status",
	    "session_start" };
	json_error_t	 je;
	PGresult	*r;
	json_t		*list, *o;
	char		 lim[16];
	const char	*v[1] = { lim };
	size_t		 i, k;

	if (limit < 1 || limit > 10000) {
		snprintf(err, errlen, "sessions: limit %d is not 1-10000",
		    limit);
		return NULL;
	}
	snprintf(lim, sizeof lim, "%d", limit);
	if ((r = exec_params(pg, sql_sessions, 1, v, "sessions", err,
	    errlen)) == NULL)
		return NULL;
	if (PQntuples(r) != 1) {
		PQclear(r);
		snprintf(err, errlen, "sessions: no answer");
		return NULL;
	}
	list = json_loads(PQgetvalue(r, 0, 0), JSON_REJECT_DUPLICATES, &je);
	PQclear(r);
	if (!json_is_array(list)) {
		json_decref(list);
		snprintf(err, errlen, "sessions: the database's answer is not "
		    "a list (%s)", je.text);
		return NULL;
	}
	json_array_foreach(list, i, o) {
		for (k = 0; k < sizeof strs / sizeof strs[0]; k++)
			if (!json_is_string(json_object_get(o, strs[k])))
				break;
		if (k < sizeof strs / sizeof strs[0] ||
		    !json_is_integer(json_object_get(o, "chunks_stored"))) {
			json_decref(list);
			snprintf(err, errlen, "sessions: row %zu of the "
			    "database's answer lacks %s", i, k < sizeof strs /
			    sizeof strs[0] ? strs[k] : "chunks_stored");
			return NULL;
		}
	}
	return list;
}

/* ---- localization rows (sql/004) ---- */

/*
 * The statements. A TDoA row's stations are found by name like a
 * measurement's (the LEFT JOIN fails a row whose station is missing on the
 * NOT NULL instead of dropping it silently). ON CONFLICT without a target:
 * every unique key (the pair in either order, the chunk's fix, the one
 * session fix) makes a replay a no-op.
 */
static const char sql_tdoa[] =
    "INSERT INTO heimdall.tdoa_measurements (recording_session_id,"
    " chunk_index, websdr_a, websdr_b, websdr_station_a_id,"
    " websdr_station_b_id, tdoa_us, sigma_us, quality, corr) "
    "SELECT r.session_id, r.chunk_index, r.websdr_a, r.websdr_b, a.id, b.id,"
    " r.tdoa_us, r.sigma_us, r.quality, r.corr "
    "FROM jsonb_to_recordset($1::jsonb) AS r(session_id uuid, chunk_index"
    " int, websdr_a int, websdr_b int, station_a text, station_b text,"
    " tdoa_us float8, sigma_us float8, quality float8, corr float8) "
    "LEFT JOIN heimdall.websdr_stations a ON a.name = r.station_a "
    "LEFT JOIN heimdall.websdr_stations b ON b.name = r.station_b "
    "ON CONFLICT DO NOTHING";

static const char sql_fixes[] =
    "INSERT INTO heimdall.position_fixes (recording_session_id, chunk_index,"
    " final, ok, reason, latitude, longitude, semi_major_m, semi_minor_m,"
    " orientation_deg, cep50_m, cep95_m, receivers, pairs_used, error_m,"
    " worst_websdr, worst_residual_us) "
    "SELECT r.session_id, r.chunk_index, r.final, r.ok, r.reason,"
    " r.latitude, r.longitude, r.semi_major_m, r.semi_minor_m,"
    " r.orientation_deg, r.cep50_m, r.cep95_m, coalesce(r.receivers, '{}'),"
    " r.pairs_used, r.error_m, r.worst_websdr, r.worst_residual_us "
    "FROM jsonb_to_recordset($1::jsonb) AS r(session_id uuid, chunk_index"
    " int, final bool, ok bool, reason text, latitude float8, longitude"
    " float8, semi_major_m float8, semi_minor_m float8, orientation_deg"
    " float8, cep50_m float8, cep95_m float8, receivers int[], pairs_used"
    " int, error_m float8, worst_websdr int, worst_residual_us float8) "
    "ON CONFLICT DO NOTHING";

/* The name of station websdr in the manifest's stations, or NULL. */
static const char *
station_name(const json_t *stations, json_int_t websdr)
{
	const json_t	*st;
	size_t		 i;

	json_array_foreach(stations, i, st) {
		if (json_is_integer(json_object_get(st, "websdr")) &&
		    json_integer_value(json_object_get(st, "websdr")) ==
		    websdr)
			return jstr(st, "name");
	}
	return NULL;
}

/* Field k: absent or null (if may_null), else a number in lo..hi. */
static int
chk_num(const json_t *row, const char *k, int may_null, double lo,
    double hi, char *why, size_t len)
{
	json_t	*v = json_object_get(row, k);
	double	 d;

	if (v == NULL || json_is_null(v)) {
		if (may_null)
			return 0;
		snprintf(why, len, "%s missing", k);
		return -1;
	}
	if (!json_is_number(v)) {
		snprintf(why, len, "%s is not a number", k);
		return -1;
	}
	d = json_number_value(v);
	if (!isfinite(d) || d < lo || d > hi) {
		snprintf(why, len, "%s %g out of %g..%g", k, d, lo, hi);
		return -1;
	}
	return 0;
}

/* Field k: absent or null (if may_null), else an integer in lo..hi. */
static int
chk_int(const json_t *row, const char *k, int may_null, json_int_t lo,
    json_int_t hi, char *why, size_t len)
{
	json_t	*v = json_object_get(row, k);

	if (v == NULL || json_is_null(v)) {
		if (may_null)
			return 0;
		snprintf(why, len, "%s missing", k);
		return -1;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi) {
		snprintf(why, len, "%s is not a whole number from %lld to %lld",
		    k, (long long)lo, (long long)hi);
		return -1;
	}
	return 0;
}

static int
loc_check(enum pgstore_loc kind, const json_t *row, const char *sid,
    const json_t *stations, char *key, size_t keylen, char *why, size_t len)
{
	json_t		*v, *e;
	const char	*s;
	json_int_t	 k, a, b;
	size_t		 i;
	int		 ok;

	if (!json_is_object(row)) {
		snprintf(why, len, "not an object");
		return -1;
	}
	s = json_string_value(json_object_get(row, "session_id"));
	if (s == NULL || sid == NULL || strcmp(s, sid) != 0) {
		snprintf(why, len, "session_id is not the session's");
		return -1;
	}
	if (kind == PG_LOC_TDOA) {
		if (chk_int(row, "chunk_index", 0, 0, PG_LOC_MAX_CHUNK - 1,
		    why, len) != 0 || chk_int(row, "websdr_a", 0, 1, INT_MAX,
		    why, len) != 0 || chk_int(row, "websdr_b", 0, 1, INT_MAX,
		    why, len) != 0)
			return -1;
		k = json_integer_value(json_object_get(row, "chunk_index"));
		a = json_integer_value(json_object_get(row, "websdr_a"));
		b = json_integer_value(json_object_get(row, "websdr_b"));
		if (a == b) {
			snprintf(why, len, "websdr_a = websdr_b = %lld",
			    (long long)a);
			return -1;
		}
		if (station_name(stations, a) == NULL ||
		    station_name(stations, b) == NULL) {
			snprintf(why, len, "websdr %lld is not a station of "
			    "the session", (long long)(station_name(stations,
			    a) == NULL ? a : b));
			return -1;
		}
		/* sql/004: tdoa_range, tdoa_sigma, tdoa_corr */
		if (chk_num(row, "tdoa_us", 1, -1e6, 1e6, why, len) != 0 ||
		    chk_num(row, "sigma_us", 1, 0, HUGE_VAL, why, len) != 0 ||
		    chk_num(row, "quality", 1, -HUGE_VAL, HUGE_VAL, why,
		    len) != 0 || chk_num(row, "corr", 1, 0, HUGE_VAL, why,
		    len) != 0)
			return -1;
		if (util_fmt(key, keylen, "t %lld %lld %lld", (long long)k,
		    (long long)a, (long long)b) != 0) {
			snprintf(why, len, "key too long");
			return -1;
		}
		return 0;
	}

	/* a fix: sql/004's fix_* constraints */
	v = json_object_get(row, "final");
	if (!json_is_boolean(v)) {
		snprintf(why, len, "final is not true or false");
		return -1;
	}
	if (json_is_true(v)) {
		v = json_object_get(row, "chunk_index");
		if (v != NULL && !json_is_null(v)) {
			snprintf(why, len, "the session fix has a "
			    "chunk_index");
			return -1;
		}
		snprintf(key, keylen, "x final");
	} else {
		if (chk_int(row, "chunk_index", 0, 0, PG_LOC_MAX_CHUNK - 1,
		    why, len) != 0)
			return -1;
		snprintf(key, keylen, "x %lld", (long long)json_integer_value(
		    json_object_get(row, "chunk_index")));
	}
	v = json_object_get(row, "ok");
	if (!json_is_boolean(v)) {
		snprintf(why, len, "ok is not true or false");
		return -1;
	}
	ok = json_is_true(v);
	v = json_object_get(row, "reason");
	if (v != NULL && !json_is_null(v) && (!json_is_string(v) ||
	    json_string_length(v) > PG_LOC_MAX_REASON ||
	    memchr(json_string_value(v), '\0', json_string_length(v)) !=
	    NULL)) {
		snprintf(why, len, "reason is not a string of at most %d "
		    "bytes", PG_LOC_MAX_REASON);
		return -1;
	}
	if (!ok && !json_is_string(v)) {
		snprintf(why, len, "no fix and no reason");
		return -1;
	}
	/* never a made-up position: a position if and only if ok */
	if (chk_num(row, "latitude", !ok, -90, 90, why, len) != 0 ||
	    chk_num(row, "longitude", !ok, -180, 180, why, len) != 0)
		return -1;
	if (!ok && (json_is_number(json_object_get(row, "latitude")) ||
	    json_is_number(json_object_get(row, "longitude")))) {
		snprintf(why, len, "a position without a fix (ok false)");
		return -1;
	}
	if (chk_num(row, "semi_major_m", 1, 0, HUGE_VAL, why, len) != 0 ||
	    chk_num(row, "semi_minor_m", 1, 0, HUGE_VAL, why, len) != 0 ||
	    chk_num(row, "orientation_deg", 1, 0, 180, why, len) != 0 ||
	    chk_num(row, "cep50_m", 1, 0, HUGE_VAL, why, len) != 0 ||
	    chk_num(row, "cep95_m", 1, 0, HUGE_VAL, why, len) != 0 ||
	    chk_num(row, "error_m", 1, 0, HUGE_VAL, why, len) != 0 ||
	    chk_num(row, "worst_residual_us", 1, -HUGE_VAL, HUGE_VAL, why,
	    len) != 0 || chk_int(row, "pairs_used", 1, 0, INT_MAX, why,
	    len) != 0 || chk_int(row, "worst_websdr", 1, 1, INT_MAX, why,
	    len) != 0)
		return -1;
	v = json_object_get(row, "receivers");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_array(v) || json_array_size(v) >
		    PG_LOC_MAX_RECEIVERS) {
			snprintf(why, len, "receivers is not an array of at "
			    "most %d stations", PG_LOC_MAX_RECEIVERS);
			return -1;
		}
		json_array_foreach(v, i, e) {
			if (!json_is_integer(e) || json_integer_value(e) < 1 ||
			    json_integer_value(e) > INT_MAX) {
				snprintf(why, len, "receivers holds something "
				    "other than a station index");
				return -1;
			}
		}
	}
	return 0;
}

int
pgstore_loc_check(enum pgstore_loc kind, const json_t *row,
    const char *session_id, const json_t *stations, char *key, size_t keylen,
    char *why, size_t whylen)
{
	char	w[256];

	key[0] = '\0';
	if (loc_check(kind, row, session_id, stations, key, keylen, w,
	    sizeof w) == 0)
		return 0;
	snprintf(why, whylen, "%s row%s%s: %s", kind == PG_LOC_TDOA ? "tdoa" :
	    "fix", key[0] != '\0' ? " " : "", key[0] != '\0' ? key + 2 : "",
	    w);
	return -1;
}

static void
copy_field(json_t *dst, const json_t *row, const char *k)
{
	json_t	*v = json_object_get(row, k);

	json_object_set(dst, k, v != NULL ? v : json_null());
}

char *
pgstore_loc_param(enum pgstore_loc kind, const json_t *rows,
    const char *session_id, const json_t *stations)
{
	static const char *tcols[] = { "session_id", "chunk_index", "websdr_a",
	    "websdr_b", "tdoa_us", "sigma_us", "quality", "corr", NULL };
	static const char *fcols[] = { "session_id", "chunk_index", "final",
	    "ok", "reason", "latitude", "longitude", "semi_major_m",
	    "semi_minor_m", "orientation_deg", "cep50_m", "cep95_m",
	    "receivers", "pairs_used", "error_m", "worst_websdr",
	    "worst_residual_us", NULL };
	const char	**cols = kind == PG_LOC_TDOA ? tcols : fcols;
	json_t		*arr = json_array(), *row, *c;
	char		 key[64], why[256], *text;
	size_t		 i;
	int		 j;

	if (arr == NULL)
		return NULL;
	json_array_foreach(rows, i, row) {
		if (pgstore_loc_check(kind, row, session_id, stations, key,
		    sizeof key, why, sizeof why) != 0)
			continue;
		c = json_object();
		for (j = 0; cols[j] != NULL; j++)
			copy_field(c, row, cols[j]);
		if (kind == PG_LOC_TDOA) {
			json_object_set_new(c, "station_a", json_string(
			    station_name(stations, json_integer_value(
			    json_object_get(row, "websdr_a")))));
			json_object_set_new(c, "station_b", json_string(
			    station_name(stations, json_integer_value(
			    json_object_get(row, "websdr_b")))));
		}
		json_array_append_new(arr, c);
	}
	text = util_json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	return text;
}

int
pgstore_put_loc(struct pgstore *pg, enum pgstore_loc kind,
    const json_t *rows, const char *session_id, const json_t *stations,
    int *inserted, char *err, size_t errlen)
{
	const char	*v[1], *what = kind == PG_LOC_TDOA ?
			    "tdoa_measurements" : "position_fixes";
	PGresult	*r;
	char		*text;

	if (inserted != NULL)
		*inserted = 0;
	if (json_array_size(rows) == 0)
		return 0;
	text = pgstore_loc_param(kind, rows, session_id, stations);
	if (text == NULL) {
		snprintf(err, errlen, "%s: out of memory", what);
		return -1;
	}
	v[0] = text;
	r = exec_params(pg, kind == PG_LOC_TDOA ? sql_tdoa : sql_fixes, 1, v,
	    what, err, errlen);
	free(text);
	if (r == NULL)
		return -1;
	if (inserted != NULL)
		*inserted = atoi(PQcmdTuples(r));
	PQclear(r);
	return 0;
}
