// listload.js -- sessions:list under load (npm "ws"): client L asks
// sessions:list RATE times a second (one request every 1000/RATE ms,
// whether or not the previous one was answered) for SECONDS, while client
// P sends a ping every 20 ms and times each pong. Prints one JSON object:
// ping and list round-trip percentiles (ms), counts, and "busy" replies.
// Usage: node listload.js ws://127.0.0.1:PORT/ws RATE SECONDS [LIMIT]
"use strict";
const WebSocket = require("ws");

const [url, rate, secs, limit] = [process.argv[2], +process.argv[3], +process.argv[4],
  process.argv[5] !== undefined ? +process.argv[5] : null];

function open() {
  return new Promise((res, rej) => {
    const ws = new WebSocket(url);
    ws.on("open", () => res(ws));
    ws.on("error", rej);
  });
}
const env = (event, data) => JSON.stringify({ event, data, timestamp: new Date().toISOString() });
const now = () => Number(process.hrtime.bigint()) / 1e6;
function pct(v, p) {
  if (!v.length) return null;
  const s = [...v].sort((a, b) => a - b);
  return +s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))].toFixed(2);
}

(async () => {
  const L = await open(), P = await open();
  const listT = [], pingT = [], listSent = [];
  let busy = 0, errors = 0, total = null, rows = null, pingAt = null;
  // The lists are only recognized by their head (and every 50th parsed):
  // parsing ~100 x 35 KB a second here would put this process's own
  // garbage collection into the pings' times, which measure the server.
  let nlist = 0, nsent = 0;
  L.on("message", (b) => {
    const head = b.subarray(0, 40).toString();
    if (head.startsWith('{"event":"sessions:list"')) {
      listT.push(now() - listSent.shift());
      if (nlist++ % 50 === 0) {
        const m = JSON.parse(b.toString());
        total = m.data.total;
        rows = m.data.sessions.length;
      }
      return;
    }
    const m = JSON.parse(b.toString());
    if (m.event === "error") {
      listSent.shift();
      if (m.data.code === "busy") busy++; else errors++;
    }
  });
  P.on("message", (b) => {
    const m = JSON.parse(b.toString());
    if (m.event === "pong" && pingAt !== null) { pingT.push(now() - pingAt); pingAt = null; }
  });
  const data = limit !== null ? { limit } : {};
  const t0 = now();
  const lt = setInterval(() => { nsent++; listSent.push(now()); L.send(env("sessions:list", data)); }, 1000 / rate);
  // One ping in flight at a time: a late pong is measured, not hidden.
  const pt = setInterval(() => { if (pingAt === null) { pingAt = now(); P.send(env("ping", {})); } }, 20);
  await new Promise((ok) => setTimeout(ok, secs * 1000));
  clearInterval(lt);
  clearInterval(pt);
  // let the last replies arrive
  await new Promise((ok) => setTimeout(ok, 500));
  const el = (now() - t0) / 1000;
  console.log(JSON.stringify({
    seconds: +el.toFixed(2), sent: nsent, unanswered: listSent.length, lists: listT.length, lists_per_s: +(listT.length / el).toFixed(1),
    list_busy: busy, list_errors: errors, total, rows,
    list_ms: { p50: pct(listT, 50), p99: pct(listT, 99), max: pct(listT, 100) },
    pings: pingT.length, ping_unanswered: pingAt !== null ? 1 : 0,
    ping_ms: { p50: pct(pingT, 50), p99: pct(pingT, 99), max: pct(pingT, 100) },
  }));
  L.close(); P.close();
})().catch((e) => { console.error("FAIL:", e.stack || e); process.exit(1); });
