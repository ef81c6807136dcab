/* config.c -- the stations file (jansson) and the default paths. */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "src/engine/config.h"
#include "src/base/util.h"
#include "net/rx/receiver.h"

static int
copy_str(char *dst, size_t len, const char *src)
{
	if (strlen(src) >= len)
		return -1;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/*
 * scheme://host[:port][/path]. host may be [v6]. The path keeps no
 * trailing slash so drivers can append their own ("/<ts>/SND").
 */
static int
parse_url(struct station *st, char *err, size_t errlen)
{
	const char	*p, *h, *hend, *rest;
	size_t		 hlen;
	long		 port;
	char		*end;

	if (strncmp(st->url, "file://", 7) == 0) {
		/* A recording (kiwiwav): file:///absolute/path, taken as
		 * written (no percent-decoding); host "" marks it. */
		rest = st->url + 7;
		if (strncmp(rest, "localhost/", 10) == 0)
			rest += 9;
		if (*rest != '/' || strlen(rest) >= sizeof st->path) {
			snprintf(err, errlen, "url \"%.200s\": a file url is "
			    "file:///absolute/path (at most %zu bytes)", st->url,
			    sizeof st->path - 1);
			return -1;
		}
		for (p = rest; *p != '\0'; p++) {
			if ((unsigned char)*p < ' ' || *p == 0x7f) {
				snprintf(err, errlen, "url \"%.200s\": control "
				    "character in the path", st->url);
				return -1;
			}
		}
		st->tls = 0;
		st->port = 0;
		st->host[0] = '\0';
		memcpy(st->path, rest, strlen(rest) + 1);
		return 0;
	}
	if (strncmp(st->url, "http://", 7) == 0 ||
	    strncmp(st->url, "ws://", 5) == 0) {
		st->tls = 0;
		st->port = 80;
	} else if (strncmp(st->url, "https://", 8) == 0 ||
	    strncmp(st->url, "wss://", 6) == 0) {
		st->tls = 1;
		st->port = 443;
	} else if (strncmp(st->url, "tcp://", 6) == 0) {
		st->tls = 0;
		st->port = 0;
	} else {
		snprintf(err, errlen, "url \"%.200s\": must start with http://, "
		    "https://, ws://, wss://, tcp:// or file://", st->url);
		return -1;
	}
	h = strstr(st->url, "://") + 3;
	if (*h == '[') {
		hend = strchr(h, ']');
		if (hend == NULL)
			goto bad;
		h++;
		hlen = (size_t)(hend - h);
		rest = hend + 1;
	} else {
		hend = h + strcspn(h, ":/?#");
		hlen = (size_t)(hend - h);
		rest = hend;
	}
	if (hlen == 0 || hlen >= sizeof st->host)
		goto bad;
	memcpy(st->host, h, hlen);
	st->host[hlen] = '\0';
	for (p = st->host; *p != '\0'; p++) {
		if (*p <= ' ' || *p == '@' || *p == '%')
			goto bad;
	}
	if (*rest == ':') {
		errno = 0;
		port = strtol(rest + 1, &end, 10);
		if (errno != 0 || end == rest + 1 || port < 1 || port > 65535)
			goto bad;
		st->port = (int)port;
		rest = end;
	}
	if (st->port == 0) {
		snprintf(err, errlen, "url \"%.200s\": tcp:// needs a port",
		    st->url);
		return -1;
	}
	if (*rest != '\0' && *rest != '/')
		goto bad;
	if (copy_str(st->path, sizeof st->path, rest) != 0)
		goto bad;
	hlen = strlen(st->path);
	while (hlen > 0 && st->path[hlen - 1] == '/')
		st->path[--hlen] = '\0';
	return 0;
bad:
	snprintf(err, errlen, "url \"%.200s\" is not a valid receiver address",
	    st->url);
	return -1;
}

static int
get_string(json_t *o, const char *key, int required, char *dst, size_t len,
    const char *what, char *err, size_t errlen)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		if (!required) {
			dst[0] = '\0';
			return 0;
		}
		snprintf(err, errlen, "%s: \"%s\" is missing", what, key);
		return -1;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "%s: \"%s\" must be a string", what, key);
		return -1;
	}
	if (copy_str(dst, len, json_string_value(v)) != 0) {
		snprintf(err, errlen, "%s: \"%s\" is longer than %zu bytes",
		    what, key, len - 1);
		return -1;
	}
	return 0;
}

static int
get_number(json_t *o, const char *key, int required, double *dst,
    double lo, double hi, const char *what, char *err, size_t errlen)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		if (!required)
			return 0;
		snprintf(err, errlen, "%s: \"%s\" is missing", what, key);
		return -1;
	}
	if (!json_is_number(v)) {
		snprintf(err, errlen, "%s: \"%s\" must be a number", what, key);
		return -1;
	}
	*dst = json_number_value(v);
	if (!isfinite(*dst) || *dst < lo || *dst > hi) {
		snprintf(err, errlen, "%s: \"%s\" must be from %g to %g "
		    "(got %g)", what, key, lo, hi, *dst);
		return -1;
	}
	return 0;
}

/* The demodulator and audio passband of an audio receiver. */
static int
parse_audio(json_t *o, struct station *st, const char *what, char *err,
    size_t errlen)
{
	static const char *modes[] = { "usb", "lsb", "am", "fm", "nfm", "cw",
	    NULL };
	double	 lo = 0, hi = 0;
	int	 i;

	if (get_string(o, "mode", 0, st->mode, sizeof st->mode, what, err,
	    errlen) != 0)
		return -1;
	for (i = 0; st->mode[0] != '\0' && modes[i] != NULL; i++)
		if (strcmp(st->mode, modes[i]) == 0)
			break;
	if (st->mode[0] != '\0' && modes[i] == NULL) {
		snprintf(err, errlen, "%s: \"mode\" must be usb, lsb, am, fm, "
		    "nfm or cw (got \"%.15s\")", what, st->mode);
		return -1;
	}
	if ((json_object_get(o, "low_cut") != NULL) !=
	    (json_object_get(o, "high_cut") != NULL)) {
		snprintf(err, errlen, "%s: \"low_cut\" and \"high_cut\" go "
		    "together", what);
		return -1;
	}
	if (json_object_get(o, "low_cut") == NULL)
		return 0;
	if (get_number(o, "low_cut", 1, &lo, -24000, 24000, what, err,
	    errlen) != 0 ||
	    get_number(o, "high_cut", 1, &hi, -24000, 24000, what, err,
	    errlen) != 0)
		return -1;
	if (lo != floor(lo) || hi != floor(hi) || lo >= hi) {
		snprintf(err, errlen, "%s: \"low_cut\" must be a whole number "
		    "of Hz below \"high_cut\"", what);
		return -1;
	}
	st->has_cut = 1;
	st->low_cut = (int)lo;
	st->high_cut = (int)hi;
	return 0;
}

static int
parse_station(json_t *o, struct station *st, int index, char *err,
    size_t errlen)
{
	const struct rx_driver	*drv;
	char			 what[160], uerr[600];
	const char		*key;
	json_t			*v;

	snprintf(what, sizeof what, "station %d", index);
	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s: must be an object", what);
		return -1;
	}
	json_object_foreach(o, key, v) {
		static const char *known[] = { "name", "type", "url",
		    "latitude", "longitude", "altitude", "password",
		    "frequency_min_hz", "frequency_max_hz", "country", "notes", "mode", "low_cut",
		    "high_cut", NULL };
		int i;
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (known[i] == NULL) {
			snprintf(err, errlen, "%s: unknown field \"%s\"", what,
			    key);
			return -1;
		}
	}
	memset(st, 0, sizeof *st);
	st->index = index;
	if (get_string(o, "name", 1, st->name, sizeof st->name, what, err,
	    errlen) != 0)
		return -1;
	if (st->name[0] == '\0') {
		snprintf(err, errlen, "%s: \"name\" must not be empty", what);
		return -1;
	}
	/* shown in terminals and messages: no ESC, CSI, ... (the JSON
	 * parser already guarantees UTF-8) */
	if (util_text_check(st->name, 0) != UTIL_TEXT_OK) {
		snprintf(err, errlen, "%s: \"name\" must not contain control "
		    "characters", what);
		return -1;
	}
	snprintf(what, sizeof what, "station %d (%s)", index, st->name);
	if (get_string(o, "type", 1, st->type, sizeof st->type, what, err,
	    errlen) != 0 ||
	    get_string(o, "url", 1, st->url, sizeof st->url, what, err,
	    errlen) != 0 ||
	    get_string(o, "password", 0, st->password, sizeof st->password,
	    what, err, errlen) != 0)
		return -1;
	drv = rx_driver_find(st->type);
	if (drv == NULL) {
		snprintf(err, errlen, "%s: unknown receiver type \"%s\"", what,
		    st->type);
		return -1;
	}
	if (get_number(o, "latitude", 1, &st->latitude, -90, 90, what, err,
	    errlen) != 0 ||
	    get_number(o, "longitude", 1, &st->longitude, -180, 180, what,
	    err, errlen) != 0 ||
	    get_number(o, "altitude", 0, &st->altitude, STATION_ALT_MIN,
	    STATION_ALT_MAX, what, err, errlen) != 0)
		return -1;
	/* absent or null: unknown (the exports say NaN / leave it out) */
	st->has_altitude = json_is_number(json_object_get(o, "altitude"));
	st->freq_min_hz = drv->default_min_hz;
	st->freq_max_hz = drv->default_max_hz;
	if (get_number(o, "frequency_min_hz", 0, &st->freq_min_hz, 0, 1e11,
	    what, err, errlen) != 0 ||
	    get_number(o, "frequency_max_hz", 0, &st->freq_max_hz, 0, 1e11,
	    what, err, errlen) != 0)
		return -1;
	if (st->freq_min_hz > st->freq_max_hz) {
		snprintf(err, errlen, "%s: frequency_min_hz is above "
		    "frequency_max_hz", what);
		return -1;
	}
	if (parse_url(st, uerr, sizeof uerr) != 0) {
		snprintf(err, errlen, "%s: %s", what, uerr);
		return -1;
	}
	/* a recording is a file, a receiver is on the network */
	if (rx_type_replay(st->type) != (strncmp(st->url, "file://", 7) == 0)) {
		snprintf(err, errlen, "%s: url \"%.200s\": %s", what, st->url,
		    rx_type_replay(st->type) ? "a kiwiwav station is a file: "
		    "file:///path.wav" : "file:// is for kiwiwav stations "
		    "(recordings) only");
		return -1;
	}
	return parse_audio(o, st, what, err, errlen);
}

int
config_parse_stations(const char *json, size_t len, struct stations *out,
    char *err, size_t errlen)
{
	json_error_t	 jerr;
	json_t		*root, *arr;
	size_t		 i, j;

	memset(out, 0, sizeof *out);
	err[0] = '\0';
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "line %d column %d: %s", jerr.line,
		    jerr.column, jerr.text);
		return -1;
	}
	arr = json_object_get(root, "stations");
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "expected {\"stations\": [...]}");
		goto fail;
	}
	if (json_array_size(arr) == 0) {
		snprintf(err, errlen, "no stations in the file");
		goto fail;
	}
	if (json_array_size(arr) > CONFIG_MAX_STATIONS) {
		snprintf(err, errlen, "%zu stations: at most %d are supported",
		    json_array_size(arr), CONFIG_MAX_STATIONS);
		goto fail;
	}
	out->v = calloc(json_array_size(arr), sizeof *out->v);
	if (out->v == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < json_array_size(arr); i++) {
		err[0] = '\0';
		if (parse_station(json_array_get(arr, i), &out->v[i],
		    (int)i + 1, err, errlen) != 0)
			goto fail;
		out->n++;
		for (j = 0; j < i; j++) {
			if (strcmp(out->v[j].name, out->v[i].name) == 0) {
				snprintf(err, errlen, "stations %zu and %zu "
				    "have the same name \"%s\"", j + 1, i + 1,
				    out->v[i].name);
				goto fail;
			}
		}
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	config_free_stations(out);
	return -1;
}

int
config_load_stations(const char *path, struct stations *out, char *err,
    size_t errlen)
{
	char	*buf, msg[512];
	size_t	 len;
	int	 rc;

	buf = util_read_file(path, CONFIG_MAX_FILE, &len, msg, sizeof msg);
	if (buf == NULL) {
		snprintf(err, errlen, "%s", msg);
		return -1;
	}
	rc = config_parse_stations(buf, len, out, msg, sizeof msg);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, msg);
	free(buf);
	return rc;
}

void
config_free_stations(struct stations *s)
{
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int
xdg_path(const char *var, const char *fallback, const char *leaf,
    char *buf, size_t len)
{
	const char	*base = getenv(var), *home;

	if (base != NULL && base[0] == '/')
		return util_fmt(buf, len, "%s/heimdall-rec%s", base, leaf);
	home = getenv("HOME");
	if (home == NULL || home[0] == '\0')
		return -1;
	return util_fmt(buf, len, "%s/%s/heimdall-rec%s", home, fallback,
	    leaf);
}

int
config_default_stations_path(char *buf, size_t len)
{
	return xdg_path("XDG_CONFIG_HOME", ".config", "/stations.json", buf,
	    len);
}

int
config_default_data_dir(char *buf, size_t len)
{
	return xdg_path("XDG_DATA_HOME", ".local/share", "", buf, len);
}
