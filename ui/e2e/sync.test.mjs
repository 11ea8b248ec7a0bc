// The manager's sync screen after the station's database was restored from a backup: the
// difference between the station's history and HQ's is found, shown with what was done, and
// the sales made before and after the restore all reach HQ once.

import assert from "node:assert/strict";
import { copyFile, rm } from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { CASHIER, MANAGER, STATION_ID, login, screenshot, startSystem, waitFor } from "./harness.mjs";

let system;

before(async () => {
  system = await startSystem();
});

after(async () => {
  await system?.stop();
});

const asCashier = () => ["--user", CASHIER.user, "--pin", CASHIER.pin];
const sellWater = () =>
  system.cli(...asCashier(), "sale", "settle", "--line", "product=SN2001,qty=1", "--cash", "1000");
const backlog = async () => JSON.parse(await system.cli("outbox", "list", "--limit", "1")).backlog;
const waterSoldAtHq = async () => {
  const rows = await system.hubOk("GET", `/api/sales?station=${STATION_ID}`);
  return rows.filter((r) => r.product === "SN2001").reduce((n, r) => n + r.sales_count, 0);
};

test("a restored backup shows on the sync screen and HQ keeps every sale once", async () => {
  const page = await system.newPage({ lang: "en" });
  await login(page, MANAGER);
  await page.getByTestId("nav-sync").click();
  await waitFor("HQ online", async () => (await page.getByTestId("sync-connected").getAttribute("data-state")) === "online");
  assert.equal(await page.getByTestId("sync-divergences").textContent(), "0");
  assert.equal(await page.getByTestId("sync-held").getAttribute("data-state"), "none");

  await system.cli(...asCashier(), "shift", "open", "--float", "0");
  await sellWater();
  const backup = path.join(system.dir, "backup.db");
  await system.cli("backup", "--to", backup);
  for (let i = 0; i < 3; i += 1) await sellWater();
  await waitFor("HQ acknowledged the 4 sales", async () => (await backlog()) === 0);
  assert.equal(await waterSoldAtHq(), 4);

  // The manager restores the backup taken after the first sale, and the station sells on.
  await system.restartRuntime({
    whileStopped: async () => {
      for (const side of ["-wal", "-shm"]) await rm(system.db + side, { force: true });
      await copyFile(backup, system.db);
    },
  });
  await sellWater();
  await waitFor("HQ acknowledged the restored station's sale", async () => (await backlog()) === 0, { timeoutMs: 30_000 });
  assert.equal(await waterSoldAtHq(), 5, "the 3 sales the station lost stay at HQ, the new one is added once");

  // The runtime restarted: the manager logs in again and sees what was found.
  const again = await system.newPage({ lang: "en" });
  await login(again, MANAGER);
  await again.getByTestId("nav-sync").click();
  await waitFor("the divergence on the sync screen", async () => (await again.getByTestId("divergence-row").count()) > 0);
  assert.notEqual(await again.getByTestId("sync-divergences").textContent(), "0");
  const row = again.getByTestId("divergence-row").first();
  assert.match(await row.textContent(), /Station → HQ/);
  assert.match(await row.textContent(), /restored from a backup/);
  await screenshot(again, "sync-divergence");

  const atHq = await system.hubOk("GET", `/api/sync/divergences?station=${STATION_ID}`);
  assert.ok(atHq.some((d) => d.direction === "up"), JSON.stringify(atHq));
  assert.deepEqual(again.consoleErrors, []);
});
