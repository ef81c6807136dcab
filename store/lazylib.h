/*
 * lazylib.h -- libpq and libcurl, loaded when the central store is first
 * used rather than when the program starts.
 *
 * Linking them made every run of heimdall-rec load 28 more shared
 * libraries (libcurl and libpq pull in gnutls, krb5, ldap, sasl, ssh2,
 * nghttp2...), about 11 ms of CPU for the dynamic loader on each start,
 * for commands that never talk to a database or a bucket (a plain
 * `record`, `sessions`, the console). Instead, lazylib.c defines the few
 * libpq and libcurl functions that store/pgstore.c and store/s3store.c
 * call, with the libraries' own prototypes; each forwards to the real one,
 * found with dlopen()/dlsym() on first use (the loader is
 * src/base/dynlib.h; this module is the two lists). The binary does not
 * link either library.
 *
 * pgstore and s3store call lazylib_pq() / lazylib_curl() at their entry
 * points (before any other call into the library): a missing library is
 * then a clear error ("cannot load libpq.so.5: ..."), not a crash. A
 * forwarding function reached without a successful load aborts (a bug).
 */
#ifndef LAZYLIB_H
#define LAZYLIB_H

#include <stddef.h>

/* Load libpq (once; thread-safe). 0, or -1 and a message in err. */
int	lazylib_pq(char *err, size_t errlen);
/* Load libcurl (once; thread-safe). 0, or -1 and a message in err. */
int	lazylib_curl(char *err, size_t errlen);
/*
 * libzip and libsoxr, for store/arrays.c (the training-array export):
 * loaded when an export runs, for the same reason -- recording, listing
 * and serving never use them.
 */
int	lazylib_zip(char *err, size_t errlen);
int	lazylib_soxr(char *err, size_t errlen);

#endif
