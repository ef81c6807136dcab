// bench_ws.js -- N WebSocket clients (npm "ws") on `heimdall-rec serve`
// while client 0 runs a session; every client timestamps every
// session:progress it receives. Prints JSON: per progress event the
// engine's emission time (the envelope's timestamp) and each receipt.
// Usage: node bench_ws.js ws://HOST:PORT/ws N DURATION FREQ_MHZ
"use strict";
const WebSocket = require("ws");
const { performance } = require("perf_hooks");

const [url, n, dur, mhz] = [process.argv[2], +process.argv[3], +process.argv[4], +process.argv[5]];
const now = () => performance.timeOrigin + performance.now();     // ms, sub-ms resolution
const parseTs = (s) => Date.parse(s.slice(0, 23) + "Z") + (+("0." + (s.slice(20, -1) || "0")) * 1000 % 1);

const recv = new Map();           // chunk -> {emit, times: []}
let finals = 0, sid = null, opened = 0, failed = 0;
const clients = [];

function onMsg(i, buf) {
  const t = now();
  const m = JSON.parse(buf);
  if (m.event === "session:progress") {
    let r = recv.get(m.data.chunk);
    if (!r) { r = { emit: parseTs(m.timestamp), times: [] }; recv.set(m.data.chunk, r); }
    r.times.push(t);
  } else if (m.event === "session:status_update" && (m.data.status === "completed" || m.data.status === "failed")) {
    if (++finals === n) done(m.data.status);
  } else if (i === 0) {
    const send = (e, d) => clients[0].send(JSON.stringify({ event: e, data: d }));
    if (m.event === "session:started") { sid = m.data.session_id; send("session:assign_source", { session_id: sid, source_id: "unknown" }); }
    else if (m.event === "session:source_assigned") send("session:complete", { session_id: sid, frequency_hz: Math.round(mhz * 1e6), duration_seconds: dur });
    else if (m.event === "session:error") { console.error("session:error", JSON.stringify(m.data)); process.exit(1); }
  }
}

function done(status) {
  const events = [...recv.entries()].sort((a, b) => a[0] - b[0]).map(([chunk, r]) =>
    ({ chunk, emit: r.emit, n: r.times.length, times: r.times }));
  // writeSync: process.exit must not cut a large piped output
  require("fs").writeSync(1, JSON.stringify({ clients: n, opened, failed, status, events }) + "\n");
  for (const c of clients) c.terminate();
  process.exit(0);
}

async function openAll() {
  for (let i = 0; i < n; i += 100) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 100); j++) {
      batch.push(new Promise((res) => {
        const ws = new WebSocket(url);
        clients[j] = ws;
        ws.on("open", () => { opened++; res(); });
        ws.on("message", (b) => onMsg(j, b));
        ws.on("error", () => { failed++; res(); });
      }));
    }
    await Promise.all(batch);
  }
}

(async () => {
  await openAll();
  if (opened !== n) { console.error("only " + opened + " of " + n + " clients connected"); process.exit(1); }
  process.stderr.write("connected " + opened + " clients\n");
  clients[0].send(JSON.stringify({ event: "session:start", data: { session_name: "bench ws",
    frequency_mhz: mhz, duration_seconds: dur } }));
  setTimeout(() => { console.error("timed out"); done("timeout"); }, (dur + 60) * 1000);
})();
