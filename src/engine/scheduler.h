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

#define SCHEDULER_RESCAN_S	10

struct scheduler *scheduler_start(struct engine *eng, struct dataset *ds,
		    struct events *ev, char *err, size_t errlen);
/* Look at the schedules again now (one was added or cancelled here). */
void		 scheduler_poke(struct scheduler *s);
/* Stop the thread (a session it started runs on in the engine). NULL ok. */
void		 scheduler_stop(struct scheduler *s);

#endif
