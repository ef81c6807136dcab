#!/usr/bin/python3
"""bench_store.py -- the central store's speed, against real servers started
here (tests/e2e/servers.py: a PostgreSQL cluster and s3rver behind the
SigV4-verifying proxy, on 127.0.0.1 and free ports).

Prints, side by side in one run (medians of --runs):
  1. rows/s into PostgreSQL, 200 stations x 30 chunks, one
     pgstore_put_rows per chunk for every receiver (bench_pgstore: the live
     replicator's write path, COPY -> staging -> INSERT ON CONFLICT, one
     transaction per chunk of 200 rows; statements only, the rows built
     before the clock starts): the "raw" rate; target >= 20,000 rows/s;
  2. rows/s of `heimdall-rec sync --db` over a spool of the same size (the
     whole process, wall time: start, reading the spool, ledger,
     connection, statements); target >= 80 % of 1. and >= 20,000;
  3. objects/s into the S3 server, `heimdall-rec sync --s3` over a spool of
     --objects chunk files of one second at 12 kS/s (96 KiB each);
  4. chunk end -> row queryable centrally: a live `record --db --s3` of 7
     simulated stations x 10 s; per row, the commit time of its row
     (track_commit_timestamp) minus the end of its chunk (timestamp +
     duration); target median <= 250 ms;
  5. the recorder at 200 stations x 10 s with and without --db --s3 (one
     run each): its own CPU per receiver-second (wait4 rusage), wall time,
     and how long after the session's end everything was replicated.

  6. the fleet: five `record --db --s3` processes x 50 simulated receivers
     x --fleet-duration s at once (their own folders, stations files and
     --recorder-host), one PostgreSQL and one S3 server: chunk end -> row
     committed (median, p95; target median <= 250 ms), and per recorder
     how long after its session's end its last row was committed and its
     last object stored (target: everything within 2 s); rows and objects
     exact.

Usage: bench/bench_store.py [--build DIR] [--runs 3] [--objects 1000]
                            [--rows-only | --fleet-only]
                            [--fleet-duration 10] [--s3-workers 2]
  --rows-only: parts 1 and 2 only, interleaved run by run (no S3 server).
  --fleet-only: part 6 only (--runs times); --fleet-no-s3: the fleet
  with --db only (the rows' own latency: with --s3 a row waits for its
  object). --s3-workers N: node processes of the test S3 server
  (tests/s3/server.js --workers; default 2, one per core here).
"""

import argparse, glob, json, os, statistics, subprocess, sys, tempfile, time
import uuid

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import servers  # noqa: E402


def spool(root, nst, nch, files):
    """A finished session in a dataset folder, written like the recorder
    does (manifest with its rows; chunk files when files is set)."""
    sid = str(uuid.uuid4())
    d = os.path.join(root, "sessions", sid)
    os.makedirs(d)
    t0 = time.time() - nch - 5
    iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + \
        ".%06dZ" % int((t % 1) * 1e6)
    rows = []
    a = (np.random.default_rng(1).standard_normal(2 * 12001) * 0.1) \
        .astype(np.float32).view(np.complex64)
    for k in range(nch):
        for s in range(1, nst + 1):
            key = "sessions/%s/chunk_%03d_websdr_%d.npy" % (sid, k, s)
            if files:
                np.save(os.path.join(root, key), a)
            rows.append({
                "id": str(uuid.uuid4()), "recording_session_id": sid,
                "websdr": s, "websdr_station_name": "Bench %d" % s,
                "chunk_index": k, "timestamp": iso(t0 + k),
                "frequency_hz": 145000000, "signal_strength_db": -20.5,
                "snr_db": 20.1, "frequency_offset_hz": 750.0,
                "noise_floor_db": -40.9, "rssi_dbm": -50.8,
                "peak_amplitude": 0.11, "adc_overflow_count": 0,
                "gps_fix_age_s": 1, "time_source": "gps", "samples_lost": 0,
                "iq_data_location": key, "iq_data_format": "complex64",
                "iq_sample_rate": 12001.135, "iq_samples_count": 12001,
                "duration_seconds": 1.0, "created_at": iso(t0 + k + 1)})
    m = {"format": "heimdall-rec/1",
         "session": {"id": sid, "session_name": "bench", "status":
                     "completed", "frequency_hz": 145000000,
                     "duration_seconds": nch, "session_start": iso(t0),
                     "session_end": iso(t0 + nch), "created_at": iso(t0),
                     "notes": ""},
         "stations": [{"websdr": s, "name": "Bench %d" % s, "type":
                       "kiwisdr", "url": "http://127.0.0.1:8073",
                       "latitude": 45.0, "longitude": 7.6}
                      for s in range(1, nst + 1)],
         "measurements": rows}
    with open(os.path.join(d, "manifest.json"), "w") as f:
        json.dump(m, f)
    return sid


def timed(args, env=None):
    t0 = time.monotonic()
    p = subprocess.run(args, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        raise RuntimeError("%s: %s" % (args[1], p.stderr))
    return time.monotonic() - t0


def pgstore_rate(a, pg, runs):
    out = subprocess.run([os.path.join(a.build, "bench", "bench_pgstore"),
                          pg.url(), "200", "30", str(runs)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.splitlines()[-1].split()[1])


def rows_only(a):
    """Parts 1 and 2, interleaved (raw, sync, raw, sync...) so that both
    see the same load on a shared machine."""
    rec = os.path.join(a.build, "heimdall-rec")
    tmp = tempfile.mkdtemp(prefix="hr-bstore-")
    r1, r2 = [], []
    with servers.Pg() as pg:
        subprocess.run([rec, "db", "migrate", "--db", pg.url()], check=True,
                       capture_output=True)
        for i in range(a.runs):
            r1.append(pgstore_rate(a, pg, 1))
            data = os.path.join(tmp, "rows%d" % i)
            spool(data, 200, 30, files=False)
            r2.append(6000 / timed([rec, "sync", "--data-dir", data, "--db",
                                    pg.url(), "--timeout", "120"]))
    print("load average %.2f %.2f %.2f" % os.getloadavg())
    print("raw  rows/s per run: %s" % " ".join("%.0f" % x for x in r1))
    print("sync rows/s per run: %s" % " ".join("%.0f" % x for x in r2))
    m1, m2 = statistics.median(r1), statistics.median(r2)
    print("median raw %.0f  sync %.0f  sync/raw %.2f" % (m1, m2, m2 / m1))


def iso_time(t):
    """'2026-12-03T01:02:03.456789Z' -> seconds since 1970."""
    import calendar
    base, frac = t.rstrip("Z").split(".") if "." in t else (t.rstrip("Z"), "0")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + \
        float("0." + frac)


def fleet(a, pg, s3, tmp, run, nrec=5, per=50):
    """Part 6, one run: nrec recorders x per receivers at once. Returns
    (latencies s, [(recorder, rows, objects, last row - end,
    last object - end)])."""
    rec = os.path.join(a.build, "heimdall-rec")
    sim_bin = os.path.join(a.build, "heimdall-kiwisim")
    st = os.path.join(tmp, "fleet-stations.json")
    sim = subprocess.Popen([sim_bin, "--count", str(nrec * per),
                            "--base-port", "0", "--stations-out", st],
                           stdout=subprocess.PIPE, text=True)
    out = []
    try:
        sim.stdout.readline()
        with open(st) as f:
            all_st = json.load(f)["stations"]
        procs = []
        for k in range(nrec):
            mine = [dict(x, name="fleet%d-%d-rx%d" % (run, k, i))
                    for i, x in enumerate(all_st[k * per:(k + 1) * per])]
            path = os.path.join(tmp, "fleet-%d-%d.json" % (run, k))
            with open(path, "w") as f:
                json.dump({"stations": mine}, f)
            procs.append(subprocess.Popen(
                [rec, "record", "--stations", path, "--data-dir",
                 os.path.join(tmp, "fleet-%d-%d" % (run, k)), "--name",
                 "fleet%d-%d" % (run, k), "--freq", "10", "--duration",
                 str(a.fleet_duration), "--source", "unknown", "--db",
                 pg.url(), "--recorder-host", "bench-%d" % k,
                 "--sync-timeout", "120"] + ([] if a.fleet_no_s3 else
                                             ["--s3", s3.url]),
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                text=True, env=s3.env()))
        for p in procs:
            _, err = p.communicate(timeout=300)
            if p.returncode != 0:
                raise RuntimeError("fleet recorder: %s" % err[-2000:])
    finally:
        sim.terminate()
        sim.wait()
    lat = []
    for k in range(nrec):
        name = "fleet%d-%d" % (run, k)
        # per row: chunk end -> committed, and its two parts: chunk end
        # -> row created by the recorder (stored locally), created ->
        # committed centrally (the replication)
        lat += [tuple(float(v) for v in x) for x in pg.psql(
            "SELECT extract(epoch FROM pg_xact_commit_timestamp(m.xmin) - "
            "(m.\"timestamp\" + m.duration_seconds * interval '1 second')), "
            "extract(epoch FROM m.created_at - (m.\"timestamp\" + "
            "m.duration_seconds * interval '1 second')), "
            "extract(epoch FROM pg_xact_commit_timestamp(m.xmin) - "
            "m.created_at) "
            "FROM heimdall.measurements m JOIN heimdall.recording_sessions "
            "r ON r.id = m.recording_session_id WHERE r.session_name = "
            "'%s'" % name)]
        sid = pg.scalar("SELECT id FROM heimdall.recording_sessions WHERE "
                        "session_name = '%s'" % name)
        end = iso_time(pg.scalar(
            "SELECT to_char(session_end AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM "
            "heimdall.recording_sessions WHERE id = '%s'" % sid))
        nrows = int(pg.scalar("SELECT count(*) FROM heimdall.measurements "
                              "WHERE recording_session_id = '%s'" % sid))
        last_row = float(pg.scalar(
            "SELECT extract(epoch FROM max(pg_xact_commit_timestamp(xmin)))"
            " FROM heimdall.measurements WHERE recording_session_id = "
            "'%s'" % sid))
        objs = glob.glob(os.path.join(s3.dir, "heimdall-raw-iq", "sessions",
                                      sid, "*._S3rver_object"))
        last_obj = max(os.path.getmtime(o) for o in objs) if objs else 0
        out.append((k, nrows, len(objs), last_row - end,
                    last_obj - end if objs else 0))
    return lat, out


def fleet_report(a, lat3, per_rec):
    lat = sorted(x[0] for x in lat3)
    exp = 50 * a.fleet_duration
    print("fleet: 5 recorders x 50 receivers x %d s, %s at once "
          "(%d runs); load average %.2f %.2f %.2f" % (
              a.fleet_duration, "--db" if a.fleet_no_s3 else "--db --s3",
              a.runs, *os.getloadavg()))
    print("  chunk end -> row committed: median %.0f ms, p95 %.0f ms, "
          "max %.0f ms over %d rows (target median <= 250 ms)" % (
              statistics.median(lat) * 1e3,
              lat[int(len(lat) * 0.95) - 1] * 1e3, lat[-1] * 1e3, len(lat)))
    print("  of which chunk end -> row stored locally (created_at): median "
          "%.0f ms; stored -> committed centrally: median %.0f ms, p95 %.0f "
          "ms" % (statistics.median(x[1] for x in lat3) * 1e3,
                  statistics.median(x[2] for x in lat3) * 1e3,
                  sorted(x[2] for x in lat3)[int(len(lat3) * 0.95) - 1]
                  * 1e3))
    worst = 0
    for run, k, nrows, nobj, dr, do in per_rec:
        worst = max(worst, dr, do)
        print("  run %d recorder %d: %d rows, %d objects (%d expected, %s);"
              " last row %.2f s, last object %.2f s after the session's "
              "end" % (run, k, nrows, nobj, exp, "exact" if nrows == exp
                       and nobj == (0 if a.fleet_no_s3 else exp) else
                       "NOT exact", dr, do))
    print("  everything stored %.2f s after the end at worst (target "
          "<= 2 s)" % worst)


def fleet_only(a):
    tmp = tempfile.mkdtemp(prefix="hr-bstore-")
    lat, per_rec = [], []
    with servers.Pg() as pg, servers.S3(workers=a.s3_workers) as s3:
        subprocess.run([os.path.join(a.build, "heimdall-rec"), "db",
                        "migrate", "--db", pg.url()], check=True,
                       capture_output=True)
        for run in range(a.runs):
            l, o = fleet(a, pg, s3, tmp, run)
            lat += l
            per_rec += [(run,) + x for x in o]
        refused = len(s3.refused())
    fleet_report(a, lat, per_rec)
    print("S3 server: tests/s3/server.js --workers %d; SigV4 requests "
          "refused by the verifier: %d" % (a.s3_workers, refused))
    subprocess.run(["rm", "-rf", tmp])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--objects", type=int, default=1000)
    ap.add_argument("--rows-only", action="store_true")
    ap.add_argument("--fleet-only", action="store_true")
    ap.add_argument("--fleet-duration", type=int, default=10)
    ap.add_argument("--fleet-no-s3", action="store_true")
    ap.add_argument("--s3-workers", type=int, default=2)
    a = ap.parse_args()
    if a.rows_only:
        return rows_only(a)
    if a.fleet_only:
        return fleet_only(a)
    rec = os.path.join(a.build, "heimdall-rec")
    sim_bin = os.path.join(a.build, "heimdall-kiwisim")
    tmp = tempfile.mkdtemp(prefix="hr-bstore-")
    with servers.Pg() as pg, servers.S3(workers=a.s3_workers) as s3:
        subprocess.run([rec, "db", "migrate", "--db", pg.url()], check=True,
                       capture_output=True)
        # 1. pgstore, per chunk
        out = subprocess.run([os.path.join(a.build, "bench",
                                           "bench_pgstore"), pg.url(), "200",
                              "30", str(max(a.runs, 3))],
                             capture_output=True, text=True, check=True)
        med1 = float(out.stdout.splitlines()[-1].split()[1])

        # 2. sync --db over a 200 x 30 spool (rows only)
        r2 = []
        for i in range(a.runs):
            data = os.path.join(tmp, "rows%d" % i)
            spool(data, 200, 30, files=False)
            r2.append(6000 / timed([rec, "sync", "--data-dir", data, "--db",
                                    pg.url(), "--timeout", "120"]))

        # 3. sync --s3 over N chunk files
        r3 = []
        nst = 100
        nch = max(1, a.objects // nst)
        data = os.path.join(tmp, "objs")
        spool(data, nst, nch, files=True)
        for i in range(a.runs):
            r3.append(nst * nch / timed([rec, "sync", "--data-dir", data,
                                         "--s3", s3.url, "--full",
                                         "--timeout", "300"], env=s3.env()))

        # 4. live: chunk end -> row committed centrally
        st = os.path.join(tmp, "stations.json")
        sim = subprocess.Popen([sim_bin, "--count", "7", "--base-port", "0",
                                "--stations-out", st],
                               stdout=subprocess.PIPE, text=True)
        try:
            sim.stdout.readline()
            lat = []
            for i in range(a.runs):
                subprocess.run(
                    [rec, "record", "--stations", st, "--data-dir",
                     os.path.join(tmp, "live"), "--name", "lat%d" % i,
                     "--freq", "10", "--duration", "10", "--source",
                     "unknown", "--db", pg.url(), "--s3", s3.url],
                    check=True, capture_output=True, env=s3.env())
                lat += [float(x[0]) for x in pg.psql(
                    "SELECT extract(epoch FROM pg_xact_commit_timestamp("
                    "m.xmin) - (m.\"timestamp\" + m.duration_seconds * "
                    "interval '1 second')) FROM heimdall.measurements m "
                    "JOIN heimdall.recording_sessions r ON r.id = "
                    "m.recording_session_id WHERE r.session_name = "
                    "'lat%d'" % i)]
        finally:
            sim.terminate()
            sim.wait()
        # 5. 200 stations, with and without the central store
        big = {}
        sim = subprocess.Popen([sim_bin, "--count", "200", "--base-port",
                                "0", "--stations-out", st],
                               stdout=subprocess.PIPE, text=True)
        try:
            sim.stdout.readline()
            for store in (False, True):
                args = [rec, "record", "--stations", st, "--data-dir",
                        os.path.join(tmp, "big%d" % store), "--name",
                        "big%d" % store, "--freq", "10", "--duration", "10",
                        "--source", "unknown", "--sync-timeout", "300"]
                if store:
                    args += ["--db", pg.url(), "--s3", s3.url]
                t0 = time.monotonic()
                p = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, env=s3.env())
                _, status, ru = os.wait4(p.pid, 0)
                big[store] = (time.monotonic() - t0,
                              (ru.ru_utime + ru.ru_stime) * 1e3 / 2000)
            nrows = int(pg.scalar(
                "SELECT count(*) FROM heimdall.measurements m JOIN "
                "heimdall.recording_sessions r ON r.id = "
                "m.recording_session_id WHERE r.session_name = 'big1'"))
            sid = os.listdir(os.path.join(tmp, "big1", "sessions"))[0]
            nobj = len(glob.glob(os.path.join(
                s3.dir, "heimdall-raw-iq", "sessions", sid,
                "*._S3rver_object")))
        finally:
            sim.terminate()
            sim.wait()
        # 6. the fleet
        flat, fper = [], []
        for run in range(a.runs):
            l, o = fleet(a, pg, s3, tmp, run)
            flat += l
            fper += [(run,) + x for x in o]
        refused = len(s3.refused())

    lat.sort()
    p95 = lat[int(len(lat) * 0.95) - 1]
    print("central store benchmark (median of %d runs; PostgreSQL %s, "
          "s3rver behind the SigV4 proxy)" % (a.runs, "cluster on 127.0.0.1"))
    print("%-58s %10s %12s %s" % ("measure", "value", "target", "ratio"))
    print("%-58s %10.0f %12s %.2fx" % (
        "rows/s into PostgreSQL, 200 st x 30 chunks, per chunk", med1,
        ">= 20000", med1 / 20000))
    m2 = statistics.median(r2)
    print("%-58s %10.0f %12s %.2fx" % (
        "rows/s, `sync --db` of a 200 x 30 spool (whole path)", m2,
        ">= 20000", m2 / 20000))
    m3 = statistics.median(r3)
    print("%-58s %10.0f %12s" % (
        "objects/s into S3, `sync --s3` of %d chunk files" % (nst * nch),
        m3, "-"))
    med = statistics.median(lat) * 1e3
    print("%-58s %10.0f %12s %.2fx" % (
        "chunk end -> row queryable, median ms (%d rows)" % len(lat), med,
        "<= 250", med / 250))
    print("%-58s %10.0f %12s" % ("chunk end -> row queryable, p95 ms",
                                 p95 * 1e3, "-"))
    print("%-58s %10.2f %12s" % ("200 st x 10 s: recorder CPU ms per "
                                 "receiver-second, no store", big[False][1],
                                 "<= 1"))
    print("%-58s %10.2f %12s" % ("200 st x 10 s: the same with --db --s3",
                                 big[True][1], "-"))
    print("%-58s %10.1f %12s" % ("200 st x 10 s with --db --s3: extra wall s "
                                 "(replication left at the end)",
                                 big[True][0] - big[False][0], "-"))
    print("200 st x 10 s with --db --s3: %d rows, %d objects (2000 "
          "expected, %s)" % (nrows, nobj, "exact" if nrows == nobj == 2000
                             else "NOT exact"))
    fleet_report(a, flat, fper)
    print("SigV4 requests refused by the verifier: %d" % refused)
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
