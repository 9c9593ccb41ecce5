import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pgliteRun } from './pglite-run.js';
import { openPgliteThread } from './pglite-thread.js';
import { type SqlDriver, SqlStore, type SqlStoreOptions } from './sql-store.js';

/**
 * The embedded store: PostgreSQL compiled to WebAssembly (PGlite) in this process, its files in `directory`.
 * Nothing to install and no compiler needed, and the same SQL as the PostgreSQL backend. One process at a time
 * may open a directory. PGlite runs in a worker thread unless `thread: false`.
 */
export async function openEmbeddedStore(
  directory: string,
  options: SqlStoreOptions & {
    /** Run PGlite in a worker thread (default) so its statements never stall the platform's servers. */
    thread?: boolean;
  } = {},
): Promise<SqlStore> {
  await mkdir(directory, { recursive: true });
  if (options.thread !== false && !(await exists(join(directory, 'PG_VERSION')))) {
    // A new store: PGlite's initdb grows the WebAssembly memory to about 900 MB, and WebAssembly memory never
    // shrinks. Create the database in a worker of its own and end it; the store then opens the existing files in a
    // fresh worker (about 350-450 MB of RSS instead of 900-1000 MB, for about a second more on first start).
    await (await openPgliteThread(directory)).close();
  }
  const driver = options.thread === false ? await inThisThread(directory) : await openPgliteThread(directory);
  const store = new SqlStore('embedded', driver, options);
  try {
    await store.migrate();
  } catch (e) {
    await driver.close().catch(() => {});
    throw e;
  }
  return store;
}

async function inThisThread(directory: string): Promise<SqlDriver> {
  const db = await PGlite.create(directory);
  return {
    query: pgliteRun(db),
    transaction: (body) => db.transaction((tx) => body(pgliteRun(tx))),
    close: () => db.close(),
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
