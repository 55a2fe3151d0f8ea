// The dashboard is built into functions/dashboard/site/, which the dashboard function serves
// (docs/dashboard.md). One flat folder: the function serves /dashboard and /dashboard/{file}.
import preact from "@preact/preset-vite";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [preact()],
  base: "./",
  build: {
    outDir: "../functions/dashboard/site",
    emptyOutDir: true,
    assetsDir: "",
    modulePreload: { polyfill: false }, // its polyfill is an inline script, which the CSP forbids
    target: "es2022",
    reportCompressedSize: false,
  },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
