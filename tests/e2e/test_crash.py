"""test_crash.py -- kill -9 the recorder mid-session: no torn chunk file,
and the next run marks the session failed (interrupted) with its finished
chunks intact."""

import glob, json, os, signal, subprocess, sys, tempfile, time, unittest
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import harness as h


class CrashTest(unittest.TestCase):
    def test_kill_9(self):
        tmp = tempfile.mkdtemp(prefix="hr-crash-")
        self.addCleanup(h.rmtree, tmp)
        data = os.path.join(tmp, "data")
        with h.Sim(4, tmp=tmp) as sim:
            p = subprocess.Popen(
                [h.REC, "record", "--stations", sim.stations, "--data-dir",
                 data, "--name", "crash", "--freq", "10", "--duration", "10",
                 "--source", "unknown", "--json"],
                stdout=subprocess.PIPE, text=True)
            # kill once a few chunks are stored
            chunks = 0
            for line in p.stdout:
                if json.loads(line)["event"] == "session:progress":
                    chunks += 1
                    if chunks == 3:
                        break
            time.sleep(0.3)
            p.send_signal(signal.SIGKILL)
            p.wait()
            p.stdout.close()
        # every final-named chunk parses, whatever the crash cut
        npys = glob.glob(os.path.join(data, "sessions", "*", "chunk_*.npy"))
        self.assertGreaterEqual(len(npys), 12)
        for f in npys:
            np.load(f)
        out = subprocess.run([h.REC, "sessions", "--data-dir", data,
                              "--json"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        lst = json.loads(out.stdout)
        self.assertEqual(len(lst), 1)
        self.assertEqual(lst[0]["status"], "failed")
        self.assertIn("interrupted", lst[0]["failure_reason"])
        self.assertGreaterEqual(lst[0]["chunks_stored"], 12)
        m, d = h.manifest(data)
        self.assertEqual(m["session"]["status"], "failed")
        for r in m["measurements"]:
            a = np.load(os.path.join(data, r["iq_data_location"]))
            self.assertEqual(len(a), r["iq_samples_count"])
        # nothing half-written is left behind, nothing stored is lost
        self.assertEqual(glob.glob(os.path.join(d, "*.tmp*")), [])
        named = {r["iq_data_location"] for r in m["measurements"]}
        named |= {o["iq_data_location"] for o in m.get("orphans", [])}
        for f in glob.glob(os.path.join(d, "chunk_*.npy")):
            self.assertIn(os.path.relpath(f, data), named)


def clone_session(data, src, finished=True):
    """Copy session src under a new id (ids rewritten); finished=False
    moves its rows back to rows/ as an interrupted recorder leaves them."""
    import shutil, uuid
    nid = str(uuid.uuid4())
    sd = os.path.join(data, "sessions", src)
    dd = os.path.join(data, "sessions", nid)
    shutil.copytree(sd, dd)
    path = os.path.join(dd, "manifest.json")
    with open(path) as f:
        text = f.read().replace(src, nid)
    m = json.loads(text)
    if not finished:
        os.makedirs(os.path.join(dd, "rows"), exist_ok=True)
        with open(os.path.join(dd, "rows", "batch_000000.json"), "w") as f:
            json.dump(m.pop("measurements"), f)
    with open(path, "w") as f:
        json.dump(m, f)
    return nid


class DamagedManifestTest(unittest.TestCase):
    """12 sessions, 5 with a missing, empty, truncated, {} or garbage
    manifest: all 12 listed, the damaged ones rebuilt (failed, with the
    reason), their chunks counted, sync names the session that cannot be
    sent, and nothing is deleted."""

    def test_damaged_manifests(self):
        import fcntl
        tmp = tempfile.mkdtemp(prefix="hr-damaged-")
        self.addCleanup(h.rmtree, tmp)
        data = os.path.join(tmp, "data")
        with h.Sim(2, tmp=tmp) as sim:
            rc, ev, err = h.record(sim, data, duration=3, name="good")
        self.assertEqual(rc, 0, err)
        src = h.final(ev)["session_id"]
        ids = [src] + [clone_session(data, src, finished=i % 2 == 0)
                       for i in range(11)]
        sdir = lambda i: os.path.join(data, "sessions", i)
        damage = {
            ids[1]: None,                       # missing
            ids[2]: "",                         # empty
            ids[3]: "truncate",                 # torn
            ids[4]: "{}",
            ids[5]: "\x00garbage\xff",
        }
        for i, how in damage.items():
            path = os.path.join(sdir(i), "manifest.json")
            if how is None:
                os.unlink(path)
            elif how == "truncate":
                with open(path) as f:
                    text = f.read()
                with open(path, "w") as f:
                    f.write(text[:len(text) // 3])
            else:
                with open(path, "w", errors="surrogateescape") as f:
                    f.write(how)
        files = {i: sorted(os.listdir(sdir(i))) for i in ids}
        nchunks = sum(len(glob.glob(os.path.join(sdir(i), "chunk_*.npy")))
                      for i in ids)
        self.assertEqual(nchunks, 12 * 6)
        # one damaged session is held by a "live recorder": not rebuilt,
        # listed as damaged, and sync names it
        held = ids[2]
        lockf = open(os.path.join(sdir(held), ".lock"), "w")
        fcntl.flock(lockf, fcntl.LOCK_EX)
        out = subprocess.run([h.REC, "sessions", "--data-dir", data,
                              "--json"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        lst = {o["id"]: o for o in json.loads(out.stdout)}
        self.assertEqual(sorted(lst), sorted(ids))
        for i in damage:
            o = lst[i]
            self.assertEqual(o["chunk_files"], 6, o)
            if i == held:
                self.assertEqual(o["status"], "damaged")
                self.assertEqual(o["damaged"], "manifest.json is empty")
                continue
            self.assertEqual(o["status"], "failed", o)
            self.assertIn("manifest rebuilt from 6 chunks",
                          o["failure_reason"])
            self.assertIn(i, out.stderr)    # the message names it
            # rows of an interrupted session come back, with metrics
            self.assertEqual(o["chunks_stored"], 6 if files[i].count(
                "rows") else 0, o)
            self.assertEqual(o["chunks_expected"], 6, o)
        self.assertIn("missing", lst[ids[1]]["failure_reason"])
        self.assertIn("not valid JSON", lst[ids[3]]["failure_reason"])
        self.assertIn("no session object", lst[ids[4]]["failure_reason"])
        for i in set(ids) - set(damage):
            self.assertEqual(lst[i]["status"], "completed")
            self.assertEqual(lst[i]["chunks_stored"], 6)
        # human output: every session, the damaged one with its reason
        out = subprocess.run([h.REC, "sessions", "--data-dir", data],
                             capture_output=True, text=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        for i in ids:
            self.assertIn(i, out.stdout)
        self.assertIn("damaged: manifest.json is empty", out.stdout)
        # status and sync name the session they cannot send
        out = subprocess.run([h.REC, "status", "--data-dir", data,
                              "--json"], capture_output=True, text=True)
        st = {o["id"]: o for o in json.loads(out.stdout)["sessions"]}
        self.assertEqual(st[held]["status"], "damaged")
        self.assertEqual(out.returncode, 75)
        out = subprocess.run([h.REC, "status", "--data-dir", data],
                             capture_output=True, text=True)
        self.assertIn("%s damaged: manifest.json is empty" % held,
                      out.stdout)
        out = subprocess.run([h.REC, "sync", "--data-dir", data, "--s3",
                              "http://127.0.0.1:9", "--timeout", "2"],
                             capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, AWS_ACCESS_KEY_ID="x",
                                      AWS_SECRET_ACCESS_KEY="y"))
        self.assertEqual(out.returncode, 75, out.stderr)
        self.assertIn("session %s not sent: manifest.json is empty" % held,
                      out.stderr)
        # released: the next open rebuilds it too
        lockf.close()
        out = subprocess.run([h.REC, "sessions", "--data-dir", data,
                              "--json"], capture_output=True, text=True)
        lst = {o["id"]: o for o in json.loads(out.stdout)}
        self.assertEqual(lst[held]["status"], "failed")
        self.assertIn("manifest.json is empty",
                      lst[held]["failure_reason"])
        # nothing deleted: every chunk file, and the damaged manifests
        self.assertEqual(sum(len(glob.glob(os.path.join(sdir(i),
                         "chunk_*.npy"))) for i in ids), nchunks)
        for i, how in damage.items():
            kept = os.path.join(sdir(i), "manifest.json.damaged")
            self.assertEqual(os.path.exists(kept), how is not None, i)
            if how == "{}":
                with open(kept) as f:
                    self.assertEqual(f.read(), "{}")
            with open(os.path.join(sdir(i), "manifest.json")) as f:
                m = json.load(f)
            self.assertEqual(m["session"]["id"], i)
            named = {r["iq_data_location"] for r in m["measurements"]}
            named |= {o["iq_data_location"] for o in m["orphans"]}
            self.assertEqual(len(named), 6)
            self.assertEqual(glob.glob(os.path.join(sdir(i), "*.tmp*")), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
