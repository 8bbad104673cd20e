import { expect, expectLive, signIn, test } from "./fixtures";
import type { Translate } from "./i18n";
import type { APIRequestContext, Page } from "@playwright/test";

// A blind cycle count on a 360 px handheld (SPEC §9), JavaScript on and off, both languages,
// both databases: start it from /counts, record lines by scanning, review the differences,
// post them; the stock then holds what was counted.

test.use({ viewport: { width: 360, height: 740 } });

function tagFor(testInfo: { project: { name: string } }) {
  const project = testInfo.project.name.split("-").map((part) => part[0]).join("");
  return `${project}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`.toUpperCase();
}

async function stocked(request: APIRequestContext, tag: string) {
  const sku = `CNT-${tag}`;
  const shelves = [`CA-${tag}`, `CB-${tag}`];
  expect((await request.post("/items", { data: { sku, name: `Count ${tag}` } })).status()).toBe(201);
  for (const code of shelves) {
    expect((await request.post("/locations", { data: { code, kind: "storage" } })).status()).toBe(201);
  }
  const receipt = await request.post("/inbound/receive", {
    data: {
      ref: `PO-${tag}`,
      lines: [
        { sku, location_code: shelves[0], qty: 8, batch_code: "L1", expiry_date: "2099-01-01" },
        { sku, location_code: shelves[1], qty: 5 },
      ],
    },
  });
  expect(receipt.status()).toBe(200);
  return { sku, shelves };
}

const lineField = (t: Translate, column: string, line: number) =>
  t("common.field_line", { label: t(`counts.col.${column}`), line });

async function fillLine(page: Page, t: Translate, n: number, location: string, sku: string, batch: string, qty: string) {
  await page.getByLabel(lineField(t, "location", n)).fill(location);
  await page.getByLabel(lineField(t, "sku", n)).fill(sku);
  await page.getByLabel(lineField(t, "batch", n)).fill(batch);
  await page.getByLabel(lineField(t, "counted", n)).fill(qty);
}

/// Records two lines as a scanner would (JavaScript) or by filling the form (without).
async function countLines(page: Page, t: Translate, js: boolean, sku: string, shelves: string[]) {
  if (js) {
    // A scanner: location, Enter, item, Enter, (no batch) Enter, quantity, Enter → recorded,
    // and the cursor back in a fresh line for the next (issue 31: Enter on the quantity
    // records, as the page says).
    const counted = page.locator("table.count-lines tbody tr [data-counted]");
    for (const [n, [location, batch, qty]] of [[shelves[0], "L1", "6"], [shelves[1], "", "5"]].entries()) {
      await expect(page.getByLabel(lineField(t, "location", 1))).toBeFocused();
      await expect(page.getByLabel(lineField(t, "location", 1))).toHaveValue("");
      await page.keyboard.type(location, { delay: 5 });
      await page.keyboard.press("Enter");
      await page.keyboard.type(sku, { delay: 5 });
      await page.keyboard.press("Enter");
      await page.keyboard.type(batch, { delay: 5 });
      await page.keyboard.press("Enter");
      await page.keyboard.type(qty, { delay: 5 });
      await page.keyboard.press("Enter");
      await expect(page.getByRole("status").filter({ hasText: t("counts.recorded", { count: 1 }) })).toBeVisible();
      await expect(counted.filter({ hasNotText: t("counts.not_counted") })).toHaveCount(n + 1);
    }
  } else {
    await fillLine(page, t, 1, shelves[0], sku, "L1", "6");
    await fillLine(page, t, 2, shelves[1], sku, "", "5");
    await page.getByRole("button", { name: t("counts.record"), exact: true }).click();
  }
}

test("a blind count is started, counted by scanning, reviewed and posted", async ({ page, browser, request, javaScriptEnabled: js, locale, t }, testInfo) => {
  test.setTimeout(90_000);
  const tag = tagFor(testInfo);
  const { sku, shelves } = await stocked(request, tag);
  // The counter is a clerk: a blind count never shows them what is expected.
  const clerkName = `clerk-${tag}`.toLowerCase();
  const created = await request.post("/api/create_user", {
    form: { username: clerkName, role: "clerk", password: "counting-2026" },
  });
  expect(created.status()).toBeLessThan(400);

  await page.goto("/counts");
  await expectLive(page, js);
  await page.getByLabel(t("counts.by")).selectOption("locations");
  await page.getByLabel(t("counts.values_label")).fill(shelves.join("\n"));
  await page.getByLabel(t("counts.blind")).check();
  await page.getByRole("button", { name: t("counts.start"), exact: true }).click();
  await expect(page).toHaveURL(/\/counts\/\d+$/);
  const id = Number(page.url().split("/").pop());
  await expectLive(page, js);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(t("counts.count_title", { id }));
  await expect(page.getByText(t("counts.blind_note"))).toBeVisible();

  // The clerk counts on their own handheld.
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale, javaScriptEnabled: js });
  const clerk = await context.newPage();
  const clerkErrors: string[] = [];
  clerk.on("pageerror", (error) => clerkErrors.push(error.message));
  await signIn(clerk, t, clerkName, "counting-2026");
  await clerk.goto(`/counts/${id}`);
  await expectLive(clerk, js);
  await countLines(clerk, t, js, sku, shelves);
  const counted = clerk.locator("table.count-lines tbody tr");
  await expect(counted.filter({ hasText: shelves[0] }).locator("[data-counted]")).toHaveText("6");
  await expect(counted.filter({ hasText: shelves[1] }).locator("[data-counted]")).toHaveText("5");
  // The item scanned without a batch counts its whole stock there; a batch line, its batch.
  await expect(counted.filter({ hasText: shelves[1] }).locator("[data-whole]")).toHaveText(t("counts.whole"));
  await expect(counted.filter({ hasText: shelves[0] }).locator("[data-whole]")).toHaveCount(0);
  // Nothing expected, no difference, no post button for the clerk.
  await expect(clerk.locator("[data-expected], [data-difference]")).toHaveCount(0);
  await expect(clerk.getByRole("button", { name: t("counts.post"), exact: true })).toHaveCount(0);
  if (js) {
    // A fresh form for the next lines, the cursor in it.
    await expect(clerk.getByLabel(lineField(t, "location", 1))).toHaveValue("");
  }
  expect(clerkErrors).toEqual([]);
  await context.close();

  // The manager reviews the differences: −2 at the first shelf, none at the second.
  await page.reload();
  await expectLive(page, js);
  const lines = page.locator("table.count-lines tbody tr");
  await expect(lines.filter({ hasText: shelves[0] }).locator("[data-expected]")).toHaveText("8");
  await expect(lines.filter({ hasText: shelves[0] }).locator("[data-difference]")).toHaveText("-2");
  // The review says which line counted the whole stock: expected 5, counted 5, no difference.
  await expect(lines.filter({ hasText: shelves[1] }).locator("[data-whole]")).toHaveText(t("counts.whole"));
  await expect(lines.filter({ hasText: shelves[1] }).locator("[data-expected]")).toHaveText("5");
  await expect(lines.filter({ hasText: shelves[1] }).locator("[data-difference]")).toHaveText("0");

  await page.getByRole("button", { name: t("counts.post"), exact: true }).click();
  await expect(page.getByText(t("counts.posted_note", { reference: `COUNT-${id}` }))).toBeVisible();
  const stock = await (await request.get(`/stock/query?sku=${sku}`)).json();
  const qty = Object.fromEntries(stock.rows.map((row: { location_code: string; qty: number }) => [row.location_code, row.qty]));
  expect(qty[shelves[0]]).toBe(6);
  expect(qty[shelves[1]]).toBe(5);
  const ledger = await (await request.get(`/ledger?ref=COUNT-${id}`)).json();
  expect(ledger.total).toBe(1);
  expect(ledger.rows[0].reason_code).toBe("COUNT_CORRECTION");

  // The list shows it posted.
  await page.goto("/counts");
  await expect(page.locator(`tr[data-count="${id}"] [data-status]`)).toHaveText(t("counts.status.posted"));
});

// Issue 31, point 3: posting asks first when lines are not counted yet, and refuses when none is.
test("posting a count with lines not counted asks first; with none counted it is refused", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  const tag = tagFor(testInfo);
  const { sku, shelves } = await stocked(request, tag);
  const created = await request.post("/counts", { data: { location_codes: shelves } });
  expect(created.status()).toBe(201);
  const id = (await created.json()).id as number;
  await page.goto(`/counts/${id}`);
  await expectLive(page, js);
  // None counted: refused, nothing posted.
  await page.getByRole("button", { name: t("counts.post"), exact: true }).click();
  await expect(page.getByRole("alert")).toContainText(t("errors.count.nothing_counted", { id }));
  await expect(page.getByRole("button", { name: t("counts.post_anyway"), exact: true })).toHaveCount(0);
  // One of the two lines counted: the page says one is not, and posts only when told to.
  await fillLine(page, t, 1, shelves[0], sku, "L1", "7");
  await page.getByRole("button", { name: t("counts.record"), exact: true }).click();
  await expect(page.locator("table.count-lines tbody tr").filter({ hasText: shelves[0] }).locator("[data-counted]")).toHaveText("7");
  await page.getByRole("button", { name: t("counts.post"), exact: true }).click();
  await expect(page.getByRole("alert")).toContainText(t("errors.count.uncounted", { id, lines: 2, uncounted: 1 }));
  let ledger = await (await request.get(`/ledger?ref=COUNT-${id}`)).json();
  expect(ledger.total).toBe(0);
  await page.getByRole("button", { name: t("counts.post_anyway"), exact: true }).click();
  await expect(page.getByText(t("counts.posted_note", { reference: `COUNT-${id}` }))).toBeVisible();
  ledger = await (await request.get(`/ledger?ref=COUNT-${id}`)).json();
  expect(ledger.total).toBe(1);
});
