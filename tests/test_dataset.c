/* test_dataset.c -- the embedded store: layout, batches, sources, listing, crash recovery. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "src/base/npy.h"
#include "src/base/util.h"
#include "store/dataset.h"

static char dir[64];
static int16_t iq[2 * 1000];

/*
 * flock() as store/dataset.c sees it (this definition interposes libc's).
 * A thread that sets pause_at_lock stops at its next flock on a session's
 * .lock -- after dataset_open() read the manifest, before the lock is
 * taken -- until the test posts lock_go: the window that
 * `strace -e inject=flock:delay_enter=...` opened, made deterministic.
 */
static __thread int	pause_at_lock;
static sem_t		at_lock, lock_go;

int
flock(int fd, int op)
{
	static int	(*real)(int, int);
	char		link[64], target[512];
	ssize_t		n;

	if (real == NULL)
		real = (int (*)(int, int))dlsym(RTLD_NEXT, "flock");
	if (pause_at_lock) {
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof target - 1);
		if (n > 6 && memcmp(target + n - 6, "/.lock", 6) == 0) {
			pause_at_lock = 0;
			sem_post(&at_lock);
			while (sem_wait(&lock_go) != 0 && errno == EINTR)
				;
		}
	}
	return real(fd, op);
}

static int
setup(void **state)
{
	int	i;

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_dataset_XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	for (i = 0; i < 2 * 1000; i++)
		iq[i] = (int16_t)(i * 31 - 20000);
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static json_t *
manifest(const char *id, const char *status, int stations)
{
	json_t	*st = json_array();
	int	 i;

	for (i = 1; i <= stations; i++)
		json_array_append_new(st, json_pack("{s:i, s:s}", "websdr", i,
		    "name", "S"));
	return json_pack("{s:s, s:{s:s, s:s, s:s, s:i, s:s, s:i}, s:o, s:[]}",
	    "format", "heimdall-rec/1", "session", "id", id, "session_name",
	    "test", "status", status, "duration_seconds", 3, "session_start",
	    "2026-11-24T10:00:00.000000Z", "frequency_hz", 10000000,
	    "stations", st, "missing");
}

static json_t *
row(const char *id, int k, int w)
{
	char	key[256];

	dataset_chunk_key(id, k, w, key, sizeof key);
	return json_pack("{s:s, s:i, s:i, s:s, s:i}", "recording_session_id",
	    id, "chunk_index", k, "websdr", w, "iq_data_location", key,
	    "iq_samples_count", 1000);
}

/* Store chunk k for websdr 1..2 as one batch. */
static void
put(struct dataset *ds, const char *id, int k)
{
	struct ds_chunk	 c[2] = {
		{ k, 1, iq, 1000, -1, 0 },
		{ k, 2, iq, 1000, -1, 0 },
	};
	json_t		*rows = json_pack("[o, o]", row(id, k, 1), row(id, k, 2));
	char		 err[512];

	if (dataset_put_batch(ds, id, c, 2, rows, err, sizeof err) != 0)
		fail_msg("%s", err);
	json_decref(rows);
}

static int
exists(const char *id, const char *leaf)
{
	char	path[512];

	snprintf(path, sizeof path, "%s/sessions/%s/%s", dir, id, leaf);
	return access(path, F_OK) == 0;
}

/* The dataset opened and a session of `stations` stations created in it,
 * in progress, its new id in id: its manifest. */
static json_t *
open_created(struct dataset **ds, char *id, int stations)
{
	char	 err[512];
	json_t	*m;

	*ds = dataset_open(dir, err, sizeof err);
	assert_non_null(*ds);
	util_uuid(id);
	m = manifest(id, "in_progress", stations);
	assert_int_equal(dataset_session_create(*ds, id, m, err, sizeof err),
	    0);
	return m;
}

/* The number of '\n' in the session's file leaf; -1 if it cannot be read. */
static int
nlines(const char *id, const char *leaf)
{
	char	path[512];
	FILE	*fp;
	int	c, n = 0;

	snprintf(path, sizeof path, "%s/sessions/%s/%s", dir, id, leaf);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while ((c = getc(fp)) != EOF)
		n += c == '\n';
	fclose(fp);
	return n;
}

static void
test_key(void **state)
{
	char	key[128];

	(void)state;
	assert_int_equal(dataset_chunk_key("abc", 7, 3, key, sizeof key), 0);
	assert_string_equal(key, "sessions/abc/chunk_007_websdr_3.npy");
	/* the file's own name, and no truncated name ever */
	assert_int_equal(dataset_chunk_leaf(7, 3, key, sizeof key), 0);
	assert_string_equal(key, "chunk_007_websdr_3.npy");
	assert_int_equal(dataset_chunk_leaf(7, 3, key, 22), -1);
	assert_int_equal(dataset_chunk_key("abc", 7, 3, key, 35), -1);
}

static void
test_session_lifecycle(void **state)
{
	struct dataset	*ds;
	char		 id[37], err[512], path[512];
	json_t		*m, *loaded, *list;
	float		*data;
	size_t		 n, i;

	(void)state;
	m = open_created(&ds, id, 2);
	put(ds, id, 0);
	put(ds, id, 1);
	assert_true(exists(id, "chunk_001_websdr_2.npy"));
	assert_false(exists(id, "chunk_001_websdr_2.npy.tmp"));
	snprintf(path, sizeof path, "%s/sessions/%s/chunk_000_websdr_1.npy",
	    dir, id);
	assert_int_equal(npy_read_c8(path, &data, &n, err, sizeof err), 0);
	assert_int_equal(n, 1000);
	for (i = 0; i < 2 * n; i++)
		assert_true(data[i] == iq[i] / 32768.0f);
	free(data);

	loaded = dataset_session_load(ds, id, err, sizeof err);
	assert_non_null(loaded);
	assert_int_equal(json_array_size(json_object_get(loaded,
	    "measurements")), 4);
	json_decref(loaded);

	list = dataset_sessions_list(ds, err, sizeof err);
	assert_int_equal(json_array_size(list), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list,
	    0), "chunks_expected")), 6);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(list,
	    0), "chunks_stored")), 4);
	json_decref(list);

	json_object_set_new(json_object_get(m, "session"), "status",
	    json_string("completed"));
	assert_int_equal(dataset_session_finish(ds, id, m, err, sizeof err), 0);
	assert_false(exists(id, "rows"));
	assert_false(exists(id, ".lock"));
	loaded = dataset_session_load(ds, id, err, sizeof err);
	assert_int_equal(json_array_size(json_object_get(loaded,
	    "measurements")), 4);
	/* sorted by chunk, then station */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(loaded, "measurements"), 1), "websdr")), 2);
	json_decref(loaded);
	json_decref(m);

	assert_int_equal(dataset_session_create(ds, "../../etc", m, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "invalid session id"));

	/* a name jansson could not take (not UTF-8): json_string() gives
	 * NULL and the key is left out. Refused, named, and nothing on disk
	 * that a listing or the replicator would depend on. */
	util_uuid(id);
	m = manifest(id, "in_progress", 2);
	assert_int_equal(json_object_set_new(json_object_get(m, "session"),
	    "session_name", json_string("caf\xe9")), -1);
	json_object_del(json_object_get(m, "session"), "session_name");
	assert_int_equal(dataset_session_create(ds, id, m, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, id));
	assert_non_null(strstr(err, "session_name"));
	snprintf(path, sizeof path, "%s/sessions/%s", dir, id);
	assert_int_equal(access(path, F_OK), -1);
	json_decref(m);
	dataset_close(ds);
}

static void
test_sources(void **state)
{
	struct dataset	*ds;
	struct source	 s, f, *v;
	char		 err[512];
	int		 n;

	(void)state;
	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	assert_int_equal(dataset_sources_list(ds, &v, &n, err, sizeof err), 0);
	assert_true(n >= 1);
	assert_string_equal(v[0].name, "Unknown");
	free(v);
	memset(&s, 0, sizeof s);
	snprintf(s.name, sizeof s.name, "Beacon IZ1ABC");
	s.frequency_hz = 145.5e6;
	s.has_coords = 1;
	s.latitude = 45.1;
	s.longitude = 7.6;
	assert_int_equal(dataset_source_add(ds, &s, err, sizeof err), 0);
	assert_true(util_is_uuid(s.id));
	assert_int_equal(dataset_source_add(ds, &s, err, sizeof err), -1);
	assert_non_null(strstr(err, "already exists"));
	assert_int_equal(dataset_source_find(ds, "beacon iz1abc", &f), 0);
	assert_string_equal(f.id, s.id);
	assert_int_equal(dataset_source_find(ds, s.id, &f), 0);
	assert_true(f.has_coords);
	assert_int_equal(dataset_source_find(ds, "UNKNOWN", &f), 0);
	assert_string_equal(f.name, "Unknown");
	assert_int_equal(dataset_source_find(ds, "nope", &f), -1);
	memset(&s, 0, sizeof s);
	snprintf(s.name, sizeof s.name, "Bad");
	s.has_coords = 1;
	s.latitude = 95;
	assert_int_equal(dataset_source_add(ds, &s, err, sizeof err), -1);
	memset(&s, 0, sizeof s);
	assert_int_equal(dataset_source_add(ds, &s, err, sizeof err), -1);
	dataset_close(ds);
}

/* A recorder killed mid-session (the child _exits with its lock held and
 * files half done); the next open recovers it. */
static void
test_crash_recovery(void **state)
{
	struct dataset	*ds;
	char		 id[37], live[37], err[512], path[512];
	json_t		*m, *ses;
	pid_t		 pid;
	int		 status, fd, p[2];

	(void)state;
	util_uuid(id);
	pid = fork();
	if (pid == 0) {
		ds = dataset_open(dir, err, sizeof err);
		m = manifest(id, "in_progress", 2);
		if (ds == NULL || dataset_session_create(ds, id, m, err,
		    sizeof err) != 0)
			_exit(1);
		put(ds, id, 0);
		put(ds, id, 1);
		/* torn write and an orphan (renamed, no row yet) */
		snprintf(path, sizeof path, "%s/sessions/%s/"
		    "chunk_002_websdr_1.npy.tmp", dir, id);
		fd = open(path, O_WRONLY | O_CREAT, 0644);
		if (write(fd, "\x93NUMPY", 6) != 6)
			_exit(2);
		close(fd);
		snprintf(path, sizeof path, "%s/sessions/%s/"
		    "chunk_002_websdr_2.npy", dir, id);
		fd = open(path, O_WRONLY | O_CREAT, 0644);
		npy_write_c8_fd(fd, iq, 1000);
		close(fd);
		/* kill -9 itself: nothing finished, no exit handlers (and
		 * no leak check of a child under valgrind) */
		raise(SIGKILL);
		_exit(3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);

	/* A session still recording elsewhere: its lock is held. */
	util_uuid(live);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		ds = dataset_open(dir, err, sizeof err);
		m = manifest(live, "in_progress", 2);
		if (ds == NULL || dataset_session_create(ds, live, m, err,
		    sizeof err) != 0)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(2);
		pause();
		_exit(0);
	}
	assert_int_equal(read(p[0], err, 1), 1);

	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	m = dataset_session_load(ds, id, err, sizeof err);
	assert_non_null(m);
	ses = json_object_get(m, "session");
	assert_string_equal(json_string_value(json_object_get(ses, "status")),
	    "failed");
	assert_non_null(strstr(json_string_value(json_object_get(ses,
	    "failure_reason")), "interrupted"));
	assert_int_equal(json_array_size(json_object_get(m, "measurements")),
	    4);
	assert_int_equal(json_array_size(json_object_get(m, "orphans")), 1);
	assert_true(exists(id, "chunk_002_websdr_2.npy"));	/* kept */
	assert_false(exists(id, "chunk_002_websdr_1.npy.tmp"));
	assert_false(exists(id, "rows"));
	json_decref(m);

	m = dataset_session_load(ds, live, err, sizeof err);
	assert_string_equal(json_string_value(json_object_get(json_object_get(m,
	    "session"), "status")), "in_progress");
	json_decref(m);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	dataset_close(ds);
	close(p[0]);
	close(p[1]);
}

/* The session's file leaf made to hold text; append_text: added at its
 * end (another writer, a torn line). */
static void
put_text(const char *id, const char *leaf, const char *text,
    const char *mode)
{
	char	 path[512];
	FILE	*f;

	snprintf(path, sizeof path, "%s/sessions/%s/%s", dir, id, leaf);
	f = fopen(path, mode);
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
write_text(const char *id, const char *leaf, const char *text)
{
	put_text(id, leaf, text, "w");
}

static void
append_text(const char *id, const char *leaf, const char *text)
{
	put_text(id, leaf, text, "a");
}

static json_t *
listed(json_t *list, const char *id)
{
	json_t	*o;
	size_t	 i;

	json_array_foreach(list, i, o)
		if (strcmp(json_string_value(json_object_get(o, "id")), id) == 0)
			return o;
	return NULL;
}

/* A session with chunks 0 and 1 of two receivers; finished or left as a
 * dead recorder leaves it. */
static void
recorded(struct dataset *ds, char id[UTIL_UUID_LEN], int finished)
{
	json_t	*m;
	char	 err[512];

	util_uuid(id);
	m = manifest(id, "in_progress", 2);
	assert_int_equal(dataset_session_create(ds, id, m, err, sizeof err), 0);
	put(ds, id, 0);
	put(ds, id, 1);
	if (finished) {
		json_object_set_new(json_object_get(m, "session"), "status",
		    json_string("completed"));
		assert_int_equal(dataset_session_finish(ds, id, m, err,
		    sizeof err), 0);
	}
	json_decref(m);
}

/*
 * The chunk length a manifest keeps (issue 15): chunk_ms, 1000 in a
 * manifest from before it; chunks expected are duration x 1000 / it; a
 * manifest rebuilt from rows takes it from their duration_seconds.
 */
static void
test_chunk_ms(void **state)
{
	struct dataset	*ds;
	struct ds_chunk	 c[2] = { { 0, 1, iq, 1000, -1, 0 }, { 0, 2, iq, 1000, -1, 0 } };
	char		 err[512], id[UTIL_UUID_LEN], lost[UTIL_UUID_LEN];
	json_t		*m, *o, *list, *rows;
	int		 k, j;

	(void)state;
	o = json_pack("{s:i}", "duration_seconds", 5);
	assert_int_equal(dataset_session_chunk_ms(o), 1000);	/* old */
	assert_int_equal(dataset_session_total_chunks(o), 5);
	json_object_set_new(o, "chunk_ms", json_integer(200));
	assert_int_equal(dataset_session_chunk_ms(o), 200);
	assert_int_equal(dataset_session_total_chunks(o), 25);
	json_object_set_new(o, "chunk_ms", json_integer(2500));
	assert_int_equal(dataset_session_total_chunks(o), 2);
	json_object_set_new(o, "chunk_ms", json_string("200"));
	assert_int_equal(dataset_session_chunk_ms(o), 1000);
	json_object_set_new(o, "chunk_ms", json_integer(0));
	assert_int_equal(dataset_session_chunk_ms(o), 1000);
	json_object_set_new(o, "chunk_ms", json_integer(500));
	json_object_set_new(o, "duration_seconds", json_real(2.9999999));
	assert_int_equal(dataset_session_total_chunks(o), 6);
	json_decref(o);

	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	/* 3 s of 500-ms chunks, 2 stations: 12 chunks expected; and one
	 * whose manifest is lost (rebuilt from its rows) */
	util_uuid(id);
	util_uuid(lost);
	for (k = 0; k < 2; k++) {
		const char *sid = k == 0 ? id : lost;
		m = manifest(sid, "in_progress", 2);
		json_object_set_new(json_object_get(m, "session"), "chunk_ms",
		    json_integer(500));
		assert_int_equal(dataset_session_create(ds, sid, m, err,
		    sizeof err), 0);
		for (j = 0; j < 3; j++) {
			json_t *a = row(sid, j, 1), *b = row(sid, j, 2);
			c[0].chunk_index = c[1].chunk_index = j;
			json_object_set_new(a, "duration_seconds",
			    json_real(6000.0 / 12000.5));
			json_object_set_new(b, "duration_seconds",
			    json_real(6001.0 / 12000.5));
			rows = json_pack("[o, o]", a, b);
			assert_int_equal(dataset_put_batch(ds, sid, c, 2, rows,
			    err, sizeof err), 0);
			json_decref(rows);
		}
		json_decref(m);
	}
	list = dataset_sessions_list(ds, err, sizeof err);
	o = listed(list, id);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "chunks_expected")), 12);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "chunks_stored")), 6);
	json_decref(list);
	dataset_close(ds);
	write_text(lost, "manifest.json", "");
	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	m = dataset_session_load(ds, lost, err, sizeof err);
	assert_non_null(m);
	o = json_object_get(m, "session");
	assert_int_equal(json_integer_value(json_object_get(o, "chunk_ms")),
	    500);
	assert_true(fabs(json_number_value(json_object_get(o,
	    "duration_seconds")) - 1.5) < 1e-9);
	assert_int_equal(dataset_session_total_chunks(o), 3);
	json_decref(m);
	dataset_close(ds);
}


/* Missing, empty, torn and {} manifests: rebuilt at open from the rows
 * and chunk files, the damaged file kept, nothing hidden or deleted; one
 * whose lock is held is listed as damaged, named in every message. */
static void
test_damaged_manifests(void **state)
{
	struct dataset	*ds;
	char		 err[512], torn[UTIL_UUID_LEN], empty[UTIL_UUID_LEN];
	char		 gone[UTIL_UUID_LEN], held[UTIL_UUID_LEN];
	char		 fresh[UTIL_UUID_LEN], path[512];
	json_t		*list, *o, *m;
	int		 fd;

	(void)state;
	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	recorded(ds, torn, 1);		/* rows merged into the manifest */
	recorded(ds, empty, 0);		/* rows still in rows/ */
	recorded(ds, gone, 0);
	recorded(ds, held, 1);
	dataset_close(ds);
	write_text(torn, "manifest.json", "{\"format\": \"heimdall-rec/1\", "
	    "\"session\": {\"id\": \"");
	write_text(torn, "chunk_001_websdr_1.npy.tmp", "half");
	write_text(torn, "manifest.json.tmp.123.4", "{");
	write_text(empty, "manifest.json", "{}");
	snprintf(path, sizeof path, "%s/sessions/%s/manifest.json", dir, gone);
	assert_int_equal(unlink(path), 0);
	write_text(held, "manifest.json", "");
	/* a session being created: a folder, no manifest, nothing recorded */
	util_uuid(fresh);
	snprintf(path, sizeof path, "%s/sessions/%s/rows", dir, fresh);
	assert_int_equal(util_mkdirs(path, err, sizeof err), 0);
	snprintf(path, sizeof path, "%s/sessions/%s/.lock", dir, held);
	fd = open(path, O_RDWR | O_CREAT, 0644);
	assert_int_equal(flock(fd, LOCK_EX), 0);

	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	list = dataset_sessions_list(ds, err, sizeof err);
	assert_int_equal(json_array_size(list), 4);
	assert_null(listed(list, fresh));
	assert_int_equal(dataset_session_check(ds, fresh, err, sizeof err), 1);

	o = listed(list, torn);
	assert_string_equal(json_string_value(json_object_get(o, "status")),
	    "failed");
	assert_non_null(strstr(json_string_value(json_object_get(o,
	    "failure_reason")), "manifest rebuilt from 4 chunks (0 with their "
	    "measurement row): manifest.json is not valid JSON"));
	assert_int_equal(json_integer_value(json_object_get(o,
	    "chunk_files")), 4);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "chunks_expected")), 4);
	assert_true(exists(torn, "manifest.json.damaged"));
	assert_false(exists(torn, "chunk_001_websdr_1.npy.tmp"));
	assert_false(exists(torn, "manifest.json.tmp.123.4"));
	assert_false(exists(torn, ".lock"));
	m = dataset_session_load(ds, torn, err, sizeof err);
	assert_non_null(m);
	assert_int_equal(json_array_size(json_object_get(m, "orphans")), 4);
	assert_non_null(json_object_get(m, "rebuilt"));
	json_decref(m);

	/* rows of a dead recorder: every measurement comes back */
	o = listed(list, empty);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "chunks_stored")), 4);
	assert_non_null(strstr(json_string_value(json_object_get(o,
	    "failure_reason")), "manifest.json has no session object"));
	o = listed(list, gone);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "chunks_stored")), 4);
	assert_non_null(strstr(json_string_value(json_object_get(o,
	    "failure_reason")), "manifest.json is missing"));
	assert_false(exists(gone, "manifest.json.damaged"));
	assert_false(exists(gone, "rows"));

	/* a live lock: not touched, listed as damaged, named */
	o = listed(list, held);
	assert_string_equal(json_string_value(json_object_get(o, "status")),
	    "damaged");
	assert_string_equal(json_string_value(json_object_get(o, "damaged")),
	    "manifest.json is empty");
	assert_int_equal(json_integer_value(json_object_get(o,
	    "chunk_files")), 4);
	assert_false(exists(held, "manifest.json.damaged"));
	assert_null(dataset_session_load(ds, held, err, sizeof err));
	assert_non_null(strstr(err, held));
	assert_int_equal(dataset_session_check(ds, held, err, sizeof err), -1);
	json_decref(list);
	dataset_close(ds);

	/* released: rebuilt by the next open */
	close(fd);
	ds = dataset_open(dir, err, sizeof err);
	assert_int_equal(dataset_session_check(ds, held, err, sizeof err), 0);
	assert_true(exists(held, "manifest.json.damaged"));
	dataset_close(ds);
}

/*
 * A chunk's first-sample time in nanoseconds (t0_ns, issue 12) is a JSON
 * integer beyond 2^53: it must come back exact from a rows file, a final
 * manifest and a manifest rebuilt from rows, never through a double; and
 * manifests written before it existed (rows without it) still load.
 */
#define T0_NS	INT64_C(1795478400123456789)

static json_t *
timed_rows(const char *id, int k)
{
	json_t	*a = row(id, k, 1), *b = row(id, k, 2);

	json_object_set_new(a, "time_source", json_string("gps"));
	json_object_set_new(a, "t0_ns", json_integer(T0_NS + k));
	json_object_set_new(a, "sample_rate_hz", json_real(12001.13));
	json_object_set_new(b, "time_source", json_string("local"));
	json_object_set_new(b, "t0_ns", json_null());
	json_object_set_new(b, "sample_rate_hz", json_null());
	return json_pack("[o, o]", a, b);
}

static void
check_timed(json_t *m, int chunks)
{
	json_t	*rows = json_object_get(m, "measurements"), *r;
	size_t	 i;

	assert_int_equal(json_array_size(rows), 2 * chunks);
	json_array_foreach(rows, i, r) {
		json_int_t k = json_integer_value(json_object_get(r,
		    "chunk_index"));
		if (json_integer_value(json_object_get(r, "websdr")) == 1) {
			assert_true(json_is_integer(json_object_get(r,
			    "t0_ns")));
			assert_true(json_integer_value(json_object_get(r,
			    "t0_ns")) == T0_NS + k);
			assert_true(json_real_value(json_object_get(r,
			    "sample_rate_hz")) == 12001.13);
		} else {
			assert_true(json_is_null(json_object_get(r, "t0_ns")));
		}
	}
}

static void
test_sample_time_rows(void **state)
{
	struct dataset	*ds;
	struct ds_chunk	 c[2] = { { 0, 1, iq, 1000, -1, 0 }, { 0, 2, iq, 1000, -1, 0 } };
	char		 err[512], id[UTIL_UUID_LEN], crash[UTIL_UUID_LEN];
	char		 old[UTIL_UUID_LEN], path[512], text[2048];
	json_t		*m, *rows, *list, *r;
	int		 k;

	(void)state;
	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	/* recorded and finished; and one whose recorder died with its
	 * manifest emptied (rebuilt from the rows files) */
	util_uuid(id);
	util_uuid(crash);
	for (k = 0; k < 2; k++) {
		const char *sid = k == 0 ? id : crash;
		int j;
		m = manifest(sid, "in_progress", 2);
		assert_int_equal(dataset_session_create(ds, sid, m, err,
		    sizeof err), 0);
		for (j = 0; j < 2; j++) {
			c[0].chunk_index = c[1].chunk_index = j;
			rows = timed_rows(sid, j);
			assert_int_equal(dataset_put_batch(ds, sid, c, 2, rows,
			    err, sizeof err), 0);
			json_decref(rows);
		}
		if (k == 0) {
			/* while recording: merged from the rows files */
			json_t *l = dataset_session_load(ds, sid, err,
			    sizeof err);
			check_timed(l, 2);
			json_decref(l);
			json_object_set_new(json_object_get(m, "session"),
			    "status", json_string("completed"));
			assert_int_equal(dataset_session_finish(ds, sid, m,
			    err, sizeof err), 0);
		}
		json_decref(m);
	}
	dataset_close(ds);
	write_text(crash, "manifest.json", "");
	/* an old manifest: final, its rows without t0_ns/sample_rate_hz */
	util_uuid(old);
	snprintf(path, sizeof path, "%s/sessions/%s", dir, old);
	assert_int_equal(util_mkdirs(path, err, sizeof err), 0);
	snprintf(text, sizeof text, "{\"format\": \"heimdall-rec/1\", "
	    "\"session\": {\"id\": \"%s\", \"session_name\": \"old\", "
	    "\"status\": \"completed\", \"duration_seconds\": 1, "
	    "\"session_start\": \"2026-11-01T10:00:00.000000Z\", "
	    "\"frequency_hz\": 10000000}, \"stations\": [{\"websdr\": 1, "
	    "\"name\": \"S\"}], \"missing\": [], \"measurements\": "
	    "[{\"recording_session_id\": \"%s\", \"chunk_index\": 0, "
	    "\"websdr\": 1, \"timestamp\": \"2026-11-01T10:00:00.000000Z\", "
	    "\"time_source\": \"gps\", \"iq_data_location\": "
	    "\"sessions/%s/chunk_000_websdr_1.npy\"}]}", old, old, old);
	write_text(old, "manifest.json", text);

	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	m = dataset_session_load(ds, id, err, sizeof err);
	assert_non_null(m);
	check_timed(m, 2);
	json_decref(m);
	m = dataset_session_load(ds, crash, err, sizeof err);
	assert_non_null(m);
	assert_non_null(json_object_get(m, "rebuilt"));
	check_timed(m, 2);
	json_decref(m);
	/* the old one: listed as it was, its row loads without the fields */
	list = dataset_sessions_list(ds, err, sizeof err);
	assert_string_equal(json_string_value(json_object_get(listed(list,
	    old), "status")), "completed");
	json_decref(list);
	m = dataset_session_load(ds, old, err, sizeof err);
	assert_non_null(m);
	r = json_array_get(json_object_get(m, "measurements"), 0);
	assert_non_null(r);
	assert_null(json_object_get(r, "t0_ns"));
	assert_string_equal(json_string_value(json_object_get(r,
	    "time_source")), "gps");
	json_decref(m);
	dataset_close(ds);
}

/* A batch that cannot be written (here: a file size limit, EFBIG) says the
 * path and the error and leaves no temporary file behind. */
static void
test_failed_batch_no_tmp(void **state)
{
	struct dataset	*ds;
	struct rlimit	 rl, low;
	struct ds_chunk	 c[2] = { { 0, 1, iq, 1000, -1, 0 }, { 0, 2, iq, 1000, -1, 0 } };
	char		 err[512], id[UTIL_UUID_LEN], cmd[256];
	json_t		*m, *rows;

	(void)state;
	ds = dataset_open(dir, err, sizeof err);
	util_uuid(id);
	m = manifest(id, "in_progress", 2);
	assert_int_equal(dataset_session_create(ds, id, m, err, sizeof err), 0);
	rows = json_pack("[o, o]", row(id, 0, 1), row(id, 0, 2));
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &rl);
	low = rl;
	low.rlim_cur = 4000;	/* a chunk is 8128 bytes */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &low), 0);
	assert_int_equal(dataset_put_batch(ds, id, c, 2, rows, err,
	    sizeof err), -1);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	assert_non_null(strstr(err, "chunk_000_websdr_1.npy.tmp: File too "
	    "large"));
	assert_non_null(strstr(err, id));
	snprintf(cmd, sizeof cmd, "find %s -name '*.tmp*' | grep -q .", dir);
	assert_int_not_equal(system(cmd), 0);
	/* and the next batch works */
	assert_int_equal(dataset_put_batch(ds, id, c, 2, rows, err,
	    sizeof err), 0);
	json_decref(rows);
	json_decref(m);
	dataset_close(ds);
}

/* A finished session (2 stations x 3 s, no chunks) started at t. */
static void
stored(struct dataset *ds, char id[37], double t)
{
	char	 err[512], ts[40];
	json_t	*m;

	util_uuid(id);
	util_iso8601(t, ts, sizeof ts);
	m = manifest(id, "completed", 2);
	json_object_set_new(json_object_get(m, "session"), "session_start",
	    json_string(ts));
	if (dataset_session_create(ds, id, m, err, sizeof err) != 0 ||
	    dataset_session_finish(ds, id, m, err, sizeof err) != 0)
		fail_msg("%s", err);
	json_decref(m);
}

static json_t *
page(struct dataset *ds, const char *before, size_t offset, size_t limit,
    size_t *total, int *more)
{
	json_t	*p;

	assert_int_equal(dataset_sessions_page(ds, before, offset, limit, &p,
	    total, more), 0);
	return p;
}

static const char *
rstr(json_t *arr, size_t i, const char *k)
{
	return json_string_value(json_object_get(json_array_get(arr, i), k));
}

static json_int_t
rowint(json_t *arr, size_t i, const char *k)
{
	return json_integer_value(json_object_get(json_array_get(arr, i), k));
}

/*
 * The session index: built at open, kept current by this process's
 * writes (a manifest changed behind its back is not re-read), paged by
 * offset and by a `before` cursor in a stable order, and told within a
 * second about what another handle (another process) writes.
 */
static void
test_index(void **state)
{
	struct dataset	*ds, *other;
	char		 id[37], first[37], live[37], ext[37], err[512];
	char		 path[600], seen[310][37];
	const char	*before;
	json_t		*p, *all, *all2, *m;
	size_t		 total, i, n = 0, k;
	int		 more, pages = 0;
	double		 t0 = 1.79e9, t;

	(void)state;
	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	for (i = 0; i < 300; i++)
		stored(ds, id, t0 + 60.0 * (double)i);
	snprintf(first, sizeof first, "%s", id);	/* the newest */
	stored(ds, id, t0);	/* same start as the oldest: id decides */

	/* reopened: the same list, built from the manifests */
	all = dataset_sessions_list(ds, err, sizeof err);
	assert_int_equal(json_array_size(all), 301);
	assert_string_equal(rstr(all, 0, "id"), first);
	other = dataset_open(dir, err, sizeof err);
	all2 = dataset_sessions_list(other, err, sizeof err);
	assert_true(json_equal(all, all2));
	json_decref(all2);
	dataset_close(other);

	/* pages of 100 with the cursor: every session once, in order */
	before = NULL;
	do {
		p = page(ds, before, 0, 100, &total, &more);
		assert_int_equal(total, 301);
		assert_int_equal(json_array_size(p), pages < 3 ? 100 : 1);
		assert_int_equal(more, pages < 3);
		for (i = 0; i < json_array_size(p); i++, n++) {
			assert_string_equal(rstr(p, i, "id"),
			    rstr(all, n, "id"));
			snprintf(seen[n], 37, "%s", rstr(p, i, "id"));
			for (k = 0; k < n; k++)
				assert_string_not_equal(seen[k], seen[n]);
		}
		before = n > 0 ? seen[n - 1] : NULL;
		pages++;
		json_decref(p);
	} while (more);
	assert_int_equal(n, 301);
	assert_int_equal(pages, 4);
	/* ties on session_start: ordered by id, newest-first direction */
	assert_string_equal(rstr(all, 299, "session_start"),
	    rstr(all, 300, "session_start"));
	assert_true(strcmp(rstr(all, 299, "id"), rstr(all, 300, "id")) > 0);
	/* offsets, alone and after the cursor */
	p = page(ds, NULL, 250, 100, &total, &more);
	assert_int_equal(json_array_size(p), 51);
	assert_false(more);
	assert_string_equal(rstr(p, 0, "id"), rstr(all, 250, "id"));
	json_decref(p);
	p = page(ds, rstr(all, 9, "id"), 5, 2, &total, &more);
	assert_int_equal(json_array_size(p), 2);
	assert_true(more);
	assert_string_equal(rstr(p, 0, "id"), rstr(all, 15, "id"));
	/* the same page as text */
	{
		size_t	 len, t2;
		int	 m2;
		char	*text = dataset_sessions_page_text(ds, rstr(all, 9,
			    "id"), 5, 2, &len, &t2, &m2);
		json_t	*parsed;

		assert_non_null(text);
		assert_int_equal(len, strlen(text));
		parsed = json_loads(text, 0, NULL);
		assert_true(json_equal(parsed, p));
		assert_int_equal(t2, 301);
		assert_true(m2);
		json_decref(parsed);
		free(text);
		text = dataset_sessions_page_text(ds, NULL, 1000, 10, &len,
		    &t2, &m2);
		assert_string_equal(text, "[]");
		free(text);
		assert_null(dataset_sessions_page_text(ds,
		    "00000000-0000-4000-8000-000000000000", 0, 1, &len, &t2,
		    &m2));
		assert_int_equal(errno, ENOENT);
	}
	json_decref(p);
	p = page(ds, NULL, 1000, 10, &total, &more);
	assert_int_equal(json_array_size(p), 0);
	assert_false(more);
	json_decref(p);
	assert_int_equal(dataset_sessions_page(ds,
	    "00000000-0000-4000-8000-000000000000", 0, 10, &p, &total, &more),
	    -1);
	assert_int_equal(errno, ENOENT);
	assert_null(p);

	/* a page costs references to its rows (or a copy of their text),
	 * not a read of 301 manifests (~0.8 s before the index) */
	t = util_mono();
	for (i = 0; i < 100; i++)
		json_decref(page(ds, NULL, 0, 100, &total, &more));
	t = (util_mono() - t) / 100;
	print_message("a page of 100 of 301 sessions: %.3f ms\n", t * 1e3);
	assert_true(t < 0.005);
	t = util_mono();
	for (i = 0; i < 100; i++) {
		size_t	 len;
		free(dataset_sessions_page_text(ds, NULL, 0, 100, &len, &total,
		    &more));
	}
	t = (util_mono() - t) / 100;
	print_message("the same as text: %.3f ms\n", t * 1e3);
	assert_true(t < 0.005);

	/* this process's writes show at once */
	util_uuid(live);
	m = manifest(live, "recording", 2);
	json_object_set_new(json_object_get(m, "session"), "session_start",
	    json_string("2099-01-01T00:00:00.000000Z"));
	assert_int_equal(dataset_session_create(ds, live, m, err, sizeof err),
	    0);
	p = page(ds, NULL, 0, 1, &total, &more);
	assert_int_equal(total, 302);
	assert_string_equal(rstr(p, 0, "id"), live);
	assert_string_equal(rstr(p, 0, "status"), "recording");
	assert_int_equal(rowint(p, 0, "chunks_stored"), 0);
	json_decref(p);
	put(ds, live, 0);
	json_object_set_new(json_object_get(m, "session"), "status",
	    json_string("in_progress"));
	assert_int_equal(dataset_session_save(ds, live, m, err, sizeof err), 0);
	p = page(ds, NULL, 0, 1, &total, &more);
	assert_string_equal(rstr(p, 0, "status"), "in_progress");
	assert_int_equal(rowint(p, 0, "chunks_stored"), 2);
	assert_int_equal(rowint(p, 0, "chunks_missing"), 4);
	json_decref(p);
	put(ds, live, 1);
	json_object_set_new(json_object_get(m, "session"), "status",
	    json_string("completed"));
	assert_int_equal(dataset_session_finish(ds, live, m, err, sizeof err),
	    0);
	json_decref(m);
	p = page(ds, NULL, 0, 1, &total, &more);
	assert_string_equal(rstr(p, 0, "status"), "completed");
	assert_int_equal(rowint(p, 0, "chunks_stored"), 4);
	json_decref(p);

	/* a stored manifest rewritten behind its back is not re-read */
	snprintf(path, sizeof path, "%s/sessions/%s/manifest.json", dir, first);
	m = manifest(first, "completed", 2);
	json_object_set_new(json_object_get(m, "session"), "session_name",
	    json_string("changed"));
	assert_int_equal(json_dump_file(m, path, 0), 0);
	json_decref(m);

	/* another process (another handle) starts a session and deletes
	 * one: seen within a second */
	other = dataset_open(dir, err, sizeof err);
	assert_non_null(other);
	util_uuid(ext);
	m = manifest(ext, "in_progress", 2);
	json_object_set_new(json_object_get(m, "session"), "session_start",
	    json_string("2098-01-01T00:00:00.000000Z"));
	assert_int_equal(dataset_session_create(other, ext, m, err,
	    sizeof err), 0);
	put(other, ext, 0);
	snprintf(path, sizeof path, "rm -rf %s/sessions/%s", dir,
	    rstr(all, 300, "id"));
	assert_int_equal(system(path), 0);
	usleep(1100 * 1000);
	p = page(ds, NULL, 0, 400, &total, &more);
	assert_int_equal(total, 302);
	assert_string_equal(rstr(p, 1, "id"), ext);
	assert_string_equal(rstr(p, 1, "status"), "in_progress");
	assert_int_equal(rowint(p, 1, "chunks_stored"), 2);
	assert_string_equal(rstr(p, 2, "id"), first);
	assert_string_equal(rstr(p, 2, "session_name"), "test");
	for (i = 0; i < json_array_size(p); i++)
		assert_string_not_equal(rstr(p, i, "id"), rstr(all, 300, "id"));
	json_decref(p);
	/* ... and its progress and end */
	put(other, ext, 1);
	json_object_set_new(json_object_get(m, "session"), "status",
	    json_string("completed"));
	assert_int_equal(dataset_session_finish(other, ext, m, err,
	    sizeof err), 0);
	json_decref(m);
	usleep(1100 * 1000);
	p = page(ds, NULL, 1, 1, &total, &more);
	assert_string_equal(rstr(p, 0, "id"), ext);
	assert_string_equal(rstr(p, 0, "status"), "completed");
	assert_int_equal(rowint(p, 0, "chunks_stored"), 4);
	json_decref(p);
	dataset_close(other);
	json_decref(all);
	dataset_close(ds);
}

static void *
open_paused(void *arg)
{
	char	err[512];

	(void)arg;
	pause_at_lock = 1;
	return dataset_open(dir, err, sizeof err);
}

/*
 * The recovery race: another process opens the dataset, reads the manifest
 * of a session still recording, and only then takes its lock; the recorder
 * finishes in between (final manifest, lock released). The session must
 * stay completed with its rows -- not become failed, "interrupted", with
 * its chunks orphaned -- and once final its manifest is never saved again.
 */
static void
test_recovery_race(void **state)
{
	struct dataset	*ds, *other;
	struct timespec	 ts;
	pthread_t	 t;
	char		 id[37], err[512];
	json_t		*m, *loaded, *ses;
	void		*ret;

	(void)state;
	assert_int_equal(sem_init(&at_lock, 0, 0), 0);
	assert_int_equal(sem_init(&lock_go, 0, 0), 0);
	m = open_created(&ds, id, 2);
	put(ds, id, 0);
	put(ds, id, 1);
	put(ds, id, 2);

	assert_int_equal(pthread_create(&t, NULL, open_paused, NULL), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 30;
	/* the other opener has read "in_progress" and is about to lock */
	assert_int_equal(sem_timedwait(&at_lock, &ts), 0);
	json_object_set_new(json_object_get(m, "session"), "status",
	    json_string("completed"));
	assert_int_equal(dataset_session_finish(ds, id, m, err, sizeof err), 0);
	sem_post(&lock_go);
	assert_int_equal(pthread_join(t, &ret), 0);
	other = ret;
	assert_non_null(other);

	loaded = dataset_session_load(other, id, err, sizeof err);
	assert_non_null(loaded);
	ses = json_object_get(loaded, "session");
	assert_string_equal(json_string_value(json_object_get(ses, "status")),
	    "completed");
	assert_null(json_object_get(ses, "failure_reason"));
	assert_int_equal(json_array_size(json_object_get(loaded,
	    "measurements")), 6);
	assert_null(json_object_get(loaded, "orphans"));
	assert_false(exists(id, ".lock"));
	json_decref(loaded);

	/* Final is final: a late save (e.g. a stale in_progress) is refused
	 * and leaves the manifest as it was. */
	json_object_set_new(json_object_get(m, "session"), "status",
	    json_string("in_progress"));
	assert_int_equal(dataset_session_save(ds, id, m, err, sizeof err), -1);
	assert_non_null(strstr(err, id));
	assert_int_equal(dataset_session_finish(ds, id, m, err, sizeof err),
	    -1);
	loaded = dataset_session_load(ds, id, err, sizeof err);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    loaded, "session"), "status")), "completed");
	json_decref(loaded);
	json_decref(m);
	dataset_close(other);
	dataset_close(ds);
	sem_destroy(&at_lock);
	sem_destroy(&lock_go);
}

/* The TDoA and fix rows (src/engine/locate.h) ride in the manifest; the
 * listing row carries the session fix as "fix" (also after a reopen, read
 * from disk); a manifest written before localization has none and loads
 * as before. */
static void
test_fix_rows(void **state)
{
	struct dataset	*ds;
	char		 id[37], old[37], err[512];
	json_t		*m, *list, *o, *loaded;
	int		 pass;

	(void)state;
	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	recorded(ds, old, 1);		/* no "fixes": an older manifest */
	util_uuid(id);
	m = manifest(id, "in_progress", 2);
	assert_int_equal(dataset_session_create(ds, id, m, err, sizeof err), 0);
	put(ds, id, 0);
	json_object_set_new(json_object_get(m, "session"), "status",
	    json_string("completed"));
	json_object_set_new(m, "tdoa", json_pack("[{s:s, s:i, s:i, s:i, s:f, "
	    "s:f, s:f, s:f}]", "session_id", id, "chunk_index", 0, "websdr_a",
	    1, "websdr_b", 2, "tdoa_us", -12.5, "sigma_us", 0.05, "quality",
	    8.0, "corr", 0.97));
	json_object_set_new(m, "fixes", json_pack("[{s:s, s:i, s:b, s:b}, "
	    "{s:s, s:n, s:b, s:b, s:f, s:f, s:f, s:f}]", "session_id", id,
	    "chunk_index", 0, "final", 0, "ok", 1, "session_id", id,
	    "chunk_index", "final", 1, "ok", 1, "latitude", 45.05,
	    "longitude", 8.2, "cep50_m", 9.5, "error_m", 4.25));
	assert_int_equal(dataset_session_finish(ds, id, m, err, sizeof err), 0);
	json_decref(m);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 1) {	/* a new process: the index from disk */
			dataset_close(ds);
			ds = dataset_open(dir, err, sizeof err);
			assert_non_null(ds);
		}
		list = dataset_sessions_list(ds, err, sizeof err);
		o = json_object_get(listed(list, id), "fix");
		assert_true(json_is_object(o));
		assert_true(json_real_value(json_object_get(o, "latitude")) ==
		    45.05);
		assert_true(json_real_value(json_object_get(o, "error_m")) ==
		    4.25);
		assert_true(json_is_true(json_object_get(o, "final")));
		assert_null(json_object_get(o, "session_id"));
		assert_null(json_object_get(listed(list, old), "fix"));
		json_decref(list);
	}
	loaded = dataset_session_load(ds, id, err, sizeof err);
	assert_int_equal(json_array_size(json_object_get(loaded, "tdoa")), 1);
	assert_int_equal(json_array_size(json_object_get(loaded, "fixes")), 2);
	json_decref(loaded);
	loaded = dataset_session_load(ds, old, err, sizeof err);
	assert_non_null(loaded);
	assert_null(json_object_get(loaded, "fixes"));
	assert_int_equal(json_array_size(json_object_get(loaded,
	    "measurements")), 4);
	json_decref(loaded);
	dataset_close(ds);
}

/* A TDoA row of chunk k, pair (a, b). */
static json_t *
tdoa_row(const char *id, int k, int a, int b)
{
	return json_pack("{s:s, s:i, s:i, s:i, s:f, s:f, s:f, s:f}",
	    "session_id", id, "chunk_index", k, "websdr_a", a, "websdr_b", b,
	    "tdoa_us", -1.5 * k, "sigma_us", 0.05, "quality", 8.0, "corr",
	    0.9);
}

static json_t *
fix_row(const char *id, int k, double lat)
{
	return json_pack("{s:s, s:o, s:b, s:b, s:f}", "session_id", id,
	    "chunk_index", k >= 0 ? json_integer(k) : json_null(), "final",
	    k < 0, "ok", 1, "latitude", lat);
}

/* Localization rows written per chunk index (dataset_put_loc) survive a
 * recorder that dies: merged (each once, sorted, the session fix last)
 * by load and by the recovery of the interrupted session; rows/ goes. */
static void
test_loc_rows(void **state)
{
	struct dataset	*ds;
	char		 id[37], err[512];
	json_t		*m, *t, *f, *loaded, *r;
	pid_t		 pid;
	int		 st, k;

	(void)state;
	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	util_uuid(id);
	m = manifest(id, "in_progress", 2);
	/* not open yet: refused */
	f = json_pack("[o]", fix_row(id, 0, 45.0));
	assert_int_equal(dataset_put_loc(ds, id, 0, NULL, f, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "not open"));
	json_decref(f);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		/* the recorder: chunk 0 and 1 located, then it dies (the
		 * manifest saved at the start holds no row) */
		struct dataset *d2 = dataset_open(dir, err, sizeof err);
		if (d2 == NULL || dataset_session_create(d2, id, m, err,
		    sizeof err) != 0)
			_exit(2);
		for (k = 1; k >= 0; k--) {	/* in any order */
			t = json_pack("[o, o]", tdoa_row(id, k, 2, 1),
			    tdoa_row(id, k, 1, 3));
			f = json_pack("[o]", fix_row(id, k, 45.0 + k));
			if (dataset_put_loc(d2, id, k, t, f, err,
			    sizeof err) != 0)
				_exit(3);
			json_decref(t);
			json_decref(f);
		}
		/* a bad call changes nothing */
		if (dataset_put_loc(d2, id, -2, NULL, m, err, sizeof err) == 0)
			_exit(4);
		_exit(0);	/* no finish: the lock goes with the process */
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	json_decref(m);
	/* a line per chunk index in one file, not a file each */
	assert_int_equal(nlines(id, "rows/loc.jsonl"), 2);
	assert_false(exists(id, "rows/loc_000000.json"));
	/* a machine that stopped mid-write: a torn last line, skipped */
	append_text(id, "rows/loc.jsonl", "{\"chunk\": \"000002\", \"tdoa\": [{\"ses");
	/* read while still in progress (the replicator's view) */
	loaded = dataset_session_load(ds, id, err, sizeof err);
	assert_non_null(loaded);
	t = json_object_get(loaded, "tdoa");
	f = json_object_get(loaded, "fixes");
	assert_int_equal(json_array_size(t), 4);
	assert_int_equal(json_array_size(f), 2);
	/* sorted by chunk, then pair */
	r = json_array_get(t, 0);
	assert_int_equal(json_integer_value(json_object_get(r, "chunk_index")),
	    0);
	assert_int_equal(json_integer_value(json_object_get(r, "websdr_a")),
	    1);
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(f, 1), "chunk_index")), 1);
	json_decref(loaded);
	/* the next process recovers it: failed, the rows in its manifest */
	dataset_close(ds);
	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	assert_false(exists(id, "rows"));
	loaded = dataset_session_load(ds, id, err, sizeof err);
	assert_non_null(loaded);
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(loaded, "session"), "status")), "failed");
	assert_int_equal(json_array_size(json_object_get(loaded, "tdoa")), 4);
	f = json_object_get(loaded, "fixes");
	assert_int_equal(json_array_size(f), 2);
	assert_true(json_real_value(json_object_get(json_array_get(f, 1),
	    "latitude")) == 46.0);
	json_decref(loaded);
	dataset_close(ds);
}

/* A manifest's rows and the same rows from rows/loc_*.json: each once,
 * the manifest's first, the session fix after the chunks'. */
static void
test_loc_rows_merge(void **state)
{
	struct dataset	*ds;
	char		 id[37], err[512];
	json_t		*m, *t, *f, *loaded;

	(void)state;
	m = open_created(&ds, id, 3);
	t = json_pack("[o]", tdoa_row(id, 0, 1, 2));
	f = json_pack("[o]", fix_row(id, 0, 45.0));
	assert_int_equal(dataset_put_loc(ds, id, 0, t, f, err, sizeof err), 0);
	json_decref(t);
	json_decref(f);
	f = json_pack("[o]", fix_row(id, -1, 45.5));
	assert_int_equal(dataset_put_loc(ds, id, -1, NULL, f, err, sizeof err),
	    0);
	json_decref(f);
	assert_int_equal(nlines(id, "rows/loc.jsonl"), 2);
	/* the final manifest holds chunk 0's rows too (pair in the other
	 * order) and chunk 1's */
	json_object_set_new(json_object_get(m, "session"), "status",
	    json_string("completed"));
	json_object_set_new(m, "tdoa", json_pack("[o, o]", tdoa_row(id, 1,
	    1, 2), tdoa_row(id, 0, 2, 1)));
	json_object_set_new(m, "fixes", json_pack("[o, o, o]", fix_row(id, -1,
	    45.5), fix_row(id, 1, 46.0), fix_row(id, 0, 47.0)));
	assert_int_equal(dataset_session_finish(ds, id, m, err, sizeof err), 0);
	json_decref(m);
	assert_false(exists(id, "rows"));
	loaded = dataset_session_load(ds, id, err, sizeof err);
	t = json_object_get(loaded, "tdoa");
	f = json_object_get(loaded, "fixes");
	assert_int_equal(json_array_size(t), 2);
	assert_int_equal(json_array_size(f), 3);
	/* the manifest's chunk 0 fix won (47), the session fix is last */
	assert_true(json_real_value(json_object_get(json_array_get(f, 0),
	    "latitude")) == 47.0);
	assert_true(json_is_true(json_object_get(json_array_get(f, 2),
	    "final")));
	json_decref(loaded);
	dataset_close(ds);
}

/* Finish the session as completed (rows/ goes) and load it back: the
 * loaded manifest, its tdoa and fixes in *t and *f. */
static json_t *
finish_load(struct dataset *ds, const char *id, json_t *m, json_t **t,
    json_t **f)
{
	char	 err[512];
	json_t	*loaded;

	json_object_set_new(json_object_get(m, "session"), "status",
	    json_string("completed"));
	assert_int_equal(dataset_session_finish(ds, id, m, err, sizeof err), 0);
	assert_false(exists(id, "rows"));
	loaded = dataset_session_load(ds, id, err, sizeof err);
	assert_non_null(loaded);
	*t = json_object_get(loaded, "tdoa");
	*f = json_object_get(loaded, "fixes");
	return loaded;
}

/* test_loc_rows_rewritten's rows: the second line's only. */
static void
rewritten_rows(const json_t *t, const json_t *f)
{
	assert_int_equal(json_array_size(t), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(t,
	    0), "websdr_b")), 3);
	assert_int_equal(json_array_size(f), 1);
	assert_true(json_real_value(json_object_get(json_array_get(f, 0),
	    "latitude")) == 45.25);
}

/* A chunk index written twice: the later line's rows, not the union,
 * both while recording (the file read) and at the end (held.loc). */
static void
test_loc_rows_rewritten(void **state)
{
	struct dataset	*ds;
	char		 id[37], err[512];
	json_t		*m, *t, *f, *loaded;
	int		 pass;

	(void)state;
	m = open_created(&ds, id, 2);
	for (pass = 0; pass < 2; pass++) {
		t = json_pack("[o]", pass ? tdoa_row(id, 0, 1, 3) :
		    tdoa_row(id, 0, 1, 2));
		f = json_pack("[o]", fix_row(id, 0, pass ? 45.25 : 45.0));
		assert_int_equal(dataset_put_loc(ds, id, 0, t, f, err,
		    sizeof err), 0);
		json_decref(t);
		json_decref(f);
	}
	assert_int_equal(nlines(id, "rows/loc.jsonl"), 2);
	loaded = dataset_session_load(ds, id, err, sizeof err);
	assert_non_null(loaded);
	rewritten_rows(json_object_get(loaded, "tdoa"), json_object_get(loaded,
	    "fixes"));
	json_decref(loaded);
	loaded = finish_load(ds, id, m, &t, &f);
	rewritten_rows(t, f);
	json_decref(loaded);
	json_decref(m);
	dataset_close(ds);
}

/*
 * The session's end takes the rows of the rows/loc.jsonl lines this
 * process appended from what it wrote (held.loc), not by reading them
 * again, and still reads a loc file it did not write (an older
 * recorder's rows/loc_NNNNNN.json): with a manifest that has no rows of
 * its own, the final manifest holds both's rows, each as written (a
 * rounded real, as locate's are, unchanged).
 */
static void
test_loc_rows_own(void **state)
{
	struct dataset	*ds;
	char		 id[37], err[512], path[600];
	json_t		*m, *t, *f, *loaded;
	FILE		*fp;

	(void)state;
	m = open_created(&ds, id, 2);
	t = json_pack("[o]", tdoa_row(id, 0, 1, 2));
	json_object_set_new(json_array_get(t, 0), "tdoa_us",
	    json_real(util_round_q(-123.4567891234, 1e6)));
	f = json_pack("[o]", fix_row(id, 0, util_round_q(44.912345678912,
	    1e9)));
	assert_int_equal(dataset_put_loc(ds, id, 0, t, f, err, sizeof err), 0);
	json_decref(t);
	json_decref(f);
	/* another writer's file (as it would be found after a crash) */
	snprintf(path, sizeof path, "%s/sessions/%s/rows/loc_000001.json",
	    dir, id);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "{\"tdoa\": [], \"fixes\": [{\"session_id\": \"%s\", "
	    "\"chunk_index\": 1, \"final\": false, \"ok\": true, "
	    "\"latitude\": 46.25}]}", id);
	fclose(fp);
	loaded = finish_load(ds, id, m, &t, &f);
	json_decref(m);
	assert_int_equal(json_array_size(t), 1);
	assert_int_equal(json_array_size(f), 2);
	assert_true(json_real_value(json_object_get(json_array_get(t, 0),
	    "tdoa_us")) == util_round_q(-123.4567891234, 1e6));
	assert_true(json_real_value(json_object_get(json_array_get(f, 0),
	    "latitude")) == util_round_q(44.912345678912, 1e9));
	assert_true(json_real_value(json_object_get(json_array_get(f, 1),
	    "latitude")) == 46.25);
	json_decref(loaded);
	dataset_close(ds);
}

static int
keep_cb(const char *d, const char *id, void *ctx)
{
	const char	*want = ctx;

	assert_string_equal(d, dir);
	return strcmp(id, want) == 0;
}

/*
 * dataset_open_keep: the recovery scan's parse of a final manifest is
 * handed to dataset_session_load once, only for the sessions keep wants
 * and only while the file is the one parsed. Shown by overwriting the
 * file in place with other bytes of the same size and restoring its
 * mtime (the same file to stat): the kept parse is what the load returns;
 * a second load, or a session not kept, reads the file.
 */
static void
test_keep_manifests(void **state)
{
	struct dataset	*ds;
	char		 a[37], b[37], err[512], path[512], *text;
	struct stat	 st;
	struct timespec	 ts[2];
	json_t		*m, *got;
	size_t		 len, i;
	FILE		*f;

	(void)state;
	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	util_uuid(a);
	util_uuid(b);
	for (i = 0; i < 2; i++) {
		const char *id = i ? b : a;
		m = manifest(id, "in_progress", 2);
		assert_int_equal(dataset_session_create(ds, id, m, err,
		    sizeof err), 0);
		put(ds, id, 0);
		json_object_set_new(json_object_get(m, "session"), "status",
		    json_string("completed"));
		assert_int_equal(dataset_session_finish(ds, id, m, err,
		    sizeof err), 0);
		json_decref(m);
	}
	dataset_close(ds);

	ds = dataset_open_keep(dir, keep_cb, a, err, sizeof err);
	assert_non_null(ds);
	/* both manifests renamed in place: "test" -> "TEST", same size */
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof path, "%s/sessions/%s/manifest.json", dir,
		    i ? b : a);
		assert_int_equal(stat(path, &st), 0);
		text = util_read_file(path, 1 << 20, &len, err, sizeof err);
		assert_non_null(text);
		assert_non_null(strstr(text, "\"test\""));
		memcpy(strstr(text, "\"test\""), "\"TEST\"", 6);
		f = fopen(path, "r+");
		assert_non_null(f);
		assert_int_equal(fwrite(text, 1, len, f), len);
		fclose(f);
		free(text);
		ts[0] = st.st_atim;
		ts[1] = st.st_mtim;
		assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	}
	/* a: kept, the parse made at open */
	got = dataset_session_load(ds, a, err, sizeof err);
	assert_non_null(got);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    got, "session"), "session_name")), "test");
	assert_int_equal(json_array_size(json_object_get(got,
	    "measurements")), 2);
	json_decref(got);
	/* handed out once: the next load reads the file */
	got = dataset_session_load(ds, a, err, sizeof err);
	assert_non_null(got);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    got, "session"), "session_name")), "TEST");
	json_decref(got);
	/* b: not wanted, not kept */
	got = dataset_session_load(ds, b, err, sizeof err);
	assert_non_null(got);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    got, "session"), "session_name")), "TEST");
	json_decref(got);
	dataset_close(ds);

	/* a file replaced since the open (a new inode): never the old parse */
	ds = dataset_open_keep(dir, keep_cb, b, err, sizeof err);
	assert_non_null(ds);
	snprintf(path, sizeof path, "%s/sessions/%s/manifest.json", dir, b);
	text = util_read_file(path, 1 << 20, &len, err, sizeof err);
	assert_non_null(text);
	memcpy(strstr(text, "\"TEST\""), "\"Test\"", 6);
	assert_int_equal(util_write_atomic(path, text, len, err, sizeof err),
	    0);
	free(text);
	got = dataset_session_load(ds, b, err, sizeof err);
	assert_non_null(got);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    got, "session"), "session_name")), "Test");
	json_decref(got);
	/* kept and never loaded: freed by the close (ASan: no leak) */
	dataset_close(ds);
	ds = dataset_open_keep(dir, keep_cb, a, err, sizeof err);
	assert_non_null(ds);
	dataset_close(ds);
}

/* A manifest station's altitude: the number within -500..9000 m, else
 * NaN (absent, not a number, out of range). */
static void
test_station_altitude(void **state)
{
	static const char *nan_ones[] = { "{}", "{\"altitude\":null}",
	    "{\"altitude\":\"300\"}", "{\"altitude\":9000.5}",
	    "{\"altitude\":-500.5}", NULL };
	json_t	*o;
	int	 i;

	(void)state;
	o = json_loads("{\"altitude\":287.5}", 0, NULL);
	assert_true(dataset_station_altitude(o) == 287.5);
	json_decref(o);
	o = json_loads("{\"altitude\":-500}", 0, NULL);
	assert_true(dataset_station_altitude(o) == -500);
	json_decref(o);
	for (i = 0; nan_ones[i] != NULL; i++) {
		o = json_loads(nan_ones[i], 0, NULL);
		assert_non_null(o);
		if (!isnan(dataset_station_altitude(o)))
			fail_msg("%s: not NaN", nan_ones[i]);
		json_decref(o);
	}
	assert_true(isnan(dataset_station_altitude(NULL)));
}

/* Write text to sessions/<id>/rows/<leaf> (a rows file as the recorder
 * leaves it, or not). */
static void
put_rows_file(const char *id, const char *leaf, const char *text)
{
	char	path[512];
	FILE	*f;

	snprintf(path, sizeof path, "%s/sessions/%s/rows", dir, id);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/sessions/%s/rows/%s", dir, id, leaf);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static int
cmp_text_row(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t kx = json_integer_value(json_object_get(x, "chunk_index"));
	json_int_t ky = json_integer_value(json_object_get(y, "chunk_index"));
	json_int_t wx = json_integer_value(json_object_get(x, "websdr"));
	json_int_t wy = json_integer_value(json_object_get(y, "websdr"));

	return kx != ky ? (kx < ky ? -1 : 1) : (wx > wy) - (wx < wy);
}

/*
 * The final manifest of session id, checked against its expected text:
 * m's (util_json_dumps, one indent) with the n rows all, sorted here by
 * chunk then station, one a line in their compact form; rows/ gone.
 * Returns the text (malloc'd; its length at *lenp).
 */
static char *
final_text(const char *id, json_t *m, json_t **all, size_t n, size_t *lenp)
{
	char	 path[512], err[512], *got, *head, *want, *p, *text;
	size_t	 len, wl, i;

	snprintf(path, sizeof path, "%s/sessions/%s/manifest.json", dir, id);
	got = util_read_file(path, 64 << 20, &len, err, sizeof err);
	assert_non_null(got);
	qsort(all, n, sizeof *all, cmp_text_row);
	head = util_json_dumps(m, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	wl = (head != NULL ? strlen(head) : 0) + 64;
	for (i = 0; i < n; i++) {
		text = util_json_dumps(all[i], JSON_COMPACT |
		    JSON_PRESERVE_ORDER);
		wl += strlen(text) + 4;
		free(text);
	}
	/* abort(), not assert: the compiler must see them non-NULL */
	if (head == NULL || (want = p = malloc(wl)) == NULL)
		abort();
	p += sprintf(p, "%.*s,\n \"measurements\": [", (int)strlen(head) - 2,
	    head);
	for (i = 0; i < n; i++) {
		text = util_json_dumps(all[i], JSON_COMPACT |
		    JSON_PRESERVE_ORDER);
		p += sprintf(p, "%s\n  %s", i ? "," : "", text);
		free(text);
	}
	sprintf(p, "\n ]\n}");
	assert_int_equal(len, strlen(want));
	assert_string_equal(got, want);
	assert_false(exists(id, "rows"));
	free(want);
	free(head);
	*lenp = len;
	return got;
}

/*
 * The final manifest is written as it is made, the rows copied from their
 * rows files where those hold the manifest's text: its text is exactly
 * the manifest's (util_json_dumps, one indent) with every row, sorted by
 * chunk then station, one a line in its compact form -- whether its file
 * is the recorder's (compact: copied), pretty-printed or has reals written
 * long (re-written), and across more rows files than are kept open at
 * once and more text than one write buffer (64 KiB). A file that is not
 * JSON has no rows.
 */
static void
test_final_text(void **state)
{
	struct dataset	*ds;
	char		 id[37], err[512], leaf[64], *got, *text;
	json_t		*m, *a, **all;
	size_t		 len, n = 0, i, cap = 1300;
	int		 f, k;

	(void)state;
	all = calloc(cap, sizeof *all);
	assert_non_null(all);
	m = open_created(&ds, id, 12);
	/* 12 files of 100 rows: file f holds station f+1's chunks, in
	 * descending order, so the sorted rows alternate between files */
	for (f = 0; f < 12; f++) {
		a = json_array();
		for (k = 99; k >= 0; k--) {
			json_t *r = row(id, k, f + 1);
			json_object_set_new(r, "snr_db", json_real(k / 10.0));
			json_array_append(a, r);
			all[n++] = r;
		}
		snprintf(leaf, sizeof leaf, "batch_%06d.json", f);
		/* the recorder's form, one file pretty-printed */
		text = f == 5 ? json_dumps(a, JSON_INDENT(2) |
		    JSON_PRESERVE_ORDER) : util_json_dumps(a, JSON_COMPACT |
		    JSON_PRESERVE_ORDER);
		put_rows_file(id, leaf, text);
		free(text);
		json_decref(a);
	}
	/* reals at full length (0.1 as jansson's %.17g): re-written */
	a = json_pack("[{s:s, s:i, s:i, s:s, s:i, s:f}]", "recording_session_id",
	    id, "chunk_index", 50, "websdr", 13, "iq_data_location", "x",
	    "iq_samples_count", 1000, "snr_db", 0.1);
	text = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_non_null(strstr(text, "0.10000000000000001"));
	put_rows_file(id, "batch_000012.json", text);
	free(text);
	all[n++] = json_incref(json_array_get(a, 0));
	json_decref(a);
	put_rows_file(id, "batch_000013.json", "[{\"chunk_index\": 1,");
	put_rows_file(id, "batch_000014.json", "[] x");
	put_rows_file(id, "batch_000015.json", " [ ] ");

	json_object_set_new(json_object_get(m, "session"), "status",
	    json_string("completed"));
	assert_int_equal(dataset_session_finish(ds, id, m, err, sizeof err),
	    0);
	got = final_text(id, m, all, n, &len);
	assert_true(len > 2 * 64 * 1024);
	assert_non_null(strstr(got, "\"snr_db\":0.1}"));
	free(got);
	for (i = 0; i < n; i++)
		json_decref(all[i]);
	free(all);
	json_decref(m);
	dataset_close(ds);
}

/*
 * Rows files this process wrote (dataset_put_batch) are not parsed again
 * at the end but scanned for each row's end and its "chunk_index" and
 * "websdr": rows whose strings hold braces, brackets, quotes, escapes and
 * the keys' own text, and whose nested objects have members of those
 * names, still land whole and in order (batches stored in descending
 * chunk order); a row whose "chunk_index" is not a plain integer is
 * parsed as before, and a file of another process's next to them too.
 */
static void
test_final_text_own(void **state)
{
	struct dataset	*ds;
	char		 id[37], err[512], *got;
	json_t		*m, *rows, *all[32];
	size_t		 len, n = 0, i;
	int		 k, w;
	struct ds_chunk	 c[3];
	const char	*odd[] = { "{\"chunk_index\":9,\"websdr\":9}",
	    "a \"quoted\" }], \\ back\\slash", ",\"websdr\":99}", "\u00e9t\u00e9" };

	(void)state;
	m = open_created(&ds, id, 3);
	for (k = 3; k >= 0; k--) {
		rows = json_array();
		for (w = 1; w <= 3; w++) {
			json_t *r = row(id, k, w);
			c[w - 1] = (struct ds_chunk){ k, w, iq, 1000, -1, 0 };
			json_object_set_new(r, "note", json_string(odd[(k + w) %
			    4]));
			json_object_set_new(r, "inner", json_pack("{s:i, s:i, "
			    "s:[i, {s:i}]}", "chunk_index", 77, "websdr", 88,
			    "list", 1, "websdr", 66));
			json_object_set_new(r, "snr_db", json_real(k / 3.0 -
			    w));
			if (k == 2 && w == 2) {	/* parsed: its key is 0 */
				json_object_set_new(r, "chunk_index",
				    json_real(2.5));
				json_object_set_new(r, "websdr",
				    json_integer(4));
			}
			json_array_append(rows, r);
			all[n++] = r;
		}
		if (dataset_put_batch(ds, id, c, 3, rows, err, sizeof err) != 0)
			fail_msg("%s", err);
		json_decref(rows);
	}
	/* another process's file beside ours (a number we did not write) */
	rows = json_pack("[o]", row(id, 1, 4));
	got = json_dumps(rows, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	put_rows_file(id, "batch_000009.json", got);
	free(got);
	all[n++] = json_incref(json_array_get(rows, 0));
	json_decref(rows);

	json_object_set_new(json_object_get(m, "session"), "status",
	    json_string("completed"));
	assert_int_equal(dataset_session_finish(ds, id, m, err, sizeof err),
	    0);
	got = final_text(id, m, all, n, &len);
	/* the real key sorts as 0 (json_integer_value) */
	assert_non_null(strstr(got, "\"chunk_index\":2.5"));
	assert_true(strstr(got, "\"chunk_index\":2.5") <
	    strstr(got, "\"chunk_index\":1,\"websdr\":1"));
	free(got);
	for (i = 0; i < n; i++)
		json_decref(all[i]);
	json_decref(m);
	dataset_close(ds);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_station_altitude),
		cmocka_unit_test(test_key),
		cmocka_unit_test_setup_teardown(test_session_lifecycle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sources, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_recovery, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sample_time_rows, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_damaged_manifests, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_index, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_batch_no_tmp, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_recovery_race, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_fix_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loc_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_final_text, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_final_text_own, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_chunk_ms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loc_rows_rewritten, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_loc_rows_own, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_loc_rows_merge, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_keep_manifests, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
