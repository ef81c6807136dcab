"""sigmf_check.py -- a checker for SigMF metadata, written from the SigMF
specification (core 1.2.x: sigmf-spec / sigmf-schema.json of the SigMF
project, v1.2.5), not from heimdall-rec's writer.

What it checks, with the rule it comes from:
- .sigmf-meta: one top-level JSON object holding exactly the three objects
  "global" (an object), "captures" and "annotations" (arrays) -- the
  "Metadata Format" rules; UTF-8 text.
- global: core:datatype (REQUIRED, the dataset-format ABNF: (r|c) then
  f32/f64/i32/i16/u32/u16 with _le/_be, or i8/u8), core:version (REQUIRED,
  "X.Y.Z"); optional fields with their types and ranges: sample_rate
  (number 1..1e12), recorder/description/author/hw/license (string),
  num_channels (integer >= 1), offset (integer >= 0), sha512 (128 hex),
  geolocation (an RFC 7946 GeoJSON Point: type "Point", 2 or 3 numeric
  coordinates, longitude first in [-180, 180], latitude in [-90, 90]),
  extensions (array of objects holding exactly name (string), version
  (string) and optional (boolean)), metadata_only (boolean).
- captures: each an object with core:sample_start (REQUIRED integer >= 0),
  sorted ascending by it; core:frequency number, core:datetime an RFC 3339
  date-time whose only time-offset is "Z" (any number of fractional
  digits), core:global_index/header_bytes integers >= 0, geolocation as
  above.
- annotations: each with core:sample_start (REQUIRED integer >= 0), sorted
  ascending; sample_count integer >= 0; freq_lower_edge/upper_edge
  numbers (lower <= upper when both); label/comment/generator strings;
  uuid a UUID string.
- every key of those objects is "namespace:name" with name of letters,
  digits and "_" not starting with a digit; a namespace other than core
  is declared in global core:extensions.
- .sigmf-data (when given): its size is a whole number of samples of the
  datatype, and every capture starts inside it.
- .sigmf-collection: exactly one top-level object "collection" with
  core:version (REQUIRED string), core:description string, core:extensions
  as above, core:streams an array of SigMF Recording Objects {name, hash}
  where hash is the SHA-512 of name + ".sigmf-meta" in the same folder.

check_meta(path) / check_collection(path) return a list of problems
(empty: compliant).
"""

import hashlib, json, os, re

DATATYPE = re.compile(r"^(?:[rc](?:f32|f64|i32|i16|u32|u16)_(?:le|be)|"
                      r"[rc](?:i8|u8))$")
VERSION = re.compile(r"^\d+\.\d+\.\d+$")
# RFC 3339 date-time, time-offset "Z" only (the spec's ABNF)
DATETIME = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T"
                      r"([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?Z$")
KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*):([A-Za-z_][A-Za-z0-9_]*)$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                  r"[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SAMPLE_BYTES = {"f32": 4, "f64": 8, "i32": 4, "i16": 2, "u32": 4, "u16": 2,
                "i8": 1, "u8": 1}


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v):
    return (isinstance(v, (int, float)) and not isinstance(v, bool)
            and v == v and v not in (float("inf"), float("-inf")))


def _geo(where, g, bad):
    if not isinstance(g, dict):
        bad.append("%s core:geolocation is not an object" % where)
        return
    if g.get("type") != "Point":
        bad.append("%s core:geolocation type is not \"Point\"" % where)
    c = g.get("coordinates")
    if (not isinstance(c, list) or not 2 <= len(c) <= 3 or
            not all(_is_num(x) for x in c)):
        bad.append("%s core:geolocation coordinates: 2 or 3 numbers" % where)
        return
    if not -180 <= c[0] <= 180 or not -90 <= c[1] <= 90:
        bad.append("%s core:geolocation: [longitude, latitude] out of "
                   "range: %r" % (where, c))


def _extensions(where, ext, bad):
    if not isinstance(ext, list):
        bad.append("%s core:extensions is not an array" % where)
        return set()
    names = set()
    for e in ext:
        if (not isinstance(e, dict) or set(e) != {"name", "version",
                                                  "optional"} or
                not isinstance(e["name"], str) or
                not isinstance(e["version"], str) or
                not isinstance(e["optional"], bool)):
            bad.append("%s core:extensions item must hold exactly name "
                       "(string), version (string), optional (boolean): "
                       "%r" % (where, e))
            continue
        names.add(e["name"])
    return names


def _keys(where, obj, declared, bad):
    for k in obj:
        m = KEY.match(k)
        if not m:
            bad.append("%s: key %r is not namespace:name" % (where, k))
        elif m.group(1) != "core" and m.group(1) not in declared:
            bad.append("%s: namespace %r of %r is not declared in "
                       "core:extensions" % (where, m.group(1), k))


TYPES = {
    # scope, key: (check, description)
    ("global", "core:sample_rate"): (lambda v: _is_num(v) and
                                     1 <= v <= 1e12, "number 1..1e12"),
    ("global", "core:recorder"): (lambda v: isinstance(v, str), "string"),
    ("global", "core:description"): (lambda v: isinstance(v, str), "string"),
    ("global", "core:author"): (lambda v: isinstance(v, str), "string"),
    ("global", "core:hw"): (lambda v: isinstance(v, str), "string"),
    ("global", "core:license"): (lambda v: isinstance(v, str), "string"),
    ("global", "core:collection"): (lambda v: isinstance(v, str), "string"),
    ("global", "core:num_channels"): (lambda v: _is_int(v) and v >= 1,
                                      "integer >= 1"),
    ("global", "core:offset"): (lambda v: _is_int(v) and v >= 0,
                                "integer >= 0"),
    ("global", "core:trailing_bytes"): (lambda v: _is_int(v) and v >= 0,
                                        "integer >= 0"),
    ("global", "core:sha512"): (lambda v: isinstance(v, str) and
                                re.match(r"^[0-9a-fA-F]{128}$", v),
                                "128 hex digits"),
    ("global", "core:metadata_only"): (lambda v: isinstance(v, bool),
                                       "boolean"),
    ("captures", "core:sample_start"): (lambda v: _is_int(v) and v >= 0,
                                        "integer >= 0"),
    ("captures", "core:frequency"): (lambda v: _is_num(v) and
                                     abs(v) <= 1e12, "number"),
    ("captures", "core:datetime"): (lambda v: isinstance(v, str) and
                                    DATETIME.match(v),
                                    "RFC 3339 date-time ending in Z"),
    ("captures", "core:global_index"): (lambda v: _is_int(v) and v >= 0,
                                        "integer >= 0"),
    ("captures", "core:header_bytes"): (lambda v: _is_int(v) and v >= 0,
                                        "integer >= 0"),
    ("annotations", "core:sample_start"): (lambda v: _is_int(v) and v >= 0,
                                           "integer >= 0"),
    ("annotations", "core:sample_count"): (lambda v: _is_int(v) and v >= 0,
                                           "integer >= 0"),
    ("annotations", "core:freq_lower_edge"): (lambda v: _is_num(v),
                                              "number"),
    ("annotations", "core:freq_upper_edge"): (lambda v: _is_num(v),
                                              "number"),
    ("annotations", "core:label"): (lambda v: isinstance(v, str), "string"),
    ("annotations", "core:comment"): (lambda v: isinstance(v, str),
                                      "string"),
    ("annotations", "core:generator"): (lambda v: isinstance(v, str),
                                        "string"),
    ("annotations", "core:uuid"): (lambda v: isinstance(v, str) and
                                   UUID.match(v), "UUID"),
}


def _typed(scope, where, obj, bad):
    for k, v in obj.items():
        t = TYPES.get((scope, k))
        if t is not None and not t[0](v):
            bad.append("%s %s must be %s, is %r" % (where, k, t[1], v))


def check_meta(path, data_path=None):
    bad = []
    with open(path, "rb") as f:
        raw = f.read()
    try:
        meta = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return ["%s: not UTF-8 JSON: %s" % (path, e)]
    if not isinstance(meta, dict):
        return ["%s: the top level is not one JSON object" % path]
    for k, typ in (("global", dict), ("captures", list),
                   ("annotations", list)):
        if k not in meta:
            bad.append("%s: no top-level %r (required)" % (path, k))
        elif not isinstance(meta[k], typ):
            bad.append("%s: %r is not a JSON %s" % (path, k, typ.__name__))
    extra = set(meta) - {"global", "captures", "annotations"}
    if extra:
        bad.append("%s: unexpected top-level keys %r" % (path, extra))
    if bad:
        return bad
    g = meta["global"]
    for k in ("core:datatype", "core:version"):
        if k not in g:
            bad.append("%s: global %s is required" % (path, k))
    dt = g.get("core:datatype")
    if dt is not None and not (isinstance(dt, str) and DATATYPE.match(dt)):
        bad.append("%s: core:datatype %r is not a dataset format" %
                   (path, dt))
    v = g.get("core:version")
    if v is not None and not (isinstance(v, str) and VERSION.match(v)):
        bad.append("%s: core:version %r is not X.Y.Z" % (path, v))
    declared = _extensions(path + " global", g.get("core:extensions", []),
                           bad)
    if "core:geolocation" in g:
        _geo(path + " global", g["core:geolocation"], bad)
    _typed("global", path + " global", g, bad)
    _keys(path + " global", g, declared, bad)
    for scope in ("captures", "annotations"):
        last = -1
        for i, seg in enumerate(meta[scope]):
            where = "%s %s[%d]" % (path, scope, i)
            if not isinstance(seg, dict):
                bad.append("%s is not an object" % where)
                continue
            if "core:sample_start" not in seg:
                bad.append("%s: core:sample_start is required" % where)
            _typed(scope, where, seg, bad)
            _keys(where, seg, declared, bad)
            if "core:geolocation" in seg:
                _geo(where, seg["core:geolocation"], bad)
            s = seg.get("core:sample_start")
            if _is_int(s):
                if s < last:
                    bad.append("%s: not sorted by core:sample_start" % where)
                last = s
            lo, hi = seg.get("core:freq_lower_edge"), seg.get(
                "core:freq_upper_edge")
            if _is_num(lo) and _is_num(hi) and lo > hi:
                bad.append("%s: freq_lower_edge > freq_upper_edge" % where)
    if data_path is not None and isinstance(dt, str) and DATATYPE.match(dt):
        width = SAMPLE_BYTES[dt[1:4].rstrip("_")] * (2 if dt[0] == "c"
                                                     else 1)
        width *= g.get("core:num_channels", 1)
        size = os.path.getsize(data_path)
        if size % width:
            bad.append("%s: %d bytes is not a whole number of %s samples" %
                       (data_path, size, dt))
        for c in meta["captures"]:
            if _is_int(c.get("core:sample_start")) and \
                    c["core:sample_start"] >= size // width:
                bad.append("%s: capture at %d is past the data's %d "
                           "samples" % (path, c["core:sample_start"],
                                        size // width))
    return bad


def check_collection(path):
    bad = []
    with open(path, "rb") as f:
        raw = f.read()
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return ["%s: not UTF-8 JSON: %s" % (path, e)]
    if not isinstance(doc, dict) or set(doc) != {"collection"} or \
            not isinstance(doc["collection"], dict):
        return ["%s: the only top-level object must be \"collection\"" %
                path]
    c = doc["collection"]
    if not isinstance(c.get("core:version"), str):
        bad.append("%s: core:version (string) is required" % path)
    elif not VERSION.match(c["core:version"]):
        bad.append("%s: core:version is not X.Y.Z" % path)
    if "core:description" in c and not isinstance(c["core:description"],
                                                  str):
        bad.append("%s: core:description must be a string" % path)
    declared = _extensions(path, c.get("core:extensions", []), bad)
    _keys(path, c, declared, bad)
    streams = c.get("core:streams", [])
    if not isinstance(streams, list):
        return bad + ["%s: core:streams is not an array" % path]
    folder = os.path.dirname(path)
    for s in streams:
        if not isinstance(s, dict) or not isinstance(s.get("name"), str) \
                or not isinstance(s.get("hash"), str):
            bad.append("%s: a stream must be a Recording Object {name, "
                       "hash}: %r" % (path, s))
            continue
        meta = os.path.join(folder, s["name"] + ".sigmf-meta")
        if not os.path.isfile(meta):
            bad.append("%s: stream %s: no %s in the collection's folder" %
                       (path, s["name"], meta))
            continue
        with open(meta, "rb") as f:
            h = hashlib.sha512(f.read()).hexdigest()
        if h != s["hash"].lower():
            bad.append("%s: stream %s: hash is not the SHA-512 of its "
                       ".sigmf-meta" % (path, s["name"]))
    return bad
