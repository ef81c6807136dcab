/* rxloop.c -- the one libwebsockets event loop (and thread) serving every receiver connection. */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "rxloop.h"
#include "kiwi.h"
#include "rawtcp.h"
#include "openwebrx.h"

struct call {
	struct call	*next;
	rxloop_fn	 fn;
	void		*arg;
	int		*done;		/* rxloop_call_wait: set when run */
};

struct rxloop {
	struct lws_context	*ctx;
	pthread_t		 thread;
	pthread_t		 self;		/* the loop thread's id */
	pthread_mutex_t		 lock;
	pthread_cond_t		 ran;
	struct call		*head, *tail;
	volatile int		 stop;
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

static const struct lws_protocols protocols[] = {
	{ "rxloop", loop_callback, 0, 0, 0, NULL, 0 },
	{ "kiwi", NULL, 0, 0, 0, NULL, 0 },	/* filled from kiwi_protocol */
	{ "rawtcp", NULL, 0, 0, 0, NULL, 0 },	/* rawtcp_protocol */
	{ "openwebrx", NULL, 0, 0, 0, NULL, 0 },	/* openwebrx_protocol */
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void *
loop_main(void *arg)
{
	struct rxloop	*loop = arg;

	while (!loop->stop)
		lws_service(loop->ctx, 0);
	drain(loop);
	return NULL;
}

struct rxloop *
rxloop_new(int tls, char *err, size_t errlen)
{
	static struct lws_protocols	 prot[sizeof protocols /
					     sizeof protocols[0]];
	struct lws_context_creation_info info;
	struct rxloop			*loop;

	loop = calloc(1, sizeof *loop);
	if (loop == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&loop->lock, NULL);
	pthread_cond_init(&loop->ran, NULL);
	memcpy(prot, protocols, sizeof prot);
	prot[1] = kiwi_protocol;
	prot[2] = rawtcp_protocol;
	prot[3] = openwebrx_protocol;

	/* Quiet: receivers that refuse or drop are reported through the
	 * sink with a reason; lws' own notices would only repeat them. */
	lws_set_log_level(LLL_ERR, NULL);
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = prot;
	info.user = loop;
	/* TLS costs a CA-store load at start: only when a station needs it. */
	info.options = tls ? LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT : 0;
	info.timeout_secs = 5;
	info.connect_timeout_secs = 5;
	loop->ctx = lws_create_context(&info);
	if (loop->ctx == NULL) {
		snprintf(err, errlen, "cannot create the network event loop");
		goto fail;
	}
	if (pthread_create(&loop->thread, NULL, loop_main, loop) != 0) {
		snprintf(err, errlen, "cannot start the network thread");
		lws_context_destroy(loop->ctx);
		goto fail;
	}
	loop->self = loop->thread;
	return loop;
fail:
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
	loop->stop = 1;
	lws_cancel_service(loop->ctx);
	pthread_join(loop->thread, NULL);
	lws_context_destroy(loop->ctx);
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
