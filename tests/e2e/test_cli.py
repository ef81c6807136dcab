"""test_cli.py -- flags, help, exit codes and messages of the real binary."""

import json, os, re, socket, subprocess, sys, tempfile, threading, time
import unittest

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

    def test_every_command_parsed_alike(self):
        """Every command --help lists goes through the one parser (the
        unit test 'cmd' covers each case; this is the real binary):
        `help NAME` is `NAME --help`, and an unknown option gets getopt's
        message and the command's usage, exit 64."""
        out = run("--help").stdout
        names = re.findall(r"^  (\w+) ", out.split("Commands:")[1],
                           re.M)
        self.assertEqual(len(names), 11, out)
        for n in names:
            a, b = run("help", n), run(n, "--help")
            self.assertEqual((a.returncode, b.returncode), (0, 0), n)
            self.assertEqual(a.stdout, b.stdout, n)
            self.assertTrue(a.stdout.startswith("usage: heimdall-rec %s " % n))
            r = run(n, "--no-such-option", stdin=subprocess.DEVNULL)
            self.assertEqual(r.returncode, 64, (n, r.stderr))
            self.assertIn("unrecognized option '--no-such-option'", r.stderr)
            self.assertIn("usage: heimdall-rec %s " % n, r.stderr)
        r = run("sessions", "--data-dir", self.data, "surplus")
        self.assertEqual(r.returncode, 64)
        self.assertIn('unexpected argument "surplus"', r.stderr)
        r = run("sources", "list", "surplus", "--data-dir", self.data)
        self.assertEqual(r.returncode, 64)
        self.assertIn('unexpected argument "surplus"', r.stderr)
        r = run("db")
        self.assertEqual(r.returncode, 64)
        self.assertIn("db: which action? (migrate)", r.stderr)

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
        # strtod's hex and exponents are not MHz (both were taken as 16
        # and 10 MHz); a decimal comma gets the hint, a 19-digit number
        # is too large, not "not a number"
        for bad in ("0x10", "1e1", "14,2", "1234567890123456789"):
            r = self.rec("--freq", bad)
            self.assertEqual(r.returncode, 64, (bad, r.stderr))
        self.assertIn("use a decimal point, not a comma: 14.2 MHz",
                      self.rec("--freq", "14,2").stderr)
        self.assertIn("at most 100000 MHz",
                      self.rec("--freq", "1234567890123456789").stderr)
        self.assertIn("digits", self.rec("--freq", "0x10").stderr)
        r = self.rec("--freq", "145.5")          # outside the station's range
        self.assertEqual(r.returncode, 64)
        self.assertIn("--freq: 145.5 MHz is out of range: A takes 0-30 MHz",
                      r.stderr)
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
        self.assertNotIn("group_id", lst[0])

    def test_group(self):
        """--group links sessions of one transmission (issue 16): checked
        like the other session options, kept in the manifest and events,
        shown by `sessions`; a hand-edited manifest's bad group is not."""
        for bad, why in (("a b", "group id"), ("x/y", "group id"),
                         ("g" * 65, "--group")):
            r = self.rec("--group", bad)
            self.assertEqual(r.returncode, 64, bad)
            self.assertIn(why, r.stderr)
        d = os.path.join(self.tmp, "group")
        with h.Sim(2, tmp=self.tmp) as sim:
            rc, events, err = h.record(sim, d, 1, name="grouped",
                                       extra=("--group", "net2m:0042"))
        self.assertEqual(rc, 0, err)
        st = [e for e in events if e["event"] == "session:started"][0]
        self.assertEqual(st["data"]["group_id"], "net2m:0042")
        up = [e for e in events if e["event"] == "session:status_update"]
        self.assertTrue(all(e["data"]["group_id"] == "net2m:0042"
                            for e in up))
        m, folder = h.manifest(d)
        self.assertEqual(m["session"]["group_id"], "net2m:0042")
        lst = json.loads(run("sessions", "--data-dir", d, "--json").stdout)
        self.assertEqual(lst[0]["group_id"], "net2m:0042")
        r = run("sessions", "--data-dir", d)
        self.assertRegex(r.stdout, r"GROUP")
        self.assertIn("net2m:0042", r.stdout)
        # a manifest edited by hand: the bad group is left out, not shown
        m["session"]["group_id"] = "\x1b[2Jx y"
        with open(os.path.join(folder, "manifest.json"), "w") as f:
            json.dump(m, f)
        lst = json.loads(run("sessions", "--data-dir", d, "--json").stdout)
        self.assertNotIn("group_id", lst[0])
        r = run("sessions", "--data-dir", d, "--limit", "5")
        self.assertEqual(r.returncode, 64)
        self.assertIn("--db", r.stderr)

    def test_human_progress(self):
        d = os.path.join(self.tmp, "human")
        with h.Sim(2, tmp=self.tmp) as sim:
            rc, _, err = h.record(sim, d, 2, json_out=False)
        self.assertEqual(rc, 0, err)
        self.assertIn("chunk 2/2", err)
        self.assertIn("complete: 4 of 4 chunks stored", err)

    def test_bad_text(self):
        """Invalid UTF-8 and C0/C1 controls are refused at the door, the
        flag named, nothing stored (issue 10: chunks were recorded for a
        session that then vanished)."""
        d = os.path.join(self.tmp, "text")
        for flag, val, what in [
                ("--name", b"caf\xe9", "UTF-8"),
                ("--name", b"cut \xe2\x82", "UTF-8"),
                ("--notes", b"ok\n\xff", "UTF-8"),
                ("--name", "a\x1b[2Jb", "control"),
                ("--name", "a\u009b2Jb", "control"),     # C1: CSI
                ("--notes", "a\u0085b", "control")]:    # C1: NEL
            r = self.rec("--data-dir", d, flag, val)
            self.assertEqual(r.returncode, 64, (flag, val, r.stderr))
            self.assertIn(flag + ":", r.stderr)
            self.assertIn(what, r.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, "sessions")))
        # real text passes validation (then fails on the dead station)
        r = self.rec("--data-dir", d, "--name", "Torino \u00e8 \u20ac",
                     "--notes", "a\tb\nc", "--start-timeout", "0.5")
        self.assertNotEqual(r.returncode, 64, r.stderr)
        # sources: an error, not an id that was never saved
        for flag, val in [("--name", b"\xff\xfe"), ("--name", "x\u0085"),
                          ("--name", "x\x1b"), ("--description", b"\xc0\xaf")]:
            r = run("sources", "add", "--data-dir", d, "--name", "S", flag,
                    val)
            self.assertEqual(r.returncode, 64, (flag, val, r.stdout))
            self.assertEqual(r.stdout, "")
        lst = json.loads(run("sources", "list", "--data-dir", d,
                             "--json").stdout)
        self.assertEqual([s["name"] for s in lst], ["Unknown"])

    def test_controls_escaped(self):
        """Names already stored with controls (an edited sources.json)
        are printed escaped, never raw to the terminal."""
        d = os.path.join(self.tmp, "esc")
        self.assertEqual(run("sources", "list", "--data-dir", d).returncode,
                         0)
        path = os.path.join(d, "sources.json")
        with open(path) as f:
            j = json.load(f)
        j["sources"].append(dict(j["sources"][0], name="Evil\x1b[2J\u009b1m",
                                 id="00000000-0000-4000-8000-000000000001"))
        with open(path, "w") as f:
            json.dump(j, f)
        r = run("sources", "list", "--data-dir", d)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("\x1b", r.stdout)
        self.assertNotIn("\u009b", r.stdout)
        self.assertIn("Evil\\x1b[2J\\u009b1m", r.stdout)
        # JSON output keeps the real string
        lst = json.loads(run("sources", "list", "--data-dir", d,
                             "--json").stdout)
        self.assertEqual(lst[1]["name"], "Evil\x1b[2J\u009b1m")

    def test_special_files(self):
        """A FIFO (or device, or directory) where a file is expected is
        refused at once with the documented code, never waited on."""
        fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(fifo)
        t0 = time.monotonic()
        r = self.rec("--stations", fifo)
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn("is a FIFO, not a regular file", r.stderr)
        self.assertIn(fifo, r.stderr)
        r = self.rec("--stations", "/dev/zero")
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn("is a device", r.stderr)
        r = self.rec("--stations", self.tmp)
        self.assertEqual(r.returncode, 78, r.stderr)
        r = run("serve", "--stations", self.st, "--data-dir", self.data,
                "--listen", "127.0.0.1:0", "--token-file", fifo)
        self.assertEqual(r.returncode, 78, r.stderr)   # 66: no stations file
        self.assertIn("--token-file", r.stderr)
        self.assertIn("FIFO", r.stderr)
        r = run("serve", "--stations", self.st, "--data-dir", self.data,
                "--listen", "127.0.0.1:0", "--tls-cert", fifo, "--tls-key",
                fifo)
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn("FIFO", r.stderr)
        # sources.json in the data directory
        d = os.path.join(self.tmp, "fifo-data")
        os.makedirs(d)
        os.mkfifo(os.path.join(d, "sources.json"))
        r = run("sources", "list", "--data-dir", d)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("FIFO", r.stderr)
        # too large: bounded
        big = os.path.join(self.tmp, "big.json")
        with open(big, "w") as f:
            f.write(" " * (8 << 20))
        r = self.rec("--stations", big)
        self.assertEqual(r.returncode, 78, r.stderr)
        self.assertIn("too large", r.stderr)
        self.assertLess(time.monotonic() - t0, 30)

    def test_backlog_silent_db(self):
        """A database that accepts the connection and never answers:
        `record` prints the real backlog, the counts `status` gives (issue
        10: "0 rows, 0 objects pending" while 6 were)."""
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(16)
        held, stop = [], threading.Event()

        def accept():
            srv.settimeout(0.2)
            while not stop.is_set():
                try:
                    held.append(srv.accept()[0])   # never answered
                except OSError:
                    pass
        th = threading.Thread(target=accept, daemon=True)
        th.start()
        self.addCleanup(lambda: (stop.set(), th.join(), srv.close(),
                                 [c.close() for c in held]))
        # the first connection attempt outlives the recording: the
        # replicator's own counts are then still those of "no session"
        url = "postgresql://u@127.0.0.1:%d/db?connect_timeout=12" % \
            srv.getsockname()[1]
        d = os.path.join(self.tmp, "backlog")
        os.makedirs(d + "-sim")
        with h.Sim(2, tmp=d + "-sim") as sim:
            rc, _, err = h.record(sim, d, 3, json_out=False,
                                  extra=["--db", url, "--sync-timeout", "2"])
        self.assertEqual(rc, 0, err)
        mo = re.search(r"central store: (\d+) rows, (\d+) objects pending",
                       err)
        self.assertIsNotNone(mo, err)
        st = json.loads(run("status", "--data-dir", d, "--json").stdout)
        self.assertEqual(st["pending_rows"], 6, st)
        self.assertEqual((int(mo.group(1)), int(mo.group(2))),
                         (st["pending_rows"], st["pending_objects"]), err)
        self.assertIn("kept in", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
