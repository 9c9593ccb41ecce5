import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { type SqlDriver, type SqlRun, SqlStore, type SqlStoreOptions } from './sql-store.js';

/**
 * The embedded store: PostgreSQL compiled to WebAssembly (PGlite) in this process, its files in `directory`.
 * Nothing to install and no compiler needed, and the same SQL as the PostgreSQL backend. One process at a time
 * may open a directory.
 */
export async function openEmbeddedStore(directory: string, options: SqlStoreOptions = {}): Promise<SqlStore> {
  await mkdir(directory, { recursive: true });
  const db = await PGlite.create(directory);
  const run =
    (target: { query: PGlite['query'] }): SqlRun =>
    async (sql, params) =>
      (await target.query<Record<string, unknown>>(sql, params ? [...params] : undefined)).rows;
  const driver: SqlDriver = {
    query: run(db),
    transaction: (body) => db.transaction((tx) => body(run(tx))),
    close: () => db.close(),
  };
  const store = new SqlStore('embedded', driver, options);
  try {
    await store.migrate();
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
  return store;
}
