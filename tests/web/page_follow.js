// page_follow.js -- the built-in page follows a session it did not start
// (issue 13: the console's with --listen, or another client's), in Debian's
// chromium via playwright-core. Opened mid-acquisition it shows the session
// as it is: acquiring (no "New Session"), the bar moving, the session's
// frequency and duration (not the form's 145.5 MHz default), the stations
// left out for the frequency and the source-frequency warning when there
// are; at the end "Session complete: N of N chunks stored" and a full bar;
// reloaded after the end, the last session (not "Session: none").
// Usage: node page_follow.js URL MHZ MODE OUTDIR [SOURCE]
//   MODE drive: this script's own ws client runs a 10 s session (SOURCE or
//               "unknown"); MODE watch: someone else (the console) runs it:
//               once the browser is up the script prints "ready" and opens
//               the page when a line comes on stdin.
// Prints {ok, session_id, status, excluded, warning} as JSON.
"use strict";
const { chromium } = require("playwright-core");
const assert = require("assert");
const path = require("path");
const { client, isFinal } = require("./lib");

const [url, mhz, mode, outdir, source] = [process.argv[2], +process.argv[3], process.argv[4],
  process.argv[5], process.argv[6] || "unknown"];
const wsurl = url.replace(/^http/, "ws") + "ws";
const DUR = 10;   // s: long enough for chromium to open mid-acquisition on a busy machine

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const errors = [];
  let A = null, sid = null, finA = null;
  try {
    // the browser first (its start is the slow part), then the session
    const page = await browser.newPage({ viewport: { width: 900, height: 1100 } });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    if (mode === "watch") {
      // the caller starts the session, then says "go" on stdin
      console.log("ready");
      await new Promise((res) => process.stdin.once("data", res));
      process.stdin.pause();
    }
    if (mode === "drive") {
      A = await client(wsurl, "A").open;
      sid = (await A.step("session:start", { session_name: "followed", frequency_mhz: mhz,
        duration_seconds: DUR }, "session:started")).data.session_id;
      await A.step("session:assign_source", { session_id: sid, source_id: source }, "session:source_assigned");
      finA = A.next(isFinal(sid), "A final", 60000);
      await A.step("session:complete", { session_id: sid, frequency_hz: Math.round(mhz * 1e6),
        duration_seconds: DUR }, "session:completed");
    }
    await page.goto(url);
    await page.waitForSelector("#conn.up", { timeout: 10000 });
    await page.waitForFunction(() => /^Acquiring/.test(document.getElementById("status").textContent),
      null, { timeout: 30000 }).catch(async (e) => {
      throw new Error(e.message + ": status " + JSON.stringify(await page.textContent("#status")));
    });
    const shown = (await page.textContent("#session-id")).split(" ")[0];
    if (sid) assert.strictEqual(shown, sid);
    sid = shown;
    // the session's own settings, not the form's defaults
    const mhzText = String(mhz) + " MHz";
    assert.strictEqual(await page.textContent("#sess-freq"), mhzText);
    assert.strictEqual(await page.$eval("#freq", (e) => e.value), String(mhz));
    assert.strictEqual(await page.textContent("#sess-dur"), DUR + " s");
    assert.strictEqual(await page.$eval("#duration", (e) => e.value), String(DUR));
    assert.strictEqual(await page.$eval("#step1", (e) => e.className), "off");
    // no "New Session" while it acquires
    assert.strictEqual(await page.$eval("#reset", (e) => e.hidden), true);
    // the bar and the counter move
    await page.waitForFunction((n) => parseFloat(document.querySelector("#bar > div").style.width) > 0 &&
      new RegExp("^Chunk [1-9]\\d*/" + n + "$").test(document.getElementById("chunk").textContent), DUR,
      { timeout: 20000 });
    const excluded = await page.textContent("#excluded");
    const warning = await page.textContent("#warning");
    await page.screenshot({ path: path.join(outdir, "page-follow-acquiring.png"), fullPage: true });

    await page.waitForFunction(() => /^Session (complete|partial|failed)/.test(document.getElementById("status").textContent),
      null, { timeout: 40000 });
    const status = await page.textContent("#status");
    assert.match(status, /^Session complete: (\d+) of \1 chunks stored$/);
    assert.strictEqual(await page.textContent("#chunk"), "Chunk " + DUR + "/" + DUR);
    // the bar is full: its style, and drawn so once the transition ran
    assert.strictEqual(await page.$eval("#bar > div", (e) => e.style.width), "100%");
    await page.waitForFunction(() => {
      const b = document.getElementById("bar");
      return b.firstElementChild.getBoundingClientRect().width >= b.getBoundingClientRect().width - 0.5;
    }, null, { timeout: 5000 });
    assert.strictEqual(await page.$eval("#bar", (e) => e.className), "done");
    assert.strictEqual(await page.$eval("#reset", (e) => e.hidden), false);
    await page.screenshot({ path: path.join(outdir, "page-follow-complete.png"), fullPage: true });
    if (finA) assert.strictEqual((await finA).data.status, "completed");

    // opened after the end: the last session, as it ended
    await page.reload();
    await page.waitForSelector("#conn.up", { timeout: 10000 });
    await page.waitForFunction((s) => document.getElementById("session-id").textContent.startsWith(s) &&
      /^Session complete/.test(document.getElementById("status").textContent), sid, { timeout: 10000 });
    assert.strictEqual(await page.textContent("#status"), status);
    assert.strictEqual(await page.textContent("#sess-freq"), mhzText);
    assert.strictEqual(await page.$eval("#bar > div", (e) => e.style.width), "100%");
    assert.strictEqual(await page.textContent("#excluded"), excluded);
    assert.strictEqual(await page.textContent("#warning"), warning);
    assert.strictEqual(await page.textContent("#error"), "");
    await page.screenshot({ path: path.join(outdir, "page-follow-last.png"), fullPage: true });
    assert.deepStrictEqual(errors, []);
    console.log(JSON.stringify({ ok: true, session_id: sid, status, excluded, warning }));
  } finally {
    await browser.close();
    if (A) A.ws.close();
  }
})().catch((e) => { console.error("FAIL:", e.stack || e); process.exit(1); });
