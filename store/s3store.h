/*
 * s3store.h -- the central object store (S3, MinIO), through libcurl and
 * its built-in AWS Signature V4; the only module that speaks S3. It owns
 * the endpoint, bucket, region and credentials, and uploads chunk files
 * concurrently (curl multi) with path-style addressing:
 *
 *   PUT ENDPOINT/BUCKET/sessions/<session_id>/chunk_NNN_websdr_K.npy
 *
 * with Content-Type, Content-MD5 and x-amz-content-sha256 (the server
 * refuses a body that does not match them), object metadata (session,
 * station, chunk, sample rate, samples), and the returned ETag checked
 * against the MD5 of what was read from disk. A PUT of the same key with
 * the same bytes is idempotent. Not thread-safe: one thread per s3store.
 */
#ifndef S3STORE_H
#define S3STORE_H

#include <stddef.h>

#define S3_BUCKET_DEFAULT	"heimdall-raw-iq"
#define S3_REGION_DEFAULT	"us-east-1"

struct s3_config {
	char	endpoint[512];		/* http(s)://host[:port], no slash */
	char	bucket[64];
	char	region[64];
	char	access_key[256];	/* AWS_ACCESS_KEY_ID */
	char	secret_key[256];	/* AWS_SECRET_ACCESS_KEY */
	char	session_token[2048];	/* AWS_SESSION_TOKEN, or "" */
};

/* One object to upload, and its outcome. */
struct s3_object {
	const char	*key;		/* "sessions/<id>/chunk_..." */
	const char	*path;		/* the local file */
	const char	*session_id;
	const char	*station;	/* station name (percent-encoded) */
	int		 websdr;
	int		 chunk_index;
	double		 sample_rate;
	long		 samples;
	/* out */
	int		 ok;
	int		 http_status;	/* 0: no HTTP answer */
	char		 err[256];
};

struct s3store;

/* 0, or -1 naming the bad field (endpoint, bucket, region). */
int		 s3_config_check(const struct s3_config *c, char *err,
		    size_t errlen);

struct s3store	*s3store_new(const struct s3_config *c, char *err,
		    size_t errlen);
void		 s3store_free(struct s3store *s3);
/* "ENDPOINT/BUCKET" for messages. */
const char	*s3store_target(const struct s3store *s3);

/* When *flag becomes non-zero (from another thread), transfers in flight
 * end within a second with the error "stopped". */
void		 s3store_set_abort(struct s3store *s3, const volatile int *flag);
/* HEAD the bucket; create it when missing and create is set. */
int		 s3store_check_bucket(struct s3store *s3, int create, char *err,
		    size_t errlen);
/* Upload n objects, at most concurrency at once; fills each one's ok/err.
 * Returns how many succeeded. */
int		 s3store_put_many(struct s3store *s3, struct s3_object *v,
		    int n, int concurrency);
/* Called by s3store_put_many_cb as uploads finish: the indices into v of
 * those finished since the last call (n >= 1), each with its ok/err set.
 * It runs on a thread of s3store_put_many_cb's own (the uploads go on
 * meanwhile; those finished during a call come in the next), one call at
 * a time, in finishing order; all calls have returned when
 * s3store_put_many_cb does. It must not use the s3store, and the caller's
 * thread is blocked in s3store_put_many_cb while it runs. */
typedef void	(*s3_done_fn)(void *ctx, struct s3_object *v, const int *idx,
		    int n);
/* The same, telling fn about each object as soon as it is finished
 * (fn NULL: as s3store_put_many). */
int		 s3store_put_many_cb(struct s3store *s3, struct s3_object *v,
		    int n, int concurrency, s3_done_fn fn, void *ctx);
/* GET an object into *buf (malloc'd). 0, or -1 (404: -2). */
int		 s3store_get(struct s3store *s3, const char *key, char **buf,
		    size_t *len, char *err, size_t errlen);

#endif
