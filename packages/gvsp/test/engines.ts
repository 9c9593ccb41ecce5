import { describe } from 'vitest';
import { describeInterop } from '../../../test-support/interop.js';
import type { CounterName, GvspReassembler, PacketisedBlock } from '../src/index.js';
import { GvspReassembler as Reassembler } from '../src/index.js';
import { loadNativeBinding, NativePlacement } from '../src/transport/native-host.js';

/**
 * The reassembler's tests run against both receive engines: `js` feeds GvspReassembler.handlePacket one datagram
 * at a time; `native` feeds the same datagrams to @cam/gvsp-native in batches (processDatagrams, the code path
 * received datagrams take), which places data packets itself and hands the rest to handlePacket.
 */
const loaded = await loadNativeBinding();
export const nativeBinding = 'binding' in loaded ? loaded.binding : undefined;
export const nativeError = 'error' in loaded ? loaded.error : undefined;

export type EngineName = 'js' | 'native';

/** `describe` once per engine; the native one needs @cam/gvsp-native built (required under CAM_INTEROP=1). */
export function engineTests(name: string, body: (engine: EngineName) => void): void {
  describe(`${name} [js engine]`, () => body('js'));
  describeInterop(`${name} [native engine]`, { '@cam/gvsp-native (built)': nativeBinding !== undefined }, () =>
    body('native'),
  );
}

export interface Ended {
  slot: number;
  status: number;
  data: Uint8Array;
  blockId: number;
}

export interface Harness {
  readonly engine: GvspReassembler;
  /** Frames handed over so far (pending native batches are processed first). */
  readonly ended: Ended[];
  readonly requests: [number, number, number][];
  /** Hands a datagram to the engine (native: queued into the current batch). */
  push(p: Uint8Array): void;
  /** Processes queued datagrams, then advances time. */
  tick(t: number): void;
  /** Processes queued datagrams. */
  sync(): void;
  get(name: CounterName): number;
  readonly fillingCount: number;
  /** Datagrams native code placed itself (0 for js). */
  readonly placedNatively: number;
}

export interface HarnessOptions {
  resend?: boolean;
  slots?: number;
  /** Datagrams per native batch (default 5). */
  batch?: number;
  /** Answer resend requests (default: from `blocks`). */
  answer?: boolean;
}

export function makeHarness(
  engineName: EngineName,
  payloadSize: number,
  packetSize: number | undefined,
  blocks: Map<number, PacketisedBlock>,
  resendOrOptions: boolean | HarnessOptions = true,
): Harness {
  const o: HarnessOptions = typeof resendOrOptions === 'boolean' ? { resend: resendOrOptions } : resendOrOptions;
  const ended: Ended[] = [];
  const requests: [number, number, number][] = [];
  let engine: GvspReassembler;
  const hooks = {
    requestResend(blockId: number, first: number, last: number) {
      requests.push([blockId, first, last]);
      if (o.answer === false) return;
      // a device that answers every request at once
      const b = blocks.get(blockId);
      if (!b) return;
      for (let id = first; id <= Math.min(last, b.packetCount - 1); id++) {
        h.push(b.bytes.subarray(b.offsets[id]!, b.offsets[id + 1]!));
      }
    },
    frameReady() {
      for (;;) {
        const slot = engine.take();
        if (slot < 0) break;
        ended.push({
          slot,
          status: engine.status[slot]!,
          data: engine.buffers[slot]!.slice(0, engine.dataEnd[slot]!),
          blockId: engine.blockIds[slot]!,
        });
        engine.release(slot);
      }
    },
  };
  const options = { payloadSize, packetSize, slots: o.slots ?? 4, resend: o.resend ?? true };
  let placement: NativePlacement | undefined;
  if (engineName === 'native') {
    if (!nativeBinding) throw new Error(`@cam/gvsp-native is not available: ${nativeError}`);
    placement = new NativePlacement(nativeBinding, options, hooks);
    engine = placement.engine;
  } else engine = new Reassembler(options, hooks);
  const batch = o.batch ?? 5;
  let pending: Uint8Array[] = [];
  let placed = 0;
  const sync = (): void => {
    if (!placement || pending.length === 0) return;
    const b = pending;
    pending = [];
    placed += placement.process(b);
  };
  const h: Harness = {
    engine,
    get ended() {
      sync();
      return ended;
    },
    get requests() {
      sync();
      return requests;
    },
    push(p) {
      if (!placement) {
        engine.handlePacket(p, p.byteLength);
        return;
      }
      pending.push(p.slice());
      if (pending.length >= batch) sync();
    },
    tick(t) {
      sync();
      engine.tick(t);
    },
    sync,
    get(name) {
      sync();
      return engine.get(name);
    },
    get fillingCount() {
      sync();
      return engine.fillingCount;
    },
    get placedNatively() {
      sync();
      return placed;
    },
  };
  return h;
}
