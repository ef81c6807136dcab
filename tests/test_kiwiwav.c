/* test_kiwiwav.c -- kiwirecorder's GPS-stamped WAV files: the exact format kiwirecorder.py writes, the stamp verdicts, and damaged or hostile files. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/base/kiwiwav.h"

#define NB	512

static char path[64];

/* A growing byte buffer: the file being made. */
struct buf {
	unsigned char	*p;
	size_t		 len, cap;
};

static void
put(struct buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 256;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void
u32(struct buf *b, uint32_t v)
{
	unsigned char c[4] = { v, v >> 8, v >> 16, v >> 24 };

	put(b, c, 4);
}

static void
u16(struct buf *b, uint16_t v)
{
	unsigned char c[2] = { v, v >> 8 };

	put(b, c, 2);
}

/* kiwirecorder.py's _write_wav_header for 2 channels of 16 bits. */
static void
header(struct buf *b, uint32_t rate)
{
	put(b, "RIFF", 4);
	u32(b, 0);		/* patched by finish() */
	put(b, "WAVE", 4);
	put(b, "fmt ", 4);
	u32(b, 16);
	u16(b, 1);
	u16(b, 2);
	u32(b, rate);
	u32(b, rate * 4);
	u16(b, 4);
	u16(b, 16);
}

/* kiwirecorder.py's _write_samples with is_kiwi_wav: struct.pack('<4sIBBII',
 * b'kiwi', 10, last_gps_solution, 0, gpssec, gpsnsec), then b'data' and
 * the samples. Sample k of the frame is I = k + first, Q = -(k + first). */
static void
frame(struct buf *b, uint8_t sol, uint32_t sec, uint32_t nsec, uint32_t n,
    int first)
{
	unsigned char	c[2] = { sol, 0 };
	uint32_t	k;

	put(b, "kiwi", 4);
	u32(b, 10);
	put(b, c, 2);
	u32(b, sec);
	u32(b, nsec);
	put(b, "data", 4);
	u32(b, n * 4);
	for (k = 0; k < n; k++) {
		u16(b, (uint16_t)(int16_t)(first + (int)k));
		u16(b, (uint16_t)(int16_t)-(first + (int)k));
	}
}

/* and _update_wav_header: RIFF size = file size - 8 */
static void
finish(struct buf *b)
{
	uint32_t	s = (uint32_t)(b->len - 8);
	unsigned char	c[4] = { s, s >> 8, s >> 16, s >> 24 };

	memcpy(b->p + 4, c, 4);
}

static void
save(const struct buf *b, size_t len)
{
	FILE	*f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(b->p, 1, len, f), len);
	fclose(f);
}

/*
 * A recording of nblocks frames at real rate fs from GPS time of week
 * sec0 + nsec0: stamps exact to the nanosecond, as a KiwiSDR gives them.
 * skip: a frame left out (lost: the stamps jump); -1 none.
 */
static void
make(struct buf *b, uint32_t rate, double fs, uint32_t sec0, uint32_t nsec0,
    int nblocks, uint8_t sol, int skip)
{
	int	i;

	memset(b, 0, sizeof *b);
	header(b, rate);
	for (i = 0; i < nblocks; i++) {
		double t = (double)nsec0 + (double)i * NB * 1e9 / fs;
		int64_t ns = (int64_t)sec0 * 1000000000LL + llround(t);
		if (i == skip)
			continue;
		ns %= 604800LL * 1000000000LL;	/* time of week */
		frame(b, sol, (uint32_t)(ns / 1000000000LL),
		    (uint32_t)(ns % 1000000000LL), NB, i * NB);
	}
	finish(b);
}

static int
load(struct kiwiwav *w, char *err, size_t errlen)
{
	return kiwiwav_open(path, w, err, errlen);
}

static void
test_kiwirecorder_format(void **state)
{
	/* The first bytes of a kiwirecorder -w file at 12001 S/s with a
	 * stamp (solution 3, 466823 s, 886417795 ns), as struct.pack makes
	 * them (python3: struct.pack("<4sIBBII", b"kiwi", 10, 3, 0, 466823,
	 * 886417795) is 6b6977690a0000000300871f070083a9d534): RIFF/WAVE,
	 * fmt, then kiwi and data. */
	static const unsigned char want[] = {
	    'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E',
	    'f', 'm', 't', ' ', 16, 0, 0, 0, 1, 0, 2, 0,
	    0xe1, 0x2e, 0, 0, 0x84, 0xbb, 0, 0, 4, 0, 16, 0,
	    'k', 'i', 'w', 'i', 10, 0, 0, 0, 3, 0,
	    0x87, 0x1f, 0x07, 0x00, 0x83, 0xa9, 0xd5, 0x34,
	    'd', 'a', 't', 'a', 0x00, 0x08, 0, 0 };
	struct kiwiwav	 w;
	struct buf	 b;
	char		 err[256];
	int16_t		 iq[2 * NB];
	double		 fs = 12001.135;
	int		 i, k;

	(void)state;
	make(&b, 12001, fs, 466823, 886417795, 100, 3, -1);
	assert_memory_equal(b.p + 8, want + 8, sizeof want - 8);
	assert_int_equal(b.p[4] | b.p[5] << 8 | b.p[6] << 16 | b.p[7] << 24,
	    b.len - 8);
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_true(w.ok);
	assert_int_equal(w.rate, 12001);
	assert_int_equal(w.nblocks, 100);
	assert_int_equal(w.samples, 100 * NB);
	assert_int_equal(w.first, 0);
	assert_false(w.truncated);
	/* the rate the stamps measure, not the header's integer */
	assert_true(fabs(w.fs - fs) < 1e-4);
	assert_true(w.resid_ns < 1.0);
	assert_int_equal(w.b[0].gpssec, 466823);
	assert_int_equal(w.b[0].gpsnsec, 886417795);
	assert_int_equal(w.b[0].solution, 3);
	/* the line gives every sample's time: block 50's stamp */
	assert_true(fabs(kiwiwav_time_ns(&w, 50 * NB) -
	    (double)w.b[50].t_ns) < 1.0);
	for (i = 0; i < 100; i += 33) {
		assert_int_equal(kiwiwav_samples(&w, i, iq, err, sizeof err),
		    0);
		for (k = 0; k < NB; k++) {
			assert_int_equal(iq[2 * k], (int16_t)(i * NB + k));
			assert_int_equal(iq[2 * k + 1], (int16_t)-(i * NB + k));
		}
	}
	assert_int_equal(kiwiwav_samples(&w, 100, iq, err, sizeof err), -1);
	kiwiwav_free(&w);
	free(b.p);
}

/* The byte offset of frame i's kiwi payload (after the 36-byte header
 * and fmt: frames of 8 + 10 + 8 + 4 * NB bytes). */
static size_t
stamp_at(int i)
{
	return 36 + (size_t)i * (8 + 10 + 8 + 4 * NB) + 8;
}

static void
test_no_fix(void **state)
{
	struct kiwiwav	 w;
	struct buf	 b;
	char		 err[256];

	(void)state;
	make(&b, 12001, 12001.1, 1000, 0, 50, 255, -1);
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_false(w.ok);
	assert_string_equal(w.reason, "never had a GPS fix (last_gps_solution "
	    "255 in 50 of 50 stamps)");
	kiwiwav_free(&w);
	free(b.p);
	/* a fix lost during the recording: 254 in one frame */
	make(&b, 12001, 12001.1, 1000, 0, 50, 0, -1);
	b.p[stamp_at(20)] = 254;
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_false(w.ok);
	assert_string_equal(w.reason, "no recent GPS fix (last_gps_solution "
	    "254 in 1 of 50 stamps)");
	kiwiwav_free(&w);
	free(b.p);
}

static void
set_stamp(struct buf *b, int i, uint32_t sec, uint32_t nsec)
{
	unsigned char *p = b->p + stamp_at(i) + 2;

	p[0] = sec;
	p[1] = sec >> 8;
	p[2] = sec >> 16;
	p[3] = sec >> 24;
	p[4] = nsec;
	p[5] = nsec >> 8;
	p[6] = nsec >> 16;
	p[7] = nsec >> 24;
}

static void
test_stale_first_stamps(void **state)
{
	struct kiwiwav	 w;
	struct buf	 b;
	char		 err[256];

	(void)state;
	/* the first stamp zero, the second old: both left out */
	make(&b, 12001, 12001.1, 5000, 250000000, 60, 1, -1);
	set_stamp(&b, 0, 0, 0);
	set_stamp(&b, 1, 4990, 0);
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_true(w.ok);
	assert_int_equal(w.first, 2);
	assert_true(fabs(w.fs - 12001.1) < 1e-3);
	kiwiwav_free(&w);
	/* a third stale stamp is not the start any more: refused */
	set_stamp(&b, 2, 4990, 0);
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_false(w.ok);
	assert_non_null(strstr(w.reason, "gap: the GPS stamps jump"));
	kiwiwav_free(&w);
	free(b.p);
}

static void
test_gaps(void **state)
{
	struct kiwiwav	 w;
	struct buf	 b;
	char		 err[256];

	(void)state;
	/* frame 30 lost: its samples are not there, the stamps jump */
	make(&b, 12001, 12001.1, 1000, 0, 60, 0, 30);
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_false(w.ok);
	assert_non_null(strstr(w.reason, "gap: the GPS stamps jump 42.66"));
	assert_non_null(strstr(w.reason, "ms ahead at frame 30"));
	assert_non_null(strstr(w.reason, "about 512 samples missing"));
	kiwiwav_free(&w);
	free(b.p);
	/* one sample's worth (83 us) is a gap too */
	make(&b, 12001, 12001.1, 1000, 0, 60, 0, -1);
	{
		int64_t ns = 1000LL * 1000000000LL +
		    llround(40.0 * NB * 1e9 / 12001.1) + 83000;
		set_stamp(&b, 40, (uint32_t)(ns / 1000000000LL),
		    (uint32_t)(ns % 1000000000LL));
	}
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_false(w.ok);
	assert_non_null(strstr(w.reason, "at frame 40"));
	kiwiwav_free(&w);
	/* stamps that go back */
	set_stamp(&b, 40, 999, 0);
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_false(w.ok);
	assert_non_null(strstr(w.reason, "go "));
	assert_non_null(strstr(w.reason, "back at frame 40"));
	kiwiwav_free(&w);
	/* a stamp out of range (gpsnsec >= 1e9) */
	set_stamp(&b, 40, 1001, 1500000000u);
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_false(w.ok);
	assert_non_null(strstr(w.reason, "out of range"));
	kiwiwav_free(&w);
	free(b.p);
}

static void
test_inconsistent_rate(void **state)
{
	struct kiwiwav	 w;
	struct buf	 b;
	char		 err[256];

	(void)state;
	/* the header says 12001, the stamps advance as 20250 S/s would */
	make(&b, 12001, 20250, 1000, 0, 60, 0, -1);
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_false(w.ok);
	assert_non_null(strstr(w.reason, "inconsistent sample rate: the GPS "
	    "stamps advance at 20250.000 S/s of samples, the header says "
	    "12001 S/s"));
	kiwiwav_free(&w);
	free(b.p);
	/* 100 ppm off the header: a real receiver, accepted */
	make(&b, 12000, 12001.2, 1000, 0, 60, 0, -1);
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_true(w.ok);
	kiwiwav_free(&w);
	free(b.p);
}

static void
test_week_end(void **state)
{
	struct kiwiwav	 w;
	struct buf	 b;
	char		 err[256];

	(void)state;
	/* from 3 s before the end of the GPS week into the next one */
	make(&b, 12001, 12001.1, 604797, 0, 200, 0, -1);
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_true(w.ok);
	assert_true(w.b[199].gpssec < 10);
	assert_true(w.b[199].t_ns > w.b[0].t_ns);
	assert_true(fabs(w.fs - 12001.1) < 1e-3);
	kiwiwav_free(&w);
	free(b.p);
}

static void
test_truncated_and_padding(void **state)
{
	struct kiwiwav	 w;
	struct buf	 b, c;
	char		 err[256];
	unsigned char	 pad = 0;

	(void)state;
	make(&b, 12001, 12001.1, 1000, 0, 20, 0, -1);
	/* cut in the middle of the last data chunk: 19 frames stay */
	save(&b, b.len - 100);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_true(w.ok);
	assert_true(w.truncated);
	assert_int_equal(w.nblocks, 19);
	kiwiwav_free(&w);
	/* cut inside a chunk header */
	save(&b, stamp_at(10) - 5);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_true(w.truncated);
	assert_int_equal(w.nblocks, 10);
	kiwiwav_free(&w);
	/* a RIFF size smaller than the file: what follows is not read */
	b.p[4] = (unsigned char)(stamp_at(15) - 8 - 8);
	b.p[5] = (unsigned char)((stamp_at(15) - 16) >> 8);
	b.p[6] = (unsigned char)((stamp_at(15) - 16) >> 16);
	b.p[7] = 0;
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_int_equal(w.nblocks, 15);
	kiwiwav_free(&w);
	free(b.p);

	/* an odd-sized LIST chunk (and its pad byte) between frames */
	memset(&c, 0, sizeof c);
	header(&c, 12001);
	frame(&c, 0, 1000, 0, NB, 0);
	put(&c, "LIST", 4);
	u32(&c, 5);
	put(&c, "abcde", 5);
	put(&c, &pad, 1);
	frame(&c, 0, 1000, (uint32_t)llround(NB * 1e9 / 12001.1), NB, NB);
	frame(&c, 0, 1000, (uint32_t)llround(2 * NB * 1e9 / 12001.1), NB,
	    2 * NB);
	frame(&c, 0, 1000, (uint32_t)llround(3 * NB * 1e9 / 12001.1), NB,
	    3 * NB);
	frame(&c, 0, 1000, (uint32_t)llround(4 * NB * 1e9 / 12001.1), NB,
	    4 * NB);
	finish(&c);
	save(&c, c.len);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_true(w.ok);
	assert_int_equal(w.nblocks, 5);
	assert_false(w.truncated);
	kiwiwav_free(&w);
	free(c.p);
}

/* Header bytes at offset off replaced, then loaded: -1 and err has what. */
static void
bad_header(size_t off, const void *bytes, size_t n, const char *what)
{
	struct kiwiwav	 w;
	struct buf	 b;
	char		 err[256];

	make(&b, 12001, 12001.1, 1000, 0, 10, 0, -1);
	memcpy(b.p + off, bytes, n);
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), -1);
	if (strstr(err, what) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err, what);
	assert_int_equal(w.fd, -1);
	assert_null(w.b);
	free(b.p);
}

static void
test_hostile(void **state)
{
	static const unsigned char rate0[4] = { 0, 0, 0, 0 };
	static const unsigned char rate_big[4] = { 0, 0, 0, 0x40 };
	static const unsigned char mono[2] = { 1, 0 };
	static const unsigned char float_fmt[2] = { 3, 0 };
	static const unsigned char odd_data[4] = { 0x01, 0x08, 0, 0 };
	static const unsigned char huge_data[4] = { 0x00, 0x00, 0x10, 0 };
	static const unsigned char kiwi12[4] = { 12, 0, 0, 0 };
	struct kiwiwav	 w;
	struct buf	 b;
	char		 err[256];

	(void)state;
	bad_header(0, "RIFX", 4, "not a RIFF/WAVE file");
	bad_header(8, "AVI ", 4, "not a RIFF/WAVE file");
	bad_header(24, rate0, 4, "sample rate 0 S/s is out of range");
	bad_header(24, rate_big, 4, "is out of range (1000-192000)");
	bad_header(22, mono, 2, "1 channels");
	bad_header(20, float_fmt, 2, "format 3");
	bad_header(28, rate0, 4, "byte rate 0");
	bad_header(40, kiwi12, 4, "kiwi chunk of 12 bytes");
	bad_header(36 + 18 + 4, odd_data, 4, "a whole number of I,Q pairs");
	/* a data chunk longer than the file: the only one, left out */
	bad_header(36 + 18 + 4, huge_data, 4, "no GPS-stamped samples");
	bad_header(36, "data", 4, "data chunk at offset 36 has no kiwi stamp");
	bad_header(12, "junk", 4, "kiwi chunk before the fmt chunk");

	/* no fmt at all; nothing but a header */
	memset(&b, 0, sizeof b);
	put(&b, "RIFF\4\0\0\0WAVE", 12);
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), -1);
	assert_string_equal(err, "no fmt chunk");
	/* a plain WAV without stamps */
	free(b.p);
	memset(&b, 0, sizeof b);
	header(&b, 12000);
	put(&b, "data", 4);
	u32(&b, 16);
	put(&b, "0123456789abcdef", 16);
	finish(&b);
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), -1);
	assert_non_null(strstr(err, "has no kiwi stamp"));
	free(b.p);
	/* a data chunk of more than KIWIWAV_BLOCK_MAX samples */
	memset(&b, 0, sizeof b);
	header(&b, 12001);
	frame(&b, 0, 1000, 0, 70000, 0);
	finish(&b);
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), -1);
	assert_non_null(strstr(err, "at most 65536"));
	free(b.p);
	/* too short to judge */
	make(&b, 12001, 12001.1, 1000, 0, 3, 0, -1);
	save(&b, b.len);
	assert_int_equal(load(&w, err, sizeof err), 0);
	assert_false(w.ok);
	assert_string_equal(w.reason, "too short: 3 GPS-stamped frames");
	kiwiwav_free(&w);
	free(b.p);
	/* not a regular file; missing */
	assert_int_equal(kiwiwav_open("/tmp", &w, err, sizeof err), -1);
	assert_string_equal(err, "not a regular file");
	assert_int_equal(kiwiwav_open("/nonexistent/x.wav", &w, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "cannot open /nonexistent/x.wav"));
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(kiwiwav_open(path, &w, err, sizeof err), -1);
	assert_string_equal(err, "not a regular file");
}

static void
test_names(void **state)
{
	(void)state;
	assert_true(kiwiwav_name_time("/a/20200813T065220Z_77500_DE_iq.wav") ==
	    1597301540.0);
	assert_true(kiwiwav_name_freq("/a/20200813T065220Z_77500_DE_iq.wav") ==
	    77500.0);
	assert_true(kiwiwav_name_freq("20260304T120000Z_10000000_iq.wav") ==
	    10e6);
	assert_true(kiwiwav_name_time("x.wav") == 0);
	assert_true(kiwiwav_name_time("20201313T065220Z_1_iq.wav") == 0);
	assert_true(kiwiwav_name_freq("20200813T065220Z_camp_rx1.wav") == 0);
	assert_true(kiwiwav_name_freq("20200813T065220Z.wav") == 0);
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_kiwirecorder_format, teardown),
		cmocka_unit_test_teardown(test_no_fix, teardown),
		cmocka_unit_test_teardown(test_stale_first_stamps, teardown),
		cmocka_unit_test_teardown(test_gaps, teardown),
		cmocka_unit_test_teardown(test_inconsistent_rate, teardown),
		cmocka_unit_test_teardown(test_week_end, teardown),
		cmocka_unit_test_teardown(test_truncated_and_padding, teardown),
		cmocka_unit_test_teardown(test_hostile, teardown),
		cmocka_unit_test(test_names),
	};

	snprintf(path, sizeof path, "/tmp/test_kiwiwav.%d.wav", (int)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}
