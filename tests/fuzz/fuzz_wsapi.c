/*
 * fuzz_wsapi.c -- libFuzzer target: arbitrary bytes into the WebSocket API's
 * message handler (net/server/wsapi.c) with a real engine and dataset behind it.
 *
 * "$SID" in the input is replaced by the id of the last session the handler
 * started, so the fuzzer reaches the later steps (assign, complete, cancel)
 * of real sessions instead of only "not_found". Receivers point at a closed
 * loopback port: an acquisition fails fast, as a dead station would.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "net/rx/rxloop.h"
#include "net/server/wsapi.h"
#include "src/engine/config.h"
#include "src/engine/engine.h"
#include "src/engine/events.h"
#include "src/base/util.h"
#include "store/dataset.h"

static struct stations	 st;
static struct dataset	*ds;
static struct events	*ev;
static struct rxloop	*loop;
static struct engine	*eng;
static struct wsapi	*api;
static char		 last_id[37] = "00000000-0000-4000-8000-000000000000";
static size_t		 replies;

static void
on_reply(void *client, const char *json, size_t len)
{
	json_error_t	 e;
	json_t		*j, *sid;

	(void)client;
	/* Every reply must be a valid envelope with an event name. */
	j = json_loadb(json, len, 0, &e);
	if (j == NULL || !json_is_string(json_object_get(j, "event")))
		abort();
	if (strcmp(json_string_value(json_object_get(j, "event")),
	    "session:started") == 0) {
		sid = json_object_get(json_object_get(j, "data"), "session_id");
		snprintf(last_id, sizeof last_id, "%s", json_string_value(sid));
	}
	json_decref(j);
	replies++;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char		 dir[128];
	struct engine_config	 ec;
	struct wsapi_config	 ac;
	char			 err[512];
	const char		*tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" :
	    "/tmp";
	const char		*json = "{\"stations\":["
	    "{\"name\":\"A\",\"type\":\"kiwisdr\",\"url\":\"http://127.0.0.1:1\","
	    "\"latitude\":45,\"longitude\":7},"
	    "{\"name\":\"B\",\"type\":\"kiwisdr\",\"url\":\"http://127.0.0.1:1\","
	    "\"latitude\":45,\"longitude\":8,\"frequency_min_hz\":1000000,"
	    "\"frequency_max_hz\":20000000}]}";

	(void)argc;
	(void)argv;
	snprintf(dir, sizeof dir, "%s/fuzz_wsapi_XXXXXX", tmp);
	if (mkdtemp(dir) == NULL ||
	    config_parse_stations(json, strlen(json), &st, err,
	    sizeof err) != 0 ||
	    (ds = dataset_open(dir, err, sizeof err)) == NULL ||
	    (ev = events_new()) == NULL ||
	    (loop = rxloop_new(0, err, sizeof err)) == NULL) {
		fprintf(stderr, "fuzz setup: %s\n", err);
		abort();
	}
	fprintf(stderr, "fuzz_wsapi: dataset %s\n", dir);
	memset(&ec, 0, sizeof ec);
	ec.stations = &st;
	ec.ds = ds;
	ec.ev = ev;
	ec.loop = loop;
	ec.start_timeout = 0.2;
	ec.grace = 0.2;
	if ((eng = engine_new(&ec, err, sizeof err)) == NULL)
		abort();
	memset(&ac, 0, sizeof ac);
	ac.eng = eng;
	ac.ds = ds;
	ac.stations = &st;
	api = wsapi_new(&ac);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf, *p;
	size_t	 n = 0, i, before = replies;
	unsigned subs = 0;

	if (size > WSAPI_MAX_MESSAGE + 16)
		return 0;
	/* room for every "$SID" (4 bytes) growing to 36 */
	buf = malloc(size * 9 + 1);
	if (buf == NULL)
		return 0;
	for (i = 0; i < size; i++) {
		if (i + 4 <= size && memcmp(data + i, "$SID", 4) == 0) {
			memcpy(buf + n, last_id, 36);
			n += 36;
			i += 3;
		} else
			buf[n++] = (char)data[i];
	}
	p = buf;
	wsapi_handle(api, p, n, &subs, on_reply, NULL);
	/* The contract: every message gets at least one reply. */
	if (replies == before)
		abort();
	free(buf);
	return 0;
}
