/*
 * spyserver.h -- the SpyServer client (Airspy / RTL-SDR shared over TCP)
 * as a receiver driver: HELLO, device info and client sync checked against
 * the session frequency, settings in SDR++'s proven order, int16 IQ (uint8
 * and float32 also read when the server forces them) at the decimation
 * stage that fits the session's passband, sequence gaps counted as lost
 * samples, and the CanControl = 0, no-device and out-of-range cases
 * reported clearly.
 */
#ifndef SPYSERVER_H
#define SPYSERVER_H

#include <stddef.h>
#include <stdint.h>

#include "net/rx/receiver.h"

#define SPY_PROTOCOL	0x020006A4u	/* 2.0.1700 */
#define SPY_HDR		20		/* server message header bytes */
#define SPY_MAX_BODY	(1u << 20)	/* largest body accepted */
#define SPY_OUT_RATE	12000		/* the slowest rate kept, about */
#define SPY_HELLO_S	5.0		/* no device info after HELLO */
#define SPY_STALL_S	2.0		/* no IQ: reconnect */

extern const struct rx_driver spyserver_driver;

struct spy_hdr {
	uint32_t	protocol, type, stream, seq, size;
};

struct spy_devinfo {
	uint32_t	device_type, serial, max_rate, max_bandwidth;
	uint32_t	stages, gain_stages, max_gain, min_freq, max_freq;
	uint32_t	resolution, min_decim, forced_format;
};

struct spy_sync {
	uint32_t	can_control, gain, device_center, iq_center;
	uint32_t	fft_center, min_iq, max_iq, min_fft, max_fft;
};

/* Parsers: 0, or -1 with the reason. */
int	spy_parse_header(const uint8_t *p, struct spy_hdr *h, char *err,
	    size_t errlen);
int	spy_parse_devinfo(const uint8_t *p, size_t n, struct spy_devinfo *d,
	    char *err, size_t errlen);
int	spy_parse_sync(const uint8_t *p, size_t n, struct spy_sync *s,
	    char *err, size_t errlen);
/* The decimation stage for a passband: the slowest rate that still holds
 * it (>= SPY_OUT_RATE and 2.4 x the widest edge); -1 if none fits. */
int	spy_pick_stage(const struct spy_devinfo *d, int low_cut, int high_cut);
/* A client command: {type, size} + body into out (>= 8 + n). */
size_t	spy_command(uint8_t *out, uint32_t type, const void *body, size_t n);
size_t	spy_setting(uint8_t *out, uint32_t setting, uint32_t value);

#endif
