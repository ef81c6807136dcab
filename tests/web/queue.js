// queue.js -- acquisitions queue instead of "busy" (npm "ws" clients against
// `heimdall-rec serve`): A acquires; B's session:complete is queued at
// position 1 and C's at 2; C is cancelled while queued (failed, never
// acquires) and B starts when A ends; 16 waiting fill the queue and the
// 17th gets busy. Usage: node queue.js ws://HOST:PORT/ws FREQ_MHZ DURATION
"use strict";
const assert = require("assert");
const { client, of, isFinal } = require("./lib");

const [url, mhz, dur] = [process.argv[2], +process.argv[3], +process.argv[4]];

async function ready(c, name) {
  const st = await c.step("session:start", { session_name: name, frequency_mhz: mhz,
    duration_seconds: dur }, "session:started");
  assert.strictEqual(st.event, "session:started", JSON.stringify(st));
  const id = st.data.session_id;
  const as = await c.step("session:assign_source", { session_id: id, source_id: "unknown" },
    "session:source_assigned");
  assert.strictEqual(as.event, "session:source_assigned", JSON.stringify(as));
  return id;
}
const complete = (c, id) => c.step("session:complete", { session_id: id,
  frequency_hz: Math.round(mhz * 1e6), duration_seconds: dur }, "session:completed");

(async () => {
  const A = await client(url, "A").open, B = await client(url, "B").open,
    C = await client(url, "C").open, W = await client(url, "W").open;
  W.send("subscribe", { channels: ["*"] });
  const a = await ready(A, "queue A"), b = await ready(B, "queue B"), c = await ready(C, "queue C");
  const finA = W.next(isFinal(a), "A final", (dur + 30) * 1000);
  const finB = W.next(isFinal(b), "B final", (2 * dur + 60) * 1000);
  const finC = W.next(isFinal(c), "C final");

  let m = await complete(A, a);
  assert.strictEqual(m.event, "session:completed", JSON.stringify(m));
  assert.strictEqual(m.data.queue_position, 0);
  const bQueued = W.next((x) => x.event === "session:status_update" && x.data.session_id === b &&
    x.data.queue_position === 1, "B status_update queue_position 1");
  m = await complete(B, b);
  assert.strictEqual(m.event, "session:completed", "B queued, not busy: " + JSON.stringify(m));
  assert.strictEqual(m.data.status, "in_progress");
  assert.strictEqual(m.data.queue_position, 1);
  assert.strictEqual((await bQueued).data.status, "in_progress");
  m = await complete(C, c);
  assert.strictEqual(m.data.queue_position, 2, JSON.stringify(m));
  // session:get shows the position too
  m = await C.step("session:get", { session_id: c }, "session:status_update");
  assert.strictEqual(m.data.queue_position, 2);

  // fill the queue: 14 more wait, the next is refused
  const D = await client(url, "D").open, more = [];
  for (let i = 0; i < 14; i++) {
    const id = await ready(D, "filler " + i);
    m = await complete(D, id);
    assert.strictEqual(m.data.queue_position, 3 + i, JSON.stringify(m));
    more.push(id);
  }
  const full = await ready(D, "one too many");
  m = await complete(D, full);
  assert.strictEqual(m.event, "session:error", JSON.stringify(m));
  assert.strictEqual(m.data.code, "busy");
  assert.match(m.data.error, /queue is full/);
  for (const id of more.concat([full])) {
    m = await D.step("session:cancel", { session_id: id }, "session:cancelled");
    assert.strictEqual(m.event, "session:cancelled", JSON.stringify(m));
  }

  // cancel C while queued: it ends failed, "cancelled", and never acquires
  m = await C.step("session:cancel", { session_id: c, reason: "not needed" }, "session:cancelled");
  assert.strictEqual(m.event, "session:cancelled", JSON.stringify(m));
  const fc = await finC;
  assert.strictEqual(fc.data.status, "failed");
  assert.strictEqual(fc.data.error, "cancelled: not needed");

  const fa = await finA;
  assert.strictEqual(fa.data.status, "completed", JSON.stringify(fa.data));
  const fb = await finB;
  assert.strictEqual(fb.data.status, "completed", JSON.stringify(fb.data));
  // B: queued at 1, started (position 0) after A's last event, then acquired
  const iA = W.all.indexOf(fa);
  const bStart = of(W, b, "session:status_update").find((x) => x.data.status === "in_progress" &&
    x.data.queue_position === 0);
  assert(bStart && W.all.indexOf(bStart) > iA, "B started before A ended");
  const bProg = of(W, b, "session:progress");
  assert.strictEqual(bProg.length, dur);
  assert(W.all.indexOf(bProg[0]) > iA, "B progress before A ended");
  assert(of(W, b, "receiver:status").every((x) => W.all.indexOf(x) > iA), "B receivers opened early");
  assert.strictEqual(fb.data.summary.chunks_missing, 0);
  // C never acquired
  assert.strictEqual(of(W, c, "session:progress").length, 0);
  assert.strictEqual(of(W, c, "receiver:status").length, 0);
  assert.strictEqual(of(W, c, "session:measurement").length, 0);
  console.log(JSON.stringify({ ok: true, a, b, c }));
  for (const x of [A, B, C, D, W]) x.ws.close();
})().catch((e) => { console.error("FAIL:", e.stack || e); process.exit(1); });
