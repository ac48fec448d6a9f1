import type { Statement } from "better-sqlite3";
import type { Compilable, CompiledQuery, Insertable, QueryResult, RawBuilder } from "kysely";
import type { Db, Executor, Tx } from "./database.js";
import type { Database } from "./schema.js";

/** A SQLite connection's prepared statement for a text (from its statement cache). */
export type StatementOf = (sql: string) => Statement;

/**
 * On SQLite, prepared queries skip Kysely where that changes nothing: better-sqlite3 runs a
 * statement in one synchronous call on the one connection, which is what Kysely does too, after its
 * per-statement connection lock, executor and promises (a third of what a recovery start allocated;
 * the garbage collector was 15% of the server's time). They run directly
 * - on a transaction that its opener marked open (the group commit's): it holds the connection, and
 *   is unmarked before its commit or rollback, so a query on it afterwards goes through Kysely,
 *   which refuses it;
 * - on the database itself while no transaction is open on the connection; inside one, it would
 *   join that transaction, so it waits for the connection through Kysely instead.
 */
const openOnSqlite = new WeakMap<Tx, StatementOf>();
const sqliteDatabases = new WeakMap<Db, { statementOf: StatementOf; inTransaction: () => boolean }>();

export function directWhenIdle(db: Db, statementOf: StatementOf, inTransaction: () => boolean): void {
  sqliteDatabases.set(db, { statementOf, inTransaction });
}

export async function withDirectStatements<T>(tx: Tx, statementOf: StatementOf, work: () => Promise<T>) {
  openOnSqlite.set(tx, statementOf);
  try {
    return await work();
  } finally {
    openOnSqlite.delete(tx);
  }
}

/** Whether a prepared query on `db` runs directly on the SQLite connection now. */
export const runsDirectly = (db: Executor): boolean => directStatements(db) !== undefined;

function directStatements(db: Executor): StatementOf | undefined {
  if (db.isTransaction) return openOnSqlite.get(db as Tx);
  const sqlite = sqliteDatabases.get(db as Db);
  return sqlite && !sqlite.inTransaction() ? sqlite.statementOf : undefined;
}

type RowOf = (values: unknown[]) => unknown;
const rowMakers = new WeakMap<Statement, RowOf>();

/**
 * Rows read as arrays and made into objects of one shape: better-sqlite3 sets each column as a
 * property of a new object, a third of reading an 11-column row (3.0 µs against 2.0). The
 * statements of `StatementOf` are the direct path's own, so switching them to arrays changes no
 * one else's rows.
 */
function rowMakerOf(statement: Statement): RowOf {
  let make = rowMakers.get(statement);
  if (!make) {
    const fields = statement.columns().map((column, i) => `${JSON.stringify(column.name)}: values[${i}]`);
    make = new Function("values", `return { ${fields.join(", ")} };`) as RowOf;
    statement.raw(true);
    rowMakers.set(statement, make);
  }
  return make;
}

/** What Kysely's SQLite driver answers for a statement, without the detour. */
function runDirect<R>(statement: Statement, parameters: readonly unknown[]): QueryResult<R> {
  if (statement.reader) {
    const make = rowMakerOf(statement);
    return { rows: (statement.all(parameters) as unknown[][]).map(make) as R[] };
  }
  const { changes, lastInsertRowid } = statement.run(parameters);
  return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
}

/** Stands for the i-th argument while the query is built; never a value anyone sends. */
const slot = (i: number) => `\u0000sesame-slot-${i}\u0000`;

interface Template {
  sql: string;
  /** Per parameter: the argument it takes, or -1 for a constant of the query (a limit, a literal). */
  sources: number[];
  constants: unknown[];
  query: CompiledQuery["query"];
  queryId: CompiledQuery["queryId"];
}

type Build = (db: Executor, args: unknown[]) => Compilable<unknown> | RawBuilder<unknown>;

/** Compiles `build` once per database (its adapter) and runs it with each call's arguments. */
function runner<R>(arity: number, build: Build) {
  const templates = new WeakMap<object, Template>();
  const templateFor = (db: Executor): Template => {
    const adapter = db.getExecutor().adapter;
    let template = templates.get(adapter);
    if (!template) {
      const stand = Array.from({ length: arity }, (_, i) => slot(i));
      // A raw `sql` query compiles against a database; a query builder already has its own.
      const compiled = build(db, stand).compile(db);
      const sources = compiled.parameters.map((p) => stand.indexOf(p as string));
      for (let i = 0; i < arity; i++)
        if (!sources.includes(i))
          throw new Error(`prepared query: argument ${i} is not a parameter of ${compiled.sql}`);
      template = {
        sql: compiled.sql,
        sources,
        constants: [...compiled.parameters],
        query: compiled.query,
        queryId: compiled.queryId,
      };
      templates.set(adapter, template);
    }
    return template;
  };
  return async (db: Executor, args: unknown[]): Promise<QueryResult<R>> => {
    const template = templateFor(db);
    const parameters = template.sources.map((source, i) =>
      source < 0 ? template.constants[i] : args[source],
    );
    const statementOf = directStatements(db);
    if (statementOf) return runDirect<R>(statementOf(template.sql), parameters);
    return db.executeQuery<R>({
      sql: template.sql,
      parameters,
      query: template.query,
      queryId: template.queryId,
    });
  };
}

/**
 * A query built and compiled once per database and then run with new values. Kysely builds and
 * compiles every query anew (about 20 µs a statement, as long as SQLite takes to run a small one):
 * on the paths every request takes, that was a fifth of the server's time.
 *
 * `build` must pass each argument straight into the query (a comparison, a value, a column): it is
 * called once with stand-ins, and what the compiled query holds in their place is filled per call.
 */
export function prepared<Args extends unknown[], R>(
  build: (db: Executor, ...args: Args) => Compilable<R> | RawBuilder<R>,
) {
  const run = runner<R>(build.length - 1, (db, args) => build(db, ...(args as Args)));
  return (db: Executor, ...args: Args): Promise<QueryResult<R>> => run(db, args);
}

/** An insert of one whole row of `table`, prepared once (see `prepared`); the row gives every column. */
export function preparedInsert<T extends keyof Database>(
  table: T,
  columns: readonly (keyof Insertable<Database[T]> & string)[],
  /** A unique column whose clash inserts nothing (the result's numAffectedRows says 0) instead of failing. */
  unlessTaken?: keyof Insertable<Database[T]> & string,
) {
  const run = runner<never>(columns.length, (db, args) => {
    const insert = db
      .insertInto(table)
      .values(Object.fromEntries(columns.map((c, i) => [c, args[i]])) as never);
    return unlessTaken ? insert.onConflict((oc) => oc.column(unlessTaken as never).doNothing()) : insert;
  });
  return (db: Executor, row: Insertable<Database[T]>) =>
    run(
      db,
      columns.map((c) => {
        const value = (row as Record<string, unknown>)[c];
        if (value === undefined) throw new Error(`prepared insert into ${table}: no value for ${c}`);
        return value;
      }),
    );
}
