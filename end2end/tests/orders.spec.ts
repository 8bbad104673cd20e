import { expect, expectLive, test } from "./fixtures";
import type { Translate } from "./i18n";
import type { APIRequestContext, Page } from "@playwright/test";

// An order from the /orders page to the truck on a 360 px handheld (SPEC §10), JavaScript on
// and off, both languages, both databases: create it (stock is reserved by first expiry), pick
// it by scanning — a wrong location is refused with a clear message, a short pick moves the
// rest elsewhere — and ship what was picked.

test.use({ viewport: { width: 360, height: 740 } });

function tagFor(testInfo: { project: { name: string } }) {
  const project = testInfo.project.name.split("-").map((part) => part[0]).join("");
  return `${project}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`.toUpperCase();
}

async function stocked(request: APIRequestContext, tag: string) {
  const sku = `ORD-${tag}`;
  const shelves = [`OA-${tag}`, `OB-${tag}`];
  expect((await request.post("/items", { data: { sku, name: `Order ${tag}` } })).status()).toBe(201);
  for (const code of shelves) {
    expect((await request.post("/locations", { data: { code, kind: "storage" } })).status()).toBe(201);
  }
  const receipt = await request.post("/inbound/receive", {
    data: {
      ref: `PO-${tag}`,
      lines: [
        { sku, location_code: shelves[0], qty: 5, batch_code: "L1", expiry_date: "2099-01-01" },
        { sku, location_code: shelves[1], qty: 10, batch_code: "L2", expiry_date: "2099-06-01" },
      ],
    },
  });
  expect(receipt.status()).toBe(200);
  return { sku, shelves };
}

/// Confirms the pick the screen asks for: location, item, then the quantity (or what was found).
async function pick(page: Page, t: Translate, js: boolean, location: string, item: string, qty?: string) {
  const where = page.getByLabel(t("orders.pick_screen.scan_location"));
  const what = page.getByLabel(t("orders.pick_screen.scan_item"));
  const howMany = page.getByLabel(t("orders.pick_screen.qty"));
  if (js) {
    // A scanner: the code typed fast, then Enter; the quantity is proposed.
    await expect(where).toBeFocused();
    await page.keyboard.type(location, { delay: 5 });
    await page.keyboard.press("Enter");
    await expect(what).toBeFocused();
    await page.keyboard.type(item, { delay: 5 });
    await page.keyboard.press("Enter");
    // The proposed quantity is selected: what is typed replaces it.
    await expect(howMany).toBeFocused();
    if (qty !== undefined) await page.keyboard.type(qty, { delay: 5 });
    await page.keyboard.press("Enter");
  } else {
    await where.fill(location);
    await what.fill(item);
    if (qty !== undefined) await howMany.fill(qty);
    await page.getByRole("button", { name: t("orders.pick_screen.confirm"), exact: true }).click();
  }
}

test("an order is created, picked by scanning at 360 px, and shipped", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  test.setTimeout(90_000);
  const tag = tagFor(testInfo);
  const { sku, shelves } = await stocked(request, tag);
  const reference = `SO-${tag}`;

  await page.goto("/orders");
  await expectLive(page, js);
  await page.getByText(t("orders.new_heading"), { exact: true }).click();
  await page.getByLabel(t("orders.form.reference"), { exact: true }).fill(reference);
  await page.getByLabel(t("orders.form.lines")).fill(`${sku} 7`);
  await page.getByRole("button", { name: t("orders.form.create"), exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/orders/${reference}$`));
  await expectLive(page, js);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(t("orders.order_title", { reference }));
  await expect(page.locator("h1 [data-status]")).toHaveText(t("orders.status.reserved"));
  await expect(page.locator(`tr[data-sku="${sku}"] [data-reserved]`)).toHaveText("7");

  // Nobody else can ship what the order holds: 5 of the first shelf's 5 are reserved.
  const hint = await (await request.get(`/stock/query?sku=${sku}&location_code=${shelves[0]}`)).json();
  expect(hint.rows[0].available).toBe(0);

  await page.getByRole("link", { name: t("orders.pick"), exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/orders/${reference}/pick$`));
  await expectLive(page, js);
  await expect(page.locator("#pick-go")).toHaveText(shelves[0]);

  // The wrong shelf: refused, said plainly, nothing picked.
  if (js) {
    await expect(page.getByLabel(t("orders.pick_screen.scan_location"))).toBeFocused();
    await page.keyboard.type("ZZ-WRONG", { delay: 5 });
    await page.keyboard.press("Enter");
  } else {
    await pick(page, t, js, "ZZ-WRONG", sku);
  }
  // Said as "expected B-01, scanned C-08", marked on the field, which keeps the cursor and
  // the wrong code selected: the next scan replaces it.
  await expect(page.getByText(t("orders.pick_screen.wrong_location", { scanned: "ZZ-WRONG", code: shelves[0] }))).toBeVisible();
  await expect(page.locator("#pick-go")).toHaveText(shelves[0]);
  const where = page.getByLabel(t("orders.pick_screen.scan_location"));
  await expect(where).toHaveAttribute("aria-invalid", "true");
  if (js) {
    await expect(where).toBeFocused();
    await expect(where).toHaveValue("ZZ-WRONG");
    expect(await where.evaluate((e: HTMLInputElement) => [e.selectionStart, e.selectionEnd])).toEqual([0, 8]);
  }

  // Only 4 are found on the first shelf: the missing one is reserved on the second.
  await pick(page, t, js, shelves[0], sku, "4");
  await expect(page.locator("#pick-go")).toHaveText(shelves[1]);
  await expect(page.locator(`tr[data-location="${shelves[1]}"] td`).nth(3)).toHaveText("3");
  await pick(page, t, js, shelves[1], "L2");
  await expect(page.getByText(t("orders.pick_screen.done"))).toBeVisible();

  await page.getByRole("link", { name: t("orders.pick_screen.to_order") }).click();
  await expectLive(page, js);
  await expect(page.locator("h1 [data-status]")).toHaveText(t("orders.status.picked"));
  await page.getByRole("button", { name: t("orders.ship_picked"), exact: true }).click();
  await expect(page.locator("h1 [data-status]")).toHaveText(t("orders.status.shipped"));
  await expect(page.locator(`tr[data-sku="${sku}"] [data-shipped]`)).toHaveText("7");

  const ledger = await (await request.get(`/ledger?ref=${reference}`)).json();
  expect(ledger.total).toBe(2);
  const taken = Object.fromEntries(ledger.rows.map((row: { location_code: string; delta: number }) => [row.location_code, row.delta]));
  expect(taken[shelves[0]]).toBe(-4);
  expect(taken[shelves[1]]).toBe(-3);

  // The list shows it shipped.
  await page.goto(`/orders?q=${reference}`);
  await expect(page.locator(`tr[data-order="${reference}"] [data-status]`)).toHaveText(t("orders.status.shipped"));
});
