/* monitor.c -- GET /metrics (Prometheus text) and the service manager's status line, from the engine's events. */

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/resource.h>

#include <jansson.h>

#include "net/server/monitor.h"
#include "src/base/station.h"
#include "src/base/util.h"

/* Receiver states, as receiver:status names them, "idle" first. */
static const char *const rx_states[] = {
	"idle", "connecting", "streaming", "retrying", "failed", "stopped"
};
#define NSTATES	(int)(sizeof rx_states / sizeof rx_states[0])

struct reason {
	char		 text[MONITOR_REASON_MAX];
	unsigned long	 n;
};

struct mstation {
	unsigned long long stored, missing, lost, retries;
	double		 snr;		/* NaN: none */
	int		 has_chunk;
	double		 last_ts;	/* UTC s of the last stored chunk */
	int		 state;		/* index in rx_states */
	char		 sess[40];	/* the session of that state */
	struct reason	 fail[MONITOR_REASONS];
	int		 nfail;
	unsigned long	 fail_other;
};

/* An open session: recording, source_assigned, in_progress. */
struct msess {
	char		 id[40];
	char		 name[256];
	char		 status[20];
	long		 qpos;
	long		 chunk, total;
};

struct monitor {
	pthread_mutex_t		 lock;
	const struct stations	*stations;
	struct mstation		*st;		/* stations->n */
	struct msess		 sess[MONITOR_SESSIONS];
	int			 nsess;
	unsigned long		 completed, failed;
	char			 last_name[256];
	char			 last_status[20];
};

struct monitor *
monitor_new(const struct stations *stations)
{
	struct monitor	*m = calloc(1, sizeof *m);
	int		 i;

	if (m == NULL)
		return NULL;
	m->stations = stations;
	if (stations->n > 0 && (m->st = calloc((size_t)stations->n,
	    sizeof *m->st)) == NULL) {
		free(m);
		return NULL;
	}
	for (i = 0; i < stations->n; i++)
		m->st[i].snr = NAN;
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void
monitor_free(struct monitor *m)
{
	if (m == NULL)
		return;
	pthread_mutex_destroy(&m->lock);
	free(m->st);
	free(m);
}

/* ---- events ---- */

static const char *
jstr(const json_t *d, const char *k)
{
	const char	*s = json_string_value(json_object_get(d, k));

	return s != NULL ? s : "";
}

/* Under m->lock: the station of a "websdr" field, or NULL. */
static struct mstation *
station_of(struct monitor *m, const json_t *d)
{
	json_int_t	k = json_integer_value(json_object_get(d, "websdr"));

	if (k < 1 || k > m->stations->n)
		return NULL;
	return &m->st[k - 1];
}

static struct msess *
sess_find(struct monitor *m, const char *id)
{
	int	i;

	for (i = 0; i < m->nsess; i++)
		if (strcmp(m->sess[i].id, id) == 0)
			return &m->sess[i];
	return NULL;
}

static void
on_status(struct monitor *m, const json_t *d)
{
	const char	*id = jstr(d, "session_id"), *st = jstr(d, "status");
	struct msess	*s;
	int		 i;

	if (id[0] == '\0' || st[0] == '\0')
		return;
	s = sess_find(m, id);
	if (strcmp(st, "completed") == 0 || strcmp(st, "failed") == 0) {
		/* the session's last event */
		if (strcmp(st, "completed") == 0)
			m->completed++;
		else
			m->failed++;
		snprintf(m->last_name, sizeof m->last_name, "%s",
		    jstr(d, "session_name"));
		snprintf(m->last_status, sizeof m->last_status, "%s", st);
		if (s != NULL)
			*s = m->sess[--m->nsess];
		/* its receivers are closed: idle, whatever they said last */
		for (i = 0; i < m->stations->n; i++)
			if (strcmp(m->st[i].sess, id) == 0) {
				m->st[i].state = 0;
				m->st[i].sess[0] = '\0';
			}
		return;
	}
	if (s == NULL) {
		if (m->nsess == MONITOR_SESSIONS)
			return;		/* more than the engine keeps open */
		s = &m->sess[m->nsess++];
		memset(s, 0, sizeof *s);
		snprintf(s->id, sizeof s->id, "%s", id);
	}
	snprintf(s->name, sizeof s->name, "%s", jstr(d, "session_name"));
	snprintf(s->status, sizeof s->status, "%s", st);
	s->qpos = (long)json_integer_value(json_object_get(d,
	    "queue_position"));
}

static void
on_receiver(struct monitor *m, const json_t *d)
{
	struct mstation	*st = station_of(m, d);
	const char	*state = jstr(d, "state"), *why = jstr(d, "reason");
	char		 r[MONITOR_REASON_MAX];
	int		 i;

	if (st == NULL)
		return;
	for (i = 1; i < NSTATES; i++)
		if (strcmp(state, rx_states[i]) == 0)
			break;
	if (i == NSTATES)
		return;
	st->state = i;
	snprintf(st->sess, sizeof st->sess, "%s", jstr(d, "session_id"));
	if (strcmp(state, "retrying") == 0)
		st->retries++;
	if (strcmp(state, "failed") != 0)
		return;
	snprintf(r, sizeof r, "%s", why[0] != '\0' ? why : "unknown");
	util_utf8_sanitize(r);		/* cut mid-character */
	for (i = 0; i < st->nfail; i++)
		if (strcmp(st->fail[i].text, r) == 0) {
			st->fail[i].n++;
			return;
		}
	if (st->nfail == MONITOR_REASONS) {
		st->fail_other++;
		return;
	}
	snprintf(st->fail[st->nfail].text, sizeof st->fail[0].text, "%s", r);
	st->fail[st->nfail++].n = 1;
}

static void
on_measurement(struct monitor *m, const json_t *d)
{
	struct mstation	*st = station_of(m, d);
	const json_t	*snr = json_object_get(d, "snr_db");
	json_int_t	 lost = json_integer_value(json_object_get(d,
	    "samples_lost"));
	double		 t;

	if (st == NULL)
		return;
	st->stored++;
	if (lost > 0)
		st->lost += (unsigned long long)lost;
	st->snr = json_is_number(snr) ? json_number_value(snr) : NAN;
	st->has_chunk = 1;
	if (util_parse_iso8601(jstr(d, "timestamp"), &t) == 0)
		st->last_ts = t;
}

static void
on_progress(struct monitor *m, const json_t *d)
{
	struct msess	*s = sess_find(m, jstr(d, "session_id"));

	if (s == NULL)
		return;
	s->chunk = (long)json_integer_value(json_object_get(d, "chunk"));
	s->total = (long)json_integer_value(json_object_get(d,
	    "total_chunks"));
}

void
monitor_event(struct monitor *m, const char *name, const json_t *data)
{
	struct mstation	*st;

	if (m == NULL || name == NULL || !json_is_object(data))
		return;
	pthread_mutex_lock(&m->lock);
	if (strcmp(name, "session:status_update") == 0)
		on_status(m, data);
	else if (strcmp(name, "session:measurement") == 0)
		on_measurement(m, data);
	else if (strcmp(name, "session:missing") == 0) {
		if ((st = station_of(m, data)) != NULL)
			st->missing++;
	} else if (strcmp(name, "receiver:status") == 0)
		on_receiver(m, data);
	else if (strcmp(name, "session:progress") == 0)
		on_progress(m, data);
	pthread_mutex_unlock(&m->lock);
}

/* ---- the status line ---- */

void
monitor_status(struct monitor *m, char *buf, size_t len)
{
	const struct msess	*acq = NULL;
	int			 i, queued = 0, open = 0, streaming = 0;
	size_t			 off = 0;

#define PUT(...) do {							\
	if (off < len)							\
		off += (size_t)snprintf(buf + off, len - off, __VA_ARGS__); \
} while (0)
	if (len == 0)
		return;
	buf[0] = '\0';
	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->nsess; i++) {
		if (strcmp(m->sess[i].status, "in_progress") != 0)
			open++;
		else if (m->sess[i].qpos > 0)
			queued++;
		else if (acq == NULL)
			acq = &m->sess[i];
	}
	for (i = 0; i < m->stations->n; i++)
		streaming += m->st[i].state == 2;
	if (acq != NULL) {
		PUT("acquiring \"%s\" (", acq->name);
		if (acq->total > 0)
			PUT("chunk %ld/%ld, ", acq->chunk, acq->total);
		else
			PUT("starting, ");
		PUT("%d of %d receivers streaming)", streaming,
		    m->stations->n);
	} else
		PUT("idle, %d receivers", m->stations->n);
	if (queued > 0)
		PUT(", %d queued", queued);
	if (open > 0)
		PUT(", %d open", open);
	if (acq == NULL && m->last_status[0] != '\0')
		PUT("; last session \"%s\" %s", m->last_name, m->last_status);
	pthread_mutex_unlock(&m->lock);
#undef PUT
}

/* ---- the exposition ---- */

struct out {
	char	*s;
	size_t	 len, cap;
	int	 oom;
};

static void __attribute__((format(printf, 2, 3)))
put(struct out *o, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;
	char	*ns;

	if (o->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->s + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = 1;
			return;
		}
		if ((size_t)n < o->cap - o->len) {
			o->len += (size_t)n;
			return;
		}
		if ((ns = realloc(o->s, o->cap * 2 + (size_t)n)) == NULL) {
			o->oom = 1;
			return;
		}
		o->s = ns;
		o->cap = o->cap * 2 + (size_t)n;
	}
}

char *
monitor_label(const char *s, char *out, size_t len)
{
	char	*tmp;
	size_t	 i, off = 0, k;
	char	 esc[3];

	if (len == 0)
		return out;
	out[0] = '\0';
	if ((tmp = strdup(s != NULL ? s : "")) == NULL)
		return out;
	util_utf8_sanitize(tmp);
	for (i = 0; tmp[i] != '\0'; i += k) {
		const char *w = &tmp[i];
		/* a character whole: its lead byte and continuations */
		for (k = 1; (tmp[i + k] & 0xc0) == 0x80; k++)
			;
		if (tmp[i] == '\\' || tmp[i] == '"' || tmp[i] == '\n') {
			esc[0] = '\\';
			esc[1] = tmp[i] == '\n' ? 'n' : tmp[i];
			esc[2] = '\0';
			w = esc;
			k = 1;
		}
		if (off + (w == esc ? 2 : k) >= len)
			break;
		memcpy(out + off, w, w == esc ? 2 : k);
		off += w == esc ? 2 : k;
	}
	out[off] = '\0';
	free(tmp);
	return out;
}

static void
head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A number as the format writes it (Go's ParseFloat reads "NaN"). */
static void
num(struct out *o, double v)
{
	char	b[40];

	if (isnan(v))
		put(o, "NaN\n");
	else if (isinf(v))
		put(o, v > 0 ? "+Inf\n" : "-Inf\n");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		put(o, "%.0f\n", v);	/* counts: "120", not "120.0" */
	else {
		util_fmt_real(v, b, sizeof b);
		put(o, "%s\n", b);
	}
}

/* {websdr="K",station="NAME" */
static void
st_labels(struct out *o, const struct station *st)
{
	char	l[2 * sizeof st->name + 8];

	put(o, "{websdr=\"%d\",station=\"%s\"", st->index,
	    monitor_label(st->name, l, sizeof l));
}

static void
per_station_u(struct out *o, struct monitor *m, const char *name,
    const char *type, const char *help, size_t field)
{
	int	i;

	head(o, name, type, help);
	for (i = 0; i < m->stations->n; i++) {
		put(o, "%s", name);
		st_labels(o, &m->stations->v[i]);
		put(o, "} %llu\n", *(const unsigned long long *)(const void *)
		    ((const char *)&m->st[i] + field));
	}
}

static void
receivers(struct out *o, struct monitor *m)
{
	char		 l[2 * MONITOR_REASON_MAX + 8];
	int		 i, j, by[NSTATES] = { 0 };

	head(o, "heimdall_receivers_configured", "gauge",
	    "Receivers in the stations file.");
	put(o, "heimdall_receivers_configured %d\n", m->stations->n);
	for (i = 0; i < m->stations->n; i++)
		by[m->st[i].state]++;
	head(o, "heimdall_receivers", "gauge", "Receivers by the last state "
	    "their driver reported (idle: in no acquisition).");
	for (j = 0; j < NSTATES; j++)
		put(o, "heimdall_receivers{state=\"%s\"} %d\n", rx_states[j],
		    by[j]);
	head(o, "heimdall_receiver_failures_total", "counter", "Receivers "
	    "that ended failed, by the reason they gave.");
	for (i = 0; i < m->stations->n; i++) {
		for (j = 0; j < m->st[i].nfail; j++) {
			put(o, "heimdall_receiver_failures_total");
			st_labels(o, &m->stations->v[i]);
			put(o, ",reason=\"%s\"} %lu\n", monitor_label(
			    m->st[i].fail[j].text, l, sizeof l),
			    m->st[i].fail[j].n);
		}
		if (m->st[i].fail_other > 0) {
			put(o, "heimdall_receiver_failures_total");
			st_labels(o, &m->stations->v[i]);
			put(o, ",reason=\"other\"} %lu\n", m->st[i].fail_other);
		}
	}
	per_station_u(o, m, "heimdall_receiver_retries_total", "counter",
	    "Times a receiver lost its stream and reconnected.",
	    offsetof(struct mstation, retries));
}

static void
chunks(struct out *o, struct monitor *m)
{
	int	i;

	per_station_u(o, m, "heimdall_chunks_stored_total", "counter",
	    "Chunks stored (a .npy file and its measurement row).",
	    offsetof(struct mstation, stored));
	per_station_u(o, m, "heimdall_chunks_missing_total", "counter",
	    "Chunks a receiver did not deliver.",
	    offsetof(struct mstation, missing));
	per_station_u(o, m, "heimdall_samples_lost_total", "counter",
	    "Samples lost in stored chunks (zero-filled gaps).",
	    offsetof(struct mstation, lost));
	head(o, "heimdall_chunk_snr_db", "gauge", "SNR of the last stored "
	    "chunk, dB (NaN: that chunk had none).");
	for (i = 0; i < m->stations->n; i++)
		if (m->st[i].has_chunk) {
			put(o, "heimdall_chunk_snr_db");
			st_labels(o, &m->stations->v[i]);
			put(o, "} ");
			num(o, m->st[i].snr);
		}
	head(o, "heimdall_chunk_last_timestamp_seconds", "gauge", "Start of "
	    "the last stored chunk, Unix time.");
	for (i = 0; i < m->stations->n; i++)
		if (m->st[i].has_chunk) {
			put(o, "heimdall_chunk_last_timestamp_seconds");
			st_labels(o, &m->stations->v[i]);
			put(o, "} ");
			num(o, m->st[i].last_ts);
		}
}

static void
sessions(struct out *o, struct monitor *m)
{
	int	i, rec = 0, src = 0, q = 0, acq = 0;

	for (i = 0; i < m->nsess; i++) {
		if (strcmp(m->sess[i].status, "recording") == 0)
			rec++;
		else if (strcmp(m->sess[i].status, "source_assigned") == 0)
			src++;
		else if (m->sess[i].qpos > 0)
			q++;
		else
			acq++;
	}
	head(o, "heimdall_sessions", "gauge", "Sessions open, by state "
	    "(queued: waiting for another to finish acquiring).");
	put(o, "heimdall_sessions{state=\"recording\"} %d\n"
	    "heimdall_sessions{state=\"source_assigned\"} %d\n"
	    "heimdall_sessions{state=\"queued\"} %d\n"
	    "heimdall_sessions{state=\"acquiring\"} %d\n", rec, src, q, acq);
	head(o, "heimdall_sessions_ended_total", "counter", "Sessions ended "
	    "since the start, by final status.");
	put(o, "heimdall_sessions_ended_total{status=\"completed\"} %lu\n"
	    "heimdall_sessions_ended_total{status=\"failed\"} %lu\n",
	    m->completed, m->failed);
}

/* A gauge from a number in the replicator's status (0 when absent). */
static void
gauge_json(struct out *o, const json_t *c, const char *key, const char *name,
    const char *help)
{
	head(o, name, "gauge", help);
	put(o, "%s ", name);
	num(o, json_number_value(json_object_get(c, key)));
}

static void
central(struct out *o, const json_t *c)
{
	static const char *const stores[] = { "db", "s3" };
	char		 l[1024];
	const json_t	*s;
	const char	*state, *err;
	int		 i;

	head(o, "heimdall_replication_enabled", "gauge", "1 when a central "
	    "store (--db, --s3) is configured.");
	put(o, "heimdall_replication_enabled %d\n", c != NULL);
	if (c == NULL)
		return;
	gauge_json(o, c, "pending_rows", "heimdall_replication_backlog_rows",
	    "Measurement rows not yet in the central database.");
	gauge_json(o, c, "pending_objects",
	    "heimdall_replication_backlog_objects",
	    "Chunk files not yet in the central bucket.");
	gauge_json(o, c, "pending_sessions",
	    "heimdall_replication_backlog_sessions",
	    "Sessions with something not yet replicated.");
	head(o, "heimdall_store_up", "gauge", "1 when the store's last "
	    "attempt succeeded, 0 in error.");
	for (i = 0; i < 2; i++) {
		s = json_object_get(c, stores[i]);
		state = json_string_value(json_object_get(s, "state"));
		if (state == NULL || strcmp(state, "off") == 0)
			continue;
		put(o, "heimdall_store_up{store=\"%s\"} %d\n", stores[i],
		    strcmp(state, "error") != 0);
	}
	head(o, "heimdall_store_error_info", "gauge", "The last error of a "
	    "store in error.");
	for (i = 0; i < 2; i++) {
		s = json_object_get(c, stores[i]);
		state = json_string_value(json_object_get(s, "state"));
		err = json_string_value(json_object_get(s, "error"));
		if (state == NULL || strcmp(state, "error") != 0)
			continue;
		put(o, "heimdall_store_error_info{store=\"%s\",error=\"%s\"} 1\n",
		    stores[i], monitor_label(err != NULL ? err : "", l,
		    sizeof l));
	}
}

/* ---- the process ---- */

static int
open_fds(void)
{
	DIR		*d = opendir("/proc/self/fd");
	struct dirent	*e;
	int		 n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the directory's own */
}

/* Start time (Unix s): /proc/self/stat's starttime (clock ticks after
 * boot) placed on the wall clock through CLOCK_BOOTTIME -- not /proc/stat's
 * btime, hidden from the service (ProcSubset=pid). -1 if unknown. */
static double
start_time(void)
{
	char		 buf[1024], *p;
	unsigned long long st = 0;
	long		 hz = sysconf(_SC_CLK_TCK);
	struct timespec	 up;
	FILE		*f;
	int		 i, ok = 0;

	if (hz <= 0 || (f = fopen("/proc/self/stat", "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof buf, f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL) {
		/* after "pid (comm)": field 3 on; starttime is field 22 */
		for (i = 3, p += 2; i < 22 && p != NULL; i++)
			if ((p = strchr(p, ' ')) != NULL)
				p++;
		ok = p != NULL && sscanf(p, "%llu", &st) == 1;
	}
	fclose(f);
	if (!ok || clock_gettime(CLOCK_BOOTTIME, &up) != 0)
		return -1;
	return util_now() - ((double)up.tv_sec + up.tv_nsec / 1e9) +
	    (double)st / (double)hz;
}

static void
process(struct out *o)
{
	struct rusage	 ru;
	struct rlimit	 rl;
	unsigned long	 vsz, rss;
	long		 page = sysconf(_SC_PAGESIZE);
	double		 t;
	FILE		*f;
	int		 n;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		head(o, "process_cpu_seconds_total", "counter", "Total user "
		    "and system CPU time spent in seconds.");
		put(o, "process_cpu_seconds_total ");
		num(o, (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	}
	if ((f = fopen("/proc/self/statm", "r")) != NULL) {
		if (fscanf(f, "%lu %lu", &vsz, &rss) == 2 && page > 0) {
			head(o, "process_virtual_memory_bytes", "gauge",
			    "Virtual memory size in bytes.");
			put(o, "process_virtual_memory_bytes %llu\n",
			    (unsigned long long)vsz * (unsigned long long)page);
			head(o, "process_resident_memory_bytes", "gauge",
			    "Resident memory size in bytes.");
			put(o, "process_resident_memory_bytes %llu\n",
			    (unsigned long long)rss * (unsigned long long)page);
		}
		fclose(f);
	}
	if ((n = open_fds()) >= 0) {
		head(o, "process_open_fds", "gauge", "Number of open file "
		    "descriptors.");
		put(o, "process_open_fds %d\n", n);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
		head(o, "process_max_fds", "gauge", "Maximum number of open "
		    "file descriptors.");
		put(o, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
	}
	if ((t = start_time()) >= 0) {
		head(o, "process_start_time_seconds", "gauge", "Start time of "
		    "the process since unix epoch in seconds.");
		put(o, "process_start_time_seconds ");
		num(o, t);
	}
}

char *
monitor_render(struct monitor *m, const struct monitor_scrape *sc,
    size_t *len)
{
	struct out	o = { NULL, 0, 16384, 0 };

	if ((o.s = malloc(o.cap)) == NULL)
		return NULL;
	o.s[0] = '\0';
	head(&o, "heimdall_build_info", "gauge", "The recorder's version.");
	put(&o, "heimdall_build_info{version=\"%s\"} 1\n", HEIMDALL_VERSION);
	pthread_mutex_lock(&m->lock);
	receivers(&o, m);
	chunks(&o, m);
	sessions(&o, m);
	pthread_mutex_unlock(&m->lock);
	central(&o, sc->central);
	head(&o, "heimdall_ws_clients", "gauge", "WebSocket clients "
	    "connected.");
	put(&o, "heimdall_ws_clients %d\n", sc->clients);
	head(&o, "heimdall_ws_clients_max", "gauge", "WebSocket clients "
	    "accepted at most.");
	put(&o, "heimdall_ws_clients_max %d\n", sc->max_clients);
	head(&o, "heimdall_ws_clients_dropped_total", "counter", "WebSocket "
	    "clients dropped for not reading (send queue full).");
	put(&o, "heimdall_ws_clients_dropped_total %lu\n", sc->clients_dropped);
	process(&o);
	if (o.oom) {
		free(o.s);
		return NULL;
	}
	*len = o.len;
	return o.s;
}
