"""harness.py -- start the simulator, run the real heimdall-rec, read results.

Used by the e2e tests (run with /usr/bin/python3, which has numpy). Paths
come from the environment meson sets: HEIMDALL_REC, HEIMDALL_KIWISIM."""

import glob, json, os, shutil, signal, subprocess, tempfile, time

REC = os.environ.get("HEIMDALL_REC", "build/heimdall-rec")
SIM = os.environ.get("HEIMDALL_KIWISIM", "build/heimdall-kiwisim")


class Sim:
    """The simulator on free loopback ports; a context manager."""

    def __init__(self, count=7, specs=(), tmp=None):
        self.tmp = tmp or tempfile.mkdtemp(prefix="hr-e2e-")
        self.stations = os.path.join(self.tmp, "stations.json")
        args = [SIM, "--count", str(count), "--base-port", "0",
                "--stations-out", self.stations]
        for s in specs:
            args += ["--station", s]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            self.close()
            raise RuntimeError("simulator did not start: %r" % line)

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def record(sim, data, duration=5, name="e2e", freq="10", source="unknown",
           json_out=True, extra=(), timeout=120):
    """Run `heimdall-rec record`; returns (rc, events, stderr)."""
    args = [REC, "record", "--stations", sim.stations, "--data-dir", data,
            "--name", name, "--freq", freq, "--duration", str(duration),
            "--source", source] + list(extra)
    if json_out:
        args.append("--json")
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    events = []
    if json_out:
        for line in p.stdout.splitlines():
            events.append(json.loads(line))
    return p.returncode, events, p.stderr


def manifest(data, session_id=None):
    paths = glob.glob(os.path.join(data, "sessions", "*", "manifest.json"))
    if session_id:
        paths = [p for p in paths if session_id in p]
    assert len(paths) == 1, paths
    with open(paths[0]) as f:
        return json.load(f), os.path.dirname(paths[0])


def final(events):
    ups = [e for e in events if e["event"] == "session:status_update"]
    return ups[-1]["data"] if ups else None


def station(summary, k):
    for s in summary["stations"]:
        if s["websdr"] == k:
            return s
    raise KeyError(k)


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)
