// A manual-fuel sale paid on a credit account raises the account's balance.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CASHIER, MANAGER, login, manualFuelSale, openShift, screenshot, startSystem, waitFor } from "./harness.mjs";

let system;

before(async () => {
  system = await startSystem();
});

after(async () => {
  await system?.stop();
});

test("manual fuel paid on a credit account raises its balance", async () => {
  const managerToken = await system.stationLogin(MANAGER);
  const account = await system.stationOk("POST", "/api/accounts", { name: "Hanjin Logistics", credit_limit_won: 500_000 }, managerToken);
  assert.equal(account.balance_won, 0);

  const page = await system.newPage();
  await login(page, CASHIER);
  await openShift(page);
  const receiptNo = await manualFuelSale(page, {
    product: "CD1001",
    litres: "40",
    pay: async (p) => {
      assert.equal(await p.getByTestId("pay-total").getAttribute("data-won"), "66000");
      await p.getByTestId("pay-account").click();
      await p.getByTestId("account-select").selectOption(account.account);
    },
  });
  await page.getByTestId("receipt-close").click();

  const after = await system.stationOk("GET", `/api/accounts/${account.account}`, undefined, managerToken);
  assert.equal(after.balance_won, 66_000);
  assert.ok(after.movements.some((m) => m.reference === receiptNo && m.amount_won === 66_000), JSON.stringify(after.movements));
  const sales = await system.stationOk("GET", "/api/sales", undefined, managerToken);
  const sale = sales.find((s) => s.receipt_no === receiptNo);
  assert.deepEqual(sale.payment, { method: "account", account: account.account });
  assert.equal(sale.lines[0].price_source, "price_list");

  // The manager sees the new balance on the accounts screen and takes a payment.
  const back = await system.newPage();
  await login(back, MANAGER);
  await back.getByTestId("nav-accounts").click();
  const row = back.getByTestId(`account-row-${account.account}`);
  await waitFor("the balance on the accounts screen", async () => (await row.getAttribute("data-balance-won")) === "66000");
  await row.getByTestId("account-show").click();
  // Cash would go into a shift's drawer (the manager has none open); a card payment needs none,
  // but carries the card terminal's approval number.
  await back.getByTestId("payment-amount").fill("16000");
  await back.getByTestId("payment-method").selectOption("card");
  await back.getByTestId("payment-reference").fill("APPROVAL-5521");
  await back.getByTestId("payment-take").click();
  await waitFor("the balance after the payment", async () => (await row.getAttribute("data-balance-won")) === "50000");
  await screenshot(back, "accounts");
  const paid = await system.stationOk("GET", `/api/accounts/${account.account}`, undefined, managerToken);
  assert.equal(paid.balance_won, 50_000);
});

test("a sale beyond the credit limit is refused with a translated message", async () => {
  const managerToken = await system.stationLogin(MANAGER);
  const account = await system.stationOk("POST", "/api/accounts", { name: "Small Co", credit_limit_won: 10_000 }, managerToken);
  const page = await system.newPage({ lang: "en" });
  await login(page, CASHIER);
  await openShift(page);
  await page.getByTestId("manual-fuel").click();
  await page.getByTestId("manual-product").selectOption("CD1001");
  await page.getByTestId("manual-litres").fill("10");
  await page.getByTestId("manual-next").click();
  await page.getByTestId("pay-account").click();
  await page.getByTestId("account-select").selectOption(account.account);
  await page.getByTestId("settle").click();
  const banner = page.getByTestId("error-banner");
  await banner.waitFor();
  assert.equal(await banner.getAttribute("data-code"), "credit_limit_exceeded");
  assert.match(await banner.textContent(), /credit limit/);
  const unchanged = await system.stationOk("GET", `/api/accounts/${account.account}`, undefined, managerToken);
  assert.equal(unchanged.balance_won, 0);
});
