// The dashboard's Settlement screen in headless Chromium against the real hub, three real station
// runtimes and the real `settlement` process beside the hub: an administrator gives the
// consignment station (ST0003) its terms, sees its open statement follow its sales (and no
// statement for the directly managed or franchise stations), opens the statement's lines, its
// CSV and its Korean print view, and closes the period; an analyst reads but is offered no close.
// Screenshots go to ui/e2e/artifacts/.

import assert from "node:assert/strict";
import path from "node:path";
import { after, before, test } from "node:test";
import { Child, freePort, http, screenshot, waitFor } from "./harness.mjs";
import { HQ_USERS, hqLogin, startNetwork } from "./hq-harness.mjs";

let network;
let settlement;
let settlementBase;

before(async () => {
  network = await startNetwork();
  const { token } = await network.hubOk("POST", "/api/feed/consumers", { name: "settlement" });
  const port = await freePort();
  settlementBase = `http://127.0.0.1:${port}`;
  settlement = new Child(
    "settlement",
    path.join(network.bin, "settlement"),
    [
      "--db", path.join(network.dir, "settlement.db"),
      "--hub", network.hubBase,
      "--http", `127.0.0.1:${port}`,
      "--allow-origin", network.hubBase,
      "--feed-token", token,
    ],
    network.dir,
  );
  await settlement.waitForJson("settlement listening", (j) => typeof j.http === "string");
  const admin = await network.tokenOf(HQ_USERS.admin);
  await waitFor("settlement to know ST0003", async () => {
    const answer = await http(settlementBase, "GET", "/api/stations", undefined, admin);
    return answer.status === 200 && answer.json.some((s) => s.station === "ST0003");
  });
});

after(async () => {
  await settlement?.stop();
  await network?.stop();
});

/** This month in Seoul, YYYY-MM: the period of today's business day. */
function thisMonth() {
  return new Date(Date.now() + 9 * 3_600_000).toISOString().slice(0, 7);
}

async function settlementPage(user) {
  const page = await network.newPage();
  await page.evaluate((url) => localStorage.setItem("hq.settlement_url", url), settlementBase);
  await hqLogin(page, user);
  await page.getByTestId("nav-settlement").click();
  return page;
}

test("an administrator gives a consignment station terms, follows its statement and closes the period", async () => {
  const st3 = network.stations.ST0003;
  await st3.cli(...st3.asCashier, "shift", "open", "--float", "0");
  // 40 L of diesel at 1,650 won/L (66,000 won) and two waters (2,000 won).
  await st3.cli(...st3.asCashier, "sale", "settle", "--line", "product=CD1001,litres=40", "--line", "product=SN2001,qty=2", "--cash", "70000");

  const page = await settlementPage(HQ_USERS.admin);
  await page.getByTestId("terms-station").selectOption("ST0003");
  await page.getByTestId("terms-from").fill(`${thisMonth()}-01`);
  await page.getByTestId("terms-rates").fill("CD1001=35");
  await page.getByTestId("terms-shop").fill("500");
  await page.getByTestId("terms-fee").fill("300000");
  await page.getByTestId("terms-loss").fill("1000");
  await page.getByTestId("terms-add").click();
  await page.getByTestId("terms-row-ST0003-1").waitFor();

  // 40 L × 35 = 1,400 won; 2,000 won × 5% = 100 won; the fee 300,000 won.
  const row = page.locator('[data-testid="statement-row-ST0003"][data-total-won="301500"]');
  await waitFor("the sale in ST0003's statement", async () => {
    await page.getByTestId("settlement-url-save").click();
    return (await row.count()) === 1;
  });
  assert.equal(await row.getAttribute("data-status"), "open");
  // Only the consignment station is settled.
  assert.equal(await page.getByTestId("statement-row-ST0001").count(), 0);
  assert.equal(await page.getByTestId("statement-row-ST0002").count(), 0);

  await page.getByTestId("statement-open-ST0003").click();
  await page.locator('[data-testid="line-fuel-CD1001-1"][data-won="1400"]').waitFor();
  await page.locator('[data-testid="line-shop-1"][data-won="100"]').waitFor();
  await page.locator('[data-testid="line-fee"][data-won="300000"]').waitFor();
  await screenshot(page, "hq-settlement");

  // The CSV and the print view, as the browser opens them.
  const csv = await page.request.get(await page.getByTestId("statement-csv").getAttribute("href"));
  assert.equal(csv.status(), 200);
  assert.match(await csv.text(), new RegExp(`ST0003,${thisMonth()},fuel,,CD1001,1,1,40000,66000,35,1400`));
  const print = await page.request.get(await page.getByTestId("statement-print").getAttribute("href"));
  const html = await print.text();
  assert.match(html, /위탁수수료 정산서/);
  assert.match(html, /301,500원/);

  // The month is not over: closing it takes saying so.
  await page.getByTestId("settlement-close").click();
  await page.locator('[data-testid="banner-error"][data-code="period_not_closable"]').waitFor();
  await page.getByTestId("settlement-before-end").check();
  await page.getByTestId("settlement-close").click();
  await page.locator('[data-testid="settlement-period-state"][data-state="closed"]').waitFor();
  await page.locator('[data-testid="statement-row-ST0003"][data-status="closed"]').waitFor();
  assert.equal(await page.getByTestId("settlement-close").count(), 0);
  assert.deepEqual(page.consoleErrors, []);
});

test("an analyst reads the statements but is offered neither the close nor new terms", async () => {
  const page = await settlementPage(HQ_USERS.analyst);
  await page.getByTestId("statements-table").waitFor();
  await page.getByTestId("terms-table").waitFor();
  assert.equal(await page.getByTestId("settlement-close").count(), 0);
  assert.equal(await page.getByTestId("terms-add").count(), 0);
  // The API refuses it too, not only the page.
  const analyst = await network.tokenOf(HQ_USERS.analyst);
  const refused = await http(settlementBase, "POST", "/api/terms", { station: "ST0003", effective_from: `${thisMonth()}-01` }, analyst);
  assert.equal(refused.status, 403);
  assert.equal(refused.json.error.code, "forbidden");
});
