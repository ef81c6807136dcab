/* test_npy.c -- the NPY writer read back (ours and numpy's), and damaged files refused. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/base/npy.h"

static char path[64];

/* The header has a NUL in its length field: search it as bytes. */
static char *
find(char *buf, size_t len, const char *s)
{
	char	*p = memmem(buf, len, s, strlen(s));

	assert_non_null(p);
	return p;
}

static void
write_file(const int16_t *iq, size_t n)
{
	int	fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(npy_write_c8_fd(fd, iq, n), 0);
	close(fd);
}

static void
write_raw(const void *data, size_t len)
{
	FILE	*f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
test_roundtrip(void **state)
{
	size_t	 sizes[] = { 0, 1, 12001 };
	int16_t	*iq = malloc(2 * 12001 * sizeof *iq);
	float	*out;
	size_t	 n, i, k;
	char	 err[256], hdr[256];

	(void)state;
	for (i = 0; i < 2 * 12001; i++)
		iq[i] = (int16_t)((i * 7919) % 65536 - 32768);
	for (k = 0; k < 3; k++) {
		write_file(iq, sizes[k]);
		assert_int_equal(npy_read_c8(path, &out, &n, err, sizeof err),
		    0);
		assert_int_equal(n, sizes[k]);
		for (i = 0; i < 2 * n; i++)	/* exact in float32 */
			assert_true(out[i] == (float)iq[i] / 32768.0f);
		free(out);
		assert_int_equal(npy_header_c8(hdr, sizeof hdr, sizes[k]) % 64,
		    0);
	}
	free(iq);
}

static void
test_numpy_reads_it(void **state)
{
	int16_t	 iq[2 * 5] = { 0, 1, -32768, 32767, 16384, -16384, 3, 4, 5, 6 };
	char	 cmd[512];
	int	 rc;

	(void)state;
	write_file(iq, 5);
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c \"import numpy,sys;"
	    "a=numpy.load('%s');"
	    "assert a.dtype==numpy.complex64, a.dtype;"
	    "assert a.shape==(5,), a.shape;"
	    "assert a[1]==complex(-1.0, 32767/32768), a[1];"
	    "assert a[2]==complex(0.5,-0.5), a[2];"
	    "sys.exit(0)\"", path);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("numpy could not read the file back (rc %d): is "
		    "python3-numpy installed?", rc);
}

static void	expect_refused(const char *needle);

/* Audio: '<f4', only iq[2k] of each pair, read back by numpy. */
static void
test_f4_audio(void **state)
{
	int16_t	 iq[2 * 4] = { 16384, 0, -32768, 0, 32767, 0, 1, 0 };
	char	 cmd[600], hdr[256];
	int	 fd, rc;

	(void)state;
	assert_int_equal(npy_header_f4(hdr, sizeof hdr, 4) % 64, 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(npy_write_f4_fd(fd, iq, 4), 0);
	close(fd);
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c \"import numpy,sys;"
	    "a=numpy.load('%s');"
	    "assert a.dtype==numpy.float32, a.dtype;"
	    "assert a.shape==(4,), a.shape;"
	    "assert list(a)==[0.5,-1.0,32767/32768,1/32768], list(a);"
	    "sys.exit(0)\"", path);
	rc = system(cmd);
	if (rc != 0)
		fail_msg("numpy did not read the float32 audio back (rc %d)",
		    rc);
	/* the complex64 reader refuses it: another dtype */
	expect_refused("complex64");
	/* the float32 reader gives it back */
	{
		float	*out;
		size_t	 n;
		char	 err[256];

		assert_int_equal(npy_read_f4(path, &out, &n, err, sizeof err),
		    0);
		assert_int_equal(n, 4);
		assert_true(out[0] == 0.5f && out[1] == -1.0f &&
		    out[3] == 1.0f / 32768);
		free(out);
	}
}

/* Headers of any shape and dtype (the .npz members of store/arrays):
 * numpy reads the shape, dtype and data written after them. */
static void
test_header_nd(void **state)
{
	static const struct {
		const char	*descr;
		size_t		 shape[4];
		int		 nd;
		size_t		 item;
		const char	*check;
	} c[] = {
		{ "<f8", { 0 }, 0, 8, "a.shape==() and a.dtype=='<f8'" },
		{ "<f4", { 2, 3, 2, 5 }, 4, 4,
		    "a.shape==(2,3,2,5) and a.dtype=='<f4'" },
		{ "|b1", { 7 }, 1, 1, "a.shape==(7,) and a.dtype==bool" },
		{ "<U4", { 2 }, 1, 16, "a.shape==(2,) and a.dtype=='<U4'" },
		{ "<i8", { 3, 1 }, 2, 8, "a.shape==(3,1) and a.dtype=='<i8'" },
	};
	char	 hdr[512], cmd[800], data[256];
	size_t	 i, hl, k, count;
	FILE	*f;

	(void)state;
	memset(data, 0, sizeof data);
	for (i = 0; i < sizeof c / sizeof c[0]; i++) {
		hl = npy_header_nd(hdr, sizeof hdr, c[i].descr, c[i].shape,
		    c[i].nd);
		assert_true(hl > 0 && hl % 64 == 0);
		for (count = 1, k = 0; k < (size_t)c[i].nd; k++)
			count *= c[i].shape[k];
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(hdr, 1, hl, f), hl);
		assert_int_equal(fwrite(data, 1, count * c[i].item, f),
		    count * c[i].item);
		fclose(f);
		snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c \"import "
		    "numpy,sys;a=numpy.load('%s');sys.exit(0 if %s else 1)\"",
		    path, c[i].check);
		if (system(cmd) != 0)
			fail_msg("numpy: %s %s", c[i].descr, c[i].check);
	}
	/* too small a buffer: 0 */
	assert_int_equal(npy_header_nd(hdr, 32, "<f4", c[1].shape, 4), 0);
}

static void
expect_refused(const char *needle)
{
	float	*out = (float *)1;
	size_t	 n = 99;
	char	 err[256] = "";

	assert_int_equal(npy_read_c8(path, &out, &n, err, sizeof err), -1);
	assert_null(out);
	if (strstr(err, needle) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, needle);
}

static void
test_damaged(void **state)
{
	int16_t	 iq[2 * 16] = { 1, 2, 3, 4 };
	char	 buf[512];
	size_t	 hlen;
	FILE	*f;

	(void)state;
	write_raw("hello world", 11);
	expect_refused("not an NPY");

	/* truncated data */
	write_file(iq, 8);
	hlen = npy_header_c8(buf, sizeof buf, 8);
	assert_int_equal(truncate(path, (off_t)(hlen + 8 * 8 - 3)), 0);
	expect_refused("size does not match");

	/* other dtype */
	hlen = npy_header_c8(buf, sizeof buf, 8);
	memcpy(find(buf, hlen, "<c8"), "<f8", 3);
	write_raw(buf, hlen);
	f = fopen(path, "ab");
	fwrite(iq, 1, 64, f);
	fclose(f);
	expect_refused("dtype");

	/* fortran order */
	hlen = npy_header_c8(buf, sizeof buf, 8);
	memcpy(find(buf, hlen, "False"), "True ", 5);
	write_raw(buf, hlen);
	expect_refused("fortran");

	/* 2-D */
	hlen = npy_header_c8(buf, sizeof buf, 8);
	memcpy(find(buf, hlen, "(8,)"), "(2,4", 4);
	write_raw(buf, hlen);
	expect_refused("one-dimensional");

	/* version 2 */
	hlen = npy_header_c8(buf, sizeof buf, 8);
	buf[6] = 2;
	write_raw(buf, hlen);
	expect_refused("version");

	/* header length past the end */
	hlen = npy_header_c8(buf, sizeof buf, 8);
	buf[8] = (char)0xff;
	buf[9] = (char)0x7f;
	write_raw(buf, hlen);
	expect_refused("header");

	unlink(path);
	expect_refused("cannot open");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_numpy_reads_it),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_f4_audio),
		cmocka_unit_test(test_header_nd),
	};
	int	fd, rc;

	snprintf(path, sizeof path, "/tmp/test_npy_XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return 1;
	close(fd);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	return rc;
}
