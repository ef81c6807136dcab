/* test_sdnotify.c -- the notification protocol (src/base/sdnotify.c) against a socket of the test's own. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "src/base/sdnotify.h"

/* The next datagram, NUL-terminated; "" after 2 s without one. */
static void
next(int fd, char *buf, size_t len)
{
	ssize_t	n = recv(fd, buf, len - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
}

/* sdnotify opens once per process: one scenario, a manager listening. */
static void
test_manager(void **state)
{
	struct sockaddr_un	 sa;
	struct timeval		 tv = { 2, 0 };
	char			 path[64], buf[1024], err[256], st[600];
	int			 fd;

	(void)state;
	snprintf(path, sizeof path, "/tmp/hr-sdnotify-%d.sock", (int)getpid());
	unlink(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "3000000", 1);
	unsetenv("WATCHDOG_PID");

	assert_int_equal(sdnotify_open(err, sizeof err), 1);
	assert_int_equal(sdnotify_open(NULL, 0), 1);
	/* pings at half the timeout */
	assert_true(sdnotify_watchdog_interval() > 1.49 &&
	    sdnotify_watchdog_interval() < 1.51);

	sdnotify_ready("idle, 7 receivers");
	next(fd, buf, sizeof buf);
	assert_string_equal(buf, "READY=1\nSTATUS=idle, 7 receivers");
	sdnotify_ready(NULL);
	next(fd, buf, sizeof buf);
	assert_string_equal(buf, "READY=1");
	/* a newline would start another assignment: sent as a space */
	sdnotify_status("two\nlines\rhere");
	next(fd, buf, sizeof buf);
	assert_string_equal(buf, "STATUS=two lines here");
	sdnotify_watchdog();
	next(fd, buf, sizeof buf);
	assert_string_equal(buf, "WATCHDOG=1");
	sdnotify_stopping("bye");
	next(fd, buf, sizeof buf);
	assert_string_equal(buf, "STOPPING=1\nSTATUS=bye");
	/* a status longer than the limit is cut, still one line */
	memset(st, 'x', sizeof st - 1);
	st[sizeof st - 1] = '\0';
	sdnotify_status(st);
	next(fd, buf, sizeof buf);
	assert_int_equal(strlen(buf), strlen("STATUS=") +
	    SDNOTIFY_STATUS_MAX - 1);
	close(fd);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manager),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
