import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCam } from '../../../test-support/cli.js';

// made by fixtures/make-gvsp-captures.sh: cam gvsp send -> cam gvsp receive on lo, two 64x48 Mono8 frames
const pcapng = fileURLToPath(new URL('./fixtures/gvsp-loopback.pcapng', import.meta.url));
const pcap = fileURLToPath(new URL('./fixtures/gvsp-loopback.pcap', import.meta.url));

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
  it('decodes the GVSP packets of a pcapng capture (JSON), and the pcap copy alike', async () => {
    const r = await runCam(['gvsp', 'decode', pcapng, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      ok: boolean;
      malformed: number;
      gvspPackets: number;
      packets: {
        kind: string;
        from: string;
        header: { blockId: number | string };
        leader?: { sizeX: number; sizeY: number };
      }[];
    };
    expect(doc.ok).toBe(true);
    expect(doc.malformed).toBe(0);
    expect(doc.gvspPackets).toBe(16);
    // two frames of 64x48 Mono8 in 576-byte packets: leader, 6 payloads, trailer each
    const kinds = doc.packets.map((p) => p.kind);
    expect(kinds.filter((k) => k === 'leader')).toHaveLength(2);
    expect(kinds.filter((k) => k === 'trailer')).toHaveLength(2);
    expect(kinds.filter((k) => k === 'payload')).toHaveLength(12);
    expect(doc.packets[0]).toMatchObject({ kind: 'leader', leader: { sizeX: 64, sizeY: 48 } });
    expect(doc.packets[0]!.from).toMatch(/^127\.0\.0\.1:\d+$/);
    const p = await runCam(['gvsp', 'decode', pcap, '--json']);
    expect(p.code, p.stderr).toBe(0);
    // the pcap copy holds the same packets; editcap rounded the nanosecond time stamps to microseconds
    const fromPcap = (JSON.parse(p.stdout) as typeof doc).packets as unknown as { timeUs: number }[];
    const fromPcapng = doc.packets as unknown as { timeUs: number }[];
    expect(fromPcap.map((x) => ({ ...x, timeUs: 0 }))).toEqual(fromPcapng.map((x) => ({ ...x, timeUs: 0 })));
    for (const [i, x] of fromPcap.entries()) expect(Math.abs(x.timeUs - fromPcapng[i]!.timeUs)).toBeLessThanOrEqual(1);
  });

  it('decodes real Aravis traffic (the pcapng tools/capture-fixtures made) with nothing malformed', async () => {
    const aravis = fileURLToPath(
      new URL('../../gvsp/test/fixtures/captures/aravis-fake-gv-64x48.pcapng', import.meta.url),
    );
    const json = JSON.parse(
      readFileSync(
        fileURLToPath(new URL('../../gvsp/test/fixtures/captures/aravis-fake-gv-64x48.json', import.meta.url)),
        'utf8',
      ),
    ) as { packets: { proto: string }[] };
    const r = await runCam(['gvsp', 'decode', aravis, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as {
      malformed: number;
      gvspPackets: number;
      packets: { kind: string; leader?: { sizeX: number; sizeY: number } }[];
    };
    expect(doc.malformed).toBe(0);
    // the same datagrams the capture's JSON lists as GVSP (the GVCP ones on port 3956 are skipped)
    expect(doc.gvspPackets).toBe(json.packets.filter((p) => p.proto === 'gvsp').length);
    expect(doc.packets[0]).toMatchObject({ kind: 'leader', leader: { sizeX: 64, sizeY: 48 } });
  });

  it('decodes a capture for people as a table', async () => {
    const r = await runCam(['gvsp', 'decode', pcap]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^frame +time ms +from -> to +block +packet +kind +details$/);
    expect(lines[1]).toMatch(/^1 +0\.000 +127\.0\.0\.1:\d+ -> 127\.0\.0\.1:47711 +1 +0 +LEADER +IMAGE Mono8 64x48/);
    expect(r.stdout).toContain('16 GVSP packets, 0 malformed');
  });

  it('a damaged capture is a typed error with exit code 1, and a missing one gets a hint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cam-pcap-'));
    try {
      const cut = join(dir, 'cut.pcapng');
      writeFileSync(cut, readFileSync(pcapng).subarray(0, 700));
      const r = await runCam(['gvsp', 'decode', cut, '--json']);
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { name: 'CaptureFormatError' } });
      const missing = await runCam(['gvsp', 'decode', join(dir, 'nope.pcap')]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/^hint: no such file or directory/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
