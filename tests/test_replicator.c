/* test_replicator.c -- the shared options, the ledger's pending counts (torn line included), and the thread facing stores that do not answer. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "src/base/util.h"
#include "store/dataset.h"
#include "store/replicator.h"

#include "loopsock.h"

static char dir[64];
static int16_t iq[2 * 100];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_replicator_XXXXXX");
	return mkdtemp(dir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	char	cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_env_and_options(void **state)
{
	struct replicator_config c;
	char	err[256];

	(void)state;
	setenv("DATABASE_URL", "postgresql://u@h/db", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SECRET", 1);
	setenv("AWS_REGION", "eu-south-1", 1);
	replicator_config_init(&c);
	assert_int_equal(c.db_on, 1);
	assert_string_equal(c.db, "postgresql://u@h/db");
	assert_string_equal(c.s3.access_key, "AKID");
	assert_string_equal(c.s3.secret_key, "SECRET");
	assert_string_equal(c.s3.region, "eu-south-1");
	assert_string_equal(c.s3.bucket, "heimdall-raw-iq");
	assert_int_equal(c.s3_on, 0);
	unsetenv("DATABASE_URL");
	unsetenv("AWS_REGION");
	replicator_config_init(&c);
	assert_int_equal(c.db_on, 0);
	assert_string_equal(c.s3.region, "us-east-1");
	assert_int_equal(replicator_config_enabled(&c), 0);

	/* passwords never on the command line */
	assert_int_equal(replicator_config_option(&c, REPL_OPT_DB,
	    "postgresql://u:pw@h/db", err, sizeof err), -1);
	assert_non_null(strstr(err, "PGPASSWORD"));
	assert_int_equal(replicator_config_option(&c, REPL_OPT_DB,
	    "host=h password=pw", err, sizeof err), -1);
	assert_int_equal(replicator_config_option(&c, REPL_OPT_DB,
	    "postgresql://u@h:5432/db", err, sizeof err), 1);
	assert_int_equal(c.db_on, 1);
	assert_int_equal(replicator_config_option(&c, REPL_OPT_S3_CONCURRENCY,
	    "0", err, sizeof err), -1);
	assert_non_null(strstr(err, "--s3-concurrency"));
	assert_int_equal(replicator_config_option(&c, REPL_OPT_S3_CONCURRENCY,
	    "65", err, sizeof err), -1);
	assert_int_equal(replicator_config_option(&c, REPL_OPT_S3_CONCURRENCY,
	    "16", err, sizeof err), 1);
	assert_int_equal(c.concurrency, 16);
	assert_int_equal(replicator_config_option(&c, 'x', "y", err,
	    sizeof err), 0);

	/* S3 settings are checked as a whole */
	assert_int_equal(replicator_config_option(&c, REPL_OPT_S3,
	    "ftp://h", err, sizeof err), 1);
	assert_int_equal(replicator_config_check(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "--s3"));
	replicator_config_option(&c, REPL_OPT_S3, "http://127.0.0.1:9000",
	    err, sizeof err);
	assert_int_equal(replicator_config_check(&c, err, sizeof err), 0);
	replicator_config_option(&c, REPL_OPT_S3_BUCKET, "Bad_Bucket", err,
	    sizeof err);
	assert_int_equal(replicator_config_check(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "--s3-bucket"));
	replicator_config_option(&c, REPL_OPT_S3_BUCKET, "ok-bucket", err,
	    sizeof err);
	replicator_config_option(&c, REPL_OPT_S3_REGION, "eu west", err,
	    sizeof err);
	assert_int_equal(replicator_config_check(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "--s3-region"));
	replicator_config_option(&c, REPL_OPT_S3_REGION, "eu-west-1", err,
	    sizeof err);
	c.s3.secret_key[0] = '\0';
	assert_int_equal(replicator_config_check(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "AWS_SECRET_ACCESS_KEY"));
}

/* A new open session of 3 s from 1 station in ds, id made here; returns
 * its manifest (new reference). */
static json_t *
create_session(struct dataset *ds, char id[37])
{
	json_t	*m;
	char	 err[256];

	util_uuid(id);
	m = json_pack("{s:s, s:{s:s, s:s, s:s, s:i, s:s, s:i}, s:[{s:i, "
	    "s:s}]}", "format", "heimdall-rec/1", "session", "id", id,
	    "session_name", "t", "status", "in_progress", "duration_seconds",
	    3, "session_start", "2026-11-24T10:00:00.000000Z", "frequency_hz",
	    10000000, "stations", "websdr", 1, "name", "S1");
	assert_int_equal(dataset_session_create(ds, id, m, err, sizeof err),
	    0);
	return m;
}

/* A session with 3 chunks from 1 station; returns the row ids/keys. */
static void
make_session(struct dataset *ds, char id[37], char rid[3][37],
    char key[3][128])
{
	struct ds_chunk	 ch;
	json_t		*m, *rows;
	char		 err[256];
	int		 k;

	m = create_session(ds, id);
	for (k = 0; k < 3; k++) {
		util_uuid(rid[k]);
		dataset_chunk_key(id, k, 1, key[k], 128);
		ch.chunk_index = k;
		ch.websdr = 1;
		ch.iq = iq;
		ch.n = 100;
		rows = json_pack("[{s:s, s:s, s:i, s:i, s:s}]", "id", rid[k],
		    "recording_session_id", id, "websdr", 1, "chunk_index", k,
		    "iq_data_location", key[k]);
		assert_int_equal(dataset_put_batch(ds, id, &ch, 1, rows, err,
		    sizeof err), 0);
		json_decref(rows);
	}
	json_object_set_new(json_object_get(m, "session"), "status",
	    json_string("completed"));
	assert_int_equal(dataset_session_finish(ds, id, m, err, sizeof err),
	    0);
	json_decref(m);
}

static void
test_pending_from_ledger(void **state)
{
	struct dataset	*ds;
	char		 err[256], id[37], rid[3][37], key[3][128], path[256];
	char		 text[1024];
	json_t		*p, *s;
	FILE		*f;

	(void)state;
	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	make_session(ds, id, rid, key);
	p = replicator_pending(ds, 1, 1, err, sizeof err);
	assert_non_null(p);
	assert_int_equal(json_integer_value(json_object_get(p,
	    "pending_rows")), 3);
	assert_int_equal(json_integer_value(json_object_get(p,
	    "pending_objects")), 3);
	s = json_array_get(json_object_get(p, "sessions"), 0);
	assert_string_equal(json_string_value(json_object_get(s,
	    "session_row")), "pending");
	json_decref(p);

	/* two rows, one object and the session confirmed; the last line was
	 * torn by a crash (no newline): it does not count */
	snprintf(path, sizeof path, "%s/sessions/%s/replica.log", dir, id);
	f = fopen(path, "w");
	assert_non_null(f);
	snprintf(text, sizeof text, "s completed\nr %s\nr %s\no %s\nr %s",
	    rid[0], rid[1], key[0], rid[2]);
	fputs(text, f);
	fclose(f);
	p = replicator_pending(ds, 1, 1, err, sizeof err);
	assert_int_equal(json_integer_value(json_object_get(p,
	    "pending_rows")), 1);
	assert_int_equal(json_integer_value(json_object_get(p,
	    "pending_objects")), 2);
	s = json_array_get(json_object_get(p, "sessions"), 0);
	assert_string_equal(json_string_value(json_object_get(s,
	    "session_row")), "sent");
	json_decref(p);
	/* the next run appends the third row: it must not be glued to the
	 * torn fragment ("r <rid2>r <rid2>"), or the row stays pending
	 * forever and is re-sent on every run */
	snprintf(text, sizeof text, "r %s\n", rid[2]);
	assert_int_equal(replicator_ledger_append(ds, id, text, strlen(text)),
	    0);
	p = replicator_pending(ds, 1, 1, err, sizeof err);
	assert_int_equal(json_integer_value(json_object_get(p,
	    "pending_rows")), 0);
	json_decref(p);
	/* and after a whole line, no empty line is added */
	snprintf(text, sizeof text, "o %s\n", key[1]);
	assert_int_equal(replicator_ledger_append(ds, id, text, strlen(text)),
	    0);
	f = fopen(path, "r");
	assert_non_null(f);
	memset(text, 0, sizeof text);
	assert_true(fread(text, 1, sizeof text - 1, f) > 0);
	fclose(f);
	assert_null(strstr(text, "\n\n"));
	assert_non_null(strstr(text, rid[2]));
	assert_true(strstr(strstr(text, rid[2]) + 1, rid[2]) != NULL);
	assert_int_equal(text[strlen(text) - 1], '\n');
	/* counting only the database */
	p = replicator_pending(ds, 1, 0, err, sizeof err);
	assert_int_equal(json_integer_value(json_object_get(p,
	    "pending_objects")), 0);
	json_decref(p);
	dataset_close(ds);
}

/*
 * TDoA and fix rows (the manifest's "tdoa" and "fixes") are counted from
 * the ledger like measurement rows ("t K A B", "x K", "x final"); a
 * duplicate counts once, and a row that fails pgstore_loc_check (a station
 * the session lacks) is never pending but counted as invalid, with why.
 */
static void
test_pending_loc(void **state)
{
	struct dataset	*ds;
	char		 err[256], id[37], rid[3][37], key[3][128], path[256];
	const char	*text;
	json_t		*p, *s, *m, *t, *f;

	(void)state;
	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	make_session(ds, id, rid, key);
	/* the finished manifest, with rows as src/engine/locate.h writes */
	m = dataset_session_load(ds, id, err, sizeof err);
	assert_non_null(m);
	json_array_append_new(json_object_get(m, "stations"), json_pack(
	    "{s:i, s:s}", "websdr", 2, "name", "S2"));
	t = json_pack("[{s:s, s:i, s:i, s:i, s:f}, {s:s, s:i, s:i, s:i, s:f},"
	    " {s:s, s:i, s:i, s:i, s:f}, {s:s, s:i, s:i, s:i, s:f}]",
	    "session_id", id, "chunk_index", 0, "websdr_a", 1, "websdr_b", 2,
	    "tdoa_us", 1.5,
	    "session_id", id, "chunk_index", 1, "websdr_a", 1, "websdr_b", 2,
	    "tdoa_us", 1.25,
	    "session_id", id, "chunk_index", 1, "websdr_a", 1, "websdr_b", 2,
	    "tdoa_us", 1.25,
	    "session_id", id, "chunk_index", 2, "websdr_a", 1, "websdr_b", 9,
	    "tdoa_us", 1.0);
	f = json_pack("[{s:s, s:i, s:b, s:b, s:s}, {s:s, s:n, s:b, s:b, s:s}]",
	    "session_id", id, "chunk_index", 0, "final", 0, "ok", 0, "reason",
	    "2 usable receivers, 3 are needed",
	    "session_id", id, "chunk_index", "final", 1, "ok", 0, "reason",
	    "no chunk had a fix");
	json_object_set_new(m, "tdoa", t);
	json_object_set_new(m, "fixes", f);
	text = util_json_dumps(m, JSON_INDENT(1));
	snprintf(path, sizeof path, "%s/sessions/%s/manifest.json", dir, id);
	assert_int_equal(util_write_atomic(path, text, strlen(text), err,
	    sizeof err), 0);
	free((char *)text);
	json_decref(m);

	p = replicator_pending(ds, 1, 0, err, sizeof err);
	assert_non_null(p);
	assert_int_equal(json_integer_value(json_object_get(p,
	    "pending_loc_rows")), 4);
	s = json_array_get(json_object_get(p, "sessions"), 0);
	/* 5: the manifest's duplicate TDoA row is merged once when the
	 * dataset loads the session (dataset_session_load: each row once) */
	assert_int_equal(json_integer_value(json_object_get(s,
	    "loc_rows")), 5);
	assert_int_equal(json_integer_value(json_object_get(s,
	    "loc_rows_pending")), 4);
	assert_int_equal(json_integer_value(json_object_get(s,
	    "loc_rows_invalid")), 1);
	assert_non_null(strstr(json_string_value(json_object_get(s,
	    "loc_invalid")), "websdr 9 is not a station"));
	json_decref(p);

	/* the measurement rows and the session row are in: the session is
	 * pending for its localization rows alone */
	snprintf(path, sizeof path, "s completed\nr %s\nr %s\nr %s\n"
	    "t 0 1 2\nx final\n", rid[0], rid[1], rid[2]);
	assert_int_equal(replicator_ledger_append(ds, id, path, strlen(path)),
	    0);
	p = replicator_pending(ds, 1, 0, err, sizeof err);
	assert_int_equal(json_integer_value(json_object_get(p,
	    "pending_loc_rows")), 2);
	assert_int_equal(json_integer_value(json_object_get(p,
	    "pending_sessions")), 1);
	json_decref(p);
	text = "t 1 1 2\nx 0\n";
	assert_int_equal(replicator_ledger_append(ds, id, text, strlen(text)),
	    0);
	p = replicator_pending(ds, 1, 0, err, sizeof err);
	assert_int_equal(json_integer_value(json_object_get(p,
	    "pending_loc_rows")), 0);
	assert_int_equal(json_integer_value(json_object_get(p,
	    "pending_sessions")), 0);
	json_decref(p);
	/* S3 alone: localization rows are the database's */
	p = replicator_pending(ds, 0, 1, err, sizeof err);
	assert_int_equal(json_integer_value(json_object_get(p,
	    "pending_loc_rows")), 0);
	json_decref(p);
	dataset_close(ds);
}

/* A loopback port nobody listens on. */
static int
dead_port(void)
{
	int	 port;

	loopsock(0, &port);
	return port;
}

/* A replicator of ds whose database and bucket are both unreachable
 * (ports nothing listens on): it keeps retrying, every 0.05 s to
 * backoff_max. */
static struct replicator *
start_unreachable(struct dataset *ds, double backoff_max)
{
	struct replicator_config c;
	struct replicator	*r;
	char			 err[256], arg[128];

	setenv("AWS_ACCESS_KEY_ID", "AKID", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "SECRET", 1);
	replicator_config_init(&c);
	snprintf(arg, sizeof arg, "postgresql://u@127.0.0.1:%d/db",
	    dead_port());
	assert_int_equal(replicator_config_option(&c, REPL_OPT_DB, arg, err,
	    sizeof err), 1);
	snprintf(arg, sizeof arg, "http://127.0.0.1:%d", dead_port());
	assert_int_equal(replicator_config_option(&c, REPL_OPT_S3, arg, err,
	    sizeof err), 1);
	c.backoff_min = 0.05;
	c.backoff_max = backoff_max;
	r = replicator_start(&c, ds, err, sizeof err);
	assert_non_null(r);
	return r;
}

static void
test_stores_down(void **state)
{
	struct replicator	*r;
	struct dataset		*ds;
	char			 err[256], id[37], rid[3][37], key[3][128];
	json_t			*st;

	(void)state;
	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	make_session(ds, id, rid, key);
	r = start_unreachable(ds, 0.2);
	/* nothing can go: not drained, everything still pending, the
	 * reasons named */
	assert_int_equal(replicator_drain(r, 1.0), -1);
	st = replicator_status(r);
	assert_string_equal(json_string_value(json_object_get(st, "state")),
	    "retrying");
	assert_int_equal(json_integer_value(json_object_get(st,
	    "pending_rows")), 3);
	assert_int_equal(json_integer_value(json_object_get(st,
	    "pending_objects")), 3);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    st, "db"), "state")), "error");
	assert_non_null(strstr(json_string_value(json_object_get(
	    json_object_get(st, "db"), "error")), "cannot connect"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    st, "s3"), "state")), "error");
	json_decref(st);
	replicator_stop(r);
	/* and the spool is untouched: still all pending, now on disk */
	st = replicator_pending(ds, 1, 1, err, sizeof err);
	assert_int_equal(json_integer_value(json_object_get(st,
	    "pending_rows")), 3);
	json_decref(st);
	dataset_close(ds);
}

/* Wait (up to 5 s) until the replicator's status says pending_rows is
 * want; the last value seen. */
static long
wait_pending_rows(struct replicator *r, long want)
{
	json_t	*st;
	long	 v = -1;
	int	 i;

	for (i = 0; i < 500 && v != want; i++) {
		if (i > 0)
			usleep(10000);
		st = replicator_status(r);
		v = (long)json_integer_value(json_object_get(st,
		    "pending_rows"));
		json_decref(st);
	}
	return v;
}

/* One chunk of station 1 and its row, stored as a batch. */
static void
put_chunk(struct dataset *ds, const char *id, int k)
{
	struct ds_chunk	 ch = { k, 1, iq, 100, -1, 0 };
	char		 rid[37], key[128], err[256];
	json_t		*rows;

	util_uuid(rid);
	dataset_chunk_key(id, k, 1, key, sizeof key);
	rows = json_pack("[{s:s, s:s, s:i, s:i, s:s}]", "id", rid,
	    "recording_session_id", id, "websdr", 1, "chunk_index", k,
	    "iq_data_location", key);
	assert_int_equal(dataset_put_batch(ds, id, &ch, 1, rows, err,
	    sizeof err), 0);
	json_decref(rows);
}

/*
 * While a session is open, a pass reads only the rows files new since the
 * last pass: one read before is not read again (its rows, still pending,
 * are kept), so a pass does not grow with the session. Shown by changing
 * a rows file already read (what the recorder never does): the old
 * behaviour re-read every file each pass, lost that file's row from the
 * count and never counted 2. Once the session is final, every row comes
 * from its final manifest.
 */
static void
test_open_session_read_once(void **state)
{
	struct replicator	*r;
	struct dataset		*ds;
	char			 err[256], id[37], path[256];
	char			*orig;
	size_t			 len;
	json_t			*m, *st;

	(void)state;
	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	m = create_session(ds, id);
	put_chunk(ds, id, 0);
	r = start_unreachable(ds, 0.1);
	assert_int_equal(wait_pending_rows(r, 1), 1);

	/* batch 0 was read; now unreadable, then batch 1 */
	snprintf(path, sizeof path, "%s/sessions/%s/rows/batch_000000.json",
	    dir, id);
	orig = util_read_file(path, 1 << 20, &len, err, sizeof err);
	assert_non_null(orig);
	assert_int_equal(util_write_atomic(path, "not json", 8, err,
	    sizeof err), 0);
	put_chunk(ds, id, 1);
	assert_int_equal(wait_pending_rows(r, 2), 2);
	/* and it stays so over passes (retries every 0.05-0.1 s) */
	usleep(300000);
	assert_int_equal(wait_pending_rows(r, 2), 2);
	put_chunk(ds, id, 2);
	assert_int_equal(wait_pending_rows(r, 3), 3);

	/* final: the rows from the final manifest (batch 0 put back: the
	 * manifest is made from the rows files) */
	assert_int_equal(util_write_atomic(path, orig, len, err, sizeof err),
	    0);
	free(orig);
	json_object_set_new(json_object_get(m, "session"), "status",
	    json_string("completed"));
	assert_int_equal(dataset_session_finish(ds, id, m, err, sizeof err),
	    0);
	json_decref(m);
	assert_int_equal(wait_pending_rows(r, 3), 3);
	st = replicator_status(r);
	assert_int_equal(json_integer_value(json_object_get(st,
	    "pending_objects")), 3);
	json_decref(st);
	replicator_stop(r);
	dataset_close(ds);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_and_options),
		cmocka_unit_test_setup_teardown(test_pending_loc, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pending_from_ledger, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stores_down, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_open_session_read_once,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
