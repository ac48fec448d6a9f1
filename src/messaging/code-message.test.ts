import { describe, expect, it } from "vitest";
import { newId } from "../platform/ids.js";
import { Secrets } from "../platform/secrets.js";
import {
  CODE_MARK,
  type CodeMessageFields,
  codeSecretsOf,
  LINK_TOKEN_MARK,
  openCodeMessage,
  storedCodeMessage,
} from "./code-message.js";

const secrets = new Secrets("code-message-test-secret-0123456789abcdef");

describe("a code's digits and link token", () => {
  it("are the same for the same code row, and another row's or another secret's differ", () => {
    const id = newId();
    expect(codeSecretsOf(secrets, id)).toEqual(codeSecretsOf(secrets, id));
    const other = codeSecretsOf(secrets, newId());
    const mine = codeSecretsOf(secrets, id);
    expect(other.linkToken).not.toBe(mine.linkToken);
    const another = new Secrets("another-secret-0123456789abcdef-xyz");
    expect(codeSecretsOf(another, id).linkToken).not.toBe(mine.linkToken);
    // Two codes share a value one time in a million: of five rows, some differ.
    const ids = Array.from({ length: 5 }, newId);
    expect(ids.map((i) => codeSecretsOf(another, i).code)).not.toEqual(
      ids.map((i) => codeSecretsOf(secrets, i).code),
    );
    expect(mine.code).toMatch(/^\d{6}$/);
    expect(mine.linkToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("spread the codes evenly over the million (each digit of 30,000 codes, and how many repeat)", () => {
    const codes = Array.from({ length: 30_000 }, () => codeSecretsOf(secrets, newId()).code);
    for (let position = 0; position < 6; position++) {
      const counts = new Array<number>(10).fill(0);
      for (const code of codes) counts[Number(code[position])]!++;
      // 3,000 expected per digit; a standard deviation is about 52.
      for (const count of counts) expect(Math.abs(count - 3_000)).toBeLessThan(300);
    }
    // About 449 pairs of 30,000 draws among 10^6 share a value: far fewer distinct codes means a narrower draw.
    expect(new Set(codes).size).toBeGreaterThan(30_000 - 700);
  });
});

describe("a stored code message", () => {
  const fields: CodeMessageFields = {
    id: newId(),
    codeId: newId(),
    channel: "email",
    recipient: "maria-rosa@gmail.example",
    subject: "Votre code",
  };
  const text = `Votre code : ${CODE_MARK}\nOu ce lien : https://sesame.example/recover/link?token=${LINK_TOKEN_MARK}&lang=fr`;

  it("holds neither the code nor the token, and opens with both filled in", () => {
    const stored = storedCodeMessage(secrets, fields, text);
    const { code, linkToken } = codeSecretsOf(secrets, fields.codeId);
    expect(stored).not.toContain(code);
    expect(stored).not.toContain(linkToken);
    expect(openCodeMessage(secrets, fields, stored)).toBe(
      `Votre code : ${code}\nOu ce lien : https://sesame.example/recover/link?token=${linkToken}&lang=fr`,
    );
  });

  it("does not open once its text, its MAC or anything about where it goes changed, nor under another secret", () => {
    const stored = storedCodeMessage(secrets, fields, text);
    const changes: Array<[CodeMessageFields, string]> = [
      [{ ...fields, recipient: "attacker@evil.example" }, stored],
      [{ ...fields, channel: "sms" }, stored],
      [{ ...fields, codeId: newId() }, stored],
      [{ ...fields, id: newId() }, stored],
      [{ ...fields, subject: "Urgent" }, stored],
      [{ ...fields, subject: null }, stored],
      [fields, stored.replace("sesame.example", "evil.example")],
      [fields, stored.replace(/^m1\.(.)/, (_, c: string) => `m1.${c === "A" ? "B" : "A"}`)],
      [fields, stored.replace("m1.", "m2.")],
      [fields, "m1."],
    ];
    for (const [changed, body] of changes) expect(() => openCodeMessage(secrets, changed, body)).toThrow();
    expect(() =>
      openCodeMessage(new Secrets("another-secret-0123456789abcdef-xyz"), fields, stored),
    ).toThrow();
  });
});
