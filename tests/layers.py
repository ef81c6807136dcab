"""layers.py -- the source tree's layering, checked (meson test 'layers').

Bottom up (meson.build says the same):
  0 src/base               util, npy, decim, metrics, station
  1 net/rx, store          receiver drivers; dataset and central store
  1 src/loc                localization: TDoA, position fix (numerics only,
                           over src/base and libraries; the engine calls it)
  2 src/engine             sessions, stations file, chunker, engine, events
  3 ui, net/server         front-ends: console, WebSocket server
  4 src/cmd                main() and the subcommands

A file may include headers of its own folder or of a lower layer, never of a
higher one or of a peer folder on its layer. And the libraries stay where
they belong: ncurses only in ui/, libpq only in store/, libwebsockets only in
net/ (the simulator in tests/ aside), libsystemd only in src/base (sdnotify,
which loads it lazily)."""

import glob, os, re, sys

SRC = os.environ.get("HEIMDALL_SRC",
                     os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
LAYERS = {"src/base": 0, "net/rx": 1, "store": 1, "src/loc": 1,
          "src/engine": 2,
          "ui": 3, "net/server": 3, "src/cmd": 4}
SYSTEM = {"ncurses": ("ui",), "curses": ("ui",), "libpq-fe": ("store",),
          "libwebsockets": ("net/rx", "net/server"),
          "systemd/sd-daemon": ("src/base",)}


def folder(path):
    d = os.path.dirname(path)
    return d if d in LAYERS else None


def main():
    bad, files = [], 0
    for d in LAYERS:
        for p in sorted(glob.glob(os.path.join(SRC, d, "*.[ch]"))):
            rel = os.path.relpath(p, SRC)
            files += 1
            mine = os.path.dirname(rel)
            with open(p, encoding="utf-8") as f:
                for n, line in enumerate(f, 1):
                    m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                    if m:
                        inc = m.group(1)
                        other = folder(inc)
                        if other is None:
                            if not inc.startswith(("webpage", "migrations")):
                                bad.append("%s:%d: %s: not a layer's path "
                                           "(write it from the top: "
                                           "src/base/util.h)" % (rel, n, inc))
                        elif other != mine and LAYERS[other] >= LAYERS[mine]:
                            bad.append("%s:%d: %s (layer %d) includes %s "
                                       "(layer %d)" % (rel, n, mine,
                                       LAYERS[mine], inc, LAYERS[other]))
                    m = re.match(r'\s*#\s*include\s+<([^>]+)\.h>', line)
                    if m and m.group(1) in SYSTEM and \
                            mine not in SYSTEM[m.group(1)]:
                        bad.append("%s:%d: <%s.h> belongs in %s only" %
                                   (rel, n, m.group(1),
                                    " or ".join(SYSTEM[m.group(1)])))
    for b in bad:
        print("FAIL: " + b)
    if files < 40:
        print("FAIL: only %d files found under %s" % (files, SRC))
        return 1
    print("%d files, %d layering faults" % (files, len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
