import { expect, test as base } from "@playwright/test";
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
