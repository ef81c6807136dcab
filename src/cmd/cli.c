/* cli.c -- the subcommands' shared helpers: messages, flag values, the dataset, terminal escapes (cli.h). */

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd/cli.h"
#include "src/engine/config.h"
#include "src/engine/session.h"
#include "src/base/util.h"
#include "net/server/wsserver.h"
#include "store/dataset.h"
#include "store/replicator.h"

int
cli_error(int code, const char *fmt, ...)
{
	va_list	ap;

	fputs("heimdall-rec: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int
cli_parse_double(const char *flag, const char *s, double lo, double hi,
    double *out)
{
	char	*end;
	double	 v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) ||
	    v < lo || v > hi) {
		cli_error(0, "%s must be a number from %g to %g (got \"%s\")",
		    flag, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

int
cli_parse_int(const char *flag, const char *s, long lo, long hi,
    const char *what, long *out)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) {
		cli_error(0, "%s must be a whole number of %s from %ld to %ld "
		    "(got \"%s\")", flag, what, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

int
cli_parse_passband(const char *s, int *low, int *high)
{
	char	*colon, *end;
	long	 lo, hi;

	errno = 0;
	lo = strtol(s, &colon, 10);
	if (errno == 0 && colon != s && *colon == ':') {
		hi = strtol(colon + 1, &end, 10);
		if (errno == 0 && end != colon + 1 && *end == '\0' &&
		    lo < hi && lo >= -SESSION_PASSBAND_MAX &&
		    hi <= SESSION_PASSBAND_MAX) {
			*low = (int)lo;
			*high = (int)hi;
			return 0;
		}
	}
	cli_error(0, "--passband must be LOW:HIGH in Hz with LOW < HIGH, "
	    "within -%d..%d, e.g. -5000:5000 (got \"%s\")",
	    SESSION_PASSBAND_MAX, SESSION_PASSBAND_MAX, s);
	return -1;
}

int
cli_check_listen(const char *listen, const char *tokfile, char *addr,
    size_t addrlen)
{
	struct wsserver_addrs	 ad;
	char			 err[512], a[INET6_ADDRSTRLEN + 16];
	int			 port, i;

	if (wsserver_parse_listen(listen, addr, addrlen, &port, err,
	    sizeof err) != 0 || wsserver_resolve(listen, &ad, err,
	    sizeof err) != 0)
		return cli_error(EXIT_USAGE, "%s", err);
	/* The rule rests on the addresses, not on how they are spelled
	 * (the server checks again what it really bound). */
	for (i = 0; i < ad.n && tokfile == NULL; i++)
		if (!wsserver_sa_is_loopback((struct sockaddr *)&ad.a[i])) {
			wsserver_format_addr((struct sockaddr *)&ad.a[i], a,
			    sizeof a);
			return cli_error(EXIT_USAGE, "refusing to listen on %s "
			    "without a token: a non-loopback address needs "
			    "--token-file FILE", a);
		}
	return 0;
}

/* The token file: one line, surrounding whitespace ignored. */
int
cli_read_token(const char *path, char **out)
{
	char	 err[512], *s, *b, *e;
	size_t	 len;

	s = util_read_file(path, WSSERVER_TOKEN_MAX + 64, &len, err,
	    sizeof err);
	/* 78 (a configuration file is missing or bad), not 66: that one
	 * says "no stations file". */
	if (s == NULL)
		return cli_error(EXIT_CONFIG, "--token-file: %s", err);
	if (strlen(s) != len) {
		free(s);
		return cli_error(EXIT_CONFIG, "--token-file %s: contains a NUL "
		    "byte", path);
	}
	for (b = s; *b == ' ' || *b == '\t' || *b == '\n' || *b == '\r'; b++)
		;
	for (e = b + strlen(b); e > b && (e[-1] == ' ' || e[-1] == '\t' ||
	    e[-1] == '\n' || e[-1] == '\r'); e--)
		;
	*e = '\0';
	if (strlen(b) < WSSERVER_TOKEN_MIN || strlen(b) > WSSERVER_TOKEN_MAX ||
	    strpbrk(b, " \t\r\n") != NULL) {
		free(s);
		return cli_error(EXIT_CONFIG, "--token-file %s: the token must "
		    "be one word of %d to %d bytes", path, WSSERVER_TOKEN_MIN,
		    WSSERVER_TOKEN_MAX);
	}
	*out = strdup(b);
	free(s);
	return *out != NULL ? 0 : EXIT_SOFTWARE;
}

int
cli_open_dataset(const char *dir, struct dataset **ds, char *path,
    size_t pathlen)
{
	return cli_open_dataset_keep(dir, ds, path, pathlen, NULL, NULL);
}

int
cli_open_dataset_keep(const char *dir, struct dataset **ds, char *path,
    size_t pathlen, int (*keep)(const char *, const char *, void *),
    void *ctx)
{
	char	err[1024];

	if (dir != NULL)
		snprintf(path, pathlen, "%s", dir);
	else if (config_default_data_dir(path, pathlen) != 0)
		return cli_error(EXIT_USAGE, "no --data-dir and no HOME or "
		    "XDG_DATA_HOME to find the default");
	*ds = dataset_open_keep(path, keep, ctx, err, sizeof err);
	if (*ds == NULL)
		return cli_error(EXIT_CANTCREAT, "data directory %s: %s", path,
		    err);
	return 0;
}

int
cli_find_session(struct dataset *ds, const char *key, char *id, size_t idlen)
{
	char		 err[1024], ids[1024] = "";
	const char	*sid, *name, *hit = NULL;
	json_t		*list, *o;
	size_t		 i, klen = strlen(key);
	int		 by_name = 0, by_prefix = 0, rc;

	if ((list = dataset_sessions_list(ds, err, sizeof err)) == NULL)
		return cli_error(EXIT_IOERR, "%s", err);
	/* An exact id first, then names, then id prefixes: a name that
	 * looks like a prefix still finds its session. */
	json_array_foreach(list, i, o) {
		sid = json_string_value(json_object_get(o, "id"));
		if (sid != NULL && strcmp(sid, key) == 0) {
			snprintf(id, idlen, "%s", sid);
			json_decref(list);
			return 0;
		}
	}
	json_array_foreach(list, i, o) {
		sid = json_string_value(json_object_get(o, "id"));
		name = json_string_value(json_object_get(o, "session_name"));
		if (sid == NULL || name == NULL || strcmp(name, key) != 0)
			continue;
		if (by_name++ == 0)
			hit = sid;
		snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%s",
		    by_name > 1 ? ", " : "", sid);
	}
	if (by_name == 0 && klen >= 4) {
		json_array_foreach(list, i, o) {
			sid = json_string_value(json_object_get(o, "id"));
			if (sid == NULL || strncmp(sid, key, klen) != 0)
				continue;
			if (by_prefix++ == 0)
				hit = sid;
			snprintf(ids + strlen(ids), sizeof ids - strlen(ids),
			    "%s%s", by_prefix > 1 ? ", " : "", sid);
		}
	}
	if (by_name == 1 || (by_name == 0 && by_prefix == 1)) {
		snprintf(id, idlen, "%s", hit);
		rc = 0;
	} else if (by_name > 1 || by_prefix > 1)
		rc = cli_error(EXIT_USAGE, "session \"%s\" is ambiguous: %d "
		    "sessions match (%s); give the id", cli_esc(key),
		    by_name > 1 ? by_name : by_prefix, ids);
	else
		rc = cli_error(EXIT_NOINPUT, "no session \"%s\" in %s (give "
		    "its id or name: heimdall-rec sessions lists them)",
		    cli_esc(key), dataset_dir(ds));
	json_decref(list);
	return rc;
}

/*
 * cli_esc's ring, one per thread that calls it, allocated at its first
 * call: as a __thread array (16 KiB of .tbss) every thread of the process
 * had one, zeroed by glibc at each pthread_create -- 4 page faults a
 * thread (~9 us each on this project's VMs), for the network, storage,
 * localization and other threads that never print. Freed when its thread
 * ends (the key's destructor); the main thread's stays reachable from its
 * __thread pointer until exit.
 */
struct esc_ring {
	char	s[16][1024];
	int	k;
};

static pthread_key_t	esc_key;
static pthread_once_t	esc_once = PTHREAD_ONCE_INIT;
static int		esc_key_ok;

static void
esc_key_init(void)
{
	esc_key_ok = pthread_key_create(&esc_key, free) == 0;
}

const char *
cli_esc(const char *s)
{
	static __thread struct esc_ring	*r;

	if (s == NULL)
		return "";
	if (r == NULL) {
		pthread_once(&esc_once, esc_key_init);
		if (!esc_key_ok || (r = calloc(1, sizeof *r)) == NULL)
			return "";
		if (pthread_setspecific(esc_key, r) != 0) {
			free(r);
			r = NULL;
			return "";
		}
	}
	r->k = (r->k + 1) % 16;
	return util_term_escape(s, r->s[r->k], sizeof r->s[r->k]);
}

int
cli_store_option(struct replicator_config *c, int val, const char *arg)
{
	char	err[1024];

	if (replicator_config_option(c, val, arg, err, sizeof err) < 0)
		return cli_error(EXIT_USAGE, "%s", err);
	return 0;
}

const char *
cli_jstr(const json_t *o, const char *k)
{
	return cli_esc(json_string_value(json_object_get(o, k)));
}

static double
jnum(const json_t *o, const char *k)
{
	const json_t	*v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

void
cli_fix_line(const json_t *f, char *buf, size_t len)
{
	const json_t	*w = json_object_get(f, "worst"), *el;
	double		 lat = jnum(f, "latitude"), lon = jnum(f, "longitude");
	double		 e = jnum(f, "error_m"), wres = NAN, a, b, o;
	size_t		 off;
	json_int_t	 wk = 0;

	if (!json_is_true(json_object_get(f, "ok")) || !isfinite(lat) ||
	    !isfinite(lon)) {
		snprintf(buf, len, "no fix: %s", cli_jstr(f, "reason"));
		return;
	}
	off = (size_t)snprintf(buf, len, "%.5f %c %.5f %c, CEP50 %.0f m, "
	    "CEP95 %.0f m", fabs(lat), lat >= 0 ? 'N' : 'S', fabs(lon),
	    lon >= 0 ? 'E' : 'W', jnum(f, "cep50_m"), jnum(f, "cep95_m"));
	/* the ellipse: an object in the event, flat in a row */
	el = json_object_get(f, "ellipse");
	if (!json_is_object(el))
		el = f;
	a = jnum(el, "semi_major_m");
	b = jnum(el, "semi_minor_m");
	o = jnum(el, "orientation_deg");
	if (off < len && isfinite(a) && isfinite(b))
		off += (size_t)snprintf(buf + off, len - off, ", ellipse "
		    "%.0f x %.0f m at %.0f deg", a, b, isfinite(o) ? o : 0);
	if (off < len && json_is_array(json_object_get(f, "receivers")))
		off += (size_t)snprintf(buf + off, len - off, ", %zu "
		    "receivers", json_array_size(json_object_get(f,
		    "receivers")));
	if (off < len && isfinite(e))
		off += (size_t)snprintf(buf + off, len - off, "; %.0f m from "
		    "the source", e);
	if (json_is_object(w)) {
		wk = json_integer_value(json_object_get(w, "websdr"));
		wres = jnum(w, "residual_us");
	} else if (json_is_integer(json_object_get(f, "worst_websdr"))) {
		wk = json_integer_value(json_object_get(f, "worst_websdr"));
		wres = jnum(f, "worst_residual_us");
	}
	if (off < len && wk > 0 && isfinite(wres))
		snprintf(buf + off, len - off, "; worst residual: station "
		    "%lld%s%s%s %+.2f us", (long long)wk, json_is_object(w) ?
		    " (" : "", json_is_object(w) ? cli_jstr(w, "station") : "",
		    json_is_object(w) ? ")" : "", wres);
}

int
cli_store_line(const json_t *st, char *buf, size_t len)
{
	const json_t	*db = json_object_get(st, "db");
	const json_t	*s3 = json_object_get(st, "s3");
	json_t		*d;
	size_t		 off, i;

	off = (size_t)snprintf(buf, len, "central store: %lld rows, %lld "
	    "objects pending",
	    (long long)json_integer_value(json_object_get(st, "pending_rows")),
	    (long long)json_integer_value(json_object_get(st,
	    "pending_objects")));
	if (off < len && json_integer_value(json_object_get(st,
	    "pending_loc_rows")) > 0)
		off += (size_t)snprintf(buf + off, len - off, ", %lld "
		    "localization rows pending", (long long)json_integer_value(
		    json_object_get(st, "pending_loc_rows")));
	if (off < len && strcmp(cli_jstr(db, "state"), "off") != 0)
		off += (size_t)snprintf(buf + off, len - off, "; database %s: "
		    "%s%s%s", cli_jstr(db, "target")[0] ?
		    cli_jstr(db, "target") : "(not connected)",
		    cli_jstr(db, "state"), cli_jstr(db, "error")[0] ? " - " : "",
		    cli_jstr(db, "error"));
	if (off < len && strcmp(cli_jstr(s3, "state"), "off") != 0)
		off += (size_t)snprintf(buf + off, len - off, "; S3 %s: %s%s%s",
		    cli_jstr(s3, "target"), cli_jstr(s3, "state"),
		    cli_jstr(s3, "error")[0] ? " - " : "",
		    cli_jstr(s3, "error"));
	if (off < len && json_real_value(json_object_get(st, "retry_in_s")) > 0)
		off += (size_t)snprintf(buf + off, len - off, "; retry in "
		    "%.1f s", json_real_value(json_object_get(st,
		    "retry_in_s")));
	/* sessions that cannot be sent, each named */
	json_array_foreach(json_object_get(st, "damaged"), i, d)
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off,
			    "; session %s not sent: %s", cli_jstr(d, "session_id"),
			    cli_jstr(d, "error"));
	return 0;
}
