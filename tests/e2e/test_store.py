"""test_store.py -- the central store end to end, with real servers: a
PostgreSQL cluster and an S3 server (s3rver behind an aws4 SigV4 verifier).

7 simulated stations x 5 s recorded with --db and --s3: exactly 35 rows in
PostgreSQL and 35 objects in the bucket (read back with the minio client),
every object's bytes equal to the local file, metadata set; `db migrate`
applied once (twice is a no-op, four at once do not collide); `status`
and `sync --full` (idempotent: still 35 and 35); wrong S3 secret and wrong
database password: a clear error, nothing lost, the spool kept and pushed
by `sync` once the credentials are right. Localization (sql/004): the
session's TDoA and fix rows (the manifest's "tdoa" and "fixes") land in
tdoa_measurements and position_fixes equal to the manifest's; a session
whose database was down is caught up by `sync --db`, a re-sync and a lost
ledger add nothing, a bad row is left out and named; 004 applies on a
database at 003."""

import hashlib, json, os, signal, socket, subprocess, sys, tempfile, time, unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness as h
import servers

# every migration the binary carries (sql/NNN_*.sql, compiled in)
SQL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "sql")
N_MIGRATIONS = len([f for f in os.listdir(SQL_DIR) if f[:3].isdigit() and
                    f.endswith(".sql")])

REC = h.REC


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run(args, env=None, timeout=180):
    return subprocess.run([REC] + args, capture_output=True, text=True,
                          env=env, timeout=timeout)


TDOA_COLS = ("chunk_index", "websdr_a", "websdr_b", "tdoa_us", "sigma_us",
             "quality", "corr")
FIX_COLS = ("chunk_index", "final", "ok", "reason", "latitude", "longitude",
            "semi_major_m", "semi_minor_m", "orientation_deg", "cep50_m",
            "cep95_m", "receivers", "pairs_used", "error_m", "worst_websdr",
            "worst_residual_us")


def pg_value(text, like):
    """A psql field read back as the manifest's JSON value."""
    if text == "":
        return None
    if isinstance(like, bool):
        return text == "t"
    if isinstance(like, list):
        return [int(x) for x in text.strip("{}").split(",") if x]
    if isinstance(like, int):
        return int(text)
    if isinstance(like, float):
        return float(text)
    return text


def check_loc(t, pg, m):
    """The session's TDoA and fix rows in PostgreSQL equal the
    manifest's, row for row, value for value (float8 round trip: exact);
    the TDoA rows' stations are the ones the manifest names."""
    sid = m["session"]["id"]
    names = {s["websdr"]: s["name"] for s in m["stations"]}
    tdoa = m.get("tdoa", [])
    fixes = m.get("fixes", [])
    db = pg.psql("SELECT %s, a.name, b.name FROM heimdall.tdoa_measurements "
                 "t JOIN heimdall.websdr_stations a ON a.id = "
                 "t.websdr_station_a_id JOIN heimdall.websdr_stations b ON "
                 "b.id = t.websdr_station_b_id WHERE recording_session_id = "
                 "'%s' ORDER BY 1, 2, 3" % (", ".join(
                     "t." + c for c in TDOA_COLS), sid))
    t.assertEqual(len(db), len(tdoa))
    want = sorted(tdoa, key=lambda r: (r["chunk_index"], r["websdr_a"],
                                       r["websdr_b"]))
    for r, c in zip(want, db):
        for i, k in enumerate(TDOA_COLS):
            t.assertEqual(pg_value(c[i], r[k]), r[k], (k, r, c))
        t.assertEqual(c[-2:], [names[r["websdr_a"]], names[r["websdr_b"]]])
    db = pg.psql("SELECT %s FROM heimdall.position_fixes WHERE "
                 "recording_session_id = '%s' ORDER BY final, chunk_index"
                 % (", ".join(FIX_COLS), sid))
    t.assertEqual(len(db), len(fixes))
    want = sorted(fixes, key=lambda r: (r["final"], r["chunk_index"] or 0))
    for r, c in zip(want, db):
        for i, k in enumerate(FIX_COLS):
            got = pg_value(c[i], r.get(k) if r.get(k) is not None else
                           ([] if k == "receivers" else None))
            t.assertEqual(got, r.get(k) if k != "receivers" else
                          (r.get(k) or []), (k, r, c))
    return len(tdoa), len(fixes)


def synthetic_loc(m):
    """TDoA and fix rows shaped as src/engine/locate.h writes them, for
    every chunk of m: pairs (1, k), a fix per chunk (chunk 2: no fix, with
    its reason), the session fix."""
    sid = m["session"]["id"]
    chunks = sorted({r["chunk_index"] for r in m["measurements"]})
    n = len(m["stations"])
    tdoa, fixes = [], []
    for k in chunks:
        for b in range(2, n + 1):
            tdoa.append({"session_id": sid, "chunk_index": k, "websdr_a": 1,
                         "websdr_b": b, "tdoa_us": -123.456789 * b + k / 7,
                         "sigma_us": 0.0125 * b, "quality": 14.5 + b,
                         "corr": 0.9 - b / 100})
        ok = k != 2
        fixes.append({"session_id": sid, "chunk_index": k, "final": False,
                      "ok": ok, "reason": None if ok else
                      "2 usable receivers, 3 are needed",
                      "latitude": 45.05 + k * 1e-6 if ok else None,
                      "longitude": 8.2 - k * 1e-6 if ok else None,
                      "semi_major_m": 31.25 if ok else None,
                      "semi_minor_m": 8.5 if ok else None,
                      "orientation_deg": 97.0 if ok else None,
                      "cep50_m": 14.1 if ok else None,
                      "cep95_m": 37.3 if ok else None,
                      "receivers": list(range(1, n + 1)) if ok else [],
                      "pairs_used": n - 1, "error_m": 9.75 if ok else None,
                      "worst_websdr": 3 if ok else None,
                      "worst_residual_us": -0.0421 if ok else None})
    fixes.append(dict(fixes[0], chunk_index=None, final=True,
                      latitude=45.0500004, cep50_m=5.5))
    return tdoa, fixes


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
        # the simulator's odd stations are GPS-timed: four take part in
        # localization (src/engine/locate.h), the others are left out
        with h.Sim(7, tmp=cls.tmp) as sim:
            cls.sim_stations = sim.stations
            p = subprocess.run(
                [REC, "record", "--stations", sim.stations, "--data-dir",
                 cls.data, "--name", "store", "--freq", "10", "--duration",
                 "5", "--source", "unknown", "--json", "--db", cls.pg.url(),
                 "--s3", cls.s3.url, "--group", "net2m:0007"],
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
        self.assertIn("applied %d migrations" % N_MIGRATIONS,
                      self.mig1.stdout)
        self.assertEqual(self.mig2.returncode, 0, self.mig2.stderr)
        self.assertIn("up to date", self.mig2.stdout)
        self.assertEqual(self.pg.psql(
            "SELECT version FROM heimdall.schema_migrations ORDER BY 1"),
            [[f[:-4]] for f in sorted(os.listdir(SQL_DIR))
             if f[:3].isdigit() and f.endswith(".sql")])
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
        self.assertEqual(sum("applied %d" % N_MIGRATIONS in o
                             for o, e, rc in outs), 1, outs)
        self.assertEqual(sum("up to date" in o for o, e, rc in outs), 3, outs)
        self.assertEqual(self.pg.scalar(
            "SELECT count(*) FROM heimdall.schema_migrations", "race"),
            str(N_MIGRATIONS))

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

    def loc_copy(self, name):
        """A copy of the recorded session in a spool of its own, with
        synthetic TDoA and fix rows (the same path as the engine's: the
        manifest) and no ledger. Returns (data dir, manifest)."""
        import shutil, uuid
        data = os.path.join(self.tmp, name)
        new = str(uuid.uuid4())
        dst = os.path.join(data, "sessions", new)
        shutil.copytree(os.path.join(self.data, "sessions", self.sid), dst)
        os.unlink(os.path.join(dst, "replica.log"))
        with open(os.path.join(dst, "manifest.json")) as f:
            m = json.load(f)
        m["session"]["id"] = new
        m["session"]["session_name"] = name
        for r in m["measurements"]:
            r["id"] = str(uuid.uuid4())
            r["recording_session_id"] = new
            r["iq_data_location"] = r["iq_data_location"].replace(self.sid,
                                                                  new)
        m["tdoa"], m["fixes"] = synthetic_loc(m)
        with open(os.path.join(dst, "manifest.json"), "w") as f:
            json.dump(m, f)
        return data, m

    def status(self, data, db=True):
        p = run(["status", "--data-dir", data, "--json"] +
                (["--db", self.pg.url()] if db else []))
        return p.returncode, json.loads(p.stdout)

    def test_9a_loc_recorded(self):
        """The recorded session's own localization rows (the engine's:
        none before localization, a session fix and per-chunk rows with
        it) are in the database, equal to the manifest's."""
        n_tdoa, n_fix = check_loc(self, self.pg, self.m)
        if "fixes" in self.m:
            # the engine always writes the session fix (ok or not)
            self.assertEqual(sum(1 for f in self.m["fixes"]
                                 if f["final"]), 1)
            self.assertGreaterEqual(n_fix, 1)

    def test_9b_loc_db_down_caught_up(self):
        """A session with TDoA and fix rows while the database is down:
        sync fails (75), nothing is lost, status counts the rows pending;
        once it is back `sync --db` sends them all, equal to the manifest;
        a re-sync, --full, and a ledger that lost its lines add nothing."""
        data, m = self.loc_copy("loc-down")
        n_loc = len(m["tdoa"]) + len(m["fixes"])
        self.assertEqual((len(m["tdoa"]), len(m["fixes"])), (30, 6))
        self.pg.stop()
        try:
            p = run(["sync", "--data-dir", data, "--db", self.pg.url(),
                     "--timeout", "3"])
            self.assertEqual(p.returncode, 75, p.stderr)
            rc, j = self.status(data, db=False)
            self.assertEqual(rc, 75)
            self.assertEqual(j["pending_loc_rows"], n_loc)
            self.assertEqual(j["sessions"][0]["loc_rows_pending"], n_loc)
            self.assertEqual(j["sessions"][0]["loc_rows"], n_loc)
        finally:
            self.pg.start()
        p = run(["sync", "--data-dir", data, "--db", self.pg.url(),
                 "--timeout", "60"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(check_loc(self, self.pg, m), (30, 6))
        rc, j = self.status(data)
        self.assertEqual((rc, j["pending_loc_rows"]), (0, 0), j)
        ledger = os.path.join(data, "sessions", m["session"]["id"],
                              "replica.log")
        with open(ledger) as f:
            lines = f.read().splitlines()
        self.assertEqual(sum(1 for l in lines if l[:2] in ("t ", "x ")),
                         n_loc)
        self.assertIn("x final", lines)
        # idempotent: again, --full, and after losing the ledger's
        # localization lines and its final mark (a crash before the append)
        for extra in ([], ["--full"]):
            p = run(["sync", "--data-dir", data, "--db", self.pg.url(),
                     "--timeout", "60"] + extra)
            self.assertEqual(p.returncode, 0, p.stderr)
        with open(ledger, "w") as f:
            f.write("".join(l + "\n" for l in lines
                            if l[:2] not in ("t ", "x ", "Fd")))
        rc, j = self.status(data, db=False)
        self.assertEqual(j["pending_loc_rows"], n_loc)
        p = run(["sync", "--data-dir", data, "--db", self.pg.url(),
                 "--timeout", "60"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(check_loc(self, self.pg, m), (30, 6))
        self.assertEqual(self.pg.psql(
            "SELECT count(*), count(*) FILTER (WHERE final), count(*) "
            "FILTER (WHERE NOT ok AND latitude IS NULL AND reason IS NOT "
            "NULL) FROM heimdall.position_fixes WHERE recording_session_id "
            "= '%s'" % m["session"]["id"]), [["6", "1", "1"]])

    def test_9c_loc_bad_rows(self):
        """Rows from the spool are checked before they are sent: a TDoA row
        naming no station of the session and a fix at latitude 91 are left
        out and named by status; the others go in and the session is
        done. The schema refuses such rows too, and a second session fix."""
        data, m = self.loc_copy("loc-bad")
        sid = m["session"]["id"]
        m["tdoa"].append(dict(m["tdoa"][0], websdr_b=99))
        m["fixes"].append(dict(m["fixes"][1], chunk_index=40, latitude=91.0))
        with open(os.path.join(data, "sessions", sid, "manifest.json"),
                  "w") as f:
            json.dump(m, f)
        p = run(["sync", "--data-dir", data, "--db", self.pg.url(),
                 "--timeout", "60"])
        self.assertEqual(p.returncode, 0, p.stderr)
        rc, j = self.status(data)
        self.assertEqual(rc, 0, j)
        s = j["sessions"][0]
        self.assertEqual((s["loc_rows_pending"], s["loc_rows_invalid"]),
                         (0, 2), s)
        self.assertIn("websdr 99 is not a station", s["loc_invalid"])
        p = run(["status", "--data-dir", data])
        self.assertIn("2 localization rows cannot be sent", p.stdout)
        good = dict(m, tdoa=m["tdoa"][:-1], fixes=m["fixes"][:-1])
        self.assertEqual(check_loc(self, self.pg, good), (30, 6))
        for bad in (
                "UPDATE heimdall.position_fixes SET latitude = 91 WHERE "
                "recording_session_id = '%s' AND chunk_index = 0" % sid,
                "UPDATE heimdall.position_fixes SET latitude = NULL WHERE "
                "recording_session_id = '%s' AND chunk_index = 0" % sid,
                "INSERT INTO heimdall.position_fixes (recording_session_id, "
                "final, ok, reason) VALUES ('%s', true, false, 'x')" % sid,
                "INSERT INTO heimdall.tdoa_measurements SELECT "
                "recording_session_id, chunk_index, websdr_b, websdr_a, "
                "websdr_station_b_id, websdr_station_a_id, -tdoa_us, "
                "sigma_us, quality, corr FROM heimdall.tdoa_measurements "
                "WHERE recording_session_id = '%s' LIMIT 1" % sid):
            with self.assertRaises(RuntimeError, msg=bad):
                self.pg.psql(bad)

    def test_9e_loc_geo_record(self):
        """A record with --db of the simulator's localization scenario
        (seven GPS KiwiSDRs at examples/heimdall-2m.json's positions, a
        transmitter at a known source's coordinates): its TDoA rows and
        fixes are in the database when record returns, equal to the
        manifest's, every fix with a position."""
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "..", "..")
        tmp = tempfile.mkdtemp(prefix="hr-locdb-", dir=self.tmp)
        data = os.path.join(tmp, "data")
        p = run(["sources", "add", "--data-dir", data, "--name", "TX",
                 "--lat", "45.05", "--lon", "8.2", "--freq", "10"])
        self.assertEqual(p.returncode, 0, p.stderr)
        sim = h.Sim.__new__(h.Sim)
        sim.tmp, sim.stations = tmp, os.path.join(tmp, "stations.json")
        args = [h.SIM, "--count", "7", "--base-port", "0", "--stations-out",
                sim.stations, "--positions", os.path.join(
                    src, "examples", "heimdall-2m.json"),
                "--tx", "lat=45.05,lon=8.2,bw=10000"]
        for k in range(1, 8):
            args += ["--station", "i=%d,gps=1,signal=tx,txsnr=20" % k]
        sim.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
        self.assertTrue(sim.proc.stdout.readline().startswith("ready"))
        with sim:
            rc, events, err = h.record(sim, data, 3, name="geo",
                                       source="TX",
                                       extra=["--db", self.pg.url()])
        self.assertEqual(rc, 0, err)
        m, _ = h.manifest(data)
        n_tdoa, n_fix = check_loc(self, self.pg, m)
        self.assertGreaterEqual(n_tdoa, 3 * 6)
        self.assertEqual(n_fix, 4)
        self.assertEqual(self.pg.psql(
            "SELECT count(*) FILTER (WHERE ok), count(*) FILTER (WHERE "
            "final), count(DISTINCT websdr_station_a_id) > 0 FROM "
            "heimdall.position_fixes f, heimdall.tdoa_measurements t WHERE "
            "f.recording_session_id = '%s' AND t.recording_session_id = "
            "f.recording_session_id" % m["session"]["id"]),
            [[str(4 * n_tdoa), str(n_tdoa), "t"]])
        rc, j = self.status(data)
        self.assertEqual((rc, j["pending_loc_rows"]), (0, 0), j)
    def test_9f_loc_interrupted(self):
        """A recorder killed mid-session (its manifest in_progress, its TDoA
        and fix rows as far as it saved them, no lock held): the next run
        recovers the session as failed ("interrupted") keeping the rows,
        and `sync --db` sends them with the session."""
        data, m = self.loc_copy("loc-killed")
        sid = m["session"]["id"]
        m["session"]["status"] = "in_progress"
        m["session"]["session_end"] = None
        m["fixes"] = [f for f in m["fixes"] if not f["final"]]
        with open(os.path.join(data, "sessions", sid, "manifest.json"),
                  "w") as f:
            json.dump(m, f)
        p = run(["sync", "--data-dir", data, "--db", self.pg.url(),
                 "--timeout", "60"])
        self.assertEqual(p.returncode, 0, p.stderr)
        after, _ = h.manifest(data, sid)
        self.assertEqual(after["session"]["status"], "failed")
        self.assertIn("interrupted", after["session"]["failure_reason"])
        self.assertEqual(check_loc(self, self.pg, after), (30, 5))
        self.assertEqual(self.pg.scalar(
            "SELECT status FROM heimdall.recording_sessions WHERE id = "
            "'%s'" % sid), "failed")

    def test_9g_group_and_central_list(self):
        """The session's group id reaches the central row (sql/005), and
        `sessions --db` lists the central store's sessions with the
        recorder, group and counts (issue 16)."""
        self.assertEqual(self.pg.scalar(
            "SELECT group_id FROM heimdall.recording_sessions WHERE id = "
            "'%s'" % self.sid), "net2m:0007")
        # what the check refuses never gets in, whoever writes
        with self.assertRaises(Exception):
            self.pg.psql("UPDATE heimdall.recording_sessions SET group_id "
                         "= 'a b' WHERE id = '%s'" % self.sid)
        p = run(["sessions", "--db", self.pg.url(), "--json"])
        self.assertEqual(p.returncode, 0, p.stderr)
        lst = json.loads(p.stdout)
        row = [r for r in lst if r["id"] == self.sid]
        self.assertEqual(len(row), 1, lst)
        row = row[0]
        self.assertEqual(row["group_id"], "net2m:0007")
        self.assertEqual(row["recorder_host"], socket.gethostname())
        self.assertEqual(row["chunks_stored"], 35)
        self.assertEqual(row["receivers"], 7)
        self.assertEqual(row["session_name"], "store")
        starts = [r["session_start"] for r in lst]
        self.assertEqual(starts, sorted(starts, reverse=True))
        p = run(["sessions", "--db", self.pg.url(), "--limit", "1"])
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 2, p.stdout)      # header + 1
        self.assertIn("GROUP", lines[0])
        self.assertEqual(run(["sessions", "--db", self.pg.url(), "--limit",
                              "0"]).returncode, 64)
        p = run(["sessions", "--db", self.pg.url(db="nosuchdb")])
        self.assertEqual(p.returncode, 69)
        self.assertIn("nosuchdb", p.stderr)

    def test_9h_station_history(self):
        """A receiver moved in another recorder's stations file (same
        name) is one shared station row that follows the newest session,
        while each session keeps its stations as they were recorded
        (sql/006); the recorder's name is the session's own
        (--recorder-host), kept in its manifest (issue 16)."""
        q = ("SELECT name, latitude, longitude, url FROM "
             "heimdall.session_stations WHERE recording_session_id = '%s' "
             "ORDER BY websdr")
        before = self.pg.psql(q % self.sid)
        self.assertEqual([r[0] for r in before],
                         [s["name"] for s in self.m["stations"]])
        for r, s in zip(before, self.m["stations"]):
            self.assertEqual(float(r[1]), s["latitude"])
            self.assertEqual(r[3], s["url"])
        data = os.path.join(self.tmp, "moved")
        with h.Sim(2, tmp=self.tmp) as sim:
            with open(sim.stations) as f:
                sts = json.load(f)
            for s in sts["stations"]:
                s["latitude"] += 1.0
            moved = os.path.join(self.tmp, "moved.json")
            with open(moved, "w") as f:
                json.dump(sts, f)
            p = subprocess.run(
                [REC, "record", "--stations", moved, "--data-dir", data,
                 "--name", "moved", "--freq", "10", "--duration", "1",
                 "--source", "unknown", "--db", self.pg.url(),
                 "--recorder-host", "field-2"],
                capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        m, _ = h.manifest(data)
        sid = m["session"]["id"]
        self.assertEqual(m["session"]["recorder_host"], "field-2")
        self.assertEqual(self.pg.scalar(
            "SELECT recorder_host FROM heimdall.recording_sessions WHERE "
            "id = '%s'" % sid), "field-2")
        names = [s["name"] for s in sts["stations"]]
        self.assertTrue(set(names) <= set(r[0] for r in before), names)
        # the old session's copy is as it was; the new one has the move
        self.assertEqual(self.pg.psql(q % self.sid), before)
        self.assertEqual([float(r[1]) for r in self.pg.psql(q % sid)],
                         [s["latitude"] for s in sts["stations"]])
        shared = "SELECT name, latitude FROM heimdall.websdr_stations " \
            "WHERE name IN (%s) ORDER BY name" % ", ".join(
                "'%s'" % n for n in names)
        want = sorted([n, s["latitude"]] for n, s in
                      zip(names, sts["stations"]))
        self.assertEqual([[r[0], float(r[1])] for r in
                          self.pg.psql(shared)], want)
        # the older session sent again leaves the shared rows alone
        p = run(["sync", "--data-dir", self.data, "--db", self.pg.url(),
                 "--full", "--timeout", "60"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([[r[0], float(r[1])] for r in
                          self.pg.psql(shared)], want)
        self.assertEqual(self.pg.psql(q % self.sid), before)
        # and a bad name is refused before anything starts
        p = run(["record", "--stations", moved, "--data-dir", data,
                 "--name", "x", "--freq", "10", "--duration", "1",
                 "--source", "unknown", "--recorder-host", "a\x1bb"])
        self.assertEqual(p.returncode, 64)
        self.assertIn("--recorder-host", p.stderr)

    def test_9d_migrate_from_003(self):
        """A database at 003 (created by the three earlier migrations, with
        a session in it) gets the later ones alone from `db migrate`; its
        rows stay."""
        self.pg.psql("CREATE DATABASE at003")
        sql = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "..", "..", "sql")
        for f in ("001_schema", "002_timescaledb", "003_sample_time"):
            p = subprocess.run(
                ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h",
                 "127.0.0.1", "-p", str(self.pg.port), "-U", "postgres",
                 "-d", "at003", "-f", os.path.join(sql, f + ".sql")],
                capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
        self.pg.psql("CREATE TABLE heimdall.schema_migrations (version text "
                     "PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT "
                     "now(), applied_by text NOT NULL DEFAULT current_user);"
                     "INSERT INTO heimdall.schema_migrations (version) VALUES "
                     "('001_schema'), ('002_timescaledb'), "
                     "('003_sample_time');"
                     "INSERT INTO heimdall.recording_sessions (id, "
                     "session_name, session_start, status) VALUES "
                     "(gen_random_uuid(), 'before', now(), 'completed')",
                     db="at003")
        p = run(["status", "--data-dir", self.data, "--db",
                 self.pg.url(db="at003")])
        self.assertIn("%d migrations pending" % (N_MIGRATIONS - 3), p.stdout)
        p = run(["db", "migrate", "--db", self.pg.url(db="at003")])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("applied %d migrations," % (N_MIGRATIONS - 3), p.stdout)
        self.assertEqual(self.pg.psql(
            "SELECT version FROM heimdall.schema_migrations ORDER BY 1",
            db="at003")[3:], [[f[:-4]] for f in sorted(os.listdir(SQL_DIR))
                              if f[:3].isdigit() and f > "004"])
        self.assertEqual(self.pg.psql(
            "SELECT count(*) FROM heimdall.recording_sessions",
            db="at003"), [["1"]])
        self.assertEqual(self.pg.psql(
            "SELECT to_regclass('heimdall.tdoa_measurements') IS NOT NULL, "
            "to_regclass('heimdall.position_fixes') IS NOT NULL",
            db="at003"), [["t", "t"]])


if __name__ == "__main__":
    unittest.main(verbosity=2)
