// Who gets in, through the UI: wrong PINs slowed ("too soon") and then locked out, a manager
// lifting the lockout from the Users screen, or clearing the wait after a few wrong PINs; a cashier deactivated (with a confirmation), their
// open session ending at once, and let back in; the audit log of it all, filtered and paged;
// a card payment on account needing the terminal's approval number.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CASHIER, MANAGER, login, screenshot, startSystem, waitFor } from "./harness.mjs";

let system;
/** The manager's back office, in English. */
let manager;
let managerToken;

before(async () => {
  system = await startSystem();
  managerToken = await system.stationLogin(MANAGER);
  manager = await system.newPage({ lang: "en" });
  await login(manager, MANAGER);
});

after(async () => {
  await system?.stop();
});

/** Tries a PIN at the login screen; answers the runtime's status and code and the banner. */
async function tryPin(page, user, pin) {
  await page.getByTestId("login-user").fill(user);
  await page.getByTestId("login-pin").fill(pin);
  const answered = page.waitForResponse(
    (r) => new URL(r.url()).pathname === "/api/session" && r.request().method() === "POST",
  );
  await page.getByTestId("login-submit").click();
  const response = await answered;
  const code = (await response.json())?.error?.code ?? null;
  const banner = page.getByTestId("error-banner");
  if (code !== null) await waitFor(`the banner for ${code}`, async () => (await banner.getAttribute("data-code")) === code);
  return { status: response.status(), code, text: code === null ? "" : (await banner.textContent()).trim() };
}

/** Shows a back-office screen afresh (screens load their data when they open). */
async function openScreen(page, name) {
  await page.getByTestId(name === "forecourt" ? "nav-sales" : "nav-forecourt").click();
  await page.getByTestId(`nav-${name}`).click();
}

test("wrong PINs are slowed, then locked out; a manager lifts the lockout and the cashier signs in", async (t) => {
  const cashier = await system.newPage(); // Korean, the default
  for (let n = 1; n <= 3; n++) {
    const answer = await tryPin(cashier, CASHIER.user, "0000");
    assert.deepEqual([answer.status, answer.code], [401, "bad_credentials"], `wrong PIN ${n}`);
  }
  // A fourth wrong PIN, made by the station tool ten minutes ahead (--at), starts a wait that
  // ends after that moment: the next attempt at the counter comes too soon however slow this
  // machine is, and is refused without checking.
  const ahead = new Date(Date.now() + 10 * 60_000).toISOString();
  const fourth = await system.cliResult("--at", ahead, "--user", CASHIER.user, "--pin", "0000", "shift", "close", "--counted", "0");
  assert.equal(JSON.parse(fourth.stderr).error.code, "bad_credentials", fourth.stderr);
  const refused = await tryPin(cashier, CASHIER.user, "0000");
  assert.equal(refused.code, "pin_attempts_too_soon");
  t.diagnostic("the attempt after the fourth was refused as too soon");
  assert.equal(refused.status, 429);
  assert.match(refused.text, /PIN이 여러 번 틀렸습니다\. \d+초 기다린 뒤 다시 시도하세요/);
  assert.doesNotMatch(refused.text, /try again/, "translated, not the server's English");
  assert.ok(await cashier.getByTestId("login-user").isVisible(), "still at the login");
  await screenshot(cashier, "login-too-soon");

  // Guessing on ends in a lockout at the tenth wrong PIN. Rather than wait out each longer
  // pause (two minutes in all), the station tool makes the guesses at moments given with --at,
  // each past the pause before it (the pauses are at most 64 s; these are 2 minutes apart).
  const start = Date.now() + 20 * 60_000;
  let lockedOut = null;
  for (let n = 0; lockedOut === null && n < 10; n++) {
    const at = new Date(start + n * 120_000).toISOString();
    const result = await system.cliResult("--at", at, "--user", CASHIER.user, "--pin", "0000", "shift", "close", "--counted", "0");
    assert.equal(result.code, 1, `guess ${n}: ${result.stderr}`);
    const code = JSON.parse(result.stderr).error.code;
    if (code === "user_locked_out") lockedOut = code;
    else assert.equal(code, "bad_credentials", `guess ${n}`);
  }
  assert.equal(lockedOut, "user_locked_out", "locked out after ten wrong PINs");
  // Now even the right PIN is refused, and the login says to ask a manager.
  const locked = await tryPin(cashier, CASHIER.user, CASHIER.pin);
  assert.deepEqual([locked.status, locked.code], [423, "user_locked_out"]);
  assert.match(locked.text, /점장에게 잠금 해제를 요청하세요/);
  await screenshot(cashier, "login-locked-out");

  await openScreen(manager, "users");
  const row = manager.getByTestId(`user-row-${CASHIER.user}`);
  await waitFor("the locked-out row", async () => (await row.getAttribute("data-locked-out")) === "true");
  assert.match(await row.getByTestId("user-locked-badge").textContent(), /Locked out/);
  assert.equal(await manager.getByTestId(`user-row-${MANAGER.user}`).getByTestId("user-lift-lockout").count(), 0);
  await screenshot(manager, "users-locked-out");
  await row.getByTestId("user-lift-lockout").click();
  await waitFor("the lockout lifted", async () => (await row.getAttribute("data-locked-out")) === "false");
  assert.equal(await row.getByTestId("user-locked-badge").count(), 0);
  assert.match(await manager.getByTestId("notice").textContent(), /Lockout of kim lifted/);
  const users = await system.stationOk("GET", "/api/users", undefined, managerToken);
  assert.equal(users.find((u) => u.user === CASHIER.user).locked_out, false);

  await login(cashier, CASHIER);
  assert.equal(await cashier.getByTestId("error-banner").count(), 0);
});

test("a manager clears the wait after a few wrong PINs, short of a lockout", async () => {
  const lim = { user: "lim", pin: "2468" };
  await system.stationOk("POST", "/api/users", { user: lim.user, name: "Lim", role: "cashier", pin: lim.pin }, managerToken);
  // Four wrong PINs, the last made ten minutes ahead (--at): the next check waits past then.
  const ahead = new Date(Date.now() + 10 * 60_000).toISOString();
  for (const at of [null, null, null, ahead]) {
    const when = at === null ? [] : ["--at", at];
    const result = await system.cliResult(...when, "--user", lim.user, "--pin", "0000", "shift", "close", "--counted", "0");
    assert.equal(JSON.parse(result.stderr).error.code, "bad_credentials", result.stderr);
  }
  const refused = await system.stationApi("POST", "/api/session", lim);
  assert.equal(refused.json.error.code, "pin_attempts_too_soon");

  await openScreen(manager, "users");
  const row = manager.getByTestId(`user-row-${lim.user}`);
  const badge = row.getByTestId("user-failed-pins-badge");
  await waitFor("the wrong PINs on the row", async () => (await badge.count()) === 1);
  assert.equal(await badge.getAttribute("data-failed-pins"), "4");
  assert.match(await badge.textContent(), /4 wrong PINs: next try in \d+ s/);
  assert.equal(await row.getAttribute("data-locked-out"), "false");
  await screenshot(manager, "users-wrong-pins");
  await row.getByTestId("user-lift-lockout").click();
  await waitFor("the wrong PINs cleared", async () => (await badge.count()) === 0);
  // The cashier signs in at once, and the clearing is in the audit log.
  await system.stationLogin(lim);
  const lifted = await system.stationOk("GET", "/api/audit?action=lockout_lifted", undefined, managerToken);
  const entry = lifted.find((e) => e.subject === lim.user);
  assert.ok(entry !== undefined, JSON.stringify(lifted));
  assert.equal(entry.detail, "4 failed PIN checks cleared");
});

test("a deactivated cashier's open session ends at once; they cannot sign in until let back in", async () => {
  const choi = { user: "choi", pin: "4321" };
  await system.stationOk("POST", "/api/users", { user: choi.user, name: "Choi", role: "cashier", pin: choi.pin }, managerToken);
  const cashier = await system.newPage({ lang: "en" });
  await login(cashier, choi);

  await openScreen(manager, "users");
  const row = manager.getByTestId(`user-row-${choi.user}`);
  await row.waitFor();
  assert.equal(await row.getAttribute("data-active"), "true");
  // The manager cannot deactivate themselves: no such button on their own row.
  assert.equal(await manager.getByTestId(`user-row-${MANAGER.user}`).getByTestId("user-deactivate").count(), 0);

  // One tap only asks, naming the user; canceling changes nothing.
  await row.getByTestId("user-deactivate").click();
  const dialog = manager.getByTestId("user-active-dialog");
  await dialog.waitFor();
  assert.equal(await dialog.getAttribute("aria-label"), "Deactivate Choi (choi)?");
  assert.match(await dialog.getByTestId("user-active-question").textContent(), /Choi can no longer sign in/);
  assert.match(await dialog.getByTestId("user-active-confirm").textContent(), /Deactivate choi/);
  const stillActive = await system.stationOk("GET", "/api/users", undefined, managerToken);
  assert.equal(stillActive.find((u) => u.user === choi.user).active, true, "not deactivated by the first tap");
  await screenshot(manager, "users-deactivate-confirm");
  await dialog.getByTestId("user-active-cancel").click();
  await dialog.waitFor({ state: "detached" });
  assert.equal(await row.getAttribute("data-active"), "true");

  await row.getByTestId("user-deactivate").click();
  await dialog.getByTestId("user-active-confirm").click();
  await dialog.waitFor({ state: "detached" });
  await waitFor("the row deactivated", async () => (await row.getAttribute("data-active")) === "false");
  // Greyed, still listed, and can be let back in.
  assert.match(await row.getAttribute("class"), /inactive/);
  assert.match(await row.getByTestId("user-inactive-badge").textContent(), /Deactivated/);
  assert.equal(await row.getByTestId("user-reactivate").count(), 1);
  const listed = await system.stationOk("GET", "/api/users", undefined, managerToken);
  assert.equal(listed.find((u) => u.user === choi.user).active, false);
  await screenshot(manager, "users-deactivated");

  // The cashier's open screen: the next thing they do returns them to the login, saying why.
  await cashier.getByTestId("nav-sales").click();
  await cashier.getByTestId("login-user").waitFor();
  const banner = cashier.getByTestId("error-banner");
  assert.equal(await banner.getAttribute("data-code"), "unauthenticated");
  assert.match(await banner.textContent(), /Signed out[\s\S]*Your session has ended[\s\S]*sign in again/);
  assert.doesNotMatch(await banner.textContent(), /Error/);
  await screenshot(cashier, "login-session-ended");

  // And they cannot sign in again.
  const refused = await tryPin(cashier, choi.user, choi.pin);
  assert.equal(refused.code, "bad_credentials", "no hint that the user exists");
  assert.equal(await cashier.getByTestId("logout").count(), 0);
  assert.ok(await cashier.getByTestId("login-user").isVisible());

  // Let back in (again with a confirmation), they sign in.
  await row.getByTestId("user-reactivate").click();
  assert.equal(await dialog.getAttribute("aria-label"), "Reactivate Choi (choi)?");
  await dialog.getByTestId("user-active-confirm").click();
  await waitFor("the row active again", async () => (await row.getAttribute("data-active")) === "true");
  await login(cashier, choi);
});

test("the audit log shows the failed sign-ins and the lifted lockout, filtered by action, and pages back", async () => {
  const { time_zone: timeZone } = await system.stationOk("GET", "/api/station", undefined, managerToken);
  await openScreen(manager, "audit");
  await manager.getByTestId("audit-list").waitFor();
  const rows = manager.locator("[data-testid^=audit-row-]");
  const shown = async () =>
    rows.evaluateAll((list) =>
      list.map((tr) => ({ entry: Number(tr.dataset.entry), action: tr.dataset.action, actor: tr.dataset.actor, subject: tr.dataset.subject })),
    );
  /** Chooses an action in the filter ("" for all) and waits for the first page the API has. */
  const filter = async (action) => {
    await manager.getByTestId("audit-filter").selectOption(action);
    const query = action === "" ? "limit=50" : `action=${action}&limit=50`;
    const expected = await system.stationOk("GET", `/api/audit?${query}`, undefined, managerToken);
    await waitFor(`the ${action || "unfiltered"} entries`, async () => {
      const list = await shown();
      return list.length === expected.length &&
        list.every((row, i) => row.entry === expected[i].entry && row.action === expected[i].action);
    });
    assert.ok(action === "" || expected.every((e) => e.action === action));
    return expected;
  };

  // Ten wrong PINs of the cashier, the last one locking them out (choi's one too).
  const failed = await filter("login_failed");
  assert.equal(failed.filter((e) => e.actor === CASHIER.user).length, 10, JSON.stringify(failed));
  assert.ok(failed.some((e) => e.actor === "choi"));
  const first = manager.getByTestId(`audit-row-${failed[0].entry}`);
  assert.match(await first.textContent(), /Failed sign-in/);
  // The time in the station's time zone, to the second.
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", {
      timeZone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date(failed[0].at)).map((p) => [p.type, p.value]),
  );
  const local = `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
  assert.ok((await first.textContent()).includes(local), `${local} in ${await first.textContent()}`);

  const lockedOut = await filter("locked_out");
  assert.equal(lockedOut[0].actor, CASHIER.user);
  // The cashier's lockout lifted (and lim's wrong PINs cleared, in their own test).
  const lifted = (await filter("lockout_lifted")).filter((e) => e.subject === CASHIER.user);
  assert.equal(lifted.length, 1);
  const liftedRow = manager.getByTestId(`audit-row-${lifted[0].entry}`);
  assert.equal(await liftedRow.getAttribute("data-actor"), MANAGER.user);
  assert.equal(await liftedRow.getAttribute("data-subject"), CASHIER.user);
  assert.match(await liftedRow.textContent(), /Lockout lifted/);
  await screenshot(manager, "audit-lockout-lifted");
  const deactivated = await filter("user_deactivated");
  assert.equal(deactivated[0].subject, "choi");

  // More sign-ins than one page: "older entries" pages back by entry number.
  for (let n = 0; n < 55; n++) await system.stationLogin(MANAGER);
  const logins = await system.stationOk("GET", "/api/audit?action=login&limit=1000", undefined, managerToken);
  assert.ok(logins.length > 50 && logins.length < 100, String(logins.length));
  await filter("login");
  assert.equal((await shown()).length, 50);
  await manager.getByTestId("audit-older").click();
  await waitFor("the older page", async () => (await shown()).length === logins.length);
  assert.deepEqual((await shown()).map((row) => row.entry), logins.map((e) => e.entry));
  await manager.getByTestId("audit-no-older").waitFor();
  assert.equal(await manager.getByTestId("audit-older").count(), 0);

  // All actions again, newest first; paging back reaches the lockout among the rest.
  await filter("");
  const newest = await system.stationOk("GET", "/api/audit?limit=100", undefined, managerToken);
  await manager.getByTestId("audit-older").click();
  await waitFor("the older page of every action", async () => (await shown()).length === newest.length);
  const all = await shown();
  assert.deepEqual(all.map((row) => row.entry), newest.map((e) => e.entry));
  assert.ok(all.every((row, i) => i === 0 || row.entry < all[i - 1].entry), "newest first, no repeats");
  assert.ok(all.some((row) => row.action === "lockout_lifted"), JSON.stringify(all.map((row) => row.action)));
  await screenshot(manager, "audit");
});

test("a card payment on account needs the approval number, refused on its field", async () => {
  const account = await system.stationOk("POST", "/api/accounts", { name: "Hanjin Logistics", credit_limit_won: 500_000 }, managerToken);
  const cashierToken = await system.stationLogin(CASHIER);
  await system.stationOk("POST", "/api/shift/open", { opening_float_won: 0 }, cashierToken);
  await system.stationOk("POST", "/api/sales", {
    lines: [{ product: "CD1001", volume_ml: 40_000 }],
    payment: { method: "account", account: account.account },
  }, cashierToken);

  await openScreen(manager, "accounts");
  const row = manager.getByTestId(`account-row-${account.account}`);
  await waitFor("the balance", async () => (await row.getAttribute("data-balance-won")) === "66000");
  await row.getByTestId("account-show").click();
  await manager.getByTestId("payment-amount").fill("16000");
  assert.equal(await manager.getByTestId("payment-reference").count(), 0, "cash asks for no reference");
  await manager.getByTestId("payment-method").selectOption("card");

  // Without the approval number: refused on the field, nothing recorded.
  const reference = manager.getByTestId("payment-reference");
  await reference.waitFor();
  await manager.getByTestId("payment-take").click();
  const error = manager.getByTestId("payment-reference-error");
  await error.waitFor();
  assert.equal(await error.textContent(), "Enter the card approval number.");
  assert.equal(await reference.getAttribute("aria-invalid"), "true");
  assert.equal(await manager.getByTestId("error-banner").count(), 0, "on the field, not in the banner");
  await screenshot(manager, "accounts-card-reference-missing");
  const unchanged = await system.stationOk("GET", `/api/accounts/${account.account}`, undefined, managerToken);
  assert.equal(unchanged.balance_won, 66_000);

  // With it: accepted, and the reference is on the record.
  await reference.fill("APPROVAL-5521");
  await error.waitFor({ state: "detached" });
  await manager.getByTestId("payment-take").click();
  await waitFor("the balance after the payment", async () => (await row.getAttribute("data-balance-won")) === "50000");
  const paid = await system.stationOk("GET", `/api/accounts/${account.account}`, undefined, managerToken);
  assert.equal(paid.balance_won, 50_000);
  const payments = await system.stationOk("GET", "/api/audit?action=account_payment", undefined, managerToken);
  assert.match(payments[0].detail, /16000 won by card, reference APPROVAL-5521/);
  assert.equal(await manager.getByTestId("payment-reference").inputValue(), "", "cleared for the next one");
});
