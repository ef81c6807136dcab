/*
 * probe.h -- for driver tests: a sink that records what a receiver driver
 * reports (states, streams, samples, peak, tone frequency, GPS time, the
 * simulator's counting signal), starting the simulator on free ports, and
 * the set-up and tear-down of a live test around it. Header-only; include
 * after cmocka.h.
 */
#ifndef PROBE_H
#define PROBE_H

#include <complex.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net/rx/receiver.h"
#include "net/rx/rxloop.h"
#include "src/engine/config.h"

struct probe {
	pthread_mutex_t	 lock;
	enum rx_state	 state;
	char		 reason[200];
	char		 reasons[1024];	/* every non-streaming reason */
	int		 retries;
	int		 streams;
	double		 fs;
	size_t		 samples;
	size_t		 lost;
	int		 peak;		/* max |I|, |Q| */
	double complex	 acc;		/* sum x[n] conj(x[n-1]) */
	double complex	 prev;
	int		 have_prev;
	double		 power;		/* sum |x|^2, full scale 1 */
	int		 gps;		/* blocks with a fresh GPS time */
	int		 stream_blocks;	/* blocks of the current stream */
	int		 gps_nofirst;	/* GPS streams whose first block had
					   no GPS time */
	int		 gps_jumps;	/* GPS times not continuing the last */
	double		 gps_next;	/* the next block's expected, or 0 */
	int		 counting;	/* set: check the counting signal */
	uint32_t	 next;		/* its expected counter */
	int		 count_ok, count_bad;
};

static inline void
p_state(void *ctx, enum rx_state st, const char *reason)
{
	struct probe *p = ctx;

	pthread_mutex_lock(&p->lock);
	p->state = st;
	snprintf(p->reason, sizeof p->reason, "%s", reason);
	if (st != RX_STREAMING && strlen(p->reasons) + strlen(reason) + 3 <
	    sizeof p->reasons) {
		strcat(p->reasons, reason);
		strcat(p->reasons, "; ");
	}
	if (st == RX_RETRYING)
		p->retries++;
	pthread_mutex_unlock(&p->lock);
}

static inline void
p_stream(void *ctx, double fs)
{
	struct probe *p = ctx;

	pthread_mutex_lock(&p->lock);
	p->streams++;
	p->fs = fs;
	p->stream_blocks = 0;
	p->gps_next = 0;
	p->have_prev = 0;
	p->count_ok = p->count_bad = 0;
	p->next = UINT32_MAX;
	pthread_mutex_unlock(&p->lock);
}

static inline void
p_block(void *ctx, const struct rx_block *b)
{
	struct probe	*p = ctx;
	size_t		 i;
	double		 t_gps;

	pthread_mutex_lock(&p->lock);
	p->samples += b->n;
	p->lost += b->lost;
	for (i = 0; i < b->n; i++) {
		int a = abs(b->iq[2 * i]), q = abs(b->iq[2 * i + 1]);
		double complex x = (b->iq[2 * i] + I * b->iq[2 * i + 1]) /
		    32768.0;
		if (a > p->peak)
			p->peak = a;
		if (q > p->peak)
			p->peak = q;
		if (p->have_prev)
			p->acc += x * conj(p->prev);
		p->prev = x;
		p->have_prev = 1;
		p->power += creal(x * conj(x));
	}
	/* seconds are plenty here: the ns stamps are test_chunker's */
	t_gps = b->t_gps_ns > 0 ? (double)b->t_gps_ns / 1e9 : 0;
	if (t_gps > 0 && fabs(t_gps - b->t_arrival) < 1.0)
		p->gps++;
	if (p->stream_blocks++ == 0 && t_gps <= 0 && b->gps_age >= 0)
		p->gps_nofirst++;
	if (t_gps > 0) {
		if (p->gps_next > 0 && fabs(t_gps - (p->gps_next +
		    (double)b->lost / p->fs)) > 1e-3)
			p->gps_jumps++;
		p->gps_next = t_gps + (double)b->n / p->fs;
	}
	/* the counting signal: I = counter & 0x7fff, Q = counter >> 15 */
	for (i = 0; p->counting && i < b->n; i++) {
		uint32_t c = (uint32_t)(uint16_t)b->iq[2 * i] |
		    (uint32_t)(uint16_t)b->iq[2 * i + 1] << 15;
		if (p->next != UINT32_MAX && c != p->next)
			p->count_bad++;
		else
			p->count_ok++;
		p->next = c + 1;
	}
	pthread_mutex_unlock(&p->lock);
}

static inline void
probe_init(struct probe *p, struct rx_sink *sink)
{
	memset(p, 0, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
	sink->state = p_state;
	sink->stream = p_stream;
	sink->block = p_block;
	sink->ctx = p;
}

/* The dominant tone's frequency (mean phase step), Hz. */
static inline double
probe_tone_hz(struct probe *p)
{
	return carg(p->acc) / (2 * M_PI) * p->fs;
}

/* Start the simulator with --station specs (NULL-terminated) on free
 * ports, writing its stations file to out; returns its pid. */
static inline pid_t
probe_start_sim(const char *specs[], int n, const char *out)
{
	const char	*sim = getenv("HEIMDALL_KIWISIM");
	char		*argv[64], line[128], count[8];
	int		 fd[2], i, k = 0;
	pid_t		 pid;
	FILE		*f;

	if (sim == NULL)
		sim = "./heimdall-kiwisim";
	snprintf(count, sizeof count, "%d", n);
	argv[k++] = (char *)sim;
	argv[k++] = "--count";
	argv[k++] = count;
	argv[k++] = "--base-port";
	argv[k++] = "0";
	argv[k++] = "--stations-out";
	argv[k++] = (char *)out;
	for (i = 0; specs[i] != NULL && k < 60; i++) {
		argv[k++] = "--station";
		argv[k++] = (char *)specs[i];
	}
	argv[k] = NULL;
	assert_int_equal(pipe(fd), 0);
	pid = fork();
	if (pid == 0) {
		dup2(fd[1], 1);
		execv(sim, argv);
		_exit(127);
	}
	close(fd[1]);
	f = fdopen(fd[0], "r");
	if (fgets(line, sizeof line, f) == NULL || strncmp(line, "ready", 5))
		fail_msg("simulator %s did not start", sim);
	fclose(f);
	return pid;
}

/* A live driver test: the simulator on free ports, the stations file it
 * wrote, loaded, and one network loop for the drivers. */
struct probe_live {
	char		 out[64];	/* the simulator's stations file */
	pid_t		 pid;
	struct stations	 st;
	struct rxloop	*loop;
};

/* name: the stations file's prefix in /tmp ("test_kiwi"). */
static inline void
probe_live_start(struct probe_live *l, const char *name, const char *specs[],
    int n)
{
	char	 err[256];
	int	 fd;

	snprintf(l->out, sizeof l->out, "/tmp/%s_XXXXXX", name);
	fd = mkstemp(l->out);
	assert_true(fd >= 0);
	close(fd);
	l->pid = probe_start_sim(specs, n, l->out);
	assert_int_equal(config_load_stations(l->out, &l->st, err, sizeof err),
	    0);
	l->loop = rxloop_new(0, err, sizeof err);
	assert_non_null(l->loop);
}

/* Once every driver is closed: the loop, the simulator, its file, the
 * stations (drivers copy their station on open). */
static inline void
probe_live_stop(struct probe_live *l)
{
	rxloop_free(l->loop);
	kill(l->pid, SIGTERM);
	waitpid(l->pid, NULL, 0);
	unlink(l->out);
	config_free_stations(&l->st);
}

#endif
