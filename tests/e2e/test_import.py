"""test_import.py -- `heimdall-rec import` on kiwirecorder GPS-stamped IQ WAV
files that this test writes itself, byte for byte as kiwirecorder.py does
(_write_wav_header: RIFF, a 16-byte fmt chunk with the rate rounded to an
integer; _write_samples: a 10-byte kiwi chunk '<BBII' before each data
chunk of 512 I,Q int16 pairs; the RIFF size rewritten after each frame).

Each recording holds a tone and noise at a known level, sampled at its own
real rate (12001.1 .. S/s, the header says 12001) from its own start, with
GPS stamps (time of week) that follow the samples exactly. The import must
cut the common overlap on the recordings' own time line: chunk k of every
station starts at origin + k (within a sample), holds exactly the file's
samples of that second, and the rows say so (t0_ns, the first sample's
time to the nanosecond, and the measured rate); a file that never had a fix
(255) and one with a gap are refused with their reasons while the others
import. Five recordings of one PN-modulated transmission at the original
network's positions give TDoAs and fixes as a live session does."""

import datetime, glob, json, os, struct, subprocess, sys, tempfile, unittest

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import harness as h

GPS_EPOCH = 315964800          # 1980-01-06 in Unix time
LEAP = 18                       # GPS - UTC since 2017
START = int(datetime.datetime(2026, 3, 4, 12, 0, 0,
                              tzinfo=datetime.timezone.utc).timestamp())
START_NS = START * 10**9
FREQ_HZ = 10000000
TONE_HZ = 1000.0
NBLK = 512


def tow_ns(utc_ns):
    """UTC ns -> GPS time of week ns."""
    return (utc_ns - GPS_EPOCH * 10**9 + LEAP * 10**9) % (604800 * 10**9)


def write_kiwi_wav(path, fs, start_utc_ns, seconds, seed, solution=0,
                   drop_block=None, stale_first=False, signal=None):
    """A kiwirecorder -w file; returns the int16 I,Q pairs [n, 2] it holds
    (every frame written, in file order). The samples: a tone at TONE_HZ
    (amplitude 3000), or signal(t) (t: each sample's time in s after
    START on the file's own time base), plus noise (300 per component)."""
    rng = np.random.default_rng(seed)
    nblocks = int(seconds * fs) // NBLK
    n = nblocks * NBLK
    t = np.arange(n) / fs
    if signal is None:
        sig = 3000 * np.exp(2j * np.pi * TONE_HZ * t)
    else:
        sig = signal((start_utc_ns - START_NS) / 1e9 + t)
    sig = sig + (rng.normal(0, 300, n) + 1j * rng.normal(0, 300, n))
    iq = np.empty((n, 2), dtype="<i2")
    iq[:, 0] = np.round(sig.real)
    iq[:, 1] = np.round(sig.imag)
    rate = int(fs + 0.5)
    with open(path, "wb") as f:
        # kiwirecorder writes a header with filesize 100 first ...
        f.write(struct.pack("<4sI4s", b"RIFF", 100 - 8, b"WAVE"))
        f.write(struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 2, rate, rate * 4,
                            4, 16))
        kept = []
        for b in range(nblocks):
            if b == drop_block:
                continue        # a frame lost: the stamps jump
            s0 = b * NBLK
            t_ns = start_utc_ns + round(s0 * 1e9 / fs)
            tow = tow_ns(t_ns)
            if stale_first and b == 0:
                tow = tow_ns(start_utc_ns - 7 * 10**9)   # an old stamp
            f.write(struct.pack("<4sIBBII", b"kiwi", 10, solution, 0,
                                tow // 10**9, tow % 10**9))
            data = iq[s0:s0 + NBLK].tobytes()
            f.write(struct.pack("<4sI", b"data", len(data)))
            f.write(data)
            kept.append(iq[s0:s0 + NBLK])
        size = f.tell()
        # ... and rewrites it with the real size after every frame
        f.seek(0)
        f.write(struct.pack("<4sI4s", b"RIFF", size - 8, b"WAVE"))
    return np.concatenate(kept)


def name_for(tmp, k):
    ts = datetime.datetime.fromtimestamp(START, datetime.timezone.utc)
    return os.path.join(tmp, "%s_%d_st%d_iq.wav" % (
        ts.strftime("%Y%m%dT%H%M%SZ"), FREQ_HZ, k))


def stations_file(tmp, paths, types=None):
    st = []
    for i, p in enumerate(paths):
        st.append({"name": "Rec%d" % (i + 1),
                   "type": (types or {}).get(i, "kiwiwav"),
                   "url": "file://" + p,
                   "latitude": 45.0 + i, "longitude": 7.0 + i})
    path = os.path.join(tmp, "stations.json")
    with open(path, "w") as f:
        json.dump({"stations": st}, f)
    return path


def run_import(stations, data, extra=(), json_out=True):
    args = [h.REC, "import", "--stations", stations, "--data-dir", data,
            "--name", "imported", "--source", "unknown"] + list(extra)
    if json_out:
        args.append("--json")
    p = subprocess.run(args, capture_output=True, text=True, timeout=120)
    events = [json.loads(l) for l in p.stdout.splitlines()] if json_out \
        else []
    return p.returncode, events, p.stderr


def iso(row):
    d = datetime.datetime.strptime(row["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    return d.replace(tzinfo=datetime.timezone.utc).timestamp()


class ImportTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hr-import-")
        self.addCleanup(h.rmtree, self.tmp)
        self.data = os.path.join(self.tmp, "data")

    def test_import_good_and_refused(self):
        # three good recordings at their own rates and starts (the second
        # with a stale first stamp), one that never had a fix, one gapped
        fs = [12001.10, 12001.13, 12000.95, 12001.0, 12001.2]
        # station 3 starts last, exactly on a millisecond; station 1
        # almost 5 s before it (its replay starts at the origin)
        off = [-4876543210, 300012345, 550000000, 100000000, 200000000]
        starts = [START_NS + o for o in off]
        paths = [name_for(self.tmp, k + 1) for k in range(5)]
        held = [write_kiwi_wav(paths[0], fs[0], starts[0], 17.5, 1),
                write_kiwi_wav(paths[1], fs[1], starts[1], 12.5, 2,
                               stale_first=True),
                write_kiwi_wav(paths[2], fs[2], starts[2], 12.5, 3),
                write_kiwi_wav(paths[3], fs[3], starts[3], 12.5, 4,
                               solution=255),
                write_kiwi_wav(paths[4], fs[4], starts[4], 12.5, 5,
                               drop_block=100)]
        stations = stations_file(self.tmp, paths)
        rc, events, err = run_import(stations, self.data,
                                     ["--duration", "10"])
        # the refused files' chunks are missing: partial
        self.assertEqual(rc, 75, err)
        self.assertIn("never had a GPS fix", err)
        self.assertIn("gap", err)
        fin = h.final(events)
        self.assertEqual(fin["status"], "completed", fin)
        self.assertEqual(fin["frequency_hz"], FREQ_HZ)   # from the names
        summ = fin["summary"]
        self.assertEqual(summ["total_chunks"], 10)
        self.assertEqual(summ["chunks_stored"], 30)
        self.assertEqual(summ["chunks_missing"], 20)
        self.assertIn("never had a GPS fix (last_gps_solution 255",
                      h.station(summ, 4)["reason"])
        self.assertIn("gap: the GPS stamps jump", h.station(summ, 5)["reason"])
        for k in (1, 2, 3):
            st = h.station(summ, k)
            self.assertEqual(st["chunks_ok"], 10, st)
            self.assertAlmostEqual(st["sample_rate"], fs[k - 1], delta=1e-3)
        for m in summ["missing"]:
            self.assertIn(m["websdr"], (4, 5), m)
            self.assertIn("refused:", m["reason"])

        m, folder = h.manifest(self.data)
        rows = {(r["websdr"], r["chunk_index"]): r for r in m["measurements"]}
        self.assertEqual(len(rows), 30)
        # the origin: the latest usable start (station 3), 1 us later up
        # to the ms
        t0_ns = (starts[2] + 1000 + 999999) // 10**6 * 10**6
        self.assertEqual(t0_ns, starts[2] + 10**6)
        t0 = t0_ns / 1e9
        for k in range(10):
            for w in (1, 2, 3):
                r = rows[(w, k)]
                f = fs[w - 1]
                self.assertEqual(r["time_source"], "gps", r)
                self.assertEqual(r["frequency_hz"], FREQ_HZ)
                # chunk k starts within a sample after origin + k
                self.assertGreaterEqual(iso(r), t0 + k - 2e-6, r)
                self.assertLess(iso(r), t0 + k + 1 / f + 2e-6, r)
                # and holds exactly the file's samples of that second
                first = int(np.ceil((t0_ns + k * 10**9 - starts[w - 1])
                                    * f / 1e9 - 1e-6))
                n = r["iq_samples_count"]
                self.assertIn(n, (int(f), int(f) + 1), r)
                got = np.load(os.path.join(folder, os.path.basename(
                    r["iq_data_location"])))
                self.assertEqual(got.dtype, np.complex64)
                src = held[w - 1][first:first + n]
                want = (src[:, 0] + 1j * src[:, 1]).astype(np.complex64) \
                    / 32768
                self.assertTrue(np.array_equal(got, want), (w, k, first))
                # the tone (amplitude 3000) over the noise (300 per
                # component) that the +-5 kHz passband holds: 10/12 of it
                self.assertAlmostEqual(r["frequency_offset_hz"], TONE_HZ,
                                       delta=2)
                snr = 10 * np.log10(3000**2 / (2 * 300**2 * 10000 / f))
                self.assertAlmostEqual(r["snr_db"], snr, delta=1.0)
                # the first sample's exact time, from the GPS stamps' line
                # (stamps written to the ns), and the rate they measure
                exact = starts[w - 1] + round(first * 1e9 / f)   # ints
                self.assertLess(abs(r["t0_ns"] - exact), 100, r)
                self.assertAlmostEqual(r["sample_rate_hz"], f, delta=1e-4)
        # receiver:status says why each refused station failed
        fails = {e["data"]["websdr"]: e["data"]["reason"] for e in events
                 if e["event"] == "receiver:status"
                 and e["data"]["state"] == "failed"}
        self.assertEqual(sorted(fails), [4, 5], fails)

    def test_tdoa_and_fix(self):
        """One PN-modulated transmission recorded by five KiwiSDRs at the
        original network's positions, each file on its own time base (its
        start and real rate, the stamps as a KiwiSDR gives them) and the
        signal delayed by the station's geodesic distance / c: the import
        gives the same TDoA and fixes as a live session -- a fix per chunk
        and the session fix near the transmitter, with the recordings' own
        time."""
        import test_locate as tl
        with open(tl.POSITIONS) as f:
            pos = json.load(f)["stations"][:5]
        rng = np.random.default_rng(7)
        chip = 1 / 6000.0                 # QPSK chips at 6 kHz
        sigma = chip / 2                  # Gaussian pulses: a continuous
        chips = (rng.choice([-1, 1], 200000) +   # spectrum: no tone
                 1j * rng.choice([-1, 1], 200000)) / np.sqrt(2)  # to notch
        first = -10.0                     # the first chip's time (s)

        def transmitted(t):
            """The PN signal at any instant t (s after START): exact,
            no interpolation."""
            m0 = np.floor((t - first) / chip).astype(int)
            out = np.zeros(len(t), dtype=complex)
            for dm in range(-4, 6):
                m = m0 + dm
                out += chips[m] * np.exp(-0.5 * ((t - first - m * chip)
                                                 / sigma) ** 2)
            return out * 3000

        fs = [12001.10, 12001.13, 12000.95, 12001.02, 12001.21]
        paths, stations = [], []
        for i, st in enumerate(pos):
            delay = h.geodesic_m(tl.TX_LAT, tl.TX_LON, st["latitude"],
                                  st["longitude"]) / 299792458.0
            start = START_NS + 41234567 * i
            paths.append(name_for(self.tmp, i + 1))
            write_kiwi_wav(paths[-1], fs[i], start, 5.5, 20 + i,
                           signal=lambda t, d=delay: transmitted(t - d))
            stations.append({"name": st["name"], "type": "kiwiwav",
                             "url": "file://" + paths[-1],
                             "latitude": st["latitude"],
                             "longitude": st["longitude"]})
        stfile = os.path.join(self.tmp, "stations.json")
        with open(stfile, "w") as f:
            json.dump({"stations": stations}, f)
        p = subprocess.run([h.REC, "sources", "add", "--name", "tx",
                            "--lat", str(tl.TX_LAT), "--lon", str(tl.TX_LON),
                            "--data-dir", self.data], capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        args = [h.REC, "import", "--stations", stfile, "--data-dir",
                self.data, "--name", "located", "--source", "tx", "--json"]
        p = subprocess.run(args, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr)
        events = [json.loads(l) for l in p.stdout.splitlines()]
        fixes = [e["data"] for e in events if e["event"] == "session:fix"]
        tdoas = [e["data"] for e in events if e["event"] == "session:tdoa"]
        self.assertEqual(len(tdoas), 5, tdoas)
        chunk_fixes = [f for f in fixes if not f.get("final")]
        self.assertEqual(sorted(f["chunk_index"] for f in chunk_fixes),
                         list(range(5)))
        for f in chunk_fixes:
            self.assertTrue(f["ok"], f)
            self.assertEqual(sorted(f["receivers"]), [1, 2, 3, 4, 5], f)
            err = h.geodesic_m(tl.TX_LAT, tl.TX_LON, f["latitude"],
                                f["longitude"])
            self.assertLess(err, 200, f)
            self.assertAlmostEqual(f["error_m"], err, delta=1)
        final = [f for f in fixes if f.get("final")]
        self.assertEqual(len(final), 1, fixes)
        self.assertTrue(final[0]["ok"], final[0])
        self.assertLess(h.geodesic_m(tl.TX_LAT, tl.TX_LON,
                                      final[0]["latitude"],
                                      final[0]["longitude"]), 100, final[0])
        # the pairs' TDoA is the geometry's (the files' own starts and
        # rates cancel out through their stamps)
        for d in tdoas:
            for pr in d["pairs"]:
                a, b = pos[pr["websdr_a"] - 1], pos[pr["websdr_b"] - 1]
                want = (h.geodesic_m(tl.TX_LAT, tl.TX_LON, a["latitude"],
                                      a["longitude"]) -
                        h.geodesic_m(tl.TX_LAT, tl.TX_LON, b["latitude"],
                                      b["longitude"])) / 299.792458
                self.assertAlmostEqual(pr["tdoa_us"], want, delta=1.0,
                                       msg=pr)

    def test_fewer_than_two_usable(self):
        paths = [name_for(self.tmp, k + 1) for k in range(3)]
        write_kiwi_wav(paths[0], 12001.1, START_NS, 3, 1)
        write_kiwi_wav(paths[1], 12001.1, START_NS, 3, 2,
                       solution=254)
        with open(paths[2], "wb") as f:
            f.write(b"RIFF\x04\x00\x00\x00WAVE")     # no fmt, no samples
        rc, events, err = run_import(stations_file(self.tmp, paths),
                                     self.data, json_out=False)
        self.assertEqual(rc, 65, err)
        self.assertIn("no recent GPS fix (last_gps_solution 254", err)
        self.assertIn("no fmt chunk", err)
        self.assertIn("1 of 3 recordings usable", err)
        self.assertEqual(glob.glob(os.path.join(self.data, "sessions", "*")),
                         [])

    def test_human_output_and_whole_overlap(self):
        paths = [name_for(self.tmp, k + 1) for k in range(3)]
        for k, p in enumerate(paths):
            write_kiwi_wav(p, 12001.1, START_NS + k * 100000000, 4.2, k)
        rc, _, err = run_import(stations_file(self.tmp, paths), self.data,
                                json_out=False)
        self.assertEqual(rc, 0, err)
        # 4.2 s files, starts 0.2 s apart: 3 whole seconds in common
        self.assertIn("common overlap: 3 s from", err)
        self.assertIn("chunk 3/3", err)
        m, _ = h.manifest(self.data)
        self.assertEqual(len(m["measurements"]), 9)

    def test_wrong_station_types(self):
        paths = [name_for(self.tmp, k + 1) for k in range(2)]
        for k, p in enumerate(paths):
            write_kiwi_wav(p, 12001.1, START_NS, 2, k)
        # a network receiver in an import's stations file
        st = stations_file(self.tmp, paths)
        with open(st) as f:
            doc = json.load(f)
        doc["stations"].append({"name": "Live", "type": "kiwisdr",
                                "url": "http://127.0.0.1:1",
                                "latitude": 1, "longitude": 1})
        with open(st, "w") as f:
            json.dump(doc, f)
        rc, _, err = run_import(st, self.data, json_out=False)
        self.assertEqual(rc, 78, err)
        self.assertIn("import replays recordings", err)
        # a recording in record's stations file
        st = stations_file(self.tmp, paths)
        p = subprocess.run([h.REC, "record", "--stations", st, "--data-dir",
                            self.data, "--name", "x", "--freq", "10",
                            "--duration", "1", "--source", "unknown"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn("heimdall-rec import", p.stderr)
        # a kiwiwav url that is not a file, a file url for a receiver
        bad = stations_file(self.tmp, ["/x.wav"], types={0: "kiwisdr"})
        p = subprocess.run([h.REC, "import", "--stations", bad, "--name",
                            "x", "--source", "unknown", "--data-dir",
                            self.data], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 78, p.stderr)
        self.assertIn("file:// is for kiwiwav stations", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
