import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// The runtime serves dist/ at `/` and the API under `/api` on the same origin. During
// `npm run dev`, STATION_API (host:port of a running station-runtime) is proxied.
const stationApi = process.env.STATION_API ?? "127.0.0.1:7070";

export default defineConfig({
  plugins: [preact()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: { proxy: { "/api": { target: `http://${stationApi}`, changeOrigin: false } } },
});
