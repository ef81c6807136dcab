/*
 * sigmf.h -- a stored session exported as SigMF (the Signal Metadata Format,
 * core 1.2.0), the exchange format of the SDR tools (inspectrum, GNU Radio,
 * sigmf-python).
 *
 * It owns the export's layout and its metadata; it reads the session only
 * through store/dataset (the manifest with its measurement rows, the chunk
 * file names of dataset_chunk_key, the known sources) and src/base/npy (the
 * chunk files). For a session whose base name is B (sigmf_base_name):
 *
 *   DIR/B/B-websdrK.sigmf-data   receiver K's samples: its chunks' samples
 *                                back to back, exactly the bytes the .npy
 *                                files hold after their header (cf32_le
 *                                IQ; rf32_le for OpenWebRX audio)
 *   DIR/B/B-websdrK.sigmf-meta   global (datatype, version, the measured
 *                                sample rate, recorder, the station as a
 *                                GeoJSON point, description), one capture
 *                                per stored chunk (sample_start, frequency,
 *                                datetime: the first sample, to the ns when
 *                                GPS-timed), one annotation per chunk with
 *                                its metrics and one per gap, in the
 *                                "heimdall" namespace declared in
 *                                core:extensions (doc: the man page, SIGMF)
 *   DIR/B/B.sigmf-collection     core:streams (each recording's name and
 *                                the SHA-512 of its .sigmf-meta) and the
 *                                session: name, frequency, status, source
 *                                and its position, the session fix
 *
 * or, with archive, those files in one POSIX.1-2001 tar DIR/B.sigmf (its
 * one top-level folder B/, so that it extracts as the loose export). A
 * missing chunk is never bridged: the chunks after it start a new capture
 * whose datetime shows the gap, and a zero-length annotation "gap" marks it
 * (the samples on either side are never joined into one capture). Every
 * file is written to a temporary name and renamed, so an export that fails
 * leaves no half file under a final name.
 */
#ifndef SIGMF_H
#define SIGMF_H

#include <stddef.h>
#include <jansson.h>

#define SIGMF_CORE_VERSION	"1.2.0"
#define SIGMF_NS		"heimdall"	/* our extension namespace */
#define SIGMF_NS_VERSION	"1.0.0"

struct dataset;

struct sigmf_opts {
	const char	*out_dir;	/* where B/ or B.sigmf goes (created) */
	int		 archive;	/* 1: one B.sigmf tar, no loose files */
};

/* "<name>-<first 8 hex of the id>" with every character of the name that
 * is not [A-Za-z0-9] made '-' (runs squeezed, at most 40 of them; no name:
 * "session"): a file name on every system, never "." or "..". */
void	sigmf_base_name(const char *name, const char *id, char *buf,
	    size_t len);

/*
 * Export session id (an ended one: completed or failed) of ds. Returns what
 * was written (new reference): {format "sigmf", session_id, base, dir (the
 * folder of the loose files) or archive (the tar's path), collection,
 * recordings: [{websdr, station, datatype, meta, data, samples, captures,
 * gaps, sample_rate}], receivers_without_data: [websdr...], warnings:
 * [text]} -- paths as written, under out_dir. NULL with a message naming
 * the session, and errno: ENOENT no such session, EBUSY not ended yet,
 * ENODATA no chunk stored, EIO anything else (a damaged chunk file, I/O).
 */
json_t	*sigmf_export(struct dataset *ds, const char *id,
	    const struct sigmf_opts *o, char *err, size_t errlen);

#endif
