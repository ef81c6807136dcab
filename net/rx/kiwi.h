/*
 * kiwi.h -- the KiwiSDR client: SND protocol in IQ mode over WebSocket
 * (kiwisdr-snd-protocol.md), as a receiver driver, plus its pure parsers.
 */
#ifndef KIWI_H
#define KIWI_H

#include <stddef.h>
#include <stdint.h>

#include "net/rx/receiver.h"

#define KIWI_SND_HDR	20	/* IQ-mode SND header bytes */

extern const struct rx_driver kiwi_driver;

/* One IQ-mode SND frame. samples points into the frame (big-endian). */
struct kiwi_snd {
	uint8_t		 flags;
	uint32_t	 seq;
	uint16_t	 smeter;
	double		 rssi_dbm;	/* 0.1 * smeter - 127 */
	uint8_t		 gps_age;	/* last_gps_solution; 255 = no GPS */
	uint32_t	 gpssec;	/* GPS time of week, s */
	uint32_t	 gpsnsec;
	const uint8_t	*samples;
	size_t		 n;		/* complex samples */
};

#define KIWI_FLAG_OVERFLOW	0x02
#define KIWI_FLAG_IQ		0x08
#define KIWI_FLAG_ADPCM		0x10
#define KIWI_FLAG_LE		0x80

/* Parse a whole "SND..." message. 0, or -1 with the reason. */
int	kiwi_parse_snd(const uint8_t *buf, size_t len, struct kiwi_snd *out,
	    char *err, size_t errlen);
/* Call fn(name, value) for each name=value token of a MSG body (values
 * URL-decoded; a token without '=' has value ""). -1 if a token is too
 * long (> 4 KiB). */
int	kiwi_parse_msg(const char *body, size_t len,
	    void (*fn)(void *ctx, const char *name, const char *value),
	    void *ctx);
/* GPS time of week -> UTC nanoseconds since the Unix epoch, exactly,
 * choosing the week nearest now_utc (GPS = UTC + 18 s). gpsnsec < 1e9. */
int64_t	kiwi_gps_to_utc_ns(uint32_t gpssec, uint32_t gpsnsec, double now_utc);
/* The frame's GPS stamp (time of its first sample) as UTC ns, or 0 when
 * it has none usable: no fresh fix (last_gps_solution > 10 s, 254, 255),
 * a zero stamp, or fields out of range (gpsnsec >= 1e9, gpssec past the
 * week). */
int64_t	kiwi_snd_time_ns(const struct kiwi_snd *f, double now_utc);
/* Percent-encode s (all but A-Z a-z 0-9 - _ . ~) into out, as the
 * receiver decodes the auth password. 0, or -1 if out is too small. */
int	kiwi_url_encode(const char *s, char *out, size_t outlen);
/* Big-endian int16 pairs -> host order (2n values). */
void	kiwi_samples_be(const uint8_t *src, size_t n, int16_t *dst);

#endif
