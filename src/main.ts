import { mkdirSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { sql } from "kysely";
import { type Config, ConfigError, loadConfig } from "./config.js";
import { type DbHandle, MigrationError, migrateToLatest, openDatabase } from "./db/database.js";
import { type AuditProblem, auditKey, type ChainHead, verifyAllChains } from "./platform/audit.js";
import { ManualClock, systemClock } from "./platform/clock.js";
import { isAppError } from "./platform/errors.js";
import { tuneHeap } from "./platform/heap.js";
import { type MessageKey, translator } from "./platform/i18n.js";
import { serveMetrics } from "./platform/metrics.js";
import { seedDemo } from "./seed/demo.js";
import { buildApp } from "./server.js";

const usage = `Usage: sesame <command> [--demo]

Commands:
  serve         migrate the database, then serve HTTP (--demo also seeds the demo accounts)
  migrate       bring the database schema up to date
  seed          seed the demo accounts (same as SESAME_SEED=demo)
  audit verify  check every audit chain and print its head (stream, seq, hash);
                --heads FILE also checks the heads saved in FILE (an earlier output) are still there
  agent add --email E --teams T1,T2 --role agent|supervisor|admin [--name N]
                create a desk agent and print a one-time setup link (valid 72 h)
  agent token --email E          print a new personal API token for the agent
  agent reset --email E          new setup link; password, app, sessions and tokens stop working
  agent revoke-tokens --email E  revoke every personal API token of the agent
  agent disable --email E        refuse the agent's sign-in; end their sessions and tokens

Settings come from the environment; see the README.`;

/** A failure at start-up that one line explains; printed without a stack trace. */
class StartupError extends Error {}

/** Bad arguments: one line, exit code 2. */
class UsageError extends Error {}

const agentCommands = ["add", "token", "reset", "revoke-tokens", "disable"];

/** The organisation's team ids (SESAME_CONFIG, or the demo), against which `agent add --teams` is checked. */
const knownTeamIds = (config: Config): string[] => config.organisation.teams.map((team) => team.id);

async function agentCommand(
  config: Config,
  action: string,
  values: {
    email?: string | undefined;
    teams?: string | undefined;
    role?: string | undefined;
    name?: string | undefined;
  },
): Promise<void> {
  if (!values.email) throw new UsageError(`agent ${action} needs --email`);
  if (action === "add" && (values.teams === undefined || values.role === undefined))
    throw new UsageError("agent add needs --email, --teams and --role");
  const database = await openReachableDatabase(config);
  try {
    await migrate(database);
    const clock = config.clock === "manual" ? new ManualClock() : systemClock;
    const app = await buildApp({ config, database, clock, logger: false });
    const { agents } = app.services;
    try {
      if (action === "add") {
        const { agent, setupUrl } = await agents.addAgent(
          {
            email: values.email,
            role: values.role!,
            teams: values.teams!.split(","),
            ...(values.name ? { name: values.name } : {}),
          },
          knownTeamIds(config),
        );
        console.log(`agent ${agent.email} (${agent.role}; teams ${agent.teams.join(", ")}) created.`);
        console.log(`One-time setup link, valid ${Math.round(agents.settings.setupLinkMs / 3_600_000)} h:`);
        console.log(setupUrl);
      } else if (action === "token") {
        console.log(await agents.issueToken(values.email));
      } else if (action === "reset") {
        const { setupUrl } = await agents.resetAgent(values.email);
        console.log(setupUrl);
      } else if (action === "revoke-tokens") {
        console.log(`${await agents.revokeTokens(values.email)} token(s) revoked`);
      } else {
        await agents.disableAgent(values.email);
        console.log(`agent ${values.email} disabled`);
      }
    } catch (error) {
      if (!isAppError(error) || !error.code.startsWith("ERR_AGENT_")) throw error;
      const message = translator("en")(`error.${error.code}` as MessageKey, error.params);
      const known =
        error.code === "ERR_AGENT_TEAM_UNKNOWN"
          ? ` (known teams: ${knownTeamIds(config).join(", ") || "none"})`
          : "";
      throw new UsageError(`${message}${known}`);
    } finally {
      await app.server.close();
    }
  } finally {
    await database.close();
  }
}

/** DATABASE_URL as it may be printed: the password hidden. */
const printableDatabase = (database: Config["database"]): string => {
  if (database.kind === "sqlite") return `sqlite:${database.path}`;
  try {
    const url = new URL(database.url);
    if (url.password) url.password = "****";
    return url.toString();
  } catch {
    return "postgres://(unparsable)";
  }
};

/** Containers start in any order: retry the database with backoff for DATABASE_STARTUP_TIMEOUT_MS. */
async function openReachableDatabase(config: Config): Promise<DbHandle> {
  const deadline = performance.now() + config.databaseStartupTimeoutMs;
  let delayMs = 250;
  for (;;) {
    let database: DbHandle | null = null;
    try {
      database = openDatabase(config.database, { timeouts: config.databaseTimeouts });
      await sql`select 1`.execute(database.db);
      return database;
    } catch (error) {
      await database?.close().catch(() => {});
      const left = deadline - performance.now();
      if (left <= 0) {
        const reason =
          error instanceof Error ? error.message || (error as { code?: string }).code : String(error);
        throw new StartupError(
          `cannot reach the database at DATABASE_URL=${printableDatabase(config.database)} after retrying for ${config.databaseStartupTimeoutMs} ms (DATABASE_STARTUP_TIMEOUT_MS): ${reason}`,
        );
      }
      await sleep(Math.min(delayMs, left));
      delayMs = Math.min(delayMs * 2, 5_000);
    }
  }
}

async function migrate(database: DbHandle): Promise<void> {
  try {
    await migrateToLatest(database.db);
  } catch (error) {
    if (error instanceof MigrationError) throw new StartupError(error.message);
    throw error;
  }
}

/** Listens, or names the setting to change when the port is taken or not allowed. */
async function listenOn(
  setting: string,
  hostSetting: string,
  port: number,
  listen: () => Promise<unknown>,
): Promise<void> {
  try {
    await listen();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE")
      throw new StartupError(`port ${port} is already in use: choose another ${setting}`);
    if (code === "EACCES")
      throw new StartupError(`port ${port} is not allowed here: choose another ${setting}`);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND")
      throw new StartupError(`cannot listen on this address: check ${hostSetting}`);
    throw error;
  }
}

const describeProblem = (problem: AuditProblem): string => {
  switch (problem.kind) {
    case "broken":
      return `audit chain ${problem.stream} is broken at entry ${problem.seq}`;
    case "tail_missing":
      return `audit chain ${problem.stream} ends at entry ${problem.currentSeq}, but entry ${problem.savedSeq} was saved: its tail was deleted`;
    case "head_replaced":
      return `audit chain ${problem.stream} no longer holds the saved entry ${problem.seq}: it was rewritten`;
    case "chain_missing":
      return `audit chain ${problem.stream} (saved up to entry ${problem.savedSeq}) is gone`;
  }
};

const parseHeads = (file: string): ChainHead[] =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      const [stream, seq, hash] = line.trim().split(/\s+/);
      if (!stream || !seq || !/^\d+$/.test(seq) || !hash)
        throw new StartupError(`--heads ${file}: not a line of "sesame audit verify" output: ${line}`);
      return { stream, seq: Number(seq), hash };
    });

async function auditVerify(config: Config, headsFile: string | undefined): Promise<void> {
  const saved = headsFile ? parseHeads(headsFile) : [];
  const database = await openReachableDatabase(config);
  try {
    const { heads, problems } = await verifyAllChains(database.db, auditKey(config.secret), saved);
    for (const head of heads) console.log(`${head.stream}\t${head.seq}\t${head.hash}`);
    for (const problem of problems) console.error(`sesame: ${describeProblem(problem)}`);
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    await database.close();
  }
}

const parseArguments = (argv: string[]) =>
  parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      demo: { type: "boolean" },
      heads: { type: "string" },
      help: { type: "boolean", short: "h" },
      email: { type: "string" },
      teams: { type: "string" },
      role: { type: "string" },
      name: { type: "string" },
    },
  });

async function main(argv: string[]): Promise<void> {
  let parsed: ReturnType<typeof parseArguments>;
  try {
    parsed = parseArguments(argv);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { positionals, values } = parsed;
  const command = positionals[0];
  const known =
    ["serve", "migrate", "seed"].includes(command ?? "") ||
    (command === "audit" && positionals[1] === "verify") ||
    (command === "agent" && agentCommands.includes(positionals[1] ?? ""));
  if (values.help || !command || !known) {
    console.log(usage);
    process.exitCode = values.help ? 0 : 2;
    return;
  }

  if (command === "serve") tuneHeap();
  const config = loadConfig(process.env);
  if (config.database.kind === "sqlite" && config.database.path !== ":memory:")
    mkdirSync(dirname(config.database.path), { recursive: true });
  const seed = command === "seed" || values.demo || config.seed === "demo";
  if (seed && config.production)
    throw new ConfigError("the demo accounts are refused when NODE_ENV=production");

  if (command === "audit") return auditVerify(config, values.heads);
  if (command === "agent") return agentCommand(config, positionals[1]!, values);

  const database = await openReachableDatabase(config);
  await migrate(database);
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

  if (database.walCoalescing?.active === false)
    app.server.log.warn(
      `SQLite writes each log frame in two system calls (commits two to three times slower): ${database.walCoalescing.reason}`,
    );
  if (!config.apiToken)
    app.server.log.warn("SESAME_API_TOKEN is not set: the service API answers 401 to everyone");
  await listenOn("PORT", "HOST", config.port, () =>
    app.server.listen({ port: config.port, host: config.host }),
  );
  let metricsServer: Server | null = null;
  if (config.metrics) {
    const { host, port } = config.metrics;
    await listenOn("METRICS_PORT", "METRICS_HOST", port, async () => {
      metricsServer = await serveMetrics(app.metrics, host, port);
    });
    app.server.log.info(`metrics at http://${host}:${port}/metrics`);
  }
  app.startWorkers();
  if (config.inboundMail) {
    const { host, port } = config.inboundMail;
    await listenOn("SMTP_INBOUND_PORT", "SMTP_INBOUND_HOST", port, () => app.startInboundMail());
    app.server.log.info(`mail for the team addresses received at smtp://${host}:${port}`);
  }
  app.server.log.info(`Sesame is ready at ${config.publicUrl} (database: ${config.database.kind})`);

  const shutdown = async (signal: string) => {
    app.server.log.info({ signal }, "shutting down");
    metricsServer?.close();
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
  if (error instanceof UsageError) {
    console.error(`sesame: ${error.message}`);
    process.exit(2);
  }
  if (error instanceof StartupError) {
    console.error(`sesame: ${error.message}`);
    process.exit(1);
  }
  console.error(error);
  process.exit(1);
});
