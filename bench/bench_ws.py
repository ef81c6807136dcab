#!/usr/bin/python3
"""bench_ws.py -- `heimdall-rec serve` with N WebSocket clients (default
1000) connected while a 7-station session runs: every client must receive
every session:progress. Reports the latency from the engine emitting the
event (the envelope's timestamp) to the LAST client receiving it (median and
p99 over the session's progress events, and over every single delivery),
the server's CPU during the session and its RSS. Target (issue 4): p99 <= 50
ms on this machine. Clients: tests/web/bench_ws.js (npm ws) in one node
process. Median of --runs runs.

Usage: bench/bench_ws.py [--build DIR] [--clients 1000] [--duration 20] [--runs 3]
"""

import argparse, json, os, resource, statistics, subprocess, sys, tempfile, time

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def proc_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        f = f.read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def proc_mem(pid):
    m = {}
    with open("/proc/%d/status" % pid) as f:
        for l in f:
            k, _, v = l.partition(":")
            if k in ("VmRSS", "VmHWM"):
                m[k] = int(v.split()[0]) / 1024.0
    return m


def run_once(build, nclients, duration):
    tmp = tempfile.mkdtemp(prefix="hr-benchws-")
    st = os.path.join(tmp, "stations.json")
    sim = subprocess.Popen([os.path.join(build, "heimdall-kiwisim"), "--count", "7",
                            "--base-port", "0", "--stations-out", st],
                           stdout=subprocess.PIPE, text=True)
    srv = None
    try:
        if not sim.stdout.readline().startswith("ready"):
            raise RuntimeError("simulator did not start")
        srv = subprocess.Popen([os.path.join(build, "heimdall-rec"), "serve",
                                "--listen", "127.0.0.1:0", "--stations", st,
                                "--data-dir", os.path.join(tmp, "data"),
                                "--max-clients", str(nclients + 16)],
                               stdout=subprocess.PIPE, text=True)
        line = srv.stdout.readline()
        if not line.startswith("listening on"):
            raise RuntimeError("serve did not start: %r" % line)
        ws = line.split()[2].replace("http", "ws", 1).rstrip("/") + "/ws"
        rss_idle = proc_mem(srv.pid)["VmRSS"]
        env = dict(os.environ, NODE_PATH=os.path.join(SRC, "tests", "web", "node_modules"))
        node = subprocess.Popen(["/usr/bin/node", os.path.join(SRC, "tests", "web", "bench_ws.js"),
                                 ws, str(nclients), str(duration), "10"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        # wait for the clients to connect, then measure the session
        for l in node.stderr:
            if l.startswith("connected"):
                break
        cpu0, t0 = proc_cpu(srv.pid), time.monotonic()
        rss_conn = proc_mem(srv.pid)["VmRSS"]
        out, err = node.communicate(timeout=duration + 120)
        cpu1, t1 = proc_cpu(srv.pid), time.monotonic()
        mem = proc_mem(srv.pid)
        if node.returncode != 0:
            raise RuntimeError("bench client failed: " + err[-2000:])
        res = json.loads(out)
        last, each, complete = [], [], 0
        for e in res["events"]:
            if e["n"] == nclients:
                complete += 1
            last.append(max(e["times"]) - e["emit"])
            each += [t - e["emit"] for t in e["times"]]
        return {"status": res["status"], "events": len(res["events"]),
                "complete_events": complete,
                "last_med": statistics.median(last), "last_p99": pct(last, 99),
                "each_med": statistics.median(each), "each_p99": pct(each, 99),
                "cpu_pct": 100.0 * (cpu1 - cpu0) / (t1 - t0),
                "rss_idle": rss_idle, "rss_conn": rss_conn,
                "rss": mem["VmRSS"], "hwm": mem["VmHWM"]}
    finally:
        if srv is not None:
            srv.terminate()
            srv.wait()
        sim.terminate()
        sim.wait()
        subprocess.run(["rm", "-rf", tmp])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--duration", type=int, default=20)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * a.clients + 256)), hard))
    runs = []
    for i in range(a.runs):
        r = run_once(a.build, a.clients, a.duration)
        runs.append(r)
        print("run %d: %s" % (i + 1, json.dumps({k: (round(v, 2) if isinstance(v, float) else v)
                                                 for k, v in r.items()})), flush=True)
    med = lambda k: statistics.median(r[k] for r in runs)
    ok_all = all(r["status"] == "completed" and r["complete_events"] == r["events"] == a.duration
                 for r in runs)
    print()
    print("clients %d, 7 stations, %d s session, %d runs (medians)" % (a.clients, a.duration, a.runs))
    print("every client got every progress event: %s" % ("yes" if ok_all else "NO"))
    print("emit -> last client: median %.1f ms, p99 %.1f ms (target p99 <= 50 ms: %s, ratio %.2f)" %
          (med("last_med"), med("last_p99"), "met" if med("last_p99") <= 50 else "NOT met",
           med("last_p99") / 50.0))
    print("emit -> each delivery: median %.1f ms, p99 %.1f ms" % (med("each_med"), med("each_p99")))
    print("server CPU during the session: %.1f %% of one core" % med("cpu_pct"))
    print("server RSS: idle %.1f MB, %d clients connected %.1f MB, after session %.1f MB, peak %.1f MB" %
          (med("rss_idle"), a.clients, med("rss_conn"), med("rss"), med("hwm")))
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
