import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCam } from '../../../test-support/cli.js';

const capture = fileURLToPath(new URL('../../gvsp/test/fixtures/captures/aravis-fake-gv-64x48.json', import.meta.url));

const gvspPacketsInCapture = (
  JSON.parse(readFileSync(capture, 'utf8')) as { packets: { proto: string }[] }
).packets.filter((p) => p.proto === 'gvsp').length;

async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * Waits (bounded) until a UDP socket is bound to `port` (on any local address), looking at /proc/net/udp (only looking: a probe
 * bind could take the port from the process starting up). Without /proc, waits a fixed while instead.
 */
async function udpBound(port: number, timeoutMs = 20_000): Promise<void> {
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let table: string;
    try {
      table = readFileSync('/proc/net/udp', 'utf8');
    } catch {
      await new Promise((r) => setTimeout(r, 1500));
      return;
    }
    if (table.split('\n').some((line) => line.trim().split(/\s+/)[1]?.endsWith(suffix))) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing bound UDP port ${port} within ${timeoutMs} ms`);
}

describe('cam gvsp', () => {
  it('decodes the GVSP packets of a capture (JSON)', async () => {
    const r = await runCam(['gvsp', 'decode', capture, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      ok: boolean;
      malformed: number;
      packets: { kind: string; leader?: { sizeX: number } }[];
    };
    expect(doc.ok).toBe(true);
    expect(doc.malformed).toBe(0);
    // At least five 64x48 Mono8 frames at packet size 1500: leader, three payload packets, trailer each.
    const frame = ['leader', 'payload', 'payload', 'payload', 'trailer'];
    const frames = doc.packets.length / frame.length;
    expect(frames).toBeGreaterThanOrEqual(5);
    expect(doc.packets.map((p) => p.kind)).toEqual(Array.from({ length: frames }, () => frame).flat());
    expect(doc.packets.length).toBe(gvspPacketsInCapture);
    expect(doc.packets[0]!.leader!.sizeX).toBe(64);
  });

  it('decodes a capture for people', async () => {
    const r = await runCam(['gvsp', 'decode', capture]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('LEADER IMAGE Mono8 64x48');
    expect(r.stdout).toContain(`${gvspPacketsInCapture} GVSP packets, 0 malformed`);
  });

  it('sends a lossy test stream that `cam gvsp receive` completes through resends', async () => {
    const port = await freePort();
    const resendPort = await freePort();
    const receiving = runCam(
      [
        'gvsp',
        'receive',
        '--port',
        String(port),
        '--packet-size',
        '1500',
        '--payload-size',
        '76800',
        '--device',
        `127.0.0.1:${resendPort}`,
        '--frames',
        '10',
        '--seconds',
        '15',
        '--json',
      ],
      { timeoutMs: 30_000 },
    );
    await udpBound(port); // let the receiver bind (tsx start-up takes a while on a loaded machine)
    const s = await runCam(
      [
        'gvsp',
        'send',
        `127.0.0.1:${port}`,
        '--width',
        '320',
        '--height',
        '240',
        '--frames',
        '10',
        '--fps',
        '20',
        '--resend-port',
        String(resendPort),
        '--loss-ratio',
        '0.02',
        '--json',
      ],
      { timeoutMs: 30_000 },
    );
    expect(s.code, s.stderr).toBe(0);
    const r = await receiving;
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      frames: number;
      statuses: Record<string, number>;
      stats: { resentPackets: number };
    };
    expect(doc.frames).toBe(10);
    expect(doc.statuses).toEqual({ complete: 10 });
    expect(doc.stats.resentPackets).toBeGreaterThan(0);
  }, 60_000);

  it('rejects a bad destination with a usage error', async () => {
    const r = await runCam(['gvsp', 'send', 'nowhere', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { name: 'UsageError' } });
  });
});
