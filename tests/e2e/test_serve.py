"""test_serve.py -- `heimdall-rec serve` end to end: real external WebSocket
clients (npm "ws", tests/web/*.js) against the real binary and the simulator:
the full 7-station flow, every bad-input and limit case, /health, tokens,
Origin checks (also in chromium), TLS, mid-session resume, heartbeat, clean
shutdown (final status, close 1001), the listening address (in a network
namespace made here), floods up to the descriptor limit, unmasked frames."""

import base64, datetime, json, os, re, resource, shutil, signal, socket, struct
import subprocess, sys, tempfile, time, unittest, uuid
import urllib.error, urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness as h
from servers import free_port

SRC = os.environ.get("HEIMDALL_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
WEB = os.path.join(SRC, "tests", "web")
NODE = "/usr/bin/node"


def node(script, *args, timeout=180):
    env = dict(os.environ, NODE_PATH=os.path.join(WEB, "node_modules"))
    return subprocess.run([NODE, os.path.join(WEB, script)] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=timeout, env=env)


def probe(url, *args, timeout=10):
    r = node("probe.js", url, *args, timeout=timeout + 10)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


class Server(h.Serve):
    """`heimdall-rec serve` of the simulator's stations on a free loopback
    port; a context manager (harness.Serve)."""

    def __init__(self, sim, data, *extra, listen="127.0.0.1:0", wrap=(),
                 preexec=None):
        super().__init__(["--listen", listen, "--stations", sim.stations,
                          "--data-dir", data] + list(extra),
                         wrap=wrap, preexec=preexec)


def fake_sessions(data, n, stations=7, dur=10):
    """n finished sessions written as the recorder writes them: manifest.json
    with dur x stations measurement rows (sessions:list never opens a
    chunk, so no .npy). Returns their ids, newest first."""
    t0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    out = []
    for i in range(n):
        sid = str(uuid.uuid4())
        start = (t0 + datetime.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        rows = [{"id": str(uuid.uuid4()), "recording_session_id": sid, "websdr": k,
                 "websdr_station_name": "Sim %d" % k, "chunk_index": c, "timestamp": start,
                 "frequency_hz": 10000000, "signal_strength_db": -20.5, "snr_db": 20.1,
                 "frequency_offset_hz": 750.0, "noise_floor_db": -40.9, "rssi_dbm": -50.8,
                 "peak_amplitude": 0.11, "adc_overflow_count": 0, "gps_fix_age_s": 1,
                 "time_source": "gps", "samples_lost": 0,
                 "iq_data_location": "sessions/%s/chunk_%03d_websdr_%d.npy" % (sid, c, k),
                 "iq_data_format": "complex64", "iq_sample_rate": 12001.137,
                 "iq_samples_count": 12001, "duration_seconds": 1.0, "created_at": start}
                for c in range(dur) for k in range(1, stations + 1)]
        m = {"format": "heimdall-rec/1", "session": {
                "id": sid, "session_name": "stored %d" % i, "frequency_hz": 10000000,
                "frequency_mhz": 10.0, "duration_seconds": dur, "notes": "",
                "status": "completed", "session_start": start, "session_end": start,
                "created_at": start, "updated_at": start, "failure_reason": None},
             "stations": [{"websdr": k, "name": "Sim %d" % k} for k in range(1, stations + 1)],
             "summary": {}, "missing": [], "measurements": rows}
        os.makedirs(os.path.join(data, "sessions", sid))
        with open(os.path.join(data, "sessions", sid, "manifest.json"), "w") as f:
            json.dump(m, f, indent=1)
        out.append(sid)
    return out[::-1]


def listening(pid):
    """The (address, port) of every listening TCP socket of process pid,
    read from /proc (its own network namespace's view)."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    out = []
    for name, fam in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        with open("/proc/%d/net/%s" % (pid, name)) as f:
            for line in f.readlines()[1:]:
                p = line.split()
                if p[3] != "0A" or p[9] not in inodes:
                    continue
                a, port = p[1].split(":")
                raw = bytes.fromhex(a)
                # /proc prints each 32-bit word in host (little-endian) order
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                out.append((socket.inet_ntop(fam, raw), int(port, 16)))
    return sorted(out)


CONNECT = """import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.settimeout(3)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    print("open")
except ConnectionRefusedError:
    print("refused")
except OSError as e:
    print("error", e)
"""


def ws_handshake(port, host="127.0.0.1", extra=b""):
    """A raw WebSocket upgrade; returns (socket, status line, bytes after
    the headers)."""
    s = socket.create_connection((host, port), timeout=10)
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
              b"Sec-WebSocket-Key: %s\r\n%s\r\n" % (host.encode(), port,
              base64.b64encode(os.urandom(16)), extra))
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    head, _, rest = buf.partition(b"\r\n\r\n")
    return s, head.split(b"\r\n")[0].decode(), rest


def ws_frames(s, buf, timeout=10):
    """Server frames [(opcode, payload)] until a close frame, EOF or the
    timeout."""
    s.settimeout(timeout)
    out = []
    while True:
        while len(buf) >= 2:
            n, o = buf[1] & 0x7f, 2
            if n == 126:
                if len(buf) < 4:
                    break
                n, o = struct.unpack(">H", buf[2:4])[0], 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n, o = struct.unpack(">Q", buf[2:10])[0], 10
            if len(buf) < o + n:
                break
            out.append((buf[0] & 0xf, buf[o:o + n]))
            buf = buf[o + n:]
            if out[-1][0] == 8:
                return out
        try:
            d = s.recv(65536)
        except socket.timeout:
            return out
        if not d:
            return out
        buf += d


def ws_masked(opcode, payload):
    key = os.urandom(4)
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + key + bytes(
        b ^ key[i % 4] for i, b in enumerate(payload))


def get(url, headers=None, ctx=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class ServeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hr-serve-")
        cls.sim = h.Sim(count=7, tmp=cls.tmp)

    @classmethod
    def tearDownClass(cls):
        cls.sim.close()
        h.rmtree(cls.tmp)

    def data(self, name):
        return os.path.join(self.tmp, name)

    def assertClean(self, srv):
        rc, err = srv.stop()
        self.assertEqual(rc, 0, err[-3000:])

    def test_flow_7_stations(self):
        """The full start -> assign -> complete -> progress x5 -> completed
        flow, watched by a second client; then the dataset is checked."""
        d = self.data("flow")
        with Server(self.sim, d) as srv:
            r = node("flow.js", srv.ws, 7, 5, 10)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            res = json.loads(r.stdout)
            m, sdir = h.manifest(d, res["session_id"])
            self.assertEqual(m["session"]["status"], "completed")
            self.assertEqual(m["session"]["session_name"], "e2e flow")
            self.assertEqual(len(m["measurements"]), 35)
            npy = [f for f in os.listdir(sdir) if f.endswith(".npy")]
            self.assertEqual(len(npy), 35)
            # the same session is seen by the CLI (one engine, one store)
            out = subprocess.run([h.REC, "sessions", "--data-dir", d, "--json"],
                                 capture_output=True, text=True, timeout=30)
            self.assertIn(res["session_id"], out.stdout)
            self.assertClean(srv)

    def test_bad_input_and_limits(self):
        d = self.data("bad")
        with Server(self.sim, d) as srv:
            r = node("badinput.js", srv.ws, 10, 145, timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            res = json.loads(r.stdout)
            self.assertGreaterEqual(res["cases"], 60)
            self.assertEqual(srv.proc.poll(), None, "server died")
            st, _, body = get(srv.http + "/health")
            self.assertEqual(st, 200)
            self.assertGreaterEqual(json.loads(body)["clients_dropped"], 1)  # the slow one
            self.assertClean(srv)
            # no session name reached a path
            for root, dirs, files in os.walk(d):
                for n in dirs + files:
                    self.assertNotIn("passwd", n)

    def test_health_and_page(self):
        d = self.data("health")
        with Server(self.sim, d) as srv:
            st, hd, body = get(srv.http + "/health")
            self.assertEqual(st, 200)
            self.assertIn("application/json", hd["Content-Type"])
            j = json.loads(body)
            self.assertEqual(j["status"], "ok")
            self.assertRegex(j["version"], r"^\d+\.\d+\.\d+$")
            self.assertGreaterEqual(j["uptime_seconds"], 0)
            self.assertEqual(j["sessions_in_progress"], 0)
            self.assertEqual(j["receivers_total"], 7)
            self.assertEqual(j["store"]["state"], "ok")
            self.assertEqual(j["store"]["dir"], d)
            # reachability: the prober's first pass
            for _ in range(50):
                j = json.loads(get(srv.http + "/health")[2])
                if j["receivers_reachable"] is not None:
                    break
                time.sleep(0.1)
            self.assertEqual(j["receivers_reachable"], 7)
            st, hd, body = get(srv.http + "/")
            self.assertEqual(st, 200)
            self.assertIn("text/html", hd["Content-Type"])
            self.assertIn(b"Start Recording Session", body)
            with open(os.path.join(SRC, "web", "index.html"), "rb") as f:
                self.assertEqual(body, f.read())
            self.assertEqual(get(srv.http + "/nothing")[0], 404)
            self.assertEqual(get(srv.http + "/ws")[0], 400)
            self.assertClean(srv)

    def test_resume_mid_session(self):
        """A client that connects mid-session gets its current state."""
        d = self.data("resume")
        with Server(self.sim, d) as srv:
            env = lambda e, x: json.dumps({"event": e, "data": x})
            r = probe(srv.ws, "--send", env("session:start", {
                "session_name": "resume", "frequency_mhz": 10,
                "duration_seconds": 4}), "--until", "session:started")
            started = [m for m in r["messages"] if m["event"] == "session:started"][0]["data"]
            sid, tok = started["session_id"], started["session_token"]
            # a fresh client sees the session waiting for its source
            r = probe(srv.ws, "--until", "session:status_update")
            up = r["messages"][0]
            self.assertEqual(up["event"], "session:status_update")
            self.assertEqual(up["data"]["session_id"], sid)
            self.assertEqual(up["data"]["status"], "recording")
            # later connections act on it with its token (as a reloaded page)
            probe(srv.ws, "--send", env("session:assign_source", {
                "session_id": sid, "source_id": "unknown", "session_token": tok}),
                "--until", "session:source_assigned")
            probe(srv.ws, "--send", env("session:complete", {
                "session_id": sid, "frequency_hz": 10000000,
                "duration_seconds": 4, "session_token": tok}), "--until", "session:completed")
            time.sleep(2.2)
            r = probe(srv.ws, "--until", "session:status_update")
            up = r["messages"][0]["data"]
            self.assertEqual(up["status"], "in_progress")
            self.assertEqual(up["total_chunks"], 4)
            self.assertGreaterEqual(up["chunk"], 1)
            self.assertEqual(len(up["stations"]), 7)
            self.assertEqual(up["stations"][0]["state"], "streaming")
            j = json.loads(get(srv.http + "/health")[2])
            self.assertEqual(j["sessions_in_progress"], 1)
            self.assertEqual(j["sessions_acquiring"], 1)
            # after the end, nothing is replayed to a new client
            time.sleep(5)
            r = probe(srv.ws, "--send", env("session:get", {"session_id": sid}),
                      "--until", "session:status_update")
            self.assertEqual(len(r["messages"]), 1)
            self.assertEqual(r["messages"][0]["data"]["status"], "completed")
            self.assertClean(srv)

    def test_page_in_chromium(self):
        """The built-in page in Debian's chromium (playwright-core): a full
        5-second session, a reload mid-acquisition, an error shown."""
        self.assertTrue(os.path.exists("/usr/bin/chromium"),
                        "chromium missing: run scripts/install-deps")
        art = os.path.join(SRC, "tests", "artifacts")
        os.makedirs(art, exist_ok=True)
        for f in ("page-acquiring.png", "page-completed.png"):
            if os.path.exists(os.path.join(art, f)):
                os.unlink(os.path.join(art, f))
        d = self.data("page")
        with Server(self.sim, d) as srv:
            r = node("page.js", srv.http + "/", 7, "10", art, timeout=240)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            res = json.loads(r.stdout)
            m, _ = h.manifest(d, res["session_id"])
            self.assertEqual(m["session"]["status"], "completed")
            self.assertEqual(m["session"]["notes"], "recorded by chromium")
            # the form's group field (issue 16: --group in every front-end)
            self.assertEqual(m["session"]["group_id"], "tx-2026.12:a_1")
            for f in ("page-acquiring.png", "page-completed.png"):
                self.assertGreater(os.path.getsize(os.path.join(art, f)), 10000)
            self.assertClean(srv)

    def test_page_localization_mock(self):
        """The page's localization panel in chromium, its WebSocket answered
        by the test (playwright's routeWebSocket): a fix, a no-fix with its
        reason, another session's fix ignored, fields missing or mistyped,
        markup in a reason kept as text, the session fix (as an event and
        as the summary's row), the SVG plots (tests/web/page_loc.js)."""
        self.assertTrue(os.path.exists("/usr/bin/chromium"),
                        "chromium missing: run scripts/install-deps")
        art = os.path.join(SRC, "tests", "artifacts")
        os.makedirs(art, exist_ok=True)
        with Server(self.sim, self.data("page-loc-mock")) as srv:
            r = node("page_loc.js", "mock", srv.http + "/", art, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            self.assertClean(srv)

    def test_page_localization_live(self):
        """The page against the simulator's localization scenario (seven
        KiwiSDRs at the original network's positions, one without GPS, the
        known source "TX" at the transmitter): it shows each chunk's fix
        and the session fix of the manifest, the excluded receiver with its
        reason, and plots the receivers, the source and the fix."""
        self.assertTrue(os.path.exists("/usr/bin/chromium"),
                        "chromium missing: run scripts/install-deps")
        tmp = tempfile.mkdtemp(prefix="hr-serve-loc-")
        self.addCleanup(h.rmtree, tmp)
        sim = h.Sim(7, ["i=%d,gps=%d,signal=tx,txsnr=20" %
                        (k, 0 if k == 7 else 1) for k in range(1, 8)],
                    tmp=tmp, extra=["--positions", os.path.join(
                        SRC, "examples", "heimdall-2m.json"), "--tx",
                        "lat=45.05,lon=8.2,bw=10000"])
        self.addCleanup(sim.close)
        d = os.path.join(tmp, "data")
        p = subprocess.run([h.REC, "sources", "add", "--data-dir", d,
                            "--name", "TX", "--lat", "45.05", "--lon", "8.2",
                            "--freq", "10"], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        art = os.path.join(SRC, "tests", "artifacts")
        os.makedirs(art, exist_ok=True)
        with Server(sim, d) as srv:
            r = node("page_loc.js", "live", srv.http + "/", art, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            res = json.loads(r.stdout)
            # session:get carries the newest chunk fix and the session fix
            g = probe(srv.ws, "--send", json.dumps({"event": "session:get",
                      "data": {"session_id": res["session_id"]}}),
                      "--until", "session:status_update")
            snap = [x for x in g["messages"]
                    if x["event"] == "session:status_update"][0]["data"]
            self.assertClean(srv)
        m, _ = h.manifest(d, res["session_id"])
        fix = m["summary"]["fix"]
        self.assertTrue(fix["ok"], fix)
        latest, sfix = snap["latest_fix"], snap["session_fix"]
        last = max(f["chunk_index"] for f in m["fixes"] if not f["final"])
        self.assertEqual(latest["chunk_index"], last)
        self.assertEqual(latest["session_id"], res["session_id"])
        self.assertNotIn("final", latest)
        self.assertTrue(sfix["final"])
        self.assertAlmostEqual(sfix["latitude"], fix["latitude"], places=9)
        self.assertAlmostEqual(sfix["longitude"], fix["longitude"], places=9)
        self.assertEqual(sfix["receivers"], fix["receivers"])
        # the session fix counts chunk fixes apart from pairs
        ok_chunks = sum(1 for f in m["fixes"] if not f["final"] and f["ok"])
        self.assertEqual(sfix["chunks_used"] + sfix["chunks_rejected"],
                         ok_chunks)
        self.assertGreaterEqual(sfix["pairs_used"], 2 * sfix["chunks_used"])
        self.assertEqual(sfix["pairs_used"], fix["pairs_used"])
        final = {row[0]: row[1] for row in res["final"]}
        self.assertEqual(final["Position"], "%.5f, %.5f" % (
            fix["latitude"], fix["longitude"]))
        self.assertRegex(final["Error"], r"^\d+(\.\d+)? k?m from TX$")
        self.assertRegex(final["CEP50 / CEP95"], r"^\d.* k?m / \d.* k?m$")
        self.assertRegex(final["Worst residual"],
                         r": [+-]\d+\.\d\d \u00b5s$")
        latest = {row[0]: row[1] for row in res["latest"]}
        self.assertRegex(latest.get("Position", ""),
                         r"^45\.0\d{4}, 8\.[12]\d{4}$", res["latest"])
        self.assertRegex(res["excluded"],
                         r"^Excluded from TDoA \(chunk \d\): Sim 7 \(\S")
        self.assertEqual(res["map"], {"rx": 7, "fix": 1, "src": 1, "ell": 1})

    def test_page_follows_another_session(self):
        """Issue 13: the page opened while another client's session
        acquires shows it as it is (acquiring, its frequency, the bar, no
        "New Session"), the stations left out for the frequency and the
        source-frequency warning; at the end "complete" and a full bar;
        reloaded after the end, the last session (tests/web/page_follow.js).
        A mixed network: 3 HF stations and 2 two-metre ones."""
        self.assertTrue(os.path.exists("/usr/bin/chromium"),
                        "chromium missing: run scripts/install-deps")
        tmp = tempfile.mkdtemp(prefix="hr-serve-follow-")
        self.addCleanup(h.rmtree, tmp)
        sim = h.Sim(5, tmp=tmp)
        self.addCleanup(sim.close)
        with open(sim.stations) as f:
            st = json.load(f)
        for s in st["stations"][3:]:
            s["frequency_min_hz"], s["frequency_max_hz"] = 144e6, 146e6
        with open(sim.stations, "w") as f:
            json.dump(st, f)
        d = os.path.join(tmp, "data")
        p = subprocess.run([h.REC, "sources", "add", "--data-dir", d,
                            "--name", "Beacon 2m", "--freq", "145.5"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        art = os.path.join(SRC, "tests", "artifacts")
        os.makedirs(art, exist_ok=True)
        with Server(sim, d) as srv:
            r = node("page_follow.js", srv.http + "/", "10", "drive", art,
                     "Beacon 2m", timeout=180)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            res = json.loads(r.stdout)
            self.assertClean(srv)
        self.assertEqual(res["status"], "Session complete: 30 of 30 chunks "
                         "stored")
        self.assertEqual(res["excluded"], "Left out: Sim 4 (10 MHz is "
                         "outside its range 144-146 MHz), Sim 5 (10 MHz is "
                         "outside its range 144-146 MHz)")
        self.assertIn('source "Beacon 2m" is known at 145.5 MHz, outside '
                      "the session's 10 MHz", res["warning"])
        m, _ = h.manifest(d, res["session_id"])
        self.assertEqual(m["session"]["status"], "completed")

    def test_page_queued(self):
        """The built-in page behind another client's acquisition shows its
        queue position, then acquires and completes."""
        self.assertTrue(os.path.exists("/usr/bin/chromium"),
                        "chromium missing: run scripts/install-deps")
        with Server(self.sim, self.data("page-queue")) as srv:
            r = node("page_queue.js", srv.http + "/", "10", timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            self.assertClean(srv)

    def test_page_reconnects(self):
        """The page survives a server restart: it shows the loss and
        reconnects (backoff) to the new server on the same port."""
        env = dict(os.environ, NODE_PATH=os.path.join(WEB, "node_modules"))
        srv = Server(self.sim, self.data("reconnect"))
        port = srv.http.rsplit(":", 1)[1]
        node_p = subprocess.Popen([NODE, os.path.join(WEB, "page_reconnect.js"), srv.http + "/"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        srv2 = None
        try:
            self.assertEqual(node_p.stdout.readline().strip(), "READY")
            self.assertClean(srv)
            self.assertEqual(node_p.stdout.readline().strip(), "DOWN")
            srv2 = Server(self.sim, self.data("reconnect"), listen="127.0.0.1:" + port)
            out, err = node_p.communicate(timeout=90)
            self.assertEqual(node_p.returncode, 0, err + out)
            res = json.loads(out.strip().splitlines()[-1])
            self.assertTrue(res["ok"])
            self.assertLess(res["reconnected_after_ms"], 35000)
            self.assertClean(srv2)
        finally:
            if node_p.poll() is None:
                node_p.kill()
                node_p.wait()
            if srv2 is not None and srv2.proc.poll() is None:
                srv2.stop()

    def test_max_clients(self):
        """--max-clients 2: a third client is refused while two are
        connected, and accepted once one leaves."""
        script = r'''
const WebSocket = require("ws");
const url = process.argv[1];
const open = () => new Promise((res) => { const w = new WebSocket(url);
  w.on("open", () => res(w)); w.on("error", () => res(null)); });
(async () => {
  const a = await open(), b = await open(), c = await open();
  const r = { a: !!a, b: !!b, third_while_full: !!c };
  await new Promise((ok) => { a.on("close", ok); a.close(); });
  await new Promise((ok) => setTimeout(ok, 300));
  const d = await open();
  r.after_one_left = !!d;
  console.log(JSON.stringify(r));
  b.close(); if (d) d.close();
})();'''
        env = dict(os.environ, NODE_PATH=os.path.join(WEB, "node_modules"))
        with Server(self.sim, self.data("maxc"), "--max-clients", "2") as srv:
            r = subprocess.run([NODE, "-e", script, srv.ws], capture_output=True,
                               text=True, timeout=60, env=env)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(json.loads(r.stdout), {"a": True, "b": True,
                             "third_while_full": False, "after_one_left": True})
            self.assertClean(srv)

    def test_memory_checked(self):
        """A full session and 100 connect/disconnect cycles with the
        server under a memory checker: valgrind for the plain build; the
        ASan build checks itself (leaks fail its exit status)."""
        asan = b"libasan" in subprocess.run(["ldd", h.REC], capture_output=True).stdout
        d = self.data("memcheck")
        vlog = os.path.join(self.tmp, "valgrind.log")
        wrap = [] if asan else [
            "valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
            "--error-exitcode=9", "--log-file=" + vlog]
        self.assertTrue(asan or os.path.exists("/usr/bin/valgrind"),
                        "valgrind missing: run scripts/install-deps")
        proc = subprocess.Popen(wrap + [h.REC, "serve", "--listen", "127.0.0.1:0",
                                "--stations", self.sim.stations, "--data-dir", d,
                                "--start-timeout", "20"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            self.assertTrue(line.startswith("listening on"), line)
            ws = line.split()[2].replace("http", "ws", 1).rstrip("/") + "/ws"
            r = node("flow.js", ws, 7, 3, 10, timeout=240)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            script = r'''
const WebSocket = require("ws");
(async () => { for (let i = 0; i < 100; i++) await new Promise((ok) => {
  const w = new WebSocket(process.argv[1]);
  w.on("open", () => { if (i % 2) w.terminate(); else w.close(); });
  w.on("close", ok); w.on("error", ok); }); console.log("ok"); })();'''
            env = dict(os.environ, NODE_PATH=os.path.join(WEB, "node_modules"))
            c = subprocess.run([NODE, "-e", script, ws], capture_output=True, text=True,
                               timeout=120, env=env)
            self.assertEqual(c.stdout.strip(), "ok", c.stderr)
        finally:
            proc.send_signal(signal.SIGTERM)
            rc = proc.wait(120)
            err = proc.stderr.read()
            proc.stdout.close()
            proc.stderr.close()
        report = err if asan else open(vlog).read()
        self.assertEqual(rc, 0, report[-4000:])
        if not asan:
            self.assertIn("ERROR SUMMARY: 0 errors", report)

    def test_failed_session(self):
        """Every station dead: the final status_update says failed, with
        the reason, to every client; the server keeps serving."""
        class Dead:
            stations = os.path.join(self.tmp, "dead.json")
        with open(Dead.stations, "w") as f:
            json.dump({"stations": [{"name": "Dead %d" % k, "type": "kiwisdr",
                       "url": "http://127.0.0.1:1", "latitude": 45,
                       "longitude": 7} for k in (1, 2)]}, f)
        env = lambda e, x: json.dumps({"event": e, "data": x})
        with Server(Dead, self.data("dead"), "--start-timeout", "1") as srv:
            r = probe(srv.ws, "--send", env("session:start", {
                "session_name": "dead", "frequency_mhz": 10,
                "duration_seconds": 2}), "--until", "session:started")
            started = [m for m in r["messages"] if m["event"] == "session:started"][0]["data"]
            sid, tok = started["session_id"], started["session_token"]
            probe(srv.ws, "--send", env("session:assign_source", {
                "session_id": sid, "source_id": "unknown", "session_token": tok}),
                "--until", "session:source_assigned")
            r = probe(srv.ws, "--send", env("session:complete", {
                "session_id": sid, "frequency_hz": 10000000,
                "duration_seconds": 2, "session_token": tok}), "--until-final",
                "--timeout", "20", timeout=20)
            ups = [m["data"] for m in r["messages"] if m["event"] == "session:status_update"
                   and m["data"]["status"] in ("completed", "failed")]
            self.assertEqual(len(ups), 1, r["messages"])
            self.assertEqual(ups[0]["status"], "failed")
            self.assertTrue(ups[0]["error"])
            # The original page counts progress to N: a session:error with
            # a stable code and the reason comes before the last progress
            # event, and the final status_update stays the last event.
            evs = [m["event"] for m in r["messages"]]
            errs = [i for i, m in enumerate(r["messages"]) if m["event"] == "session:error"
                    and m["data"].get("code") == "acquisition_failed"]
            self.assertEqual(len(errs), 1, r["messages"])
            err = r["messages"][errs[0]]["data"]
            self.assertEqual(err["session_id"], sid)
            self.assertIn("no receiver delivered", err["error"])
            prog = [i for i, e in enumerate(evs) if e == "session:progress"]
            self.assertEqual(len(prog), 2)
            self.assertEqual(r["messages"][prog[-1]]["data"]["measurements_count"], 0)
            self.assertLess(errs[0], prog[-1])
            self.assertEqual(evs[-1], "session:status_update")
            self.assertEqual(ups[0]["summary"]["chunks_stored"], 0)
            self.assertEqual(ups[0]["summary"]["chunks_missing"], 4)
            j = json.loads(get(srv.http + "/health")[2])
            self.assertEqual(j["sessions_in_progress"], 0)
            for _ in range(50):
                if j["receivers_reachable"] is not None:
                    break
                time.sleep(0.1)
                j = json.loads(get(srv.http + "/health")[2])
            self.assertEqual(j["receivers_reachable"], 0)
            r = probe(srv.ws, "--send", env("ping", {}), "--until", "pong")
            self.assertEqual(r["messages"][-1]["event"], "pong")
            self.assertClean(srv)

    def test_queue(self):
        """A second session:complete while one acquires is queued (position
        1, then 2), each starts when the one before ends, a queued one can
        be cancelled and never acquires, a full queue answers busy."""
        d = self.data("queue")
        with Server(self.sim, d) as srv:
            r = node("queue.js", srv.ws, 10, 3, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            res = json.loads(r.stdout)
            m, sdir = h.manifest(d, res["b"])
            self.assertEqual(m["session"]["status"], "completed")
            self.assertEqual(len(m["measurements"]), 21)
            m, sdir = h.manifest(d, res["c"])
            self.assertEqual(m["session"]["status"], "failed")
            self.assertEqual(m["session"]["failure_reason"], "cancelled: not needed")
            self.assertEqual([f for f in os.listdir(sdir) if f.endswith(".npy")], [])
            j = json.loads(get(srv.http + "/health")[2])
            self.assertEqual(j["sessions_in_progress"], 0)
            self.assertClean(srv)

    def test_abandoned_sessions(self):
        """200 sessions left behind by clients that went away (some after a
        refused session:complete) do not lock the server out: the oldest
        idle ones end "abandoned" to make room, and a normal session
        completes. With --idle-timeout 1 a forgotten session ends by
        itself."""
        d = self.data("abandoned")
        with Server(self.sim, d) as srv:
            t0 = time.monotonic()
            r = node("abandon.js", srv.ws, 10, 200, timeout=180)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            res = json.loads(r.stdout)
            self.assertGreaterEqual(res["abandoned"], 200 + 1 - 64)
            m, _ = h.manifest(d, res["session_id"])
            self.assertEqual(m["session"]["status"], "completed")
            m, _ = h.manifest(d, res["first"])
            self.assertEqual(m["session"]["status"], "failed")
            self.assertTrue(m["session"]["failure_reason"].startswith("abandoned"),
                            m["session"]["failure_reason"])
            # the newest are still open (the default limit is 600 s)
            m, _ = h.manifest(d, res["last"])
            self.assertIn(m["session"]["status"], ("recording", "source_assigned"))
            print("200 abandoned + 1 session: %.1f s" % (time.monotonic() - t0),
                  file=sys.stderr)
            self.assertClean(srv)
        env = lambda e, x: json.dumps({"event": e, "data": x})
        with Server(self.sim, self.data("idle"), "--idle-timeout", "1") as srv:
            r = probe(srv.ws, "--send", env("session:start", {
                "session_name": "forgotten", "frequency_mhz": 10,
                "duration_seconds": 2}), "--until-final", "--timeout", "10", timeout=15)
            sid = [m for m in r["messages"] if m["event"] == "session:started"][0]["data"]["session_id"]
            fin = r["messages"][-1]
            self.assertEqual(fin["event"], "session:status_update")
            self.assertEqual((fin["data"]["session_id"], fin["data"]["status"]), (sid, "failed"))
            self.assertEqual(fin["data"]["error"], "abandoned: no request for 1 s before acquisition")

    def test_session_owner(self):
        """Two clients: the second one's cancel is forbidden and the
        acquisition goes on; with the session_token it may cancel."""
        d = self.data("owner")
        with Server(self.sim, d) as srv:
            r = node("owner.js", srv.ws, 10, 6, timeout=90)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            res = json.loads(r.stdout)
            self.assertEqual(res["refused_fields"], ["session_id", "session_token"])
            self.assertGreaterEqual(res["chunk_after_refusal"], 2)
            m, _ = h.manifest(d, res["session_id"])
            self.assertEqual(m["session"]["status"], "failed")
            self.assertIn("cancelled by B", m["session"]["failure_reason"])
            # the secret never reaches the dataset
            with open(os.path.join(d, "sessions", res["session_id"], "manifest.json")) as f:
                self.assertNotIn("session_token", f.read())
            self.assertClean(srv)

    def test_sessions_list_under_load(self):
        """300 stored sessions; one client asks sessions:list 100 times a
        second for 5 s while another client's pings are each answered
        within 50 ms (99 %); the list is paged (limit, before, more)."""
        d = self.data("listload")
        ids = fake_sessions(d, 300)
        with Server(self.sim, d) as srv:
            r = node("listload.js", srv.ws, 100, 5, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            res = json.loads(r.stdout)
            print("\nsessions:list x100/s, 300 stored: %s" % r.stdout.strip(), file=sys.stderr)
            self.assertEqual(res["total"], 300)
            self.assertEqual(res["rows"], 100)
            self.assertEqual(res["list_errors"], 0)
            # every request answered; the rate is the client's timer's
            # (a loaded machine fires it less often than 100/s: 70/s seen)
            self.assertEqual(res["unanswered"], 0, res)
            self.assertEqual(res["lists"] + res["list_busy"], res["sent"], res)
            self.assertGreaterEqual(res["lists"], 250, res)
            self.assertGreaterEqual(res["pings"], 100)
            self.assertEqual(res["ping_unanswered"], 0)
            # 99 % within 50 ms; the single worst is bounded looser, since
            # on a loaded 2-core machine the test client itself can be
            # descheduled for 100+ ms (155 ms seen at load 10 in CI)
            self.assertLess(res["ping_ms"]["p99"], 50, res)
            self.assertLess(res["ping_ms"]["max"], 300, res)
            # paging: the cursor walks all 300 once, newest first
            env = lambda e, x: json.dumps({"event": e, "data": x})
            seen, before = [], None
            while True:
                q = {"limit": 200}
                if before:
                    q["before"] = before
                m = probe(srv.ws, "--send", env("sessions:list", q), "--until",
                          "sessions:list")["messages"][-1]["data"]
                seen += [x["id"] for x in m["sessions"]]
                if not m["more"]:
                    break
                before = seen[-1]
            self.assertEqual(seen, ids)
            m = probe(srv.ws, "--send", env("sessions:list", {"limit": 201}),
                      "--until", "error")["messages"][-1]["data"]
            self.assertEqual((m["code"], m["field"]), ("out_of_range", "limit"))
            self.assertClean(srv)

    def test_heartbeat(self):
        with Server(self.sim, self.data("hb"), "--heartbeat", "0.3") as srv:
            r = probe(srv.ws, "--until", "heartbeat", timeout=5)
            self.assertEqual([m["event"] for m in r["messages"]], ["heartbeat"])
            self.assertIn("uptime_seconds", r["messages"][0]["data"])
            self.assertClean(srv)

    def test_token(self):
        tok = os.path.join(self.tmp, "token")
        with open(tok, "w") as f:
            f.write("s3cret-token-0123456789\n")
        with Server(self.sim, self.data("tok"), "--token-file", tok) as srv:
            self.assertEqual(get(srv.http + "/health")[0], 401)
            self.assertEqual(get(srv.http + "/health", {"Authorization": "Bearer nope-nope-nope-nope"})[0], 401)
            self.assertEqual(get(srv.http + "/health", {"Authorization": "Bearer s3cret-token-0123456789"})[0], 200)
            self.assertEqual(get(srv.http + "/health?token=s3cret-token-0123456789")[0], 200)
            self.assertEqual(get(srv.http + "/health?token=s3cret-token-012345678")[0], 401)
            self.assertEqual(get(srv.http + "/")[0], 200)   # the page holds no secret
            ping = json.dumps({"event": "ping"})
            r = probe(srv.ws, "--send", ping, "--until", "pong")
            self.assertFalse(r["open"])
            self.assertIn("Unexpected server response: 401", r["error"])
            r = probe(srv.ws + "?token=wrong-wrong-wrong-wrong", "--send", ping, "--until", "pong")
            self.assertFalse(r["open"])
            self.assertIn("Unexpected server response: 401", r["error"])
            r = probe(srv.ws + "?token=s3cret-token-0123456789", "--send", ping, "--until", "pong")
            self.assertTrue(r["open"])
            self.assertEqual(r["messages"][0]["event"], "pong")
            r = probe(srv.ws, "--header", "Authorization: Bearer s3cret-token-0123456789",
                      "--send", ping, "--until", "pong")
            self.assertEqual(r["messages"][0]["event"], "pong")
            self.assertClean(srv)

    def test_origin_allow_list(self):
        with Server(self.sim, self.data("origin"), "--allow-origin", "http://good.example:8080") as srv:
            ping = json.dumps({"event": "ping"})
            r = probe(srv.ws, "--origin", "http://evil.example", "--send", ping, "--until", "pong")
            self.assertFalse(r["open"])
            self.assertIn("Unexpected server response: 403", r["error"])
            r = probe(srv.ws, "--origin", "http://good.example:8080", "--send", ping, "--until", "pong")
            self.assertEqual(r["messages"][0]["event"], "pong")
            # the server's own origin stays allowed next to the list
            r = probe(srv.ws, "--origin", srv.http, "--send", ping, "--until", "pong")
            self.assertEqual(r["messages"][0]["event"], "pong")
            self.assertClean(srv)

    def test_origin_default(self):
        """Without --allow-origin only the server's own pages (and clients
        that send no Origin) may open /ws: a foreign Origin gets 403."""
        with Server(self.sim, self.data("origin-default")) as srv:
            ping = json.dumps({"event": "ping"})
            port = srv.http.rsplit(":", 1)[1]
            for o in ("http://evil.example", "http://127.0.0.1:5173", "http://localhost:5173",
                      "https://127.0.0.1:" + port, "null", "http://127.0.0.1:" + port + ".evil.example"):
                r = probe(srv.ws, "--origin", o, "--send", ping, "--until", "pong")
                self.assertFalse(r["open"], o)
                self.assertIn("Unexpected server response: 403", r["error"], o)
                self.assertEqual(r["messages"], [], o)
            for o in (srv.http, "http://localhost:" + port, None):
                r = probe(srv.ws, *(["--origin", o] if o else []), "--send", ping, "--until", "pong")
                self.assertTrue(r["open"], o)
                self.assertEqual(r["messages"][0]["event"], "pong", o)
            # DNS rebinding: Host and Origin agree on a name that is not ours
            s, status, _ = ws_handshake(int(port), extra=b"Origin: http://evil.example:%s\r\n" % port.encode())
            s.close()
            self.assertIn(" 403 ", status)
            self.assertClean(srv)

    def test_foreign_page_in_chromium(self):
        """Cross-site WebSocket hijacking in chromium: the built-in page
        connects; a page from another local port cannot open /ws and gets
        nothing -- until --allow-origin names it."""
        self.assertTrue(os.path.exists("/usr/bin/chromium"),
                        "chromium missing: run scripts/install-deps")
        fport = free_port()
        with Server(self.sim, self.data("xsite")) as srv:
            r = node("origin.js", srv.http + "/", srv.ws, fport, "refused", timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            res = json.loads(r.stdout)
            self.assertEqual(res["own_page"], "connected")
            self.assertEqual(res["foreign"]["messages"], [])
            # the hijacking page started no session
            j = json.loads(get(srv.http + "/health")[2])
            self.assertEqual(j["sessions_in_progress"], 0)
            self.assertClean(srv)
        with Server(self.sim, self.data("xsite2"), "--allow-origin",
                    "http://127.0.0.1:%d" % fport) as srv:
            r = node("origin.js", srv.http + "/", srv.ws, fport, "allowed", timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            self.assertClean(srv)

    def test_listen_binds_only_what_was_asked(self):
        """In a network namespace made here (lo with 127.0.0.1, ::1 and
        10.77.0.1): the listening socket's local address is exactly the one
        asked, the port printed is the one bound, and the namespace's other
        addresses are refused; off loopback a token is required, decided on
        the address a name resolves to."""
        ns = "hr-listen-%d" % os.getpid()
        etc = "/etc/netns/" + ns
        tok = os.path.join(self.tmp, "ns-token")
        with open(tok, "w") as f:
            f.write("ns-token-0123456789abcdef\n")
        d = self.data("netns")
        subprocess.run(["ip", "netns", "add", ns], check=True, timeout=30)
        try:
            subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True, timeout=30)
            subprocess.run(["ip", "-n", ns, "addr", "add", "10.77.0.1/32", "dev", "lo"],
                           check=True, timeout=30)
            # `ip netns exec` mounts /etc/netns/NS/hosts over /etc/hosts
            os.makedirs(etc, exist_ok=True)
            with open(os.path.join(etc, "hosts"), "w") as f:
                f.write("127.0.0.1 localhost\n10.77.0.1 recorder.test\n")
            wrap = ["ip", "netns", "exec", ns]

            def conn(addr, port):
                return subprocess.run(wrap + [sys.executable, "-c", CONNECT, addr, str(port)],
                                      capture_output=True, text=True, timeout=30).stdout.strip()

            def serve(*a):
                return subprocess.run(wrap + [h.REC, "serve", "--stations", self.sim.stations,
                                              "--data-dir", d] + list(a),
                                      capture_output=True, text=True, timeout=30)

            for listen, want, extra, others in (
                    ("127.0.0.1:0", "127.0.0.1", [], ["10.77.0.1", "::1"]),
                    ("[::1]:0", "::1", [], ["127.0.0.1", "10.77.0.1"]),
                    ("localhost:0", "127.0.0.1", [], ["10.77.0.1", "::1"]),
                    ("recorder.test:0", "10.77.0.1", ["--token-file", tok], ["127.0.0.1", "::1"])):
                with Server(self.sim, d, *extra, listen=listen, wrap=wrap) as srv:
                    socks = listening(srv.proc.pid)
                    self.assertEqual(len(socks), 1, socks)
                    port = socks[0][1]
                    self.assertNotEqual(port, 0)
                    self.assertEqual(socks, [(want, port)], listen)
                    shown = "[%s]" % want if ":" in want else want
                    self.assertTrue(srv.line.startswith("listening on http://%s:%d/ " % (shown, port)),
                                    srv.line)
                    self.assertEqual(conn(want, port), "open", listen)
                    for o in others:
                        self.assertEqual(conn(o, port), "refused", "%s via %s" % (listen, o))
                    self.assertClean(srv)
            # off loopback without a token: refused, spelled as a name too
            for listen in ("10.77.0.1:0", "recorder.test:0", "0.0.0.0:0", "[::]:0"):
                r = serve("--listen", listen)
                self.assertEqual(r.returncode, 64, listen + r.stderr)
                self.assertIn("without a token", r.stderr)
            r = serve("--listen", "recorder.test:0")
            self.assertIn("10.77.0.1", r.stderr)
        finally:
            subprocess.run(["ip", "netns", "del", ns], timeout=30)
            shutil.rmtree(etc, ignore_errors=True)

    def test_unmasked_frame(self):
        """RFC 6455 5.1: a masked frame is served; an unmasked one closes
        the connection with 1002."""
        with Server(self.sim, self.data("unmasked")) as srv:
            port = int(srv.http.rsplit(":", 1)[1])
            s, status, rest = ws_handshake(port)
            self.assertIn(" 101 ", status)
            ping = b'{"event":"ping"}'
            s.sendall(ws_masked(1, ping))
            time.sleep(0.3)
            s.sendall(bytes([0x81, len(ping)]) + ping)
            frames = ws_frames(s, rest)
            s.close()
            self.assertEqual(json.loads(frames[0][1])["event"], "pong")
            self.assertEqual(frames[-1][0], 8, frames)
            self.assertEqual(struct.unpack(">H", frames[-1][1][:2])[0], 1002)
            self.assertEqual(len(frames), 2, frames)       # no pong for it
            # an unmasked control frame too
            s, status, rest = ws_handshake(port)
            s.sendall(b"\x89\x00")
            frames = ws_frames(s, rest)
            s.close()
            self.assertEqual(frames[-1][0], 8, frames)
            self.assertEqual(struct.unpack(">H", frames[-1][1][:2])[0], 1002)
            r = probe(srv.ws, "--send", json.dumps({"event": "ping"}), "--until", "pong")
            self.assertEqual(r["messages"][0]["event"], "pong")
            self.assertClean(srv)

    def test_idle_and_half_sent(self):
        """--conn-timeout 1: a connection that sends no request, half a
        request, or half a frame is closed; a client that is only
        listening stays (it answers the server's pings)."""
        with Server(self.sim, self.data("idle"), "--conn-timeout", "1") as srv:
            port = int(srv.http.rsplit(":", 1)[1])
            socks = []
            for first in (b"", b"GET /health HTTP/1.1\r\nHo"):
                c = socket.create_connection(("127.0.0.1", port), timeout=10)
                c.sendall(first)
                socks.append(c)
            s, status, rest = ws_handshake(port)
            self.assertIn(" 101 ", status)
            s.sendall(b"\x81\x85ab")        # half a frame header
            s2, status, rest2 = ws_handshake(port)
            s2.sendall(ws_masked(1, b'{"event":"ping"}')[:9])  # half a message
            listener = subprocess.Popen([NODE, os.path.join(WEB, "probe.js"), srv.ws,
                                         "--timeout", "5"], stdout=subprocess.PIPE, text=True,
                                        env=dict(os.environ, NODE_PATH=os.path.join(WEB, "node_modules")))
            t0 = time.time()
            for c in socks:
                c.settimeout(10)
                self.assertEqual(c.recv(100), b"")
            self.assertLess(time.time() - t0, 4)
            ws_frames(s, rest, timeout=10)
            ws_frames(s2, rest2, timeout=10)
            self.assertLess(time.time() - t0, 5)
            for c in socks + [s, s2]:
                c.close()
            out, _ = listener.communicate(timeout=30)
            res = json.loads(out)
            self.assertTrue(res["open"])
            self.assertIsNone(res["close"], res)       # not closed by the server
            self.assertClean(srv)

    def test_sigterm_closes_1001_with_final_status(self):
        """SIGTERM during an acquisition: every open session ends (failed,
        chunks kept), its final status_update reaches the clients, and they
        are closed with 1001, not dropped."""
        env = lambda e, x: json.dumps({"event": e, "data": x})
        d = self.data("sigterm")
        srv = Server(self.sim, d)
        try:
            r = probe(srv.ws, "--send", env("session:start", {
                "session_name": "acq", "frequency_mhz": 10, "duration_seconds": 20}),
                "--until", "session:started")
            started = [m for m in r["messages"] if m["event"] == "session:started"][0]["data"]
            sid, tok = started["session_id"], started["session_token"]
            probe(srv.ws, "--send", env("session:assign_source", {
                "session_id": sid, "source_id": "unknown", "session_token": tok}),
                "--until", "session:source_assigned")
            r = probe(srv.ws, "--send", env("session:start", {
                "session_name": "idle", "frequency_mhz": 10, "duration_seconds": 5}),
                "--until", "session:started")
            sid2 = [m for m in r["messages"] if m["event"] == "session:started"][0]["data"]["session_id"]
            probe(srv.ws, "--send", env("session:complete", {
                "session_id": sid, "frequency_hz": 10000000, "duration_seconds": 20,
                "session_token": tok}), "--until", "session:completed")
            watch = subprocess.Popen([NODE, os.path.join(WEB, "probe.js"), srv.ws, "--timeout", "40"],
                                     stdout=subprocess.PIPE, text=True,
                                     env=dict(os.environ, NODE_PATH=os.path.join(WEB, "node_modules")))
            time.sleep(2.5)
            rc, err = srv.stop()
            out, _ = watch.communicate(timeout=60)
        finally:
            if srv.proc.poll() is None:
                srv.stop()
        self.assertEqual(rc, 0, err[-3000:])
        res = json.loads(out)
        self.assertEqual(res["close"], 1001, res)
        finals = {m["data"]["session_id"]: m["data"] for m in res["messages"]
                  if m["event"] == "session:status_update"
                  and m["data"]["status"] in ("completed", "failed")}
        self.assertEqual(set(finals), {sid, sid2}, res["messages"][-5:])
        for k in (sid, sid2):
            self.assertEqual(finals[k]["status"], "failed")
            self.assertIn("shutting down", finals[k]["error"])
        self.assertGreaterEqual(finals[sid]["summary"]["chunks_stored"], 7)
        m, _ = h.manifest(d, sid)
        self.assertEqual(m["session"]["status"], "failed")

    def test_flood_up_to_the_descriptor_limit(self):
        """With the open-file limit lowered to 200 for the server, the
        client limit is clamped below it (said on stderr); during a 5 s
        session, WebSocket clients fill the server until it answers 503,
        idle raw connections pile on: every chunk is stored, the driving
        client keeps its pongs, and the server keeps answering."""
        lim = 200

        def lower():
            resource.setrlimit(resource.RLIMIT_NOFILE, (lim, lim))
        d = self.data("flood")
        with Server(self.sim, d, "--conn-timeout", "2", preexec=lower) as srv:
            port = int(srv.http.rsplit(":", 1)[1])
            r = node("flood.js", srv.ws, "127.0.0.1", port, 5, 10, 30, timeout=120)
            self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
            res = json.loads(r.stdout)
            self.assertEqual(res["refused"], {"status": 503}, res)
            self.assertEqual(res["again"], {"status": 503}, res)
            self.assertEqual(res["final_status"], "completed", res)
            self.assertEqual(res["summary"]["chunks_missing"], 0, res)
            self.assertEqual(res["progress"], [1, 2, 3, 4, 5])
            self.assertLess(res["pong_ms"], 1000)
            self.assertEqual(res["raw_closed"], 30)
            self.assertLess(res["raw_close_ms"], 6000)    # idle timeout 2 s
            # the descriptors left after the clients took only part of them
            self.assertGreater(res["raw_refused"], 0)
            self.assertLess(res["raw_refused"], 30)
            m, sdir = h.manifest(d, res["session_id"])
            self.assertEqual(len(m["measurements"]), 35)
            self.assertEqual(len([f for f in os.listdir(sdir) if f.endswith(".npy")]), 35)
            st, _, body = get(srv.http + "/health")
            self.assertEqual(st, 200)
            r = probe(srv.ws, "--send", json.dumps({"event": "ping"}), "--until", "pong")
            self.assertEqual(r["messages"][0]["event"], "pong")
            rc, err = srv.stop()
            self.assertEqual(rc, 0, err[-3000:])
            lowered = re.search(r"--max-clients 1024 lowered to (\d+): the open-file limit is 200", err)
            self.assertTrue(lowered, err[-2000:])
            self.assertEqual(res["accepted"], int(lowered.group(1)))
            self.assertLess(int(lowered.group(1)), lim)
            self.assertNotIn("Too many open files", err)
        # the reserve is the very estimate `record` refuses to start
        # under (exit 71): one function, engine_fds_needed
        reserved = int(re.search(r"(\d+) stay reserved", err).group(1))
        r = subprocess.run([h.REC, "record", "--stations", self.sim.stations,
                            "--data-dir", self.data("flood-71"), "--name", "n",
                            "--freq", "10", "--duration", "1", "--source",
                            "unknown"], capture_output=True, text=True,
                           timeout=30, preexec_fn=lambda: resource.setrlimit(
                               resource.RLIMIT_NOFILE, (20, 20)))
        self.assertEqual(r.returncode, 71, r.stderr)
        self.assertIn("7 stations need about %d open files" % reserved,
                      r.stderr)

    def test_out_of_descriptors(self):
        """Descriptors eaten outside the server's budget (simulated by
        lowering the running server's open-file limit to one above what it
        holds): the first connection takes the last descriptor; accept()
        then fails with EMFILE for the 49 others, which get an HTTP 503 at
        once (a descriptor held back for that) instead of hanging; the
        error is logged once, and the loop does not spin on it."""
        with Server(self.sim, self.data("emfile")) as srv:
            port = int(srv.http.rsplit(":", 1)[1])
            # The count must not include descriptors about to close: the
            # first reachability probe (at start, a connect to each of the
            # 7 stations at once: CI once counted 6 of its sockets, so 7
            # connections were accepted when they closed), or the /health
            # request's own. Its end is on /health; the next is 30 s away.
            end = time.time() + 15
            while json.loads(get(srv.http + "/health")[2]).get(
                    "receivers_checked_at") is None:
                self.assertLess(time.time(), end, "no probe ended")
                time.sleep(0.1)
            used = 1 << 30
            for _ in range(10):
                used = min(used, len(os.listdir("/proc/%d/fd" % srv.proc.pid)))
                time.sleep(0.02)
            soft, hard = resource.prlimit(srv.proc.pid, resource.RLIMIT_NOFILE)
            resource.prlimit(srv.proc.pid, resource.RLIMIT_NOFILE, (used + 1, hard))
            socks = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(50)]

            def cpu():
                with open("/proc/%d/stat" % srv.proc.pid) as f:
                    st = f.read().rsplit(")", 1)[1].split()
                return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")
            c0 = cpu()
            time.sleep(2)
            spent = cpu() - c0
            answers = []
            for c in socks:
                c.settimeout(3)
                try:
                    answers.append(c.recv(64))
                except socket.timeout:
                    # accepted (it holds a descriptor): it is served
                    c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                    answers.append(b"accepted " + c.recv(64))
                c.close()
            refused = [a for a in answers if a.startswith(b"HTTP/1.1 503 ")]
            served = [a for a in answers if a.startswith(b"accepted HTTP/1.1 200 ")]
            # one descriptor was free (two if the prober's socket closed
            # meanwhile): nobody hangs, the rest are refused at once
            self.assertEqual(len(refused) + len(served), 50, answers)
            self.assertGreaterEqual(len(refused), 45, answers)
            self.assertLess(spent, 0.5)           # no busy loop
            resource.prlimit(srv.proc.pid, resource.RLIMIT_NOFILE, (soft, hard))
            self.assertEqual(get(srv.http + "/health")[0], 200)
            rc, err = srv.stop()
            self.assertEqual(rc, 0, err[-2000:])
            self.assertEqual(err.count("accept: Too many open files"), 1, err[-2000:])

    def test_tls(self):
        cert, key = os.path.join(self.tmp, "c.pem"), os.path.join(self.tmp, "k.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
        with Server(self.sim, self.data("tls"), "--tls-cert", cert, "--tls-key", key) as srv:
            self.assertTrue(srv.http.startswith("https://"), srv.line)
            r = probe(srv.ws, "--insecure", "--send", json.dumps({"event": "ping"}), "--until", "pong")
            self.assertEqual(r["messages"][0]["event"], "pong")
            import ssl
            ctx = ssl.create_default_context(cafile=cert)
            ctx.check_hostname = False
            self.assertEqual(get(srv.http + "/health", ctx=ctx)[0], 200)
            self.assertClean(srv)

    def test_ipv6_loopback(self):
        with Server(self.sim, self.data("v6"), listen="[::1]:0") as srv:
            self.assertIn("[::1]", srv.http)
            self.assertEqual(get(srv.http + "/health")[0], 200)
            self.assertClean(srv)

    def test_cli_errors(self):
        def serve(*a):
            return subprocess.run([h.REC, "serve", "--stations", self.sim.stations,
                                   "--data-dir", self.data("cli")] + list(a),
                                  capture_output=True, text=True, timeout=30)
        r = serve("--listen", "0.0.0.0:0")
        self.assertEqual(r.returncode, 64)
        self.assertIn("without a token", r.stderr)
        r = serve("--listen", "192.0.2.1:0")
        self.assertEqual(r.returncode, 64)
        for bad in ("nope", "127.0.0.1", "127.0.0.1:70000", "127.0.0.1:-1", ":80", "[::1:80"):
            r = serve("--listen", bad)
            self.assertEqual(r.returncode, 64, bad)
            self.assertIn("--listen", r.stderr)
        short = os.path.join(self.tmp, "short-token")
        with open(short, "w") as f:
            f.write("short\n")
        r = serve("--token-file", short)
        self.assertEqual(r.returncode, 78)
        self.assertIn("--token-file", r.stderr)
        # a missing token file is a configuration error (78), not "no
        # stations file" (66)
        r = serve("--token-file", os.path.join(self.tmp, "missing"))
        self.assertEqual(r.returncode, 78)
        self.assertIn("--token-file", r.stderr)
        self.assertIn("No such file", r.stderr)
        r = serve("--tls-cert", "/nonexistent")
        self.assertEqual(r.returncode, 64)
        # bad TLS files and addresses: the actual cause
        cert, key = os.path.join(self.tmp, "c1.pem"), os.path.join(self.tmp, "k1.pem")
        key2 = os.path.join(self.tmp, "k2.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-out", key2],
                       check=True, capture_output=True, timeout=60)
        tok = os.path.join(self.tmp, "cli-token")
        with open(tok, "w") as f:
            f.write("cli-token-0123456789abcdef\n")
        for args, want, code in (
                (["--tls-cert", "/nonexistent.pem", "--tls-key", key],
                 "--tls-cert: cannot open /nonexistent.pem: No such file", 78),
                (["--tls-cert", cert, "--tls-key", "/nonexistent.pem"],
                 "--tls-key: cannot open /nonexistent.pem: No such file", 78),
                (["--tls-cert", tok, "--tls-key", key], "not a PEM certificate", 78),
                (["--tls-cert", cert, "--tls-key", cert], "not a PEM private key", 78),
                (["--tls-cert", cert, "--tls-key", key2], "does not match the certificate", 78),
                (["--listen", "[::2]:0", "--token-file", tok], "the address is not on this host", 69)):
            r = serve(*args)
            self.assertEqual(r.returncode, code, r.stderr)
            self.assertIn(want, r.stderr)
            self.assertNotIn("address in use, not local, or bad TLS", r.stderr)
        r = serve("--allow-origin", "evil.example")
        self.assertEqual(r.returncode, 64)
        r = serve("--heartbeat", "0")
        self.assertEqual(r.returncode, 64)
        for bad in ("0", "86401", "soon"):
            r = serve("--idle-timeout", bad)
            self.assertEqual(r.returncode, 64, bad)
            self.assertIn("--idle-timeout", r.stderr)
        r = subprocess.run([h.REC, "serve", "--stations", "/nonexistent"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 66)
        r = subprocess.run([h.REC, "serve", "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0)
        self.assertIn("--listen", r.stdout)
        # the port is taken: a clear error, exit 69
        with Server(self.sim, self.data("busy")) as srv:
            port = srv.http.rsplit(":", 1)[1]
            r = serve("--listen", "127.0.0.1:" + port)
            self.assertEqual(r.returncode, 69, r.stderr)
            self.assertIn("cannot listen on 127.0.0.1:%s: the port is in use" % port, r.stderr)
            self.assertClean(srv)


if __name__ == "__main__":
    unittest.main(verbosity=2)
