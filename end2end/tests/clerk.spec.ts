import { expect, expectLive, test } from "./fixtures";
import type { Translate } from "./i18n";
import type { APIRequestContext } from "@playwright/test";

// Issue 31, points 6–10: the handheld as a clerk finds it, at 360 × 740, in both languages,
// with JavaScript on and off.

/// A tag no other run uses, short enough for a location code (at most 32 characters).
const tagFor = (prefix: string, testInfo: { project: { name: string } }) =>
  `${prefix}-${testInfo.project.name.split("-").map((part) => part[0]).join("")}-${Date.now().toString(36)}`.toUpperCase();

const lineField = (t: Translate, column: string, line: number) =>
  t("common.field_line", { label: t(column), line });

async function post(request: APIRequestContext, path: string, data: object, status = 201) {
  const response = await request.post(path, { data });
  expect(response.status(), `${path}: ${await response.text()}`).toBe(status);
  return response.json();
}

test("dates are read as the carton prints them and shown as YYYY-MM-DD", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  const tag = tagFor("DT", testInfo);
  await post(request, "/items", { sku: `${tag}-SKU`, name: "Dated goods" });
  await post(request, "/locations", { code: `${tag}-DOCK`, kind: "receiving" });
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto("/inbound");
  await expectLive(page, js);
  const expiry = page.getByLabel(lineField(t, "inbound.col.expiry", 1));
  const produced = page.getByLabel(lineField(t, "inbound.col.produced", 1));
  // A text field: not the browser's date picker, which shows mm/dd/yyyy by its own locale.
  await expect(expiry).toHaveAttribute("type", "text");
  await expect(expiry).toHaveAttribute("placeholder", "YYYY-MM-DD");

  // A date that is not one is marked at its field and sent nowhere.
  await page.getByLabel(t("inbound.ref_label")).fill(`${tag}-PO`);
  await page.getByLabel(lineField(t, "inbound.col.sku", 1)).fill(`${tag}-SKU`);
  await page.getByLabel(lineField(t, "inbound.col.location", 1)).fill(`${tag}-DOCK`);
  await page.getByLabel(lineField(t, "inbound.col.qty", 1)).fill("5");
  await page.getByLabel(lineField(t, "inbound.col.batch", 1)).fill("LOT-D");
  await expiry.fill("20270230");
  if (js) {
    await expiry.press("Enter");
    await expect(expiry).toHaveAttribute("aria-invalid", "true");
    await expect(expiry).toBeFocused();
  } else {
    await page.getByRole("button", { name: t("inbound.submit"), exact: true }).click();
    await expect(page.getByRole("alert")).toContainText(t("errors.value.date_like"));
    await expect(page.getByLabel(lineField(t, "inbound.col.expiry", 1))).toHaveAttribute("aria-invalid", "true");
  }

  // As printed on cartons: YYYYMMDD, YYYY/MM/DD, GS1's YYMMDD; each written as YYYY-MM-DD.
  // (Without JavaScript the server reads them as typed.)
  await expiry.fill(js ? "20270315" : "270315");
  await produced.fill(js ? "261130" : "2026/11/30");
  if (js) {
    await produced.press("Tab");
    await expect(expiry).toHaveValue("2027-03-15");
    await expect(expiry).not.toHaveAttribute("aria-invalid", "true");
    await expect(produced).toHaveValue("2026-11-30");
  }
  await page.getByRole("button", { name: t("inbound.submit"), exact: true }).click();
  const result = page.getByRole("region", { name: t("inbound.result_heading", { reference: `${tag}-PO` }) });
  await expect(result).toContainText(t("common.status.ok"));
  await expect(result).toContainText(t("common.batch_expiring", { code: "LOT-D", expiry: "2027-03-15", qty: 5 }));
  const ledger = await (await request.get(`/ledger?ref=${encodeURIComponent(`${tag}-PO`)}`)).json();
  expect(ledger.rows[0].batches[0]).toMatchObject({ batch_code: "LOT-D", expiry_date: "2027-03-15" });
});

test("a line form starts with one line and keeps its submit button in reach", async ({ page, javaScriptEnabled: js, t }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  for (const [path, prefix] of [["/inbound", "inbound"], ["/putaway", "putaway"], ["/outbound", "outbound"]]) {
    await page.goto(path);
    await expectLive(page, js);
    const submit = page.getByRole("button", { name: t(`${prefix}.submit`), exact: true });
    // One line to fill (without JavaScript, which cannot add one, two spare ones below it).
    await expect(page.locator('input[name$="[sku]"]:visible')).toHaveCount(js ? 1 : 3);
    // The submit button is on the screen, not 2.6 screens down.
    await expect(submit).toBeInViewport();
    if (js) {
      // Filling the last line brings the next.
      await page.getByLabel(lineField(t, `${prefix}.col.sku`, 1)).fill("ANY");
      await expect(page.locator('input[name$="[sku]"]:visible')).toHaveCount(2);
    }
    // Scrolled to the last line's last field, the button is still in reach.
    await page.locator('input[name^="lines["]:visible').last().scrollIntoViewIfNeeded();
    await expect(submit).toBeInViewport();
  }
});

test("putaway shows the batches at the source and moves the one chosen", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  const tag = tagFor("PB", testInfo);
  const [sku, dock, shelf] = [`${tag}-SKU`, `${tag}-R`, `${tag}-A`];
  await post(request, "/items", { sku, name: "Two lots" });
  await post(request, "/locations", { code: dock, kind: "receiving" });
  await post(request, "/locations", { code: shelf, kind: "storage" });
  await post(request, "/inbound/receive", {
    ref: `${tag}-PO`,
    lines: [
      { sku, location_code: dock, qty: 24, batch_code: "OLD", expiry_date: "2030-01-01" },
      { sku, location_code: dock, qty: 24, batch_code: "NEW", expiry_date: "2031-06-30" },
    ],
  }, 200);
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto("/putaway");
  await expectLive(page, js);
  await page.getByLabel(t("putaway.ref_label")).fill(`${tag}-TR`);
  await page.getByLabel(lineField(t, "putaway.col.sku", 1)).fill(sku);
  await page.getByLabel(lineField(t, "putaway.col.from", 1)).fill(dock);
  await page.getByLabel(lineField(t, "putaway.col.to", 1)).fill(shelf);
  await page.getByLabel(lineField(t, "putaway.col.qty", 1)).fill("24");
  const batch = page.getByLabel(lineField(t, "putaway.col.batch", 1));
  if (js) {
    // The batches at the source, once item and source are known: two, so the clerk chooses.
    const choice = page.locator("[data-choose-batch]");
    await expect(choice).toHaveText(t("putaway.source.choose", { count: 2 }));
    const newer = page.locator('button[data-batch="NEW"]');
    await expect(newer).toContainText("2031-06-30");
    await newer.click();
    await expect(batch).toHaveValue("NEW");
    await expect(newer).toHaveAttribute("aria-pressed", "true");
    await expect(choice).toHaveText(t("putaway.source.chosen", { batch: "NEW" }));
  } else {
    // Sent without one: refused at the batch field, naming both; nothing moved.
    await page.getByRole("button", { name: t("putaway.submit"), exact: true }).click();
    const alert = page.getByRole("alert");
    await expect(alert).toContainText("OLD");
    await expect(alert).toContainText("NEW");
    await expect(batch).toHaveAttribute("aria-invalid", "true");
    await batch.fill("NEW");
  }
  await page.getByRole("button", { name: t("putaway.submit"), exact: true }).click();
  const result = page.getByRole("region", { name: t("putaway.result_heading", { reference: `${tag}-TR` }) });
  await expect(result).toContainText(t("common.status.ok"));
  await expect(result).toContainText("NEW");
  const stock = await (await request.get(`/stock/query?sku=${sku}&location_code=${dock}`)).json();
  expect(stock.rows[0].batches.map((b: { batch_code: string }) => b.batch_code)).toEqual(["OLD"]);
});

test("the small things: a readable cancel apart from pick, the page in the bar, the total first, API docs in the page's language", async ({ page, request, javaScriptEnabled: js, t, language }, testInfo) => {
  const tag = tagFor("SM", testInfo);
  const [sku, shelf, reference] = [`${tag}-SKU`, `${tag}-A`, `${tag}-SO`];
  await post(request, "/items", { sku, name: "Small things" });
  await post(request, "/locations", { code: shelf, kind: "storage" });
  await post(request, "/inbound/receive", { ref: `${tag}-PO`, lines: [{ sku, location_code: shelf, qty: 5 }] }, 200);
  await post(request, "/orders", { ref: reference, lines: [{ sku, qty: 2 }] });
  await page.setViewportSize({ width: 360, height: 740 });

  await page.goto(`/orders/${reference}`);
  await expectLive(page, js);
  const cancel = page.getByRole("button", { name: t("orders.cancel"), exact: true });
  const pickLink = page.getByRole("link", { name: t("orders.pick"), exact: true });
  // Its words readable on its background (WCAG AA: 4.5:1).
  const ratio = await cancel.evaluate((e) => {
    const rgb = (c: string) => (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map(Number);
    const lum = (c: number[]) => {
      const [r, g, b] = c.map((v) => { const s = v / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4; });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const style = getComputedStyle(e);
    const [a, b] = [lum(rgb(style.color)), lum(rgb(style.backgroundColor))];
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
  expect(ratio).toBeGreaterThanOrEqual(4.5);
  // Kept apart from the pick button: a thumb aiming at one does not land on the other.
  const [c, p] = [await cancel.boundingBox(), await pickLink.boundingBox()];
  if (!c || !p) throw new Error("both buttons are shown");
  const gap = Math.max(c.x - (p.x + p.width), p.x - (c.x + c.width), c.y - (p.y + p.height), p.y - (c.y + c.height));
  expect(gap).toBeGreaterThanOrEqual(24);

  // Every page names itself in the bar, a page under another by that one's name.
  const current = page.locator(".nav-current");
  await expect(current).toHaveText(t("common.nav.orders"));
  await page.goto(`/orders/${reference}/pick`);
  await expect(current).toHaveText(t("common.nav.orders"));
  await page.goto("/labels/locations");
  await expect(current).toHaveText(t("labels.locations_title"));

  // The homepage says how many before the first card.
  await page.goto("/");
  await expectLive(page, js);
  const total = page.locator(".list-total");
  await expect(total).toBeVisible();
  const [totalBox, cardBox] = [await total.boundingBox(), await page.locator("table.snapshot tbody tr").first().boundingBox()];
  expect(totalBox?.y ?? Infinity).toBeLessThan(cardBox?.y ?? 0);

  // The API's page, in the page's language.
  await page.goto("/api-docs");
  await expect(page.locator("html")).toHaveAttribute("lang", language);
  await expect(page.getByRole("heading", { level: 1 })).toContainText(t("common.api_docs.title"));
  await expect(page.getByRole("heading", { level: 2, name: t("common.api_docs.tag.movements.name") })).toBeVisible();
});
