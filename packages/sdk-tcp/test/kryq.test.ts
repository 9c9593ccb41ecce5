import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { findElement, readXmlFragment } from '@cam/net-utils/wire';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSdkXml } from '../src/codec/xml.js';
import {
  kryqDeleteFiles,
  kryqFileContent,
  kryqFileEnd,
  kryqFileStart,
  kryqGet,
  kryqGetIFVersion,
  kryqHeartbeatAsk,
  kryqSdkPacket,
  kryqServiceAsk,
  kryqSetBrightness,
} from './fixtures/kryq-flows.js';
import { type Rig, startRig, until } from './helpers.js';

/**
 * Replays the flows of KryQ/node-huidu-sdk (connect, device info and name, files, upload, re-upload, brightness,
 * delete) against the simulated controller with the bytes that library sends (test/fixtures/kryq-flows.ts), read
 * the way it reads: one packet per socket chunk, anything else dropped as malformed.
 */

class KryqHost {
  readonly packets: Buffer[] = [];
  malformed = 0;
  private buffer: Buffer | null = null;
  private need = 0;
  private have = 0;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => {});
  }

  static open(port: number): Promise<KryqHost> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new KryqHost(s)));
      s.once('error', reject);
    });
  }

  /** Its `responseListener`, minus the logging. */
  private onData(data: Buffer): void {
    if (this.buffer && this.need > this.have) {
      data.copy(this.buffer, this.have);
      this.have += data.length;
      if (this.need > this.have) return;
      data = this.buffer;
      this.buffer = null;
      this.need = 0;
      this.have = 0;
    }
    const len = data[0]! | (data[1]! << 8);
    if (data.length !== len) {
      if (len > data.length) {
        this.buffer = Buffer.alloc(len);
        this.need = len;
        this.have = data.length;
        data.copy(this.buffer, 0);
        return;
      }
      this.malformed++;
      return;
    }
    this.packets.push(data);
  }

  send(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  async next(cmd: number): Promise<Buffer> {
    let found: Buffer | undefined;
    await until(() => {
      const i = this.packets.findIndex((p) => p.readUInt16LE(2) === cmd);
      if (i >= 0) found = this.packets.splice(i, 1)[0];
      return found !== undefined;
    });
    return found!;
  }

  /** `sdkCmdGet`: one call, the `<out>` of the answer. */
  async call(xml: string): Promise<{ result: string; body: string; guid: string }> {
    this.send(kryqSdkPacket(xml));
    const p = await this.next(0x2004);
    const env = parseSdkXml(p.subarray(12));
    if (env.kind !== 'out') throw new Error('not an answer');
    return env;
  }
}

let rig: Rig | undefined;
const hosts: KryqHost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) h.socket.destroy();
  await rig?.close();
  rig = undefined;
});

async function connected(): Promise<{ host: KryqHost; guid: string }> {
  const host = await KryqHost.open(rig!.device.port);
  hosts.push(host);
  host.send(kryqServiceAsk());
  const answer = await host.next(0x2002);
  const version = answer.readUInt32LE(4);
  const env = await host.call(kryqGetIFVersion(version));
  expect(env.result).toBe('kSuccess');
  return { host, guid: env.guid };
}

describe('KryQ/node-huidu-sdk flows against the simulated controller', () => {
  it('our host answers a device that asks in a loop at most once a second', async () => {
    const { createServer } = await import('node:net');
    const { SdkClient } = await import('../src/transport/client.js');
    const { encodePacket, encodeSdkCall } = await import('../src/codec/index.js');
    const { buildSdkResponse } = await import('../src/codec/xml.js');
    let answers = 0;
    const server = createServer((s) => {
      s.on('error', () => {});
      s.on('data', (d: Buffer) => {
        for (let i = 0; i + 4 <= d.length; i += d.readUInt16LE(i) || 4) {
          const cmd = d.readUInt16LE(i + 2);
          if (cmd === 0x2001) s.write(encodePacket({ type: 'kSDKServiceAnswer', version: 0x1000007 }));
          if (cmd === 0x2003) {
            const xml = buildSdkResponse({
              guid: 'ab'.repeat(16),
              method: 'GetIFVersion',
              result: 'kSuccess',
              body: '',
            });
            s.write(encodeSdkCall(new TextEncoder().encode(xml), 'kSDKCmdAnswer'));
            for (let k = 0; k < 200; k++) s.write(encodePacket({ type: 'kTcpHeartbeatAsk' }));
          }
          if (cmd === 0x0060) answers++;
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const c = await SdkClient.connect('127.0.0.1', { port: (server.address() as { port: number }).port });
    try {
      await until(() => c.stats.heartbeatAsksIgnored >= 150);
      await new Promise((r) => setTimeout(r, 100));
      expect(answers).toBeLessThanOrEqual(2);
    } finally {
      c.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('connect: version, GetIFVersion (guid), GetDeviceName reaches its connected state', async () => {
    rig = await startRig();
    const { host, guid } = await connected();
    expect(guid).toMatch(/^[0-9a-f]{32}$/);
    const name = await host.call(kryqGet(guid, 'GetDeviceName'));
    expect(name.result).toBe('kSuccess');
    expect(findElement(readXmlFragment(name.body), 'name')?.attributes.value).toBe('cam simulated controller');
    const info = await host.call(kryqGet(guid, 'GetDeviceInfo'));
    expect(info.body).toContain('<screen width="128" height="64"');
    expect(host.malformed).toBe(0);
  });

  it('files: upload, GetFiles (sdk/out/files/file), re-upload, delete', async () => {
    rig = await startRig();
    const { host, guid } = await connected();
    const file = Buffer.alloc(20_000, 7);
    const md5 = createHash('md5').update(file).digest('hex');
    host.send(kryqFileStart('pic.png', file.length, 0, md5));
    const start = await host.next(0x8002);
    expect([start.readUInt16LE(4), Number(start.readBigUInt64LE(6))]).toEqual([0, 0]);
    for (const p of kryqFileContent(file)) host.send(p);
    host.send(kryqFileEnd());
    expect((await host.next(0x8006)).readUInt16LE(4)).toBe(0);

    const files = await host.call(kryqGet(guid, 'GetFiles'));
    const f = findElement(readXmlFragment(files.body), 'files')!.children[0]!;
    expect(f.name).toBe('file');
    expect(f.attributes).toEqual({ name: 'pic.png', md5, size: '20000', existSize: '20000', type: 'image' });

    // Re-upload: the device reports the whole file present (KryQ then stops with "File already exists").
    host.send(kryqFileStart('pic.png', file.length, 0, md5));
    const again = await host.next(0x8002);
    expect([again.readUInt16LE(4), Number(again.readBigUInt64LE(6))]).toEqual([0, 20_000]);
    host.send(kryqFileEnd());
    await host.next(0x8006);

    const brightness = await host.call(kryqSetBrightness(guid, 60));
    expect(brightness.result).toBe('kSuccess');
    const lum = await host.call(kryqGet(guid, 'GetLuminancePloy'));
    expect(findElement(readXmlFragment(lum.body), 'default')?.attributes.value).toBe('60');

    const del = await host.call(kryqDeleteFiles(guid, ['pic.png']));
    expect(findElement(readXmlFragment(del.body), 'file')?.attributes.result).toBe('kSuccess');
    expect(host.malformed).toBe(0);
  });

  it('the vendor method list is answered (no kInvalidMethod)', async () => {
    rig = await startRig();
    const { host, guid } = await connected();
    for (const m of [
      'GetDeviceInfo',
      'GetDeviceName',
      'GetNetworkInfo',
      'GetEth0Info',
      'GetTimeInfo',
      'GetLuminancePloy',
      'GetSwitchTime',
      'GetAllFontInfo',
      'ReloadAllFonts',
      'GetFiles',
      'GetProgram',
      'GetCurrentPlayProgramGUID',
      'OpenScreen',
      'CloseScreen',
      'Reboot',
      'DeleteProgram',
    ]) {
      expect([m, (await host.call(kryqGet(guid, m))).result]).toEqual([m, 'kSuccess']);
    }
  });

  it('no heartbeat loop: an idle KryQ host (which answers every Answer with an Ask) sees nothing', async () => {
    rig = await startRig();
    const { host } = await connected();
    let asks = 0;
    host.socket.on('data', () => {
      // KryQ's reaction to a heartbeat answer: an ask.
      for (const p of host.packets.splice(0)) {
        if (p.readUInt16LE(2) === 0x0060) {
          asks++;
          host.send(kryqHeartbeatAsk());
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1500));
    expect(asks).toBe(0);
    expect(host.packets).toEqual([]);
    expect(rig.device.stats.heartbeatAsks).toBe(0);
  });
});
