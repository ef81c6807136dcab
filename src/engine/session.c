/* session.c -- session parameters, their validation and the state machine. */

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/engine/config.h"
#include "src/engine/session.h"
#include "src/base/util.h"

static const char *status_names[] = {
	"pending", "recording", "source_assigned", "in_progress", "completed",
	"failed"
};

const char *
session_status_name(enum session_status st)
{
	if ((unsigned)st >= sizeof status_names / sizeof status_names[0])
		return "unknown";
	return status_names[st];
}

int
session_status_parse(const char *s)
{
	size_t	i;

	for (i = 0; i < sizeof status_names / sizeof status_names[0]; i++) {
		if (strcmp(s, status_names[i]) == 0)
			return (int)i;
	}
	return -1;
}

int
session_status_final(enum session_status st)
{
	return st == SESSION_COMPLETED || st == SESSION_FAILED;
}

int
session_error_set(struct session_error *e, const char *code,
    const char *field, const char *fmt, ...)
{
	va_list	ap;

	if (e == NULL)
		return -1;
	e->code = code;
	snprintf(e->field, sizeof e->field, "%s", field != NULL ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* Names and notes are shown in terminals and web pages and stored as JSON:
 * refuse invalid UTF-8 (JSON cannot hold it: the session would be stored
 * without its name) and control characters, C0 and C1 alike (ESC and CSI
 * drive terminals), other than tab/newline in notes. The WebSocket API
 * code: wrong_type for text that is not UTF-8, out_of_range for controls. */
static int
check_text(const char *s, int allow_newlines, const char *field,
    const char *what, struct session_error *e)
{
	switch (util_text_check(s, allow_newlines)) {
	case UTIL_TEXT_BAD_UTF8:
		return session_error_set(e, "wrong_type", field,
		    "%s must be valid UTF-8 text", what);
	case UTIL_TEXT_CONTROL:
		return session_error_set(e, "out_of_range", field,
		    "%s must not contain control characters", what);
	}
	return 0;
}

int
session_station_takes(const struct station *st, double freq_hz, char *why,
    size_t len)
{
	if (freq_hz >= st->freq_min_hz && freq_hz <= st->freq_max_hz)
		return 1;
	/* %.10g: Hz precision, without a float's trailing digits; short
	 * enough for the console's line under the field */
	if (why != NULL && len > 0)
		snprintf(why, len, "%.10g MHz is outside its range "
		    "%.10g-%.10g MHz", freq_hz / 1e6, st->freq_min_hz / 1e6,
		    st->freq_max_hz / 1e6);
	return 0;
}

int
session_frequency_left_out(const struct stations *stations, double freq_hz,
    char *note, size_t len)
{
	char	one[300];
	size_t	used = 0;
	int	i, out = 0, named = 0;

	if (note != NULL && len > 0)
		note[0] = '\0';
	for (i = 0; i < stations->n; i++)
		if (!session_station_takes(&stations->v[i], freq_hz, NULL, 0))
			out++;
	if (note == NULL || len == 0 || out == 0)
		return out;
	/* Names while they fit, keeping room for " and N others". */
	used = (size_t)snprintf(note, len, "left out:");
	for (i = 0; i < stations->n && used < len; i++) {
		const struct station *st = &stations->v[i];
		size_t room;
		if (session_station_takes(st, freq_hz, NULL, 0))
			continue;
		snprintf(one, sizeof one, "%s %s", named == 0 ? "" :
		    named == out - 1 ? " and" : ",", st->name);
		room = len - used;
		if (named < out - 1) {	/* room for " and N others" after */
			char tail[40];
			size_t t = (size_t)snprintf(tail, sizeof tail,
			    " and %d others", out - named - 1);
			room = room > t ? room - t : 0;
		}
		if (strlen(one) >= room)
			break;
		memcpy(note + used, one, strlen(one) + 1);
		used += strlen(one);
		named++;
	}
	if (named == 0)
		snprintf(note, len, "%d station%s left out", out, out == 1 ?
		    "" : "s");
	else if (named < out)
		snprintf(note + used, len - used, " and %d other%s",
		    out - named, out - named == 1 ? "" : "s");
	return out;
}

int
session_excludes(const struct session_params *p, const char *name)
{
	int	i;

	for (i = 0; i < p->nexclude && p->exclude != NULL; i++)
		if (p->exclude[i] != NULL && strcmp(p->exclude[i], name) == 0)
			return 1;
	return 0;
}

/* s for a message: at most len - 4 bytes, cut before a UTF-8 character's
 * continuation bytes, control characters as '?', "..." when cut. */
static const char *
shown(const char *s, char *out, size_t len)
{
	size_t	i, n = strlen(s), max = len - 4;

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	for (i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' :
		    s[i];
	out[i] = '\0';
	if (n < strlen(s))
		memcpy(out + i, "...", 4);
	return out;
}

int
session_check_exclude(const struct session_params *p,
    const struct stations *stations, struct session_error *e)
{
	char	said[80];
	int	i, j, left = 0;

	if (p->nexclude == 0)
		return 0;
	if (p->nexclude < 0 || p->nexclude > SESSION_EXCLUDE_MAX ||
	    p->exclude == NULL)
		return session_error_set(e, "too_large", "exclude", "at most "
		    "%d station names may be excluded", SESSION_EXCLUDE_MAX);
	for (i = 0; i < p->nexclude; i++) {
		const char *n = p->exclude[i];
		if (n == NULL)
			return session_error_set(e, "wrong_type", "exclude",
			    "exclude must hold station names");
		for (j = 0; j < stations->n; j++)
			if (strcmp(stations->v[j].name, n) == 0)
				break;
		if (j < stations->n)
			continue;
		/* The name may come from anyone: said bounded, whole UTF-8
		 * characters, control characters as '?'. */
		return session_error_set(e, "not_found", "exclude",
		    "no station is named \"%s\" (exclude takes the names of "
		    "the stations file%s%s%s)", shown(n, said, sizeof said),
		    stations->n > 0 ? ": \"" : "", stations->n > 0 ?
		    stations->v[0].name : "", stations->n > 1 ? "\", ..." :
		    stations->n > 0 ? "\"" : "");
	}
	for (j = 0; j < stations->n; j++)
		if (session_station_takes(&stations->v[j], p->freq_hz, NULL,
		    0) && !session_excludes(p, stations->v[j].name))
			left++;
	if (left == 0)
		return session_error_set(e, "out_of_range", "exclude",
		    "no station is left to record: every station that takes "
		    "%.10g MHz is excluded", p->freq_hz / 1e6);
	return 0;
}

int
session_check_frequency(const struct stations *stations, double freq_hz,
    struct session_error *e)
{
	const struct station	*first;
	int			 out;

	out = session_frequency_left_out(stations, freq_hz, NULL, 0);
	if (stations->n == 0 || out < stations->n)
		return 0;
	first = &stations->v[0];
	if (out == 1)
		return session_error_set(e, "out_of_range", "frequency_mhz",
		    "%.10g MHz is out of range: %s takes %.10g-%.10g MHz",
		    freq_hz / 1e6, first->name, first->freq_min_hz / 1e6,
		    first->freq_max_hz / 1e6);
	return session_error_set(e, "out_of_range", "frequency_mhz",
	    "%.10g MHz is out of range of every station: %s takes "
	    "%.10g-%.10g MHz (and %d other%s)", freq_hz / 1e6, first->name,
	    first->freq_min_hz / 1e6, first->freq_max_hz / 1e6, out - 1,
	    out == 2 ? "" : "s");
}

void
session_params_init(struct session_params *p)
{
	memset(p, 0, sizeof *p);
	p->low_cut = -SESSION_PASSBAND_DEFAULT;
	p->high_cut = SESSION_PASSBAND_DEFAULT;
	p->chunk_ms = SESSION_CHUNK_MS_DEFAULT;
}

int
session_total_chunks(const struct session_params *p)
{
	return p->chunk_ms > 0 ? (int)((long)p->duration_s * 1000 /
	    p->chunk_ms) : 0;
}

int
session_validate(const struct session_params *p,
    const struct stations *stations, struct session_error *e)
{
	size_t	len;

	len = strnlen(p->name, sizeof p->name);
	if (len == 0 || strspn(p->name, " \t") == len)
		return session_error_set(e, "missing_field", "session_name",
		    "session name must not be empty");
	if (len > SESSION_NAME_MAX)
		return session_error_set(e, "too_large", "session_name",
		    "session name is longer than %d bytes", SESSION_NAME_MAX);
	if (check_text(p->name, 0, "session_name", "session name", e) != 0)
		return -1;
	if (strnlen(p->notes, sizeof p->notes) > SESSION_NOTES_MAX)
		return session_error_set(e, "too_large", "notes",
		    "notes are longer than %d bytes", SESSION_NOTES_MAX);
	if (check_text(p->notes, 1, "notes", "notes", e) != 0)
		return -1;
	if (strnlen(p->group, sizeof p->group) > 0 &&
	    (strnlen(p->group, sizeof p->group) > SESSION_GROUP_MAX ||
	    !util_is_token(p->group, SESSION_GROUP_MAX)))
		return session_error_set(e, "out_of_range", "group_id",
		    "group id must be 1-%d letters, digits, '.', '_', ':' or "
		    "'-'", SESSION_GROUP_MAX);
	if (p->duration_s < SESSION_DURATION_MIN ||
	    p->duration_s > SESSION_DURATION_MAX)
		return session_error_set(e, "out_of_range", "duration_seconds",
		    "duration must be a whole number of seconds from %d to %d "
		    "(got %d)", SESSION_DURATION_MIN, SESSION_DURATION_MAX,
		    p->duration_s);
	if (p->chunk_ms < SESSION_CHUNK_MS_MIN ||
	    p->chunk_ms > SESSION_CHUNK_MS_MAX)
		return session_error_set(e, "out_of_range", "chunk_ms",
		    "chunk length must be %d to %d ms (got %d)",
		    SESSION_CHUNK_MS_MIN, SESSION_CHUNK_MS_MAX, p->chunk_ms);
	/* progress, rows and the chunk grid count whole chunks: a 3-s
	 * session of 2000-ms chunks would end mid-chunk */
	if ((long)p->duration_s * 1000 % p->chunk_ms != 0)
		return session_error_set(e, "out_of_range", "chunk_ms",
		    "the duration (%d s) must be a whole number of %d-ms "
		    "chunks", p->duration_s, p->chunk_ms);
	if (!isfinite(p->freq_hz) || p->freq_hz <= 0)
		return session_error_set(e, "out_of_range", "frequency_mhz",
		    "frequency must be a positive number of MHz");
	if (p->low_cut >= p->high_cut || p->low_cut < -SESSION_PASSBAND_MAX ||
	    p->high_cut > SESSION_PASSBAND_MAX)
		return session_error_set(e, "out_of_range", "passband",
		    "passband must be LOW:HIGH Hz with LOW < HIGH, within "
		    "-%d..%d (got %d:%d)", SESSION_PASSBAND_MAX,
		    SESSION_PASSBAND_MAX, p->low_cut, p->high_cut);
	if (stations != NULL && session_check_frequency(stations, p->freq_hz,
	    e) != 0)
		return -1;
	if (stations != NULL)
		return session_check_exclude(p, stations, e);
	return 0;
}

int
session_transition(enum session_status from, enum session_status to,
    struct session_error *e)
{
	if (session_status_final(from))
		return session_error_set(e, "bad_state", "session_id",
		    "session already ended (%s)", session_status_name(from));
	if (to == SESSION_FAILED)
		return 0;
	if (to == SESSION_RECORDING && from == SESSION_PENDING)
		return 0;
	if (to == SESSION_SOURCE_ASSIGNED && from == SESSION_RECORDING)
		return 0;
	if (to == SESSION_IN_PROGRESS && from == SESSION_SOURCE_ASSIGNED)
		return 0;
	if (to == SESSION_COMPLETED && from == SESSION_IN_PROGRESS)
		return 0;

	switch (to) {
	case SESSION_SOURCE_ASSIGNED:
		if (from == SESSION_PENDING)
			return session_error_set(e, "bad_state", "session_id",
			    "start the session before assigning a source");
		return session_error_set(e, "bad_state", "session_id",
		    "source can only be assigned before acquisition "
		    "(session is %s)", session_status_name(from));
	case SESSION_IN_PROGRESS:
		if (from == SESSION_IN_PROGRESS)
			return session_error_set(e, "bad_state", "session_id",
			    "acquisition already started");
		return session_error_set(e, "bad_state", "session_id",
		    "assign a source before starting acquisition (session is "
		    "%s)", session_status_name(from));
	case SESSION_COMPLETED:
		return session_error_set(e, "bad_state", "session_id",
		    "a session completes only after acquisition (session is "
		    "%s)", session_status_name(from));
	default:
		return session_error_set(e, "bad_state", "session_id",
		    "cannot go from %s to %s", session_status_name(from),
		    session_status_name(to));
	}
}

int
session_parse_mhz(const char *s, int allow_zero, double *mhz, char *err,
    size_t errlen)
{
	char		 buf[64], *end;
	const char	*p, *q;
	size_t		 n;
	int		 dots = 0, digits = 0, intdigits = 0, comma = 0;
	locale_t	 cloc;
	double		 v;

	/* Trim blanks at both ends. */
	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 0) {
		snprintf(err, errlen, "a frequency in MHz is required (e.g. "
		    "14.074)");
		return -1;
	}
	for (p = s, q = s + n; p < q; p++) {
		if (*p >= '0' && *p <= '9') {
			digits++;
			if (dots == 0 && (intdigits > 0 || *p != '0'))
				intdigits++;
		} else if (*p == '.')
			dots++;
		else if (*p == ',')
			comma++;
		else
			break;
	}
	/* Only digits and a point: strtod alone would take "0x10" (16),
	 * "1e1" (10), "inf" and, in a German locale, "14,2". */
	if (p < q || dots > 1 || digits == 0 || n >= sizeof buf) {
		snprintf(err, errlen, "use digits and one decimal point, in "
		    "MHz (e.g. 14.074)");
		return -1;
	}
	if (comma > 0) {
		const char *c = memchr(s, ',', n);

		if (comma == 1 && dots == 0)	/* "14,2": say 14.2 */
			snprintf(err, errlen, "use a decimal point, not a "
			    "comma: %.*s.%.*s MHz", (int)(c - s), s,
			    (int)(n - (size_t)(c - s) - 1), c + 1);
		else
			snprintf(err, errlen, "use a decimal point, not a "
			    "comma, and no thousands separator (got \"%.*s\")",
			    (int)(n < 40 ? n : 40), s);
		return -1;
	}
	/* More integer digits than any frequency has: too large, said as
	 * such before strtod (a 19-digit number is a number). */
	if (intdigits > 6) {
		snprintf(err, errlen, "too large: at most %g MHz",
		    SESSION_FREQ_MHZ_MAX);
		return -1;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	/* The C locale's point, whatever LC_NUMERIC the console set. */
	cloc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (cloc == (locale_t)0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	v = strtod_l(buf, &end, cloc);
	freelocale(cloc);
	if (*end != '\0' || !isfinite(v)) {
		snprintf(err, errlen, "the frequency must be a number of MHz "
		    "(got \"%s\")", buf);
		return -1;
	}
	if (v > SESSION_FREQ_MHZ_MAX) {
		snprintf(err, errlen, "too large: at most %g MHz",
		    SESSION_FREQ_MHZ_MAX);
		return -1;
	}
	if (v <= 0 && !allow_zero) {
		snprintf(err, errlen, "the frequency must be above 0 MHz");
		return -1;
	}
	*mhz = v;
	return 0;
}

enum session_outcome
session_outcome(const char *status, long long chunks_missing)
{
	if (status == NULL)
		return SESSION_OUTCOME_NONE;
	if (strcmp(status, "failed") == 0)
		return SESSION_OUTCOME_FAILED;
	if (strcmp(status, "completed") != 0)
		return SESSION_OUTCOME_NONE;
	return chunks_missing > 0 ? SESSION_OUTCOME_PARTIAL :
	    SESSION_OUTCOME_COMPLETE;
}

const char *
session_outcome_text(const char *status, long long chunks_missing,
    char *buf, size_t len)
{
	switch (session_outcome(status, chunks_missing)) {
	case SESSION_OUTCOME_COMPLETE:
		snprintf(buf, len, "complete");
		break;
	case SESSION_OUTCOME_PARTIAL:
		snprintf(buf, len, "partial (%lld missing)", chunks_missing);
		break;
	case SESSION_OUTCOME_FAILED:
		snprintf(buf, len, "failed");
		break;
	default:
		snprintf(buf, len, "%s", status != NULL ? status : "");
		break;
	}
	return buf;
}
