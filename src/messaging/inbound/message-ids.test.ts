import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { newCaseRef } from "../../platform/ids.js";
import { Secrets } from "../../platform/secrets.js";
import { outboxIdFromMessageId, refFromSignedId, signedMessageId } from "./message-ids.js";

const secrets = new Secrets("message-id-test-secret-0123456789abcdef");
const other = new Secrets("another-installation-secret-0123456789ab");

describe("signed Message-IDs", () => {
  it("carry the case reference back, under any domain", () => {
    const ref = newCaseRef();
    const id = signedMessageId(secrets, ref, "sesame.example");
    expect(id).toMatch(new RegExp(`^<${ref}\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{22}@sesame\\.example>$`));
    expect(refFromSignedId(secrets, id)).toBe(ref);
    // Clients quote it bare, too; the domain is not what proves it.
    expect(refFromSignedId(secrets, id.slice(1, -1))).toBe(ref);
    expect(refFromSignedId(secrets, id.replace("sesame.example", "elsewhere.example"))).toBe(ref);
  });

  it("are refused when forged, made under another key, or pointed at another case", () => {
    const ref = "SES-ABCD-2345";
    const id = signedMessageId(secrets, ref, "sesame.example", "n0nce-0123456789");
    expect(refFromSignedId(other, id)).toBeNull();
    expect(refFromSignedId(secrets, id.replace(ref, "SES-ABCD-2346"))).toBeNull();
    expect(refFromSignedId(secrets, id.replace("n0nce", "n1nce"))).toBeNull();
    expect(refFromSignedId(secrets, `<${ref}.n0nce-0123456789.${"A".repeat(22)}@sesame.example>`)).toBeNull();
    expect(refFromSignedId(secrets, `<${ref}@sesame.example>`)).toBeNull();
    expect(refFromSignedId(secrets, "<nothing>")).toBeNull();
    expect(refFromSignedId(secrets, "")).toBeNull();
  });

  it("any single changed character of the local part voids it", () => {
    const id = signedMessageId(secrets, "SES-7K2M-9QXD", "x.example", "abcdefgh12345678");
    const local = id.slice(1, id.indexOf("@"));
    fc.assert(
      fc.property(
        fc.nat(local.length - 1),
        fc.constantFrom(..."ABCDEFGHJKMNPQRSTVWXYZ23456789abcdefxyz-_."),
        (at, char) => {
          fc.pre(local[at] !== char);
          const altered = `<${local.slice(0, at)}${char}${local.slice(at + 1)}@x.example>`;
          expect(refFromSignedId(secrets, altered)).toBeNull();
        },
      ),
    );
  });

  it("name the outbox row they were made for, as the plain ones do", () => {
    const rowId = "0b6f7c2e-1111-4222-8333-944445555666";
    expect(outboxIdFromMessageId(`<${rowId}@sesame.example>`)).toBe(rowId);
    const signed = signedMessageId(secrets, "SES-ABCD-2345", "sesame.example", rowId.replaceAll("-", ""));
    expect(outboxIdFromMessageId(signed)).toBe(rowId);
    expect(outboxIdFromMessageId("<CAF=abc@mail.gmail.com>")).toBeNull();
  });
});
