/* probe.c -- which stations answer, and which accept a session (probe.h). */

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "src/engine/probe.h"
#include "src/engine/session.h"
#include "src/base/util.h"
#include "net/rx/receiver.h"

/* out[i]'s reason: no answer (or no name) for station st. */
static void
no_answer(struct probe_result *out, int i, const struct station *st,
    int resolved)
{
	if (out == NULL)
		return;
	if (resolved)
		snprintf(out[i].reason, sizeof out[i].reason, "no answer on "
		    "%s:%d", st->host, st->port);
	else
		snprintf(out[i].reason, sizeof out[i].reason, "cannot "
		    "resolve %s", st->host);
}

/* Connects to stations [from, from + n) at once, at most timeout s. */
static int
tcp_batch(const struct stations *sts, int from, int n, double timeout,
    struct probe_result *out)
{
	struct addrinfo	 hints, *ai;
	struct pollfd	 pf[PROBE_BATCH];
	char		 port[16];
	int		 j, ok = 0, soerr, left;
	socklen_t	 sl;
	double		 end;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	for (j = 0; j < n; j++) {
		const struct station *st = &sts->v[from + j];
		pf[j].fd = -1;
		pf[j].events = POLLOUT;
		pf[j].revents = 0;
		snprintf(port, sizeof port, "%d", st->port);
		if (st->host[0] == '\0' || getaddrinfo(st->host, port,
		    &hints, &ai) != 0) {
			no_answer(out, from + j, st, 0);
			continue;
		}
		pf[j].fd = socket(ai->ai_family, ai->ai_socktype |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (pf[j].fd >= 0 && connect(pf[j].fd, ai->ai_addr,
		    ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			close(pf[j].fd);
			pf[j].fd = -1;
		}
		freeaddrinfo(ai);
		if (pf[j].fd < 0)
			no_answer(out, from + j, st, 1);
	}
	end = util_mono() + timeout;
	for (;;) {
		left = 0;
		for (j = 0; j < n; j++)
			if (pf[j].fd >= 0 && pf[j].revents == 0)
				left++;
		if (left == 0 || util_mono() >= end)
			break;
		if (poll(pf, (nfds_t)n, (int)((end - util_mono()) * 1000) +
		    1) < 0 && errno != EINTR)
			break;
	}
	for (j = 0; j < n; j++) {
		const struct station *st = &sts->v[from + j];
		if (pf[j].fd < 0)
			continue;
		sl = sizeof soerr;
		if (pf[j].revents != 0 && getsockopt(pf[j].fd, SOL_SOCKET,
		    SO_ERROR, &soerr, &sl) == 0 && soerr == 0) {
			ok++;
			if (out != NULL)
				out[from + j].reachable = 1;
		} else
			no_answer(out, from + j, st, 1);
		close(pf[j].fd);
	}
	return ok;
}

int
probe_tcp(const struct stations *sts, double timeout,
    struct probe_result *out)
{
	int	i, n, ok = 0;

	if (timeout <= 0)
		timeout = PROBE_TCP_TIMEOUT;
	if (out != NULL)
		memset(out, 0, (size_t)sts->n * sizeof *out);
	for (i = 0; i < sts->n; i += n) {
		n = sts->n - i < PROBE_BATCH ? sts->n - i : PROBE_BATCH;
		ok += tcp_batch(sts, i, n, timeout, out);
	}
	return ok;
}

/* ---- a session's acceptance: the drivers themselves ---- */

struct waiter {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	int		 pending;	/* receivers not settled yet */
};

struct one {
	struct waiter	*w;
	int		 opened;	/* its driver was asked */
	int		 done;		/* under w->lock */
	int		 accepting;
	char		 reason[160];
};

/* Sink callbacks, on the loop thread: quick, settle once. */
static void
settle(struct one *o, int accepting, const char *reason)
{
	pthread_mutex_lock(&o->w->lock);
	if (!o->done) {
		o->done = 1;
		o->accepting = accepting;
		snprintf(o->reason, sizeof o->reason, "%s", reason);
		o->w->pending--;
		pthread_cond_broadcast(&o->w->cond);
	}
	pthread_mutex_unlock(&o->w->lock);
}

static void
p_state(void *ctx, enum rx_state st, const char *reason)
{
	/* RETRYING counts as a refusal: a receiver that drops the probe
	 * (busy, bad password retried, ...) would drop the session too */
	if (st == RX_STREAMING)
		settle(ctx, 1, "");
	else if (st == RX_FAILED || st == RX_RETRYING)
		settle(ctx, 0, reason);
}

static void
p_stream(void *ctx, double fs)
{
	(void)ctx;
	(void)fs;
}

static void
p_block(void *ctx, const struct rx_block *b)
{
	(void)b;
	settle(ctx, 1, "");
}

int
probe_accepting(struct rxloop *loop, const struct stations *sts,
    const struct session_params *p, double timeout,
    struct probe_result *out)
{
	struct probe_result	*res = out;
	struct waiter		 w;
	struct one		*ones;
	struct rx		**rxs;
	struct rx_params	 rp;
	struct timespec		 ts;
	char			 err[256], why[160];
	double			 end;
	int			 i, ok = 0;

	if (timeout <= 0)
		timeout = PROBE_ACCEPT_TIMEOUT;
	if (res == NULL && (res = calloc((size_t)sts->n, sizeof *res)) ==
	    NULL)
		return 0;
	ones = calloc((size_t)sts->n, sizeof *ones);
	rxs = calloc((size_t)sts->n, sizeof *rxs);
	if (ones == NULL || rxs == NULL) {
		free(ones);
		free(rxs);
		if (res != out)
			free(res);
		return 0;
	}
	probe_tcp(sts, 0, res);
	memset(&rp, 0, sizeof rp);
	rp.freq_hz = p->freq_hz;
	rp.low_cut = p->low_cut;
	rp.high_cut = p->high_cut;
	rp.deadline = util_now() + timeout;	/* no retry past it */
	rp.ident = "heimdall-rec probe";
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	w.pending = 0;
	for (i = 0; i < sts->n; i++) {
		const struct station *st = &sts->v[i];
		const struct rx_driver *drv = rx_driver_find(st->type);
		struct rx_sink sink = { p_state, p_stream, p_block, &ones[i],
		    NULL };
		ones[i].w = &w;
		ones[i].done = 1;
		if (!session_station_takes(st, p->freq_hz, why, sizeof why)) {
			snprintf(res[i].reason, sizeof res[i].reason,
			    "left out: %s", why);
			continue;
		}
		if (!res[i].reachable)
			continue;
		if (drv == NULL || rx_type_replay(st->type)) {
			snprintf(res[i].reason, sizeof res[i].reason,
			    "%s receivers cannot be probed", st->type);
			continue;
		}
		pthread_mutex_lock(&w.lock);
		ones[i].opened = 1;
		ones[i].done = 0;
		w.pending++;
		pthread_mutex_unlock(&w.lock);
		rxs[i] = drv->open(loop, st, &rp, &sink, err, sizeof err);
		if (rxs[i] == NULL)
			settle(&ones[i], 0, err);
	}
	/* Wait until each one streamed or refused, or the time is up. */
	end = util_now() + timeout;
	pthread_mutex_lock(&w.lock);
	while (w.pending > 0 && util_now() < end) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w.cond, &w.lock, &ts);
	}
	pthread_mutex_unlock(&w.lock);
	for (i = 0; i < sts->n; i++) {
		const struct rx_driver *drv = rx_driver_find(sts->v[i].type);
		if (rxs[i] != NULL)
			drv->close(rxs[i]);	/* no callback after this */
	}
	for (i = 0; i < sts->n; i++) {
		if (!ones[i].opened)
			continue;	/* res[i] says why */
		if (!ones[i].done)
			snprintf(res[i].reason, sizeof res[i].reason, "no "
			    "samples within %.0f s", timeout);
		else if (ones[i].accepting) {
			res[i].accepting = 1;
			res[i].reason[0] = '\0';
			ok++;
		} else
			snprintf(res[i].reason, sizeof res[i].reason, "%s",
			    ones[i].reason);
	}
	pthread_cond_destroy(&w.cond);
	pthread_mutex_destroy(&w.lock);
	free(ones);
	free(rxs);
	if (res != out)
		free(res);
	return ok;
}
