import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SdkDevice, type SdkDeviceOptions } from '../src/device/device.js';
import { SdkClient, type SdkClientOptions } from '../src/transport/client.js';

export interface Rig {
  device: SdkDevice;
  dir: string;
  connect(options?: SdkClientOptions): Promise<SdkClient>;
  close(): Promise<void>;
}

/** A device on 127.0.0.1, port 0, with a fresh temp directory; `close()` removes everything. */
export async function startRig(options: SdkDeviceOptions = {}): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'cam-sdk-test-'));
  const device = await SdkDevice.start({ address: '127.0.0.1', port: 0, dir, ...options });
  const clients: SdkClient[] = [];
  return {
    device,
    dir,
    async connect(o = {}) {
      const c = await SdkClient.connect('127.0.0.1', { port: device.port, timeoutMs: 5000, ...o });
      clients.push(c);
      return c;
    },
    async close() {
      for (const c of clients) c.destroy();
      await device.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

import { connect, type Socket } from 'node:net';
import { encodePacket, type SdkPacket } from '../src/codec/packets.js';
import { encodeSdkCall, SdkCallAssembler, SdkPacketDecoder } from '../src/codec/sdk-call.js';
import { buildSdkRequest, parseSdkXml } from '../src/codec/xml.js';

/** A hand-driven host: sends raw packets, collects decoded ones (for device-rule tests). */
export class RawHost {
  readonly packets: SdkPacket[] = [];
  closed = false;
  private readonly decoder = new SdkPacketDecoder();

  private constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      try {
        for (const p of this.decoder.push(c)) this.packets.push(copy(p));
      } catch {
        socket.destroy();
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
    });
  }

  static connect(port: number): Promise<RawHost> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new RawHost(s)));
      s.once('error', reject);
    });
  }

  send(p: SdkPacket | Uint8Array): void {
    this.socket.write(p instanceof Uint8Array ? p : encodePacket(p));
  }

  /** Waits (bounded, real time) for the next packet matching `pred`, removing it and everything before it. */
  async next(pred: (p: SdkPacket) => boolean = () => true, timeoutMs = 10_000): Promise<SdkPacket> {
    let found: SdkPacket | undefined;
    await until(() => {
      const i = this.packets.findIndex(pred);
      if (i >= 0) found = this.packets.splice(0, i + 1)[i]!;
      else if (this.closed) throw new Error('connection closed while waiting');
      return found !== undefined;
    }, timeoutMs);
    return found!;
  }

  async waitClosed(timeoutMs = 10_000): Promise<void> {
    await until(() => this.closed, timeoutMs);
  }

  /** Transport negotiation and GetIFVersion; returns the guid. */
  async handshake(version = 0x1000007): Promise<string> {
    this.send({ type: 'kSDKServiceAsk', version });
    await this.next((p) => p.type === 'kSDKServiceAnswer');
    const env = await this.call(
      buildSdkRequest({ guid: '##GUID', method: 'GetIFVersion', body: '<version value="1000000"/>' }),
    );
    return env.guid;
  }

  /** Sends a whole XML document and reassembles the answer. */
  async call(xml: string): Promise<ReturnType<typeof parseSdkXml>> {
    this.send(encodeSdkCall(new TextEncoder().encode(xml)));
    const asm = new SdkCallAssembler();
    for (;;) {
      const p = await this.next((q) => q.type === 'kSDKCmdAnswer' || q.type === 'kErrorAnswer');
      if (p.type === 'kErrorAnswer') throw new Error(`error answer ${p.code}`);
      if (p.type !== 'kSDKCmdAnswer') continue;
      const whole = asm.push(p);
      if (whole) return parseSdkXml(whole);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function copy(p: SdkPacket): SdkPacket {
  return 'data' in p ? { ...p, data: p.data.slice() } : p;
}

/**
 * Polls `cond` between event-loop turns, bounded in real time (performance.now and setImmediate, so it also works
 * while vitest fakes setTimeout and Date).
 */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let turns = 0;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error('condition not reached in time');
    // Mostly immediate turns (I/O callbacks run between them), with a short real pause now and then.
    if (++turns % 50 === 0) await new Promise((r) => realSetTimeout(r, 5));
    else await new Promise((r) => setImmediate(r));
  }
}

const realSetTimeout = globalThis.setTimeout;
