/*
 * fakerx.h -- for engine and API tests: an in-process fake receiver driver
 * (type "fake", register it with rx_driver_register), and a real engine
 * over such receivers (fakerx_env). A thread per
 * receiver produces 12000 S/s of a 1000 Hz tone in 500-sample blocks in
 * real time. The station's password field picks its behaviour: "fail"
 * (fails at once), "late" (fails after 1 s of streaming), anything else
 * streams. Define FAKERX_NOISE (amplitude) before including it to add
 * uniform noise to Q. Header-only; include after cmocka.h.
 */
#ifndef FAKERX_H
#define FAKERX_H

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/rx/receiver.h"
#include "net/rx/rxloop.h"
#include "src/engine/config.h"
#include "src/engine/engine.h"
#include "src/engine/events.h"
#include "src/base/util.h"
#include "store/dataset.h"

#ifndef FAKERX_NOISE
#define FAKERX_NOISE	0
#endif

struct rx {
	struct rx_sink	 sink;
	char		 mode[32];
	pthread_t	 th;
	atomic_int	 stop;
};

static void *
fakerx_main(void *arg)
{
	struct rx	*rx = arg;
	int16_t		 iq[2 * 500];
	struct rx_block	 b;
	double		 start = util_now(), fs = 12000.0;
	uint64_t	 sent = 0;
	int		 i;

	if (strcmp(rx->mode, "fail") == 0) {
		rx->sink.state(rx->sink.ctx, RX_FAILED, "bad password (badp=1)");
		return NULL;
	}
	rx->sink.stream(rx->sink.ctx, fs);
	rx->sink.state(rx->sink.ctx, RX_STREAMING, "streaming");
	while (!rx->stop) {
		double now = util_now();
		if (strcmp(rx->mode, "late") == 0 && now - start > 1.0) {
			rx->sink.state(rx->sink.ctx, RX_FAILED,
			    "receiver disabled: maintenance");
			return NULL;
		}
		while (start + (double)(sent + 500) / fs <= now) {
			for (i = 0; i < 500; i++) {
				double ph = 2 * M_PI * 1000.0 *
				    (double)(sent + i) / fs;
				iq[2 * i] = (int16_t)(3000 * cos(ph));
#if FAKERX_NOISE > 0
				iq[2 * i + 1] = (int16_t)(3000 * sin(ph) +
				    (rand() % (2 * FAKERX_NOISE) -
				    FAKERX_NOISE));
#else
				iq[2 * i + 1] = (int16_t)(3000 * sin(ph));
#endif
			}
			memset(&b, 0, sizeof b);
			b.iq = iq;
			b.n = 500;
			b.t_arrival = now;
			b.gps_age = -1;
			b.rssi_dbm = -70;
			rx->sink.block(rx->sink.ctx, &b);
			sent += 500;
		}
		usleep(5000);
	}
	return NULL;
}

static struct rx *
fakerx_open(struct rxloop *loop, const struct station *st,
    const struct rx_params *p, const struct rx_sink *sink, char *err,
    size_t errlen)
{
	struct rx	*rx = calloc(1, sizeof *rx);

	(void)loop;
	(void)p;
	if (rx == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rx->sink = *sink;
	snprintf(rx->mode, sizeof rx->mode, "%s", st->password);
	pthread_create(&rx->th, NULL, fakerx_main, rx);
	return rx;
}

static void
fakerx_close(struct rx *rx)
{
	rx->stop = 1;
	pthread_join(rx->th, NULL);
	free(rx);
}

static const struct rx_driver fakerx_driver = {
	"fake", 0, 30e6, fakerx_open, fakerx_close
};

/* A real engine over the stations of a stations-file JSON, with a dataset
 * in a fresh /tmp/<name>_XXXXXX, an event bus and one network loop. */
struct fakerx_env {
	char		 dir[64];
	struct stations	 st;
	struct dataset	*ds;
	struct events	*ev;
	struct rxloop	*loop;
	struct engine	*eng;
	/* engine limits the caller may set before fakerx_env_start (0:
	 * the engine's defaults) */
	double		 idle_timeout;
	int		 max_open;
	int		 queue_max;
	int		 spool_min;
};

/* on_event(ctx) is subscribed before anything can emit. The dataset goes
 * in /tmp/<name>_XXXXXX, or <name>_XXXXXX when name is a path. */
static inline void
fakerx_env_start(struct fakerx_env *e, const char *name, const char *json,
    events_fn on_event, void *ctx)
{
	struct engine_config	 cfg;
	char			 err[512];

	snprintf(e->dir, sizeof e->dir, "%s%s_XXXXXX", name[0] == '/' ? "" :
	    "/tmp/", name);
	assert_non_null(mkdtemp(e->dir));
	if (config_parse_stations(json, strlen(json), &e->st, err,
	    sizeof err) != 0)
		fail_msg("%s", err);
	e->ds = dataset_open(e->dir, err, sizeof err);
	assert_non_null(e->ds);
	e->ev = events_new();
	events_subscribe(e->ev, on_event, ctx);
	e->loop = rxloop_new(0, err, sizeof err);
	assert_non_null(e->loop);
	memset(&cfg, 0, sizeof cfg);
	cfg.stations = &e->st;
	cfg.ds = e->ds;
	cfg.ev = e->ev;
	cfg.loop = e->loop;
	cfg.start_timeout = 2;
	cfg.grace = 1;
	cfg.idle_timeout = e->idle_timeout;
	cfg.max_open = e->max_open;
	cfg.queue_max = e->queue_max;
	cfg.spool_min = e->spool_min;
	e->eng = engine_new(&cfg, err, sizeof err);
	assert_non_null(e->eng);
}

/* Everything, the dataset directory included. */
static inline void
fakerx_env_stop(struct fakerx_env *e)
{
	char	 cmd[128];

	engine_free(e->eng);
	rxloop_free(e->loop);
	events_free(e->ev);
	dataset_close(e->ds);
	config_free_stations(&e->st);
	snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
	assert_int_equal(system(cmd), 0);
}

#endif
