import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SdkClient, SdkDevice } from '@cam/sdk-tcp';
import type { DemoPart } from './runner.js';

/** Huidu SDK TCP: a simulated LED controller driven by our host side. */
export const sdkPart: DemoPart = {
  name: 'sdk',
  title: 'Huidu SDK TCP: negotiate, GetIFVersion and guid, a call, a file upload',
  timeoutMs: 15_000,
  async run(ctx) {
    const dir = join(ctx.out, 'controller-files');
    const device = await SdkDevice.start({
      address: '127.0.0.1',
      port: 0,
      dir,
      deviceId: 'C16-DEMO-0001',
      search: false,
    });
    ctx.defer(() => device.close());
    const port = device.port;
    ctx.progress(`simulated controller on 127.0.0.1:${port}`);

    const client = await SdkClient.connect('127.0.0.1', { port, signal: ctx.signal });
    ctx.defer(() => client.close());
    ctx.check('version negotiation', client.version > 0, `transport version 0x${client.version.toString(16)}`);
    ctx.check('GetIFVersion', /^[0-9a-f]{32}$/i.test(client.guid), `guid ${client.guid}`);

    const info = await client.call('GetDeviceInfo', '', { signal: ctx.signal });
    ctx.check(
      'SDK call',
      info.result === 'kSuccess',
      `GetDeviceInfo -> ${info.result}, ${info.body.length} bytes of XML`,
    );

    const file = new Uint8Array(3 * 1024 * 1024);
    for (let i = 0; i < file.length; i++) file[i] = (i * 31 + (i >>> 10)) & 0xff;
    let lastPct = -1;
    const up = await client.upload(file, {
      name: 'demo-program.bin',
      signal: ctx.signal,
      onProgress: (p) => {
        const pct = Math.floor((100 * p.sent) / p.total);
        if (pct >= lastPct + 25) {
          lastPct = pct;
          ctx.progress(`upload ${pct}% (${p.sent}/${p.total} bytes)`);
        }
      },
    });
    const stored = join(dir, 'demo-program.bin');
    const same = Buffer.compare(await readFile(stored), file) === 0;
    ctx.check(
      'file upload',
      same && up.size === file.length,
      `${up.size} bytes, MD5 ${up.md5} checked by the controller, stored copy identical`,
      [stored],
    );
  },
};
