/* test_monitor.c -- /metrics and the status line from engine events (net/server/monitor.c). */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "net/server/monitor.h"
#include "src/base/station.h"

static struct station	sv[3];
static struct stations	st3 = { sv, 3 };

static int
setup(void **state)
{
	(void)state;
	memset(sv, 0, sizeof sv);
	for (int i = 0; i < 3; i++) {
		sv[i].index = i + 1;
		snprintf(sv[i].name, sizeof sv[i].name, "Sim %d", i + 1);
	}
	/* a name the format must escape */
	snprintf(sv[2].name, sizeof sv[2].name, "Say \"hi\" \\ now");
	return 0;
}

static void
ev(struct monitor *m, const char *name, const char *data)
{
	json_error_t	 e;
	json_t		*d = json_loads(data, 0, &e);

	assert_non_null(d);
	monitor_event(m, name, d);
	json_decref(d);
}

static char *
render(struct monitor *m, const json_t *central)
{
	struct monitor_scrape	 sc = { 2, 1024, 5, central };
	size_t			 len = 0;
	char			*s = monitor_render(m, &sc, &len);

	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	return s;
}

/* The line "sample value" is in the text, whole. */
static void
has(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p++;
	}
	fail_msg("no line \"%s\" in:\n%s", line, text);
}

static void
test_label(void **state)
{
	char	b[64];

	(void)state;
	assert_string_equal(monitor_label("plain", b, sizeof b), "plain");
	assert_string_equal(monitor_label("a\"b\\c\nd", b, sizeof b),
	    "a\\\"b\\\\c\\nd");
	/* invalid UTF-8: each stray byte becomes '?' */
	assert_string_equal(monitor_label("x\xff\xc3y", b, sizeof b), "x??y");
	/* valid multibyte text passes */
	assert_string_equal(monitor_label("Aosta \xe2\x80\x93 N", b, sizeof b),
	    "Aosta \xe2\x80\x93 N");
	/* cut to whole characters and whole escapes */
	assert_string_equal(monitor_label("ab\xe2\x80\x93", b, 5), "ab");
	assert_string_equal(monitor_label("abc\"", b, 5), "abc");
	assert_string_equal(monitor_label(NULL, b, sizeof b), "");
}

static void
test_initial(void **state)
{
	struct monitor	*m = monitor_new(&st3);
	char		*s, line[MONITOR_STATUS_MAX];

	(void)state;
	s = render(m, NULL);
	has(s, "heimdall_receivers_configured 3");
	has(s, "heimdall_receivers{state=\"idle\"} 3");
	has(s, "heimdall_receivers{state=\"streaming\"} 0");
	/* every station has its counters from the start */
	has(s, "heimdall_chunks_stored_total{websdr=\"1\",station=\"Sim 1\"} 0");
	has(s, "heimdall_chunks_missing_total{websdr=\"3\",station="
	    "\"Say \\\"hi\\\" \\\\ now\"} 0");
	/* no SNR before a chunk */
	assert_null(strstr(s, "heimdall_chunk_snr_db{"));
	has(s, "heimdall_sessions{state=\"acquiring\"} 0");
	has(s, "heimdall_replication_enabled 0");
	assert_null(strstr(s, "heimdall_replication_backlog_rows"));
	has(s, "heimdall_ws_clients 2");
	has(s, "heimdall_ws_clients_max 1024");
	has(s, "heimdall_ws_clients_dropped_total 5");
	has(s, "# TYPE process_cpu_seconds_total counter");
	assert_non_null(strstr(s, "\nprocess_resident_memory_bytes "));
	assert_non_null(strstr(s, "\nprocess_start_time_seconds "));
	free(s);
	monitor_status(m, line, sizeof line);
	assert_string_equal(line, "idle, 3 receivers");
	monitor_free(m);
}

static void
test_session(void **state)
{
	struct monitor	*m = monitor_new(&st3);
	char		*s, line[MONITOR_STATUS_MAX];
	const char	*id = "11111111-2222-3333-4444-555555555555";
	char		 d[512];

	(void)state;
	snprintf(d, sizeof d, "{\"session_id\":\"%s\",\"session_name\":\"N 1\","
	    "\"status\":\"recording\"}", id);
	ev(m, "session:status_update", d);
	monitor_status(m, line, sizeof line);
	assert_string_equal(line, "idle, 3 receivers, 1 open");
	s = render(m, NULL);
	has(s, "heimdall_sessions{state=\"recording\"} 1");
	free(s);

	snprintf(d, sizeof d, "{\"session_id\":\"%s\",\"session_name\":\"N 1\","
	    "\"status\":\"in_progress\",\"queue_position\":0}", id);
	ev(m, "session:status_update", d);
	monitor_status(m, line, sizeof line);
	assert_string_equal(line, "acquiring \"N 1\" (starting, 0 of 3 "
	    "receivers streaming)");
	snprintf(d, sizeof d, "{\"session_id\":\"%s\",\"websdr\":1,\"station\":"
	    "\"Sim 1\",\"state\":\"streaming\",\"reason\":\"streaming\"}", id);
	ev(m, "receiver:status", d);
	snprintf(d, sizeof d, "{\"session_id\":\"%s\",\"websdr\":2,\"state\":"
	    "\"retrying\",\"reason\":\"connection reset\"}", id);
	ev(m, "receiver:status", d);
	/* a fatal end, twice with the same reason, once with another */
	for (int i = 0; i < 3; i++) {
		snprintf(d, sizeof d, "{\"session_id\":\"%s\",\"websdr\":3,"
		    "\"state\":\"failed\",\"reason\":\"%s\"}", id,
		    i < 2 ? "bad \\\"password\\\"" : "busy");
		ev(m, "receiver:status", d);
	}
	snprintf(d, sizeof d, "{\"session_id\":\"%s\",\"chunk\":1,"
	    "\"total_chunks\":5}", id);
	ev(m, "session:progress", d);
	monitor_status(m, line, sizeof line);
	assert_string_equal(line, "acquiring \"N 1\" (chunk 1/5, 1 of 3 "
	    "receivers streaming)");
	ev(m, "session:measurement", "{\"websdr\":1,\"snr_db\":21.5,"
	    "\"samples_lost\":7,\"timestamp\":\"2026-01-02T03:04:05.5Z\"}");
	ev(m, "session:measurement", "{\"websdr\":2,\"snr_db\":null,"
	    "\"samples_lost\":0,\"timestamp\":\"2026-01-02T03:04:05Z\"}");
	ev(m, "session:measurement", "{\"websdr\":1,\"snr_db\":22.25,"
	    "\"samples_lost\":3,\"timestamp\":\"2026-01-02T03:04:06.5Z\"}");
	ev(m, "session:missing", "{\"websdr\":3,\"chunk_index\":0}");
	/* out of range and malformed: ignored */
	ev(m, "session:measurement", "{\"websdr\":4,\"snr_db\":1}");
	ev(m, "session:measurement", "{\"websdr\":0,\"snr_db\":1}");
	ev(m, "receiver:status", "{\"websdr\":1,\"state\":\"dancing\"}");
	monitor_event(m, "session:missing", NULL);

	s = render(m, NULL);
	has(s, "heimdall_receivers{state=\"streaming\"} 1");
	has(s, "heimdall_receivers{state=\"retrying\"} 1");
	has(s, "heimdall_receivers{state=\"failed\"} 1");
	has(s, "heimdall_receivers{state=\"idle\"} 0");
	has(s, "heimdall_receiver_failures_total{websdr=\"3\",station="
	    "\"Say \\\"hi\\\" \\\\ now\",reason=\"bad \\\"password\\\"\"} 2");
	has(s, "heimdall_receiver_failures_total{websdr=\"3\",station="
	    "\"Say \\\"hi\\\" \\\\ now\",reason=\"busy\"} 1");
	has(s, "heimdall_receiver_retries_total{websdr=\"2\",station=\"Sim 2\"} 1");
	has(s, "heimdall_chunks_stored_total{websdr=\"1\",station=\"Sim 1\"} 2");
	has(s, "heimdall_chunks_stored_total{websdr=\"2\",station=\"Sim 2\"} 1");
	has(s, "heimdall_samples_lost_total{websdr=\"1\",station=\"Sim 1\"} 10");
	has(s, "heimdall_chunks_missing_total{websdr=\"3\",station="
	    "\"Say \\\"hi\\\" \\\\ now\"} 1");
	/* the last chunk's SNR; NaN for one without */
	has(s, "heimdall_chunk_snr_db{websdr=\"1\",station=\"Sim 1\"} 22.25");
	has(s, "heimdall_chunk_snr_db{websdr=\"2\",station=\"Sim 2\"} NaN");
	assert_null(strstr(s, "heimdall_chunk_snr_db{websdr=\"3\""));
	has(s, "heimdall_chunk_last_timestamp_seconds{websdr=\"1\",station="
	    "\"Sim 1\"} 1767323046.5");
	has(s, "heimdall_sessions{state=\"acquiring\"} 1");
	free(s);

	snprintf(d, sizeof d, "{\"session_id\":\"%s\",\"session_name\":\"N 1\","
	    "\"status\":\"completed\"}", id);
	ev(m, "session:status_update", d);
	monitor_status(m, line, sizeof line);
	assert_string_equal(line, "idle, 3 receivers; last session \"N 1\" "
	    "completed");
	s = render(m, NULL);
	/* its receivers are closed: idle, whatever they said last */
	has(s, "heimdall_receivers{state=\"idle\"} 3");
	has(s, "heimdall_sessions{state=\"acquiring\"} 0");
	has(s, "heimdall_sessions_ended_total{status=\"completed\"} 1");
	has(s, "heimdall_sessions_ended_total{status=\"failed\"} 0");
	/* the counters stay */
	has(s, "heimdall_chunks_stored_total{websdr=\"1\",station=\"Sim 1\"} 2");
	free(s);
	monitor_free(m);
}

static void
test_queue_and_reasons(void **state)
{
	struct monitor	*m = monitor_new(&st3);
	char		*s, d[512], line[MONITOR_STATUS_MAX];

	(void)state;
	ev(m, "session:status_update", "{\"session_id\":\"a\",\"session_name\":"
	    "\"A\",\"status\":\"in_progress\",\"queue_position\":0}");
	ev(m, "session:status_update", "{\"session_id\":\"b\",\"session_name\":"
	    "\"B\",\"status\":\"in_progress\",\"queue_position\":1}");
	ev(m, "session:status_update", "{\"session_id\":\"c\",\"session_name\":"
	    "\"C\",\"status\":\"source_assigned\"}");
	monitor_status(m, line, sizeof line);
	assert_string_equal(line, "acquiring \"A\" (starting, 0 of 3 receivers "
	    "streaming), 1 queued, 1 open");
	/* more distinct reasons than kept: the rest count as "other" */
	for (int i = 0; i < MONITOR_REASONS + 3; i++) {
		snprintf(d, sizeof d, "{\"session_id\":\"a\",\"websdr\":1,"
		    "\"state\":\"failed\",\"reason\":\"reason %d\"}", i);
		ev(m, "receiver:status", d);
	}
	s = render(m, NULL);
	has(s, "heimdall_sessions{state=\"queued\"} 1");
	has(s, "heimdall_sessions{state=\"source_assigned\"} 1");
	has(s, "heimdall_receiver_failures_total{websdr=\"1\",station=\"Sim 1\","
	    "reason=\"reason 0\"} 1");
	has(s, "heimdall_receiver_failures_total{websdr=\"1\",station=\"Sim 1\","
	    "reason=\"other\"} 3");
	assert_null(strstr(s, "reason=\"reason 8\""));
	free(s);
	ev(m, "session:status_update", "{\"session_id\":\"a\",\"session_name\":"
	    "\"A\",\"status\":\"failed\",\"error\":\"cancelled\"}");
	ev(m, "session:status_update", "{\"session_id\":\"b\",\"session_name\":"
	    "\"B\",\"status\":\"in_progress\",\"queue_position\":0}");
	monitor_status(m, line, sizeof line);
	assert_string_equal(line, "acquiring \"B\" (starting, 0 of 3 receivers "
	    "streaming), 1 open");
	s = render(m, NULL);
	has(s, "heimdall_sessions_ended_total{status=\"failed\"} 1");
	free(s);
	/* a status line cut to its buffer stays a string */
	monitor_status(m, line, 12);
	assert_string_equal(line, "acquiring \"");
	monitor_free(m);
}

static void
test_central(void **state)
{
	struct monitor	*m = monitor_new(&st3);
	json_error_t	 e;
	json_t		*c;
	char		*s;

	(void)state;
	c = json_loads("{\"state\":\"retrying\",\"pending_rows\":120,"
	    "\"pending_objects\":7,\"pending_sessions\":2,"
	    "\"db\":{\"state\":\"error\",\"error\":\"connection refused\\n"
	    "\\\"db\\\"\"},\"s3\":{\"state\":\"ok\"}}", 0, &e);
	assert_non_null(c);
	s = render(m, c);
	has(s, "heimdall_replication_enabled 1");
	has(s, "heimdall_replication_backlog_rows 120");
	has(s, "heimdall_replication_backlog_objects 7");
	has(s, "heimdall_replication_backlog_sessions 2");
	has(s, "heimdall_store_up{store=\"db\"} 0");
	has(s, "heimdall_store_up{store=\"s3\"} 1");
	has(s, "heimdall_store_error_info{store=\"db\",error=\"connection "
	    "refused\\n\\\"db\\\"\"} 1");
	assert_null(strstr(s, "heimdall_store_error_info{store=\"s3\""));
	free(s);
	json_decref(c);
	/* only the database configured */
	c = json_loads("{\"pending_rows\":0,\"pending_objects\":0,"
	    "\"db\":{\"state\":\"ok\"},\"s3\":{\"state\":\"off\"}}", 0, &e);
	s = render(m, c);
	has(s, "heimdall_store_up{store=\"db\"} 1");
	assert_null(strstr(s, "store=\"s3\""));
	free(s);
	json_decref(c);
	monitor_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label),
		cmocka_unit_test_setup(test_initial, setup),
		cmocka_unit_test_setup(test_session, setup),
		cmocka_unit_test_setup(test_queue_and_reasons, setup),
		cmocka_unit_test_setup(test_central, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
