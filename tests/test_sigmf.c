/* test_sigmf.c -- store/sigmf: a session built with the dataset's own API, exported; bytes, captures, gaps, errors, the tar. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/base/npy.h"
#include "src/base/util.h"
#include "store/dataset.h"
#include "store/sigmf.h"

#define ID	"0b5e1d2c-3f4a-4b6c-8d9e-0f1a2b3c4d5e"
#define N0	1000	/* samples of chunk k: N0 + k (all different) */

static char	dir[64], out[128];

static json_t *
manifest(const char *status)
{
	return json_pack("{s:s, s:{s:s, s:s, s:s, s:i, s:s, s:i, s:i, s:i, "
	    "s:s}, s:[{s:i, s:s, s:s, s:f, s:f}, {s:i, s:s, s:s, s:f, s:f}, "
	    "{s:i, s:s, s:s}], s:[{s:i, s:i, s:s}]}",
	    "format", "heimdall-rec/1",
	    "session", "id", ID, "session_name", "Gap / test #1", "status",
	    status, "duration_seconds", 5, "session_start",
	    "2026-11-24T10:00:00.000000Z", "frequency_hz", 7000000,
	    "passband_low_hz", -5000, "passband_high_hz", 5000,
	    "source_name", "Unknown",
	    "stations",
	    "websdr", 1, "name", "Kiwi", "type", "kiwisdr", "latitude", 45.5,
	    "longitude", 7.25,
	    "websdr", 2, "name", "Owrx", "type", "openwebrx", "latitude",
	    -33.5, "longitude", -70.75,
	    "websdr", 3, "name", "Silent", "type", "kiwisdr",
	    "missing", "chunk_index", 2, "websdr", 1, "reason",
	    "no frame for 2 s");
}

static json_t *
row(int k, int w, int audio)
{
	char	 key[256];
	json_t	*r;

	dataset_chunk_key(ID, k, w, key, sizeof key);
	r = json_pack("{s:s, s:i, s:i, s:s, s:i, s:s, s:i, s:f, s:f, s:f, "
	    "s:s, s:f}", "recording_session_id", ID, "chunk_index", k,
	    "websdr", w, "iq_data_location", key, "iq_samples_count", N0 + k,
	    "id", "11111111-2222-4333-8444-555555555555", "frequency_hz",
	    7000000, "snr_db", 20.5 + k, "noise_floor_db", -60.25,
	    "frequency_offset_hz", 1500.125, "timestamp",
	    "2026-11-24T10:00:01.250000Z", "iq_sample_rate", 12000.0);
	if (audio) {
		json_object_set_new(r, "iq_data_format", json_string("float32"));
		json_object_set_new(r, "time_source", json_string("none"));
	} else {
		json_object_set_new(r, "iq_data_format",
		    json_string("complex64"));
		json_object_set_new(r, "time_source", json_string("gps"));
		/* 2026-11-24T10:00:0k.123456789Z */
		json_object_set_new(r, "t0_ns", json_integer(
		    1795514400000000000LL + k * 1000000000LL + 123456789));
		json_object_set_new(r, "sample_rate_hz",
		    json_real(12001.25 + k));
		json_object_set_new(r, "rssi_dbm", json_null());
	}
	return r;
}

static void
put(struct dataset *ds, int k, int w, int audio)
{
	int16_t		*iq = malloc(2 * (N0 + k) * sizeof *iq);
	struct ds_chunk	 c = { k, w, iq, N0 + k, -1, 0 };
	json_t		*rows = json_pack("[o]", row(k, w, audio));
	char		 err[512];
	int		 i;

	for (i = 0; i < 2 * (N0 + k); i++)
		iq[i] = (int16_t)(audio && (i & 1) ? 0 : (i * 37 + k * 1000 +
		    w * 7) % 65536 - 32768);
	if (dataset_put_batch(ds, ID, &c, 1, rows, err, sizeof err) != 0)
		fail_msg("%s", err);
	json_decref(rows);
	free(iq);
}

static int
setup(void **state)
{
	struct dataset	*ds;
	json_t		*m;
	char		 err[512];

	snprintf(dir, sizeof dir, "/tmp/test_sigmf.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof out, "%s/out", dir);
	ds = dataset_open(dir, err, sizeof err);
	assert_non_null(ds);
	m = manifest("in_progress");
	assert_int_equal(dataset_session_create(ds, ID, m, err, sizeof err),
	    0);
	/* receiver 1: chunks 0, 1, 3 (2 and 4 missing); receiver 2 (audio):
	 * 1..4 (0 missing); receiver 3: nothing */
	put(ds, 0, 1, 0);
	put(ds, 1, 1, 0);
	put(ds, 3, 1, 0);
	for (int k = 1; k < 5; k++)
		put(ds, k, 2, 1);
	json_decref(m);
	*state = ds;
	return 0;
}

static int
teardown(void **state)
{
	char	cmd[128];

	dataset_close(*state);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd);
}

static void
finish(struct dataset *ds)
{
	json_t	*m = manifest("completed");
	char	 err[512];

	assert_int_equal(dataset_session_finish(ds, ID, m, err, sizeof err),
	    0);
	json_decref(m);
}

static char *
slurp(const char *path, size_t *len)
{
	char	err[256], *s = util_read_file(path, 1 << 26, len, err,
		    sizeof err);

	if (s == NULL)
		fail_msg("%s", err);
	return s;
}

/* The samples of chunk k of websdr w, as the .npy holds them. */
static char *
chunk_bytes(int k, int w, size_t *len)
{
	char		 key[256], path[512], *b;
	enum npy_dtype	 dt;
	size_t		 n;
	FILE		*f;

	dataset_chunk_key(ID, k, w, key, sizeof key);
	snprintf(path, sizeof path, "%s/%s", dir, key);
	f = npy_open(path, &dt, &n, key, sizeof key);
	assert_non_null(f);
	*len = n * (dt == NPY_C8 ? 8 : 4);
	b = malloc(*len);
	assert_int_equal(fread(b, 1, *len, f), *len);
	fclose(f);
	return b;
}

static json_t *
load_meta(const char *base, int w)
{
	char		 path[512];
	json_error_t	 je;
	json_t		*m;

	snprintf(path, sizeof path, "%s/%s/%s-websdr%d.sigmf-meta", out, base,
	    base, w);
	m = json_load_file(path, 0, &je);
	if (m == NULL)
		fail_msg("%s: %s", path, je.text);
	return m;
}

static void
test_base_name(void **state)
{
	char	b[128];

	(void)state;
	sigmf_base_name("Gap / test #1", ID, b, sizeof b);
	assert_string_equal(b, "Gap-test-1-0b5e1d2c");
	sigmf_base_name("../..", ID, b, sizeof b);
	assert_string_equal(b, "session-0b5e1d2c");
	sigmf_base_name(NULL, ID, b, sizeof b);
	assert_string_equal(b, "session-0b5e1d2c");
	sigmf_base_name("Torino \xc3\xa8 bello", ID, b, sizeof b);
	assert_string_equal(b, "Torino-bello-0b5e1d2c");
	sigmf_base_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    ID, b, sizeof b);
	assert_int_equal(strlen(b), 40 + 9);
}

static void
test_refusals(void **state)
{
	struct dataset		*ds = *state;
	struct sigmf_opts	 o = { .out_dir = out };
	char			 err[1024];

	/* still being recorded */
	assert_null(sigmf_export(ds, ID, &o, err, sizeof err));
	assert_int_equal(errno, EBUSY);
	assert_non_null(strstr(err, "in_progress"));
	assert_null(sigmf_export(ds, "0b5e1d2c-3f4a-4b6c-8d9e-000000000000",
	    &o, err, sizeof err));
	assert_int_equal(errno, ENOENT);
	assert_null(sigmf_export(ds, "../../etc", &o, err, sizeof err));
	assert_non_null(strstr(err, "not a session id"));
	/* nothing was written */
	assert_int_not_equal(access(out, F_OK), 0);
}

static void
test_export(void **state)
{
	struct dataset		*ds = *state;
	struct sigmf_opts	 o = { .out_dir = out };
	char			 err[1024], path[512], *data, *c;
	const char		*base = "Gap-test-1-0b5e1d2c";
	json_t			*res, *m, *caps, *anns, *a, *g;
	size_t			 len, clen, off, i;
	int			 ks[] = { 0, 1, 3 }, j;

	finish(ds);
	res = sigmf_export(ds, ID, &o, err, sizeof err);
	if (res == NULL)
		fail_msg("%s", err);
	assert_string_equal(json_string_value(json_object_get(res, "base")),
	    base);
	assert_int_equal(json_array_size(json_object_get(res, "recordings")),
	    2);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(res,
	    "receivers_without_data"), 0)), 3);
	json_decref(res);

	/* receiver 1: the data file is chunks 0, 1, 3 back to back */
	snprintf(path, sizeof path, "%s/%s/%s-websdr1.sigmf-data", out, base,
	    base);
	data = slurp(path, &len);
	off = 0;
	for (j = 0; j < 3; j++) {
		c = chunk_bytes(ks[j], 1, &clen);
		assert_true(off + clen <= len);
		assert_memory_equal(data + off, c, clen);
		off += clen;
		free(c);
	}
	assert_int_equal(off, len);
	free(data);

	m = load_meta(base, 1);
	g = json_object_get(m, "global");
	assert_string_equal(json_string_value(json_object_get(g,
	    "core:datatype")), "cf32_le");
	assert_string_equal(json_string_value(json_object_get(g,
	    "core:version")), SIGMF_CORE_VERSION);
	/* the last chunk's GPS fit, not the nominal rate */
	assert_true(json_real_value(json_object_get(g, "core:sample_rate")) ==
	    12004.25);
	a = json_object_get(json_object_get(g, "core:geolocation"),
	    "coordinates");
	assert_true(json_real_value(json_array_get(a, 0)) == 7.25);
	assert_true(json_real_value(json_array_get(a, 1)) == 45.5);
	caps = json_object_get(m, "captures");
	assert_int_equal(json_array_size(caps), 3);
	off = 0;
	for (j = 0; j < 3; j++) {
		json_t *cp = json_array_get(caps, (size_t)j);
		char want[64];
		assert_int_equal(json_integer_value(json_object_get(cp,
		    "core:sample_start")), off);
		assert_int_equal(json_integer_value(json_object_get(cp,
		    "heimdall:chunk_index")), ks[j]);
		snprintf(want, sizeof want, "2026-11-24T10:00:0%d.123456789Z",
		    ks[j]);
		assert_string_equal(json_string_value(json_object_get(cp,
		    "core:datetime")), want);
		assert_true(json_real_value(json_object_get(cp,
		    "core:frequency")) == 7e6);
		off += N0 + (size_t)ks[j];
	}
	/* annotations: chunk 0, chunk 1, the gap (chunk 2) with chunk 3 at
	 * the same sample, and the trailing gap (chunk 4) at the end */
	anns = json_object_get(m, "annotations");
	assert_int_equal(json_array_size(anns), 5);
	{
		int gaps = 0, chunks = 0;
		json_array_foreach(anns, i, a) {
			const char *l = json_string_value(json_object_get(a,
			    "core:label"));
			json_int_t s = json_integer_value(json_object_get(a,
			    "core:sample_start"));
			if (strncmp(l, "gap", 3) == 0) {
				json_t *mk = json_object_get(a,
				    "heimdall:missing_chunks");
				assert_int_equal(json_array_size(mk), 1);
				assert_int_equal(json_integer_value(
				    json_object_get(a, "core:sample_count")), 0);
				if (json_integer_value(json_array_get(mk, 0)) ==
				    2) {
					assert_int_equal(s, 2 * N0 + 1);
					assert_non_null(strstr(json_string_value(
					    json_object_get(a, "core:comment")),
					    "no frame for 2 s"));
				} else {
					assert_int_equal(json_integer_value(
					    json_array_get(mk, 0)), 4);
					assert_int_equal(s, 3 * N0 + 4);
				}
				gaps++;
			} else {
				chunks++;
				assert_true(json_real_value(json_object_get(a,
				    "heimdall:frequency_offset_hz")) ==
				    1500.125);
				/* a null metric is left out, not written
				 * as null */
				assert_null(json_object_get(a,
				    "heimdall:rssi_dbm"));
				assert_true(json_real_value(json_object_get(a,
				    "core:freq_lower_edge")) == 6995000.0);
			}
		}
		assert_int_equal(gaps, 2);
		assert_int_equal(chunks, 3);
	}
	json_decref(m);

	/* receiver 2: audio, rf32_le, a leading gap */
	m = load_meta(base, 2);
	g = json_object_get(m, "global");
	assert_string_equal(json_string_value(json_object_get(g,
	    "core:datatype")), "rf32_le");
	assert_true(json_real_value(json_object_get(g, "core:sample_rate")) ==
	    12000.0);
	a = json_array_get(json_object_get(m, "annotations"), 0);
	assert_string_equal(json_string_value(json_object_get(a,
	    "core:label")), "gap: chunk 0");
	assert_int_equal(json_integer_value(json_object_get(a,
	    "core:sample_start")), 0);
	/* no GPS: the row's timestamp */
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(m, "captures"), 0), "core:datetime")),
	    "2026-11-24T10:00:01.250000Z");
	json_decref(m);
	snprintf(path, sizeof path, "%s/%s/%s-websdr2.sigmf-data", out, base,
	    base);
	data = slurp(path, &len);
	off = 0;
	for (j = 1; j < 5; j++) {
		c = chunk_bytes(j, 2, &clen);
		assert_memory_equal(data + off, c, clen);
		off += clen;
		free(c);
	}
	assert_int_equal(off, len);
	free(data);
	/* no recording for receiver 3, and no temporaries */
	snprintf(path, sizeof path, "%s/%s/%s-websdr3.sigmf-meta", out, base,
	    base);
	assert_int_not_equal(access(path, F_OK), 0);
	{
		char cmd[512];
		snprintf(cmd, sizeof cmd, "test $(ls -A %s/%s | wc -l) -eq 5",
		    out, base);
		assert_int_equal(system(cmd), 0);
	}
}

/* Walk a tar: each member's name and bytes equal the loose export's. */
static void
test_archive(void **state)
{
	struct dataset		*ds = *state;
	struct sigmf_opts	 o = { .out_dir = out, .archive = 1 };
	const char		*base = "Gap-test-1-0b5e1d2c";
	char			 err[1024], path[512], *tar, *loose;
	json_t			*res;
	size_t			 len, llen, off = 0;
	int			 members = 0;

	res = sigmf_export(ds, ID, &o, err, sizeof err);
	if (res == NULL)
		fail_msg("%s", err);
	json_decref(res);
	snprintf(path, sizeof path, "%s/%s.sigmf", out, base);
	tar = slurp(path, &len);
	while (off + 512 <= len && tar[off] != '\0') {
		char name[256], size[13];
		size_t sz;
		assert_memory_equal(tar + off + 257, "ustar", 5);
		snprintf(name, sizeof name, "%.100s", tar + off);
		memcpy(size, tar + off + 124, 12);
		size[12] = '\0';
		sz = strtoull(size, NULL, 8);
		assert_int_equal(strncmp(name, base, strlen(base)), 0);
		assert_int_equal(name[strlen(base)], '/');
		snprintf(path, sizeof path, "%s/%s", out, name);
		loose = slurp(path, &llen);
		assert_int_equal(sz, llen);
		assert_memory_equal(tar + off + 512, loose, llen);
		free(loose);
		off += 512 + (sz + 511) / 512 * 512;
		members++;
	}
	assert_int_equal(members, 5);
	free(tar);
}

/* A damaged chunk: the export fails naming it and leaves no file. A row
 * whose chunk file is gone is a gap, said in the warnings. */
static void
test_damaged(void **state)
{
	struct dataset		*ds = *state;
	struct sigmf_opts	 o;
	char			 err[1024], key[256], path[512], out2[160],
				 cmd[600];
	json_t			*res, *m;

	snprintf(out2, sizeof out2, "%s/out2", dir);
	o.out_dir = out2;
	o.archive = 0;
	dataset_chunk_key(ID, 1, 1, key, sizeof key);
	snprintf(path, sizeof path, "%s/%s", dir, key);
	assert_int_equal(truncate(path, 200), 0);
	assert_null(sigmf_export(ds, ID, &o, err, sizeof err));
	assert_int_equal(errno, EIO);
	assert_non_null(strstr(err, "chunk_001_websdr_1.npy"));
	snprintf(cmd, sizeof cmd, "test -z \"$(find %s -type f)\"", out2);
	assert_int_equal(system(cmd), 0);
	o.archive = 1;
	assert_null(sigmf_export(ds, ID, &o, err, sizeof err));
	assert_int_equal(system(cmd), 0);
	o.archive = 0;
	unlink(path);
	res = sigmf_export(ds, ID, &o, err, sizeof err);
	if (res == NULL)
		fail_msg("%s", err);
	assert_non_null(strstr(json_string_value(json_array_get(
	    json_object_get(res, "warnings"), 0)), "receiver 1 chunk 1"));
	json_decref(res);
	snprintf(out, sizeof out, "%s", out2);
	m = load_meta("Gap-test-1-0b5e1d2c", 1);
	assert_int_equal(json_array_size(json_object_get(m, "captures")), 2);
	json_decref(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_name),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_archive),
		cmocka_unit_test(test_damaged),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
