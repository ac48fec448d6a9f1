import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { freshDatabase, testEnv } from "../../test/helpers.js";
import { loadConfig } from "../config.js";
import { DAY, HOUR, ManualClock } from "../platform/clock.js";
import { newId } from "../platform/ids.js";
import { builtInHousekeeping, registerHousekeeping } from "./housekeeping.js";
import { TimerService } from "./service.js";

const silent = { warn() {}, error() {}, info() {} } as never;
const START = Date.UTC(2026, 10, 26, 9);
/** When the jobs first run: one period (1 h by default) after the worker first ran. */
const RUN = START + HOUR;

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

type Database = Awaited<ReturnType<typeof freshDatabase>>;

async function setup(env: Record<string, string> = {}, limit?: number) {
  const database = await freshDatabase();
  cleanup.push(() => database.drop());
  const clock = new ManualClock(START);
  const timers = new TimerService({ db: database.db, dialect: database.dialect, clock, log: silent });
  registerHousekeeping(timers, builtInHousekeeping(loadConfig({ ...testEnv, ...env }).housekeeping), limit);
  // The first round sets each job's timer, one period ahead.
  await timers.runDue(START);
  return { database, timers, clock };
}

const housekeepingAtRun = async (timers: TimerService) => {
  expect(await timers.runDue(RUN - 1)).toBe(0);
  expect(await timers.runDue(RUN)).toBe(8);
};

const ids = async (
  database: Database,
  table: "recoveries" | "recovery_codes" | "outbox" | "sessions" | "cases",
) => (await database.db.selectFrom(table).select("id").execute()).map((row) => row.id).sort();

async function insertAccount(database: Database) {
  const id = newId();
  await database.db
    .insertInto("accounts")
    .values({
      id,
      address: `${id}@x.example`,
      password_hash: "x",
      display_name: null,
      locale: "en",
      country: null,
      lock_reason: null,
      lock_since: null,
      lock_until: null,
      lock_note: null,
      password_changed_at: START,
      created_at: START,
      updated_at: START,
    })
    .execute();
  return id;
}

async function insertRecovery(database: Database, id: string, startedAt: number, done: boolean) {
  await database.db
    .insertInto("recoveries")
    .values({
      id,
      address: "someone@x.example",
      account_id: null,
      locale: "en",
      state: done ? "done" : "enter_code",
      started_at: startedAt,
      verified_at: null,
      completed_at: done ? startedAt + 60_000 : null,
      case_id: null,
      password_token_hash: null,
      case_contact_id: null,
    })
    .execute();
}

async function insertCode(
  database: Database,
  id: string,
  recoveryId: string,
  expiresAt: number,
  state: { used?: boolean; decoy?: boolean } = {},
) {
  await database.db
    .insertInto("recovery_codes")
    .values({
      id,
      recovery_id: recoveryId,
      address: "someone@x.example",
      channel: "email",
      destination_masked: "s***@x.example",
      code_hash: state.decoy ? null : `hash-${id}`,
      attempts: 0,
      created_at: expiresAt - 15 * 60_000,
      expires_at: expiresAt,
      used_at: state.used ? expiresAt - 60_000 : null,
      voided_at: null,
      link_token_hash: null,
    })
    .execute();
}

async function insertCase(
  database: Database,
  id: string,
  status: string,
  updatedAt: number,
  resolvedAt: number | null,
) {
  await sql`insert into cases (id, ref, account_address, locale, status, source, first_attempt_at, opened_at, updated_at, resolved_at)
    values (${id}, ${`SES-${id}`}, ${"someone@x.example"}, ${"en"}, ${status}, ${"recovery"}, ${updatedAt - DAY}, ${updatedAt - DAY}, ${updatedAt}, ${resolvedAt})`.execute(
    database.db,
  );
  await database.db
    .insertInto("case_events")
    .values({ id: newId(), case_id: id, at: updatedAt, type: "opened", actor: "system", detail: "{}" })
    .execute();
  await database.db
    .insertInto("case_contacts")
    .values({
      id: newId(),
      case_id: id,
      email: "someone@x.example",
      via: "recovery_no_access",
      verified: 0,
      token_hash: `token-${id}`,
      created_at: updatedAt,
    })
    .execute();
}

describe("housekeeping: each job deletes what is past its retention and keeps the rest", () => {
  it("recoveries, finished or abandoned, started more than 90 days ago (their codes go with them)", async () => {
    const { database, timers } = await setup();
    await insertRecovery(database, "old-done", RUN - 91 * DAY, true);
    await insertRecovery(database, "old-abandoned", RUN - 100 * DAY, false);
    await insertRecovery(database, "young-abandoned", RUN - 89 * DAY, false);
    await insertCode(database, "old-code", "old-done", RUN - 6 * DAY);
    await housekeepingAtRun(timers);
    expect(await ids(database, "recoveries")).toEqual(["young-abandoned"]);
    expect(await ids(database, "recovery_codes")).toEqual([]);
  });

  it("one-time codes (spent, decoys, expired) expired more than 7 days ago", async () => {
    const { database, timers } = await setup();
    await insertRecovery(database, "r", RUN - 10 * DAY, false);
    await insertCode(database, "spent-old", "r", RUN - 8 * DAY, { used: true });
    await insertCode(database, "decoy-old", "r", RUN - 8 * DAY, { decoy: true });
    await insertCode(database, "expired-old", "r", RUN - 7 * DAY - 1);
    await insertCode(database, "spent-young", "r", RUN - 6 * DAY, { used: true });
    await insertCode(database, "decoy-young", "r", RUN - 6 * DAY, { decoy: true });
    await insertCode(database, "live", "r", RUN + 10 * 60_000);
    await housekeepingAtRun(timers);
    expect(await ids(database, "recovery_codes")).toEqual(["decoy-young", "live", "spent-young"]);
  });

  it("outbox rows sent, given up or voided more than 30 days ago; never a pending one", async () => {
    const { database, timers } = await setup();
    const row = (id: string, status: "pending" | "sent" | "failed" | "voided", createdAt: number) => ({
      id,
      channel: "email" as const,
      recipient: "r@x.example",
      subject: null,
      body: "",
      status,
      attempts: 1,
      next_attempt_at: createdAt,
      claimed_until: null,
      last_error: null,
      created_at: createdAt,
      sent_at: status === "sent" ? createdAt : null,
      code_id: null,
    });
    await database.db
      .insertInto("outbox")
      .values([
        row("sent-old", "sent", RUN - 31 * DAY),
        row("failed-old", "failed", RUN - 31 * DAY),
        row("decoy-old", "voided", RUN - 31 * DAY),
        row("pending-old", "pending", RUN - 31 * DAY),
        row("sent-young", "sent", RUN - 29 * DAY),
      ])
      .execute();
    await housekeepingAtRun(timers);
    expect(await ids(database, "outbox")).toEqual(["pending-old", "sent-young"]);
  });

  it("audit chains of addresses without an account, whole, when their last entry is over a year old", async () => {
    const { database, timers } = await setup();
    const entry = (stream: string, seq: number, at: number) => ({
      stream,
      seq,
      at,
      type: "recovery.started",
      actor: "public",
      account_id: null,
      detail: "{}",
      prev_hash: "",
      hash: `${stream}-${seq}`,
    });
    await database.db
      .insertInto("audit_log")
      .values([
        entry("address:quiet", 1, RUN - 400 * DAY),
        entry("address:quiet", 2, RUN - 366 * DAY),
        entry("address:recent", 1, RUN - 400 * DAY),
        entry("address:recent", 2, RUN - 10 * DAY),
        entry("account:a1", 1, RUN - 800 * DAY),
      ])
      .execute();
    await housekeepingAtRun(timers);
    const left = await database.db
      .selectFrom("audit_log")
      .select(["stream", "seq"])
      .orderBy("stream")
      .orderBy("seq")
      .execute();
    expect(left).toEqual([
      { stream: "account:a1", seq: 1 },
      { stream: "address:recent", seq: 1 },
      { stream: "address:recent", seq: 2 },
    ]);
  });

  it("sessions expired or revoked more than 30 days ago", async () => {
    const { database, timers } = await setup();
    const accountId = await insertAccount(database);
    const session = (id: string, expiresAt: number, revokedAt: number | null = null) => ({
      id,
      account_id: accountId,
      token_hash: `token-${id}`,
      device_hash: null,
      created_at: expiresAt - DAY,
      expires_at: expiresAt,
      revoked_at: revokedAt,
    });
    await database.db
      .insertInto("sessions")
      .values([
        session("expired-old", RUN - 31 * DAY),
        session("revoked-old", RUN + DAY, RUN - 31 * DAY),
        session("expired-young", RUN - 29 * DAY),
        session("revoked-young", RUN + DAY, RUN - 29 * DAY),
        session("live", RUN + DAY),
      ])
      .execute();
    await housekeepingAtRun(timers);
    expect(await ids(database, "sessions")).toEqual(["expired-young", "live", "revoked-young"]);
  });

  it("sign-in throttle rows untouched for 30 days, unless they lock now", async () => {
    const { database, timers } = await setup();
    const throttle = (key: string, updatedAt: number, lockedUntil: number | null) => ({
      key_hash: key,
      failures: 3,
      window_start: updatedAt,
      level: 1,
      locked_since: lockedUntil === null ? null : updatedAt,
      locked_until: lockedUntil,
      updated_at: updatedAt,
    });
    await database.db
      .insertInto("signin_throttle")
      .values([
        throttle("old", RUN - 31 * DAY, null),
        throttle("old-lock-over", RUN - 31 * DAY, RUN - 30 * DAY),
        throttle("old-still-locked", RUN - 31 * DAY, RUN + DAY),
        throttle("young", RUN - 29 * DAY, null),
      ])
      .execute();
    await housekeepingAtRun(timers);
    const left = await database.db
      .selectFrom("signin_throttle")
      .select("key_hash")
      .orderBy("key_hash")
      .execute();
    expect(left.map((row) => row.key_hash)).toEqual(["old-still-locked", "young"]);
  });

  it("cap counters whose window (a day at most) is over", async () => {
    const { database, timers } = await setup();
    await database.db
      .insertInto("cap_counters")
      .values([
        { key: "over", window_start: RUN - DAY, count: 3 },
        { key: "open", window_start: RUN - DAY + 1, count: 3 },
      ])
      .execute();
    await housekeepingAtRun(timers);
    const left = await database.db.selectFrom("cap_counters").select("key").execute();
    expect(left.map((row) => row.key)).toEqual(["open"]);
  });

  it("cases resolved more than 2 years ago, with their contacts and events; recoveries keep their row", async () => {
    const { database, timers } = await setup();
    await insertCase(database, "resolved-old", "resolved", RUN - 731 * DAY, RUN - 731 * DAY);
    // Resolved before the desk recorded resolved_at: its last update counts.
    await insertCase(database, "resolved-legacy", "resolved", RUN - 740 * DAY, null);
    await insertCase(database, "resolved-young", "resolved", RUN - 729 * DAY, RUN - 729 * DAY);
    await insertCase(database, "open-old", "open", RUN - 800 * DAY, null);
    await insertRecovery(database, "rec", RUN - 10 * DAY, true);
    await database.db.updateTable("recoveries").set({ case_id: "resolved-old" }).execute();
    await timers.schedule(database.db, "sla.resolution", "resolved-old", RUN + DAY);
    await housekeepingAtRun(timers);
    expect(await ids(database, "cases")).toEqual(["open-old", "resolved-young"]);
    const events = await database.db.selectFrom("case_events").select("case_id").orderBy("case_id").execute();
    expect(events.map((e) => e.case_id)).toEqual(["open-old", "resolved-young"]);
    const contacts = await database.db
      .selectFrom("case_contacts")
      .select("case_id")
      .orderBy("case_id")
      .execute();
    expect(contacts.map((c) => c.case_id)).toEqual(["open-old", "resolved-young"]);
    expect(await database.db.selectFrom("recoveries").select(["id", "case_id"]).execute()).toEqual([
      { id: "rec", case_id: null },
    ]);
    expect(await timers.due(database.db, "resolved-old")).toEqual([]);
  });
});

describe("housekeeping runs", () => {
  it("every period, on the timers; a backlog past its batch is worked off on the next polls", async () => {
    const { database, timers } = await setup({}, 2);
    await database.db
      .insertInto("cap_counters")
      .values(Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, window_start: RUN - 2 * DAY, count: 1 })))
      .execute();
    const left = async () => (await database.db.selectFrom("cap_counters").select("key").execute()).length;
    await timers.runDue(RUN);
    expect(await left()).toBe(3);
    // Batch full: due again at once, not in an hour.
    expect(await timers.due(database.db, "recurring")).toContainEqual({
      kind: "housekeeping:cap_counters",
      dueAt: RUN,
    });
    await timers.runDue(RUN);
    await timers.runDue(RUN);
    expect(await left()).toBe(0);
    // Done: the next run is a period later.
    expect(await timers.due(database.db, "recurring")).toContainEqual({
      kind: "housekeeping:cap_counters",
      dueAt: RUN + HOUR,
    });
    // Each job has exactly one timer, whatever the number of runs and restarts.
    const rows = await database.db.selectFrom("timers").select("kind").execute();
    expect(rows).toHaveLength(8);
  });

  it("periods and retentions are settings, with a floor where a shorter one would break a rule", () => {
    const config = loadConfig({
      ...testEnv,
      SESAME_HOUSEKEEPING_EVERY_MS: "600000",
      SESAME_HOUSEKEEPING_OUTBOX_EVERY_MS: "60000",
      SESAME_RETAIN_OUTBOX_MS: String(2 * DAY),
    });
    expect(config.housekeeping.outbox).toEqual({ everyMs: 60_000, retainMs: 2 * DAY });
    expect(config.housekeeping.sessions).toEqual({ everyMs: 600_000, retainMs: 30 * DAY });
    expect(config.housekeeping.cases.retainMs).toBe(730 * DAY);
    // The customer clock looks 90 days back at recoveries: a shorter retention is refused.
    expect(() => loadConfig({ ...testEnv, SESAME_RETAIN_RECOVERIES_MS: String(30 * DAY) })).toThrow(
      /SESAME_RETAIN_RECOVERIES_MS/,
    );
  });
});
