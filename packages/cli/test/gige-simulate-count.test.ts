import { createSocket } from 'node:dgram';
import { decodeAck, encodeCommand } from '@cam/gvcp';
import { describe, expect, it } from 'vitest';
import { runCam, startCam } from '../../../test-support/cli.js';

async function discoveryAck(address: string, port: number): Promise<ReturnType<typeof decodeAck>> {
  const s = createSocket('udp4');
  try {
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const reply = new Promise<{ msg: Buffer; from: string }>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no DISCOVERY_ACK')), 3000);
      s.once('message', (msg, rinfo) => {
        clearTimeout(t);
        resolve({ msg, from: rinfo.address });
      });
    });
    s.send(encodeCommand({ type: 'discovery', reqId: 1, ackRequired: true, allowBroadcastAck: false }), port, address);
    const { msg, from } = await reply;
    expect(from).toBe(address);
    return decodeAck(new Uint8Array(msg));
  } finally {
    s.close();
  }
}

/** Waits (bounded) until the process printed `n` lines. */
async function lines(output: () => { stdout: string }, n: number): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const l = output().stdout.trim().split('\n');
    if (l.length >= n) return l;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`fewer than ${n} lines: ${output().stdout}`);
}

describe('cam gige simulate --count', () => {
  it('runs N cameras on consecutive loopback addresses, each with its own serial number and MAC', async () => {
    const run = await startCam(['gige', 'simulate', '--address', '127.0.0.1', '--port', '0', '--count', '3', '--json']);
    try {
      const infos = (await lines(run.output, 3)).map(
        (l) => JSON.parse(l) as { address: string; port: number; serial: string; mac: string },
      );
      expect(infos.map((i) => i.address)).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
      expect(new Set(infos.map((i) => i.serial)).size).toBe(3);
      expect(new Set(infos.map((i) => i.mac)).size).toBe(3);
      for (const info of infos) {
        // the derived serial names the camera's address and port
        const hexPort = info.port.toString(16).toUpperCase().padStart(4, '0');
        expect(info.serial).toMatch(new RegExp(`^CAM7F0000\\d{2}${hexPort}$`));
        const ack = await discoveryAck(info.address, info.port);
        expect(ack.type === 'discovery' && ack.device).toMatchObject({ serialNumber: info.serial, mac: info.mac });
      }
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await run.exit).toBe(130); // the exit-code contract: SIGINT after a clean stop
  });

  it('numbers a given serial number per camera and refuses one MAC for several cameras', async () => {
    const run = await startCam([
      'gige',
      'simulate',
      '--address',
      '127.0.0.1',
      '--port',
      '0',
      '--count',
      '2',
      '--serial',
      'LINE',
      '--json',
    ]);
    try {
      const serials = (await lines(run.output, 2)).map((l) => (JSON.parse(l) as { serial: string }).serial);
      expect(serials).toEqual(['LINE-1', 'LINE-2']);
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await run.exit).toBe(130); // the exit-code contract: SIGINT after a clean stop
    const bad = await runCam(['gige', 'simulate', '--port', '0', '--count', '2', '--mac', '02:00:00:00:00:01']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--mac names one camera/);
    const tooMany = await runCam(['gige', 'simulate', '--port', '0', '--count', '65']);
    expect(tooMany.stderr).toMatch(/count 65 is not in 1\.\.64/);
  });
});
