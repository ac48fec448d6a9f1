import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { isIP } from "node:net";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { isSupportedCountry } from "libphonenumber-js";
import { loadOrganisation } from "./org/config.js";
import type { Organisation } from "./org/model.js";
import { randomToken } from "./platform/secrets.js";
import {
  DEFAULT_HOUSEKEEPING_EVERY_MS,
  HOUSEKEEPING_DEFAULTS,
  type HousekeepingName,
  type HousekeepingSettings,
} from "./timers/housekeeping.js";
import { defaultTimerSettings, type TimerSettings } from "./timers/service.js";

/** Every setting of Sesame, read from the environment and validated once at boot. */
export interface Config {
  production: boolean;
  port: number;
  host: string;
  publicUrl: string;
  database:
    | {
        kind: "sqlite";
        path: string;
        /** false: SQLite's own VFS, not native/wal_coalesce.c's (SQLITE_COALESCE_WAL=off; on by default). */
        coalesceWal?: boolean;
      }
    | { kind: "postgres"; url: string };
  /** Timeouts of the database connection; see DatabaseTimeouts. */
  databaseTimeouts: DatabaseTimeouts;
  /** How long `serve` and `migrate` retry an unreachable database at boot (containers start in any order). */
  databaseStartupTimeoutMs: number;
  /** Prometheus /metrics on its own listener; null when METRICS_PORT=0. */
  metrics: { port: number; host: string } | null;
  secret: string;
  apiToken: string | null;
  smtpUrl: string | null;
  mailFrom: string;
  /**
   * The built-in SMTP listener for the team addresses (SMTP_INBOUND_PORT); null when that is unset
   * or 0. It offers neither AUTH nor STARTTLS: keep it on a loopback or private address behind the MTA.
   */
  inboundMail: { port: number; host: string; maxBytes: number } | null;
  smsGatewayUrl: string | null;
  /**
   * Country (ISO 3166 alpha-2) in which a phone number typed without its +prefix is read on the
   * public pages, the same for every account; null: such a number is masked as typed.
   */
  defaultCountry: string | null;
  clock: "system" | "manual";
  seed: "demo" | null;
  logLevel: string;
  /**
   * Who may name the client in X-Forwarded-For (Fastify's `trustProxy`): nobody (false), the last
   * N hops (a number; "true" is 1), or the listed proxies (IPs, CIDRs).
   */
  trustProxy: false | number | string[];
  limits: Limits;
  /**
   * Threads that hash passwords when hashes queue up (SESAME_HASH_THREADS, default one per core the
   * process may run on): each holds up to about 27 MiB while it hashes. Lower it where a CPU quota
   * or a memory limit is smaller than the machine's cores suggest.
   */
  hashThreads: number;
  rules: RiskRules;
  /** Teams, routing, business hours and SLA: the file named by SESAME_CONFIG, else the demo (src/org/config.ts). */
  organisation: Organisation;
  /** The timers' worker: poll, backoff, claim lease, batch (SESAME_TIMER_*). */
  timers: TimerSettings;
  /** Period and retention of each housekeeping job (SESAME_HOUSEKEEPING_*_EVERY_MS, SESAME_RETAIN_*_MS). */
  housekeeping: HousekeepingSettings;
}

export interface DatabaseTimeouts {
  /** Opening a PostgreSQL connection. */
  connectMs: number;
  /** One statement: PostgreSQL statement_timeout (and a client-side query timeout), SQLite busy_timeout. */
  statementMs: number;
}

export interface Limits {
  /** Requests per minute from one IP on each public step; 0 turns it off. */
  perIpPerMinute: number;
  /** Recovery attempts started for one address from one source (IP, or its /64) per hour. */
  recoveriesPerAccountPerHour: number;
  /**
   * One-time codes asked per hour for one address and one typed destination (real or decoy alike),
   * so requests to other destinations never use up the owner's budget. Never locks the account.
   */
  codesPerAccountPerHour: number;
  /** Wrong typed codes per address per day, across all its recoveries (links do not count). */
  wrongCodesPerAddressPerDay: number;
  /** Wrong tries allowed on one code. */
  triesPerCode: number;
}

export interface RiskRules {
  /** Failed sign-ins from unknown devices, within the window, that start a brute_force lock. */
  bruteForceThreshold: number;
  bruteForceWindowMs: number;
  /** First brute_force lock; each following one doubles, up to the maximum. */
  bruteForceFirstLockMs: number;
  bruteForceMaxLockMs: number;
  /** Lock set by a malware_detected / spam_burst event ("none" ignores the event). */
  onMalware: LockRuleAction;
  onSpamBurst: LockRuleAction;
}

export type LockRuleAction = "compromise" | "abuse" | "none";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

const integer = (env: Env, name: string, fallback: number, min = 0): number => {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min) {
    throw new ConfigError(`${name} must be a whole number >= ${min}, got "${raw}"`);
  }
  return Number(raw);
};

/** Each housekeeping job: SESAME_RETAIN_<NAME>_MS (at least its minimum) and its period. */
const housekeeping = (env: Env): HousekeepingSettings => {
  const everyMs = integer(env, "SESAME_HOUSEKEEPING_EVERY_MS", DEFAULT_HOUSEKEEPING_EVERY_MS, 1000);
  const settings = {} as HousekeepingSettings;
  for (const name of Object.keys(HOUSEKEEPING_DEFAULTS) as HousekeepingName[]) {
    const { retainMs, minRetainMs } = HOUSEKEEPING_DEFAULTS[name];
    const upper = name.toUpperCase();
    settings[name] = {
      everyMs: integer(env, `SESAME_HOUSEKEEPING_${upper}_EVERY_MS`, everyMs, 1000),
      retainMs: integer(env, `SESAME_RETAIN_${upper}_MS`, retainMs, minRetainMs),
    };
  }
  return settings;
};

const oneOf = <T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T => {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, got "${raw}"`);
  }
  return raw as T;
};

const url = (env: Env, name: string, protocols: string[]): string | null => {
  const raw = env[name];
  if (raw === undefined || raw === "") return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL, got "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(" or ")}, got "${parsed.protocol}"`);
  }
  return raw;
};

/** proxy-addr's names for address ranges, accepted beside IPs and CIDRs. */
const PROXY_RANGE_NAMES = ["loopback", "linklocal", "uniquelocal"];

const isProxyAddress = (entry: string): boolean => {
  if (PROXY_RANGE_NAMES.includes(entry)) return true;
  const [ip = "", prefix, ...rest] = entry.split("/");
  const version = isIP(ip);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
};

// "true" trusts ONE hop: the right-most X-Forwarded-For entry, written by our own proxy. Fastify's
// `true` would take the left-most entry, which the client chooses.
const parseTrustProxy = (raw: string | undefined): Config["trustProxy"] => {
  const value = (raw ?? "").trim();
  if (value === "" || value === "false") return false;
  if (value === "true") return 1;
  if (/^\d+$/.test(value)) return Number(value) === 0 ? false : Number(value);
  const entries = value.split(",").map((entry) => entry.trim());
  const wrong = entries.find((entry) => !isProxyAddress(entry));
  if (wrong !== undefined) {
    throw new ConfigError(
      `SESAME_TRUST_PROXY must be false, true (one proxy hop), a number of hops or a comma list of proxy IPs/CIDRs, got "${wrong}" in "${value}"`,
    );
  }
  return entries;
};

const country = (env: Env, name: string): string | null => {
  const raw = env[name];
  if (raw === undefined || raw === "") return null;
  if (!/^[A-Za-z]{2}$/.test(raw) || !isSupportedCountry(raw.toUpperCase()))
    throw new ConfigError(`${name} must be a two-letter country code such as BE, got "${raw}"`);
  return raw.toUpperCase();
};

const parseDatabase = (raw: string | undefined, dataDir: string): Config["database"] => {
  if (raw === undefined || raw === "") return { kind: "sqlite", path: resolve(dataDir, "sesame.db") };
  if (raw.startsWith("sqlite:")) {
    const path = raw.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (path === "")
      throw new ConfigError('DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:./data/sesame.db');
    return { kind: "sqlite", path: path === ":memory:" ? path : resolve(path) };
  }
  if (raw.startsWith("postgres://") || raw.startsWith("postgresql://")) return { kind: "postgres", url: raw };
  throw new ConfigError(
    `DATABASE_URL must start with sqlite: or postgres://, got "${raw.split(":")[0]}:..."`,
  );
};

/** The embedded default keeps a generated secret beside its database so codes survive restarts. */
const persistedSecret = (dataDir: string): string => {
  const file = resolve(dataDir, "secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomToken(32);
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
};

export function loadConfig(env: Env = process.env): Config {
  const production = env.NODE_ENV === "production";
  const dataDir = resolve(env.SESAME_DATA_DIR ?? "data");
  const parsedDatabase = parseDatabase(env.DATABASE_URL, dataDir);
  const coalesceWal = oneOf(env, "SQLITE_COALESCE_WAL", ["on", "off"], "on") === "on";
  const database = parsedDatabase.kind === "sqlite" ? { ...parsedDatabase, coalesceWal } : parsedDatabase;
  const port = integer(env, "PORT", 3000);
  if (port > 65535) throw new ConfigError(`PORT must be at most 65535, got "${port}"`);
  const host = env.HOST || "0.0.0.0";
  const publicUrl = (url(env, "PUBLIC_URL", ["http:", "https:"]) ?? `http://localhost:${port}`).replace(
    /\/$/,
    "",
  );

  let secret = env.SESAME_SECRET ?? "";
  if (secret === "") {
    if (production) throw new ConfigError("SESAME_SECRET is required when NODE_ENV=production");
    secret =
      database.kind === "sqlite" && database.path !== ":memory:" ? persistedSecret(dataDir) : randomToken(32);
  } else if (secret.length < 32) {
    throw new ConfigError("SESAME_SECRET must be at least 32 characters");
  }

  const apiToken = env.SESAME_API_TOKEN || null;
  if (apiToken !== null && apiToken.length < 16)
    throw new ConfigError("SESAME_API_TOKEN must be at least 16 characters");

  const clock = oneOf(env, "SESAME_CLOCK", ["system", "manual"] as const, "system");
  if (clock === "manual" && production) throw new ConfigError("SESAME_CLOCK=manual is refused in production");

  const seedRaw = oneOf(env, "SESAME_SEED", ["demo", "none"] as const, "none");

  const metricsPort = integer(env, "METRICS_PORT", 9464);
  if (metricsPort > 65535) throw new ConfigError(`METRICS_PORT must be at most 65535, got "${metricsPort}"`);

  const inboundPort = integer(env, "SMTP_INBOUND_PORT", 0);
  if (inboundPort > 65535)
    throw new ConfigError(`SMTP_INBOUND_PORT must be at most 65535, got "${inboundPort}"`);
  const inboundHost = env.SMTP_INBOUND_HOST || "127.0.0.1";
  if (isIP(inboundHost) === 0 && inboundHost !== "localhost")
    throw new ConfigError(`SMTP_INBOUND_HOST must be an IP address, got "${inboundHost}"`);

  const lockActions = ["compromise", "abuse", "none"] as const;
  return {
    production,
    port,
    host,
    publicUrl,
    database,
    databaseTimeouts: {
      connectMs: integer(env, "DATABASE_CONNECT_TIMEOUT_MS", 2_000, 100),
      statementMs: integer(env, "DATABASE_STATEMENT_TIMEOUT_MS", 5_000, 100),
    },
    databaseStartupTimeoutMs: integer(env, "DATABASE_STARTUP_TIMEOUT_MS", 30_000),
    metrics: metricsPort === 0 ? null : { port: metricsPort, host: env.METRICS_HOST || "127.0.0.1" },
    secret,
    apiToken,
    smtpUrl: url(env, "SMTP_URL", ["smtp:", "smtps:"]),
    mailFrom: env.MAIL_FROM || "Sesame <no-reply@sesame.localhost>",
    inboundMail:
      inboundPort === 0
        ? null
        : {
            port: inboundPort,
            host: inboundHost,
            maxBytes: integer(env, "SMTP_INBOUND_MAX_BYTES", 10 * 1024 * 1024, 1024),
          },
    smsGatewayUrl: url(env, "SMS_GATEWAY_URL", ["http:", "https:"]),
    defaultCountry: country(env, "SESAME_DEFAULT_COUNTRY"),
    clock,
    seed: seedRaw === "demo" ? "demo" : null,
    logLevel: oneOf(
      env,
      "LOG_LEVEL",
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const,
      "info",
    ),
    trustProxy: parseTrustProxy(env.SESAME_TRUST_PROXY),
    limits: {
      perIpPerMinute: integer(env, "SESAME_RATE_LIMIT_PER_IP", 300),
      recoveriesPerAccountPerHour: integer(env, "SESAME_RECOVERIES_PER_ACCOUNT_PER_HOUR", 20, 1),
      codesPerAccountPerHour: integer(env, "SESAME_CODES_PER_ACCOUNT_PER_HOUR", 5, 1),
      triesPerCode: integer(env, "SESAME_TRIES_PER_CODE", 5, 1),
      wrongCodesPerAddressPerDay: integer(env, "SESAME_WRONG_CODES_PER_ADDRESS_PER_DAY", 20, 1),
    },
    hashThreads: integer(env, "SESAME_HASH_THREADS", availableParallelism(), 1),
    rules: {
      bruteForceThreshold: integer(env, "SESAME_BRUTE_FORCE_THRESHOLD", 10, 1),
      bruteForceWindowMs: integer(env, "SESAME_BRUTE_FORCE_WINDOW_MS", 15 * 60_000, 1000),
      bruteForceFirstLockMs: integer(env, "SESAME_BRUTE_FORCE_FIRST_LOCK_MS", 60_000, 1000),
      bruteForceMaxLockMs: integer(env, "SESAME_BRUTE_FORCE_MAX_LOCK_MS", 15 * 60_000, 1000),
      onMalware: oneOf(env, "SESAME_LOCK_ON_MALWARE", lockActions, "compromise"),
      onSpamBurst: oneOf(env, "SESAME_LOCK_ON_SPAM_BURST", lockActions, "compromise"),
    },
    organisation: loadOrganisation(env.SESAME_CONFIG || undefined),
    timers: {
      pollMs: integer(env, "SESAME_TIMER_POLL_MS", defaultTimerSettings.pollMs, 10),
      maxBackoffMs: integer(env, "SESAME_TIMER_MAX_BACKOFF_MS", defaultTimerSettings.maxBackoffMs, 1000),
      leaseMs: integer(env, "SESAME_TIMER_LEASE_MS", defaultTimerSettings.leaseMs, 1000),
      batchSize: integer(env, "SESAME_TIMER_BATCH", defaultTimerSettings.batchSize, 1),
    },
    housekeeping: housekeeping(env),
  };
}
