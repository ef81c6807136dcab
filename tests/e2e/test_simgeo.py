"""test_simgeo.py -- the simulator's localization scenario end to end: a
transmitter and KiwiSDR stations at coordinates (the first five positions
of examples/heimdall-2m.json), recorded by the real binary; the stored
chunks, cross-correlated on each station's GPS time base, must show the
delay differences the geometry gives, to a fraction of a sample.

The expected delays come twice: from the simulator's truth file
(--geo-out, PROJ's geodesics) and from an independent Vincenty inverse
here; both must agree to a nanosecond. Faults: a station whose GPS stamps
are 20 us off (clockus=20) shows a delay 20 us off; a station moved 5 km
(moved=5: the stations file keeps the old position) shows the delay of
its true position; a station without GPS (gps=0) gives rows that are not
on GPS time. A second scenario (PN chips, 4 kHz wide, off centre, with a
carrier) checks the band, the carrier and the SNR setting.

Time base of a chunk: rows carry `timestamp`, ISO 8601 rounded to the
microsecond, of the chunk's first sample. A station's chunks are one
gapless stream at its real rate (iq_sample_rate, exactly the simulator's:
3 decimals), so its stream starts at T0 = timestamp_k - n_k / fs for every
chunk k (n_k: samples before chunk k); the mean over the chunks averages
the microsecond rounding (each +-0.5 us, varying from chunk to chunk) down
to ~0.15 us. The recorder holds times as doubles of UTC seconds (0.24 us
apart), which adds up to ~0.25 us. So a pair's delay difference is known
to ~0.5 us from the rows: the tolerance TOL_US = 1.0 us (< 1/80 sample).
Rows that carry t0_ns (ns, from the recorder's fit of the stamps) are used
instead, with TOL_EXACT_US = 0.5 us (the estimate's noise)."""

import base64, datetime, json, math, os, select, socket, struct, subprocess
import sys, tempfile, time, unittest
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import harness as h

SRC = os.environ.get("HEIMDALL_SRC", ".")
C = 299792458.0
TOL_US = 1.0
# With the rows' t0_ns the chunk times are exact; what remains is the
# estimate's own noise: ~0.1 us (1 sigma) for the 10-dB pair over 4 s.
TOL_EXACT_US = 0.5
SIGMA2 = 1e-4          # the KiwiSDR stations' noise power (full scale^2)


def ts_us(row):
    """A row's timestamp as integer microseconds since 1970 (exact)."""
    d = datetime.datetime.strptime(row["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    e = d - datetime.datetime(1970, 1, 1)
    return (e.days * 86400 + e.seconds) * 1000000 + e.microseconds


def exact(rows):
    """Rows with t0_ns (the chunk's first sample in UTC ns, from the
    recorder's fit of the GPS stamps) and the measured rate."""
    return all(r.get("t0_ns") is not None and r.get("sample_rate_hz")
               for r in rows)


def stream(rows, ddir, ref_us):
    """One station's chunks as one stream: (samples, fs, T0, T0 of each
    chunk), T0 the time of sample 0 in s since ref_us, averaged over the
    chunks: from t0_ns and sample_rate_hz when the rows have them, else
    from the timestamps (see top)."""
    rows = sorted(rows, key=lambda r: r["chunk_index"])
    xs = [np.load(os.path.join(ddir, r["iq_data_location"])) for r in rows]
    starts = np.cumsum([0] + [len(x) for x in xs[:-1]])
    if exact(rows):
        fs = rows[0]["sample_rate_hz"]
        t = np.array([(r["t0_ns"] - ref_us * 1000) * 1e-9 for r in rows])
    else:
        fs = rows[0]["iq_sample_rate"]
        t = np.array([(ts_us(r) - ref_us) * 1e-6 for r in rows])
    t0s = t - starts / fs
    return np.concatenate(xs).astype(np.complex128), fs, t0s.mean(), t0s


def interp(x, nu, half=32, beta=8.0):
    """x (band-limited) at the real indices nu: a Kaiser-windowed sinc
    over 2*half samples. Returns (values, valid)."""
    out = np.zeros(len(nu), complex)
    ok = np.zeros(len(nu), bool)
    j = np.arange(-half + 1, half + 1)
    for s in range(0, len(nu), 4096):
        v = nu[s:s + 4096]
        n0 = np.floor(v).astype(np.int64)
        idx = n0[:, None] + j[None, :]
        t = v[:, None] - idx
        w = np.i0(beta * np.sqrt(np.clip(1 - (t / half) ** 2, 0, None))) \
            / np.i0(beta)
        k = np.sinc(t) * w
        out[s:s + 4096] = (x[np.clip(idx, 0, len(x) - 1)] * k).sum(axis=1)
        ok[s:s + 4096] = (idx[:, 0] >= 0) & (idx[:, -1] < len(x))
    return out, ok


def tdoa(a, b, band, notch=None):
    """(d_b - d_a) in s: the delay of station b's signal over station a's,
    from their streams on their own GPS time bases (a, b: stream()).
    b is resampled at a's sample times (+ tau); band = (centre, half
    width) of the bins used; notch: a carrier's frequency, left out."""
    xa, fa, ta, _ = a
    xb, fb, tb, _ = b
    n = np.arange(len(xa))

    def at(tau):
        return interp(xb, (ta + n / fa + tau - tb) * fb)

    y, ok = at(0.0)
    A, Y = np.fft.fft(np.where(ok, xa, 0)), np.fft.fft(np.where(ok, y, 0))
    f = np.fft.fftfreq(len(xa), 1 / fa)
    sel = (np.abs(f - band[0]) < band[1])
    if notch is not None:
        sel &= np.abs(f - notch) > 50
    r = np.fft.ifft(np.where(sel, np.conj(A) * Y, 0))
    lag = int(np.argmax(np.abs(r)))
    if lag > len(r) // 2:
        lag -= len(r)
    tau0 = lag / fa
    y, ok = at(tau0)
    A, Y = np.fft.fft(np.where(ok, xa, 0)), np.fft.fft(np.where(ok, y, 0))
    cs = np.where(sel, np.conj(A) * Y, 0)[sel]
    f = f[sel]

    # y = xa delayed by delta = (d_b - d_a) - tau0: cs ~ e^{-j 2 pi f
    # delta}; the correlation at any real delay is |sum cs e^{j 2 pi f d}|
    # (band-limited interpolation of the correlation): its peak, searched
    # on a grid of 1/20 sample, then by golden section to 1e-11 s.
    def corr(d):
        return abs(np.sum(cs * np.exp(2j * np.pi * f * d)))

    grid = np.linspace(-1.5, 1.5, 61) / fa
    i = int(np.argmax([corr(d) for d in grid]))
    lo, hi = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    g = (math.sqrt(5) - 1) / 2
    while hi - lo > 1e-11:
        m1, m2 = hi - g * (hi - lo), lo + g * (hi - lo)
        if corr(m1) > corr(m2):
            hi = m2
        else:
            lo = m1
    delta = (lo + hi) / 2
    return tau0 + delta


def scenario(name, count, tx, specs, duration):
    """Run the simulator + recorder; returns (truth, rows, ddir, claimed
    stations file, events, rc, stderr)."""
    tmp = tempfile.mkdtemp(prefix="hr-simgeo-")
    data = os.path.join(tmp, "data")
    geo = os.path.join(tmp, "geo.json")
    args = ["--positions", os.path.join(SRC, "examples/heimdall-2m.json"),
            "--tx", tx, "--geo-out", geo]
    with h.Sim(count, specs, tmp=tmp, extra=args) as sim:
        rc, events, err = h.record(sim, data, duration, freq="10",
                                   name=name)
        with open(sim.stations) as f:
            claimed = json.load(f)["stations"]
    with open(geo) as f:
        truth = json.load(f)
    m, _ = h.manifest(data)
    return tmp, truth, m, data, claimed, events, rc, err


class SimGeoTest(unittest.TestCase):
    TX = (45.30, 8.40)
    DUR = 4

    @classmethod
    def setUpClass(cls):
        specs = ["i=3,clockus=20", "i=4,moved=5,movedaz=90", "i=5,gps=0",
                 "i=2,txsnr=10"]
        (cls.tmp, cls.truth, cls.m, cls.data, cls.claimed, cls.events,
         cls.rc, cls.err) = scenario(
            "simgeo", 5, "lat=%g,lon=%g" % cls.TX, specs, cls.DUR)
        cls.rows = {}
        for r in cls.m["measurements"]:
            cls.rows.setdefault(r["websdr"], []).append(r)
        cls.ref = min(ts_us(r) for r in cls.m["measurements"]) // 1000000 \
            * 1000000
        cls.st = {s["i"]: s for s in cls.truth["stations"]}

    @classmethod
    def tearDownClass(cls):
        h.rmtree(cls.tmp)

    def stream(self, k):
        return stream(self.rows[k], self.data, self.ref)

    def expected(self, k, lat=None, lon=None):
        """Station k's delay (s) by Vincenty, at its true position unless
        given another."""
        s = self.st[k]
        lat = s["true_latitude"] if lat is None else lat
        lon = s["true_longitude"] if lon is None else lon
        return h.geodesic_m(self.TX[0], self.TX[1], lat, lon) / C

    def test_recorded(self):
        self.assertEqual(self.rc, 0, self.err)
        f = h.final(self.events)
        self.assertEqual(f["summary"]["chunks_stored"], 5 * self.DUR, f)
        self.assertEqual(f["summary"]["chunks_missing"], 0, f)
        for k in range(1, 6):
            self.assertEqual(len(self.rows[k]), self.DUR)
            want = "local" if k == 5 else "gps"
            for r in self.rows[k]:
                self.assertEqual(r["time_source"], want, r)
                self.assertEqual(r["samples_lost"], 0, r)

    def test_truth_geometry(self):
        """The simulator's delays are the WGS84 geodesic distance / c (an
        independent Vincenty agrees to 1 ns); the stations file carries the
        positions of examples/heimdall-2m.json, the moved station's true
        position is 5 km east of it."""
        with open(os.path.join(SRC, "examples/heimdall-2m.json")) as f:
            ex = json.load(f)["stations"]
        self.assertEqual(self.truth["tx"]["latitude"], self.TX[0])
        self.assertEqual(len(self.truth["stations"]), 5)
        for k in range(1, 6):
            s, c = self.st[k], self.claimed[k - 1]
            self.assertEqual((c["latitude"], c["longitude"]),
                             (ex[k - 1]["latitude"], ex[k - 1]["longitude"]))
            self.assertEqual((s["latitude"], s["longitude"]),
                             (c["latitude"], c["longitude"]))
            self.assertLess(abs(s["delay_ns"] - self.expected(k) * 1e9), 1.0,
                            s)
            self.assertLess(abs(s["distance_m"] / C * 1e9 - s["delay_ns"]),
                            1e-6)
        moved = self.st[4]
        self.assertAlmostEqual(h.geodesic_m(moved["latitude"], moved["longitude"],
                                        moved["true_latitude"],
                                        moved["true_longitude"]), 5000.0,
                               delta=0.01)
        self.assertGreater(moved["true_longitude"], moved["longitude"])
        self.assertEqual(self.st[3]["clock_us"], 20)
        self.assertEqual(self.st[5]["gps"], 0)

    def check_pair(self, a, b, want_s):
        got = tdoa(self.stream(a), self.stream(b), (0.0, 4500.0))
        tol = TOL_EXACT_US if exact(self.rows[a] + self.rows[b]) else TOL_US
        self.assertLess(abs(got - want_s) * 1e6, tol,
                        "pair %d-%d: measured %.3f us, geometry %.3f us" %
                        (a, b, got * 1e6, want_s * 1e6))
        return got

    def test_rows_consistent(self):
        """Each GPS station's chunk timestamps lie on one line at its rate
        (the premise of stream())."""
        for k in (1, 2, 3, 4):
            _, _, t0, t0s = self.stream(k)
            self.assertLess(np.max(np.abs(t0s - t0)) * 1e6,
                            0.01 if exact(self.rows[k]) else 0.8, t0s)

    def test_pair_tdoa(self):
        """Stations 1 and 2 (10 dB): the delay difference matches the
        geometry to < 1 us (a sample is 83 us)."""
        want = self.expected(2) - self.expected(1)
        self.assertGreater(abs(want), 100e-6)     # a real difference
        self.check_pair(1, 2, want)
        self.check_pair(2, 1, -want)

    def test_clock_offset(self):
        """Station 3's stamps read 20 us late: the measured delay is the
        geometric one + 20 us."""
        geo = self.expected(3) - self.expected(1)
        got = self.check_pair(1, 3, geo + 20e-6)
        self.assertGreater(abs(got - geo), 19e-6)

    def test_moved_station(self):
        """Station 4 is 5 km east of where the stations file says: the
        signal has the true position's delay, which differs from the
        claimed position's by more than 10 us here."""
        s = self.st[4]
        true_d = self.expected(4) - self.expected(1)
        claimed_d = self.expected(4, s["latitude"], s["longitude"]) - \
            self.expected(1)
        self.assertGreater(abs(true_d - claimed_d), 10e-6)
        self.check_pair(1, 4, true_d)

    def test_snr(self):
        """In-band power over the noise in the band: 20 dB (station 1) and
        10 dB (station 2), within 0.5 dB; the band is 10 kHz."""
        for k, want in ((1, 20.0), (2, 10.0)):
            x = self.stream(k)[0]
            fs = self.stream(k)[1]
            p = np.abs(np.fft.fft(x)) ** 2 / len(x) ** 2
            f = np.fft.fftfreq(len(x), 1 / fs)
            inb = p[np.abs(f) < 4000].mean()    # signal + noise per bin
            out = p[np.abs(f) > 5700].mean()    # noise alone per bin
            self.assertLess(abs(10 * math.log10((inb - out) / out) - want),
                            0.5, (k, inb, out))
            # the noise is the simulator's: SIGMA2 over the whole band
            self.assertLess(abs(out * len(x) / SIGMA2 - 1), 0.1, out)


class SimGeoSignalTest(unittest.TestCase):
    """PN chips, 4 kHz wide at +1 kHz, a carrier 6 dB over the signal at
    -2.5 kHz, 3 stations (the 2nd, 5th and 7th positions), 3 s."""

    def test_pn_carrier(self):
        tx = "lat=44.9,lon=8.2,bw=4000,offset=1000,mod=pn,seed=7," \
             "carrier=6,carrier_hz=-2500"
        specs = ["i=1,lat=45.234,lon=7.857", "i=2,lat=44.395,lon=8.956",
                 "i=3,lat=45.478,lon=9.123"]
        tmp, truth, m, data, _, events, rc, err = scenario(
            "simgeo pn", 3, tx, specs, 3)
        self.addCleanup(h.rmtree, tmp)
        self.assertEqual(rc, 0, err)
        self.assertEqual(truth["tx"]["modulation"], "pn")
        rows = {}
        for r in m["measurements"]:
            rows.setdefault(r["websdr"], []).append(r)
        self.assertEqual(sorted(rows), [1, 2, 3])
        ref = min(ts_us(r) for r in m["measurements"]) // 1000000 * 1000000
        s = {k: stream(rows[k], data, ref) for k in rows}
        x, fs = s[1][0], s[1][1]
        p = np.abs(np.fft.fft(x)) ** 2 / len(x) ** 2
        f = np.fft.fftfreq(len(x), 1 / fs)
        noise = p[(np.abs(f - 1000) > 2600) & (np.abs(f + 2500) > 20)].mean()
        inb = p[np.abs(f - 1000) < 1700].mean()
        # the band: 20 dB over the noise inside +-1.7 kHz of +1 kHz,
        # nothing past +-2.6 kHz. 1 dB: runs here gave 0.0-0.4 and, one
        # in three, 0.7 dB (3 s of 4 kchip/s QPSK; cause not pinned down),
        # while a wrong SNR setting is off by whole dB.
        self.assertLess(abs(10 * math.log10((inb - noise) / noise) - 20),
                        1.0, (inb, noise))
        self.assertLess(p[(np.abs(f - 1000) > 2600) &
                          (np.abs(f + 2500) > 20)].mean(), noise * 1.1)
        # the carrier: one line at -2.5 kHz, power 6 dB over the signal's
        # (the signal's power: 20 dB over the noise in its 4 kHz band)
        line = p[np.abs(f + 2500) < 2].sum() - 4 * noise
        sig = (inb - noise) * 4000 / (fs / len(x))
        self.assertLess(abs(10 * math.log10(line / sig) - 6), 0.5,
                        (line, sig))
        pk = f[np.argmax(p)]
        self.assertLess(abs(pk + 2500), fs / len(x) + 0.01, pk)
        # the delays, with the carrier notched out
        d = {k: h.geodesic_m(44.9, 8.2, truth["stations"][k - 1]["latitude"],
                         truth["stations"][k - 1]["longitude"]) / C
             for k in (1, 2, 3)}
        for a, b in ((1, 2), (1, 3), (2, 3)):
            got = tdoa(s[a], s[b], (1000.0, 1800.0), notch=-2500.0)
            self.assertLess(abs(got - (d[b] - d[a])) * 1e6, TOL_US,
                            (a, b, got, d[b] - d[a]))


class Snd:
    """A bare KiwiSDR SND client (RFC 6455 by hand): the simulator's frames
    and GPS stamps as sent, without the recorder."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.s.sendall(("GET /%d/SND HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: %s\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n" %
                        (int(time.time()), port, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            c = self.s.recv(1)
            if not c:
                raise RuntimeError("closed during the handshake")
            head += c
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError(head)
        self.buf = b""
        for t in ("SET auth t=kiwi p=",
                  "SET mod=iq low_cut=-5000 high_cut=5000 freq=10000.000",
                  "SET agc=0 hang=0 thresh=-100 slope=6 decay=1000 "
                  "manGain=50", "SET AR OK in=12000 out=44100"):
            self.send(t)
        self.frames = []        # (last_gps_solution, gpssec, gpsnsec, iq)

    def send(self, text):
        data, mask = text.encode(), os.urandom(4)
        self.s.sendall(bytes([0x81, 0x80 | len(data)]) + mask +
                       bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def pump(self):
        """Read what has come; keep the SND frames."""
        d = self.s.recv(1 << 16)
        if not d:
            raise RuntimeError("closed")
        self.buf += d
        while len(self.buf) >= 2:
            n, off = self.buf[1] & 0x7f, 2
            if n == 126:
                if len(self.buf) < 4:
                    return
                n, off = struct.unpack(">H", self.buf[2:4])[0], 4
            elif n == 127:
                if len(self.buf) < 10:
                    return
                n, off = struct.unpack(">Q", self.buf[2:10])[0], 10
            if len(self.buf) < off + n:
                return
            p, self.buf = self.buf[off:off + n], self.buf[off + n:]
            if p[:3] == b"SND":
                sec, nsec = struct.unpack("<II", p[12:20])
                iq = np.frombuffer(p[20:], ">i2").astype(float) / 32768
                self.frames.append((p[10], sec, nsec,
                                    iq[0::2] + 1j * iq[1::2]))

    def close(self):
        self.s.close()


class SimGeoStampsTest(unittest.TestCase):
    """The simulator's own frames, read directly: each frame's GPS stamp
    is its first sample's time to the nanosecond (frame f's stamp = the
    first's + 512 f / rate, within 1 ns), and two stations' samples on
    those stamps show the geometric delay difference to < 0.15 us at
    30 dB over ~3 s (Cramer-Rao: ~15 ns). clockus moves the stamps by
    exactly that much; gps=0 frames say no fix (255, zero time)."""

    def test_stamps(self):
        tmp = tempfile.mkdtemp(prefix="hr-simgeo-")
        self.addCleanup(h.rmtree, tmp)
        geo = os.path.join(tmp, "geo.json")
        specs = ["i=1,txsnr=30", "i=2,txsnr=30", "i=3,txsnr=30,clockus=-7.5",
                 "i=4,gps=0"]
        args = ["--positions", os.path.join(SRC, "examples/heimdall-2m.json"),
                "--tx", "lat=44.8,lon=7.9,seed=3", "--geo-out", geo]
        with h.Sim(4, specs, tmp=tmp, extra=args) as sim:
            with open(sim.stations) as f:
                ports = [int(s["url"].rsplit(":", 1)[1])
                         for s in json.load(f)["stations"]]
            cl = [Snd(p) for p in ports]
            try:
                end = time.time() + 3.5
                while time.time() < end:
                    r, _, _ = select.select([c.s for c in cl], [], [], 0.5)
                    for c in cl:
                        if c.s in r:
                            c.pump()
            finally:
                for c in cl:
                    c.close()
        with open(geo) as f:
            truth = json.load(f)
        st = {s["i"]: s for s in truth["stations"]}
        streams, ref = {}, None
        for k, c in enumerate(cl, 1):
            self.assertGreater(len(c.frames), 60, k)
            if k == 4:
                self.assertEqual({(f[0], f[1], f[2]) for f in c.frames},
                                 {(255, 0, 0)})
                continue
            rate = st[k]["rate"]
            # times in ns of the GPS week, exact integers
            t = np.array([f[1] * 10 ** 9 + f[2] for f in c.frames], np.int64)
            self.assertTrue(all(f[0] == 1 for f in c.frames))
            want = t[0] + np.arange(len(t)) * 512 * 1e9 / rate
            self.assertLess(np.max(np.abs(t - want)), 1.0 + 1e-6, k)
            if ref is None:
                ref = int(t[0]) // 10 ** 9 * 10 ** 9
            x = np.concatenate([f[3] for f in c.frames])
            streams[k] = (x, rate, (int(t[0]) - ref) * 1e-9, None)
        d = {k: st[k]["delay_ns"] * 1e-9 for k in st}
        for a, b, clock in ((1, 2, 0.0), (2, 1, 0.0), (1, 3, -7.5e-6)):
            got = tdoa(streams[a], streams[b], (0.0, 4500.0))
            self.assertLess(abs(got - (d[b] - d[a] + clock)), 0.15e-6,
                            (a, b, got, d[b] - d[a] + clock))


class SimGeoOptionsTest(unittest.TestCase):
    """Bad scenario options are refused with a message (exit 64)."""

    def test_refused(self):
        for args, msg in (
                (["--tx", "lat=45"], "needs lat= and lon="),
                (["--tx", "lat=45,lon=7,bw=11000,offset=1000"],
                 "must stay within"),
                (["--tx", "lat=45,lon=7,bw=12000"], "bad --tx item"),
                (["--tx", "lat=95,lon=7"], "bad --tx item"),
                (["--tx", "lat=45,lon=7,mod=am"], "bad --tx item"),
                (["--station", "i=1,signal=tx"], "needs --tx"),
                (["--tx", "lat=45,lon=7", "--station",
                  "i=1,type=rtl_tcp,signal=tx"], "needs --tx"),
                (["--tx", "lat=45,lon=7", "--station", "i=1,txsnr=31"],
                 "bad --station item"),
                (["--tx", "lat=45,lon=7", "--station", "i=1,lat=x"],
                 "bad --station item"),
                (["--geo-out", "/tmp/x.json"], "needs --tx"),
                (["--positions", "/nonexistent.json"], "--positions")):
            p = subprocess.run([h.SIM, "--count", "2", "--base-port", "0"] +
                               args, capture_output=True, text=True,
                               timeout=10)
            self.assertEqual(p.returncode, 64, (args, p.stderr))
            self.assertIn(msg, p.stderr, args)


if __name__ == "__main__":
    unittest.main(verbosity=2)
