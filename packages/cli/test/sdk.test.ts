import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { md5Bytes, SdkDevice } from '@cam/sdk-tcp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCam } from '../../../test-support/cli.js';

const camSource = fileURLToPath(new URL('../src/cam.ts', import.meta.url));

let device: SdkDevice;
let dir: string;
let work: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cam-sdk-cli-dev-'));
  work = await mkdtemp(join(tmpdir(), 'cam-sdk-cli-'));
  device = await SdkDevice.start({
    address: '127.0.0.1',
    port: 0,
    dir,
    deviceId: 'CLI-SIM',
    handlers: { Echo: ({ body }) => body },
  });
});
afterAll(async () => {
  await device.close();
  await rm(dir, { recursive: true, force: true });
  await rm(work, { recursive: true, force: true });
});

describe('cam sdk', { timeout: 60_000 }, () => {
  it('call prints the answer as JSON and as text', async () => {
    const r = await runCam(['sdk', 'call', '127.0.0.1', 'GetDeviceInfo', '--port', String(device.port), '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; result: string; body: string; guid: string };
    expect(doc).toMatchObject({ ok: true, result: 'kSuccess' });
    expect(doc.body).toContain('CLI-SIM');
    expect(doc.guid).toMatch(/^[0-9a-f]{32}$/);
    const xml = join(work, 'body.xml');
    await writeFile(xml, '<text value="hi"/>');
    const t = await runCam(['sdk', 'call', '127.0.0.1', 'Echo', '--xml', xml, '--port', String(device.port)]);
    expect(t.code).toBe(0);
    expect(t.stdout).toContain('Echo: kSuccess\n<text value="hi"/>');
    const whole = join(work, 'whole.xml');
    await writeFile(
      whole,
      '<?xml version="1.0" encoding="utf-8"?><sdk guid="##GUID"><in method="Echo"><w/></in></sdk>',
    );
    const w = await runCam([
      'sdk',
      'call',
      '127.0.0.1',
      'Echo',
      '--xml',
      whole,
      '--port',
      String(device.port),
      '--json',
    ]);
    expect(JSON.parse(w.stdout)).toMatchObject({ ok: true, result: 'kSuccess', body: '<w/>' });
  });

  it('call reports an error result with exit code 1', async () => {
    const r = await runCam(['sdk', 'call', '127.0.0.1', 'Nope', '--port', String(device.port), '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, result: 'kInvalidMethod' });
  });

  it('upload shows progress on stderr and stores the file; read gets it back', async () => {
    const data = randomBytes(700_000);
    const file = join(work, 'clip.mp4');
    await writeFile(file, data);
    const r = await runCam([
      'sdk',
      'upload',
      '127.0.0.1',
      file,
      '--type',
      'video',
      '--port',
      String(device.port),
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: true,
      name: 'clip.mp4',
      size: data.length,
      md5: md5Bytes(data),
      type: 'video',
    });
    expect(r.stderr).not.toMatch(/upload/); // --json: no progress at all
    expect(md5Bytes(await readFile(join(dir, 'clip.mp4')))).toBe(md5Bytes(data));
    const out = join(work, 'back.mp4');
    const b = await runCam([
      'sdk',
      'read',
      '127.0.0.1',
      'clip.mp4',
      '--out',
      out,
      '--port',
      String(device.port),
      '--json',
    ]);
    expect(b.code).toBe(0);
    expect(md5Bytes(await readFile(out))).toBe(md5Bytes(data));
    expect(b.stderr).not.toMatch(/read/);

    // Not a terminal: plain progress lines with the share, the rate and, at the end, 100%.
    const plain = await runCam([
      'sdk',
      'upload',
      '127.0.0.1',
      file,
      '--name',
      'clip2.mp4',
      '--port',
      String(device.port),
    ]);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).toMatch(/^upload clip2\.mp4: 100% .* of .*, [\d.]+ (k|M|G)?B\/s$/m);
    const back = await runCam(['sdk', 'read', '127.0.0.1', 'clip2.mp4', '--out', out, '--port', String(device.port)]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).toMatch(/^read clip2\.mp4: 100% /m);
    expect(md5Bytes(await readFile(out))).toBe(md5Bytes(data));
  });

  it('upload --md5: a right MD5 is used as given, a wrong one is refused by the device, a malformed one is a usage error', async () => {
    const data = randomBytes(50_000);
    const file = join(work, 'given.bin');
    await writeFile(file, data);
    const args = (md5: string, name: string) =>
      runCam([
        'sdk',
        'upload',
        '127.0.0.1',
        file,
        '--md5',
        md5,
        '--name',
        name,
        '--port',
        String(device.port),
        '--json',
      ]);
    const ok = await args(md5Bytes(data).toUpperCase(), 'given.bin');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, md5: md5Bytes(data) });
    const wrong = await args('0'.repeat(32), 'wrong.bin');
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false });
    const bad = await args('xyz', 'bad.bin');
    expect(bad.code).toBe(2);
    expect(bad.stdout + bad.stderr).toMatch(/--md5 must be 32 hex digits/);
  });

  it('upload rejects an unknown type (usage error)', async () => {
    const r = await runCam(['sdk', 'upload', '127.0.0.1', 'x', '--type', 'song', '--port', String(device.port)]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--type must be one of/);
  });

  it('search finds the device on 127.0.0.1', async () => {
    const r = await runCam([
      'sdk',
      'search',
      '--address',
      '127.0.0.1',
      '--port',
      String(device.udpPort),
      '--wait',
      '500',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { devices: { deviceId: string; address: string }[] };
    expect(doc.devices).toEqual([expect.objectContaining({ deviceId: 'CLI-SIM', address: '127.0.0.1' })]);
  });

  it('simulate runs a device that call can reach, and stops on SIGINT', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const simDir = join(work, 'sim');
    const child = spawn(
      process.execPath,
      [
        '--conditions=@cam/source',
        '--import',
        'tsx',
        camSource,
        'sdk',
        'simulate',
        '--address',
        '127.0.0.1',
        '--port',
        String(port),
        '--dir',
        simDir,
        '--exit-after',
        '60000',
        '--json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      for (let i = 0; i < 200 && !stdout.includes('}'); i++) await new Promise((r) => setTimeout(r, 100));
      expect(JSON.parse(stdout)).toMatchObject({ ok: true, port, address: '127.0.0.1', dir: simDir });
      const call = await runCam(['sdk', 'call', '127.0.0.1', 'GetDeviceInfo', '--port', String(port), '--json']);
      expect(call.code).toBe(0);
      expect(JSON.parse(call.stdout)).toMatchObject({ ok: true, result: 'kSuccess' });
      child.kill('SIGINT');
      expect(await exited).toBe(130); // the exit-code contract: SIGINT after a clean stop
      expect(stderr).toContain('call GetDeviceInfo');
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});
