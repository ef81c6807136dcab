/* fakelib.c -- a shared library with none of libpq's, libcurl's, libzip's,
 * libsoxr's or GSL's functions, built as libpq.so.5, libcurl.so.4,
 * libzip.so.4 and libsoxr.so.0 next to the test, and as libgsl.so.27 in
 * tests/fakegsl: test_lazylib and test_lazygsl load it in their place
 * (LD_LIBRARY_PATH). */
int	fakelib_marker = 1;
