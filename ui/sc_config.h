/*
 * sc_config.h -- step 1 of the console, Configure: the session's name,
 * frequency (checked against every station's range as it is typed),
 * duration slider and notes. Owns struct con's "configure" part (fields,
 * focus, per-field errors, the stations' common range) and builds c->p,
 * the session's parameters, when the form is valid.
 */
#ifndef SC_CONFIG_H
#define SC_CONFIG_H

struct con;

/* The form's initial state (empty fields, 10 s) and the stations' range. */
void	config_defaults(struct con *c);
/* Show the form (messages cleared). */
void	config_enter(struct con *c);
void	config_draw(struct con *c);
void	config_key(struct con *c, int k);
void	config_help(struct con *c);
/* The Start at field's instant now (UTC s; "+N" counts from this call),
 * 0 when empty. 0, or -1 when it does not parse. */
int	config_start_at(struct con *c, double *t);

#endif
