import { E2E_PASSWORD, E2E_USER } from "../account";
import { expect, expectLive, signIn, test } from "./fixtures";

// SPEC §7 through the pages, with JavaScript on and off, in both languages: signing out, a page
// visited signed out goes to the sign-in page and back to itself after it, a wrong password
// says so, and the header shows who is signed in.

test("sign out, sign in again and come back to the page asked for", async ({ page, javaScriptEnabled: js, t }) => {
  await page.goto("/");
  await expectLive(page, js);
  await expect(page.locator(".account .who")).toHaveText(E2E_USER);
  await page.getByRole("button", { name: t("auth.sign_out"), exact: true }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { level: 1, name: t("auth.login_title") })).toBeVisible();

  // Signed out, a page leads to the sign-in page, which remembers it.
  await page.goto("/stock?sku=NO-SUCH");
  await expect(page).toHaveURL(/\/login\?next=%2Fstock%3Fsku%3DNO-SUCH$/);
  await page.getByLabel(t("auth.username"), { exact: true }).fill(E2E_USER);
  await page.getByLabel(t("auth.password"), { exact: true }).fill("not the password");
  await page.getByRole("button", { name: t("auth.sign_in"), exact: true }).click();
  await expect(page.getByRole("alert")).toHaveText(t("auth.error.invalid"));
  await expect(page).toHaveURL(/next=%2Fstock%3Fsku%3DNO-SUCH/);
  // The username stays; the password does not.
  await expect(page.getByLabel(t("auth.username"), { exact: true })).toHaveValue(E2E_USER);
  await expect(page.getByLabel(t("auth.password"), { exact: true })).toHaveValue("");

  await page.getByLabel(t("auth.username"), { exact: true }).fill(E2E_USER);
  await page.getByLabel(t("auth.password"), { exact: true }).fill(E2E_PASSWORD);
  await page.getByRole("button", { name: t("auth.sign_in"), exact: true }).click();
  await expect(page).toHaveURL(/\/stock\?sku=NO-SUCH$/);
  await expect(page.getByRole("heading", { level: 1, name: t("stock.title") })).toBeVisible();
  await expectLive(page, js);
});

test("a page signed out never shows data, only the way to sign in", async ({ browser, t }, testInfo) => {
  const context = await browser.newContext({
    locale: testInfo.project.use.locale,
    javaScriptEnabled: testInfo.project.use.javaScriptEnabled,
    baseURL: testInfo.project.use.baseURL,
  });
  const page = await context.newPage();
  for (const path of ["/", "/inbound", "/ledger", "/items"]) {
    await page.goto(path);
    await expect(page).toHaveURL(/\/login\?next=/);
    await expect(page.getByRole("navigation")).toHaveCount(0);
  }
  await signIn(page, t);
  await expect(page.getByRole("heading", { level: 1, name: t("inventory.title") })).toBeVisible();
  await context.close();
});
