/*
 * scheduler.h -- runs the dataset's schedules (store/schedule.h) in a
 * process that has an engine: `serve` and the console. It owns one thread
 * that sleeps until the next occurrence is due (or SCHEDULER_RESCAN_S, to
 * see schedules another process added), claims it, and makes it a session
 * through the engine's steps like any front-end: start, assign the
 * source, then acquire at the occurrence's instant (a coordinated start,
 * engine_session_acquire_at) -- or, when another session is acquiring,
 * acquire in the queue behind it (visibly queued, not coordinated). An
 * occurrence whose instant passed while nothing ran is recorded as missed
 * and never run late. Each fate is recorded in the schedule and said as
 * schedule:run {schedule_id, name, n, at, status: starting | queued |
 * missed | failed, session_id?, reason?}.
 */
#ifndef SCHEDULER_H
#define SCHEDULER_H

#include <stddef.h>

struct dataset;
struct engine;
struct events;
struct scheduler;
struct schedule_spec;
struct session_error;

#define SCHEDULER_RESCAN_S	10
/* A first start must leave the runner (serve, the console) time to claim
 * it and connect the receivers: its lead plus a margin. */
#define SCHEDULER_LEAD_MIN_S	10

/* "15m", "90s", "90", "2h" as seconds (util_parse_when's "+N[s|m|h]"):
 * 0, or -1. */
int		 scheduler_parse_every(const char *s, int *every_s);
/* What every front-end (schedule add, schedule:add) checks before
 * schedule_add, in one place: the first start at least
 * SCHEDULER_LEAD_MIN_S after now, the session each occurrence makes
 * passes session_validate (checked now, not at 3 am), schedule_check's
 * rules, and the source is known in ds. 0, or -1 with e (code
 * out_of_range, missing_field, wrong_type or too_large; field named as
 * in schedule:add: name, frequency_mhz, start_at, source, ...). */
int		 scheduler_check_new(struct dataset *ds,
		    const struct schedule_spec *s, double now,
		    struct session_error *e);

struct scheduler *scheduler_start(struct engine *eng, struct dataset *ds,
		    struct events *ev, char *err, size_t errlen);
/* Look at the schedules again now (one was added or cancelled here). */
void		 scheduler_poke(struct scheduler *s);
/* Stop the thread (a session it started runs on in the engine). NULL ok. */
void		 scheduler_stop(struct scheduler *s);

#endif
