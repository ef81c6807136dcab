// flow.js -- a real, external WebSocket client (the npm "ws" library) doing
// the full session flow against `heimdall-rec serve`, asserting every event
// and field. Three clients: A drives, B and C only watch (broadcasts must
// reach them); A and B subscribe to the per-station events, C does not. Usage: node flow.js ws://127.0.0.1:PORT/ws STATIONS DURATION FREQ_MHZ
"use strict";
const WebSocket = require("ws");
const assert = require("assert");

const [url, nst, dur, mhz] = [process.argv[2], +process.argv[3],
  +process.argv[4], +process.argv[5]];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function client(name) {
  const ws = new WebSocket(url);
  const c = { ws, name, all: [], waiters: [] };
  ws.on("message", (buf, isBinary) => {
    assert(!isBinary, name + ": server sent a binary frame");
    const m = JSON.parse(buf.toString());
    assert.strictEqual(typeof m.event, "string");
    assert.match(m.timestamp, ISO, name + ": envelope timestamp");
    c.all.push(m);
    c.waiters = c.waiters.filter((w) => !w(m));
  });
  c.open = new Promise((res, rej) => { ws.on("open", res); ws.on("error", rej); });
  c.send = (event, data) => ws.send(JSON.stringify({ event, data,
    timestamp: new Date().toISOString() }));
  // Resolve with the first message (from now on) matching pred.
  c.next = (pred, what, ms = 30000) => new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(name + ": timed out waiting for " + what)), ms);
    c.waiters.push((m) => { if (pred(m)) { clearTimeout(t); res(m); return true; } return false; });
  });
  return c;
}
const ev = (name) => (m) => m.event === name;

(async () => {
  const A = client("A"), B = client("B"), C = client("C");
  await Promise.all([A.open, B.open, C.open]);

  // ping -> pong, without data (as the original)
  let p = A.next(ev("pong"), "pong");
  A.send("ping", {});
  let m = await p;
  assert.deepStrictEqual(Object.keys(m).sort(), ["event", "timestamp"]);

  p = A.next(ev("subscribed"), "subscribed");
  A.send("subscribe", { channels: ["session:progress", "session:measurement"] });
  assert.deepStrictEqual((await p).data.channels, ["session:progress", "session:measurement"]);
  p = B.next(ev("subscribed"), "subscribed B");
  B.send("subscribe", { channels: ["*"] });
  await p;

  p = A.next(ev("stations:list"), "stations:list");
  A.send("stations:list", {});
  m = await p;
  assert.strictEqual(m.data.stations.length, nst);
  for (const s of m.data.stations) {
    assert.strictEqual(s.password, undefined, "stations:list leaks passwords");
    assert.strictEqual(typeof s.name, "string");
  }
  p = A.next(ev("sources:list"), "sources:list");
  A.send("sources:list", {});
  m = await p;
  assert.strictEqual(m.data.sources[0].name, "Unknown");

  // Step 1
  let bUp = B.next((x) => x.event === "session:status_update" && x.data.status === "recording", "B recording");
  p = A.next(ev("session:started"), "session:started");
  let aUp = A.next((x) => x.event === "session:status_update" && x.data.status === "recording", "A recording");
  A.send("session:start", { session_name: "e2e flow", frequency_mhz: mhz,
    duration_seconds: dur, notes: "from node ws" });
  m = await p;
  const id = m.data.session_id;
  assert.match(id, UUID);
  assert.strictEqual(m.data.session_name, "e2e flow");
  assert.strictEqual(m.data.status, "recording");
  assert.strictEqual(m.data.frequency_mhz, mhz);
  assert.strictEqual(m.data.duration_seconds, dur);
  // the reply comes before the broadcast, as in the original
  const iStarted = A.all.indexOf(m);
  const up = await aUp;
  assert(A.all.indexOf(up) > iStarted, "status_update before session:started");
  assert.strictEqual(up.data.session_id, id);
  const bu = await bUp;
  assert.strictEqual(bu.data.session_id, id);
  assert.strictEqual(bu.data.frequency_mhz, mhz);
  assert(!B.all.some(ev("session:started")), "B got A's reply");

  // Step 2
  bUp = B.next((x) => x.event === "session:status_update" && x.data.status === "source_assigned", "B source_assigned");
  p = A.next(ev("session:source_assigned"), "session:source_assigned");
  A.send("session:assign_source", { session_id: id, source_id: "unknown" });
  m = await p;
  assert.strictEqual(m.data.session_id, id);
  assert.strictEqual(m.data.status, "source_assigned");
  assert.match(m.data.source_id, UUID);
  assert.strictEqual(m.data.source_name, "Unknown");
  assert.strictEqual((await bUp).data.source_name, "Unknown");

  // Step 3: acquisition; progress x dur to BOTH clients; final status
  const finalOf = (c) => c.next((x) => x.event === "session:status_update" &&
    x.data.session_id === id && (x.data.status === "completed" || x.data.status === "failed"),
    c.name + " final status", (dur + 30) * 1000);
  const fA = finalOf(A), fB = finalOf(B), fC = finalOf(C);
  bUp = B.next((x) => x.event === "session:status_update" && x.data.status === "in_progress", "B in_progress");
  p = A.next(ev("session:completed"), "session:completed");
  A.send("session:complete", { session_id: id, frequency_hz: Math.round(mhz * 1e6),
    duration_seconds: dur });
  m = await p;
  assert.deepStrictEqual(m.data, { session_id: id, task_id: id, status: "in_progress", chunks: dur,
    queue_position: 0 });
  await bUp;
  const [finA, finB, finC] = await Promise.all([fA, fB, fC]);
  for (const [c, fin] of [[A, finA], [B, finB], [C, finC]]) {
    assert.strictEqual(fin.data.status, "completed", c.name + ": " + JSON.stringify(fin.data));
    assert.strictEqual(fin.data.summary.chunks_stored, dur * nst);
    assert.strictEqual(fin.data.summary.chunks_missing, 0);
    const prog = c.all.filter((x) => x.event === "session:progress" && x.data.session_id === id);
    assert.strictEqual(prog.length, dur, c.name + " progress count");
    prog.forEach((x, i) => {
      assert.strictEqual(x.data.chunk, i + 1);
      assert.strictEqual(x.data.total_chunks, dur);
      assert.strictEqual(x.data.progress, Math.round(100 * (i + 1) / dur));
      assert.strictEqual(x.data.measurements_count, (i + 1) * nst);
    });
    // the final status comes after the last progress
    assert(c.all.indexOf(fin) > c.all.indexOf(prog[prog.length - 1]));
    const meas = c.all.filter((x) => x.event === "session:measurement" && x.data.recording_session_id === id);
    assert.strictEqual(meas.length, c === C ? 0 : dur * nst, c.name + " measurements");
    const rx = c.all.filter((x) => x.event === "receiver:status");
    if (c === B) assert(rx.length >= nst, "B receiver:status");
    if (c !== B) assert.strictEqual(rx.length, 0, c.name + " got receiver:status unsubscribed");
  }

  // the finished session is listed
  p = A.next(ev("sessions:list"), "sessions:list");
  A.send("sessions:list", {});
  m = await p;
  const row = m.data.sessions.find((s) => s.id === id);
  assert(row, "session not in sessions:list");
  assert.strictEqual(row.status, "completed");
  assert.strictEqual(row.chunks_stored, dur * nst);

  console.log(JSON.stringify({ ok: true, session_id: id,
    events_a: A.all.length, events_b: B.all.length, events_c: C.all.length }));
  A.ws.close(); B.ws.close(); C.ws.close();
})().catch((e) => { console.error("FAIL:", e.stack || e); process.exit(1); });
