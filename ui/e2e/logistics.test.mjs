// Fuel ordering and delivery through the manager's screens: the order reaches HQ, HQ ships it,
// the expected delivery reaches the station, the manager confirms it (pre-filled from the tank
// gauge's delivery report) and book stock rises.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { MANAGER, login, screenshot, startSystem, waitFor } from "./harness.mjs";

let system;
let page;
let token;
let order;

before(async () => {
  system = await startSystem({ gauge: true });
  token = await system.stationLogin(MANAGER);
  page = await system.newPage();
  await login(page, MANAGER);
});

after(async () => {
  await system?.stop();
});

test("a manager places an order and HQ sees it", async () => {
  await page.getByTestId("nav-orders").click();
  await page.getByTestId("order-product").selectOption("CD1001");
  await page.getByTestId("order-litres").fill("8000");
  const wanted = await page.getByTestId("order-date").inputValue();
  assert.match(wanted, /^\d{4}-\d{2}-\d{2}$/);
  await page.getByTestId("order-place").click();

  const row = page.locator('[data-testid^="order-row-"]');
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  order = (await row.getAttribute("data-testid")).replace("order-row-", "");
  assert.equal(await row.getAttribute("data-status"), "ordered");

  const orders = await system.stationOk("GET", "/api/orders", undefined, token);
  assert.deepEqual(
    orders.map((o) => [o.order, o.product, o.ordered_volume_ml, o.wanted_date]),
    [[order, "CD1001", 8_000_000, wanted]],
  );
  const atHq = await waitFor("HQ to receive the order", async () => {
    const answer = await system.hubApi("GET", `/api/orders/${order}`);
    return answer.status === 200 ? answer.json : null;
  });
  assert.equal(atHq.status, "ordered");
  assert.equal(atHq.ordered_volume_ml, 8_000_000);
  await screenshot(page, "orders");
});

test("a shipped order is confirmed as delivered and book stock rises", async () => {
  assert.ok(order, "the previous test placed an order");
  const before = await system.stationOk("GET", "/api/stock", undefined, token);
  const tankBefore = before.tanks.find((t) => t.tank === 3).book_stock_ml;

  await system.hubOk("POST", `/api/orders/${order}/shipments`, { truck: "83-GA-1234", volume_ml: 8_000_000 });
  const delivery = await waitFor("the expected delivery at the station", async () => {
    const deliveries = await system.stationOk("GET", "/api/deliveries", undefined, token);
    return deliveries.find((d) => d.order === order);
  }, { timeoutMs: 30_000, intervalMs: 200 });
  assert.equal(delivery.confirmed, false);

  // The truck unloads: the gauge sees 7,950.5 L arrive in tank 3 and reports the delivery.
  await system.gauge.control("deliver 3 7950.5");
  const report = await waitFor("the gauge's delivery report", async () => {
    const reports = await system.stationOk("GET", "/api/gauge/deliveries", undefined, token);
    return reports.find((r) => r.tank === 3);
  }, { timeoutMs: 30_000, intervalMs: 250 });

  await page.getByTestId("nav-stock").click();
  const row = page.getByTestId(`delivery-row-${delivery.shipment}`);
  await row.waitFor({ timeout: 15_000 });
  const tank = page.getByTestId("tank-3");
  assert.equal(await tank.getAttribute("data-book-ml"), String(tankBefore));
  assert.equal(await tank.getAttribute("data-capacity-ml"), "30000000");

  await row.getByTestId("delivery-confirm-open").click();
  await page.getByTestId("delivery-tank").selectOption("3");
  await page.getByTestId("delivery-prefill").click();
  const litres = await page.getByTestId("delivery-litres").inputValue();
  assert.equal(litres, (report.delivered_ml / 1000).toFixed(3));
  await page.getByTestId("delivery-confirm").click();

  const expected = tankBefore + report.delivered_ml;
  await waitFor("tank 3's book stock to rise on screen", async () =>
    (await tank.getAttribute("data-book-ml")) === String(expected));
  const stock = await system.stationOk("GET", "/api/stock", undefined, token);
  assert.equal(stock.tanks.find((t) => t.tank === 3).book_stock_ml, expected);
  const confirmed = (await system.stationOk("GET", "/api/deliveries", undefined, token)).find((d) => d.shipment === delivery.shipment);
  assert.equal(confirmed.confirmed, true);
  assert.deepEqual([confirmed.confirmation.tank, confirmed.confirmation.received_volume_ml], [3, report.delivered_ml]);
  await screenshot(page, "stock");

  await waitFor("HQ to show the order delivered", async () =>
    (await system.hubApi("GET", `/api/orders/${order}`)).json?.status === "delivered", { timeoutMs: 30_000, intervalMs: 250 });
  await page.getByTestId("nav-orders").click();
  await waitFor("the order delivered on screen", async () =>
    (await page.getByTestId(`order-row-${order}`).getAttribute("data-status")) === "delivered");
  await screenshot(page, "orders-delivered");
});
