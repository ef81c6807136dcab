/* sigmf.c -- a stored session as SigMF recordings, a collection and optionally a .sigmf archive (sigmf.h). */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "store/sigmf.h"
#include "store/dataset.h"
#include "store/lazyarchive.h"
#include "src/base/npy.h"
#include "src/base/util.h"

#define SIGMF_MAX_CHUNKS	100000	/* chunk_index bound (rows are input) */
#define SIGMF_MAX_WEBSDR	10000
#define COPY_BLOCK		(256 * 1024)

/* ---- where the files go: a folder, or a tar through libarchive ---- */

struct sink {
	const char	*dir;		/* loose: DIR/B */
	struct archive	*ar;		/* archive: entries "B/leaf" */
	char		 base[128];
	int		 fd;		/* loose: the file being written */
	char		 tmp[4096], final[4096];
	json_t		*written;	/* loose: final paths, for cleanup */
};

static int
sink_begin(struct sink *s, const char *leaf, int64_t size, char *err,
    size_t errlen)
{
	struct archive_entry	*e;
	char			 name[512];

	if (s->ar != NULL) {
		snprintf(name, sizeof name, "%s/%s", s->base, leaf);
		if ((e = archive_entry_new()) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		archive_entry_set_pathname(e, name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, size);
		archive_entry_set_mtime(e, time(NULL), 0);
		if (archive_write_header(s->ar, e) != ARCHIVE_OK) {
			snprintf(err, errlen, "archive: %s: %s", name,
			    archive_error_string(s->ar));
			archive_entry_free(e);
			return -1;
		}
		archive_entry_free(e);
		return 0;
	}
	snprintf(s->final, sizeof s->final, "%s/%s", s->dir, leaf);
	snprintf(s->tmp, sizeof s->tmp, "%s/.%s.tmp.%ld", s->dir, leaf,
	    (long)getpid());
	s->fd = open(s->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (s->fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", s->tmp,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
sink_write(struct sink *s, const void *p, size_t n, char *err, size_t errlen)
{
	const char	*c = p;
	la_ssize_t	 w;

	if (s->ar == NULL) {
		if (util_write_all(s->fd, p, n) != 0) {
			snprintf(err, errlen, "cannot write %s: %s", s->tmp,
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	while (n > 0) {
		w = archive_write_data(s->ar, c, n);
		if (w <= 0) {
			snprintf(err, errlen, "archive: %s",
			    archive_error_string(s->ar));
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
sink_end(struct sink *s, char *err, size_t errlen)
{
	if (s->ar != NULL) {
		if (archive_write_finish_entry(s->ar) != ARCHIVE_OK) {
			snprintf(err, errlen, "archive: %s",
			    archive_error_string(s->ar));
			return -1;
		}
		return 0;
	}
	if (close(s->fd) != 0) {
		s->fd = -1;
		snprintf(err, errlen, "cannot write %s: %s", s->tmp,
		    strerror(errno));
		unlink(s->tmp);
		return -1;
	}
	s->fd = -1;
	if (rename(s->tmp, s->final) != 0) {
		snprintf(err, errlen, "cannot rename %s: %s", s->tmp,
		    strerror(errno));
		unlink(s->tmp);
		return -1;
	}
	json_array_append_new(s->written, json_string(s->final));
	return 0;
}

static void
sink_abort(struct sink *s)
{
	if (s->ar == NULL && s->fd >= 0) {
		close(s->fd);
		unlink(s->tmp);
		s->fd = -1;
	}
}

static int
sink_file(struct sink *s, const char *leaf, const char *text, char *err,
    size_t errlen)
{
	size_t	n = strlen(text);

	if (sink_begin(s, leaf, (int64_t)n, err, errlen) != 0)
		return -1;
	if (sink_write(s, text, n, err, errlen) != 0 ||
	    sink_end(s, err, errlen) != 0) {
		sink_abort(s);
		return -1;
	}
	return 0;
}

/* ---- the session ---- */

struct chunk {
	int		 index;
	const json_t	*row;		/* borrowed from the manifest */
	size_t		 n;		/* samples in the file */
	int		 present;	/* its file exists */
};

struct rx {
	int		 websdr;
	const json_t	*station;	/* the manifest's, may be NULL */
	const char	*name;
	struct chunk	*c;
	int		 nc;
	enum npy_dtype	 dtype;
	double		 rate;
	uint64_t	 samples;
};

void
sigmf_base_name(const char *name, const char *id, char *buf, size_t len)
{
	char	 slug[48];
	size_t	 n = 0;
	int	 dash = 1;

	for (; name != NULL && *name != '\0' && n < 40; name++) {
		unsigned char c = (unsigned char)*name;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9')) {
			slug[n++] = (char)c;
			dash = 0;
		} else if (!dash) {
			slug[n++] = '-';
			dash = 1;
		}
	}
	while (n > 0 && slug[n - 1] == '-')
		n--;
	slug[n] = '\0';
	snprintf(buf, len, "%s-%.8s", n > 0 ? slug : "session",
	    id != NULL ? id : "");
}

static const char *
jstr(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int
jint(const json_t *o, const char *k, long lo, long hi, long *out)
{
	const json_t	*v = json_object_get(o, k);

	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi)
		return -1;
	*out = (long)json_integer_value(v);
	return 0;
}

static int
chunk_cmp(const void *a, const void *b)
{
	const struct chunk *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

/* Copy a number (or a string) of a row into o as k; nulls, absent keys
 * and non-finite values are left out (SigMF has no null). */
static void
copy_field(json_t *o, const char *k, const json_t *row, const char *key)
{
	const json_t	*v = json_object_get(row, key);

	if (json_is_integer(v))
		json_object_set_new(o, k, json_integer(json_integer_value(v)));
	else if (json_is_real(v) && isfinite(json_real_value(v)))
		json_object_set_new(o, k, json_real(json_real_value(v)));
	else if (json_is_string(v))
		json_object_set_new(o, k, json_string(json_string_value(v)));
}

/*
 * The chunk's first sample as SigMF wants it (RFC 3339, "Z"): from t0_ns,
 * to the nanosecond, when the chunk is GPS-timed; else the row's timestamp
 * (the grid's time, to the microsecond). 0, or -1 when the row has none.
 */
static int
chunk_datetime(const json_t *row, char *buf, size_t len)
{
	const json_t	*t0 = json_object_get(row, "t0_ns");
	const char	*ts = jstr(row, "timestamp");
	const char	*src = jstr(row, "time_source");
	struct tm	 tm;
	double		 t;

	if (src != NULL && strcmp(src, "gps") == 0 && json_is_integer(t0) &&
	    json_integer_value(t0) > 0) {
		long long ns = (long long)json_integer_value(t0);
		time_t sec = (time_t)(ns / 1000000000LL);
		gmtime_r(&sec, &tm);
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ns % 1000000000LL);
		return 0;
	}
	if (ts == NULL || util_parse_iso8601(ts, &t) != 0)
		return -1;
	util_iso8601(t, buf, len);
	return 0;
}

/*
 * The measured sample rate for core:sample_rate: the GPS fit of the last
 * GPS-timed chunk (it uses every stamp so far: the best estimate), else the
 * rate the stream reported (iq_sample_rate, the receiver's real rate, e.g.
 * a KiwiSDR's 12001.137), never the nominal 12000.
 */
static double
measured_rate(const struct rx *r)
{
	const json_t	*v;
	int		 i;

	for (i = r->nc - 1; i >= 0; i--) {
		v = json_object_get(r->c[i].row, "sample_rate_hz");
		if (json_is_number(v) && json_number_value(v) > 0)
			return json_number_value(v);
	}
	for (i = r->nc - 1; i >= 0; i--) {
		v = json_object_get(r->c[i].row, "iq_sample_rate");
		if (json_is_number(v) && json_number_value(v) > 0)
			return json_number_value(v);
	}
	return 0;
}

static const char *
missing_reason(const json_t *manifest, int websdr, int chunk)
{
	const json_t	*m;
	size_t		 i;
	long		 w, k;

	json_array_foreach(json_object_get(manifest, "missing"), i, m) {
		if (jint(m, "websdr", 0, SIGMF_MAX_WEBSDR, &w) == 0 &&
		    jint(m, "chunk_index", 0, SIGMF_MAX_CHUNKS, &k) == 0 &&
		    w == websdr && k == chunk)
			return jstr(m, "reason");
	}
	return NULL;
}

/* A gap annotation at sample s for chunks [from, to) of r. */
static json_t *
gap_annotation(const json_t *manifest, const struct rx *r, uint64_t s,
    int from, int to, const char *why)
{
	json_t		*a, *ks;
	char		 label[64], comment[1024];
	const char	*reason = why != NULL ? why :
			    missing_reason(manifest, r->websdr, from);
	int		 k;

	if (to - from == 1)
		snprintf(label, sizeof label, "gap: chunk %d", from);
	else
		snprintf(label, sizeof label, "gap: chunks %d-%d", from,
		    to - 1);
	/* the chunk length from the manifest (1000 ms in sessions recorded
	 * before it was kept) */
	snprintf(comment, sizeof comment, "%d chunk%s missing (%g s): %s",
	    to - from, to - from == 1 ? "" : "s", (to - from) *
	    dataset_session_chunk_ms(json_object_get(manifest, "session")) /
	    1000.0, reason != NULL ? reason : "not stored");
	ks = json_array();
	for (k = from; k < to; k++)
		json_array_append_new(ks, json_integer(k));
	a = json_object();
	json_object_set_new(a, "core:sample_start", json_integer((json_int_t)s));
	json_object_set_new(a, "core:sample_count", json_integer(0));
	json_object_set_new(a, "core:label", json_string(label));
	json_object_set_new(a, "core:comment", json_string(comment));
	json_object_set_new(a, "core:generator", json_string("heimdall-rec"));
	json_object_set_new(a, SIGMF_NS ":missing_chunks", ks);
	return a;
}

static json_t *
extensions(void)
{
	return json_pack("[{s:s, s:s, s:b}]", "name", SIGMF_NS, "version",
	    SIGMF_NS_VERSION, "optional", 1);
}

static json_t *
recording_meta(const json_t *manifest, const json_t *sess, struct rx *r,
    int expected, int *ngaps)
{
	json_t		*meta, *g, *caps, *anns, *cap, *ann;
	const json_t	*row;
	const char	*type, *url;
	char		 desc[2048], dt[64], lab[32];
	double		 f = json_number_value(json_object_get(sess,
			    "frequency_hz"));
	double		 lat, lon, alt;
	long		 lo, hi;
	uint64_t	 s = 0;
	int		 i, next = 0, stored = 0;

	type = r->station != NULL ? jstr(r->station, "type") : NULL;
	url = r->station != NULL ? jstr(r->station, "url") : NULL;
	g = json_object();
	json_object_set_new(g, "core:datatype", json_string(r->dtype ==
	    NPY_C8 ? "cf32_le" : "rf32_le"));
	json_object_set_new(g, "core:version",
	    json_string(SIGMF_CORE_VERSION));
	if (r->rate >= 1)
		json_object_set_new(g, "core:sample_rate", json_real(r->rate));
	json_object_set_new(g, "core:recorder",
	    json_string("heimdall-rec " HEIMDALL_VERSION));
	for (i = 0; i < r->nc; i++)
		stored += r->c[i].present;
	snprintf(desc, sizeof desc, "heimdall-rec session \"%s\" (%s), "
	    "receiver %d \"%s\"%s%s%s, %.6f MHz: %s, %d of %d %d-ms "
	    "chunks stored, one capture per chunk",
	    jstr(sess, "session_name") != NULL ? jstr(sess, "session_name") :
	    "", jstr(sess, "id") != NULL ? jstr(sess, "id") : "", r->websdr,
	    r->name != NULL ? r->name : "", type != NULL ? " (" : "",
	    type != NULL ? type : "", type != NULL ? ")" : "", f / 1e6,
	    r->dtype == NPY_C8 ? "complex IQ, full scale 1.0" :
	    "demodulated real audio, full scale 1.0", stored, expected,
	    dataset_session_chunk_ms(sess));
	json_object_set_new(g, "core:description", json_string(desc));
	if (r->station != NULL && json_is_number(json_object_get(r->station,
	    "latitude")) && json_is_number(json_object_get(r->station,
	    "longitude"))) {
		lat = json_number_value(json_object_get(r->station,
		    "latitude"));
		lon = json_number_value(json_object_get(r->station,
		    "longitude"));
		/* RFC 7946: longitude, latitude, then the altitude (m
		 * above the WGS84 ellipsoid, as the stations file's) when
		 * the station has one in range; two coordinates without. */
		alt = dataset_station_altitude(r->station);
		if (lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180)
			json_object_set_new(g, "core:geolocation", isnan(alt) ?
			    json_pack("{s:s, s:[f, f]}", "type", "Point",
			    "coordinates", lon, lat) : json_pack("{s:s, "
			    "s:[f, f, f]}", "type", "Point", "coordinates", lon,
			    lat, alt));
	}
	if (type != NULL)
		json_object_set_new(g, "core:hw", json_string(type));
	json_object_set_new(g, "core:extensions", extensions());
	json_object_set_new(g, SIGMF_NS ":session_id",
	    json_string(jstr(sess, "id") != NULL ? jstr(sess, "id") : ""));
	json_object_set_new(g, SIGMF_NS ":websdr", json_integer(r->websdr));
	json_object_set_new(g, SIGMF_NS ":chunk_ms",
	    json_integer(dataset_session_chunk_ms(sess)));
	if (r->name != NULL)
		json_object_set_new(g, SIGMF_NS ":station",
		    json_string(r->name));
	if (url != NULL)
		json_object_set_new(g, SIGMF_NS ":url", json_string(url));
	if (r->nc > 0 && r->dtype == NPY_F4)
		copy_field(g, SIGMF_NS ":demod_mode", r->c[0].row, "demod_mode");

	caps = json_array();
	anns = json_array();
	*ngaps = 0;
	for (i = 0; i < r->nc; i++) {
		struct chunk *c = &r->c[i];
		row = c->row;
		if (!c->present)
			continue;
		if (c->index > next) {
			json_array_append_new(anns, gap_annotation(manifest, r,
			    s, next, c->index, NULL));
			(*ngaps)++;
		}
		next = c->index + 1;
		cap = json_object();
		json_object_set_new(cap, "core:sample_start",
		    json_integer((json_int_t)s));
		if (json_is_number(json_object_get(row, "frequency_hz")))
			json_object_set_new(cap, "core:frequency", json_real(
			    json_number_value(json_object_get(row,
			    "frequency_hz"))));
		else if (f > 0)
			json_object_set_new(cap, "core:frequency",
			    json_real(f));
		if (chunk_datetime(row, dt, sizeof dt) == 0)
			json_object_set_new(cap, "core:datetime",
			    json_string(dt));
		json_object_set_new(cap, SIGMF_NS ":chunk_index",
		    json_integer(c->index));
		copy_field(cap, SIGMF_NS ":time_source", row, "time_source");
		copy_field(cap, SIGMF_NS ":t0_ns", row, "t0_ns");
		copy_field(cap, SIGMF_NS ":sample_rate_hz", row, "sample_rate_hz");
		json_array_append_new(caps, cap);

		ann = json_object();
		json_object_set_new(ann, "core:sample_start",
		    json_integer((json_int_t)s));
		json_object_set_new(ann, "core:sample_count",
		    json_integer((json_int_t)c->n));
		snprintf(lab, sizeof lab, "chunk %d", c->index);
		json_object_set_new(ann, "core:label", json_string(lab));
		json_object_set_new(ann, "core:generator",
		    json_string("heimdall-rec"));
		/* The band the metrics were measured in (IQ only: audio is
		 * already demodulated). */
		if (r->dtype == NPY_C8 && f > 0 &&
		    jint(sess, "passband_low_hz", -1000000, 1000000, &lo) == 0 &&
		    jint(sess, "passband_high_hz", -1000000, 1000000, &hi) == 0 &&
		    lo < hi) {
			json_object_set_new(ann, "core:freq_lower_edge",
			    json_real(f + (double)lo));
			json_object_set_new(ann, "core:freq_upper_edge",
			    json_real(f + (double)hi));
		}
		copy_field(ann, SIGMF_NS ":chunk_index", row, "chunk_index");
		copy_field(ann, SIGMF_NS ":snr_db", row, "snr_db");
		copy_field(ann, SIGMF_NS ":signal_db", row, "signal_strength_db");
		copy_field(ann, SIGMF_NS ":noise_floor_db", row, "noise_floor_db");
		copy_field(ann, SIGMF_NS ":frequency_offset_hz", row,
		    "frequency_offset_hz");
		copy_field(ann, SIGMF_NS ":rssi_dbm", row, "rssi_dbm");
		copy_field(ann, SIGMF_NS ":adc_overflow_count", row,
		    "adc_overflow_count");
		copy_field(ann, SIGMF_NS ":samples_lost", row, "samples_lost");
		copy_field(ann, SIGMF_NS ":time_source", row, "time_source");
		copy_field(ann, SIGMF_NS ":gps_fix_age_s", row, "gps_fix_age_s");
		copy_field(ann, SIGMF_NS ":measurement_id", row, "id");
		json_array_append_new(anns, ann);
		s += c->n;
	}
	if (next < expected) {
		json_array_append_new(anns, gap_annotation(manifest, r, s,
		    next, expected, NULL));
		(*ngaps)++;
	}
	meta = json_object();
	json_object_set_new(meta, "global", g);
	json_object_set_new(meta, "captures", caps);
	json_object_set_new(meta, "annotations", anns);
	return meta;
}

/* Copy receiver r's samples into the open entry: every present chunk's
 * payload, byte for byte (the .npy is little-endian float32 already). */
static int
copy_samples(struct dataset *ds, const char *id, struct rx *r,
    struct sink *sk, char *buf, char *err, size_t errlen)
{
	char		 key[512], path[4096];
	enum npy_dtype	 dt;
	size_t		 n, left, m, w = r->dtype == NPY_C8 ? 8 : 4;
	FILE		*f;
	int		 i;

	for (i = 0; i < r->nc; i++) {
		if (!r->c[i].present)
			continue;
		dataset_chunk_key(id, r->c[i].index, r->websdr, key,
		    sizeof key);
		snprintf(path, sizeof path, "%s/%s", dataset_dir(ds), key);
		if ((f = npy_open(path, &dt, &n, err, errlen)) == NULL)
			return -1;
		/* The file changed since it was counted: refuse rather than
		 * write a data file that disagrees with its metadata. */
		if (dt != r->dtype || n != r->c[i].n) {
			snprintf(err, errlen, "%s changed during the export",
			    path);
			fclose(f);
			return -1;
		}
		for (left = n * w; left > 0; left -= m) {
			m = left < COPY_BLOCK ? left : COPY_BLOCK;
			if (fread(buf, 1, m, f) != m) {
				snprintf(err, errlen, "%s: short read", path);
				fclose(f);
				return -1;
			}
			if (sink_write(sk, buf, m, err, errlen) != 0) {
				fclose(f);
				return -1;
			}
		}
		fclose(f);
	}
	return 0;
}

static void
sha512_hex(const char *text, char out[129])
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	mdlen = 0, i;

	EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha512(), NULL);
	for (i = 0; i < mdlen && i < 64; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[2 * i] = '\0';
}

/* The receivers of the session: the manifest's stations, and any websdr
 * its rows name that the stations list lacks (a rebuilt manifest has no
 * stations), each with its rows sorted by chunk. */
static int
collect(struct dataset *ds, const char *id, const json_t *manifest,
    struct rx **out, int *nout, json_t *warnings, char *err, size_t errlen)
{
	const json_t	*st, *row;
	struct rx	*v = NULL, *r;
	char		 key[512], path[4096], e2[1024];
	size_t		 i;
	long		 w, k, cnt;
	int		 n = 0, j, l;
	enum npy_dtype	 dt;
	FILE		*f;

	json_array_foreach(json_object_get(manifest, "stations"), i, st) {
		if (jint(st, "websdr", 1, SIGMF_MAX_WEBSDR, &w) != 0)
			continue;
		for (j = 0; j < n && v[j].websdr != w; j++)
			;
		if (j < n)
			continue;
		if ((r = realloc(v, (size_t)(n + 1) * sizeof *v)) == NULL)
			goto oom;
		v = r;
		memset(&v[n], 0, sizeof v[n]);
		v[n].websdr = (int)w;
		v[n].station = st;
		v[n].name = jstr(st, "name");
		n++;
	}
	json_array_foreach(json_object_get(manifest, "measurements"), i,
	    row) {
		if (jint(row, "websdr", 1, SIGMF_MAX_WEBSDR, &w) != 0 ||
		    jint(row, "chunk_index", 0, SIGMF_MAX_CHUNKS - 1, &k) != 0) {
			json_array_append_new(warnings, json_string("a "
			    "measurement row without a valid websdr and "
			    "chunk_index was skipped"));
			continue;
		}
		for (j = 0; j < n && v[j].websdr != w; j++)
			;
		if (j == n) {
			if ((r = realloc(v, (size_t)(n + 1) * sizeof *v)) ==
			    NULL)
				goto oom;
			v = r;
			memset(&v[n], 0, sizeof v[n]);
			v[n].websdr = (int)w;
			v[n].name = jstr(row, "websdr_station_name");
			n++;
		}
		r = &v[j];
		for (l = 0; l < r->nc && r->c[l].index != k; l++)
			;
		if (l < r->nc) {
			snprintf(e2, sizeof e2, "receiver %ld chunk %ld has two "
			    "measurement rows: the first is used", w, k);
			json_array_append_new(warnings, json_string(e2));
			continue;
		}
		struct chunk *c = realloc(r->c, (size_t)(r->nc + 1) *
		    sizeof *c);
		if (c == NULL)
			goto oom;
		r->c = c;
		memset(&c[r->nc], 0, sizeof c[0]);
		c[r->nc].index = (int)k;
		c[r->nc].row = row;
		r->nc++;
	}
	for (j = 0; j < n; j++) {
		r = &v[j];
		if (r->nc > 0)	/* a receiver without rows has no array */
			qsort(r->c, (size_t)r->nc, sizeof r->c[0], chunk_cmp);
		for (l = 0; l < r->nc; l++) {
			struct chunk *c = &r->c[l];
			dataset_chunk_key(id, c->index, r->websdr, key,
			    sizeof key);
			snprintf(path, sizeof path, "%s/%s", dataset_dir(ds),
			    key);
			if (access(path, F_OK) != 0 && errno == ENOENT) {
				/* a row without its file: a gap, said */
				snprintf(e2, sizeof e2, "receiver %d chunk %d: "
				    "its measurement row has no chunk file "
				    "(%s): exported as a gap", r->websdr,
				    c->index, key);
				json_array_append_new(warnings,
				    json_string(e2));
				continue;
			}
			if ((f = npy_open(path, &dt, &c->n, err, errlen)) ==
			    NULL)
				goto fail;
			fclose(f);
			if (jint(c->row, "iq_samples_count", 0, LONG_MAX,
			    &cnt) == 0 && (size_t)cnt != c->n) {
				snprintf(err, errlen, "%s holds %zu samples, its "
				    "measurement row says %ld", path, c->n, cnt);
				goto fail;
			}
			if (r->samples > 0 && dt != r->dtype) {
				snprintf(err, errlen, "receiver %d mixes complex "
				    "and real chunks (%s)", r->websdr, key);
				goto fail;
			}
			r->dtype = dt;
			c->present = 1;
			r->samples += c->n;
		}
		r->rate = measured_rate(r);
	}
	*out = v;
	*nout = n;
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	for (j = 0; j < n; j++)
		free(v[j].c);
	free(v);
	return -1;
}

static json_t *
collection(struct dataset *ds, const json_t *manifest, const json_t *sess,
    const json_t *streams, const struct rx *v, int n)
{
	json_t		*c, *s, *rxs, *o;
	const json_t	*fx;
	const char	*sid = jstr(sess, "known_source_id");
	struct source	 src;
	char		 desc[1024];
	size_t		 i;
	int		 j;
	static const char *keys[] = { "id", "session_name", "frequency_hz",
	    "duration_seconds", "status", "session_start", "session_end",
	    "notes", "failure_reason", "passband_low_hz", "passband_high_hz",
	    "group_id", "recorder_host", NULL };

	snprintf(desc, sizeof desc, "heimdall-rec session \"%s\" (%s): one "
	    "recording per receiver", jstr(sess, "session_name") != NULL ?
	    jstr(sess, "session_name") : "", jstr(sess, "id") != NULL ?
	    jstr(sess, "id") : "");
	c = json_object();
	json_object_set_new(c, "core:version",
	    json_string(SIGMF_CORE_VERSION));
	json_object_set_new(c, "core:description", json_string(desc));
	json_object_set_new(c, "core:extensions", extensions());
	json_object_set_new(c, "core:streams", json_deep_copy(streams));
	s = json_object();
	for (j = 0; keys[j] != NULL; j++) {
		const json_t *x = json_object_get(sess, keys[j]);
		if (x != NULL && !json_is_null(x))
			json_object_set_new(s, keys[j], json_deep_copy(x));
	}
	json_object_set_new(c, SIGMF_NS ":session", s);
	/* The transmitter: a known source with its position when it has
	 * one (sources.json), or just the name the session recorded. */
	o = json_object();
	if (sid != NULL && dataset_source_find(ds, sid, &src) == 0) {
		json_object_set_new(o, "id", json_string(src.id));
		json_object_set_new(o, "name", json_string(src.name));
		if (src.frequency_hz > 0)
			json_object_set_new(o, "frequency_hz",
			    json_real(src.frequency_hz));
		if (src.has_coords) {
			json_object_set_new(o, "latitude",
			    json_real(src.latitude));
			json_object_set_new(o, "longitude",
			    json_real(src.longitude));
		}
	} else if (jstr(sess, "source_name") != NULL)
		json_object_set_new(o, "name",
		    json_string(jstr(sess, "source_name")));
	json_object_set_new(c, SIGMF_NS ":source", o);
	json_array_foreach(json_object_get(manifest, "fixes"), i, fx) {
		if (json_is_true(json_object_get(fx, "final"))) {
			o = json_deep_copy(fx);
			json_object_del(o, "session_id");
			json_object_set_new(c, SIGMF_NS ":fix", o);
		}
	}
	rxs = json_array();
	for (j = 0; j < n; j++) {
		o = json_pack("{s:i}", "websdr", v[j].websdr);
		if (v[j].name != NULL)
			json_object_set_new(o, "name", json_string(v[j].name));
		if (v[j].station != NULL) {
			copy_field(o, "type", v[j].station, "type");
			copy_field(o, "latitude", v[j].station, "latitude");
			copy_field(o, "longitude", v[j].station, "longitude");
			if (!isnan(dataset_station_altitude(v[j].station)))
				copy_field(o, "altitude", v[j].station,
				    "altitude");
		}
		json_array_append_new(rxs, o);
	}
	json_object_set_new(c, SIGMF_NS ":receivers", rxs);
	return json_pack("{s:o}", "collection", c);
}

json_t *
sigmf_export(struct dataset *ds, const char *id, const struct sigmf_opts *o,
    char *err, size_t errlen)
{
	struct sink	 sk;
	struct rx	*v = NULL;
	json_t		*manifest = NULL, *res = NULL, *recs, *warnings,
			*streams, *meta, *coll, *rec, *without;
	const json_t	*sess;
	const char	*st;
	char		 why[512], base[128], dir[4096], leaf[256], tmp[4096],
			 final[4096], hash[129], *text = NULL, *buf = NULL;
	long		 expected = 0;
	int		 n = 0, j, l, ncap, ngaps, ok = 0, e = EIO;

	memset(&sk, 0, sizeof sk);
	sk.fd = -1;
	recs = json_array();
	warnings = json_array();
	streams = json_array();
	without = json_array();
	sk.written = json_array();
	if (id == NULL || !util_is_uuid(id)) {
		snprintf(err, errlen, "session %s: not a session id",
		    id != NULL ? id : "(null)");
		goto out;
	}
	why[0] = '\0';
	switch (dataset_session_check(ds, id, why, sizeof why)) {
	case 0:
		break;
	case 1:
		snprintf(err, errlen, "no session %s in %s", id,
		    dataset_dir(ds));
		e = ENOENT;
		goto out;
	default:
		snprintf(err, errlen, "session %s: %s", id, why);
		goto out;
	}
	if ((manifest = dataset_session_load(ds, id, why, sizeof why)) ==
	    NULL) {
		snprintf(err, errlen, "session %s: %s", id, why);
		goto out;
	}
	sess = json_object_get(manifest, "session");
	st = jstr(sess, "status");
	if (st == NULL || (strcmp(st, "completed") != 0 &&
	    strcmp(st, "failed") != 0)) {
		snprintf(err, errlen, "session %s is %s: export it once it has "
		    "ended (completed or failed)", id, st != NULL ? st :
		    "without a status");
		e = EBUSY;
		goto out;
	}
	/* The chunks a receiver should have: duration over the chunk
	 * length (the manifest's; 1000 ms when it predates the field). */
	expected = (long)dataset_session_total_chunks(sess);
	if (expected < 1 || expected > SIGMF_MAX_CHUNKS)
		expected = 0;
	if (collect(ds, id, manifest, &v, &n, warnings, err, errlen) != 0)
		goto out;
	sigmf_base_name(jstr(sess, "session_name"), id, base, sizeof base);
	snprintf(sk.base, sizeof sk.base, "%s", base);
	if (util_mkdirs(o->out_dir, why, sizeof why) != 0) {
		snprintf(err, errlen, "cannot create %s: %s", o->out_dir, why);
		goto out;
	}
	if (o->archive) {
		if (lazyarchive_load(why, sizeof why) != 0) {
			snprintf(err, errlen, "--archive: %s", why);
			goto out;
		}
		snprintf(final, sizeof final, "%s/%s.sigmf", o->out_dir, base);
		snprintf(tmp, sizeof tmp, "%s/.%s.sigmf.tmp.%ld", o->out_dir,
		    base, (long)getpid());
		if ((sk.ar = archive_write_new()) == NULL ||
		    archive_write_set_format_pax_restricted(sk.ar) !=
		    ARCHIVE_OK || archive_write_open_filename(sk.ar, tmp) !=
		    ARCHIVE_OK) {
			snprintf(err, errlen, "cannot create %s: %s", tmp,
			    sk.ar != NULL ? archive_error_string(sk.ar) :
			    "out of memory");
			goto out;
		}
	} else {
		snprintf(dir, sizeof dir, "%s/%s", o->out_dir, base);
		if (util_mkdirs(dir, why, sizeof why) != 0) {
			snprintf(err, errlen, "cannot create %s: %s", dir, why);
			goto out;
		}
		sk.dir = dir;
	}
	if ((buf = malloc(COPY_BLOCK)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (j = 0; j < n; j++) {
		struct rx *r = &v[j];
		if (r->samples == 0) {
			json_array_append_new(without, json_integer(r->websdr));
			continue;
		}
		meta = recording_meta(manifest, sess, r, (int)expected,
		    &ngaps);
		text = util_json_dumps(meta, JSON_INDENT(1) |
		    JSON_PRESERVE_ORDER);
		json_decref(meta);
		if (text == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		snprintf(leaf, sizeof leaf, "%s-websdr%d.sigmf-meta", base,
		    r->websdr);
		if (sink_file(&sk, leaf, text, err, errlen) != 0)
			goto out;
		sha512_hex(text, hash);
		free(text);
		text = NULL;
		snprintf(leaf, sizeof leaf, "%s-websdr%d", base, r->websdr);
		json_array_append_new(streams, json_pack("{s:s, s:s}", "name",
		    leaf, "hash", hash));
		snprintf(leaf, sizeof leaf, "%s-websdr%d.sigmf-data", base,
		    r->websdr);
		if (sink_begin(&sk, leaf, (int64_t)(r->samples * (r->dtype ==
		    NPY_C8 ? 8 : 4)), err, errlen) != 0)
			goto out;
		if (copy_samples(ds, id, r, &sk, buf, err, errlen) != 0 ||
		    sink_end(&sk, err, errlen) != 0) {
			sink_abort(&sk);
			goto out;
		}
		ncap = 0;
		for (l = 0; l < r->nc; l++)
			ncap += r->c[l].present;
		rec = json_pack("{s:i, s:s, s:s, s:I, s:i, s:i, s:f}", "websdr",
		    r->websdr, "station", r->name != NULL ? r->name : "",
		    "datatype", r->dtype == NPY_C8 ? "cf32_le" : "rf32_le",
		    "samples", (json_int_t)r->samples, "captures", ncap, "gaps",
		    ngaps, "sample_rate", r->rate);
		if (!o->archive) {
			char p[4096];
			snprintf(p, sizeof p, "%s/%s-websdr%d.sigmf-meta", dir,
			    base, r->websdr);
			json_object_set_new(rec, "meta", json_string(p));
			snprintf(p, sizeof p, "%s/%s-websdr%d.sigmf-data", dir,
			    base, r->websdr);
			json_object_set_new(rec, "data", json_string(p));
		} else {
			char p[512];
			snprintf(p, sizeof p, "%s/%s-websdr%d.sigmf-meta", base,
			    base, r->websdr);
			json_object_set_new(rec, "meta", json_string(p));
			snprintf(p, sizeof p, "%s/%s-websdr%d.sigmf-data", base,
			    base, r->websdr);
			json_object_set_new(rec, "data", json_string(p));
		}
		json_array_append_new(recs, rec);
	}
	if (json_array_size(recs) == 0) {
		snprintf(err, errlen, "session %s has no stored chunk: nothing "
		    "to export", id);
		e = ENODATA;
		goto out;
	}
	coll = collection(ds, manifest, sess, streams, v, n);
	text = util_json_dumps(coll, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(coll);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	snprintf(leaf, sizeof leaf, "%s.sigmf-collection", base);
	if (sink_file(&sk, leaf, text, err, errlen) != 0)
		goto out;
	if (sk.ar != NULL) {
		if (archive_write_close(sk.ar) != ARCHIVE_OK) {
			snprintf(err, errlen, "cannot write %s: %s", tmp,
			    archive_error_string(sk.ar));
			goto out;
		}
		if (rename(tmp, final) != 0) {
			snprintf(err, errlen, "cannot rename %s: %s", tmp,
			    strerror(errno));
			goto out;
		}
	}
	res = json_pack("{s:s, s:s, s:s}", "format", "sigmf", "session_id",
	    id, "base", base);
	if (sk.ar != NULL) {
		json_object_set_new(res, "archive", json_string(final));
		snprintf(tmp, sizeof tmp, "%s/%s.sigmf-collection", base, base);
	} else {
		json_object_set_new(res, "dir", json_string(dir));
		snprintf(tmp, sizeof tmp, "%s/%s.sigmf-collection", dir, base);
	}
	json_object_set_new(res, "collection", json_string(tmp));
	json_object_set(res, "recordings", recs);
	json_object_set(res, "receivers_without_data", without);
	json_object_set(res, "warnings", warnings);
	ok = 1;
out:
	if (sk.ar != NULL) {
		if (!ok) {
			archive_write_fail(sk.ar);
			archive_write_free(sk.ar);
			unlink(tmp);
		} else
			archive_write_free(sk.ar);
	}
	if (!ok) {
		/* no half export: the files of this run go too */
		size_t i;
		json_t *p;
		json_array_foreach(sk.written, i, p)
			unlink(json_string_value(p));
	}
	for (j = 0; j < n; j++)
		free(v[j].c);
	free(v);
	free(text);
	free(buf);
	json_decref(manifest);
	json_decref(recs);
	json_decref(warnings);
	json_decref(streams);
	json_decref(without);
	json_decref(sk.written);
	if (res == NULL)
		errno = e;
	return res;
}
