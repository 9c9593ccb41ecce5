import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EhomeDevice } from '@cam/ehome';
import { afterEach, describe, expect, it } from 'vitest';
import { freeUdpPort, type StartedCam, startCam } from '../../../test-support/cli.js';
import { describeInterop } from '../../../test-support/interop.js';
import { startPostgres } from '../../../test-support/postgres.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cam-ehome-store-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** `cam ehome serve` on loopback with its API on a free port; resolves with the process and the API URL. */
async function serve(port: number, data: string, extra: string[] = []): Promise<{ cam: StartedCam; api: string }> {
  const cam = await startCam(
    [
      'ehome',
      'serve',
      '--address',
      '127.0.0.1',
      '--port',
      String(port),
      '--alarm-port',
      '0',
      '--picture-port',
      '0',
      '--data',
      data,
      '--api-port',
      '0',
      '--json',
      ...extra,
    ],
    { timeoutMs: 90_000 },
  );
  cleanups.push(() => {
    if (cam.child.exitCode === null) cam.child.kill('SIGKILL');
  });
  const first = JSON.parse(cam.firstLine) as { type: string; api: string; store: string };
  expect(first.type).toBe('listening');
  return { cam, api: first.api };
}

async function storedAlarmTypes(api: string, deviceId: string): Promise<string[]> {
  const out: string[] = [];
  let after = 0;
  for (let page = 0; page < 100; page++) {
    const r = await fetch(`${api}/api/events?type=alarm&device=${deviceId}&limit=1000&after=${after}`);
    expect(r.status).toBe(200);
    const body = (await r.json()) as { events: { alarm: { alarmType: string } }[]; next: number | null };
    for (const e of body.events) out.push(e.alarm.alarmType);
    if (body.next === null) break;
    after = body.next;
  }
  return out;
}

describe('cam ehome serve: nothing acknowledged is lost', () => {
  it('kill -9 in the middle of an alarm burst: after a restart on the same store every acknowledged alarm is there', async () => {
    const data = tempDir();
    const port = await freeUdpPort();
    const a = await serve(port, data);
    expect(JSON.parse(a.cam.firstLine).store).toBe('embedded');
    const dev = new EhomeDevice({
      server: { host: '127.0.0.1', port },
      deviceId: 'burst1',
      localAddress: '127.0.0.1',
      backoff: { initialMs: 100, maxMs: 500 },
      registerAttemptMs: 500,
      requestAttemptMs: 300,
      maxResends: 1,
    });
    cleanups.push(() => dev.close());
    await dev.start({ timeoutMs: 20_000 });

    // Four senders raise alarms as fast as they are answered; the platform is killed once 40 were acknowledged. A
    // sender stops at its first unanswered alarm after the kill: the alarms it would send next go to a dead port, and
    // each would only wait out its 2 s timeout.
    const acked: string[] = [];
    const unanswered: string[] = [];
    let next = 0;
    let killed = false;
    const sender = async (): Promise<void> => {
      while (next < 2000 && unanswered.length < 20) {
        const type = `BURST_${next++}`;
        try {
          await dev.raiseAlarm({ pictures: 0, alarmType: type, timeoutMs: 2000 });
          acked.push(type);
          if (acked.length === 40 && !killed) {
            killed = true;
            a.cam.child.kill('SIGKILL');
          }
        } catch {
          unanswered.push(type);
          if (killed) return;
        }
      }
    };
    await Promise.all([sender(), sender(), sender(), sender()]);
    expect(killed).toBe(true);
    expect(await a.cam.exit).toBe(null);
    expect(unanswered.length).toBeGreaterThan(0);

    const b = await serve(await freeUdpPort(), data);
    const stored = new Set(await storedAlarmTypes(b.api, 'burst1'));
    const lost = acked.filter((t) => !stored.has(t));
    expect(lost).toEqual([]);
    expect(acked.length).toBeGreaterThanOrEqual(40);
    // Each stored once, however often the device resent it.
    const all = await storedAlarmTypes(b.api, 'burst1');
    expect(all.length).toBe(stored.size);
    b.cam.child.kill('SIGINT');
    expect(await b.cam.exit).toBe(130);
  }, 120_000);
});

/** Polls `check` every 200 ms until it returns a value (bounded: `ms`). */
async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describeInterop('cam ehome serve: two platform processes on one PostgreSQL', ['postgresql'], () => {
  it('a device registered on A is listed by B; capture, ptz and config through B reach it via A, events are visible from both', async () => {
    const pg = await startPostgres({ database: 'cam2' });
    cleanups.push(() => pg.stop());
    const portA = await freeUdpPort();
    const a = await serve(portA, tempDir(), ['--store', pg.url]);
    const b = await serve(await freeUdpPort(), tempDir(), ['--store', pg.url]);
    expect(JSON.parse(a.cam.firstLine).store).toBe('postgres');
    const dev = new EhomeDevice({
      server: { host: '127.0.0.1', port: portA },
      deviceId: 'shared1',
      localAddress: '127.0.0.1',
      backoff: { initialMs: 100, maxMs: 500 },
      registerAttemptMs: 500,
    });
    cleanups.push(() => dev.close());
    await dev.start({ timeoutMs: 20_000 });

    const listed = await until('B lists the device', 15_000, async () => {
      const list = (await (await fetch(`${b.api}/api/devices`)).json()) as { deviceId: string; online: boolean }[];
      return list.find((d) => d.deviceId === 'shared1' && d.online);
    });
    expect(listed).toMatchObject({ deviceId: 'shared1', online: true });

    // PTZ through B: forwarded to A, which holds the session.
    const ptz = await fetch(`${b.api}/api/devices/shared1/ptz`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ command: 'LEFT', speed: 3 }),
    });
    expect(ptz.status).toBe(200);
    expect(ptz.headers.get('x-cam-forwarded-to')).toBe(a.api);
    expect(dev.ptzState.get(1)).toMatchObject({ command: 'LEFT', speed: 3 });

    const config = await fetch(`${b.api}/api/devices/shared1/config/GetServerInfo`);
    expect(config.status).toBe(200);
    expect(Object.keys((await config.json()) as object).length).toBeGreaterThan(0);

    const capture = await fetch(`${b.api}/api/devices/shared1/capture`, { method: 'POST' });
    expect(capture.status).toBe(200);
    const pic = (await capture.json()) as { url: string; size: number };
    expect(pic.url).toMatch(/^\/api\/pictures\/\d+$/);
    // The picture file is on A; B serves it by asking A.
    const bytes = new Uint8Array(await (await fetch(`${b.api}${pic.url}`)).arrayBuffer());
    expect(bytes.length).toBe(pic.size);
    expect([bytes[0], bytes[1]]).toEqual([0xff, 0xd8]);

    await dev.raiseAlarm({ pictures: 1, alarmType: 'SHARED_ALARM' });
    for (const api of [a.api, b.api]) {
      const alarm = await until(`alarm visible from ${api}`, 15_000, async () => {
        const r = (await (await fetch(`${api}/api/events?type=alarm&device=shared1`)).json()) as {
          events: { alarm: { alarmType: string }; complete: boolean }[];
        };
        return r.events.find((e) => e.alarm.alarmType === 'SHARED_ALARM' && e.complete);
      });
      expect(alarm.complete).toBe(true);
    }
    const history = (await (await fetch(`${b.api}/api/devices/shared1/commands`)).json()) as { command: string }[];
    expect(history.map((h) => h.command)).toEqual(
      expect.arrayContaining(['PTZCONTROL', 'GETDEVICECONFIG', 'CAPTUREPICTURE']),
    );

    for (const p of [a, b]) {
      p.cam.child.kill('SIGINT');
      expect(await p.cam.exit).toBe(130);
    }
  }, 120_000);
});
