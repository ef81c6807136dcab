/*
 * replay.h -- the "kiwiwav" receiver: a kiwirecorder GPS-stamped IQ WAV
 * file (src/base/kiwiwav.h) replayed through the driver interface, so that
 * an import runs the engine's own path -- chunker, metrics, dataset rows,
 * events -- on the recording's time line instead of a second copy of it.
 *
 * A station {"type": "kiwiwav", "url": "file:///path.wav"} is opened by
 * reading and judging the file (replay_scan): a file whose stamps cannot
 * time a session (never had a fix, no recent fix, inconsistent rate, gaps)
 * fails to open, with that reason, and the engine records the station's
 * chunks missing for it while the others go on. Otherwise the driver
 * announces one stream at the rate the stamps measure and hands the
 * engine the file's usable frames in order from the session's origin
 * (rx_params.origin, less a frame), on the loop thread, a slice
 * per turn (so that every replayed station advances together and a close
 * is served between slices), each block stamped with its GPS time
 * converted to UTC as the KiwiSDR driver converts a frame's
 * (kiwi_gps_to_utc_ns, exact to the ns: the week is the one nearest
 * the recording's date -- kiwirecorder's file name, else the file's
 * modification time) and with
 * t_arrival = the time its last sample was taken: the block "arrives"
 * on the recording's own time line, so the engine measures no clock
 * offset. After the last frame the state is RX_STOPPED, "end of the
 * recording". Blocks come as fast as the session takes them: before each
 * slice the engine may hold the recording (rx_sink.hold) while its
 * storage and localization are behind, so nothing is skipped for
 * coming too fast. Only an engine in
 * replay mode (engine_config.replay) runs these stations, and it runs no
 * other kind (rx_type_replay).
 */
#ifndef REPLAY_H
#define REPLAY_H

#include <stdint.h>

#include "net/rx/receiver.h"

extern const struct rx_driver replay_driver;

#define REPLAY_SLICE	6	/* frames per loop turn (~0.26 s at 12 kS/s):
				   the receivers stay within a slice of each
				   other */
#define REPLAY_HOLD_NS	1000000	/* 1 ms: the wait while the engine holds
				   a recording (rx_sink.hold) */

/* What a kiwiwav station's file holds, on the UTC time line. */
struct replay_info {
	int		 ok;		/* usable; else reason */
	char		 reason[300];
	int64_t		 start_ns;	/* UTC ns of its first usable sample */
	int64_t		 end_ns;	/* UTC ns just past its last sample */
	double		 fs;		/* S/s measured from the stamps */
	int		 rate;		/* the header's */
	double		 freq_hz;	/* from kiwirecorder's file name; 0 */
	int		 stale;		/* leading stale stamps left out */
	int		 truncated;	/* an incomplete last chunk left out */
};

/*
 * Read and judge st's file (st->path, from its file:// url). Always fills
 * out: ok, or the reason the station is refused ("cannot open ...", "not
 * a RIFF/WAVE file", "never had a GPS fix (...)", "gap: ...").
 */
void	replay_scan(const struct station *st, struct replay_info *out);

#endif
