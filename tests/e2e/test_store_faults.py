"""test_store_faults.py -- nothing is lost when the central store fails.

Real servers (servers.py), simulated receivers, the real binary. Each test
ends with the exact count check of test_store.check_central: rows in
PostgreSQL = chunks x receivers = objects in the bucket, every object's
bytes equal to the local file.
  - the database stopped mid-session and started again 10 s later;
  - the database frozen (SIGSTOP) for 8 s: statements time out, retried;
  - the S3 server stopped mid-session and started again;
  - the recorder killed with SIGKILL mid-replication, then the next run
    (a new `record`) pushes what the killed one left;
  - `sync` facing a frozen database keeps to --timeout (its connection
    is opened while the manifests are parsed) and loses nothing."""

import json, os, signal, subprocess, sys, tempfile, time, unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h
import servers
from test_store import check_central

REC = h.REC


def start_record(sim, data, pg, s3, duration, name, extra=()):
    return subprocess.Popen(
        [REC, "record", "--stations", sim.stations, "--data-dir", data,
         "--name", name, "--freq", "10", "--duration", str(duration),
         "--source", "unknown", "--json", "--db", pg.url(), "--s3", s3.url,
         "--sync-timeout", "120"] + list(extra),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=s3.env())


def finish(p, timeout=240):
    out, err = p.communicate(timeout=timeout)
    return p.returncode, [json.loads(l) for l in out.splitlines()], err


def wait_chunks(data, n, timeout=30):
    """Until n chunk files are in the spool (the session is under way)."""
    end = time.time() + timeout
    while time.time() < end:
        c = 0
        for root, dirs, files in os.walk(os.path.join(data, "sessions")):
            c += sum(f.endswith(".npy") for f in files)
        if c >= n:
            return
        time.sleep(0.05)
    raise AssertionError("no %d chunks after %d s" % (n, timeout))


def store_states(events, store):
    return [e["data"][store]["state"] for e in events
            if e["event"] == "store:status"]


class StoreFaults(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hr-sfault-")
        self.data = os.path.join(self.tmp, "data")
        self.pg = servers.Pg()
        self.s3 = servers.S3()

    def tearDown(self):
        self.pg.close()
        self.s3.close()
        h.rmtree(self.tmp)

    def test_db_down_10s(self):
        with h.Sim(3, tmp=self.tmp) as sim:
            p = start_record(sim, self.data, self.pg, self.s3, 15, "db-down")
            wait_chunks(self.data, 6)
            self.pg.stop()
            time.sleep(10)
            self.pg.start()
            rc, events, err = finish(p)
        self.assertEqual(rc, 0, err)
        self.assertIn("error", store_states(events, "db"))
        self.assertEqual(store_states(events, "db")[-1], "ok")
        m, d = h.manifest(self.data)
        self.assertEqual(m["session"]["status"], "completed")
        check_central(self, self.pg, self.s3, self.data, m["session"]["id"],
                      45)
        self.assertEqual(self.pg.scalar(
            "SELECT status FROM heimdall.recording_sessions"), "completed")

    def test_db_hangs(self):
        """A frozen server (SIGSTOP: the TCP connection stays up, nothing
        answers) costs --db-timeout per try, not the recording."""
        with h.Sim(3, tmp=self.tmp) as sim:
            p = start_record(sim, self.data, self.pg, self.s3, 12,
                             "db-hangs", ["--db-timeout", "2"])
            wait_chunks(self.data, 6)
            self.pg.pause()
            time.sleep(8)
            self.pg.resume()
            rc, events, err = finish(p)
        self.assertEqual(rc, 0, err)
        errors = [e["data"]["db"]["error"] for e in events
                  if e["event"] == "store:status" and
                  e["data"]["db"]["state"] == "error"]
        self.assertTrue(any("no answer from the database in 2 s" in x
                            for x in errors), errors)
        m, d = h.manifest(self.data)
        self.assertEqual(m["session"]["status"], "completed")
        check_central(self, self.pg, self.s3, self.data, m["session"]["id"],
                      36)

    def test_s3_down(self):
        with h.Sim(3, tmp=self.tmp) as sim:
            p = start_record(sim, self.data, self.pg, self.s3, 12, "s3-down")
            wait_chunks(self.data, 6)
            self.s3.stop()
            time.sleep(6)
            self.s3.start()
            rc, events, err = finish(p)
        self.assertEqual(rc, 0, err)
        self.assertIn("error", store_states(events, "s3"))
        self.assertEqual(store_states(events, "s3")[-1], "ok")
        m, d = h.manifest(self.data)
        check_central(self, self.pg, self.s3, self.data, m["session"]["id"],
                      36)
        self.assertEqual(self.s3.refused(), [])

    def test_sigkill_then_next_run(self):
        with h.Sim(12, tmp=self.tmp) as sim:
            p = start_record(sim, self.data, self.pg, self.s3, 10, "killed")
            wait_chunks(self.data, 12 * 4)
            p.send_signal(signal.SIGKILL)
            p.communicate(timeout=30)
            self.assertEqual(p.returncode, -signal.SIGKILL)
            # the central store has part of it at most
            got = int(self.pg.scalar(
                "SELECT count(*) FROM heimdall.measurements"))
            self.assertLess(got, 120)
            self.assertGreater(got, 0)     # it was replicating
            # the next run: a new session, and the killed one's rest
            rc, events, err = finish(start_record(
                sim, self.data, self.pg, self.s3, 1, "next"))
        self.assertEqual(rc, 0, err)
        sessions = {}
        for sid in os.listdir(os.path.join(self.data, "sessions")):
            m, d = h.manifest(self.data, sid)
            sessions[m["session"]["session_name"]] = m
        killed = sessions["killed"]
        self.assertEqual(killed["session"]["status"], "failed")
        n = len(killed["measurements"])
        # the kill can fall between a chunk's files and its rows: those
        # chunks are kept and listed as orphans, not counted as rows
        self.assertGreaterEqual(n + len(killed.get("orphans", [])), 12 * 4,
                                killed.get("orphans"))
        self.assertGreaterEqual(n, 12 * 3)
        self.assertEqual(n % 12, 0)
        check_central(self, self.pg, self.s3, self.data,
                      killed["session"]["id"], n)
        check_central(self, self.pg, self.s3, self.data,
                      sessions["next"]["session"]["id"], 12)
        self.assertEqual(self.pg.psql(
            "SELECT session_name, status FROM heimdall.recording_sessions "
            "ORDER BY session_start"), [["killed", "failed"],
                                        ["next", "completed"]])
        self.assertEqual(self.pg.scalar(
            "SELECT count(*) FROM heimdall.measurements"), str(n + 12))

    def test_sync_db_frozen(self):
        """sync opens its connection while it parses the manifests: a
        database that accepts and never answers must still let it exit
        with 75 near --timeout (plus libpq's 5-s connect_timeout), say
        why, keep the data, and the next sync sends all of it."""
        with h.Sim(2, tmp=self.tmp) as sim:
            r = subprocess.run(
                [REC, "record", "--stations", sim.stations, "--data-dir",
                 self.data, "--name", "local", "--freq", "10",
                 "--duration", "2", "--source", "unknown"],
                capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        m, d = h.manifest(self.data)
        sync = [REC, "sync", "--data-dir", self.data, "--db", self.pg.url(),
                "--s3", self.s3.url]
        self.pg.pause()
        try:
            t = time.monotonic()
            r = subprocess.run(sync + ["--timeout", "2"], capture_output=True,
                               text=True, timeout=60, env=self.s3.env())
            took = time.monotonic() - t
        finally:
            self.pg.resume()
        self.assertEqual(r.returncode, 75, r.stderr)
        # ~7 s expected (--timeout 2, then libpq's 5-s connect_timeout as
        # the thread is joined); 15 leaves room for a loaded machine and
        # the sanitizers, and still fails a blind join (30 s)
        self.assertLess(took, 15, r.stderr)
        self.assertIn("cannot connect to the database", r.stderr)
        self.assertIn("run sync again", r.stderr)
        # connected, but the schema check waits on a lock held elsewhere:
        # the statement is abandoned at --timeout, not when the lock goes
        subprocess.run([REC, "db", "migrate", "--db", self.pg.url()],
                       check=True, capture_output=True, timeout=60)
        lock = subprocess.Popen(
            ["psql", self.pg.url(), "-c", "BEGIN; LOCK TABLE "
             "heimdall.schema_migrations IN ACCESS EXCLUSIVE MODE; "
             "SELECT pg_sleep(30); COMMIT;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):
                if self.pg.scalar("SELECT count(*) FROM pg_locks WHERE "
                                  "mode = 'AccessExclusiveLock' AND "
                                  "relation = 'heimdall.schema_migrations'"
                                  "::regclass") == "1":
                    break
                time.sleep(0.1)
            t = time.monotonic()
            r = subprocess.run(sync + ["--timeout", "2"], capture_output=True,
                               text=True, timeout=60, env=self.s3.env())
            took = time.monotonic() - t
        finally:
            lock.kill()
            lock.wait()
            # the server's side sleeps on until told
            self.pg.scalar("SELECT count(pg_terminate_backend(pid)) FROM "
                           "pg_stat_activity WHERE query LIKE "
                           "'%pg_sleep(30)%' AND pid <> pg_backend_pid()")
        self.assertEqual(r.returncode, 75, r.stderr)
        self.assertLess(took, 5, r.stderr)
        self.assertEqual(self.pg.scalar(
            "SELECT count(*) FROM heimdall.measurements"), "0")
        r = subprocess.run(sync + ["--timeout", "60"], capture_output=True,
                           text=True, timeout=120, env=self.s3.env())
        self.assertEqual(r.returncode, 0, r.stderr)
        check_central(self, self.pg, self.s3, self.data, m["session"]["id"],
                      4)


if __name__ == "__main__":
    unittest.main(verbosity=2)
