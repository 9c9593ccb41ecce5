import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { launchChromium } from '../../../test-support/browser.js';
import { bundleCodec } from '../../../test-support/codec-bundles.js';
import { describeInterop } from '../../../test-support/interop.js';
import { loadClip } from '../src/index.js';

/**
 * The fMP4 muxer, bundled from `@cam/ehome/codec`, runs in Debian's headless Chromium and what it makes plays
 * through Media Source Extensions: the page muxes two seconds of the shipped preview clip and appends the segments
 * to a SourceBuffer; Chromium's demuxer and decoder take them (buffered range, picture size).
 */
describeInterop('fMP4 in headless Chromium (MSE)', ['chromium'], () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await launchChromium();
    page = await browser.newPage();
    const bundle = await bundleCodec('@cam/ehome/codec');
    expect(bundle.errors).toEqual([]);
    await page.setContent('<video muted></video>');
    await page.addScriptTag({ content: bundle.code });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('Media Source Extensions take the segments the muxer makes in the page', async () => {
    const frames = loadClip('live')
      .frames.slice(0, 50)
      .map((f) => Array.from(f.data));
    // The page-side code is a string: this package's TypeScript has no DOM library.
    const script = `(async (aus) => {
      const muxer = new globalThis.cam_ehome_codec.Fmp4Muxer({ fragment: 'gop' });
      const segments = [];
      for (let i = 0; i < aus.length; i++) segments.push(...muxer.push({ data: Uint8Array.from(aus[i]), pts: i * 3600 }));
      segments.push(...muxer.flush());
      const type = 'video/mp4; codecs="' + muxer.codecString + '"';
      if (!MediaSource.isTypeSupported(type)) return { type, supported: false };
      const video = document.querySelector('video');
      const ms = new MediaSource();
      video.src = URL.createObjectURL(ms);
      await new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
      const sb = ms.addSourceBuffer(type);
      const errors = [];
      sb.addEventListener('error', () => errors.push('sourcebuffer error'));
      for (const s of segments) {
        sb.appendBuffer(s);
        await new Promise((r) => sb.addEventListener('updateend', r, { once: true }));
      }
      ms.endOfStream();
      if (video.readyState < 1) await new Promise((r) => video.addEventListener('loadedmetadata', r, { once: true }));
      return {
        type,
        supported: true,
        segments: segments.length,
        buffered: sb.buffered.length > 0 ? [sb.buffered.start(0), sb.buffered.end(0)] : [],
        width: video.videoWidth,
        height: video.videoHeight,
        errors,
        mediaError: video.error ? video.error.message : null,
      };
    })(${JSON.stringify(frames)})`;
    const result = (await page.evaluate(script)) as {
      type: string;
      supported: boolean;
      buffered?: number[];
    };
    expect(result.supported, `Chromium supports ${result.type}`).toBe(true);
    expect(result).toMatchObject({ segments: 3, width: 640, height: 360, errors: [], mediaError: null });
    expect(result.buffered![0]).toBeCloseTo(0, 1);
    expect(result.buffered![1]).toBeCloseTo(2, 1);
  }, 60_000);
});
