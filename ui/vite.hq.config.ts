import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The HQ dashboard: hq/index.html, built into dist-hq/ (the POS keeps dist/). The hub serves it
// at `/` and its API under `/api` on the same origin. During `npm run dev:hq`, HUB_API (host:port
// of a running hub) is proxied, server-sent events included.
const hubApi = process.env.HUB_API ?? "127.0.0.1:8080";

export default defineConfig({
  root: "hq",
  plugins: [preact()],
  // The page's script is `/src/hq/main.tsx`: the sources stay in src/ beside the POS's, not under
  // the page's root.
  resolve: { alias: [{ find: /^\/src\//, replacement: fileURLToPath(new URL("./src/", import.meta.url)) }] },
  build: { outDir: "../dist-hq", emptyOutDir: true, sourcemap: false },
  server: { proxy: { "/api": { target: `http://${hubApi}`, changeOrigin: false } } },
});
