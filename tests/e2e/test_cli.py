"""test_cli.py -- flags, help, exit codes and messages of the real binary."""

import json, os, subprocess, sys, tempfile, unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h


def run(*args, **kw):
    return subprocess.run([h.REC] + list(args), capture_output=True,
                          text=True, timeout=60, **kw)


class CliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hr-cli-")
        cls.data = os.path.join(cls.tmp, "data")
        cls.st = os.path.join(cls.tmp, "stations.json")
        with open(cls.st, "w") as f:
            json.dump({"stations": [{"name": "A", "type": "kiwisdr",
                       "url": "http://127.0.0.1:9", "latitude": 45,
                       "longitude": 7}]}, f)

    @classmethod
    def tearDownClass(cls):
        h.rmtree(cls.tmp)

    def rec(self, *extra):
        base = {"--stations": self.st, "--data-dir": self.data,
                "--name": "n", "--freq": "10", "--duration": "2",
                "--source": "unknown"}
        args = ["record"]
        skip = set(a for a in extra if isinstance(a, str) and a.startswith("--"))
        for k, v in base.items():
            if k not in skip:
                args += [k, v]
        return run(*(args + list(extra)))

    def test_help_version(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        for c in ("record", "sessions", "sources"):
            self.assertIn(c, r.stdout)
        r = run("--version")
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^heimdall-rec \d+\.\d+\.\d+")
        r = run("record", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("--duration", r.stdout)
        self.assertIn("Exit status", r.stdout)
        self.assertEqual(run("help", "sources").returncode, 0)
        self.assertEqual(run().returncode, 64)
        self.assertEqual(run("frobnicate").returncode, 64)

    def test_bad_duration(self):
        for bad in ("0", "31", "2.5", "-1", "abc", ""):
            r = self.rec("--duration", bad)
            self.assertEqual(r.returncode, 64, (bad, r.stderr))
            self.assertIn("--duration", r.stderr)
            self.assertIn("1 to 30", r.stderr)

    def test_bad_freq(self):
        for bad in ("0", "-1", "nan", "inf", "x", "1e999"):
            r = self.rec("--freq", bad)
            self.assertEqual(r.returncode, 64, (bad, r.stderr))
            self.assertIn("--freq", r.stderr)
        r = self.rec("--freq", "145.5")          # outside the station's range
        self.assertEqual(r.returncode, 64)
        self.assertIn("outside the range of station 1 (A)", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.data, "sessions")) and
                         os.listdir(os.path.join(self.data, "sessions")),
                         "a session was created for a bad frequency")

    def test_bad_other(self):
        r = self.rec("--name", "")
        self.assertEqual(r.returncode, 64)
        self.assertIn("--name", r.stderr)
        r = self.rec("--name", "x" * 300)
        self.assertEqual(r.returncode, 64)
        r = self.rec("--notes", "y" * 5000)
        self.assertEqual(r.returncode, 64)
        r = self.rec("--passband", "5000:-5000")
        self.assertEqual(r.returncode, 64)
        self.assertIn("passband", r.stderr)
        r = self.rec("--bogus")
        self.assertEqual(r.returncode, 64)
        r = self.rec("--source", "no such source")
        self.assertEqual(r.returncode, 64)
        self.assertIn("no known source", r.stderr)

    def test_stations_file(self):
        r = self.rec("--stations", os.path.join(self.tmp, "missing.json"))
        self.assertEqual(r.returncode, 66)
        self.assertIn("missing.json", r.stderr)
        bad = os.path.join(self.tmp, "bad.json")
        with open(bad, "w") as f:
            f.write('{"stations":[{"name":"A"}]}')
        r = self.rec("--stations", bad)
        self.assertEqual(r.returncode, 78)
        self.assertIn("station 1", r.stderr)

    def test_sources_and_sessions(self):
        d = os.path.join(self.tmp, "src")
        r = run("sources", "add", "--data-dir", d, "--name", "Beacon",
                "--freq", "145.5", "--lat", "45.1", "--lon", "7.6")
        self.assertEqual(r.returncode, 0, r.stderr)
        sid = r.stdout.strip()
        self.assertEqual(len(sid), 36)
        r = run("sources", "add", "--data-dir", d, "--name", "beacon")
        self.assertEqual(r.returncode, 64)
        self.assertIn("already exists", r.stderr)
        r = run("sources", "add", "--data-dir", d, "--name", "X", "--lat",
                "91", "--lon", "0")
        self.assertEqual(r.returncode, 64)
        self.assertIn("--lat", r.stderr)
        r = run("sources", "list", "--data-dir", d, "--json")
        lst = json.loads(r.stdout)
        self.assertEqual([s["name"] for s in lst], ["Unknown", "Beacon"])
        self.assertEqual(lst[1]["id"], sid)
        r = run("sessions", "--data-dir", d)
        self.assertEqual(r.returncode, 0)
        self.assertIn("no sessions", r.stdout)
        self.assertEqual(run("sources", "frob", "--data-dir", d).returncode, 64)

    def test_record_with_named_source(self):
        d = os.path.join(self.tmp, "named")
        self.assertEqual(run("sources", "add", "--data-dir", d, "--name",
                             "Beacon").returncode, 0)
        with h.Sim(2, tmp=self.tmp) as sim:
            rc, events, err = h.record(sim, d, 1, source="beacon",
                                       name="named")
        self.assertEqual(rc, 0, err)
        a = [e for e in events if e["event"] == "session:source_assigned"][0]
        self.assertEqual(a["data"]["source_name"], "Beacon")
        r = run("sessions", "--data-dir", d, "--json")
        lst = json.loads(r.stdout)
        self.assertEqual(lst[0]["status"], "completed")
        self.assertEqual(lst[0]["chunks_stored"], 2)

    def test_human_progress(self):
        d = os.path.join(self.tmp, "human")
        with h.Sim(2, tmp=self.tmp) as sim:
            rc, _, err = h.record(sim, d, 2, json_out=False)
        self.assertEqual(rc, 0, err)
        self.assertIn("chunk 2/2", err)
        self.assertIn("completed: 4 of 4 chunks stored", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
