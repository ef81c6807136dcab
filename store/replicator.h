/*
 * replicator.h -- local-first replication of the dataset (the spool) to the
 * central store: rows and sessions to PostgreSQL (pgstore), chunk files to
 * S3 (s3store). It owns the replicator thread, its ledger and its options.
 *
 * Every chunk is durable on local disk first (dataset.h); the replicator
 * then pushes, in order (oldest session first, chunk by chunk), each
 * session's row, its stations, its objects and -- once an object is in the
 * bucket -- the measurement rows that name it, then its localization rows
 * (the manifest's "tdoa" and "fixes", src/engine/locate.h; checked by
 * pgstore_loc_check, those that fail it are never sent and are counted
 * as invalid, with the reason, in replicator_pending). What the central store has
 * confirmed is appended to sessions/<id>/replica.log (fsync'd), so pending
 * work survives a crash or a restart and is pushed by the next run or by
 * `heimdall-rec sync`; both stores are idempotent, so what was sent but not
 * yet logged when the process died is simply sent again. Failures are
 * retried with exponential backoff and equal jitter (half the delay fixed,
 * half random); DIR/replica.json keeps
 * the last state and error of each store for `heimdall-rec status`.
 *
 * Front-ends (record, serve, console, sync) share the options and the setup:
 *
 *   static const struct option opts[] = { ..., REPLICATOR_OPTIONS, ... };
 *   replicator_config_init(&rc);              defaults + environment
 *   for each option given, its getopt val and argument:
 *       r = replicator_config_option(&rc, val, arg, err, sizeof err);
 *                                             1 taken, 0 not ours, -1 bad
 *   if (replicator_config_enabled(&rc))
 *       rep = replicator_start(&rc, ds, err, sizeof err);
 *   ...
 *   replicator_drain(rep, 30);                wait for the backlog
 *   replicator_stop(rep);
 */
#ifndef REPLICATOR_H
#define REPLICATOR_H

#include <stddef.h>
#include <jansson.h>

#include "store/s3store.h"

struct pgstore;

struct dataset;
struct replicator;

/* getopt_long values of the shared options. */
enum {
	REPL_OPT_DB = 0x5200,
	REPL_OPT_S3,
	REPL_OPT_S3_BUCKET,
	REPL_OPT_S3_REGION,
	REPL_OPT_S3_CONCURRENCY,
	REPL_OPT_DB_TIMEOUT,
};

/* For a struct option table (the includer includes <getopt.h>). */
#define REPLICATOR_OPTIONS \
	{ "db", required_argument, NULL, REPL_OPT_DB }, \
	{ "s3", required_argument, NULL, REPL_OPT_S3 }, \
	{ "s3-bucket", required_argument, NULL, REPL_OPT_S3_BUCKET }, \
	{ "s3-region", required_argument, NULL, REPL_OPT_S3_REGION }, \
	{ "s3-concurrency", required_argument, NULL, REPL_OPT_S3_CONCURRENCY }, \
	{ "db-timeout", required_argument, NULL, REPL_OPT_DB_TIMEOUT }

#define REPLICATOR_HELP \
	"  --db URL             central PostgreSQL (postgresql://user@host:port/db;\n" \
	"                       the password from PGPASSWORD or ~/.pgpass, never\n" \
	"                       the command line; \"postgresql://\" = libpq env\n" \
	"                       PGHOST, PGPORT, ...; default $DATABASE_URL)\n" \
	"  --s3 URL             central S3/MinIO endpoint, e.g. http://host:9000\n" \
	"                       (credentials AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)\n" \
	"  --s3-bucket NAME     bucket (default heimdall-raw-iq)\n" \
	"  --s3-region REGION   SigV4 region (default $AWS_REGION or us-east-1)\n" \
	"  --s3-concurrency N   uploads at once, 1-64 (default 8)\n" \
	"  --db-timeout S       give up on a database that does not answer a\n" \
	"                       statement in S s, 1-3600 (default 30; retried)\n"

/* A status report: {"state": "idle"|"sending"|"retrying", "pending_rows",
 * "pending_objects", "pending_loc_rows" (TDoA and fix rows), "pending_sessions", "retry_in_s", "db": {"target",
 * "state": "ok"|"error"|"off", "error"}, "s3": {...}}; borrowed. Called on
 * the replicator thread when something changed; must not block. */
typedef void (*replicator_status_fn)(void *ctx, const json_t *status);

struct replicator_config {
	int			 db_on;
	char			 db[2048];	/* libpq URL or conninfo */
	int			 s3_on;
	struct s3_config	 s3;
	int			 concurrency;	/* S3 uploads at once */
	int			 migrate;	/* apply pending migrations */
	int			 full;		/* ignore the ledger: re-send */
	double			 db_timeout;	/* s per statement (default 30) */
	double			 backoff_min;	/* s (default 0.5) */
	double			 backoff_max;	/* s (default 30) */
	replicator_status_fn	 on_status;
	void			*ctx;
	/* optional: a connection replicator_db_open made (sync opens it
	 * while it parses the manifests); replicator_start takes it over,
	 * and closes it on failure */
	struct pgstore		*pg;
};

/* Defaults, then the environment: DATABASE_URL (enables the database),
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION
 * (or AWS_DEFAULT_REGION). */
void	replicator_config_init(struct replicator_config *c);
/* One option (REPL_OPT_*): 1 taken, 0 not ours, -1 invalid (err names the
 * flag). */
int	replicator_config_option(struct replicator_config *c, int opt,
	    const char *arg, char *err, size_t errlen);
/* Validate the whole (S3 credentials present, ...): 0 or -1. */
int	replicator_config_check(const struct replicator_config *c, char *err,
	    size_t errlen);
int	replicator_config_enabled(const struct replicator_config *c);
/* Connect to c->db and apply pending migrations (with c->migrate off:
 * refuse a schema that is behind): what the replicator does before its
 * first statement, callable from another thread beforehand. A nonzero
 * *abort (may be NULL) abandons a statement in flight. NULL with a
 * message on failure. */
struct pgstore *replicator_db_open(const struct replicator_config *c,
		    const volatile int *abort, char *err, size_t errlen);

/*
 * Start the thread: it scans the dataset for pending work and then follows
 * it (it installs itself as the dataset's listener). Connection failures
 * are not fatal here (they are retried and reported); only bad options
 * are. NULL with a message on failure.
 */
struct replicator *replicator_start(const struct replicator_config *c,
		    struct dataset *ds, char *err, size_t errlen);
/*
 * 1 if session id of dataset folder dir still has something to send to
 * the stores config (a struct replicator_config *) turns on: its ledger
 * does not say it is all there (with config->full, always). A
 * dataset_keep_fn: `sync` opens the dataset keeping those manifests
 * parsed (dataset_open_keep) for the replicator's first pass.
 */
int		 replicator_wants(const char *dir, const char *id,
		    void *config);
/* Wait up to timeout s until nothing is pending. 0 if drained, -1 if not. */
int		 replicator_drain(struct replicator *r, double timeout);
/* The last status (new reference). */
json_t		*replicator_status(struct replicator *r);
/* The last status, with pending_rows/objects/sessions counted now from
 * the ledgers (replicator_pending for this replicator's stores: what
 * `heimdall-rec status` says), not from the last finished pass -- which,
 * facing a server that accepts and never answers, may not have counted
 * what was recorded since. Reads the dataset: not for the status
 * callback. New reference. */
json_t		*replicator_backlog(struct replicator *r);
/* Stop the thread (an upload or statement in flight is abandoned within a
 * second: it is sent again next time), remove the listener, free. */
void		 replicator_stop(struct replicator *r);

/*
 * Pending work from the ledgers, without connecting: {"sessions": [{id,
 * session_name, status, rows, rows_pending, objects_pending, session_row
 * ("sent"|"pending"|"stale"), loc_rows, loc_rows_pending (TDoA and fix
 * rows; db only), loc_rows_invalid and loc_invalid (when some fail
 * pgstore_loc_check: how many, the first one's reason)}], "pending_rows",
 * "pending_objects", "pending_loc_rows", "pending_sessions", "last": the content of DIR/replica.json or null}.
 * db/s3 say which stores to count. New reference, or NULL with err.
 */
json_t		*replicator_pending(struct dataset *ds, int db, int s3,
		    char *err, size_t errlen);

/*
 * Append whole lines ("r ROW_ID\n", "o KEY\n", "s STATUS\n", "t K A B\n",
 * "x K\n", "x final\n", "Fd\n", "Fs\n")
 * to a session's ledger, durably; after a torn last line (a crash mid-
 * append) the text starts on a new line. The replicator's own writer,
 * public for tests and repair tools. 0 or -1.
 */
int		 replicator_ledger_append(struct dataset *ds, const char *id,
		    const char *text, size_t len);

#endif
