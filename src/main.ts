import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "./config.js";
import { migrateToLatest, openDatabase } from "./db/database.js";
import { ManualClock, systemClock } from "./platform/clock.js";
import { seedDemo } from "./seed/demo.js";
import { buildApp } from "./server.js";

const usage = `Usage: sesame <command> [--demo]

Commands:
  serve     migrate the database, then serve HTTP (--demo also seeds the demo accounts)
  migrate   bring the database schema up to date
  seed      seed the demo accounts (same as SESAME_SEED=demo)

Settings come from the environment; see the README.`;

async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { demo: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  const command = positionals[0];
  if (values.help || !command || !["serve", "migrate", "seed"].includes(command)) {
    console.log(usage);
    process.exitCode = values.help ? 0 : 2;
    return;
  }

  const config = loadConfig(process.env);
  if (config.database.kind === "sqlite" && config.database.path !== ":memory:")
    mkdirSync(dirname(config.database.path), { recursive: true });
  const seed = command === "seed" || values.demo || config.seed === "demo";
  if (seed && config.production)
    throw new ConfigError("the demo accounts are refused when NODE_ENV=production");

  const database = openDatabase(config.database);
  await migrateToLatest(database.db);
  if (command === "migrate") {
    console.log("sesame: database is up to date");
    await database.close();
    return;
  }

  const clock = config.clock === "manual" ? new ManualClock() : systemClock;
  const app = await buildApp({ config, database, clock });
  if (seed) {
    const created = await seedDemo(app.services.accounts);
    app.server.log.info({ created }, "demo accounts seeded");
  }
  if (command === "seed") {
    await app.server.close();
    await database.close();
    return;
  }

  if (!config.apiToken)
    app.server.log.warn("SESAME_API_TOKEN is not set: the service API answers 401 to everyone");
  await app.server.listen({ port: config.port, host: config.host });
  app.dispatcher.start();
  app.server.log.info(`Sesame is ready at ${config.publicUrl} (database: ${config.database.kind})`);

  const shutdown = async (signal: string) => {
    app.server.log.info({ signal }, "shutting down");
    await app.server.close();
    await database.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
  process.once("SIGINT", () => void shutdown("SIGINT"));
}

main(process.argv.slice(2)).catch((error) => {
  if (error instanceof ConfigError) {
    console.error(`sesame: configuration error: ${error.message}`);
    process.exit(78);
  }
  console.error(error);
  process.exit(1);
});
