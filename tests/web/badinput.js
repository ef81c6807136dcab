// badinput.js -- every bad-input and limit case of the WebSocket API, sent by
// a real external client (npm "ws"): each gets an error reply with a stable
// code (or a clean close), and the server keeps serving everyone.
// Usage: node badinput.js ws://127.0.0.1:PORT/ws FREQ_MHZ_OK FREQ_MHZ_OUTSIDE
"use strict";
const WebSocket = require("ws");
const assert = require("assert");

const [url, okMhz, outMhz] = [process.argv[2], +process.argv[3], +process.argv[4]];
const UUID0 = "00000000-0000-4000-8000-000000000000";

function open(u = url) {
  return new Promise((res, rej) => {
    const ws = new WebSocket(u);
    const c = { ws, msgs: [], waiters: [], closed: null };
    ws.on("message", (b) => {
      const m = JSON.parse(b.toString());
      c.msgs.push(m);
      c.waiters = c.waiters.filter((w) => !w(m));
    });
    c.closedP = new Promise((r) => ws.on("close", (code, reason) => { c.closed = code; r(code); }));
    c.next = (pred, what, ms = 10000) => new Promise((ok, ko) => {
      const t = setTimeout(() => ko(new Error("timed out waiting for " + what)), ms);
      c.waiters.push((m) => { if (pred(m)) { clearTimeout(t); ok(m); return true; } return false; });
    });
    // the next reply that is not a broadcast
    c.reply = (what) => c.next((m) => !["session:status_update", "session:progress",
      "receiver:status", "session:measurement", "session:missing", "session:tdoa",
      "session:fix", "heartbeat"].includes(m.event), what);
    ws.on("open", () => res(c));
    ws.on("error", rej);
  });
}
const env = (event, data) => JSON.stringify({ event, data, timestamp: new Date().toISOString() });
let n = 0;
async function expectErr(c, raw, event, code, field, label) {
  const p = c.reply(label);
  c.ws.send(raw);
  const m = await p;
  assert.strictEqual(m.event, event, label + ": " + JSON.stringify(m));
  assert.strictEqual(m.data.code, code, label + ": " + JSON.stringify(m));
  if (field !== undefined)
    assert.strictEqual(m.data.field, field, label + ": " + JSON.stringify(m));
  assert.strictEqual(typeof m.data.error, "string");
  assert(m.data.error.length > 0);
  if (event === "error") assert.strictEqual(m.message, m.data.error);
  n++;
  return m;
}
async function ping(c, label) {
  const p = c.next((m) => m.event === "pong", "pong after " + label);
  c.ws.send(env("ping", {}));
  await p;
}
const start = (o) => env("session:start", Object.assign({ session_name: "bad",
  frequency_mhz: okMhz, duration_seconds: 2 }, o));

(async () => {
  const c = await open();
  // envelope
  await expectErr(c, "{not json", "error", "invalid_json", "", "invalid JSON");
  await expectErr(c, "", "error", "invalid_json", "", "empty message");
  await expectErr(c, "[1,2]", "error", "invalid_json", "", "array");
  await expectErr(c, "\"str\"", "error", "invalid_json", "", "string");
  await expectErr(c, "42", "error", "invalid_json", "", "number");
  await expectErr(c, "{\"event\":\"ping\",\"event\":\"ping\"}", "error", "invalid_json", "", "duplicate key");
  await expectErr(c, "{\"event\":\"ping\",\"data\":{\"x\":NaN}}", "error", "invalid_json", "", "NaN literal");
  await expectErr(c, "{\"data\":{}}", "error", "missing_field", "event", "no event");
  await expectErr(c, "{\"event\":5}", "error", "wrong_type", "event", "event number");
  await expectErr(c, JSON.stringify({ event: "x".repeat(65) }), "error", "too_large", "event", "long event");
  await expectErr(c, JSON.stringify({ event: "session:nope" }), "error", "unknown_event", "event", "unknown session event");
  await expectErr(c, JSON.stringify({ event: "launch_missiles" }), "error", "unknown_event", "event", "unknown event");
  await expectErr(c, JSON.stringify({ event: "ping", extra: 1 }), "error", "unknown_field", "extra", "extra envelope field");
  await expectErr(c, JSON.stringify({ event: "ping", data: [] }), "error", "wrong_type", "data", "data array");
  await expectErr(c, JSON.stringify({ event: "session:start", data: "x" }), "session:error", "wrong_type", "data", "data string");
  await expectErr(c, JSON.stringify({ event: "ping", timestamp: 5 }), "error", "wrong_type", "timestamp", "timestamp number");
  // session:start fields
  await expectErr(c, env("session:start", {}), "session:error", "missing_field", "session_name", "empty data");
  await expectErr(c, JSON.stringify({ event: "session:start" }), "session:error", "missing_field", "session_name", "no data");
  await expectErr(c, env("session:start", { session_name: "x", duration_seconds: 5 }), "session:error", "missing_field", "frequency_mhz", "no frequency");
  await expectErr(c, env("session:start", { session_name: "x", frequency_mhz: okMhz }), "session:error", "missing_field", "duration_seconds", "no duration");
  await expectErr(c, start({ bogus: 1 }), "session:error", "unknown_field", "bogus", "extra data field");
  await expectErr(c, start({ session_name: 7 }), "session:error", "wrong_type", "session_name", "name number");
  await expectErr(c, start({ frequency_mhz: "145.5" }), "session:error", "wrong_type", "frequency_mhz", "frequency string");
  await expectErr(c, start({ duration_seconds: "NaN" }), "session:error", "wrong_type", "duration_seconds", "duration NaN string");
  await expectErr(c, start({ duration_seconds: "Infinity" }), "session:error", "wrong_type", "duration_seconds", "duration Infinity string");
  await expectErr(c, start({ duration_seconds: true }), "session:error", "wrong_type", "duration_seconds", "duration bool");
  for (const d of [0, 31, 2.5, -1, 1e300])
    await expectErr(c, start({ duration_seconds: d }), "session:error", "out_of_range", "duration_seconds", "duration " + d);
  for (const f of [0, -145.5, 1e9])
    await expectErr(c, start({ frequency_mhz: f }), "session:error", "out_of_range", "frequency_mhz", "frequency " + f);
  await expectErr(c, start({ frequency_mhz: outMhz }), "session:error", "out_of_range", "frequency_mhz", "frequency outside every station");
  await expectErr(c, start({ session_name: "" }), "session:error", "missing_field", "session_name", "empty name");
  await expectErr(c, start({ session_name: "n".repeat(256) }), "session:error", "too_large", "session_name", "name 256 bytes");
  await expectErr(c, start({ notes: "n".repeat(4097) }), "session:error", "too_large", "notes", "notes 4097 bytes");
  await expectErr(c, start({ session_name: "a\u0000b" }), "error", "invalid_json", "", "NUL in name");
  await expectErr(c, start({ session_name: "../../etc/passwd\n" }), "session:error", "out_of_range", "session_name", "control char in name");
  // unknown sessions, steps out of order
  await expectErr(c, env("session:assign_source", { session_id: UUID0, source_id: "unknown" }), "session:error", "not_found", "session_id", "unknown session");
  await expectErr(c, env("session:assign_source", { session_id: "../x", source_id: "unknown" }), "session:error", "out_of_range", "session_id", "not a uuid");
  await expectErr(c, env("session:complete", { session_id: UUID0, frequency_hz: 1, duration_seconds: 2 }), "session:error", "not_found", "session_id", "complete unknown");
  await expectErr(c, env("session:get", { session_id: UUID0 }), "session:error", "not_found", "session_id", "get unknown");
  let p = c.next((m) => m.event === "session:started", "started");
  c.ws.send(start({ session_name: "order test", notes: "'; DROP TABLE x; --" }));
  const id = (await p).data.session_id;
  await expectErr(c, env("session:complete", { session_id: id, frequency_hz: okMhz * 1e6, duration_seconds: 2 }), "session:error", "bad_state", "session_id", "complete before assign");
  await expectErr(c, env("session:assign_source", { session_id: id, source_id: "no such source" }), "session:error", "not_found", "source_id", "unknown source");
  await expectErr(c, env("session:assign_source", { session_id: id, source_id: "s".repeat(256) }), "session:error", "too_large", "source_id", "long source");
  await expectErr(c, env("session:assign_source", { session_id: id }), "session:error", "missing_field", "source_id", "no source");
  p = c.next((m) => m.event === "session:source_assigned", "assigned");
  c.ws.send(env("session:assign_source", { session_id: id, source_id: "Unknown" }));
  await p;
  await expectErr(c, env("session:assign_source", { session_id: id, source_id: "unknown" }), "session:error", "bad_state", "session_id", "assign twice");
  await expectErr(c, env("session:complete", { session_id: id, frequency_hz: okMhz * 1e6 + 1000, duration_seconds: 2 }), "session:error", "out_of_range", "frequency_hz", "complete other frequency");
  await expectErr(c, env("session:complete", { session_id: id, frequency_hz: okMhz * 1e6, duration_seconds: 3 }), "session:error", "out_of_range", "duration_seconds", "complete other duration");
  await expectErr(c, env("session:complete", { session_id: id, frequency_hz: okMhz * 1e6 }), "session:error", "missing_field", "duration_seconds", "complete no duration");
  // a second acquisition while the first runs is queued (position 1)
  p = c.next((m) => m.event === "session:completed", "completed");
  c.ws.send(env("session:complete", { session_id: id, frequency_hz: okMhz * 1e6, duration_seconds: 2 }));
  await p;
  await expectErr(c, env("session:complete", { session_id: id, frequency_hz: okMhz * 1e6, duration_seconds: 2 }), "session:error", "bad_state", "session_id", "complete twice");
  p = c.next((m) => m.event === "session:started", "started 2");
  c.ws.send(start({ session_name: "second" }));
  const id2 = (await p).data.session_id;
  p = c.next((m) => m.event === "session:source_assigned", "assigned 2");
  c.ws.send(env("session:assign_source", { session_id: id2, source_id: "unknown" }));
  await p;
  p = c.next((m) => m.event === "session:completed" && m.data.session_id === id2, "queued 2");
  c.ws.send(env("session:complete", { session_id: id2, frequency_hz: okMhz * 1e6, duration_seconds: 2 }));
  assert.strictEqual((await p).data.queue_position, 1, "second acquisition queued");
  p = c.next((m) => m.event === "session:cancelled", "cancelled");
  c.ws.send(env("session:cancel", { session_id: id2 }));
  await p;
  await expectErr(c, env("session:cancel", { session_id: id2 }), "session:error", "bad_state", "session_id", "cancel twice");
  await expectErr(c, env("sessions:list", { limit: 0 }), "error", "out_of_range", "limit", "list limit 0");
  await expectErr(c, env("subscribe", { channels: "x" }), "error", "wrong_type", "channels", "channels string");
  await expectErr(c, env("subscribe", { channels: Array(33).fill("a") }), "error", "too_large", "channels", "33 channels");
  await expectErr(c, env("ping", { x: 1 }), "error", "unknown_field", "x", "ping with data");

  // binary frame: refused, connection keeps working
  await expectErr(c, Buffer.from([1, 2, 3, 0, 255]), "error", "invalid_frame", "", "binary frame");
  await ping(c, "binary frame");
  // fragmented frames: a valid message in three fragments is served
  p = c.next((m) => m.event === "pong", "pong (fragmented)");
  const msg = env("ping", {});
  c.ws.send(msg.slice(0, 5), { fin: false });
  c.ws.send(msg.slice(5, 9), { fin: false });
  c.ws.send(msg.slice(9), { fin: true });
  await p; n++;
  // a message of exactly 64 KiB is still parsed (a reply, not a close)
  const pad = "x".repeat(65536 - env("ping", { pad: "" }).length);
  await expectErr(c, env("ping", { pad }), "error", "unknown_field", "pad", "64 KiB message");
  await ping(c, "64 KiB");

  // over 64 KiB: too_large, then a clean close (1009)
  const big = await open();
  await expectErr(big, env("ping", { pad: "y".repeat(70000) }), "error", "too_large", "", "frame over 64 KiB");
  assert.strictEqual(await big.closedP, 1009);
  // over 64 KiB in fragments
  const big2 = await open();
  p = big2.reply("fragmented too large");
  for (let i = 0; i < 9; i++) big2.ws.send("z".repeat(8192), { fin: false });
  big2.ws.send("z", { fin: true });
  assert.strictEqual((await p).data.code, "too_large");
  assert.strictEqual(await big2.closedP, 1009);
  n += 1;
  // only /ws is a WebSocket
  await assert.rejects(open(url.replace(/\/ws$/, "/other")));
  n++;
  await ping(c, "limits");

  // rate limit: a burst of 400 requests; past the bucket (200) some are
  // refused with busy, and a second later requests are served again
  const fl = await open();
  let pongs = 0, busy = 0;
  const allIn = new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error("rate limit: only " + pongs + "+" + busy + " replies")), 20000);
    fl.ws.on("message", (b) => {
      const m = JSON.parse(b.toString());
      if (m.event === "pong") pongs++; else if (m.data && m.data.code === "busy") busy++;
      if (pongs + busy === 400) { clearTimeout(t); res(); }
    });
  });
  const t0r = Date.now();
  for (let i = 0; i < 400; i++) fl.ws.send(env("ping", {}));
  await allIn;
  console.error("rate limit: " + pongs + " pongs, " + busy + " busy in " + (Date.now() - t0r) + " ms");
  assert.strictEqual(pongs + busy, 400, "rate limit replies " + pongs + "+" + busy);
  assert(busy > 0 && pongs >= 200, "rate limit: " + pongs + " pongs, " + busy + " busy");
  await new Promise((r) => setTimeout(r, 1100));
  await ping(fl, "rate limit refill");
  fl.ws.close();
  n++;

  // slow consumer: stops reading, floods requests; the server drops it,
  // the others are unaffected
  const slow = await open();
  slow.ws._socket.pause();
  const t0 = Date.now();
  const req = env("stations:list", {});
  let sent = 0;
  while (slow.closed === null && Date.now() - t0 < 20000) {
    for (let i = 0; i < 500 && slow.ws.readyState === 1; i++, sent++) slow.ws.send(req);
    await ping(c, "slow consumer flood");
    await new Promise((r) => setTimeout(r, 5));
    if (slow.ws._socket.destroyed || slow.ws.readyState !== 1) break;
    // the kernel tells us when the peer has gone: resume to notice the close
    if (sent > 40000) { slow.ws._socket.resume(); break; }
  }
  slow.ws._socket.resume();
  const code = await Promise.race([slow.closedP, new Promise((r) => setTimeout(() => r("open"), 15000))]);
  assert.notStrictEqual(code, "open", "slow consumer not dropped after " + sent + " requests");
  await ping(c, "slow consumer dropped");
  n++;

  // 1,000 connect/disconnect cycles (50 at a time); the server still serves
  const cycles = +(process.env.CYCLES || 1000);
  for (let i = 0; i < cycles; i += 50) {
    const batch = [];
    for (let j = 0; j < 50 && i + j < cycles; j++)
      batch.push(open().then((x) => { if (j % 2) x.ws.terminate(); else x.ws.close(); return x.closedP; }));
    await Promise.all(batch);
  }
  await ping(c, "1000 cycles");
  n++;
  const d = await open();
  await ping(d, "fresh client");
  console.log(JSON.stringify({ ok: true, cases: n, slow_requests_sent: sent, slow_close: code }));
  c.ws.close(); d.ws.close();
})().catch((e) => { console.error("FAIL:", e.stack || e); process.exit(1); });
