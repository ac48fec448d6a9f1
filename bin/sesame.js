#!/usr/bin/env -S node --max-semi-space-size=2
// The `sesame` command. Runs the compiled CLI from dist/ (built by `npm install` and `npm start`)
// when it is up to date with src/; otherwise (never built, or sources edited since) it runs the
// TypeScript sources through tsx, so the command never runs stale code.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const compiled = join(root, "dist", "main.js");
const sources = join(root, "src");

const newestSource = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const path = join(dir, entry.name);
    return Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }, 0);

const distIsCurrent =
  existsSync(compiled) && (!existsSync(sources) || statSync(compiled).mtimeMs >= newestSource(sources));
if (distIsCurrent) {
  await import(compiled);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(join(sources, "main.ts"));
}
