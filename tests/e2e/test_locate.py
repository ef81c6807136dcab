"""test_locate.py -- live localization through the real binary: the
simulator's localization scenario (a transmitter and seven KiwiSDRs at the
positions of examples/heimdall-2m.json, a 10 kHz noise-like signal at 20 dB,
each station's stream delayed by its geodesic distance / c) recorded with a
known source at the transmitter's coordinates. The issue's targets: 1-s
fixes within 60 m of the transmitter (median), the session fix within 30 m,
the fixes out within 100 ms of their chunk's end (median); a station whose clock is
20 us off is the worst residual; fewer than 3 GPS receivers give "no fix"
with the reason, never a position; receivers without sample timestamps
(rtl_tcp, a KiwiSDR without GPS) are left out with the reason. The events
(`record --json`), the manifest's rows, `sessions` and `status` agree."""

import datetime, json, math, os, signal, statistics, subprocess, sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h

SRC = os.environ.get("HEIMDALL_SRC", os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "..", ".."))
POSITIONS = os.path.join(SRC, "examples", "heimdall-2m.json")
TX_LAT, TX_LON = 45.05, 8.20      # inside the network (Torino-Genova-Milano)


def iso(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()


class GeoSim(h.Sim):
    """The simulator with the localization scenario: --tx, --positions,
    the truth in geo.json."""

    def __init__(self, specs, count=7, tmp=None, tx=True):
        self.tmp = tmp or tempfile.mkdtemp(prefix="hr-loc-")
        self.stations = os.path.join(self.tmp, "stations.json")
        self.truth = os.path.join(self.tmp, "geo.json")
        args = [h.SIM, "--count", str(count), "--base-port", "0",
                "--stations-out", self.stations, "--positions", POSITIONS]
        if tx:
            args += ["--tx", "lat=%g,lon=%g,bw=10000" % (TX_LAT, TX_LON),
                     "--geo-out", self.truth]
        for s in specs:
            args += ["--station", s]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            self.close()
            raise RuntimeError("simulator did not start: %r" % line)


def add_source(data):
    p = subprocess.run([h.REC, "sources", "add", "--data-dir", data,
                        "--name", "TX", "--lat", str(TX_LAT), "--lon",
                        str(TX_LON), "--freq", "10"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr


class LocateTest(unittest.TestCase):
    def session(self, specs, duration, count=7, json_out=True, source="TX",
                freq="10", edit=None):
        tmp = tempfile.mkdtemp(prefix="hr-loc-")
        self.addCleanup(h.rmtree, tmp)
        data = os.path.join(tmp, "data")
        os.makedirs(data)
        add_source(data)
        with GeoSim(specs, count=count, tmp=tmp) as sim:
            if edit is not None:
                with open(sim.stations) as f:
                    st = json.load(f)
                edit(st)
                with open(sim.stations, "w") as f:
                    json.dump(st, f)
            rc, events, err = h.record(sim, data, duration, freq=freq,
                                       source=source, json_out=json_out)
        return rc, events, err, data

    @staticmethod
    def named(events, name):
        return [e for e in events if e["event"] == name]

    def test_targets(self):
        """Seven GPS KiwiSDRs, 10 s: fixes and the session fix within the
        issue's bounds, out within 100 ms of each chunk's end; the rows in
        the manifest; sessions and status show the session fix."""
        specs = ["i=%d,gps=1,signal=tx,txsnr=20" % k for k in range(1, 8)]
        rc, events, err, data = self.session(specs, 10)
        self.assertEqual(rc, 0, err)
        fixes = self.named(events, "session:fix")
        tdoas = self.named(events, "session:tdoa")
        chunk = [e for e in fixes if "chunk_index" in e["data"]]
        final = [e for e in fixes if e["data"].get("final")]
        self.assertEqual(sorted(e["data"]["chunk_index"] for e in chunk),
                         list(range(10)))
        self.assertEqual(len(final), 1)
        self.assertEqual(len(tdoas), 10)
        # the session fix comes before the session's last event
        last = max(i for i, e in enumerate(events)
                   if e["event"] == "session:status_update")
        self.assertLess(events.index(final[0]), last)
        errs = []
        for e in chunk:
            d = e["data"]
            self.assertTrue(d["ok"], d)
            err_m = h.geodesic_m(d["latitude"], d["longitude"], TX_LAT, TX_LON)
            self.assertLess(abs(err_m - d["error_m"]), 0.05, d)
            self.assertEqual(sorted(d["receivers"]), list(range(1, 8)), d)
            self.assertGreater(d["cep95_m"], d["cep50_m"])
            for k in ("semi_major_m", "semi_minor_m", "orientation_deg"):
                self.assertIn(k, d["ellipse"])
            self.assertEqual(len(d["residuals"]), 7, d)
            errs.append(err_m)
        med = statistics.median(errs)
        fd = final[0]["data"]
        ferr = h.geodesic_m(fd["latitude"], fd["longitude"], TX_LAT, TX_LON)
        print("1-s fixes: error median %.1f m (max %.1f); session fix "
              "%.1f m, CEP50 %.1f m; worst residual %s %.3f us"
              % (med, max(errs), ferr, fd["cep50_m"],
                 fd["worst"]["station"], fd["worst"]["residual_us"]),
              file=sys.stderr)
        self.assertLess(med, 60.0, errs)
        self.assertLess(ferr, 30.0, fd)
        # the session fix counts its chunk fixes apart from the pairs
        # those used (pairs_used means pairs in every session:fix)
        self.assertEqual(fd["chunks_used"] + fd["chunks_rejected"], 10, fd)
        self.assertEqual(fd["pairs_used"], sum(
            e["data"]["pairs_used"] for e in chunk) if fd["chunks_rejected"]
            == 0 else fd["pairs_used"], fd)
        self.assertGreaterEqual(fd["pairs_used"], 6 * fd["chunks_used"])
        for e in chunk:
            self.assertNotIn("chunks_used", e["data"])
        # no station is off: every residual is small
        self.assertLess(abs(fd["worst"]["residual_us"]), 1.0, fd)

        # out within 100 ms of the chunk's end (the grid: chunk k ends
        # one second after its first sample, on GPS time = host time here)
        m, _ = h.manifest(data)
        start = {}
        for r in m["measurements"]:
            start.setdefault(r["chunk_index"], []).append(iso(r["timestamp"]))
        late = []
        for e in chunk:
            k = e["data"]["chunk_index"]
            end = min(start[k]) + 1.0
            late.append(iso(e["timestamp"]) - end)
        print("fix after chunk end: median %.1f ms, max %.1f ms"
              % (1e3 * statistics.median(late), 1e3 * max(late)),
              file=sys.stderr)
        # The 100 ms is a speed target (bench/README.md): here the
        # median must meet it and no fix may lag a whole chunk behind; a
        # loaded machine or the ASan build puts single fixes past 100 ms
        # (111 and 129 ms seen for chunk 0, its FFT set-up).
        self.assertLess(statistics.median(late), 0.100, late)
        self.assertLess(max(late), 0.500, late)

        # session:tdoa: per-station detail, pairs with names
        for e in tdoas:
            d = e["data"]
            self.assertEqual(d["excluded"], [], d)
            self.assertGreaterEqual(len(d["pairs"]), 6)
            for p in d["pairs"]:
                for k in ("websdr_a", "station_a", "websdr_b", "station_b",
                          "tdoa_us", "sigma_us", "quality", "corr"):
                    self.assertIn(k, p)

        # stored: flat rows in the manifest
        self.assertEqual(len(m["tdoa"]), sum(len(e["data"]["pairs"])
                                             for e in tdoas))
        self.assertEqual(len(m["fixes"]), 11)
        fin = [r for r in m["fixes"] if r["final"]]
        self.assertEqual(len(fin), 1)
        self.assertIsNone(fin[0]["chunk_index"])
        self.assertAlmostEqual(fin[0]["latitude"], fd["latitude"], places=9)
        for r in m["tdoa"] + m["fixes"]:
            for v in r.values():
                self.assertNotIsInstance(v, dict, r)
        self.assertEqual(m["summary"]["fix"]["latitude"], fd["latitude"])
        self.assertEqual(fin[0]["pairs_used"], fd["pairs_used"])

        # sessions and status show it
        p = subprocess.run([h.REC, "sessions", "--data-dir", data, "--json"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        row = json.loads(p.stdout)[0]
        self.assertAlmostEqual(row["fix"]["latitude"], fd["latitude"],
                               places=9)
        self.assertAlmostEqual(row["fix"]["error_m"], fd["error_m"], places=6)
        p = subprocess.run([h.REC, "sessions", "--data-dir", data],
                           capture_output=True, text=True, timeout=30)
        self.assertIn("fix: %.5f N" % fd["latitude"], p.stdout)
        self.assertIn("m from the source", p.stdout)
        p = subprocess.run([h.REC, "status", "--data-dir", data],
                           capture_output=True, text=True, timeout=30)
        self.assertIn("latest session fix: ", p.stdout)
        self.assertIn("%.5f N" % fd["latitude"], p.stdout)
        p = subprocess.run([h.REC, "status", "--data-dir", data, "--json"],
                           capture_output=True, text=True, timeout=30)
        st = json.loads(p.stdout)
        self.assertAlmostEqual(st["latest_fix"]["fix"]["longitude"],
                               fd["longitude"], places=9)

    def test_killed_keeps_fixes(self):
        """A recorder killed (SIGKILL) mid-session: the TDoA and fix rows of
        the chunks it had located are on disk (rows/loc.jsonl, a line
        appended as each chunk is located), and the next run's recovery
        merges them into the manifest of the interrupted session."""
        specs = ["i=%d,gps=1,signal=tx,txsnr=20" % k for k in range(1, 8)]
        tmp = tempfile.mkdtemp(prefix="hr-loc-")
        self.addCleanup(h.rmtree, tmp)
        data = os.path.join(tmp, "data")
        os.makedirs(data)
        add_source(data)
        with GeoSim(specs, tmp=tmp) as sim:
            p = subprocess.Popen(
                [h.REC, "record", "--stations", sim.stations, "--data-dir",
                 data, "--name", "killed", "--freq", "10", "--duration",
                 "30", "--source", "TX", "--json"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            fixes = {}
            try:
                for line in p.stdout:
                    e = json.loads(line)
                    if e["event"] == "session:fix":
                        fixes[e["data"]["chunk_index"]] = e["data"]
                        sid = e["data"]["session_id"]
                    if len(fixes) == 4:
                        break
            finally:
                p.send_signal(signal.SIGKILL)
                p.wait()
                p.stdout.close()
        # a chunk's rows are written right after its session:fix, on the
        # thread that says the next one: chunk 3's event means 0-2 are on
        # disk (3's may or may not be; a killed process loses no page
        # cache)
        self.assertEqual(sorted(fixes), [0, 1, 2, 3])
        del fixes[3]
        sdir = os.path.join(data, "sessions", sid)
        # on disk, before any recovery
        on_disk = {}
        with open(os.path.join(sdir, "rows", "loc.jsonl")) as fh:
            lines = fh.read().split("\n")
        for line in lines:
            try:                        # a torn last line may be there
                j = json.loads(line)
            except ValueError:
                continue
            for r in j["fixes"]:
                on_disk[r["chunk_index"]] = r
            for r in j["tdoa"]:
                self.assertEqual(r["session_id"], sid)
        for k, d in fixes.items():
            self.assertIn(k, on_disk)
            self.assertTrue(on_disk[k]["ok"], on_disk[k])
            self.assertEqual(on_disk[k]["latitude"], d["latitude"])
            self.assertEqual(on_disk[k]["pairs_used"], d["pairs_used"])
        # recovery (any command opening the dataset) keeps them
        q = subprocess.run([h.REC, "sessions", "--data-dir", data, "--json"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(q.returncode, 0, q.stderr)
        m, _ = h.manifest(data, sid)
        self.assertEqual(m["session"]["status"], "failed")
        self.assertIn("interrupted", m["session"]["failure_reason"])
        got = {r["chunk_index"]: r for r in m["fixes"] if not r["final"]}
        for k, d in fixes.items():
            self.assertAlmostEqual(got[k]["latitude"], d["latitude"],
                                   places=9)
        keys = [(r["chunk_index"], r["websdr_a"], r["websdr_b"])
                for r in m["tdoa"]]
        self.assertEqual(len(keys), len(set(keys)))
        for k in fixes:
            self.assertGreaterEqual(sum(1 for x in keys if x[0] == k), 6)
        self.assertFalse(os.path.exists(os.path.join(sdir, "rows")))

    def test_clock_offset(self):
        """Station 3's clock 20 us late: its residual is the worst, about
        +20 us, in the session fix."""
        specs = ["i=%d,gps=1,signal=tx,txsnr=20%s"
                 % (k, ",clockus=20" if k == 3 else "") for k in range(1, 8)]
        rc, events, err, data = self.session(specs, 5)
        self.assertEqual(rc, 0, err)
        fixes = [e["data"] for e in self.named(events, "session:fix")]
        fd = [d for d in fixes if d.get("final")][0]
        print("clock offset 20 us on station 3: session fix worst %s "
              "(websdr %d) %.2f us; error %s m"
              % (fd["worst"]["station"], fd["worst"]["websdr"],
                 fd["worst"]["residual_us"], fd.get("error_m")),
              file=sys.stderr)
        self.assertEqual(fd["worst"]["websdr"], 3, fd)
        self.assertLess(abs(fd["worst"]["residual_us"] - 20), 5, fd)
        flagged = sum(1 for d in fixes if not d.get("final") and
                      d.get("worst", {}).get("websdr") == 3)
        self.assertGreaterEqual(flagged, 4, fixes)

    def test_no_fix_and_exclusions(self):
        """Two GPS KiwiSDRs, four without GPS and an rtl_tcp receiver:
        every fix is "no fix" with the reason and no position; session:tdoa
        names each receiver left out and why; record's human output says
        so."""
        specs = ["i=1,gps=1,signal=tx,txsnr=20",
                 "i=2,gps=1,signal=tx,txsnr=20"]
        specs += ["i=%d,gps=0,signal=tx,txsnr=20" % k for k in (3, 4, 5, 6)]
        specs += ["i=7,type=rtl_tcp,center=10000000"]

        def widen(st):
            # one session frequency for both kinds: the KiwiSDRs' range
            # is widened in the stations file (the simulator ignores it)
            for s in st["stations"]:
                if s["type"] == "kiwisdr":
                    s["frequency_max_hz"] = 200000000
        rc, events, err, data = self.session(specs, 3, freq="30",
                                             edit=widen)
        self.assertIn(rc, (0, 75), err)
        fixes = [e["data"] for e in self.named(events, "session:fix")]
        self.assertEqual(len(fixes), 4)
        for d in fixes:
            self.assertFalse(d["ok"], d)
            self.assertIn("reason", d)
            self.assertIsNone(d["latitude"], d)
            self.assertIsNone(d["longitude"], d)
            self.assertNotIn("ellipse", d)
        self.assertIn("2 usable receivers", fixes[0]["reason"])
        for e in self.named(events, "session:tdoa"):
            ex = {x["websdr"]: x["reason"] for x in e["data"]["excluded"]}
            self.assertEqual(sorted(ex), [3, 4, 5, 6, 7], e)
            for k in (3, 4, 5, 6):
                self.assertEqual(ex[k], "no GPS fix", ex)
            self.assertEqual(ex[7], "rtl_tcp: no sample timestamps", ex)
            self.assertLessEqual(len(e["data"]["pairs"]), 1)

        # the human output: one line per fix, and who was left out
        rc, events, err, data = self.session(specs, 2, json_out=False,
                                             freq="30", edit=widen)
        lines = [l for l in err.splitlines() if "fix chunk" in l]
        self.assertEqual(len(lines), 2, err)
        self.assertIn("no fix: 2 usable receivers", lines[0])
        self.assertIn("session fix: no fix", err)
        self.assertIn("TDoA without: 3 Sim 3 (no GPS fix), 4 Sim 4", err)
        self.assertIn("rtl_tcp: no sample timestamps", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
