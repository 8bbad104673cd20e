import { defineConfig, devices } from "@playwright/test";
import { E2E_PASSWORD, E2E_USER } from "./account";

// Every spec runs eight times: with JavaScript on and off, in English and in Chinese (the browser's
// locale, so its Accept-Language), against a Depot on SQLite and one on PostgreSQL. Playwright starts both servers from the binary `cargo leptos build` made, each on
// a database of its own for this run.
const run = (process.env.DEPOT_E2E_RUN ??= `${Date.now()}_${process.pid}`);
const postgresAdmin =
  process.env.DEPOT_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const postgresUrl = postgresAdmin.replace(/\/[^/]*$/, `/depot_e2e_${run}`);
const portBase = Number(process.env.DEPOT_E2E_PORT ?? 3100);
const sqliteBase = `http://127.0.0.1:${portBase}`;
const postgresBase = `http://127.0.0.1:${portBase + 1}`;

const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";


function server(database: string, port: number) {
  const depot = process.env.DEPOT_BIN ?? "./target/debug/depot";
  return {
    command: `printf '%s\\n' '${E2E_PASSWORD}' | ${depot} user add ${E2E_USER} --role admin --password-stdin && ${depot} serve`,
    cwd: "..",
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: "pipe" as const,
    stderr: "pipe" as const,
    env: {
      DATABASE_URL: database,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      RUST_LOG: "warn",
    },
  };
}

export default defineConfig({
  testDir: "./tests",
  fullyParallel: true,
  workers: 2,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  globalTeardown: "./global-teardown.ts",
  use: {
    ...devices["Desktop Chrome"],
    launchOptions: {
      executablePath: chromium,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
    trace: "retain-on-failure",
  },
  projects: [
    ["sqlite", sqliteBase],
    ["postgres", postgresBase],
  ].flatMap(([database, baseURL]) =>
    [true, false].flatMap((javaScriptEnabled) =>
      [
        ["en", "en-US"],
        ["zh", "zh-CN"],
      ].map(([language, locale]) => ({
        name: `${database}-${javaScriptEnabled ? "js" : "nojs"}-${language}`,
        use: { baseURL, javaScriptEnabled, locale },
      })),
    ),
  ),
  webServer: [
    server(`sqlite://end2end/.e2e/depot_${run}.db`, portBase),
    server(postgresUrl, portBase + 1),
  ],
});
