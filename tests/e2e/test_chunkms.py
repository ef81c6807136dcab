"""test_chunkms.py -- --chunk-ms through the real binary (issue 15): 3
simulated stations (station 2 counts its samples, odd stations GPS) recorded
with 200-ms chunks for 2 s and 2500-ms chunks for 5 s: the chunks of a
station are gapless (the counting station's samples run on across every
boundary; sample counts sum to the stream), their t0_ns step by one chunk
length, rows, total_chunks, duration_seconds (fractional per row) and the
manifest's chunk_ms; and 50, 5001 and a duration that is not a whole number
of chunks are refused with the range in the message."""

import json, os, subprocess, sys, tempfile, unittest
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import harness as h

NST = 3


def count_of(a):
    i = np.round(a.real * 32768).astype(np.int64)
    q = np.round(a.imag * 32768).astype(np.int64)
    return i | (q << 15)


class ChunkMsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hr-cms-")
        cls.runs = {}
        with h.Sim(NST, ["i=2,signal=count"], tmp=cls.tmp) as sim:
            for ms, dur in ((200, 2), (2500, 5)):
                data = os.path.join(cls.tmp, "d%d" % ms)
                rc, ev, err = h.record(sim, data, dur,
                                       extra=["--chunk-ms", str(ms)])
                m, d = h.manifest(data)
                cls.runs[ms] = (dur, rc, ev, err, m, d)
            # the readable lines (no --json): 4 chunks of 250 ms
            cls.human = h.record(sim, os.path.join(cls.tmp, "human"), 1,
                                 json_out=False,
                                 extra=["--chunk-ms", "250"])

    @classmethod
    def tearDownClass(cls):
        h.rmtree(cls.tmp)

    def each(self):
        for ms, (dur, rc, ev, err, m, d) in sorted(self.runs.items()):
            with self.subTest(chunk_ms=ms):
                yield ms, dur * 1000 // ms, dur, rc, ev, err, m, d

    def test_complete_and_counts(self):
        for ms, n, dur, rc, ev, err, m, d in self.each():
            self.assertEqual(rc, 0, err)
            self.assertEqual(m["session"]["status"], "completed")
            self.assertEqual(m["session"]["chunk_ms"], ms)
            self.assertEqual(m["session"]["duration_seconds"], dur)
            f = h.final(ev)
            self.assertEqual(f["summary"]["total_chunks"], n)
            self.assertEqual(f["summary"]["chunks_stored"], n * NST)
            self.assertEqual(f["summary"]["chunks_missing"], 0)
            self.assertEqual(f["summary"]["paused_seconds"], 0)
            prog = [e["data"] for e in ev if e["event"] == "session:progress"]
            self.assertEqual([p["chunk"] for p in prog], list(range(1, n + 1)))
            self.assertTrue(all(p["total_chunks"] == n for p in prog))
            c = [e for e in ev if e["event"] == "session:completed"][0]
            self.assertEqual(c["data"]["chunks"], n)
            self.assertEqual(len(m["measurements"]), n * NST)
            names = sorted(x for x in os.listdir(d) if x.endswith(".npy"))
            self.assertEqual(names, sorted(
                "chunk_%03d_websdr_%d.npy" % (k, w)
                for k in range(n) for w in range(1, NST + 1)))

    def test_rows_duration(self):
        for ms, n, dur, rc, ev, err, m, d in self.each():
            for r in m["measurements"]:
                fs = r["iq_sample_rate"]
                # floor or ceil of length x rate: the fraction carries on
                self.assertIn(r["iq_samples_count"],
                              (int(np.floor(fs * ms / 1000)),
                               int(np.ceil(fs * ms / 1000))), r)
                self.assertAlmostEqual(r["duration_seconds"],
                                       r["iq_samples_count"] / fs, places=9)
                self.assertAlmostEqual(r["duration_seconds"], ms / 1000,
                                       delta=1.5 / fs)
            for w in range(1, NST + 1):
                tot = sum(r["iq_samples_count"] for r in m["measurements"]
                          if r["websdr"] == w)
                fs = [r["iq_sample_rate"] for r in m["measurements"]
                      if r["websdr"] == w][0]
                # the chunks tile dur seconds of the stream: within a sample
                self.assertLessEqual(abs(tot - fs * dur), 1.0, (w, tot, fs))

    def test_gapless(self):
        for ms, n, dur, rc, ev, err, m, d in self.each():
            prev, total = None, 0
            rows = {r["chunk_index"]: r for r in m["measurements"]
                    if r["websdr"] == 2}
            for k in range(n):
                c = count_of(np.load(os.path.join(
                    d, "chunk_%03d_websdr_2.npy" % k)))
                self.assertEqual(len(c), rows[k]["iq_samples_count"])
                self.assertTrue((np.diff(c) == 1).all(), "gap in %d" % k)
                if prev is not None:
                    self.assertEqual(c[0], prev + 1, "gap before %d" % k)
                prev = c[-1]
                total += len(c)
            # every sample from chunk 0's first to the last one's last
            first = count_of(np.load(os.path.join(
                d, "chunk_000_websdr_2.npy")))[0]
            self.assertEqual(total, prev - first + 1)

    def test_t0_ns_steps(self):
        for ms, n, dur, rc, ev, err, m, d in self.each():
            by = {}
            for r in m["measurements"]:
                by.setdefault(r["chunk_index"], {})[r["websdr"]] = r
            h.check_t0_ns(self, by, {1, 3})
            for w in (1, 3):
                for k in range(1, n):
                    step = by[k][w]["t0_ns"] - by[k - 1][w]["t0_ns"]
                    # one chunk length, to a sample (83 us at 12 kS/s)
                    self.assertLess(abs(step - ms * 1e6), 1e5, (w, k, step))

    def test_human_lines(self):
        """Without --json: the length said, each chunk's line with its own
        SNRs (a cell per chunk, not per second)."""
        rc, _, err = self.human
        self.assertEqual(rc, 0, err)
        self.assertIn("1 s in 250-ms chunks", err)
        self.assertIn("acquiring 4 chunks", err)
        lines = [l for l in err.splitlines() if l.startswith("chunk ")]
        self.assertEqual([l.split(":")[0] for l in lines],
                         ["chunk %d/4" % k for k in range(1, 5)])
        for l in lines:
            snrs = l.split("SNR dB:")[1].split()
            self.assertEqual(len(snrs), NST, l)
            self.assertTrue(all(x not in ("?", "-") for x in snrs), l)

    def export(self, ms, *extra):
        dur, rc, ev, err, m, d = self.runs[ms]
        out = os.path.join(self.tmp, "x%d-%d" % (ms, len(extra)))
        p = subprocess.run([h.REC, "export", m["session"]["id"],
                            "--data-dir", os.path.dirname(os.path.dirname(d)),
                            "--out", out] + list(extra),
                           capture_output=True, text=True, timeout=120)
        return p, out

    def test_export_sigmf(self):
        """SigMF reads the chunk length from the manifest: one capture per
        chunk, no gap, the length in the metadata."""
        for ms, n in ((200, 10), (2500, 2)):
            p, out = self.export(ms)
            self.assertEqual(p.returncode, 0, p.stderr)
            metas = []
            for root, _, files in os.walk(out):
                metas += [os.path.join(root, f) for f in files
                          if f.endswith(".sigmf-meta")]
            self.assertEqual(len(metas), NST)
            for f in metas:
                with open(f) as fh:
                    meta = json.load(fh)
                g = meta["global"]
                self.assertEqual(g["heimdall:chunk_ms"], ms)
                self.assertIn("%d of %d %d-ms chunks" % (n, n, ms),
                              g["core:description"])
                self.assertEqual(len(meta["captures"]), n)
                self.assertFalse([a for a in meta["annotations"]
                                  if "heimdall:missing_chunks" in a])

    def test_export_arrays(self):
        """arrays: windows of the stored chunks by default (0.2 s), shorter
        ones tile them, longer ones are refused."""
        p, out = self.export(200, "--format", "arrays")
        self.assertEqual(p.returncode, 0, p.stderr)
        z = np.load(os.path.join(out, self.runs[200][4]["session"]["id"] +
                                 ".npz"))
        self.assertAlmostEqual(float(z["window_s"]), 0.2)
        self.assertEqual(z["iq"].shape[:2], (10, NST))
        self.assertTrue(z["mask"].all())
        self.assertEqual(list(z["chunk_index"]), list(range(10)))
        p, out = self.export(200, "--format", "arrays", "--chunk-ms", "100")
        self.assertEqual(p.returncode, 0, p.stderr)
        z = np.load(os.path.join(out, self.runs[200][4]["session"]["id"] +
                                 ".npz"))
        self.assertEqual(z["iq"].shape[:2], (20, NST))
        self.assertEqual(list(z["chunk_index"]),
                         [j // 2 for j in range(20)])
        p, _ = self.export(200, "--format", "arrays", "--chunk-ms", "500")
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("longer than the session's 200-ms chunks", p.stderr)


class ChunkMsRefusedTest(unittest.TestCase):
    def run_rec(self, *extra):
        tmp = tempfile.mkdtemp(prefix="hr-cmsr-")
        try:
            st = os.path.join(tmp, "stations.json")
            with open(st, "w") as f:
                json.dump({"stations": []}, f)
            return subprocess.run(
                [h.REC, "record", "--stations", st, "--data-dir",
                 os.path.join(tmp, "d"), "--name", "x", "--freq", "10",
                 "--source", "unknown"] + list(extra),
                capture_output=True, text=True, timeout=30)
        finally:
            h.rmtree(tmp)

    def test_range(self):
        for v in ("50", "5001", "0", "-1000"):
            p = self.run_rec("--duration", "5", "--chunk-ms", v)
            self.assertEqual(p.returncode, 64, p.stderr)
            self.assertIn("--chunk-ms", p.stderr)
            self.assertIn("100 to 5000 ms (got %s)" % v, p.stderr)

    def test_not_whole(self):
        p = self.run_rec("--duration", "3", "--chunk-ms", "2000")
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("duration (3 s) must be a whole number of 2000-ms "
                      "chunks", p.stderr)
        p = self.run_rec("--duration", "1", "--chunk-ms", "300")
        self.assertEqual(p.returncode, 64, p.stderr)

    def test_not_a_number(self):
        p = self.run_rec("--duration", "2", "--chunk-ms", "200.5")
        self.assertEqual(p.returncode, 64, p.stderr)

    def test_schedule(self):
        """schedule add --chunk-ms: kept in the template, checked by the
        same validation."""
        tmp = tempfile.mkdtemp(prefix="hr-cmss-")
        try:
            base = [h.REC, "schedule", "add", "--data-dir", tmp, "--name",
                    "s{n}", "--freq", "10", "--at", "+120s"]
            p = subprocess.run(base + ["--duration", "3", "--chunk-ms",
                                       "2000"], capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(p.returncode, 64, p.stderr)
            self.assertIn("whole number of 2000-ms chunks", p.stderr)
            p = subprocess.run(base + ["--duration", "3", "--chunk-ms",
                                       "5001"], capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(p.returncode, 64, p.stderr)
            self.assertIn("100 to 5000 ms (got 5001)", p.stderr)
            p = subprocess.run(base + ["--duration", "3", "--chunk-ms",
                                       "500"], capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            p = subprocess.run([h.REC, "schedule", "list", "--json",
                                "--data-dir", tmp], capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            lst = json.loads(p.stdout)
            if isinstance(lst, dict):
                lst = lst["schedules"]
            self.assertEqual([x["chunk_ms"] for x in lst], [500])
        finally:
            h.rmtree(tmp)


if __name__ == "__main__":
    unittest.main()
