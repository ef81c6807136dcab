"""test_record.py -- 7 simulated stations x 5 s through the real binary:
35 chunk files read back with numpy, sample continuity across chunk
boundaries (counting signal), metrics within tolerance, events in order,
chunk timestamps aligned. HumanLinesTest: without --json, each chunk line
shows that chunk's own SNRs (after a reconnect, and for OpenWebRX's batches),
and JSON numbers are written in their shortest form."""

import json, os, re, subprocess, sys, tempfile, unittest
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import harness as h


class RecordTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hr-rec-")
        cls.data = os.path.join(cls.tmp, "data")
        with h.Sim(7, ["i=3,signal=count"], tmp=cls.tmp) as sim:
            cls.rc, cls.events, cls.err = h.record(sim, cls.data, 5)
        cls.m, cls.dir = h.manifest(cls.data)

    @classmethod
    def tearDownClass(cls):
        h.rmtree(cls.tmp)

    def test_exit_and_status(self):
        self.assertEqual(self.rc, 0, self.err)
        self.assertEqual(self.m["session"]["status"], "completed")
        f = h.final(self.events)
        self.assertEqual(f["status"], "completed")
        self.assertEqual(f["summary"]["chunks_stored"], 35)
        self.assertEqual(f["summary"]["chunks_missing"], 0)

    def test_event_order(self):
        names = [e["event"] for e in self.events]
        self.assertEqual(names[0], "session:started")
        self.assertLess(names.index("session:started"),
                        names.index("session:source_assigned"))
        self.assertLess(names.index("session:source_assigned"),
                        names.index("session:completed"))
        prog = [e["data"] for e in self.events
                if e["event"] == "session:progress"]
        self.assertEqual([p["chunk"] for p in prog], [1, 2, 3, 4, 5])
        self.assertTrue(all(p["total_chunks"] == 5 for p in prog))
        self.assertEqual([p["measurements_count"] for p in prog],
                         [7, 14, 21, 28, 35])
        self.assertEqual([p["progress"] for p in prog], [20, 40, 60, 80, 100])
        self.assertEqual(names[-1], "session:status_update")
        for e in self.events:
            self.assertEqual(set(e), {"event", "timestamp", "data"})
        c = [e for e in self.events if e["event"] == "session:completed"][0]
        self.assertEqual(c["data"]["status"], "in_progress")
        self.assertEqual(c["data"]["chunks"], 5)

    def test_files_and_rows(self):
        rows = self.m["measurements"]
        self.assertEqual(len(rows), 35)
        names = sorted(f for f in os.listdir(self.dir) if f.endswith(".npy"))
        want = sorted("chunk_%03d_websdr_%d.npy" % (k, w)
                      for k in range(5) for w in range(1, 8))
        self.assertEqual(names, want)
        for r in rows:
            a = np.load(os.path.join(self.data, r["iq_data_location"]))
            self.assertEqual(a.dtype, np.complex64)
            self.assertEqual(a.ndim, 1)
            fs, k = r["iq_sample_rate"], r["chunk_index"]
            # the samples of one second at the real rate
            self.assertIn(len(a), (int(np.floor(fs)), int(np.ceil(fs))))
            self.assertEqual(len(a), r["iq_samples_count"])
            self.assertEqual(r["iq_data_location"],
                             "sessions/%s/chunk_%03d_websdr_%d.npy" %
                             (self.m["session"]["id"], k, r["websdr"]))
            self.assertEqual(r["iq_data_format"], "complex64")

    def test_continuity(self):
        prev = None
        for k in range(5):
            a = np.load(os.path.join(self.dir,
                                     "chunk_%03d_websdr_3.npy" % k))
            i = np.round(a.real * 32768).astype(np.int64)
            q = np.round(a.imag * 32768).astype(np.int64)
            c = i | (q << 15)
            self.assertTrue((np.diff(c) == 1).all(), "gap inside chunk %d" % k)
            if prev is not None:
                self.assertEqual(c[0], prev + 1, "gap before chunk %d" % k)
            prev = c[-1]

    def test_metrics(self):
        for r in self.m["measurements"]:
            w = r["websdr"]
            if w == 3:
                continue
            self.assertAlmostEqual(r["snr_db"], 20.0, delta=1.0)
            self.assertAlmostEqual(r["frequency_offset_hz"], 500 + 250 * w,
                                   delta=2.0)
            self.assertIsNotNone(r["rssi_dbm"])
            self.assertEqual(r["time_source"], "gps" if w % 2 else "local")

    def test_sample_time(self):
        """t0_ns: the GPS stations' (odd) chunks carry their first sample's
        time in ns and the measured rate (the simulator's: 12001 + 0.137 k
        S/s), consistent with timestamp, each other and the chunk grid;
        the others have none. In the events (--json) as in the manifest."""
        by = {}
        for r in self.m["measurements"]:
            by.setdefault(r["chunk_index"], {})[r["websdr"]] = r
        h.check_t0_ns(self, by, {1, 3, 5, 7},
                      {w: 12001 + 0.137 * w for w in range(1, 8)})
        # station 3 counts its samples: t0_ns moves with the sample index
        # at the true rate, whatever the chunk sizes (to 0.2 us)
        import numpy as np
        first = {}
        for k in range(5):
            a = np.load(os.path.join(self.dir, "chunk_%03d_websdr_3.npy" % k))
            i = int(round(a[0].real * 32768)) | (int(round(a[0].imag *
                                                           32768)) << 15)
            first[k] = i
        for k in range(1, 5):
            d = by[k][3]["t0_ns"] - by[0][3]["t0_ns"]
            self.assertLess(abs(d - (first[k] - first[0]) * 1e9 /
                                (12001 + 0.137 * 3)), 200)
        ev = {(e["data"]["chunk_index"], e["data"]["websdr"]): e["data"]
              for e in self.events if e["event"] == "session:measurement"}
        self.assertEqual(len(ev), 35)
        for r in self.m["measurements"]:
            e = ev[(r["chunk_index"], r["websdr"])]
            self.assertEqual(e.get("t0_ns", "absent"), r.get("t0_ns"))
            self.assertEqual(e.get("sample_rate_hz", "absent"),
                             r.get("sample_rate_hz"))

    def test_alignment(self):
        by = {}
        for r in self.m["measurements"]:
            by.setdefault(r["chunk_index"], {})[r["websdr"]] = r
        from datetime import datetime
        def t(s):
            return datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
        for k, rows in by.items():
            gps = [t(r["timestamp"]) for w, r in rows.items() if w % 2]
            fs = max(r["iq_sample_rate"] for r in rows.values())
            self.assertLessEqual(max(gps) - min(gps), 1.0 / fs + 2e-6,
                                 "chunk %d GPS stations not aligned" % k)
            if k > 0:
                for w in (1, 3, 5, 7):
                    d = t(rows[w]["timestamp"]) - t(by[k - 1][w]["timestamp"])
                    self.assertAlmostEqual(d, 1.0, delta=1.0 / fs + 2e-6)


def chunk_lines(err):
    """{chunk (1-based): [SNR tokens per station]} from the human output."""
    out = {}
    for line in err.splitlines():
        mo = re.match(r"^chunk (\d+)/(\d+): (\d+) measurements; SNR dB:(.*)$",
                      line)
        if mo:
            out[int(mo.group(1))] = mo.group(4).split()
    return out


def expected_tokens(m, nst, k):
    """What chunk k's line must show: each station's own row."""
    rows = {(r["chunk_index"], r["websdr"]): r for r in m["measurements"]}
    toks = []
    for w in range(1, nst + 1):
        r = rows.get((k - 1, w))
        toks.append("-" if r is None else "?" if r["snr_db"] is None
                    else "%.1f" % r["snr_db"])
    return toks


class HumanLinesTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hr-human-")
        self.addCleanup(h.rmtree, self.tmp)
        self.data = os.path.join(self.tmp, "data")

    def check(self, err, nst, n):
        m, d = h.manifest(self.data)
        lines = chunk_lines(err)
        self.assertEqual(sorted(lines), list(range(1, n + 1)), err)
        for k in range(1, n + 1):
            self.assertEqual(lines[k], expected_tokens(m, nst, k),
                             "chunk %d: %s" % (k, err))
        return m, d

    def test_reconnect(self):
        # station 2 drops its connection 1.5 s in and reconnects: its
        # missing chunks show "-", never another chunk's SNR; stations
        # with different SNRs so a value from the wrong station shows
        specs = ["i=1,snr=10", "i=2,snr=20,fault=drop,after=1.5",
                 "i=3,snr=30"]
        with h.Sim(3, specs, tmp=self.tmp) as sim:
            rc, _, err = h.record(sim, self.data, 5, freq="14.2",
                                  json_out=False)
        self.assertIn(rc, (0, 75), err)
        m, d = self.check(err, 3, 5)
        # and 14.2 MHz is written 14.2 (shortest round trip), not
        # 14.199999999999999
        with open(os.path.join(d, "manifest.json")) as f:
            text = f.read()
        self.assertIn('"frequency_mhz": 14.2,', text)
        self.assertNotIn("14.199999999999999", text)
        self.assertEqual(m["session"]["frequency_mhz"], 14.2)

    def test_openwebrx(self):
        # OpenWebRX delivers in batches; one station stalls 1.5 s in and
        # comes back, one is full at first ("Too many clients")
        specs = ["i=1,type=openwebrx", "i=2,type=openwebrx,fault=stall,"
                 "after=1.5", "i=3,type=openwebrx,fault=backoff,times=1"]
        with h.Sim(3, specs, tmp=self.tmp) as sim:
            rc, _, err = h.record(sim, self.data, 4, freq="145.5",
                                  json_out=False)
        self.assertIn(rc, (0, 75), err)
        m, _ = self.check(err, 3, 4)
        self.assertGreater(len(m["measurements"]), 0)


class MixedBandsTest(unittest.TestCase):
    """A mixed network (issue 13): HF KiwiSDRs and 2 m receivers in one
    stations file. A station whose range excludes the session's frequency
    is left out with the reason -- receiver:status "excluded", a row of
    the summary, the manifest, record's own lines -- and the session
    records on the others (complete, exit 0); only a frequency that no
    station takes is refused. A known source whose frequency the session
    does not record is warned about (session:warning, record's stderr)."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hr-mixed-")
        cls.sim = h.Sim(5, tmp=cls.tmp)
        with open(cls.sim.stations) as f:
            st = json.load(f)
        for s in st["stations"][3:]:          # stations 4 and 5: 2 m only
            s["frequency_min_hz"] = 144000000
            s["frequency_max_hz"] = 146000000
        with open(cls.sim.stations, "w") as f:
            json.dump(st, f)

    @classmethod
    def tearDownClass(cls):
        cls.sim.close()
        h.rmtree(cls.tmp)

    def test_left_out_with_reason(self):
        data = os.path.join(self.tmp, "left-out")
        rc, ev, err = h.record(self.sim, data, 3)
        self.assertEqual(rc, 0, err)
        out = [e["data"] for e in ev if e["event"] == "receiver:status"
               and e["data"]["state"] == "excluded"]
        self.assertEqual(sorted(d["websdr"] for d in out), [4, 5], out)
        for d in out:
            self.assertEqual(d["reason"], "10 MHz is outside its "
                             "range 144-146 MHz")
        started = [e["data"] for e in ev if e["event"] == "session:started"][0]
        self.assertEqual([x["websdr"] for x in started["excluded"]], [4, 5])
        # nothing else is said of them: no stream, no missing chunk
        self.assertFalse([e for e in ev if e["event"] in
                          ("receiver:status", "session:missing",
                           "session:measurement")
                          and e["data"].get("websdr") in (4, 5)
                          and e["data"].get("state") != "excluded"])
        f = h.final(ev)
        self.assertEqual(f["status"], "completed")
        self.assertEqual(f["outcome"], "complete")     # not partial
        self.assertEqual((f["summary"]["chunks_expected"],
                          f["summary"]["chunks_stored"],
                          f["summary"]["chunks_missing"]), (9, 9, 0))
        for k in (4, 5):
            s = h.station(f["summary"], k)
            self.assertEqual((s["state"], s["chunks_ok"], s["chunks_missing"]),
                             ("excluded", 0, 0))
            self.assertIn("outside its range 144-146 MHz", s["reason"])
        self.assertEqual([x["websdr"] for x in f["summary"]["excluded"]],
                         [4, 5])
        m, d = h.manifest(data)
        self.assertEqual(m["session"]["status"], "completed")
        self.assertEqual(sorted({r["websdr"] for r in m["measurements"]}),
                         [1, 2, 3])
        self.assertEqual([s["state"] for s in m["stations"]],
                         ["streaming"] * 3 + ["excluded"] * 2)
        # the dataset's listing owes nothing for them either
        r = subprocess.run([h.REC, "sessions", "--json", "--data-dir", data],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"chunks_expected":9', r.stdout.replace(" ", ""))
        self.assertIn('"chunks_missing":0', r.stdout.replace(" ", ""))
        # the human lines: each left-out station and its summary row
        rc, _, err = h.record(self.sim, os.path.join(self.tmp, "human"), 2,
                              json_out=False)
        self.assertEqual(rc, 0, err)
        self.assertIn("station 4 (Sim 4): excluded - 10 MHz is "
                      "outside its range 144-146 MHz", err)
        self.assertIn("acquiring 2 chunks from 3 stations", err)
        self.assertRegex(err, r"\n\s+5 Sim 5\s+excluded\s+10 MHz is outside")
        self.assertIn("6 of 6 chunks stored", err)

    def test_no_station_takes_it(self):
        data = os.path.join(self.tmp, "none")
        rc, _, err = h.record(self.sim, data, 2, freq="435")
        self.assertEqual(rc, 64, err)
        self.assertIn("--freq: 435 MHz is out of range of every station: "
                      "Sim 1 takes 0-30 MHz (and 4 others)", err)
        self.assertFalse(os.path.isdir(os.path.join(data, "sessions")) and
                         os.listdir(os.path.join(data, "sessions")))

    def test_exclude(self):
        """--exclude NAME,... (issue 13): those stations are left out,
        "excluded by the operator", next to the ones the frequency leaves
        out; unknown names and an exclusion of every station that takes
        the frequency are usage errors before anything is recorded."""
        data = os.path.join(self.tmp, "exclude")
        rc, ev, err = h.record(self.sim, data, 2,
                               extra=["--exclude", "Sim 2,Sim 5"])
        self.assertEqual(rc, 0, err)
        started = [e["data"] for e in ev if e["event"] == "session:started"][0]
        self.assertEqual([(x["websdr"], x["reason"]) for x in
                          started["excluded"]],
                         [(2, "excluded by the operator"),
                          (4, "10 MHz is outside its range 144-146 MHz"),
                          (5, "10 MHz is outside its range 144-146 MHz")])
        f = h.final(ev)
        self.assertEqual(f["outcome"], "complete")
        self.assertEqual((f["summary"]["chunks_expected"],
                          f["summary"]["chunks_stored"]), (4, 4))
        m, _ = h.manifest(data)
        self.assertEqual(sorted({r["websdr"] for r in m["measurements"]}),
                         [1, 3])
        self.assertEqual([(s["state"], s.get("reason", "")) for s in
                          m["stations"]][1],
                         ("excluded", "excluded by the operator"))
        self.assertEqual([s["state"] for s in m["stations"]],
                         ["streaming", "excluded", "streaming", "excluded",
                          "excluded"])
        # the human lines say so
        rc, _, err = h.record(self.sim, os.path.join(self.tmp, "excl-h"), 1,
                              json_out=False, extra=["--exclude", "Sim 1"])
        self.assertEqual(rc, 0, err)
        self.assertIn("station 1 (Sim 1): excluded - excluded by the "
                      "operator", err)
        self.assertIn("acquiring 1 chunks from 2 stations", err)
        # refused: an unknown name, none left, an empty name
        bad = os.path.join(self.tmp, "excl-bad")
        for arg, want in (
                ("Sim 1,Nobody", '--exclude: no station is named "Nobody" '
                 '(exclude takes the names of the stations file: "Sim 1", '
                 '...)'),
                ("Sim 1,Sim 2,Sim 3", "--exclude: no station is left to "
                 "record: every station that takes 10 MHz is excluded"),
                ("Sim 1,,Sim 2", "--exclude: an empty station name")):
            rc, _, err = h.record(self.sim, bad, 1, extra=["--exclude", arg])
            self.assertEqual(rc, 64, err)
            self.assertIn(want, err)
        self.assertFalse(os.path.isdir(os.path.join(bad, "sessions")) and
                         os.listdir(os.path.join(bad, "sessions")))

    def test_source_frequency_warning(self):
        data = os.path.join(self.tmp, "warn")
        for name, mhz in (("Beacon 2m", "145.5"), ("Near", "10.002")):
            r = subprocess.run([h.REC, "sources", "add", "--data-dir", data,
                                "--name", name, "--freq", mhz],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
        rc, ev, err = h.record(self.sim, data, 1, source="Beacon 2m")
        self.assertEqual(rc, 0, err)
        w = [e["data"] for e in ev if e["event"] == "session:warning"]
        self.assertEqual(len(w), 1, ev)
        self.assertEqual(w[0]["code"], "source_frequency")
        self.assertEqual(w[0]["message"], 'source "Beacon 2m" is known at '
                         "145.5 MHz, outside the session's 10 MHz (passband "
                         "-5000..+5000 Hz): its chunks would be labelled with "
                         "a transmitter they do not hold; check the source "
                         "or the frequency")
        self.assertEqual(h.final(ev)["warning"], w[0]["message"])
        m, _ = h.manifest(data, h.final(ev)["session_id"])
        self.assertEqual(m["session"]["warning"], w[0]["message"])
        rc, _, err = h.record(self.sim, data, 1, source="Beacon 2m",
                              json_out=False)
        self.assertIn('warning: source "Beacon 2m" is known at 145.5 MHz',
                      err)
        # within the passband (2 kHz off): recorded, no warning
        rc, ev, err = h.record(self.sim, data, 1, source="Near")
        self.assertEqual(rc, 0, err)
        self.assertFalse([e for e in ev if e["event"] == "session:warning"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
