#!/usr/bin/python3
"""bench_console.py -- what the operator console costs while acquiring: the
real binary in tmux (80x24) against N simulated stations, several N side
by side in one run.

Prints per N (median of --runs), over a window in the middle of a session:
bytes sent to the terminal per second (tmux pipe-pane), the size of one
full repaint of the same screen (capture-pane -e), the ratio of the two
against 20 full repaints a second (what a naive redraw-everything loop at
the frame cap would send), and the console process's CPU (utime + stime
from /proc over the window) next to `record`'s for the same acquisition, so
the difference is what the UI costs. Targets (issue 5): at most ~20
frames/s and only what changed -- here <= 10% of 20 full repaints/s -- and
a cheap UI: <= 5% of a core over `record`.

Usage: bench/bench_console.py [--build DIR] [--runs 3] [--window 5] [N ...]
"""

import argparse, os, re, shutil, statistics, subprocess, sys, tempfile, time
import uuid

HZ = os.sysconf("SC_CLK_TCK")


def tmux(sock, *args):
    return subprocess.run(["tmux", "-L", sock, "-f", "/dev/null"] +
                          list(args), capture_output=True, text=True,
                          timeout=30).stdout


def wait(sock, pred, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        scr = tmux(sock, "capture-pane", "-p", "-t", "t")
        if pred(scr):
            return scr
        time.sleep(0.1)
    raise RuntimeError("screen never matched:\n" + scr)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def run_once(build, n, window):
    tmp = tempfile.mkdtemp(prefix="hr-bench-console-")
    st = os.path.join(tmp, "stations.json")
    sock = "hr-bench-console-%s" % uuid.uuid4().hex[:8]
    sim = subprocess.Popen([os.path.join(build, "heimdall-kiwisim"),
                            "--count", str(n), "--base-port", "0",
                            "--stations-out", st],
                           stdout=subprocess.PIPE, text=True)
    try:
        if not sim.stdout.readline().startswith("ready"):
            raise RuntimeError("simulator did not start")
        cmd = "env LANG=C.UTF-8 %s console --stations %s --data-dir %s" % (
            os.path.join(build, "heimdall-rec"), st,
            os.path.join(tmp, "data"))
        tmux(sock, "new-session", "-d", "-s", "t", "-x", "80", "-y", "24",
             cmd)
        wait(sock, lambda s: "Session name" in s)
        duration = int(window) + 6
        for k in (["-l", "bench"], ["Tab"], ["-l", "10"], ["Tab"],
                  ["-l", str(duration)], ["Tab"], ["Tab"], ["Tab"],
                  ["Tab"], ["Enter"]):        # notes, group, at, Start
            tmux(sock, "send-keys", "-t", "t", *k)
            time.sleep(0.1)
        wait(sock, lambda s: "Assign source" in s)
        tmux(sock, "send-keys", "-t", "t", "Enter")
        wait(sock, lambda s: "reachable" in s)
        tmux(sock, "send-keys", "-t", "t", "Enter")
        wait(sock, lambda s: re.search(r"Chunk [2-9]/", s))
        shell = tmux(sock, "display-message", "-p", "-t", "t",
                     "#{pane_pid}").strip()
        # sh -c may have exec'd the console itself.
        kids = subprocess.run(["ps", "-o", "pid=", "--ppid", shell],
                              capture_output=True, text=True).stdout.split()
        pid = int(kids[0]) if kids else int(shell)
        with open("/proc/%d/comm" % pid) as f:
            if not f.read().startswith("heimdall-rec"):
                raise RuntimeError("console process not found")
        out = os.path.join(tmp, "pane.out")
        c0 = cpu_ticks(pid)
        t0 = time.monotonic()
        tmux(sock, "pipe-pane", "-o", "-t", "t", "cat >> " + out)
        time.sleep(window)
        tmux(sock, "pipe-pane", "-t", "t")
        dt = time.monotonic() - t0
        c1 = cpu_ticks(pid)
        full = len(tmux(sock, "capture-pane", "-p", "-e", "-t", "t")
                   .encode())
        rate = os.path.getsize(out) / dt
        return {"rate": rate, "full": full, "cpu": (c1 - c0) / HZ / dt * 100}
    finally:
        tmux(sock, "kill-server")
        sim.terminate()
        sim.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def record_cpu(build, n, window):
    """The same acquisition without a UI (record --json to /dev/null): the
    engine's share of the console's CPU."""
    tmp = tempfile.mkdtemp(prefix="hr-bench-console-")
    st = os.path.join(tmp, "stations.json")
    sim = subprocess.Popen([os.path.join(build, "heimdall-kiwisim"),
                            "--count", str(n), "--base-port", "0",
                            "--stations-out", st],
                           stdout=subprocess.PIPE, text=True)
    try:
        if not sim.stdout.readline().startswith("ready"):
            raise RuntimeError("simulator did not start")
        p = subprocess.Popen([os.path.join(build, "heimdall-rec"), "record",
                              "--stations", st, "--data-dir",
                              os.path.join(tmp, "data"), "--name", "bench",
                              "--freq", "10", "--duration",
                              str(int(window) + 6), "--source", "unknown",
                              "--json"], stdout=subprocess.DEVNULL)
        time.sleep(2.5)                 # connected, a chunk or two in
        c0 = cpu_ticks(p.pid)
        t0 = time.monotonic()
        time.sleep(window)
        c1 = cpu_ticks(p.pid)
        dt = time.monotonic() - t0
        p.wait()
        return (c1 - c0) / HZ / dt * 100
    finally:
        sim.terminate()
        sim.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("BUILD", "build"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--window", type=float, default=5)
    ap.add_argument("n", type=int, nargs="*", default=[7, 50, 200])
    a = ap.parse_args()
    print("heimdall-rec console at 80x24 while acquiring: median of %d runs, "
          "%.0f-s window" % (a.runs, a.window))
    print("%8s %10s %12s %16s %12s %11s %9s" % (
        "stations", "bytes/s", "repaint B", "vs 20 repaint/s",
        "console CPU%", "record CPU%", "UI CPU%"))
    ok = True
    for n in a.n:
        res = [run_once(a.build, n, a.window) for _ in range(a.runs)]
        rec = statistics.median(record_cpu(a.build, n, a.window)
                                for _ in range(a.runs))
        med = lambda k: statistics.median(r[k] for r in res)
        ratio = med("rate") / (20 * med("full"))
        ui = med("cpu") - rec
        print("%8d %10.0f %12.0f %15.1f%% %12.1f %11.1f %9.1f" % (
            n, med("rate"), med("full"), ratio * 100, med("cpu"), rec, ui))
        ok &= ratio <= 0.10 and ui <= 5
    print("targets: <= 10%% of 20 full repaints/s; the UI's own CPU (console "
          "minus record) <= 5%% of a core: %s" % ("met" if ok else "NOT MET"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
