// The dashboard's Network screen over a whole network, in headless Chromium against the real hub:
// the hub serves a database of 1,000 stations with a year of history (made by the hub's
// dashboard bench, `DASHBOARD_KEEP=1 cargo bench -p cloud-hub --bench dashboard`, which prints
// where it kept it), and the page opens on the Network screen, signed in. For each of RUNS fresh
// pages it measures, in the page's own clock from the start of navigation:
//   - ready: every station's row counted and the first rows drawn (the screen usable);
//   - search: from typing a station id into the search until the list shows that one station.
// Prints p50/p95/max in ms and writes ui/e2e/artifacts/network-latency.json.
//
// Run: HUB_BENCH_DB=<that file> HUB_BIN="$CARGO_TARGET_DIR/release/hub" npm run bench:hq
// (a release build of the hub, as production runs it: cargo build --release -p cloud-hub --bin hub;
// HUB_BENCH_USER / HUB_BENCH_PASSWORD if the database has other credentials; RUNS=n)
// Goal: the Network screen interactive in < 1 s with 1,000 stations.

import { copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { existsSync } from "node:fs";
import { ARTIFACTS, CHROMIUM, Child, freePort, ok } from "./harness.mjs";
import { DIST_HQ } from "./hq-harness.mjs";

const RUNS = Number(process.env.RUNS ?? 20);
const DB = process.env.HUB_BENCH_DB;
const USER = process.env.HUB_BENCH_USER ?? "hq-admin";
const PASSWORD = process.env.HUB_BENCH_PASSWORD ?? "a long benchmark password";

function percentile(sorted, p) {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (n) => Math.round(n * 10) / 10;
  return { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), max: round(sorted.at(-1)) };
}

/** Runs in the page before its scripts: notes when the Network screen first holds every row. */
function watchNetwork(expected) {
  const seen = () => {
    const count = document.querySelector('[data-testid="network-table-count"]');
    const row = document.querySelector('[data-testid^="network-row-"]');
    return count !== null && row !== null && Number(count.getAttribute("data-count")) === expected;
  };
  const observer = new MutationObserver(() => {
    if (window.networkReadyAt === undefined && seen()) {
      window.networkReadyAt = performance.now();
      observer.disconnect();
    }
  });
  document.addEventListener("DOMContentLoaded", () =>
    observer.observe(document.body, { childList: true, subtree: true, attributes: true }),
  );
}

/** Types a station id into the search and resolves with the ms until one row is left. */
function measureSearch(station) {
  return new Promise((resolve, reject) => {
    const input = document.querySelector('[data-testid="network-search"]');
    const timer = setTimeout(() => reject(new Error("the search did not narrow the list in 10 s")), 10_000);
    const start = performance.now();
    const observer = new MutationObserver(() => {
      const count = document.querySelector('[data-testid="network-table-count"]');
      if (count?.getAttribute("data-count") === "1" && document.querySelector(`[data-testid="network-row-${station}"]`)) {
        observer.disconnect();
        clearTimeout(timer);
        requestAnimationFrame(() => resolve(performance.now() - start));
      }
    });
    observer.observe(document.body, { childList: true, subtree: true, attributes: true });
    input.value = station;
    input.dispatchEvent(new Event("input", { bubbles: true }));
  });
}

async function main() {
  if (DB === undefined) {
    throw new Error("HUB_BENCH_DB is not set: make the database with DASHBOARD_KEEP=1 cargo bench -p cloud-hub --bench dashboard");
  }
  const hubBin = process.env.HUB_BIN;
  if (hubBin === undefined || !existsSync(hubBin)) {
    throw new Error("HUB_BIN names no hub binary: cargo build --release -p cloud-hub --bin hub");
  }
  if (!existsSync(path.join(DIST_HQ, "index.html"))) throw new Error(`${DIST_HQ} is not built: npm run build`);
  const dir = await mkdtemp(path.join(os.tmpdir(), "hq-bench-"));
  // A copy, so the hub's own writes (sessions, its identity) never touch the kept file.
  const db = path.join(dir, "hub.db");
  await copyFile(DB, db);
  const hub = new Child("hub", hubBin, [
    "--db", db,
    "--http", "127.0.0.1:0",
    "--embedded-broker", `127.0.0.1:${await freePort()}`,
    "--dashboard-dir", DIST_HQ,
  ], dir);
  let browser = null;
  try {
    const ready = await hub.waitForJson("the hub's ready line", (j) => typeof j.http === "string", { timeoutMs: 120_000 });
    const base = `http://${ready.http}`;
    const { token } = await ok(base, "POST", "/api/login", { username: USER, password: PASSWORD });
    const network = await ok(base, "GET", "/api/network", undefined, token);
    const stations = network.stations.length;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    const readyMs = [];
    const searchMs = [];
    for (let run = 0; run < RUNS; run++) {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: base, timezoneId: "Asia/Seoul" });
      await context.addInitScript(({ session }) => {
        localStorage.setItem("hq.token", session);
        localStorage.setItem("hq.lang", "ko");
      }, { session: token });
      await context.addInitScript(watchNetwork, stations);
      const page = await context.newPage();
      await page.goto("/#/network");
      await page.waitForFunction(() => window.networkReadyAt !== undefined, undefined, { timeout: 30_000 });
      readyMs.push(await page.evaluate(() => window.networkReadyAt));
      const target = network.stations[(run * 37) % stations].station;
      searchMs.push(await page.evaluate(measureSearch, target));
      await context.close();
    }
    const result = { stations, runs: RUNS, ready_ms: stats(readyMs), search_ms: stats(searchMs) };
    await mkdir(ARTIFACTS, { recursive: true });
    await writeFile(path.join(ARTIFACTS, "network-latency.json"), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await browser?.close().catch(() => undefined);
    await hub.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
