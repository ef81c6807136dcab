/*
 * migrations.h -- the SQL migrations of the central database, compiled in
 * from sql/NNN_name.sql (sql/embed.py), in order. pgstore applies them.
 */
#ifndef MIGRATIONS_H
#define MIGRATIONS_H

#include <stddef.h>

struct migration {
	const char	*version;	/* "001_schema": file name sans .sql */
	const char	*sql;
};

/* Terminated by { NULL, NULL }. */
extern const struct migration migrations[];

#endif
