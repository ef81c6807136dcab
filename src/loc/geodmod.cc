// geodmod.cc -- the geodesic module: geodmod.h's two functions over GeographicLib (loaded by src/loc/lazygeod.c).

#include <GeographicLib/Geodesic.hpp>

#include "src/loc/geodmod.h"

using GeographicLib::Geodesic;

// Geodesic::WGS84(): a function-local static, initialized once (thread-safe
// in C++11); its Inverse and Direct are const and throw nothing.

extern "C" void
geo_inverse(double lat1, double lon1, double lat2, double lon2, double *s12,
    double *azi1, double *azi2)
{
	double	s, a1 = 0, a2 = 0;

	// the azimuths cost a little more: only when asked for
	if (azi1 == nullptr && azi2 == nullptr)
		Geodesic::WGS84().Inverse(lat1, lon1, lat2, lon2, s);
	else
		Geodesic::WGS84().Inverse(lat1, lon1, lat2, lon2, s, a1, a2);
	if (s12 != nullptr)
		*s12 = s;
	if (azi1 != nullptr)
		*azi1 = a1;
	if (azi2 != nullptr)
		*azi2 = a2;
}

extern "C" void
geo_direct(double lat1, double lon1, double azi1, double s12, double *lat2,
    double *lon2, double *azi2)
{
	double	la, lo, a2;

	Geodesic::WGS84().Direct(lat1, lon1, azi1, s12, la, lo, a2);
	if (lat2 != nullptr)
		*lat2 = la;
	if (lon2 != nullptr)
		*lon2 = lo;
	if (azi2 != nullptr)
		*azi2 = a2;
}
