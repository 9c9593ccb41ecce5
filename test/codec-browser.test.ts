import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium } from '../test-support/browser.js';
import { bundleCodec, type CodecEntry } from '../test-support/codec-bundles.js';
import { describeInterop } from '../test-support/interop.js';

/**
 * Issue #15: the codec bundles run in a real browser. Debian's Chromium loads each bundle as an inline script (no
 * server, no network: `page.addScriptTag({ content })` on about:blank) and decodes captured bytes there: a GVCP
 * DISCOVERY ack from Aravis' arv-tool, a GVSP image leader from arv-fake-gv-camera, an EHome 4.0 REGISTER from a
 * public client. The decoded fields are compared with what the capture says.
 */
const repo = new URL('..', import.meta.url).pathname;
const capture = (pkg: string, file: string): { proto: string; payload_hex: string }[] =>
  JSON.parse(readFileSync(join(repo, 'packages', pkg, 'test', 'fixtures', 'captures', file), 'utf8')).packets;

const gvcpPackets = capture('gvcp', 'aravis-arv-tool-control.json');
// The second packet is the camera's DISCOVERY_ACK (the first is arv-tool's DISCOVERY_CMD).
const discoveryAckHex = gvcpPackets[1]!.payload_hex;
// The first GVSP packet of the stream capture is the leader of block 0xff79 (64x48 Mono8).
const leaderHex = capture('gvsp', 'aravis-fake-gv-64x48.json').find((p) => p.proto === 'gvsp')!.payload_hex;
const registerXml = readFileSync(
  join(repo, 'packages/ehome/test/fixtures/peers/ehome40-client-register.xml'),
  'latin1',
);
const GB_TEXT = '硬盘已满, 通道 1';
// The same text in GB2312 (checked against iconv-lite, the encoder @cam/ehome used before).
const GB_BYTES = [0xd3, 0xb2, 0xc5, 0xcc, 0xd2, 0xd1, 0xc2, 0xfa, 0x2c, 0x20, 0xcd, 0xa8, 0xb5, 0xc0, 0x20, 0x31];

describeInterop('codecs in headless Chromium', ['chromium'], () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
    const entries: CodecEntry[] = ['@cam/gvcp/codec', '@cam/gvsp/codec', '@cam/ehome/codec'];
    for (const entry of entries) {
      const bundle = await bundleCodec(entry);
      expect(bundle.errors).toEqual([]);
      await page.addScriptTag({ content: bundle.code });
    }
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('runs in a page without Node: no process, no Buffer', async () => {
    const env = await page.evaluate(() => ({
      process: typeof (globalThis as { process?: unknown }).process,
      buffer: typeof (globalThis as { Buffer?: unknown }).Buffer,
      ua: (globalThis as unknown as { navigator: { userAgent: string } }).navigator.userAgent,
    }));
    expect(env).toMatchObject({ process: 'undefined', buffer: 'undefined' });
    expect(env.ua).toMatch(/HeadlessChrome/);
  });

  it('decodes a captured GVCP DISCOVERY ack', async () => {
    const ack = await page.evaluate((hex) => {
      const g = globalThis as unknown as Record<string, Record<string, (b: Uint8Array) => unknown>>;
      const bytes = new Uint8Array(hex.length / 2);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
      return JSON.parse(JSON.stringify(g.cam_gvcp_codec!.decodeAck!(bytes)));
    }, discoveryAckHex);
    expect(ack).toMatchObject({
      type: 'discovery',
      status: 0,
      ackId: 0xffff,
      device: {
        ip: '127.0.0.1',
        manufacturerName: 'Aravis',
        modelName: 'Fake',
        deviceVersion: '0.8.26',
        serialNumber: 'GV42',
      },
    });
  });

  it('decodes a captured GVSP image leader', async () => {
    const packet = await page.evaluate((hex) => {
      const g = globalThis as unknown as Record<string, Record<string, (b: Uint8Array) => unknown>>;
      const bytes = new Uint8Array(hex.length / 2);
      for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
      const p = g.cam_gvsp_codec!.decodeGvspPacket!(bytes);
      return JSON.parse(JSON.stringify(p, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v)));
    }, leaderHex);
    expect(packet).toMatchObject({
      kind: 'leader',
      header: { status: 0, blockId: `${0xff79}n`, packetId: 0 },
      leader: { payloadType: 1, pixelFormat: 0x01080001, sizeX: 64, sizeY: 48, offsetX: 0, offsetY: 0 },
    });
    const name = await page.evaluate(() => {
      const g = globalThis as unknown as Record<string, Record<string, (id: number) => string>>;
      return g.cam_gvsp_codec!.pixelFormatName!(0x01080001);
    });
    expect(name).toBe('Mono8');
  });

  it('decodes a captured EHome 4.0 REGISTER', async () => {
    const message = await page.evaluate((xml) => {
      const g = globalThis as unknown as Record<string, Record<string, (b: Uint8Array) => unknown>>;
      return JSON.parse(JSON.stringify(g.cam_ehome_codec!.decodeMessage!(new TextEncoder().encode(xml))));
    }, registerXml);
    expect(message).toMatchObject({
      kind: 'request',
      version: '4.0',
      sequence: 1,
      command: 'REGISTER',
      params: { deviceId: 'demo40', serialNumber: 'DS-2CD0000-SIM', localIp: '127.0.0.1', localPort: 7660 },
    });
  });

  it('encodes and decodes GB2312 text in the page', async () => {
    const page2 = await page.evaluate((text) => {
      const g = globalThis as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>;
      const bytes = g.cam_ehome_codec!.encodeSignalText!(text, 'GB2312') as Uint8Array;
      return { bytes: Array.from(bytes), back: g.cam_ehome_codec!.decodeSignalText!(bytes, 'GB2312') };
    }, GB_TEXT);
    expect(page2.bytes).toEqual(GB_BYTES);
    expect(page2.back).toBe(GB_TEXT);
  });
});
