#!/usr/bin/python3
"""bench_record.py -- the recorder at scale: N simulated KiwiSDR stations
recorded for D seconds, several N side by side in one run.

Prints per N (median of --runs): wall time and wall minus duration, CPU ms
per receiver-second of the recorder alone (its own wait4 rusage: the
simulator runs in another process and is not counted), its own peak RSS
(bench/measure.py says why neither counts this Python process), rows
stored, chunks missing and samples lost (sequence gaps). Targets (issues 2
and 11): wall <= duration + 0.3 s at 7 stations, <= 1 ms CPU per
receiver-second, peak RSS <= 32 MB at 200 stations and < 64 MB at 1000,
zero drops.

With --baseline DIR (another build, e.g. of the commit before a change),
each run of this build is followed by one of the baseline (the order
alternating), so both see the same load, and the table adds the baseline's
figures and the ratio this/baseline of CPU per receiver-second (target
<= 0.40 at 7, 50 and 200 stations: issue 11). Both record from this
build's simulator.

--gps off: the simulated stations send no GPS stamps (kiwisim gps=0), so
the recorder has nothing to locate: no TDoA or fix per chunk. With GPS
(the default, --gps on: the simulator's odd stations have it) every chunk
goes through live localization (src/engine/locate.c), which the builds
before it do not have; --gps both measures each N both ways, interleaved,
and labels them. Issue 11's 0.40 was set before localization existed;
issue 12 allows localization 20 % on top (0.48 with GPS); the targets
block says both, against 0.40.

The simulators run in other processes, one per --per-sim stations (250 by
default: one process serves 7, 50 or 200; 1000 take four, as one lws
thread cannot serve 1000 streams in real time); the recorder is always one
process.

Usage: bench/bench_record.py [--build DIR] [--baseline DIR] [--duration 10]
       [--runs 3] [--per-sim 250] [--gps on|off|both] [N ...]
"""

import argparse, json, os, statistics, subprocess, sys, tempfile

import measure


def start_sims(sim_exe, n, per_sim, tmp, gps=True):
    """Start ceil(n / per_sim) simulators, each serving its share of the n
    stations on its own ports (one simulator is one lws thread: at 1000
    stations it cannot serve them all in real time), and write one stations
    file for all of them (names made unique: Sim 1 .. Sim n). Returns the
    processes and the file."""
    sims, stations = [], []
    shares = [min(per_sim, n - i) for i in range(0, n, per_sim)]
    try:
        for j, count in enumerate(shares):
            part = os.path.join(tmp, "stations-%d.json" % j)
            nogps = [] if gps else sum(
                (["--station", "i=%d,gps=0" % (k + 1)]
                 for k in range(count)), [])
            sims.append((subprocess.Popen(
                [sim_exe, "--count", str(count), "--base-port", "0",
                 "--stations-out", part] + nogps,
                stdout=subprocess.PIPE, text=True),
                part))
        for p, part in sims:
            line = p.stdout.readline()
            if not line.startswith("ready"):
                raise RuntimeError("simulator did not start: %r" % line)
            with open(part) as f:
                stations += json.load(f)["stations"]
    except BaseException:
        stop_sims([p for p, _ in sims])
        raise
    for i, st in enumerate(stations):
        st["name"] = "Sim %d" % (i + 1)
    path = os.path.join(tmp, "stations.json")
    with open(path, "w") as f:
        json.dump({"stations": stations}, f)
    return [p for p, _ in sims], path


def stop_sims(sims):
    for p in sims:
        p.terminate()
    for p in sims:
        p.wait()


def run_once(build, n, duration, trash, sim_build=None, per_sim=250,
             gps=True):
    tmp = tempfile.mkdtemp(prefix="hr-bench-")
    trash.append(tmp)
    # the simulators are not what is measured: the same for both builds
    sims, st = start_sims(os.path.join(sim_build or build,
                                       "heimdall-kiwisim"), n, per_sim, tmp,
                      gps)
    try:
        out_path = os.path.join(tmp, "events.jsonl")
        with open(out_path, "w") as out:
            rc, cpu, rss, wall = measure.run(
                [os.path.join(build, "heimdall-rec"), "record",
                 "--stations", st, "--data-dir", os.path.join(tmp, "data"),
                 "--name", "bench %d" % n, "--freq", "10",
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
        return {"wall": wall, "rc": rc, "cpu": cpu, "rss": rss,
                "rows": rows, "missing": summary.get("chunks_missing", -1),
                "lost": lost}
    finally:
        stop_sims(sims)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--baseline", help="another build to compare with, "
                    "run interleaved with this one")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--per-sim", type=int, default=250,
                    help="stations served by one simulator process "
                    "(more stations: more simulators)")
    ap.add_argument("--gps", choices=("on", "off", "both"), default="on",
                    help="the simulated stations send GPS stamps (live "
                    "localization in the recorder), not, or both, "
                    "interleaved")
    ap.add_argument("n", type=int, nargs="*", default=[7, 50, 200])
    a = ap.parse_args()
    # 1000 stations need ~1000 sockets in each process: the recorder and
    # the simulators inherit this limit (no preexec_fn: measure.py)
    measure.lift_nofile()
    print("heimdall-rec record: %d-s sessions, median of %d runs; recorder "
          "process only; load average %.2f at start" % (
              a.duration, a.runs, os.getloadavg()[0]))
    if a.baseline:
        print("baseline: %s, runs interleaved with %s" % (a.baseline,
                                                          a.build))
    print("%-14s %8s %8s %9s %12s %9s %6s %8s %6s %4s" % (
        "build", "stations", "wall s", "wall-dur", "CPU ms/rx-s", "RSS MB",
        "rows", "missing", "lost", "rc"))
    # Datasets are removed only at the end: on ext4 a burst of deletions
    # just before a run makes every file creation in it scan past the
    # recently freed inodes (find_inode_bit/recently_deleted in perf), a
    # cost of this benchmark's cleanup, not of the recorder.
    trash = []
    try:
        return run_all(a, trash)
    finally:
        for t in trash:
            subprocess.run(["rm", "-rf", t])


def summarize(label, n, res, duration):
    med = lambda k: statistics.median(r[k] for r in res)
    s = {"cpu_ms": med("cpu") * 1000.0 / (n * duration),
         "over": med("wall") - duration, "rss": med("rss"),
         "missing": max(r["missing"] for r in res),
         "lost": max(r["lost"] for r in res),
         "rc": max(r["rc"] for r in res)}
    print("%-14s %8d %8.3f %9.3f %12.3f %9.1f %6d %8d %6d %4d" % (
        label, n, med("wall"), s["over"], s["cpu_ms"], s["rss"],
        min(r["rows"] for r in res), s["missing"], s["lost"], s["rc"]))
    return s


def runs_of(a, n, modes, trash):
    """a.runs rounds for n stations: in each, every mode (GPS or not) of
    this build and of the baseline, the order alternating round by round
    so that both see the same load."""
    res = {g: [] for g in modes}
    base = {g: [] for g in modes}
    for i in range(a.runs):
        for g in (modes if i % 2 == 0 else modes[::-1]):
            if a.baseline and i % 2 == 1:
                base[g].append(run_once(a.baseline, n, a.duration, trash,
                                        a.build, a.per_sim, g))
            res[g].append(run_once(a.build, n, a.duration, trash,
                                   per_sim=a.per_sim, gps=g))
            if a.baseline and i % 2 == 0:
                base[g].append(run_once(a.baseline, n, a.duration, trash,
                                        a.build, a.per_sim, g))
    return res, base


def run_all(a, trash):
    worst = 0
    verdicts = []
    modes = {"on": [True], "off": [False], "both": [True, False]}[a.gps]
    for n in a.n:
        res, base = runs_of(a, n, modes, trash)
        for g in modes:
            tag = "" if a.gps == "on" else (" gps" if g else " nogps")
            s = summarize("this" + tag, n, res[g], a.duration)
            worst = max(worst, s["rc"])
            # the issues' targets: (what, figure, limit); ratio =
            # figure/limit
            t = [("CPU ms/rx-s" + tag, s["cpu_ms"], 1.0)]
            if n == 7:
                t.append(("wall-dur s" + tag, s["over"], 0.3))
            if n == 200:
                t.append(("RSS MB" + tag, s["rss"], 32.0))
            if n >= 1000:
                t.append(("RSS MB" + tag, s["rss"], 64.0))
            if base[g]:
                b = summarize("baseline" + tag, n, base[g], a.duration)
                ratio = s["cpu_ms"] / b["cpu_ms"]
                print("%-14s %8d %44.2f" % ("ratio" + tag, n, ratio))
                if n in (7, 50, 200):
                    # issue 11's 0.40 was set before localization;
                    # issue 12 allows it 20 % on top: both are said
                    t.append(("CPU vs base" + tag, ratio, 0.4))
                    if g:
                        t.append(("CPU vs base" + tag + " +20 % (12)",
                                  ratio, 0.48))
            for what, fig, lim in t:
                verdicts.append((n, what, fig, lim, fig <= lim))
            verdicts.append((n, "drops" + tag, s["missing"] + s["lost"], 0,
                             s["missing"] + s["lost"] == 0))
    print("\ntargets (figure / limit = ratio):")
    for n, what, fig, lim, ok in verdicts:
        ratio = ("%6.2f" % (fig / lim)) if lim else "     -"
        print("%8d  %-28s %9.3f / %-6g %s  %s" % (
            n, what, fig, lim, ratio, "met" if ok else "MISSED"))
    missed = [v for v in verdicts if not v[4]]
    return 1 if worst != 0 or missed else 0


if __name__ == "__main__":
    sys.exit(main())
