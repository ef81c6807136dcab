/*
 * sc_history.h -- the console's history of sessions (F2 on Configure, H
 * on Complete): the dataset's sessions, newest first, each with its
 * status in the one vocabulary (session_outcome), chunks, group and the
 * reason of a failure; Enter shows a session's details (its missing
 * chunks with their reasons and its coverage grid, from the manifest);
 * r fills Configure with its settings to record again. Owns struct con's
 * "history" part.
 */
#ifndef SC_HISTORY_H
#define SC_HISTORY_H

struct con;

/* Show the list (re-read from the dataset's index). */
void	history_enter(struct con *c);
void	history_draw(struct con *c);
void	history_key(struct con *c, int k);
void	history_help(struct con *c);
/* What the screen holds (console_run's end). */
void	history_free(struct con *c);

#endif
