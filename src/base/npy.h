/*
 * npy.h -- NPY v1.0 files of complex64 samples ('<c8', shape (n,)) and of
 * float32 audio ('<f4').
 *
 * The values written are int16 / 32768 as float32 I and Q, little-endian.
 */
#ifndef NPY_H
#define NPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Header for n complex64 samples into buf (>= 128 bytes); returns its
 * length (a multiple of 64). */
size_t	npy_header_c8(char *buf, size_t buflen, size_t n);

/* Write header + n samples of interleaved int16 iq to fd, converting in
 * blocks of 12,288 samples (96 KiB on the stack; no n-sized allocation),
 * the header in the first write. 0, or -1 with errno set. */
int	npy_write_c8_fd(int fd, const int16_t *iq, size_t n);

/* Real audio: header for n float32 samples ('<f4'), and the writer that
 * takes interleaved int16 pairs and stores only the first of each (the
 * audio path: iq[2k] is the sample, iq[2k+1] is 0). */
size_t	npy_header_f4(char *buf, size_t buflen, size_t n);
int	npy_write_f4_fd(int fd, const int16_t *iq, size_t n);

/* What a stored chunk holds: complex64 IQ or float32 audio. */
enum npy_dtype { NPY_C8, NPY_F4 };

/*
 * Open a '<c8' or '<f4' 1-D NPY file whose size matches its shape exactly:
 * the stream (caller fcloses) is at the first sample, *dtype and *n (sample
 * count) set. NULL with a message (as npy_read_c8's).
 */
FILE	*npy_open(const char *path, enum npy_dtype *dtype, size_t *n,
	    char *err, size_t errlen);

/*
 * Read a '<c8' 1-D NPY file: *out gets 2n floats (malloc'd, caller frees),
 * *n the sample count. 0, or -1 with a message (bad magic, other dtype,
 * fortran order, truncated data, header too large).
 */
int	npy_read_c8(const char *path, float **out, size_t *n,
	    char *err, size_t errlen);
/* The same for a '<f4' 1-D file (real audio): *out gets n floats. */
int	npy_read_f4(const char *path, float **out, size_t *n,
	    char *err, size_t errlen);

/* Header of an n-dimensional C-order array of dtype descr ("<f4", "<i8",
 * "|b1", "<U16", ...) and shape[0..ndim-1] (ndim 0: a scalar) into buf;
 * its length (a multiple of 64), 0 if buf is too small. */
size_t	npy_header_nd(char *buf, size_t buflen, const char *descr,
	    const size_t *shape, int ndim);

#endif
