import type { AccountsService, NewAccount } from "../accounts/service.js";
import type { LockReason } from "../db/schema.js";

/** The demo password of every seeded account (documented in the README). */
const DEMO_PASSWORD = "Sesame demo 2026!";

const demoAccounts: Array<NewAccount & { lock?: { reason: LockReason; note: string } }> = [
  {
    // The story: blocked after a virus; her backup address and phone are verified.
    address: "maria-rosa@hotmail.example",
    password: DEMO_PASSWORD,
    displayName: "Maria-Rosa",
    locale: "fr",
    country: "BE",
    alternates: [
      { kind: "email", value: "maria-rosa@gmail.example", verified: true },
      { kind: "phone", value: "+32 470 12 34 56", verified: true },
    ],
    lock: { reason: "compromise", note: "malware detected on a device that signed in" },
  },
  {
    address: "jan.peeters@telenet.example",
    password: DEMO_PASSWORD,
    displayName: "Jan Peeters",
    locale: "nl",
    country: "BE",
    alternates: [{ kind: "phone", value: "+32 495 65 43 21", verified: true }],
  },
  {
    // Only an unverified alternate: the journey must lead her to a person, never to a dead end.
    address: "sophie.martin@hotmail.example",
    password: DEMO_PASSWORD,
    displayName: "Sophie Martin",
    locale: "fr",
    country: "LU",
    alternates: [{ kind: "email", value: "sophie.martin@post.example", verified: false }],
    lock: { reason: "compromise", note: "spam burst" },
  },
  {
    address: "lena.schmidt@web.example",
    password: DEMO_PASSWORD,
    displayName: "Lena Schmidt",
    locale: "de",
    country: "DE",
    alternates: [{ kind: "email", value: "lena@family.example", verified: true }],
  },
  {
    address: "sam.taylor@campus.example",
    password: DEMO_PASSWORD,
    displayName: "Sam Taylor",
    locale: "en",
    country: "GB",
    alternates: [{ kind: "email", value: "sam.taylor@home.example", verified: true }],
    lock: { reason: "abuse", note: "outgoing spam reported" },
  },
];

/** Seeds the demo directory; accounts already there are left as they are. */
export async function seedDemo(accounts: AccountsService): Promise<string[]> {
  const created: string[] = [];
  for (const { lock, ...account } of demoAccounts) {
    if (await accounts.findByAddress(account.address)) continue;
    await accounts.createAccount(account, "seed");
    if (lock) await accounts.lockAccount(account.address, lock.reason, lock.note, "seed");
    created.push(account.address);
  }
  return created;
}
