import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { GvcpDevice } from '@cam/gvcp';
import { attachGvspStreaming } from '@cam/gvsp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { runCam, type StartedCam, startCam } from '../../../test-support/cli.js';

const pkg = new URL('..', import.meta.url).pathname;
const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});
beforeAll(() => {
  execFileSync(process.execPath, [join(pkg, 'scripts/build-viewer.mjs')], { stdio: 'inherit' });
}, 120_000);

async function view(args: string[]): Promise<{ cam: StartedCam; url: URL; open?: string }> {
  const cam = await startCam(['view', '--json', ...args], { timeoutMs: 60_000 });
  cleanup.push(async () => {
    if (cam.child.exitCode === null) {
      cam.child.kill('SIGKILL');
      await cam.exit;
    }
  });
  const doc = JSON.parse(cam.firstLine) as { url: string; open?: string };
  return { cam, url: new URL(doc.url), ...(doc.open ? { open: doc.open } : {}) };
}

/** A GET with a chosen Host header (fetch does not let a caller set it). */
function get(url: URL, path: string, host = url.host): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function wsStatus(url: string, headers: Record<string, string> = {}): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(0));
  });
}

describe('cam view: the server', () => {
  it('serves the page, and with a token refuses every request and socket without it', async () => {
    const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0, width: 64, height: 48, pixelFormat: 'Mono8' });
    cleanup.push(() => dev.close());
    const s = await attachGvspStreaming(dev, { bindAddress: '127.0.0.1' });
    cleanup.push(() => s.close());
    const token = 'abcdefghijklmnop0123';
    const { url, open } = await view([
      '--token',
      token,
      '--gige',
      '127.0.0.1',
      '--gige-port',
      String(dev.address().port),
    ]);
    expect(url.searchParams.get('token')).toBe(token);
    expect(open).toMatch(/#\/gige\/gige-1$/);
    const page = await get(url, `/?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('/assets/main.js');
    expect((await get(url, '/assets/main.js')).status).toBe(200); // the app itself holds nothing secret
    expect((await get(url, '/')).status).toBe(401);
    expect((await get(url, '/api/devices?token=wrong-token-0000000')).status).toBe(401);
    const list = await get(url, `/api/devices?token=${token}`);
    expect(JSON.parse(list.body)).toEqual([{ id: 'gige-1', kind: 'gige', address: '127.0.0.1', streaming: true }]);
    const ws = `ws://${url.host}/ws/gige/gige-1`;
    expect(await wsStatus(ws)).toBe(403);
    expect(await wsStatus(`${ws}?token=${token}`)).toBe('open');
    expect(await wsStatus(`ws://${url.host}/ws/gige/gige-9?token=${token}`)).toBe(403);
    // discovery never broadcasts unless asked to
    const refused = await fetch(`http://${url.host}/api/discover?token=${token}`, { method: 'POST', body: '{}' });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      ok: false,
      error: { message: /broadcast discovery must be asked for/ },
    });
    // an unknown device is a 404 with a typed error
    const missing = await get(url, `/api/gige/gige-9/features?token=${token}`);
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.body)).toMatchObject({ ok: false, error: { name: 'UnknownSessionError' } });
  }, 60_000);

  it('bound to loopback without a token: checks Host and Origin, stops on SIGINT with 130', async () => {
    const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0, width: 64, height: 48, pixelFormat: 'Mono8' });
    cleanup.push(() => dev.close());
    const s = await attachGvspStreaming(dev, { bindAddress: '127.0.0.1' });
    cleanup.push(() => s.close());
    const { cam, url } = await view(['--gige', '127.0.0.1', '--gige-port', String(dev.address().port)]);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.search).toBe('');
    expect(JSON.parse((await get(url, '/api/devices')).body)).toHaveLength(1);
    expect(await wsStatus(`ws://${url.host}/ws/gige/gige-1`)).toBe('open');
    // DNS rebinding: a page of another site whose name resolves to 127.0.0.1 sends its own Host and Origin
    expect((await get(url, '/api/devices', `evil.example:${url.port}`)).status).toBe(421);
    expect((await get(url, '/api/devices', `localhost:${url.port}`)).status).toBe(200);
    expect(await wsStatus(`ws://${url.host}/ws/gige/gige-1`, { origin: 'http://evil.example' })).toBe(403);
    // one source holds at most 64 connections: the rest are closed at once
    const sockets = Array.from({ length: 70 }, () => connect(Number(url.port), '127.0.0.1'));
    cleanup.push(() => {
      for (const s of sockets) s.destroy();
    });
    const closed = await Promise.all(
      sockets.map(
        (s) =>
          new Promise<boolean>((resolve) => {
            s.once('close', () => resolve(true));
            s.once('error', () => resolve(true));
            setTimeout(() => resolve(false), 3000);
          }),
      ),
    );
    expect(closed.filter(Boolean).length).toBeGreaterThanOrEqual(6);
    for (const s of sockets) s.destroy();
    cam.child.kill('SIGINT');
    expect(await cam.exit).toBe(130);
  }, 60_000);

  it('a page that does not keep up misses frames for display only: the receiver still completes every one', async () => {
    const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0, width: 64, height: 48, pixelFormat: 'Mono8' });
    cleanup.push(() => dev.close());
    const s = await attachGvspStreaming(dev, { bindAddress: '127.0.0.1', forceFps: 50 });
    cleanup.push(() => s.close());
    const { url } = await view(['--gige', '127.0.0.1', '--gige-port', String(dev.address().port)]);
    const headers: { frame: number; dropped: number }[] = [];
    const ws = new WebSocket(`ws://${url.host}/ws/gige/gige-1`);
    cleanup.push(() => ws.close());
    ws.on('message', (data, binary) => {
      if (!binary) return;
      const b = data as Buffer;
      const n = b.readUInt32LE(0);
      headers.push(JSON.parse(b.subarray(4, 4 + n).toString('utf8')) as { frame: number; dropped: number });
    });
    const until = async (test: () => boolean): Promise<void> => {
      for (let i = 0; i < 300 && !test(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(test()).toBe(true);
    };
    await until(() => headers.length === 1);
    // a busy page: no ack for a while; nothing more is sent meanwhile
    await new Promise((r) => setTimeout(r, 1000));
    expect(headers).toHaveLength(1);
    ws.send('{"type":"ack"}');
    await until(() => headers.length === 2);
    // the frame it gets next is the newest, and the ones in between are counted as dropped
    expect(headers[1]!.frame - headers[0]!.frame).toBeGreaterThan(5);
    expect(headers[1]!.dropped).toBe(headers[1]!.frame - headers[0]!.frame - 1);
    const stats = JSON.parse((await get(url, '/api/gige/gige-1/stats')).body) as {
      completedFrames: number;
      failures: number;
      frames: number;
    };
    expect(stats.failures).toBe(0);
    expect(stats.completedFrames).toBeGreaterThanOrEqual(headers[1]!.frame);
  }, 60_000);

  it('usage mistakes exit 2; an unreachable camera exits 1', async () => {
    for (const args of [
      ['view', '--address', 'nowhere'],
      ['view', '--port', '70000'],
      ['view', '--gige', '300.1.1.1'],
      ['view', '--token', 'short'],
      ['view', '--packet-size', '100'],
      ['view', '--gige-port', '3956'],
      ['view', '--ehome', 'ftp://x'],
    ]) {
      const r = await runCam(args);
      expect(r.code, args.join(' ')).toBe(2);
    }
    const r = await runCam(['view', '--gige', '127.0.0.1', '--gige-port', '9'], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(1);
  }, 60_000);
});
