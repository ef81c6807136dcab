"""test_store.py -- the central store end to end, with real servers: a
PostgreSQL cluster and an S3 server (s3rver behind an aws4 SigV4 verifier).

7 simulated stations x 5 s recorded with --db and --s3: exactly 35 rows in
PostgreSQL and 35 objects in the bucket (read back with the minio client),
every object's bytes equal to the local file, metadata set; `db migrate`
applied once (twice is a no-op, four at once do not collide); `status`
and `sync --full` (idempotent: still 35 and 35); wrong S3 secret and wrong
database password: a clear error, nothing lost, the spool kept and pushed
by `sync` once the credentials are right."""

import hashlib, json, os, signal, subprocess, sys, tempfile, time, unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness as h
import servers

REC = h.REC


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run(args, env=None, timeout=180):
    return subprocess.run([REC] + args, capture_output=True, text=True,
                          env=env, timeout=timeout)


def check_central(t, pg, s3, data, sid, n_rows):
    """The exact count check: rows = objects = n_rows, bytes equal."""
    m, d = h.manifest(data, sid)
    rows = m["measurements"]
    t.assertEqual(len(rows), n_rows)
    got = pg.psql("SELECT count(*), count(DISTINCT (websdr, chunk_index)), "
                  "count(DISTINCT iq_data_location) FROM heimdall.measurements "
                  "WHERE recording_session_id = '%s'" % sid)[0]
    t.assertEqual([int(x) for x in got], [n_rows] * 3)
    # every local row is there, with its id, key and values
    db = {r[0]: r for r in pg.psql(
        "SELECT id, iq_data_location, chunk_index, websdr, iq_samples_count, "
        "frequency_hz, to_char(\"timestamp\" AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), to_char(first_sample_utc AT "
        "TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
        "time_source, t0_ns, sample_rate_hz FROM heimdall.measurements "
        "WHERE recording_session_id = '%s'" % sid)}
    for r in rows:
        c = db[r["id"]]
        t.assertEqual(c[1], r["iq_data_location"])
        t.assertEqual(int(c[2]), r["chunk_index"])
        t.assertEqual(int(c[3]), r["websdr"])
        t.assertEqual(int(c[4]), r["iq_samples_count"])
        t.assertEqual(int(c[5]), round(r["frequency_hz"]))
        t.assertEqual(c[6], r["timestamp"])
        t.assertEqual(c[7], r["timestamp"])
        # the first sample's time to the nanosecond, digit for digit (a
        # bigint: NULL, printed empty, when the row has none)
        t.assertEqual(c[8], r["time_source"])
        if r.get("t0_ns") is None:
            t.assertEqual((c[9], c[10]), ("", ""), r)
        else:
            t.assertEqual(int(c[9]), r["t0_ns"])
            t.assertEqual(float(c[10]), r["sample_rate_hz"])
    objs = s3.objects("sessions/%s/" % sid)
    t.assertEqual(len(objs), n_rows)
    t.assertEqual(set(objs), {r["iq_data_location"] for r in rows})
    for r in rows:
        o = objs[r["iq_data_location"]]
        t.assertEqual(o["sha256"], sha256(os.path.join(data,
                                                       r["iq_data_location"])))
    return rows, objs


class StoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hr-store-")
        cls.data = os.path.join(cls.tmp, "data")
        cls.pg = servers.Pg()
        cls.s3 = servers.S3()
        cls.mig1 = run(["db", "migrate", "--db", cls.pg.url()])
        cls.mig2 = run(["db", "migrate", "--db", cls.pg.url()])
        with h.Sim(7, tmp=cls.tmp) as sim:
            cls.sim_stations = sim.stations
            p = subprocess.run(
                [REC, "record", "--stations", sim.stations, "--data-dir",
                 cls.data, "--name", "store", "--freq", "10", "--duration",
                 "5", "--source", "unknown", "--json", "--db", cls.pg.url(),
                 "--s3", cls.s3.url],
                capture_output=True, text=True, env=cls.s3.env(), timeout=180)
        cls.rc, cls.err = p.returncode, p.stderr
        cls.events = [json.loads(l) for l in p.stdout.splitlines()]
        cls.m, cls.dir = h.manifest(cls.data)
        cls.sid = cls.m["session"]["id"]

    @classmethod
    def tearDownClass(cls):
        cls.pg.close()
        cls.s3.close()
        h.rmtree(cls.tmp)

    def test_1_migrate_once(self):
        self.assertEqual(self.mig1.returncode, 0, self.mig1.stderr)
        self.assertIn("applied 3 migrations", self.mig1.stdout)
        self.assertEqual(self.mig2.returncode, 0, self.mig2.stderr)
        self.assertIn("up to date", self.mig2.stdout)
        self.assertEqual(self.pg.psql(
            "SELECT version FROM heimdall.schema_migrations ORDER BY 1"),
            [["001_schema"], ["002_timescaledb"], ["003_sample_time"]])
        self.assertEqual(self.pg.psql(
            "SELECT column_name, data_type, is_nullable FROM "
            "information_schema.columns WHERE table_schema = 'heimdall' "
            "AND table_name = 'measurements' AND column_name IN "
            "('t0_ns', 'sample_rate_hz') ORDER BY 1"),
            [["sample_rate_hz", "double precision", "YES"],
             ["t0_ns", "bigint", "YES"]])
        # the six states, and "Unknown" made to work by a unique name
        with self.assertRaises(RuntimeError):
            self.pg.psql("INSERT INTO heimdall.recording_sessions (id, "
                         "session_name, session_start, status) VALUES "
                         "(gen_random_uuid(), 'x', now(), 'bogus')")
        self.assertEqual(self.pg.scalar(
            "SELECT count(*) FROM heimdall.known_sources WHERE name = "
            "'Unknown'"), "1")
        self.pg.psql("INSERT INTO heimdall.known_sources (name) VALUES "
                     "('Unknown') ON CONFLICT (name) DO NOTHING")
        # no TimescaleDB here: a plain table with the same indexes
        idx = {r[0] for r in self.pg.psql(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'heimdall' "
            "AND tablename = 'measurements'")}
        self.assertTrue({"measurements_pkey", "measurements_session_idx",
                         "measurements_station_time_idx"} <= idx, idx)

    def test_2_concurrent_migrate(self):
        self.pg.psql("CREATE DATABASE race")
        url = self.pg.url("race")
        ps = [subprocess.Popen([REC, "db", "migrate", "--db", url],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True) for _ in range(4)]
        outs = [p.communicate(timeout=60) + (p.returncode,) for p in ps]
        for o, e, rc in outs:
            self.assertEqual(rc, 0, e)
        self.assertEqual(sum("applied 3" in o for o, e, rc in outs), 1, outs)
        self.assertEqual(sum("up to date" in o for o, e, rc in outs), 3, outs)
        self.assertEqual(self.pg.scalar(
            "SELECT count(*) FROM heimdall.schema_migrations", "race"), "3")

    def test_3_exact_counts(self):
        self.assertEqual(self.rc, 0, self.err)
        self.assertEqual(self.m["session"]["status"], "completed")
        rows, objs = check_central(self, self.pg, self.s3, self.data,
                                   self.sid, 35)
        # the session, its source and its stations
        s = self.pg.psql("SELECT status, session_name, k.name, "
                         "r.frequency_hz, duration_seconds FROM "
                         "heimdall.recording_sessions r JOIN "
                         "heimdall.known_sources k ON k.id = "
                         "r.known_source_id WHERE r.id = '%s'" % self.sid)
        self.assertEqual(s, [["completed", "store", "Unknown", "10000000",
                              "5"]])
        self.assertEqual(self.pg.scalar(
            "SELECT count(*) FROM heimdall.websdr_stations"), "7")
        # GPS-timed rows (the odd stations) carry t0_ns; the others do
        # not, and say why (time_source): check_central compared them all
        self.assertEqual(self.pg.psql(
            "SELECT mod(websdr, 2), time_source, count(t0_ns), "
            "count(sample_rate_hz), count(*) FROM heimdall.measurements "
            "WHERE recording_session_id = '%s' GROUP BY 1, 2 ORDER BY 1"
            % self.sid),
            [["0", "local", "0", "0", "15"], ["1", "gps", "20", "20", "20"]])
        # every row's station is the one named in the row
        self.assertEqual(self.pg.scalar(
            "SELECT count(*) FROM heimdall.measurements m JOIN "
            "heimdall.websdr_stations s ON s.id = m.websdr_station_id "
            "WHERE s.name = 'Sim ' || m.websdr"), "35")
        # object metadata
        r = rows[0]
        md = {k.lower(): v for k, v in
              objs[r["iq_data_location"]]["metadata"].items()}
        self.assertEqual(md["session-id"], self.sid)
        self.assertEqual(int(md["chunk-index"]), r["chunk_index"])
        self.assertEqual(int(md["websdr"]), r["websdr"])
        self.assertEqual(int(md["samples"]), r["iq_samples_count"])
        self.assertAlmostEqual(float(md["sample-rate"]), r["iq_sample_rate"],
                               places=3)
        self.assertEqual(md["content-type"], "application/octet-stream")
        # every request passed the independent SigV4 check
        self.assertEqual(self.s3.refused(), [])

    def test_4_events_and_ledger(self):
        st = [e["data"] for e in self.events if e["event"] == "store:status"]
        self.assertTrue(st)
        self.assertEqual(st[-1]["pending_rows"], 0)
        self.assertEqual(st[-1]["pending_objects"], 0)
        self.assertEqual(st[-1]["db"]["state"], "ok")
        self.assertEqual(st[-1]["s3"]["state"], "ok")
        with open(os.path.join(self.dir, "replica.log")) as f:
            lines = f.read().splitlines()
        self.assertEqual(sum(l.startswith("r ") for l in lines), 35)
        self.assertEqual(sum(l.startswith("o ") for l in lines), 35)
        self.assertIn("Fd", lines)
        self.assertIn("Fs", lines)
        self.assertIn("s completed", lines)

    def test_5_status_and_full_resync(self):
        p = run(["status", "--data-dir", self.data, "--json"])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        j = json.loads(p.stdout)
        self.assertEqual((j["pending_rows"], j["pending_objects"]), (0, 0))
        # everything again: both stores ignore what they have
        p = run(["sync", "--data-dir", self.data, "--db", self.pg.url(),
                 "--s3", self.s3.url, "--full", "--timeout", "60"],
                env=self.s3.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        check_central(self, self.pg, self.s3, self.data, self.sid, 35)
        self.assertEqual(self.pg.scalar(
            "SELECT count(*) FROM heimdall.measurements"), "35")

    def test_6_wrong_s3_secret(self):
        data = os.path.join(self.tmp, "data-s3")
        with h.Sim(2, tmp=tempfile.mkdtemp(dir=self.tmp)) as sim:
            p = subprocess.run(
                [REC, "record", "--stations", sim.stations, "--data-dir",
                 data, "--name", "wrong-secret", "--freq", "10",
                 "--duration", "2", "--source", "unknown", "--db",
                 self.pg.url(), "--s3", self.s3.url, "--sync-timeout", "3"],
                capture_output=True, text=True,
                env=self.s3.env(secret="not-the-secret"), timeout=120)
        # the session itself is fine; the error names the cause
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("access denied", p.stderr)
        self.assertIn("AWS_SECRET_ACCESS_KEY", p.stderr)
        self.assertIn("kept in", p.stderr)
        self.assertTrue(any("SignatureDoesNotMatch" in l
                            for l in self.s3.refused()))
        m, d = h.manifest(data)
        sid = m["session"]["id"]
        # nothing lost: 4 chunks in the spool, none in the bucket, and no
        # row names an object the bucket lacks
        self.assertEqual(len(m["measurements"]), 4)
        self.assertEqual(len([f for f in os.listdir(d)
                              if f.endswith(".npy")]), 4)
        self.assertEqual(self.s3.objects("sessions/%s/" % sid), {})
        self.assertEqual(self.pg.scalar(
            "SELECT count(*) FROM heimdall.measurements WHERE "
            "recording_session_id = '%s'" % sid), "0")
        p = run(["status", "--data-dir", data])
        self.assertEqual(p.returncode, 75, p.stdout)
        self.assertIn("4 rows and 4 objects pending", p.stdout)
        self.assertIn("access denied", p.stdout)
        # right secret: sync sends it all
        p = run(["sync", "--data-dir", data, "--db", self.pg.url(),
                 "--s3", self.s3.url, "--timeout", "60"], env=self.s3.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        check_central(self, self.pg, self.s3, data, sid, 4)
        p = run(["status", "--data-dir", data])
        self.assertEqual(p.returncode, 0, p.stdout)

    def test_7_wrong_db_password(self):
        data = os.path.join(self.tmp, "data-db")
        env = dict(os.environ, PGPASSWORD="wrong")
        url = self.pg.url(user="heimdall")
        with h.Sim(2, tmp=tempfile.mkdtemp(dir=self.tmp)) as sim:
            p = subprocess.run(
                [REC, "record", "--stations", sim.stations, "--data-dir",
                 data, "--name", "wrong-pw", "--freq", "10", "--duration",
                 "2", "--source", "unknown", "--db", url, "--sync-timeout",
                 "2"], capture_output=True, text=True, env=env, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("password authentication failed", p.stderr)
        m, d = h.manifest(data)
        sid = m["session"]["id"]
        self.assertEqual(len(m["measurements"]), 4)
        self.assertEqual(self.pg.scalar(
            "SELECT count(*) FROM heimdall.recording_sessions WHERE "
            "id = '%s'" % sid), "0")
        # the password never on the command line
        p = run(["db", "migrate", "--db",
                 "postgresql://heimdall:secret@127.0.0.1:1/x"])
        self.assertEqual(p.returncode, 64)
        self.assertIn("PGPASSWORD", p.stderr)
        # right password (from the environment): sync
        self.pg.psql("GRANT USAGE ON SCHEMA heimdall TO heimdall; "
                     "GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA "
                     "heimdall TO heimdall")
        env["PGPASSWORD"] = servers.PG_PASSWORD
        p = run(["sync", "--data-dir", data, "--db", url, "--timeout", "60"],
                env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.pg.scalar(
            "SELECT count(*) FROM heimdall.measurements WHERE "
            "recording_session_id = '%s'" % sid), "4")

    def test_8_serve_replicates(self):
        """serve --db --s3: a session run over the WebSocket API (npm ws)
        reaches the central store like a scripted one, exact counts; /health
        reports the replicator."""
        from test_serve import node
        sub = tempfile.mkdtemp(dir=self.tmp)
        data = os.path.join(sub, "data")
        with h.Sim(7, tmp=sub) as sim:
            p = subprocess.Popen(
                [REC, "serve", "--listen", "127.0.0.1:0", "--stations",
                 sim.stations, "--data-dir", data, "--db", self.pg.url(),
                 "--s3", self.s3.url], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, env=self.s3.env())
            try:
                line = p.stdout.readline()
                self.assertTrue(line.startswith("listening on "), line)
                http = line.split()[2].rstrip("/")
                r = node("flow.js", http.replace("http", "ws", 1) + "/ws",
                         7, 5, 10)
                self.assertEqual(r.returncode, 0, r.stderr + r.stdout)
                sid = json.loads(r.stdout)["session_id"]
                end = time.time() + 60
                while True:
                    with urllib.request.urlopen(http + "/health",
                                                timeout=10) as f:
                        cs = json.loads(f.read())["central_store"]
                    if (cs["pending_rows"] == 0 and
                            cs["pending_objects"] == 0 and
                            self.pg.scalar(
                                "SELECT count(*) FROM heimdall.measurements "
                                "WHERE recording_session_id = '%s'" % sid)
                            == "35"):
                        break
                    self.assertLess(time.time(), end, cs)
                    time.sleep(0.2)
                self.assertEqual(cs["db"]["state"], "ok", cs)
                self.assertEqual(cs["s3"]["state"], "ok", cs)
                check_central(self, self.pg, self.s3, data, sid, 35)
            finally:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                rc = p.wait(30)
                err = p.stderr.read()
                p.stdout.close()
                p.stderr.close()
        self.assertEqual(rc, 0, err[-3000:])

    def test_9_old_manifest(self):
        """A session recorded before t0_ns existed (its rows lack t0_ns and
        sample_rate_hz) still loads and syncs: NULL in both columns."""
        import shutil, uuid
        src = os.path.join(self.data, "sessions", self.sid)
        new = str(uuid.uuid4())
        dst = os.path.join(self.data, "sessions", new)
        shutil.copytree(src, dst)
        os.unlink(os.path.join(dst, "replica.log"))
        with open(os.path.join(dst, "manifest.json")) as f:
            m = json.load(f)
        m["session"]["id"] = new
        m["session"]["session_name"] = "old"
        for r in m["measurements"]:
            r["id"] = str(uuid.uuid4())
            r["recording_session_id"] = new
            r["iq_data_location"] = r["iq_data_location"].replace(self.sid,
                                                                  new)
            del r["t0_ns"], r["sample_rate_hz"]
        with open(os.path.join(dst, "manifest.json"), "w") as f:
            json.dump(m, f)
        p = run(["sync", "--data-dir", self.data, "--db", self.pg.url(),
                 "--s3", self.s3.url, "--timeout", "60"], env=self.s3.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        check_central(self, self.pg, self.s3, self.data, new, 35)
        self.assertEqual(self.pg.psql(
            "SELECT count(*), count(t0_ns), count(sample_rate_hz) FROM "
            "heimdall.measurements WHERE recording_session_id = '%s'" % new),
            [["35", "0", "0"]])
        p = run(["sessions", "--data-dir", self.data, "--json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(new, p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
