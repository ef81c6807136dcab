/* test_probe.c -- the shared reachability probe (src/engine/probe.h): a TCP
 * connect per station, and "reachable" as a session needs it -- in range,
 * answering, and accepting (the receiver's own driver streams), each
 * refusal with its reason. Fake receivers (fakerx.h) behind real listening
 * sockets. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "src/engine/probe.h"
#include "src/engine/session.h"
#include "fakerx.h"
#include "loopsock.h"

static void
test_probe(void **state)
{
	struct fakerx_env	 env;
	struct probe_result	 r[4];
	struct session_params	 p;
	char			 json[2048], want[128];
	int			 up, down, fd;

	(void)state;
	rx_driver_register(&fakerx_driver);
	fd = loopsock(1, &up);
	loopsock(0, &down);
	/* 1 streams; 2 refuses the password; 3 cannot take 25 MHz; 4 does
	 * not answer */
	snprintf(json, sizeof json, "{\"stations\":["
	    "{\"name\":\"Good\",\"type\":\"fake\",\"url\":\"tcp://127.0.0.1:%d\","
	    "\"latitude\":45,\"longitude\":7},"
	    "{\"name\":\"Badp\",\"type\":\"fake\",\"url\":\"tcp://127.0.0.1:%d\","
	    "\"latitude\":45,\"longitude\":7,\"password\":\"fail\"},"
	    "{\"name\":\"Narrow\",\"type\":\"fake\",\"url\":"
	    "\"tcp://127.0.0.1:%d\",\"latitude\":45,\"longitude\":7,"
	    "\"frequency_min_hz\":1000000,\"frequency_max_hz\":20000000},"
	    "{\"name\":\"Gone\",\"type\":\"fake\",\"url\":\"tcp://127.0.0.1:%d\","
	    "\"latitude\":45,\"longitude\":7}]}", up, up, up, down);
	memset(&env, 0, sizeof env);
	fakerx_env_start(&env, "test_probe", json, NULL, NULL);

	/* TCP: three answer */
	assert_int_equal(probe_tcp(&env.st, 1.0, r), 3);
	assert_int_equal(r[0].reachable + r[1].reachable + r[2].reachable, 3);
	assert_int_equal(r[3].reachable, 0);
	snprintf(want, sizeof want, "no answer on 127.0.0.1:%d", down);
	assert_string_equal(r[3].reason, want);
	assert_int_equal(probe_tcp(&env.st, 1.0, NULL), 3);

	/* accepting a 25 MHz session: only the first */
	session_params_init(&p);
	p.freq_hz = 25e6;
	p.low_cut = -5000;
	p.high_cut = 5000;
	assert_int_equal(engine_probe(env.eng, &p, 3.0, r), 1);
	assert_true(r[0].accepting && r[0].reachable);
	assert_string_equal(r[0].reason, "");
	assert_false(r[1].accepting);
	assert_true(r[1].reachable);
	assert_string_equal(r[1].reason, "bad password (badp=1)");
	assert_false(r[2].accepting);
	assert_string_equal(r[2].reason,
	    "left out: 25 MHz is outside its range 1-20 MHz");
	assert_false(r[3].accepting);
	assert_string_equal(r[3].reason, want);
	/* at 10 MHz the third takes it too */
	p.freq_hz = 10e6;
	assert_int_equal(engine_probe(env.eng, &p, 3.0, NULL), 2);

	fakerx_env_stop(&env);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
