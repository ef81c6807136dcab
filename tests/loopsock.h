/*
 * loopsock.h -- for failure tests: a free loopback TCP port, either with a
 * socket that accepts connections and never answers, or with nobody
 * listening. Header-only; include after cmocka.h.
 */
#ifndef LOOPSOCK_H
#define LOOPSOCK_H

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* listening: returns the listening socket (the kernel completes the
 * handshakes, nobody reads); else the socket is closed again at once and
 * -1 returned: nothing listens on *port, connections are refused. */
static inline int
loopsock(int listening, int *port)
{
	struct sockaddr_in	a;
	socklen_t		l = sizeof a;
	int			fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	*port = ntohs(a.sin_port);
	if (listening) {
		/* room for every connect of a test: none is ever accepted */
		assert_int_equal(listen(fd, 128), 0);
		return fd;
	}
	close(fd);
	return -1;
}

#endif
