import type { DataWriteOp, Row } from './batch.js';

/** What the embedded store's worker is started with. @internal */
export interface PgliteWorkerData {
  directory: string;
}

/** Platform thread -> worker. `id` pairs each request with its answer. @internal */
export type PgliteRequest =
  | { id: number; kind: 'query'; sql: string; params: unknown[] }
  | { id: number; kind: 'batch'; ops: DataWriteOp[]; nodeId: string }
  | { id: number; kind: 'begin'; tx: number }
  | { id: number; kind: 'tx'; tx: number; sql: string; params: unknown[] }
  | { id: number; kind: 'commit' | 'rollback'; tx: number }
  | { id: number; kind: 'close' };

/** Worker -> platform thread: rows (or a batch's results) or an error's message; id 0 is "ready". @internal */
export interface PgliteReply {
  id: number;
  rows?: Row[] | unknown[];
  error?: string;
}
