// Resident memory of the compiled server, stage by stage (issue 7): run after `npm run build`,
//   node --expose-gc bench/memstage.mjs
// Prints RSS and heap (MiB) with nothing loaded, after importing dist/, with the app built on a
// fresh SQLite file (what `serve` has before it listens), after one password-strength check, once
// that check's worker had time to end, and after the desk's first deadline in business hours.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const mib = (bytes) => (bytes / 1024 / 1024).toFixed(1);
const stage = (name) => {
  globalThis.gc?.();
  globalThis.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  console.log(`${name.padEnd(34)} rss ${mib(rss).padStart(6)} MiB  heap ${mib(heapUsed).padStart(6)} MiB`);
};

stage("plain node");
const dir = mkdtempSync(join(tmpdir(), "sesame-memstage-"));
try {
  const { loadConfig } = await import("../dist/config.js");
  const { migrateToLatest, openDatabase } = await import("../dist/db/database.js");
  const { buildApp } = await import("../dist/server.js");
  const { passwordStrength } = await import("../dist/accounts/passwords.js");
  const { systemClock } = await import("../dist/platform/clock.js");
  const { calendarOf } = await import("../dist/org/calendar.js");
  stage("dist/ imported");

  const config = loadConfig({
    ...process.env,
    DATABASE_URL: `sqlite:${join(dir, "mem.db")}`,
    SESAME_DATA_DIR: dir,
    SESAME_SECRET: "x".repeat(40),
    METRICS_PORT: "0",
    LOG_LEVEL: "warn",
  });
  const database = openDatabase(config.database, { timeouts: config.databaseTimeouts });
  await migrateToLatest(database.db);
  const app = await buildApp({ config, database, clock: systemClock, logger: false });
  await app.server.ready();
  stage("app built (SQLite)");

  const result = await passwordStrength("violet tractor mirrors quietly 1987", ["maria", "example"]);
  stage(`after passwordStrength (${result.score})`);
  await sleep(2_500);
  stage("2.5 s later");

  // The desk's first deadline in business hours loads the holiday parser (a case's SLA clock).
  const [team] = config.organisation.teams;
  calendarOf(team).addBusinessMinutes(Date.now(), 240);
  stage("after a business-hours deadline");

  await app.server.close();
  await database.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
