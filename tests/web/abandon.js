// abandon.js -- sessions left behind must not lock `heimdall-rec serve`
// out: N clients each start a session and go away without a word (a third
// after assigning the source, a third after a refused session:complete),
// then a normal session completes. Usage:
// node abandon.js ws://HOST:PORT/ws FREQ_MHZ N
"use strict";
const assert = require("assert");
const { client, isFinal } = require("./lib");

const [url, mhz, n] = [process.argv[2], +process.argv[3], +process.argv[4]];

(async () => {
  const W = await client(url, "watcher").open;
  let abandoned = 0;
  const abandonedIds = new Set();
  W.waiters.push((m) => {
    if (m.event === "session:status_update" && m.data.status === "failed" &&
        /^abandoned/.test(m.data.error || "")) { abandoned++; abandonedIds.add(m.data.session_id); }
    return false;
  });
  const ids = [];
  for (let i = 0; i < n; i++) {
    const c = await client(url, "c" + i).open;
    const st = await c.step("session:start", { session_name: "left " + i, frequency_mhz: mhz,
      duration_seconds: 2 }, "session:started");
    assert.strictEqual(st.event, "session:started", "session " + i + ": " + JSON.stringify(st));
    const id = st.data.session_id;
    ids.push(id);
    if (i % 3 === 1) {
      const m = await c.step("session:assign_source", { session_id: id, source_id: "unknown" },
        "session:source_assigned");
      assert.strictEqual(m.event, "session:source_assigned");
    } else if (i % 3 === 2) {
      // refused (no source yet): the session stays open
      const m = await c.step("session:complete", { session_id: id, frequency_hz: Math.round(mhz * 1e6),
        duration_seconds: 2 }, "session:completed");
      assert.strictEqual(m.data.code, "bad_state", JSON.stringify(m));
    }
    if (i % 2) c.ws.terminate(); else await c.close();
  }
  // a normal session
  const A = await client(url, "A").open;
  const st = await A.step("session:start", { session_name: "after " + n, frequency_mhz: mhz,
    duration_seconds: 2 }, "session:started");
  assert.strictEqual(st.event, "session:started", JSON.stringify(st));
  const id = st.data.session_id;
  const fin = A.next(isFinal(id), "final", 60000);
  assert.strictEqual((await A.step("session:assign_source", { session_id: id, source_id: "unknown" },
    "session:source_assigned")).event, "session:source_assigned");
  const m = await A.step("session:complete", { session_id: id, frequency_hz: Math.round(mhz * 1e6),
    duration_seconds: 2 }, "session:completed");
  assert.strictEqual(m.event, "session:completed", JSON.stringify(m));
  assert.strictEqual(m.data.queue_position, 0);
  const f = await fin;
  assert.strictEqual(f.data.status, "completed", JSON.stringify(f.data));
  // the oldest ones made room
  assert(abandonedIds.has(ids[0]), "the first session was not ended as abandoned");
  console.log(JSON.stringify({ ok: true, abandoned, sessions: ids.length, session_id: id,
    first: ids[0], last: ids[ids.length - 1] }));
  A.ws.close(); W.ws.close();
})().catch((e) => { console.error("FAIL:", e.stack || e); process.exit(1); });
