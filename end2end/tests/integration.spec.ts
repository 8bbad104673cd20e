import { expect, expectLive, test } from "./fixtures";

// SPEC §11 in a browser at 360 px, JavaScript on and off, both languages, both databases:
// preview a sheet on /import, import it, see the new stock, and download it from /stock.

test.use({ viewport: { width: 360, height: 740 } });

function tagFor(testInfo: { project: { name: string } }) {
  const project = testInfo.project.name.split("-").map((part) => part[0]).join("");
  return `${project}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6)}`.toUpperCase();
}

test("import a sheet: preview, import, then download the stock", async ({ page, request, t, javaScriptEnabled }, testInfo) => {
  const tag = tagFor(testInfo);
  const shelf = `IM-${tag}`;
  expect((await request.post("/locations", { data: { code: shelf, kind: "storage" } })).status()).toBe(201);
  // Chinese headers in both projects: the sheet's language is the warehouse's, not the page's.
  const items = `货号,品名,规格\nIMP-${tag}-1,导入商品一,500g\nIMP-${tag}-2,导入商品二,\n`;
  const stock = `sku,location_code,qty,batch_code,expiry_date\nIMP-${tag}-1,${shelf},12,L1,2099/01/31\nIMP-${tag}-2,${shelf},3,,\n`;

  await page.goto("/import");
  await expectLive(page, javaScriptEnabled);
  const itemsCard = page.locator("section.import[data-kind=items]");
  await expect(itemsCard.getByRole("heading", { name: t("import.items.title") })).toBeVisible();
  const file = (name: string, text: string) => ({ name, mimeType: "text/csv", buffer: Buffer.from(text, "utf8") });

  // Preview: the report, nothing written.
  await itemsCard.getByLabel(t("import.file")).setInputFiles(file("items.csv", items));
  await itemsCard.getByRole("button", { name: t("import.preview"), exact: true }).click();
  const report = page.locator("section.import-report");
  await expect(report).toHaveAttribute("data-dry-run", "true");
  await expect(report).toContainText(t("import.report.preview_ok", { rows: 2, created: 2, updated: 0 }));
  expect((await (await request.get(`/items?q=IMP-${tag}`)).json()).total).toBe(0);

  // Import, then opening stock from another card.
  await page.locator("section.import[data-kind=items]").getByLabel(t("import.file")).setInputFiles(file("items.csv", items));
  await page.locator("section.import[data-kind=items]").getByRole("button", { name: t("import.apply"), exact: true }).click();
  await expect(report).toHaveAttribute("data-dry-run", "false");
  await expect(report).toContainText(t("import.report.done", { rows: 2, created: 2, updated: 0 }));
  const stockCard = page.locator("section.import[data-kind=stock]");
  await stockCard.getByLabel(t("import.file")).setInputFiles(file("stock.csv", stock));
  await stockCard.getByLabel(t("import.stock.reference")).fill(`OPEN-${tag}`);
  await stockCard.getByRole("button", { name: t("import.apply"), exact: true }).click();
  await expect(report).toHaveAttribute("data-kind", "stock");
  await expect(report).toContainText(t("import.report.done", { rows: 2, created: 2, updated: 0 }));

  // A bad sheet: its problems row by row, nothing imported.
  await page.locator("section.import[data-kind=stock]").getByLabel(t("import.file")).setInputFiles(
    file("bad.csv", `sku,location_code,qty\nIMP-${tag}-1,${shelf},1.5\n`),
  );
  await page.locator("section.import[data-kind=stock]").getByRole("button", { name: t("import.apply"), exact: true }).click();
  await expect(report).toHaveAttribute("data-outcome", "problems");
  await expect(report.locator("table.import-errors tbody tr")).toHaveCount(1);
  await expect(report.locator("table.import-errors")).toContainText("qty");
  const noHorizontalScroll = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
  expect(noHorizontalScroll, "the report fits 360 px").toBe(true);

  // The stock page shows it and downloads it with its filter.
  await page.goto(`/stock?location_code=${encodeURIComponent(shelf)}`);
  await expect(page.locator("table")).toContainText(`IMP-${tag}-1`);
  const download = page.waitForEvent("download");
  await page.getByRole("link", { name: t("common.export.csv"), exact: true }).click();
  const saved = await (await download).path();
  const bytes = require("node:fs").readFileSync(saved) as Buffer;
  expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  const lines = bytes.toString("utf8").slice(1).trim().split(/\r?\n/);
  expect(lines).toHaveLength(3);
  expect(lines[1]).toContain(`IMP-${tag}-1`);
  expect(lines[1]).toContain("2099-01-31");
});
