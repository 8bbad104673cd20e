import type { APIRequestContext, Page } from "@playwright/test";
import { expect, expectLive, test, unique, withCheckDigit } from "./fixtures";
import type { Translate } from "./i18n";

// Issue 16: the movement forms as a keyboard-wedge scanner uses them — a code typed fast, then
// Enter — at 360 px. Every scan is kept, a scan resolves to its item at once (a GS1 barcode
// fills the line), a wrong scan is marked on its field, and nothing is posted half-filled.

const lineField = (t: Translate, column: string, line: number) =>
  t("common.field_line", { label: t(column), line });

/// What a wedge scanner does: the code's characters 5 ms apart, then Enter.
async function scan(page: Page, code: string) {
  await page.keyboard.type(code, { delay: 5 });
  await page.keyboard.press("Enter");
}

async function created(request: APIRequestContext, path: string, body: object) {
  const response = await request.post(path, { data: body });
  expect(response.status(), await response.text()).toBe(201);
}

test.beforeEach(async ({ page }) => {
  await page.setViewportSize({ width: 360, height: 740 });
});

test("fifty lines scanned at wedge speed are all received", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  test.skip(!js, "moving on with Enter needs JavaScript; without it Enter posts the form");
  test.setTimeout(120_000);
  const tag = unique("W", testInfo.project.name);
  const skus = Array.from({ length: 10 }, (_, i) => `${tag}-S${i}`);
  const docks = Array.from({ length: 5 }, (_, i) => `${tag}-D${i}`);
  for (const sku of skus) await created(request, "/items", { sku, name: `Wedge ${sku}` });
  for (const code of docks) await created(request, "/locations", { code, kind: "receiving" });

  await page.goto("/inbound");
  await expectLive(page, js);
  // The cursor starts in the first field: no tap before the first scan.
  await expect(page.getByLabel(t("inbound.ref_label"))).toBeFocused();
  const reference = `${tag}-PO`;
  await scan(page, reference);
  for (let line = 0; line < 50; line++) {
    await scan(page, skus[line % 10]);
    await scan(page, docks[Math.floor(line / 10)]);
    await scan(page, String(line + 1));
    // Batch, expiry and production date left empty: Enter through them to the next line.
    for (let i = 0; i < 3; i++) await page.keyboard.press("Enter");
  }
  // The next line's empty sku field: Enter submits.
  await expect(page.getByLabel(lineField(t, "inbound.col.sku", 51))).toBeFocused();
  await page.keyboard.press("Enter");
  const result = page.getByRole("region", { name: t("inbound.result_heading", { reference }) });
  await expect(result).toContainText(t("common.status.ok"), { timeout: 20_000 });

  const ledger = await (await request.get(`/ledger?ref=${encodeURIComponent(reference)}&limit=100`)).json();
  expect(ledger.total).toBe(50);
  const total = ledger.rows.reduce((sum: number, row: { delta: number }) => sum + row.delta, 0);
  expect(total).toBe((50 * 51) / 2);
});

test("a scanned barcode names its item, a GS1 barcode fills the line, a wrong scan is marked", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  test.skip(!js, "scans are resolved as they are typed with JavaScript; without it on submit");
  const tag = unique("G", testInfo.project.name);
  const lot = `L${Date.now().toString(36)}`.toUpperCase();
  const ean = withCheckDigit(`69${String(Date.now()).slice(-10)}`);
  await created(request, "/items", { sku: `${tag}-TEA`, name: "绿茶 Green tea", unit: "box", barcode: ean });
  await created(request, "/locations", { code: `${tag}-R`, kind: "receiving" });

  await page.goto("/inbound");
  await expectLive(page, js);
  await scan(page, `${tag}-PO`);
  // A GS1-128 carton label: GTIN, expiry, batch, count.
  await scan(page, `(01)0${ean}(17)271231(10)${lot}(30)24`);
  const sku = page.getByLabel(lineField(t, "inbound.col.sku", 1));
  await expect(sku).toHaveValue(`${tag}-TEA`);
  await expect(page.locator(".scan-note").first()).toHaveText(t("common.scan.item", { name: "绿茶 Green tea", unit: "box" }));
  await expect(page.getByLabel(lineField(t, "inbound.col.batch", 1))).toHaveValue(lot);
  await expect(page.getByLabel(lineField(t, "inbound.col.expiry", 1))).toHaveValue("2027-12-31");
  await expect(page.getByLabel(lineField(t, "inbound.col.qty", 1))).toHaveValue("24");
  await expect(page.getByLabel(lineField(t, "inbound.col.location", 1))).toBeFocused();

  // A wrong scan in the location field is marked there at once, before any submit.
  await scan(page, `${tag}-NOWHERE`);
  const location = page.getByLabel(lineField(t, "inbound.col.location", 1));
  await expect(location).toHaveAttribute("aria-invalid", "true");
  await expect(page.locator(".scan-note.bad")).toBeVisible();
  // Corrected, the mark goes.
  await location.fill(`${tag}-R`);
  await location.press("Enter");
  await expect(location).not.toHaveAttribute("aria-invalid", "true");
});

test("scans typed before the page is live stay in their fields and post nothing", async ({ page, javaScriptEnabled: js, t }, testInfo) => {
  test.skip(!js, "the guard is a script");
  const tag = unique("P", testInfo.project.name);
  // Hold the WASM back until the scans are typed.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  await page.route("**/pkg/*.wasm", async (route) => {
    await held;
    await route.continue();
  });
  await page.goto("/inbound");
  await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
  await page.getByLabel(t("inbound.ref_label")).focus();
  await scan(page, `${tag}-PO`);
  await scan(page, `${tag}-SKU`);
  await scan(page, `${tag}-LOC`);
  await expect(page).toHaveURL(/\/inbound$/);
  release();
  await expectLive(page, js);
  await expect(page.getByLabel(t("inbound.ref_label"))).toHaveValue(`${tag}-PO`);
  await expect(page.getByLabel(lineField(t, "inbound.col.sku", 1))).toHaveValue(`${tag}-SKU`);
  await expect(page.getByLabel(lineField(t, "inbound.col.location", 1))).toHaveValue(`${tag}-LOC`);
  await expect(page.locator("section.result")).toHaveCount(0);
});
