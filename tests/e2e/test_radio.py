"""test_radio.py -- the 2 m band through the real binary: 145.5 MHz, seven
simulated stations of mixed types (rtl_tcp and SpyServer), 5 s: 35 chunks
read back with numpy, the tone's SNR and offset measured after decimation,
rates as decimated; then every rtl_tcp/SpyServer fault mode in one session,
each isolated from the healthy stations."""

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
        specs = ["i=%d,type=rtl_tcp" % k for k in (1, 3, 5, 7)]
        specs += ["i=%d,type=spyserver" % k for k in (2, 4)]
        specs += ["i=6,type=spyserver,fault=cancontrol0"]  # in range: fine
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

    def test_files_rates_metrics(self):
        for r in self.m["measurements"]:
            w = r["websdr"]
            a = np.load(os.path.join(self.data, r["iq_data_location"]))
            self.assertEqual(a.dtype, np.complex64)
            fs = RTL_FS if w % 2 else SPY_FS
            self.assertAlmostEqual(r["iq_sample_rate"], fs, places=6)
            self.assertIn(len(a), (int(np.floor(fs)), int(np.ceil(fs))))
            self.assertEqual(r["frequency_hz"], 145500000)
            # the simulator's tone: 20 dB over +-5 kHz at 500 + 250 k Hz
            self.assertAlmostEqual(r["snr_db"], 20.0, delta=1.0, msg=r)
            self.assertAlmostEqual(r["frequency_offset_hz"], 500 + 250 * w,
                                   delta=2.0)
            self.assertEqual(r["samples_lost"], 0)
            self.assertIsNone(r["rssi_dbm"])     # neither has an S-meter
            # independent check with numpy: the spectrum's peak
            spec = np.abs(np.fft.fftshift(np.fft.fft(a))) ** 2
            freqs = np.fft.fftshift(np.fft.fftfreq(len(a), 1.0 / fs))
            self.assertAlmostEqual(freqs[np.argmax(spec)], 500 + 250 * w,
                                   delta=2.0)
            if w % 2:
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
        lost = [r["samples_lost"] for r in m["measurements"]
                if r["websdr"] == 6]
        self.assertTrue(all(x > 0 and x % 1024 == 0 for x in lost), lost)
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
