/*
 * config.h -- the stations file and default paths.
 *
 * Stations come from JSON: {"stations":[{"name","type","url","latitude",
 * "longitude","password"?,"frequency_min_hz"?,"frequency_max_hz"?,
 * "mode"?,"low_cut"?,"high_cut"?}]} (the last three: audio receivers).
 * Station k (1-based, file order) is websdr_k in object keys.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#define CONFIG_MAX_STATIONS	1024
#define CONFIG_MAX_FILE		(4 * 1024 * 1024)	/* stations file bytes */

struct station {
	int	 index;			/* 1-based, file order: websdr_<index> */
	char	 name[128];
	char	 type[32];		/* "kiwisdr", ... */
	char	 url[512];		/* as written */
	char	 host[256];		/* parsed from url */
	int	 port;
	char	 path[256];		/* url path prefix, "" or "/x" */
	int	 tls;			/* https:// or wss:// */
	double	 latitude;
	double	 longitude;
	char	 password[128];
	double	 freq_min_hz;		/* from the file or the driver default */
	double	 freq_max_hz;
	/* audio receivers (OpenWebRX): demodulator and its passband */
	char	 mode[16];		/* "mode"; "" = the driver's default */
	int	 has_cut;		/* "low_cut"/"high_cut" were given */
	int	 low_cut;		/* Hz, audio passband */
	int	 high_cut;
};

struct stations {
	struct station	*v;
	int		 n;
};

/* Parse and validate a stations file. 0, or -1 with a message naming the
 * station and field. Unknown driver types are an error. */
int	config_load_stations(const char *path, struct stations *out,
	    char *err, size_t errlen);
/* Parse from a string (same rules; used by tests). */
int	config_parse_stations(const char *json, size_t len,
	    struct stations *out, char *err, size_t errlen);
void	config_free_stations(struct stations *s);

/* $XDG_CONFIG_HOME/heimdall-rec/stations.json (~/.config/... fallback). */
int	config_default_stations_path(char *buf, size_t len);
/* $XDG_DATA_HOME/heimdall-rec (~/.local/share/... fallback). */
int	config_default_data_dir(char *buf, size_t len);

#endif
