import { afterEach, expect, it } from "vitest";
import { type TestApp, testApp } from "../../test/helpers.js";
import { decoyPasswordHash } from "./passwords.js";

// Alone in its file: the decoy is computed once per process, and no other test may have asked for it.
let t: TestApp;
afterEach(() => t?.close());

it("is hashed before the app answers, so the first sign-in for an unknown address hashes once, like any other", async () => {
  t = await testApp();
  // A decoy already there settles before the next turn of the event loop; one still to hash does not.
  const ready = await Promise.race([
    decoyPasswordHash().then(() => true),
    new Promise<boolean>((resolve) => setImmediate(() => resolve(false))),
  ]);
  expect(ready).toBe(true);
});
