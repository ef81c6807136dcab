// page.js -- the built-in web page in a real browser: Debian's chromium
// driven by playwright-core (never a downloaded browser) through a full
// 5-second session against the simulator, asserting what the page shows;
// the page is reloaded after step 1 (it resumes and may still act: it kept
// the session's token) and mid-acquisition (it resumes); a page in another
// browser profile sees the session but is refused (forbidden) when it acts
// on it. Screenshots go to
// tests/artifacts/. Usage: node page.js http://127.0.0.1:PORT/ STATIONS FREQ_MHZ OUTDIR
"use strict";
const { chromium } = require("playwright-core");
const assert = require("assert");
const path = require("path");

const [url, nst, mhz, outdir] = [process.argv[2], +process.argv[3], process.argv[4], process.argv[5]];

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const errors = [];
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 1100 } });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    await page.goto(url);
    await page.waitForSelector("#conn.up", { timeout: 10000 });
    // the dropdown is filled from sources:list, the table from stations:list
    await page.waitForFunction((n) => document.querySelectorAll("#snr tbody tr").length === n, nst);
    assert.strictEqual(await page.$eval("#source option", (o) => o.textContent), "Unknown");
    // slider: 1-30 step 1, default 15
    assert.deepStrictEqual(await page.$eval("#duration", (e) => [e.min, e.max, e.step, e.value]), ["1", "30", "1", "15"]);

    // Step 1
    await page.fill("#name", "browser session");
    await page.fill("#freq", mhz);
    await page.$eval("#duration", (e) => { e.value = "5"; e.dispatchEvent(new Event("input")); });
    assert.strictEqual(await page.textContent("#duration-value"), "5");
    // the chunk length (issue 15): 1 s by default; the count follows it,
    // and a duration that is not whole chunks is said
    assert.strictEqual(await page.$eval("#chunk-ms", (e) => e.value), "1000");
    assert.strictEqual(await page.textContent("#duration-samples"), "5");
    await page.selectOption("#chunk-ms", "200");
    assert.strictEqual(await page.textContent("#duration-samples"), "25");
    await page.selectOption("#chunk-ms", "2000");
    assert.match(await page.textContent("#duration-samples"), /not a whole number of 2000-ms/);
    await page.selectOption("#chunk-ms", "1000");
    await page.fill("#notes", "recorded by chromium");
    await page.fill("#group", "tx-2026.12:a_1");
    await page.click("#start");
    await page.waitForFunction(() => document.getElementById("step2").className === "");
    assert.match(await page.textContent("#status"), /Recording/);
    const sid = (await page.textContent("#session-id")).split(" ")[0];
    assert.match(sid, /^[0-9a-f-]{36}$/);
    assert.strictEqual(await page.textContent("#chunk"), "Chunk 0/5");
    // the token is kept for this session, and never shown
    const tok = await page.evaluate((s) => JSON.parse(localStorage.getItem("heimdall-rec.session_tokens"))[s], sid);
    assert.match(tok, /^[0-9a-f]{32}$/);
    assert(!(await page.content()).includes(tok), "token shown in the page");

    // reload before step 2: the page resumes its session at step 2
    await page.reload();
    await page.waitForSelector("#conn.up", { timeout: 10000 });
    await page.waitForFunction((s) => document.getElementById("session-id").textContent.startsWith(s) &&
      document.getElementById("step2").className === "", sid, { timeout: 10000 });
    // the group id comes back with the session's settings
    assert.strictEqual(await page.inputValue("#group"), "tx-2026.12:a_1");

    // another browser (its own storage) watches it, but may not act on it
    const other = await browser.newContext();
    const op = await other.newPage();
    op.on("pageerror", (e) => errors.push(String(e)));
    await op.goto(url);
    await op.waitForSelector("#conn.up", { timeout: 10000 });
    await op.waitForFunction((s) => document.getElementById("session-id").textContent.startsWith(s) &&
      document.getElementById("step2").className === "", sid, { timeout: 10000 });
    await op.selectOption("#source", "unknown");
    await op.click("#assign");
    await op.waitForFunction(() => document.getElementById("error").textContent !== "");
    assert.match(await op.textContent("#error"), /\[forbidden: session_id\]/);
    assert.strictEqual(await op.evaluate(() => localStorage.getItem("heimdall-rec.session_tokens")), null);
    await other.close();

    // Step 2 (from the reloaded page: a new connection, with the token)
    await page.selectOption("#source", "unknown");
    await page.click("#assign");
    await page.waitForFunction(() => document.getElementById("step3").className === "");
    assert.match(await page.textContent("#status"), /Source assigned: Unknown/);

    // Step 3
    await page.click("#acquire");
    await page.waitForFunction(() => /^Chunk [2-5]\/5$/.test(document.getElementById("chunk").textContent),
      null, { timeout: 20000 });
    await page.screenshot({ path: path.join(outdir, "page-acquiring.png"), fullPage: true });

    // reload mid-acquisition: the page resumes the session
    await page.reload();
    await page.waitForSelector("#conn.up", { timeout: 10000 });
    await page.waitForFunction((s) => document.getElementById("session-id").textContent.startsWith(s), sid,
      { timeout: 10000 });

    await page.waitForFunction(() => /Session (complete|partial|failed)/.test(document.getElementById("status").textContent),
      null, { timeout: 30000 });
    const status = await page.textContent("#status");
    assert.match(status, new RegExp("Session complete: " + 5 * nst + " of " + 5 * nst + " chunks stored"));
    assert.strictEqual(await page.textContent("#chunk"), "Chunk 5/5");
    assert.strictEqual(await page.textContent("#measurements"), String(5 * nst));
    assert.strictEqual(await page.$eval("#bar > div", (e) => e.style.width), "100%");
    const rows = await page.$$eval("#snr tbody tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    assert.strictEqual(rows.length, nst);
    for (const r of rows) {
      assert.match(r[4], /^-?\d+\.\d$/, "SNR cell: " + JSON.stringify(r));
      assert.strictEqual(r[3], "5", "last chunk: " + JSON.stringify(r));
    }
    assert.strictEqual(await page.textContent("#error"), "");
    await page.screenshot({ path: path.join(outdir, "page-completed.png"), fullPage: true });

    // a bad request shows the server's error text and code
    await page.click("#reset");
    await page.fill("#name", "out of range");
    await page.fill("#freq", "145.5");
    await page.click("#start");
    await page.waitForFunction(() => document.getElementById("error").textContent !== "");
    assert.match(await page.textContent("#error"), /out_of_range: frequency_mhz/);
    // a group id that is not one: the server's error
    await page.fill("#freq", "145.5");
    await page.fill("#group", "two words");
    await page.click("#start");
    await page.waitForFunction(() => /group_id/.test(document.getElementById("error").textContent));
    assert.match(await page.textContent("#error"), /out_of_range: group_id/);
    assert.deepStrictEqual(errors, []);
    console.log(JSON.stringify({ ok: true, session_id: sid, status, rows }));
  } finally {
    await browser.close();
  }
})().catch((e) => { console.error("FAIL:", e.stack || e); process.exit(1); });
