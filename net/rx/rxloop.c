/* rxloop.c -- the one libwebsockets event loop (and thread) serving every receiver connection. */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libwebsockets.h>

#include "net/rx/rxloop.h"

/*
 * Wake-up coalescing. Every receiver sends a 2 KiB frame about every 43 ms;
 * serving each as it lands costs one poll() over all sockets plus one
 * read per frame, and the kernel's side of that was 2/3 of the recorder's
 * CPU at 50 receivers. Resting this long between turns lets the frames of
 * many receivers gather, so one poll and one read per socket serve two or
 * three frames of each. Work queued by other threads (rxloop_call) ends
 * the rest at once, and there is no rest (or a shorter one, below) while
 * a connection is being set up (each step of a handshake would wait). The price: a frame reaches the
 * engine up to 200 ms late, far inside the 2-s stall limit; a session's
 * end waits as much (locate nudges the loop when a fix is due sooner).
 * Each turn costs ~100 us at 7 receivers here (a poll, one recv and its
 * ACK per socket): bench, 7 receivers, loop thread CPU per 10 s: 24 -> 16
 * ms going from 50 to 100 ms, 29 -> 18 ms from 100 to 200 (300: no
 * better). The socket buffers hold far more than 200 ms of a stream.
 * While a connection's handshake of many steps (OpenWebRX: server
 * messages, profiles, tuning) is under way, rests are the shorter ones
 * (rxloop_brisk): at 200 ms each, three attempts of a receiver that says
 * "busy" twice no longer fit before the session's origin (e2e_radio).
 */
#define RXLOOP_REST_MS		200
#define RXLOOP_REST_BRISK_MS	100
/*
 * A fast stream (rtl_tcp, 4 MB/s) cannot wait that long: it must not
 * outgrow the socket's receive buffer during a rest, and that buffer is
 * whatever the kernel's autotuning made of it. Autotuning grows it only
 * when it sees the reader keep up, which a reader that drains in bursts
 * every 100 or 200 ms may never show it: a buffer left at its initial
 * ~113 KB then caps the stream at ~1.1 MB/s (at 100-ms rests), the sender
 * drops the rest, and every chunk of that receiver comes out missing (seen
 * under load: e2e_radio's rtl_tcp over ::1, 5.9 of 11 million samples
 * dropped). So after a read that took half a buffer or more, the loop
 * rests only RXLOOP_FAST_REST_MS for the next RXLOOP_FAST_TURNS turns
 * (renewed by every such read): 10 ms of 4 MB/s is 40 KB, a third of the
 * smallest buffer seen. Slow streams (KiwiSDR, OpenWebRX, SpyServer: a few
 * KB per rest) never trigger it.
 */
#define RXLOOP_FAST_REST_MS	10
#define RXLOOP_FAST_TURNS	20

struct call {
	struct call	*next;
	rxloop_fn	 fn;
	void		*arg;
	int		*done;		/* rxloop_call_wait: set when run */
};

struct rxloop {
	struct lws_context	*ctx;
	/* the context's protocols: ours, those handed in, a terminator;
	 * lws keeps the pointer for the context's life */
	struct lws_protocols	 prot[RXLOOP_MAX_PROTOCOLS + 2];
	pthread_t		 thread;
	pthread_t		 self;		/* the loop thread's id */
	pthread_mutex_t		 lock;
	pthread_cond_t		 ran;
	pthread_cond_t		 queued;	/* ends the rest early */
	struct call		*head, *tail;
	atomic_int		 stop;		/* read without the lock */
	int			 settling;	/* loop thread only */
	int			 brisk;		/* loop thread only */
	int			 hot;		/* loop thread only: a read took
						   a nearly full buffer */
	int			 fast;		/* loop thread only: turns left
						   with the short rest */
};

/* Run what other threads queued (on the loop thread). */
static void
drain(struct rxloop *loop)
{
	struct call	*c, *next;

	pthread_mutex_lock(&loop->lock);
	c = loop->head;
	loop->head = loop->tail = NULL;
	pthread_mutex_unlock(&loop->lock);
	for (; c != NULL; c = next) {
		next = c->next;
		c->fn(c->arg);
		if (c->done != NULL) {
			pthread_mutex_lock(&loop->lock);
			*c->done = 1;
			pthread_cond_broadcast(&loop->ran);
			pthread_mutex_unlock(&loop->lock);
		}
		free(c);
	}
}

static int
loop_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	(void)user;
	(void)in;
	(void)len;
	/* lws_cancel_service() from another thread lands here. */
	if (reason == LWS_CALLBACK_EVENT_WAIT_CANCELLED)
		drain(lws_context_user(lws_get_context(wsi)));
	return 0;
}

static const struct lws_protocols loop_protocol = {
	"rxloop", loop_callback, 0, 0, 0, NULL, 0
};

/* What drivers handed in (rxloop_protocol_add). */
static const struct lws_protocols	*added[RXLOOP_MAX_PROTOCOLS];
static int				 nadded;

int
rxloop_protocol_add(const struct lws_protocols *p)
{
	int	i;

	if (p == NULL || p->name == NULL || p->callback == NULL)
		return -1;
	if (strcmp(p->name, loop_protocol.name) == 0)
		return -1;
	for (i = 0; i < nadded; i++)
		if (strcmp(added[i]->name, p->name) == 0)
			return added[i] == p ? 0 : -1;
	if (nadded == RXLOOP_MAX_PROTOCOLS)
		return -1;
	added[nadded++] = p;
	return 0;
}

void
rxloop_protocol_must(const struct lws_protocols *p, const char *what)
{
	if (rxloop_protocol_add(p) != 0) {
		fprintf(stderr, "rxloop: cannot add the network protocol %s "
		    "(\"%s\": a name taken, or more than %d protocols)\n",
		    what, p->name != NULL ? p->name : "", RXLOOP_MAX_PROTOCOLS);
		abort();
	}
}

static void *
loop_main(void *arg)
{
	struct rxloop	*loop = arg;
	struct timespec	 until;
	long		 rest_ms;

	/* rxloop_new() sets loop->self under the lock after creating us:
	 * read nothing of it before that is done. */
	pthread_mutex_lock(&loop->lock);
	pthread_mutex_unlock(&loop->lock);
	while (!loop->stop) {
		lws_service(loop->ctx, 0);
		/* No rest while a handshake is under way, or when a read took
		 * a nearly full buffer: a fast stream (rtl_tcp, 4 MB/s) has
		 * more waiting, and resting would cap it at one buffer per
		 * rest (320 KB/s). */
		if (loop->hot)
			loop->fast = RXLOOP_FAST_TURNS;
		if (loop->settling > 0 || loop->hot) {
			loop->hot = 0;
			continue;
		}
		rest_ms = loop->brisk > 0 ? RXLOOP_REST_BRISK_MS :
		    RXLOOP_REST_MS;
		if (loop->fast > 0) {
			loop->fast--;
			rest_ms = RXLOOP_FAST_REST_MS;
		}
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += rest_ms * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&loop->lock);
		while (loop->head == NULL && !loop->stop &&
		    pthread_cond_timedwait(&loop->queued, &loop->lock,
		    &until) == 0)
			;
		pthread_mutex_unlock(&loop->lock);
	}
	drain(loop);
	return NULL;
}

/* lws' errors as plain lines like the program's own: no time stamp (a
 * journal stamps every line), named. */
static void
log_line(int level, const char *line)
{
	(void)level;
	fprintf(stderr, "heimdall-rec: lws: %s", line);
}

struct rxloop *
rxloop_new(long nfds, char *err, size_t errlen)
{
	struct lws_context_creation_info info;
	struct rxloop			*loop;
	pthread_condattr_t		 ca;
	int				 i;

	loop = calloc(1, sizeof *loop);
	if (loop == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&loop->lock, NULL);
	pthread_cond_init(&loop->ran, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&loop->queued, &ca);
	pthread_condattr_destroy(&ca);
	loop->prot[0] = loop_protocol;
	for (i = 0; i < nadded; i++)
		loop->prot[1 + i] = *added[i];
	/* the rest stays zero: the terminator */

	/* Quiet: receivers that refuse or drop are reported through the
	 * sink with a reason; lws' own notices would only repeat them. */
	lws_set_log_level(LLL_ERR, log_line);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = loop->prot;
	info.user = loop;
	/* No TLS in lws: wsclient runs OpenSSL itself over raw sockets
	 * (lws 4.1.6 cannot start TLS on a raw client), so lws needs no
	 * TLS init and no CA store. */
	info.options = 0;
	/*
	 * lws sizes two tables (a connection pointer and a pollfd per
	 * descriptor) by the open-file limit, which runtime_start raises to
	 * the hard one: at 20,000 that is 320 KB zeroed page by page, ~0.7
	 * ms of CPU per process (of ~80 for 7 stations x 10 s). A smaller
	 * fd_limit_per_thread makes lws keep its connections at the table's
	 * front and find a descriptor's by a scan over them instead of
	 * indexing by the descriptor (any number may be used then): cheap
	 * for a few connections, so only for those; many keep the index.
	 */
	if (nfds > 0 && nfds <= RXLOOP_FEW_FDS / 4)
		info.fd_limit_per_thread = RXLOOP_FEW_FDS;
	info.timeout_secs = 5;
	info.connect_timeout_secs = 5;
	info.pt_serv_buf_size = RXLOOP_RX_BUF;
	loop->ctx = lws_create_context(&info);
	if (loop->ctx == NULL) {
		snprintf(err, errlen, "cannot create the network event loop");
		goto fail;
	}
	pthread_mutex_lock(&loop->lock);
	if (pthread_create(&loop->thread, NULL, loop_main, loop) != 0) {
		pthread_mutex_unlock(&loop->lock);
		snprintf(err, errlen, "cannot start the network thread");
		lws_context_destroy(loop->ctx);
		goto fail;
	}
	loop->self = loop->thread;
	pthread_mutex_unlock(&loop->lock);
	pthread_setname_np(loop->thread, "hr-rxloop");	/* for top -H, perf */
	return loop;
fail:
	pthread_cond_destroy(&loop->queued);
	pthread_cond_destroy(&loop->ran);
	pthread_mutex_destroy(&loop->lock);
	free(loop);
	return NULL;
}

void
rxloop_free(struct rxloop *loop)
{
	if (loop == NULL)
		return;
	pthread_mutex_lock(&loop->lock);
	loop->stop = 1;
	pthread_cond_signal(&loop->queued);
	pthread_mutex_unlock(&loop->lock);
	lws_cancel_service(loop->ctx);
	pthread_join(loop->thread, NULL);
	lws_context_destroy(loop->ctx);
	pthread_cond_destroy(&loop->queued);
	pthread_cond_destroy(&loop->ran);
	pthread_mutex_destroy(&loop->lock);
	free(loop);
}

static int
enqueue(struct rxloop *loop, rxloop_fn fn, void *arg, int *done)
{
	struct call	*c;

	if (loop->stop || (c = calloc(1, sizeof *c)) == NULL)
		return -1;
	c->fn = fn;
	c->arg = arg;
	c->done = done;
	pthread_mutex_lock(&loop->lock);
	if (loop->tail != NULL)
		loop->tail->next = c;
	else
		loop->head = c;
	loop->tail = c;
	pthread_cond_signal(&loop->queued);
	pthread_mutex_unlock(&loop->lock);
	lws_cancel_service(loop->ctx);
	return 0;
}

int
rxloop_call(struct rxloop *loop, rxloop_fn fn, void *arg)
{
	return enqueue(loop, fn, arg, NULL);
}

int
rxloop_call_wait(struct rxloop *loop, rxloop_fn fn, void *arg)
{
	int	done = 0;

	if (rxloop_on_loop(loop)) {
		fn(arg);
		return 0;
	}
	if (enqueue(loop, fn, arg, &done) != 0)
		return -1;
	pthread_mutex_lock(&loop->lock);
	while (!done)
		pthread_cond_wait(&loop->ran, &loop->lock);
	pthread_mutex_unlock(&loop->lock);
	return 0;
}

struct lws_context *
rxloop_context(struct rxloop *loop)
{
	return loop->ctx;
}

int
rxloop_on_loop(struct rxloop *loop)
{
	return pthread_equal(pthread_self(), loop->self);
}

void
rxloop_rx(struct rxloop *loop, size_t len)
{
	if (len >= RXLOOP_RX_BUF / 2)
		loop->hot = 1;
}

void
rxloop_settling(struct rxloop *loop, int delta)
{
	loop->settling += delta;
}

void
rxloop_brisk(struct rxloop *loop, int delta)
{
	loop->brisk += delta;
}
