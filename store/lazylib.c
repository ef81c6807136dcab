/* lazylib.c -- libpq, libcurl, libzip and libsoxr loaded on first use: the functions pgstore, s3store and arrays call, forwarded by src/base/dynlib. */

/* curl.h's type-checking macros would rename the definitions below. */
#define CURL_DISABLE_TYPECHECK

#include <stdarg.h>
#include <stddef.h>

#include <curl/curl.h>
#include <libpq-fe.h>
#include <soxr.h>
#include <zip.h>

#include "src/base/dynlib.h"
#include "store/lazylib.h"

/*
 * The sonames: libpq's has been 5 since PostgreSQL 8.0, libcurl's 4 since
 * 7.16 (2006); a new one would be an incompatible ABI, which the
 * prototypes below (the headers we compile against) would not match
 * anyway.
 */
#define PQ_SONAME	"libpq.so.5"
#define CURL_SONAME	"libcurl.so.4"
/* libzip's soname is 4 since 1.0 (2015); libsoxr's 0 since its first
 * release. */
#define ZIP_SONAME	"libzip.so.4"
#define SOXR_SONAME	"libsoxr.so.0"

/*
 * Every function the store calls: (return type, name, parameters,
 * arguments). Adding a call to another libpq or libcurl function in
 * pgstore.c or s3store.c means adding it here (the link fails otherwise:
 * the libraries are not linked).
 */
#define PQ_FUNCS(X, V) \
	V(PQclear, (PGresult *res), (res)) \
	V(PQfinish, (PGconn *conn), (conn)) \
	V(PQfreemem, (void *ptr), (ptr)) \
	V(PQconninfoFree, (PQconninfoOption *o), (o)) \
	V(PQreset, (PGconn *conn), (conn)) \
	X(ConnStatusType, PQstatus, (const PGconn *conn), (conn)) \
	X(ExecStatusType, PQresultStatus, (const PGresult *res), (res)) \
	X(PQnoticeProcessor, PQsetNoticeProcessor, (PGconn *conn, \
	    PQnoticeProcessor proc, void *arg), (conn, proc, arg)) \
	X(char *, PQresultErrorMessage, (const PGresult *res), (res)) \
	X(char *, PQgetvalue, (const PGresult *res, int tup, int field), \
	    (res, tup, field)) \
	X(PGresult *, PQgetResult, (PGconn *conn), (conn)) \
	X(char *, PQerrorMessage, (const PGconn *conn), (conn)) \
	X(char *, PQuser, (const PGconn *conn), (conn)) \
	X(char *, PQhost, (const PGconn *conn), (conn)) \
	X(char *, PQport, (const PGconn *conn), (conn)) \
	X(char *, PQdb, (const PGconn *conn), (conn)) \
	X(int, PQsocket, (const PGconn *conn), (conn)) \
	X(int, PQsendQuery, (PGconn *conn, const char *query), \
	    (conn, query)) \
	X(int, PQsendQueryParams, (PGconn *conn, const char *command, \
	    int nParams, const Oid *paramTypes, \
	    const char *const *paramValues, const int *paramLengths, \
	    const int *paramFormats, int resultFormat), (conn, command, \
	    nParams, paramTypes, paramValues, paramLengths, paramFormats, \
	    resultFormat)) \
	X(int, PQntuples, (const PGresult *res), (res)) \
	X(int, PQisBusy, (PGconn *conn), (conn)) \
	X(int, PQconsumeInput, (PGconn *conn), (conn)) \
	X(int, PQsetnonblocking, (PGconn *conn, int arg), (conn, arg)) \
	X(int, PQflush, (PGconn *conn), (conn)) \
	X(int, PQputCopyData, (PGconn *conn, const char *buffer, \
	    int nbytes), (conn, buffer, nbytes)) \
	X(int, PQputCopyEnd, (PGconn *conn, const char *errormsg), \
	    (conn, errormsg)) \
	X(char *, PQcmdTuples, (PGresult *res), (res)) \
	X(PQconninfoOption *, PQconninfoParse, (const char *conninfo, \
	    char **errmsg), (conninfo, errmsg)) \
	X(PGconn *, PQconnectdbParams, (const char *const *keywords, \
	    const char *const *values, int expand_dbname), (keywords, values, \
	    expand_dbname))

/* curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt (variadic)
 * are written out. */
#define CURL_FUNCS(X, V) \
	V(curl_easy_cleanup, (CURL *h), (h)) \
	V(curl_slist_free_all, (struct curl_slist *l), (l)) \
	X(CURL *, curl_easy_init, (void), ()) \
	X(CURLcode, curl_easy_perform, (CURL *h), (h)) \
	X(const char *, curl_easy_strerror, (CURLcode c), (c)) \
	X(CURLcode, curl_global_init, (long flags), (flags)) \
	X(CURLMcode, curl_multi_add_handle, (CURLM *m, CURL *h), (m, h)) \
	X(CURLMcode, curl_multi_cleanup, (CURLM *m), (m)) \
	X(CURLMsg *, curl_multi_info_read, (CURLM *m, int *left), (m, left)) \
	X(CURLM *, curl_multi_init, (void), ()) \
	X(CURLMcode, curl_multi_perform, (CURLM *m, int *running), \
	    (m, running)) \
	X(CURLMcode, curl_multi_poll, (CURLM *m, struct curl_waitfd *fds, \
	    unsigned int nfds, int timeout_ms, int *ret), (m, fds, nfds, \
	    timeout_ms, ret)) \
	X(CURLMcode, curl_multi_remove_handle, (CURLM *m, CURL *h), (m, h)) \
	X(struct curl_slist *, curl_slist_append, (struct curl_slist *l, \
	    const char *s), (l, s)) \
	X(CURLcode, curl_easy_setopt, (CURL *h, CURLoption o, ...), ()) \
	X(CURLcode, curl_easy_getinfo, (CURL *h, CURLINFO i, ...), ()) \
	X(CURLMcode, curl_multi_setopt, (CURLM *m, CURLMoption o, ...), ())

/* What store/arrays.c calls: the .npz archive (libzip) and the resampler
 * (libsoxr). */
#define ZIP_FUNCS(X, V) \
	V(zip_discard, (zip_t *za), (za)) \
	V(zip_error_fini, (zip_error_t *e), (e)) \
	V(zip_source_free, (zip_source_t *s), (s)) \
	V(zip_error_init_with_code, (zip_error_t *e, int code), (e, code)) \
	X(zip_t *, zip_open, (const char *path, int flags, int *errorp), \
	    (path, flags, errorp)) \
	X(const char *, zip_error_strerror, (zip_error_t *e), (e)) \
	X(const char *, zip_strerror, (zip_t *za), (za)) \
	X(int, zip_close, (zip_t *za), (za)) \
	X(zip_int64_t, zip_file_add, (zip_t *za, const char *name, \
	    zip_source_t *s, zip_flags_t fl), (za, name, s, fl)) \
	X(int, zip_set_file_compression, (zip_t *za, zip_uint64_t i, \
	    zip_int32_t m, zip_uint32_t f), (za, i, m, f)) \
	X(zip_source_t *, zip_source_buffer, (zip_t *za, const void *d, \
	    zip_uint64_t len, int freep), (za, d, len, freep)) \
	X(zip_source_t *, zip_source_function, (zip_t *za, \
	    zip_source_callback cb, void *ud), (za, cb, ud))
#define SOXR_FUNCS(X, V) \
	V(soxr_delete, (soxr_t s), (s)) \
	X(soxr_t, soxr_create, (double irate, double orate, unsigned nch, \
	    soxr_error_t *e, soxr_io_spec_t const *io, \
	    soxr_quality_spec_t const *q, soxr_runtime_spec_t const *r), \
	    (irate, orate, nch, e, io, q, r)) \
	X(soxr_error_t, soxr_process, (soxr_t s, soxr_in_t in, size_t ilen, \
	    size_t *idone, soxr_out_t out, size_t olen, size_t *odone), \
	    (s, in, ilen, idone, out, olen, odone)) \
	X(soxr_quality_spec_t, soxr_quality_spec, (unsigned long recipe, \
	    unsigned long flags), (recipe, flags)) \
	X(soxr_io_spec_t, soxr_io_spec, (soxr_datatype_t it, \
	    soxr_datatype_t ot), (it, ot))

/* The real functions, their table and the libraries. */
PQ_FUNCS(DYNLIB_PTR, DYNLIB_PTRV)
CURL_FUNCS(DYNLIB_PTR, DYNLIB_PTRV)
ZIP_FUNCS(DYNLIB_PTR, DYNLIB_PTRV)
SOXR_FUNCS(DYNLIB_PTR, DYNLIB_PTRV)

static const struct dynlib_sym pq_syms[] = {
	PQ_FUNCS(DYNLIB_SYM, DYNLIB_SYMV)
	{ NULL, NULL }
};
static const struct dynlib_sym curl_syms[] = {
	CURL_FUNCS(DYNLIB_SYM, DYNLIB_SYMV)
	{ NULL, NULL }
};

static const struct dynlib_sym zip_syms[] = {
	ZIP_FUNCS(DYNLIB_SYM, DYNLIB_SYMV)
	{ NULL, NULL }
};
static const struct dynlib_sym soxr_syms[] = {
	SOXR_FUNCS(DYNLIB_SYM, DYNLIB_SYMV)
	{ NULL, NULL }
};

static struct dynlib	pq = DYNLIB_INIT(PQ_SONAME, pq_syms);
static struct dynlib	curl = DYNLIB_INIT(CURL_SONAME, curl_syms);
static struct dynlib	zip = DYNLIB_INIT(ZIP_SONAME, zip_syms);
static struct dynlib	soxr = DYNLIB_INIT(SOXR_SONAME, soxr_syms);

int
lazylib_pq(char *err, size_t errlen)
{
	return dynlib_load(&pq, err, errlen);
}

int
lazylib_curl(char *err, size_t errlen)
{
	return dynlib_load(&curl, err, errlen);
}

int
lazylib_zip(char *err, size_t errlen)
{
	return dynlib_load(&zip, err, errlen);
}

int
lazylib_soxr(char *err, size_t errlen)
{
	return dynlib_load(&soxr, err, errlen);
}

/*
 * The forwarding functions. The void ones all free or reset: they return
 * at once when the library was never loaded (nothing of it can exist).
 */
#define PQ_FWD(ret, name, params, args) DYNLIB_FWD(pq, ret, name, params, args)
#define PQ_FWDV(name, params, args) DYNLIB_FWD_FREE(pq, name, params, args)
PQ_FUNCS(PQ_FWD, PQ_FWDV)

/* libzip's zip_error_init_with_code fills a struct: it needs the library
 * (a plain forward, not a free). */
#define ZIP_FWD(ret, name, params, args) DYNLIB_FWD(zip, ret, name, params, args)
#define ZIP_FWDV(name, params, args) ZIP_FWDV_##name(name, params, args)
#define ZIP_FWDV_zip_discard(n, p, a)		DYNLIB_FWD_FREE(zip, n, p, a)
#define ZIP_FWDV_zip_error_fini(n, p, a)	DYNLIB_FWD_FREE(zip, n, p, a)
#define ZIP_FWDV_zip_source_free(n, p, a)	DYNLIB_FWD_FREE(zip, n, p, a)
#define ZIP_FWDV_zip_error_init_with_code(n, p, a) DYNLIB_FWD_VOID(zip, n, p, a)
ZIP_FUNCS(ZIP_FWD, ZIP_FWDV)
#define SOXR_FWD(ret, name, params, args) DYNLIB_FWD(soxr, ret, name, params, \
	args)
#define SOXR_FWDV(name, params, args) DYNLIB_FWD_FREE(soxr, name, params, args)
SOXR_FUNCS(SOXR_FWD, SOXR_FWDV)

/* The variadic three are written out below. */
#define CURL_FWD(ret, name, params, args) CURL_FWD_##name(ret, name, params, \
	args)
#define CURL_FWDV(name, params, args) DYNLIB_FWD_FREE(curl, name, params, args)
#define CURL_FWD_curl_easy_init(r, n, p, a)		DYNLIB_FWD(curl, r, n, p, a)
#define CURL_FWD_curl_easy_perform(r, n, p, a)		DYNLIB_FWD(curl, r, n, p, a)
#define CURL_FWD_curl_easy_strerror(r, n, p, a)		DYNLIB_FWD(curl, r, n, p, a)
#define CURL_FWD_curl_global_init(r, n, p, a)		DYNLIB_FWD(curl, r, n, p, a)
#define CURL_FWD_curl_multi_add_handle(r, n, p, a)	DYNLIB_FWD(curl, r, n, p, a)
#define CURL_FWD_curl_multi_cleanup(r, n, p, a)		DYNLIB_FWD(curl, r, n, p, a)
#define CURL_FWD_curl_multi_info_read(r, n, p, a)	DYNLIB_FWD(curl, r, n, p, a)
#define CURL_FWD_curl_multi_init(r, n, p, a)		DYNLIB_FWD(curl, r, n, p, a)
#define CURL_FWD_curl_multi_perform(r, n, p, a)		DYNLIB_FWD(curl, r, n, p, a)
#define CURL_FWD_curl_multi_poll(r, n, p, a)		DYNLIB_FWD(curl, r, n, p, a)
#define CURL_FWD_curl_multi_remove_handle(r, n, p, a)	DYNLIB_FWD(curl, r, n, p, a)
#define CURL_FWD_curl_slist_append(r, n, p, a)		DYNLIB_FWD(curl, r, n, p, a)
#define CURL_FWD_curl_easy_setopt(r, n, p, a)
#define CURL_FWD_curl_easy_getinfo(r, n, p, a)
#define CURL_FWD_curl_multi_setopt(r, n, p, a)
CURL_FUNCS(CURL_FWD, CURL_FWDV)

/*
 * curl_easy_setopt takes one more argument whose type the option's number
 * tells (curl.h: CURLOPTTYPE_*): a long, a pointer (object, string, list,
 * callback data), a function pointer, a curl_off_t or a blob pointer.
 * Passed on as that type.
 */
CURLcode
curl_easy_setopt(CURL *h, CURLoption o, ...)
{
	va_list		 ap;
	CURLcode	 rc;

	dynlib_need(&curl, "curl_easy_setopt");
	va_start(ap, o);
	if (o < CURLOPTTYPE_OBJECTPOINT)
		rc = real_curl_easy_setopt(h, o, va_arg(ap, long));
	else if (o < CURLOPTTYPE_FUNCTIONPOINT)
		rc = real_curl_easy_setopt(h, o, va_arg(ap, void *));
	else if (o < CURLOPTTYPE_OFF_T)
		rc = real_curl_easy_setopt(h, o, va_arg(ap, void (*)(void)));
	else if (o < CURLOPTTYPE_BLOB)
		rc = real_curl_easy_setopt(h, o, va_arg(ap, curl_off_t));
	else
		rc = real_curl_easy_setopt(h, o, va_arg(ap, void *));
	va_end(ap);
	return rc;
}

/* A CURLMOPT_* takes a long, a pointer (object, string) or a function
 * pointer (CURLOPTTYPE_* as curl_easy_setopt's options). */
CURLMcode
curl_multi_setopt(CURLM *m, CURLMoption o, ...)
{
	va_list		 ap;
	CURLMcode	 rc;

	dynlib_need(&curl, "curl_multi_setopt");
	va_start(ap, o);
	if (o < CURLOPTTYPE_OBJECTPOINT)
		rc = real_curl_multi_setopt(m, o, va_arg(ap, long));
	else if (o < CURLOPTTYPE_FUNCTIONPOINT)
		rc = real_curl_multi_setopt(m, o, va_arg(ap, void *));
	else
		rc = real_curl_multi_setopt(m, o, va_arg(ap, void (*)(void)));
	va_end(ap);
	return rc;
}

/* Every CURLINFO_* takes a pointer to where the answer goes. */
CURLcode
curl_easy_getinfo(CURL *h, CURLINFO i, ...)
{
	va_list		 ap;
	CURLcode	 rc;

	dynlib_need(&curl, "curl_easy_getinfo");
	va_start(ap, i);
	rc = real_curl_easy_getinfo(h, i, va_arg(ap, void *));
	va_end(ap);
	return rc;
}
