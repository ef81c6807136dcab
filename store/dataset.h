/*
 * dataset.h -- the embedded dataset store (the default; also the spool the
 * central-store replicator reads): a folder laid out like the object store.
 *
 *   DIR/sources.json                          known sources ("Unknown" always)
 *   DIR/sessions/<id>/manifest.json           session row, stations, summary,
 *                                             measurements (when final),
 *                                             tdoa and fixes (rows of
 *                                             src/engine/locate.h)
 *   DIR/sessions/<id>/rows/batch_NNNNNN.json  measurement rows written while
 *                                             recording (merged when final)
 *   DIR/sessions/<id>/rows/loc.jsonl          TDoA and fix rows, a line per
 *                                             chunk index and one for the
 *                                             session fix, appended as each
 *                                             is located (merged into tdoa
 *                                             and fixes)
 *   DIR/sessions/<id>/chunk_NNN_websdr_K.npy  complex64 samples (float32
 *                                             audio from audio receivers)
 *   DIR/sessions/<id>/.lock                   flock held while recording
 *
 * Every file is written to a temporary name, made durable and renamed, so a
 * kill -9 leaves no torn file; a failed write removes its temporary, and no
 * final session keeps one. rows/loc.jsonl alone is appended to: a kill -9
 * leaves whole lines and at most a torn last one, which readers skip.
 * dataset_open() marks sessions whose recorder died (not final, lock free)
 * as failed ("interrupted"), keeping every chunk whose row was written;
 * rebuilds sessions whose manifest is missing, empty, torn or not a
 * session's (lock free) from their rows files and chunk files: failed,
 * "manifest rebuilt from N chunks ...", the unusable file kept as
 * manifest.json.damaged, chunks without a row listed as "orphans"; and
 * removes stale temporaries. Every error names the session. Recovery decides
 * on the manifest read while holding the session's lock, so a recorder
 * finishing meanwhile wins; a final manifest (completed or failed) is never
 * rewritten: saves are refused once the session is finished.
 *
 * It keeps an index of the stored sessions (one listing row each), built
 * by the first listing and updated by every save, batch and finish of this
 * process, so listing never re-reads manifests; sessions other processes
 * create or write in the same folder are picked up by a listing at most a
 * second later. All functions are thread-safe.
 */
#ifndef DATASET_H
#define DATASET_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct dataset;

struct source {
	char	id[37];
	char	name[128];
	char	description[512];
	double	frequency_hz;		/* 0: unknown */
	double	latitude;
	double	longitude;
	int	has_coords;
	char	created_at[32];
};

/* One chunk to store: interleaved int16 I,Q, n complex samples, in iq,
 * or (iq NULL) at offset off of file fd (the recorder's spool: a chunk
 * written as it filled), read one chunk at a time. */
struct ds_chunk {
	int		 chunk_index;	/* 0-based */
	int		 websdr;	/* 1-based station index */
	const int16_t	*iq;
	size_t		 n;
	int		 fd;
	int64_t		 off;
};

/* Open (creating) DIR; recovers interrupted sessions. */
struct dataset	*dataset_open(const char *dir, char *err, size_t errlen);
/*
 * dataset_open, keeping the final manifests its recovery scan parses
 * anyway when keep(dir, id, ctx) says 1 (at most DS_KEEP_BYTES of manifest
 * files), for dataset_session_load to hand out instead of parsing the file
 * again: a command about to load them (sync) parses each manifest, a few
 * MB of JSON at 200 receivers x 30 s, once. A kept manifest is handed out
 * once, and only if the file is still the one parsed (same device, inode,
 * size and mtime); the rest are freed by dataset_close.
 */
#define DS_KEEP_BYTES	(64 * 1024 * 1024)
typedef int	(*dataset_keep_fn)(const char *dir, const char *id, void *ctx);
struct dataset	*dataset_open_keep(const char *dir, dataset_keep_fn keep,
		    void *ctx, char *err, size_t errlen);
void		 dataset_close(struct dataset *ds);
const char	*dataset_dir(const struct dataset *ds);

/* A chunk's file name, "chunk_NNN_websdr_K.npy": the one place it is
 * spelt. 0, or -1 if buf is too small. */
int		 dataset_chunk_leaf(int chunk_index, int websdr, char *buf,
		    size_t len);
/* "sessions/<id>/" and the leaf above -- the key used everywhere (rows'
 * iq_data_location, the object store). */
int		 dataset_chunk_key(const char *session_id, int chunk_index,
		    int websdr, char *buf, size_t len);
/* The chunk length (ms) of a manifest's "session" object: its chunk_ms,
 * 1000 for sessions recorded before it was kept (or a value out of
 * 1..60000); and its chunks per receiver: duration_seconds * 1000 /
 * chunk length, rounded down. The one reading of both for exports and
 * listings. */
int		 dataset_session_chunk_ms(const json_t *session);
long long	 dataset_session_total_chunks(const json_t *session);

/* --- known sources (sources.json, under an flock) --- */
/* *out malloc'd array, Unknown first. */
int		 dataset_sources_list(struct dataset *ds, struct source **out,
		    int *n, char *err, size_t errlen);
/* Add: fills s->id and s->created_at; a duplicate name is an error, so is
 * a name or description that is not valid UTF-8 or holds control
 * characters (C0 or C1; the description may hold tab/newline). */
int		 dataset_source_add(struct dataset *ds, struct source *s,
		    char *err, size_t errlen);
/* Find by UUID, by name (case-insensitive) or "unknown". 0, or -1. */
int		 dataset_source_find(struct dataset *ds, const char *key,
		    struct source *out);

/* --- sessions --- */
/* Create DIR/sessions/<id>/, take its lock, write manifest (borrowed). */
int		 dataset_session_create(struct dataset *ds, const char *id,
		    const json_t *manifest, char *err, size_t errlen);
/* Replace manifest.json (borrowed; its "measurements" key is ignored).
 * Only while this dataset holds the session open (create .. finish). */
int		 dataset_session_save(struct dataset *ds, const char *id,
		    const json_t *manifest, char *err, size_t errlen);
/*
 * Store a batch: every chunk's .npy, then one rows file holding rows (a JSON
 * array, borrowed), with one durability barrier for the whole batch. When it
 * returns 0 every chunk and row of the batch is durable. A chunk whose row
 * has "iq_data_format": "float32" is real audio: stored '<f4' from iq[2k].
 */
int		 dataset_put_batch(struct dataset *ds, const char *id,
		    const struct ds_chunk *chunks, int n, const json_t *rows,
		    char *err, size_t errlen);
/* The same with the rows file's text given: rows_text is
 * util_json_dumps(rows, JSON_COMPACT | JSON_PRESERVE_ORDER) (the caller
 * serialized the rows already, for their events); NULL: serialized here. */
int		 dataset_put_batch_text(struct dataset *ds, const char *id,
		    const struct ds_chunk *chunks, int n, const json_t *rows,
		    const char *rows_text, char *err, size_t errlen);
/*
 * The localization rows of chunk index chunk_index (-1: the session fix)
 * as soon as they are known (src/engine/locate.h): {"chunk": "NNNNNN" or
 * "final", "tdoa": tdoa (NULL: none), "fixes": fixes} appended as one line
 * to rows/loc.jsonl (a failed write cut off again), so that a recorder
 * killed later keeps them; durable with the session's next batch (its
 * barrier) or final manifest, not by a sync of their own. Merged into
 * the manifest's "tdoa" and "fixes" (each row once: TDoA by chunk and
 * pair, fixes by chunk or final) by dataset_session_load, finish and
 * recovery. Only while the session is open (create .. finish). Reals are
 * written with 15 significant digits (util_json_dumps_q: locate rounds
 * its reals to their resolution).
 */
int		 dataset_put_loc(struct dataset *ds, const char *id,
		    int chunk_index, const json_t *tdoa, const json_t *fixes,
		    char *err, size_t errlen);
/* Final: manifest.json with every row merged in ("measurements", and the
 * localization rows), rows/ removed, lock released (after every earlier
 * save of the session). */
int		 dataset_session_finish(struct dataset *ds, const char *id,
		    const json_t *manifest, char *err, size_t errlen);
/* Manifest with "measurements" (and "tdoa", "fixes") merged from rows
 * files (new reference). */
json_t		*dataset_session_load(struct dataset *ds, const char *id,
		    char *err, size_t errlen);
/*
 * The same for a reader that comes back as the session grows (the
 * replicator: a pass per batch): while the manifest is not final, the
 * rows files (rows/batch_*.json) named in taken (a JSON object) are not
 * read again, and those read now are added to it -- "measurements" holds
 * the rows of the files new since the last call with this taken, sorted;
 * a rows file is written once and never changed. A final manifest gives
 * every row, as dataset_session_load (taken untouched): the caller then
 * forgets taken. The localization rows are all merged, every time.
 */
json_t		*dataset_session_load_new(struct dataset *ds, const char *id,
		    json_t *taken, char *err, size_t errlen);
/*
 * Whether a session's manifest can be read: 0 yes; 1 no manifest and
 * nothing recorded (a session being created, or an empty folder); -1 it is
 * damaged (missing with chunks or rows left, empty, torn, not a session's),
 * why says so ("manifest.json is empty", ...).
 */
int		 dataset_session_check(struct dataset *ds, const char *id,
		    char *why, size_t len);
/* Array of {id, session_name, status, frequency_hz, duration_seconds,
 * session_start, chunks_expected, chunks_stored, chunks_missing,
 * failure_reason, chunk_files (chunk_*.npy files on disk), fix (the
 * session fix: the manifest's "fixes" row with final true, without its
 * session_id; absent before localization or in older manifests), rebuilt (when
 * the manifest was rebuilt: {at, reason, chunk_files, rows,
 * chunks_expected, damaged_file})}, newest first (by session_start, then
 * id), from the index (new reference; the rows are shared: read-only). A
 * session whose manifest is damaged and could not be rebuilt is listed
 * with status "damaged", "damaged": why, and nulls. */
json_t		*dataset_sessions_list(struct dataset *ds, char *err,
		    size_t errlen);
/*
 * One page of that list: the sessions after the one whose id is `before`
 * (NULL: from the newest), skipping offset more, at most limit of them
 * (*page: a new array). *total gets the number of sessions, *more 1 if
 * sessions follow the page. 0, or -1 with errno ENOENT (before is not a
 * stored session) or ENOMEM. The rows are the index's own, shared (read
 * them, never change them): a page costs its length in references,
 * whatever the number of sessions. The first listing builds the index
 * (reads every session's folder).
 */
int		 dataset_sessions_page(struct dataset *ds, const char *before,
		    size_t offset, size_t limit, json_t **page, size_t *total,
		    int *more);
/* The same page as compact JSON text "[{...},...]" (*len bytes, malloc'd),
 * copied from text the index keeps: what a server sends costs a memcpy.
 * NULL with errno ENOENT or ENOMEM. */
char		*dataset_sessions_page_text(struct dataset *ds,
		    const char *before, size_t offset, size_t limit,
		    size_t *len, size_t *total, int *more);

/*
 * A listener told (on the writing thread, after the data is durable) that a
 * session changed: what is "manifest", "batch" or "finish". The replicator
 * uses it to wake up; it must not block or call back into the dataset.
 * It runs under the dataset's lock: once dataset_set_listener() returns,
 * the previous listener is not running and will not be called again.
 */
typedef void (*dataset_listener_fn)(void *ctx, const char *session_id,
    const char *what);
void		 dataset_set_listener(struct dataset *ds,
		    dataset_listener_fn fn, void *ctx);

/* A manifest's stations entry's "altitude" (metres above the WGS84
 * ellipsoid, from the stations file: src/base/station.h): the number when
 * it is one within STATION_ALT_MIN..MAX, else NaN (absent: unknown; out of
 * range: a manifest not written by heimdall-rec is not trusted). */
double		 dataset_station_altitude(const json_t *station);

#endif
