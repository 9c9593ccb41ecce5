import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACK_CODE_FOR, decodeCommand, encodeAck, type GvcpAck, type GvcpCommand } from '@cam/gvcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCam } from '../../../test-support/cli.js';

/** A scripted GVCP device on 127.0.0.1 (random port) with a word memory, for driving the CLI. */
class ScriptedDevice {
  readonly memory = new Map<number, number>();
  readonly received: GvcpCommand[] = [];
  constructor(readonly socket: Socket) {
    socket.on('message', (msg, rinfo) => {
      let cmd: GvcpCommand;
      try {
        cmd = decodeCommand(msg);
      } catch {
        return;
      }
      this.received.push(cmd);
      const ack = this.answer(cmd);
      if (ack) socket.send(encodeAck(ack), rinfo.port, rinfo.address);
    });
  }
  get port(): number {
    return this.socket.address().port;
  }
  store(address: number, bytes: Uint8Array): void {
    const padded = new Uint8Array(Math.ceil(bytes.byteLength / 4) * 4);
    padded.set(bytes);
    const v = new DataView(padded.buffer);
    for (let i = 0; i < padded.byteLength; i += 4) this.memory.set(address + i, v.getUint32(i));
  }
  private word(a: number): number {
    return this.memory.get(a) ?? 0;
  }
  private answer(cmd: GvcpCommand): GvcpAck | undefined {
    const base = { ackId: cmd.reqId, status: 0 };
    switch (cmd.type) {
      case 'discovery':
        return {
          type: 'discovery',
          ...base,
          device: {
            specVersionMajor: 2,
            specVersionMinor: 1,
            deviceMode: 0x80000001,
            mac: '02:11:22:33:44:55',
            ipConfigSupported: 7,
            ipConfigCurrent: 5,
            ip: '127.0.0.1',
            subnetMask: '255.0.0.0',
            defaultGateway: '0.0.0.0',
            manufacturerName: 'CliCo',
            modelName: 'Scripted',
            deviceVersion: '3.1',
            manufacturerInfo: 'test',
            serialNumber: 'CLI0001',
            userDefinedName: 'left',
          },
        };
      case 'readreg':
        if (cmd.addresses.some((a) => a === 0xfffffff0)) {
          return { type: 'error', ackCode: ACK_CODE_FOR.readreg, ...base, status: 0x8003, payload: new Uint8Array(0) };
        }
        return { type: 'readreg', ...base, values: cmd.addresses.map((a) => this.word(a)) };
      case 'writereg':
        for (const w of cmd.writes) this.memory.set(w.address, w.value);
        return { type: 'writereg', ...base, index: cmd.writes.length };
      case 'readmem': {
        const data = new Uint8Array(cmd.count);
        const v = new DataView(data.buffer);
        for (let i = 0; i < cmd.count; i += 4) v.setUint32(i, this.word(cmd.address + i));
        return { type: 'readmem', ...base, address: cmd.address, data };
      }
      case 'forceip':
        return { type: 'forceip', ...base };
      default:
        return { type: 'error', ackCode: ACK_CODE_FOR[cmd.type], ...base, status: 0x8001, payload: new Uint8Array(0) };
    }
  }
}

let device: ScriptedDevice;
let dir: string;
const xml = '<?xml version="1.0"?>\n<RegisterDescription ModelName="Scripted" VendorName="CliCo"/>\n';

beforeAll(async () => {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  device = new ScriptedDevice(socket);
  const enc = new TextEncoder();
  const info = new Uint8Array(248);
  info.set(enc.encode('CliCo'), 0x48);
  info.set(enc.encode('Scripted'), 0x68);
  info.set(enc.encode('CLI0001'), 0xd8);
  info.set([127, 0, 0, 1], 0x24);
  device.store(0, info);
  device.store(0x200, enc.encode(`Local:s.xml;20000;${enc.encode(xml).byteLength.toString(16)}`));
  device.store(0x20000, enc.encode(xml));
  device.memory.set(0x938, 3000);
  device.memory.set(0x934, 0x80000061); // concatenation, PENDING_ACK, ACTION, user-defined name
  dir = await mkdtemp(join(tmpdir(), 'cam-gige-'));
});

afterAll(async () => {
  await new Promise<void>((resolve) => device.socket.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

const at = () => ['--port', String(device.port)];

describe('cam gige', () => {
  it('discover --address finds the device (JSON and text)', async () => {
    const r = await runCam(['gige', 'discover', '--address', '127.0.0.1', ...at(), '--timeout', '1000', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { ok: boolean; devices: Record<string, unknown>[] };
    expect(out.ok).toBe(true);
    expect(out.devices[0]).toMatchObject({
      manufacturerName: 'CliCo',
      serialNumber: 'CLI0001',
      mac: '02:11:22:33:44:55',
      interfaceAddress: '127.0.0.1',
    });
    const t = await runCam(['gige', 'discover', '--address', '127.0.0.1', ...at()]);
    expect(t.stdout).toMatch(
      /127\.0\.0\.1 +02:11:22:33:44:55 +CliCo Scripted +serial CLI0001 "left" +via 127\.0\.0\.1/,
    );
  });

  it('info shows identity and bootstrap settings', async () => {
    const r = await runCam(['gige', 'info', '127.0.0.1', ...at(), '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { device: Record<string, unknown> };
    expect(out.device).toMatchObject({
      manufacturerName: 'CliCo',
      modelName: 'Scripted',
      heartbeatTimeoutMs: 3000,
      genicamUrl: expect.stringMatching(/^Local:s\.xml;20000;/),
      gvcpCapabilities: ['CONCATENATION', 'PENDING_ACK', 'ACTION', 'USER_DEFINED_NAME'],
    });
    const text = await runCam(['gige', 'info', '127.0.0.1', ...at()]);
    expect(text.stdout).toMatch(/GVCP capability +0x80000061 CONCATENATION PENDING_ACK ACTION USER_DEFINED_NAME\n/);
  });

  it('write takes control, writes hex and decimal, and read reads back', async () => {
    const w = await runCam(['gige', 'write', '127.0.0.1', '0x1000=0x2A', '4100=7', ...at(), '--json']);
    expect(w.code, w.stderr).toBe(0);
    expect(device.memory.get(0x1000)).toBe(42);
    expect(device.memory.get(4100)).toBe(7);
    const ccpWrites = device.received
      .filter((c) => c.type === 'writereg' && c.writes[0]?.address === 0xa00)
      .map((c) => (c.type === 'writereg' ? c.writes[0]?.value : -1));
    expect(ccpWrites).toEqual([2, 0]); // taken, then released on close
    const r = await runCam(['gige', 'read', '127.0.0.1', '0x1000', '4100', ...at()]);
    expect(r.stdout).toBe('0x00001000 = 0x0000002a (42)\n0x00001004 = 0x00000007 (7)\n');
  });

  it('readmem dumps memory or writes it to a file; genicam downloads the XML', async () => {
    const r = await runCam(['gige', 'readmem', '127.0.0.1', '0x48', '16', ...at()]);
    expect(r.stdout).toMatch(/^0x00000048 {2}43 6c 69 43 6f 00 .* {2}CliCo\.{11}\n$/);
    const f = join(dir, 'mem.bin');
    await runCam(['gige', 'readmem', '127.0.0.1', '0xd8', '7', '-o', f, ...at()]);
    expect(new TextDecoder().decode(await readFile(f))).toBe('CLI0001');
    const x = join(dir, 'cam.xml');
    const g = await runCam(['gige', 'genicam', '127.0.0.1', '-o', x, ...at(), '--json']);
    expect(JSON.parse(g.stdout)).toMatchObject({ ok: true, zipped: false, file: x });
    expect(await readFile(x, 'utf8')).toBe(xml);
    const s = await runCam(['gige', 'genicam', '127.0.0.1', ...at()]);
    expect(s.stdout).toBe(xml);
  });

  it('forceip sends FORCEIP and reports the ack', async () => {
    const r = await runCam([
      'gige',
      'forceip',
      '--mac',
      '02:11:22:33:44:55',
      '--ip',
      '10.9.8.7',
      '--mask',
      '255.255.255.0',
      '--address',
      '127.0.0.1',
      ...at(),
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, acknowledged: true, status: 0, statusName: 'SUCCESS' });
    expect(device.received.at(-1)).toMatchObject({
      type: 'forceip',
      ip: '10.9.8.7',
      mask: '255.255.255.0',
      gateway: '0.0.0.0',
    });
  });

  it('reports device errors, timeouts and usage errors with exit codes', async () => {
    const bad = await runCam(['gige', 'read', '127.0.0.1', '0xfffffff0', ...at(), '--json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      ok: false,
      error: { name: 'GvcpStatusError', message: expect.stringMatching(/INVALID_ADDRESS/) },
    });
    // a word is a feature name now; what starts with a digit must be a number
    const usage = await runCam(['gige', 'read', '127.0.0.1', '0xnonsense', ...at()]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/neither decimal nor hex/);
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const t = await runCam([
        'gige',
        'read',
        '127.0.0.1',
        '0',
        '--port',
        String(silent.address().port),
        '--timeout',
        '40',
        '--json',
      ]);
      expect(t.code).toBe(1);
      expect(JSON.parse(t.stdout)).toMatchObject({ ok: false, error: { name: 'TimeoutError' } });
    } finally {
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
