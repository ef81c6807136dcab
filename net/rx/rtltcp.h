/*
 * rtltcp.h -- the rtl_tcp client (osmocom rtl-sdr's TCP server) as a
 * receiver driver: header check, tuning/rate/gain commands, uint8 IQ at the
 * device rate decimated (decim.h) to the session's bandwidth, stale samples
 * after the retune dropped, the one-client-at-a-time server reported busy.
 *
 * The dongle is tuned RTLTCP_TUNE_OFFSET above the session frequency and
 * the decimator shifts the target to 0 Hz: the RTL-SDR's DC spike and LO
 * leakage stay out of the recorded band.
 */
#ifndef RTLTCP_H
#define RTLTCP_H

#include <stddef.h>
#include <stdint.h>

#include "net/rx/receiver.h"

#define RTLTCP_DEVICE_RATE	2048000	/* samples/s asked of the dongle */
#define RTLTCP_TUNE_OFFSET	256000	/* Hz: dongle center above target */
#define RTLTCP_OUT_RATE		12000	/* about this many complex/s out */
#define RTLTCP_GAIN_TENTHS	297	/* 29.7 dB, an R820T step: fixed
					   gain, comparable stations */
#define RTLTCP_STALE_S		0.1	/* dropped after the retune (plus
					   one round trip) */
#define RTLTCP_HEADER_S		3.0	/* no header: another client has it */
#define RTLTCP_STALL_S		2.0	/* no samples: reconnect */

extern const struct rx_driver rtltcp_driver;

struct rtltcp_hdr {
	uint32_t	tuner;		/* 1 E4000 ... 5 R820T, 6 R828D */
	uint32_t	gains;		/* gain steps */
};

/* Parse the 12-byte greeting. 0, or -1 with the reason. */
int	rtltcp_parse_header(const uint8_t *p, size_t n, struct rtltcp_hdr *h,
	    char *err, size_t errlen);
/* Does tuner type cover f? 1 yes, 0 no (range gets "52-1100, 1250-2200
 * MHz"), -1 unknown type (not checked). name gets the tuner's name. */
int	rtltcp_tuner_covers(uint32_t tuner, double f, const char **name,
	    char *range, size_t rlen);
/* One 5-byte command: u8 cmd + u32 big-endian parameter. */
void	rtltcp_command(uint8_t out[5], uint8_t cmd, uint32_t param);
/* The decimation for a passband: factor from RTLTCP_DEVICE_RATE. */
int	rtltcp_factor(double device_rate, int low_cut, int high_cut);

#endif
