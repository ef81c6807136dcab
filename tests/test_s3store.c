/* test_s3store.c -- S3 settings validation, and uploads facing no server, a silent server (abort), bad keys and missing files (a real S3 server: e2e_store). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/base/util.h"
#include "store/s3store.h"

#include "loopsock.h"

static void
config(struct s3_config *c, int port)
{
	memset(c, 0, sizeof *c);
	snprintf(c->endpoint, sizeof c->endpoint, "http://127.0.0.1:%d", port);
	snprintf(c->bucket, sizeof c->bucket, "heimdall-raw-iq");
	snprintf(c->region, sizeof c->region, "us-east-1");
	snprintf(c->access_key, sizeof c->access_key, "AKID");
	snprintf(c->secret_key, sizeof c->secret_key, "SECRET");
}

static void
test_config_check(void **state)
{
	struct s3_config	c;
	char			err[256];

	(void)state;
	config(&c, 9000);
	assert_int_equal(s3_config_check(&c, err, sizeof err), 0);
	snprintf(c.endpoint, sizeof c.endpoint, "127.0.0.1:9000");
	assert_int_equal(s3_config_check(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "--s3"));
	snprintf(c.endpoint, sizeof c.endpoint, "http://u:p@127.0.0.1:9000");
	assert_int_equal(s3_config_check(&c, err, sizeof err), -1);
	config(&c, 9000);
	snprintf(c.bucket, sizeof c.bucket, "ab");
	assert_int_equal(s3_config_check(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "--s3-bucket"));
	snprintf(c.bucket, sizeof c.bucket, "Upper");
	assert_int_equal(s3_config_check(&c, err, sizeof err), -1);
	snprintf(c.bucket, sizeof c.bucket, "my.bucket-1");
	assert_int_equal(s3_config_check(&c, err, sizeof err), 0);
	snprintf(c.region, sizeof c.region, "us east");
	assert_int_equal(s3_config_check(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "--s3-region"));
	config(&c, 9000);
	snprintf(c.secret_key, sizeof c.secret_key, "a\nb");
	assert_int_equal(s3_config_check(&c, err, sizeof err), -1);
	c.secret_key[0] = '\0';
	assert_int_equal(s3_config_check(&c, err, sizeof err), -1);
	assert_non_null(strstr(err, "AWS_SECRET_ACCESS_KEY"));
}

static char file[64];

static int
setup(void **state)
{
	int16_t	 iq[64] = { 0 };
	char	 err[128];

	(void)state;
	snprintf(file, sizeof file, "/tmp/test_s3store_%d.npy", (int)getpid());
	return util_write_atomic(file, iq, sizeof iq, err, sizeof err);
}

static int
teardown(void **state)
{
	(void)state;
	unlink(file);
	return 0;
}

static void
object(struct s3_object *o, const char *key, const char *path)
{
	memset(o, 0, sizeof *o);
	o->key = key;
	o->path = path;
	o->session_id = "s";
	o->station = "Torino é";
	o->websdr = 1;
	o->sample_rate = 12000;
	o->samples = 16;
}

static void
test_no_server_bad_key_missing_file(void **state)
{
	struct s3_config	 c;
	struct s3store		*s3;
	struct s3_object	 v[3];
	char			 err[256];
	int			 port;

	(void)state;
	loopsock(0, &port);
	config(&c, port);
	s3 = s3store_new(&c, err, sizeof err);
	assert_non_null(s3);
	object(&v[0], "sessions/x/chunk_000_websdr_1.npy", file);
	object(&v[1], "../etc/passwd", file);
	object(&v[2], "sessions/x/chunk_001_websdr_1.npy", "/nonexistent/f");
	assert_int_equal(s3store_put_many(s3, v, 3, 2), 0);
	assert_int_equal(v[0].ok, 0);
	assert_int_equal(v[0].http_status, 0);
	assert_true(strstr(v[0].err, "onnect") != NULL);
	assert_non_null(strstr(v[1].err, "invalid object key"));
	assert_non_null(strstr(v[2].err, "/nonexistent/f"));
	assert_int_equal(s3store_check_bucket(s3, 1, err, sizeof err), -1);
	assert_non_null(strstr(err, "heimdall-raw-iq"));
	s3store_free(s3);
}

/* s3store_put_many_cb: each object reported once, after its outcome is
 * set, on a thread other than the caller's (the uploads go on while fn
 * works) and all before the call returns; and the kept curl multi serves
 * a second call. */
struct seen {
	int		times[4];
	int		calls;
	int		on_caller;
	pthread_t	caller;
};

static void
on_done(void *ctx, struct s3_object *v, const int *idx, int n)
{
	struct seen	*s = ctx;
	int		 k;

	assert_true(n >= 1);
	s->calls++;
	if (pthread_equal(pthread_self(), s->caller))
		s->on_caller++;
	for (k = 0; k < n; k++) {
		assert_true(idx[k] >= 0 && idx[k] < 4);
		assert_int_equal(v[idx[k]].ok, 0);
		assert_true(v[idx[k]].err[0] != '\0');
		s->times[idx[k]]++;
	}
}

static void
test_put_many_cb(void **state)
{
	struct s3_config	 c;
	struct s3store		*s3;
	struct s3_object	 v[4];
	struct seen		 s;
	char			 err[256];
	int			 port, round, i;

	(void)state;
	loopsock(0, &port);
	config(&c, port);
	s3 = s3store_new(&c, err, sizeof err);
	assert_non_null(s3);
	for (round = 0; round < 2; round++) {
		object(&v[0], "sessions/x/chunk_000_websdr_1.npy", file);
		object(&v[1], "../etc/passwd", file);
		object(&v[2], "sessions/x/chunk_001_websdr_1.npy", file);
		object(&v[3], "sessions/x/chunk_002_websdr_1.npy",
		    "/nonexistent/f");
		memset(&s, 0, sizeof s);
		s.caller = pthread_self();
		assert_int_equal(s3store_put_many_cb(s3, v, 4, 2, on_done,
		    &s), 0);
		for (i = 0; i < 4; i++)
			assert_int_equal(s.times[i], 1);
		assert_true(s.calls >= 1 && s.calls <= 4);
		assert_int_equal(s.on_caller, 0);
		assert_true(strstr(v[0].err, "onnect") != NULL);
		assert_non_null(strstr(v[1].err, "invalid object key"));
	}
	s3store_free(s3);
}

static volatile int stop_flag;

static void *
stopper(void *arg)
{
	(void)arg;
	usleep(500 * 1000);
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void
test_silent_server_abort(void **state)
{
	struct s3_config	 c;
	struct s3store		*s3;
	struct s3_object	 v[4];
	pthread_t		 th;
	char			 err[256];
	double			 t0;
	int			 port, fd, i;

	(void)state;
	fd = loopsock(1, &port);	/* accepts connections, never answers */
	config(&c, port);
	s3 = s3store_new(&c, err, sizeof err);
	s3store_set_abort(s3, &stop_flag);
	for (i = 0; i < 4; i++)
		object(&v[i], "sessions/x/chunk_000_websdr_1.npy", file);
	pthread_create(&th, NULL, stopper, NULL);
	t0 = util_mono();
	assert_int_equal(s3store_put_many(s3, v, 4, 2), 0);
	/* within about a second of the flag, not the 15 s stall limit */
	assert_true(util_mono() - t0 < 3.0);
	for (i = 0; i < 4; i++)
		assert_string_equal(v[i].err, "stopped");
	pthread_join(th, NULL);
	s3store_free(s3);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_check),
		cmocka_unit_test(test_no_server_bad_key_missing_file),
		cmocka_unit_test(test_put_many_cb),
		cmocka_unit_test(test_silent_server_abort),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
