/*
 * sdnotify.h -- telling a service manager how the service is: systemd's
 * notification protocol (sd_notify(3)) through libsystemd, loaded on first
 * use (src/base/dynlib.h).
 *
 * Only a process started by a service manager has NOTIFY_SOCKET in its
 * environment; without it nothing is loaded and every call here does
 * nothing. With it, sdnotify_open() loads libsystemd.so.0 and reads
 * WATCHDOG_USEC (sd_watchdog_enabled(3)).
 *
 * Why lazily: libsystemd.so.0 brings libcap, libgcrypt, libgpg-error,
 * liblzma, libzstd and liblz4 along; linked, every start of heimdall-rec
 * would load and relocate them (18 -> 24 shared objects; `--version`
 * 16-18 -> 19.5-23.5 ms of CPU: bench/README.md, item 3), while only
 * `serve` under systemd ever uses them.
 *
 * Messages are single lines: a newline in a status is sent as a space.
 * Thread-safe (sd_notify opens a datagram socket per message).
 */
#ifndef SDNOTIFY_H
#define SDNOTIFY_H

#include <stddef.h>

#define SDNOTIFY_STATUS_MAX	512	/* bytes of a STATUS= line */

/* 1: a service manager listens (libsystemd loaded); 0: none (NOTIFY_SOCKET
 * unset: nothing loaded); -1: NOTIFY_SOCKET is set but libsystemd cannot
 * be loaded (err says why). Once per process; later calls return the same. */
int	sdnotify_open(char *err, size_t errlen);
/* The interval the service manager wants WATCHDOG=1 pings at: half its
 * WatchdogSec (sd_watchdog_enabled), in s; 0 without a watchdog (or
 * without a service manager). After sdnotify_open(). */
double	sdnotify_watchdog_interval(void);
/* READY=1 with a STATUS= line (status may be NULL). */
void	sdnotify_ready(const char *status);
/* STATUS=<status>. */
void	sdnotify_status(const char *status);
/* WATCHDOG=1: the service is alive. */
void	sdnotify_watchdog(void);
/* STOPPING=1 with a STATUS= line (may be NULL). */
void	sdnotify_stopping(const char *status);

#endif
