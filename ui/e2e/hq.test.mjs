// HQ's dashboard in headless Chromium against the real hub and three real station runtimes:
// a price version made in the dashboard reaches every station and its roll-out follows it to
// "all applied"; a station's order is dispatched from the board and turns delivered when the
// station confirms it; a stopped station turns offline and raises its alert; a station's sales
// show in the Sales screen and its CSV; an analyst cannot change a price (the API refuses, not
// only the page); a station's failed PIN checks and logins show in HQ's audit log of the
// stations; the language switch. Screenshots go to ui/e2e/artifacts/.

import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";
import path from "node:path";
import { CASHIER, run, screenshot, waitFor } from "./harness.mjs";
import { HQ_USERS, hqLogin, startNetwork, tomorrow } from "./hq-harness.mjs";

let network;

before(async () => {
  network = await startNetwork();
});

after(async () => {
  await network?.stop();
});

/** The number a `data-count` attribute holds. */
async function count(page, testId) {
  return Number(await page.getByTestId(testId).getAttribute("data-count"));
}

test("the Network screen shows every station online with the devices it reports", async () => {
  const page = await network.newPage();
  await hqLogin(page, HQ_USERS.analyst);
  for (const station of ["ST0001", "ST0002", "ST0003"]) {
    await page.locator(`[data-testid="network-row-${station}"][data-online="true"]`).waitFor();
  }
  // ST0001 has a receipt printer and a pump line on pseudo-terminals; the others none.
  await page.locator('[data-testid="device-printer-ST0001"][data-state="ready"]').waitFor();
  await page.locator('[data-testid="device-pump_line-ST0001"][data-state="ready"]').waitFor();
  await page.locator('[data-testid="device-printer-ST0002"][data-state="not_configured"]').waitFor();
  // The search narrows the list at once.
  await page.getByTestId("network-search").fill("해운대");
  await page.locator('[data-testid="network-table-count"][data-count="1"]').waitFor();
  assert.equal(await page.getByTestId("network-row-ST0003").isVisible(), true);
  await page.getByTestId("network-search").fill("");
  await page.getByTestId("network-filter-region").selectOption("경기");
  await page.locator('[data-testid="network-table-count"][data-count="1"]').waitFor();
  assert.equal(await page.getByTestId("network-row-ST0002").isVisible(), true);
  await screenshot(page, "hq-network");
  assert.deepEqual(page.consoleErrors, []);
});

test("a price version made in the dashboard reaches every station and its roll-out ends all applied", async () => {
  const page = await network.newPage();
  await hqLogin(page, HQ_USERS.pricing);
  await page.getByTestId("nav-prices").click();
  await page.getByTestId("price-mode-table").click();
  await page.getByTestId("price-edit-CD1001").fill("1689");
  await page.locator('[data-testid="price-changed-count"][data-count="1"]').waitFor();
  await page.getByTestId("price-publish").click();
  // The new version is shown with its roll-out, which the stations' reports move on live.
  await page.locator('[data-testid="rollout-panel"][data-version="2"]').waitFor();
  await waitFor("every station to apply version 2", async () => (await count(page, "rollout-applied-count")) === 3, {
    timeoutMs: 30_000,
  });
  assert.equal(await count(page, "rollout-pending-count"), 0);
  assert.equal(await count(page, "rollout-offline-count"), 0);
  for (const station of ["ST0001", "ST0002", "ST0003"]) {
    await page.locator(`[data-testid="rollout-station-${station}"][data-state="applied"]`).waitFor();
    const shown = JSON.parse(await network.stations[station].cli("price", "show", "--product", "CD1001"));
    assert.equal(shown.unit_price_won, 1689, `${station}: ${JSON.stringify(shown)}`);
  }
  await screenshot(page, "hq-prices-rollout");
  // The audit log names who published it.
  const audit = await network.hubOk("GET", "/api/audit?action=price_published&actor=choi");
  assert.equal(audit.length, 1);
  assert.equal(audit[0].subject, "2");
  assert.deepEqual(page.consoleErrors, []);
});

test("an analyst cannot change a price: the page offers no editor and the API refuses", async () => {
  const page = await network.newPage();
  await hqLogin(page, HQ_USERS.analyst);
  await page.getByTestId("nav-prices").click();
  await page.getByTestId("versions-table").waitFor();
  assert.equal(await page.getByTestId("price-publish").count(), 0);
  // The same request the editor sends, with the analyst's session: refused by the hub.
  const token = await network.tokenOf(HQ_USERS.analyst);
  const before = await network.hubOk("GET", "/api/prices");
  const refused = await network.hubApi(
    "POST",
    "/api/prices",
    { prices: [{ product: "CD1001", unit_price_won: 1 }] },
    token,
  );
  assert.equal(refused.status, 403);
  assert.equal(refused.json.error.code, "forbidden");
  assert.deepEqual(await network.hubOk("GET", "/api/prices"), before);
});

test("an order placed at a station is dispatched from the board and delivered when the station confirms it", async () => {
  const station = network.stations.ST0002;
  const placed = JSON.parse(
    await station.cli(...station.asManager, "order", "place", "--product", "CD1001", "--litres", "8000", "--wanted", tomorrow()),
  );
  const page = await network.newPage();
  await hqLogin(page, HQ_USERS.logistics);
  await page.getByTestId("nav-orders").click();
  const row = page.locator(`[data-testid="order-row-${placed.order}"]`);
  await page.locator(`[data-testid="order-row-${placed.order}"][data-status="ordered"]`).waitFor({ timeout: 30_000 });
  await page.getByTestId(`order-dispatch-${placed.order}`).click();
  await page.getByTestId("dispatch-truck").fill("83가1234");
  await page.getByTestId("dispatch-volume").fill("8,000");
  await page.getByTestId("dispatch-submit").click();
  await page.getByTestId("orders-filter-all").click();
  await page.locator(`[data-testid="order-row-${placed.order}"][data-status="shipped"]`).waitFor();
  // The station gets the shipment, and confirms it at its tank.
  await waitFor("the station to expect the delivery", async () => {
    const list = JSON.parse(await station.cli("delivery", "list"));
    return list.length === 1 ? list : null;
  }, { timeoutMs: 30_000, intervalMs: 200 });
  const [delivery] = JSON.parse(await station.cli("delivery", "list"));
  await station.cli(...station.asManager, "delivery", "confirm", "--shipment", delivery.shipment, "--tank", "3", "--litres", "7990");
  await page.locator(`[data-testid="order-row-${placed.order}"][data-status="delivered"]`).waitFor({ timeout: 30_000 });
  assert.match(await row.textContent(), /83가1234/);
  await screenshot(page, "hq-orders-delivered");
});

test("sales made at a station show in the Sales screen and in its CSV", async () => {
  const station = network.stations.ST0001;
  await station.cli(...station.asCashier, "shift", "open", "--float", "100000");
  await station.cli(...station.asCashier, "sale", "settle", "--line", "product=CD1001,litres=40", "--cash", "70000");
  await station.cli(...station.asCashier, "sale", "settle", "--line", "product=SN2001,qty=3", "--cash", "3000");
  // 40 L at 1,689 won plus 3 waters at 1,000 won.
  const expected = 40 * 1689 + 3000;
  const page = await network.newPage();
  await hqLogin(page, HQ_USERS.analyst);
  await page.getByTestId("nav-sales").click();
  await page.getByTestId("sales-by").selectOption("station");
  const row = page.locator(`[data-testid="sales-row-ST0001"][data-net-won="${expected}"]`);
  await row.waitFor({ timeout: 30_000 });
  await screenshot(page, "hq-sales");
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("sales-export").click()]);
  const csv = await readFile(await download.path(), "utf8");
  assert.ok(csv.startsWith("\ufeff"), "a byte-order mark for spreadsheet programs");
  const lines = csv.slice(1).trim().split("\r\n");
  const line = lines.find((l) => l.includes("ST0001") || l.includes("강남"));
  assert.ok(line !== undefined, csv);
  assert.ok(line.split(",").includes(String(expected)), `${line} has ${expected}`);
});

test("a station's failed PIN checks and its logins show in HQ's audit log of the stations", async () => {
  const station = network.stations.ST0002;
  const wrongPin = CASHIER.pin === "0000" ? "0001" : "0000";
  for (let attempt = 0; attempt < 2; attempt += 1) {
    const refused = await run(path.join(network.bin, "station"), [
      "--db", station.db, "--user", CASHIER.user, "--pin", wrongPin, "shift", "open", "--float", "0",
    ]);
    assert.notEqual(refused.code, 0, "a wrong PIN is refused");
  }
  // The right PIN afterwards: two failures are below the lockout.
  await station.cli(...station.asCashier, "shift", "open", "--float", "50000");
  const page = await network.newPage();
  await hqLogin(page, HQ_USERS.analyst);
  await page.getByTestId("nav-audit").click();
  await page.getByTestId("audit-source-stations").click();
  await page.getByTestId("station-audit-station").fill("ST0002");
  await page.getByTestId("station-audit-action").selectOption("login_failed");
  await page.getByTestId("station-audit-search").click();
  const failed = page.locator(
    `[data-testid^="station-audit-row-ST0002-"][data-action="login_failed"][data-actor="${CASHIER.user}"]`,
  );
  // Once the search is answered, only ST0002's entries of that action are listed: both of them.
  // (The unfiltered list shown before it holds them too, among the rest.)
  const rows = page.locator('[data-testid^="station-audit-row-"]');
  await waitFor(
    "both failed PIN checks at HQ, and nothing else",
    async () => (await failed.count()) === 2 && (await rows.count()) === 2,
    { timeoutMs: 30_000 },
  );
  assert.match(await failed.first().textContent(), /로그인 실패/);
  await screenshot(page, "hq-station-audit");
  // The same log through the API, for the whole network: the cashier's login came after.
  const entries = await network.hubOk("GET", "/api/station-audit?station=ST0002&actor=" + CASHIER.user);
  const actions = entries.map((e) => e.action);
  assert.equal(actions[0], "login", JSON.stringify(entries));
  assert.deepEqual(actions.filter((a) => a === "login_failed").length, 2);
  assert.ok(entries.every((e) => e.station === "ST0002" && e.name === "수원 주유소"));
});

test("a stopped station turns offline on the Network screen and raises its alert", async () => {
  const settings = await network.hubOk("GET", "/api/alert-settings");
  await network.hubOk("PUT", "/api/alert-settings", { ...settings, offline_after_minutes: 0 });
  const page = await network.newPage();
  await hqLogin(page, HQ_USERS.admin);
  await page.locator('[data-testid="network-row-ST0003"][data-online="true"]').waitFor();
  await network.stations.ST0003.stop();
  // Told live: the page reads the network again when the hub hears the station's last will.
  await page.locator('[data-testid="network-row-ST0003"][data-online="false"]').waitFor({ timeout: 30_000 });
  await page.locator('[data-testid="network-row-ST0003"]:not([data-alerts="0"])').waitFor();
  await screenshot(page, "hq-network-offline");
  await page.getByTestId("nav-alerts").click();
  await page.getByTestId("alert-row-station_offline-ST0003").waitFor();
  // Said in the page's language from the hub's figures.
  assert.match(await page.getByTestId("alert-row-station_offline-ST0003").textContent(), /0분째 오프라인/);
  // The alert links to its station's screen.
  await page.getByTestId("alert-row-station_offline-ST0003").getByTestId("station-link-ST0003").click();
  await page.locator('[data-testid="station-online"][data-state="offline"]').waitFor();
  await screenshot(page, "hq-station-offline");
});

test("the language switch shows the dashboard in English and is remembered", async () => {
  const page = await network.newPage();
  await hqLogin(page, HQ_USERS.analyst);
  assert.equal(await page.getByTestId("lang-switch").getAttribute("data-lang"), "ko");
  assert.equal(await page.locator("html").getAttribute("lang"), "ko");
  await page.getByTestId("lang-switch").click();
  await page.locator('[data-testid="lang-switch"][data-lang="en"]').waitFor();
  assert.match(await page.getByTestId("nav-network").textContent(), /Network/);
  await page.reload();
  await page.locator('[data-testid="lang-switch"][data-lang="en"]').waitFor();
  await screenshot(page, "hq-english");
});
