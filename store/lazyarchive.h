/*
 * lazyarchive.h -- libarchive (export --archive's .sigmf tar), loaded when
 * an archive is first written rather than when the program starts.
 *
 * Linked, libarchive would load 16 more shared objects (nettle, acl, xml2,
 * lzma, zstd, bz2, lz4...) at every start of every command, for the one
 * that writes an archive (the reason store/lazylib.h gives for libpq and
 * libcurl). lazyarchive.c defines the libarchive functions store/sigmf.c
 * calls with the library's own prototypes, forwarded through
 * src/base/dynlib.h; the binary does not link it.
 *
 * Call lazyarchive_load() before any other libarchive call: a missing
 * library is then a clear error, not a crash.
 */
#ifndef LAZYARCHIVE_H
#define LAZYARCHIVE_H

#include <stddef.h>

/* Load libarchive (once; thread-safe). 0, or -1 and a message in err. */
int	lazyarchive_load(char *err, size_t errlen);

#endif
