// origin.js -- cross-site WebSocket hijacking in a real browser (Debian's
// chromium via playwright-core): the built-in page at PAGE_URL connects; a
// page served by this script from another local port (a foreign origin)
// tries to open WS_URL and must get nothing -- unless the server allows that
// origin, then it must work. Usage:
//   node origin.js PAGE_URL WS_URL FOREIGN_PORT refused|allowed
"use strict";
const { chromium } = require("playwright-core");
const assert = require("assert");
const http = require("http");

const [pageUrl, wsUrl, port, expect] = [process.argv[2], process.argv[3], +process.argv[4], process.argv[5]];

// The foreign page: opens the recorder's WebSocket, tries to start a
// session, and records everything it sees.
const foreign = `<!doctype html><meta charset="utf-8"><title>foreign</title><script>
window.result = { open: false, messages: [], error: false, close: null };
const ws = new WebSocket(${JSON.stringify(wsUrl)});
ws.onopen = () => { window.result.open = true;
  ws.send(JSON.stringify({ event: "ping", data: {} }));
  ws.send(JSON.stringify({ event: "session:start", data: { session_name: "hijack",
    frequency_mhz: 10, duration_seconds: 1 } })); };
ws.onmessage = (e) => window.result.messages.push(JSON.parse(e.data).event);
ws.onerror = () => { window.result.error = true; };
ws.onclose = (e) => { window.result.close = e.code; };
</script><p>foreign page</p>`;

(async () => {
  const srv = http.createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(foreign);
  });
  await new Promise((ok) => srv.listen(port, "127.0.0.1", ok));
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  const out = {};
  try {
    // the built-in page: its own origin, it connects and lists stations
    const own = await browser.newPage();
    await own.goto(pageUrl);
    await own.waitForSelector("#conn.up", { timeout: 10000 });
    await own.waitForFunction(() => document.querySelectorAll("#snr tbody tr").length > 0);
    out.own_page = "connected";

    const page = await browser.newPage();
    await page.goto("http://127.0.0.1:" + port + "/");
    if (expect === "refused") {
      await page.waitForFunction(() => window.result.close !== null, null, { timeout: 10000 });
      const r = await page.evaluate(() => window.result);
      assert.strictEqual(r.open, false, "foreign page opened the socket: " + JSON.stringify(r));
      assert.deepStrictEqual(r.messages, [], "foreign page got messages");
      assert.strictEqual(r.error, true);
      assert.strictEqual(r.close, 1006);
      out.foreign = r;
    } else {
      await page.waitForFunction(() => window.result.messages.includes("session:started"), null,
        { timeout: 10000 });
      const r = await page.evaluate(() => window.result);
      assert.strictEqual(r.open, true);
      assert(r.messages.includes("pong"));
      out.foreign = r;
    }
    console.log(JSON.stringify(out));
  } finally {
    await browser.close();
    srv.close();
  }
})().catch((e) => { console.error("FAIL:", e.stack || e); process.exit(1); });
