"""measure.py -- one program's own CPU and peak memory, as the benchmarks
report them (bench_record, bench_locate, bench_radio, bench_arrays).

Two ways of measuring a child from Python count the Python process too:

- preexec_fn makes subprocess fork() where it would otherwise vfork(); the
  forked child then runs Python until its exec, copying the pages it
  touches, and that CPU is charged to the child: +8 ms per spawn on the
  paravirtual VM of bench/README.md (wait4 of /bin/true, 20 spawns: 2.1-2.6
  ms without, 9.9-10.3 with), as much to each build measured, so a ratio of
  two builds moved towards 1. Nothing here takes preexec_fn: lift_nofile()
  raises this process's own open-file limit, which its children inherit.
- wait4's ru_maxrss is the high-water mark of every memory the process had,
  and Linux keeps the one it had before exec(): for a child of Python that
  is the Python process's (vfork shares it, fork copies it). /bin/true
  spawned by a Python of 63.6 MB reports 63.6 MB. So run() takes the
  child's own high-water mark, VmHWM of /proc/PID/status (its memory since
  exec), polled while it runs; and ru_maxrss instead when that is above
  this process's own high-water mark, since then it can only be the
  child's (exact, where the last poll may miss the final moments).
"""

import os
import resource
import subprocess
import threading
import time


def lift_nofile():
    """Soft open-file limit up to the hard one, for this process and the
    children it starts (1000 stations need ~1000 sockets in each)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def hwm_mb(pid):
    """VmHWM of a running process, MB (0: gone, or no memory left)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


def run(args, poll_s=0.02, **kw):
    """Runs args (Popen's keywords but preexec_fn) to its end. Returns
    (exit status as subprocess gives it, CPU s: user + system of the child
    alone, peak RSS MB of the child since its exec, wall s). The wait is
    wait4's own (the wall time is not rounded to a poll); VmHWM is polled
    by a thread meanwhile."""
    if kw.get("preexec_fn") is not None:
        raise ValueError("preexec_fn: the child's CPU would count this "
                         "process's fork (see measure.py)")
    t0 = time.monotonic()
    p = subprocess.Popen(args, **kw)
    own = hwm_mb(os.getpid())
    peak = [0.0]
    done = threading.Event()

    def poll():
        while not done.is_set():
            peak[0] = max(peak[0], hwm_mb(p.pid))
            done.wait(poll_s)

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    try:
        _, status, ru = os.wait4(p.pid, 0)
    finally:
        done.set()
        th.join()
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    maxrss = ru.ru_maxrss / 1024.0
    return (p.returncode, ru.ru_utime + ru.ru_stime,
            maxrss if maxrss > own + 0.1 else peak[0], wall)
