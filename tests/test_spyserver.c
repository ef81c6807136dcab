/* test_spyserver.c -- SpyServer header, device info, sync parsing, stage
 * choice, commands; the driver against the simulator: IQ and tone, stage
 * rate, sequence gaps counted, no device, full server, CanControl = 0
 * inside and outside its IQ range, a frequency outside the device. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>

#include "probe.h"
#include "net/rx/spyserver.h"
#include "net/rx/rxloop.h"
#include "src/engine/config.h"
#include "src/base/util.h"

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void
test_parsers(void **state)
{
	uint8_t			 b[48];
	struct spy_hdr		 h;
	struct spy_devinfo	 d;
	struct spy_sync		 s;
	char			 err[160];
	uint32_t		 v[12] = { 1, 77, 6000000, 5000000, 9, 21, 21,
				    24000000, 1800000000u, 12, 0, 0 };
	int			 i;

	(void)state;
	put32(b, SPY_PROTOCOL);
	put32(b + 4, 101 | 5u << 16);
	put32(b + 8, 1);
	put32(b + 12, 42);
	put32(b + 16, 4096);
	assert_int_equal(spy_parse_header(b, &h, err, sizeof err), 0);
	assert_int_equal(h.type & 0xffff, 101);
	assert_int_equal(h.seq, 42);
	assert_int_equal(h.size, 4096);
	put32(b + 16, SPY_MAX_BODY + 1);
	assert_int_equal(spy_parse_header(b, &h, err, sizeof err), -1);
	assert_non_null(strstr(err, "bytes"));
	put32(b, 0x48545450);	/* "PTTH": not a SpyServer */
	assert_int_equal(spy_parse_header(b, &h, err, sizeof err), -1);
	assert_non_null(strstr(err, "not a SpyServer"));

	for (i = 0; i < 12; i++)
		put32(b + 4 * i, v[i]);
	assert_int_equal(spy_parse_devinfo(b, 48, &d, err, sizeof err), 0);
	assert_int_equal(d.max_rate, 6000000);
	assert_int_equal(d.stages, 9);
	assert_int_equal(d.max_freq, 1800000000u);
	assert_int_equal(spy_parse_devinfo(b, 47, &d, err, sizeof err), -1);
	/* ~12 kHz wanted: 6 MS/s / 2^8 = 23437.5 is the slowest >= 12000 */
	assert_int_equal(spy_pick_stage(&d, -5000, 5000), 8);
	/* +-20 kHz needs 48 kHz: 2^6 (93750) */
	assert_int_equal(spy_pick_stage(&d, -20000, 20000), 6);
	d.min_decim = 9;	/* nothing allowed fits */
	assert_int_equal(spy_pick_stage(&d, -5000, 5000), -1);
	put32(b + 32, 1000);	/* min > max */
	assert_int_equal(spy_parse_devinfo(b, 48, &d, err, sizeof err), -1);

	for (i = 0; i < 9; i++)
		put32(b + 4 * i, (uint32_t)i + 1);
	assert_int_equal(spy_parse_sync(b, 36, &s, err, sizeof err), 0);
	assert_int_equal(s.can_control, 1);
	assert_int_equal(s.iq_center, 4);
	assert_int_equal(s.max_iq, 7);
	assert_int_equal(spy_parse_sync(b, 35, &s, err, sizeof err), -1);
}

static void
test_commands(void **state)
{
	uint8_t	b[64];

	(void)state;
	assert_int_equal(spy_setting(b, 101, 145500000), 16);
	assert_int_equal(b[0], 2);	/* SET_SETTING */
	assert_int_equal(b[4], 8);	/* body size */
	assert_int_equal(b[8], 101);
	assert_int_equal(b[12], 0x60);	/* 145500000 = 0x08AC2760, LE */
	assert_int_equal(b[13], 0x27);
	assert_int_equal(b[14], 0xac);
	assert_int_equal(b[15], 0x08);
}

static void
test_live(void **state)
{
	const char		*specs[] = { "i=1,type=spyserver",
				    "i=2,type=spyserver,fault=gap",
				    "i=3,type=spyserver,fault=nodevice",
				    "i=4,type=spyserver,fault=full",
				    "i=5,type=spyserver,fault=cancontrol0",
				    "i=6,type=spyserver,fault=cancontrol0,"
				    "dev=433920000",
				    "i=7,type=spyserver,fault=stall,after=1",
				    "i=8,type=spyserver,forced=1",
				    "i=9,type=spyserver,forced=4",
				    NULL };
	struct probe		 p[10];
	struct rx		*rx[10];
	struct probe_live	 l;
	struct rx_params	 prm = { 145.5e6, -5000, 5000, 0, "test", 0 };
	struct rx_params	 far = { 2.4e9, -5000, 5000, 0, "test", 0 };
	char			 err[256];
	int			 i;

	(void)state;
	probe_live_start(&l, "test_spy", specs, 9);
	prm.deadline = far.deadline = util_now() + 60;
	for (i = 0; i < 10; i++) {
		struct rx_sink sink;
		/* rx 8 (i = 7): station 1 again, 2.4 GHz (beyond the
		 * device); rx 9, 10: stations 8, 9 */
		int k = i < 7 ? i : i == 7 ? 0 : i - 1;
		probe_init(&p[i], &sink);
		rx[i] = spyserver_driver.open(l.loop, &l.st.v[k],
		    i == 7 ? &far : &prm, &sink, err, sizeof err);
		assert_non_null(rx[i]);
	}
	sleep(6);
	for (i = 0; i < 10; i++)
		spyserver_driver.close(rx[i]);
	probe_live_stop(&l);

	for (i = 0; i < 10; i++)
		printf("# %d: %s (%s) streams %d samples %zu lost %zu tone "
		    "%.1f Hz\n", i + 1, rx_state_name(p[i].state),
		    p[i].reasons, p[i].streams, p[i].samples, p[i].lost,
		    p[i].fs > 0 ? probe_tone_hz(&p[i]) : 0);
	/* 1: stage 8 of 6 MS/s, ~6 s of it, the tone at +750 Hz */
	assert_int_equal(p[0].state, RX_STREAMING);
	assert_true(fabs(p[0].fs - 23437.5) < 1e-9);
	assert_true(p[0].samples > 5 * 23437 && p[0].samples < 6.2 * 23437);
	assert_int_equal(p[0].lost, 0);
	assert_true(fabs(probe_tone_hz(&p[0]) - 750) < 3);
	/* 2: every 10th message missing: counted, 1024 samples each */
	assert_int_equal(p[1].state, RX_STREAMING);
	assert_true(p[1].lost > 0 && p[1].lost % 1024 == 0);
	assert_true(fabs((double)p[1].lost / (p[1].lost + p[1].samples) -
	    0.1) < 0.02);
	/* 3: no device: said so, retried */
	assert_int_equal(p[2].samples, 0);
	assert_non_null(strstr(p[2].reasons, "no device"));
	assert_true(p[2].retries >= 1);
	/* 4: full: EOF after HELLO */
	assert_int_equal(p[3].samples, 0);
	assert_non_null(strstr(p[3].reasons, "after HELLO"));
	/* 5: CanControl = 0 but 145.5 MHz inside its IQ range: streams */
	assert_int_equal(p[4].state, RX_STREAMING);
	assert_true(fabs(probe_tone_hz(&p[4]) - 1750) < 3);
	/* 6: CanControl = 0, device at 433.92 MHz: failed, clearly */
	assert_int_equal(p[5].state, RX_FAILED);
	assert_non_null(strstr(p[5].reason, "CanControl = 0"));
	assert_non_null(strstr(p[5].reason, "outside"));
	assert_int_equal(p[5].retries, 0);
	/* 7: stall detected, reconnected, streaming again */
	assert_non_null(strstr(p[6].reasons, "no IQ"));
	assert_true(p[6].streams >= 2);
	assert_int_equal(p[6].state, RX_STREAMING);
	/* 8: 2.4 GHz is beyond the device */
	assert_int_equal(p[7].state, RX_FAILED);
	assert_non_null(strstr(p[7].reason, "outside the SpyServer device"));
	/* 9, 10: the server forces uint8 / float32 IQ: read as such, the
	 * tone where it belongs (+2500 / +2750 Hz), at full scale 1 (the
	 * noise's power 1e-4 plus the tone) */
	for (i = 8; i < 10; i++) {
		double pw = p[i].power / (double)p[i].samples;
		double want = 1e-4 + pow(10, 2.0) * 1e-4 * 10000 / 23437.5;
		assert_int_equal(p[i].state, RX_STREAMING);
		assert_true(p[i].samples > 5 * 23437);
		assert_true(fabs(probe_tone_hz(&p[i]) - (500 + 250 * i)) < 5);
		printf("# %d: power %.2f dB from the truth\n", i + 1,
		    10 * log10(pw / want));
		assert_true(fabs(10 * log10(pw / want)) < 0.6);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
