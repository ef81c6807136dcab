"""test_tls.py -- KiwiSDR stations over TLS (https:// URLs) through the real
binary: the simulator serves wss with a self-signed certificate; trusted
through SSL_CERT_FILE every chunk is stored, untrusted every station fails
with the certificate error as its reason."""

import json, os, subprocess, sys, tempfile, unittest

sys.path.insert(0, os.path.dirname(__file__))
import harness as h

# A self-signed certificate for localhost / 127.0.0.1, for this test only.
CERT = """-----BEGIN CERTIFICATE-----
MIIBmzCCAUGgAwIBAgIUSLCPdGQGvO1TcH6chV2X5r14/w8wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNTA3NDY0N1oYDzIxMjYxMTAx
MDc0NjQ3WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAT0p0bxC3WqZM4Mp7WOlrifkVRT+u6Snl4NoCaiCqzB2Czg1qw5pYnL
TANZJILML8YGskkm+3V9rT//JWrMy/kwo28wbTAdBgNVHQ4EFgQUhsQUMGdGcghL
gFN0F0D6G/pKOfQwHwYDVR0jBBgwFoAUhsQUMGdGcghLgFN0F0D6G/pKOfQwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARgglsb2NhbGhvc3SHBH8AAAEwCgYIKoZI
zj0EAwIDSAAwRQIgBZI3i7TMDXItFrnPMvElclxhIO/SOCQRH42F5J+e6/ICIQDp
LgqphCTBeYzZoBQBi1KGEtzmP/6ufcddTo7Y/s+iPQ==
-----END CERTIFICATE-----
"""
KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQglyQeZW3Hr29z3JZ1
yjnfMVv545MnLia1QM1OM5zNjF6hRANCAAT0p0bxC3WqZM4Mp7WOlrifkVRT+u6S
nl4NoCaiCqzB2Czg1qw5pYnLTANZJILML8YGskkm+3V9rT//JWrMy/kw
-----END PRIVATE KEY-----
"""


class TlsSim(h.Sim):
    """The simulator serving TLS: the stations file gets https:// URLs."""

    def __init__(self, count, tmp):
        self.tmp = tmp
        self.stations = os.path.join(tmp, "stations.json")
        cert = os.path.join(tmp, "cert.pem")
        key = os.path.join(tmp, "key.pem")
        with open(cert, "w") as f:
            f.write(CERT)
        with open(key, "w") as f:
            f.write(KEY)
        self.cert = cert
        self.proc = subprocess.Popen(
            [h.SIM, "--count", str(count), "--base-port", "0",
             "--stations-out", self.stations, "--tls-cert", cert,
             "--tls-key", key], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            self.close()
            raise RuntimeError("simulator did not start: %r" % line)


class TlsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hr-tls-")
        self.addCleanup(h.rmtree, self.tmp)
        self.saved = os.environ.get("SSL_CERT_FILE")
        self.addCleanup(self.restore)

    def restore(self):
        if self.saved is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = self.saved

    def test_trusted(self):
        data = os.path.join(self.tmp, "data")
        with TlsSim(2, self.tmp) as sim:
            with open(sim.stations) as f:
                urls = [s["url"] for s in json.load(f)["stations"]]
            self.assertTrue(all(u.startswith("https://") for u in urls), urls)
            os.environ["SSL_CERT_FILE"] = sim.cert
            rc, events, err = h.record(sim, data, duration=3)
        f = h.final(events)
        self.assertIsNotNone(f, err)
        self.assertEqual(rc, 0, err)
        self.assertEqual(f["status"], "completed")
        m, _ = h.manifest(data)
        self.assertEqual(len(m["measurements"]), 6)
        for r in m["measurements"]:
            self.assertAlmostEqual(r["snr_db"], 20.0, delta=1.0)

    def test_untrusted(self):
        data = os.path.join(self.tmp, "data")
        os.environ.pop("SSL_CERT_FILE", None)
        with TlsSim(2, self.tmp) as sim:
            rc, events, err = h.record(sim, data, duration=2,
                                       extra=["--start-timeout", "2"])
        f = h.final(events)
        self.assertIsNotNone(f, err)
        self.assertEqual(rc, 69, err)
        self.assertEqual(f["status"], "failed")
        for k in (1, 2):
            s = h.station(f["summary"], k)
            self.assertEqual(s["chunks_ok"], 0)
            self.assertIn("certificate", s["reason"], s)


if __name__ == "__main__":
    unittest.main()
