/*
 * geosim.h -- the simulator's localization scenario: one transmitter and
 * the KiwiSDR stations at coordinates on the WGS84 ellipsoid.
 *
 * It owns the geometry (each station's true position, its geodesic
 * distance to the transmitter and the delay distance / c, from PROJ's
 * geodesic.h), the transmitted signal and the truth file the tests read.
 *
 * The signal is a function of absolute time alone, s(u), u = seconds on
 * the GPS time line since the simulator's epoch, so that every station
 * samples one and the same waveform: station i's sample taken at GPS time
 * u is  a_i s(u - d_i) e^{-j 2 pi f_rf d_i} + noise. s is band-limited
 * noise (or QPSK chips: mod=pn) at chip rate B = the bandwidth, shaped by
 * a windowed sinc and shifted to the band's centre, plus an optional
 * carrier. Evaluating s at any real u (a fractional delay) is exact by
 * construction: s IS the sum of shaped chips, not an approximation of one,
 * so delays are applied with sub-nanosecond precision whatever the
 * station's own (non-integer, per-station) sample rate.
 */
#ifndef GEOSIM_H
#define GEOSIM_H

#include <stdint.h>

#include "sim.h"

struct geotx {
	int		 on;		/* --tx given */
	double		 lat, lon;	/* degrees */
	double		 bw;		/* Hz: chip rate and bandwidth */
	double		 offset;	/* Hz: band centre in baseband */
	int		 pn;		/* 1: QPSK chips, 0: Gaussian noise */
	uint64_t	 seed;
	double		 carrier_db;	/* carrier power / signal power, dB;
					   NAN: no carrier */
	double		 carrier_hz;	/* carrier in baseband, Hz */
};

extern struct geotx geotx;

/* Parse --tx SPEC into geotx (defaults first). 0, or -1 with a message. */
int	geosim_parse_tx(const char *spec);
/* Take the stations file's latitude/longitude of stations 1..n from FILE
 * (a stations file: {"stations": [{"latitude":..,"longitude":..},..]}).
 * Sets st[i].lat/lon for i < min(n, entries); returns how many, -1. */
int	geosim_positions(const char *path, struct simst *st, int n);
/* The position the stations file gives station i (0-based): lat/lon when
 * set, else a grid that keeps 1000+ stations within +-90 / +-180. */
void	geosim_claimed(const struct simst *s, int i, double *lat, double *lon);
/* After option parsing: true positions (moved=KM), distances and delays
 * of the SIG_TX stations, the shaping table. 0 or -1 with a message. */
int	geosim_setup(struct simst *st, int n);
/* Write the truth (positions, distances, delays, faults) as JSON. */
int	geosim_write_truth(const char *path, const struct simst *st, int n);
/* Signal power (full scale^2) at station s: for the S-meter. */
double	geosim_power(const struct simst *s);
/*
 * n samples of station s (its own rate), sample j taken at GPS time
 * u0 + j / s->rate (s since the epoch), without noise: re[j], im[j] in
 * full-scale units. rf_hz: the frequency the station is tuned to (the
 * carrier phase a delay turns); 0 if unknown.
 */
void	geosim_fill(const struct simst *s, double u0, double rf_hz, float *re,
	    float *im, int n);

#endif
