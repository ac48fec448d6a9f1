/**
 * The "physical limit" of bench/run.ts: what this machine can do for one recovery start with no
 * framework and no logic. A bare node:http server; for `POST /api/v1/recovery {address}` it runs ONE
 * prepared insert of a row the size of Sesame's `recoveries` row into a SQLite file with the pragmas
 * of src/db/database.ts (WAL, synchronous=NORMAL), then answers 201 {"recoveryId": "…"}.
 * Every figure of the bench is divided by this server's, measured in the same run.
 *
 * Settings (environment): PORT, DATABASE_PATH (the SQLite file), HOST (default 127.0.0.1).
 * Prints one line "limit-server: listening on http://HOST:PORT" when ready.
 *
 * bench/run.ts runs it as plain JavaScript (transpiled to dist/bench/limit-server.mjs), not through
 * tsx, whose loader thread would add ~30 MiB to the resident memory it reports.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import Database from "better-sqlite3";

const port = Number(process.env.PORT);
const path = process.env.DATABASE_PATH;
const host = process.env.HOST || "127.0.0.1";
if (!Number.isInteger(port) || port <= 0 || !path) {
  console.error("limit-server: PORT and DATABASE_PATH must be set");
  process.exit(2);
}

const db = new Database(path);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
// The columns of Sesame's recoveries table (migrations 001 and 004).
db.exec(`create table if not exists recoveries (
  id text primary key,
  address text not null,
  account_id text,
  locale text not null,
  state text not null,
  started_at bigint not null,
  verified_at bigint,
  completed_at bigint,
  case_id text,
  password_token_hash text,
  case_contact_id text
)`);
const insert = db.prepare(
  `insert into recoveries (id, address, account_id, locale, state, started_at, verified_at, completed_at,
     case_id, password_token_hash, case_contact_id)
   values (?, ?, null, 'en', 'choose_channel', ?, null, null, null, null, null)`,
);

const server = createServer((request, response) => {
  if (request.method !== "POST" || request.url !== "/api/v1/recovery") {
    response.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    let address: unknown;
    try {
      address = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { address?: unknown }).address;
    } catch {
      // answered 400 below
    }
    if (typeof address !== "string" || address === "") {
      response.writeHead(400, { "content-type": "application/json" }).end('{"error":"address"}');
      return;
    }
    const id = randomBytes(16).toString("base64url"); // 22 characters
    insert.run(id, address, Date.now());
    const body = JSON.stringify({ recoveryId: id });
    response
      .writeHead(201, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
      .end(body);
  });
});

server.listen(port, host, () => console.log(`limit-server: listening on http://${host}:${port}`));

process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  db.close();
  process.exit(0);
});
