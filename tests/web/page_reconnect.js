// page_reconnect.js -- the built-in page loses its server and reconnects
// with backoff once a new server listens on the same port. Driven with the
// e2e test over stdin/stdout: prints READY (connected), then DOWN (the page
// saw the loss); the test starts a new server and the page must come back.
// Usage: node page_reconnect.js http://127.0.0.1:PORT/
"use strict";
const { chromium } = require("playwright-core");
const assert = require("assert");
const fs = require("fs");

const say = (s) => fs.writeSync(1, s + "\n");

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  try {
    const page = await browser.newPage();
    await page.goto(process.argv[2]);
    await page.waitForSelector("#conn.up", { timeout: 10000 });
    say("READY");
    await page.waitForSelector("#conn:not(.up)", { timeout: 20000 });
    const down = await page.textContent("#conn");
    assert.match(down, /^disconnected \(retry in \d+ s\)$/);
    say("DOWN");
    const t0 = Date.now();
    await page.waitForSelector("#conn.up", { timeout: 40000 });
    const after = Date.now() - t0;
    // the new connection works end to end: a request and its error reply
    await page.waitForFunction(() => document.querySelectorAll("#source option").length >= 1);
    await page.fill("#name", "after reconnect");
    await page.fill("#freq", "145.5");
    await page.click("#start");
    await page.waitForFunction(() => document.getElementById("error").textContent !== "");
    assert.match(await page.textContent("#error"), /out_of_range/);
    say(JSON.stringify({ ok: true, down, reconnected_after_ms: after }));
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error("FAIL:", e.stack || e); process.exit(1); });
