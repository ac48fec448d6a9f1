import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

/** Recovery reaches accounts through its service: views and password rules, never its rows or SQL. */
describe("recovery's view of accounts", () => {
  const sources = readdirSync(new URL(".", import.meta.url))
    .filter((name) => /\.tsx?$/.test(name) && !name.includes(".test."))
    .map((name) => ({ name, text: readFileSync(new URL(name, import.meta.url), "utf8") }));

  it("imports nothing from the accounts store, nor the account rows' types", () => {
    expect(sources.length).toBeGreaterThan(3);
    for (const { name, text } of sources) {
      expect(text, name).not.toMatch(/from "\.\.\/accounts\/(store|passwords)\.js"/);
      expect(text, name).not.toMatch(/\b(AccountsTable|AlternatesTable|AccountRow|PasswordHistoryTable)\b/);
    }
  });
});
