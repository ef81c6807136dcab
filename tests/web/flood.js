// flood.js -- a session runs while clients fill the server up to its limit:
// A drives a session; then WebSocket clients are opened until the server
// refuses one (it must answer HTTP 503), plus idle raw TCP connections that
// never send a request. Meanwhile A must keep getting every progress event
// and pongs. Usage: node flood.js WS_URL HOST PORT DURATION FREQ_MHZ EXTRA_RAW
// Prints {accepted, refused, again, raw_closed, raw_close_ms, progress,
// final_status, summary, pong_ms}.
"use strict";
const WebSocket = require("ws");
const net = require("net");
const assert = require("assert");

const [url, host, port, dur, mhz, nraw] = [process.argv[2], process.argv[3], +process.argv[4],
  +process.argv[5], +process.argv[6], +process.argv[7]];
const env = (event, data) => JSON.stringify({ event, data, timestamp: new Date().toISOString() });

function open() {
  return new Promise((res) => {
    const ws = new WebSocket(url);
    ws.on("open", () => res({ ws }));
    ws.on("unexpected-response", (req, r) => res({ status: r.statusCode }));
    ws.on("error", (e) => res({ error: String(e.message || e) }));
  });
}

(async () => {
  const A = new WebSocket(url);
  const msgs = [];
  const waiters = [];
  A.on("message", (b) => { const m = JSON.parse(b.toString()); msgs.push(m);
    for (const w of waiters.splice(0)) if (!w(m)) waiters.push(w); });
  const next = (pred, what, ms = 30000) => new Promise((ok, ko) => {
    const t = setTimeout(() => ko(new Error("timed out waiting for " + what)), ms);
    waiters.push((m) => { if (pred(m)) { clearTimeout(t); ok(m); return true; } return false; });
  });
  await new Promise((ok, ko) => { A.on("open", ok); A.on("error", ko); });
  let p = next((m) => m.event === "session:started", "started");
  A.send(env("session:start", { session_name: "flood", frequency_mhz: mhz, duration_seconds: dur }));
  const sid = (await p).data.session_id;
  p = next((m) => m.event === "session:source_assigned", "assigned");
  A.send(env("session:assign_source", { session_id: sid, source_id: "unknown" }));
  await p;
  const fin = next((m) => m.event === "session:status_update" && m.data.session_id === sid &&
    (m.data.status === "completed" || m.data.status === "failed"), "final", 60000);
  p = next((m) => m.event === "session:completed", "completed");
  A.send(env("session:complete", { session_id: sid, frequency_hz: mhz * 1e6, duration_seconds: dur }));
  await p;

  // fill up while it acquires
  const clients = [];
  let refused = null;
  for (let i = 0; i < 5000 && refused === null; i++) {
    const r = await open();
    if (r.ws) clients.push(r.ws); else refused = r;
  }
  // more are refused the same way, and the server still answers A
  const again = await open();
  const raw = [];
  for (let i = 0; i < nraw; i++) {
    const s = net.connect(port, host);
    const r = { closed: false, t0: Date.now() };
    s.on("close", () => { r.closed = true; r.ms = Date.now() - r.t0; });
    s.on("error", () => {});
    // over the connection budget the server answers 503 at once and closes
    s.on("data", (b) => { if (/^HTTP\/1\.1 503 /.test(b.toString())) r.refused = true; });
    raw.push(r);
  }
  const t0 = Date.now();
  p = next((m) => m.event === "pong", "pong", 5000);
  A.send(env("ping", {}));
  await p;
  const pong_ms = Date.now() - t0;
  const final = (await fin).data;
  const progress = msgs.filter((m) => m.event === "session:progress" && m.data.session_id === sid)
    .map((m) => m.data.chunk);
  for (const c of clients) c.terminate();
  // the raw connections sent nothing: the server closes them (idle)
  for (let i = 0; i < 100 && raw.some((r) => !r.closed); i++)
    await new Promise((ok) => setTimeout(ok, 100));
  console.log(JSON.stringify({ session_id: sid, accepted: clients.length + 1, refused, again,
    raw_closed: raw.filter((r) => r.closed).length, raw_refused: raw.filter((r) => r.refused).length,
    raw_close_ms: Math.max(...raw.map((r) => r.ms || 1e9)), progress, final_status: final.status,
    summary: final.summary, pong_ms }));
  A.close();
  setTimeout(() => process.exit(0), 200);
})().catch((e) => { console.error("FAIL:", e.stack || e); process.exit(1); });
