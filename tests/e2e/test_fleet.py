"""test_fleet.py -- many field stations, one central store (issue 16).

Five recorder processes (their own data folders, stations files and
--recorder-host) record at the same time and replicate to one PostgreSQL
and one S3 server (tests/e2e/servers.py: real servers, SigV4 checked).
Recorders 0 and 1 both list one receiver under the same name. In the
middle, the database is frozen for a few seconds (SIGSTOP: a hung host)
and recorder 2 is killed (SIGKILL) and started again in its folder. At
the end, centrally, for every recorder: rows = the chunks its folder
holds, exactly; every object's bytes equal its local file; one "Unknown"
source; each station name once; no id shared between recorders.
"""

import glob, json, os, signal, subprocess, sys, tempfile, time, unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h
import servers
from test_store import check_central

REC = h.REC
RECORDERS = 5
PER = 3            # receivers per recorder (one shared by 0 and 1)
DURATION = 8


def rows_of(folder):
    """The measurement rows of a session folder (its manifest: an
    interrupted session's was completed from its rows files when the
    recorder opened the dataset again), checked against its chunk files."""
    with open(os.path.join(folder, "manifest.json")) as f:
        rows = json.load(f)["measurements"]
    chunks = glob.glob(os.path.join(folder, "chunk_*.npy"))
    assert len(chunks) == len(rows), (folder, len(chunks), len(rows))
    return rows


class FleetTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hr-fleet-")
        cls.pg = servers.Pg()
        cls.s3 = servers.S3()
        p = subprocess.run([REC, "db", "migrate", "--db", cls.pg.url()],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        sim = h.Sim(RECORDERS * PER, tmp=cls.tmp)
        cls.sim = sim
        with open(sim.stations) as f:
            all_st = json.load(f)["stations"]
        cls.files, cls.data = [], []
        for k in range(RECORDERS):
            mine = [dict(s) for s in all_st[k * PER:(k + 1) * PER]]
            for i, s in enumerate(mine):
                s["name"] = "field%d-rx%d" % (k, i)
            if k == 1:
                # the same receiver, by the same name, as recorder 0's
                mine[0] = dict(all_st[0], name="field0-rx0")
            path = os.path.join(cls.tmp, "stations-%d.json" % k)
            with open(path, "w") as f:
                json.dump({"stations": mine}, f)
            cls.files.append(path)
            cls.data.append(os.path.join(cls.tmp, "data-%d" % k))
        env = cls.s3.env()

        def start(k, name, duration):
            return subprocess.Popen(
                [REC, "record", "--stations", cls.files[k], "--data-dir",
                 cls.data[k], "--name", name, "--freq", "10", "--duration",
                 str(duration), "--source", "unknown", "--db", cls.pg.url(),
                 "--s3", cls.s3.url, "--recorder-host", "field-%d" % k,
                 "--group", "fleet:1", "--sync-timeout", "60",
                 "--db-timeout", "5"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                text=True, env=env)

        procs = [start(k, "fleet-%d" % k, DURATION) for k in range(RECORDERS)]
        time.sleep(3)
        cls.pg.pause()
        procs[2].kill()               # SIGKILL, mid-session
        procs[2].wait()
        time.sleep(3)
        cls.pg.resume()
        again = start(2, "fleet-2-again", 3)
        cls.results = [(p.wait(timeout=180), p.stderr.read())
                       for p in procs[:2] + procs[3:] + [again]]
        for p in procs + [again]:
            p.stderr.close()
        sim.close()

    @classmethod
    def tearDownClass(cls):
        cls.sim.close()
        cls.pg.close()
        cls.s3.close()
        h.rmtree(cls.tmp)

    def sessions(self, k):
        return sorted(glob.glob(os.path.join(self.data[k], "sessions", "*")))

    def test_1_recorders_finished(self):
        for rc, err in self.results:
            self.assertIn(rc, (0, 75), err)
        # the killed recorder's session is kept (interrupted, its finished
        # chunks only) and its second run recorded another
        self.assertEqual(len(self.sessions(2)), 2)
        by_name = {}
        for folder in self.sessions(2):
            with open(os.path.join(folder, "manifest.json")) as f:
                m = json.load(f)
            by_name[m["session"]["session_name"]] = (m, folder)
        killed, folder = by_name["fleet-2"]
        self.assertEqual(killed["session"]["status"], "failed")
        self.assertIn("interrupted", killed["session"]["failure_reason"])
        self.assertLess(len(rows_of(folder)), DURATION * PER)
        self.assertEqual(by_name["fleet-2-again"][0]["session"]["status"],
                         "completed")

    def test_2_rows_and_objects_exact(self):
        total = 0
        for k in range(RECORDERS):
            for folder in self.sessions(k):
                sid = os.path.basename(folder)
                rows = rows_of(folder)
                self.assertGreater(len(rows), 0, folder)
                # rows, row for row, and every object byte for byte
                check_central(self, self.pg, self.s3, self.data[k], sid,
                              len(rows))
                total += len(rows)
                host = self.pg.scalar(
                    "SELECT recorder_host FROM heimdall.recording_sessions "
                    "WHERE id = '%s'" % sid)
                self.assertEqual(host, "field-%d" % k)
        # the sessions that were not killed have every chunk
        for k in (0, 1, 3, 4):
            rows = rows_of(self.sessions(k)[0])
            self.assertEqual(len(rows), DURATION * PER, k)
        # nothing else is there, and no id is shared between recorders
        self.assertEqual(int(self.pg.scalar(
            "SELECT count(*) FROM heimdall.measurements")), total)
        self.assertEqual(int(self.pg.scalar(
            "SELECT count(DISTINCT id) FROM heimdall.measurements")), total)
        self.assertEqual(int(self.pg.scalar(
            "SELECT count(*) FROM heimdall.recording_sessions")),
            sum(len(self.sessions(k)) for k in range(RECORDERS)))

    def test_3_shared_rows_once(self):
        self.assertEqual(self.pg.scalar(
            "SELECT count(*) FROM heimdall.known_sources WHERE name = "
            "'Unknown'"), "1")
        names = [r[0] for r in self.pg.psql(
            "SELECT name FROM heimdall.websdr_stations ORDER BY name")]
        want = sorted(set("field%d-rx%d" % (k, i) for k in range(RECORDERS)
                          for i in range(PER) if not (k == 1 and i == 0)))
        self.assertEqual(names, want)
        # both recorders' sessions point at the one shared row
        self.assertEqual(self.pg.scalar(
            "SELECT count(DISTINCT s.recorder_host) FROM "
            "heimdall.measurements m JOIN heimdall.websdr_stations w ON "
            "w.id = m.websdr_station_id JOIN heimdall.recording_sessions s "
            "ON s.id = m.recording_session_id WHERE w.name = 'field0-rx0'"),
            "2")
        # the group links the five recorders' sessions
        self.assertEqual(self.pg.scalar(
            "SELECT count(DISTINCT recorder_host) FROM "
            "heimdall.recording_sessions WHERE group_id = 'fleet:1'"), "5")


if __name__ == "__main__":
    unittest.main(verbosity=2)
