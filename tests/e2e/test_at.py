"""test_at.py -- coordinated start instants (issue 15): record --at.

Two recorders (separate processes and data folders, as on two machines)
given the same instant cut the same seconds: chunk k of every receiver
starts at the instant + k s, on the GPS time line where the receiver has
it, so the rows' first-sample times (t0_ns) agree across the recorders
within one sample. Before the instant the receivers are connected and
checked (session:preflight names the one that is not ready, with its
reason); an instant too close is refused with the lead time it needs.
"""

import calendar, json, os, subprocess, sys, tempfile, threading, time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h

REC = h.REC


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class AtTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hr-at-")

    @classmethod
    def tearDownClass(cls):
        h.rmtree(cls.tmp)

    def record(self, stations, data, at, duration=3, extra=()):
        return subprocess.Popen(
            [REC, "record", "--stations", stations, "--data-dir", data,
             "--name", "at", "--freq", "10", "--duration", str(duration),
             "--source", "unknown", "--at", at, "--json"] + list(extra),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def test_two_recorders_same_seconds(self):
        # the simulator's odd stations are GPS-timed
        with h.Sim(3, tmp=self.tmp) as sim:
            # one more station that does not answer: not ready, named
            with open(sim.stations) as f:
                st = json.load(f)
            dead = dict(st["stations"][0], name="Dead",
                        url="http://127.0.0.1:9")
            st2 = os.path.join(self.tmp, "with-dead.json")
            with open(st2, "w") as f:
                json.dump({"stations": st["stations"] + [dead]}, f)
            t = int(time.time()) + 8
            ps = [self.record(sim.stations, os.path.join(self.tmp, "a"),
                              iso(t)),
                  self.record(st2, os.path.join(self.tmp, "b"), iso(t))]
            outs = [p.communicate(timeout=120) for p in ps]
        self.assertEqual(ps[0].returncode, 0, outs[0][1])
        # b: Dead's chunks are missing (75), the others stored
        self.assertEqual(ps[1].returncode, 75, outs[1][1])
        ev = [[json.loads(l) for l in o.splitlines()] for o, _ in outs]
        for k in (0, 1):
            pre = [e["data"] for e in ev[k]
                   if e["event"] == "session:preflight"]
            self.assertEqual(len(pre), 1, ev[k])
            self.assertEqual(pre[0]["start_at"], iso(t)[:-1] + ".000000Z")
            self.assertGreater(pre[0]["seconds_ahead"], 0)
            # said before any chunk
            first = [i for i, e in enumerate(ev[k])
                     if e["event"] == "session:measurement"][0]
            self.assertLess([i for i, e in enumerate(ev[k])
                             if e["event"] == "session:preflight"][0], first)
        pre_b = [e["data"] for e in ev[1]
                 if e["event"] == "session:preflight"][0]
        self.assertEqual([r["station"] for r in pre_b["not_ready"]],
                         ["Dead"])
        self.assertTrue(pre_b["not_ready"][0]["reason"])
        self.assertEqual(len(pre_b["ready"]), 3)
        rows = []
        for d in ("a", "b"):
            m, _ = h.manifest(os.path.join(self.tmp, d))
            self.assertEqual(m["session"]["start_at"],
                             iso(t)[:-1] + ".000000Z")
            # linked alike without a --group: the instant and frequency
            self.assertEqual(m["session"]["group_id"], "at:%s.000Z:10000000"
                             % time.strftime("%Y%m%dT%H%M%S", time.gmtime(t)))
            rows.append({(r["websdr"], r["chunk_index"]): r
                         for r in m["measurements"]})
        self.assertEqual(len(rows[0]), 9)
        self.assertEqual(set(rows[0]), set(rows[1]))
        gps = 0
        for key, a in rows[0].items():
            b = rows[1][key]
            start = t + key[1]
            for r in (a, b):
                # chunk k starts at the instant + k s, within a sample
                ts = calendar.timegm(time.strptime(r["timestamp"][:19],
                                                   "%Y-%m-%dT%H:%M:%S")) + \
                    float("0." + r["timestamp"][20:-1])
                self.assertLess(abs(ts - start), 1.0 / r["iq_sample_rate"],
                                r)
            if a.get("t0_ns") is not None and b.get("t0_ns") is not None:
                gps += 1
                self.assertLess(abs(a["t0_ns"] - b["t0_ns"]),
                                1e9 / a["sample_rate_hz"], (a, b))
        self.assertGreaterEqual(gps, 6)      # stations 1 and 3, 3 chunks

    def test_refused(self):
        with h.Sim(1, tmp=self.tmp) as sim:
            d = os.path.join(self.tmp, "r")
            for at, why in (("+1s", "at least"),
                            (iso(time.time() + 2), "at least"),
                            ("tomorrow", "ISO 8601"),
                            ("+8d", "ISO 8601"),
                            (iso(time.time() + 9 * 86400), "days ahead")):
                p = self.record(sim.stations, d, at)
                out, err = p.communicate(timeout=60)
                self.assertEqual(p.returncode, 64, (at, err))
                self.assertIn(why, err, at)
                self.assertIn("--at", err, at)


if __name__ == "__main__":
    unittest.main(verbosity=2)
