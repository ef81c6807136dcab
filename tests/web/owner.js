// owner.js -- who may act on a session, with two real clients (npm "ws"):
// A starts a session and acquires; B (another connection) may read it but
// its cancel is refused (forbidden) and the acquisition goes on; with the
// session_token A got, B may cancel it. No message B gets carries the token.
// Usage: node owner.js ws://127.0.0.1:PORT/ws FREQ_MHZ DURATION_S
"use strict";
const WebSocket = require("ws");
const assert = require("assert");

const [url, mhz, dur] = [process.argv[2], +process.argv[3], +process.argv[4]];

function open(name) {
  return new Promise((res, rej) => {
    const ws = new WebSocket(url);
    const c = { name, ws, all: [], waiters: [] };
    ws.on("message", (b) => {
      const m = JSON.parse(b.toString());
      c.all.push(m);
      c.waiters = c.waiters.filter((w) => !w(m));
    });
    c.next = (pred, what, ms = 15000) => new Promise((ok, ko) => {
      const t = setTimeout(() => ko(new Error(name + ": timed out waiting for " + what)), ms);
      c.waiters.push((m) => { if (pred(m)) { clearTimeout(t); ok(m); return true; } return false; });
    });
    c.send = (event, data) => ws.send(JSON.stringify({ event, data, timestamp: new Date().toISOString() }));
    ws.on("open", () => res(c));
    ws.on("error", rej);
  });
}
const ev = (name) => (m) => m.event === name;

(async () => {
  const A = await open("A"), B = await open("B");
  let p = A.next(ev("session:started"), "session:started");
  A.send("session:start", { session_name: "owned", frequency_mhz: mhz, duration_seconds: dur });
  const started = (await p).data;
  const id = started.session_id, token = started.session_token;
  assert.match(token, /^[0-9a-f]{32}$/);
  p = A.next(ev("session:source_assigned"), "source_assigned");
  A.send("session:assign_source", { session_id: id, source_id: "unknown" });
  await p;
  const progress = B.next((m) => m.event === "session:progress" && m.data.session_id === id, "progress");
  p = A.next(ev("session:completed"), "completed");
  A.send("session:complete", { session_id: id, frequency_hz: Math.round(mhz * 1e6), duration_seconds: dur });
  await p;
  await progress;

  // B reads it ...
  p = B.next((m) => m.event === "session:status_update" && m.data.session_id === id && m.data.chunk !== undefined, "get");
  B.send("session:get", { session_id: id });
  assert.strictEqual((await p).data.status, "in_progress");
  // ... but may not cancel it, without the token or with a wrong one
  const refused = [];
  for (const extra of [{}, { session_token: "0".repeat(32) }]) {
    p = B.next(ev("session:error"), "forbidden");
    B.send("session:cancel", Object.assign({ session_id: id }, extra));
    const m = (await p).data;
    assert.strictEqual(m.code, "forbidden", JSON.stringify(m));
    assert.strictEqual(m.session_id, id);
    refused.push(m.field);
  }
  // the acquisition goes on: more progress after the refusals
  const before = A.all.filter((m) => m.event === "session:progress" && m.data.session_id === id).length;
  const more = await A.next((m) => m.event === "session:progress" && m.data.session_id === id &&
    m.data.chunk > before, "progress after the refused cancel");
  // with the token, B may
  const fin = A.next((m) => m.event === "session:status_update" && m.data.session_id === id &&
    (m.data.status === "completed" || m.data.status === "failed"), "final status", (dur + 20) * 1000);
  p = B.next((m) => m.event === "session:cancelled" || m.event === "session:error", "cancelled");
  B.send("session:cancel", { session_id: id, session_token: token, reason: "cancelled by B" });
  const c = await p;
  assert.strictEqual(c.event, "session:cancelled", JSON.stringify(c));
  const f = (await fin).data;
  assert.strictEqual(f.status, "failed");
  assert.match(f.error, /cancelled by B/);
  // the token reached A's session:started reply only
  assert(!JSON.stringify(B.all).includes(token), "B saw the token");
  const withTok = A.all.filter((m) => JSON.stringify(m).includes(token)).map((m) => m.event);
  assert.deepStrictEqual(withTok, ["session:started"]);
  console.log(JSON.stringify({ ok: true, session_id: id, refused_fields: refused,
    chunk_after_refusal: more.data.chunk, final: f.status, error: f.error }));
  A.ws.close(); B.ws.close();
})().catch((e) => { console.error("FAIL:", e.stack || e); process.exit(1); });
