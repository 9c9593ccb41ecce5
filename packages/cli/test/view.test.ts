import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { type AddressInfo, connect, createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EhomeDevice, EhomeDeviceMedia, EhomeHttpApi, EhomeServer } from '@cam/ehome';
import { FeatureRegister, GvcpDevice, PixelFormat } from '@cam/gvcp';
import { attachGvspStreaming, TestPatternRenderer } from '@cam/gvsp';
import { PortPool } from '@cam/net-utils';
import { attachToGvcpDevice, ScGvmpDevice, testPatternRaw } from '@cam/sc-gvmp';
import { SdkDevice } from '@cam/sdk-tcp';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { launchChromium } from '../../../test-support/browser.js';
import { type StartedCam, startCam } from '../../../test-support/cli.js';
import { describeInterop } from '../../../test-support/interop.js';
import { demosaicBilinear } from '../src/image/convert.js';
import { readPng } from './helpers.js';

const pkg = new URL('..', import.meta.url).pathname;
/** Screenshots of each view, kept as build artifacts (git-ignored). */
const ARTIFACTS = join(pkg, 'test/artifacts');

const cleanup: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()?.();
});

type Format = 'Mono8' | 'Mono12' | 'BayerRG8';

async function camera(pixelFormat: Format, width: number, height: number, fps: number) {
  const dev = await GvcpDevice.start({ address: '127.0.0.1', port: 0, width, height, pixelFormat });
  cleanup.push(() => dev.close());
  // the moving diagonal ramp: every frame differs, and each is predictable from its first pixel
  dev.registers.set(FeatureRegister.TestPattern, 5);
  const s = await attachGvspStreaming(dev, { bindAddress: '127.0.0.1', forceFps: fps });
  cleanup.push(() => s.close());
  return { dev, port: dev.address().port };
}

/** Starts `cam view --gige` from source; resolves with the page URL it printed. */
async function view(port: number, extra: string[] = []): Promise<{ cam: StartedCam; open: string; url: string }> {
  const cam = await startCam(['view', '--gige', '127.0.0.1', '--gige-port', String(port), '--json', ...extra], {
    timeoutMs: 120_000,
  });
  cleanup.push(async () => {
    if (cam.child.exitCode === null) {
      cam.child.kill('SIGINT');
      await cam.exit;
    }
  });
  const doc = JSON.parse(cam.firstLine) as { ok: boolean; url: string; open: string };
  expect(doc.ok).toBe(true);
  return { cam, open: doc.open, url: doc.url };
}

/** The little of the page's DOM these tests touch (the CLI's TypeScript program has no DOM library). */
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
    drawImage(source: CanvasImageSource, x: number, y: number): void;
  };
}
type CanvasImageSource = object;
interface PageGlobals {
  document: {
    getElementById(id: string): PageCanvas;
    createElement(tag: 'canvas'): PageCanvas;
    querySelector(selector: string): { currentTime: number; complete: boolean; naturalWidth: number } | null;
  };
}

/** What the page exposes for tests: how it draws, the canvas's pixels (WebGL or 2D alike), the last frame. */
interface ViewerProbe {
  render: string;
  readPixels(x: number, y: number, w: number, h: number): ArrayLike<number>;
  last: { frame: number; seq?: number };
}

let browser: Browser;
beforeAll(async () => {
  // the browser app, bundled as the package build does
  execFileSync(process.execPath, [join(pkg, 'scripts/build-viewer.mjs')], { stdio: 'inherit' });
  mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);
afterAll(async () => {
  await browser?.close();
});

async function page(url: string): Promise<Page> {
  browser ??= await launchChromium();
  const p = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  cleanup.push(() => p.close());
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(e.message));
  cleanup.push(() => expect(errors).toEqual([]));
  await p.goto(url);
  return p;
}

/** Waits until the page has shown at least `n` frames; resolves with the count. */
async function displayed(p: Page, n: number): Promise<number> {
  await p.waitForFunction(
    (min) => (globalThis as unknown as { camViewer: { displayed: number } }).camViewer.displayed >= min,
    n,
    { timeout: 30_000 },
  );
  return p.evaluate(() => (globalThis as unknown as { camViewer: { displayed: number } }).camViewer.displayed);
}

/** The canvas's RGBA bytes and the frame number the page last drew, read in one task (no frame in between). */
async function canvasPixels(
  p: Page,
): Promise<{ rgba: Uint8Array; frame: number; seq: number; width: number; height: number }> {
  const r = await p.evaluate(() => {
    const c = (globalThis as unknown as PageGlobals).document.getElementById('frame');
    const v = (globalThis as unknown as { camViewer: ViewerProbe }).camViewer;
    const d = v.readPixels(0, 0, c.width, c.height);
    return { data: Array.from(d), frame: v.last.frame, seq: v.last.seq ?? -1, width: c.width, height: c.height };
  });
  return { rgba: Uint8Array.from(r.data), frame: r.frame, seq: r.seq, width: r.width, height: r.height };
}

describeInterop('cam view: the GigE Vision view in Chromium', ['chromium'], () => {
  it('the canvas shows exactly the Mono8 frame the simulator sent, and the picture moves', async () => {
    const width = 320;
    const height = 240;
    const { port } = await camera('Mono8', width, height, 20);
    const { open } = await view(port);
    const p = await page(open);
    await displayed(p, 3);
    // headless Chromium's GL is SwiftShader (software): there the page draws with the 2D canvas (cheaper there)
    expect(await p.evaluate(() => (globalThis as unknown as { camViewer: ViewerProbe }).camViewer.render)).toBe('2d');
    const a = await canvasPixels(p);
    expect([a.width, a.height]).toEqual([width, height]);
    // the ramp's frame is known from its first pixel: (x + y + n) & 0xff
    const sent = new TestPatternRenderer({ width, height, pixelFormat: PixelFormat.Mono8 }).render(a.rgba[0]!);
    let mismatches = 0;
    for (let i = 0; i < width * height; i++) {
      const v = sent[i]!;
      if (a.rgba[4 * i] !== v || a.rgba[4 * i + 1] !== v || a.rgba[4 * i + 2] !== v || a.rgba[4 * i + 3] !== 255)
        mismatches++;
    }
    expect(mismatches).toBe(0);
    await displayed(p, (await displayed(p, 0)) + 2);
    const b = await canvasPixels(p);
    expect(b.frame).toBeGreaterThan(a.frame);
    expect(Buffer.from(b.rgba).equals(Buffer.from(a.rgba))).toBe(false);
    // the overlay counts frames; the pixel probe names the value under the cursor
    await expect.poll(() => p.locator('#overlay').textContent(), { timeout: 20_000 }).toMatch('frame');
    const box = (await p.locator('#stage').boundingBox())!;
    await p.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await expect.poll(() => p.locator('#probe').textContent(), { timeout: 20_000 }).toMatch(/pixel \(\d+, \d+\) = \d+/);
    // zoom in at the cursor (wheel) and pan (drag): the canvas's transform follows, and the probe still reads the
    // pixel under the cursor: the ramp's value there is (x + y + n) & 0xff of the frame on the canvas
    const scale = () =>
      p.locator('#frame').evaluate((c) => {
        const m = /scale\(([0-9.]+)\)/.exec((c as unknown as { style: { transform: string } }).style.transform);
        return Number(m?.[1] ?? 1);
      });
    const before = await scale();
    await p.mouse.wheel(0, -600);
    await expect.poll(scale).toBeGreaterThan(before * 2);
    await p.mouse.down();
    await p.mouse.move(box.x + box.width / 2 - 40, box.y + box.height / 2 - 30, { steps: 4 });
    await p.mouse.up();
    // the probe's text and the canvas, read in one task (no frame drawn in between)
    const seen = await p.evaluate(() => {
      const doc = (globalThis as unknown as PageGlobals).document;
      const text = (doc.querySelector('#probe') as unknown as { textContent: string }).textContent;
      const m = /pixel \((\d+), (\d+)\) = (\d+)/.exec(text);
      if (!m) return { text, value: -1, canvas: -2 };
      const d = (globalThis as unknown as { camViewer: ViewerProbe }).camViewer.readPixels(
        Number(m[1]),
        Number(m[2]),
        1,
        1,
      );
      return { text, value: Number(m[3]), canvas: d[0] as number };
    });
    expect(seen.value, seen.text).toBe(seen.canvas);
    await p.locator('#features [data-feature="Width"]').waitFor();
    await p.screenshot({ path: join(ARTIFACTS, 'view-gige-mono8.png') });
    // snapshot: the canvas as a PNG download, at the frame's own size
    const [download] = await Promise.all([p.waitForEvent('download'), p.locator('#snapshot').click()]);
    expect(download.suggestedFilename()).toMatch(/^cam-gige-1-frame-\d+\.png$/);
    const ihdr = readPng(readFileSync((await download.path()) as string)).chunks.get('IHDR')!;
    expect([ihdr.readUInt32BE(0), ihdr.readUInt32BE(4)]).toEqual([width, height]);
  }, 120_000);

  it('the WebGL path (?render=webgl: an R8 texture and a shader) shows the Mono8 frame exactly too', async () => {
    const width = 160;
    const height = 120;
    const { port } = await camera('Mono8', width, height, 20);
    const { open } = await view(port);
    const u = new URL(open);
    u.searchParams.set('render', 'webgl');
    const p = await page(u.href);
    await displayed(p, 2);
    expect(await p.evaluate(() => (globalThis as unknown as { camViewer: ViewerProbe }).camViewer.render)).toBe(
      'webgl',
    );
    const a = await canvasPixels(p);
    const sent = new TestPatternRenderer({ width, height, pixelFormat: PixelFormat.Mono8 }).render(a.rgba[0]!);
    let mismatches = 0;
    for (let i = 0; i < width * height; i++) if (a.rgba[4 * i] !== sent[i] || a.rgba[4 * i + 3] !== 255) mismatches++;
    expect(mismatches).toBe(0);
  }, 60_000);

  it('the start page opens a camera by its unicast address', async () => {
    const { port } = await camera('Mono8', 160, 120, 20);
    const cam = await startCam(['view', '--json'], { timeoutMs: 120_000 });
    cleanup.push(async () => {
      if (cam.child.exitCode === null) {
        cam.child.kill('SIGINT');
        expect(await cam.exit).toBe(130);
      }
    });
    const { url } = JSON.parse(cam.firstLine) as { url: string };
    const p = await page(url);
    await expect.poll(() => p.locator('.devices').textContent(), { timeout: 20_000 }).toMatch('none open yet');
    await p.locator('#add-gige input[name=address]').fill('127.0.0.1');
    await p.locator('#add-gige input[name=port]').fill('1');
    await p.locator('#add-gige button').click();
    // a wrong address: the error is shown on the form
    await expect.poll(() => p.locator('#add-gige .error').textContent(), { timeout: 20_000 }).toMatch(/Error/);
    await p.screenshot({ path: join(ARTIFACTS, 'view-start.png') });
    // unicast discovery finds it (broadcast only when asked, and never in tests), and its Open button opens it
    await p.locator('#discover input[name=address]').fill('127.0.0.1');
    await p.locator('#discover input[name=port]').fill(String(port));
    await p.locator('#discover button').click();
    await p.locator(`#found li[data-camera="127.0.0.1:${port}"] button`).click();
    await p.waitForURL(/#\/gige\/gige-\d+$/, { timeout: 20_000 });
    await displayed(p, 2);
  }, 120_000);

  it('a Mono12 frame is scaled to its bit depth on the canvas (value >> 4 on 8-bit)', async () => {
    const width = 64;
    const height = 48;
    const { port } = await camera('Mono12', width, height, 20);
    const { open } = await view(port);
    const p = await page(open);
    await displayed(p, 2);
    const a = await canvasPixels(p);
    // the simulator's 12-bit ramp: ((x + y + n) * 37) & 0xfff, n unknown: find the frame that matches the first row
    const pattern = new TestPatternRenderer({ width, height, pixelFormat: PixelFormat.Mono12 });
    const expected = (n: number, i: number): number => {
      const f = pattern.render(n);
      return (f[2 * i]! | (f[2 * i + 1]! << 8)) >> 4;
    };
    let n = -1;
    for (let k = 0; k < 4096 && n < 0; k++) if ([0, 1, 2, 3].every((i) => a.rgba[4 * i] === expected(k, i))) n = k;
    expect(n).toBeGreaterThanOrEqual(0);
    const sent = pattern.render(n);
    let mismatches = 0;
    for (let i = 0; i < width * height; i++) {
      const v = (sent[2 * i]! | (sent[2 * i + 1]! << 8)) >> 4;
      if (a.rgba[4 * i] !== v || a.rgba[4 * i + 1] !== v || a.rgba[4 * i + 2] !== v) mismatches++;
    }
    expect(mismatches).toBe(0);
  }, 120_000);

  it('a BayerRG8 frame is demosaiced on the canvas within a tolerance of the bilinear reference', async () => {
    const width = 160;
    const height = 120;
    const { port } = await camera('BayerRG8', width, height, 20);
    const { open } = await view(port);
    const p = await page(open);
    await displayed(p, 3);
    const a = await canvasPixels(p);
    // the 8-bit mosaic is the same ramp as Mono8: the red site (0, 0) holds the frame's shift
    const mosaic = new TestPatternRenderer({ width, height, pixelFormat: PixelFormat.BayerRG8 }).render(a.rgba[0]!);
    const rgb = demosaicBilinear(mosaic, width, height, 'RG');
    let worst = 0;
    let colourful = 0;
    for (let i = 0; i < width * height; i++) {
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(a.rgba[4 * i + c]! - rgb[3 * i + c]!));
      if (a.rgba[4 * i] !== a.rgba[4 * i + 1] || a.rgba[4 * i + 1] !== a.rgba[4 * i + 2]) colourful++;
    }
    expect(worst).toBeLessThanOrEqual(2);
    expect(colourful).toBeGreaterThan(0); // RGB, not a grey mosaic
    await p.screenshot({ path: join(ARTIFACTS, 'view-gige-bayer.png') });
  }, 120_000);

  it('the feature tree: editing Width writes the register, read-only is not editable, out of range shows the error', async () => {
    const { dev, port } = await camera('Mono8', 320, 240, 20);
    const { open } = await view(port);
    const p = await page(open);
    await displayed(p, 1);
    const width = p.locator('#features [data-feature="Width"] input.value');
    await width.fill('256');
    await width.press('Enter');
    await expect.poll(() => dev.registers.get(FeatureRegister.Width), { timeout: 20_000 }).toBe(256);
    // the stream restarted with the new size
    await p.waitForFunction(
      () => (globalThis as unknown as PageGlobals).document.getElementById('frame').width === 256,
      undefined,
      {
        timeout: 20_000,
      },
    );
    // a boolean (checkbox) and a string edited in place
    await p.locator('#features [data-feature="ReverseX"] input.value').click();
    await expect.poll(() => dev.registers.get(FeatureRegister.ReverseX), { timeout: 20_000 }).toBe(1);
    const userId = p.locator('#features [data-feature="DeviceUserID"] input.value');
    await userId.fill('viewer-test');
    await userId.press('Enter');
    const origin = new URL(open).origin;
    await expect
      .poll(
        async () =>
          ((await (await p.request.get(`${origin}/api/gige/gige-1/features/DeviceUserID`)).json()) as { value: string })
            .value,
        { timeout: 20_000 },
      )
      .toBe('viewer-test');
    // read-only: shown as text, no editor
    const sensor = p.locator('#features [data-feature="SensorWidth"]');
    expect(await sensor.getAttribute('data-access')).toBe('RO');
    expect(await sensor.locator('input, select').count()).toBe(0);
    // out of range: the error is shown beside the feature, and the register keeps its value
    await width.fill('100000');
    await width.press('Enter');
    await expect
      .poll(() => p.locator('#features [data-feature="Width"] .error').textContent(), { timeout: 20_000 })
      .toMatch(/range|not in|max/i);
    expect(dev.registers.get(FeatureRegister.Width)).toBe(256);
    await p.screenshot({ path: join(ARTIFACTS, 'view-gige-features.png') });
  }, 120_000);

  it('TriggerSoftware clicked in trigger mode gives exactly one new frame', async () => {
    const { dev, port } = await camera('Mono8', 160, 120, 20);
    const { open } = await view(port);
    const p = await page(open);
    await displayed(p, 1);
    const mode = p.locator('#features [data-feature="TriggerMode"] select.value');
    await mode.selectOption('On');
    await expect.poll(() => dev.registers.get(FeatureRegister.TriggerMode), { timeout: 20_000 }).toBe(1);
    const completed = async (): Promise<number> => {
      const r = await p.request.get(`${new URL(open).origin}/api/gige/gige-1/stats`);
      return ((await r.json()) as { completedFrames: number }).completedFrames;
    };
    // quiet: no frame arrives for a while without a trigger
    let before = await completed();
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 150));
      const now = await completed();
      if (now === before && i >= 3) break;
      before = now;
    }
    expect(await completed()).toBe(before);
    const shownBefore = await displayed(p, 0);
    await p.locator('#features [data-feature="TriggerSoftware"] button.value').click();
    await expect.poll(completed, { timeout: 10_000 }).toBe(before + 1);
    await displayed(p, shownBefore + 1);
    await new Promise((r) => setTimeout(r, 700));
    expect(await completed()).toBe(before + 1);
    expect(await displayed(p, 0)).toBe(shownBefore + 1);
  }, 120_000);

  it('records every frame to a file on the server side', async () => {
    const { port } = await camera('Mono8', 64, 48, 30);
    const dir = mkdtempSync(join(tmpdir(), 'cam-view-rec-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const { open } = await view(port, ['--record-dir', dir]);
    const p = await page(open);
    await displayed(p, 1);
    await p.locator('#record').click();
    await expect.poll(() => p.locator('#record-info').textContent(), { timeout: 20_000 }).toMatch('recording to');
    await displayed(p, (await displayed(p, 0)) + 5);
    await p.locator('#record').click();
    await expect
      .poll(() => p.locator('#record-info').textContent(), { timeout: 20_000 })
      .toMatch(/recorded \d+ frames/);
    const [file] = readdirSync(dir);
    expect(file).toMatch(/\.y4m$/);
    // a Y4M stream: the header, then 6 + 64 * 48 bytes per frame
    const size = statSync(join(dir, file!)).size;
    const header = 'YUV4MPEG2 W64 H48 F30:1 Ip A1:1 Cmono\n'.length;
    expect((size - header) % (6 + 64 * 48)).toBe(0);
    expect((size - header) / (6 + 64 * 48)).toBeGreaterThanOrEqual(5);
  }, 120_000);
});

describeInterop('cam view: the SC_GVMP view in Chromium', ['chromium'], () => {
  it('shows the JPEG stream live with its frame rate, and counts a reconnect', async () => {
    // the device's image connection, captured so the test can cut it (the device reconnects, as a camera does)
    const sockets: Socket[] = [];
    const setNoDelay = Socket.prototype.setNoDelay;
    Socket.prototype.setNoDelay = function (this: Socket, ...args: Parameters<Socket['setNoDelay']>) {
      sockets.push(this);
      return setNoDelay.apply(this, args);
    };
    cleanup.push(() => {
      Socket.prototype.setNoDelay = setNoDelay;
    });
    const gvcp = new GvcpDevice({ address: '127.0.0.1', port: 0, modelName: 'SC_GVMP smart camera' });
    const sc = new ScGvmpDevice({
      fps: 15,
      source: 'jpeg',
      testPattern: { width: 320, height: 240 },
      localAddress: '127.0.0.1',
      backoff: { initialMs: 50, maxMs: 200 },
    });
    attachToGvcpDevice(sc, gvcp);
    const where = await gvcp.listen();
    cleanup.push(() => gvcp.close());
    cleanup.push(() => sc.close());
    const cam = await startCam(['view', '--scgvmp', '127.0.0.1', '--scgvmp-port', String(where.port), '--json'], {
      timeoutMs: 120_000,
    });
    cleanup.push(async () => {
      if (cam.child.exitCode === null) {
        cam.child.kill('SIGINT');
        await cam.exit;
      }
    });
    const { open } = JSON.parse(cam.firstLine) as { open: string };
    expect(open).toMatch(/#\/scgvmp\/scgvmp-1$/);
    const p = await page(open);
    await displayed(p, 3);
    const a = await canvasPixels(p);
    expect([a.width, a.height]).toEqual([320, 240]);
    // the picture the camera sent: its test pattern is flat 8x8 blocks, which baseline JPEG keeps within a step
    const sent = testPatternRaw(a.seq, { width: 320, height: 240 });
    let worst = 0;
    for (let i = 0; i < 320 * 240; i++) worst = Math.max(worst, Math.abs(a.rgba[4 * i]! - sent[i]!));
    expect(worst).toBeLessThanOrEqual(2);
    expect(new Set(sent).size).toBeGreaterThan(1); // not a blank frame
    await expect.poll(() => p.locator('#status').textContent(), { timeout: 20_000 }).toMatch(/[1-9][0-9.]* fps/);
    expect(await p.locator('#status').textContent()).toMatch(/reconnects 0/);
    // cut the image connection: the camera reconnects, the view counts it and keeps showing frames
    expect(sockets.length).toBeGreaterThan(0);
    const shown = await displayed(p, 0);
    for (const s of sockets) s.destroy();
    await expect.poll(() => p.locator('#status').textContent(), { timeout: 20_000 }).toMatch(/reconnects [1-9]/);
    await displayed(p, shown + 3);
    await p.screenshot({ path: join(ARTIFACTS, 'view-scgvmp.png') });
  }, 120_000);
});

describeInterop('cam view: the EHome view in Chromium', ['chromium'], () => {
  it('lists the devices online, shows an alarm with its picture live, plays the preview, then shows the device offline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cam-view-ehome-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const base = 53_000 + (process.pid % 100) * 10;
    const server = new EhomeServer({
      address: '127.0.0.1',
      port: 0,
      alarmPort: 0,
      picturePort: 0,
      dataDirectory: join(dir, 'data'),
      mediaPorts: new PortPool({ min: base, max: base + 9, host: '127.0.0.1' }),
      mediaAddress: '127.0.0.1',
      // a silent device goes offline within about 3 s (the default is 90 s)
      keepAliveSeconds: 1,
      offlineAfterMissed: 2,
      sweepIntervalMs: 200,
    });
    await server.listen();
    cleanup.push(() => server.close());
    const api = new EhomeHttpApi(server, { port: 0 });
    await api.listen();
    cleanup.push(() => api.close());
    const media = new EhomeDeviceMedia(); // the real H.264 clips, 640x360
    cleanup.push(() => media.close());
    const dev = new EhomeDevice({
      server: { host: '127.0.0.1', port: server.addresses().port },
      deviceId: 'VIEW0001',
      localAddress: '127.0.0.1',
      mediaHandler: media.handler,
    });
    await dev.start();
    cleanup.push(() => dev.close());

    const cam = await startCam(['view', '--ehome', api.url, '--json'], { timeoutMs: 120_000 });
    cleanup.push(async () => {
      if (cam.child.exitCode === null) {
        cam.child.kill('SIGINT');
        await cam.exit;
      }
    });
    const { open } = JSON.parse(cam.firstLine) as { open: string };
    expect(open).toMatch(/#\/ehome\/ehome-1$/);
    const p = await page(open);
    const row = p.locator('#ehome-devices tr[data-device="VIEW0001"]');
    await row.waitFor({ timeout: 20_000 });
    expect(await row.getAttribute('data-online')).toBe('true');

    // an alarm arrives live, with its picture
    await dev.raiseAlarm({ pictures: 1 });
    const img = p.locator('#alarms li img').first();
    await img.waitFor({ timeout: 20_000 });
    await p.waitForFunction(
      () => {
        const i = (globalThis as unknown as PageGlobals).document.querySelector('#alarms li img');
        return i?.complete === true && i.naturalWidth > 0;
      },
      undefined,
      { timeout: 20_000 },
    );

    // preview: fMP4 into Media Source Extensions; time advances and a decoded frame is not blank
    await row.locator('button.preview').click();
    const time = () =>
      p.evaluate(() => (globalThis as unknown as PageGlobals).document.querySelector('#preview')?.currentTime ?? 0);
    await expect.poll(time, { timeout: 30_000 }).toBeGreaterThan(0.5);
    const t1 = await time();
    await expect.poll(time, { timeout: 30_000 }).toBeGreaterThan(t1 + 1);
    const levels = await p.evaluate(() => {
      const doc = (globalThis as unknown as PageGlobals).document;
      const v = doc.querySelector('#preview') as unknown as CanvasImageSource & {
        videoWidth: number;
        videoHeight: number;
      };
      const c = doc.createElement('canvas');
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      const ctx = c.getContext('2d');
      ctx.drawImage(v, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set<number>();
      for (let i = 0; i < d.length; i += 4 * 97) seen.add(d[i] as number);
      return { size: [c.width, c.height], levels: seen.size };
    });
    expect(levels.size).toEqual([640, 360]);
    expect(levels.levels).toBeGreaterThan(16); // a picture, not a blank or single-colour frame
    await p.screenshot({ path: join(ARTIFACTS, 'view-ehome.png') });
    // the device goes away: the list shows it offline
    await dev.close();
    await expect.poll(() => row.getAttribute('data-online'), { timeout: 30_000 }).toBe('false');
  }, 120_000);
});

describeInterop('cam view: the Huidu LED controller view in Chromium', ['chromium'], () => {
  it('shows the device info and files, and uploads a file with progress', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cam-view-sdk-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const device = await SdkDevice.start({ address: '127.0.0.1', port: 0, dir, search: false });
    cleanup.push(() => device.close());
    // the viewer reaches the controller through a proxy that slows what it receives (a pause of 50 ms after each
    // 256 KiB), so the upload lasts long enough for the page's progress polls to see it under way. Progress counts
    // bytes handed to the socket, and loopback's socket buffers take megabytes at once: the file is larger than them
    const proxy = createServer((from) => {
      const to = connect(device.port, '127.0.0.1');
      let since = 0;
      from.on('data', (d) => {
        to.write(d);
        since += d.byteLength;
        if (since >= 256 * 1024) {
          since = 0;
          from.pause();
          setTimeout(() => from.resume(), 50);
        }
      });
      to.pipe(from);
      const end = (): void => {
        from.destroy();
        to.destroy();
      };
      from.on('error', end).on('close', end);
      to.on('error', end).on('close', end);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => proxy.close(r)));
    const proxyPort = (proxy.address() as AddressInfo).port;
    const cam = await startCam(['view', '--sdk', '127.0.0.1', '--sdk-port', String(proxyPort), '--json'], {
      timeoutMs: 120_000,
    });
    cleanup.push(async () => {
      if (cam.child.exitCode === null) {
        cam.child.kill('SIGINT');
        await cam.exit;
      }
    });
    const { open } = JSON.parse(cam.firstLine) as { open: string };
    expect(open).toMatch(/#\/sdk\/sdk-1$/);
    const p = await page(open);
    await p.locator('#sdk-info tr[data-key="model"]').waitFor({ timeout: 20_000 });
    expect(await p.locator('#sdk-info tr[data-key="width"] td').textContent()).toBe('128');
    // a 16 MB file: many progress steps; its bytes arrive on the controller intact
    const bytes = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 12)) & 0xff;
    await p.locator('#upload-file').setInputFiles({ name: 'logo.bmp', mimeType: 'image/bmp', buffer: bytes });
    // every progress text the page shows, recorded as it changes
    await p.evaluate(() => {
      const g = globalThis as unknown as {
        progressSeen: string[];
        MutationObserver: new (cb: () => void) => { observe(n: unknown, o: object): void };
        document: { getElementById(id: string): { textContent: string } };
      };
      g.progressSeen = [];
      const info = g.document.getElementById('upload-info');
      new g.MutationObserver(() => g.progressSeen.push(info.textContent)).observe(info, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    await p.locator('#upload').click();
    await expect
      .poll(() => p.locator('#upload-info').textContent(), { timeout: 60_000 })
      .toMatch(`logo.bmp: ${bytes.length} of ${bytes.length} bytes, done`);
    const seen = await p.evaluate(() => (globalThis as unknown as { progressSeen: string[] }).progressSeen);
    const sent = seen.flatMap((t) => {
      const m = /: (\d+) of (\d+) bytes/.exec(t);
      return m && Number(m[2]) === bytes.length ? [Number(m[1])] : [];
    });
    // at least one value strictly between 0 and 100 %, and the values never go back
    expect(
      sent.some((v) => v > 0 && v < bytes.length),
      seen.join(' | '),
    ).toBe(true);
    expect([...sent].sort((a, b) => a - b)).toEqual(sent);
    expect(await p.locator('#upload-progress').evaluate((e) => (e as unknown as { value: number }).value)).toBe(
      bytes.length,
    );
    await p.locator('#sdk-files tr[data-file="logo.bmp"]').waitFor({ timeout: 20_000 });
    expect(await p.locator('#sdk-files tr[data-file="logo.bmp"] td').nth(1).textContent()).toBe(String(bytes.length));
    const stored = readdirSync(dir, { recursive: true }).find((f) => String(f).endsWith('logo.bmp'));
    expect(stored).toBeDefined();
    expect(readFileSync(join(dir, String(stored))).equals(bytes)).toBe(true);
    await p.screenshot({ path: join(ARTIFACTS, 'view-sdk.png') });
  }, 120_000);
});
