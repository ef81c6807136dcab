/*
 * receiver.h -- the receiver driver interface: what every receiver client
 * (KiwiSDR, OpenWebRX, rtl_tcp and SpyServer, and kiwiwav: a kiwirecorder
 * file replayed, replay.h -- the table in receiver.c, plus
 * what rx_driver_register adds) gives the engine.
 *
 * A driver owns one connection to one receiver for the whole session. It runs
 * entirely on the rxloop thread (one libwebsockets event loop for every
 * receiver of every session) and hands the engine blocks of samples through
 * a sink. Sink callbacks are made on the loop thread: they must be quick and
 * must never block (the engine copies samples into its chunker and returns).
 * How a connection lives -- when it retries or fails, and with which
 * reason -- is the same for every driver: rxlife.h, the one core they all
 * use; a driver brings its protocol.
 */
#ifndef RECEIVER_H
#define RECEIVER_H

#include <stddef.h>
#include <stdint.h>

struct rxloop;
struct station;

enum rx_state {
	RX_CONNECTING = 0,	/* opening / handshaking */
	RX_STREAMING,		/* samples are flowing */
	RX_RETRYING,		/* lost (busy, stall, drop): will reconnect */
	RX_FAILED,		/* given up for this session: reason says why */
	RX_STOPPED		/* closed by the engine */
};

const char *rx_state_name(enum rx_state st);

/* One delivery of samples: consecutive in the current stream. */
struct rx_block {
	const int16_t	*iq;		/* n interleaved I,Q pairs, host order */
	size_t		 n;		/* complex samples in this block */
	size_t		 lost;		/* samples lost just before this block
					   (sequence gap x samples per frame) */
	double		 t_arrival;	/* CLOCK_REALTIME (s) when it arrived */
	/* UTC of iq[0] in nanoseconds since the Unix epoch, from a fresh
	 * GPS fix (stamps that continue each other), or 0 when there is
	 * none. Integer: a double of UTC seconds resolves only ~240 ns,
	 * and TDoA needs the stamps as the receiver gave them. */
	int64_t		 t_gps_ns;
	int		 gps_age;	/* s since the last fix; -1: no GPS */
	double		 rssi_dbm;	/* S-meter for this block; NAN if none */
	int		 overflow;	/* 1 if the receiver flagged ADC overflow */
	/* The receiver's own published position (OpenWebRX /status.json),
	 * when pos_valid: reported beside the stations file's. */
	int		 pos_valid;
	double		 latitude;
	double		 longitude;
};

/* Callbacks from a driver, made on the loop thread only. */
struct rx_sink {
	/* State changes. reason is a short human text ("too_busy",
	 * "bad password (badp=1)", "no frame for 2 s", ...), never NULL:
	 * valid UTF-8 of at most RX_REASON_MAX bytes (rx_reason()). */
	void	(*state)(void *ctx, enum rx_state st, const char *reason);
	/* A new continuous stream begins (first connect and every reconnect)
	 * at the receiver's real sample rate fs (samples/s). */
	void	(*stream)(void *ctx, double fs);
	/* Samples of the current stream, in order; a sequence gap before
	 * a block is its b->lost. */
	void	(*block)(void *ctx, const struct rx_block *b);
	void	*ctx;
	/* Replay drivers (rx_type_replay), before each slice of a recording:
	 * 1 when the engine's consumers (storage, localization) are behind
	 * this receiver -- hand over nothing now, ask again shortly. A live
	 * receiver cannot wait; a recording can, and is then read as fast as
	 * the session is processed, nothing skipped. NULL: never. */
	int	(*hold)(void *ctx);
};

struct rx_params {
	double		 freq_hz;	/* dial frequency */
	int		 low_cut;	/* passband, Hz relative to freq_hz */
	int		 high_cut;
	double		 deadline;	/* CLOCK_REALTIME (s): stop retrying
					   after this instant */
	const char	*ident;		/* ident_user sent to the receiver */
	double		 origin;	/* replay drivers (rx_type_replay): the
					   session's origin (UTC s); frames
					   that end a frame or more before it
					   are not replayed, so that every
					   recording starts where the session
					   does and all advance together. 0:
					   live */
};

struct rx;	/* a driver's connection; opaque */

struct rx_driver {
	const char	*type;		/* stations file "type" */
	double		 default_min_hz;	/* range when the file omits it */
	double		 default_max_hz;
	/*
	 * Open a connection (asynchronously): returns at once, callbacks follow
	 * on the loop thread. Callable from any thread. NULL + err on failure.
	 * The station and params are copied.
	 */
	struct rx	*(*open)(struct rxloop *loop, const struct station *st,
			    const struct rx_params *p, const struct rx_sink *sink,
			    char *err, size_t errlen);
	/*
	 * Close and free. Callable from any thread except the loop thread;
	 * when it returns, no sink callback is running or will be made.
	 */
	void		 (*close)(struct rx *rx);
};

/*
 * 1 when drivers of this type give demodulated real audio, not IQ
 * (OpenWebRX): their blocks carry it in iq[2k] with iq[2k+1] = 0, and the
 * engine stores it as float32 audio and computes metrics over the audio
 * passband (rx_audio_passband).
 */
int		 rx_type_audio(const char *type);

/*
 * 1 when stations of this type are recordings replayed (kiwiwav, replay.h):
 * their url is file:///path, their blocks carry the recording's own times
 * (t_arrival too) and come faster than real time, so only an engine in
 * replay mode runs them (engine_config.replay), and it runs only them.
 */
int		 rx_type_replay(const char *type);

/*
 * An audio receiver's demodulator and passband (Hz of audio) for a session
 * passband high_cut at audio rate fs: the station's own "mode"/"low_cut"/
 * "high_cut" when the stations file has them, else usb over 100 Hz ..
 * high_cut (at most fs/2 - 100): a carrier at +f Hz from the session
 * frequency is heard at f Hz. Shared by the driver and the engine.
 */
void		 rx_audio_passband(const struct station *st, int high_cut,
		    double fs, const char **mode, int *lo, int *hi);

/* The driver for a stations-file type, or NULL. */
const struct rx_driver *rx_driver_find(const char *type);
/* Add a driver at run time (tests use in-process fakes). Call before any
 * engine runs; not thread-safe. 0, or -1 when the table is full. */
int		 rx_driver_register(const struct rx_driver *drv);

/* Helpers for drivers (shared by kiwi, openwebrx, rawtcp and rxlife);
 * a connection's life cycle (reasons, retries, backoff, stall watch) is
 * rxlife.h's. */

/*
 * A reason for sink->state(): reasons quote what receivers send, and JSON
 * (events, manifests) cannot carry text that is not UTF-8 -- jansson drops
 * the whole event. Copies in to buf as valid UTF-8 ('?' for bad bytes), cut
 * at a character boundary to RX_REASON_MAX bytes, so that no later copy
 * into the engine's buffers cuts a character either. Returns buf.
 */
#define RX_REASON_MAX	159	/* the engine keeps 160 bytes */
const char	*rx_reason(const char *in, char buf[RX_REASON_MAX + 1]);

/*
 * Resolve host once into a numeric address (IPv4 or IPv6 text) in addr.
 * Call it on the opener's thread: lws' resolver blocks, and the loop thread
 * must never wait on DNS. 0, or -1 with "cannot resolve HOST: why" in err.
 */
int		 rx_resolve(const char *host, char *addr, size_t addrlen,
		    char *err, size_t errlen);

#endif
