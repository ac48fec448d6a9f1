import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../db/database.js";
import { Secrets } from "../platform/secrets.js";

/** `sesame agent ...` run as an operator runs it (tsx src/main.ts), against a SQLite file in a temp dir. */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TSX = join(ROOT, "node_modules/.bin/tsx");
const SECRET = "cli-test-secret-0123456789-0123456789";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sesame-agents-cli-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sesame(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      ["src/main.ts", ...args],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          DATABASE_URL: `sqlite:${join(dir, "sesame.db")}`,
          SESAME_SECRET: SECRET,
          PUBLIC_URL: "https://desk.sesame.test",
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("sesame agent", () => {
  it("add prints a one-time setup link; token prints a personal token that is stored hashed", async () => {
    const added = await sesame(
      "agent",
      "add",
      "--email",
      "Lea@Desk.Example",
      "--teams",
      "casablanca,belux",
      "--role",
      "supervisor",
      "--name",
      "Léa",
    );
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    const link = /^https:\/\/desk\.sesame\.test\/agent\/setup\?token=([\w-]{43})$/m.exec(added.stdout);
    expect(link, added.stdout).not.toBeNull();

    const issued = await sesame("agent", "token", "--email", "lea@desk.example");
    expect(issued.code).toBe(0);
    const token = issued.stdout.trim();
    expect(token).toMatch(/^sat_[\w-]{43}$/);

    const database = openDatabase({ kind: "sqlite", path: join(dir, "sesame.db") });
    try {
      const agent = await database.db.selectFrom("agents").selectAll().executeTakeFirstOrThrow();
      expect(agent).toMatchObject({
        email: "lea@desk.example",
        name: "Léa",
        role: "supervisor",
        teams: '["casablanca","belux"]',
      });
      const secrets = new Secrets(SECRET);
      expect(agent.setup_token_hash).toBe(secrets.hmac(`agent-setup:${link![1]}`));
      const stored = await database.db.selectFrom("agent_tokens").selectAll().executeTakeFirstOrThrow();
      expect(stored.token_hash).toBe(secrets.hmac(`agent-token:${token}`));
    } finally {
      await database.close();
    }
  });

  it.each([
    [
      ["agent", "add", "--email", "x@desk.example", "--teams", "t9", "--role", "agent"],
      /Unknown team: t9\. \(known teams: maastricht, casablanca, dublin, belux, corp\)/,
    ],
    [
      ["agent", "add", "--email", "x@desk.example", "--teams", "casablanca", "--role", "boss"],
      /role must be agent, supervisor or admin/,
    ],
    [["agent", "add", "--email", "x@desk.example", "--role", "agent"], /needs --email, --teams and --role/],
    [
      ["agent", "add", "--email", "not-an-address", "--teams", "casablanca", "--role", "agent"],
      /not a valid email/,
    ],
    [
      [
        "agent",
        "add",
        "--email",
        "x@desk.example",
        "--teams",
        "casablanca",
        "--role",
        "agent",
        "--colour",
        "red",
      ],
      /Unknown option '--colour'/,
    ],
    [["agent", "token"], /agent token needs --email/],
    [["agent", "token", "--email", "nobody@desk.example"], /no agent with this email/],
    [["agent", "promote", "--email", "x@desk.example"], /Usage: sesame/],
  ])("refuses %j with exit code 2 and one clear line", async (args, message) => {
    const result = await sesame(...args);
    expect(result.code).toBe(2);
    expect(`${result.stdout}${result.stderr}`).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("refuses a second agent with the same address", async () => {
    const again = await sesame(
      "agent",
      "add",
      "--email",
      "LEA@desk.example",
      "--teams",
      "casablanca",
      "--role",
      "agent",
    );
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });
});
