/*
 * cstate.h -- the operator console's shared state: struct con (one per
 * console_run), the screens and modals it can show, a station's row, and
 * the small helpers every screen uses (the event log, the event queue from
 * engine threads, the title and key lines, a field, a modal box).
 *
 * Each screen lives in its own module and owns its part of struct con:
 *   ui/sc_config.c    step 1, Configure: the form, validation as you type
 *   ui/sc_assign.c    step 2, Assign source: the filterable source list
 *   ui/sc_confirm.c   step 3, Start acquisition: summary, reachability
 *                     probe, the engine's three steps
 *   ui/sc_progress.c  Progress and Complete: events of the session, the
 *                     station table, the localization panel, the summary
 *   ui/console.c      the main loop: terminal, signals, keys and frames
 *                     dispatched to the screen shown, modals
 *   ui/sc_history.c   past sessions, a session's details, record again
 *   ui/sc_grid.c      the coverage grid and the passband waterfall
 *                     (drawn by sc_progress and sc_history)
 *   ui/sc_sched.c     the dataset's schedules: list, add, cancel
 * A new screen adds an SC_* value, a module with the same three entry
 * points (draw, key, help) and a case in console.c's switches.
 *
 * Everything here except the event queue (qlock) is for the UI thread only.
 */
#ifndef CSTATE_H
#define CSTATE_H

#include <math.h>
#include <pthread.h>
#include <time.h>

#include <jansson.h>

#include "ui/console.h"
#include "ui/locpanel.h"
#include "ui/widgets.h"
#include "src/engine/engine.h"
#include "src/engine/session.h"
#include "store/dataset.h"

#define QUEUE_MAX	20000		/* events waiting for the UI thread */
#define LOG_MAX		400		/* event log lines kept */
#define FRAME_S		0.05		/* at most 20 frames/s */
/* chunks a session can have: the longest duration in the shortest chunks
 * (--chunk-ms) */
#define NCHUNK		(SESSION_DURATION_MAX * 1000 / SESSION_CHUNK_MS_MIN)
/* Below this size a screen would be cut (the Configure form's button,
 * step 3's summary, the table's rows): "terminal too small" is shown
 * instead. Every screen is laid out for 80x24 and still whole at 60x20
 * (tests/e2e/test_console.py captures both). */
#define CON_MIN_COLS	60
#define CON_MIN_LINES	20

enum uiscreen { SC_CONFIG, SC_ASSIGN, SC_CONFIRM, SC_PROGRESS, SC_COMPLETE,
    SC_HISTORY, SC_SCHED };
/* What Progress/Complete (and a past session's details) show in the
 * table's place: the table, the coverage grid, the selected station's
 * passband (ui/sc_grid.c). */
enum pview { PV_TABLE, PV_GRID, PV_WATERFALL };

/* Reasons of missing chunks, each kept once (a row's why[] indexes them,
 * 1-based; 0: none). When full, the last one stands for the rest. */
#define REASONS_MAX	64
struct reasons {
	char	v[REASONS_MAX][128];
	int	n;
};
int	reasons_add(struct reasons *rs, const char *why);

/* The grid's selected cell and scroll (ui/sc_grid.c). */
struct gridnav {
	int	row, chunk;		/* selected: row index, chunk index */
	int	top, left;		/* first row / chunk shown */
};
enum modal { MO_NONE, MO_HELP, MO_CANCEL, MO_QUIT };
enum cfield { CF_NAME, CF_FREQ, CF_DUR, CF_NOTES, CF_GROUP, CF_AT, CF_START,
    CF_N };
/* The schedule form's fields (ui/sc_sched.c). */
enum sfield { SF_NAME, SF_FREQ, SF_DUR, SF_SOURCE, SF_AT, SF_EVERY, SF_COUNT,
    SF_UNTIL, SF_NOTES, SF_GROUP, SF_ADD, SF_N };

struct qev {
	struct qev	*next;
	char		 name[48];
	json_t		*data;
};

/* One station's row in the progress table. */
struct row {
	int		 websdr;
	char		 name[128];
	char		 state[40];
	char		 reason[256];
	double		 snr, sig, noise, off, rssi;
	int		 has_snr, has_sig, has_noise, has_off, has_rssi;
	int		 ok, miss;
	/* The event log's line for this station's latest run of missing
	 * chunks (one line per run, not per chunk): its sequence number,
	 * the run and its reason. */
	long		 miss_seq;
	int		 miss_first, miss_last;
	char		 miss_reason[128];
	double		 hist[NCHUNK];
	unsigned char	 cst[NCHUNK];
	unsigned char	 why[NCHUNK];		/* missing: reason (struct
						   reasons index) */
	/* session:spectrum, one per chunk (malloc'd on the first). */
	float		(*spec)[ENGINE_SPECTRUM_BINS];
	unsigned char	 has_spec[NCHUNK];
	float		 spec_off[NCHUNK];	/* Hz: the peak */
	double		 spec_lo, spec_hi;	/* Hz: the band */
};

struct con {
	const struct console_config *cfg;

	/* Shared with engine threads (qlock). */
	pthread_mutex_t	 qlock;
	struct qev	*qhead, *qtail;
	int		 qn;
	long		 qdropped;
	int		 wake[2];		/* engine/probe/signals -> UI */

	/* Everything below: UI thread only. */
	struct wg_theme	 th;
	int		 color;
	enum uiscreen	 sc;
	enum modal	 modal;
	int		 dirty, force;
	double		 last_frame;
	int		 quit;
	int		 sig_term;
	struct wg_u8	 u8;			/* bytes of a character typed in
						   a non-UTF-8 locale */

	/* configure (sc_config.c) */
	struct wg_field	 name, freq, notes, group, at;
	struct wg_slider dur;
	int		 chunk_ms;		/* chunk length: c/C on the
						   duration (sc_config.c) */
	int		 focus;
	char		 ferr[CF_N][256];
	char		 msg[512];
	char		 note_cfg[512];		/* a note under the form
						   ("settings of ... loaded") */
	double		 fmin, fmax;		/* common range, Hz */
	double		 start_at;		/* UTC s of --at-like start,
						   0: at once */

	/* assign (sc_assign.c) */
	struct source	*src;
	int		 nsrc;
	const char	**srcnames;
	struct wg_list	 list;
	int		 src_pick;		/* index kept for "new session" */

	/* confirm (sc_confirm.c): TCP reachability probe */
	pthread_t	 probe_th;
	int		 probe_running;
	int		 probe_gen;
	int		 probe_ok, probe_total, probe_done;
	/* and the operator's choice of stations (issue 13), per station of
	 * the file: pick 1 to record (kept across sessions; a station the
	 * frequency leaves out never records, whatever pick says); the
	 * probe's answer per station, NULL until it came */
	unsigned char	*pick;
	json_t		*probe_res;		/* [[accepting, reason], ...] */
	int		 pick_sel, pick_top;
	int		 pick_rows;		/* rows shown by the last frame */

	/* the session (sc_progress.c) */
	char		 id[37];
	char		 last_id[37];		/* the last session that ended */
	struct session_params p;
	char		 source_name[128];
	int		 total, chunk, measurements;
	double		 t_chunk;		/* monotonic, last chunk settled */
	double		 t_acq;			/* monotonic, acquisition began
						   (0: queued, not yet) */
	int		 stored;		/* once ended: chunk indexes with
						   at least one stored row */
	int		 acquiring;
	int		 paused;	/* p: the engine pauses the session
					   (engine_session_pause) */
	int		 qpos;			/* ours in the engine's queue */
	int		 nqueued;		/* acquisitions waiting */
	char		 status[32];
	json_t		*final;
	struct row	*rows;
	int		 nrows;
	int		 table_top;
	int		 table_rows;		/* rows shown by the last frame */
	int		 sort;			/* PS_*: the table's order */
	int		 pfocus;		/* 0 stations, 1 event log (Tab) */
	int		 log_back;		/* log lines scrolled back */
	int		 find_on;		/* '/' prompt open */
	struct wg_field	 find;
	int		 found;			/* websdr found by '/', or 0 */
	long		 seen_dropped;
	struct locpanel	 lp;			/* TDoA and fixes */
	int		 view;			/* PV_* */
	struct gridnav	 grid;
	struct reasons	 reasons;

	/* history (sc_history.c) */
	json_t		*hlist;			/* dataset_sessions_list */
	int		 hsel, htop;
	int		 hdetail;		/* details shown */
	enum uiscreen	 hback;			/* where Esc returns */
	json_t		*hman;			/* details: the manifest */
	struct row	*hrows;			/* details: its grid */
	int		 hnrows, htotal;
	struct reasons	 hreasons;
	struct gridnav	 hgrid;
	char		 hmsg[600];
	int		 hmsg_ok;	/* hmsg says what was done, not an error */

	/* schedules (sc_sched.c) */
	json_t		*slist;			/* schedule_list */
	double		 sload;			/* util_now() of that read, 0:
						   read again */
	double		 stick;			/* util_now() of the next frame
						   (the countdowns move) */
	int		 ssel, stop;
	enum uiscreen	 sback;			/* where Esc returns */
	int		 sform;			/* the add form is shown */
	int		 sconfirm;		/* "cancel it?" asked */
	struct wg_field	 sname, sfreq, ssource, sat, severy, scount, suntil,
			 snotes, sgroup;
	struct wg_slider sdur;
	int		 sfocus;		/* SF_* */
	int		 sbad;			/* SF_* the error is about, -1 */
	char		 smsg[600];
	int		 smsg_ok;	/* smsg says what was done, not an error */

	/* event log */
	char		 log[LOG_MAX][256];
	int		 log_n, log_head;
	long		 log_seq;		/* lines ever logged: line s is
						   at log[s % LOG_MAX] while
						   log_seq - s <= log_n */

	/* stderr captured while the console owns the terminal */
	int		 errpipe[2];
	int		 saved_stderr;
	char		 errbuf[1024];
	size_t		 errlen;
};

/* ---- small helpers ---- */

static inline double
mono(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline const char *
jstr(const json_t *d, const char *k)
{
	const char	*s = json_string_value(json_object_get(d, k));

	return s != NULL ? s : "";
}

static inline long long
jint(const json_t *d, const char *k)
{
	return (long long)json_integer_value(json_object_get(d, k));
}

/* A number or null: 1 and *v when present and finite. */
static inline int
jnum(const json_t *d, const char *k, double *v)
{
	json_t	*x = json_object_get(d, k);

	if (!json_is_number(x))
		return 0;
	*v = json_number_value(x);
	return isfinite(*v);
}

/* Wake the UI thread (any thread; never blocks). */
void	con_wake(struct con *c, char what);
/* Append a line to the event log (time-stamped, one line). */
void	con_log(struct con *c, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Rewrite line seq of the log (no-op once it scrolled out); the time
 * stamp stays the first one's. */
void	con_log_rewrite(struct con *c, long seq, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Queue an event for the UI thread (any thread; takes data). */
void	con_queue_push(struct con *c, const char *name, json_t *data);

/* ---- drawing helpers (UI thread) ---- */
/* u on a UTF-8 terminal, else a. */
const char *con_arrows(const struct con *c, const char *u, const char *a);
/* The bottom line: the keys of the screen. */
void	con_status_line(struct con *c, const char *keys);
/* The top line: a title left, a dim note right when it fits. */
void	con_title_line(struct con *c, const char *left, const char *right);
/* A text field at y,x in w cells; when focused, *cy,*cx get the cursor. */
void	con_draw_field(struct con *c, int y, int x, int w,
	    struct wg_field *f, int focus, int *cy, int *cx);
/* A centred box with a title and lines. */
void	con_draw_modal(struct con *c, const char *title,
	    const char *const *lines, int n);

#endif
