// probe.js -- a small external WebSocket client for the e2e tests (npm "ws").
// node probe.js URL [--header "K: V"] [--origin O] [--insecure]
//               [--send JSON]... [--until EVENT] [--until-final] [--timeout S]
// --until-final: stop at a session:status_update with status completed|failed.
// Prints one JSON object: {open, messages:[...], close, error}.
"use strict";
const WebSocket = require("ws");

const a = process.argv.slice(2);
const url = a.shift();
const headers = {}, sends = [];
let origin, insecure = false, until = null, untilFinal = false, timeout = 5;
while (a.length) {
  const k = a.shift();
  if (k === "--header") { const v = a.shift(); const i = v.indexOf(":"); headers[v.slice(0, i)] = v.slice(i + 1).trim(); }
  else if (k === "--origin") origin = a.shift();
  else if (k === "--insecure") insecure = true;
  else if (k === "--send") sends.push(a.shift());
  else if (k === "--until") until = a.shift();
  else if (k === "--until-final") untilFinal = true;
  else if (k === "--timeout") timeout = +a.shift();
  else { console.error("unknown option " + k); process.exit(64); }
}
const out = { open: false, messages: [], close: null, error: null };
const ws = new WebSocket(url, { headers, origin, rejectUnauthorized: !insecure });
const done = () => { console.log(JSON.stringify(out)); process.exit(0); };
const timer = setTimeout(() => { ws.terminate(); done(); }, timeout * 1000);
ws.on("open", () => { out.open = true; for (const s of sends) ws.send(s); });
ws.on("message", (b) => {
  const m = JSON.parse(b.toString());
  out.messages.push(m);
  if ((until && m.event === until) || (untilFinal && m.event === "session:status_update" &&
      (m.data.status === "completed" || m.data.status === "failed"))) { clearTimeout(timer); ws.close(); }
});
ws.on("error", (e) => { out.error = String(e.message || e); });
ws.on("close", (code) => { out.close = code; clearTimeout(timer); done(); });
