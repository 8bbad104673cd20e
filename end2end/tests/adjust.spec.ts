import { expect, expectLive, test } from "./fixtures";
import type { Translate } from "./i18n";
import type { APIRequestContext } from "@playwright/test";

// Correcting stock from the /adjust page on a 360 px handheld (SPEC §9), with JavaScript on and
// off, in both languages, on both databases: scan the location and the item, see what is there,
// enter the change and why; the ledger shows it with its reason and note.

test.use({ viewport: { width: 360, height: 740 } });

function tagFor(testInfo: { project: { name: string } }) {
  const project = testInfo.project.name.split("-").map((part) => part[0]).join("");
  return `${project}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`.toUpperCase();
}

async function stocked(request: APIRequestContext, tag: string) {
  const sku = `ADJ-${tag}`;
  const location = `AS-${tag}`;
  expect((await request.post("/items", { data: { sku, name: `Adjust ${tag}` } })).status()).toBe(201);
  expect((await request.post("/locations", { data: { code: location, kind: "storage" } })).status()).toBe(201);
  const receipt = await request.post("/inbound/receive", {
    data: {
      ref: `PO-${tag}`,
      lines: [
        { sku, location_code: location, qty: 6, batch_code: "L1", expiry_date: "2099-01-01" },
        { sku, location_code: location, qty: 4, batch_code: "L2", expiry_date: "2099-06-01" },
      ],
    },
  });
  expect(receipt.status()).toBe(200);
  return { sku, location };
}

const lineField = (t: Translate, column: string, line: number) =>
  t("common.field_line", { label: t(`adjust.col.${column}`), line });

test("a damaged carton is written off with its reason, and the ledger says why", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  const tag = tagFor(testInfo);
  const { sku, location } = await stocked(request, tag);
  const ref = `ADJ-${tag}`;
  await page.goto("/adjust");
  await expectLive(page, js);
  await expect(page.getByRole("heading", { level: 1, name: t("adjust.title") })).toBeVisible();
  await page.getByLabel(t("adjust.ref_label")).fill(ref);
  await page.getByLabel(t("adjust.reason_label")).selectOption("DAMAGED");
  await page.getByLabel(t("adjust.note_label")).fill(`crushed ${tag}`);
  if (js) {
    // As a scanner types: the ref, Enter, the location, Enter, the item, Enter — the reason and
    // note, chosen by a tap, are not in the way.
    await page.getByLabel(t("adjust.ref_label")).focus();
    await page.keyboard.press("Enter");
    await page.keyboard.type(location, { delay: 5 });
    await page.keyboard.press("Enter");
    await page.keyboard.type(sku, { delay: 5 });
    await page.keyboard.press("Enter");
    await expect(page.getByLabel(lineField(t, "batch", 1))).toBeFocused();
    await expect(page.getByLabel(lineField(t, "location", 1))).toHaveValue(location);
    await expect(page.getByLabel(lineField(t, "sku", 1))).toHaveValue(sku);
    // What is there, as soon as the stock is named.
    await expect(page.locator("td.hint").first()).toContainText(
      t("adjust.hint.on_hand_batches", {
        qty: 10,
        batches: `${t("common.batch_expiring", { code: "L1", expiry: "2099-01-01", qty: 6 })}, ${t("common.batch_expiring", { code: "L2", expiry: "2099-06-01", qty: 4 })}`,
      }),
    );
  } else {
    await page.getByLabel(lineField(t, "location", 1)).fill(location);
    await page.getByLabel(lineField(t, "sku", 1)).fill(sku);
  }
  await page.getByLabel(lineField(t, "batch", 1)).fill("L2");
  await page.getByLabel(lineField(t, "delta", 1)).fill("-3");
  await page.getByRole("button", { name: t("adjust.submit"), exact: true }).click();
  const result = page.getByRole("region", { name: t("adjust.result_heading", { reference: ref }) });
  await expect(result).toContainText(t("common.status.ok"));
  await expect(result.locator("[data-delta]")).toHaveText("-3");
  await expect(result).toContainText(t("common.batch_expiring", { code: "L2", expiry: "2099-06-01", qty: 3 }));

  // Sent again: nothing changes, and the page says so.
  await page.getByRole("button", { name: t("adjust.submit"), exact: true }).click();
  await expect(page.getByRole("region", { name: t("adjust.result_heading", { reference: ref }) })).toContainText(
    t("adjust.summary.idempotent"),
  );

  const stock = await (await request.get(`/stock/query?sku=${sku}`)).json();
  expect(stock.rows[0].qty).toBe(7);

  await page.goto(`/ledger?ref=${encodeURIComponent(ref)}&reason_code=DAMAGED`);
  await expectLive(page, js);
  const row = page.locator("tbody tr").first();
  await expect(row).toContainText(t("adjust.ledger_reason"));
  await expect(row).toContainText(t("adjust.reason.damaged"));
  await expect(row).toContainText(`crushed ${tag}`);
  await expect(page.locator("tbody tr")).toHaveCount(1);
});

test("a count below what is there is corrected; more than there is is refused", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  const tag = tagFor(testInfo);
  const { sku, location } = await stocked(request, tag);
  await page.goto("/adjust");
  await expectLive(page, js);
  await page.getByLabel(t("adjust.ref_label")).fill(`NEG-${tag}`);
  await page.getByLabel(lineField(t, "sku", 1)).fill(sku);
  await page.getByLabel(lineField(t, "location", 1)).fill(location);
  await page.getByLabel(lineField(t, "batch", 1)).fill("L1");
  await page.getByLabel(lineField(t, "delta", 1)).fill("-7");
  await page.getByRole("button", { name: t("adjust.submit"), exact: true }).click();
  await expect(page.getByRole("alert")).toHaveAttribute("data-code", "INSUFFICIENT_STOCK");
  // What was typed stays, to correct: a count instead of a change.
  await expect(page.getByLabel(lineField(t, "batch", 1))).toHaveValue("L1");
  await page.getByLabel(lineField(t, "delta", 1)).fill("");
  await page.getByLabel(lineField(t, "counted", 1)).fill("5");
  await page.getByRole("button", { name: t("adjust.submit"), exact: true }).click();
  const result = page.getByRole("region", { name: t("adjust.result_heading", { reference: `NEG-${tag}` }) });
  await expect(result.locator("[data-delta]")).toHaveText("-1");
  const stock = await (await request.get(`/stock/query?sku=${sku}`)).json();
  expect(stock.rows[0].qty).toBe(9);
});
