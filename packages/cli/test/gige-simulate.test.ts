import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeAck, encodeCommand } from '@cam/gvcp';
import { describe, expect, it } from 'vitest';
import { runCam, startCam } from '../../../test-support/cli.js';

async function discoveryAck(port: number): Promise<ReturnType<typeof decodeAck>> {
  const s = createSocket('udp4');
  try {
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const reply = new Promise<Buffer>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no DISCOVERY_ACK')), 3000);
      s.once('message', (m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
    s.send(
      encodeCommand({ type: 'discovery', reqId: 1, ackRequired: true, allowBroadcastAck: false }),
      port,
      '127.0.0.1',
    );
    return decodeAck(new Uint8Array(await reply));
  } finally {
    s.close();
  }
}

describe('cam gige simulate', () => {
  it('--json prints one JSON line with address, port, serial and MAC, answers DISCOVERY, stops on SIGINT', async () => {
    const run = await startCam([
      'gige',
      'simulate',
      '--address',
      '127.0.0.1',
      '--port',
      '0',
      '--serial',
      'CLI7',
      '--json',
    ]);
    try {
      const info = JSON.parse(run.firstLine) as {
        ok: boolean;
        address: string;
        port: number;
        serial: string;
        mac: string;
      };
      expect(info).toMatchObject({ ok: true, address: '127.0.0.1', serial: 'CLI7' });
      expect(info.port).toBeGreaterThan(0);
      expect(info.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
      const ack = await discoveryAck(info.port);
      expect(ack.type === 'discovery' && ack.device).toMatchObject({ serialNumber: 'CLI7', mac: info.mac });
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await run.exit).toBe(130); // the exit-code contract: SIGINT after a clean stop
    // Exactly one JSON document on stdout.
    expect(run.output().stdout.trim().split('\n')).toHaveLength(1);
  });

  it('prints where it listens for a person and stops on SIGTERM', async () => {
    const run = await startCam([
      'gige',
      'simulate',
      '--address',
      '127.0.0.1',
      '--port',
      '0',
      '--mac',
      '02:12:34:56:78:9a',
    ]);
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    expect(run.firstLine).toMatch(/listening on 127\.0\.0\.1:\d+ \(serial \S+, MAC 02:12:34:56:78:9a\)/);
    expect(run.output().stdout).toMatch(/stopped \(SIGTERM\)/);
  });

  it('rejects bad options with a usage error', async () => {
    const r = await runCam(['gige', 'simulate', '--address', 'not-an-ip', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { name: 'UsageError' } });
    const m = await runCam(['gige', 'simulate', '--mac', 'xx']);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/MAC/);
    const hook = await runCam(['gige', 'simulate', '--address', '127.0.0.1', '--port', '0', '--forceip-hook', 'dhcp']);
    expect(hook.code).toBe(2);
    expect(hook.stderr).toMatch(/FORCEIP hook "dhcp" is not one of: ip/);
    const mtu = await runCam(['gige', 'simulate', '--address', '127.0.0.1', '--port', '0', '--path-mtu', '100']);
    expect(mtu.code).toBe(2);
    expect(mtu.stderr).toMatch(/path MTU 100 is not in 576\.\.65536 or "egress"/);
  });

  it('streams when acquisition starts: cam gige grab gets complete frames of the configured size as PNG', async () => {
    const run = await startCam([
      'gige',
      'simulate',
      '--address',
      '127.0.0.1',
      '--port',
      '0',
      '--json',
      '--width',
      '96',
      '--height',
      '64',
      '--pixel-format',
      'Mono8',
      '--fps',
      '40',
      '--packet-size',
      '1000',
      '--loss-ratio',
      '0.05',
    ]);
    const out = await mkdtemp(join(tmpdir(), 'cam-gige-grab-'));
    try {
      const info = JSON.parse(run.firstLine) as { port: number; width: number; height: number; pixelFormat: string };
      expect(info).toMatchObject({ width: 96, height: 64, pixelFormat: 'Mono8' });
      const r = await runCam(
        ['gige', 'grab', '127.0.0.1', '--port', String(info.port), '--frames', '3', '--out', out, '--json'],
        { timeoutMs: 30_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as {
        ok: boolean;
        packetSize: number;
        frames: { file: string; status: string; width: number; height: number; pixelFormat: string }[];
        stats: { completedFrames: number; failures: number };
      };
      expect(doc.ok).toBe(true);
      // the link carries at most 1000-byte packets: negotiation settles at or below that
      expect(doc.packetSize).toBeLessThanOrEqual(1000);
      expect(doc.frames).toHaveLength(3);
      for (const f of doc.frames) {
        expect(f).toMatchObject({ status: 'complete', width: 96, height: 64, pixelFormat: 'Mono8' });
        expect(f.file.startsWith(out)).toBe(true);
        const png = await readFile(f.file);
        expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        // IHDR: width, height, bit depth 8, color type 0 (gray)
        expect([png.readUInt32BE(16), png.readUInt32BE(20), png[24], png[25]]).toEqual([96, 64, 8, 0]);
      }
      expect(doc.stats.completedFrames).toBeGreaterThanOrEqual(3);
      expect(doc.stats.failures).toBe(0);
    } finally {
      run.child.kill('SIGINT');
      await rm(out, { recursive: true, force: true });
    }
    expect(await run.exit).toBe(130); // the exit-code contract: SIGINT after a clean stop
  }, 40_000);
});
