// Canceling a sale needs a manager's approval; a wrong PIN is refused and changes nothing.
// Also the manager's sales screen with its summary and chart.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CASHIER, MANAGER, login, manualFuelSale, openShift, screenshot, startSystem, waitFor } from "./harness.mjs";

let system;
let page;
let token;
const receipts = [];

const cash = async (p) => {
  await p.getByTestId("pay-cash").click();
  await p.getByTestId("tendered").fill("100000");
};

before(async () => {
  system = await startSystem();
  page = await system.newPage();
  await login(page, CASHIER);
  await openShift(page);
  token = await system.stationLogin(CASHIER);
  for (const [product, litres] of [["CD1001", "20"], ["GS1001", "15.5"], ["CD1001", "10.25"]]) {
    receipts.push(await manualFuelSale(page, { product, litres, pay: cash }));
    await page.getByTestId("receipt-close").click();
  }
});

after(async () => {
  await system?.stop();
});

async function saleByReceipt(receiptNo) {
  const sales = await system.stationOk("GET", "/api/sales", undefined, token);
  return sales.find((s) => s.receipt_no === receiptNo);
}

async function openCancel(receiptNo) {
  await page.getByTestId("nav-sales").click();
  const row = page.getByTestId(`sale-row-${receiptNo}`);
  await row.waitFor();
  await row.getByTestId("sale-cancel").click();
  return row;
}

test("a cancellation with a wrong manager PIN is refused and the sale stays", async () => {
  const receiptNo = receipts[0];
  const row = await openCancel(receiptNo);
  await page.getByTestId("cancel-reason").fill("wrong pump");
  await page.getByTestId("cancel-manager").fill(MANAGER.user);
  await page.getByTestId("cancel-manager-pin").fill("0000");
  await page.getByTestId("cancel-confirm").click();
  const banner = page.getByTestId("error-banner");
  await banner.waitFor();
  assert.equal(await banner.getAttribute("data-code"), "bad_credentials");
  assert.match(await banner.textContent(), /PIN이 틀렸습니다/);
  // Still signed in, the dialog still open, the sale not canceled.
  assert.equal(await page.getByTestId("cancel-confirm").count(), 1);
  assert.equal(await row.getAttribute("data-canceled"), "false");
  assert.equal((await saleByReceipt(receiptNo)).canceled, false);
  await page.keyboard.press("Escape");
});

test("a cancellation without a manager is refused with manager_required", async () => {
  const receiptNo = receipts[0];
  await openCancel(receiptNo);
  await page.getByTestId("cancel-reason").fill("wrong pump");
  await page.getByTestId("cancel-confirm").click();
  const banner = page.getByTestId("error-banner");
  await waitFor("manager_required", async () => (await banner.getAttribute("data-code")) === "manager_required");
  assert.equal((await saleByReceipt(receiptNo)).canceled, false);
  await page.keyboard.press("Escape");
});

test("a cancellation approved by the manager cancels the sale", async () => {
  const receiptNo = receipts[0];
  const row = await openCancel(receiptNo);
  await page.getByTestId("cancel-reason").fill("wrong pump");
  await page.getByTestId("cancel-manager").fill(MANAGER.user);
  await page.getByTestId("cancel-manager-pin").fill(MANAGER.pin);
  await page.getByTestId("cancel-confirm").click();
  await waitFor("the row marked canceled", async () => (await row.getAttribute("data-canceled")) === "true");
  assert.equal(await page.getByTestId("error-banner").count(), 0);
  const sale = await saleByReceipt(receiptNo);
  assert.equal(sale.canceled, true);
  assert.equal(sale.cancellation.reason, "wrong pump");
  assert.equal(sale.cancellation.approved_by, MANAGER.user);
});

test("reprint queues the receipt", async () => {
  const row = page.getByTestId(`sale-row-${receipts[1]}`);
  await row.getByTestId("sale-reprint").click();
  await page.getByTestId("notice").waitFor();
  assert.equal(await page.getByTestId("error-banner").count(), 0);
});

test("the manager's sales screen shows the summary per product and the chart", async () => {
  const manager = await system.newPage();
  await login(manager, MANAGER);
  await manager.getByTestId("nav-sales").click();
  const diesel = manager.getByTestId("summary-row-CD1001");
  await diesel.waitFor();
  // 20 L canceled; 10.25 L at 1,650 = 16,913 (16,912.5 rounded half up).
  assert.equal(await diesel.getByTestId("summary-amount").getAttribute("data-won"), "16913");
  const gasoline = manager.getByTestId("summary-row-GS1001");
  assert.equal(await gasoline.getByTestId("summary-amount").getAttribute("data-won"), String(15.5 * 1750));
  assert.equal(await manager.locator('[data-testid="sales-chart"] canvas').count(), 1);
  const summary = await system.stationOk("GET", "/api/sales-summary", undefined, token);
  assert.equal(summary.find((r) => r.product === "CD1001").net_amount_won, 16_913);
  await screenshot(manager, "sales");
});
