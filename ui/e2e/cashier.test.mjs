// Cashier flows through the real system: sign-in, shift, language, and a pump sale paid in cash.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CASHIER, login, openShift, screenshot, startSystem, waitFor } from "./harness.mjs";

let system;
let page;
let cashierToken;

before(async () => {
  system = await startSystem();
  page = await system.newPage();
});

after(async () => {
  await system?.stop();
});

test("a cashier signs in with a PIN and opens a shift", async () => {
  await page.getByTestId("login-user").waitFor();
  await screenshot(page, "login");
  await login(page, CASHIER);
  await openShift(page, 100_000);

  cashierToken = await system.stationLogin(CASHIER);
  const shift = await system.stationOk("GET", "/api/shift", undefined, cashierToken);
  assert.equal(shift.cashier, CASHIER.user);
  assert.equal(shift.opening_float_won, 100_000);

  // The session survives a reload (token kept in localStorage).
  await page.reload();
  await page.getByTestId("shift-close-open").waitFor();
  assert.equal(await page.getByTestId("login-user").count(), 0);
});

test("the language switches between Korean and English and is remembered", async () => {
  await page.getByTestId("lang-ko").click();
  assert.equal((await page.getByTestId("nav-forecourt").textContent()).trim(), "주유기");
  await page.getByTestId("lang-en").click();
  assert.equal((await page.getByTestId("nav-forecourt").textContent()).trim(), "Forecourt");
  await page.reload();
  await page.getByTestId("nav-forecourt").waitFor();
  assert.equal((await page.getByTestId("nav-forecourt").textContent()).trim(), "Forecourt");
  await page.getByTestId("lang-ko").click();
  assert.match(await page.getByTestId("manual-fuel").textContent(), /수동 주유/);
});

test("the status bar shows HQ online, the backlog and the printer", async () => {
  await waitFor("HQ online in the status bar", async () =>
    (await page.getByTestId("status-sync").getAttribute("data-state")) === "online");
  await waitFor("the printer ready", async () =>
    (await page.getByTestId("status-printer").getAttribute("data-state")) === "ready");
  assert.match(await page.getByTestId("status-backlog").textContent(), /^\d+$/);
});

test("a pump sale with an amount preset is paid in cash and the change is shown", async () => {
  const tile = page.getByTestId("pump-50");
  await waitFor("pump 50 idle", async () => (await tile.getAttribute("data-state")) === "idle");
  await screenshot(page, "forecourt");

  // Authorize pump 50 for 30,000 won.
  await tile.getByTestId("pump-authorize").click();
  await page.getByTestId("preset-amount").click();
  await page.getByTestId("preset-value").fill("30000");
  await page.getByTestId("authorize-confirm").click();
  await waitFor("pump 50 authorized", async () => (await tile.getAttribute("data-state")) === "authorized");

  // Lift nozzle 1 (tank 1, gasoline): the tile shows the volume rising, then stops at the preset.
  await system.pumps.control("lift 50 1");
  const volumes = [];
  await waitFor(
    "pump 50 to finish at the preset",
    async () => {
      volumes.push(Number(await tile.getByTestId("pump-volume").getAttribute("data-ml")));
      return Number(await tile.getByTestId("pump-amount").getAttribute("data-won")) === 30_000;
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  const rising = volumes.filter((v, i) => i > 0 && v > volumes[i - 1]);
  assert.ok(rising.length >= 1, `the tile showed the volume rising: ${volumes.join(",")}`);
  await system.pumps.control("hang 50");
  await waitFor("pump 50 finished with an unpaid fueling", async () =>
    (await tile.getAttribute("data-state")) === "finished" && (await tile.getByTestId("pump-pay").count()) === 1);

  // Pay 50,000 cash: change 20,000.
  await tile.getByTestId("pump-pay").click();
  assert.equal(await page.getByTestId("pay-total").getAttribute("data-won"), "30000");
  await page.getByTestId("pay-cash").click();
  await page.getByTestId("tendered").fill("50000");
  assert.equal(await page.getByTestId("change").getAttribute("data-won"), "20000");
  await screenshot(page, "payment");
  await page.getByTestId("settle").click();
  await page.getByTestId("receipt").waitFor();
  assert.equal(await page.getByTestId("receipt-change").getAttribute("data-won"), "20000");
  const receiptNo = (await page.getByTestId("receipt-no").textContent()).trim();
  await screenshot(page, "receipt");
  await page.getByTestId("receipt-close").click();

  const sales = await system.stationOk("GET", "/api/sales", undefined, cashierToken);
  const sale = sales.find((s) => s.receipt_no === receiptNo);
  assert.ok(sale, `GET /api/sales lists ${receiptNo}`);
  assert.equal(sale.total_won, 30_000);
  assert.equal(sale.lines[0].price_source, "pump");
  assert.equal(sale.lines[0].product, "GS1001");
  assert.deepEqual(sale.payment, { method: "cash", tendered_won: 50_000, change_won: 20_000 });
  const unpaid = await system.stationOk("GET", "/api/fuelings", undefined, cashierToken);
  assert.equal(unpaid.length, 0);
  await waitFor("pump 50 no longer unpaid on the tile", async () => (await tile.getByTestId("pump-pay").count()) === 0);
});

test("closing the shift shows the over/short", async () => {
  const shift = await system.stationOk("GET", "/api/shift", undefined, cashierToken);
  const counted = shift.expected_cash_won - 500;
  await page.getByTestId("shift-close-open").click();
  // A blind count: the expected cash is not on the screen while the cashier counts.
  await page.getByTestId("shift-counted").waitFor();
  assert.equal(await page.getByText(/예상 현금|Expected cash/).count(), 0);
  await page.getByTestId("shift-counted").fill(String(counted));
  await page.getByTestId("shift-close").click();
  // Closing asks to be confirmed, with the amount counted; nothing is closed yet.
  await page.getByTestId("shift-close-check").waitFor();
  assert.equal(await page.getByTestId("shift-close-check").getAttribute("data-won"), String(counted));
  assert.notEqual(await system.stationOk("GET", "/api/shift", undefined, cashierToken), null);
  await page.getByTestId("shift-close").click();
  await page.getByTestId("over-short").waitFor();
  assert.equal(await page.getByTestId("over-short").getAttribute("data-won"), "-500");
  assert.equal(await system.stationOk("GET", "/api/shift", undefined, cashierToken), null);
  assert.deepEqual(page.consoleErrors, []);
});
