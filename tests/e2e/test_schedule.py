"""test_schedule.py -- planned sessions (issue 15): `schedule add|list|
cancel` keeps schedules in the dataset; `serve` runs them, each
occurrence starting exactly at its instant (a coordinated start); an
occurrence whose instant passed while nothing ran is recorded as missed
and never run late; a cancelled schedule runs no more.
"""

import calendar, json, os, re, signal, subprocess, sys, tempfile, time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h

REC = h.REC
WEB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "web")


def run(*args):
    return subprocess.run([REC] + list(args), capture_output=True, text=True,
                          timeout=60)


def epoch(iso):
    return calendar.timegm(time.strptime(iso[:19], "%Y-%m-%dT%H:%M:%S")) + \
        float("0." + iso[20:-1] if len(iso) > 20 else 0)


class ScheduleTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hr-sched-")
        self.data = os.path.join(self.tmp, "data")

    def tearDown(self):
        h.rmtree(self.tmp)

    def listing(self):
        r = run("schedule", "list", "--data-dir", self.data, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return {s["id"]: s for s in json.loads(r.stdout)}

    def test_refused(self):
        base = ["schedule", "add", "--data-dir", self.data, "--name", "n",
                "--freq", "10", "--duration", "3"]
        for extra, why in ((["--at", "+2s"], "at least 10 s"),
                           (["--at", "soon"], "ISO 8601"),
                           (["--at", "+60s", "--every", "2s"], "every"),
                           (["--at", "+60s", "--every", "2x"], "--every"),
                           (["--at", "+60s", "--count", "3"], "need every"),
                           (["--at", "+60s", "--source", "nobody"],
                            "no known source"),
                           (["--at", "+60s", "--group", "a b"], "group")):
            r = run(*(base + extra))
            self.assertEqual(r.returncode, 64, (extra, r.stderr))
            self.assertIn(why, r.stderr, extra)
        self.assertEqual(self.listing(), {})
        self.assertEqual(run("schedule", "cancel", "--data-dir", self.data,
                             "00000000-0000-4000-8000-000000000000")
                         .returncode, 64)

    def test_serve_runs_schedules(self):
        with h.Sim(2, tmp=self.tmp) as sim:
            # one whose instant passes while nothing runs: missed
            r = run("schedule", "add", "--data-dir", self.data, "--name",
                    "early-{n}", "--freq", "10", "--duration", "2", "--at",
                    "+10s")
            self.assertEqual(r.returncode, 0, r.stderr)
            early = r.stdout.strip()
            time.sleep(11)
            # two occurrences 12 s apart (the first far enough ahead for a
            # loaded machine to start serve in time: the runner claims an
            # occurrence its lead, ~6 s, before the instant); and one
            # cancelled before it runs
            r = run("schedule", "add", "--data-dir", self.data, "--name",
                    "night-{n}", "--freq", "10", "--duration", "3", "--at",
                    "+20s", "--every", "12s", "--count", "2", "--group",
                    "plan:1")
            self.assertEqual(r.returncode, 0, r.stderr)
            night = r.stdout.strip()
            r = run("schedule", "add", "--data-dir", self.data, "--name",
                    "never", "--freq", "10", "--duration", "2", "--at", "+24s")
            never = r.stdout.strip()
            self.assertEqual(run("schedule", "cancel", "--data-dir",
                                 self.data, never).returncode, 0)
            lst = self.listing()
            self.assertEqual(lst[night]["state"], "active")
            self.assertEqual(lst[never]["state"], "cancelled")
            serve = subprocess.Popen(
                [REC, "serve", "--listen", "127.0.0.1:0", "--stations",
                 sim.stations, "--data-dir", self.data],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                deadline = time.time() + 60
                while time.time() < deadline:
                    lst = self.listing()
                    ses = json.loads(run("sessions", "--data-dir", self.data,
                                         "--json").stdout)
                    if lst[night]["state"] == "finished" and \
                            len(ses) == 2 and all(
                                s["status"] in ("completed", "failed")
                                for s in ses):
                        break
                    time.sleep(1)
            finally:
                serve.send_signal(signal.SIGTERM)
                err = serve.communicate(timeout=30)[1]
        lst = self.listing()
        runs = lst[early]["runs"]
        self.assertEqual([r["status"] for r in runs], ["missed"], err)
        self.assertIn("nothing was running", runs[0]["reason"])
        self.assertEqual(lst[early]["state"], "finished")
        runs = lst[night]["runs"]
        self.assertEqual([(r["n"], r["status"]) for r in runs],
                         [(1, "starting"), (2, "starting")], err)
        self.assertEqual(lst[never]["runs"], [])
        sessions = {s["id"]: s for s in json.loads(run(
            "sessions", "--data-dir", self.data, "--json").stdout)}
        self.assertEqual(len(sessions), 2, sessions)
        for r in runs:
            s = sessions[r["session_id"]]
            self.assertEqual(s["session_name"], "night-%d" % r["n"])
            self.assertEqual(s["status"], "completed")
            self.assertEqual(s.get("group_id"), "plan:1")
            m, _ = h.manifest(self.data, r["session_id"])
            # the occurrence's instant is chunk 0's, on every receiver
            self.assertEqual(epoch(m["session"]["start_at"]), epoch(r["at"]))
            for row in m["measurements"]:
                self.assertLess(abs(epoch(row["timestamp"]) - epoch(r["at"])
                                    - row["chunk_index"]),
                                1.0 / row["iq_sample_rate"], row)
        self.assertEqual(epoch(runs[1]["at"]) - epoch(runs[0]["at"]), 12)


    def test_websocket_api(self):
        """schedule:add|list|cancel through real WebSocket clients
        (tests/web/schedule.js): the schedule added over the API runs,
        its schedule:run reaching another client; the cancelled one does
        not; the CLI lists what the API added."""
        with h.Sim(2, tmp=self.tmp) as sim:
            serve = subprocess.Popen(
                [REC, "serve", "--listen", "127.0.0.1:0", "--stations",
                 sim.stations, "--data-dir", self.data],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                line = serve.stdout.readline()
                m = re.search(r"WebSocket (ws://[^ )]+)", line)
                self.assertIsNotNone(m, line)
                r = subprocess.run(
                    ["/usr/bin/node", os.path.join(WEB, "schedule.js"),
                     m.group(1), "10"], capture_output=True, text=True,
                    timeout=120, env=dict(os.environ, NODE_PATH=os.path.join(
                        WEB, "node_modules")))
            finally:
                serve.send_signal(signal.SIGTERM)
                err = serve.communicate(timeout=30)[1]
        self.assertEqual(r.returncode, 0, r.stderr + err)
        out = json.loads(r.stdout)
        self.assertEqual(out["session"]["status"], "completed", out)
        lst = self.listing()
        sid = out["added"]["id"]
        self.assertEqual(lst[sid]["name"], "api-{n}")
        self.assertEqual(lst[sid]["group_id"], "api:1")
        self.assertEqual([(x["n"], x["status"], x["session_id"])
                          for x in lst[sid]["runs"]],
                         [(1, "starting", out["run"]["session_id"])])
        self.assertEqual(lst[out["cancelled"]]["state"], "cancelled")
        self.assertEqual(lst[out["cancelled"]]["runs"], [])
        m, _ = h.manifest(self.data, out["run"]["session_id"])
        self.assertEqual(epoch(m["session"]["start_at"]),
                         epoch(out["run"]["at"]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
