/* npy.c -- NPY v1.0 files of complex64 samples: writer (streaming) and strict reader. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/base/npy.h"
#include "src/base/util.h"

#define NPY_MAGIC	"\x93NUMPY"
#define NPY_MAX_HEADER	65536

size_t
npy_header_nd(char *buf, size_t buflen, const char *descr,
    const size_t *shape, int ndim)
{
	char	 dict[512], dims[320];
	size_t	 dlen, total, o = 0;
	int	 i;

	dims[0] = '\0';
	for (i = 0; i < ndim && o < sizeof dims; i++)
		o += (size_t)snprintf(dims + o, sizeof dims - o, "%zu,%s",
		    shape[i], i + 1 < ndim ? " " : "");
	if (o >= sizeof dims)
		return 0;
	/* (n,) for one dimension, (a, b) for more, () for a scalar */
	if (ndim > 1)
		dims[o - 1] = '\0';
	dlen = (size_t)snprintf(dict, sizeof dict,
	    "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
	    descr, dims);
	if (dlen >= sizeof dict)
		return 0;
	/* magic(6) + version(2) + u16 length + dict + padding + '\n' must be
	 * a multiple of 64 so the data starts aligned (the NPY spec). */
	total = 10 + dlen + 1;
	total = (total + 63) / 64 * 64;
	if (total > buflen)
		return 0;
	memcpy(buf, NPY_MAGIC "\x01\x00", 8);
	buf[8] = (char)((total - 10) & 0xff);
	buf[9] = (char)((total - 10) >> 8);
	memcpy(buf + 10, dict, dlen);
	memset(buf + 10 + dlen, ' ', total - 10 - dlen - 1);
	buf[total - 1] = '\n';
	return total;
}

static size_t
npy_header(char *buf, size_t buflen, size_t n, const char *descr)
{
	return npy_header_nd(buf, buflen, descr, &n, 1);
}

size_t
npy_header_c8(char *buf, size_t buflen, size_t n)
{
	return npy_header(buf, buflen, n, "<c8");
}

size_t
npy_header_f4(char *buf, size_t buflen, size_t n)
{
	return npy_header(buf, buflen, n, "<f4");
}

/*
 * Samples per write(). A KiwiSDR's 1-s chunk (12,001 complex samples,
 * 96 KB) goes out in one write() with its header: a write of the header
 * and one per 32 KiB after it cost ~1.5x the kernel CPU per file (each
 * write walks its page-cache folios, and ext4 gives a larger write larger
 * folios), ~1 ms of a 7-station 10-s session (bench/README.md). On the
 * stack: 96 KiB and the header.
 */
#define NPY_BLOCK	12288
#define NPY_HDR_MAX	256		/* npy_header_c8/f4 of one dimension:
					   128 bytes */

/*
 * Header + n samples of iq as float32 (int16 / 32768, exact in float32:
 * the file holds exactly what the receiver sent, scaled to full scale
 * 1.0), little-endian: both I and Q (c8), or I alone (f4: real audio, Q is
 * 0). The header rides in the first write.
 */
/* GCC's and clang's vector extensions, as in metrics.c */
typedef int16_t	v8s __attribute__((vector_size(16)));
typedef int16_t	v16s __attribute__((vector_size(32)));
typedef float	v8f __attribute__((vector_size(32)));

static int
write_f32(int fd, const char *hdr, size_t hlen, const int16_t *iq, size_t n,
    int real)
{
	/* floats, so that the conversion below is a plain vector loop; the
	 * header's length is a multiple of 64 (the NPY spec): it ends on a
	 * float */
	float		 buf[(NPY_HDR_MAX + NPY_BLOCK * 8) / sizeof(float)];
	const size_t	 per = real ? 1 : 2;	/* floats per sample */
	size_t		 at, done = 0, m, i;

	if (hlen > NPY_HDR_MAX || hlen % sizeof(float) != 0) {
		errno = EINVAL;		/* cannot happen: 128 bytes */
		return -1;
	}
	memcpy(buf, hdr, hlen);
	at = hlen / sizeof(float);
	do {
		float *out = buf + at;
		const int16_t *in = iq + 2 * done;
		m = n - done < NPY_BLOCK ? n - done : NPY_BLOCK;
		/*
		 * x / 32768 is x * 2^-15, exactly. Eight values at a time in
		 * vectors: gcc 12 at -O2 leaves the plain loop scalar (its
		 * "very cheap" cost model refuses a loop that needs an
		 * epilogue): ~4 us less a 1-s KiwiSDR chunk, ~0.3 ms of a
		 * 7-station 10-s session. The same conversion and product
		 * per value, so the same bytes.
		 */
		i = 0;
		if (real) {
			for (; i + 8 <= m; i += 8) {
				v16s v;
				v8f f;
				memcpy(&v, in + 2 * i, sizeof v);
				f = __builtin_convertvector(
				    __builtin_shufflevector(v, v, 0, 2, 4, 6,
				    8, 10, 12, 14), v8f) * (1.0f / 32768.0f);
				memcpy(out + i, &f, sizeof f);
			}
			for (; i < m; i++)
				out[i] = (float)in[2 * i] * (1.0f / 32768.0f);
		} else {
			for (; i + 8 <= 2 * m; i += 8) {
				v8s v;
				v8f f;
				memcpy(&v, in + i, sizeof v);
				f = __builtin_convertvector(v, v8f) *
				    (1.0f / 32768.0f);
				memcpy(out + i, &f, sizeof f);
			}
			for (; i < 2 * m; i++)
				out[i] = (float)in[i] * (1.0f / 32768.0f);
		}
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
		for (i = 0; i < per * m; i++) {
			uint32_t u;
			memcpy(&u, &out[i], sizeof u);
			u = __builtin_bswap32(u);
			memcpy(&out[i], &u, sizeof u);
		}
#endif
		if (util_write_all(fd, buf, (at + per * m) * sizeof(float)) !=
		    0)
			return -1;
		at = 0;
		done += m;
	} while (done < n);
	return 0;
}

int
npy_write_c8_fd(int fd, const int16_t *iq, size_t n)
{
	char	hdr[NPY_HDR_MAX];
	size_t	hlen = npy_header_c8(hdr, sizeof hdr, n);

	return hlen == 0 ? -1 : write_f32(fd, hdr, hlen, iq, n, 0);
}

int
npy_write_f4_fd(int fd, const int16_t *iq, size_t n)
{
	char	hdr[NPY_HDR_MAX];
	size_t	hlen = npy_header_f4(hdr, sizeof hdr, n);

	return hlen == 0 ? -1 : write_f32(fd, hdr, hlen, iq, n, 1);
}

/* Find "'key': value" in the header dict; returns the value's start. */
static const char *
dict_value(const char *dict, const char *key)
{
	char		 pat[64];
	const char	*p;

	snprintf(pat, sizeof pat, "'%s':", key);
	p = strstr(dict, pat);
	if (p == NULL)
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	return p;
}

/*
 * The header parser every reader shares: magic, version 1.0, a descr of
 * '<c8' or '<f4', C order, a 1-D shape, and a file size that matches the
 * shape exactly (a truncated or padded file is refused, never read short).
 */
FILE *
npy_open(const char *path, enum npy_dtype *dtype, size_t *n, char *err,
    size_t errlen)
{
	unsigned char	 pre[10];
	char		*dict = NULL;
	const char	*v;
	size_t		 hlen, count, width;
	off_t		 size;
	char		*end;
	FILE		*f;

	*n = 0;
	f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fread(pre, 1, 10, f) != 10 || memcmp(pre, NPY_MAGIC, 6) != 0) {
		snprintf(err, errlen, "%s: not an NPY file", path);
		goto fail;
	}
	if (pre[6] != 1 || pre[7] != 0) {
		snprintf(err, errlen, "%s: NPY version %d.%d (only 1.0)", path,
		    pre[6], pre[7]);
		goto fail;
	}
	hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
	if (hlen == 0 || hlen > NPY_MAX_HEADER) {
		snprintf(err, errlen, "%s: bad header length", path);
		goto fail;
	}
	dict = calloc(1, hlen + 1);
	if (dict == NULL || fread(dict, 1, hlen, f) != hlen) {
		snprintf(err, errlen, "%s: truncated header", path);
		goto fail;
	}
	v = dict_value(dict, "descr");
	if (v != NULL && strncmp(v, "'<c8'", 5) == 0) {
		*dtype = NPY_C8;
		width = 8;
	} else if (v != NULL && strncmp(v, "'<f4'", 5) == 0) {
		*dtype = NPY_F4;
		width = 4;
	} else {
		snprintf(err, errlen, "%s: dtype is neither '<c8' (complex64) "
		    "nor '<f4' (float32)", path);
		goto fail;
	}
	v = dict_value(dict, "fortran_order");
	if (v == NULL || strncmp(v, "False", 5) != 0) {
		snprintf(err, errlen, "%s: fortran order is not supported",
		    path);
		goto fail;
	}
	v = dict_value(dict, "shape");
	if (v == NULL || *v != '(') {
		snprintf(err, errlen, "%s: no shape", path);
		goto fail;
	}
	errno = 0;
	count = strtoull(v + 1, &end, 10);
	while (*end == ' ')
		end++;
	if (errno != 0 || end == v + 1 || strncmp(end, ",)", 2) != 0 ||
	    count > ((uint64_t)1 << 40)) {
		snprintf(err, errlen, "%s: shape is not one-dimensional", path);
		goto fail;
	}
	if (fseeko(f, 0, SEEK_END) != 0 || (size = ftello(f)) < 0 ||
	    (uint64_t)size != 10 + hlen + (uint64_t)count * width) {
		snprintf(err, errlen, "%s: data size does not match shape (%zu "
		    "samples)", path, count);
		goto fail;
	}
	if (fseeko(f, (off_t)(10 + hlen), SEEK_SET) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	free(dict);
	*n = count;
	return f;
fail:
	fclose(f);
	free(dict);
	return NULL;
}

/* A whole 1-D file of dtype want (width bytes a sample: 8 for '<c8',
 * 2 floats; 4 for '<f4') into floats, host order. */
static int
read_all(const char *path, enum npy_dtype want, size_t width, float **out,
    size_t *n, char *err, size_t errlen)
{
	enum npy_dtype	 dt;
	float		*data = NULL;
	size_t		 count, i;
	FILE		*f;

	*out = NULL;
	*n = 0;
	if ((f = npy_open(path, &dt, &count, err, errlen)) == NULL)
		return -1;
	if (dt != want) {
		snprintf(err, errlen, "%s: dtype is not %s", path,
		    want == NPY_C8 ? "'<c8' (complex64)" : "'<f4' (float32)");
		goto fail;
	}
	data = malloc(count > 0 ? count * width : 1);
	if (data == NULL || fread(data, width, count, f) != count) {
		snprintf(err, errlen, "%s: truncated data", path);
		goto fail;
	}
	for (i = 0; i < count * (width / 4); i++) {
		unsigned char *p = (unsigned char *)&data[i];
		uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		    (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
		memcpy(&data[i], &u, sizeof u);
	}
	fclose(f);
	*out = data;
	*n = count;
	return 0;
fail:
	fclose(f);
	free(data);
	return -1;
}

int
npy_read_c8(const char *path, float **out, size_t *n, char *err,
    size_t errlen)
{
	return read_all(path, NPY_C8, 8, out, n, err, errlen);
}

int
npy_read_f4(const char *path, float **out, size_t *n, char *err,
    size_t errlen)
{
	return read_all(path, NPY_F4, 4, out, n, err, errlen);
}
