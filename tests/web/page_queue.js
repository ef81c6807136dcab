// page_queue.js -- the built-in page queued behind another client's
// acquisition (Debian's chromium via playwright-core, an npm "ws" client):
// the page shows "Queued: position 1", then acquires and completes when
// the other session ends. Usage: node page_queue.js http://127.0.0.1:PORT/ FREQ_MHZ
"use strict";
const { chromium } = require("playwright-core");
const assert = require("assert");
const { client, isFinal } = require("./lib");

const [url, mhz] = [process.argv[2], +process.argv[3]];
const wsurl = url.replace(/^http/, "ws") + "ws";

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const errors = [];
  let A = null;
  try {
    const page = await browser.newPage();
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForSelector("#conn.up", { timeout: 10000 });
    await page.fill("#name", "queued page");
    await page.fill("#freq", String(mhz));
    await page.$eval("#duration", (e) => { e.value = "2"; e.dispatchEvent(new Event("input")); });
    await page.click("#start");
    await page.waitForFunction(() => document.getElementById("step2").className === "");
    await page.click("#assign");
    await page.waitForFunction(() => document.getElementById("step3").className === "");
    // meanwhile another client acquires 4 s (the page has its own session
    // by now, so it does not adopt that one)
    A = await client(wsurl, "A").open;
    const a = (await A.step("session:start", { session_name: "first", frequency_mhz: mhz,
      duration_seconds: 4 }, "session:started")).data.session_id;
    await A.step("session:assign_source", { session_id: a, source_id: "unknown" }, "session:source_assigned");
    const finA = A.next(isFinal(a), "A final", 40000);
    assert.strictEqual((await A.step("session:complete", { session_id: a,
      frequency_hz: Math.round(mhz * 1e6), duration_seconds: 4 }, "session:completed")).data.queue_position, 0);
    await page.click("#acquire");
    await page.waitForFunction(() => /Queued: position 1/.test(document.getElementById("status").textContent),
      null, { timeout: 10000 });
    const fa = await finA;
    assert.strictEqual(fa.data.status, "completed");
    await page.waitForFunction(() => /Session (complete|partial|failed)/.test(document.getElementById("status").textContent),
      null, { timeout: 30000 });
    const status = await page.textContent("#status");
    assert.match(status, /Session complete:/);
    assert.strictEqual(await page.textContent("#chunk"), "Chunk 2/2");
    assert.deepStrictEqual(errors, []);
    console.log(JSON.stringify({ ok: true, status }));
  } finally {
    await browser.close();
    if (A) A.ws.close();
  }
})().catch((e) => { console.error("FAIL:", e.stack || e); process.exit(1); });
