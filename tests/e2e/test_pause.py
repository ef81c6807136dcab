"""test_pause.py -- `record` paused by SIGUSR1 and resumed by SIGUSR2
against the simulator (issue 15): the receivers stay connected, the chunks
whose second overlaps the pause are not stored and are reported as paused
(not missing), numbering goes on, and the exit status is 0 when nothing
else is missing."""

import json, os, re, signal, subprocess, sys, tempfile, threading, time, unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h

N = 3          # stations
DUR = 8        # seconds


class PauseTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hr-pause-")
        cls.data = os.path.join(cls.tmp, "data")
        cls.events = []
        with h.Sim(N, tmp=cls.tmp) as sim:
            p = subprocess.Popen(
                [h.REC, "record", "--stations", sim.stations, "--data-dir",
                 cls.data, "--name", "paused", "--freq", "10", "--duration",
                 str(DUR), "--source", "unknown", "--json"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            got = threading.Event()

            def read():
                for line in p.stdout:
                    e = json.loads(line)
                    cls.events.append(e)
                    if e["event"] == "session:progress":
                        got.set()
            t = threading.Thread(target=read)
            t.start()
            # pause once chunk 0 is in, for 2.3 s
            if not got.wait(30):
                p.kill()
            p.send_signal(signal.SIGUSR1)
            time.sleep(2.3)
            p.send_signal(signal.SIGUSR2)
            cls.err = p.stderr.read()
            cls.rc = p.wait(60)
            t.join()
        cls.m, cls.dir = h.manifest(cls.data)

    @classmethod
    def tearDownClass(cls):
        h.rmtree(cls.tmp)

    def ev(self, name):
        return [e["data"] for e in self.events if e["event"] == name]

    def span(self):
        return (self.ev("session:paused")[0]["chunk_index"],
                self.ev("session:resumed")[0]["chunk_index"])

    def test_exit_and_summary(self):
        self.assertEqual(self.rc, 0, self.err)
        f = h.final(self.events)
        self.assertEqual(f["status"], "completed")
        s = f["summary"]
        a, b = self.span()
        # 2.3 s from within a chunk: 3 or 4 seconds skipped
        self.assertIn(b - a, (3, 4), (a, b))
        self.assertGreaterEqual(a, 1)
        self.assertEqual(s["chunks_missing"], 0)
        self.assertEqual(s["paused_chunks"], N * (b - a))
        self.assertEqual(s["paused_seconds"], b - a)
        self.assertEqual(s["chunks_stored"] + s["paused_chunks"], N * DUR)
        for st in s["stations"]:
            self.assertEqual(st["chunks_paused"], b - a)
            self.assertEqual(st["chunks_missing"], 0)
        self.assertEqual(self.ev("session:missing"), [])
        # the manifest holds the same summary
        self.assertEqual(self.m["summary"]["paused_chunks"], N * (b - a))
        self.assertEqual(self.m["session"]["status"], "completed")

    def test_events(self):
        self.assertEqual(len(self.ev("session:paused")), 1)
        self.assertEqual(len(self.ev("session:resumed")), 1)
        r = self.ev("session:resumed")[0]
        self.assertGreater(r["pause_seconds"], 2.0)
        self.assertLess(r["pause_seconds"], 4.0)
        prog = self.ev("session:progress")
        # numbering goes on: every chunk index is reported
        self.assertEqual([p["chunk"] for p in prog], list(range(1, DUR + 1)))
        a, b = self.span()
        for p in prog:
            k = p["chunk"]       # chunks 0..k-1
            paused = N * max(0, min(k, b) - a)
            self.assertEqual(p["paused_chunks"], paused, p)
            self.assertEqual(p["measurements_count"], N * k - paused, p)

    def test_files(self):
        a, b = self.span()
        rows = self.m["measurements"]
        self.assertEqual(sorted({r["chunk_index"] for r in rows}),
                         [k for k in range(DUR) if k < a or k >= b])
        self.assertEqual(len(rows), N * (DUR - (b - a)))
        names = sorted(f for f in os.listdir(self.dir) if f.endswith(".npy"))
        want = sorted("chunk_%03d_websdr_%d.npy" % (k, w)
                      for k in range(DUR) if k < a or k >= b
                      for w in range(1, N + 1))
        self.assertEqual(names, want)


class HumanPauseTest(unittest.TestCase):
    """Without --json: the pause is said, each chunk line says how many
    receivers' chunks were paused, a second SIGUSR1 is refused with a
    message (the session goes on), the summary counts the paused ones."""

    def test_lines(self):
        tmp = tempfile.mkdtemp(prefix="hr-pause-h-")
        try:
            with h.Sim(2, tmp=tmp) as sim:
                p = subprocess.Popen(
                    [h.REC, "record", "--stations", sim.stations,
                     "--data-dir", os.path.join(tmp, "data"), "--name", "h",
                     "--freq", "10", "--duration", "5", "--source",
                     "unknown"], stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE, text=True)
                lines, got = [], threading.Event()

                def read():
                    for line in p.stderr:
                        lines.append(line)
                        if line.startswith("chunk 1/"):
                            got.set()
                t = threading.Thread(target=read)
                t.start()
                if not got.wait(30):
                    p.kill()
                p.send_signal(signal.SIGUSR1)
                time.sleep(0.3)
                p.send_signal(signal.SIGUSR1)
                time.sleep(1.2)
                p.send_signal(signal.SIGUSR2)
                rc = p.wait(60)
                t.join()
        finally:
            h.rmtree(tmp)
        err = "".join(lines)
        self.assertEqual(rc, 0, err)
        self.assertRegex(err, r"paused: chunks from \d+ are not stored")
        self.assertRegex(err, r"pause: session \S+ is already paused")
        self.assertRegex(err, r"resumed: chunks from \d+ are stored "
                         r"\(paused \d\.\d s\)")
        self.assertRegex(err, r"chunk \d/5: .*SNR dB: - - \(2 paused\)")
        m = re.search(r"complete: (\d+) of 10 chunks stored, (\d+) paused "
                      r"\((\d+) s\)", err)
        self.assertIsNotNone(m, err)
        self.assertEqual(int(m.group(1)) + int(m.group(2)), 10)
        self.assertEqual(int(m.group(2)), 2 * int(m.group(3)))
        self.assertRegex(err, r"0 missing +\d+ paused")


if __name__ == "__main__":
    unittest.main()
