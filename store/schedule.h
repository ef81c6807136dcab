/*
 * schedule.h -- planned sessions (issue 15), stored in the dataset:
 * DIR/schedules.json, written atomically under an flock on
 * DIR/.schedules.lock so that `schedule add` and the running `serve` or
 * console never lose each other's changes. This module owns that file,
 * what a schedule may hold (checked here, once, for every front-end), the
 * arithmetic of its occurrences and the record of each one's fate; the
 * engine's scheduler (src/engine/scheduler.h) runs them.
 *
 * A schedule is a session template (name pattern, frequency, duration,
 * source, notes, group) and its occurrences: the first at `first` (UTC s,
 * on a whole second), then every `every_s` seconds (0: once), `count` of
 * them (0: no limit) and none after `until` (0: none). Occurrence n
 * (1-based) starts at first + (n - 1) * every_s; its session's name is the
 * pattern with "{n}" replaced by n. Each occurrence is claimed once
 * (schedule_claim), so two runners never start the same one; one whose
 * instant passed while nothing ran is recorded as missed, never run late.
 * The last SCHEDULE_RUNS_KEPT runs of each schedule are kept with their
 * fate: starting, queued (behind another session), missed, failed (why),
 * and the session's id.
 */
#ifndef SCHEDULE_H
#define SCHEDULE_H

#include <stddef.h>
#include <jansson.h>

struct dataset;

#define SCHEDULE_MAX		256	/* schedules in a dataset */
#define SCHEDULE_RUNS_KEPT	50
#define SCHEDULE_EVERY_MIN_S	10
#define SCHEDULE_EVERY_MAX_S	(7 * 86400)
#define SCHEDULE_COUNT_MAX	100000

struct schedule_spec {
	char	name[256];	/* pattern; "{n}" is the occurrence */
	double	freq_hz;
	int	duration_s;
	int	chunk_ms;	/* chunk length (ms); stored schedules
				   without it: 1000 */
	char	source[128];	/* as session assign takes it */
	char	notes[4097];
	char	group[65];	/* "" none */
	double	first;		/* UTC s */
	int	every_s;	/* 0: once */
	int	count;		/* 0: no limit (then until, or forever) */
	double	until;		/* UTC s, 0: none */
};

/* An occurrence handed to a runner. */
struct schedule_due {
	char	id[37];
	int	n;
	double	at;
	struct schedule_spec spec;	/* name already expanded */
};

/* Check spec (text as session_validate does not: the pattern's length,
 * every, count, until, first on a whole second). 0, or -1 with err. */
int	 schedule_check(const struct schedule_spec *s, char *err,
	    size_t errlen);
/* Add a schedule (id gets its UUID). -1 with err when spec is bad or the
 * dataset holds SCHEDULE_MAX live ones. */
int	 schedule_add(struct dataset *ds, const struct schedule_spec *s,
	    char id[37], char *err, size_t errlen);
/* Every schedule, cancelled and finished included, each with "next" (the
 * ISO 8601 instant of its next occurrence, or null) and "state" (active,
 * finished, cancelled): a new array, or NULL with err. */
json_t	*schedule_list(struct dataset *ds, char *err, size_t errlen);
/* Cancel (its future occurrences; a session already started runs on).
 * 0, 1 when there is no such schedule, -1 with err. */
int	 schedule_cancel(struct dataset *ds, const char *id, char *err,
	    size_t errlen);
/*
 * The runner's step, at now: every occurrence whose instant is already
 * closer than lead s is recorded as missed (*missed, a new array of
 * {n, n_last, at, reason}, may stay NULL when none); the first
 * (earliest) occurrence due within [now + lead, now + lead + window) is
 * claimed into *due (recorded as starting) and 1 is returned; 0 when none
 * is due; -1 with err. *next gets the instant at which to look again
 * (INFINITY when nothing is planned): window s before the next one is
 * too close, so that a runner waking a little late still claims it.
 */
int	 schedule_claim(struct dataset *ds, double now, double lead,
	    double window, struct schedule_due *due, json_t **missed,
	    double *next, char *err, size_t errlen);
/* Record the fate of occurrence n of schedule id: status "starting",
 * "queued", "failed" or "missed"; session_id and reason may be NULL. */
int	 schedule_record(struct dataset *ds, const char *id, int n,
	    const char *status, const char *session_id, const char *reason,
	    char *err, size_t errlen);

#endif
