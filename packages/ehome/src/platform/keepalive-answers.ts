import {
  asciiEquals,
  asciiText,
  type KeepaliveScan,
  ResponseTemplate,
  type SignalEncoding,
  Status,
  sequenceDigits,
} from '../codec/index.js';

/** Version a platform answers with: captures show "2.5" to 2.x devices; 4.x devices get their own. */
export function platformVersion(deviceVersion: string): string {
  return deviceVersion.startsWith('2.') ? '2.5' : deviceVersion;
}

/** The answers for one device `<Version>` and encoding. */
class Prepared {
  /** One buffer per digit count of the sequence (index 1-10), head and tail already written. */
  readonly buffers: (Uint8Array | undefined)[] = [];

  constructor(
    readonly requestVersion: string,
    readonly encoding: SignalEncoding,
    readonly template: ResponseTemplate,
  ) {}
}

/** How many (version, encoding) pairs keep prepared answers; others get theirs built per call. */
const MAX_PREPARED = 64;

/**
 * The KEEPALIVE 200 answers of a platform, ready to send: per device version and encoding a
 * {@link ResponseTemplate}, and per digit count of the sequence one buffer already holding everything but the
 * digits, so answering costs writing 1-10 bytes, with no allocation.
 *
 * A buffer is reused only after the socket is done with it: `node:dgram` copies it into the kernel during `send`
 * when the send completes synchronously (an IP-literal destination with a synchronous lookup, a bound socket, an
 * empty send queue). When it did not (the send was queued), the caller calls {@link handOver} and the buffer is
 * left to the socket for good.
 */
export class KeepaliveAnswers {
  private readonly prepared = new Map<string, Prepared>();
  private last: Prepared | undefined;

  /** The template for a device `<Version>` and encoding (also for the general path). */
  template(requestVersion: string, encoding: SignalEncoding): ResponseTemplate {
    return this.lookup(requestVersion, encoding).template;
  }

  /** The answer to the scanned KEEPALIVE in `bytes`, in a buffer that is reused by the next call (see above). */
  answer(bytes: Uint8Array, scan: KeepaliveScan): Uint8Array {
    let p = this.last;
    if (
      p === undefined ||
      p.encoding !== scan.encoding ||
      !asciiEquals(bytes, scan.versionStart, scan.versionEnd, p.requestVersion)
    ) {
      p = this.lookup(asciiText(bytes, scan.versionStart, scan.versionEnd), scan.encoding);
    }
    const digits = sequenceDigits(scan.sequence);
    let out = p.buffers[digits];
    if (out === undefined) {
      out = p.template.encode(scan.sequence);
      if (this.prepared.get(key(p.requestVersion, p.encoding)) === p) p.buffers[digits] = out;
    } else p.template.writeSequence(scan.sequence, out, 0);
    return out;
  }

  /** `bytes` (from {@link answer}) stays with the socket: never write it again. */
  handOver(bytes: Uint8Array): void {
    for (const p of this.prepared.values()) {
      const i = p.buffers.indexOf(bytes);
      if (i >= 0) p.buffers[i] = undefined;
    }
  }

  private lookup(requestVersion: string, encoding: SignalEncoding): Prepared {
    const k = key(requestVersion, encoding);
    let p = this.prepared.get(k);
    if (p === undefined) {
      const template = new ResponseTemplate(
        'KEEPALIVE',
        Status.OK,
        'OK',
        {},
        {
          version: platformVersion(requestVersion),
          encoding,
        },
      );
      p = new Prepared(requestVersion, encoding, template);
      if (this.prepared.size < MAX_PREPARED) this.prepared.set(k, p);
    }
    this.last = p;
    return p;
  }
}

function key(version: string, encoding: SignalEncoding): string {
  return `${version}|${encoding}`;
}
