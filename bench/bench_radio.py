#!/usr/bin/python3
"""bench_radio.py -- rtl_tcp at 2.048 MS/s, the heaviest input: the
recorder's CPU per rtl_tcp receiver-second (uint8 -> float, the two-stage
decimating FIR, chunking, metrics, storage), and 4 rtl_tcp streams with 7
KiwiSDR streams together with zero drops. Side by side in one run, medians.

Rows: "1 rtl" and "4 rtl" alone; "7 kiwi" alone (the reference); "4 rtl +
7 kiwi" together. CPU is the recorder process only (its wait4 rusage; the
simulator is another process). CPU % per rtl stream = (CPU of the run -
the 7-kiwi share) / (rtl streams x duration). Target (issue 6): <= 15 % of
one core per rtl_tcp stream; zero drops: no missing chunk, no lost sample,
and no sample the simulated rtl_tcp server had to skip because the
recorder read too slowly.

The simulated KiwiSDRs are given a 0-200 MHz range in the stations file so
that one 145.5 MHz session can hold both kinds (the simulator ignores the
frequency); real KiwiSDRs stop at 30 MHz.

Usage: bench/bench_radio.py [--build DIR] [--duration 10] [--runs 3]
"""

import argparse, json, os, re, statistics, subprocess, sys, tempfile

import measure


def run_once(build, n_rtl, n_kiwi, duration):
    tmp = tempfile.mkdtemp(prefix="hr-bench-radio-")
    st = os.path.join(tmp, "stations.json")
    n = n_rtl + n_kiwi
    specs = []
    for k in range(1, n + 1):
        if k <= n_rtl:
            specs += ["--station", "i=%d,type=rtl_tcp" % k]
        else:
            specs += ["--station", "i=%d,min=0,max=200000000" % k]
    errf = open(os.path.join(tmp, "sim.err"), "w+")
    sim = subprocess.Popen([os.path.join(build, "heimdall-kiwisim"),
                            "--count", str(n), "--base-port", "0",
                            "--stations-out", st] + specs,
                           stdout=subprocess.PIPE, stderr=errf, text=True)
    try:
        line = sim.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError("simulator did not start: %r" % line)
        out_path = os.path.join(tmp, "events.jsonl")
        with open(out_path, "w") as out:
            rc, cpu, rss, wall = measure.run(
                [os.path.join(build, "heimdall-rec"), "record",
                 "--stations", st, "--data-dir", os.path.join(tmp, "data"),
                 "--name", "bench radio", "--freq", "145.5",
                 "--duration", str(duration), "--source", "unknown",
                 "--json"], stdout=out)
        rows = lost = 0
        final = None
        with open(out_path) as f:
            for l in f:
                ev = json.loads(l)
                if ev["event"] == "session:measurement":
                    rows += 1
                    lost += ev["data"].get("samples_lost", 0)
                elif ev["event"] == "session:status_update":
                    final = ev["data"]
        summary = (final or {}).get("summary", {})
    finally:
        sim.terminate()
        sim.wait()
        errf.seek(0)
        skipped = sum(int(x) for x in
                      re.findall(r"skipped (\d+) samples", errf.read()))
        errf.close()
        subprocess.run(["rm", "-rf", tmp])
    return {"wall": wall, "rc": rc, "cpu": cpu, "rss": rss,
            "rows": rows, "missing": summary.get("chunks_missing", -1),
            "lost": lost, "skipped": skipped}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    print("heimdall-rec record at 145.5 MHz: %d-s sessions, median of %d "
          "runs; recorder process only" % (a.duration, a.runs))
    print("%-15s %8s %9s %8s %6s %8s %6s %8s %4s" % (
        "streams", "wall s", "CPU s", "RSS MB", "rows", "missing", "lost",
        "skipped", "rc"))
    res = {}
    ok = True
    for n_rtl, n_kiwi in ((0, 7), (1, 0), (4, 0), (4, 7)):
        runs = [run_once(a.build, n_rtl, n_kiwi, a.duration)
                for _ in range(a.runs)]
        med = lambda k: statistics.median(r[k] for r in runs)
        name = " + ".join(x for x in (
            "%d rtl" % n_rtl if n_rtl else "", "%d kiwi" % n_kiwi
            if n_kiwi else "") if x)
        res[(n_rtl, n_kiwi)] = med("cpu")
        miss = max(r["missing"] for r in runs)
        lost = max(r["lost"] for r in runs)
        skipped = max(r["skipped"] for r in runs)
        rc = max(r["rc"] for r in runs)
        print("%-15s %8.3f %9.3f %8.1f %6d %8d %6d %8d %4d" % (
            name, med("wall"), med("cpu"), med("rss"),
            min(r["rows"] for r in runs), miss, lost, skipped, rc))
        if miss or lost or skipped or rc:
            ok = False
    kiwi = res[(0, 7)]
    print()
    for n_rtl, n_kiwi in ((1, 0), (4, 0), (4, 7)):
        share = kiwi if n_kiwi else 0.0
        pct = 100.0 * (res[(n_rtl, n_kiwi)] - share) / (n_rtl * a.duration)
        print("CPU per rtl_tcp stream (%d rtl%s): %.2f %% of one core "
              "(target <= 15 %%: %s)" % (
                  n_rtl, " + 7 kiwi" if n_kiwi else "", pct,
                  "met" if pct <= 15 else "NOT met"))
        if pct > 15:
            ok = False
    print("zero drops with 4 rtl + 7 kiwi: %s" % (
        "yes" if ok else "NO (see the table)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
