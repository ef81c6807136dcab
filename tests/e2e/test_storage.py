"""test_storage.py -- storage errors are said as such: a full disk, a file
size limit and a final manifest that cannot be written end the session
failed with exit 74, the message naming the path and the error; no
temporary file is left; what is printed is what the dataset holds; too few
file descriptors for the stations are refused up front (or raised)."""

import glob, json, os, resource, subprocess, sys, tempfile, time, unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h


def listing(data):
    out = subprocess.run([h.REC, "sessions", "--data-dir", data, "--json"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return {o["id"]: o for o in json.loads(out.stdout)}


class StorageTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hr-storage-")
        self.addCleanup(h.rmtree, self.tmp)

    def no_tmp(self, data):
        self.assertEqual(glob.glob(os.path.join(data, "**", "*.tmp*"),
                                   recursive=True), [])

    def test_full_disk(self):
        mnt = os.path.join(self.tmp, "small")
        os.mkdir(mnt)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs",
                        mnt], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", mnt])
        data = os.path.join(mnt, "data")
        with h.Sim(4, tmp=self.tmp) as sim:
            # 40 chunks of ~96 KB: the disk is full about half way
            rc, ev, err = h.record(sim, data, duration=10)
        self.assertEqual(rc, 74, err)
        errs = [e["data"] for e in ev if e["event"] == "session:error"]
        self.assertTrue(errs)
        self.assertEqual(errs[0]["code"], "io_error")
        self.assertIn(os.path.join(data, "sessions"), errs[0]["error"])
        self.assertIn("No space left on device", errs[0]["error"])
        fin = h.final(ev)
        self.assertEqual(fin["status"], "failed")
        self.assertIn("storage error", fin["error"])
        self.assertIn("No space left on device", fin["summary"]["io_error"])
        stored = fin["summary"]["chunks_stored"]
        self.assertGreater(stored, 0)
        self.assertLess(stored, 40)
        self.no_tmp(data)
        o = listing(data)[fin["session_id"]]
        self.assertEqual((o["status"], o["chunks_stored"]),
                         ("failed", stored))

    def test_file_size_limit(self):
        data = os.path.join(self.tmp, "data")
        lim = lambda: resource.setrlimit(resource.RLIMIT_FSIZE,
                                         (50000, 50000))
        with h.Sim(2, tmp=self.tmp) as sim:
            p = subprocess.run(
                [h.REC, "record", "--stations", sim.stations, "--data-dir",
                 data, "--name", "fsize", "--freq", "10", "--duration", "2",
                 "--source", "unknown"], capture_output=True, text=True,
                preexec_fn=lim, timeout=120)
        # not killed by SIGXFSZ (-25): the error is said, exit 74
        self.assertEqual(p.returncode, 74, p.stderr)
        self.assertRegex(p.stderr, r"cannot write \S+/chunk_000_websdr_\d"
                         r"\.npy\.tmp: File too large")
        self.assertIn("failed (storage error", p.stderr)
        self.no_tmp(data)

    def test_final_manifest_fails(self):
        data = os.path.join(self.tmp, "data")
        with h.Sim(2, tmp=self.tmp) as sim:
            p = subprocess.Popen(
                [h.REC, "record", "--stations", sim.stations, "--data-dir",
                 data, "--name", "final", "--freq", "10", "--duration", "3",
                 "--source", "unknown", "--json"],
                stdout=subprocess.PIPE, text=True)
            ev = []
            for line in p.stdout:
                ev.append(json.loads(line))
                if ev[-1]["event"] == "session:progress" and \
                        ev[-1]["data"]["chunk"] == 1:
                    # the final manifest cannot replace a directory
                    path = glob.glob(os.path.join(data, "sessions", "*",
                                                  "manifest.json"))[0]
                    os.unlink(path)
                    os.mkdir(path)
            ev += [json.loads(l) for l in p.stdout.read().splitlines()]
            p.stdout.close()
            rc = p.wait(60)
        self.assertEqual(rc, 74)
        fin = h.final(ev)
        self.assertEqual(fin["status"], "failed")
        self.assertIn("cannot write the final manifest", fin["error"])
        errs = [e["data"] for e in ev if e["event"] == "session:error"]
        self.assertIn("manifest.json", errs[0]["error"])
        self.assertEqual(errs[0]["code"], "io_error")
        # what was printed is what the dataset holds, rows included
        o = listing(data)[fin["session_id"]]
        self.assertEqual(o["status"], fin["status"])
        self.assertEqual(o["chunks_stored"], 6)
        self.no_tmp(data)

    def test_too_few_descriptors(self):
        data = os.path.join(self.tmp, "data")
        with h.Sim(120, tmp=self.tmp) as sim:
            args = [h.REC, "record", "--stations", sim.stations,
                    "--data-dir", data, "--name", "nofile", "--freq", "10",
                    "--duration", "1", "--source", "unknown"]
            # the hard limit cannot hold 120 receivers: refused up front
            p = subprocess.run(args, capture_output=True, text=True,
                               timeout=120, preexec_fn=lambda: resource.
                               setrlimit(resource.RLIMIT_NOFILE, (128, 128)))
            self.assertEqual(p.returncode, 71, p.stderr)
            self.assertIn("120 stations need about", p.stderr)
            self.assertIn("may open 128", p.stderr)
            self.assertFalse(os.path.exists(os.path.join(data, "sessions")))
            # a low soft limit under a high hard one: raised, all stored
            p = subprocess.run(args, capture_output=True, text=True,
                               timeout=120, preexec_fn=lambda: resource.
                               setrlimit(resource.RLIMIT_NOFILE, (64, 4096)))
            self.assertEqual(p.returncode, 0, p.stderr[-2000:])
            self.assertIn("120 of 120 chunks stored", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
