/* cmd_sources.c -- "sources list|add": the known transmitters kept in the dataset. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd/cmd.h"
#include "src/engine/session.h"
#include "src/base/util.h"
#include "store/dataset.h"

static int
sources_list(struct dataset *ds, int json)
{
	struct source	*v;
	char		 err[1024], *s;
	json_t		*arr;
	int		 n, i;

	if (dataset_sources_list(ds, &v, &n, err, sizeof err) != 0)
		return cli_error(EXIT_IOERR, "%s", err);
	if (json) {
		arr = json_array();
		for (i = 0; i < n; i++) {
			json_t *o = json_pack("{s:s, s:s, s:s, s:f}", "id",
			    v[i].id, "name", v[i].name, "description",
			    v[i].description, "frequency_hz", v[i].frequency_hz);
			json_object_set_new(o, "latitude", v[i].has_coords ?
			    json_real(v[i].latitude) : json_null());
			json_object_set_new(o, "longitude", v[i].has_coords ?
			    json_real(v[i].longitude) : json_null());
			json_array_append_new(arr, o);
		}
		s = util_json_dumps(arr, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		printf("%s\n", s);
		free(s);
		json_decref(arr);
	} else {
		printf("%-36s  %-12s  %-20s  %s\n", "ID", "FREQ MHz",
		    "LAT,LON", "NAME");
		for (i = 0; i < n; i++) {
			char pos[48] = "-";
			if (v[i].has_coords)
				snprintf(pos, sizeof pos, "%.4f,%.4f",
				    v[i].latitude, v[i].longitude);
			printf("%-36s  %-12.6f  %-20s  %s\n", v[i].id,
			    v[i].frequency_hz / 1e6, pos, cli_esc(v[i].name));
		}
	}
	free(v);
	return 0;
}

static const struct option sources_options[] = {
	{ "data-dir", required_argument, NULL, 0 },
	{ "json", no_argument, NULL, 0 },
	{ "name", required_argument, NULL, 0 },
	{ "freq", required_argument, NULL, 0 },
	{ "lat", required_argument, NULL, 0 },
	{ "lon", required_argument, NULL, 0 },
	{ "description", required_argument, NULL, 0 },
	{ NULL, 0, NULL, 0 }
};

static const char *const sources_actions[] = { "list", "add", NULL };

static int
sources_exec(const struct args *a)
{
	struct dataset	*ds;
	struct source	 s;
	const char	*verb = args_string(a, 0), *name, *desc, *freq;
	char		 path[4096], err[1024];
	double		 mhz = 0;
	char		 ferr[256];
	int		 rc, have_lat, have_lon;

	memset(&s, 0, sizeof s);
	if ((name = args_get(a, "name")) != NULL) {
		if (strlen(name) >= sizeof s.name)
			return cli_error(EXIT_USAGE, "--name is longer than %zu "
			    "bytes", sizeof s.name - 1);
		snprintf(s.name, sizeof s.name, "%s", name);
	}
	if ((desc = args_get(a, "description")) != NULL) {
		if (strlen(desc) >= sizeof s.description)
			return cli_error(EXIT_USAGE, "--description is longer "
			    "than %zu bytes", sizeof s.description - 1);
		snprintf(s.description, sizeof s.description, "%s", desc);
	}
	if ((freq = args_get(a, "freq")) != NULL &&
	    session_parse_mhz(freq, 1, &mhz, ferr, sizeof ferr) != 0)
		return cli_error(EXIT_USAGE, "--freq: %s", ferr);
	if (args_double(a, "lat", -90, 90, &s.latitude) != 0 ||
	    args_double(a, "lon", -180, 180, &s.longitude) != 0)
		return EXIT_USAGE;
	have_lat = args_has(a, "lat");
	have_lon = args_has(a, "lon");
	if (have_lat != have_lon)
		return cli_error(EXIT_USAGE, "--lat and --lon go together");
	if (strcmp(verb, "add") == 0 && s.name[0] == '\0')
		return cli_error(EXIT_USAGE, "sources add: --name is required");
	if ((rc = cli_open_dataset(args_get(a, "data-dir"), &ds, path,
	    sizeof path)) != 0)
		return rc;
	if (strcmp(verb, "list") == 0)
		rc = sources_list(ds, args_has(a, "json"));
	else {
		s.frequency_hz = mhz * 1e6;
		s.has_coords = have_lat;
		if (dataset_source_add(ds, &s, err, sizeof err) != 0)
			rc = cli_error(EXIT_USAGE, "sources add: %s", err);
		else
			printf("%s\n", s.id);
	}
	dataset_close(ds);
	return rc;
}

const struct cmd_entry cmd_sources_entry = {
	.name = "sources",
	.args = { .lower = 1, .upper = 1, .actions = sources_actions },
	.options = sources_options,
	.usage =
	    "list [--json] | add --name NAME [--freq MHZ] [--lat DEG --lon DEG] "
	    "[--description TEXT]",
	.summary =
	    "Known transmitters, to assign to sessions (\"Unknown\" "
	    "always exists).",
	.help =
	    "  --data-dir DIR       dataset folder (default "
	    "$XDG_DATA_HOME/heimdall-rec)\n"
	    "  --name NAME          the source's name (unique, 1-127 bytes of UTF-8,\n"
	    "                       no control characters)\n"
	    "  --freq MHZ           its frequency\n"
	    "  --lat DEG --lon DEG  its position\n"
	    "  --description TEXT   free text\n"
	    "  --json               list as JSON\n"
	    "add prints the new source's UUID.\n",
	.exec = sources_exec
};
