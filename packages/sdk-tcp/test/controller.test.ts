import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { area, clockItem, imageItem, program, screen, textItem, videoItem } from '../src/codec/program.js';
import { SdkDevice } from '../src/device/device.js';
import { LedClient, refusalReason } from '../src/transport/led-client.js';
import { type Rig, startRig } from './helpers.js';
import { countPixels, pngPixels, solidPng } from './png.js';

let rig: Rig | undefined;
const clients: LedClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await rig?.close();
  rig = undefined;
});

async function led(): Promise<LedClient> {
  const c = LedClient.over(await rig!.connect());
  clients.push(c);
  return c;
}

const red = (r: number, g: number, b: number) => r > 150 && g < 90 && b < 90;
const green = (r: number, g: number, b: number) => g > 150 && r < 90 && b < 90;
const lit = (r: number, g: number, b: number) => r + g + b > 60;

describe('typed host API against the simulated controller', () => {
  it('device info and name, network, time and time zone', async () => {
    rig = await startRig({ deviceId: 'SIM-7', screen: { width: 96, height: 48 } });
    const c = await led();
    expect(await c.deviceInfo()).toMatchObject({ id: 'SIM-7', width: 96, height: 48 });
    await c.setDeviceName('Lobby <east>');
    expect(await c.deviceName()).toBe('Lobby <east>');
    expect((await c.deviceInfo()).name).toBe('Lobby <east>');
    expect(await c.networkInfo()).toMatchObject({ ip: '127.0.0.1', dhcp: false });
    await c.setTime('2026-01-02 03:04:05', { timezone: '(UTC+08:00)Beijing' });
    const t = await c.timeInfo();
    expect(t.timezone).toBe('(UTC+08:00)Beijing');
    expect(t.time.slice(0, 16)).toBe('2026-01-02 03:04');
    await expect(c.setTime('yesterday')).rejects.toMatchObject({ result: 'kInvalidParam' });
  });

  it('luminance fixed and by schedule; the frame is dimmed by it', async () => {
    rig = await startRig();
    const c = await led();
    await c.setLuminance(40);
    expect(await c.luminance()).toMatchObject({ mode: 'default', default: 40 });
    await c.setLuminance({
      default: 90,
      schedule: [
        { start: '00:00:00', percent: 20 },
        { start: '23:59:59', percent: 30 },
      ],
    });
    const l = await c.luminance();
    expect(l.mode).toBe('ploys');
    expect(l.ploy).toEqual([
      { enable: true, start: '00:00:00', percent: 20 },
      { enable: true, start: '23:59:59', percent: 30 },
    ]);
    await c.setTime('2026-01-02 12:00:00');
    expect(rig.device.controller.luminanceNow()).toBe(20);
    await expect(c.setLuminance(0)).rejects.toThrow(RangeError);
  });

  it('fonts, files in the vendor layout, delete; screen off is black, reboot turns it on', async () => {
    rig = await startRig();
    const c = await led();
    expect((await c.fonts()).map((f) => f.fontName)).toContain('DejaVu Sans');
    await c.sdk.upload(solidPng(8, 8, '#00ff00'), { name: 'g.png' });
    const files = await c.files();
    expect(files).toEqual([
      {
        name: 'g.png',
        md5: expect.stringMatching(/^[0-9a-f]{32}$/),
        size: expect.any(Number),
        existSize: expect.any(Number),
        type: 'image',
      },
    ]);
    expect(files[0]!.existSize).toBe(files[0]!.size);
    const raw = await c.sdk.call('GetFiles');
    expect(raw.body).toMatch(
      /^<files><file name="g.png" md5="[0-9a-f]{32}" size="\d+" existSize="\d+" type="image"\/><\/files>$/,
    );
    expect(await c.deleteFiles(['g.png', 'nope.png'])).toEqual([
      { name: 'g.png', result: 'kSuccess' },
      { name: 'nope.png', result: 'kFileNotFound' },
    ]);
    expect(await c.files()).toEqual([]);
    await c.sendProgram(
      screen([
        program([area({ x: 0, y: 0, width: 128, height: 64 }, [textItem('ON', { size: 40, color: '#ffffff' })])]),
      ]),
    );
    const on = pngPixels(await rig.device.snapshot(0), 128, 64);
    expect(countPixels(on, 128, { x: 0, y: 0, width: 128, height: 64 }, lit)).toBeGreaterThan(50);
    await c.screenOff();
    const off = pngPixels(await rig.device.snapshot(0), 128, 64);
    expect(countPixels(off, 128, { x: 0, y: 0, width: 128, height: 64 }, lit)).toBe(0);
    await c.reboot();
    expect(rig.device.controller.state).toMatchObject({ screenOn: true, reboots: 1 });
  });

  it('sendProgram uploads the media (skipping what is there), sends the program; GetProgram reads it back', async () => {
    rig = await startRig();
    const c = await led();
    const pic = solidPng(32, 32, '#00ff00');
    const s = screen([
      program([
        area({ x: 0, y: 0, width: 64, height: 32 }, [
          textItem('HELLO', { size: 20, color: '#ff0000', effect: 'leftScrollLoop' }),
        ]),
        area({ x: 80, y: 16, width: 32, height: 32 }, [imageItem('green.png')]),
      ]),
    ]);
    const phases: string[] = [];
    const sent = await c.sendProgram(s, { media: { 'green.png': pic }, onProgress: (p) => phases.push(p.phase) });
    expect(phases).toContain('upload');
    expect(phases.at(-1)).toBe('program');
    expect(await c.program()).toEqual(sent);
    const again: string[] = [];
    await c.sendProgram(s, { media: { 'green.png': pic }, onProgress: (p) => again.push(p.phase) });
    expect(again).toEqual(['skip', 'program']);

    const px = pngPixels(await rig.device.snapshot(0), 128, 64);
    // The picture fills its area and nothing outside it is green.
    expect(countPixels(px, 128, { x: 80, y: 16, width: 32, height: 32 }, green)).toBe(32 * 32);
    expect(countPixels(px, 128, { x: 0, y: 0, width: 80, height: 64 }, green)).toBe(0);
    // The text is red, inside its area only.
    expect(countPixels(px, 128, { x: 0, y: 0, width: 64, height: 32 }, red)).toBeGreaterThan(30);
    expect(countPixels(px, 128, { x: 0, y: 32, width: 128, height: 32 }, red)).toBe(0);
    expect(countPixels(px, 128, { x: 64, y: 0, width: 64, height: 64 }, red)).toBe(0);
    // It scrolls: another moment shows the text elsewhere.
    const later = pngPixels(await rig.device.snapshot(1500), 128, 64);
    expect(Buffer.compare(Buffer.from(px), Buffer.from(later))).not.toBe(0);
  });

  it('sendProgram resumes a media upload the controller holds in part, and the file reads back', async () => {
    rig = await startRig();
    const c = await led();
    const pic = solidPng(64, 64, '#00ff00');
    const { mkdir } = await import('node:fs/promises');
    const { md5Bytes } = await import('../src/transport/files.js');
    await mkdir(join(rig.dir, '.partial'), { recursive: true });
    const half = Math.floor(pic.byteLength / 2);
    await writeFile(join(rig.dir, '.partial', md5Bytes(pic)), pic.subarray(0, half));
    const resumed: number[] = [];
    await c.sendProgram(screen([program([area({ x: 0, y: 0, width: 64, height: 64 }, [imageItem('big.png')])])]), {
      media: { 'big.png': pic },
      onProgress: (p) => {
        if (p.phase === 'upload') resumed.push(p.upload.resumedFrom);
      },
    });
    expect(resumed.length).toBeGreaterThan(0);
    expect(resumed.every((r) => r === half)).toBe(true);
    const back = await c.readFile('big.png');
    expect(Buffer.compare(Buffer.from(back.data), Buffer.from(pic))).toBe(0);
  });

  it('validates programs like the controller: area inside the screen, media present, fonts known', async () => {
    rig = await startRig();
    const c = await led();
    const bad = async (s: ReturnType<typeof screen>) => {
      try {
        await c.sendProgram(s);
        return 'accepted';
      } catch (error) {
        const e = error as { result?: string; xml?: string };
        return `${e.result}: ${refusalReason(e.xml?.match(/<out[^>]*>(.*)<\/out>/s)?.[1] ?? '') ?? ''}`;
      }
    };
    expect(await bad(screen([program([area({ x: 100, y: 0, width: 64, height: 8 }, [textItem('x')])])]))).toMatch(
      /kInvalidParam: area 0 \(100,0 64x8\) is outside the 128x64 screen/,
    );
    expect(
      await bad(screen([program([area({ x: 0, y: 0, width: 8, height: 8 }, [textItem('x', { font: 'Comic' })])])])),
    ).toMatch(/kInvalidParam: font Comic is not known/);
    await writeFile(join(rig.dir, 'present.mp4'), 'not really a video');
    expect(await bad(screen([program([area({ x: 0, y: 0, width: 8, height: 8 }, [videoItem('present.mp4')])])]))).toBe(
      'accepted',
    );
    const raw = await c.sdk
      .call(
        'AddProgram',
        '<screen><program><area><rectangle x="0" y="0" width="8" height="8"/><resources><image><file name="gone.png"/></image></resources></area></program></screen>',
      )
      .catch((e: { result: string }) => e.result);
    expect(raw).toBe('kDownloadingFile');
  });

  it('state persists on disk with a directory: a restarted controller keeps name, luminance and program', async () => {
    rig = await startRig();
    const c = await led();
    await c.setDeviceName('kept');
    await c.setLuminance(55);
    await c.sendProgram(
      screen([program([area({ x: 0, y: 0, width: 32, height: 16 }, [clockItem({ color: '#00ff00' })])])]),
    );
    const before = await c.program();
    c.destroy();
    await rig.device.close();
    const again = await SdkDevice.start({ address: '127.0.0.1', port: 0, dir: rig.dir });
    try {
      const c2 = await LedClient.connect('127.0.0.1', { port: again.port });
      clients.push(c2);
      expect(await c2.deviceName()).toBe('kept');
      expect((await c2.luminance()).default).toBe(55);
      expect(await c2.program()).toEqual(before);
      const px = pngPixels(await again.snapshot(0), 128, 64);
      // Green digits, dimmed to 55 %.
      const greenish = (r: number, g: number, b: number) => g > 50 && r < 40 && b < 40;
      expect(countPixels(px, 128, { x: 0, y: 0, width: 96, height: 32 }, greenish)).toBeGreaterThan(10);
      expect(countPixels(px, 128, { x: 0, y: 0, width: 128, height: 64 }, (_r, g) => g > 145)).toBe(0);
    } finally {
      await again.close();
    }
  });
});
