"""test_record.py -- 7 simulated stations x 5 s through the real binary:
35 chunk files read back with numpy, sample continuity across chunk
boundaries (counting signal), metrics within tolerance, events in order,
chunk timestamps aligned."""

import os, sys, tempfile, unittest
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
