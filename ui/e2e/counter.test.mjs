// Safe limits and confirmations at the counter, through the real system and the page: a cash
// tender of 99,999,999,999,999 won refused by the station with its limit named in Korean, then
// confirmed by a manager's PIN in the payment panel; a manual sale of 999,999 L refused as more
// than the tank holds, with no confirmation offered; a pump refused for a user with no shift
// open; the manager setting the limits; book stock below zero flagged on the Stock screen; a
// running pump stopped only once the stop is confirmed; the day close summarising what is still
// open before it can be confirmed; a bad figure named by its own field, its message left behind
// when the user moves on.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CASHIER, MANAGER, login, openShift, screenshot, startSystem, waitFor } from "./harness.mjs";

let system;
let cashierToken;

before(async () => {
  system = await startSystem();
  cashierToken = await system.stationLogin(CASHIER);
});

after(async () => {
  await system?.stop();
});

/** The error banner once it shows `code`; answers its text. */
async function banner(page, code) {
  const shown = page.getByTestId("error-banner");
  await waitFor(`the banner for ${code}`, async () => (await shown.getAttribute("data-code")) === code);
  return (await shown.textContent()).trim();
}

/** Opens the manual fuel dialog for `litres` of diesel and goes on to the payment. */
async function manualDiesel(page, litres) {
  await page.getByTestId("manual-fuel").click();
  await page.getByTestId("manual-product").selectOption("CD1001");
  await page.getByTestId("manual-litres").fill(litres);
  await page.getByTestId("manual-next").click();
  await page.getByTestId("payment").waitFor();
}

test("an absurd tender is refused by the station's limit and a manager's PIN confirms a large one", async () => {
  const page = await system.newPage(); // Korean, the default
  await login(page, CASHIER);
  await openShift(page, 0);
  await manualDiesel(page, "40");
  await page.getByTestId("pay-cash").click();
  await page.getByTestId("tendered").fill("99999999999999");
  await page.getByTestId("settle").click();
  const text = await banner(page, "tender_over_limit");
  assert.match(text, /점포 한도\(2,000,000원\)를 넘습니다/);
  await page.getByTestId("over-limit").waitFor();
  await screenshot(page, "limits-tender-refused");
  assert.deepEqual(await system.stationOk("GET", "/api/sales", undefined, cashierToken), [], "nothing sold");

  // A real large tender, confirmed at the counter by the manager's PIN.
  await page.getByTestId("tendered").fill("3000000");
  await page.getByTestId("settle").click();
  await banner(page, "tender_over_limit");
  await page.getByTestId("over-limit-manager").fill(MANAGER.user);
  await page.getByTestId("over-limit-pin").fill(MANAGER.pin);
  await page.getByTestId("settle").click();
  await page.getByTestId("receipt").waitFor();
  const total = 40 * 1650;
  assert.equal(await page.getByTestId("receipt-change").getAttribute("data-won"), String(3_000_000 - total));
  await page.getByTestId("receipt-close").click();
  const sales = await system.stationOk("GET", "/api/sales", undefined, cashierToken);
  assert.equal(sales.length, 1);
  assert.deepEqual(sales[0].payment, { method: "cash", tendered_won: 3_000_000, change_won: 3_000_000 - total });
  assert.deepEqual(page.consoleErrors, []);
});

test("a manual sale of 999,999 L is refused as more than its tank holds, with nothing to confirm", async () => {
  const page = await system.newPage({ lang: "en" });
  await login(page, CASHIER);
  await manualDiesel(page, "999999");
  await page.getByTestId("pay-card").click();
  await page.getByTestId("card-reference").fill("A-1");
  await page.getByTestId("settle").click();
  const text = await banner(page, "volume_over_tank");
  assert.match(text, /more fuel than tank 3 holds \(30,000 L\)/);
  assert.equal(await page.getByTestId("over-limit").count(), 0, "no confirmation lifts a tank's capacity");
  await screenshot(page, "limits-over-tank");
  assert.equal((await system.stationOk("GET", "/api/sales", undefined, cashierToken)).length, 1);
});

test("a pump is not authorized for a user with no shift open", async () => {
  const page = await system.newPage({ lang: "en" });
  await login(page, MANAGER);
  const tile = page.getByTestId("pump-50");
  await waitFor("pump 50 idle", async () => (await tile.getAttribute("data-state")) === "idle");
  await tile.getByTestId("pump-authorize").click();
  await page.getByTestId("authorize-confirm").click();
  assert.match(await banner(page, "no_open_shift"), /shift/i);
  assert.equal(await tile.getAttribute("data-state"), "idle");
});

test("the manager sets the limits, and book stock below zero is flagged on the Stock screen", async () => {
  const page = await system.newPage({ lang: "en" });
  await login(page, MANAGER);
  await page.getByTestId("nav-sync").click();
  await page.getByTestId("limits").waitFor();
  await waitFor("the limits read", async () => (await page.getByTestId("limits-tender").inputValue()) === "2000000");
  assert.equal(await page.getByTestId("limits-litres").inputValue(), "300");
  await page.getByTestId("limits-tender").fill("5000000");
  await page.getByTestId("limits-litres").fill("500");
  await page.getByTestId("limits-save").click();
  await page.getByTestId("notice").waitFor();
  const managerToken = await system.stationLogin(MANAGER);
  assert.deepEqual(await system.stationOk("GET", "/api/limits", undefined, managerToken), {
    largest_tender_won: 5_000_000,
    largest_manual_volume_ml: 500_000,
  });
  await screenshot(page, "limits-set");

  // 450 L keyed by hand now goes without a manager. No delivery ever reached tank 3, so its
  // book stock falls below zero, and the Stock screen says so.
  await system.stationOk("POST", "/api/sales", {
    lines: [{ product: "CD1001", volume_ml: 450_000 }],
    payment: { method: "card", reference: "A-2" },
  }, cashierToken);
  const stock = await system.stationOk("GET", "/api/stock", undefined, managerToken);
  const tank3 = stock.tanks.find((t) => t.tank === 3);
  assert.ok(tank3.book_stock_ml < 0, JSON.stringify(tank3));
  await page.getByTestId("nav-stock").click();
  const tile = page.getByTestId("tank-3");
  await tile.getByTestId("tank-below-zero").waitFor();
  assert.equal(await page.getByTestId("tank-1").getByTestId("tank-below-zero").count(), 0);
  await screenshot(page, "limits-stock-below-zero");
});

test("a running pump stops only once the stop is confirmed", async () => {
  const page = await system.newPage({ lang: "en" });
  await login(page, MANAGER);
  await openShift(page, 0);
  const tile = page.getByTestId("pump-51");
  await waitFor("pump 51 idle", async () => (await tile.getAttribute("data-state")) === "idle");
  await tile.getByTestId("pump-authorize").click();
  await page.getByTestId("authorize-confirm").click();
  await waitFor("pump 51 authorized", async () => (await tile.getAttribute("data-state")) === "authorized");
  await system.pumps.control("lift 51 1");
  await waitFor("pump 51 fueling", async () => (await tile.getAttribute("data-state")) === "fueling");
  assert.equal(await tile.getByRole("button", { name: "Stop pump 51" }).count(), 1, "the button names its pump");
  // One tap asks; closing the question leaves the pump running.
  await tile.getByTestId("pump-stop").click();
  await page.getByTestId("pump-stop-confirm").waitFor();
  await page.keyboard.press("Escape");
  await waitFor("the question closed", async () => (await page.getByTestId("pump-stop-confirm").count()) === 0);
  assert.equal(await tile.getAttribute("data-state"), "fueling");
  await tile.getByTestId("pump-stop").click();
  await page.getByTestId("pump-stop-confirm").click();
  await waitFor("pump 51 stopped", async () => (await tile.getAttribute("data-state")) !== "fueling");
  // The nozzle goes back: the filling is recorded, unpaid, at what the pump measured.
  await system.pumps.control("hang 51");
  await waitFor("pump 51 finished with its fueling unpaid", async () =>
    (await tile.getAttribute("data-state")) === "finished" && (await tile.getByTestId("pump-pay").count()) === 1);
});

test("the day close first shows what is still open and cannot be confirmed while shifts are", async () => {
  const page = await system.newPage({ lang: "en" });
  await login(page, MANAGER);
  await page.getByTestId("nav-sales").click();
  await page.getByTestId("day-close").click();
  const dialog = page.getByTestId("day-close-dialog");
  await dialog.waitFor();
  const open = dialog.getByTestId("day-close-open-shifts");
  assert.equal(await open.getAttribute("data-count"), "2");
  assert.match(await open.textContent(), /kim/);
  await waitFor("the unpaid fuelings counted", async () =>
    (await dialog.getByTestId("day-close-unpaid").getAttribute("data-count")) === "1");
  assert.match(await dialog.getByTestId("day-close-unpaid").textContent(), /pumps 51/);
  await dialog.getByTestId("day-close-tank-3").waitFor();
  assert.equal(await dialog.getByTestId("day-close-confirm").isDisabled(), true);
  await screenshot(page, "day-close-summary");
  await page.keyboard.press("Escape");
  const managerToken = await system.stationLogin(MANAGER);
  const report = await system.stationOk("GET", "/api/day-report", undefined, managerToken);
  assert.equal(report.closed, false, "nothing closed");
});

test("a bad figure is named by its own field, and the message does not follow the user to another screen", async () => {
  const page = await system.newPage({ lang: "en" });
  await login(page, MANAGER);
  const tile = page.getByTestId("pump-50");
  await waitFor("pump 50 idle", async () => (await tile.getAttribute("data-state")) === "idle");
  await tile.getByTestId("pump-authorize").click();
  await page.getByTestId("preset-amount").click();
  await page.getByTestId("preset-value").fill("12x");
  await page.getByTestId("authorize-confirm").click();
  assert.match(await banner(page, "ui.input"), /Enter the preset amount in won\./);
  await page.keyboard.press("Escape");
  assert.equal(await page.getByTestId("error-banner").count(), 1, "still shown on its own screen");
  await page.getByTestId("nav-sales").click();
  await waitFor("the message gone", async () => (await page.getByTestId("error-banner").count()) === 0);
});
