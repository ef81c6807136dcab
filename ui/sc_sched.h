/*
 * sc_sched.h -- the console's schedules (F3 on Configure, s in the
 * history): the dataset's planned sessions (store/schedule.h) with their
 * next instant and its countdown, repetition, state (waiting, queued
 * behind a running session, running, missed, done, cancelled) and the
 * occurrences run and missed; a form to add one (checked by the one
 * check every front-end makes, scheduler_check_new) and cancel with a
 * confirmation. When the scheduler starts an occurrence while the list is
 * shown, the console follows that session on its Progress screen. Owns
 * struct con's "schedules" part.
 */
#ifndef SC_SCHED_H
#define SC_SCHED_H

#include <jansson.h>

struct con;

/* The form's initial state (empty, 10 s, source unknown). */
void	sched_defaults(struct con *c);
/* Show the list (re-read from the dataset). */
void	sched_enter(struct con *c);
void	sched_draw(struct con *c);
void	sched_key(struct con *c, int k);
void	sched_help(struct con *c);
/* schedule:run / schedule:error from the scheduler (UI thread): logged,
 * the list re-read; an occurrence started while the list is shown is
 * followed (sc_progress's progress_follow). */
void	sched_event(struct con *c, const char *name, const json_t *d);
/* What the screen holds (console_run's end). */
void	sched_free(struct con *c);

#endif
