import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { expect, expectLive, test as shared } from "./fixtures";
import { E2E_PASSWORD, E2E_USER } from "../account";

// Transfers between warehouses (issue 33) on a 360 px handheld, JavaScript on and off, both
// languages, both databases. A second warehouse makes `warehouse_code` required everywhere,
// which the other specs' shared servers must not see: this spec runs its own Depot per
// worker, on a database of its own (a SQLite file, or a PostgreSQL database for the postgres
// projects). A clerk sends goods from MAIN to SH on /transfers, receives part of them on the
// transfer's page, and a manager closes it short.

const test = shared.extend<{}, { ownDepot: string }>({
  ownDepot: [
    async ({}, use, workerInfo) => {
      const depot = process.env.DEPOT_BIN ?? "./target/debug/depot";
      const postgres = workerInfo.project.name.startsWith("postgres");
      const port = 3300 + workerInfo.parallelIndex * 2 + (postgres ? 1 : 0);
      const name = `depot_e2e_transfers_${process.env.DEPOT_E2E_RUN}_${workerInfo.workerIndex}`;
      const admin = process.env.DEPOT_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
      const database = postgres ? admin.replace(/\/[^/]*$/, `/${name}`) : `sqlite://end2end/.e2e/${name}.db`;
      const env = { ...process.env, DATABASE_URL: database, LEPTOS_SITE_ADDR: `127.0.0.1:${port}`, RUST_LOG: "warn" };
      const added = spawnSync(depot, ["user", "add", E2E_USER, "--role", "admin", "--password-stdin"], {
        cwd: "..",
        env,
        input: `${E2E_PASSWORD}\n`,
      });
      expect(added.status, String(added.stderr)).toBe(0);
      const server: ChildProcess = spawn(depot, ["serve"], { cwd: "..", env, stdio: "ignore" });
      const url = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 300; i++) {
        const up = await fetch(`${url}/healthz`).then((r) => r.ok).catch(() => false);
        if (up) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await use(url);
      server.kill("SIGTERM");
      if (postgres) {
        spawnSync("psql", [admin, "-c", `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`]);
      }
    },
    { scope: "worker" },
  ],
  baseURL: async ({ ownDepot }, use) => {
    await use(ownDepot);
  },
});

test.use({ viewport: { width: 360, height: 740 } });

test("goods are sent to another warehouse, received in part and closed short", async ({ page, request, javaScriptEnabled: js, t }, testInfo) => {
  test.setTimeout(90_000);
  const tag = `${testInfo.project.name}-${Date.now().toString(36)}`.toUpperCase();
  const sku = `TRF-${tag}`;
  const [shelf, dock] = [`TA-${tag}`, `TB-${tag}`];
  // The second warehouse may exist already (another test of this worker made it).
  await request.post("/warehouses", { data: { code: "SH", name: "上海仓" } });
  expect((await request.post("/items", { data: { sku, name: `Transfer ${tag}` } })).status()).toBe(201);
  expect((await request.post("/locations", { data: { warehouse_code: "MAIN", code: shelf, kind: "storage" } })).status()).toBe(201);
  expect((await request.post("/locations", { data: { warehouse_code: "SH", code: dock, kind: "storage" } })).status()).toBe(201);
  const receipt = await request.post("/inbound/receive", {
    data: { ref: `PO-${tag}`, warehouse_code: "MAIN", lines: [{ sku, location_code: shelf, qty: 30, batch_code: "L1", expiry_date: "2099-01-01" }] },
  });
  expect(receipt.status()).toBe(200);
  const reference = `TR-${tag}`;

  // This device works in MAIN.
  await page.goto("/warehouses/use/MAIN");
  await page.goto("/transfers");
  await expectLive(page, js);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText(t("transfers.title"));
  await page.getByLabel(t("transfers.form.reference"), { exact: true }).fill(reference);
  await expect(page.getByLabel(t("transfers.form.from"), { exact: true })).toHaveValue("MAIN");
  await page.getByLabel(t("transfers.form.to"), { exact: true }).selectOption("SH");
  // A scanner types each row and ends it with Enter.
  await page.getByLabel(t("transfers.form.lines")).fill(`${shelf} ${sku} 10\n`);
  await page.getByRole("button", { name: t("transfers.form.send"), exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`/transfers/${reference}$`));
  await expectLive(page, js);
  await expect(page.locator("h1 [data-status]")).toHaveText(t("transfers.status.in_transit"));
  await expect(page.locator(`tr[data-sku="${sku}"] [data-in-transit]`)).toHaveText("10");

  // Not available anywhere while on the way.
  const transit = await (await request.get(`/stock/query?sku=${sku}&warehouse=SH&location_code=TRANSIT`)).json();
  expect(transit.rows[0].in_transit_qty).toBe(10);
  expect(transit.rows[0].available).toBe(0);

  // 4 arrive at SH's dock.
  await page.getByLabel(t("transfers.form.receive_lines")).fill(`${dock} ${sku} 4`);
  await page.getByRole("button", { name: t("transfers.form.receive"), exact: true }).click();
  await expect(page.locator(`tr[data-sku="${sku}"] [data-received]`)).toHaveText("4");
  await expect(page.locator("h1 [data-status]")).toHaveText(t("transfers.status.partially_received"));
  await expectLive(page, js);
  // 2 more at the same place: added to what arrived there.
  await page.getByLabel(t("transfers.form.receive_lines")).fill(`${dock} ${sku} 2`);
  await page.getByRole("button", { name: t("transfers.form.receive"), exact: true }).click();
  await expect(page.locator(`tr[data-sku="${sku}"] [data-received]`)).toHaveText("6");
  await expectLive(page, js);

  // The rest never comes: closed short.
  await page.getByRole("button", { name: t("transfers.close", { qty: "4" }), exact: true }).click();
  await expect(page.locator("h1 [data-status]")).toHaveText(t("transfers.status.closed_short"));
  await expect(page.locator(`tr[data-sku="${sku}"] [data-in-transit]`)).toHaveText("0");

  const stock = await (await request.get(`/stock/query?sku=${sku}&warehouse=SH&location_code=${dock}`)).json();
  expect(stock.rows[0].qty).toBe(6);
  const ledger = await (await request.get(`/ledger?ref=${reference}`)).json();
  // Sent (2 legs), two receipts (2 legs each), the loss.
  expect(ledger.total).toBe(7);
});
