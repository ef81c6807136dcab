"""run_fuzz.py -- build the libFuzzer target fuzz_wsapi with clang and run it
for a bounded time (FUZZ_SECONDS, default 20). clang is required, never
skipped: scripts/install-deps installs it (clang, libclang-rt-14-dev).

Environment (from meson): HEIMDALL_SRC, FUZZ_OUT (a build directory)."""

import glob, os, re, shutil, subprocess, sys, tempfile

SRC = os.environ.get("HEIMDALL_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.environ.get("FUZZ_OUT", os.path.join(SRC, "build"))
SECONDS = int(os.environ.get("FUZZ_SECONDS", "20"))



def sources():
    """The engine as the binary links it, less what the handler never
    reaches (the CLI, the server with its generated page, the central
    store): globbed, so a new module cannot silently break this build."""
    def rel(pattern):
        return sorted(os.path.relpath(p, SRC)
                      for p in glob.glob(os.path.join(SRC, pattern)))
    # src/base/gslmod.c is the GSL module (a shared object of its own,
    # loaded by lazygsl.c), not part of the binary
    return [s for s in rel("src/base/*.c") if s != "src/base/gslmod.c"] + \
        rel("src/loc/*.c") + rel("src/engine/*.c") + \
        rel("net/rx/*.c") + \
        ["net/server/wsapi.c", "store/dataset.c", "store/schedule.c",
         "store/sigmf.c", "store/lazyarchive.c", "store/arrays.c",
         "store/lazylib.c", "tests/fuzz/fuzz_wsapi.c"]


def main():
    clang = shutil.which("clang")
    if clang is None:
        print("FAIL: clang not found: run scripts/install-deps")
        return 1
    exe = os.path.join(OUT, "fuzz_wsapi")
    srcs = [os.path.join(SRC, s) for s in sources()]
    headers = glob.glob(os.path.join(SRC, "**", "*.h"), recursive=True)
    newest = max(os.path.getmtime(p) for p in srcs + headers)
    if not os.path.exists(exe) or os.path.getmtime(exe) < newest:
        pc = subprocess.run(["pkg-config", "--cflags", "--libs", "libwebsockets",
                             "jansson", "uuid", "fftw3f", "openssl", "gsl"],
                            capture_output=True, text=True, check=True).stdout.split()
        # libarchive, libzip, libsoxr, libpq, libcurl: their headers only
        # (store/lazyarchive and store/lazylib load the libraries on use)
        pc += subprocess.run(["pkg-config", "--cflags", "libarchive",
                              "libzip", "soxr", "libpq", "libcurl"],
                             capture_output=True, text=True, check=True).stdout.split()
        # the geodesic module (src/loc/lazygeod.c loads it on use): the
        # build folder's, as meson.build says (FUZZ_OUT is its tests/)
        geod = os.path.join(os.path.dirname(os.path.abspath(OUT)),
                            "libheimdall-geodesic.so")
        pc += ['-DGEODMOD_BUILD_PATH="%s"' % geod,
               '-DGEODMOD_INSTALL_PATH="%s"' % geod]
        cmd = [clang, "-g", "-O1", "-fsanitize=fuzzer,address,undefined",
               "-fno-sanitize-recover=undefined", "-D_GNU_SOURCE",
               '-DHEIMDALL_VERSION="fuzz"', "-I", SRC, "-o", exe + ".tmp"] + \
            srcs + pc + ["-lpthread", "-lm"]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL: building the fuzzer:\n" + r.stderr[-4000:])
            return 1
        os.replace(exe + ".tmp", exe)
    work = tempfile.mkdtemp(prefix="fuzz-wsapi-")
    corpus = os.path.join(work, "corpus")
    shutil.copytree(os.path.join(SRC, "tests", "fuzz", "corpus"), corpus)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=1",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    env.pop("LD_PRELOAD", None)
    # Leaks are checked by the ASan unit and e2e runs; here the engine's
    # sessions (reachable by design) would only be noise at exit.
    r = subprocess.run([exe, corpus, "-dict=" + os.path.join(SRC, "tests", "fuzz", "wsapi.dict"),
                        "-max_total_time=%d" % SECONDS, "-max_len=4096",
                        "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1"],
                       capture_output=True, text=True, env=env, cwd=work,
                       timeout=SECONDS + 120)
    shutil.rmtree(work, ignore_errors=True)
    for d in glob.glob("/dev/shm/fuzz_wsapi_*") + glob.glob("/tmp/fuzz_wsapi_*"):
        m = re.search(r"fuzz_wsapi: dataset (\S+)", r.stderr)
        if m and d == m.group(1):
            shutil.rmtree(d, ignore_errors=True)
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", r.stderr)
    if r.returncode != 0 or runs is None:
        print("FAIL: fuzzer exited %d\n%s" % (r.returncode, r.stderr[-6000:]))
        return 1
    cov = re.findall(r"cov: (\d+)", r.stderr)
    print("fuzz_wsapi: %s inputs in %d s, coverage %s, no crash" %
          (runs.group(1), SECONDS, cov[-1] if cov else "?"))
    return 0 if int(runs.group(1)) > 100 else 1


if __name__ == "__main__":
    sys.exit(main())
