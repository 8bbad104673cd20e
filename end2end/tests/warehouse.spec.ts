import { expect, expectLive, test } from "./fixtures";
import type { Page } from "@playwright/test";

// One warehouse day through the pages: create an item and a location, receive a batch, put it
// away, and find it on /stock and /ledger. Runs with JavaScript on and off, on both databases.

function unique(prefix: string, testInfo: { project: { name: string } }) {
  return `${prefix}-${testInfo.project.name}-${Date.now().toString(36)}`.toUpperCase();
}

async function createItem(page: Page, sku: string, name: string, js: boolean) {
  await page.goto("/items");
  await expectLive(page, js);
  await page.getByLabel("SKU").fill(sku);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("Spec").fill("500ml × 24");
  await page.getByRole("button", { name: "Create item" }).click();
  await expect(page.getByRole("status")).toContainText(`Created ${sku}`);
}

async function createLocation(page: Page, code: string, kind: string, js: boolean) {
  await page.goto("/locations");
  await expectLive(page, js);
  await page.getByLabel("Code").fill(code);
  await page.getByLabel("Kind", { exact: true }).selectOption(kind);
  await page.getByRole("button", { name: "Create location" }).click();
  await expect(page.getByRole("status")).toContainText(`Created ${code}`);
}

test("receive a batch, put it away, see it on stock and ledger", async ({ page, javaScriptEnabled: js }, testInfo) => {
  // Eight page loads and four form posts: more than the default 30 s on a busy 2-core machine.
  test.setTimeout(60_000);
  const sku = unique("E2E", testInfo);
  const dock = unique("RCV", testInfo);
  const shelf = unique("SHELF", testInfo);
  const receipt = unique("PO", testInfo);
  const transfer = unique("TR", testInfo);

  await createItem(page, sku, "端到端 测试 Water", js);
  await createLocation(page, dock, "receiving", js);
  await createLocation(page, shelf, "storage", js);

  // A duplicate sku is refused with a message, nothing else changes.
  await page.goto("/items");
  await expectLive(page, js);
  await page.getByLabel("SKU").fill(sku);
  await page.getByLabel("Name").fill("again");
  await page.getByRole("button", { name: "Create item" }).click();
  await expect(page.getByRole("alert")).toContainText("exists already");

  await page.goto("/inbound");
  await expectLive(page, js);
  await page.getByLabel("Receipt ref").fill(receipt);
  await page.getByLabel("SKU 1").fill(sku);
  await page.getByLabel("Location 1").fill(dock);
  await page.getByLabel("Qty 1").fill("12");
  await page.getByLabel("Batch 1").fill("LOT-A");
  await page.getByLabel("Expiry 1").fill("2099-03-31");
  await page.getByRole("button", { name: "Receive", exact: true }).click();
  const result = page.getByRole("region", { name: `Receipt ${receipt}` });
  await expect(result).toContainText("OK");
  await expect(result).toContainText("LOT-A exp 2099-03-31 × 12");

  // Sending the same receipt again changes nothing and says so.
  await page.getByRole("button", { name: "Receive", exact: true }).click();
  await expect(page.getByRole("region", { name: `Receipt ${receipt}` })).toContainText("IDEMPOTENT");

  await page.goto("/putaway");
  await expectLive(page, js);
  await page.getByLabel("Transfer ref").fill(transfer);
  await page.getByLabel("SKU 1").fill(sku);
  await page.getByLabel("From 1").fill(dock);
  await page.getByLabel("To 1").fill(shelf);
  await page.getByLabel("Qty 1").fill("8");
  await page.getByRole("button", { name: "Put away", exact: true }).click();
  await expect(page.getByRole("region", { name: `Transfer ${transfer}` })).toContainText("OK");

  await page.goto(`/stock?sku=${encodeURIComponent(sku)}`);
  await expectLive(page, js);
  const rows = page.getByRole("row");
  await expect(rows.filter({ hasText: shelf })).toContainText("LOT-A exp 2099-03-31 × 8");
  await expect(rows.filter({ hasText: dock })).toContainText("4");

  await page.goto("/ledger");
  await expectLive(page, js);
  await page.getByLabel("SKU").fill(sku);
  await page.getByRole("button", { name: "Show" }).click();
  await expect(page).toHaveURL(new RegExp(`sku=${sku}`));
  await expect(page.getByRole("row").filter({ hasText: "RECEIVE" })).toHaveCount(1);
  await expect(page.getByRole("row").filter({ hasText: "PUTAWAY" })).toHaveCount(2);
});

test("a refused receipt shows the error and keeps what was typed", async ({ page, javaScriptEnabled: js }, testInfo) => {
  const receipt = unique("PO-BAD", testInfo);
  await page.goto("/inbound");
  await expectLive(page, js);
  await page.getByLabel("Receipt ref").fill(receipt);
  await page.getByLabel("SKU 1").fill("NO-SUCH-SKU");
  await page.getByLabel("Location 1").fill("NOWHERE");
  await page.getByLabel("Qty 1").fill("3");
  await page.getByRole("button", { name: "Receive", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("no item with sku 'NO-SUCH-SKU'");
  await expect(page.getByLabel("Receipt ref")).toHaveValue(receipt);
  await expect(page.getByLabel("SKU 1")).toHaveValue("NO-SUCH-SKU");
});

test("the receive page works on a 360 px handheld", async ({ page, javaScriptEnabled: js }, testInfo) => {
  await page.setViewportSize({ width: 360, height: 740 });
  const sku = unique("HH", testInfo);
  const dock = unique("HHR", testInfo);
  await createItem(page, sku, "Handheld item", js);
  await createLocation(page, dock, "receiving", js);
  await page.goto("/inbound");
  await expectLive(page, js);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.getByLabel("Receipt ref").fill(unique("PO-HH", testInfo));
  // A scanner types the code and presses Enter: with JavaScript the cursor moves on.
  await page.getByLabel("SKU 1").fill(sku);
  if (js) {
    await page.getByLabel("SKU 1").press("Enter");
    await expect(page.getByLabel("Location 1")).toBeFocused();
  }
  await page.getByLabel("Location 1").fill(dock);
  await page.getByLabel("Qty 1").fill("2");
  const submit = page.getByRole("button", { name: "Receive", exact: true });
  const box = await submit.boundingBox();
  expect(box?.height ?? 0).toBeGreaterThanOrEqual(44);
  await submit.click();
  await expect(page.getByRole("region", { name: /Receipt/ })).toContainText("OK");
});
