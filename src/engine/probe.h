/*
 * probe.h -- which stations answer, and which accept a session: the one
 * reachability probe of every front-end (the server's /health, the
 * console's step 3 "N reachable").
 *
 * Two depths:
 *   probe_tcp()        a TCP connect to each station's host and port, all
 *                      at once (batches of PROBE_BATCH): cheap, for a
 *                      periodic check (/health's receivers_reachable).
 *   probe_accepting()  "reachable" as an operator means it (issue 13): the
 *                      station takes the session's frequency (its range,
 *                      session_station_takes), answers on its port, and its
 *                      receiver accepts the session -- opened with its own
 *                      driver on the receivers' loop, as acquisition opens
 *                      it (password, frequency, passband), until samples
 *                      flow (accepting) or it fails or retries with the
 *                      receiver's reason ("bad password (badp=1)",
 *                      "too_busy", ...), at most timeout s; then closed.
 * Both block (DNS, connects): call them on a thread of their own, never on
 * the receivers' loop thread. Thread-safe.
 */
#ifndef PROBE_H
#define PROBE_H

#include <stddef.h>

#include "src/base/station.h"

#define PROBE_BATCH		128	/* connects in flight at once */
#define PROBE_TCP_TIMEOUT	1.5	/* s a batch of connects may take */
#define PROBE_ACCEPT_TIMEOUT	4.0	/* s to wait for samples */

struct rxloop;
struct session_params;

struct probe_result {
	int	reachable;		/* TCP connect succeeded */
	int	accepting;		/* probe_accepting: samples came */
	char	reason[160];		/* why not ("" when accepting) */
};

/* TCP connects to every station, timeout s per batch (<= 0: the
 * default). Returns how many answered; out (sts->n entries, may be NULL)
 * gets each one's result (reason "no answer on HOST:PORT", "cannot
 * resolve HOST"). */
int	probe_tcp(const struct stations *sts, double timeout,
	    struct probe_result *out);

/* Stations that take p's frequency, answer and accept a session with p's
 * frequency and passband, within timeout s (<= 0: the default). Returns
 * how many accept; out as for probe_tcp (reason: "left out: ...", no
 * answer, or the receiver's). */
int	probe_accepting(struct rxloop *loop, const struct stations *sts,
	    const struct session_params *p, double timeout,
	    struct probe_result *out);

#endif
