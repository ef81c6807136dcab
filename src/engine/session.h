/*
 * session.h -- a recording session's parameters, their validation (the
 * stations' range included, for every front-end) and the state machine:
 * pending -> recording -> source_assigned -> in_progress -> completed |
 * failed (any non-final state may also go to failed).
 */
#ifndef SESSION_H
#define SESSION_H

#include <stddef.h>

#include "src/base/util.h"

struct station;
struct stations;

#define SESSION_NAME_MAX	255	/* bytes */
#define SESSION_NOTES_MAX	4096	/* bytes */
#define SESSION_GROUP_MAX	UTIL_GROUP_ID_MAX /* bytes: util_is_token */
#define SESSION_DURATION_MIN	1
#define SESSION_DURATION_MAX	30
#define SESSION_CHUNK_MS_MIN	100	/* chunk length, ms */
#define SESSION_CHUNK_MS_MAX	5000
#define SESSION_CHUNK_MS_DEFAULT 1000
#define SESSION_PASSBAND_DEFAULT 5000	/* -5000 .. +5000 Hz */
#define SESSION_PASSBAND_MAX	100000	/* |edge| in Hz */

enum session_status {
	SESSION_PENDING = 0,
	SESSION_RECORDING,
	SESSION_SOURCE_ASSIGNED,
	SESSION_IN_PROGRESS,
	SESSION_COMPLETED,
	SESSION_FAILED
};

struct session_params {
	char	name[SESSION_NAME_MAX + 1];
	double	freq_hz;
	int	duration_s;
	char	notes[SESSION_NOTES_MAX + 1];
	/* Links the sessions that several recorders made of one
	 * transmission (issue 16), so a central store can join them; "" =
	 * none. Letters, digits and . _ : - only: it goes into file names,
	 * labels and queries as it is. */
	char	group[SESSION_GROUP_MAX + 1];
	int	low_cut;		/* passband, Hz around freq_hz */
	int	high_cut;
	/*
	 * Stations the operator leaves out (issue 13), by name: the console's
	 * step 3, serve's session:start "exclude", record --exclude. Borrowed:
	 * read by session_validate and engine_session_start only (the engine
	 * keeps neither the pointer nor the names; the session's excluded
	 * list and manifest keep them, reason SESSION_EXCLUDED_REASON). NULL
	 * and 0: none.
	 */
	const char *const *exclude;
	int	nexclude;
	/* Chunk length (ms), SESSION_CHUNK_MS_MIN..MAX; the duration must
	 * be a whole number of chunks (session_validate). */
	int	chunk_ms;
};
#define SESSION_EXCLUDED_REASON	"excluded by the operator"
#define SESSION_EXCLUDE_MAX	100000	/* names in exclude */

/* Zeroes p and sets the defaults: passband, chunk_ms. Every front-end
 * starts from this (a chunk_ms of 0 is refused by session_validate). */
void		 session_params_init(struct session_params *p);
/* Chunks in the session: duration_s * 1000 / chunk_ms (validated whole). */
int		 session_total_chunks(const struct session_params *p);

/* A stable error: code is one of the WebSocket API's codes ("missing_field",
 * "wrong_type", "out_of_range", "not_found", "bad_state", "busy",
 * "too_large", "io_error", "invalid"), field the offending field or "". */
struct session_error {
	const char	*code;
	char		 field[64];
	char		 msg[512];
};

const char	*session_status_name(enum session_status st);
/* -1 if s is not a status name. */
int		 session_status_parse(const char *s);
int		 session_status_final(enum session_status st);

/* Set err and return -1 (convenience for every module using the type). */
int		 session_error_set(struct session_error *e, const char *code,
		    const char *field, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));

/* Validate name, duration, chunk length (the duration a whole number of
 * chunks), notes, passband and, when stations is not NULL,
 * the frequency against the stations' ranges (session_check_frequency:
 * refused only when no station takes it) and the exclude list
 * (session_check_exclude).
 * Name and notes must be valid UTF-8 (else wrong_type) without control
 * characters, C0 or C1 (else out_of_range; notes may hold tab/newline).
 * The group is empty or util_is_token (else out_of_range).
 * Every front-end's check is this one (the engine's too). */
int		 session_validate(const struct session_params *p,
		    const struct stations *stations, struct session_error *e);
/*
 * A station whose range excludes the session's frequency is LEFT OUT of the
 * session with the reason (mixed HF and 2 m networks: the engine says so
 * in receiver:status "excluded", the summary and the manifest), instead of
 * refusing the session; only a frequency no station takes is refused.
 */
/* 1 if st takes freq_hz, else 0 with why ("14.2 MHz is outside
 * its range 24-1766 MHz"; why may be NULL). */
int		 session_station_takes(const struct station *st,
		    double freq_hz, char *why, size_t len);
/* How many stations cannot take freq_hz; note (may be NULL) names them
 * for people, as many as fit in len: "left out: Torino, Sim 3 and 2
 * others", "" if none. */
int		 session_frequency_left_out(const struct stations *stations,
		    double freq_hz, char *note, size_t len);
/* 0 if at least one station takes freq_hz, else out_of_range on
 * frequency_mhz: "14.2 MHz is out of range: Torino takes 24-1766 MHz",
 * or with several stations "... out of range of every station: Torino
 * takes 24-1766 MHz (and N others)". */
int		 session_check_frequency(const struct stations *stations,
		    double freq_hz, struct session_error *e);

/*
 * The operator's exclude list (p->exclude) against the stations: every
 * name must be a station's (else not_found on "exclude", naming it and
 * the stations), at most SESSION_EXCLUDE_MAX names (too_large), and at
 * least one station that takes the frequency must be left to record
 * (else out_of_range on "exclude"). Naming a station twice, or one the
 * frequency leaves out anyway, is no error. Every front-end's check
 * (through session_validate). 0 or -1.
 */
int		 session_check_exclude(const struct session_params *p,
		    const struct stations *stations, struct session_error *e);
/* 1 if p's exclude list names the station called name, else 0. */
int		 session_excludes(const struct session_params *p,
		    const char *name);

/* 0 if from -> to is allowed, else -1 with a bad_state error naming the
 * step ("assign the source first", "acquisition already started", ...). */
int		 session_transition(enum session_status from,
		    enum session_status to, struct session_error *e);

/* ---- the frequency as people type it ---- */

/*
 * Parse a frequency in MHz as typed by an operator or given on the command
 * line: plain decimal digits with at most one decimal point ("14.074",
 * "145.5", " 7 "), whatever the locale. Refused, with a message for a
 * person in err: empty text, signs, exponents ("1e1"), hex ("0x10"),
 * "inf"/"nan", a decimal comma ("14,2": the message says to use a point),
 * more than SESSION_FREQ_MHZ_MAX (a 19-digit number is said to be too
 * large, not "not a number"), and 0 unless allow_zero. 0 and *mhz, or -1.
 */
#define SESSION_FREQ_MHZ_MAX	100000.0
int		 session_parse_mhz(const char *s, int allow_zero, double *mhz,
		    char *err, size_t errlen);

/* ---- how a finished session is said ---- */

/*
 * One vocabulary for every front-end (console, record, the web page,
 * `sessions`): a finished session is complete (every chunk stored),
 * partial (completed with k chunks missing: record exits 75) or failed.
 * The outcome is also the colour class: complete green, partial yellow,
 * failed red. status is the manifest's or status_update's "completed" or
 * "failed"; anything else (a session not finished) is SESSION_OUTCOME_NONE.
 */
enum session_outcome {
	SESSION_OUTCOME_NONE = 0,
	SESSION_OUTCOME_COMPLETE,
	SESSION_OUTCOME_PARTIAL,
	SESSION_OUTCOME_FAILED
};
enum session_outcome session_outcome(const char *status,
		    long long chunks_missing);
/* "complete", "partial (37 missing)", "failed", or status itself when the
 * session is not finished (NULL: ""); returns buf. */
const char	*session_outcome_text(const char *status,
		    long long chunks_missing, char *buf, size_t len);

#endif
