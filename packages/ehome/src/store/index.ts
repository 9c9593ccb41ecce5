export { StoreError } from './errors.js';
export { LINK_WINDOW_MS } from './links.js';
export { MemoryStore } from './memory-store.js';
export { MIGRATIONS } from './migrations.js';
export { openEmbeddedStore } from './pglite.js';
export { EVENTS_CHANNEL, openPostgresStore } from './postgres.js';
export { type SqlDriver, type SqlRun, SqlStore, type SqlStoreOptions, type StoreWriteStats } from './sql-store.js';
export type {
  CommandRecord,
  EhomeStore,
  EventQuery,
  MediaRecord,
  NewEvent,
  NodeRecord,
  RetentionPolicy,
  RetentionResult,
  SessionRecord,
  StoredEvent,
} from './types.js';
export { NODE_DEAD_AFTER_MS } from './types.js';

import { openEmbeddedStore } from './pglite.js';
import { openPostgresStore } from './postgres.js';
import type { SqlStoreOptions } from './sql-store.js';
import type { EhomeStore } from './types.js';

/**
 * Opens the store a location names: `postgres://...` / `postgresql://...` is PostgreSQL, anything else a directory
 * for the embedded store.
 */
export function openStore(location: string, options: SqlStoreOptions = {}): Promise<EhomeStore> {
  return /^postgres(ql)?:\/\//.test(location)
    ? openPostgresStore(location, options)
    : openEmbeddedStore(location, options);
}
