/* test_kiwi.c -- SND/MSG parsing (incl. malformed frames), GPS time, and the driver against the simulator. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/rx/kiwi.h"
#include "net/rx/rxloop.h"
#include "src/engine/config.h"
#include "src/base/util.h"

#include "probe.h"

static void
test_parse_snd(void **state)
{
	uint8_t		 f[20 + 8];
	struct kiwi_snd	 s;
	int16_t		 iq[4];
	char		 err[128];

	(void)state;
	memset(f, 0, sizeof f);
	memcpy(f, "SND", 3);
	f[3] = 0x08 | 0x02;
	f[4] = 0x78; f[5] = 0x56; f[6] = 0x34; f[7] = 0x12;	/* LE seq */
	f[8] = 0x04; f[9] = 0x4c;		/* BE 1100 -> -17 dBm */
	f[10] = 3;
	f[12] = 0x10; f[13] = 0x27;		/* 10000 s of week */
	f[16] = 0x40; f[17] = 0x42; f[18] = 0x0f;	/* 1e6 ns */
	f[20] = 0x80; f[21] = 0x00;		/* I0 = -32768 (BE) */
	f[22] = 0x00; f[23] = 0x01;		/* Q0 = 1 */
	f[24] = 0x7f; f[25] = 0xff;		/* I1 = 32767 */
	f[26] = 0xff; f[27] = 0xfe;		/* Q1 = -2 */
	assert_int_equal(kiwi_parse_snd(f, sizeof f, &s, err, sizeof err), 0);
	assert_int_equal(s.flags & KIWI_FLAG_OVERFLOW, KIWI_FLAG_OVERFLOW);
	assert_int_equal(s.seq, 0x12345678);
	assert_int_equal(s.smeter, 1100);
	assert_true(fabs(s.rssi_dbm - (-17.0)) < 1e-9);
	assert_int_equal(s.gps_age, 3);
	assert_int_equal(s.gpssec, 10000);
	assert_int_equal(s.gpsnsec, 1000000);
	assert_int_equal(s.n, 2);
	kiwi_samples_be(s.samples, s.n, iq);
	assert_int_equal(iq[0], -32768);
	assert_int_equal(iq[1], 1);
	assert_int_equal(iq[2], 32767);
	assert_int_equal(iq[3], -2);
}

static void
test_malformed_snd(void **state)
{
	uint8_t		 f[64];
	struct kiwi_snd	 s;
	char		 err[128];

	(void)state;
	memset(f, 0, sizeof f);
	memcpy(f, "SND", 3);
	f[3] = 0x08;
	assert_int_equal(kiwi_parse_snd(f, 2, &s, err, sizeof err), -1);
	assert_int_equal(kiwi_parse_snd(f, 19, &s, err, sizeof err), -1);
	assert_non_null(strstr(err, "too short"));
	assert_int_equal(kiwi_parse_snd(f, 23, &s, err, sizeof err), -1);
	assert_non_null(strstr(err, "partial sample"));
	assert_int_equal(kiwi_parse_snd(f, 20, &s, err, sizeof err), 0);
	assert_int_equal(s.n, 0);
	f[3] = 0x00;				/* not IQ */
	assert_int_equal(kiwi_parse_snd(f, 24, &s, err, sizeof err), -1);
	f[3] = 0x08 | 0x10;			/* IQ but ADPCM */
	assert_int_equal(kiwi_parse_snd(f, 24, &s, err, sizeof err), -1);
	assert_non_null(strstr(err, "ADPCM"));
	memcpy(f, "MSG", 3);
	assert_int_equal(kiwi_parse_snd(f, 24, &s, err, sizeof err), -1);
}

struct kv {
	int	n;
	char	name[8][64];
	char	value[8][128];
};

static void
collect(void *ctx, const char *name, const char *value)
{
	struct kv *kv = ctx;

	if (kv->n < 8) {
		snprintf(kv->name[kv->n], 64, "%s", name);
		snprintf(kv->value[kv->n], 128, "%s", value);
	}
	kv->n++;
}

static void
test_parse_msg(void **state)
{
	const char	*m = " sample_rate=12001.135  audio_init=0\taudio_rate=12000 "
			    "reason_disabled=Down%20for%20maintenance%21 flag "
			    "bad=%zz%4";
	struct kv	 kv = { 0 };
	char		 big[6000];

	(void)state;
	assert_int_equal(kiwi_parse_msg(m, strlen(m), collect, &kv), 0);
	assert_int_equal(kv.n, 6);
	assert_string_equal(kv.name[0], "sample_rate");
	assert_string_equal(kv.value[0], "12001.135");
	assert_string_equal(kv.name[2], "audio_rate");
	assert_string_equal(kv.value[3], "Down for maintenance!");
	assert_string_equal(kv.name[4], "flag");
	assert_string_equal(kv.value[4], "");
	assert_string_equal(kv.value[5], "%zz%4");	/* kept as is */
	memset(big, 'a', sizeof big);
	kv.n = 0;
	assert_int_equal(kiwi_parse_msg(big, sizeof big, collect, &kv), -1);
}

static void
test_url_encode(void **state)
{
	char	out[64];

	(void)state;
	assert_int_equal(kiwi_url_encode("a b%c#\xc3\xa9-_.~Z9", out,
	    sizeof out), 0);
	assert_string_equal(out, "a%20b%25c%23%C3%A9-_.~Z9");
	assert_int_equal(kiwi_url_encode("", out, sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(kiwi_url_encode("abc", out, 4), 0);
	assert_int_equal(kiwi_url_encode("abcd", out, 4), -1);	/* no room */
	assert_int_equal(kiwi_url_encode("a ", out, 4), -1);
}

/*
 * GPS stamps to UTC, exactly to the nanosecond: 2026-11-24T00:00:00Z is
 * GPS week 2446, second 172818 of the week (1795478400 - 315964800 + 18
 * leap seconds); a double of UTC seconds would round the nanoseconds
 * away (~240 ns steps).
 */
static void
test_gps_time(void **state)
{
	const int64_t	 t = INT64_C(1795478400123456789);
	double		 now = 1795478400.0;

	(void)state;
	assert_true(kiwi_gps_to_utc_ns(172818, 123456789, now + 3) == t);
	/* one nanosecond apart is one nanosecond apart */
	assert_true(kiwi_gps_to_utc_ns(172818, 123456790, now) - t == 1);
	assert_true(kiwi_gps_to_utc_ns(172818, 999999999, now) ==
	    INT64_C(1795478400999999999));
	/* our clock off by days: the nearest week still */
	assert_true(kiwi_gps_to_utc_ns(172818, 123456789, now - 3 * 86400) ==
	    t);
	assert_true(kiwi_gps_to_utc_ns(172818, 123456789, now + 3 * 86400) ==
	    t);
	/* a frame stamped just before the week rolled, read just after:
	 * last week's (week 2446 begins 172818 s before t) */
	assert_true(kiwi_gps_to_utc_ns(604799, 500000000, now - 172818 +
	    604800 + 1) == (INT64_C(1795478400) - 172818 + 604799) *
	    INT64_C(1000000000) + 500000000);
	/* and just after it rolled, read just before */
	assert_true(kiwi_gps_to_utc_ns(0, 250000000, now - 172818 + 604800 -
	    1) == (INT64_C(1795478400) - 172818 + 604800) *
	    INT64_C(1000000000) + 250000000);
}

/* The stamp of a whole SND frame: the bytes as the receiver sends them
 * (u8 last_gps_solution, u32 LE gpssec, u32 LE gpsnsec), to the exact
 * nanosecond, and only with a fresh fix and fields in range. */
static void
snd_stamp(uint8_t *f, uint8_t age, uint32_t sec, uint32_t nsec)
{
	int	 i;

	memset(f, 0, 24);
	memcpy(f, "SND", 3);
	f[3] = 0x08;
	f[10] = age;
	for (i = 0; i < 4; i++) {
		f[12 + i] = (uint8_t)(sec >> (8 * i));
		f[16 + i] = (uint8_t)(nsec >> (8 * i));
	}
}

static int64_t
stamp_of(uint8_t age, uint32_t sec, uint32_t nsec)
{
	uint8_t		 f[24];
	struct kiwi_snd	 s;
	char		 err[128];

	snd_stamp(f, age, sec, nsec);
	assert_int_equal(kiwi_parse_snd(f, sizeof f, &s, err, sizeof err), 0);
	assert_int_equal(s.gpssec, sec);
	assert_int_equal(s.gpsnsec, nsec);
	return kiwi_snd_time_ns(&s, 1795478400.5);
}

static void
test_snd_stamp(void **state)
{
	(void)state;
	assert_true(stamp_of(0, 172818, 123456789) ==
	    INT64_C(1795478400123456789));
	assert_true(stamp_of(10, 172818, 1) == INT64_C(1795478400000000001));
	/* no fresh fix: 11 s since the last one, 254 none recently, 255
	 * never had one */
	assert_true(stamp_of(11, 172818, 123456789) == 0);
	assert_true(stamp_of(254, 172818, 123456789) == 0);
	assert_true(stamp_of(255, 172818, 123456789) == 0);
	/* no time yet, or fields out of range */
	assert_true(stamp_of(1, 0, 0) == 0);
	assert_true(stamp_of(1, 172818, 1000000000) == 0);
	assert_true(stamp_of(1, 604800, 0) == 0);
	assert_true(stamp_of(1, UINT32_MAX, UINT32_MAX) == 0);
	/* second 0 of the week is a time */
	assert_true(stamp_of(1, 0, 5) != 0);
}

/* ---- the driver against the simulator ---- */

static void
test_live(void **state)
{
	const char		*specs[] = { "i=1,gpsstale=3",
				    "i=2,fault=badp", "i=3,signal=count",
				    "i=4,fault=stall,after=1",
				    "i=5,fault=busy,times=2", NULL };
	struct probe		 p[5];
	struct rx		*rx[5];
	struct probe_live	 l;
	struct rx_params	 prm = { 10e6, -5000, 5000, 0, "test", 0 };
	char			 err[256];
	int			 i;

	(void)state;
	probe_live_start(&l, "test_kiwi", specs, 5);
	prm.deadline = util_now() + 30;
	for (i = 0; i < 5; i++) {
		struct rx_sink sink;
		probe_init(&p[i], &sink);
		p[i].counting = i == 2;
		rx[i] = kiwi_driver.open(l.loop, &l.st.v[i], &prm, &sink, err,
		    sizeof err);
		assert_non_null(rx[i]);
	}
	sleep(5);
	for (i = 0; i < 5; i++)
		kiwi_driver.close(rx[i]);
	probe_live_stop(&l);

	/* 1: a plain station: ~5 s of samples at its real rate, GPS time */
	assert_int_equal(p[0].state, RX_STREAMING);
	assert_true(fabs(p[0].fs - 12001.137) < 0.001);
	assert_true(p[0].samples > 4 * 12001 && p[0].samples < 5 * 12002);
	assert_true(p[0].gps > 0);
	/* its first 3 stamps are stale: the stream starts on trusted GPS
	 * time (first block), and no stamp passed on jumps */
	assert_int_equal(p[0].gps_nofirst, 0);
	assert_int_equal(p[0].gps_jumps, 0);
	/* 2: bad password: failed with the receiver's reason, no retry */
	assert_int_equal(p[1].state, RX_FAILED);
	assert_non_null(strstr(p[1].reason, "password"));
	assert_int_equal(p[1].samples, 0);
	/* 3: the counting signal arrives whole and in order */
	assert_true(p[2].count_ok > 4 * 12000);
	assert_int_equal(p[2].count_bad, 0);
	assert_true(p[2].gps > 0);			/* odd: GPS */
	assert_int_equal(p[3].gps, 0);			/* even: none */
	/* 4: stalls after 1 s, detected (2 s), reconnects, streams again */
	assert_true(p[3].retries >= 1);
	assert_true(p[3].streams >= 2);
	/* 5: busy twice, then streams */
	assert_true(p[4].retries >= 2);
	assert_int_equal(p[4].state, RX_STREAMING);
	assert_true(p[4].samples > 12000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_snd),
		cmocka_unit_test(test_malformed_snd),
		cmocka_unit_test(test_parse_msg),
		cmocka_unit_test(test_gps_time),
		cmocka_unit_test(test_snd_stamp),
		cmocka_unit_test(test_url_encode),
		cmocka_unit_test(test_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
