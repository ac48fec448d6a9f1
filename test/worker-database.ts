import pg from "pg";

/**
 * On PostgreSQL each test worker gets a database of its own (`test_worker_1`, ...), made on first
 * use beside the one SESAME_TEST_DATABASE_URL names. Tests already work in throw-away schemas, but
 * Kysely's migrator reads the catalogue of every schema in the database, and fails with "schema
 * does not exist" when another worker drops its schema at that moment.
 */
const base = process.env.SESAME_TEST_BASE_DATABASE_URL ?? process.env.SESAME_TEST_DATABASE_URL;
if (base) {
  const url = new URL(base);
  const name = `${url.pathname.slice(1) || "postgres"}_worker_${process.env.VITEST_POOL_ID ?? "1"}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    const { rowCount } = await admin.query("select 1 from pg_database where datname = $1", [name]);
    if (!rowCount) await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  process.env.SESAME_TEST_BASE_DATABASE_URL = base;
  process.env.SESAME_TEST_DATABASE_URL = url.toString();
}
