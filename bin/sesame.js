#!/usr/bin/env node
// The `sesame` command. Runs the compiled CLI (dist/, built by `npm install` and `npm start`);
// in a checkout that was never built it runs the TypeScript sources through tsx instead.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const compiled = fileURLToPath(new URL("../dist/main.js", import.meta.url));
if (existsSync(compiled)) {
  await import(compiled);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(fileURLToPath(new URL("../src/main.ts", import.meta.url)));
}
