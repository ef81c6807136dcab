/*
 * cmd_import.c -- "import": a session from kiwirecorder's GPS-stamped IQ
 * WAV files (the archives KiwiSDR TDoA users keep), through the engine's
 * own path.
 *
 * The design: each recording is a station of type "kiwiwav" (url
 * file:///path.wav, with the station's coordinates), and its driver
 * (net/rx/replay.h) replays the file's frames with their GPS stamps, so
 * the chunker, the metrics, the dataset's chunks and rows, the events and
 * the summary are the engine's, as for a live session -- nothing of them
 * is done here. What this command adds is the cut: every file is read and
 * judged first (replay_scan: refused files keep their reason and stay in
 * the session as failed stations, their chunks missing with it; fewer
 * than 2 usable ones and nothing is made, exit 65), then the common
 * GNSS-time overlap of the usable ones gives the session's origin (its
 * start, rounded up to the millisecond) and duration (its whole seconds,
 * at most --duration, default and at most 30), and the engine runs in
 * replay mode (engine_config.replay): on the recordings' time line, as
 * fast as the files are read, no wall-clock timeout. The rest -- events,
 * --json, the summary, the exit status -- is record's (cmd_record_run).
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd/cmd.h"
#include "src/cmd/runtime.h"
#include "src/engine/config.h"
#include "src/engine/session.h"
#include "src/base/util.h"
#include "net/rx/receiver.h"
#include "net/rx/replay.h"

static const struct option import_options[] = {
	{ "stations", required_argument, NULL, 0 },
	{ "data-dir", required_argument, NULL, 0 },
	{ "name", required_argument, NULL, 0 },
	{ "source", required_argument, NULL, 0 },
	{ "duration", required_argument, NULL, 0 },
	{ "freq", required_argument, NULL, 0 },
	{ "notes", required_argument, NULL, 0 },
	{ "group", required_argument, NULL, 0 },
	{ "passband", required_argument, NULL, 0 },
	{ "chunk-ms", required_argument, NULL, 0 },
	{ "json", no_argument, NULL, 0 },
	RUNTIME_OPTIONS,
	{ NULL, 0, NULL, 0 }
};

/* The file's base name, for messages. */
static const char *
base(const char *path)
{
	const char	*s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

static void
utc(int64_t ns, char *buf, size_t len)
{
	util_iso8601((double)ns / 1e9, buf, len);
}

static int
import_exec(const struct args *a)
{
	struct session_params	 p;
	struct session_error	 e;
	struct runtime		 rt;
	struct replay_info	*info = NULL;
	const char		*stfile, *dir, *source;
	char			 t1[40], t2[40];
	double			 mhz = 0, freq = 0;
	int64_t			 start = 0, end = 0, t0;
	long			 dur = SESSION_DURATION_MAX, avail;
	int			 i, rc, usable = 0, freq_ok = 1;

	session_params_init(&p);
	stfile = args_get(a, "stations");
	dir = args_get(a, "data-dir");
	source = args_get(a, "source");
	if ((rc = cmd_session_options(a, &p, &mhz, &dur)) != 0)
		return rc;
	if (p.name[0] == '\0')
		return cli_error(EXIT_USAGE, "--name is required and must not "
		    "be empty");
	if (source == NULL)
		return cli_error(EXIT_USAGE, "--source is required: \"unknown\", "
		    "a known source's name or its UUID");

	if ((rc = runtime_load_stations(&rt, stfile)) != 0 ||
	    (rc = runtime_options(a, &rt)) != 0)
		goto fail;
	for (i = 0; i < rt.stations.n; i++) {
		const struct station *st = &rt.stations.v[i];
		if (!rx_type_replay(st->type)) {
			rc = cli_error(EXIT_CONFIG, "station %d (%s) is a %s "
			    "receiver: import replays recordings (\"type\": "
			    "\"kiwiwav\", \"url\": \"file:///path.wav\")",
			    st->index, cli_esc(st->name), st->type);
			goto fail;
		}
	}

	/* Read and judge every file: the overlap of the usable ones is the
	 * session; a refused one says why, here and in the session. */
	if ((info = calloc((size_t)rt.stations.n, sizeof *info)) == NULL) {
		rc = cli_error(EXIT_SOFTWARE, "out of memory");
		goto fail;
	}
	for (i = 0; i < rt.stations.n; i++) {
		const struct station *st = &rt.stations.v[i];
		struct replay_info *in = &info[i];
		replay_scan(st, in);
		if (!in->ok) {
			fprintf(stderr, "station %d (%s): %s: %s\n", st->index,
			    cli_esc(st->name), cli_esc(base(st->path)),
			    cli_esc(in->reason));
			continue;
		}
		utc(in->start_ns, t1, sizeof t1);
		fprintf(stderr, "station %d (%s): %s: %.3f s from %s at %.3f "
		    "S/s%s%s\n", st->index, cli_esc(st->name),
		    cli_esc(base(st->path)),
		    (double)(in->end_ns - in->start_ns) / 1e9, t1, in->fs,
		    in->stale > 0 ? " (stale first stamps left out)" : "",
		    in->truncated ? " (an incomplete last chunk left out)" :
		    "");
		if (usable == 0 || in->start_ns > start)
			start = in->start_ns;
		if (usable == 0 || in->end_ns < end)
			end = in->end_ns;
		if (usable == 0)
			freq = in->freq_hz;
		else if (in->freq_hz != freq)
			freq_ok = 0;
		usable++;
	}
	if (usable < 2) {
		rc = cli_error(EXIT_DATAERR, "%d of %d recordings usable: an "
		    "import needs at least 2 (the reasons above)", usable,
		    rt.stations.n);
		goto fail;
	}
	/* The origin: the overlap's start, up to the next millisecond (a
	 * round time) and at least 1 us after it: the chunker's grid is in
	 * doubles (~0.003 samples at today's UTC), and an origin exactly on
	 * a stream's first sample could round to just before it. */
	t0 = (start + 1000 + 999999) / 1000000 * 1000000;
	avail = end > t0 ? (long)((end - t0) / 1000000000) : 0;
	if (avail < 1) {
		utc(start, t1, sizeof t1);
		utc(end, t2, sizeof t2);
		rc = cli_error(EXIT_DATAERR, "the usable recordings overlap "
		    "%s: at least 1 s is needed (%s to %s)", end > start ?
		    "less than 1 s" : "not at all", t1, t2);
		goto fail;
	}
	if (avail < dur) {
		if (args_has(a, "duration"))
			fprintf(stderr, "the recordings overlap %ld whole "
			    "seconds: %ld chunks, not %ld\n", avail, avail,
			    dur);
		dur = avail;
		/* whole chunks: the longest overlap that is a whole number
		 * of them (session_validate refuses the rest) */
		while (dur > 1 && p.chunk_ms > 0 && dur * 1000 % p.chunk_ms != 0)
			dur--;
	}
	utc(t0, t1, sizeof t1);
	fprintf(stderr, "common overlap: %ld s from %s\n", dur, t1);
	if (args_has(a, "freq"))
		freq = mhz * 1e6;
	else if (!freq_ok || freq <= 0) {
		rc = cli_error(EXIT_USAGE, "--freq MHZ is required: the file "
		    "names do not give one frequency (kiwirecorder's "
		    "YYYYmmddTHHMMSSZ_HZ_...)");
		goto fail;
	}
	p.freq_hz = freq;
	p.duration_s = (int)dur;
	if (session_validate(&p, &rt.stations, &e) != 0) {
		rc = cli_error(EXIT_USAGE, "%s", e.msg);
		goto fail;
	}
	free(info);
	rt.replay = 1;
	rt.replay_origin = (double)t0 / 1e9;
	/* no wall-clock start timeout, no central store: `sync` sends it */
	return cmd_record_run(&rt, dir, 5, NULL, &p, source,
	    args_has(a, "json"), 0);
fail:
	free(info);
	runtime_stop(&rt);
	return rc;
}

const struct cmd_entry cmd_import_entry = {
	.name = "import",
	.args = { .lower = 0, .upper = 0 },
	.options = import_options,
	.usage = "--stations FILE --name NAME --source SOURCE [options]",
	.summary = "Make a session from kiwirecorder's GPS-stamped IQ WAV files.",
	.help =
	    "  --stations FILE      the recordings, one station each: \"type\": "
	    "\"kiwiwav\",\n"
	    "                       \"url\": \"file:///path.wav\" and the "
	    "station's coordinates\n"
	    "  --data-dir DIR       dataset folder (default "
	    "$XDG_DATA_HOME/heimdall-rec)\n"
	    "  --name NAME          session name (1-255 bytes of UTF-8, no control\n"
	    "                       characters)\n"
	    "  --source SOURCE      unknown, a known source's name, or its UUID\n"
	    "  --duration S         at most S whole seconds of the common overlap "
	    "(1-30,\n"
	    "                       default 30)\n"
	    "  --freq MHZ           dial frequency (default: kiwirecorder's file "
	    "names)\n"
	    "  --notes TEXT         free text (up to 4096 bytes of UTF-8)\n"
	    "  --group ID           links this session with other recorders'\n"
	    "                       sessions of the same transmission: 1-64\n"
	    "                       letters, digits, '.', '_', ':' or '-'\n"
	    "  --passband LOW:HIGH  Hz around the frequency for the metrics "
	    "(default\n"
	    "                       -5000:5000)\n"
	    "  --chunk-ms MS        chunk length in ms, 100-5000 (default 1000);\n"
	    "                       the duration must be whole chunks\n"
	    "  --json               events as JSON lines on stdout\n"
	    RUNTIME_HELP
	    "\nEvery file (kiwirecorder -w: a kiwi GNSS stamp before each data "
	    "chunk) is\nchecked first; one that never had a GPS fix (255), has "
	    "no recent fix (254),\nwhose stamps disagree with its sample count "
	    "or have gaps is refused with the\nreason, for that station only. "
	    "The common overlap of the others is cut\ninto chunks (1 s by default) on "
	    "the recordings' own GPS time (UTC).\n"
	    "\nExit status: 0 every chunk stored, 75 some missing (a refused "
	    "file), 65\nfewer than 2 usable recordings or no 1-s overlap, 69 "
	    "failed, 64 usage, 66 no\nstations file, 78 bad stations file (or a "
	    "station that is not kiwiwav), 73\ndata dir, 74 I/O, 130 "
	    "interrupted.\n",
	.exec = import_exec
};
