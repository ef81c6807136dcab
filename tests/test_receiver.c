/* test_receiver.c -- the driver table: the built-in KiwiSDR driver, registration of more, state names, the built-in drivers' protocols served by the loop; the drivers' shared helpers. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <libwebsockets.h>

#include "net/rx/kiwi.h"
#include "net/rx/receiver.h"
#include "net/rx/rxloop.h"
#include "src/base/util.h"

static const struct rx_driver fake = { "fake", 0, 1e9, NULL, NULL };

static void
test_table(void **state)
{
	static struct rx_driver	 many[32];
	static char		 names[32][16];
	int			 i, added = 0;

	(void)state;
	assert_ptr_equal(rx_driver_find("kiwisdr"), &kiwi_driver);
	assert_null(rx_driver_find("KiwiSDR"));		/* exact type */
	assert_null(rx_driver_find("fake"));
	assert_int_equal(rx_driver_register(&fake), 0);
	assert_ptr_equal(rx_driver_find("fake"), &fake);
	assert_int_equal(rx_driver_register(&fake), -1);	/* twice */
	/* the table is bounded: registering stops with -1, never overflows */
	for (i = 0; i < 32; i++) {
		snprintf(names[i], sizeof names[i], "d%d", i);
		many[i] = fake;
		many[i].type = names[i];
		if (rx_driver_register(&many[i]) == 0)
			added++;
		else
			break;
	}
	assert_true(i < 32);
	assert_true(added > 0);
	assert_ptr_equal(rx_driver_find("d0"), &many[0]);
	assert_ptr_equal(rx_driver_find("kiwisdr"), &kiwi_driver);
}

static void
test_state_names(void **state)
{
	const char	*n[5];
	int		 i, j;

	(void)state;
	n[0] = rx_state_name(RX_CONNECTING);
	n[1] = rx_state_name(RX_STREAMING);
	n[2] = rx_state_name(RX_RETRYING);
	n[3] = rx_state_name(RX_FAILED);
	n[4] = rx_state_name(RX_STOPPED);
	assert_string_equal(n[1], "streaming");
	assert_string_equal(n[3], "failed");
	for (i = 0; i < 5; i++)
		for (j = i + 1; j < 5; j++)
			assert_string_not_equal(n[i], n[j]);
	assert_string_equal(rx_state_name((enum rx_state)99), "unknown");
}

struct served {
	struct rxloop	*loop;
	const char	*name;
	int		 found;
};

static void
find_protocol(void *arg)
{
	struct served	 *s = arg;
	struct lws_vhost *vh = lws_get_vhost_by_name(rxloop_context(s->loop),
			    "default");

	s->found = vh != NULL && lws_vhost_name_to_protocol(vh, s->name) !=
	    NULL;
}

/* The drivers hand the loop their protocols themselves (RXLOOP_PROTOCOL):
 * a loop serves every one the built-in drivers need, though rxloop.c
 * names none of them. */
static void
test_protocols(void **state)
{
	const char	*need[] = { "wsc", "rawtcp", "openwebrx" };
	struct served	 s;
	char		 err[128];
	size_t		 i;

	(void)state;
	s.loop = rxloop_new(0, err, sizeof err);
	assert_non_null(s.loop);
	for (i = 0; i < sizeof need / sizeof need[0]; i++) {
		s.name = need[i];
		s.found = 0;
		assert_int_equal(rxloop_call_wait(s.loop, find_protocol, &s),
		    0);
		if (!s.found)
			fail_msg("the loop does not serve \"%s\"", need[i]);
	}
	s.name = "no-such-protocol";
	assert_int_equal(rxloop_call_wait(s.loop, find_protocol, &s), 0);
	assert_false(s.found);
	rxloop_free(s.loop);
}

/* Numeric hosts resolve without DNS; the address is left as text. */
static void
test_resolve(void **state)
{
	char	 addr[64], err[200];

	(void)state;
	assert_int_equal(rx_resolve("127.0.0.1", addr, sizeof addr, err,
	    sizeof err), 0);
	assert_string_equal(addr, "127.0.0.1");
	assert_int_equal(rx_resolve("::1", addr, sizeof addr, err,
	    sizeof err), 0);
	assert_string_equal(addr, "::1");
	err[0] = '\0';
	assert_int_equal(rx_resolve("", addr, sizeof addr, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "cannot resolve"));
}

/* Reasons quote receivers: always valid UTF-8, never a cut character. */
static void
test_reason(void **state)
{
	char	buf[RX_REASON_MAX + 1], in[400];
	size_t	i;

	(void)state;
	assert_string_equal(rx_reason("too_busy", buf), "too_busy");
	assert_string_equal(rx_reason("bad \xff\xfe name \xc3", buf),
	    "bad ?? name ?");
	assert_string_equal(rx_reason(NULL, buf), "");
	/* RX_REASON_MAX - 1 ASCII bytes, then a 2-byte character across the
	 * limit: cut before it, not in it */
	memset(in, 'a', RX_REASON_MAX - 1);
	strcpy(in + RX_REASON_MAX - 1, "\xc3\xa8xyz");
	rx_reason(in, buf);
	assert_int_equal(strlen(buf), RX_REASON_MAX - 1);
	assert_true(util_utf8_valid(buf, strlen(buf)));
	/* a whole character at the end is kept */
	memset(in, 'a', RX_REASON_MAX - 2);
	strcpy(in + RX_REASON_MAX - 2, "\xc3\xa8xyz");
	rx_reason(in, buf);
	assert_int_equal(strlen(buf), RX_REASON_MAX);
	assert_string_equal(buf + RX_REASON_MAX - 2, "\xc3\xa8");
	/* a long run of 3- and 4-byte characters: valid at every length */
	for (i = 0; i + 7 < sizeof in; i += 7)
		memcpy(in + i, "\xe2\x82\xac\xf0\x9f\x93\xa1", 7);
	in[i] = '\0';
	rx_reason(in, buf);
	assert_true(strlen(buf) <= RX_REASON_MAX &&
	    strlen(buf) >= RX_REASON_MAX - 3);
	assert_true(util_utf8_valid(buf, strlen(buf)));
	assert_null(strchr(buf, '?'));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_protocols),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
