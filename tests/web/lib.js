// lib.js -- a promise-based npm "ws" client for the e2e scripts: every
// message is kept (c.all), c.next(pred) waits for the next match, c.step()
// sends a request and waits for its reply (or its error).
"use strict";
const WebSocket = require("ws");

function client(url, name) {
  const ws = new WebSocket(url);
  const c = { ws, name, all: [], waiters: [] };
  ws.on("message", (buf) => {
    const m = JSON.parse(buf.toString());
    c.all.push(m);
    c.waiters = c.waiters.filter((w) => !w(m));
  });
  c.open = new Promise((res, rej) => { ws.on("open", () => res(c)); ws.on("error", rej); });
  c.closed = new Promise((res) => ws.on("close", res));
  c.send = (event, data) => ws.send(JSON.stringify({ event, data,
    timestamp: new Date().toISOString() }));
  // The first message from now on matching pred.
  c.next = (pred, what, ms = 30000) => new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(name + ": timed out waiting for " + what)), ms);
    c.waiters.push((m) => { if (pred(m)) { clearTimeout(t); res(m); return true; } return false; });
  });
  // Send event and wait for reply (an event name) or a session:error /
  // error naming that event.
  c.step = (event, data, reply, ms) => {
    const p = c.next((m) => m.event === reply || ((m.event === "session:error" ||
      m.event === "error") && m.data && m.data.event === event), event + " -> " + reply, ms);
    c.send(event, data);
    return p;
  };
  c.close = () => { ws.close(); return c.closed; };
  return c;
}

// Messages of one session (session_id, or a measurement row's).
const of = (c, id, event) => c.all.filter((m) => (!event || m.event === event) &&
  m.data && (m.data.session_id === id || m.data.recording_session_id === id));

const isFinal = (id) => (m) => m.event === "session:status_update" && m.data.session_id === id &&
  (m.data.status === "completed" || m.data.status === "failed");

module.exports = { client, of, isFinal };
