// `make bench`: how long a cold load of a page takes until it is interactive on a slow handheld,
// simulated by Chromium's DevTools CPU throttling (4× slower) — issue 16's "under 2 s".
//
// usage: DEPOT_BENCH_TOKEN=… node end2end/bench/cold-load.mjs http://127.0.0.1:PORT /outbound [runs]
// Prints one JSON line: {"path", "cpu_throttling", "runs_ms": [...], "median_ms", "bytes"}.
// Interactive = the app has hydrated (`body[data-hydrated]`, set by the first effect that runs):
// from then on a scan is handled by the page's own code. Each run is a new browser context with
// an empty cache (a cold load), over loopback (no network throttling).
import { chromium } from "@playwright/test";

const [base, path = "/outbound", runsArg = "5"] = process.argv.slice(2);
const token = process.env.DEPOT_BENCH_TOKEN;
if (!base || !token) {
  console.error("usage: DEPOT_BENCH_TOKEN=… node cold-load.mjs BASE [PATH] [RUNS]");
  process.exit(2);
}
const rate = 4;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const runs = [];
let bytes = 0;
try {
  for (let i = 0; i < Number(runsArg); i++) {
    const context = await browser.newContext({
      extraHTTPHeaders: { Authorization: `Bearer ${token}` },
      viewport: { width: 360, height: 740 },
    });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    await cdp.send("Emulation.setCPUThrottlingRate", { rate });
    let transferred = 0;
    cdp.on("Network.loadingFinished", (event) => (transferred += event.encodedDataLength));
    // The moment hydration marks the page, on the page's own clock (from navigation start).
    await page.addInitScript(() => {
      new MutationObserver((_, observer) => {
        if (document.body?.dataset.hydrated === "true") {
          window.__depotInteractive = performance.now();
          observer.disconnect();
        }
      }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated"] });
    });
    await page.goto(base + path, { waitUntil: "commit" });
    await page.waitForFunction(() => window.__depotInteractive !== undefined, null, { timeout: 60_000 });
    runs.push(Math.round(await page.evaluate(() => window.__depotInteractive)));
    bytes = transferred;
    await context.close();
  }
} finally {
  await browser.close();
}
const sorted = [...runs].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
console.log(JSON.stringify({ path, cpu_throttling: rate, runs_ms: runs, median_ms: median, bytes }));
