// Scratch: screenshots of every page in Chinese at 360 px (not part of the test suite).
import { chromium } from "@playwright/test";
const base = process.env.BASE ?? "http://127.0.0.1:3300";
const lang = process.env.SHOT_LANG ?? "zh-CN";
const width = Number(process.env.WIDTH ?? 360);
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
const context = await browser.newContext({ locale: lang, viewport: { width, height: 800 }, javaScriptEnabled: process.env.NOJS ? false : true });
const page = await context.newPage();
const paths = (process.env.PATHS ?? "/,/inbound,/putaway,/outbound,/stock,/ledger,/items,/locations,/nope").split(",");
for (const path of paths) {
  await page.goto(base + path);
  await page.waitForTimeout(1500);
  const name = `${lang}-${width}-${path.replace(/[^a-z0-9]/gi, "_") || "home"}.png`;
  await page.screenshot({ path: `/tmp/shots/${name}`, fullPage: false });
  console.log(name);
}
await browser.close();
