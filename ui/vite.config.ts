import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";
import { sourceHash } from "./stamp.ts";

const root = fileURLToPath(new URL(".", import.meta.url));

// Writes build.json (the sources' hash) and puts the same hash in index.html, so the served page says which
// sources it was built from.
function buildStamp(): Plugin {
  const hash = sourceHash(root);
  return {
    name: "build-stamp",
    transformIndexHtml: (html) => html.replace("%BUILD_STAMP%", hash),
    generateBundle() {
      this.emitFile({ type: "asset", fileName: "build.json", source: JSON.stringify({ source_hash: hash }, null, 2) + "\n" });
    },
  };
}

export default defineConfig({
  plugins: [react(), buildStamp()],
  base: "/",
  build: {
    outDir: "../api/static/ui",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1000,
  },
  server: {
    proxy: Object.fromEntries(
      ["/threads", "/runs", "/assistants", "/info", "/ok", "/v1", "/auth", "/_emulator"].map((p) => [p, "http://127.0.0.1:8123"]),
    ),
  },
});
