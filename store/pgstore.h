/*
 * pgstore.h -- the central PostgreSQL database (schema heimdall), through
 * libpq; the only module that includes libpq. It owns the connection, the
 * migrations (sql/, compiled in) and the statements that write a session,
 * its stations and its measurement rows. Every statement is parameterized;
 * measurement rows travel by COPY (one transaction per batch), other rows
 * as one JSON parameter per batch, and every write is idempotent: a session or station
 * is an upsert, a measurement already present (same timestamp and id) is
 * skipped, so re-sending after a crash creates no duplicate. The same goes
 * for localization rows (TDoA and position fixes, sql/004): one per
 * session, chunk and pair / per session and chunk / one session fix.
 *
 * Connection: a libpq URL or "key=value" string; what it leaves out comes
 * from the libpq environment (PGHOST, PGPORT, PGDATABASE, PGUSER,
 * PGPASSWORD, PGSSLMODE, ...). Not thread-safe: one thread per pgstore.
 */
#ifndef PGSTORE_H
#define PGSTORE_H

#include <stddef.h>
#include <jansson.h>

struct pgstore;

/*
 * Check a connection string given on a command line, with libpq's own
 * parser: -1 with a message if libpq cannot parse it, or if it carries a
 * password however written ("password=x", "password = x", URL query
 * "?pass%77ord=x", userinfo "user:secret@host"); a password there ends up
 * in ps(1) and shell histories. A bare database name (no '=', no URL) is
 * fine, as libpq takes it. 0 if acceptable.
 */
int		 pgstore_conninfo_check(const char *conninfo, char *err,
		    size_t errlen);
/* Connect (connect_timeout 5 s unless conninfo sets one). NULL with the
 * server's message on failure. */
struct pgstore	*pgstore_connect(const char *conninfo, char *err,
		    size_t errlen);
void		 pgstore_close(struct pgstore *pg);
/*
 * No statement waits longer than seconds (default 30; migrations 600) for
 * its answer: past it the connection is dropped and the call fails with
 * "no answer from the database". When *flag becomes non-zero (set from
 * another thread) a wait ends within 200 ms the same way.
 */
void		 pgstore_set_timeout(struct pgstore *pg, double seconds);
void		 pgstore_set_abort(struct pgstore *pg, const volatile int *flag);
/* 1 if the connection is usable (reconnects once if it was lost). */
int		 pgstore_alive(struct pgstore *pg);
/* "user@host:port/dbname" for messages (no password). */
const char	*pgstore_target(const struct pgstore *pg);

/*
 * Apply every pending migration, each in its own transaction, recorded in
 * heimdall.schema_migrations, under a session advisory lock so that two
 * stations migrating at once apply each migration exactly once. *applied
 * (may be NULL) gets how many were applied now; 0 means up to date.
 */
int		 pgstore_migrate(struct pgstore *pg, int *applied, char *err,
		    size_t errlen);
/* Number of compiled-in migrations not yet applied (-1 on error). */
int		 pgstore_pending_migrations(struct pgstore *pg, char *err,
		    size_t errlen);

/*
 * Upsert a session row (the manifest's "session" object: recorder_host
 * and group_id as it has them, checked), its source (source: {name,
 * description, frequency_hz, latitude, longitude}; the central row is
 * found by its unique name) and its stations (the manifest's "stations"
 * array, upserted by unique name, a shared row changed only by a session
 * at least as new as the one that last described it; and the session's
 * own copy, session_stations, written once). One transaction.
 */
int		 pgstore_put_session(struct pgstore *pg, const json_t *session,
		    const json_t *source, const json_t *stations, char *err,
		    size_t errlen);
/*
 * The central store's newest sessions, every recorder's (issue 16: what
 * the other stations recorded), at most limit (1-10000): an array of
 * {id, session_name, status, session_start (ISO 8601 UTC), recorder_host,
 * group_id, frequency_hz, duration_seconds, chunks_stored, receivers}, a
 * missing value null. chunks_stored and receivers count its measurement
 * rows and their distinct stations. NULL with err on failure, or when the
 * answer is not that shape (the database is not trusted either).
 */
json_t		*pgstore_sessions_list(struct pgstore *pg, int limit, char *err,
		    size_t errlen);
/*
 * Insert measurement rows (manifest column names) as one transaction:
 * COPY into a staging table, then one INSERT ... ON CONFLICT DO NOTHING,
 * so rows already present are skipped. *inserted (may be NULL) gets how
 * many were new. Each row's station must exist (pgstore_put_session
 * first).
 */
int		 pgstore_put_rows(struct pgstore *pg, const json_t *rows,
		    int *inserted, char *err, size_t errlen);
/*
 * The same for rows never confirmed (the replicator's ledger lacks them):
 * one COPY straight into heimdall.measurements (no staging table, no
 * INSERT ... SELECT: about half the server's time), the station ids from
 * a per-connection cache (one query for the names it lacks). When the
 * server refuses it -- a row is there already (stored just before a
 * crash, or by another sender), a cached id went stale -- nothing of it
 * is stored and the rows go through pgstore_put_rows instead: the same
 * result, idempotent, only slower.
 */
int		 pgstore_put_new_rows(struct pgstore *pg, const json_t *rows,
		    int *inserted, char *err, size_t errlen);
/*
 * The COPY text (PostgreSQL's text format: tab-separated, \N for NULL,
 * backslash, tab, newline and CR escaped) pgstore_put_rows sends for rows,
 * one line per row in the staging table's column order (id, timestamp,
 * websdr_station_name, recording_session_id, frequency_hz, ...,
 * created_at; see pgstore.c); malloc'd, its length in *len; NULL when out
 * of memory. frequency_hz as an integer; t0_ns kept only as an exact
 * integer and sample_rate_hz only as a number (else NULL); a row without
 * them (an older manifest) stores NULL there. Pure: tests call it.
 */
char		*pgstore_rows_copy(const json_t *rows, size_t *len);

/*
 * Localization rows: the manifest's "tdoa" and "fixes" arrays (rows of
 * src/engine/locate.h), to heimdall.tdoa_measurements and
 * heimdall.position_fixes. The spool is input like any other, so each row
 * is checked first -- typed, bounded, and by the very predicates of
 * sql/004's constraints, so that a row that passes is never refused by the
 * database and one bad row cannot block its batch (it is left out and
 * said). stations is the manifest's "stations" array: a row's websdr
 * indices must name one of them (their names give the central station
 * ids).
 */
enum pgstore_loc {
	PG_LOC_TDOA,	/* {session_id, chunk_index, websdr_a, websdr_b,
			   tdoa_us, sigma_us, quality, corr} */
	PG_LOC_FIX,	/* {session_id, chunk_index | null, final, ok, reason,
			   latitude, longitude, semi_major_m, semi_minor_m,
			   orientation_deg, cep50_m, cep95_m, receivers,
			   pairs_used, error_m, worst_websdr,
			   worst_residual_us} */
};
#define PG_LOC_MAX_REASON	1024	/* bytes of a fix's reason */
#define PG_LOC_MAX_RECEIVERS	4096	/* websdr indices in a fix */
#define PG_LOC_MAX_CHUNK	1000000	/* chunk_index below this */
/*
 * 0 if row may be sent for session_id, with its key in key: "t K A B"
 * (chunk K, websdr A and B), "x K" (the fix of chunk K) or "x final" (the
 * session fix) -- what the replicator's ledger logs once it is stored;
 * -1 with why ("fix row 7: latitude 91 out of -90..90", "tdoa row:
 * websdr 9 is not a station of the session") if not.
 */
int		 pgstore_loc_check(enum pgstore_loc kind, const json_t *row,
		    const char *session_id, const json_t *stations, char *key,
		    size_t keylen, char *why, size_t whylen);
/*
 * The JSON text pgstore_put_loc sends: each row that passes
 * pgstore_loc_check, with only the table's columns; TDoA rows gain their
 * stations' names (station_a, station_b). NULL when out of memory. Pure:
 * tests call it.
 */
char		*pgstore_loc_param(enum pgstore_loc kind, const json_t *rows,
		    const char *session_id, const json_t *stations);
/*
 * Insert the rows that pass the check in one statement; rows already
 * present are skipped. *inserted (may be NULL) gets how many were new.
 * The session row and its stations must be there (pgstore_put_session).
 */
int		 pgstore_put_loc(struct pgstore *pg, enum pgstore_loc kind,
		    const json_t *rows, const char *session_id,
		    const json_t *stations, int *inserted, char *err,
		    size_t errlen);

#endif
