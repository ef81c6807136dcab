/* cmd_sources.c -- "sources list|add": the known transmitters kept in the dataset. */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cmd/cmd.h"
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
		return cmd_error(EXIT_IOERR, "%s", err);
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
			    v[i].frequency_hz / 1e6, pos, cmd_esc(v[i].name));
		}
	}
	free(v);
	return 0;
}

static int
sources_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data-dir", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "name", required_argument, NULL, 'n' },
		{ "freq", required_argument, NULL, 'f' },
		{ "lat", required_argument, NULL, 'a' },
		{ "lon", required_argument, NULL, 'o' },
		{ "description", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct dataset	*ds;
	struct source	 s;
	const char	*dir = NULL, *verb;
	char		 path[4096], err[1024];
	double		 mhz = 0;
	int		 ch, json = 0, rc, have_lat = 0, have_lon = 0;

	if (argc < 2 || argv[1][0] == '-') {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0)) {
			cmd_usage(&cmd_sources_entry, stdout);
			return 0;
		}
		cmd_usage(&cmd_sources_entry, stderr);
		return EXIT_USAGE;
	}
	verb = argv[1];
	if (strcmp(verb, "list") != 0 && strcmp(verb, "add") != 0)
		return cmd_error(EXIT_USAGE, "sources: unknown action \"%s\" "
		    "(list or add)", verb);
	memset(&s, 0, sizeof s);
	optind = 1;
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'j':
			json = 1;
			break;
		case 'n':
			if (strlen(optarg) >= sizeof s.name)
				return cmd_error(EXIT_USAGE, "--name is longer "
				    "than %zu bytes", sizeof s.name - 1);
			snprintf(s.name, sizeof s.name, "%s", optarg);
			break;
		case 'f':
			if (cmd_parse_double("--freq (MHz)", optarg, 0, 1e5,
			    &mhz) != 0)
				return EXIT_USAGE;
			break;
		case 'a':
			if (cmd_parse_double("--lat", optarg, -90, 90,
			    &s.latitude) != 0)
				return EXIT_USAGE;
			have_lat = 1;
			break;
		case 'o':
			if (cmd_parse_double("--lon", optarg, -180, 180,
			    &s.longitude) != 0)
				return EXIT_USAGE;
			have_lon = 1;
			break;
		case 'D':
			if (strlen(optarg) >= sizeof s.description)
				return cmd_error(EXIT_USAGE, "--description is "
				    "longer than %zu bytes",
				    sizeof s.description - 1);
			snprintf(s.description, sizeof s.description, "%s",
			    optarg);
			break;
		case 'h':
			cmd_usage(&cmd_sources_entry, stdout);
			return 0;
		default:
			cmd_usage(&cmd_sources_entry, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_error(EXIT_USAGE, "unexpected argument \"%s\"",
		    argv[optind]);
	if (have_lat != have_lon)
		return cmd_error(EXIT_USAGE, "--lat and --lon go together");
	if (strcmp(verb, "add") == 0 && s.name[0] == '\0')
		return cmd_error(EXIT_USAGE, "sources add: --name is required");
	if ((rc = cmd_open_dataset(dir, &ds, path, sizeof path)) != 0)
		return rc;
	if (strcmp(verb, "list") == 0)
		rc = sources_list(ds, json);
	else {
		s.frequency_hz = mhz * 1e6;
		s.has_coords = have_lat;
		if (dataset_source_add(ds, &s, err, sizeof err) != 0)
			rc = cmd_error(EXIT_USAGE, "sources add: %s", err);
		else
			printf("%s\n", s.id);
	}
	dataset_close(ds);
	return rc;
}

const struct cmd_entry cmd_sources_entry = {
	"sources",
	"list [--json] | add --name NAME [--freq MHZ] [--lat DEG --lon DEG] "
	"[--description TEXT]",
	"Known transmitters, to assign to sessions (\"Unknown\" always exists).",
	"  --data-dir DIR       dataset folder (default "
	"$XDG_DATA_HOME/heimdall-rec)\n"
	"  --name NAME          the source's name (unique, 1-127 bytes of UTF-8,\n"
	"                       no control characters)\n"
	"  --freq MHZ           its frequency\n"
	"  --lat DEG --lon DEG  its position\n"
	"  --description TEXT   free text\n"
	"  --json               list as JSON\n"
	"add prints the new source's UUID.\n",
	sources_exec
};
