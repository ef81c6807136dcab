/*
 * openwebrx.h -- the OpenWebRX client (v1.1, v1.2 and OpenWebRX+) as a
 * receiver driver: /status.json (profiles: the range check and profile
 * choice), the WebSocket JSON protocol (handshake, connection properties,
 * config deltas merged, dspcontrol params + start, profile switches at
 * least OWRX_SWITCH_S apart per host, re-sent params after an unsolicited
 * config, backoff), and audio frames: int16 or IMA ADPCM, v1.2's SYNC
 * framing (blocks straddle messages) or v1.1's continuous stream.
 *
 * OpenWebRX gives clients no IQ: what is recorded is the demodulated real
 * audio (usb by default, see rx_audio_passband) at OWRX_RATE samples/s and
 * the S-meter (10 log10 of its linear power, dB full scale) per block.
 */
#ifndef OPENWEBRX_H
#define OPENWEBRX_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "net/rx/receiver.h"

#define OWRX_RATE	12000		/* output_rate asked for */
#define OWRX_MAX_MSG	65536		/* largest message accepted */
#define OWRX_MAX_STATUS	(256 * 1024)	/* largest /status.json */
#define OWRX_SWITCH_S	10.0		/* between profile switches, per
					   host (OpenWebRX+ bans faster) */
#define OWRX_STALL_S	2.0
#define OWRX_START_S	10.0		/* connected, no audio yet */

extern const struct rx_driver openwebrx_driver;

/* IMA ADPCM as csdr encodes it and OpenWebRX's client decodes it. */
struct owrx_adpcm {
	int	sync;		/* v1.2 framing: "SYNC" + index + predictor +
				   1001 data bytes, repeated */
	int	phase;		/* 0 seek SYNC, 1 read state, 2 data */
	int	count;		/* bytes of the block / state / word */
	int	synced;		/* a SYNC was seen */
	uint8_t	state[4];
	uint8_t	held[3];	/* data bytes held back: a SYNC inside a
				   block means bytes were lost */
	int	nheld;
	int	index;		/* step index, 0..88 */
	int	pred;		/* predictor, int16 */
	size_t	resyncs;	/* SYNC words found */
	size_t	skipped;	/* bytes passed over looking for SYNC */
	size_t	filled;		/* zero samples put for lost data */
	/* where the last decode call put them (at most OWRX_FILLS): the
	 * driver passes them on as lost samples, not as audio */
	size_t	fill_at[4], fill_n[4];
	int	nfills;
};
#define OWRX_FILLS	4

void	owrx_adpcm_init(struct owrx_adpcm *a, int sync);
/*
 * Decode n bytes into out; returns samples. out needs room for 2n + 2002
 * samples. With SYNC framing a block cut short (its data interrupted by
 * the next SYNC) or bytes skipped while looking for SYNC become zero
 * samples, so the stream keeps its length and timing.
 */
size_t	owrx_adpcm_decode(struct owrx_adpcm *a, const uint8_t *in, size_t n,
	    int16_t *out);
/* Merge a config delta into cfg (null deletes a key). */
void	owrx_config_merge(json_t *cfg, json_t *delta);
/*
 * The profile of /status.json that best covers f with the audio edge hi
 * (|f - center| + hi <= rate/2, the target nearest the center): its
 * "<sdr name> <profile name>" (how the WebSocket "profiles" list names it)
 * and center. 0, or -1 with the profiles there are listed in err.
 */
int	owrx_pick_profile(json_t *status, double f, int hi, char *name,
	    size_t namelen, double *center, char *err, size_t errlen);
/* The receiver's published position from /status.json. 0 or -1. */
int	owrx_status_gps(json_t *status, double *lat, double *lon);

#endif
