#!/usr/bin/python3
"""bench_arrays.py -- what `export --format arrays` costs on a long session.

Synthesizes a session of --chunks 1-s chunks from N receivers at their own
rates (~12 kS/s, GPS-timed rows; tests/e2e/test_arrays.py's layout and
tone), then, interleaved run by run: reads every chunk file once with
numpy (np.load: the least a trainer does to get the samples; the files are
in the page cache after the first round) and exports the session
(resampling, alignment, the .npz). Prints the medians of --runs, the ratio
export / read, the export's CPU (user + system, wait4) and peak RSS (VmHWM), and a
targets block: a 1,000-chunk, 7-receiver session exports within 10 x the
time numpy takes to read its chunks, and within 60 s. Exit 1 when missed.

Usage: bench/bench_arrays.py [--build DIR] [--chunks 1000] [--runs 3]
       [--chunk-ms MS] [N]
"""

import argparse, glob, os, shutil, statistics, subprocess, sys
import tempfile, time

import numpy as np

import measure

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))


def read_chunks(sdir):
    t = time.monotonic()
    n = 0
    for p in sorted(glob.glob(os.path.join(sdir, "chunk_*.npy"))):
        n += len(np.load(p))
    return time.monotonic() - t, n


def export(build, data, sid, out, extra):
    """Wall, CPU (wait4) and the export's own peak RSS (bench/measure.py:
    ru_maxrss would be this process's, numpy and all)."""
    with tempfile.TemporaryFile() as errf:
        rc, cpu, peak, wall = measure.run(
            [os.path.join(build, "heimdall-rec"), "export", sid,
             "--format", "arrays", "--data-dir", data, "--out", out] + extra,
            stdout=subprocess.DEVNULL, stderr=errf)
        errf.seek(0)
        err = errf.read().decode(errors="replace")
    if rc != 0:
        raise RuntimeError("export failed: " + err)
    return wall, cpu, peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--chunks", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--chunk-ms", type=int, default=0)
    ap.add_argument("n", type=int, nargs="?", default=7)
    a = ap.parse_args()
    os.environ.setdefault("HEIMDALL_REC", os.path.join(a.build,
                                                       "heimdall-rec"))
    import test_arrays as ta

    tmp = tempfile.mkdtemp(prefix="hr-barr-")
    try:
        data = os.path.join(tmp, "data")
        out = os.path.join(tmp, "out")
        os.makedirs(data)
        rates = [12001.067 - 0.37 * r for r in range(a.n)]
        t = time.monotonic()
        sid = ta.make_session(data, rates, a.chunks)[0]
        print("session: %d chunks x %d receivers synthesized in %.1f s" %
              (a.chunks, a.n, time.monotonic() - t))
        sdir = os.path.join(data, "sessions", sid)
        extra = ["--chunk-ms", str(a.chunk_ms)] if a.chunk_ms else []
        reads, walls, cpus, rss = [], [], [], []
        read_chunks(sdir)                 # into the page cache
        for i in range(a.runs):
            r, n = read_chunks(sdir)
            w, c, m = export(a.build, data, sid, out, extra)
            reads.append(r)
            walls.append(w)
            cpus.append(c)
            rss.append(m)
            print("run %d: read %.2f s (%d samples), export %.2f s wall, "
                  "%.2f s CPU, %.0f MB peak RSS" % (i + 1, r, n, w, c, m))
        size = os.path.getsize(os.path.join(out, sid + ".npz"))
        r, w = statistics.median(reads), statistics.median(walls)
        print("median: read %.2f s, export %.2f s wall (%.2f s CPU), "
              "ratio %.1f; %.0f MB written; load average %s" % (
                  r, w, statistics.median(cpus), w / r, size / 2**20,
                  " ".join("%.2f" % x for x in os.getloadavg())))
        ok = True
        print("targets")
        if a.chunks >= 1000:
            for name, good in (("export <= 10 x read", w <= 10 * r),
                               ("export <= 60 s", w <= 60)):
                print("  %-22s %s" % (name, "met" if good else "MISSED"))
                ok &= good
        return 0 if ok else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
