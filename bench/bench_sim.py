#!/usr/bin/python3
"""bench_sim.py -- the simulator's own CPU, with and without the
localization scenario (--tx), while the recorder records N stations for D
seconds.

Prints per N and mode (median of --runs): the simulator's CPU during the
recording (its /proc/PID/stat utime + stime, read before the recorder
starts and after it exits) as % of one core and as ms per
station-second, and the recorder's rows, chunks missing and samples lost
(the simulator keeps up when these are complete and zero). Target: with
--tx the simulator keeps up at 200 stations (no chunk missing).

Usage: bench/bench_sim.py [--build DIR] [--duration 10] [--runs 3] [N ...]
"""

import argparse, json, os, statistics, subprocess, sys, tempfile, time
import shutil

TX = "lat=45.3,lon=8.4"


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(build, n, duration, tx):
    tmp = tempfile.mkdtemp(prefix="hr-bsim-")
    try:
        st = os.path.join(tmp, "stations.json")
        args = [os.path.join(build, "heimdall-kiwisim"), "--count", str(n),
                "--base-port", "0", "--stations-out", st]
        if tx:
            args += ["--tx", TX]
        sim = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        try:
            line = sim.stdout.readline()
            if not line.startswith("ready"):
                raise RuntimeError("simulator did not start: %r" % line)
            c0, t0 = cpu_s(sim.pid), time.monotonic()
            p = subprocess.run(
                [os.path.join(build, "heimdall-rec"), "record",
                 "--stations", st, "--data-dir", os.path.join(tmp, "data"),
                 "--name", "bench sim", "--freq", "10", "--duration",
                 str(duration), "--source", "unknown", "--json"],
                capture_output=True, text=True)
            c1, t1 = cpu_s(sim.pid), time.monotonic()
        finally:
            sim.terminate()
            sim.wait()
        rows = lost = 0
        final = {}
        for l in p.stdout.splitlines():
            ev = json.loads(l)
            if ev["event"] == "session:measurement":
                rows += 1
                lost += ev["data"].get("samples_lost", 0)
            elif ev["event"] == "session:status_update":
                final = ev["data"]
        if final.get("summary", {}).get("chunks_missing", -1) != 0:
            sys.stderr.write("N=%d%s: %s\n" % (n, " --tx" if tx else "",
                                               p.stderr[-2000:]))
        return {"cpu": c1 - c0, "wall": t1 - t0, "rc": p.returncode,
                "rows": rows, "lost": lost,
                "missing": final.get("summary", {}).get("chunks_missing",
                                                         -1)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("n", type=int, nargs="*", default=[7, 50])
    a = ap.parse_args()
    ok = True
    print("%5s %-5s %9s %12s %6s %8s %5s" % ("N", "mode", "sim %core",
                                            "ms/st-s", "rows", "missing",
                                            "lost"))
    for n in a.n:
        for tx in (False, True):
            rs = [run_once(a.build, n, a.duration, tx)
                  for _ in range(a.runs)]
            cpu = statistics.median(r["cpu"] for r in rs)
            wall = statistics.median(r["wall"] for r in rs)
            miss = max(r["missing"] for r in rs)
            print("%5d %-5s %8.1f%% %12.3f %6d %8d %5d" % (
                n, "tx" if tx else "plain", 100 * cpu / wall,
                1e3 * cpu / (n * wall), min(r["rows"] for r in rs), miss,
                max(r["lost"] for r in rs)))
            if tx and (miss != 0 or any(r["rc"] != 0 for r in rs)):
                ok = False
    print("targets\n  --tx keeps up (no chunk missing): %s" %
          ("met" if ok else "MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
