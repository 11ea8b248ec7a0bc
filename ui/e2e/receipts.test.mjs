// A receipt the printer cannot print is set aside: the status bar counts it, and the manager
// prints a fallback copy (with '?' for what cannot be printed) from the Sync & devices screen.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { CASHIER, MANAGER, login, screenshot, startSystem, waitFor } from "./harness.mjs";

let system;

before(async () => {
  system = await startSystem();
});

after(async () => {
  await system?.stop();
});

/** Seoul (or the station's zone) wall time as the UI shows it, "YYYY-MM-DD HH:MM". */
function wallTime(iso, timeZone) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(new Date(iso));
  const part = (type) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${part("minute")}`;
}

test("a receipt that cannot print is set aside and the manager prints a fallback copy", async () => {
  // A product name stored before names were checked: "é" is outside the printer's code page.
  // The API refuses such a name now, so it goes straight into the station's database.
  await promisify(execFile)("sqlite3", [
    "-cmd", ".timeout 10000",
    system.db,
    "UPDATE products SET name = 'Café au lait' WHERE product_id = 'SN2001'",
  ]);

  const cashier = await system.stationLogin(CASHIER);
  await system.stationOk("POST", "/api/shift/open", { opening_float_won: 0 }, cashier);
  const printedFrom = system.printer.lines.length;
  const sale = await system.stationOk("POST", "/api/sales", {
    lines: [{ product: "SN2001", quantity: 1 }],
    payment: { method: "cash", tendered_won: 1_000 },
  }, cashier);

  const page = await system.newPage({ lang: "en" });
  await login(page, MANAGER);
  const badge = page.getByTestId("status-set-aside");
  await waitFor("the status bar to count 1 receipt set aside", async () =>
    (await badge.count()) === 1 && (await badge.getAttribute("data-count")) === "1", { timeoutMs: 30_000 });
  assert.match(await badge.textContent(), /Receipts set aside: 1/);
  assert.match(await badge.getAttribute("class"), /\bwarn\b/);

  await page.getByTestId("nav-sync").click();
  const row = page.getByTestId("set-aside-row");
  await row.waitFor();
  assert.equal(await row.count(), 1);
  const manager = await system.stationLogin(MANAGER);
  const [listed] = await system.stationOk("GET", "/api/receipts/set-aside", undefined, manager);
  assert.equal(listed.sale, sale.sale);
  const station = await system.stationOk("GET", "/api/station", undefined, manager);
  const text = await row.textContent();
  assert.ok(text.includes(sale.receipt_no), text);
  assert.ok(text.includes(wallTime(listed.set_aside_at, station.time_zone)), text);
  assert.ok(text.includes("U+00E9"), text);

  // The button says which receipt it prints, and is a touch target.
  const button = page.getByRole("button", { name: `Print fallback copy of receipt ${sale.receipt_no}` });
  const box = await button.boundingBox();
  assert.ok(box.height >= 48 && box.width >= 48, JSON.stringify(box));
  await screenshot(page, "receipts-set-aside");
  await button.click();

  await row.and(page.locator('[data-state="queued"]')).waitFor();
  assert.match(await row.getByTestId("fallback-queued").textContent(), /Fallback copy queued/);
  const printed = await system.printer.waitForJson(
    "the fallback copy",
    (j) => j.event === "receipt" && j.qr === sale.sale,
    { from: printedFrom },
  );
  assert.ok(printed.lines.includes("*** 대체 인쇄: ? = 인쇄 불가 문자 ***"), printed.lines.join("\n"));
  assert.ok(printed.lines.includes("Caf? au lait x1"), printed.lines.join("\n"));
  await waitFor("the status bar to count none set aside", async () => (await badge.count()) === 0);
  assert.deepEqual(await system.stationOk("GET", "/api/receipts/set-aside", undefined, manager), []);
  await screenshot(page, "receipts-fallback-queued");
  assert.deepEqual(page.consoleErrors, []);
});
