"""test_service.py -- `heimdall-rec serve` as a station's service (issue 15,
"Service"), end to end with the real binary and the simulator:

- the systemd notification protocol against a fake NOTIFY_SOCKET (a Python
  AF_UNIX datagram socket): READY=1 once listening, STATUS= following a
  session, WATCHDOG=1 at half of WATCHDOG_USEC from the event loop, none
  while the loop is stalled (HEIMDALL_TEST_STALL blocks it for real: /health
  does not answer either), back after; STOPPING=1 on SIGTERM; no pings for
  another WATCHDOG_PID; libsystemd loaded only under a service manager, and
  a clear exit when it cannot be;
- the unit: systemd-analyze verify and security, and `meson install` puts it
  where systemd looks, with the installed binary's path;
- GET /metrics: promtool check metrics, values after a session (stored,
  missing, failures by reason, SNR, sessions), label escaping, the token
  rule (header only), and a real Prometheus that scrapes it."""

import base64, json, os, re, shutil, signal, socket, struct, subprocess, sys
import tempfile, threading, time, unittest
import urllib.error, urllib.parse, urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness as h
from servers import free_port

BUILD = os.environ.get("HEIMDALL_BUILD", os.path.dirname(h.REC))
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


class Notify:
    """A fake service manager: the datagrams sent to NOTIFY_SOCKET, with
    the time each arrived."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "notify-%d.sock" % os.getpid())
        if os.path.exists(self.path):
            os.unlink(self.path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.msgs = []              # (time.monotonic(), text)
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                d = self.sock.recv(65536)
            except socket.timeout:
                continue
            with self.lock:
                self.msgs.append((time.monotonic(), d.decode()))

    def since(self, t0=0.0):
        with self.lock:
            return [m for t, m in self.msgs if t >= t0]

    def pings(self, t0=0.0, t1=float("inf")):
        with self.lock:
            return [t for t, m in self.msgs if m == "WATCHDOG=1" and t0 <= t < t1]

    def statuses(self):
        out = []
        for m in self.since():
            for line in m.split("\n"):
                if line.startswith("STATUS="):
                    out.append(line[7:])
        return out

    def wait(self, pred, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for m in self.since():
                if pred(m):
                    return m
            time.sleep(0.02)
        raise AssertionError("no such notification in %s s: %r" %
                             (timeout, self.since()[-10:]))

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()
        os.unlink(self.path)


class Serve(h.Serve):
    """`heimdall-rec serve` on a free loopback port (harness.Serve), with
    nothing of a service manager this test may run under unless env says."""

    def __init__(self, stations, data, *extra, env=None):
        e = {k: v for k, v in os.environ.items()
             if k not in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")}
        e.update(env or {})
        super().__init__(["--listen", "127.0.0.1:0", "--stations", stations,
                          "--data-dir", data, "--start-timeout", "2"]
                         + list(extra), env=e)


def get(url, headers=None, timeout=10):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


class WS:
    """A minimal WebSocket client (RFC 6455: masked text frames out)."""

    def __init__(self, port, headers=b""):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.s.sendall(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                       b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                       b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n"
                       b"%s\r\n" % (port, base64.b64encode(os.urandom(16)),
                                    headers))
        buf = b""
        while b"\r\n\r\n" not in buf:
            d = self.s.recv(4096)
            assert d, "closed during the upgrade"
            buf += d
        head, _, self.buf = buf.partition(b"\r\n\r\n")
        assert b" 101 " in head.split(b"\r\n")[0], head

    def send(self, event, data):
        p = json.dumps({"event": event, "data": data}).encode()
        key = os.urandom(4)
        hdr = bytes([0x81])
        if len(p) < 126:
            hdr += bytes([0x80 | len(p)])
        else:
            hdr += bytes([0x80 | 126]) + struct.pack(">H", len(p))
        self.s.sendall(hdr + key + bytes(b ^ key[i % 4] for i, b in enumerate(p)))

    def _frame(self):
        while True:
            if len(self.buf) >= 2:
                n, o = self.buf[1] & 0x7f, 2
                if n == 126 and len(self.buf) >= 4:
                    n, o = struct.unpack(">H", self.buf[2:4])[0], 4
                elif n == 127 and len(self.buf) >= 10:
                    n, o = struct.unpack(">Q", self.buf[2:10])[0], 10
                if n < 126 or o > 2:
                    if len(self.buf) >= o + n:
                        op, p = self.buf[0] & 0xf, self.buf[o:o + n]
                        self.buf = self.buf[o + n:]
                        return op, p
            d = self.s.recv(65536)
            assert d, "the server closed the connection"
            self.buf += d

    def wait(self, pred, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.s.settimeout(max(0.1, end - time.monotonic()))
            op, p = self._frame()
            if op != 1:
                continue
            m = json.loads(p)
            if pred(m):
                return m
        raise AssertionError("timed out")

    def session(self, name, duration, freq_mhz=10):
        """The three steps; returns the final status_update's data."""
        self.send("session:start", {"session_name": name, "frequency_mhz":
                                    freq_mhz, "duration_seconds": duration})
        m = self.wait(lambda m: m["event"] in ("session:started", "session:error"))
        assert m["event"] == "session:started", m
        sid = m["data"]["session_id"]
        self.send("session:assign_source", {"session_id": sid, "source_id": "unknown"})
        self.wait(lambda m: m["event"] == "session:source_assigned")
        self.send("session:complete", {"session_id": sid, "frequency_hz":
                                       int(freq_mhz * 1e6), "duration_seconds": duration})
        m = self.wait(lambda m: m["event"] == "session:status_update" and
                      m["data"]["session_id"] == sid and
                      m["data"]["status"] in ("completed", "failed"),
                      timeout=duration + 60)
        return m["data"]

    def close(self):
        self.s.close()


def parse_metrics(text):
    """{(name, frozenset(labels.items())): value} from the exposition."""
    out = {}
    lab = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^(\w+)(\{.*\})? (\S+)$', line)
        assert m, "bad sample line %r" % line
        labels = {}
        if m.group(2):
            for k, v in lab.findall(m.group(2)):
                labels[k] = re.sub(r'\\(.)', lambda e: "\n" if e.group(1) == "n"
                                   else e.group(1), v)
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(3))
    return out


def metric(ms, name, **labels):
    return ms[(name, frozenset(labels.items()))]


def promtool_check(text):
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text,
                       capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


class NotifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hr-svc-")
        cls.sim = h.Sim(count=3, tmp=cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.sim.close()
        h.rmtree(cls.tmp)

    def setUp(self):
        self.nt = Notify(self.tmp)

    def tearDown(self):
        self.nt.close()

    def env(self, **more):
        e = {"NOTIFY_SOCKET": self.nt.path}
        e.update(more)
        return e

    def test_ready_status_watchdog_stopping(self):
        """READY=1 once the port answers, pings every 0.2 s (WATCHDOG_USEC
        0.4 s), STATUS= following a session, STOPPING=1 on SIGTERM."""
        with Serve(self.sim.stations, os.path.join(self.tmp, "d1"),
                   env=self.env(WATCHDOG_USEC="400000")) as srv:
            m = self.nt.wait(lambda m: m.startswith("READY=1"))
            self.assertEqual(m, "READY=1\nSTATUS=idle, 3 receivers")
            # ready means listening: the port answers at once
            st, _, _ = get(srv.http + "/health")
            self.assertEqual(st, 200)
            t0 = time.monotonic()
            time.sleep(1.6)
            n = len(self.nt.pings(t0, t0 + 1.6))
            self.assertGreaterEqual(n, 5, "pings at 0.2 s: %d in 1.6 s" % n)
            self.assertLessEqual(n, 10)
            # the session's states, as they happen
            ws = WS(srv.port)
            fin = ws.session("svc test", 2)
            ws.close()
            self.assertEqual(fin["status"], "completed", fin)
            self.nt.wait(lambda m: m == 'STATUS=idle, 3 receivers; last session '
                         '"svc test" completed')
            sts = self.nt.statuses()
            self.assertIn("idle, 3 receivers, 1 open", sts)   # started, not acquiring
            acq = [s for s in sts if s.startswith('acquiring "svc test"')]
            self.assertTrue(any(re.fullmatch(r'acquiring "svc test" \(chunk [12]/2, '
                                             r'3 of 3 receivers streaming\)', s)
                                for s in acq), sts)
            # only changes are sent (READY carried the first)
            plain = [m[7:] for m in self.nt.since() if m.startswith("STATUS=")]
            self.assertTrue(all(a != b for a, b in zip(plain, plain[1:])), plain)
            rc, err = srv.stop()
            self.assertEqual(rc, 0, err)
            self.nt.wait(lambda m: m.startswith("STOPPING=1\nSTATUS=stopping"))
            # the journal gets plain lines: no lws time stamps, no colours
            for line in err.splitlines():
                self.assertTrue(line.startswith("heimdall-rec: "), line)

    def test_watchdog_stops_while_the_loop_stalls(self):
        """HEIMDALL_TEST_STALL=FILE blocks the event loop while FILE exists:
        no pings and no HTTP answer then; both come back after."""
        stall = os.path.join(self.tmp, "stall")
        with Serve(self.sim.stations, os.path.join(self.tmp, "d2"),
                   env=self.env(WATCHDOG_USEC="400000",
                                HEIMDALL_TEST_STALL=stall)) as srv:
            self.nt.wait(lambda m: m == "WATCHDOG=1")
            open(stall, "w").close()
            time.sleep(0.3)         # a ping already on its way may land
            t0 = time.monotonic()
            # the loop is stuck for real: /health gets no answer either
            with self.assertRaises(OSError):
                get(srv.http + "/health", timeout=1.0)
            time.sleep(0.6)
            t1 = time.monotonic()
            self.assertEqual(self.nt.pings(t0, t1), [],
                             "pings while the loop was stalled")
            os.unlink(stall)
            time.sleep(1.0)
            self.assertGreaterEqual(len(self.nt.pings(t1)), 3)
            st, _, _ = get(srv.http + "/health")
            self.assertEqual(st, 200)
            rc, err = srv.stop()
            self.assertEqual(rc, 0, err)

    def test_watchdog_for_another_pid(self):
        """WATCHDOG_PID names another process: no pings (sd_watchdog_enabled),
        READY all the same."""
        with Serve(self.sim.stations, os.path.join(self.tmp, "d3"),
                   env=self.env(WATCHDOG_USEC="400000", WATCHDOG_PID="1")) as srv:
            self.nt.wait(lambda m: m.startswith("READY=1"))
            time.sleep(1.0)
            self.assertEqual(self.nt.pings(), [])
            self.assertEqual(srv.stop()[0], 0)

    def test_libsystemd_only_under_a_manager(self):
        """Without NOTIFY_SOCKET libsystemd is never loaded; with one, it is;
        with one and no loadable libsystemd, a clear exit 69."""
        def maps(env):
            with Serve(self.sim.stations, os.path.join(self.tmp, "d4"),
                       env=env) as srv:
                with open("/proc/%d/maps" % srv.proc.pid) as f:
                    m = f.read()
                self.assertEqual(srv.stop()[0], 0)
            return m
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        self.assertNotIn("libsystemd", maps({}))
        self.assertIn("libsystemd.so.0", maps(self.env()))
        self.assertEqual(self.nt.pings(), [])   # no WATCHDOG_USEC: no pings
        bad = os.path.join(self.tmp, "badlib")
        os.makedirs(bad, exist_ok=True)
        with open(os.path.join(bad, "libsystemd.so.0"), "w") as f:
            f.write("not a library")
        r = subprocess.run([h.REC, "serve", "--listen", "127.0.0.1:0", "--stations",
                            self.sim.stations, "--data-dir", os.path.join(self.tmp, "d5")],
                           capture_output=True, text=True, timeout=30,
                           env=dict(env, NOTIFY_SOCKET=self.nt.path,
                                    LD_LIBRARY_PATH=bad))
        self.assertEqual(r.returncode, 69, r.stderr)
        self.assertIn("NOTIFY_SOCKET is set, but cannot load libsystemd.so.0", r.stderr)
        self.assertEqual(r.stdout, "")


class UnitTest(unittest.TestCase):
    def unit(self):
        with open(os.path.join(BUILD, "scripts", "systemd",
                               "heimdall-rec.service")) as f:
            return f.read()

    def test_verify_and_security(self):
        """systemd-analyze finds nothing to say about the unit (its
        ExecStart pointed at the built binary) and rates its exposure OK."""
        tmp = tempfile.mkdtemp(prefix="hr-unit-")
        try:
            text = self.unit()
            m = re.search(r"^ExecStart=(\S+)/heimdall-rec serve", text, re.M)
            self.assertTrue(m, text)
            path = os.path.join(tmp, "heimdall-rec.service")
            with open(path, "w") as f:
                f.write(text.replace(m.group(1) + "/heimdall-rec",
                                     os.path.abspath(h.REC)))
            r = subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))
            # a misspelt key is what verify would catch
            with open(path, "w") as f:
                f.write(text.replace("ProtectClock=", "ProtectClok="))
            r = subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                               capture_output=True, text=True, timeout=60)
            self.assertIn("Unknown key 'ProtectClok'", r.stderr)
            with open(path, "w") as f:
                f.write(text)
            r = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                                path], capture_output=True, text=True, timeout=60)
            m = re.search(r"Overall exposure level for heimdall-rec.service: "
                          r"([\d.]+)", r.stdout + r.stderr)
            self.assertTrue(m, r.stdout + r.stderr)
            self.assertLessEqual(float(m.group(1)), 2.0, r.stdout)
        finally:
            h.rmtree(tmp)
        for key in ("Type=notify", "WatchdogSec=", "Restart=on-failure",
                    "ProtectSystem=strict", "NoNewPrivileges=yes",
                    "PrivateTmp=yes", "StateDirectory=heimdall-rec",
                    "--data-dir ${STATE_DIRECTORY}"):
            self.assertIn(key, text)

    def test_meson_install(self):
        """`meson install` puts the unit where systemd looks
        (PREFIX/lib/systemd/system), naming the installed binary."""
        dest = tempfile.mkdtemp(prefix="hr-inst-")
        try:
            r = subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild",
                                "--destdir", dest, "--quiet"],
                               capture_output=True, text=True, timeout=120)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            info = json.loads(subprocess.run(
                ["meson", "introspect", BUILD, "--buildoptions"],
                capture_output=True, text=True, timeout=60).stdout)
            opt = {o["name"]: o["value"] for o in info}
            prefix, bindir = opt["prefix"], opt["bindir"]
            unit = os.path.join(dest + prefix, "lib", "systemd", "system",
                                "heimdall-rec.service")
            if opt["systemdunitdir"]:
                unit = os.path.join(dest + opt["systemdunitdir"],
                                    "heimdall-rec.service")
            with open(unit) as f:
                text = f.read()
            exe = os.path.join(prefix, bindir, "heimdall-rec")
            self.assertIn("ExecStart=%s serve " % exe, text)
            self.assertTrue(os.path.exists(dest + exe))
        finally:
            h.rmtree(dest)


class MetricsTest(unittest.TestCase):
    """GET /metrics after a session with 3 simulated receivers and one
    that refuses the password (fatal: failed with that reason); two station
    names need escaping."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hr-met-")
        cls.sim = h.Sim(count=4, specs=["i=4,fault=badp"], tmp=cls.tmp)
        with open(cls.sim.stations) as f:
            st = json.load(f)
        st["stations"][0]["name"] = 'Sim "1" \\ north'
        st["stations"][1]["name"] = "Sim 2 – Aosta"
        st["stations"][3]["name"] = "Dead"
        cls.stations = os.path.join(cls.tmp, "stations.json")
        with open(cls.stations, "w") as f:
            json.dump(st, f)
        cls.token = os.path.join(cls.tmp, "token")
        with open(cls.token, "w") as f:
            f.write("s3cret-metrics-token-0123\n")
        cls.srv = Serve(cls.stations, os.path.join(cls.tmp, "d"),
                        "--token-file", cls.token)
        cls.auth = {"Authorization": "Bearer s3cret-metrics-token-0123"}
        ws = WS(cls.srv.port, b"Authorization: Bearer s3cret-metrics-token-0123\r\n")
        cls.final = ws.session("metrics test", 3)
        ws.close()

    @classmethod
    def tearDownClass(cls):
        rc, err = cls.srv.stop()
        cls.sim.close()
        h.rmtree(cls.tmp)
        assert rc == 0, err

    def scrape(self):
        st, hd, body = get(self.srv.http + "/metrics", self.auth)
        self.assertEqual(st, 200, body)
        self.assertEqual(hd["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        return body

    def test_values_and_promtool(self):
        self.assertEqual(self.final["status"], "completed", self.final)
        body = self.scrape()
        rc, out = promtool_check(body)
        self.assertEqual((rc, out), (0, ""), body)
        ms = parse_metrics(body)
        names = [('Sim "1" \\ north', "1"), ("Sim 2 – Aosta", "2"), ("Sim 3", "3")]
        for name, k in names:
            self.assertEqual(metric(ms, "heimdall_chunks_stored_total",
                                    websdr=k, station=name), 3)
            self.assertEqual(metric(ms, "heimdall_chunks_missing_total",
                                    websdr=k, station=name), 0)
            self.assertEqual(metric(ms, "heimdall_samples_lost_total",
                                    websdr=k, station=name), 0)
            snr = metric(ms, "heimdall_chunk_snr_db", websdr=k, station=name)
            self.assertTrue(0 < snr < 80, snr)
        # the escaped label as it is written
        self.assertIn('station="Sim \\"1\\" \\\\ north"', body)
        self.assertEqual(metric(ms, "heimdall_chunks_stored_total",
                                websdr="4", station="Dead"), 0)
        self.assertEqual(metric(ms, "heimdall_chunks_missing_total",
                                websdr="4", station="Dead"), 3)
        fails = {dict(k[1])["reason"]: v for k, v in ms.items()
                 if k[0] == "heimdall_receiver_failures_total"}
        self.assertEqual(len(fails), 1, fails)
        reason, n = fails.popitem()
        self.assertGreaterEqual(n, 1)
        self.assertRegex(reason, "(?i)password", reason)
        self.assertEqual(metric(ms, "heimdall_receivers_configured"), 4)
        self.assertEqual(metric(ms, "heimdall_receivers", state="idle"), 4)
        self.assertEqual(metric(ms, "heimdall_sessions_ended_total",
                                status="completed"), 1)
        self.assertEqual(metric(ms, "heimdall_sessions_ended_total",
                                status="failed"), 0)
        for st in ("recording", "source_assigned", "queued", "acquiring"):
            self.assertEqual(metric(ms, "heimdall_sessions", state=st), 0)
        self.assertEqual(metric(ms, "heimdall_replication_enabled"), 0)
        self.assertEqual(metric(ms, "heimdall_ws_clients"), 0)
        self.assertEqual(metric(ms, "heimdall_ws_clients_dropped_total"), 0)
        self.assertGreater(metric(ms, "process_cpu_seconds_total"), 0)
        self.assertGreater(metric(ms, "process_resident_memory_bytes"), 1e6)
        self.assertGreater(metric(ms, "process_open_fds"), 3)
        start = metric(ms, "process_start_time_seconds")
        self.assertLess(abs(start - (time.time() - (time.monotonic() -
                                                     self.srv.t_listening))), 30)

    def test_token_in_header_only(self):
        st, _, body = get(self.srv.http + "/metrics")
        self.assertEqual(st, 401, body)
        st, _, body = get(self.srv.http + "/metrics?token=s3cret-metrics-token-0123")
        self.assertEqual(st, 401, body)   # never in a URL
        st, _, _ = get(self.srv.http + "/metrics",
                       {"Authorization": "Bearer s3cret-metrics-token-0124"})
        self.assertEqual(st, 401)
        self.assertEqual(self.scrape().count("heimdall_build_info{"), 1)

    def test_prometheus_scrapes(self):
        """A real Prometheus (127.0.0.1, temporary config and storage)
        scrapes /metrics with the token from a file; its HTTP API then
        answers a query with the recorder's value."""
        d = tempfile.mkdtemp(prefix="hr-prom-")
        port = free_port()
        cfg = os.path.join(d, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n"
                    "scrape_configs:\n  - job_name: heimdall\n"
                    "    scrape_interval: 500ms\n    scrape_timeout: 400ms\n"
                    "    authorization:\n      credentials_file: %s\n"
                    "    static_configs:\n      - targets: ['%s']\n"
                    % (self.token, self.srv.addr))
        proc = subprocess.Popen([PROMETHEUS, "--config.file=" + cfg,
                                 "--storage.tsdb.path=" + os.path.join(d, "data"),
                                 "--web.listen-address=127.0.0.1:%d" % port,
                                 "--log.level=warn"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        try:
            api = "http://127.0.0.1:%d/api/v1/query?query=" % port
            q = urllib.parse.quote('heimdall_chunks_stored_total{station="Sim \\"1\\" \\\\ north"}')
            res, end = None, time.monotonic() + 30
            while time.monotonic() < end:
                try:
                    st, _, body = get(api + q, timeout=2)
                except OSError:
                    st = None
                if st == 200:
                    res = json.loads(body)["data"]["result"]
                    if res:
                        break
                time.sleep(0.2)
            self.assertTrue(res, "Prometheus got nothing in 30 s")
            self.assertEqual(res[0]["metric"]["websdr"], "1")
            self.assertEqual(res[0]["metric"]["job"], "heimdall")
            self.assertEqual(float(res[0]["value"][1]), 3)
            st, _, body = get(api + urllib.parse.quote('up{job="heimdall"}'))
            self.assertEqual(float(json.loads(body)["data"]["result"][0]["value"][1]), 1)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stderr.close()
            h.rmtree(d)


if __name__ == "__main__":
    unittest.main(verbosity=2)
