/*
 * sc_confirm.h -- step 3 of the console, Start acquisition: the session's
 * summary, how many stations answer (a TCP probe on a thread of its own:
 * DNS and connect block), and on Enter the engine's three steps (start,
 * assign, acquire) that create the session. Owns struct con's "confirm"
 * part (the probe).
 */
#ifndef SC_CONFIRM_H
#define SC_CONFIRM_H

#include <jansson.h>

struct con;

/* Show the summary for the selected source and start the probe (stays on
 * step 2 with a message when no source is selected). */
void	confirm_enter(struct con *c);
void	confirm_draw(struct con *c);
void	confirm_key(struct con *c, int k);
void	confirm_help(struct con *c);
/* The probe's "ui:probe" event, on the UI thread. */
void	confirm_probe_done(struct con *c, const json_t *d);

#endif
