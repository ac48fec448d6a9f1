#!/usr/bin/env node
// The `sesame` command: runs the compiled CLI (npm run build writes dist/).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const compiled = fileURLToPath(new URL("../dist/main.js", import.meta.url));
if (!existsSync(compiled)) {
  console.error("sesame: dist/ is missing; run `npm run build` first (npm start does it for you).");
  process.exit(1);
}
await import(compiled);
