/* console.c -- the operator console's screens and main loop; see console.h. */

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curses.h>
#include <jansson.h>

#include "ui/console.h"
#include "ui/locpanel.h"
#include "ui/widgets.h"
#include "src/engine/config.h"
#include "src/engine/engine.h"
#include "src/engine/events.h"
#include "src/engine/session.h"
#include "src/base/util.h"
#include "store/dataset.h"

#define QUEUE_MAX	20000		/* events waiting for the UI thread */
#define LOG_MAX		400		/* event log lines kept */
#define FRAME_S		0.05		/* at most 20 frames/s */
#define NCHUNK		SESSION_DURATION_MAX

enum uiscreen { SC_CONFIG, SC_ASSIGN, SC_CONFIRM, SC_PROGRESS, SC_COMPLETE };
enum modal { MO_NONE, MO_HELP, MO_CANCEL, MO_QUIT };
enum cfield { CF_NAME, CF_FREQ, CF_DUR, CF_NOTES, CF_START, CF_N };

struct qev {
	struct qev	*next;
	char		 name[48];
	json_t		*data;
};

/* One station's row in the progress table. */
struct row {
	int		 websdr;
	char		 name[128];
	char		 state[16];
	char		 reason[256];
	double		 snr, sig, noise, off, rssi;
	int		 has_snr, has_sig, has_noise, has_off, has_rssi;
	int		 ok, miss;
	double		 hist[NCHUNK];
	unsigned char	 cst[NCHUNK];
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

	/* configure */
	struct wg_field	 name, freq, notes;
	struct wg_slider dur;
	int		 focus;
	char		 ferr[CF_N][256];
	char		 msg[512];
	double		 fmin, fmax;		/* common range, Hz */

	/* assign */
	struct source	*src;
	int		 nsrc;
	const char	**srcnames;
	struct wg_list	 list;
	int		 src_pick;		/* index kept for "new session" */

	/* confirm: TCP reachability probe */
	pthread_t	 probe_th;
	int		 probe_running;
	int		 probe_gen;
	int		 probe_ok, probe_total, probe_done;

	/* the session */
	char		 id[37];
	char		 last_id[37];		/* the last session that ended */
	struct session_params p;
	char		 source_name[128];
	int		 total, chunk, measurements;
	double		 t_chunk;		/* monotonic, last chunk settled */
	int		 acquiring;
	int		 qpos;			/* ours in the engine's queue */
	int		 nqueued;		/* acquisitions waiting */
	char		 status[32];
	json_t		*final;
	struct row	*rows;
	int		 nrows;
	int		 table_top;
	long		 seen_dropped;
	struct locpanel	 lp;			/* TDoA and fixes */

	/* event log */
	char		 log[LOG_MAX][256];
	int		 log_n, log_head;

	/* stderr captured while the console owns the terminal */
	int		 errpipe[2];
	int		 saved_stderr;
	char		 errbuf[1024];
	size_t		 errlen;
};

static int	term_known(void);

static int	sig_fd = -1;
/* Set by the handler; the byte it writes only wakes the loop (it could be
 * dropped when the pipe is full of engine wake-ups, the flag cannot). */
static volatile sig_atomic_t got_int, got_term, got_winch;

/* ---- small helpers ---- */

static double
mono(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *
jstr(const json_t *d, const char *k)
{
	const char	*s = json_string_value(json_object_get(d, k));

	return s != NULL ? s : "";
}

static long long
jint(const json_t *d, const char *k)
{
	return (long long)json_integer_value(json_object_get(d, k));
}

/* A number or null: 1 and *v when present and finite. */
static int
jnum(const json_t *d, const char *k, double *v)
{
	json_t	*x = json_object_get(d, k);

	if (!json_is_number(x))
		return 0;
	*v = json_number_value(x);
	return isfinite(*v);
}

static void
wake(struct con *c, char what)
{
	ssize_t	n;

	n = write(c->wake[1], &what, 1);
	(void)n;	/* full pipe: a wake-up is already pending */
}

static void
logf_(struct con *c, const char *fmt, ...) __attribute__((format(printf, 2,
    3)));

static void
logf_(struct con *c, const char *fmt, ...)
{
	va_list		 ap;
	time_t		 t = time(NULL);
	struct tm	 tm;
	char		*line;
	size_t		 off;

	line = c->log[(c->log_head + c->log_n) % LOG_MAX];
	if (c->log_n == LOG_MAX)
		c->log_head = (c->log_head + 1) % LOG_MAX;
	else
		c->log_n++;
	localtime_r(&t, &tm);
	off = strftime(line, 256, "%H:%M:%S ", &tm);
	va_start(ap, fmt);
	vsnprintf(line + off, 256 - off, fmt, ap);
	va_end(ap);
	/* One line per entry: a reason with a newline must not break the
	 * layout. */
	for (; *line != '\0'; line++)
		if (*line == '\n' || *line == '\r' || *line == '\t')
			*line = ' ';
	c->dirty = 1;
}

/* ---- events from engine threads ---- */

static void
queue_push(struct con *c, const char *name, json_t *data)
{
	struct qev	*q;

	pthread_mutex_lock(&c->qlock);
	if (c->qn >= QUEUE_MAX || (q = calloc(1, sizeof *q)) == NULL) {
		/* The UI is far behind: drop, and let it re-read the engine's
		 * snapshot (it counts what it lost). */
		c->qdropped++;
		pthread_mutex_unlock(&c->qlock);
		json_decref(data);
		wake(c, 'e');
		return;
	}
	snprintf(q->name, sizeof q->name, "%s", name);
	q->data = data;
	if (c->qtail != NULL)
		c->qtail->next = q;
	else
		c->qhead = q;
	c->qtail = q;
	c->qn++;
	pthread_mutex_unlock(&c->qlock);
	wake(c, 'e');
}

/* Subscriber: runs on the emitting (engine) thread. Copy and wake; never
 * touch ncurses here. */
static void
on_event(void *ctx, const char *name, const json_t *data, const char *json,
    size_t len)
{
	(void)json;
	(void)len;
	queue_push(ctx, name, json_deep_copy(data));
}

static void
on_signal(int sig)
{
	int	 saved = errno;
	char	 c = 's';
	ssize_t	 n;

	if (sig == SIGINT)
		got_int = 1;
	else if (sig == SIGWINCH)
		got_winch = 1;
	else
		got_term = 1;
	if (sig_fd >= 0)
		n = write(sig_fd, &c, 1);
	(void)n;
	errno = saved;
}

/* ---- the reachability probe (its own thread: DNS and connect block) ---- */

struct probe {
	struct con	*c;
	int		 gen;
};

static void *
probe_main(void *arg)
{
	struct probe		*pr = arg;
	struct con		*c = pr->c;
	const struct stations	*st = c->cfg->stations;
	struct addrinfo		 hints, *ai;
	struct pollfd		 pf[128];
	char			 port[16];
	int			 i, j, n, ok = 0, soerr, left;
	socklen_t		 sl;
	double			 end;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	/* In batches of 128 connects at once, 1.5 s each. */
	for (i = 0; i < st->n; i += n) {
		n = st->n - i < 128 ? st->n - i : 128;
		for (j = 0; j < n; j++) {
			pf[j].fd = -1;
			pf[j].events = POLLOUT;
			pf[j].revents = 0;
			snprintf(port, sizeof port, "%d", st->v[i + j].port);
			if (getaddrinfo(st->v[i + j].host, port, &hints,
			    &ai) != 0)
				continue;
			pf[j].fd = socket(ai->ai_family, ai->ai_socktype |
			    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (pf[j].fd >= 0 && connect(pf[j].fd, ai->ai_addr,
			    ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
				close(pf[j].fd);
				pf[j].fd = -1;
			}
			freeaddrinfo(ai);
		}
		end = mono() + 1.5;
		for (;;) {
			left = 0;
			for (j = 0; j < n; j++)
				if (pf[j].fd >= 0 && pf[j].revents == 0)
					left++;
			if (left == 0 || mono() >= end)
				break;
			if (poll(pf, (nfds_t)n, (int)((end - mono()) * 1000) +
			    1) < 0 && errno != EINTR)
				break;
		}
		for (j = 0; j < n; j++) {
			if (pf[j].fd < 0)
				continue;
			sl = sizeof soerr;
			if (pf[j].revents != 0 && getsockopt(pf[j].fd,
			    SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
			    soerr == 0)
				ok++;
			close(pf[j].fd);
		}
	}
	queue_push(c, "ui:probe", json_pack("{s:i, s:i, s:i}", "gen", pr->gen,
	    "ok", ok, "total", st->n));
	free(pr);
	return NULL;
}

static void
probe_start(struct con *c)
{
	struct probe	*pr;

	if (c->probe_running) {
		/* The previous probe is short-lived (DNS + 1.5 s): wait. */
		pthread_join(c->probe_th, NULL);
		c->probe_running = 0;
	}
	c->probe_gen++;
	c->probe_done = 0;
	if ((pr = malloc(sizeof *pr)) == NULL)
		return;
	pr->c = c;
	pr->gen = c->probe_gen;
	if (pthread_create(&c->probe_th, NULL, probe_main, pr) != 0) {
		free(pr);
		return;
	}
	c->probe_running = 1;
}

/* ---- theme ---- */

static void
theme_init(struct con *c)
{
	const char	*nc = getenv("NO_COLOR");
	struct wg_theme	*t = &c->th;

	memset(t, 0, sizeof *t);
	/* UTF-8 bar and box characters only when the locale encodes them. */
	t->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	/* no-color.org: present and not empty disables colour. */
	c->color = has_colors() && (nc == NULL || nc[0] == '\0');
	if (c->color) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_CYAN, -1);
		init_pair(2, COLOR_GREEN, -1);
		init_pair(3, COLOR_YELLOW, -1);
		init_pair(4, COLOR_RED, -1);
		init_pair(5, COLOR_BLACK, COLOR_CYAN);
		init_pair(6, COLOR_BLUE, -1);
		t->title = COLOR_PAIR(1) | A_BOLD;
		t->label = A_BOLD;
		t->focus = COLOR_PAIR(1) | A_BOLD | A_UNDERLINE;
		t->error = COLOR_PAIR(4) | A_BOLD;
		t->ok = COLOR_PAIR(2);
		t->warn = COLOR_PAIR(3);
		t->bad = COLOR_PAIR(4) | A_BOLD;
		t->dim = COLOR_PAIR(6);
		t->bar = COLOR_PAIR(2);
		t->status = COLOR_PAIR(5);
		t->select = COLOR_PAIR(5) | A_BOLD;
		t->key = A_BOLD;
	} else {
		/* Plain attributes: still readable on a monochrome terminal. */
		t->title = A_BOLD;
		t->label = A_BOLD;
		t->focus = A_BOLD | A_UNDERLINE;
		t->error = A_BOLD;
		t->ok = 0;
		t->warn = A_BOLD;
		t->bad = A_BOLD;
		t->dim = 0;
		t->bar = 0;
		t->status = A_REVERSE;
		t->select = A_REVERSE;
		t->key = A_BOLD;
	}
}

/* ---- configure: validation as you type ---- */

static int
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t')
			return 0;
	return 1;
}

/* Parse the frequency field: 0 and *hz, or -1 with the message in ferr. */
static int
check_freq(struct con *c, double *hz)
{
	struct session_error	 e;
	char			*end;
	double			 mhz;

	c->ferr[CF_FREQ][0] = '\0';
	if (blank(c->freq.buf)) {
		snprintf(c->ferr[CF_FREQ], sizeof c->ferr[CF_FREQ],
		    "Frequency is required (MHz, e.g. 14.074)");
		return -1;
	}
	errno = 0;
	mhz = strtod(c->freq.buf, &end);
	while (*end == ' ')
		end++;
	if (errno != 0 || end == c->freq.buf || *end != '\0' ||
	    !isfinite(mhz) || mhz <= 0 || mhz > 1e5) {
		snprintf(c->ferr[CF_FREQ], sizeof c->ferr[CF_FREQ],
		    "Frequency must be a number of MHz above 0 (got \"%s\")",
		    c->freq.buf);
		return -1;
	}
	*hz = mhz * 1e6;
	if (session_check_frequency(c->cfg->stations, *hz, &e) != 0) {
		snprintf(c->ferr[CF_FREQ], sizeof c->ferr[CF_FREQ], "%s",
		    e.msg);
		return -1;
	}
	return 0;
}

static int
check_name(struct con *c)
{
	c->ferr[CF_NAME][0] = '\0';
	if (blank(c->name.buf)) {
		snprintf(c->ferr[CF_NAME], sizeof c->ferr[CF_NAME],
		    "Session name is required");
		return -1;
	}
	return 0;
}

/* Everything of step 1; focuses the first bad field. 0 when valid. */
static int
validate_config(struct con *c)
{
	struct session_error	e;
	double			hz = 0;
	int			bad = -1;

	if (check_name(c) != 0)
		bad = CF_NAME;
	if (check_freq(c, &hz) != 0 && bad < 0)
		bad = CF_FREQ;
	if (bad >= 0) {
		c->focus = bad;
		snprintf(c->msg, sizeof c->msg, "Not started: %s",
		    bad == CF_NAME ? "the session needs a name" :
		    "the frequency needs fixing");
		return -1;
	}
	memset(&c->p, 0, sizeof c->p);
	snprintf(c->p.name, sizeof c->p.name, "%s", c->name.buf);
	c->p.freq_hz = hz;
	c->p.duration_s = c->dur.value;
	snprintf(c->p.notes, sizeof c->p.notes, "%s", c->notes.buf);
	c->p.low_cut = c->cfg->low_cut;
	c->p.high_cut = c->cfg->high_cut;
	if (session_validate(&c->p, c->cfg->stations, &e) != 0) {
		snprintf(c->msg, sizeof c->msg, "%s", e.msg);
		return -1;
	}
	c->msg[0] = '\0';
	return 0;
}

/* ---- assign: the sources ---- */

static int
load_sources(struct con *c)
{
	char	err[512];
	int	i, keep = -1;

	if (c->nsrc > 0 && c->src_pick >= 0 && c->src_pick < c->nsrc)
		keep = c->src_pick;
	free(c->src);
	free(c->srcnames);
	c->src = NULL;
	c->srcnames = NULL;
	c->nsrc = 0;
	if (dataset_sources_list(c->cfg->ds, &c->src, &c->nsrc, err,
	    sizeof err) != 0) {
		snprintf(c->msg, sizeof c->msg, "Cannot read the sources: %s",
		    err);
		return -1;
	}
	if ((c->srcnames = calloc((size_t)c->nsrc + 1, sizeof *c->srcnames)) ==
	    NULL)
		return -1;
	for (i = 0; i < c->nsrc; i++)
		c->srcnames[i] = c->src[i].name;
	wg_list_init(&c->list, c->srcnames, c->nsrc);
	if (keep >= 0 && keep < c->nsrc)
		wg_list_select(&c->list, keep);
	return 0;
}

/* ---- acquisition ---- */

static void
rows_reset(struct con *c)
{
	const struct stations	*st = c->cfg->stations;
	int			 i;

	free(c->rows);
	c->nrows = st->n;
	c->rows = calloc((size_t)st->n > 0 ? (size_t)st->n : 1,
	    sizeof *c->rows);
	for (i = 0; c->rows != NULL && i < st->n; i++) {
		c->rows[i].websdr = st->v[i].index;
		snprintf(c->rows[i].name, sizeof c->rows[i].name, "%s",
		    st->v[i].name);
		snprintf(c->rows[i].state, sizeof c->rows[i].state, "waiting");
	}
	if (c->rows == NULL)
		c->nrows = 0;
	c->table_top = 0;
}

static struct row *
row_of(struct con *c, const json_t *d)
{
	long long	k = jint(d, "websdr");

	if (k < 1 || k > c->nrows || c->rows[k - 1].websdr != k)
		return NULL;
	return &c->rows[k - 1];
}

static void
start_session(struct con *c)
{
	struct session_error	e, e2;
	const char		*key;
	int			 s = wg_list_selected(&c->list);

	if (s < 0)
		return;
	/* Fresh state before the first event of the session is applied. */
	rows_reset(c);
	c->total = c->p.duration_s;
	c->chunk = c->measurements = 0;
	c->acquiring = 0;
	c->qpos = 0;
	json_decref(c->final);
	c->final = NULL;
	snprintf(c->status, sizeof c->status, "recording");
	key = strcmp(c->src[s].name, "Unknown") == 0 ? "unknown" :
	    c->src[s].id;
	snprintf(c->source_name, sizeof c->source_name, "%s", c->src[s].name);
	c->src_pick = s;
	/* The engine's three steps. They are quick (a manifest write, no
	 * network): acquisition itself runs on the engine's threads. */
	if (engine_session_start(c->cfg->eng, &c->p, c->id, &e) != 0) {
		c->id[0] = '\0';
		snprintf(c->msg, sizeof c->msg, "Cannot start: %s", e.msg);
		c->sc = SC_CONFIG;
		if (strcmp(e.field, "frequency_hz") == 0 ||
		    strcmp(e.field, "frequency_mhz") == 0)
			c->focus = CF_FREQ;
		return;
	}
	if (engine_session_assign(c->cfg->eng, c->id, key, &e) != 0) {
		engine_session_cancel(c->cfg->eng, c->id, e.msg, &e2);
		snprintf(c->msg, sizeof c->msg, "Cannot assign the source: %s",
		    e.msg);
		c->sc = SC_ASSIGN;
		return;
	}
	/* Before acquisition: its first fix may come at once. */
	locpanel_reset(&c->lp, c->id);
	if (engine_session_acquire(c->cfg->eng, c->id, &e) != 0) {
		engine_session_cancel(c->cfg->eng, c->id, e.msg, &e2);
		snprintf(c->msg, sizeof c->msg, "Cannot start acquisition: %s",
		    e.msg);
		return;
	}
	c->msg[0] = '\0';
	c->acquiring = 1;
	c->t_chunk = mono();
	c->sc = SC_PROGRESS;
	c->force = 1;
}

/* The queue overflowed: re-read counters and station states. */
static void
resync(struct con *c)
{
	json_t	*snap, *st;
	size_t	 i;
	struct row *r;

	if (c->id[0] == '\0' ||
	    (snap = engine_session_snapshot(c->cfg->eng, c->id)) == NULL)
		return;
	if (json_object_get(snap, "chunk") != NULL) {
		c->chunk = (int)jint(snap, "chunk");
		c->measurements = (int)jint(snap, "measurements_count");
	}
	json_array_foreach(json_object_get(snap, "stations"), i, st) {
		if ((r = row_of(c, st)) == NULL)
			continue;
		snprintf(r->state, sizeof r->state, "%s", jstr(st, "state"));
		snprintf(r->reason, sizeof r->reason, "%s", jstr(st, "reason"));
		r->ok = (int)jint(st, "chunks_ok");
		r->miss = (int)jint(st, "chunks_missing");
	}
	json_decref(snap);
	logf_(c, "display fell behind; state re-read from the engine");
}

static void
apply_measurement(struct con *c, const json_t *d)
{
	struct row	*r = row_of(c, d);
	long long	 ci = jint(d, "chunk_index");

	if (r == NULL)
		return;
	r->has_snr = jnum(d, "snr_db", &r->snr);
	r->has_sig = jnum(d, "signal_strength_db", &r->sig);
	r->has_noise = jnum(d, "noise_floor_db", &r->noise);
	r->has_off = jnum(d, "frequency_offset_hz", &r->off);
	r->has_rssi = jnum(d, "rssi_dbm", &r->rssi);
	r->ok++;
	if (ci >= 0 && ci < NCHUNK) {
		r->cst[ci] = WG_SPARK_OK;
		r->hist[ci] = r->has_snr ? r->snr : NAN;
	}
}

static void
apply(struct con *c, const char *name, const json_t *d)
{
	struct row	*r;
	const char	*st, *sid;
	long long	 ci;

	if (strcmp(name, "ui:probe") == 0) {
		if (jint(d, "gen") == c->probe_gen) {
			c->probe_ok = (int)jint(d, "ok");
			c->probe_total = (int)jint(d, "total");
			c->probe_done = 1;
		}
		c->dirty = 1;
		return;
	}
	/* The queue moves with any session's steps (a WebSocket client may
	 * queue behind us, or we behind it). */
	if (strcmp(name, "session:status_update") == 0 ||
	    strcmp(name, "session:completed") == 0) {
		c->nqueued = engine_queued(c->cfg->eng);
		c->dirty = 1;
	}
	/* Only our session: a WebSocket client may drive others.
	 * Measurement rows name it with their column name. */
	sid = json_object_get(d, "session_id") != NULL ?
	    jstr(d, "session_id") : jstr(d, "recording_session_id");
	if (c->id[0] == '\0' || strcmp(sid, c->id) != 0)
		return;
	c->dirty = 1;
	if (locpanel_event(&c->lp, name, d)) {
		/* The session fix also goes to the log (it outlives the
		 * screen there). */
		if (c->lp.final.seen && json_is_true(json_object_get(d,
		    "final"))) {
			char fl[1][LP_LINE];
			locpanel_lines(&c->lp, 1, 200, 1, c->th.utf8, fl);
			logf_(c, "end of session: %s", fl[0]);
		}
		return;
	}
	if (strcmp(name, "session:started") == 0)
		logf_(c, "session \"%s\" created (%s)", jstr(d, "session_name"),
		    c->id);
	else if (strcmp(name, "session:source_assigned") == 0)
		logf_(c, "source: %s", jstr(d, "source_name"));
	else if (strcmp(name, "session:completed") == 0) {
		c->total = (int)jint(d, "chunks");
		c->t_chunk = mono();
		c->qpos = (int)jint(d, "queue_position");
		if (c->qpos > 0)
			logf_(c, "queued: position %d, another session is "
			    "acquiring", c->qpos);
		else
			logf_(c, "acquiring %d chunks from %d stations",
			    c->total, c->nrows);
	} else if (strcmp(name, "receiver:status") == 0) {
		if ((r = row_of(c, d)) == NULL)
			return;
		snprintf(r->state, sizeof r->state, "%s", jstr(d, "state"));
		snprintf(r->reason, sizeof r->reason, "%s", jstr(d, "reason"));
		if (strcmp(r->reason, r->state) == 0)
			r->reason[0] = '\0';
		logf_(c, "%s: %s%s%s", r->name, r->state,
		    r->reason[0] ? " - " : "", r->reason);
	} else if (strcmp(name, "session:measurement") == 0)
		apply_measurement(c, d);
	else if (strcmp(name, "session:missing") == 0) {
		if ((r = row_of(c, d)) == NULL)
			return;
		ci = jint(d, "chunk_index");
		r->miss++;
		if (ci >= 0 && ci < NCHUNK)
			r->cst[ci] = WG_SPARK_MISSING;
		logf_(c, "%s: chunk %lld missing - %s", r->name, ci + 1,
		    jstr(d, "reason"));
	} else if (strcmp(name, "session:progress") == 0) {
		c->chunk = (int)jint(d, "chunk");
		c->total = (int)jint(d, "total_chunks");
		c->measurements = (int)jint(d, "measurements_count");
		c->t_chunk = mono();
		logf_(c, "chunk %d/%d settled, %d measurements", c->chunk,
		    c->total, c->measurements);
	} else if (strcmp(name, "session:error") == 0) {
		logf_(c, "error: %s", jstr(d, "error"));
	} else if (strcmp(name, "session:clock") == 0) {
		logf_(c, "clock: %s", jstr(d, "message"));
	} else if (strcmp(name, "session:status_update") == 0) {
		st = jstr(d, "status");
		snprintf(c->status, sizeof c->status, "%s", st);
		if (strcmp(st, "in_progress") == 0 &&
		    (int)jint(d, "queue_position") != c->qpos) {
			c->qpos = (int)jint(d, "queue_position");
			c->t_chunk = mono();
			if (c->qpos > 0)
				logf_(c, "queued: position %d", c->qpos);
			else
				logf_(c, "acquiring %d chunks from %d stations "
				    "(was queued)", c->total, c->nrows);
		}
		if (strcmp(st, "completed") == 0 || strcmp(st, "failed") == 0) {
			json_decref(c->final);
			c->final = json_deep_copy(d);
			memcpy(c->last_id, c->id, sizeof c->last_id);
			c->acquiring = 0;
			if (c->sc == SC_PROGRESS) {
				c->sc = SC_COMPLETE;
				c->force = 1;
			}
			if (c->modal == MO_CANCEL)
				c->modal = MO_NONE;
			logf_(c, "session %s%s%s", st,
			    json_object_get(d, "error") ? ": " : "",
			    jstr(d, "error"));
		}
	}
}

static void
drain_queue(struct con *c)
{
	struct qev	*q, *next;
	long		 dropped;

	pthread_mutex_lock(&c->qlock);
	q = c->qhead;
	c->qhead = c->qtail = NULL;
	c->qn = 0;
	dropped = c->qdropped;
	pthread_mutex_unlock(&c->qlock);
	for (; q != NULL; q = next) {
		next = q->next;
		apply(c, q->name, q->data);
		json_decref(q->data);
		free(q);
	}
	if (dropped != c->seen_dropped) {
		c->seen_dropped = dropped;
		resync(c);
	}
}

/* ---- stderr into the log ---- */

static void
stderr_capture(struct con *c)
{
	c->saved_stderr = -1;
	c->errpipe[0] = c->errpipe[1] = -1;
	if (pipe2(c->errpipe, O_CLOEXEC) != 0)
		return;
	/* A writer must never block on a full pipe (the network thread logs
	 * through stderr): then the line is lost, not the stream. */
	fcntl(c->errpipe[1], F_SETFL, O_NONBLOCK);
	fcntl(c->errpipe[0], F_SETFL, O_NONBLOCK);
	fflush(stderr);
	c->saved_stderr = dup(STDERR_FILENO);
	dup2(c->errpipe[1], STDERR_FILENO);
}

static void
stderr_read(struct con *c, int final)
{
	ssize_t	 n;
	char	*nl;

	if (c->errpipe[0] < 0)
		return;
	for (;;) {
		if (c->errlen == sizeof c->errbuf - 1) {
			/* An endless line: show what fits. */
			c->errbuf[c->errlen] = '\0';
			logf_(c, "%s", c->errbuf);
			c->errlen = 0;
		}
		n = read(c->errpipe[0], c->errbuf + c->errlen,
		    sizeof c->errbuf - 1 - c->errlen);
		if (n <= 0)
			break;
		c->errlen += (size_t)n;
		c->errbuf[c->errlen] = '\0';
		while ((nl = memchr(c->errbuf, '\n', c->errlen)) != NULL) {
			*nl = '\0';
			if (final)
				fprintf(stderr, "%s\n", c->errbuf);
			else if (c->errbuf[0] != '\0')
				logf_(c, "%s", c->errbuf);
			c->errlen -= (size_t)(nl + 1 - c->errbuf);
			memmove(c->errbuf, nl + 1, c->errlen);
		}
	}
	if (final && c->errlen > 0) {
		c->errbuf[c->errlen] = '\0';
		fprintf(stderr, "%s\n", c->errbuf);
		c->errlen = 0;
	}
}

static void
stderr_restore(struct con *c)
{
	if (c->saved_stderr < 0)
		return;
	fflush(stderr);
	dup2(c->saved_stderr, STDERR_FILENO);
	close(c->saved_stderr);
	close(c->errpipe[1]);
	/* What was written but not shown yet goes to the real stderr. */
	stderr_read(c, 1);
	close(c->errpipe[0]);
}

/* ---- drawing ---- */

static const char *
arrows(const struct con *c, const char *u, const char *a)
{
	return c->th.utf8 ? u : a;
}

static void
status_line(struct con *c, const char *keys)
{
	char	line[1024], fit[1100];
	int	h = LINES, w = COLS;

	snprintf(line, sizeof line, " %s", keys);
	wg_fit(line, w, 0, c->th.utf8, fit, sizeof fit);
	wg_put(stdscr, h - 1, 0, w, c->th.status, fit);
}

static void
title_line(struct con *c, const char *left, const char *right)
{
	char	buf[1024];
	int	w = COLS, lw, rw;

	snprintf(buf, sizeof buf, " %s", left);
	lw = wg_text_cells(buf);
	wg_put(stdscr, 0, 0, w, c->th.title, buf);
	rw = wg_text_cells(right);
	if (lw + 2 + rw + 1 <= w)
		wg_put(stdscr, 0, w - rw - 1, rw, c->th.dim, right);
}

static void
draw_field(struct con *c, int y, int x, int w, struct wg_field *f, int focus,
    int *cy, int *cx)
{
	char	view[WG_FIELD_MAX + 8], pad[WG_FIELD_MAX + 64];
	int	curx;

	wg_field_view(f, w, view, sizeof view, &curx);
	wg_fit(view, w, 0, c->th.utf8, pad, sizeof pad);
	wg_put(stdscr, y, x, w, focus ? c->th.focus : A_UNDERLINE, pad);
	if (focus) {
		*cy = y;
		*cx = x + curx;
	}
}

static void
draw_config(struct con *c)
{
	static const char *labels[CF_N] = { "Session name", "Frequency MHz",
	    "Duration", "Notes", "" };
	char	buf[1024], track[1024];
	int	w = COLS, fx = 18, fw, y, i, cy = -1, cx = -1;
	double	hz;

	snprintf(buf, sizeof buf, "%d station%s %s data %s",
	    c->cfg->stations->n, c->cfg->stations->n == 1 ? "" : "s",
	    arrows(c, "\xc2\xb7", "-"), c->cfg->data_dir);
	/* The data path is the first thing to go on a narrow terminal. */
	if (wg_text_cells(buf) > COLS - 42)
		snprintf(buf, sizeof buf, "%d station%s",
		    c->cfg->stations->n, c->cfg->stations->n == 1 ? "" : "s");
	title_line(c, c->th.utf8 ? "heimdall-rec \xe2\x80\x94 new recording "
	    "session" : "heimdall-rec - new recording session", buf);
	wg_rule(stdscr, &c->th, 1, 0, w, "1 Configure");
	fw = w - fx - 2;
	if (fw > 60)
		fw = 60;
	for (i = 0; i < CF_N; i++) {
		y = 3 + 2 * i;
		if (i == CF_START)
			y++;
		if (c->focus == i)
			wg_put(stdscr, y, 0, 2, c->th.focus, ">");
		if (i != CF_START)
			wg_put(stdscr, y, 2, fx - 3, c->th.label, labels[i]);
		switch (i) {
		case CF_NAME:
			draw_field(c, y, fx, fw, &c->name, c->focus == i, &cy,
			    &cx);
			break;
		case CF_FREQ:
			draw_field(c, y, fx, fw > 20 ? 20 : fw, &c->freq,
			    c->focus == i, &cy, &cx);
			break;
		case CF_NOTES:
			draw_field(c, y, fx, fw, &c->notes, c->focus == i, &cy,
			    &cx);
			break;
		case CF_DUR:
			wg_slider_text(&c->dur, 30, c->th.utf8, track,
			    sizeof track);
			snprintf(buf, sizeof buf, "%s %s %s %2d s",
			    arrows(c, "\xe2\x97\x80", "<"), track,
			    arrows(c, "\xe2\x96\xb6", ">"), c->dur.value);
			wg_put(stdscr, y, fx, w - fx, c->focus == i ?
			    c->th.focus : 0, buf);
			break;
		case CF_START:
			wg_put(stdscr, y, fx, w - fx, c->focus == i ?
			    c->th.select : c->th.label,
			    "[ Start Recording Session ]");
			break;
		}
		/* The line under each field: its error, else a hint. */
		buf[0] = '\0';
		if (i == CF_NAME)
			snprintf(buf, sizeof buf, "%s", c->ferr[i][0] ?
			    c->ferr[i] : "required, up to 255 bytes");
		else if (i == CF_FREQ) {
			if (c->ferr[i][0] == '\0' && !blank(c->freq.buf) &&
			    check_freq(c, &hz) == 0)
				snprintf(buf, sizeof buf, "%s inside every "
				    "station's range (%g-%g MHz)",
				    arrows(c, "\xe2\x9c\x93", "ok:"),
				    c->fmin / 1e6, c->fmax / 1e6);
			else if (c->ferr[i][0])
				snprintf(buf, sizeof buf, "%s", c->ferr[i]);
			else
				snprintf(buf, sizeof buf, "stations accept "
				    "%g-%g MHz", c->fmin / 1e6, c->fmax / 1e6);
		} else if (i == CF_DUR)
			snprintf(buf, sizeof buf, "%s or type digits: %d-%d s, "
			    "one chunk per second", arrows(c,
			    "\xe2\x86\x90/\xe2\x86\x92", "Left/Right"),
			    SESSION_DURATION_MIN, SESSION_DURATION_MAX);
		else if (i == CF_NOTES)
			snprintf(buf, sizeof buf, "optional");
		if (buf[0] != '\0')
			wg_put(stdscr, y + 1, fx, w - fx, c->ferr[i][0] ?
			    c->th.error : c->th.dim, buf);
	}
	if (c->msg[0] != '\0')
		wg_put(stdscr, 15, 2, w - 4, c->th.error, c->msg);
	/* --listen: where the WebSocket API really is (the port, when 0 was
	 * asked); also the event log's first line. */
	if (c->cfg->notice != NULL && LINES > 18)
		wg_put(stdscr, 17, 2, w - 4, c->th.dim, c->cfg->notice);
	status_line(c, c->focus == CF_DUR ?
	    "Tab/Up/Down field  Left/Right or digits duration  Enter next  "
	    "? keys  Esc quit" : c->focus == CF_START ?
	    "Enter start  Tab/Up/Down field  ? keys  Esc quit" :
	    "Tab/Up/Down field  Enter next  F1 keys  Esc quit");
	if (cy >= 0) {
		curs_set(1);
		move(cy, cx);
	} else
		curs_set(0);
}

static void
draw_assign(struct con *c)
{
	char	buf[1024], line[1024], fit[1100];
	int	w = COLS, h, i, y, idx;
	const struct source *s;

	title_line(c, c->p.name, "");
	wg_rule(stdscr, &c->th, 1, 0, w, "2 Assign source: who is transmitting?");
	snprintf(buf, sizeof buf, "Filter: %s", c->list.filter);
	wg_put(stdscr, 3, 2, w - 4, c->th.label, buf);
	if (c->list.filter[0] == '\0')
		wg_put(stdscr, 3, 10, w - 12, c->th.dim,
		    "(type to filter)");
	h = LINES - 10;
	if (h < 1)
		h = 1;
	wg_list_scroll(&c->list, h);
	for (i = 0; i < h && c->list.top + i < c->list.nmatch; i++) {
		idx = c->list.match[c->list.top + i];
		s = &c->src[idx];
		if (s->frequency_hz > 0)
			snprintf(buf, sizeof buf, "%.6f MHz", s->frequency_hz /
			    1e6);
		else
			buf[0] = '\0';
		/* A marker as well as the highlight: readable without
		 * colour or reverse video. */
		snprintf(line, sizeof line, "%s %-28s %-16s %s",
		    c->list.top + i == c->list.sel ? ">" : " ", s->name, buf,
		    s->description);
		wg_fit(line, w - 4, 0, c->th.utf8, fit, sizeof fit);
		y = 5 + i;
		wg_put(stdscr, y, 2, w - 4, c->list.top + i == c->list.sel ?
		    c->th.select : 0, fit);
	}
	if (c->list.nmatch == 0)
		wg_put(stdscr, 5, 2, w - 4, c->th.warn,
		    "No source matches: Backspace edits the filter");
	idx = wg_list_selected(&c->list);
	if (idx >= 0) {
		s = &c->src[idx];
		if (strcmp(s->name, "Unknown") == 0)
			snprintf(buf, sizeof buf, "Selected: Unknown (the "
			    "transmitter is not identified)");
		else if (s->has_coords)
			snprintf(buf, sizeof buf, "Selected: %s at %.4f, %.4f",
			    s->name, s->latitude, s->longitude);
		else
			snprintf(buf, sizeof buf, "Selected: %s", s->name);
		wg_put(stdscr, LINES - 4, 2, w - 4, c->th.label, buf);
	}
	if (c->msg[0] != '\0')
		wg_put(stdscr, LINES - 3, 2, w - 4, c->th.error, c->msg);
	status_line(c, "type to filter  Up/Down choose  Enter assign  "
	    "Esc back  ? keys");
	curs_set(0);
}

static void
draw_confirm(struct con *c)
{
	char	buf[1024];
	int	w = COLS, y = 3, lx = 4, vx = 22;

	title_line(c, c->p.name, "");
	wg_rule(stdscr, &c->th, 1, 0, w, "3 Start acquisition");
#define KV(k, ...) do {							\
	snprintf(buf, sizeof buf, __VA_ARGS__);				\
	wg_put(stdscr, y, lx, vx - lx, c->th.label, k);			\
	wg_put(stdscr, y, vx, w - vx - 1, 0, buf);			\
	y++;								\
} while (0)
	KV("Session name", "%s", c->p.name);
	KV("Frequency", "%.6f MHz", c->p.freq_hz / 1e6);
	KV("Duration", "%d s (%d chunks per station)", c->p.duration_s,
	    c->p.duration_s);
	KV("Source", "%s", c->source_name);
	KV("Notes", "%s", c->p.notes[0] ? c->p.notes : "-");
	if (c->probe_done)
		KV("Stations", "%d configured, %d reachable", c->cfg->stations->n,
		    c->probe_ok);
	else
		KV("Stations", "%d configured, checking which are reachable...",
		    c->cfg->stations->n);
	KV("Data", "%s", c->cfg->data_dir);
#undef KV
	if (c->probe_done && c->probe_ok < c->probe_total)
		wg_put(stdscr, y++, vx, w - vx - 1, c->th.warn,
		    "unreachable stations will be retried, then marked failed");
	y++;
	wg_put(stdscr, y + 1, lx, w - lx - 1, c->th.select,
	    "[ Enter: start acquisition ]");
	if (c->msg[0] != '\0')
		wg_put(stdscr, y + 3, lx, w - lx - 1, c->th.error, c->msg);
	status_line(c, "Enter start  Esc back  ? keys  q quit");
	curs_set(0);
}

/* Lines of the localization panel (without its rule) on the acquisition
 * screen, and of the session fix on the completion screen: fewer on short
 * terminals, so that the table and the event log keep their rows. */
static int
loc_rows(const struct con *c)
{
	/* The completion screen's summary is taller: 80x24 keeps 3 lines,
	 * 60x20 one, so that 7 stations' rows still show. */
	if (c->sc == SC_COMPLETE)
		return LINES >= 24 ? 3 : LINES >= 22 ? 2 : 1;
	return LINES >= 22 ? 3 : LINES >= 18 ? 2 : 1;
}

/* 1 if the session had localization events (the completion screen shows
 * its session fix). */
static int
loc_seen(const struct con *c)
{
	return c->lp.fix.seen || c->lp.final.seen || c->lp.tdoa_chunk >= 0;
}

/* The end of a session, under its final table: status, chunks, the
 * session fix, where the data went. */
static int
draw_summary(struct con *c, int y)
{
	char		 buf[1024], part[1024];
	const json_t	*d = c->final, *sum;
	int		 w = COLS, lx = 2, vx = 18, failed;
	size_t		 off, n, k;

	if (d == NULL)
		return y;
	sum = json_object_get(d, "summary");
	failed = strcmp(jstr(d, "status"), "completed") != 0;
	wg_rule(stdscr, &c->th, y++, 0, w, failed ? "Session failed" :
	    "Session complete");
	if (failed)
		snprintf(buf, sizeof buf, "failed: %s", jstr(d, "error"));
	else
		snprintf(buf, sizeof buf, "completed");
	wg_put(stdscr, y, lx, vx - lx, c->th.label, "Status");
	wg_put(stdscr, y++, vx, w - vx - 1, failed ? c->th.bad : c->th.ok, buf);
	snprintf(buf, sizeof buf, "%lld of %lld stored, %lld missing "
	    "(%lld measurements)", jint(sum, "chunks_stored"),
	    jint(sum, "chunks_expected"), jint(sum, "chunks_missing"),
	    jint(sum, "measurements_count"));
	wg_put(stdscr, y, lx, vx - lx, c->th.label, "Chunks");
	wg_put(stdscr, y++, vx, w - vx - 1, jint(sum, "chunks_missing") > 0 ?
	    c->th.warn : 0, buf);
	if (loc_seen(c)) {
		char	ll[3][LP_LINE];
		int	n = locpanel_lines(&c->lp, 1, w - vx - 1, loc_rows(c),
			    c->th.utf8, ll), i;
		wg_put(stdscr, y, lx, vx - lx, c->th.label, "Session fix");
		for (i = 0; i < n; i++)
			wg_put(stdscr, y++, vx, w - vx - 1, i == 0 &&
			    !c->lp.final.ok ? c->th.warn : 0, ll[i]);
	}
	/* The path in full, over as many lines as it needs. */
	snprintf(buf, sizeof buf, "%s/sessions/%s/", c->cfg->data_dir, c->id);
	wg_put(stdscr, y, lx, vx - lx, c->th.label, "Dataset");
	for (off = 0, n = strlen(buf); off < n && y < LINES - 2; off += k) {
		k = n - off < (size_t)(w - vx - 1) ? n - off :
		    (size_t)(w - vx - 1);
		memcpy(part, buf + off, k);
		part[k] = '\0';
		wg_put(stdscr, y++, vx, w - vx - 1, 0, part);
	}
	wg_put(stdscr, y, lx, vx - lx, c->th.label, "Central store");
	if (c->cfg->store_state == NULL)
		snprintf(buf, sizeof buf, "not configured: the dataset folder "
		    "holds everything");
	else if (c->cfg->store_state(c->cfg->store_ctx, c->id, buf,
	    sizeof buf) != 0)
		snprintf(buf, sizeof buf, "state unknown");
	wg_put(stdscr, y++, vx, w - vx - 1, c->cfg->store_state == NULL ?
	    c->th.dim : 0, buf);
	return y;
}

enum { TC_NAME, TC_STATE, TC_SNR, TC_SIG, TC_NOISE, TC_OFF, TC_RSSI,
    TC_OK, TC_SPARK, TC_N };
static const struct wg_col cols[TC_N] = {
	{ "Station", 10, 24, 1, 0, 0 },
	{ "State", 10, 40, 4, 0, 0 },
	{ "SNR dB", 6, 0, 0, 1, 0 },
	{ "Sig dB", 6, 0, 0, 1, 0 },
	{ "Noise", 6, 0, 0, 1, 0 },
	{ "Off Hz", 7, 0, 0, 1, 0 },
	{ "RSSI", 5, 0, 0, 1, 2 },
	{ "ok/miss", 7, 0, 0, 1, 0 },
	{ "SNR/chunk", 9, NCHUNK, 1, 0, 1 },
};

static unsigned int
state_attr(const struct con *c, const char *st)
{
	if (strcmp(st, "streaming") == 0)
		return c->th.ok;
	if (strcmp(st, "failed") == 0)
		return c->th.bad;
	if (strcmp(st, "retrying") == 0 || strcmp(st, "connecting") == 0)
		return c->th.warn;
	return c->th.dim;
}

/* Cells of one row, left to right, each with its attribute. */
static void
draw_cells(struct con *c, int y, const int *wid, const char *const *cells,
    const unsigned int *attr)
{
	char	buf[1024];
	int	i, x = 0;

	for (i = 0; i < TC_N; i++) {
		if (wid[i] <= 0)
			continue;
		wg_fit(cells[i], wid[i], cols[i].right, c->th.utf8, buf,
		    sizeof buf);
		wg_put(stdscr, y, x, wid[i], attr[i], buf);
		x += wid[i] + 1;
	}
}

static void
draw_progress(struct con *c)
{
	char		 buf[1024], bar[1024], cell[TC_N][512], spark[512];
	const char	*cells[TC_N];
	unsigned int	 attr[TC_N];
	int		 w = COLS, h = LINES, wid[TC_N], i, j, y, th, lh, bw, upto;
	double		 frac, within, lo = INFINITY, hi = -INFINITY;
	struct row	*r;

	snprintf(buf, sizeof buf, "%.6f MHz %s %d s %s %s", c->p.freq_hz / 1e6,
	    arrows(c, "\xc2\xb7", "-"), c->p.duration_s,
	    arrows(c, "\xc2\xb7", "-"), c->source_name);
	title_line(c, c->p.name, buf);

	/* Chunk counter and a bar that moves per chunk and, in between,
	 * with the clock (each chunk is one second of signal). */
	within = 0;
	if (c->acquiring && c->qpos == 0 && c->chunk < c->total) {
		within = mono() - c->t_chunk;
		within = within < 0 ? 0 : within > 0.95 ? 0.95 : within;
	}
	frac = c->total > 0 ? (c->chunk + within) / c->total : 0;
	snprintf(buf, sizeof buf, "Chunk %d/%d", c->chunk, c->total);
	wg_put(stdscr, 1, 1, 14, c->th.label, buf);
	if (c->qpos > 0)
		snprintf(buf, sizeof buf, "queued: position %d", c->qpos);
	else
		snprintf(buf, sizeof buf, "%3d%%  %d measurements",
		    (int)floor(frac * 100 + 1e-9), c->measurements);
	bw = w - 15 - wg_text_cells(buf) - 2;
	if (bw < 5)
		bw = 5;
	wg_bar_text(frac, bw, c->th.utf8, bar, sizeof bar);
	wg_put(stdscr, 1, 15, bw, c->th.bar, bar);
	wg_put(stdscr, 1, 15 + bw + 1, w - 16 - bw, 0, buf);

	/* The table, then the event log with what is left. */
	wg_table_layout(cols, TC_N, w, wid);
	for (i = 0; i < TC_N; i++) {
		cells[i] = cols[i].title;
		attr[i] = c->th.label;
	}
	draw_cells(c, 2, wid, cells, attr);
	/* Below the table: the localization panel (a rule and its lines)
	 * and at least 4 log lines, or the 6-7 summary lines and the
	 * session fix once the session is over. */
	lh = c->sc == SC_COMPLETE ? 7 + (loc_seen(c) ? loc_rows(c) : 0) :
	    4 + 1 + loc_rows(c);
	th = c->nrows;
	if (th > h - 3 - 1 - 1 - lh)
		th = h - 3 - 1 - 1 - lh;
	if (th < 1)
		th = 1;
	if (c->table_top > c->nrows - th)
		c->table_top = c->nrows - th;
	if (c->table_top < 0)
		c->table_top = 0;
	/* The sparkline shows the newest chunks any station has reached. */
	upto = 0;
	for (i = 0; i < c->nrows; i++)
		for (j = 0; j < NCHUNK; j++)
			if (c->rows[i].cst[j] != WG_SPARK_NONE && j + 1 > upto)
				upto = j + 1;
	for (i = 0; i < c->nrows; i++)
		for (j = 0; j < c->total && j < NCHUNK; j++)
			if (c->rows[i].cst[j] == WG_SPARK_OK &&
			    isfinite(c->rows[i].hist[j])) {
				if (c->rows[i].hist[j] < lo)
					lo = c->rows[i].hist[j];
				if (c->rows[i].hist[j] > hi)
					hi = c->rows[i].hist[j];
			}
	/* One scale for every station, so rows compare; at least 12 dB
	 * tall, so a steady SNR draws a flat line, not magnified noise. */
	if (hi - lo < 12 && isfinite(lo)) {
		double mid = (lo + hi) / 2;
		lo = mid - 6;
		hi = mid + 6;
	}
	for (i = 0; i < th && c->table_top + i < c->nrows; i++) {
		r = &c->rows[c->table_top + i];
		for (j = 0; j < TC_N; j++) {
			cells[j] = cell[j];
			attr[j] = 0;
			cell[j][0] = '\0';
		}
		snprintf(cell[TC_NAME], sizeof cell[0], "%d %s", r->websdr,
		    r->name);
		if (r->reason[0] != '\0')
			snprintf(cell[TC_STATE], sizeof cell[0], "%s: %s",
			    r->state, r->reason);
		else
			snprintf(cell[TC_STATE], sizeof cell[0], "%s",
			    r->state);
		attr[TC_STATE] = state_attr(c, r->state);
		if (r->has_snr)
			snprintf(cell[TC_SNR], sizeof cell[0], "%.1f", r->snr);
		else
			snprintf(cell[TC_SNR], sizeof cell[0], "-");
		if (r->has_sig)
			snprintf(cell[TC_SIG], sizeof cell[0], "%.1f", r->sig);
		if (r->has_noise)
			snprintf(cell[TC_NOISE], sizeof cell[0], "%.1f",
			    r->noise);
		if (r->has_off)
			snprintf(cell[TC_OFF], sizeof cell[0], "%+.1f", r->off);
		if (r->has_rssi)
			snprintf(cell[TC_RSSI], sizeof cell[0], "%.0f",
			    r->rssi);
		snprintf(cell[TC_OK], sizeof cell[0], "%d/%d", r->ok, r->miss);
		if (r->miss > 0)
			attr[TC_OK] = c->th.warn;
		wg_spark_text(r->hist, r->cst, upto, wid[TC_SPARK], lo, hi, c->th.utf8, spark,
		    sizeof spark);
		snprintf(cell[TC_SPARK], sizeof cell[0], "%s", spark);
		attr[TC_SPARK] = c->th.ok;
		/* No metrics yet (failed, or still connecting): the reason
		 * may use their columns, where it is readable in full. */
		if (!r->has_snr && !r->has_sig && !r->has_noise &&
		    !r->has_off && r->reason[0] != '\0') {
			int x = 0, span = 0;
			for (j = 0; j < TC_STATE; j++)
				x += wid[j] > 0 ? wid[j] + 1 : 0;
			for (j = TC_STATE; j <= TC_RSSI; j++)
				span += wid[j] > 0 ? wid[j] + 1 : 0;
			cell[TC_SNR][0] = '\0';
			draw_cells(c, 3 + i, wid, cells, attr);
			wg_fit(cell[TC_STATE], span - 1, 0, c->th.utf8, buf,
			    sizeof buf);
			wg_put(stdscr, 3 + i, x, span - 1, attr[TC_STATE], buf);
			continue;
		}
		draw_cells(c, 3 + i, wid, cells, attr);
	}
	y = 3 + th;
	if (c->sc == SC_COMPLETE) {
		y = draw_summary(c, y);
		/* The room left shows the end of the event log. */
		lh = h - 1 - (y + 1);
		if (lh >= 2) {
			wg_rule(stdscr, &c->th, y, 0, w, "Events");
			j = c->log_n > lh ? c->log_n - lh : 0;
			for (i = 0; i < lh && j + i < c->log_n; i++)
				wg_put(stdscr, y + 1 + i, 1, w - 2, 0,
				    c->log[(c->log_head + j + i) % LOG_MAX]);
		}
		status_line(c, c->nrows > th ? "n new session (same settings)  "
		    "q quit  Up/Down scroll  ? keys" : "n new session (same "
		    "settings)  q quit  ? keys");
		curs_set(0);
		return;
	}
	/* The localization panel: the latest chunk's fix. */
	{
		char	ll[3][LP_LINE];
		int	n;
		locpanel_title(&c->lp, 0, c->total, c->th.utf8, buf,
		    sizeof buf);
		wg_rule(stdscr, &c->th, y++, 0, w, buf);
		n = locpanel_lines(&c->lp, 0, w - 2, loc_rows(c), c->th.utf8,
		    ll);
		for (i = 0; i < loc_rows(c); i++)
			if (i < n)
				wg_put(stdscr, y + i, 1, w - 2, i == 0 &&
				    c->lp.fix.seen && !c->lp.fix.ok ?
				    c->th.warn : c->lp.fix.seen ? 0 :
				    c->th.dim, ll[i]);
		y += loc_rows(c);
	}
	if (c->nrows > th)
		snprintf(buf, sizeof buf, "Events (stations %d-%d of %d: "
		    "Up/Down scroll)", c->table_top + 1, c->table_top + th,
		    c->nrows);
	else
		snprintf(buf, sizeof buf, "Events");
	/* Acquisitions waiting behind the running one (ours included when
	 * it waits), e.g. queued by WebSocket clients of --listen. */
	if (c->nqueued > 0) {
		size_t off = strlen(buf);
		snprintf(buf + off, sizeof buf - off, "  %s queued: %d "
		    "session%s", arrows(c, "\xc2\xb7", "-"), c->nqueued,
		    c->nqueued == 1 ? "" : "s");
	}
	wg_rule(stdscr, &c->th, y, 0, w, buf);
	lh = h - 1 - (y + 1);
	/* The newest lines that fit. */
	j = c->log_n > lh ? c->log_n - lh : 0;
	for (i = 0; i < lh && j + i < c->log_n; i++)
		wg_put(stdscr, y + 1 + i, 1, w - 2, 0,
		    c->log[(c->log_head + j + i) % LOG_MAX]);
	status_line(c, c->acquiring ? "Ctrl-C cancel  Up/Down scroll "
	    "stations  ? keys" : "waiting for the session to end...");
	curs_set(0);
}

static void
draw_modal(struct con *c, const char *title, const char *const *lines,
    int n)
{
	int	w = 0, i, bw, bh, y, x;

	for (i = 0; i < n; i++)
		if (wg_text_cells(lines[i]) > w)
			w = wg_text_cells(lines[i]);
	if (wg_text_cells(title) > w)
		w = wg_text_cells(title);
	bw = w + 4 < COLS ? w + 4 : COLS;
	bh = n + 4 < LINES ? n + 4 : LINES;
	y = (LINES - bh) / 2;
	x = (COLS - bw) / 2;
	wg_box(stdscr, &c->th, y, x, bh, bw);
	wg_put(stdscr, y + 1, x + 2, bw - 4, c->th.title, title);
	for (i = 0; i < n && i < bh - 3; i++)
		wg_put(stdscr, y + 2 + i, x + 2, bw - 4, 0, lines[i]);
	curs_set(0);
}

static void
draw_help(struct con *c)
{
	static const char *cfg[] = {
		"Tab, Down, Enter   next field",
		"Shift-Tab, Up      previous field",
		"Left/Right         move the cursor; duration -/+ 1 s",
		"digits             type the duration (on the slider)",
		"Ctrl-U             clear the field",
		"Enter on [Start]   go to the source",
		"Esc                quit",
		"", "any key closes this help" };
	static const char *asg[] = {
		"letters            filter the list",
		"Backspace, Ctrl-U  edit / clear the filter",
		"Up/Down PgUp/PgDn  choose",
		"Enter              assign the chosen source",
		"Esc                back to the settings",
		"", "any key closes this help" };
	static const char *cnf[] = {
		"Enter              start acquisition",
		"Esc                back to the source",
		"q                  quit",
		"", "any key closes this help" };
	static const char *prg[] = {
		"Ctrl-C             cancel (asks first; stored chunks are kept)",
		"Up/Down PgUp/PgDn  scroll the stations",
		"", "any key closes this help" };
	static const char *cmp[] = {
		"n                  new session with the same settings",
		"q, Esc             quit",
		"", "any key closes this help" };

	switch (c->sc) {
	case SC_CONFIG:
		draw_modal(c, "Keys: configure", cfg, 9);
		break;
	case SC_ASSIGN:
		draw_modal(c, "Keys: assign source", asg, 7);
		break;
	case SC_CONFIRM:
		draw_modal(c, "Keys: start acquisition", cnf, 5);
		break;
	case SC_PROGRESS:
		draw_modal(c, "Keys: acquisition", prg, 4);
		break;
	case SC_COMPLETE:
		draw_modal(c, "Keys: session complete", cmp, 4);
		break;
	}
}

static void
render(struct con *c)
{
	static const char *cancel[] = {
		"The session ends failed; chunks already stored are kept.",
		"", "y  cancel it      n, Esc  keep recording" };
	static const char *quit[] = { "", "y  quit      n, Esc  stay" };

	erase();
	if (COLS < 40 || LINES < 12) {
		mvaddstr(0, 0, "Terminal too small: 80x24 or more, please.");
		curs_set(0);
	} else {
		switch (c->sc) {
		case SC_CONFIG:
			draw_config(c);
			break;
		case SC_ASSIGN:
			draw_assign(c);
			break;
		case SC_CONFIRM:
			draw_confirm(c);
			break;
		case SC_PROGRESS:
			draw_progress(c);
			break;
		case SC_COMPLETE:
			draw_progress(c);
			break;
		}
		if (c->modal == MO_HELP)
			draw_help(c);
		else if (c->modal == MO_CANCEL)
			draw_modal(c, "Cancel the acquisition?", cancel, 3);
		else if (c->modal == MO_QUIT)
			draw_modal(c, "Quit heimdall-rec?", quit, 2);
	}
	/* ncurses sends only the cells that differ from the last frame. */
	wnoutrefresh(stdscr);
	doupdate();
	c->dirty = 0;
	c->force = 0;
	c->last_frame = mono();
}

/* ---- keys ---- */

static int
map_key(int r, wint_t ch)
{
	if (r == KEY_CODE_YES) {
		switch (ch) {
		case KEY_LEFT: return WG_KEY_LEFT;
		case KEY_RIGHT: return WG_KEY_RIGHT;
		case KEY_UP: return WG_KEY_UP;
		case KEY_DOWN: return WG_KEY_DOWN;
		case KEY_HOME: return WG_KEY_HOME;
		case KEY_END: return WG_KEY_END;
		case KEY_PPAGE: return WG_KEY_PGUP;
		case KEY_NPAGE: return WG_KEY_PGDN;
		case KEY_BACKSPACE: return WG_KEY_BACKSPACE;
		case KEY_DC: return WG_KEY_DELETE;
		case KEY_ENTER: return WG_KEY_ENTER;
		case KEY_BTAB: return WG_KEY_BTAB;
		case KEY_F(1): return WG_KEY_F1;
		case KEY_F(10): return WG_KEY_F10;
		case KEY_RESIZE: return WG_KEY_RESIZE;
		}
		return -1;
	}
	switch (ch) {
	case '\r': case '\n': return WG_KEY_ENTER;
	case '\t': return WG_KEY_TAB;
	case 27: return WG_KEY_ESC;
	case 0x7f: case 8: return WG_KEY_BACKSPACE;
	case 21: return WG_KEY_CTRL_U;
	}
	return (int)ch;
}

static void
go_config(struct con *c)
{
	c->sc = SC_CONFIG;
	c->msg[0] = '\0';
}

static void
go_assign(struct con *c)
{
	if (load_sources(c) != 0)
		return;
	c->sc = SC_ASSIGN;
	c->msg[0] = '\0';
}

static void
go_confirm(struct con *c)
{
	if (wg_list_selected(&c->list) < 0) {
		snprintf(c->msg, sizeof c->msg, "Choose a source first "
		    "(Backspace edits the filter)");
		return;
	}
	snprintf(c->source_name, sizeof c->source_name, "%s",
	    c->src[wg_list_selected(&c->list)].name);
	c->src_pick = wg_list_selected(&c->list);
	c->sc = SC_CONFIRM;
	c->msg[0] = '\0';
	probe_start(c);
}

static void
key_config(struct con *c, int k)
{
	struct wg_field	*f = NULL;
	double		 hz;

	if (c->focus == CF_NAME)
		f = &c->name;
	else if (c->focus == CF_FREQ)
		f = &c->freq;
	else if (c->focus == CF_NOTES)
		f = &c->notes;
	if (k == WG_KEY_ESC) {
		c->modal = MO_QUIT;
		return;
	}
	if (k == WG_KEY_F1 || (k == '?' && f == NULL)) {
		c->modal = MO_HELP;
		return;
	}
	if (k == WG_KEY_TAB || k == WG_KEY_DOWN || (k == WG_KEY_ENTER &&
	    c->focus != CF_START)) {
		wg_slider_commit(&c->dur);
		if (c->focus == CF_NAME)
			check_name(c);
		c->focus = (c->focus + 1) % CF_N;
		return;
	}
	if (k == WG_KEY_BTAB || k == WG_KEY_UP) {
		wg_slider_commit(&c->dur);
		c->focus = (c->focus + CF_N - 1) % CF_N;
		return;
	}
	if (k == WG_KEY_ENTER) {	/* on Start */
		if (validate_config(c) == 0)
			go_assign(c);
		return;
	}
	if (c->focus == CF_DUR) {
		wg_slider_key(&c->dur, k);
		return;
	}
	if (f != NULL && wg_field_key(f, k)) {
		/* Validate as you type; the name only complains once it was
		 * left empty. */
		if (f == &c->freq)
			check_freq(c, &hz);
		else if (f == &c->name && c->ferr[CF_NAME][0] != '\0')
			check_name(c);
		c->msg[0] = '\0';
	}
}

static void
key_assign(struct con *c, int k)
{
	if (k == WG_KEY_ESC) {
		go_config(c);
		return;
	}
	if (k == WG_KEY_F1 || k == '?') {
		c->modal = MO_HELP;
		return;
	}
	if (k == WG_KEY_ENTER) {
		go_confirm(c);
		return;
	}
	c->msg[0] = '\0';
	wg_list_key(&c->list, k, LINES - 10);
}

static void
key_progress(struct con *c, int k)
{
	int	page = LINES - 9 > 1 ? LINES - 9 : 1;

	switch (k) {
	case WG_KEY_F1: case '?':
		c->modal = MO_HELP;
		break;
	case WG_KEY_UP:
		c->table_top--;
		break;
	case WG_KEY_DOWN:
		c->table_top++;
		break;
	case WG_KEY_PGUP:
		c->table_top -= page;
		break;
	case WG_KEY_PGDN:
		c->table_top += page;
		break;
	case WG_KEY_ESC:
		logf_(c, "acquisition is running: Ctrl-C cancels it");
		break;
	}
}

static void
key(struct con *c, int k)
{
	struct session_error	e;

	c->dirty = 1;
	if (k == WG_KEY_RESIZE) {
		c->force = 1;
		return;
	}
	if (c->modal == MO_HELP) {
		c->modal = MO_NONE;
		return;
	}
	if (c->modal == MO_CANCEL) {
		if (k == 'y' || k == 'Y') {
			if (engine_session_cancel(c->cfg->eng, c->id,
			    "by the operator", &e) != 0)
				logf_(c, "cancel: %s", e.msg);
			else
				logf_(c, "cancelling; stored chunks are kept");
			c->modal = MO_NONE;
		} else if (k == 'n' || k == 'N' || k == WG_KEY_ESC)
			c->modal = MO_NONE;
		return;
	}
	if (c->modal == MO_QUIT) {
		if (k == 'y' || k == 'Y' || k == 'q')
			c->quit = 1;
		else if (k == 'n' || k == 'N' || k == WG_KEY_ESC)
			c->modal = MO_NONE;
		return;
	}
	switch (c->sc) {
	case SC_CONFIG:
		key_config(c, k);
		break;
	case SC_ASSIGN:
		key_assign(c, k);
		break;
	case SC_CONFIRM:
		if (k == WG_KEY_ENTER)
			start_session(c);
		else if (k == WG_KEY_ESC)
			go_assign(c);
		else if (k == 'q' || k == 'Q')
			c->modal = MO_QUIT;
		else if (k == '?' || k == WG_KEY_F1)
			c->modal = MO_HELP;
		break;
	case SC_PROGRESS:
		key_progress(c, k);
		break;
	case SC_COMPLETE:
		if (k == 'q' || k == 'Q' || k == WG_KEY_ESC)
			c->quit = 1;
		else if (k == 'n' || k == 'N') {
			c->id[0] = '\0';
			c->focus = CF_NAME;
			go_config(c);
		} else if (k == '?' || k == WG_KEY_F1)
			c->modal = MO_HELP;
		else
			key_progress(c, k);
		break;
	}
}

/* Ctrl-C: ask before cancelling a running acquisition; elsewhere quit
 * (nothing is lost before acquisition starts). */
static void
on_interrupt(struct con *c)
{
	c->dirty = 1;
	if (c->sc == SC_PROGRESS && c->acquiring) {
		if (c->modal == MO_CANCEL)
			return;
		c->modal = MO_CANCEL;
		logf_(c, "Ctrl-C: confirm with y to cancel the session");
	} else if (c->sc == SC_PROGRESS)
		return;		/* already ending */
	else
		c->quit = 1;
}

static void
on_resize(struct con *c)
{
	struct winsize	ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	/* Repaint everything at once: after a resize the terminal's idea of
	 * the screen is unknown. */
	clearok(curscr, TRUE);
	c->force = 1;
	c->dirty = 1;
}

/* ---- main loop ---- */

static void
read_wake(struct con *c)
{
	char	buf[256];
	ssize_t	n;

	while ((n = read(c->wake[0], buf, sizeof buf)) > 0)
		;
	if (got_int) {
		got_int = 0;
		on_interrupt(c);
	}
	if (got_winch) {
		got_winch = 0;
		on_resize(c);
	}
	if (got_term)
		c->sig_term = 1;
}

static void
read_keys(struct con *c)
{
	wint_t	ch;
	int	r, k;

	while ((r = get_wch(&ch)) != ERR) {
		k = map_key(r, ch);
		if (k == 3) {		/* ^C as a key (raw terminals) */
			on_interrupt(c);
			continue;
		}
		if (k >= 0)
			key(c, k);
		if (c->quit)
			break;
	}
}

static void
defaults(struct con *c)
{
	const struct stations	*st = c->cfg->stations;
	int			 i;

	wg_field_init(&c->name, SESSION_NAME_MAX, "");
	wg_field_init(&c->freq, 32, "");
	wg_field_init(&c->notes, SESSION_NOTES_MAX, "");
	wg_slider_init(&c->dur, SESSION_DURATION_MIN, SESSION_DURATION_MAX, 10);
	c->fmin = 0;
	c->fmax = 0;
	for (i = 0; i < st->n; i++) {
		if (i == 0 || st->v[i].freq_min_hz > c->fmin)
			c->fmin = st->v[i].freq_min_hz;
		if (i == 0 || st->v[i].freq_max_hz < c->fmax)
			c->fmax = st->v[i].freq_max_hz;
	}
	c->src_pick = 0;
}

static void
loop(struct con *c)
{
	struct pollfd	pf[3];
	double		now, due;
	int		timeout, nfd;

	while (!c->quit) {
		if (c->sig_term) {
			/* SIGTERM/SIGHUP: stop the session (chunks kept). */
			struct session_error e;
			if (c->acquiring)
				engine_session_cancel(c->cfg->eng, c->id,
				    "the console was terminated", &e);
			break;
		}
		/* During acquisition the bar moves with the clock. */
		if (c->sc == SC_PROGRESS && c->acquiring)
			c->dirty = 1;
		now = mono();
		if (c->dirty || c->force) {
			due = c->force ? now : c->last_frame + FRAME_S;
			if (due <= now) {
				render(c);
				continue;
			}
			timeout = (int)((due - now) * 1000) + 1;
		} else
			timeout = -1;	/* keys, events and signals wake us */
		pf[0].fd = STDIN_FILENO;
		pf[0].events = POLLIN;
		pf[1].fd = c->wake[0];
		pf[1].events = POLLIN;
		pf[2].fd = c->errpipe[0];
		pf[2].events = POLLIN;
		nfd = c->errpipe[0] >= 0 ? 3 : 2;
		pf[0].revents = pf[1].revents = pf[2].revents = 0;
		if (poll(pf, (nfds_t)nfd, timeout) < 0 && errno != EINTR)
			break;
		/* The terminal went away (SSH dropped, SIGHUP ignored): as
		 * SIGTERM, rather than spin on a dead descriptor. */
		if (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			c->sig_term = 1;
		read_wake(c);
		drain_queue(c);
		stderr_read(c, 0);
		/* stdin: always try (also catches KEY_RESIZE from ncurses). */
		read_keys(c);
		if (c->probe_running && c->probe_done) {
			pthread_join(c->probe_th, NULL);
			c->probe_running = 0;
		}
	}
}

int
console_run(const struct console_config *cfg, char *err, size_t errlen)
{
	struct con		*c;
	struct sigaction	 sa;
	sigset_t		 set;
	int			 sub;
	SCREEN			*scr;

	if ((c = calloc(1, sizeof *c)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->cfg = cfg;
	pthread_mutex_init(&c->qlock, NULL);
	if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		free(c);
		return -1;
	}
	defaults(c);
	setlocale(LC_ALL, "");
	/* newterm (not initscr) so a bad TERM is an error, not an exit;
	 * checked first because a failing newterm leaks its pre-screen. */
	if (!term_known() || (scr = newterm(NULL, stdout, stdin)) == NULL) {
		snprintf(err, errlen, "cannot use the terminal \"%s\" (check "
		    "TERM)", getenv("TERM") != NULL ? getenv("TERM") : "");
		close(c->wake[0]);
		close(c->wake[1]);
		free(c);
		return -1;
	}
	set_term(scr);
	set_escdelay(40);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	theme_init(c);

	/* Signals become bytes on the wake pipe, read by this thread. Ours
	 * replaces ncurses' SIGWINCH handler: the loop resizes itself. */
	sig_fd = c->wake[1];
	got_int = got_term = got_winch = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	stderr_capture(c);
	if (cfg->notice != NULL)
		logf_(c, "%s", cfg->notice);
	sub = events_subscribe(cfg->ev, on_event, c);
	c->force = 1;
	loop(c);
	events_unsubscribe(cfg->ev, sub);

	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sig_fd = -1;
	endwin();
	delscreen(scr);
	stderr_restore(c);
	if (c->probe_running)
		pthread_join(c->probe_th, NULL);
	/* Events queued after the last frame. */
	drain_queue(c);
	if (c->acquiring)
		fprintf(stderr, "heimdall-rec: session %s cancelled; its "
		    "stored chunks are in %s/sessions/%s/\n", c->id,
		    cfg->data_dir, c->id);
	else if (c->final != NULL)
		fprintf(stderr, "heimdall-rec: last session %s %s: %s/sessions/"
		    "%s/\n", c->last_id, jstr(c->final, "status"),
		    cfg->data_dir, c->last_id);
	json_decref(c->final);
	free(c->rows);
	free(c->src);
	free(c->srcnames);
	close(c->wake[0]);
	close(c->wake[1]);
	pthread_mutex_destroy(&c->qlock);
	free(c);
	return 0;
}

/*
 * Last in the file: <term.h> defines a macro for every terminfo capability
 * ("lines", "columns", "tab", ...), which must not reach the code above.
 */
#include <term.h>

/* 1 if $TERM has a terminfo entry. */
static int
term_known(void)
{
	int	err = 0;

	if (setupterm(NULL, STDOUT_FILENO, &err) != OK)
		return 0;
	del_curterm(cur_term);
	cur_term = NULL;
	return 1;
}
