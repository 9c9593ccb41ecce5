import { copyBytes } from '@cam/net-utils';
/** The last request of one sender and, once it is answered, the acknowledge that was sent. */
export interface CachedExchange {
  reqId: number;
  request: Uint8Array;
  /** Undefined while the command is still executing. */
  ack: Uint8Array | undefined;
}

/**
 * Remembers, per sender (IP and port), its last request and our answer, so that a retransmission (same req_id, same
 * bytes: the host did not get our ack) is answered again instead of executed twice. Bounded: the least recently
 * used sender is forgotten first.
 */
export class RetransmitCache {
  readonly #entries = new Map<string, CachedExchange>();
  readonly #capacity: number;

  constructor(capacity = 64) {
    this.#capacity = Math.max(1, Math.floor(capacity));
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached exchange when `request` repeats the sender's last request byte for byte. */
  match(sender: string, reqId: number, request: Uint8Array): CachedExchange | undefined {
    const e = this.#entries.get(sender);
    if (!e || e.reqId !== reqId || !sameBytes(e.request, request)) return undefined;
    return e;
  }

  /** Records a new request; the caller stores the acknowledge it sends in the returned entry's `ack`. */
  begin(sender: string, reqId: number, request: Uint8Array): CachedExchange {
    const entry: CachedExchange = { reqId, request: copyBytes(request), ack: undefined };
    this.#entries.delete(sender);
    this.#entries.set(sender, entry);
    while (this.#entries.size > this.#capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
    return entry;
  }

  clear(): void {
    this.#entries.clear();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
