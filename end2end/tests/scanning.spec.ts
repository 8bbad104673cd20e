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
