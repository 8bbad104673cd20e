import { expect, test as base, type Page } from "@playwright/test";
import { E2E_PASSWORD, E2E_USER } from "../account";
import { languageOf, translator, type Translate } from "./i18n";

// Every test fails on a browser console error or an uncaught page error. `t` gives the page's
// words in the project's language (its browser locale: `en-US` or `zh-CN`).
export const test = base.extend<{ consoleErrors: string[]; t: Translate; language: string }>({
  language: async ({ locale }, use) => {
    await use(languageOf(locale));
  },
  t: async ({ language }, use) => {
    await use(translator(language));
  },
  // SPEC §7: nothing answers without signing in. Every test's page signs in through the
  // sign-in page (JavaScript on or off, as the project says) ...
  page: async ({ page, t }, use) => {
    await signIn(page, t);
    await use(page);
  },
  // ... and its API calls (setting up stock) sign in through POST /login's JSON.
  request: async ({ playwright, baseURL }, use) => {
    const request = await playwright.request.newContext({ baseURL });
    const response = await request.post("/login", { data: { username: E2E_USER, password: E2E_PASSWORD } });
    expect(response.status()).toBe(200);
    await use(request);
    await request.dispose();
  },
  consoleErrors: [
    async ({ page }, use) => {
      const errors: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(message.text());
      });
      page.on("pageerror", (error) => errors.push(error.message));
      await use(errors);
      expect(errors, "browser console errors").toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/// Signs in through the sign-in page as the e2e admin and lands on `/`.
export async function signIn(page: Page, t: Translate, user = E2E_USER, password = E2E_PASSWORD) {
  await page.goto("/login");
  await page.getByLabel(t("auth.username"), { exact: true }).fill(user);
  await page.getByLabel(t("auth.password"), { exact: true }).fill(password);
  await page.getByRole("button", { name: t("auth.sign_in"), exact: true }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

/// Waits until the WASM bundle has taken over the page (JavaScript on), or checks it never
/// does (JavaScript off). The tests run the debug bundle (about 9 MB): compiling it takes
/// Chromium 2–3 s on an idle 2-core machine and more while the other worker is busy.
export async function expectLive(page: import("@playwright/test").Page, javaScriptEnabled: boolean) {
  if (javaScriptEnabled) {
    await expect(page.locator("body")).toHaveAttribute("data-hydrated", "true", { timeout: 15_000 });
  } else {
    await expect(page.locator("body")).not.toHaveAttribute("data-hydrated", "true");
  }
}

/// A name no other test or project run uses.
export function unique(prefix: string, project: string): string {
  return `${prefix}-${project}-${Date.now().toString(36)}`.toUpperCase();
}

/// `digits` with their GS1 check digit (a valid GTIN of a company prefix and item reference).
export function withCheckDigit(digits: string): string {
  let sum = 0;
  [...digits].reverse().forEach((d, i) => (sum += Number(d) * (i % 2 === 0 ? 3 : 1)));
  return digits + ((10 - (sum % 10)) % 10);
}
