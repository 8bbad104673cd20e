import { expect, expectLive, test, withCheckDigit } from "./fixtures";

// Issue 31: the handheld as a clerk finds it, at 360 × 740 with a keyboard-wedge scanner
// (5 ms per key, then Enter).

// Point 1: every key a scanner types from the moment the page shows reaches the field, in
// order, before, during and after the page goes live.
test("a scan typed as the page loads keeps every character", async ({ page, javaScriptEnabled: js, t }, testInfo) => {
  const loads = js ? 50 : 10;
  test.setTimeout(loads * 6_000);
  await page.setViewportSize({ width: 360, height: 740 });
  const field = page.getByLabel(t("outbound.ref_label"));
  // How long the page takes to go live here (the debug bundle takes seconds, the release one a
  // fraction of one): scans start anywhere from the field showing to just after that, so they
  // land before, during and after the page goes live.
  let live = 0;
  if (js) {
    const started = Date.now();
    await page.goto("/outbound", { waitUntil: "commit" });
    await expectLive(page, js);
    live = Date.now() - started;
  }
  const lost: string[] = [];
  for (let n = 0; n < loads; n++) {
    const ref = `FH-${testInfo.project.name.slice(0, 3).toUpperCase()}-${n}-${Date.now().toString(36)}`;
    if (js) {
      await page.goto("/outbound", { waitUntil: "commit" });
      await field.waitFor({ state: "visible" });
      // Shown: painted once (a browser gives a field its `autofocus` as it paints; a clerk
      // cannot scan into a page not yet on the screen).
      await page.evaluate(() => new Promise((shown) => requestAnimationFrame(() => shown(null))));
    } else {
      // Without JavaScript nothing can catch a key before the page shows: from its load on.
      await page.goto("/outbound");
    }
    await page.waitForTimeout(Math.floor(Math.random() * (live + 300)));
    // Every other load the scan starts before the browser has put the cursor in the field
    // (it applies `autofocus` at its next paint, the page may already show).
    if (js && n % 2 === 1) await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await page.keyboard.type(ref, { delay: 5 });
    // Once the page is live, what was typed is still there, whole.
    await expectLive(page, js);
    const value = await field.inputValue();
    if (value !== ref) lost.push(`load ${n}: typed ${ref}, field holds ${value}`);
  }
  expect(lost).toEqual([]);
});

// Point 5: the homepage search finds what every scan field accepts: an item's barcode.
test("searching the homepage for a scanned EAN finds its item", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  const tag = `EAN${Date.now().toString(36)}${testInfo.project.name.replace(/[^a-z]/g, "").slice(0, 3)}`.toUpperCase();
  // A barcode no other run uses: 12 digits from the clock and the project, and its check digit.
  const digits = `69${String(Date.now()).slice(-8)}${String(testInfo.project.name.length + testInfo.workerIndex).padStart(2, "0")}`;
  const ean = withCheckDigit(digits);
  for (const [path, data] of [
    ["/items", { sku: `${tag}-MILK`, name: `Milk powder ${tag}`, barcode: ean }],
    ["/locations", { code: `${tag}-A`, kind: "storage" }],
  ] as const) {
    expect((await request.post(path, { data })).status()).toBe(201);
  }
  const receipt = await request.post("/inbound/receive", {
    data: { ref: `PO-${tag}`, lines: [{ sku: `${tag}-MILK`, location_code: `${tag}-A`, qty: 370 }] },
  });
  expect(receipt.status()).toBe(200);
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto("/");
  await expectLive(page, js);
  await page.getByRole("searchbox", { name: t("inventory.search_label") }).focus();
  await page.keyboard.type(ean, { delay: 5 });
  await page.keyboard.press("Enter");
  const rows = page.locator("table.snapshot tbody tr");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(`${tag}-MILK`);
  await expect(rows.first()).toContainText("370");
});

// Point 2: after a movement its result is at the top of the view, and the form is fresh for
// the next one with the cursor in its first field.
for (const [path, title] of [["/inbound", "inbound"], ["/putaway", "putaway"], ["/outbound", "outbound"]] as const) {
  test(`after a submit on ${path} the result is in view and the form is ready`, async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
    const tag = `RV${Date.now().toString(36)}${testInfo.project.name.replace(/[^a-z]/g, "").slice(0, 3)}`.toUpperCase();
    const sku = `${tag}-SKU`;
    for (const [p, data] of [
      ["/items", { sku, name: `Result ${tag}` }],
      ["/locations", { code: `${tag}-R`, kind: "receiving" }],
      ["/locations", { code: `${tag}-A`, kind: "storage" }],
    ] as const) {
      expect((await request.post(p, { data })).status()).toBe(201);
    }
    const receipt = await request.post("/inbound/receive", { data: { ref: `PO0-${tag}`, lines: [{ sku, location_code: `${tag}-R`, qty: 50 }] } });
    expect(receipt.status()).toBe(200);
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(path);
    await expectLive(page, js);
    const ref = `${title.slice(0, 2).toUpperCase()}-${tag}`;
    const field = (column: string) => page.getByLabel(t("common.field_line", { label: t(`${title}.col.${column}`), line: 1 }));
    await page.getByLabel(t(`${title}.ref_label`)).fill(ref);
    await field("sku").fill(sku);
    if (title === "putaway") {
      await field("from").fill(`${tag}-R`);
      await field("to").fill(`${tag}-A`);
    } else {
      await field("location").fill(title === "inbound" ? `${tag}-R` : `${tag}-R`);
    }
    await field("qty").fill("2");
    await page.getByRole("button", { name: t(`${title}.submit`), exact: true }).click();
    const result = page.locator("section.result").first();
    await expect(result).toContainText(ref);
    // In view, near the top of the screen, below the sticky bar.
    const box = await result.boundingBox();
    expect(box, "the result is shown").not.toBeNull();
    const bar = await page.locator("header.topbar").boundingBox();
    expect(box!.y).toBeGreaterThanOrEqual(bar ? bar.y + bar.height - 1 : 0);
    expect(box!.y).toBeLessThan(370);
    // The form is fresh and the cursor in its first field.
    await expect(page.getByLabel(t(`${title}.ref_label`))).toHaveValue("");
    await expect(field("sku")).toHaveValue("");
    await expect(page.getByLabel(t(`${title}.ref_label`))).toBeFocused();
  });
}

// Point 4: an unknown scan keeps the cursor in its field, marked, its text ready to be scanned over.
test("an unknown sku scanned on /outbound keeps the cursor in its field", async ({ page, javaScriptEnabled: js, t }, testInfo) => {
  test.skip(!js, "without JavaScript nothing is checked before the form is sent");
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto("/outbound");
  await expectLive(page, js);
  const sku = page.getByLabel(t("common.field_line", { label: t("outbound.col.sku"), line: 1 }));
  await sku.focus();
  const wrong = `NOPE-${testInfo.project.name}-${Date.now().toString(36)}`.toUpperCase();
  await page.keyboard.type(wrong, { delay: 5 });
  await page.keyboard.press("Enter");
  await expect(sku).toHaveAttribute("aria-invalid", "true");
  await expect(sku).toBeFocused();
  // The next scan replaces the wrong one.
  await page.keyboard.type("X", { delay: 5 });
  await expect(sku).toHaveValue("X");
});
