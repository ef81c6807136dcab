/* sc_sched.c -- the dataset's schedules; see sc_sched.h. */

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ui/lazycurses.h"	/* <curses.h>, loaded on first use */

#include "ui/cstate.h"
#include "ui/sc_config.h"
#include "ui/sc_history.h"
#include "ui/sc_progress.h"
#include "ui/sc_sched.h"
#include "src/base/util.h"
#include "src/engine/engine.h"
#include "src/engine/scheduler.h"
#include "src/engine/session.h"
#include "store/dataset.h"
#include "store/schedule.h"

/* ---- the list ---- */

static void
reload(struct con *c)
{
	char	err[512];
	json_t	*l;

	c->sload = util_now();
	if ((l = schedule_list(c->cfg->ds, err, sizeof err)) == NULL) {
		/* the last list stays; the message says why it is old */
		c->smsg_ok = 0;
		snprintf(c->smsg, sizeof c->smsg, "cannot read the schedules: "
		    "%s", err);
		return;
	}
	json_decref(c->slist);
	c->slist = l;
	if (c->ssel >= (int)json_array_size(l))
		c->ssel = (int)json_array_size(l) - 1;
	if (c->ssel < 0)
		c->ssel = 0;
}

/* What became of a schedule's occurrences (its kept runs): run (started
 * or queued), missed (a record may stand for several), failed. */
struct tally {
	long	run, missed, failed;
	const json_t *last;	/* the newest run, or NULL */
};

static void
tally_of(const json_t *o, struct tally *t)
{
	const json_t	*runs = json_object_get(o, "runs"), *r;
	const char	*st;
	long long	 n, nl;
	size_t		 i;

	memset(t, 0, sizeof *t);
	json_array_foreach(runs, i, r) {
		st = jstr(r, "status");
		if (strcmp(st, "missed") == 0) {
			n = jint(r, "n");
			nl = json_is_integer(json_object_get(r, "n_last")) ?
			    jint(r, "n_last") : n;
			t->missed += nl >= n && nl - n < SCHEDULE_COUNT_MAX ?
			    (long)(nl - n + 1) : 1;
		} else if (strcmp(st, "failed") == 0)
			t->failed++;
		else
			t->run++;
		t->last = r;
	}
}

/*
 * The state said for a schedule: the store's (active, finished,
 * cancelled, invalid) told apart by its latest run and, when that run's
 * session is in this engine, the engine's view of it (waiting in the
 * queue behind another session, or acquiring). *attr its colour; detail
 * (may be NULL) a longer line.
 */
static const char *
state_of(struct con *c, const json_t *o, const struct tally *t,
    unsigned int *attr, char *detail, size_t dlen)
{
	const char	*st = jstr(o, "state"), *last;
	json_t		*snap;
	const char	*word = NULL;

	if (detail != NULL)
		detail[0] = '\0';
	*attr = 0;
	if (strcmp(st, "cancelled") == 0) {
		*attr = c->th.dim;
		return "cancelled";
	}
	if (strcmp(st, "invalid") == 0) {
		*attr = c->th.bad;
		if (detail != NULL)
			snprintf(detail, dlen, "not run: %s", jstr(o, "error"));
		return "invalid";
	}
	last = t->last != NULL ? jstr(t->last, "status") : "";
	if ((strcmp(last, "starting") == 0 || strcmp(last, "queued") == 0) &&
	    jstr(t->last, "session_id")[0] != '\0' && (snap =
	    engine_session_snapshot(c->cfg->eng, jstr(t->last,
	    "session_id"))) != NULL) {
		if (strcmp(jstr(snap, "status"), "in_progress") == 0) {
			if (jint(snap, "queue_position") > 0) {
				word = "queued";
				*attr = c->th.warn;
				if (detail != NULL)
					snprintf(detail, dlen, "#%lld queued "
					    "behind a running session "
					    "(position %lld)", jint(t->last,
					    "n"), jint(snap, "queue_position"));
			} else {
				word = "running";
				*attr = c->th.ok;
				if (detail != NULL)
					snprintf(detail, dlen, "#%lld running: "
					    "session %s", jint(t->last, "n"),
					    jstr(snap, "session_id"));
			}
		}
		json_decref(snap);
		if (word != NULL)
			return word;
	}
	if (strcmp(last, "starting") == 0 && jstr(t->last,
	    "session_id")[0] == '\0' && strcmp(st, "active") == 0) {
		*attr = c->th.ok;
		return "starting";
	}
	if (strcmp(last, "missed") == 0) {
		*attr = c->th.warn;
		if (detail != NULL)
			snprintf(detail, dlen, "#%lld missed: %s", jint(t->last,
			    "n"), jstr(t->last, "reason"));
		if (strcmp(st, "finished") == 0 || t->run == 0)
			return "missed";	/* the next one, if any: Next */
	}
	if (strcmp(last, "failed") == 0 && detail != NULL)
		snprintf(detail, dlen, "#%lld failed: %s", jint(t->last, "n"),
		    jstr(t->last, "reason"));
	if (strcmp(st, "finished") == 0) {
		*attr = c->th.dim;
		return "done";
	}
	if (detail != NULL && detail[0] == '\0' && t->last != NULL)
		snprintf(detail, dlen, "#%lld %s%s%s", jint(t->last, "n"),
		    last, jstr(t->last, "session_id")[0] ? ": session " : "",
		    jstr(t->last, "session_id"));
	return "waiting";
}

/* "0:12", "1:02:03", "3d 04h": how long until t. */
static void
countdown(double left, char *buf, size_t len)
{
	long	s = left > 0 ? (long)ceil(left) : 0;

	if (s >= 86400)
		snprintf(buf, len, "%ldd %02ldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s % 3600 / 60,
		    s % 60);
	else
		snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

/* "15m", "90s", "2h", "1d": every_s as typed. */
static void
every_text(long s, char *buf, size_t len)
{
	if (s % 86400 == 0)
		snprintf(buf, len, "%ldd", s / 86400);
	else if (s % 3600 == 0)
		snprintf(buf, len, "%ldh", s / 3600);
	else if (s % 60 == 0)
		snprintf(buf, len, "%ldm", s / 60);
	else
		snprintf(buf, len, "%lds", s);
}

/* The list's Next cell: "01:50:15Z in 0:12" (UTC, as schedules are). */
static void
next_text(const json_t *o, double now, char *buf, size_t len)
{
	const char	*iso = json_string_value(json_object_get(o, "next"));
	char		 left[32];
	double		 t;

	if (iso == NULL || util_parse_iso8601(iso, &t) != 0) {
		snprintf(buf, len, "-");
		return;
	}
	countdown(t - now, left, sizeof left);
	if (t - now < 86400)
		snprintf(buf, len, "%.8sZ in %s", iso + 11, left);
	else
		snprintf(buf, len, "%.5s %.5sZ", iso + 5, iso + 11);
}

static void
repeat_text(const json_t *o, char *buf, size_t len)
{
	char	every[32];
	const char *until = json_string_value(json_object_get(o, "until"));

	if (jint(o, "every_s") <= 0) {
		snprintf(buf, len, "once");
		return;
	}
	every_text((long)jint(o, "every_s"), every, sizeof every);
	if (jint(o, "count") > 0)
		snprintf(buf, len, "%s x%lld", every, jint(o, "count"));
	else if (until != NULL)
		snprintf(buf, len, "%s until %.5s", every, strlen(until) > 11 ?
		    until + 11 : until);
	else
		snprintf(buf, len, "%s", every);
}

/* The selected schedule in full, lines from y (at most n). */
static void
details_draw(struct con *c, const json_t *o, int y, int n)
{
	char		 buf[1200], every[32], left[32], det[700];
	struct tally	 t;
	struct source	 src;
	unsigned int	 attr;
	const char	*st, *next = json_string_value(json_object_get(o,
			    "next"));
	const char	*srcname = jstr(o, "source");
	double		 at;
	int		 w = COLS - 2, i = 0;

	tally_of(o, &t);
	st = state_of(c, o, &t, &attr, det, sizeof det);
	if (util_is_uuid(srcname) && dataset_source_find(c->cfg->ds, srcname,
	    &src) == 0)
		srcname = src.name;
#define LINE(a, ...) do {						\
	if (i < n) {							\
		snprintf(buf, sizeof buf, __VA_ARGS__);			\
		wg_put(stdscr, y + i, 1, w, (a), buf);			\
		i++;							\
	}								\
} while (0)
	LINE(c->th.label, "%s  %.6f MHz, %lld s, source %s",
	    jstr(o, "name"), json_number_value(json_object_get(o,
	    "freq_hz")) / 1e6, jint(o, "duration_s"), srcname);
	if (next != NULL && util_parse_iso8601(next, &at) == 0) {
		countdown(at - util_now(), left, sizeof left);
		LINE(0, "next #%lld at %.19sZ, in %s", jint(o, "next_n"), next,
		    left);
	} else
		LINE(0, "next: none");
	if (jint(o, "every_s") > 0) {
		every_text((long)jint(o, "every_s"), every, sizeof every);
		if (jint(o, "count") > 0)
			LINE(0, "repeat every %s, %lld times from %.19sZ", every,
			    jint(o, "count"), jstr(o, "first"));
		else if (json_is_string(json_object_get(o, "until")))
			LINE(0, "repeat every %s from %.19sZ until %.19sZ",
			    every, jstr(o, "first"), jstr(o, "until"));
		else
			LINE(0, "repeat every %s from %.19sZ, no end", every,
			    jstr(o, "first"));
	} else
		LINE(0, "once, at %.19sZ", jstr(o, "first"));
	LINE(attr, "%s: %ld run, %ld missed, %ld failed", st, t.run, t.missed,
	    t.failed);
	if (det[0] != '\0')
		LINE(strstr(det, " missed:") != NULL || strstr(det,
		    " failed:") != NULL ? c->th.warn : 0, "%s", det);
	if (jstr(o, "notes")[0] != '\0' || jstr(o, "group_id")[0] != '\0')
		LINE(c->th.dim, "%s%s%s%s", jstr(o, "group_id")[0] ? "group " :
		    "", jstr(o, "group_id"), jstr(o, "group_id")[0] &&
		    jstr(o, "notes")[0] ? "  " : "", jstr(o, "notes"));
	LINE(c->th.dim, "id %s", jstr(o, "id"));
#undef LINE
}

/* Table columns: the name, when next, the state and the counts stay;
 * repetition, frequency, duration and source go first when narrow. */
enum { COL_NAME, COL_NEXT, COL_REPEAT, COL_STATE, COL_RUNS, COL_MHZ,
    COL_DUR, COL_SRC, NCOL };

static void
list_draw(struct con *c)
{
	static const struct wg_col cols[NCOL] = {
		{ "Name", 10, 60, 3, 0, 0 },
		{ "Next (UTC)", 20, 20, 0, 0, 0 },
		{ "Repeat", 6, 14, 1, 0, 2 },
		{ "State", 9, 15, 0, 0, 0 },
		{ "Run/miss", 8, 8, 0, 1, 1 },
		{ "MHz", 10, 11, 0, 1, 3 },
		{ "Dur", 3, 3, 0, 1, 3 },
		{ "Source", 7, 40, 1, 0, 4 },
	};
	char		 buf[1024], line[2048], next[64], rep[64], runs[32],
			 mhz[32], dur[16];
	const char	*cells[NCOL];
	int		 widths[NCOL];
	const json_t	*o;
	struct tally	 t;
	unsigned int	 attr;
	double		 now = util_now();
	size_t		 j;
	int		 n = (int)json_array_size(c->slist), h, i, k, active = 0,
			 dh = 7, y0 = 3;

	json_array_foreach(c->slist, j, o)
		if (strcmp(jstr(o, "state"), "active") == 0)
			active++;
	snprintf(buf, sizeof buf, "%d schedule%s, %d active", n, n == 1 ? "" :
	    "s", active);
	con_title_line(c, "heimdall-rec - schedules", buf);
	wg_rule(stdscr, &c->th, 1, 0, COLS, "Schedules");
	wg_table_layout(cols, NCOL, COLS - 2, widths);
	for (i = 0; i < NCOL; i++)
		cells[i] = cols[i].title;
	wg_table_line(cols, NCOL, widths, cells, c->th.utf8, line, sizeof line);
	wg_put(stdscr, 2, 1, COLS - 2, c->th.label, line);
	/* rows: what the details (dh lines, a rule) and the message leave */
	h = LINES - y0 - dh - 1 - 2;
	if (h < 1)
		h = 1;
	if (c->ssel < c->stop)
		c->stop = c->ssel;
	if (c->ssel >= c->stop + h)
		c->stop = c->ssel - h + 1;
	for (i = 0; i < h && c->stop + i < n; i++) {
		k = c->stop + i;
		o = json_array_get(c->slist, (size_t)k);
		tally_of(o, &t);
		next_text(o, now, next, sizeof next);
		repeat_text(o, rep, sizeof rep);
		snprintf(runs, sizeof runs, "%ld/%ld", t.run, t.missed);
		snprintf(mhz, sizeof mhz, "%.6f", json_number_value(
		    json_object_get(o, "freq_hz")) / 1e6);
		snprintf(dur, sizeof dur, "%llds", jint(o, "duration_s"));
		cells[COL_NAME] = jstr(o, "name");
		cells[COL_NEXT] = next;
		cells[COL_REPEAT] = rep;
		cells[COL_STATE] = state_of(c, o, &t, &attr, NULL, 0);
		cells[COL_RUNS] = runs;
		cells[COL_MHZ] = mhz;
		cells[COL_DUR] = dur;
		cells[COL_SRC] = jstr(o, "source");
		wg_table_line(cols, NCOL, widths, cells, c->th.utf8, line,
		    sizeof line);
		wg_put(stdscr, y0 + i, 1, COLS - 2, k == c->ssel ?
		    c->th.select : attr, line);
	}
	if (n == 0)
		wg_put(stdscr, y0 + 1, 2, COLS - 4, c->th.dim, "No schedules in "
		    "this dataset yet: a adds one.");
	wg_rule(stdscr, &c->th, LINES - dh - 3, 0, COLS, NULL);
	if ((o = json_array_get(c->slist, (size_t)c->ssel)) != NULL)
		details_draw(c, o, LINES - dh - 2, dh);
	if (c->smsg[0] != '\0')
		wg_put(stdscr, LINES - 2, 1, COLS - 2, c->smsg_ok ? c->th.ok :
		    c->th.error, c->smsg);
	con_status_line(c, "a add  c cancel  F2 history  Esc back  ? keys");
	if (c->sconfirm && o != NULL) {
		const char *q[4];
		snprintf(buf, sizeof buf, "\"%s\": no more occurrences",
		    jstr(o, "name"));
		q[0] = buf;
		q[1] = "(a session already started goes on)";
		q[2] = "";
		q[3] = "y  cancel the schedule      n, Esc  keep it";
		con_draw_modal(c, "Cancel this schedule?", q, 4);
	}
	curs_set(0);
}

/* ---- the add form ---- */

static const char *const flabels[SF_N] = { "Name pattern", "Frequency MHz",
    "Duration", "Source", "Start at", "Every", "Count", "Until", "Notes",
    "Group", "" };

/* The hint of the focused field (its error is on the message line). */
static void
field_hint(struct con *c, int f, char *buf, size_t len)
{
	double	mhz, t;
	char	err[256], iso[40];

	switch (f) {
	case SF_NAME:
		snprintf(buf, len, "required; {n} is the occurrence (1, 2, ...)");
		break;
	case SF_FREQ:
		if (!wg_field_blank(&c->sfreq) && session_parse_mhz(c->sfreq.buf, 0,
		    &mhz, err, sizeof err) != 0)
			snprintf(buf, len, "%s", err);
		else
			snprintf(buf, len, "MHz, e.g. 14.2");
		break;
	case SF_DUR:
		snprintf(buf, len, "%s", c->sdur.note[0] ? c->sdur.note :
		    "Left/Right or type digits: 1-30 s");
		break;
	case SF_SOURCE:
		snprintf(buf, len, "unknown, or a known source's name or UUID");
		break;
	case SF_AT:
	case SF_UNTIL:
		if (!wg_field_blank(f == SF_AT ? &c->sat : &c->suntil) &&
		    util_parse_when(f == SF_AT ? c->sat.buf : c->suntil.buf,
		    util_now(), &t) == 0) {
			util_iso8601(t, iso, sizeof iso);
			snprintf(buf, len, "%s %.19sZ UTC", con_arrows(c,
			    "\xe2\x9c\x93", "ok:"), iso);
		} else
			snprintf(buf, len, f == SF_AT ? "required: ISO 8601 UTC "
			    "or +N[s|m|h], at least %d s ahead" : "optional: "
			    "none after this instant (ISO 8601 UTC or +N[s|m|h])",
			    SCHEDULER_LEAD_MIN_S);
		break;
	case SF_EVERY:
		snprintf(buf, len, "optional: repeat every N[s|m|h] (empty: "
		    "once)");
		break;
	case SF_COUNT:
		snprintf(buf, len, "optional: occurrences in all (empty: no "
		    "limit)");
		break;
	case SF_NOTES:
		snprintf(buf, len, "optional");
		break;
	case SF_GROUP:
		snprintf(buf, len, "optional: links sessions of several "
		    "recorders");
		break;
	default:
		snprintf(buf, len, "Enter adds the schedule");
	}
}

/* The form's field of a scheduler_check_new error (its field names are
 * schedule:add's; schedule_check's rules name none: the message does). */
static int
field_of(const struct session_error *e)
{
	const char	*f = e->field;

	if (strstr(f, "freq") != NULL)
		return SF_FREQ;
	if (strstr(f, "duration") != NULL)
		return SF_DUR;
	if (strstr(f, "start") != NULL)
		return SF_AT;
	if (strstr(f, "source") != NULL)
		return SF_SOURCE;
	if (strstr(f, "notes") != NULL)
		return SF_NOTES;
	if (strstr(f, "group") != NULL)
		return SF_GROUP;
	if (strstr(f, "name") != NULL)
		return SF_NAME;
	if (strstr(e->msg, "count") == e->msg)
		return SF_COUNT;
	if (strstr(e->msg, "until") == e->msg)
		return SF_UNTIL;
	if (strstr(e->msg, "every") != NULL)
		return SF_EVERY;
	if (strstr(e->msg, "group") != NULL)
		return SF_GROUP;
	if (strstr(e->msg, "first start") != NULL)
		return SF_AT;
	if (strstr(e->msg, "source") != NULL)
		return SF_SOURCE;
	return SF_NAME;
}

#define BAD(f, ...) do {						\
	c->sbad = c->sfocus = (f);					\
	c->smsg_ok = 0;							\
	snprintf(c->smsg, sizeof c->smsg, __VA_ARGS__);			\
	return -1;							\
} while (0)

/*
 * The form as a spec, parsed as the CLI parses its options (the same
 * parsers), then the one check every front-end makes before
 * schedule_add. 0, or -1 with the message and the field focused.
 */
static int
form_spec(struct con *c, struct schedule_spec *s)
{
	struct session_error	 e;
	char			 err[256], *end;
	double			 mhz, now = util_now();
	long			 v;

	memset(s, 0, sizeof *s);
	c->sbad = -1;
	snprintf(s->name, sizeof s->name, "%s", c->sname.buf);
	if (session_parse_mhz(c->sfreq.buf, 0, &mhz, err, sizeof err) != 0)
		BAD(SF_FREQ, "Frequency: %s", err);
	s->freq_hz = mhz * 1e6;
	s->duration_s = c->sdur.value;
	/* 1-s chunks: the form has no chunk length (schedule add
	 * --chunk-ms and schedule:add's chunk_ms set one) */
	s->chunk_ms = SESSION_CHUNK_MS_DEFAULT;
	snprintf(s->source, sizeof s->source, "%s", wg_field_blank(&c->ssource) ?
	    "unknown" : c->ssource.buf);
	if (wg_field_blank(&c->sat))
		BAD(SF_AT, "Start at is required: ISO 8601 UTC (2026-12-02T"
		    "10:00:00Z) or +N[s|m|h] from now");
	if (util_parse_when(c->sat.buf, now, &s->first) != 0)
		BAD(SF_AT, "Start at must be an ISO 8601 UTC time on a whole "
		    "second or +N[s|m|h] from now");
	if (!wg_field_blank(&c->severy) && scheduler_parse_every(c->severy.buf,
	    &s->every_s) != 0)
		BAD(SF_EVERY, "Every must be N[s|m|h] (got \"%s\")",
		    c->severy.buf);
	if (!wg_field_blank(&c->scount)) {
		errno = 0;
		v = strtol(c->scount.buf, &end, 10);
		if (end == c->scount.buf || *end != '\0' || v < 1)
			BAD(SF_COUNT, "Count must be a whole number of "
			    "occurrences, 1 or more (empty: no limit)");
		/* past the limit: schedule_check says which it is */
		s->count = errno != 0 || v > INT_MAX ? INT_MAX : (int)v;
	}
	if (!wg_field_blank(&c->suntil) && util_parse_when(c->suntil.buf, now,
	    &s->until) != 0)
		BAD(SF_UNTIL, "Until must be an ISO 8601 UTC time or +N[s|m|h] "
		    "from now");
	snprintf(s->notes, sizeof s->notes, "%s", c->snotes.buf);
	snprintf(s->group, sizeof s->group, "%s", c->sgroup.buf);
	if (scheduler_check_new(c->cfg->ds, s, now, &e) != 0)
		BAD(field_of(&e), "Not added: %s", e.msg);
	return 0;
}

#undef BAD

static void
form_submit(struct con *c)
{
	struct schedule_spec	s;
	char			id[37], err[512];

	wg_slider_commit(&c->sdur);
	if (form_spec(c, &s) != 0)
		return;
	if (schedule_add(c->cfg->ds, &s, id, err, sizeof err) != 0) {
		c->smsg_ok = 0;
		snprintf(c->smsg, sizeof c->smsg, "Not added: %s", err);
		return;
	}
	/* the scheduler sleeps up to SCHEDULER_RESCAN_S: a start 10 s ahead
	 * would be missed without the poke */
	scheduler_poke(c->cfg->sched);
	con_log(c, "schedule \"%s\" added (%s)", s.name, id);
	c->sform = 0;
	c->sbad = -1;
	reload(c);
	/* the new one selected */
	{
		const json_t *o;
		size_t i;
		json_array_foreach(c->slist, i, o)
			if (strcmp(jstr(o, "id"), id) == 0)
				c->ssel = (int)i;
	}
	c->smsg_ok = 1;
	snprintf(c->smsg, sizeof c->smsg, "added \"%s\"", s.name);
	/* the next one starts from these settings, but at a new instant */
	wg_field_set(&c->sat, "");
	c->force = 1;
}

/* A message over at most two lines of w cells from y, cut at a space. */
static void
put_wrapped(int y, int x, int w, unsigned int attr, const char *s)
{
	char	first[1024];
	size_t	n = strlen(s), cut;

	if (wg_text_cells(s) <= w || n >= sizeof first) {
		wg_put(stdscr, y, x, w, attr, s);
		return;
	}
	/* the longest prefix that fits, back to its last space */
	for (cut = n; cut > 0; cut--) {
		memcpy(first, s, cut);
		first[cut] = '\0';
		if (wg_text_cells(first) <= w && (s[cut] == ' ' ||
		    s[cut] == '\0'))
			break;
	}
	if (cut == 0) {
		wg_put(stdscr, y, x, w, attr, s);
		return;
	}
	wg_put(stdscr, y, x, w, attr, first);
	wg_put(stdscr, y + 1, x, w, attr, s + cut + 1);
}

static struct wg_field *
form_field(struct con *c, int f)
{
	switch (f) {
	case SF_NAME: return &c->sname;
	case SF_FREQ: return &c->sfreq;
	case SF_SOURCE: return &c->ssource;
	case SF_AT: return &c->sat;
	case SF_EVERY: return &c->severy;
	case SF_COUNT: return &c->scount;
	case SF_UNTIL: return &c->suntil;
	case SF_NOTES: return &c->snotes;
	case SF_GROUP: return &c->sgroup;
	}
	return NULL;
}

static void
form_draw(struct con *c)
{
	char		 buf[1024], track[1024];
	int		 w = COLS, fx = 17, fw, y, i, cy = -1, cx = -1, tw;
	struct wg_field	*f;

	con_title_line(c, "heimdall-rec - new schedule", c->cfg->data_dir);
	wg_rule(stdscr, &c->th, 1, 0, w, "Add a schedule");
	fw = w - fx - 2;
	if (fw > 60)
		fw = 60;
	for (i = 0; i < SF_N; i++) {
		y = 2 + i;
		if (c->sfocus == i)
			wg_put(stdscr, y, 0, 2, c->th.focus, ">");
		wg_put(stdscr, y, 2, fx - 3, c->sbad == i ? c->th.error :
		    c->th.label, flabels[i]);
		if ((f = form_field(c, i)) != NULL)
			con_draw_field(c, y, fx, i == SF_FREQ || i == SF_EVERY ||
			    i == SF_COUNT ? (fw > 20 ? 20 : fw) : i == SF_NAME ||
			    i == SF_NOTES || i == SF_SOURCE ? fw : (fw > 30 ?
			    30 : fw), f, c->sfocus == i, &cy, &cx);
		else if (i == SF_DUR) {
			tw = fw - 12 > 30 ? 30 : fw - 12;
			wg_slider_text(&c->sdur, tw, c->th.utf8, track,
			    sizeof track);
			snprintf(buf, sizeof buf, "%s %s %s %2d s",
			    con_arrows(c, "\xe2\x97\x80", "<"), track,
			    con_arrows(c, "\xe2\x96\xb6", ">"), c->sdur.value);
			wg_put(stdscr, y, fx, w - fx, c->sfocus == i ?
			    c->th.focus : 0, buf);
		} else
			wg_put(stdscr, y, fx, w - fx, c->sfocus == i ?
			    c->th.select : c->th.label, "[ Add schedule ]");
	}
	y = 2 + SF_N + 1;
	/* the field's hint, unless the message says what is wrong with it */
	if (c->sbad != c->sfocus) {
		field_hint(c, c->sfocus, buf, sizeof buf);
		wg_put(stdscr, y, 2, w - 4, c->sfocus == SF_DUR &&
		    c->sdur.note[0] ? c->th.error : c->th.dim, buf);
	}
	if (c->smsg[0] != '\0')
		put_wrapped(y + 1, 2, w - 4, c->smsg_ok ? c->th.ok :
		    c->th.error, c->smsg);
	con_status_line(c, "Tab/Up/Down field  Enter next/add  Esc list  "
	    "F1 keys");
	if (cy >= 0) {
		curs_set(1);
		move(cy, cx);
	} else
		curs_set(0);
}

static void
form_key(struct con *c, int k)
{
	struct wg_field	*f = form_field(c, c->sfocus);

	if (k == WG_KEY_ESC) {
		wg_slider_commit(&c->sdur);
		c->sform = 0;
		c->smsg[0] = '\0';
		c->force = 1;
		return;
	}
	if (k == WG_KEY_F1 || (k == '?' && f == NULL)) {
		c->modal = MO_HELP;
		return;
	}
	if (k == WG_KEY_TAB || k == WG_KEY_DOWN || (k == WG_KEY_ENTER &&
	    c->sfocus != SF_ADD)) {
		wg_slider_commit(&c->sdur);
		c->sfocus = (c->sfocus + 1) % SF_N;
		return;
	}
	if (k == WG_KEY_BTAB || k == WG_KEY_UP) {
		wg_slider_commit(&c->sdur);
		c->sfocus = (c->sfocus + SF_N - 1) % SF_N;
		return;
	}
	if (k == WG_KEY_ENTER) {
		form_submit(c);
		return;
	}
	if (c->sfocus == SF_DUR) {
		wg_slider_key(&c->sdur, k);
		return;
	}
	if (f != NULL && wg_field_key(f, k)) {
		/* typing answers the error */
		if (c->sbad == c->sfocus) {
			c->sbad = -1;
			c->smsg[0] = '\0';
		}
	}
}

/* ---- the screen ---- */

void
sched_defaults(struct con *c)
{
	wg_field_init(&c->sname, SESSION_NAME_MAX, "");
	wg_field_init(&c->sfreq, 32, "");
	wg_field_init(&c->ssource, 127, "unknown");
	wg_field_init(&c->sat, 40, "");
	wg_field_init(&c->severy, 16, "");
	wg_field_init(&c->scount, 16, "");
	wg_field_init(&c->suntil, 40, "");
	wg_field_init(&c->snotes, SESSION_NOTES_MAX, "");
	wg_field_init(&c->sgroup, SESSION_GROUP_MAX, "");
	wg_slider_init(&c->sdur, SESSION_DURATION_MIN, SESSION_DURATION_MAX,
	    10);
	c->sfocus = SF_NAME;
	c->sbad = -1;
}

void
sched_enter(struct con *c)
{
	if (c->sc != SC_SCHED)
		c->sback = c->sc;
	c->smsg[0] = '\0';
	c->smsg_ok = 0;
	c->sform = 0;
	c->sconfirm = 0;
	reload(c);
	c->sc = SC_SCHED;
	c->force = 1;
}

void
sched_draw(struct con *c)
{
	double	now = util_now();

	/* another process (schedule add, a WebSocket client, the runner)
	 * may have changed the file: read it with each second's frame */
	if (now - c->sload >= 1)
		reload(c);
	/* the next frame on the next whole second: countdowns tick */
	c->stick = floor(now) + 1;
	if (c->sform)
		form_draw(c);
	else
		list_draw(c);
}

static void
cancel_selected(struct con *c)
{
	const json_t	*o = json_array_get(c->slist, (size_t)c->ssel);
	char		 err[512], name[256];
	int		 rc;

	c->sconfirm = 0;
	if (o == NULL)
		return;
	snprintf(name, sizeof name, "%s", jstr(o, "name"));
	rc = schedule_cancel(c->cfg->ds, jstr(o, "id"), err, sizeof err);
	c->smsg_ok = rc == 0;
	if (rc < 0)
		snprintf(c->smsg, sizeof c->smsg, "cannot cancel: %s", err);
	else if (rc == 1)
		snprintf(c->smsg, sizeof c->smsg, "no such schedule any more");
	else {
		scheduler_poke(c->cfg->sched);
		snprintf(c->smsg, sizeof c->smsg, "cancelled \"%s\"", name);
		con_log(c, "schedule \"%s\" cancelled", name);
	}
	reload(c);
}

void
sched_key(struct con *c, int k)
{
	int		 n = (int)json_array_size(c->slist);
	const json_t	*o = json_array_get(c->slist, (size_t)c->ssel);

	if (c->sform) {
		form_key(c, k);
		return;
	}
	if (c->sconfirm) {
		if (k == 'y' || k == 'Y')
			cancel_selected(c);
		else if (k == 'n' || k == 'N' || k == WG_KEY_ESC)
			c->sconfirm = 0;
		return;
	}
	switch (k) {
	case WG_KEY_F1: case '?':
		c->modal = MO_HELP;
		return;
	case 'a': case 'A':
		c->sform = 1;
		c->sfocus = SF_NAME;
		c->smsg[0] = '\0';
		c->sbad = -1;
		c->force = 1;
		return;
	case 'c': case 'C': case WG_KEY_DELETE:
		if (o == NULL)
			return;
		if (strcmp(jstr(o, "state"), "active") != 0) {
			c->smsg_ok = 0;
			snprintf(c->smsg, sizeof c->smsg, "\"%s\" is %s: nothing "
			    "to cancel", jstr(o, "name"), jstr(o, "state"));
			return;
		}
		c->sconfirm = 1;
		return;
	case WG_KEY_F2:
		if (c->sback == SC_HISTORY)
			c->sc = SC_HISTORY;	/* back there: hback kept */
		history_enter(c);
		return;
	case WG_KEY_ESC:
		/* back, not a new visit: the history keeps where it goes
		 * back to (else the two would send Esc to each other) */
		if (c->sback == SC_HISTORY) {
			c->sc = SC_HISTORY;
			history_enter(c);
		} else
			config_enter(c);
		c->force = 1;
		return;
	case WG_KEY_UP: case 'k': c->ssel--; break;
	case WG_KEY_DOWN: case 'j': c->ssel++; break;
	case WG_KEY_PGUP: c->ssel -= LINES - 13; break;
	case WG_KEY_PGDN: c->ssel += LINES - 13; break;
	case WG_KEY_HOME: c->ssel = 0; break;
	case WG_KEY_END: c->ssel = n - 1; break;
	default: return;
	}
	c->smsg[0] = '\0';
	if (c->ssel >= n)
		c->ssel = n - 1;
	if (c->ssel < 0)
		c->ssel = 0;
}

void
sched_help(struct con *c)
{
	static const char *list[] = {
		"Up/Down j/k        choose (PgUp/PgDn, Home/End)",
		"a                  add a schedule (a form)",
		"c, Delete          cancel the chosen one (asks first)",
		"F2                 history of sessions",
		"Esc                back",
		"A session a schedule starts while this list is shown",
		"is followed on the progress screen.",
		"", "any key closes this help" };
	static const char *form[] = {
		"Tab, Down, Enter   next field",
		"Shift-Tab, Up      previous field",
		"Left/Right         move the cursor; duration -/+ 1 s",
		"Ctrl-A/Ctrl-E      start / end of the field (Home/End)",
		"Ctrl-W, Ctrl-U/K   delete a word / to start / to end",
		"Enter on [Add]     check and add the schedule",
		"Esc                back to the list (the form is kept)",
		"", "any key closes this help" };

	if (c->sform)
		con_draw_modal(c, "Keys: add a schedule", form, 9);
	else
		con_draw_modal(c, "Keys: schedules", list, 9);
}

void
sched_event(struct con *c, const char *name, const json_t *d)
{
	const char	*st = jstr(d, "status"), *sid = jstr(d, "session_id");
	double		 at = 0;

	if (strcmp(name, "schedule:error") == 0) {
		con_log(c, "schedules: %s", jstr(d, "message"));
		if (c->sc == SC_SCHED) {
			c->smsg_ok = 0;
			snprintf(c->smsg, sizeof c->smsg, "schedules: %s",
			    jstr(d, "message"));
			c->dirty = 1;
		}
		return;
	}
	if (strcmp(name, "schedule:run") != 0)
		return;
	con_log(c, "schedule \"%s\" #%lld %s%s%s", jstr(d, "name"), jint(d,
	    "n"), st, jstr(d, "reason")[0] ? ": " : "", jstr(d, "reason"));
	c->sload = 0;		/* its fate is in the file: read it again */
	c->dirty = 1;
	if (c->sc != SC_SCHED || sid[0] == '\0' || (strcmp(st, "starting") !=
	    0 && strcmp(st, "queued") != 0))
		return;
	/* Started while the list is shown: follow it as the operator's own
	 * session, unless a form or a question is open (typed keys must not
	 * land on the Progress screen). */
	if (c->sform || c->sconfirm || c->modal != MO_NONE || c->acquiring) {
		c->smsg_ok = 1;
		snprintf(c->smsg, sizeof c->smsg, "\"%s\" started (session %s)",
		    jstr(d, "name"), sid);
		return;
	}
	(void)util_parse_iso8601(jstr(d, "at"), &at);
	if (progress_follow(c, sid, strcmp(st, "queued") == 0 ? 0 : at) != 0) {
		c->smsg_ok = 0;
		snprintf(c->smsg, sizeof c->smsg, "\"%s\" started but its "
		    "session %s is already over (history)", jstr(d, "name"),
		    sid);
	}
}

void
sched_free(struct con *c)
{
	json_decref(c->slist);
	c->slist = NULL;
}
