import type { Locator } from "@playwright/test";
import { expect, expectLive, signIn, test } from "./fixtures";

// SPEC §7's administration pages, with JavaScript on and off, in both languages: an admin makes
// a user, resets their password and disables them; makes a token, sees its secret once, and
// revokes it.

/// A name no other test or project run uses.
function unique(prefix: string, project: string): string {
  return `${prefix}-${project}-${Date.now().toString(36)}`;
}

/// Unfolds a user's changes (unless they are open already).
async function openManage(card: Locator, summary: string) {
  const details = card.locator("details");
  if ((await details.getAttribute("open")) === null) {
    await card.getByText(summary, { exact: true }).click();
  }
  await expect(details).toHaveAttribute("open", "");
}

test("an admin creates a user, resets their password and disables them", async ({ page, browser, javaScriptEnabled: js, t }, testInfo) => {
  const name = unique("u", testInfo.project.name);
  await page.goto("/admin/users");
  await expectLive(page, js);
  await expect(page.getByRole("heading", { level: 1, name: t("admin.users_title") })).toBeVisible();
  await page.locator("#user-username").fill(name);
  await page.locator("#user-role").selectOption("manager");
  await page.locator("#user-password").fill("first password");
  await page.getByRole("button", { name: t("admin.create_user"), exact: true }).click();
  await expect(page.getByText(t("admin.user_created", { name, role: t("auth.role.manager") }), { exact: true })).toBeVisible();
  const card = page.locator(`li[data-user="${name}"]`);
  await expect(card).toBeVisible();
  // The password never comes back into a field.
  await expect(page.locator("#user-password")).toHaveValue("");

  await openManage(card, t("admin.manage", { name }));
  await card.getByLabel(t("admin.new_password"), { exact: true }).fill("second password");
  await card.getByRole("button", { name: t("admin.reset_password"), exact: true }).click();
  await expect(page.getByText(t("admin.password_reset", { name }), { exact: true })).toBeVisible();

  // They sign in with the new password, as a manager: no administration for them.
  const context = await browser.newContext({
    locale: testInfo.project.use.locale,
    javaScriptEnabled: js,
    baseURL: testInfo.project.use.baseURL,
  });
  const theirs = await context.newPage();
  await signIn(theirs, t, name, "second password");
  await expect(theirs.locator(".account .who")).toHaveText(name);
  await expect(theirs.getByRole("link", { name: t("common.nav.users"), exact: true })).toHaveCount(0);

  // Disabled, their session ends at once.
  const again = page.locator(`li[data-user="${name}"]`);
  await openManage(again, t("admin.manage", { name }));
  await again.getByRole("button", { name: t("admin.disable"), exact: true }).click();
  await expect(page.getByText(t("admin.user_disabled", { name }), { exact: true })).toBeVisible();
  await expect(page.locator(`li[data-user="${name}"] [data-state="disabled"]`)).toBeVisible();
  await theirs.goto("/stock");
  await expect(theirs).toHaveURL(/\/login\?next=%2Fstock$/);
  await context.close();
});

test("a new token is shown once, works, and stops working when revoked", async ({ page, playwright, javaScriptEnabled: js, t }, testInfo) => {
  const name = unique("t", testInfo.project.name);
  await page.goto("/admin/tokens");
  await expectLive(page, js);
  await page.locator("#token-name").fill(name);
  await page.locator("#token-role").selectOption("viewer");
  await page.getByRole("button", { name: t("admin.create_token"), exact: true }).click();
  const secret = (await page.locator(".token-secret .secret").textContent()) ?? "";
  expect(secret).toMatch(/^depot_[A-Za-z0-9_-]{43}$/);
  await expect(page.locator(`tr[data-token="${name}"]`)).toContainText(t("admin.never"));

  const program = await playwright.request.newContext({
    baseURL: testInfo.project.use.baseURL,
    extraHTTPHeaders: { Authorization: `Bearer ${secret}` },
  });
  expect((await program.get("/items")).status()).toBe(200);
  expect((await program.post("/items", { data: { sku: "NOPE", name: "x" } })).status()).toBe(403);

  // Shown once: loading the page again never shows it.
  await page.reload();
  await expect(page.locator(".token-secret")).toHaveCount(0);
  await expect(page.getByText(secret)).toHaveCount(0);

  await page.getByRole("button", { name: t("admin.revoke_named", { name }), exact: true }).click();
  await expect(page.getByText(t("admin.token_revoked", { name }), { exact: true })).toBeVisible();
  await expect(page.locator(`tr[data-token="${name}"] [data-state="revoked"]`)).toBeVisible();
  expect((await program.get("/items")).status()).toBe(401);
  await program.dispose();
});
