"""test_console.py -- the operator console: the real binary in a real
terminal (tmux, 80x24) against the simulator, asserting on the screen.

Every captured screen is kept under tests/artifacts/console/ (git-ignored)
so a failure can be read afterwards. Each test uses its own tmux server
(-L with a unique name) so parallel runs never meet."""

import glob, json, os, re, subprocess, sys, tempfile, time, unittest, uuid
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness as h

SRC = os.environ.get("HEIMDALL_SRC",
                     os.path.join(os.path.dirname(__file__), "..", ".."))
ART = os.path.join(SRC, "tests", "artifacts", "console")

# SGR colour parameters: 30-37/90-97 foreground, 40-47/100-107 background,
# 38;x / 48;x extended. 39 and 49 (default colours) are resets, not colour.
COLOR_SGR = re.compile(
    r"\x1b\[(?:[0-9;]*;)?(?:3[0-7]|4[0-7]|9[0-7]|10[0-7]|38|48)(?:;[0-9;]*)?m")


class Term:
    """One tmux server with one pane running the console."""

    def __init__(self, test, argv, env=None, w=80, h=24):
        self.test = test
        self.sock = "hr-console-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])
        self.shot = 0
        cmd = ["env"] + ["%s=%s" % kv for kv in (env or {}).items()] + argv
        # The exit status is printed when the program ends: a sanitizer
        # abort or a crash shows up as a non-zero status on the screen.
        self.tmux("new-session", "-d", "-s", "t", "-x", str(w), "-y", str(h),
                  " ".join(_q(a) for a in cmd) + '; echo "[exit $?]"; '
                  'sleep 600')
        # Keep the pane after the program exits: its last screen matters.
        self.tmux("set-option", "-t", "t", "remain-on-exit", "on")
        test.addCleanup(self.close)

    def tmux(self, *args, check=True):
        p = subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null"] +
                           list(args), capture_output=True, text=True,
                           timeout=30)
        if check and p.returncode != 0:
            raise RuntimeError("tmux %s: %s" % (args[0], p.stderr))
        return p.stdout

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "t", *keys)
        time.sleep(0.15)

    def type(self, text):
        self.tmux("send-keys", "-t", "t", "-l", text)
        time.sleep(0.15)

    def screen(self, escapes=False):
        args = ["capture-pane", "-p", "-t", "t"]
        if escapes:
            args.append("-e")
        return self.tmux(*args)

    def save(self, name, text=None):
        os.makedirs(ART, exist_ok=True)
        self.shot += 1
        path = os.path.join(ART, "%s.%02d.%s.txt" % (self.test.id().split(
            ".")[-1], self.shot, name))
        with open(path, "w") as f:
            f.write(text if text is not None else self.screen())
        return path

    def wait(self, pred, timeout=15, what="", escapes=False):
        """Poll the screen until pred(screen) is true; returns the screen."""
        if isinstance(pred, str):
            s = pred
            pred = lambda scr: s in scr
            what = what or s
        end = time.time() + timeout
        while True:
            scr = self.screen(escapes)
            # A capture can fall in the middle of a redraw (tmux has read
            # part of ncurses' output: CI once saw the completion screen's
            # rule over the live panel's lines). So pred must hold on the
            # next capture too, a moment later, and that one is returned.
            if pred(scr):
                time.sleep(0.05)
                scr = self.screen(escapes)
                if pred(scr):
                    return scr
            if time.time() > end:
                self.save("timeout")
                raise AssertionError("screen never showed %s:\n%s" %
                                     (what, scr))
            time.sleep(0.1)

    def quit(self, *keys):
        """Quit with keys; the program must exit with status 0."""
        self.keys(*keys)
        scr = self.wait(lambda s: "[exit " in s, what="the program's exit")
        self.save("exit", scr)
        self.test.assertIn("[exit 0]", scr)
        return scr

    def size(self, w, h):
        self.tmux("resize-window", "-t", "t", "-x", str(w), "-y", str(h))

    def close(self):
        self.tmux("kill-server", check=False)


def _q(s):
    return "'" + s.replace("'", "'\\''") + "'"


def lines(scr):
    return scr.split("\n")


def station_rows(scr):
    """Table rows: they start with the station's index and name."""
    return [l for l in lines(scr) if re.match(r"^\d+ Sim \d+ ", l)]


class ConsoleTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hr-console-")
        self.addCleanup(h.rmtree, self.tmp)
        self.data = os.path.join(self.tmp, "data")

    def sim(self, count=7, specs=()):
        s = h.Sim(count, specs, tmp=self.tmp)
        self.addCleanup(s.close)
        return s

    def console(self, sim, env=None, w=80, h_=24, args=()):
        e = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        e.update(env or {})
        # Options alone (no command) open the console too.
        argv = [h.REC, "--stations", sim.stations, "--data-dir",
                self.data] + list(args)
        t = Term(self, argv, e, w, h_)
        t.wait("Session name")
        return t

    def configure(self, t, name, freq, duration):
        """Fill step 1 and go to step 2."""
        t.type(name)
        t.keys("Tab")
        t.type(freq)
        t.keys("Tab")
        t.type(str(duration))
        t.keys("Tab", "Tab", "Tab", "Tab")  # notes, group, at, Start
        t.keys("Enter")
        return t.wait("Assign source")

    def start(self, t, name="console e2e", freq="10", duration=5,
              source=None):
        self.configure(t, name, freq, duration)
        if source:                       # filter by typing, then assign
            t.type(source)
            t.wait(lambda s: re.search(r"> " + re.escape(source), s, re.I),
                   what="the filtered source selected")
            t.save("assign-filtered")
        t.keys("Enter")                  # the selected source
        t.wait("Start acquisition")
        t.wait(lambda s: "reachable" in s, what="the reachability probe")
        t.save("confirm")
        t.keys("Enter")
        return t.wait("Chunk ")

    def manifest(self):
        m, d = h.manifest(self.data)
        return m, d

    # -- the whole flow --------------------------------------------------

    def test_full_flow(self):
        sim = self.sim(7)
        t = self.console(sim)
        t.save("configure")
        scr = self.configure(t, "console e2e", "10.0", 5)
        t.save("assign")
        self.assertIn("Unknown", scr)
        t.keys("Enter")
        scr = t.wait(lambda s: "7 reachable" in s, what="7 reachable")
        t.save("confirm")
        for want in ("console e2e", "10.000000 MHz", "5 s", "Unknown"):
            self.assertIn(want, scr)
        t.keys("Enter")
        # While acquiring: the table fills with SNRs, the counter moves.
        scr = t.wait(lambda s: re.search(r"Chunk [1-4]/5", s) and
                     len([r for r in station_rows(s)
                          if re.search(r"\d+\.\d", r)]) == 7,
                     what="a chunk in progress with 7 SNRs")
        t.save("progress")
        self.assertIn("SNR dB", scr)
        # The end: counter 5/5, every row with an SNR, the summary.
        scr = t.wait("Session complete", timeout=30)
        t.save("complete")
        self.assertIn("Chunk 5/5", scr)
        self.assertIn("35 of 35 stored, 0 missing", scr)
        rows = station_rows(scr)
        self.assertEqual(len(rows), 7, scr)
        for r in rows:
            # station, state, then the SNR column: a number like 20.1
            m = re.match(r"^\d+ Sim \d+\s+\S+\s+(-?\d+\.\d)\s", r)
            self.assertIsNotNone(m, "no SNR in row: %r" % r)
            self.assertTrue(10 < float(m.group(1)) < 30, r)
            self.assertIn("5/0", r)
        m, d = self.manifest()
        self.assertEqual(m["session"]["status"], "completed")
        self.assertEqual(len(m["measurements"]), 35)
        self.assertEqual(m["session"]["session_name"], "console e2e")
        self.assertIn(m["session"]["id"], scr.replace("\n", "").replace(
            " ", ""))          # the dataset path is shown (maybe wrapped)
        self.assertEqual(len(glob.glob(os.path.join(d, "*.npy"))), 35)
        # Keys for the next step: a new session keeps the settings.
        self.assertIn("n new session", lines(scr)[-2] + lines(scr)[-1])
        t.keys("n")
        scr = t.wait("1 Configure")
        self.assertIn("console e2e", scr)
        self.assertIn("10.0", scr)
        self.assertIn(" 5 s", scr)
        t.save("new-session")
        t.keys("Escape")
        t.wait("Quit heimdall-rec?")
        scr = t.quit("y")
        # The last session and its folder, said on stderr after the screen
        # is given back.
        self.assertIn("last session %s complete:" % m["session"]["id"],
                      scr.replace("\n", ""))

    def test_listen_serves_the_api(self):
        """--listen: a WebSocket client (npm ws) watches the session the
        operator runs; /health answers on the same port. With port 0 the
        event log's first line gives the port really bound, and only
        127.0.0.1 listens on it."""
        from test_serve import NODE, WEB
        sim = self.sim(3)
        t = self.console(sim, args=("--listen", "127.0.0.1:0"))
        scr = t.wait("serving on http://127.0.0.1:")
        port = int(re.search(r"serving on http://127\.0\.0\.1:(\d+)/", scr).group(1))
        self.assertNotEqual(port, 0)
        ss = subprocess.run(["ss", "-Hltn", "sport = :%d" % port], capture_output=True,
                            text=True, timeout=10).stdout.split()
        self.assertEqual(ss[3], "127.0.0.1:%d" % port, ss)
        env = dict(os.environ, NODE_PATH=os.path.join(WEB, "node_modules"))
        watcher = subprocess.Popen(
            [NODE, os.path.join(WEB, "probe.js"),
             "ws://127.0.0.1:%d/ws" % port, "--until-final", "--timeout",
             "90"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=env)
        self.addCleanup(watcher.kill)
        with urllib.request.urlopen("http://127.0.0.1:%d/health" % port,
                                    timeout=10) as r:
            health = json.loads(r.read())
        self.assertEqual(health["receivers_total"], 3)
        scr = self.start(t, name="watched", duration=3)
        # the page's URL, with the port picked, while acquiring too
        scr = t.wait("web http://127.0.0.1:%d/" % port)
        t.save("url")
        t.wait("Session complete", timeout=30)
        out, err = watcher.communicate(timeout=60)
        self.assertEqual(watcher.returncode, 0, err)
        res = json.loads(out)
        self.assertTrue(res["open"], res)
        m, _ = self.manifest()
        sid = m["session"]["id"]
        prog = [e["data"] for e in res["messages"]
                if e["event"] == "session:progress"]
        self.assertEqual([p["chunk"] for p in prog], [1, 2, 3])
        self.assertTrue(all(p["session_id"] == sid and p["total_chunks"] == 3
                            for p in prog), prog)
        last = [e["data"] for e in res["messages"]
                if e["event"] == "session:status_update"][-1]
        self.assertEqual((last["session_id"], last["status"]),
                         (sid, "completed"))
        t.quit("q")

    def test_page_follows_the_console(self):
        """--listen, issue 13: the page opened while the operator's session
        acquires shows it as it is (acquiring, the console's frequency and
        duration, the bar; no "New Session"), and the stations left out for
        the frequency (a mixed network: 3 HF and 2 two-metre stations, the
        session goes on with the 3); reloaded after the end, the last
        session, complete with a full bar (tests/web/page_follow.js)."""
        from servers import free_port
        from test_serve import NODE, WEB
        sim = self.sim(5)
        with open(sim.stations) as f:
            st = json.load(f)
        for s in st["stations"][3:]:
            s["frequency_min_hz"], s["frequency_max_hz"] = 144e6, 146e6
        with open(sim.stations, "w") as f:
            json.dump(st, f)
        port = free_port()
        t = self.console(sim, args=("--listen", "127.0.0.1:%d" % port))
        art = os.path.join(SRC, "tests", "artifacts")
        os.makedirs(art, exist_ok=True)
        env = dict(os.environ, NODE_PATH=os.path.join(WEB, "node_modules"))
        page = subprocess.Popen([NODE, os.path.join(WEB, "page_follow.js"),
                                 "http://127.0.0.1:%d/" % port, "10", "watch",
                                 art], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
        self.addCleanup(page.kill)
        self.assertEqual(page.stdout.readline().strip(), "ready")
        self.start(t, name="operator", freq="10", duration=10)
        t.wait(lambda s: re.search(r"Chunk [1-9]\d*/10", s),
               what="chunks arriving")
        page.stdin.write("go\n")           # the page opens mid-session
        page.stdin.flush()
        out, err = page.communicate(timeout=180)
        self.assertEqual(page.returncode, 0, err + out)
        res = json.loads(out)
        scr = t.wait("Session complete", timeout=30)
        t.save("page-follows")
        m, _ = self.manifest()
        self.assertEqual(res["session_id"], m["session"]["id"])
        self.assertEqual(res["status"], "Session complete: 30 of 30 chunks "
                         "stored")
        self.assertEqual(res["excluded"], "Left out: Sim 4 (10 MHz is "
                         "outside its range 144-146 MHz), Sim 5 (10 MHz is "
                         "outside its range 144-146 MHz)")
        self.assertEqual([s["state"] for s in m["stations"]],
                         ["streaming"] * 3 + ["excluded"] * 2)
        self.assertIn("excluded", scr)
        t.quit("q")

    def test_preset_ready_to_start(self):
        """--name/--freq/--duration/--notes/--group (scripts/demo): the console opens
        with the form filled and Start focused, so Enter starts it."""
        sim = self.sim(2)
        t = self.console(sim, args=("--name", "Demo session", "--freq", "14.2",
                                    "--duration", "3", "--notes", "demo",
                                    "--group", "demo-1"))
        scr = t.wait("Demo session")
        t.save("preset")
        self.assertIn("14.2", scr)
        self.assertIn(" 3 s", scr)
        t.keys("Enter")                  # Start is focused
        t.wait("Assign source")
        t.keys("Enter")
        t.wait(lambda s: "2 reachable" in s, what="2 reachable")
        t.keys("Enter")
        t.wait("Session complete", timeout=30)
        m, _ = self.manifest()
        self.assertEqual((m["session"]["session_name"],
                          m["session"]["frequency_hz"],
                          m["session"]["duration_seconds"],
                          m["session"]["notes"]),
                         ("Demo session", 14200000, 3, "demo"))
        self.assertEqual(m["session"]["group_id"], "demo-1")
        t.quit("q")
        # a bad preset is a usage error before the screen opens
        r = subprocess.run([h.REC, "console", "--stations", sim.stations,
                            "--duration", "31"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 64, r.stderr)
        self.assertIn("--duration", r.stderr)

    def test_queued_behind_a_web_session(self):
        """--listen: while a WebSocket client's session acquires, the
        operator's waits in the engine's queue -- the progress screen says
        so ("queued: position 1", "queued: 1 session") -- and acquires when
        the other one ends."""
        from servers import free_port
        from test_serve import NODE, WEB
        sim = self.sim(2)
        port = free_port()
        t = self.console(sim, args=("--listen", "127.0.0.1:%d" % port))
        script = r'''
const { client, isFinal } = require(process.argv[2] + "/lib");
(async () => {
  const A = await client(process.argv[1], "A").open;
  const a = (await A.step("session:start", { session_name: "web first", frequency_mhz: 10,
    duration_seconds: 6 }, "session:started")).data.session_id;
  await A.step("session:assign_source", { session_id: a, source_id: "unknown" }, "session:source_assigned");
  const fin = A.next(isFinal(a), "final", 60000);
  const m = await A.step("session:complete", { session_id: a, frequency_hz: 10000000,
    duration_seconds: 6 }, "session:completed");
  console.log(JSON.stringify(m.data));
  console.log(JSON.stringify((await fin).data));
  A.ws.close();
})().catch((e) => { console.error(String(e.stack || e)); process.exit(1); });'''
        env = dict(os.environ, NODE_PATH=os.path.join(WEB, "node_modules"))
        web = subprocess.Popen([NODE, "-e", script, "ws://127.0.0.1:%d/ws" % port, WEB],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
        self.addCleanup(web.kill)
        first = json.loads(web.stdout.readline())
        self.assertEqual(first["queue_position"], 0, first)
        self.start(t, name="operator second", duration=2)
        scr = t.wait(lambda s: "queued: position 1" in s and "queued: 1 session" in s,
                     what="the operator's session queued")
        t.save("queued")
        self.assertIn("Chunk 0/2", scr)
        out, err = web.communicate(timeout=60)
        self.assertEqual(web.returncode, 0, err)
        self.assertEqual(json.loads(out)["status"], "completed")
        scr = t.wait("Session complete", timeout=30)
        t.save("queued-complete")
        self.assertIn("Chunk 2/2", scr)
        sts = []
        for p in glob.glob(os.path.join(self.data, "sessions", "*", "manifest.json")):
            with open(p) as f:
                sts.append(json.load(f)["session"]["status"])
        self.assertEqual(sts, ["completed", "completed"])
        t.quit("q")

    # -- schedules (issue 15) --------------------------------------------------

    def schedules_agree(self):
        """schedules.json and `schedule list --json` (the CLI) say the
        same; returns the list."""
        with open(os.path.join(self.data, "schedules.json")) as f:
            stored = json.load(f)["schedules"]
        r = subprocess.run([h.REC, "schedule", "list", "--data-dir",
                            self.data, "--json"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        listed = json.loads(r.stdout)
        self.assertEqual([(o["id"], o["name"], o["cancelled"], o["runs"])
                          for o in stored],
                         [(o["id"], o["name"], o["cancelled"], o["runs"])
                          for o in listed])
        return listed

    def test_schedule_screen(self):
        """F3 on Configure: the schedules. The form adds one (the first
        try refused with a clear error: 5 s is too close), it is listed
        with its countdown, it runs -- the console follows its session to
        the end -- and another is cancelled after a confirmation;
        schedules.json and `schedule list` agree with the screen."""
        sim = self.sim(3)
        t = self.console(sim)
        self.assertIn("F3 schedules", lines(t.screen())[23])
        t.keys("F3")
        scr = t.wait("No schedules in this dataset yet")
        t.save("schedules-empty")
        self.assertIn("a add", lines(scr)[23])
        # one far ahead, repeated: cancelled below
        t.keys("a")
        t.wait("Add a schedule")
        t.type("later {n}")
        t.keys("Tab")
        t.type("10")
        t.keys("Tab")
        t.type("3")
        t.keys("Tab", "Tab")               # source: unknown
        t.type("+1h")
        t.keys("Tab")
        t.type("15m")
        t.keys("Tab")
        t.type("4")
        t.save("form-later")
        t.keys("Tab", "Tab", "Tab", "Tab", "Enter")  # until, notes, group, Add
        scr = t.wait('added "later {n}"')
        t.save("added-later")
        self.assertRegex(scr, r"later \{n\}\s+\d\d:\d\d:\d\dZ in "
                         r"(1:00:0\d|59:5\d)\s+15m x4\s+waiting\s+0/0")
        self.assertIn("repeat every 15m, 4 times from", scr)
        # the one that runs: first an instant too close, refused
        t.keys("a")
        t.wait("Add a schedule")
        t.keys("C-u")
        t.type("soon {n}")
        t.keys("Tab", "Tab")               # frequency kept (10)
        t.type("2")
        t.keys("Tab", "Tab")
        t.type("+5s")
        t.keys("Tab", "C-u", "Tab", "C-u")  # every, count: none
        t.keys("Tab", "Tab", "Tab", "Tab", "Enter")
        scr = t.wait("Not added: the first start is")
        t.save("refused-too-close")
        self.assertIn("a schedule must start at least 10 s ahead",
                      " ".join(l.strip() for l in lines(scr)))
        self.assertRegex(scr, r"> Start at\s+\+5s")   # the field focused
        t.keys("C-u")
        t.type("+14s")
        t.wait(lambda s: re.search("\u2713 20\\d\\d-\\d\\d-\\d\\dT\\S+Z UTC", s),
               what="the instant")
        t.keys("Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Enter")
        scr = t.wait('added "soon {n}"')
        t.save("added-soon")
        m = re.search(r"soon \{n\}\s+\d\d:\d\d:\d\dZ in 0:(\d\d)\s+once\s+"
                      r"waiting\s+0/0", scr)
        self.assertIsNotNone(m, scr)
        # the countdown moves
        scr = t.wait(lambda s: re.search(r"soon \{n\}.* in 0:(\d\d)", s) and
                     int(re.search(r"soon \{n\}.* in 0:(\d\d)", s).group(1))
                     < int(m.group(1)), what="the countdown moving")
        # cancel "later {n}" (Up: the list is in the order added)
        t.keys("Up", "c")
        scr = t.wait("Cancel this schedule?")
        t.save("cancel-asked")
        self.assertIn('"later {n}": no more occurrences', scr)
        t.keys("y")
        scr = t.wait('cancelled "later {n}"')
        t.save("cancelled")
        self.assertRegex(scr, r"later \{n\}\s+-\s+15m x4\s+cancelled")
        # it runs: the console follows the session to its end
        scr = t.wait(lambda s: "soon 1" in s and "Chunk " in s, timeout=30,
                     what="the scheduled session followed")
        t.save("followed")
        scr = t.wait("Session complete", timeout=30)
        t.save("followed-complete")
        self.assertIn("Chunk 2/2", scr)
        self.assertIn("6 of 6 stored, 0 missing", scr)
        man, _ = self.manifest()
        self.assertEqual((man["session"]["session_name"],
                          man["session"]["duration_seconds"],
                          man["session"]["status"]), ("soon 1", 2,
                                                       "completed"))
        # back to the schedules through the history: done, 1 run
        t.keys("H")
        t.wait("History")
        t.keys("s")
        scr = t.wait(lambda s: re.search(r"soon \{n\}\s+-\s+once\s+done\s+"
                                         r"1/0", s), what="soon done")
        t.save("schedules-after")
        listed = self.schedules_agree()
        self.assertEqual([(o["name"], o["state"]) for o in listed],
                         [("later {n}", "cancelled"), ("soon {n}", "finished")])
        self.assertEqual(listed[1]["runs"][-1]["session_id"],
                         man["session"]["id"])
        self.assertEqual(listed[1]["runs"][-1]["status"], "starting")
        r = subprocess.run([h.REC, "schedule", "list", "--data-dir",
                            self.data], capture_output=True, text=True,
                           timeout=30)
        self.assertRegex(r.stdout, r"cancelled .* later \{n\}")
        self.assertRegex(r.stdout, r"finished .* starting .* soon \{n\}")
        t.keys("F2")          # the history again, whose Esc goes where it
        t.wait("History")     # came from: the Complete screen
        t.keys("Escape")
        t.wait("Session complete")
        t.quit("q")

    def test_schedule_queued_behind_a_web_session(self):
        """--listen: an occurrence falling while a WebSocket client's
        session acquires queues behind it, and the schedules say so
        ("queued", its position); with a question open on the screen the
        console does not jump to it (the message line says it started),
        and the list shows it run once the other session ended."""
        from servers import free_port
        from test_serve import NODE, WEB
        sim = self.sim(2)
        port = free_port()
        t = self.console(sim, args=("--listen", "127.0.0.1:%d" % port))
        t.keys("F3")
        t.wait("No schedules in this dataset yet")
        t.keys("a")
        t.wait("Add a schedule")
        t.type("queued {n}")
        t.keys("Tab")
        t.type("10")
        t.keys("Tab")
        t.type("2")
        t.keys("Tab", "Tab")
        t.type("+14s")
        t.keys("Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Enter")
        t.wait('added "queued {n}"')
        script = r"""
const { client, isFinal } = require(process.argv[2] + "/lib");
(async () => {
  const A = await client(process.argv[1], "A").open;
  const a = (await A.step("session:start", { session_name: "web long", frequency_mhz: 10,
    duration_seconds: 12 }, "session:started")).data.session_id;
  await A.step("session:assign_source", { session_id: a, source_id: "unknown" }, "session:source_assigned");
  const fin = A.next(isFinal(a), "final", 60000);
  const m = await A.step("session:complete", { session_id: a, frequency_hz: 10000000,
    duration_seconds: 12 }, "session:completed");
  console.log(JSON.stringify(m.data));
  console.log(JSON.stringify((await fin).data));
  A.ws.close();
})().catch((e) => { console.error(String(e.stack || e)); process.exit(1); });"""
        env = dict(os.environ, NODE_PATH=os.path.join(WEB, "node_modules"))
        web = subprocess.Popen([NODE, "-e", script, "ws://127.0.0.1:%d/ws" % port,
                                WEB], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=env)
        self.addCleanup(web.kill)
        self.assertEqual(json.loads(web.stdout.readline())["queue_position"], 0)
        t.keys("?")                       # a question open: not followed
        t.wait("Keys: schedules")
        path = os.path.join(self.data, "schedules.json")
        end = time.time() + 20
        while time.time() < end:
            with open(path) as f:
                runs = json.load(f)["schedules"][0]["runs"]
            if runs and runs[-1]["status"] == "queued":
                break
            time.sleep(0.2)
        self.assertEqual(runs[-1]["status"], "queued", runs)
        t.keys("x")                       # closes the help
        scr = t.wait(lambda s: re.search(r"queued \{n\}\s+-\s+once\s+queued", s),
                     what="the schedule queued")
        t.save("schedule-queued")
        self.assertIn("#1 queued behind a running session (position 1)", scr)
        self.assertIn('"queued 1" started (session %s)' % runs[-1]["session_id"],
                      scr)
        out, err = web.communicate(timeout=60)
        self.assertEqual(web.returncode, 0, err)
        scr = t.wait(lambda s: re.search(r"queued \{n\}\s+-\s+once\s+done\s+1/0", s),
                     timeout=30, what="the queued one done")
        t.save("schedule-queued-done")
        man, _ = h.manifest(self.data, runs[-1]["session_id"])
        self.assertEqual(man["session"]["status"], "completed")
        self.schedules_agree()
        t.quit("Escape", "Escape", "y")

    def test_schedule_screen_small_plain(self):
        """The schedules at 60x20 and 200x50 in LANG=C with NO_COLOR: a
        schedule added by the CLI, and one whose instant passed while
        nothing ran (reported missed by the console's scheduler, never
        run late)."""
        sim = self.sim(2)
        add = [h.REC, "schedule", "add", "--data-dir", self.data, "--freq",
               "10", "--duration", "5"]
        for name, extra in (("gone", ["--at", "+1h"]),
                            ("hourly {n}", ["--at", "+2h", "--every", "1h",
                                            "--count", "40"])):
            r = subprocess.run(add + ["--name", name] + extra,
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
        # "gone" was planned for a minute ago (as if the recorder had been
        # off then): the file is what the runner reads
        path = os.path.join(self.data, "schedules.json")
        with open(path) as f:
            j = json.load(f)
        j["schedules"][0]["first"] = time.strftime(
            "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
        with open(path, "w") as f:
            json.dump(j, f)
        t = self.console(sim, env={"LANG": "C", "LC_ALL": "C",
                                   "NO_COLOR": "1"}, w=60, h_=20)
        t.keys("F3")
        scr = t.wait(lambda s: re.search(r"gone\s+-\s+.*missed", s),
                     what="gone missed")
        t.save("schedules-60x20")
        ls = lines(scr)
        self.assertTrue(all(len(l) <= 60 for l in ls))
        hourly = r"hourly \{n\}\s+\d\d:\d\d:\d\dZ in (2:00:0\d|1:59:\d\d)\s+"
        self.assertRegex(scr, hourly + r"1h x40\s+waiting")
        self.assertIn("a add", ls[19])
        self.assertIn("missed: 0 run, 1 missed", scr)
        self.assertIn("#1 missed: nothing was running at its instant", scr)
        self.assertIsNone(COLOR_SGR.search(t.screen(escapes=True)))
        t.keys("Down")
        scr = t.wait("repeat every 1h, 40 times from")
        t.keys("a")
        scr = t.wait("Add a schedule")
        t.save("form-60x20")
        self.assertIn("[ Add schedule ]", scr)
        self.assertIn("<", scr)              # ASCII slider
        t.keys("Escape")
        t.size(200, 50)
        # the 60x20 screen's detail lines hold "10.000000" and "unknown"
        # too: wait for the wide table's row itself, not for words that
        # the screen before the resize already shows
        wide = re.compile(hourly + r"1h x40\s+waiting\s+0/0\s+"
                          r"10\.000000\s+5s\s+unknown")
        scr = t.wait(lambda s: wide.search(s), what="every column at 200x50")
        t.save("schedules-200x50")
        self.assertRegex(scr, wide)
        t.keys("?")
        t.wait("Keys: schedules")
        t.keys("x", "Escape")
        t.wait("Session name")
        t.quit("Escape", "y")

    # -- validation and navigation ------------------------------------------

    def test_validation(self):
        sim = self.sim(2)
        t = self.console(sim)
        # Empty name: Start refuses and says why.
        t.keys("Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Enter")
        scr = t.wait("Session name is required")
        t.save("empty-name")
        self.assertNotIn("Assign source", scr)
        # A bad frequency is reported as it is typed.
        t.type("n1")
        t.keys("Tab")
        t.type("abc")
        scr = t.wait("Use digits and one decimal point")
        t.save("freq-not-number")
        t.keys("C-u")
        t.type("45")
        scr = t.wait("out of range")
        t.save("freq-out-of-range")
        self.assertIn("0-30 MHz", scr)
        # Start still refuses with the frequency bad.
        t.keys("Tab", "Tab", "Tab", "Tab", "Tab", "Enter")
        scr = t.wait(lambda s: "out of range" in s and "> Frequency" in s,
                     what="focus back on the frequency")
        self.assertNotIn("Assign source", scr)
        t.keys("C-u")
        t.type("14.5")
        scr = t.wait("inside every station's range")
        # The slider: arrows and digits, clamped to 1-30.
        t.keys("Tab")
        t.type("99")                     # 9, then 99 > 30: a new 9
        scr = t.wait(lambda s: re.search(r" 9 s\b", s), what="9 s")
        t.keys("Right", "Right")
        t.wait(lambda s: re.search(r"11 s\b", s), what="11 s")
        t.keys("End", "Right")
        t.wait(lambda s: re.search(r"30 s\b", s), what="30 s")
        # ? shows the keys; any key closes.
        t.keys("?")
        t.wait("Keys: configure")
        t.save("help")
        t.keys("x")
        t.wait(lambda s: "Keys: configure" not in s, what="help closed")
        # Forward, then Esc goes back a step at a time with values kept.
        t.keys("Tab", "Tab", "Tab", "Tab", "Enter")
        t.wait("Assign source")
        t.type("zzz")
        t.wait("No source matches")
        t.keys("Enter")
        t.wait("Choose a source first")
        t.keys("BSpace", "BSpace", "BSpace", "Enter")
        t.wait("Start acquisition")
        t.keys("Escape")
        t.wait("Assign source")
        t.keys("Escape")
        scr = t.wait("1 Configure")
        self.assertIn("n1", scr)
        self.assertIn("14.5", scr)
        # Nothing was created by going back and forth.
        self.assertEqual(glob.glob(os.path.join(self.data, "sessions", "*")),
                         [])
        # Every screen's bottom line shows its keys.
        self.assertIn("Esc quit", lines(scr)[23])
        t.keys("Escape")
        t.wait("Quit heimdall-rec?")
        t.quit("y")

    def test_input_and_keys(self):
        """Typing gives what was typed or says why not; the editing keys
        of a shell; Ctrl-C and Esc ask alike; too small is said."""
        sim = self.sim(2)
        t = self.console(sim)
        # Ctrl-A/E/W/U and Alt-Backspace in a text field
        t.type("alpha beta")
        t.keys("C-w")
        t.type("gamma")
        t.keys("C-a")
        t.type("X")
        t.keys("C-e")
        t.type(" Z")
        t.wait("Xalpha gamma Z")
        t.keys("M-BSpace")               # a word, not the quit question
        scr = t.wait(lambda s: "Xalpha gamma Z" not in s and
                     "Xalpha gamma" in s, what="Alt-Backspace")
        self.assertNotIn("Quit heimdall-rec?", scr)
        # ("Xalpha gamma ": Ctrl-W took "Z", not the blank before it)
        t.keys("Left", "Left", "Left", "C-u")    # to the start
        scr = t.wait(lambda s: re.search(r"Session name +ma *\n", s),
                     what="Ctrl-U to the start")
        t.save("edit-keys")
        # frequencies: strtod's syntaxes are refused, a comma hinted,
        # 19 digits are too large
        t.keys("Tab")
        for typed, said in (("0x10", "Use digits and one decimal point"),
                            ("1e1", "Use digits and one decimal point"),
                            ("14,2", "Use a decimal point, not a comma: "
                                     "14.2 MHz"),
                            ("1234567890123456789", "Too large: at most 100000 MHz")):
            t.keys("C-u")
            t.type(typed)
            t.wait(said)
        t.save("freq-messages")
        t.keys("C-u")
        t.type("10")
        t.wait("inside every station's range")
        # duration: "3","1" is 31, refused as such (it gave 1 s)
        t.keys("Tab")
        t.type("31")
        scr = t.wait("31 s is more than the 30 s maximum")
        self.assertRegex(scr, r" 3 s\b")
        t.type("0")                      # the refused 1 was not taken
        scr = t.wait(lambda s: re.search(r"30 s\b", s), what="30 s")
        self.assertNotIn("maximum", scr)
        t.save("duration")
        # Ctrl-C asks, as Esc does (it quit at once)
        t.keys("C-c")
        t.wait("Quit heimdall-rec?")
        t.keys("n")
        t.wait(lambda s: "Quit heimdall-rec?" not in s, what="stayed")
        # too small: said, not a form cut off
        t.size(50, 15)
        t.wait("terminal too small (needs 60x20")
        t.save("too-small")
        t.size(80, 24)
        t.wait("1 Configure")
        t.keys("Escape")
        t.wait("Quit heimdall-rec?")
        t.keys("C-c")                    # a second Ctrl-C: yes
        scr = t.wait(lambda s: "[exit " in s, what="the program's exit")
        self.assertIn("[exit 0]", scr)

    def test_utf8_kept_in_c_locale(self):
        """LANG=C: typed UTF-8 is kept as typed ("Zürich" was "Zrich")."""
        sim = self.sim(2)
        t = self.console(sim, env={"LANG": "C", "LC_ALL": "C"})
        self.start(t, name="Zürich €", duration=1)
        t.wait("Session complete", timeout=30)
        m, _ = self.manifest()
        self.assertEqual(m["session"]["session_name"], "Zürich €")
        t.quit("q")

    def test_many_stations_keys(self):
        """25 stations at 80x24: PageDown moves by the rows shown (none
        skipped: it jumped 15 with 12 shown), Home/End, j/k, / finds, s
        sorts, Tab scrolls the log."""
        sim = self.sim(25)
        t = self.console(sim)
        self.start(t, duration=12)
        scr = t.wait(lambda s: len(station_rows(s)) > 5, what="rows")
        first = [int(r.split()[0]) for r in station_rows(scr)]
        self.assertEqual(first[0], 1)
        n = len(first)
        t.keys("PageDown")
        scr = t.wait(lambda s: station_rows(s) and
                     int(station_rows(s)[0].split()[0]) != 1, what="a page")
        self.assertEqual(int(station_rows(scr)[0].split()[0]), n + 1, scr)
        t.keys("Home")
        t.wait(lambda s: int(station_rows(s)[0].split()[0]) == 1, what="Home")
        t.keys("j", "j")
        t.wait(lambda s: int(station_rows(s)[0].split()[0]) == 3, what="j j")
        t.keys("k")
        t.wait(lambda s: int(station_rows(s)[0].split()[0]) == 2, what="k")
        t.keys("End")
        scr = t.wait(lambda s: int(station_rows(s)[-1].split()[0]) == 25,
                     what="End")
        t.keys("/")
        t.type("sim 7")
        scr = t.wait(lambda s: station_rows(s)[0].startswith("7 Sim 7 "),
                     what="found")
        t.keys("Enter")
        t.save("found")
        t.keys("s")
        t.wait(lambda s: "\nby name " in s, what="sorted by name")
        t.keys("s")
        scr = t.wait(lambda s: "\nby SNR " in s, what="sorted by SNR")
        snr = [float(r.split()[4]) for r in station_rows(scr)
               if r.split()[4] != "-"]
        self.assertEqual(snr, sorted(snr, reverse=True), scr)
        t.save("sorted")
        t.keys("Tab", "PageUp")
        t.wait(lambda s: re.search(r"Events \[keys\] \(\d+ back", s),
               what="the log scrolled back")
        t.save("log-back")
        t.keys("End")
        t.wait(lambda s: "back:" not in s, what="the log's newest")
        t.wait("Session complete", timeout=30)
        t.quit("q")

    # -- see the data, keep history (issue 13) ------------------------------

    def test_grid_waterfall_history(self):
        """Group and a coordinated start on Configure; the waterfall of a
        station's passband with its peak marked; the coverage grid with
        its headline and the reason of a missing cell; the history: the
        session's status, its details (grid, missing chunks) and "record
        again" filling Configure."""
        sim = self.sim(4, ["i=2,fault=disabled"])
        t = self.console(sim, args=("--start-timeout", "2"))
        t.type("grid e2e")
        t.keys("Tab")
        t.type("10")
        t.keys("Tab")
        t.type("4")
        t.keys("Tab", "Tab")               # notes: empty; the group
        t.type("bad group")
        t.wait("Group: 1-64 letters, digits")
        t.keys("C-u")
        t.type("field.a")
        t.keys("Tab")
        t.type("soon")
        t.keys("Tab")
        t.wait("Start at: an ISO 8601 UTC time")
        t.keys("BTab", "C-u")
        t.type("+3s")
        scr = t.wait(lambda s: re.search(r"20\d\d-\d\d-\d\dT\S+Z UTC", s),
                     what="the instant")
        t.save("group-at")
        self.assertIn("field.a", scr)
        t.keys("Tab", "Enter")
        t.wait("Assign source")
        t.keys("Enter")
        scr = t.wait(lambda s: "reachable" in s, what="the probe")
        self.assertRegex(scr, r"Group +field\.a")
        self.assertRegex(scr, r"Start at +20\d\d-\d\d-\d\dT")
        t.save("confirm-group-at")
        t.keys("Enter")
        scr = t.wait(lambda s: re.search(r"starts at \d\d:\d\d:\d\d "
                                         r"\(0:0\d left\)", s),
                     what="the coordinated start awaited")
        t.save("starts-at")
        # The passband of station 1: one row per chunk, its peak (the
        # simulator's tone at +750 Hz) marked.
        t.keys("w")
        scr = t.wait(lambda s: "Passband of 1 Sim 1" in s and
                     re.search(r"\+750\.\d Hz", s), timeout=20,
                     what="a waterfall row with the peak")
        t.save("waterfall")
        row = [l for l in lines(scr) if re.search(r"\+750\.\d Hz", l)][0]
        self.assertIn("\u2503", row)          # the marked bin
        self.assertIn("\u25b20 Hz", scr)      # the session frequency
        t.keys("Down")
        t.wait("Passband of 2 Sim 2")
        scr = t.wait("partial (4 missing)", timeout=30)
        # The grid: the headline, station 2's cells missing with why.
        t.keys("g")
        scr = t.wait("chunks heard by at least 3 stations above 6 dB: 4/4")
        # station 2 (chosen on the waterfall), chunk 1
        scr = t.wait(lambda s: re.search(r"2 Sim 2, chunk 1: missing - "
                                         r"\S", s), what="the cell's reason")
        t.save("grid")
        self.assertEqual(len(re.findall("\u00d7",
                         [l for l in lines(scr) if "2 Sim 2 " in l][0])), 4)
        t.keys("Escape")
        t.wait("n new session")
        # History: the session, partial; its details; record again.
        t.keys("H")
        scr = t.wait(lambda s: "History" in s and "grid e2e" in s,
                     what="the history list")
        t.save("history")
        self.assertRegex(scr, r"grid e2e .*partial \(4 missing\)")
        self.assertIn("group field.a", scr)
        # export from the session screen (issue 14): SigMF, then the
        # arrays, into the dataset's exports/ folder
        t.keys("e")
        scr = t.wait("SigMF written:", timeout=30)
        t.save("history-export")
        t.keys("a")
        scr = t.wait("arrays written:", timeout=60)
        ex = os.path.join(self.data, "exports")
        self.assertTrue(glob.glob(os.path.join(ex, "*", "*.sigmf-meta")),
                        os.listdir(ex))
        self.assertTrue(glob.glob(os.path.join(ex, "*.npz")), os.listdir(ex))
        t.keys("Enter")
        scr = t.wait("chunks heard by at least 3 stations above 6 dB: 4/4")
        t.save("history-details")
        self.assertRegex(scr, r"Missing: 2 Sim 2: 1-4 \(")
        t.keys("r")
        scr = t.wait("settings of \"grid e2e\" loaded")
        t.save("record-again")
        self.assertRegex(scr, r"Session name +grid e2e")
        self.assertRegex(scr, r"Frequency MHz +10\b")
        self.assertRegex(scr, r" 4 s\b")
        self.assertRegex(scr, r"Group +field\.a")
        m, _ = self.manifest()
        self.assertEqual(m["session"]["group_id"], "field.a")
        t.quit("Escape", "y")

    # -- faults --------------------------------------------------------------

    def test_stall_shows_retrying(self):
        # times=2: step 3's probe (accepting: src/engine/probe) opens each
        # receiver once, so the session's stream is the simulator's second
        sim = self.sim(3, ["i=2,fault=stall,after=1.5,times=2"])
        t = self.console(sim)
        self.start(t, duration=8)
        scr = t.wait(lambda s: any("retrying" in r for r in station_rows(s)
                                   if r.startswith("2 ")),
                     timeout=20, what="station 2 retrying")
        t.save("retrying")
        for r in station_rows(scr):
            if not r.startswith("2 "):
                self.assertNotIn("retrying", r)
        # the table in one line, on the log's rule
        self.assertRegex(scr, r"Events .*2 ok, 1 retrying")
        # the header says what the late chunk waits for, and until when
        scr = t.wait(lambda s: re.search(r"chunk \d+ waits for Sim 2 "
                                         r"\(\d:\d\d left\)", s),
                     timeout=10, what="the wait named in the header")
        t.save("waits-for")
        # Keys still answer at once while a receiver is stuck.
        t0 = time.time()
        t.keys("?")
        t.wait("Keys: acquisition", timeout=2)
        self.assertLess(time.time() - t0, 1.5)
        t.keys("x")
        t.wait(lambda s: "Keys: acquisition" not in s, what="help closed")
        # Chunks missing: "partial", never "complete" (issue 13: it
        # ended "completed" in green while record exits 75)
        scr = t.wait("Session partial", timeout=30)
        t.save("complete")
        self.assertNotIn("Session complete", scr)
        self.assertIn("Chunk 8/8", scr)
        row2 = [r for r in station_rows(scr) if r.startswith("2 ")][0]
        miss = int(re.search(r"(\d+)/(\d+)", row2[40:]).group(2))
        self.assertGreater(miss, 0, row2)
        self.assertRegex(scr, r"Status +partial \(%d missing\)" % miss)
        # the states are the stations' outcomes, never "streaming" after
        # the end
        for r in station_rows(scr):
            self.assertNotIn("streaming", r)
            self.assertIn("partial" if r.startswith("2 ") else "complete",
                          r)
        # the completion screen lists the missing chunks
        self.assertRegex(scr, r"Missing +2 Sim 2: \d+-\d+ \(")
        # the log groups a run of missing chunks in one line: scroll it
        # back (Tab, PageUp) to find it
        t.keys("Tab")
        seen = ""
        for _ in range(12):
            t.keys("PageUp")
            seen += t.screen()
            if re.search(r"Sim 2: chunks \d+-\d+ missing", seen):
                break
        self.assertRegex(seen, r"Sim 2: chunks \d+-\d+ missing")
        self.assertNotRegex(seen, r"Sim 2: chunk \d+ missing")
        # colours: partial in yellow (33), the missing cells of the
        # sparkline red (31), not the green of the stored ones
        esc = t.screen(escapes=True)
        st = [l for l in lines(esc) if "Status" in l][0]
        self.assertRegex(st, r"\x1b\[[0-9;]*(?<![0-9])33(?![0-9])[0-9;]*m[^\x1b]*partial")
        row2e = [l for l in lines(esc) if re.sub(r"\x1b\[[0-9;]*m", "",
                                                 l).startswith("2 Sim 2")][0]
        self.assertRegex(row2e, r"\x1b\[[0-9;]*(?<![0-9])31(?![0-9])[0-9;]*m(\x1b\[[0-9;]*m)*×")
        self.assertNotRegex(row2e, r"\x1b\[[0-9;]*(?<![0-9])32(?![0-9])[0-9;]*m×")
        t.quit("q")

    def test_clock_warning_in_log(self):
        """A host clock 3 s ahead of its GPS receivers: the event log says
        so (session:clock) and every chunk is stored."""
        sim = self.sim(2, ["i=1,gps=1,gpsoff=-3", "i=2,gps=1,gpsoff=-3"])
        t = self.console(sim)
        self.start(t, duration=4)
        scr = t.wait(lambda s: re.search(r"clock: the host clock is "
                                         r"(2\.9|3\.[01])\d s ahead of", s),
                     timeout=10, what="the clock warning in the log")
        t.save("clock-warning")
        scr = t.wait("Session complete", timeout=30)
        m, _ = self.manifest()
        self.assertEqual(m["summary"]["chunks_stored"], 8, scr)
        t.quit("q")

    def test_cancel_asks_and_keeps_chunks(self):
        sim = self.sim(3)
        for name in ("Radio Milano", "Beacon Torino"):
            p = subprocess.run([h.REC, "sources", "add", "--data-dir",
                                self.data, "--name", name, "--freq", "10"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
        t = self.console(sim)
        scr = self.start(t, duration=20, source="beacon")
        self.assertIn("Beacon Torino", lines(scr)[0])
        t.wait(lambda s: re.search(r"Chunk [2-9]/20", s), what="chunk 2")
        t.keys("C-c")
        t.wait("Cancel the acquisition?")
        t.save("cancel-ask")
        t.keys("n")                       # keep recording
        t.wait(lambda s: "Cancel the acquisition?" not in s,
               what="the question closed")
        scr = t.wait(lambda s: re.search(r"Chunk ([3-9]|1\d)/20", s),
                     what="still acquiring")
        t.keys("C-c")
        t.wait("Cancel the acquisition?")
        t.keys("y")
        scr = t.wait("Session failed", timeout=15)
        t.save("cancelled")
        self.assertIn("cancelled", scr)
        # the bar shows what was stored (issue 13: 20/20 100 %), the
        # states are no longer "streaming"
        k = int(re.search(r"Chunk (\d+)/20", scr).group(1))
        self.assertLess(k, 20, scr)
        self.assertIn("%d%% stored" % (k * 100 // 20), scr)
        self.assertNotIn("100%", scr)
        for r in station_rows(scr):
            self.assertNotIn("streaming", r)
        m, d = self.manifest()
        self.assertEqual(m["session"]["status"], "failed")
        self.assertEqual(m["session"]["source_name"], "Beacon Torino")
        n = len(m["measurements"])
        self.assertGreaterEqual(n, 3 * 3)
        self.assertLess(n, 60)
        self.assertEqual(len(glob.glob(os.path.join(d, "*.npy"))), n)
        t.quit("q")

    def test_pause_resume(self):
        """p pauses the session (issue 15): the receivers stay connected,
        the chunks of the pause are not stored and count as paused, not
        missing; p again resumes; the session ends complete."""
        sim = self.sim(2)
        t = self.console(sim)
        self.start(t, duration=10)
        t.wait(lambda s: re.search(r"Chunk [1-9]/10", s), what="chunk 1")
        t.keys("p")
        scr = t.wait("PAUSED")
        self.assertIn("paused: the chunks from now on are not stored", scr)
        time.sleep(2.5)
        t.keys("p")
        t.wait("resumed")
        t.save("pause-resumed")
        scr = t.wait(lambda s: "Session complete" in s or "complete" in
                     s and "Chunk 10/10" in s, timeout=30,
                     what="the session's end")
        m, d = self.manifest()
        summ = m.get("summary") or {}
        self.assertEqual(m["session"]["status"], "completed")
        rows = m["measurements"]
        paused = summ.get("paused_chunks")
        self.assertIsNotNone(paused, m.keys())
        self.assertGreaterEqual(paused, 2 * 2)   # >= 2 s of 2 stations
        self.assertEqual(len(rows) + paused, 2 * 10)
        self.assertEqual(summ.get("chunks_missing", 0), 0)
        self.assertEqual(len(glob.glob(os.path.join(d, "*.npy"))), len(rows))
        t.quit("q")

    def console_pid(self, t):
        shell = t.tmux("display-message", "-p", "-t", "t",
                       "#{pane_pid}").strip()
        pid = subprocess.run(["ps", "-o", "pid=", "--ppid", shell],
                             capture_output=True, text=True).stdout.split()
        self.assertEqual(len(pid), 1, pid)
        return int(pid[0])

    def test_sigterm_cancels(self):
        sim = self.sim(2)
        t = self.console(sim)
        self.start(t, duration=20)
        t.wait(lambda s: re.search(r"Chunk [2-9]/20", s), what="chunk 2")
        os.kill(self.console_pid(t), 15)
        scr = t.wait(lambda s: "[exit " in s, what="exit after SIGTERM")
        t.save("sigterm", scr)
        self.assertIn("[exit 0]", scr)
        self.assertIn("cancelled", scr)
        m, d = self.manifest()
        self.assertEqual(m["session"]["status"], "failed")
        self.assertGreaterEqual(len(m["measurements"]), 4)
        self.assertEqual(len(glob.glob(os.path.join(d, "*.npy"))),
                         len(m["measurements"]))

    def test_hangup(self):
        """The terminal goes away (SSH dropped, tmux pane killed): the
        session is cancelled with its chunks kept and the program exits."""
        sim = self.sim(2)
        t = self.console(sim)
        self.start(t, duration=20)
        t.wait(lambda s: re.search(r"Chunk [2-9]/20", s), what="chunk 2")
        pid = self.console_pid(t)
        t.tmux("kill-session", "-t", "t")
        end = time.time() + 15
        while os.path.exists("/proc/%d" % pid) and time.time() < end:
            time.sleep(0.1)
        self.assertFalse(os.path.exists("/proc/%d" % pid), "still running")
        m, d = self.manifest()
        self.assertEqual(m["session"]["status"], "failed")
        self.assertGreaterEqual(len(m["measurements"]), 4)
        self.assertEqual(len(glob.glob(os.path.join(d, "*.npy"))),
                         len(m["measurements"]))

    # -- localization ----------------------------------------------------------

    POSITIONS = os.path.join(SRC, "examples", "heimdall-2m.json")
    TX_LAT, TX_LON = 45.05, 8.20

    def geosim(self, specs):
        """The simulator's localization scenario: a transmitter at TX_LAT,
        TX_LON, seven KiwiSDRs at the original network's positions, their
        streams delayed by distance / c (tests/sim/geosim.c)."""
        sim = h.Sim(7, specs, tmp=self.tmp, extra=[
            "--positions", self.POSITIONS, "--tx",
            "lat=%g,lon=%g,bw=10000" % (self.TX_LAT, self.TX_LON)])
        self.addCleanup(sim.close)
        return sim

    def add_tx_source(self):
        p = subprocess.run([h.REC, "sources", "add", "--data-dir", self.data,
                            "--name", "TX", "--lat", str(self.TX_LAT),
                            "--lon", str(self.TX_LON), "--freq", "10"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)

    FIX = re.compile(r"Fix (-?\d+\.\d{5}), (-?\d+\.\d{5})")

    def test_localization_panel(self):
        """Six GPS KiwiSDRs and one without GPS, the known source at the
        transmitter: the panel shows each chunk's fix (5 decimals, CEP),
        its error against the source, the worst residual and the receiver
        TDoA left out with its reason; the completion screen shows the
        session fix, the same as the manifest's. The table and the log
        keep their rows at 80x24."""
        specs = ["i=%d,gps=1,signal=tx,txsnr=20" % k for k in range(1, 7)]
        specs.append("i=7,gps=0,signal=tx,txsnr=20")
        sim = self.geosim(specs)
        self.add_tx_source()
        t = self.console(sim)
        self.start(t, name="loc e2e", duration=5, source="TX")
        scr = t.wait(lambda s: re.search(r"Localization . chunk [1-5]/5", s)
                     and self.FIX.search(s) and "excluded:" in s,
                     what="a fix and the exclusions", timeout=30)
        t.save("localization")
        ls = lines(scr)
        self.assertEqual(len(station_rows(scr)), 7, scr)
        self.assertTrue(any(l.startswith("──") and "Events" in l
                            for l in ls), scr)
        self.assertIn("Ctrl-C cancel", ls[23])
        m = self.FIX.search(scr)
        # within a few km of the transmitter (the targets are e2e_locate's)
        self.assertLess(abs(float(m.group(1)) - self.TX_LAT), 0.05, scr)
        self.assertLess(abs(float(m.group(2)) - self.TX_LON), 0.05, scr)
        self.assertRegex(scr, r"CEP50 \d+(\.\d)? k?m")
        self.assertRegex(scr, r"Error \d+(\.\d+)? k?m vs source")
        self.assertRegex(scr, r"worst residual Sim \d [+-]\d+\.\d\d µs")
        self.assertRegex(scr, r"1 excluded: Sim 7 \(\S")
        scr = t.wait("Session complete", timeout=30)
        t.save("complete")
        self.assertEqual(len(station_rows(scr)), 7, scr)
        row = [l for l in lines(scr) if l.startswith("  Session fix")]
        self.assertEqual(len(row), 1, scr)
        man, _ = self.manifest()
        fix = man["summary"]["fix"]
        self.assertTrue(fix["ok"], fix)
        self.assertIn("Fix %.5f, %.5f" % (fix["latitude"], fix["longitude"]),
                      row[0])
        self.assertRegex(scr, r"excluded \(last chunk\): Sim 7")
        self.assertRegex(scr, r"end of session: Fix -?\d+\.\d{5}")
        self.assertTrue(all(len(l) <= 80 for l in lines(scr)))
        t.quit("q")

    def test_localization_no_fix_small_ascii(self):
        """Two GPS receivers only, on a 60x20 vt100 in the C locale without
        colour: the panel says why there is no fix, in ASCII, and the
        table, the log and the keys still show."""
        specs = ["i=%d,gps=%d,signal=tx,txsnr=20" % (k, 1 if k <= 2 else 0)
                 for k in range(1, 8)]
        sim = self.geosim(specs)
        t = self.console(sim, env={"LANG": "C", "LC_ALL": "C",
                                   "TERM": "vt100", "NO_COLOR": "1"},
                         w=60, h_=20)
        self.start(t, name="nofix", duration=3)
        scr = t.wait(lambda s: "No fix: 2 usable receivers" in s,
                     what="the no-fix reason", timeout=30)
        t.save("no-fix")
        ls = lines(scr)
        self.assertTrue(all(ord(ch) < 128 for ch in scr), scr)
        self.assertTrue(all(len(l) <= 60 for l in ls), scr)
        self.assertEqual(len(station_rows(scr)), 7, scr)
        self.assertTrue(any(l.startswith("--") and "Events" in l
                            for l in ls), scr)
        self.assertIn("Ctrl-C", ls[19])
        self.assertIsNone(self.FIX.search(scr), scr)
        # the second line says who was left out, and why
        self.assertRegex(scr, r"\n \d excluded: Sim \d \(no GPS")
        scr = t.wait("Session complete", timeout=30)
        t.save("complete")
        self.assertRegex(scr, r"Session fix +No fix: ")
        self.assertEqual(len(station_rows(scr)), 7, scr)
        self.assertTrue(all(ord(ch) < 128 for ch in scr), scr)
        t.quit("q")

    def test_localization_wide(self):
        """200x50: every part of the panel on its line, nothing wider than
        the terminal."""
        specs = ["i=%d,gps=1,signal=tx,txsnr=20" % k for k in range(1, 8)]
        sim = self.geosim(specs)
        self.add_tx_source()
        t = self.console(sim, w=200, h_=50)
        self.start(t, name="wide", duration=3, source="TX")
        scr = t.wait(lambda s: self.FIX.search(s) and "CEP95" in s and
                     "no receiver excluded" in s, what="the full panel",
                     timeout=30)
        t.save("200x50")
        fixl = [l for l in lines(scr) if self.FIX.search(l)][0]
        self.assertRegex(fixl, r"ellipse \S+×\S+ k?m @\d+°  CEP50 .*CEP95 "
                         r".*7 rx")
        self.assertTrue(all(len(l) <= 200 for l in lines(scr)))
        self.assertEqual(len(station_rows(scr)), 7, scr)
        t.wait("Session complete", timeout=30)
        t.quit("q")

    # -- terminal behaviour ----------------------------------------------------

    def test_resize(self):
        sim = self.sim(7)
        t = self.console(sim, env={"TERM": "screen-256color"})
        self.start(t, duration=10)
        scr80 = t.wait(lambda s: len(station_rows(s)) == 7 and
                       re.search(r"Chunk [1-9]/10", s), what="progress")
        t.save("80x24")
        t.size(100, 30)
        scr = t.wait(lambda s: len(lines(s.rstrip("\n"))) == 30 and
                     any(len(l) > 80 for l in lines(s)),
                     what="a 100x30 layout")
        t.save("100x30")
        ls = lines(scr.rstrip("\n"))
        self.assertTrue(any(l.startswith("Station") and len(l) > 85
                            for l in ls), "the table did not widen")
        rule = [l for l in ls if "Events" in l][0]
        self.assertEqual(len(rule.rstrip()), 100, rule)
        self.assertIn("Ctrl-C cancel", ls[29])
        self.assertEqual(len(station_rows(scr)), 7)
        t.size(80, 24)
        scr = t.wait(lambda s: all(len(l) <= 80 for l in lines(s)) and
                     "Ctrl-C cancel" in lines(s)[23] and
                     len(station_rows(s)) == 7,
                     what="the 80x24 layout again")
        t.save("80x24-again")
        ls = lines(scr)
        self.assertTrue(ls[0].startswith(" console e2e"), ls[0])
        self.assertTrue(ls[1].startswith(" Chunk"), ls[1])
        self.assertTrue(ls[2].startswith("Station"), ls[2])
        # Same layout as before the resize: the header line is identical,
        # the log's rule is on the same row.
        self.assertEqual(lines(scr80)[2], ls[2])
        self.assertEqual([i for i, l in enumerate(lines(scr80))
                          if "Events" in l],
                         [i for i, l in enumerate(ls) if "Events" in l])
        scr = t.wait("Session complete", timeout=30)
        # the sparklines keep their history across resizes (and a
        # reattach, which is one): narrower, then 80x24 again, the same
        # cells on one fixed scale
        before = [r[-10:] for r in station_rows(scr)]
        t.size(60, 20)
        t.wait(lambda s: all(len(l) <= 60 for l in lines(s)) and
               "Session complete" in s, what="60x20")
        t.size(80, 24)
        scr = t.wait(lambda s: any(len(l) > 70 for l in lines(s)) and
                     len(station_rows(s)) == 7, what="80x24 again")
        self.assertEqual([r[-10:] for r in station_rows(scr)], before)
        self.assertTrue(all(re.fullmatch(r"[▁▂▃▄▅▆▇█]{10}", c)
                            for c in before), before)
        t.quit("q")

    def test_redraw_is_cheap(self):
        """What reaches the terminal while acquiring: only changed cells
        (a full 80x24 repaint is ~2-4 KB; 20 of them a second would be
        ~60 KB/s on a slow SSH link)."""
        sim = self.sim(7)
        t = self.console(sim)
        self.start(t, duration=10)
        t.wait(lambda s: re.search(r"Chunk [1-9]/10", s), what="chunk 1")
        out = os.path.join(self.tmp, "pane.out")
        t.tmux("pipe-pane", "-o", "-t", "t", "cat >> " + _q(out))
        t0 = time.time()
        first = t.screen()
        time.sleep(4)
        t.tmux("pipe-pane", "-t", "t")
        dt = time.time() - t0
        rate = os.path.getsize(out) / dt
        with open(os.path.join(ART, "redraw-rate.txt"), "w") as f:
            f.write("%.0f bytes/s over %.1f s\n" % (rate, dt))
        self.assertNotEqual(first, t.screen(), "nothing moved")
        self.assertGreater(rate, 100)           # it did draw
        self.assertLess(rate, 6000, "%.0f bytes/s" % rate)
        t.wait("Session complete", timeout=30)
        t.quit("q")

    def test_no_color(self):
        sim = self.sim(2)
        for env, colour in (({"NO_COLOR": "1"}, False), ({}, True)):
            t = self.console(sim, env=env)
            t.type("x")
            t.keys("Tab")
            t.type("99")               # an error line (red when colour)
            scr = t.wait("out of range", escapes=True)
            tag = "nocolor" if not colour else "color"
            t.save(tag + "-configure", scr)
            found = COLOR_SGR.findall(scr)
            if colour:
                self.assertTrue(found, "no colour at all: the check is "
                                "blind")
                t.close()
                continue
            self.assertEqual(found, [], "colour with NO_COLOR")
            # Attributes remain (bold, reverse): still readable.
            self.assertIn("\x1b[1m", scr)
            # Through acquisition to the end, still without colour.
            t.keys("C-u")
            t.type("10")
            t.keys("Tab")
            t.type("2")
            t.keys("Tab", "Tab", "Tab", "Tab", "Enter")
            t.wait("Assign source")
            t.keys("Enter")
            t.wait(lambda s: "reachable" in s, what="probe")
            t.keys("Enter")
            scr = t.wait(lambda s: "Chunk 1/2" in s, escapes=True,
                         what="chunk 1/2")
            t.save(tag + "-progress", scr)
            self.assertEqual(COLOR_SGR.findall(scr), [])
            scr = t.wait("Session complete", escapes=True, timeout=20)
            t.save(tag + "-complete", scr)
            self.assertEqual(COLOR_SGR.findall(scr), [])
            t.quit("q")
            t.close()

    def test_inside_gnu_screen(self):
        """GNU screen (TERM screen-256color) inside the tmux pane: the
        keys and the screen go through screen's own terminal emulation."""
        sim = self.sim(3)
        sdir = os.path.join(self.tmp, "screendir")
        os.mkdir(sdir, 0o700)
        argv = ["screen", "-S", "hr-console", "-T", "screen-256color", "-c",
                "/dev/null", h.REC, "console", "--stations", sim.stations,
                "--data-dir", self.data]
        t = Term(self, argv, {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                              "SCREENDIR": sdir})
        # Killing tmux only detaches screen: end its session too.
        self.addCleanup(subprocess.run, ["screen", "-S", "hr-console", "-X",
                                         "quit"], env=dict(os.environ,
                                         SCREENDIR=sdir),
                        capture_output=True, timeout=30)
        t.wait("Session name")
        self.start(t, duration=3)
        t.size(100, 30)
        scr = t.wait(lambda s: any(l.startswith("Station") and len(l) > 85
                                   for l in lines(s)), what="100 columns")
        t.save("screen-100x30")
        scr = t.wait("Session complete", timeout=20)
        t.save("screen-complete")
        self.assertIn("Chunk 3/3", scr)
        self.assertEqual(len([r for r in station_rows(scr)
                              if re.search(r"\d+\.\d", r)]), 3)
        t.quit("q")

    def test_monochrome_terminal(self):
        """A terminal without colours gets plain attributes (bold,
        reverse) and no colour."""
        sim = self.sim(2)
        t = self.console(sim, env={"TERM": "vt100"})
        t.type("x")
        t.keys("Tab")
        t.type("99")
        scr = t.wait("out of range", escapes=True)
        t.save("vt100", scr)
        self.assertEqual(COLOR_SGR.findall(scr), [])
        self.assertIn("\x1b[1m", scr)       # bold labels and errors
        self.assertRegex(scr, r"\x1b\[(?:[0-9;]*;)?7m")  # reverse status
        t.quit("Escape", "y")

    def test_unknown_term(self):
        sim = self.sim(1)
        t = Term(self, [h.REC, "--stations", sim.stations, "--data-dir",
                        self.data], {"TERM": "no-such-terminal"})
        scr = t.wait(lambda s: "[exit " in s, what="exit")
        t.save("unknown-term", scr)
        self.assertIn('cannot use the terminal "no-such-terminal"', scr)
        self.assertIn("[exit 70]", scr)

    def test_ascii_locale(self):
        sim = self.sim(2)
        t = self.console(sim, env={"LANG": "C", "LC_ALL": "C"})
        scr = t.screen()
        t.save("configure")
        self.assertIn("< ", scr)        # the slider's ASCII ends
        self.assertIn("=O-", scr)
        self.assertTrue(all(ord(ch) < 128 for ch in scr), scr)
        self.start(t, duration=2)
        scr = t.wait("Session complete", timeout=20)
        t.save("complete")
        self.assertIn("#####", scr)
        self.assertTrue(all(ord(ch) < 128 for ch in scr), scr)
        t.quit("q")

    def test_unreachable_station(self):
        """A station nobody answers for: the confirmation says how many are
        reachable, the row says why it fails, the others record."""
        sim = self.sim(2)
        import socket
        sk = socket.socket()
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
        sk.close()                       # a free port: connection refused
        with open(sim.stations) as f:
            st = json.load(f)
        st["stations"].append({"name": "Nobody", "type": "kiwisdr",
                               "url": "http://127.0.0.1:%d" % port,
                               "latitude": 45, "longitude": 7})
        with open(sim.stations, "w") as f:
            json.dump(st, f)
        t = self.console(sim, args=["--start-timeout", "2"])
        self.configure(t, "unreachable", "10", 3)
        t.keys("Enter")
        scr = t.wait("3 configured, 2 reachable")
        t.save("confirm")
        self.assertIn("unreachable stations will be retried", scr)
        t.keys("Enter")
        # while a receiver is awaited, the header says so and until when
        scr = t.wait(lambda s: re.search(r"waiting for 1 of 3 stations "
                                         r"until \d\d:\d\d:\d\d "
                                         r"\(0:0\d left\)", s),
                     timeout=5, what="the wait for the receivers")
        t.save("waiting")
        scr = t.wait("Session partial", timeout=30)
        t.save("complete")
        row = [l for l in lines(scr) if l.startswith("3 Nobody")][0]
        self.assertNotIn("streaming", row)
        self.assertIn("0/3", row)
        self.assertIn("6 of 9 stored, 3 missing", scr)
        t.quit("q")

    def test_reachable_means_accepting(self):
        """Issue 13: "N reachable" on step 3 counts the stations that
        accept the session (the shared probe, src/engine/probe): a station
        that answers its port but refuses the password, and one whose range
        excludes the frequency, do not count; the latter is left out of the
        session with the reason, the former fails with its own."""
        sim = self.sim(3, ["i=2,fault=badp"])
        with open(sim.stations) as f:
            st = json.load(f)
        st["stations"][2]["frequency_min_hz"] = 144e6
        st["stations"][2]["frequency_max_hz"] = 146e6
        with open(sim.stations, "w") as f:
            json.dump(st, f)
        t = self.console(sim, args=["--start-timeout", "2"])
        self.configure(t, "accepting", "10", 2)
        t.keys("Enter")
        t.wait("3 configured, 1 reachable")
        t.save("confirm-accepting")
        t.keys("Enter")
        scr = t.wait("Session partial", timeout=40)
        t.save("complete-accepting")
        row3 = [l for l in lines(scr) if l.startswith("3 Sim 3")][0]
        self.assertIn("excluded: 10 MHz is outside its range", row3)
        m, _ = self.manifest()
        self.assertEqual([s["state"] for s in m["stations"]][2], "excluded")
        self.assertIn("bad password", m["stations"][1]["reason"])
        self.assertIn("2 of 4 stored", scr)
        t.quit("q")

    def test_choose_stations(self):
        """Issue 13: step 3 lists the stations; Space includes or excludes
        the one under the cursor, a all, n none; none selected is refused
        with a message; the session records exactly the chosen ones and
        the manifest lists the others "excluded by the operator"."""
        sim = self.sim(7)
        t = self.console(sim)
        self.configure(t, "pick", "10", 3)
        t.keys("Enter")
        scr = t.wait("7 reachable")
        self.assertIn("7 of 7 stations selected", scr)
        self.assertIn("Space in/out", lines(scr)[-1] + lines(scr)[-2])
        self.assertEqual(len(re.findall(r"\[x\]\s+\d+ Sim \d+\s+accepting",
                                        scr)), 7, scr)
        t.keys("?")
        scr = t.wait("Keys: start acquisition")
        self.assertIn("include all / none", scr)
        t.keys("Escape")                              # closes the help
        t.keys("End")
        t.wait(lambda s: re.search(r">\s*\[x\]\s+7 Sim 7", s),
               what="the cursor on the last station")
        t.keys("Home")
        t.wait(lambda s: re.search(r">\s*\[x\]\s+1 Sim 1", s),
               what="the cursor on the first station")
        t.keys("Down", "Space")                       # Sim 2 out
        t.wait("6 of 7 stations selected")
        t.keys("Down", "Down", "Down", "Space")       # Sim 5 out
        scr = t.wait("5 of 7 stations selected")
        t.save("confirm-picked")
        for k in (2, 5):
            self.assertRegex(scr, r"\[ \]\s+%d Sim %d\s+excluded by the "
                             r"operator" % (k, k))
        # none: refused, with the reason; all: back to 7
        t.keys("n")
        t.wait("0 of 7 stations selected")
        t.keys("Enter")
        scr = t.wait("No station selected")
        t.save("confirm-none")
        self.assertIn("Start acquisition", scr)       # still step 3
        self.assertEqual(glob.glob(os.path.join(self.data, "sessions", "*")),
                         [])
        t.keys("a")
        t.wait("7 of 7 stations selected")
        t.keys("Space", "Up", "Up", "Up", "Space")     # 5, then 2 again
        scr = t.wait("5 of 7 stations selected")
        t.keys("Enter")
        scr = t.wait("Session complete", timeout=40)
        t.save("complete-picked")
        self.assertIn("15 of 15 stored, 0 missing", scr)
        self.assertIn("5 complete, 2 excluded", scr)     # not "waiting"
        rows = station_rows(scr)
        self.assertEqual(len(rows), 7, scr)
        for r in rows:
            k = int(r.split()[0])
            if k in (2, 5):
                self.assertIn("excluded by the operator", r)
            else:
                self.assertIn("3/0", r)
        m, _ = self.manifest()
        self.assertEqual(m["session"]["status"], "completed")
        self.assertEqual(sorted({r["websdr"] for r in m["measurements"]}),
                         [1, 3, 4, 6, 7])
        self.assertEqual(len(m["measurements"]), 15)
        out = [(s["websdr"], s["state"], s["reason"]) for s in m["stations"]
               if s["state"] == "excluded"]
        self.assertEqual(out, [(2, "excluded", "excluded by the operator"),
                               (5, "excluded", "excluded by the operator")])
        t.quit("q")
        # A new console: "record again" from the history brings the
        # choice back from the manifest.
        t = self.console(sim)
        t.keys("F2")
        t.wait(lambda s: "History" in s and "pick" in s, what="history")
        t.keys("r")
        t.wait('settings of "pick" loaded')
        t.keys("Tab", "Tab", "Tab", "Tab", "Tab", "Tab", "Enter")
        t.wait("Assign source")
        t.keys("Enter")
        scr = t.wait("5 of 7 stations selected")
        t.save("record-again-picked")
        for k in (2, 5):
            self.assertRegex(scr, r"\[ \]\s+%d Sim %d\s+excluded by the "
                             r"operator" % (k, k))
        t.quit("q", "y")

    def test_left_out_named(self):
        """A mixed network: the Configure hint names the stations the
        frequency leaves out; on step 3 they cannot be included (the
        message says why) and count as not selected."""
        sim = self.sim(4)
        with open(sim.stations) as f:
            st = json.load(f)
        for x in st["stations"][2:]:
            x["frequency_min_hz"] = 144e6
            x["frequency_max_hz"] = 146e6
        with open(sim.stations, "w") as f:
            json.dump(st, f)
        t = self.console(sim)
        t.type("mixed")
        t.keys("Tab")
        t.type("10")
        scr = t.wait("left out: Sim 3 and Sim 4")
        t.save("configure-left-out")
        self.assertIn("2 of 4 stations", scr)
        t.keys("Tab", "Tab", "Tab", "Tab", "Tab", "Enter")
        t.wait("Assign source")
        t.keys("Enter")
        scr = t.wait("2 reachable")
        self.assertIn("2 of 4 stations selected", scr)
        self.assertRegex(scr, r" - \s+3 Sim 3\s+10 MHz is outside "
                         r"its range 144-146 MHz")
        # they are left out, not unreachable
        self.assertNotIn("will be retried", scr)
        t.keys("Down", "Down", "Space")
        scr = t.wait("Sim 3 cannot be included: 10 MHz is outside its range "
                     "144-146 MHz")
        t.save("confirm-cannot")
        self.assertIn("2 of 4 stations selected", scr)
        t.quit("q", "y")

    # -- not a terminal -------------------------------------------------------

    def test_not_a_terminal(self):
        for args in ([], ["console"], ["--data-dir", self.data]):
            p = subprocess.run([h.REC] + args, capture_output=True,
                               text=True, timeout=30, stdin=subprocess.DEVNULL)
            self.assertEqual(p.returncode, 64, p.stderr)
            self.assertIn("needs a terminal", p.stderr)
            self.assertIn("heimdall-rec record", p.stderr)
            self.assertIn("heimdall-rec serve", p.stderr)
        for args in (["console", "--help"], ["help", "console"]):
            p = subprocess.run([h.REC] + args, capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("usage: heimdall-rec console", p.stdout)
        p = subprocess.run([h.REC, "console", "--bogus"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 64)
        p = subprocess.run([h.REC, "console", "--passband", "5:1"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 64)
        self.assertIn("--passband", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
