/* lazyarchive.c -- libarchive loaded on first use: the functions store/sigmf.c calls, forwarded by src/base/dynlib (lazyarchive.h). */

#include <stddef.h>

#include <archive.h>
#include <archive_entry.h>

#include "src/base/dynlib.h"
#include "store/lazyarchive.h"

/* libarchive's soname has been 13 since 3.0 (2011); the prototypes below
 * are the headers' we compile against. */
#define ARCHIVE_SONAME	"libarchive.so.13"

/*
 * Every function sigmf.c calls: X returns a value, V returns nothing (the
 * setters: they need the library), F frees (returns at once when the
 * library was never loaded: nothing of it can exist).
 */
#define ARCHIVE_FUNCS(X, V, F) \
	X(struct archive *, archive_write_new, (void), ()) \
	X(int, archive_write_set_format_pax_restricted, (struct archive *a), \
	    (a)) \
	X(int, archive_write_open_filename, (struct archive *a, \
	    const char *f), (a, f)) \
	X(int, archive_write_header, (struct archive *a, \
	    struct archive_entry *e), (a, e)) \
	X(la_ssize_t, archive_write_data, (struct archive *a, const void *p, \
	    size_t n), (a, p, n)) \
	X(int, archive_write_finish_entry, (struct archive *a), (a)) \
	X(int, archive_write_close, (struct archive *a), (a)) \
	X(int, archive_write_fail, (struct archive *a), (a)) \
	X(int, archive_write_free, (struct archive *a), (a)) \
	X(const char *, archive_error_string, (struct archive *a), (a)) \
	X(struct archive_entry *, archive_entry_new, (void), ()) \
	F(archive_entry_free, (struct archive_entry *e), (e)) \
	V(archive_entry_set_pathname, (struct archive_entry *e, \
	    const char *p), (e, p)) \
	V(archive_entry_set_filetype, (struct archive_entry *e, \
	    unsigned int t), (e, t)) \
	V(archive_entry_set_perm, (struct archive_entry *e, __LA_MODE_T m), \
	    (e, m)) \
	V(archive_entry_set_size, (struct archive_entry *e, la_int64_t s), \
	    (e, s)) \
	V(archive_entry_set_mtime, (struct archive_entry *e, time_t t, \
	    long ns), (e, t, ns))

ARCHIVE_FUNCS(DYNLIB_PTR, DYNLIB_PTRV, DYNLIB_PTRV)

static const struct dynlib_sym archive_syms[] = {
	ARCHIVE_FUNCS(DYNLIB_SYM, DYNLIB_SYMV, DYNLIB_SYMV)
	{ NULL, NULL }
};

static struct dynlib	arch = DYNLIB_INIT(ARCHIVE_SONAME, archive_syms);

int
lazyarchive_load(char *err, size_t errlen)
{
	return dynlib_load(&arch, err, errlen);
}

#define ARCH_FWD(ret, name, params, args) \
	DYNLIB_FWD(arch, ret, name, params, args)
#define ARCH_FWDV(name, params, args) \
	DYNLIB_FWD_VOID(arch, name, params, args)
#define ARCH_FWDF(name, params, args) \
	DYNLIB_FWD_FREE(arch, name, params, args)
ARCHIVE_FUNCS(ARCH_FWD, ARCH_FWDV, ARCH_FWDF)
