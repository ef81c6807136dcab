/* cmd_console.c -- "console" (and no subcommand on a terminal): the ncurses operator console. */

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "engine.h"
#include "events.h"
#include "session.h"
#include "net/rxloop.h"
#include "store/dataset.h"
#include "ui/console.h"

int
cmd_console_no_tty(void)
{
	return cmd_error(EXIT_USAGE, "the console needs a terminal (stdin, "
	    "stdout and stderr); without one use \"heimdall-rec record\" for a "
	    "scripted session or \"heimdall-rec serve\" for the WebSocket API "
	    "(see --help)");
}

static int
console_exec(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stations", required_argument, NULL, 's' },
		{ "data-dir", required_argument, NULL, 'd' },
		{ "passband", required_argument, NULL, 'p' },
		{ "start-timeout", required_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct console_config	 cc;
	struct engine_config	 cfg;
	struct stations		 stations = { NULL, 0 };
	struct dataset		*ds = NULL;
	struct events		*ev = NULL;
	struct rxloop		*loop = NULL;
	struct engine		*eng = NULL;
	const char		*stfile = NULL, *dir = NULL;
	char			 stpath[4096], dpath[4096], err[1024];
	char			*colon, *end;
	double			 start_timeout = 5;
	int			 ch, rc, i, tls = 0, low = -SESSION_PASSBAND_DEFAULT;
	int			 high = SESSION_PASSBAND_DEFAULT;
	sigset_t		 set;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			stfile = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'p':
			errno = 0;
			low = (int)strtol(optarg, &colon, 10);
			if (errno != 0 || colon == optarg || *colon != ':')
				goto badpb;
			high = (int)strtol(colon + 1, &end, 10);
			if (errno != 0 || end == colon + 1 || *end != '\0' ||
			    low >= high)
				goto badpb;
			break;
		case 'T':
			if (cmd_parse_double("--start-timeout", optarg, 0.1, 60,
			    &start_timeout) != 0)
				return EXIT_USAGE;
			break;
		case 'h':
			cmd_usage(&cmd_console_entry, stdout);
			return 0;
		default:
			cmd_usage(&cmd_console_entry, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return cmd_error(EXIT_USAGE, "unexpected argument \"%s\"",
		    argv[optind]);
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO) ||
	    !isatty(STDERR_FILENO))
		return cmd_console_no_tty();

	/* Everything that can go wrong before the screen opens is said on
	 * stderr, as for record. */
	if (stfile == NULL) {
		if (config_default_stations_path(stpath, sizeof stpath) != 0)
			return cmd_error(EXIT_USAGE, "no --stations and no HOME "
			    "to find the default");
		stfile = stpath;
	}
	if (access(stfile, F_OK) != 0)
		return cmd_error(EXIT_NOINPUT, "stations file %s: %s (use "
		    "--stations FILE)", stfile, strerror(errno));
	if (config_load_stations(stfile, &stations, err, sizeof err) != 0)
		return cmd_error(EXIT_CONFIG, "%s", err);

	/* Only the console's thread takes these signals: every thread made
	 * from here on inherits the mask; console_run() unblocks them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((rc = cmd_open_dataset(dir, &ds, dpath, sizeof dpath)) != 0)
		goto out;
	ev = events_new();
	for (i = 0; i < stations.n; i++)
		tls |= stations.v[i].tls;
	if ((loop = rxloop_new(tls, err, sizeof err)) == NULL) {
		rc = cmd_error(EXIT_SOFTWARE, "%s", err);
		goto out;
	}
	memset(&cfg, 0, sizeof cfg);
	cfg.stations = &stations;
	cfg.ds = ds;
	cfg.ev = ev;
	cfg.loop = loop;
	cfg.start_timeout = start_timeout;
	if ((eng = engine_new(&cfg, err, sizeof err)) == NULL) {
		rc = cmd_error(EXIT_SOFTWARE, "%s", err);
		goto out;
	}
	memset(&cc, 0, sizeof cc);
	cc.eng = eng;
	cc.ev = ev;
	cc.ds = ds;
	cc.stations = &stations;
	cc.data_dir = dpath;
	cc.low_cut = low;
	cc.high_cut = high;
	if (console_run(&cc, err, sizeof err) != 0)
		rc = cmd_error(EXIT_SOFTWARE, "%s", err);
out:
	engine_free(eng);
	rxloop_free(loop);
	events_free(ev);
	dataset_close(ds);
	config_free_stations(&stations);
	return rc;
badpb:
	return cmd_error(EXIT_USAGE, "--passband must be LOW:HIGH in Hz with "
	    "LOW < HIGH, e.g. -5000:5000 (got \"%s\")", optarg);
}

const struct cmd_entry cmd_console_entry = {
	"console",
	"[--stations FILE] [--data-dir DIR] [options]",
	"The operator console (ncurses): configure, assign source, acquire, "
	"live.",
	"  --stations FILE      stations file (default "
	"$XDG_CONFIG_HOME/heimdall-rec/stations.json)\n"
	"  --data-dir DIR       dataset folder (default "
	"$XDG_DATA_HOME/heimdall-rec)\n"
	"  --passband LOW:HIGH  Hz around the frequency (default -5000:5000)\n"
	"  --start-timeout S    wait this long for every station to stream "
	"(default 5)\n"
	"\nRuns on a terminal (also in tmux, screen, over SSH); heimdall-rec "
	"without a\ncommand opens it. Keys are shown on the bottom line; ? or "
	"F1 lists them.\nNO_COLOR=1 turns colours off.\n",
	console_exec
};
