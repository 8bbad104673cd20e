import { expect, expectLive, test } from "./fixtures";
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

function tagFor(testInfo: { project: { name: string } }) {
  return `${testInfo.project.name}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`.toUpperCase();
}

async function fillLine(page: Page, n: number, sku: string, location: string, qty: string) {
  await page.getByLabel(`SKU ${n}`).fill(sku);
  await page.getByLabel(`Location ${n}`).fill(location);
  await page.getByLabel(`Qty ${n}`).fill(qty);
}

async function shipped(request: APIRequestContext, ref: string) {
  const ledger = await (await request.get(`/ledger?ref=${encodeURIComponent(ref)}&reason=OUTBOUND`)).json();
  return ledger.total as number;
}

test("ship an order, then resubmitting it ships nothing again", async ({ page, request, javaScriptEnabled: js }, testInfo) => {
  const tag = tagFor(testInfo);
  const { sku, location } = await stocked(request, tag, 10);
  const ref = `SO-${tag}`;
  await page.goto("/outbound");
  await expectLive(page, js);
  await page.getByLabel("Order ref").fill(ref);
  await fillLine(page, 1, sku, location, "3");
  if (js) {
    // The available quantity shows as the line is filled in.
    await page.getByLabel("Qty 1").focus();
    await expect(page.getByRole("row").filter({ has: page.getByLabel("SKU 1") })).toContainText("10 available");
  }
  await page.getByRole("button", { name: "Ship", exact: true }).click();
  const result = page.getByRole("region", { name: `Order ${ref}` });
  await expect(result).toContainText("Shipped.");
  await expect(result).toContainText("L1 exp 2099-01-01 × 3");

  // The form kept its ref and lines: sending it again is recognised.
  await expect(page.getByLabel("Order ref")).toHaveValue(ref);
  await page.getByRole("button", { name: "Ship", exact: true }).click();
  await expect(page.getByRole("region", { name: `Order ${ref}` })).toContainText("Already shipped under this ref");
  expect(await shipped(request, ref)).toBe(1);

  // A new order starts empty.
  await page.getByRole("link", { name: "New order" }).click();
  await expect(page.getByLabel("Order ref")).toHaveValue("");
  await expect(page.getByRole("region", { name: /Order / })).toHaveCount(0);
});

test("a short line is reported and the rest ships", async ({ page, request, javaScriptEnabled: js }, testInfo) => {
  const tag = tagFor(testInfo);
  const { sku, location } = await stocked(request, tag, 5);
  const ref = `SO-${tag}`;
  await page.goto("/outbound");
  await expectLive(page, js);
  await page.getByLabel("Order ref").fill(ref);
  await fillLine(page, 1, sku, location, "2");
  await fillLine(page, 2, `${sku}-B`, location, "4");
  await page.getByRole("button", { name: "Ship", exact: true }).click();
  const result = page.getByRole("region", { name: `Order ${ref}` });
  await expect(result).toContainText("Some lines are short");
  await expect(result.getByRole("row").filter({ hasText: `${sku}-B` })).toContainText("only 1 available");
  await expect(result.getByRole("row").filter({ hasText: `${sku}-B` })).toContainText("INSUFFICIENT_STOCK");
  expect(await shipped(request, ref)).toBe(1);
});

test("all or nothing refuses the whole order when a line is short", async ({ page, request, javaScriptEnabled: js }, testInfo) => {
  const tag = tagFor(testInfo);
  const { sku, location } = await stocked(request, tag, 5);
  const ref = `SO-${tag}`;
  await page.goto("/outbound");
  await expectLive(page, js);
  await page.getByLabel("Order ref").fill(ref);
  await page.getByLabel("All or nothing").check();
  await fillLine(page, 1, sku, location, "2");
  await fillLine(page, 2, `${sku}-B`, location, "4");
  await page.getByRole("button", { name: "Ship", exact: true }).click();
  const alert = page.getByRole("alert");
  await expect(alert).toContainText("nothing was written");
  await expect(alert).toContainText("line 2: needs 4, 1 available");
  await expect(page.getByLabel("All or nothing")).toBeChecked();
  expect(await shipped(request, ref)).toBe(0);
});

test("a double click on Ship ships once", async ({ page, request, javaScriptEnabled: js }, testInfo) => {
  const tag = tagFor(testInfo);
  const { sku, location } = await stocked(request, tag, 10);
  const ref = `SO-${tag}`;
  await page.goto("/outbound");
  await expectLive(page, js);
  await page.getByLabel("Order ref").fill(ref);
  await fillLine(page, 1, sku, location, "4");
  await page.getByRole("button", { name: "Ship", exact: true }).dblclick();
  await expect(page.getByRole("region", { name: `Order ${ref}` })).toBeVisible();
  expect(await shipped(request, ref)).toBe(1);
  const stock = await (await request.get(`/stock/query?sku=${sku}&location_code=${location}`)).json();
  expect(stock.rows[0].qty).toBe(6);
});
