/* test_rtltcp.c -- rtl_tcp greeting, tuner ranges, commands, decimation
 * factor; the driver against the simulator: tone and SNR after decimation,
 * stale samples dropped, a second client reported busy, stall and
 * reconnect, a tuner that cannot reach 145.5 MHz. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>

#include "probe.h"
#include "net/rx/rtltcp.h"
#include "net/rx/rxloop.h"
#include "src/engine/config.h"
#include "src/base/util.h"

static void
test_header(void **state)
{
	uint8_t			 g[12] = { 'R', 'T', 'L', '0', 0, 0, 0, 5,
				    0, 0, 0, 29 };
	struct rtltcp_hdr	 h;
	char			 err[160];

	(void)state;
	assert_int_equal(rtltcp_parse_header(g, 12, &h, err, sizeof err), 0);
	assert_int_equal(h.tuner, 5);
	assert_int_equal(h.gains, 29);
	assert_int_equal(rtltcp_parse_header(g, 11, &h, err, sizeof err), -1);
	assert_non_null(strstr(err, "short"));
	memcpy(g, "HTTP", 4);
	assert_int_equal(rtltcp_parse_header(g, 12, &h, err, sizeof err), -1);
	assert_non_null(strstr(err, "not an rtl_tcp server"));
	memcpy(g, "RTL0", 4);
	g[8] = 1;	/* 16 million gain steps */
	assert_int_equal(rtltcp_parse_header(g, 12, &h, err, sizeof err), -1);
}

static void
test_tuners(void **state)
{
	const char	*name;
	char		 range[64];

	(void)state;
	assert_int_equal(rtltcp_tuner_covers(5, 145.5e6, &name, range,
	    sizeof range), 1);
	assert_string_equal(name, "R820T");
	assert_int_equal(rtltcp_tuner_covers(4, 145.5e6, &name, range,
	    sizeof range), 0);
	assert_string_equal(name, "FC2580");
	assert_string_equal(range, "146-308, 438-924 MHz");
	/* the E4000's gap */
	assert_int_equal(rtltcp_tuner_covers(1, 1200e6, &name, range,
	    sizeof range), 0);
	assert_int_equal(rtltcp_tuner_covers(1, 145.5e6, &name, range,
	    sizeof range), 1);
	assert_int_equal(rtltcp_tuner_covers(0, 145.5e6, &name, range,
	    sizeof range), -1);
	assert_int_equal(rtltcp_tuner_covers(99, 145.5e6, &name, range,
	    sizeof range), -1);
}

static void
test_commands(void **state)
{
	uint8_t	c[5];

	(void)state;
	rtltcp_command(c, 0x01, 145756000);
	assert_int_equal(c[0], 1);
	/* big-endian */
	assert_int_equal(c[1], 0x08);
	assert_int_equal(c[2], 0xb0);
	assert_int_equal(c[3], 0x0f);
	assert_int_equal(c[4], 0x60);
	/* ~12 kHz for the default +-5 kHz; wider passbands, faster out */
	assert_int_equal(rtltcp_factor(2048000, -5000, 5000), 170);
	assert_int_equal(rtltcp_factor(2048000, 300, 3000), 170);
	assert_int_equal(rtltcp_factor(2048000, -20000, 20000), 42);
}

static void
test_live(void **state)
{
	const char		*specs[] = { "i=1,type=rtl_tcp",
				    "i=2,type=rtl_tcp,fault=busy",
				    "i=3,type=rtl_tcp,fault=stall,after=1",
				    "i=4,type=rtl_tcp,tuner=4",
				    "i=5,type=rtl_tcp,snr=10,offset=-2000", NULL };
	struct probe		 p[6];
	struct rx		*rx[6];
	struct probe_live	 l;
	struct rx_params	 prm = { 145.5e6, -5000, 5000, 0, "test", 0 };
	char			 err[256];
	double			 fs = 2048000.0 / 170, snr;
	int			 i;

	(void)state;
	probe_live_start(&l, "test_rtltcp", specs, 5);
	prm.deadline = util_now() + 60;
	for (i = 0; i < 6; i++) {
		struct rx_sink sink;
		probe_init(&p[i], &sink);
		/* the 6th: a second client of station 1 */
		rx[i] = rtltcp_driver.open(l.loop, &l.st.v[i < 5 ? i : 0], &prm,
		    &sink, err, sizeof err);
		assert_non_null(rx[i]);
		if (i == 0)
			usleep(300000);	/* station 1 is ours first */
	}
	sleep(9);
	for (i = 0; i < 6; i++)
		rtltcp_driver.close(rx[i]);
	probe_live_stop(&l);

	for (i = 0; i < 6; i++)
		printf("# %d: %s (%s) streams %d samples %zu peak %d tone "
		    "%.1f Hz\n", i + 1, rx_state_name(p[i].state),
		    p[i].reasons, p[i].streams, p[i].samples, p[i].peak,
		    p[i].fs > 0 ? probe_tone_hz(&p[i]) : 0);
	/* 1: decimated to ~12 kHz, ~9 s of it, the tone where it belongs
	 * (center + 500 + 250 k Hz), and none of the stale full-scale noise
	 * the simulator sends before and just after the retune (it would
	 * reach peaks of ~5000 after the filter; the tone+noise stays
	 * under ~1100) */
	assert_int_equal(p[0].state, RX_STREAMING);
	assert_int_equal(p[0].streams, 1);
	assert_true(fabs(p[0].fs - fs) < 1e-6);
	assert_true(p[0].samples > 8 * fs && p[0].samples < 9.3 * fs);
	assert_true(p[0].peak < 2000);
	/* (the mean phase step leans a little towards 0 Hz: the filtered
	 * noise's own lag-1 correlation; the engine's FFT metric is exact) */
	assert_true(fabs(probe_tone_hz(&p[0]) - 750) < 3.0);
	/* 2: someone else holds the dongle: busy, retried */
	assert_int_equal(p[1].samples, 0);
	assert_true(p[1].retries >= 1);
	assert_non_null(strstr(p[1].reasons, "busy"));
	/* 3: stalls after 1 s, detected, the server ends its session after
	 * 5 s, the reconnect streams again */
	assert_true(p[2].retries >= 1);
	assert_non_null(strstr(p[2].reasons, "no samples"));
	assert_true(p[2].streams >= 2);
	assert_int_equal(p[2].state, RX_STREAMING);
	/* 4: an FC2580 cannot tune 145.5 MHz: failed, said so, no retry */
	assert_int_equal(p[3].state, RX_FAILED);
	assert_non_null(strstr(p[3].reason, "FC2580"));
	assert_non_null(strstr(p[3].reason, "outside"));
	assert_int_equal(p[3].retries, 0);
	/* 5: SNR 10 dB over +-5 kHz: total power = noise (1e-3 over the
	 * device rate, fs/2.048e6 of it kept) + tone (10 x the noise in
	 * 10 kHz) */
	snr = p[4].power / (double)p[4].samples;
	{
		double noise = 1e-3 * fs / 2048000.0;
		double tone = 10 * 1e-3 * 10000 / 2048000.0;
		assert_true(fabs(10 * log10(snr / (noise + tone))) < 0.5);
	}
	assert_true(fabs(probe_tone_hz(&p[4]) + 2000) < 15.0);
	/* 6: the second client of station 1 while the first streams */
	assert_int_equal(p[5].samples, 0);
	assert_non_null(strstr(p[5].reasons, "busy"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_tuners),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
