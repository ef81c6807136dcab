/* sdnotify.c -- READY, STATUS, WATCHDOG and STOPPING to the service manager, libsystemd loaded on first use. */

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

#include "src/base/dynlib.h"
#include "src/base/sdnotify.h"

/*
 * The soname: libsystemd has kept libsystemd.so.0 since it was made
 * (systemd 209), and sd_notify and sd_watchdog_enabled with it. Not the
 * unversioned "libsystemd.so": that link exists only with libsystemd-dev.
 */
#define SYSTEMD_SONAME	"libsystemd.so.0"

#define SYSTEMD_FUNCS(X, V) \
	X(int, sd_notify, (int unset_environment, const char *state), \
	    (unset_environment, state)) \
	X(int, sd_watchdog_enabled, (int unset_environment, uint64_t *usec), \
	    (unset_environment, usec))

SYSTEMD_FUNCS(DYNLIB_PTR, DYNLIB_PTRV)

static const struct dynlib_sym systemd_syms[] = {
	SYSTEMD_FUNCS(DYNLIB_SYM, DYNLIB_SYMV)
	{ NULL, NULL }
};

static struct dynlib	systemd = DYNLIB_INIT(SYSTEMD_SONAME, systemd_syms);

#define SYSTEMD_FWD(ret, name, params, args) \
	DYNLIB_FWD(systemd, ret, name, params, args)
#define SYSTEMD_FWDV(name, params, args) \
	DYNLIB_FWD_VOID(systemd, name, params, args)
SYSTEMD_FUNCS(SYSTEMD_FWD, SYSTEMD_FWDV)

static pthread_once_t	 once = PTHREAD_ONCE_INIT;
static int		 state;		/* 1 on, 0 no manager, -1 failed */
static double		 interval;	/* s between pings; 0: none */
static char		 why[256];

static void
open_once(void)
{
	const char	*sock = getenv("NOTIFY_SOCKET");
	uint64_t	 usec = 0;

	if (sock == NULL || sock[0] == '\0') {
		state = 0;
		return;
	}
	if (dynlib_load(&systemd, why, sizeof why) != 0) {
		state = -1;
		return;
	}
	state = 1;
	/* >0: a watchdog for this very process (WATCHDOG_PID, when set,
	 * is ours); systemd recommends pinging at half the timeout. */
	if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0)
		interval = (double)usec / 2e6;
}

int
sdnotify_open(char *err, size_t errlen)
{
	pthread_once(&once, open_once);
	if (state < 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "NOTIFY_SOCKET is set, but %s", why);
	return state;
}

double
sdnotify_watchdog_interval(void)
{
	pthread_once(&once, open_once);
	return interval;
}

/* One message: "head" then, when status is given, "STATUS=status" on a
 * line of its own (a newline in it would start another assignment). */
static void
send_msg(const char *head, const char *status)
{
	char	 msg[SDNOTIFY_STATUS_MAX + 64], line[SDNOTIFY_STATUS_MAX];
	char	*p;

	pthread_once(&once, open_once);
	if (state != 1)
		return;
	if (status != NULL) {
		snprintf(line, sizeof line, "%s", status);
		for (p = line; *p != '\0'; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		snprintf(msg, sizeof msg, "%s%sSTATUS=%s", head,
		    head[0] != '\0' ? "\n" : "", line);
	} else
		snprintf(msg, sizeof msg, "%s", head);
	(void)sd_notify(0, msg);
}

void
sdnotify_ready(const char *status)
{
	send_msg("READY=1", status);
}

void
sdnotify_status(const char *status)
{
	send_msg("", status != NULL ? status : "");
}

void
sdnotify_watchdog(void)
{
	send_msg("WATCHDOG=1", NULL);
}

void
sdnotify_stopping(const char *status)
{
	send_msg("STOPPING=1", status);
}
