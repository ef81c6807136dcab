// schedule.js -- schedule:add|list|cancel over the WebSocket API with real
// clients (npm "ws"): A adds a schedule 12 s ahead and another it cancels;
// the list says both (active, cancelled); B, another connection that asked
// nothing, sees the scheduler's schedule:run (starting) for the first and
// its session run to completed. Bad requests get the API's error codes.
// Prints {added, cancelled, run, session} as JSON.
// Usage: node schedule.js ws://127.0.0.1:PORT/ws FREQ_MHZ
"use strict";
const assert = require("assert");
const { client, isFinal } = require("./lib.js");

const [url, mhz] = [process.argv[2], +process.argv[3]];

(async () => {
  const A = await client(url, "A").open, B = await client(url, "B").open;
  // the CLI's checks, with the API's codes
  let r = await A.step("schedule:add", { name: "x", frequency_mhz: mhz, duration_seconds: 2,
    start_at: "+2s" }, "schedule:added");
  assert.deepStrictEqual([r.event, r.data.code, r.data.field], ["error", "out_of_range", "start_at"]);
  r = await A.step("schedule:add", { name: "x", frequency_mhz: mhz, duration_seconds: 2,
    start_at: "+60s", source: "nobody" }, "schedule:added");
  assert.deepStrictEqual([r.data.code, r.data.field], ["not_found", "source"]);
  r = await A.step("schedule:add", { name: "x", frequency_mhz: mhz, duration_seconds: 2 },
    "schedule:added");
  assert.deepStrictEqual([r.data.code, r.data.field], ["missing_field", "start_at"]);

  const run = B.next((m) => m.event === "schedule:run", "schedule:run", 40000);
  r = await A.step("schedule:add", { name: "api-{n}", frequency_mhz: mhz, duration_seconds: 2,
    start_at: "+12s", every: "1h", count: 2, group_id: "api:1" }, "schedule:added");
  assert.strictEqual(r.event, "schedule:added", JSON.stringify(r));
  const added = r.data.schedule;
  assert.strictEqual(added.state, "active");
  assert.strictEqual(added.every_s, 3600);
  r = await A.step("schedule:add", { name: "never", frequency_mhz: mhz, duration_seconds: 2,
    start_at: "+14s" }, "schedule:added");
  const never = r.data.schedule.id;
  r = await A.step("schedule:cancel", { schedule_id: never }, "schedule:cancelled");
  assert.strictEqual(r.data.schedule_id, never);
  r = await A.step("schedule:cancel", { schedule_id: "00000000-0000-4000-8000-000000000000" },
    "schedule:cancelled");
  assert.deepStrictEqual([r.event, r.data.code], ["error", "not_found"]);
  r = await B.step("schedule:list", {}, "schedule:list");
  const st = Object.fromEntries(r.data.schedules.map((s) => [s.id, s.state]));
  assert.deepStrictEqual(st, { [added.id]: "active", [never]: "cancelled" });

  const ran = (await run).data;
  assert.strictEqual(ran.schedule_id, added.id);
  assert.strictEqual(ran.status, "starting");
  assert.strictEqual(ran.name, "api-1");
  assert.strictEqual(ran.at, added.next);
  const fin = (await B.next(isFinal(ran.session_id), "the session's end", 40000)).data;
  // no schedule:run for the cancelled one reached anybody
  assert.ok(!A.all.concat(B.all).some((m) => m.event === "schedule:run" && m.data.schedule_id === never));
  console.log(JSON.stringify({ added, cancelled: never, run: ran, session: fin }));
  await A.close();
  await B.close();
})().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
