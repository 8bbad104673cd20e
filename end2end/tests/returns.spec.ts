import { expect, expectLive, test } from "./fixtures";
import type { APIRequestContext } from "@playwright/test";

// Returns into quarantine (issue 33) on a 360 px handheld, JavaScript on and off, both
// languages, both databases: a clerk takes back part of a shipped order from /returns, the
// goods wait in quarantine (not available), and a manager restocks some and scraps the rest
// from the return's page.

test.use({ viewport: { width: 360, height: 740 } });

function tagFor(testInfo: { project: { name: string } }) {
  const project = testInfo.project.name.split("-").map((part) => part[0]).join("");
  return `${project}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`.toUpperCase();
}

/// An item with 10 units of batch L1 on a shelf, 6 of them shipped by an order.
async function shipped(request: APIRequestContext, tag: string) {
  const sku = `RET-${tag}`;
  const shelf = `RS-${tag}`;
  const order = `SO-${tag}`;
  expect((await request.post("/items", { data: { sku, name: `Return ${tag}` } })).status()).toBe(201);
  expect((await request.post("/locations", { data: { code: shelf, kind: "storage" } })).status()).toBe(201);
  const receipt = await request.post("/inbound/receive", {
    data: { ref: `PO-${tag}`, lines: [{ sku, location_code: shelf, qty: 10, batch_code: "L1", expiry_date: "2099-01-01" }] },
  });
  expect(receipt.status()).toBe(200);
  expect((await request.post("/orders", { data: { ref: order, lines: [{ sku, qty: 6 }] } })).status()).toBe(201);
  expect((await request.post(`/orders/${order}/ship`, { data: { reserved: true } })).status()).toBe(200);
  return { sku, shelf, order };
}

test("goods come back into quarantine and a manager restocks and scraps them", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  test.setTimeout(90_000);
  const tag = tagFor(testInfo);
  const { sku, shelf, order } = await shipped(request, tag);
  const reference = `RT-${tag}`;

  await page.goto("/returns");
  await expectLive(page, js);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(t("returns.title"));
  // More than the order shipped: refused, said plainly, nothing taken back.
  await page.getByLabel(t("returns.form.reference"), { exact: true }).fill(reference);
  await page.getByLabel(t("returns.form.order_ref")).fill(order);
  await page.getByLabel(t("returns.form.lines")).fill(`${sku} 9`);
  await page.getByRole("button", { name: t("returns.form.submit"), exact: true }).click();
  await expect(page.getByRole("alert")).toContainText(t("errors.returns.more_than_shipped", { shipped: "6", returned: "0", left: "6" }));
  expect((await request.get(`/returns/${reference}`)).status()).toBe(404);

  await page.getByLabel(t("returns.form.lines")).fill(`${sku} 3`);
  await page.getByLabel(t("returns.form.reason")).selectOption("DAMAGED");
  await page.getByRole("button", { name: t("returns.form.submit"), exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/returns/${reference}$`));
  await expectLive(page, js);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(t("returns.return_title", { reference }));
  await expect(page.locator("h1 [data-status]")).toHaveText(t("returns.status.open"));
  const row = page.locator(`tr[data-sku="${sku}"]`).first();
  await expect(row.locator("[data-in-quarantine]")).toHaveText("3");
  await expect(row).toContainText(t("returns.reason.damaged"));
  await expect(row).toContainText("L1");

  // In quarantine: stock, but nobody's to ship.
  const held = await (await request.get(`/stock/query?sku=${sku}&location_code=QUARANTINE`)).json();
  expect(held.rows[0].quarantine_qty).toBe(3);
  expect(held.rows[0].available).toBe(0);

  // Restock 2 to the shelf.
  const form = page.locator(`form.dispose[data-sku="${sku}"]`);
  await form.locator('input[name="qty"]').fill("2");
  await form.locator('select[name="action"]').selectOption("RESTOCK");
  await form.locator('input[name="location_code"]').fill(shelf);
  await form.getByRole("button", { name: t("returns.dispose.submit"), exact: true }).click();
  await expect(row.locator("[data-in-quarantine]")).toHaveText("1");
  await expectLive(page, js);
  // Scrap the last one.
  await form.locator('input[name="qty"]').fill("1");
  await form.locator('select[name="action"]').selectOption("SCRAP");
  await form.getByRole("button", { name: t("returns.dispose.submit"), exact: true }).click();
  await expect(page.locator("h1 [data-status]")).toHaveText(t("returns.status.disposed"));
  await expect(row.locator("[data-in-quarantine]")).toHaveText("0");
  await expect(form).toHaveCount(0);

  const stock = await (await request.get(`/stock/query?sku=${sku}&location_code=${shelf}`)).json();
  expect(stock.rows[0].qty).toBe(6);
  const ledger = await (await request.get(`/ledger?ref=${reference}`)).json();
  expect(ledger.total).toBe(4);

  // The list shows it done.
  await page.goto("/returns?status=DISPOSED");
  await expect(page.locator(`tr[data-return="${reference}"] [data-status]`)).toHaveText(t("returns.status.disposed"));
});
