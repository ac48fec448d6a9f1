import { afterEach, describe, expect, it, vi } from "vitest";
import { concurrencyTest, type TestApp, testApp } from "../../test/helpers.js";
import { ManualClock } from "../platform/clock.js";
import { AppError } from "../platform/errors.js";
import { totpCodeAt } from "./model.js";
import { AgentsService } from "./service.js";
import { readyAgent } from "./testing.js";

// Counts the argon2 verifications and which hash each one used (the real one or the decoy).
const verified = vi.hoisted(() => [] as string[]);
vi.mock("../accounts/passwords.js", async (original) => {
  const real = await original<typeof import("../accounts/passwords.js")>();
  return {
    ...real,
    verifyPassword: async (storedHash: string, password: string) => {
      verified.push(storedHash === (await real.decoyPasswordHash()) ? "decoy" : "real");
      return real.verifyPassword(storedHash, password);
    },
  };
});

let t: TestApp;
afterEach(() => t?.close());

const refusal = async (promise: Promise<unknown>) => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
  return "signed_in";
};

describe("every sign-in does the same work", () => {
  it("one argon2 verification whatever fails; while throttled or disabled, never the real password", async () => {
    t = await testApp();
    const { agents } = t.app.services;
    const agent = await readyAgent(agents, t.clock, { email: "jo@desk.example" });
    const attempt = async (changes: Partial<{ email: string; password: string; code: string }>) => {
      verified.length = 0;
      const code = await refusal(
        agents.signIn({
          email: agent.email,
          password: agent.password,
          code: totpCodeAt(agent.secret, t.clock.now()),
          ...changes,
        }),
      );
      return { code, verified: [...verified] };
    };
    const wrongCode = totpCodeAt(agent.secret, t.clock.now()) === "000000" ? "111111" : "000000";
    expect(await attempt({ email: "nobody@desk.example" })).toEqual({
      code: "ERR_AGENT_SIGNIN_FAILED",
      verified: ["decoy"],
    });
    expect(await attempt({ password: "wrong wrong wrong" })).toEqual({
      code: "ERR_AGENT_SIGNIN_FAILED",
      verified: ["real"],
    });
    expect(await attempt({ code: wrongCode })).toEqual({
      code: "ERR_AGENT_SIGNIN_FAILED",
      verified: ["real"],
    });
    expect(await attempt({})).toEqual({ code: "signed_in", verified: ["real"] });
    for (let i = 0; i < 5; i++) await attempt({ password: "wrong wrong wrong" });
    t.clock.advance(30_000);
    // Five failures in a row: throttled; the right password is not even checked.
    expect(await attempt({})).toEqual({ code: "ERR_AGENT_SIGNIN_FAILED", verified: ["decoy"] });
    await agents.disableAgent(agent.email);
    t.clock.advance(60 * 60_000);
    expect(await attempt({})).toEqual({ code: "ERR_AGENT_SIGNIN_FAILED", verified: ["decoy"] });
  });
});

describe("two nodes", () => {
  concurrencyTest("accept one code once, however many sign-ins present it at the same time", async () => {
    t = await testApp();
    const agent = await readyAgent(t.app.services.agents, t.clock, { email: "jo@desk.example" });
    const clock = new ManualClock(t.clock.now());
    const other = t.database.openAnother();
    try {
      const secondNode = new AgentsService({ ...t.app.platform, db: other.db, clock });
      const code = totpCodeAt(agent.secret, t.clock.now());
      const input = { email: agent.email, password: agent.password, code };
      const results = await Promise.all(
        [0, 1, 2, 3].map((i) => refusal((i % 2 === 0 ? t.app.services.agents : secondNode).signIn(input))),
      );
      expect(results.filter((r) => r === "signed_in")).toHaveLength(1);
      expect(results.filter((r) => r === "ERR_AGENT_SIGNIN_FAILED")).toHaveLength(3);
    } finally {
      await other.close();
    }
  });
});
