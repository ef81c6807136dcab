/*
 * sc_assign.h -- step 2 of the console, Assign source: the known sources
 * and "Unknown" from the dataset, filtered by typing. Owns struct con's
 * "assign" part (the sources read, the list, the pick kept for a new
 * session with the same settings).
 */
#ifndef SC_ASSIGN_H
#define SC_ASSIGN_H

struct con;

/* Re-read the sources and show the list (stays put when they cannot be
 * read: the message says why). */
void	assign_enter(struct con *c);
void	assign_draw(struct con *c);
void	assign_key(struct con *c, int k);
void	assign_help(struct con *c);

#endif
