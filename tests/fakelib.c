/* fakelib.c -- a shared library with none of libpq's or libcurl's
 * functions, built as libpq.so.5 and libcurl.so.4 next to the test:
 * test_lazylib loads it in their place (LD_LIBRARY_PATH). */
int	fakelib_marker = 1;
