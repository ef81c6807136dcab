#!/usr/bin/python3
"""bench_locate.py -- what live localization costs the recorder.

Records the simulator's localization scenario (a transmitter and N
KiwiSDRs at the positions of examples/heimdall-2m.json, 10 kHz noise-like
signal) for D seconds twice per run, interleaved: once with GPS (every
chunk goes through TDoA and the fix) and once with every station's GPS off
(the same streams, metrics and storage, no localization). What the two
runs are, exactly:
  with     every chunk is copied for locate, TDoA of 2 partners per
           receiver, a fix, session:tdoa + session:fix events, rows in
           rows/loc_NNNNNN.json and in the manifest; the warm-up (FFTW
           plans, TDoA buffers, the geodesic module) at the grid.
  without  the same recorder and sample streams without GPS stamps: each
           chunk is still offered to locate, which records why it cannot
           take part ("no GPS fix"), says session:tdoa / session:fix
           ok:false with that reason and writes those rows (issue 12:
           the reason is stated wherever TDoA results are shown); no
           warm-up, no TDoA, no fix, no nudges (src/engine/locate.h).
  The "without" run also skips what GPS stamps cost the chunker (the time
  fit), which the ratio then counts as localization's (a few ms at most:
  within the noise of 2026-12-03's runs, where a GPS run with locate
  disabled by a temporary hack cost 0.19-0.22 s per 30 s, GPS off
  0.22-0.23 s).
The one-off costs (the geodesic module's load, FFTW plans, the first
touch of TDoA's buffers and of the held copies: huge pages where THP
allows, src/base/util.h) weigh more in a short session: --duration 30
shows the steady state. The runs' data directories are removed at the
end, not between runs (see run_once). Prints the
recorder's CPU (wait4 rusage: user + system) and its own peak RSS
(bench/measure.py) per mode, medians
of --runs, the ratio, and a targets block: TDoA + fix add at most 20 % to
the recorder's CPU at 7 stations (issue 12). Exit 1 when a target is missed
or a run did not give the expected fixes.

Usage: bench/bench_locate.py [--build DIR] [--duration 10] [--runs 5] [N]
"""

import argparse, json, os, statistics, subprocess, sys, tempfile
import shutil

import measure

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TX = "lat=44.9,lon=8.6"


def run_once(build, n, duration, gps, trash):
    tmp = tempfile.mkdtemp(prefix="hr-bloc-")
    # removed only at the end (main), as bench_record.py does: on ext4,
    # deleting a run's files just before the next makes each file the next
    # run creates scan past the freed inodes (__ext4_new_inode ->
    # recently_deleted), a cost of the cleanup that lands on the recorder,
    # and most on the mode that creates more files
    trash.append(tmp)
    st = os.path.join(tmp, "stations.json")
    args = [os.path.join(build, "heimdall-kiwisim"), "--count", str(n),
            "--base-port", "0", "--stations-out", st, "--tx", TX,
            "--positions", os.path.join(SRC, "examples", "heimdall-2m.json")]
    if not gps:
        for i in range(1, n + 1):
            args += ["--station", "i=%d,gps=0" % i]
    sim = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        line = sim.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError("simulator did not start: %r" % line)
        out = open(os.path.join(tmp, "out.json"), "w+")
        rc, cpu, rss, _ = measure.run(
            [os.path.join(build, "heimdall-rec"), "record",
             "--stations", st, "--data-dir", os.path.join(tmp, "data"),
             "--name", "bench locate", "--freq", "10", "--duration",
             str(duration), "--source", "unknown", "--json"],
            stdout=out, stderr=subprocess.DEVNULL)
        out.seek(0)
        fixes = 0
        for l in out:
            try:
                e = json.loads(l)
            except ValueError:
                continue
            if e.get("event") == "session:fix" and e["data"].get("ok"):
                fixes += 1
    finally:
        sim.terminate()
        sim.wait()
    return {"cpu": cpu, "rss_mb": rss, "rc": rc, "fixes": fixes}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("n", nargs="?", type=int, default=7)
    a = ap.parse_args()
    res = {True: [], False: []}
    trash = []
    try:
        for r in range(a.runs):
            for gps in (True, False):
                res[gps].append(run_once(a.build, a.n, a.duration, gps,
                                         trash))
    finally:
        for t in trash:
            shutil.rmtree(t, ignore_errors=True)
    ok = True
    med = {}
    for gps in (True, False):
        v = res[gps]
        med[gps] = statistics.median(x["cpu"] for x in v)
        print("%-13s CPU %.3f s (runs: %s), peak RSS %.1f MB, fixes %s, exit %s"
              % ("localization" if gps else "GPS off", med[gps],
                 " ".join("%.3f" % x["cpu"] for x in v),
                 statistics.median(x["rss_mb"] for x in v),
                 [x["fixes"] for x in v], [x["rc"] for x in v]))
    # every GPS run locates every chunk but maybe the first; none without
    if any(x["fixes"] < a.duration - 1 for x in res[True]) or \
            any(x["fixes"] for x in res[False]):
        print("FAIL: unexpected fix counts")
        ok = False
    ratio = med[True] / med[False]
    met = ratio <= 1.20
    print("targets\n  %d  CPU with / without localization  %.3f / 1.20  %s"
          % (a.n, ratio, "met" if met else "MISSED"))
    return 0 if ok and met else 1


if __name__ == "__main__":
    sys.exit(main())
