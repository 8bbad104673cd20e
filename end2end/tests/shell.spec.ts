import { expect, expectLive, test } from "./fixtures";

const pages = [
  { link: "Inventory", path: "/", heading: "Inventory" },
  { link: "Receive", path: "/inbound", heading: "Receive" },
  { link: "Put away", path: "/putaway", heading: "Put away" },
  { link: "Ship", path: "/outbound", heading: "Ship" },
  { link: "Stock", path: "/stock", heading: "Stock" },
  { link: "Ledger", path: "/ledger", heading: "Ledger" },
  { link: "Items", path: "/items", heading: "Items" },
  { link: "Locations", path: "/locations", heading: "Locations" },
];

test("the home page renders on the server and hydrates when JavaScript runs", async ({
  page,
  javaScriptEnabled,
}) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page).toHaveTitle("Inventory · Depot");
  await expect(page.getByRole("heading", { level: 1, name: "Inventory" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  await expectLive(page, javaScriptEnabled);
});

test("the navigation reaches every page", async ({ page, javaScriptEnabled }) => {
  await page.goto("/");
  await expectLive(page, javaScriptEnabled);
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const entry of pages) {
    await nav.getByRole("link", { name: entry.link, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${entry.path === "/" ? "/$" : entry.path}$`));
    await expect(page.getByRole("heading", { level: 1, name: entry.heading })).toBeVisible();
    await expect(nav.getByRole("link", { name: entry.link, exact: true })).toHaveAttribute(
      "aria-current",
      "page",
    );
  }
});

test("an unknown address shows a not-found page with status 404", async ({ page, consoleErrors }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1, name: "Page not found" })).toBeVisible();
  // Chromium logs the 404 of the document itself; that one is expected.
  const expected = "Failed to load resource: the server responded with a status of 404 (Not Found)";
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => e !== expected));
});

test("the layout fits a 360 px handheld", async ({ page, javaScriptEnabled }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto("/");
  await expectLive(page, javaScriptEnabled);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
  const link = page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Ship" });
  const box = await link.boundingBox();
  expect(box?.height ?? 0).toBeGreaterThanOrEqual(44);
});
