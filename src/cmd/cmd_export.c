/* cmd_export.c -- "export": a stored session as SigMF recordings (store/sigmf) or training arrays (store/arrays). */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd/cmd.h"
#include "src/base/util.h"
#include "store/arrays.h"
#include "store/dataset.h"
#include "store/sigmf.h"

static const struct option export_options[] = {
	{ "format", required_argument, NULL, 0 },
	{ "out", required_argument, NULL, 0 },
	{ "archive", no_argument, NULL, 0 },
	{ "rate", required_argument, NULL, 0 },
	{ "chunk-ms", required_argument, NULL, 0 },
	{ "data-dir", required_argument, NULL, 0 },
	{ "json", no_argument, NULL, 0 },
	{ NULL, 0, NULL, 0 }
};

static int
export_sigmf(struct dataset *ds, const char *id, const char *out,
    int archive, int json)
{
	struct sigmf_opts	 o = { .out_dir = out, .archive = archive };
	char			 err[2048], *s;
	json_t			*res, *r, *w;
	size_t			 i;
	int			 e;

	if ((res = sigmf_export(ds, id, &o, err, sizeof err)) == NULL) {
		e = errno;
		return cli_error(e == ENOENT ? EXIT_NOINPUT : e == EBUSY ||
		    e == ENODATA ? EXIT_DATAERR : EXIT_IOERR, "export: %s",
		    cli_esc(err));
	}
	if (json) {
		s = util_json_dumps(res, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		printf("%s\n", s != NULL ? s : "{}");
		free(s);
	} else {
		printf("%s: %s\n", archive ? "archive" : "folder",
		    cli_jstr(res, archive ? "archive" : "dir"));
		json_array_foreach(json_object_get(res, "recordings"), i, r)
			printf("  receiver %lld %-20s %s  %lld samples at %.3f "
			    "S/s, %lld captures, %lld gaps\n", (long long)
			    json_integer_value(json_object_get(r, "websdr")),
			    cli_jstr(r, "station"), cli_jstr(r, "datatype"),
			    (long long)json_integer_value(json_object_get(r,
			    "samples")), json_number_value(json_object_get(r,
			    "sample_rate")), (long long)json_integer_value(
			    json_object_get(r, "captures")), (long long)
			    json_integer_value(json_object_get(r, "gaps")));
		printf("  collection %s\n", cli_jstr(res, "collection"));
		json_array_foreach(json_object_get(res,
		    "receivers_without_data"), i, r)
			printf("  receiver %lld: no chunk stored, no "
			    "recording\n", (long long)json_integer_value(r));
		json_array_foreach(json_object_get(res, "warnings"), i, w)
			fprintf(stderr, "heimdall-rec: export: %s\n",
			    cli_esc(json_string_value(w)));
	}
	json_decref(res);
	return 0;
}

static int
export_arrays(struct dataset *ds, const char *id, const char *out,
    double rate, long chunk_ms, int json)
{
	struct arrays_opts	 o = { .out_dir = out, .rate_hz = rate,
				    .chunk_ms = (int)chunk_ms };
	char			 path[4200], err[1024];

	err[0] = '\0';
	if (arrays_export(ds, id, &o, path, sizeof path, err,
	    sizeof err) != 0)
		return cli_error(EXIT_IOERR, "export: %s", cli_esc(err));
	if (json)
		printf("{\"file\": \"%s\"}\n", cli_esc(path));
	else
		printf("%s\n", path);
	return 0;
}

static int
export_exec(const struct args *a)
{
	struct dataset	*ds;
	const char	*fmt = args_get(a, "format");
	const char	*out = args_get(a, "out");
	char		 path[4096], id[UTIL_UUID_LEN];
	double		 rate = 0;
	long		 chunk_ms = 0;
	int		 rc, arrays;

	if (fmt == NULL)
		fmt = "sigmf";
	if (strcmp(fmt, "sigmf") != 0 && strcmp(fmt, "arrays") != 0)
		return cli_error(EXIT_USAGE, "--format %s: give sigmf or "
		    "arrays", cli_esc(fmt));
	arrays = strcmp(fmt, "arrays") == 0;
	if (args_double(a, "rate", 1, ARRAYS_MAX_RATE, &rate) != 0 ||
	    args_long(a, "chunk-ms", 1, 5000, "milliseconds",
	    &chunk_ms) != 0)
		return EXIT_USAGE;
	if (!arrays && (args_has(a, "rate") || args_has(a, "chunk-ms")))
		return cli_error(EXIT_USAGE, "--rate and --chunk-ms are for "
		    "--format arrays (SigMF keeps each receiver's own rate "
		    "and its recorded chunks)");
	if (arrays && args_has(a, "archive"))
		return cli_error(EXIT_USAGE, "--archive is for --format sigmf "
		    "(the arrays are one .npz file already)");
	if (out == NULL)
		out = ".";
	if (out[0] == '\0')
		return cli_error(EXIT_USAGE, "--out: give a folder");
	if ((rc = cli_open_dataset(args_get(a, "data-dir"), &ds, path,
	    sizeof path)) != 0)
		return rc;
	if ((rc = cli_find_session(ds, args_string(a, 0), id,
	    sizeof id)) == 0) {
		if (arrays)
			rc = export_arrays(ds, id, out, rate, chunk_ms,
			    args_has(a, "json"));
		else
			rc = export_sigmf(ds, id, out, args_has(a, "archive"),
			    args_has(a, "json"));
	}
	dataset_close(ds);
	return rc;
}

const struct cmd_entry cmd_export_entry = {
	.name = "export",
	.args = { .lower = 1, .upper = 1 },
	.options = export_options,
	.usage = "SESSION [--format sigmf|arrays] [--out DIR] [...]",
	.summary = "Export a stored session for SDR tools (SigMF) or for "
	    "training (arrays).",
	.help =
	    "  SESSION          the session's id, a unique prefix of it (4+ "
	    "characters)\n"
	    "                   or its name\n"
	    "  --format F       sigmf (default): per receiver a .sigmf-data "
	    "(cf32_le IQ,\n"
	    "                   rf32_le OpenWebRX audio: the stored chunks "
	    "back to back)\n"
	    "                   and a .sigmf-meta (one capture per chunk, "
	    "metrics as\n"
	    "                   heimdall:* annotations), and a "
	    ".sigmf-collection;\n"
	    "                   arrays: OUT/SESSION_ID.npz that numpy.load opens: "
	    "iq\n"
	    "                   (windows, receivers, 2, L) float32 resampled to "
	    "one rate\n"
	    "                   and aligned on each window's start, mask, "
	    "features,\n"
	    "                   positions, times, target, TDoA and fixes "
	    "(doc/arrays.md)\n"
	    "  --out DIR        where to write (default: the current folder); "
	    "sigmf writes\n"
	    "                   the folder DIR/NAME-ID8/\n"
	    "  --archive        sigmf: one tar DIR/NAME-ID8.sigmf instead of "
	    "the folder\n"
	    "  --rate HZ        arrays: the common rate (default: the session's "
	    "lowest\n"
	    "                   measured rate, rounded down to whole samples per "
	    "window)\n"
	    "  --chunk-ms MS    arrays: windows of MS ms (1 to the session's "
	    "chunk length,\n"
	    "                   its default: the manifest's chunk_ms, 1000 "
	    "before it), tiling\n"
	    "                   each receiver's stream without a gap\n"
	    "  --data-dir DIR   the dataset (default $XDG_DATA_HOME/heimdall-rec)\n"
	    "  --json           print what was written as JSON\n"
	    "Works on the local dataset, without a server. Only ended sessions "
	    "(completed or\nfailed) are exported. A missing chunk is a gap: the "
	    "next chunk starts a new\ncapture and a \"gap\" annotation marks "
	    "it.\nEvery field: man heimdall-rec, SIGMF EXPORT.\n"
	    "\nExit status: 0 written, 64 usage, 65 session not ended or "
	    "without chunks,\n66 no such session, 74 I/O or a damaged chunk "
	    "file.\n",
	.exec = export_exec
};
