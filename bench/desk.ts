/**
 * Data helpers of the support-desk scenarios of bench/run.ts: a throw-away PostgreSQL database for
 * the server, direct SQL access to the server's database (SQLite file or PostgreSQL) to bulk-insert
 * cases for the queue scenario and to check what the intake scenario wrote.
 */
import { randomBytes } from "node:crypto";
import SqliteDatabase from "better-sqlite3";
import pg from "pg";

/** The queue's "no deadline" (src/desk/model.ts NO_DEADLINE): waiting and resolved cases carry it. */
const NO_DEADLINE = 8_640_000_000_000_000;
const DAY_MS = 86_400_000;

export interface BenchTeam {
  id: string;
  tier: number;
  languages: string[];
}

/**
 * Shares of the bulk-inserted cases, per 100: open, waiting on the customer, the rest resolved. The
 * last team (corp, tier 3) gets few open cases (6 in 10,000 of its share; its other would-be open
 * ones wait on the customer): its queue has fewer than 100 open cases, so it is filled up with
 * waiting ones (the second query of the queue).
 */
export const QUEUE_MIX = { open: 6, waiting: 3 } as const;

/** Refuses any PostgreSQL server but this machine's: the bench only ever talks to 127.0.0.1. */
export function localPostgresUrl(raw: string): URL {
  const url = new URL(raw);
  if (!/^postgres(ql)?:$/.test(url.protocol)) throw new Error(`not a PostgreSQL URL: ${url.protocol}`);
  if (!["127.0.0.1", "localhost", "[::1]"].includes(url.hostname))
    throw new Error(`the bench only uses a PostgreSQL on this machine (127.0.0.1), not ${url.hostname}`);
  return url;
}

/** A new, empty database on the PostgreSQL of `baseUrl`, for one server run; `drop()` removes it. */
export async function createBenchDatabase(
  baseUrl: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = localPostgresUrl(baseUrl);
  const name = `sesame_bench_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: base.toString() });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    drop: async () => {
      if (dropped) return;
      dropped = true;
      const client = new pg.Client({ connectionString: base.toString() });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Direct SQL on the server's database, outside the server (bulk data and checks). */
export interface BenchDb {
  kind: "sqlite" | "postgres";
  count(sqlText: string, params?: unknown[]): Promise<number>;
  /** Inserts `count` cases numbered from `from`, spread over `teams` and the statuses of QUEUE_MIX. */
  insertCases(from: number, count: number, teams: BenchTeam[], now: number): Promise<void>;
  analyze(): Promise<void>;
  close(): Promise<void>;
}

const CASE_COLUMNS = `id, ref, account_id, account_address, contact_email, locale, status, source,
  first_attempt_at, opened_at, updated_at, language, country, tier, team, priority, subject, contact_phone,
  tier_since, first_response_at, due_first_response, due_next_update, due_resolution, next_due, paused_at,
  resolved_at`;

/**
 * The SELECT list of a bulk insert, over `r` (i, s = i % 100, t = team index, opened, jitter) joined
 * with `teams` (t, team, tier, language). Open cases get deadlines from two days ago to twelve days
 * ahead (the queue's order); waiting and resolved ones NO_DEADLINE, as the desk writes them.
 */
const caseSelect = (idExpr: string, refExpr: string, now: string) => `
  ${idExpr}, ${refExpr}, null, 'bench-q-' || i || '@example.test', 'bench-q-' || i || '@example.test', 'en',
  case when open = 1 then 'open' when s < ${UNRESOLVED} then 'waiting' else 'resolved' end,
  'web', opened, opened, opened, language, null, tier, team, 'normal', 'Bench case', null,
  opened,
  case when open = 1 then null else opened + 3600000 end,
  case when open = 1 then ${now} - ${2 * DAY_MS} + jitter else null end,
  null,
  case when s < ${UNRESOLVED} then ${now} + ${5 * DAY_MS} + jitter else null end,
  case when open = 1 then ${now} - ${2 * DAY_MS} + jitter else ${NO_DEADLINE} end,
  case when open = 0 and s < ${UNRESOLVED} then opened + 7200000 else null end,
  case when s >= ${UNRESOLVED} then opened + ${DAY_MS} else null end`;

const UNRESOLVED = QUEUE_MIX.open + QUEUE_MIX.waiting;
/** Over `r`: 1 for an open case (see QUEUE_MIX), else 0. */
const openExpr = (teams: number) =>
  `case when s < ${QUEUE_MIX.open} and (t < ${teams - 1} or i % 100000 < 500) then 1 else 0 end as open`;

const JITTER_MS = 14 * DAY_MS;
/** Opened over the last 180 days. */
const OPENED_SPREAD_S = 180 * 86_400;

export function openSqliteBenchDb(path: string): BenchDb {
  const sqlite = new SqliteDatabase(path);
  // The server is running on the same file: wait for its writes rather than fail.
  sqlite.pragma("busy_timeout = 30000");
  return {
    kind: "sqlite",
    count: async (sqlText, params = []) =>
      Number((sqlite.prepare(sqlText).get(...params) as { n: number }).n),
    insertCases: async (from, count, teams, now) => {
      const teamRows = teams.map(() => "(?, ?, ?, ?)").join(", ");
      const statement = sqlite.prepare(`
        with recursive n(i) as (select ? union all select i + 1 from n where i < ?),
        teams(t, team, tier, language) as (values ${teamRows}),
        r0 as (
          select i, i % 100 as s, (i / 100) % ${teams.length} as t,
            ((random() % ${JITTER_MS}) + ${JITTER_MS}) % ${JITTER_MS} as jitter,
            ${now} - ((i * 15) % ${OPENED_SPREAD_S}) * 1000 as opened
          from n
        ),
        r as (select *, ${openExpr(teams.length)} from r0)
        insert into cases (${CASE_COLUMNS})
        select ${caseSelect("lower(hex(randomblob(16)))", "printf('SES-%04X-%04X', i / 65536, i % 65536)", String(now))}
        from r join teams using (t)`);
      const teamParams = teams.flatMap((team, t) => [t, team.id, team.tier, firstLanguage(team)]);
      // Chunks: each transaction short, so the running server is never kept waiting for long.
      const chunk = 25_000;
      for (let start = from; start < from + count; start += chunk) {
        const end = Math.min(from + count, start + chunk) - 1;
        statement.run(start, end, ...teamParams);
      }
    },
    analyze: async () => {
      // Nothing: the server never runs ANALYZE on SQLite, so neither does the bench.
    },
    close: async () => {
      sqlite.close();
    },
  };
}

export async function openPostgresBenchDb(url: string): Promise<BenchDb> {
  localPostgresUrl(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    kind: "postgres",
    count: async (sqlText, params = []) => {
      const { rows } = await client.query<{ n: string }>(sqlText, params);
      return Number(rows[0]?.n ?? 0);
    },
    insertCases: async (from, count, teams, now) => {
      const teamRows = teams
        .map((_, k) => `($${3 + k * 4}::int, $${4 + k * 4}::text, $${5 + k * 4}::int, $${6 + k * 4}::text)`)
        .join(", ");
      const text = `
        with teams(t, team, tier, language) as (values ${teamRows}),
        r0 as (
          select i, i % 100 as s, ((i / 100) % ${teams.length})::int as t,
            floor(random() * ${JITTER_MS})::bigint as jitter,
            ${now}::bigint - ((i * 15) % ${OPENED_SPREAD_S}) * 1000 as opened
          from generate_series($1::bigint, $2::bigint) as i
        ),
        r as (select *, ${openExpr(teams.length)} from r0)
        insert into cases (${CASE_COLUMNS})
        select ${caseSelect(
          "gen_random_uuid()::text",
          "'SES-' || lpad(upper(to_hex(i / 65536)), 4, '0') || '-' || lpad(upper(to_hex(i % 65536)), 4, '0')",
          `${now}::bigint`,
        )}
        from r join teams using (t)`;
      const teamParams = teams.flatMap((team, t) => [t, team.id, team.tier, firstLanguage(team)]);
      const chunk = 100_000;
      for (let start = from; start < from + count; start += chunk) {
        const end = Math.min(from + count, start + chunk) - 1;
        await client.query(text, [start, end, ...teamParams]);
      }
    },
    analyze: async () => {
      // What autovacuum does by itself a little after a load this size; done now so as not to wait.
      await client.query("analyze cases");
    },
    close: () => client.end(),
  };
}

const firstLanguage = (team: BenchTeam) => team.languages.find((l) => l !== "other") ?? "en";
