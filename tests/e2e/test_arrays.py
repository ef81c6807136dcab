"""test_arrays.py -- `heimdall-rec export --format arrays` through the real
binary, on sessions synthesized in the dataset's layout (store/dataset.h):
chunks cut as src/engine/chunker.h cuts them (chunk k holds the stream's
samples taken in [T0 + k, T0 + k + 1), every receiver at its own rate and
start), rows with t0_ns and sample_rate_hz as GPS-timed receivers write
them, and a tone whose phase is a function of absolute time. So every
exported sample has a known value: the tone at the time the file's t0_ns
says plus i / rate_hz.

Checked: numpy.load opens it with no custom code; iq against the tone
(frequency and phase continuous across the 1-s seams and across the
--chunk-ms 200 windows, all receivers aligned) to 2e-4 (4e-4 of the
tone's amplitude; 3e-5 seen); the
round trip against the stored chunks (a receiver already at the output
rate and on the grid comes back as stored); masks for a missing chunk;
features, positions, times, target, TDoA and fixes equal the manifest's;
bad options refused."""

import datetime, json, math, os, subprocess, sys, tempfile, unittest, uuid

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import harness as h

T0_NS = 1796249000532464000          # the session's grid origin (UTC ns)
AMP = 0.5


def iso_us(t_ns):
    """UTC ns -> ISO 8601 rounded to the microsecond, as rows have it."""
    us = (t_ns + 500) // 1000
    d = datetime.datetime(1970, 1, 1) + datetime.timedelta(
        microseconds=int(us))
    return d.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def tone(t_rel_s, f):
    return AMP * np.exp(2j * np.pi * f * t_rel_s)


def make_session(data, rates, nchunks, f_hz=1234.5, missing=(), starts=None,
                 source_id=None, tdoa=True, gps=None, alts=None):
    """A completed session in data/sessions/<id>/: receiver r (websdr r+1)
    samples at rates[r] S/s from its anchor (sample 0) starts[r] s before
    T0; chunk k holds samples [ceil(x0 + k fs), ceil(x0 + (k+1) fs)),
    x0 = (T0 - anchor) fs. missing: {(chunk, websdr)} left out (no file,
    no row). alts: {websdr: the manifest's "altitude"} (default none).
    Returns (id, stored {(k, w): complex array})."""
    alts = alts or {}
    sid = str(uuid.uuid4())
    sdir = os.path.join(data, "sessions", sid)
    os.makedirs(sdir)
    starts = starts or [0.3 + 0.0137 * r for r in range(len(rates))]
    gps = gps if gps is not None else [True] * len(rates)
    rows, stored, stations = [], {}, []
    for r, fs in enumerate(rates):
        w = r + 1
        stations.append({"websdr": w, "name": "Rx %d" % w, "type": "kiwisdr",
                         "url": "http://127.0.0.1:%d" % (9000 + w),
                         "latitude": 45.0 + 0.1 * w,
                         "longitude": 7.0 + 0.2 * w})
        if w in alts:
            stations[-1]["altitude"] = alts[w]
        x0 = starts[r] * fs
        for k in range(nchunks):
            i0 = math.ceil(x0 + k * fs)
            i1 = math.ceil(x0 + (k + 1) * fs)
            if (k, w) in missing:
                continue
            idx = np.arange(i0, i1, dtype=np.float64)
            # sample i is at anchor + i / fs; relative to T0:
            t_rel = idx / fs - starts[r]
            z = tone(t_rel, f_hz).astype(np.complex64)
            name = "chunk_%03d_websdr_%d.npy" % (k, w)
            np.save(os.path.join(sdir, name), z)
            stored[(k, w)] = z
            t_first = T0_NS + round((i0 / fs - starts[r]) * 1e9)
            row = {"id": str(uuid.uuid4()), "recording_session_id": sid,
                   "websdr": w, "websdr_station_name": "Rx %d" % w,
                   "chunk_index": k, "timestamp": iso_us(t_first),
                   "frequency_hz": 10000000,
                   "signal_strength_db": -10.0 - w - k / 100,
                   "snr_db": 20.0 + w + k / 100,
                   "frequency_offset_hz": f_hz,
                   "noise_floor_db": -30.0 - w,
                   "time_source": "gps" if gps[r] else "local",
                   "t0_ns": t_first if gps[r] else None,
                   "sample_rate_hz": fs if gps[r] else None,
                   "iq_data_location": "sessions/%s/%s" % (sid, name),
                   "iq_data_format": "complex64", "iq_sample_rate": fs,
                   "iq_samples_count": int(i1 - i0)}
            rows.append(row)
    man = {"format": "heimdall-rec/1",
           "session": {"id": sid, "session_name": "arrays test",
                       "frequency_hz": 10000000, "frequency_mhz": 10.0,
                       "duration_seconds": nchunks, "notes": "",
                       "status": "completed",
                       "known_source_id": source_id,
                       "session_start": iso_us(T0_NS),
                       "created_at": iso_us(T0_NS),
                       "failure_reason": None},
           "stations": stations, "measurements": rows,
           "tdoa": [], "fixes": [], "missing": []}
    if tdoa:
        man["tdoa"] = [{"session_id": sid, "chunk_index": k, "websdr_a": 1,
                        "websdr_b": 2, "tdoa_us": 10.0 + k, "sigma_us": 0.1,
                        "quality": 10.0, "corr": 0.9}
                       for k in range(nchunks)]
        man["fixes"] = [{"session_id": sid, "chunk_index": k, "final": False,
                         "ok": True, "reason": None, "latitude": 45.5 + k / 1000,
                         "longitude": 8.0, "cep50_m": 100.0 + k}
                        for k in range(0, nchunks, 2)]
        man["fixes"].append({"session_id": sid, "chunk_index": None,
                             "final": True, "ok": True, "reason": None,
                             "latitude": 45.51, "longitude": 8.01,
                             "cep50_m": 50.0})
    with open(os.path.join(sdir, "manifest.json"), "w") as f:
        json.dump(man, f)
    return sid, stored


def export(data, sid, out, *extra):
    p = subprocess.run([h.REC, "export", sid, "--format", "arrays",
                        "--data-dir", data, "--out", out] + list(extra),
                       capture_output=True, text=True, timeout=300)
    return p


def cplx(iq, j, r):
    return iq[j, r, 0].astype(np.float64) + 1j * iq[j, r, 1]


class ArraysTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hr-arrays-")
        self.addCleanup(h.rmtree, self.tmp)
        self.data = os.path.join(self.tmp, "data")
        self.out = os.path.join(self.tmp, "out")
        os.makedirs(self.data)

    def run_export(self, sid, *extra):
        p = export(self.data, sid, self.out, *extra)
        self.assertEqual(p.returncode, 0, p.stderr)
        path = p.stdout.strip()
        self.assertEqual(path, os.path.join(self.out, sid + ".npz"))
        return np.load(path)     # no custom code, no pickle

    def check_tone(self, z, f_hz, runs, edge=80, tol=2e-4):
        """Every receiver's windows against the tone at the file's own
        times: t0_ns[j] + i / rate_hz. runs {websdr: set of windows to
        check}; edge samples at the ends of a run of windows (the
        resampler's filter sees nothing beyond) are skipped."""
        iq, t0, rate = z["iq"], z["t0_ns"], float(z["rate_hz"])
        L = iq.shape[3]
        worst = 0.0
        for r, w in enumerate(z["receiver_websdr"]):
            wins = sorted(runs[int(w)])
            for j in wins:
                t_rel = (t0[j] - T0_NS) / 1e9 + np.arange(L) / rate
                want = tone(t_rel, f_hz)
                got = cplx(iq, j, r)
                keep = np.ones(L, bool)
                if j - 1 not in runs[int(w)]:
                    keep[:edge] = False
                if j + 1 not in runs[int(w)]:
                    keep[-edge:] = False
                err = np.abs(got - want)[keep]
                worst = max(worst, float(err.max()))
                self.assertLess(err.max(), tol, "websdr %d window %d: "
                                "error %.2e" % (w, j, err.max()))
        return worst

    def test_aligned_tone_and_features(self):
        """Three receivers at their own rates and starts: iq is the one
        tone on the one time line; the session's lowest measured rate,
        rounded down, is the rate; the small arrays equal the manifest."""
        p = subprocess.run([h.REC, "sources", "add", "--data-dir", self.data,
                            "--name", "TX", "--lat", "45.05", "--lon", "8.2"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.data, "sources.json")) as f:
            src = [s for s in json.load(f)["sources"] if s["name"] == "TX"]
        rates = [12001.067, 11999.62, 12000.31]
        # altitude: Rx 2's known; Rx 3's out of -500..9000 (a manifest
        # not written by heimdall-rec): unknown, as Rx 1's absent one
        sid, stored = make_session(self.data, rates, 6,
                                   source_id=src[0]["id"],
                                   alts={2: 312.25, 3: 12000.0})
        z = self.run_export(sid)
        self.assertEqual(float(z["rate_hz"]), 11999.0)
        self.assertEqual(z["iq"].shape, (6, 3, 2, 11999))
        self.assertEqual(z["iq"].dtype, np.float32)
        self.assertTrue(z["mask"].all())
        # the windows start on the grid: T0 within a sample, then 1 s apart
        self.assertLess(abs(int(z["t0_ns"][0]) - T0_NS), 1e9 / 11999.0)
        self.assertTrue((np.diff(z["t0_ns"]) == 1000000000).all())
        worst = self.check_tone(z, 1234.5, {w: set(range(6))
                                            for w in (1, 2, 3)})
        print("tone, 1-s windows: worst error %.2e" % worst)
        # features: the rows' metrics and the station's position
        ft = z["features"]
        self.assertEqual(list(z["feature_names"]), [
            "snr_db", "signal_db", "noise_floor_db", "freq_offset_hz",
            "latitude", "longitude", "altitude_m"])
        for k in range(6):
            for r in range(3):
                w = r + 1
                self.assertAlmostEqual(ft[k, r, 0], 20.0 + w + k / 100, 4)
                self.assertAlmostEqual(ft[k, r, 1], -10.0 - w - k / 100, 4)
                self.assertAlmostEqual(ft[k, r, 2], -30.0 - w, 4)
                self.assertAlmostEqual(ft[k, r, 4], 45.0 + 0.1 * w, 4)
                if w == 2:
                    self.assertAlmostEqual(ft[k, r, 6], 312.25, 4)
                else:
                    self.assertTrue(np.isnan(ft[k, r, 6]))
        np.testing.assert_allclose(z["receiver_position"],
                                   [[45.1, 7.2, np.nan], [45.2, 7.4, 312.25],
                                    [45.3, 7.6, np.nan]])
        self.assertEqual(list(z["receiver_name"]), ["Rx 1", "Rx 2", "Rx 3"])
        self.assertEqual(list(z["receiver_websdr"]), [1, 2, 3])
        np.testing.assert_allclose(z["target"][:2], [45.05, 8.2])
        td = z["tdoa_us"]
        self.assertEqual(td.shape, (6, 3, 3))
        for k in range(6):
            self.assertAlmostEqual(td[k, 0, 1], 10.0 + k)
            self.assertAlmostEqual(td[k, 1, 0], -10.0 - k)
            self.assertTrue(np.isnan(td[k, 0, 2]))
        fx = z["fix"]
        for k in range(6):
            if k % 2 == 0:
                self.assertAlmostEqual(fx[k, 0], 45.5 + k / 1000)
                self.assertAlmostEqual(z["fix_cep50_m"][k], 100.0 + k)
            else:
                self.assertTrue(np.isnan(fx[k]).all())
        np.testing.assert_allclose(z["session_fix"], [45.51, 8.01])

    def test_band_edge_tone(self):
        """A tone at 4.5 kHz (0.75 of Nyquist at 12 kS/s) comes out as
        well: the resampler and the fractional delay pass it."""
        sid, _ = make_session(self.data, [12001.067, 11999.62], 4,
                              f_hz=4500.0, tdoa=False)
        z = self.run_export(sid)
        self.assertNotIn("tdoa_us", z.files)
        self.assertNotIn("target", z.files)
        worst = self.check_tone(z, 4500.0, {1: set(range(4)),
                                            2: set(range(4))})
        print("tone at 4.5 kHz: worst error %.2e" % worst)

    def test_round_trip(self):
        """A receiver already at the output rate, its chunks starting on
        the grid: the export gives back the stored samples."""
        sid, stored = make_session(self.data, [12000.0, 12003.5], 4,
                                   starts=[0.25, 0.3], tdoa=False)
        z = self.run_export(sid, "--rate", "12000")
        iq = z["iq"]
        self.assertEqual(iq.shape, (4, 2, 2, 12000))
        for k in range(4):
            got = cplx(iq, k, 0)
            want = stored[(k, 1)].astype(np.complex128)
            self.assertEqual(len(want), 12000)
            sl = slice(80 if k == 0 else 0, 12000 - 80 if k == 3 else 12000)
            err = np.abs(got[sl] - want[sl]).max()
            self.assertLess(err, 1e-3, "chunk %d: %.2e" % (k, err))

    def test_missing_chunk_and_short_windows(self):
        """Chunk 2 of websdr 2 missing: its mask is False (the 1-s window,
        and with --chunk-ms 200 its five windows), its iq zeros; the other
        windows tile each stream without a gap: the tone runs on across
        every seam, on both sides of the hole."""
        rates = [12001.067, 11999.62]
        sid, _ = make_session(self.data, rates, 5, missing={(2, 2)})
        z = self.run_export(sid)
        self.assertEqual(z["mask"].tolist(), [[True, True]] * 2 +
                         [[True, False]] + [[True, True]] * 2)
        self.assertTrue((z["iq"][2, 1] == 0).all())
        self.assertTrue(np.isnan(z["features"][2, 1]).all())
        self.check_tone(z, 1234.5, {1: set(range(5)), 2: {0, 1, 3, 4}})

        z = self.run_export(sid, "--chunk-ms", "200")
        self.assertEqual(float(z["rate_hz"]), 11995.0)   # 2399 per window
        self.assertEqual(z["iq"].shape, (25, 2, 2, 2399))
        self.assertEqual(float(z["window_s"]), 0.2)
        mask = z["mask"]
        self.assertTrue(mask[:, 0].all())
        self.assertEqual([j for j in range(25) if not mask[j, 1]],
                         list(range(10, 15)))
        self.assertEqual(list(z["chunk_index"]), [j // 5 for j in range(25)])
        self.assertTrue((np.diff(z["t0_ns"]) == 200000000).all())
        # the features of a window are its stored chunk's
        self.assertAlmostEqual(z["features"][7, 0, 0], 20.0 + 1 + 1 / 100, 4)
        self.check_tone(z, 1234.5, {1: set(range(25)),
                                    2: set(range(10)) | set(range(15, 25))})
        # gapless: the windows of websdr 1 laid end to end are one tone
        s = np.concatenate([cplx(z["iq"], j, 0) for j in range(25)])
        ph = np.unwrap(np.angle(s[80:-80]))
        step = np.diff(ph)
        self.assertLess(np.abs(step - 2 * np.pi * 1234.5 / 11995.0).max(),
                        1e-3)

    def test_recorded_session(self):
        """A session the recorder made from the simulator (3 KiwiSDRs, 2
        s): every window whole, the rate the lowest measured one
        rounded down, each receiver's power as stored, features = rows."""
        with h.Sim(count=3) as sim:
            rc, _, err = h.record(sim, self.data, 2)
        self.assertEqual(rc, 0, err)
        man, sdir = h.manifest(self.data)
        sid = man["session"]["id"]
        z = self.run_export(sid)
        rows = {(m["chunk_index"], m["websdr"]): m
                for m in man["measurements"]}
        # each receiver's median rate (measured when GPS-timed), lowest
        per = {}
        for m in rows.values():
            per.setdefault(m["websdr"], []).append(
                m["sample_rate_hz"] or m["iq_sample_rate"])
        lowest = min(sorted(v)[len(v) // 2] for v in per.values())
        self.assertEqual(float(z["rate_hz"]), math.floor(lowest))
        self.assertEqual(z["iq"].shape, (2, 3, 2, math.floor(lowest)))
        self.assertTrue(z["mask"].all())
        for (k, w), m in rows.items():
            r = w - 1
            self.assertAlmostEqual(float(z["features"][k, r, 0]),
                                   m["snr_db"], 3)
            stored = np.load(os.path.join(sdir, "chunk_%03d_websdr_%d.npy"
                                          % (k, w)))
            got = cplx(z["iq"], k, r)[100:-100]
            # the same signal at a rate a few ppm off: the same power
            self.assertAlmostEqual(float(np.mean(np.abs(got) ** 2)),
                                   float(np.mean(np.abs(stored[100:-100])
                                                 ** 2)), delta=0.05 *
                                   float(np.mean(np.abs(stored) ** 2)))
        # T0: the earliest chunk-0 timestamp (within a microsecond)
        self.assertLess(abs(int(z["t0_ns"][0]) - min(
            h.ts_us(m) * 1000 for m in rows.values()
            if m["chunk_index"] == 0)), 1000)

    def test_libraries_not_linked(self):
        """libzip, libsoxr and GSL are loaded by an export (GSL also by a
        fix), ncursesw by the console, not at every start: the binary
        does not link them (store/lazylib.c, src/base/lazygsl.c,
        ui/lazycurses.c)."""
        out = subprocess.run(["ldd", h.REC], capture_output=True,
                             text=True).stdout
        self.assertIn("libc.so", out)
        for lib in ("libzip", "libsoxr", "libgsl", "libncurses",
                    "libtinfo"):
            self.assertNotIn(lib, out)

    def test_local_receiver_and_options(self):
        """A receiver without GPS (no t0_ns) is placed by its rows'
        timestamps; bad options are refused with the flag named."""
        sid, _ = make_session(self.data, [12001.067, 11999.62], 3,
                              gps=[True, False], tdoa=False)
        z = self.run_export(sid)
        # timestamps are rounded to the microsecond: 1 us at 1234.5 Hz is
        # 8 mrad, 4e-3 of the amplitude 0.5
        self.check_tone(z, 1234.5, {1: {0, 1, 2}, 2: {0, 1, 2}}, tol=6e-3)
        p = export(self.data, sid, self.out, "--rate", "12000.5")
        self.assertEqual(p.returncode, 74, p.stderr)
        self.assertIn("whole number", p.stderr)
        p = export(self.data, sid, self.out, "--chunk-ms", "0")
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("--chunk-ms", p.stderr)
        p = export(self.data, sid, self.out, "--format", "zip")
        self.assertEqual(p.returncode, 64, p.stderr)
        p = export(self.data, str(uuid.uuid4()), self.out)
        self.assertEqual(p.returncode, 66, p.stderr)
        # a name is looked up among the sessions, never used as a path
        p = export(self.data, "../../etc", self.out)
        self.assertEqual(p.returncode, 66, p.stderr)
        self.assertIn("no session", p.stderr)
        # a chunk file that is not what its row says: an error naming it
        path = os.path.join(self.data, "sessions", sid,
                            "chunk_001_websdr_1.npy")
        np.save(path, np.zeros(10, np.complex64))
        out2 = os.path.join(self.tmp, "out2")
        p = export(self.data, sid, out2)
        self.assertEqual(p.returncode, 74, p.stderr)
        self.assertIn("chunk_001_websdr_1.npy", p.stderr)
        self.assertEqual(os.listdir(out2), [])   # no file, no temporary


if __name__ == "__main__":
    unittest.main(verbosity=2)
