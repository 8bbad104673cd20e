import { expect, expectLive, test } from "./fixtures";
import type { Translate } from "./i18n";
import type { APIRequestContext, Page } from "@playwright/test";

// Shipping from the /outbound page, with JavaScript on and off, on both databases. Stock is set
// up through the JSON API; every test uses its own skus, locations and refs.

async function stocked(request: APIRequestContext, tag: string, qty: number) {
  const sku = `OUT-${tag}`;
  const location = `SH-${tag}`;
  for (const [path, body] of [
    ["/items", { sku, name: `Outbound ${tag}` }],
    ["/items", { sku: `${sku}-B`, name: `Outbound ${tag} B` }],
    ["/locations", { code: location, kind: "storage" }],
  ] as const) {
    expect((await request.post(path, { data: body })).status()).toBe(201);
  }
  const receipt = await request.post("/inbound/receive", {
    data: {
      ref: `PO-${tag}`,
      lines: [
        { sku, location_code: location, qty, batch_code: "L1", expiry_date: "2099-01-01" },
        { sku: `${sku}-B`, location_code: location, qty: 1 },
      ],
    },
  });
  expect(receipt.status()).toBe(200);
  return { sku, location };
}

// The project's initials (`pnz` for postgres-nojs-zh) keep codes within their 32 characters.
function tagFor(testInfo: { project: { name: string } }) {
  const project = testInfo.project.name.split("-").map((part) => part[0]).join("");
  return `${project}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`.toUpperCase();
}

/// The label of a line's field: "SKU 1", "货号（第 1 行）".
const lineField = (t: Translate, column: string, line: number) =>
  t("common.field_line", { label: t(`outbound.col.${column}`), line });

async function fillLine(page: Page, t: Translate, n: number, sku: string, location: string, qty: string) {
  await page.getByLabel(lineField(t, "sku", n)).fill(sku);
  await page.getByLabel(lineField(t, "location", n)).fill(location);
  await page.getByLabel(lineField(t, "qty", n)).fill(qty);
}

async function shipped(request: APIRequestContext, ref: string) {
  const ledger = await (await request.get(`/ledger?ref=${encodeURIComponent(ref)}&reason=OUTBOUND`)).json();
  return ledger.total as number;
}

test("ship an order, then resubmitting it ships nothing again", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  const tag = tagFor(testInfo);
  const { sku, location } = await stocked(request, tag, 10);
  const ref = `SO-${tag}`;
  await page.goto("/outbound");
  await expectLive(page, js);
  await page.getByLabel(t("outbound.ref_label")).fill(ref);
  await fillLine(page, t, 1, sku, location, "3");
  if (js) {
    // The available quantity shows as the line is filled in.
    await page.getByLabel(lineField(t, "qty", 1)).focus();
    await expect(page.getByRole("row").filter({ has: page.getByLabel(lineField(t, "sku", 1)) })).toContainText(t("outbound.hint.available", { available: 10 }));
  }
  await page.getByRole("button", { name: t("outbound.submit"), exact: true }).click();
  const result = page.getByRole("region", { name: t("outbound.result_heading", { reference: ref }) });
  await expect(result).toContainText(t("outbound.summary.ok"));
  await expect(result).toContainText(t("common.batch_expiring", { code: "L1", expiry: "2099-01-01", qty: 3 }));

  // The form is fresh for the next order; the same order sent again is recognised by its ref.
  await expect(page.getByLabel(t("outbound.ref_label"))).toHaveValue("");
  await page.getByLabel(t("outbound.ref_label")).fill(ref);
  await fillLine(page, t, 1, sku, location, "3");
  await page.getByRole("button", { name: t("outbound.submit"), exact: true }).click();
  await expect(page.getByRole("region", { name: t("outbound.result_heading", { reference: ref }) })).toContainText(t("outbound.summary.idempotent"));
  expect(await shipped(request, ref)).toBe(1);

  // A new order starts empty.
  await page.getByRole("link", { name: t("outbound.start_over") }).click();
  await expect(page.getByLabel(t("outbound.ref_label"))).toHaveValue("");
  await expect(page.locator("section.result")).toHaveCount(0);
});

test("a short line is reported and the rest ships", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  const tag = tagFor(testInfo);
  const { sku, location } = await stocked(request, tag, 5);
  const ref = `SO-${tag}`;
  await page.goto("/outbound");
  await expectLive(page, js);
  await page.getByLabel(t("outbound.ref_label")).fill(ref);
  await fillLine(page, t, 1, sku, location, "2");
  await fillLine(page, t, 2, `${sku}-B`, location, "4");
  await page.getByRole("button", { name: t("outbound.submit"), exact: true }).click();
  const result = page.getByRole("region", { name: t("outbound.result_heading", { reference: ref }) });
  await expect(result).toContainText(t("outbound.summary.insufficient_stock"));
  await expect(result.getByRole("row").filter({ hasText: `${sku}-B` })).toContainText(t("outbound.only_available", { available: 1 }));
  await expect(result.getByRole("row").filter({ hasText: `${sku}-B` })).toContainText(t("common.status.insufficient_stock"));
  expect(await shipped(request, ref)).toBe(1);
});

test("all or nothing refuses the whole order when a line is short", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  const tag = tagFor(testInfo);
  const { sku, location } = await stocked(request, tag, 5);
  const ref = `SO-${tag}`;
  await page.goto("/outbound");
  await expectLive(page, js);
  await page.getByLabel(t("outbound.ref_label")).fill(ref);
  await page.getByLabel(t("outbound.all_or_nothing")).check();
  await fillLine(page, t, 1, sku, location, "2");
  await fillLine(page, t, 2, `${sku}-B`, location, "4");
  await page.getByRole("button", { name: t("outbound.submit"), exact: true }).click();
  const alert = page.getByRole("alert");
  await expect(alert).toContainText(t("errors.insufficient_stock", { count: 1 }));
  await expect(alert).toContainText(t("common.shortage", { line: 2, required: 4, available: 1 }));
  await expect(page.getByLabel(t("outbound.all_or_nothing"))).toBeChecked();
  expect(await shipped(request, ref)).toBe(0);
});

test("a double click on Ship ships once", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  const tag = tagFor(testInfo);
  const { sku, location } = await stocked(request, tag, 10);
  const ref = `SO-${tag}`;
  await page.goto("/outbound");
  await expectLive(page, js);
  await page.getByLabel(t("outbound.ref_label")).fill(ref);
  await fillLine(page, t, 1, sku, location, "4");
  await page.getByRole("button", { name: t("outbound.submit"), exact: true }).dblclick();
  await expect(page.getByRole("region", { name: t("outbound.result_heading", { reference: ref }) })).toBeVisible();
  expect(await shipped(request, ref)).toBe(1);
  const stock = await (await request.get(`/stock/query?sku=${sku}&location_code=${location}`)).json();
  expect(stock.rows[0].qty).toBe(6);
});
