// The manager's back office: prices, users (add, change PIN), sync and devices; a cashier sees
// only the POS screens and the API refuses the rest; an ended session returns to the login.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CASHIER, MANAGER, login, screenshot, startSystem, waitFor } from "./harness.mjs";

let system;
let page;

before(async () => {
  system = await startSystem();
  page = await system.newPage({ lang: "en" });
  await login(page, MANAGER);
});

after(async () => {
  await system?.stop();
});

test("prices show the version in force", async () => {
  await page.getByTestId("nav-prices").click();
  const version = page.getByTestId("price-version-1");
  await version.waitFor();
  assert.equal(await version.getAttribute("data-status"), "in_force");
  assert.match(await version.textContent(), /Diesel[\s\S]*₩1,650/);
});

test("a manager adds a user and changes a PIN", async () => {
  await page.getByTestId("nav-users").click();
  await page.getByTestId("user-row-kim").waitFor();
  await page.getByTestId("user-id").fill("lee");
  await page.getByTestId("user-name").fill("Lee");
  await page.getByTestId("user-role").selectOption("cashier");
  await page.getByTestId("user-pin").fill("2468");
  await page.getByTestId("user-add").click();
  await page.getByTestId("user-row-lee").waitFor();
  const token = await system.stationLogin(MANAGER);
  const users = await system.stationOk("GET", "/api/users", undefined, token);
  assert.ok(users.some((u) => u.user === "lee" && u.role === "cashier" && u.active));
  assert.ok(await system.stationLogin({ user: "lee", pin: "2468" }));

  await page.getByTestId("user-row-lee").getByTestId("user-change-pin").click();
  await page.getByTestId("user-new-pin").fill("1357");
  await page.getByTestId("user-pin-save").click();
  // Not just any notice: the one of adding lee may still be showing.
  await waitFor("the PIN changed notice", async () =>
    /PIN of lee changed/.test((await page.getByTestId("notice").textContent({ timeout: 1000 })) ?? ""));
  assert.equal((await system.stationApi("POST", "/api/session", { user: "lee", pin: "2468" })).status, 401);
  assert.ok(await system.stationLogin({ user: "lee", pin: "1357" }));

  // Adding the same id again: the API's error, translated.
  await page.getByTestId("user-id").fill("lee");
  await page.getByTestId("user-name").fill("Lee again");
  await page.getByTestId("user-pin").fill("1111");
  await page.getByTestId("user-add").click();
  const banner = page.getByTestId("error-banner");
  await banner.waitFor();
  assert.equal(await banner.getAttribute("data-code"), "user_exists");
  assert.match(await banner.textContent(), /already exists/);
});

test("sync and devices show the link to HQ and the devices", async () => {
  await page.getByTestId("nav-sync").click();
  await waitFor("HQ online", async () => (await page.getByTestId("sync-connected").getAttribute("data-state")) === "online");
  assert.equal(await page.getByTestId("device-printer").getAttribute("data-state"), "ready");
  assert.equal(await page.getByTestId("device-pump-line").getAttribute("data-state"), "ready");
  assert.equal(await page.getByTestId("device-gauge").getAttribute("data-state"), "not_configured");
  await screenshot(page, "sync");
});

test("a cashier sees only the POS screens and the API refuses the back office", async () => {
  const cashier = await system.newPage();
  await login(cashier, CASHIER);
  assert.equal(await cashier.getByTestId("nav-forecourt").count(), 1);
  assert.equal(await cashier.getByTestId("nav-sales").count(), 1);
  for (const name of ["stock", "orders", "prices", "accounts", "users", "audit", "sync"]) {
    assert.equal(await cashier.getByTestId(`nav-${name}`).count(), 0, `nav-${name} hidden`);
  }
  const token = await system.stationLogin(CASHIER);
  const refused = await system.stationApi("GET", "/api/users", undefined, token);
  assert.equal(refused.status, 403);
  assert.equal(refused.json.error.code, "manager_required");
  const audit = await system.stationApi("GET", "/api/audit", undefined, token);
  assert.equal(audit.status, 403);
});

test("an unknown session token returns to the login screen", async () => {
  const other = await system.newPage();
  await other.evaluate(() => localStorage.setItem("station.token", "no-such-token"));
  await other.reload();
  await other.getByTestId("login-user").waitFor();
  assert.equal(await other.getByTestId("error-banner").getAttribute("data-code"), "unauthenticated");
  await login(other, CASHIER);
  assert.notEqual(await other.evaluate(() => localStorage.getItem("station.token")), "no-such-token");
});

test("when the runtime restarts, the live channel reconnects and the lost session returns to the login", async () => {
  const cashier = await system.newPage();
  await login(cashier, CASHIER);
  await waitFor("HQ online", async () => (await cashier.getByTestId("status-sync").getAttribute("data-state")) === "online");
  await system.restartRuntime();
  await cashier.getByTestId("login-user").waitFor({ timeout: 20_000 });
  await login(cashier, CASHIER);
  await waitFor("the live state again", async () =>
    (await cashier.getByTestId("pump-50").getAttribute("data-state")) === "idle");
});
