// Starts a small network from real binaries for HQ's dashboard tests: the hub with its embedded
// MQTT broker serving the built dashboard (ui/dist-hq), three station runtimes syncing with it
// (ST0001 with simulated pumps and a receipt printer on pseudo-terminals), HQ users of every
// role, and a headless Chromium. Everything runs on free loopback ports in a temporary folder and
// is stopped by `network.stop()`.

import { existsSync } from "node:fs";
import path from "node:path";
import {
  ADMIN_PASSWORD,
  CASHIER,
  MANAGER,
  UI_DIR,
  http,
  ok,
  run,
  startHub,
  waitFor,
  workspace,
} from "./harness.mjs";

export const DIST_HQ = path.join(UI_DIR, "dist-hq");
/** Every HQ user the tests sign in as (the administrator is made by the hub's first start). */
export const HQ_USERS = {
  admin: { username: "admin", password: ADMIN_PASSWORD },
  pricing: { username: "choi", password: "pricing-password", role: "pricing" },
  logistics: { username: "jung", password: "logistics-password", role: "logistics" },
  analyst: { username: "han", password: "analyst-password", role: "analyst" },
};
export const STATIONS = [
  { station: "ST0001", name: "강남 주유소", operating_type: "directly_managed", region: "서울" },
  { station: "ST0002", name: "수원 주유소", operating_type: "franchise", region: "경기" },
  { station: "ST0003", name: "해운대 주유소", operating_type: "consignment", region: "부산" },
];

/** Tomorrow in Seoul, YYYY-MM-DD: a wanted date still to come. */
export function tomorrow() {
  const seoul = new Date(Date.now() + 9 * 3_600_000 + 86_400_000);
  return seoul.toISOString().slice(0, 10);
}

export async function startNetwork() {
  if (!existsSync(path.join(DIST_HQ, "index.html"))) {
    throw new Error(`${DIST_HQ}/index.html is missing; run npm run build first`);
  }
  const space = await workspace("hq-e2e-");
  const { bin, dir } = space;
  const start = (name, file, args) => space.start(name, args, file);
  const network = { dir, stop: space.stop };

  try {
    const { base: hubBase, mqttPort, token: adminToken } = await startHub(space, ["--dashboard-dir", DIST_HQ]);
    const tokenOf = async ({ username, password }) =>
      (await ok(hubBase, "POST", "/api/login", { username, password })).token;
    const hubOk = (method, urlPath, body, token = adminToken) => ok(hubBase, method, urlPath, body, token);
    const hubApi = (method, urlPath, body, token = adminToken) => http(hubBase, method, urlPath, body, token);
    for (const user of [HQ_USERS.pricing, HQ_USERS.logistics, HQ_USERS.analyst]) {
      await hubOk("POST", "/api/hq-users", user);
    }
    await hubOk("PUT", "/api/products/CD1001", { name: "경유", unit: "litre" });
    await hubOk("PUT", "/api/products/GS1001", { name: "휘발유", unit: "litre" });
    await hubOk("PUT", "/api/products/SN2001", { name: "생수 500ml", unit: "piece" });
    await hubOk("POST", "/api/prices", {
      prices: [
        { product: "CD1001", unit_price_won: 1650 },
        { product: "GS1001", unit_price_won: 1750 },
        { product: "SN2001", unit_price_won: 1000 },
      ],
    });
    for (const station of STATIONS) await hubOk("POST", "/api/stations", station);

    // ST0001's devices, so it reports a printer and a pump line to HQ.
    const pumpSim = start("pump-sim", "pump-sim", ["--pumps", "1"]);
    const printerSim = start("printer-sim", "printer-sim", []);
    const pumpLine = (await pumpSim.waitForJson("pump-sim ready", (j) => j.event === "ready")).path;
    const printerLine = (await printerSim.waitForJson("printer-sim ready", (j) => j.event === "ready")).path;

    const stations = {};
    for (const { station, name } of STATIONS) {
      const db = path.join(dir, `${station}.db`);
      const cli = async (...args) => {
        const result = await run(path.join(bin, "station"), ["--db", db, ...args]);
        if (result.code !== 0) throw new Error(`station ${args.join(" ")} failed: ${result.stderr || result.stdout}`);
        return result.stdout;
      };
      const asManager = ["--user", MANAGER.user, "--pin", MANAGER.pin];
      const asCashier = ["--user", CASHIER.user, "--pin", CASHIER.pin];
      await cli("--manager", MANAGER.user, "--manager-pin", MANAGER.pin, "init", "--station", station, "--name", name, "--manager-name", "Park");
      await cli(...asManager, "user", "add", "--id", CASHIER.user, "--name", "Kim", "--role", "cashier", "--new-pin", CASHIER.pin);
      const devices = station === "ST0001" ? ["--printer", printerLine, "--pump-line", pumpLine, "--nozzle", "50/1=3"] : [];
      const args = [
        "--db", db,
        "--broker", `127.0.0.1:${mqttPort}`,
        "--api", "127.0.0.1:0",
        "--resend-after-secs", "1",
        ...devices,
      ];
      const runtime = start(`runtime-${station}`, "station-runtime", args);
      await runtime.waitForJson("station-runtime listening", (j) => typeof j.api === "string");
      await waitFor(`${station} to receive HQ's prices`, async () => {
        const result = await run(path.join(bin, "station"), ["--db", db, "price", "show", "--product", "CD1001"]);
        return result.code === 0;
      }, { timeoutMs: 30_000, intervalMs: 200 });
      await cli(...asManager, "tank", "register", "--tank", "3", "--product", "CD1001", "--capacity", "30000");
      stations[station] = {
        db,
        cli,
        asManager,
        asCashier,
        get runtime() {
          return runtime;
        },
        /** Stops the station's runtime (its last will tells HQ it is offline). */
        stop: () => runtime.stop(),
      };
    }

    const browser = await space.launchBrowser();

    Object.assign(network, {
      bin,
      hubBase,
      hubOk,
      hubApi,
      tokenOf,
      stations,
      browser,
      /** A fresh page on the dashboard, in its own browser context (its own localStorage). */
      async newPage({ lang = "ko" } = {}) {
        // HQ staff work in Korea: dates in the page are Seoul's, as the stations' business days are.
        const context = await browser.newContext({
          viewport: { width: 1440, height: 900 },
          baseURL: hubBase,
          timezoneId: "Asia/Seoul",
          acceptDownloads: true,
        });
        await context.addInitScript((chosen) => {
          if (localStorage.getItem("hq.lang") === null) localStorage.setItem("hq.lang", chosen);
        }, lang);
        const page = await context.newPage();
        page.consoleErrors = [];
        page.on("pageerror", (error) => page.consoleErrors.push(String(error)));
        await page.goto("/");
        return page;
      },
    });
    return network;
  } catch (error) {
    throw await space.failed(error);
  }
}

/** Signs in to the dashboard through its login screen and waits for the shell. */
export async function hqLogin(page, { username, password }) {
  await page.getByTestId("login-user").fill(username);
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
  await page.getByTestId("nav-network").waitFor();
}
