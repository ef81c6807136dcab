/* bench_pgstore.c -- rows per second into PostgreSQL through pgstore, the way the live replicator writes them: one pgstore_put_rows (COPY into the staging table, INSERT ... ON CONFLICT, one transaction) per chunk for every receiver. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "src/base/util.h"
#include "store/dataset.h"
#include "store/pgstore.h"

/*
 * usage: bench_pgstore CONNINFO [STATIONS [CHUNKS [RUNS]]]
 * Prints one line per run and the median rows/s (each run a new session:
 * 200 stations x 30 chunks = 6000 rows by default).
 */

static int
cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct pgstore	*pg;
	char		 err[1024], sid[UTIL_UUID_LEN], rid[UTIL_UUID_LEN];
	char		 ts[40], key[128], name[64];
	int		 nst = argc > 2 ? atoi(argv[2]) : 200;
	int		 nch = argc > 3 ? atoi(argv[3]) : 30;
	int		 runs = argc > 4 ? atoi(argv[4]) : 5;
	double		*rate, t0, t, now;
	int		 run, k, s, n;
	json_t		*ses, *stations, *rows, *src;

	if (argc < 2 || nst < 1 || nch < 1 || runs < 1) {
		fprintf(stderr, "usage: bench_pgstore CONNINFO [STATIONS [CHUNKS "
		    "[RUNS]]]\n");
		return 64;
	}
	if ((pg = pgstore_connect(argv[1], err, sizeof err)) == NULL ||
	    pgstore_migrate(pg, NULL, err, sizeof err) != 0) {
		fprintf(stderr, "bench_pgstore: %s\n", err);
		return 69;
	}
	rate = calloc((size_t)runs, sizeof *rate);
	stations = json_array();
	for (s = 1; s <= nst; s++) {
		snprintf(name, sizeof name, "Bench %d", s);
		json_array_append_new(stations, json_pack("{s:i, s:s, s:s, s:s, "
		    "s:f, s:f}", "websdr", s, "name", name, "type", "kiwisdr",
		    "url", "http://127.0.0.1:8073", "latitude", 45.0,
		    "longitude", 7.6));
	}
	src = json_pack("{s:s}", "name", "Unknown");
	for (run = 0; run < runs; run++) {
		util_uuid(sid);
		now = util_now();
		util_iso8601(now, ts, sizeof ts);
		ses = json_pack("{s:s, s:s, s:i, s:i, s:s, s:s, s:s}", "id", sid,
		    "session_name", "bench", "frequency_hz", 145000000,
		    "duration_seconds", nch, "status", "in_progress",
		    "session_start", ts, "created_at", ts);
		if (pgstore_put_session(pg, ses, src, stations, err,
		    sizeof err) != 0) {
			fprintf(stderr, "bench_pgstore: %s\n", err);
			return 69;
		}
		t = 0;
		for (k = 0; k < nch; k++) {
			/* a chunk's rows, built before the clock starts */
			rows = json_array();
			util_iso8601(now + k, ts, sizeof ts);
			for (s = 1; s <= nst; s++) {
				util_uuid(rid);
				snprintf(name, sizeof name, "Bench %d", s);
				dataset_chunk_key(sid, k, s, key, sizeof key);
				json_array_append_new(rows, json_pack("{s:s, s:s, "
				    "s:i, s:s, s:i, s:s, s:i, s:f, s:f, s:f, "
				    "s:f, s:f, s:f, s:i, s:i, s:s, s:i, s:s, "
				    "s:s, s:f, s:i, s:f, s:s}",
				    "id", rid, "recording_session_id", sid,
				    "websdr", s, "websdr_station_name", name,
				    "chunk_index", k, "timestamp", ts,
				    "frequency_hz", 145000000,
				    "signal_strength_db", -20.5, "snr_db", 20.1,
				    "frequency_offset_hz", 750.0,
				    "noise_floor_db", -40.9, "rssi_dbm", -50.8,
				    "peak_amplitude", 0.11,
				    "adc_overflow_count", 0, "gps_fix_age_s", 1,
				    "time_source", "gps", "samples_lost", 0,
				    "iq_data_location", key,
				    "iq_data_format", "complex64",
				    "iq_sample_rate", 12001.135,
				    "iq_samples_count", 12001,
				    "duration_seconds", 1.0,
				    "created_at", ts));
			}
			t0 = util_mono();
			if (pgstore_put_rows(pg, rows, &n, err,
			    sizeof err) != 0 || n != nst) {
				fprintf(stderr, "bench_pgstore: %s (%d rows)\n",
				    err, n);
				return 69;
			}
			t += util_mono() - t0;
			json_decref(rows);
		}
		json_decref(ses);
		rate[run] = (double)nst * nch / t;
		printf("run %d: %d rows in %.3f s: %.0f rows/s (%.2f ms per "
		    "chunk of %d rows)\n", run + 1, nst * nch, t, rate[run],
		    t / nch * 1e3, nst);
	}
	qsort(rate, (size_t)runs, sizeof *rate, cmp);
	printf("median: %.0f rows/s (target >= 20000: %s)\n", rate[runs / 2],
	    rate[runs / 2] >= 20000 ? "met" : "NOT met");
	json_decref(stations);
	json_decref(src);
	free(rate);
	pgstore_close(pg);
	return 0;
}
