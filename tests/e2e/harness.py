"""harness.py -- start the simulator, run the real heimdall-rec, read results.

Used by the e2e tests (run with /usr/bin/python3, which has numpy). Paths
come from the environment meson sets: HEIMDALL_REC, HEIMDALL_KIWISIM."""

import glob, json, math, os, shutil, signal, subprocess, tempfile, time

REC = os.environ.get("HEIMDALL_REC", "build/heimdall-rec")
SIM = os.environ.get("HEIMDALL_KIWISIM", "build/heimdall-kiwisim")


class Sim:
    """The simulator on free loopback ports; a context manager."""

    def __init__(self, count=7, specs=(), tmp=None, extra=()):
        """extra: more simulator options (e.g. --tx, test_simgeo.py)."""
        self.tmp = tmp or tempfile.mkdtemp(prefix="hr-e2e-")
        self.stations = os.path.join(self.tmp, "stations.json")
        args = [SIM, "--count", str(count), "--base-port", "0",
                "--stations-out", self.stations] + list(extra)
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


class Serve:
    """`heimdall-rec serve ARGS...` started and waited for: the first line
    on stdout must be "listening on http://ADDR:PORT/ ..." (else the start
    fails with serve's stderr). Sets line, http (http://ADDR:PORT), ws (the
    /ws URL), addr, port and t_listening (time.monotonic() when it
    listened). stop() sends SIGTERM and returns (rc, stderr); under ASan a
    leak makes rc != 0. A context manager. Shared by test_serve.py and
    test_service.py."""

    def __init__(self, args, wrap=(), env=None, preexec=None):
        self.proc = subprocess.Popen(
            list(wrap) + [REC, "serve"] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=env, preexec_fn=preexec)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            err = self.proc.stderr.read()
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("serve did not start: %r %r" % (line, err))
        self.t_listening = time.monotonic()
        self.line = line
        self.http = line.split()[2].rstrip("/")     # http://ADDR:PORT/
        self.addr = self.http[len("http://"):]
        self.port = int(self.addr.rsplit(":", 1)[1])
        self.ws = self.http.replace("http", "ws", 1) + "/ws"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        err = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return rc, err

    def __enter__(self):
        return self

    def __exit__(self, *a):
        if self.proc.poll() is None:
            self.stop()


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


def ts_us(row):
    """A row's timestamp (ISO 8601 UTC, microseconds) as integer POSIX
    microseconds: exact, for comparing with t0_ns."""
    import calendar, datetime
    d = datetime.datetime.strptime(row["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    return calendar.timegm(d.timetuple()) * 10**6 + d.microsecond


def check_t0_ns(t, rows, gps, rates=None):
    """Rows {chunk: {websdr: row}}: the websdrs in gps carry t0_ns (UTC ns
    of the chunk's first sample) and sample_rate_hz, consistent with their
    timestamp (the grid's time of the same sample, to the microsecond),
    with each other (chunk k of every GPS receiver starts within one
    sample) and along each stream (chunk k+1 starts chunk k's samples
    later at the measured rate, to 0.2 us); rates {websdr: true S/s}, when
    given, bound the measured rate to 0.05 ppm by the last chunk. The
    others have neither and say why (time_source)."""
    ks = sorted(rows)
    for k in ks:
        starts = []
        for w, r in rows[k].items():
            if w not in gps:
                t.assertNotEqual(r["time_source"], "gps", r)
                t.assertIsNone(r.get("t0_ns"), r)
                t.assertIsNone(r.get("sample_rate_hz"), r)
                continue
            t.assertEqual(r["time_source"], "gps", r)
            t.assertIsInstance(r["t0_ns"], int, r)
            t.assertIsInstance(r["sample_rate_hz"], float, r)
            # the grid's timestamp names the same sample (it counts at
            # the nominal rate from a stamp, rounded to the microsecond)
            t.assertLess(abs(r["t0_ns"] - ts_us(r) * 1000), 5000, r)
            starts.append(r["t0_ns"])
            if k - 1 in rows and w in rows[k - 1]:
                p = rows[k - 1][w]
                d = r["t0_ns"] - p["t0_ns"]
                want = p["iq_samples_count"] * 1e9 / r["sample_rate_hz"]
                t.assertLess(abs(d - want), 200, (p, r))
            if rates and w in rates and k == ks[-1]:
                t.assertLess(abs(r["sample_rate_hz"] / rates[w] - 1), 5e-8,
                             (r, rates[w]))
        if starts:
            fs = min(r["iq_sample_rate"] for r in rows[k].values())
            t.assertLess(max(starts) - min(starts), 1e9 / fs + 5000,
                         (k, starts))


def rmtree(path):
    shutil.rmtree(path, ignore_errors=True)


def geodesic_m(lat1, lon1, lat2, lon2):
    """Geodesic distance (m) on WGS84, Vincenty's inverse formula (Survey
    Review 1975): independent of PROJ (an independent check of the
    simulator's delays and the recorder's error_m); ~0.1 mm here."""
    a, f = 6378137.0, 1 / 298.257223563
    b = a * (1 - f)
    L = math.radians(lon2 - lon1)
    U1 = math.atan((1 - f) * math.tan(math.radians(lat1)))
    U2 = math.atan((1 - f) * math.tan(math.radians(lat2)))
    sU1, cU1, sU2, cU2 = math.sin(U1), math.cos(U1), math.sin(U2), \
        math.cos(U2)
    lam = L
    for _ in range(200):
        sl, cl = math.sin(lam), math.cos(lam)
        ss = math.hypot(cU2 * sl, cU1 * sU2 - sU1 * cU2 * cl)
        if ss == 0:
            return 0.0
        cs = sU1 * sU2 + cU1 * cU2 * cl
        sig = math.atan2(ss, cs)
        sa = cU1 * cU2 * sl / ss
        c2a = 1 - sa * sa
        c2sm = cs - 2 * sU1 * sU2 / c2a if c2a != 0 else 0.0
        Cc = f / 16 * c2a * (4 + f * (4 - 3 * c2a))
        prev = lam
        lam = L + (1 - Cc) * f * sa * (
            sig + Cc * ss * (c2sm + Cc * cs * (-1 + 2 * c2sm * c2sm)))
        if abs(lam - prev) < 1e-13:
            break
    u2 = c2a * (a * a - b * b) / (b * b)
    A = 1 + u2 / 16384 * (4096 + u2 * (-768 + u2 * (320 - 175 * u2)))
    B = u2 / 1024 * (256 + u2 * (-128 + u2 * (74 - 47 * u2)))
    ds = B * ss * (c2sm + B / 4 * (cs * (-1 + 2 * c2sm * c2sm) - B / 6 *
                   c2sm * (-3 + 4 * ss * ss) * (-3 + 4 * c2sm * c2sm)))
    return b * A * (sig - ds)
