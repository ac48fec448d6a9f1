import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createAccount,
  lockAccount,
  maria,
  NEW_PASSWORD,
  STRONG_PASSWORD,
  type TestApp,
  testApp,
} from "../../test/helpers.js";
import { inTransaction } from "../platform/context.js";
import { translator } from "../platform/i18n.js";
import type { AcceptedPassword } from "./service.js";

/** What the accounts feature hands other features: views and password rules, never its rows. */
let t: TestApp;
let mariaId: string;
beforeEach(async () => {
  t = await testApp();
  mariaId = (await createAccount(t, maria)).id;
});
afterEach(() => t.close());

const accounts = () => t.app.services.accounts;

describe("the account as other features see it", () => {
  it("is a projection with the verified alternates in clear, and no password hash", async () => {
    const facts = await accounts().findByAddress(maria.address);
    // In no particular order (created at the same instant).
    facts?.verifiedAlternates.sort((x, y) => x.kind.localeCompare(y.kind));
    expect(facts).toEqual({
      id: mariaId,
      address: maria.address,
      displayName: null,
      locale: "fr",
      country: "BE",
      lock: null,
      verifiedAlternates: [
        { id: expect.any(String), kind: "email", value: "maria-rosa@gmail.example" },
        { id: expect.any(String), kind: "phone", value: "+32470123456" },
      ],
    });
    const byId = await accounts().findById(mariaId);
    byId?.verifiedAlternates.sort((x, y) => x.kind.localeCompare(y.kind));
    expect(byId).toEqual(facts);
  });

  it("tells a code request where codes may go, the same for a locked account, nothing for an unknown id", async () => {
    await createAccount(t, {
      address: "jan-peeters@telenet.example",
      alternates: [
        { kind: "email", value: "jan@verified.example", verified: true },
        { kind: "email", value: "jan@unverified.example", verified: false },
      ],
    });
    const janId = (await accounts().idOf("jan-peeters@telenet.example"))!;
    await lockAccount(t, "jan-peeters@telenet.example");
    const reach = await inTransaction(t.app.platform, (tx) => accounts().reachOf(janId, tx));
    expect(reach).toEqual({
      locale: "en",
      country: null,
      verifiedAlternates: [{ id: expect.any(String), kind: "email", value: "jan@verified.example" }],
    });
    const facts = (await accounts().findById(mariaId))!;
    expect(await inTransaction(t.app.platform, (tx) => accounts().reachOf(mariaId, tx))).toEqual({
      locale: facts.locale,
      country: facts.country,
      verifiedAlternates: expect.arrayContaining(facts.verifiedAlternates),
    });
    for (const unknown of ["00000000-0000-0000-0000-000000000001", null])
      expect(await inTransaction(t.app.platform, (tx) => accounts().reachOf(unknown, tx))).toBeUndefined();
  });

  it("shows the lock in force", async () => {
    await lockAccount(t, maria.address);
    expect((await accounts().findById(mariaId))?.lock).toMatchObject({ reason: "compromise" });
  });

  it("is undefined for an unknown address or id, and for no id", async () => {
    expect(await accounts().findByAddress("nobody@hotmail.example")).toBeUndefined();
    expect(await accounts().findById("00000000-0000-0000-0000-000000000001")).toBeUndefined();
    expect(await accounts().findById(null)).toBeUndefined();
    expect(await accounts().idOf("nobody@hotmail.example")).toBeNull();
    expect(await accounts().idOf(maria.address)).toBe(mariaId);
  });
});

describe("the rules of a new password", () => {
  const refusal = async (password: string, locale: "en" | "fr" = "en") => {
    const checked = await accounts().checkNewPassword(maria.address, password, locale);
    return checked.ok ? "accepted" : { code: checked.error.code, params: checked.error.params };
  };

  it("refuses a weak password, or one made of the person's own words, with a hint in the asked language", async () => {
    for (const locale of ["en", "fr"] as const)
      expect(await refusal("password1", locale)).toEqual({
        code: "ERR_PASSWORD_WEAK",
        params: { hint: translator(locale)("password.hint.default") },
      });
    expect((await refusal("maria-rosa-hotmail-example")) as { code: string }).toMatchObject({
      code: "ERR_PASSWORD_WEAK",
    });
  });

  it("refuses the current password, accepts a strong new one for the view or the address", async () => {
    expect(await refusal(STRONG_PASSWORD)).toEqual({ code: "ERR_PASSWORD_REUSED", params: {} });
    expect(await refusal(NEW_PASSWORD)).toBe("accepted");
    const facts = (await accounts().findById(mariaId))!;
    const checked = await accounts().checkNewPassword(facts, NEW_PASSWORD, "en");
    expect(checked.ok && checked.accepted.accountId).toBe(mariaId);
  });

  it("throws for an unknown address", async () => {
    await expect(
      accounts().checkNewPassword("nobody@hotmail.example", NEW_PASSWORD, "en"),
    ).rejects.toMatchObject({ code: "ERR_ACCOUNT_NOT_FOUND" });
  });

  it("sets only a password accepted for that same account", async () => {
    const jan = await createAccount(t, { address: "jan-peeters@telenet.example", password: STRONG_PASSWORD });
    const checked = await accounts().checkNewPassword(maria.address, NEW_PASSWORD, "en");
    const accepted = (checked as { accepted: AcceptedPassword }).accepted;
    await expect(
      inTransaction(t.app.platform, (tx) => accounts().setNewPassword(tx, jan.id, accepted, "test")),
    ).rejects.toThrow(/another account/);
    const signin = (address: string, password: string) =>
      t.server.inject({ method: "POST", url: "/api/v1/signin", payload: { address, password } });
    expect((await signin(jan.address, NEW_PASSWORD)).statusCode).toBe(401);
    await inTransaction(t.app.platform, (tx) => accounts().setNewPassword(tx, mariaId, accepted, "test"));
    expect((await signin(maria.address, NEW_PASSWORD)).statusCode).toBe(200);
    expect((await refusal(STRONG_PASSWORD)) as { code: string }).toMatchObject({
      code: "ERR_PASSWORD_REUSED",
    });
  });
});
