"""servers.py -- real central-store servers for the e2e tests, each on
127.0.0.1 and a free port, in a throwaway folder removed afterwards:

  Pg: a PostgreSQL cluster (Debian's postgresql: initdb + pg_ctl, as the
      postgres user when run as root). track_commit_timestamp is on, so a
      row's commit time is known (latency benchmark). A role "heimdall"
      with a password (scram) exists for the credential tests; "postgres"
      is trusted.
  S3: s3rver behind a front that verifies SigV4 with the npm aws4 package
      (tests/s3/server.js); `objects()` reads the bucket back with the npm
      minio client (tests/s3/read.js), independently of heimdall-rec.

Both can be stopped and started again on the same port and data (fault
tests)."""

import glob, json, os, pwd, shutil, signal, socket, subprocess, tempfile, time

SRC = os.environ.get("HEIMDALL_SRC",
                     os.path.dirname(os.path.dirname(os.path.dirname(
                         os.path.abspath(__file__)))))
S3DIR = os.path.join(SRC, "tests", "s3")
PG_PASSWORD = "heimdall-test-pw"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def pg_bin():
    c = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not c:
        raise RuntimeError("PostgreSQL server not installed "
                           "(scripts/install-deps installs postgresql)")
    return os.path.dirname(c[-1])


class Pg:
    def __init__(self):
        self.bin = pg_bin()
        self.tmp = tempfile.mkdtemp(prefix="hr-pg-")
        self.data = os.path.join(self.tmp, "data")
        self.log = os.path.join(self.tmp, "log")
        self.root = os.getuid() == 0
        if self.root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
        self._run([os.path.join(self.bin, "initdb"), "-D", self.data,
                   "-U", "postgres", "-A", "trust", "--no-sync",
                   "-E", "UTF8", "--locale=C.UTF-8"])
        # the heimdall role needs its password over TCP; postgres is trusted
        hba = os.path.join(self.data, "pg_hba.conf")
        with open(hba) as f:
            text = f.read()
        with open(hba, "w") as f:
            f.write("host all heimdall 127.0.0.1/32 scram-sha-256\n" + text)
        self.port = free_port()
        self.start()
        self.psql("CREATE ROLE heimdall LOGIN PASSWORD '%s' CREATEDB"
                  % PG_PASSWORD)

    def _run(self, args, check=True):
        if self.root:
            args = ["su", "postgres", "-s", "/bin/sh", "-c",
                    " ".join("'%s'" % a.replace("'", "'\\''") for a in args)]
        p = subprocess.run(args, capture_output=True, text=True, timeout=120)
        if check and p.returncode != 0:
            raise RuntimeError("%s: %s%s" % (args, p.stdout, p.stderr))
        return p

    def start(self):
        self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                   "-l", self.log, "-w", "-t", "60", "-o",
                   "-k %s -p %d -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c track_commit_timestamp=on" % (self.tmp, self.port),
                   "start"])

    def stop(self):
        self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data,
                   "-m", "fast", "-w", "stop"], check=False)

    def pids(self):
        """The cluster's processes: the postmaster and its children."""
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            pm = int(f.readline())
        out = [pm]
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        st = f.read()
                except OSError:
                    continue
                if int(st[st.rindex(")") + 2:].split()[1]) == pm:
                    out.append(int(d))
        return out

    def pause(self):
        """Freeze the server (SIGSTOP): connections stay open, nothing
        answers -- a hung host."""
        self.paused = self.pids()
        for p in self.paused:
            os.kill(p, signal.SIGSTOP)

    def resume(self):
        for p in self.paused:
            try:
                os.kill(p, signal.SIGCONT)
            except ProcessLookupError:
                pass

    def url(self, db="postgres", user="postgres"):
        return "postgresql://%s@127.0.0.1:%d/%s" % (user, self.port, db)

    def psql(self, sql, db="postgres"):
        """Rows of a query as lists of strings."""
        p = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t",
                            "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
                            "-p", str(self.port), "-U", "postgres",
                            "-d", db, "-c", sql],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError("psql: %s" % p.stderr)
        return [l.split("\t") for l in p.stdout.splitlines() if l != ""]

    def scalar(self, sql, db="postgres"):
        return self.psql(sql, db)[0][0]

    def close(self):
        if getattr(self, "paused", None):
            self.resume()
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class S3:
    KEY = "S3RVER"
    SECRET = "S3RVER"

    def __init__(self, bucket="heimdall-raw-iq", workers=None):
        # workers: node processes sharing the front's port (server.js
        # --workers; default $HR_S3_WORKERS or 1)
        self.workers = workers or int(os.environ.get("HR_S3_WORKERS", "1"))
        self.tmp = tempfile.mkdtemp(prefix="hr-s3-")
        self.dir = os.path.join(self.tmp, "buckets")
        os.mkdir(self.dir)
        self.bucket = bucket
        self.port = 0
        self.backend = 0
        self.proc = None
        self.err = os.path.join(self.tmp, "server.err")
        self.start()

    def start(self):
        args = ["node", os.path.join(S3DIR, "server.js"), "--dir", self.dir,
                "--port", str(self.port), "--backend-port", str(self.backend),
                "--secret", self.SECRET, "--workers", str(self.workers)]
        self.errf = open(self.err, "a")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                     stderr=self.errf, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            self.stop()
            raise RuntimeError("S3 server did not start: %r %s" %
                               (line, open(self.err).read()))
        self.port, self.backend = (int(x) for x in line.split()[1:3])

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None
        self.errf.close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def env(self, secret=None):
        e = dict(os.environ)
        e["AWS_ACCESS_KEY_ID"] = self.KEY
        e["AWS_SECRET_ACCESS_KEY"] = secret or self.SECRET
        return e

    def objects(self, prefix=""):
        """{key: {size, sha256, etag, metadata}} read with the minio client
        straight from s3rver."""
        p = subprocess.run(["node", os.path.join(S3DIR, "read.js"),
                            "--port", str(self.backend), "--bucket",
                            self.bucket, "--prefix", prefix],
                           capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            raise RuntimeError("read.js: %s" % p.stderr)
        return json.loads(p.stdout)

    def refused(self):
        with open(self.err) as f:
            return [l for l in f if l.startswith("refused")]

    def close(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
