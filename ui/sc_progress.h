/*
 * sc_progress.h -- the console's acquisition screens, Progress and
 * Complete: the session's events applied to its state (counters, one row
 * per station, the localization panel, the event log), the station table
 * with its sparklines, and once the session ended its summary. Owns
 * struct con's "session" part.
 */
#ifndef SC_PROGRESS_H
#define SC_PROGRESS_H

#include <jansson.h>

struct con;

struct row;
/* Free n rows and their spectra. */
void	rows_free(struct row *rows, int n);
/* Fresh rows (one per configured station) before a session starts. */
void	progress_reset(struct con *c);
/* One engine event, on the UI thread; events of other sessions only move
 * the queue counters. */
void	progress_event(struct con *c, const char *name, const json_t *d);
/* The event queue overflowed: re-read counters and station states. */
void	progress_resync(struct con *c);
/* Follow session sid, started by another front-end (the scheduler), as
 * the operator's own: its parameters and state from the engine, then its
 * events; the Progress screen shown. start_at: its coordinated instant
 * (UTC s, 0: none). 0, or -1 when the engine has no such session or it
 * already ended. */
int	progress_follow(struct con *c, const char *sid, double start_at);
/* Progress and Complete share the table: one draw for both screens. */
void	progress_draw(struct con *c);
void	progress_key(struct con *c, int k);
void	progress_help(struct con *c);
void	complete_key(struct con *c, int k);
void	complete_help(struct con *c);

#endif
