/* test_wsserver.c -- the server's pure helpers: --listen parsing and resolving, the loopback rule, constant-time token comparison. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "net/server/wsserver.h"

static void
test_parse_listen(void **state)
{
	char	addr[64], err[256];
	int	port;

	(void)state;
	assert_int_equal(wsserver_parse_listen("127.0.0.1:8001", addr,
	    sizeof addr, &port, err, sizeof err), 0);
	assert_string_equal(addr, "127.0.0.1");
	assert_int_equal(port, 8001);
	assert_int_equal(wsserver_parse_listen("[::1]:0", addr, sizeof addr,
	    &port, err, sizeof err), 0);
	assert_string_equal(addr, "::1");
	assert_int_equal(port, 0);
	assert_int_equal(wsserver_parse_listen("localhost:65535", addr,
	    sizeof addr, &port, err, sizeof err), 0);
	assert_int_equal(port, 65535);
	static const char *bad[] = { "", "127.0.0.1", "127.0.0.1:", ":80",
	    "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:8x", "::1:80",
	    "[::1]80", "[::1", "[]:80" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(wsserver_parse_listen(bad[i], addr,
		    sizeof addr, &port, err, sizeof err), -1);
		assert_non_null(strstr(err, "--listen"));
	}
	/* an address too long for the buffer */
	assert_int_equal(wsserver_parse_listen("aaaaaaaaaaaaaaaa:1", addr, 8,
	    &port, err, sizeof err), -1);
}

static void
test_loopback(void **state)
{
	(void)state;
	assert_true(wsserver_is_loopback("127.0.0.1"));
	assert_true(wsserver_is_loopback("127.9.8.7"));
	assert_true(wsserver_is_loopback("::1"));
	assert_true(wsserver_is_loopback("::ffff:127.0.0.1"));
	/* names are resolved first (wsserver_resolve), never trusted */
	assert_false(wsserver_is_loopback("localhost"));
	assert_false(wsserver_is_loopback("0.0.0.0"));
	assert_false(wsserver_is_loopback("::"));
	assert_false(wsserver_is_loopback("192.168.1.10"));
	assert_false(wsserver_is_loopback("128.0.0.1"));
	assert_false(wsserver_is_loopback("example.org"));
	assert_false(wsserver_is_loopback("localhost.evil.example"));
}

static void
test_resolve(void **state)
{
	struct wsserver_addrs	ad;
	char			err[256], buf[64];
	int			i, loop;

	(void)state;
	assert_int_equal(wsserver_resolve("127.0.0.1:8001", &ad, err,
	    sizeof err), 0);
	assert_int_equal(ad.n, 1);
	assert_true(wsserver_sa_is_loopback((struct sockaddr *)&ad.a[0]));
	wsserver_format_addr((struct sockaddr *)&ad.a[0], buf, sizeof buf);
	assert_string_equal(buf, "127.0.0.1:8001");
	assert_int_equal(wsserver_resolve("[::1]:0", &ad, err, sizeof err), 0);
	assert_int_equal(ad.n, 1);
	wsserver_format_addr((struct sockaddr *)&ad.a[0], buf, sizeof buf);
	assert_string_equal(buf, "[::1]:0");
	assert_int_equal(wsserver_resolve("0.0.0.0:80", &ad, err, sizeof err),
	    0);
	assert_false(wsserver_sa_is_loopback((struct sockaddr *)&ad.a[0]));
	assert_int_equal(wsserver_resolve("[::ffff:127.0.0.2]:1", &ad, err,
	    sizeof err), 0);
	assert_true(wsserver_sa_is_loopback((struct sockaddr *)&ad.a[0]));
	/* a name: every address it resolves to, each a loopback one */
	assert_int_equal(wsserver_resolve("localhost:9", &ad, err, sizeof err),
	    0);
	assert_true(ad.n >= 1);
	for (i = 0, loop = 1; i < ad.n; i++)
		loop &= wsserver_sa_is_loopback((struct sockaddr *)&ad.a[i]);
	assert_true(loop);
	assert_int_equal(wsserver_resolve("no-such-host.invalid:9", &ad, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "--listen"));
	assert_non_null(strstr(err, "no-such-host.invalid"));
}

static void
test_token(void **state)
{
	const char	*s = "0123456789abcdef";

	(void)state;
	assert_true(wsserver_token_equal(s, "0123456789abcdef", 16));
	assert_false(wsserver_token_equal(s, "0123456789abcdeF", 16));
	assert_false(wsserver_token_equal(s, "0123456789abcde", 15));
	assert_false(wsserver_token_equal(s, "0123456789abcdef0", 17));
	/* the secret repeated is not the secret */
	assert_false(wsserver_token_equal(s,
	    "0123456789abcdef0123456789abcdef", 32));
	assert_false(wsserver_token_equal(s, "", 0));
	assert_false(wsserver_token_equal("", "", 0));
	/* length-delimited: bytes after given_len do not count */
	assert_true(wsserver_token_equal(s, "0123456789abcdefXYZ", 16));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
