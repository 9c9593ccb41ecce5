import pg from 'pg';
import { type SqlDriver, type SqlRun, SqlStore, type SqlStoreOptions } from './sql-store.js';

/** NOTIFY channel on which nodes tell each other that events were committed. */
export const EVENTS_CHANNEL = 'cam_ehome_events';

/**
 * The PostgreSQL store: several platform processes share one database (`url`, e.g.
 * `postgres://user@127.0.0.1:5432/cam`). A pool for queries and group commits, and one extra connection that
 * LISTENs so a node learns at once that another committed events (for live event streams).
 */
export async function openPostgresStore(
  url: string,
  options: SqlStoreOptions & { poolSize?: number } = {},
): Promise<SqlStore> {
  const poolSize = options.poolSize ?? 4;
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => {}); // an idle client's failure: the pool replaces it
  let listener: pg.Client | undefined;
  const driver: SqlDriver = {
    concurrentTransactions: true,
    // Alarms and uploads commit on up to two connections at once (a stalled transaction holds up only its own
    // writes), leaving the rest of the pool to the written-behind lane and to queries.
    urgentConcurrency: Math.max(1, Math.min(2, poolSize - 2)),
    query: async (sql, params) => (await pool.query(sql, params ? [...params] : undefined)).rows,
    transaction: async (body) => {
      const client = await pool.connect();
      // BEGIN goes with the transaction's first statement: in one simple query when that statement has no
      // parameters (a round trip fewer), else queued right before it on the connection.
      let begun = false;
      const run: SqlRun = async (sql, params) => {
        if (!begun) {
          begun = true;
          if (!params || params.length === 0) {
            const results = (await client.query(`begin; ${sql}`)) as unknown as pg.QueryResult | pg.QueryResult[];
            return (Array.isArray(results) ? results[results.length - 1]! : results).rows;
          }
          void client.query('begin').catch(() => {}); // a failed BEGIN fails the statement queued after it
        }
        return (await client.query(sql, params ? [...params] : undefined)).rows;
      };
      try {
        const r = await body(run);
        if (begun) await client.query('commit');
        return r;
      } catch (e) {
        await client.query('rollback').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
    notify: async () => {
      await pool.query(`notify ${EVENTS_CHANNEL}`);
    },
    listen: async (onNotify) => {
      listener = new pg.Client({ connectionString: url });
      listener.on('error', () => {});
      await listener.connect();
      listener.on('notification', () => onNotify());
      await listener.query(`listen ${EVENTS_CHANNEL}`);
    },
    close: async () => {
      await listener?.end().catch(() => {});
      await pool.end();
    },
  };
  const store = new SqlStore('postgres', driver, options);
  try {
    await store.migrate();
  } catch (e) {
    await driver.close().catch(() => {});
    throw e;
  }
  return store;
}
