/*
 * sc_confirm.h -- step 3 of the console, Start acquisition: the session's
 * summary, how many stations accept it (the shared probe, on a thread of
 * its own: DNS and connect block), the stations one row each, which the
 * operator includes or excludes (Space, a all, n none; one the frequency
 * leaves out cannot be included), and on Enter the engine's three steps
 * (start with the excluded stations' names, assign, acquire) that create
 * the session; none selected is refused. Owns struct con's "confirm"
 * part (the probe, the choice of stations).
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
/* The choice of a past session (its manifest's stations, "record
 * again"): those it left out by the operator's choice are excluded, every
 * other station included (by name: the stations file may have changed). */
void	confirm_pick_from(struct con *c, const json_t *stations);
/* Free the confirm part (at exit). */
void	confirm_free(struct con *c);

#endif
