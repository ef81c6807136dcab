/*
 * kiwiwav.h -- kiwirecorder's GPS-stamped IQ WAV files (kiwirecorder.py -w,
 * --kiwi-wav): a strict, bounded reader, and the checks that decide whether
 * a file's GNSS stamps can time a session that TDoA will use.
 *
 * The format, as kiwirecorder.py writes it (_write_wav_header and
 * _write_samples): "RIFF" <u32 file size - 8> "WAVE", a "fmt " chunk of 16
 * bytes (PCM 1, 2 channels I then Q, the sample rate rounded to an
 * integer, byte rate, block align 4, 16 bits), then for every frame the
 * receiver sent a "kiwi" chunk of 10 bytes -- u8 last_gps_solution, u8
 * unused, u32 LE gpssec (GPS seconds of the week), u32 LE gpsnsec -- that
 * stamps the first sample of the "data" chunk after it (512 int16 I,Q
 * pairs, little-endian). The RIFF size is rewritten after every frame.
 *
 * The file is untrusted: every length is checked against the file (a
 * chunk that would run past the end, or past the RIFF size, is an
 * incomplete last chunk: left out and said, the frames before it stay),
 * chunks are padded to even length as RIFF says, unknown chunks (LIST,
 * ...) are skipped, the header's values are bounded (rate
 * KIWIWAV_RATE_MIN..MAX, 2 x 16-bit PCM), a data chunk holds a whole
 * number of samples, at most KIWIWAV_BLOCK_MAX, and must follow its stamp.
 * Files are at most KIWIWAV_BYTES_MAX bytes (what a u32 RIFF size allows).
 *
 * The verdict (kiwiwav.ok, else kiwiwav.reason) is the KiwiSDR TDoA tools'
 * rules: a file is refused when a stamp says the receiver never had a fix
 * (last_gps_solution 255) or has none recently (254), when its stamps
 * advance at another rate than its sample count says (the measured rate
 * more than KIWIWAV_RATE_TOL off the header's), or when they are not
 * continuous (a gap: frames lost, or stamps that jump). Only the first
 * KIWIWAV_STALE_MAX stamps may be stale (the receiver's first frames can
 * carry an old or zero stamp): those frames are left out, and the usable
 * frames are [first, nblocks). A line is fitted through the usable stamps
 * against sample index (least squares, relative to the first usable stamp
 * so that doubles hold nanoseconds exactly): its slope is the measured
 * sample rate, and it gives the time of every sample.
 */
#ifndef KIWIWAV_H
#define KIWIWAV_H

#include <stddef.h>
#include <stdint.h>

#define KIWIWAV_RATE_MIN	1000	/* S/s in the header */
#define KIWIWAV_RATE_MAX	192000
#define KIWIWAV_BLOCK_MAX	65536	/* samples in one data chunk */
#define KIWIWAV_BYTES_MAX	((int64_t)UINT32_MAX + 8)
#define KIWIWAV_STALE_MAX	2	/* leading stamps that may be stale */
#define KIWIWAV_JUMP_NS		50000	/* a step between two stamps this far
					   (50 us) off what the samples
					   between them take: not continuous.
					   Stamps are good to < 1 us; one
					   sample at 12 kS/s is 83 us */
#define KIWIWAV_RATE_TOL	1e-3	/* measured vs header rate (1000 ppm:
					   receivers are off by ~100 ppm,
					   and the header rounds) */
#define KIWIWAV_MIN_BLOCKS	4	/* fewer usable frames: refused */

/* One frame: a kiwi stamp and the data chunk it stamps. */
struct kiwiwav_block {
	int64_t		 off;		/* file offset of its samples */
	uint32_t	 n;		/* complex samples */
	uint8_t		 solution;	/* last_gps_solution (s since the last
					   fix; 254 none recently, 255 never) */
	uint32_t	 gpssec;	/* as stamped */
	uint32_t	 gpsnsec;
	int64_t		 sample;	/* index of its first sample in the file */
	int64_t		 t_ns;		/* GPS time of week of its first sample,
					   ns, unwrapped across week ends
					   (+604800 s): continuous in the file;
					   -1 when the stamp is out of range */
};

struct kiwiwav {
	int			 fd;		/* open while loaded; -1 */
	int			 rate;		/* header's (integer) rate */
	int			 nblocks;
	struct kiwiwav_block	*b;
	int64_t			 samples;	/* in every block */
	int			 truncated;	/* an incomplete last chunk was
						   left out */
	/* The verdict. */
	int			 ok;		/* usable for a session */
	char			 reason[256];	/* why not (ok 0) */
	int			 first;		/* first usable block */
	double			 fs;		/* S/s from the stamps (usable) */
	double			 resid_ns;	/* largest stamp - line */
	/* The line: GPS time of week (ns, unwrapped as t_ns) of file sample
	 * s is line_ns + (s - b[first].sample) * 1e9 / fs. */
	double			 line_ns;
};

/*
 * Open path (a regular file of at most KIWIWAV_BYTES_MAX bytes), read its
 * structure and judge its stamps. -1 with err when it cannot be read or is
 * not a kiwirecorder IQ WAV file with stamps (err says why: "not a RIFF
 * file", "data chunk at offset N has no kiwi stamp before it", ...); 0
 * when it is one: then w->ok, or w->reason why its stamps cannot time a
 * session. The file stays open for kiwiwav_samples until kiwiwav_free.
 */
int	kiwiwav_open(const char *path, struct kiwiwav *w, char *err,
	    size_t errlen);
/* The same on an open descriptor (taken: kiwiwav_free closes it). */
int	kiwiwav_load(int fd, struct kiwiwav *w, char *err, size_t errlen);
/* Judge w's stamps (kiwiwav_load does): sets ok, reason, first, fs,
 * line_ns, resid_ns. Pure: tests feed it blocks. */
void	kiwiwav_check(struct kiwiwav *w);
void	kiwiwav_free(struct kiwiwav *w);
/* Block i's samples as host-order int16 I,Q pairs (2 * b[i].n values).
 * 0, or -1 with err. */
int	kiwiwav_samples(const struct kiwiwav *w, int i, int16_t *iq,
	    char *err, size_t errlen);

/* The GPS time of week (unwrapped, ns) of file sample s on the line. */
double	kiwiwav_time_ns(const struct kiwiwav *w, int64_t s);

/*
 * What kiwirecorder's file name says: YYYYmmddTHHMMSSZ_<Hz>_..., the
 * start (host clock, UTC s) and the dial frequency (Hz). Each 0 when the
 * base name does not have it.
 */
double	kiwiwav_name_time(const char *path);
double	kiwiwav_name_freq(const char *path);

#endif
