/**
 * The raw argon2id verify rate, the limit of sign-in in bench/run.ts: `npx tsx bench/argon2-limit.ts`.
 *
 * Hashes one password with Sesame's own hashPassword (src/accounts/passwords.ts, so its parameters:
 * 19 MiB, t=2, p=1 today; they are read back from the hash and printed), then verifies it with
 * @node-rs/argon2's verify on libuv's pool (four threads), BENCH_ARGON2_IN_FLIGHT verifies at a time
 * (default 4, the issue's definition of the limit), for BENCH_SECONDS (default 10). Prints one line
 * of JSON on stdout:
 *   {"verifies", "failures", "seconds", "verifiesPerSecond", "inFlight", "params": {"m", "t", "p"}}
 * where seconds runs from the first verify to the end of the last one.
 */
import { performance } from "node:perf_hooks";
import { verify } from "@node-rs/argon2";
import { hashPassword } from "../src/accounts/passwords.js";

function positive(name: string, fallback: string): number {
  const raw = process.env[name] ?? fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`argon2-limit: ${name} must be a positive number, got "${raw}"`);
    process.exit(2);
  }
  return value;
}
const seconds = positive("BENCH_SECONDS", "10");
const IN_FLIGHT = Math.round(positive("BENCH_ARGON2_IN_FLIGHT", "4"));

const password = "bench-Quartz-Lantern-0042";
const stored = await hashPassword(password);
const match = /^\$argon2id\$v=\d+\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
if (!match) {
  console.error(`argon2-limit: Sesame's hash is not argon2id: ${stored.slice(0, 30)}…`);
  process.exit(1);
}
if (!(await verify(stored, password))) {
  console.error("argon2-limit: the password does not verify against its own hash");
  process.exit(1);
}

let verifies = 0;
let failures = 0;
const t0 = performance.now();
const until = t0 + seconds * 1000;
await Promise.all(
  Array.from({ length: IN_FLIGHT }, async () => {
    while (performance.now() < until) {
      if (await verify(stored, password)) verifies++;
      else failures++;
    }
  }),
);
const elapsed = (performance.now() - t0) / 1000;
console.log(
  JSON.stringify({
    verifies,
    failures,
    seconds: Math.round(elapsed * 1000) / 1000,
    verifiesPerSecond: Math.round((verifies / elapsed) * 10) / 10,
    inFlight: IN_FLIGHT,
    params: { m: Number(match[1]), t: Number(match[2]), p: Number(match[3]) },
  }),
);
