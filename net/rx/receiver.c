/* receiver.c -- the table of receiver drivers and state names, and the
 * helpers the drivers share. */

#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "src/base/station.h"
#include "src/base/util.h"

#include "net/rx/receiver.h"
#include "net/rx/kiwi.h"
#include "net/rx/rtltcp.h"
#include "net/rx/spyserver.h"
#include "net/rx/openwebrx.h"
#include "net/rx/replay.h"

#define RX_MAX_DRIVERS	16

static const struct rx_driver *drivers[RX_MAX_DRIVERS] = { &kiwi_driver,
    &rtltcp_driver, &spyserver_driver, &openwebrx_driver, &replay_driver };
static int ndrivers = 5;

const char *
rx_state_name(enum rx_state st)
{
	switch (st) {
	case RX_CONNECTING:
		return "connecting";
	case RX_STREAMING:
		return "streaming";
	case RX_RETRYING:
		return "retrying";
	case RX_FAILED:
		return "failed";
	case RX_STOPPED:
		return "stopped";
	}
	return "unknown";
}

int
rx_type_audio(const char *type)
{
	return strcmp(type, "openwebrx") == 0;
}

int
rx_type_replay(const char *type)
{
	return strcmp(type, "kiwiwav") == 0;
}

void
rx_audio_passband(const struct station *st, int high_cut, double fs,
    const char **mode, int *lo, int *hi)
{
	*mode = st->mode[0] != '\0' ? st->mode : "usb";
	if (st->has_cut) {
		*lo = st->low_cut;
		*hi = st->high_cut;
		return;
	}
	*lo = 100;
	*hi = high_cut;
	if (*hi > (int)(fs / 2) - 100)
		*hi = (int)(fs / 2) - 100;
	if (*hi <= *lo)
		*hi = *lo + 100;
}

const struct rx_driver *
rx_driver_find(const char *type)
{
	int	i;

	for (i = 0; i < ndrivers; i++)
		if (strcmp(drivers[i]->type, type) == 0)
			return drivers[i];
	return NULL;
}

int
rx_driver_register(const struct rx_driver *drv)
{
	if (ndrivers >= RX_MAX_DRIVERS || rx_driver_find(drv->type) != NULL)
		return -1;
	drivers[ndrivers++] = drv;
	return 0;
}

int
rx_resolve(const char *host, char *addr, size_t addrlen, char *err,
    size_t errlen)
{
	struct addrinfo	 hints, *res;
	int		 rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %.100s: %s", host,
		    gai_strerror(rc));
		return -1;
	}
	if (res->ai_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)res->ai_addr)->
		    sin6_addr, addr, addrlen);
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->
		    sin_addr, addr, addrlen);
	freeaddrinfo(res);
	return 0;
}

const char *
rx_reason(const char *in, char buf[RX_REASON_MAX + 1])
{
	size_t	n;

	snprintf(buf, RX_REASON_MAX + 1, "%s", in != NULL ? in : "");
	/* a cut in the middle of a character: drop its lead bytes */
	n = strlen(buf);
	if (n == RX_REASON_MAX && strlen(in) > n) {
		while (n > 0 && ((unsigned char)buf[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0 && (unsigned char)buf[n - 1] >= 0xc0)
			n--;
		/* ... unless the character was whole */
		if (util_utf8_valid(buf + n, RX_REASON_MAX - n))
			n = RX_REASON_MAX;
		buf[n] = '\0';
	}
	util_utf8_sanitize(buf);
	return buf;
}
