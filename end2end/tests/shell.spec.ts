import { expect, expectLive, test } from "./fixtures";
import { translator } from "./i18n";

// Each page's navigation entry (common.nav.*; a movement kind's is in its own catalogue,
// <kind>.nav) and heading (<page>.title).
const pages = [
  { nav: "common.nav.inventory", path: "/", page: "inventory" },
  { nav: "inbound.nav", path: "/inbound", page: "inbound" },
  { nav: "putaway.nav", path: "/putaway", page: "putaway" },
  { nav: "outbound.nav", path: "/outbound", page: "outbound" },
  { nav: "common.nav.orders", path: "/orders", page: "orders" },
  { nav: "common.nav.stock", path: "/stock", page: "stock" },
  { nav: "adjust.nav", path: "/adjust", page: "adjust" },
  { nav: "common.nav.counts", path: "/counts", page: "counts" },
  { nav: "common.nav.ledger", path: "/ledger", page: "ledger" },
  { nav: "common.nav.items", path: "/items", page: "items" },
  { nav: "common.nav.locations", path: "/locations", page: "locations" },
  { nav: "common.nav.warehouses", path: "/warehouses", page: "warehouses" },
];

test("the home page renders on the server and hydrates when JavaScript runs", async ({
  page,
  javaScriptEnabled,
  t,
  language,
}) => {
  const response = await page.goto("/");
  expect(response?.status()).toBe(200);
  await expect(page.locator("html")).toHaveAttribute("lang", language);
  await expect(page).toHaveTitle(`${t("inventory.title")} · Depot`);
  await expect(page.getByRole("heading", { level: 1, name: t("inventory.title") })).toBeVisible();
  await expect(page.getByRole("navigation", { name: t("common.nav_label") })).toBeVisible();
  await expectLive(page, javaScriptEnabled);
});

test("the navigation reaches every page", async ({ page, javaScriptEnabled, t }) => {
  await page.goto("/");
  await expectLive(page, javaScriptEnabled);
  const nav = page.getByRole("navigation", { name: t("common.nav_label") });
  for (const entry of pages) {
    const link = t(entry.nav);
    await nav.getByRole("link", { name: link, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${entry.path === "/" ? "/$" : entry.path}$`));
    await expect(page.getByRole("heading", { level: 1, name: t(`${entry.page}.title`) })).toBeVisible();
    await expect(nav.getByRole("link", { name: link, exact: true })).toHaveAttribute(
      "aria-current",
      "page",
    );
  }
});

test("an unknown address shows a not-found page with status 404", async ({ page, consoleErrors, t }) => {
  const response = await page.goto("/no/such/page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { level: 1, name: t("common.not_found_heading") })).toBeVisible();
  // Chromium logs the 404 of the document itself; that one is expected.
  const expected = "Failed to load resource: the server responded with a status of 404 (Not Found)";
  consoleErrors.splice(0, consoleErrors.length, ...consoleErrors.filter((e) => e !== expected));
});

test("the layout fits a 360 px handheld", async ({ page, javaScriptEnabled, t }) => {
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto("/");
  await expectLive(page, javaScriptEnabled);
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow).toBeLessThanOrEqual(0);
  // A handheld's navigation is a menu: opened, its links are large targets.
  await page.locator(".nav-menu > summary").click();
  const link = page
    .getByRole("navigation", { name: t("common.nav_label") })
    .getByRole("link", { name: t("outbound.nav"), exact: true });
  const box = await link.boundingBox();
  expect(box?.height ?? 0).toBeGreaterThanOrEqual(44);
  const switcher = await page.locator("a.lang-switch").boundingBox();
  expect(switcher?.height ?? 0).toBeGreaterThanOrEqual(44);
});

test("the header's link switches the language and keeps the page and its query", async ({
  page,
  javaScriptEnabled,
  t,
  language,
}) => {
  const other = language === "zh-CN" ? "en" : "zh-CN";
  await page.goto("/stock?sku=NO-SUCH");
  await expectLive(page, javaScriptEnabled);
  await expect(page.getByRole("heading", { level: 1, name: t("stock.title") })).toBeVisible();
  await page.getByRole("link", { name: t("common.switch_to"), exact: true }).click();
  await expect(page).toHaveURL(/\/stock\?sku=NO-SUCH$/);
  await expect(page.locator("html")).toHaveAttribute("lang", other);
  const theirs = translator(other);
  await expect(page.getByRole("heading", { level: 1, name: theirs("stock.title") })).toBeVisible();
  await expect(page.getByLabel(theirs("stock.filter.sku"), { exact: true })).toHaveValue("NO-SUCH");
  await expectLive(page, javaScriptEnabled);
  // The choice stays (cookie) on the next page, whatever the browser's language.
  await page.getByRole("navigation", { name: theirs("common.nav_label") }).getByRole("link", { name: theirs("common.nav.items"), exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: theirs("items.title") })).toBeVisible();
  // And back.
  await page.getByRole("link", { name: theirs("common.switch_to"), exact: true }).click();
  await expect(page.locator("html")).toHaveAttribute("lang", language);
  await expect(page.getByRole("heading", { level: 1, name: t("items.title") })).toBeVisible();
});
