/* test_config.c -- the stations file: parsing, validation, ranges, paths. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/engine/config.h"

static const char *example =
    "{\"stations\":[{\"name\":\"Torino\",\"type\":\"kiwisdr\","
    "\"url\":\"http://127.0.0.1:18073\",\"latitude\":45.044,"
    "\"longitude\":7.672,\"altitude\":287.5,\"password\":\"\","
    "\"frequency_min_hz\":0,"
    "\"frequency_max_hz\":30000000},"
    "{\"name\":\"Genova\",\"type\":\"kiwisdr\",\"url\":\"https://[::1]/kiwi/\","
    "\"latitude\":44.395,\"longitude\":8.956}]}";

static void
test_parse(void **state)
{
	struct stations	 s;
	char		 err[512];

	(void)state;
	assert_int_equal(config_parse_stations(example, strlen(example), &s,
	    err, sizeof err), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.v[0].index, 1);
	assert_string_equal(s.v[0].name, "Torino");
	assert_string_equal(s.v[0].host, "127.0.0.1");
	assert_int_equal(s.v[0].port, 18073);
	assert_string_equal(s.v[0].path, "");
	assert_int_equal(s.v[0].tls, 0);
	assert_true(s.v[0].freq_max_hz == 30e6);
	/* altitude: given for the first (m above the WGS84 ellipsoid),
	 * unknown for the second */
	assert_int_equal(s.v[0].has_altitude, 1);
	assert_true(s.v[0].altitude == 287.5);
	assert_int_equal(s.v[1].has_altitude, 0);
	assert_int_equal(s.v[1].index, 2);
	assert_string_equal(s.v[1].host, "::1");
	assert_int_equal(s.v[1].port, 443);
	assert_int_equal(s.v[1].tls, 1);
	assert_string_equal(s.v[1].path, "/kiwi");
	/* range defaults to the driver's (KiwiSDR: 0-30 MHz) */
	assert_true(s.v[1].freq_max_hz >= 29.9e6);

	config_free_stations(&s);
}

static void
expect_error(const char *json, const char *needle)
{
	struct stations	 s;
	char		 err[512] = "";

	assert_int_equal(config_parse_stations(json, strlen(json), &s, err,
	    sizeof err), -1);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, needle);
	assert_null(s.v);
}

static void
test_errors(void **state)
{
	(void)state;
	expect_error("{", "line 1");
	expect_error("[]", "stations");
	expect_error("{\"stations\":[]}", "no stations");
	expect_error("{\"stations\":[1]}", "station 1");
	expect_error("{\"stations\":[{\"type\":\"kiwisdr\",\"url\":\"http://a:1\","
	    "\"latitude\":1,\"longitude\":2}]}", "\"name\" is missing");
	expect_error("{\"stations\":[{\"name\":\"A\",\"type\":\"nope\","
	    "\"url\":\"http://a:1\",\"latitude\":1,\"longitude\":2}]}",
	    "unknown receiver type");
	expect_error("{\"stations\":[{\"name\":\"A\",\"type\":\"kiwisdr\","
	    "\"url\":\"ftp://a\",\"latitude\":1,\"longitude\":2}]}", "url");
	expect_error("{\"stations\":[{\"name\":\"A\",\"type\":\"kiwisdr\","
	    "\"url\":\"http://a:99999\",\"latitude\":1,\"longitude\":2}]}",
	    "not a valid");
	expect_error("{\"stations\":[{\"name\":\"A\",\"type\":\"kiwisdr\","
	    "\"url\":\"http://a:1\",\"latitude\":91,\"longitude\":2}]}",
	    "latitude");
	expect_error("{\"stations\":[{\"name\":\"A\",\"type\":\"kiwisdr\","
	    "\"url\":\"http://a:1\",\"latitude\":1,\"longitude\":\"x\"}]}",
	    "must be a number");
	expect_error("{\"stations\":[{\"name\":\"A\",\"type\":\"kiwisdr\","
	    "\"url\":\"http://a:1\",\"latitude\":1,\"longitude\":2,"
	    "\"frequency_min_hz\":10,\"frequency_max_hz\":5}]}", "above");
	expect_error("{\"stations\":[{\"name\":\"A\",\"type\":\"kiwisdr\","
	    "\"url\":\"http://a:1\",\"latitude\":1,\"longitude\":2,"
	    "\"colour\":1}]}", "unknown field \"colour\"");
	expect_error("{\"stations\":[{\"name\":\"A\",\"type\":\"kiwisdr\","
	    "\"url\":\"http://a:1\",\"latitude\":1,\"longitude\":2},"
	    "{\"name\":\"A\",\"type\":\"kiwisdr\",\"url\":\"http://b:1\","
	    "\"latitude\":1,\"longitude\":2}]}", "same name");
	expect_error("{\"stations\":[{\"name\":\"A\",\"name\":\"B\"}]}",
	    "duplicate");
	/* altitude: a number of metres within -500..9000 */
	expect_error("{\"stations\":[{\"name\":\"A\",\"type\":\"kiwisdr\","
	    "\"url\":\"http://a:1\",\"latitude\":1,\"longitude\":2,"
	    "\"altitude\":9001}]}", "station 1 (A): \"altitude\" must be from "
	    "-500 to 9000 (got 9001)");
	expect_error("{\"stations\":[{\"name\":\"A\",\"type\":\"kiwisdr\","
	    "\"url\":\"http://a:1\",\"latitude\":1,\"longitude\":2,"
	    "\"altitude\":-501}]}", "\"altitude\" must be from -500 to 9000");
	expect_error("{\"stations\":[{\"name\":\"A\",\"type\":\"kiwisdr\","
	    "\"url\":\"http://a:1\",\"latitude\":1,\"longitude\":2,"
	    "\"altitude\":\"300 m\"}]}", "\"altitude\" must be a number");
}

static void
test_file_and_paths(void **state)
{
	struct stations	 s;
	char		 path[] = "/tmp/test_config_XXXXXX", err[512], buf[512];
	int		 fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, example, strlen(example)),
	    (ssize_t)strlen(example));
	close(fd);
	assert_int_equal(config_load_stations(path, &s, err, sizeof err), 0);
	assert_int_equal(s.n, 2);
	config_free_stations(&s);
	unlink(path);
	assert_int_equal(config_load_stations(path, &s, err, sizeof err), -1);
	assert_non_null(strstr(err, path));

	setenv("XDG_CONFIG_HOME", "/etc/xdgtest", 1);
	assert_int_equal(config_default_stations_path(buf, sizeof buf), 0);
	assert_string_equal(buf, "/etc/xdgtest/heimdall-rec/stations.json");
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/home/op", 1);
	assert_int_equal(config_default_stations_path(buf, sizeof buf), 0);
	assert_string_equal(buf, "/home/op/.config/heimdall-rec/stations.json");
	unsetenv("XDG_DATA_HOME");
	assert_int_equal(config_default_data_dir(buf, sizeof buf), 0);
	assert_string_equal(buf, "/home/op/.local/share/heimdall-rec");
}

/* The 2 m band types and the audio fields of OpenWebRX stations. */
static void
test_radio_types(void **state)
{
	const char *ok =
	    "{\"stations\":[{\"name\":\"R\",\"type\":\"rtl_tcp\","
	    "\"url\":\"tcp://127.0.0.1:1234\",\"latitude\":45,"
	    "\"longitude\":7},{\"name\":\"S\",\"type\":\"spyserver\","
	    "\"url\":\"tcp://[::1]:5555\",\"latitude\":45,\"longitude\":7},"
	    "{\"name\":\"O\",\"type\":\"openwebrx\",\"url\":"
	    "\"https://h.example/owrx/\",\"latitude\":45,\"longitude\":7,"
	    "\"mode\":\"nfm\",\"low_cut\":-4000,\"high_cut\":4000}]}";
	const char *bad[][2] = {
		{ "\"mode\":\"iq\"", "\"mode\" must be" },
		{ "\"low_cut\":300", "go together" },
		{ "\"low_cut\":3000,\"high_cut\":300", "below" },
		{ "\"low_cut\":0.5,\"high_cut\":300", "whole number" },
		{ "\"low_cut\":0,\"high_cut\":90000", "high_cut" },
	};
	struct stations	 s;
	char		 err[512], json[800];
	size_t		 i;

	(void)state;
	assert_int_equal(config_parse_stations(ok, strlen(ok), &s, err,
	    sizeof err), 0);
	assert_int_equal(s.v[0].port, 1234);
	assert_true(s.v[0].freq_min_hz == 24e6 && s.v[0].freq_max_hz ==
	    1766e6);
	assert_string_equal(s.v[1].host, "::1");
	assert_int_equal(s.v[2].tls, 1);
	assert_string_equal(s.v[2].path, "/owrx");
	assert_string_equal(s.v[2].mode, "nfm");
	assert_int_equal(s.v[2].has_cut, 1);
	assert_int_equal(s.v[2].low_cut, -4000);
	assert_int_equal(s.v[2].high_cut, 4000);
	assert_int_equal(s.v[0].has_cut, 0);
	config_free_stations(&s);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(json, sizeof json, "{\"stations\":[{\"name\":\"O\","
		    "\"type\":\"openwebrx\",\"url\":\"http://h:8073\","
		    "\"latitude\":45,\"longitude\":7,%s}]}", bad[i][0]);
		assert_int_equal(config_parse_stations(json, strlen(json), &s,
		    err, sizeof err), -1);
		if (strstr(err, bad[i][1]) == NULL)
			fail_msg("error \"%s\" lacks \"%s\"", err, bad[i][1]);
		assert_non_null(strstr(err, "station 1 (O)"));
	}
}

/* kiwiwav stations (recordings for import) are file:///absolute/path;
 * file:// belongs to them only. */
static void
test_file_urls(void **state)
{
	const char *bad[][3] = {
		{ "kiwiwav", "http://h:8073", "a kiwiwav station is a file" },
		{ "kiwisdr", "file:///x.wav", "file:// is for kiwiwav" },
		{ "kiwiwav", "file://x.wav", "file:///absolute/path" },
		{ "kiwiwav", "file://host/x.wav", "file:///absolute/path" },
		{ "kiwiwav", "file://", "file:///absolute/path" },
		{ "kiwiwav", "file:///a\tb.wav", "control character" },
	};
	struct stations	 s;
	char		 err[512], json[1200], longp[400];
	size_t		 i;

	(void)state;
	snprintf(json, sizeof json, "{\"stations\":[{\"name\":\"W\","
	    "\"type\":\"kiwiwav\",\"url\":\"file:///data/a b_iq.wav\","
	    "\"latitude\":45,\"longitude\":7},{\"name\":\"L\","
	    "\"type\":\"kiwiwav\",\"url\":\"file://localhost/x.wav\","
	    "\"latitude\":45,\"longitude\":7}]}");
	assert_int_equal(config_parse_stations(json, strlen(json), &s, err,
	    sizeof err), 0);
	assert_string_equal(s.v[0].path, "/data/a b_iq.wav");
	assert_string_equal(s.v[0].host, "");
	assert_string_equal(s.v[1].path, "/x.wav");
	assert_true(s.v[0].freq_max_hz == 30e6);
	config_free_stations(&s);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(json, sizeof json, "{\"stations\":[{\"name\":\"W\","
		    "\"type\":\"%s\",\"url\":\"%s\",\"latitude\":45,"
		    "\"longitude\":7}]}", bad[i][0], bad[i][1]);
		assert_int_equal(config_parse_stations(json, strlen(json), &s,
		    err, sizeof err), -1);
		if (strstr(err, bad[i][2]) == NULL)
			fail_msg("error \"%s\" lacks \"%s\"", err, bad[i][2]);
	}
	/* a path longer than a station keeps */
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	snprintf(json, sizeof json, "{\"stations\":[{\"name\":\"W\","
	    "\"type\":\"kiwiwav\",\"url\":\"file:///%s\",\"latitude\":45,"
	    "\"longitude\":7}]}", longp);
	assert_int_equal(config_parse_stations(json, strlen(json), &s, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "at most 255 bytes"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_file_and_paths),
		cmocka_unit_test(test_radio_types),
		cmocka_unit_test(test_file_urls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
