/*
 * config.h -- the stations file and default paths.
 *
 * Stations come from JSON: {"stations":[{"name","type","url","latitude",
 * "longitude","altitude"? (m above the WGS84 ellipsoid, station.h),
 * "password"?,"frequency_min_hz"?,"frequency_max_hz"?,
 * "mode"?,"low_cut"?,"high_cut"?}]} (the last three: audio receivers).
 * Station k (1-based, file order) is websdr_k in object keys.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#include "src/base/station.h"

#define CONFIG_MAX_STATIONS	1024
#define CONFIG_MAX_FILE		(4 * 1024 * 1024)	/* stations file bytes */

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
