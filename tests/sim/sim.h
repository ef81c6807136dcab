/*
 * sim.h -- what the simulator's station types share (kiwisim.c holds the
 * station table and main; rawsim.c serves the raw-TCP protocols, rtl_tcp
 * and SpyServer, on its own thread).
 */
#ifndef SIM_H
#define SIM_H

#include <stdint.h>
#include <time.h>

enum simtype { T_KIWI = 0, T_RTLTCP, T_SPYSERVER, T_OPENWEBRX };

/* SIG_TX: the localization scenario's transmitter (geosim.h), KiwiSDR
 * stations only. */
enum signal { SIG_TONE, SIG_NOISE, SIG_COUNT, SIG_TX };

/* A KiwiSDR station's noise: complex white Gaussian of this power (full
 * scale^2) over its whole band (kiwisim.c, geosim.c). */
#define KIWI_SIGMA2	1e-4
enum fault {
	F_NONE, F_BUSY, F_BADP, F_DISABLED, F_STALL, F_DROP, F_BUSY_MID,
	F_NODEVICE, F_FULL, F_CANCONTROL0, F_GAP, F_BACKOFF, F_RESYNC,
	F_PROFILE
};

struct lws_vhost;
struct lws_context;
struct lws_protocols;

struct simst {
	int		 k;		/* 1-based */
	char		 name[64];
	double		 rate, offset, snr, pb, after, min, max;
	int		 gps, overflow, times;
	double		 gpsoff;	/* s the GPS clock is off the host's */
	int		 gpsstale;	/* first frames with a stale stamp */
	enum signal	 sig;
	enum fault	 fault;
	int		 port;
	int		 conns;		/* connections so far */
	struct lws_vhost *vh;
	/* raw-TCP stations */
	enum simtype	 type;
	double		 center;	/* the tone is at center + offset Hz */
	double		 dev;		/* SpyServer CanControl=0: fixed
					   device center */
	int		 tuner;		/* rtl_tcp tuner type (5 R820T) */
	int		 forced;	/* SpyServer ForcedIQFormat: 0 none,
					   1 uint8, 4 float32 */
	int		 lfd;		/* listening socket */
	uint64_t	 skipped;	/* samples not sent: slow reader */
	/* OpenWebRX stations */
	int		 v11;		/* speak v1.1: no SYNC framing */
	int		 int16;		/* audio_compression "none" */
	int		 profile;	/* initial profile: 0 2m, 1 70cm */
	/* the localization scenario (geosim.h) */
	double		 lat, lon;	/* stations-file position; NAN: grid */
	double		 moved_km;	/* true position this far off it */
	double		 moved_az;	/* ... towards this azimuth (deg) */
	double		 clock_us;	/* GPS stamps wrong by this much */
	double		 txsnr;		/* dB: the transmitter's signal power
					   over the noise in its band */
	double		 tlat, tlon;	/* true position */
	double		 dist_m;	/* geodesic distance to the transmitter */
	double		 delay_s;	/* dist_m / c */
	int		 gps_set, sig_set, rate_set;	/* given in a SPEC */
};

/* The OpenWebRX stations' lws protocols (owrxsim.c), for their vhosts. */
extern const struct lws_protocols *owrxsim_protocols;
void	owrxsim_init(struct lws_context *ctx);

/* Listen on host for every raw-TCP station of st[0..n); fills port. 0 or -1. */
int	rawsim_listen(struct simst *st, int n, const char *host);
/* Serve them on a new thread until rawsim_stop(). */
int	rawsim_start(uint64_t seed);
void	rawsim_stop(void);

/* Helpers every station type uses. */

/* CLOCK_REALTIME in seconds. */
static inline double
sim_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: the simulator's reproducible random numbers. */
static inline uint64_t
sim_xorshift(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static inline void
sim_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

#endif
