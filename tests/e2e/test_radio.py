"""test_radio.py -- the 2 m band through the real binary: 145.5 MHz, seven
simulated stations of mixed types (rtl_tcp, SpyServer, OpenWebRX), 5 s: 35
chunks read back with numpy; for the IQ drivers the tone's SNR and offset
measured after decimation, for OpenWebRX the audio (float32) with its tone,
SNR over the audio passband and the S-meter-derived RSSI; then every
rtl_tcp/SpyServer fault mode in one session and the OpenWebRX ones in
another, each isolated from the healthy stations."""

import os, sys, tempfile, unittest
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import harness as h

RTL_FS = 2048000.0 / 170        # rtl_tcp decimated for +-5 kHz
SPY_FS = 6000000.0 / 2 ** 8     # the simulated SpyServer's stage 8


class RadioTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hr-radio-")
        cls.data = os.path.join(cls.tmp, "data")
        specs = ["i=1,type=rtl_tcp", "i=3,type=rtl_tcp",
                 "i=2,type=spyserver",
                 "i=4,type=spyserver,fault=cancontrol0",  # in range: fine
                 "i=5,type=openwebrx",                    # v1.2, ADPCM
                 "i=6,type=openwebrx,ver=1.1",            # no SYNC
                 "i=7,type=openwebrx,comp=none"]          # int16
        with h.Sim(7, specs, tmp=cls.tmp) as sim:
            cls.rc, cls.events, cls.err = h.record(sim, cls.data, 5,
                                                   freq="145.5")
        cls.m, cls.dir = h.manifest(cls.data)

    @classmethod
    def tearDownClass(cls):
        h.rmtree(cls.tmp)

    def test_all_chunks(self):
        self.assertEqual(self.rc, 0, self.err)
        f = h.final(self.events)
        self.assertEqual(f["status"], "completed")
        self.assertEqual(f["summary"]["chunks_stored"], 35)
        self.assertEqual(f["summary"]["chunks_missing"], 0)
        self.assertEqual(len(self.m["measurements"]), 35)

    def test_openwebrx_audio(self):
        rows = [r for r in self.m["measurements"] if r["websdr"] >= 5]
        self.assertEqual(len(rows), 15)
        # the simulator's truth: A^2 = SNR * 4 sigma^2 B / fs, smeter =
        # A^2/2 + sigma^2 (sigma^2 = 1e-4, B = 5000 - 100, fs = 12000)
        a2 = 100 * 4e-4 * 4900 / 12000.0
        rssi = 10 * np.log10(a2 / 2 + 1e-4)
        for r in rows:
            w = r["websdr"]
            a = np.load(os.path.join(self.data, r["iq_data_location"]))
            self.assertEqual(a.dtype, np.float32)
            self.assertEqual(a.ndim, 1)
            self.assertEqual(r["iq_data_format"], "float32")
            self.assertEqual(r["format"], "audio")
            self.assertEqual(r["demod_mode"], "usb")
            self.assertEqual((r["passband_low_hz"], r["passband_high_hz"]),
                             (100, 5000))
            self.assertEqual(r["iq_sample_rate"], 12000)
            self.assertEqual(len(a), 12000)
            # ADPCM adds its own quantization noise (more for higher
            # tones): 3 dB; int16 audio (station 7) is exact to 1 dB
            self.assertAlmostEqual(r["snr_db"], 20.0,
                                   delta=1.0 if w == 7 else 3.0, msg=r)
            self.assertAlmostEqual(r["frequency_offset_hz"], 500 + 250 * w,
                                   delta=2.0)
            self.assertAlmostEqual(r["rssi_dbm"], rssi, delta=0.3)
            # usb: the carrier 500 + 250 w Hz above the dial is heard there
            spec = np.abs(np.fft.rfft(a)) ** 2
            f = np.fft.rfftfreq(len(a), 1 / 12000.0)
            self.assertAlmostEqual(f[np.argmax(spec)], 500 + 250 * w,
                                   delta=2.0)

    def test_published_position(self):
        # OpenWebRX publishes its position (/status.json receiver.gps:
        # the simulator's 45 + 0.01 k, 7.6 + 0.01 k); the IQ types do not
        f = h.final(self.events)
        for k in range(1, 8):
            s = h.station(f["summary"], k)
            if k >= 5:
                self.assertAlmostEqual(s["published_latitude"],
                                       45.0 + 0.01 * k, places=9)
                self.assertAlmostEqual(s["published_longitude"],
                                       7.6 + 0.01 * k, places=9)
            else:
                self.assertNotIn("published_latitude", s)

    def test_files_rates_metrics(self):
        for r in self.m["measurements"]:
            w = r["websdr"]
            if w >= 5:
                continue
            a = np.load(os.path.join(self.data, r["iq_data_location"]))
            self.assertEqual(a.dtype, np.complex64)
            fs = RTL_FS if w in (1, 3) else SPY_FS
            self.assertAlmostEqual(r["iq_sample_rate"], fs, places=6)
            self.assertIn(len(a), (int(np.floor(fs)), int(np.ceil(fs))))
            self.assertEqual(r["frequency_hz"], 145500000)
            # the simulator's tone: 20 dB over +-5 kHz at 500 + 250 k Hz
            self.assertAlmostEqual(r["snr_db"], 20.0, delta=1.0, msg=r)
            self.assertAlmostEqual(r["frequency_offset_hz"], 500 + 250 * w,
                                   delta=2.0)
            self.assertEqual(r["samples_lost"], 0)
            self.assertIsNone(r["rssi_dbm"])     # no S-meter for IQ
            # independent check with numpy: the spectrum's peak
            spec = np.abs(np.fft.fftshift(np.fft.fft(a))) ** 2
            freqs = np.fft.fftshift(np.fft.fftfreq(len(a), 1.0 / fs))
            self.assertAlmostEqual(freqs[np.argmax(spec)], 500 + 250 * w,
                                   delta=2.0)
            if w in (1, 3):
                # rtl_tcp: no stale full-scale noise from before the
                # retune (its peaks would pass 0.15 after decimation)
                self.assertLess(np.abs(a.view(np.float32)).max(), 0.06)


class RadioFaultTest(unittest.TestCase):
    def test_faults_isolated(self):
        tmp = tempfile.mkdtemp(prefix="hr-radio-f-")
        self.addCleanup(h.rmtree, tmp)
        data = os.path.join(tmp, "data")
        specs = ["i=1,type=rtl_tcp",
                 "i=2,type=rtl_tcp,fault=busy",            # never free
                 # the origin waits 5 s for stations that never stream:
                 # the stall comes 1.5 s into the recording, for 5 s
                 "i=3,type=rtl_tcp,fault=stall,after=6.5",
                 "i=4,type=spyserver,fault=nodevice",
                 "i=5,type=spyserver,fault=cancontrol0,dev=433920000",
                 "i=6,type=spyserver,fault=gap",
                 "i=7,type=rtl_tcp,tuner=4"]               # FC2580
        with h.Sim(7, specs, tmp=tmp) as sim:
            rc, events, err = h.record(sim, data, 10, freq="145.5")
        f = h.final(events)
        self.assertIsNotNone(f, err)
        m, _ = h.manifest(data)
        st = {k: h.station(f["summary"], k) for k in range(1, 8)}
        # the healthy ones lose nothing
        self.assertEqual(st[1]["chunks_ok"], 10, st[1])
        self.assertEqual(st[6]["chunks_ok"], 10, st[6])
        # every 10th IQ message missing: zero-filled, counted (a gap may
        # straddle two chunks)
        lost = [r["samples_lost"] for r in m["measurements"]
                if r["websdr"] == 6]
        self.assertTrue(all(x > 0 for x in lost), lost)
        self.assertAlmostEqual(sum(lost) / (10 * SPY_FS), 0.1, delta=0.03)
        # busy for ever: retried, then missing with the reason
        self.assertEqual(st[2]["chunks_ok"], 0)
        self.assertIn("busy", st[2]["reason"])
        # stall: missing chunks, then back after the server let go
        self.assertGreater(st[3]["chunks_missing"], 0, st[3])
        self.assertGreater(st[3]["chunks_ok"], 1, st[3])
        miss = [x["reason"] for x in m["missing"] if x["websdr"] == 3]
        self.assertTrue(any("no samples" in r for r in miss), miss)
        # no device: retried with the reason
        self.assertEqual(st[4]["chunks_ok"], 0)
        self.assertIn("no device", st[4]["reason"])
        # CanControl = 0 and out of range: failed at once, clearly
        self.assertEqual(st[5]["state"], "failed")
        self.assertIn("CanControl = 0", st[5]["reason"])
        # FC2580 cannot tune 145.5 MHz
        self.assertEqual(st[7]["state"], "failed")
        self.assertIn("FC2580", st[7]["reason"])
        self.assertEqual(f["status"], "completed")
        self.assertEqual(rc, 75)   # completed with missing chunks


class OpenWebRXFaultTest(unittest.TestCase):
    def test_faults_isolated(self):
        tmp = tempfile.mkdtemp(prefix="hr-radio-o-")
        self.addCleanup(h.rmtree, tmp)
        data = os.path.join(tmp, "data")
        specs = ["i=1,type=openwebrx",
                 "i=2,type=openwebrx,fault=backoff,times=2",
                 "i=3,type=openwebrx,fault=resync,after=1",
                 "i=4,type=openwebrx,fault=profile,after=4",
                 "i=5,type=openwebrx,profile=1"]   # starts on 70 cm
        with h.Sim(5, specs, tmp=tmp) as sim:
            rc, events, err = h.record(sim, data, 8, freq="145.5")
        f = h.final(events)
        self.assertIsNotNone(f, err)
        m, _ = h.manifest(data)
        st = {k: h.station(f["summary"], k) for k in range(1, 6)}
        self.assertEqual(st[1]["chunks_ok"], 8, st[1])
        # backoff ("Too many clients") twice, then in before the origin
        self.assertEqual(st[2]["chunks_ok"], 8, st[2])
        states = [e["data"]["reason"] for e in events
                  if e["event"] == "receiver:status" and
                  e["data"]["websdr"] == 2]
        self.assertTrue(any("Too many clients" in r for r in states))
        # lost ADPCM bytes: resynchronised, every chunk stored, the loss
        # counted (300 bytes = 600 samples of every 4th 1001-byte block)
        self.assertEqual(st[3]["chunks_ok"], 8, st[3])
        lost = sum(r["samples_lost"] for r in m["measurements"]
                   if r["websdr"] == 3)
        self.assertTrue(0 < lost <= 8 * 2000, lost)
        self.assertEqual(sum(r["samples_lost"] for r in m["measurements"]
                             if r["websdr"] == 1), 0)
        # switched to 2 m at the start
        self.assertEqual(st[5]["chunks_ok"], 8, st[5])
        # another user moved station 4 to 70 cm after 4 s: station 5's
        # switch on the same host was at the start, so the switch back
        # waits for the 10 s spacing: chunks missing, none wrong
        self.assertGreater(st[4]["chunks_missing"], 0, st[4])
        self.assertGreaterEqual(st[4]["chunks_ok"], 1, st[4])
        for r in m["measurements"]:
            if r["websdr"] == 4:
                self.assertAlmostEqual(r["frequency_offset_hz"], 1500,
                                       delta=2.0)
        self.assertEqual(f["status"], "completed")


class IPv6Test(unittest.TestCase):
    def test_ipv6_loopback(self):
        """All three new types over ::1 (tcp://[::1]:port, http://[::1])."""
        import subprocess
        tmp = tempfile.mkdtemp(prefix="hr-radio-6-")
        self.addCleanup(h.rmtree, tmp)
        st = os.path.join(tmp, "stations.json")
        sim = subprocess.Popen(
            [h.SIM, "--host", "::1", "--count", "3", "--base-port", "0",
             "--stations-out", st, "--station", "i=1,type=openwebrx",
             "--station", "i=2,type=spyserver", "--station",
             "i=3,type=rtl_tcp"], stdout=subprocess.PIPE, text=True)
        try:
            line = sim.stdout.readline()
            self.assertTrue(line.startswith("ready"), line)
            p = subprocess.run([h.REC, "record", "--stations", st,
                                "--data-dir", os.path.join(tmp, "data"),
                                "--name", "v6", "--freq", "145.5",
                                "--duration", "2", "--source", "unknown",
                                "--json"], capture_output=True, text=True,
                               timeout=60)
        finally:
            sim.terminate()
            sim.wait()
            sim.stdout.close()
        import json
        ups = [json.loads(l) for l in p.stdout.splitlines()]
        # exit 75 (chunks missing) says nothing on stderr: the reasons
        # are in the events
        missing = [e["data"] for e in ups if e["event"] == "session:missing"]
        self.assertEqual(p.returncode, 0, (p.stderr, missing))
        final = [e for e in ups if e["event"] == "session:status_update"]
        self.assertEqual(final[-1]["data"]["summary"]["chunks_stored"], 6)


class ExampleStationsTest(unittest.TestCase):
    """The shipped stations file: the original network's seven OpenWebRX
    receivers (heimdall-platform.md), accepted by the binary's parser."""

    WANT = [("Aquila di Giaveno", "http://sdr1.ik1jns.it:8076", 45.02, 7.29),
            ("Montanaro", "http://cbfenis.ddns.net:43510", 45.234, 7.857),
            ("Torino", "http://vst-aero.it:8073", 45.044, 7.672),
            ("Coazze", "http://94.247.189.130:8076", 45.03, 7.27),
            ("Passo del Giovi", "http://iz1mlt.ddns.net:8074", 44.561, 8.956),
            ("Genova", "http://iq1zw.ddns.net:42154", 44.395, 8.956),
            ("Milano - Baggio", "http://iu2mch.duckdns.org:8073", 45.478,
             9.123)]

    def test_example(self):
        import json, subprocess
        path = os.path.join(os.environ.get("HEIMDALL_SRC", "."), "examples",
                            "heimdall-2m.json")
        with open(path) as f:
            st = json.load(f)["stations"]
        self.assertEqual([(s["name"], s["url"], s["latitude"],
                           s["longitude"]) for s in st], self.WANT)
        self.assertTrue(all(s["type"] == "openwebrx" for s in st))
        # the binary's own parser takes it: with 7 GHz (beyond the
        # default 0-6 GHz of an OpenWebRX entry) it stops before any
        # connection, naming station 1 -- every field was accepted
        tmp = tempfile.mkdtemp(prefix="hr-radio-x-")
        self.addCleanup(h.rmtree, tmp)
        p = subprocess.run([h.REC, "record", "--stations", path,
                            "--data-dir", tmp, "--name", "x", "--freq",
                            "7000", "--duration", "1", "--source",
                            "unknown", "--json"], capture_output=True,
                           text=True, timeout=60)
        self.assertNotIn("unknown field", p.stdout + p.stderr)
        self.assertNotIn("unknown receiver type", p.stdout + p.stderr)
        self.assertIn("Aquila di Giaveno", p.stdout + p.stderr)
        self.assertNotEqual(p.returncode, 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
