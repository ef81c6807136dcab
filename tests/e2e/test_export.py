"""test_export.py -- `heimdall-rec export` to SigMF, checked with the
specification (sigmf_check.py, written from the SigMF spec) and with a real
SDR tool: inspectrum opens a recording under Xvfb and its screenshot must
show the simulated tone at its offset. The screenshot is kept in
tests/artifacts/export/ (git-ignored).

One session is recorded from the simulator at 145.5 MHz: station 1 a
KiwiSDR (GPS-timed) with a tone 1500 Hz above the dial, station 2 a KiwiSDR
that stalls after 1.5 s (chunks missing in the middle: gaps), station 3 an
OpenWebRX (real audio: rf32_le). The source is a known one with
coordinates."""

import glob, json, os, shutil, signal, subprocess, sys, tarfile, tempfile
import time, unittest

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import harness as h
import sigmf_check

SRC = os.environ.get("HEIMDALL_SRC",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
ART = os.path.join(SRC, "tests", "artifacts", "export")
TONE_HZ = 1500.0
ALT_1 = 287.5     # station 1's altitude in the stations file (m, WGS84)


def run(*args, **kw):
    return subprocess.run([h.REC] + list(args), capture_output=True,
                          text=True, timeout=kw.get("timeout", 60))


def iso_ns(t0_ns):
    import datetime
    s, ns = divmod(t0_ns, 10 ** 9)
    d = datetime.datetime.utcfromtimestamp(s)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % ns


def read_ppm(path):
    """A binary PPM (P6, maxval 255) as an array (h, w, 3)."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P6" and fields[3] == b"255", fields
    w, hh = int(fields[1]), int(fields[2])
    return np.frombuffer(data[pos + 1:pos + 1 + w * hh * 3],
                         np.uint8).reshape(hh, w, 3).astype(int)


def spectrogram_tone(img):
    """Where the spectrogram is on the screen and which row holds the
    brightest narrow line. inspectrum draws the spectrogram with time to
    the right and frequency upwards, the whole band (the sample rate) over
    the FFT size in rows, 0 Hz in the middle; noise is dark blue, a strong
    tone yellow. Returns (top, bottom, left, right, tone_row, coverage)
    with coverage the fraction of the spectrogram's columns where the tone
    row is yellow; None before the spectrogram is drawn."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    blue = (b > r + 15) & (b > 30)
    cols = blue.mean(axis=0)
    xs = np.nonzero(cols > 0.2)[0]
    if len(xs) < 10:
        return None
    # the longest run of spectrogram columns (the annotations' 1-pixel
    # white borders between chunks do not split it)
    runs = np.split(xs, np.nonzero(np.diff(xs) > 3)[0] + 1)
    xr = max(runs, key=len)
    left, right = int(xr[0]), int(xr[-1])
    rows = blue[:, left:right + 1].mean(axis=1)
    ys = np.nonzero(rows > 0.2)[0]
    top, bottom = int(ys[0]), int(ys[-1])
    sub = img[top:bottom + 1, left:right + 1]
    white = (sub.min(axis=2) > 200)
    score = (sub[..., 0] + sub[..., 1]) / 2.0 - sub[..., 2]
    score = np.where(white, 0, score)
    yellow = score > 100
    prof = yellow.mean(axis=1)
    best = int(np.argmax(prof))
    if prof[best] < 0.5:
        return top, bottom, left, right, None, float(prof[best])
    # centroid of the line's rows (1-2 pixels thick)
    near = [y for y in range(max(0, best - 3), min(len(prof), best + 4))
            if prof[y] >= 0.5 * prof[best]]
    row = top + float(np.mean(near))
    return top, bottom, left, right, row, float(prof[best])


class ExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hr-export-")
        cls.data = os.path.join(cls.tmp, "data")
        p = run("sources", "add", "--name", "Beacon", "--lat", "45.1",
                "--lon", "7.7", "--freq", "145.5", "--data-dir", cls.data)
        assert p.returncode == 0, p.stderr
        specs = ["i=1,offset=%d,snr=30,max=200000000" % TONE_HZ,
                 "i=2,max=200000000,fault=stall,after=1.5",
                 "i=3,type=openwebrx"]
        with h.Sim(3, specs, tmp=cls.tmp) as sim:
            # station 1 with an altitude (m above the WGS84 ellipsoid),
            # the others without: core:geolocation has 3 coordinates or 2
            with open(sim.stations) as f:
                sf = json.load(f)
            sf["stations"][0]["altitude"] = ALT_1
            with open(sim.stations, "w") as f:
                json.dump(sf, f)
            cls.rc, cls.events, cls.err = h.record(
                sim, cls.data, 6, name="export test", freq="145.5",
                source="Beacon")
            # two sessions of one name: SESSION by name is ambiguous
            for _ in range(2):
                rc, _, err = h.record(sim, cls.data, 1, name="dup",
                                      freq="145.5")
                assert rc in (0, 75), err
        for path in glob.glob(os.path.join(cls.data, "sessions", "*",
                                           "manifest.json")):
            with open(path) as f:
                m = json.load(f)
            if m["session"]["session_name"] == "export test":
                cls.m = m
        cls.id = cls.m["session"]["id"]
        cls.out = os.path.join(cls.tmp, "out")
        p = run("export", "export test", "--data-dir", cls.data, "--out",
                cls.out, "--json")
        assert p.returncode == 0, p.stderr
        cls.res = json.loads(p.stdout)
        cls.dir = cls.res["dir"]
        cls.base = cls.res["base"]

    @classmethod
    def tearDownClass(cls):
        h.rmtree(cls.tmp)

    def meta(self, w):
        with open(os.path.join(self.dir, "%s-websdr%d.sigmf-meta" %
                               (self.base, w))) as f:
            return json.load(f)

    def rows(self, w):
        return sorted((r for r in self.m["measurements"]
                       if r["websdr"] == w), key=lambda r: r["chunk_index"])

    def test_session_recorded_as_planned(self):
        self.assertIn(self.rc, (0, 75), self.err)
        self.assertEqual(len(self.rows(1)), 6)
        self.assertEqual(len(self.rows(3)), 6)
        ks = [r["chunk_index"] for r in self.rows(2)]
        self.assertTrue(0 < len(ks) < 6, ks)
        self.assertNotEqual(ks, list(range(ks[0], ks[0] + len(ks))),
                            "no gap inside station 2's chunks: %s" % ks)
        self.assertEqual(self.base, "export-test-" + self.id[:8])

    def test_checker_catches_violations(self):
        """The checker is not a rubber stamp: each broken file fails."""
        good = self.meta(1)
        cases = {
            "no datatype": lambda m: m["global"].pop("core:datatype"),
            "bad datatype": lambda m: m["global"].update(
                {"core:datatype": "cf32"}),
            "no version": lambda m: m["global"].pop("core:version"),
            "unsorted": lambda m: m["captures"].reverse(),
            "offset time": lambda m: m["captures"][0].update(
                {"core:datetime": "2026-01-01T00:00:00+01:00"}),
            "string start": lambda m: m["captures"][0].update(
                {"core:sample_start": "0"}),
            "undeclared ns": lambda m: m["global"].update(
                {"core:extensions": []}),
            "lat first": lambda m: m["global"]["core:geolocation"].update(
                {"coordinates": [45.0, 200.0]}),
            "extension extra": lambda m: m["global"]["core:extensions"][0]
            .update({"url": "x"}),
            "no annotations": lambda m: m.pop("annotations"),
            "rate string": lambda m: m["global"].update(
                {"core:sample_rate": "12000"}),
        }
        for name, breakit in cases.items():
            m = json.loads(json.dumps(good))
            breakit(m)
            p = os.path.join(self.tmp, "broken.sigmf-meta")
            with open(p, "w") as f:
                json.dump(m, f)
            self.assertNotEqual(sigmf_check.check_meta(p), [], name)
        p = os.path.join(self.tmp, "good.sigmf-meta")
        with open(p, "w") as f:
            json.dump(good, f)
        self.assertEqual(sigmf_check.check_meta(p), [])

    def test_every_meta_is_compliant(self):
        metas = sorted(glob.glob(os.path.join(self.dir, "*.sigmf-meta")))
        self.assertEqual(len(metas), 3, metas)
        for p in metas:
            d = p[:-len(".sigmf-meta")] + ".sigmf-data"
            self.assertTrue(os.path.isfile(d), d)
            self.assertEqual(sigmf_check.check_meta(p, d), [], p)
        colls = glob.glob(os.path.join(self.dir, "*.sigmf-collection"))
        self.assertEqual(len(colls), 1)
        self.assertEqual(sigmf_check.check_collection(colls[0]), [])
        # nothing else in the folder (no temporaries)
        self.assertEqual(len(os.listdir(self.dir)), 7, os.listdir(self.dir))

    def test_data_bytes_are_the_chunks(self):
        for w, dtype, dt in ((1, np.complex64, "cf32_le"),
                             (2, np.complex64, "cf32_le"),
                             (3, np.float32, "rf32_le")):
            chunks = [np.load(os.path.join(self.data, r["iq_data_location"]))
                      for r in self.rows(w)]
            for c in chunks:
                self.assertEqual(c.dtype, dtype)
            with open(os.path.join(self.dir, "%s-websdr%d.sigmf-data" %
                                   (self.base, w)), "rb") as f:
                got = f.read()
            self.assertEqual(got, b"".join(c.astype("<" + c.dtype.str[1:])
                                           .tobytes() for c in chunks), w)
            m = self.meta(w)
            self.assertEqual(m["global"]["core:datatype"], dt)
            # each capture starts at its chunk's first sample
            start = 0
            for cap, r, c in zip(m["captures"], self.rows(w), chunks):
                self.assertEqual(cap["core:sample_start"], start)
                self.assertEqual(cap["heimdall:chunk_index"],
                                 r["chunk_index"])
                start += len(c)
            self.assertEqual(len(m["captures"]), len(chunks))

    def test_global_and_captures(self):
        st = {s["websdr"]: s for s in self.m["stations"]}
        for w in (1, 2, 3):
            g = self.meta(w)["global"]
            self.assertEqual(g["core:version"], "1.2.0")
            self.assertTrue(g["core:recorder"].startswith("heimdall-rec "))
            self.assertIn("export test", g["core:description"])
            # GeoJSON: longitude, latitude[, altitude when known]
            self.assertEqual(g["core:geolocation"]["coordinates"],
                             [st[w]["longitude"], st[w]["latitude"]] +
                             ([ALT_1] if w == 1 else []))
            self.assertEqual("altitude" in st[w], w == 1)
            self.assertIn({"name": "heimdall", "version": "1.0.0",
                           "optional": True}, g["core:extensions"])
        # the measured rate: the last GPS fit of a KiwiSDR, not 12000
        g1 = self.meta(1)["global"]
        self.assertEqual(g1["core:sample_rate"],
                         self.rows(1)[-1]["sample_rate_hz"])
        self.assertNotEqual(g1["core:sample_rate"], 12000)
        self.assertEqual(self.meta(3)["global"]["core:sample_rate"],
                         self.rows(3)[-1]["iq_sample_rate"])
        for cap, r in zip(self.meta(1)["captures"], self.rows(1)):
            self.assertEqual(cap["core:frequency"], 145.5e6)
            self.assertEqual(r["time_source"], "gps")
            # the first sample, to the nanosecond
            self.assertEqual(cap["core:datetime"], iso_ns(r["t0_ns"]))
        for cap, r in zip(self.meta(3)["captures"], self.rows(3)):
            # no GPS: the grid's timestamp (microseconds)
            self.assertEqual(cap["core:datetime"], r["timestamp"])

    def test_annotations_carry_the_metrics(self):
        for w in (1, 3):
            anns = [a for a in self.meta(w)["annotations"]
                    if "heimdall:snr_db" in a]
            self.assertEqual(len(anns), len(self.rows(w)))
            for a, r in zip(anns, self.rows(w)):
                self.assertEqual(a["heimdall:snr_db"], r["snr_db"])
                self.assertEqual(a["heimdall:noise_floor_db"],
                                 r["noise_floor_db"])
                self.assertEqual(a["heimdall:frequency_offset_hz"],
                                 r["frequency_offset_hz"])
                self.assertEqual(a["heimdall:signal_db"],
                                 r["signal_strength_db"])
                self.assertEqual(a["heimdall:samples_lost"],
                                 r["samples_lost"])
                self.assertEqual(a["heimdall:time_source"],
                                 r["time_source"])
                self.assertEqual(a["core:sample_count"],
                                 r["iq_samples_count"])
                self.assertEqual(a["core:label"],
                                 "chunk %d" % r["chunk_index"])

    def test_gaps_make_new_captures(self):
        m = self.meta(2)
        rows = self.rows(2)
        stored = [r["chunk_index"] for r in rows]
        missing = sorted(x["chunk_index"] for x in self.m["missing"]
                         if x["websdr"] == 2)
        self.assertEqual(sorted(stored + missing), list(range(6)))
        caps = m["captures"]
        self.assertEqual([c["heimdall:chunk_index"] for c in caps], stored)
        gaps = [a for a in m["annotations"]
                if a["core:label"].startswith("gap")]
        self.assertEqual(sorted(k for a in gaps
                                for k in a["heimdall:missing_chunks"]),
                         missing)
        for a in gaps:
            self.assertEqual(a["core:sample_count"], 0)
        # across each gap the next capture starts where the last chunk's
        # samples end, and its datetime jumps by the missing seconds
        import datetime
        for prev, cap, pr, r in zip(caps, caps[1:], rows, rows[1:]):
            jump = r["chunk_index"] - pr["chunk_index"]
            self.assertEqual(cap["core:sample_start"] -
                             prev["core:sample_start"],
                             pr["iq_samples_count"])
            if jump > 1:
                a = [g for g in gaps
                     if g["core:sample_start"] == cap["core:sample_start"]]
                self.assertEqual(len(a), 1, gaps)
                self.assertEqual(a[0]["heimdall:missing_chunks"],
                                 list(range(pr["chunk_index"] + 1,
                                            r["chunk_index"])))
            dt = (r["t0_ns"] - pr["t0_ns"]) / 1e9 if r.get("t0_ns") and \
                pr.get("t0_ns") else None
            if dt is not None:
                self.assertAlmostEqual(dt, jump, delta=0.01)
                self.assertEqual(cap["core:datetime"], iso_ns(r["t0_ns"]))

    def test_collection(self):
        with open(self.res["collection"]) as f:
            c = json.load(f)["collection"]
        self.assertEqual([s["name"] for s in c["core:streams"]],
                         ["%s-websdr%d" % (self.base, w) for w in (1, 2, 3)])
        s = c["heimdall:session"]
        self.assertEqual(s["session_name"], "export test")
        self.assertEqual(s["frequency_hz"], 145500000)
        self.assertEqual(s["status"], self.m["session"]["status"])
        self.assertEqual(s["id"], self.id)
        src = c["heimdall:source"]
        self.assertEqual(src["name"], "Beacon")
        self.assertEqual((src["latitude"], src["longitude"]), (45.1, 7.7))
        self.assertEqual([r["websdr"] for r in c["heimdall:receivers"]],
                         [1, 2, 3])
        self.assertEqual([r.get("altitude") for r in c["heimdall:receivers"]],
                         [ALT_1, None, None])
        fixes = [f for f in self.m.get("fixes", []) if f.get("final")]
        if fixes:
            self.assertEqual(c["heimdall:fix"]["ok"], fixes[0]["ok"])
        else:
            self.assertNotIn("heimdall:fix", c)

    def test_archive(self):
        out = os.path.join(self.tmp, "arch")
        p = run("export", self.id, "--data-dir", self.data, "--out", out,
                "--archive")
        self.assertEqual(p.returncode, 0, p.stderr)
        path = os.path.join(out, self.base + ".sigmf")
        self.assertEqual(os.listdir(out), [self.base + ".sigmf"])
        with open(path, "rb") as f:
            head = f.read(512)
        self.assertEqual(head[257:263], b"ustar\x00")  # POSIX tar
        with tarfile.open(path) as t:
            names = t.getnames()
            self.assertEqual(sorted(names), sorted(
                self.base + "/" + n for n in os.listdir(self.dir)))
            for n in names:
                with open(os.path.join(self.dir, os.path.basename(n)),
                          "rb") as f:
                    self.assertEqual(t.extractfile(n).read(), f.read(), n)

    def test_cli(self):
        d = ["--data-dir", self.data]
        out = ["--out", os.path.join(self.tmp, "cli")]
        p = run("export", "no such session", *d, *out)
        self.assertEqual(p.returncode, 66, p.stderr)
        self.assertIn("no session", p.stderr)
        p = run("export", "dup", *d, *out)
        self.assertEqual(p.returncode, 64, p.stderr)
        self.assertIn("ambiguous", p.stderr)
        p = run("export", self.id[:8], *d, *out)      # an id prefix
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(self.base, p.stdout)
        p = run("export", self.id, "--format", "arrays", "--archive", *d,
                *out)
        self.assertEqual(p.returncode, 64, p.stderr)
        p = run("export", self.id, "--rate", "12000", *d, *out)
        self.assertEqual(p.returncode, 64, p.stderr)
        p = run("export", self.id, "--format", "wav", *d, *out)
        self.assertEqual(p.returncode, 64, p.stderr)
        p = run("export", *d)
        self.assertEqual(p.returncode, 64, p.stderr)
        p = run("export", "--help")
        self.assertEqual(p.returncode, 0)
        self.assertIn("--archive", p.stdout)
        self.assertIn("sigmf", p.stdout)

    def test_inspectrum_shows_the_tone(self):
        """inspectrum (Debian) opens station 1's recording under Xvfb; the
        screenshot's spectrogram shows the tone TONE_HZ above the centre
        across the whole recording."""
        os.makedirs(ART, exist_ok=True)
        shot = os.path.join(ART, "inspectrum.png")
        meta = os.path.join(self.dir, "%s-websdr1.sigmf-meta" % self.base)
        fs = self.meta(1)["global"]["core:sample_rate"]
        rfd, wfd = os.pipe()
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(wfd), "-screen",
                                 "0", "1280x800x24", "-nolisten", "tcp"],
                                pass_fds=(wfd,), stderr=subprocess.DEVNULL)
        os.close(wfd)
        self.addCleanup(lambda: (xvfb.terminate(), xvfb.wait(10)))
        with os.fdopen(rfd) as f:
            disp = ":" + f.readline().strip()
        env = dict(os.environ, DISPLAY=disp, QT_QPA_PLATFORM="xcb",
                   XDG_RUNTIME_DIR=tempfile.mkdtemp(dir=self.tmp))
        log = open(os.path.join(ART, "inspectrum.log"), "w")
        self.addCleanup(log.close)
        ins = subprocess.Popen(["inspectrum", meta], env=env,
                               stdout=log, stderr=log)
        self.addCleanup(lambda: (ins.terminate(), ins.wait(10)))
        win = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible",
                              "--name", "inspectrum"], env=env,
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(win.returncode, 0, win.stderr)
        subprocess.run(["xdotool", "windowsize", win.stdout.split()[0],
                        "1280", "800"], env=env, check=True, timeout=10)
        found, deadline = None, time.time() + 30
        while time.time() < deadline:
            time.sleep(1)
            subprocess.run(["import", "-window", "root", shot], env=env,
                           check=True, timeout=30)
            ppm = shot[:-4] + ".ppm"
            subprocess.run(["convert", shot, ppm], check=True, timeout=30)
            found = spectrogram_tone(read_ppm(ppm))
            os.unlink(ppm)
            if found is not None and found[4] is not None:
                break
        self.assertIsNotNone(found, "no spectrogram on the screen (%s)" %
                             shot)
        top, bottom, left, right, row, cover = found
        self.assertIsNotNone(row, "no tone line in %s" % shot)
        height = bottom - top + 1
        # the spectrogram is one FFT tall (a power of two)
        self.assertIn(height, (128, 256, 512, 1024), found)
        # one column per FFT of samples: the recording's length
        n = os.path.getsize(meta[:-len("meta")] + "data") // 8
        self.assertAlmostEqual(right - left + 1, n / height, delta=2)
        f = (top + height / 2.0 - row - 0.5) * fs / height
        bin_hz = fs / height
        self.assertAlmostEqual(f, TONE_HZ, delta=2 * bin_hz,
                               msg="tone at %.1f Hz on the screen" % f)
        self.assertGreater(cover, 0.9)
        with open(os.path.join(ART, "inspectrum.txt"), "w") as o:
            o.write("spectrogram rows %d-%d columns %d-%d; tone row %.1f: "
                    "%.1f Hz (want %.1f, bin %.1f Hz), over %.0f%% of the "
                    "width\n" % (top, bottom, left, right, row, f, TONE_HZ,
                                 bin_hz, 100 * cover))


if __name__ == "__main__":
    unittest.main(verbosity=2)
