/* replay.c -- the "kiwiwav" receiver: a kiwirecorder GPS-stamped IQ WAV file replayed on its own time line (replay.h). */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "src/base/kiwiwav.h"
#include "src/base/station.h"

#include "net/rx/kiwi.h"
#include "net/rx/replay.h"
#include "net/rx/rxloop.h"

struct rx {
	struct rxloop	*loop;
	struct rx_sink	 sink;
	struct kiwiwav	 w;
	int64_t		 utc0_ns;	/* UTC of block w.first's stamp */
	double		 fs;
	int		 next;		/* next block to hand over */
	int		 started;
	int		 closed;	/* loop thread only */
	int16_t		*buf;
};

/*
 * UTC ns of the stamp of w's first usable block, converted exactly as the
 * KiwiSDR driver converts a frame's stamp (the GPS week nearest ref); the
 * other blocks follow by their unwrapped difference (a recording across a
 * week's end stays continuous).
 */
static int64_t
utc_first_ns(const struct kiwiwav *w, double ref)
{
	const struct kiwiwav_block *b = &w->b[w->first];

	return kiwi_gps_to_utc_ns(b->gpssec, b->gpsnsec, ref);
}

/* The recording's date, to choose the GPS week: kiwirecorder's file
 * name (its start), else the file's modification time (its end). */
static double
ref_time(const char *path, int fd)
{
	struct stat	sb;
	double		t = kiwiwav_name_time(path);

	if (t > 0)
		return t;
	if (fstat(fd, &sb) == 0)
		return (double)sb.st_mtim.tv_sec;
	return 0;
}

/* Open and judge; 0 with w loaded and ok, or -1 with why in reason. */
static int
load(const struct station *st, struct kiwiwav *w, struct replay_info *out)
{
	char	 err[256];
	double	 ref;

	memset(out, 0, sizeof *out);
	if (kiwiwav_open(st->path, w, err, sizeof err) != 0) {
		snprintf(out->reason, sizeof out->reason, "refused: %s", err);
		return -1;
	}
	out->rate = w->rate;
	out->truncated = w->truncated;
	out->freq_hz = kiwiwav_name_freq(st->path);
	if (!w->ok) {
		snprintf(out->reason, sizeof out->reason, "refused: %s",
		    w->reason);
		kiwiwav_free(w);
		return -1;
	}
	ref = ref_time(st->path, w->fd);
	out->ok = 1;
	out->fs = w->fs;
	out->stale = w->first;
	out->start_ns = utc_first_ns(w, ref);
	out->end_ns = out->start_ns + llround(kiwiwav_time_ns(w, w->samples) -
	    (double)w->b[w->first].t_ns);
	return 0;
}

void
replay_scan(const struct station *st, struct replay_info *out)
{
	struct kiwiwav	w;

	if (load(st, &w, out) == 0)
		kiwiwav_free(&w);
}

/* Loop thread: hand over the next slice of frames, then come back. */
static void
step(void *arg)
{
	struct rx		*rx = arg;
	struct rx_block		 b;
	struct kiwiwav_block	*kb;
	char			 err[256], why[RX_REASON_MAX + 1];
	int			 k;

	if (rx->closed)
		return;
	if (!rx->started) {
		rx->started = 1;
		rx->sink.stream(rx->sink.ctx, rx->fs);
		rx->sink.state(rx->sink.ctx, RX_STREAMING, "streaming");
	}
	if (rx->sink.hold != NULL && rx->sink.hold(rx->sink.ctx)) {
		/* the session is behind this recording: come back in a
		 * moment (the loop serves nothing but replays; a queued call
		 * keeps it from resting its 200 ms) */
		struct timespec ts = { 0, REPLAY_HOLD_NS };
		nanosleep(&ts, NULL);
		if (rxloop_call(rx->loop, step, rx) != 0)
			rx->sink.state(rx->sink.ctx, RX_FAILED,
			    "the loop is stopping");
		return;
	}
	for (k = 0; k < REPLAY_SLICE && rx->next < rx->w.nblocks; k++) {
		kb = &rx->w.b[rx->next++];
		if (kiwiwav_samples(&rx->w, rx->next - 1, rx->buf, err,
		    sizeof err) != 0) {
			rx->sink.state(rx->sink.ctx, RX_FAILED,
			    rx_reason(err, why));
			return;
		}
		memset(&b, 0, sizeof b);
		b.iq = rx->buf;
		b.n = kb->n;
		b.t_gps_ns = rx->utc0_ns + (kb->t_ns -
		    rx->w.b[rx->w.first].t_ns);
		/* it "arrives" when its last sample was taken */
		b.t_arrival = (double)b.t_gps_ns / 1e9 + (double)kb->n /
		    rx->fs;
		b.gps_age = kb->solution;
		b.rssi_dbm = NAN;
		rx->sink.block(rx->sink.ctx, &b);
	}
	if (rx->next >= rx->w.nblocks) {
		rx->sink.state(rx->sink.ctx, RX_STOPPED, "end of the recording");
		return;
	}
	if (rxloop_call(rx->loop, step, rx) != 0)
		rx->sink.state(rx->sink.ctx, RX_FAILED, "the loop is stopping");
}

static struct rx *
replay_open(struct rxloop *loop, const struct station *st,
    const struct rx_params *p, const struct rx_sink *sink, char *err,
    size_t errlen)
{
	struct replay_info	 info;
	struct rx		*rx;
	uint32_t		 maxn = 0;
	int			 i;

	/* a recording has its own frequency and time: only the origin
	 * matters */
	if ((rx = calloc(1, sizeof *rx)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (load(st, &rx->w, &info) != 0) {
		snprintf(err, errlen, "%s", info.reason);
		free(rx);
		return NULL;
	}
	rx->loop = loop;
	rx->sink = *sink;
	rx->utc0_ns = info.start_ns;
	rx->fs = info.fs;
	rx->next = rx->w.first;
	/*
	 * Start where the session does: a file that began seconds before
	 * the origin would else spend its first slices on samples no chunk
	 * takes while the others already deliver chunks, and the stations
	 * would no longer advance together (live localization holds only a
	 * few chunk indices at once). One whole frame of margin before the
	 * origin: the grid is placed on the first frame's stamp.
	 */
	if (p->origin > 0) {
		int64_t o = (int64_t)llround(p->origin * 1e9);
		while (rx->next + 2 < rx->w.nblocks &&
		    rx->utc0_ns + (rx->w.b[rx->next + 2].t_ns -
		    rx->w.b[rx->w.first].t_ns) <= o)
			rx->next++;
	}
	for (i = rx->w.first; i < rx->w.nblocks; i++)
		if (rx->w.b[i].n > maxn)
			maxn = rx->w.b[i].n;
	rx->buf = malloc(2 * (size_t)maxn * sizeof *rx->buf);
	if (rx->buf == NULL || rxloop_call(loop, step, rx) != 0) {
		snprintf(err, errlen, rx->buf == NULL ? "out of memory" :
		    "network loop is stopping");
		kiwiwav_free(&rx->w);
		free(rx->buf);
		free(rx);
		return NULL;
	}
	return rx;
}

static void
detach(void *arg)
{
	((struct rx *)arg)->closed = 1;
}

static void
barrier(void *arg)
{
	(void)arg;
}

static void
replay_close(struct rx *rx)
{
	if (rx == NULL)
		return;
	/* detach stops the slices; a slice queued before it may have queued
	 * the next one behind it: the barrier runs after that one (calls run
	 * in order), which then sees closed and does nothing. */
	rxloop_call_wait(rx->loop, detach, rx);
	rxloop_call_wait(rx->loop, barrier, rx);
	kiwiwav_free(&rx->w);
	free(rx->buf);
	free(rx);
}

const struct rx_driver replay_driver = {
	"kiwiwav", 0, 30e6, replay_open, replay_close
};
