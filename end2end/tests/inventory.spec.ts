import { expect, expectLive, test } from "./fixtures";
import type { Translate } from "./i18n";
import type { APIRequestContext, Page } from "@playwright/test";

// The homepage: the inventory snapshot, with JavaScript on and off, on both databases. Stock
// is set up through the JSON API under a tag of the test's own, and the page is searched by
// that tag, so other tests' goods never show.

function tagFor(testInfo: { project: { name: string } }) {
  return `INV${Date.now().toString(36)}${Math.floor(Math.random() * 1e5)}`.toUpperCase() +
    testInfo.project.name.replace(/[^a-z]/g, "").slice(0, 3).toUpperCase();
}

function dayFromToday(days: number) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

// 55 plain items (totals 1..55), one Chinese-named item with a batch near expiry (total 100).
async function stockUp(request: APIRequestContext, tag: string) {
  expect((await request.post("/locations", { data: { code: `${tag}-D`, kind: "receiving" } })).status()).toBe(201);
  const lines = [];
  for (let n = 1; n <= 55; n++) {
    const sku = `${tag}-${String(n).padStart(2, "0")}`;
    expect((await request.post("/items", { data: { sku, name: `Plain item ${n}` } })).status()).toBe(201);
    lines.push({ sku, location_code: `${tag}-D`, qty: n });
  }
  const tea = `${tag}-TEA`;
  expect((await request.post("/items", { data: { sku: tea, name: `乌龙茶 Oolong ${tag}`, spec: "250g" } })).status()).toBe(201);
  lines.push({ sku: tea, location_code: `${tag}-D`, qty: 100, batch_code: "SOON", expiry_date: dayFromToday(5) });
  const receipt = await request.post("/inbound/receive", { data: { ref: `PO-${tag}`, lines } });
  expect(receipt.status()).toBe(200);
}

const rows = (page: Page) => page.locator("table.snapshot tbody tr");

/// The pager's "first–last of total" with any numbers.
const anyRows = (t: Translate) =>
  new RegExp(
    "^" +
      t("common.rows", { first: "§", last: "§", total: "§" })
        .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
        .replaceAll("§", "[\\d,]+") +
      "$",
  );

async function search(page: Page, t: Translate, js: boolean, text: string) {
  const box = page.getByRole("searchbox", { name: t("inventory.search_label") });
  if (js) {
    // Typing alone is enough: the table follows without a full page load.
    await box.pressSequentially(text, { delay: 20 });
  } else {
    await box.fill(text);
    await page.getByRole("button", { name: t("inventory.search"), exact: true }).click();
  }
}

test("search narrows the table, paging and Back restore the view", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  const tag = tagFor(testInfo);
  await stockUp(request, tag);

  await page.goto("/");
  await expectLive(page, js);
  await expect(page.getByRole("heading", { level: 1, name: t("inventory.title") })).toBeVisible();
  await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1)).catch(() => {});

  await search(page, t, js, tag.toLowerCase());
  await expect(page).toHaveURL(new RegExp(`/\\?q=${tag.toLowerCase()}$`));
  await expect(page.locator(".list-total").getByText(t("common.rows", { first: 1, last: 50, total: 56 }))).toBeVisible();
  await expect(rows(page)).toHaveCount(50);
  // Largest total first: the tea (100), then 55, 54, …
  await expect(rows(page).first()).toContainText(`${tag}-TEA`);
  await expect(rows(page).first()).toContainText("乌龙茶");
  await expect(rows(page).nth(1)).toContainText(`${tag}-55`);
  if (js) {
    const marker = await page.evaluate(() => (window as unknown as { marker?: number }).marker);
    expect(marker, "searching as you type does not reload the page").toBe(1);
  }

  await page.getByRole("link", { name: t("common.next") }).click();
  await expect(page).toHaveURL(new RegExp(`[?&]page=2`));
  await expect(page.locator(".list-total").getByText(t("common.rows", { first: 51, last: 56, total: 56 }))).toBeVisible();
  await expect(rows(page)).toHaveCount(6);
  await expect(rows(page).last()).toContainText(`${tag}-01`);

  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`/\\?q=${tag.toLowerCase()}$`));
  await expect(page.locator(".list-total").getByText(t("common.rows", { first: 1, last: 50, total: 56 }))).toBeVisible();
  await expect(rows(page).nth(1)).toContainText(`${tag}-55`);
  await page.goForward();
  await expect(page.locator(".list-total").getByText(t("common.rows", { first: 51, last: 56, total: 56 }))).toBeVisible();

  // A Chinese name substring finds the one item; a link to that view restores it.
  await page.goto(`/?q=${encodeURIComponent(`乌龙茶 Oolong ${tag}`)}`);
  await expectLive(page, js);
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page)).toContainText("250g");
  await expect(rows(page)).toContainText("100");
  await expect(page.getByRole("searchbox", { name: t("inventory.search_label") })).toHaveValue(`乌龙茶 Oolong ${tag}`);

  // No match says so.
  await page.goto(`/?q=${tag}-nothing`);
  await expect(page.getByText(t("inventory.no_match", { q: `${tag}-nothing` }))).toBeVisible();
});

test("a batch expiring within NEAR_EXPIRY_DAYS shows a near-expiry badge", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  const tag = tagFor(testInfo);
  await stockUp(request, tag);
  await page.goto(`/?q=${tag}`);
  await expectLive(page, js);
  const tea = rows(page).filter({ hasText: `${tag}-TEA` });
  await expect(tea).toContainText(dayFromToday(5));
  await expect(tea.locator(".badge")).toHaveText(t("inventory.badge.near_expiry"));
  // The top location and its quantity, and no badge where no batch expires.
  await expect(tea).toContainText(`${tag}-D 100`);
  const plain = rows(page).filter({ hasText: `${tag}-55` });
  await expect(plain.locator(".badge")).toHaveCount(0);
  await expect(plain).toContainText("—");
});

test("Back after a search returns to the whole list", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  const tag = tagFor(testInfo);
  await stockUp(request, tag);
  await page.goto("/");
  await expectLive(page, js);
  const box = page.getByRole("searchbox", { name: t("inventory.search_label") });
  await search(page, t, js, `${tag}-5`);
  await expect(page).toHaveURL(new RegExp(`/\\?q=${tag}-5$`, "i"));
  // -50 … -55: six rows.
  await expect(rows(page)).toHaveCount(6);
  if (js) {
    // Refining the search replaces its history entry instead of adding one per keystroke.
    await box.press("Backspace");
    await box.press("Backspace");
    await expect(page).toHaveURL(new RegExp(`/\\?q=${tag}$`, "i"));
    await expect(rows(page)).toHaveCount(50);
  }
  await page.goBack();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator(".list-total").getByText(anyRows(t))).toBeVisible();
  if (js) await expect(box).toHaveValue("");
});

test("letters typed before the page comes alive are searched for", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  test.skip(!js, "without JavaScript the page never comes alive; the Search button serves");
  const tag = tagFor(testInfo);
  await stockUp(request, tag);
  // Hold the WASM bundle back until the clerk has typed, as on a slow handheld connection.
  let release = () => {};
  const typed = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/*.wasm", async (route) => {
    await typed;
    await route.continue();
  });
  await page.goto("/");
  const box = page.getByRole("searchbox", { name: t("inventory.search_label") });
  await box.pressSequentially(`${tag}-5`);
  release();
  await expectLive(page, js);
  await expect(page).toHaveURL(new RegExp(`/\\?q=${tag}-5$`, "i"));
  await expect(rows(page)).toHaveCount(6);
  await expect(box).toHaveValue(`${tag}-5`);
});

test("search as you type keeps one request in flight and shows only the final answer", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  test.skip(!js, "without JavaScript a search is one full page load");
  const tag = tagFor(testInfo);
  expect((await request.post("/locations", { data: { code: `${tag}-D`, kind: "receiving" } })).status()).toBe(201);
  // Two items that `绿` (green) finds, one that `绿茶` (green tea) finds; skus alike up to `SKU-000`.
  const items = [
    { sku: `SKU-0004-${tag}`, name: `${tag} 绿豆 Mung beans` },
    { sku: `SKU-0005-${tag}`, name: `${tag} 绿茶 Green tea` },
  ];
  for (const item of items) {
    expect((await request.post("/items", { data: item })).status()).toBe(201);
  }
  const receipt = await request.post("/inbound/receive", {
    data: { ref: `PO-${tag}`, lines: items.map(({ sku }) => ({ sku, location_code: `${tag}-D`, qty: 5 })) },
  });
  expect(receipt.status()).toBe(200);

  await page.goto("/");
  await expectLive(page, js);
  // A slow link: every search waits until the test lets it through, and the test counts how
  // many are in flight at once.
  const held: Array<() => void> = [];
  let inFlight = 0;
  let mostInFlight = 0;
  let sent = 0;
  await page.route("**/inventory_snapshot*", async (route) => {
    sent += 1;
    inFlight += 1;
    mostInFlight = Math.max(mostInFlight, inFlight);
    await new Promise<void>((resolve) => held.push(resolve));
    await route.continue();
  });
  page.on("requestfinished", (finished) => {
    if (finished.url().includes("inventory_snapshot")) inFlight -= 1;
  });
  page.on("requestfailed", (failed) => {
    if (failed.url().includes("inventory_snapshot")) inFlight -= 1;
  });
  // Every table the page shows from now on: its skus.
  await page.evaluate(() => {
    const seen: string[][] = [];
    (window as unknown as { seen: string[][] }).seen = seen;
    new MutationObserver(() => {
      const skus = [...document.querySelectorAll("table.snapshot tbody tr td:first-child")].map((td) => td.textContent ?? "");
      if (seen.length === 0 || seen[seen.length - 1].join() !== skus.join()) seen.push(skus);
    }).observe(document.querySelector("main") ?? document.body, { childList: true, subtree: true, characterData: true });
  });
  const box = page.getByRole("searchbox", { name: t("inventory.search_label") });
  const seen = () => page.evaluate(() => (window as unknown as { seen: string[][] }).seen);

  async function typeOver(first: string, rest: string, finalSkus: string[]) {
    const before = sent;
    // Typing over the whole box (a scanner or a clerk starting afresh), faster than the pause
    // the search waits for.
    await box.selectText();
    await box.pressSequentially(first, { delay: 15 });
    // The first search leaves (and hangs on the slow link) ...
    await expect.poll(() => sent).toBe(before + 1);
    // ... the clerk types on, and pauses: that search waits for the first answer.
    await box.pressSequentially(rest, { delay: 15 });
    await page.waitForTimeout(600);
    expect(sent, "no second request while one is in flight").toBe(before + 1);
    const shownBefore = (await seen()).length;
    held.shift()!();
    // The first answer comes back and is dropped; the latest search leaves.
    await expect.poll(() => sent).toBe(before + 2);
    held.shift()!();
    await expect(rows(page)).toHaveCount(finalSkus.length);
    for (const [n, sku] of finalSkus.entries()) await expect(rows(page).nth(n)).toContainText(sku);
    const shown = (await seen()).slice(shownBefore);
    expect(shown, "only the final answer is ever shown").toEqual([finalSkus]);
  }

  await typeOver(`${tag} 绿`, "茶", [`SKU-0005-${tag}`]);
  await expect(page).toHaveURL(new RegExp(`\\?q=${encodeURIComponent(`${tag} 绿茶`).replaceAll("%20", "(\\+|%20)")}$`, "i"));
  await typeOver("SKU-000", `4-${tag}`, [`SKU-0004-${tag}`]);
  expect(mostInFlight, "one search in flight at a time").toBe(1);
});
