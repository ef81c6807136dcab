/*
 * station.h -- one receiver as the stations file describes it.
 *
 * The data only: the drivers (net/rx) read it, src/engine/config.c parses
 * and validates it. It sits in the base layer so that the drivers need not
 * include the engine's config module (which knows the drivers' registry).
 */
#ifndef STATION_H
#define STATION_H

/*
 * "altitude" (optional): metres above the WGS84 ellipsoid -- the height
 * GPS receivers give and GeoJSON (RFC 7946) and SigMF's core:geolocation
 * mean by a point's third coordinate; not above mean sea level (the two
 * differ by the geoid, -106..+85 m). Bounded to what a receiver can be:
 * the shore of the Dead Sea (-430 m, about -450 m above the ellipsoid) to
 * above the highest summit.
 */
#define STATION_ALT_MIN	(-500.0)
#define STATION_ALT_MAX	9000.0

struct station {
	int	 index;			/* 1-based, file order: websdr_<index> */
	char	 name[128];
	char	 type[32];		/* "kiwisdr", ... */
	char	 url[512];		/* as written */
	char	 host[256];		/* parsed from url; "" for file:// */
	int	 port;
	char	 path[256];		/* url path prefix, "" or "/x"; for a
					   file:// url (a kiwiwav recording)
					   the file's absolute path */
	int	 tls;			/* https:// or wss:// */
	double	 latitude;
	double	 longitude;
	int	 has_altitude;		/* "altitude" was given */
	double	 altitude;		/* m above the WGS84 ellipsoid */
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

#endif
