import type { APIRequestContext } from "@playwright/test";
import { expect, expectLive, test, unique, withCheckDigit } from "./fixtures";

// Issue 16: printable labels. A location label carries its code as Code 128 and QR; a batch
// label the item's GS1-128 (GTIN, expiry, batch). The Rust tests decode what these pages print
// and scan it back; here a person finds the pages, picks the label stock and sees the sheet as
// it prints, in both languages, with and without JavaScript.

async function ok(request: APIRequestContext, path: string, body: object) {
  const response = await request.post(path, { data: body });
  expect(response.ok(), await response.text()).toBe(true);
}

test.beforeEach(async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
});

test("location labels are found from the locations page and print one per label", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  const prefix = unique("LBL", testInfo.project.name);
  for (const n of [1, 2, 3]) {
    await ok(request, "/locations", { code: `${prefix}-${n}`, kind: "storage" });
  }
  await page.goto(`/locations?q=${prefix}`);
  await expectLive(page, js);
  await page.getByRole("link", { name: t("labels.link_locations") }).click();
  await expect(page).toHaveURL(new RegExp(`/labels/locations\\?q=${prefix}`));
  await expect(page.getByRole("heading", { name: t("labels.locations_title") })).toBeVisible();
  const labels = page.locator(".label-sheet .label");
  await expect(labels).toHaveCount(3);
  await expect(labels.first()).toContainText(`${prefix}-1`);
  await expect(labels.first().locator('[data-symbology="code128"] svg')).toBeVisible();
  await expect(labels.first().locator('[data-symbology="qr"] svg')).toBeVisible();

  // The label stock is a link each: the sheet follows, the choice is marked.
  await page.getByRole("link", { name: t("labels.size.a4") }).click();
  await expect(page.locator(".label-sheet")).toHaveAttribute("data-stock", "a4");
  await expect(page.getByRole("link", { name: t("labels.size.a4") })).toHaveAttribute("aria-current", "page");
  await expect(labels).toHaveCount(3);
  // The print button needs JavaScript; the hint says how to print without it.
  await expect(page.getByRole("button", { name: t("labels.print") })).toHaveCount(js ? 1 : 0);
  await expect(page.getByText(t("labels.print_hint"))).toBeVisible();

  // Printed: the labels alone, 70 × 37 mm on A4 (1 mm = 96/25.4 px).
  await page.emulateMedia({ media: "print" });
  await expect(page.locator(".topbar")).toBeHidden();
  await expect(page.getByRole("heading", { name: t("labels.locations_title") })).toBeHidden();
  const box = await labels.first().boundingBox();
  expect(Math.round(((box?.width ?? 0) * 25.4) / 96)).toBe(70);
  expect(Math.round(((box?.height ?? 0) * 25.4) / 96)).toBe(37);
});

test("batch labels carry GS1-128, and an item without a GTIN is explained", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  const sku = unique("LB", testInfo.project.name);
  const plain = `${sku}-P`;
  const shelf = `${sku}-S`;
  const gtin = withCheckDigit(String(Date.now()).slice(-12).padStart(12, "6"));
  await ok(request, "/items", { sku, name: "Label tea", barcode: gtin });
  await ok(request, "/items", { sku: plain, name: "Plain" });
  await ok(request, "/locations", { code: shelf, kind: "storage" });
  await ok(request, "/inbound/receive", {
    ref: `PO-${sku}`,
    lines: [
      { sku, location_code: shelf, qty: 2, batch_code: "B1", expiry_date: "2099-12-31" },
      { sku: plain, location_code: shelf, qty: 1, batch_code: "P1" },
    ],
  });

  await page.goto(`/items?q=${sku}`);
  await expectLive(page, js);
  await page.getByRole("row", { name: new RegExp(`${sku} `) }).getByRole("link", { name: t("labels.link_batches") }).click();
  await expect(page).toHaveURL(new RegExp(`/labels/batches\\?sku=${sku}`));
  const label = page.locator(".label-sheet .label");
  await expect(label).toHaveCount(1);
  await expect(label).toContainText("B1");
  await expect(label).toContainText("2099-12-31");
  await expect(label.locator('[data-symbology="gs1-128"] svg')).toBeVisible();
  await expect(label.locator(".hri")).toHaveText(`(01)0${gtin}(17)991231(10)B1`);
  await expect(page.locator(".note")).toHaveCount(0);

  // Typed into the form: the item without a GTIN gets a Code 128 of its sku, and a note.
  await page.getByLabel(t("labels.sku")).fill(plain);
  await page.getByRole("button", { name: t("labels.show") }).click();
  await expect(page).toHaveURL(new RegExp(`sku=${plain}`));
  await expect(label.locator('[data-symbology="code128"] svg')).toBeVisible();
  await expect(page.locator(".note")).toContainText(t("labels.no_gtin", { sku: plain }).slice(0, 20));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});
