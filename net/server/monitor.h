/*
 * monitor.h -- what the server tells a station's monitoring: the
 * Prometheus text exposition (format 0.0.4) behind GET /metrics, and the
 * one-line state a service manager shows (systemd's STATUS=).
 *
 * It owns those two views and the counters behind them. They come from
 * the engine's events, which the server sees on the bus anyway
 * (monitor_event), and from what the server reads when scraped (struct
 * monitor_scrape: its clients, the central store's last status); the
 * engine knows nothing of it. Process figures (CPU, memory, descriptors)
 * are read from /proc at each scrape.
 *
 * Series (labels: websdr = the station's 1-based index, station = its
 * name; every configured station has its series from the start, at 0):
 *   heimdall_build_info{version}                       gauge 1
 *   heimdall_receivers_configured                      gauge
 *   heimdall_receivers{state}                          gauge: stations by
 *       their receiver's last state (idle: in no acquisition; connecting,
 *       streaming, retrying, failed, stopped)
 *   heimdall_receiver_failures_total{websdr,station,reason}  counter: a
 *       receiver that ended failed, by its reason (MONITOR_REASONS per
 *       station; further ones count as reason="other")
 *   heimdall_receiver_retries_total{websdr,station}    counter
 *   heimdall_chunks_stored_total{websdr,station}       counter
 *   heimdall_chunks_missing_total{websdr,station}      counter
 *   heimdall_samples_lost_total{websdr,station}        counter: zero-filled
 *       samples in stored chunks
 *   heimdall_chunk_snr_db{websdr,station}              gauge: the last
 *       stored chunk's SNR (NaN: that chunk had none; absent before one)
 *   heimdall_chunk_last_timestamp_seconds{websdr,station}  gauge
 *   heimdall_sessions{state}                           gauge: sessions open
 *       (recording, source_assigned, queued, acquiring)
 *   heimdall_sessions_ended_total{status}              counter (completed,
 *       failed)
 *   heimdall_replication_enabled                       gauge 0/1
 *   heimdall_replication_backlog_rows, _objects, _sessions   gauge
 *   heimdall_store_up{store}                           gauge 1 ok, 0 error
 *       (store: db, s3; only the stores configured)
 *   heimdall_store_error_info{store,error}             gauge 1: the last
 *       error of a store in error
 *   heimdall_ws_clients, heimdall_ws_clients_max        gauge
 *   heimdall_ws_clients_dropped_total                   counter
 *   process_cpu_seconds_total, process_resident_memory_bytes,
 *   process_virtual_memory_bytes, process_open_fds, process_max_fds,
 *   process_start_time_seconds                          (the usual names)
 *
 * Label values are escaped as the format asks (\\, \", \n) and made valid
 * UTF-8. Thread-safe: monitor_event on any thread (the bus subscriber),
 * the rest on the server's.
 */
#ifndef MONITOR_H
#define MONITOR_H

#include <stddef.h>
#include <jansson.h>

struct stations;
struct monitor;

#define MONITOR_REASONS		8	/* failure reasons kept per station */
#define MONITOR_REASON_MAX	160	/* bytes of a reason label */
#define MONITOR_SESSIONS	128	/* open sessions followed */
#define MONITOR_STATUS_MAX	512	/* bytes of the status line */

/* stations: borrowed, outlives the monitor. NULL when out of memory. */
struct monitor	*monitor_new(const struct stations *stations);
void		 monitor_free(struct monitor *m);

/* An engine event (events.h: name and data, borrowed). */
void		 monitor_event(struct monitor *m, const char *name,
		    const json_t *data);

/* The one-line state: 'acquiring "NAME" (chunk 3/10, 7 of 7 receivers
 * streaming), 1 queued, 2 open' or 'idle, 7 receivers; last session
 * "NAME" completed'. */
void		 monitor_status(struct monitor *m, char *buf, size_t len);

/* What the server knows at scrape time. */
struct monitor_scrape {
	int		 clients;		/* WebSocket clients now */
	int		 max_clients;		/* ... accepted at most */
	unsigned long	 clients_dropped;	/* slow consumers dropped */
	const json_t	*central;		/* replicator_status(), or NULL:
						   no central store */
};

/* The exposition text (malloc'd, *len bytes, NUL-terminated), or NULL when
 * out of memory. */
char		*monitor_render(struct monitor *m,
		    const struct monitor_scrape *sc, size_t *len);

/* A label value as the format writes it between its quotes: \ " and
 * newline escaped, a byte not in valid UTF-8 written as "?", cut (whole
 * characters) to fit len with its NUL. Returns out. */
char		*monitor_label(const char *s, char *out, size_t len);

#endif
