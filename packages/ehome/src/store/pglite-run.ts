import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { Row, SqlRun } from './batch.js';

/** The store's statement runner over a PGlite database or one of its transactions. */
export const pgliteRun =
  (target: Pick<PGlite | Transaction, 'query'>): SqlRun =>
  async (sql, params) =>
    (await target.query<Row>(sql, params ? [...params] : undefined)).rows;
