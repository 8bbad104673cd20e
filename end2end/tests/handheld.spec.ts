import { expect, expectLive, test } from "./fixtures";

// Issue 16: every page at 360 × 740, as a handheld shows it: nothing wider than the screen and
// every control at least 44 px tall (a checkbox counts by its label, which takes the tap; a link
// inside a sentence is exempt).

const PAGES = ["/", "/inbound", "/putaway", "/outbound", "/orders", "/stock", "/adjust", "/counts", "/ledger", "/items", "/locations", "/admin/users", "/admin/tokens", "/labels/locations", "/labels/batches"];

test("every page fits 360 px and every control is a 44 px target", async ({ page, request, javaScriptEnabled: js }, testInfo) => {
  test.setTimeout(90_000);
  // Something on every list, with long names and codes, as a real warehouse has.
  const tag = `HH${testInfo.project.name.length}${Date.now().toString(36)}`.toUpperCase();
  const post = async (path: string, data: object, status = 201) =>
    expect((await request.post(path, { data })).status()).toBe(status);
  await post("/items", { sku: `${tag}-SKU-LONG-CODE`, name: "特级西湖龙井绿茶 Extra long product name 250g × 24 boxes", barcode: "" });
  await post("/locations", { code: `${tag}-RCV-DOCK-1`, kind: "receiving" });
  await post("/locations", { code: `${tag}-A-01-02`, kind: "storage" });
  await post("/inbound/receive", { ref: `${tag}-PO`, lines: [{ sku: `${tag}-SKU-LONG-CODE`, location_code: `${tag}-RCV-DOCK-1`, qty: 1200, batch_code: "LOT-2026-11-26-A", expiry_date: "2099-12-31" }] }, 200);
  await post("/putaway", { ref: `${tag}-TR`, lines: [{ sku: `${tag}-SKU-LONG-CODE`, from_location_code: `${tag}-RCV-DOCK-1`, to_location_code: `${tag}-A-01-02`, qty: 700 }] }, 200);
  await page.setViewportSize({ width: 360, height: 740 });
  // The label pages with labels on them, the widest stock included.
  const pages = [...PAGES, `/labels/locations?q=${tag}&size=100x50`, `/labels/batches?sku=${tag}-SKU-LONG-CODE&size=100x50`];
  for (const path of pages) {
    await page.goto(path);
    await expectLive(page, js);
    // Open the menu and the folded parts, so their controls are measured too.
    await page.locator("details").evaluateAll((all) => all.forEach((d) => ((d as HTMLDetailsElement).open = true)));
    const problems = await page.evaluate(() => {
      const found: string[] = [];
      const width = document.documentElement.clientWidth;
      if (document.documentElement.scrollWidth > width) {
        found.push(`page is ${document.documentElement.scrollWidth} px wide`);
      }
      const describe = (e: Element) =>
        `${e.tagName.toLowerCase()}${e.id ? "#" + e.id : ""}[${(e.getAttribute("name") ?? e.textContent ?? "").trim().slice(0, 30)}]`;
      for (const e of document.querySelectorAll("a, button, input, select, summary, textarea")) {
        const el = e as HTMLElement;
        if (el instanceof HTMLInputElement && el.type === "hidden") continue;
        // A link inside a sentence is exempt, as WCAG's target size rule exempts it.
        if (el.tagName === "A" && getComputedStyle(el).display === "inline" && el.closest("p")) continue;
        const box = el.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue; // not shown
        const target = el instanceof HTMLInputElement && el.type === "checkbox" ? el.closest("label") ?? el : el;
        const height = target.getBoundingClientRect().height;
        if (height < 44) found.push(`${describe(el)} is ${Math.round(height)} px tall`);
        if (box.right > width + 0.5) found.push(`${describe(el)} ends at ${Math.round(box.right)} px`);
      }
      return found;
    });
    expect(problems, path).toEqual([]);
  }
});

test("the menu reaches every page in one tap", async ({ page, javaScriptEnabled: js, t }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto("/");
  await expectLive(page, js);
  const nav = page.getByRole("navigation", { name: t("common.nav_label") });
  await expect(nav).toBeHidden();
  await page.locator(".nav-menu > summary").click();
  for (const [name, path] of [["outbound.nav", "/outbound"], ["common.nav.ledger", "/ledger"], ["common.nav.tokens", "/admin/tokens"]]) {
    if (!(await nav.isVisible())) await page.locator(".nav-menu > summary").click();
    await nav.getByRole("link", { name: t(name), exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${path}$`));
    await expectLive(page, js);
    // The menu closes and names the page.
    await expect(nav).toBeHidden();
    await expect(page.locator(".nav-current")).toHaveText(t(name));
  }
});
