// Starts a whole station system from real binaries for one test file: the hub with its embedded
// MQTT broker, a station database with users, simulated pumps and printer on pseudo-terminals,
// station-runtime serving the built UI, and a headless Chromium. Everything runs on free loopback
// ports in a temporary folder and is stopped by `system.stop()`.
//
// Binaries come from $STATION_BIN_DIR (e.g. "$CARGO_TARGET_DIR/debug"); the UI from ui/dist.

import { execFile, spawn } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { access, constants, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const UI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ARTIFACTS = path.join(UI_DIR, "e2e", "artifacts");
export const DIST = path.join(UI_DIR, "dist");

const BINARIES = ["hub", "station", "station-runtime", "pump-sim", "printer-sim", "gauge-sim"];
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const ADMIN_PASSWORD = "e2e-admin-password";
export const MANAGER = { user: "park", pin: "9999" };
export const CASHIER = { user: "kim", pin: "1234" };
export const STATION_ID = "ST0001";

/** Polls `check` until it returns a truthy value (returned), or fails after `timeoutMs`. */
export async function waitFor(what, check, { timeoutMs = 20_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError = null;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError === null ? "" : ` (last error: ${lastError.message ?? lastError})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function binDir() {
  const dir = process.env.STATION_BIN_DIR;
  if (dir === undefined || dir === "") {
    throw new Error(
      "STATION_BIN_DIR is not set. Build the binaries (cargo build --bins) and point it at them, " +
        'e.g. STATION_BIN_DIR="$CARGO_TARGET_DIR/debug" npm run e2e',
    );
  }
  const missing = [];
  for (const name of BINARIES) {
    try {
      await access(path.join(dir, name), constants.X_OK);
    } catch {
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    throw new Error(`STATION_BIN_DIR=${dir} lacks ${missing.join(", ")}; build them with cargo build --bins`);
  }
  if (!existsSync(path.join(DIST, "index.html"))) {
    throw new Error(`${DIST}/index.html is missing; run npm run build first`);
  }
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
  return dir;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A child process whose stdout lines are kept (and logged) so that tests can await them. */
export class Child {
  constructor(name, file, args, logDir) {
    this.name = name;
    this.lines = [];
    this.exited = null;
    this.listeners = new Set();
    this.logPath = path.join(logDir, `${name}.log`);
    const log = createWriteStream(this.logPath, { flags: "a" });
    this.process = spawn(file, args, { stdio: ["pipe", "pipe", "pipe"] });
    this.process.stderr.pipe(log);
    readline.createInterface({ input: this.process.stdout }).on("line", (line) => {
      log.write(`[stdout] ${line}\n`);
      this.lines.push(line);
      for (const listener of this.listeners) listener();
    });
    this.process.on("exit", (code, signal) => {
      this.exited = { code, signal };
      for (const listener of this.listeners) listener();
    });
    this.process.on("error", (error) => {
      this.exited = { code: null, signal: null, error };
      for (const listener of this.listeners) listener();
    });
  }

  /** The first stdout line at or after `from` that parses as JSON and satisfies `test`. */
  waitForJson(what, test, { from = 0, timeoutMs = 30_000 } = {}) {
    return new Promise((resolve, reject) => {
      let index = from;
      const check = () => {
        for (; index < this.lines.length; index++) {
          let json;
          try {
            json = JSON.parse(this.lines[index]);
          } catch {
            continue;
          }
          if (test(json)) {
            done();
            resolve(json);
            return;
          }
        }
        if (this.exited !== null) {
          done();
          reject(new Error(`${this.name} exited (${JSON.stringify(this.exited)}) before ${what}; see ${this.logPath}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${this.name}: ${what}; see ${this.logPath}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Writes a control line and awaits its JSON acknowledgement (`applied`). */
  async control(line) {
    const from = this.lines.length;
    this.process.stdin.write(`${line}\n`);
    const ack = await this.waitForJson(`ack of "${line}"`, (j) => j.line === line, { from, timeoutMs: 10_000 });
    if (ack.event !== "applied") throw new Error(`${this.name} rejected "${line}": ${JSON.stringify(ack)}`);
    return ack;
  }

  async stop() {
    if (this.exited !== null) return;
    const exited = new Promise((resolve) => this.process.once("exit", resolve));
    this.process.stdin.end();
    this.process.kill("SIGTERM");
    const timer = setTimeout(() => this.process.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }
}

export function run(file, args) {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (error.code ?? 1), stdout, stderr });
    });
  });
}

export async function http(base, method, urlPath, body, token) {
  const headers = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token !== undefined && token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${base}${urlPath}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json;
  try {
    json = text === "" ? null : JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, json };
}

/** `http` that insists on a 2xx answer. */
export async function ok(base, method, urlPath, body, token) {
  const answer = await http(base, method, urlPath, body, token);
  if (answer.status < 200 || answer.status > 299) {
    throw new Error(`${method} ${urlPath} answered ${answer.status}: ${JSON.stringify(answer.json)}`);
  }
  return answer.json;
}

/**
 * A temporary folder for one test file's processes and browser. `start` runs one of the
 * binaries with its log kept in the folder; `launchBrowser` starts headless Chromium; `stop`
 * ends them all (newest first) and removes the folder (kept with KEEP_E2E_DIR); `failed` stops
 * and returns the error with where the logs were.
 */
export async function workspace(prefix) {
  const bin = await binDir();
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  const children = [];
  let browser = null;
  const space = {
    bin,
    dir,
    start(name, args, file = name) {
      const child = new Child(name, path.join(bin, file), args, dir);
      children.push(child);
      return child;
    },
    async launchBrowser() {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
      });
      return browser;
    },
    async stop() {
      await browser?.close().catch(() => undefined);
      for (const child of children.reverse()) await child.stop();
      if (process.env.KEEP_E2E_DIR === undefined) await rm(dir, { recursive: true, force: true });
    },
    async failed(error) {
      const logs = children.map((c) => c.logPath).join(", ");
      await space.stop().catch(() => undefined);
      error.message += `\n(logs were in ${logs}; set KEEP_E2E_DIR=1 to keep them)`;
      return error;
    },
  };
  return space;
}

/**
 * Starts the hub with its embedded broker on a free port (`extra` arguments added) and signs
 * in its first HQ user; answers the hub's process, its base URL, the broker's port and the token.
 */
export async function startHub(space, extra = []) {
  const mqttPort = await freePort();
  const hub = space.start("hub", [
    "--db", path.join(space.dir, "hub.db"),
    "--http", "127.0.0.1:0",
    "--embedded-broker", `127.0.0.1:${mqttPort}`,
    "--admin-password", ADMIN_PASSWORD,
    ...extra,
  ]);
  const ready = await hub.waitForJson("the hub's ready line", (j) => typeof j.http === "string");
  const base = `http://${ready.http}`;
  const { token } = await ok(base, "POST", "/api/login", { username: "admin", password: ADMIN_PASSWORD });
  return { hub, base, mqttPort, token };
}

/**
 * Starts the system. Options: `gauge` (also start gauge-sim and pass it to the runtime).
 * Returns helpers for the test; always call `stop()` (e.g. in `after`).
 */
export async function startSystem({ gauge = false } = {}) {
  const space = await workspace("station-e2e-");
  const { bin, dir } = space;
  const start = (name, args) => space.start(name, args);
  const system = { dir, stop: space.stop };

  try {
    // HQ: hub with its embedded broker.
    const { base: hubBase, mqttPort, token: hubToken } = await startHub(space);
    const hubApi = (method, urlPath, body) => http(hubBase, method, urlPath, body, hubToken);
    await ok(hubBase, "PUT", "/api/products/CD1001", { name: "Diesel", unit: "litre" }, hubToken);
    await ok(hubBase, "PUT", "/api/products/GS1001", { name: "Gasoline", unit: "litre" }, hubToken);
    await ok(hubBase, "PUT", "/api/products/SN2001", { name: "Water 500ml", unit: "piece" }, hubToken);
    await ok(hubBase, "POST", "/api/prices", {
      prices: [
        { product: "CD1001", unit_price_won: 1650 },
        { product: "GS1001", unit_price_won: 1750 },
        { product: "SN2001", unit_price_won: 1000 },
      ],
    }, hubToken);
    await ok(hubBase, "POST", "/api/stations", { station: STATION_ID, name: "Gangnam", operating_type: "directly_managed" }, hubToken);

    // The station's database and users.
    const db = path.join(dir, "station.db");
    const cli = async (...args) => {
      const result = await run(path.join(bin, "station"), ["--db", db, ...args]);
      if (result.code !== 0) throw new Error(`station ${args.join(" ")} failed: ${result.stderr || result.stdout}`);
      return result.stdout;
    };
    const asManager = ["--user", MANAGER.user, "--pin", MANAGER.pin];
    await cli("--manager", MANAGER.user, "--manager-pin", MANAGER.pin, "init", "--station", STATION_ID, "--name", "Gangnam", "--manager-name", "Park");
    await cli(...asManager, "user", "add", "--id", CASHIER.user, "--name", "Kim", "--role", "cashier", "--new-pin", CASHIER.pin);

    // Devices on pseudo-terminals.
    const pumpSim = start("pump-sim", ["--pumps", "2", "--flow-rate", "60000"]);
    const printerSim = start("printer-sim", []);
    const pumpLine = (await pumpSim.waitForJson("pump-sim ready", (j) => j.event === "ready")).path;
    const printerLine = (await printerSim.waitForJson("printer-sim ready", (j) => j.event === "ready")).path;
    const deviceArgs = ["--printer", printerLine, "--pump-line", pumpLine];
    for (const nozzle of ["50/1=1", "50/2=3", "51/1=1", "51/2=3"]) deviceArgs.push("--nozzle", nozzle);
    let gaugeSim = null;
    if (gauge) {
      gaugeSim = start("gauge-sim", []);
      const gaugeLine = (await gaugeSim.waitForJson("gauge-sim ready", (j) => j.event === "ready")).path;
      deviceArgs.push("--gauge", gaugeLine, "--gauge-poll-ms", "500");
    }

    // The runtime serving the API and the UI.
    const runtimeArgs = (api) => [
      "--db", db,
      "--broker", `127.0.0.1:${mqttPort}`,
      "--api", api,
      "--ui-dir", DIST,
      "--resend-after-secs", "1",
      ...deviceArgs,
    ];
    const runtimeReady = (child) => child.waitForJson("station-runtime listening", (j) => typeof j.api === "string");
    let runtime = start("station-runtime", runtimeArgs("127.0.0.1:0"));
    const apiAddress = (await runtimeReady(runtime)).api;
    const stationBase = `http://${apiAddress}`;

    await waitFor("the station to receive HQ's prices", async () => {
      const result = await run(path.join(bin, "station"), ["--db", db, "price", "show", "--product", "CD1001"]);
      return result.code === 0;
    }, { timeoutMs: 30_000, intervalMs: 200 });
    await cli(...asManager, "tank", "register", "--tank", "1", "--product", "GS1001", "--capacity", "20000");
    await cli(...asManager, "tank", "register", "--tank", "3", "--product", "CD1001", "--capacity", "30000");

    const stationApi = (method, urlPath, body, token) => http(stationBase, method, urlPath, body, token);
    const stationLogin = async ({ user, pin }) =>
      (await ok(stationBase, "POST", "/api/session", { user, pin })).token;

    const browser = await space.launchBrowser();

    Object.assign(system, {
      bin,
      db,
      hubBase,
      hubApi,
      stationBase,
      stationApi,
      stationLogin,
      /** Like stationApi but throws unless 2xx; returns the JSON. */
      stationOk: (method, urlPath, body, token) => ok(stationBase, method, urlPath, body, token),
      hubOk: (method, urlPath, body) => ok(hubBase, method, urlPath, body, hubToken),
      cli,
      /** Runs the station tool and answers its exit code and output, refusals included. */
      cliResult: (...args) => run(path.join(bin, "station"), ["--db", db, ...args]),
      asManager,
      pumps: pumpSim,
      printer: printerSim,
      gauge: gaugeSim,
      get runtime() {
        return runtime;
      },
      /**
       * Stops the runtime and starts it again on the same address (sessions are lost);
       * `whileStopped` runs in between (e.g. an operator restoring the database from a backup).
       */
      async restartRuntime({ whileStopped } = {}) {
        await runtime.stop();
        await whileStopped?.();
        runtime = start("station-runtime", runtimeArgs(apiAddress));
        await runtimeReady(runtime);
      },
      browser,
      /** A fresh browser page on the station's UI (its own localStorage). */
      async newPage({ lang = "ko" } = {}) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, baseURL: stationBase });
        await context.addInitScript((chosen) => {
          if (localStorage.getItem("station.lang") === null) localStorage.setItem("station.lang", chosen);
        }, lang);
        const page = await context.newPage();
        page.consoleErrors = [];
        page.on("pageerror", (error) => page.consoleErrors.push(String(error)));
        await page.goto("/");
        return page;
      },
      async logTail(name, lines = 40) {
        const text = await readFile(path.join(dir, `${name}.log`), "utf8").catch(() => "");
        return text.split("\n").slice(-lines).join("\n");
      },
    });
    return system;
  } catch (error) {
    throw await space.failed(error);
  }
}

/** Saves a full-page screenshot to ui/e2e/artifacts/<name>.png. */
export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Signs in through the login screen and waits for the shell. */
export async function login(page, { user, pin }) {
  await page.getByTestId("login-user").fill(user);
  await page.getByTestId("login-pin").fill(pin);
  await page.getByTestId("login-submit").click();
  await page.getByTestId("logout").waitFor();
}

/** Opens the cashier's shift through the UI when none is open. */
export async function openShift(page, floatWon = 100_000) {
  await page.getByTestId("nav-forecourt").click();
  const open = page.getByTestId("shift-open");
  const current = page.getByTestId("shift-close-open");
  await open.or(current).first().waitFor();
  if (await open.isVisible()) {
    await page.getByTestId("shift-float").fill(String(floatWon));
    await open.click();
    await current.waitFor();
  }
}

/** Settles a manual-fuel sale through the UI; returns the receipt number shown. */
export async function manualFuelSale(page, { product = "CD1001", litres, pay }) {
  await page.getByTestId("manual-fuel").click();
  await page.getByTestId("manual-product").selectOption(product);
  await page.getByTestId("manual-litres").fill(litres);
  await page.getByTestId("manual-next").click();
  await pay(page);
  await page.getByTestId("settle").click();
  await page.getByTestId("receipt").waitFor();
  return (await page.getByTestId("receipt-no").textContent()).trim();
}
