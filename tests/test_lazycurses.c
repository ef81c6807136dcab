/* test_lazycurses.c -- ncursesw that cannot be used (ui/lazycurses.c):
 * the console says so and does not crash. Run with LD_LIBRARY_PATH on
 * tests/fakelibs in the build folder, whose libncursesw.so.6
 * (tests/fakelib.c) defines none of ncurses' functions. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "ui/console.h"
#include "ui/lazycurses.h"

#define NO_CURSES	"libncursesw.so.6 has no "

static void
test_no_curses(void **state)
{
	struct console_config	cfg;
	char			err[256];

	(void)state;
	memset(&cfg, 0, sizeof cfg);
	err[0] = '\0';
	assert_int_equal(lazycurses_load(err, sizeof err), -1);
	assert_non_null(strstr(err, NO_CURSES));
	/* the variables were never pointed into the library */
	assert_null(stdscr);
	assert_int_equal(LINES, 0);
	/* the console fails first thing, with the loader's message */
	err[0] = '\0';
	assert_int_equal(console_run(&cfg, err, sizeof err), -1);
	assert_non_null(strstr(err, NO_CURSES));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_curses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
