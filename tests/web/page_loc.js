// page_loc.js -- the web page's localization panel in Debian's chromium
// (playwright-core).
//
//   node page_loc.js mock URL OUTDIR
//     The page from the real server, its WebSocket answered by this script
//     (page.routeWebSocket): synthetic stations (the original network's
//     positions), sources, a session, then session:tdoa and session:fix
//     events -- another session's fix, a fix, a no-fix, fields missing or
//     of the wrong type, markup in a reason, the session fix, a session fix
//     only in the final summary. Asserts the text and the SVG plots.
//   node page_loc.js live URL OUTDIR
//     A real session against `serve` and the simulator's localization
//     scenario (source "TX" assigned): waits for the session fix and prints
//     what the page shows as JSON (test_serve.py compares it with the
//     manifest).
// Screenshots go to OUTDIR.
"use strict";
const { chromium } = require("playwright-core");
const assert = require("assert");
const path = require("path");

const [mode, url, outdir] = process.argv.slice(2);

const SID = "5b0e4a3c-0000-4000-8000-0000000000aa";
const STATIONS = [
  ["Aquila di Giaveno", 45.02, 7.29], ["Montanaro", 45.234, 7.857], ["Torino", 45.044, 7.672],
  ["Coazze", 45.03, 7.27], ["Passo del Giovi", 44.561, 8.956], ["Genova", 44.395, 8.956],
  ["Milano - Baggio", 45.478, 9.123],
].map((s, i) => ({ websdr: i + 1, name: s[0], type: "kiwisdr", url: "ws://127.0.0.1:1", latitude: s[1],
  longitude: s[2], frequency_min_hz: 0, frequency_max_hz: 30000000 }));

function env(event, data) { return JSON.stringify({ event, data, timestamp: new Date().toISOString() }); }

const FIX0 = { session_id: SID, chunk_index: 0, ok: true, latitude: 45.049993, longitude: 8.199934,
  ellipse: { semi_major_m: 9.51, semi_minor_m: 2.62, orientation_deg: 29.4 }, cep50_m: 7.04, cep95_m: 17.2,
  receivers: [1, 2, 3, 4, 5, 6], pairs_used: 12, pairs_rejected: 0, error_m: 6.04,
  residuals: [{ websdr: 5, station: "Passo del Giovi", residual_us: 0.031 }],
  worst: { websdr: 5, station: "Passo del Giovi", residual_us: 0.031 } };

async function dl(page, id) {
  return page.$$eval("#" + id + " dt", (dts) => dts.map((dt) => [dt.textContent, dt.nextElementSibling.textContent,
    dt.nextElementSibling.className]));
}
function row(rows, label) {
  const r = rows.find((x) => x[0] === label);
  assert(r, "no row " + label + " in " + JSON.stringify(rows));
  return r;
}

async function mock(browser) {
  const errors = [];
  const page = await browser.newPage({ viewport: { width: 900, height: 1400 } });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  let sock = null;
  const subs = [];
  await page.routeWebSocket(/\/ws/, (ws) => {
    sock = ws;
    ws.onMessage((msg) => {
      const m = JSON.parse(msg);
      const d = m.data || {};
      switch (m.event) {
      case "subscribe": subs.push(...(d.channels || [])); ws.send(env("subscribed", { channels: d.channels })); break;
      case "sources:list": ws.send(env("sources:list", { sources: [{ id: "u", name: "Unknown" },
        { id: "tx-1", name: "TX", frequency_hz: 1e7, latitude: 45.05, longitude: 8.2 }] })); break;
      case "stations:list": ws.send(env("stations:list", { stations: STATIONS })); break;
      case "session:start": ws.send(env("session:started", { session_id: SID, session_name: d.session_name,
        status: "recording", frequency_mhz: d.frequency_mhz, duration_seconds: d.duration_seconds,
        session_token: "0123456789abcdef0123456789abcdef" })); break;
      case "session:assign_source": ws.send(env("session:source_assigned", { session_id: SID, source_id: d.source_id,
        source_name: "TX", status: "source_assigned" })); break;
      case "session:complete": ws.send(env("session:completed", { session_id: SID, task_id: "t", status: "in_progress",
        chunks: 5, queue_position: 0 })); break;
      default: break;
      }
    });
  });
  await page.goto(url);
  await page.waitForFunction(() => document.querySelectorAll("#snr tbody tr").length === 7);
  assert(subs.includes("session:tdoa"), "the page does not subscribe to session:tdoa: " + subs);
  // before any session: the panel waits, the map shows the receivers
  assert.deepStrictEqual(await dl(page, "loc-latest"), [["Fix", "waiting for the first chunk", ""]]);
  assert.strictEqual(await page.$$eval("#loc-map circle.rx", (c) => c.length), 7);

  // a fix for nobody's session yet is ignored
  sock.send(env("session:fix", Object.assign({}, FIX0, { session_id: "other" })));

  await page.fill("#name", "loc page");
  await page.fill("#freq", "10");
  await page.click("#start");
  await page.waitForFunction(() => document.getElementById("step2").className === "");
  await page.selectOption("#source", "tx-1");
  await page.click("#assign");
  await page.waitForFunction(() => document.getElementById("step3").className === "");
  await page.click("#acquire");
  await page.waitForFunction(() => /Acquiring/.test(document.getElementById("status").textContent));

  sock.send(env("session:tdoa", { session_id: SID, chunk_index: 0, pairs: [{}, {}, {}],
    excluded: [{ websdr: 7, station: "Milano - Baggio", reason: "no GPS fix" }] }));
  sock.send(env("session:fix", Object.assign({}, FIX0, { session_id: "other-session", latitude: 10, longitude: 10 })));
  sock.send(env("session:fix", FIX0));
  await page.waitForFunction(() => /chunk 1/.test(document.getElementById("loc-latest-chunk").textContent));
  let rows = await dl(page, "loc-latest");
  assert.strictEqual(row(rows, "Position")[1], "45.04999, 8.19993");
  assert.strictEqual(row(rows, "Ellipse (1\u03c3)")[1], "9.5 m \u00d7 2.6 m, 29\u00b0 from north");
  assert.strictEqual(row(rows, "CEP50 / CEP95")[1], "7.0 m / 17 m");
  assert.strictEqual(row(rows, "Error")[1], "6.0 m from TX");
  assert.strictEqual(row(rows, "Worst residual")[1], "Passo del Giovi: +0.03 \u00b5s");
  assert.strictEqual(row(rows, "Receivers")[1], "6 (12 pairs)");
  assert.strictEqual(await page.textContent("#loc-excluded"), "Excluded from TDoA (chunk 1): Milano - Baggio (no GPS fix)");
  // the map: 7 receivers (the unused one grey, the worst ringed), the
  // source, the fix and its ellipse oriented clockwise from north
  const map = await page.$eval("#loc-map", (s) => ({
    rx: s.querySelectorAll("circle.rx").length, unused: [...s.querySelectorAll("circle.rx.unused")].length,
    worst: s.querySelectorAll("circle.rx.worst").length, src: s.querySelectorAll("path.src").length,
    fix: s.querySelectorAll("path.fix").length, ell: s.querySelectorAll("ellipse.ell").length,
    labels: [...s.querySelectorAll("text")].map((t) => t.textContent) }));
  assert.deepStrictEqual([map.rx, map.unused, map.worst, map.src, map.fix, map.ell], [7, 1, 1, 1, 1, 1], JSON.stringify(map));
  for (const s of STATIONS) assert(map.labels.includes(s.name), s.name);
  // the fix 6 m from the source: on the network's scale one name there
  assert(map.labels.includes("TX") && !map.labels.includes("fix"), JSON.stringify(map.labels));
  assert.match(await page.$eval("#loc-zoom", (s) => s.textContent), /fix.*TX|TX.*fix/);
  // around the fix: the 1-sigma ellipse large enough to see, centred
  const zoom = await page.$eval("#loc-zoom", (s) => {
    const e = s.querySelector("ellipse.ell"), c = s.querySelector("circle.cep");
    return { rx: +e.getAttribute("rx"), ry: +e.getAttribute("ry"), cx: +e.getAttribute("cx"), cy: +e.getAttribute("cy"),
      tr: e.getAttribute("transform"), cep: c ? +c.getAttribute("r") : 0, src: s.querySelectorAll("path.src").length };
  });
  assert(zoom.rx > 20 && zoom.ry > 4 && zoom.rx / zoom.ry > 3 && zoom.rx / zoom.ry < 4.2, JSON.stringify(zoom));
  assert(Math.abs(zoom.cx - 200) < 1 && Math.abs(zoom.cy - 150) < 1, JSON.stringify(zoom));
  assert.match(zoom.tr, /^rotate\(-60\.6 /);
  assert(zoom.cep > zoom.rx, JSON.stringify(zoom));
  assert.strictEqual(zoom.src, 1, "the source (6 m away) is in the zoom");
  await page.screenshot({ path: path.join(outdir, "page-loc-fix.png"), fullPage: true });

  // no fix: the reason (as text: markup in it stays text)
  sock.send(env("session:tdoa", { session_id: SID, chunk_index: 1, pairs: [], excluded: [
    { websdr: 4, station: "Coazze", reason: "SNR 2.1 dB < 6 dB" }, { websdr: 5, reason: "no GPS fix" }, "junk"] }));
  sock.send(env("session:fix", { session_id: SID, chunk_index: 1, ok: false,
    reason: "2 usable receivers, 3 are needed <img src=x onerror=alert(1)>", latitude: null, longitude: null,
    receivers: [], pairs_used: 1, pairs_rejected: 0 }));
  await page.waitForFunction(() => /chunk 2/.test(document.getElementById("loc-latest-chunk").textContent));
  rows = await dl(page, "loc-latest");
  assert.deepStrictEqual(rows[0], ["No fix", "2 usable receivers, 3 are needed <img src=x onerror=alert(1)>", "nofix"]);
  assert(!rows.some((r) => r[0] === "Position" || r[0] === "Ellipse (1\u03c3)"), JSON.stringify(rows));
  assert.strictEqual(await page.$$eval("img", (i) => i.length), 0);
  assert.strictEqual(await page.textContent("#loc-excluded"),
    "Excluded from TDoA (chunk 2): Coazze (SNR 2.1 dB < 6 dB), Passo del Giovi (no GPS fix)");
  assert.strictEqual(await page.$$eval("#loc-map path.fix", (p) => p.length), 0, "a fix drawn without a position");
  assert.match(await page.textContent("#loc-zoom"), /no positions yet/);
  // an older chunk's TDoA does not replace a newer one's
  sock.send(env("session:tdoa", { session_id: SID, chunk_index: 0, pairs: [], excluded: [] }));
  // fields missing or of the wrong type: shown as absent
  sock.send(env("session:fix", { session_id: SID, chunk_index: 2, ok: true, latitude: "45", longitude: 8,
    ellipse: { semi_major_m: "x" }, cep50_m: null, receivers: 3, worst: { station: "X" } }));
  await page.waitForFunction(() => /chunk 3/.test(document.getElementById("loc-latest-chunk").textContent));
  rows = await dl(page, "loc-latest");
  assert.deepStrictEqual(rows, [["Position", "not given", "nofix"]]);
  assert.match(await page.textContent("#loc-excluded"), /chunk 2/);

  // the session fix
  assert.deepStrictEqual(await dl(page, "loc-final"), [["Fix", "when the session ends", ""]]);
  sock.send(env("session:fix", Object.assign({}, FIX0, { chunk_index: undefined, final: true, latitude: 45.05001,
    longitude: 8.20002, error_m: 1.9, note: "exact fit", chunks_used: 9, chunks_rejected: 1 })));
  await page.waitForFunction(() => /Position/.test(document.getElementById("loc-final").textContent));
  rows = await dl(page, "loc-final");
  assert.strictEqual(row(rows, "Position")[1], "45.05001, 8.20002");
  assert.strictEqual(row(rows, "Error")[1], "1.9 m from TX");
  assert.strictEqual(row(rows, "Note")[1], "exact fit");
  assert.strictEqual(row(rows, "Receivers")[1], "6 (9 chunk fixes, 1 rejected; 12 pairs)");
  assert.match(await page.$eval("#loc-map", (s) => s.textContent), /session fix/);
  sock.send(env("session:status_update", { session_id: SID, status: "completed", summary: { chunks_stored: 35,
    chunks_expected: 35 } }));
  await page.waitForFunction(() => /Session complete/.test(document.getElementById("status").textContent));
  assert.strictEqual(row(await dl(page, "loc-final"), "Position")[1], "45.05001, 8.20002");
  await page.screenshot({ path: path.join(outdir, "page-loc-final.png"), fullPage: true });

  // a new session starts clean; its session fix only in the summary (the
  // manifest's flat row) is shown too
  await page.click("#reset");
  assert.deepStrictEqual(await dl(page, "loc-latest"), [["Fix", "waiting for the first chunk", ""]]);
  assert.strictEqual(await page.textContent("#loc-excluded"), "");
  await page.fill("#name", "loc page 2");
  await page.click("#start");
  await page.waitForFunction(() => document.getElementById("step2").className === "");
  await page.selectOption("#source", "tx-1");
  await page.click("#assign");
  await page.waitForFunction(() => document.getElementById("step3").className === "");
  await page.click("#acquire");
  await page.waitForFunction(() => /Acquiring/.test(document.getElementById("status").textContent));
  sock.send(env("session:status_update", { session_id: SID, status: "completed", summary: { chunks_stored: 35,
    chunks_expected: 35, fix: { session_id: SID, chunk_index: null, final: true, ok: true, reason: null,
      latitude: 45.0501, longitude: 8.2001, semi_major_m: 1200, semi_minor_m: 800, orientation_deg: 90,
      cep50_m: 1100, cep95_m: 2300, receivers: [1, 2, 3], pairs_used: 3, error_m: 15000, worst_websdr: 2,
      worst_residual_us: -20.5 } } }));
  await page.waitForFunction(() => /Position/.test(document.getElementById("loc-final").textContent));
  rows = await dl(page, "loc-final");
  assert.strictEqual(row(rows, "Ellipse (1\u03c3)")[1], "1.20 km \u00d7 800 m, 90\u00b0 from north");
  assert.strictEqual(row(rows, "CEP50 / CEP95")[1], "1.10 km / 2.30 km");
  assert.strictEqual(row(rows, "Error")[1], "15.0 km from TX");
  assert.strictEqual(row(rows, "Worst residual")[1], "Montanaro: -20.50 \u00b5s");
  assert.strictEqual(row(rows, "Receivers")[1], "3 (3 pairs)");
  assert.match(await page.$eval("#loc-zoom ellipse.ell", (e) => e.getAttribute("transform")), /^rotate\(0 /);
  assert.deepStrictEqual(errors, []);
  console.log(JSON.stringify({ ok: true }));
}

async function live(browser) {
  const errors = [];
  const page = await browser.newPage({ viewport: { width: 900, height: 1400 } });
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector("#conn.up", { timeout: 10000 });
  await page.waitForFunction(() => [...document.querySelectorAll("#source option")].some((o) => o.textContent.startsWith("TX")));
  await page.fill("#name", "loc live");
  await page.fill("#freq", "10");
  await page.$eval("#duration", (e) => { e.value = "4"; e.dispatchEvent(new Event("input")); });
  await page.click("#start");
  await page.waitForFunction(() => document.getElementById("step2").className === "");
  const tx = await page.$$eval("#source option", (os) => os.find((o) => o.textContent.startsWith("TX")).value);
  await page.selectOption("#source", tx);
  await page.click("#assign");
  await page.waitForFunction(() => document.getElementById("step3").className === "");
  await page.click("#acquire");
  await page.waitForFunction(() => /chunk \d/.test(document.getElementById("loc-latest-chunk").textContent), null,
    { timeout: 30000 });
  const latest = await dl(page, "loc-latest");
  const excluded = await page.textContent("#loc-excluded");
  await page.screenshot({ path: path.join(outdir, "page-loc-live-acquiring.png"), fullPage: true });
  await page.waitForFunction(() => /Session (complete|partial|failed)/.test(document.getElementById("status").textContent), null,
    { timeout: 30000 });
  await page.waitForFunction(() => !/when the session ends/.test(document.getElementById("loc-final").textContent));
  const final = await dl(page, "loc-final");
  const map = await page.$eval("#loc-map", (s) => ({ rx: s.querySelectorAll("circle.rx").length,
    fix: s.querySelectorAll("path.fix").length, src: s.querySelectorAll("path.src").length,
    ell: s.querySelectorAll("ellipse.ell").length }));
  await page.screenshot({ path: path.join(outdir, "page-loc-live-final.png"), fullPage: true });
  const session = (await page.textContent("#session-id")).split(" ")[0];
  assert.deepStrictEqual(errors, []);
  console.log(JSON.stringify({ ok: true, session_id: session, latest, final, excluded, map }));
}

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  try {
    if (mode === "mock") await mock(browser);
    else if (mode === "live") await live(browser);
    else throw new Error("usage: node page_loc.js mock|live URL OUTDIR");
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error("FAIL:", e.stack || e); process.exit(1); });
