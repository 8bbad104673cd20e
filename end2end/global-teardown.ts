import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";

// Removes this run's databases: the SQLite files and the PostgreSQL database.
export default function globalTeardown() {
  const run = process.env.DEPOT_E2E_RUN;
  if (!run) return;
  rmSync(".e2e", { recursive: true, force: true });
  const admin =
    process.env.DEPOT_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  try {
    execFileSync("psql", [admin, "-qc", `DROP DATABASE IF EXISTS "depot_e2e_${run}" WITH (FORCE)`], {
      stdio: "ignore",
    });
  } catch {
    console.warn(`could not drop depot_e2e_${run}`);
  }
}
