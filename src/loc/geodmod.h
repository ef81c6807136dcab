/*
 * geodmod.h -- the geodesic module's interface: WGS84 geodesics (Karney's
 * algorithm, GeographicLib's Geodesic::WGS84()) as two C functions.
 *
 * The module (src/loc/geodmod.cc, built as libheimdall-geodesic.so) is
 * the only C++ in heimdall-rec: GeographicLib is a C++ library. The
 * program does not link it; src/loc/lazygeod.c loads it when a position
 * fix is first computed (see lazygeod.h for why) and forwards these two
 * functions to it. Both are thread-safe and never throw; angles in
 * degrees, distances in metres; outputs may be NULL.
 */
#ifndef GEODMOD_H
#define GEODMOD_H

#ifdef __cplusplus
extern "C" {
#endif

/* The inverse problem: the geodesic from (lat1, lon1) to (lat2, lon2):
 * its length *s12 and its azimuths at both ends. */
void	geo_inverse(double lat1, double lon1, double lat2, double lon2,
	    double *s12, double *azi1, double *azi2);
/* The direct problem: from (lat1, lon1) along azimuth azi1 for s12
 * metres: the end point (*lon2 in [-180, 180]) and its azimuth. */
void	geo_direct(double lat1, double lon1, double azi1, double s12,
	    double *lat2, double *lon2, double *azi2);

#ifdef __cplusplus
}
#endif

#endif
