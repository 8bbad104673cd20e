import { expect, expectLive, test } from "./fixtures";
import type { Translate } from "./i18n";
import type { Page } from "@playwright/test";

// One warehouse day through the pages: create an item and a location, receive a batch, put it
// away, and find it on /stock and /ledger. Runs with JavaScript on and off, on both databases.

function unique(prefix: string, testInfo: { project: { name: string } }) {
  return `${prefix}-${testInfo.project.name}-${Date.now().toString(36)}`.toUpperCase();
}

async function createItem(page: Page, t: Translate, sku: string, name: string, js: boolean) {
  await page.goto("/items");
  await expectLive(page, js);
  await page.getByLabel(t("items.field.sku"), { exact: true }).fill(sku);
  await page.getByLabel(t("items.field.name"), { exact: true }).fill(name);
  await page.getByLabel(t("items.field.spec"), { exact: true }).fill("500ml × 24");
  await page.getByRole("button", { name: t("items.submit") }).click();
  await expect(page.getByRole("status")).toContainText(t("items.created", { sku, name }));
}

async function createLocation(page: Page, t: Translate, code: string, kind: string, js: boolean) {
  await page.goto("/locations");
  await expectLive(page, js);
  await page.getByLabel(t("locations.field.code"), { exact: true }).fill(code);
  await page.getByLabel(t("locations.field.kind"), { exact: true }).selectOption(kind);
  await page.getByRole("button", { name: t("locations.submit") }).click();
  await expect(page.getByRole("status")).toContainText(
    t("locations.created", { code, kind: t(`locations.kind.${kind}`) }),
  );
}

/// The label of a line's field: "SKU 1", "货号（第 1 行）".
const lineField = (t: Translate, column: string, line: number) =>
  t("common.field_line", { label: t(column), line });

test("receive a batch, put it away, see it on stock and ledger", async ({ page, javaScriptEnabled: js, t }, testInfo) => {
  // Eight page loads and four form posts: more than the default 30 s on a busy 2-core machine.
  test.setTimeout(60_000);
  const sku = unique("E2E", testInfo);
  const dock = unique("RCV", testInfo);
  const shelf = unique("SHELF", testInfo);
  const receipt = unique("PO", testInfo);
  const transfer = unique("TR", testInfo);

  await createItem(page, t, sku, "端到端 测试 Water", js);
  await createLocation(page, t, dock, "receiving", js);
  await createLocation(page, t, shelf, "storage", js);

  // A duplicate sku is refused with a message, nothing else changes.
  await page.goto("/items");
  await expectLive(page, js);
  await page.getByLabel(t("items.field.sku"), { exact: true }).fill(sku);
  await page.getByLabel(t("items.field.name"), { exact: true }).fill("again");
  await page.getByRole("button", { name: t("items.submit") }).click();
  await expect(page.getByRole("alert")).toHaveAttribute("data-code", "CONFLICT");
  await expect(page.getByRole("alert")).toContainText(t("common.error_code.conflict"));

  await page.goto("/inbound");
  await expectLive(page, js);
  const fillReceipt = async () => {
    await page.getByLabel(t("inbound.ref_label")).fill(receipt);
    await page.getByLabel(lineField(t, "inbound.col.sku", 1)).fill(sku);
    await page.getByLabel(lineField(t, "inbound.col.location", 1)).fill(dock);
    await page.getByLabel(lineField(t, "inbound.col.qty", 1)).fill("12");
    await page.getByLabel(lineField(t, "inbound.col.batch", 1)).fill("LOT-A");
    await page.getByLabel(lineField(t, "inbound.col.expiry", 1)).fill("2099-03-31");
  };
  await fillReceipt();
  await page.getByRole("button", { name: t("inbound.submit"), exact: true }).click();
  const result = page.getByRole("region", { name: t("inbound.result_heading", { reference: receipt }) });
  await expect(result).toContainText(t("common.status.ok"));
  await expect(result).toContainText(t("common.batch_expiring", { code: "LOT-A", expiry: "2099-03-31", qty: 12 }));

  // The form is fresh; sending the same receipt again changes nothing and says so.
  await expect(page.getByLabel(t("inbound.ref_label"))).toHaveValue("");
  await fillReceipt();
  await page.getByRole("button", { name: t("inbound.submit"), exact: true }).click();
  await expect(page.getByRole("region", { name: t("inbound.result_heading", { reference: receipt }) })).toContainText(
    t("common.status.idempotent"),
  );

  await page.goto("/putaway");
  await expectLive(page, js);
  await page.getByLabel(t("putaway.ref_label")).fill(transfer);
  await page.getByLabel(lineField(t, "putaway.col.sku", 1)).fill(sku);
  await page.getByLabel(lineField(t, "putaway.col.from", 1)).fill(dock);
  await page.getByLabel(lineField(t, "putaway.col.to", 1)).fill(shelf);
  await page.getByLabel(lineField(t, "putaway.col.qty", 1)).fill("8");
  await page.getByRole("button", { name: t("putaway.submit"), exact: true }).click();
  await expect(page.getByRole("region", { name: t("putaway.result_heading", { reference: transfer }) })).toContainText(
    t("common.status.ok"),
  );

  await page.goto(`/stock?sku=${encodeURIComponent(sku)}`);
  await expectLive(page, js);
  const rows = page.getByRole("row");
  await expect(rows.filter({ hasText: shelf })).toContainText(
    t("common.batch_expiring", { code: "LOT-A", expiry: "2099-03-31", qty: 8 }),
  );
  await expect(rows.filter({ hasText: dock })).toContainText("4");

  await page.goto("/ledger");
  await expectLive(page, js);
  await page.getByLabel(t("ledger.filter.sku"), { exact: true }).fill(sku);
  await page.getByRole("button", { name: t("ledger.show") }).click();
  await expect(page).toHaveURL(new RegExp(`sku=${sku}`));
  await expect(page.locator('tr:has([data-reason="RECEIVE"])')).toHaveCount(1);
  await expect(page.locator('tr:has([data-reason="PUTAWAY"])')).toHaveCount(2);
  await expect(page.getByRole("row").filter({ hasText: t("putaway.ledger_reason") })).toHaveCount(2);
});

test("a refused receipt shows the error and keeps what was typed", async ({ page, javaScriptEnabled: js, t }, testInfo) => {
  const receipt = unique("PO-BAD", testInfo);
  await page.goto("/inbound");
  await expectLive(page, js);
  await page.getByLabel(t("inbound.ref_label")).fill(receipt);
  // With JavaScript an unknown scan is marked as its field is left and takes the cursor back
  // (it stops the clerk): wait for that before typing on, as a clerk would.
  const scan = async (column: string, line: number, code: string) => {
    const field = page.getByLabel(lineField(t, column, line));
    await field.fill(code);
    if (js) {
      await field.press("Tab");
      await expect(field).toHaveAttribute("aria-invalid", "true");
      await expect(field).toBeFocused();
    }
  };
  await scan("inbound.col.sku", 1, "NO-SUCH-SKU");
  await scan("inbound.col.location", 1, "NOWHERE");
  await page.getByLabel(lineField(t, "inbound.col.qty", 1)).fill("3");
  // A second line naming nothing either: every problem is reported at once.
  await scan("inbound.col.sku", 2, "NO-SUCH-SKU-2");
  await scan("inbound.col.location", 2, "NOWHERE");
  await page.getByLabel(lineField(t, "inbound.col.qty", 2)).fill("1");
  await page.getByRole("button", { name: t("inbound.submit"), exact: true }).click();
  const alert = page.getByRole("alert");
  await expect(alert).toContainText(t("common.error_fields", { count: 4 }));
  // The fields it is about, in words ("line 1 · SKU"), each with its reason.
  const listed = alert.locator("li");
  await expect(listed).toHaveCount(4);
  await expect(listed.nth(0)).toContainText(t("common.field_of_line", { line: 1, field: t("common.field.sku") }));
  await expect(listed.nth(0)).toContainText(t("errors.item.not_found_sku", { sku: "NO-SUCH-SKU" }));
  await expect(listed.nth(1)).toContainText(t("common.field_of_line", { line: 2, field: t("common.field.sku") }));
  // Each is marked beside its field.
  for (const [column, line] of [["inbound.col.location", 1], ["inbound.col.sku", 2], ["inbound.col.location", 2]] as const) {
    const field = page.getByLabel(lineField(t, column, line));
    await expect(field).toHaveAttribute("aria-invalid", "true");
    await expect(field.locator("xpath=following-sibling::small[contains(@class, 'bad')]")).toBeVisible();
  }
  await expect(page.getByLabel(t("inbound.ref_label"))).toHaveValue(receipt);
  await expect(page.getByLabel(lineField(t, "inbound.col.sku", 1))).toHaveValue("NO-SUCH-SKU");
  // The refusal is at the top of the form; the field it is about is marked, says why and has
  // the cursor (without JavaScript too: the page comes back with it focused).
  const sku = page.getByLabel(lineField(t, "inbound.col.sku", 1));
  await expect(sku).toHaveAttribute("aria-invalid", "true");
  await expect(sku).toBeFocused();
  const [alertBox, skuBox] = [await alert.boundingBox(), await sku.boundingBox()];
  expect(alertBox?.y ?? Infinity).toBeLessThan(skuBox?.y ?? 0);
});

test("the receive page works on a 360 px handheld", async ({ page, javaScriptEnabled: js, t }, testInfo) => {
  await page.setViewportSize({ width: 360, height: 740 });
  const sku = unique("HH", testInfo);
  const dock = unique("HHR", testInfo);
  await createItem(page, t, sku, "Handheld item", js);
  await createLocation(page, t, dock, "receiving", js);
  await page.goto("/inbound");
  await expectLive(page, js);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.getByLabel(t("inbound.ref_label")).fill(unique("PO-HH", testInfo));
  // A scanner types the code and presses Enter: with JavaScript the cursor moves on.
  await page.getByLabel(lineField(t, "inbound.col.sku", 1)).fill(sku);
  if (js) {
    await page.getByLabel(lineField(t, "inbound.col.sku", 1)).press("Enter");
    await expect(page.getByLabel(lineField(t, "inbound.col.location", 1))).toBeFocused();
  }
  await page.getByLabel(lineField(t, "inbound.col.location", 1)).fill(dock);
  await page.getByLabel(lineField(t, "inbound.col.qty", 1)).fill("2");
  const submit = page.getByRole("button", { name: t("inbound.submit"), exact: true });
  const box = await submit.boundingBox();
  expect(box?.height ?? 0).toBeGreaterThanOrEqual(44);
  await submit.click();
  await expect(page.locator("section.result")).toContainText(t("common.status.ok"));
});
