/* cmd_export.c -- "export": a stored session as files for other tools (--format arrays: one .npz of training arrays, store/arrays). */

#include <stdio.h>
#include <string.h>

#include "src/cmd/cmd.h"
#include "src/base/util.h"
#include "store/arrays.h"
#include "store/dataset.h"

static const struct option export_options[] = {
	{ "data-dir", required_argument, NULL, 0 },
	{ "format", required_argument, NULL, 0 },
	{ "out", required_argument, NULL, 0 },
	{ "rate", required_argument, NULL, 0 },
	{ "chunk-ms", required_argument, NULL, 0 },
	{ NULL, 0, NULL, 0 }
};

static int
export_exec(const struct args *a)
{
	struct dataset		*ds;
	struct arrays_opts	 o = { .out_dir = ".", .rate_hz = 0,
				    .chunk_ms = 0 };
	const char		*fmt = args_get(a, "format");
	const char		*id = args_string(a, 0);
	char			 path[4096], out[4200], err[1024];
	long			 ms = 0;
	int			 rc;

	if (!util_is_uuid(id))
		return cli_error(EXIT_USAGE, "SESSION_ID: '%s' is not a session "
		    "id (a UUID: heimdall-rec sessions lists them)", cli_esc(id));
	if (fmt == NULL)
		fmt = "arrays";
	if (strcmp(fmt, "arrays") != 0)
		return cli_error(EXIT_USAGE, "--format: '%s' is not a format "
		    "(arrays)", cli_esc(fmt));
	if (args_double(a, "rate", 1, ARRAYS_MAX_RATE, &o.rate_hz) != 0 ||
	    args_long(a, "chunk-ms", 1, 1000, "ms", &ms) != 0)
		return EXIT_USAGE;
	o.chunk_ms = (int)ms;
	if (args_get(a, "out") != NULL)
		o.out_dir = args_get(a, "out");
	if ((rc = cli_open_dataset(args_get(a, "data-dir"), &ds, path,
	    sizeof path)) != 0)
		return rc;
	err[0] = '\0';
	if (dataset_session_check(ds, id, err, sizeof err) != 0) {
		dataset_close(ds);
		return cli_error(EXIT_NOINPUT, "session %s: %s", cli_esc(id),
		    err[0] != '\0' ? err : "not found");
	}
	rc = arrays_export(ds, id, &o, out, sizeof out, err, sizeof err);
	dataset_close(ds);
	if (rc != 0)
		return cli_error(EXIT_IOERR, "%s", err);
	printf("%s\n", out);
	return 0;
}

const struct cmd_entry cmd_export_entry = {
	.name = "export",
	.args = { .lower = 1, .upper = 1 },
	.options = export_options,
	.usage = "SESSION_ID [--format arrays] [--out DIR] [--rate S/s] "
	    "[--chunk-ms MS] [--data-dir DIR]",
	.summary = "Export a stored session: --format arrays writes "
	    "OUT/SESSION_ID.npz (training arrays).",
	.help =
	    "  --format arrays  one .npz that numpy.load opens: iq (windows, receivers,\n"
	    "                   2, L) float32 resampled to one rate and aligned on each\n"
	    "                   window's start, mask, features, positions, times, target,\n"
	    "                   TDoA and fixes (doc/arrays.md)\n"
	    "  --out DIR        where the file goes (default: the current directory)\n"
	    "  --rate S/s       the common rate (default: the session's lowest measured\n"
	    "                   rate, rounded down to whole samples per window)\n"
	    "  --chunk-ms MS    windows of MS ms (1-1000; default 1000: the stored chunks),\n"
	    "                   tiling each receiver's stream without a gap\n"
	    "  --data-dir DIR   dataset folder (default $XDG_DATA_HOME/heimdall-rec)\n"
	    "Prints the path of the file written.\n",
	.exec = export_exec
};
