/* fakelib.c -- a shared library with none of libpq's, libcurl's, libzip's,
 * libsoxr's, GSL's or ncurses' functions, built as libpq.so.5,
 * libcurl.so.4, libzip.so.4 and libsoxr.so.0 next to the test, and as
 * libgsl.so.27 and libncursesw.so.6 in tests/fakelibs: test_lazylib,
 * test_lazygsl and test_lazycurses load it in their place
 * (LD_LIBRARY_PATH). */
int	fakelib_marker = 1;
