/*
 * engine.h -- the recording engine: sessions, their state machine, and
 * acquisition (receivers -> chunker -> metrics -> dataset -> events).
 *
 * One engine per process serves every front-end (scripted runs, console,
 * WebSocket server); it knows none of them: it emits events on its bus
 * (events.h), with the WebSocket API's names:
 *   session:started          {session_id, session_name, status:"recording",
 *                             frequency_mhz, duration_seconds, notes}
 *   session:source_assigned  {session_id, source_id, source_name,
 *                             status:"source_assigned"}
 *   session:completed        {session_id, task_id, status:"in_progress",
 *                             chunks, queue_position}  -- acquisition
 *                             STARTED, or queued (queue_position >= 1)
 *   session:status_update    {session_id, status, ...} after every step
 *                             and queue move (an in_progress session has
 *                             queue_position: 0 acquiring, N >= 1 waiting,
 *                             1 = next); the last event of a session, with
 *                             status completed|failed, "error" (the failure
 *                             reason) and, once it acquired, "summary"
 *                             (with "io_error" when a storage error -- a
 *                             chunk, rows or the final manifest not
 *                             written -- ended it: failed, never completed)
 *   receiver:status          {session_id, websdr, station, state, reason}
 *   session:measurement      one measurement row (manifest column names)
 *   session:missing          {session_id, websdr, station, chunk_index,
 *                             reason}
 *   session:progress         {session_id, chunk (1-based), total_chunks,
 *                             progress 0-100, measurements_count:
 *                             the rows of chunks 1..chunk, paused_chunks:
 *                             the receivers' chunks of 1..chunk skipped
 *                             for a pause}
 *   session:paused           {session_id, chunk_index (the first chunk
 *                             the pause covers), at (UTC s, the session's
 *                             time line)}
 *   session:resumed          {session_id, chunk_index (the first chunk
 *                             stored again), at, pause_seconds}
 *   session:error            {session_id?, error, code, field}; code
 *                             "acquisition_failed" (error: the reason) is
 *                             sent once for an acquisition that ends
 *                             failed, before its last session:progress
 *   session:clock            {session_id, time_line:"gps", offset_s (GPS
 *                             time - host clock, the receivers' median),
 *                             trusted, gps_receivers, receivers:[{websdr,
 *                             station, offset_s}], message} -- once, when
 *                             the host is >= 0.5 s off GPS time or the GPS
 *                             receivers disagree
 *   session:tdoa             {session_id, chunk_index, pairs:[{websdr_a,
 *                             station_a, websdr_b, station_b, tdoa_us
 *                             (arrival at a minus at b), sigma_us, quality,
 *                             corr}], excluded:[{websdr, station, reason}]}
 *                             -- per chunk index, once every receiver's
 *                             chunk came or was given up (per-station
 *                             detail, like session:measurement)
 *   session:fix              {session_id, chunk_index | final:true, ok,
 *                             reason (when not ok), latitude, longitude
 *                             (deg; null without a fix), ellipse:
 *                             {semi_major_m, semi_minor_m, orientation_deg},
 *                             cep50_m, cep95_m, receivers:[websdr],
 *                             pairs_used, pairs_rejected (TDoA pairs),
 *                             the session fix also chunks_used,
 *                             chunks_rejected (chunk fixes); with a known
 *                             source that has coordinates: error_m,
 *                             residuals:[{websdr, station, residual_us}],
 *                             worst:{websdr, station, residual_us}} -- per
 *                             chunk index after its session:tdoa, and the
 *                             session fix ("final") before the session's
 *                             last status_update (locate.h; its summary
 *                             holds it as "fix")
 *
 * Sessions that wait for their next step (recording, source_assigned) and
 * get no engine_session_assign/acquire call (refused ones count) for
 * idle_timeout seconds end failed, reason "abandoned: ...": the engine's
 * own timer thread ends them. At most max_open sessions are open
 * (not ended); at the limit a new session ends the one idle longest
 * ("abandoned: ...") to make room, so clients that leave sessions behind
 * cannot lock the recorder out; only sessions acquiring or queued can fill
 * it (then "busy"). max_active sessions acquire at once; further
 * acquisitions wait in a first-come-first-served queue of queue_max (then
 * "busy") and start, each, when one ends; a queued session can be
 * cancelled (failed, "cancelled: ...", it never acquires).
 * All calls are thread-safe.
 */
#ifndef ENGINE_H
#define ENGINE_H

#include <jansson.h>

#include "src/engine/config.h"
#include "src/engine/session.h"

#define ENGINE_IDLE_DEFAULT	600	/* s: idle_timeout */
#define ENGINE_GRACE_DEFAULT	2.5	/* s: grace */
#define ENGINE_IDLE_MIN		1	/* s: the options' range */
#define ENGINE_IDLE_MAX		86400

/*
 * Descriptors a recorder with n stations holds at its peak, the engine and
 * the central store together. The one estimate the front-ends use to
 * refuse to start under too low an open-file limit (exit 71: too few
 * descriptors make every receiver fail at once), to keep descriptors
 * away from WebSocket clients (the server's reserve: clients must not make
 * acquisition lose a chunk) and to size the receivers' loop's tables
 * (rxloop_new). The terms:
 *   32     the process's own: stdio, the receiver loop (lws' epoll and
 *          wake-up descriptors), the dataset (its lock, its folder, the
 *          chunk file and manifest being written, the acquisition's
 *          spool file of rings and chunks), the central store (a
 *          database connection and the S3 uploads, 8 at once by default)
 *   n      one socket per receiver, held for the whole acquisition
 *   n / 4  second sockets at once: OpenWebRX's status.json next to its
 *          stream, a reconnecting receiver's new socket before its old one
 *          is closed
 * Measured at the peak (/proc/PID/fd of record, sampled every 2 ms): 14,
 * 57 and 207 open for 7, 50 and 200 simulated KiwiSDRs (estimates 40, 94,
 * 282), 309 for 300 KiwiSDRs (407), 49 for 40 OpenWebRX (82).
 */
static inline long
engine_fds_needed(int nstations)
{
	return 32 + (long)nstations + (long)nstations / 4;
}
#define ENGINE_MAX_OPEN		64	/* sessions open (not ended) at once */
#define ENGINE_QUEUE_MAX	16	/* acquisitions waiting */
/* Below this many receivers an acquisition keeps its samples on the heap
 * (~190 KiB a KiwiSDR: the 2-s ring and two chunk buffers, 12 MB at 64);
 * from it, in a spool file (chunker_spool: 87 MB of ring alone at 1000).
 * The file costs a pwrite per block and a pread per chunk read back: a
 * tenth of the recorder's CPU at 7 stations (bench/README.md). */
#define ENGINE_SPOOL_MIN	64

struct engine;
struct events;
struct dataset;
struct rxloop;

struct engine_config {
	const struct stations	*stations;	/* borrowed, outlives engine */
	struct dataset		*ds;		/* borrowed */
	struct events		*ev;		/* borrowed */
	struct rxloop		*loop;		/* borrowed */
	double			 start_timeout;	/* s to wait for every receiver
						   to stream (default 5) */
	double			 grace;		/* s past a chunk's end before
						   it is declared missing
						   (default 2.5) */
	int			 max_active;	/* sessions acquiring at once
						   (default 1) */
	double			 idle_timeout;	/* s a session waiting for a
						   request may stay idle
						   (default ENGINE_IDLE_DEFAULT) */
	int			 max_open;	/* default ENGINE_MAX_OPEN */
	int			 queue_max;	/* default ENGINE_QUEUE_MAX */
	int			 spool_min;	/* receivers in an acquisition
						   from which their samples
						   are spooled (chunker_spool);
						   default ENGINE_SPOOL_MIN,
						   1: always */
	/*
	 * Replay (an import of recordings, net/rx/replay.h): every station
	 * is a recording (rx_type_replay) whose blocks carry the recording's
	 * own times and come as fast as the loop runs. The session runs on
	 * that time line, not the wall clock: its origin is replay_origin
	 * (UTC s; the caller cuts the recordings' common overlap), set before
	 * any block comes, so no receiver's start is awaited and no start
	 * timeout applies; a chunk is missing only when its receiver failed
	 * (a refused file), stopped (the recording ended) or delivered past
	 * it, or the session is cancelled -- never for a wall-clock grace or
	 * deadline. Without replay, a recording station is refused.
	 */
	int			 replay;
	double			 replay_origin;
	/*
	 * The name this recorder's sessions carry (the manifest's and the
	 * central row's recorder_host): several recorders on one machine, or
	 * a field station known by its site, each have their own. NULL or
	 * "": the host name. Up to ENGINE_HOST_MAX bytes of text (the
	 * caller checks; longer is cut).
	 */
	const char		*recorder_host;
};
#define ENGINE_HOST_MAX	255

struct engine	*engine_new(const struct engine_config *cfg, char *err,
		    size_t errlen);
/* Cancels what is acquiring, waits for it, frees. */
void		 engine_free(struct engine *eng);

/* Step 1: validate (incl. the stations' range and p->exclude), create the
 * session (status recording). Stations that cannot take the frequency,
 * and those p->exclude names (reason SESSION_EXCLUDED_REASON), are left
 * out: in session:started's "excluded", receiver:status "excluded", the
 * manifest's stations and the summary. id gets the new UUID. At max_open, the session idle
 * longest is ended as abandoned first; "busy" if none is idle. */
int		 engine_session_start(struct engine *eng,
		    const struct session_params *p, char id[37],
		    struct session_error *e);
/* Step 2: source = a known source's UUID, its name, or "unknown". */
int		 engine_session_assign(struct engine *eng, const char *id,
		    const char *source, struct session_error *e);
/*
 * Steps 1 and 2 at once, for a front-end that has the source before the
 * session (record, the scheduler): the same checks, session, events and
 * outcome as engine_session_start then engine_session_assign, but when
 * source is known the session is created with it assigned, in one
 * manifest write instead of two (a crash leaves no session or an
 * assigned one, both states the two steps also leave). When the
 * assignment is refused the session stays created and unassigned, as
 * after a refused engine_session_assign: -1 with id set, and the caller
 * cancels it as it would then. id is "" when no session was created.
 */
int		 engine_session_start_assigned(struct engine *eng,
		    const struct session_params *p, const char *source,
		    char id[37], struct session_error *e);
/* Step 3: start acquisition (returns at once; status in_progress), or
 * queue it behind max_active acquiring ones ("busy" when queue_max wait). */
int		 engine_session_acquire(struct engine *eng, const char *id,
		    struct session_error *e);
/*
 * Step 3 at a coordinated instant (issue 15): chunk k of every receiver
 * covers [start_at + k, start_at + k + 1) (UTC s; GPS time where the
 * receiver has it), so recorders on different machines given the same
 * instant store the same seconds of one transmission. The receivers are
 * connected now; session:preflight {session_id, start_at, ready: [{websdr,
 * station}], not_ready: [{websdr, station, state, reason}]} says, once,
 * a second before the instant (or as soon as all stream), which are not
 * streaming and why; what comes before the instant is not stored. The
 * instant must be at least engine_at_lead() ahead (out_of_range, saying
 * that lead) and at most ENGINE_AT_AHEAD_MAX_S; a session queued behind
 * another that cannot start ENGINE_AT_LEAD_MIN_S before its instant
 * fails ("passed while it waited"), never runs late. A session without
 * a group gets "at:YYYYmmddTHHMMSS.mmmZ:<Hz>" (the instant, the
 * frequency): recorders started alike are linked alike. start_at 0: as
 * engine_session_acquire. Not in replay (invalid).
 */
#define ENGINE_AT_LEAD_MIN_S	2
#define ENGINE_AT_AHEAD_MAX_S	(7 * 86400)
int		 engine_session_acquire_at(struct engine *eng, const char *id,
		    double start_at, struct session_error *e);
/* The least lead time of a start instant: the start timeout (the time
 * receivers get to connect), at least ENGINE_AT_LEAD_MIN_S. */
double		 engine_at_lead(const struct engine *eng);
/* Sessions acquiring or queued to (0: a new acquisition starts at once). */
int		 engine_busy(struct engine *eng);
/* Cancel: acquisition stops, finished chunks are kept, status failed; a
 * queued or not yet acquiring session simply ends failed. */
int		 engine_session_cancel(struct engine *eng, const char *id,
		    const char *reason, struct session_error *e);
/*
 * Pause (paused 1) or resume (0) an acquisition (issue 15): the receivers
 * stay connected; a chunk whose second overlaps a pause is not stored and
 * is counted as paused (state C_PAUSED), never as missing, so it never
 * makes a session partial; numbering goes on. The summary (and the final
 * status_update) holds paused_chunks (receivers' chunks skipped) and
 * paused_seconds (the chunk indexes skipped, in seconds); each station
 * chunks_paused; the snapshot "paused". Emits session:paused /
 * session:resumed. Errors: not_found; bad_state when the session is not
 * acquiring (not started, queued, ended, ending), pausing a paused one or
 * resuming one that is not paused; invalid in replay.
 */
int		 engine_session_pause(struct engine *eng, const char *id,
		    int paused, struct session_error *e);
/* Block until the session is completed or failed; returns its status, or
 * -1 if unknown. */
int		 engine_session_wait(struct engine *eng, const char *id);
/* Current state (new reference): the status_update data plus per-station
 * {websdr, station, state, reason, chunks_ok, chunks_missing, last metrics}
 * and chunk counters; with localization, latest_fix (the newest chunk's
 * session:fix data) and, once the session fix is done, session_fix (its
 * session:fix data, final: true). NULL if unknown. */
json_t		*engine_session_snapshot(struct engine *eng, const char *id);
/* Snapshots of sessions known to this engine (new reference). */
json_t		*engine_sessions(struct engine *eng);
/* Acquisitions waiting in the queue now. */
int		 engine_queued(struct engine *eng);
/* Which stations accept a session of p's frequency and passband now
 * (probe.h's probe_accepting on the engine's stations and receivers'
 * loop): in range, answering, and streaming for the receiver's own driver.
 * Blocks up to timeout s (<= 0: PROBE_ACCEPT_TIMEOUT): call it on a
 * thread of its own. Returns how many accept; out (stations->n entries,
 * may be NULL) gets each one's result and reason. */
struct probe_result;
int		 engine_probe(struct engine *eng,
		    const struct session_params *p, double timeout,
		    struct probe_result *out);

/*
 * Spectra for a waterfall (the console's): when on, every measured chunk
 * is followed by session:spectrum {session_id, websdr, chunk_index,
 * low_hz, high_hz, offset_hz, bins: [ENGINE_SPECTRUM_BINS dBFS per
 * transform bin, low to high]} -- the metrics' own transform, decimated
 * (metrics_spectrum), so it costs no second FFT. Off by default: record's
 * JSON lines and serve's clients never carry it unless a front-end asks
 * (the WebSocket API sends it only to clients subscribed to it by name).
 * Any thread.
 */
#define ENGINE_SPECTRUM_BINS	64
void		 engine_set_spectra(struct engine *eng, int on);

#endif
