"""test_crash.py -- kill -9 the recorder mid-session: no torn chunk file,
and the next run marks the session failed (interrupted) with its finished
chunks intact."""

import glob, json, os, signal, subprocess, sys, tempfile, time, unittest
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import harness as h


class CrashTest(unittest.TestCase):
    def test_kill_9(self):
        tmp = tempfile.mkdtemp(prefix="hr-crash-")
        self.addCleanup(h.rmtree, tmp)
        data = os.path.join(tmp, "data")
        with h.Sim(4, tmp=tmp) as sim:
            p = subprocess.Popen(
                [h.REC, "record", "--stations", sim.stations, "--data-dir",
                 data, "--name", "crash", "--freq", "10", "--duration", "10",
                 "--source", "unknown", "--json"],
                stdout=subprocess.PIPE, text=True)
            # kill once a few chunks are stored
            chunks = 0
            for line in p.stdout:
                if json.loads(line)["event"] == "session:progress":
                    chunks += 1
                    if chunks == 3:
                        break
            time.sleep(0.3)
            p.send_signal(signal.SIGKILL)
            p.wait()
            p.stdout.close()
        # every final-named chunk parses, whatever the crash cut
        npys = glob.glob(os.path.join(data, "sessions", "*", "chunk_*.npy"))
        self.assertGreaterEqual(len(npys), 12)
        for f in npys:
            np.load(f)
        out = subprocess.run([h.REC, "sessions", "--data-dir", data,
                              "--json"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        lst = json.loads(out.stdout)
        self.assertEqual(len(lst), 1)
        self.assertEqual(lst[0]["status"], "failed")
        self.assertIn("interrupted", lst[0]["failure_reason"])
        self.assertGreaterEqual(lst[0]["chunks_stored"], 12)
        m, d = h.manifest(data)
        self.assertEqual(m["session"]["status"], "failed")
        for r in m["measurements"]:
            a = np.load(os.path.join(data, r["iq_data_location"]))
            self.assertEqual(len(a), r["iq_samples_count"])
        # nothing half-written is left behind, nothing stored is lost
        self.assertEqual(glob.glob(os.path.join(d, "*.tmp*")), [])
        named = {r["iq_data_location"] for r in m["measurements"]}
        named |= {o["iq_data_location"] for o in m.get("orphans", [])}
        for f in glob.glob(os.path.join(d, "chunk_*.npy")):
            self.assertIn(os.path.relpath(f, data), named)


if __name__ == "__main__":
    unittest.main(verbosity=2)
